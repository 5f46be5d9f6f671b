package dev.selfbyt.cortexsdr.converters.onnx;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.OperatorSetIdProto;
import ai.onnx.proto.OnnxMl.TensorShapeProto;
import ai.onnx.proto.OnnxMl.TypeProto;
import ai.onnx.proto.OnnxMl.ValueInfoProto;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import java.nio.FloatBuffer;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * In ONNX Runtime: a {@code DynamicQuantizeLinear} round trip rounds with the range of the tensor
 * it gets; with {@link BatchRanges#apply} it rounds with the range measured over all samples, as
 * in a batch holding the widest of them.
 */
class BatchRangesTest {
  /** X [1, 4] -> DynamicQuantizeLinear -> DequantizeLinear -> Y. */
  static ModelProto roundTrip() {
    TypeProto t = TypeProto.newBuilder().setTensorType(TypeProto.Tensor.newBuilder().setElemType(1)
        .setShape(TensorShapeProto.newBuilder()
            .addDim(TensorShapeProto.Dimension.newBuilder().setDimValue(1))
            .addDim(TensorShapeProto.Dimension.newBuilder().setDimValue(4)))).build();
    GraphProto g = GraphProto.newBuilder().setName("g")
        .addInput(ValueInfoProto.newBuilder().setName("X").setType(t))
        .addOutput(ValueInfoProto.newBuilder().setName("Y").setType(t))
        .addNode(NodeProto.newBuilder().setOpType("DynamicQuantizeLinear").setName("q").addInput("X")
            .addOutput("Xq").addOutput("Xs").addOutput("Xz"))
        .addNode(NodeProto.newBuilder().setOpType("DequantizeLinear").setName("dq").addInput("Xq").addInput("Xs")
            .addInput("Xz").addOutput("Y"))
        .build();
    return ModelProto.newBuilder().setIrVersion(8).addOpsetImport(OperatorSetIdProto.newBuilder().setVersion(13))
        .setGraph(g).build();
  }

  static float[] run(ModelProto m, float[] x) throws Exception {
    OrtEnvironment env = OrtEnvironment.getEnvironment();
    try (OrtSession s = env.createSession(m.toByteArray(), new OrtSession.SessionOptions());
        OnnxTensor in = OnnxTensor.createTensor(env, FloatBuffer.wrap(x), new long[] {1, x.length});
        OrtSession.Result r = s.run(Map.of("X", in))) {
      FloatBuffer b = ((OnnxTensor) r.get(0)).getFloatBuffer();
      float[] y = new float[b.remaining()];
      b.get(y);
      return y;
    }
  }

  @Test
  void theCalibrationRangeReplacesEachTensorsOwn() throws Exception {
    float[] x = {-0.5f, 0.1f, 0.3f, 0.5f};
    Map<String, OnnxCalibrator.Input> small = Map.of("X", OnnxCalibrator.Input.ofFloats(new long[] {1, 4}, x));
    Map<String, OnnxCalibrator.Input> wide = Map.of("X",
        OnnxCalibrator.Input.ofFloats(new long[] {1, 4}, new float[] {-2f, 0f, 1f, 6f}));
    Map<String, float[]> ranges = BatchRanges.measure(roundTrip(), List.of(small, wide), 1, "test");
    assertArrayEquals(new float[] {-2f, 6f}, ranges.get("X"));

    float[] alone = run(roundTrip(), x); // its own range [-0.5, 0.5]: steps of 1/255
    float[] batched = run(BatchRanges.apply(roundTrip(), ranges), x); // [-2, 6]: steps of 8/255
    float step = 8f / 255f;
    int zero = Math.round(2f / step);
    for (int i = 0; i < x.length; i++) {
      assertEquals(x[i], alone[i], 0.5f / 255f * 1.01f, "own range at " + i);
      float want = (Math.round(x[i] / step + zero) - zero) * step;
      assertEquals(want, batched[i], 1e-6f, "calibration range at " + i);
    }
  }
}
