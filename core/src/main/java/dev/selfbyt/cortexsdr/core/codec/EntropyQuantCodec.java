package dev.selfbyt.cortexsdr.core.codec;

import dev.selfbyt.cortexsdr.core.tensor.Fp16;
import dev.selfbyt.cortexsdr.core.tensor.TensorData;
import dev.selfbyt.cortexsdr.core.tensor.TensorInfo;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.PriorityQueue;

/**
 * Uniform quantization at a fixed step per fiber, entropy-coded: each fiber (an embedding table's
 * row) gets one step, {@code relativeStep} times the fiber's root mean square (raised where its
 * largest value would need a code beyond ±127), each value the integer {@code q = round(x / step)}
 * in {@code [-127, 127]}, decoded as {@code step * q} in float32. The codes are not packed at a
 * fixed width but Huffman-coded with one canonical code per tensor, so a value costs about the
 * entropy of its code: for Gaussian-like values {@code log2(4.13 / relativeStep)} bits, and every
 * fiber the same error relative to its size ({@code relativeStep^2 / 12} of its mean square).
 * Block-wise codes pay for the range of each block and for its scale; this pays neither, which is
 * what a table read without a Hessian (a Gather's rows) can use.
 *
 * <p>Every code fits a signed byte, so {@link #widened} gives the tensor as symmetric 8-bit codes
 * with one scale per fiber ({@link QuantCodec#perChannel}), exactly: the quantized ONNX export
 * writes a Gather of such a table as int8 rows (ONNX has no Huffman decoder), and the DJL engine
 * keeps it quantized the same way. Get one with {@link #of}.
 *
 * <p>Params: {@code u8 version (1), f32 relative step (> 0)}. The step is the encoder's; a decoder
 * needs only the payload:
 *
 * <pre>
 * steps    fibers x f16, the step of each fiber (finite, >= 0)
 * u8       symbol count n (1 to 255)
 * n x      i8 symbol (a code value, distinct), u8 Huffman length (1 to 24)
 * bits     the fibers' codes in fiber-major order, each symbol's canonical Huffman code MSB first,
 *          packed from the high bit of each byte, the last byte padded with 0 bits
 * </pre>
 *
 * Canonical codes go to the symbols in order of (length, symbol value); the lengths must form a
 * complete prefix code (Kraft sum 1), or, with one symbol, length 1 (that symbol is code 0).
 */
public final class EntropyQuantCodec implements TensorCodec {
  /** The oldest params version this reader decodes. */
  public static final int PARAMS_VERSION_START = 1;
  /** The params version this writer writes. */
  public static final int PARAMS_VERSION_CURRENT = 1;
  /** The longest Huffman code; longer ones are avoided by flattening the rarest counts. */
  static final int MAX_LENGTH = 24;
  /** The largest code magnitude (codes fit a signed byte, and symmetric 8-bit quant's range). */
  static final int MAX_CODE = 127;

  private final float relativeStep;

  private EntropyQuantCodec(float relativeStep) {
    if (!(relativeStep > 0) || !Float.isFinite(relativeStep)) {
      throw new IllegalArgumentException("entropy quantization needs a relative step > 0, got " + relativeStep);
    }
    this.relativeStep = relativeStep;
  }

  /**
   * Steps of {@code relativeStep} times each fiber's root mean square: 0.58 gives about the error of
   * asymmetric 3-bit codes in blocks of 32 (2.9 bits per value instead of 3.3 on MiniLM's vocabulary).
   */
  public static EntropyQuantCodec of(double relativeStep) {
    return new EntropyQuantCodec((float) relativeStep);
  }

  static EntropyQuantCodec fromParams(ByteBuffer p) {
    int version = p.get() & 0xff;
    if (version < PARAMS_VERSION_START || version > PARAMS_VERSION_CURRENT) {
      throw new UnknownParamsVersionException("entropy", version);
    }
    float step = p.getFloat();
    try {
      return new EntropyQuantCodec(step);
    } catch (IllegalArgumentException e) {
      throw new MalformedPayloadException(e.getMessage());
    }
  }

  /** The step as a multiple of each fiber's root mean square. */
  public float relativeStep() {
    return relativeStep;
  }

  @Override
  public CodecId id() {
    return CodecId.ENTROPY;
  }

  @Override
  public byte[] params() {
    return ByteBuffer.allocate(5).order(ByteOrder.LITTLE_ENDIAN).put((byte) PARAMS_VERSION_CURRENT)
        .putFloat(relativeStep).array();
  }

