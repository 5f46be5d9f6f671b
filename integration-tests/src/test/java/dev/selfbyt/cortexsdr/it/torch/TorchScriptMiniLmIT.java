package dev.selfbyt.cortexsdr.it.torch;

import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.djl.engine.Engine;
import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.translate.NoopTranslator;
import dev.selfbyt.cortexsdr.converters.onnx.OnnxExporter;
import dev.selfbyt.cortexsdr.converters.onnx.OnnxModelReader;
import dev.selfbyt.cortexsdr.core.CompressionOptions;
import dev.selfbyt.cortexsdr.core.CortexSdr;
import dev.selfbyt.cortexsdr.core.Preset;
import dev.selfbyt.cortexsdr.core.format.CaiReader;
import dev.selfbyt.cortexsdr.core.tensor.TensorInfo;
import dev.selfbyt.cortexsdr.it.models.Embedder;
import dev.selfbyt.cortexsdr.it.models.MobyDick;
import dev.selfbyt.cortexsdr.it.models.RealModel;
import dev.selfbyt.cortexsdr.pytorch.CaiTorch;
import dev.selfbyt.cortexsdr.pytorch.TorchScriptReader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * all-MiniLM-L6-v2 from TorchScript (its ONNX file converted by onnx_to_torchscript.py) compresses
 * as it does from ONNX: the same tensors, roles and axes, the same ratio, and on 200 Moby-Dick
 * sentences the same fidelity to the fp32 model (mean cosine of pooled embeddings within 0.0005) at
 * int8 and int4; the TorchScript route runs in DJL's PyTorch engine, the ONNX route in ONNX Runtime.
 */
@Tag("pytorch")
class TorchScriptMiniLmIT {
  @TempDir Path work;

  @Test
  void sameRatiosAndFidelityAsFromOnnx() throws Exception {
    Assumptions.assumeTrue(Engine.hasEngine("PyTorch"), "runs in failsafe's torchscript execution (PyTorch added)");
    RealModel model = RealModel.MINILM;
    TorchFixtures fixtures = TorchFixtures.inModule();
    Path pt = fixtures.encoder(model);
    Path dir = pt.getParent();
    Path onnx = model.onnx(dir);

    // the same weights, roles and reduction axes from both readers (TorchScript names them w0, w1, ...)
    Map<String, Integer> onnxRoles = new HashMap<>();
    try (OnnxModelReader o = OnnxModelReader.open(onnx); TorchScriptReader t = TorchScriptReader.open(pt)) {
      for (TensorInfo i : o.tensors()) {
        onnxRoles.merge(i.role() + " " + i.dtype() + java.util.Arrays.toString(i.shape()) + " axis "
            + i.reductionAxis(), 1, Integer::sum);
      }
      Map<String, Integer> ptRoles = new HashMap<>();
      for (TensorInfo i : t.tensors()) {
        if (i.dtype().isFloating() && i.rank() >= 2) {
          ptRoles.merge(i.role() + " " + i.dtype() + java.util.Arrays.toString(i.shape()) + " axis "
              + i.reductionAxis(), 1, Integer::sum);
        }
      }
      for (Map.Entry<String, Integer> e : ptRoles.entrySet()) {
        assertEquals(onnxRoles.get(e.getKey()), e.getValue(), "weights like " + e.getKey());
      }
    }

    List<String> sentences = MobyDick.sentences(200, 0);
    List<Encoding> enc = Embedder.encodeAll(model.tokenizer(dir), 128, sentences);
    float[][] reference;
    try (Embedder fp32 = new Embedder(onnx, model.pooling(), 2)) {
      reference = fp32.embedAll(enc);
    }
    long fp32Bytes = Files.size(onnx);
    StringBuilder table = new StringBuilder(String.format(Locale.ROOT,
        "%n| %s | route | .cai bytes | ratio | mean cos | min cos |%n|---|---|---|---|---|---|%n", model.displayName()));
    for (Preset preset : List.of(Preset.INT8, Preset.INT4)) {
      CompressionOptions options = CompressionOptions.builder().preset(preset).build();
      Path fromOnnx = work.resolve("onnx-" + preset.id() + ".cai");
      try (OnnxModelReader o = OnnxModelReader.open(onnx)) {
        CortexSdr.compress(o, fromOnnx, options);
      }
      Path decoded = work.resolve("onnx-" + preset.id() + ".onnx");
      try (CaiReader c = CaiReader.open(fromOnnx)) {
        OnnxExporter.exportDecoded(c, decoded);
      }
      double[] viaOnnx;
      try (Embedder e = new Embedder(decoded, model.pooling(), 2)) {
        viaOnnx = cosines(reference, e.embedAll(enc));
      }
      Path fromPt = work.resolve("pt-" + preset.id() + ".cai");
      try (TorchScriptReader t = TorchScriptReader.open(pt)) {
        CortexSdr.compress(t, fromPt, options);
      }
      double[] viaPt;
      try (TorchEmbedder e = new TorchEmbedder(CaiTorch.load(fromPt, new NoopTranslator()), model.pooling())) {
        viaPt = cosines(reference, e.embedAll(enc));
      }
      double ratioOnnx = (double) fp32Bytes / Files.size(fromOnnx);
      double ratioPt = (double) Files.size(pt) / Files.size(fromPt);
      table.append(row(preset, "ONNX -> .cai -> ONNX Runtime", Files.size(fromOnnx), ratioOnnx, viaOnnx));
      table.append(row(preset, "TorchScript -> .cai -> DJL PyTorch", Files.size(fromPt), ratioPt, viaPt));
      assertEquals(mean(viaOnnx), mean(viaPt), 0.0005, preset + ": mean cosine from TorchScript vs from ONNX");
      assertEquals(ratioOnnx, ratioPt, 0.01 * ratioOnnx, preset + ": ratio from TorchScript vs from ONNX");
    }
    System.out.println(table);
  }

  private static String row(Preset p, String route, long bytes, double ratio, double[] cos) {
    return String.format(Locale.ROOT, "| %s | %s | %,d | %.2fx | %.5f | %.5f |%n", p.id(), route, bytes, ratio, mean(cos),
        java.util.Arrays.stream(cos).min().orElse(Double.NaN));
  }

  private static double[] cosines(float[][] want, float[][] got) {
    double[] c = new double[want.length];
    for (int i = 0; i < c.length; i++) {
      c[i] = Embedder.cosine(want[i], got[i]);
    }
    return c;
  }

  private static double mean(double[] v) {
    return java.util.Arrays.stream(v).average().orElse(Double.NaN);
  }
}
