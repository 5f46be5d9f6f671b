package dev.selfbyt.cortexsdr.onnxops;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnx.proto.OnnxMl.AttributeProto;
import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.OperatorSetIdProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import ai.onnx.proto.OnnxMl.TensorShapeProto;
import ai.onnx.proto.OnnxMl.TypeProto;
import ai.onnx.proto.OnnxMl.ValueInfoProto;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.TensorInfo;
import com.google.protobuf.ByteString;
import dev.selfbyt.cortexsdr.converters.onnx.OnnxModelReader;
import dev.selfbyt.cortexsdr.core.CompressionOptions;
import dev.selfbyt.cortexsdr.core.CortexSdr;
import dev.selfbyt.cortexsdr.core.Preset;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.io.TempDir;

/**
 * The nodes {@link SdrFolds} folds into the sparse operators in {@link CaiOrt} sessions (a MaxPool
 * and Relu after {@code SdrConv}, a bias Add and Relu after {@code SdrMatMul}) compute what the
 * unfused graph computes, on every instruction set's path: the same {@code .cai} opened sparse
 * (folded) and decoded to dense fp32 (ONNX Runtime's own Conv, MaxPool, MatMul, Add, Relu). The
 * nodes a fold does not support stay in the graph and still give the same result. Both operators
 * infer their output's shape (batch symbolic, the rest known) as ONNX Runtime does for its own.
 */
class SdrFoldsTest {
  @TempDir Path dir;
  static final OrtEnvironment ENV = OrtEnvironment.getEnvironment();

  /** A convolution (3x3, pads 1; c * o * 9 >= 4,096 values, so compressed lossy) then {@code tail}, the nodes after it; {@code folded} says which stay. */
  record PoolCase(String name, int c, int o, int h, int w, int batch, List<NodeProto> tail, List<String> folded) {}

  static NodeProto relu(String in, String out) {
    return NodeProto.newBuilder().setOpType("Relu").setName("relu_" + out).addInput(in).addOutput(out).build();
  }

  static NodeProto pool(String in, String out, long[] k, long[] s, long[] pads, long ceil, AttributeProto... more) {
    NodeProto.Builder n = NodeProto.newBuilder().setOpType("MaxPool").setName("pool_" + out).addInput(in)
        .addOutput(out).addAttribute(SdrConvTest.ints("kernel_shape", k)).addAttribute(SdrConvTest.ints("strides", s))
        .addAttribute(AttributeProto.newBuilder().setName("ceil_mode").setType(AttributeProto.AttributeType.INT).setI(ceil));
    if (pads != null) {
      n.addAttribute(SdrConvTest.ints("pads", pads));
    }
    for (AttributeProto a : more) {
      n.addAttribute(a);
    }
    return n.build();
  }

  static final long[] K2 = {2, 2};
  static final long[] K3 = {3, 3};
  static final long[] S1 = {1, 1};
  static final long[] S2 = {2, 2};

  static List<PoolCase> poolCases() {
    return List.of(
        // the Fashion-MNIST CNN's second block
        new PoolCase("relu, pool 2x2/2", 16, 32, 14, 14, 3,
            List.of(relu("c", "r"), pool("r", "Y", K2, S2, null, 0)), List.of("SdrConv")),
        new PoolCase("pool 3x3/2 pads 1 ceil, then relu, odd sizes", 16, 32, 15, 13, 2,
            List.of(pool("c", "p", K3, S2, new long[] {1, 1, 1, 1}, 1), relu("p", "Y")), List.of("SdrConv")),
        new PoolCase("pool 2x2/2 ceil on odd sizes (partial last windows)", 12, 40, 13, 11, 2,
            List.of(relu("c", "r"), pool("r", "Y", K2, S2, new long[] {0, 0, 0, 0}, 1)), List.of("SdrConv")),
        new PoolCase("pool 3x3/1 asymmetric pads, no relu", 16, 36, 9, 10, 1,
            List.of(pool("c", "Y", K3, S1, new long[] {1, 0, 2, 1}, 0)), List.of("SdrConv")),
        new PoolCase("pool 2x2/2 pads 1, wide rows (several vectors a row)", 32, 16, 6, 70, 2,
            List.of(relu("c", "r"), pool("r", "Y", K2, S2, new long[] {1, 1, 1, 1}, 0)), List.of("SdrConv")),
        new PoolCase("pool 2x3/2x1 (another shape), valid", 24, 20, 12, 12, 1,
            List.of(pool("c", "Y", new long[] {2, 3}, new long[] {2, 1}, null, 0,
                AttributeProto.newBuilder().setName("auto_pad").setType(AttributeProto.AttributeType.STRING)
                    .setS(ByteString.copyFromUtf8("VALID")).build())), List.of("SdrConv")),
        // not folded: dilated, SAME padding, a ceil_mode window that could start past the end
        new PoolCase("dilated pool stays", 32, 16, 12, 12, 1,
            List.of(relu("c", "r"), pool("r", "Y", K2, S2, null, 0, SdrConvTest.ints("dilations", 2, 2))),
            List.of("SdrConv", "MaxPool")),
        new PoolCase("SAME_UPPER pool stays", 32, 16, 11, 11, 1,
            List.of(pool("c", "Y", K3, S2, null, 0, AttributeProto.newBuilder().setName("auto_pad")
                .setType(AttributeProto.AttributeType.STRING).setS(ByteString.copyFromUtf8("SAME_UPPER")).build())),
            List.of("SdrConv", "MaxPool")),
        new PoolCase("ceil pool with stride past the window stays", 32, 16, 13, 13, 1,
            List.of(relu("c", "r"), pool("r", "Y", K2, new long[] {3, 3}, null, 1)), List.of("SdrConv", "MaxPool")),
        // the conv's output read twice: nothing folds
        new PoolCase("output read twice stays", 32, 16, 12, 12, 1,
            List.of(relu("c", "r"), NodeProto.newBuilder().setOpType("Add").setName("twice").addInput("c")
                .addInput("r").addOutput("Y").build()), List.of("SdrConv", "Relu", "Add")));
  }

