package dev.selfbyt.cortexsdr.djl.graph;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnx.proto.OnnxMl.AttributeProto;
import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.OperatorSetIdProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import ai.onnx.proto.OnnxMl.TypeProto;
import ai.onnx.proto.OnnxMl.ValueInfoProto;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import java.nio.FloatBuffer;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Graph fusion: a graph made of the exported forms of layer norm, a biased MatMul, three GELU
 * orders and a scaled, masked softmax runs as fused nodes and gives ONNX Runtime's results; the
 * same graph with fusion off gives the same; a chain whose middle value is read elsewhere is left
 * alone.
 */
class FusionTest {
  private static final Random RND = new Random(11);
  private static final String FUSED = Fusion.DOMAIN + ":";

  private final GraphProto.Builder g = GraphProto.newBuilder().setName("fusion");

  @Test
  void exportedChainsRunFusedWithOnnxRuntimesResults() throws Exception {
    input("x", 2, 5, 16);
    input("mask", 2, 1, 5);
    constant("two", 2f);
    constant("eps", 1e-5f);
    constant("sqrt2", (float) Math.sqrt(2));
    constant("invsqrt2", (float) Math.sqrt(0.5));
    constant("one", 1f);
    constant("half", 0.5f);
    constant("four", 4f);
    initializer("gamma", new long[] {16});
    initializer("beta", new long[] {16});
    initializer("w", new long[] {16, 24});
    initializer("b", new long[] {24});
    // layer norm as PyTorch exports it
    node("ReduceMean", List.of("x"), "mean", List.of(ints("axes", -1)));
    node("Sub", List.of("x", "mean"), "d");
    node("Pow", List.of("d", "two"), "d2");
    node("ReduceMean", List.of("d2"), "var", List.of(ints("axes", -1)));
    node("Add", List.of("var", "eps"), "ve");
    node("Sqrt", List.of("ve"), "sd");
    node("Div", List.of("d", "sd"), "n");
    node("Mul", List.of("n", "gamma"), "ng");
    node("Add", List.of("ng", "beta"), "h");
    // a linear layer, bias first as torch.onnx writes it
    node("MatMul", List.of("h", "w"), "hw");
    node("Add", List.of("b", "hw"), "u");
    // GELU: (u * (1 + erf(u / sqrt2))) * 0.5
    node("Div", List.of("u", "sqrt2"), "a1");
    node("Erf", List.of("a1"), "e1");
    node("Add", List.of("e1", "one"), "p1");
    node("Mul", List.of("u", "p1"), "m1");
    node("Mul", List.of("m1", "half"), "g1");
    // GELU: ((1 + erf(u * 1/sqrt2)) * 0.5) * u
    node("Mul", List.of("u", "invsqrt2"), "a2");
    node("Erf", List.of("a2"), "e2");
    node("Add", List.of("one", "e2"), "p2");
    node("Mul", List.of("p2", "half"), "m2");
    node("Mul", List.of("m2", "u"), "g2");
    // GELU: (u * 0.5) * (1 + erf(u / sqrt2))
    node("Mul", List.of("u", "half"), "hu");
    node("Div", List.of("u", "sqrt2"), "a3");
    node("Erf", List.of("a3"), "e3");
    node("Add", List.of("e3", "one"), "p3");
    node("Mul", List.of("hu", "p3"), "g3");
    // attention weights: softmax(x x^T / 4 + mask)
    node("Transpose", List.of("x"), "xt", List.of(ints("perm", 0, 2, 1)));
    node("MatMul", List.of("x", "xt"), "s");
    node("Div", List.of("s", "four"), "ss");
    node("Add", List.of("ss", "mask"), "sm");
    node("Softmax", List.of("sm"), "att", List.of(AttributeProto.newBuilder().setName("axis")
        .setType(AttributeProto.AttributeType.INT).setI(-1).build()));
    for (String o : List.of("g1", "g2", "g3", "att")) {
      g.addOutput(ValueInfoProto.newBuilder().setName(o));
    }
    ModelProto model = model();

    GraphExecutor fused = new GraphExecutor(model, name -> null, true);
    List<String> ops = fused.operatorTypes();
    assertEquals(1, Collections.frequency(ops, FUSED + "LayerNorm"), ops.toString());
    assertEquals(1, Collections.frequency(ops, FUSED + "MatMulBias"), ops.toString());
    assertEquals(3, Collections.frequency(ops, FUSED + "Gelu"), ops.toString());
    assertEquals(1, Collections.frequency(ops, FUSED + "ScaledMaskedSoftmax"), ops.toString());
    assertFalse(ops.contains("Erf") || ops.contains("ReduceMean") || ops.contains("Softmax"), ops.toString());
    GraphExecutor plain = new GraphExecutor(model, name -> null, false);
    assertTrue(plain.operatorTypes().contains("Erf"));

    Map<String, Value> in = Map.of("x", random(2, 5, 16), "mask", random(2, 1, 5));
    Map<String, float[]> ort = onnxRuntime(model, in);
    Map<String, Value> f = fused.run(in);
    Map<String, Value> p = plain.run(in);
    for (String o : ort.keySet()) {
      assertClose(ort.get(o), f.get(o).floats(), "fused " + o);
      assertClose(ort.get(o), p.get(o).floats(), "unfused " + o);
    }
  }

