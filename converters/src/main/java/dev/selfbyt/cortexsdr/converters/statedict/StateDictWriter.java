package dev.selfbyt.cortexsdr.converters.statedict;

import dev.selfbyt.cortexsdr.converters.torchzip.TorchZipWriter;
import dev.selfbyt.cortexsdr.core.format.CaiException;
import dev.selfbyt.cortexsdr.core.format.CaiReader;
import dev.selfbyt.cortexsdr.core.format.Json;
import dev.selfbyt.cortexsdr.core.tensor.DType;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Base64;
import java.util.List;
import java.util.Map;

/**
 * Writes a {@code .cai} made from a state dict ({@link StateDictReader}) back to a {@code .pt}
 * file that {@code torch.load} reads: the records in their stored order, the pickle and the other
 * records verbatim, each storage decoded from its tensor ({@link TorchZipWriter}: stored entries,
 * 64-byte aligned, as torch writes). A lossless archive gives back every tensor bit for bit. The
 * file is written to a temporary file and renamed: a failure leaves nothing.
 *
 * <pre>{@code
 * try (CaiReader cai = CaiReader.open(Path.of("resnet50.cai"))) {
 *   StateDictWriter.write(cai, Path.of("resnet50.pt"));
 * }
 * }</pre>
 */
public final class StateDictWriter {
  private StateDictWriter() {}

  /** Whether {@code cai} was made from a state dict. */
  public static boolean madeFrom(CaiReader cai) {
    return cai.manifest().get("source") instanceof Map<?, ?> m && StateDictReader.FORMAT.equals(m.get("format"));
  }

  /**
   * Checks a {@code .cai} made from a state dict against its stored layout (every storage's tensor
   * present with its dtype and element count), as {@code cortexsdr verify} does; other archives pass
   * untouched.
   *
   * @throws CaiException naming the archive, the tensor and the disagreement
   */
  public static void check(CaiReader cai) throws CaiException {
    if (madeFrom(cai)) {
      layout(cai);
    }
  }

  private record Layout(List<?> records, Map<?, ?> storages) {}

  private static Layout layout(CaiReader cai) throws CaiException {
    String file = cai.path().toString();
    Object g;
    try {
      g = Json.parse(new String(cai.graph(), StandardCharsets.UTF_8));
    } catch (RuntimeException e) {
      throw new CaiException(file, null, "graph segment is not a state-dict layout: " + e.getMessage(), e);
    }
    if (!(g instanceof Map<?, ?> m) || !(m.get("records") instanceof List<?> records)
        || !(m.get("storages") instanceof Map<?, ?> storages)) {
      throw new CaiException(file, null, "graph segment is not a state-dict layout");
    }
    java.util.Set<String> tensors = new java.util.HashSet<>();
    for (Map.Entry<?, ?> e : storages.entrySet()) { // everything checked before a file is started
      tensors.add(storage(cai, String.valueOf(e.getKey()), e.getValue()));
    }
    for (var entry : cai.entries()) {
      if (!tensors.contains(entry.name())) {
        throw new CaiException(file, entry.name(), "the archive holds this tensor but no storage of the stored "
            + "state dict is stored as it");
      }
    }
    return new Layout(records, storages);
  }

  /**
   * Writes the state dict to {@code target}.
   *
   * @throws CaiException if the archive was not made from a state dict, its stored layout
   *     disagrees with its tensors, a tensor does not decode, or the file cannot be written
   */
  public static void write(CaiReader cai, Path target) throws IOException {
    String file = cai.path().toString();
    if (!madeFrom(cai)) {
      throw new CaiException(file, null, "was not made from a PyTorch state dict: it cannot be written as one");
    }
    Layout layout = layout(cai);
    List<?> records = layout.records();
    Map<?, ?> storages = layout.storages();
    TorchZipWriter.writeFile(target, zip -> {
      for (Object o : records) {
        if (!(o instanceof Map<?, ?> r) || !(r.get("name") instanceof String name)) {
          throw new CaiException(file, null, "graph segment: a record without a name");
        }
        if (r.get("base64") instanceof String b64) {
          zip.add(name, ByteBuffer.wrap(Base64.getDecoder().decode(b64)));
        } else if (r.get("storage") instanceof String key && storages.containsKey(key)) {
          String tensor = storage(cai, key, storages.get(key));
          zip.add(name, cai.read(tensor).bytes());
        } else {
          throw new CaiException(file, null, "graph segment: record " + name + " has neither data nor a storage");
        }
      }
    });
  }

  /** The tensor a storage is stored as, checked against the archive's directory. */
  private static String storage(CaiReader cai, String key, Object value) throws CaiException {
    String file = cai.path().toString();
    if (!(value instanceof Map<?, ?> s) || !(s.get("tensor") instanceof String tensor)
        || !(s.get("dtype") instanceof String dt) || !(s.get("numel") instanceof Long numel)) {
      throw new CaiException(file, null, "graph segment: storage " + key + " is incomplete");
    }
    if (!cai.contains(tensor)) {
      throw new CaiException(file, tensor, "storage " + key + " is stored as this tensor, which the archive lacks");
    }
    DType dtype;
    try {
      dtype = DType.valueOf(dt);
    } catch (IllegalArgumentException e) {
      throw new CaiException(file, tensor, "storage " + key + " of unknown dtype " + dt);
    }
    var info = cai.entry(tensor).info();
    if (info.dtype() != dtype || info.numel() != numel) {
      throw new CaiException(file, tensor, "archive holds " + info + ", storage " + key + " needs " + numel
          + " elements of " + dtype);
    }
    return tensor;
  }
}
