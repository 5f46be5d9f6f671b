package dev.selfbyt.cortexsdr.djl.kernel;

import java.util.Arrays;

/**
 * The products of {@link MatMul} for {@link ScalarKernels}, in loops the JIT auto-vectorizes. On
 * JDK 17, C2 vectorizes a loop only when every array in it is indexed by the same expression and
 * the loop runs a few hundred iterations (its unrolled vector body alone takes 128 floats with
 * AVX-512; shorter loops run in the scalar pre- and post-loops). So the weight is decoded, a wide
 * tile of up to {@value #WIDE} columns at a time, into one 0-based {@code float[]} per element of
 * {@code k}, and each row of {@code x} is multiplied several elements of {@code k} at a time into
 * a 0-based accumulator row, {@code acc[j] = fma(a1, r1[j], fma(a0, r0[j], acc[j]))...}: one load
 * and one store of the accumulator per several multiply-adds (the store port, not the
 * arithmetic, bounds the loop of four rows of {@code x} sharing one weight row, 26 GFLOP/s per
 * thread). Measured per thread on JDK 17 (AVX-512, loaded machine): six weight rows with {@code
 * Math.fma} 40 GFLOP/s, four 36, four with multiply and add 32; eight weight rows, or two rows of
 * {@code x} sharing four weight rows, C2 17 leaves scalar (11-16); JDK 25 vectorizes the latter
 * at 52 and gets it ({@link #TWO_ROWS}). The depth runs in chunks of {@value #K_CHUNK}, so the
 * chunk of the tile all rows of a block pass over ({@code 12 x 512} floats, 24 KB) stays in L1
 * and only the accumulator row moves: measured per thread on JDK 17 (Sapphire Rapids, 48 KB L1,
 * load average 4-6), {@code k} 384 and 1536, 512 columns: chunks of 192 (L2) 49-51 GFLOP/s, 24
 * 62, 12 and 18 70-72, 6 67-70 (a whole {@code 1536 x 512} tile, 3 MB, had run at half the
 * speed of 192). The columns are split so each thread decodes only its own.
 */
