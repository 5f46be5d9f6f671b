package dev.selfbyt.cortexsdr.djl.graph;

import java.util.Map;

/** Operators that change an image's size: Pad (constant, edge, reflect) and Resize (nearest or linear). */
final class ResizeOps {
  private ResizeOps() {}

  static void register(Map<String, Ops.Factory> ops) {
    ops.put("Pad", (a, n, o) -> pad(a, o));
    ops.put("Resize", (a, n, o) -> resize(a, o));
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
}
