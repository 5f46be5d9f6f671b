package dev.selfbyt.cortexsdr.converters.onnx;

import dev.selfbyt.cortexsdr.core.CompressionOptions;
import dev.selfbyt.cortexsdr.core.codec.CodebookQuantCodec;
import dev.selfbyt.cortexsdr.core.codec.QuantCodec;
import dev.selfbyt.cortexsdr.core.codec.TensorCodec;
import dev.selfbyt.cortexsdr.core.policy.CompressionPolicy;
import dev.selfbyt.cortexsdr.core.policy.TensorPlan;
import dev.selfbyt.cortexsdr.core.tensor.TensorInfo;
import dev.selfbyt.cortexsdr.core.tensor.TensorSource;
import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Consumer;
import java.util.regex.Pattern;

/**
 * Mixed-precision compression toward an output target: measures what each quantizable weight does
 * to the model's output under each candidate codec (3, 4, 5, 6 and 8 bits at the options' block
 * size, and 3 to 6 bits at blocks of 128), gives each weight the smallest codec that keeps the
 * mean effect within {@code 1 - targetCosine} and every calibration sample's within {@code 1 -
 * minCosine} ({@link BitAllocator}), then rounds with GPTQ under those codecs ({@link
 * OnnxCalibrator}). Use {@link #plan}, then {@link Plan#calibrate} and {@link Plan#options}.
 */
public final class MixedPrecision {
  static final int[] WIDTHS = {3, 4, 5, 6, 8};
  /** Widths also offered with blocks of {@value #WIDE_BLOCK} (fewer scales, fewer bytes). */
  static final int[] WIDE_BLOCK_WIDTHS = {3, 4, 5, 6};
  static final int WIDE_BLOCK = 128;
  /** Samples used to measure effects; more only slow the measuring down. */
  static final int MEASURE_SAMPLES = 32;
  /**
   * Candidates each weight runs the samples under; the others' effects are predicted from their
   * weight error (0: all run). Two of nine gave the same plan quality on all-MiniLM-L6-v2 at
   * targets 0.99 and 0.995 (docs/benchmarks.md, "Faster mixed precision") at 2/9 of the model runs.
   */
  static final int MEASURE_ANCHORS = 2;

  private MixedPrecision() {}

  /** The worst-sample target that goes with a mean target when none is given: twice the loss. */
  public static double defaultMinCosine(double targetCosine) {
    return 1 - 2 * (1 - targetCosine);
  }

  /** The codec chosen per weight. */
  public record Plan(Map<String, QuantCodec> codecs, double targetCosine, double minCosine) {
    /** The codec of a planned weight, or null. */
    public QuantCodec codec(String name) {
      return codecs.get(name);
    }

    /** How many weights got each codec, e.g. {@code {"4b/32": 30, "8b/32": 2}}. */
    public Map<String, Integer> histogram() {
      Map<String, Integer> h = new TreeMap<>();
      codecs.values().forEach(c -> h.merge(label(c), 1, Integer::sum));
      return h;
    }

    /** Weight name to a short label of its codec ({@code 5b/32}), for manifests and reports. */
    public Map<String, String> labels() {
      Map<String, String> m = new LinkedHashMap<>();
      codecs.forEach((n, c) -> m.put(n, label(c)));
      return m;
    }

    static String label(QuantCodec c) {
      return c.bits() + "b/" + c.blockSize() + (c.superScales() ? "s" : "");
    }

    /**
     * The weights with GPTQ under their planned codecs, ready to compress; with {@code scaling},
     * activation scaling first, with {@code refit}, re-fitted before that.
     */
    public TensorSource calibrate(OnnxModelReader onnx, List<Map<String, OnnxCalibrator.Input>> samples, int threads,
        boolean scaling, boolean refit) throws IOException {
      return calibrate(onnx, samples, threads, scaling, refit, s -> {});
    }

    /** {@link #calibrate(OnnxModelReader, List, int, boolean, boolean)}, reporting each calibrated group to {@code log}. */
    public TensorSource calibrate(OnnxModelReader onnx, List<Map<String, OnnxCalibrator.Input>> samples, int threads,
        boolean scaling, boolean refit, Consumer<String> log) throws IOException {
      return new OnnxCalibrator(onnx, this::codec, 0.01, threads).activationScaling(scaling).refit(refit).onProgress(log)
          .describe("mixed precision", String.format(java.util.Locale.ROOT, "target cosine %.4f, min %.4f: %s",
              targetCosine, minCosine, histogram()))
          .calibrate(samples);
    }

    /** {@code base} plus one override per planned weight. */
    public CompressionOptions.Builder options(CompressionOptions.Builder base) {
      codecs.forEach((name, c) -> base.override(Pattern.quote(name), c));
      return base;
    }

