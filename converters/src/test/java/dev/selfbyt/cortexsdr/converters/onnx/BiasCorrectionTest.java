package dev.selfbyt.cortexsdr.converters.onnx;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.OperatorSetIdProto;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import dev.selfbyt.cortexsdr.core.CompressionOptions;
import dev.selfbyt.cortexsdr.core.CortexSdr;
import dev.selfbyt.cortexsdr.core.Preset;
import dev.selfbyt.cortexsdr.core.format.CaiReader;
import dev.selfbyt.cortexsdr.core.tensor.TensorSource;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Bias correction: the mean output shift of a rounded weight folded into its bias. By hand on one
 * channel, then through {@link OnnxCalibrator} on a Conv and a Gemm with biases: the corrected
 * model's mean output error over held-out images is smaller than GPTQ's alone.
 */
class BiasCorrectionTest {
  @TempDir Path dir;

  @Test
  void convBiasTakesMinusTheRoundingErrorTimesTheMeanPatch() {
    // one output channel, 3 patch values: the shift is 0.1 * 1 + 0 * 2 - 0.1 * 3 = -0.2
    float[] b = BiasCorrection.conv(new float[] {0.5f}, new float[] {1, 2, 3}, new float[] {1.1f, 2, 2.9f},
        new double[] {1, 2, 3}, 1);
    assertEquals(0.7f, b[0], 1e-6f);
    // two groups of one channel each read their own group's mean
    float[] g = BiasCorrection.conv(new float[] {0, 0}, new float[] {1, 1}, new float[] {2, 3}, new double[] {5, 7}, 2);
    assertArrayEquals(new float[] {-5, -14}, g, 1e-6f);
  }

  @Test
  void gemmBiasPerColumnAndBroadcastBiasLeftAlone() {
    // W [k=2, n=2]: column 0 rounded by +1 at row 1, mean [1, 3]
    float[] b = BiasCorrection.gemm(new float[] {0, 0}, new float[] {1, 2, 3, 4}, new float[] {1, 2, 4, 4},
        new double[] {1, 3}, false);
    assertArrayEquals(new float[] {-3, 0}, b, 1e-6f);
    float[] t = BiasCorrection.gemm(new float[] {0, 0}, new float[] {1, 3, 2, 4}, new float[] {1, 4, 2, 4},
        new double[] {1, 3}, true); // the same weight as transB
    assertArrayEquals(new float[] {-3, 0}, t, 1e-6f);
    assertNull(BiasCorrection.gemm(new float[] {0}, new float[] {1, 2, 3, 4}, new float[] {1, 2, 3, 4},
        new double[] {1, 3}, false));
  }

  @Test
  void recurrentBiasTakesTheShiftInItsWbOrRbHalf() {
    // one direction, G * H = 2 rows, k = 2: row 0 rounded by +1 at column 1, mean [1, 3]
    float[] w = {1, 2, 3, 4};
    float[] wq = {1, 3, 3, 4};
    double[][] mean = {{1, 3}};
    assertArrayEquals(new float[] {-3, 0, 0, 0}, BiasCorrection.recurrent(new float[4], w, wq, mean, false, 2), 1e-6f);
    assertArrayEquals(new float[] {0, 0, -3, 0}, BiasCorrection.recurrent(new float[4], w, wq, mean, true, 2), 1e-6f);
    // rows from skipFrom on are left alone (GRU's hidden gate)
    assertArrayEquals(new float[4], BiasCorrection.recurrent(new float[4], w, wq, mean, true, 0), 1e-6f);
  }

