package dev.selfbyt.cortexsdr.djl.graph;

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
import dev.selfbyt.cortexsdr.djl.kernel.KernelScope;
import dev.selfbyt.cortexsdr.djl.kernel.KernelThreads;
import dev.selfbyt.cortexsdr.djl.kernel.Kernels;
import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

/**
 * The fused multi-head attention and the residual layer norm against the unfused graph and ONNX
 * Runtime, on odd shapes (head counts, head sizes, sequence lengths, batches, padding masks as BERT
 * exports them), with every kernel set: scalar Java, the Vector API, and the native library at each
 * instruction set this CPU runs (as {@code -Ddev.selfbyt.cortexsdr.djl.native=false} would leave
 * out).
 */
class FusedAttentionTest {
  private static final String FUSED = Fusion.DOMAIN + ":";
  private static final float MIN = -3.4028235e38f; // torch.finfo(float32).min, what BERT exports add

  private final Random rnd = new Random(7);
  private final GraphProto.Builder g = GraphProto.newBuilder().setName("attention");

  /** Every kernel set this machine runs, by name. */
  static Map<String, Kernels> kernelSets() {
    Map<String, Kernels> out = new LinkedHashMap<>();
    out.put("scalar", Kernels.scalar());
    Kernels v = Kernels.vector();
    if (v != null) {
      out.put(v.name(), v);
    }
    for (String isa : List.of("portable", "avx2", "avx512", "amx")) {
      Kernels n = Kernels.choose("native", isa, "test");
      if (n.name().contains(isa)) {
        out.put(n.name(), n);
      }
    }
    return out;
  }

