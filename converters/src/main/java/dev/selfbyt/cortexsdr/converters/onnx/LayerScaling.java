package dev.selfbyt.cortexsdr.converters.onnx;

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
 * Where the input is the output of a {@code Conv} (directly or through a {@code Relu}, each read
 * by nothing else), that convolution absorbs the inverse instead of a {@code Mul} ({@link
 * #producer}): its output channels and bias are multiplied by {@code 1/s}. The scales are then
 * powers of two, so the product is exact and a rounded producer keeps its codes (its block scales
 * are multiplied too). Inputs from non-homogeneous activations ({@code Clip}/ReLU6, HardSwish),
 * residual sums or graph inputs get the {@code Mul}.
 */
final class LayerScaling {
  private LayerScaling() {}

  /** The input-channel layout of {@code weight} in {@code node}, or null where scaling does not apply. */
  static FiberScaling.Layout layout(NodeProto node, String kind, TensorInfo weight) {
    switch (kind) {
      case "Conv" -> {
        int cg = (int) weight.shape()[1];
        int groups = (int) OnnxAttributes.intAttr(node, "group", 1);
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
        if (OnnxAttributes.intAttr(node, "transA", 0) != 0) {
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

  /**
   * A convolution that can absorb the inverse scales of {@code consumer}'s input: its weight
   * {@code [channels, ...]} and bias (null when it has none) are read by it alone.
   */
  record Producer(NodeProto node, String weight, String bias) {}

  /**
   * The producer of {@code consumer}'s first input that can absorb its inverse scales, or null: a
   * default-domain {@code Conv} whose output (or whose {@code Relu}'s output) only {@code
   * consumer} reads, with a float weight of {@code channels} output channels and a bias (if any)
   * of as many values, neither read by another node.
   */
  static Producer producer(GraphProto g, NodeProto consumer, java.util.Map<String, TensorInfo> infos, int channels) {
    java.util.Map<String, Integer> uses = new java.util.HashMap<>();
    java.util.Map<String, NodeProto> producers = new java.util.HashMap<>();
    for (NodeProto n : g.getNodeList()) {
      n.getInputList().forEach(i -> uses.merge(i, 1, Integer::sum));
      n.getOutputList().forEach(o -> producers.put(o, n));
    }
    java.util.Set<String> outputs = new java.util.HashSet<>();
    g.getOutputList().forEach(v -> outputs.add(v.getName()));
    String x = consumer.getInput(0);
    if (uses.getOrDefault(x, 0) != 1 || outputs.contains(x)) {
      return null;
    }
    NodeProto p = producers.get(x);
    if (p != null && p.getOpType().equals("Relu") && defaultDomain(p)) { // Relu(z) / s = Relu(z / s) for s > 0
      String z = p.getInput(0);
      if (uses.getOrDefault(z, 0) != 1 || outputs.contains(z)) {
        return null;
      }
      p = producers.get(z);
    }
    if (p == null || !p.getOpType().equals("Conv") || !defaultDomain(p) || p.getInputCount() < 2
        || p.getOutputCount() != 1) {
      return null;
    }
    TensorInfo w = infos.get(p.getInput(1));
    if (w == null || w.dtype() != dev.selfbyt.cortexsdr.core.tensor.DType.FLOAT32 || w.rank() < 3
        || w.shape()[0] != channels || uses.getOrDefault(w.name(), 0) != 1) {
      return null;
    }
    String bias = null;
    if (p.getInputCount() >= 3 && !p.getInput(2).isEmpty()) {
      TensorInfo b = infos.get(p.getInput(2));
      if (b == null || b.dtype() != dev.selfbyt.cortexsdr.core.tensor.DType.FLOAT32 || b.numel() != channels
          || uses.getOrDefault(b.name(), 0) != 1) {
        return null;
      }
      bias = b.name();
    }
    return new Producer(p, w.name(), bias);
  }

  /** {@code v} ({@code [channels, per]}) with each channel's values multiplied by {@code f[channel]}. */
  static float[] perChannel(float[] v, float[] f) {
    int per = v.length / f.length;
    float[] out = new float[v.length];
    for (int c = 0; c < f.length; c++) {
      for (int i = 0; i < per; i++) {
        out[c * per + i] = v[c * per + i] * f[c];
      }
    }
    return out;
  }

  private static boolean defaultDomain(NodeProto n) {
    return n.getDomain().isEmpty() || n.getDomain().equals("ai.onnx");
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
}
