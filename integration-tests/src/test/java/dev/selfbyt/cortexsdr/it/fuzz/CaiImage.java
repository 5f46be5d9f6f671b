package dev.selfbyt.cortexsdr.it.fuzz;

import com.github.luben.zstd.Zstd;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.zip.CRC32C;

/**
 * A {@code .cai} file taken apart into editable fields (docs/cai-format.md), and put back
 * together with every derived value recomputed: payload offsets, stored and raw lengths, payload
 * CRC32Cs, segment CRCs, the file id, the header CRC, the whole-file CRC and the footer CRC. A
 * fuzzer edits fields of an image, so its mutations get past the checksums and reach the parsers
 * and decoders behind them; an {@code ...Override} field forces one derived value instead.
 *
 * <p>Parsed by its own code, not by {@code CaiReader}: the fuzzer must not inherit the reader's
 * assumptions. Only valid files are parsed (the seeds); any file can be written.
 */
final class CaiImage {
  static final byte[] MAGIC = {(byte) 0x89, 'C', 'A', 'I', '\r', '\n', 0x1a, '\n'};
  static final byte[] FOOTER_MAGIC = {'C', 'A', 'I', 'F', 'O', 'O', 'T', 0};
  static final int HEADER = 32;
  static final int FOOTER = 40;

  int major = 1;
  int minor = 0;
  Segment manifest;
  Segment graph;
  /** Directory segment: its data is rebuilt from {@link #entries} unless {@code data} is overridden. */
  Segment directory;
  List<Entry> entries = new ArrayList<>();
  /** Written as the directory's entry count instead of {@code entries.size()}. */
  Long countOverride;
  /** Bytes after the last entry in the directory data. */
  byte[] directoryTrailer = new byte[0];
  /** Footer offsets written instead of the real ones (null: real). */
  Long manifestOffsetOverride;
  Long graphOffsetOverride;
  Long directoryOffsetOverride;
  /** Bytes appended after the footer, or a cut of the file's end (negative). */
  int tailDelta;

  /** One segment (manifest, graph or directory). */
  static final class Segment {
    int tag;
    int flags;
    byte[] data;
    Long rawLengthOverride;
    Long storedLengthOverride;
    byte[] storedOverride;

    Segment(int tag, int flags, byte[] data) {
      this.tag = tag;
      this.flags = flags;
      this.data = data;
    }

    Segment copy() {
      Segment s = new Segment(tag, flags, data.clone());
      s.rawLengthOverride = rawLengthOverride;
      s.storedLengthOverride = storedLengthOverride;
      s.storedOverride = storedOverride == null ? null : storedOverride.clone();
      return s;
    }
  }

  /** One directory entry and its payload, kept before the zstd stage. */
  static final class Entry {
    byte[] name;
    int dtype;
    int role;
    long axis;
    long[] shape;
    Long rankOverride;
    int codec;
    byte[] params;
    int flags;
    /** The codec payload (after zstd decompression when flag bit 0 is set). */
    byte[] payload;
    float nmse;
    float maxAbs;
    byte[] extra = new byte[0];
    Long offsetOverride;
    Long storedOverride;
    Long rawOverride;
    Integer crcOverride;
    /** Stored bytes written instead of {@code payload} (through zstd when flagged). */
    byte[] storedBytesOverride;
    /** The last zstd input and output: most inputs leave most payloads as they were. */
    private byte[] zstdIn;
    private byte[] zstdOut;

    byte[] compressed(byte[] raw) {
      if (raw != zstdIn) {
        zstdOut = Zstd.compress(raw, 1);
        zstdIn = raw;
      }
      return zstdOut;
    }

    Entry copy() {
      Entry e = new Entry();
      e.name = name.clone();
      e.dtype = dtype;
      e.role = role;
      e.axis = axis;
      e.shape = shape.clone();
      e.rankOverride = rankOverride;
      e.codec = codec;
      e.params = params.clone();
      e.flags = flags;
      e.payload = payload.clone();
      e.nmse = nmse;
      e.maxAbs = maxAbs;
      e.extra = extra.clone();
      e.offsetOverride = offsetOverride;
      e.storedOverride = storedOverride;
      e.rawOverride = rawOverride;
      e.crcOverride = crcOverride;
      e.storedBytesOverride = storedBytesOverride == null ? null : storedBytesOverride.clone();
      if (payload == zstdIn) {
        e.zstdIn = e.payload;
        e.zstdOut = zstdOut;
      }
      return e;
    }

