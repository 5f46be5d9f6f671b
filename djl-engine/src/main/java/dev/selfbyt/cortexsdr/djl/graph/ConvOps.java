package dev.selfbyt.cortexsdr.djl.graph;

import dev.selfbyt.cortexsdr.djl.kernel.DenseRows;
import dev.selfbyt.cortexsdr.djl.kernel.KernelThreads;
import dev.selfbyt.cortexsdr.djl.kernel.Kernels;
import dev.selfbyt.cortexsdr.djl.kernel.MatMul;
import dev.selfbyt.cortexsdr.djl.kernel.SparseMatrix;
import java.util.Arrays;
import java.util.Map;

/**
 * Convolutions of a convolutional network, on NCHW floats: Conv (groups, strides, pads,
 * dilations) as patches times the weight, with a quantized weight used from its codes (a
 * convolution kernel's fibers are its output channels, {@code [in/g * kh * kw]} long), a sparse
 * one tap by tap over the shifted input with no patches at all, and
 * ConvTranspose (the upsampling of detection heads), whose weight's fibers are its input channels.
 */
final class ConvOps {
  private ConvOps() {}

  static void register(Map<String, Ops.Factory> ops) {
    ops.put("Conv", (a, n, o) -> conv(a));
    ops.put("ConvTranspose", (a, n, o) -> convTranspose(a));
  }

  static int[] two(long[] v, int dflt) {
    return v == null ? new int[] {dflt, dflt} : new int[] {(int) v[0], (int) v[v.length > 1 ? 1 : 0]};
  }

  /** ONNX pads {@code [top, left, bottom, right]} for a 2-D window, SAME_* auto pads included. */
  static int[] pads(long[] pads, String autoPad, int h, int w, int[] k, int[] s, int[] d) {
    if (autoPad.equals("SAME_UPPER") || autoPad.equals("SAME_LOWER")) {
      int[] p = new int[4];
      int[] in = {h, w};
      for (int a = 0; a < 2; a++) {
        int out = (in[a] + s[a] - 1) / s[a];
        int total = Math.max(0, (out - 1) * s[a] + (k[a] - 1) * d[a] + 1 - in[a]);
        int small = total / 2;
        p[a] = autoPad.equals("SAME_UPPER") ? small : total - small;
        p[a + 2] = total - p[a];
      }
      return p;
    }
    if (pads == null) {
      return new int[4];
    }
    return new int[] {(int) pads[0], (int) pads[1], (int) pads[2], (int) pads[3]};
  }

  static Ops.Op conv(Attrs a) {
    long[] kernelShape = a.ints("kernel_shape");
    int[] strides = two(a.ints("strides"), 1);
    int[] dil = two(a.ints("dilations"), 1);
    int group = (int) a.i("group", 1);
    long[] padAttr = a.ints("pads");
    String autoPad = a.s("auto_pad", "NOTSET");
    return in -> {
      long[] xs = in[0].shapeRef();
      long[] ws = in[1].shapeRef();
      if (xs.length != 4 || ws.length != 4) {
        throw new IllegalArgumentException("Conv: only 2-D convolutions (NCHW) are supported, got input "
            + Arrays.toString(xs));
      }
      int[] k = kernelShape == null ? new int[] {(int) ws[2], (int) ws[3]} : two(kernelShape, 1);
      int[] p = pads(padAttr, autoPad, (int) xs[2], (int) xs[3], k, strides, dil);
      return Ops.one(conv2d(in[0], in[1], in.length > 2 ? in[2] : null, strides, p, dil, group));
    };
  }

