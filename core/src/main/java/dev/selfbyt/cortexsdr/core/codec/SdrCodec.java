package dev.selfbyt.cortexsdr.core.codec;

import dev.selfbyt.cortexsdr.core.tensor.DType;
import dev.selfbyt.cortexsdr.core.tensor.Fp16;
import dev.selfbyt.cortexsdr.core.tensor.TensorData;
import dev.selfbyt.cortexsdr.core.tensor.TensorInfo;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;

/**
 * Sparse distributed representation: keeps only the significant weights, as positions plus
 * values, and drops the rest to zero. Get one with {@link #builder()}.
 *
 * <p>Selection is by magnitude, either a target {@linkplain Builder#sparsity(double) sparsity}
 * (the fraction of weights dropped, per fiber or over the whole tensor) or an absolute {@linkplain
 * Builder#threshold(float) threshold} (values with {@code |x| <= threshold} are dropped). Ties at
 * the cut are broken by position, so selection is deterministic.
 *
 * <p>Positions are indices in fiber-major order, stored whichever way is smallest: ascending
 * deltas as varints, or a bitmap of all elements, or (when delta coding is off) absolute u32
 * indices. Values are fp32 (exact), fp16, or block-quantized by a {@link QuantCodec} over the
 * sequence of kept values.
 *
 * <p>Params: {@code u8 version (1), u8 flags (bit 0: per tensor, bit 1: threshold mode, bit 2:
 * delta coding allowed), f32 sparsity or threshold, u8 value type (1 fp32, 2 fp16, 3 quant), then
 * for quant: varint length + the {@link QuantCodec} params}.
 *
 * <p>Payload: {@code u8 position coding (1 delta-varint, 2 bitmap, 3 u32)}, {@code varint nnz},
 * {@code varint position bytes}, the positions, then the values ({@code nnz} fp32 or fp16, or a
 * quant payload for a 1-D tensor of {@code nnz} values).
 */
public final class SdrCodec implements TensorCodec {
  /** The oldest params version this reader decodes. */
  public static final int PARAMS_VERSION_START = 1;
  /** The params version this writer writes; see docs/cai-format.md for when it changes. */
  public static final int PARAMS_VERSION_CURRENT = 1;

  static final int POS_DELTA = 1;
  static final int POS_BITMAP = 2;
  static final int POS_U32 = 3;
  static final int VALUES_FP32 = 1;
  static final int VALUES_FP16 = 2;
  static final int VALUES_QUANT = 3;

  private final boolean perTensor;
  private final boolean thresholdMode;
  private final boolean deltaPositions;
  private final float level;
  private final int valueType;
  private final QuantCodec valueQuant;

  private SdrCodec(
      boolean perTensor, boolean thresholdMode, boolean deltaPositions, float level, int valueType,
      QuantCodec valueQuant) {
    this.perTensor = perTensor;
    this.thresholdMode = thresholdMode;
    this.deltaPositions = deltaPositions;
    this.level = level;
    this.valueType = valueType;
    this.valueQuant = valueQuant;
  }

  public static Builder builder() {
    return new Builder();
  }

  static SdrCodec fromParams(ByteBuffer p) {
    int version = p.get() & 0xff;
    if (version < PARAMS_VERSION_START || version > PARAMS_VERSION_CURRENT) {
      throw new UnknownParamsVersionException("sdr", version);
    }
    int flags = p.get() & 0xff;
    float level = p.getFloat();
    int vt = p.get() & 0xff;
    QuantCodec q = null;
    if (vt == VALUES_QUANT) {
      int n = ByteSink.getVarInt(p, p.remaining(), "quant params length");
      ByteBuffer qp = p.slice().limit(n).order(ByteOrder.LITTLE_ENDIAN);
      q = QuantCodec.fromParams(qp);
      p.position(p.position() + n);
    } else if (vt != VALUES_FP32 && vt != VALUES_FP16) {
      throw new MalformedPayloadException("unknown sdr value type " + vt);
    }
    return new SdrCodec((flags & 1) != 0, (flags & 2) != 0, (flags & 4) != 0, level, vt, q);
  }

