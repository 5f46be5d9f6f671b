package dev.selfbyt.cortexsdr.djl.graph;

import dev.selfbyt.cortexsdr.djl.kernel.DenseRows;
import dev.selfbyt.cortexsdr.djl.kernel.KernelThreads;
import dev.selfbyt.cortexsdr.djl.kernel.MatMul;
import java.util.Arrays;

/**
 * The 2-D image operators of a convolutional network, on NCHW floats: Conv (groups, strides,
 * pads, dilations) as patches times the weight, with a quantized weight used from its codes (a
 * convolution kernel's fibers are its output channels, {@code [in/g * kh * kw]} long), MaxPool,
 * Pad (constant, edge, reflect) and Resize (nearest or linear).
 */
final class ConvOps {
  private ConvOps() {}

  private static int[] two(long[] v, int dflt) {
    return v == null ? new int[] {dflt, dflt} : new int[] {(int) v[0], (int) v[v.length > 1 ? 1 : 0]};
  }

  /** ONNX pads {@code [top, left, bottom, right]} for a 2-D window, SAME_* auto pads included. */
  private static int[] pads(long[] pads, String autoPad, int h, int w, int[] k, int[] s, int[] d) {
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
    float[] dense = null;
    if (depthwise || group > 1 || (w.quantized() == null && w.sparse() == null)) {
      dense = w.floats(); // [oc, icg * kh * kw]: per-group slices are decoded once per call
    }
    for (int b = 0; b < n; b++) {
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
      if (bias != null) {
        for (int o = 0; o < oc; o++) {
          float bv = bias[o];
          int dst = ob + o * hw;
          for (int i = 0; i < hw; i++) {
            out[dst + i] += bv;
          }
        }
      }
    }
    return Value.ofFloats(new long[] {n, oc, oh, ow}, out);
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

  private static void depthwise(float[] src, int base, int h, int w, float[] wt, int wOff, int[] k, int[] s, int[] d,
      int[] p, int oh, int ow, float[] out, int oOff) {
    for (int y = 0; y < oh; y++) {
      for (int x = 0; x < ow; x++) {
        float acc = 0;
        for (int i = 0; i < k[0]; i++) {
          int iy = y * s[0] - p[0] + i * d[0];
          if (iy < 0 || iy >= h) {
            continue;
          }
          for (int j = 0; j < k[1]; j++) {
            int ix = x * s[1] - p[1] + j * d[1];
            if (ix >= 0 && ix < w) {
              acc += src[base + iy * w + ix] * wt[wOff + i * k[1] + j];
            }
          }
        }
        out[oOff + y * ow + x] = acc;
      }
    }
  }

  static Ops.Op maxPool(Attrs a) {
    return pool(a, false, "MaxPool");
  }

  static Ops.Op averagePool(Attrs a) {
    return pool(a, true, "AveragePool");
  }

  private static Ops.Op pool(Attrs a, boolean average, String op) {
    int[] k = two(a.ints("kernel_shape"), 1);
    int[] s = two(a.ints("strides"), 1);
    int[] d = two(a.ints("dilations"), 1);
    long[] padAttr = a.ints("pads");
    String autoPad = a.s("auto_pad", "NOTSET");
    boolean ceil = a.i("ceil_mode", 0) != 0;
    boolean countPad = a.i("count_include_pad", 0) != 0;
    return in -> {
      long[] xs = in[0].shapeRef();
      if (xs.length != 4) {
        throw new IllegalArgumentException(op + ": only 2-D pooling (NCHW) is supported");
      }
      int[] p = pads(padAttr, autoPad, (int) xs[2], (int) xs[3], k, s, d);
      return Ops.one(pool2d(in[0], k, s, p, d, ceil, average, countPad));
    };
  }

  /**
   * 2-D max or average pooling of {@code x [N, C, H, W]}; {@code pads} are {@code [top, left,
   * bottom, right]}. An average divides by the window cells inside the padded input when {@code
   * countPad}, else by those inside the input.
   */
  static Value pool2d(Value x, int[] k, int[] s, int[] p, int[] d, boolean ceil, boolean average,
      boolean countPad) {
    long[] xs = x.shapeRef();
    if (xs.length != 4) {
      throw new IllegalArgumentException("pool2d: input " + Arrays.toString(xs) + " is not 4-D (NCHW)");
    }
    int nc = (int) (xs[0] * xs[1]), h = (int) xs[2], w = (int) xs[3];
    int oh = div(h + p[0] + p[2] - d[0] * (k[0] - 1) - 1, s[0], ceil) + 1;
    int ow = div(w + p[1] + p[3] - d[1] * (k[1] - 1) - 1, s[1], ceil) + 1;
    if (ceil) {
      // as ONNX and PyTorch: the last window must start inside the input or its left padding
      if ((oh - 1) * s[0] >= h + p[0]) {
        oh--;
      }
      if ((ow - 1) * s[1] >= w + p[1]) {
        ow--;
      }
    }
    float[] src = x.floats();
    float[] out = new float[nc * oh * ow];
    for (int c = 0; c < nc; c++) {
      for (int y = 0; y < oh; y++) {
        for (int xo = 0; xo < ow; xo++) {
          float m = Float.NEGATIVE_INFINITY;
          float sum = 0;
          int inside = 0;
          int padded = 0;
          for (int i = 0; i < k[0]; i++) {
            int iy = y * s[0] - p[0] + i * d[0];
            for (int j = 0; j < k[1]; j++) {
              int ix = xo * s[1] - p[1] + j * d[1];
              if (iy < h + p[2] && ix < w + p[3]) {
                padded++;
              }
              if (iy >= 0 && iy < h && ix >= 0 && ix < w) {
                float v = src[c * h * w + iy * w + ix];
                m = v > m ? v : m;
                sum += v;
                inside++;
              }
            }
          }
          out[(c * oh + y) * ow + xo] = average ? sum / Math.max(1, countPad ? padded : inside) : m;
        }
      }
    }
    return Value.ofFloats(new long[] {xs[0], xs[1], oh, ow}, out);
  }

  private static int div(int a, int b, boolean ceil) {
    return ceil ? (a + b - 1) / b : Math.floorDiv(a, b);
  }

  static Ops.Op pad(Attrs a, int opset) {
    String mode = a.s("mode", "constant");
    long[] padAttr = a.ints("pads");
    float valueAttr = a.f("value", 0f);
    return in -> {
      Value x = in[0];
      long[] pads = opset < 11 ? padAttr : in[1].longs();
      float value = opset < 11 ? valueAttr : in.length > 2 && in[2] != null ? in[2].floats()[0] : 0f;
      long[] s = x.shapeRef();
      int r = s.length;
      long[] out = new long[r];
      for (int i = 0; i < r; i++) {
        out[i] = s[i] + pads[i] + pads[i + r];
      }
      float[] src = x.floats();
      float[] dst = new float[Broadcast.size(out)];
      int[] idx = new int[r];
      for (int o = 0; o < dst.length; o++) {
        int rem = o;
        for (int i = r - 1; i >= 0; i--) {
          idx[i] = (int) (rem % out[i]);
          rem /= (int) out[i];
        }
        int si = 0;
        boolean inside = true;
        for (int i = 0; i < r; i++) {
          int v = idx[i] - (int) pads[i];
          int n = (int) s[i];
          if (v < 0 || v >= n) {
            switch (mode) {
              case "edge" -> v = v < 0 ? 0 : n - 1;
              case "reflect" -> v = v < 0 ? -v : 2 * (n - 1) - v;
              default -> inside = false;
            }
          }
          si = si * n + v;
        }
        dst[o] = inside ? src[si] : value;
      }
      return Ops.one(Value.ofFloats(out, dst));
    };
  }

  static Ops.Op resize(Attrs a, int opset) {
    String mode = a.s("mode", "nearest");
    String coord = a.s("coordinate_transformation_mode", "half_pixel");
    String nearest = a.s("nearest_mode", "round_prefer_floor");
    return in -> {
      Value x = in[0];
      long[] s = x.shapeRef();
      if (s.length != 4) {
        throw new IllegalArgumentException("Resize: only NCHW inputs are supported");
      }
      Value scalesV = in.length > 2 ? in[2] : null;
      Value sizesV = in.length > 3 ? in[3] : null;
      long[] out = s.clone();
      float[] scale = new float[4];
      if (sizesV != null && sizesV.size() > 0) {
        long[] sz = sizesV.longs();
        for (int i = 0; i < 4; i++) {
          out[i] = sz[i];
          scale[i] = (float) sz[i] / s[i];
        }
      } else {
        float[] sc = scalesV.floats();
        for (int i = 0; i < 4; i++) {
          scale[i] = sc[i];
          out[i] = (long) Math.floor(s[i] * sc[i]);
        }
      }
      if (out[0] != s[0] || out[1] != s[1]) {
        throw new IllegalArgumentException("Resize: only the spatial axes may change");
      }
      int nc = (int) (s[0] * s[1]), h = (int) s[2], w = (int) s[3], oh = (int) out[2], ow = (int) out[3];
      float[] src = x.floats();
      float[] dst = new float[nc * oh * ow];
      for (int y = 0; y < oh; y++) {
        float fy = source(y, scale[2], h, oh, coord);
        for (int xx = 0; xx < ow; xx++) {
          float fx = source(xx, scale[3], w, ow, coord);
          for (int c = 0; c < nc; c++) {
            int cb = c * h * w;
            float v;
            if (mode.equals("linear")) {
              fy = Math.max(0, Math.min(h - 1, fy));
              float cx = Math.max(0, Math.min(w - 1, fx));
              int y0 = (int) fy, x0 = (int) cx;
              int y1 = Math.min(h - 1, y0 + 1), x1 = Math.min(w - 1, x0 + 1);
              float dy = fy - y0, dx = cx - x0;
              v = (src[cb + y0 * w + x0] * (1 - dx) + src[cb + y0 * w + x1] * dx) * (1 - dy)
                  + (src[cb + y1 * w + x0] * (1 - dx) + src[cb + y1 * w + x1] * dx) * dy;
            } else {
              int iy = Math.max(0, Math.min(h - 1, round(fy, nearest)));
              int ix = Math.max(0, Math.min(w - 1, round(fx, nearest)));
              v = src[cb + iy * w + ix];
            }
            dst[(c * oh + y) * ow + xx] = v;
          }
        }
      }
      return Ops.one(Value.ofFloats(out, dst));
    };
  }

  private static float source(int o, float scale, int in, int out, String coord) {
    return switch (coord) {
      case "asymmetric" -> o / scale;
      case "align_corners" -> out == 1 ? 0 : o * (in - 1f) / (out - 1f);
      case "pytorch_half_pixel" -> out > 1 ? (o + 0.5f) / scale - 0.5f : 0;
      default -> (o + 0.5f) / scale - 0.5f; // half_pixel
    };
  }

  private static int round(float v, String mode) {
    return switch (mode) {
      case "floor" -> (int) Math.floor(v);
      case "ceil" -> (int) Math.ceil(v);
      case "round_prefer_ceil" -> (int) Math.floor(v + 0.5f);
      default -> (int) Math.ceil(v - 0.5f); // round_prefer_floor
    };
  }

  static Ops.Op split(Attrs a, int opset, int outputs) {
    long axis = a.i("axis", 0);
    long[] splitAttr = a.ints("split");
    return in -> {
      Value x = in[0];
      int ax = InvalidNodeException.axis("Split axis", axis, x.rank());
      long[] parts = opset >= 13 && in.length > 1 && in[1] != null ? in[1].longs() : splitAttr;
      long d = x.dim(ax);
      if (parts == null) {
        parts = new long[outputs];
        Arrays.fill(parts, d / outputs);
      }
      Value[] out = new Value[parts.length];
      long start = 0;
      for (int i = 0; i < parts.length; i++) {
        out[i] = Ops.slice(x, new long[] {start}, new long[] {start + parts[i]}, new long[] {ax}, null);
        start += parts[i];
      }
      return out;
    };
  }
}
