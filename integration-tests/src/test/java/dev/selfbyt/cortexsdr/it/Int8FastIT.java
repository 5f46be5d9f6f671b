package dev.selfbyt.cortexsdr.it;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.huggingface.tokenizers.Encoding;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import dev.selfbyt.cortexsdr.converters.onnx.QuantizedOnnxExporter;
import dev.selfbyt.cortexsdr.core.format.CaiReader;
import dev.selfbyt.cortexsdr.it.models.Embedder;
import dev.selfbyt.cortexsdr.it.models.Int8FastFiles;
import dev.selfbyt.cortexsdr.it.models.MobyDick;
import dev.selfbyt.cortexsdr.it.models.RealModel;
import dev.selfbyt.cortexsdr.onnxops.CaiOrt;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * all-MiniLM-L6-v2 under {@code --preset int8-fast}, calibrated on 64 Moby-Dick sentences the
 * evaluation never sees (and on padded batches of them): the exported file is no larger than ONNX Runtime's own int8 model, keeps
 * int8 activations in most MatMuls, holds the fidelity target on 200 other sentences (one at a time
 * and in padded batches of 32), and opened
 * with {@link CaiOrt} computes what the file does.
 */
class Int8FastIT {
  @TempDir Path work;

  static void assertFidelity(String how, float[][] got, float[][] reference) {
    double sum = 0;
    double min = 1;
    for (int i = 0; i < got.length; i++) {
      double c = Embedder.cosine(got[i], reference[i]);
      sum += c;
      min = Math.min(min, c);
    }
    assertTrue(sum / got.length >= 0.997 && min >= 0.99, how + ": mean " + sum / got.length + ", min " + min);
  }

  @Test
  void int8FastIsNoLargerThanTheTwinAndKeepsFidelity() throws Exception {
    RealModel model = RealModel.MINILM;
    Path fp32 = model.onnx(work);
    Path twin = model.int8Twin(work);
    Path cai = Int8FastFiles.textCalibrated(model, work); // padded batches of 16, then 64 sentences
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
    assertFidelity("one at a time", fromFile, reference);
    float[][] batched = new float[eval.size()][];
    try (Embedder e = new Embedder(exported, model.pooling(), 2)) {
      for (int i = 0; i < eval.size(); i += 32) {
        float[][] b = e.embedBatch(eval.subList(i, Math.min(eval.size(), i + 32)));
        System.arraycopy(b, 0, batched, i, b.length);
      }
    }
    // one activation range per tensor spans the whole padded batch: calibrated on padded batches,
    // the file keeps the target there too
    assertFidelity("in padded batches of 32", batched, reference);

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
