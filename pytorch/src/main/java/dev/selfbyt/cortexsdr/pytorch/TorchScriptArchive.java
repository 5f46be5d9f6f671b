package dev.selfbyt.cortexsdr.pytorch;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Enumeration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.ZipEntry;
import java.util.zip.ZipException;
import java.util.zip.ZipFile;

/**
 * A TorchScript archive ({@code torch.jit.save}) opened as a zip: its records all sit under one
 * folder (the archive name, {@code PREFIX/}), the module object in {@code data.pkl}, the code in
 * {@code code/}, tensor constants in {@code constants.pkl}, and one raw storage per tensor in {@code
 * data/KEY}. A state-dict zip ({@code torch.save}) has {@code data.pkl} and storages but no code and
 * no {@code constants.pkl}: {@link #isTorchScript(Path)} tells them apart. Thread-safe for reads.
 *
 * <pre>{@code
 * try (TorchScriptArchive a = TorchScriptArchive.open(Path.of("model.pt"))) {
 *   byte[] pickle = a.record("data.pkl");
 * }
 * }</pre>
 */
public final class TorchScriptArchive implements AutoCloseable {
  private final Path path;
  private final ZipFile zip;
  private final String prefix;
  private final Map<String, ZipEntry> entries = new LinkedHashMap<>();

  private TorchScriptArchive(Path path, ZipFile zip) throws TorchScriptFormatException {
    this.path = path;
    this.zip = zip;
    String p = null;
    Enumeration<? extends ZipEntry> e = zip.entries();
    while (e.hasMoreElements()) {
      ZipEntry z = e.nextElement();
      String name = z.getName();
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
      if (!z.isDirectory()) {
        entries.put(name.substring(slash + 1), z);
      }
    }
    if (p == null) {
      throw new TorchScriptFormatException(path.toString(), null, "is an empty zip, not a TorchScript archive");
    }
    this.prefix = p;
  }

  /**
   * Opens a TorchScript archive.
   *
   * @throws TorchScriptFormatException when it is no readable zip (truncated, say), or a zip that is no
   *     TorchScript archive (a state dict, a jar)
   */
  public static TorchScriptArchive open(Path path) throws IOException {
    ZipFile zip;
    try {
      zip = new ZipFile(path.toFile());
    } catch (NoSuchFileException | java.io.FileNotFoundException e) {
      throw new TorchScriptFormatException(path.toString(), null, "no such file");
    } catch (ZipException e) {
      throw new TorchScriptFormatException(path.toString(), null, "is not a readable zip (" + e.getMessage()
          + "); is the file complete?", e);
    }
    try {
      TorchScriptArchive a = new TorchScriptArchive(path, zip);
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
      zip.close();
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
    try (ZipFile zip = new ZipFile(path.toFile())) {
      return new TorchScriptArchive(path, zip).isTorchScript();
    } catch (ZipException | TorchScriptFormatException e) {
      return false;
    }
  }

  /** Whether the file is a zip whose central directory reads (false for a truncated or damaged zip). */
  public static boolean isReadableZip(Path path) {
    try (ZipFile zip = new ZipFile(path.toFile())) {
      return true;
    } catch (IOException e) {
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
    ZipEntry z = entries.get(record);
    return z == null ? -1 : z.getSize();
  }

  /**
   * A record's bytes.
   *
   * @throws TorchScriptFormatException when it is missing, too large for one array, or cannot be read
   */
  public byte[] record(String record) throws IOException {
    ZipEntry z = entries.get(record);
    if (z == null) {
      throw new TorchScriptFormatException(path.toString(), null, "has no record " + prefix + record);
    }
    if (z.getSize() > Integer.MAX_VALUE - 16) {
      throw new TorchScriptFormatException(path.toString(), null, "record " + prefix + record + " is " + z.getSize()
          + " bytes, over the 2 GiB of one Java array");
    }
    try (InputStream in = zip.getInputStream(z)) {
      byte[] b = in.readNBytes((int) Math.max(z.getSize(), 0));
      if (z.getSize() >= 0 && b.length != z.getSize()) {
        throw new TorchScriptFormatException(path.toString(), null, "record " + prefix + record + " ends after "
            + b.length + " of " + z.getSize() + " bytes (truncated?)");
      }
      return b;
    } catch (ZipException | java.io.EOFException e) {
      throw new TorchScriptFormatException(path.toString(), null, "record " + prefix + record + " cannot be read ("
          + e.getMessage() + "); is the file complete?", e);
    }
  }

  @Override
  public void close() throws IOException {
    zip.close();
  }
}
