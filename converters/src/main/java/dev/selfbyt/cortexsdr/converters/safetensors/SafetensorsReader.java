package dev.selfbyt.cortexsdr.converters.safetensors;

import dev.selfbyt.cortexsdr.core.format.FileKind;
import dev.selfbyt.cortexsdr.core.format.Json;
import dev.selfbyt.cortexsdr.core.tensor.DType;
import dev.selfbyt.cortexsdr.core.tensor.TensorData;
import dev.selfbyt.cortexsdr.core.tensor.TensorInfo;
import dev.selfbyt.cortexsdr.core.tensor.TensorRole;
import dev.selfbyt.cortexsdr.core.tensor.TensorSource;
import java.io.IOException;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads a safetensors model as a {@link TensorSource}: one {@code .safetensors} file, or a
 * sharded set given by its {@code model.safetensors.index.json} (the shards it names must sit
 * beside it). Every header is checked when the reader opens ({@link SafetensorsHeader}); each
 * tensor's bytes are memory-mapped only when the compression pipeline asks for it, so memory stays
 * bounded by the tensors in flight. Roles and reduction axes come from names and shapes ({@link
 * WeightRoles}). {@link #graph()} keeps every header verbatim and the index text: {@link
 * SafetensorsWriter} writes the same files back.
 *
 * <pre>{@code
 * try (SafetensorsReader st = SafetensorsReader.open(Path.of("model.safetensors"))) {
 *   CortexSdr.compress(st, Path.of("model.cai"), options);
 * }
 * }</pre>
 */
public final class SafetensorsReader implements TensorSource {
  /** The {@code source.format} this reader writes into the manifest. */
  public static final String FORMAT = "safetensors";
  /** The largest index file read. */
  static final long MAX_INDEX_BYTES = 100_000_000L;

  private record Shard(String name, Path path, FileChannel channel, SafetensorsHeader header) {}

  private record Located(Shard shard, SafetensorsHeader.Entry entry) {}

  private final Path path;
  private final String indexText;
  private final List<Shard> shards;
  private final Map<String, Located> byName = new HashMap<>();
  private final List<TensorInfo> tensors = new ArrayList<>();
  private final Map<String, String> metadata = new LinkedHashMap<>();

  private SafetensorsReader(Path path, String indexText, List<Shard> shards, Map<String, String> metadata)
      throws SafetensorsFormatException {
    this.path = path;
    this.indexText = indexText;
    this.shards = shards;
    this.metadata.putAll(metadata);
    for (Shard s : shards) {
      for (SafetensorsHeader.Entry e : s.header().entries()) {
        if (byName.put(e.name(), new Located(s, e)) != null) {
          throw new SafetensorsFormatException(s.path().toString(), e.name(), "this tensor name is also in shard "
              + byName.get(e.name()).shard().name());
        }
        tensors.add(info(e));
      }
    }
  }

  /** The info a tensor is stored under: sub-byte types as their packed bytes. */
  static TensorInfo info(SafetensorsHeader.Entry e) {
    if (e.dtype().dtype() == null) {
      return new TensorInfo(e.name(), DType.UINT8, new long[] {e.length()}, TensorRole.OTHER, -1);
    }
    return WeightRoles.info(e.name(), e.dtype().dtype(), e.shape());
  }

  /**
   * Opens a {@code .safetensors} file, or the index of a sharded set (a JSON file with a {@code
   * weight_map}); judged by content, not by name.
   *
   * @throws SafetensorsFormatException naming the file, the tensor and the cause, before anything
   *     of a declared size is allocated
   */
  public static SafetensorsReader open(Path path) throws IOException {
    if (!Files.isRegularFile(path)) {
      throw new SafetensorsFormatException(path.toString(), null, Files.exists(path) ? "not a file" : "no such file");
    }
    FileKind kind = FileKind.of(path);
    if (kind == FileKind.JSON) {
      return openIndex(path);
    }
    if (kind != FileKind.SAFETENSORS && kind != FileKind.UNKNOWN) { // unknown: the header check says what is wrong
      throw new SafetensorsFormatException(path.toString(), null, "not a safetensors file: this is "
          + kind.description());
    }
    Shard s = shard(path.getFileName().toString(), path);
    try {
      return new SafetensorsReader(path, null, List.of(s), s.header().metadata());
    } catch (IOException | RuntimeException e) {
      s.channel().close();
      throw e;
    }
  }

  private static Shard shard(String name, Path file) throws IOException {
    FileChannel ch;
    try {
      ch = FileChannel.open(file, StandardOpenOption.READ);
    } catch (NoSuchFileException e) {
      throw new SafetensorsFormatException(file.toString(), null, "no such file");
    }
    try {
      return new Shard(name, file, ch, SafetensorsHeader.read(file.toString(), ch));
    } catch (IOException | RuntimeException e) {
      ch.close();
      throw e;
    }
  }

