package dev.selfbyt.cortexsdr.converters.onnx;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.OperatorSetIdProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import dev.selfbyt.cortexsdr.core.CompressionOptions;
import dev.selfbyt.cortexsdr.core.CortexSdr;
import dev.selfbyt.cortexsdr.core.Preset;
import dev.selfbyt.cortexsdr.core.calibrate.ActivationScaling;
import dev.selfbyt.cortexsdr.core.calibrate.Hessian;
import dev.selfbyt.cortexsdr.core.codec.QuantCodec;
import dev.selfbyt.cortexsdr.core.format.CaiReader;
import dev.selfbyt.cortexsdr.core.tensor.TensorSource;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Calibration on a small two-layer network whose input has a few loud channels (as transformer
 * activations do): scaling folds away exactly, and each method lowers the output error of plain
 * 4-bit rounding.
 */
class OnnxCalibratorTest {
  static final int K = 64;
  static final int H = 48;
  static final int N = 32;
  static final int ROWS = 16;

  @TempDir Path dir;

  /** Y = relu(X W1) W2, weights as initializers. */
  static ModelProto mlp() {
    return mlp(K, H, N);
  }

  /** Y = relu(X W1) W2 with X of {@value #ROWS} x k, W1 k x h, W2 h x n. */
  static ModelProto mlp(int k, int h, int n) {
    GraphProto.Builder g = GraphProto.newBuilder().setName("mlp")
        .addInput(OnnxTestModels.floatInput("X", ROWS, k))
        .addOutput(OnnxTestModels.floatInput("Y", ROWS, n));
    g.addInitializer(TensorProto.newBuilder().setName("W1").setDataType(TensorProto.DataType.FLOAT_VALUE)
        .addDims(k).addDims(h).setRawData(OnnxTestModels.raw(OnnxTestModels.weights(k * h, 11))));
    g.addInitializer(TensorProto.newBuilder().setName("W2").setDataType(TensorProto.DataType.FLOAT_VALUE)
        .addDims(h).addDims(n).setRawData(OnnxTestModels.raw(OnnxTestModels.weights(h * n, 12))));
    g.addNode(NodeProto.newBuilder().setOpType("MatMul").addInput("X").addInput("W1").addOutput("A").setName("mm1"));
    g.addNode(NodeProto.newBuilder().setOpType("Relu").addInput("A").addOutput("R").setName("relu"));
    g.addNode(NodeProto.newBuilder().setOpType("MatMul").addInput("R").addInput("W2").addOutput("Y").setName("mm2"));
    return ModelProto.newBuilder().setIrVersion(8).setProducerName("cortexsdr-test")
        .addOpsetImport(OperatorSetIdProto.newBuilder().setVersion(13)).setGraph(g).build();
  }


  /** Inputs whose channels 0, 7, 21 and 40 are 10x louder than the rest. */
  static List<Map<String, OnnxCalibrator.Input>> samples(int count, long seed) {
    SplittableRandom r = new SplittableRandom(seed);
    List<Map<String, OnnxCalibrator.Input>> out = new ArrayList<>();
    for (int s = 0; s < count; s++) {
      float[] x = new float[ROWS * K];
      for (int i = 0; i < x.length; i++) {
        int c = i % K;
        x[i] = (float) (r.nextGaussian() * (c == 0 || c == 7 || c == 21 || c == 40 ? 10 : 1));
      }
      out.add(Map.of("X", OnnxCalibrator.Input.ofFloats(new long[] {ROWS, K}, x)));
    }
    return out;
  }

  static float[] run(ModelProto m, Map<String, OnnxCalibrator.Input> sample) throws Exception {
    OrtEnvironment env = OrtEnvironment.getEnvironment();
    try (OrtSession s = env.createSession(m.toByteArray())) {
      return OnnxCalibrator.runFirstOutput(env, s, sample);
    }
  }

  static ByteBuffer bytes(float[] v) {
    ByteBuffer b = ByteBuffer.allocate(4 * v.length).order(ByteOrder.LITTLE_ENDIAN);
    b.asFloatBuffer().put(v);
    return b;
  }

