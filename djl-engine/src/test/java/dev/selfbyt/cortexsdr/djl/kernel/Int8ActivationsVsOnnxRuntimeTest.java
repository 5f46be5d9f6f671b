package dev.selfbyt.cortexsdr.djl.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.OperatorSetIdProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import ai.onnx.proto.OnnxMl.TypeProto;
import ai.onnx.proto.OnnxMl.ValueInfoProto;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import com.google.protobuf.ByteString;
import dev.selfbyt.cortexsdr.core.codec.QuantCodec;
import dev.selfbyt.cortexsdr.core.tensor.DType;
import dev.selfbyt.cortexsdr.core.tensor.TensorData;
import dev.selfbyt.cortexsdr.core.tensor.TensorInfo;
import dev.selfbyt.cortexsdr.core.tensor.TensorRole;
import java.nio.ByteBuffer;
import java.nio.FloatBuffer;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The engine's W8A8 product ({@link QuantMatrix#withInt8Activations}) against ONNX Runtime running
 * {@code DynamicQuantizeLinear + MatMulInteger}, then the scales, on the same int8 per-channel
 * weights: every kernel implementation, odd shapes, inputs with and without negative values.
 */
class Int8ActivationsVsOnnxRuntimeTest {
  static List<Arguments> shapes() {
    return List.of(Arguments.of(1, 64, 32), Arguments.of(3, 70, 7), Arguments.of(17, 130, 33),
        Arguments.of(128, 384, 96), Arguments.of(5, 1, 1), Arguments.of(26, 33, 65),
        Arguments.of(9, 1100, 40), // k over 512: the Java kernels sum in exact float chunks
        // 270,000 values: both quantization passes split over the threads; over 256 rows: AMX in chunks of rows
        Arguments.of(300, 900, 70));
  }

  @ParameterizedTest
  @MethodSource("shapes")
  void matchesDynamicQuantizeLinearAndMatMulInteger(int m, int k, int n) throws Exception {
    Random rnd = new Random(17L * m + 5L * k + n);
    float[] w = new float[k * n];
    for (int i = 0; i < w.length; i++) {
      w[i] = (float) rnd.nextGaussian() * 0.05f;
    }
    TensorInfo info = new TensorInfo("w", DType.FLOAT32, new long[] {k, n}, TensorRole.MATMUL_WEIGHT, 0);
    QuantCodec codec = QuantCodec.perChannel(8, true);
    ByteBuffer payload = codec.encode(TensorData.ofFloats(info, w));
    QuantCodec.QuantizedTensor qt = codec.unpack(info, payload.duplicate());
    QuantMatrix q = QuantMatrix.withInt8Activations(qt);
    float[] bias = new float[n];
    for (int j = 0; j < n; j++) {
      bias[j] = (float) rnd.nextGaussian();
    }
    for (boolean positive : new boolean[] {false, true}) {
      float[] x = new float[m * k];
      for (int i = 0; i < x.length; i++) {
        double g = rnd.nextGaussian() * 2;
        x[i] = (float) (positive ? Math.abs(g) : g);
      }
      float[] ort = ort(x, m, k, n, qt, bias);
      for (Kernels kern : AllKernels.list()) {
        float[] y = new float[m * n];
        MatMul.multiply(kern, x, 0, m, q, bias, y, 0);
        String what = kern.name() + " m=" + m + " k=" + k + " n=" + n + (positive ? " x >= 0" : "");
        double cos = cosine(ort, y);
        assertTrue(cos > 1 - 1e-6, what + ": cosine " + cos);
        for (int i = 0; i < y.length; i++) {
          assertEquals(ort[i], y[i], 1e-5 * (1 + Math.abs(ort[i])), what + " at " + i);
        }
      }
    }
  }

  /** ONNX Runtime: DynamicQuantizeLinear(x), MatMulInteger(xq, Wq, xzp), Cast, Mul(xs * ws), Add(bias). */
  private static float[] ort(float[] x, int m, int k, int n, QuantCodec.QuantizedTensor qt, float[] bias)
      throws Exception {
    byte[] wq = new byte[k * n];
    ByteBuffer codes = qt.packedCodes().duplicate();
    int base = codes.position();
    float[] ws = new float[n];
    for (int j = 0; j < n; j++) {
      for (int kk = 0; kk < k; kk++) {
        wq[kk * n + j] = (byte) ((codes.get(base + j * qt.fiberBytes() + kk) & 0xff) - 128);
      }
      ws[j] = qt.scales()[j];
    }
    GraphProto.Builder g = GraphProto.newBuilder().setName("w8a8")
        .addInput(input("x", 1))
        .addInitializer(TensorProto.newBuilder().setName("wq").setDataType(3).addDims(k).addDims(n)
            .setRawData(ByteString.copyFrom(wq)))
        .addInitializer(floats("ws", ws))
        .addInitializer(floats("bias", bias))
        .addNode(node("DynamicQuantizeLinear", List.of("x"), List.of("xq", "xs", "xzp")))
        .addNode(node("MatMulInteger", List.of("xq", "wq", "xzp"), List.of("acc")))
        .addNode(NodeProto.newBuilder().setOpType("Cast").addInput("acc").addOutput("accf")
            .addAttribute(ai.onnx.proto.OnnxMl.AttributeProto.newBuilder().setName("to")
                .setType(ai.onnx.proto.OnnxMl.AttributeProto.AttributeType.INT).setI(1)))
        .addNode(node("Mul", List.of("xs", "ws"), List.of("s")))
        .addNode(node("Mul", List.of("accf", "s"), List.of("yq")))
        .addNode(node("Add", List.of("yq", "bias"), List.of("y")))
        .addOutput(ValueInfoProto.newBuilder().setName("y"));
    byte[] model = ModelProto.newBuilder().setIrVersion(8).setGraph(g)
        .addOpsetImport(OperatorSetIdProto.newBuilder().setDomain("").setVersion(13)).build().toByteArray();
    OrtEnvironment env = OrtEnvironment.getEnvironment();
    try (OrtSession.SessionOptions o = new OrtSession.SessionOptions()) {
      o.setIntraOpNumThreads(1);
      try (OrtSession s = env.createSession(model, o);
          OnnxTensor in = OnnxTensor.createTensor(env, FloatBuffer.wrap(x), new long[] {m, k});
          OrtSession.Result r = s.run(Map.of("x", in))) {
        float[][] y = (float[][]) r.get(0).getValue();
        float[] flat = new float[m * n];
        for (int i = 0; i < m; i++) {
          System.arraycopy(y[i], 0, flat, i * n, n);
        }
        return flat;
      }
    }
  }

  private static ValueInfoProto input(String name, int type) {
    return ValueInfoProto.newBuilder().setName(name)
        .setType(TypeProto.newBuilder().setTensorType(TypeProto.Tensor.newBuilder().setElemType(type))).build();
  }

  private static TensorProto floats(String name, float[] v) {
    TensorProto.Builder t = TensorProto.newBuilder().setName(name).setDataType(1).addDims(v.length);
    for (float f : v) {
      t.addFloatData(f);
    }
    return t.build();
  }

  private static NodeProto node(String op, List<String> in, List<String> out) {
    return NodeProto.newBuilder().setOpType(op).addAllInput(in).addAllOutput(out).build();
  }

  private static double cosine(float[] a, float[] b) {
    double ab = 0;
    double aa = 0;
    double bb = 0;
    for (int i = 0; i < a.length; i++) {
      ab += (double) a[i] * b[i];
      aa += (double) a[i] * a[i];
      bb += (double) b[i] * b[i];
    }
    return ab / Math.sqrt(aa * bb);
  }
}
