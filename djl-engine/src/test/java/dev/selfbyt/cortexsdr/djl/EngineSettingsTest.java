package dev.selfbyt.cortexsdr.djl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.huggingface.translator.TextEmbeddingTranslatorFactory;
import ai.djl.inference.Predictor;
import ai.djl.repository.zoo.Criteria;
import ai.djl.repository.zoo.ZooModel;
import dev.selfbyt.cortexsdr.core.Preset;
import dev.selfbyt.cortexsdr.djl.kernel.KernelThreads;
import dev.selfbyt.cortexsdr.core.calibrate.Metrics;
import dev.selfbyt.cortexsdr.djl.kernel.Kernels;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;

/**
 * The engine's settings come per model from {@code Criteria.optOption} and {@code
 * serving.properties}, the system properties being only defaults: two MiniLM models in one JVM,
 * one on one kernel thread and one on three, each run through its own pool.
 */
class EngineSettingsTest {
  private static final String SENTENCE = "Call me Ishmael. Some years ago, never mind how long precisely.";

  private static Criteria<String, float[]> criteria(Path path, Map<String, String> options) {
    Criteria.Builder<String, float[]> b = Criteria.builder().setTypes(String.class, float[].class).optModelPath(path)
        .optEngine("CortexSDR").optTranslatorFactory(new TextEmbeddingTranslatorFactory())
        .optArgument("includeTokenTypes", true);
    options.forEach(b::optOption);
    return b.build();
  }

