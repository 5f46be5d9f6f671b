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
    float[] aMax = activationMaxima(min, max);
    float[] wMax = rowMaxima(k, weights, widths);
    float[][] exact = exact(rows, k, weights, widths);
    double[] errors = new double[alphas.length];
    int best = 0;
    for (int a = 0; a < alphas.length; a++) {
      float[] s = scales(aMax, wMax, alphas[a]);
      errors[a] = error(rows, k, min, max, weights, widths, s, exact);
      if (errors[a] < errors[best]) {
        best = a;
      }
    }
    return new Result(alphas[best], errors[best], errors);
  }

  /**
   * The smoothing scales {@code s} of strength {@code alpha}: divide the input's channels by them,
   * multiply the weights' rows by them.
   */
  public static float[] scales(float[] min, float[] max, List<float[]> weights, int[] widths, double alpha) {
    return scales(activationMaxima(min, max), rowMaxima(min.length, weights, widths), alpha);
  }

  private static float[] activationMaxima(float[] min, float[] max) {
    float[] a = new float[min.length];
    for (int j = 0; j < a.length; j++) {
      a[j] = Math.max(Math.abs(min[j]), Math.abs(max[j]));
    }
    return a;
  }

  /** Largest |weight| in each row {@code i < k} over all the weights. */
  private static float[] rowMaxima(int k, List<float[]> weights, int[] widths) {
    float[] m = new float[k];
    for (int w = 0; w < weights.size(); w++) {
      float[] v = weights.get(w);
      int n = widths[w];
      for (int i = 0; i < k; i++) {
        for (int j = 0; j < n; j++) {
          m[i] = Math.max(m[i], Math.abs(v[i * n + j]));
        }
      }
    }
    return m;
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
    return error(rows, k, min, max, weights, widths, s, exact(rows, k, weights, widths));
  }

  /** {@code X W} for each weight, {@code [rows, n]} row-major. */
  static float[][] exact(List<float[]> rows, int k, List<float[]> weights, int[] widths) {
    float[][] y = new float[weights.size()][];
    for (int w = 0; w < weights.size(); w++) {
      y[w] = product(rows, k, weights.get(w), widths[w]);
    }
    return y;
  }

  private static float[] product(List<float[]> rows, int k, float[] w, int n) {
    float[] y = new float[rows.size() * n];
    for (int r = 0; r < rows.size(); r++) {
      float[] x = rows.get(r);
      int yr = r * n;
      for (int i = 0; i < k; i++) {
        float xi = x[i];
        int base = i * n;
        for (int j = 0; j < n; j++) {
          y[yr + j] += xi * w[base + j];
        }
      }
    }
    return y;
  }

  private static double error(List<float[]> rows, int k, float[] min, float[] max, List<float[]> weights,
      int[] widths, float[] s, float[][] exact) {
    // the activation range after dividing by s, widened to hold 0 as DynamicQuantizeLinear does
    float lo = 0f;
    float hi = 0f;
    for (int j = 0; j < k; j++) {
      lo = Math.min(lo, min[j] / s[j]);
      hi = Math.max(hi, max[j] / s[j]);
    }
    float step = hi > lo ? (hi - lo) / 255f : 1f;
    float zero = (float) Math.max(0, Math.min(255, Math.rint(-lo / step)));
    List<float[]> xq = new java.util.ArrayList<>(rows.size()); // dequantized smoothed activations
    for (float[] x : rows) {
      float[] q = new float[k];
      for (int j = 0; j < k; j++) {
        float c = (float) Math.max(0, Math.min(255, Math.rint(x[j] / s[j] / step) + zero));
        q[j] = (c - zero) * step;
      }
      xq.add(q);
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
      float[] rounded = product(xq, k, wq, n);
      float[] e = exact[w];
      for (int i = 0; i < e.length; i++) {
        double d = e[i] - rounded[i];
        err += d * d;
        norm += (double) e[i] * e[i];
      }
    }
    return norm == 0 ? 0 : err / norm;
  }
}
