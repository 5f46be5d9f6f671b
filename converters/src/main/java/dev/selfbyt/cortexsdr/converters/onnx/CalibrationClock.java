package dev.selfbyt.cortexsdr.converters.onnx;

import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;

/**
 * Wall time of each calibration phase, summed over the process: where mixed precision spends its
 * time (measuring: encoding candidates, making sessions, model runs; GPTQ: making sessions, model
 * runs for the Hessians, the solve). Read by benchmarks ({@code QuantBitsBench}); costs two {@code
 * nanoTime} calls per phase entered. Phases running on several threads at once are timed by the
 * thread that waits for them, so the sums add up to wall time.
 */
public final class CalibrationClock {
  /** Measuring: encoding and decoding each weight's candidates, and their weight errors. */
  public static final String MEASURE_ENCODE = "measure: encode";
  /** Measuring: making sessions (and the graphs and caches they run). */
  public static final String MEASURE_SESSION = "measure: sessions";
  /** Measuring: the model runs. */
  public static final String MEASURE_RUNS = "measure: runs";
  /** GPTQ: making the probe sessions (filling the graph with the weights so far). */
  public static final String GPTQ_SESSION = "gptq: sessions";
  /** GPTQ: the model runs that collect each group's {@code X^T X}. */
  public static final String GPTQ_RUNS = "gptq: runs";
  /** GPTQ: rounding each weight (solve, encode, decode). */
  public static final String GPTQ_SOLVE = "gptq: solve";

  private static final Map<String, LongAdder> NANOS = new ConcurrentHashMap<>();

  private CalibrationClock() {}

  /** Adds the time since {@code start} ({@link System#nanoTime}) to a phase; returns now. */
  public static long since(String phase, long start) {
    long now = System.nanoTime();
    NANOS.computeIfAbsent(phase, p -> new LongAdder()).add(now - start);
    return now;
  }

  /** Seconds per phase so far, by phase name. */
  public static Map<String, Double> seconds() {
    Map<String, Double> m = new TreeMap<>();
    NANOS.forEach((p, n) -> m.put(p, n.sum() / 1e9));
    return m;
  }

  /** Starts every phase at zero again. */
  public static void reset() {
    NANOS.clear();
  }
}
