package dev.selfbyt.cortexsdr.converters.onnx;

import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.TensorShapeProto;
import ai.onnx.proto.OnnxMl.TypeProto;
import ai.onnx.proto.OnnxMl.ValueInfoProto;
import java.io.IOException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Graph edits that make calibration sessions small: a graph cut to the nodes one tensor depends on
 * ({@link #upTo}), and a stripped graph whose large weights become graph inputs while the others
 * are filled in ({@link #fed}). A session of such a graph is made in a fraction of the time of one
 * holding every weight (no copy of the weights into the model, none into ONNX Runtime), and one
 * set of weight tensors serves every session.
 */
final class FedGraphs {
  private FedGraphs() {}

  /** Whether some node of the graph has a subgraph (If, Loop, Scan): its outer-scope reads are not node inputs. */
  static boolean hasSubgraphs(GraphProto g) {
    for (NodeProto n : g.getNodeList()) {
      if (n.getAttributeList().stream().anyMatch(a -> a.hasG() || a.getGraphsCount() > 0)) {
        return true;
      }
    }
    return false;
  }

  /**
   * The graph with only the nodes that {@code targets} depend on (in their order), and the
   * initializers they read; unchanged when it has subgraphs. Graph inputs and outputs stay.
   */
  static GraphProto upTo(GraphProto g, Set<String> targets) {
    if (hasSubgraphs(g)) {
      return g;
    }
    Set<String> needed = new HashSet<>(targets);
    boolean[] keep = new boolean[g.getNodeCount()];
    for (int i = g.getNodeCount() - 1; i >= 0; i--) {
      NodeProto n = g.getNode(i);
      if (n.getOutputList().stream().anyMatch(needed::contains)) {
        keep[i] = true;
        needed.addAll(n.getInputList());
      }
    }
    GraphProto.Builder b = g.toBuilder().clearNode().clearInitializer();
    for (int i = 0; i < keep.length; i++) {
      if (keep[i]) {
        b.addNode(g.getNode(i));
      }
    }
    g.getInitializerList().stream().filter(t -> needed.contains(t.getName())).forEach(b::addInitializer);
    // initializers listed as graph inputs (old-style models) that are gone: no longer inputs either
    b.clearInput();
    g.getInputList().stream().filter(v -> needed.contains(v.getName()) || g.getInitializerList().stream()
        .noneMatch(t -> t.getName().equals(v.getName()))).forEach(b::addInput);
    return b.build();
  }

  /**
   * A stripped model filled in, but for the tensors of {@code shapes} that its nodes read: those
   * become float graph inputs of the given shapes (their initializers or {@code Constant} nodes
   * removed). {@code values} gives the other weights' bytes (null leaves a tensor as it is).
   */
  static ModelProto fed(ModelProto stripped, Map<String, long[]> shapes, OnnxExporter.WeightData values)
      throws IOException {
    Set<String> read = new HashSet<>();
    for (NodeProto n : stripped.getGraph().getNodeList()) {
      read.addAll(n.getInputList());
    }
    Set<String> fed = new HashSet<>(shapes.keySet());
    fed.retainAll(read);
    ModelProto full = OnnxExporter.withWeights(stripped, name -> fed.contains(name) ? null : values.get(name));
    GraphProto g = full.getGraph();
    GraphProto.Builder gb = g.toBuilder().clearInitializer().clearNode();
    g.getInitializerList().stream().filter(t -> !fed.contains(t.getName())).forEach(gb::addInitializer);
    for (NodeProto n : g.getNodeList()) {
      boolean fedConstant = n.getOpType().equals("Constant") && n.getOutputCount() == 1 && fed.contains(n.getOutput(0));
      if (!fedConstant) {
        gb.addNode(n);
      }
    }
    List<ValueInfoProto> inputs = new ArrayList<>(g.getInputList());
    inputs.removeIf(v -> fed.contains(v.getName())); // old-style models list initializers as inputs
    gb.clearInput().addAllInput(inputs);
    for (String w : shapes.keySet()) { // in the caller's order: the same graph for the same call
      if (!fed.contains(w)) {
        continue;
      }
      TensorShapeProto.Builder shape = TensorShapeProto.newBuilder();
      for (long d : shapes.get(w)) {
        shape.addDim(TensorShapeProto.Dimension.newBuilder().setDimValue(d));
      }
      gb.addInput(ValueInfoProto.newBuilder().setName(w).setType(TypeProto.newBuilder()
          .setTensorType(TypeProto.Tensor.newBuilder().setElemType(1).setShape(shape))));
    }
    return full.toBuilder().setGraph(gb).build();
  }
}
