package dev.selfbyt.cortexsdr.converters.onnx;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnx.proto.OnnxMl.AttributeProto;
import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.OperatorSetIdProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import dev.selfbyt.cortexsdr.core.CompressionOptions;
import dev.selfbyt.cortexsdr.core.CortexSdr;
import dev.selfbyt.cortexsdr.core.Preset;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The output check on a model built to be broken by int8 rounding: its output is the small
 * difference of two products with nearly equal weights ({@code X W1 - X W2}, {@code W1 = W2 + D},
 * D a hundred times finer than int8's step), so rounding W1 destroys it. W2 is kept exact, and a
 * third weight W3 with a heavy tail (a weight error like W1's) feeds the output weakly: the check
 * must name W1, not W3, as the damaging tensor.
 */
class OutputCheckTest {
  static final int K = 128;
  static final int N = 64;
  static final int ROWS = 4;

  @TempDir Path dir;

  static ModelProto sensitive() {
    SplittableRandom r = new SplittableRandom(3);
    float[] w2 = new float[K * N];
    float[] w1 = new float[K * N];
    float[] w3 = new float[K * N];
    for (int i = 0; i < w2.length; i++) {
      w2[i] = (float) r.nextGaussian();
      w1[i] = w2[i] + (float) (r.nextGaussian() * 1e-4);
      w3[i] = (float) (r.nextGaussian() * (i % 32 == 0 ? 100 : 0.01)); // one outlier per block of 32
    }
    GraphProto.Builder g = GraphProto.newBuilder().setName("sensitive")
        .addInput(OnnxTestModels.floatInput("X", ROWS, K))
        .addOutput(OnnxTestModels.floatInput("Y", ROWS, N));
    for (var e : List.of(java.util.Map.entry("W1", w1), java.util.Map.entry("W2", w2), java.util.Map.entry("W3", w3))) {
      g.addInitializer(TensorProto.newBuilder().setName(e.getKey()).setDataType(TensorProto.DataType.FLOAT_VALUE)
          .addDims(K).addDims(N).setRawData(OnnxTestModels.raw(e.getValue())));
    }
    g.addNode(NodeProto.newBuilder().setOpType("MatMul").addInput("X").addInput("W1").addOutput("A").setName("a"));
    g.addNode(NodeProto.newBuilder().setOpType("MatMul").addInput("X").addInput("W2").addOutput("B").setName("b"));
    g.addNode(NodeProto.newBuilder().setOpType("MatMul").addInput("X").addInput("W3").addOutput("C").setName("c"));
    g.addNode(NodeProto.newBuilder().setOpType("Sub").addInput("A").addInput("B").addOutput("D").setName("d"));
    g.addNode(NodeProto.newBuilder().setOpType("Constant").addOutput("k").setName("k")
        .addAttribute(AttributeProto.newBuilder().setName("value_float").setType(AttributeProto.AttributeType.FLOAT)
            .setF(1e-5f)));
    g.addNode(NodeProto.newBuilder().setOpType("Mul").addInput("C").addInput("k").addOutput("E").setName("e"));
    g.addNode(NodeProto.newBuilder().setOpType("Add").addInput("D").addInput("E").addOutput("Y").setName("y"));
    return ModelProto.newBuilder().setIrVersion(8).setProducerName("cortexsdr-test")
        .addOpsetImport(OperatorSetIdProto.newBuilder().setVersion(13)).setGraph(g).build();
  }

  @Test
  void namesTheWeightThatBreaksTheOutput() throws Exception {
    Path model = dir.resolve("sensitive.onnx");
    Files.write(model, sensitive().toByteArray());
    Path cai = dir.resolve("sensitive.cai");
    try (OnnxModelReader src = OnnxModelReader.open(model)) {
      CortexSdr.compress(src, cai, CompressionOptions.builder().preset(Preset.INT8).protect("W2").build());
      RandomInputs.Result random = RandomInputs.of(ModelInputs.of(src)).generate(4, null);
      OutputCheck.Report r = new OutputCheck(model, src, 1).check(cai,
          random.samples().stream().map(OutputCheck.Stream::of).toList(), random.description(), 0.999);
      assertFalse(r.passed(), r.line());
      assertTrue(r.outputs().get(0).mean() < 0.9, r.line());
      assertEquals("W1", r.worst().get(0).tensor(), r.worst().toString());
      assertTrue(r.worst().get(0).restoredCosine() > 0.999, r.worst().toString()); // W1 alone explains it
      OutputCheck.Damage w3 = r.worst().stream().filter(d -> d.tensor().equals("W3")).findFirst().orElseThrow();
      assertTrue(w3.gain() < 0.01, "restoring W3 does not help: " + w3);
      assertTrue(r.toMap().containsKey("worstTensors"));
    }
  }

  @Test
  void aModelInt8KeepsPasses() throws Exception {
    Path model = dir.resolve("mlp.onnx");
    Files.write(model, OnnxCalibratorTest.mlp().toByteArray());
    Path cai = dir.resolve("mlp.cai");
    try (OnnxModelReader src = OnnxModelReader.open(model)) {
      CortexSdr.compress(src, cai, CompressionOptions.builder().preset(Preset.INT8).build());
      RandomInputs.Result random = RandomInputs.of(ModelInputs.of(src)).generate(3, null);
      OutputCheck.Report r = new OutputCheck(model, src, 1).check(cai,
          random.samples().stream().map(OutputCheck.Stream::of).toList(), random.description(), 0.999);
      assertTrue(r.passed(), r.line());
      assertEquals(3, r.samples());
      assertEquals("Y", r.outputs().get(0).output());
      assertTrue(r.outputs().get(0).min() > 0.999, r.line());
      assertTrue(r.worst().isEmpty());
    }
  }
}
