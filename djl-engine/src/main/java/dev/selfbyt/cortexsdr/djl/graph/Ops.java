package dev.selfbyt.cortexsdr.djl.graph;

import ai.onnx.proto.OnnxMl.NodeProto;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * The registry of the ONNX operators the executor knows, each compiled once per node into an
 * {@link Op} with its attributes read. The operators live by family: {@link ElementwiseOps},
 * {@link ShapeOps}, {@link LayoutOps}, {@link NormOps}, {@link ReduceOps}, {@link ProductOps},
 * {@link ConvOps}, {@link PoolOps}, {@link ResizeOps}, {@link RecurrentOps}; each registers its
 * own. Semantics follow the ONNX operator spec at the model's opset (Softmax before opset 13 flattens from its axis; Unsqueeze, Squeeze and
 * Slice read attributes or inputs by opset). MatMul, Gemm, Conv, ConvTranspose and the input
 * projection of LSTM and GRU compute on quantized or sparse weights directly; Gather reads rows of
 * a quantized table without decoding the rest.
 */
public final class Ops {
  /** One compiled node: inputs in, outputs out (missing optional inputs are null). */
  @FunctionalInterface
  public interface Op {
    Value[] run(Value[] in);
  }

  /** Compiles one node of an operator type: its attributes read once, the {@link Op} returned. */
  @FunctionalInterface
  interface Factory {
    Op create(Attrs a, NodeProto node, int opset);
  }

  private static final Map<String, Factory> OPS = new TreeMap<>();

  static {
    ElementwiseOps.register(OPS);
    ShapeOps.register(OPS);
    NormOps.register(OPS);
    ProductOps.register(OPS);
    ConvOps.register(OPS);
    PoolOps.register(OPS);
    ResizeOps.register(OPS);
    RecurrentOps.register(OPS);
    ReduceOps.register(OPS);
    LayoutOps.register(OPS);
  }

  private Ops() {}

  /** The operator types this executor runs (plus {@code Constant}, which is read at load time). */
  public static Set<String> supported() {
    TreeSet<String> s = new TreeSet<>(OPS.keySet());
    s.add("Constant");
    return s;
  }

  /**
   * How many leading inputs a standard node of {@code opType} must have named (ONNX leaves later
   * ones optional, an empty name omitting one): two for binary and comparison operators, MatMul,
   * Gather and the like, more for Where, BatchNormalization and the input forms of Reshape and
   * Slice, one otherwise.
   */
  static int requiredInputs(String opType, int opset) {
    return switch (opType) {
      case "Add", "Sub", "Mul", "Div", "Pow", "Equal", "Greater", "GreaterOrEqual", "Less", "LessOrEqual", "MatMul",
          "Gather", "GatherElements", "Expand", "LayerNormalization", "Conv", "Gemm", "ConvTranspose", "PRelu", "Tile" -> 2;
      case "InstanceNormalization" -> 3;
      case "Where", "LSTM", "GRU" -> 3;
      case "BatchNormalization" -> 5;
      case "Reshape" -> opset >= 5 ? 2 : 1;
      case "Slice" -> opset >= 10 ? 3 : 1;
      default -> 1;
    };
  }

  static boolean supports(NodeProto n) {
    return (n.getDomain().isEmpty() || n.getDomain().equals("ai.onnx"))
        && (OPS.containsKey(n.getOpType()) || n.getOpType().equals("Constant"));
  }

  static Op compile(NodeProto n, int opset) {
    if (n.getDomain().equals(Fusion.DOMAIN)) {
      return FusedOps.compile(n, opset);
    }
    Factory f = OPS.get(n.getOpType());
    if (f == null) {
      throw new IllegalArgumentException("no operator " + n.getOpType());
    }
    return f.create(new Attrs(n), n, opset);
  }

  static Value[] one(Value v) {
    return new Value[] {v};
  }
}
