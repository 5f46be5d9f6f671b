package dev.selfbyt.cortexsdr.djl.kernel;

/**
 * Matrix products {@code Y[M,N] = X[M,K] * W[K,N]} with {@code W} given as its {@code N} rows of
 * {@code K} ({@code W} transposed, which is how quantized and sparse weights store their fibers):
 * dense, block-quantized ({@link QuantMatrix}) or sparse ({@link SparseMatrix}). Quantized rows are
 * decoded {@value #TILE} at a time into a per-task buffer, then multiplied with every row of
 * {@code X}, so a weight is never held decoded. Large products are split over {@code N} on
 * {@link KernelThreads}.
 */
public final class MatMul {
  /** Columns of W (rows as stored) decoded and multiplied together: one packed panel (two 512-bit vectors). */
  static final int TILE = QuantMatrix.PANEL;
  /** Below this many rows of X, quantized weights are multiplied from their codes without decoding. */
  static final int FUSED_MAX_ROWS = 4;
  /**
   * From this many rows of X, the native weight-only product decodes a thread's whole run of
   * panels into its buffer before multiplying (X no longer fits the cache beside one panel).
   */
  static final int REUSE_ROWS = 256;
  /**
   * 8-bit weights with many rows of X: decode rows contiguously (vectorized) and take dot products
   * (the default: measured 34 against 30 GFLOP/s for the panel form at M=128, one thread), or
   * decode into a transposed panel as the other widths do ({@code
   * -Ddev.selfbyt.cortexsdr.quant_gemm=panel}).
   */
  static final boolean ROWS_FORM = !dev.selfbyt.cortexsdr.djl.EngineSettings.panelGemmOnly();
  /**
   * Per-thread buffers, reused so a tile makes no garbage: {@link #ROWS} decoded weight rows,
   * {@link #PANEL} a packed panel, {@link #SCALES} and {@link #BIASES} a panel's group constants,
   * {@link #ACTIVATIONS} the quantized activations of a W8A8 product ({@link Int8Panels}).
   */
  private static final ThreadLocal<float[][]> SCRATCH = ThreadLocal.withInitial(() -> new float[5][0]);
  private static final int ROWS = 0;
  static final int PANEL = 1;
  static final int SCALES = 2;
  private static final int BIASES = 3;
  static final int ACTIVATIONS = 4;

  /** This thread's buffer {@code slot}, at least {@code size} long. */
  static float[] scratch(int slot, int size) {
    float[][] buf = SCRATCH.get();
    if (buf[slot].length < size) {
      buf[slot] = new float[size];
    }
    return buf[slot];
  }

  /** Per-task copies of the prepared rows' scratch buffers (the sums and halves are shared, read-only). */
  private static QuantMatrix.Prepared[] withScratch(QuantMatrix.Prepared[] px, int k) {
    if (px.length == 0 || px[0].scratch == null) {
      return px;
    }
    QuantMatrix.Prepared[] c = new QuantMatrix.Prepared[px.length];
    for (int i = 0; i < c.length; i++) {
      c[i] = new QuantMatrix.Prepared(px[i].groupSums, px[i].even, px[i].odd, new float[k]);
    }
    return c;
  }

  private MatMul() {}

  /**
   * Whether {@link #multiply(Kernels, float[], int, int, WeightRows, float[], float[], int)} with
   * {@code kern} on a {@link QuantMatrix} writes every element of {@code y} without reading it (so
   * {@code y} may hold anything before): the native and Vector API products store their sums; the
   * scalar kernels are not held to it.
   */
  public static boolean writesEveryOutput(Kernels kern) {
    return !(kern instanceof ScalarKernels);
  }

  /** {@code y[yOff + i*n + j] = sum_k x[xOff + i*k + kk] * w.row(j)[kk]} with the active kernels. */
  public static void multiply(float[] x, int xOff, int m, WeightRows w, float[] y, int yOff) {
    multiply(Kernels.get(), x, xOff, m, w, y, yOff);
  }

  /**
   * The same with given kernels: {@value #TILE} rows of {@code w} at a time are decoded into a
   * per-task buffer and laid out as a {@code [k, TILE]} panel for {@link Kernels#gemmPanel}.
   */
  public static void multiply(Kernels kern, float[] x, int xOff, int m, WeightRows w, float[] y, int yOff) {
    multiply(kern, x, xOff, m, w, null, y, yOff);
  }

