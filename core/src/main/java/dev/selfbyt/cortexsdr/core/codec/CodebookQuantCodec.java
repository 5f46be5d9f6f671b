package dev.selfbyt.cortexsdr.core.codec;

import dev.selfbyt.cortexsdr.core.tensor.Fp16;
import dev.selfbyt.cortexsdr.core.tensor.TensorData;
import dev.selfbyt.cortexsdr.core.tensor.TensorInfo;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;

/**
 * Block-wise quantization onto non-uniform levels: each block of a fiber keeps one scale, each
 * value a code of 1 to 8 bits that picks one of {@code 2^bits} levels of a table the tensor
 * carries (in units of the block's scale), decoded as {@code scale * level[code]}. The levels are
 * fitted to the tensor by weighted k-means (Lloyd) on its values divided by their block's absolute
 * maximum, so at 2 or 3 bits they sit where a bell-shaped weight distribution has its values, not
 * evenly as {@link QuantCodec}'s do: normal-float codebooks (NF4 style) learned per tensor. The
 * level nearest zero is held at zero, as NF4's is.
 *
 * <p>Runtimes decode by table lookup; there is no ONNX operator for it, so the quantized ONNX
 * export and {@code CaiOrt} decode such a tensor to float32. Get one with {@link #blockwise}.
 *
 * <p>Params: {@code u8 version (1), u8 bits (1..8), varint block (>= 1), u8 flags (bit 0:
 * super-block scales)}. Payload:
 *
 * <pre>
 * levels  2^bits x f32, ascending
 * scales  fp16 per group; with super-block scales: fp16 d per run of 8 groups, then u8 c per group
 *         (scale = d * c / 255 in float32, as quant's scale type 3)
 * codes   per fiber, R codes of bits bits, packed LSB first, each fiber from a byte boundary
 * </pre>
 *
 * Groups are numbered fiber-major as in {@link QuantCodec}'s block granularity.
 */
public final class CodebookQuantCodec implements TensorCodec {
  /** The oldest params version this reader decodes. */
  public static final int PARAMS_VERSION_START = 1;
  /** The params version this writer writes. */
  public static final int PARAMS_VERSION_CURRENT = 1;
  /** Lloyd iterations fitting the levels; the error stops moving well before. */
  static final int LLOYD_ITERATIONS = 24;
  /** Rounds of refitting each block's scale to its codes, then the codes to the scale. */
  static final int SCALE_ROUNDS = 2;
  private static final int MAX_INIT_SAMPLE = 1 << 16;

  private final int bits;
  private final int blockSize;
  private final boolean superScales;

  private CodebookQuantCodec(int bits, int blockSize, boolean superScales) {
    if (bits < 1 || bits > 8) {
      throw new IllegalArgumentException("codebook quantization takes 1 to 8 bits, got " + bits);
    }
    if (blockSize < 1) {
      throw new IllegalArgumentException("codebook block size must be at least 1, got " + blockSize);
    }
    this.bits = bits;
    this.blockSize = blockSize;
    this.superScales = superScales;
  }

  /** {@code 2^bits} fitted levels, one fp16 scale per {@code blockSize} values of a fiber. */
  public static CodebookQuantCodec blockwise(int bits, int blockSize) {
    return new CodebookQuantCodec(bits, blockSize, false);
  }

  /** The same codec with super-block scales: one byte per block under one fp16 per 8 blocks. */
  public CodebookQuantCodec withSuperScales() {
    return new CodebookQuantCodec(bits, blockSize, true);
  }

  static CodebookQuantCodec fromParams(ByteBuffer p) {
    int version = p.get() & 0xff;
    if (version < PARAMS_VERSION_START || version > PARAMS_VERSION_CURRENT) {
      throw new UnknownParamsVersionException("codebook", version);
    }
    int bits = p.get() & 0xff;
    int block = ByteSink.getVarInt(p, Integer.MAX_VALUE, "codebook block size");
    int flags = p.get() & 0xff;
    if ((flags & ~1) != 0) {
      throw new MalformedPayloadException("codebook params with unknown flags " + flags);
    }
    try {
      return new CodebookQuantCodec(bits, block, (flags & 1) != 0);
    } catch (IllegalArgumentException e) {
      throw new MalformedPayloadException(e.getMessage());
    }
  }

  /** Bits per code. */
  public int bits() {
    return bits;
  }

