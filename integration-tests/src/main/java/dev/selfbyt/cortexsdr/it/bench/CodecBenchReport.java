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
 * Runs {@link CodecBenchmark} and prints a Markdown table of MB/s of fp32 per thread, the
 * figures in docs/benchmarks.md. Pass {@code quick} for fewer iterations.
 */
public final class CodecBenchReport {
  private CodecBenchReport() {}

  public static void main(String[] args) throws Exception {
    boolean quick = args.length > 0 && args[0].equals("quick");
    Options opt = new OptionsBuilder()
        .include(CodecBenchmark.class.getName())
        .warmupIterations(quick ? 2 : 3)
        .measurementIterations(quick ? 3 : 5)
        .warmupTime(TimeValue.seconds(quick ? 1 : 2))
        .measurementTime(TimeValue.seconds(quick ? 1 : 2))
        .forks(1)
        .build();
    Collection<RunResult> results = new Runner(opt).run();
    double mb = 4.0 * CodecBenchmark.ROWS * CodecBenchmark.COLS / 1e6;
    TreeMap<String, String> rows = new TreeMap<>();
    for (RunResult r : results) {
      String method = r.getParams().getBenchmark().replaceAll(".*\\.", "");
      String codec = r.getParams().getParam("codec");
      String axis = r.getParams().getParam("axis");
      double ms = r.getPrimaryResult().getScore();
      double err = r.getPrimaryResult().getScoreError();
      rows.put(codec + " axis " + axis + " " + method, String.format(Locale.ROOT,
          "| %s | %s | %s | %.1f ± %.1f | %.0f |", codec, axis.equals("1") ? "last" : "first", method, ms, err,
          mb / (ms / 1000)));
    }
    System.out.println();
    System.out.println("| codec | reduction axis | operation | ms per 64 MiB tensor | MB/s of fp32, 1 thread |");
    System.out.println("|---|---|---|---|---|");
    rows.values().forEach(System.out::println);
    System.out.println();
    System.out.println("| codec | stored bits per weight | after the zstd stage |");
    System.out.println("|---|---|---|");
    for (String codec : new String[] {"int8", "int4"}) {
      CodecBenchmark b = new CodecBenchmark();
      b.codec = codec;
      b.axis = 1;
      b.setUp();
      double[] bpw = b.bitsPerWeight();
      System.out.printf(Locale.ROOT, "| %s | %.3f | %.3f |%n", codec, bpw[0], bpw[1]);
    }
  }
}