  @Override
  public CodecId id() {
    return CodecId.SDR;
  }

  @Override
  public byte[] params() {
    ByteSink s = new ByteSink(32);
    s.putU8(PARAMS_VERSION_CURRENT);
    s.putU8((perTensor ? 1 : 0) | (thresholdMode ? 2 : 0) | (deltaPositions ? 4 : 0));
    s.putFloat(level);
    s.putU8(valueType);
    if (valueType == VALUES_QUANT) {
      byte[] qp = valueQuant.params();
      s.putVarLong(qp.length);
      s.put(qp);
    }
    return s.toArray();
  }

  @Override
  public boolean isLossless() {
    return false;
  }

  @Override
  public String describe() {
    String sel = thresholdMode ? "|x|>" + level : String.format("%.0f%% sparse", level * 100);
    String vals =
        switch (valueType) {
          case VALUES_FP32 -> "fp32";
          case VALUES_FP16 -> "fp16";
          default -> valueQuant.describe().replace("quant ", "");
        };
    return "sdr " + sel + (perTensor ? " per-tensor" : " per-fiber") + " values " + vals;
  }

  @Override
  public ByteBuffer encode(TensorData data) {
    TensorInfo info = data.info();
    FiberLayout.requireFloating(info, "sparsification");
    FiberLayout.checkIndexable(info);
    float[] x = FiberLayout.toFiberMajor(data.floats(), info);
    for (int i = 0; i < x.length; i++) {
      if (!Float.isFinite(x[i])) {
        throw new NonFiniteValueException(info.name(), x[i], i, "fiber-major element", "sparsification");
      }
    }
    int r = FiberLayout.fiberLength(info);
    int[] keep = select(x, r);
    int nnz = keep.length;

    ByteSink out = new ByteSink(nnz * 3 + 64);
    byte[] pos = encodePositions(keep, x.length);
    out.putU8(pos[0]);
    out.putVarLong(nnz);
    out.putVarLong(pos.length - 1);
    out.put(pos, 1, pos.length - 1);

    float[] values = new float[nnz];
    for (int i = 0; i < nnz; i++) {
      values[i] = x[keep[i]];
    }
    switch (valueType) {
      case VALUES_FP32 -> {
        for (float v : values) {
          out.putFloat(v);
        }
      }
      case VALUES_FP16 -> {
        for (float v : values) {
          out.putShort(Fp16.fromFloat(v));
        }
      }
      default -> out.put(valueQuant.encode(TensorData.ofFloats(valuesInfo(info, nnz), values)));
    }
    return out.toBuffer();
  }

  private static TensorInfo valuesInfo(TensorInfo info, int nnz) {
    return TensorInfo.of(info.name() + "#values", DType.FLOAT32, nnz);
  }

  /** Sorted fiber-major indices of the values kept. */
  private int[] select(float[] x, int r) {
    int n = x.length;
    if (thresholdMode) {
      return keepAbove(x, 0, n, level, Integer.MAX_VALUE);
    }
    if (perTensor || r == 0) {
      int k = keepCount(n);
      return topK(x, 0, n, k);
    }
    int fibers = n / r;
    int k = keepCount(r);
    int[] all = new int[k * fibers];
    for (int f = 0; f < fibers; f++) {
      int[] kf = topK(x, f * r, r, k);
      System.arraycopy(kf, 0, all, f * k, k);
    }
    return all;
  }

  private int keepCount(int n) {
    return (int) Math.min(n, Math.max(0, Math.round(n * (1.0 - level))));
  }

