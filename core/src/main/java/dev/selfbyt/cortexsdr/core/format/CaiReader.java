package dev.selfbyt.cortexsdr.core.format;

import static dev.selfbyt.cortexsdr.core.format.CaiFormat.*;

import dev.selfbyt.cortexsdr.core.codec.ByteSink;
import dev.selfbyt.cortexsdr.core.codec.CodecId;
import dev.selfbyt.cortexsdr.core.codec.Codecs;
import dev.selfbyt.cortexsdr.core.codec.MalformedPayloadException;
import dev.selfbyt.cortexsdr.core.codec.TensorCodec;
import dev.selfbyt.cortexsdr.core.codec.ZstdStage;
import dev.selfbyt.cortexsdr.core.tensor.DType;
import dev.selfbyt.cortexsdr.core.tensor.TensorData;
import dev.selfbyt.cortexsdr.core.tensor.TensorInfo;
import dev.selfbyt.cortexsdr.core.tensor.TensorRole;
import java.io.Closeable;
import java.io.IOException;
import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.CRC32C;

/**
 * Reads a {@code .cai} file (format: see {@link CaiWriter}). {@link #open} checks the header,
 * footer, manifest, graph and directory; each tensor is read on demand, memory-mapped, checked
 * against its CRC32C and decoded. Files over 2 GiB work: payloads are mapped one at a time.
 * Nothing the file declares is allocated before it is checked against the bytes present and the
 * limits of {@link Options} ({@link #open(Path, Options)}); every failure is a {@link
 * CaiException} naming the file, the region and the tensor. Thread-safe; close it to release the
 * file.
 *
 * <pre>{@code
 * try (CaiReader cai = CaiReader.open(Path.of("model.cai"))) {
 *   for (CaiEntry e : cai.entries()) {
 *     float[] w = cai.read(e.name()).floats();
 *   }
 * }
 * }</pre>
 */
public final class CaiReader implements Closeable {
  private static final int MAP_THRESHOLD = 1 << 16;

  private final Path path;
  private final String file;
  private final Options options;
  private final FileChannel ch;
  private final long size;
  private final int major;
  private final int minor;
  private final byte[] fileId;
  private final Map<String, Object> manifest;
  private final byte[] graph;
  private final Map<String, CaiEntry> entries;
  private volatile java.util.function.Consumer<CaiEntry> readListener = e -> {};

