package dev.selfbyt.cortexsdr.converters.onnx;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
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
import dev.selfbyt.cortexsdr.core.tensor.TensorInfo;
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
    return mlp(k, h, n, OnnxTestModels.weights(k * h, 11));
  }

  /** The same with the given {@code W1}. */
  static ModelProto mlp(int k, int h, int n, float[] w1) {
    GraphProto.Builder g = GraphProto.newBuilder().setName("mlp")
        .addInput(OnnxTestModels.floatInput("X", ROWS, k))
        .addOutput(OnnxTestModels.floatInput("Y", ROWS, n));
    g.addInitializer(TensorProto.newBuilder().setName("W1").setDataType(TensorProto.DataType.FLOAT_VALUE)
        .addDims(k).addDims(h).setRawData(OnnxTestModels.raw(w1)));
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

  /**
   * A Hadamard rotation of W1's input where it pays: W1's columns each hold one large value among
   * small ones (as transformer weights do), which sets its 4-bit block's step; rotated, the block's
   * values are even. The calibration keeps the rotation for W1 (W2's 48-wide input does not split
   * into blocks of 32), the rotated graph computes the original function before rounding, and the
   * compressed model's output error falls.
   */
  @Test
  void rotationIsKeptWhereItLowersTheLayersErrorAndComputesTheSameFunction() throws Exception {
    float[] w1 = spikyW1();
    ModelProto spiky = mlp(K, H, N, w1);
    Path model = dir.resolve("spiky.onnx");
    OnnxExporter.write(spiky, model);
    List<Map<String, OnnxCalibrator.Input>> calib = samples(16, 3);
    List<Map<String, OnnxCalibrator.Input>> eval = samples(8, 4);
    CompressionOptions int4 = CompressionOptions.builder().preset(Preset.INT4).minLossyElements(1).build();
    try (OnnxModelReader onnx = OnnxModelReader.open(model)) {
      List<String> log = new ArrayList<>();
      TensorSource rotated = OnnxCalibrator.forOptions(onnx, int4, 0.01, 1).rotation(true).onProgress(log::add)
          .calibrate(calib);
      assertTrue(rotated.metadata().get("rotation").contains("1 of 1 MatMul inputs rotated"), rotated.metadata()
          .toString());
      assertTrue(log.stream().anyMatch(l -> l.startsWith("rotated input of [W1]")), log.toString());
      // before rounding: H W1 behind the rotated input is W1 behind the input
      ModelProto graph = ModelProto.parseFrom(rotated.graph());
      float[] h = HadamardRotation.matrix(OnnxCalibrator.ROTATION_BLOCK);
      ModelProto exact = OnnxExporter.withWeights(graph, name -> name.equals("W1")
          ? bytes(HadamardRotation.rotateRows(w1, K, H, OnnxCalibrator.ROTATION_BLOCK))
          : name.equals("W2") ? bytes(OnnxTestModels.weights(H * N, 12)) : name.contains("rotation_h") ? bytes(h)
          : null);
      for (Map<String, OnnxCalibrator.Input> s : eval) {
        float[] want = run(spiky, s);
        float scale = 0;
        for (float v : want) {
          scale = Math.max(scale, Math.abs(v));
        }
        assertArrayEquals(want, run(exact, s), 1e-5f * scale);
      }
      double with = outputError(rotated, spiky, eval, int4, "rotated");
      double without = outputError(OnnxCalibrator.forOptions(onnx, int4, 0.01, 1).calibrate(calib), spiky, eval, int4,
          "gptq");
      System.out.printf("spiky W1, output error: gptq %.4g, gptq rotated %.4g%n", without, with);
      assertTrue(with < 0.8 * without, "rotated " + with + " vs " + without);
    }
  }

  /** The first layer's weight with one large entry per output column: what a rotation spreads. */
  private static float[] spikyW1() {
    float[] w1 = OnnxTestModels.weights(K * H, 11);
    SplittableRandom r = new SplittableRandom(5);
    for (int c = 0; c < H; c++) {
      w1[r.nextInt(K) * H + c] = (float) (r.nextBoolean() ? 2.5 : -2.5);
    }
    return w1;
  }

  @Test
  void aLaterPassUnderTheSameCodecsTakesTheRotationDecidedBeforeAndRoundsAlike() throws Exception {
    Path model = dir.resolve("spiky-twice.onnx");
    OnnxExporter.write(mlp(K, H, N, spikyW1()), model);
    List<Map<String, OnnxCalibrator.Input>> calib = samples(16, 3);
    CompressionOptions int4 = CompressionOptions.builder().preset(Preset.INT4).minLossyElements(1).build();
    CompressionOptions int8 = CompressionOptions.builder().preset(Preset.INT8).minLossyElements(1).build();
    try (OnnxModelReader onnx = OnnxModelReader.open(model)) {
      RotationChoices choices = new RotationChoices();
      List<String> first = new ArrayList<>();
      TensorSource a = OnnxCalibrator.forOptions(onnx, int4, 0.01, 1).rotation(true).rotationChoices(choices)
          .onProgress(first::add).calibrate(calib);
      assertEquals(0, choices.reused());
      assertTrue(first.stream().anyMatch(l -> l.startsWith("rotated input of [W1]: output error")), first.toString());

      List<String> second = new ArrayList<>();
      TensorSource b = OnnxCalibrator.forOptions(onnx, int4, 0.01, 1).rotation(true).rotationChoices(choices)
          .onProgress(second::add).calibrate(calib);
      assertEquals(1, choices.reused());
      assertTrue(second.contains("rotated input of [W1] as an earlier pass decided under the same codecs"),
          second.toString());
      assertEquals(a.metadata().get("rotation"), b.metadata().get("rotation"));
      assertArrayEquals(weight(a, "W1"), weight(b, "W1"), 0f); // rounded the one way, as the first pass kept it

      List<String> third = new ArrayList<>(); // other codecs: decided anew
      OnnxCalibrator.forOptions(onnx, int8, 0.01, 1).rotation(true).rotationChoices(choices).onProgress(third::add)
          .calibrate(calib);
      assertEquals(1, choices.reused());
      assertTrue(third.stream().anyMatch(l -> l.contains("input of [W1]: output error")), third.toString());
    }
  }

  private static float[] weight(TensorSource source, String name) throws Exception {
    for (TensorInfo t : source.tensors()) {
      if (t.name().equals(name)) {
        return source.read(t).floats();
      }
    }
    throw new AssertionError(name + " not in " + source.tensors());
  }

  /** Squared output error of the compressed model against the original, summed over samples. */
  private double outputError(TensorSource source, List<Map<String, OnnxCalibrator.Input>> eval,
      CompressionOptions options, String tag) throws Exception {
    return outputError(source, mlp(), eval, options, tag);
  }

  /** Squared output error of the compressed model against {@code original}, summed over samples. */
  private double outputError(TensorSource source, ModelProto original, List<Map<String, OnnxCalibrator.Input>> eval,
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
      float[] want = run(original, s);
      float[] got = run(m, s);
      for (int i = 0; i < want.length; i++) {
        e += (double) (want[i] - got[i]) * (want[i] - got[i]);
      }
    }
    return e;
  }
}
