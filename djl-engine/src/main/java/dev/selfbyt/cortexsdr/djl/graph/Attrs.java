package dev.selfbyt.cortexsdr.djl.graph;

import ai.onnx.proto.OnnxMl.AttributeProto;
import ai.onnx.proto.OnnxMl.NodeProto;

/** A node's attributes by name, with defaults. */
final class Attrs {
  private final NodeProto node;

  Attrs(NodeProto node) {
    this.node = node;
  }

  AttributeProto get(String name) {
    for (AttributeProto a : node.getAttributeList()) {
      if (a.getName().equals(name)) {
        return a;
      }
    }
    return null;
  }

  long i(String name, long dflt) {
    AttributeProto a = get(name);
    return a == null ? dflt : a.getI();
  }

  float f(String name, float dflt) {
    AttributeProto a = get(name);
    return a == null ? dflt : a.getF();
  }

  String s(String name, String dflt) {
    AttributeProto a = get(name);
    return a == null ? dflt : a.getS().toStringUtf8();
  }

  long[] ints(String name) {
    AttributeProto a = get(name);
    if (a == null) {
      return null;
    }
    long[] v = new long[a.getIntsCount()];
    for (int k = 0; k < v.length; k++) {
      v[k] = a.getInts(k);
    }
    return v;
  }
}