  /** Values per scale along a fiber. */
  public int blockSize() {
    return blockSize;
  }

  /** Whether block scales are stored as bytes under one fp16 per 8 blocks. */
  public boolean superScales() {
    return superScales;
  }

  @Override
  public CodecId id() {
    return CodecId.CODEBOOK;
  }

  @Override
  public byte[] params() {
    return new ByteSink(8).putU8(PARAMS_VERSION_CURRENT).putU8(bits).putVarLong(blockSize)
        .putU8(superScales ? 1 : 0).toArray();
  }

  @Override
  public boolean isLossless() {
    return false;
  }

  @Override
  public String describe() {
    return "codebook " + bits + "-bit, block " + blockSize + (superScales ? ", super-block scales" : "");
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof CodebookQuantCodec c && c.bits == bits && c.blockSize == blockSize
        && c.superScales == superScales;
  }

  @Override
  public int hashCode() {
    return (bits * 31 + blockSize) * 2 + (superScales ? 1 : 0);
  }

  @Override
  public String toString() {
    return describe();
  }

  private int groupsPerFiber(int r) {
    return r == 0 ? 0 : (r + blockSize - 1) / blockSize;
  }

  private long scaleBytes(long groups) {
    return superScales ? 2 * ((groups + QuantCodec.SUPER_BLOCK - 1) / QuantCodec.SUPER_BLOCK) + groups : 2 * groups;
  }

  private long payloadBytes(int fibers, int r) {
    long groups = (long) fibers * groupsPerFiber(r);
    return 4L * (1 << bits) + scaleBytes(groups) + (long) fibers * PackedCodes.bytes(r, bits);
  }

  @Override
  public long maxPayloadBytes(TensorInfo info) {
    try {
      return Math.min(Integer.MAX_VALUE, payloadBytes(FiberLayout.fiberCount(info), FiberLayout.fiberLength(info)));
    } catch (ArithmeticException e) {
      return Integer.MAX_VALUE;
    }
  }

  @Override
  public ByteBuffer encode(TensorData data) {
    TensorInfo info = data.info();
    FiberLayout.requireFloating(info, "codebook quantization");
    FiberLayout.checkIndexable(info);
    int r = FiberLayout.fiberLength(info);
    int fibers = FiberLayout.fiberCount(info);
    long size = payloadBytes(fibers, r);
    if (size > Integer.MAX_VALUE - 16) {
      throw new IllegalArgumentException("tensor '" + info.name() + "': codebook payload over 2 GiB");
    }
    float[] x = FiberLayout.toFiberMajor(data.floats(), info);
    for (int i = 0; i < x.length; i++) {
      if (!Float.isFinite(x[i])) {
        throw new NonFiniteValueException(info.name(), x[i], i, "fiber-major element", "codebook quantization");
      }
    }
    int gpf = groupsPerFiber(r);
    int groups = fibers * gpf;
    float[] absMax = new float[groups];
    for (int g = 0; g < groups; g++) {
      int from = start(g, gpf, r);
      int to = end(g, gpf, r);
      float m = 0;
      for (int i = from; i < to; i++) {
        m = Math.max(m, Math.abs(x[i]));
      }
      absMax[g] = m;
    }
    Scales scales = storeScales(absMax, info, true);
    float[] levels = fitLevels(x, scales.values, gpf, r);
    byte[] codes = new byte[x.length];
    for (int round = 0; round < SCALE_ROUNDS; round++) {
      assign(x, scales.values, levels, gpf, r, codes);
      float[] fitted = new float[groups]; // least-squares scale of each block under its codes
      for (int g = 0; g < groups; g++) {
        double num = 0;
        double den = 0;
        for (int i = start(g, gpf, r), to = end(g, gpf, r); i < to; i++) {
          double l = levels[codes[i] & 0xff];
          num += x[i] * l;
          den += l * l;
        }
        fitted[g] = den > 0 && num > 0 ? (float) (num / den) : absMax[g];
      }
      scales = storeScales(fitted, info, false);
      refitLevels(x, scales.values, gpf, r, levels, codes);
    }
    assign(x, scales.values, levels, gpf, r, codes);
    byte[] out = new byte[(int) size];
    ByteBuffer b = ByteBuffer.wrap(out).order(ByteOrder.LITTLE_ENDIAN);
    for (float l : levels) {
      b.putFloat(l);
    }
    b.put(scales.stored);
    int fiberBytes = (int) PackedCodes.bytes(r, bits);
    for (int f = 0; f < fibers; f++) {
      PackedCodes.pack(codes, f * r, r, bits, out, b.position() + f * fiberBytes);
    }
    return ByteBuffer.wrap(out).order(ByteOrder.LITTLE_ENDIAN);
  }

