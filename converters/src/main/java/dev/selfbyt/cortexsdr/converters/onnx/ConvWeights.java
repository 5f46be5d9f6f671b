package dev.selfbyt.cortexsdr.converters.onnx;

import ai.onnx.proto.OnnxMl.AttributeProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Convolution weights by structure, for choices a policy makes per kind of convolution: a
 * depthwise kernel ({@code group > 1}, one input channel per filter: {@code [C * m, 1, k...]}) has
 * fibers of only {@code prod(k)} values, each an output channel of its own, so it is small and
 * sensitive, and its 8-bit form costs little (see docs/benchmarks.md, "Convolutions and recurrent
 * models").
 */
public final class ConvWeights {
  private ConvWeights() {}

  /** The weights of {@code model}'s main-graph depthwise {@code Conv} nodes, in graph order. */
  public static List<String> depthwise(OnnxModelReader model) {
    Set<String> weights = model.tensors().stream().map(t -> t.name()).collect(Collectors.toSet());
    List<String> out = new ArrayList<>();
    for (NodeProto n : model.strippedModel().getGraph().getNodeList()) {
      if (n.getOpType().equals("Conv") && n.getInputCount() >= 2 && weights.contains(n.getInput(1))
          && group(n) > 1 && model.tensors().stream().anyMatch(t -> t.name().equals(n.getInput(1))
              && t.rank() >= 3 && t.shape()[1] == 1)) {
        out.add(n.getInput(1));
      }
    }
    return out;
  }

  private static long group(NodeProto n) {
    for (AttributeProto a : n.getAttributeList()) {
      if (a.getName().equals("group")) {
        return a.getI();
      }
    }
    return 1;
  }
}
