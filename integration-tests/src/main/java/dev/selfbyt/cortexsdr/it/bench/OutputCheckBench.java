package dev.selfbyt.cortexsdr.it.bench;

import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What the output check adds to {@code cortexsdr compress}: runs the command as a user does
 * ({@code java -jar cortexsdr.jar compress MODEL -o OUT --preset P}, CLI defaults, one JVM per
 * run), with the check (the default) and with {@code --no-check} taking turns, and prints the
 * median wall time of each, their ratio, and the check's own time as the command reports it.
 *
 * <p>{@code java -cp benchmarks.jar dev.selfbyt.cortexsdr.it.bench.OutputCheckBench
 * cli/target/cortexsdr.jar MODEL.onnx PRESET ROUNDS OUT_DIR}
 */
public final class OutputCheckBench {
  private static final Pattern CHECK_MS = Pattern.compile("output fidelity .*, (\\d+) ms");

  private OutputCheckBench() {}

  public static void main(String[] args) throws Exception {
    Path jar = Path.of(args[0]);
    Path model = Path.of(args[1]);
    String preset = args[2];
    int rounds = Integer.parseInt(args[3]);
    Path out = Path.of(args[4]).resolve(model.getFileName() + "." + preset + ".cai");
    double load0 = ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage();
    List<Long> with = new ArrayList<>();
    List<Long> without = new ArrayList<>();
    List<Long> checkMs = new ArrayList<>();
    for (int r = 0; r < rounds; r++) {
      for (boolean check : new boolean[] {true, false}) {
        List<String> cmd = new ArrayList<>(List.of("java", "-jar", jar.toString(), "compress", model.toString(), "-o",
            out.toString(), "--preset", preset));
        if (!check) {
          cmd.add("--no-check");
        }
        long t0 = System.nanoTime();
        Process p = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.DISCARD).start();
        String stdout = new String(p.getInputStream().readAllBytes());
        if (p.waitFor() != 0) {
          throw new IllegalStateException("compress failed: " + cmd);
        }
        long ms = (System.nanoTime() - t0) / 1_000_000;
        (check ? with : without).add(ms);
        Matcher m = CHECK_MS.matcher(stdout);
        if (check && m.find()) {
          checkMs.add(Long.parseLong(m.group(1)));
        }
      }
    }
    Files.deleteIfExists(out);
    double load1 = ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage();
    System.out.printf(Locale.ROOT, "| model | preset | rounds | --no-check: wall ms | default (checked): wall ms | ratio "
        + "| check as reported: ms | load average |%n|---|---|---|---|---|---|---|---|%n");
    System.out.printf(Locale.ROOT, "| %s | %s | %d | %d | %d | %.2fx | %d | %.1f -> %.1f |%n", model.getFileName(),
        preset, rounds, median(without), median(with), (double) median(with) / median(without), median(checkMs), load0,
        load1);
    System.out.println("runs (ms): no-check " + without + ", checked " + with + ", check " + checkMs);
  }

  private static long median(List<Long> v) {
    List<Long> s = new ArrayList<>(v);
    s.sort(null);
    return s.isEmpty() ? -1 : s.get(s.size() / 2);
  }
}
