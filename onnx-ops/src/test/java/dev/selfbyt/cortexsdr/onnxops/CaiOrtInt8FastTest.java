package dev.selfbyt.cortexsdr.onnxops;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
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
    try (OrtSession.SessionOptions o1 = new OrtSession.SessionOptions();
        OrtSession.SessionOptions o2 = new OrtSession.SessionOptions()) {
      o1.addConfigEntry(CaiOrt.DENORMAL_AS_ZERO_KEY, "1"); // what CaiOrt sets by default
      o2.setOptimizedModelFilePath(optimized.toString());
      o2.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.EXTENDED_OPT);
      try (OrtSession fromFile = ENV.createSession(exported.toString(), o1);
          OrtSession oneCall = CaiOrt.createSession(ENV, cai, o2)) {
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
    try (OrtSession.SessionOptions o = new OrtSession.SessionOptions();
        OrtSession s = CaiOrt.createSession(ENV, cai, o)) {
      assertEquals("1", o.getConfigEntries().get(CaiOrt.DENORMAL_AS_ZERO_KEY));
    }
  }

  @Test
  void theCallersDenormalSettingWins() throws Exception {
    try (OrtSession.SessionOptions o = new OrtSession.SessionOptions()) {
      o.addConfigEntry(CaiOrt.DENORMAL_AS_ZERO_KEY, "0");
      try (OrtSession s = CaiOrt.createSession(ENV, cai, o)) {
        assertEquals("0", o.getConfigEntries().get(CaiOrt.DENORMAL_AS_ZERO_KEY));
      }
    }
  }

  @Test
  void theSystemPropertyTurnsTheFlushOff() throws Exception {
    System.setProperty(CaiOrt.DENORMAL_AS_ZERO_PROPERTY, "false");
    try (OrtSession.SessionOptions o = new OrtSession.SessionOptions();
        OrtSession s = CaiOrt.createSession(ENV, cai, o)) {
      assertFalse(o.getConfigEntries().containsKey(CaiOrt.DENORMAL_AS_ZERO_KEY), o.getConfigEntries().toString());
      assertTrue(CaiOrtTest.run(s, 1).length > 0);
    } finally {
      System.clearProperty(CaiOrt.DENORMAL_AS_ZERO_PROPERTY);
    }
  }
}
