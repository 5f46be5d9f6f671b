package dev.selfbyt.cortexsdr.djl;

import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import dev.selfbyt.cortexsdr.converters.onnx.OnnxExporter;
import dev.selfbyt.cortexsdr.core.Preset;
import dev.selfbyt.cortexsdr.core.format.CaiReader;
import dev.selfbyt.cortexsdr.core.tensor.DType;
import dev.selfbyt.cortexsdr.djl.graph.CaiWeights;
import dev.selfbyt.cortexsdr.djl.graph.GraphExecutor;
import dev.selfbyt.cortexsdr.djl.graph.Value;
import java.nio.FloatBuffer;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** The executor runs a real .cai graph and agrees with ONNX Runtime on the same decoded weights. */
class GraphExecutorTest {
  /** Quantized weights (int8, int4) and SDR-sparse ones, each used in its compressed form. */
  @ParameterizedTest
  @EnumSource(value = Preset.class, names = {"INT8", "INT4", "SDR"})
  void minilmMatchesOnnxRuntimeOnDecodedWeights(Preset preset) throws Exception {
    Path cai = TestModels.minilmCai(preset);
    Path decoded = TestModels.DIR.resolve("minilm-" + preset.id() + ".decoded.onnx");
    try (CaiReader r = CaiReader.open(cai)) {
      OnnxExporter.exportDecoded(r, decoded);
      GraphExecutor exec = new GraphExecutor(OnnxExporter.storedModel(r), name -> CaiWeights.load(r, name));
      long compressed = exec.constants().stream().filter(Value::isCompressed).count();
      assertTrue(compressed >= 36, compressed + " weights kept compressed"); // 6 layers x 6 MatMul weights
      HuggingFaceTokenizer tok = HuggingFaceTokenizer.newInstance(TestModels.minilmTokenizer());
      Encoding e = tok.encode("Call me Ishmael. Some years ago, never mind how long precisely, I went to sea.");
      long[] ids = e.getIds();
      long[] shape = {1, ids.length};
      Map<String, Value> in = new HashMap<>();
      in.put("input_ids", Value.ofLongs(DType.INT64, shape, ids));
      in.put("attention_mask", Value.ofLongs(DType.INT64, shape, e.getAttentionMask()));
      in.put("token_type_ids", Value.ofLongs(DType.INT64, shape, e.getTypeIds()));
      float[] ours = exec.run(in).values().iterator().next().floats();

      OrtEnvironment env = OrtEnvironment.getEnvironment();
      try (OrtSession s = env.createSession(decoded.toString(), new OrtSession.SessionOptions())) {
        Map<String, OnnxTensor> oin = new HashMap<>();
        oin.put("input_ids", OnnxTensor.createTensor(env, java.nio.LongBuffer.wrap(ids), shape));
        oin.put("attention_mask", OnnxTensor.createTensor(env, java.nio.LongBuffer.wrap(e.getAttentionMask()), shape));
        oin.put("token_type_ids", OnnxTensor.createTensor(env, java.nio.LongBuffer.wrap(e.getTypeIds()), shape));
        try (OrtSession.Result res = s.run(oin)) {
          FloatBuffer fb = ((OnnxTensor) res.get(0)).getFloatBuffer();
          float[] ort = new float[fb.remaining()];
          fb.get(ort);
          double cos = dev.selfbyt.cortexsdr.core.calibrate.Metrics.cosine(ours, ort);
          double maxDiff = 0;
          for (int i = 0; i < ort.length; i++) {
            maxDiff = Math.max(maxDiff, Math.abs(ours[i] - ort[i]));
          }
          System.out.println(preset.id() + ": cosine " + cos + " max |diff| " + maxDiff);
          assertTrue(cos > 0.99999, "cosine " + cos);
          assertTrue(maxDiff < 1e-3, "max diff " + maxDiff);
        }
      }
    }
  }
}
