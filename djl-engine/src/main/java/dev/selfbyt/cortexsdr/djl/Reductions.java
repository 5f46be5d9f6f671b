package dev.selfbyt.cortexsdr.djl;

import dev.selfbyt.cortexsdr.core.tensor.DType;
import dev.selfbyt.cortexsdr.djl.graph.Value;

/**
 * Reductions of {@link CaiNDArray}s along any set of axes (negative axes count from the end,
 * {@code keepDims} keeps them as size 1): max, min, prod and sum, argMax/argMin, the p-norm and
 * the cumulative sum and product. Floating values accumulate in double and are rounded once;
 * integer values stay integers (a boolean sum or product counts as INT64, as PyTorch does). A max,
 * min or arg reduction over an empty axis is an error, as in PyTorch; NaN wins max and min.
 */
final class Reductions {
  private Reductions() {}

  enum Kind {
    SUM, PROD, MAX, MIN
  }

  static Value reduce(Value v, int[] axes, boolean keepDims, Kind kind) {
    int[] ax = Dense.axes(axes, v.rank());
    long[] shape = v.shape();
    boolean floating = v.isFloating();
    DType outType = !floating && v.dtype() == DType.BOOL && (kind == Kind.SUM || kind == Kind.PROD)
        ? DType.INT64 : v.dtype();
    double[] d = floating ? Dense.doubles(v) : null;
    long[] l = floating ? null : v.longs();
    for (int a : ax) {
      int n = (int) shape[a];
      if (n == 0 && (kind == Kind.MAX || kind == Kind.MIN)) {
        throw new IllegalArgumentException(kind.name().toLowerCase() + " over axis " + a
            + " of size 0 has no value (shape " + java.util.Arrays.toString(v.shape()) + ")");
      }
      int outer = Dense.outer(shape, a);
      int inner = Dense.inner(shape, a);
      if (floating) {
        double[] r = new double[outer * inner];
        for (int o = 0; o < outer; o++) {
          for (int i = 0; i < inner; i++) {
            double acc = kind == Kind.PROD ? 1 : kind == Kind.SUM ? 0 : d[o * n * inner + i];
            for (int j = 0; j < n; j++) {
              acc = combine(kind, acc, d[(o * n + j) * inner + i]);
            }
            r[o * inner + i] = acc;
          }
        }
        d = r;
      } else {
        long[] r = new long[outer * inner];
        for (int o = 0; o < outer; o++) {
          for (int i = 0; i < inner; i++) {
            long acc = kind == Kind.PROD ? 1 : kind == Kind.SUM ? 0 : l[o * n * inner + i];
            for (int j = 0; j < n; j++) {
              long x = l[(o * n + j) * inner + i];
              acc = switch (kind) {
                case SUM -> acc + x;
                case PROD -> acc * x;
                case MAX -> Math.max(acc, x);
                case MIN -> Math.min(acc, x);
              };
            }
            r[o * inner + i] = acc;
          }
        }
        l = r;
      }
      shape[a] = 1;
    }
    long[] out = keepDims ? shape : dropAxes(shape, ax);
    return floating ? Dense.floats(out, d) : Value.ofLongs(outType, out, l);
  }

  private static double combine(Kind kind, double acc, double x) {
    return switch (kind) {
      case SUM -> acc + x;
      case PROD -> acc * x;
      case MAX -> x > acc || Double.isNaN(x) ? x : acc;
      case MIN -> x < acc || Double.isNaN(x) ? x : acc;
    };
  }

  private static long[] dropAxes(long[] shape, int[] axes) {
    long[] out = new long[shape.length - axes.length];
    for (int i = 0, j = 0, k = 0; i < shape.length; i++) {
      if (k < axes.length && axes[k] == i) {
        k++;
      } else {
        out[j++] = shape[i];
      }
    }
    return out;
  }

