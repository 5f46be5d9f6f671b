package dev.selfbyt.cortexsdr.core.calibrate;

/**
 * Re-fits a weight to the inputs the quantized model actually gives it: where the upstream layers
 * are already rounded, a weight sees {@code Xq} instead of the original {@code X}, and the weight
 * that best reproduces the original output {@code X W} from {@code Xq}, pulled toward {@code W}
 * (ridge), is {@code W' = W + (Xq^T Xq + lambda I)^-1 Xq^T (X - Xq) W}. It needs only {@code
 * H = Xq^T Xq} and the cross statistics {@code C = Xq^T X}: {@code W' = W + (H + lambda I)^-1
 * (C - H) W}. Heavy damping ({@code lambda} = a multiple of the mean of {@code diag(H)}) keeps it
 * from fitting noise in a few hundred samples.
 */
public final class Refit {
  private Refit() {}

  /**
   * @param w row-major {@code [K, N]}
   * @param h {@code Xq^T Xq}
   * @param cross {@code Xq^T X}, row-major {@code K x K}
   * @param damping {@code lambda} relative to the mean of {@code diag(H)}, e.g. 1
   * @return the re-fitted weight, same layout
   */
  public static float[] apply(float[] w, int k, int n, Hessian h, double[] cross, double damping) {
    if (h.size() != k || cross.length != k * k || w.length != k * n) {
      throw new IllegalArgumentException("shapes disagree: W [" + k + ", " + n + "] has " + w.length + " values, H is "
          + h.size() + " wide, C has " + cross.length + " values");
    }
    double[] hm = h.matrix();
    double mean = 0;
    for (int i = 0; i < k; i++) {
      mean += hm[i * k + i];
    }
    mean /= k;
    if (mean == 0) {
      return w.clone();
    }
    // D = (C - H) W, row by row
    double[] d = new double[k * n];
    double[] row = new double[k];
    for (int i = 0; i < k; i++) {
      for (int l = 0; l < k; l++) {
        row[l] = cross[i * k + l] - hm[i * k + l];
      }
      int ri = i * n;
      for (int l = 0; l < k; l++) {
        double a = row[l];
        if (a == 0) {
          continue;
        }
        int rl = l * n;
        for (int j = 0; j < n; j++) {
          d[ri + j] += a * w[rl + j];
        }
      }
    }
    for (int i = 0; i < k; i++) {
      hm[i * k + i] += damping * mean;
    }
    Linalg.solveCholesky(Linalg.cholesky(hm, k), k, d, n); // (H + lambda I) X = D, in place
    float[] out = new float[w.length];
    for (int i = 0; i < out.length; i++) {
      out[i] = (float) (w[i] + d[i]);
    }
    return out;
  }
}
