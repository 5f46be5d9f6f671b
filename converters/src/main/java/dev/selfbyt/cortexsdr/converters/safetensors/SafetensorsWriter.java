package dev.selfbyt.cortexsdr.converters.safetensors;

import dev.selfbyt.cortexsdr.core.format.CaiException;
import dev.selfbyt.cortexsdr.core.format.CaiReader;
import dev.selfbyt.cortexsdr.core.format.CaiWriter;
import dev.selfbyt.cortexsdr.core.format.Json;
import dev.selfbyt.cortexsdr.core.format.WriterTempFiles;
import dev.selfbyt.cortexsdr.core.tensor.TensorInfo;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * Writes a {@code .cai} made from safetensors ({@link SafetensorsReader}) back out: each file with
 * its stored header, byte for byte, and its tensors decoded into their own dtype at their own
 * offsets. A lossless archive gives back files identical to the originals; a quantized one the
 * same files with the decoded values. A sharded set is written as the index at the target and its
 * shards beside it, under their stored names. Every file is written to a temporary file first and
 * all are renamed only when all are complete: a failure leaves nothing.
 *
 * <pre>{@code
 * try (CaiReader cai = CaiReader.open(Path.of("model.cai"))) {
 *   SafetensorsWriter.write(cai, Path.of("model.safetensors"));
 * }
 * }</pre>
 */
public final class SafetensorsWriter {
  private SafetensorsWriter() {}

  private record Layout(String indexName, String indexText, List<String> names, List<SafetensorsHeader> headers) {}

  /**
   * Whether {@code cai} was made from safetensors.
   */
  public static boolean madeFrom(CaiReader cai) {
    return SafetensorsReader.FORMAT.equals(sourceFormat(cai));
  }

  static Object sourceFormat(CaiReader cai) {
    return cai.manifest().get("source") instanceof Map<?, ?> m ? m.get("format") : null;
  }

  /**
   * Checks a {@code .cai} made from safetensors against its stored headers (every tensor present,
   * of the dtype and shape its header says, none extra), as {@code cortexsdr verify} does; other
   * archives pass untouched.
   *
   * @throws CaiException naming the archive, the tensor and the disagreement
   */
  public static void check(CaiReader cai) throws CaiException {
    if (madeFrom(cai)) {
      layout(cai);
    }
  }

  /**
   * Writes the file (or the index and its shards) to {@code target}.
   *
   * @return the files written, the target first
   * @throws CaiException if the archive was not made from safetensors, its stored headers disagree
   *     with its tensors, a tensor does not decode, or a file cannot be written
   */
  public static List<Path> write(CaiReader cai, Path target) throws IOException {
    String file = cai.path().toString();
    if (!madeFrom(cai)) {
      Object f = sourceFormat(cai);
      throw new CaiException(file, null, "was made from " + (f == null ? "an unknown format" : "a " + f + " model")
          + ", not safetensors: it cannot be written as safetensors");
    }
    Layout layout = layout(cai);
    Path abs = target.toAbsolutePath();
    Path dir = abs.getParent();
    if (dir == null || !Files.isDirectory(dir)) {
      throw new CaiException(target.toString(), null, "cannot write here: folder " + dir + " does not exist");
    }
    List<Path> targets = new ArrayList<>();
    if (layout.indexText() == null) {
      targets.add(abs);
    } else {
      targets.add(abs);
      for (String n : layout.names()) {
        Path p = dir.resolve(n);
        if (p.equals(abs)) {
          throw new CaiException(target.toString(), null, "the index would overwrite its shard " + n
              + ": name the index file (model.safetensors.index.json)");
        }
        targets.add(p);
      }
    }
    List<WriterTempFiles.Held> temps = new ArrayList<>();
    try {
      if (layout.indexText() != null) {
        WriterTempFiles.Held h = create(targets.get(0));
        temps.add(h);
        h.channel().write(ByteBuffer.wrap(layout.indexText().getBytes(StandardCharsets.UTF_8)));
      }
      for (int i = 0; i < layout.headers().size(); i++) {
        Path t = targets.get(layout.indexText() == null ? 0 : i + 1);
        WriterTempFiles.Held h = create(t);
        temps.add(h);
        writeFile(cai, layout.headers().get(i), h, t);
      }
      for (int i = 0; i < temps.size(); i++) {
        temps.get(i).channel().close();
        CaiWriter.moveIntoPlace(temps.get(i).path(), targets.get(i));
        WriterTempFiles.release(temps.get(i).path());
      }
      return targets;
    } catch (IOException | RuntimeException e) {
      for (WriterTempFiles.Held h : temps) {
        h.channel().close();
        Files.deleteIfExists(h.path());
        WriterTempFiles.release(h.path());
      }
      throw e instanceof CaiException c ? c : new CaiException(target.toString(), null, "write failed: " + e, e);
    }
  }

