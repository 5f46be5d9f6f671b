package dev.selfbyt.cortexsdr.djl;

import dev.selfbyt.cortexsdr.djl.kernel.KernelScope;
import dev.selfbyt.cortexsdr.djl.kernel.KernelThreads;
import dev.selfbyt.cortexsdr.djl.kernel.Kernels;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * The engine's settings for one model, read the DJL way: from the {@code options} map a model is
 * loaded with ({@code Criteria.builder().optOption("numThreads", "2")}, or {@code
 * option.numThreads=2} in the model folder's {@code serving.properties}), each unset one taking
 * the JVM-wide default from a system property ({@code -Ddev.selfbyt.cortexsdr.num_threads=2}).
 * Get the defaults with {@link #defaults()} and a model's with {@link #of(Map)}; immutable.
 *
 * <table>
 *   <caption>Settings</caption>
 *   <tr><th>option</th><th>system property (default)</th><th>values</th></tr>
 *   <tr><td>{@code numThreads} (alias {@code intraOpNumThreads})</td><td>{@code
 *       dev.selfbyt.cortexsdr.num_threads}</td><td>kernel threads, the caller's included (available
 *       processors)</td></tr>
 *   <tr><td>{@code spinMicros}</td><td>{@code dev.selfbyt.cortexsdr.spin_micros}</td><td>how long
 *       idle kernel threads spin before they park (100)</td></tr>
 *   <tr><td>{@code fusion}</td><td>{@code dev.selfbyt.cortexsdr.fusion}</td><td>fuse standard node
 *       chains (true)</td></tr>
 *   <tr><td>{@code kernels}</td><td>{@code dev.selfbyt.cortexsdr.kernels}; {@code
 *       dev.selfbyt.cortexsdr.djl.native=false} and {@code dev.selfbyt.cortexsdr.vector=false} as
 *       before</td><td>{@code auto}, {@code native}, {@code vector}, {@code scalar} (auto)</td></tr>
 *   <tr><td>{@code nativeIsa}</td><td>{@code dev.selfbyt.cortexsdr.djl.native.isa}</td><td>{@code
 *       auto}, {@code amx}, {@code avx512}, {@code avx2}, {@code portable} (auto)</td></tr>
 *   <tr><td>{@code ortFallback}</td><td>{@code dev.selfbyt.cortexsdr.ort_fallback}</td><td>run a
 *       graph with operators the executor lacks in ONNX Runtime (true)</td></tr>
 * </table>
 *
 * <p>Two JVM-wide switches have no per-model form, as they are not a model's: {@code
 * dev.selfbyt.cortexsdr.disable_alternative=true} (no alternative engine for NDArray operators)
 * and {@code dev.selfbyt.cortexsdr.quant_gemm=panel} (a benchmark switch: quantized products in
 * the column-panel form only).
 */
public final class EngineSettings {
  /** The prefix of the engine's system properties. */
  public static final String PREFIX = "dev.selfbyt.cortexsdr.";

  private static final Set<String> KINDS = Set.of("auto", "native", "vector", "scalar");
  private static final Set<String> ISAS = Set.of("auto", "amx", "avx512", "avx2", "portable");

  private final int numThreads;
  private final int spinMicros;
  private final boolean fusion;
  private final String kernels;
  private final String nativeIsa;
  private final String kernelsOrigin;
  private final boolean ortFallback;

  private EngineSettings(int numThreads, int spinMicros, boolean fusion, String kernels, String nativeIsa,
      String kernelsOrigin, boolean ortFallback) {
    this.numThreads = numThreads;
    this.spinMicros = spinMicros;
    this.fusion = fusion;
    this.kernels = kernels;
    this.nativeIsa = nativeIsa;
    this.kernelsOrigin = kernelsOrigin;
    this.ortFallback = ortFallback;
  }

  /** The JVM-wide defaults: the system properties, read now (so a test may change them). */
  public static EngineSettings defaults() {
    String threadsProp = System.getProperty(PREFIX + "num_threads");
    int threads = threadsProp == null ? Runtime.getRuntime().availableProcessors()
        : positive("-D" + PREFIX + "num_threads", threadsProp);
    String spinProp = System.getProperty(PREFIX + "spin_micros");
    int spin = spinProp == null ? 100 : nonNegative("-D" + PREFIX + "spin_micros", spinProp);
    boolean fusion = bool("-D" + PREFIX + "fusion", System.getProperty(PREFIX + "fusion", "true"));
    boolean ort = bool("-D" + PREFIX + "ort_fallback", System.getProperty(PREFIX + "ort_fallback", "true"));
    String kind = System.getProperty(PREFIX + "kernels");
    String origin;
    if (kind != null) {
      kind = oneOf("-D" + PREFIX + "kernels", kind, KINDS);
      origin = "-D" + PREFIX + "kernels=" + kind;
    } else {
      boolean nat = Boolean.parseBoolean(System.getProperty(PREFIX + "djl.native", "true"));
      boolean vec = Boolean.parseBoolean(System.getProperty(PREFIX + "vector", "true"));
      kind = nat ? (vec ? "auto" : "native") : (vec ? "vector" : "scalar");
      origin = !nat ? "-D" + PREFIX + "djl.native=false" : !vec ? "-D" + PREFIX + "vector=false" : "the defaults";
    }
    // an unknown instruction set is the kernels' to report (they fall back, saying so)
    String isa = System.getProperty(PREFIX + "djl.native.isa", "auto").toLowerCase(Locale.ROOT);
    return new EngineSettings(threads, spin, fusion, kind, isa, origin, ort);
  }

