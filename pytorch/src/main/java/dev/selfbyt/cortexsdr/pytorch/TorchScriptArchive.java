package dev.selfbyt.cortexsdr.pytorch;

import dev.selfbyt.cortexsdr.converters.torchzip.StoredZip;
import dev.selfbyt.cortexsdr.converters.torchzip.TorchZipException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.CRC32;
import java.util.zip.DataFormatException;
import java.util.zip.Inflater;

/**
 * A TorchScript archive ({@code torch.jit.save}) opened as a zip: its records all sit under one
 * folder (the archive name, {@code PREFIX/}), the module object in {@code data.pkl}, the code in
 * {@code code/}, tensor constants in {@code constants.pkl}, and one raw storage per tensor in {@code
 * data/KEY}. A state-dict zip ({@code torch.save}) has {@code data.pkl} and storages but no code and
 * no {@code constants.pkl}: {@link #isTorchScript(Path)} tells them apart. The zip's directory is
 * read and checked by the converters' {@link StoredZip} (as state dicts are); each record's CRC-32
 * is checked when it is read. Thread-safe for reads.
 *
 * <pre>{@code
 * try (TorchScriptArchive a = TorchScriptArchive.open(Path.of("model.pt"))) {
 *   byte[] pickle = a.record("data.pkl");
 * }
 * }</pre>
 */
public final class TorchScriptArchive implements AutoCloseable {
  private final Path path;
  private final FileChannel channel;
  private final String prefix;
  private final Map<String, StoredZip.Entry> entries = new LinkedHashMap<>();

  private TorchScriptArchive(Path path, FileChannel channel, StoredZip zip) throws TorchScriptFormatException {
    this.path = path;
    this.channel = channel;
    String p = null;
    for (StoredZip.Entry z : zip.entries().values()) {
      String name = z.name();
      int slash = name.indexOf('/');
      if (slash <= 0) {
        throw new TorchScriptFormatException(path.toString(), null, "zip entry '" + name + "' is not inside the "
            + "archive folder, as every record of a TorchScript archive is");
      }
      String first = name.substring(0, slash + 1);
      if (p == null) {
        p = first;
      } else if (!p.equals(first)) {
        throw new TorchScriptFormatException(path.toString(), null, "zip entries sit in two folders ('" + p + "' and '"
            + first + "'); a TorchScript archive has one");
      }
      if (!name.endsWith("/")) {
        entries.put(name.substring(slash + 1), z);
      }
    }
    if (p == null) {
      throw new TorchScriptFormatException(path.toString(), null, "is an empty zip, not a TorchScript archive");
    }
    this.prefix = p;
  }

  /** The zip's checked directory, or a message saying it is no readable zip. */
  private static StoredZip directory(Path path, FileChannel ch) throws IOException {
    try {
      return StoredZip.read(ch);
    } catch (TorchZipException e) {
      throw new TorchScriptFormatException(path.toString(), null, "is not a readable zip ("
          + (e.record() == null ? "" : "entry " + e.record() + ": ") + e.getMessage() + "); is the file complete?", e);
    }
  }

  /**
   * Opens a TorchScript archive.
   *
   * @throws TorchScriptFormatException when it is no readable zip (truncated, say), or a zip that is no
   *     TorchScript archive (a state dict, a jar)
   */
  public static TorchScriptArchive open(Path path) throws IOException {
    if (!Files.isRegularFile(path)) {
      throw new TorchScriptFormatException(path.toString(), null, Files.exists(path) ? "not a file" : "no such file");
    }
    FileChannel ch = FileChannel.open(path, StandardOpenOption.READ);
    try {
      TorchScriptArchive a = new TorchScriptArchive(path, ch, directory(path, ch));
      if (!a.has("data.pkl")) {
        throw new TorchScriptFormatException(path.toString(), null, "has no " + a.prefix + "data.pkl: not a PyTorch "
            + "archive");
      }
      if (!a.isTorchScript()) {
        throw new TorchScriptFormatException(path.toString(), null, "is a PyTorch archive without code/ and "
            + "constants.pkl: a state dict (torch.save), not a TorchScript module (torch.jit.save)");
      }
      return a;
    } catch (IOException | RuntimeException e) {
      ch.close();
      throw e;
    }
  }

