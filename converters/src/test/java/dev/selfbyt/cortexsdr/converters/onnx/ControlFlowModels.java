package dev.selfbyt.cortexsdr.converters.onnx;

import static dev.selfbyt.cortexsdr.converters.onnx.OnnxTestModels.floatInput;
import static dev.selfbyt.cortexsdr.converters.onnx.OnnxTestModels.raw;
import static dev.selfbyt.cortexsdr.converters.onnx.OnnxTestModels.weights;

import ai.onnx.proto.OnnxMl.AttributeProto;
import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.OperatorSetIdProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import ai.onnx.proto.OnnxMl.TypeProto;
import ai.onnx.proto.OnnxMl.ValueInfoProto;

/**
 * ONNX models with weights inside control-flow subgraphs, built with the ONNX protobuf classes
 * (seeded weights): an {@code If} whose branches hold MatMul weights, a {@code Loop} whose body
 * holds one and an {@code If} nested in it, a {@code Scan} cell, and {@code LSTM}/{@code GRU}
 * nodes.
 */
final class ControlFlowModels {
  private ControlFlowModels() {}

  /** Name of the main-graph weight that takes the path a then-branch weight would be stored by. */
  static final String COLLIDING = "If_0/then_branch/W";

  /**
   * Y = If(C, then: (X W_t + B_t), else: (X W_e) W2_e) V, all of size {@code n}: X [1, n], C a
   * bool scalar. Both branches hold an initializer named {@code W} (the then branch's is stored as
   * {@code If_0/then_branch/W~2}, since a main-graph weight V is named {@value #COLLIDING}); the
   * else branch also holds W2 as a {@code Constant} node and reads the main-graph weight U (so U's
   * role comes from inside the branch).
   */
  static ModelProto ifBranches(int n) {
    GraphProto.Builder then = GraphProto.newBuilder().setName("then")
        .addOutput(floatInput("then_out", 1, n))
        .addInitializer(floats("W", 11, n, n))
        .addInitializer(floats("B", 12, n))
        .addNode(node("MatMul", "then_mm", "X", "W").addOutput("t1"))
        .addNode(node("Add", "then_add", "t1", "B").addOutput("then_out"));
    GraphProto.Builder other = GraphProto.newBuilder().setName("else")
        .addOutput(floatInput("else_out", 1, n))
        .addInitializer(floats("W", 13, n, n))
        .addNode(constant("W2", floats("", 14, n, n)))
        .addNode(node("MatMul", "else_mm", "X", "W").addOutput("e1"))
        .addNode(node("MatMul", "else_mm2", "e1", "W2").addOutput("e2"))
        .addNode(node("MatMul", "else_mm3", "e2", "U").addOutput("else_out"));
    GraphProto.Builder g = GraphProto.newBuilder().setName("if_branches")
        .addInput(floatInput("X", 1, n))
        .addInput(boolInput("C"))
        .addOutput(floatInput("Y", 1, n))
        .addInitializer(floats("U", 15, n, n))
        .addInitializer(floats(COLLIDING, 16, n, n))
        .addNode(node("If", "If_0", "C").addOutput("H")
            .addAttribute(graph("then_branch", then)).addAttribute(graph("else_branch", other)))
        .addNode(node("MatMul", "out_mm", "H", COLLIDING).addOutput("Y"));
    return model(g, 13);
  }

