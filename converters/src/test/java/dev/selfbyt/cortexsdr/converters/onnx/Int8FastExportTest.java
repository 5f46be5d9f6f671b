package dev.selfbyt.cortexsdr.converters.onnx;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnx.proto.OnnxMl.AttributeProto;
import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.OperatorSetIdProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import dev.selfbyt.cortexsdr.core.CompressionOptions;
import dev.selfbyt.cortexsdr.core.CortexSdr;
import dev.selfbyt.cortexsdr.core.Preset;
import dev.selfbyt.cortexsdr.core.codec.QuantCodec;
import dev.selfbyt.cortexsdr.core.format.CaiReader;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code int8-fast}: a MatMul (+ bias) and a Gemm (transB, alpha, beta, C) compressed, exported
 * with int8 activations, run in ONNX Runtime, and checked against the same arithmetic done in
 * Java on the {@code .cai}'s own codes: DynamicQuantizeLinear's per-tensor uint8 rounding, int32
 * products, then the scales.
 */
class Int8FastExportTest {
  @TempDir Path dir;
  static final OrtEnvironment ENV = OrtEnvironment.getEnvironment();
  static final int M = 5;
  static final int K = 128;
  static final int N = 64;

  /** X [M, K] -> Y1 = X W1 + B; Y2 = Gemm(X, W2 [N, K], C, transB = 1, alpha 0.5, beta 2). */
  static ModelProto model() {
    GraphProto.Builder g = GraphProto.newBuilder().setName("int8fast")
        .addInput(OnnxTestModels.floatInput("X", M, K))
        .addOutput(OnnxTestModels.floatInput("Y1", M, N))
        .addOutput(OnnxTestModels.floatInput("Y2", M, N));
    g.addInitializer(floats("W1", OnnxTestModels.weights(K * N, 11), K, N));
    g.addInitializer(floats("B", OnnxTestModels.weights(N, 12), N));
    g.addInitializer(floats("W2", OnnxTestModels.weights(N * K, 13), N, K));
    g.addInitializer(floats("C", OnnxTestModels.weights(N, 14), N));
    g.addNode(NodeProto.newBuilder().setOpType("MatMul").addInput("X").addInput("W1").addOutput("XW").setName("mm"));
    g.addNode(NodeProto.newBuilder().setOpType("Add").addInput("XW").addInput("B").addOutput("Y1").setName("add"));
    g.addNode(NodeProto.newBuilder().setOpType("Gemm").addInput("X").addInput("W2").addInput("C").addOutput("Y2")
        .setName("gemm")
        .addAttribute(AttributeProto.newBuilder().setName("transB").setType(AttributeProto.AttributeType.INT).setI(1))
        .addAttribute(AttributeProto.newBuilder().setName("alpha").setType(AttributeProto.AttributeType.FLOAT).setF(0.5f))
        .addAttribute(AttributeProto.newBuilder().setName("beta").setType(AttributeProto.AttributeType.FLOAT).setF(2f)));
    return ModelProto.newBuilder().setIrVersion(8).setProducerName("cortexsdr-test")
        .addOpsetImport(OperatorSetIdProto.newBuilder().setVersion(13)).setGraph(g).build();
  }

  static TensorProto floats(String name, float[] v, long... dims) {
    TensorProto.Builder t = TensorProto.newBuilder().setName(name).setDataType(TensorProto.DataType.FLOAT_VALUE)
        .setRawData(OnnxTestModels.raw(v));
    for (long d : dims) {
      t.addDims(d);
    }
    return t.build();
  }

  Path compress(CompressionOptions options) throws Exception {
    Path onnx = dir.resolve("m.onnx");
    Files.write(onnx, model().toByteArray());
    Path cai = dir.resolve("m.cai");
    try (OnnxModelReader r = OnnxModelReader.open(onnx)) {
      CortexSdr.compress(r, cai, options);
    }
    return cai;
  }

  @Test
  void matMulAndGemmComputeWithInt8ActivationsExactlyAsDynamicQuantizeLinearDoes() throws Exception {
    Path cai = compress(CompressionOptions.builder().preset(Preset.INT8_FAST).threads(1).build());
    Path out = dir.resolve("m-quantized.onnx");
    List<QuantizedOnnxExporter.Form> forms;
    try (CaiReader r = CaiReader.open(cai)) {
      assertEquals(List.of("W1", "W2"), r.manifest().get("int8Activations"));
      forms = QuantizedOnnxExporter.export(r, out, 0);
    }
    assertTrue(forms.stream().filter(f -> f.form().startsWith("MatMulInteger")).count() == 2, forms.toString());
    ModelProto m = ModelProto.parseFrom(Files.readAllBytes(out));
    assertEquals(2, count(m, "DynamicQuantizeLinear"));
    assertEquals(2, count(m, "MatMulInteger"));

    float[] x = input(M * K, 5);
    float[][] y = run(out, x);
    try (CaiReader r = CaiReader.open(cai)) {
      float[] bias = r.read("B").floats();
      float[] c = r.read("C").floats();
      float[] y1 = reference(x, unpack(r, "W1"), 1f);
      float[] y2 = reference(x, unpack(r, "W2"), 0.5f);
      for (int i = 0; i < M * N; i++) {
        assertEquals(y1[i] + bias[i % N], y[0][i], 1e-5f * Math.max(1, Math.abs(y1[i])), "Y1[" + i + "]");
        assertEquals(y2[i] + 2f * c[i % N], y[1][i], 1e-5f * Math.max(1, Math.abs(y2[i])), "Y2[" + i + "]");
      }
    }
  }

