package dev.selfbyt.cortexsdr.djl;

import dev.selfbyt.cortexsdr.djl.graph.Value;
import java.util.Arrays;

/**
 * Operators that move values without changing them: {@code repeat} (each element repeated along
 * an axis, PyTorch's repeat_interleave), {@code tile} (the whole array repeated, numpy's tile),
 * {@code flip} and {@code flatten}. Each output position reads one input position, so every data
 * type is copied exactly.
 */
final class Layout {
  private Layout() {}

  /** Which input coordinate along {@code axis} an output coordinate reads. */
  private interface SourceCoordinate {
    long of(int axis, long outCoordinate);
  }

  private static Value remap(Value v, long[] outShape, SourceCoordinate source) {
    long[] in = v.shape();
    int rank = outShape.length;
    int n = Dense.size(outShape);
    int[] src = new int[n];
    long[] coord = new long[rank];
    for (int i = 0; i < n; i++) {
      long flat = 0;
      for (int k = 0; k < rank; k++) {
        flat = flat * in[k] + source.of(k, coord[k]);
      }
      src[i] = (int) flat;
      for (int k = rank - 1; k >= 0; k--) {
        if (++coord[k] < outShape[k]) {
          break;
        }
        coord[k] = 0;
      }
    }
    return Selection.pick(v, src, outShape);
  }

  /** Each element repeated {@code repeats[k]} times along axis {@code k}, for the first {@code repeats.length} axes. */
  static Value repeat(Value v, long[] repeats) {
    if (v.rank() == 0) {
      return repeat(withShape(v, new long[] {1}), repeats);
    }
    if (repeats.length > v.rank()) {
      throw new IllegalArgumentException("repeat: " + repeats.length + " repeat counts for an array of "
          + v.rank() + " dimensions");
    }
    long[] out = v.shape();
    for (int k = 0; k < repeats.length; k++) {
      if (repeats[k] < 0) {
        throw new IllegalArgumentException("repeat: negative count " + repeats[k]);
      }
      out[k] *= repeats[k];
    }
    return remap(v, out, (k, c) -> k < repeats.length ? c / repeats[k] : c);
  }

  /** Each element repeated {@code repeats} times along {@code axis}. */
  static Value repeat(Value v, int axis, long repeats) {
    int a = Dense.axis(axis, Math.max(v.rank(), 1));
    long[] r = new long[a + 1];
    Arrays.fill(r, 1);
    r[a] = repeats;
    return repeat(v, r);
  }

  /** numpy's tile: the array repeated {@code reps[k]} times along each axis (shapes aligned at the end). */
  static Value tile(Value v, long[] reps) {
    int rank = Math.max(v.rank(), reps.length);
    long[] in = new long[rank];
    long[] r = new long[rank];
    Arrays.fill(in, 1);
    Arrays.fill(r, 1);
    System.arraycopy(v.shape(), 0, in, rank - v.rank(), v.rank());
    System.arraycopy(reps, 0, r, rank - reps.length, reps.length);
    long[] out = new long[rank];
    for (int k = 0; k < rank; k++) {
      if (r[k] < 0) {
        throw new IllegalArgumentException("tile: negative count " + r[k]);
      }
      out[k] = in[k] * r[k];
    }
    return remap(withShape(v, in), out, (k, c) -> c % in[k]);
  }

  /** Repeat counts that turn {@code shape} into {@code desired} (aligned at the last axis). */
  static long[] countsFor(long[] shape, long[] desired, String op) {
    long[] r = new long[desired.length];
    for (int k = 0; k < desired.length; k++) {
      int ax = shape.length - desired.length + k;
      long have = ax >= 0 ? shape[ax] : 1;
      if (have == 0 || desired[k] % have != 0) {
        throw new IllegalArgumentException(op + ": shape " + Arrays.toString(desired) + " is not a whole multiple of "
            + Arrays.toString(shape));
      }
      r[k] = desired[k] / have;
    }
    return r;
  }

  /** The elements in reverse order along each of {@code axes}. */
  static Value flip(Value v, int[] axes) {
    int[] ax = Dense.axes(axes, v.rank());
    boolean[] flipped = new boolean[v.rank()];
    for (int a : ax) {
      flipped[a] = true;
    }
    long[] shape = v.shape();
    return remap(v, shape, (k, c) -> flipped[k] ? shape[k] - 1 - c : c);
  }

  /** Axes {@code start .. end} (inclusive, negative from the end) merged into one. */
  static long[] flattenedShape(long[] shape, int start, int end) {
    int rank = Math.max(shape.length, 1);
    int s = Dense.axis(start, rank);
    int e = Dense.axis(end, rank);
    if (shape.length == 0) {
      return new long[] {1};
    }
    if (e < s) {
      throw new IllegalArgumentException("flatten: end axis " + end + " comes before start axis " + start);
    }
    long[] out = new long[shape.length - (e - s)];
    System.arraycopy(shape, 0, out, 0, s);
    long merged = 1;
    for (int k = s; k <= e; k++) {
      merged *= shape[k];
    }
    out[s] = merged;
    System.arraycopy(shape, e + 1, out, s + 1, shape.length - e - 1);
    return out;
  }

  static Value withShape(Value v, long[] shape) {
    return dev.selfbyt.cortexsdr.djl.graph.ValueOps.reshape(v, shape);
  }

  /**
   * PyTorch's constant pad: {@code padding} holds (before, after) pairs for the last axis first,
   * then the one before it, ...; new positions hold {@code value}.
   */
  static Value pad(Value v, long[] padding, double value) {
    if (padding.length % 2 != 0 || padding.length / 2 > v.rank()) {
      throw new IllegalArgumentException("pad: " + Arrays.toString(padding) + " must hold (before, after) pairs for at"
          + " most " + v.rank() + " axes");
    }
    long[] in = v.shape();
    long[] before = new long[in.length];
    long[] out = in.clone();
    for (int p = 0; p < padding.length / 2; p++) {
      int axis = in.length - 1 - p;
      before[axis] = padding[2 * p];
      out[axis] = in[axis] + padding[2 * p] + padding[2 * p + 1];
      if (out[axis] < 0 || padding[2 * p] < 0 || padding[2 * p + 1] < 0) {
        throw new IllegalArgumentException("pad: negative padding " + Arrays.toString(padding));
      }
    }
    // a full array of the pad value, the input written into its middle (exact for every type)
    int n = Dense.size(out);
    Value base = v.isFloating() ? Value.ofFloats(out, filled(n, (float) value))
        : Value.ofLongs(v.dtype(), out, filledLongs(n, (long) value));
    int[] dst = new int[v.size()];
    long[] coord = new long[in.length];
    for (int i = 0; i < dst.length; i++) {
      long flat = 0;
      for (int k = 0; k < in.length; k++) {
        flat = flat * out[k] + coord[k] + before[k];
      }
      dst[i] = (int) flat;
      for (int k = in.length - 1; k >= 0; k--) {
        if (++coord[k] < in[k]) {
          break;
        }
        coord[k] = 0;
      }
    }
    return Dense.scatter(base, dst, v, Dense.iota(dst.length));
  }

  private static float[] filled(int n, float x) {
    float[] f = new float[n];
    Arrays.fill(f, x);
    return f;
  }

  private static long[] filledLongs(int n, long x) {
    long[] l = new long[n];
    Arrays.fill(l, x);
    return l;
  }
}
