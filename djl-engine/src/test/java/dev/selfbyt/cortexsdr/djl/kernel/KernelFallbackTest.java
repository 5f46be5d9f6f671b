package dev.selfbyt.cortexsdr.djl.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * How a JVM picks its kernels, each case in a child JVM started as a user would: the native
 * library from the jar; the library missing from the jar or failing to load (a broken file in its
 * place), which falls back to Java kernels with one log line saying why and giving the same
 * results within float tolerance; the native kernels disabled or forced to an instruction set by
 * system property.
 */
class KernelFallbackTest {
  @TempDir
  Path tmp;

  /** What a child JVM printed: its log lines and its product. */
  record Run(String kernels, List<String> logLines, float[] result) {}

  @Test
  void nativeKernelsLoadFromTheJarOnAPlainJvm() throws Exception {
    Run r = run(classes(), List.of());
    assertTrue(r.kernels().startsWith("native ("), r.toString());
    assertEquals(1, r.logLines().size(), "one log line: " + r.logLines());
    assertTrue(r.logLines().get(0).contains("native"), r.logLines().get(0));
  }

  @Test
  void aMissingLibraryFallsBackToScalarJavaWithOneLogLine() throws Exception {
    Path copy = copyClasses(false);
    Run base = run(classes(), List.of());
    Run r = run(copy, List.of());
    assertEquals("scalar", r.kernels());
    assertEquals(1, r.logLines().size(), "one log line: " + r.logLines());
    String line = r.logLines().get(0);
    assertTrue(line.contains("libcortexsdr_kernels.so") && line.contains("scalar Java")
        && line.contains("--add-modules jdk.incubator.vector"), line);
    assertClose(base.result(), r.result());
  }

  @Test
  void aLibraryThatFailsToLoadFallsBackToTheVectorApiWithOneLogLine() throws Exception {
    Path copy = copyClasses(true);
    Run base = run(classes(), List.of());
    Run r = run(copy, List.of("--add-modules", "jdk.incubator.vector"));
    assertTrue(r.kernels().startsWith("vector"), r.toString());
    assertEquals(1, r.logLines().size(), "one log line: " + r.logLines());
    assertTrue(r.logLines().get(0).contains("did not load"), r.logLines().get(0));
    assertClose(base.result(), r.result());
  }

  @Test
  void systemPropertiesDisableOrForceTheNativeKernels() throws Exception {
    Run off = run(classes(), List.of("-Ddev.selfbyt.cortexsdr.djl.native=false"));
    assertEquals("scalar", off.kernels());
    assertTrue(off.logLines().get(0).contains("disabled by -Ddev.selfbyt.cortexsdr.djl.native=false"),
        off.logLines().get(0));
    Run portable = run(classes(), List.of("-Ddev.selfbyt.cortexsdr.djl.native.isa=portable"));
    assertTrue(portable.kernels().equals("native (portable)") || portable.kernels().equals("native (neon)"),
        portable.kernels());
    Run bad = run(classes(), List.of("-Ddev.selfbyt.cortexsdr.djl.native.isa=sse9"));
    assertEquals("scalar", bad.kernels());
    assertTrue(bad.logLines().get(0).contains("unknown native instruction set 'sse9'"), bad.logLines().get(0));
    assertClose(off.result(), portable.result());
  }

  private static void assertClose(float[] expected, float[] actual) {
    assertEquals(expected.length, actual.length);
    for (int i = 0; i < expected.length; i++) {
      assertEquals(expected[i], actual[i], 1e-4f * (1 + Math.abs(expected[i])), "at " + i);
    }
  }

  /** This module's compiled classes (with the native library under native/). */
  private static Path classes() {
    return Path.of("target/classes").toAbsolutePath();
  }

  /** A copy of the classes without the native library, or with a broken file in its place. */
  private Path copyClasses(boolean broken) throws IOException {
    Path src = classes();
    Path dst = tmp.resolve(broken ? "broken" : "missing");
    try (Stream<Path> files = Files.walk(src)) {
      for (Path f : files.collect(Collectors.toList())) {
        Path to = dst.resolve(src.relativize(f).toString());
        if (Files.isDirectory(f)) {
          Files.createDirectories(to);
        } else if (!f.getFileName().toString().endsWith(".so")) {
          Files.copy(f, to);
        } else if (broken) {
          Files.write(to, "not an ELF file".getBytes(StandardCharsets.UTF_8));
        }
      }
    }
    return dst;
  }

  private Run run(Path classes, List<String> jvmFlags) throws Exception {
    List<String> cp = new ArrayList<>();
    cp.add(classes.toString());
    for (String e : System.getProperty("java.class.path").split(File.pathSeparator)) {
      if (!Path.of(e).toAbsolutePath().equals(classes())) {
        cp.add(e);
      }
    }
    List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString()));
    cmd.addAll(jvmFlags);
    cmd.addAll(List.of("-cp", String.join(File.pathSeparator, cp), KernelChoiceMain.class.getName()));
    Process p = new ProcessBuilder(cmd).start();
    byte[] out = p.getInputStream().readAllBytes();
    String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
    assertEquals(0, p.waitFor(), err);
    List<String> lines = Arrays.asList(new String(out, StandardCharsets.UTF_8).split("\n"));
    List<String> log = err.lines().filter(l -> l.contains("CortexSDR engine kernels")).collect(Collectors.toList());
    float[] y = new float[lines.size() - 1];
    for (int i = 1; i < lines.size(); i++) {
      y[i - 1] = Float.intBitsToFloat(Integer.parseInt(lines.get(i).trim()));
    }
    return new Run(lines.get(0).replaceFirst("^kernels=", ""), log, y);
  }
}
