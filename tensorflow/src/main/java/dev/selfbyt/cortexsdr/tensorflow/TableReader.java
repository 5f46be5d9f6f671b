package dev.selfbyt.cortexsdr.tensorflow;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.CRC32C;

/**
 * Reads TensorFlow's sorted string table (the LevelDB table format that {@code variables.index}
 * is written in) from its bytes into an ordered list of key/value pairs.
 *
 * <p>Layout, as TensorFlow's {@code tensorflow/core/lib/io/table_builder.cc} writes it: data
 * blocks, a metaindex block, an index block, and a 48-byte footer (two varint block handles padded
 * to 40 bytes, then the magic {@code 0xdb4775248b80fb57}). A block is a run of prefix-compressed
 * entries ({@code shared, unshared, valueLength} varints, the key's new bytes, the value), then the
 * restart offsets and their count; each block is followed by a compression byte and the masked
 * CRC32C of block plus that byte. Checkpoint tables are never compressed; a compressed block is
 * refused. Every offset is checked against the file so that a damaged index gives a {@link
 * IllegalArgumentException} with the cause, never an index out of bounds.
 */
final class TableReader {
  static final long MAGIC = 0xdb4775248b80fb57L;
  static final int FOOTER = 48;

  /** One entry of the table. */
  record Entry(String key, byte[] value) {}

  private TableReader() {}

  /** All entries, in key order. */
  static List<Entry> read(byte[] file) {
    if (file.length < FOOTER) {
      throw new IllegalArgumentException("only " + file.length + " bytes, shorter than a table footer (48)");
    }
    ByteBuffer f = ByteBuffer.wrap(file).order(ByteOrder.LITTLE_ENDIAN);
    if (f.getLong(file.length - 8) != MAGIC) {
      throw new IllegalArgumentException("no table magic number at its end (not a TensorFlow checkpoint index, "
          + "or truncated)");
    }
    int[] pos = {file.length - FOOTER};
    varint(file, pos, file.length); // metaindex offset: empty in checkpoints, not needed
    varint(file, pos, file.length);
    long indexOffset = varint(file, pos, file.length);
    long indexSize = varint(file, pos, file.length);
    List<Entry> out = new ArrayList<>();
    for (Entry handle : entries(block(file, indexOffset, indexSize))) {
      int[] p = {0};
      byte[] h = handle.value();
      long off = varint(h, p, h.length);
      long size = varint(h, p, h.length);
      out.addAll(entries(block(file, off, size)));
    }
    return out;
  }

  /** The contents of the block at {@code offset} of {@code size} bytes, checksum verified. */
  private static ByteBuffer block(byte[] file, long offset, long size) {
    if (offset < 0 || size < 8 || offset > file.length - FOOTER || size + 5 > file.length - FOOTER - offset) {
      throw new IllegalArgumentException("a block handle (offset " + offset + ", " + size
          + " bytes) points outside the file of " + file.length + " bytes");
    }
    int o = (int) offset;
    int n = (int) size;
    int type = file[o + n] & 0xff;
    if (type != 0) {
      throw new IllegalArgumentException("a block at offset " + offset + " is compressed (type " + type
          + "); TensorFlow writes checkpoint indexes uncompressed");
    }
    CRC32C crc = new CRC32C();
    crc.update(file, o, n + 1);
    int stored = ByteBuffer.wrap(file, o + n + 1, 4).order(ByteOrder.LITTLE_ENDIAN).getInt();
    if (stored != mask((int) crc.getValue())) {
      throw new IllegalArgumentException("checksum mismatch in the block at offset " + offset + " (damaged file)");
    }
    return ByteBuffer.wrap(file, o, n).slice().order(ByteOrder.LITTLE_ENDIAN);
  }

  private static List<Entry> entries(ByteBuffer block) {
    int n = block.limit();
    int restarts = block.getInt(n - 4);
    if (restarts < 0 || restarts > (n - 4) / 4) {
      throw new IllegalArgumentException("a block claims " + restarts + " restart points in " + n + " bytes");
    }
    int end = n - 4 - 4 * restarts;
    byte[] b = new byte[n];
    block.get(0, b);
    List<Entry> out = new ArrayList<>();
    byte[] key = new byte[0];
    int[] p = {0};
    while (p[0] < end) {
      long shared = varint(b, p, end);
      long unshared = varint(b, p, end);
      long valueLength = varint(b, p, end);
      if (shared > key.length || unshared > end - p[0] || valueLength > end - p[0] - unshared) {
        throw new IllegalArgumentException("a block entry at offset " + p[0] + " runs past its block");
      }
      byte[] k = new byte[(int) (shared + unshared)];
      System.arraycopy(key, 0, k, 0, (int) shared);
      System.arraycopy(b, p[0], k, (int) shared, (int) unshared);
      p[0] += (int) unshared;
      byte[] v = new byte[(int) valueLength];
      System.arraycopy(b, p[0], v, 0, v.length);
      p[0] += v.length;
      key = k;
      out.add(new Entry(new String(k, StandardCharsets.UTF_8), v));
    }
    return out;
  }

  static long varint(byte[] b, int[] pos, int end) {
    long v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (pos[0] >= end) {
        throw new IllegalArgumentException("a varint runs past its block");
      }
      int x = b[pos[0]++] & 0xff;
      v |= (long) (x & 0x7f) << shift;
      if (x < 0x80) {
        return v;
      }
    }
    throw new IllegalArgumentException("a varint longer than 10 bytes");
  }

  /** LevelDB's checksum masking: stored CRCs of data that holds CRCs must not look like CRCs. */
  static int mask(int crc) {
    return ((crc >>> 15) | (crc << 17)) + 0xa282ead8;
  }

  /** The masked CRC32C of {@code len} bytes of {@code b}, as checkpoint entries store it. */
  static int maskedCrc(ByteBuffer b) {
    CRC32C crc = new CRC32C();
    crc.update(b.duplicate());
    return mask((int) crc.getValue());
  }
}
