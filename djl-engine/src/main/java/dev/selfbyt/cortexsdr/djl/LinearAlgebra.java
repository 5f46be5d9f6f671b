package dev.selfbyt.cortexsdr.djl;

import dev.selfbyt.cortexsdr.djl.graph.Value;
import dev.selfbyt.cortexsdr.djl.graph.ValueOps;
import java.util.Arrays;

/**
 * Matrix operators over the last two axes (or two chosen axes): {@code diagonal}, {@code trace},
 * {@code inverse} (Gauss-Jordan elimination with partial pivoting in double; a singular matrix is
 * an error), {@code rotate90} (numpy's rot90) and {@code diff}; all in double, float32 out.
 */
final class LinearAlgebra {
  private LinearAlgebra() {}

  /** The {@code offset} diagonal of the planes spanned by {@code axis1} and {@code axis2}, as a new last axis (numpy's diagonal). */
  static Value diagonal(Value v, int offset, int axis1, int axis2) {
    int rank = v.rank();
    int a1 = Dense.axis(axis1, rank);
    int a2 = Dense.axis(axis2, rank);
    if (a1 == a2) {
      throw new IllegalArgumentException("diagonal: axis1 and axis2 are both " + a1);
    }
    long[] shape = v.shape();
    long n1 = shape[a1];
    long n2 = shape[a2];
    long len = Math.max(0, offset >= 0 ? Math.min(n1, n2 - offset) : Math.min(n1 + offset, n2));
    long[] rest = new long[rank - 2];
    int[] restAxes = new int[rank - 2];
    for (int k = 0, j = 0; k < rank; k++) {
      if (k != a1 && k != a2) {
        restAxes[j] = k;
        rest[j++] = shape[k];
      }
    }
    long[] out = Arrays.copyOf(rest, rank - 1);
    out[rank - 2] = len;
    double[] d = Dense.doubles(v);
    double[] r = new double[Dense.size(out)];
    int i = 0;
    for (int[] c : coordinates(rest)) {
      for (long t = 0; t < len; t++) {
        long[] full = new long[rank];
        for (int j = 0; j < c.length; j++) {
          full[restAxes[j]] = c[j];
        }
        full[a1] = offset >= 0 ? t : t - offset;
        full[a2] = offset >= 0 ? t + offset : t;
        long flat = 0;
        for (int k = 0; k < rank; k++) {
          flat = flat * shape[k] + full[k];
        }
        r[i++] = d[(int) flat];
      }
    }
    return Dense.sameType(v, out, r);
  }

  private static java.util.List<int[]> coordinates(long[] shape) {
    java.util.List<int[]> out = new java.util.ArrayList<>();
    int n = Dense.size(shape);
    int[] c = new int[shape.length];
    for (int i = 0; i < n; i++) {
      out.add(c.clone());
      for (int k = shape.length - 1; k >= 0; k--) {
        if (++c[k] < shape[k]) {
          break;
        }
        c[k] = 0;
      }
    }
    return out;
  }

  /** The sum of {@link #diagonal}. */
  static Value trace(Value v, int offset, int axis1, int axis2) {
    return Reductions.reduce(diagonal(v, offset, axis1, axis2), new int[] {-1}, false, Reductions.Kind.SUM);
  }

  /** The inverse of each {@code [n, n]} matrix in the last two axes. */
  static Value inverse(Value v) {
    if (v.rank() < 2 || v.dim(-1) != v.dim(-2)) {
      throw new IllegalArgumentException("inverse needs square matrices in the last two axes, got "
          + Arrays.toString(v.shape()));
    }
    int n = (int) v.dim(-1);
    double[] d = Dense.doubles(v);
    double[] out = new double[d.length];
    for (int base = 0; base < d.length; base += n * n) {
      double[][] a = new double[n][2 * n];
      for (int r = 0; r < n; r++) {
        for (int c = 0; c < n; c++) {
          a[r][c] = d[base + r * n + c];
        }
        a[r][n + r] = 1;
      }
      for (int col = 0; col < n; col++) {
        int pivot = col;
        for (int r = col + 1; r < n; r++) {
          if (Math.abs(a[r][col]) > Math.abs(a[pivot][col])) {
            pivot = r;
          }
        }
        if (a[pivot][col] == 0) {
          throw new ArithmeticException("inverse: matrix " + base / (n * n) + " is singular");
        }
        double[] t = a[col];
        a[col] = a[pivot];
        a[pivot] = t;
        double p = a[col][col];
        for (int c = 0; c < 2 * n; c++) {
          a[col][c] /= p;
        }
        for (int r = 0; r < n; r++) {
          if (r != col && a[r][col] != 0) {
            double f = a[r][col];
            for (int c = 0; c < 2 * n; c++) {
              a[r][c] -= f * a[col][c];
            }
          }
        }
      }
      for (int r = 0; r < n; r++) {
        for (int c = 0; c < n; c++) {
          out[base + r * n + c] = a[r][n + c];
        }
      }
    }
    return Dense.floats(v.shape(), out);
  }

  /** numpy's rot90: {@code times} quarter turns from {@code axes[0]} towards {@code axes[1]}. */
  static Value rotate90(Value v, int times, int[] axes) {
    if (axes.length != 2) {
      throw new IllegalArgumentException("rotate90 needs two axes, got " + Arrays.toString(axes));
    }
    int a0 = Dense.axis(axes[0], v.rank());
    int a1 = Dense.axis(axes[1], v.rank());
    long[] perm = new long[v.rank()];
    for (int i = 0; i < perm.length; i++) {
      perm[i] = i;
    }
    perm[a0] = a1;
    perm[a1] = a0;
    return switch (Math.floorMod(times, 4)) {
      case 0 -> v;
      case 1 -> ValueOps.transpose(Layout.flip(v, new int[] {a1}), perm);
      case 2 -> Layout.flip(v, new int[] {a0, a1});
      default -> Layout.flip(ValueOps.transpose(v, perm), new int[] {a1});
    };
  }

  /** The {@code n}-th forward difference along {@code axis}: the axis shrinks by {@code n}. */
  static Value diff(Value v, int n, int axis) {
    int a = Dense.axis(axis, v.rank());
    Value cur = v;
    for (int step = 0; step < n; step++) {
      long len = cur.dim(a);
      if (len == 0) {
        break;
      }
      long[] all = new long[] {a};
      Value hi = ValueOps.slice(cur, new long[] {1}, new long[] {len}, all, null);
      Value lo = ValueOps.slice(cur, new long[] {0}, new long[] {len - 1}, all, null);
      cur = ValueOps.binary(ValueOps.Binary.SUB, hi, lo);
    }
    return cur;
  }
}
