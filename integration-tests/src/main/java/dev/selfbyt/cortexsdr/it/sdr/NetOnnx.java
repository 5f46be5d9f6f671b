package dev.selfbyt.cortexsdr.it.sdr;

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
import dev.selfbyt.cortexsdr.it.models.FashionMnistImages;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;

/**
 * A small trained network as a standard ONNX graph, what an exporter of any framework writes (opset
 * 13): input {@code image} float [N, 784] (or [N, 1, 28, 28] when the first layer is a
 * convolution), output {@code logits} [N, 10]. Fully connected layers are {@code MatMul} with a [in,
 * out] weight then {@code Add} of the bias; convolutions are {@code Conv} (weight [out, in, k, k],
 * bias, same padding); {@code Relu}, {@code MaxPool} 2 x 2 and {@code Flatten} between them.
 */
public final class NetOnnx {
  private NetOnnx() {}

  /** One layer of the network. */
  public sealed interface Layer permits Dense, Conv, Relu, MaxPool, Flatten {}

  /** Fully connected: {@code weight} row-major [in, out], {@code bias} [out]. */
  public record Dense(int in, int out, float[] weight, float[] bias) implements Layer {
    /** Checks the sizes. */
    public Dense {
      if (weight.length != (long) in * out || bias.length != out) {
        throw new IllegalArgumentException("dense " + in + " x " + out + ": weight has " + weight.length
            + " values, bias " + bias.length);
      }
    }
  }

  /** Convolution, stride 1, padding {@code k / 2}: {@code weight} [out, in, k, k], {@code bias} [out]. */
  public record Conv(int in, int out, int k, float[] weight, float[] bias) implements Layer {
    /** Checks the sizes. */
    public Conv {
      if (weight.length != (long) out * in * k * k || bias.length != out) {
        throw new IllegalArgumentException("conv " + in + " -> " + out + " k" + k + ": weight has "
            + weight.length + " values, bias " + bias.length);
      }
    }
  }

  /** Rectified linear unit. */
  public record Relu() implements Layer {}

  /** Max pooling, 2 x 2, stride 2. */
  public record MaxPool() implements Layer {}

  /** [N, C, H, W] to [N, C * H * W]. */
  public record Flatten() implements Layer {}

  /** Writes the network to {@code file} (through a temporary file in the same folder). */
  public static void write(List<Layer> layers, Path file) throws IOException {
    boolean image = layers.get(0) instanceof Conv;
    GraphProto.Builder g = GraphProto.newBuilder().setName("fashion_mnist")
        .addInput(image ? io("image", 1, 28, 28) : io("image", FashionMnistImages.PIXELS))
        .addOutput(io("logits", FashionMnistImages.CLASSES));
    String x = "image";
    int fc = 0;
    int conv = 0;
    for (int i = 0; i < layers.size(); i++) {
      boolean last = i == layers.size() - 1;
      String y = last ? "logits" : "t" + i;
      Layer l = layers.get(i);
      if (l instanceof Dense d) {
        String p = "fc" + ++fc;
        g.addInitializer(floats(p + ".weight", d.weight(), d.in(), d.out()));
        g.addInitializer(floats(p + ".bias", d.bias(), d.out()));
        g.addNode(node("MatMul", p + "_mm", x, p + ".weight").addOutput(p + "_mm"));
        g.addNode(node("Add", p + "_add", p + "_mm", p + ".bias").addOutput(y));
      } else if (l instanceof Conv c) {
        String p = "conv" + ++conv;
        g.addInitializer(floats(p + ".weight", c.weight(), c.out(), c.in(), c.k(), c.k()));
        g.addInitializer(floats(p + ".bias", c.bias(), c.out()));
        int pad = c.k() / 2;
        g.addNode(node("Conv", p, x, p + ".weight", p + ".bias").addOutput(y)
            .addAttribute(ints("kernel_shape", c.k(), c.k())).addAttribute(ints("pads", pad, pad, pad, pad)));
      } else if (l instanceof Relu) {
        g.addNode(node("Relu", "relu" + i, x).addOutput(y));
      } else if (l instanceof MaxPool) {
        g.addNode(node("MaxPool", "pool" + i, x).addOutput(y)
            .addAttribute(ints("kernel_shape", 2, 2)).addAttribute(ints("strides", 2, 2)));
      } else {
        g.addNode(node("Flatten", "flatten" + i, x).addOutput(y));
      }
      x = y;
    }
    ModelProto m = ModelProto.newBuilder().setIrVersion(8).setProducerName("cortexsdr-it SparseTrainer")
        .addOpsetImport(OperatorSetIdProto.newBuilder().setDomain("").setVersion(13))
        .setGraph(g).build();
    Path dir = file.toAbsolutePath().getParent();
    Files.createDirectories(dir);
    Path tmp = Files.createTempFile(dir, file.getFileName().toString(), ".tmp");
    try {
      Files.write(tmp, m.toByteArray());
      Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    } finally {
      Files.deleteIfExists(tmp);
    }
  }

  private static NodeProto.Builder node(String op, String name, String... inputs) {
    NodeProto.Builder n = NodeProto.newBuilder().setOpType(op).setName(name);
    for (String i : inputs) {
      n.addInput(i);
    }
    return n;
  }

  private static AttributeProto ints(String name, long... v) {
    AttributeProto.Builder a = AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.INTS);
    for (long x : v) {
      a.addInts(x);
    }
    return a.build();
  }

  private static ValueInfoProto io(String name, long... dims) {
    TensorShapeProto.Builder shape = TensorShapeProto.newBuilder()
        .addDim(TensorShapeProto.Dimension.newBuilder().setDimParam("batch"));
    for (long d : dims) {
      shape.addDim(TensorShapeProto.Dimension.newBuilder().setDimValue(d));
    }
    return ValueInfoProto.newBuilder().setName(name).setType(TypeProto.newBuilder().setTensorType(
        TypeProto.Tensor.newBuilder().setElemType(TensorProto.DataType.FLOAT_VALUE).setShape(shape))).build();
  }

  private static TensorProto floats(String name, float[] v, long... dims) {
    ByteBuffer b = ByteBuffer.allocate(v.length * 4).order(ByteOrder.LITTLE_ENDIAN);
    b.asFloatBuffer().put(v);
    TensorProto.Builder t = TensorProto.newBuilder().setName(name).setDataType(TensorProto.DataType.FLOAT_VALUE)
        .setRawData(ByteString.copyFrom(b.array()));
    for (long d : dims) {
      t.addDims(d);
    }
    return t.build();
  }
}