  @Override
  public boolean isLossless() {
    return false;
  }

  @Override
  public String describe() {
    return "entropy-coded step " + relativeStep + " x rms per fiber";
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof EntropyQuantCodec c && Float.compare(c.relativeStep, relativeStep) == 0;
  }

  @Override
  public int hashCode() {
    return Float.hashCode(relativeStep);
  }

  @Override
  public String toString() {
    return describe();
  }

  @Override
  public long maxPayloadBytes(TensorInfo info) {
    try {
      long fibers = FiberLayout.fiberCount(info);
      return Math.min(Integer.MAX_VALUE, 2 * fibers + 1 + 2 * 255 + (info.numel() * MAX_LENGTH + 7) / 8);
    } catch (IllegalArgumentException | ArithmeticException e) {
      return Integer.MAX_VALUE;
    }
  }

  @Override
  public ByteBuffer encode(TensorData data) {
    TensorInfo info = data.info();
    FiberLayout.requireFloating(info, "entropy quantization");
    FiberLayout.checkIndexable(info);
    int r = FiberLayout.fiberLength(info);
    int fibers = FiberLayout.fiberCount(info);
    float[] x = FiberLayout.toFiberMajor(data.floats(), info);
    short[] steps = new short[fibers];
    byte[] q = new byte[x.length];
    long[] counts = new long[256];
    for (int f = 0; f < fibers; f++) {
      double sq = 0;
      float max = 0;
      for (int i = f * r; i < (f + 1) * r; i++) {
        if (!Float.isFinite(x[i])) {
          throw new NonFiniteValueException(info.name(), x[i], i, "fiber-major element", "entropy quantization");
        }
        sq += (double) x[i] * x[i];
        max = Math.max(max, Math.abs(x[i]));
      }
      float want = Math.max((float) (relativeStep * Math.sqrt(sq / r)), max / MAX_CODE);
      if (!(want <= Fp16.MAX)) {
        throw new IllegalArgumentException("tensor '" + info.name() + "': fiber " + f + " needs a step of " + want
            + ", over fp16's 65504");
      }
      steps[f] = want == 0f ? 0 : Fp16.fromFloatRoundUp(want); // rounded up: no code beyond ±127
      float s = Fp16.toFloat(steps[f]);
      for (int i = f * r; i < (f + 1) * r; i++) {
        int c = s == 0f ? 0 : Math.max(-MAX_CODE, Math.min(MAX_CODE, Math.round(x[i] / s)));
        q[i] = (byte) c;
        counts[c & 0xff]++;
      }
    }
    int[] length = lengths(counts);
    int[] code = canonical(length);
    long bits = 0;
    int n = 0;
    for (int v = 0; v < 256; v++) {
      bits += counts[v] * length[v];
      n += length[v] > 0 ? 1 : 0;
    }
    long size = 2L * fibers + 1 + 2L * n + (bits + 7) / 8;
    if (size > Integer.MAX_VALUE - 16) {
      throw new IllegalArgumentException("tensor '" + info.name() + "': entropy payload over 2 GiB");
    }
    ByteBuffer out = ByteBuffer.allocate((int) size).order(ByteOrder.LITTLE_ENDIAN);
    for (short s : steps) {
      out.putShort(s);
    }
    out.put((byte) n);
    for (int v = 0; v < 256; v++) {
      if (length[v] > 0) {
        out.put((byte) v).put((byte) length[v]);
      }
    }
    byte[] a = out.array();
    int pos = out.position();
    long acc = 0;
    int held = 0;
    for (byte b : q) {
      int v = b & 0xff;
      acc = (acc << length[v]) | code[v];
      held += length[v];
      while (held >= 8) {
        held -= 8;
        a[pos++] = (byte) (acc >>> held);
      }
      acc &= (1L << held) - 1;
    }
    if (held > 0) {
      a[pos++] = (byte) (acc << (8 - held));
    }
    return ByteBuffer.wrap(a).order(ByteOrder.LITTLE_ENDIAN);
  }