  /** Indices (ascending) of the k largest |x| in [off, off+len); ties go to lower indices. */
  private static int[] topK(float[] x, int off, int len, int k) {
    if (k >= len) {
      int[] all = new int[len];
      for (int i = 0; i < len; i++) {
        all[i] = off + i;
      }
      return all;
    }
    if (k == 0) {
      return new int[0];
    }
    float[] mags = new float[len];
    for (int i = 0; i < len; i++) {
      mags[i] = Math.abs(x[off + i]);
    }
    // the k-th largest magnitude; values above it are kept, then equal ones in index order
    float cut = kthLargest(mags, k);
    int above = 0;
    for (int i = 0; i < len; i++) {
      if (Math.abs(x[off + i]) > cut) {
        above++;
      }
    }
    int[] out = new int[k];
    int equalBudget = k - above;
    int c = 0;
    for (int i = 0; i < len && c < k; i++) {
      float m = Math.abs(x[off + i]);
      if (m > cut || (m == cut && equalBudget-- > 0)) {
        out[c++] = off + i;
      }
    }
    return out;
  }

  private static int[] keepAbove(float[] x, int off, int len, float t, int max) {
    int c = 0;
    for (int i = off; i < off + len; i++) {
      if (Math.abs(x[i]) > t) {
        c++;
      }
    }
    int[] out = new int[Math.min(c, max)];
    int j = 0;
    for (int i = off; i < off + len && j < out.length; i++) {
      if (Math.abs(x[i]) > t) {
        out[j++] = i;
      }
    }
    return out;
  }

  /** Quickselect on a scratch array (reordered in place). */
  static float kthLargest(float[] a, int k) {
    int target = a.length - k; // index in ascending order
    int lo = 0;
    int hi = a.length - 1;
    long seed = 0x9E3779B97F4A7C15L;
    while (lo < hi) {
      seed = seed * 6364136223846793005L + 1442695040888963407L;
      int p = lo + (int) ((seed >>> 33) % (hi - lo + 1));
      float pivot = a[p];
      // three-way partition
      int lt = lo;
      int gt = hi;
      int i = lo;
      while (i <= gt) {
        float v = a[i];
        if (v < pivot) {
          swap(a, lt++, i++);
        } else if (v > pivot) {
          swap(a, i, gt--);
        } else {
          i++;
        }
      }
      if (target < lt) {
        hi = lt - 1;
      } else if (target > gt) {
        lo = gt + 1;
      } else {
        return pivot;
      }
    }
    return a[target];
  }

  private static void swap(float[] a, int i, int j) {
    float t = a[i];
    a[i] = a[j];
    a[j] = t;
  }

  /** Position coding byte followed by the positions, the smallest allowed form. */
  private byte[] encodePositions(int[] keep, int n) {
    long bitmapBytes = (n + 7L) / 8;
    if (deltaPositions) {
      ByteSink d = new ByteSink(keep.length * 2 + 8);
      d.putU8(POS_DELTA);
      int prev = -1;
      for (int p : keep) {
        d.putVarLong(p - prev - 1);
        prev = p;
        if (d.size() > bitmapBytes + 1) {
          break; // a bitmap is smaller: no need to finish
        }
      }
      if (d.size() <= bitmapBytes + 1) {
        return d.toArray();
      }
    } else if (4L * keep.length < bitmapBytes) {
      ByteSink a = new ByteSink(keep.length * 4 + 1);
      a.putU8(POS_U32);
      for (int p : keep) {
        a.putInt(p);
      }
      return a.toArray();
    }
    byte[] bm = new byte[(int) bitmapBytes + 1];
    bm[0] = POS_BITMAP;
    for (int p : keep) {
      bm[1 + (p >>> 3)] |= (byte) (1 << (p & 7));
    }
    return bm;
  }

