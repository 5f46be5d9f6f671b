package dev.selfbyt.cortexsdr.djl.graph;

import dev.selfbyt.cortexsdr.djl.kernel.Kernels;
import java.util.Arrays;
import java.util.Map;

/**
 * Reductions and normalizations: ReduceMean/ReduceSum, Softmax and LogSoftmax,
 * LayerNormalization, BatchNormalization, InstanceNormalization.
 */
final class NormOps {
  private NormOps() {}

  static void register(Map<String, Ops.Factory> ops) {
    ops.put("ReduceMean", (a, n, o) -> reduce(a, o, true));
    ops.put("ReduceSum", (a, n, o) -> reduce(a, o, false));
    ops.put("Softmax", (a, n, o) -> {
      long axis = a.i("axis", o < 13 ? 1 : -1);
      return in -> Ops.one(softmax(in[0], axis, o < 13));
    });
    ops.put("LogSoftmax", (a, n, o) -> {
      long axis = a.i("axis", o < 13 ? 1 : -1);
      return in -> Ops.one(logSoftmax(in[0], axis, o < 13));
    });
    ops.put("BatchNormalization", (a, n, o) -> {
      if (a.i("training_mode", 0) != 0 || n.getOutputCount() > 1) {
        throw new IllegalArgumentException("BatchNormalization node " + n.getName()
            + ": only inference mode (one output, training_mode 0) is supported");
      }
      float eps = a.f("epsilon", 1e-5f);
      return in -> Ops.one(batchNorm(in[0], in[1], in[2], in[3], in[4], 1, eps));
    });
    ops.put("InstanceNormalization", (a, n, o) -> {
      float eps = a.f("epsilon", 1e-5f);
      return in -> Ops.one(instanceNorm(in[0], in[1], in[2], eps));
    });
    ops.put("LayerNormalization", (a, n, o) -> {
      long axis = a.i("axis", -1);
      float eps = a.f("epsilon", 1e-5f);
      return in -> Ops.one(layerNorm(in[0], in[1], in.length > 2 ? in[2] : null, axis, eps));
    });
  }

  private static Ops.Op reduce(Attrs a, int opset, boolean mean) {
    return ReduceOps.node(a, mean ? opset >= 18 : opset >= 13, (v, axes, keep) -> reduce(v, axes, keep, mean));
  }

  static Value reduce(Value v, long[] axes, boolean keep, boolean mean) {
    long[] in = v.shapeRef();
    int rank = in.length;
    boolean[] red = ReduceOps.reduced(in, axes);
    long[] kept = new long[rank];
    long count = 1;
    for (int i = 0; i < rank; i++) {
      kept[i] = red[i] ? 1 : in[i];
      count *= red[i] ? in[i] : 1;
    }
    float[] src = v.floats();
    float[] dst = new float[Broadcast.size(kept)];
    boolean lastOnly = rank > 0 && red[rank - 1];
    for (int i = 0; i < rank - 1; i++) {
      lastOnly &= !red[i];
    }
    if (lastOnly) {
      int len = (int) in[rank - 1];
      for (int r = 0; r < dst.length; r++) {
        double s = 0;
        for (int i = 0, o = r * len; i < len; i++) {
          s += src[o + i];
        }
        dst[r] = (float) (mean ? s / len : s);
      }
    } else {
      // walk the input, adding each element into its output slot
      double[] acc = new double[dst.length];
      int[][] st = {Broadcast.strides(kept, in)};
      int step = rank == 0 ? 0 : st[0][rank - 1];
      Broadcast.rows(in, st, (o, oo, len) -> {
        for (int i = 0; i < len; i++) {
          acc[o[0] + i * step] += src[oo + i];
        }
      });
      for (int i = 0; i < dst.length; i++) {
        dst[i] = (float) (mean ? acc[i] / count : acc[i]);
      }
    }
    long[] out = kept;
    if (!keep) {
      int j = 0;
      out = new long[rank];
      for (int i = 0; i < rank; i++) {
        if (!red[i]) {
          out[j++] = in[i];
        }
      }
      out = Arrays.copyOf(out, j);
    }
    return Value.ofFloats(out, dst);
  }