  /**
   * The index (INT64) of the first largest ({@code max}) or smallest value along {@code axis}, the
   * axis removed; over the flattened array, a scalar, when {@code axis} is null. A NaN counts as
   * the extreme value.
   */
  static Value arg(Value v, Integer axis, boolean max) {
    long[] shape = axis == null ? new long[] {v.size()} : v.shape();
    int a = axis == null ? 0 : Dense.axis(axis, v.rank());
    int n = (int) shape[a];
    if (n == 0) {
      throw new IllegalArgumentException((max ? "argMax" : "argMin") + " of an empty axis has no value");
    }
    int outer = Dense.outer(shape, a);
    int inner = Dense.inner(shape, a);
    double[] d = v.isFloating() ? Dense.doubles(v) : null;
    long[] l = v.isFloating() ? null : v.longs(); // integers compare as integers: exact beyond 2^53
    long[] r = new long[outer * inner];
    for (int o = 0; o < outer; o++) {
      for (int i = 0; i < inner; i++) {
        int best = 0;
        int first = o * n * inner + i;
        double bv = d != null ? d[first] : 0;
        long bl = l != null ? l[first] : 0;
        for (int j = 1; j < n && !Double.isNaN(bv); j++) {
          int k = (o * n + j) * inner + i;
          boolean better;
          if (l != null) {
            better = max ? l[k] > bl : l[k] < bl;
          } else {
            better = Double.isNaN(d[k]) || (max ? d[k] > bv : d[k] < bv);
          }
          if (better) {
            best = j;
            if (l != null) {
              bl = l[k];
            } else {
              bv = d[k];
            }
          }
        }
        r[o * inner + i] = best;
      }
    }
    return Dense.int64(axis == null ? new long[0] : Dense.withAxis(shape, a, -1), r);
  }

  /**
   * The p-norm {@code (sum |x|^ord)^(1/ord)} over {@code axes} (all when null), as PyTorch's {@code
   * torch.norm(x, p, dim)}: two axes give the Frobenius norm for {@code ord} 2; {@code ord} 0
   * counts the non-zero values. Always floating.
   */
  static Value norm(Value v, int ord, int[] axes, boolean keepDims) {
    double[] d = Dense.doubles(v);
    double[] p = new double[d.length];
    for (int i = 0; i < d.length; i++) {
      double x = Math.abs(d[i]);
      p[i] = ord == 0 ? (x != 0 ? 1 : 0) : ord == 1 ? x : ord == 2 ? x * x : Math.pow(x, ord);
    }
    int[] ax = Dense.axes(axes, v.rank());
    double[] sums = sumInDouble(p, v.shape(), ax);
    long[] outShape = keepDims ? keptShape(v.shape(), ax) : dropAxes(v.shape(), ax);
    for (int i = 0; i < sums.length; i++) {
      sums[i] = ord == 0 || ord == 1 ? sums[i] : ord == 2 ? Math.sqrt(sums[i]) : Math.pow(sums[i], 1.0 / ord);
    }
    return Dense.floats(outShape, sums);
  }

  private static long[] keptShape(long[] shape, int[] axes) {
    long[] s = shape.clone();
    for (int a : axes) {
      s[a] = 1;
    }
    return s;
  }

  /** Sums of {@code d} (row-major over {@code shape}) over {@code axes}, in double, axes kept as 1. */
  private static double[] sumInDouble(double[] d, long[] shape, int[] axes) {
    long[] s = shape.clone();
    for (int a : axes) {
      int n = (int) s[a];
      int outer = Dense.outer(s, a);
      int inner = Dense.inner(s, a);
      double[] r = new double[outer * inner];
      for (int o = 0; o < outer; o++) {
        for (int j = 0; j < n; j++) {
          int base = (o * n + j) * inner;
          for (int i = 0; i < inner; i++) {
            r[o * inner + i] += d[base + i];
          }
        }
      }
      d = r;
      s[a] = 1;
    }
    return d;
  }

  /**
   * The running sum or product along {@code axis}; over the flattened array (1-D result) when
   * {@code axis} is null. Integers stay integers (booleans count as INT64).
   */
  static Value cumulate(Value v, Integer axis, boolean product) {
    long[] shape = axis == null ? new long[] {v.size()} : v.shape();
    int a = axis == null ? 0 : Dense.axis(axis, v.rank());
    int n = (int) shape[a];
    int outer = Dense.outer(shape, a);
    int inner = Dense.inner(shape, a);
    if (v.isFloating()) {
      double[] d = Dense.doubles(v);
      for (int o = 0; o < outer; o++) {
        for (int i = 0; i < inner; i++) {
          double acc = product ? 1 : 0;
          for (int j = 0; j < n; j++) {
            int k = (o * n + j) * inner + i;
            acc = product ? acc * d[k] : acc + d[k];
            d[k] = acc;
          }
        }
      }
      return Dense.floats(shape, d);
    }
    long[] l = v.longs().clone();
    for (int o = 0; o < outer; o++) {
      for (int i = 0; i < inner; i++) {
        long acc = product ? 1 : 0;
        for (int j = 0; j < n; j++) {
          int k = (o * n + j) * inner + i;
          acc = product ? acc * l[k] : acc + l[k];
          l[k] = acc;
        }
      }
    }
    return Value.ofLongs(v.dtype() == DType.BOOL ? DType.INT64 : v.dtype(), shape, l);
  }
}