  private int start(int g, int gpf, int r) {
    return (g / gpf) * r + (g % gpf) * blockSize;
  }

  private int end(int g, int gpf, int r) {
    return (g / gpf) * r + Math.min(r, (g % gpf + 1) * blockSize);
  }

  /** Block scales as decoded ({@code values}) and as stored ({@code stored}). */
  private record Scales(float[] values, byte[] stored) {}

  /**
   * The stored form of wanted scales: fp16 (rounded up when {@code cover}, so no value exceeds its
   * block's largest level times the scale by more than the level table allows; else to nearest),
   * or super-block scales.
   */
  private Scales storeScales(float[] want, TensorInfo info, boolean cover) {
    int groups = want.length;
    float[] values = new float[groups];
    ByteSink s = new ByteSink((int) Math.min(Integer.MAX_VALUE - 16, scaleBytes(groups)));
    if (superScales) {
      float[] d = SuperScales.supers(want, QuantCodec.SUPER_BLOCK, 1f);
      if (d == null) {
        throw new IllegalArgumentException("tensor '" + info.name() + "': a block scale does not fit fp16 "
            + "(over 65504 or subnormal); use the codec without super-block scales");
      }
      byte[] c = new byte[groups];
      for (int g = 0; g < groups; g++) {
        float dd = d[g / QuantCodec.SUPER_BLOCK];
        int code = cover ? SuperScales.code(want[g], dd) : nearestCode(want[g], dd);
        c[g] = (byte) code;
        values[g] = SuperScales.scale(dd, code);
      }
      for (float dd : d) {
        s.putShort(Fp16.fromFloat(dd));
      }
      s.put(c);
    } else {
      for (int g = 0; g < groups; g++) {
        if (!(want[g] <= Fp16.MAX)) {
          throw new IllegalArgumentException("tensor '" + info.name() + "': block scale " + want[g]
              + " does not fit fp16 (over 65504)");
        }
        short h = cover ? Fp16.fromFloatRoundUp(want[g]) : Fp16.fromFloat(want[g]);
        values[g] = Fp16.toFloat(h);
        s.putShort(h);
      }
    }
    return new Scales(values, s.toArray());
  }

  private static int nearestCode(float want, float d) {
    if (!(want > 0) || d == 0f) {
      return 0;
    }
    int c = Math.round(want * SuperScales.CODE_MAX / d);
    return Math.max(1, Math.min(SuperScales.CODE_MAX, c));
  }

  /** Levels by weighted Lloyd iterations on the values in units of their block's scale (weight: scale squared). */
  private float[] fitLevels(float[] x, float[] scale, int gpf, int r) {
    int k = 1 << bits;
    int stride = Math.max(1, x.length / MAX_INIT_SAMPLE);
    float[] sample = new float[(x.length + stride - 1) / stride];
    int n = 0;
    for (int i = 0; i < x.length; i += stride) {
      float s = scale[group(i, gpf, r)];
      sample[n++] = s == 0f ? 0f : x[i] / s;
    }
    sample = Arrays.copyOf(sample, n);
    Arrays.sort(sample);
    float[] levels = new float[k];
    for (int j = 0; j < k; j++) { // quantiles: the levels start where the values are
      levels[j] = n == 0 ? 0f : sample[Math.min(n - 1, (int) ((j + 0.5) * n / k))];
    }
    pinZero(levels);
    byte[] codes = new byte[x.length];
    for (int it = 0; it < LLOYD_ITERATIONS; it++) {
      assign(x, scale, levels, gpf, r, codes);
      refitLevels(x, scale, gpf, r, levels, codes);
    }
    return levels;
  }

  private int group(int i, int gpf, int r) {
    return (i / r) * gpf + (i % r) / blockSize;
  }

