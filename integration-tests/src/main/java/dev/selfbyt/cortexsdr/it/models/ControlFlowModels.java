package dev.selfbyt.cortexsdr.it.models;

import ai.onnx.proto.OnnxMl.AttributeProto;
import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.OperatorSetIdProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import ai.onnx.proto.OnnxMl.TensorShapeProto;
import ai.onnx.proto.OnnxMl.TypeProto;
import ai.onnx.proto.OnnxMl.ValueInfoProto;
import com.google.protobuf.ByteString;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Models with control flow for {@code ControlFlowIT}: one built here with the ONNX protobuf classes
 * (an {@code If} whose branches hold their own 256 x 256 MatMul weights, as initializers and as
 * {@code Constant} nodes, the layout of exported streaming speech models), and PyTorch models
 * exported by {@code integration-tests/src/main/python/control_flow_models.py} (scripted {@code
 * If} and {@code Loop}, {@code LSTM}, {@code GRU}). All weights are seeded.
 */
public final class ControlFlowModels {
  private ControlFlowModels() {}

  /** The PyTorch models the Python tool writes. */
  public static final List<String> TORCH_MODELS = List.of("if_scripted", "loop_scripted", "lstm", "gru");

  /**
   * Writes {@code dir/branch_weights.onnx}: X [1, 256], C bool scalar; Y = If(C, then: relu(X W1
   * + b1) W2, else: X W3 W4) Wout, with W1, b1, W2 initializers of the then branch, W3 an
   * initializer and W4 a {@code Constant} of the else branch (both branches also name a weight
   * {@code W1}), Wout a main-graph weight.
   */
  public static Path branchWeights(Path dir) throws IOException {
    int n = 256;
    GraphProto.Builder then = GraphProto.newBuilder().setName("then")
        .addOutput(floats("t_out", 1, n))
        .addInitializer(weight("W1", 1, n, n)).addInitializer(weight("b1", 2, n)).addInitializer(weight("W2", 3, n, n))
        .addNode(node("MatMul", "t_mm1", "X", "W1").addOutput("t1"))
        .addNode(node("Add", "t_add", "t1", "b1").addOutput("t2"))
        .addNode(node("Relu", "t_relu", "t2").addOutput("t3"))
        .addNode(node("MatMul", "t_mm2", "t3", "W2").addOutput("t_out"));
    GraphProto.Builder other = GraphProto.newBuilder().setName("else")
        .addOutput(floats("e_out", 1, n))
        .addInitializer(weight("W1", 4, n, n))
        .addNode(NodeProto.newBuilder().setOpType("Constant").setName("e_w4").addOutput("W4")
            .addAttribute(AttributeProto.newBuilder().setName("value").setType(AttributeProto.AttributeType.TENSOR)
                .setT(weight("", 5, n, n))))
        .addNode(node("MatMul", "e_mm1", "X", "W1").addOutput("e1"))
        .addNode(node("MatMul", "e_mm2", "e1", "W4").addOutput("e_out"));
    GraphProto.Builder g = GraphProto.newBuilder().setName("branch_weights")
        .addInput(floats("X", 1, n))
        .addInput(ValueInfoProto.newBuilder().setName("C").setType(TypeProto.newBuilder().setTensorType(
            TypeProto.Tensor.newBuilder().setElemType(TensorProto.DataType.BOOL_VALUE).setShape(TensorShapeProto.newBuilder()))))
        .addOutput(floats("Y", 1, n))
        .addInitializer(weight("Wout", 6, n, n))
        .addNode(node("If", "If_0", "C").addOutput("H")
            .addAttribute(AttributeProto.newBuilder().setName("then_branch").setType(AttributeProto.AttributeType.GRAPH).setG(then))
            .addAttribute(AttributeProto.newBuilder().setName("else_branch").setType(AttributeProto.AttributeType.GRAPH).setG(other)))
        .addNode(node("MatMul", "out_mm", "H", "Wout").addOutput("Y"));
    ModelProto m = ModelProto.newBuilder().setIrVersion(8).setProducerName("cortexsdr-it")
        .addOpsetImport(OperatorSetIdProto.newBuilder().setVersion(13)).setGraph(g).build();
    Path p = dir.resolve("branch_weights.onnx");
    Files.write(p, m.toByteArray());
    return p;
  }

  /**
   * Runs the Python tool to write {@link #TORCH_MODELS} into {@code dir}.
   *
   * @throws IOException naming the command when it fails (it needs Debian's python3-torch)
   */
  public static void torch(Path dir, String python, Path tool) throws IOException, InterruptedException {
    List<String> cmd = List.of(python, tool.toString(), dir.toString());
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    String log = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
    if (p.waitFor() != 0) {
      throw new IOException(String.join(" ", cmd) + " failed (it needs Debian's python3-torch):\n" + log);
    }
  }

  /** Whether {@code python} imports torch. */
  public static boolean hasTorch(String python) {
    try {
      Process p = new ProcessBuilder(python, "-c", "import torch").redirectErrorStream(true).start();
      p.getInputStream().readAllBytes();
      return p.waitFor() == 0;
    } catch (IOException e) {
      return false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  private static NodeProto.Builder node(String op, String name, String... inputs) {
    return NodeProto.newBuilder().setOpType(op).setName(name).addAllInput(List.of(inputs));
  }

  private static ValueInfoProto floats(String name, long... dims) {
    TensorShapeProto.Builder s = TensorShapeProto.newBuilder();
    for (long d : dims) {
      s.addDim(TensorShapeProto.Dimension.newBuilder().setDimValue(d));
    }
    return ValueInfoProto.newBuilder().setName(name).setType(TypeProto.newBuilder().setTensorType(
        TypeProto.Tensor.newBuilder().setElemType(TensorProto.DataType.FLOAT_VALUE).setShape(s))).build();
  }

  /** Gaussian weights of variance 1/(last dimension), so that activations keep their size. */
  private static TensorProto weight(String name, long seed, long... dims) {
    int count = 1;
    TensorProto.Builder t = TensorProto.newBuilder().setName(name).setDataType(TensorProto.DataType.FLOAT_VALUE);
    for (long d : dims) {
      count *= (int) d;
      t.addDims(d);
    }
    SplittableRandom r = new SplittableRandom(seed);
    double sd = 1 / Math.sqrt(dims[dims.length - 1]);
    ByteBuffer b = ByteBuffer.allocate(4 * count).order(ByteOrder.LITTLE_ENDIAN);
    for (int i = 0; i < count; i++) {
      b.putFloat((float) (r.nextGaussian() * sd));
    }
    return t.setRawData(ByteString.copyFrom(b.flip())).build();
  }
}