  /**
   * A 2-D convolution of {@code x [N, C, H, W]} by {@code w [OC, C/group, KH, KW]} (dense, or
   * quantized/sparse with its output channels as fibers, used from the codes when {@code group ==
   * 1}), plus {@code bias [OC]} when not null; {@code pads} are {@code [top, left, bottom, right]}.
   */
  static Value conv2d(Value x, Value w, Value biasValue, int[] strides, int[] p, int[] dil, int group) {
    long[] xs = x.shapeRef();
    long[] ws = w.shapeRef();
    if (xs.length != 4 || ws.length != 4) {
      throw new IllegalArgumentException("conv2d: input " + Arrays.toString(xs) + " and weight "
          + Arrays.toString(ws) + " must both be 4-D (NCHW, OIHW)");
    }
    int n = (int) xs[0], c = (int) xs[1], h = (int) xs[2], wd = (int) xs[3];
    int oc = (int) ws[0], icg = (int) ws[1];
    if (group < 1 || c != icg * group || oc % group != 0) {
      throw new IllegalArgumentException("conv2d: input " + Arrays.toString(xs) + ", weight " + Arrays.toString(ws)
          + " and " + group + " groups do not match");
    }
    int[] k = {(int) ws[2], (int) ws[3]};
    int oh = (h + p[0] + p[2] - dil[0] * (k[0] - 1) - 1) / strides[0] + 1;
    int ow = (wd + p[1] + p[3] - dil[1] * (k[1] - 1) - 1) / strides[1] + 1;
    int ocg = oc / group;
    int kk = icg * k[0] * k[1];
    int hw = oh * ow;
    float[] src = x.floats();
    float[] bias = biasValue != null ? biasValue.floats() : null;
    float[] out = new float[n * oc * hw];
    boolean depthwise = icg == 1 && ocg == 1;
    // a pointwise convolution (1x1, stride 1, no padding): Y[oc, hw] = W[oc, c] * X[c, hw] with
    // the input used in place as the right-hand matrix, so no patches and no transposes; the
    // weight (oc * c values, 1/hw of the work) is decoded for the call
    boolean pointwise = group == 1 && k[0] == 1 && k[1] == 1 && strides[0] == 1 && strides[1] == 1 && p[0] == 0
        && p[1] == 0 && p[2] == 0 && p[3] == 0;
    if (!pointwise && group == 1 && w.sparse() != null && w.sparse().rows() == oc && w.sparse().cols() == kk
        && oh > 0 && ow > 0 && (long) n * c * strides[0] * strides[1] * (h + p[0] + p[2] + strides[0])
        * (wd + p[1] + p[3] + strides[1]) < Integer.MAX_VALUE / 2) {
      sparseConv(src, n, c, h, wd, w.sparse(), k, strides, dil, p, oh, ow, out);
      for (int b = 0; b < n; b++) {
        addBias(out, b * oc * hw, oc, hw, bias);
      }
      return Value.ofFloats(new long[] {n, oc, oh, ow}, out);
    }
    float[] dense = null;
    if (pointwise || depthwise || group > 1 || (w.quantized() == null && w.sparse() == null)) {
      dense = w.floats(); // [oc, icg * kh * kw]: per-group slices are decoded once per call
    }
    for (int b = 0; b < n; b++) {
      if (pointwise) {
        MatMul.multiplyDense(dense, 0, oc, c, src, b * c * hw, hw, out, b * oc * hw);
        addBias(out, b * oc * hw, oc, hw, bias);
        continue;
      }
      int base = b * c * h * wd;
      int ob = b * oc * hw;
      if (depthwise) {
        float[] wdense = dense;
        KernelThreads.forEach(group, (long) group * hw * kk, g -> depthwise(src, base + g * h * wd, h, wd, wdense,
            g * kk, k, strides, dil, p, oh, ow, out, ob + g * hw));
      } else {
        for (int g = 0; g < group; g++) {
          // patches [hw, kk] of this group's input channels, then Y^T[hw, ocg] = patches * W_g^T
          float[] patches = im2row(src, base + g * icg * h * wd, icg, h, wd, k, strides, dil, p, oh, ow);
          float[] yt = new float[hw * ocg];
          if (group == 1 && w.quantized() != null) {
            MatMul.multiply(patches, 0, hw, w.quantized(), yt, 0);
          } else if (group == 1 && w.sparse() != null) {
            MatMul.multiply(patches, 0, hw, w.sparse(), yt, 0);
          } else {
            float[] wg = Arrays.copyOfRange(dense, g * ocg * kk, (g + 1) * ocg * kk);
            MatMul.multiply(patches, 0, hw, new DenseRows(wg, ocg, kk), yt, 0);
          }
          for (int o = 0; o < ocg; o++) {
            int dst = ob + (g * ocg + o) * hw;
            for (int i = 0; i < hw; i++) {
              out[dst + i] = yt[i * ocg + o];
            }
          }
        }
      }
      addBias(out, ob, oc, hw, bias);
    }
    return Value.ofFloats(new long[] {n, oc, oh, ow}, out);
  }

  /** Output channels a task of {@link #sparseConv} computes (so a single image still splits over threads). */
  private static final int CONV_CHANNELS_PER_TASK = 16;

