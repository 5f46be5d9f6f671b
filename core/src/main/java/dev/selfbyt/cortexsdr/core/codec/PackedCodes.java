package dev.selfbyt.cortexsdr.core.codec;

/**
 * Low-bit integer codes packed LSB first: code {@code i} of width {@code bits} (1 to 8) occupies
 * bits {@code [i * bits, (i + 1) * bits)} of the byte run, the last byte zero-padded. At 4 bits,
 * element {@code 2i} sits in the low nibble of byte {@code i} (the layout of ONNX's uint4 and of
 * {@code MatMulNBits}). The one packer every codec, kernel and exporter shares.
 */
public final class PackedCodes {
  private PackedCodes() {}

  /** Bytes taken by {@code count} codes of {@code bits} bits. */
  public static long bytes(long count, int bits) {
    return (count * bits + 7) / 8;
  }

  /** Packs {@code codes[from .. from + n)} (unsigned, below {@code 2^bits}) into {@code out} at {@code off}. */
  public static void pack(byte[] codes, int from, int n, int bits, byte[] out, int off) {
    if (bits == 8) {
      System.arraycopy(codes, from, out, off, n);
    } else if (bits == 4) {
      int pairs = n >> 1;
      for (int i = 0; i < pairs; i++) {
        out[off + i] = (byte) ((codes[from + 2 * i] & 0xf) | (codes[from + 2 * i + 1] << 4));
      }
      if ((n & 1) != 0) {
        out[off + pairs] = (byte) (codes[from + n - 1] & 0xf);
      }
    } else {
      long acc = 0;
      int nb = 0;
      int p = off;
      for (int i = 0; i < n; i++) {
        acc |= (long) (codes[from + i] & 0xff) << nb;
        nb += bits;
        while (nb >= 8) {
          out[p++] = (byte) acc;
          acc >>>= 8;
          nb -= 8;
        }
      }
      if (nb > 0) {
        out[p] = (byte) acc;
      }
    }
  }

  /** Packs int values (each below {@code 2^bits}), e.g. zero points or tier indices. */
  public static void packInts(int[] v, int bits, byte[] out, int off) {
    packInts(v, 0, v.length, bits, out, off);
  }

  /**
   * Packs {@code v[from .. from + n)} (each below {@code 2^bits}). Zero points and tier indices
   * are one per group or fiber, few next to the codes: they go through a byte copy to {@link
   * #pack} rather than a bit loop of their own.
   */
  public static void packInts(int[] v, int from, int n, int bits, byte[] out, int off) {
    byte[] b = new byte[n];
    for (int i = 0; i < n; i++) {
      b[i] = (byte) v[from + i];
    }
    pack(b, 0, n, bits, out, off);
  }

  /** Unpacks {@code n} codes from {@code in} at {@code off} into {@code codes[to ..]}, one per byte. */
  public static void unpack(byte[] in, int off, int n, int bits, byte[] codes, int to) {
    if (bits == 8) {
      System.arraycopy(in, off, codes, to, n);
    } else if (bits == 4) {
      int pairs = n >> 1;
      for (int i = 0; i < pairs; i++) {
        byte b = in[off + i];
        codes[to + 2 * i] = (byte) (b & 0xf);
        codes[to + 2 * i + 1] = (byte) ((b >> 4) & 0xf);
      }
      if ((n & 1) != 0) {
        codes[to + n - 1] = (byte) (in[off + pairs] & 0xf);
      }
    } else {
      int mask = (1 << bits) - 1;
      int p = off;
      int i = 0;
      for (; i + 8 <= n; i += 8, p += bits) {
        long w = group(in, p, bits);
        for (int q = 0; q < 8; q++) {
          codes[to + i + q] = (byte) ((w >>> (q * bits)) & mask);
        }
      }
      long acc = 0;
      int nb = 0;
      for (; i < n; i++) {
        while (nb < bits) {
          acc |= (long) (in[p++] & 0xff) << nb;
          nb += 8;
        }
        codes[to + i] = (byte) (acc & mask);
        acc >>>= bits;
        nb -= bits;
      }
    }
  }

  /**
   * {@code dst[to + i] = (code_i - zero) * scale} for the {@code n} codes of the run starting at
   * byte {@code off} (widths other than 8 and 4 included): what a kernel decoding a row of a
   * quantized weight needs, in one pass, each value as {@code (get(...) - zero) * scale} gives it.
   * A 7-bit embedding table's 128 rows of 384 in the DJL engine: 105 us code by code, 85 us so.
   */
  public static void unpackScaled(byte[] in, int off, int n, int bits, float zero, float scale, float[] dst,
      int to) {
    int i = 0;
    if (bits < 8) {
      int mask = (1 << bits) - 1;
      for (int p = off; i + 8 <= n; i += 8, p += bits) {
        long w = group(in, p, bits);
        for (int q = 0; q < 8; q++) {
          dst[to + i + q] = ((int) ((w >>> (q * bits)) & mask) - zero) * scale;
        }
      }
    }
    for (; i < n; i++) {
      dst[to + i] = (get(in, off, i, bits) - zero) * scale;
    }
  }

  /**
   * Eight codes of {@code bits} (below 8) bits fill exactly {@code bits} bytes: those from {@code
   * p} as one little-endian word, code {@code q} in bits {@code [q * bits, (q + 1) * bits)}.
   */
  private static long group(byte[] in, int p, int bits) {
    long w = 0;
    for (int b = 0; b < bits; b++) {
      w |= (in[p + b] & 0xffL) << (8 * b);
    }
    return w;
  }

  /** Code {@code i} of the run starting at byte {@code off}: random access, for kernels. */
  public static int get(byte[] in, int off, int i, int bits) {
    long bit = (long) i * bits;
    int p = off + (int) (bit >>> 3);
    int shift = (int) (bit & 7);
    int v = in[p] & 0xff;
    if (shift + bits > 8) {
      v |= (in[p + 1] & 0xff) << 8;
    }
    return (v >>> shift) & ((1 << bits) - 1);
  }

  /** Unpacks {@code count} codes as ints. */
  public static int[] unpackInts(byte[] in, int off, int count, int bits) {
    byte[] b = new byte[count];
    unpack(in, off, count, bits, b, 0);
    int[] v = new int[count];
    for (int i = 0; i < count; i++) {
      v[i] = b[i] & 0xff;
    }
    return v;
  }
}
