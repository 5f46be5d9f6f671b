package dev.selfbyt.cortexsdr.converters.onnx;

import ai.onnx.proto.OnnxMl.AttributeProto;
import ai.onnx.proto.OnnxMl.NodeProto;

/** Attribute lookups on ONNX nodes, one place for the graph code of this package. */
final class OnnxAttributes {
  private OnnxAttributes() {}

  /** The int attribute {@code name} of {@code n}, or {@code dflt} when the node has none. */
  static long intAttr(NodeProto n, String name, long dflt) {
    for (AttributeProto a : n.getAttributeList()) {
      if (a.getName().equals(name)) {
        return a.getI();
      }
    }
    return dflt;
  }
}
