package dev.selfbyt.cortexsdr.djl.kernel;

/** Plain Java loops: the kernels any JVM runs. Two rows by four columns per step, four sums kept apart. */
final class ScalarKernels extends Kernels {
  @Override
  public String name() {
    return "scalar";
  }

  @Override
  public void gemmTile(float[] x, int xOff, int m, int k, float[] w, int wOff, int nb, float[] y, int yOff, int ldy) {
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
}
