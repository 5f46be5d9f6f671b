package dev.selfbyt.cortexsdr.onnxops;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
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
import com.google.protobuf.ByteString;
import dev.selfbyt.cortexsdr.converters.onnx.OnnxModelReader;
import dev.selfbyt.cortexsdr.core.CompressionOptions;
import dev.selfbyt.cortexsdr.core.CortexSdr;
import dev.selfbyt.cortexsdr.core.Preset;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.io.TempDir;

/**
 * SDR-coded convolution kernels computed sparsely in ONNX Runtime: a {@code .cai} whose Conv
 * weights are SDR becomes {@code SdrConv} nodes under {@link CaiOrt}, and computes what ONNX
 * Runtime's own Conv computes on the decoded weights, for padding, strides, dilations, bias or none,
 * 8- and 4-bit values, batches, and sizes that leave partial tiles, on each instruction set's path.
 */
class SdrConvTest {
  @TempDir Path dir;
  static final OrtEnvironment ENV = OrtEnvironment.getEnvironment();

  /** One convolution to check: shapes and attributes. */
  record Case(int c, int o, int k, int h, int w, long[] pads, long[] strides, long[] dilations, boolean bias,
      int bits, int batch) {}

  @ParameterizedTest
  @ValueSource(strings = {"scalar", "avx2", "avx512", "auto"})
  void sdrConvComputesWhatOnnxRuntimesConvComputesOnTheDecodedWeights(String isa) throws Exception {
    Case[] cases = {
      new Case(32, 16, 3, 13, 13, new long[] {1, 1, 1, 1}, new long[] {1, 1}, new long[] {1, 1}, true, 8, 2),
      new Case(16, 32, 3, 17, 11, new long[] {0, 1, 2, 0}, new long[] {2, 1}, new long[] {2, 2}, false, 4, 3),
      new Case(64, 64, 1, 9, 7, new long[] {0, 0, 0, 0}, new long[] {1, 1}, new long[] {1, 1}, true, 4, 1),
      new Case(16, 40, 5, 28, 28, new long[] {2, 2, 2, 2}, new long[] {1, 1}, new long[] {1, 1}, true, 8, 5),
      new Case(16, 32, 3, 15, 16, new long[] {1, 1, 1, 1}, new long[] {2, 2}, new long[] {1, 1}, true, 4, 4),
      new Case(16, 36, 3, 19, 23, new long[] {3, 0, 1, 2}, new long[] {3, 2}, new long[] {1, 3}, true, 8, 2),
    };
    int i = 0;
    for (Case c : cases) {
      Path onnx = dir.resolve("conv" + i + ".onnx");
      Files.write(onnx, model(c, 1000 + i));
      Path cai = dir.resolve("conv" + i + ".cai");
      try (OnnxModelReader r = OnnxModelReader.open(onnx)) {
        CortexSdr.compress(r, cai, CompressionOptions.builder().preset(Preset.SDR).sparsity(0.9).bits(c.bits())
            .threads(2).build());
      }
      SdrMatMulRewriter always = SdrMatMulRewriter.withMinSparsity(0.0);
      CaiOrtSession opened;
      try {
        opened = CaiOrt.open(ENV, cai, CaiOrtOptions.builder().sdr(always).configEntry(SdrOps.ISA_CONFIG, isa).build());
      } catch (OrtException e) {
        Assumptions.assumeFalse(e.getMessage().contains("this CPU supports at most"), e.getMessage());
        throw e;
      }
      try (CaiOrtSession sparse = opened;
          CaiOrtSession dense = CaiOrt.open(ENV, cai,
              CaiOrtOptions.builder().sdr(SdrMatMulRewriter.withMinSparsity(1.0)).build())) {
        assertEquals(1, always.rewritten(), c + ": the Conv runs as SdrConv");
        assertTrue(sparse.forms().stream().anyMatch(f -> f.form().startsWith("SdrConv int" + c.bits())),
            sparse.forms().toString());
        float[] x = input(c, 7 + i);
        float[] a = run(sparse.session(), c, x);
        float[] b = run(dense.session(), c, x);
        assertEquals(b.length, a.length, c + ": output size");
        double err = 0;
        double norm = 0;
        for (int j = 0; j < a.length; j++) {
          err += (a[j] - b[j]) * (double) (a[j] - b[j]);
          norm += b[j] * (double) b[j];
        }
        assertTrue(norm > 0 && err / norm < 1e-10, isa + " " + c + ": relative squared error " + err / norm);
      }
      i++;
    }
  }

