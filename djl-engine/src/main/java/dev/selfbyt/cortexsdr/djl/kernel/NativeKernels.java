package dev.selfbyt.cortexsdr.djl.kernel;

import java.util.Locale;

/**
 * Kernels in C ({@code libcortexsdr_kernels.so}, built by Maven from {@code src/main/c}) for one
 * instruction set: {@code amx} (the {@code avx512} kernels, and AMX-INT8 tiles for the W8A8
 * product, where the CPU has AMX and Linux grants the process its tile state), {@code avx512}
 * (AVX-512 with VNNI for the int8 products), {@code avx2} (AVX2 + FMA), or {@code portable} (SSE2
 * on x86-64, NEON on aarch64). Get the best this CPU runs with
 * {@link #best()}, a given one with {@link #of(String)}. Arrays are read in place, and every
 * product runs with denormals flushed to zero (restored on return).
 */
final class NativeKernels extends Kernels {
  /** The instruction sets by the library's numbers. */
  static final String[] ISAS = {"portable", "avx2", "avx512", "amx"};
  private final int isa;

  private NativeKernels(int isa) {
    this.isa = isa;
  }

  /** The best kernels for this CPU, or null when the library does not load. */
  static NativeKernels best() {
    return NativeLibrary.load() == null ? null : new NativeKernels(nBestIsa());
  }

  /**
   * The kernels for instruction set {@code name}, or null when the library does not load; an
   * {@link IllegalArgumentException} when the name is unknown or this CPU lacks it.
   */
  static NativeKernels of(String name) {
    if (NativeLibrary.load() == null) {
      return null;
    }
    int want = java.util.Arrays.asList(ISAS).indexOf(name.toLowerCase(Locale.ROOT));
    if (want < 0) {
      throw new IllegalArgumentException("unknown native instruction set '" + name + "': use "
          + String.join(", ", ISAS));
    }
    int best = nBestIsa();
    if (want > best) {
      throw new IllegalArgumentException("this CPU runs native kernels up to " + ISAS[best] + ", not " + name);
    }
    return new NativeKernels(want);
  }

  /** The instruction sets this CPU runs, best last; empty when the library does not load. */
  static java.util.List<String> supported() {
    if (NativeLibrary.load() == null) {
      return java.util.List.of();
    }
    return java.util.List.of(ISAS).subList(0, nBestIsa() + 1);
  }

  String isa() {
    return ISAS[isa];
  }

  /**
   * Why this CPU's best instruction set is short of what the CPU has (it has AMX but the OS or
   * Linux refused this process its tile state), or null; for the one log line of the choice.
   */
  static String isaNote() {
    return NativeLibrary.load() == null ? null : nIsaNote();
  }

  @Override
  public String name() {
    String arch = NativeLibrary.platform().endsWith("aarch64") && isa == 0 ? "neon" : ISAS[isa];
    return "native (" + arch + ")";
  }

  /** The products run with flush-to-zero and denormals-are-zero set: nothing to do here. */
  @Override
  public float[] withoutDenormals(float[] x, int off, int len) {
    return x;
  }

  @Override
  public void gemmPanel(float[] x, int xOff, int m, int k, float[] p, int pOff, int ldp, int nb, float[] y, int yOff,
      int ldy, float[] bias, int bOff) {
    if (m == 0 || nb == 0) {
      return;
    }
    need(x, xOff, (long) m * k);
    need(p, pOff, (long) (k - 1) * ldp + nb);
    need(y, yOff, (long) (m - 1) * ldy + nb);
    if (bias != null) {
      need(bias, bOff, nb);
    }
    nGemmPanel(isa, x, xOff, m, k, p, pOff, ldp, nb, y, yOff, ldy, bias, bOff);
  }

