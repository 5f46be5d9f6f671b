package dev.selfbyt.cortexsdr.djl.kernel;

import dev.selfbyt.cortexsdr.core.codec.QuantCodec;
import java.nio.ByteBuffer;

/**
 * A MatMul weight {@code [K, N]} that computes with int8 activations ("W8A8", as ONNX Runtime's
 * {@code DynamicQuantizeLinear + MatMulInteger}): signed 8-bit codes, one scale per output column,
 * laid out for integer dot products: panels of {@value QuantMatrix#PANEL} columns, in each the
 * depth in groups of four, {@code codes[t][q][j][0..3]} = elements {@code 4q .. 4q+3} of column
 * {@code 32t + j} (what one AVX-512 VNNI {@code vpdpbusd} or one NEON {@code sdot} lane reads),
 * padding 0. Built once at load from the stored symmetric per-channel codes ({@link #of}); the
 * column sums of the codes are kept for the activations' zero point. Immutable.
 */
public final class Int8Panels {
  private final int k;
  private final int n;
  /** {@code k} rounded up to 4. */
  private final int kp;
  private final byte[] codes;
  private final int[] colSums;
  private final float[] scales;

  /** Every code in [-64, 64] (7-bit codes): the native AVX2 product may pair them in 16 bits. */
  private final boolean narrow;

  private Int8Panels(int k, int n, byte[] codes, int[] colSums, float[] scales) {
    this.k = k;
    this.n = n;
    this.kp = (k + 3) & ~3;
    this.codes = codes;
    this.colSums = colSums;
    this.scales = scales;
    boolean within = true;
    for (byte c : codes) {
      within &= c >= -64 && c <= 64;
    }
    this.narrow = within;
  }

  /**
   * The W8A8 form of a stored quantized tensor: 7- or 8-bit symmetric codes with one scale per fiber
   * (per channel, or one for the whole tensor). Anything else throws an {@link
   * IllegalArgumentException} saying what the tensor holds instead.
   */
  public static Int8Panels of(QuantCodec.QuantizedTensor q) {
    QuantCodec c = q.codec();
    boolean perFiber = c.granularity() == QuantCodec.Granularity.CHANNEL
        || c.granularity() == QuantCodec.Granularity.TENSOR || q.groupLength() >= q.fiberLength();
    if (c.bits() < 7 || c.bits() > 8 || !c.symmetric() || !perFiber) {
      throw new IllegalArgumentException("int8 activations need 7- or 8-bit symmetric codes with one scale per "
          + "output channel, not " + c.describe());
    }
    boolean bytes = c.bits() == 8; // one code per byte: read in place; 7-bit codes are unpacked per fiber
    int n = q.fibers();
    int k = q.fiberLength();
    int kp = (k + 3) & ~3;
    int p = QuantMatrix.PANEL;
    int panels = (n + p - 1) / p;
    byte[] out = new byte[Math.multiplyExact(panels, kp * p)];
    int[] sums = new int[panels * p];
    float[] sc = new float[panels * p];
    ByteBuffer packed = q.packedCodes().duplicate();
    int base0 = packed.position();
    float[] s = q.scales();
    boolean oneScale = c.granularity() == QuantCodec.Granularity.TENSOR;
    for (int j = 0; j < n; j++) {
      int t = j / p;
      int jj = j % p;
      int base = base0 + j * q.fiberBytes();
      byte[] unpacked = bytes ? null : q.codes(j);
      int sum = 0;
      for (int kk = 0; kk < k; kk++) {
        // symmetric: zero point 2^(bits - 1), codes 1 .. 2^bits - 1
        int code = bytes ? (packed.get(base + kk) & 0xff) - 128 : (unpacked[kk] & 0xff) - 64;
        out[t * kp * p + ((kk >> 2) * p + jj) * 4 + (kk & 3)] = (byte) code;
        sum += code;
      }
      sums[j] = sum;
      sc[j] = oneScale ? s[0] : s[j];
    }
    return new Int8Panels(k, n, out, sums, sc);
  }

  public int rows() {
    return n;
  }

  public int cols() {
    return k;
  }

  long residentBytes() {
    return codes.length + 4L * colSums.length + 4L * scales.length;
  }

  /** Column {@code j} as floats ({@code code * scale}), into {@code dst[off .. off + k)}. */
  void decodeRow(int j, float[] dst, int off) {
    int p = QuantMatrix.PANEL;
    int t = j / p;
    int jj = j % p;
    for (int kk = 0; kk < k; kk++) {
      dst[off + kk] = codes[t * kp * p + ((kk >> 2) * p + jj) * 4 + (kk & 3)] * scales[j];
    }
  }

