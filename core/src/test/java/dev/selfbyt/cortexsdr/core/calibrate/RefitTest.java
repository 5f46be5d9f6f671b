package dev.selfbyt.cortexsdr.core.calibrate;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** Re-fitting to perturbed inputs brings the output back toward the original. */
class RefitTest {
  static double outputError(float[] xq, float[] x, float[] wq, float[] w, int rows, int k, int n) {
    double e = 0;
    for (int r = 0; r < rows; r++) {
      for (int j = 0; j < n; j++) {
        double a = 0;
        double b = 0;
        for (int i = 0; i < k; i++) {
          a += xq[r * k + i] * wq[i * n + j];
          b += x[r * k + i] * w[i * n + j];
        }
        e += (a - b) * (a - b);
      }
    }
    return e;
  }

  @Test
  void reproducesTheOriginalOutputFromPerturbedInputs() {
    int rows = 400;
    int k = 24;
    int n = 16;
    SplittableRandom r = new SplittableRandom(5);
    float[] x = new float[rows * k];
    float[] xq = new float[rows * k];
    for (int i = 0; i < x.length; i++) {
      x[i] = (float) r.nextGaussian();
      // the upstream rounding: a systematic shrink of some channels plus noise
      xq[i] = (float) (x[i] * (i % k < 6 ? 0.8 : 1.0) + 0.05 * r.nextGaussian());
    }
    float[] w = new float[k * n];
    for (int i = 0; i < w.length; i++) {
      w[i] = (float) r.nextGaussian();
    }
    Hessian h = new Hessian(k);
    h.add(xq, 0, rows);
    double[] cross = new double[k * k];
    for (int row = 0; row < rows; row++) {
      for (int i = 0; i < k; i++) {
        for (int l = 0; l < k; l++) {
          cross[i * k + l] += (double) xq[row * k + i] * x[row * k + l];
        }
      }
    }
    float[] refit = Refit.apply(w, k, n, h, cross, 0.01);
    double before = outputError(xq, x, w, w, rows, k, n);
    double after = outputError(xq, x, refit, w, rows, k, n);
    assertTrue(after < 0.3 * before, "output error " + before + " -> " + after);

    // with unperturbed inputs there is nothing to fix: C = H leaves W as it is
    Hessian same = new Hessian(k);
    same.add(x, 0, rows);
    assertArrayEquals(w, Refit.apply(w, k, n, same, same.matrix(), 1.0), 1e-5f);
  }
}