  /** Huffman lengths of the used byte values (0 for unused), none over {@link #MAX_LENGTH}. */
  static int[] lengths(long[] counts) {
    long[] c = counts.clone();
    long total = Arrays.stream(c).sum();
    for (int shift = MAX_LENGTH - 2; ; shift--) {
      int[] length = huffman(c);
      if (Arrays.stream(length).max().orElse(0) <= MAX_LENGTH) {
        return length;
      }
      long floor = Math.max(1, total >> shift); // flatten the rarest counts until the tree is shallow enough
      for (int v = 0; v < c.length; v++) {
        if (c[v] > 0 && c[v] < floor) {
          c[v] = floor;
        }
      }
    }
  }

  private static int[] huffman(long[] c) {
    int[] length = new int[c.length];
    record Node(long weight, int order, List<Integer> symbols) {}
    PriorityQueue<Node> heap = new PriorityQueue<>((p, q) -> p.weight != q.weight ? Long.compare(p.weight, q.weight)
        : Integer.compare(p.order, q.order));
    int order = 0;
    for (int v = 0; v < c.length; v++) {
      if (c[v] > 0) {
        heap.add(new Node(c[v], order++, List.of(v)));
      }
    }
    if (heap.size() == 1) {
      length[heap.peek().symbols().get(0)] = 1;
      return length;
    }
    while (heap.size() > 1) {
      Node a = heap.poll();
      Node b = heap.poll();
      List<Integer> s = new ArrayList<>(a.symbols());
      s.addAll(b.symbols());
      s.forEach(v -> length[v]++);
      heap.add(new Node(a.weight + b.weight, order++, s));
    }
    return length;
  }

  /** Canonical codes for lengths indexed by byte value: by (length, signed value). */
  private static int[] canonical(int[] length) {
    Integer[] order = sortedSymbols(length);
    int[] code = new int[256];
    int next = 0;
    int prev = 0;
    for (int v : order) {
      next <<= length[v] - prev;
      prev = length[v];
      code[v] = next++;
    }
    return code;
  }

  /** Used byte values in canonical order: by length, then signed value. */
  private static Integer[] sortedSymbols(int[] length) {
    return java.util.stream.IntStream.range(0, 256).filter(v -> length[v] > 0).boxed()
        .sorted((p, q) -> length[p] != length[q] ? Integer.compare(length[p], length[q])
            : Integer.compare((byte) (int) p, (byte) (int) q))
        .toArray(Integer[]::new);
  }

  /** The parsed payload: steps per fiber and codes per value, fiber-major. */
  private record Parsed(float[] steps, byte[] codes) {}

  private Parsed parse(TensorInfo info, ByteBuffer payload) {
    try {
      FiberLayout.checkIndexable(info);
    } catch (IllegalArgumentException e) {
      throw new MalformedPayloadException(e.getMessage());
    }
    int r = FiberLayout.fiberLength(info);
    int fibers = FiberLayout.fiberCount(info);
    ByteBuffer in = payload.duplicate().order(ByteOrder.LITTLE_ENDIAN);
    if (in.remaining() < 2L * fibers + 1) {
      throw new MalformedPayloadException("entropy payload of " + in.remaining() + " bytes, shorter than the "
          + fibers + " fiber steps and a symbol count");
    }
    float[] steps = new float[fibers];
    for (int f = 0; f < fibers; f++) {
      steps[f] = Fp16.toFloat(in.getShort());
      if (!Float.isFinite(steps[f]) || steps[f] < 0) {
        throw new MalformedPayloadException("entropy step of fiber " + f + " is " + steps[f]);
      }
    }
    int n = in.get() & 0xff;
    if (n == 0 || in.remaining() < 2 * n) {
      throw new MalformedPayloadException("entropy payload with " + n + " symbols and " + in.remaining()
          + " bytes after the steps");
    }
    int[] length = new int[256];
    double kraft = 0;
    for (int i = 0; i < n; i++) {
      int v = in.get() & 0xff;
      int len = in.get() & 0xff;
      if (len < 1 || len > MAX_LENGTH || length[v] != 0 || (byte) v < -MAX_CODE) {
        throw new MalformedPayloadException("entropy symbol " + (byte) v + " with Huffman length " + len
            + (length[v] != 0 ? " (listed twice)" : ""));
      }
      length[v] = len;
      kraft += Math.scalb(1.0, -len);
    }
    if (n == 1 ? kraft != 0.5 : kraft != 1.0) {
      throw new MalformedPayloadException("entropy Huffman lengths do not form a complete code (Kraft sum " + kraft
          + ")");
    }
    Integer[] sorted = sortedSymbols(length);
    int[] countOfLength = new int[MAX_LENGTH + 1];
    for (int v : sorted) {
      countOfLength[length[v]]++;
    }
    byte[] bits = new byte[in.remaining()];
    in.get(bits);
    long total = (long) fibers * r;
    byte[] codes = new byte[Math.toIntExact(total)];
    long bit = 0;
    long limit = 8L * bits.length;
    int[] lookup = lookup(length);
    for (int i = 0; i < codes.length; i++) {
      int hit = lookup[peek(bits, bit)];
      if (hit != 0 && bit + (hit & 0xff) <= limit) { // codes of up to LOOKUP_BITS bits in one step
        codes[i] = (byte) (hit >>> 8);
        bit += hit & 0xff;
        continue;
      }
      int code = 0;
      int first = 0;
      int index = 0;
      for (int len = 1; ; len++) {
        if (bit >= limit || len > MAX_LENGTH) {
          throw new MalformedPayloadException("entropy code stream ends at value " + i + " of " + total);
        }
        code |= (bits[(int) (bit >>> 3)] >>> (7 - (int) (bit & 7))) & 1;
        bit++;
        int count = countOfLength[len];
        if (code - first < count) {
          codes[i] = (byte) (int) sorted[index + code - first];
          break;
        }
        index += count;
        first = (first + count) << 1;
        code <<= 1;
      }
    }
    if ((bit + 7) / 8 != bits.length) {
      throw new MalformedPayloadException("entropy code stream has " + bits.length + " bytes, its "
          + total + " values take " + (bit + 7) / 8);
    }
    return new Parsed(steps, codes);
  }