  /**
   * {@code y = x * W + bias} for the columns of panels {@code t0 .. t1-1} of a quantized weight in
   * the column-panel layout ({@link QuantMatrix#inPanels()}; {@code n} columns in all, {@code ldy}
   * apart in {@code y}): each panel decoded into {@code buf} ({@code k * 32} floats) and
   * multiplied with the {@code m} rows of {@code x}, in one call. The same arithmetic as {@link
   * #decodePanel} per group followed by {@link #gemmPanel}.
   */
  void gemmQuant(float[] x, int xOff, int m, int k, byte[] codes, int bits, float[] scales, byte[] zeros, float zero,
      int groupLength, int groups, int t0, int t1, int n, float[] y, int yOff, int ldy, float[] bias, float[] buf) {
    if (m == 0 || t1 <= t0) {
      return;
    }
    if (bits != 8 && bits != 4) {
      throw new IllegalArgumentException("panels hold 8- or 4-bit codes, not " + bits);
    }
    int p = QuantMatrix.PANEL;
    if (t0 < 0 || (long) t0 * p >= n || (long) (t1 - 1) * p >= n || groupLength < 1
        || (long) groups * groupLength < k) {
      throw new IllegalArgumentException("panels " + t0 + ".." + t1 + " of " + n + " columns, " + groups
          + " groups of " + groupLength + " for depth " + k);
    }
    need(x, xOff, (long) m * k);
    need(codes.length, 0, (long) t1 * k * (bits == 8 ? p : p / 2));
    need(scales, 0, (long) t1 * groups * p);
    if (zeros != null) {
      need(zeros.length, 0, (long) t1 * groups * p);
    }
    need(y, yOff, (long) (m - 1) * ldy + n);
    if (bias != null) {
      need(bias, 0, n);
    }
    need(buf, 0, (long) k * p);
    nGemmQuant(isa, x, xOff, m, k, codes, bits, scales, zeros, zero, groupLength, groups, t0, t1, n, y, yOff, ldy,
        bias, buf);
  }

  @Override
  public float dotS8(float[] x, int xOff, byte[] codes, int cOff, int len) {
    need(x, xOff, len);
    need(codes.length, cOff, len);
    return nDotS8(isa, x, xOff, codes, cOff, len);
  }

  @Override
  public float dotU4(float[] xe, float[] xo, int xOff, byte[] codes, int cOff, int len) {
    need(xe, xOff, len);
    need(xo, xOff, len);
    need(codes.length, cOff, len);
    return nDotU4(isa, xe, xo, xOff, codes, cOff, len);
  }

  @Override
  public void gemmRows(float[] x, int xOff, int m, int k, float[] w, int wOff, int nb, float[] y, int yOff, int ldy) {
    if (m == 0 || nb == 0) {
      return;
    }
    need(x, xOff, (long) m * k);
    need(w, wOff, (long) nb * k);
    need(y, yOff, (long) (m - 1) * ldy + nb);
    nGemmRows(isa, x, xOff, m, k, w, wOff, nb, y, yOff, ldy);
  }

  @Override
  public void decodePanel(byte[] codes, int off, int bits, int len, float[] scale, float[] bias, float[] dst,
      int dOff) {
    if (bits != 8 && bits != 4) {
      throw new IllegalArgumentException("panels hold 8- or 4-bit codes, not " + bits);
    }
    need(codes.length, off, (long) len * (bits == 8 ? QuantMatrix.PANEL : QuantMatrix.PANEL / 2));
    need(scale, 0, QuantMatrix.PANEL);
    need(bias, 0, QuantMatrix.PANEL);
    need(dst, dOff, (long) len * QuantMatrix.PANEL);
    nDecodePanel(isa, codes, off, bits, len, scale, bias, dst, dOff);
  }

  @Override
  public void dequant8(byte[] codes, int off, int len, float scale, float zero, float[] dst, int dOff) {
    need(codes.length, off, len);
    need(dst, dOff, len);
    nDequant8(isa, codes, off, len, scale, zero, dst, dOff);
  }

  @Override
  public float expShifted(float[] src, int off, int len, float max, float[] dst) {
    need(src, off, len);
    need(dst, off, len);
    return nExpShifted(isa, src, off, len, max, dst);
  }

  @Override
  public void gelu(float[] src, int off, int len, float[] dst, int dOff) {
    need(src, off, len);
    need(dst, dOff, len);
    nGelu(isa, src, off, len, dst, dOff);
  }

  @Override
  public void layerNormRow(float[] src, int off, int len, float eps, float[] g, float[] b, float[] dst) {
    need(src, off, len);
    need(dst, off, len);
    if (g != null) {
      need(g, 0, len);
    }
    if (b != null) {
      need(b, 0, len);
    }
    nLayerNormRow(isa, src, off, len, eps, g, b, dst);
  }

