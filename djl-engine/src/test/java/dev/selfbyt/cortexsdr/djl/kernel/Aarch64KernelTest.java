package dev.selfbyt.cortexsdr.djl.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The linux-aarch64 build of the native kernels, run for real under the {@code qemu-aarch64}
 * emulator: src/test/c/kernel_check.c (which includes the library's source, so it runs the kernels
 * the jar ships) is compiled with the library's flags for this machine and, with {@code
 * aarch64-linux-gnu-gcc}, for aarch64. Both check every kernel family against a double reference
 * on odd shapes from one seed, and the outputs that must be exact (W8A8 int32 sums, uint8
 * activation codes) hash the same on both CPUs. The aarch64 W8A8 product has two paths, SDOT
 * where the CPU has dotprod and widening NEON where not, chosen at run time: qemu runs it as a CPU
 * with dotprod ({@code -cpu max}) and as one without ({@code -cpu cortex-a53}). A JVM does not load under qemu-user 7.2, so the
 * JNI plumbing itself is tested on the build machine only (KernelsTest). Skipped, with the reason,
 * where the cross compiler or qemu is absent.
 */
class Aarch64KernelTest {
  /** Every kernel family the library exports, as the check program names it. */
  static final List<String> FAMILIES = List.of("gemm_panel", "gemm_rows", "gemm_quant", "decode_panel", "dot_s8", "dot_u4",
      "dequant8", "dot", "exp_shifted", "exp_shifted_sum", "gelu", "layer_norm_row", "layer_norm_rows", "affine_max",
      "axpy", "scale", "softmax_rows", "sparse_rows_g", "sparse_rows_t", "sparse_rows_tb", "sparse_conv",
      "quantize_u8", "range_f32", "quantize_u8_rows", "gemm_u8s8_int32", "gemm_u8s8_scaled");

  /** The library's own compiler flags (src/main/c/build.sh), without those of a shared library. */
  static final List<String> FLAGS = List.of("-O3", "-std=gnu11", "-fno-math-errno", "-fno-trapping-math", "-Wall",
      "-Wextra", "-Werror");

  @TempDir Path dir;

  @Test
  void crossCompiledKernelsMatchTheReferenceAndTheHostUnderQemu() throws Exception {
    Assumptions.assumeTrue(Files.exists(Path.of("target/classes/native/linux-aarch64/libcortexsdr_kernels.so")),
        "no linux-aarch64 build (Debian: gcc-aarch64-linux-gnu)");
    Assumptions.assumeTrue(onPath("qemu-aarch64"), "no qemu-aarch64 (Debian: qemu-user)");
    Path host = dir.resolve("kernel_check_host");
    Path arm = dir.resolve("kernel_check_aarch64");
    Process hostCc = start(compile("gcc", host)); // both at once: compiling is most of the test's time
    Process armCc = start(compile("aarch64-linux-gnu-gcc", arm));
    finish(hostCc, "gcc");
    finish(armCc, "aarch64-linux-gnu-gcc");
    for (String seed : List.of("1", "2", "3")) {
      String hostOut = exec(List.of(host.toString(), seed));
      // each W8A8 path in turn: "max" has dotprod (SDOT), a Cortex-A53 has only baseline NEON
      for (String[] cpu : new String[][] {{"max", "sdot"}, {"cortex-a53", "neon"}}) {
        String armOut = exec(List.of("qemu-aarch64", "-cpu", cpu[0], "-L", "/usr/aarch64-linux-gnu", arm.toString(),
            seed));
        for (String family : FAMILIES) {
          assertTrue(("\n" + armOut).contains("\n" + family + " portable cases="),
              family + " not checked on aarch64:\n" + armOut);
        }
        assertTrue(armOut.contains("\nw8a8_path " + cpu[1] + "\n"), cpu[0] + " took another W8A8 path:\n" + armOut);
        assertEquals(lastLine(hostOut), lastLine(armOut),
            "seed " + seed + ", -cpu " + cpu[0] + ": aarch64 against this machine\n" + armOut + "\n--- host:\n"
                + hostOut);
        assertTrue(lastLine(armOut).startsWith("ok exact="), armOut);
      }
    }
  }

  /** A kernel added to the library without a check here fails this test, not silently passes. */
  @Test
  void everyExportedKernelHasAFamilyInTheCheck() throws Exception {
    String source = Files.readString(Path.of("src/main/c/cortexsdr_kernels.c"));
    Matcher m = Pattern.compile("(?:JFN\\(|NativeKernels_)n([A-Z]\\w*)").matcher(source);
    int exports = 0;
    while (m.find()) {
      if (m.group(1).equals("BestIsa") || m.group(1).equals("IsaNote")) {
        continue; // the CPU probe and its note, not kernels
      }
      // nGemmU8S8 -> gemm_u8s8: an underscore before each upper-case letter that starts a word
      String family = m.group(1).replaceAll("(?<=[a-z0-9])(?=[A-Z][a-z])|(?<=[a-z])(?=[A-Z])", "_")
          .toLowerCase(java.util.Locale.ROOT);
      assertTrue(FAMILIES.stream().anyMatch(f -> f.equals(family) || f.startsWith(family + "_")),
          "n" + m.group(1) + " (" + family + ") is not in kernel_check.c's families " + FAMILIES);
      exports++;
    }
    assertTrue(exports >= 15, "found only " + exports + " kernels in cortexsdr_kernels.c");
  }

  /** The command compiling the check program, with the JNI headers of the JDK running the test. */
  private static List<String> compile(String cc, Path out) {
    Path jdk = Path.of(System.getProperty("java.home"));
    if (!Files.exists(jdk.resolve("include/jni.h"))) {
      jdk = jdk.getParent(); // java.home of a JRE inside a JDK
    }
    Assumptions.assumeTrue(Files.exists(jdk.resolve("include/jni.h")), "no JNI headers under " + jdk);
    List<String> cmd = new ArrayList<>(List.of(cc));
    cmd.addAll(FLAGS);
    cmd.addAll(List.of("-I" + jdk.resolve("include"), "-I" + jdk.resolve("include/linux"),
        "src/test/c/kernel_check.c", "-o", out.toString(), "-lm"));
    return cmd;
  }

  private static String lastLine(String out) {
    return out.substring(out.lastIndexOf('\n') + 1);
  }

  static boolean onPath(String tool) {
    for (String d : System.getenv().getOrDefault("PATH", "").split(":")) {
      if (Files.isExecutable(Path.of(d, tool))) {
        return true;
      }
    }
    return false;
  }

  static Process start(List<String> cmd) throws Exception {
    return new ProcessBuilder(cmd).redirectErrorStream(true).start();
  }

  /** The process's output, once it exited with status 0. */
  static String finish(Process p, String what) throws Exception {
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
    assertEquals(0, p.waitFor(), what + "\n" + out);
    return out;
  }

  static String exec(List<String> cmd) throws Exception {
    return finish(start(cmd), String.join(" ", cmd));
  }
}
