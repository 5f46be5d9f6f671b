package dev.selfbyt.cortexsdr.djl;

import dev.selfbyt.cortexsdr.core.tensor.DType;
import dev.selfbyt.cortexsdr.djl.graph.Value;
import dev.selfbyt.cortexsdr.djl.graph.ValueOps;
import java.util.Arrays;

/**
 * Picking and placing values by index or mask: {@code booleanMask}, {@code oneHot}, {@code
 * gatherNd} (MXNet's gather_nd, as DJL defines it), {@code take} (linear indices), {@code
 * nonzero}, {@code sequenceMask}, {@code put} and {@code scatter}. Index arrays must be integers;
 * negative indices count from the end; an index outside its axis is an error naming it.
 */
final class Selection {
  private Selection() {}

  /**
   * The entries of {@code data} where {@code mask} is true: {@code mask} covers the axes {@code
   * axis .. axis + mask.rank - 1}, which become one axis of length {@code count(mask)}.
   */
  static Value booleanMask(Value data, Value mask, int axis) {
    int a = data.rank() == 0 ? 0 : Dense.axis(axis, data.rank());
    long[] ds = data.shape();
    long[] ms = mask.shape();
    if (a + ms.length > ds.length || !Arrays.equals(ms, Arrays.copyOfRange(ds, a, a + ms.length))) {
      throw new IllegalArgumentException("booleanMask: mask shape " + Arrays.toString(ms)
          + " does not match data shape " + Arrays.toString(ds) + " from axis " + a);
    }
    long[] m = mask.longs();
    float[] mf = mask.isFloating() ? mask.floats() : null;
    int outer = Dense.outer(ds, a);
    int span = m.length;
    int inner = Dense.size(Arrays.copyOfRange(ds, a + ms.length, ds.length));
    int count = 0;
    for (int j = 0; j < span; j++) {
      count += (mf != null ? mf[j] != 0 : m[j] != 0) ? 1 : 0;
    }
    long[] outShape = new long[a + 1 + ds.length - a - ms.length];
    System.arraycopy(ds, 0, outShape, 0, a);
    outShape[a] = count;
    System.arraycopy(ds, a + ms.length, outShape, a + 1, ds.length - a - ms.length);
    int[] src = new int[outer * count * inner];
    int p = 0;
    for (int o = 0; o < outer; o++) {
      for (int j = 0; j < span; j++) {
        if (mf != null ? mf[j] != 0 : m[j] != 0) {
          for (int i = 0; i < inner; i++) {
            src[p++] = (o * span + j) * inner + i;
          }
        }
      }
    }
    return pick(data, src, outShape);
  }

  /** The values of {@code data} at flat positions {@code src}, laid out over {@code shape}. */
  static Value pick(Value data, int[] src, long[] shape) {
    if (data.isFloating()) {
      float[] f = data.floats();
      float[] r = new float[src.length];
      for (int i = 0; i < r.length; i++) {
        r[i] = f[src[i]];
      }
      return Value.ofFloats(shape, r);
    }
    long[] l = data.longs();
    long[] r = new long[src.length];
    for (int i = 0; i < r.length; i++) {
      r[i] = l[src[i]];
    }
    return Value.ofLongs(data.dtype(), shape, r);
  }

  /**
   * A new last axis of {@code depth}: {@code on} where the index is, {@code off} elsewhere
   * (out-of-range indices give a row of {@code off}; floating indices are truncated, as MXNet's
   * one_hot does).
   */
  static Value oneHot(Value indices, int depth, float on, float off, DType type) {
    if (depth < 0) {
      throw new IllegalArgumentException("oneHot: depth " + depth + " is negative");
    }
    long[] idx = indices.longs();
    long[] shape = Arrays.copyOf(indices.shape(), indices.rank() + 1);
    shape[indices.rank()] = depth;
    double[] out = new double[idx.length * depth];
    Arrays.fill(out, off);
    for (int i = 0; i < idx.length; i++) {
      if (idx[i] >= 0 && idx[i] < depth) {
        out[i * depth + (int) idx[i]] = on;
      }
    }
    Value r = Dense.floats(shape, out);
    return type.isFloating() ? r : ValueOps.cast(r, type);
  }

