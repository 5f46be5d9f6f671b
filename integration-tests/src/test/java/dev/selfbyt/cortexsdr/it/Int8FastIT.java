package dev.selfbyt.cortexsdr.it;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.huggingface.tokenizers.Encoding;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import dev.selfbyt.cortexsdr.converters.onnx.Int8FastCalibrator;
import dev.selfbyt.cortexsdr.converters.onnx.OnnxCalibrator;
import dev.selfbyt.cortexsdr.converters.onnx.OnnxModelReader;
import dev.selfbyt.cortexsdr.converters.onnx.QuantizedOnnxExporter;
import dev.selfbyt.cortexsdr.core.CompressionOptions;
import dev.selfbyt.cortexsdr.core.CortexSdr;
import dev.selfbyt.cortexsdr.core.Preset;
import dev.selfbyt.cortexsdr.core.format.CaiReader;
import dev.selfbyt.cortexsdr.it.models.Embedder;
import dev.selfbyt.cortexsdr.it.models.MobyDick;
import dev.selfbyt.cortexsdr.it.models.RealModel;
import dev.selfbyt.cortexsdr.onnxops.CaiOrt;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * all-MiniLM-L6-v2 under {@code --preset int8-fast}, calibrated on 64 Moby-Dick sentences the
 * evaluation never sees: the exported file is no larger than ONNX Runtime's own int8 model, keeps
 * int8 activations in every MatMul, holds the fidelity target on 200 other sentences, and opened
 * with {@link CaiOrt} computes what the file does.
 */
class Int8FastIT {
  @TempDir Path work;

  @Test
  void int8FastIsNoLargerThanTheTwinAndKeepsFidelity() throws Exception {
    RealModel model = RealModel.MINILM;
    Path fp32 = model.onnx(work);
    Path twin = model.int8Twin(work);
    List<Map<String, OnnxCalibrator.Input>> calibration = new ArrayList<>();
    for (Encoding e : Embedder.encodeAll(model.tokenizer(work), 128, MobyDick.sentences(64, 300))) {
      long[] shape = {1, e.getIds().length};
      calibration.add(Map.of("input_ids", OnnxCalibrator.Input.ofLongs(shape, e.getIds()),
          "attention_mask", OnnxCalibrator.Input.ofLongs(shape, e.getAttentionMask()),
          "token_type_ids", OnnxCalibrator.Input.ofLongs(shape, new long[e.getIds().length])));
    }
    Path cai = work.resolve("minilm-int8-fast.cai");
    CompressionOptions.Builder b = CompressionOptions.builder().preset(Preset.INT8_FAST).threads(2);
    try (OnnxModelReader onnx = OnnxModelReader.open(fp32)) {
      Int8FastCalibrator.Result r = new Int8FastCalibrator(onnx, b.build(), 2).calibrate(calibration, b);
      CortexSdr.compress(r.source(), cai, r.options());
    }
    Path exported = work.resolve("minilm-int8-fast.onnx");
    List<QuantizedOnnxExporter.Form> forms;
    try (CaiReader r = CaiReader.open(cai)) {
      forms = QuantizedOnnxExporter.export(r, exported, 0);
    }
    long int8 = forms.stream().filter(f -> f.form().startsWith("MatMulInteger")).count();
    assertTrue(int8 >= 30, "most of the 36 MatMuls keep int8 activations: " + int8);
    assertTrue(Files.size(exported) <= Files.size(twin), "exported " + Files.size(exported) + " bytes, the twin "
        + Files.size(twin));

    List<Encoding> eval = Embedder.encodeAll(model.tokenizer(work), 128, MobyDick.sentences(200, 0));
    float[][] reference;
    try (Embedder e = new Embedder(fp32, model.pooling(), 2)) {
      reference = e.embedAll(eval);
    }
    float[][] fromFile;
    try (Embedder e = new Embedder(exported, model.pooling(), 2)) {
      fromFile = e.embedAll(eval);
    }
    double sum = 0;
    double min = 1;
    for (int i = 0; i < eval.size(); i++) {
      double c = Embedder.cosine(fromFile[i], reference[i]);
      sum += c;
      min = Math.min(min, c);
    }
    assertTrue(sum / eval.size() >= 0.997 && min >= 0.99, "mean " + sum / eval.size() + ", min " + min);

    OrtEnvironment env = OrtEnvironment.getEnvironment();
    OrtSession.SessionOptions o1 = new OrtSession.SessionOptions();
    o1.addConfigEntry(CaiOrt.DENORMAL_AS_ZERO_KEY, "1"); // as CaiOrt sets it
    try (Embedder file = new Embedder(env.createSession(exported.toString(), o1), model.pooling());
        dev.selfbyt.cortexsdr.onnxops.CaiOrtSession caiSession = CaiOrt.open(env, cai);
        Embedder oneCall = new Embedder(caiSession.session(), model.pooling())) {
      for (int i = 0; i < 5; i++) {
        assertArrayEquals(file.embed(eval.get(i)), oneCall.embed(eval.get(i)), 0f, "sentence " + i);
      }
    }
  }
}
