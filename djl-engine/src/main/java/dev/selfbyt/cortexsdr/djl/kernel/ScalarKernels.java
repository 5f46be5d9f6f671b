package dev.selfbyt.cortexsdr.djl.kernel;

/** Plain Java loops: the kernels any JVM runs (C2 may still vectorize the contiguous inner loops). */
final class ScalarKernels extends Kernels {
  @Override
  public String name() {
    return "scalar";
  }

  /** Eight output columns at a time in local sums (eight independent chains), then the tail. */
  @Override
  public void gemmPanel(float[] x, int xOff, int m, int k, float[] p, int pOff, int ldp, int nb, float[] y, int yOff,
      int ldy, float[] bias, int bOff) {
    for (int i = 0; i < m; i++) {
      int yr = yOff + i * ldy;
      int xr = xOff + i * k;
      int j = 0;
      for (; j + 7 < nb; j += 8) {
        float s0 = 0, s1 = 0, s2 = 0, s3 = 0, s4 = 0, s5 = 0, s6 = 0, s7 = 0;
        if (bias != null) {
          int b = bOff + j;
          s0 = bias[b];
          s1 = bias[b + 1];
          s2 = bias[b + 2];
          s3 = bias[b + 3];
          s4 = bias[b + 4];
          s5 = bias[b + 5];
          s6 = bias[b + 6];
          s7 = bias[b + 7];
        }
        for (int kk = 0, pr = pOff + j; kk < k; kk++, pr += ldp) {
          float a = x[xr + kk];
          s0 += a * p[pr];
          s1 += a * p[pr + 1];
          s2 += a * p[pr + 2];
          s3 += a * p[pr + 3];
          s4 += a * p[pr + 4];
          s5 += a * p[pr + 5];
          s6 += a * p[pr + 6];
          s7 += a * p[pr + 7];
        }
        y[yr + j] = s0;
        y[yr + j + 1] = s1;
        y[yr + j + 2] = s2;
        y[yr + j + 3] = s3;
        y[yr + j + 4] = s4;
        y[yr + j + 5] = s5;
        y[yr + j + 6] = s6;
        y[yr + j + 7] = s7;
      }
      for (; j < nb; j++) {
        float s0 = bias == null ? 0f : bias[bOff + j];
        for (int kk = 0, pr = pOff + j; kk < k; kk++, pr += ldp) {
          s0 += x[xr + kk] * p[pr];
        }
        y[yr + j] = s0;
      }
    }
  }

  @Override
  public void gemmRows(float[] x, int xOff, int m, int k, float[] w, int wOff, int nb, float[] y, int yOff, int ldy) {
    int i = 0;
    for (; i + 1 < m; i += 2) {
      int x0 = xOff + i * k;
      int x1 = x0 + k;
      int j = 0;
      for (; j + 3 < nb; j += 4) {
        int w0 = wOff + j * k;
        int w1 = w0 + k;
        int w2 = w1 + k;
        int w3 = w2 + k;
        float s00 = 0, s01 = 0, s02 = 0, s03 = 0, s10 = 0, s11 = 0, s12 = 0, s13 = 0;
        for (int kk = 0; kk < k; kk++) {
          float a0 = x[x0 + kk];
          float a1 = x[x1 + kk];
          float b0 = w[w0 + kk];
          float b1 = w[w1 + kk];
          float b2 = w[w2 + kk];
          float b3 = w[w3 + kk];
          s00 += a0 * b0;
          s01 += a0 * b1;
          s02 += a0 * b2;
          s03 += a0 * b3;
          s10 += a1 * b0;
          s11 += a1 * b1;
          s12 += a1 * b2;
          s13 += a1 * b3;
        }
        int r0 = yOff + i * ldy + j;
        int r1 = r0 + ldy;
        y[r0] = s00;
        y[r0 + 1] = s01;
        y[r0 + 2] = s02;
        y[r0 + 3] = s03;
        y[r1] = s10;
        y[r1 + 1] = s11;
        y[r1 + 2] = s12;
        y[r1 + 3] = s13;
      }
      for (; j < nb; j++) {
        y[yOff + i * ldy + j] = dot(x, x0, w, wOff + j * k, k);
        y[yOff + (i + 1) * ldy + j] = dot(x, x1, w, wOff + j * k, k);
      }
    }
    for (; i < m; i++) {
      for (int j = 0; j < nb; j++) {
        y[yOff + i * ldy + j] = dot(x, xOff + i * k, w, wOff + j * k, k);
      }
    }
  }

