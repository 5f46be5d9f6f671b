package dev.selfbyt.cortexsdr.converters.torchzip;

import dev.selfbyt.cortexsdr.core.format.CaiException;
import dev.selfbyt.cortexsdr.core.format.CaiWriter;
import dev.selfbyt.cortexsdr.core.format.WriterTempFiles;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.Channels;
import java.nio.channels.SeekableByteChannel;
import java.nio.channels.WritableByteChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.CRC32;

/**
 * Writes a zip as {@code torch.save} and {@code torch.jit.save} do: every record stored
 * uncompressed, its data aligned to 64 bytes (padding in the local header's extra field, id {@code
 * "FB"} as torch pads, so that storages can be mapped in place), zip64 fields where sizes or offsets
 * need them, and a fixed timestamp: the same records give the same bytes on every machine. Make one
 * over an open channel or stream, {@link #add} records in order, then {@link #finish} (which writes
 * the central directory and leaves the target open) or {@link #close} (which also closes it).
 *
 * <pre>{@code
 * try (TorchZipWriter z = new TorchZipWriter(out)) {
 *   z.add("model/data.pkl", ByteBuffer.wrap(pickle));
 * }
 * }</pre>
 */
public final class TorchZipWriter implements AutoCloseable {
  private static final int ALIGN = 64;
  private static final long MAX32 = 0xffffffffL;
  /** DOS date 1980-01-01, time 00:00: fixed, so the same records give the same bytes. */
  private static final int DOS_DATE = (1 << 5) | 1;

  /** The records of a zip written by {@link #writeFile}. */
  @FunctionalInterface
  public interface Records {
    /** Adds every record to {@code zip}, in order (the directory is written after). */
    void addTo(TorchZipWriter zip) throws IOException;
  }

  private record Written(byte[] name, long crc, long size, long offset) {}

  private final WritableByteChannel out;
  private final List<Written> written = new ArrayList<>();
  private long position;
  private boolean finished;

  /**
   * A writer onto {@code out}. A file channel's offsets are its own (the zip may follow other bytes);
   * any other channel counts from 0 at this point.
   */
  public TorchZipWriter(WritableByteChannel out) throws IOException {
    this.out = out;
    this.position = out instanceof SeekableByteChannel s ? s.position() : 0;
  }

  /** A writer onto {@code out}, which {@link #close()} closes. */
  public TorchZipWriter(OutputStream out) {
    this.out = Channels.newChannel(out);
    this.position = 0;
  }

  /** Writes one record: the remaining bytes of {@code data} (its position is left unchanged). */
  public void add(String name, ByteBuffer data) throws IOException {
    if (finished) {
      throw new IllegalStateException("the zip's directory is written: no record can follow");
    }
    byte[] n = name.getBytes(StandardCharsets.UTF_8);
    CRC32 crc = new CRC32();
    crc.update(data.duplicate());
    long size = data.remaining();
    boolean z64 = size >= MAX32 || position >= MAX32;
    int z64Len = z64 ? 4 + 16 : 0;
    long base = position + 30 + n.length + z64Len + 4;
    int pad = (int) ((ALIGN - base % ALIGN) % ALIGN);
    int extraLen = z64Len + 4 + pad;
    ByteBuffer h = ByteBuffer.allocate(30 + n.length + extraLen).order(ByteOrder.LITTLE_ENDIAN);
    h.putInt(0x04034b50).putShort((short) (z64 ? 45 : 20)).putShort((short) flags(name)).putShort((short) 0)
        .putShort((short) 0).putShort((short) DOS_DATE).putInt((int) crc.getValue())
        .putInt((int) (z64 ? MAX32 : size)).putInt((int) (z64 ? MAX32 : size))
        .putShort((short) n.length).putShort((short) extraLen).put(n);
    if (z64) {
      h.putShort((short) 1).putShort((short) 16).putLong(size).putLong(size);
    }
    h.putShort((short) 0x4246).putShort((short) pad).put(new byte[pad]); // "FB", as torch pads
    write(h.flip());
    written.add(new Written(n, crc.getValue(), size, position));
    position += h.limit();
    write(data.duplicate());
    position += size;
  }

  private static int flags(String name) {
    return StandardCharsets.US_ASCII.newEncoder().canEncode(name) ? 0 : 0x0800; // UTF-8 names
  }

