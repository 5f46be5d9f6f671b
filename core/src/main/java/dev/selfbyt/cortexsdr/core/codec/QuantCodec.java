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
 *
 * <p>The parameters and the payload layout they give a tensor are {@code QuantParams}; the writer
 * is {@code QuantEncoder}; {@link #unpack} reads a payload into a {@link
 * dev.selfbyt.cortexsdr.core.codec.QuantizedTensor}, which decodes it; codes are packed by {@link
 * PackedCodes}.
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

  private final QuantParams params;
  private final QuantEncoder encoder;

  private QuantCodec(QuantParams params) {
    this.params = params;
    this.encoder = new QuantEncoder(this, params);
  }

  private QuantCodec(int bits, boolean symmetric, Granularity granularity, int blockSize, boolean superScales) {
    this(new QuantParams(bits, symmetric, granularity, blockSize, superScales));
  }

  /**
   * The same codec with super-block scales: {@value #SUPER_BLOCK} groups' scales as one fp16 and
   * one byte each (block granularity only). Payloads need params version 2 to read.
   */
  public QuantCodec withSuperScales() {
    return new QuantCodec(params.bits(), params.symmetric(), params.granularity(), params.blockSize(), true);
  }

  /** The same codec with plain fp16 or fp32 scales. */
  public QuantCodec withPlainScales() {
    return new QuantCodec(params.bits(), params.symmetric(), params.granularity(), params.blockSize(), false);
  }

  /** Whether scales are stored per super-block ({@link #withSuperScales}). */
  public boolean superScales() {
    return params.superScales();
  }

  /** Blocks of {@code blockSize} values along the reduction axis, each with its own scale. */
  public static QuantCodec blockwise(int bits, boolean symmetric, int blockSize) {
    return new QuantCodec(bits, symmetric, Granularity.BLOCK, blockSize, false);
  }

  /** One scale per fiber (output channel). */
  public static QuantCodec perChannel(int bits, boolean symmetric) {
    return new QuantCodec(bits, symmetric, Granularity.CHANNEL, 0, false);
  }

  /** One scale for the whole tensor. */
  public static QuantCodec perTensor(int bits, boolean symmetric) {
    return new QuantCodec(bits, symmetric, Granularity.TENSOR, 0, false);
  }

  static QuantCodec fromParams(ByteBuffer p) {
    return new QuantCodec(QuantParams.read(p));
  }

  /** The parameters, for the encoder and the quantized-tensor view. */
  QuantParams quantParams() {
    return params;
  }

  public int bits() {
    return params.bits();
  }

  public boolean symmetric() {
    return params.symmetric();
  }

  public Granularity granularity() {
    return params.granularity();
  }

  /** The block size for {@link Granularity#BLOCK}, 0 otherwise. */
  public int blockSize() {
    return params.blockSize();
  }

  /** Codecs are equal when they store the same way (same params). */
  @Override
  public boolean equals(Object o) {
    return o instanceof QuantCodec q && q.params.equals(params);
  }

  @Override
  public int hashCode() {
    return java.util.Objects.hash(
        params.bits(), params.symmetric(), params.granularity(), params.blockSize(), params.superScales());
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
    return params.toBytes();
  }

  @Override
  public boolean isLossless() {
    return false;
  }

  @Override
  public String describe() {
    return params.describe();
  }

  @Override
  public ByteBuffer encode(TensorData data) {
    return encoder.encode(data, false).payload();
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
    if ((data.grid() != null && data.grid().fits(this))
        || (info.inner() > 1 && params.granularity() == Granularity.TENSOR) || params.superScales()) {
      return TensorCodec.super.encodeMeasured(data);
    }
    return encoder.encode(data, true);
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
    float s = SuperScales.scale(d, SuperScales.code(params.scaleFor(min, max, false), d));
    return new float[] {s, params.zeroPointFor(min, s)};
  }

  /**
   * The scale and zero point this codec gives a group whose values span {@code [min, max]}
   * (fp16-exact scale, rounded up), for callers that build a {@link QuantGrid} themselves.
   */
  public float[] scaleAndZeroPoint(float min, float max) {
    float s = params.scaleFor(min, max, true);
    if (Float.isNaN(s)) {
      s = params.scaleFor(min, max, false);
    }
    return new float[] {s, params.zeroPointFor(min, s)};
  }

  /** The payload with fp32 scales, the larger of the two scale widths. */
  @Override
  public long maxPayloadBytes(TensorInfo info) {
    try {
      FiberLayout.checkIndexable(info);
      return params.layout(info, 4).total();
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
    if (type == SCALE_SUPER && params.granularity() != Granularity.BLOCK) {
      throw new MalformedPayloadException("super-block scales (type 3) in a " + describe() + " payload");
    }
    int scaleBytes = type == SCALE_FP16 ? 2 : type == SCALE_FP32 ? 4 : 0;
    QuantParams.Layout layout;
    try {
      layout = params.layout(info, scaleBytes);
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
    if (params.symmetric()) {
      zps = new int[groups];
      java.util.Arrays.fill(zps, 1 << (params.bits() - 1));
    } else {
      zps = PackedCodes.unpackInts(in, zpOff, groups, params.bits());
    }
    return new QuantizedTensor(
        this, r, fibers, params.groupLength(r), scales, zps, in, layout.codeOffset(), fiberBytes);
  }

  /**
   * The parsed form of a payload, under the name it had before it became the top-level {@link
   * dev.selfbyt.cortexsdr.core.codec.QuantizedTensor}. {@link #unpack} and {@link
   * TieredQuantCodec#widened} still return this subtype, so code written against either name
   * compiles.
   *
   * @deprecated name {@link dev.selfbyt.cortexsdr.core.codec.QuantizedTensor} instead; this alias
   *     goes in a later release, when {@link #unpack} will return the top-level type.
   */
  @Deprecated(since = "0.1.0")
  public static final class QuantizedTensor extends dev.selfbyt.cortexsdr.core.codec.QuantizedTensor {
    QuantizedTensor(
        QuantCodec codec, int fiberLength, int fibers, int groupLength, float[] scales,
        int[] zeroPoints, byte[] data, int codeOffset, int fiberBytes) {
      super(codec, fiberLength, fibers, groupLength, scales, zeroPoints, data, codeOffset, fiberBytes);
    }
  }

  static int ceilDiv(int a, int b) {
    return (int) ((a + (long) b - 1) / b); // in long: a + b - 1 overflows an int near 2^31
  }

  static long ceilDiv(long a, long b) {
    return (a + b - 1) / b;
  }
}
