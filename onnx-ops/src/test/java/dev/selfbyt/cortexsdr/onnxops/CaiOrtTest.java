package dev.selfbyt.cortexsdr.onnxops;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.selfbyt.cortexsdr.converters.onnx.OnnxCalibrator;
import dev.selfbyt.cortexsdr.converters.onnx.OnnxModelReader;
import dev.selfbyt.cortexsdr.converters.onnx.OrtVersion;
import dev.selfbyt.cortexsdr.converters.onnx.QuantizedOnnxExporter;
import dev.selfbyt.cortexsdr.core.CompressionOptions;
import dev.selfbyt.cortexsdr.core.CortexSdr;
import dev.selfbyt.cortexsdr.core.Preset;
import dev.selfbyt.cortexsdr.core.format.CaiException;
import dev.selfbyt.cortexsdr.core.format.CaiReader;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A real sentence encoder (all-MiniLM-L6-v2) compressed, then opened with one call. */
class CaiOrtTest {
  @TempDir static Path dir;
  static Path fp32;
  static final OrtEnvironment ENV = OrtEnvironment.getEnvironment();

  @BeforeAll
  static void extractModel() throws Exception {
    fp32 = dir.resolve("all-minilm-l6-v2.onnx");
    try (InputStream in = CaiOrtTest.class.getResourceAsStream("/all-minilm-l6-v2.onnx")) {
      Files.copy(in, fp32);
    }
  }

  static Path compress(Preset preset, String name) throws Exception {
    Path cai = dir.resolve(name);
    try (OnnxModelReader onnx = OnnxModelReader.open(fp32)) {
      CortexSdr.compress(onnx, cai, CompressionOptions.builder().preset(preset).threads(2).build());
    }
    return cai;
  }

  /** 128 token ids drawn from the vocabulary, [CLS] first and [SEP] last. */
  static Map<String, OnnxCalibrator.Input> input(long seed) {
    Random rnd = new Random(seed);
    long[] ids = new long[128];
    long[] mask = new long[128];
    for (int i = 0; i < ids.length; i++) {
      ids[i] = 1000 + rnd.nextInt(29000);
      mask[i] = 1;
    }
    ids[0] = 101;
    ids[127] = 102;
    long[] shape = {1, 128};
    return Map.of("input_ids", OnnxCalibrator.Input.ofLongs(shape, ids),
        "attention_mask", OnnxCalibrator.Input.ofLongs(shape, mask),
        "token_type_ids", OnnxCalibrator.Input.ofLongs(shape, new long[128]));
  }

  static float[] run(OrtSession s, long seed) throws OrtException {
    return OnnxCalibrator.runFirstOutput(ENV, s, input(seed));
  }

  @Test
  void int4CaiOpenedWithOneCallMatchesItsQuantizedExport() throws Exception {
    Path cai = compress(Preset.INT4, "minilm-int4.cai");
    Path exported = dir.resolve("minilm-int4.quantized.onnx");
    List<QuantizedOnnxExporter.Form> forms;
    try (CaiReader r = CaiReader.open(cai)) {
      forms = QuantizedOnnxExporter.export(r, exported, 0);
    }
    assertTrue(forms.stream().anyMatch(f -> f.form().startsWith("MatMulNBits")), "quantized weights: " + forms);
    assertTrue(forms.stream().anyMatch(f -> f.form().equals("decoded")), "some weights are decoded: " + forms);
    try (OrtSession.SessionOptions o1 = new OrtSession.SessionOptions();
        OrtSession fromFile = ENV.createSession(exported.toString(), o1);
        CaiOrtSession caiSession = CaiOrt.open(ENV, cai)) {
      OrtSession oneCall = caiSession.session();
      assertEquals(OrtVersion.ofRuntime(ENV.getVersion()), caiSession.ortVersion(), "for the runtime it runs in");
      for (long seed = 1; seed <= 3; seed++) {
        float[] a = run(fromFile, seed);
        float[] b = run(oneCall, seed);
        assertEquals(128 * 384, a.length);
        assertArrayEquals(a, b, 0f, "same graph, same weights, same outputs (input " + seed + ")");
      }
    }
  }

