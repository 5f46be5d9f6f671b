package dev.selfbyt.cortexsdr.it.bench;

import dev.selfbyt.cortexsdr.it.models.RealModel;
import java.io.File;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Stream;

/**
 * End-to-end compression speed, as {@code cortexsdr compress} runs it (CLI defaults: all cores,
 * zstd level 3), for all-MiniLM-L6-v2 and bge-small-en-v1.5 at the int8, int4 and lossless
 * presets: open the fp32 {@code .onnx} and write the {@code .cai}, the cold first run of a fresh
 * JVM and the median of the warm runs after it. Each configuration runs in its own plain {@code
 * java -cp} JVM ({@link CompressRun}); with {@code --before DIR} the same runs are made on the
 * jars in {@code DIR} (the core and converters jars of an older build, put ahead of this
 * classpath) in turn with the current code, so before/after ratios come from one run, and the
 * SHA-256 of the files both write are compared.
 *
 * <pre>
 * java -cp integration-tests/target/benchmarks.jar dev.selfbyt.cortexsdr.it.bench.CompressBenchReport \
 *     [--before DIR] [--reps 5] [--models minilm,bge] [--presets int8,int4,lossless]
 * </pre>
 *
 * MB/s are megabytes of the fp32 model per second of open + compress; {@code timeMs} is what the
 * CLI reports (the compression after the model is open); CPU ms is the process's CPU time over
 * open + compress (all threads, JIT and GC included), which a busy machine inflates less than
 * wall time.
 */
public final class CompressBenchReport {
  private CompressBenchReport() {}

  /** One child run's figures. */
  record Run(double openMs, long timeMs, double totalMs, double cpuMs, long inputBytes, long outputBytes, String sha256) {}

  public static void main(String[] args) throws Exception {
    Path before = null;
    int reps = 5;
    List<String> models = List.of("minilm", "bge");
    List<String> presets = List.of("int8", "int4", "lossless");
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--before" -> before = Path.of(args[++i]);
        case "--reps" -> reps = Integer.parseInt(args[++i]);
        case "--models" -> models = List.of(args[++i].split(","));
        case "--presets" -> presets = List.of(args[++i].split(","));
        default -> throw new IllegalArgumentException("unknown argument " + args[i]);
      }
    }
    Path work = Path.of("integration-tests", "target", "compress-bench");
    Files.createDirectories(work);
    String cp = System.getProperty("java.class.path");
    String beforeCp = before == null ? null : beforeClasspath(before, cp);
    double loadStart = load();
    List<String> rows = new ArrayList<>();
    for (String m : models) {
      RealModel model = RealModel.parse(m);
      Path onnx = model.onnx(work);
      for (String preset : presets) {
        List<Run> old = beforeCp == null ? null : child(beforeCp, onnx, preset, reps, work.resolve("before"));
        List<Run> now = child(cp, onnx, preset, reps, work.resolve("after"));
        String same = old == null ? "" : old.get(0).sha256().equals(now.get(0).sha256()) ? "yes" : "NO";
        rows.add(row(model.displayName(), preset, "cold (first run)", old == null ? null : old.subList(0, 1),
            now.subList(0, 1), same));
        rows.add(row(model.displayName(), preset, "warm (median of " + reps + ")",
            old == null ? null : old.subList(1, old.size()), now.subList(1, now.size()), same));
      }
    }
    System.out.printf(Locale.ROOT, "%nload average %.2f at the start, %.2f at the end; %d cores; %s%n%n", loadStart,
        load(), Runtime.getRuntime().availableProcessors(), System.getProperty("java.vm.version"));
    System.out.println("| model | preset | run | before: open + compress ms | before: timeMs | before: CPU ms "
        + "| before: MB/s | after: open + compress ms | after: timeMs | after: CPU ms | after: MB/s | speed-up (wall) "
        + "| CPU ratio | same bytes |");
    System.out.println("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|");
    rows.forEach(System.out::println);
  }

  private static String row(String model, String preset, String run, List<Run> old, List<Run> now, String same) {
    double mb = now.get(0).inputBytes() / 1e6;
    double[] n = figures(now);
    String o = "| | | | ";
    String ratio = "| | ";
    if (old != null) {
      double[] b = figures(old);
      o = String.format(Locale.ROOT, "| %.0f | %.0f | %.0f | %.0f ", b[0], b[1], b[2], mb / (b[0] / 1000));
      ratio = String.format(Locale.ROOT, "| %.2fx | %.2fx ", b[0] / n[0], b[2] / n[2]);
    }
    return String.format(Locale.ROOT, "| %s | %s | %s %s| %.0f | %.0f | %.0f | %.0f %s| %s |", model, preset, run, o,
        n[0], n[1], n[2], mb / (n[0] / 1000), ratio, same);
  }

  /** Medians of open + compress ms, timeMs and CPU ms. */
  private static double[] figures(List<Run> runs) {
    return new double[] {median(runs.stream().mapToDouble(Run::totalMs).toArray()),
        median(runs.stream().mapToDouble(Run::timeMs).toArray()),
        median(runs.stream().mapToDouble(Run::cpuMs).toArray())};
  }

  /** The older core and converters jars in {@code dir}, ahead of this classpath. */
  private static String beforeClasspath(Path dir, String cp) throws IOException {
    List<String> jars;
    try (Stream<Path> s = Files.list(dir)) {
      jars = s.filter(p -> p.toString().endsWith(".jar")).map(Path::toString).sorted().toList();
    }
    if (jars.isEmpty()) {
      throw new IOException("no jars in " + dir);
    }
    return String.join(File.pathSeparator, jars) + File.pathSeparator + cp;
  }

  /** Runs {@link CompressRun} in a plain JVM: the cold run, then {@code reps} warm ones. */
  private static List<Run> child(String cp, Path onnx, String preset, int reps, Path out)
      throws IOException, InterruptedException {
    Files.createDirectories(out);
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    Process p = new ProcessBuilder(java, "-cp", cp, CompressRun.class.getName(), onnx.toString(), preset,
        Integer.toString(reps), out.toString()).redirectErrorStream(true).start();
    String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (p.waitFor() != 0) {
      throw new IOException("compression run failed:\n" + output);
    }
    List<Run> runs = new ArrayList<>();
    for (String line : output.lines().filter(l -> l.startsWith("run=")).toList()) {
      Map<String, String> kv = new LinkedHashMap<>();
      for (String part : line.split(" ")) {
        String[] two = part.split("=", 2);
        kv.put(two[0], two[1]);
      }
      runs.add(new Run(Double.parseDouble(kv.get("openMs")), Long.parseLong(kv.get("timeMs")),
          Double.parseDouble(kv.get("totalMs")), Double.parseDouble(kv.get("cpuMs")), Long.parseLong(kv.get("inputBytes")),
          Long.parseLong(kv.get("outputBytes")), kv.get("sha256")));
    }
    if (runs.size() != reps + 1 || runs.stream().map(Run::sha256).distinct().count() != 1) {
      throw new IOException("unexpected output (or runs that wrote different bytes):\n" + output);
    }
    return runs;
  }

  private static double median(double[] v) {
    double[] s = v.clone();
    Arrays.sort(s);
    return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
  }

  private static double load() {
    return ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage();
  }
}