  /**
   * {@code y = x * W + bias} ({@code bias[N]} added to every row; null for none). A quantized weight
   * in the column-panel layout ({@link QuantMatrix#inPanels()}) is decoded {@value
   * QuantMatrix#PANEL} columns at a time with vector code into a per-thread panel, multiplied
   * with every row of {@code x} by the kernels' register-blocked {@link Kernels#gemmPanel}, whose
   * accumulators start from the bias.
   */
  public static void multiply(Kernels kern, float[] x, int xOff, int m, WeightRows w, float[] bias, float[] y,
      int yOff) {
    if (w instanceof QuantMatrix q && q.int8Activations() != null) {
      q.int8Activations().multiply(kern, x, xOff, m, bias, y, yOff);
      return;
    }
    x = kern.withoutDenormals(x, xOff, m * w.cols());
    if (w instanceof QuantMatrix q && q.isPanels()) {
      multiplyPanels(kern, x, xOff, m, q, bias, y, yOff);
      return;
    }
    multiplyRows(kern, x, xOff, m, w, y, yOff);
    if (bias != null) {
      Kernels.addBias(y, yOff, m, w.rows(), w.rows(), bias, 0);
    }
  }

  /**
   * Several products of the same {@code x [m, k]}, {@code y[i] = x * w[i] + bias[i]} ({@code bias[i]}
   * null: none), as one job on the kernel threads, so the threads meet once instead of once per
   * product, and with int8-activation weights {@code x} is quantized once for all (the codes,
   * scale and zero point depend on {@code x} alone). Runs with the native kernels when every
   * weight has depth {@code k} and all compute with int8 activations, or all are weight-only in
   * the column-panel layout ({@link #groups}); each output is then what {@link #multiply} gives.
   * Returns false, having done nothing, otherwise (the caller multiplies one by one).
   */
  public static boolean multiplyGroup(Kernels kern, float[] x, int xOff, int m, QuantMatrix[] w, float[][] bias,
      float[][] y) {
    if (!groups(kern, w) || m <= 0) {
      return false;
    }
    NativeKernels nk = (NativeKernels) kern;
    int k = w[0].cols();
    boolean int8 = w[0].int8Activations() != null;
    int[] first = new int[w.length + 1];
    long work = 0;
    for (int i = 0; i < w.length; i++) {
      first[i + 1] = first[i] + (int8 ? w[i].int8Activations().runs() : Math.min(w[i].panels(),
          2 * KernelThreads.threads()));
      work += (long) m * w[i].rows() * k;
    }
    int tasks = first[w.length];
    if (int8) {
      Int8Panels.Quantized a = w[0].int8Activations().quantizeOnce(nk, x, xOff, m);
      KernelThreads.forEach(tasks, work / 4, task -> {
        int i = product(first, task);
        w[i].int8Activations().multiplyRun(nk, a, m, first[i + 1] - first[i], task - first[i], bias[i], y[i], 0);
      });
      return true;
    }
    float[] xf = kern.withoutDenormals(x, xOff, m * k);
    KernelThreads.forEach(tasks, work, task -> {
      int i = product(first, task);
      QuantMatrix q = w[i];
      int panels = q.panels();
      int runs = first[i + 1] - first[i];
      int t = task - first[i];
      int held = m >= REUSE_ROWS ? (panels + runs - 1) / runs : 1;
      q.multiplyPanels(nk, xf, xOff, m, (int) ((long) panels * t / runs), (int) ((long) panels * (t + 1) / runs),
          bias[i], y[i], 0, scratch(PANEL, k * TILE * held));
    });
    return true;
  }

  /** Whether {@link #multiplyGroup} runs these weights together with {@code kern}. */
  public static boolean groups(Kernels kern, QuantMatrix[] w) {
    if (!(kern instanceof NativeKernels) || w.length == 0) {
      return false;
    }
    int k = w[0].cols();
    boolean int8 = w[0].int8Activations() != null;
    for (QuantMatrix q : w) {
      if (q == null || q.cols() != k || (q.int8Activations() != null) != int8 || !int8 && !q.isPanels()) {
        return false;
      }
    }
    return true;
  }

  /** The product a task of {@link #multiplyGroup} belongs to: {@code first[i] <= task < first[i + 1]}. */
  private static int product(int[] first, int task) {
    int i = 0;
    while (task >= first[i + 1]) {
      i++;
    }
    return i;
  }