  @ParameterizedTest(name = "batch {0}, seq q {1}, seq kv {2}, heads {3}, dim {4}, value dim {5}, two K transposes {6}")
  @CsvSource({
      "1, 128, 128, 12, 32, 32, false",
      "3, 7, 7, 5, 13, 13, false",
      "2, 33, 33, 1, 64, 64, true",
      "2, 5, 9, 3, 8, 11, false",
      "4, 1, 1, 2, 3, 3, true",
      "1, 3, 601, 2, 5, 7, false",
  })
  void attentionRunsFusedWithTheUnfusedResults(int batch, int sq, int sk, int heads, int d, int dv, boolean twoK)
      throws Exception {
    input("q", batch, sq, heads * d);
    input("k", batch, sk, heads * d);
    input("v", batch, sk, heads * dv);
    input("mask", batch, 1, 1, sk);
    shape("qs", 0, 0, heads, d);
    shape("vs", 0, 0, heads, dv);
    shape("os", 0, 0, heads * dv);
    scalar("c", (float) Math.sqrt(d));
    node("Reshape", List.of("q", "qs"), "q4");
    node("Reshape", List.of("k", "qs"), "k4");
    node("Reshape", List.of("v", "vs"), "v4");
    node("Transpose", List.of("q4"), "qt", perm(0, 2, 1, 3));
    if (twoK) {
      node("Transpose", List.of("k4"), "kt0", perm(0, 2, 1, 3));
      node("Transpose", List.of("kt0"), "kt", perm(0, 1, 3, 2));
    } else {
      node("Transpose", List.of("k4"), "kt", perm(0, 2, 3, 1));
    }
    node("Transpose", List.of("v4"), "vt", perm(0, 2, 1, 3));
    node("MatMul", List.of("qt", "kt"), "s");
    node("Div", List.of("s", "c"), "ss");
    node("Add", List.of("ss", "mask"), "sm");
    node("Softmax", List.of("sm"), "p", List.of(AttributeProto.newBuilder().setName("axis")
        .setType(AttributeProto.AttributeType.INT).setI(3).build()));
    node("MatMul", List.of("p", "vt"), "o");
    node("Transpose", List.of("o"), "ot", perm(0, 2, 1, 3));
    if (twoK && batch == 2) {
      // as BERT exports it: the target made from Shape(ot), then the smoothing of a W8A8 export
      shape("i0", 0);
      shape("i1", 1);
      shape("hd", heads * dv);
      node("Shape", List.of("ot"), "sh");
      node("Gather", List.of("sh", "i0"), "b0");
      node("Gather", List.of("sh", "i1"), "b1");
      g.addNode(NodeProto.newBuilder().setOpType("Concat").setName("cat").addInput("b0").addInput("b1")
          .addInput("hd").addOutput("os2").addAttribute(AttributeProto.newBuilder().setName("axis")
              .setType(AttributeProto.AttributeType.INT).setI(0)));
      node("Reshape", List.of("ot", "os2"), "o3");
      vector("smooth", heads * dv);
      node("Mul", List.of("o3", "smooth"), "out");
    } else if (twoK) {
      // as a W8A8 export smooths the output projection's input: folded into the node
      node("Reshape", List.of("ot", "os"), "o3");
      vector("smooth", heads * dv);
      node("Mul", List.of("o3", "smooth"), "out");
    } else {
      node("Reshape", List.of("ot", "os"), "out");
    }
    g.addOutput(ValueInfoProto.newBuilder().setName("out"));
    ModelProto model = model();

    GraphExecutor fused = new GraphExecutor(model, name -> null, true);
    List<String> ops = fused.operatorTypes();
    assertEquals(1, Collections.frequency(ops, FUSED + "Attention"), ops.toString());
    assertFalse(ops.contains("Transpose") || ops.contains("Softmax") || ops.contains("MatMul")
        || ops.contains("Mul"), ops.toString());
    GraphExecutor plain = new GraphExecutor(model, name -> null, false);

    Map<String, Value> in = new HashMap<>();
    in.put("q", random(batch, sq, heads * d));
    in.put("k", random(batch, sk, heads * d));
    in.put("v", random(batch, sk, heads * dv));
    in.put("mask", paddingMask(batch, sk));
    float[] ort = onnxRuntime(model, in).get("out");
    KernelThreads pool = KernelThreads.pool(2, 0);
    for (Map.Entry<String, Kernels> k : kernelSets().entrySet()) {
      KernelScope scope = new KernelScope(k.getValue(), pool);
      float[] f = scope.call(() -> fused.run(in)).get("out").floats();
      float[] p = scope.call(() -> plain.run(in)).get("out").floats();
      assertClose(p, f, "fused against unfused, " + k.getKey());
      assertClose(ort, f, "fused against ONNX Runtime, " + k.getKey());
    }
  }

  @Test
  void masksOfOtherShapesFuseOrFallBackWithTheSameResults() throws Exception {
    // masks per query [b, 1, sq, sk], per head [1, h, 1, sk] and per query row [b, 1, sq, 1] run
    // fused; with one head, a mask [b, 3, sq, sk] widens the scores to three "heads", which the
    // fused node leaves to the original operators
    long[][] masks = {{2, 1, 6, 6}, {1, 3, 1, 6}, {2, 1, 6, 1}, {2, 3, 6, 6}};
    int[] headsOf = {3, 3, 3, 1};
    for (int c = 0; c < masks.length; c++) {
      long[] maskShape = masks[c];
      g.clear().setName("attention");
      input("q", 2, 6, 12);
      input("mask", maskShape);
      shape("qs", 0, 0, headsOf[c], 12 / headsOf[c]);
      scalar("c", 0.5f);
      node("Reshape", List.of("q", "qs"), "q4");
      node("Transpose", List.of("q4"), "qt", perm(0, 2, 1, 3));
      node("Transpose", List.of("q4"), "kt", perm(0, 2, 3, 1));
      node("Transpose", List.of("q4"), "vt", perm(0, 2, 1, 3));
      node("MatMul", List.of("qt", "kt"), "s");
      node("Mul", List.of("s", "c"), "ss");
      node("Add", List.of("mask", "ss"), "sm");
      node("Softmax", List.of("sm"), "p", List.of(AttributeProto.newBuilder().setName("axis")
          .setType(AttributeProto.AttributeType.INT).setI(-1).build()));
      node("MatMul", List.of("p", "vt"), "o");
      node("Transpose", List.of("o"), "out", perm(0, 2, 1, 3));
      g.addOutput(ValueInfoProto.newBuilder().setName("out"));
      ModelProto model = model();
      GraphExecutor fused = new GraphExecutor(model, name -> null, true);
      assertTrue(fused.operatorTypes().contains(FUSED + "Attention"), fused.operatorTypes().toString());
      GraphExecutor plain = new GraphExecutor(model, name -> null, false);
      Map<String, Value> in = Map.of("q", random(2, 6, 12), "mask", random(maskShape));
      KernelThreads pool = KernelThreads.pool(2, 0);
      for (Map.Entry<String, Kernels> k : kernelSets().entrySet()) {
        KernelScope scope = new KernelScope(k.getValue(), pool);
        Value f = scope.call(() -> fused.run(in)).get("out");
        Value p = scope.call(() -> plain.run(in)).get("out");
        assertEquals(java.util.Arrays.toString(p.shape()), java.util.Arrays.toString(f.shape()));
        assertClose(p.floats(), f.floats(), java.util.Arrays.toString(maskShape) + " " + k.getKey());
      }
    }
  }