  /** Each level the weighted mean of its values (least squares given codes and scales); kept sorted. */
  private void refitLevels(float[] x, float[] scale, int gpf, int r, float[] levels, byte[] codes) {
    int k = levels.length;
    double[] num = new double[k];
    double[] den = new double[k];
    for (int i = 0; i < x.length; i++) {
      float s = scale[group(i, gpf, r)];
      int c = codes[i] & 0xff;
      num[c] += (double) s * x[i];
      den[c] += (double) s * s;
    }
    for (int j = 0; j < k; j++) {
      if (den[j] > 0) {
        levels[j] = (float) (num[j] / den[j]);
      }
    }
    Arrays.sort(levels);
    pinZero(levels);
  }

  /**
   * The level nearest zero becomes exactly zero. Without it an even number of levels has none
   * near zero, and a block holding one large value among small ones decodes every small value to
   * a level far larger than itself: on MiniLM's vocabulary the worst row's error was 0.51 of its
   * norm at 2 bits (0.23 on the uniform grid, whose asymmetric zero point keeps zero exact).
   */
  private static void pinZero(float[] levels) {
    int z = 0;
    for (int j = 1; j < levels.length; j++) {
      if (Math.abs(levels[j]) < Math.abs(levels[z])) {
        z = j;
      }
    }
    levels[z] = 0f;
  }

  /** The nearest level of each value under its block's scale. */
  private void assign(float[] x, float[] scale, float[] levels, int gpf, int r, byte[] codes) {
    int k = levels.length;
    float[] mid = new float[k - 1];
    for (int j = 0; j + 1 < k; j++) {
      mid[j] = (levels[j] + levels[j + 1]) * 0.5f;
    }
    for (int i = 0; i < x.length; i++) {
      float s = scale[group(i, gpf, r)];
      float u = s == 0f ? 0f : x[i] / s;
      int lo = 0;
      int hi = k - 1;
      while (lo < hi) { // first level whose upper midpoint is above u
        int m = (lo + hi) >>> 1;
        if (u > mid[m]) {
          lo = m + 1;
        } else {
          hi = m;
        }
      }
      codes[i] = (byte) lo;
    }
  }

  @Override
  public TensorData decode(TensorInfo info, ByteBuffer payload) {
    try {
      FiberLayout.checkIndexable(info);
    } catch (IllegalArgumentException e) {
      throw new MalformedPayloadException(e.getMessage());
    }
    int r = FiberLayout.fiberLength(info);
    int fibers = FiberLayout.fiberCount(info);
    long size = payloadBytes(fibers, r);
    ByteBuffer in = payload.duplicate().order(ByteOrder.LITTLE_ENDIAN);
    if (in.remaining() != size) {
      throw new MalformedPayloadException("codebook payload of " + in.remaining() + " bytes, expected " + size
          + " for " + fibers + " fibers of " + r + " at " + bits + " bits, block " + blockSize);
    }
    float[] levels = new float[1 << bits];
    for (int j = 0; j < levels.length; j++) {
      levels[j] = in.getFloat();
      if (!Float.isFinite(levels[j])) {
        throw new MalformedPayloadException("codebook level " + j + " is " + levels[j]);
      }
    }
    int gpf = groupsPerFiber(r);
    int groups = fibers * gpf;
    float[] scale = new float[groups];
    if (superScales) {
      int runs = (groups + QuantCodec.SUPER_BLOCK - 1) / QuantCodec.SUPER_BLOCK;
      float[] d = new float[runs];
      for (int i = 0; i < runs; i++) {
        d[i] = Fp16.toFloat(in.getShort());
      }
      for (int g = 0; g < groups; g++) {
        scale[g] = SuperScales.scale(d[g / QuantCodec.SUPER_BLOCK], in.get() & 0xff);
      }
    } else {
      for (int g = 0; g < groups; g++) {
        scale[g] = Fp16.toFloat(in.getShort());
      }
    }
    for (float s : scale) {
      if (!Float.isFinite(s)) {
        throw new MalformedPayloadException("codebook block scale " + s);
      }
    }
    byte[] packed = new byte[in.remaining()];
    in.get(packed);
    byte[] codes = new byte[r];
    int fiberBytes = (int) PackedCodes.bytes(r, bits);
    float[] x = new float[Math.toIntExact(info.numel())];
    for (int f = 0; f < fibers; f++) {
      PackedCodes.unpack(packed, f * fiberBytes, r, bits, codes, 0);
      for (int i = 0; i < r; i++) {
        x[f * r + i] = scale[f * gpf + i / blockSize] * levels[codes[i] & 0xff];
      }
    }
    return TensorData.ofFloats(info, FiberLayout.fromFiberMajor(x, info));
  }
}
