package dev.selfbyt.cortexsdr.it.report;

import dev.selfbyt.cortexsdr.core.Preset;
import dev.selfbyt.cortexsdr.it.bench.CompressRun;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** Compression throughput as {@code cortexsdr compress} runs (CLI defaults), through {@link CompressRun}. */
final class Throughput {
  /**
   * One model at one preset.
   *
   * @param model the ONNX file's name
   * @param preset the preset
   * @param cold the first compression in this run's JVM for it
   * @param warm the fastest of the repetitions after it
   */
  record Row(String model, Preset preset, CompressRun.Run cold, CompressRun.Run warm) {}

  /** The rows, for the plot. */
  final List<Row> rows = new ArrayList<>();

  /** Compresses each file with each preset, cold then {@code compressReps} more. */
  String run(ReportConfig c, Map<String, Path> models) throws Exception {
    Path out = Files.createDirectories(c.work().resolve("throughput"));
    StringBuilder sb = new StringBuilder(String.format(Locale.ROOT, "`CortexSdr.compress` with the command line's "
        + "defaults (all %d cores, zstd level 3, the output check on), ONNX file opened and parsed included; "
        + "MB/s is input megabytes (10^6) per second of wall time. \"cold\": the first compression of that file "
        + "and preset in this JVM (others ran before it, so the JIT is partly warm); \"warm\": the fastest of %d "
        + "more.%n%n| model | preset | input bytes | `.cai` bytes | cold s | cold MB/s | warm s | warm MB/s | "
        + "process CPU s (warm) |%n|---|---|---|---|---|---|---|---|---|%n", Runtime.getRuntime().availableProcessors(),
        c.compressReps()));
    for (Map.Entry<String, Path> m : models.entrySet()) {
      for (Preset p : c.presets()) {
        List<CompressRun.Run> runs = CompressRun.runs(m.getValue(), p, c.compressReps(), out);
        CompressRun.Run warm = runs.subList(1, runs.size()).stream()
            .min(Comparator.comparingDouble(CompressRun.Run::totalMs)).orElse(runs.get(0));
        Row r = new Row(m.getKey(), p, runs.get(0), warm);
        rows.add(r);
        sb.append(String.format(Locale.ROOT, "| %s | %s | %,d | %,d | %.2f | %.1f | %.2f | %.1f | %.2f |%n", r.model(),
            p.id(), warm.inputBytes(), warm.outputBytes(), r.cold().totalMs() / 1e3, r.cold().mbPerSecond(),
            warm.totalMs() / 1e3, warm.mbPerSecond(), warm.cpuMs() / 1e3));
      }
    }
    return sb.toString();
  }
}