  /** X [8, 1, 48] (positive, like pixels) -> LSTM (hidden 32, B) -> Y. */
  static ModelProto lstm() {
    GraphProto.Builder g = GraphProto.newBuilder().setName("lstm")
        .addInput(OnnxTestModels.floatInput("X", 8, 1, 48)).addOutput(OnnxTestModels.floatInput("Y", 8, 1, 1, 32));
    g.addInitializer(LayerGptqTest.weight("W", 51, 1, 128, 48));
    g.addInitializer(LayerGptqTest.weight("R", 52, 1, 128, 32));
    g.addInitializer(LayerGptqTest.weight("B", 53, 1, 256));
    g.addNode(NodeProto.newBuilder().setOpType("LSTM").setName("rnn").addInput("X").addInput("W").addInput("R")
        .addInput("B").addOutput("Y").addAttribute(LayerGptqTest.attr("hidden_size", 32)));
    return ModelProto.newBuilder().setIrVersion(8).setProducerName("cortexsdr-test")
        .addOpsetImport(OperatorSetIdProto.newBuilder().setVersion(14)).setGraph(g).build();
  }

  static List<Map<String, OnnxCalibrator.Input>> sequences(long first, int n) {
    List<Map<String, OnnxCalibrator.Input>> out = new java.util.ArrayList<>();
    for (int i = 0; i < n; i++) {
      java.util.SplittableRandom r = new java.util.SplittableRandom(first + i);
      float[] x = new float[8 * 48];
      for (int j = 0; j < x.length; j++) {
        x[j] = (float) (2 * r.nextDouble());
      }
      out.add(Map.of("X", OnnxCalibrator.Input.ofFloats(new long[] {8, 1, 48}, x)));
    }
    return out;
  }

  @Test
  void lstmBiasCorrectionLowersTheMeanOutputError() throws Exception {
    Path fp32 = dir.resolve("lstm.onnx");
    Files.write(fp32, lstm().toByteArray());
    CompressionOptions options = CompressionOptions.builder().preset(Preset.INT4).bits(3).minLossyElements(1024)
        .threads(2).build();
    List<Map<String, OnnxCalibrator.Input>> calib = sequences(100, 32);
    List<Map<String, OnnxCalibrator.Input>> eval = sequences(1, 32);
    double[] meanError = new double[2];
    for (int corrected = 0; corrected < 2; corrected++) {
      Path cai = dir.resolve("lstm-" + corrected + ".cai");
      try (OnnxModelReader onnx = OnnxModelReader.open(fp32)) {
        TensorSource source = OnnxCalibrator.forOptions(onnx, options, 0.01, 2).biasCorrection(corrected == 1)
            .calibrate(calib);
        assertEquals(corrected == 1, source.metadata().containsKey("bias correction"), source.metadata().toString());
        CortexSdr.compress(source, cai, options);
      }
      Path decoded = dir.resolve("lstm-" + corrected + "-decoded.onnx");
      try (CaiReader r = CaiReader.open(cai)) {
        OnnxExporter.exportDecoded(r, decoded);
      }
      meanError[corrected] = meanError(fp32, decoded, eval);
    }
    System.out.printf("LSTM mean output error: GPTQ %.4g, GPTQ + bias correction %.4g%n", meanError[0], meanError[1]);
    assertTrue(meanError[1] < meanError[0], meanError[1] + " vs " + meanError[0]);
  }

