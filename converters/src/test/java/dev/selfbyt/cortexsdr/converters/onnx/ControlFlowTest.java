package dev.selfbyt.cortexsdr.converters.onnx;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import dev.selfbyt.cortexsdr.core.CompressionOptions;
import dev.selfbyt.cortexsdr.core.CompressionStats;
import dev.selfbyt.cortexsdr.core.CortexSdr;
import dev.selfbyt.cortexsdr.core.Preset;
import dev.selfbyt.cortexsdr.core.format.CaiReader;
import dev.selfbyt.cortexsdr.core.tensor.DType;
import dev.selfbyt.cortexsdr.core.tensor.InMemoryTensorSource;
import dev.selfbyt.cortexsdr.core.tensor.TensorInfo;
import dev.selfbyt.cortexsdr.core.tensor.TensorRole;
import java.nio.ByteBuffer;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Weights inside control-flow subgraphs ({@code If} branches, {@code Loop} and {@code Scan}
 * bodies) are compressed like main-graph weights, and the decoded and quantized exports run in
 * ONNX Runtime with the original's outputs.
 */
class ControlFlowTest {
  @TempDir static Path dir;
  static OrtEnvironment env;

  @BeforeAll
  static void setUp() {
    env = OrtEnvironment.getEnvironment();
  }

  @Test
  void branchWeightsGetScopedNamesAndTheRolesTheirConsumersGive() throws Exception {
    Path model = write("if.onnx", ControlFlowModels.ifBranches(256));
    try (OnnxModelReader onnx = OnnxModelReader.open(model)) {
      Map<String, TensorInfo> t = onnx.tensors().stream()
          .collect(Collectors.toMap(TensorInfo::name, Function.identity(), (a, b) -> a, LinkedHashMap::new));
      // both branches hold a "W"; the then branch's path is taken by a main-graph weight
      assertEquals(List.of("U", ControlFlowModels.COLLIDING, "If_0/then_branch/W~2", "If_0/then_branch/B",
          "If_0/else_branch/W", "If_0/else_branch/W2"), List.copyOf(t.keySet()));
      for (String w : List.of("U", ControlFlowModels.COLLIDING, "If_0/then_branch/W~2", "If_0/else_branch/W",
          "If_0/else_branch/W2")) {
        assertEquals(TensorRole.MATMUL_WEIGHT, t.get(w).role(), w); // U: read only inside the else branch
        assertEquals(0, t.get(w).reductionAxis(), w);
      }
      assertEquals(TensorRole.BIAS, t.get("If_0/then_branch/B").role());
      assertTrue(onnx.graph().length < 4096, "stripped graph of " + onnx.graph().length + " bytes");
    }
  }

  /** Lossless, every weight goes back where it was: the decoded export is the source file, byte for byte. */
  @Test
  void losslessRoundTripGivesTheSameFileBack() throws Exception {
    Map<String, ModelProto> models = Map.of("if", ControlFlowModels.ifBranches(64),
        "loop", ControlFlowModels.loopWithNestedIf(64), "scan", ControlFlowModels.scanCell(64, 3),
        "edges", ControlFlowModels.scopeEdges(64));
    for (var m : models.entrySet()) {
      Path model = write(m.getKey() + "-ll.onnx", m.getValue());
      compress(model, m.getKey() + "-ll.cai", Preset.LOSSLESS);
      try (CaiReader r = CaiReader.open(dir.resolve(m.getKey() + "-ll.cai"))) {
        OnnxExporter.exportDecoded(r, dir.resolve(m.getKey() + "-ll-back.onnx"));
      }
      org.junit.jupiter.api.Assertions.assertArrayEquals(Files.readAllBytes(model),
          Files.readAllBytes(dir.resolve(m.getKey() + "-ll-back.onnx")), m.getKey());
    }
  }

