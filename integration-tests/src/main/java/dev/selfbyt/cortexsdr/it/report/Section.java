package dev.selfbyt.cortexsdr.it.report;

import java.util.Locale;

/**
 * One section of the report as measured: its markdown, wall time and the load average around it.
 *
 * @param title the heading
 * @param markdown the body (tables and notes)
 * @param loadBefore one-minute load average when it started
 * @param loadAfter when it ended
 * @param seconds its wall time
 */
public record Section(String title, String markdown, double loadBefore, double loadAfter, double seconds) {
  /** A section's measuring code, returning its markdown. */
  public interface Body {
    /** Measures and returns the section's markdown. */
    String run() throws Exception;
  }

  /** Runs {@code body}, timing it and reading the load average before and after. */
  public static Section run(String title, Body body) throws Exception {
    double before = RunInfo.loadAverage();
    long t0 = System.nanoTime();
    System.err.println("report: " + title + " ...");
    String md = body.run();
    Section s = new Section(title, md, before, RunInfo.loadAverage(), (System.nanoTime() - t0) / 1e9);
    System.err.printf(Locale.ROOT, "report: %s took %.0f s (load %.2f -> %.2f)%n", title, s.seconds(), before,
        s.loadAfter());
    return s;
  }

  /** The heading, the measuring conditions and the body. */
  public String render() {
    return String.format(Locale.ROOT, "## %s%n%n_Measured in %.0f s; load average %.2f before, %.2f after._%n%n%s%n",
        title, seconds, loadBefore, loadAfter, markdown.strip());
  }
}
