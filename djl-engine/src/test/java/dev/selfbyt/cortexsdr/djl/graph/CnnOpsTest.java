package dev.selfbyt.cortexsdr.djl.graph;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.selfbyt.cortexsdr.core.codec.QuantCodec;
import dev.selfbyt.cortexsdr.core.codec.SdrCodec;
import dev.selfbyt.cortexsdr.core.tensor.DType;
import dev.selfbyt.cortexsdr.core.tensor.TensorData;
import dev.selfbyt.cortexsdr.core.tensor.TensorInfo;
import dev.selfbyt.cortexsdr.core.tensor.TensorRole;
import dev.selfbyt.cortexsdr.djl.kernel.KernelScope;
import dev.selfbyt.cortexsdr.djl.kernel.KernelThreads;
import dev.selfbyt.cortexsdr.djl.kernel.Kernels;
import dev.selfbyt.cortexsdr.djl.kernel.QuantMatrix;
import dev.selfbyt.cortexsdr.djl.kernel.SparseMatrix;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The operators of MobileNetV3 classifiers, DB-style text detectors and CRNN recognisers against
 * plain double-precision references written from the ONNX spec, on odd shapes (no axis a power of
 * two, groups, strides and paddings that differ per axis). {@code OpsVsOnnxRuntimeTest} checks the
 * same operators against ONNX Runtime.
 */
class CnnOpsTest {
  private final Random rnd = new Random(12);

  private float[] rand(int n, double scale) {
    float[] v = new float[n];
    for (int i = 0; i < n; i++) {
      v[i] = (float) (rnd.nextGaussian() * scale);
    }
    return v;
  }

  private static void close(double[] expected, float[] actual, double tol, String what) {
    assertEquals(expected.length, actual.length, what + ": size");
    for (int i = 0; i < expected.length; i++) {
      assertEquals(expected[i], actual[i], tol * (1 + Math.abs(expected[i])), what + " at " + i);
    }
  }

  @Test
  void hardSigmoidAndHardSwishFollowTheirDefinitions() {
    float[] x = rand(3 * 5 * 7, 4);
    x[0] = -3f; // the two corners of the linear piece
    x[1] = 3f;
    Value v = Value.ofFloats(new long[] {3, 5, 7}, x);
    double[] hs = new double[x.length];
    double[] sw = new double[x.length];
    for (int i = 0; i < x.length; i++) {
      hs[i] = Math.max(0, Math.min(1, x[i] / 6.0 + 0.5));
      sw[i] = x[i] * Math.max(0, Math.min(6, x[i] + 3.0)) / 6.0; // PyTorch's form: x * relu6(x + 3) / 6
    }
    close(hs, ElementwiseOps.hardSigmoid(v, 1f / 6, 0.5f).floats(), 1e-6, "HardSigmoid");
    close(sw, ElementwiseOps.hardSwish(v).floats(), 1e-6, "HardSwish");
    assertArrayEquals(new long[] {3, 5, 7}, ElementwiseOps.hardSwish(v).shape());
  }

  @Test
  void globalPoolsReduceEverySpatialAxis() {
    int n = 2, c = 3, h = 5, w = 7;
    float[] x = rand(n * c * h * w, 1);
    Value v = Value.ofFloats(new long[] {n, c, h, w}, x);
    double[] mean = new double[n * c];
    double[] max = new double[n * c];
    for (int p = 0; p < n * c; p++) {
      max[p] = Double.NEGATIVE_INFINITY;
      for (int i = 0; i < h * w; i++) {
        mean[p] += x[p * h * w + i] / (double) (h * w);
        max[p] = Math.max(max[p], x[p * h * w + i]);
      }
    }
    Value avg = PoolOps.globalPool(v, true);
    assertArrayEquals(new long[] {n, c, 1, 1}, avg.shape());
    close(mean, avg.floats(), 1e-6, "GlobalAveragePool");
    close(max, PoolOps.globalPool(v, false).floats(), 0, "GlobalMaxPool");
    assertThrows(IllegalArgumentException.class, () -> PoolOps.globalPool(Value.ofFloats(new long[] {2, 3},
        new float[6]), true), "no spatial axis");
  }

