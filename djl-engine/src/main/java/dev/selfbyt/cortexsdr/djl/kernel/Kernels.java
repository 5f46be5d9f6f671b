package dev.selfbyt.cortexsdr.djl.kernel;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The inner loops every product runs, in three implementations, chosen in this order: {@link
 * NativeKernels} (C, from the jar's {@code libcortexsdr_kernels.so}, the CPU's best instruction
 * set), {@code VectorKernels} (Java Vector API) when the JVM has the {@code jdk.incubator.vector}
 * module, {@link ScalarKernels} otherwise. Get the one in use with {@link #get()}; the first call
 * logs one line saying which runs (and how to get faster ones when not the native kernels).
 *
 * <p>Which ones run follows the engine's settings ({@code EngineSettings}: options {@code kernels}
 * and {@code nativeIsa} per model, system properties as the JVM's defaults): a model's calls use
 * the kernels of its {@link KernelScope}, other calls the JVM's. The vector class is loaded by
 * name only after the module was found, so a JVM started without {@code --add-modules
 * jdk.incubator.vector} never touches it and needs no flag.
 */
public abstract class Kernels {
  private static final Logger LOG = Logger.getLogger(Kernels.class.getName());
  private static final Kernels SCALAR = new ScalarKernels();
  private static final Kernels ACTIVE = pick();
  private static final Map<String, Kernels> CHOSEN = new ConcurrentHashMap<>();

  /** The kernels in use: the calling model's ({@link KernelScope}), else the ones picked for this JVM. */
  public static Kernels get() {
    KernelScope s = KernelScope.current();
    return s != null ? s.kernels() : ACTIVE;
  }

  /** The kernels picked for this JVM from the engine's default settings (logged once). */
  public static Kernels jvmDefault() {
    return ACTIVE;
  }

  /** The scalar kernels, for comparison. */
  public static Kernels scalar() {
    return SCALAR;
  }

  /** The Vector API kernels, or null when this JVM lacks {@code jdk.incubator.vector}. */
  public static Kernels vector() {
    return loadVector();
  }

  /** The native kernels for this CPU, or null with the reason in {@link #nativeFailure()}. */
  public static Kernels nativeKernels() {
    return NativeKernels.best();
  }

  /** Why the native kernels did not load, or null. */
  public static String nativeFailure() {
    return NativeLibrary.failure();
  }

  private static Kernels pick() {
    var d = dev.selfbyt.cortexsdr.djl.EngineSettings.defaults();
    return select(d.kernels(), d.nativeIsa(), d.kernelsOrigin());
  }

  /**
   * The kernels of kind {@code kind} ({@code auto}: native, else Java vector, else scalar; {@code
   * native}: native, else scalar; {@code vector}: Java vector, else scalar; {@code scalar}) with the
   * native instruction set {@code isa} ({@code auto} for the CPU's best), for a model whose settings
   * ask for them; {@code origin} names the setting in the log line. Each distinct choice is made
   * and logged once; the JVM's own choice is returned as is.
   */
  public static Kernels choose(String kind, String isa, String origin) {
    var d = dev.selfbyt.cortexsdr.djl.EngineSettings.defaults();
    if (kind.equals(d.kernels()) && isa.equals(d.nativeIsa())) {
      return ACTIVE;
    }
    return CHOSEN.computeIfAbsent(kind + "/" + isa, k -> select(kind, isa, origin));
  }

  private static Kernels select(String kind, String isa, String origin) {
    String why;
    if (kind.equals("auto") || kind.equals("native")) {
      NativeKernels n = null;
      try {
        n = "auto".equals(isa) ? NativeKernels.best() : NativeKernels.of(isa);
        why = n == null ? NativeLibrary.failure() : null;
      } catch (IllegalArgumentException e) {
        why = origin + " nativeIsa " + isa + ": " + e.getMessage();
      }
      if (n != null) {
        String note = n.isa().equals("avx512") ? NativeKernels.isaNote() : null;
        LOG.log(Level.INFO, "CortexSDR engine kernels: " + n.name() + " from " + NativeLibrary.NAME
            + (note == null ? "" : " (" + note + "; the W8A8 product runs on AVX-512 VNNI)"));
        return n;
      }
    } else {
      why = "native kernels disabled by " + origin;
    }
    Kernels v = kind.equals("auto") || kind.equals("vector") ? loadVector() : null;
    if (v != null) {
      LOG.log(Level.INFO, "CortexSDR engine kernels: Java " + v.name() + " (" + why + "; the native kernels are "
          + "faster: use the jar built for this platform)");
      return v;
    }
    LOG.log(Level.INFO, "CortexSDR engine kernels: scalar Java (" + why + "; and jdk.incubator.vector "
        + (ModuleLayer.boot().findModule("jdk.incubator.vector").isEmpty() ? "is not in this JVM"
            : kind.equals("scalar") || kind.equals("native") ? "is not asked for" : "is disabled")
        + "): the native kernels, from the jar built for this platform, are the fast ones; "
        + "--add-modules jdk.incubator.vector gives the Java vector ones");
    return SCALAR;
  }

  private static Kernels loadVector() {
    if (ModuleLayer.boot().findModule("jdk.incubator.vector").isEmpty()) {
      return null;
    }
    try {
      return (Kernels) Class.forName("dev.selfbyt.cortexsdr.djl.kernel.VectorKernels")
          .getDeclaredConstructor().newInstance();
    } catch (ReflectiveOperationException | LinkageError e) {
      LOG.log(Level.WARNING, "Vector API kernels unavailable, using scalar ones: " + e);
      return null;
    }
  }

  /** A short name for reports: {@code "native (avx512)"}, {@code "vector (512-bit)"} or {@code "scalar"}. */
  public abstract String name();

  /**
   * {@code y[yOff + i*ldy + j] = sum_kk x[xOff + i*k + kk] * p[pOff + kk*ldp + j]} for {@code i < m},
   * {@code j < nb}: {@code m} rows of {@code x} times a panel of {@code nb} columns of a {@code [k, *]}
   * matrix stored row-major with row stride {@code ldp}. The outputs are overwritten.
   */
  public final void gemmPanel(float[] x, int xOff, int m, int k, float[] p, int pOff, int ldp, int nb, float[] y,
      int yOff, int ldy) {
    gemmPanel(x, xOff, m, k, p, pOff, ldp, nb, y, yOff, ldy, null, 0);
  }

  /**
   * The same plus {@code bias[bOff + j]} on every output of column {@code j} (null for none): the
   * accumulators start from the bias, so it costs no pass of its own.
   */
  public abstract void gemmPanel(float[] x, int xOff, int m, int k, float[] p, int pOff, int ldp, int nb, float[] y,
      int yOff, int ldy, float[] bias, int bOff);

  /**
   * {@code sum_i x[xOff + i] * (codes[cOff + i] ^ 0x80)} over unsigned 8-bit codes seen as signed
   * ({@code q - 128}), for {@code i < len}.
   */
  public abstract float dotS8(float[] x, int xOff, byte[] codes, int cOff, int len);

  /**
   * {@code sum_i xe[xOff + i] * lo(codes[cOff + i]) + xo[xOff + i] * hi(codes[cOff + i])} over
   * {@code len} bytes of packed 4-bit codes, with {@code x} split beforehand into its even ({@code
   * xe}) and odd ({@code xo}) elements.
   */
  public abstract float dotU4(float[] xe, float[] xo, int xOff, byte[] codes, int cOff, int len);

  /**
   * {@code y[yOff + i*ldy + j] = sum_kk x[xOff + i*k + kk] * w[wOff + j*k + kk]} for {@code i < m},
   * {@code j < nb}: {@code m} rows of {@code x} times {@code nb} contiguous rows of {@code w}
   * (dot products; the form decoded weight rows come in).
   */
  public abstract void gemmRows(float[] x, int xOff, int m, int k, float[] w, int wOff, int nb, float[] y, int yOff,
      int ldy);

  /**
   * Decodes {@code len} elements of a column panel ({@link QuantMatrix#inPanels()}): for {@code kk <
   * len} and {@code j < 32}, {@code dst[dOff + kk*32 + j] = q * scale[j] + bias[j]} where {@code q}
   * is the code of row {@code j} at element {@code kk}: 8-bit codes at {@code codes[off + kk*32 + j]}
   * read as {@code q - 128} (so {@code bias} must hold {@code (128 - zero) * scale}), 4-bit codes in
   * {@code codes[off + kk*16 + j % 16]}, low nibble for {@code j < 16}, high nibble above.
   */
  public abstract void decodePanel(byte[] codes, int off, int bits, int len, float[] scale, float[] bias, float[] dst,
      int dOff);

  /** The scalar form of {@link #decodePanel}, for any kernels. */
  static void decodePanelScalar(byte[] codes, int off, int bits, int len, float[] scale, float[] bias, float[] dst,
      int dOff) {
    int p = QuantMatrix.PANEL;
    int h = p / 2;
    for (int kk = 0; kk < len; kk++) {
      int d = dOff + kk * p;
      if (bits == 8) {
        int c = off + kk * p;
        for (int j = 0; j < p; j++) {
          dst[d + j] = (byte) (codes[c + j] ^ 0x80) * scale[j] + bias[j];
        }
      } else {
        int c = off + kk * h;
        for (int j = 0; j < h; j++) {
          int b = codes[c + j];
          dst[d + j] = (b & 0xf) * scale[j] + bias[j];
          dst[d + j + h] = ((b >> 4) & 0xf) * scale[j + h] + bias[j + h];
        }
      }
    }
  }

  /** {@code y[yOff + i*ldy + j] += bias[bOff + j]} for {@code i < m}, {@code j < nb}. */
  public static void addBias(float[] y, int yOff, int m, int nb, int ldy, float[] bias, int bOff) {
    for (int i = 0; i < m; i++) {
      int yr = yOff + i * ldy;
      for (int j = 0; j < nb; j++) {
        y[yr + j] += bias[bOff + j];
      }
    }
  }

  /** {@code dst[dOff + i] = ((codes[off + i] & 0xff) - zero) * scale} for {@code i < len}. */
  public abstract void dequant8(byte[] codes, int off, int len, float scale, float zero, float[] dst, int dOff);

  /** {@code dst[off + i] = exp(src[off + i] - max)} for {@code i < len}; returns their sum. */
  public abstract float expShifted(float[] src, int off, int len, float max, float[] dst);

  /** {@code dst[dOff + i] = gelu(src[off + i])}, {@code x/2 * (1 + erf(x / sqrt 2))} with {@link #erf}. */
  public abstract void gelu(float[] src, int off, int len, float[] dst, int dOff);

  /**
   * One row of layer normalization: {@code dst[off + i] = (src[off + i] - mean) / sqrt(var + eps) *
   * g[i] + b[i]} over {@code len} values ({@code g}, {@code b} null for 1 and 0).
   */
  public abstract void layerNormRow(float[] src, int off, int len, float eps, float[] g, float[] b, float[] dst);

  /** {@link #layerNormRow} for rows {@code r0 <= r < r1} of {@code len} values, in one call where a kernel set can. */
  public void layerNormRows(float[] src, int r0, int r1, int len, float eps, float[] g, float[] b, float[] dst) {
    for (int r = r0; r < r1; r++) {
      layerNormRow(src, r * len, len, eps, g, b, dst);
    }
  }

  /**
   * {@code y[yOff + i] = x[xOff + i] * scale + (m == null ? 0 : m[mOff + i * mStep])} for {@code i <
   * len} ({@code mStep} 0 or 1); returns the largest of them (the first steps of a masked softmax).
   */
  public abstract float affineMax(float[] x, int xOff, float scale, float[] m, int mOff, int mStep, float[] y,
      int yOff, int len);

  /** {@code a[off + i] *= f} for {@code i < len}. */
  public abstract void scale(float[] a, int off, int len, float f);

  /**
   * Rows {@code r0 <= r < r1} of {@code cols} values of a scaled, masked softmax: {@code y = softmax(x
   * * scale + mask)}, the mask of row r starting at {@code m[maskRow[r]]} ({@code mStep} 0: one value
   * for the row; {@code m} null: none). The same arithmetic as {@link #affineMax}, {@link
   * #expShifted} and {@link #scale} row by row, which is what this does unless a kernel set does it
   * in one call.
   */
  public void softmaxRows(float[] x, int r0, int r1, int cols, float scale, float[] m, int[] maskRow, int mStep,
      float[] y) {
    for (int r = r0; r < r1; r++) {
      int o = r * cols;
      float max = affineMax(x, o, scale, m, m == null ? 0 : maskRow[r], mStep, y, o, cols);
      float sum = expShifted(y, o, cols, max, y);
      scale(y, o, cols, (float) (1.0 / sum));
    }
  }

  /**
   * The {@code maskRow} argument of {@link #softmaxRows} for {@code rows} rows whose mask row
   * {@code r} starts at {@code m[mOff + r * mRow]} ({@code mRow} 0: all rows share one); null
   * when {@code m} is null (no mask).
   */
  public static int[] maskRows(float[] m, int mOff, int mRow, int rows) {
    if (m == null) {
      return null;
    }
    int[] maskRow = new int[rows];
    for (int r = 0; r < rows; r++) {
      maskRow[r] = mOff + r * mRow;
    }
    return maskRow;
  }

  /**
   * The error function, by Abramowitz and Stegun 7.1.28: {@code erf(x) = 1 - (1 + a1 x + ... + a6
   * x^6)^-16} for {@code x >= 0}, absolute error at most 3e-7; odd. No call to {@code exp}, so a
   * loop of it vectorizes.
   */
  public static float erf(float xf) {
    float x = Math.abs(xf);
    float p = 1f + x * (ERF_A1 + x * (ERF_A2 + x * (ERF_A3 + x * (ERF_A4 + x * (ERF_A5 + x * ERF_A6)))));
    p *= p; // ^2
    p *= p; // ^4
    p *= p; // ^8
    p *= p; // ^16
    float r = 1f - 1f / p;
    return xf < 0 ? -r : r;
  }

  static final float ERF_A1 = 0.0705230784f;
  static final float ERF_A2 = 0.0422820123f;
  static final float ERF_A3 = 0.0092705272f;
  static final float ERF_A4 = 0.0001520143f;
  static final float ERF_A5 = 0.0002765672f;
  static final float ERF_A6 = 0.0000430638f;
  static final float SQRT_HALF = (float) Math.sqrt(0.5);

  /**
   * The W8A8 product of ONNX Runtime's {@code MatMulInteger}: {@code m} rows of unsigned 8-bit
   * activations {@code xq} ({@code kp} apart, {@code kp} the depth rounded up to 4, padding
   * anything) times {@code nb} signed 8-bit weight columns in consecutive panels of 32, in each the
   * depth in groups of four ({@code w[wOff + t*kp*32 + (q*32 + j)*4 + u]} is element {@code 4q + u}
   * of column {@code 32t + j}, padding 0), summed in 32-bit integers; then {@code y[yOff + i*ldy +
   * j] = (sum - zp * colSums[cOff + j]) * (aScale * wScale[sOff + j]) + bias[bOff + j]} (bias null
   * for none).
   */
  public void gemmU8S8(byte[] xq, int xOff, int m, int kp, byte[] w, int wOff, int nb, int zp, int[] colSums,
      int cOff, float aScale, float[] wScale, int sOff, float[] y, int yOff, int ldy, float[] bias, int bOff) {
    gemmU8S8(xq, xOff, m, kp, w, wOff, nb, zp, colSums, cOff, aScale, wScale, sOff, y, yOff, ldy, bias, bOff, false);
  }

  /**
   * {@link #gemmU8S8}, told whether every weight code lies in [-64, 64] ({@code narrow}: 7-bit
   * codes, int8-fast's default), where the native AVX2 kernel may add uint8 x int8 products in
   * 16-bit pairs (they cannot overflow there). The results are the same either way.
   */
  public void gemmU8S8(byte[] xq, int xOff, int m, int kp, byte[] w, int wOff, int nb, int zp, int[] colSums,
      int cOff, float aScale, float[] wScale, int sOff, float[] y, int yOff, int ldy, float[] bias, int bOff,
      boolean narrow) {
    int p = QuantMatrix.PANEL;
    for (int j0 = 0; j0 < nb; j0 += p) {
      gemmU8S8Panel(xq, xOff, m, kp, w, wOff + j0 * kp, Math.min(p, nb - j0), zp, colSums, cOff + j0, aScale, wScale,
          sOff + j0, y, yOff + j0, ldy, bias, bOff + j0);
    }
  }

  /** {@link #gemmU8S8} for one panel ({@code nb <= 32}). */
  private static void gemmU8S8Panel(byte[] xq, int xOff, int m, int kp, byte[] w, int wOff, int nb, int zp,
      int[] colSums, int cOff, float aScale, float[] wScale, int sOff, float[] y, int yOff, int ldy, float[] bias,
      int bOff) {
    int p = QuantMatrix.PANEL;
    int[] acc = new int[p];
    for (int i = 0; i < m; i++) {
      java.util.Arrays.fill(acc, 0);
      int xr = xOff + i * kp;
      for (int q = 0; q < kp / 4; q++) {
        int a0 = xq[xr + 4 * q] & 0xff;
        int a1 = xq[xr + 4 * q + 1] & 0xff;
        int a2 = xq[xr + 4 * q + 2] & 0xff;
        int a3 = xq[xr + 4 * q + 3] & 0xff;
        int wq = wOff + q * 4 * p;
        for (int j = 0; j < p; j++) {
          int o = wq + 4 * j;
          acc[j] += a0 * w[o] + a1 * w[o + 1] + a2 * w[o + 2] + a3 * w[o + 3];
        }
      }
      for (int j = 0; j < nb; j++) {
        float v = (float) (acc[j] - zp * colSums[cOff + j]) * (aScale * wScale[sOff + j]);
        y[yOff + i * ldy + j] = bias == null ? v : v + bias[bOff + j];
      }
    }
  }

  /**
   * The first pass of ONNX {@code DynamicQuantizeLinear} over {@code len} values from {@code off}:
   * {@code mm[0] = min(0, min x)}, {@code mm[1] = max(0, max x)}, NaN ignored. Parts of a tensor
   * combine by min and max into the whole tensor's range.
   */
  void rangeF32(float[] x, int off, int len, float[] mm) {
    float min = 0f;
    float max = 0f;
    for (int i = off, end = off + len; i < end; i++) {
      float v = x[i];
      min = v < min ? v : min;
      max = v > max ? v : max;
    }
    mm[0] = min;
    mm[1] = max;
  }

  /** {@code 1.5 * 2^23}: {@code (v + R) - R} rounds a float of magnitude up to 2^22 half to even. */
  static final float ROUND_HALF_EVEN = 12582912f;

  /**
   * The second pass of ONNX {@code DynamicQuantizeLinear}, less the zero point, as floats: {@code
   * dst[dOff + i] = saturate(rint(x[off + i] / scale) + zp) - zp} (saturated to [0, 255], rounding
   * half to even, NaN to code 0): the integers in [-255, 255] that the native kernels multiply as
   * {@code code - zp}. The quotient is clamped to [-512, 512] first (it saturates beyond), so the
   * rounding by {@link #ROUND_HALF_EVEN} is exact.
   */
  public void quantizeCentered(float[] x, int off, int len, float scale, int zp, float[] dst, int dOff) {
    float z = zp;
    for (int i = 0; i < len; i++) {
      float v = x[off + i] / scale;
      v = v < -512f ? -512f : (v > 512f ? 512f : v);
      float r = (v + ROUND_HALF_EVEN) - ROUND_HALF_EVEN + z;
      float q = r < 0f ? 0f : (r > 255f ? 255f : r);
      dst[dOff + i] = (q == q ? q : 0f) - z;
    }
  }

  /**
   * One panel of W8A8 weight codes ({@link Int8Panels}: {@code kp / 4} groups of four depths by 32
   * columns, {@code codes[off + (q * 32 + j) * 4 + u]} is depth {@code 4q + u} of column {@code j})
   * times its column's scale, in the fp32 panel layout: {@code dst[dOff + d * 32 + j] = code *
   * scale[j]} for {@code d < kp}.
   */
  public void decodeS8Panel(byte[] codes, int off, int kp, float[] scale, float[] dst, int dOff) {
    int p = QuantMatrix.PANEL;
    for (int q = 0; q < kp / 4; q++) {
      int src = off + q * 4 * p;
      for (int u = 0; u < 4; u++) {
        int d = dOff + (4 * q + u) * p;
        for (int j = 0; j < p; j++) {
          dst[d + j] = codes[src + 4 * j + u] * scale[j];
        }
      }
    }
  }

  /** {@code y[yOff + i] += a * x[xOff + i]} for {@code i < len}. */
  public abstract void axpy(float a, float[] x, int xOff, float[] y, int yOff, int len);

  /**
   * Rows {@code r0 .. r1-1} of a sparse {@code W} in CSR ({@code start}, {@code col}, {@code val}:
   * row r keeps {@code val[start[r] .. start[r+1])} at columns {@code col[]}) times the {@code m}
   * rows of X given transposed ({@code xt} [k, m]): {@code y[yOff + i * ldy + r]} for {@code i <
   * m}. Each kept value is one multiply-add over a contiguous column of {@code xt}.
   */
  public void sparseRowsTransposed(int[] start, int[] col, float[] val, int r0, int r1, float[] xt, int m,
      float[] y, int yOff, int ldy) {
    float[] acc = new float[m];
    for (int r = r0; r < r1; r++) {
      java.util.Arrays.fill(acc, 0f);
      for (int p = start[r], p1 = start[r + 1]; p < p1; p++) {
        axpy(val[p], xt, col[p] * m, acc, 0, m);
      }
      for (int i = 0; i < m; i++) {
        y[yOff + i * ldy + r] = acc[i];
      }
    }
  }

  /** Floats a {@link #sparseConv} input must hold past the last position's reads (kernels read in blocks). */
  public static final int CONV_SLACK = 64;

  /**
   * {@link #sparseRowsTransposed} for many rows of X on the CSR of {@code w}, whose arrays {@link
   * SparseMatrix} checked when it was made (native kernels: register-blocked over blocks of X's
   * rows, no per-call scan of the weight). {@code xt} is X transposed, [w.cols(), m].
   */
  public void sparseRowsBatched(SparseMatrix w, int r0, int r1, float[] xt, int m, float[] y, int yOff, int ldy) {
    sparseRowsTransposed(w.rowStartArray(), w.colIndexArray(), w.valueArray(), r0, r1, xt, m, y, yOff, ldy);
  }

  /** {@link #sparseRowsGathered} on the CSR of {@code w} (checked when it was made), {@code x} [m, w.cols()]. */
  public void sparseRowsGathered(SparseMatrix w, int r0, int r1, float[] x, int xOff, int m, float[] y, int yOff,
      int ldy) {
    sparseRowsGathered(w.rowStartArray(), w.colIndexArray(), w.valueArray(), r0, r1, x, xOff, m, w.cols(), y, yOff,
        ldy);
  }

  /**
   * Output channels {@code r0 .. r1-1} of one image of a convolution by a sparse {@code w} (rows:
   * output channels; columns: taps {@code (c * kh + dy) * kw + dx}) without patches: output
   * position {@code q' = yy * wq + xx} (of {@code q} positions) is {@code sum over kept taps t of
   * value * ph[pOff + off[t] + q']}, stored at {@code y[yOff + (r * oh + yy) * ow + xx]} when
   * {@code xx < ow}. {@code ph} is the image's input padded and split by stride phase, {@code
   * off[t]} the tap's window (ConvOps builds both); it holds {@link #CONV_SLACK} floats past the
   * last read.
   */
  public void sparseConv(SparseMatrix w, int r0, int r1, float[] ph, int pOff, int[] off, int q, int wq, int oh,
      int ow, float[] y, int yOff) {
    int[] start = w.rowStartArray();
    int[] col = w.colIndexArray();
    float[] val = w.valueArray();
    float[] acc = new float[q];
    for (int r = r0; r < r1; r++) {
      java.util.Arrays.fill(acc, 0f);
      for (int p = start[r], e = start[r + 1]; p < e; p++) {
        axpy(val[p], ph, pOff + off[col[p]], acc, 0, q);
      }
      int yr = yOff + r * oh * ow;
      for (int yy = 0; yy < oh; yy++) {
        System.arraycopy(acc, yy * wq, y, yr + yy * ow, Math.min(ow, q - yy * wq));
      }
    }
  }

  /**
   * The same rows for few rows of X, row-major {@code x} [m, k] from {@code xOff}: one gathered dot
   * product per output, {@code y[yOff + i * ldy + r]}.
   */
  public void sparseRowsGathered(int[] start, int[] col, float[] val, int r0, int r1, float[] x, int xOff, int m,
      int k, float[] y, int yOff, int ldy) {
    for (int r = r0; r < r1; r++) {
      int p0 = start[r];
      int p1 = start[r + 1];
      for (int i = 0; i < m; i++) {
        int xr = xOff + i * k;
        float s0 = 0;
        float s1 = 0;
        int p = p0;
        for (; p + 1 < p1; p += 2) {
          s0 += x[xr + col[p]] * val[p];
          s1 += x[xr + col[p + 1]] * val[p + 1];
        }
        if (p < p1) {
          s0 += x[xr + col[p]] * val[p];
        }
        y[yOff + i * ldy + r] = s0 + s1;
      }
    }
  }

  /**
   * {@code x} itself when none of {@code x[off .. off + len)} is denormal (nonzero and below
   * {@link Float#MIN_NORMAL} in magnitude), else a copy of {@code x} with those flushed to zero.
   * Java cannot set the CPU's flush-to-zero mode, and a denormal operand makes every multiply-add
   * that touches it take a slow microcode path (measured: a [128,384] x [384,1536] product 100x
   * slower); one pass over the activations keeps them out of the products' loops. The native
   * kernels flush in hardware and return {@code x} as it is.
   */
  public float[] withoutDenormals(float[] x, int off, int len) {
    for (int i = off, end = off + len; i < end; i++) {
      float v = x[i];
      if (v != 0f && Math.abs(v) < Float.MIN_NORMAL) {
        return flushDenormals(x, i, end);
      }
    }
    return x;
  }

  /** A copy of {@code x} with its denormals in {@code [from, to)} set to zero. */
  static float[] flushDenormals(float[] x, int from, int to) {
    float[] c = x.clone();
    for (int i = from; i < to; i++) {
      if (Math.abs(c[i]) < Float.MIN_NORMAL) {
        c[i] = 0f;
      }
    }
    return c;
  }

  /** {@code sum_i a[aOff + i] * b[bOff + i]}. */
  public abstract float dot(float[] a, int aOff, float[] b, int bOff, int len);
}