  /**
   * {@code y = x * W + bias} as ONNX Runtime computes {@code DynamicQuantizeLinear(x)}, {@code
   * MatMulInteger}, then the scales: {@code x} quantized per tensor (all {@code m} rows) to
   * unsigned 8 bits, 32-bit integer sums, {@code (sum - zp * colSum) * (xScale * wScale)}; the
   * Java kernels give the same to float rounding ({@link #multiplyAsFloats}).
   */
  void multiply(Kernels kern, float[] x, int xOff, int m, float[] bias, float[] y, int yOff) {
    if (!(kern instanceof NativeKernels nat)) {
      multiplyAsFloats(kern, x, xOff, m, bias, y, yOff);
      return;
    }
    Quantized a = quantizeNative(nat, x, xOff, m);
    // runs of consecutive panels, one native call each (AMX takes a run in one pass): two per
    // thread, so a thread the machine descheduled leaves half its share to the others
    int runs = runs();
    KernelThreads.forEach(runs, (long) m * n * k / 4, t -> multiplyRun(kern, a, m, runs, t, bias, y, yOff));
  }

  /** Runs of consecutive panels {@link #multiply} splits the product into, one native call each. */
  int runs() {
    return Math.min(panels(), 2 * KernelThreads.threads());
  }

  private int panels() {
    return (n + QuantMatrix.PANEL - 1) / QuantMatrix.PANEL;
  }

  /** Run {@code t} of {@code runs} of the product on activations quantized already ({@link #quantizeOnce}). */
  void multiplyRun(Kernels kern, Quantized a, int m, int runs, int t, float[] bias, float[] y, int yOff) {
    int p = QuantMatrix.PANEL;
    int panels = panels();
    int t0 = (int) ((long) panels * t / runs);
    int t1 = (int) ((long) panels * (t + 1) / runs);
    int j0 = t0 * p;
    int nb = Math.min(t1 * p, n) - j0;
    kern.gemmU8S8(a.codes, 0, m, kp, codes, t0 * kp * p, nb, a.zeroPoint, colSums, j0, a.scale, scales, j0, y,
        yOff + j0, n, bias, j0, narrow);
  }

  /**
   * {@code DynamicQuantizeLinear} of {@code m} rows of {@code x} as {@link #multiply} makes them
   * with native kernels, for several products on the same {@code x} whose weights have this one's
   * depth: the codes live in the calling thread's buffer until its next quantization.
   */
  Quantized quantizeOnce(NativeKernels nat, float[] x, int xOff, int m) {
    return quantizeNative(nat, x, xOff, m);
  }

  /** Values to quantize below which both passes run on the caller (a few microseconds). */
  static final long SPLIT_QUANTIZE = 1L << 15;
  /** Values below which the first pass (a min and a max, at memory speed) runs on the caller alone. */
  static final long SPLIT_RANGE = 1L << 18;
  /** The caller's buffer for the activations' codes, reused from call to call (read only before the call returns). */
  private static final ThreadLocal<byte[][]> CODES = ThreadLocal.withInitial(() -> new byte[1][0]);

  /**
   * {@code DynamicQuantizeLinear} of {@code m} rows into this thread's code buffer with the native
   * kernels: large inputs split over the threads by rows in both passes (the range of each part,
   * combined by min and max as one pass would, then the codes), so the codes are those of {@link
   * NativeKernels#quantizeU8} bit for bit.
   */
  private Quantized quantizeNative(NativeKernels nat, float[] x, int xOff, int m) {
    byte[][] holder = CODES.get();
    if (holder[0].length < m * kp) {
      holder[0] = new byte[m * kp];
    }
    byte[] out = holder[0];
    long len = (long) m * k;
    int threads = KernelThreads.threads();
    if (threads < 2 || m < 2 || len < SPLIT_QUANTIZE) {
      float[] sz = nat.quantizeU8(x, xOff, m, k, kp, out);
      return new Quantized(out, sz[0], (int) sz[1]);
    }
    int parts = Math.min(m, 2 * threads);
    float[] mm = new float[2 * parts];
    if (len < SPLIT_RANGE) {
      nat.rangeF32(x, xOff, m * k, mm);
      for (int p = 1; p < parts; p++) {
        mm[2 * p] = mm[0];
        mm[2 * p + 1] = mm[1];
      }
    } else {
      KernelThreads.forEach(parts, Long.MAX_VALUE, p -> {
        int r0 = (int) ((long) m * p / parts);
        int r1 = (int) ((long) m * (p + 1) / parts);
        float[] part = new float[2];
        nat.rangeF32(x, xOff + r0 * k, (r1 - r0) * k, part);
        mm[2 * p] = part[0];
        mm[2 * p + 1] = part[1];
      });
    }
    float mn = 0f;
    float mx = 0f;
    for (int p = 0; p < parts; p++) {
      mn = mm[2 * p] < mn ? mm[2 * p] : mn;
      mx = mm[2 * p + 1] > mx ? mm[2 * p + 1] : mx;
    }
    // the scale and zero point as quantize_u8 computes them from the range (float arithmetic, rint = nearbyintf)
    float scale = mx == mn ? 1f : (mx - mn) / 255f;
    float z = 0f - mn / scale;
    z = z > 0f ? (z < 255f ? z : 255f) : 0f;
    float zp = (float) Math.rint(z);
    KernelThreads.forEach(parts, Long.MAX_VALUE, p -> nat.quantizeU8Rows(x, xOff, (int) ((long) m * p / parts),
        (int) ((long) m * (p + 1) / parts), k, kp, out, scale, zp));
    return new Quantized(out, scale, (int) zp);
  }

