package dev.selfbyt.cortexsdr.djl.kernel;

import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;

/**
 * Every kernel implementation this machine runs, for tests that compare them all with a reference:
 * scalar Java, the Vector API (the tests run with {@code --add-modules jdk.incubator.vector}) and
 * the native library at each instruction set the CPU supports, forced in turn. On linux-x86_64 the
 * native library must load (Maven builds it before the tests); instruction sets the CPU lacks are
 * left out, and {@link #skipped()} says which.
 */
final class AllKernels {
  private AllKernels() {}

  static List<Kernels> list() {
    List<Kernels> out = new ArrayList<>();
    out.add(Kernels.scalar());
    Kernels v = Kernels.vector();
    assertNotNull(v, "the tests run with --add-modules jdk.incubator.vector");
    out.add(v);
    out.addAll(natives());
    return out;
  }

  /** The native kernels at every instruction set this CPU runs. */
  static List<Kernels> natives() {
    if (NativeLibrary.platform().equals("linux-x86_64")) {
      assertNotNull(NativeLibrary.load(), "the native kernels load on linux-x86_64: " + NativeLibrary.failure());
    }
    List<Kernels> out = new ArrayList<>();
    for (String isa : NativeKernels.supported()) {
      out.add(NativeKernels.of(isa));
    }
    assertTrue(NativeLibrary.load() == null || !out.isEmpty(), "the portable native kernels run on any CPU");
    return out;
  }

  /** The native instruction sets this CPU lacks, with the reason, for test output. */
  static String skipped() {
    List<String> s = new ArrayList<>(List.of(NativeKernels.ISAS));
    s.removeAll(NativeKernels.supported());
    return s.isEmpty() ? "none" : String.join(", ", s) + " (not supported by this CPU)";
  }
}