  /** Conv then Relu: the Relu is folded into SdrConv (attribute relu), the result stays the dense one. */
  @ParameterizedTest
  @ValueSource(strings = {"scalar", "auto"})
  void aFollowingReluIsFoldedIntoSdrConv(String isa) throws Exception {
    Case c = new Case(16, 32, 3, 15, 16, new long[] {1, 1, 1, 1}, new long[] {2, 2}, new long[] {1, 1}, true, 4, 3);
    Path onnx = dir.resolve("conv-relu.onnx");
    Files.write(onnx, model(c, 11, true));
    Path cai = dir.resolve("conv-relu.cai");
    try (OnnxModelReader r = OnnxModelReader.open(onnx)) {
      CortexSdr.compress(r, cai, CompressionOptions.builder().preset(Preset.SDR).sparsity(0.9).bits(4).build());
    }
    // the exported file keeps the Relu (a file may meet an older SdrConv that knows no relu attribute)
    Path exported = dir.resolve("conv-relu.sdr.onnx");
    CaiOrt.export(cai, exported, SdrMatMulRewriter.withMinSparsity(0.0));
    GraphProto g = ModelProto.parseFrom(Files.readAllBytes(exported)).getGraph();
    assertEquals(List.of("SdrConv", "Relu"), g.getNodeList().stream().map(NodeProto::getOpType).toList());
    // in a session CaiOrt folds it
    GraphProto.Builder folded = g.toBuilder();
    assertEquals(1, SdrFolds.fold(folded));
    assertEquals(List.of("SdrConv"), folded.getNodeList().stream().map(NodeProto::getOpType).toList());
    assertTrue(folded.getNode(0).getAttributeList().stream().anyMatch(a -> a.getName().equals("relu") && a.getI() == 1));
    assertEquals("Y", folded.getNode(0).getOutput(0));
    try (CaiOrtSession sparse = CaiOrt.open(ENV, cai, CaiOrtOptions.builder().sdr(SdrMatMulRewriter.withMinSparsity(0.0))
            .configEntry(SdrOps.ISA_CONFIG, isa).build());
        CaiOrtSession dense = CaiOrt.open(ENV, cai,
            CaiOrtOptions.builder().sdr(SdrMatMulRewriter.withMinSparsity(1.0)).build())) {
      float[] x = input(c, 3);
      float[] a = run(sparse.session(), c, x);
      float[] b = run(dense.session(), c, x);
      int zeros = 0;
      for (int j = 0; j < a.length; j++) {
        assertEquals(b[j], a[j], 1e-4f * (1 + Math.abs(b[j])), "element " + j);
        zeros += a[j] == 0f ? 1 : 0;
      }
      assertTrue(zeros > a.length / 10 && zeros < a.length, zeros + " zeros of " + a.length);
    }
  }

  @Test
  void anInputWithOtherChannelsIsAClearErrorNamingTheNode() throws Exception {
    Case c = new Case(32, 16, 3, 10, 10, new long[] {1, 1, 1, 1}, new long[] {1, 1}, new long[] {1, 1}, true, 8, 1);
    Path onnx = dir.resolve("conv.onnx");
    Files.write(onnx, model(c, 5));
    Path cai = dir.resolve("conv.cai");
    try (OnnxModelReader r = OnnxModelReader.open(onnx)) {
      CortexSdr.compress(r, cai, CompressionOptions.builder().preset(Preset.SDR).sparsity(0.9).build());
    }
    Path exported = dir.resolve("conv.sdr.onnx");
    CaiOrt.export(cai, exported, SdrMatMulRewriter.withMinSparsity(0.0));
    try (OrtSession.SessionOptions o = new OrtSession.SessionOptions()) {
      SdrOps.register(o);
      try (OrtSession s = ENV.createSession(exported.toString(), o)) {
        Case wrong = new Case(6, 16, 3, 10, 10, c.pads(), c.strides(), c.dilations(), true, 8, 1);
        OrtException e = assertThrows(OrtException.class, () -> run(s, wrong, input(wrong, 1)));
        assertTrue(e.getMessage().contains("SdrConv node 'conv_sdr'") && e.getMessage().contains("C * kh * kw = K = 288"),
            e.getMessage());
      }
    }
  }