  @Test
  void logSoftmaxIsTheLogOfSoftmaxWithoutUnderflow() {
    float[] x = rand(3 * 7 * 5, 30); // wide range: exp underflows in float for many entries
    Value v = Value.ofFloats(new long[] {3, 7, 5}, x);
    double[] ref = new double[x.length];
    for (int a = 0; a < 3; a++) {
      for (int b = 0; b < 5; b++) {
        double m = Double.NEGATIVE_INFINITY;
        for (int k = 0; k < 7; k++) {
          m = Math.max(m, x[(a * 7 + k) * 5 + b]);
        }
        double s = 0;
        for (int k = 0; k < 7; k++) {
          s += Math.exp(x[(a * 7 + k) * 5 + b] - m);
        }
        for (int k = 0; k < 7; k++) {
          ref[(a * 7 + k) * 5 + b] = x[(a * 7 + k) * 5 + b] - m - Math.log(s);
        }
      }
    }
    float[] got = NormOps.logSoftmax(v, 1, false).floats();
    close(ref, got, 1e-5, "LogSoftmax axis 1");
    for (float g : got) {
      assertTrue(Float.isFinite(g), "finite where softmax underflows: " + g);
    }
  }

  /** The definition: every input pixel spreads {@code x * w} over the window it maps to. */
  private static double[] convTransposeReference(float[] x, int n, int c, int h, int w, float[] wt, int ocg, int kh,
      int kw, float[] bias, int group, int[] s, int[] p, int[] d, int oh, int ow) {
    int icg = c / group;
    int oc = ocg * group;
    double[] out = new double[n * oc * oh * ow];
    for (int b = 0; b < n; b++) {
      for (int ch = 0; ch < c; ch++) {
        int g = ch / icg;
        for (int iy = 0; iy < h; iy++) {
          for (int ix = 0; ix < w; ix++) {
            double xv = x[((b * c + ch) * h + iy) * w + ix];
            for (int o = 0; o < ocg; o++) {
              for (int i = 0; i < kh; i++) {
                for (int j = 0; j < kw; j++) {
                  int oy = iy * s[0] - p[0] + i * d[0];
                  int ox = ix * s[1] - p[1] + j * d[1];
                  if (oy >= 0 && oy < oh && ox >= 0 && ox < ow) {
                    out[((b * oc + g * ocg + o) * oh + oy) * ow + ox] += xv * wt[((ch * ocg + o) * kh + i) * kw + j];
                  }
                }
              }
            }
          }
        }
      }
      if (bias != null) {
        for (int o = 0; o < oc; o++) {
          for (int i = 0; i < oh * ow; i++) {
            out[(b * oc + o) * oh * ow + i] += bias[o];
          }
        }
      }
    }
    return out;
  }

  @Test
  void convTransposeWithGroupsStridesPadsDilationsAndOutputPadding() {
    int n = 2, c = 4, h = 5, w = 3, ocg = 3, kh = 3, kw = 2, group = 2;
    int[] s = {2, 3};
    int[] p = {1, 0, 0, 1};
    int[] d = {1, 2};
    int[] op = {1, 0};
    float[] x = rand(n * c * h * w, 1);
    float[] wt = rand(c * ocg * kh * kw, 1);
    float[] bias = rand(ocg * group, 1);
    Value y = ConvOps.convTranspose2d(Value.ofFloats(new long[] {n, c, h, w}, x), Value.ofFloats(new long[] {c, ocg,
        kh, kw}, wt), Value.ofFloats(new long[] {ocg * group}, bias), s, p, d, op, group);
    int oh = s[0] * (h - 1) + op[0] + (kh - 1) * d[0] + 1 - p[0] - p[2];
    int ow = s[1] * (w - 1) + op[1] + (kw - 1) * d[1] + 1 - p[1] - p[3];
    assertArrayEquals(new long[] {n, ocg * group, 11, 8}, y.shape());
    close(convTransposeReference(x, n, c, h, w, wt, ocg, kh, kw, bias, group, s, p, d, oh, ow), y.floats(), 1e-5,
        "ConvTranspose");
  }

