package dev.selfbyt.cortexsdr.converters.onnx;

import static dev.selfbyt.cortexsdr.converters.onnx.LayerGptqTest.attr;
import static dev.selfbyt.cortexsdr.converters.onnx.LayerGptqTest.ints;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.OperatorSetIdProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import dev.selfbyt.cortexsdr.core.CompressionOptions;
import dev.selfbyt.cortexsdr.core.CortexSdr;
import dev.selfbyt.cortexsdr.core.Preset;
import dev.selfbyt.cortexsdr.core.calibrate.ActivationScaling;
import dev.selfbyt.cortexsdr.core.calibrate.FiberScaling;
import dev.selfbyt.cortexsdr.core.format.CaiReader;
import dev.selfbyt.cortexsdr.core.tensor.DType;
import dev.selfbyt.cortexsdr.core.tensor.TensorInfo;
import dev.selfbyt.cortexsdr.core.tensor.TensorRole;
import dev.selfbyt.cortexsdr.core.tensor.TensorSource;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Activation-aware scaling beyond MatMul ({@link LayerScaling}, {@link FiberScaling}): for each kind
 * of node, a weight scaled per input channel plus the inserted {@code Mul} by the inverse scales
 * computes the original function in ONNX Runtime at fp32 (no rounding yet); and calibrated at int4,
 * scaling on top of GPTQ lowers the output error of a network whose input channels differ in size.
 */
class LayerScalingTest {
  @TempDir Path dir;

  @Test
  void convWithGroupsComputesTheSameFunctionScaled() throws Exception {
    GraphProto.Builder g = GraphProto.newBuilder().setName("conv")
        .addInput(OnnxTestModels.floatInput("X", 2, 6, 9, 9)).addOutput(OnnxTestModels.floatInput("Y", 2, 8, 5, 5));
    g.addInitializer(LayerGptqTest.weight("W", 1, 8, 3, 3, 3));
    g.addInitializer(LayerGptqTest.weight("B", 2, 8));
    g.addNode(NodeProto.newBuilder().setOpType("Conv").setName("c").addInput("X").addInput("W").addInput("B")
        .addOutput("Y").addAttribute(attr("group", 2)).addAttribute(ints("strides", 2, 2))
        .addAttribute(ints("pads", 1, 1, 1, 1)));
    TensorInfo w = new TensorInfo("W", DType.FLOAT32, new long[] {8, 3, 3, 3}, TensorRole.CONV_WEIGHT, 1);
    FiberScaling.Layout layout = LayerScaling.layout(g.getNode(0), "Conv", w);
    assertEquals(new FiberScaling.Layout(6, 9, 3), layout);
    assertSameFunction(model(g), g.getNode(0), "Conv", w, layout, 2, Map.of("X", input(new long[] {2, 6, 9, 9}, 3)));
  }

  @Test
  void depthwiseConvIsNotScaled() {
    NodeProto dw = NodeProto.newBuilder().setOpType("Conv").addInput("X").addInput("W").addOutput("Y")
        .addAttribute(attr("group", 16)).build();
    TensorInfo w = new TensorInfo("W", DType.FLOAT32, new long[] {16, 1, 3, 3}, TensorRole.CONV_WEIGHT, 1);
    assertNull(LayerScaling.layout(dw, "Conv", w), "a per-channel scale of a depthwise kernel is absorbed by its block scale");
  }

  @Test
  void gemmComputesTheSameFunctionScaledWithAndWithoutTransB() throws Exception {
    for (int transB = 0; transB < 2; transB++) {
      GraphProto.Builder g = GraphProto.newBuilder().setName("gemm")
          .addInput(OnnxTestModels.floatInput("A", 5, 24)).addOutput(OnnxTestModels.floatInput("Y", 5, 10));
      g.addInitializer(transB == 1 ? LayerGptqTest.weight("W", 4, 10, 24) : LayerGptqTest.weight("W", 4, 24, 10));
      g.addInitializer(LayerGptqTest.weight("C", 5, 10));
      g.addNode(NodeProto.newBuilder().setOpType("Gemm").setName("fc").addInput("A").addInput("W").addInput("C")
          .addOutput("Y").addAttribute(attr("transB", transB)));
      TensorInfo w = new TensorInfo("W", DType.FLOAT32, transB == 1 ? new long[] {10, 24} : new long[] {24, 10},
          TensorRole.MATMUL_WEIGHT, transB == 1 ? 1 : 0);
      FiberScaling.Layout layout = LayerScaling.layout(g.getNode(0), "Gemm", w);
      assertEquals(24, layout.channels());
      assertSameFunction(model(g), g.getNode(0), "Gemm", w, layout, 1, Map.of("A", input(new long[] {5, 24}, 6)));
    }
  }