  @Override
  public float affineMax(float[] x, int xOff, float scale, float[] m, int mOff, int mStep, float[] y, int yOff,
      int len) {
    need(x, xOff, len);
    need(y, yOff, len);
    if (m != null) {
      need(m, mOff, mStep == 0 ? 1 : len);
    }
    return nAffineMax(isa, x, xOff, scale, m, mOff, mStep, y, yOff, len);
  }

  @Override
  public void layerNormRows(float[] src, int r0, int r1, int len, float eps, float[] g, float[] b, float[] dst) {
    if (r1 <= r0) {
      return;
    }
    int n = Math.multiplyExact(r1 - r0, len);
    need(src, r0 * len, n);
    need(dst, r0 * len, n);
    if (g != null) {
      need(g, 0, len);
    }
    if (b != null) {
      need(b, 0, len);
    }
    nLayerNormRows(isa, src, r0 * len, r1 - r0, len, eps, g, b, dst);
  }

  @Override
  public void softmaxRows(float[] x, int r0, int r1, int cols, float scale, float[] m, int[] maskRow, int mStep,
      float[] y) {
    if (r1 <= r0) {
      return;
    }
    int len = Math.multiplyExact(r1 - r0, cols);
    need(x, r0 * cols, len);
    need(y, r0 * cols, len);
    if (m != null) {
      if (maskRow.length < r1) {
        throw new IndexOutOfBoundsException("mask rows " + maskRow.length + " < " + r1);
      }
      for (int r = r0; r < r1; r++) {
        need(m, maskRow[r], mStep == 0 ? 1 : cols);
      }
    }
    nSoftmaxRows(isa, x, r0 * cols, r1 - r0, cols, scale, m, m == null ? null : maskRow, r0, mStep, y);
  }

  @Override
  public void scale(float[] a, int off, int len, float f) {
    need(a, off, len);
    nScale(isa, a, off, len, f);
  }

  @Override
  public void axpy(float a, float[] x, int xOff, float[] y, int yOff, int len) {
    need(x, xOff, len);
    need(y, yOff, len);
    nAxpy(isa, a, x, xOff, y, yOff, len);
  }

  @Override
  public void sparseRowsTransposed(int[] start, int[] col, float[] val, int r0, int r1, float[] xt, int m,
      float[] y, int yOff, int ldy) {
    if (r1 <= r0 || m == 0) {
      return;
    }
    checkCsr(start, col, val, r0, r1, xt.length / Math.max(1, m));
    need(y, yOff, (m - 1) * ldy + r1);
    nSparseRowsT(isa, start, col, val, r0, r1, xt, m, y, yOff, ldy);
  }

  @Override
  public void sparseRowsGathered(int[] start, int[] col, float[] val, int r0, int r1, float[] x, int xOff, int m,
      int k, float[] y, int yOff, int ldy) {
    if (r1 <= r0 || m == 0) {
      return;
    }
    checkCsr(start, col, val, r0, r1, k);
    need(x, xOff, m * k);
    need(y, yOff, (m - 1) * ldy + r1);
    nSparseRowsG(isa, start, col, val, r0, r1, x, xOff, m, k, y, yOff, ldy);
  }

  @Override
  public void sparseRowsBatched(SparseMatrix w, int r0, int r1, float[] xt, int m, float[] y, int yOff, int ldy) {
    if (r1 <= r0 || m == 0) {
      return;
    }
    rows(w, r0, r1);
    need(xt, 0, (long) w.cols() * m);
    need(y, yOff, (long) (m - 1) * ldy + r1);
    nSparseRowsTB(isa, w.rowStartArray(), w.colIndexArray(), w.valueArray(), r0, r1, xt, m, y, yOff, ldy);
  }

  @Override
  public void sparseRowsGathered(SparseMatrix w, int r0, int r1, float[] x, int xOff, int m, float[] y, int yOff,
      int ldy) {
    if (r1 <= r0 || m == 0) {
      return;
    }
    rows(w, r0, r1);
    need(x, xOff, (long) m * w.cols());
    need(y, yOff, (long) (m - 1) * ldy + r1);
    nSparseRowsG(isa, w.rowStartArray(), w.colIndexArray(), w.valueArray(), r0, r1, x, xOff, m, w.cols(), y, yOff,
        ldy);
  }

