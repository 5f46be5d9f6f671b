package dev.selfbyt.cortexsdr.core.calibrate;

import dev.selfbyt.cortexsdr.core.codec.QuantCodec;
import dev.selfbyt.cortexsdr.core.tensor.DType;
import dev.selfbyt.cortexsdr.core.tensor.TensorData;
import dev.selfbyt.cortexsdr.core.tensor.TensorInfo;
import dev.selfbyt.cortexsdr.core.tensor.TensorRole;
import java.util.List;

/**
 * Activation-aware scaling (after AWQ): input channels that carry large activations matter more,
 * so their weight rows are scaled up by {@code s_k} before rounding (finer steps relative to their
 * size) and the input is divided by the same {@code s_k}, which leaves {@code X W = (X / s) (s W)}
 * unchanged before rounding. The scale is {@code s_k = a_k^alpha} with {@code a_k} the RMS of
 * input channel {@code k} (from {@code X^T X}), normalized so that {@code max * min = 1}, and
 * {@code alpha} picked from a grid by the output error {@code tr(dW^T X^T X dW)} it gives under
 * plain rounding, summed over all weights sharing the input. {@code alpha = 0} is plain rounding,
 * so the search never makes that error worse.
 */
public final class ActivationScaling {
  /** The alphas tried. */
  static final double[] ALPHAS = {0, 0.125, 0.25, 0.375, 0.5, 0.625, 0.75, 0.875, 1};
  /** Columns of each weight the error is measured on (evenly spaced): the search stays cheap. */
  static final int SEARCH_COLUMNS = 64;

  private ActivationScaling() {}

  /** The chosen scales and what they did to the output error under plain rounding. */
  public record Result(float[] scales, double alpha, double error, double plainError) {
    /** Whether any scaling was chosen ({@code alpha > 0}). */
    public boolean scaled() {
      return alpha > 0;
    }
  }

  /**
   * @param weights row-major {@code [K, n_i]} weights that multiply the same input
   * @param columns their column counts
   * @param codec the block-wise codec they will be stored with
   */
  public static Result search(Hessian h, List<float[]> weights, int[] columns, QuantCodec codec) {
    int k = h.size();
    double[] hm = h.matrix();
    double[] rms = new double[k];
    double max = 0;
    for (int i = 0; i < k; i++) {
      rms[i] = Math.sqrt(Math.max(0, hm[i * k + i]) / Math.max(1, h.rows()));
      max = Math.max(max, rms[i]);
    }
    if (max == 0) {
      return new Result(ones(k), 0, 0, 0);
    }
    float[][] subsets = new float[weights.size()][];
    int[] widths = new int[weights.size()];
    for (int w = 0; w < weights.size(); w++) {
      widths[w] = Math.min(SEARCH_COLUMNS, columns[w]);
      subsets[w] = columnSubset(weights.get(w), k, columns[w], widths[w]);
    }
    double bestError = Double.POSITIVE_INFINITY;
    double bestAlpha = 0;
    double plain = 0;
    for (double alpha : ALPHAS) {
      float[] s = scales(rms, max, alpha);
      double e = 0;
      for (int w = 0; w < subsets.length; w++) {
        e += error(hm, k, subsets[w], widths[w], s, codec);
      }
      if (alpha == 0) {
        plain = e;
      }
      if (e < bestError) {
        bestError = e;
        bestAlpha = alpha;
      }
    }
    return new Result(scales(rms, max, bestAlpha), bestAlpha, bestError, plain);
  }

  /** {@code a^alpha}, centred so that the largest times the smallest is 1, kept within [1e-4, 1e4]. */
  static float[] scales(double[] rms, double max, double alpha) {
    int k = rms.length;
    if (alpha == 0) {
      return ones(k);
    }
    double floor = max * 1e-6; // a channel that never fires still gets a finite scale
    double lo = Double.POSITIVE_INFINITY;
    double hi = 0;
    double[] raw = new double[k];
    for (int i = 0; i < k; i++) {
      raw[i] = Math.pow(Math.max(rms[i], floor), alpha);
      lo = Math.min(lo, raw[i]);
      hi = Math.max(hi, raw[i]);
    }
    double centre = Math.sqrt(lo * hi);
    float[] s = new float[k];
    for (int i = 0; i < k; i++) {
      s[i] = (float) Math.min(1e4, Math.max(1e-4, raw[i] / centre));
    }
    return s;
  }

  /** Row-major {@code [K, N]} with each row {@code k} multiplied by {@code s[k]}. */
  public static float[] scaleRows(float[] w, int k, int n, float[] s) {
    float[] out = new float[w.length];
    for (int i = 0; i < k; i++) {
      for (int j = 0; j < n; j++) {
        out[i * n + j] = w[i * n + j] * s[i];
      }
    }
    return out;
  }

  /** {@code 1 / s}, element-wise: what the input is multiplied by. */
  public static float[] inverse(float[] s) {
    float[] inv = new float[s.length];
    for (int i = 0; i < s.length; i++) {
      inv[i] = 1f / s[i];
    }
    return inv;
  }

  /** {@code tr(dW^T H dW)} with {@code dW = W - diag(1/s) Q(diag(s) W)}. */
  private static double error(double[] h, int k, float[] w, int n, float[] s, QuantCodec codec) {
    float[] scaled = scaleRows(w, k, n, s);
    TensorInfo info = new TensorInfo("search", DType.FLOAT32, new long[] {k, n}, TensorRole.MATMUL_WEIGHT, 0);
    float[] q = codec.decode(info, codec.encode(TensorData.ofFloats(info, scaled))).floats();
    double[] d = new double[k];
    double total = 0;
    for (int j = 0; j < n; j++) {
      for (int i = 0; i < k; i++) {
        d[i] = w[i * n + j] - (double) q[i * n + j] / s[i];
      }
      for (int i = 0; i < k; i++) {
        if (d[i] == 0) {
          continue;
        }
        double acc = 0;
        int row = i * k;
        for (int l = 0; l < k; l++) {
          acc += h[row + l] * d[l];
        }
        total += d[i] * acc;
      }
    }
    return total;
  }

  private static float[] columnSubset(float[] w, int k, int n, int m) {
    if (m == n) {
      return w;
    }
    float[] out = new float[k * m];
    for (int c = 0; c < m; c++) {
      int src = (int) ((long) c * n / m);
      for (int i = 0; i < k; i++) {
        out[i * m + c] = w[i * n + src];
      }
    }
    return out;
  }

  private static float[] ones(int k) {
    float[] s = new float[k];
    java.util.Arrays.fill(s, 1f);
    return s;
  }
}