  @Override
  public void dequant8(byte[] codes, int off, int len, float scale, float zero, float[] dst, int dOff) {
    for (int i = 0; i < len; i++) {
      dst[dOff + i] = ((codes[off + i] & 0xff) - zero) * scale;
    }
  }

  @Override
  public float dotS8(float[] x, int xOff, byte[] codes, int cOff, int len) {
    float s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    int i = 0;
    for (; i + 3 < len; i += 4) {
      s0 += x[xOff + i] * (byte) (codes[cOff + i] ^ 0x80);
      s1 += x[xOff + i + 1] * (byte) (codes[cOff + i + 1] ^ 0x80);
      s2 += x[xOff + i + 2] * (byte) (codes[cOff + i + 2] ^ 0x80);
      s3 += x[xOff + i + 3] * (byte) (codes[cOff + i + 3] ^ 0x80);
    }
    for (; i < len; i++) {
      s0 += x[xOff + i] * (byte) (codes[cOff + i] ^ 0x80);
    }
    return (s0 + s1) + (s2 + s3);
  }

  @Override
  public float dotU4(float[] xe, float[] xo, int xOff, byte[] codes, int cOff, int len) {
    float s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    int i = 0;
    for (; i + 1 < len; i += 2) {
      int b0 = codes[cOff + i];
      int b1 = codes[cOff + i + 1];
      s0 += xe[xOff + i] * (b0 & 0xf);
      s1 += xo[xOff + i] * ((b0 >> 4) & 0xf);
      s2 += xe[xOff + i + 1] * (b1 & 0xf);
      s3 += xo[xOff + i + 1] * ((b1 >> 4) & 0xf);
    }
    for (; i < len; i++) {
      int b = codes[cOff + i];
      s0 += xe[xOff + i] * (b & 0xf) + xo[xOff + i] * ((b >> 4) & 0xf);
    }
    return (s0 + s1) + (s2 + s3);
  }

  private static final float LOG2E = 1.44269504f;
  private static final float LN2_HI = 0.693145752f;
  private static final float LN2_LO = 1.42860677e-6f;

  /**
   * {@code e^x} in float, relative error about 1e-7: {@code x = k ln2 + r} with {@code |r| <= ln2/2},
   * a degree-6 Taylor polynomial for {@code e^r}, and {@code 2^k} built in the exponent bits.
   */
  static float exp(float x) {
    x = x < -87.3f ? -87.3f : x > 88.7f ? 88.7f : x;
    // x * LOG2E + 128.5 > 0 here, so the int cast rounds down: k = round(x / ln2)
    int k = (int) (x * LOG2E + 128.5f) - 128;
    float kf = k;
    float r = x - kf * LN2_HI - kf * LN2_LO;
    float p = 1f + r * (1f + r * (0.5f + r * (1f / 6 + r * (1f / 24 + r * (1f / 120 + r * (1f / 720))))));
    return p * Float.intBitsToFloat((k + 127) << 23);
  }

  @Override
  public float expShifted(float[] src, int off, int len, float max, float[] dst) {
    for (int i = 0; i < len; i++) {
      dst[off + i] = exp(src[off + i] - max);
    }
    float s = 0;
    for (int i = 0; i < len; i++) {
      s += dst[off + i];
    }
    return s;
  }