  @ParameterizedTest
  @ValueSource(strings = {"scalar", "avx2", "avx512", "auto"})
  void aMaxPoolAndReluAfterSdrConvAreFoldedAndComputeWhatTheGraphComputes(String isa) throws Exception {
    int i = 0;
    for (PoolCase c : poolCases()) {
      SplittableRandom rnd = new SplittableRandom(40 + i);
      float[] w = gaussian(rnd, c.o() * c.c() * 9, 0.1);
      List<NodeProto> nodes = new ArrayList<>();
      nodes.add(NodeProto.newBuilder().setOpType("Conv").setName("conv").addInput("X").addInput("W").addInput("B")
          .addOutput("c").addAttribute(SdrConvTest.ints("kernel_shape", 3, 3))
          .addAttribute(SdrConvTest.ints("pads", 1, 1, 1, 1)).build());
      nodes.addAll(c.tail());
      byte[] model = model(nodes, List.of(SdrConvTest.floats("W", w, c.o(), c.c(), 3, 3),
          SdrConvTest.floats("B", gaussian(rnd, c.o(), 1), c.o())), c.c(), c.h(), c.w());
      float[] x = new float[c.batch() * c.c() * c.h() * c.w()];
      System.arraycopy(gaussian(rnd, x.length, 1), 0, x, 0, x.length);
      check(isa, c.name(), model, x, new long[] {c.batch(), c.c(), c.h(), c.w()}, "SdrConv", c.tail(), c.folded(), i++);
    }
  }

  /** MatMul then {@code tail} on X [rows, 96]; the weight 96 x 64, bias "B" [64]. */
  record MatMulCase(String name, int rows, List<NodeProto> tail, List<String> folded) {}

  static NodeProto add(String a, String b, String out) {
    return NodeProto.newBuilder().setOpType("Add").setName("add_" + out).addInput(a).addInput(b).addOutput(out).build();
  }

  @ParameterizedTest
  @ValueSource(strings = {"scalar", "avx2", "avx512", "auto"})
  void aBiasAddAndReluAfterSdrMatMulAreFoldedAndComputeWhatTheGraphComputes(String isa) throws Exception {
    List<MatMulCase> cases = List.of(
        new MatMulCase("bias, relu, one row", 1, List.of(add("m", "B", "a"), relu("a", "Y")), List.of("SdrMatMul")),
        new MatMulCase("bias first, relu, few rows", 3, List.of(add("B", "m", "a"), relu("a", "Y")),
            List.of("SdrMatMul")),
        new MatMulCase("bias, many rows (tiles, a partial one)", 70, List.of(add("m", "B", "Y")), List.of("SdrMatMul")),
        new MatMulCase("relu then bias: only the relu folds", 70, List.of(relu("m", "r"), add("r", "B", "Y")),
            List.of("SdrMatMul", "Add")),
        new MatMulCase("a [1, 64] addend stays", 5, List.of(add("m", "B2", "Y")), List.of("SdrMatMul", "Add")));
    int i = 0;
    for (MatMulCase c : cases) {
      SplittableRandom rnd = new SplittableRandom(70 + i);
      List<NodeProto> nodes = new ArrayList<>();
      nodes.add(NodeProto.newBuilder().setOpType("MatMul").setName("mm").addInput("X").addInput("W").addOutput("m")
          .build());
      nodes.addAll(c.tail());
      float[] b = gaussian(rnd, 64, 1);
      byte[] model = model(nodes, List.of(SdrConvTest.floats("W", gaussian(rnd, 96 * 64, 0.1), 96, 64),
          SdrConvTest.floats("B", b, 64), SdrConvTest.floats("B2", b, 1, 64)), 96);
      check(isa, c.name(), model, gaussian(rnd, c.rows() * 96, 1), new long[] {c.rows(), 96}, "SdrMatMul", c.tail(),
          c.folded(), 100 + i++);
    }
  }

