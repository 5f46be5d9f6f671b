package dev.selfbyt.cortexsdr.converters.statedict;

import dev.selfbyt.cortexsdr.converters.safetensors.WeightRoles;
import dev.selfbyt.cortexsdr.converters.torchzip.PickleException;
import dev.selfbyt.cortexsdr.converters.torchzip.PickleGlobals;
import dev.selfbyt.cortexsdr.converters.torchzip.RestrictedUnpickler;
import dev.selfbyt.cortexsdr.converters.torchzip.RestrictedUnpickler.StorageRef;
import dev.selfbyt.cortexsdr.converters.torchzip.RestrictedUnpickler.TensorRef;
import dev.selfbyt.cortexsdr.converters.torchzip.RestrictedUnpickler.Tuple;
import dev.selfbyt.cortexsdr.converters.torchzip.StoredZip;
import dev.selfbyt.cortexsdr.converters.torchzip.TorchZipException;
import dev.selfbyt.cortexsdr.core.format.FileKind;
import dev.selfbyt.cortexsdr.core.format.Json;
import dev.selfbyt.cortexsdr.core.tensor.TensorData;
import dev.selfbyt.cortexsdr.core.tensor.TensorInfo;
import dev.selfbyt.cortexsdr.core.tensor.TensorRole;
import dev.selfbyt.cortexsdr.core.tensor.TensorSource;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads a PyTorch state dict saved by {@code torch.save} (the zip format of torch 1.6 and later:
 * {@code <prefix>/data.pkl}, the pickled dict, and one raw record {@code <prefix>/data/<key>} per
 * storage) as a {@link TensorSource}. The pickle is read by {@link RestrictedUnpickler} with the
 * globals {@link #GLOBALS}: nothing in the file is ever run, and a pickle naming any global but
 * torch's tensor rebuilders is refused.
 *
 * <p>Each storage is one {@code .cai} tensor. When the first tensor that uses a storage covers it
 * exactly (offset 0, contiguous, as every parameter of {@code module.state_dict()}), the storage
 * takes that tensor's name, shape and the role its name and shape imply ({@link WeightRoles});
 * a storage shared or used in part is stored whole, lossless, as {@code data/<key>}. Storages are
 * memory-mapped in place when the pipeline asks for them, their CRC-32 checked. Nested containers
 * (a checkpoint {@code {"model": state_dict, ...}}) name tensors by their path, {@code
 * model.fc.weight}. {@link #graph()} keeps the pickle and the other records verbatim, so that
 * {@link StateDictWriter} writes a {@code .pt} that {@code torch.load} reads. The zip's directory is
 * read and checked by {@link StoredZip}.
 */
public final class StateDictReader implements TensorSource {
  /** The {@code source.format} this reader writes into the manifest. */
  public static final String FORMAT = "pytorch-state-dict";
  /** The largest non-storage record kept (the pickle, version records). */
  static final long MAX_RECORD_BYTES = 256L << 20;

  /**
   * The globals a plain state dict's pickle may name (torch 1.x and 2.x): {@code
   * collections.OrderedDict}, torch's tensor and parameter rebuilders, {@code torch.Size} and the
   * storage types.
   */
  public static final PickleGlobals GLOBALS;

  static {
    List<String> names = new ArrayList<>(List.of(
        "collections.OrderedDict",
        "torch._utils._rebuild_tensor",
        "torch._utils._rebuild_tensor_v2",
        "torch._utils._rebuild_parameter",
        "torch._utils._rebuild_parameter_with_state",
        "torch._tensor._rebuild_from_type_v2",
        "torch.Tensor",
        "torch.nn.parameter.Parameter",
        "torch.Size"));
    names.addAll(PickleGlobals.torchStorages());
    GLOBALS = PickleGlobals.of("A state dict may name only the globals torch writes for tensors "
        + "(collections.OrderedDict, torch._utils._rebuild_tensor_v2, torch._utils._rebuild_parameter, "
        + "torch.*Storage). If the file is trusted, load it in Python and re-save model.state_dict()", names);
  }

  private record Stored(StorageRef ref, StoredZip.Entry entry, TensorInfo info) {}

  private final Path path;
  private final FileChannel channel;
  private final StoredZip zip;
  private final String prefix;
  private final Map<String, byte[]> records = new LinkedHashMap<>();
  private final Map<String, Stored> storages = new LinkedHashMap<>(); // by storage key
  private final Map<String, Stored> byName = new HashMap<>();
  private final List<TensorInfo> tensors = new ArrayList<>();
  private final Map<String, String> metadata = new LinkedHashMap<>();

  private StateDictReader(Path path, FileChannel channel) throws IOException {
    this.path = path;
    this.channel = channel;
    String file = path.toString();
    try {
      this.zip = StoredZip.read(channel);
    } catch (TorchZipException e) {
      throw new StateDictFormatException(file, e.record(), e.getMessage(), e);
    }
    this.prefix = prefix(file, zip);
    for (StoredZip.Entry e : zip.entries().values()) {
      if (!e.name().startsWith(prefix + "/data/")) {
        records.put(e.name(), record(e));
      }
    }
    byte[] order = records.get(prefix + "/byteorder");
    if (order != null && !new String(order, StandardCharsets.US_ASCII).trim().equals("little")) {
      throw new StateDictFormatException(file, null, "storages are big-endian (byteorder record); only little-endian "
          + "files are read");
    }
    Object top = unpickle(file + ":" + prefix + "/data.pkl", records.get(prefix + "/data.pkl"));
    List<Map.Entry<String, TensorRef>> named = new ArrayList<>();
    walk(top, "", named);
    if (named.isEmpty()) {
      throw new StateDictFormatException(file, null, "the pickle holds no tensors: not a state dict");
    }
    for (Map.Entry<String, TensorRef> t : named) {
      add(file, t.getKey(), t.getValue());
    }
    for (Stored s : storages.values()) {
      if (byName.put(s.info().name(), s) != null) {
        throw new StateDictFormatException(file, s.info().name(), "two storages would be stored under this name");
      }
      tensors.add(s.info());
    }
    metadata.put("prefix", prefix);
    byte[] version = records.get(prefix + "/version");
    if (version != null) {
      metadata.put("version", new String(version, StandardCharsets.US_ASCII).trim());
    }
  }

  /**
   * Opens a {@code torch.save} zip and reads its pickle.
   *
   * @throws StateDictFormatException naming the file, the tensor and the cause: not a zip (a legacy
   *     pre-1.6 file says so), a TorchScript archive, truncated or damaged, a global not allowed, a
   *     storage missing or of the wrong size, a tensor reading past its storage
   */
  public static StateDictReader open(Path path) throws IOException {
    if (!Files.isRegularFile(path)) {
      throw new StateDictFormatException(path.toString(), null, Files.exists(path) ? "not a file" : "no such file");
    }
    FileKind kind = FileKind.of(path);
    if (kind == FileKind.PICKLE) {
      throw new StateDictFormatException(path.toString(), null, "a pickle without a zip: the legacy torch.save format "
          + "(before torch 1.6), which is not read; load it in Python and save it again with torch.save (the zip "
          + "format is the default)");
    }
    if (kind != FileKind.ZIP && kind != FileKind.TORCH_STATE_DICT && kind != FileKind.TORCHSCRIPT) {
      throw new StateDictFormatException(path.toString(), null, FileKind.describe(head(path), Files.size(path))
          + ", not a torch.save zip");
    }
    FileChannel ch = FileChannel.open(path, StandardOpenOption.READ);
    try {
      return new StateDictReader(path, ch);
    } catch (IOException | RuntimeException e) {
      ch.close();
      throw e;
    }
  }

  /**
   * A state dict's pickle read with {@link #GLOBALS}.
   *
   * @param source how to name it in errors ({@code model.pt:archive/data.pkl})
   * @throws StateDictFormatException naming the source, the byte and the cause
   */
  static Object unpickle(String source, byte[] pickle) throws StateDictFormatException {
    try {
      return RestrictedUnpickler.read(pickle, GLOBALS);
    } catch (PickleException e) {
      throw new StateDictFormatException(source, null, e.getMessage(), e);
    }
  }

  private static byte[] head(Path p) throws IOException {
    try (var in = Files.newInputStream(p)) {
      return in.readNBytes(FileKind.HEAD);
    }
  }

  /** The one top folder holding {@code data.pkl}; TorchScript archives refused. */
  static String prefix(String file, StoredZip zip) throws StateDictFormatException {
    String prefix = null;
    for (String n : zip.entries().keySet()) {
      int slash = n.indexOf('/');
      if (slash > 0 && n.substring(slash + 1).equals("data.pkl")) {
        if (prefix != null) {
          throw new StateDictFormatException(file, null, "two data.pkl records (" + prefix + ", " + n.substring(0, slash)
              + "): not a torch.save file");
        }
        prefix = n.substring(0, slash);
      }
    }
    if (prefix == null) {
      throw new StateDictFormatException(file, null, "a zip without <folder>/data.pkl: not a torch.save file");
    }
    String folder = prefix;
    if (zip.entries().containsKey(folder + "/constants.pkl")
        || zip.entries().keySet().stream().anyMatch(k -> k.startsWith(folder + "/code/"))) {
      throw new StateDictFormatException(file, null, "a TorchScript archive (code/ and constants.pkl), not a state dict:"
          + " it needs the pytorch module (cortexsdr-pytorch)");
    }
    for (String n : zip.entries().keySet()) {
      if (!n.startsWith(prefix + "/")) {
        throw new StateDictFormatException(file, null, "record " + n + " is outside the folder " + prefix
            + "/: not a torch.save file");
      }
    }
    return prefix;
  }

  private byte[] record(StoredZip.Entry e) throws IOException {
    String file = path.toString();
    if (e.method() != 0 || e.compressedSize() != e.size()) {
      throw new StateDictFormatException(file, null, "record " + e.name() + " is compressed (method " + e.method()
          + "); torch.save stores records uncompressed");
    }
    if (e.size() > MAX_RECORD_BYTES) {
      throw new StateDictFormatException(file, null, "record " + e.name() + " of " + e.size() + " bytes, over the "
          + MAX_RECORD_BYTES + "-byte limit for non-storage records");
    }
    ByteBuffer b = ByteBuffer.allocate((int) e.size());
    while (b.hasRemaining()) {
      if (channel.read(b, e.dataOffset() + b.position()) < 0) {
        throw new StateDictFormatException(file, null, "truncated inside record " + e.name());
      }
    }
    checkCrc(file, null, e, b.flip());
    return b.array();
  }

  private static void checkCrc(String file, String tensor, StoredZip.Entry e, ByteBuffer data)
      throws StateDictFormatException {
    java.util.zip.CRC32 crc = new java.util.zip.CRC32();
    crc.update(data.duplicate());
    if (crc.getValue() != e.crc()) {
      throw new StateDictFormatException(file, tensor, "record " + e.name() + " is damaged (CRC-32 "
          + Long.toHexString(crc.getValue()) + ", the zip says " + Long.toHexString(e.crc()) + ")");
    }
  }

  /** Containers nest at most this deep (a checkpoint nests two or three; a pickle can make cycles). */
  static final int MAX_DEPTH = 64;

  private void walk(Object v, String name, List<Map.Entry<String, TensorRef>> out) throws StateDictFormatException {
    walk(v, name, out, 0);
  }

  private void walk(Object v, String name, List<Map.Entry<String, TensorRef>> out, int depth)
      throws StateDictFormatException {
    if (depth > MAX_DEPTH) {
      throw new StateDictFormatException(path.toString(), null, "containers nested deeper than " + MAX_DEPTH
          + " (or a cycle) at '" + name + "': not a state dict");
    }
    if (v instanceof TensorRef t) {
      out.add(Map.entry(name.isEmpty() ? "tensor" : name, t));
    } else if (v instanceof Map<?, ?> m) {
      for (Map.Entry<?, ?> e : m.entrySet()) {
        String k = String.valueOf(e.getKey());
        walk(e.getValue(), name.isEmpty() ? k : name + "." + k, out, depth + 1);
      }
    } else if (v instanceof List<?> l) {
      for (int i = 0; i < l.size(); i++) {
        walk(l.get(i), name.isEmpty() ? Integer.toString(i) : name + "." + i, out, depth + 1);
      }
    } else if (v instanceof Tuple t) {
      walk(t.items(), name, out, depth + 1);
    }
  }

  private void add(String file, String name, TensorRef t) throws StateDictFormatException {
    StorageRef s = t.storage();
    long elem = s.dtype().size();
    Stored known = storages.get(s.key());
    StoredZip.Entry e = known != null ? known.entry() : zip.entries().get(prefix + "/data/" + s.key());
    if (e == null) {
      throw new StateDictFormatException(file, name, "storage record " + prefix + "/data/" + s.key()
          + " is missing (truncated or damaged file)");
    }
    long bytes;
    try {
      bytes = Math.multiplyExact(s.numel(), elem);
    } catch (ArithmeticException x) {
      throw new StateDictFormatException(file, name, "storage " + s.key() + " of " + s.numel() + " elements overflows");
    }
    if (e.method() != 0 || e.size() != bytes || e.compressedSize() != bytes) {
      throw new StateDictFormatException(file, name, "storage record " + e.name() + " holds " + e.size()
          + " bytes" + (e.method() != 0 ? " compressed" : "") + "; the pickle says " + s.numel() + " elements of "
          + s.dtype() + " = " + bytes + " bytes");
    }
    checkView(file, name, t);
    if (known != null) {
      return;
    }
    TensorInfo info;
    if (t.coversStorage()) {
      info = WeightRoles.info(name, s.dtype(), t.size());
    } else { // a view of part of a storage: the storage is kept whole, bit for bit
      info = new TensorInfo("data/" + s.key(), s.dtype(), new long[] {s.numel()}, TensorRole.OTHER, -1);
    }
    storages.put(s.key(), new Stored(s, e, info));
  }

  /** The tensor's element count, after checking that every element it reads lies in its storage. */
  private static long checkView(String file, String name, TensorRef t) throws StateDictFormatException {
    long[] size = t.size();
    long[] stride = t.stride();
    try {
      long n = 1;
      long last = t.offset();
      for (int i = 0; i < size.length; i++) {
        if (size[i] < 0 || stride[i] < 0) {
          throw new StateDictFormatException(file, name, "size " + Arrays.toString(size) + " stride "
              + Arrays.toString(stride) + ": negative");
        }
        n = Math.multiplyExact(n, size[i]);
        if (size[i] > 0) {
          last = Math.addExact(last, Math.multiplyExact(size[i] - 1, stride[i]));
        }
      }
      if (t.offset() < 0 || n > 0 && last >= t.storage().numel()) {
        throw new StateDictFormatException(file, name, "shape " + Arrays.toString(size) + " with stride "
            + Arrays.toString(stride) + " at offset " + t.offset() + " reads element " + last + " of storage "
            + t.storage().key() + ", which has " + t.storage().numel() + " (shape mismatch)");
      }
      return n;
    } catch (ArithmeticException x) {
      throw new StateDictFormatException(file, name, "shape " + Arrays.toString(size) + " overflows");
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

  /**
   * The layout, stored as the graph segment (JSON): {@code {"records": [{"name", "base64"} |
   * {"name", "storage"}], "storages": {key: {"tensor", "dtype", "numel"}}}}, records in zip order;
   * the pickle and every other non-storage record kept verbatim.
   */
  @Override
  public byte[] graph() throws IOException {
    Map<String, Object> g = new LinkedHashMap<>();
    g.put("format", FORMAT);
    List<Object> recs = new ArrayList<>();
    Map<String, Object> st = new LinkedHashMap<>();
    for (StoredZip.Entry e : zip.entries().values()) {
      Map<String, Object> r = new LinkedHashMap<>();
      r.put("name", e.name());
      String key = e.name().startsWith(prefix + "/data/") ? e.name().substring(prefix.length() + 6) : null;
      Stored s = key == null ? null : storages.get(key);
      if (s == null) {
        byte[] b = records.get(e.name());
        if (b == null) { // a storage record the pickle never uses: kept as it is
          b = record(e);
        }
        r.put("base64", Base64.getEncoder().encodeToString(b));
      } else {
        r.put("storage", key);
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("tensor", s.info().name());
        m.put("dtype", s.ref().dtype().name());
        m.put("numel", s.ref().numel());
        st.put(key, m);
      }
      recs.add(r);
    }
    g.put("records", recs);
    g.put("storages", st);
    return Json.write(g).getBytes(StandardCharsets.UTF_8);
  }

  @Override
  public List<TensorInfo> tensors() {
    return List.copyOf(tensors);
  }

  @Override
  public TensorData read(TensorInfo info) throws IOException {
    Stored s = byName.get(info.name());
    if (s == null) {
      throw new StateDictFormatException(path.toString(), info.name(), "no such tensor in this state dict");
    }
    long n = s.entry().size();
    if (n > Integer.MAX_VALUE - 16) {
      throw new StateDictFormatException(path.toString(), info.name(), "storage of " + n + " bytes; at most 2 GiB per tensor");
    }
    if (s.entry().dataOffset() + n > channel.size()) {
      throw new StateDictFormatException(path.toString(), info.name(), "truncated: the file ends inside storage "
          + s.entry().name());
    }
    MappedByteBuffer b = channel.map(FileChannel.MapMode.READ_ONLY, s.entry().dataOffset(), n);
    checkCrc(path.toString(), info.name(), s.entry(), b);
    return TensorData.ofBytes(info, b.order(ByteOrder.LITTLE_ENDIAN));
  }

  @Override
  public void close() throws IOException {
    channel.close();
  }
}