  /**
   * A Loop of {@code M} steps over state h [1, n]: h = tanh(h Wl), then h = If(C, h Wt, h We)
   * with Wt and We as {@code Constant} nodes in the nested branches (depth 2).
   */
  static ModelProto loopWithNestedIf(int n) {
    GraphProto.Builder then = GraphProto.newBuilder().setName("inner_then")
        .addOutput(floatInput("it_out", 1, n))
        .addNode(constant("Wt", floats("", 21, n, n)))
        .addNode(node("MatMul", "it_mm", "h1", "Wt").addOutput("it_out"));
    GraphProto.Builder other = GraphProto.newBuilder().setName("inner_else")
        .addOutput(floatInput("ie_out", 1, n))
        .addNode(constant("We", floats("", 22, n, n)))
        .addNode(node("MatMul", "ie_mm", "h1", "We").addOutput("ie_out"));
    GraphProto.Builder body = GraphProto.newBuilder().setName("body")
        .addInput(ValueInfoProto.newBuilder().setName("iter").setType(scalar(TensorProto.DataType.INT64_VALUE)))
        .addInput(ValueInfoProto.newBuilder().setName("cond_in").setType(scalar(TensorProto.DataType.BOOL_VALUE)))
        .addInput(floatInput("h", 1, n))
        .addOutput(ValueInfoProto.newBuilder().setName("cond_out").setType(scalar(TensorProto.DataType.BOOL_VALUE)))
        .addOutput(floatInput("h_out", 1, n))
        .addInitializer(floats("Wl", 23, n, n))
        .addNode(node("Identity", "keep", "cond_in").addOutput("cond_out"))
        .addNode(node("MatMul", "body_mm", "h", "Wl").addOutput("h0"))
        .addNode(node("Tanh", "body_tanh", "h0").addOutput("h1"))
        .addNode(node("If", "inner_if", "C").addOutput("h_out")
            .addAttribute(graph("then_branch", then)).addAttribute(graph("else_branch", other)));
    GraphProto.Builder g = GraphProto.newBuilder().setName("loop_nested_if")
        .addInput(floatInput("X", 1, n))
        .addInput(boolInput("C"))
        .addInput(ValueInfoProto.newBuilder().setName("M").setType(scalar(TensorProto.DataType.INT64_VALUE)))
        .addOutput(floatInput("Y", 1, n))
        .addInitializer(TensorProto.newBuilder().setName("true").setDataType(TensorProto.DataType.BOOL_VALUE)
            .setRawData(com.google.protobuf.ByteString.copyFrom(new byte[] {1})))
        .addNode(node("Loop", "Loop_0", "M", "true", "X").addOutput("Y").addAttribute(graph("body", body)));
    return model(g, 13);
  }

  /**
   * Edge cases of scoping: Y = If(C, then: T, else: If(C2, X Wo, X Wo Wo)) where the then branch
   * returns its own initializer T [1, n] as its output, and the nested branches both read Wo, a
   * weight of the outer else branch (an outer-scope read two levels down). Nodes have no names.
   */
  static ModelProto scopeEdges(int n) {
    GraphProto.Builder then = GraphProto.newBuilder().setName("then")
        .addOutput(floatInput("T", 1, n))
        .addInitializer(floats("T", 51, 1, n));
    GraphProto.Builder innerThen = GraphProto.newBuilder().setName("inner_then")
        .addOutput(floatInput("a_out", 1, n))
        .addNode(NodeProto.newBuilder().setOpType("MatMul").addInput("X").addInput("Wo").addOutput("a_out"));
    GraphProto.Builder innerElse = GraphProto.newBuilder().setName("inner_else")
        .addOutput(floatInput("b_out", 1, n))
        .addNode(NodeProto.newBuilder().setOpType("MatMul").addInput("X").addInput("Wo").addOutput("b1"))
        .addNode(NodeProto.newBuilder().setOpType("MatMul").addInput("b1").addInput("Wo").addOutput("b_out"));
    GraphProto.Builder other = GraphProto.newBuilder().setName("else")
        .addOutput(floatInput("e_out", 1, n))
        .addInitializer(floats("Wo", 52, n, n))
        .addNode(NodeProto.newBuilder().setOpType("If").addInput("C2").addOutput("e_out")
            .addAttribute(graph("then_branch", innerThen)).addAttribute(graph("else_branch", innerElse)));
    GraphProto.Builder g = GraphProto.newBuilder().setName("scope_edges")
        .addInput(floatInput("X", 1, n))
        .addInput(boolInput("C"))
        .addInput(boolInput("C2"))
        .addOutput(floatInput("Y", 1, n))
        .addNode(NodeProto.newBuilder().setOpType("If").addInput("C").addOutput("Y")
            .addAttribute(graph("then_branch", then)).addAttribute(graph("else_branch", other)));
    return model(g, 13);
  }

