package dev.selfbyt.cortexsdr.djl.graph;

import java.util.Arrays;
import java.util.Map;

/**
 * Pooling on NCHW floats: MaxPool and AveragePool in 2-D (pads, strides, dilations, ceil mode),
 * GlobalAveragePool and GlobalMaxPool over any number of spatial axes.
 */
final class PoolOps {
  private PoolOps() {}

  static void register(Map<String, Ops.Factory> ops) {
    ops.put("MaxPool", (a, n, o) -> maxPool(a));
    ops.put("AveragePool", (a, n, o) -> averagePool(a));
    ops.put("GlobalAveragePool", (a, n, o) -> in -> Ops.one(globalPool(in[0], true)));
    ops.put("GlobalMaxPool", (a, n, o) -> in -> Ops.one(globalPool(in[0], false)));
  }

  static Ops.Op maxPool(Attrs a) {
    return pool(a, false, "MaxPool");
  }

  static Ops.Op averagePool(Attrs a) {
    return pool(a, true, "AveragePool");
  }

  private static Ops.Op pool(Attrs a, boolean average, String op) {
    int[] k = ConvOps.two(a.ints("kernel_shape"), 1);
    int[] s = ConvOps.two(a.ints("strides"), 1);
    int[] d = ConvOps.two(a.ints("dilations"), 1);
    long[] padAttr = a.ints("pads");
    String autoPad = a.s("auto_pad", "NOTSET");
    boolean ceil = a.i("ceil_mode", 0) != 0;
    boolean countPad = a.i("count_include_pad", 0) != 0;
    return in -> {
      long[] xs = in[0].shapeRef();
      if (xs.length != 4) {
        throw new IllegalArgumentException(op + ": only 2-D pooling (NCHW) is supported");
      }
      int[] p = ConvOps.pads(padAttr, autoPad, (int) xs[2], (int) xs[3], k, s, d);
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

  /**
   * GlobalAveragePool or GlobalMaxPool: {@code x [N, C, d1, d2, ...]} to {@code [N, C, 1, 1, ...]},
   * the mean (summed in double) or the maximum of each channel's spatial values.
   */
  static Value globalPool(Value x, boolean average) {
    long[] s = x.shapeRef();
    if (s.length < 3) {
      throw new IllegalArgumentException((average ? "GlobalAveragePool" : "GlobalMaxPool") + ": input "
          + Arrays.toString(s) + " has no spatial axes (needs [N, C, d1, ...])");
    }
    int nc = (int) (s[0] * s[1]);
    int area = 1;
    for (int i = 2; i < s.length; i++) {
      area *= (int) s[i];
    }
    float[] src = x.floats();
    float[] dst = new float[nc];
    for (int c = 0; c < nc; c++) {
      int o = c * area;
      if (average) {
        double sum = 0;
        for (int i = 0; i < area; i++) {
          sum += src[o + i];
        }
        dst[c] = (float) (sum / area);
      } else {
        float m = Float.NEGATIVE_INFINITY;
        for (int i = 0; i < area; i++) {
          m = Math.max(m, src[o + i]);
        }
        dst[c] = m;
      }
    }
    long[] out = new long[s.length];
    Arrays.fill(out, 1);
    out[0] = s[0];
    out[1] = s[1];
    return Value.ofFloats(out, dst);
  }
}
