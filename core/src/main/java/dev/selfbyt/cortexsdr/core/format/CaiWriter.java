package dev.selfbyt.cortexsdr.core.format;

import static dev.selfbyt.cortexsdr.core.format.CaiFormat.*;

import dev.selfbyt.cortexsdr.core.codec.ByteSink;
import dev.selfbyt.cortexsdr.core.codec.ZstdStage;
import dev.selfbyt.cortexsdr.core.tensor.TensorInfo;
import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.zip.CRC32C;

/**
 * Writes a {@code .cai} file, streaming: tensors go to disk as they are handed in and only their
 * directory entries stay in memory. Output goes to a temporary file beside the target, renamed
 * onto it by {@link #finish()}; {@link #close()} without {@code finish()} deletes it, so a failure
 * never leaves a partial file. A process killed while writing leaves its temporary file
 * ({@code .<target>.<random>.tmp}, never the target); the next writer of that target deletes it
 * ({@link WriterTempFiles}). Get one with {@link #create}; use it from one thread.
 *
 * <h2>The {@code .cai} format, version 1.0</h2>
 *
 * All integers little-endian. A file is: header, manifest segment, graph segment, tensor
 * payloads, directory segment, footer.
 *
 * <h3>Header (32 bytes, offset 0)</h3>
 *
 * <pre>
 *  0  u8[8]  magic 89 43 41 49 0D 0A 1A 0A ("\x89CAI\r\n\x1a\n")
 *  8  u16    major version (1)
 * 10  u16    minor version (0)
 * 12  u8[16] file id: the first 16 bytes of SHA-256 over the manifest, graph and directory
 *            segments as stored (each segment's 24-byte header and data, not its CRC
 *            trailer); the same model and options give the same id (and bytes)
 * 28  u32    CRC32C of bytes 0..27
 * </pre>
 *
 * <h3>Segments (manifest, graph, directory)</h3>
 *
 * <pre>
 *  0  u32    tag: "MANI", "GRPH" or "DIRY" (ASCII)
 *  4  u8     flags: bit 0 = data went through the zstd stage
 *  5  u8[3]  reserved, 0
 *  8  u64    stored length L
 * 16  u64    raw length (L when not compressed)
 * 24  u8[L]  data
 * 24+L u32   CRC32C of bytes 0 .. 24+L-1 of the segment
 * </pre>
 *
 * The manifest is UTF-8 JSON (an object: {@code format}, {@code formatVersion}, {@code
 * producer}, {@code producerVersion}, {@code source} with the source format and metadata, {@code
 * options}; readers ignore keys they do not know). The graph is
 * the host graph with weights stripped, opaque to the format (empty when there is none).
 *
 * <h3>Tensor payloads</h3>
 *
 * Each payload starts at an offset that is a multiple of 64, padded before it with zeros. Its
 * layout is its codec's (see each codec's Javadoc), after the zstd stage when the entry says so.
 *
 * <h3>Directory segment data</h3>
 *
 * <pre>
 * varint count
 * count x entry:
 *   varint entry length E (the bytes that follow; a reader skips fields it does not know)
 *   varint+utf8 name
 *   u8     dtype code (DType)        u8 role code (TensorRole)
 *   varint reduction axis            varint rank, rank x varint dimension
 *   u8     codec id (CodecId)        varint params length, params (codec-defined)
 *   u8     flags: bit 0 = zstd stage
 *   u64    payload offset            u64 stored length       u64 raw length (before zstd)
 *   u32    CRC32C of the stored payload
 *   f32    normalized mean squared error of the encoding (0 = lossless)
 *   f32    largest absolute error
 * </pre>
 *
 * <h3>Footer (40 bytes, at the end)</h3>
 *
 * <pre>
 *  0  u64    manifest segment offset
 *  8  u64    graph segment offset
 * 16  u64    directory segment offset
 * 24  u32    CRC32C of the whole file from byte 0 through footer byte 23
 * 28  u32    CRC32C of footer bytes 0..27
 * 32  u8[8]  "CAIFOOT\0"
 * </pre>
 *
 * <h3>Reading rules</h3>
 *
 * A reader checks magic, header CRC, footer magic and CRC, and each segment's CRC when it opens a
 * file; a tensor's CRC when it reads that tensor; the whole-file CRC on {@code verify}. A higher
 * major version is refused; a higher minor version is read, skipping unknown trailing entry
 * fields and unknown manifest keys. A tensor with an unknown codec or dtype is listed but cannot
 * be decoded: reading it throws {@link UnknownCodecException}. Any mismatch throws {@link
 * CorruptCaiException} naming the file, the region and, for payloads, the tensor. A payload must
 * lie between the end of the graph segment and the directory. Declared sizes are checked before
 * anything is allocated: against the bytes present, the zstd frame's content size, the codec's
 * largest payload for the shape and the reader's limits ({@link CaiReader.Options}; over a limit:
 * {@link CaiLimitException}).
 *
 * <h3>Versions</h3>
 *
 * {@link CaiFormat#VERSION_MAJOR} changes when an older reader would misread a file, {@link
 * CaiFormat#VERSION_MINOR} for additions it skips; codec params carry their own versions ({@code
 * QuantCodec.PARAMS_VERSION_CURRENT}, {@code SdrCodec.PARAMS_VERSION_CURRENT}). Golden files
 * written by each version are read by every build ({@code GoldenFilesTest}); the full rule is in
 * docs/cai-format.md, section 12.
 *
 * <h3>History</h3>
 *
 * 1.0: first version.
 */
