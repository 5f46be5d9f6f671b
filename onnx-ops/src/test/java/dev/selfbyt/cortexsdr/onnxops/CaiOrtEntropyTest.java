package dev.selfbyt.cortexsdr.onnxops;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnxruntime.OrtSession;
import dev.selfbyt.cortexsdr.converters.onnx.OnnxModelReader;
import dev.selfbyt.cortexsdr.converters.onnx.QuantizedOnnxExporter;
import dev.selfbyt.cortexsdr.core.CompressionOptions;
import dev.selfbyt.cortexsdr.core.CortexSdr;
import dev.selfbyt.cortexsdr.core.Preset;
import dev.selfbyt.cortexsdr.core.codec.EntropyQuantCodec;
import java.nio.file.Path;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * An entropy-coded vocabulary table (steps per row, Huffman-coded codes) opened with CaiOrt: the
 * table becomes a Gather of int8 rows (the Huffman coding widened to 8 bits, reported so), and the
 * session computes what the exported file computes.
 */
class CaiOrtEntropyTest {
  @TempDir static Path dir;

  @Test
  void entropyTableIsGatheredAsInt8RowsAndMatchesTheExport() throws Exception {
    Path fp32 = dir.resolve("all-minilm-l6-v2.onnx");
    try (java.io.InputStream in = CaiOrtEntropyTest.class.getResourceAsStream("/all-minilm-l6-v2.onnx")) {
      java.nio.file.Files.copy(in, fp32);
    }
    Path cai = dir.resolve("minilm-entropy.cai");
    String table = CaiOrtTieredTest.TABLE;
    try (OnnxModelReader onnx = OnnxModelReader.open(fp32)) {
      CortexSdr.compress(onnx, cai, CompressionOptions.builder().preset(Preset.INT4)
          .override(Pattern.quote(table), EntropyQuantCodec.of(0.58)).build());
    }
    Path exported = dir.resolve("minilm-entropy.quantized.onnx");
    try (dev.selfbyt.cortexsdr.core.format.CaiReader r = dev.selfbyt.cortexsdr.core.format.CaiReader.open(cai)) {
      QuantizedOnnxExporter.export(r, exported, 0);
    }
    try (OrtSession.SessionOptions o = new OrtSession.SessionOptions();
        OrtSession fromFile = CaiOrtTest.ENV.createSession(exported.toString(), o);
        CaiOrtSession one = CaiOrt.open(CaiOrtTest.ENV, cai)) {
      assertTrue(one.forms().stream().anyMatch(f -> f.tensor().equals(table) && f.form().equals("Gather int8 per-row")
          && f.note().contains("Huffman codes widened to 8 bits")), one.forms().toString());
      assertTrue(one.forms().stream().anyMatch(f -> f.form().startsWith("MatMulNBits")), "the MatMuls stay 4-bit");
      for (long seed = 1; seed <= 2; seed++) {
        assertArrayEquals(CaiOrtTest.run(fromFile, seed), CaiOrtTest.run(one.session(), seed), 0f, "input " + seed);
      }
    }
  }
}
