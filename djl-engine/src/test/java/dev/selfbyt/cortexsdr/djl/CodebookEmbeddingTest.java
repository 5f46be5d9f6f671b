package dev.selfbyt.cortexsdr.djl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import dev.selfbyt.cortexsdr.converters.onnx.OnnxCalibrator;
import dev.selfbyt.cortexsdr.converters.onnx.OnnxExporter;
import dev.selfbyt.cortexsdr.converters.onnx.OnnxModelReader;
import dev.selfbyt.cortexsdr.converters.onnx.QuantizedOnnxExporter;
import dev.selfbyt.cortexsdr.converters.onnx.RareRows;
import dev.selfbyt.cortexsdr.core.CompressionOptions;
import dev.selfbyt.cortexsdr.core.CortexSdr;
import dev.selfbyt.cortexsdr.core.Preset;
import dev.selfbyt.cortexsdr.core.calibrate.Metrics;
import dev.selfbyt.cortexsdr.core.codec.CodebookQuantCodec;
import dev.selfbyt.cortexsdr.core.codec.QuantCodec;
import dev.selfbyt.cortexsdr.core.codec.TieredQuantCodec;
import dev.selfbyt.cortexsdr.core.format.CaiReader;
import dev.selfbyt.cortexsdr.core.tensor.DType;
import dev.selfbyt.cortexsdr.djl.graph.CaiWeights;
import dev.selfbyt.cortexsdr.djl.graph.GraphExecutor;
import dev.selfbyt.cortexsdr.djl.graph.Value;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * MiniLM whose vocabulary table stores the rows a few sentences read at 4 bits and the others as
 * a 2-bit codebook (fitted levels, table lookup): the CortexSDR engine decodes the table to float32
 * at load and runs it, ONNX Runtime runs the decoded export and the quantized export (where the
 * table is written decoded, reported so), and all three agree.
 */
class CodebookEmbeddingTest {
  static final String TABLE = "embeddings.word_embeddings.weight";

  @Test
  void bothRuntimesRunACodebookTierAndAgree() throws Exception {
    HuggingFaceTokenizer tok = HuggingFaceTokenizer.newInstance(TestModels.minilmTokenizer());
    Path cai = TestModels.DIR.resolve("minilm-int4-codebook-rare.cai");
    Files.createDirectories(TestModels.DIR);
    TieredQuantCodec tiered;
    try (OnnxModelReader onnx = OnnxModelReader.open(TestModels.minilmOnnx())) {
      List<Map<String, OnnxCalibrator.Input>> samples = TieredEmbeddingTest.TEXT.stream()
          .map(t -> Map.of("input_ids", OnnxCalibrator.Input.ofRows(tok.encode(t).getIds()))).toList();
      long[] counts = RareRows.counts(onnx, samples).get(TABLE);
      tiered = RareRows.tiered(counts, 1, QuantCodec.blockwise(4, false, 32),
          CodebookQuantCodec.blockwise(2, 32).withSuperScales());
      CortexSdr.compress(onnx, cai, CompressionOptions.builder().preset(Preset.INT4)
          .override(Pattern.quote(TABLE), tiered).build());
    }
    Path decoded = TestModels.DIR.resolve("minilm-int4-codebook-rare.decoded.onnx");
    Path quantized = TestModels.DIR.resolve("minilm-int4-codebook-rare.quantized.onnx");
    Encoding e = tok.encode(TieredEmbeddingTest.TEXT.get(1) + " It is a way I have of driving off the spleen.");
    long[] ids = e.getIds();
    long[] shape = {1, ids.length};
    float[] ours;
    try (CaiReader r = CaiReader.open(cai)) {
      assertEquals(tiered, r.readStored(TABLE).codec(), "the table is stored tiered, its rare tier a codebook");
      OnnxExporter.exportDecoded(r, decoded);
      List<QuantizedOnnxExporter.Form> forms = QuantizedOnnxExporter.export(r, quantized, 0);
      QuantizedOnnxExporter.Form table = forms.stream().filter(f -> f.tensor().equals(TABLE)).findFirst().orElseThrow();
      assertEquals("decoded", table.form(), table.toString());
      assertTrue(table.note().contains("codebook levels have no ONNX operator"), table.toString());
      GraphExecutor exec = new GraphExecutor(OnnxExporter.storedModel(r), name -> CaiWeights.load(r, name));
      Value t = CaiWeights.load(r, TABLE);
      assertFalse(t.isCompressed(), "the engine decodes a codebook table to float32 at load");
      assertTrue(exec.constants().stream().filter(Value::isCompressed).count() >= 36,
          "the 36 MatMul weights stay compressed");
      Map<String, Value> in = new HashMap<>();
      in.put("input_ids", Value.ofLongs(DType.INT64, shape, ids));
      in.put("attention_mask", Value.ofLongs(DType.INT64, shape, e.getAttentionMask()));
      in.put("token_type_ids", Value.ofLongs(DType.INT64, shape, e.getTypeIds()));
      ours = exec.run(in).values().iterator().next().floats();
    }
    float[] fromDecoded = TieredEmbeddingTest.ort(decoded, ids, e.getAttentionMask(), e.getTypeIds(), shape);
    float[] fromQuantized = TieredEmbeddingTest.ort(quantized, ids, e.getAttentionMask(), e.getTypeIds(), shape);
    assertTrue(Metrics.cosine(ours, fromDecoded) > 0.99999, "engine vs ORT decoded: " + Metrics.cosine(ours, fromDecoded));
    assertTrue(Metrics.cosine(fromQuantized, fromDecoded) > 0.99999,
        "ORT quantized vs decoded: " + Metrics.cosine(fromQuantized, fromDecoded));
  }
}
