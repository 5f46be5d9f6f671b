package dev.selfbyt.cortexsdr.it.bench;

import java.util.Collection;
import java.util.Locale;
import java.util.TreeMap;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.options.Options;
import org.openjdk.jmh.runner.options.OptionsBuilder;
import org.openjdk.jmh.runner.options.TimeValue;

/**
 * Runs {@link MatMulKernelBenchmark} and prints the table in docs/benchmarks.md: time per product,
 * GFLOP/s ({@code 2 M K N} per product) and GB/s of weights read (their in-memory size per
 * product), one thread. Arguments, any of: {@code quick} for fewer iterations, {@code
 * formats=fp32,int8,...}, {@code kernels=native,vector,scalar}, {@code m=1,128}, {@code
 * inputs=gaussian,denormal} (JMH parameters of {@link MatMulKernelBenchmark}).
 */
public final class MatMulKernelBenchReport {
  private MatMulKernelBenchReport() {}

  public static void main(String[] args) throws Exception {
    boolean quick = java.util.Arrays.asList(args).contains("quick");
    OptionsBuilder ob = new OptionsBuilder();
    ob.param("kernel", quick ? new String[] {"native", "vector"} : new String[] {"native", "vector", "scalar"});
    for (String a : args) {
      String[] kv = a.split("=", 2);
      if (kv.length == 2) {
        ob.param(kv[0].equals("formats") ? "format" : kv[0].equals("kernels") ? "kernel" : kv[0], kv[1].split(","));
      }
    }
    Options opt = ob
        .include(MatMulKernelBenchmark.class.getName())
        .warmupIterations(quick ? 2 : 3)
        .measurementIterations(quick ? 3 : 5)
        .warmupTime(TimeValue.seconds(1))
        .measurementTime(TimeValue.seconds(1))
        .forks(1)
        .build();
    Collection<RunResult> results = new Runner(opt).run();
    TreeMap<String, String> rows = new TreeMap<>();
    for (RunResult r : results) {
      MatMulKernelBenchmark b = new MatMulKernelBenchmark();
      b.format = r.getParams().getParam("format");
      b.kernel = "scalar"; // only to build the weight and count its bytes in this JVM
      b.inputs = r.getParams().getParam("inputs");
      b.m = Integer.parseInt(r.getParams().getParam("m"));
      b.setUp();
      b.tearDown();
      b.kernel = b.format.equals("ort-fp32") ? "ONNX Runtime (MLAS)" : r.getParams().getParam("kernel");
      double us = r.getPrimaryResult().getScore();
      double err = r.getPrimaryResult().getScoreError();
      double flops = 2.0 * b.m * MatMulKernelBenchmark.K * MatMulKernelBenchmark.N;
      String key = String.format(Locale.ROOT, "%03d %s %s %s", b.m, order(b.format), b.inputs, b.kernel);
      rows.put(key, String.format(Locale.ROOT, "| %d | %s | %s | %s | %,.1f ± %,.1f | %.2f | %.2f |", b.m, b.format,
          b.inputs, b.kernel, us, err, flops / us / 1e3, b.weightBytes() / us / 1e3));
    }
    System.out.println();
    System.out.printf(Locale.ROOT, "Y[M,%d] = X[M,%d] * W, one thread%n%n", MatMulKernelBenchmark.N,
        MatMulKernelBenchmark.K);
    System.out.printf(Locale.ROOT, "machine load average %.1f after the run%n%n",
        java.lang.management.ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage());
    System.out.println("| M | weight | activations | kernels | µs per product | GFLOP/s | GB/s of weights |");
    System.out.println("|---|---|---|---|---|---|---|");
    rows.values().forEach(System.out::println);
  }

  private static String order(String format) {
    return switch (format) {
      case "fp32" -> "0";
      case "ort-fp32" -> "1";
      case "int8" -> "2";
      case "int8-rows" -> "3";
      case "int4" -> "4";
      case "int4-rows" -> "5";
      case "int8-w8a8" -> "2w";
      default -> "6";
    };
  }
}
