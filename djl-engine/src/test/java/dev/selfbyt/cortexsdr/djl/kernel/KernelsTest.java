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
}
