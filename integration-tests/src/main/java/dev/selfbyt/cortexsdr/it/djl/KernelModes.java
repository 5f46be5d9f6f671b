package dev.selfbyt.cortexsdr.it.djl;

import dev.selfbyt.cortexsdr.it.models.RealModel;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The engine's latency under each kernel choice, each in a child JVM started the way a user would
 * (the kernels are picked once per process): {@code native} on a plain {@code java -cp}, {@code
 * vector} with the Vector API flag and the native library disabled, {@code scalar} with neither.
 * Every child measures ONNX Runtime fp32 in the same run as its anchor, so each ratio is within
 * one process and one stretch of machine load.
 */
final class KernelModes {
  private static final String TAG = "KERNEL-MODE-ROW";

  private KernelModes() {}

  /** The JVM options of a kernel choice and how the table labels it. */
  record Mode(String id, List<String> jvmFlags, String label) {
    static Mode parse(String id) {
      return switch (id) {
        case "native" -> new Mode(id, List.of(), "plain `java -cp` (no flags)");
        case "vector" -> new Mode(id, List.of("--add-modules", "jdk.incubator.vector",
            "-Ddev.selfbyt.cortexsdr.djl.native=false"), "tuned: `--add-modules jdk.incubator.vector "
            + "-Ddev.selfbyt.cortexsdr.djl.native=false`");
        case "scalar" -> new Mode(id, List.of("-Ddev.selfbyt.cortexsdr.djl.native=false"),
            "`-Ddev.selfbyt.cortexsdr.djl.native=false` (neither native nor Vector API)");
        default -> throw new IllegalArgumentException("--kernels takes native, vector, scalar; not " + id);
      };
    }
  }

  /** Runs one child per mode with {@code args} (less {@code --kernels}) and returns the table. */
  static String run(String[] modes, String[] args) throws Exception {
    List<String> childArgs = new ArrayList<>();
    for (int i = 0; i + 1 < args.length; i += 2) {
      if (!args[i].equals("--kernels")) {
        childArgs.add(args[i]);
        childArgs.add(args[i + 1]);
      }
    }
    childArgs.addAll(List.of("--child", "true"));
    StringBuilder sb = new StringBuilder();
    sb.append("| model | CortexSDR kernels | JVM | runtime | median ms | fastest ms | median vs ONNX Runtime fp32 "
        + "(same JVM) | per turn | median vs ONNX Runtime int8 twin | per turn | load average before / after |\n"
        + "|---|---|---|---|---|---|---|---|---|---|---|\n");
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    for (String id : modes) {
      Mode mode = Mode.parse(id.trim());
      List<String> cmd = new ArrayList<>(List.of(java));
      cmd.addAll(mode.jvmFlags());
      cmd.add("-Dai.djl.offline=" + System.getProperty("ai.djl.offline", "true"));
      cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), DjlEngineReport.class.getName()));
      cmd.addAll(childArgs);
      System.out.println("child JVM (" + mode.id() + "): " + String.join(" ", mode.jvmFlags()));
      Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
      String kernels = "?";
      try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
        for (String line; (line = r.readLine()) != null; ) {
          if (line.startsWith("CortexSDR engine: kernels ")) {
            kernels = line.substring("CortexSDR engine: kernels ".length()).replaceFirst(",.*", "");
          }
          if (line.startsWith(TAG)) {
            String[] f = line.split("\t");
            sb.append(String.format(Locale.ROOT, "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |%n", f[1],
                f[2].startsWith("ONNX Runtime") ? "-" : kernels, mode.label(), f[2], f[3], f[4], f[5], f[6], f[7],
                f[8], f[9]));
          } else {
            System.out.println("  [" + mode.id() + "] " + line);
          }
        }
      }
      int rc = p.waitFor();
      if (rc != 0) {
        throw new IllegalStateException("child JVM for " + mode.id() + " exited with " + rc);
      }
    }
    return sb.toString();
  }

  /** A child's rows for {@link #run}: tab-separated, tagged, one per runtime. */
  static String rows(DjlEngineReport.Times t, RealModel model) {
    double base = t.median(DjlEngineReport.ORT_FP32);
    boolean twin = t.times().containsKey(DjlEngineReport.ORT_TWIN);
    StringBuilder sb = new StringBuilder();
    for (String k : t.times().keySet()) {
      String vsTwin = twin ? String.format(Locale.ROOT, "%.2fx", t.median(k) / t.median(DjlEngineReport.ORT_TWIN)) : "-";
      String turnTwin = twin ? String.format(Locale.ROOT, "%.2fx", t.turnRatio(k, DjlEngineReport.ORT_TWIN)) : "-";
      sb.append(String.format(Locale.ROOT, "%s\t%s, batch %d, %d tokens\t%s\t%.2f\t%.2f\t%.2fx\t%.2fx\t%s\t%s\t%.1f / %.1f%n",
          TAG, model.displayName(), DjlEngineReport.batchSize, t.tokens(), k, t.median(k), t.fastest(k), t.median(k) / base,
          t.turnRatio(k, DjlEngineReport.ORT_FP32), vsTwin, turnTwin, t.loadBefore(), t.loadAfter()));
    }
    return sb.toString().stripTrailing();
  }
}
