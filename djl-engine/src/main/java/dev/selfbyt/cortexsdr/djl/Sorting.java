package dev.selfbyt.cortexsdr.djl;

import dev.selfbyt.cortexsdr.djl.graph.Value;
import java.util.Arrays;

/**
 * Sorting along one axis: {@code sort}, {@code argSort} (INT64 indices) and {@code topK} (the k
 * largest or smallest values and their indices). Sorts are stable, so equal values keep their
 * order, and NaN sorts after every number (last ascending, first descending), as in PyTorch.
 * Integer arrays compare as integers.
 */
final class Sorting {
  private Sorting() {}

  /** Stable order of one fiber's positions. */
  private static Integer[] order(double[] d, long[] l, int base, int stride, int n, boolean ascending) {
    Integer[] idx = new Integer[n];
    for (int j = 0; j < n; j++) {
      idx[j] = j;
    }
    Arrays.sort(idx, (x, y) -> {
      int c = l != null ? Long.compare(l[base + x * stride], l[base + y * stride])
          : compare(d[base + x * stride], d[base + y * stride]);
      return ascending ? c : -c;
    });
    return idx;
  }

  /** Numeric order with NaN above everything and -0.0 equal to 0.0. */
  private static int compare(double a, double b) {
    boolean na = Double.isNaN(a);
    boolean nb = Double.isNaN(b);
    if (na || nb) {
      return na == nb ? 0 : na ? 1 : -1;
    }
    return a < b ? -1 : a > b ? 1 : 0;
  }

  /** The sorted values ({@code indices false}) or the INT64 positions that sort the axis. */
  static Value sort(Value v, int axis, boolean ascending, boolean indices) {
    return top(v, -1, axis, ascending, indices);
  }

  /** {@code [values, indices]} of the {@code k} largest (or smallest) along {@code axis}, best first. */
  static Value[] topK(Value v, int k, int axis, boolean largest) {
    int a = Dense.axis(axis, v.rank());
    if (k < 0 || k > v.dim(a)) {
      throw new IllegalArgumentException("topK: k = " + k + " is outside [0, " + v.dim(a) + "] for axis " + axis);
    }
    return new Value[] {top(v, k, axis, !largest, false), top(v, k, axis, !largest, true)};
  }

  /** The first {@code k} (all when negative) of each fiber along {@code axis} in sorted order. */
  private static Value top(Value v, int k, int axis, boolean ascending, boolean indices) {
    if (v.rank() == 0) {
      return indices ? Dense.int64(new long[0], new long[1]) : v;
    }
    int a = Dense.axis(axis, v.rank());
    long[] shape = v.shape();
    int n = (int) shape[a];
    int kept = k < 0 ? n : k;
    int outer = Dense.outer(shape, a);
    int inner = Dense.inner(shape, a);
    boolean floating = v.isFloating();
    double[] d = floating ? Dense.doubles(v) : null;
    long[] l = floating ? null : v.longs();
    long[] outShape = Dense.withAxis(shape, a, kept);
    int size = outer * kept * inner;
    long[] outIdx = new long[size];
    double[] outD = floating ? new double[size] : null;
    long[] outL = floating ? null : new long[size];
    for (int o = 0; o < outer; o++) {
      for (int i = 0; i < inner; i++) {
        int base = o * n * inner + i;
        Integer[] idx = order(d, l, base, inner, n, ascending);
        for (int j = 0; j < kept; j++) {
          int dst = (o * kept + j) * inner + i;
          int src = base + idx[j] * inner;
          outIdx[dst] = idx[j];
          if (floating) {
            outD[dst] = d[src];
          } else {
            outL[dst] = l[src];
          }
        }
      }
    }
    if (indices) {
      return Dense.int64(outShape, outIdx);
    }
    return floating ? Dense.floats(outShape, outD) : Value.ofLongs(v.dtype(), outShape, outL);
  }
}
