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

  /** Inverse of a lower triangular matrix. */
  static double[] invertLower(double[] l, int k) {
    double[] inv = new double[k * k];
    for (int j = 0; j < k; j++) {
      inv[j * k + j] = 1 / l[j * k + j];
      for (int i = j + 1; i < k; i++) {
        double s = 0;
        for (int p = j; p < i; p++) {
          s += l[i * k + p] * inv[p * k + j];
        }
        inv[i * k + j] = -s / l[i * k + i];
      }
    }
    return inv;
  }

  /**
   * The upper triangular U with {@code U^T U = a^-1}: what GPTQ walks row by row. Computed as
   * the transposed lower Cholesky factor of {@code a^-1 = L^-T L^-1}.
   */
  static double[] upperCholeskyOfInverse(double[] a, int k) {
    double[] linv = invertLower(cholesky(a, k), k);
    double[] inv = new double[k * k]; // L^-T L^-1, symmetric
    for (int i = 0; i < k; i++) {
      for (int j = 0; j <= i; j++) {
        double s = 0;
        for (int p = i; p < k; p++) { // linv[p][i] nonzero for p >= i, linv[p][j] for p >= j
          s += linv[p * k + i] * linv[p * k + j];
        }
        inv[i * k + j] = s;
        inv[j * k + i] = s;
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