    String nameString() {
      return new String(name, StandardCharsets.UTF_8);
    }
  }

  CaiImage copy() {
    CaiImage c = new CaiImage();
    c.major = major;
    c.minor = minor;
    c.manifest = manifest.copy();
    c.graph = graph.copy();
    c.directory = directory.copy();
    for (Entry e : entries) {
      c.entries.add(e.copy());
    }
    c.countOverride = countOverride;
    c.directoryTrailer = directoryTrailer.clone();
    c.manifestOffsetOverride = manifestOffsetOverride;
    c.graphOffsetOverride = graphOffsetOverride;
    c.directoryOffsetOverride = directoryOffsetOverride;
    c.tailDelta = tailDelta;
    return c;
  }

  /** Takes apart a valid {@code .cai} file. */
  static CaiImage parse(byte[] file) {
    ByteBuffer b = ByteBuffer.wrap(file).order(ByteOrder.LITTLE_ENDIAN);
    if (!Arrays.equals(Arrays.copyOf(file, 8), MAGIC)) {
      throw new IllegalArgumentException("not a .cai file");
    }
    CaiImage img = new CaiImage();
    img.major = b.getShort(8) & 0xffff;
    img.minor = b.getShort(10) & 0xffff;
    int footer = file.length - FOOTER;
    img.manifest = segment(b, b.getLong(footer));
    img.graph = segment(b, b.getLong(footer + 8));
    img.directory = segment(b, b.getLong(footer + 16));
    ByteBuffer d = ByteBuffer.wrap(img.directory.data).order(ByteOrder.LITTLE_ENDIAN);
    long count = varint(d);
    for (long i = 0; i < count; i++) {
      int len = (int) varint(d);
      ByteBuffer e = d.slice().limit(len).order(ByteOrder.LITTLE_ENDIAN);
      d.position(d.position() + len);
      Entry x = new Entry();
      x.name = new byte[(int) varint(e)];
      e.get(x.name);
      x.dtype = e.get() & 0xff;
      x.role = e.get() & 0xff;
      x.axis = varint(e);
      x.shape = new long[(int) varint(e)];
      for (int k = 0; k < x.shape.length; k++) {
        x.shape[k] = varint(e);
      }
      x.codec = e.get() & 0xff;
      x.params = new byte[(int) varint(e)];
      e.get(x.params);
      x.flags = e.get() & 0xff;
      long offset = e.getLong();
      long stored = e.getLong();
      long raw = e.getLong();
      e.getInt();
      x.nmse = e.getFloat();
      x.maxAbs = e.getFloat();
      x.extra = new byte[e.remaining()];
      e.get(x.extra);
      byte[] s = Arrays.copyOfRange(file, (int) offset, (int) (offset + stored));
      x.payload = (x.flags & 1) != 0 ? Zstd.decompress(s, (int) raw) : s;
      img.entries.add(x);
    }
    return img;
  }

  private static Segment segment(ByteBuffer b, long off) {
    int o = (int) off;
    int tag = b.getInt(o);
    int flags = b.get(o + 4) & 0xff;
    int stored = (int) b.getLong(o + 8);
    int raw = (int) b.getLong(o + 16);
    byte[] s = new byte[stored];
    b.get(o + 24, s);
    return new Segment(tag, flags, (flags & 1) != 0 ? Zstd.decompress(s, raw) : s);
  }