  private static SafetensorsReader openIndex(Path index) throws IOException {
    String file = index.toString();
    long size = Files.size(index);
    if (size > MAX_INDEX_BYTES) {
      throw new SafetensorsFormatException(file, null, "index of " + size + " bytes, over the "
          + MAX_INDEX_BYTES + "-byte limit");
    }
    String text = Files.readString(index, StandardCharsets.UTF_8);
    Object parsed;
    try {
      parsed = Json.parse(text);
    } catch (RuntimeException e) {
      throw new SafetensorsFormatException(file, null, "index is not valid JSON: " + e.getMessage(), e);
    }
    if (!(parsed instanceof Map<?, ?> top) || !(top.get("weight_map") instanceof Map<?, ?> weightMap)) {
      throw new SafetensorsFormatException(file, null, "a JSON file without a \"weight_map\" object: not a "
          + "safetensors index (give the .safetensors file or its model.safetensors.index.json)");
    }
    Map<String, String> metadata = new LinkedHashMap<>();
    if (top.get("metadata") instanceof Map<?, ?> m) {
      for (Map.Entry<?, ?> e : m.entrySet()) {
        metadata.put((String) e.getKey(), String.valueOf(e.getValue()));
      }
    }
    Map<String, List<String>> byShard = new LinkedHashMap<>();
    for (Map.Entry<?, ?> e : weightMap.entrySet()) {
      if (!(e.getValue() instanceof String shardName)) {
        throw new SafetensorsFormatException(file, (String) e.getKey(), "weight_map value is not a file name");
      }
      if (shardName.isEmpty() || shardName.contains("/") || shardName.contains("\\") || shardName.equals(".")
          || shardName.equals("..")) {
        throw new SafetensorsFormatException(file, (String) e.getKey(), "shard '" + shardName
            + "' is not a file name beside the index (paths are refused)");
      }
      byShard.computeIfAbsent(shardName, k -> new ArrayList<>()).add((String) e.getKey());
    }
    if (byShard.isEmpty()) {
      throw new SafetensorsFormatException(file, null, "weight_map is empty");
    }
    Path dir = index.toAbsolutePath().getParent();
    List<Shard> shards = new ArrayList<>();
    try {
      for (Map.Entry<String, List<String>> e : byShard.entrySet()) {
        Path p = dir.resolve(e.getKey());
        if (!Files.isRegularFile(p)) {
          throw new SafetensorsFormatException(file, e.getValue().get(0), "shard " + e.getKey()
              + " is missing (looked for " + p + ")");
        }
        Shard s = shard(e.getKey(), p);
        shards.add(s);
        java.util.Set<String> listed = new java.util.HashSet<>(e.getValue());
        for (SafetensorsHeader.Entry t : s.header().entries()) {
          if (!listed.remove(t.name())) {
            throw new SafetensorsFormatException(p.toString(), t.name(), "tensor is in this shard but the index "
                + "does not map it here");
          }
        }
        if (!listed.isEmpty()) {
          throw new SafetensorsFormatException(p.toString(), listed.iterator().next(), "the index maps this tensor "
              + "to this shard, which does not hold it");
        }
      }
      metadata.put("shards", Integer.toString(shards.size()));
      return new SafetensorsReader(index, text, shards, metadata);
    } catch (IOException | RuntimeException e) {
      for (Shard s : shards) {
        s.channel().close();
      }
      throw e;
    }
  }

  @Override
  public String format() {
    return FORMAT;
  }

  @Override
  public String location() {
    return path.toString();
  }

  @Override
  public Map<String, String> metadata() {
    return metadata;
  }

  /** Whether this is a sharded set (opened by its index). */
  public boolean sharded() {
    return indexText != null;
  }

  /**
   * The layout, stored as the graph segment (JSON): {@code {"index": {"name", "text"}, "files":
   * [{"name", "header"}]}}, each header the file's header JSON verbatim; {@code index} is absent
   * for a single file.
   */
  @Override
  public byte[] graph() {
    Map<String, Object> g = new LinkedHashMap<>();
    g.put("format", FORMAT);
    if (indexText != null) {
      Map<String, Object> ix = new LinkedHashMap<>();
      ix.put("name", path.getFileName().toString());
      ix.put("text", indexText);
      g.put("index", ix);
    }
    List<Object> files = new ArrayList<>();
    for (Shard s : shards) {
      Map<String, Object> f = new LinkedHashMap<>();
      f.put("name", s.name());
      f.put("header", new String(s.header().json(), StandardCharsets.UTF_8));
      files.add(f);
    }
    g.put("files", files);
    return Json.write(g).getBytes(StandardCharsets.UTF_8);
  }

  @Override
  public List<TensorInfo> tensors() {
    return List.copyOf(tensors);
  }

  @Override
  public TensorData read(TensorInfo info) throws IOException {
    Located l = byName.get(info.name());
    if (l == null) {
      throw new SafetensorsFormatException(path.toString(), info.name(), "no such tensor in this model");
    }
    long length = l.entry().length();
    if (length > Integer.MAX_VALUE - 16) {
      throw new SafetensorsFormatException(l.shard().path().toString(), info.name(), "tensor of " + length
          + " bytes; at most 2 GiB per tensor");
    }
    long at = l.shard().header().dataStart() + l.entry().begin();
    if (at + length > l.shard().channel().size()) { // the file shrank since it was opened
      throw new SafetensorsFormatException(l.shard().path().toString(), info.name(), "truncated: the file ends "
          + "before this tensor's data");
    }
    var mapped = l.shard().channel().map(FileChannel.MapMode.READ_ONLY, at, length);
    return TensorData.ofBytes(info, mapped.order(ByteOrder.LITTLE_ENDIAN));
  }

  @Override
  public void close() throws IOException {
    for (Shard s : shards) {
      s.channel().close();
    }
  }
}
