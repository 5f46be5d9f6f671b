package dev.selfbyt.cortexsdr.converters.onnx;

/**
 * Bias correction after rounding (Nagel et al., "Data-Free Quantization", 2019, with measured
 * means): a rounded weight {@code Wq = W + dW} shifts the mean of its layer's output by {@code dW
 * E[x]}, the same for every position and sample; subtracting that from the bias removes it. It
 * matters where a kernel's values nearly cancel (edge detectors after batch-norm folding: large
 * weights whose sum is small), so a small rounding error of their sum moves every flat region of
 * the image. {@link LayerGptq} measures {@code E[x]} of each convolution's im2col patches and
 * of each Gemm's input in its probe run, on the model as rounded so far.
 */
final class BiasCorrection {
  private BiasCorrection() {}

  /**
   * The corrected bias of a convolution: {@code b[o] - sum_j (wq - w)[o, j] mean[g(o), j]}.
   *
   * @param w the weight {@code [O, C/groups, k...]}, flattened (fiber {@code o} = output channel)
   * @param wq the same weight as it will be decoded
   * @param mean the mean input patch of each group, {@code [groups, C/groups * prod(k)]}
   */
  static float[] conv(float[] bias, float[] w, float[] wq, double[] mean, int groups) {
    int out = bias.length;
    int kg = w.length / out;
    int perGroup = out / groups;
    float[] b = bias.clone();
    for (int o = 0; o < out; o++) {
      int g = o / perGroup;
      double shift = 0;
      for (int j = 0; j < kg; j++) {
        shift += ((double) wq[o * kg + j] - w[o * kg + j]) * mean[g * kg + j];
      }
      b[o] = (float) (bias[o] - shift);
    }
    return b;
  }

  /**
   * The corrected bias of a Gemm {@code x W (+ b)}: {@code W} is {@code [k, n]}, or {@code [n, k]}
   * when {@code transB}; {@code mean} has {@code k} values.
   */
  static float[] gemm(float[] bias, float[] w, float[] wq, double[] mean, boolean transB) {
    int k = mean.length;
    int n = w.length / k;
    if (bias.length != n) {
      return null; // a broadcast bias (one value, or a row) cannot take a per-column shift
    }
    float[] b = bias.clone();
    for (int c = 0; c < n; c++) {
      double shift = 0;
      for (int r = 0; r < k; r++) {
        int i = transB ? c * k + r : r * n + c;
        shift += ((double) wq[i] - w[i]) * mean[r];
      }
      b[c] = (float) (bias[c] - shift);
    }
    return b;
  }

  /**
   * The corrected bias {@code B [dirs, 2 * G * H]} of an LSTM/GRU/RNN node after rounding its
   * input weight {@code W} ({@code recurrentPart} false: the shift goes to {@code Wb}) or its
   * recurrent weight {@code R} (to {@code Rb}). The gate pre-activations are linear in both, so
   * the mean shift {@code (Wq - W) E[x]} of each gate row can be taken out of its bias as for a
   * Gemm; the nonlinearities come after.
   *
   * @param w the weight {@code [dirs, G * H, k]}, flattened
   * @param means each direction's mean input ({@code k} values)
   * @param skipFrom rows from here on are left uncorrected (GRU's hidden gate, whose {@code R}
   *     multiplies {@code r * h} rather than {@code h} unless {@code linear_before_reset})
   */
  static float[] recurrent(float[] bias, float[] w, float[] wq, double[][] means, boolean recurrentPart,
      int skipFrom) {
    int dirs = means.length;
    int k = means[0].length;
    int gh = w.length / (dirs * k);
    if (bias.length != dirs * 2 * gh) {
      return null;
    }
    float[] b = bias.clone();
    for (int d = 0; d < dirs; d++) {
      for (int i = 0; i < Math.min(gh, skipFrom); i++) {
        double shift = 0;
        int row = (d * gh + i) * k;
        for (int j = 0; j < k; j++) {
          shift += ((double) wq[row + j] - w[row + j]) * means[d][j];
        }
        int at = d * 2 * gh + (recurrentPart ? gh : 0) + i;
        b[at] = (float) (bias[at] - shift);
      }
    }
    return b;
  }
}
