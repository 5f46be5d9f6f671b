package dev.selfbyt.cortexsdr.djl.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The small kernels give the same answers in both implementations as plain double arithmetic. */
class KernelsTest {
  private static List<Kernels> both() {
    assertNotNull(Kernels.vector(), "the tests run with --add-modules jdk.incubator.vector");
    return List.of(Kernels.scalar(), Kernels.vector());
  }

  @Test
  void expShiftedIsExpToFloatPrecision() {
    Random r = new Random(5);
    for (int len : new int[] {1, 15, 16, 17, 128, 131}) {
      float[] src = new float[len + 3];
      for (int i = 0; i < src.length; i++) {
        src[i] = (float) (r.nextGaussian() * 8);
      }
      float max = 3f;
      for (Kernels k : both()) {
        float[] dst = new float[src.length];
        float sum = k.expShifted(src, 3, len, max, dst);
        double expectedSum = 0;
        for (int i = 3; i < 3 + len; i++) {
          double e = Math.exp(src[i] - max);
          expectedSum += e;
          assertEquals(e, dst[i], 3e-7 * e + 1e-37, k.name() + " exp at " + i);
        }
        assertEquals(expectedSum, sum, 1e-5 * expectedSum, k.name() + " sum");
      }
    }
  }

  @Test
  void codeDotsMatchTheirDefinition() {
    Random r = new Random(9);
    for (int len : new int[] {3, 16, 33, 64}) {
      float[] x = new float[len];
      float[] xo = new float[len];
      byte[] codes = new byte[len];
      r.nextBytes(codes);
      for (int i = 0; i < len; i++) {
        x[i] = (float) r.nextGaussian();
        xo[i] = (float) r.nextGaussian();
      }
      double s8 = 0;
      double u4 = 0;
      for (int i = 0; i < len; i++) {
        s8 += x[i] * ((codes[i] & 0xff) - 128);
        u4 += x[i] * (codes[i] & 0xf) + xo[i] * ((codes[i] >> 4) & 0xf);
      }
      for (Kernels k : both()) {
        assertEquals(s8, k.dotS8(x, 0, codes, 0, len), 1e-3, k.name() + " dotS8");
        assertEquals(u4, k.dotU4(x, xo, 0, codes, 0, len), 1e-3, k.name() + " dotU4");
      }
    }
  }

  /** erf by its Taylor series in double (|x| > 5: +-1 within 1e-12), for the reference. */
  private static double erf(double x) {
    if (Math.abs(x) > 5) {
      return Math.signum(x);
    }
    double sum = 0;
    double term = x;
    for (int n = 0; n < 200; n++) {
      sum += term / (2 * n + 1);
      term *= -x * x / (n + 1);
    }
    return 2 / Math.sqrt(Math.PI) * sum;
  }

  @Test
  void geluIsTheErfFormToSevenDigits() {
    Random r = new Random(9);
    for (int len : new int[] {1, 16, 37, 300}) {
      float[] src = new float[len + 2];
      for (int i = 0; i < src.length; i++) {
        src[i] = (float) (r.nextGaussian() * 2.5);
      }
      src[src.length - 1] = -9f; // erf saturates
      for (Kernels k : both()) {
        float[] dst = new float[src.length];
        k.gelu(src, 2, len, dst, 2);
        for (int i = 2; i < 2 + len; i++) {
          double x = src[i];
          double expected = 0.5 * x * (1 + erf(x / Math.sqrt(2)));
          assertEquals(expected, dst[i], 1e-6 * (1 + Math.abs(x)), k.name() + " gelu(" + x + ")");
        }
        assertEquals(0f, dst[0], k.name() + " writes only its range");
      }
    }
  }

  @Test
  void layerNormRowNormalizesThenScalesAndShifts() {
    Random r = new Random(10);
    for (int len : new int[] {1, 16, 21, 384}) {
      float[] src = new float[len + 5];
      float[] g = new float[len];
      float[] b = new float[len];
      for (int i = 0; i < src.length; i++) {
        src[i] = (float) (r.nextGaussian() * 3 + 1);
      }
      for (int i = 0; i < len; i++) {
        g[i] = (float) r.nextGaussian();
        b[i] = (float) r.nextGaussian();
      }
      double mean = 0;
      for (int i = 5; i < 5 + len; i++) {
        mean += src[i];
      }
      mean /= len;
      double var = 0;
      for (int i = 5; i < 5 + len; i++) {
        var += (src[i] - mean) * (src[i] - mean);
      }
      double inv = 1 / Math.sqrt(var / len + 1e-5);
      for (Kernels k : both()) {
        float[] dst = new float[src.length];
        k.layerNormRow(src, 5, len, 1e-5f, g, b, dst);
        float[] plain = new float[src.length];
        k.layerNormRow(src, 5, len, 1e-5f, null, null, plain);
        for (int i = 0; i < len; i++) {
          double n = (src[5 + i] - mean) * inv;
          assertEquals(n * g[i] + b[i], dst[5 + i], 2e-5 * (1 + Math.abs(n * g[i])), k.name() + " at " + i);
          assertEquals(n, plain[5 + i], 2e-5 * (1 + Math.abs(n)), k.name() + " without scale at " + i);
        }
      }
    }
  }
}