  private static Path folder(String name, String servingProperties) throws Exception {
    Path dir = TestModels.DIR.resolve(name);
    Files.createDirectories(dir);
    Files.copy(TestModels.minilmCai(Preset.INT8), dir.resolve("model.cai"),
        java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    Files.copy(TestModels.minilmTokenizer(), dir.resolve("tokenizer.json"),
        java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    Files.writeString(dir.resolve("serving.properties"), servingProperties);
    return dir;
  }

  @Test
  void twoModelsInOneJvmEachRunOnTheThreadsItsOptionsAskFor() throws Exception {
    Path cai = folder("minilm-threads-folder", "engine=CortexSDR\n");
    try (ZooModel<String, float[]> one = criteria(cai, Map.of("numThreads", "1")).loadModel();
        ZooModel<String, float[]> three = criteria(cai, Map.of("numThreads", "3", "spinMicros", "50")).loadModel();
        Predictor<String, float[]> p1 = one.newPredictor();
        Predictor<String, float[]> p3 = three.newPredictor()) {
      CaiModel m1 = (CaiModel) one.getWrappedModel();
      CaiModel m3 = (CaiModel) three.getWrappedModel();
      assertEquals(1, m1.settings().numThreads());
      assertEquals(3, m3.settings().numThreads());
      KernelThreads pool1 = m1.kernelScope().threads();
      KernelThreads pool3 = m3.kernelScope().threads();
      KernelThreads jvm = KernelThreads.defaultPool();
      assertEquals(1, pool1.threadCount());
      assertEquals(3, pool3.threadCount());
      assertEquals(50, pool3.spinMicros());
      assertNotSame(pool1, pool3);
      assertNotSame(jvm, pool3);

      // model "one": its products go through its one-thread pool, never the others
      long c1 = pool1.calls();
      long c3 = pool3.calls();
      long cj = jvm.calls();
      float[] a = p1.predict(SENTENCE);
      assertTrue(pool1.calls() > c1, "model one ran its products in its own pool");
      assertEquals(c3, pool3.calls(), "model one never used model three's pool");
      assertEquals(0, pool1.parallelCalls(), "one thread: nothing split");

      // model "three": its large products are split over its three threads
      c1 = pool1.calls();
      long par3 = pool3.parallelCalls();
      float[] b = p3.predict(SENTENCE);
      assertTrue(pool3.calls() > c3, "model three ran its products in its own pool");
      assertTrue(pool3.parallelCalls() > par3, "model three split products over its workers");
      assertEquals(c1, pool1.calls(), "model three never used model one's pool");
      assertEquals(cj, jvm.calls(), "neither model ran in the JVM-wide pool");
      assertEquals(1.0, Metrics.cosine(a, b), 1e-6, "same model, same answer whatever the threads");

      // at the same time, from two threads: each still on its own pool
      ExecutorService callers = Executors.newFixedThreadPool(2);
      try {
        long before1 = pool1.calls();
        long before3 = pool3.calls();
        Future<float[]> f1 = callers.submit(() -> {
          try (Predictor<String, float[]> p = one.newPredictor()) {
            return p.predict(SENTENCE);
          }
        });
        Future<float[]> f3 = callers.submit(() -> {
          try (Predictor<String, float[]> p = three.newPredictor()) {
            return p.predict(SENTENCE);
          }
        });
        assertEquals(1.0, Metrics.cosine(f1.get(), f3.get()), 1e-6);
        assertTrue(pool1.calls() > before1 && pool3.calls() > before3);
      } finally {
        callers.shutdown();
      }
    }
  }

  @Test
  void servingPropertiesOptionsApplyAndCriteriaOptionsWin() throws Exception {
    Path dir = folder("minilm-settings-folder", "engine=CortexSDR\noption.numThreads=2\noption.fusion=false\n"
        + "option.kernels=scalar\n");
    try (ZooModel<String, float[]> fromFile = criteria(dir, Map.of()).loadModel();
        ZooModel<String, float[]> overridden = criteria(dir, Map.of("numThreads", "1")).loadModel()) {
      CaiModel m = (CaiModel) fromFile.getWrappedModel();
      assertEquals(2, m.settings().numThreads());
      assertFalse(m.settings().fusion());
      assertEquals("scalar", m.settings().kernels());
      assertEquals("scalar", m.kernelScope().kernels().name(), "the model computes with the kernels it asked for");
      CaiSymbolBlock block = (CaiSymbolBlock) fromFile.getBlock();
      assertFalse(((CaiModel.ExecutorRunner) block.runner()).executor.operatorTypes().stream()
          .anyMatch(t -> t.startsWith("dev.selfbyt.cortexsdr.fused")), "fusion off: no fused node");
      assertEquals(1, ((CaiModel) overridden.getWrappedModel()).settings().numThreads(), "Criteria wins");
      try (Predictor<String, float[]> ps = fromFile.newPredictor();
          Predictor<String, float[]> pd = overridden.newPredictor()) {
        assertEquals(1.0, Metrics.cosine(ps.predict(SENTENCE), pd.predict(SENTENCE)), 1e-5,
            "scalar unfused and default kernels fused agree");
      }
    }
  }

  @Test
  void systemPropertiesAreOnlyDefaults() {
    System.setProperty("dev.selfbyt.cortexsdr.num_threads", "5");
    try {
      assertEquals(5, EngineSettings.defaults().numThreads());
      assertEquals(5, EngineSettings.of(Map.of()).numThreads());
      assertEquals(2, EngineSettings.of(Map.of("numThreads", "2")).numThreads());
      assertEquals(4, EngineSettings.of(Map.of("intraOpNumThreads", "4")).numThreads(), "DJL OnnxRuntime's name");
    } finally {
      System.clearProperty("dev.selfbyt.cortexsdr.num_threads");
    }
  }

  @Test
  void aBadOptionNamesItselfAndItsValues() throws Exception {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> EngineSettings.of(Map.of("numThreads", "many")));
    assertTrue(e.getMessage().contains("numThreads=many"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> EngineSettings.of(Map.of("kernels", "gpu")));
    assertTrue(e.getMessage().contains("kernels=gpu") && e.getMessage().contains("scalar"), e.getMessage());
    Path cai = folder("minilm-bad-option-folder", "engine=CortexSDR\n");
    Exception load = assertThrows(Exception.class, () -> criteria(cai, Map.of("fusion", "maybe")).loadModel());
    Throwable t = load;
    while (t != null && !(t.getMessage() != null && t.getMessage().contains("fusion=maybe"))) {
      t = t.getCause();
    }
    assertTrue(t != null && t.getMessage().contains(cai.toString()), String.valueOf(load));
  }

  @Test
  void kernelsOptionPicksTheKernelsOfThatModel() {
    EngineSettings scalar = EngineSettings.of(Map.of("kernels", "scalar"));
    assertEquals("scalar", scalar.scope().kernels().name());
    assertEquals(Kernels.jvmDefault(), EngineSettings.defaults().scope().kernels());
  }
}
