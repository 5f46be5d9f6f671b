package dev.selfbyt.cortexsdr.it;

import dev.selfbyt.cortexsdr.core.CompressionOptions;
import dev.selfbyt.cortexsdr.core.CompressionStats;
import dev.selfbyt.cortexsdr.core.CortexSdr;
import dev.selfbyt.cortexsdr.core.Preset;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.nio.file.Path;

/**
 * Compresses a synthetic model of a given size and prints one line of figures, including the
 * peak heap used. Forked by the bounded-memory test under a small {@code -Xmx}.
 *
 * <p>Usage: {@code SyntheticModelCompress OUT.cai TOTAL_MIB PRESET THREADS}
 */
public final class SyntheticModelCompress {
  private SyntheticModelCompress() {}

  public static void main(String[] args) throws Exception {
    Path out = Path.of(args[0]);
    long total = Long.parseLong(args[1]) << 20;
    Preset preset = Preset.parse(args[2]);
    int threads = Integer.parseInt(args[3]);
    SyntheticTensorSource src = new SyntheticTensorSource(total, 1024, 2048, 42);
    CompressionStats s = CortexSdr.compress(src, out,
        CompressionOptions.builder().preset(preset).threads(threads).build());
    long peak = 0;
    for (MemoryPoolMXBean p : ManagementFactory.getMemoryPoolMXBeans()) {
      if (p.getType() == MemoryType.HEAP) {
        peak += p.getPeakUsage().getUsed();
      }
    }
    System.out.printf("input=%d output=%d ratio=%.3f timeMs=%d tensors=%d peakHeap=%d maxHeap=%d%n",
        s.inputBytes(), s.outputBytes(), s.ratio(), s.timeMs(), s.tensors().size(), peak,
        Runtime.getRuntime().maxMemory());
  }
}