  /**
   * A Conv whose weight is SDR (sparse, output channels as fibers) runs tap by tap on the padded,
   * stride-split input, with no patches; it computes what the dense path computes on the decoded
   * weight, for strides, asymmetric pads, dilations, non-square kernels, batches and bias, with
   * every kernel implementation (scalar Java, Vector API, native).
   */
  @Test
  void sparseConvMatchesTheDenseConvOnOddShapes() {
    int[][] cases = { // n, c, oc, kh, kw, h, w, stride y, stride x, dilation y, dilation x, pads t l b r
      {1, 16, 32, 3, 3, 14, 14, 1, 1, 1, 1, 1, 1, 1, 1},
      {3, 5, 7, 3, 2, 11, 13, 2, 2, 1, 1, 0, 1, 2, 0},
      {2, 4, 17, 3, 3, 10, 9, 2, 1, 2, 2, 2, 0, 1, 3},
      {2, 3, 5, 5, 5, 20, 19, 1, 3, 1, 2, 2, 2, 2, 2},
    };
    List<Kernels> kernels = new ArrayList<>(List.of(Kernels.scalar()));
    if (Kernels.vector() != null) {
      kernels.add(Kernels.vector());
    }
    if (Kernels.nativeKernels() != null) {
      kernels.add(Kernels.nativeKernels());
    }
    for (int[] c : cases) {
      int n = c[0], ch = c[1], oc = c[2], kh = c[3], kw = c[4], h = c[5], w = c[6];
      int[] s = {c[7], c[8]};
      int[] d = {c[9], c[10]};
      int[] p = {c[11], c[12], c[13], c[14]};
      TensorInfo info = new TensorInfo("conv.weight", DType.FLOAT32, new long[] {oc, ch, kh, kw},
          TensorRole.CONV_WEIGHT, 1);
      SdrCodec codec = SdrCodec.builder().sparsity(0.8).fp16Values().build();
      ByteBuffer payload = codec.encode(TensorData.ofFloats(info, rand(oc * ch * kh * kw, 0.3)));
      float[] decoded = codec.decode(info, payload.duplicate()).floats();
      Value sparse = Value.ofSparse(info, SparseMatrix.of(codec.unpack(info, payload.duplicate()), oc, ch * kh * kw));
      Value dense = Value.ofFloats(new long[] {oc, ch, kh, kw}, decoded);
      Value x = Value.ofFloats(new long[] {n, ch, h, w}, rand(n * ch * h * w, 1));
      Value bias = Value.ofFloats(new long[] {oc}, rand(oc, 1));
      float[] want = ConvOps.conv2d(x, dense, bias, s, p, d, 1).floats();
      double[] expected = new double[want.length];
      for (int i = 0; i < want.length; i++) {
        expected[i] = want[i];
      }
      for (Kernels k : kernels) {
        Value y = new KernelScope(k, KernelThreads.pool(2, 0)).call(() -> ConvOps.conv2d(x, sparse, bias, s, p, d,
            1));
        assertArrayEquals(ConvOps.conv2d(x, dense, bias, s, p, d, 1).shape(), y.shape());
        close(expected, y.floats(), 1e-5, "sparse conv " + java.util.Arrays.toString(c) + " " + k.name());
      }
    }
  }

  @Test
  void convTransposeComputesOnAQuantizedWeightAsStored() {
    int c = 5, ocg = 3, k = 3, h = 7, w = 6;
    float[] wt = rand(c * ocg * k * k, 0.5);
    // as the converter stores a ConvTranspose weight: fibers along the input channels (axis 0)
    TensorInfo info = new TensorInfo("up.weight", DType.FLOAT32, new long[] {c, ocg, k, k}, TensorRole.MATMUL_WEIGHT,
        0);
    QuantCodec codec = QuantCodec.perChannel(8, false);
    ByteBuffer payload = codec.encode(TensorData.ofFloats(info, wt));
    float[] decoded = codec.decode(info, payload.duplicate()).floats();
    Value q = Value.ofQuantized(info, QuantMatrix.of(codec.unpack(info, payload.duplicate())));
    assertTrue(q.isCompressed());
    float[] x = rand(c * h * w, 1);
    int[] s = {2, 2};
    int[] p = {1, 1, 0, 0};
    Value y = ConvOps.convTranspose2d(Value.ofFloats(new long[] {1, c, h, w}, x), q, null, s, p, new int[] {1, 1},
        new int[] {0, 0}, 1);
    int oh = 2 * (h - 1) + k - 1;
    int ow = 2 * (w - 1) + k - 1;
    assertArrayEquals(new long[] {1, ocg, oh, ow}, y.shape());
    close(convTransposeReference(x, 1, c, h, w, decoded, ocg, k, k, null, 1, s, p, new int[] {1, 1}, oh, ow),
        y.floats(), 1e-4, "ConvTranspose on int8 codes");
  }

  private static double sourceCoordinate(String coord, int o, double scale, int in, int out) {
    return switch (coord) {
      case "asymmetric" -> o / scale;
      case "align_corners" -> out == 1 ? 0 : o * (in - 1.0) / (out - 1.0);
      case "pytorch_half_pixel" -> out > 1 ? (o + 0.5) / scale - 0.5 : 0;
      default -> (o + 0.5) / scale - 0.5;
    };
  }

