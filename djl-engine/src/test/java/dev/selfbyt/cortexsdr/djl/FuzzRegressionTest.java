package dev.selfbyt.cortexsdr.djl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.MalformedModelException;
import ai.djl.inference.Predictor;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.repository.zoo.Criteria;
import ai.djl.repository.zoo.ZooModel;
import ai.djl.translate.TranslateException;
import dev.selfbyt.cortexsdr.djl.graph.InvalidNodeException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/**
 * {@code .cai} files (valid checksums) the fuzzer (branch fuzz-load, LoaderFuzzIT#djlEngine)
 * found loading with raw exceptions, or loading and then failing at the first prediction, kept in
 * {@code fuzz-regressions/}. Each is a mutation of a small graph (ids [1, 4] -> Gather -> MatMul ->
 * Add -> Relu -> LayerNormalization -> MatMul): now it either fails to load with one {@link
 * MalformedModelException} naming the file, or loads and predicts. The files in {@code
 * fuzz-regressions/predict/} (a node attribute such as LayerNormalization's axis edited to a
 * value no input of that rank has) load, and their first prediction fails with a {@code
 * TranslateException} caused by an {@link InvalidNodeException} naming the node and the axis.
 */
class FuzzRegressionTest {
  static final long[] IDS = {3, 0, 31, 7};

  @TestFactory
  Stream<DynamicTest> mutatedCaiFilesAreRefusedAtLoadOrRun() throws IOException {
    List<Path> files;
    try (Stream<Path> s = Files.list(Path.of("src/test/resources/fuzz-regressions"))) {
      files = s.filter(p -> p.toString().endsWith(".cai")).sorted().toList();
    }
    assertFalse(files.isEmpty());
    return files.stream().map(f -> DynamicTest.dynamicTest(f.getFileName().toString(), () -> {
      Criteria<NDList, NDList> criteria = Criteria.builder().setTypes(NDList.class, NDList.class).optModelPath(f)
          .optEngine("CortexSDR").build();
      ZooModel<NDList, NDList> model;
      try {
        model = criteria.loadModel();
      } catch (MalformedModelException expected) {
        assertTrue(expected.getMessage().contains(f.getFileName().toString()), expected.getMessage());
        return;
      }
      try (model;
          Predictor<NDList, NDList> pred = model.newPredictor();
          NDManager nd = model.getNDManager().newSubManager()) {
        NDList out = pred.predict(new NDList(nd.create(IDS, new Shape(1, 4))));
        out.get(0).toFloatArray();
      }
    }));
  }

  private static final Path DIR = Path.of("src/test/resources/fuzz-regressions");

  private static void assertRefusedAtLoad(String file, String... expectedParts) {
    Path f = DIR.resolve(file);
    Criteria<NDList, NDList> criteria = Criteria.builder().setTypes(NDList.class, NDList.class).optModelPath(f)
        .optEngine("CortexSDR").build();
    MalformedModelException e = assertThrows(MalformedModelException.class, criteria::loadModel);
    assertTrue(e.getMessage().contains(file), e.getMessage());
    for (String part : expectedParts) {
      assertTrue(e.getMessage().contains(part), e.getMessage());
    }
  }

  /**
   * Found by the replay of the long run's findings (FindingReplay, after the hostile-files fixes):
   * a node whose graph input names were edited away, so it had fewer inputs than its operator
   * needs or an empty name where a required one goes, loaded and failed at the first prediction
   * with a raw IllegalStateException (ArrayIndexOutOfBounds or NullPointerException inside the
   * operator). The executor now refuses it at load.
   */
  @Test
  void nodeMissingARequiredInputIsRefusedAtLoad() {
    assertRefusedAtLoad("djlEngine-TranslateException-0d5c7ae57d5e.cai", "node 'add1' (Add) has no input 1");
    assertRefusedAtLoad("djlEngine-TranslateException-19e128e9f0a9.cai", "node 'add1' (Add) has no input 0");
    assertRefusedAtLoad("djlEngine-TranslateException-09aeb9ffbbca.cai", "node 'gather' (Gather) has no input 1");
    assertRefusedAtLoad("djlEngine-TranslateException-03c7167c087c.cai",
        "node 'ln' (LayerNormalization) has no input 0");
    assertRefusedAtLoad("djlEngine-TranslateException-183f8bbfceed.cai", "node 'mm1' (MatMul) has no input 0");
    assertRefusedAtLoad("djlEngine-TranslateException-3d0d40d41856.cai", "node 'relu' (Relu) has no input 0");
  }

  /**
   * Also from the replay: LayerNormalization's axis attribute edited to a value outside [-3, 3)
   * for its rank-3 input failed deep in the operator (IndexOutOfBounds wrapped in an
   * IllegalStateException). The rank is only known at run time, so the prediction now fails with
   * a TranslateException whose cause is an InvalidNodeException naming the node and the axis.
   */
  @Test
  void axisOutsideItsInputsRankFailsThePredictionWithInvalidNodeException() throws Exception {
    for (String file : new String[] {"djlEngine-TranslateException-038ebb688467.cai",
        "djlEngine-TranslateException-07d2c048dc0d.cai"}) {
      Criteria<NDList, NDList> criteria = Criteria.builder().setTypes(NDList.class, NDList.class)
          .optModelPath(DIR.resolve("predict").resolve(file)).optEngine("CortexSDR").build();
      try (ZooModel<NDList, NDList> model = criteria.loadModel();
          Predictor<NDList, NDList> pred = model.newPredictor();
          NDManager nd = model.getNDManager().newSubManager()) {
        TranslateException e = assertThrows(TranslateException.class,
            () -> pred.predict(new NDList(nd.create(IDS, new Shape(1, 4)))));
        InvalidNodeException cause = assertThrows(InvalidNodeException.class, () -> {
          throw e.getCause();
        });
        assertTrue(cause.getMessage().startsWith("node 'ln' (LayerNormalization) on "), cause.getMessage());
        assertTrue(cause.getMessage().contains("LayerNormalization axis "), cause.getMessage());
        assertTrue(cause.getMessage().endsWith("is outside [-3, 3) for an input of rank 3"), cause.getMessage());
        assertEquals(InvalidNodeException.class, cause.getCause().getClass());
      }
    }
  }
}