  /** Puts the file back together, every checksum and derived value recomputed. */
  byte[] toBytes() {
    Out out = new Out();
    out.write(new byte[HEADER]);
    MessageDigest id = sha256();
    long manifestOff = out.size();
    writeSegment(out, manifest, manifest.data, id);
    long graphOff = out.size();
    writeSegment(out, graph, graph.data, id);
    Out dir = new Out();
    dir.varint(countOverride != null ? countOverride : entries.size());
    for (Entry e : entries) {
      out.pad(64);
      long offset = out.size();
      byte[] stored = e.storedBytesOverride != null ? e.storedBytesOverride : e.payload;
      if ((e.flags & 1) != 0) {
        stored = e.compressed(stored);
      }
      out.write(stored);
      CRC32C c = new CRC32C();
      c.update(stored);
      Out x = new Out();
      x.varint(e.name.length);
      x.write(e.name);
      x.u8(e.dtype);
      x.u8(e.role);
      x.varint(e.axis);
      x.varint(e.rankOverride != null ? e.rankOverride : e.shape.length);
      for (long dim : e.shape) {
        x.varint(dim);
      }
      x.u8(e.codec);
      x.varint(e.params.length);
      x.write(e.params);
      x.u8(e.flags);
      x.u64(e.offsetOverride != null ? e.offsetOverride : offset);
      x.u64(e.storedOverride != null ? e.storedOverride : stored.length);
      x.u64(e.rawOverride != null ? e.rawOverride
          : (e.storedBytesOverride != null ? e.storedBytesOverride.length : e.payload.length));
      x.u32(e.crcOverride != null ? e.crcOverride : (int) c.getValue());
      x.f32(e.nmse);
      x.f32(e.maxAbs);
      x.write(e.extra);
      dir.varint(x.size());
      dir.write(x.toArray());
    }
    dir.write(directoryTrailer);
    long dirOff = out.size();
    writeSegment(out, directory, dir.toArray(), id);
    ByteBuffer f = ByteBuffer.allocate(FOOTER).order(ByteOrder.LITTLE_ENDIAN);
    f.putLong(manifestOffsetOverride != null ? manifestOffsetOverride : manifestOff);
    f.putLong(graphOffsetOverride != null ? graphOffsetOverride : graphOff);
    f.putLong(directoryOffsetOverride != null ? directoryOffsetOverride : dirOff);
    byte[] bytes = out.toArray();
    ByteBuffer h = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
    h.put(MAGIC).putShort((short) major).putShort((short) minor).put(Arrays.copyOf(id.digest(), 16));
    h.putInt(28, crc(bytes, 0, 28));
    CRC32C whole = new CRC32C();
    whole.update(bytes);
    whole.update(f.array(), 0, 24);
    f.putInt(24, (int) whole.getValue());
    f.putInt(28, crc(f.array(), 0, 28));
    f.position(32);
    f.put(FOOTER_MAGIC);
    byte[] all = Arrays.copyOf(bytes, bytes.length + FOOTER);
    System.arraycopy(f.array(), 0, all, bytes.length, FOOTER);
    if (tailDelta != 0) {
      all = Arrays.copyOf(all, Math.max(0, all.length + tailDelta));
    }
    return all;
  }

  private static void writeSegment(Out out, Segment s, byte[] data, MessageDigest id) {
    byte[] stored = s.storedOverride != null ? s.storedOverride : data;
    if ((s.flags & 1) != 0 && s.storedOverride == null) {
      stored = Zstd.compress(data, 1);
    }
    ByteBuffer head = ByteBuffer.allocate(24).order(ByteOrder.LITTLE_ENDIAN);
    head.putInt(s.tag).put((byte) s.flags).put(new byte[3]);
    head.putLong(s.storedLengthOverride != null ? s.storedLengthOverride : stored.length);
    head.putLong(s.rawLengthOverride != null ? s.rawLengthOverride : data.length);
    CRC32C c = new CRC32C();
    c.update(head.array());
    c.update(stored);
    id.update(head.array());
    id.update(stored);
    out.write(head.array());
    out.write(stored);
    out.u32((int) c.getValue());
  }

  static long varint(ByteBuffer b) {
    long v = 0;
    for (int s = 0; s < 64; s += 7) {
      byte x = b.get();
      v |= (long) (x & 0x7f) << s;
      if (x >= 0) {
        return v;
      }
    }
    throw new IllegalArgumentException("varint too long");
  }

  static int crc(byte[] b, int off, int len) {
    CRC32C c = new CRC32C();
    c.update(b, off, len);
    return (int) c.getValue();
  }

  private static MessageDigest sha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  /** A little-endian byte builder. */
  static final class Out extends ByteArrayOutputStream {
    void u8(int v) {
      write(v & 0xff);
    }

    void u32(int v) {
      for (int i = 0; i < 4; i++) {
        write((v >>> (8 * i)) & 0xff);
      }
    }

    void u64(long v) {
      for (int i = 0; i < 8; i++) {
        write((int) (v >>> (8 * i)) & 0xff);
      }
    }

    void f32(float v) {
      u32(Float.floatToRawIntBits(v));
    }

    void varint(long v) {
      while ((v & ~0x7FL) != 0) {
        write((int) ((v & 0x7F) | 0x80));
        v >>>= 7;
      }
      write((int) v);
    }

    void pad(int alignment) {
      while (size() % alignment != 0) {
        write(0);
      }
    }

    @Override
    public void write(byte[] b) {
      write(b, 0, b.length);
    }

    byte[] toArray() {
      return toByteArray();
    }
  }
}
