package dev.selfbyt.cortexsdr.zoo;

import ai.djl.Application;
import ai.djl.huggingface.translator.TextEmbeddingTranslatorFactory;
import ai.djl.inference.Predictor;
import ai.djl.repository.zoo.Criteria;
import ai.djl.repository.zoo.ModelZoo;
import ai.djl.repository.zoo.ZooModel;
import ai.djl.util.Utils;
import dev.selfbyt.cortexsdr.converters.onnx.OnnxModelReader;
import dev.selfbyt.cortexsdr.core.CompressionOptions;
import dev.selfbyt.cortexsdr.core.CortexSdr;
import dev.selfbyt.cortexsdr.core.Preset;
import dev.selfbyt.cortexsdr.zoo.publish.Publication;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * A real model for the zoo's tests: all-MiniLM-L6-v2 from its Maven jar, compressed once per JVM
 * (int8) into {@code target/zoo-fixture}, with its tokenizer; the publication a user would write for
 * it; and a DJL cache of the test's own, so that what a test leaves in the cache can be checked.
 */
final class ZooFixture {
  static final String SENTENCE = "Call me Ishmael. Some years ago, never mind how long precisely, I went to sea.";
  private static Path dir;

  private ZooFixture() {}

  static synchronized Path dir() throws IOException {
    if (dir == null) {
      dir = Files.createDirectories(Path.of("target", "zoo-fixture").toAbsolutePath());
    }
    return dir;
  }

  /** The MiniLM {@code .cai} at int8, made once. */
  static synchronized Path cai() throws IOException {
    Path cai = dir().resolve("minilm-int8.cai");
    if (!Files.exists(cai)) {
      Path onnx = extract("all-minilm-l6-v2.onnx");
      Path tmp = dir().resolve("minilm-int8.cai.tmp");
      try (OnnxModelReader r = OnnxModelReader.open(onnx)) {
        CortexSdr.compress(r, tmp, CompressionOptions.builder().preset(Preset.INT8).build());
      }
      Files.move(tmp, cai, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
    }
    return cai;
  }

  static Path tokenizer() throws IOException {
    return extract("all-minilm-l6-v2-tokenizer.json");
  }

  private static synchronized Path extract(String resource) throws IOException {
    Path p = dir().resolve(resource);
    if (!Files.exists(p)) {
      try (InputStream in = ZooFixture.class.getResourceAsStream("/" + resource)) {
        if (in == null) {
          throw new IOException(resource + " is not on the test classpath (langchain4j's MiniLM jar)");
        }
        Files.copy(in, p);
      }
    }
    return p;
  }

  /** What `cortexsdr publish` writes for the MiniLM file: a text embedding model with its tokenizer. */
  static Publication publication(String version, Map<String, String> properties) throws IOException {
    return publication(version, properties, "mean");
  }

  /** The same with another pooling. */
  static Publication publication(String version, Map<String, String> properties, String pooling) throws IOException {
    Map<String, Object> args = new LinkedHashMap<>();
    args.put("engine", "CortexSDR");
    args.put("translatorFactory", TextEmbeddingTranslatorFactory.class.getName());
    args.put("pooling", pooling);
    args.put("includeTokenTypes", true);
    args.put("maxLength", 512);
    args.put("truncation", true);
    return new Publication("dev.selfbyt.cortexsdr.zoo", "all-minilm-l6-v2", version, "nlp/text_embedding", null, null,
        properties, args, List.of(new Publication.FileEntry("model", "model.cai", cai()),
            new Publication.FileEntry("tokenizer", "tokenizer.json", tokenizer())));
  }

  /** The criteria a user writes: application, engine and a filter, from the given zoo. */
  static Criteria<String, float[]> criteria(ModelZoo zoo, String key, String value) {
    return Criteria.builder()
        .setTypes(String.class, float[].class)
        .optApplication(Application.NLP.TEXT_EMBEDDING)
        .optEngine("CortexSDR")
        .optModelZoo(zoo)
        .optFilter(key, value)
        .build();
  }

  /** The embedding of {@link #SENTENCE} by a freshly loaded model. */
  static float[] embed(Criteria<String, float[]> criteria) throws Exception {
    try (ZooModel<String, float[]> model = criteria.loadModel();
        Predictor<String, float[]> p = model.newPredictor()) {
      return p.predict(SENTENCE);
    }
  }

  /** The same file loaded as a model folder, the way the engine's own tests do, with the same arguments. */
  static float[] embedDirect(String pooling) throws Exception {
    Path folder = Files.createDirectories(dir().resolve("direct"));
    Files.copy(cai(), folder.resolve("model.cai"), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    Files.copy(tokenizer(), folder.resolve("tokenizer.json"), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    return embed(Criteria.builder().setTypes(String.class, float[].class).optModelPath(folder).optEngine("CortexSDR")
        .optTranslatorFactory(new TextEmbeddingTranslatorFactory()).optArgument("pooling", pooling)
        .optArgument("includeTokenTypes", true).optArgument("maxLength", 512).optArgument("truncation", true).build());
  }

  /**
   * Points DJL's cache at {@code cache} (the tokenizer's native library stays where it was) and
   * returns what to call to put it back.
   */
  static Runnable useCache(Path cache) {
    String engineDir = Utils.getEngineCacheDir().toString();
    String oldEngine = System.getProperty("ENGINE_CACHE_DIR");
    String old = System.getProperty("DJL_CACHE_DIR");
    System.setProperty("ENGINE_CACHE_DIR", engineDir);
    System.setProperty("DJL_CACHE_DIR", cache.toString());
    return () -> {
      restore("DJL_CACHE_DIR", old);
      restore("ENGINE_CACHE_DIR", oldEngine);
    };
  }

  private static void restore(String key, String value) {
    if (value == null) {
      System.clearProperty(key);
    } else {
      System.setProperty(key, value);
    }
  }

  /** Every file and folder under {@code dir}, relative, sorted. */
  static List<String> tree(Path dir) throws IOException {
    if (!Files.exists(dir)) {
      return List.of();
    }
    try (Stream<Path> s = Files.walk(dir)) {
      List<String> out = new ArrayList<>();
      s.filter(p -> !p.equals(dir)).forEach(p -> out.add(dir.relativize(p).toString()));
      out.sort(null);
      return out;
    }
  }
}
