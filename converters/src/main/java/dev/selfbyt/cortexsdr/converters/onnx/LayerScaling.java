package dev.selfbyt.cortexsdr.converters.onnx;

import ai.onnx.proto.OnnxMl.AttributeProto;
import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import dev.selfbyt.cortexsdr.core.calibrate.FiberScaling;
import dev.selfbyt.cortexsdr.core.tensor.TensorInfo;

/**
 * Where activation-aware scaling ({@link FiberScaling}) applies beyond MatMul, and the graph edit
 * that undoes it: the node's data input is multiplied by the inverse scales ({@code Mul} placed
 * just before the node, the inverse an initializer stored lossless), so the graph computes the
 * same function before rounding.
 *
 * <ul>
 *   <li>{@code Conv} with more than one input channel per group: one scale per input channel,
 *       covering its {@code prod(kernel)} values of every fiber; the inverse has shape {@code [C,
 *       1, ...]} to broadcast over {@code [N, C, spatial...]}. Depthwise convolutions ({@code
 *       C/g = 1}) are skipped: a per-channel scale there multiplies whole fibers, which their
 *       per-fiber block scales absorb.
 *   <li>{@code Gemm} with {@code transA = 0}, {@code transB} or not: one scale per row of the
 *       reduction ({@code K}).
 *   <li>{@code LSTM}/{@code GRU}/{@code RNN}: the input weight {@code W} only (one scale per input
 *       feature, shared by the directions). The hidden state that {@code R} multiplies is computed
 *       inside the node and also leaves it as {@code Y}: there is no place to put its inverse.
 * </ul>
 *
 * A producer could absorb the inverse instead of a {@code Mul}; most of the inputs measured come
 * from non-homogeneous activations ({@code Clip}/ReLU6, HardSwish), so the {@code Mul} is the one
 * form that is always exact.
 */
final class LayerScaling {
  private LayerScaling() {}

  /** The input-channel layout of {@code weight} in {@code node}, or null where scaling does not apply. */
  static FiberScaling.Layout layout(NodeProto node, String kind, TensorInfo weight) {
    switch (kind) {
      case "Conv" -> {
        int cg = (int) weight.shape()[1];
        int groups = (int) intAttr(node, "group", 1);
        if (cg < 2) {
          return null;
        }
        int span = 1;
        for (int i = 2; i < weight.rank(); i++) {
          span *= (int) weight.shape()[i];
        }
        return new FiberScaling.Layout(cg * groups, span, cg);
      }
      case "Gemm" -> {
        if (intAttr(node, "transA", 0) != 0) {
          return null;
        }
        return new FiberScaling.Layout((int) weight.shape()[weight.reductionAxis()], 1, 0);
      }
      case "LSTM", "GRU", "RNN" -> {
        return node.getInput(1).equals(weight.name()) ? new FiberScaling.Layout((int) weight.shape()[2], 1, 0) : null;
      }
      default -> {
        return null;
      }
    }
  }

  /** The shape of the inverse scales: {@code [C, 1, ...]} for a convolution, {@code [C]} otherwise. */
  static long[] inverseShape(String kind, TensorInfo weight, FiberScaling.Layout layout) {
    if (!kind.equals("Conv")) {
      return new long[] {layout.channels()};
    }
    long[] dims = new long[weight.rank() - 1];
    java.util.Arrays.fill(dims, 1);
    dims[0] = layout.channels();
    return dims;
  }

  /**
   * {@code model} with {@code node}'s first input multiplied by the initializer {@code inverse}
   * (weight data stripped, filled in later like the weights) just before it.
   */
  static ModelProto withInputScaled(ModelProto model, NodeProto node, String inverse, long[] dims) {
    GraphProto g = model.getGraph();
    String scaled = CalibrationGraphs.uniqueName(g, node.getInput(0) + "_cortexsdr_scaled");
    GraphProto.Builder gb = g.toBuilder().clearNode();
    boolean found = false;
    for (NodeProto n : g.getNodeList()) {
      if (!found && n.equals(node)) {
        gb.addNode(NodeProto.newBuilder().setOpType("Mul").setName(scaled).addInput(node.getInput(0))
            .addInput(inverse).addOutput(scaled));
        gb.addNode(n.toBuilder().setInput(0, scaled));
        found = true;
      } else {
        gb.addNode(n);
      }
    }
    if (!found) {
      throw new IllegalStateException("node " + node.getName() + " (" + node.getOpType() + ") is not in the graph");
    }
    TensorProto.Builder t = TensorProto.newBuilder().setName(inverse).setDataType(TensorProto.DataType.FLOAT_VALUE);
    for (long d : dims) {
      t.addDims(d);
    }
    gb.addInitializer(t);
    return model.toBuilder().setGraph(gb).build();
  }

  private static long intAttr(NodeProto n, String name, long dflt) {
    for (AttributeProto a : n.getAttributeList()) {
      if (a.getName().equals(name)) {
        return a.getI();
      }
    }
    return dflt;
  }
}