  /** Per-thread row buffers of {@link #softmaxRows}: the exponent's polynomial, its power of two. */
  private static final ThreadLocal<float[][]> SOFTMAX = ThreadLocal.withInitial(() -> new float[2][0]);

  /**
   * The softmax of {@link Kernels#softmaxRows} with the exponential in two loops over 0-based
   * row buffers: first the reduction {@code x = k ln2 + r} (k rounded by adding and subtracting
   * 1.5 * 2^23) and the polynomial of {@link #exp}, in float only, which C2 vectorizes; then the
   * scaling by {@code 2^k}, whose float-to-int conversion JDK 17 does not vectorize, as a short
   * scalar loop. The same values as {@link #exp} to within a unit in the last place.
   */
  @Override
  public void softmaxRows(float[] x, int r0, int r1, int cols, float scale, float[] m, int[] maskRow, int mStep,
      float[] y) {
    float[][] buf = SOFTMAX.get();
    if (buf[0].length < cols) {
      buf[0] = new float[cols];
      buf[1] = new float[cols];
    }
    float[] p = buf[0];
    float[] kf = buf[1];
    for (int r = r0; r < r1; r++) {
      int o = r * cols;
      float max = affineMax(x, o, scale, m, m == null ? 0 : maskRow[r], mStep, p, 0, cols);
      expReduced(p, kf, cols, max);
      float sum = 0;
      for (int i = 0; i < cols; i++) {
        float e = p[i] * Float.intBitsToFloat(((int) kf[i] + 127) << 23);
        p[i] = e;
        sum += e;
      }
      float inv = (float) (1.0 / sum);
      for (int i = 0; i < cols; i++) {
        y[o + i] = p[i] * inv;
      }
    }
  }

  /** {@code p[i] = e^r}, {@code kf[i] = k} with {@code p[i] - max = k ln2 + r} (clamped as {@link #exp}), {@code i < n}. */
  private static void expReduced(float[] p, float[] kf, int n, float max) {
    for (int i = 0; i < n; i++) {
      float v = Math.max(p[i] - max, -87.3f);
      float k = (v * LOG2E + 12582912f) - 12582912f; // round to nearest: 1.5 * 2^23
      float r = v - k * LN2_HI - k * LN2_LO;
      p[i] = 1f + r * (1f + r * (0.5f + r * (1f / 6 + r * (1f / 24 + r * (1f / 120 + r * (1f / 720))))));
      kf[i] = k;
    }
  }

  /** Per-thread buffers of {@link #withoutDenormals}: a block of the input, its lanes' maxima. */
  private static final ThreadLocal<float[][]> DENORMAL_CHECK = ThreadLocal.withInitial(() -> new float[2][256]);

  /**
   * The check of {@link Kernels#withoutDenormals} without a branch per element, so C2 vectorizes
   * it: {@code f(a) = ((MIN_NORMAL - a) * 2^126) * (a * 2^126)} for {@code a = |x|} is positive
   * exactly for the denormals (0 for zero, negative or minus infinity for normal values, both
   * factors exact and normal where it matters), and a lane-wise maximum of it over blocks copied
   * to a 0-based buffer (C2 17 vectorizes only loops whose arrays share one index) says whether
   * any is. Measured on JDK 17, one thread: 0.28 ns per element, the early-exit scan 0.64. A NaN
   * keeps its lane's maximum NaN, so a denormal in that lane stays (the output is NaN anyway).
   */
  @Override
  public float[] withoutDenormals(float[] x, int off, int len) {
    float[][] buf = DENORMAL_CHECK.get();
    float[] block = buf[0];
    float[] lanes = buf[1];
    int n = block.length;
    int end = off + len;
    int i = off;
    if (len >= n) {
      java.util.Arrays.fill(lanes, Float.NEGATIVE_INFINITY);
      for (; i + n <= end; i += n) {
        System.arraycopy(x, i, block, 0, n);
        for (int j = 0; j < n; j++) {
          float a = Math.abs(block[j]);
          lanes[j] = Math.max(lanes[j], ((Float.MIN_NORMAL - a) * TWO_126) * (a * TWO_126));
        }
      }
      for (int j = 0; j < n; j++) {
        if (lanes[j] > 0f) {
          return flushDenormals(x, off, end);
        }
      }
    }
    return super.withoutDenormals(x, i, end - i); // none before i: a copy flushed from there on is right
  }

