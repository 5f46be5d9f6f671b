package dev.selfbyt.cortexsdr.core.calibrate;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.selfbyt.cortexsdr.core.codec.QuantCodec;
import dev.selfbyt.cortexsdr.core.tensor.DType;
import dev.selfbyt.cortexsdr.core.tensor.TensorData;
import dev.selfbyt.cortexsdr.core.tensor.TensorInfo;
import dev.selfbyt.cortexsdr.core.tensor.TensorRole;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.SplittableRandom;
import java.util.zip.GZIPInputStream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * GPTQ on convolution, Gemm and recurrent weight layouts, with input statistics taken from real
 * images (Fashion-MNIST, Debian's dataset-fashion-mnist): the patches a convolution sees, the pooled
 * pixels a Gemm sees, the image rows an LSTM over rows sees. Each must lower the output error of
 * plain rounding, and the grid it returns must make the codec store exactly its codes.
 */
class FiberGptqTest {
  static final Path IMAGES = Path.of("/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz");
  static final int COUNT = 300;
  /** {@code COUNT} images of 28 x 28 pixels in [0, 1]. */
  static float[][] images;

  @BeforeAll
  static void readImages() throws IOException {
    assertTrue(Files.isRegularFile(IMAGES), IMAGES + " (apt-get install dataset-fashion-mnist)");
    try (InputStream in = new GZIPInputStream(Files.newInputStream(IMAGES));
        DataInputStream d = new DataInputStream(in)) {
      d.readInt(); // magic
      d.readInt(); // count
      int h = d.readInt();
      int w = d.readInt();
      images = new float[COUNT][h * w];
      byte[] px = new byte[h * w];
      for (int i = 0; i < COUNT; i++) {
        d.readFully(px);
        for (int p = 0; p < px.length; p++) {
          images[i][p] = (px[p] & 0xff) / 255f;
        }
      }
    }
  }

  /**
   * The 3x3 patches (padding 1) of each image rearranged 2x2 to depth ({@code [4, 14, 14]}):
   * for {@code groups} convolution groups, rows of {@code 4 / groups * 9} values per group.
   */
  static float[][] patches(int groups) {
    int c = 4;
    int s = 14;
    int perGroup = c / groups * 9;
    float[][] rows = new float[groups][COUNT * s * s * perGroup];
    for (int n = 0; n < COUNT; n++) {
      float[] img = images[n];
      for (int y = 0; y < s; y++) {
        for (int x = 0; x < s; x++) {
          int row = (n * s + y) * s + x;
          for (int ch = 0; ch < c; ch++) {
            int g = ch / (c / groups);
            for (int ky = 0; ky < 3; ky++) {
              for (int kx = 0; kx < 3; kx++) {
                int yy = y + ky - 1;
                int xx = x + kx - 1;
                float v = 0;
                if (yy >= 0 && xx >= 0 && yy < s && xx < s) {
                  v = img[(2 * yy + ch / 2) * 28 + 2 * xx + ch % 2]; // space to depth
                }
                rows[g][row * perGroup + (ch % (c / groups)) * 9 + ky * 3 + kx] = v;
              }
            }
          }
        }
      }
    }
    return rows;
  }

  static float[] gaussian(int n, double sd, long seed) {
    SplittableRandom r = new SplittableRandom(seed);
    float[] w = new float[n];
    for (int i = 0; i < n; i++) {
      w[i] = (float) (r.nextGaussian() * sd);
    }
    return w;
  }

  static Hessian hessian(float[] rows, int r) {
    Hessian h = new Hessian(r);
    h.add(rows, 0, rows.length / r);
    return h;
  }

  /**
   * {@code sum ||X_g (w_f - q_f)||^2} over the fibers {@code f} of each group {@code g}, fibers read
   * in natural order (element {@code k} of fiber {@code f = o * inner + i} at {@code (o * R + k) *
   * inner + i}).
   */
  static double outputError(float[][] rows, TensorInfo info, float[] w, float[] q) {
    int r = (int) info.fiberLength();
    int inner = (int) info.inner();
    int fibers = (int) (info.outer() * info.inner());
    int perGroup = fibers / rows.length;
    double e = 0;
    double[] d = new double[r];
    for (int f = 0; f < fibers; f++) {
      int base = (f / inner) * r * inner + f % inner;
      for (int k = 0; k < r; k++) {
        d[k] = w[base + k * inner] - (double) q[base + k * inner];
      }
      float[] x = rows[f / perGroup];
      for (int s = 0; s < x.length / r; s++) {
        double y = 0;
        for (int k = 0; k < r; k++) {
          y += x[s * r + k] * d[k];
        }
        e += y * y;
      }
    }
    return e;
  }

  /** GPTQ's error and plain rounding's, with a check that the grid reproduces GPTQ's values' codes. */
  static double[] errors(float[][] rows, TensorInfo info, float[] w, QuantCodec codec) {
    int r = (int) info.fiberLength();
    Hessian[] hs = new Hessian[rows.length];
    for (int g = 0; g < rows.length; g++) {
      hs[g] = hessian(rows[g], r);
    }
    Gptq.Result res = FiberGptq.quantize(w, info, codec, hs, 0.01);
    float[] gptq = codec.decode(info, codec.encode(TensorData.ofFloats(info, res.values()).withGrid(res.grid())))
        .floats();
    // the values as rounded sit on the grid: encoding them again without it changes nothing inside a block
    float[] plain = codec.decode(info, codec.encode(TensorData.ofFloats(info, w))).floats();
    double eg = outputError(rows, info, w, gptq);
    double ep = outputError(rows, info, w, plain);
    System.out.printf("%s %s: output error plain %.4g, GPTQ %.4g (%.1f%%)%n", info.name(), codec.describe(), ep, eg,
        100 * eg / ep);
    return new double[] {eg, ep};
  }

  @Test
  void convolutionWithIm2colStatisticsBeatsPlainRounding() {
    TensorInfo conv = new TensorInfo("conv", DType.FLOAT32, new long[] {16, 4, 3, 3}, TensorRole.CONV_WEIGHT, 1);
    float[] w = gaussian(16 * 36, 0.2, 1);
    for (QuantCodec codec : new QuantCodec[] {QuantCodec.blockwise(4, false, 32), QuantCodec.blockwise(8, true, 64)}) {
      double[] e = errors(new float[][] {patches(1)[0]}, conv, w, codec);
      assertTrue(e[0] < 0.8 * e[1], codec.describe() + ": GPTQ " + e[0] + " vs plain " + e[1]);
    }
  }

  @Test
  void depthwiseConvolutionUsesOneHessianPerChannel() {
    // group = channels = 4, two filters per channel: [8, 1, 3, 3], fibers of 9 values
    TensorInfo dw = new TensorInfo("depthwise", DType.FLOAT32, new long[] {8, 1, 3, 3}, TensorRole.CONV_WEIGHT, 1);
    float[] w = gaussian(8 * 9, 0.3, 2);
    double[] e = errors(patches(4), dw, w, QuantCodec.blockwise(4, false, 32));
    assertTrue(e[0] < 0.9 * e[1], "GPTQ " + e[0] + " vs plain " + e[1]);
  }

  @Test
  void gemmWithTransposedWeightBeatsPlainRounding() {
    // Y = X W^T, W [32, 196]: reduction along axis 1, X the images average-pooled 2x2
    int k = 196;
    float[] x = new float[COUNT * k];
    for (int n = 0; n < COUNT; n++) {
      for (int y = 0; y < 14; y++) {
        for (int c = 0; c < 14; c++) {
          float[] img = images[n];
          x[n * k + y * 14 + c] = (img[2 * y * 28 + 2 * c] + img[2 * y * 28 + 2 * c + 1]
              + img[(2 * y + 1) * 28 + 2 * c] + img[(2 * y + 1) * 28 + 2 * c + 1]) / 4;
        }
      }
    }
    TensorInfo gemm = new TensorInfo("gemm", DType.FLOAT32, new long[] {32, k}, TensorRole.MATMUL_WEIGHT, 1);
    double[] e = errors(new float[][] {x}, gemm, gaussian(32 * k, 0.05, 3), QuantCodec.blockwise(4, false, 32));
    assertTrue(e[0] < 0.8 * e[1], "GPTQ " + e[0] + " vs plain " + e[1]);
    // the same weight stored [K, N] (Gemm without transB, axis 0): the same answer, transposed
    float[] t = new float[32 * k];
    float[] wt = gaussian(32 * k, 0.05, 3);
    for (int o = 0; o < 32; o++) {
      for (int i = 0; i < k; i++) {
        t[i * 32 + o] = wt[o * k + i];
      }
    }
    TensorInfo plain = new TensorInfo("gemm_kn", DType.FLOAT32, new long[] {k, 32}, TensorRole.MATMUL_WEIGHT, 0);
    double[] e2 = errors(new float[][] {x}, plain, t, QuantCodec.blockwise(4, false, 32));
    assertTrue(Math.abs(e2[0] - e[0]) <= 1e-6 * e[0], "layout does not change GPTQ: " + e[0] + " vs " + e2[0]);
  }

  @Test
  void recurrentGateMatricesUseTheirOwnReductionAxisPerDirection() {
    // an LSTM over image rows: W [2 directions, 4 * 16 gates, 28 pixels], reduction along the last axis
    int in = 28;
    int hidden = 16;
    float[] rows = new float[COUNT * 28 * in];
    for (int n = 0; n < COUNT; n++) {
      System.arraycopy(images[n], 0, rows, n * 28 * in, 28 * in);
    }
    TensorInfo w = new TensorInfo("W", DType.FLOAT32, new long[] {2, 4 * hidden, in}, TensorRole.OTHER, -1);
    double[] e = errors(new float[][] {rows, rows}, w, gaussian(2 * 4 * hidden * in, 0.3, 4),
        QuantCodec.blockwise(4, false, 32));
    assertTrue(e[0] < 0.8 * e[1], "W: GPTQ " + e[0] + " vs plain " + e[1]);
    // R [2, 4 * 16, 16]: each direction's hidden states differ (tanh of two projections of the rows)
    float[][] states = new float[2][COUNT * 28 * hidden];
    for (int d = 0; d < 2; d++) {
      float[] a = gaussian(in * hidden, 0.4, 10 + d);
      for (int s = 0; s < COUNT * 28; s++) {
        for (int j = 0; j < hidden; j++) {
          double v = 0;
          for (int i = 0; i < in; i++) {
            v += rows[s * in + i] * a[i * hidden + j];
          }
          states[d][s * hidden + j] = (float) Math.tanh(v);
        }
      }
    }
    TensorInfo r = new TensorInfo("R", DType.FLOAT32, new long[] {2, 4 * hidden, hidden}, TensorRole.OTHER, -1);
    double[] er = errors(states, r, gaussian(2 * 4 * hidden * hidden, 0.3, 5), QuantCodec.blockwise(4, false, 32));
    assertTrue(er[0] < 0.9 * er[1], "R: GPTQ " + er[0] + " vs plain " + er[1]);
  }

  @Test
  void identityStatisticsGivePlainRoundingInEveryLayout() {
    TensorInfo conv = new TensorInfo("conv", DType.FLOAT32, new long[] {6, 2, 3, 3}, TensorRole.CONV_WEIGHT, 1);
    float[] w = gaussian(6 * 18, 0.2, 6);
    Hessian id = new Hessian(18);
    float[] unit = new float[18];
    for (int i = 0; i < 18; i++) {
      java.util.Arrays.fill(unit, 0f);
      unit[i] = 1f;
      id.add(unit, 0, 1);
    }
    QuantCodec codec = QuantCodec.blockwise(4, true, 32);
    Gptq.Result g = FiberGptq.quantize(w, conv, codec, new Hessian[] {id}, 0.0);
    assertArrayEquals(GptqTest.bytes(codec.encode(TensorData.ofFloats(conv, w))),
        GptqTest.bytes(codec.encode(TensorData.ofFloats(conv, g.values()).withGrid(g.grid()))));
  }
}