  /** Writes the central directory and the end records; the target stays open. */
  public void finish() throws IOException {
    if (finished) {
      return;
    }
    finished = true;
    long cdStart = position;
    for (Written w : written) {
      boolean bigSize = w.size() >= MAX32;
      boolean bigOffset = w.offset() >= MAX32;
      int z64Len = (bigSize ? 16 : 0) + (bigOffset ? 8 : 0);
      int extraLen = z64Len == 0 ? 0 : 4 + z64Len;
      ByteBuffer c = ByteBuffer.allocate(46 + w.name().length + extraLen).order(ByteOrder.LITTLE_ENDIAN);
      short version = (short) (z64Len > 0 ? 45 : 20);
      c.putInt(0x02014b50).putShort(version).putShort(version)
          .putShort((short) flags(new String(w.name(), StandardCharsets.UTF_8))).putShort((short) 0)
          .putShort((short) 0).putShort((short) DOS_DATE).putInt((int) w.crc())
          .putInt((int) (bigSize ? MAX32 : w.size())).putInt((int) (bigSize ? MAX32 : w.size()))
          .putShort((short) w.name().length).putShort((short) extraLen).putShort((short) 0).putShort((short) 0)
          .putShort((short) 0).putInt(0).putInt((int) (bigOffset ? MAX32 : w.offset())).put(w.name());
      if (z64Len > 0) {
        c.putShort((short) 1).putShort((short) z64Len);
        if (bigSize) {
          c.putLong(w.size()).putLong(w.size());
        }
        if (bigOffset) {
          c.putLong(w.offset());
        }
      }
      write(c.flip());
      position += c.limit();
    }
    long cdSize = position - cdStart;
    boolean z64 = written.size() >= 0xffff || cdStart >= MAX32 || cdSize >= MAX32;
    if (z64) {
      ByteBuffer z = ByteBuffer.allocate(56 + 20).order(ByteOrder.LITTLE_ENDIAN);
      z.putInt(0x06064b50).putLong(44).putShort((short) 45).putShort((short) 45).putInt(0).putInt(0)
          .putLong(written.size()).putLong(written.size()).putLong(cdSize).putLong(cdStart);
      z.putInt(0x07064b50).putInt(0).putLong(position).putInt(1);
      write(z.flip());
      position += z.limit();
    }
    ByteBuffer e = ByteBuffer.allocate(22).order(ByteOrder.LITTLE_ENDIAN);
    int count = z64 ? 0xffff : written.size();
    e.putInt(0x06054b50).putShort((short) 0).putShort((short) 0).putShort((short) count).putShort((short) count)
        .putInt((int) (z64 ? MAX32 : cdSize)).putInt((int) (z64 ? MAX32 : cdStart)).putShort((short) 0);
    write(e.flip());
    position += 22;
  }

  /**
   * Writes a zip file whole or not at all: the records go to a temporary file beside {@code
   * target}, which is renamed into place once the directory is written; a failure leaves nothing.
   *
   * @throws CaiException naming {@code target} when its folder is missing or not writable or the
   *     write fails; a {@code CaiException} from {@code records} as it is
   */
  public static void writeFile(Path target, Records records) throws IOException {
    Path abs = target.toAbsolutePath();
    if (abs.getParent() == null || !Files.isDirectory(abs.getParent())) {
      throw new CaiException(target.toString(), null, "cannot write here: folder " + abs.getParent() + " does not exist");
    }
    WriterTempFiles.Held held;
    try {
      held = WriterTempFiles.create(abs);
    } catch (IOException e) {
      throw new CaiException(target.toString(), null, "cannot write here: folder " + abs.getParent()
          + " is not writable (" + e.getClass().getSimpleName() + ")", e);
    }
    try {
      TorchZipWriter zip = new TorchZipWriter(held.channel());
      records.addTo(zip);
      zip.finish();
      held.channel().close();
      CaiWriter.moveIntoPlace(held.path(), target);
      WriterTempFiles.release(held.path());
    } catch (IOException | RuntimeException e) {
      held.channel().close();
      Files.deleteIfExists(held.path());
      WriterTempFiles.release(held.path());
      throw e instanceof CaiException c ? c : new CaiException(target.toString(), null, "write failed: " + e, e);
    }
  }

  /** Finishes the zip (unless done) and closes the channel or stream it writes to. */
  @Override
  public void close() throws IOException {
    try {
      finish();
    } finally {
      out.close();
    }
  }

  private void write(ByteBuffer b) throws IOException {
    while (b.hasRemaining()) {
      out.write(b);
    }
  }
}