  @Test
  void sdrCaiUsesSdrMatMulAndMatchesTheDecodedModel() throws Exception {
    Path cai = compress(Preset.SDR, "minilm-sdr.cai");
    SdrMatMulRewriter never = SdrMatMulRewriter.withMinSparsity(1.0);
    SdrMatMulRewriter always = SdrMatMulRewriter.withMinSparsity(0.0);
    try (CaiOrtSession d = CaiOrt.open(ENV, cai, CaiOrtOptions.builder().sdr(never).build());
        CaiOrtSession sp = CaiOrt.open(ENV, cai, CaiOrtOptions.builder().sdr(always).build())) {
      OrtSession decoded = d.session();
      OrtSession sparse = sp.session();
      assertEquals(0, never.rewritten());
      assertEquals(36, always.rewritten(), "all 36 MatMul weights of the 6 layers run as SdrMatMul");
      float[] a = run(decoded, 7);
      float[] b = run(sparse, 7);
      double err = 0;
      double norm = 0;
      for (int i = 0; i < a.length; i++) {
        err += (a[i] - b[i]) * (double) (a[i] - b[i]);
        norm += a[i] * (double) a[i];
      }
      assertTrue(err / norm < 1e-9, "SdrMatMul computes the decoded weights: relative error " + err / norm);

      // ONNX Runtime 1.16 cannot load the operator library: a graph for it decodes the SDR weights
      try (CaiOrtSession old = CaiOrt.open(ENV, cai, CaiOrtOptions.builder().sdr(always).ortVersion("1.16").build())) {
        assertEquals(0, old.forms().stream().filter(f -> f.form().startsWith("SdrMatMul")).count(), old.forms().toString());
        assertTrue(old.decodedBytes() > 36 * 384 * 384 * 4L, "the MatMul weights decoded: " + old.decodedBytes());
        assertArrayEquals(a, run(old.session(), 7), 0f, "the decoded graph, as with the rewriter off");
      }
      assertEquals(36, sp.forms().stream().filter(f -> f.form().startsWith("SdrMatMul")).count());

      // the same graph as a file, for any ONNX Runtime that registers the library
      Path file = dir.resolve("minilm-sdr.sdrmatmul.onnx");
      List<QuantizedOnnxExporter.Form> forms = CaiOrt.export(cai, file, SdrMatMulRewriter.withMinSparsity(0.0));
      assertEquals(36, forms.stream().filter(f -> f.form().startsWith("SdrMatMul")).count(), forms.toString());
      try (OrtSession.SessionOptions o3 = new OrtSession.SessionOptions()) {
        SdrOps.register(o3);
        try (OrtSession fromFile = ENV.createSession(file.toString(), o3)) {
          assertArrayEquals(b, run(fromFile, 7), 0f, "the exported file computes what the session does");
        }
      }
    }
  }

  /**
   * The caller's SessionOptions are never handed to CaiOrt, so they serve a plain session after
   * it. (Before CaiOrtOptions, {@code CaiOrt.createSession(env, cai, o)} added the decoded weights
   * to {@code o}, and {@code env.createSession("model.onnx", o)} then failed with "ORT_FAIL
   * graph.cc:4247 ReplaceInitializedTensorImpl Trying to replace non-external initializer with
   * external data".)
   */
  @Test
  void theCallersSessionOptionsServeAPlainSessionAfterwards() throws Exception {
    Path cai = compress(Preset.INT8, "minilm-int8.cai");
    try (OrtSession.SessionOptions o = new OrtSession.SessionOptions()) {
      o.setIntraOpNumThreads(2);
      CaiOrtOptions twoThreads = CaiOrtOptions.builder().intraOpThreads(2).build();
      float[] fromCai;
      try (CaiOrtSession first = CaiOrt.open(ENV, cai, twoThreads);
          CaiOrtSession second = CaiOrt.open(ENV, cai, twoThreads)) {
        fromCai = run(first.session(), 1);
        assertArrayEquals(fromCai, run(second.session(), 1), 0f, "one options object, two sessions");
        assertTrue(first.decodedBytes() > 0 && first.decodedBytes() < 1_000_000, "biases and norms: " + first.decodedBytes());
      }
      try (OrtSession plain = ENV.createSession(fp32.toString(), o)) {
        float[] reference = run(plain, 1);
        assertEquals(reference.length, fromCai.length);
        assertTrue(cosine(reference, fromCai) > 0.999, "the .cai computes the model: " + cosine(reference, fromCai));
      }
    }
  }

  @Test
  void anOlderTargetRebuildsTheGraphWithItsForms() throws Exception {
    Path cai = compress(Preset.INT8, "minilm-int8-old.cai");
    try (CaiOrtSession newest = CaiOrt.open(ENV, cai);
        CaiOrtSession old = CaiOrt.open(ENV, cai, CaiOrtOptions.builder().ortVersion("1.21").build())) {
      assertEquals(OrtVersion.parse("1.21"), old.ortVersion());
      assertEquals(36, old.forms().stream().filter(f -> f.form().startsWith("DequantizeLinear int8")).count(),
          old.forms().toString());
      assertEquals(36, newest.forms().stream().filter(f -> f.form().startsWith("MatMulNBits int8")).count());
      double cos = cosine(run(newest.session(), 3), run(old.session(), 3));
      assertTrue(cos > 0.999999, "the same weights through other operators: cosine " + cos);
    }
  }

  @Test
  void closingReleasesTheSession() throws Exception {
    Path cai = compress(Preset.INT4, "minilm-int4-close.cai");
    CaiOrtSession s = CaiOrt.open(ENV, cai);
    run(s.session(), 1);
    s.close();
    assertThrows(IllegalStateException.class, () -> run(s.session(), 1), "a closed session refuses to run");
  }

  static double cosine(float[] a, float[] b) {
    double d = 0;
    double na = 0;
    double nb = 0;
    for (int i = 0; i < a.length; i++) {
      d += (double) a[i] * b[i];
      na += (double) a[i] * a[i];
      nb += (double) b[i] * b[i];
    }
    return d / Math.sqrt(na * nb);
  }

  @Test
  void notACaiFileIsAClearError() throws Exception {
    CaiException e = assertThrows(CaiException.class, () -> CaiOrt.open(ENV, fp32));
    assertTrue(e.getMessage().contains(fp32.toString()), e.getMessage());
  }
}
