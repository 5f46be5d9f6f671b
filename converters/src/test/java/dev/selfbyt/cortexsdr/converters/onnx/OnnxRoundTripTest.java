package dev.selfbyt.cortexsdr.converters.onnx;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.selfbyt.cortexsdr.core.CompressionOptions;
import dev.selfbyt.cortexsdr.core.CompressionStats;
import dev.selfbyt.cortexsdr.core.CortexSdr;
import dev.selfbyt.cortexsdr.core.Preset;
import dev.selfbyt.cortexsdr.core.format.CaiReader;
import dev.selfbyt.cortexsdr.core.tensor.TensorInfo;
import dev.selfbyt.cortexsdr.core.tensor.TensorRole;
import java.io.IOException;
import java.nio.FloatBuffer;
import java.nio.LongBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** ONNX in, .cai, ONNX out, run in a real ONNX Runtime. */
class OnnxRoundTripTest {
  @TempDir static Path dir;
  static Path miniLm;
  static OrtEnvironment env;
  // a fixed sequence of vocabulary ids between [CLS] (101) and [SEP] (102)
  static final long[] TOKENS = {101, 1996, 6240, 8522, 2379, 1996, 2911, 102};

  @BeforeAll
  static void setUp() throws IOException {
    miniLm = OnnxTestModels.miniLm(dir);
    env = OrtEnvironment.getEnvironment();
  }

  @Test
  void findsMiniLmWeightsAndTheirRoles() throws IOException {
    try (OnnxModelReader onnx = OnnxModelReader.open(miniLm)) {
      long params = 0;
      int matmuls = 0;
      for (TensorInfo t : onnx.tensors()) {
        params += t.numel();
        if (t.role() == TensorRole.MATMUL_WEIGHT) {
          matmuls++;
          assertEquals(0, t.reductionAxis(), t.toString()); // [K, N]
        }
      }
      assertTrue(params > 22_000_000 && params < 23_000_000, "parameters: " + params);
      assertEquals(36, matmuls, "6 layers x (q, k, v, o, up, down)");
      TensorInfo emb = onnx.tensors().stream().filter(t -> t.name().contains("word_embeddings")).findFirst().orElseThrow();
      assertEquals(TensorRole.EMBEDDING, emb.role());
      assertEquals(1, emb.reductionAxis());
      assertTrue(onnx.graph().length < 200_000, "stripped graph of " + onnx.graph().length + " bytes");
    }
  }

  @Test
  void losslessRoundTripGivesBitIdenticalOutputs() throws Exception {
    Path cai = dir.resolve("minilm-lossless.cai");
    Path back = dir.resolve("minilm-lossless.onnx");
    CompressionStats stats;
    try (OnnxModelReader onnx = OnnxModelReader.open(miniLm)) {
      stats = CortexSdr.compress(onnx, cai, CompressionOptions.builder().preset(Preset.LOSSLESS).build());
    }
    try (CaiReader r = CaiReader.open(cai)) {
      OnnxExporter.exportDecoded(r, back);
    }
    System.out.printf("MiniLM lossless: %.3fx%n", stats.ratio());
    assertArrayEquals(run(miniLm), run(back));
  }

  @Test
  void int8KeepsTheOutputsClose() throws Exception {
    Path cai = dir.resolve("minilm-int8.cai");
    Path back = dir.resolve("minilm-int8.onnx");
    CompressionStats stats;
    try (OnnxModelReader onnx = OnnxModelReader.open(miniLm)) {
      stats = CortexSdr.compress(onnx, cai, CompressionOptions.builder().preset(Preset.INT8).build());
    }
    try (CaiReader r = CaiReader.open(cai)) {
      OnnxExporter.exportDecoded(r, back);
    }
    double cos = cosine(meanPool(run(miniLm)), meanPool(run(back)));
    System.out.printf("MiniLM int8: %.3fx, cosine %.5f%n", stats.ratio(), cos);
    assertTrue(stats.ratio() > 3.8, "ratio " + stats.ratio());
    assertTrue(cos > 0.999, "cosine " + cos);
  }

