package dev.selfbyt.cortexsdr.core.codec;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;

/**
 * A growable little-endian byte buffer for building payloads and directory entries, with
 * LEB128 varints. Get one with {@code new ByteSink(initialCapacity)}; {@link #toBuffer()} hands
 * out the bytes without copying.
 */
public final class ByteSink {
  private byte[] buf;
  private int size;

  public ByteSink(int initialCapacity) {
    buf = new byte[Math.max(16, initialCapacity)];
  }

  public int size() {
    return size;
  }

  /** Makes room for {@code n} more bytes and returns the array to write them into at {@link #size()}. */
  public byte[] reserve(int n) {
    long need = (long) size + n;
    if (need > Integer.MAX_VALUE - 16) {
      throw new IllegalStateException("payload over 2 GiB: " + need + " bytes");
    }
    if (need > buf.length) {
      buf = Arrays.copyOf(buf, (int) Math.min(Integer.MAX_VALUE - 16, Math.max(need, 2L * buf.length)));
    }
    return buf;
  }

  /** Marks {@code n} bytes written directly into {@link #reserve(int)}'s array as used. */
  public void advance(int n) {
    size += n;
  }

  public ByteSink put(byte b) {
    reserve(1)[size++] = b;
    return this;
  }

  public ByteSink putU8(int v) {
    return put((byte) v);
  }

  public ByteSink putShort(short v) {
    byte[] a = reserve(2);
    a[size] = (byte) v;
    a[size + 1] = (byte) (v >>> 8);
    size += 2;
    return this;
  }

  public ByteSink putInt(int v) {
    byte[] a = reserve(4);
    for (int i = 0; i < 4; i++) {
      a[size + i] = (byte) (v >>> (8 * i));
    }
    size += 4;
    return this;
  }

  public ByteSink putLong(long v) {
    byte[] a = reserve(8);
    for (int i = 0; i < 8; i++) {
      a[size + i] = (byte) (v >>> (8 * i));
    }
    size += 8;
    return this;
  }

  public ByteSink putFloat(float v) {
    return putInt(Float.floatToRawIntBits(v));
  }

  public ByteSink put(byte[] src, int off, int len) {
    System.arraycopy(src, off, reserve(len), size, len);
    size += len;
    return this;
  }

  public ByteSink put(byte[] src) {
    return put(src, 0, src.length);
  }

  public ByteSink put(ByteBuffer src) {
    int n = src.remaining();
    src.duplicate().get(reserve(n), size, n);
    size += n;
    return this;
  }

  /** Unsigned LEB128. */
  public ByteSink putVarLong(long v) {
    while ((v & ~0x7FL) != 0) {
      put((byte) ((v & 0x7F) | 0x80));
      v >>>= 7;
    }
    return put((byte) v);
  }

  /** A varint length followed by the UTF-8 bytes. */
  public ByteSink putString(String s) {
    byte[] b = s.getBytes(java.nio.charset.StandardCharsets.UTF_8);
    putVarLong(b.length);
    return put(b);
  }

  /** The bytes written so far, little-endian, without copying. */
  public ByteBuffer toBuffer() {
    return ByteBuffer.wrap(buf, 0, size).slice().order(ByteOrder.LITTLE_ENDIAN);
  }

  public byte[] toArray() {
    return Arrays.copyOf(buf, size);
  }

  /**
   * Reads an unsigned LEB128 varint at the buffer's position, advancing it.
   *
   * @throws MalformedPayloadException when the buffer ends inside it or it is longer than 10 bytes
   */
  public static long getVarLong(ByteBuffer b) {
    long v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (!b.hasRemaining()) {
        throw new MalformedPayloadException("varint cut off by the end of the data");
      }
      byte x = b.get();
      v |= (long) (x & 0x7F) << shift;
      if (x >= 0) {
        return v;
      }
    }
    throw new MalformedPayloadException("varint longer than 10 bytes");
  }

  /** Reads a varint that must fit an int in {@code [0, max]}. */
  public static int getVarInt(ByteBuffer b, long max, String what) {
    long v = getVarLong(b);
    if (v < 0 || v > max || v > Integer.MAX_VALUE) {
      throw new MalformedPayloadException(what + " out of range: " + v);
    }
    return (int) v;
  }

  /** Reads a varint-prefixed UTF-8 string. */
  public static String getString(ByteBuffer b) {
    int n = getVarInt(b, b.remaining(), "string length");
    byte[] s = new byte[n];
    b.get(s);
    return new String(s, java.nio.charset.StandardCharsets.UTF_8);
  }
}