  @Test
  void ifBranchesCompressLikeMainGraphWeightsAndRunTheSame() throws Exception {
    ModelProto m = ControlFlowModels.ifBranches(256);
    Path model = write("if-int8.onnx", m);
    float[] x = OnnxTestModels.weights(256, 7);
    CompressionStats stats = compress(model, "if-int8.cai", Preset.INT8);
    CompressionStats flat = compress(write("flat.onnx", flatMatMuls(m)), "flat-int8.cai", Preset.INT8);
    System.out.printf("If with branch weights, int8: %.3fx (the same weights in the main graph: %.3fx)%n",
        stats.ratio(), flat.ratio());
    assertTrue(stats.ratio() > 0.97 * flat.ratio(), "ratio " + stats.ratio() + " vs " + flat.ratio());
    List<QuantizedOnnxExporter.Form> forms = exportBoth("if-int8");
    assertEquals(5, forms.stream().filter(f -> f.form().startsWith("MatMulNBits")).count(), forms.toString());
    for (boolean c : new boolean[] {true, false}) {
      Map<String, Object> in = Map.of("X", x, "C", c);
      check("If, C=" + c, run(model, in), run(dir.resolve("if-int8-decoded.onnx"), in),
          run(dir.resolve("if-int8-quantized.onnx"), in));
    }
  }

  @Test
  void loopBodyAndNestedBranchWeightsRoundTrip() throws Exception {
    Path model = write("loop.onnx", ControlFlowModels.loopWithNestedIf(128));
    try (OnnxModelReader onnx = OnnxModelReader.open(model)) {
      assertEquals(List.of("Loop_0/body/Wl", "Loop_0/body/inner_if/then_branch/Wt",
          "Loop_0/body/inner_if/else_branch/We"),
          onnx.tensors().stream().filter(t -> t.dtype() == DType.FLOAT32).map(TensorInfo::name).toList());
    }
    compress(model, "loop-int8.cai", Preset.INT8);
    List<QuantizedOnnxExporter.Form> forms = exportBoth("loop-int8");
    assertEquals(3, forms.stream().filter(f -> f.form().startsWith("MatMulNBits")).count(), forms.toString());
    float[] x = OnnxTestModels.weights(128, 8);
    for (boolean c : new boolean[] {true, false}) {
      Map<String, Object> in = Map.of("X", x, "C", c, "M", 3L);
      check("Loop, C=" + c, run(model, in), run(dir.resolve("loop-int8-decoded.onnx"), in),
          run(dir.resolve("loop-int8-quantized.onnx"), in));
    }
  }

  /**
   * A branch that returns its own weight, and a weight read by two nested branches below its
   * graph: both exports keep the model computing the same (the quantized one moves the weights to
   * the main graph and reads them from there).
   */
  @Test
  void weightsReturnedByABranchOrReadTwoLevelsDownRoundTrip() throws Exception {
    Path model = write("edges.onnx", ControlFlowModels.scopeEdges(128));
    try (OnnxModelReader onnx = OnnxModelReader.open(model)) {
      Map<String, TensorInfo> t = onnx.tensors().stream()
          .collect(Collectors.toMap(TensorInfo::name, Function.identity()));
      assertEquals(java.util.Set.of("If#0/then_branch/T", "If#0/else_branch/Wo"), t.keySet());
      assertEquals(TensorRole.MATMUL_WEIGHT, t.get("If#0/else_branch/Wo").role());
    }
    compress(model, "edges-int8.cai", Preset.INT8);
    List<QuantizedOnnxExporter.Form> forms = exportBoth("edges-int8");
    // three consumers, no single MatMul to replace: its codes are dequantized once in the main graph
    String wo = forms.stream().filter(f -> f.tensor().equals("If#0/else_branch/Wo")).findFirst().orElseThrow().form();
    assertTrue(wo.contains("dequantized by DequantizeLinear"), wo);
    float[] x = OnnxTestModels.weights(128, 13);
    for (boolean c : new boolean[] {true, false}) {
      for (boolean c2 : new boolean[] {true, false}) {
        Map<String, Object> in = Map.of("X", x, "C", c, "C2", c2);
        check("edges, C=" + c + ", C2=" + c2, run(model, in), run(dir.resolve("edges-int8-decoded.onnx"), in),
            run(dir.resolve("edges-int8-quantized.onnx"), in));
      }
    }
  }

