package dev.selfbyt.cortexsdr.onnxops;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnxruntime.OrtSession;
import dev.selfbyt.cortexsdr.converters.onnx.OnnxModelReader;
import dev.selfbyt.cortexsdr.converters.onnx.QuantizedOnnxExporter;
import dev.selfbyt.cortexsdr.converters.onnx.RareRows;
import dev.selfbyt.cortexsdr.core.CompressionOptions;
import dev.selfbyt.cortexsdr.core.CortexSdr;
import dev.selfbyt.cortexsdr.core.Preset;
import dev.selfbyt.cortexsdr.core.codec.CodebookQuantCodec;
import dev.selfbyt.cortexsdr.core.codec.QuantCodec;
import dev.selfbyt.cortexsdr.core.format.CaiReader;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A vocabulary table whose unread rows are a 2-bit codebook, opened with CaiOrt: the table is
 * widened to float32 (no ONNX operator looks levels up), reported so, and the session computes
 * what the exported file computes.
 */
class CaiOrtCodebookTest {
  @TempDir static Path dir;

  @Test
  void codebookTableIsWidenedToFloatAndMatchesTheExport() throws Exception {
    Path fp32 = dir.resolve("all-minilm-l6-v2.onnx");
    try (java.io.InputStream in = CaiOrtCodebookTest.class.getResourceAsStream("/all-minilm-l6-v2.onnx")) {
      java.nio.file.Files.copy(in, fp32);
    }
    Path cai = dir.resolve("minilm-codebook.cai");
    String table = CaiOrtTieredTest.TABLE;
    try (OnnxModelReader onnx = OnnxModelReader.open(fp32)) {
      long[] counts = RareRows.counts(onnx, List.of(CaiOrtTest.input(1), CaiOrtTest.input(2))).get(table);
      CortexSdr.compress(onnx, cai, CompressionOptions.builder().preset(Preset.INT4).override(Pattern.quote(table),
          RareRows.tiered(counts, 1, QuantCodec.blockwise(4, false, 32), CodebookQuantCodec.blockwise(2, 32))).build());
    }
    Path exported = dir.resolve("minilm-codebook.quantized.onnx");
    try (CaiReader r = CaiReader.open(cai)) {
      QuantizedOnnxExporter.export(r, exported, 0);
    }
    try (OrtSession.SessionOptions o = new OrtSession.SessionOptions();
        OrtSession fromFile = CaiOrtTest.ENV.createSession(exported.toString(), o);
        CaiOrtSession one = CaiOrt.open(CaiOrtTest.ENV, cai)) {
      assertTrue(one.forms().stream().anyMatch(f -> f.tensor().equals(table) && f.form().equals("decoded")
          && f.note().contains("codebook")), one.forms().toString());
      assertTrue(one.forms().stream().anyMatch(f -> f.form().startsWith("MatMulNBits")), "the MatMuls stay 4-bit");
      for (long seed = 1; seed <= 2; seed++) {
        assertArrayEquals(CaiOrtTest.run(fromFile, seed), CaiOrtTest.run(one.session(), seed), 0f, "input " + seed);
      }
    }
  }
}