  private CaiReader(Path path, FileChannel ch, Options options) throws IOException {
    this.path = path;
    this.file = path.toString();
    this.options = options;
    this.ch = ch;
    this.size = ch.size();
    if (size < HEADER_SIZE) {
      ByteBuffer start = readAt(0, (int) size);
      int n = (int) Math.min(size, MAGIC.length);
      if (n > 0 && start.duplicate().limit(n).equals(ByteBuffer.wrap(MAGIC, 0, n))) {
        throw new CorruptCaiException(file, null, "file is truncated: only " + size + " bytes");
      }
      throw new NotCaiFileException(file, "not a .cai file: " + guess(start, size) + " of " + size + " bytes");
    }
    ByteBuffer h = readAt(0, HEADER_SIZE);
    byte[] magic = new byte[8];
    h.get(magic);
    if (!java.util.Arrays.equals(magic, MAGIC)) {
      throw new NotCaiFileException(file, "not a .cai file: " + guess(readAt(0, (int) Math.min(size, FileKind.HEAD)), size));
    }
    int major = h.getShort(8) & 0xffff;
    this.major = major;
    this.minor = h.getShort(10) & 0xffff;
    if (crc(h, 0, 28) != h.getInt(28)) {
      throw new CorruptCaiException(file, null, "header is damaged (checksum mismatch)");
    }
    if (major < 1) {
      throw new CorruptCaiException(file, null, "header is damaged (format version " + major + "." + minor + ")");
    }
    if (major > VERSION_MAJOR) {
      throw new UnsupportedCaiVersionException(
          file, "written in .cai format " + major + "." + minor + "; this reader knows up to "
              + VERSION_MAJOR + ".x: use a newer CortexSDR");
    }
    this.fileId = new byte[16];
    h.position(12);
    h.get(fileId);

    if (size < HEADER_SIZE + FOOTER_SIZE) {
      throw new CorruptCaiException(file, null, "file is truncated: " + size + " bytes, no room for a footer");
    }
    ByteBuffer f = readAt(size - FOOTER_SIZE, FOOTER_SIZE);
    byte[] fm = new byte[8];
    f.position(32);
    f.get(fm);
    if (!java.util.Arrays.equals(fm, FOOTER_MAGIC)) {
      throw new CorruptCaiException(
          file, null, "footer is missing or damaged (file truncated or damaged at its end, " + size + " bytes)");
    }
    if (crc(f, 0, 28) != f.getInt(28)) {
      throw new CorruptCaiException(file, null, "footer is damaged (checksum mismatch)");
    }
    long manifestOff = f.getLong(0);
    long graphOff = f.getLong(8);
    long dirOff = f.getLong(16);
    long limit = size - FOOTER_SIZE;
    if (!(HEADER_SIZE <= manifestOff && manifestOff < graphOff && graphOff < dirOff && dirOff < limit)) {
      throw new CorruptCaiException(file, null, "footer holds impossible segment offsets");
    }
    byte[] m = readSegment(manifestOff, TAG_MANIFEST, graphOff, options.maxManifestBytes, "maxManifestBytes");
    try {
      Object parsed = Json.parse(new String(m, StandardCharsets.UTF_8));
      if (!(parsed instanceof Map)) {
        throw new IllegalArgumentException("not a JSON object");
      }
      @SuppressWarnings("unchecked")
      Map<String, Object> mm = (Map<String, Object>) parsed;
      this.manifest = Collections.unmodifiableMap(mm);
    } catch (IllegalArgumentException e) {
      throw new CorruptCaiException(file, null, "manifest is not valid JSON: " + e.getMessage(), e);
    }
    this.graph = readSegment(graphOff, TAG_GRAPH, dirOff, options.maxGraphBytes, "maxGraphBytes");
    // payloads live between the end of the graph segment and the directory, nowhere else
    long payloadStart = graphOff + SEGMENT_HEADER_SIZE + readAt(graphOff + 8, 8).getLong(0) + SEGMENT_TRAILER_SIZE;
    byte[] dir = readSegment(dirOff, TAG_DIRECTORY, limit, options.maxDirectoryBytes, "maxDirectoryBytes");
    this.entries = parseDirectory(dir, payloadStart, dirOff);
  }

  /**
   * Opens and checks a {@code .cai} file.
   *
   * @throws NotCaiFileException if it is not a {@code .cai} file
   * @throws UnsupportedCaiVersionException if a newer major version wrote it
   * @throws CorruptCaiException if the header, footer, manifest, graph or directory is damaged
   */
  public static CaiReader open(Path path) throws IOException {
    return open(path, Options.defaults());
  }

  /**
   * Opens and checks a {@code .cai} file under the given limits.
   *
   * @throws CaiLimitException if a segment is larger than {@code options} allow
   * @see #open(Path)
   */
  public static CaiReader open(Path path, Options options) throws IOException {
    java.util.Objects.requireNonNull(options, "options");
    FileChannel ch;
    try {
      ch = FileChannel.open(path, StandardOpenOption.READ);
    } catch (NoSuchFileException e) {
      throw new CaiException(path.toString(), null, "no such file");
    } catch (IOException e) {
      throw new CaiException(path.toString(), null, "cannot open: " + e, e);
    }
    try {
      return new CaiReader(path, ch, options);
    } catch (IOException | RuntimeException e) {
      ch.close();
      if (e instanceof CaiException c) {
        throw c;
      }
      throw new CorruptCaiException(path.toString(), null, "cannot read: " + e, e);
    }
  }

  /** "this is a text file", "this is an ONNX model (protobuf); compress it first", ... */
  private static String guess(ByteBuffer start, long size) {
    byte[] b = new byte[start.remaining()];
    start.duplicate().get(b);
    FileKind k = FileKind.of(b, size);
    String hint = switch (k) {
      case ONNX, SAFETENSORS -> "; compress it first";
      case ZIP -> " (a PyTorch file, a jar or a zipped model folder?)";
      default -> k.isOtherModelFormat() ? "; convert it to ONNX, then compress it" : "";
    };
    return FileKind.describe(b, size) + hint;
  }

