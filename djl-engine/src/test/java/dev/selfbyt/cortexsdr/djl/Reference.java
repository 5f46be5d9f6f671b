package dev.selfbyt.cortexsdr.djl;

/**
 * Plain-Java, loop-by-loop definitions of the dense operators (in double), written from their
 * mathematical definitions and independent of the engine's code, for tests to compare against.
 */
final class Reference {
  private Reference() {}

  /** erf by its Taylor series (in double; exact to ~1e-15 for |x| <= 3). */
  static double erf(double x) {
    double sum = 0;
    double term = x; // (-1)^n x^(2n+1) / n!
    for (int n = 0; n < 100; n++) {
      sum += term / (2 * n + 1);
      term *= -x * x / (n + 1);
    }
    return 2 / Math.sqrt(Math.PI) * sum;
  }

  static double gelu(double x) {
    return 0.5 * x * (1 + erf(x / Math.sqrt(2)));
  }

  /** Cross-correlation of {@code x [n, c, h, w]} with {@code wt [oc, c/groups, kh, kw]}, symmetric padding. */
  static float[] conv2d(float[] x, int n, int c, int h, int w, float[] wt, int oc, int kh, int kw, float[] bias,
      int[] s, int[] p, int[] d, int groups) {
    int icg = c / groups;
    int ocg = oc / groups;
    int oh = (h + 2 * p[0] - d[0] * (kh - 1) - 1) / s[0] + 1;
    int ow = (w + 2 * p[1] - d[1] * (kw - 1) - 1) / s[1] + 1;
    float[] out = new float[n * oc * oh * ow];
    for (int b = 0; b < n; b++) {
      for (int o = 0; o < oc; o++) {
        int g = o / ocg;
        for (int y = 0; y < oh; y++) {
          for (int xo = 0; xo < ow; xo++) {
            double acc = bias == null ? 0 : bias[o];
            for (int ci = 0; ci < icg; ci++) {
              int ch = g * icg + ci;
              for (int i = 0; i < kh; i++) {
                for (int j = 0; j < kw; j++) {
                  int iy = y * s[0] - p[0] + i * d[0];
                  int ix = xo * s[1] - p[1] + j * d[1];
                  if (iy >= 0 && iy < h && ix >= 0 && ix < w) {
                    acc += (double) x[((b * c + ch) * h + iy) * w + ix] * wt[((o * icg + ci) * kh + i) * kw + j];
                  }
                }
              }
            }
            out[((b * oc + o) * oh + y) * ow + xo] = (float) acc;
          }
        }
      }
    }
    return out;
  }

  /** Output length of a pooling window along one axis, as PyTorch defines it. */
  static int pooledLength(int in, int k, int s, int p, boolean ceil) {
    int span = in + 2 * p - k;
    int out = (ceil ? (span + s - 1) / s : span / s) + 1;
    if (ceil && (out - 1) * s >= in + p) {
      out--;
    }
    return out;
  }

  /** 2-D max or average pooling of {@code [planes, h, w]}, symmetric padding. */
  static float[] pool2d(float[] x, int planes, int h, int w, int[] k, int[] s, int[] p, boolean ceil, boolean avg,
      boolean countPad) {
    int oh = pooledLength(h, k[0], s[0], p[0], ceil);
    int ow = pooledLength(w, k[1], s[1], p[1], ceil);
    float[] out = new float[planes * oh * ow];
    for (int c = 0; c < planes; c++) {
      for (int y = 0; y < oh; y++) {
        for (int xo = 0; xo < ow; xo++) {
          double max = Double.NEGATIVE_INFINITY;
          double sum = 0;
          int count = 0;
          int padded = 0;
          for (int i = 0; i < k[0]; i++) {
            for (int j = 0; j < k[1]; j++) {
              int iy = y * s[0] - p[0] + i;
              int ix = xo * s[1] - p[1] + j;
              if (iy < h + p[0] && ix < w + p[1]) {
                padded++;
              }
              if (iy >= 0 && iy < h && ix >= 0 && ix < w) {
                double v = x[(c * h + iy) * w + ix];
                max = Math.max(max, v);
                sum += v;
                count++;
              }
            }
          }
          out[(c * oh + y) * ow + xo] = (float) (avg ? sum / (countPad ? padded : count) : max);
        }
      }
    }
    return out;
  }

  /** Batch norm over axis 1 of {@code [n, c, inner]}. */
  static float[] batchNorm(float[] x, int n, int c, int inner, float[] mean, float[] var, float[] gamma, float[] beta,
      double eps) {
    float[] out = new float[x.length];
    for (int b = 0; b < n; b++) {
      for (int ch = 0; ch < c; ch++) {
        for (int i = 0; i < inner; i++) {
          int at = (b * c + ch) * inner + i;
          out[at] = (float) ((x[at] - mean[ch]) / Math.sqrt(var[ch] + eps) * gamma[ch] + beta[ch]);
        }
      }
    }
    return out;
  }

  /** Layer norm of each row of {@code [rows, cols]}. */
  static float[] layerNorm(float[] x, int cols, float[] gamma, float[] beta, double eps) {
    float[] out = new float[x.length];
    for (int r = 0; r < x.length / cols; r++) {
      double mean = 0;
      for (int i = 0; i < cols; i++) {
        mean += x[r * cols + i];
      }
      mean /= cols;
      double var = 0;
      for (int i = 0; i < cols; i++) {
        var += (x[r * cols + i] - mean) * (x[r * cols + i] - mean);
      }
      var /= cols;
      for (int i = 0; i < cols; i++) {
        out[r * cols + i] = (float) ((x[r * cols + i] - mean) / Math.sqrt(var + eps) * gamma[i] + beta[i]);
      }
    }
    return out;
  }

  /** {@code x [m, k]} times {@code w [n, k]} transposed plus bias. */
  static float[] linear(float[] x, int m, int k, float[] w, int n, float[] bias) {
    float[] out = new float[m * n];
    for (int i = 0; i < m; i++) {
      for (int j = 0; j < n; j++) {
        double acc = bias == null ? 0 : bias[j];
        for (int t = 0; t < k; t++) {
          acc += (double) x[i * k + t] * w[j * k + t];
        }
        out[i * n + j] = (float) acc;
      }
    }
    return out;
  }

  static float[] map(float[] x, java.util.function.DoubleUnaryOperator f) {
    float[] out = new float[x.length];
    for (int i = 0; i < x.length; i++) {
      out[i] = (float) f.applyAsDouble(x[i]);
    }
    return out;
  }

  static float[] random(java.util.Random rnd, int n, float lo, float hi) {
    float[] v = new float[n];
    for (int i = 0; i < n; i++) {
      v[i] = lo + (hi - lo) * rnd.nextFloat();
    }
    return v;
  }
}