  /** Calibration probes main-graph activations: weights read only inside a Scan body are named as uncalibrated. */
  @Test
  void calibrationSaysWhichSubgraphWeightsItRoundsPlainly() throws Exception {
    Path model = write("scan-calib.onnx", ControlFlowModels.scanCell(128, 6));
    List<Map<String, OnnxCalibrator.Input>> samples = new java.util.ArrayList<>();
    for (int i = 0; i < 4; i++) {
      samples.add(Map.of("H0", OnnxCalibrator.Input.ofFloats(new long[] {1, 128}, OnnxTestModels.weights(128, 20 + i)),
          "X", OnnxCalibrator.Input.ofFloats(new long[] {6, 1, 128}, OnnxTestModels.weights(6 * 128, 30 + i))));
    }
    List<String> log = new java.util.ArrayList<>();
    try (OnnxModelReader onnx = OnnxModelReader.open(model)) {
      var source = OnnxCalibrator.forOptions(onnx, CompressionOptions.builder().preset(Preset.INT4).build(), 0.01, 1)
          .onProgress(log::add).calibrate(samples);
      String note = source.metadata().get("calibration subgraphs");
      assertTrue(note != null && note.startsWith("2 weights read only inside If/Loop/Scan subgraphs")
          && note.contains("Scan_0/body/Wx"), String.valueOf(note));
      assertTrue(log.contains(note), log.toString());
    }
  }

  @Test
  void scanBodyWeightsRoundTrip() throws Exception {
    Path model = write("scan.onnx", ControlFlowModels.scanCell(128, 6));
    compress(model, "scan-int8.cai", Preset.INT8);
    List<QuantizedOnnxExporter.Form> forms = exportBoth("scan-int8");
    assertEquals(2, forms.stream().filter(f -> f.form().startsWith("MatMulNBits int8")).count(), forms.toString());
    Map<String, Object> in = Map.of("H0", OnnxTestModels.weights(128, 9), "X", OnnxTestModels.weights(6 * 128, 10));
    float[] want = run(model, in);
    check("Scan", want, run(dir.resolve("scan-int8-decoded.onnx"), in), run(dir.resolve("scan-int8-quantized.onnx"), in));
  }

  /**
   * LSTM and GRU weights W [1, gates*h, in] and R [1, gates*h, h] keep the role OTHER, whose
   * reduction axis is the last (in, h): the axis each gate row is summed over. They are
   * quantized along it and decoded for ONNX Runtime, which has no quantized LSTM.
   */
  @Test
  void lstmAndGruWeightsAreQuantizedAlongTheirInputAxis() throws Exception {
    for (String op : List.of("LSTM", "GRU")) {
      Path model = write(op + ".onnx", ControlFlowModels.recurrent(op, 64, 128, 10));
      try (OnnxModelReader onnx = OnnxModelReader.open(model)) {
        for (TensorInfo t : onnx.tensors()) {
          assertEquals(TensorRole.OTHER, t.role(), t.name());
          assertEquals(t.rank() - 1, t.reductionAxis(), t.name());
        }
      }
      CompressionStats stats = compress(model, op + "-int8.cai", Preset.INT8);
      try (CaiReader r = CaiReader.open(dir.resolve(op + "-int8.cai"))) {
        assertEquals(dev.selfbyt.cortexsdr.core.codec.CodecId.QUANT, r.entry("W").codec());
        assertEquals(dev.selfbyt.cortexsdr.core.codec.CodecId.QUANT, r.entry("R").codec());
      }
      exportBoth(op + "-int8");
      Map<String, Object> in = Map.of("X", OnnxTestModels.weights(10 * 64, 11));
      float[] want = run(model, in);
      double cos = cosine(want, run(dir.resolve(op + "-int8-decoded.onnx"), in));
      double q = cosine(want, run(dir.resolve(op + "-int8-quantized.onnx"), in));
      System.out.printf("%s int8: %.3fx, cosine decoded %.6f, quantized export %.6f%n", op, stats.ratio(), cos, q);
      assertTrue(stats.ratio() > 3.5, op + " ratio " + stats.ratio());
      assertTrue(cos > 0.999 && q > 0.999, op + " cosine " + cos + " / " + q);
    }
  }