  /** A Scan over X [T, n] (sequence first) with state h [n]: h = tanh(x_t Wx + h Wh); Y = last h. */
  static ModelProto scanCell(int n, int steps) {
    GraphProto.Builder body = GraphProto.newBuilder().setName("cell")
        .addInput(floatInput("h", 1, n))
        .addInput(floatInput("x_t", 1, n))
        .addOutput(floatInput("h_next", 1, n))
        .addOutput(floatInput("y_t", 1, n))
        .addInitializer(floats("Wx", 31, n, n))
        .addInitializer(floats("Wh", 32, n, n))
        .addNode(node("MatMul", "mx", "x_t", "Wx").addOutput("a"))
        .addNode(node("MatMul", "mh", "h", "Wh").addOutput("b"))
        .addNode(node("Add", "sum", "a", "b").addOutput("c"))
        .addNode(node("Tanh", "act", "c").addOutput("h_next"))
        .addNode(node("Identity", "copy", "h_next").addOutput("y_t"));
    GraphProto.Builder g = GraphProto.newBuilder().setName("scan_cell")
        .addInput(floatInput("H0", 1, n))
        .addInput(floatInput("X", steps, 1, n))
        .addOutput(floatInput("Y", 1, n))
        .addOutput(floatInput("YS", steps, 1, n))
        .addNode(node("Scan", "Scan_0", "H0", "X").addOutput("Y").addOutput("YS")
            .addAttribute(AttributeProto.newBuilder().setName("num_scan_inputs").setType(AttributeProto.AttributeType.INT).setI(1))
            .addAttribute(graph("body", body)));
    return model(g, 13);
  }

  /**
   * One {@code LSTM} (gates 4) or {@code GRU} (gates 3) layer over X [T, 1, in] with hidden size
   * h: W [1, gates*h, in], R [1, gates*h, h], B [1, 2*gates*h]; Y [T, 1, 1, h].
   */
  static ModelProto recurrent(String op, int in, int h, int steps) {
    int gates = op.equals("LSTM") ? 4 : 3;
    GraphProto.Builder g = GraphProto.newBuilder().setName(op.toLowerCase(java.util.Locale.ROOT))
        .addInput(floatInput("X", steps, 1, in))
        .addOutput(floatInput("Y", steps, 1, 1, h))
        .addInitializer(floats("W", 41, 1, gates * h, in))
        .addInitializer(floats("R", 42, 1, gates * h, h))
        .addInitializer(floats("B", 43, 1, 2 * gates * h))
        .addNode(node(op, op + "_0", "X", "W", "R", "B").addOutput("Y")
            .addAttribute(AttributeProto.newBuilder().setName("hidden_size").setType(AttributeProto.AttributeType.INT).setI(h)));
    return model(g, 14);
  }

  static TensorProto floats(String name, long seed, long... dims) {
    long n = 1;
    TensorProto.Builder t = TensorProto.newBuilder().setName(name).setDataType(TensorProto.DataType.FLOAT_VALUE);
    for (long d : dims) {
      n *= d;
      t.addDims(d);
    }
    // scaled so that activations keep their size through a few products
    float[] w = weights((int) n, seed);
    float scale = (float) (1 / (0.1 * Math.sqrt(dims[dims.length - 1])));
    for (int i = 0; i < w.length; i++) {
      w[i] *= scale;
    }
    return t.setRawData(raw(w)).build();
  }

  private static NodeProto.Builder node(String op, String name, String... inputs) {
    NodeProto.Builder b = NodeProto.newBuilder().setOpType(op).setName(name);
    for (String i : inputs) {
      b.addInput(i);
    }
    return b;
  }

  private static NodeProto.Builder constant(String output, TensorProto value) {
    return NodeProto.newBuilder().setOpType("Constant").setName(output + "_const").addOutput(output)
        .addAttribute(AttributeProto.newBuilder().setName("value").setType(AttributeProto.AttributeType.TENSOR).setT(value));
  }

  private static AttributeProto graph(String name, GraphProto.Builder g) {
    return AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.GRAPH).setG(g).build();
  }

  private static TypeProto scalar(int elemType) {
    return TypeProto.newBuilder().setTensorType(TypeProto.Tensor.newBuilder().setElemType(elemType)
        .setShape(ai.onnx.proto.OnnxMl.TensorShapeProto.newBuilder())).build();
  }

  private static ValueInfoProto boolInput(String name) {
    return ValueInfoProto.newBuilder().setName(name).setType(scalar(TensorProto.DataType.BOOL_VALUE)).build();
  }

  private static ModelProto model(GraphProto.Builder g, long opset) {
    return ModelProto.newBuilder().setIrVersion(8).setProducerName("cortexsdr-test")
        .addOpsetImport(OperatorSetIdProto.newBuilder().setVersion(opset)).setGraph(g).build();
  }
}
