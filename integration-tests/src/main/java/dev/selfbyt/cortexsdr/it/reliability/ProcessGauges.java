package dev.selfbyt.cortexsdr.it.reliability;

import java.io.IOException;
import java.lang.management.BufferPoolMXBean;
import java.lang.management.ManagementFactory;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * What a leak shows in, read from the running JVM on Linux: resident memory (native included,
 * {@code VmRSS} of {@code /proc/self/status}) and the part of it that is not the committed Java
 * heap, Java heap used right after a full GC, direct and mapped NIO buffers, and open file
 * descriptors ({@code /proc/self/fd}). Taken with {@link #sample()}.
 */
public final class ProcessGauges {
  private ProcessGauges() {}

  /** One reading. */
  public record Sample(long rssKb, long heapUsedAfterGc, long heapCommitted, long directBytes, long mappedBytes,
      int openFds, double loadAverage) {
    public double rssMb() {
      return rssKb / 1024.0;
    }

    public double heapMb() {
      return heapUsedAfterGc / MB;
    }

    public double heapCommittedMb() {
      return heapCommitted / MB;
    }

    /** Resident memory that is not the committed Java heap: native allocations, mapped files, stacks, code. */
    public double nonHeapRssMb() {
      return rssMb() - heapCommittedMb();
    }

    public double directMb() {
      return directBytes / MB;
    }

    public double mappedMb() {
      return mappedBytes / MB;
    }
  }

  private static final double MB = 1024.0 * 1024.0;

  /**
   * Collects garbage (twice, with a pause so that {@code Cleaner}s release native buffers and
   * sessions), then reads the three gauges.
   */
  public static Sample sample() throws IOException, InterruptedException {
    for (int i = 0; i < 2; i++) {
      System.gc();
      Thread.sleep(100);
    }
    java.lang.management.MemoryUsage heap = ManagementFactory.getMemoryMXBean().getHeapMemoryUsage();
    long direct = 0;
    long mapped = 0;
    for (BufferPoolMXBean b : ManagementFactory.getPlatformMXBeans(BufferPoolMXBean.class)) {
      if (b.getName().equals("direct")) {
        direct = b.getMemoryUsed();
      } else if (b.getName().equals("mapped")) {
        mapped = b.getMemoryUsed();
      }
    }
    return new Sample(rssKb(), heap.getUsed(), heap.getCommitted(), direct, mapped, openFds(), loadAverage());
  }

  public static long rssKb() throws IOException {
    List<String> lines = Files.readAllLines(Path.of("/proc/self/status"));
    for (String l : lines) {
      if (l.startsWith("VmRSS:")) {
        return Long.parseLong(l.replaceAll("[^0-9]", ""));
      }
    }
    throw new IOException("no VmRSS in /proc/self/status (not Linux?)");
  }

  public static int openFds() throws IOException {
    int n = 0;
    try (DirectoryStream<Path> s = Files.newDirectoryStream(Path.of("/proc/self/fd"))) {
      for (Path ignored : s) {
        n++;
      }
    }
    return n - 1; // the stream's own descriptor
  }

  /** The 1-minute load average, for the record beside any figure (the machine is shared). */
  public static double loadAverage() {
    return ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage();
  }
}