  /** Codes up to this long are decoded by one table lookup; longer ones bit by bit. */
  static final int LOOKUP_BITS = 11;

  /**
   * For every {@value #LOOKUP_BITS}-bit prefix of the stream, {@code symbol << 8 | length} of the
   * code it starts with, or 0 when that code is longer.
   */
  private static int[] lookup(int[] length) {
    int[] table = new int[1 << LOOKUP_BITS];
    int[] code = canonical(length);
    for (int v = 0; v < 256; v++) {
      int len = length[v];
      if (len > 0 && len <= LOOKUP_BITS) {
        int from = code[v] << (LOOKUP_BITS - len);
        java.util.Arrays.fill(table, from, from + (1 << (LOOKUP_BITS - len)), v << 8 | len);
      }
    }
    return table;
  }

  /** The {@value #LOOKUP_BITS} bits of the stream from {@code bit} on, MSB first, 0 past its end. */
  private static int peek(byte[] bits, long bit) {
    int at = (int) (bit >>> 3);
    int w = (at < bits.length ? (bits[at] & 0xff) << 16 : 0) | (at + 1 < bits.length ? (bits[at + 1] & 0xff) << 8 : 0)
        | (at + 2 < bits.length ? bits[at + 2] & 0xff : 0);
    return (w >>> (24 - (int) (bit & 7) - LOOKUP_BITS)) & ((1 << LOOKUP_BITS) - 1);
  }

  @Override
  public TensorData decode(TensorInfo info, ByteBuffer payload) {
    Parsed p = parse(info, payload);
    int r = FiberLayout.fiberLength(info);
    float[] x = new float[p.codes().length];
    for (int i = 0; i < x.length; i++) {
      x[i] = p.steps()[i / r] * p.codes()[i];
    }
    return TensorData.ofFloats(info, FiberLayout.fromFiberMajor(x, info));
  }

  /**
   * The tensor as symmetric 8-bit codes with one scale (the step) per fiber, holding exactly the
   * values {@link #decode} gives; null unless the fibers are contiguous (reduction axis last),
   * which a Gather table's are.
   */
  public QuantCodec.QuantizedTensor widened(TensorInfo info, ByteBuffer payload) {
    if (info.inner() != 1) {
      return null;
    }
    Parsed p = parse(info, payload);
    int r = FiberLayout.fiberLength(info);
    int fibers = p.steps().length;
    byte[] data = new byte[p.codes().length];
    for (int i = 0; i < data.length; i++) {
      data[i] = (byte) (p.codes()[i] + 128);
    }
    int[] zps = new int[fibers];
    Arrays.fill(zps, 128);
    return new QuantCodec.QuantizedTensor(QuantCodec.perChannel(8, true), r, fibers, Math.max(r, 1), p.steps(), zps,
        data, 0, r);
  }
}