  @Test
  void lstmAndGruComputeTheSameFunctionWithTheirInputWeightScaled() throws Exception {
    int in = 12;
    int hidden = 7;
    for (String op : List.of("LSTM", "GRU")) {
      for (int dirs = 1; dirs <= 2; dirs++) {
        int gates = op.equals("LSTM") ? 4 : 3;
        GraphProto.Builder g = GraphProto.newBuilder().setName(op)
            .addInput(OnnxTestModels.floatInput("X", 6, 3, in))
            .addOutput(OnnxTestModels.floatInput("Y", 6, dirs, 3, hidden));
        g.addInitializer(LayerGptqTest.weight("W", 7, dirs, gates * hidden, in));
        g.addInitializer(LayerGptqTest.weight("R", 8, dirs, gates * hidden, hidden));
        g.addInitializer(LayerGptqTest.weight("B", 9, dirs, 2 * gates * hidden));
        NodeProto.Builder n = NodeProto.newBuilder().setOpType(op).setName("rnn").addInput("X").addInput("W")
            .addInput("R").addInput("B").addOutput("Y").addAttribute(attr("hidden_size", hidden));
        if (dirs == 2) {
          n.addAttribute(ai.onnx.proto.OnnxMl.AttributeProto.newBuilder().setName("direction")
              .setType(ai.onnx.proto.OnnxMl.AttributeProto.AttributeType.STRING)
              .setS(com.google.protobuf.ByteString.copyFromUtf8("bidirectional")));
        }
        g.addNode(n);
        TensorInfo w = new TensorInfo("W", DType.FLOAT32, new long[] {dirs, gates * hidden, in}, TensorRole.OTHER, 2);
        TensorInfo r = new TensorInfo("R", DType.FLOAT32, new long[] {dirs, gates * hidden, hidden}, TensorRole.OTHER, 2);
        assertNull(LayerScaling.layout(g.getNode(0), op, r), "R's input is the hidden state: no place for the inverse");
        FiberScaling.Layout layout = LayerScaling.layout(g.getNode(0), op, w);
        assertSameFunction(model(g), g.getNode(0), op, w, layout, dirs,
            Map.of("X", input(new long[] {6, 3, in}, 10)));
      }
    }
  }

  /**
   * int4 on a small CNN whose input channels and hidden features differ in size by orders of
   * magnitude (as real activations do): GPTQ with activation scaling has a lower output error in
   * ONNX Runtime than GPTQ alone, and the calibrated source says which inputs it scaled.
   */
  @Test
  void scalingOnTopOfGptqLowersTheInt4OutputError() throws Exception {
    Path fp32 = dir.resolve("outliers.onnx");
    Files.write(fp32, outlierNet().toByteArray());
    CompressionOptions options = CompressionOptions.builder().preset(Preset.INT4).threads(2).build();
    List<Map<String, OnnxCalibrator.Input>> calib = outlierSamples(100, 16);
    List<Map<String, OnnxCalibrator.Input>> eval = outlierSamples(1, 8);
    double[] errors = new double[2];
    for (int scaled = 0; scaled < 2; scaled++) {
      Path cai = dir.resolve("outliers-" + scaled + ".cai");
      try (OnnxModelReader onnx = OnnxModelReader.open(fp32)) {
        List<String> logged = new ArrayList<>();
        TensorSource source = OnnxCalibrator.forOptions(onnx, options, 0.01, 2).activationScaling(scaled == 1)
            .onProgress(logged::add).calibrate(calib);
        if (scaled == 1) {
          assertTrue(logged.stream().anyMatch(l -> l.startsWith("scaled input of")), String.join("\n", logged));
          // C1 reads the graph input (a Mul); C2 reads Relu(C1): C1 absorbs its inverse scales
          assertTrue(source.metadata().get("activation scaling").contains("(1 folded into the Conv"),
              source.metadata() + "\n" + String.join("\n", logged));
        }
        CortexSdr.compress(source, cai, options);
      }
      Path quantized = dir.resolve("outliers-" + scaled + "-q.onnx");
      try (CaiReader r = CaiReader.open(cai)) {
        QuantizedOnnxExporter.export(r, quantized, 0, OrtVersion.OLDEST);
      }
      errors[scaled] = LayerGptqTest.error(fp32, quantized, eval);
    }
    System.out.printf("int4 output error: GPTQ %.4g, GPTQ + activation scaling %.4g%n", errors[0], errors[1]);
    assertTrue(errors[1] < 0.9 * errors[0], "scaled " + errors[1] + " vs GPTQ alone " + errors[0]);
  }