    /**
     * {@link #options(CompressionOptions.Builder)}, but each planned weight among {@code tables}
     * (for example the keys of {@link RareRows#counts}: tables a Gather indexes by a model input)
     * takes {@code tableCodec} instead. For {@link dev.selfbyt.cortexsdr.core.codec.EntropyQuantCodec}:
     * a table has no Hessian to round against, and steps per row with Huffman-coded codes give a
     * block-wise plan's error in fewer bytes, or less error in the same bytes (on all-MiniLM-L6-v2
     * at target 0.98, relative step 0.58: 8.14x at mean cosine 0.9915 and worst sentence 0.9838,
     * where the plan's 3-bit table gave 8.11x at 0.9864 / 0.9682; docs/benchmarks.md).
     */
    public CompressionOptions.Builder options(CompressionOptions.Builder base, java.util.Collection<String> tables,
        TensorCodec tableCodec) {
      for (String t : tables) { // before the plan's overrides: the first matching override wins
        if (codecs.containsKey(t)) {
          base.override(Pattern.quote(t), tableCodec);
        }
      }
      return options(base);
    }

    /**
     * {@link #options(CompressionOptions.Builder)}, but each counted table ({@link RareRows#counts})
     * planned wider than {@code rareBits} keeps its planned codec only for the rows read at least
     * once; the other rows take {@code rareBits} at the same block ({@link RareRows#tiered}).
     */
    public CompressionOptions.Builder options(CompressionOptions.Builder base, Map<String, long[]> rowCounts,
        int rareBits) {
      return options(base, rowCounts, c -> {
        if (c.bits() <= rareBits || c.granularity() != QuantCodec.Granularity.BLOCK) {
          return null;
        }
        QuantCodec rare = QuantCodec.blockwise(rareBits, c.symmetric(), c.blockSize());
        return c.superScales() ? rare.withSuperScales() : rare;
      });
    }

    /**
     * {@link #options(CompressionOptions.Builder)}, but each counted table ({@link RareRows#counts})
     * keeps its planned codec only for the rows read at least once; the other rows take {@code
     * rareTier.apply(planned)} ({@link RareRows#tiered}), a {@link QuantCodec} or a {@link
     * CodebookQuantCodec}; a table for which it gives null keeps its plan. For example {@code c ->
     * CodebookQuantCodec.blockwise(2, 32).withSuperScales()}: on bge-small at target 0.99 that
     * took the file from 7.90x to 8.24x at mean 0.9933 and worst sentence 0.9839 (docs/benchmarks.md).
     */
    public CompressionOptions.Builder options(CompressionOptions.Builder base, Map<String, long[]> rowCounts,
        java.util.function.Function<QuantCodec, ? extends TensorCodec> rareTier) {
      codecs.forEach((name, c) -> {
        long[] counts = rowCounts.get(name);
        TensorCodec chosen = c;
        TensorCodec rare = counts == null ? null : rareTier.apply(c);
        if (rare != null) {
          var t = RareRows.tiered(counts, 1, c, rare);
          if (t != null) {
            chosen = t;
          }
        }
        base.override(Pattern.quote(name), chosen);
      });
      return base;
    }
  }

  /** The candidate codecs for a block size and symmetry. */
  static List<QuantCodec> candidates(int block, boolean symmetric) {
    return candidates(block, symmetric, false);
  }

  /** The candidate codecs for a block size and symmetry; with {@code superScales}, each also under super-block scales. */
  static List<QuantCodec> candidates(int block, boolean symmetric, boolean superScales) {
    List<QuantCodec> c = new ArrayList<>();
    for (int w : WIDTHS) {
      c.add(QuantCodec.blockwise(w, symmetric, block));
    }
    if (block < WIDE_BLOCK) {
      for (int w : WIDE_BLOCK_WIDTHS) {
        c.add(QuantCodec.blockwise(w, symmetric, WIDE_BLOCK));
      }
    }
    if (superScales) { // both: the plan takes super-block scales where their bytes buy more than their error costs
      List<QuantCodec> plain = List.copyOf(c);
      plain.forEach(q -> c.add(q.withSuperScales()));
    }
    return c;
  }

  /**
   * Measures the effect of every weight {@code options} would quantize under every candidate codec
   * (its block size and symmetry), on up to {@value #MEASURE_SAMPLES} samples, running
   * {@value #MEASURE_ANCHORS} candidates per weight and predicting the others. Measure once, plan
   * for as many targets as needed.
   */
  public static List<BitAllocator.Effect> measure(OnnxModelReader onnx, CompressionOptions options,
      List<Map<String, OnnxCalibrator.Input>> samples, int threads, Consumer<String> log) throws IOException {
    return measure(onnx, options, samples, threads, log, MEASURE_ANCHORS, true);
  }