  /**
   * A file written before subgraph support (branch weights left in the stored graph with their
   * data, a main-graph weight read only inside a branch stored as OTHER on its last axis) still
   * passes the graph check and exports.
   */
  @Test
  void filesFromBeforeSubgraphSupportStillLoad() throws Exception {
    ModelProto m = ControlFlowModels.ifBranches(64);
    Path model = write("old.onnx", m);
    GraphProto.Builder gb = m.getGraph().toBuilder();
    InMemoryTensorSource.Builder src = InMemoryTensorSource.builder("onnx");
    for (int i = 0; i < gb.getInitializerCount(); i++) {
      TensorProto t = gb.getInitializer(i);
      boolean readInMain = t.getName().equals(ControlFlowModels.COLLIDING);
      src.add(new TensorInfo(t.getName(), DType.FLOAT32, new long[] {64, 64},
          readInMain ? TensorRole.MATMUL_WEIGHT : TensorRole.OTHER, readInMain ? 0 : -1),
          t.getRawData().asReadOnlyByteBuffer());
      gb.setInitializer(i, t.toBuilder().clearRawData());
    }
    Path cai = dir.resolve("old.cai");
    CortexSdr.compress(src.graph(m.toBuilder().setGraph(gb).build().toByteArray()).build(), cai,
        CompressionOptions.builder().preset(Preset.LOSSLESS).build());
    try (CaiReader r = CaiReader.open(cai)) {
      StoredGraphCheck.check(r);
      OnnxExporter.exportDecoded(r, dir.resolve("old-decoded.onnx"));
      QuantizedOnnxExporter.export(r, dir.resolve("old-quantized.onnx"), 0);
    }
    Map<String, Object> in = Map.of("X", OnnxTestModels.weights(64, 12), "C", false);
    float[] want = run(model, in);
    assertTrue(java.util.Arrays.equals(want, run(dir.resolve("old-decoded.onnx"), in)));
    assertTrue(java.util.Arrays.equals(want, run(dir.resolve("old-quantized.onnx"), in)));
  }

  /** A stored graph whose branch weight is gone from the archive is refused, naming the weight. */
  @Test
  void aMissingBranchWeightIsNamed() throws Exception {
    ModelProto m = ControlFlowModels.ifBranches(64);
    Path cai = dir.resolve("missing.cai");
    try (OnnxModelReader onnx = OnnxModelReader.open(write("missing.onnx", m))) {
      InMemoryTensorSource.Builder src = InMemoryTensorSource.builder("onnx").graph(onnx.graph());
      for (TensorInfo t : onnx.tensors()) {
        if (!t.name().equals("If_0/else_branch/W2")) {
          src.add(t, onnx.read(t).bytes());
        }
      }
      CortexSdr.compress(src.build(), cai, CompressionOptions.builder().preset(Preset.LOSSLESS).build());
    }
    try (CaiReader r = CaiReader.open(cai)) {
      var e = org.junit.jupiter.api.Assertions.assertThrows(dev.selfbyt.cortexsdr.core.format.CorruptCaiException.class,
          () -> StoredGraphCheck.check(r));
      assertEquals("If_0/else_branch/W2", e.tensor(), e.getMessage());
      assertFalse(Files.exists(dir.resolve("missing-decoded.onnx")));
    }
  }

  // --- helpers ---

