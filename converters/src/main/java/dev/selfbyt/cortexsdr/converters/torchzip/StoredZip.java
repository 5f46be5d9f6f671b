package dev.selfbyt.cortexsdr.converters.torchzip;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The central directory of a zip file (zip64 included), checked against the file: every entry's
 * local header and data lie inside the file, before the directory. {@code torch.save} stores its
 * records uncompressed, so an entry's bytes can be memory-mapped where they are ({@link
 * Entry#dataOffset()}). Read one with {@link #read}; entries keep the order of the directory.
 */
public final class StoredZip {
  /** The largest central directory read (a torch file has a few entries per tensor). */
  public static final long MAX_DIRECTORY_BYTES = 64L << 20;

  /** One entry: name, compression method (0 = stored), sizes, CRC-32 and where its data starts. */
  public record Entry(String name, int method, long compressedSize, long size, long crc, long dataOffset) {}

  private final Map<String, Entry> entries;

  private StoredZip(Map<String, Entry> entries) {
    this.entries = entries;
  }

  /** The entries by name, in directory order. */
  public Map<String, Entry> entries() {
    return Collections.unmodifiableMap(entries);
  }

  /**
   * Reads and checks the directory of the zip open in {@code ch}.
   *
   * @throws TorchZipException naming the problem (and the entry): no end record (not a zip, or
   *     truncated), a directory or entry outside the file, a duplicated name
   * @throws IOException when the channel cannot be read
   */
  public static StoredZip read(FileChannel ch) throws IOException, TorchZipException {
    long size = ch.size();
    int tail = (int) Math.min(size, 22 + 65535);
    ByteBuffer end = read(ch, size - tail, tail);
    int eocd = -1;
    for (int i = tail - 22; i >= 0; i--) {
      if (end.getInt(i) == 0x06054b50 && i + 22 + (end.getShort(i + 20) & 0xffff) == tail) {
        eocd = i;
        break;
      }
    }
    if (eocd < 0) {
      throw new TorchZipException(null, "no zip end record: the file is truncated or not a zip");
    }
    long count = end.getShort(eocd + 10) & 0xffff;
    long cdSize = end.getInt(eocd + 12) & 0xffffffffL;
    long cdOffset = end.getInt(eocd + 16) & 0xffffffffL;
    long eocdAt = size - tail + eocd;
    if (count == 0xffff || cdSize == 0xffffffffL || cdOffset == 0xffffffffL) {
      if (eocdAt < 20) {
        throw new TorchZipException(null, "zip64 end record locator missing: the file is damaged");
      }
      ByteBuffer loc = read(ch, eocdAt - 20, 20);
      if (loc.getInt(0) != 0x07064b50) {
        throw new TorchZipException(null, "zip64 end record locator missing: the file is damaged");
      }
      long z = loc.getLong(8);
      if (z < 0 || z > eocdAt - 20 - 56) {
        throw new TorchZipException(null, "zip64 end record at " + z + " lies outside the file");
      }
      ByteBuffer z64 = read(ch, z, 56);
      if (z64.getInt(0) != 0x06064b50) {
        throw new TorchZipException(null, "no zip64 end record where its locator says: damaged");
      }
      count = z64.getLong(32);
      cdSize = z64.getLong(40);
      cdOffset = z64.getLong(48);
      eocdAt = z;
    }
    if (cdOffset < 0 || cdSize < 0 || cdOffset > eocdAt || cdSize > eocdAt - cdOffset) {
      throw new TorchZipException(null, "zip directory [" + cdOffset + ", +" + cdSize
          + "] lies outside the file (" + size + " bytes): truncated or damaged");
    }
    if (cdSize > MAX_DIRECTORY_BYTES || count > cdSize / 46) {
      throw new TorchZipException(null, "zip directory of " + count + " entries in " + cdSize
          + " bytes: damaged");
    }
    ByteBuffer cd = read(ch, cdOffset, (int) cdSize);
    Map<String, Entry> entries = new LinkedHashMap<>();
    int p = 0;
    for (long i = 0; i < count; i++) {
      if (p + 46 > cd.limit() || cd.getInt(p) != 0x02014b50) {
        throw new TorchZipException(null, "zip directory entry " + i + " is damaged");
      }
      int method = cd.getShort(p + 10) & 0xffff;
      long crc = cd.getInt(p + 16) & 0xffffffffL;
      long csize = cd.getInt(p + 20) & 0xffffffffL;
      long usize = cd.getInt(p + 24) & 0xffffffffL;
      int nameLen = cd.getShort(p + 28) & 0xffff;
      int extraLen = cd.getShort(p + 30) & 0xffff;
      int commentLen = cd.getShort(p + 32) & 0xffff;
      long local = cd.getInt(p + 42) & 0xffffffffL;
      if (p + 46L + nameLen + extraLen + commentLen > cd.limit()) {
        throw new TorchZipException(null, "zip directory entry " + i + " runs past the directory");
      }
      byte[] nameBytes = new byte[nameLen];
      cd.get(p + 46, nameBytes);
      String name = new String(nameBytes, StandardCharsets.UTF_8);
      int x = p + 46 + nameLen;
      int xEnd = x + extraLen;
      while (x + 4 <= xEnd) { // zip64: the 0xffffffff fields, in order
        int id = cd.getShort(x) & 0xffff;
        int len = cd.getShort(x + 2) & 0xffff;
        int q = x + 4;
        if (id == 1) {
          if (usize == 0xffffffffL && q + 8 <= xEnd) {
            usize = cd.getLong(q);
            q += 8;
          }
          if (csize == 0xffffffffL && q + 8 <= xEnd) {
            csize = cd.getLong(q);
            q += 8;
          }
          if (local == 0xffffffffL && q + 8 <= xEnd) {
            local = cd.getLong(q);
          }
        }
        x += 4 + len;
      }
      p += 46 + nameLen + extraLen + commentLen;
      if (local < 0 || local > cdOffset - 30) {
        throw new TorchZipException(name, "zip entry's local header at " + local + " is outside the file");
      }
      ByteBuffer lh = read(ch, local, 30);
      if (lh.getInt(0) != 0x04034b50) {
        throw new TorchZipException(name, "no zip local header where the directory says: damaged");
      }
      long data = local + 30 + (lh.getShort(26) & 0xffff) + (lh.getShort(28) & 0xffff);
      if (csize < 0 || usize < 0 || data > cdOffset || csize > cdOffset - data) {
        throw new TorchZipException(name, "zip entry data [" + data + ", +" + csize
            + "] runs past the file's data: truncated or damaged");
      }
      if (entries.put(name, new Entry(name, method, csize, usize, crc, data)) != null) {
        throw new TorchZipException(name, "two zip entries share this name");
      }
    }
    return new StoredZip(entries);
  }

  /** Names in directory order. */
  public List<String> names() {
    return new ArrayList<>(entries.keySet());
  }

  private static ByteBuffer read(FileChannel ch, long at, int n) throws IOException, TorchZipException {
    ByteBuffer b = ByteBuffer.allocate(n).order(ByteOrder.LITTLE_ENDIAN);
    while (b.hasRemaining()) {
      if (ch.read(b, at + b.position()) < 0) {
        throw new TorchZipException(null, "truncated zip");
      }
    }
    return b.flip();
  }
}
