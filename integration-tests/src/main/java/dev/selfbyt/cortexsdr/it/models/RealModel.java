package dev.selfbyt.cortexsdr.it.models;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Locale;

/**
 * Sentence encoders available offline, each in a Maven jar with its tokenizer and ONNX Runtime's
 * own dynamically quantized int8 twin (the reference a user would otherwise pick).
 */
public enum RealModel {
  MINILM("all-MiniLM-L6-v2", "all-minilm-l6-v2", Pooling.MEAN),
  BGE_SMALL("bge-small-en-v1.5", "bge-small-en-v1.5", Pooling.CLS);

  /** How token embeddings become one sentence embedding. */
  public enum Pooling {
    MEAN,
    CLS
  }

  private final String displayName;
  private final String resource;
  private final Pooling pooling;

  RealModel(String displayName, String resource, Pooling pooling) {
    this.displayName = displayName;
    this.resource = resource;
    this.pooling = pooling;
  }

  public String displayName() {
    return displayName;
  }

  public Pooling pooling() {
    return pooling;
  }

  /** The fp32 model, copied out of its jar into {@code dir}. */
  public Path onnx(Path dir) throws IOException {
    return extract(dir, resource + ".onnx");
  }

  /** ONNX Runtime's int8 twin. */
  public Path int8Twin(Path dir) throws IOException {
    return extract(dir, resource + "-q.onnx");
  }

  public Path tokenizer(Path dir) throws IOException {
    return extract(dir, resource + "-tokenizer.json");
  }

  public static RealModel parse(String s) {
    String k = s.toLowerCase(Locale.ROOT);
    if (k.contains("minilm")) {
      return MINILM;
    }
    if (k.contains("bge")) {
      return BGE_SMALL;
    }
    throw new IllegalArgumentException("unknown model '" + s + "': use minilm or bge");
  }

  private static Path extract(Path dir, String name) throws IOException {
    Path p = dir.resolve(name);
    if (Files.exists(p)) {
      return p;
    }
    try (InputStream in = RealModel.class.getResourceAsStream("/" + name)) {
      if (in == null) {
        throw new IOException(name + " is not on the classpath (its Maven jar is missing)");
      }
      Files.createDirectories(dir);
      Path tmp = Files.createTempFile(dir, "." + name, ".tmp");
      Files.copy(in, tmp, StandardCopyOption.REPLACE_EXISTING);
      Files.move(tmp, p, StandardCopyOption.ATOMIC_MOVE);
    }
    return p;
  }
}
