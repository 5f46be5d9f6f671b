package dev.selfbyt.cortexsdr.converters.onnx;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnx.proto.OnnxMl.AttributeProto;
import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import dev.selfbyt.cortexsdr.core.CompressionOptions;
import dev.selfbyt.cortexsdr.core.CortexSdr;
import dev.selfbyt.cortexsdr.core.Preset;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A GRU run chunk by chunk, its hidden state an output ({@code hn}) fed back as an input ({@code h0}). */
class StatefulStreamsTest {
  static final int IN = 16;
  static final int H = 64;

  @TempDir Path dir;

  static ModelProto gru() {
    int f = TensorProto.DataType.FLOAT_VALUE;
    GraphProto.Builder g = GraphProto.newBuilder().setName("gru")
        .addInput(RandomInputsTest.input("frame", f, 1, 1, IN))
        .addInput(RandomInputsTest.input("h0", f, 1, 1, H))
        .addOutput(RandomInputsTest.input("y", f, 1, 1, 1, H))
        .addOutput(RandomInputsTest.input("hn", f, 1, 1, H));
    g.addInitializer(TensorProto.newBuilder().setName("W").setDataType(f).addDims(1).addDims(3 * H).addDims(IN)
        .setRawData(OnnxTestModels.raw(OnnxTestModels.weights(3 * H * IN, 31))));
    g.addInitializer(TensorProto.newBuilder().setName("R").setDataType(f).addDims(1).addDims(3 * H).addDims(H)
        .setRawData(OnnxTestModels.raw(OnnxTestModels.weights(3 * H * H, 32))));
    g.addNode(NodeProto.newBuilder().setOpType("GRU").setName("gru").addInput("frame").addInput("W").addInput("R")
        .addInput("").addInput("").addInput("h0").addOutput("y").addOutput("hn")
        .addAttribute(AttributeProto.newBuilder().setName("hidden_size").setType(AttributeProto.AttributeType.INT)
            .setI(H)));
    return RandomInputsTest.model(g);
  }

  @Test
  void detectsCarriesAndChecksTheState() throws Exception {
    Path p = dir.resolve("gru.onnx");
    Files.write(p, gru().toByteArray());
    try (OnnxModelReader m = OnnxModelReader.open(p); ModelTrial t = new ModelTrial(p, 1)) {
      Map<String, String> state = StatefulStreams.detect(m);
      assertEquals(Map.of("hn", "h0"), state);
      ModelInputs inputs = ModelInputs.of(m);
      Map<String, OnnxCalibrator.Input> zeros = StatefulStreams.zeros(inputs, state, Map.of());
      List<Map<String, OnnxCalibrator.Input>> frames = RandomInputs.of(inputs.without(state.values()))
          .generate(3, null).samples();
      List<Map<String, OnnxCalibrator.Input>> steps = new ArrayList<>(frames);
      Map<String, OnnxCalibrator.Input> first = new java.util.HashMap<>(frames.get(0));
      first.putAll(zeros);
      steps.set(0, first);
      OutputCheck.Stream stream = new OutputCheck.Stream(steps, state);
      List<Map<String, OnnxCalibrator.Input>> unrolled = StatefulStreams.unroll(p, List.of(stream), t.session());
      assertEquals(3, unrolled.size());
      float[] hn0 = OrtRunner.run(ai.onnxruntime.OrtEnvironment.getEnvironment(), t.session(), unrolled.get(0))
          .get("hn");
      assertArrayEquals(hn0, unrolled.get(1).get("h0").fp32()); // the state carried to the next step
      assertTrue(hn0[0] != 0);

      Path cai = dir.resolve("gru.cai");
      CortexSdr.compress(m, cai, CompressionOptions.builder().preset(Preset.INT4).minLossyElements(1).build());
      OutputCheck.Report r = new OutputCheck(p, m, 1).check(cai, List.of(stream), "frames", 0.99, t);
      assertEquals(3, r.samples()); // every step of the stream compared
      assertTrue(r.outputs().get(0).mean() > 0.9 && r.outputs().get(0).mean() < 1, r.line());

      String bad = assertThrows(IllegalArgumentException.class,
          () -> StatefulStreams.checked(m, Map.of("hn", "nope"))).getMessage();
      assertTrue(bad.contains("no input 'nope'") && bad.contains("frame, h0"), bad);
    }
  }
}
