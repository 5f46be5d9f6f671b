package dev.selfbyt.cortexsdr.core.calibrate;

/** The dense linear algebra GPTQ needs, in double precision, row-major. */
final class Linalg {
  private Linalg() {}

  /** Rows of the upper factor {@link #cholesky} finishes together (each finished row above is read once for them). */
  private static final int CHOLESKY_ROWS = 64;

  /** Columns of a tile of {@link #cholesky}'s block: 64 rows of 256 doubles stay in L2. */
  private static final int CHOLESKY_COLUMNS = 256;

  /**
   * Lower Cholesky factor L of a symmetric positive definite {@code a} (k x k): a = L L^T, read
   * from {@code a}'s upper triangle. It is computed as its transpose R = L^T, row by row: row j of
   * R is row j of {@code a} less {@code R[p][j]} times each row p above it, divided by the root of
   * its pivot, so every inner loop is a multiply-subtract along rows at the same column index,
   * which the JIT vectorizes (the dot products of the column-by-column form it does not). The rows
   * go in blocks of {@value #CHOLESKY_ROWS}, as in {@link #invertLower}: the rows above a block are
   * read once for all of its rows, four at a time and a tile of columns at a time, while the tile
   * is in L2; each element still receives its terms in the same order.
   */
  static double[] cholesky(double[] a, int k) {
    double[][] r = new double[k][]; // row j of R, whole; its columns from j on are the factor's
    for (int j0 = 0; j0 < k; j0 += CHOLESKY_ROWS) {
      int j1 = Math.min(k, j0 + CHOLESKY_ROWS);
      for (int j = j0; j < j1; j++) {
        r[j] = java.util.Arrays.copyOfRange(a, j * k, j * k + k);
      }
      for (int c0 = j0; c0 < k; c0 += CHOLESKY_COLUMNS) {
        int c1 = Math.min(k, c0 + CHOLESKY_COLUMNS);
        int p = 0;
        for (; p + 3 < j0; p += 4) {
          for (int j = j0; j < Math.min(j1, c1); j++) {
            subtractFour(r, p, j, Math.max(c0, j), c1);
          }
        }
        for (; p < j0; p++) {
          for (int j = j0; j < Math.min(j1, c1); j++) {
            subtract(r[p][j], r[p], r[j], Math.max(c0, j), c1);
          }
        }
      }
      for (int j = j0; j < j1; j++) {
        double[] rj = r[j];
        for (int p = j0; p < j; p++) {
          subtract(r[p][j], r[p], rj, j, k);
        }
        double d = rj[j];
        if (!(d > 0)) {
          throw new ArithmeticException("matrix is not positive definite at row " + j + " (raise the damping)");
        }
        double root = Math.sqrt(d);
        rj[j] = root;
        for (int c = j + 1; c < k; c++) {
          rj[c] /= root;
        }
      }
    }
    double[] l = new double[k * k];
    for (int i0 = 0; i0 < k; i0 += 32) { // transposed in tiles: neither side strides through memory for long
      for (int j0 = 0; j0 <= i0; j0 += 32) {
        for (int i = i0; i < Math.min(k, i0 + 32); i++) {
          for (int j = j0; j < Math.min(i + 1, j0 + 32); j++) {
            l[i * k + j] = r[j][i];
          }
        }
      }
    }
    return l;
  }

  /**
   * {@code R[j][c] -= R[p + i][j] R[p + i][c]} for {@code i = 0..3} in that order, for columns
   * {@code c} in {@code [from, to)}: four rows' terms in one pass, each element's the same
   * subtractions in the same order as four passes (Java does not fuse or reorder them).
   */
  private static void subtractFour(double[][] r, int p, int j, int from, int to) {
    double[] a0 = r[p];
    double[] a1 = r[p + 1];
    double[] a2 = r[p + 2];
    double[] a3 = r[p + 3];
    double f0 = a0[j];
    double f1 = a1[j];
    double f2 = a2[j];
    double f3 = a3[j];
    double[] rj = r[j];
    for (int c = from; c < to; c++) {
      rj[c] = rj[c] - f0 * a0[c] - f1 * a1[c] - f2 * a2[c] - f3 * a3[c];
    }
  }

  /** {@code to[c] -= f * from[c]} for {@code c} in {@code [c0, c1)}; nothing when {@code f} is 0. */
  private static void subtract(double f, double[] from, double[] to, int c0, int c1) {
    if (f == 0) {
      return;
    }
    for (int c = c0; c < c1; c++) {
      to[c] -= f * from[c];
    }
  }