  /** The quantized export computes what the decoded export computes, with the weights kept small. */
  @Test
  void quantizedExportAgreesWithTheDecodedOne() throws Exception {
    CompressionOptions[] presets = {
        CompressionOptions.builder().preset(Preset.INT4).build(),
        CompressionOptions.builder().preset(Preset.INT8).build(),
        // 5-bit symmetric: no operator has it, so the export widens the codes to 8 bits
        CompressionOptions.builder().preset(Preset.INT4).bits(5).symmetric(true).blockSize(64).build()};
    for (CompressionOptions opts : presets) {
      String tag = opts.preset().id() + "-" + opts.bits() + (opts.symmetric() ? "s" : "a");
      Path cai = dir.resolve("minilm-" + tag + ".cai");
      Path decoded = dir.resolve("minilm-" + tag + "-decoded.onnx");
      Path quantized = dir.resolve("minilm-" + tag + "-quantized.onnx");
      try (OnnxModelReader onnx = OnnxModelReader.open(miniLm)) {
        CortexSdr.compress(onnx, cai, opts);
      }
      java.util.List<QuantizedOnnxExporter.Form> forms;
      try (CaiReader r = CaiReader.open(cai)) {
        OnnxExporter.exportDecoded(r, decoded);
        forms = QuantizedOnnxExporter.export(r, quantized, 0);
      }
      long nbits = forms.stream().filter(f -> f.form().startsWith("MatMulNBits")).count();
      long gathers = forms.stream().filter(f -> f.form().startsWith("GatherBlockQuantized")).count();
      assertEquals(36, nbits, tag + ": MatMul weights as MatMulNBits");
      assertEquals(2, gathers, tag + ": word and position embeddings as GatherBlockQuantized");
      assertTrue(Files.size(quantized) < Files.size(decoded) / 3, tag + ": " + Files.size(quantized) + " bytes");
      float[] a = run(decoded);
      float[] b = run(quantized);
      double cos = cosine(meanPool(a), meanPool(b));
      System.out.printf("MiniLM %s: quantized export %d bytes, cosine vs decoded export %.7f%n", tag,
          Files.size(quantized), cos);
      assertTrue(cos > 0.99999, tag + " cosine " + cos);
    }
  }

  @Test
  void constantNodesAndExternalDataRoundTrip() throws Exception {
    for (boolean external : new boolean[] {false, true}) {
      Path sub = Files.createDirectories(dir.resolve(external ? "ext" : "const"));
      Path model = sub.resolve("mlp.onnx");
      Files.write(model, OnnxTestModels.matMul(96, 40, external, sub).toByteArray());
      Path cai = sub.resolve("mlp.cai");
      try (OnnxModelReader onnx = OnnxModelReader.open(model)) {
        TensorInfo w = onnx.tensors().stream().filter(t -> t.name().equals("W")).findFirst().orElseThrow();
        assertEquals(TensorRole.MATMUL_WEIGHT, w.role());
        TensorInfo b = onnx.tensors().stream().filter(t -> t.name().equals("B")).findFirst().orElseThrow();
        assertEquals(TensorRole.BIAS, b.role());
        CortexSdr.compress(onnx, cai, CompressionOptions.builder().preset(Preset.LOSSLESS).build());
      }
      Path back = sub.resolve("back.onnx");
      try (CaiReader r = CaiReader.open(cai)) {
        OnnxExporter.exportDecoded(r, back);
      }
      assertFalse(Files.readAllBytes(back).length < 96 * 40 * 4, "weights are inline in the export");
      float[] x = OnnxTestModels.weights(96, 9);
      assertArrayEquals(runMlp(model, x), runMlp(back, x), external ? "external data" : "constant node");
    }
  }

