package dev.selfbyt.cortexsdr.onnxops;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.selfbyt.cortexsdr.core.format.CaiException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * {@code .cai} files (valid checksums) the fuzzer (branch fuzz-load, LoaderFuzzIT#ortSession)
 * found making {@link CaiOrt#open} throw raw runtime exceptions, kept in {@code
 * fuzz-regressions/}: each now opens, or fails with a {@link CaiException} naming the file (or an
 * {@link OrtException} when ONNX Runtime itself refuses the rebuilt model).
 */
class FuzzRegressionTest {
  @TestFactory
  Stream<DynamicTest> mutatedCaiFilesFailOnlyWithACaiException() throws IOException {
    List<Path> files;
    try (Stream<Path> s = Files.list(Path.of("src/test/resources/fuzz-regressions"))) {
      files = s.filter(p -> p.toString().endsWith(".cai")).sorted().toList();
    }
    assertFalse(files.isEmpty());
    OrtEnvironment env = OrtEnvironment.getEnvironment();
    return files.stream().map(f -> DynamicTest.dynamicTest(f.getFileName().toString(), () -> {
      try (CaiOrtSession s = CaiOrt.open(env, f, CaiOrtOptions.builder().sdr(SdrMatMulRewriter.withMinSparsity(0.0)).build())) {
        assertFalse(s.session().getInputNames().isEmpty());
      } catch (CaiException expected) {
        assertTrue(expected.getMessage().contains(f.getFileName().toString()), expected.getMessage());
      } catch (OrtException expected) {
        assertTrue(expected.getMessage().contains(f.getFileName().toString()), expected.getMessage());
      }
    }));
  }
}