  /**
   * Compresses the model at 90% SDR, checks that the exported file keeps every node after the sparse
   * one (an older operator library would ignore the attributes) and what the fold leaves, and
   * compares sparse and dense sessions.
   */
  private void check(String isa, String name, byte[] model, float[] x, long[] shape, String sparseOp,
      List<NodeProto> tail, List<String> folded, int i) throws Exception {
    Path onnx = dir.resolve("m" + i + ".onnx");
    Files.write(onnx, model);
    Path cai = dir.resolve("m" + i + ".cai");
    try (OnnxModelReader r = OnnxModelReader.open(onnx)) {
      CortexSdr.compress(r, cai, CompressionOptions.builder().preset(Preset.SDR).sparsity(0.9).bits(i % 2 == 0 ? 4 : 8)
          .threads(2).build());
    }
    Path exported = dir.resolve("m" + i + ".sdr.onnx");
    CaiOrt.export(cai, exported, SdrMatMulRewriter.withMinSparsity(0.0));
    GraphProto.Builder g = ModelProto.parseFrom(Files.readAllBytes(exported)).getGraph().toBuilder();
    List<String> unfolded = new ArrayList<>(List.of(sparseOp));
    tail.forEach(n -> unfolded.add(n.getOpType()));
    assertEquals(unfolded, g.getNodeList().stream().map(NodeProto::getOpType).toList(), name + ": exported");
    SdrFolds.fold(g);
    assertEquals(folded, g.getNodeList().stream().map(NodeProto::getOpType).toList(), name);
    CaiOrtSession opened;
    try {
      opened = CaiOrt.open(ENV, cai, CaiOrtOptions.builder().sdr(SdrMatMulRewriter.withMinSparsity(0.0))
          .configEntry(SdrOps.ISA_CONFIG, isa).build());
    } catch (OrtException e) {
      Assumptions.assumeFalse(e.getMessage().contains("this CPU supports at most"), e.getMessage());
      throw e;
    }
    try (CaiOrtSession sparse = opened;
        CaiOrtSession dense = CaiOrt.open(ENV, cai,
            CaiOrtOptions.builder().sdr(SdrMatMulRewriter.withMinSparsity(1.0)).build())) {
      // the operators infer their output shapes, so ONNX Runtime's optimizers see the shapes after them
      long[] inferred = ((TensorInfo) sparse.session().getOutputInfo().get("Y").getInfo()).getShape();
      assertArrayEquals(((TensorInfo) dense.session().getOutputInfo().get("Y").getInfo()).getShape(), inferred,
          name + ": inferred output shape");
      assertTrue(inferred[0] == -1 && Arrays.stream(inferred).skip(1).allMatch(d -> d > 0), Arrays.toString(inferred));
      float[] a = run(sparse.session(), x, shape);
      float[] b = run(dense.session(), x, shape);
      assertEquals(b.length, a.length, isa + " " + name + ": output size");
      int zeros = 0;
      for (int j = 0; j < a.length; j++) {
        assertEquals(b[j], a[j], 1e-4f * (1 + Math.abs(b[j])), isa + " " + name + ": element " + j);
        zeros += a[j] == 0f ? 1 : 0;
      }
      assertTrue(zeros < a.length, isa + " " + name + ": not all zeros");
    }
  }

  static float[] run(OrtSession s, float[] x, long[] shape) throws OrtException {
    try (OnnxTensor t = OnnxTensor.createTensor(ENV, FloatBuffer.wrap(x), shape);
        OrtSession.Result r = s.run(Map.of("X", t))) {
      FloatBuffer b = ((OnnxTensor) r.get(0)).getFloatBuffer();
      float[] y = new float[b.remaining()];
      b.get(y);
      return y;
    }
  }

  static float[] gaussian(SplittableRandom rnd, int n, double scale) {
    float[] v = new float[n];
    for (int i = 0; i < n; i++) {
      v[i] = (float) (rnd.nextGaussian() * scale);
    }
    return v;
  }

  /** X [batch, dims...] (batch symbolic) through {@code nodes} to Y. */
  static byte[] model(List<NodeProto> nodes, List<TensorProto> inits, long... dims) {
    TensorShapeProto.Builder shape = TensorShapeProto.newBuilder()
        .addDim(TensorShapeProto.Dimension.newBuilder().setDimParam("batch"));
    for (long d : dims) {
      shape.addDim(TensorShapeProto.Dimension.newBuilder().setDimValue(d));
    }
    GraphProto.Builder g = GraphProto.newBuilder().setName("folds")
        .addInput(ValueInfoProto.newBuilder().setName("X").setType(TypeProto.newBuilder().setTensorType(
            TypeProto.Tensor.newBuilder().setElemType(TensorProto.DataType.FLOAT_VALUE).setShape(shape))))
        .addOutput(ValueInfoProto.newBuilder().setName("Y").setType(TypeProto.newBuilder().setTensorType(
            TypeProto.Tensor.newBuilder().setElemType(TensorProto.DataType.FLOAT_VALUE))))
        .addAllInitializer(inits).addAllNode(nodes);
    return ModelProto.newBuilder().setIrVersion(8)
        .addOpsetImport(OperatorSetIdProto.newBuilder().setDomain("").setVersion(13))
        .setGraph(g).build().toByteArray();
  }
}
