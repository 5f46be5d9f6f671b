package dev.selfbyt.cortexsdr.it;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.selfbyt.cortexsdr.core.format.CaiReader;
import dev.selfbyt.cortexsdr.core.tensor.TensorInfo;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Memory stays bounded by the tensors in flight: a 1.5 GiB model compresses in a JVM limited to
 * 256 MiB of heap.
 */
class BoundedMemoryIT {
  @TempDir Path dir;

  @Test
  void aModelSixTimesTheHeapCompressesUnderXmx256m() throws Exception {
    Path out = dir.resolve("big.cai");
    Map<String, String> figures = fork("-Xmx256m", out, 1536, "int8", 2);
    long input = Long.parseLong(figures.get("input"));
    assertTrue(input >= 1536L << 20, "model of " + input + " bytes");
    assertTrue(Long.parseLong(figures.get("maxHeap")) <= 256L << 20, "the fork ran with a larger heap");
    System.out.println("bounded memory: " + figures);
    try (CaiReader cai = CaiReader.open(out)) {
      assertEquals(Long.parseLong(figures.get("tensors")), cai.entries().size());
      // spot-check the last weight against its regenerated values
      SyntheticTensorSource src = new SyntheticTensorSource(1536L << 20, 1024, 2048, 42);
      List<TensorInfo> all = src.tensors();
      TensorInfo last = all.get(all.size() - 2);
      float[] expect = src.read(last).floats();
      float[] got = cai.read(last.name()).floats();
      for (int i = 0; i < expect.length; i += 997) {
        assertEquals(expect[i], got[i], 0.04f * 2 / 254 + 1e-6f, last.name() + " element " + i);
      }
      TensorInfo bias = all.get(all.size() - 1);
      assertArrayEquals(src.read(bias).floats(), cai.read(bias.name()).floats());
    }
  }

  /** Runs {@link SyntheticModelCompress} in a new JVM and returns the figures it prints. */
  static Map<String, String> fork(String heap, Path out, int mib, String preset, int threads)
      throws IOException, InterruptedException {
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    List<String> cmd = new ArrayList<>(List.of(java, heap, "-cp", System.getProperty("java.class.path"),
        SyntheticModelCompress.class.getName(), out.toString(), Integer.toString(mib), preset,
        Integer.toString(threads)));
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    int code = p.waitFor();
    assertEquals(0, code, "forked compression failed:\n" + output);
    Map<String, String> m = new TreeMap<>();
    String last = output.strip().lines().reduce((a, b) -> b).orElse("");
    for (String kv : last.split(" ")) {
      String[] parts = kv.split("=", 2);
      if (parts.length == 2) {
        m.put(parts[0], parts[1]);
      }
    }
    assertTrue(m.containsKey("peakHeap"), "unexpected output:\n" + output);
    return m;
  }
}