  /**
   * A convolution by a sparse weight with no patch matrix ("convolution focusing on active
   * regions"): each image is copied once, row by row, padded and split by stride phase (plane
   * {@code (ch, ry, rx)} of {@code [hq, wq]} holds padded row {@code a * sy + ry}, column {@code b *
   * sx + rx}), so for every kernel tap a run of output positions {@code yy * wq + xx} reads a
   * contiguous run of one plane, at the tap's offset {@code off[t]}; each kept tap is then one
   * multiply-add over contiguous floats ({@link Kernels#sparseConv}), pruned taps cost nothing, and
   * the {@code wq - ow} positions past each output row are computed and dropped.
   */
  private static void sparseConv(float[] src, int n, int c, int h, int wd, SparseMatrix sw, int[] k, int[] s,
      int[] d, int[] p, int oh, int ow, float[] out) {
    int sy = s[0], sx = s[1];
    int hq = (h + p[0] + p[2] + sy - 1) / sy;
    int wq = (wd + p[1] + p[3] + sx - 1) / sx;
    int planes = c * sy * sx * hq * wq;
    int per = planes + Kernels.CONV_SLACK;
    int q = (oh - 1) * wq + ow;
    int[] off = new int[c * k[0] * k[1]];
    for (int ch = 0; ch < c; ch++) {
      for (int i = 0; i < k[0]; i++) {
        for (int j = 0; j < k[1]; j++) {
          int vy = i * d[0], vx = j * d[1];
          off[(ch * k[0] + i) * k[1] + j] = ((ch * sy + vy % sy) * sx + vx % sx) * hq * wq + vy / sy * wq + vx / sx;
        }
      }
    }
    int oc = sw.rows();
    float[] ph = new float[n * per];
    Kernels kern = Kernels.get();
    KernelThreads.forEach(n, (long) n * planes, b -> split(src, b * c * h * wd, c, h, wd, sy, sx, p[0], p[1], hq,
        wq, ph, b * per));
    int chunks = (oc + CONV_CHANNELS_PER_TASK - 1) / CONV_CHANNELS_PER_TASK;
    KernelThreads.forEach(n * chunks, (long) n * sw.nnz() * q, t -> {
      int b = t / chunks;
      int r0 = (t % chunks) * CONV_CHANNELS_PER_TASK;
      kern.sparseConv(sw, r0, Math.min(oc, r0 + CONV_CHANNELS_PER_TASK), ph, b * per, off, q, wq, oh, ow, out,
          b * oc * oh * ow);
    });
  }

  /** One image's planes for {@link #sparseConv}: padded, split by stride phase, copied a row at a time. */
  private static void split(float[] src, int base, int c, int h, int w, int sy, int sx, int pt, int pl, int hq,
      int wq, float[] ph, int pOff) {
    for (int ch = 0; ch < c; ch++) {
      for (int ry = 0; ry < sy; ry++) {
        for (int rx = 0; rx < sx; rx++) {
          int plane = pOff + ((ch * sy + ry) * sx + rx) * hq * wq;
          // columns b whose input column b * sx + rx - pl lies in [0, w); the array starts zeroed
          int b0 = Math.min(wq, rx >= pl ? 0 : (pl - rx + sx - 1) / sx);
          int b1 = Math.max(b0, Math.min(wq, w + pl - rx <= 0 ? 0 : (w + pl - rx + sx - 1) / sx));
          for (int a = 0; a < hq; a++) {
            int iy = a * sy + ry - pt;
            if (iy < 0 || iy >= h || b1 == b0) {
              continue;
            }
            int from = base + (ch * h + iy) * w + rx - pl;
            int to = plane + a * wq;
            if (sx == 1) {
              System.arraycopy(src, from + b0, ph, to + b0, b1 - b0);
            } else {
              for (int b = b0; b < b1; b++) {
                ph[to + b] = src[from + b * sx];
              }
            }
          }
        }
      }
    }
  }

  private static void addBias(float[] out, int ob, int oc, int hw, float[] bias) {
    if (bias == null) {
      return;
    }
    for (int o = 0; o < oc; o++) {
      float bv = bias[o];
      int dst = ob + o * hw;
      for (int i = 0; i < hw; i++) {
        out[dst + i] += bv;
      }
    }
  }