  @Test
  void residualLayerNormBiasGeluAndSmoothingRunAsOnePassEach() throws Exception {
    input("a", 3, 5, 24);
    input("r", 3, 5, 24);
    input("bias", 24); // a computed addend of another shape: the broadcast path
    scalar("two", 2f);
    scalar("eps", 1e-12f);
    scalar("sqrt2", (float) Math.sqrt(2));
    scalar("one", 1f);
    scalar("half", 0.5f);
    vector("gamma", 24);
    vector("beta", 24);
    vector("s1", 24);
    layerNorm("a", "r", "h1");
    node("Mul", List.of("h1", "s1"), "h1s"); // read besides h1 itself: a second output
    layerNorm("h1", "bias", "h2");
    TensorProto.Builder w = TensorProto.newBuilder().setName("w").setDataType(1).addDims(24).addDims(40);
    for (float f : random(24, 40).floats()) {
      w.addFloatData(f * 0.1f); // weights of a trained layer's size: sums of 24 products stay near 1
    }
    g.addInitializer(w);
    vector("wb", 40);
    vector("s2", 40);
    node("MatMul", List.of("h2", "w"), "hw");
    node("Add", List.of("wb", "hw"), "u");
    node("Div", List.of("u", "sqrt2"), "e0");
    node("Erf", List.of("e0"), "e1");
    node("Add", List.of("e1", "one"), "e2");
    node("Mul", List.of("u", "e2"), "e3");
    node("Mul", List.of("e3", "half"), "gelu");
    node("Mul", List.of("s2", "gelu"), "gs");
    List<String> outs = List.of("h1s", "gs");
    outs.forEach(o -> g.addOutput(ValueInfoProto.newBuilder().setName(o)));
    ModelProto model = model();
    GraphExecutor fused = new GraphExecutor(model, name -> null, true);
    List<String> ops = fused.operatorTypes();
    assertEquals(List.of(FUSED + "LayerNorm", FUSED + "LayerNorm", FUSED + "MatMulBias"), ops);
    GraphExecutor plain = new GraphExecutor(model, name -> null, false);
    Map<String, Value> in = Map.of("a", random(3, 5, 24), "r", random(3, 5, 24), "bias", random(24));
    Map<String, float[]> ort = onnxRuntime(model, in);
    KernelThreads pool = KernelThreads.pool(2, 0);
    for (Map.Entry<String, Kernels> k : kernelSets().entrySet()) {
      KernelScope scope = new KernelScope(k.getValue(), pool);
      Map<String, Value> f = scope.call(() -> fused.run(in));
      Map<String, Value> p = scope.call(() -> plain.run(in));
      for (String o : outs) {
        assertClose(p.get(o).floats(), f.get(o).floats(), o + " fused against unfused, " + k.getKey());
        assertClose(ort.get(o), f.get(o).floats(), o + " fused against ONNX Runtime, " + k.getKey());
      }
    }
  }

