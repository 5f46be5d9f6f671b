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
import dev.selfbyt.cortexsdr.core.codec.QuantCodec;
import dev.selfbyt.cortexsdr.core.format.CaiReader;
import dev.selfbyt.cortexsdr.core.tensor.DType;
import dev.selfbyt.cortexsdr.core.tensor.TensorInfo;
import dev.selfbyt.cortexsdr.core.tensor.TensorRole;
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
 * MiniLM with every MatMul weight and the vocabulary table at 4 bits under super-block scales
 * (quant params version 2): the file is smaller than with plain fp16 scales, the CortexSDR engine
 * runs it with the weights still quantized, ONNX Runtime runs its quantized export (MatMulNBits
 * and GatherBlockQuantized with the scales as fp32) and its decoded export, and all three agree.
 */
class SuperScalesTest {
  static final String TEXT = "Some years ago, never mind how long precisely, having little or no money in my purse, "
      + "I thought I would sail about a little and see the watery part of the world.";

  @Test
  void bothRuntimesRunSuperBlockScalesAndAgree() throws Exception {
    Files.createDirectories(TestModels.DIR);
    Path plain = TestModels.DIR.resolve("minilm-int4-plain-scales.cai");
    Path cai = TestModels.DIR.resolve("minilm-int4-super-scales.cai");
    QuantCodec codec = QuantCodec.blockwise(4, false, 32).withSuperScales();
    try (OnnxModelReader onnx = OnnxModelReader.open(TestModels.minilmOnnx())) {
      CompressionOptions.Builder b = CompressionOptions.builder().preset(Preset.INT4);
      for (TensorInfo t : onnx.tensors()) {
        if (t.role() == TensorRole.MATMUL_WEIGHT || t.role() == TensorRole.EMBEDDING && t.numel() > 1_000_000) {
          b.override(Pattern.quote(t.name()), codec);
        }
      }
      CortexSdr.compress(onnx, cai, b.build());
      CortexSdr.compress(onnx, plain, CompressionOptions.builder().preset(Preset.INT4).build());
    }
    assertTrue(Files.size(cai) < Files.size(plain) * 0.975, "super scales save over 2.5%: " + Files.size(cai)
        + " vs " + Files.size(plain) + " bytes");
    Path decoded = TestModels.DIR.resolve("minilm-int4-super-scales.decoded.onnx");
    Path quantized = TestModels.DIR.resolve("minilm-int4-super-scales.quantized.onnx");
    HuggingFaceTokenizer tok = HuggingFaceTokenizer.newInstance(TestModels.minilmTokenizer());
    Encoding e = tok.encode(TEXT);
    long[] ids = e.getIds();
    long[] shape = {1, ids.length};
    float[] ours;
    try (CaiReader r = CaiReader.open(cai)) {
      long superScaled = r.entries().stream().filter(x -> {
        try {
          return r.readStored(x.name()).codec() instanceof QuantCodec q && q.superScales();
        } catch (java.io.IOException ex) {
          throw new java.io.UncheckedIOException(ex);
        }
      }).count();
      assertEquals(37, superScaled, "36 MatMul weights and the vocabulary table");
      OnnxExporter.exportDecoded(r, decoded);
      List<QuantizedOnnxExporter.Form> forms = QuantizedOnnxExporter.export(r, quantized, 0);
      assertEquals(36, forms.stream().filter(f -> f.form().startsWith("MatMulNBits int4")).count(), forms.toString());
      assertTrue(forms.stream().filter(f -> f.form().startsWith("MatMulNBits")).allMatch(f -> f.note().contains(
          "super-block scales as fp32")), "the export says how it widened the scales");
      GraphExecutor exec = new GraphExecutor(OnnxExporter.storedModel(r), name -> CaiWeights.load(r, name));
      assertTrue(exec.constants().stream().filter(Value::isCompressed).count() >= 37,
          "the MatMul weights and the table stay compressed in the engine");
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
