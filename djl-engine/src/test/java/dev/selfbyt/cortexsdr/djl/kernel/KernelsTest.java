package dev.selfbyt.cortexsdr.djl.kernel;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The small kernels give the same answers in every implementation as plain double arithmetic. */
class KernelsTest {
  /** Scalar, Vector API and native kernels at every instruction set this CPU runs. */
  private static List<Kernels> both() {
    return AllKernels.list();
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
  void layerNormRowsIsLayerNormRowOnEachRow() {
    Random r = new Random(12);
    for (int len : new int[] {1, 21, 384}) {
      int rows = 9;
      float[] src = new float[rows * len];
      float[] g = new float[len];
      for (int i = 0; i < src.length; i++) {
        src[i] = (float) (r.nextGaussian() * 3 + 1);
      }
      for (int i = 0; i < len; i++) {
        g[i] = (float) r.nextGaussian();
      }
      for (Kernels k : both()) {
        float[] one = new float[src.length];
        for (int row = 1; row < rows - 2; row++) {
          k.layerNormRow(src, row * len, len, 1e-5f, g, null, one);
        }
        float[] all = new float[src.length];
        k.layerNormRows(src, 1, rows - 2, len, 1e-5f, g, null, all);
        assertArrayEquals(one, all, k.name() + " len " + len); // same arithmetic, rows 0, 7, 8 untouched
      }
    }
  }

  @Test
  void softmaxRowsIsTheScaledMaskedSoftmaxOfEachRowInOneCall() {
    Random r = new Random(11);
    for (int cols : new int[] {1, 7, 33, 128}) {
      int rows = 13;
      float[] x = new float[rows * cols];
      for (int i = 0; i < x.length; i++) {
        x[i] = (float) (r.nextGaussian() * 6);
      }
      // two mask rows (0 and -10000 where padding), rows pick one; and a one-value mask per row
      float[] mask = new float[2 * cols + rows];
      for (int i = 0; i < cols; i++) {
        mask[cols + i] = i % 3 == 2 ? -10000f : 0f;
      }
      for (int i = 0; i < rows; i++) {
        mask[2 * cols + i] = (float) r.nextGaussian();
      }
      int[] rowOf = new int[rows];
      int[] oneOf = new int[rows];
      for (int i = 0; i < rows; i++) {
        rowOf[i] = (i % 2) * cols;
        oneOf[i] = 2 * cols + i;
      }
      float scale = 0.125f;
      for (Kernels k : both()) {
        for (int variant = 0; variant < 3; variant++) {
          float[] m = variant == 0 ? null : mask;
          int[] at = variant == 1 ? rowOf : oneOf;
          int step = variant == 1 ? 1 : 0;
          float[] y = new float[x.length];
          k.softmaxRows(x, 2, rows - 1, cols, scale, m, at, step, y); // rows 2..rows-2, the rest untouched
          for (int row = 0; row < rows; row++) {
            double max = Double.NEGATIVE_INFINITY;
            double[] e = new double[cols];
            for (int j = 0; j < cols; j++) {
              e[j] = x[row * cols + j] * (double) scale + (m == null ? 0 : m[at[row] + j * step]);
              max = Math.max(max, e[j]);
            }
            double sum = 0;
            for (int j = 0; j < cols; j++) {
              e[j] = Math.exp(e[j] - max);
              sum += e[j];
            }
            for (int j = 0; j < cols; j++) {
              double want = row < 2 || row >= rows - 1 ? 0 : e[j] / sum;
              assertEquals(want, y[row * cols + j], 2e-6 * want + 1e-30,
                  k.name() + " cols " + cols + " variant " + variant + " row " + row + " col " + j);
            }
          }
        }
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
  void geluReadsAndWritesAtDifferentOffsets() {
    Random r = new Random(10);
    float[] src = new float[41];
    for (int i = 0; i < src.length; i++) {
      src[i] = (float) (r.nextGaussian() * 2.5);
    }
    for (Kernels k : both()) {
      float[] same = new float[src.length];
      k.gelu(src, 0, src.length, same, 0);
      float[] dst = new float[src.length + 5];
      k.gelu(src, 3, 31, dst, 5);
      for (int i = 0; i < 31; i++) {
        assertEquals(same[3 + i], dst[5 + i], k.name() + " gelu at " + i);
      }
      assertEquals(0f, dst[4], k.name() + " writes only its range");
      assertEquals(0f, dst[36], k.name() + " writes only its range");
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
  @Test
  void gemmPanelMatchesDoubleReferenceOnOddShapes() {
    Random r = new Random(12);
    for (int m : new int[] {1, 3, 17, 26}) {
      for (int k : new int[] {1, 7, 65, 130}) {
        for (int nb : new int[] {1, 7, 32}) {
          for (int ldp : new int[] {32, 45}) {
            float[] x = gaussians(r, 2 + m * k);
            float[] p = gaussians(r, 1 + k * ldp);
            float[] bias = gaussians(r, 3 + nb);
            for (Kernels kern : both()) {
              for (boolean withBias : new boolean[] {false, true}) {
                int ldy = nb + 2;
                float[] y = new float[1 + m * ldy];
                kern.gemmPanel(x, 2, m, k, p, 1, ldp, nb, y, 1, ldy, withBias ? bias : null, 3);
                for (int i = 0; i < m; i++) {
                  for (int j = 0; j < nb; j++) {
                    double e = withBias ? bias[3 + j] : 0;
                    for (int kk = 0; kk < k; kk++) {
                      e += (double) x[2 + i * k + kk] * p[1 + kk * ldp + j];
                    }
                    String what = kern.name() + " m=" + m + " k=" + k + " nb=" + nb + " ldp=" + ldp + " bias="
                        + withBias + " at " + i + "," + j;
                    assertEquals(e, y[1 + i * ldy + j], 1e-5 * Math.sqrt(k) * (1 + Math.abs(e)), what);
                  }
                  for (int j = nb; j < ldy && i * ldy + j + 1 < y.length; j++) {
                    assertEquals(0f, y[1 + i * ldy + j], kern.name() + " writes only its columns");
                  }
                }
              }
            }
          }
        }
      }
    }
  }

  @Test
  void gemmRowsMatchesDoubleReference() {
    Random r = new Random(13);
    for (int m : new int[] {1, 3, 17}) {
      for (int k : new int[] {5, 64, 131}) {
        for (int nb : new int[] {1, 7, 33}) {
          float[] x = gaussians(r, m * k);
          float[] w = gaussians(r, 4 + nb * k);
          for (Kernels kern : both()) {
            float[] y = new float[m * nb];
            kern.gemmRows(x, 0, m, k, w, 4, nb, y, 0, nb);
            for (int i = 0; i < m; i++) {
              for (int j = 0; j < nb; j++) {
                double e = 0;
                for (int kk = 0; kk < k; kk++) {
                  e += (double) x[i * k + kk] * w[4 + j * k + kk];
                }
                assertEquals(e, y[i * nb + j], 1e-5 * Math.sqrt(k) * (1 + Math.abs(e)),
                    kern.name() + " m=" + m + " k=" + k + " nb=" + nb);
              }
            }
          }
        }
      }
    }
  }

  @Test
  void decodedPanelsAreCodesTimesScalePlusBias() {
    Random r = new Random(14);
    int p = QuantMatrix.PANEL;
    for (int bits : new int[] {8, 4}) {
      for (int len : new int[] {1, 5, 64}) {
        byte[] codes = new byte[3 + len * p];
        r.nextBytes(codes);
        float[] scale = gaussians(r, p);
        float[] bias = gaussians(r, p);
        for (Kernels kern : both()) {
          float[] dst = new float[2 + len * p];
          kern.decodePanel(codes, 3, bits, len, scale, bias, dst, 2);
          float[] ref = new float[dst.length];
          Kernels.decodePanelScalar(codes, 3, bits, len, scale, bias, ref, 2);
          for (int i = 0; i < dst.length; i++) {
            assertEquals(ref[i], dst[i], 1e-6f * (1 + Math.abs(ref[i])), kern.name() + " bits=" + bits + " at " + i);
          }
        }
      }
    }
  }

  /**
   * The W8A8 product against a 64-bit integer reference, at every kernel set and native
   * instruction set (AMX included where the CPU has it): rows past blocks of 12 and 32, depths
   * with a tail past a multiple of 64, several panels in one call; 8-bit codes, and 7-bit codes
   * told as such (the AVX2 path then pairs products in 16 bits).
   */
  @Test
  void integerProductIsExactBeforeItsScales() {
    for (boolean narrow : new boolean[] {false, true}) {
      integerProductIsExact(narrow);
    }
  }

  private static void integerProductIsExact(boolean narrow) {
    Random r = new Random(15);
    int p = QuantMatrix.PANEL;
    for (int m : new int[] {1, 3, 12, 17, 30, 33, 70}) {
      for (int k : new int[] {1, 7, 64, 130, 200}) {
        for (int nb : new int[] {1, 7, 32, 45, 64}) {
          int kp = (k + 3) & ~3;
          int panels = (nb + p - 1) / p;
          byte[] xq = new byte[m * kp];
          r.nextBytes(xq);
          byte[] w = new byte[panels * kp * p];
          int[] colSums = new int[nb];
          for (int j = 0; j < nb; j++) {
            for (int kk = 0; kk < k; kk++) {
              int at = at(j, kk, kp);
              // symmetric codes: 8-bit, or 7-bit with the extremes -64 and 64 a narrow kernel must take
              w[at] = (byte) (narrow ? r.nextInt(129) - 64 : r.nextInt(255) - 127);
              colSums[j] += w[at];
            }
          }
          int zp = r.nextInt(256);
          float[] ws = new float[nb];
          float[] bias = gaussians(r, nb);
          for (int j = 0; j < nb; j++) {
            ws[j] = 1e-3f * (1 + r.nextInt(9));
          }
          float as = 0.02f;
          for (Kernels kern : both()) {
            float[] y = new float[m * nb];
            kern.gemmU8S8(xq, 0, m, kp, w, 0, nb, zp, colSums, 0, as, ws, 0, y, 0, nb, bias, 0, narrow);
            for (int i = 0; i < m; i++) {
              for (int j = 0; j < nb; j++) {
                long acc = 0;
                for (int kk = 0; kk < k; kk++) {
                  acc += ((xq[i * kp + kk] & 0xff) - zp) * (long) w[at(j, kk, kp)];
                }
                float e = (float) acc * (as * ws[j]) + bias[j];
                assertEquals(e, y[i * nb + j], 1e-6f * (1 + Math.abs(e)),
                    kern.name() + (narrow ? " 7-bit" : "") + " m=" + m + " k=" + k + " nb=" + nb + " at " + i + "," + j);
              }
            }
          }
        }
      }
    }
  }

  /** Where element {@code kk} of column {@code j} lies in W8A8 panels of depth {@code kp}. */
  private static int at(int j, int kk, int kp) {
    int p = QuantMatrix.PANEL;
    return (j / p) * kp * p + ((kk >> 2) * p + j % p) * 4 + (kk & 3);
  }

  @Test
  void dynamicQuantizationGivesOnnxCodesLessTheZeroPointInEveryImplementation() {
    Random r = new Random(21);
    for (int len : new int[] {1, 7, 8, 16, 33, 384, 1001}) {
      float[] x = new float[len + 2];
      for (int i = 0; i < x.length; i++) {
        x[i] = (float) (r.nextGaussian() * 3 + 0.5);
      }
      // edges: a tie at .5 after the division, the range's ends, NaN (ignored by the range, code 0),
      // a denormal and an exact zero
      if (len > 6) {
        x[3] = Float.NaN;
        x[4] = Float.MIN_VALUE;
        x[5] = -0f;
      }
      for (Kernels k : both()) {
        float[] mm = {Float.NaN, Float.NaN};
        k.rangeF32(x, 2, len, mm);
        float min = 0f;
        float max = 0f;
        for (int i = 2; i < 2 + len; i++) {
          if (!Float.isNaN(x[i])) {
            min = Math.min(min, x[i]);
            max = Math.max(max, x[i]);
          }
        }
        assertEquals(min, mm[0], 0.0, k.name() + " min, len " + len); // a delta: -0 and 0 alike
        assertEquals(max, mm[1], 0.0, k.name() + " max, len " + len);
        if (k instanceof NativeKernels) {
          continue; // the native kernels write byte codes (quantizeU8, compared with ONNX Runtime elsewhere)
        }
        float scale = max == min ? 1f : (max - min) / 255f;
        int zp = (int) Math.rint(Math.max(0f, Math.min(255f, 0f - min / scale)));
        // a quotient that is exactly k + 0.5: rounds to the even neighbour
        x[len + 1] = 2.5f * scale;
        float[] got = new float[len + 3];
        k.quantizeCentered(x, 2, len, scale, zp, got, 1);
        for (int i = 0; i < len; i++) {
          float v = x[2 + i];
          // ONNX DynamicQuantizeLinear: saturate(round_half_even(x / scale) + zp); NaN as a cast gives it: 0
          double q = Float.isNaN(v) ? 0 : Math.max(0, Math.min(255, Math.rint(v / scale) + zp));
          assertEquals(q - zp, got[1 + i], 0.0, k.name() + " code at " + i + " of " + len + " (x = " + v + ")");
        }
      }
    }
    for (Kernels k : both()) {
      if (k instanceof NativeKernels) {
        continue;
      }
      // infinities saturate, a zero scale (all values equal and tiny) gives 0 or 255, never NaN
      float[] got = new float[4];
      k.quantizeCentered(new float[] {Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, 1e-40f, -1e-40f}, 0, 4, 1e-45f,
          128, got, 0);
      assertArrayEquals(new float[] {127f, -128f, 127f, -128f}, got, k.name());
    }
  }

  @Test
  void int8PanelCodesDecodeToTheirValuesTimesTheirColumnsScaleInThePanelLayout() {
    Random r = new Random(8);
    int p = QuantMatrix.PANEL;
    float[] scale = new float[p];
    for (int j = 0; j < p; j++) {
      scale[j] = (float) Math.abs(r.nextGaussian() * 0.01);
    }
    for (int kp : new int[] {4, 12, 388}) {
      byte[] codes = new byte[3 + kp * p];
      r.nextBytes(codes);
      for (Kernels k : both()) {
        float[] dst = new float[1 + kp * p];
        k.decodeS8Panel(codes, 3, kp, scale, dst, 1);
        for (int d = 0; d < kp; d++) {
          for (int j = 0; j < p; j++) {
            assertEquals(codes[3 + ((d >> 2) * p + j) * 4 + (d & 3)] * scale[j], dst[1 + d * p + j], 0.0,
                k.name() + " depth " + d + " column " + j + " of " + kp);
          }
        }
      }
    }
  }

  @Test
  void denormalActivationsAreFlushedBeforeJavaProductsAndLeftToTheHardwareInNativeOnes() {
    Random r = new Random(16);
    float[] x = gaussians(r, 70);
    for (Kernels kern : both()) {
      assertTrue(kern.withoutDenormals(x, 3, 60) == x, kern.name() + ": no denormal, no copy");
    }
    float[] d = x.clone();
    d[40] = 1e-40f;
    d[41] = -3e-39f;
    d[2] = 1e-41f; // outside the range asked for
    for (Kernels kern : both()) {
      float[] f = kern.withoutDenormals(d, 3, 60);
      if (kern instanceof NativeKernels) {
        assertTrue(f == d, kern.name() + " flushes in hardware (FTZ/DAZ)");
        continue;
      }
      assertTrue(f != d, kern.name() + " copies");
      assertEquals(1e-40f, d[40], "the caller's array is unchanged");
      assertEquals(0f, f[40], kern.name());
      assertEquals(0f, f[41], kern.name());
      assertEquals(1e-41f, f[2], kern.name() + " flushes only the range");
      for (int i = 3; i < 63; i++) {
        if (i != 40 && i != 41) {
          assertEquals(d[i], f[i], kern.name() + " at " + i);
        }
      }
    }
  }

  @Test
  void scalarDenormalCheckFindsEachDenormalAnywhereInLongActivations() {
    Kernels kern = Kernels.scalar();
    int off = 5;
    int len = 256 * 5 + 37; // whole blocks of the lane-wise check, then a tail
    float[] x = gaussians(new Random(17), off + len + 9);
    x[off + 20] = 0f;
    x[off + 21] = Float.MIN_NORMAL;
    x[off + 22] = -Float.MIN_NORMAL;
    x[off + 23] = Float.POSITIVE_INFINITY;
    x[off + 24] = -Float.MAX_VALUE;
    x[2] = Float.MIN_VALUE; // outside the range asked for
    assertTrue(kern.withoutDenormals(x, off, len) == x, "zero, the smallest normals and infinities are not denormal");
    for (int at : new int[] {off, off + 255, off + 256, off + 600, off + 256 * 5 - 1, off + 256 * 5, off + len - 1}) {
      for (float v : new float[] {Float.MIN_VALUE, -Float.MIN_VALUE, Math.nextDown(Float.MIN_NORMAL), -1e-40f}) {
        float[] d = x.clone();
        d[at] = v;
        float[] f = kern.withoutDenormals(d, off, len);
        assertTrue(f != d, v + " at " + at + " found");
        for (int i = 0; i < d.length; i++) {
          assertEquals(i == at ? 0f : d[i], f[i], v + " at " + at + ": element " + i);
        }
      }
    }
  }

  @Test
  void nativeKernelsRejectRangesOutsideTheirArraysInsteadOfWritingPastThem() {
    for (Kernels kern : AllKernels.natives()) {
      float[] x = new float[3 * 8];
      float[] p = new float[8 * 32];
      float[] shortY = new float[2 * 32 + 5];
      org.junit.jupiter.api.Assertions.assertThrows(ArrayIndexOutOfBoundsException.class,
          () -> kern.gemmPanel(x, 0, 3, 8, p, 0, 32, 32, shortY, 0, 32), kern.name());
      org.junit.jupiter.api.Assertions.assertThrows(ArrayIndexOutOfBoundsException.class,
          () -> kern.gelu(x, 20, 8, x, 0), kern.name());
      org.junit.jupiter.api.Assertions.assertThrows(ArrayIndexOutOfBoundsException.class,
          () -> kern.dotS8(x, 0, new byte[4], 0, 8), kern.name());
    }
  }

  private static float[] gaussians(Random r, int n) {
    float[] a = new float[n];
    for (int i = 0; i < n; i++) {
      a[i] = (float) r.nextGaussian();
    }
    return a;
  }
}