  private static void multiplyPanels(Kernels kern, float[] x, int xOff, int m, QuantMatrix q, float[] bias,
      float[] y, int yOff) {
    if (kern instanceof ScalarKernels) {
      ScalarMatMul.multiplyPanels(x, xOff, m, q, bias, y, yOff);
      return;
    }
    int n = q.rows();
    int k = q.cols();
    if (kern instanceof NativeKernels nk) {
      // runs of consecutive panels, one native call each (decode and product): two per thread, so
      // a thread the machine descheduled leaves half its share to the others
      int panels = q.panels();
      int runs = Math.min(panels, 2 * KernelThreads.threads());
      // many rows: room for a whole run of decoded panels, so the kernel decodes each once and
      // passes the rows over them in chunks that stay in cache (gemm_quant in kernels_impl.h)
      int held = m >= REUSE_ROWS ? (panels + runs - 1) / runs : 1;
      KernelThreads.forEach(runs, (long) m * n * k, t -> q.multiplyPanels(nk, x, xOff, m,
          (int) ((long) panels * t / runs), (int) ((long) panels * (t + 1) / runs), bias, y, yOff,
          scratch(PANEL, k * TILE * held)));
      return;
    }
    KernelThreads.forEach(q.panels(), (long) m * n * k, t -> {
      float[] panel = scratch(PANEL, k * TILE);
      q.decodePanelTile(kern, t, panel, scratch(SCALES, TILE), scratch(BIASES, TILE));
      int j0 = t * TILE;
      int nb = Math.min(TILE, n - j0);
      kern.gemmPanel(x, xOff, m, k, panel, 0, TILE, nb, y, yOff + j0, n, bias, j0);
    });
  }

  private static void multiplyRows(Kernels kern, float[] x, int xOff, int m, WeightRows w, float[] y, int yOff) {
    int n = w.rows();
    int k = w.cols();
    int tiles = (n + TILE - 1) / TILE;
    if (m < FUSED_MAX_ROWS && w instanceof QuantMatrix q) {
      QuantMatrix.Prepared[] px = new QuantMatrix.Prepared[m];
      for (int i = 0; i < m; i++) {
        px[i] = q.prepare(x, xOff + i * k);
      }
      KernelThreads.forEach(tiles, (long) m * n * k, t -> {
        int r0 = t * TILE;
        q.multiplyRows(kern, x, xOff, m, r0, Math.min(n, r0 + TILE), y, yOff, withScratch(px, k));
      });
      return;
    }
    if (w instanceof QuantMatrix q && q.bits() == 8 && ROWS_FORM) {
      KernelThreads.forEach(tiles, (long) m * n * k, t -> {
        int r0 = t * TILE;
        int nb = Math.min(n, r0 + TILE) - r0;
        float[] rows = scratch(ROWS, TILE * k);
        q.decodeRows(kern, r0, r0 + nb, rows);
        kern.gemmRows(x, xOff, m, k, rows, 0, nb, y, yOff + r0, n);
      });
      return;
    }
    KernelThreads.forEach(tiles, (long) m * n * k, t -> {
      int r0 = t * TILE;
      int nb = Math.min(n, r0 + TILE) - r0;
      float[] panel = scratch(PANEL, TILE * k);
      if (w instanceof QuantMatrix q) {
        q.decodePanel(r0, nb, panel, TILE);
      } else {
        float[] rows = scratch(ROWS, TILE * k);
        w.decodeRows(r0, r0 + nb, rows);
        for (int j = 0; j < nb; j++) {
          for (int kk = 0, src = j * k; kk < k; kk++) {
            panel[kk * TILE + j] = rows[src + kk];
          }
        }
      }
      kern.gemmPanel(x, xOff, m, k, panel, 0, TILE, nb, y, yOff + r0, n);
    });
  }

  /** {@code y[yOff..] = x[xOff..][m, k] * b[bOff..][k, n]} for a dense row-major {@code b}, used in place. */
  public static void multiplyDense(float[] x, int xOff, int m, int k, float[] b, int bOff, int n, float[] y,
      int yOff) {
    multiplyDense(Kernels.get(), x, xOff, m, k, b, bOff, n, y, yOff);
  }

  public static void multiplyDense(Kernels kern, float[] x, int xOff, int m, int k, float[] b, int bOff, int n,
      float[] y, int yOff) {
    multiplyDense(kern, x, new int[] {xOff}, m, k, b, new int[] {bOff}, n, y, new int[] {yOff}, null);
  }