  @Override
  public void sparseConv(SparseMatrix w, int r0, int r1, float[] ph, int pOff, int[] off, int q, int wq, int oh,
      int ow, float[] y, int yOff) {
    if (r1 <= r0 || q <= 0) {
      return;
    }
    rows(w, r0, r1);
    if (off.length != w.cols() || wq < ow || q > oh * wq || q < (oh - 1) * wq + ow) {
      throw new IllegalArgumentException("sparse convolution: " + off.length + " tap offsets for " + w.cols()
          + " taps, " + q + " positions of an output grid " + oh + " x " + wq + " for width " + ow);
    }
    long reach = 0;
    for (int o : off) {
      if (o < 0) {
        throw new IndexOutOfBoundsException("sparse convolution: tap offset " + o);
      }
      reach = Math.max(reach, o);
    }
    need(ph, pOff, reach + q + CONV_SLACK - 1);
    need(y, yOff, (long) r1 * oh * ow);
    nSparseConv(isa, w.rowStartArray(), w.colIndexArray(), w.valueArray(), r0, r1, ph, pOff, off, q, wq, oh, ow, y,
        yOff);
  }

  /** Rows r0 .. r1-1 exist in {@code w} (whose CSR arrays were checked when it was made). */
  private static void rows(SparseMatrix w, int r0, int r1) {
    if (r0 < 0 || r1 > w.rows()) {
      throw new IndexOutOfBoundsException("sparse rows " + r0 + ".." + r1 + " of " + w.rows());
    }
  }

  /** The CSR rows read by a sparse product lie inside their arrays, columns below {@code k}. */
  private static void checkCsr(int[] start, int[] col, float[] val, int r0, int r1, int k) {
    if (r0 < 0 || r1 >= start.length || start[r0] < 0 || start[r1] > col.length || start[r1] > val.length) {
      throw new IndexOutOfBoundsException("sparse rows " + r0 + ".." + r1 + " outside their arrays");
    }
    for (int r = r0; r < r1; r++) {
      if (start[r + 1] < start[r]) {
        throw new IllegalArgumentException("sparse row " + r + " ends before it starts");
      }
    }
    for (int p = start[r0], e = start[r1]; p < e; p++) {
      if (col[p] < 0 || col[p] >= k) {
        throw new IndexOutOfBoundsException("sparse column " + col[p] + " outside [0, " + k + ")");
      }
    }
  }

  @Override
  public float dot(float[] a, int aOff, float[] b, int bOff, int len) {
    need(a, aOff, len);
    need(b, bOff, len);
    return nDot(isa, a, aOff, b, bOff, len);
  }

  @Override
  public void gemmU8S8(byte[] xq, int xOff, int m, int kp, byte[] w, int wOff, int nb, int zp, int[] colSums,
      int cOff, float aScale, float[] wScale, int sOff, float[] y, int yOff, int ldy, float[] bias, int bOff,
      boolean narrow) {
    if (m == 0 || nb == 0) {
      return;
    }
    need(xq.length, xOff, (long) m * kp);
    int p = QuantMatrix.PANEL;
    need(w.length, wOff, (long) kp * p * ((nb + p - 1) / p));
    need(colSums.length, cOff, nb);
    need(wScale, sOff, nb);
    need(y, yOff, (long) (m - 1) * ldy + nb);
    if (bias != null) {
      need(bias, bOff, nb);
    }
    if ((kp & 3) != 0) {
      throw new IllegalArgumentException("k padded to a multiple of 4, not " + kp);
    }
    nGemmU8S8(isa, xq, xOff, m, kp, w, wOff, nb, zp, colSums, cOff, aScale, wScale, sOff, y, yOff, ldy, bias, bOff,
        narrow);
  }

  /**
   * The first pass of {@link #quantizeU8} over {@code len} values from {@code off}: {@code mm[0] =
   * min(0, min x)}, {@code mm[1] = max(0, max x)}, NaN ignored. Parts of a tensor combine by min
   * and max into the whole tensor's range.
   */
  @Override
  void rangeF32(float[] x, int off, int len, float[] mm) {
    need(x, off, len);
    need(mm, 0, 2);
    nRangeF32(isa, x, off, len, mm);
  }

