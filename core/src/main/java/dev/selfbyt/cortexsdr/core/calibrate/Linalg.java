package dev.selfbyt.cortexsdr.core.calibrate;

/** The dense linear algebra GPTQ needs, in double precision, row-major. */
final class Linalg {
  private Linalg() {}

  /** Lower Cholesky factor L of a symmetric positive definite {@code a} (k x k): a = L L^T. */
  static double[] cholesky(double[] a, int k) {
    double[] l = new double[k * k];
    for (int j = 0; j < k; j++) {
      int rj = j * k;
      double d = a[rj + j] - dot(l, rj, rj, j);
      if (!(d > 0)) {
        throw new ArithmeticException("matrix is not positive definite at row " + j + " (raise the damping)");
      }
      double ljj = Math.sqrt(d);
      l[rj + j] = ljj;
      for (int i = j + 1; i < k; i++) {
        int ri = i * k;
        l[ri + j] = (a[ri + j] - dot(l, ri, rj, j)) / ljj;
      }
    }
    return l;
  }

  /**
   * {@code sum_p x[a + p] * x[b + p]} for {@code p < len}, in four interleaved partial sums (four
   * independent chains of multiply-adds instead of one: the factorizations' inner loops).
   */
  private static double dot(double[] x, int a, int b, int len) {
    double s0 = 0;
    double s1 = 0;
    double s2 = 0;
    double s3 = 0;
    int p = 0;
    for (; p + 3 < len; p += 4) {
      s0 += x[a + p] * x[b + p];
      s1 += x[a + p + 1] * x[b + p + 1];
      s2 += x[a + p + 2] * x[b + p + 2];
      s3 += x[a + p + 3] * x[b + p + 3];
    }
    for (; p < len; p++) {
      s0 += x[a + p] * x[b + p];
    }
    return (s0 + s1) + (s2 + s3);
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
