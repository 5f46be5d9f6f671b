package dev.selfbyt.cortexsdr.core.calibrate;

import java.util.List;

/**
 * Chooses SmoothQuant's migration strength for one MatMul input by measuring, on sampled
 * activation rows, the error of the product as int8 activations x int8 weights compute it.
 *
 * <p>A MatMul input divided per channel by {@code s_j = a_j^alpha / w_j^(1 - alpha)} and its
 * weights' rows multiplied by {@code s_j} give the same product in exact arithmetic; rounded, the
 * activations (one asymmetric uint8 range per tensor, as ONNX {@code DynamicQuantizeLinear}) and
 * the weights (one symmetric int8 scale per output column) lose different amounts for each alpha.
 * One alpha for every MatMul is a compromise: the inputs of an FFN's second MatMul (after GELU)
 * carry outliers a hundred times the median and want more migration than the attention inputs.
 *
 * <p>The activation range is the one of the whole calibration set (per channel minimum and
 * maximum, divided by {@code s}): the widest a batch drawn from it can bring, since the per-tensor
 * range of a batch is the widest of its samples'. The error is the relative squared error of the
 * product {@code X W} summed over the weights reading the input (one smoothing serves all of them).
 *
 * <p>Use: {@code SmoothingSearch.best(rows, k, min, max, weights, widths, alphas)}.
 */
public final class SmoothingSearch {
  /** The strengths tried by default: none, and SmoothQuant's range. */
  public static final double[] ALPHAS = {0, 0.5, 0.6, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95};

  private SmoothingSearch() {}

  /** The chosen strength, its relative product error, and the error of each strength tried. */
  public record Result(double alpha, double error, double[] errors) {}

  /**
   * @param rows sampled activation rows, each of length {@code k}
   * @param min per channel smallest activation over the calibration set
   * @param max per channel largest activation over the calibration set
   * @param weights the weights reading this input, each {@code [k, n]} row-major
   * @param widths {@code n} of each weight
   */
  public static Result best(List<float[]> rows, int k, float[] min, float[] max, List<float[]> weights, int[] widths,
      double[] alphas) {
    if (rows.isEmpty()) {
      throw new IllegalArgumentException("no activation rows to measure smoothing on");
    }
    float[] aMax = new float[k];
    for (int j = 0; j < k; j++) {
      aMax[j] = Math.max(Math.abs(min[j]), Math.abs(max[j]));
    }
    float[] wMax = new float[k];
    for (int w = 0; w < weights.size(); w++) {
      float[] v = weights.get(w);
      int n = widths[w];
      for (int i = 0; i < k; i++) {
        for (int j = 0; j < n; j++) {
          wMax[i] = Math.max(wMax[i], Math.abs(v[i * n + j]));
        }
      }
    }
    double[] errors = new double[alphas.length];
    int best = 0;
    for (int a = 0; a < alphas.length; a++) {
      float[] s = scales(aMax, wMax, alphas[a]);
      errors[a] = error(rows, k, min, max, weights, widths, s);
      if (errors[a] < errors[best]) {
        best = a;
      }
    }
    return new Result(alphas[best], errors[best], errors);
  }

  /** {@code a^alpha / w^(1 - alpha)} per channel, 1 where either is 0 or alpha is 0, kept within [1e-4, 1e4]. */
  public static float[] scales(float[] a, float[] w, double alpha) {
    float[] s = new float[a.length];
    for (int i = 0; i < a.length; i++) {
      if (alpha == 0 || a[i] <= 0 || w[i] <= 0) {
        s[i] = 1f;
        continue;
      }
      double v = Math.pow(a[i], alpha) / Math.pow(w[i], 1 - alpha);
      s[i] = (float) Math.min(1e4, Math.max(1e-4, v));
    }
    return s;
  }

  /** Relative squared error of the rounded products against the exact ones, summed over the weights. */
  static double error(List<float[]> rows, int k, float[] min, float[] max, List<float[]> weights, int[] widths,
      float[] s) {
    // the activation range after dividing by s, widened to hold 0 as DynamicQuantizeLinear does
    float lo = 0f;
    float hi = 0f;
    for (int j = 0; j < k; j++) {
      lo = Math.min(lo, min[j] / s[j]);
      hi = Math.max(hi, max[j] / s[j]);
    }
    float step = hi > lo ? (hi - lo) / 255f : 1f;
    float zero = (float) Math.max(0, Math.min(255, Math.rint(-lo / step)));
    int m = rows.size();
    float[] xq = new float[m * k]; // dequantized smoothed activations
    for (int r = 0; r < m; r++) {
      float[] x = rows.get(r);
      for (int j = 0; j < k; j++) {
        float q = (float) Math.max(0, Math.min(255, Math.rint(x[j] / s[j] / step) + zero));
        xq[r * k + j] = (q - zero) * step;
      }
    }
    double err = 0;
    double norm = 0;
    for (int w = 0; w < weights.size(); w++) {
      float[] v = weights.get(w);
      int n = widths[w];
      float[] wq = new float[k * n]; // smoothed weights rounded per output column, dequantized
      for (int j = 0; j < n; j++) {
        float colMax = 0f;
        for (int i = 0; i < k; i++) {
          colMax = Math.max(colMax, Math.abs(v[i * n + j] * s[i]));
        }
        float scale = colMax > 0 ? colMax / 127f : 1f;
        for (int i = 0; i < k; i++) {
          wq[i * n + j] = (float) Math.rint(v[i * n + j] * s[i] / scale) * scale;
        }
      }
      double[] exact = new double[n];
      double[] rounded = new double[n];
      for (int r = 0; r < m; r++) {
        java.util.Arrays.fill(exact, 0);
        java.util.Arrays.fill(rounded, 0);
        float[] x = rows.get(r);
        for (int i = 0; i < k; i++) {
          double xe = x[i];
          double xr = xq[r * k + i];
          int base = i * n;
          for (int j = 0; j < n; j++) {
            exact[j] += xe * v[base + j];
            rounded[j] += xr * wq[base + j];
          }
        }
        for (int j = 0; j < n; j++) {
          double d = exact[j] - rounded[j];
          err += d * d;
          norm += exact[j] * exact[j];
        }
      }
    }
    return norm == 0 ? 0 : err / norm;
  }
}