  /**
   * The second pass of {@link #quantizeU8}: rows {@code r0 .. r1-1} of {@code x} ({@code k} each)
   * into the same rows of {@code out} ({@code kp} apart, padding 0) with the tensor's {@code
   * scale} and zero point {@code zp}, the codes {@link #quantizeU8} writes.
   */
  void quantizeU8Rows(float[] x, int xOff, int r0, int r1, int k, int kp, byte[] out, float scale, float zp) {
    if (r1 <= r0) {
      return;
    }
    need(x, xOff + r0 * k, (long) (r1 - r0) * k);
    need(out.length, r0 * kp, (long) (r1 - r0) * kp);
    nQuantizeU8Rows(isa, x, xOff + r0 * k, r1 - r0, k, kp, out, r0 * kp, scale, zp);
  }

  /**
   * ONNX {@code DynamicQuantizeLinear} of {@code m} rows of {@code k} into {@code out} ({@code kp}
   * apart, padding 0), as {@link Kernels#rangeF32} and {@link Kernels#quantizeCentered} compute it
   * (plus the zero point); returns {scale, zero point}.
   */
  float[] quantizeU8(float[] x, int xOff, int m, int k, int kp, byte[] out) {
    need(x, xOff, (long) m * k);
    need(out.length, 0, (long) m * kp);
    float[] params = new float[2];
    nQuantizeU8(isa, x, xOff, m, k, kp, out, params);
    return params;
  }

  /**
   * The native code trusts its offsets, so each product checks its arrays' extents here (a few
   * comparisons per call, against a crash or a silently overwritten heap).
   */
  private static void need(float[] a, int off, long len) {
    need(a.length, off, len);
  }

  private static void need(int length, int off, long len) {
    if (off < 0 || len < 0 || off + len > length) {
      throw new ArrayIndexOutOfBoundsException("range [" + off + ", " + (off + len) + ") of an array of " + length);
    }
  }

  private static native int nBestIsa();

  private static native String nIsaNote();

  private static native void nSparseRowsT(int isa, int[] start, int[] col, float[] val, int r0, int r1, float[] xt,
      int m, float[] y, int yOff, int ldy);

  private static native void nSparseRowsG(int isa, int[] start, int[] col, float[] val, int r0, int r1, float[] x,
      int xOff, int m, int k, float[] y, int yOff, int ldy);

  private static native void nSparseRowsTB(int isa, int[] start, int[] col, float[] val, int r0, int r1, float[] xt,
      int m, float[] y, int yOff, int ldy);

  private static native void nSparseConv(int isa, int[] start, int[] col, float[] val, int r0, int r1, float[] ph,
      int pOff, int[] off, int q, int wq, int oh, int ow, float[] y, int yOff);

  private static native void nQuantizeU8(int isa, float[] x, int xOff, int m, int k, int kp, byte[] out,
      float[] params);

  private static native void nGemmPanel(int isa, float[] x, int xOff, int m, int k, float[] p, int pOff, int ldp,
      int nb, float[] y, int yOff, int ldy, float[] bias, int bOff);

  private static native void nGemmQuant(int isa, float[] x, int xOff, int m, int k, byte[] codes, int bits,
      float[] scales, byte[] zeros, float zero, int groupLength, int groups, int t0, int t1, int n, float[] y,
      int yOff, int ldy, float[] bias, float[] buf);

  private static native void nGemmRows(int isa, float[] x, int xOff, int m, int k, float[] w, int wOff, int nb,
      float[] y, int yOff, int ldy);

  private static native void nDecodePanel(int isa, byte[] codes, int off, int bits, int len, float[] scale,
      float[] bias, float[] dst, int dOff);

  private static native float nDotS8(int isa, float[] x, int xOff, byte[] codes, int cOff, int len);

  private static native float nDotU4(int isa, float[] xe, float[] xo, int xOff, byte[] codes, int cOff, int len);

  private static native void nDequant8(int isa, byte[] codes, int off, int len, float scale, float zero, float[] dst,
      int dOff);

  private static native float nExpShifted(int isa, float[] src, int off, int len, float max, float[] dst);

  private static native void nGelu(int isa, float[] src, int off, int len, float[] dst, int dOff);

  private static native void nLayerNormRow(int isa, float[] src, int off, int len, float eps, float[] g, float[] b,
      float[] dst);

  private static native float nAffineMax(int isa, float[] x, int xOff, float scale, float[] m, int mOff, int mStep,
      float[] y, int yOff, int len);