  /**
   * Solves {@code L L^T X = B} in place for {@code n} right-hand sides ({@code b} row-major {@code
   * k x n}): forward, then backward substitution, every inner loop along a contiguous row.
   */
  static void solveCholesky(double[] l, int k, double[] b, int n) {
    for (int i = 0; i < k; i++) {
      for (int p = 0; p < i; p++) {
        axpy(-l[i * k + p], b, p * n, b, i * n, n);
      }
      scale(b, i * n, n, 1 / l[i * k + i]);
    }
    for (int i = k - 1; i >= 0; i--) {
      for (int p = i + 1; p < k; p++) {
        axpy(-l[p * k + i], b, p * n, b, i * n, n);
      }
      scale(b, i * n, n, 1 / l[i * k + i]);
    }
  }

  private static void axpy(double a, double[] x, int xo, double[] y, int yo, int n) {
    for (int j = 0; j < n; j++) {
      y[yo + j] += a * x[xo + j];
    }
  }

  private static void scale(double[] x, int o, int n, double a) {
    for (int j = 0; j < n; j++) {
      x[o + j] *= a;
    }
  }

  /** Rows of {@link #invertLower} that take the finished rows above them in one pass. */
  private static final int INVERT_ROWS = 64;

  /**
   * Inverse of a lower triangular matrix, row by row: row i of the inverse is a combination of
   * the rows above it, so every inner loop runs along a contiguous row. The rows go in blocks of
   * {@value #INVERT_ROWS}: each finished row above a block is read once for all of the block's
   * rows (while it is in L1) instead of once per row; each row still receives its terms in the
   * same order, so the result is that of one row at a time to the bit.
   */
  static double[] invertLower(double[] l, int k) {
    double[][] inv = new double[k][]; // one array per row, so the JIT vectorizes the row updates
    for (int i0 = 0; i0 < k; i0 += INVERT_ROWS) {
      int i1 = Math.min(k, i0 + INVERT_ROWS);
      for (int i = i0; i < i1; i++) {
        inv[i] = new double[i + 1];
      }
      for (int p = 0; p < i0; p++) {
        for (int i = i0; i < i1; i++) {
          subtractRow(l[i * k + p], inv[p], inv[i], p);
        }
      }
      for (int i = i0; i < i1; i++) {
        double[] row = inv[i];
        for (int p = i0; p < i; p++) {
          subtractRow(l[i * k + p], inv[p], row, p);
        }
        double d = 1 / l[i * k + i];
        for (int j = 0; j < i; j++) {
          row[j] *= d;
        }
        row[i] = d;
      }
    }
    double[] out = new double[k * k];
    for (int i = 0; i < k; i++) {
      System.arraycopy(inv[i], 0, out, i * k, i + 1);
    }
    return out;
  }

  /** {@code to[j] -= f * from[j]} for {@code j <= last}; nothing when {@code f} is 0. */
  private static void subtractRow(double f, double[] from, double[] to, int last) {
    if (f == 0) {
      return;
    }
    for (int j = 0; j <= last; j++) {
      to[j] -= f * from[j];
    }
  }

  /**
   * The upper triangular U with {@code U^T U = a^-1}: what GPTQ walks row by row. With {@code J}
   * the reversal of rows and columns, the lower Cholesky factor {@code M} of {@code J a J} gives
   * {@code a = R R^T} with {@code R = J M J} upper, so {@code a^-1 = (R^-1)^T R^-1} and {@code U =
   * R^-1 = J M^-1 J}: one factorization and one triangular inverse (the factor of {@code a^-1} is
   * unique, so this is the same U as factoring the inverse, in half the work).
   */
  static double[] upperCholeskyOfInverse(double[] a, int k) {
    return reversed(invertLower(cholesky(reversed(a, k), k), k), k);
  }

  /** {@code J a J}: {@code out[i][j] = a[k-1-i][k-1-j]}. */
  private static double[] reversed(double[] a, int k) {
    double[] out = new double[k * k];
    for (int i = 0; i < k; i++) {
      int src = (k - 1 - i) * k;
      for (int j = 0; j < k; j++) {
        out[i * k + j] = a[src + k - 1 - j];
      }
    }
    return out;
  }
}