  /** The five matrices of {@link ControlFlowModels#ifBranches} as a chain of main-graph MatMuls. */
  private static ModelProto flatMatMuls(ModelProto branchy) {
    GraphProto g = branchy.getGraph();
    GraphProto.Builder flat = GraphProto.newBuilder().setName("flat").addInput(g.getInput(0)).addOutput(g.getOutput(0));
    List<TensorProto> all = new java.util.ArrayList<>(g.getInitializerList());
    for (var n : g.getNodeList()) {
      for (var a : n.getAttributeList()) {
        if (a.hasG()) {
          all.addAll(a.getG().getInitializerList());
          a.getG().getNodeList().stream().filter(c -> c.getOpType().equals("Constant"))
              .forEach(c -> all.add(c.getAttribute(0).getT()));
        }
      }
    }
    String prev = "X";
    int i = 0;
    for (TensorProto t : all) {
      String name = "w" + i++;
      flat.addInitializer(t.toBuilder().setName(name));
      String out = i == all.size() ? "Y" : "h" + i;
      flat.addNode(ai.onnx.proto.OnnxMl.NodeProto.newBuilder().setOpType(t.getDimsCount() == 2 ? "MatMul" : "Add")
          .addInput(prev).addInput(name).addOutput(out));
      prev = out;
    }
    return branchy.toBuilder().setGraph(flat).build();
  }

  private static Path write(String name, ModelProto m) throws java.io.IOException {
    Path p = dir.resolve(name);
    Files.write(p, m.toByteArray());
    return p;
  }

  private static CompressionStats compress(Path model, String cai, Preset preset) throws java.io.IOException {
    try (OnnxModelReader onnx = OnnxModelReader.open(model)) {
      return CortexSdr.compress(onnx, dir.resolve(cai), CompressionOptions.builder().preset(preset).build());
    }
  }

  /** Writes {@code <tag>-decoded.onnx} and {@code <tag>-quantized.onnx} from {@code <tag>.cai}. */
  private static List<QuantizedOnnxExporter.Form> exportBoth(String tag) throws java.io.IOException {
    try (CaiReader r = CaiReader.open(dir.resolve(tag + ".cai"))) {
      StoredGraphCheck.check(r);
      OnnxExporter.exportDecoded(r, dir.resolve(tag + "-decoded.onnx"));
      return QuantizedOnnxExporter.export(r, dir.resolve(tag + "-quantized.onnx"), 0);
    }
  }

  private static void check(String what, float[] want, float[] decoded, float[] quantized) {
    double cos = cosine(want, decoded);
    double q = cosine(decoded, quantized);
    System.out.printf("%s: cosine vs original %.6f, quantized export vs decoded %.7f%n", what, cos, q);
    assertTrue(cos > 0.999, what + ": cosine " + cos);
    assertTrue(q > 0.99999, what + ": quantized export cosine " + q);
  }

  /** Runs a model on float arrays (shaped as the model's inputs), bools and longs; returns output 0. */
  static float[] run(Path model, Map<String, Object> inputs) throws Exception {
    try (OrtSession s = env.createSession(model.toString(), new OrtSession.SessionOptions())) {
      Map<String, OnnxTensor> in = new HashMap<>();
      try {
        for (var e : inputs.entrySet()) {
          Object v = e.getValue();
          if (v instanceof float[] f) {
            long[] shape = ((ai.onnxruntime.TensorInfo) s.getInputInfo().get(e.getKey()).getInfo()).getShape();
            in.put(e.getKey(), OnnxTensor.createTensor(env, FloatBuffer.wrap(f), shape));
          } else if (v instanceof Boolean b) {
            in.put(e.getKey(), OnnxTensor.createTensor(env, ByteBuffer.wrap(new byte[] {(byte) (b ? 1 : 0)}),
                new long[0], ai.onnxruntime.OnnxJavaType.BOOL));
          } else {
            in.put(e.getKey(), OnnxTensor.createTensor(env, java.nio.LongBuffer.wrap(new long[] {(Long) v}), new long[0]));
          }
        }
        try (OrtSession.Result r = s.run(in)) {
          FloatBuffer out = ((OnnxTensor) r.get(0)).getFloatBuffer();
          float[] a = new float[out.remaining()];
          out.get(a);
          return a;
        }
      } finally {
        in.values().forEach(OnnxTensor::close);
      }
    }
  }

  static double cosine(float[] a, float[] b) {
    assertEquals(a.length, b.length);
    double dot = 0;
    double na = 0;
    double nb = 0;
    for (int i = 0; i < a.length; i++) {
      dot += (double) a[i] * b[i];
      na += (double) a[i] * a[i];
      nb += (double) b[i] * b[i];
    }
    return dot / Math.sqrt(na * nb);
  }
}