  private static WriterTempFiles.Held create(Path target) throws CaiException {
    try {
      return WriterTempFiles.create(target);
    } catch (IOException e) {
      throw new CaiException(target.toString(), null, "cannot write here: folder " + target.getParent()
          + " is not writable (" + e.getClass().getSimpleName() + ")", e);
    }
  }

  private static void writeFile(CaiReader cai, SafetensorsHeader header, WriterTempFiles.Held out, Path target)
      throws IOException {
    byte[] json = header.json();
    ByteBuffer len = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(0, json.length);
    writeAll(out, len);
    writeAll(out, ByteBuffer.wrap(json));
    for (SafetensorsHeader.Entry e : header.entries()) {
      ByteBuffer b = cai.read(e.name()).bytes();
      if (b.remaining() != e.length()) { // checked in layout(); a guard against a changed reader
        throw new CaiException(cai.path().toString(), e.name(), "decodes to " + b.remaining() + " bytes, the "
            + "header of " + target.getFileName() + " needs " + e.length());
      }
      writeAll(out, b);
    }
  }

  private static void writeAll(WriterTempFiles.Held out, ByteBuffer b) throws IOException {
    while (b.hasRemaining()) {
      out.channel().write(b);
    }
  }

  /** The stored layout, each header checked against the archive's directory. */
  private static Layout layout(CaiReader cai) throws CaiException {
    String file = cai.path().toString();
    Object g;
    try {
      g = Json.parse(new String(cai.graph(), StandardCharsets.UTF_8));
    } catch (RuntimeException e) {
      throw new CaiException(file, null, "graph segment is not a safetensors layout: " + e.getMessage(), e);
    }
    if (!(g instanceof Map<?, ?> m) || !(m.get("files") instanceof List<?> files) || files.isEmpty()) {
      throw new CaiException(file, null, "graph segment is not a safetensors layout (no files)");
    }
    String indexName = null;
    String indexText = null;
    if (m.get("index") instanceof Map<?, ?> ix) {
      indexName = String.valueOf(ix.get("name"));
      indexText = ix.get("text") instanceof String s ? s : null;
      if (indexText == null) {
        throw new CaiException(file, null, "graph segment: index without its text");
      }
    }
    List<String> names = new ArrayList<>();
    List<SafetensorsHeader> headers = new ArrayList<>();
    int tensors = 0;
    for (Object o : files) {
      if (!(o instanceof Map<?, ?> f) || !(f.get("name") instanceof String name)
          || !(f.get("header") instanceof String header)) {
        throw new CaiException(file, null, "graph segment: a file without name or header");
      }
      if (name.isEmpty() || name.contains("/") || name.contains("\\") || name.equals("..")) {
        throw new CaiException(file, null, "graph segment: file name '" + name + "' is a path");
      }
      SafetensorsHeader h;
      try {
        h = SafetensorsHeader.parse(file + " (stored header of " + name + ")", header.getBytes(StandardCharsets.UTF_8), -1);
      } catch (SafetensorsFormatException e) {
        throw new CaiException(file, e.tensor(), e.reason(), e);
      }
      for (SafetensorsHeader.Entry e : h.entries()) {
        if (!cai.contains(e.name())) {
          throw new CaiException(file, e.name(), "is in the stored header of " + name + " but not in the archive");
        }
        TensorInfo want = SafetensorsReader.info(e);
        TensorInfo have = cai.entry(e.name()).info();
        if (want.dtype() != have.dtype() || !Arrays.equals(want.shape(), have.shape())) {
          throw new CaiException(file, e.name(), "archive holds " + have + ", the stored header of " + name
              + " says " + want);
        }
      }
      tensors += h.entries().size();
      names.add(name);
      headers.add(h);
    }
    if (tensors != cai.entries().size()) {
      throw new CaiException(file, null, "archive holds " + cai.entries().size() + " tensors, the stored headers "
          + tensors);
    }
    if (indexText == null && files.size() != 1) {
      throw new CaiException(file, null, "graph segment: several files without an index");
    }
    return new Layout(indexName, indexText, names, headers);
  }
}
