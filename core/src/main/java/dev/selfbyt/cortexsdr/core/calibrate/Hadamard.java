package dev.selfbyt.cortexsdr.core.calibrate;

/**
 * The orthonormal block-diagonal Walsh-Hadamard matrix {@code H} (blocks of {@code block} along one
 * axis, {@code block} a power of 2): symmetric and its own inverse, so {@code x W = (x H)(H W)}.
 * Applied as the fast transform (additions and subtractions, one scaling), in double precision.
 */
public final class Hadamard {
  private Hadamard() {}

  /**
   * {@code H m} for the row-major {@code [k, n]} matrix {@code m}, in place: each column
   * transformed over consecutive blocks of {@code block} rows.
   *
   * @throws IllegalArgumentException when {@code block} is not a power of 2 of at least 2 or
   *     {@code k} not a multiple of it
   */
  public static void rotateRows(double[] m, int k, int n, int block) {
    check(k, block);
    if ((long) k * n != m.length) {
      throw new IllegalArgumentException("[" + k + ", " + n + "] is not " + m.length + " values");
    }
    double norm = 1 / Math.sqrt(block);
    for (int k0 = 0; k0 < k; k0 += block) {
      // butterflies on whole rows: the inner loops run along n, contiguous
      for (int half = 1; half < block; half *= 2) {
        for (int i = 0; i < block; i += 2 * half) {
          for (int j = i; j < i + half; j++) {
            int a = (k0 + j) * n;
            int c = (k0 + j + half) * n;
            for (int col = 0; col < n; col++) {
              double x = m[a + col];
              double y = m[c + col];
              m[a + col] = x + y;
              m[c + col] = x - y;
            }
          }
        }
      }
      for (int i = k0 * n, end = (k0 + block) * n; i < end; i++) {
        m[i] *= norm;
      }
    }
  }

  /** {@code H w} for a row-major {@code [k, n]} float matrix, as a new array (the transform in double). */
  public static float[] rotateRows(float[] w, int k, int n, int block) {
    double[] d = new double[w.length];
    for (int i = 0; i < w.length; i++) {
      d[i] = w[i];
    }
    rotateRows(d, k, n, block);
    float[] o = new float[w.length];
    for (int i = 0; i < o.length; i++) {
      o[i] = (float) d[i];
    }
    return o;
  }

  /** Whether {@code k} rows split into blocks of {@code block} (a valid block size). */
  public static boolean fits(int k, int block) {
    return block >= 2 && Integer.bitCount(block) == 1 && k >= block && k % block == 0;
  }

  private static void check(int k, int block) {
    if (block < 2 || Integer.bitCount(block) != 1) {
      throw new IllegalArgumentException("the rotation block must be a power of 2 of at least 2, got " + block);
    }
    if (k % block != 0) {
      throw new IllegalArgumentException(k + " rows do not split into blocks of " + block);
    }
  }
}
