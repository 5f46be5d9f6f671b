package dev.selfbyt.cortexsdr.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnxruntime.NodeInfo;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.TensorInfo;
import dev.selfbyt.cortexsdr.converters.onnx.OnnxExporter;
import dev.selfbyt.cortexsdr.converters.onnx.OnnxModelReader;
import dev.selfbyt.cortexsdr.converters.onnx.QuantizedOnnxExporter;
import dev.selfbyt.cortexsdr.core.CompressionOptions;
import dev.selfbyt.cortexsdr.core.CompressionStats;
import dev.selfbyt.cortexsdr.core.CortexSdr;
import dev.selfbyt.cortexsdr.core.Preset;
import dev.selfbyt.cortexsdr.core.TensorStats;
import dev.selfbyt.cortexsdr.core.format.CaiReader;
import dev.selfbyt.cortexsdr.it.models.Embedder;
import dev.selfbyt.cortexsdr.it.models.LineScenes;
import dev.selfbyt.cortexsdr.it.models.MobyDick;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A real CNN whose weights sit in {@code Constant} nodes (M-LSD, MobileNetV2 backbone, opset 11):
 * compressed, exported, and run in ONNX Runtime against the original on the same inputs.
 */
class ConvNetIT {
  @TempDir Path dir;

  @ParameterizedTest
  @ValueSource(strings = {"mlsd_320x320_tiny", "mlsd_320x320_large"})
  void compressedConvNetsRunInOnnxRuntime(String name) throws Exception {
    Path model = MobyDick.dataDir().resolve("mlsd/package/ONNX/" + name + ".onnx");
    assertTrue(Files.exists(model), model + " (unpacked by the build)");
    List<float[]> reference = run(model);
    for (Preset preset : List.of(Preset.LOSSLESS, Preset.INT8, Preset.INT4)) {
      Path cai = dir.resolve(name + "-" + preset.id() + ".cai");
      CompressionStats stats;
      try (OnnxModelReader onnx = OnnxModelReader.open(model)) {
        stats = CortexSdr.compress(onnx, cai, CompressionOptions.builder().preset(preset).build());
      }
      Path decoded = dir.resolve(name + "-" + preset.id() + ".onnx");
      Path quantized = dir.resolve(name + "-" + preset.id() + "-q.onnx");
      try (CaiReader r = CaiReader.open(cai)) {
        OnnxExporter.exportDecoded(r, decoded);
        QuantizedOnnxExporter.export(r, quantized, 0);
      }
      List<float[]> a = run(decoded);
      List<float[]> b = run(quantized);
      if (preset == Preset.INT8) {
        // opened in one call: the Slice starts in Constant nodes must reach ONNX Runtime inline
        try (dev.selfbyt.cortexsdr.onnxops.CaiOrtSession s =
            dev.selfbyt.cortexsdr.onnxops.CaiOrt.open(OrtEnvironment.getEnvironment(), cai)) {
          assertEquals(reference.size(), s.session().getOutputNames().size());
        }
      }
      assertEquals(reference.size(), a.size());
      for (int i = 0; i < a.size(); i++) {
        // lossy conv kernels stay codes + DequantizeLinear in the quantized export: the same values,
        // but ONNX Runtime pre-packs only constant kernels, so the fp32 sums may run in another order
        double same = Embedder.cosine(a.get(i), b.get(i));
        assertTrue(preset == Preset.LOSSLESS ? java.util.Arrays.equals(a.get(i), b.get(i)) : same > 0.99999,
            "quantized export = decoded export: output " + i + " cosine " + same);
      }
      if (preset == Preset.LOSSLESS) {
        for (int i = 0; i < a.size(); i++) {
          assertTrue(java.util.Arrays.equals(reference.get(i), a.get(i)), "lossless: identical output " + i);
        }
        continue;
      }
      long convs = stats.tensors().stream().filter(t -> t.nmse() > 0).count();
      assertTrue(convs >= 20, "conv kernels from Constant nodes were quantized: " + convs);
      double worstBits = stats.tensors().stream().filter(t -> t.nmse() > 0).mapToDouble(TensorStats::bitsPerWeight)
          .max().orElse(0);
      assertTrue(worstBits < 32, "no lossy tensor costs more than fp32: " + worstBits);
      assertTrue(Files.size(quantized) < Files.size(model) / 2, "conv kernels stay quantized in the export: "
          + Files.size(quantized) + " of " + Files.size(model) + " bytes");
      // output 0 (line offsets) is continuous; output 1 (scores after the model's own peak
      // selection) flips where two neighbours are close, so it is reported, not bounded
      double offsets = Embedder.cosine(reference.get(0), a.get(0));
      double scores = Embedder.cosine(reference.get(1), a.get(1));
      System.out.printf("%s %s: %.2fx, offsets cosine %.5f, scores cosine %.5f%n", name, preset.id(), stats.ratio(),
          offsets, scores);
      if (preset == Preset.INT8) {
        assertTrue(offsets > 0.99, name + " int8 offsets cosine " + offsets);
      }
    }
  }

  /**
   * Runs a model on a synthetic scene (a grey background crossed by eight light lines, an alpha
   * channel of ones: the kind of input a line detector is for) and returns each output, flattened.
   */
  static List<float[]> run(Path model) throws Exception {
    OrtEnvironment env = OrtEnvironment.getEnvironment();
    List<float[]> outs = new ArrayList<>();
    try (OrtSession s = env.createSession(model.toString(), new OrtSession.SessionOptions())) {
      Map<String, OnnxTensor> in = new HashMap<>();
      for (Map.Entry<String, NodeInfo> e : s.getInputInfo().entrySet()) {
        long[] shape = ((TensorInfo) e.getValue().getInfo()).getShape();
        in.put(e.getKey(), OnnxTensor.createTensor(env, FloatBuffer.wrap(LineScenes.scene(shape, 1)), shape));
      }
      try (OrtSession.Result res = s.run(in)) {
        for (var o : res) {
          FloatBuffer fb = ((OnnxTensor) o.getValue()).getFloatBuffer();
          float[] v = new float[fb.remaining()];
          fb.get(v);
          outs.add(v);
        }
      } finally {
        in.values().forEach(OnnxTensor::close);
      }
    }
    return outs;
  }
}
