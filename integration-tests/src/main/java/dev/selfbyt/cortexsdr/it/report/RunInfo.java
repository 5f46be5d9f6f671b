package dev.selfbyt.cortexsdr.it.report;

import ai.djl.engine.Engine;
import dev.selfbyt.cortexsdr.converters.onnx.OrtEnvironments;
import dev.selfbyt.cortexsdr.it.djl.PyTorchBaseline;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Locale;

/**
 * When, where and with what a report was measured.
 *
 * @param started UTC start of the run
 * @param cpu the CPU model ({@code /proc/cpuinfo})
 * @param cores processors the JVM sees
 * @param memory total memory ({@code /proc/meminfo})
 * @param os operating system and kernel
 * @param jdk the Java runtime
 * @param ort ONNX Runtime's version
 * @param djl DJL's version
 * @param pytorch DJL's PyTorch engine version, or why there is none
 * @param commit the git commit measured (with {@code -dirty} for uncommitted changes)
 * @param load the one-minute load average at the start
 */
public record RunInfo(Instant started, String cpu, int cores, String memory, String os, String jdk, String ort,
    String djl, String pytorch, String commit, double load) {

  /** The one-minute load average now. */
  public static double loadAverage() {
    return ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage();
  }

  /**
   * Reads the machine and versions. Loads DJL's engines before ONNX Runtime's environment (the order
   * DJL needs), so call it after {@link PyTorchBaseline#configureThreads}.
   */
  public static RunInfo capture() throws IOException {
    Engine.getEngine("CortexSDR");
    String ort = OrtEnvironments.get().getVersion();
    String pytorch = PyTorchBaseline.present() ? Engine.getEngine("PyTorch").getVersion()
        : "not on this JVM's class path (no PyTorch rows)";
    return new RunInfo(Instant.now().truncatedTo(ChronoUnit.SECONDS), procField("/proc/cpuinfo", "model name"),
        Runtime.getRuntime().availableProcessors(), procField("/proc/meminfo", "MemTotal"),
        System.getProperty("os.name") + " " + System.getProperty("os.version") + " " + System.getProperty("os.arch"),
        System.getProperty("java.vm.name") + " " + System.getProperty("java.runtime.version"), ort,
        Engine.getDjlVersion(), pytorch, gitCommit(), loadAverage());
  }

  /** The header lines of the report. */
  public String markdown(Instant finished, double loadAtEnd) {
    return String.format(Locale.ROOT, """
        | | |
        |---|---|
        | run | %s to %s (%d s) |
        | machine | %s, %d cores, %s memory, %s |
        | load average (1 min) | %.2f at the start, %.2f at the end; the machine is shared with other builds, \
        see each section's own figures |
        | Java | %s |
        | ONNX Runtime | %s |
        | DJL | %s (engines CortexSDR, OnnxRuntime) |
        | DJL PyTorch engine | %s |
        | commit | %s |
        """, started, finished, finished.getEpochSecond() - started.getEpochSecond(), cpu, cores, memory, os,
        load, loadAtEnd, jdk, ort, djl, pytorch, commit);
  }

  private static String procField(String file, String key) {
    try {
      for (String line : Files.readAllLines(Path.of(file))) {
        if (line.startsWith(key)) {
          return line.substring(line.indexOf(':') + 1).trim();
        }
      }
    } catch (IOException e) {
      return "unknown (" + file + ": " + e.getMessage() + ")";
    }
    return "unknown (no " + key + " in " + file + ")";
  }

  private static String gitCommit() {
    try {
      Process p = new ProcessBuilder("git", "describe", "--always", "--dirty", "--abbrev=12").redirectErrorStream(true)
          .start();
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
      return p.waitFor() == 0 ? out : "unknown (git: " + out + ")";
    } catch (IOException | InterruptedException e) {
      return "unknown (" + e.getMessage() + ")";
    }
  }
}
