package dev.selfbyt.cortexsdr.core.codec;

import dev.selfbyt.cortexsdr.core.tensor.TensorData;
import dev.selfbyt.cortexsdr.core.tensor.TensorInfo;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * Stores a tensor's little-endian bytes as they are, any dtype. With {@link #shuffled()} the bytes
 * are stored as planes (every element's byte 0, then every byte 1, ...), which costs nothing in
 * size and lets the zstd stage compress floating-point tensors by a fifth or more.
 *
 * <p>Params: one byte, bit 0 = shuffled. Payload: {@code numel * dtype.size} bytes.
 */
public final class RawCodec implements TensorCodec {
  private static final RawCodec PLAIN = new RawCodec(false);
  private static final RawCodec SHUFFLED = new RawCodec(true);

  private final boolean shuffle;

  private RawCodec(boolean shuffle) {
    this.shuffle = shuffle;
  }

  public static RawCodec plain() {
    return PLAIN;
  }

  public static RawCodec shuffled() {
    return SHUFFLED;
  }

  static RawCodec fromParams(ByteBuffer params) {
    int flags = params.hasRemaining() ? params.get() & 0xff : 0;
    return (flags & 1) != 0 ? SHUFFLED : PLAIN;
  }

  @Override
  public CodecId id() {
    return CodecId.RAW;
  }

  @Override
  public byte[] params() {
    return new byte[] {(byte) (shuffle ? 1 : 0)};
  }

  @Override
  public boolean isLossless() {
    return true;
  }

  @Override
  public ByteBuffer encode(TensorData data) {
    ByteBuffer src = data.bytes();
    int width = data.info().dtype().size();
    int n = checkedSize(data.info());
    byte[] out = new byte[n];
    if (!shuffle || width == 1) {
      src.get(out);
    } else {
      byte[] in = new byte[n];
      src.get(in);
      int count = n / width;
      for (int b = 0; b < width; b++) {
        int base = b * count;
        for (int i = 0, j = b; i < count; i++, j += width) {
          out[base + i] = in[j];
        }
      }
    }
    return ByteBuffer.wrap(out).order(ByteOrder.LITTLE_ENDIAN);
  }

  @Override
  public TensorData decode(TensorInfo info, ByteBuffer payload) {
    int n = checkedSize(info);
    if (payload.remaining() != n) {
      throw new MalformedPayloadException(
          "raw payload has " + payload.remaining() + " bytes, shape needs " + n);
    }
    int width = info.dtype().size();
    byte[] out = new byte[n];
    if (!shuffle || width == 1) {
      payload.duplicate().get(out);
    } else {
      byte[] in = new byte[n];
      payload.duplicate().get(in);
      int count = n / width;
      for (int b = 0; b < width; b++) {
        int base = b * count;
        for (int i = 0, j = b; i < count; i++, j += width) {
          out[j] = in[base + i];
        }
      }
    }
    return TensorData.ofBytes(info, ByteBuffer.wrap(out));
  }

  static int checkedSize(TensorInfo info) {
    long n = info.byteSize();
    if (n > Integer.MAX_VALUE - 16) {
      throw new IllegalArgumentException(
          "tensor '" + info.name() + "' is " + n + " bytes; one tensor must stay under 2 GiB");
    }
    return (int) n;
  }

  @Override
  public String describe() {
    return shuffle ? "raw shuffled" : "raw";
  }
}