public final class CaiWriter implements Closeable {
  private final Path target;
  private final Path temp;
  private final FileChannel ch;
  private final ZstdStage segmentStage;
  private final CRC32C restCrc = new CRC32C(); // bytes from HEADER_SIZE on
  private final MessageDigest idHash;
  private final ByteSink directory = new ByteSink(4096);
  private final Set<String> names = new HashSet<>();
  private final ByteBuffer staging = ByteBuffer.allocateDirect(1 << 16).order(ByteOrder.LITTLE_ENDIAN);
  private long position;
  private long manifestOffset;
  private long graphOffset;
  private int count;
  private boolean finished;
  private boolean closed;

  private CaiWriter(Path target, Path temp, FileChannel ch, ZstdStage segmentStage) {
    this.target = target;
    this.temp = temp;
    this.ch = ch;
    this.segmentStage = segmentStage;
    try {
      this.idHash = MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is missing from this JVM", e);
    }
  }

  /**
   * Starts a file: writes the header, the manifest and the graph segments.
   *
   * @param manifest the manifest as a JSON-able map (see {@link Json})
   * @param graph the host graph, weights stripped (may be empty)
   * @param segmentStage zstd stage for the manifest and graph segments, or null for none
   * @throws CaiException naming the target if it cannot be written
   */
  public static CaiWriter create(Path target, Map<String, Object> manifest, byte[] graph, ZstdStage segmentStage)
      throws IOException {
    Path abs = target.toAbsolutePath();
    Path dir = abs.getParent();
    Path temp;
    FileChannel ch;
    try {
      if (Files.isDirectory(abs)) {
        throw new CaiException(target.toString(), null, "is a folder; give a file name");
      }
      if (dir == null || !Files.isDirectory(dir)) {
        throw new CaiException(target.toString(), null, "cannot write here: folder " + dir + " does not exist");
      }
      // locked while written; unlocked leftovers of killed writers of this target are removed here
      WriterTempFiles.Held held = WriterTempFiles.create(abs);
      temp = held.path();
      ch = held.channel();
    } catch (CaiException e) {
      throw e;
    } catch (java.nio.file.AccessDeniedException e) {
      throw new CaiException(target.toString(), null, "cannot write here: folder " + dir + " is not writable", e);
    } catch (IOException | SecurityException e) {
      throw new CaiException(target.toString(), null, "cannot write here: " + describe(e), e);
    }
    CaiWriter w = new CaiWriter(target, temp, ch, segmentStage);
    try {
      w.rawWrite(ByteBuffer.allocate(HEADER_SIZE)); // patched by finish()
      w.manifestOffset = w.position;
      w.writeSegment(TAG_MANIFEST, Json.write(manifest).getBytes(StandardCharsets.UTF_8));
      w.graphOffset = w.position;
      w.writeSegment(TAG_GRAPH, graph);
      return w;
    } catch (IOException | RuntimeException e) {
      w.close();
      throw w.wrap(e, null);
    }
  }