  private ByteBuffer readAt(long off, int n) throws IOException {
    ByteBuffer b = ByteBuffer.allocate(n).order(ByteOrder.LITTLE_ENDIAN);
    while (b.hasRemaining()) {
      int r = ch.read(b, off + b.position());
      if (r < 0) {
        throw new CorruptCaiException(file, null, "unexpected end of file at " + (off + b.position()));
      }
    }
    return b.flip();
  }

  private static int crc(ByteBuffer b, int off, int len) {
    CRC32C c = new CRC32C();
    c.update(b.duplicate().position(off).limit(off + len));
    return (int) c.getValue();
  }

  private byte[] readSegment(long off, int tag, long end, long cap, String capName) throws IOException {
    String what = tagName(tag);
    if (off + SEGMENT_HEADER_SIZE + SEGMENT_TRAILER_SIZE > end) {
      throw new CorruptCaiException(file, null, what + " segment overruns the file");
    }
    ByteBuffer head = readAt(off, SEGMENT_HEADER_SIZE);
    if (head.getInt(0) != tag) {
      throw new CorruptCaiException(file, null, what + " segment is damaged (wrong tag at offset " + off + ")");
    }
    int flags = head.get(4);
    long stored = head.getLong(8);
    long raw = head.getLong(16);
    if (stored < 0 || stored > end - off - SEGMENT_HEADER_SIZE - SEGMENT_TRAILER_SIZE || stored > Integer.MAX_VALUE - 16
        || raw < 0 || raw > Integer.MAX_VALUE - 16) {
      throw new CorruptCaiException(file, null, what + " segment is damaged (impossible length " + stored + ")");
    }
    if (raw > cap || stored > cap) {
      throw new CaiLimitException(file, null, what + " segment declares " + Math.max(raw, stored)
          + " bytes, over the limit " + capName + " = " + cap + " (CaiReader.Options)");
    }
    ByteBuffer body = readAt(off + SEGMENT_HEADER_SIZE, (int) stored + SEGMENT_TRAILER_SIZE);
    CRC32C c = new CRC32C();
    c.update(head.duplicate());
    c.update(body.duplicate().limit((int) stored));
    if ((int) c.getValue() != body.getInt((int) stored)) {
      throw new CorruptCaiException(file, null, what + " segment is damaged (checksum mismatch)");
    }
    ByteBuffer data = body.duplicate().limit((int) stored);
    if ((flags & FLAG_ZSTD) != 0) {
      try {
        data = ZstdStage.decompress(data, raw, cap);
      } catch (MalformedPayloadException e) {
        throw new CorruptCaiException(file, null, what + " segment does not decompress: " + e.getMessage(), e);
      }
    } else if (raw != stored) {
      throw new CorruptCaiException(file, null, what + " segment is damaged (lengths disagree)");
    }
    byte[] out = new byte[data.remaining()];
    data.get(out);
    return out;
  }

  private Map<String, CaiEntry> parseDirectory(byte[] dir, long payloadStart, long dirOff) throws CorruptCaiException {
    ByteBuffer b = ByteBuffer.wrap(dir).order(ByteOrder.LITTLE_ENDIAN);
    Map<String, CaiEntry> out = new LinkedHashMap<>();
    String current = null;
    try {
      int count = ByteSink.getVarInt(b, b.remaining(), "entry count");
      for (int i = 0; i < count; i++) {
        int len = ByteSink.getVarInt(b, b.remaining(), "entry length");
        ByteBuffer e = b.slice().limit(len).order(ByteOrder.LITTLE_ENDIAN);
        b.position(b.position() + len);
        String name = ByteSink.getString(e);
        current = name;
        int dtypeCode = e.get() & 0xff;
        int roleCode = e.get() & 0xff;
        int axis = ByteSink.getVarInt(e, 64, "reduction axis");
        int rank = ByteSink.getVarInt(e, 64, "rank");
        long[] shape = new long[rank];
        for (int k = 0; k < rank; k++) {
          shape[k] = ByteSink.getVarLong(e);
          if (shape[k] < 0) {
            throw new MalformedPayloadException("negative dimension");
          }
        }
        int codec = e.get() & 0xff;
        int plen = ByteSink.getVarInt(e, e.remaining(), "params length");
        byte[] params = new byte[plen];
        e.get(params);
        int flags = e.get() & 0xff;
        long offset = e.getLong();
        long stored = e.getLong();
        long raw = e.getLong();
        int crc = e.getInt();
        float nmse = e.getFloat();
        float maxAbs = e.getFloat();
        // fields appended by newer minor versions are skipped with the rest of the entry
        if (offset < payloadStart || stored < 0 || stored > dirOff - offset || offset % ALIGNMENT != 0 || raw < 0) {
          throw new MalformedPayloadException("payload at " + offset + "+" + stored + " lies outside the payload area ["
              + payloadStart + ", " + dirOff + ")");
        }
        DType dtype = DType.fromCode(dtypeCode);
        TensorInfo info =
            new TensorInfo(name, dtype == null ? DType.UINT8 : dtype, shape, TensorRole.fromCode(roleCode),
                rank == 0 ? -1 : axis);
        if (!info.hasExactByteSize()) {
          throw new MalformedPayloadException("shape " + java.util.Arrays.toString(shape)
              + " overflows: its byte size does not fit 63 bits");
        }
        CaiEntry entry = new CaiEntry(info, codec, params, (flags & FLAG_ZSTD) != 0, offset, stored, raw, crc,
            nmse, maxAbs, dtype == null ? dtypeCode : -1);
        if (out.put(name, entry) != null) {
          throw new MalformedPayloadException("duplicate tensor name");
        }
        current = null;
      }
      if (b.hasRemaining()) {
        throw new MalformedPayloadException(b.remaining() + " trailing bytes");
      }
    } catch (MalformedPayloadException | BufferUnderflowException | IllegalArgumentException
        | ArithmeticException e) {
      throw new CorruptCaiException(file, current, "directory is damaged: " + e.getMessage(), e);
    }
    return Collections.unmodifiableMap(out);
  }

