package dev.selfbyt.cortexsdr.djl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import dev.selfbyt.cortexsdr.converters.onnx.OnnxExporter;
import dev.selfbyt.cortexsdr.converters.onnx.OnnxModelReader;
import dev.selfbyt.cortexsdr.converters.onnx.QuantizedOnnxExporter;
import dev.selfbyt.cortexsdr.core.CompressionOptions;
import dev.selfbyt.cortexsdr.core.CortexSdr;
import dev.selfbyt.cortexsdr.core.Preset;
import dev.selfbyt.cortexsdr.core.calibrate.Metrics;
import dev.selfbyt.cortexsdr.core.codec.EntropyQuantCodec;
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
 * MiniLM whose vocabulary table is entropy-coded (a step per row, Huffman-coded codes): the
 * CortexSDR engine keeps it as int8 rows, ONNX Runtime runs the decoded export and the quantized
 * export (where the table is a Gather of int8 rows, the Huffman coding widened to 8 bits and
 * reported so), and all three agree.
 */
class EntropyEmbeddingTest {
  static final String TABLE = CodebookEmbeddingTest.TABLE;

  @Test
  void bothRuntimesRunAnEntropyCodedTableAndAgree() throws Exception {
    HuggingFaceTokenizer tok = HuggingFaceTokenizer.newInstance(TestModels.minilmTokenizer());
    Path cai = TestModels.DIR.resolve("minilm-int4-entropy-table.cai");
    Files.createDirectories(TestModels.DIR);
    EntropyQuantCodec codec = EntropyQuantCodec.of(0.58);
    try (OnnxModelReader onnx = OnnxModelReader.open(TestModels.minilmOnnx())) {
      CortexSdr.compress(onnx, cai, CompressionOptions.builder().preset(Preset.INT4)
          .override(Pattern.quote(TABLE), codec).build());
    }
    Path decoded = TestModels.DIR.resolve("minilm-int4-entropy-table.decoded.onnx");
    Path quantized = TestModels.DIR.resolve("minilm-int4-entropy-table.quantized.onnx");
    Encoding e = tok.encode(TieredEmbeddingTest.TEXT.get(1) + " It is a way I have of driving off the spleen.");
    long[] ids = e.getIds();
    long[] shape = {1, ids.length};
    float[] ours;
    try (CaiReader r = CaiReader.open(cai)) {
      assertEquals(codec, r.readStored(TABLE).codec(), "the table is stored entropy-coded");
      long tableBytes = r.entry(TABLE).storedLength();
      assertTrue(tableBytes < 30522L * 384 * 3 / 8, "under 3 bits per value: " + tableBytes + " bytes");
      OnnxExporter.exportDecoded(r, decoded);
      List<QuantizedOnnxExporter.Form> forms = QuantizedOnnxExporter.export(r, quantized, 0);
      QuantizedOnnxExporter.Form table = forms.stream().filter(f -> f.tensor().equals(TABLE)).findFirst().orElseThrow();
      assertEquals("Gather int8 per-row", table.form(), table.toString());
      assertTrue(table.note().contains("Huffman codes widened to 8 bits"), table.toString());
      GraphExecutor exec = new GraphExecutor(OnnxExporter.storedModel(r), name -> CaiWeights.load(r, name));
      assertTrue(CaiWeights.load(r, TABLE).isCompressed(), "the engine keeps the table as int8 rows");
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
