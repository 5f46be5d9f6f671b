package dev.selfbyt.cortexsdr.djl;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.MalformedModelException;
import ai.djl.inference.Predictor;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.repository.zoo.Criteria;
import ai.djl.repository.zoo.ZooModel;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * {@code .cai} files (valid checksums) the fuzzer (branch fuzz-load, LoaderFuzzIT#djlEngine)
 * found loading with raw exceptions, or loading and then failing at the first prediction, kept in
 * {@code fuzz-regressions/}. Each is a mutation of a small graph (ids [1, 4] -> Gather -> MatMul ->
 * Add -> Relu -> LayerNormalization -> MatMul): now it either fails to load with one {@link
 * MalformedModelException} naming the file, or loads and predicts.
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
}