  private static native void nAxpy(int isa, float a, float[] x, int xOff, float[] y, int yOff, int len);

  private static native void nScale(int isa, float[] a, int off, int len, float f);

  private static native void nLayerNormRows(int isa, float[] src, int off, int rows, int len, float eps, float[] g,
      float[] b, float[] dst);

  private static native void nSoftmaxRows(int isa, float[] x, int off, int rows, int cols, float scale, float[] m,
      int[] maskRow, int rOff, int mStep, float[] y);

  private static native float nDot(int isa, float[] a, int aOff, float[] b, int bOff, int len);

  private static native void nRangeF32(int isa, float[] x, int off, int len, float[] mm);

  private static native void nQuantizeU8Rows(int isa, float[] x, int xOff, int m, int k, int kp, byte[] out, int oOff,
      float scale, float zp);

  private static native void nGemmU8S8(int isa, byte[] xq, int xOff, int m, int kp, byte[] w, int wOff, int nb,
      int zp, int[] colSums, int cOff, float aScale, float[] wScale, int sOff, float[] y, int yOff, int ldy,
      float[] bias, int bOff, boolean narrow);

  // ---- fused graph operators (fused_ops.c) ----

  /**
   * One head of fused attention ({@link FusedKernels#attentionHead}): {@code out} rows of {@code dv}
   * values, {@code heads * dv} apart from {@code oOff}, from the query and key rows {@code heads *
   * d} apart and the value rows {@code heads * dv} apart; the mask row of query {@code i} from
   * {@code mOff + i * mRow}, {@code mStep} 0 or 1 along the keys ({@code m} null: none).
   */
  void attentionHead(float[] q, int qOff, float[] k, int kOff, float[] v, int vOff, int sq, int sk, int heads, int d,
      int dv, float scale, float[] m, int mOff, int mRow, int mStep, float[] out, int oOff) {
    if (sq <= 0 || dv <= 0) {
      return;
    }
    long ld = (long) heads * d;
    long ldv = (long) heads * dv;
    need(q, qOff, (sq - 1) * ld + d);
    need(out, oOff, (sq - 1) * ldv + dv);
    if (sk > 0) {
      need(k, kOff, (sk - 1) * ld + d);
      need(v, vOff, (sk - 1) * ldv + dv);
      if (m != null) {
        need(m, mOff, (long) (sq - 1) * mRow + (long) (sk - 1) * mStep + 1);
      }
    }
    if (nAttentionHead(isa, q, qOff, k, kOff, v, vOff, sq, sk, heads, d, dv, scale, m, mOff, mRow, mStep, out,
        oOff) != 0) {
      throw new OutOfMemoryError("native attention: no scratch memory for " + sk + " keys");
    }
  }

  /**
   * Rows {@code r0 <= r < r1} of {@code len}: {@code y = LayerNorm(x + skip)} ({@code skip} null:
   * of {@code x}), with {@code sc}: {@code ys = y * sc}, or ({@code ys} null) {@code y} scaled in
   * place. {@code y} may be {@code x} or {@code skip} (their rows are read before written).
   */
  void skipLayerNormRows(float[] x, float[] skip, int r0, int r1, int len, float eps, float[] g, float[] b,
      float[] sc, float[] y, float[] ys) {
    if (r1 <= r0) {
      return;
    }
    long n = (long) (r1 - r0) * len;
    int off = Math.multiplyExact(r0, len);
    need(x, off, n);
    need(y, off, n);
    if (skip != null) {
      need(skip, off, n);
    }
    if (ys != null) {
      need(ys, off, n);
    }
    for (float[] p : new float[][] {g, b, sc}) {
      if (p != null) {
        need(p, 0, len);
      }
    }
    nSkipLayerNormRows(isa, x, skip, r0, r1, len, eps, g, b, sc, y, ys);
  }

  private static native int nAttentionHead(int isa, float[] q, int qOff, float[] k, int kOff, float[] v, int vOff,
      int sq, int sk, int heads, int d, int dv, float scale, float[] m, int mOff, int mRow, int mStep, float[] out,
      int oOff);

  private static native void nSkipLayerNormRows(int isa, float[] x, float[] skip, int r0, int r1, int len, float eps,
      float[] g, float[] b, float[] sc, float[] y, float[] ys);
}