  /**
   * MXNet's gather_nd: {@code index} is {@code [M, Y...]}, each column a coordinate into the first
   * {@code M} axes of {@code data}; the result is {@code [Y..., data.shape[M:]...]}.
   */
  static Value gatherNd(Value data, Value index) {
    if (index.rank() == 0) {
      throw new IllegalArgumentException("gatherNd: the index must have at least one axis");
    }
    long[] ds = data.shape();
    int depth = (int) index.dim(0);
    if (depth > ds.length) {
      throw new IllegalArgumentException("gatherNd: index depth " + depth + " exceeds the data rank " + ds.length);
    }
    long[] is = index.shape();
    int points = Dense.size(Arrays.copyOfRange(is, 1, is.length));
    int tail = Dense.size(Arrays.copyOfRange(ds, depth, ds.length));
    long[] raw = index.longs();
    if (index.isFloating() || index.dtype() == DType.BOOL) {
      throw new IllegalArgumentException("gatherNd: the index must be integers, got " + index.dtype());
    }
    int[] src = new int[points * tail];
    for (int p = 0; p < points; p++) {
      long flat = 0;
      for (int k = 0; k < depth; k++) {
        long x = raw[k * points + p];
        long bound = ds[k];
        long c = x < 0 ? x + bound : x;
        if (c < 0 || c >= bound) {
          throw new IndexOutOfBoundsException("gatherNd: index " + x + " is outside axis " + k + " of size " + bound);
        }
        flat = flat * bound + c;
      }
      for (int t = 0; t < tail; t++) {
        src[p * tail + t] = (int) (flat * tail + t);
      }
    }
    long[] out = new long[is.length - 1 + ds.length - depth];
    System.arraycopy(is, 1, out, 0, is.length - 1);
    System.arraycopy(ds, depth, out, is.length - 1, ds.length - depth);
    return pick(data, src, out);
  }

  /** The values at linear (flattened) positions {@code index}, in {@code index}'s shape. */
  static Value take(Value data, Value index) {
    long[] l = Dense.indices(index, data.size(), "take: index");
    int[] src = new int[l.length];
    for (int i = 0; i < l.length; i++) {
      src[i] = (int) l[i];
    }
    return pick(data, src, index.shape());
  }

  /** The coordinates of the non-zero entries, {@code [count, rank]} INT64, in row-major order. */
  static Value nonzero(Value v) {
    double[] d = Dense.doubles(v);
    long[] shape = v.shape();
    int rank = shape.length;
    long[] coords = new long[d.length * rank];
    int count = 0;
    for (int i = 0; i < d.length; i++) {
      if (d[i] != 0) {
        long rest = i;
        for (int k = rank - 1; k >= 0; k--) {
          coords[count * rank + k] = rest % shape[k];
          rest /= shape[k];
        }
        count++;
      }
    }
    return Dense.int64(new long[] {count, rank}, Arrays.copyOf(coords, count * rank));
  }

  /** {@code data [batch, steps, ...]} with the steps at or past each row's length set to {@code value}. */
  static Value sequenceMask(Value data, Value lengths, float value) {
    if (data.rank() < 2 || lengths.size() != data.dim(0)) {
      throw new IllegalArgumentException("sequenceMask: data " + Arrays.toString(data.shape())
          + " needs [batch, steps, ...] and one length per batch row, got " + Arrays.toString(lengths.shape()));
    }
    double[] len = Dense.doubles(lengths);
    int steps = (int) data.dim(1);
    int inner = Dense.inner(data.shape(), 1);
    int[] dst = new int[data.size()];
    int n = 0;
    for (int b = 0; b < len.length; b++) {
      for (int s = 0; s < steps; s++) {
        if (s >= len[b]) {
          for (int i = 0; i < inner; i++) {
            dst[n++] = (b * steps + s) * inner + i;
          }
        }
      }
    }
    return Dense.scatter(data, Arrays.copyOf(dst, n), Dense.scalar(data, value), Dense.zeros(n));
  }

  /** A copy of {@code data} with {@code values} written at linear positions {@code index}. */
  static Value put(Value data, Value index, Value values) {
    long[] l = Dense.indices(index, data.size(), "put: index");
    if (values.size() != l.length && values.size() != 1) {
      throw new IllegalArgumentException("put: " + l.length + " positions but " + values.size() + " values");
    }
    int[] dst = new int[l.length];
    for (int i = 0; i < l.length; i++) {
      dst[i] = (int) l[i];
    }
    return Dense.scatter(data, dst, values, values.size() == 1 ? Dense.zeros(l.length) : Dense.iota(l.length));
  }

  /** PyTorch's scatter: a copy of {@code data} where {@code out[.. index[i,j,k] ..] = values[i,j,k]} along {@code axis}. */
  static Value scatter(Value data, Value index, Value values, int axis) {
    int a = Dense.axis(axis, data.rank());
    long[] ds = data.shape();
    long[] is = index.shape();
    if (is.length != ds.length || values.rank() != ds.length) {
      throw new IllegalArgumentException("scatter: index rank " + is.length + " and values rank " + values.rank()
          + " must equal the data rank " + ds.length);
    }
    long[] l = Dense.indices(index, ds[a], "scatter: index");
    long[] vs = values.shape();
    int[] dst = new int[l.length];
    int[] src = new int[l.length];
    int[] pos = new int[is.length];
    for (int i = 0; i < l.length; i++) {
      int rest = i;
      for (int k = is.length - 1; k >= 0; k--) {
        pos[k] = (int) (rest % is[k]);
        rest /= (int) is[k];
      }
      long d = 0;
      long s = 0;
      for (int k = 0; k < is.length; k++) {
        d = d * ds[k] + (k == a ? l[i] : pos[k]);
        s = s * vs[k] + pos[k];
      }
      dst[i] = (int) d;
      src[i] = (int) s;
    }
    return Dense.scatter(data, dst, values, src);
  }
}