  /**
   * The same product with the Java kernels' float GEMM: the activations' codes less their zero
   * point as floats ({@link Kernels#quantizeCentered}, integers in [-255, 255]) times the weight
   * codes decoded with both scales ({@code code * xScale * wScale}, {@link Kernels#decodeS8Panel}),
   * the bias in the sums: what the native kernels compute, {@code (sum - zp * colSum) * (xScale *
   * wScale) + bias}, to float rounding (Java has no fast 8-bit dot product; its float products run
   * at vector speed, through the same paths as weight-only products).
   */
  private void multiplyAsFloats(Kernels kern, float[] x, int xOff, int m, float[] bias, float[] y, int yOff) {
    float[] range = new float[2];
    kern.rangeF32(x, xOff, m * k, range);
    float scale = range[1] == range[0] ? 1f : (range[1] - range[0]) / 255f;
    float z = 0f - range[0] / scale;
    z = z > 0f ? (z < 255f ? z : 255f) : 0f;
    int zp = (int) Math.rint(z);
    float[] xq = MatMul.scratch(MatMul.ACTIVATIONS, m * k);
    kern.quantizeCentered(x, xOff, m * k, scale, zp, xq, 0);
    int p = QuantMatrix.PANEL;
    if (kern instanceof ScalarKernels) {
      ScalarMatMul.multiplyPanels(xq, 0, m, n, k, (t, rows, c, sc, unused) -> {
        for (int j = 0; j < p; j++) {
          sc[j] = scale * scales[t * p + j];
        }
        decodeTileInto(t, rows, c, sc);
      }, bias, y, yOff);
      return;
    }
    int panels = (n + p - 1) / p;
    KernelThreads.forEach(panels, (long) m * n * k, t -> {
      int j0 = t * p;
      float[] cs = MatMul.scratch(MatMul.SCALES, p);
      for (int j = 0; j < p; j++) {
        cs[j] = scale * scales[j0 + j];
      }
      float[] panel = MatMul.scratch(MatMul.PANEL, kp * p);
      kern.decodeS8Panel(codes, t * kp * p, kp, cs, panel, 0);
      kern.gemmPanel(xq, 0, m, k, panel, 0, p, Math.min(p, n - j0), y, yOff + j0, n, bias, j0);
    });
  }

  /**
   * Panel {@code t}'s first {@code k} depths times the column scales {@code cs} into {@code
   * rows[d][c .. c + 32)}, four depths per read of a column's group ({@link ScalarMatMul}'s tile).
   */
  private void decodeTileInto(int t, float[][] rows, int c, float[] cs) {
    int p = QuantMatrix.PANEL;
    int base = t * kp * p;
    for (int q = 0; q < kp / 4; q++) {
      int d = 4 * q;
      int src = base + q * 4 * p;
      int left = Math.min(4, k - d);
      for (int u = 0; u < left; u++) {
        float[] row = rows[d + u];
        for (int j = 0; j < p; j++) {
          row[c + j] = codes[src + 4 * j + u] * cs[j];
        }
      }
    }
  }

  /** Activations as {@code DynamicQuantizeLinear} makes them: codes {@code [m, kp]}, scale, zero point. */
  record Quantized(byte[] codes, float scale, int zeroPoint) {}
}