  public Path path() {
    return path;
  }

  /** The 16-byte file id from the header. */
  public byte[] fileId() {
    return fileId.clone();
  }

  /** Format version as {@code "major.minor"}. */
  public String version() {
    return major + "." + minor;
  }

  /** The manifest (read-only JSON object). */
  public Map<String, Object> manifest() {
    return manifest;
  }

  /** The graph segment's bytes. */
  public byte[] graph() {
    return graph.clone();
  }

  /** Directory entries in file order. */
  public List<CaiEntry> entries() {
    return new ArrayList<>(entries.values());
  }

  /** The entry of a tensor, or throws a {@link CaiException} naming it when absent. */
  public CaiEntry entry(String name) throws CaiException {
    CaiEntry e = entries.get(name);
    if (e == null) {
      throw new CaiException(file, name, "no such tensor in this file");
    }
    return e;
  }

  public boolean contains(String name) {
    return entries.containsKey(name);
  }

  /** File size in bytes. */
  public long size() {
    return size;
  }

  /**
   * A tensor as stored: its codec rebuilt from the directory and its payload checked and
   * through the zstd stage, ready for decoding or for computing on the compressed form.
   */
  public StoredTensor readStored(String name) throws IOException {
    CaiEntry e = entry(name);
    if (e.unknownDTypeCode() >= 0) {
      throw new UnknownCodecException(file, name, "dtype code " + e.unknownDTypeCode()
          + " is not known to this reader (written by a newer CortexSDR?)");
    }
    CodecId id = e.codec();
    if (id == null) {
      throw new UnknownCodecException(file, name, "codec id " + e.codecCode()
          + " is not known to this reader (written by a newer CortexSDR?)");
    }
    TensorCodec codec;
    try {
      codec = Codecs.fromStored(id, e.params());
    } catch (dev.selfbyt.cortexsdr.core.codec.UnknownParamsVersionException ex) {
      throw new UnknownCodecException(file, name, ex.getMessage() + " (written by a newer CortexSDR?)");
    } catch (MalformedPayloadException ex) {
      throw new CorruptCaiException(file, name, "codec parameters are damaged: " + ex.getMessage(), ex);
    }
    if (e.storedLength() > Integer.MAX_VALUE - 16) {
      throw new CorruptCaiException(file, name, "payload of " + e.storedLength() + " bytes exceeds 2 GiB");
    }
    checkLimits(e, codec);
    ByteBuffer stored = storedBytes(e);
    ByteBuffer payload = stored;
    if (e.zstd()) {
      try {
        payload = ZstdStage.decompress(stored, e.rawLength(), options.maxTensorBytes);
      } catch (MalformedPayloadException ex) {
        throw new CorruptCaiException(file, name, "payload does not decompress: " + ex.getMessage(), ex);
      }
    } else if (e.rawLength() != e.storedLength()) {
      throw new CorruptCaiException(file, name, "payload lengths disagree");
    }
    readListener.accept(e);
    return new StoredTensor(e, codec, payload);
  }