  static Value softmax(Value v, long axis, boolean flattenFromAxis) {
    return rowWise(v, axis, flattenFromAxis, "Softmax", (src, o, cols, dst) -> {
      float max = Float.NEGATIVE_INFINITY;
      for (int i = 0; i < cols; i++) {
        float x = src[o + i];
        max = x > max ? x : max;
      }
      float sum = Kernels.get().expShifted(src, o, cols, max, dst);
      float inv = (float) (1.0 / sum);
      for (int i = 0; i < cols; i++) {
        dst[o + i] *= inv;
      }
    });
  }

  static Value logSoftmax(Value v, long axis, boolean flattenFromAxis) {
    return rowWise(v, axis, flattenFromAxis, "LogSoftmax", (src, o, cols, dst) -> {
      float max = Float.NEGATIVE_INFINITY;
      for (int i = 0; i < cols; i++) {
        max = Math.max(max, src[o + i]);
      }
      double sum = 0;
      for (int i = 0; i < cols; i++) {
        sum += Math.exp(src[o + i] - max);
      }
      float shift = (float) (max + Math.log(sum));
      for (int i = 0; i < cols; i++) {
        dst[o + i] = src[o + i] - shift;
      }
    });
  }

  /** One row of a row-wise operator: {@code cols} values from {@code src[o]} into {@code dst[o]}. */
  private interface RowOp {
    void apply(float[] src, int o, int cols, float[] dst);
  }

  /**
   * {@code op} over the rows the ONNX softmax family defines: from opset 13 the last axis (another
   * axis is moved last and back), before it everything from {@code axis} on flattened into a row.
   */
  private static Value rowWise(Value v, long axis, boolean flattenFromAxis, String what, RowOp op) {
    long[] s = v.shapeRef();
    int ax = InvalidNodeException.axis(what + " axis", axis, s.length);
    if (!flattenFromAxis && ax != s.length - 1) {
      long[] perm = new long[s.length];
      for (int i = 0; i < perm.length; i++) {
        perm[i] = i;
      }
      perm[ax] = s.length - 1;
      perm[s.length - 1] = ax;
      return ShapeOps.transpose(rowWise(ShapeOps.transpose(v, perm), -1, false, what, op), perm);
    }
    int cols = 1;
    for (int i = ax; i < s.length; i++) {
      cols *= (int) s[i];
    }
    float[] src = v.floats();
    float[] dst = new float[src.length];
    int rows = cols == 0 ? 0 : src.length / cols;
    for (int r = 0; r < rows; r++) {
      op.apply(src, r * cols, cols, dst);
    }
    return Value.ofFloats(s, dst);
  }


  /**
   * InstanceNormalization: each (sample, channel) plane of {@code x [N, C, ...]} normalized by its
   * own mean and variance (in double), then {@code scale[C]} and {@code bias[C]}.
   */
  static Value instanceNorm(Value x, Value scale, Value bias, float eps) {
    long[] s = x.shapeRef();
    if (s.length < 3) {
      throw new IllegalArgumentException("InstanceNormalization: input " + Arrays.toString(s) + " has no spatial axes");
    }
    int c = (int) s[1];
    int planes = (int) s[0] * c;
    int area = x.size() / Math.max(planes, 1);
    float[] g = scale.floats();
    float[] b = bias.floats();
    if (g.length != c || b.length != c) {
      throw new IllegalArgumentException("InstanceNormalization: " + g.length + " scales and " + b.length
          + " biases for " + c + " channels");
    }
    float[] src = x.floats();
    float[] dst = new float[src.length];
    for (int p = 0; p < planes; p++) {
      int o = p * area;
      double mean = 0;
      for (int i = 0; i < area; i++) {
        mean += src[o + i];
      }
      mean /= area;
      double var = 0;
      for (int i = 0; i < area; i++) {
        double d = src[o + i] - mean;
        var += d * d;
      }
      double inv = 1 / Math.sqrt(var / area + eps);
      float mul = (float) (g[p % c] * inv);
      float add = (float) (b[p % c] - mean * g[p % c] * inv);
      for (int i = 0; i < area; i++) {
        dst[o + i] = src[o + i] * mul + add;
      }
    }
    return Value.ofFloats(s, dst);
  }