  /** X [1, 4, 32, 32] -> Conv 3x3 p1 (128, bias) -> Relu -> GlobalAveragePool -> Flatten -> Gemm (48, bias). */
  static ModelProto net() {
    GraphProto.Builder g = GraphProto.newBuilder().setName("biased")
        .addInput(OnnxTestModels.floatInput("X", 1, 4, 32, 32))
        .addOutput(OnnxTestModels.floatInput("Y", 1, 48));
    g.addInitializer(LayerGptqTest.weight("C1", 41, 128, 4, 3, 3));
    g.addInitializer(LayerGptqTest.weight("B1", 42, 128));
    g.addInitializer(LayerGptqTest.weight("G", 43, 48, 128));
    g.addInitializer(LayerGptqTest.weight("GB", 44, 48));
    g.addNode(NodeProto.newBuilder().setOpType("Conv").setName("c1").addInput("X").addInput("C1").addInput("B1")
        .addOutput("a").addAttribute(LayerGptqTest.ints("pads", 1, 1, 1, 1)));
    g.addNode(NodeProto.newBuilder().setOpType("Relu").setName("r1").addInput("a").addOutput("b"));
    g.addNode(NodeProto.newBuilder().setOpType("GlobalAveragePool").setName("pool").addInput("b").addOutput("c"));
    g.addNode(NodeProto.newBuilder().setOpType("Flatten").setName("flat").addInput("c").addOutput("d"));
    g.addNode(NodeProto.newBuilder().setOpType("Gemm").setName("fc").addInput("d").addInput("G").addInput("GB")
        .addOutput("Y").addAttribute(LayerGptqTest.attr("transB", 1)));
    return ModelProto.newBuilder().setIrVersion(8).setProducerName("cortexsdr-test")
        .addOpsetImport(OperatorSetIdProto.newBuilder().setVersion(13)).setGraph(g).build();
  }

  @Test
  void correctedBiasesLowerTheMeanOutputError() throws Exception {
    Path fp32 = dir.resolve("biased.onnx");
    Files.write(fp32, net().toByteArray());
    // 3 bits with a low size floor so that both weights are rounded coarsely
    CompressionOptions options = CompressionOptions.builder().preset(Preset.INT4).bits(3).minLossyElements(1024)
        .threads(2).build();
    List<Map<String, OnnxCalibrator.Input>> calib = LayerGptqTest.samples(100, 16);
    List<Map<String, OnnxCalibrator.Input>> eval = LayerGptqTest.samples(1, 16);
    double[] meanError = new double[2];
    for (int corrected = 0; corrected < 2; corrected++) {
      Path cai = dir.resolve("biased-" + corrected + ".cai");
      try (OnnxModelReader onnx = OnnxModelReader.open(fp32)) {
        CortexSdr.compress(OnnxCalibrator.forOptions(onnx, options, 0.01, 2).biasCorrection(corrected == 1)
            .calibrate(calib), cai, options);
      }
      Path decoded = dir.resolve("biased-" + corrected + "-decoded.onnx");
      try (CaiReader r = CaiReader.open(cai)) {
        OnnxExporter.exportDecoded(r, decoded);
        float[] b1 = r.read("B1").floats();
        float[] original = OnnxModelReader.open(fp32).read(OnnxModelReader.open(fp32).tensors().stream()
            .filter(t -> t.name().equals("B1")).findFirst().orElseThrow()).floats();
        assertEquals(corrected == 1, !java.util.Arrays.equals(b1, original), "B1 changed only when corrected");
      }
      meanError[corrected] = meanError(fp32, decoded, eval);
    }
    System.out.printf("mean output error: GPTQ %.4g, GPTQ + bias correction %.4g%n", meanError[0], meanError[1]);
    assertTrue(meanError[1] < meanError[0], meanError[1] + " vs " + meanError[0]);
  }

  /** Norm of the per-output mean of (model - fp32) over the samples. */
  static double meanError(Path fp32, Path model, List<Map<String, OnnxCalibrator.Input>> samples) throws Exception {
    OrtEnvironment env = OrtEnvironment.getEnvironment();
    double[] sum = null;
    try (OrtSession a = env.createSession(fp32.toString(), new OrtSession.SessionOptions());
        OrtSession b = env.createSession(model.toString(), new OrtSession.SessionOptions())) {
      for (Map<String, OnnxCalibrator.Input> s : samples) {
        float[] ya = OnnxCalibrator.runFirstOutput(env, a, s);
        float[] yb = OnnxCalibrator.runFirstOutput(env, b, s);
        sum = sum == null ? new double[ya.length] : sum;
        for (int i = 0; i < ya.length; i++) {
          sum[i] += yb[i] - ya[i];
        }
      }
    }
    double e = 0;
    for (double v : sum) {
      e += v * v;
    }
    return Math.sqrt(e) / samples.size();
  }
}
