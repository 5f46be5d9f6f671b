package dev.selfbyt.cortexsdr.core.calibrate;

/** The dense linear algebra GPTQ needs, in double precision, row-major. */
final class Linalg {
  private Linalg() {}

  /** Lower Cholesky factor L of a symmetric positive definite {@code a} (k x k): a = L L^T. */
  static double[] cholesky(double[] a, int k) {
    double[] l = new double[k * k];
    for (int j = 0; j < k; j++) {
      double d = a[j * k + j];
      int rj = j * k;
      for (int p = 0; p < j; p++) {
        d -= l[rj + p] * l[rj + p];
      }
      if (!(d > 0)) {
        throw new ArithmeticException("matrix is not positive definite at row " + j + " (raise the damping)");
      }
      double ljj = Math.sqrt(d);
      l[rj + j] = ljj;
      for (int i = j + 1; i < k; i++) {
        int ri = i * k;
        double s = a[ri + j];
        for (int p = 0; p < j; p++) {
          s -= l[ri + p] * l[rj + p];
        }
        l[ri + j] = s / ljj;
      }
    }
    return l;
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

  /**
   * Inverse of a lower triangular matrix, row by row: row i of the inverse is a combination of
   * the rows above it, so every inner loop runs along a contiguous row.
   */
  static double[] invertLower(double[] l, int k) {
    double[] inv = new double[k * k];
    for (int i = 0; i < k; i++) {
      int ri = i * k;
      for (int p = 0; p < i; p++) {
        double f = l[ri + p];
        if (f == 0) {
          continue;
        }
        int rp = p * k;
        for (int j = 0; j <= p; j++) {
          inv[ri + j] -= f * inv[rp + j];
        }
      }
      double d = 1 / l[ri + i];
      for (int j = 0; j < i; j++) {
        inv[ri + j] *= d;
      }
      inv[ri + i] = d;
    }
    return inv;
  }

  /**
   * The upper triangular U with {@code U^T U = a^-1}: what GPTQ walks row by row. Computed as
   * the transposed lower Cholesky factor of {@code a^-1 = L^-T L^-1}.
   */
  static double[] upperCholeskyOfInverse(double[] a, int k) {
    double[] linv = invertLower(cholesky(a, k), k);
    double[] inv = new double[k * k]; // L^-T L^-1 = sum over rows p of linv[p]^T linv[p]; lower half
    for (int p = 0; p < k; p++) {
      int rp = p * k;
      for (int i = 0; i <= p; i++) {
        double f = linv[rp + i];
        if (f == 0) {
          continue;
        }
        int ri = i * k;
        for (int j = 0; j <= i; j++) {
          inv[ri + j] += f * linv[rp + j];
        }
      }
    }
    for (int i = 0; i < k; i++) {
      for (int j = 0; j < i; j++) {
        inv[j * k + i] = inv[i * k + j];
      }
    }
    double[] l2 = cholesky(inv, k);
    double[] u = new double[k * k];
    for (int i = 0; i < k; i++) {
      for (int j = 0; j <= i; j++) {
        u[j * k + i] = l2[i * k + j];
      }
    }
    return u;
  }
}