  /**
   * A tensor's payload exactly as stored (after the zstd stage, when {@link CaiEntry#zstd()}),
   * checksum verified: what a writer copies to make another archive of the same tensors
   * ({@link CaiWriter#copyWithManifest}).
   */
  public ByteBuffer storedBytes(CaiEntry e) throws IOException {
    if (e.storedLength() > Integer.MAX_VALUE - 16) {
      throw new CorruptCaiException(file, e.name(), "payload of " + e.storedLength() + " bytes exceeds 2 GiB");
    }
    ByteBuffer stored;
    if (e.storedLength() >= MAP_THRESHOLD) {
      stored = ch.map(FileChannel.MapMode.READ_ONLY, e.offset(), e.storedLength()).order(ByteOrder.LITTLE_ENDIAN);
    } else {
      stored = readAt(e.offset(), (int) e.storedLength());
    }
    CRC32C c = new CRC32C();
    c.update(stored.duplicate());
    if ((int) c.getValue() != e.crc32c()) {
      throw new CorruptCaiException(file, e.name(), "payload is damaged (checksum mismatch at offset " + e.offset()
          + ")");
    }
    return stored;
  }

  /**
   * Refuses, before anything is allocated, a tensor whose decoded size is over {@link
   * Options#maxTensorBytes} or whose payload (before the zstd stage) is longer than its codec can
   * write for its shape.
   */
  private void checkLimits(CaiEntry e, TensorCodec codec) throws CaiException {
    TensorInfo info = e.info();
    // decoders of floating tensors work in fp32 whatever the stored dtype
    long numel = info.numel();
    long decoded = !info.dtype().isFloating() ? info.byteSize()
        : numel > Long.MAX_VALUE / 4 ? Long.MAX_VALUE : Math.max(info.byteSize(), numel * 4);
    if (decoded > options.maxTensorBytes) {
      throw new CaiLimitException(file, e.name(), "decodes to " + decoded + " bytes (" + info.dtype() + " "
          + java.util.Arrays.toString(info.shape()) + "), over the limit maxTensorBytes = " + options.maxTensorBytes
          + " (CaiReader.Options)");
    }
    long most = codec.maxPayloadBytes(info);
    if (e.rawLength() > most) {
      throw new CorruptCaiException(file, e.name(), "payload of " + e.rawLength() + " bytes"
          + (e.zstd() ? " (declared for after the zstd stage)" : "") + " is longer than " + codec.describe()
          + " writes for " + info.dtype() + " " + java.util.Arrays.toString(info.shape()) + " (at most " + most + ")");
    }
  }

  /**
   * Calls {@code listener} after each tensor is read (for progress bars over long reads such as
   * {@link #verify()} or an export). It may be called from several threads.
   */
  public void onTensorRead(java.util.function.Consumer<CaiEntry> listener) {
    this.readListener = listener == null ? e -> {} : listener;
  }

  /** Reads and decodes one tensor into its original dtype and shape. */
  public TensorData read(String name) throws IOException {
    StoredTensor s = readStored(name);
    try {
      return s.codec().decode(s.entry().info(), s.payload());
    } catch (MalformedPayloadException | BufferUnderflowException | IndexOutOfBoundsException
        | IllegalArgumentException | ArithmeticException e) {
      throw new CorruptCaiException(file, name, "payload does not decode as " + s.codec().describe() + ": "
          + e.getMessage(), e);
    }
  }

  /**
   * Checks everything: the whole-file checksum, then every tensor's checksum and decoding.
   *
   * @throws CaiException at the first problem, naming it
   */
  public void verify() throws IOException {
    CRC32C c = new CRC32C();
    long end = size - FOOTER_SIZE + 24;
    long chunk = 1 << 26;
    for (long off = 0; off < end; off += chunk) {
      long n = Math.min(chunk, end - off);
      c.update(ch.map(FileChannel.MapMode.READ_ONLY, off, n));
    }
    int expected = readAt(size - FOOTER_SIZE + 24, 4).getInt(0);
    if ((int) c.getValue() != expected) {
      throw new CorruptCaiException(file, null, "whole-file checksum mismatch: the file is damaged");
    }
    for (CaiEntry e : entries.values()) {
      read(e.name());
    }
  }

