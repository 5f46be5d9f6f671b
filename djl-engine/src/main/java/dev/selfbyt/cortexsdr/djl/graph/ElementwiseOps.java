package dev.selfbyt.cortexsdr.djl.graph;

import ai.onnx.proto.OnnxMl.NodeProto;
import java.util.Map;

/**
 * Element-wise operators as graph nodes: the arithmetic, comparisons and activations of {@link
 * Arith} (broadcast), Where, Clip and Identity.
 */
final class ElementwiseOps {
  private ElementwiseOps() {}

  static void register(Map<String, Ops.Factory> ops) {
    for (String name : new String[] {"Add", "Sub", "Mul", "Div", "Pow", "Max", "Min"}) {
      int code = Arith.code(name);
      ops.put(name, (a, n, o) -> in -> Ops.one(Arith.binary(code, in[0], in[1])));
    }
    for (String name : new String[] {"Sqrt", "Erf", "Relu", "Tanh", "Sigmoid", "Neg", "Exp", "Log", "Abs",
        "Reciprocal"}) {
      int code = Arith.unaryCode(name);
      ops.put(name, (a, n, o) -> in -> Ops.one(Arith.unary(code, in[0])));
    }
    ops.put("Identity", (a, n, o) -> in -> Ops.one(in[0]));
    for (String name : new String[] {"Equal", "Greater", "GreaterOrEqual", "Less", "LessOrEqual"}) {
      int code = Arith.compareCode(name);
      ops.put(name, (a, n, o) -> in -> Ops.one(Arith.compare(code, in[0], in[1])));
    }
    ops.put("Where", (a, n, o) -> in -> Ops.one(Arith.where(in[0], in[1], in[2])));
    ops.put("Clip", ElementwiseOps::clip);
  }

  private static Ops.Op clip(Attrs a, NodeProto n, int opset) {
    float lo = a.f("min", Float.NEGATIVE_INFINITY);
    float hi = a.f("max", Float.POSITIVE_INFINITY);
    return in -> {
      float mn = opset >= 11 && in.length > 1 && in[1] != null ? in[1].floats()[0] : lo;
      float mx = opset >= 11 && in.length > 2 && in[2] != null ? in[2].floats()[0] : hi;
      float[] src = in[0].floats();
      float[] dst = new float[src.length];
      for (int i = 0; i < src.length; i++) {
        dst[i] = Math.min(mx, Math.max(mn, src[i]));
      }
      return Ops.one(Value.ofFloats(in[0].shapeRef(), dst));
    };
  }}
