package dev.selfbyt.cortexsdr.onnxops;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

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
}