  /**
   * Whether the file is a TorchScript zip: one folder holding {@code data.pkl}, {@code constants.pkl}
   * and {@code code/}. False for anything else (another zip, a state dict, a damaged file); never
   * throws for a file that exists.
   */
  public static boolean isTorchScript(Path path) throws IOException {
    if (!Files.isRegularFile(path)) {
      return false;
    }
    try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
      return new TorchScriptArchive(path, ch, StoredZip.read(ch)).isTorchScript();
    } catch (TorchZipException | TorchScriptFormatException e) {
      return false;
    }
  }

  /** Whether the file is a zip whose central directory reads (false for a truncated or damaged zip). */
  public static boolean isReadableZip(Path path) {
    try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
      StoredZip.read(ch);
      return true;
    } catch (IOException | TorchZipException e) {
      return false;
    }
  }

  private boolean isTorchScript() {
    if (!has("data.pkl") || !has("constants.pkl")) {
      return false;
    }
    for (String n : entries.keySet()) {
      if (n.startsWith("code/")) {
        return true;
      }
    }
    return false;
  }

  /** The file. */
  public Path path() {
    return path;
  }

  /** The folder every record sits in, with its trailing slash ({@code "resnet50/"}). */
  public String prefix() {
    return prefix;
  }

  /** The record names (without the prefix), in zip order. */
  public List<String> records() {
    return Collections.unmodifiableList(new ArrayList<>(entries.keySet()));
  }

  /** Whether a record exists. */
  public boolean has(String record) {
    return entries.containsKey(record);
  }

  /** A record's uncompressed size in bytes, or -1 when it is absent. */
  public long size(String record) {
    StoredZip.Entry z = entries.get(record);
    return z == null ? -1 : z.size();
  }

  /**
   * A record's bytes, their CRC-32 checked.
   *
   * @throws TorchScriptFormatException when it is missing, too large for one array, compressed by a
   *     method other than deflate, or damaged
   */
  public byte[] record(String record) throws IOException {
    StoredZip.Entry z = entries.get(record);
    if (z == null) {
      throw new TorchScriptFormatException(path.toString(), null, "has no record " + prefix + record);
    }
    String file = path.toString();
    if (z.size() > Integer.MAX_VALUE - 16 || z.compressedSize() > Integer.MAX_VALUE - 16) {
      throw new TorchScriptFormatException(file, null, "record " + prefix + record + " is " + z.size()
          + " bytes, over the 2 GiB of one Java array");
    }
    ByteBuffer raw = ByteBuffer.allocate((int) z.compressedSize());
    while (raw.hasRemaining()) {
      if (channel.read(raw, z.dataOffset() + raw.position()) < 0) {
        throw new TorchScriptFormatException(file, null, "record " + prefix + record + " ends after "
            + raw.position() + " of " + z.compressedSize() + " bytes (truncated?)");
      }
    }
    byte[] b = switch (z.method()) {
      case 0 -> raw.array();
      case 8 -> inflate(raw.array(), z, record);
      default -> throw new TorchScriptFormatException(file, null, "record " + prefix + record + " is compressed by "
          + "method " + z.method() + "; PyTorch stores records uncompressed");
    };
    if (b.length != z.size()) {
      throw new TorchScriptFormatException(file, null, "record " + prefix + record + " holds " + b.length
          + " bytes; the zip says " + z.size() + " (damaged?)");
    }
    CRC32 crc = new CRC32();
    crc.update(b);
    if (crc.getValue() != z.crc()) {
      throw new TorchScriptFormatException(file, null, "record " + prefix + record + " is damaged (CRC-32 "
          + Long.toHexString(crc.getValue()) + ", the zip says " + Long.toHexString(z.crc()) + ")");
    }
    return b;
  }

  /** A deflated record (PyTorch stores, but a zip tool may have compressed the archive again). */
  private byte[] inflate(byte[] raw, StoredZip.Entry z, String record) throws TorchScriptFormatException {
    Inflater inf = new Inflater(true);
    try {
      inf.setInput(raw);
      byte[] out = new byte[(int) z.size()];
      int n = 0;
      while (n < out.length) {
        int k = inf.inflate(out, n, out.length - n);
        if (k == 0) { // finished, out of input, or asking for a dictionary: the length check says which
          break;
        }
        n += k;
      }
      return n == out.length ? out : java.util.Arrays.copyOf(out, n);
    } catch (DataFormatException e) {
      throw new TorchScriptFormatException(path.toString(), null, "record " + prefix + record + " cannot be "
          + "inflated (" + e.getMessage() + "); is the file complete?", e);
    } finally {
      inf.end();
    }
  }

  @Override
  public void close() throws IOException {
    channel.close();
  }
}