  @Test
  void activationScalingIsUndoneExactlyBeforeRounding() throws Exception {
    Path model = dir.resolve("mlp.onnx");
    OnnxExporter.write(mlp(), model);
    List<Map<String, OnnxCalibrator.Input>> calib = samples(8, 1);
    Hessian h = new Hessian(K);
    for (Map<String, OnnxCalibrator.Input> s : calib) {
      h.add(s.get("X").fp32(), 0, ROWS);
    }
    float[] w1 = OnnxTestModels.weights(K * H, 11);
    ActivationScaling.Result r = ActivationScaling.search(h, List.of(w1), new int[] {H}, QuantCodec.blockwise(4, false, 32));
    assertTrue(r.scaled(), "loud channels: scaling lowers the rounding error, alpha " + r.alpha());
    assertTrue(r.error() < r.plainError());

    try (OnnxModelReader onnx = OnnxModelReader.open(model)) {
      ModelProto scaled = OnnxCalibrator.withInputScaled(onnx.strippedModel(), List.of("W1"), "X", "inv", K);
      float[] w1s = ActivationScaling.scaleRows(w1, K, H, r.scales());
      float[] inv = ActivationScaling.inverse(r.scales());
      ModelProto filled = OnnxExporter.withWeights(scaled, name -> switch (name) {
        case "W1" -> bytes(w1s);
        case "inv" -> bytes(inv);
        case "W2" -> bytes(OnnxTestModels.weights(H * N, 12));
        default -> null;
      });
      for (Map<String, OnnxCalibrator.Input> s : samples(4, 2)) {
        float[] want = run(mlp(), s);
        float[] got = run(filled, s);
        float scale = 0;
        for (float v : want) {
          scale = Math.max(scale, Math.abs(v));
        }
        assertArrayEquals(want, got, 1e-5f * scale);
      }
    }
  }

  @Test
  void eachMethodLowersTheOutputErrorOfPlainRounding() throws Exception {
    Path model = dir.resolve("mlp.onnx");
    OnnxExporter.write(mlp(), model);
    List<Map<String, OnnxCalibrator.Input>> calib = samples(16, 3);
    List<Map<String, OnnxCalibrator.Input>> eval = samples(8, 4);
    CompressionOptions int4 = CompressionOptions.builder().preset(Preset.INT4).minLossyElements(1).build();
    double plain;
    double scaling;
    double gptq;
    double both;
    double refit;
    try (OnnxModelReader onnx = OnnxModelReader.open(model)) {
      plain = outputError(onnx, eval, int4, "plain");
      scaling = outputError(OnnxCalibrator.forOptions(onnx, int4, 0.01, 1).errorCompensation(false).activationScaling(true)
          .calibrate(calib), eval, int4, "scaling");
      gptq = outputError(OnnxCalibrator.forOptions(onnx, int4, 0.01, 1).calibrate(calib), eval, int4, "gptq");
      TensorSource all = OnnxCalibrator.forOptions(onnx, int4, 0.01, 1).activationScaling(true).calibrate(calib);
      long added = all.tensors().stream().filter(t -> t.name().contains("inverse_scale")).count();
      assertTrue(added >= 1 && all.tensors().size() == 2 + added, "inverse scales added beside W1 and W2");
      both = outputError(all, eval, int4, "both");
      refit = outputError(OnnxCalibrator.forOptions(onnx, int4, 0.01, 1).refit(true).calibrate(calib), eval, int4,
          "refit");
    }
    System.out.printf("output error: plain %.4g, scaling %.4g, gptq %.4g, both %.4g, refit + gptq %.4g%n", plain,
        scaling, gptq, both, refit);
    assertTrue(refit < plain, "refit + gptq " + refit + " vs plain " + plain);
    assertTrue(scaling < plain, "scaling " + scaling + " vs plain " + plain);
    assertTrue(gptq < plain, "gptq " + gptq + " vs plain " + plain);
    assertTrue(both < plain, "both " + both + " vs plain " + plain);
    assertFalse(Double.isNaN(both));
  }

  /** Squared output error of the compressed model against the original, summed over samples. */
  private double outputError(TensorSource source, List<Map<String, OnnxCalibrator.Input>> eval,
      CompressionOptions options, String tag) throws Exception {
    Path cai = dir.resolve(tag + ".cai");
    Path decoded = dir.resolve(tag + ".onnx");
    CortexSdr.compress(source, cai, options);
    try (CaiReader r = CaiReader.open(cai)) {
      OnnxExporter.exportDecoded(r, decoded);
    }
    ModelProto m = ModelProto.parseFrom(Files.readAllBytes(decoded));
    double e = 0;
    for (Map<String, OnnxCalibrator.Input> s : eval) {
      float[] want = run(mlp(), s);
      float[] got = run(m, s);
      for (int i = 0; i < want.length; i++) {
        e += (double) (want[i] - got[i]) * (want[i] - got[i]);
      }
    }
    return e;
  }
}
