package dev.selfbyt.cortexsdr.pytorch;

import dev.selfbyt.cortexsdr.converters.torchzip.PickleException;
import dev.selfbyt.cortexsdr.converters.torchzip.PickleGlobals;
import dev.selfbyt.cortexsdr.converters.torchzip.RestrictedUnpickler;
import dev.selfbyt.cortexsdr.converters.torchzip.RestrictedUnpickler.ModuleObject;
import dev.selfbyt.cortexsdr.converters.torchzip.RestrictedUnpickler.StorageRef;
import dev.selfbyt.cortexsdr.converters.torchzip.RestrictedUnpickler.TensorRef;
import dev.selfbyt.cortexsdr.converters.torchzip.RestrictedUnpickler.Tuple;
import dev.selfbyt.cortexsdr.core.tensor.TensorData;
import dev.selfbyt.cortexsdr.core.tensor.TensorInfo;
import dev.selfbyt.cortexsdr.core.tensor.TensorSource;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A TorchScript archive ({@code torch.jit.save}, traced or scripted) as a {@link TensorSource}, read
 * without PyTorch: one tensor per weight storage ({@code data/KEY}), named by the first attribute
 * path that holds it ({@code layer1.0.conv1.weight}, {@code encoder.layers.0.mlp.0.weight}), with its
 * dtype and shape from {@code data.pkl} (read by {@link RestrictedUnpickler} with {@link #GLOBALS})
 * and its role and reduction axis from how the module's code uses it ({@link WeightUses}). Parameters and buffers alike: TorchScript does
 * not tell them apart in storage, and a traced model may hold all its weights in buffers. A storage
 * that no tensor covers whole (a view, a transposed copy) is stored flat, lossless. {@link #graph()}
 * is the module's {@link TorchScriptSkeleton}.
 *
 * <pre>{@code
 * try (TorchScriptReader pt = TorchScriptReader.open(Path.of("model.pt"))) {
 *   CortexSdr.compress(pt, Path.of("model.cai"), options);
 * }
 * }</pre>
 */
public final class TorchScriptReader implements TensorSource {
  /** The source format stored in the manifest. */
  public static final String FORMAT = "torchscript";

  /**
   * The globals a TorchScript archive's {@code data.pkl} may name: its module classes ({@code
   * __torch__.*}, whose objects are made), torch's storage types, {@code _rebuild_tensor_v2}, {@code
   * collections.OrderedDict} and the list builders of {@code torch.jit._pickle}.
   */
  public static final PickleGlobals GLOBALS;

  static {
    List<String> names = new ArrayList<>(List.of("torch._utils._rebuild_tensor_v2", "collections.OrderedDict",
        "torch.jit._pickle.build_*", "torch.jit._pickle.restore_type_tag"));
    names.addAll(PickleGlobals.torchStorages());
    GLOBALS = PickleGlobals.of("A TorchScript archive names only its __torch__ classes, torch.*Storage, "
        + "torch._utils._rebuild_tensor_v2, collections.OrderedDict and torch.jit._pickle's builders", names)
        .withObjectsOf("__torch__.*");
  }

  private final TorchScriptArchive archive;
  private final List<TensorInfo> tensors = new ArrayList<>();
  /** Tensor name to its storage record ({@code data/KEY}). */
  private final Map<String, String> storageOf = new LinkedHashMap<>();
  private final Map<String, String> metadata = new LinkedHashMap<>();

  private record Found(String path, TensorRef ref, WeightUses.Role role) {}

  private TorchScriptReader(TorchScriptArchive archive) throws IOException {
    this.archive = archive;
    String file = archive.path().toString();
    Object root = unpickle(file, archive.prefix() + "data.pkl", archive.record("data.pkl"));
    if (!(root instanceof ModuleObject module)) {
      throw new TorchScriptFormatException(file, null, "data.pkl holds no TorchScript module object");
    }
    WeightUses uses = WeightUses.parse(code());
    Map<String, Found> byStorage = new LinkedHashMap<>();
    walk(module, "", new ArrayList<>(), uses, byStorage, 0);
    for (Found f : byStorage.values()) {
      StorageRef s = f.ref().storage();
      String record = "data/" + s.key();
      long want;
      try {
        want = Math.multiplyExact(s.numel(), (long) s.dtype().size());
      } catch (ArithmeticException e) { // a wrapped product could match a short record
        throw new TorchScriptFormatException(file, f.path(), "its storage of " + s.numel() + " " + s.dtype()
            + " elements overflows");
      }
      if (!archive.has(record)) {
        throw new TorchScriptFormatException(file, f.path(), "its storage " + archive.prefix() + record
            + " is missing from the archive");
      }
      if (archive.size(record) != want) {
        throw new TorchScriptFormatException(file, f.path(), "its storage " + archive.prefix() + record + " has "
            + archive.size(record) + " bytes, but data.pkl declares " + s.numel() + " " + s.dtype() + " elements ("
            + want + " bytes)");
      }
      long[] shape = f.ref().coversStorage() ? f.ref().size() : new long[] {s.numel()};
      WeightUses.Role role = f.ref().coversStorage() ? f.role() : WeightUses.Role.OTHER;
      tensors.add(new TensorInfo(f.path(), s.dtype(), shape, role.role(), role.axis()));
      storageOf.put(f.path(), record);
    }
    metadata.put("module", module.className());
    metadata.put("archive", archive.prefix().substring(0, archive.prefix().length() - 1));
    if (archive.has("version")) {
      metadata.put("torchscriptVersion", new String(archive.record("version"), StandardCharsets.UTF_8).strip());
    }
  }

  /**
   * Opens and indexes a TorchScript archive.
   *
   * @throws TorchScriptFormatException when it is not a readable TorchScript archive, a storage is
   *     missing or of the wrong size, or a tensor reaches outside its storage
   */
  public static TorchScriptReader open(Path path) throws IOException {
    TorchScriptArchive a = TorchScriptArchive.open(path);
    try {
      return new TorchScriptReader(a);
    } catch (IOException | RuntimeException e) {
      a.close();
      throw e;
    }
  }

  /**
   * A TorchScript pickle read with {@link #GLOBALS}.
   *
   * @param file the archive, for messages
   * @param entry the record inside it ({@code model/data.pkl}), for messages
   * @throws TorchScriptFormatException naming the file, the record, the byte and the cause
   */
  static Object unpickle(String file, String entry, byte[] pickle) throws TorchScriptFormatException {
    try {
      return RestrictedUnpickler.read(pickle, GLOBALS);
    } catch (PickleException e) {
      throw new TorchScriptFormatException(file, null, entry + ": " + e.getMessage(), e);
    }
  }

  private Map<String, String> code() throws IOException {
    Map<String, String> sources = new LinkedHashMap<>();
    for (String r : archive.records()) {
      if (r.startsWith("code/") && r.endsWith(".py")) {
        String module = r.substring("code/".length(), r.length() - ".py".length()).replace('/', '.');
        sources.put(module, new String(archive.record(r), StandardCharsets.UTF_8));
      }
    }
    return sources;
  }

  /** Collects every tensor under {@code value}, with the objects above it for its role. */
  private void walk(Object value, String path, List<Map.Entry<String, String>> owners, WeightUses uses,
      Map<String, Found> byStorage, int depth) throws TorchScriptFormatException {
    if (depth > 256) {
      throw new TorchScriptFormatException(archive.path().toString(), path, "modules nest more than 256 deep");
    }
    if (value instanceof ModuleObject m) {
      owners.add(Map.entry(path, m.className()));
      for (Map.Entry<String, Object> e : m.attributes().entrySet()) {
        walk(e.getValue(), join(path, e.getKey()), owners, uses, byStorage, depth + 1);
      }
      owners.remove(owners.size() - 1);
    } else if (value instanceof TensorRef t) {
      check(path, t);
      String key = t.storage().key();
      if (!byStorage.containsKey(key)) {
        byStorage.put(key, new Found(path, t, role(path, t, owners, uses)));
      }
    } else if (value instanceof List<?> || value instanceof Tuple) {
      List<?> l = value instanceof Tuple t ? t.items() : (List<?>) value;
      for (int i = 0; i < l.size(); i++) {
        walk(l.get(i), join(path, Integer.toString(i)), owners, uses, byStorage, depth + 1);
      }
    } else if (value instanceof Map<?, ?> m) {
      for (Map.Entry<?, ?> e : m.entrySet()) {
        walk(e.getValue(), join(path, String.valueOf(e.getKey())), owners, uses, byStorage, depth + 1);
      }
    }
  }

  /** The role from the uses of every object above the tensor, each seeing it by its relative path. */
  private static WeightUses.Role role(String path, TensorRef t, List<Map.Entry<String, String>> owners,
      WeightUses uses) {
    for (int i = owners.size() - 1; i >= 0; i--) {
      String base = owners.get(i).getKey();
      String rel = base.isEmpty() ? path : path.substring(base.length() + 1);
      WeightUses.Role r = uses.role(owners.get(i).getValue(), rel, t.size().length);
      if (r.role() != dev.selfbyt.cortexsdr.core.tensor.TensorRole.OTHER) {
        return r;
      }
    }
    return WeightUses.Role.OTHER;
  }

  /**
   * Every element the view reads lies in its storage: sizes, strides and offset not negative, its
   * element count and last element without overflow.
   */
  private void check(String path, TensorRef t) throws TorchScriptFormatException {
    String file = archive.path().toString();
    String view = "tensor of size " + Arrays.toString(t.size()) + ", stride " + Arrays.toString(t.stride())
        + " at offset " + t.offset();
    if (t.offset() < 0) {
      throw new TorchScriptFormatException(file, path, view + ": negative");
    }
    for (int i = 0; i < t.size().length; i++) {
      if (t.size()[i] < 0 || t.stride()[i] < 0) {
        throw new TorchScriptFormatException(file, path, view + ": negative");
      }
      if (t.size()[i] == 0) {
        return; // empty: reaches nothing
      }
    }
    long last = t.offset();
    try {
      long numel = 1; // counted only to refuse a shape whose count overflows (TensorInfo, coversStorage)
      for (int i = 0; i < t.size().length; i++) {
        numel = Math.multiplyExact(numel, t.size()[i]);
        last = Math.addExact(last, Math.multiplyExact(t.size()[i] - 1, t.stride()[i]));
      }
    } catch (ArithmeticException e) {
      throw new TorchScriptFormatException(file, path, view + " overflows");
    }
    if (last >= t.storage().numel()) {
      throw new TorchScriptFormatException(file, path, view + " reaches past its storage " + t.storage().key()
          + " of " + t.storage().numel() + " elements (shape mismatch)");
    }
  }

  private static String join(String path, String name) {
    return path.isEmpty() ? name : path + "." + name;
  }

  @Override
  public String format() {
    return FORMAT;
  }

  @Override
  public String location() {
    return archive.path().toString();
  }

  @Override
  public Map<String, String> metadata() {
    return metadata;
  }

  /** The skeleton: every record, weight storages as lengths (see {@link TorchScriptSkeleton}). */
  @Override
  public byte[] graph() throws IOException {
    Map<String, String> tensorOf = new LinkedHashMap<>();
    for (Map.Entry<String, String> e : storageOf.entrySet()) {
      tensorOf.put(e.getValue(), e.getKey());
    }
    List<TorchScriptSkeleton.Record> records = new ArrayList<>();
    for (String r : archive.records()) {
      String name = archive.prefix() + r;
      String tensor = tensorOf.get(r);
      records.add(tensor != null ? new TorchScriptSkeleton.Record(name, null, tensor, archive.size(r))
          : new TorchScriptSkeleton.Record(name, archive.record(r), null, 0));
    }
    return new TorchScriptSkeleton(records).encode();
  }

  @Override
  public List<TensorInfo> tensors() {
    return List.copyOf(tensors);
  }

  @Override
  public TensorData read(TensorInfo tensor) throws IOException {
    String record = storageOf.get(tensor.name());
    if (record == null) {
      throw new TorchScriptFormatException(location(), tensor.name(), "no such tensor in this archive");
    }
    return TensorData.ofBytes(tensor, ByteBuffer.wrap(archive.record(record)));
  }

  @Override
  public void close() throws IOException {
    archive.close();
  }
}