  @Override
  public void close() throws IOException {
    ch.close();
  }

  /** The limits this reader was opened with. */
  public Options options() {
    return options;
  }

  /**
   * Limits a reader applies before it allocates anything a file declares; a file over a limit is
   * refused with a {@link CaiLimitException} naming it. The defaults suit a machine with a few GiB
   * of heap and admit every file CortexSDR writes (one tensor is at most 2 GiB by format).
   * Immutable; get one from {@link #defaults()} or {@link #builder()}.
   *
   * <pre>{@code
   * CaiReader.Options tight = CaiReader.Options.builder().maxTensorBytes(256 << 20).build();
   * try (CaiReader cai = CaiReader.open(path, tight)) { ... }
   * }</pre>
   */
  public static final class Options {
    /** The largest tensor the format holds: one Java array. */
    public static final long FORMAT_MAX_TENSOR_BYTES = Integer.MAX_VALUE - 16;
    private static final Options DEFAULTS = builder().build();

    private final long maxTensorBytes;
    private final long maxManifestBytes;
    private final long maxGraphBytes;
    private final long maxDirectoryBytes;

    private Options(Builder b) {
      this.maxTensorBytes = b.maxTensorBytes;
      this.maxManifestBytes = b.maxManifestBytes;
      this.maxGraphBytes = b.maxGraphBytes;
      this.maxDirectoryBytes = b.maxDirectoryBytes;
    }

    /** Tensor 2 GiB (decoded), manifest 16 MiB, graph 1 GiB, directory 256 MiB. */
    public static Options defaults() {
      return DEFAULTS;
    }

    public static Builder builder() {
      return new Builder();
    }

    /** Largest decoded tensor (and payload before the zstd stage), in bytes. */
    public long maxTensorBytes() {
      return maxTensorBytes;
    }

    /** Largest manifest segment, in bytes after the zstd stage. */
    public long maxManifestBytes() {
      return maxManifestBytes;
    }

    /** Largest graph segment (the host graph without weights), in bytes after the zstd stage. */
    public long maxGraphBytes() {
      return maxGraphBytes;
    }

    /** Largest directory segment, in bytes after the zstd stage. */
    public long maxDirectoryBytes() {
      return maxDirectoryBytes;
    }

    @Override
    public String toString() {
      return "CaiReader.Options[maxTensorBytes=" + maxTensorBytes + ", maxManifestBytes=" + maxManifestBytes
          + ", maxGraphBytes=" + maxGraphBytes + ", maxDirectoryBytes=" + maxDirectoryBytes + "]";
    }

    /** Builds {@link Options}; every limit must be positive and at most the format's 2 GiB. */
    public static final class Builder {
      private long maxTensorBytes = FORMAT_MAX_TENSOR_BYTES;
      private long maxManifestBytes = 16L << 20;
      private long maxGraphBytes = 1L << 30;
      private long maxDirectoryBytes = 256L << 20;

      private Builder() {}

      public Builder maxTensorBytes(long bytes) {
        this.maxTensorBytes = check("maxTensorBytes", bytes);
        return this;
      }

      public Builder maxManifestBytes(long bytes) {
        this.maxManifestBytes = check("maxManifestBytes", bytes);
        return this;
      }

      public Builder maxGraphBytes(long bytes) {
        this.maxGraphBytes = check("maxGraphBytes", bytes);
        return this;
      }

      public Builder maxDirectoryBytes(long bytes) {
        this.maxDirectoryBytes = check("maxDirectoryBytes", bytes);
        return this;
      }

      private static long check(String what, long v) {
        if (v < 1 || v > FORMAT_MAX_TENSOR_BYTES) {
          throw new IllegalArgumentException(what + " must be in 1.." + FORMAT_MAX_TENSOR_BYTES + ", got " + v);
        }
        return v;
      }

      public Options build() {
        return new Options(this);
      }
    }
  }

  /** A tensor's directory entry, its codec, and its payload after the zstd stage. */
  public record StoredTensor(CaiEntry entry, TensorCodec codec, ByteBuffer payload) {}

  @Override
  public String toString() {
    return "CaiReader[" + file + ", " + entries.size() + " tensors]";
  }
}