  /** Bilinear (four corners at once) or nearest on the two last axes, in double. */
  private static double[] resizeReference(float[] x, int planes, int h, int w, int oh, int ow, String mode,
      String coord, String nearest) {
    double[] out = new double[planes * oh * ow];
    double sy = (double) oh / h;
    double sx = (double) ow / w;
    for (int pl = 0; pl < planes; pl++) {
      for (int y = 0; y < oh; y++) {
        double fy = sourceCoordinate(coord, y, sy, h, oh);
        for (int xo = 0; xo < ow; xo++) {
          double fx = sourceCoordinate(coord, xo, sx, w, ow);
          double v;
          if (mode.equals("linear")) {
            double cy = Math.max(0, Math.min(h - 1, fy));
            double cx = Math.max(0, Math.min(w - 1, fx));
            int y0 = (int) Math.floor(cy), x0 = (int) Math.floor(cx);
            int y1 = Math.min(h - 1, y0 + 1), x1 = Math.min(w - 1, x0 + 1);
            double dy = cy - y0, dx = cx - x0;
            int b = pl * h * w;
            v = x[b + y0 * w + x0] * (1 - dy) * (1 - dx) + x[b + y0 * w + x1] * (1 - dy) * dx
                + x[b + y1 * w + x0] * dy * (1 - dx) + x[b + y1 * w + x1] * dy * dx;
          } else {
            int iy = round(fy, nearest);
            int ix = round(fx, nearest);
            v = x[pl * h * w + Math.max(0, Math.min(h - 1, iy)) * w + Math.max(0, Math.min(w - 1, ix))];
          }
          out[(pl * oh + y) * ow + xo] = v;
        }
      }
    }
    return out;
  }

  private static int round(double v, String mode) {
    return switch (mode) {
      case "floor" -> (int) Math.floor(v);
      case "ceil" -> (int) Math.ceil(v);
      case "round_prefer_ceil" -> (int) Math.floor(v + 0.5);
      default -> (int) Math.ceil(v - 0.5);
    };
  }

  @Test
  void resizeMatchesTheDefinitionInEveryCommonMode() {
    int n = 1, c = 3, h = 5, w = 7;
    float[] x = rand(n * c * h * w, 1);
    Value v = Value.ofFloats(new long[] {n, c, h, w}, x);
    String[][] modes = {
        {"nearest", "asymmetric", "floor"}, {"nearest", "half_pixel", "round_prefer_floor"},
        {"nearest", "align_corners", "round_prefer_ceil"}, {"nearest", "asymmetric", "ceil"},
        {"linear", "half_pixel", ""}, {"linear", "align_corners", ""}, {"linear", "pytorch_half_pixel", ""},
        {"linear", "asymmetric", ""}};
    int[][] sizes = {{9, 4}, {3, 13}, {5, 7}, {1, 1}};
    for (String[] m : modes) {
      ResizeOps.Mode mode = new ResizeOps.Mode(m[0], m[1], m[2].isEmpty() ? "round_prefer_floor" : m[2], -0.75f, false,
          0f, "test");
      for (int[] sz : sizes) {
        Value y = ResizeOps.resize(v, null, null, new long[] {n, c, sz[0], sz[1]}, null, mode);
        assertArrayEquals(new long[] {n, c, sz[0], sz[1]}, y.shape());
        close(resizeReference(x, n * c, h, w, sz[0], sz[1], m[0], m[1], m[2]), y.floats(), 1e-5,
            String.join("/", m) + " to " + sz[0] + "x" + sz[1]);
      }
    }
  }

  @Test
  void resizeByScalesOverChosenAxes() {
    float[] x = rand(2 * 3 * 5, 1);
    Value v = Value.ofFloats(new long[] {2, 3, 5}, x);
    ResizeOps.Mode nearest = new ResizeOps.Mode("nearest", "asymmetric", "floor", -0.75f, false, 0f, "test");
    // axes [2] (opset 18): only the last axis, 5 * 2.5 = 12 (floor)
    Value y = ResizeOps.resize(v, null, new float[] {2.5f}, null, new long[] {-1}, nearest);
    assertArrayEquals(new long[] {2, 3, 12}, y.shape());
    float[] got = y.floats();
    for (int r = 0; r < 6; r++) {
      for (int o = 0; o < 12; o++) {
        assertEquals(x[r * 5 + (int) Math.floor(o / 2.5)], got[r * 12 + o], "row " + r + " at " + o);
      }
    }
    assertThrows(IllegalArgumentException.class, () -> ResizeOps.resize(v, null, new float[] {1, 2}, null,
        new long[] {-1}, nearest), "two scales for one axis");
    assertThrows(IllegalArgumentException.class, () -> new ResizeOps.Mode("area", "half_pixel", "floor", -0.75f,
        false, 0f, "n"), "unknown mode");
  }