  /** X [1, 16, 16, 16] -> Conv 3x3 (64) -> Relu -> Conv 3x3 (64) -> pool -> Gemm (transB). */
  static ModelProto outlierNet() {
    GraphProto.Builder g = GraphProto.newBuilder().setName("outliers")
        .addInput(OnnxTestModels.floatInput("X", 1, 16, 16, 16)).addOutput(OnnxTestModels.floatInput("Y", 1, 32));
    // output channels of C1 differ in size too, so C2's input (through the Relu) has outliers
    float[] c1 = OnnxTestModels.weights(64 * 16 * 9, 41);
    for (int o = 0; o < 64; o += 7) {
      for (int i = 0; i < 16 * 9; i++) {
        c1[o * 16 * 9 + i] *= 30;
      }
    }
    g.addInitializer(TensorProto.newBuilder().setName("C1").setDataType(TensorProto.DataType.FLOAT_VALUE)
        .addDims(64).addDims(16).addDims(3).addDims(3).setRawData(OnnxTestModels.raw(c1)));
    g.addInitializer(LayerGptqTest.weight("B1", 44, 64));
    g.addInitializer(LayerGptqTest.weight("C2", 42, 64, 64, 3, 3));
    g.addInitializer(LayerGptqTest.weight("G", 43, 32, 64 * 16));
    g.addNode(NodeProto.newBuilder().setOpType("Conv").setName("c1").addInput("X").addInput("C1").addInput("B1").addOutput("a")
        .addAttribute(ints("pads", 1, 1, 1, 1)));
    g.addNode(NodeProto.newBuilder().setOpType("Relu").setName("r1").addInput("a").addOutput("b"));
    g.addNode(NodeProto.newBuilder().setOpType("Conv").setName("c2").addInput("b").addInput("C2").addOutput("e")
        .addAttribute(ints("pads", 1, 1, 1, 1)));
    g.addNode(NodeProto.newBuilder().setOpType("MaxPool").setName("pool").addInput("e").addOutput("f")
        .addAttribute(ints("kernel_shape", 4, 4)).addAttribute(ints("strides", 4, 4)));
    g.addNode(NodeProto.newBuilder().setOpType("Flatten").setName("flat").addInput("f").addOutput("h"));
    g.addNode(NodeProto.newBuilder().setOpType("Gemm").setName("fc").addInput("h").addInput("G").addOutput("Y")
        .addAttribute(attr("transB", 1)));
    return ModelProto.newBuilder().setIrVersion(8).setProducerName("cortexsdr-test")
        .addOpsetImport(OperatorSetIdProto.newBuilder().setVersion(13)).setGraph(g).build();
  }

  /** Smooth fields whose 16 channels have sizes from 0.05 to 20 (a few outlier channels). */
  static List<Map<String, OnnxCalibrator.Input>> outlierSamples(long first, int n) {
    List<Map<String, OnnxCalibrator.Input>> out = new ArrayList<>();
    for (int s = 0; s < n; s++) {
      SplittableRandom r = new SplittableRandom(first + s);
      float[] x = new float[16 * 16 * 16];
      for (int c = 0; c < 16; c++) {
        double size = c % 5 == 0 ? 20 : 0.05 + 0.1 * c;
        double a = r.nextDouble() - 0.5;
        double b = r.nextDouble() - 0.5;
        double d = r.nextDouble();
        for (int y = 0; y < 16; y++) {
          for (int xx = 0; xx < 16; xx++) {
            x[(c * 16 + y) * 16 + xx] = (float) (size * (d + a * y / 16.0 + b * xx / 16.0 + 0.1 * r.nextGaussian()));
          }
        }
      }
      out.add(Map.of("X", OnnxCalibrator.Input.ofFloats(new long[] {1, 16, 16, 16}, x)));
    }
    return out;
  }

