package dev.selfbyt.cortexsdr.it.bench;

import dev.selfbyt.cortexsdr.converters.onnx.OnnxModelReader;
import dev.selfbyt.cortexsdr.core.CompressionOptions;
import dev.selfbyt.cortexsdr.core.CompressionStats;
import dev.selfbyt.cortexsdr.core.CortexSdr;
import dev.selfbyt.cortexsdr.core.Preset;
import java.io.InputStream;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.Locale;

/**
 * One JVM's share of {@link CompressBenchReport}: compresses one ONNX model with one preset the
 * way {@code cortexsdr compress} does (CLI defaults: all cores, zstd level 3), first cold, then
 * {@code reps} more times, and prints one line per run: {@code run=I openMs=.. timeMs=.. totalMs=..
 * cpuMs=.. inputBytes=.. outputBytes=.. sha256=..} (cpuMs: CPU time of the whole process, JIT and
 * GC included, during open + compress). It uses only API that the code at main's commit
 * 2250c03 already had, so the report runs it on the old jars as well as the new.
 *
 * <p>{@code java -cp benchmarks.jar dev.selfbyt.cortexsdr.it.bench.CompressRun MODEL.onnx PRESET
 * REPS OUT_DIR}
 */
public final class CompressRun {
  private CompressRun() {}

  /**
   * One compression.
   *
   * @param run 0 for the cold one (first in this JVM), then 1..reps
   * @param openMs parsing the ONNX file
   * @param timeMs the compression's own timer
   * @param totalMs open plus compress, wall time
   * @param cpuMs CPU time of the whole process during open plus compress
   * @param inputBytes the ONNX file's size
   * @param outputBytes the {@code .cai} file's size
   * @param sha256 of the {@code .cai}
   */
  public record Run(int run, double openMs, long timeMs, double totalMs, double cpuMs, long inputBytes,
      long outputBytes, String sha256) {
    /** Input megabytes (10^6) per second of wall time, open included. */
    public double mbPerSecond() {
      return inputBytes / 1e3 / totalMs;
    }

    /** The line the main prints. */
    public String line() {
      return String.format(Locale.ROOT, "run=%d openMs=%.1f timeMs=%d totalMs=%.1f cpuMs=%.0f inputBytes=%d "
          + "outputBytes=%d sha256=%s", run, openMs, timeMs, totalMs, cpuMs, inputBytes, outputBytes, sha256);
    }
  }

  public static void main(String[] args) throws Exception {
    for (Run r : runs(Path.of(args[0]), Preset.parse(args[1]), Integer.parseInt(args[2]), Path.of(args[3]))) {
      System.out.println(r.line());
    }
  }

  /** Compresses {@code model} with CLI defaults at {@code preset} into {@code outDir}, cold then {@code reps} more. */
  public static java.util.List<Run> runs(Path model, Preset preset, int reps, Path outDir) throws Exception {
    Path out = outDir.resolve(model.getFileName() + "." + preset.id() + ".cai");
    CompressionOptions options = CompressionOptions.builder().preset(preset).build();
    var os = (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
    java.util.List<Run> runs = new java.util.ArrayList<>();
    for (int run = 0; run <= reps; run++) {
      long cpu0 = os.getProcessCpuTime();
      long t0 = System.nanoTime();
      CompressionStats stats;
      long opened;
      try (OnnxModelReader onnx = OnnxModelReader.open(model)) {
        opened = System.nanoTime();
        stats = CortexSdr.compress(onnx, out, options);
      }
      long t1 = System.nanoTime();
      long cpu1 = os.getProcessCpuTime();
      runs.add(new Run(run, (opened - t0) / 1e6, stats.timeMs(), (t1 - t0) / 1e6, (cpu1 - cpu0) / 1e6,
          Files.size(model), stats.outputBytes(), sha256(out)));
    }
    return runs;
  }

  private static String sha256(Path file) throws Exception {
    MessageDigest md = MessageDigest.getInstance("SHA-256");
    try (InputStream in = Files.newInputStream(file)) {
      byte[] buf = new byte[1 << 16];
      for (int n; (n = in.read(buf)) > 0; ) {
        md.update(buf, 0, n);
      }
    }
    return HexFormat.of().formatHex(md.digest());
  }
}
