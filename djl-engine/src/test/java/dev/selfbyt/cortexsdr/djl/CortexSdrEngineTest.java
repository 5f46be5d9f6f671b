package dev.selfbyt.cortexsdr.djl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.inference.Predictor;
import ai.djl.huggingface.translator.TextEmbeddingTranslatorFactory;
import ai.djl.repository.zoo.Criteria;
import ai.djl.repository.zoo.ZooModel;
import ai.djl.engine.Engine;
import dev.selfbyt.cortexsdr.core.Preset;
import dev.selfbyt.cortexsdr.core.calibrate.Metrics;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** DJL users' view: a .cai sentence encoder through Criteria with DJL's own text-embedding translator. */
class CortexSdrEngineTest {
  static final String[] SENTENCES = {
      "Call me Ishmael.",
      "Some years ago, never mind how long precisely, having little or no money in my purse, I thought I would sail about.",
      "It is a way I have of driving off the spleen and regulating the circulation.",
  };
  static Path folder;

  /** A model folder as DJL expects one: the .cai, its tokenizer and serving.properties. */
  @BeforeAll
  static void modelFolder() throws Exception {
    folder = TestModels.DIR.resolve("minilm-int8-folder");
    Files.createDirectories(folder);
    Files.copy(TestModels.minilmCai(Preset.INT8), folder.resolve("model.cai"),
        java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    Files.copy(TestModels.minilmTokenizer(), folder.resolve("tokenizer.json"),
        java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    Files.writeString(folder.resolve("serving.properties"), "engine=CortexSDR\n"
        + "translatorFactory=ai.djl.huggingface.translator.TextEmbeddingTranslatorFactory\n"
        + "includeTokenTypes=true\n");
  }

  static Criteria<String, float[]> criteria(Path path, boolean explicitEngine) {
    Criteria.Builder<String, float[]> b = Criteria.builder().setTypes(String.class, float[].class).optModelPath(path);
    if (explicitEngine) {
      b.optEngine("CortexSDR").optTranslatorFactory(new TextEmbeddingTranslatorFactory())
          .optArgument("includeTokenTypes", true);
    } else {
      // engine and translator both come from the folder's serving.properties
      b.optTranslatorFactory(new ai.djl.translate.DeferredTranslatorFactory());
    }
    return b.build();
  }

  @Test
  void engineIsRegisteredUnderItsName() {
    Engine e = Engine.getEngine("CortexSDR");
    assertEquals("CortexSDR", e.getEngineName());
    assertTrue(e.toString().contains("kernels"), e.toString());
  }

  @Test
  void criteriaWithOptEngineAndServingPropertiesAgree() throws Exception {
    try (ZooModel<String, float[]> explicit = criteria(folder, true).loadModel();
        ZooModel<String, float[]> viaProperties = criteria(folder, false).loadModel();
        Predictor<String, float[]> p1 = explicit.newPredictor();
        Predictor<String, float[]> p2 = viaProperties.newPredictor()) {
      assertTrue(explicit.getWrappedModel() instanceof CaiModel);
      assertTrue(viaProperties.getWrappedModel() instanceof CaiModel);
      for (String s : SENTENCES) {
        float[] a = p1.predict(s);
        float[] b = p2.predict(s);
        assertEquals(384, a.length);
        assertEquals(1.0, Metrics.cosine(a, b), 1e-9);
        double norm = 0;
        for (float v : a) {
          norm += v * v;
        }
        assertEquals(1.0, Math.sqrt(norm), 1e-4, "the translator normalizes");
      }
    }
  }

  @Test
  void oneModelServesEightThreadsEachWithItsOwnPredictor() throws Exception {
    try (ZooModel<String, float[]> model = criteria(folder.resolve("model.cai"), true).loadModel()) {
      float[][] expected = new float[SENTENCES.length][];
      try (Predictor<String, float[]> p = model.newPredictor()) {
        for (int i = 0; i < SENTENCES.length; i++) {
          expected[i] = p.predict(SENTENCES[i]);
        }
      }
      ExecutorService pool = Executors.newFixedThreadPool(8);
      try {
        List<Future<Double>> results = new ArrayList<>();
        for (int t = 0; t < 8; t++) {
          int shift = t;
          results.add(pool.submit(() -> {
            double worst = 1;
            try (Predictor<String, float[]> p = model.newPredictor()) {
              for (int r = 0; r < 6; r++) {
                int i = (r + shift) % SENTENCES.length;
                worst = Math.min(worst, Metrics.cosine(expected[i], p.predict(SENTENCES[i])));
              }
            }
            return worst;
          }));
        }
        for (Future<Double> f : results) {
          assertEquals(1.0, f.get(), 1e-9, "every thread gets the single-thread answer");
        }
      } finally {
        pool.shutdownNow();
      }
    }
  }

  @Test
  void quantizeCompressesAnFp32ModelInPlace() throws Exception {
    Path lossless = TestModels.minilmCai(Preset.LOSSLESS);
    Path dir = TestModels.DIR.resolve("minilm-lossless-folder");
    Files.createDirectories(dir);
    Files.copy(lossless, dir.resolve("model.cai"), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    Files.copy(TestModels.minilmTokenizer(), dir.resolve("tokenizer.json"),
        java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    try (ZooModel<String, float[]> model = criteria(dir, true).loadModel();
        Predictor<String, float[]> p = model.newPredictor()) {
      CaiModel cai = (CaiModel) model.getWrappedModel();
      long before = cai.residentWeightBytes();
      float[] fp32 = p.predict(SENTENCES[1]);
      model.getWrappedModel().quantize(); // ZooModel does not pass quantize() on
      long after = cai.residentWeightBytes();
      float[] int8 = p.predict(SENTENCES[1]);
      System.out.printf("quantize(): resident weights %,d -> %,d bytes, cosine %.6f%n", before, after,
          Metrics.cosine(fp32, int8));
      assertTrue(after < before * 0.4, before + " -> " + after);
      assertTrue(Metrics.cosine(fp32, int8) > 0.999);
    }
  }
}