  static float[] run(OrtSession s, Case c, float[] x) throws OrtException {
    try (OnnxTensor t = OnnxTensor.createTensor(ENV, FloatBuffer.wrap(x), new long[] {c.batch(), c.c(), c.h(), c.w()});
        OrtSession.Result r = s.run(Map.of("X", t))) {
      FloatBuffer b = ((OnnxTensor) r.get(0)).getFloatBuffer();
      float[] out = new float[b.remaining()];
      b.get(out);
      return out;
    }
  }

  static float[] input(Case c, long seed) {
    SplittableRandom rnd = new SplittableRandom(seed);
    float[] x = new float[c.batch() * c.c() * c.h() * c.w()];
    for (int i = 0; i < x.length; i++) {
      x[i] = (float) rnd.nextGaussian();
    }
    return x;
  }

  /**
   * X [batch, C, H, W] -> Conv(W, B) -> Y, with seeded weights (each at least the 4,096 values the
   * policy compresses lossy); C is left open so that a wrong input reaches the operator.
   */
  static byte[] model(Case c, long seed) {
    return model(c, seed, false);
  }

  /** As {@link #model(Case, long)}, with a Relu after the Conv when {@code relu}. */
  static byte[] model(Case c, long seed, boolean relu) {
    SplittableRandom rnd = new SplittableRandom(seed);
    float[] w = new float[c.o() * c.c() * c.k() * c.k()];
    for (int i = 0; i < w.length; i++) {
      w[i] = (float) (rnd.nextGaussian() * 0.1);
    }
    NodeProto.Builder conv = NodeProto.newBuilder().setOpType("Conv").setName("conv").addInput("X").addInput("W")
        .addOutput(relu ? "conv_out" : "Y")
        .addAttribute(ints("kernel_shape", c.k(), c.k())).addAttribute(ints("pads", c.pads()))
        .addAttribute(ints("strides", c.strides())).addAttribute(ints("dilations", c.dilations()));
    GraphProto.Builder g = GraphProto.newBuilder().setName("conv")
        .addInput(ValueInfoProto.newBuilder().setName("X").setType(TypeProto.newBuilder().setTensorType(
            TypeProto.Tensor.newBuilder().setElemType(TensorProto.DataType.FLOAT_VALUE).setShape(
                TensorShapeProto.newBuilder()
                    .addDim(TensorShapeProto.Dimension.newBuilder().setDimParam("batch"))
                    .addDim(TensorShapeProto.Dimension.newBuilder().setDimParam("channels"))
                    .addDim(TensorShapeProto.Dimension.newBuilder().setDimValue(c.h()))
                    .addDim(TensorShapeProto.Dimension.newBuilder().setDimValue(c.w()))))))
        .addOutput(ValueInfoProto.newBuilder().setName("Y").setType(TypeProto.newBuilder().setTensorType(
            TypeProto.Tensor.newBuilder().setElemType(TensorProto.DataType.FLOAT_VALUE))))
        .addInitializer(floats("W", w, c.o(), c.c(), c.k(), c.k()));
    if (c.bias()) {
      float[] b = new float[c.o()];
      for (int i = 0; i < b.length; i++) {
        b[i] = (float) rnd.nextGaussian();
      }
      g.addInitializer(floats("B", b, c.o()));
      conv.addInput("B");
    }
    g.addNode(conv);
    if (relu) {
      g.addNode(NodeProto.newBuilder().setOpType("Relu").setName("relu").addInput("conv_out").addOutput("Y"));
    }
    return ModelProto.newBuilder().setIrVersion(8)
        .addOpsetImport(OperatorSetIdProto.newBuilder().setDomain("").setVersion(13))
        .setGraph(g).build().toByteArray();
  }

  static AttributeProto ints(String name, long... v) {
    AttributeProto.Builder a = AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.INTS);
    for (long x : v) {
      a.addInts(x);
    }
    return a.build();
  }

  static TensorProto floats(String name, float[] v, long... dims) {
    ByteBuffer b = ByteBuffer.allocate(v.length * 4).order(ByteOrder.LITTLE_ENDIAN);
    b.asFloatBuffer().put(v);
    TensorProto.Builder t = TensorProto.newBuilder().setName(name).setDataType(TensorProto.DataType.FLOAT_VALUE)
        .setRawData(ByteString.copyFrom(b.array()));
    for (long d : dims) {
      t.addDims(d);
    }
    return t.build();
  }
}