  /**
   * {@link #measure(OnnxModelReader, CompressionOptions, List, int, Consumer)} with the number of
   * candidates each weight runs ({@code anchors}, 0 for all; see {@link BitAllocator#measure(List,
   * List, int)}) and whether samples run in parallel.
   */
  public static List<BitAllocator.Effect> measure(OnnxModelReader onnx, CompressionOptions options,
      List<Map<String, OnnxCalibrator.Input>> samples, int threads, Consumer<String> log, int anchors,
      boolean parallelSamples) throws IOException {
    return measure(onnx, options, samples, threads, log, anchors, parallelSamples, false, MEASURE_SAMPLES);
  }

  /**
   * {@link #measure(OnnxModelReader, CompressionOptions, List, int, Consumer, int, boolean)} with
   * candidates under super-block scales ({@link QuantCodec#withSuperScales}: fewer bytes per
   * block, so the plan can afford wider codes at the same size) or plain ones, on up to {@code
   * maxSamples} samples.
   */
  public static List<BitAllocator.Effect> measure(OnnxModelReader onnx, CompressionOptions options,
      List<Map<String, OnnxCalibrator.Input>> samples, int threads, Consumer<String> log, int anchors,
      boolean parallelSamples, boolean superScales, int maxSamples) throws IOException {
    return measure(onnx, options, samples, threads, log, anchors, parallelSamples, superScales, maxSamples, true);
  }

  /**
   * As above; {@code suffixRuns} runs each weight from its node onwards on cached activations
   * ({@link BitAllocator#suffixRuns}, the default), false runs the whole model for every weight (as
   * before; kept to compare in benchmarks).
   */
  public static List<BitAllocator.Effect> measure(OnnxModelReader onnx, CompressionOptions options,
      List<Map<String, OnnxCalibrator.Input>> samples, int threads, Consumer<String> log, int anchors,
      boolean parallelSamples, boolean superScales, int maxSamples, boolean suffixRuns) throws IOException {
    CompressionPolicy policy = new CompressionPolicy(options);
    List<String> weights = new ArrayList<>();
    for (TensorInfo t : onnx.tensors()) {
      if (policy.plan(t).kind() == TensorPlan.Kind.FIXED) {
        weights.add(t.name());
      }
    }
    return new BitAllocator(onnx, candidates(options.blockSize(), options.symmetric(), superScales), threads)
        .parallelSamples(parallelSamples).suffixRuns(suffixRuns).onProgress(log)
        .measure(weights, samples.subList(0, Math.min(maxSamples, samples.size())), anchors);
  }

  /**
   * The plan for a target on measured effects.
   *
   * @param targetCosine the mean output cosine to keep on the calibration samples
   * @param minCosine the cosine every calibration sample keeps (see {@link #defaultMinCosine})
   */
  public static Plan plan(List<BitAllocator.Effect> effects, double targetCosine, double minCosine) {
    if (!(targetCosine > 0 && targetCosine < 1)) {
      throw new IllegalArgumentException("target cosine must be in (0, 1), got " + targetCosine);
    }
    if (!(minCosine > -1 && minCosine <= targetCosine)) {
      throw new IllegalArgumentException("minimum cosine must be in (-1, target " + targetCosine + "], got " + minCosine);
    }
    Map<String, QuantCodec> codecs = new LinkedHashMap<>();
    BitAllocator.allocate(effects, 1 - targetCosine, 1 - minCosine).forEach((n, e) -> codecs.put(n, e.codec()));
    return new Plan(codecs, targetCosine, minCosine);
  }

  /** {@link #measure}, then {@link #plan(List, double, double)}. */
  public static Plan plan(OnnxModelReader onnx, CompressionOptions options, List<Map<String, OnnxCalibrator.Input>> samples,
      double targetCosine, double minCosine, int threads, Consumer<String> log) throws IOException {
    return plan(onnx, options, samples, targetCosine, minCosine, threads, false, log);
  }

  /** As above; with {@code superScales}, every candidate also under super-block scales. */
  public static Plan plan(OnnxModelReader onnx, CompressionOptions options, List<Map<String, OnnxCalibrator.Input>> samples,
      double targetCosine, double minCosine, int threads, boolean superScales, Consumer<String> log)
      throws IOException {
    plan(List.of(), targetCosine, minCosine); // checks the targets before the long part
    return plan(measure(onnx, options, samples, threads, log, MEASURE_ANCHORS, true, superScales, MEASURE_SAMPLES),
        targetCosine, minCosine);
  }
}