  /**
   * A smoothed int8 export's feed-forward block with an outlier channel split off in fp32: the
   * GELU's output is read by the smoothing Mul and by a Gather of that channel, and the split-off
   * product is added after the bias. Fused, no Mul, Add or MatMul of its own remains: the GELU
   * writes its scaled copy beside its plain output, and the second product takes the split-off one
   * in; the results are ONNX Runtime's.
   */
  @Test
  void smoothedProductWithAnOutlierChannelRunsAsTwoFusedProducts() throws Exception {
    input("x", 2, 5, 16);
    constant("sqrt2", (float) Math.sqrt(2));
    constant("one", 1f);
    constant("half", 0.5f);
    initializer("w1", new long[] {16, 24});
    initializer("b1", new long[] {24});
    initializer("smoothing", new long[] {24});
    initializer("w2", new long[] {24, 8});
    initializer("b2", new long[] {8});
    initializer("rows", new long[] {2, 8});
    g.addInitializer(TensorProto.newBuilder().setName("channels").setDataType(7).addDims(2).addInt64Data(3)
        .addInt64Data(17));
    node("MatMul", List.of("x", "w1"), "xw");
    node("Add", List.of("xw", "b1"), "u");
    node("Div", List.of("u", "sqrt2"), "a");
    node("Erf", List.of("a"), "e");
    node("Add", List.of("e", "one"), "p");
    node("Mul", List.of("u", "p"), "m");
    node("Mul", List.of("m", "half"), "gelu");
    node("Mul", List.of("gelu", "smoothing"), "scaled");
    node("Gather", List.of("gelu", "channels"), "outliers", List.of(AttributeProto.newBuilder().setName("axis")
        .setType(AttributeProto.AttributeType.INT).setI(-1).build()));
    node("MatMul", List.of("scaled", "w2"), "main0");
    node("Add", List.of("main0", "b2"), "main");
    node("MatMul", List.of("outliers", "rows"), "side");
    node("Add", List.of("main", "side"), "y");
    g.addOutput(ValueInfoProto.newBuilder().setName("y"));
    ModelProto model = model();

    GraphExecutor fused = new GraphExecutor(model, name -> null, true);
    List<String> ops = fused.operatorTypes();
    assertEquals(2, Collections.frequency(ops, FUSED + "MatMulBias"), ops.toString());
    assertFalse(ops.contains("Mul") || ops.contains("Add") || ops.contains("MatMul") || ops.contains("Erf"),
        ops.toString());
    Map<String, Value> in = Map.of("x", random(2, 5, 16));
    float[] ort = onnxRuntime(model, in).get("y");
    assertClose(ort, fused.run(in).get("y").floats(), "fused");
    assertClose(ort, new GraphExecutor(model, name -> null, false).run(in).get("y").floats(), "unfused");
  }

