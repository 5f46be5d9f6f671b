package dev.selfbyt.cortexsdr.converters.onnx;

import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import ai.onnx.proto.OnnxMl.TypeProto;
import ai.onnx.proto.OnnxMl.ValueInfoProto;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.selfbyt.cortexsdr.core.format.CaiException;
import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Int8 activations as a batch sees them: {@code DynamicQuantizeLinear} takes one range over the
 * whole input tensor, so in a batch each sample is rounded with the widest range any of them (or
 * the padding) brings. {@link #measure} finds each such activation's range over a set of samples;
 * {@link #apply} replaces each {@code DynamicQuantizeLinear} with a {@code QuantizeLinear} holding
 * that range, the widest a batch drawn from the samples can have. {@link Int8FastCalibrator}
 * measures every fidelity on the graph {@link #apply} gives.
 */
final class BatchRanges {
  private BatchRanges() {}

  /** The smallest and largest value of each {@code DynamicQuantizeLinear} input of {@code m} over the samples. */
  static Map<String, float[]> measure(ModelProto m, List<Map<String, OnnxCalibrator.Input>> samples, int threads,
      String location) throws IOException {
    List<String> inputs = new ArrayList<>();
    for (NodeProto n : m.getGraph().getNodeList()) {
      if (n.getOpType().equals("DynamicQuantizeLinear") && !inputs.contains(n.getInput(0))) {
        inputs.add(n.getInput(0));
      }
    }
    Map<String, float[]> ranges = new LinkedHashMap<>();
    if (inputs.isEmpty()) {
      return ranges;
    }
    GraphProto.Builder g = m.getGraph().toBuilder().clearOutput();
    for (String a : inputs) {
      g.addOutput(ValueInfoProto.newBuilder().setName(a)
          .setType(TypeProto.newBuilder().setTensorType(TypeProto.Tensor.newBuilder().setElemType(1))));
    }
    for (String a : inputs) {
      ranges.put(a, new float[] {0f, 0f}); // DynamicQuantizeLinear's range always holds 0
    }
    OrtEnvironment env = OrtEnvironments.get();
    try (OrtSession.SessionOptions o = new OrtSession.SessionOptions()) {
      o.setIntraOpNumThreads(threads);
      try (OrtSession s = env.createSession(m.toBuilder().setGraph(g).build().toByteArray(), o)) {
        for (Map<String, OnnxCalibrator.Input> sample : samples) {
          List<float[]> out = OnnxCalibrator.runOutputs(env, s, sample);
          for (int i = 0; i < out.size(); i++) {
            float[] r = ranges.get(inputs.get(i));
            for (float v : out.get(i)) {
              r[0] = Math.min(r[0], v);
              r[1] = Math.max(r[1], v);
            }
          }
        }
      }
    } catch (OrtException e) {
      throw new CaiException(location, null, "int8-fast calibration run failed: " + e.getMessage(), e);
    }
    return ranges;
  }

  /**
   * {@code m} with each {@code DynamicQuantizeLinear} whose input has a range replaced by a {@code
   * QuantizeLinear} with the scale and zero point {@code DynamicQuantizeLinear} would compute from
   * that range (ONNX's definition: uint8, the range widened to hold 0).
   */
  static ModelProto apply(ModelProto m, Map<String, float[]> ranges) {
    GraphProto.Builder g = m.getGraph().toBuilder().clearNode();
    for (NodeProto n : m.getGraph().getNodeList()) {
      float[] r = n.getOpType().equals("DynamicQuantizeLinear") ? ranges.get(n.getInput(0)) : null;
      if (r == null) {
        g.addNode(n);
        continue;
      }
      float lo = Math.min(0f, r[0]);
      float hi = Math.max(0f, r[1]);
      float scale = hi > lo ? (hi - lo) / 255f : 1f;
      int zero = (int) Math.max(0, Math.min(255, Math.rint(-lo / scale)));
      g.addInitializer(TensorProto.newBuilder().setName(n.getOutput(1)).setDataType(TensorProto.DataType.FLOAT_VALUE)
          .addFloatData(scale));
      g.addInitializer(TensorProto.newBuilder().setName(n.getOutput(2)).setDataType(TensorProto.DataType.UINT8_VALUE)
          .addInt32Data(zero));
      g.addNode(NodeProto.newBuilder().setName(n.getName()).setOpType("QuantizeLinear").addInput(n.getInput(0))
          .addInput(n.getOutput(1)).addInput(n.getOutput(2)).addOutput(n.getOutput(0)));
    }
    return m.toBuilder().setGraph(g).build();
  }

}
