package dev.selfbyt.cortexsdr.djl.graph;

import dev.selfbyt.cortexsdr.core.tensor.DType;
import java.util.Arrays;
import java.util.Map;

/**
 * Reductions that keep an extreme: ReduceMax and ReduceMin over any axes, ArgMax and ArgMin along
 * one (the greedy decoding some recognisers export inside the graph). ReduceMean and ReduceSum
 * live in {@link NormOps}.
 */
final class ReduceOps {
  private ReduceOps() {}

  static void register(Map<String, Ops.Factory> ops) {
    ops.put("ReduceMax", (a, n, o) -> extreme(a, o, true));
    ops.put("ReduceMin", (a, n, o) -> extreme(a, o, false));
    ops.put("ArgMax", (a, n, o) -> arg(a, true));
    ops.put("ArgMin", (a, n, o) -> arg(a, false));
  }

  private static Ops.Op extreme(Attrs a, int opset, boolean max) {
    return node(a, opset >= 18, (v, axes, keep) -> extreme(v, axes, keep, max));
  }

  /** A reduction of one value over axes, keeping them as size 1 or not. */
  interface Reduction {
    Value apply(Value v, long[] axes, boolean keep);
  }

  /**
   * A Reduce* node: its axes from the {@code axes} attribute, or from the second input when {@code
   * axesAsInput} (the operator's later opsets); with no axes and {@code noop_with_empty_axes} it
   * passes its input through.
   */
  static Ops.Op node(Attrs a, boolean axesAsInput, Reduction reduction) {
    long[] attrAxes = a.ints("axes");
    boolean keep = a.i("keepdims", 1) != 0;
    boolean noopEmpty = a.i("noop_with_empty_axes", 0) != 0;
    return in -> {
      long[] axes = axesAsInput ? (in.length > 1 && in[1] != null ? in[1].longs() : null) : attrAxes;
      if ((axes == null || axes.length == 0) && noopEmpty) {
        return Ops.one(in[0]);
      }
      return Ops.one(reduction.apply(in[0], axes, keep));
    };
  }

  /** Which axes of {@code shape} a reduction over {@code axes} reduces: all when null or empty. */
  static boolean[] reduced(long[] shape, long[] axes) {
    boolean[] red = new boolean[shape.length];
    if (axes == null || axes.length == 0) {
      Arrays.fill(red, true);
    } else {
      for (long ax : axes) {
        red[InvalidNodeException.axis("reduction axis", ax, shape.length)] = true;
      }
    }
    return red;
  }

  /** The maximum (or minimum) over {@code axes} (all when null or empty); NaN wins, as in ONNX Runtime. */
  static Value extreme(Value v, long[] axes, boolean keep, boolean max) {
    long[] in = v.shapeRef();
    int rank = in.length;
    boolean[] red = reduced(in, axes);
    long[] kept = new long[rank];
    for (int i = 0; i < rank; i++) {
      kept[i] = red[i] ? 1 : in[i];
    }
    int size = Broadcast.size(kept);
    int[][] st = {Broadcast.strides(kept, in)};
    int step = rank == 0 ? 0 : st[0][rank - 1];
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
    if (v.size() == 0) {
      throw new IllegalArgumentException((max ? "ReduceMax" : "ReduceMin") + " of an empty tensor "
          + Arrays.toString(in));
    }
    if (v.isFloating()) {
      float[] src = v.floats();
      float[] dst = new float[size];
      Arrays.fill(dst, max ? Float.NEGATIVE_INFINITY : Float.POSITIVE_INFINITY);
      Broadcast.rows(in, st, (o, oo, len) -> {
        for (int i = 0; i < len; i++) {
          int d = o[0] + i * step;
          float x = src[oo + i];
          dst[d] = max ? (x > dst[d] || Float.isNaN(x) ? x : dst[d]) : (x < dst[d] || Float.isNaN(x) ? x : dst[d]);
        }
      });
      return Value.ofFloats(out, dst);
    }
    long[] src = v.longs();
    long[] dst = new long[size];
    Arrays.fill(dst, max ? Long.MIN_VALUE : Long.MAX_VALUE);
    Broadcast.rows(in, st, (o, oo, len) -> {
      for (int i = 0; i < len; i++) {
        int d = o[0] + i * step;
        dst[d] = max ? Math.max(dst[d], src[oo + i]) : Math.min(dst[d], src[oo + i]);
      }
    });
    return Value.ofLongs(v.dtype(), out, dst);
  }

  private static Ops.Op arg(Attrs a, boolean max) {
    long axis = a.i("axis", 0);
    boolean keep = a.i("keepdims", 1) != 0;
    boolean last = a.i("select_last_index", 0) != 0;
    return in -> Ops.one(arg(in[0], axis, keep, last, max));
  }

  /** The index (INT64) of the largest (or smallest) value along {@code axis}: the first of ties, or the last. */
  static Value arg(Value v, long axis, boolean keep, boolean lastOfTies, boolean max) {
    long[] s = v.shapeRef();
    int ax = InvalidNodeException.axis(max ? "ArgMax axis" : "ArgMin axis", axis, s.length);
    int len = (int) s[ax];
    if (len == 0) {
      throw new IllegalArgumentException((max ? "ArgMax" : "ArgMin") + " along an empty axis of " + Arrays.toString(s));
    }
    int outer = 1;
    for (int i = 0; i < ax; i++) {
      outer *= (int) s[i];
    }
    int inner = 1;
    for (int i = ax + 1; i < s.length; i++) {
      inner *= (int) s[i];
    }
    float[] src = v.floats();
    long[] dst = new long[outer * inner];
    for (int o = 0; o < outer; o++) {
      for (int i = 0; i < inner; i++) {
        int base = o * len * inner + i;
        int best = 0;
        float bv = src[base];
        for (int k = 1; k < len; k++) {
          float x = src[base + k * inner];
          boolean better = max ? x > bv : x < bv;
          if (better || (lastOfTies && x == bv)) {
            best = k;
            bv = x;
          }
        }
        dst[o * inner + i] = best;
      }
    }
    long[] out;
    if (keep) {
      out = s.clone();
      out[ax] = 1;
    } else {
      out = new long[s.length - 1];
      for (int i = 0, j = 0; i < s.length; i++) {
        if (i != ax) {
          out[j++] = s[i];
        }
      }
    }
    return Value.ofLongs(DType.INT64, out, dst);
  }
}