  @Test
  void onnxRuntimeFusesTheIntegerMatMulIntoOneKernel() throws Exception {
    Path cai = compress(CompressionOptions.builder().preset(Preset.INT8_FAST).threads(1).build());
    Path out = dir.resolve("m-quantized.onnx");
    try (CaiReader r = CaiReader.open(cai)) {
      QuantizedOnnxExporter.export(r, out, 0);
    }
    Path optimized = dir.resolve("optimized.onnx");
    try (OrtSession.SessionOptions o = new OrtSession.SessionOptions()) {
      o.setOptimizedModelFilePath(optimized.toString());
      o.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.EXTENDED_OPT);
      try (OrtSession s = ENV.createSession(out.toString(), o)) {
        assertEquals(2, s.getOutputNames().size());
      }
    }
    ModelProto opt = ModelProto.parseFrom(Files.readAllBytes(optimized));
    assertEquals(0, count(opt, "MatMulInteger"), "MatMulInteger left unfused");
    assertEquals(2, count(opt, "DynamicQuantizeMatMul") + count(opt, "MatMulIntegerToFloat"));
  }

  @Test
  void aWeightOnlyMatMulKeepsFp32ActivationsOnTheDecodedWeight() throws Exception {
    Path cai = compress(CompressionOptions.builder().preset(Preset.INT8_FAST).weightOnly("W1").threads(1).build());
    Path out = dir.resolve("m-quantized.onnx");
    try (CaiReader r = CaiReader.open(cai)) {
      assertEquals(List.of("W2"), r.manifest().get("int8Activations"));
      QuantizedOnnxExporter.export(r, out, 0);
    }
    assertEquals(1, count(ModelProto.parseFrom(Files.readAllBytes(out)), "MatMulInteger"));
    float[] x = input(M * K, 6);
    float[][] y = run(out, x);
    try (CaiReader r = CaiReader.open(cai)) {
      float[] w = r.read("W1").floats();
      float[] bias = r.read("B").floats();
      for (int i = 0; i < M; i++) {
        for (int j = 0; j < N; j++) {
          double acc = 0;
          for (int k = 0; k < K; k++) {
            acc += (double) x[i * K + k] * w[k * N + j];
          }
          assertEquals(acc + bias[j], y[0][i * N + j], 1e-4, "Y1[" + i + "," + j + "]");
        }
      }
    }
  }

  @Test
  void otherPresetsListNoInt8Activations() throws Exception {
    Path cai = compress(CompressionOptions.builder().preset(Preset.INT8).threads(1).build());
    try (CaiReader r = CaiReader.open(cai)) {
      assertTrue(!r.manifest().containsKey("int8Activations"), r.manifest().toString());
    }
  }

  /** Output channel n's int8 codes (stored code - 128, K of them) and scale, for W [K, N] or [N, K]. */
  record Weight(byte[][] codes, float[] scales) {}

  static Weight unpack(CaiReader r, String name) throws Exception {
    CaiReader.StoredTensor st = r.readStored(name);
    QuantCodec q = (QuantCodec) st.codec();
    assertEquals(QuantCodec.Granularity.CHANNEL, q.granularity());
    QuantCodec.QuantizedTensor qt = q.unpack(r.entry(name).info(), st.payload());
    byte[][] codes = new byte[qt.fibers()][];
    for (int f = 0; f < codes.length; f++) {
      codes[f] = qt.codes(f);
    }
    return new Weight(codes, qt.scales());
  }

  /** ONNX DynamicQuantizeLinear, MatMulInteger, then Cast and Mul by (a_scale * alpha * w_scale). */
  static float[] reference(float[] x, Weight w, float alpha) {
    float lo = 0;
    float hi = 0;
    for (float v : x) {
      lo = Math.min(lo, v);
      hi = Math.max(hi, v);
    }
    float scale = (hi - lo) / 255f;
    int zp = (int) Math.max(0, Math.min(255, Math.rint(-lo / scale)));
    int[] q = new int[x.length];
    for (int i = 0; i < x.length; i++) {
      q[i] = (int) Math.max(0, Math.min(255, Math.rint(x[i] / scale) + zp));
    }
    float[] y = new float[M * N];
    for (int i = 0; i < M; i++) {
      for (int n = 0; n < N; n++) {
        int acc = 0;
        for (int k = 0; k < K; k++) {
          acc += (q[i * K + k] - zp) * ((w.codes()[n][k] & 0xff) - 128);
        }
        y[i * N + n] = acc * (scale * (w.scales()[n] * alpha));
      }
    }
    return y;
  }

  static float[] input(int n, long seed) {
    SplittableRandom r = new SplittableRandom(seed);
    float[] x = new float[n];
    for (int i = 0; i < n; i++) {
      x[i] = (float) (r.nextGaussian() + (i % 17 == 0 ? 4 : 0)); // a few outliers, as real activations have
    }
    return x;
  }

  static float[][] run(Path model, float[] x) throws Exception {
    try (OrtSession.SessionOptions o = new OrtSession.SessionOptions();
        OrtSession s = ENV.createSession(model.toString(), o);
        OnnxTensor in = OnnxTensor.createTensor(ENV, FloatBuffer.wrap(x), new long[] {M, K});
        OrtSession.Result r = s.run(Map.of("X", in))) {
      float[][] out = new float[2][M * N];
      ((OnnxTensor) r.get("Y1").get()).getFloatBuffer().get(out[0]);
      ((OnnxTensor) r.get("Y2").get()).getFloatBuffer().get(out[1]);
      return out;
    }
  }

  static long count(ModelProto m, String op) {
    return m.getGraph().getNodeList().stream().filter(n -> n.getOpType().equals(op)).count();
  }
}
