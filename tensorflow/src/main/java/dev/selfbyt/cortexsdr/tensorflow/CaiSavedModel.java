package dev.selfbyt.cortexsdr.tensorflow;

import dev.selfbyt.cortexsdr.core.format.CaiReader;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.tensorflow.SavedModelBundle;

/**
 * Loads a {@code .cai} made from a SavedModel into TF Java as TF Java's own {@link
 * SavedModelBundle}, variables decoded: run it, call its signatures, read its session, as a
 * bundle loaded from the original folder. The caller closes it.
 *
 * <pre>{@code
 * try (SavedModelBundle model = CaiSavedModel.load(Path.of("model.cai"));
 *     TFloat32 x = TFloat32.tensorOf(Shape.of(1, 784));
 *     Result r = model.call(Map.of("input", x))) {
 *   TFloat32 logits = (TFloat32) r.get("logits").orElseThrow();
 * }
 * }</pre>
 *
 * <p>How: TensorFlow restores variables only from checkpoint files, so the SavedModel is written
 * to a private temporary folder ({@link SavedModelWriter}), loaded, and the folder deleted at once
 * (TensorFlow holds the values in memory after loading). Needs TensorFlow's native library
 * ({@link TensorFlowRuntime}).
 */
public final class CaiSavedModel {
  private CaiSavedModel() {}

  /** Loads the metagraph tagged {@code serve}. */
  public static SavedModelBundle load(Path cai) throws IOException {
    return load(cai, SavedModelReader.SERVE_TAG);
  }

  /** Loads the metagraph with {@code tags}. */
  public static SavedModelBundle load(Path cai, String... tags) throws IOException {
    try (CaiReader reader = CaiReader.open(cai)) {
      return load(reader, tags);
    }
  }

  /** Loads from an open archive. */
  public static SavedModelBundle load(CaiReader cai, String... tags) throws IOException {
    if (!SavedModelWriter.isSavedModel(cai)) {
      throw new SavedModelFormatException(cai.path().toString(), null, "was not made from a SavedModel (source "
          + "format " + cai.manifest().get("source") + ")");
    }
    TensorFlowRuntime.require("loading a .cai into TensorFlow");
    Path tmp = Files.createTempDirectory("cortexsdr-savedmodel-");
    try {
      Path dir = tmp.resolve("model");
      SavedModelWriter.write(cai, dir);
      try {
        return SavedModelBundle.load(dir.toString(), tags);
      } catch (RuntimeException e) { // TF Java reports TensorFlow's own status as unchecked exceptions
        throw new SavedModelFormatException(cai.path().toString(), null, "TensorFlow could not load the decoded "
            + "SavedModel: " + e.getMessage(), e);
      }
    } finally {
      SavedModelWriter.deleteTree(tmp);
    }
  }
}