  private static String describe(Throwable e) {
    String m = e.getMessage();
    String kind = e.getClass().getSimpleName().replace("Exception", "");
    return m == null ? kind : (e instanceof java.nio.file.FileSystemException ? kind + " " + m : m);
  }

  private CaiException wrap(Throwable e, String tensor) {
    if (e instanceof CaiException c) {
      return c;
    }
    return new CaiException(target.toString(), tensor, "write failed: " + describe(e), e);
  }

  /** Appends one tensor's payload and records its directory entry. */
  public void write(EncodedTensor t) throws IOException {
    ensureOpen();
    TensorInfo info = t.info();
    if (!names.add(info.name())) {
      throw new CaiException(target.toString(), info.name(), "a tensor of this name was already written");
    }
    try {
      long pad = (ALIGNMENT - (position % ALIGNMENT)) % ALIGNMENT;
      if (pad > 0) {
        rawWrite(ByteBuffer.allocate((int) pad));
      }
      long offset = position;
      ByteBuffer payload = t.payload().duplicate();
      CRC32C crc = new CRC32C();
      crc.update(payload.duplicate());
      rawWrite(payload);

      ByteSink e = new ByteSink(64 + info.name().length());
      e.putString(info.name());
      e.putU8(info.dtype().code());
      e.putU8(info.role().code());
      e.putVarLong(info.reductionAxis());
      long[] shape = info.shape();
      e.putVarLong(shape.length);
      for (long d : shape) {
        e.putVarLong(d);
      }
      e.putU8(t.codec().id().code());
      byte[] params = t.codec().params();
      e.putVarLong(params.length);
      e.put(params);
      e.putU8(t.zstd() ? FLAG_ZSTD : 0);
      e.putLong(offset);
      e.putLong(t.storedLength());
      e.putLong(t.rawLength());
      e.putInt((int) crc.getValue());
      e.putFloat(t.nmse());
      e.putFloat(t.maxAbsError());
      directory.putVarLong(e.size());
      directory.put(e.toBuffer());
      count++;
    } catch (IOException | RuntimeException ex) {
      throw wrap(ex, info.name());
    }
  }

  /** Bytes written so far. */
  public long position() {
    return position;
  }

  /** Writes the directory and footer, then moves the file onto the target. */
  public void finish() throws IOException {
    ensureOpen();
    try {
      ByteSink dir = new ByteSink(directory.size() + 8);
      dir.putVarLong(count);
      dir.put(directory.toBuffer());
      long directoryOffset = position;
      writeSegment(TAG_DIRECTORY, dir.toArray());

      ByteBuffer footer = ByteBuffer.allocate(FOOTER_SIZE).order(ByteOrder.LITTLE_ENDIAN);
      footer.putLong(manifestOffset).putLong(graphOffset).putLong(directoryOffset);
      footer.flip();
      rawWrite(footer);

      byte[] id = new byte[16];
      System.arraycopy(idHash.digest(), 0, id, 0, 16);
      ByteBuffer header = header(id);
      CRC32C hc = new CRC32C();
      hc.update(header.duplicate());
      int fileCrc =
          Crc32cCombine.combine((int) hc.getValue(), (int) restCrc.getValue(), position - HEADER_SIZE);

      ByteBuffer tail = ByteBuffer.allocate(FOOTER_SIZE).order(ByteOrder.LITTLE_ENDIAN);
      tail.putLong(manifestOffset).putLong(graphOffset).putLong(directoryOffset).putInt(fileCrc);
      CRC32C fc = new CRC32C();
      fc.update(tail.array(), 0, 28);
      tail.putInt((int) fc.getValue()).put(FOOTER_MAGIC);
      tail.position(24);
      flushStaging();
      ch.write(tail, position);
      ch.write(header, 0);
      ch.force(true);
      ch.close();
      moveIntoPlace(temp, target);
      WriterTempFiles.release(temp);
      finished = true;
    } catch (IOException | RuntimeException e) {
      close();
      throw wrap(e, null);
    }
  }