  private static double sig(double v) {
    return 1 / (1 + Math.exp(-v));
  }

  /**
   * ONNX LSTM in double, time-major in and out: {@code [seq, dirs, batch, h]}, then Y_h and Y_c
   * appended ({@code [dirs, batch, h]} each).
   */
  private static double[] lstmReference(float[] x, int seq, int batch, int in, float[] w, float[] r, float[] bias,
      int[] lens, float[] h0, float[] c0, float[] peep, int h, int dirs, boolean reverseOnly, double clip) {
    double[] y = new double[seq * dirs * batch * h + 2 * dirs * batch * h];
    int yh = seq * dirs * batch * h;
    int yc = yh + dirs * batch * h;
    for (int d = 0; d < dirs; d++) {
      boolean back = reverseOnly || d == 1;
      for (int b = 0; b < batch; b++) {
        double[] hs = new double[h];
        double[] cs = new double[h];
        for (int j = 0; j < h; j++) {
          hs[j] = h0 == null ? 0 : h0[(d * batch + b) * h + j];
          cs[j] = c0 == null ? 0 : c0[(d * batch + b) * h + j];
        }
        int len = lens == null ? seq : lens[b];
        for (int step = 0; step < len; step++) {
          int t = back ? len - 1 - step : step;
          double[] gates = new double[4 * h];
          for (int k = 0; k < 4 * h; k++) {
            double acc = bias == null ? 0 : bias[d * 8 * h + k] + bias[d * 8 * h + 4 * h + k];
            for (int i = 0; i < in; i++) {
              acc += x[(t * batch + b) * in + i] * (double) w[(d * 4 * h + k) * in + i];
            }
            for (int i = 0; i < h; i++) {
              acc += hs[i] * r[(d * 4 * h + k) * h + i];
            }
            gates[k] = acc;
          }
          double[] hn = new double[h];
          for (int j = 0; j < h; j++) {
            double pi = peep == null ? 0 : peep[d * 3 * h + j];
            double po = peep == null ? 0 : peep[d * 3 * h + h + j];
            double pf = peep == null ? 0 : peep[d * 3 * h + 2 * h + j];
            double i = sig(clip(gates[j] + pi * cs[j], clip));
            double f = sig(clip(gates[2 * h + j] + pf * cs[j], clip));
            double cc = Math.tanh(clip(gates[3 * h + j], clip));
            cs[j] = f * cs[j] + i * cc;
            double o = sig(clip(gates[h + j] + po * cs[j], clip));
            hn[j] = o * Math.tanh(cs[j]);
            y[((t * dirs + d) * batch + b) * h + j] = hn[j];
          }
          hs = hn;
        }
        for (int j = 0; j < h; j++) {
          y[yh + (d * batch + b) * h + j] = hs[j];
          y[yc + (d * batch + b) * h + j] = cs[j];
        }
      }
    }
    return y;
  }

  private static double clip(double v, double c) {
    return c > 0 ? Math.max(-c, Math.min(c, v)) : v;
  }

  private static float[] concat(Value[] out) {
    int n = 0;
    for (Value v : out) {
      n += v.size();
    }
    float[] all = new float[n];
    int at = 0;
    for (Value v : out) {
      System.arraycopy(v.floats(), 0, all, at, v.size());
      at += v.size();
    }
    return all;
  }