final class ScalarMatMul {
  /** Columns of a tile at most: long vector loops, and a {@code K_CHUNK x WIDE} chunk in L1. */
  static final int WIDE = 512;
  /** Elements of {@code k} whose tile rows one pass of the rows of {@code x} reads (a multiple of 4 and 6; L1). */
  static final int K_CHUNK = 12;
  /** Rows of {@code x} whose accumulators are live together (at most {@code 64 x WIDE} floats). */
  static final int ROW_BLOCK = 64;
  /** Per-thread buffers: the tile's rows, the row accumulators, a panel's group constants. */
  private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);

  private ScalarMatMul() {}

  private static final class Scratch {
    float[][] rows = new float[0][];
    final float[][] acc = new float[ROW_BLOCK][WIDE];
    final float[] scale = new float[QuantMatrix.PANEL];
    final float[] bias = new float[QuantMatrix.PANEL];

    float[][] rows(int k) {
      if (rows.length < k) {
        rows = new float[k][WIDE];
      }
      return rows;
    }
  }

  /**
   * Columns per task for {@code n} columns: at most {@value #WIDE}, a multiple of the panel, and
   * as many tasks as a multiple of the threads where the columns allow (each thread decodes only
   * its columns, none waits for a last odd tile).
   */
  static int tileWidth(int n) {
    int p = QuantMatrix.PANEL;
    int threads = Math.max(1, KernelThreads.threads());
    int tasks = threads * ((n + threads * WIDE - 1) / (threads * WIDE));
    int w = ((n + tasks - 1) / tasks + p - 1) / p * p;
    return Math.max(p, Math.min(WIDE, w));
  }

  /** Tiles narrower than this run the loops slowly enough that splitting the rows of {@code x} pays instead. */
  static final int NARROW = 384;

  /**
   * {@link #tileWidth(int)} for a product of {@code m} rows that may also be split by rows: when
   * splitting the columns among the threads leaves tiles narrower than {@value #NARROW} and the
   * widest tiles ({@value #WIDE} at most) divide among the threads, those, each thread taking a
   * block of rows of the tile they decode together. Measured per thread on JDK 17, {@code k} 384 and
   * 1536: 192 columns 49-50 GFLOP/s, 384 64-65, 512 69-70; decoding a panel element (0.45 ns)
   * costs about a fifth of its multiply-adds over 64 rows, so by these figures a {@code 384 x 384}
   * product on two threads runs about an eighth faster with the rows split even if each thread
   * decoded the whole tile (an estimate; the threads share the decode, see {@link #multiplyPanels}).
   */
  static int tileWidth(int n, int m) {
    int w = tileWidth(n);
    int threads = Math.max(1, KernelThreads.threads());
    int tiles = (n + WIDE - 1) / WIDE;
    if (w < NARROW && tiles < threads && threads % tiles == 0 && m >= 8 * threads) {
      int p = QuantMatrix.PANEL;
      return ((n + tiles - 1) / tiles + p - 1) / p * p;
    }
    return w;
  }

  /** {@code y = x * W + bias} for a quantized weight in the column-panel layout. */
  static void multiplyPanels(float[] x, int xOff, int m, QuantMatrix q, float[] bias, float[] y, int yOff) {
    multiplyPanels(x, xOff, m, q.rows(), q.cols(), q::decodePanelTileInto, bias, y, yOff);
  }

  /**
   * Decodes panel {@code t} of a {@code [k, n]} weight (columns {@code 32t ..}) into {@code
   * rows[kk][c .. c + 32)} for every {@code kk < k}, with this thread's 32-float buffers {@code
   * scale} and {@code bias} for its constants.
   */
  @FunctionalInterface
  interface PanelDecoder {
    void decodeInto(int t, float[][] rows, int c, float[] scale, float[] bias);
  }

  /** {@code y = x * W + bias} for a {@code [k, n]} weight whose panels {@code panels} decodes. */
  static void multiplyPanels(float[] x, int xOff, int m, int n, int k, PanelDecoder panels, float[] bias, float[] y,
      int yOff) {
    int p = QuantMatrix.PANEL;
    int w = tileWidth(n, m);
    int colTiles = (n + w - 1) / w;
    int rowBlocks = rowBlocks(m, colTiles);
    int rowsPer = (m + rowBlocks - 1) / rowBlocks;
    if (colTiles == 1 && rowBlocks > 1) {
      // one tile, the rows split: the threads decode its panels together into the caller's tile,
      // then share it (decoding it whole on each thread had cost a tenth of the model's time)
      float[][] tile = SCRATCH.get().rows(k);
      KernelThreads.forEach((n + p - 1) / p, (long) n * k, t -> {
        Scratch s = SCRATCH.get();
        panels.decodeInto(t, tile, t * p, s.scale, s.bias);
      });
      KernelThreads.forEach(rowBlocks, (long) m * n * k,
          b -> gemm(x, xOff, b * rowsPer, Math.min(m, (b + 1) * rowsPer), k, tile, n, y, yOff, n, bias, 0));
      return;
    }
    KernelThreads.forEach(colTiles * rowBlocks, (long) m * n * k, task -> {
      int j0 = (task % colTiles) * w;
      int i0 = (task / colTiles) * rowsPer;
      int nb = Math.min(w, n - j0);
      Scratch s = SCRATCH.get();
      float[][] rows = s.rows(k);
      for (int t = j0 / p; t * p < j0 + nb; t++) {
        panels.decodeInto(t, rows, t * p - j0, s.scale, s.bias); // j0 and w are multiples of p
      }
      gemm(x, xOff, i0, Math.min(m, i0 + rowsPer), k, rows, nb, y, yOff + j0, n, bias, j0);
    });
  }

  /** The batched dense products of {@link MatMul#multiplyDense}: rows of {@code b} copied into the tile. */
  static void multiplyDense(float[] x, int[] xOffs, int m, int k, float[] b, int[] bOffs, int n, float[] y,
      int[] yOffs, float[] bias) {
    int w = xOffs.length > 1 ? Math.min(WIDE, n) : tileWidth(n);
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
      gemm(x, xOffs[batch], i0, Math.min(m, i0 + rowsPer), k, rows, nb, y, yOffs[batch] + j0, n, bias, j0);
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
   * {@code i} in {@code [i0, i1)}, {@code j < nb} ({@code bias} null: none), with this thread's
   * accumulators: blocks of {@value #ROW_BLOCK} rows of {@code x}, the depth in chunks of
   * {@value #K_CHUNK}, four elements of {@code k} per pass over a 0-based accumulator row (so C2
   * vectorizes it). {@code rows[kk]} must hold at least {@code nb} values, {@code nb <= WIDE}.
   */
  static void gemm(float[] x, int xOff, int i0, int i1, int k, float[][] rows, int nb, float[] y, int yOff, int ldy,
      float[] bias, int bOff) {
    float[][] acc = SCRATCH.get().acc;
    for (int ib = i0; ib < i1; ib += ROW_BLOCK) {
      int ie = Math.min(i1, ib + ROW_BLOCK);
      for (int i = ib; i < ie; i++) {
        start(acc[i - ib], nb, bias, bOff);
      }
      for (int k0 = 0; k0 < k; k0 += K_CHUNK) {
        int k1 = Math.min(k, k0 + K_CHUNK);
        int i = ib;
        if (FMA && TWO_ROWS) {
          for (; i + 1 < ie; i += 2) {
            accumulateTwoRows(x, xOff + i * k, k, k0, k1, rows, nb, acc[i - ib], acc[i + 1 - ib]);
          }
        }
        for (; i < ie; i++) {
          accumulate(x, xOff + i * k, k0, k1, rows, nb, acc[i - ib]);
        }
      }
      for (int i = ib; i < ie; i++) {
        System.arraycopy(acc[i - ib], 0, y, yOff + i * ldy, nb);
      }
    }
  }

  /**
   * Whether C2 compiles {@link Math#fma} to the CPU's fused multiply-add (HotSpot's {@code UseFMA},
   * true on x86 since Haswell and on aarch64); without it {@code Math.fma} is a slow exact
   * library call, so the loops then multiply and add.
   */
  static final boolean FMA = hardwareFma();

  private static boolean hardwareFma() {
    try {
      var vm = java.lang.management.ManagementFactory.getPlatformMXBean(
          com.sun.management.HotSpotDiagnosticMXBean.class);
      return vm != null && "true".equals(vm.getVMOption("UseFMA").getValue());
    } catch (RuntimeException | LinkageError e) {
      return false; // another JVM, or no jdk.management: the plain loops
    }
  }

  /** {@code c[j] += sum_{k0 <= kk < k1} x[xr + kk] * rows[kk][j]} for {@code j < nb}, four {@code kk} per pass. */
  private static void accumulate(float[] x, int xr, int k0, int k1, float[][] rows, int nb, float[] c) {
    if (FMA) {
      accumulateFused(x, xr, k0, k1, rows, nb, c);
      return;
    }
    int kk = k0;
    for (; kk + 3 < k1; kk += 4) {
      float a0 = x[xr + kk];
      float a1 = x[xr + kk + 1];
      float a2 = x[xr + kk + 2];
      float a3 = x[xr + kk + 3];
      float[] r0 = rows[kk];
      float[] r1 = rows[kk + 1];
      float[] r2 = rows[kk + 2];
      float[] r3 = rows[kk + 3];
      for (int j = 0; j < nb; j++) {
        c[j] += a0 * r0[j] + a1 * r1[j] + a2 * r2[j] + a3 * r3[j];
      }
    }
    for (; kk < k1; kk++) {
      float a = x[xr + kk];
      float[] r = rows[kk];
      for (int j = 0; j < nb; j++) {
        c[j] += a * r[j];
      }
    }
  }

  /**
   * Whether C2 vectorizes two rows of {@code x} sharing four weight rows in one loop ({@link
   * #accumulateTwoRows}): JDK 25 does (measured 52 GFLOP/s per thread against 40 for {@link
   * #accumulateFused}); JDK 17 leaves that loop scalar (16).
   */
  static final boolean TWO_ROWS = Runtime.version().feature() >= 25;

  /**
   * {@link #accumulate} with {@link Math#fma}, six elements of {@code k} per pass: half the vector
   * instructions of a multiply and an add and one rounding per step instead of two; six weight
   * rows are the most C2 17 still vectorizes in one loop (measured per thread: 40 GFLOP/s, four
   * rows 36, eight rows scalar at 14).
   */
  private static void accumulateFused(float[] x, int xr, int k0, int k1, float[][] rows, int nb, float[] c) {
    int kk = k0;
    for (; kk + 5 < k1; kk += 6) {
      float a0 = x[xr + kk];
      float a1 = x[xr + kk + 1];
      float a2 = x[xr + kk + 2];
      float a3 = x[xr + kk + 3];
      float a4 = x[xr + kk + 4];
      float a5 = x[xr + kk + 5];
      float[] r0 = rows[kk];
      float[] r1 = rows[kk + 1];
      float[] r2 = rows[kk + 2];
      float[] r3 = rows[kk + 3];
      float[] r4 = rows[kk + 4];
      float[] r5 = rows[kk + 5];
      for (int j = 0; j < nb; j++) {
        c[j] = Math.fma(a5, r5[j], Math.fma(a4, r4[j],
            Math.fma(a3, r3[j], Math.fma(a2, r2[j], Math.fma(a1, r1[j], Math.fma(a0, r0[j], c[j]))))));
      }
    }
    // the rest of the depth (attention heads of 32, 128 keys: 2 of them) two at a time
    for (; kk + 1 < k1; kk += 2) {
      float a0 = x[xr + kk];
      float a1 = x[xr + kk + 1];
      float[] r0 = rows[kk];
      float[] r1 = rows[kk + 1];
      for (int j = 0; j < nb; j++) {
        c[j] = Math.fma(a1, r1[j], Math.fma(a0, r0[j], c[j]));
      }
    }
    if (kk < k1) {
      float a = x[xr + kk];
      float[] r = rows[kk];
      for (int j = 0; j < nb; j++) {
        c[j] = Math.fma(a, r[j], c[j]);
      }
    }
  }

  /**
   * {@link #accumulateFused} for rows {@code xr} and {@code xr + k} of {@code x} together, four
   * elements of {@code k} per pass: each weight row loaded once for both ({@link #TWO_ROWS} JVMs).
   */
  private static void accumulateTwoRows(float[] x, int xr, int k, int k0, int k1, float[][] rows, int nb, float[] c,
      float[] d) {
    int xs = xr + k;
    int kk = k0;
    for (; kk + 3 < k1; kk += 4) {
      float a0 = x[xr + kk];
      float a1 = x[xr + kk + 1];
      float a2 = x[xr + kk + 2];
      float a3 = x[xr + kk + 3];
      float b0 = x[xs + kk];
      float b1 = x[xs + kk + 1];
      float b2 = x[xs + kk + 2];
      float b3 = x[xs + kk + 3];
      float[] r0 = rows[kk];
      float[] r1 = rows[kk + 1];
      float[] r2 = rows[kk + 2];
      float[] r3 = rows[kk + 3];
      for (int j = 0; j < nb; j++) {
        float v0 = r0[j];
        float v1 = r1[j];
        float v2 = r2[j];
        float v3 = r3[j];
        c[j] = Math.fma(a3, v3, Math.fma(a2, v2, Math.fma(a1, v1, Math.fma(a0, v0, c[j]))));
        d[j] = Math.fma(b3, v3, Math.fma(b2, v2, Math.fma(b1, v1, Math.fma(b0, v0, d[j]))));
      }
    }
    for (; kk < k1; kk++) {
      float a = x[xr + kk];
      float b = x[xs + kk];
      float[] r = rows[kk];
      for (int j = 0; j < nb; j++) {
        c[j] = Math.fma(a, r[j], c[j]);
        d[j] = Math.fma(b, r[j], d[j]);
      }
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
