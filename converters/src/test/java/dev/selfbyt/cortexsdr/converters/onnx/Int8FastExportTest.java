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

  /**
   * The form {@link Int8FastCalibrator} gives a MatMul whose input has outlier channels: the
   * channels are zeroed in the smoothing scale (and in the weight's rows), gathered from the
   * unscaled input and multiplied in fp32 by their own rows, and the two products added. Exported,
   * the rest stays one {@code DynamicQuantizeLinear + MatMulInteger} whose per-tensor range no
   * longer holds the outliers; checked against that arithmetic done in Java.
   */
  @Test
  void outlierChannelsSplitOffComputeInFp32BesideTheInt8Product() throws Exception {
    int[] split = {3, 40, 77}; // the input's widest channels, as in transformers' FFN activations
    float[] w1 = OnnxTestModels.weights(K * N, 11);
    float[] inverse = new float[K];
    float[] scaled = new float[K * N];
    float[] rows = new float[split.length * N];
    for (int k = 0; k < K; k++) {
      inverse[k] = k % 2 == 0 ? 1f : 0.75f; // exact in fp16, as the calibrator stores it
    }
    for (int r = 0; r < split.length; r++) {
      System.arraycopy(w1, split[r] * N, rows, r * N, N);
      inverse[split[r]] = 0f;
    }
    for (int i = 0; i < rows.length; i++) {
      rows[i] = dev.selfbyt.cortexsdr.core.tensor.Fp16.toFloat(dev.selfbyt.cortexsdr.core.tensor.Fp16.fromFloat(rows[i]));
    }
    for (int k = 0; k < K; k++) {
      for (int n = 0; n < N; n++) {
        scaled[k * N + n] = inverse[k] == 0 ? 0f : w1[k * N + n] / inverse[k];
      }
    }
    ModelProto m = CalibrationGraphs.withInputScaled(model(), List.of("W1"), "X", "X_smoothing", K);
    m = CalibrationGraphs.withOutlierChannels(m, "X", "X_outlier_channels", split.length, Map.of("W1",
        new dev.selfbyt.cortexsdr.core.tensor.TensorInfo("W1_outliers", dev.selfbyt.cortexsdr.core.tensor.DType.FLOAT32,
            new long[] {split.length, N}, dev.selfbyt.cortexsdr.core.tensor.TensorRole.MATMUL_WEIGHT, 0)));
    GraphProto.Builder g = m.getGraph().toBuilder().clearInitializer();
    for (TensorProto t : m.getGraph().getInitializerList()) {
      switch (t.getName()) {
        case "W1" -> g.addInitializer(floats("W1", scaled, K, N));
        case "X_smoothing" -> g.addInitializer(floats("X_smoothing", inverse, K));
        case "W1_outliers" -> g.addInitializer(floats("W1_outliers", rows, split.length, N));
        case "X_outlier_channels" -> g.addInitializer(TensorProto.newBuilder().setName(t.getName())
            .setDataType(TensorProto.DataType.INT64_VALUE).addDims(split.length).addInt64Data(split[0])
            .addInt64Data(split[1]).addInt64Data(split[2]));
        default -> g.addInitializer(t);
      }
    }
    Path onnx = dir.resolve("split.onnx");
    Files.write(onnx, m.toBuilder().setGraph(g).build().toByteArray());
    Path cai = dir.resolve("split.cai");
    try (OnnxModelReader r = OnnxModelReader.open(onnx)) {
      CortexSdr.compress(r, cai, CompressionOptions.builder().preset(Preset.INT8_FAST).threads(1).build());
    }
    Path out = dir.resolve("split-quantized.onnx");
    try (CaiReader r = CaiReader.open(cai)) {
      // the split-off rows are too small to quantize: exact fp32, fp32 activations
      assertEquals(List.of("W1", "W2"), r.manifest().get("int8Activations"));
      QuantizedOnnxExporter.export(r, out, 0);
    }
    ModelProto exported = ModelProto.parseFrom(Files.readAllBytes(out));
    assertEquals(2, count(exported, "MatMulInteger"));
    assertEquals(1, count(exported, "Gather"));
    // fp16 numbers: written at half the bytes, exactly, and widened by a Cast
    assertTrue(exported.getGraph().getInitializerList().stream().anyMatch(t -> t.getName().equals("W1_outliers_fp16")
        && t.getDataType() == TensorProto.DataType.FLOAT16_VALUE), "the split-off rows as fp16");

    SplittableRandom rnd = new SplittableRandom(7);
    float[] x = new float[M * K];
    for (int i = 0; i < x.length; i++) {
      int k = i % K;
      x[i] = (float) rnd.nextGaussian() + (k == split[0] || k == split[1] || k == split[2] ? 12f : 0f);
    }
    float[] smoothed = new float[x.length];
    for (int i = 0; i < x.length; i++) {
      smoothed[i] = x[i] * inverse[i % K];
    }
    float[][] y = run(out, x);
    try (CaiReader r = CaiReader.open(cai)) {
      float[] bias = r.read("B").floats();
      float[] int8Part = reference(smoothed, unpack(r, "W1"), 1f);
      float[] fp32Rows = r.read("W1_outliers").floats();
      org.junit.jupiter.api.Assertions.assertArrayEquals(rows, fp32Rows, 0f, "the split-off rows are stored losslessly");
      for (int i = 0; i < M; i++) {
        for (int n = 0; n < N; n++) {
          double outliers = 0;
          for (int r2 = 0; r2 < split.length; r2++) {
            outliers += (double) x[i * K + split[r2]] * fp32Rows[r2 * N + n];
          }
          double want = int8Part[i * N + n] + outliers + bias[n];
          assertEquals(want, y[0][i * N + n], 1e-4 * Math.max(1, Math.abs(want)), "Y1[" + i + "," + n + "]");
        }
      }
    }
    // the outliers no longer set the int8 step: closer to the fp32 product than without the split
    float[] plain;
    try (CaiReader r = CaiReader.open(compress(CompressionOptions.builder().preset(Preset.INT8_FAST).threads(1)
        .build()))) {
      plain = reference(x, unpack(r, "W1"), 1f);
    }
    double errSplit = 0;
    double errPlain = 0;
    for (int i = 0; i < M; i++) {
      for (int n = 0; n < N; n++) {
        double exact = 0;
        for (int k = 0; k < K; k++) {
          exact += (double) x[i * K + k] * w1[k * N + n];
        }
        errSplit += Math.pow(y[0][i * N + n] - OnnxTestModels.weights(N, 12)[n] - exact, 2);
        errPlain += Math.pow(plain[i * N + n] - exact, 2);
      }
    }
    assertTrue(errSplit < errPlain / 2, "split " + errSplit + ", plain " + errPlain);
  }

  @Test
  void otherPresetsListNoInt8Activations() throws Exception {
    Path cai = compress(CompressionOptions.builder().preset(Preset.INT8).threads(1).build());
    try (CaiReader r = CaiReader.open(cai)) {
      assertTrue(!r.manifest().containsKey("int8Activations"), r.manifest().toString());
    }
  }

  /**
   * Output channel n's stored codes (K of them; the int8 value is the code minus {@code zero}, 2^(bits
   * - 1)) and scale, for W [K, N] or [N, K].
   */
  record Weight(byte[][] codes, float[] scales, int zero) {}

  static Weight unpack(CaiReader r, String name) throws Exception {
    CaiReader.StoredTensor st = r.readStored(name);
    QuantCodec q = (QuantCodec) st.codec();
    assertEquals(QuantCodec.Granularity.CHANNEL, q.granularity());
    QuantCodec.QuantizedTensor qt = q.unpack(r.entry(name).info(), st.payload());
    byte[][] codes = new byte[qt.fibers()][];
    for (int f = 0; f < codes.length; f++) {
      codes[f] = qt.codes(f);
    }
    return new Weight(codes, qt.scales(), 1 << (q.bits() - 1));
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
          acc += (q[i * K + k] - zp) * ((w.codes()[n][k] & 0xff) - w.zero());
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
