package dev.selfbyt.cortexsdr.djl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import dev.selfbyt.cortexsdr.converters.onnx.OnnxCalibrator;
import dev.selfbyt.cortexsdr.converters.onnx.OnnxExporter;
import dev.selfbyt.cortexsdr.converters.onnx.OnnxModelReader;
import dev.selfbyt.cortexsdr.converters.onnx.QuantizedOnnxExporter;
import dev.selfbyt.cortexsdr.converters.onnx.RareRows;
import dev.selfbyt.cortexsdr.core.CompressionOptions;
import dev.selfbyt.cortexsdr.core.CortexSdr;
import dev.selfbyt.cortexsdr.core.Preset;
import dev.selfbyt.cortexsdr.core.calibrate.Metrics;
import dev.selfbyt.cortexsdr.core.codec.QuantCodec;
import dev.selfbyt.cortexsdr.core.codec.TieredQuantCodec;
import dev.selfbyt.cortexsdr.core.format.CaiReader;
import dev.selfbyt.cortexsdr.core.tensor.DType;
import dev.selfbyt.cortexsdr.djl.graph.CaiWeights;
import dev.selfbyt.cortexsdr.djl.graph.GraphExecutor;
import dev.selfbyt.cortexsdr.djl.graph.Value;
import java.nio.FloatBuffer;
import java.nio.LongBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * MiniLM whose vocabulary table keeps 4 bits only for the rows a few sentences read, 2 bits for the
 * rest (a tiered table): the CortexSDR engine runs it with the table still quantized, ONNX Runtime
 * runs its quantized export (GatherBlockQuantized on the widened view) and its decoded export, and
 * all three agree.
 */
class TieredEmbeddingTest {
  static final String TABLE = "embeddings.word_embeddings.weight";
  static final List<String> TEXT = List.of("Call me Ishmael.", "Some years ago, never mind how long precisely, "
      + "having little or no money in my purse, I thought I would sail about a little.");

  @Test
  void bothRuntimesRunTheTieredTableAndAgree() throws Exception {
    HuggingFaceTokenizer tok = HuggingFaceTokenizer.newInstance(TestModels.minilmTokenizer());
    Path cai = TestModels.DIR.resolve("minilm-int4-tiered.cai");
    Files.createDirectories(TestModels.DIR);
    TieredQuantCodec tiered;
    try (OnnxModelReader onnx = OnnxModelReader.open(TestModels.minilmOnnx())) {
      List<Map<String, OnnxCalibrator.Input>> samples = TEXT.stream()
          .map(t -> Map.of("input_ids", OnnxCalibrator.Input.ofRows(tok.encode(t).getIds()))).toList();
      long[] counts = RareRows.counts(onnx, samples).get(TABLE);
      assertTrue(RareRows.frequentRows(counts, 1) > 20 && RareRows.frequentRows(counts, 1) < 60,
          "the sentences read a few dozen rows: " + RareRows.frequentRows(counts, 1));
      tiered = RareRows.tiered(counts, 1, QuantCodec.blockwise(4, false, 32), QuantCodec.blockwise(2, false, 32));
      CortexSdr.compress(onnx, cai, CompressionOptions.builder().preset(Preset.INT4)
          .override(Pattern.quote(TABLE), tiered).build());
    }
    Path decoded = TestModels.DIR.resolve("minilm-int4-tiered.decoded.onnx");
    Path quantized = TestModels.DIR.resolve("minilm-int4-tiered.quantized.onnx");
    Encoding e = tok.encode(TEXT.get(1) + " It is a way I have of driving off the spleen.");
    long[] ids = e.getIds();
    long[] shape = {1, ids.length};
    float[] ours;
    try (CaiReader r = CaiReader.open(cai)) {
      assertEquals(tiered, r.readStored(TABLE).codec(), "the table is stored tiered");
      OnnxExporter.exportDecoded(r, decoded);
      List<QuantizedOnnxExporter.Form> forms = QuantizedOnnxExporter.export(r, quantized, 0);
      QuantizedOnnxExporter.Form table = forms.stream().filter(f -> f.tensor().equals(TABLE)).findFirst().orElseThrow();
      assertTrue(table.form().startsWith("GatherBlockQuantized int4"), table.toString());
      assertTrue(table.note().contains("widened to one width"), table.toString());
      GraphExecutor exec = new GraphExecutor(OnnxExporter.storedModel(r), name -> CaiWeights.load(r, name));
      assertTrue(exec.constants().stream().filter(Value::isCompressed).count() >= 37,
          "the 36 MatMul weights and the tiered table stay compressed");
      Map<String, Value> in = new HashMap<>();
      in.put("input_ids", Value.ofLongs(DType.INT64, shape, ids));
      in.put("attention_mask", Value.ofLongs(DType.INT64, shape, e.getAttentionMask()));
      in.put("token_type_ids", Value.ofLongs(DType.INT64, shape, e.getTypeIds()));
      ours = exec.run(in).values().iterator().next().floats();
    }
    float[] fromDecoded = ort(decoded, ids, e.getAttentionMask(), e.getTypeIds(), shape);
    float[] fromQuantized = ort(quantized, ids, e.getAttentionMask(), e.getTypeIds(), shape);
    assertTrue(Metrics.cosine(ours, fromDecoded) > 0.99999, "engine vs ORT decoded: " + Metrics.cosine(ours, fromDecoded));
    assertTrue(Metrics.cosine(fromQuantized, fromDecoded) > 0.99999,
        "ORT quantized vs decoded: " + Metrics.cosine(fromQuantized, fromDecoded));
  }

  static float[] ort(Path model, long[] ids, long[] mask, long[] types, long[] shape) throws Exception {
    OrtEnvironment env = OrtEnvironment.getEnvironment();
    try (OrtSession s = env.createSession(model.toString(), new OrtSession.SessionOptions())) {
      Map<String, OnnxTensor> in = new HashMap<>();
      in.put("input_ids", OnnxTensor.createTensor(env, LongBuffer.wrap(ids), shape));
      in.put("attention_mask", OnnxTensor.createTensor(env, LongBuffer.wrap(mask), shape));
      in.put("token_type_ids", OnnxTensor.createTensor(env, LongBuffer.wrap(types), shape));
      try (OrtSession.Result res = s.run(in)) {
        FloatBuffer fb = ((OnnxTensor) res.get(0)).getFloatBuffer();
        float[] out = new float[fb.remaining()];
        fb.get(out);
        return out;
      } finally {
        in.values().forEach(OnnxTensor::close);
      }
    }
  }
}
