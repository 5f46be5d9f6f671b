package dev.selfbyt.cortexsdr.it.fuzz;

import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.zip.CRC32C;

/**
 * Best-effort checksum repair of arbitrary bytes laid out like a {@code .cai} file, for the
 * raw-bytes fuzz target: libFuzzer's byte mutations land anywhere, and this puts back the header
 * CRC, each uncompressed directory entry's payload CRC, the segment CRCs, the whole-file CRC and
 * the footer CRC wherever the (mutated) offsets still point inside the file. Whatever cannot be
 * located is left as it is, so a damaged checksum is still a possible input.
 */
final class ChecksumRepair {
  private ChecksumRepair() {}

  static byte[] repair(byte[] in) {
    byte[] b = in.clone();
    int n = b.length;
    ByteBuffer le = ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
    if (n >= CaiImage.HEADER) {
      le.putInt(28, CaiImage.crc(b, 0, 28));
    }
    if (n < CaiImage.HEADER + CaiImage.FOOTER) {
      return b;
    }
    int footer = n - CaiImage.FOOTER;
    long dirOff = le.getLong(footer + 16);
    if (inside(dirOff, 24, footer) && (b[(int) dirOff + 4] & 1) == 0) {
      repairPayloadCrcs(le, (int) dirOff, footer);
    }
    for (int k = 0; k < 3; k++) {
      long off = le.getLong(footer + 8 * k);
      if (inside(off, 24, footer)) {
        long stored = le.getLong((int) off + 8);
        if (stored >= 0 && inside(off, 24 + stored + 4, footer)) {
          int len = (int) (24 + stored);
          le.putInt((int) off + len, CaiImage.crc(b, (int) off, len));
        }
      }
    }
    CRC32C whole = new CRC32C();
    whole.update(b, 0, footer + 24);
    le.putInt(footer + 24, (int) whole.getValue());
    le.putInt(footer + 28, CaiImage.crc(b, footer, 28));
    return b;
  }

  private static boolean inside(long off, long len, long end) {
    return off >= 0 && len >= 0 && off <= end && len <= end - off;
  }

  /** Walks an uncompressed directory and sets each entry's CRC field to its payload's CRC. */
  private static void repairPayloadCrcs(ByteBuffer le, int dirOff, int footer) {
    long stored = le.getLong(dirOff + 8);
    if (!inside(dirOff, 24 + stored, footer)) {
      return;
    }
    ByteBuffer d = le.duplicate().order(ByteOrder.LITTLE_ENDIAN).position(dirOff + 24).limit((int) (dirOff + 24 + stored));
    try {
      long count = CaiImage.varint(d);
      for (long i = 0; i < count && d.hasRemaining(); i++) {
        long len = CaiImage.varint(d);
        if (len < 0 || len > d.remaining()) {
          return;
        }
        int start = d.position();
        d.position(start + (int) CaiImage.varint(d)); // name
        d.get();
        d.get();
        CaiImage.varint(d);
        long rank = CaiImage.varint(d);
        for (long k = 0; k < rank && k < 64; k++) {
          CaiImage.varint(d);
        }
        d.get();
        d.position(d.position() + (int) CaiImage.varint(d)); // params
        d.get();
        long offset = d.getLong();
        long n = d.getLong();
        d.getLong();
        int crcAt = d.position();
        if (inside(offset, n, footer)) {
          CRC32C c = new CRC32C();
          c.update(le.duplicate().position((int) offset).limit((int) (offset + n)));
          le.putInt(crcAt, (int) c.getValue());
        }
        d.position(start + (int) len);
      }
    } catch (BufferUnderflowException | IllegalArgumentException e) {
      // a directory too damaged to walk: leave the rest of its CRCs as they are
    }
  }
}