  @Test
  void chainsWhoseMiddleIsReadElsewhereStayAsTheyAre() throws Exception {
    input("x", 3, 8);
    constant("sqrt2", (float) Math.sqrt(2));
    constant("one", 1f);
    constant("half", 0.5f);
    node("Div", List.of("x", "sqrt2"), "a");
    node("Erf", List.of("a"), "e");
    node("Add", List.of("e", "one"), "p");
    node("Mul", List.of("x", "p"), "m");
    node("Mul", List.of("m", "half"), "gelu");
    g.addOutput(ValueInfoProto.newBuilder().setName("gelu"));
    g.addOutput(ValueInfoProto.newBuilder().setName("e")); // the erf is an output too
    ModelProto model = model();
    GraphExecutor exec = new GraphExecutor(model, name -> null, true);
    assertFalse(exec.operatorTypes().contains(FUSED + "Gelu"), exec.operatorTypes().toString());
    Map<String, Value> in = Map.of("x", random(3, 8));
    Map<String, float[]> ort = onnxRuntime(model, in);
    Map<String, Value> ours = exec.run(in);
    assertClose(ort.get("gelu"), ours.get("gelu").floats(), "gelu");
    assertClose(ort.get("e"), ours.get("e").floats(), "erf");
  }

  private ModelProto model() {
    return ModelProto.newBuilder().setIrVersion(8).setGraph(g)
        .addOpsetImport(OperatorSetIdProto.newBuilder().setDomain("").setVersion(13)).build();
  }

  private void input(String name, long... shape) {
    TypeProto.Tensor.Builder t = TypeProto.Tensor.newBuilder().setElemType(1);
    g.addInput(ValueInfoProto.newBuilder().setName(name).setType(TypeProto.newBuilder().setTensorType(t)));
  }

  private void constant(String name, float v) {
    g.addInitializer(TensorProto.newBuilder().setName(name).setDataType(1).addFloatData(v));
  }

  private void initializer(String name, long[] shape) {
    TensorProto.Builder t = TensorProto.newBuilder().setName(name).setDataType(1);
    for (long d : shape) {
      t.addDims(d);
    }
    for (float v : random(shape).floats()) {
      t.addFloatData(v);
    }
    g.addInitializer(t);
  }

  private void node(String op, List<String> in, String out) {
    node(op, in, out, List.of());
  }

  private void node(String op, List<String> in, String out, List<AttributeProto> attrs) {
    g.addNode(NodeProto.newBuilder().setOpType(op).setName(out + "_node").addAllInput(in).addOutput(out)
        .addAllAttribute(attrs));
  }

  private static AttributeProto ints(String name, long... v) {
    AttributeProto.Builder a = AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.INTS);
    for (long x : v) {
      a.addInts(x);
    }
    return a.build();
  }

  private static Value random(long... shape) {
    float[] v = new float[Broadcast.size(shape)];
    for (int i = 0; i < v.length; i++) {
      v[i] = (float) RND.nextGaussian() * 2;
    }
    return Value.ofFloats(shape, v);
  }

  private static Map<String, float[]> onnxRuntime(ModelProto model, Map<String, Value> in) throws Exception {
    OrtEnvironment env = OrtEnvironment.getEnvironment();
    Map<String, float[]> out = new HashMap<>();
    try (OrtSession s = env.createSession(model.toByteArray(), new OrtSession.SessionOptions())) {
      Map<String, OnnxTensor> oin = new HashMap<>();
      for (Map.Entry<String, Value> e : in.entrySet()) {
        oin.put(e.getKey(), OnnxTensor.createTensor(env, FloatBuffer.wrap(e.getValue().floats()),
            e.getValue().shape()));
      }
      try (OrtSession.Result r = s.run(oin)) {
        for (Map.Entry<String, ai.onnxruntime.OnnxValue> e : r) {
          FloatBuffer fb = ((OnnxTensor) e.getValue()).getFloatBuffer();
          float[] f = new float[fb.remaining()];
          fb.get(f);
          out.put(e.getKey(), f);
        }
      }
      oin.values().forEach(OnnxTensor::close);
    }
    return out;
  }

  private static void assertClose(float[] expected, float[] actual, String what) {
    assertEquals(expected.length, actual.length, what);
    for (int i = 0; i < expected.length; i++) {
      assertEquals(expected[i], actual[i], 2e-5 * (1 + Math.abs(expected[i])), what + " at " + i);
    }
  }
}
