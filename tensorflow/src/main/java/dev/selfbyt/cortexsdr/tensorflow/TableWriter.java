package dev.selfbyt.cortexsdr.tensorflow;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.zip.CRC32C;

/**
 * Writes TensorFlow's sorted string table (the format {@link TableReader} reads): keys added in
 * strictly increasing byte order, prefix-compressed with a restart point every 16 entries, data
 * blocks of about 256 KiB (TensorFlow's default), an empty metaindex, an index block whose keys are
 * LevelDB's short separators between blocks (the short successor after the last one), and the
 * footer. Uncompressed, as TensorFlow writes checkpoints; for the same entries the bytes are
 * TensorFlow's.
 */
final class TableWriter {
  private static final int BLOCK_SIZE = 256 * 1024;
  private static final int RESTART_INTERVAL = 16;

  private final ByteArrayOutputStream file = new ByteArrayOutputStream();
  private final BlockBuilder data = new BlockBuilder(RESTART_INTERVAL);
  private final BlockBuilder index = new BlockBuilder(1);
  private byte[] lastKey;
  /** The handle of the last flushed data block, whose index entry waits for the next key. */
  private byte[] pendingHandle;

  /** Adds one entry; keys must come in increasing unsigned byte order. */
  TableWriter add(String key, byte[] value) {
    byte[] k = key.getBytes(StandardCharsets.UTF_8);
    if (lastKey != null && Arrays.compareUnsigned(lastKey, k) >= 0) {
      throw new IllegalArgumentException("table keys out of order: '" + key + "' after '"
          + new String(lastKey, StandardCharsets.UTF_8) + "'");
    }
    if (pendingHandle != null) {
      index.add(separator(lastKey, k), pendingHandle);
      pendingHandle = null;
    }
    data.add(k, value);
    lastKey = k;
    if (data.size() >= BLOCK_SIZE) {
      flushData();
    }
    return this;
  }

  /** The whole table. */
  byte[] finish() {
    if (!data.isEmpty()) {
      flushData();
    }
    if (pendingHandle != null) {
      index.add(successor(lastKey), pendingHandle);
      pendingHandle = null;
    }
    byte[] meta = writeBlock(new BlockBuilder(1).finish());
    byte[] idx = writeBlock(index.finish());
    ByteBuffer footer = ByteBuffer.allocate(TableReader.FOOTER).order(ByteOrder.LITTLE_ENDIAN);
    footer.put(meta).put(idx);
    footer.putLong(TableReader.FOOTER - 8, TableReader.MAGIC);
    file.writeBytes(footer.array());
    return file.toByteArray();
  }

  private void flushData() {
    pendingHandle = writeBlock(data.finish());
    data.reset();
  }

  /** Writes a block and its trailer; returns its handle (offset, size as varints). */
  private byte[] writeBlock(byte[] contents) {
    long offset = file.size();
    file.writeBytes(contents);
    CRC32C crc = new CRC32C();
    crc.update(contents);
    crc.update(0);
    ByteBuffer trailer = ByteBuffer.allocate(5).order(ByteOrder.LITTLE_ENDIAN);
    trailer.put((byte) 0).putInt(TableReader.mask((int) crc.getValue()));
    file.writeBytes(trailer.array());
    ByteArrayOutputStream h = new ByteArrayOutputStream();
    varint(h, offset);
    varint(h, contents.length);
    return h.toByteArray();
  }

  /** LevelDB's {@code FindShortestSeparator}: a short key in {@code [start, limit)}. */
  static byte[] separator(byte[] start, byte[] limit) {
    int n = Math.min(start.length, limit.length);
    int i = 0;
    while (i < n && start[i] == limit[i]) {
      i++;
    }
    if (i < n) {
      int b = start[i] & 0xff;
      if (b < 0xff && b + 1 < (limit[i] & 0xff)) {
        byte[] out = Arrays.copyOf(start, i + 1);
        out[i]++;
        return out;
      }
    }
    return start;
  }

  /** LevelDB's {@code FindShortSuccessor}: a short key at or after {@code key}. */
  static byte[] successor(byte[] key) {
    for (int i = 0; i < key.length; i++) {
      if ((key[i] & 0xff) != 0xff) {
        byte[] out = Arrays.copyOf(key, i + 1);
        out[i]++;
        return out;
      }
    }
    return key;
  }

  static void varint(ByteArrayOutputStream out, long v) {
    while ((v & ~0x7fL) != 0) {
      out.write((int) (v & 0x7f) | 0x80);
      v >>>= 7;
    }
    out.write((int) v);
  }

  /** Entries of one block with their restart points. */
  private static final class BlockBuilder {
    private final int interval;
    private final ByteArrayOutputStream buf = new ByteArrayOutputStream();
    private final List<Integer> restarts = new ArrayList<>(List.of(0));
    private byte[] last = new byte[0];
    private int counter;

    BlockBuilder(int interval) {
      this.interval = interval;
    }

    void add(byte[] key, byte[] value) {
      int shared = 0;
      if (counter < interval) {
        int max = Math.min(last.length, key.length);
        while (shared < max && last[shared] == key[shared]) {
          shared++;
        }
      } else {
        restarts.add(buf.size());
        counter = 0;
      }
      varint(buf, shared);
      varint(buf, key.length - shared);
      varint(buf, value.length);
      buf.write(key, shared, key.length - shared);
      buf.writeBytes(value);
      last = key;
      counter++;
    }

    int size() {
      return buf.size() + 4 * restarts.size() + 4;
    }

    boolean isEmpty() {
      return buf.size() == 0;
    }

    byte[] finish() {
      ByteBuffer tail = ByteBuffer.allocate(4 * restarts.size() + 4).order(ByteOrder.LITTLE_ENDIAN);
      restarts.forEach(tail::putInt);
      tail.putInt(restarts.size());
      buf.writeBytes(tail.array());
      return buf.toByteArray();
    }

    void reset() {
      buf.reset();
      restarts.clear();
      restarts.add(0);
      last = new byte[0];
      counter = 0;
    }
  }
}