  /** int4 weights travel as their packed bytes; string tensors stay in the graph untouched. */
  @Test
  void packed4BitAndStringTensorsSurvive() throws Exception {
    Path sub = Files.createDirectories(dir.resolve("odd-types"));
    ai.onnx.proto.OnnxMl.ModelProto m = OnnxTestModels.matMul(16, 8, false, sub);
    ai.onnx.proto.OnnxMl.TensorProto int4 = ai.onnx.proto.OnnxMl.TensorProto.newBuilder().setName("packed")
        .setDataType(22).addDims(3).addDims(5)
        .setRawData(com.google.protobuf.ByteString.copyFrom(new byte[] {1, 35, 69, 103, -119, -85, -51, -17}))
        .build();
    ai.onnx.proto.OnnxMl.TensorProto text = ai.onnx.proto.OnnxMl.TensorProto.newBuilder().setName("labels")
        .setDataType(ai.onnx.proto.OnnxMl.TensorProto.DataType.STRING_VALUE).addDims(2)
        .addStringData(com.google.protobuf.ByteString.copyFromUtf8("whale"))
        .addStringData(com.google.protobuf.ByteString.copyFromUtf8("ship")).build();
    Path model = sub.resolve("odd.onnx");
    Files.write(model, m.toBuilder().setGraph(m.getGraph().toBuilder().addInitializer(int4).addInitializer(text))
        .build().toByteArray());
    Path cai = sub.resolve("odd.cai");
    try (OnnxModelReader onnx = OnnxModelReader.open(model)) {
      TensorInfo packed = onnx.tensors().stream().filter(t -> t.name().equals("packed")).findFirst().orElseThrow();
      assertEquals(8, packed.numel(), "15 int4 values in 8 bytes");
      CortexSdr.compress(onnx, cai, CompressionOptions.builder().preset(Preset.INT4).build());
    }
    Path back = sub.resolve("back.onnx");
    try (CaiReader r = CaiReader.open(cai)) {
      OnnxExporter.exportDecoded(r, back);
    }
    ai.onnx.proto.OnnxMl.GraphProto g = ai.onnx.proto.OnnxMl.ModelProto.parseFrom(Files.readAllBytes(back)).getGraph();
    assertEquals(int4, g.getInitializerList().stream().filter(t -> t.getName().equals("packed")).findFirst().orElseThrow());
    assertEquals(text, g.getInitializerList().stream().filter(t -> t.getName().equals("labels")).findFirst().orElseThrow());
  }

  static float[] run(Path model) throws OrtException {
    try (OrtSession s = env.createSession(model.toString(), new OrtSession.SessionOptions())) {
      long[] shape = {1, TOKENS.length};
      long[] ones = new long[TOKENS.length];
      java.util.Arrays.fill(ones, 1);
      try (OnnxTensor ids = OnnxTensor.createTensor(env, LongBuffer.wrap(TOKENS), shape);
           OnnxTensor mask = OnnxTensor.createTensor(env, LongBuffer.wrap(ones), shape);
           OnnxTensor types = OnnxTensor.createTensor(env, LongBuffer.wrap(new long[TOKENS.length]), shape);
           OrtSession.Result r = s.run(Map.of("input_ids", ids, "attention_mask", mask, "token_type_ids", types))) {
        FloatBuffer out = ((OnnxTensor) r.get(0)).getFloatBuffer();
        float[] a = new float[out.remaining()];
        out.get(a);
        return a;
      }
    }
  }

  static float[] runMlp(Path model, float[] x) throws OrtException {
    try (OrtSession s = env.createSession(model.toString(), new OrtSession.SessionOptions());
         OnnxTensor in = OnnxTensor.createTensor(env, FloatBuffer.wrap(x), new long[] {1, x.length});
         OrtSession.Result r = s.run(Map.of("X", in))) {
      FloatBuffer out = ((OnnxTensor) r.get(0)).getFloatBuffer();
      float[] a = new float[out.remaining()];
      out.get(a);
      return a;
    }
  }

  static float[] meanPool(float[] hidden) {
    int d = 384;
    float[] m = new float[d];
    int n = hidden.length / d;
    for (int i = 0; i < hidden.length; i++) {
      m[i % d] += hidden[i] / n;
    }
    return m;
  }

  static double cosine(float[] a, float[] b) {
    return dev.selfbyt.cortexsdr.core.calibrate.Metrics.cosine(a, b);
  }
}
