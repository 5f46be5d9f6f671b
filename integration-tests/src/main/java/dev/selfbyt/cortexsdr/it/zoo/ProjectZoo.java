package dev.selfbyt.cortexsdr.it.zoo;

import ai.djl.huggingface.translator.TextEmbeddingTranslatorFactory;
import dev.selfbyt.cortexsdr.converters.onnx.OnnxCalibrator;
import dev.selfbyt.cortexsdr.converters.onnx.OnnxModelReader;
import dev.selfbyt.cortexsdr.core.CompressionOptions;
import dev.selfbyt.cortexsdr.core.CortexSdr;
import dev.selfbyt.cortexsdr.core.Preset;
import dev.selfbyt.cortexsdr.it.models.Embedder;
import dev.selfbyt.cortexsdr.it.models.MobyDick;
import dev.selfbyt.cortexsdr.it.models.RealModel;
import dev.selfbyt.cortexsdr.zoo.CortexSdrModelZoo;
import dev.selfbyt.cortexsdr.zoo.publish.MavenArtifactWriter;
import dev.selfbyt.cortexsdr.zoo.publish.Publication;
import dev.selfbyt.cortexsdr.zoo.publish.RepositoryPublisher;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Builds the project's zoo into {@code OUT} ({@code integration-tests/target/zoo} in the build):
 * {@code repo/} (a repository folder), {@code cortexsdr-zoo-models-VERSION.jar} (the same as a jar
 * repository) and {@code maven/} (one Maven artifact per variant, {@code <model>-<variant>-VERSION.jar}
 * and {@code .pom}). Variants: {@code quantization=int8} (the default preset) and {@code
 * quantization=int4-gptq} (4-bit blocks of 32, rounded by GPTQ on {@code --calibration} Moby-Dick
 * sentences that the tests never embed; {@code quantization=int4}, plain rounding, with {@code
 * --calibration 0}). A stamp file skips the work when nothing changed.
 *
 * <p>Usage: {@code ProjectZoo OUT VERSION [--calibration 0] [--threads 2]}.
 */
public final class ProjectZoo {
  /**
   * The variants for a calibration size, in the order they are published (the first is what an
   * unfiltered load gets): int8, and int4 rounded by GPTQ ({@code int4-gptq}) or, with no
   * calibration sentences, plainly ({@code int4}).
   */
  public static List<String> variants(int calibration) {
    return List.of("int8", calibration > 0 ? "int4-gptq" : "int4");
  }
  /** Moby-Dick sentences skipped before the calibration ones (the tests embed the first ones). */
  static final int CALIBRATION_SKIP = 1000;

  private ProjectZoo() {}

  /** The zoo's artifact id of a model. */
  public static String artifactId(RealModel m) {
    return m == RealModel.MINILM ? "all-minilm-l6-v2" : "bge-small-en-v1.5";
  }

  public static void main(String[] args) throws Exception {
    Path out = Path.of(args[0]);
    String version = args[1];
    Map<String, String> a = new LinkedHashMap<>();
    for (int i = 2; i + 1 < args.length; i += 2) {
      a.put(args[i].replaceFirst("^--", ""), args[i + 1]);
    }
    int calibration = Integer.parseInt(a.getOrDefault("calibration", "0"));
    int threads = Integer.parseInt(a.getOrDefault("threads", "2"));
    List<String> variants = variants(calibration);
    String stamp = "version=" + version + " calibration=" + calibration + " variants=" + variants + " format=1\n";
    Path stampFile = out.resolve("zoo.stamp");
    if (Files.exists(stampFile) && Files.readString(stampFile).equals(stamp)) {
      System.out.println("CortexSDR project zoo up to date in " + out);
      return;
    }
    long t0 = System.nanoTime();
    Path work = Files.createDirectories(out.resolve("work"));
    Path repo = out.resolve("repo");
    Path maven = out.resolve("maven");
    for (Path p : List.of(repo, maven)) {
      deleteTree(p);
    }
    for (RealModel m : RealModel.values()) {
      Path dir = Files.createDirectories(work.resolve(artifactId(m)));
      Path onnx = m.onnx(dir);
      for (String variant : variants) {
        long t = System.nanoTime();
        Path cai = dir.resolve(variant + ".cai");
        compress(m, onnx, cai, variant, calibration, threads, dir);
        Publication p = publication(m, variant, version, cai, m.tokenizer(dir), calibration);
        RepositoryPublisher.publish(repo, p);
        MavenArtifactWriter.write(maven, p);
        System.out.printf(Locale.ROOT, "%s %s: %,d bytes in %.1f s%n", m.displayName(), variant, Files.size(cai),
            (System.nanoTime() - t) / 1e9);
      }
    }
    MavenArtifactWriter.packRepository(repo, out.resolve("cortexsdr-zoo-models-" + version + ".jar"), Map.of());
    Files.writeString(stampFile, stamp);
    System.out.printf(Locale.ROOT, "CortexSDR project zoo built in %s in %.1f s%n", out, (System.nanoTime() - t0) / 1e9);
  }