  /**
   * Coding byte, two 10-byte varints, positions (at most 10 bytes each as deltas, which the
   * writer only keeps when no larger than the bitmap; 4 each as u32) and the values.
   */
  @Override
  public long maxPayloadBytes(TensorInfo info) {
    long n = info.numel();
    if (n > Integer.MAX_VALUE) {
      return Integer.MAX_VALUE; // no such payload can be written; the decoder reports why
    }
    long values = valueType == VALUES_QUANT
        ? valueQuant.maxPayloadBytes(TensorInfo.of(info.name(), DType.FLOAT32, n)) : 4 * n;
    return 21 + 10 * n + values;
  }

  @Override
  public TensorData decode(TensorInfo info, ByteBuffer payload) {
    SparseTensor s = unpack(info, payload);
    float[] out = new float[Math.toIntExact(info.numel())];
    int[] pos = s.positions();
    float[] val = s.values();
    int inner = (int) info.inner(); // < numel, checked by unpack
    if (inner > 1 && pos.length > out.length / 4) {
      // dense enough that a fiber-major array and a tiled transpose beat a strided scatter
      // (measured 1.4x, SdrDecodeBench); the nnz check in unpack already tied the size to the payload
      float[] fm = new float[out.length];
      for (int i = 0; i < pos.length; i++) {
        fm[pos[i]] = val[i];
      }
      return TensorData.ofFloats(info, FiberLayout.fromFiberMajor(fm, info));
    }
    if (inner == 1) {
      for (int i = 0; i < pos.length; i++) {
        out[pos[i]] = val[i];
      }
    } else {
      // sparse: fiber-major position -> natural index, with no dense fiber-major copy in between;
      // every intermediate is below numel, so int arithmetic cannot overflow
      // positions ascend, so the fiber (o, c) only moves forward: no division per value
      int r = FiberLayout.fiberLength(info);
      int fiberStart = 0;
      int base = 0; // natural index of the fiber's first element: o * r * inner + c
      int c = 0;
      for (int i = 0; i < pos.length; i++) {
        int p = pos[i];
        while (p - fiberStart >= r) {
          fiberStart += r;
          base++;
          if (++c == inner) {
            c = 0;
            base += (r - 1) * inner;
          }
        }
        out[base + (p - fiberStart) * inner] = val[i];
      }
    }
    return TensorData.ofFloats(info, out);
  }

  /** Parses a payload into positions (fiber-major, ascending) and values. */
  public SparseTensor unpack(TensorInfo info, ByteBuffer payload) {
    ByteBuffer in = payload.duplicate().order(ByteOrder.LITTLE_ENDIAN);
    int[] pos = positions(info, in);
    int nnz = pos.length;
    float[] values;
    switch (valueType) {
      case VALUES_FP32 -> {
        values = new float[nnz];
        in.asFloatBuffer().get(values);
        in.position(in.position() + 4 * nnz);
      }
      case VALUES_FP16 -> {
        values = new float[nnz];
        for (int i = 0; i < nnz; i++) {
          values[i] = Fp16.toFloat(in.getShort());
        }
      }
      default -> {
        values = valueQuant.decode(valuesInfo(info, nnz), in.slice()).floats();
        in.position(in.limit());
      }
    }
    if (in.hasRemaining()) {
      throw new MalformedPayloadException("sdr payload has " + in.remaining() + " trailing bytes");
    }
    return new SparseTensor(pos, values);
  }

  /**
   * Parses a payload whose values are quantized into positions and the values' codes, scales and
   * zero points as stored (a 1-D tensor of {@code nnz} values), for kernels that compute on codes.
   *
   * @throws IllegalStateException if this codec keeps fp32 or fp16 values (use {@link #unpack})
   */
  public QuantizedSparse unpackQuantized(TensorInfo info, ByteBuffer payload) {
    if (valueType != VALUES_QUANT) {
      throw new IllegalStateException("sdr values of " + info.name() + " are not quantized: " + describe());
    }
    ByteBuffer in = payload.duplicate().order(ByteOrder.LITTLE_ENDIAN);
    int[] pos = positions(info, in);
    return new QuantizedSparse(pos, valueQuant.unpack(valuesInfo(info, pos.length), in.slice()));
  }

