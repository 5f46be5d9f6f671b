package dev.selfbyt.cortexsdr.djl;

import dev.selfbyt.cortexsdr.converters.onnx.OnnxModelReader;
import dev.selfbyt.cortexsdr.core.CompressionOptions;
import dev.selfbyt.cortexsdr.core.CortexSdr;
import dev.selfbyt.cortexsdr.core.Preset;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/**
 * The real all-MiniLM-L6-v2 (from its Maven jar) and {@code .cai} files made from it, built once
 * into {@code target/test-models} and reused by the tests.
 */
final class TestModels {
  static final Path DIR = Path.of("target/test-models");

  private TestModels() {}

  static synchronized Path resource(String name) throws IOException {
    Path p = DIR.resolve(name);
    if (!Files.exists(p)) {
      Files.createDirectories(DIR);
      try (InputStream in = TestModels.class.getResourceAsStream("/" + name)) {
        if (in == null) {
          throw new IOException(name + " is not on the test classpath");
        }
        Path tmp = Files.createTempFile(DIR, name, ".tmp");
        Files.copy(in, tmp, StandardCopyOption.REPLACE_EXISTING);
        Files.move(tmp, p, StandardCopyOption.ATOMIC_MOVE);
      }
    }
    return p;
  }

  static Path minilmOnnx() throws IOException {
    return resource("all-minilm-l6-v2.onnx");
  }

  static Path minilmTokenizer() throws IOException {
    return resource("all-minilm-l6-v2-tokenizer.json");
  }

  /** MiniLM compressed with a preset, as {@code target/test-models/minilm-<preset>.cai}. */
  static synchronized Path minilmCai(Preset preset) throws IOException {
    Path p = DIR.resolve("minilm-" + preset.id() + ".cai");
    if (!Files.exists(p)) {
      try (OnnxModelReader onnx = OnnxModelReader.open(minilmOnnx())) {
        CortexSdr.compress(onnx, p, CompressionOptions.builder().preset(preset).build());
      }
    }
    return p;
  }
}