  @Test
  void bidirectionalLstmWithLengthsStatesAndPeepholes() {
    int seq = 6, batch = 3, in = 7, h = 5, dirs = 2;
    float[] x = rand(seq * batch * in, 1);
    float[] w = rand(dirs * 4 * h * in, 0.4);
    float[] r = rand(dirs * 4 * h * h, 0.4);
    float[] b = rand(dirs * 8 * h, 0.3);
    float[] h0 = rand(dirs * batch * h, 0.5);
    float[] c0 = rand(dirs * batch * h, 0.5);
    float[] p = rand(dirs * 3 * h, 0.3);
    int[] lens = {6, 2, 4};
    RecurrentOps.Spec spec = new RecurrentOps.Spec(true, h, dirs, false, 0f, false, false, false);
    Value[] out = RecurrentOps.run(spec, "lstm", new Value[] {Value.ofFloats(new long[] {seq, batch, in}, x),
        Value.ofFloats(new long[] {dirs, 4 * h, in}, w), Value.ofFloats(new long[] {dirs, 4 * h, h}, r),
        Value.ofFloats(new long[] {dirs, 8 * h}, b), Value.ofLongs(DType.INT32, new long[] {batch}, new long[] {6, 2,
            4}), Value.ofFloats(new long[] {dirs, batch, h}, h0), Value.ofFloats(new long[] {dirs, batch, h}, c0),
        Value.ofFloats(new long[] {dirs, 3 * h}, p)}, 3);
    assertArrayEquals(new long[] {seq, dirs, batch, h}, out[0].shape());
    assertArrayEquals(new long[] {dirs, batch, h}, out[1].shape());
    close(lstmReference(x, seq, batch, in, w, r, b, lens, h0, c0, p, h, dirs, false, 0), concat(out), 1e-5,
        "LSTM Y, Y_h, Y_c");
  }

  @Test
  void batchFirstReverseLstmWithClipOnAQuantizedWeight() {
    int seq = 5, batch = 2, in = 9, h = 3;
    float[] xTime = rand(seq * batch * in, 1);
    float[] w = rand(4 * h * in, 0.6);
    float[] r = rand(4 * h * h, 0.6);
    // W quantized along its last axis (the input features), as the converter stores it
    TensorInfo info = new TensorInfo("rnn.W", DType.FLOAT32, new long[] {1, 4 * h, in}, TensorRole.MATMUL_WEIGHT, 2);
    QuantCodec codec = QuantCodec.perChannel(8, false);
    ByteBuffer payload = codec.encode(TensorData.ofFloats(info, w));
    float[] wDecoded = codec.decode(info, payload.duplicate()).floats();
    Value wq = Value.ofQuantized(info, QuantMatrix.of(codec.unpack(info, payload.duplicate())));
    // the same input batch first: [batch, seq, in]
    float[] xBatch = new float[xTime.length];
    for (int t = 0; t < seq; t++) {
      for (int b = 0; b < batch; b++) {
        System.arraycopy(xTime, (t * batch + b) * in, xBatch, (b * seq + t) * in, in);
      }
    }
    RecurrentOps.Spec spec = new RecurrentOps.Spec(true, h, 1, true, 0.7f, false, false, true);
    Value[] out = RecurrentOps.run(spec, "lstm", new Value[] {Value.ofFloats(new long[] {batch, seq, in}, xBatch), wq,
        Value.ofFloats(new long[] {1, 4 * h, h}, r)}, 2);
    assertArrayEquals(new long[] {batch, seq, 1, h}, out[0].shape());
    double[] ref = lstmReference(xTime, seq, batch, in, wDecoded, r, null, null, null, null, null, h, 1, true, 0.7);
    float[] y = out[0].floats();
    for (int t = 0; t < seq; t++) {
      for (int b = 0; b < batch; b++) {
        for (int j = 0; j < h; j++) {
          assertEquals(ref[(t * batch + b) * h + j], y[(b * seq + t) * h + j], 1e-5, "Y t" + t + " b" + b);
        }
      }
    }
    float[] yh = out[1].floats();
    for (int i = 0; i < batch * h; i++) {
      assertEquals(ref[seq * batch * h + i], yh[i], 1e-5, "Y_h " + i);
    }
  }

