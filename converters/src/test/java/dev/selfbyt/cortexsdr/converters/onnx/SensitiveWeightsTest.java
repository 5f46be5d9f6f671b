package dev.selfbyt.cortexsdr.converters.onnx;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.OperatorSetIdProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import dev.selfbyt.cortexsdr.core.CompressionOptions;
import dev.selfbyt.cortexsdr.core.Preset;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Each weight's damage rounded alone, and the policy that keeps the worst lossless: in {@code Y =
 * X A + X B} the branch whose weight carries most of the output (A, values 30 times B's) is the
 * one rounding hurts, whatever the weights are called.
 */
class SensitiveWeightsTest {
  @TempDir Path dir;

  static TensorProto scaled(String name, long seed, float scale) {
    float[] w = OnnxTestModels.weights(64 * 64, seed);
    for (int i = 0; i < w.length; i++) {
      w[i] *= scale;
    }
    return TensorProto.newBuilder().setName(name).setDataType(TensorProto.DataType.FLOAT_VALUE).addDims(64)
        .addDims(64).setRawData(OnnxTestModels.raw(w)).build();
  }

  @Test
  void theWeightCarryingTheOutputIsTheMostDamagingAndKeptWithinTheShare() throws Exception {
    GraphProto.Builder g = GraphProto.newBuilder().setName("two").addInput(OnnxTestModels.floatInput("X", 8, 64))
        .addOutput(OnnxTestModels.floatInput("Y", 8, 64));
    g.addInitializer(scaled("small_branch", 2, 1f / 30)); // listed first: the ranking is by effect, not order
    g.addInitializer(scaled("large_branch", 1, 1f));
    g.addNode(NodeProto.newBuilder().setOpType("MatMul").setName("a").addInput("X").addInput("large_branch")
        .addOutput("ya"));
    g.addNode(NodeProto.newBuilder().setOpType("MatMul").setName("b").addInput("X").addInput("small_branch")
        .addOutput("yb"));
    g.addNode(NodeProto.newBuilder().setOpType("Add").setName("sum").addInput("ya").addInput("yb").addOutput("Y"));
    ModelProto m = ModelProto.newBuilder().setIrVersion(8).addOpsetImport(OperatorSetIdProto.newBuilder()
        .setVersion(13)).setGraph(g).build();
    Path file = dir.resolve("two.onnx");
    Files.write(file, m.toByteArray());
    List<Map<String, OnnxCalibrator.Input>> samples = new ArrayList<>();
    SplittableRandom r = new SplittableRandom(7);
    for (int s = 0; s < 3; s++) {
      float[] x = new float[8 * 64];
      for (int i = 0; i < x.length; i++) {
        x[i] = (float) r.nextGaussian();
      }
      samples.add(Map.of("X", OnnxCalibrator.Input.ofFloats(new long[] {8, 64}, x)));
    }
    CompressionOptions int4 = CompressionOptions.builder().preset(Preset.INT4).build();
    try (OnnxModelReader onnx = OnnxModelReader.open(file)) {
      assertEquals(2, WeightSensitivity.plannedCodecs(onnx, int4).size());
      List<WeightSensitivity.Effect> effects = WeightSensitivity.measure(onnx,
          WeightSensitivity.roundedBy(onnx, WeightSensitivity.plannedCodecs(onnx, int4)), samples, 1);
      assertEquals(List.of("large_branch", "small_branch"), effects.stream().map(WeightSensitivity.Effect::tensor)
          .toList());
      assertTrue(effects.get(0).worst() < 0.9999 && effects.get(0).worst() < effects.get(1).worst(),
          effects.get(0).worst() + " vs " + effects.get(1).worst());
      // half the quantized values: room for one of the two, the most damaging
      assertEquals(List.of("large_branch"), SensitiveWeights.mostDamaging(onnx, int4, samples, 1, 0.5));
      assertEquals(List.of(), SensitiveWeights.mostDamaging(onnx, int4, samples, 1, 0.4));
    }
  }
}
