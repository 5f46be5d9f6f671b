package dev.selfbyt.cortexsdr.djl.kernel;

import java.util.Arrays;

/**
 * The products of {@link MatMul} for {@link ScalarKernels}, in loops the JIT auto-vectorizes. On
 * JDK 17, C2 vectorizes a loop only when every array in it is indexed by the same expression and
 * the loop runs a few hundred iterations (its unrolled vector body alone takes 128 floats with
 * AVX-512; shorter loops run in the scalar pre- and post-loops). So the weight is decoded, a wide
 * tile of up to {@value #WIDE} columns at a time, into one 0-based {@code float[]} per element of
 * {@code k}, and each row of {@code x} is multiplied as {@code acc[j] += a * row[j]} into 0-based
 * accumulators, four rows of {@code x} sharing each load of the weight row: measured 10-16
 * GFLOP/s per thread on a loaded AVX-512 machine against 3-4 for the register-blocked scalar loops.
 */
final class ScalarMatMul {
  /** Columns of a tile: longer vector loops, and still an L2-sized tile ({@code k * WIDE} floats). */
  static final int WIDE = 512;
  /** Per-thread buffers: the tile's rows, four accumulators, a decoded panel. */
  private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);

  private ScalarMatMul() {}

  private static final class Scratch {
    float[][] rows = new float[0][];
    final float[][] acc = new float[4][WIDE];
    float[] panel = new float[0];
    final float[] scale = new float[QuantMatrix.PANEL];
    final float[] bias = new float[QuantMatrix.PANEL];

    float[][] rows(int k) {
      if (rows.length < k) {
        rows = new float[k][WIDE];
      }
      return rows;
    }

    float[] panel(int size) {
      if (panel.length < size) {
        panel = new float[size];
      }
      return panel;
    }
  }

  /** {@code y = x * W + bias} for a quantized weight in the column-panel layout. */
  static void multiplyPanels(float[] x, int xOff, int m, QuantMatrix q, float[] bias, float[] y, int yOff) {
    int n = q.rows();
    int k = q.cols();
    int p = QuantMatrix.PANEL;
    int w = Math.min(WIDE, (n + p - 1) / p * p);
    int colTiles = (n + w - 1) / w;
    int rowBlocks = rowBlocks(m, colTiles);
    int rowsPer = (m + rowBlocks - 1) / rowBlocks;
    KernelThreads.forEach(colTiles * rowBlocks, (long) m * n * k, task -> {
      int j0 = (task % colTiles) * w;
      int i0 = (task / colTiles) * rowsPer;
      int nb = Math.min(w, n - j0);
      Scratch s = SCRATCH.get();
      float[][] rows = s.rows(k);
      float[] panel = s.panel(k * p);
      for (int t = j0 / p; t * p < j0 + nb; t++) {
        q.decodePanelTile(Kernels.scalar(), t, panel, s.scale, s.bias);
        int c = t * p - j0;
        int cols = Math.min(p, nb - c);
        for (int kk = 0; kk < k; kk++) {
          System.arraycopy(panel, kk * p, rows[kk], c, cols);
        }
      }
      gemm(x, xOff, i0, Math.min(m, i0 + rowsPer), k, rows, nb, y, yOff + j0, n, bias, j0, s.acc);
    });
  }

  /** The batched dense products of {@link MatMul#multiplyDense}: rows of {@code b} copied into the tile. */
  static void multiplyDense(float[] x, int[] xOffs, int m, int k, float[] b, int[] bOffs, int n, float[] y,
      int[] yOffs, float[] bias) {
    int w = Math.min(WIDE, n);
    int colTiles = (n + w - 1) / w;
    int per = colTiles * xOffs.length;
    int rowBlocks = rowBlocks(m, per);
    int rowsPer = (m + rowBlocks - 1) / rowBlocks;
    KernelThreads.forEach(per * rowBlocks, (long) m * n * k * xOffs.length, task -> {
      int batch = (task % per) / colTiles;
      int j0 = (task % colTiles) * w;
      int i0 = (task / per) * rowsPer;
      int nb = Math.min(w, n - j0);
      Scratch s = SCRATCH.get();
      float[][] rows = s.rows(k);
      for (int kk = 0; kk < k; kk++) {
        System.arraycopy(b, bOffs[batch] + kk * n + j0, rows[kk], 0, nb);
      }
      gemm(x, xOffs[batch], i0, Math.min(m, i0 + rowsPer), k, rows, nb, y, yOffs[batch] + j0, n, bias, j0, s.acc);
    });
  }

  /** Blocks of rows of {@code x} so that a product with few column tiles still fills the threads. */
  private static int rowBlocks(int m, int tiles) {
    int threads = KernelThreads.threads();
    if (tiles >= threads || m < 16) {
      return 1;
    }
    return Math.min((threads + tiles - 1) / tiles, m / 8);
  }

  /**
   * {@code y[yOff + i*ldy + j] = bias[bOff + j] + sum_kk x[xOff + i*k + kk] * rows[kk][j]} for
   * {@code i} in {@code [i0, i1)}, {@code j < nb}: four rows of {@code x} at a time, every loop over
   * {@code j} on 0-based arrays (so C2 vectorizes it).
   */
  static void gemm(float[] x, int xOff, int i0, int i1, int k, float[][] rows, int nb, float[] y, int yOff, int ldy,
      float[] bias, int bOff, float[][] acc) {
    float[] c0 = acc[0];
    float[] c1 = acc[1];
    float[] c2 = acc[2];
    float[] c3 = acc[3];
    int i = i0;
    for (; i + 3 < i1; i += 4) {
      start(c0, nb, bias, bOff);
      start(c1, nb, bias, bOff);
      start(c2, nb, bias, bOff);
      start(c3, nb, bias, bOff);
      int x0 = xOff + i * k;
      for (int kk = 0; kk < k; kk++) {
        float a0 = x[x0 + kk];
        float a1 = x[x0 + k + kk];
        float a2 = x[x0 + 2 * k + kk];
        float a3 = x[x0 + 3 * k + kk];
        float[] r = rows[kk];
        for (int j = 0; j < nb; j++) {
          float v = r[j];
          c0[j] += a0 * v;
          c1[j] += a1 * v;
          c2[j] += a2 * v;
          c3[j] += a3 * v;
        }
      }
      System.arraycopy(c0, 0, y, yOff + i * ldy, nb);
      System.arraycopy(c1, 0, y, yOff + (i + 1) * ldy, nb);
      System.arraycopy(c2, 0, y, yOff + (i + 2) * ldy, nb);
      System.arraycopy(c3, 0, y, yOff + (i + 3) * ldy, nb);
    }
    for (; i < i1; i++) {
      start(c0, nb, bias, bOff);
      int x0 = xOff + i * k;
      for (int kk = 0; kk < k; kk++) {
        float a0 = x[x0 + kk];
        float[] r = rows[kk];
        for (int j = 0; j < nb; j++) {
          c0[j] += a0 * r[j];
        }
      }
      System.arraycopy(c0, 0, y, yOff + i * ldy, nb);
    }
  }

  private static void start(float[] c, int nb, float[] bias, int bOff) {
    if (bias == null) {
      Arrays.fill(c, 0, nb, 0f);
    } else {
      System.arraycopy(bias, bOff, c, 0, nb);
    }
  }
}