  /** The codec of the kept values when they are quantized, else null (fp32 or fp16 values). */
  public QuantCodec valueCodec() {
    return valueQuant;
  }

  /** Kept positions (fiber-major, ascending) with the quantized codes of their values. */
  @SuppressWarnings("deprecation") // the deprecated alias, so that callers naming it still compile
  public record QuantizedSparse(int[] positions, QuantCodec.QuantizedTensor values) {}

  /**
   * The number of values this codec keeps in a tensor of {@code info}'s shape, or -1 when it
   * depends on the values (threshold mode).
   */
  private long expectedNnz(TensorInfo info) {
    if (thresholdMode) {
      return -1;
    }
    int n = (int) info.numel();
    int r = FiberLayout.fiberLength(info);
    if (perTensor || r == 0) {
      return keepCount(n);
    }
    return (long) FiberLayout.fiberCount(info) * keepCount(r);
  }

  /** Bits one stored value takes at least. */
  private int valueBits() {
    return switch (valueType) {
      case VALUES_FP32 -> 32;
      case VALUES_FP16 -> 16;
      default -> valueQuant.bits();
    };
  }

  /**
   * Reads the position section of a payload, leaving {@code in} at the values. Positions must be
   * strictly ascending and inside the tensor, and the non-zero count must fit the bytes present
   * (and, selecting by sparsity, equal what the shape implies) before anything is allocated.
   */
  private int[] positions(TensorInfo info, ByteBuffer in) {
    FiberLayout.checkIndexable(info);
    int n = (int) info.numel();
    if (!in.hasRemaining()) {
      // unpackQuantized's callers (the ONNX rewriters) reach here without the reader's decode
      throw new MalformedPayloadException("sdr payload is empty");
    }
    int coding = in.get() & 0xff;
    int nnz = ByteSink.getVarInt(in, n, "non-zero count");
    int posBytes = ByteSink.getVarInt(in, in.remaining(), "position bytes");
    long expected = expectedNnz(info);
    if (expected >= 0 && nnz != expected) {
      throw new MalformedPayloadException("sdr payload keeps " + nnz + " values; " + describe() + " keeps "
          + expected + " in a tensor of shape " + java.util.Arrays.toString(info.shape()));
    }
    long valueBytesLeft = in.remaining() - (long) posBytes;
    if ((long) nnz * valueBits() > 8 * valueBytesLeft || (long) nnz > 8L * posBytes) {
      throw new MalformedPayloadException("sdr payload of " + (posBytes + valueBytesLeft) + " bytes cannot hold "
          + nnz + " values and their positions");
    }
    ByteBuffer pb = in.slice().limit(posBytes).order(ByteOrder.LITTLE_ENDIAN);
    in.position(in.position() + posBytes);
    int[] pos = new int[nnz];
    switch (coding) {
      case POS_DELTA -> {
        long p = -1;
        for (int i = 0; i < nnz; i++) {
          long d = ByteSink.getVarLong(pb);
          if (d < 0) {
            // as a 64-bit sum it would wrap around to a smaller or equal position
            throw new MalformedPayloadException("sdr positions not strictly ascending at " + i + " (delta "
                + Long.toUnsignedString(d) + " wraps around)");
          }
          if (d >= n - p - 1) {
            throw new MalformedPayloadException("sdr position " + (p + 1) + "+" + d + " outside " + n + " elements");
          }
          p += d + 1;
          pos[i] = (int) p;
        }
      }
      case POS_U32 -> {
        if (4L * nnz > posBytes) {
          throw new MalformedPayloadException("sdr u32 positions: " + posBytes + " bytes cannot hold " + nnz);
        }
        long prev = -1;
        for (int i = 0; i < nnz; i++) {
          long p = pb.getInt() & 0xffffffffL;
          if (p <= prev) {
            throw new MalformedPayloadException("sdr positions not ascending at " + i);
          }
          pos[i] = checkPos(p, n);
          prev = p;
        }
      }
      case POS_BITMAP -> {
        if (posBytes != (n + 7) / 8) {
          throw new MalformedPayloadException("sdr bitmap of " + posBytes + " bytes for " + n + " elements");
        }
        int c = 0;
        for (int b = 0; b < posBytes; b++) {
          int bits = pb.get(b) & 0xff;
          while (bits != 0) {
            int p = b * 8 + Integer.numberOfTrailingZeros(bits);
            if (c >= nnz || p >= n) {
              throw new MalformedPayloadException("sdr bitmap holds more than " + nnz + " positions");
            }
            pos[c++] = p;
            bits &= bits - 1;
          }
        }
        if (c != nnz) {
          throw new MalformedPayloadException("sdr bitmap holds " + c + " positions, header says " + nnz);
        }
      }
      default -> throw new MalformedPayloadException("unknown sdr position coding " + coding);
    }
    return pos;
  }

