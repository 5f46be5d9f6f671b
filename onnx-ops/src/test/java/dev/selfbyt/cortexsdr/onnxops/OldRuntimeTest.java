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
    double expected;
    ai.onnxruntime.OrtEnvironment env = ai.onnxruntime.OrtEnvironment.getEnvironment();
    try (ai.onnxruntime.OrtSession.SessionOptions o = new ai.onnxruntime.OrtSession.SessionOptions();
        ai.onnxruntime.OrtSession s = env.createSession(file.toString(), o)) {
      expected = OldRuntimeInt8Probe.sumOfSquares(env, s);
    }
    Path jar = Path.of("target/old-runtime/onnxruntime-1.16.3.jar");
    String cp = String.join(File.pathSeparator, jar.toString(), "target/test-classes");
    Process p = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-cp", cp,
        OldRuntimeInt8Probe.class.getName(), file.toString()).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
    assertEquals(0, p.waitFor(), out);
    String last = out.lines().reduce((a, b) -> b).orElse("");
    assertTrue(last.startsWith("OK 1.16.3 "), out);
    double got = Double.parseDouble(last.split(" ")[2]);
    assertEquals(expected, got, 1e-3 * expected, "ONNX Runtime 1.16.3 computes what 1.29.0 does");
  }
}