  /** {@code LayerNorm(x + skip)} as PyTorch exports it, with the constants above. */
  private void layerNorm(String x, String skip, String out) {
    String p = out + "_";
    node("Add", List.of(x, skip), p + "sum");
    node("ReduceMean", List.of(p + "sum"), p + "mean", List.of(ints("axes", -1)));
    node("Sub", List.of(p + "sum", p + "mean"), p + "d");
    node("Pow", List.of(p + "d", "two"), p + "d2");
    node("ReduceMean", List.of(p + "d2"), p + "var", List.of(ints("axes", -1)));
    node("Add", List.of(p + "var", "eps"), p + "ve");
    node("Sqrt", List.of(p + "ve"), p + "sd");
    node("Div", List.of(p + "d", p + "sd"), p + "n");
    node("Mul", List.of(p + "n", "gamma"), p + "ng");
    node("Add", List.of(p + "ng", "beta"), out);
  }

  /** A padding mask as BERT exports add it: 0 for the tokens, float32's lowest for the padding. */
  private Value paddingMask(int batch, int sk) {
    float[] m = new float[batch * sk];
    for (int b = 0; b < batch; b++) {
      int len = Math.max(1, sk - b * (sk / 3 + 1)); // the first sentence full, later ones shorter
      for (int j = len; j < sk; j++) {
        m[b * sk + j] = MIN;
      }
    }
    return Value.ofFloats(new long[] {batch, 1, 1, sk}, m);
  }

  private ModelProto model() {
    return ModelProto.newBuilder().setIrVersion(8).setGraph(g)
        .addOpsetImport(OperatorSetIdProto.newBuilder().setDomain("").setVersion(13)).build();
  }

  private void input(String name, long... shape) {
    TypeProto.Tensor.Builder t = TypeProto.Tensor.newBuilder().setElemType(1);
    g.addInput(ValueInfoProto.newBuilder().setName(name).setType(TypeProto.newBuilder().setTensorType(t)));
  }

  private void scalar(String name, float v) {
    g.addInitializer(TensorProto.newBuilder().setName(name).setDataType(1).addFloatData(v));
  }

  private void vector(String name, int n) {
    TensorProto.Builder t = TensorProto.newBuilder().setName(name).setDataType(1).addDims(n);
    for (float v : random(n).floats()) {
      t.addFloatData(v);
    }
    g.addInitializer(t);
  }

  private void shape(String name, long... dims) {
    TensorProto.Builder t = TensorProto.newBuilder().setName(name).setDataType(7).addDims(dims.length);
    for (long d : dims) {
      t.addInt64Data(d);
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

  private static List<AttributeProto> perm(long... p) {
    return List.of(ints("perm", p));
  }

  private static AttributeProto ints(String name, long... v) {
    AttributeProto.Builder a = AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.INTS);
    for (long x : v) {
      a.addInts(x);
    }
    return a.build();
  }

  private Value random(long... shape) {
    float[] v = new float[Broadcast.size(shape)];
    for (int i = 0; i < v.length; i++) {
      v[i] = (float) rnd.nextGaussian() * 2;
    }
    return Value.ofFloats(shape, v);
  }

  private Value random(int... shape) {
    long[] s = new long[shape.length];
    for (int i = 0; i < s.length; i++) {
      s[i] = shape[i];
    }
    return random(s);
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
    List<String> bad = new ArrayList<>();
    for (int i = 0; i < expected.length && bad.size() < 5; i++) {
      if (!(Math.abs(expected[i] - actual[i]) <= 2e-5 * (1 + Math.abs(expected[i])))) {
        bad.add(i + ": " + expected[i] + " vs " + actual[i]);
      }
    }
    assertTrue(bad.isEmpty(), what + ": " + bad);
  }
}
