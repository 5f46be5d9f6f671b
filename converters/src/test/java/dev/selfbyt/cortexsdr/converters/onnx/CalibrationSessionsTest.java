package dev.selfbyt.cortexsdr.converters.onnx;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.OperatorSetIdProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import dev.selfbyt.cortexsdr.core.codec.QuantCodec;
import dev.selfbyt.cortexsdr.core.tensor.TensorInfo;
import dev.selfbyt.cortexsdr.core.tensor.TensorSource;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The faster calibration runs give what the whole-model runs gave: measuring a weight from its
 * node onwards on cached activations ({@link SuffixRuns}) measures the same effects, and GPTQ's
 * statistics from small sessions with the weights fed ({@link GroupGrams}) round to the same codes.
 */
class CalibrationSessionsTest {
  static final int K = OnnxCalibratorTest.K;
  static final int H = OnnxCalibratorTest.H;
  static final int N = OnnxCalibratorTest.N;

  @TempDir Path dir;

  /**
   * Y = relu(X W1) W2 + X W3: the downstream part of W2 reads two activations computed upstream
   * of it ({@code R} and the skip branch {@code C}), that of W1 one ({@code C}).
   */
  static ModelProto withSkip() {
    GraphProto.Builder g = OnnxCalibratorTest.mlp().getGraph().toBuilder().clearNode();
    g.addInitializer(TensorProto.newBuilder().setName("W3").setDataType(TensorProto.DataType.FLOAT_VALUE)
        .addDims(K).addDims(N).setRawData(OnnxTestModels.raw(OnnxTestModels.weights(K * N, 13))));
    g.addNode(NodeProto.newBuilder().setOpType("MatMul").addInput("X").addInput("W1").addOutput("A").setName("mm1"));
    g.addNode(NodeProto.newBuilder().setOpType("MatMul").addInput("X").addInput("W3").addOutput("C").setName("mm3"));
    g.addNode(NodeProto.newBuilder().setOpType("Relu").addInput("A").addOutput("R").setName("relu"));
    g.addNode(NodeProto.newBuilder().setOpType("MatMul").addInput("R").addInput("W2").addOutput("B").setName("mm2"));
    g.addNode(NodeProto.newBuilder().setOpType("Add").addInput("B").addInput("C").addOutput("Y").setName("add"));
    return ModelProto.newBuilder().setIrVersion(8).setProducerName("cortexsdr-test")
        .addOpsetImport(OperatorSetIdProto.newBuilder().setVersion(13)).setGraph(g).build();
  }

  @Test
  void measuringFromTheWeightOnwardsGivesTheWholeModelsEffects() throws Exception {
    Path model = dir.resolve("skip.onnx");
    OnnxExporter.write(withSkip(), model);
    List<Map<String, OnnxCalibrator.Input>> samples = OnnxCalibratorTest.samples(6, 5);
    List<QuantCodec> codecs = MixedPrecision.candidates(32, false);
    try (OnnxModelReader onnx = OnnxModelReader.open(model)) {
      List<String> weights = List.of("W1", "W3", "W2");
      List<BitAllocator.Effect> whole = new BitAllocator(onnx, codecs, 2).suffixRuns(false).measure(weights, samples, 2);
      List<BitAllocator.Effect> suffix = new BitAllocator(onnx, codecs, 2).measure(weights, samples, 2);
      assertEquals(whole.size(), suffix.size());
      for (int i = 0; i < whole.size(); i++) {
        BitAllocator.Effect a = whole.get(i);
        BitAllocator.Effect b = suffix.get(i);
        assertEquals(a.tensor() + a.codec(), b.tensor() + b.codec());
        assertEquals(a.bytes(), b.bytes());
        assertTrue(a.distortion() > 0, a.tensor() + " " + a.codec() + " moves the output");
        for (int s = 0; s < a.perSample().length; s++) {
          assertEquals(a.perSample()[s], b.perSample()[s], 1e-6 * a.perSample()[s] + 1e-12,
              a.tensor() + " " + a.codec() + " sample " + s);
        }
      }
    }
  }

  @Test
  void gptqFromSmallSessionsRoundsAsTheFilledModelDid() throws Exception {
    Path model = dir.resolve("skip.onnx");
    OnnxExporter.write(withSkip(), model);
    List<Map<String, OnnxCalibrator.Input>> calib = OnnxCalibratorTest.samples(16, 3);
    QuantCodec int4 = QuantCodec.blockwise(4, false, 32);
    try (OnnxModelReader onnx = OnnxModelReader.open(model)) {
      TensorSource before = new OnnxCalibrator(onnx, int4, 0.01, 2).smallSessions(false).calibrate(calib);
      TensorSource after = new OnnxCalibrator(onnx, int4, 0.01, 2).calibrate(calib);
      for (TensorInfo t : onnx.tensors()) {
        float[] a = before.read(t).floats();
        float[] b = after.read(t).floats();
        int same = 0;
        for (int i = 0; i < a.length; i++) {
          same += Math.abs(a[i] - b[i]) <= 1e-6f * Math.max(1, Math.abs(a[i])) ? 1 : 0;
        }
        // the sums differ only in the order ONNX Runtime adds them: at most a rare rounding tie flips
        assertTrue(same >= a.length * 0.995, t.name() + ": " + same + " of " + a.length + " values agree");
      }
    }
  }
}