  private static final float TWO_126 = 0x1p126f;

  @Override
  public void axpy(float a, float[] x, int xOff, float[] y, int yOff, int len) {
    for (int i = 0; i < len; i++) {
      y[yOff + i] += a * x[xOff + i];
    }
  }

  @Override
  public float dot(float[] a, int aOff, float[] b, int bOff, int len) {
    float s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    int i = 0;
    for (; i + 3 < len; i += 4) {
      s0 += a[aOff + i] * b[bOff + i];
      s1 += a[aOff + i + 1] * b[bOff + i + 1];
      s2 += a[aOff + i + 2] * b[bOff + i + 2];
      s3 += a[aOff + i + 3] * b[bOff + i + 3];
    }
    for (; i < len; i++) {
      s0 += a[aOff + i] * b[bOff + i];
    }
    return (s0 + s1) + (s2 + s3);
  }

  @Override
  public void decodePanel(byte[] codes, int off, int bits, int len, float[] scale, float[] bias, float[] dst,
      int dOff) {
    decodePanelScalar(codes, off, bits, len, scale, bias, dst, dOff);
  }

  @Override
  public void gelu(float[] src, int off, int len, float[] dst, int dOff) {
    // x/2 (1 + erf(x/sqrt 2)) = (x + |x| erf(|x|/sqrt 2)) / 2, erf odd: no branch on the sign, so
    // C2 vectorizes the loop (the form with erf's sign test ran 9x slower, scalar); one index
    // expression for both arrays (the callers pass off == dOff), as C2 17 needs when they may alias
    if (off != dOff) {
      float[] t = new float[len];
      System.arraycopy(src, off, t, 0, len);
      gelu(t, 0, len, t, 0);
      System.arraycopy(t, 0, dst, dOff, len);
      return;
    }
    for (int i = off, end = off + len; i < end; i++) {
      float x = src[i];
      float ax = Math.abs(x);
      float t = ax * SQRT_HALF;
      float p = 1f + t * (ERF_A1 + t * (ERF_A2 + t * (ERF_A3 + t * (ERF_A4 + t * (ERF_A5 + t * ERF_A6)))));
      p *= p;
      p *= p;
      p *= p;
      p *= p;
      dst[i] = 0.5f * (x + ax * (1f - 1f / p));
    }
  }

  @Override
  public void layerNormRow(float[] src, int off, int len, float eps, float[] g, float[] b, float[] dst) {
    float sum = 0;
    for (int i = 0; i < len; i++) {
      sum += src[off + i];
    }
    float mean = sum / len;
    float var = 0;
    for (int i = 0; i < len; i++) {
      float d = src[off + i] - mean;
      var += d * d;
    }
    float inv = (float) (1.0 / Math.sqrt(var / len + eps));
    for (int i = 0; i < len; i++) {
      float v = (src[off + i] - mean) * inv;
      dst[off + i] = v * (g == null ? 1f : g[i]) + (b == null ? 0f : b[i]);
    }
  }

  @Override
  public void scale(float[] a, int off, int len, float f) {
    for (int i = 0; i < len; i++) {
      a[off + i] *= f;
    }
  }

  @Override
  public float affineMax(float[] x, int xOff, float scale, float[] m, int mOff, int mStep, float[] y, int yOff,
      int len) {
    float max = Float.NEGATIVE_INFINITY;
    for (int i = 0; i < len; i++) {
      float v = x[xOff + i] * scale + (m == null ? 0f : m[mOff + i * mStep]);
      y[yOff + i] = v;
      max = v > max ? v : max;
    }
    return max;
  }
}