  private static float[] im2row(float[] src, int base, int ch, int h, int w, int[] k, int[] s, int[] d, int[] p,
      int oh, int ow) {
    int kk = ch * k[0] * k[1];
    float[] rows = new float[oh * ow * kk];
    for (int y = 0; y < oh; y++) {
      for (int x = 0; x < ow; x++) {
        int r = (y * ow + x) * kk;
        int col = 0;
        for (int c = 0; c < ch; c++) {
          int cb = base + c * h * w;
          for (int i = 0; i < k[0]; i++) {
            int iy = y * s[0] - p[0] + i * d[0];
            for (int j = 0; j < k[1]; j++, col++) {
              int ix = x * s[1] - p[1] + j * d[1];
              if (iy >= 0 && iy < h && ix >= 0 && ix < w) {
                rows[r + col] = src[cb + iy * w + ix];
              }
            }
          }
        }
      }
    }
    return rows;
  }

  /**
   * One channel of a depthwise convolution, added into {@code out} (zero on entry) one kernel tap at
   * a time: for each tap and output row, the valid output columns are found once and the row is
   * a multiply-add over contiguous input (stride 1) that the JIT vectorizes, instead of a bounds
   * test per tap per output pixel.
   */
  private static void depthwise(float[] src, int base, int h, int w, float[] wt, int wOff, int[] k, int[] s, int[] d,
      int[] p, int oh, int ow, float[] out, int oOff) {
    int s1 = s[1];
    for (int i = 0; i < k[0]; i++) {
      for (int j = 0; j < k[1]; j++) {
        float wv = wt[wOff + i * k[1] + j];
        int dx = j * d[1] - p[1];
        // output columns x with 0 <= x * s1 + dx < w
        int x0 = dx >= 0 ? 0 : (-dx + s1 - 1) / s1;
        int x1 = w - 1 - dx < 0 ? -1 : Math.min(ow - 1, (w - 1 - dx) / s1);
        if (x1 < x0) {
          continue;
        }
        for (int y = 0; y < oh; y++) {
          int iy = y * s[0] - p[0] + i * d[0];
          if (iy < 0 || iy >= h) {
            continue;
          }
          int o = oOff + y * ow;
          int r = base + iy * w + dx;
          if (s1 == 1) {
            for (int x = x0; x <= x1; x++) {
              out[o + x] += wv * src[r + x];
            }
          } else {
            for (int x = x0; x <= x1; x++) {
              out[o + x] += wv * src[r + x * s1];
            }
          }
        }
      }
    }
  }

  static Ops.Op convTranspose(Attrs a) {
    int[] strides = two(a.ints("strides"), 1);
    int[] dil = two(a.ints("dilations"), 1);
    int group = (int) a.i("group", 1);
    long[] padAttr = a.ints("pads");
    int[] outPad = two(a.ints("output_padding"), 0);
    long[] outShape = a.ints("output_shape");
    String autoPad = a.s("auto_pad", "NOTSET");
    return in -> {
      long[] xs = in[0].shapeRef();
      long[] ws = in[1].shapeRef();
      if (xs.length != 4 || ws.length != 4) {
        throw new IllegalArgumentException("ConvTranspose: only 2-D transposed convolutions (NCHW) are supported, "
            + "got input " + Arrays.toString(xs) + " and weight " + Arrays.toString(ws));
      }
      int[] k = {(int) ws[2], (int) ws[3]};
      int[] p = new int[4];
      if (outShape != null || autoPad.startsWith("SAME")) {
        // the padding that gives the requested size, the odd cell at the end for SAME_UPPER (ONNX spec)
        for (int ax = 0; ax < 2; ax++) {
          long in1 = xs[2 + ax];
          long target = outShape != null ? outShape[outShape.length - 2 + ax] : in1 * strides[ax];
          int total = (int) (strides[ax] * (in1 - 1) + outPad[ax] + (long) (k[ax] - 1) * dil[ax] + 1 - target);
          boolean upper = autoPad.equals("SAME_UPPER");
          p[ax] = upper ? total / 2 : total - total / 2;
          p[ax + 2] = total - p[ax];
        }
      } else if (padAttr != null) {
        p = new int[] {(int) padAttr[0], (int) padAttr[1], (int) padAttr[2], (int) padAttr[3]};
      }
      return Ops.one(convTranspose2d(in[0], in[1], in.length > 2 ? in[2] : null, strides, p, dil, outPad, group));
    };
  }