  private static int checkPos(long p, int n) {
    if (p < 0 || p >= n) {
      throw new MalformedPayloadException("sdr position " + p + " outside " + n + " elements");
    }
    return (int) p;
  }

  /** Kept values with their fiber-major positions, ascending. */
  public record SparseTensor(int[] positions, float[] values) {
    public int nnz() {
      return positions.length;
    }

    @Override
    public boolean equals(Object o) {
      return o instanceof SparseTensor s
          && Arrays.equals(positions, s.positions)
          && Arrays.equals(values, s.values);
    }

    @Override
    public int hashCode() {
      return 31 * Arrays.hashCode(positions) + Arrays.hashCode(values);
    }

    @Override
    public String toString() {
      return "SparseTensor[nnz=" + positions.length + "]";
    }
  }

  /**
   * Configures an {@link SdrCodec}. Defaults: 50% sparsity per fiber, delta coding allowed,
   * fp32 values.
   */
  public static final class Builder {
    private boolean perTensor;
    private boolean thresholdMode;
    private boolean delta = true;
    private float level = 0.5f;
    private int valueType = VALUES_FP32;
    private QuantCodec quant;

    /** Drops this fraction of the weights (0 keeps all, 0.9 keeps one in ten). */
    public Builder sparsity(double fraction) {
      if (!(fraction >= 0 && fraction <= 1)) {
        throw new IllegalArgumentException("sparsity must be in [0, 1], got " + fraction);
      }
      this.level = (float) fraction;
      this.thresholdMode = false;
      return this;
    }

    /** Drops every weight with {@code |x| <= threshold}. */
    public Builder threshold(float threshold) {
      if (!(threshold >= 0)) {
        throw new IllegalArgumentException("threshold must be >= 0, got " + threshold);
      }
      this.level = threshold;
      this.thresholdMode = true;
      return this;
    }

    /** Select over the whole tensor rather than fiber by fiber. */
    public Builder perTensor(boolean perTensor) {
      this.perTensor = perTensor;
      return this;
    }

    /** Allow delta+varint positions (otherwise bitmap or absolute u32). */
    public Builder deltaPositions(boolean delta) {
      this.delta = delta;
      return this;
    }

    public Builder fp32Values() {
      valueType = VALUES_FP32;
      quant = null;
      return this;
    }

    public Builder fp16Values() {
      valueType = VALUES_FP16;
      quant = null;
      return this;
    }

    /** Quantize the kept values, e.g. {@code QuantCodec.blockwise(4, false, 32)}. */
    public Builder quantizedValues(QuantCodec q) {
      valueType = VALUES_QUANT;
      quant = q;
      return this;
    }

    public SdrCodec build() {
      return new SdrCodec(perTensor, thresholdMode, delta, level, valueType, quant);
    }
  }
}