  /** Scales the weight by random per-channel scales in [0.05, 20], inserts the inverse Mul, compares outputs. */
  private static void assertSameFunction(ModelProto original, NodeProto node, String kind, TensorInfo w,
      FiberScaling.Layout layout, int groups, Map<String, OnnxTensorSpec> inputs) throws Exception {
    assertNotNull(layout);
    SplittableRandom rnd = new SplittableRandom(99);
    float[] s = new float[layout.channels()];
    for (int c = 0; c < s.length; c++) {
      s[c] = (float) Math.exp(rnd.nextDouble(Math.log(0.05), Math.log(20)));
    }
    float[] values = initializer(original, w.name());
    float[] scaledW = FiberScaling.scaleWeight(values, w, layout, s, groups);
    long[] dims = LayerScaling.inverseShape(kind, w, layout);
    ModelProto edited = LayerScaling.withInputScaled(original, node, "inv", dims);
    GraphProto.Builder g = edited.getGraph().toBuilder();
    for (int i = 0; i < g.getInitializerCount(); i++) {
      TensorProto t = g.getInitializer(i);
      if (t.getName().equals(w.name())) {
        g.setInitializer(i, t.toBuilder().setRawData(OnnxTestModels.raw(scaledW)));
      } else if (t.getName().equals("inv")) {
        g.setInitializer(i, t.toBuilder().setRawData(OnnxTestModels.raw(ActivationScaling.inverse(s))));
      }
    }
    ModelProto scaled = edited.toBuilder().setGraph(g).build();
    assertEquals(original.getGraph().getNodeCount() + 1, scaled.getGraph().getNodeCount());
    float[] a = run(original, inputs);
    float[] b = run(scaled, inputs);
    double maxAbs = 0;
    double maxDiff = 0;
    for (int i = 0; i < a.length; i++) {
      maxAbs = Math.max(maxAbs, Math.abs(a[i]));
      maxDiff = Math.max(maxDiff, Math.abs(a[i] - b[i]));
    }
    assertTrue(maxDiff <= 1e-5 * Math.max(1, maxAbs), kind + ": max difference " + maxDiff + " (max |y| " + maxAbs + ")");
    assertTrue(maxAbs > 0.01, kind + ": the test model's output is not trivially zero");
  }

  /** An input's shape and seeded Gaussian values. */
  record OnnxTensorSpec(long[] shape, float[] values) {}

  private static OnnxTensorSpec input(long[] shape, long seed) {
    int n = 1;
    for (long d : shape) {
      n *= (int) d;
    }
    SplittableRandom r = new SplittableRandom(seed);
    float[] v = new float[n];
    for (int i = 0; i < n; i++) {
      v[i] = (float) r.nextGaussian();
    }
    return new OnnxTensorSpec(shape, v);
  }

  private static float[] initializer(ModelProto m, String name) {
    for (TensorProto t : m.getGraph().getInitializerList()) {
      if (t.getName().equals(name)) {
        FloatBuffer fb = t.getRawData().asReadOnlyByteBuffer().order(java.nio.ByteOrder.LITTLE_ENDIAN).asFloatBuffer();
        float[] v = new float[fb.remaining()];
        fb.get(v);
        return v;
      }
    }
    throw new IllegalArgumentException(name);
  }

  private static float[] run(ModelProto m, Map<String, OnnxTensorSpec> inputs) throws Exception {
    OrtEnvironment env = OrtEnvironment.getEnvironment();
    try (OrtSession s = env.createSession(m.toByteArray(), new OrtSession.SessionOptions())) {
      Map<String, OnnxTensor> feed = new java.util.HashMap<>();
      try {
        for (Map.Entry<String, OnnxTensorSpec> e : inputs.entrySet()) {
          feed.put(e.getKey(), OnnxTensor.createTensor(env, FloatBuffer.wrap(e.getValue().values()),
              e.getValue().shape()));
        }
        try (OrtSession.Result r = s.run(feed)) {
          FloatBuffer fb = ((OnnxTensor) r.get(0)).getFloatBuffer();
          float[] out = new float[fb.remaining()];
          fb.get(out);
          return out;
        }
      } finally {
        feed.values().forEach(OnnxTensor::close);
      }
    }
  }

  private static ModelProto model(GraphProto.Builder g) {
    return ModelProto.newBuilder().setIrVersion(8).setProducerName("cortexsdr-test")
        .addOpsetImport(OperatorSetIdProto.newBuilder().setVersion(14)).setGraph(g).build();
  }
}
