package dev.selfbyt.cortexsdr.djl.graph;

import java.util.Arrays;
import java.util.Map;

/**
 * Operators that change a tensor's size: Pad (constant, edge, reflect), and Resize and Upsample
 * (nearest, linear, cubic; every coordinate transformation mode of ONNX), computed one axis at a
 * time. Interpolation in these modes is separable, so the passes give the N-D result; only the
 * axes whose size or scale changes are visited.
 */
final class ResizeOps {
  private ResizeOps() {}

  static void register(Map<String, Ops.Factory> ops) {
    ops.put("Pad", (a, n, o) -> pad(a, o));
    ops.put("Resize", (a, n, o) -> resize(a, n, o));
    ops.put("Upsample", (a, n, o) -> upsample(a, n, o));
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

  /** What one Resize node does, its attributes read. */
  record Mode(String mode, String coord, String nearest, float cubicA, boolean excludeOutside, float extrapolation,
      String node) {
    Mode {
      if (!mode.equals("nearest") && !mode.equals("linear") && !mode.equals("cubic")) {
        throw new IllegalArgumentException("Resize node " + node + ": mode '" + mode + "' is not nearest, linear or "
            + "cubic");
      }
    }
  }

  static Ops.Op resize(Attrs a, ai.onnx.proto.OnnxMl.NodeProto n, int opset) {
    if (a.i("antialias", 0) != 0) {
      throw new IllegalArgumentException("Resize node " + n.getName() + ": antialias is not supported");
    }
    String policy = a.s("keep_aspect_ratio_policy", "stretch");
    if (!policy.equals("stretch")) {
      throw new IllegalArgumentException("Resize node " + n.getName() + ": keep_aspect_ratio_policy " + policy
          + " is not supported");
    }
    // before opset 11 Resize took (X, scales) and sampled asymmetrically, nearest taking the floor
    // when enlarging and the ceiling when shrinking, as ONNX Runtime does
    Mode m = new Mode(a.s("mode", "nearest"), opset < 11 ? "asymmetric" : a.s("coordinate_transformation_mode",
        "half_pixel"), opset < 11 ? "simple" : a.s("nearest_mode", "round_prefer_floor"), a.f("cubic_coeff_a", -0.75f),
        a.i("exclude_outside", 0) != 0, a.f("extrapolation_value", 0f), n.getName());
    long[] axes = a.ints("axes");
    return in -> {
      Value x = in[0];
      Value roi = opset >= 11 && in.length > 1 ? in[1] : null;
      Value scales = opset >= 11 ? (in.length > 2 ? in[2] : null) : in[1];
      Value sizes = opset >= 11 && in.length > 3 ? in[3] : null;
      return Ops.one(resize(x, roi == null || roi.size() == 0 ? null : roi.floats(),
          scales == null || scales.size() == 0 ? null : scales.floats(),
          sizes == null || sizes.size() == 0 ? null : sizes.longs(), axes, m));
    };
  }

  /** Upsample (deprecated since opset 10): Resize with asymmetric coordinates, scales as attribute (7, 8) or input (9). */
  static Ops.Op upsample(Attrs a, ai.onnx.proto.OnnxMl.NodeProto n, int opset) {
    Mode m = new Mode(a.s("mode", "nearest"), "asymmetric", "simple", -0.75f, false, 0f, n.getName());
    AttributeProtoFloats attr = new AttributeProtoFloats(a, "scales");
    return in -> Ops.one(resize(in[0], null, opset >= 9 ? in[1].floats() : attr.values, null, null, m));
  }

  /** A float list attribute, read once. */
  private static final class AttributeProtoFloats {
    final float[] values;

    AttributeProtoFloats(Attrs a, String name) {
      var p = a.get(name);
      if (p == null) {
        values = null;
        return;
      }
      values = new float[p.getFloatsCount()];
      for (int i = 0; i < values.length; i++) {
        values[i] = p.getFloats(i);
      }
    }
  }

  /**
   * Resizes {@code x} to {@code sizes} (output lengths) or by {@code scales} (output length {@code
   * floor(in * scale)}), both over {@code axes} (every axis when null); {@code roi} holds the starts
   * then the ends of the crop for {@code tf_crop_and_resize}, as fractions of each axis.
   */
  static Value resize(Value x, float[] roi, float[] scales, long[] sizes, long[] axes, Mode m) {
    long[] s = x.shapeRef();
    int r = s.length;
    int[] ax = new int[axes == null ? r : axes.length];
    for (int i = 0; i < ax.length; i++) {
      ax[i] = axes == null ? i : InvalidNodeException.axis("Resize axis", axes[i], r);
    }
    if (scales == null && sizes == null) {
      throw new IllegalArgumentException("Resize: neither scales nor sizes given");
    }
    int given = sizes != null ? sizes.length : scales.length;
    if (given != ax.length) {
      throw new IllegalArgumentException("Resize: " + given + (sizes != null ? " sizes" : " scales") + " for "
          + ax.length + " axes of input " + Arrays.toString(s));
    }
    long[] out = s.clone();
    float[] scale = new float[r];
    Arrays.fill(scale, 1f);
    for (int i = 0; i < ax.length; i++) {
      int d = ax[i];
      if (sizes != null) {
        out[d] = sizes[i];
        scale[d] = (float) sizes[i] / s[d];
      } else {
        if (!(scales[i] > 0)) {
          throw new IllegalArgumentException("Resize: scale " + scales[i] + " on axis " + d + " is not positive");
        }
        scale[d] = scales[i];
        out[d] = (long) Math.floor(s[d] * (double) scales[i]);
      }
    }
    float[] data = x.floats();
    long[] cur = s.clone();
    for (int d = 0; d < r; d++) {
      boolean cropped = m.coord().equals("tf_crop_and_resize") && roi != null;
      if (out[d] == cur[d] && scale[d] == 1f && !cropped) {
        continue; // identity along this axis in every mode but a crop
      }
      float start = 0f;
      float end = 1f;
      if (cropped) {
        int k = indexOf(ax, d);
        start = k < 0 ? 0f : roi[k];
        end = k < 0 ? 1f : roi[k + roi.length / 2];
      }
      data = resizeAxis(data, cur, d, (int) out[d], scale[d], start, end, m);
      cur[d] = out[d];
    }
    return Value.ofFloats(out, data);
  }

  private static int indexOf(int[] a, int v) {
    for (int i = 0; i < a.length; i++) {
      if (a[i] == v) {
        return i;
      }
    }
    return -1;
  }

  /** One pass: {@code src} of shape {@code shape} resized along {@code axis} to {@code len}. */
  private static float[] resizeAxis(float[] src, long[] shape, int axis, int len, float scale, float roiStart,
      float roiEnd, Mode m) {
    int in = (int) shape[axis];
    int outer = 1;
    for (int i = 0; i < axis; i++) {
      outer *= (int) shape[i];
    }
    int inner = 1;
    for (int i = axis + 1; i < shape.length; i++) {
      inner *= (int) shape[i];
    }
    // per output position: up to four source indices and their weights (-1: extrapolation value)
    int taps = m.mode().equals("cubic") ? 4 : m.mode().equals("linear") ? 2 : 1;
    int[] idx = new int[len * taps];
    float[] wt = new float[len * taps];
    boolean[] outside = new boolean[len];
    for (int o = 0; o < len; o++) {
      float c = source(o, scale, in, len, roiStart, roiEnd, m.coord());
      if (m.coord().equals("tf_crop_and_resize") && (c < 0 || c > in - 1)) {
        outside[o] = true;
        continue;
      }
      switch (m.mode()) {
        case "nearest" -> {
          idx[o] = Math.max(0, Math.min(in - 1, nearest(c, m.nearest(), scale < 1)));
          wt[o] = 1f;
        }
        case "linear" -> {
          float cc = Math.max(0f, Math.min(in - 1f, c));
          int lo = Math.min((int) cc, in - 1);
          int hi = Math.min(lo + 1, in - 1);
          float f = cc - lo;
          idx[2 * o] = lo;
          idx[2 * o + 1] = hi;
          wt[2 * o] = 1f - f;
          wt[2 * o + 1] = f;
        }
        default -> cubicTaps(c, in, m.cubicA(), m.excludeOutside(), idx, wt, 4 * o);
      }
    }
    float[] dst = new float[outer * len * inner];
    for (int b = 0; b < outer; b++) {
      int sb = b * in * inner;
      int db = b * len * inner;
      for (int o = 0; o < len; o++) {
        int d = db + o * inner;
        if (outside[o]) {
          Arrays.fill(dst, d, d + inner, m.extrapolation());
          continue;
        }
        for (int t = 0; t < taps; t++) {
          float w = wt[o * taps + t];
          if (w == 0f) {
            continue;
          }
          int sr = sb + idx[o * taps + t] * inner;
          for (int i = 0; i < inner; i++) {
            dst[d + i] += w * src[sr + i];
          }
        }
      }
    }
    return dst;
  }

  /** The source coordinate of output position {@code o}, in float as ONNX Runtime computes it. */
  static float source(int o, float scale, int in, int out, float roiStart, float roiEnd, String coord) {
    return switch (coord) {
      case "asymmetric" -> o / scale;
      case "align_corners" -> out == 1 ? 0 : o * (in - 1f) / (out - 1f);
      case "pytorch_half_pixel" -> out > 1 ? (o + 0.5f) / scale - 0.5f : 0;
      case "tf_half_pixel_for_nn" -> (o + 0.5f) / scale;
      case "half_pixel_symmetric" -> {
        float adjustment = out / (scale * in);
        float center = in / 2f;
        yield center * (1 - adjustment) + (o + 0.5f) / scale - 0.5f;
      }
      case "tf_crop_and_resize" -> out > 1
          ? roiStart * (in - 1) + o * (roiEnd - roiStart) * (in - 1) / (out - 1)
          : 0.5f * (roiStart + roiEnd) * (in - 1);
      case "half_pixel" -> (o + 0.5f) / scale - 0.5f;
      default -> throw new IllegalArgumentException("Resize: coordinate_transformation_mode '" + coord
          + "' is not an ONNX mode");
    };
  }

  private static int nearest(float v, String mode, boolean shrinking) {
    return switch (mode) {
      case "floor" -> (int) Math.floor(v);
      case "ceil" -> (int) Math.ceil(v);
      case "round_prefer_ceil" -> (int) Math.floor(v + 0.5f);
      case "simple" -> shrinking ? (int) Math.ceil(v) : (int) v;
      case "round_prefer_floor" -> (int) Math.ceil(v - 0.5f);
      default -> throw new IllegalArgumentException("Resize: nearest_mode '" + mode + "' is not an ONNX mode");
    };
  }

  /** Keys' cubic convolution weights at the four neighbours of {@code c} (edge-clamped, or dropped outside). */
  private static void cubicTaps(float c, int in, float a, boolean excludeOutside, int[] idx, float[] wt, int at) {
    int base = (int) Math.floor(c);
    float s = c - base;
    float sum = 0f;
    for (int t = 0; t < 4; t++) {
      float d = Math.abs(s - (t - 1));
      float w = d <= 1 ? ((a + 2) * d - (a + 3)) * d * d + 1
          : d < 2 ? ((a * d - 5 * a) * d + 8 * a) * d - 4 * a : 0f;
      int i = base + t - 1;
      if (excludeOutside && (i < 0 || i >= in)) {
        w = 0f;
      }
      idx[at + t] = Math.max(0, Math.min(in - 1, i));
      wt[at + t] = w;
      sum += w;
    }
    if (excludeOutside && sum != 0f) {
      for (int t = 0; t < 4; t++) {
        wt[at + t] /= sum;
      }
    }
  }
}
