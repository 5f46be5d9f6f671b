package dev.selfbyt.cortexsdr.onnxops;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A real ONNX Runtime that is too old: 1.16.3 (C API 16; the operators need 17), fetched by the
 * build into target/old-runtime, loaded in a fresh JVM in place of 1.29.0.
 */
class OldRuntimeTest {
  @Test
  void registeringOnOnnxRuntime116FailsWithAClearMessage() throws Exception {
    Path jar = Path.of("target/old-runtime/onnxruntime-1.16.3.jar");
    assertTrue(Files.exists(jar), jar + " is fetched by the build (maven-dependency-plugin)");
    String cp = String.join(File.pathSeparator, jar.toString(), "target/test-classes", "target/classes");
    Process p = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-cp", cp,
        OldRuntimeProbe.class.getName()).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
    assertEquals(0, p.waitFor(), out);
    assertTrue(out.contains("OrtException: ") && out.contains(
        "cortexsdr ops (domain ai.cortexsdr) need ONNX Runtime 1.17 or newer (C API version 17); "
            + "this process runs ONNX Runtime 1.16.3: upgrade com.microsoft.onnxruntime:onnxruntime"), out);
  }

  @TempDir Path dir;

  @Test
  void anInt8FastExportRunsOnOnnxRuntime116() throws Exception {
    Path fp32 = dir.resolve("all-minilm-l6-v2.onnx");
    try (java.io.InputStream in = OldRuntimeTest.class.getResourceAsStream("/all-minilm-l6-v2.onnx")) {
      Files.copy(in, fp32);
    }
    Path cai = dir.resolve("int8-fast.cai");
    try (dev.selfbyt.cortexsdr.converters.onnx.OnnxModelReader onnx =
        dev.selfbyt.cortexsdr.converters.onnx.OnnxModelReader.open(fp32)) {
      dev.selfbyt.cortexsdr.core.CortexSdr.compress(onnx, cai, dev.selfbyt.cortexsdr.core.CompressionOptions.builder()
          .preset(dev.selfbyt.cortexsdr.core.Preset.INT8_FAST).threads(2).build());
    }
    Path file = dir.resolve("int8-fast.onnx");
    try (dev.selfbyt.cortexsdr.core.format.CaiReader r = dev.selfbyt.cortexsdr.core.format.CaiReader.open(cai)) {
      dev.selfbyt.cortexsdr.converters.onnx.QuantizedOnnxExporter.export(r, file, 0);
    }
    float[] expected;
    ai.onnxruntime.OrtEnvironment env = ai.onnxruntime.OrtEnvironment.getEnvironment();
    try (ai.onnxruntime.OrtSession.SessionOptions o = new ai.onnxruntime.OrtSession.SessionOptions();
        ai.onnxruntime.OrtSession s = env.createSession(file.toString(), o)) {
      expected = OldRuntimeInt8Probe.output(env, s);
    }
    Path jar = Path.of("target/old-runtime/onnxruntime-1.16.3.jar");
    String cp = String.join(File.pathSeparator, jar.toString(), "target/test-classes");
    Path written = dir.resolve("output-1.16.bin");
    Process p = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-cp", cp,
        OldRuntimeInt8Probe.class.getName(), file.toString(), written.toString()).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
    assertEquals(0, p.waitFor(), out);
    String last = out.lines().reduce((a, b) -> b).orElse("");
    assertTrue(last.startsWith("OK 1.16.3 "), out);
    java.nio.FloatBuffer got = java.nio.ByteBuffer.wrap(Files.readAllBytes(written))
        .order(java.nio.ByteOrder.LITTLE_ENDIAN).asFloatBuffer();
    assertEquals(expected.length, got.remaining());
    // per token: int8 activations round each layer's input again, so the last float bits of an
    // operator that differs between releases (GELU, the norms) move some codes by one step; this
    // model was not calibrated (no smoothing), where that moves its output most. Measured on an
    // AVX2 machine: worst token cosine 1.16.3 vs 1.29.0 0.9899 (the whole output's sum of squares
    // 1692.7 vs 1785.4; the DJL engine's exact integer products give 1793.3).
    double worst = 1;
    int width = expected.length / 128;
    for (int t = 0; t < 128; t++) {
      double dot = 0;
      double na = 0;
      double nb = 0;
      for (int i = t * width; i < (t + 1) * width; i++) {
        dot += (double) expected[i] * got.get(i);
        na += (double) expected[i] * expected[i];
        nb += (double) got.get(i) * got.get(i);
      }
      worst = Math.min(worst, dot / Math.sqrt(na * nb));
    }
    assertTrue(worst >= 0.98, "ONNX Runtime 1.16.3 computes what 1.29.0 does: worst token cosine " + worst);
  }
}
