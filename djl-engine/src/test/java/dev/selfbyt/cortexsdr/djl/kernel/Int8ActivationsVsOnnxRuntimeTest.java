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
    List<Arguments> out = new java.util.ArrayList<>();
    for (int bits : new int[] {7, 8}) { // 7: int8-fast's default; 8: with --bits 8
      out.addAll(List.of(Arguments.of(1, 64, 32, bits), Arguments.of(3, 70, 7, bits), Arguments.of(17, 130, 33, bits),
          Arguments.of(128, 384, 96, bits), Arguments.of(5, 1, 1, bits), Arguments.of(26, 33, 65, bits),
          Arguments.of(9, 1100, 40, bits), // a long depth: the Java kernels sum both scales into float sums
          // 270,000 values: both quantization passes split over the threads; over 256 rows: AMX in chunks of rows
          Arguments.of(300, 900, 70, bits)));
    }
    return out;
  }

  @ParameterizedTest
  @MethodSource("shapes")
  void matchesDynamicQuantizeLinearAndMatMulInteger(int m, int k, int n, int bits) throws Exception {
    // ONNX Runtime's uint8 x int8 product is exact for 8-bit codes only with VNNI: on AVX2 its
    // 16-bit pair sums saturate (255 * 127 * 2 > 32767), which is why int8-fast writes 7-bit codes
    org.junit.jupiter.api.Assumptions.assumeTrue(bits == 7 || !ortSaturates(),
        "ONNX Runtime saturates uint8 x int8 pair sums on this CPU (no VNNI): 8-bit codes are not exact there");
    Random rnd = new Random(17L * m + 5L * k + n);
    float[] w = new float[k * n];
    for (int i = 0; i < w.length; i++) {
      w[i] = (float) rnd.nextGaussian() * 0.05f;
    }
    TensorInfo info = new TensorInfo("w", DType.FLOAT32, new long[] {k, n}, TensorRole.MATMUL_WEIGHT, 0);
    QuantCodec codec = QuantCodec.perChannel(bits, true);
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
        String what = kern.name() + " " + bits + " bits m=" + m + " k=" + k + " n=" + n + (positive ? " x >= 0" : "");
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
    float[] ws = new float[n];
    int zero = 1 << (qt.codec().bits() - 1);
    for (int j = 0; j < n; j++) {
      byte[] codes = qt.codes(j);
      for (int kk = 0; kk < k; kk++) {
        wq[kk * n + j] = (byte) ((codes[kk] & 0xff) - zero);
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

  /** Whether ONNX Runtime's MatMulInteger saturates 255 * 127 + 255 * 127 (x86 without VNNI). */
  private static boolean ortSaturates() throws Exception {
    GraphProto.Builder g = GraphProto.newBuilder().setName("saturation").addInput(input("a", 2))
        .addInitializer(TensorProto.newBuilder().setName("b").setDataType(3).addDims(2).addDims(1)
            .setRawData(ByteString.copyFrom(new byte[] {127, 127})))
        .addNode(node("MatMulInteger", List.of("a", "b"), List.of("y")))
        .addOutput(ValueInfoProto.newBuilder().setName("y"));
    byte[] model = ModelProto.newBuilder().setIrVersion(8).setGraph(g)
        .addOpsetImport(OperatorSetIdProto.newBuilder().setDomain("").setVersion(13)).build().toByteArray();
    OrtEnvironment env = OrtEnvironment.getEnvironment();
    try (OrtSession s = env.createSession(model, new OrtSession.SessionOptions());
        OnnxTensor in = OnnxTensor.createTensor(env, ByteBuffer.wrap(new byte[] {(byte) 255, (byte) 255}),
            new long[] {1, 2}, ai.onnxruntime.OnnxJavaType.UINT8);
        OrtSession.Result r = s.run(Map.of("a", in))) {
      return ((int[][]) r.get(0).getValue())[0][0] != 2 * 255 * 127;
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
