package dev.selfbyt.cortexsdr.converters.onnx;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * ONNX Runtime from a JVM started as IDEs and build tools start programs: with a long class path
 * (here over 11 KB). ONNX Runtime 1.29.0's {@code OrtEnvironment.getEnvironment()} dies with a
 * segmentation fault there on a default 1 MB thread stack; {@link OrtEnvironments#get()} does not.
 */
class OrtEnvironmentsTest {
  @TempDir Path dir;

  /** The child JVM: creates the environment the project's way, then a session on the main thread. */
  public static final class Child {
    private Child() {}

    public static void main(String[] args) throws Exception {
      OrtEnvironment env = OrtEnvironments.get();
      try (OrtSession s = env.createSession(args[0], new OrtSession.SessionOptions())) {
        System.out.println("session inputs " + s.getInputNames());
      }
      System.out.println("same environment " + (OrtEnvironments.get() == OrtEnvironment.getEnvironment()));
    }
  }

  @Test
  void aSessionOpensInAJvmWithALongClassPath() throws Exception {
    Path model = dir.resolve("mlp.onnx");
    Files.write(model, OnnxTestModels.matMul(16, 8, false, dir).toByteArray());
    StringBuilder cp = new StringBuilder(System.getProperty("java.class.path"));
    for (int i = 0; i < 200; i++) { // entries that do not exist, as stale IDE class paths have
      cp.append(File.pathSeparator).append(dir.resolve("lib" + i + "/some-library-1.2.3.jar"));
    }
    assertTrue(cp.length() > 11_000, "class path of " + cp.length() + " characters");
    List<String> cmd = new ArrayList<>(List.of(ProcessHandle.current().info().command().orElse("java"),
        "-cp", cp.toString(), Child.class.getName(), model.toString()));
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    assertTrue(p.waitFor(120, TimeUnit.SECONDS), "child JVM did not finish");
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertEquals(0, p.exitValue(), "exit " + p.exitValue() + " (139 = segmentation fault):\n" + out);
    assertTrue(out.contains("session inputs [X]") && out.contains("same environment true"), out);
  }

  @Test
  void everyCallGivesTheOneEnvironment() {
    assertSame(OrtEnvironments.get(), OrtEnvironments.get());
    assertSame(OrtEnvironment.getEnvironment(), OrtEnvironments.get());
  }
}
