package dev.selfbyt.cortexsdr.core.codec;

import dev.selfbyt.cortexsdr.core.tensor.Fp16;
import dev.selfbyt.cortexsdr.core.tensor.TensorData;
import dev.selfbyt.cortexsdr.core.tensor.TensorInfo;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * Round-to-nearest integer quantization, 2 to 8 bits, along the tensor's reduction axis. Get one
 * with {@link #blockwise}, {@link #perChannel} or {@link #perTensor}.
 *
 * <p>Every group of values (the whole tensor, one fiber, or one block of a fiber) has a scale
 * {@code s} and an integer zero point {@code z}; a value is stored as the code {@code
 * q = clamp(floor(x * (1 / s) + z + 0.5), lo, 2^bits - 1)} (float32 arithmetic; {@code lo} is 0,
 * or 1 when symmetric) and read back as {@code (q - z) * s}, exactly as ONNX {@code
 * DequantizeLinear} and {@code com.microsoft.MatMulNBits} compute it.
 *
 * <ul>
 *   <li>Symmetric: {@code s = max|x| / (2^(bits-1) - 1)}, {@code z = 2^(bits-1)} (not stored),
 *       codes in {@code [1, 2^bits - 1]}; zero is exact.
 *   <li>Asymmetric: the range {@code [min(min x, 0), max(max x, 0)]} is mapped onto {@code [0,
 *       2^bits - 1]}, {@code z = round(-min / s)}; zero is exact.
 * </ul>
 *
 * Scales are stored as fp16, rounded up so that no value falls outside the range; the error of
 * every value is then at most {@code s / 2}. When a scale does not fit fp16 (above 65504, or so
 * small that rounding would change it by more than 1%), the tensor's scales are stored as fp32.
 *
 * <p>Params: {@code u8 version (1, or 2 with super-block scales), u8 bits, u8 flags (bit 0:
 * symmetric, bit 1: super-block scales, version 2 only), u8 granularity (0 tensor, 1 channel, 2
 * block), varint blockSize}.
 *
 * <p>Super-block scales ({@link #withSuperScales}, K-quant style): the scales of each run of
 * {@value #SUPER_BLOCK} consecutive groups are stored as one fp16 {@code d} (their largest scale,
 * rounded up) and one {@code u8} code {@code c} per group, the scale being {@code d * c / 255} in
 * float32; 1.25 bytes per group instead of 2. Codes are rounded up, so no value falls outside its
 * group's range. Scale type 3 in the payload; a tensor whose {@code d} does not fit fp16 falls
 * back to plain scales (type 1 or 2), which every reader decodes the same way.
 *
 * <p>Payload, with {@code G} groups ({@code 1}, {@code fibers}, or {@code fibers *
 * ceil(R / block)}, in fiber-major order):
 *
 * <pre>
 * u8        scale type: 1 = fp16, 2 = fp32, 3 = super-block
 * G x f16|f32 scales (type 3: ceil(G / 8) x f16 d, then G x u8 c)
 * packed    zero points, G x bits bits, LSB first (asymmetric only), padded to a byte
 * per fiber ceil(R * bits / 8) bytes of codes, LSB first (4 bits: element 2i in the low nibble)
 * </pre>
 */
public final class QuantCodec implements TensorCodec {
  /** How many values share one scale. */
  public enum Granularity {
    TENSOR,
    CHANNEL,
    BLOCK
  }

  /** The oldest params version this reader decodes. */
  public static final int PARAMS_VERSION_START = 1;
  /** The params version this writer writes; see docs/cai-format.md for when it changes. */
  public static final int PARAMS_VERSION_CURRENT = 2;
  /** Groups sharing one fp16 super scale under {@link #withSuperScales}. */
  public static final int SUPER_BLOCK = 8;

  static final int SCALE_FP16 = 1;
  static final int SCALE_FP32 = 2;
  static final int SCALE_SUPER = 3;
  private static final float FP16_MAX_DISTORTION = 0.01f;

  private final int bits;
  private final boolean symmetric;
  private final Granularity granularity;
  private final int blockSize;
  private final boolean superScales;

  private QuantCodec(int bits, boolean symmetric, Granularity granularity, int blockSize) {
    this(bits, symmetric, granularity, blockSize, false);
  }

  private QuantCodec(int bits, boolean symmetric, Granularity granularity, int blockSize, boolean superScales) {
    if (bits < 2 || bits > 8) {
      throw new IllegalArgumentException("quantization needs 2 to 8 bits, got " + bits);
    }
    if (granularity == Granularity.BLOCK && blockSize < 1) {
      throw new IllegalArgumentException("block size must be positive, got " + blockSize);
    }
    this.bits = bits;
    this.symmetric = symmetric;
    this.granularity = granularity;
    this.blockSize = granularity == Granularity.BLOCK ? blockSize : 0;
    if (superScales && granularity != Granularity.BLOCK) {
      throw new IllegalArgumentException("super-block scales need block granularity, got " + granularity);
    }
    this.superScales = superScales;
  }

  /**
   * The same codec with super-block scales: {@value #SUPER_BLOCK} groups' scales as one fp16 and
   * one byte each (block granularity only). Payloads need params version 2 to read.
   */
  public QuantCodec withSuperScales() {
    return new QuantCodec(bits, symmetric, granularity, blockSize, true);
  }

  /** The same codec with plain fp16 or fp32 scales. */
  public QuantCodec withPlainScales() {
    return new QuantCodec(bits, symmetric, granularity, blockSize, false);
  }

  /** Whether scales are stored per super-block ({@link #withSuperScales}). */
  public boolean superScales() {
    return superScales;
  }

  /** Blocks of {@code blockSize} values along the reduction axis, each with its own scale. */
  public static QuantCodec blockwise(int bits, boolean symmetric, int blockSize) {
    return new QuantCodec(bits, symmetric, Granularity.BLOCK, blockSize);
  }

  /** One scale per fiber (output channel). */
  public static QuantCodec perChannel(int bits, boolean symmetric) {
    return new QuantCodec(bits, symmetric, Granularity.CHANNEL, 0);
  }

  /** One scale for the whole tensor. */
  public static QuantCodec perTensor(int bits, boolean symmetric) {
    return new QuantCodec(bits, symmetric, Granularity.TENSOR, 0);
  }

  static QuantCodec fromParams(ByteBuffer p) {
    int version = p.get() & 0xff;
    if (version < PARAMS_VERSION_START || version > PARAMS_VERSION_CURRENT) {
      throw new UnknownParamsVersionException("quant", version);
    }
    int bits = p.get() & 0xff;
    int flags = p.get() & 0xff;
    int g = p.get() & 0xff;
    if (g >= Granularity.values().length || bits < 2 || bits > 8) {
      throw new MalformedPayloadException("quant parameters out of range: bits " + bits + ", granularity " + g);
    }
    boolean superScales = (flags & 2) != 0;
    if (superScales && (version < 2 || g != Granularity.BLOCK.ordinal())) {
      throw new MalformedPayloadException("quant flags " + flags + ": super-block scales need params version 2 "
          + "and block granularity, got version " + version + ", granularity " + g);
    }
    int block = ByteSink.getVarInt(p, Integer.MAX_VALUE, "block size");
    Granularity gran = Granularity.values()[g];
    if (gran == Granularity.BLOCK && block < 1) {
      throw new MalformedPayloadException("block size " + block);
    }
    return new QuantCodec(bits, (flags & 1) != 0, gran, block, superScales);
  }

  public int bits() {
    return bits;
  }

  public boolean symmetric() {
    return symmetric;
  }

  public Granularity granularity() {
    return granularity;
  }

  /** The block size for {@link Granularity#BLOCK}, 0 otherwise. */
  public int blockSize() {
    return blockSize;
  }

  /** Codecs are equal when they store the same way (same params). */
  @Override
  public boolean equals(Object o) {
    return o instanceof QuantCodec q && q.bits == bits && q.symmetric == symmetric && q.granularity == granularity
        && q.blockSize == blockSize && q.superScales == superScales;
  }

  @Override
  public int hashCode() {
    return java.util.Objects.hash(bits, symmetric, granularity, blockSize, superScales);
  }

  @Override
  public String toString() {
    return describe();
  }

  @Override
  public CodecId id() {
    return CodecId.QUANT;
  }

  @Override
  public byte[] params() {
    return new ByteSink(8)
        .putU8(superScales ? 2 : 1) // version 1 where it suffices: such files stay readable by 1.0 readers
        .putU8(bits)
        .putU8((symmetric ? 1 : 0) | (superScales ? 2 : 0))
        .putU8(granularity.ordinal())
        .putVarLong(blockSize)
        .toArray();
  }

  @Override
  public boolean isLossless() {
    return false;
  }

  @Override
  public String describe() {
    String g =
        switch (granularity) {
          case TENSOR -> "per-tensor";
          case CHANNEL -> "per-channel";
          case BLOCK -> "block" + blockSize;
        };
    return "quant int" + bits + (symmetric ? " sym " : " asym ") + g + (superScales ? " super-scales" : "");
  }

  /** Where the parts of a payload sit, for a tensor and a scale width. */
  private record Layout(int groups, int scaleBytes, int fiberBytes, int zpOffset, int codeOffset, int total) {}

  private Layout layout(TensorInfo info, int scaleBytes) {
    int r = FiberLayout.fiberLength(info);
    int fibers = FiberLayout.fiberCount(info);
    int groups = Math.toIntExact(groupCount(fibers, r));
    int fiberBytes = Math.toIntExact(ceilDiv((long) r * bits, 8));
    int zpBytes = symmetric ? 0 : Math.toIntExact(ceilDiv((long) groups * bits, 8));
    // scaleBytes 0 stands for super-block scales: an fp16 per SUPER_BLOCK groups, a byte per group
    long scaleRegion = scaleBytes == 0 ? 2 * ceilDiv((long) groups, SUPER_BLOCK) + groups : (long) groups * scaleBytes;
    long total = 1L + scaleRegion + zpBytes + (long) fibers * fiberBytes;
    if (total > Integer.MAX_VALUE - 16) {
      throw new IllegalArgumentException("tensor '" + info.name() + "': quantized payload over 2 GiB");
    }
    int zpOffset = (int) (1 + scaleRegion);
    return new Layout(groups, scaleBytes, fiberBytes, zpOffset, zpOffset + zpBytes, (int) total);
  }

  /** A payload being filled: scale type, scales, zero points and packed codes at their offsets. */
  private final class PayloadWriter {
    private final Layout layout;
    private final boolean fp16;
    private final boolean superScaled;
    private final byte[] out;
    private final ByteBuffer scales;
    private final int[] zeroPoints;

    PayloadWriter(TensorInfo info, boolean fp16) {
      this.layout = layout(info, fp16 ? 2 : 4);
      this.fp16 = fp16;
      this.superScaled = false;
      this.out = new byte[layout.total()];
      out[0] = (byte) (fp16 ? SCALE_FP16 : SCALE_FP32);
      this.scales = ByteBuffer.wrap(out, 1, layout.groups() * layout.scaleBytes()).slice().order(ByteOrder.LITTLE_ENDIAN);
      this.zeroPoints = symmetric ? null : new int[layout.groups()];
    }

    /** Super-block scales: the fp16 {@code d} of each run and each group's code, written now. */
    PayloadWriter(TensorInfo info, float[] supers, int[] codes) {
      this.layout = layout(info, 0);
      this.fp16 = true;
      this.superScaled = true;
      this.out = new byte[layout.total()];
      out[0] = (byte) SCALE_SUPER;
      ByteBuffer b = ByteBuffer.wrap(out).order(ByteOrder.LITTLE_ENDIAN);
      for (int i = 0; i < supers.length; i++) {
        b.putShort(1 + 2 * i, Fp16.fromFloat(supers[i]));
      }
      int off = 1 + 2 * supers.length;
      for (int g = 0; g < codes.length; g++) {
        out[off + g] = (byte) codes[g];
      }
      this.scales = null;
      this.zeroPoints = symmetric ? null : new int[layout.groups()];
    }

    int groups() {
      return layout.groups();
    }

    /** Records group {@code g}'s scale and zero point. */
    void group(int g, float scale, int zeroPoint) {
      if (!superScaled) {
        putScale(scales, g, scale, fp16);
      }
      if (zeroPoints != null) {
        zeroPoints[g] = zeroPoint;
      }
    }

    /** Packs fiber {@code f}'s codes, {@code codes[from .. from + r)}. */
    void fiber(int f, byte[] codes, int from, int r) {
      pack(codes, from, r, bits, out, layout.codeOffset() + f * layout.fiberBytes());
    }

    byte[] finish() {
      if (zeroPoints != null) {
        packInts(zeroPoints, bits, out, layout.zpOffset());
      }
      return out;
    }
  }

  /** Values sharing one scale within a fiber of length {@code r}. */
  private int groupLength(int r) {
    return granularity == Granularity.BLOCK ? Math.min(blockSize, Math.max(r, 1)) : Math.max(r, 1);
  }

  private int groupsPerFiber(int r) {
    return granularity == Granularity.BLOCK ? ceilDiv(r, groupLength(r)) : 1;
  }

  private long groupCount(int fibers, int r) {
    return granularity == Granularity.TENSOR ? 1 : (long) fibers * groupsPerFiber(r);
  }

  @Override
  public ByteBuffer encode(TensorData data) {
    return encode(data, false).payload();
  }

  /**
   * Measures while it encodes: each group's decoded values are compared with the reference as
   * soon as its codes exist, in natural element order, so the payload is never decoded again.
   * A grid chosen ahead, and one scale for a tensor whose fibers are strided, take the default
   * path (decode and compare).
   */
  @Override
  public MeasuredPayload encodeMeasured(TensorData data) {
    TensorInfo info = data.info();
    if ((data.grid() != null && data.grid().fits(this)) || (info.inner() > 1 && granularity == Granularity.TENSOR)
        || superScales) {
      return TensorCodec.super.encodeMeasured(data);
    }
    return encode(data, true);
  }

  /** Encodes; with {@code measure}, also measures (not for a grid, nor strided per-tensor). */
  private MeasuredPayload encode(TensorData data, boolean measure) {
    TensorInfo info = data.info();
    if (!info.dtype().isFloating()) {
      throw new IllegalArgumentException(
          "tensor '" + info.name() + "' is " + info.dtype() + "; quantization needs a floating type");
    }
    FiberLayout.checkIndexable(info);
    float[] x = data.floats();
    float[] ref = measure ? data.reference() : null;
    QuantGrid grid = data.grid();
    if (grid != null && grid.fits(this)) {
      byte[] out = encodeOnGrid(FiberLayout.toFiberMajor(x, info), info, grid);
      return new MeasuredPayload(ByteBuffer.wrap(out).order(ByteOrder.LITTLE_ENDIAN), Float.NaN, Float.NaN);
    }
    if (superScales) {
      float[] fiberMajor = FiberLayout.toFiberMajor(x, info);
      QuantGrid natural = superGrid(fiberMajor, info);
      if (natural != null) { // else a super scale does not fit fp16: plain scales below
        byte[] out = encodeOnGrid(fiberMajor, info, natural);
        return new MeasuredPayload(ByteBuffer.wrap(out).order(ByteOrder.LITTLE_ENDIAN), Float.NaN, Float.NaN);
      }
    }
    boolean strided = info.inner() > 1 && granularity != Granularity.TENSOR;
    if (!strided) {
      x = FiberLayout.toFiberMajor(x, info);
    }
    byte[] out = null;
    EncodingError error = null;
    for (boolean fp16 : new boolean[] {true, false}) {
      error = measure ? new EncodingError() : null;
      // strided fibers: quantized row by row from the natural layout, no transposed copy of the floats
      out = strided ? encodeStrided(x, ref, info, fp16, error) : encode(x, ref, info, fp16, error);
      if (out != null) {
        break;
      }
    }
    ByteBuffer payload = ByteBuffer.wrap(out).order(ByteOrder.LITTLE_ENDIAN);
    return measure ? new MeasuredPayload(payload, error.nmse(), error.maxAbsError())
        : new MeasuredPayload(payload, Float.NaN, Float.NaN);
  }

  /** Fibers per tile in the strided paths: one row of a tile is 64 contiguous floats. */
  private static final int TILE = 64;

  /**
   * Tiles covering {@code inner} fibers. Loops count tiles rather than step {@code c0 += TILE},
   * which wrapped past Integer.MAX_VALUE and never ended for inner dimensions above 2^31-64.
   */
  private static int tileCount(int inner) {
    return (int) ceilDiv((long) inner, TILE);
  }

  /**
   * Encodes a tensor whose fibers are strided ({@code inner > 1}) straight from natural order:
   * for a tile of {@value #TILE} fibers, each row of a block is a contiguous run of values, so the
   * min/max and rounding loops read memory in order. Same bytes as {@link #encode(float[], float[],
   * TensorInfo, boolean, EncodingError)} on the transposed values. With {@code error}, a copy of
   * each slab's codes is kept in natural order and measured row by row once the slab is done
   * (quantizing whole rows instead of tiles, to measure on the way, ran 2-3x slower).
   *
   * <p>Each loop sits in a small method of its own: as one large method, the JIT compiled it
   * twice on the stack (OSR) at 0.5-0.6 s each, more than the whole encoding of MiniLM takes
   * once compiled.
   */
  private byte[] encodeStrided(float[] x, float[] ref, TensorInfo info, boolean fp16, EncodingError error) {
    int r = FiberLayout.fiberLength(info);
    int inner = (int) info.inner();
    int outer = (int) info.outer();
    PayloadWriter w = new PayloadWriter(info, fp16);
    StridedScratch t = new StridedScratch(r, inner, groupsPerFiber(r), error != null);
    for (int o = 0; o < outer; o++) {
      for (int t0 = 0, tiles = tileCount(inner); t0 < tiles; t0++) {
        int c0 = t0 * TILE;
        if (!encodeTile(x, info, o, c0, fp16, w, t)) {
          return null;
        }
      }
      if (error != null) {
        measureSlab(ref, o, r, inner, groupLength(r), t, error);
      }
    }
    return w.finish();
  }

  /** Scratch arrays of the strided encoder, made once per tensor. */
  private static final class StridedScratch {
    final byte[] tile;
    final int[] kmn = new int[TILE];
    final int[] kmx = new int[TILE];
    final float[] inv = new float[TILE];
    final float[] bias = new float[TILE];
    final byte[] nat; // with measuring: the slab's codes in natural order [R, inner]
    final float[] natScale; // [block, inner]
    final int[] natZero;

    StridedScratch(int r, int inner, int gpf, boolean measure) {
      tile = new byte[TILE * r];
      nat = measure ? new byte[r * inner] : null;
      natScale = measure ? new float[gpf * inner] : null;
      natZero = measure ? new int[gpf * inner] : null;
    }
  }

  /** Encodes the tile of fibers {@code c0 ..} of slab {@code o}; false when fp16 scales do not fit. */
  private boolean encodeTile(float[] x, TensorInfo info, int o, int c0, boolean fp16, PayloadWriter w, StridedScratch t) {
    int r = FiberLayout.fiberLength(info);
    int inner = (int) info.inner();
    int gl = groupLength(r);
    int gpf = groupsPerFiber(r);
    int tw = Math.min(TILE, inner - c0);
    int maxq = (1 << bits) - 1;
    for (int j = 0; j < gpf; j++) {
      int start = j * gl;
      int end = Math.min(r, start + gl);
      int row0 = (o * r + start) * inner + c0;
      tileRange(x, row0, inner, end - start, tw, t.kmn, t.kmx);
      for (int c = 0; c < tw; c++) {
        float mn = fromOrderedBits(t.kmn[c]);
        float mx = fromOrderedBits(t.kmx[c]);
        if (!Float.isFinite(mn) || !Float.isFinite(mx)) {
          throwNonFinite(x, info, row0 + c, inner, end - start);
        }
        float sc = scaleFor(mn, mx, fp16);
        if (Float.isNaN(sc)) {
          return false;
        }
        int z = symmetric ? 1 << (bits - 1) : zeroPoint(mn, sc, maxq);
        w.group((o * inner + c0 + c) * gpf + j, sc, z);
        t.inv[c] = sc == 0f ? 0f : 1f / sc;
        t.bias[c] = z + 0.5f;
        if (t.nat != null) {
          t.natScale[j * inner + c0 + c] = sc;
          t.natZero[j * inner + c0 + c] = z;
        }
      }
      if (t.nat == null) {
        quantizeTile(x, row0, inner, start, end, tw, t.inv, t.bias, symmetric ? 1 : 0, maxq, t.tile, r);
      } else {
        quantizeTile(x, row0, inner, start, end, tw, t.inv, t.bias, symmetric ? 1 : 0, maxq, t.tile, r, t.nat,
            start * inner + c0);
      }
    }
    for (int c = 0; c < tw; c++) {
      w.fiber(o * inner + c0 + c, t.tile, c * r, r);
    }
    return true;
  }

  /** Range of each of {@code tw} columns over {@code rows} rows from {@code row0}, as ordered bits. */
  private static void tileRange(float[] x, int row0, int stride, int rows, int tw, int[] kmn, int[] kmx) {
    java.util.Arrays.fill(kmn, Integer.MAX_VALUE);
    java.util.Arrays.fill(kmx, Integer.MIN_VALUE);
    for (int k = 0; k < rows; k++) {
      int row = row0 + k * stride;
      for (int c = 0; c < tw; c++) {
        int key = orderedBits(x[row + c]);
        kmn[c] = Math.min(kmn[c], key);
        kmx[c] = Math.max(kmx[c], key);
      }
    }
  }

  /** Codes of rows {@code start..end} of a tile, written fiber by fiber: {@code tile[c * r + k]}. */
  private static void quantizeTile(float[] x, int row0, int stride, int start, int end, int tw, float[] inv,
      float[] bias, int lo, int maxq, byte[] tile, int r) {
    for (int k = start; k < end; k++) {
      int row = row0 + (k - start) * stride;
      for (int c = 0; c < tw; c++) {
        int q = (int) (x[row + c] * inv[c] + bias[c]);
        tile[c * r + k] = (byte) Math.max(lo, Math.min(maxq, q));
      }
    }
  }

  /** As above, also writing the codes in natural order: {@code nat[natRow0 + (k - start) * stride + c]}. */
  private static void quantizeTile(float[] x, int row0, int stride, int start, int end, int tw, float[] inv,
      float[] bias, int lo, int maxq, byte[] tile, int r, byte[] nat, int natRow0) {
    for (int k = start; k < end; k++) {
      int row = row0 + (k - start) * stride;
      int natRow = natRow0 + (k - start) * stride;
      for (int c = 0; c < tw; c++) {
        int q = (int) (x[row + c] * inv[c] + bias[c]);
        byte code = (byte) Math.max(lo, Math.min(maxq, q));
        tile[c * r + k] = code;
        nat[natRow + c] = code;
      }
    }
  }

  /** Measures slab {@code o} row by row, as QuantizedTensor.dequantizeStrided decodes it. */
  private static void measureSlab(float[] ref, int o, int r, int inner, int gl, StridedScratch t, EncodingError error) {
    for (int k = 0; k < r; k++) {
      error.addCodes(ref, (o * r + k) * inner, t.nat, k * inner, inner, t.natZero, t.natScale, (k / gl) * inner);
    }
  }

  private static void throwNonFinite(float[] x, TensorInfo info, int first, int stride, int rows) {
    for (int k = 0; k < rows; k++) {
      int i = first + k * stride;
      if (!Float.isFinite(x[i])) {
        throw new NonFiniteValueException(info.name(), x[i], i, "element", "quantization");
      }
    }
  }

  /**
   * Encodes fiber-major values; null when fp16 scales were asked for and do not fit. With {@code
   * error}, measures against {@code ref} (only where fiber-major is natural order: {@code inner
   * == 1}).
   */
  private byte[] encode(float[] x, float[] ref, TensorInfo info, boolean fp16, EncodingError error) {
    int r = FiberLayout.fiberLength(info);
    int fibers = FiberLayout.fiberCount(info);
    PayloadWriter w = new PayloadWriter(info, fp16);
    float[] range = new float[2];
    int maxq = (1 << bits) - 1;
    int half = 1 << (bits - 1);

    float tensorScale = 0;
    int tensorZp = 0;
    if (granularity == Granularity.TENSOR && x.length > 0) {
      minMax(x, 0, x.length, range, info);
      tensorScale = scaleFor(range[0], range[1], fp16);
      if (Float.isNaN(tensorScale)) {
        return null;
      }
      tensorZp = symmetric ? half : zeroPoint(range[0], tensorScale, maxq);
      w.group(0, tensorScale, tensorZp);
    }

    FiberScratch t = new FiberScratch(r);
    for (int f = 0; f < fibers; f++) {
      // one fiber per call: a small method the JIT compiles once, not the whole loop on the stack
      if (!encodeFiber(x, ref, info, f, fp16, tensorScale, tensorZp, w, t, error)) {
        return null;
      }
    }
    return w.finish();
  }

  /** Scratch arrays of the fiber-major encoder, made once per tensor. */
  private static final class FiberScratch {
    final byte[] codes;
    final float[] range = new float[2];

    FiberScratch(int r) {
      codes = new byte[Math.max(r, 1)];
    }
  }

  /** Encodes fiber {@code f} (and measures it); false when fp16 scales do not fit. */
  private boolean encodeFiber(float[] x, float[] ref, TensorInfo info, int f, boolean fp16, float tensorScale,
      int tensorZp, PayloadWriter w, FiberScratch t, EncodingError error) {
    int r = FiberLayout.fiberLength(info);
    int gl = groupLength(r);
    int gpf = groupsPerFiber(r);
    int maxq = (1 << bits) - 1;
    int base = f * r;
    for (int j = 0; j < gpf; j++) {
      int start = j * gl;
      int len = Math.min(gl, r - start);
      float s;
      int z;
      if (granularity == Granularity.TENSOR) {
        s = tensorScale;
        z = tensorZp;
      } else {
        minMax(x, base + start, len, t.range, info);
        s = scaleFor(t.range[0], t.range[1], fp16);
        if (Float.isNaN(s)) {
          return false;
        }
        z = symmetric ? 1 << (bits - 1) : zeroPoint(t.range[0], s, maxq);
        w.group(f * gpf + j, s, z);
      }
      quantize(x, base + start, len, s, z, symmetric ? 1 : 0, maxq, t.codes, start);
      if (error != null) { // as QuantizedTensor.dequantizeInto decodes the group
        error.addCodes(ref, base + start, t.codes, start, len, z, s);
      }
    }
    w.fiber(f, t.codes, 0, r);
    return true;
  }

  /**
   * A float's bits as an int that orders like the float (NaNs sort beyond the infinities), so
   * that min/max run as integer operations, which the JIT vectorizes: measured 2.8x faster here
   * than {@code Math.min} on floats.
   */
  private static int orderedBits(float v) {
    int b = Float.floatToRawIntBits(v);
    return b ^ ((b >> 31) & 0x7fffffff);
  }

  private static float fromOrderedBits(int k) {
    return Float.intBitsToFloat(k ^ ((k >> 31) & 0x7fffffff));
  }

  private static void minMax(float[] x, int off, int len, float[] range, TensorInfo info) {
    int kmn = Integer.MAX_VALUE;
    int kmx = Integer.MIN_VALUE;
    for (int i = off, end = off + len; i < end; i++) {
      int k = orderedBits(x[i]);
      kmn = Math.min(kmn, k);
      kmx = Math.max(kmx, k);
    }
    float mn = len == 0 ? 0f : fromOrderedBits(kmn);
    float mx = len == 0 ? 0f : fromOrderedBits(kmx);
    if (!Float.isFinite(mn) || !Float.isFinite(mx)) {
      for (int i = off; i < off + len; i++) {
        if (!Float.isFinite(x[i])) {
          throw new NonFiniteValueException(info.name(), x[i], i, "fiber-major element", "quantization");
        }
      }
    }
    range[0] = mn;
    range[1] = mx;
  }

  /**
   * The grid plain rounding gives fiber-major values under super-block scales: each group's range
   * as for plain scales, its scale rounded up to the super-block's steps; null when a super scale
   * does not fit fp16.
   */
  private QuantGrid superGrid(float[] x, TensorInfo info) {
    int r = FiberLayout.fiberLength(info);
    int fibers = FiberLayout.fiberCount(info);
    int gl = groupLength(r);
    int gpf = groupsPerFiber(r);
    int groups = Math.toIntExact(groupCount(fibers, r));
    float[] raw = new float[groups];
    float[] mins = new float[groups];
    float[] range = new float[2];
    for (int f = 0; f < fibers; f++) {
      for (int j = 0; j < gpf; j++) {
        int start = j * gl;
        minMax(x, f * r + start, Math.min(gl, r - start), range, info);
        raw[f * gpf + j] = scaleFor(range[0], range[1], false);
        mins[f * gpf + j] = range[0];
      }
    }
    float[] supers = SuperScales.supers(raw, SUPER_BLOCK, 1f);
    if (supers == null) {
      return null;
    }
    float[] scales = new float[groups];
    int[] zps = new int[groups];
    int maxq = (1 << bits) - 1;
    for (int g = 0; g < groups; g++) {
      scales[g] = SuperScales.scale(supers[g / SUPER_BLOCK], SuperScales.code(raw[g], supers[g / SUPER_BLOCK]));
      zps[g] = symmetric ? 1 << (bits - 1) : zeroPoint(mins[g], scales[g], maxq);
    }
    return new QuantGrid(bits, symmetric, blockSize, scales, zps, supers);
  }

  /**
   * A grid as super-block scales: as given when it has them; else each run's largest scale
   * rounded up to fp16 is its super scale and every scale is rounded up to its steps (zero points
   * kept: the range only grows); null when a super scale does not fit fp16.
   */
  private static QuantGrid asSuper(QuantGrid grid) {
    if (grid.superScales() != null) {
      return grid;
    }
    float[] supers = SuperScales.supers(grid.scales(), SUPER_BLOCK, 1f);
    if (supers == null) {
      return null;
    }
    float[] scales = grid.scales().clone();
    for (int g = 0; g < scales.length; g++) {
      scales[g] = SuperScales.scale(supers[g / SUPER_BLOCK], SuperScales.code(scales[g], supers[g / SUPER_BLOCK]));
    }
    return new QuantGrid(grid.bits(), grid.symmetric(), grid.blockSize(), scales, grid.zeroPoints(), supers);
  }

  /**
   * One fp16-exact super scale per run of {@value #SUPER_BLOCK} group scales (fiber-major group
   * order), the largest of the run times {@code margin}, rounded up; null when one does not fit
   * fp16. For callers that choose scales ahead ({@link #scaleAndZeroPoint(float, float, float)}).
   */
  public float[] superScalesOf(float[] groupScales, float margin) {
    return SuperScales.supers(groupScales, SUPER_BLOCK, margin);
  }

  /**
   * The scale and zero point of a group spanning {@code [min, max]} under super scale {@code d}:
   * the smallest scale of the form {@code d * c / 255} covering the range (the largest, {@code d},
   * when none does: the extremes are clipped).
   */
  public float[] scaleAndZeroPoint(float min, float max, float d) {
    float s = SuperScales.scale(d, SuperScales.code(scaleFor(min, max, false), d));
    int z = symmetric ? 1 << (bits - 1) : zeroPoint(min, s, (1 << bits) - 1);
    return new float[] {s, z};
  }

  /** Rounds fiber-major values on a grid chosen ahead; fp16 scales when all are exact in fp16. */
  private byte[] encodeOnGrid(float[] x, TensorInfo info, QuantGrid grid) {
    QuantGrid sg = superScales ? asSuper(grid) : null;
    PayloadWriter w;
    if (sg != null) {
      grid = sg;
      int[] codes = new int[sg.scales().length];
      for (int g = 0; g < codes.length; g++) {
        float d = sg.superScales()[g / SUPER_BLOCK];
        codes[g] = SuperScales.code(sg.scales()[g], d);
        if (SuperScales.scale(d, codes[g]) != sg.scales()[g]) {
          throw new IllegalArgumentException("tensor '" + info.name() + "': scale " + sg.scales()[g] + " of group " + g
              + " is not a step of its super scale " + d);
        }
      }
      w = new PayloadWriter(info, sg.superScales(), codes);
    } else {
      boolean fp16 = true;
      for (float sc : grid.scales()) {
        fp16 &= Fp16.toFloat(Fp16.fromFloat(sc)) == sc;
      }
      w = new PayloadWriter(info, fp16);
    }
    if (grid.scales().length != w.groups()) {
      throw new IllegalArgumentException("tensor '" + info.name() + "': grid of " + grid.scales().length
          + " groups, " + describe() + " needs " + w.groups());
    }
    int r = FiberLayout.fiberLength(info);
    int fibers = FiberLayout.fiberCount(info);
    int gl = groupLength(r);
    int gpf = groupsPerFiber(r);
    for (int g = 0; g < w.groups(); g++) {
      w.group(g, grid.scales()[g], grid.zeroPoints()[g]);
    }
    byte[] codes = new byte[Math.max(r, 1)];
    int maxq = (1 << bits) - 1;
    int lo = symmetric ? 1 : 0;
    for (int f = 0; f < fibers; f++) {
      for (int j = 0; j < gpf; j++) {
        int g = f * gpf + j;
        int start = j * gl;
        quantize(x, f * r + start, Math.min(gl, r - start), grid.scales()[g], grid.zeroPoints()[g], lo, maxq, codes,
            start);
      }
      w.fiber(f, codes, 0, r);
    }
    return w.finish();
  }

  /**
   * The scale and zero point this codec gives a group whose values span {@code [min, max]}
   * (fp16-exact scale, rounded up), for callers that build a {@link QuantGrid} themselves.
   */
  public float[] scaleAndZeroPoint(float min, float max) {
    float s = scaleFor(min, max, true);
    if (Float.isNaN(s)) {
      s = scaleFor(min, max, false);
    }
    int z = symmetric ? 1 << (bits - 1) : zeroPoint(min, s, (1 << bits) - 1);
    return new float[] {s, z};
  }

  /** The stored scale for a group's range; NaN when fp16 was asked for and does not fit. */
  private float scaleFor(float mn, float mx, boolean fp16) {
    float s;
    if (symmetric) {
      float amax = Math.max(Math.abs(mn), Math.abs(mx));
      s = amax / ((1 << (bits - 1)) - 1);
    } else {
      float lo = Math.min(mn, 0f);
      float hi = Math.max(mx, 0f);
      s = (float) (((double) hi - lo) / ((1 << bits) - 1));
    }
    if (!fp16 || s == 0f) {
      return s;
    }
    if (!(s <= Fp16.MAX)) {
      return Float.NaN;
    }
    float stored = Fp16.toFloat(Fp16.fromFloatRoundUp(s));
    if (stored - s > FP16_MAX_DISTORTION * s || Float.isInfinite(stored)) {
      return Float.NaN;
    }
    return stored;
  }

  private static int zeroPoint(float mn, float s, int maxq) {
    if (s == 0f) {
      return 0;
    }
    int z = Math.round(-Math.min(mn, 0f) / s);
    return Math.max(0, Math.min(maxq, z));
  }

  private static void putScale(ByteBuffer out, int g, float s, boolean fp16) {
    if (fp16) {
      out.putShort(2 * g, Fp16.fromFloat(s)); // s is already an exact fp16 value
    } else {
      out.putFloat(4 * g, s);
    }
  }

  private static void quantize(
      float[] x, int off, int len, float s, int z, int lo, int hi, byte[] codes, int codeOff) {
    float inv = s == 0f ? 0f : 1f / s;
    // x * inv + z + 0.5 is >= 0 for every value in range, so the int cast rounds half up
    float bias = z + 0.5f;
    for (int i = 0; i < len; i++) {
      int q = (int) (x[off + i] * inv + bias);
      codes[codeOff + i] = (byte) Math.max(lo, Math.min(hi, q));
    }
  }

  static void pack(byte[] codes, int n, int bits, byte[] out, int off) {
    PackedCodes.pack(codes, 0, n, bits, out, off);
  }

  static void pack(byte[] codes, int co, int n, int bits, byte[] out, int off) {
    PackedCodes.pack(codes, co, n, bits, out, off);
  }

  static void unpack(byte[] in, int off, int n, int bits, byte[] codes) {
    PackedCodes.unpack(in, off, n, bits, codes, 0);
  }

  static void unpack(byte[] in, int off, int n, int bits, byte[] codes, int co) {
    PackedCodes.unpack(in, off, n, bits, codes, co);
  }

  private static void packInts(int[] v, int bits, byte[] out, int off) {
    PackedCodes.packInts(v, bits, out, off);
  }

  private static int[] unpackInts(byte[] in, int off, int count, int bits) {
    return PackedCodes.unpackInts(in, off, count, bits);
  }

  /** The payload with fp32 scales, the larger of the two scale widths. */
  @Override
  public long maxPayloadBytes(TensorInfo info) {
    try {
      FiberLayout.checkIndexable(info);
      return layout(info, 4).total();
    } catch (IllegalArgumentException | ArithmeticException e) {
      return Integer.MAX_VALUE; // no such payload can be written; the decoder reports why
    }
  }

  @Override
  public TensorData decode(TensorInfo info, ByteBuffer payload) {
    QuantizedTensor q = unpack(info, payload);
    float[] out = new float[Math.toIntExact(info.numel())];
    if (out.length == 0) {
      return TensorData.ofFloats(info, out); // the payload checked out; there are only empty fibers
    }
    int inner = (int) info.inner();
    if (inner == 1) {
      q.dequantizeInto(out);
    } else {
      q.dequantizeStrided(out, (int) info.outer(), inner);
    }
    return TensorData.ofFloats(info, out);
  }

  /**
   * Parses a payload into its scales, zero points and packed codes, for consumers that compute
   * on the quantized form directly (kernels, ONNX export) instead of decoding to floats.
   */
  public QuantizedTensor unpack(TensorInfo info, ByteBuffer payload) {
    FiberLayout.checkIndexable(info);
    int r = FiberLayout.fiberLength(info);
    int fibers = FiberLayout.fiberCount(info);
    byte[] in = new byte[payload.remaining()];
    payload.duplicate().get(in);
    if (in.length < 1) {
      throw new MalformedPayloadException("empty quant payload");
    }
    int type = in[0];
    if (type != SCALE_FP16 && type != SCALE_FP32 && type != SCALE_SUPER) {
      throw new MalformedPayloadException("unknown scale type " + type);
    }
    if (type == SCALE_SUPER && granularity != Granularity.BLOCK) {
      throw new MalformedPayloadException("super-block scales (type 3) in a " + describe() + " payload");
    }
    int scaleBytes = type == SCALE_FP16 ? 2 : type == SCALE_FP32 ? 4 : 0;
    Layout layout;
    try {
      layout = layout(info, scaleBytes);
    } catch (IllegalArgumentException e) {
      throw new MalformedPayloadException(e.getMessage());
    }
    int groups = layout.groups();
    int fiberBytes = layout.fiberBytes();
    long expected = layout.total();
    if (in.length != expected) {
      throw new MalformedPayloadException(
          "quant payload has " + in.length + " bytes, " + describe() + " of this shape needs " + expected);
    }
    float[] scales = new float[groups];
    if (type == SCALE_SUPER) {
      ByteBuffer sb = ByteBuffer.wrap(in).order(ByteOrder.LITTLE_ENDIAN);
      int supers = ceilDiv(groups, SUPER_BLOCK);
      for (int g = 0; g < groups; g++) {
        float d = Fp16.toFloat(sb.getShort(1 + 2 * (g / SUPER_BLOCK)));
        scales[g] = SuperScales.scale(d, in[1 + 2 * supers + g] & 0xff);
      }
    } else {
      ByteBuffer sb = ByteBuffer.wrap(in, 1, groups * scaleBytes).slice().order(ByteOrder.LITTLE_ENDIAN);
      for (int g = 0; g < groups; g++) {
        scales[g] = scaleBytes == 2 ? Fp16.toFloat(sb.getShort(2 * g)) : sb.getFloat(4 * g);
      }
    }
    int zpOff = layout.zpOffset();
    int[] zps;
    if (symmetric) {
      zps = new int[groups];
      java.util.Arrays.fill(zps, 1 << (bits - 1));
    } else {
      zps = unpackInts(in, zpOff, groups, bits);
    }
    return new QuantizedTensor(
        this, r, fibers, groupLength(r), scales, zps, in, layout.codeOffset(), fiberBytes);
  }

  /**
   * A quantized tensor in parsed form: per-group scales and zero points, and the packed codes of
   * each fiber. Group {@code g} of fiber {@code f} covers elements {@code [g * groupLength,
   * min(r, (g + 1) * groupLength))} of that fiber; for a per-tensor codec there is one group.
   */
  public static final class QuantizedTensor {
    private final QuantCodec codec;
    private final int fiberLength;
    private final int fibers;
    private final int groupLength;
    private final float[] scales;
    private final int[] zeroPoints;
    private final byte[] data;
    private final int codeOffset;
    private final int fiberBytes;

    QuantizedTensor(
        QuantCodec codec, int fiberLength, int fibers, int groupLength, float[] scales,
        int[] zeroPoints, byte[] data, int codeOffset, int fiberBytes) {
      this.codec = codec;
      this.fiberLength = fiberLength;
      this.fibers = fibers;
      this.groupLength = groupLength;
      this.scales = scales;
      this.zeroPoints = zeroPoints;
      this.data = data;
      this.codeOffset = codeOffset;
      this.fiberBytes = fiberBytes;
    }

    public QuantCodec codec() {
      return codec;
    }

    public int fiberLength() {
      return fiberLength;
    }

    public int fibers() {
      return fibers;
    }

    /** Values per scale along a fiber (the fiber length unless blockwise). */
    public int groupLength() {
      return groupLength;
    }

    /** Scales, one per group, in fiber-major order. */
    public float[] scales() {
      return scales.clone();
    }

    /** Scale of group {@code g} (no copy of the array). */
    public float scaleAt(int g) {
      return scales[g];
    }

    /** Zero point of group {@code g}. */
    public int zeroPointAt(int g) {
      return zeroPoints[g];
    }

    /** Zero points, one per group (symmetric: all {@code 2^(bits-1)}). */
    public int[] zeroPoints() {
      return zeroPoints.clone();
    }

    /** Index into {@link #scales()} of element {@code i} of fiber {@code f}. */
    public int group(int f, int i) {
      if (codec.granularity == Granularity.TENSOR) {
        return 0;
      }
      return f * codec.groupsPerFiber(fiberLength) + i / groupLength;
    }

    /** The unsigned codes of fiber {@code f}, one per byte. */
    public byte[] codes(int f) {
      byte[] c = new byte[fiberLength];
      unpack(data, codeOffset + f * fiberBytes, fiberLength, codec.bits, c);
      return c;
    }

    /** The packed codes of all fibers, {@link #fiberBytes()} each, LSB first. */
    public ByteBuffer packedCodes() {
      return ByteBuffer.wrap(data, codeOffset, fibers * fiberBytes).slice();
    }

    public int fiberBytes() {
      return fiberBytes;
    }

    /**
     * Decodes every value into {@code out} in natural order for a tensor {@code [outer,
     * fiberLength, inner]}: a tile of fibers at a time, writing whole rows.
     */
    void dequantizeStrided(float[] out, int outer, int inner) {
      int r = fiberLength;
      byte[] tile = new byte[TILE * Math.max(r, 1)];
      float[] s = new float[TILE];
      float[] z = new float[TILE];
      int gpf = codec.groupsPerFiber(r);
      boolean perTensor = codec.granularity == Granularity.TENSOR;
      for (int o = 0; o < outer; o++) {
        for (int t = 0, tiles = tileCount(inner); t < tiles; t++) {
          int c0 = t * TILE;
          int tw = Math.min(TILE, inner - c0);
          for (int c = 0; c < tw; c++) {
            unpack(data, codeOffset + (o * inner + c0 + c) * fiberBytes, r, codec.bits, tile, c * r);
          }
          for (int j = 0; j < gpf; j++) {
            for (int c = 0; c < tw; c++) {
              int g = perTensor ? 0 : (o * inner + c0 + c) * gpf + j;
              s[c] = scales[g];
              z[c] = zeroPoints[g];
            }
            int start = j * groupLength;
            int end = Math.min(r, start + groupLength);
            for (int k = start; k < end; k++) {
              int row = (o * r + k) * inner + c0;
              for (int c = 0; c < tw; c++) {
                out[row + c] = ((tile[c * r + k] & 0xff) - z[c]) * s[c];
              }
            }
          }
        }
      }
    }

    /** Decodes every value into {@code out} in fiber-major order. */
    public void dequantizeInto(float[] out) {
      byte[] codes = new byte[Math.max(fiberLength, 1)];
      int gpf = codec.groupsPerFiber(fiberLength);
      boolean perTensor = codec.granularity == Granularity.TENSOR;
      for (int f = 0; f < fibers; f++) {
        unpack(data, codeOffset + f * fiberBytes, fiberLength, codec.bits, codes);
        int base = f * fiberLength;
        for (int j = 0; j < gpf; j++) {
          int g = perTensor ? 0 : f * gpf + j;
          float s = scales[g];
          int z = zeroPoints[g];
          int start = j * groupLength;
          int end = Math.min(fiberLength, start + groupLength);
          for (int i = start; i < end; i++) {
            out[base + i] = ((codes[i] & 0xff) - z) * s;
          }
        }
      }
    }
  }

  static int ceilDiv(int a, int b) {
    return (int) ((a + (long) b - 1) / b); // in long: a + b - 1 overflows an int near 2^31
  }

  static long ceilDiv(long a, long b) {
    return (a + b - 1) / b;
  }
}