  /**
   * A 2-D transposed convolution (the gradient of {@link #conv2d} with respect to its input): {@code
   * x [N, C, H, W]} by {@code w [C, OC/group, KH, KW]}, plus {@code bias [OC]} when not null; {@code
   * pads} {@code [top, left, bottom, right]} are cropped from the full output. Each input pixel's
   * channels times the weight give its {@code OC * KH * KW} contributions (one product, a quantized
   * or sparse weight used from its codes when its fibers run along the input channels, as the
   * converter stores them), which are then added into the output window they cover.
   */
  static Value convTranspose2d(Value x, Value w, Value biasValue, int[] strides, int[] p, int[] dil, int[] outPad,
      int group) {
    long[] xs = x.shapeRef();
    long[] ws = w.shapeRef();
    int n = (int) xs[0], c = (int) xs[1], h = (int) xs[2], wd = (int) xs[3];
    int ocg = (int) ws[1];
    if (group < 1 || ws[0] != c || c % group != 0) {
      throw new IllegalArgumentException("ConvTranspose: input " + Arrays.toString(xs) + ", weight "
          + Arrays.toString(ws) + " and " + group + " groups do not match (weight is [C, OC/group, KH, KW])");
    }
    int icg = c / group;
    int oc = ocg * group;
    int kh = (int) ws[2], kw = (int) ws[3], kk = kh * kw;
    int oh = strides[0] * (h - 1) + outPad[0] + (kh - 1) * dil[0] + 1 - p[0] - p[2];
    int ow = strides[1] * (wd - 1) + outPad[1] + (kw - 1) * dil[1] + 1 - p[1] - p[3];
    if (oh <= 0 || ow <= 0) {
      throw new IllegalArgumentException("ConvTranspose: pads " + Arrays.toString(p) + " leave no output for input "
          + Arrays.toString(xs));
    }
    float[] bias = biasValue != null ? biasValue.floats() : null;
    if (bias != null && bias.length != oc) {
      throw new IllegalArgumentException("ConvTranspose: " + bias.length + " biases for " + oc + " output channels");
    }
    int hw = h * wd;
    int cols = ocg * kk;
    var st = w.storedInfo();
    boolean asStored = group == 1 && w.isCompressed() && st != null && st.reductionAxis() == 0;
    float[] dense = asStored ? null : w.floats(); // [C, ocg * kk]: group g's rows start at g * icg
    float[] src = x.floats();
    float[] out = new float[n * oc * oh * ow];
    float[] xt = new float[hw * icg];
    float[] contrib = new float[hw * cols];
    for (int b = 0; b < n; b++) {
      for (int g = 0; g < group; g++) {
        int base = (b * c + g * icg) * hw;
        for (int ch = 0; ch < icg; ch++) {
          for (int i = 0; i < hw; i++) {
            xt[i * icg + ch] = src[base + ch * hw + i];
          }
        }
        if (asStored && w.quantized() != null) {
          MatMul.multiply(xt, 0, hw, w.quantized(), contrib, 0);
        } else if (asStored) {
          MatMul.multiply(xt, 0, hw, w.sparse(), contrib, 0);
        } else {
          MatMul.multiplyDense(xt, 0, hw, icg, dense, g * icg * cols, cols, contrib, 0);
        }
        int ob = (b * oc + g * ocg) * oh * ow;
        for (int iy = 0; iy < h; iy++) {
          for (int ix = 0; ix < wd; ix++) {
            int row = (iy * wd + ix) * cols;
            for (int o = 0; o < ocg; o++) {
              int dst = ob + o * oh * ow;
              for (int i = 0; i < kh; i++) {
                int oy = iy * strides[0] - p[0] + i * dil[0];
                if (oy < 0 || oy >= oh) {
                  continue;
                }
                for (int j = 0; j < kw; j++) {
                  int ox = ix * strides[1] - p[1] + j * dil[1];
                  if (ox >= 0 && ox < ow) {
                    out[dst + oy * ow + ox] += contrib[row + o * kk + i * kw + j];
                  }
                }
              }
            }
          }
        }
      }
      if (bias != null) {
        for (int o = 0; o < oc; o++) {
          int dst = (b * oc + o) * oh * ow;
          for (int i = 0; i < oh * ow; i++) {
            out[dst + i] += bias[o];
          }
        }
      }
    }
    return Value.ofFloats(new long[] {n, oc, oh, ow}, out);
  }
}
