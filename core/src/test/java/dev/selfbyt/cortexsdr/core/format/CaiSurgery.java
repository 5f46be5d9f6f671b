package dev.selfbyt.cortexsdr.core.format;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.CRC32C;

/**
 * Test helper that edits a {@code .cai} file the way a newer writer or a bit flip would, and
 * (for "newer writer" edits) fixes the checksums so that only the edit itself is seen.
 */
final class CaiSurgery {
  final byte[] bytes;

  CaiSurgery(Path file) throws IOException {
    bytes = Files.readAllBytes(file);
  }

  ByteBuffer le() {
    return ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
  }

  long footerLong(int i) {
    return le().getLong(bytes.length - CaiFormat.FOOTER_SIZE + 8 * i);
  }

  long manifestOffset() {
    return footerLong(0);
  }

  long graphOffset() {
    return footerLong(1);
  }

  long directoryOffset() {
    return footerLong(2);
  }

  /** Offset of the directory segment's data (uncompressed files only). */
  int directoryData() {
    return (int) directoryOffset() + CaiFormat.SEGMENT_HEADER_SIZE;
  }

  /** Offset, in the file, of the codec byte of the first directory entry. */
  int firstEntryCodecByte() {
    ByteBuffer b = le().position(directoryData());
    varint(b); // count
    varint(b); // entry length
    int nameLen = (int) varint(b);
    b.position(b.position() + nameLen + 2); // name, dtype, role
    varint(b); // axis
    int rank = (int) varint(b);
    for (int i = 0; i < rank; i++) {
      varint(b);
    }
    return b.position();
  }

  /** Offset of the first entry's dtype byte. */
  int firstEntryDTypeByte() {
    ByteBuffer b = le().position(directoryData());
    varint(b);
    varint(b);
    int nameLen = (int) varint(b);
    return b.position() + nameLen;
  }

  /** Offset of the first entry's u64 payload offset (stored length, raw length, CRC follow). */
  int firstEntryOffsetField() {
    ByteBuffer b = le().position(firstEntryCodecByte() + 1);
    int plen = (int) varint(b);
    return b.position() + plen + 1; // params, flags
  }

  /** Recomputes the CRC trailer of the segment at {@code off} (after editing its header or data). */
  CaiSurgery fixSegmentChecksum(int off) {
    ByteBuffer b = le();
    int stored = (int) b.getLong(off + 8);
    b.putInt(off + CaiFormat.SEGMENT_HEADER_SIZE + stored, crc(off, CaiFormat.SEGMENT_HEADER_SIZE + stored));
    return this;
  }

  private static long varint(ByteBuffer b) {
    long v = 0;
    for (int s = 0; ; s += 7) {
      byte x = b.get();
      v |= (long) (x & 0x7f) << s;
      if (x >= 0) {
        return v;
      }
    }
  }

  /** Recomputes the header, directory, footer and whole-file checksums after an edit. */
  CaiSurgery fixChecksums() {
    ByteBuffer b = le();
    b.putInt(28, crc(0, 28));
    int dir = (int) directoryOffset();
    int stored = (int) b.getLong(dir + 8);
    b.putInt(dir + CaiFormat.SEGMENT_HEADER_SIZE + stored, crc(dir, CaiFormat.SEGMENT_HEADER_SIZE + stored));
    int footer = bytes.length - CaiFormat.FOOTER_SIZE;
    b.putInt(footer + 24, crc(0, footer + 24));
    b.putInt(footer + 28, crc(footer, 28));
    return this;
  }

  private int crc(int off, int len) {
    CRC32C c = new CRC32C();
    c.update(bytes, off, len);
    return (int) c.getValue();
  }

  void writeTo(Path p) throws IOException {
    Files.write(p, bytes);
  }
}
