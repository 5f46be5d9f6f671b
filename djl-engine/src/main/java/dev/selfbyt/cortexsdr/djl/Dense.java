package dev.selfbyt.cortexsdr.djl;

import dev.selfbyt.cortexsdr.core.tensor.DType;
import dev.selfbyt.cortexsdr.djl.graph.Value;
import java.util.Arrays;

/**
 * Small shared pieces of the NDArray operator families ({@link Reductions}, {@link Sorting},
 * {@link Selection}, {@link ElementWise}, {@link Layout}): axis checks, row-major layouts, and
 * building a result of the input's type. Values are read as doubles or longs so every family
 * computes in at least the input's precision.
 */
final class Dense {
  private Dense() {}

  /** {@code axis} (negative counts from the end) as an index into a shape of {@code rank} axes. */
  static int axis(int axis, int rank) {
    int a = axis < 0 ? axis + rank : axis;
    if (a < 0 || a >= Math.max(rank, 1)) {
      throw new IllegalArgumentException("axis " + axis + " is outside an array of " + rank + " dimensions");
    }
    return a;
  }

  /** The distinct axes, normalized and sorted; all axes when {@code axes} is null. */
  static int[] axes(int[] axes, int rank) {
    if (axes == null) {
      int[] all = new int[rank];
      for (int i = 0; i < rank; i++) {
        all[i] = i;
      }
      return all;
    }
    int[] a = new int[axes.length];
    for (int i = 0; i < a.length; i++) {
      a[i] = axis(axes[i], rank);
    }
    Arrays.sort(a);
    for (int i = 1; i < a.length; i++) {
      if (a[i] == a[i - 1]) {
        throw new IllegalArgumentException("axis " + a[i] + " is given twice in " + Arrays.toString(axes));
      }
    }
    return a;
  }

  /** Product of the dimensions before {@code axis}. */
  static int outer(long[] shape, int axis) {
    long n = 1;
    for (int i = 0; i < axis; i++) {
      n *= shape[i];
    }
    return Math.toIntExact(n);
  }

  /** Product of the dimensions after {@code axis}. */
  static int inner(long[] shape, int axis) {
    long n = 1;
    for (int i = axis + 1; i < shape.length; i++) {
      n *= shape[i];
    }
    return Math.toIntExact(n);
  }

  static int size(long[] shape) {
    long n = 1;
    for (long d : shape) {
      n *= d;
    }
    return Math.toIntExact(n);
  }

  /** The values as doubles (a float array widened, integers converted). */
  static double[] doubles(Value v) {
    double[] d = new double[v.size()];
    if (v.isFloating()) {
      float[] f = v.floats();
      for (int i = 0; i < d.length; i++) {
        d[i] = f[i];
      }
    } else {
      long[] l = v.longs();
      for (int i = 0; i < d.length; i++) {
        d[i] = l[i];
      }
    }
    return d;
  }

  /** Float32 values from doubles, rounded once. */
  static Value floats(long[] shape, double[] d) {
    float[] f = new float[d.length];
    for (int i = 0; i < d.length; i++) {
      f[i] = (float) d[i];
    }
    return Value.ofFloats(shape, f);
  }

  /** A result of {@code like}'s type: floats for a floating input, else {@code like}'s integer type. */
  static Value sameType(Value like, long[] shape, double[] d) {
    if (like.isFloating()) {
      return floats(shape, d);
    }
    long[] l = new long[d.length];
    for (int i = 0; i < d.length; i++) {
      l[i] = (long) d[i];
    }
    return Value.ofLongs(like.dtype(), shape, l);
  }

  static Value int64(long[] shape, long[] values) {
    return Value.ofLongs(DType.INT64, shape, values);
  }

  static Value bools(long[] shape, boolean[] b) {
    long[] l = new long[b.length];
    for (int i = 0; i < b.length; i++) {
      l[i] = b[i] ? 1 : 0;
    }
    return Value.ofLongs(DType.BOOL, shape, l);
  }

  /** {@code shape} with {@code axis} set to {@code size}, or removed when {@code size < 0}. */
  static long[] withAxis(long[] shape, int axis, long size) {
    if (size >= 0) {
      long[] s = shape.clone();
      s[axis] = size;
      return s;
    }
    long[] s = new long[shape.length - 1];
    for (int i = 0, j = 0; i < shape.length; i++) {
      if (i != axis) {
        s[j++] = shape[i];
      }
    }
    return s;
  }

  /** The values of an index array (integer type required), negative entries counted from {@code bound}. */
  static long[] indices(Value idx, long bound, String what) {
    if (idx.isFloating() || idx.dtype() == DType.BOOL) {
      throw new IllegalArgumentException(what + " must be an integer array, got " + idx.dtype());
    }
    long[] l = idx.longs().clone();
    for (int i = 0; i < l.length; i++) {
      long x = l[i] < 0 ? l[i] + bound : l[i];
      if (x < 0 || x >= bound) {
        throw new IndexOutOfBoundsException(what + " " + l[i] + " is outside [" + -bound + ", " + bound + ")");
      }
      l[i] = x;
    }
    return l;
  }

  /**
   * A copy of {@code base} with {@code base[dst[i]] = src[srcAt[i]]}, in {@code base}'s type: floats
   * copied as floats, integers as longs (no detour through double, so INT64 values stay exact).
   */
  static Value scatter(Value base, int[] dst, Value src, int[] srcAt) {
    if (base.isFloating()) {
      float[] to = base.floats().clone();
      float[] from = src.floats();
      for (int i = 0; i < dst.length; i++) {
        to[dst[i]] = from[srcAt[i]];
      }
      return Value.ofFloats(base.shape(), to);
    }
    long[] to = base.longs().clone();
    long[] from = src.longs();
    for (int i = 0; i < dst.length; i++) {
      to[dst[i]] = from[srcAt[i]];
    }
    return Value.ofLongs(base.dtype(), base.shape(), to);
  }

  /** A scalar {@code x} of {@code like}'s type. */
  static Value scalar(Value like, double x) {
    return like.isFloating() ? Value.ofFloats(new long[0], new float[] {(float) x})
        : Value.ofLongs(like.dtype(), new long[0], new long[] {(long) x});
  }

  /** {@code n} positions all reading position 0 (a scalar source). */
  static int[] zeros(int n) {
    return new int[n];
  }

  static int[] iota(int n) {
    int[] r = new int[n];
    for (int i = 0; i < n; i++) {
      r[i] = i;
    }
    return r;
  }
}