  @Test
  void gruWithTheResetGateBeforeAndAfterTheRecurrentProduct() {
    int seq = 4, batch = 3, in = 5, h = 7;
    float[] x = rand(seq * batch * in, 1);
    float[] w = rand(3 * h * in, 0.5);
    float[] r = rand(3 * h * h, 0.5);
    float[] b = rand(6 * h, 0.3);
    for (boolean lbr : new boolean[] {false, true}) {
      double[] ref = new double[seq * batch * h];
      for (int bb = 0; bb < batch; bb++) {
        double[] hs = new double[h];
        for (int t = 0; t < seq; t++) {
          double[] xw = new double[3 * h];
          double[] hr = new double[3 * h];
          for (int k = 0; k < 3 * h; k++) {
            for (int i = 0; i < in; i++) {
              xw[k] += x[(t * batch + bb) * in + i] * (double) w[k * in + i];
            }
            for (int i = 0; i < h; i++) {
              hr[k] += hs[i] * r[k * h + i];
            }
          }
          double[] hn = new double[h];
          for (int j = 0; j < h; j++) {
            double z = sig(xw[j] + hr[j] + b[j] + b[3 * h + j]);
            double rg = sig(xw[h + j] + hr[h + j] + b[h + j] + b[4 * h + j]);
            double rec;
            if (lbr) {
              rec = rg * (hr[2 * h + j] + b[5 * h + j]);
            } else {
              rec = b[5 * h + j];
              for (int i = 0; i < h; i++) {
                double rgi = sig(xw[h + i] + hr[h + i] + b[h + i] + b[4 * h + i]);
                rec += rgi * hs[i] * r[(2 * h + j) * h + i];
              }
            }
            double cand = Math.tanh(xw[2 * h + j] + b[2 * h + j] + rec);
            hn[j] = (1 - z) * cand + z * hs[j];
            ref[(t * batch + bb) * h + j] = hn[j];
          }
          hs = hn;
        }
      }
      RecurrentOps.Spec spec = new RecurrentOps.Spec(false, h, 1, false, 0f, false, lbr, false);
      Value[] out = RecurrentOps.run(spec, "gru", new Value[] {Value.ofFloats(new long[] {seq, batch, in}, x),
          Value.ofFloats(new long[] {1, 3 * h, in}, w), Value.ofFloats(new long[] {1, 3 * h, h}, r),
          Value.ofFloats(new long[] {1, 6 * h}, b)}, 1);
      close(ref, out[0].floats(), 1e-5, "GRU linear_before_reset=" + lbr);
    }
  }

  @Test
  void reduceMaxAndArgMaxAlongOddAxes() {
    int a = 3, b = 5, c = 7;
    float[] x = rand(a * b * c, 1);
    Value v = Value.ofFloats(new long[] {a, b, c}, x);
    double[] max = new double[b];
    long[] argMin = new long[a * c];
    java.util.Arrays.fill(max, Double.NEGATIVE_INFINITY);
    for (int i = 0; i < a; i++) {
      for (int k = 0; k < c; k++) {
        double best = Double.POSITIVE_INFINITY;
        for (int j = 0; j < b; j++) {
          double e = x[(i * b + j) * c + k];
          max[j] = Math.max(max[j], e);
          if (e < best) {
            best = e;
            argMin[i * c + k] = j;
          }
        }
      }
    }
    Value m = ReduceOps.extreme(v, new long[] {0, -1}, false, true);
    assertArrayEquals(new long[] {b}, m.shape());
    close(max, m.floats(), 0, "ReduceMax over axes 0 and 2");
    Value am = ReduceOps.arg(v, 1, true, false, false);
    assertArrayEquals(new long[] {a, 1, c}, am.shape());
    assertArrayEquals(argMin, am.longs(), "ArgMin along axis 1");
  }

  @Test
  void tileDepthToSpaceAndSpaceToDepthMoveEveryElementWhereTheSpecSays() {
    float[] x = rand(2 * 3, 1);
    Value t = LayoutOps.tile(Value.ofFloats(new long[] {2, 3}, x), new long[] {3, 2});
    assertArrayEquals(new long[] {6, 6}, t.shape());
    for (int i = 0; i < 6; i++) {
      for (int j = 0; j < 6; j++) {
        assertEquals(x[(i % 2) * 3 + j % 3], t.floats()[i * 6 + j], "Tile at " + i + "," + j);
      }
    }
    int n = 1, bs = 2, c = 3, h = 3, w = 5;
    float[] d = rand(n * c * bs * bs * h * w, 1);
    Value v = Value.ofFloats(new long[] {n, c * bs * bs, h, w}, d);
    for (boolean crd : new boolean[] {false, true}) {
      float[] got = LayoutOps.depthToSpace(v, bs, crd).floats();
      for (int ch = 0; ch < c; ch++) {
        for (int y = 0; y < h * bs; y++) {
          for (int xx = 0; xx < w * bs; xx++) {
            int by = y % bs, bx = xx % bs;
            // DCR: depth index (by * bs + bx) * C + ch; CRD: ch * bs * bs + by * bs + bx
            int depth = crd ? ch * bs * bs + by * bs + bx : (by * bs + bx) * c + ch;
            assertEquals(d[(depth * h + y / bs) * w + xx / bs], got[(ch * h * bs + y) * w * bs + xx],
                (crd ? "CRD" : "DCR") + " at " + ch + "," + y + "," + xx);
          }
        }
      }
    }
    Value back = LayoutOps.spaceToDepth(LayoutOps.depthToSpace(v, bs, false), bs);
    assertArrayEquals(d, back.floats(), "SpaceToDepth undoes DepthToSpace (DCR)");
  }

