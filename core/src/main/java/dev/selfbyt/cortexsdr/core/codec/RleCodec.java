package dev.selfbyt.cortexsdr.core.codec;

import dev.selfbyt.cortexsdr.core.tensor.TensorData;
import dev.selfbyt.cortexsdr.core.tensor.TensorInfo;
import java.nio.ByteBuffer;
import java.util.Arrays;

/**
 * Lossless run-length coding of whole elements, for tensors with long runs of one value (masks,
 * padding rows, zero-initialized buffers). Get it with {@link #INSTANCE}.
 *
 * <p>Params: none. Payload: a sequence of tokens, each a varint {@code (count << 1) | isRun}
 * followed by one element ({@code isRun = 1}: the element repeated {@code count} times) or by
 * {@code count} literal elements. Counts are at least 1; runs are at least {@value #MIN_RUN}.
 */
public final class RleCodec implements TensorCodec {
  public static final RleCodec INSTANCE = new RleCodec();
  static final int MIN_RUN = 4;

  private RleCodec() {}

  @Override
  public CodecId id() {
    return CodecId.RLE;
  }

  @Override
  public byte[] params() {
    return new byte[0];
  }

  @Override
  public boolean isLossless() {
    return true;
  }

  @Override
  public ByteBuffer encode(TensorData data) {
    int w = data.info().dtype().size();
    int total = RawCodec.checkedSize(data.info());
    byte[] in = new byte[total];
    data.bytes().get(in);
    int n = total / w;
    // most weights have no runs and come out a little larger than they went in: sized for that
    // up to 64 MiB (growing by doubling copied the payload about twice)
    ByteSink out = new ByteSink(Math.min(total + 16, Math.max(total / 4 + 16, 64 << 20)));
    int litStart = 0;
    int i = 0;
    while (i < n) {
      int run = 1;
      while (i + run < n && sameElement(in, i * w, (i + run) * w, w)) {
        run++;
      }
      if (run >= MIN_RUN) {
        if (litStart < i) {
          out.putVarLong(((long) (i - litStart) << 1));
          out.put(in, litStart * w, (i - litStart) * w);
        }
        out.putVarLong(((long) run << 1) | 1);
        out.put(in, i * w, w);
        i += run;
        litStart = i;
      } else {
        i += run;
      }
    }
    if (litStart < n) {
      out.putVarLong(((long) (n - litStart) << 1));
      out.put(in, litStart * w, (n - litStart) * w);
    }
    return out.toBuffer();
  }

  /**
   * Whether the elements at byte offsets p and q are equal. Plain byte compares: the first byte
   * (the low mantissa byte of a float) tells most pairs apart, and a VarHandle read per element
   * ran far slower before the JIT had compiled it, which is every cold run.
   */
  private static boolean sameElement(byte[] a, int p, int q, int w) {
    for (int k = 0; k < w; k++) {
      if (a[p + k] != a[q + k]) {
        return false;
      }
    }
    return true;
  }

  /** A token per element, each a 10-byte varint and one element: the most an RLE payload takes. */
  @Override
  public long maxPayloadBytes(TensorInfo info) {
    long n = info.numel();
    return n > Long.MAX_VALUE / 32 ? Long.MAX_VALUE : n * (10 + info.dtype().size());
  }

  @Override
  public TensorData decode(TensorInfo info, ByteBuffer payload) {
    int w = info.dtype().size();
    int total = RawCodec.checkedSize(info);
    int n = total / w;
    checkTokens(payload, n, w);
    byte[] out = new byte[total];
    ByteBuffer in = payload.duplicate();
    int i = 0;
    while (in.hasRemaining()) {
      long token = ByteSink.getVarLong(in);
      long count = token >>> 1;
      if (count < 1 || count > n - i) {
        throw new MalformedPayloadException(
            "rle token of " + count + " elements at element " + i + " overruns " + n);
      }
      int c = (int) count;
      if ((token & 1) != 0) {
        byte[] e = new byte[w];
        in.get(e);
        if (w == 1) {
          Arrays.fill(out, i, i + c, e[0]);
        } else {
          for (int k = 0; k < c; k++) {
            System.arraycopy(e, 0, out, (i + k) * w, w);
          }
        }
      } else {
        in.get(out, i * w, c * w);
      }
      i += c;
    }
    if (i != n) {
      throw new MalformedPayloadException("rle payload holds " + i + " elements, shape needs " + n);
    }
    return TensorData.ofBytes(info, ByteBuffer.wrap(out));
  }

  /**
   * Walks the tokens without decoding them: their counts must add up to {@code n} and their
   * elements must be present, so a shape larger than what the payload expands to is refused
   * before the output is allocated.
   */
  private static void checkTokens(ByteBuffer payload, int n, int w) {
    ByteBuffer in = payload.duplicate();
    long i = 0;
    while (in.hasRemaining()) {
      long token = ByteSink.getVarLong(in);
      long count = token >>> 1;
      if (count < 1 || count > n - i) {
        throw new MalformedPayloadException(
            "rle token of " + count + " elements at element " + i + " overruns the shape's " + n);
      }
      long bytes = (token & 1) != 0 ? w : count * w;
      if (bytes > in.remaining()) {
        throw new MalformedPayloadException("rle token at element " + i + " needs " + bytes + " bytes, "
            + in.remaining() + " are left");
      }
      in.position(in.position() + (int) bytes);
      i += count;
    }
    if (i != n) {
      throw new MalformedPayloadException("rle payload expands to " + i + " elements, the shape needs " + n);
    }
  }

  @Override
  public String describe() {
    return "rle";
  }
}