  /**
   * The settings of a model loaded with {@code options} (DJL's {@code Criteria} options and {@code
   * serving.properties} {@code option.*} entries): each option given overrides its default.
   *
   * @throws IllegalArgumentException naming the option when a value is not one it takes
   */
  public static EngineSettings of(Map<String, ?> options) {
    EngineSettings d = defaults();
    if (options == null || options.isEmpty()) {
      return d;
    }
    int threads = d.numThreads;
    Object t = options.containsKey("numThreads") ? options.get("numThreads") : options.get("intraOpNumThreads");
    if (t != null) {
      threads = positive("option numThreads", t.toString());
    }
    int spin = options.get("spinMicros") == null ? d.spinMicros
        : nonNegative("option spinMicros", options.get("spinMicros").toString());
    boolean fusion = options.get("fusion") == null ? d.fusion : bool("option fusion", options.get("fusion").toString());
    boolean ort = options.get("ortFallback") == null ? d.ortFallback
        : bool("option ortFallback", options.get("ortFallback").toString());
    String kind = d.kernels;
    String origin = d.kernelsOrigin;
    if (options.get("kernels") != null) {
      kind = oneOf("option kernels", options.get("kernels").toString(), KINDS);
      origin = "option kernels=" + kind;
    }
    String isa = d.nativeIsa;
    if (options.get("nativeIsa") != null) {
      isa = oneOf("option nativeIsa", options.get("nativeIsa").toString(), ISAS);
      origin = "option nativeIsa=" + isa;
    }
    return new EngineSettings(threads, spin, fusion, kind, isa, origin, ort);
  }

  private static int positive(String what, String v) {
    try {
      int n = Integer.parseInt(v.trim());
      if (n >= 1) {
        return n;
      }
    } catch (NumberFormatException e) {
      // reported below
    }
    throw new IllegalArgumentException(what + "=" + v + ": not a whole number of at least 1");
  }

  private static int nonNegative(String what, String v) {
    try {
      int n = Integer.parseInt(v.trim());
      if (n >= 0) {
        return n;
      }
    } catch (NumberFormatException e) {
      // reported below
    }
    throw new IllegalArgumentException(what + "=" + v + ": not a whole number of at least 0");
  }

  private static boolean bool(String what, String v) {
    String s = v.trim().toLowerCase(Locale.ROOT);
    if (s.equals("true") || s.equals("false")) {
      return s.equals("true");
    }
    throw new IllegalArgumentException(what + "=" + v + ": not true or false");
  }

  private static String oneOf(String what, String v, Set<String> allowed) {
    String s = v.trim().toLowerCase(Locale.ROOT);
    if (!allowed.contains(s)) {
      throw new IllegalArgumentException(what + "=" + v + ": not one of " + new java.util.TreeSet<>(allowed));
    }
    return s;
  }

  /** The JVM-wide switch {@code -Ddev.selfbyt.cortexsdr.disable_alternative=true}: no alternative engine. */
  public static boolean alternativeEngineDisabled() {
    return Boolean.getBoolean(PREFIX + "disable_alternative");
  }

  /**
   * The JVM-wide benchmark switch {@code -Ddev.selfbyt.cortexsdr.quant_gemm=panel}: 8-bit products
   * with many rows decode into a column panel as the other widths do, instead of decoding rows
   * and taking dot products (read once, when the kernels load).
   */
  public static boolean panelGemmOnly() {
    return "panel".equals(System.getProperty(PREFIX + "quant_gemm"));
  }

  /** Kernel threads, the calling thread included. */
  public int numThreads() {
    return numThreads;
  }

  /** How long idle kernel threads spin before they park, in microseconds. */
  public int spinMicros() {
    return spinMicros;
  }

  /** Whether standard node chains are fused before running. */
  public boolean fusion() {
    return fusion;
  }

  /** Which kernels: {@code auto}, {@code native}, {@code vector} or {@code scalar}. */
  public String kernels() {
    return kernels;
  }

  /** The native kernels' instruction set: {@code auto} or a name. */
  public String nativeIsa() {
    return nativeIsa;
  }

  /** Where the kernel choice came from, for log lines ({@code option kernels=scalar}, a system property...). */
  public String kernelsOrigin() {
    return kernelsOrigin;
  }

  /** Whether a graph the executor cannot run goes to ONNX Runtime. */
  public boolean ortFallback() {
    return ortFallback;
  }

  /** The kernels and thread pool a model with these settings runs in. */
  public KernelScope scope() {
    return new KernelScope(Kernels.choose(kernels, nativeIsa, kernelsOrigin), KernelThreads.pool(numThreads,
        spinMicros));
  }

  @Override
  public String toString() {
    return "numThreads=" + numThreads + ", spinMicros=" + spinMicros + ", fusion=" + fusion + ", kernels=" + kernels
        + ", nativeIsa=" + nativeIsa + ", ortFallback=" + ortFallback;
  }
}