  @Test
  void instanceNormalizationNormalizesEachPlane() {
    int n = 2, c = 3, area = 5 * 7;
    float[] x = rand(n * c * area, 2);
    float[] g = rand(c, 1);
    float[] b = rand(c, 1);
    double[] ref = new double[x.length];
    for (int p = 0; p < n * c; p++) {
      double mean = 0;
      for (int i = 0; i < area; i++) {
        mean += x[p * area + i] / (double) area;
      }
      double var = 0;
      for (int i = 0; i < area; i++) {
        var += Math.pow(x[p * area + i] - mean, 2) / area;
      }
      for (int i = 0; i < area; i++) {
        ref[p * area + i] = (x[p * area + i] - mean) / Math.sqrt(var + 1e-5) * g[p % c] + b[p % c];
      }
    }
    close(ref, NormOps.instanceNorm(Value.ofFloats(new long[] {n, c, 5, 7}, x), Value.ofFloats(new long[] {c}, g),
        Value.ofFloats(new long[] {c}, b), 1e-5f).floats(), 1e-5, "InstanceNormalization");
  }

  @Test
  void activationsWithAttributesFollowTheirFormulas() {
    float[] x = rand(3 * 11, 3);
    Value v = Value.ofFloats(new long[] {3, 11}, x);
    float[] slope = rand(11, 0.3);
    double[] leaky = new double[x.length];
    double[] prelu = new double[x.length];
    double[] softplus = new double[x.length];
    double[] elu = new double[x.length];
    double[] round = new double[x.length];
    for (int i = 0; i < x.length; i++) {
      double e = x[i];
      leaky[i] = e >= 0 ? e : 0.1 * e;
      prelu[i] = e >= 0 ? e : slope[i % 11] * e;
      softplus[i] = Math.log(1 + Math.exp(e));
      elu[i] = e >= 0 ? e : 0.7 * (Math.exp(e) - 1);
      round[i] = Math.rint(e);
    }
    close(leaky, ElementwiseOps.leakyRelu(v, 0.1f).floats(), 1e-6, "LeakyRelu");
    close(prelu, ElementwiseOps.prelu(v, Value.ofFloats(new long[] {11}, slope)).floats(), 1e-6, "PRelu");
    close(softplus, ElementwiseOps.softplus(v).floats(), 1e-6, "Softplus");
    close(elu, ElementwiseOps.elu(v, 0.7f).floats(), 1e-6, "Elu");
    close(round, ElementwiseOps.map(v, Math::rint).floats(), 0, "Round half to even");
    assertEquals(2f, ElementwiseOps.map(Value.ofFloats(new long[] {1}, new float[] {2.5f}), Math::rint).floats()[0]);
  }

  @Test
  void cubicResizeIsKeysConvolutionAlongEachAxis() {
    int h = 5, w = 6, oh = 8, ow = 4;
    float[] x = rand(h * w, 1);
    double a = -0.75;
    ResizeOps.Mode cubic = new ResizeOps.Mode("cubic", "half_pixel", "round_prefer_floor", (float) a, false, 0f, "t");
    float[] got = ResizeOps.resize(Value.ofFloats(new long[] {1, 1, h, w}, x), null, null, new long[] {1, 1, oh, ow},
        null, cubic).floats();
    double[] ref = new double[oh * ow];
    for (int y = 0; y < oh; y++) {
      double fy = (y + 0.5) * h / oh - 0.5;
      for (int xo = 0; xo < ow; xo++) {
        double fx = (xo + 0.5) * w / ow - 0.5;
        double acc = 0;
        for (int i = -1; i <= 2; i++) {
          for (int j = -1; j <= 2; j++) {
            int iy = (int) Math.floor(fy) + i;
            int ix = (int) Math.floor(fx) + j;
            double wy = keys(fy - Math.floor(fy) - i, a);
            double wx = keys(fx - Math.floor(fx) - j, a);
            acc += wy * wx * x[Math.max(0, Math.min(h - 1, iy)) * w + Math.max(0, Math.min(w - 1, ix))];
          }
        }
        ref[y * ow + xo] = acc;
      }
    }
    close(ref, got, 1e-5, "cubic, edge-clamped taps");
  }

  private static double keys(double t, double a) {
    double d = Math.abs(t);
    return d <= 1 ? ((a + 2) * d - (a + 3)) * d * d + 1 : d < 2 ? ((a * d - 5 * a) * d + 8 * a) * d - 4 * a : 0;
  }
}