  /**
   * Rewrites the archive {@code cai} in place with {@code manifest} as its manifest: graph and
   * tensor payloads are copied as stored (no decoding, no re-encoding), the directory keeps each
   * tensor's codec and measured error, and the file id and checksums are those of the new
   * content. Written to a temporary file and renamed, as {@link #create} does. Used to add what is
   * only known once the archive exists (the output check of {@code compress}).
   *
   * @param segmentStage zstd stage for the manifest and graph segments, or null for none
   */
  public static void copyWithManifest(Path cai, Map<String, Object> manifest, ZstdStage segmentStage)
      throws IOException {
    try (CaiReader r = CaiReader.open(cai); CaiWriter w = create(cai, manifest, r.graph(), segmentStage)) {
      for (CaiEntry e : r.entries()) {
        dev.selfbyt.cortexsdr.core.codec.TensorCodec codec;
        try {
          codec = dev.selfbyt.cortexsdr.core.codec.Codecs.fromStored(e.codec(), e.params());
        } catch (RuntimeException ex) { // an unknown codec or damaged parameters
          throw new CaiException(cai.toString(), e.name(), "cannot copy: " + ex.getMessage(), ex);
        }
        w.write(new EncodedTensor(e.info(), codec, r.storedBytes(e), e.zstd(), e.rawLength(), e.nmse(),
            e.maxAbsError()));
      }
      w.finish();
    }
  }

  /**
   * Renames a finished temporary file onto its target, atomically where the file system can.
   * Shared by every writer that follows the write-then-rename rule.
   */
  public static void moveIntoPlace(Path temp, Path target) throws IOException {
    try {
      Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    } catch (AtomicMoveNotSupportedException e) {
      Files.move(temp, target, StandardCopyOption.REPLACE_EXISTING);
    }
  }

  static ByteBuffer header(byte[] id) {
    ByteBuffer h = ByteBuffer.allocate(HEADER_SIZE).order(ByteOrder.LITTLE_ENDIAN);
    h.put(MAGIC).putShort((short) VERSION_MAJOR).putShort((short) VERSION_MINOR).put(id);
    CRC32C c = new CRC32C();
    c.update(h.array(), 0, 28);
    h.putInt((int) c.getValue());
    h.flip();
    return h;
  }

  private void writeSegment(int tag, byte[] data) throws IOException {
    ByteBuffer stored = ByteBuffer.wrap(data);
    int flags = 0;
    if (segmentStage != null) {
      ByteBuffer z = segmentStage.compress(stored);
      if (z != null) {
        stored = z;
        flags = FLAG_ZSTD;
      }
    }
    ByteBuffer head = ByteBuffer.allocate(SEGMENT_HEADER_SIZE).order(ByteOrder.LITTLE_ENDIAN);
    head.putInt(tag).put((byte) flags).put(new byte[3]).putLong(stored.remaining()).putLong(data.length);
    head.flip();
    CRC32C crc = new CRC32C();
    crc.update(head.duplicate());
    crc.update(stored.duplicate());
    idHash.update(head.duplicate());
    idHash.update(stored.duplicate());
    rawWrite(head);
    rawWrite(stored);
    ByteBuffer trailer = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN);
    trailer.putInt((int) crc.getValue()).flip();
    rawWrite(trailer);
  }

  private void rawWrite(ByteBuffer b) throws IOException {
    int n = b.remaining();
    if (position >= HEADER_SIZE) {
      restCrc.update(b.duplicate());
    }
    if (n <= staging.remaining()) {
      staging.put(b);
    } else {
      flushStaging();
      if (n <= staging.capacity()) {
        staging.put(b);
      } else {
        while (b.hasRemaining()) {
          ch.write(b);
        }
      }
    }
    position += n;
  }

  private void flushStaging() throws IOException {
    staging.flip();
    while (staging.hasRemaining()) {
      ch.write(staging);
    }
    staging.clear();
  }

  private void ensureOpen() throws CaiException {
    if (finished || closed) {
      throw new CaiException(target.toString(), null, "writer already " + (finished ? "finished" : "closed"));
    }
  }

  /** Deletes the temporary file unless {@link #finish()} succeeded. Idempotent. */
  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    if (!finished) {
      try {
        ch.close();
      } catch (IOException ignored) {
        // the file is deleted next; nothing else to do with a channel that fails to close
      }
      try {
        Files.deleteIfExists(temp);
      } catch (IOException ignored) {
        // best effort: a leftover temp file is hidden (dot-prefixed), never the target, and
        // removed by the next writer of the same target (WriterTempFiles)
      }
      WriterTempFiles.release(temp);
    }
  }
}