  static Value layerNorm(Value x, Value scale, Value bias, long axis, float eps) {
    long[] s = x.shapeRef();
    int ax = InvalidNodeException.axis("LayerNormalization axis", axis, s.length);
    int cols = 1;
    for (int i = ax; i < s.length; i++) {
      cols *= (int) s[i];
    }
    float[] src = x.floats();
    float[] g = scale.floats();
    float[] b = bias == null ? null : bias.floats();
    if (ax == s.length - 1 && g.length == cols && (b == null || b.length == cols)) {
      return FusedOps.layerNorm(x, scale, bias, eps); // the common case: vector kernels, rows over threads
    }
    float[] dst = new float[src.length];
    for (int r = 0, rows = src.length / Math.max(cols, 1); r < rows; r++) {
      int o = r * cols;
      double mean = 0;
      for (int i = 0; i < cols; i++) {
        mean += src[o + i];
      }
      mean /= cols;
      double var = 0;
      for (int i = 0; i < cols; i++) {
        double d = src[o + i] - mean;
        var += d * d;
      }
      float inv = (float) (1.0 / Math.sqrt(var / cols + eps));
      float m = (float) mean;
      for (int i = 0; i < cols; i++) {
        dst[o + i] = (src[o + i] - m) * inv * g[i % g.length] + (b == null ? 0f : b[i % b.length]);
      }
    }
    return Value.ofFloats(s, dst);
  }

  /**
   * Inference batch normalization: {@code (x - mean) / sqrt(var + eps) * scale + bias} with the
   * four vectors along {@code axis} of {@code x} (ONNX BatchNormalization uses axis 1); a null
   * scale counts as ones and a null bias as zeros.
   */
  static Value batchNorm(Value x, Value scale, Value bias, Value mean, Value var, int axis, float eps) {
    long[] s = x.shapeRef();
    int ax = axis < 0 ? axis + s.length : axis;
    if (ax < 0 || ax >= s.length) {
      throw new IllegalArgumentException("batchNorm: axis " + axis + " outside input " + Arrays.toString(s));
    }
    int ch = (int) s[ax];
    int inner = 1;
    for (int i = ax + 1; i < s.length; i++) {
      inner *= (int) s[i];
    }
    float[] g = scale == null ? null : scale.floats();
    float[] b = bias == null ? null : bias.floats();
    float[] mu = mean.floats();
    float[] v = var.floats();
    for (float[] p : new float[][] {g, b, mu, v}) {
      if (p != null && p.length != ch) {
        throw new IllegalArgumentException("batchNorm: " + p.length + " statistics for " + ch + " channels of input "
            + Arrays.toString(s));
      }
    }
    float[] mul = new float[ch];
    float[] add = new float[ch];
    for (int c = 0; c < ch; c++) {
      mul[c] = (float) ((g == null ? 1.0 : g[c]) / Math.sqrt(v[c] + (double) eps));
      add[c] = (b == null ? 0f : b[c]) - mu[c] * mul[c];
    }
    float[] src = x.floats();
    float[] dst = new float[src.length];
    for (int o = 0, i = 0; i < src.length; o++) {
      int c = o % ch;
      for (int j = 0; j < inner; j++, i++) {
        dst[i] = src[i] * mul[c] + add[c];
      }
    }
    return Value.ofFloats(s, dst);
  }
}
