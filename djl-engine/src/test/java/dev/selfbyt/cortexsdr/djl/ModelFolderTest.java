package dev.selfbyt.cortexsdr.djl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Model;
import ai.djl.huggingface.translator.TextEmbeddingTranslatorFactory;
import ai.djl.inference.Predictor;
import ai.djl.repository.zoo.Criteria;
import ai.djl.repository.zoo.ZooModel;
import dev.selfbyt.cortexsdr.core.Preset;
import dev.selfbyt.cortexsdr.core.calibrate.Metrics;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Where DJL users put a model: a zip whose files sit in one top-level folder (as DJL's own
 * engines accept), a folder that still holds only the {@code .onnx}, a folder with two {@code .cai}.
 */
class ModelFolderTest {
  private static String cacheBefore;
  @TempDir Path dir;

  /** DJL unzips a model path into its cache: keep that under target/, not in the user's home. */
  @BeforeAll
  static void djlCacheInTarget() {
    cacheBefore = System.getProperty("DJL_CACHE_DIR");
    System.setProperty("DJL_CACHE_DIR", Path.of("target/djl-cache").toAbsolutePath().toString());
  }

  @AfterAll
  static void restoreCache() {
    if (cacheBefore == null) {
      System.clearProperty("DJL_CACHE_DIR");
    } else {
      System.setProperty("DJL_CACHE_DIR", cacheBefore);
    }
  }

  private static Criteria<String, float[]> criteria(Path path) {
    return Criteria.builder().setTypes(String.class, float[].class).optModelPath(path).optEngine("CortexSDR")
        .optTranslatorFactory(new TextEmbeddingTranslatorFactory()).optArgument("includeTokenTypes", true).build();
  }

  private static void add(ZipOutputStream zip, String name, Path file) throws IOException {
    zip.putNextEntry(new ZipEntry(name));
    Files.copy(file, zip);
    zip.closeEntry();
  }

  @Test
  void aZipWhoseFilesSitInOneTopLevelFolderLoads() throws Exception {
    Path zip = dir.resolve("minilm-int8.zip");
    try (OutputStream out = Files.newOutputStream(zip); ZipOutputStream z = new ZipOutputStream(out)) {
      z.putNextEntry(new ZipEntry("minilm-int8/"));
      z.closeEntry();
      add(z, "minilm-int8/model.cai", TestModels.minilmCai(Preset.INT8));
      add(z, "minilm-int8/tokenizer.json", TestModels.minilmTokenizer());
    }
    Path flat = Files.createDirectories(dir.resolve("flat"));
    Files.copy(TestModels.minilmCai(Preset.INT8), flat.resolve("model.cai"));
    Files.copy(TestModels.minilmTokenizer(), flat.resolve("tokenizer.json"));

    try (ZooModel<String, float[]> zipped = criteria(zip).loadModel();
        ZooModel<String, float[]> folder = criteria(flat).loadModel();
        Predictor<String, float[]> p1 = zipped.newPredictor();
        Predictor<String, float[]> p2 = folder.newPredictor()) {
      CaiModel m = (CaiModel) zipped.getWrappedModel();
      assertEquals("minilm-int8", m.caiFile().getParent().getFileName().toString(), m.caiFile().toString());
      for (String s : CortexSdrEngineTest.SENTENCES) {
        float[] a = p1.predict(s);
        assertEquals(384, a.length);
        assertEquals(1.0, Metrics.cosine(a, p2.predict(s)), 1e-9, s);
      }
    }
  }

  @Test
  void aFolderWithOnlyTheOnnxModelSaysToCompressItFirst() throws Exception {
    Path folder = Files.createDirectories(dir.resolve("uncompressed"));
    Files.copy(TestModels.minilmOnnx(), folder.resolve("model.onnx"));
    try (Model m = Model.newInstance("uncompressed", "CortexSDR")) {
      FileNotFoundException e = assertThrows(FileNotFoundException.class, () -> m.load(folder));
      assertTrue(e.getMessage().contains("holds no .cai file but holds model.onnx: compress it first: cortexsdr "
          + "compress " + folder.resolve("model.onnx").toAbsolutePath() + " -o "
          + folder.resolve("model.cai").toAbsolutePath()), e.getMessage());
    }
  }

  @Test
  void aFolderWithTwoCaiFilesNamesBoth() throws Exception {
    Path folder = Files.createDirectories(dir.resolve("two"));
    Files.copy(TestModels.minilmCai(Preset.INT8), folder.resolve("int8.cai"));
    Files.copy(TestModels.minilmCai(Preset.INT8), folder.resolve("other.cai"));
    try (Model m = Model.newInstance("two", "CortexSDR")) {
      FileNotFoundException e = assertThrows(FileNotFoundException.class, () -> m.load(folder));
      assertTrue(e.getMessage().contains("holds 2 .cai files (int8.cai, other.cai) and none is named two.cai or "
          + "model.cai"), e.getMessage());
    }
    try (Model m = Model.newInstance("two", "CortexSDR")) {
      m.load(folder, "other"); // the prefix picks one
      assertEquals("other.cai", ((CaiModel) m).caiFile().getFileName().toString());
    }
  }
}
