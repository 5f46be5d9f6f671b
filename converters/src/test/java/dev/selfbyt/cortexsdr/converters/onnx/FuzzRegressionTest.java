package dev.selfbyt.cortexsdr.converters.onnx;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import dev.selfbyt.cortexsdr.core.CompressionOptions;
import dev.selfbyt.cortexsdr.core.CortexSdr;
import dev.selfbyt.cortexsdr.core.format.CaiException;
import dev.selfbyt.cortexsdr.core.format.CaiReader;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.io.TempDir;

/**
 * ONNX files the fuzzer (branch fuzz-load, OnnxImportFuzzIT) found escaping with raw exceptions,
 * kept in {@code fuzz-regressions/}: opening, reading and compressing each either works or fails
 * with one {@link CaiException} ({@link OnnxFormatException}) naming the file.
 */
class FuzzRegressionTest {
  @TempDir Path dir;

  static List<Path> inputs(String ext) throws IOException {
    Path root = Path.of("src/test/resources/fuzz-regressions");
    try (Stream<Path> s = Files.list(root)) {
      return s.filter(p -> p.toString().endsWith(ext)).sorted().toList();
    }
  }

  @TestFactory
  Stream<DynamicTest> mutatedOnnxFilesFailOnlyWithACaiException() throws IOException {
    List<Path> files = inputs(".onnx");
    assertFalse(files.isEmpty());
    return files.stream().map(f -> DynamicTest.dynamicTest(f.getFileName().toString(), () -> {
      try (OnnxModelReader onnx = OnnxModelReader.open(f)) {
        CortexSdr.compress(onnx, dir.resolve(f.getFileName() + ".cai"), CompressionOptions.defaults());
      } catch (CaiException expected) {
        assertFalse(expected.getMessage().isBlank());
      }
    }));
  }

  /**
   * Found by replaying the long fuzz run's findings after the hostile-files fixes (FindingReplay,
   * LoaderFuzzIT#ortSession): the Gather that reads the int8 embedding 'E' lost its indices input,
   * and building the quantized graph asked for that input (IndexOutOfBoundsException, which
   * CaiOrt wrapped as "does not load: Index 1 out of bounds for length 1"). A node short of its
   * inputs now keeps the decoded weight, and ONNX Runtime names the broken node.
   */
  @Test
  void gatherWithoutItsIndicesKeepsItsWeightDecoded() throws IOException {
    Path f = Path.of("src/test/resources/fuzz-regressions/ortSession-IndexOutOfBoundsException-29f1d2c3f3eb.cai");
    try (CaiReader cai = CaiReader.open(f)) {
      QuantizedOnnxExporter.Graph g = QuantizedOnnxExporter.build(cai, 0, true, null);
      QuantizedOnnxExporter.Form e = g.forms().stream().filter(x -> x.tensor().equals("E")).findFirst().orElseThrow();
      assertEquals("decoded", e.form(), e.toString());
    }
  }
}
