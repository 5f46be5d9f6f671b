package dev.selfbyt.cortexsdr.core.codec;

import dev.selfbyt.cortexsdr.core.tensor.TensorData;
import dev.selfbyt.cortexsdr.core.tensor.TensorInfo;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * Fibers in tiers of different precision: each fiber (for an embedding table, one token's row) is
 * stored by one of up to 16 {@link QuantCodec}s or {@link CodebookQuantCodec}s, so rows the data rarely reads can take fewer bits
 * than rows it reads often. Which fiber goes to which tier is data (stored in the payload); the
 * encoder gets it from {@link #assign}, a decoder needs only the params.
 *
 * <p>Needs contiguous fibers (the reduction axis is the last one) and tiers that are per-channel
 * or block-wise. When every tier's group length divides the smallest one's multiple (same block,
 * or blocks that nest), {@link #widened} gives the whole tensor as one {@link
 * QuantizedTensor} at the widest tier's bits, exactly: a code of fewer bits keeps its
 * value under the same scale and zero point. Kernels and the quantized ONNX export use that view.
 *
 * <p>Params: {@code u8 version (1), u8 tier count T (1 to 16), T x (varint length, QuantCodec
 * params)}; version 2 (written when a tier is a codebook): {@code T x (u8 codec id, varint length,
 * params)}. A codebook tier has no uniform view: {@link #widened} is then null. Payload:
 *
 * <pre>
 * packed   tier of each fiber, ceil(log2 T) bits each (at least 1), LSB first, padded to a byte
 * T x      u32 length, then the tier's QuantCodec payload of its fibers, in fiber order, as a
 *          tensor [fibers in tier, R] whose reduction axis is the last
 * </pre>
 */
public final class TieredQuantCodec implements TensorCodec {
  /** The oldest params version this reader decodes. */
  public static final int PARAMS_VERSION_START = 1;
  /** The params version this writer writes. */
  public static final int PARAMS_VERSION_CURRENT = 2;
  /** The params version of tiers that are all {@link QuantCodec}s (what readers before version 2 read). */
  static final int PARAMS_VERSION_UNIFORM = 1;
  /** At most this many tiers. */
  public static final int MAX_TIERS = 16;

  private final List<TensorCodec> tiers;
  private final byte[] fiberTiers; // encoder only; null in a codec rebuilt from params

  private TieredQuantCodec(List<? extends TensorCodec> tiers, byte[] fiberTiers) {
    if (tiers.isEmpty() || tiers.size() > MAX_TIERS) {
      throw new IllegalArgumentException("tiered quantization needs 1 to " + MAX_TIERS + " tiers, got " + tiers.size());
    }
    for (TensorCodec c : tiers) {
      if (c instanceof QuantCodec q && q.granularity() == QuantCodec.Granularity.TENSOR) {
        throw new IllegalArgumentException("a tier must be per-channel or block-wise, got " + q.describe());
      }
      if (!(c instanceof QuantCodec) && !(c instanceof CodebookQuantCodec)) {
        throw new IllegalArgumentException("a tier must be a quant or codebook codec, got " + c.describe());
      }
    }
    this.tiers = List.copyOf(tiers);
    this.fiberTiers = fiberTiers;
  }

  /** A codec with these tiers (decoding; {@link #assign} before encoding). */
  public static TieredQuantCodec of(List<? extends TensorCodec> tiers) {
    return new TieredQuantCodec(tiers, null);
  }

  /**
   * The same tiers, encoding fiber {@code f} with tier {@code tierOfFiber[f]}. The assignment is
   * not part of {@link #params()}: equal codecs may assign differently.
   */
  public TieredQuantCodec assign(byte[] tierOfFiber) {
    for (int f = 0; f < tierOfFiber.length; f++) {
      if (tierOfFiber[f] < 0 || tierOfFiber[f] >= tiers.size()) {
        throw new IllegalArgumentException("fiber " + f + " assigned to tier " + tierOfFiber[f] + " of " + tiers.size());
      }
    }
    return new TieredQuantCodec(tiers, tierOfFiber.clone());
  }

  static TieredQuantCodec fromParams(ByteBuffer p) {
    int version = p.get() & 0xff;
    if (version < PARAMS_VERSION_START || version > PARAMS_VERSION_CURRENT) {
      throw new UnknownParamsVersionException("tiered", version);
    }
    int n = p.get() & 0xff;
    if (n < 1 || n > MAX_TIERS) {
      throw new MalformedPayloadException("tiered quantization with " + n + " tiers");
    }
    List<TensorCodec> t = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      CodecId id = version == PARAMS_VERSION_UNIFORM ? CodecId.QUANT : CodecId.fromCode(p.get() & 0xff);
      int len = ByteSink.getVarInt(p, p.remaining(), "tier params length");
      ByteBuffer sub = p.slice().limit(len).order(ByteOrder.LITTLE_ENDIAN);
      p.position(p.position() + len);
      if (id == CodecId.QUANT) {
        t.add(QuantCodec.fromParams(sub));
      } else if (id == CodecId.CODEBOOK) {
        t.add(CodebookQuantCodec.fromParams(sub));
      } else {
        throw new MalformedPayloadException("tier " + i + " has codec " + id + "; tiers are quant or codebook");
      }
    }
    try {
      return of(t);
    } catch (IllegalArgumentException e) {
      throw new MalformedPayloadException(e.getMessage());
    }
  }

  /** The tiers, in tier-index order: each a {@link QuantCodec} or a {@link CodebookQuantCodec}. */
  public List<TensorCodec> tiers() {
    return tiers;
  }

  private boolean uniform() {
    return tiers.stream().allMatch(c -> c instanceof QuantCodec);
  }

  @Override
  public CodecId id() {
    return CodecId.TIERED;
  }

  @Override
  public byte[] params() {
    boolean uniform = uniform();
    ByteSink s = new ByteSink(16).putU8(uniform ? PARAMS_VERSION_UNIFORM : PARAMS_VERSION_CURRENT).putU8(tiers.size());
    for (TensorCodec q : tiers) {
      if (!uniform) {
        s.putU8(q.id().code());
      }
      byte[] p = q.params();
      s.putVarLong(p.length);
      for (byte b : p) {
        s.put(b);
      }
    }
    return s.toArray();
  }

  @Override
  public boolean isLossless() {
    return false;
  }

  @Override
  public String describe() {
    StringBuilder b = new StringBuilder("tiered");
    for (TensorCodec q : tiers) {
      b.append(b.length() == 6 ? " " : " | ").append(q.describe());
    }
    return b.toString();
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof TieredQuantCodec t && t.tiers.equals(tiers);
  }

  @Override
  public int hashCode() {
    return Objects.hash(tiers);
  }

  @Override
  public String toString() {
    return describe();
  }

  private int mapBits() {
    return Math.max(1, 32 - Integer.numberOfLeadingZeros(tiers.size() - 1));
  }

  private static void checkContiguous(TensorInfo info) {
    FiberLayout.checkIndexable(info);
    if (info.inner() != 1) {
      throw new IllegalArgumentException("tensor '" + info.name() + "': tiered quantization needs the reduction axis "
          + "last (contiguous fibers), axis " + info.reductionAxis() + " of " + java.util.Arrays.toString(info.shape()));
    }
  }

  /** Tensor {@code [n, r]} holding {@code n} fibers of {@code info}. */
  private static TensorInfo rows(TensorInfo info, int n, int r) {
    return new TensorInfo(info.name(), info.dtype(), new long[] {n, r}, info.role(), 1);
  }

  @Override
  public ByteBuffer encode(TensorData data) {
    TensorInfo info = data.info();
    FiberLayout.requireFloating(info, "quantization");
    checkContiguous(info);
    int r = FiberLayout.fiberLength(info);
    int fibers = FiberLayout.fiberCount(info);
    if (fiberTiers == null || fiberTiers.length != fibers) {
      throw new IllegalArgumentException("tensor '" + info.name() + "': tiered codec assigned "
          + (fiberTiers == null ? "no" : fiberTiers.length) + " fibers, the tensor has " + fibers);
    }
    float[] x = data.floats();
    int[] count = new int[tiers.size()];
    for (byte t : fiberTiers) {
      count[t]++;
    }
    int[] map = new int[fibers];
    for (int f = 0; f < fibers; f++) {
      map[f] = fiberTiers[f];
    }
    List<ByteBuffer> parts = new ArrayList<>();
    long total = PackedCodes.bytes(fibers, mapBits());
    for (int t = 0; t < tiers.size(); t++) {
      float[] sub = new float[Math.multiplyExact(count[t], r)];
      for (int f = 0, k = 0; f < fibers; f++) {
        if (fiberTiers[f] == t) {
          System.arraycopy(x, f * r, sub, k++ * r, r);
        }
      }
      ByteBuffer p = tiers.get(t).encode(TensorData.ofFloats(rows(info, count[t], r), sub));
      parts.add(p);
      total += 4 + p.remaining();
    }
    if (total > Integer.MAX_VALUE - 16) {
      throw new IllegalArgumentException("tensor '" + info.name() + "': tiered payload over 2 GiB");
    }
    byte[] out = new byte[(int) total];
    PackedCodes.packInts(map, mapBits(), out, 0);
    ByteBuffer b = ByteBuffer.wrap(out).order(ByteOrder.LITTLE_ENDIAN);
    b.position((int) PackedCodes.bytes(fibers, mapBits()));
    for (ByteBuffer p : parts) {
      b.putInt(p.remaining());
      b.put(p.duplicate());
    }
    return ByteBuffer.wrap(out).order(ByteOrder.LITTLE_ENDIAN);
  }

  /** A payload split into its tier map and each tier's parsed quantized fibers. */
  private record Parsed(int[] tierOf, int[] count, List<ByteBuffer> payloads) {}

  private Parsed parse(TensorInfo info, ByteBuffer payload) {
    try {
      checkContiguous(info);
    } catch (IllegalArgumentException e) {
      throw new MalformedPayloadException(e.getMessage());
    }
    int r = FiberLayout.fiberLength(info);
    int fibers = FiberLayout.fiberCount(info);
    ByteBuffer in = payload.duplicate().order(ByteOrder.LITTLE_ENDIAN);
    int mapBytes = (int) PackedCodes.bytes(fibers, mapBits());
    if (in.remaining() < mapBytes) {
      throw new MalformedPayloadException("tiered payload of " + in.remaining() + " bytes, shorter than its tier map");
    }
    byte[] map = new byte[mapBytes];
    in.get(map);
    int[] tierOf = PackedCodes.unpackInts(map, 0, fibers, mapBits());
    int[] count = new int[tiers.size()];
    for (int f = 0; f < fibers; f++) {
      if (tierOf[f] >= tiers.size()) {
        throw new MalformedPayloadException("fiber " + f + " in tier " + tierOf[f] + " of " + tiers.size());
      }
      count[tierOf[f]]++;
    }
    List<ByteBuffer> parts = new ArrayList<>();
    for (int t = 0; t < tiers.size(); t++) {
      if (in.remaining() < 4) {
        throw new MalformedPayloadException("tiered payload ends before tier " + t);
      }
      int len = in.getInt();
      if (len < 0 || len > in.remaining()) {
        throw new MalformedPayloadException("tier " + t + " claims " + len + " bytes, " + in.remaining() + " remain");
      }
      ByteBuffer sub = in.slice().limit(len).order(ByteOrder.LITTLE_ENDIAN);
      in.position(in.position() + len);
      parts.add(sub);
    }
    if (in.hasRemaining()) {
      throw new MalformedPayloadException("tiered payload has " + in.remaining() + " bytes after its last tier");
    }
    return new Parsed(tierOf, count, parts);
  }

  @Override
  public TensorData decode(TensorInfo info, ByteBuffer payload) {
    Parsed p = parse(info, payload);
    int r = FiberLayout.fiberLength(info);
    float[] out = new float[Math.toIntExact(info.numel())];
    int[] next = new int[tiers.size()];
    List<float[]> decoded = new ArrayList<>();
    for (int t = 0; t < tiers.size(); t++) {
      TensorInfo sub = rows(info, p.count()[t], r);
      if (tiers.get(t) instanceof QuantCodec q) {
        QuantizedTensor qt = q.unpack(sub, p.payloads().get(t));
        float[] d = new float[qt.fibers() * r];
        qt.dequantizeInto(d);
        decoded.add(d);
      } else {
        decoded.add(tiers.get(t).decode(sub, p.payloads().get(t)).floats());
      }
    }
    for (int f = 0; f < p.tierOf().length; f++) {
      int t = p.tierOf()[f];
      System.arraycopy(decoded.get(t), next[t]++ * r, out, f * r, r);
    }
    return TensorData.ofFloats(info, out);
  }

  /**
   * The whole tensor as one quantized tensor at the widest tier's bits and the smallest tier's
   * group length, holding exactly the values {@link #decode} gives (asymmetric form: every group
   * keeps its own zero point); null when the tiers' groups do not nest or a tier is a codebook.
   */
  @SuppressWarnings("deprecation") // returns the deprecated alias so that callers naming it still compile
  public QuantCodec.QuantizedTensor widened(TensorInfo info, ByteBuffer payload) {
    if (!uniform()) {
      return null;
    }
    int r = FiberLayout.fiberLength(info);
    Parsed parsed = parse(info, payload);
    List<QuantizedTensor> qts = new ArrayList<>();
    for (int t = 0; t < tiers.size(); t++) {
      qts.add(((QuantCodec) tiers.get(t)).unpack(rows(info, parsed.count()[t], r), parsed.payloads().get(t)));
    }
    record Unpacked(int[] tierOf, List<QuantizedTensor> tiers) {}
    Unpacked p = new Unpacked(parsed.tierOf(), qts);
    int bits = 0;
    int gl = Integer.MAX_VALUE;
    for (QuantizedTensor q : p.tiers()) {
      bits = Math.max(bits, q.codec().bits());
      gl = Math.min(gl, q.groupLength());
    }
    for (QuantizedTensor q : p.tiers()) {
      if (q.groupLength() % gl != 0 && q.groupLength() != r) {
        return null;
      }
    }
    QuantCodec view = gl >= r ? QuantCodec.perChannel(bits, false) : QuantCodec.blockwise(bits, false, gl);
    int fibers = p.tierOf().length;
    int gpf = gl >= r ? 1 : QuantCodec.ceilDiv(r, gl);
    float[] scales = new float[fibers * gpf];
    int[] zps = new int[fibers * gpf];
    int fiberBytes = (int) PackedCodes.bytes(r, bits);
    byte[] data = new byte[Math.multiplyExact(fibers, fiberBytes)];
    int[] next = new int[tiers.size()];
    for (int f = 0; f < fibers; f++) {
      int t = p.tierOf()[f];
      QuantizedTensor q = p.tiers().get(t);
      int sf = next[t]++;
      byte[] codes = q.codes(sf);
      PackedCodes.pack(codes, 0, r, bits, data, f * fiberBytes);
      for (int j = 0; j < gpf; j++) {
        int g = q.group(sf, j * gl);
        scales[f * gpf + j] = q.scaleAt(g);
        zps[f * gpf + j] = q.zeroPointAt(g);
      }
    }
    return new QuantCodec.QuantizedTensor(view, r, fibers, Math.min(gl, Math.max(r, 1)), scales, zps, data, 0, fiberBytes);
  }

  @Override
  public long maxPayloadBytes(TensorInfo info) {
    long total = 0;
    try {
      int fibers = FiberLayout.fiberCount(info);
      total = PackedCodes.bytes(fibers, mapBits());
      for (TensorCodec q : tiers) {
        total += 4 + q.maxPayloadBytes(info);
      }
    } catch (IllegalArgumentException | ArithmeticException e) {
      return Integer.MAX_VALUE;
    }
    return Math.min(total, Integer.MAX_VALUE);
  }
}
