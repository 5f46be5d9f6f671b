package dev.selfbyt.cortexsdr.pytorch;

import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.LocalDateTime;
import java.util.zip.CRC32;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

/**
 * Writes a zip as PyTorch writes its archives: every record stored (not deflated), its data aligned
 * to 64 bytes by padding in an extra field (id {@code "FB"}, as PyTorch's writer does, so readers
 * may map tensors in place), and a fixed timestamp so that the same records give the same bytes.
 * Records are added in order; {@link #close()} writes the central directory.
 *
 * <pre>{@code
 * try (TorchZipWriter z = new TorchZipWriter(out)) {
 *   z.add("model/data.pkl", ByteBuffer.wrap(pickle));
 * }
 * }</pre>
 */
public final class TorchZipWriter implements AutoCloseable {
  private static final int ALIGN = 64;
  private static final int LOCAL_HEADER = 30;
  private static final int PAD_HEADER = 4;
  private static final LocalDateTime TIME = LocalDateTime.of(1980, 1, 1, 0, 0);

  private final Counting counter;
  private final ZipOutputStream zip;

  /** A writer onto {@code out}, which {@link #close()} closes. */
  public TorchZipWriter(OutputStream out) {
    this.counter = new Counting(out);
    this.zip = new ZipOutputStream(counter);
    zip.setMethod(ZipOutputStream.STORED);
  }

  /** Adds one record with the remaining bytes of {@code data} (its position is left unchanged). */
  public void add(String name, ByteBuffer data) throws IOException {
    ByteBuffer d = data.duplicate();
    CRC32 crc = new CRC32();
    crc.update(d.duplicate());
    ZipEntry e = new ZipEntry(name);
    e.setMethod(ZipEntry.STORED);
    e.setSize(d.remaining());
    e.setCompressedSize(d.remaining());
    e.setCrc(crc.getValue());
    e.setTimeLocal(TIME);
    int nameLength = name.getBytes(StandardCharsets.UTF_8).length;
    long dataStart = counter.count + LOCAL_HEADER + nameLength + PAD_HEADER;
    int pad = (int) ((ALIGN - dataStart % ALIGN) % ALIGN);
    byte[] extra = new byte[PAD_HEADER + pad];
    extra[0] = 'F';
    extra[1] = 'B';
    extra[2] = (byte) pad;
    extra[3] = (byte) (pad >>> 8);
    e.setExtra(extra);
    zip.putNextEntry(e);
    if (d.hasArray()) {
      zip.write(d.array(), d.arrayOffset() + d.position(), d.remaining());
    } else {
      byte[] chunk = new byte[1 << 16];
      while (d.hasRemaining()) {
        int n = Math.min(chunk.length, d.remaining());
        d.get(chunk, 0, n);
        zip.write(chunk, 0, n);
      }
    }
    zip.closeEntry();
  }

  @Override
  public void close() throws IOException {
    zip.close();
  }

  /** Counts the bytes written, to place each record's data on a 64-byte boundary. */
  private static final class Counting extends FilterOutputStream {
    long count;

    Counting(OutputStream out) {
      super(out);
    }

    @Override
    public void write(int b) throws IOException {
      out.write(b);
      count++;
    }

    @Override
    public void write(byte[] b, int off, int len) throws IOException {
      out.write(b, off, len);
      count += len;
    }
  }
}
