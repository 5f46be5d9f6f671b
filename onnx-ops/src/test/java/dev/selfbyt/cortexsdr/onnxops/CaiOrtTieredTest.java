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
import dev.selfbyt.cortexsdr.core.codec.QuantCodec;
import dev.selfbyt.cortexsdr.core.format.CaiReader;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A tiered vocabulary table (rows the calibration ids read at 4 bits, the rest at 3) opened with CaiOrt. */
class CaiOrtTieredTest {
  static final String TABLE = "embeddings.word_embeddings.weight";
  @TempDir static Path dir;


  @Test
  void tieredTableStaysQuantizedAndMatchesTheExport() throws Exception {
    Path fp32 = dir.resolve("all-minilm-l6-v2.onnx");
    try (java.io.InputStream in = CaiOrtTieredTest.class.getResourceAsStream("/all-minilm-l6-v2.onnx")) {
      java.nio.file.Files.copy(in, fp32);
    }
    Path cai = dir.resolve("minilm-tiered.cai");
    try (OnnxModelReader onnx = OnnxModelReader.open(fp32)) {
      long[] counts = RareRows.counts(onnx, List.of(CaiOrtTest.input(1), CaiOrtTest.input(2))).get(TABLE);
      CortexSdr.compress(onnx, cai, CompressionOptions.builder().preset(Preset.INT4).override(Pattern.quote(TABLE),
          RareRows.tiered(counts, 1, QuantCodec.blockwise(4, false, 32), QuantCodec.blockwise(3, false, 32))).build());
    }
    Path exported = dir.resolve("minilm-tiered.quantized.onnx");
    List<QuantizedOnnxExporter.Form> forms;
    try (CaiReader r = CaiReader.open(cai)) {
      forms = QuantizedOnnxExporter.export(r, exported, 0);
    }
    assertTrue(forms.stream().anyMatch(f -> f.tensor().equals(TABLE) && f.form().startsWith("GatherBlockQuantized")),
        forms.toString());
    try (OrtSession.SessionOptions o = new OrtSession.SessionOptions();
        OrtSession fromFile = CaiOrtTest.ENV.createSession(exported.toString(), o);
        CaiOrtSession one = CaiOrt.open(CaiOrtTest.ENV, cai)) {
      assertTrue(one.forms().stream().anyMatch(f -> f.tensor().equals(TABLE) && f.form().startsWith("GatherBlockQuantized")),
          one.forms().toString());
      for (long seed = 1; seed <= 3; seed++) {
        assertArrayEquals(CaiOrtTest.run(fromFile, seed), CaiOrtTest.run(one.session(), seed), 0f, "input " + seed);
      }
    }
  }
}
