package dev.selfbyt.cortexsdr.tensorflow;

import dev.selfbyt.cortexsdr.core.format.CaiReader;
import dev.selfbyt.cortexsdr.core.tensor.TensorData;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Comparator;
import java.util.Map;
import java.util.stream.Stream;
import org.tensorflow.proto.BundleEntryProto;

/**
 * Writes a {@code .cai} made from a SavedModel back as a SavedModel folder, variables decoded:
 * the skeleton's files as they were ({@code saved_model.pb} byte for byte) and a fresh {@code
 * variables/} checkpoint. For the lossless preset every variable's bytes, hence what TensorFlow
 * computes, are those of the original. The folder is built beside the target and renamed into
 * place, so a failure leaves no partial folder.
 *
 * <pre>{@code
 * try (CaiReader cai = CaiReader.open(Path.of("model.cai"))) {
 *   SavedModelWriter.write(cai, Path.of("saved_model_out"));
 * }
 * }</pre>
 */
public final class SavedModelWriter {
  private SavedModelWriter() {}

  /** Whether {@code cai} was made from a SavedModel (its manifest's source format). */
  public static boolean isSavedModel(CaiReader cai) {
    return cai.manifest().get("source") instanceof Map<?, ?> m && SavedModelReader.FORMAT.equals(m.get("format"));
  }

  /**
   * Writes the SavedModel folder {@code out}, which must not exist or be an empty folder.
   *
   * @throws SavedModelFormatException naming the file, the variable and the cause
   */
  public static void write(CaiReader cai, Path out) throws IOException {
    String file = cai.path().toString();
    SavedModelSkeleton skeleton = SavedModelSkeleton.decode(file, cai.graph());
    if (Files.exists(out) && !(Files.isDirectory(out) && isEmpty(out))) {
      throw new SavedModelFormatException(out.toString(), null, "already exists; a SavedModel is written to a new "
          + "(or empty) folder");
    }
    Path parent = out.toAbsolutePath().getParent();
    Files.createDirectories(parent);
    // not createTempDirectory: its owner-only permissions would stay on the renamed folder
    Path tmp = parent.resolve("." + out.getFileName() + ".tmp-" + Long.toHexString(System.nanoTime()));
    Files.createDirectory(tmp);
    try {
      for (Map.Entry<String, byte[]> f : skeleton.files().entrySet()) {
        Path p = tmp.resolve(f.getKey());
        Files.createDirectories(p.getParent());
        Files.write(p, f.getValue());
      }
      Path vars = Files.createDirectories(tmp.resolve("variables"));
      try (CheckpointWriter w = new CheckpointWriter(vars.resolve("variables"), skeleton.header())) {
        // in the original's shard order, so that a lossless archive gives back the same shard bytes
        java.util.List<Map.Entry<String, BundleEntryProto>> order = new java.util.ArrayList<>(skeleton.entries().entrySet());
        order.sort(java.util.Comparator.comparingInt((Map.Entry<String, BundleEntryProto> e) -> e.getValue().getShardId())
            .thenComparingLong(e -> e.getValue().getOffset()));
        for (Map.Entry<String, BundleEntryProto> e : order) {
          if (!cai.contains(e.getKey())) {
            throw new SavedModelFormatException(file, e.getKey(), "the SavedModel's checkpoint lists this variable, "
                + "but the archive has no tensor of that name");
          }
          TensorData t = cai.read(e.getKey());
          ByteBuffer bytes = t.bytes();
          if (bytes.remaining() != e.getValue().getSize()) {
            throw new SavedModelFormatException(file, e.getKey(), "decoded to " + bytes.remaining() + " bytes; the "
                + "checkpoint entry needs " + e.getValue().getSize());
          }
          w.add(e.getKey(), e.getValue(), bytes);
        }
        w.finish();
      }
      if (Files.isDirectory(out)) {
        Files.delete(out); // empty, checked above
      }
      try {
        Files.move(tmp, out, StandardCopyOption.ATOMIC_MOVE);
      } catch (AtomicMoveNotSupportedException e) {
        Files.move(tmp, out);
      }
    } finally {
      deleteTree(tmp);
    }
  }

  private static boolean isEmpty(Path dir) throws IOException {
    try (Stream<Path> s = Files.list(dir)) {
      return s.findAny().isEmpty();
    }
  }

  /** Deletes a folder and its contents when it exists (a temporary one after a failure). */
  static void deleteTree(Path dir) throws IOException {
    if (!Files.exists(dir)) {
      return;
    }
    try (Stream<Path> s = Files.walk(dir)) {
      for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    }
  }
}
