package dev.selfbyt.cortexsdr.onnxops;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The linux-aarch64 build of SdrMatMul's kernels, run for real under the {@code qemu-aarch64}
 * emulator: src/test/c/kernel_check.c (which includes the library's source) is cross-compiled
 * with the same compiler as the bundled library and checks every kernel against a double
 * reference on random shapes. ONNX Runtime's own linux-aarch64 library does not load under
 * qemu-user 7.2 (it crashes in dlopen), so the operator's ONNX Runtime plumbing is tested on
 * x86-64 only. Skipped, with the reason, where the cross compiler or qemu is absent.
 */
class Aarch64KernelTest {
  @TempDir Path dir;

  @Test
  void crossCompiledKernelsMatchTheReferenceUnderQemu() throws Exception {
    Assumptions.assumeTrue(Files.exists(Path.of("target/classes/native/linux-aarch64/libcortexsdr_ops.so")),
        "no linux-aarch64 build (Debian: gcc-aarch64-linux-gnu)");
    Assumptions.assumeTrue(onPath("qemu-aarch64"), "no qemu-aarch64 (Debian: qemu-user)");
    Path check = dir.resolve("kernel_check");
    exec(List.of("aarch64-linux-gnu-gcc", "-O3", "-std=gnu11", "-Itarget/ort-headers", "src/test/c/kernel_check.c",
        "-o", check.toString(), "-lm", "-lpthread"));
    for (String seed : List.of("1", "2", "3")) {
      String out = exec(List.of("qemu-aarch64", "-L", "/usr/aarch64-linux-gnu", check.toString(), seed));
      assertTrue(out.startsWith("ok 40 cases, kernels up to scalar"), out);
    }
  }

  static boolean onPath(String tool) {
    for (String d : System.getenv().getOrDefault("PATH", "").split(":")) {
      if (Files.isExecutable(Path.of(d, tool))) {
        return true;
      }
    }
    return false;
  }

  static String exec(List<String> cmd) throws Exception {
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
    assertEquals(0, p.waitFor(), String.join(" ", cmd) + "\n" + out);
    return out;
  }
}
