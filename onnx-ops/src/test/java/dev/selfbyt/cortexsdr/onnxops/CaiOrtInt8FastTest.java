package dev.selfbyt.cortexsdr.onnxops;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import dev.selfbyt.cortexsdr.converters.onnx.OnnxModelReader;
import dev.selfbyt.cortexsdr.converters.onnx.QuantizedOnnxExporter;
import dev.selfbyt.cortexsdr.core.CompressionOptions;
import dev.selfbyt.cortexsdr.core.CortexSdr;
import dev.selfbyt.cortexsdr.core.Preset;
import dev.selfbyt.cortexsdr.core.format.CaiReader;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * all-MiniLM-L6-v2 under {@code --preset int8-fast}, opened with {@link CaiOrt}: integer MatMuls
 * that ONNX Runtime fuses, the same outputs as the {@code export-onnx} file, and denormals flushed
 * by default.
 */
class CaiOrtInt8FastTest {
  @TempDir static Path dir;
  static Path cai;
  static final OrtEnvironment ENV = OrtEnvironment.getEnvironment();

  @BeforeAll
  static void compress() throws Exception {
    Path fp32 = dir.resolve("all-minilm-l6-v2.onnx");
    try (InputStream in = CaiOrtInt8FastTest.class.getResourceAsStream("/all-minilm-l6-v2.onnx")) {
      Files.copy(in, fp32);
    }
    cai = dir.resolve("minilm-int8-fast.cai");
    try (OnnxModelReader onnx = OnnxModelReader.open(fp32)) {
      CortexSdr.compress(onnx, cai, CompressionOptions.builder().preset(Preset.INT8_FAST).threads(2).build());
    }
  }

  @Test
  void int8FastRunsAsFusedIntegerMatMulsAndMatchesItsExportBitForBit() throws Exception {
    Path exported = dir.resolve("minilm-int8-fast.quantized.onnx");
    List<QuantizedOnnxExporter.Form> forms;
    try (CaiReader r = CaiReader.open(cai)) {
      forms = QuantizedOnnxExporter.export(r, exported, 0);
    }
    assertEquals(36, forms.stream().filter(f -> f.form().startsWith("MatMulInteger")).count(), forms.toString());
    Path optimized = dir.resolve("optimized.onnx");
    CaiOrtOptions options = CaiOrtOptions.builder().sessionOptions(so -> {
      so.setOptimizedModelFilePath(optimized.toString());
      so.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.EXTENDED_OPT);
    }).build();
    try (OrtSession.SessionOptions o1 = new OrtSession.SessionOptions()) {
      o1.addConfigEntry(CaiOrt.DENORMAL_AS_ZERO_KEY, "1"); // what CaiOrt sets by default
      try (OrtSession fromFile = ENV.createSession(exported.toString(), o1);
          CaiOrtSession caiSession = CaiOrt.open(ENV, cai, options)) {
        OrtSession oneCall = caiSession.session();
        for (long seed = 1; seed <= 3; seed++) {
          float[] a = CaiOrtTest.run(fromFile, seed);
          float[] b = CaiOrtTest.run(oneCall, seed);
          assertEquals(128 * 384, a.length);
          assertArrayEquals(a, b, 0f, "same graph, same weights, same outputs (input " + seed + ")");
        }
      }
    }
    ModelProto opt = ModelProto.parseFrom(Files.readAllBytes(optimized));
    long fused = opt.getGraph().getNodeList().stream()
        .filter(n -> n.getOpType().equals("DynamicQuantizeMatMul") || n.getOpType().equals("MatMulIntegerToFloat"))
        .count();
    assertEquals(36, fused, "every integer MatMul fused into one ONNX Runtime kernel");
    assertFalse(opt.getGraph().getNodeList().stream().anyMatch(n -> n.getOpType().equals("MatMulInteger")));
  }

  @Test
  void denormalsAreFlushedByDefault() throws Exception {
    try (OrtSession.SessionOptions o = CaiOrtOptions.defaults().newSessionOptions()) {
      assertEquals("1", o.getConfigEntries().get(CaiOrt.DENORMAL_AS_ZERO_KEY));
    }
    try (CaiOrtSession s = CaiOrt.open(ENV, cai)) {
      assertTrue(CaiOrtTest.run(s.session(), 1).length > 0);
    }
  }

  @Test
  void theCallersDenormalSettingWins() throws Exception {
    CaiOrtOptions keep = CaiOrtOptions.builder().configEntry(CaiOrt.DENORMAL_AS_ZERO_KEY, "0").build();
    try (OrtSession.SessionOptions o = keep.newSessionOptions()) {
      assertEquals("0", o.getConfigEntries().get(CaiOrt.DENORMAL_AS_ZERO_KEY));
    }
    try (OrtSession.SessionOptions o = CaiOrtOptions.builder().denormalAsZero(false).build().newSessionOptions()) {
      assertFalse(o.getConfigEntries().containsKey(CaiOrt.DENORMAL_AS_ZERO_KEY), o.getConfigEntries().toString());
    }
    try (CaiOrtSession s = CaiOrt.open(ENV, cai, keep)) {
      assertTrue(CaiOrtTest.run(s.session(), 1).length > 0);
    }
  }

  @Test
  void badOptionsAreRefusedWhenBuilt() {
    IllegalArgumentException threads = assertThrows(IllegalArgumentException.class,
        () -> CaiOrtOptions.builder().intraOpThreads(-1));
    assertTrue(threads.getMessage().contains("intra-op threads"), threads.getMessage());
    IllegalArgumentException level = assertThrows(IllegalArgumentException.class,
        () -> CaiOrtOptions.builder().accuracyLevel(5));
    assertTrue(level.getMessage().contains("accuracy level 5"), level.getMessage());
    IllegalArgumentException version = assertThrows(IllegalArgumentException.class,
        () -> CaiOrtOptions.builder().ortVersion("1.12"));
    assertTrue(version.getMessage().contains("too old"), version.getMessage());
  }

  @Test
  void theSystemPropertyIsOnlyTheDefault() throws Exception {
    System.setProperty(CaiOrt.DENORMAL_AS_ZERO_PROPERTY, "false");
    try (OrtSession.SessionOptions off = CaiOrtOptions.defaults().newSessionOptions();
        OrtSession.SessionOptions on = CaiOrtOptions.builder().denormalAsZero(true).build().newSessionOptions()) {
      assertFalse(off.getConfigEntries().containsKey(CaiOrt.DENORMAL_AS_ZERO_KEY), off.getConfigEntries().toString());
      assertEquals("1", on.getConfigEntries().get(CaiOrt.DENORMAL_AS_ZERO_KEY), "the builder overrides the property");
    } finally {
      System.clearProperty(CaiOrt.DENORMAL_AS_ZERO_PROPERTY);
    }
    System.setProperty(CaiOrt.DENORMAL_AS_ZERO_PROPERTY, "maybe");
    try {
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class, CaiOrtOptions::builder);
      assertTrue(e.getMessage().contains("-D" + CaiOrt.DENORMAL_AS_ZERO_PROPERTY + "=maybe"), e.getMessage());
    } finally {
      System.clearProperty(CaiOrt.DENORMAL_AS_ZERO_PROPERTY);
    }
  }
}
