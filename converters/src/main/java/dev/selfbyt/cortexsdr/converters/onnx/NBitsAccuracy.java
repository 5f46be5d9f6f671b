package dev.selfbyt.cortexsdr.converters.onnx;

import ai.onnx.proto.OnnxMl.AttributeProto;
import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.OperatorSetIdProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import ai.onnx.proto.OnnxMl.TensorShapeProto;
import ai.onnx.proto.OnnxMl.TypeProto;
import ai.onnx.proto.OnnxMl.ValueInfoProto;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import com.google.protobuf.ByteString;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.Arrays;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Chooses {@code MatMulNBits accuracy_level} per weight shape by measurement: a MatMulNBits of
 * that shape ({@code K, N}, bits, block) is timed once in this process's ONNX Runtime at level 0
 * (fp32 activations) and level 4 (int8 activations) on {@value #ROWS} rows, alternating, and level
 * 4 is taken when its median is at least {@value #MARGIN_PERCENT}% faster. Decisions are cached per
 * shape for the life of the JVM, so every model built in one process agrees (CaiOrt and its
 * export); another machine or a busier moment may decide otherwise. Level 4 is less exact.
 */
public final class NBitsAccuracy {
  /** The {@code accuracyLevel} argument of {@link QuantizedOnnxExporter} that asks for this choice. */
  public static final int MEASURED = -1;
  static final int ROWS = 128;
  static final int MARGIN_PERCENT = 5;
  private static final int RUNS = 9;
  private static final Map<String, Integer> CHOSEN = new ConcurrentHashMap<>();

  private NBitsAccuracy() {}

  /** 0 or 4, whichever ran faster for this shape (measured on first use). */
  public static int choose(int k, int n, int bits, int block) {
    return CHOSEN.computeIfAbsent(k + "x" + n + "/" + bits + "b" + block, key -> measure(k, n, bits, block));
  }

  /** The decisions made so far, shape to level (for reports). */
  public static Map<String, Integer> decisions() {
    return Map.copyOf(CHOSEN);
  }

  private static int measure(int k, int n, int bits, int block) {
    OrtEnvironment env = OrtEnvironments.get();
    float[] x = new float[ROWS * k];
    SplittableRandom r = new SplittableRandom(1);
    for (int i = 0; i < x.length; i++) {
      x[i] = (float) r.nextGaussian();
    }
    try (OrtSession.SessionOptions o0 = new OrtSession.SessionOptions();
        OrtSession.SessionOptions o4 = new OrtSession.SessionOptions();
        OrtSession s0 = env.createSession(model(k, n, bits, block, 0).toByteArray(), o0);
        OrtSession s4 = env.createSession(model(k, n, bits, block, 4).toByteArray(), o4);
        OnnxTensor in = OnnxTensor.createTensor(env, FloatBuffer.wrap(x), new long[] {ROWS, k})) {
      long[] t0 = new long[RUNS];
      long[] t4 = new long[RUNS];
      for (int i = -2; i < RUNS; i++) { // two warm-up rounds
        long a = System.nanoTime();
        s0.run(Map.of("X", in)).close();
        long b = System.nanoTime();
        s4.run(Map.of("X", in)).close();
        long c = System.nanoTime();
        if (i >= 0) {
          t0[i] = b - a;
          t4[i] = c - b;
        }
      }
      Arrays.sort(t0);
      Arrays.sort(t4);
      return t4[RUNS / 2] * 100 <= t0[RUNS / 2] * (100 - MARGIN_PERCENT) ? 4 : 0;
    } catch (OrtException e) {
      return 0; // this runtime cannot time it: keep the exact form
    }
  }

  /** {@code Y = X * W}, W random codes in MatMulNBits layout, symmetric-default zero points. */
  private static ModelProto model(int k, int n, int bits, int block, int level) {
    int kBlocks = (k + block - 1) / block;
    int blob = block * bits / 8;
    byte[] codes = new byte[n * kBlocks * blob];
    new SplittableRandom(2).nextBytes(codes);
    ByteBuffer s = ByteBuffer.allocate(4 * n * kBlocks).order(ByteOrder.LITTLE_ENDIAN);
    for (int i = 0; i < n * kBlocks; i++) {
      s.putFloat(0.01f);
    }
    NodeProto.Builder nb = NodeProto.newBuilder().setOpType("MatMulNBits").setDomain("com.microsoft").setName("mm")
        .addInput("X").addInput("B").addInput("S").addOutput("Y")
        .addAttribute(attr("K", k)).addAttribute(attr("N", n)).addAttribute(attr("bits", bits))
        .addAttribute(attr("block_size", block));
    if (level > 0) {
      nb.addAttribute(attr("accuracy_level", level));
    }
    GraphProto g = GraphProto.newBuilder().setName("nbits")
        .addInput(input("X", ROWS, k)).addOutput(input("Y", ROWS, n))
        .addInitializer(TensorProto.newBuilder().setName("B").setDataType(TensorProto.DataType.UINT8_VALUE)
            .addDims(n).addDims(kBlocks).addDims(blob).setRawData(ByteString.copyFrom(codes)))
        .addInitializer(TensorProto.newBuilder().setName("S").setDataType(TensorProto.DataType.FLOAT_VALUE)
            .addDims(n * kBlocks).setRawData(ByteString.copyFrom(s.array())))
        .addNode(nb).build();
    return ModelProto.newBuilder().setIrVersion(8).setGraph(g)
        .addOpsetImport(OperatorSetIdProto.newBuilder().setVersion(17))
        .addOpsetImport(OperatorSetIdProto.newBuilder().setDomain("com.microsoft").setVersion(1)).build();
  }

  private static AttributeProto attr(String name, long v) {
    return AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.INT).setI(v).build();
  }

  private static ValueInfoProto input(String name, long... dims) {
    TensorShapeProto.Builder s = TensorShapeProto.newBuilder();
    for (long d : dims) {
      s.addDim(TensorShapeProto.Dimension.newBuilder().setDimValue(d));
    }
    return ValueInfoProto.newBuilder().setName(name).setType(TypeProto.newBuilder().setTensorType(
        TypeProto.Tensor.newBuilder().setElemType(TensorProto.DataType.FLOAT_VALUE).setShape(s))).build();
  }
}