  /**
   * A batch of dense products {@code y[yOffs[t]..] = x[xOffs[t]..][m, k] * b[bOffs[t]..][k, n] + bias}
   * ({@code bias[n]} or null), split
   * over threads by (product, tile of {@value #TILE} columns), so many small products (attention
   * heads) use every thread.
   */
  public static void multiplyDense(Kernels kern, float[] x, int[] xOffs, int m, int k, float[] b, int[] bOffs,
      int n, float[] y, int[] yOffs, float[] bias) {
    multiplyDenseFlushed(kern, kern.withoutDenormals(x, min(xOffs), max(xOffs) + m * k - min(xOffs)), xOffs, m, k,
        kern.withoutDenormals(b, min(bOffs), max(bOffs) + k * n - min(bOffs)), bOffs, n, y, yOffs, bias);
  }

  private static void multiplyDenseFlushed(Kernels kern, float[] x, int[] xOffs, int m, int k, float[] b,
      int[] bOffs, int n, float[] y, int[] yOffs, float[] bias) {
    if (kern instanceof ScalarKernels) {
      ScalarMatMul.multiplyDense(x, xOffs, m, k, b, bOffs, n, y, yOffs, bias);
      return;
    }
    int tiles = (n + TILE - 1) / TILE;
    boolean pack = m >= 8; // packed panels get the large register blocks
    KernelThreads.forEach(tiles * xOffs.length, (long) m * n * k * xOffs.length, task -> {
      int t = task % tiles;
      int batch = task / tiles;
      int j0 = t * TILE;
      int nb = Math.min(n, j0 + TILE) - j0;
      int xOff = xOffs[batch];
      int bOff = bOffs[batch];
      int yOff = yOffs[batch];
      if (!pack) {
        kern.gemmPanel(x, xOff, m, k, b, bOff + j0, n, nb, y, yOff + j0, n, bias, j0);
        return;
      }
      // many rows of x: copy the panel contiguous first (strided rows of b miss the cache)
      float[] panel = scratch(PANEL, k * TILE);
      for (int kk = 0; kk < k; kk++) {
        System.arraycopy(b, bOff + kk * n + j0, panel, kk * TILE, nb);
      }
      kern.gemmPanel(x, xOff, m, k, panel, 0, TILE, nb, y, yOff + j0, n, bias, j0);
    });
  }

  private static int min(int[] a) {
    int v = Integer.MAX_VALUE;
    for (int x : a) {
      v = Math.min(v, x);
    }
    return a.length == 0 ? 0 : v;
  }

  private static int max(int[] a) {
    int v = 0;
    for (int x : a) {
      v = Math.max(v, x);
    }
    return v;
  }

  /** The same product with a sparse {@code W}; its rows are the {@code N} outputs. */
  public static void multiply(float[] x, int xOff, int m, SparseMatrix w, float[] y, int yOff) {
    multiply(Kernels.get(), x, xOff, m, w, y, yOff);
  }

  public static void multiply(Kernels kern, float[] x, int xOff, int m, SparseMatrix w, float[] y, int yOff) {
    int n = w.rows();
    int k = w.cols();
    int tiles = (n + TILE - 1) / TILE;
    long work = (long) m * w.nnz();
    if (m < 8) {
      // one gathered dot product per output, a tile of W's rows per call (one JNI crossing per tile)
      KernelThreads.forEach(tiles, work, t -> kern.sparseRowsGathered(w, t * TILE, Math.min(n, t * TILE + TILE), x,
          xOff, m, y, yOff, n));
      return;
    }
    // many rows of X: walk X transposed, so each kept weight scales one contiguous run of X's rows
    float[] xt = transpose(x, xOff, m, k);
    KernelThreads.forEach(tiles, work, t -> kern.sparseRowsBatched(w, t * TILE, Math.min(n, t * TILE + TILE), xt, m,
        y, yOff, n));
  }

  /**
   * {@code x [m, k]} transposed to {@code [k, m]}, in blocks of 64 rows of {@code x}: along {@code
   * k} the writes are contiguous and the block's rows (a cache line each) stay in L1.
   */
  static float[] transpose(float[] x, int xOff, int m, int k) {
    float[] xt = new float[k * m];
    for (int i0 = 0; i0 < m; i0 += 64) {
      int i1 = Math.min(m, i0 + 64);
      for (int kk = 0; kk < k; kk++) {
        int o = kk * m;
        for (int i = i0; i < i1; i++) {
          xt[o + i] = x[xOff + i * k + kk];
        }
      }
    }
    return xt;
  }

}