  static void compress(RealModel m, Path onnx, Path cai, String variant, int calibration, int threads, Path dir)
      throws Exception {
    Path tmp = cai.resolveSibling(cai.getFileName() + ".tmp");
    try (OnnxModelReader r = OnnxModelReader.open(onnx)) {
      if (variant.equals("int8")) {
        CortexSdr.compress(r, tmp, CompressionOptions.builder().preset(Preset.INT8).threads(threads).build());
      } else if (variant.equals("int4")) {
        CortexSdr.compress(r, tmp, CompressionOptions.builder().preset(Preset.INT4).threads(threads).build());
      } else {
        CompressionOptions opts = CompressionOptions.builder().preset(Preset.INT4).threads(threads).build();
        List<Map<String, OnnxCalibrator.Input>> samples = new ArrayList<>();
        try (HuggingFaceTokenizer tok = Embedder.tokenizer(m.tokenizer(dir), 128)) {
          for (String s : MobyDick.sentences(calibration, CALIBRATION_SKIP)) {
            samples.add(Embedder.input(tok.encode(s)));
          }
        }
        CortexSdr.compress(OnnxCalibrator.forOptions(r, opts, 0.01, threads).calibrate(samples), tmp, opts);
      }
    }
    Files.move(tmp, cai, java.nio.file.StandardCopyOption.REPLACE_EXISTING, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
  }

  /** What the zoo says about one variant: a text embedding model with its tokenizer and pooling. */
  static Publication publication(RealModel m, String variant, String version, Path cai, Path tokenizer,
      int calibration) {
    Map<String, Object> args = new LinkedHashMap<>();
    args.put("engine", "CortexSDR");
    args.put("translatorFactory", TextEmbeddingTranslatorFactory.class.getName());
    args.put("pooling", m.pooling() == RealModel.Pooling.CLS ? "cls" : "mean");
    args.put("includeTokenTypes", true);
    args.put("maxLength", 512);
    args.put("truncation", true);
    String how = variant.equals("int8") ? "int8 blocks of 64" : variant.equals("int4") ? "int4 blocks of 32"
        : "int4 blocks of 32, GPTQ on " + calibration + " Moby-Dick sentences";
    return new Publication(CortexSdrModelZoo.GROUP_ID, artifactId(m), version, "nlp/text_embedding", null,
        m.displayName() + " sentence encoder compressed by CortexSDR (" + how + "); from langchain4j's Maven jar",
        Map.of("quantization", variant), args, List.of(new Publication.FileEntry("model", "model.cai", cai),
            new Publication.FileEntry("tokenizer", "tokenizer.json", tokenizer)));
  }

  private static void deleteTree(Path p) throws java.io.IOException {
    if (!Files.exists(p)) {
      return;
    }
    try (var s = Files.walk(p)) {
      for (Path q : s.sorted(java.util.Comparator.reverseOrder()).toList()) {
        Files.delete(q);
      }
    }
  }

}
