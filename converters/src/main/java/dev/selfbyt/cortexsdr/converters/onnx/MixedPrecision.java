package dev.selfbyt.cortexsdr.converters.onnx;

import dev.selfbyt.cortexsdr.core.CompressionOptions;
import dev.selfbyt.cortexsdr.core.codec.CodebookQuantCodec;
import dev.selfbyt.cortexsdr.core.codec.EntropyQuantCodec;
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
 * size, and 3 to 6 bits at blocks of 128; optionally each under super-block scales, and
 * entropy-coded steps for vocabulary tables, {@link #tableCandidates}), gives each weight the
 * smallest codec that keeps the mean effect within {@code 1 - targetCosine} and every calibration
 * sample's within {@code 1 - minCosine} ({@link BitAllocator}), then rounds with GPTQ under those
 * codecs ({@link OnnxCalibrator}). The effects are measured with plain rounding, which GPTQ beats;
 * {@link #calibrate} measures by how much on the first plan and plans once more with that factor.
 * Use {@link #planAndCalibrate} (what {@code compress --target-cosine} does), or {@link #plan},
 * then {@link Plan#calibrate} and {@link Plan#options}.
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

  /**
   * Relative steps offered to embedding tables as entropy-coded candidates ({@link
   * #tableCandidates}): 0.3 to 1.3 times each row's root mean square, about 1.18 apart (for
   * Gaussian-like rows about 3.8 to 1.7 bits per value).
   */
  static final double[] TABLE_STEPS = {0.3, 0.35, 0.42, 0.49, 0.58, 0.68, 0.8, 0.94, 1.1, 1.3};

  private MixedPrecision() {}

  /**
   * Entropy-coded candidates ({@link EntropyQuantCodec} at each of {@link #TABLE_STEPS}) for each
   * table a {@code Gather} indexes straight by a model input ({@link RareRows#tables}) that {@code
   * options} would quantize block-wise and that no MatMul reads (GPTQ rounds those to block-wise
   * codes). A table has no Hessian to round against, and a step per row with Huffman-coded codes
   * gives a block-wise code's error in fewer bytes; measured like every other candidate, the plan
   * takes one only where it buys more fidelity per byte.
   */
  public static Map<String, List<TensorCodec>> tableCandidates(OnnxModelReader onnx, CompressionOptions options) {
    CompressionPolicy policy = new CompressionPolicy(options);
    Map<String, TensorInfo> infos = new LinkedHashMap<>();
    onnx.tensors().forEach(t -> infos.put(t.name(), t));
    java.util.Set<String> grouped = new java.util.HashSet<>();
    CalibrationGraphs.matmulGroups(onnx.strippedModel().getGraph(), infos).forEach(grouped::addAll);
    List<TensorCodec> steps = new ArrayList<>();
    for (double s : TABLE_STEPS) {
      steps.add(EntropyQuantCodec.of(s));
    }
    Map<String, List<TensorCodec>> out = new LinkedHashMap<>();
    for (List<String> tables : RareRows.tables(onnx).values()) {
      for (String t : tables) {
        if (!grouped.contains(t) && policy.plan(infos.get(t)).kind() == TensorPlan.Kind.FIXED) {
          out.put(t, steps);
        }
      }
    }
    return out;
  }

  /** The worst-sample target that goes with a mean target when none is given: twice the loss. */
  public static double defaultMinCosine(double targetCosine) {
    return 1 - 2 * (1 - targetCosine);
  }

  /** The codec chosen per weight. */
  public record Plan(Map<String, TensorCodec> codecs, double targetCosine, double minCosine) {
    /** The codec of a planned weight, or null. */
    public TensorCodec codec(String name) {
      return codecs.get(name);
    }

    /** The block-wise codec of a planned weight (what GPTQ rounds to), or null (not planned, or a table's entropy code). */
    public QuantCodec blockCodec(String name) {
      return codecs.get(name) instanceof QuantCodec q ? q : null;
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

    public static String label(TensorCodec codec) {
      if (codec instanceof EntropyQuantCodec e) {
        return String.format(java.util.Locale.ROOT, "entropy %.2f", e.relativeStep());
      }
      if (!(codec instanceof QuantCodec c)) {
        return codec.describe();
      }
      return c.bits() + "b/" + c.blockSize() + (c.superScales() ? "s" : "");
    }

    /**
     * The weights with GPTQ under their planned codecs, ready to compress; with {@code scaling},
     * activation scaling first, with {@code refit}, re-fitted before that.
     */
    public TensorSource calibrate(OnnxModelReader onnx, List<Map<String, OnnxCalibrator.Input>> samples, int threads,
        boolean scaling, boolean refit) throws IOException {
      return calibrate(onnx, samples, threads, scaling, refit, false, s -> {});
    }

    /**
     * {@link #calibrate(OnnxModelReader, List, int, boolean, boolean)}, with {@code rotation} ({@link
     * OnnxCalibrator#rotation}), reporting each calibrated group to {@code log}.
     */
    public TensorSource calibrate(OnnxModelReader onnx, List<Map<String, OnnxCalibrator.Input>> samples, int threads,
        boolean scaling, boolean refit, boolean rotation, Consumer<String> log) throws IOException {
      return calibrate(onnx, samples, threads, scaling, refit, rotation, null, log);
    }

    /**
     * As {@link #calibrate(OnnxModelReader, List, int, boolean, boolean, boolean, Consumer)}, taking
     * the rotation decisions of earlier plans from {@code choices} where the codecs are the same
     * ({@link OnnxCalibrator#rotationChoices}); null: every group decided anew.
     */
    public TensorSource calibrate(OnnxModelReader onnx, List<Map<String, OnnxCalibrator.Input>> samples, int threads,
        boolean scaling, boolean refit, boolean rotation, RotationChoices choices, Consumer<String> log)
        throws IOException {
      return new OnnxCalibrator(onnx, this::blockCodec, 0.01, threads).storedCodecs(this::codec)
          .activationScaling(scaling).refit(refit).rotation(rotation).rotationChoices(choices).onProgress(log)
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
        TensorCodec rare = counts == null || !(c instanceof QuantCodec q) ? null : rareTier.apply(q);
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
    return measure(onnx, options, samples, threads, log, anchors, parallelSamples, superScales, maxSamples, suffixRuns,
        Map.of());
  }

  /** As above, with {@code extra} candidates for some weights (see {@link BitAllocator#extraCandidates}). */
  public static List<BitAllocator.Effect> measure(OnnxModelReader onnx, CompressionOptions options,
      List<Map<String, OnnxCalibrator.Input>> samples, int threads, Consumer<String> log, int anchors,
      boolean parallelSamples, boolean superScales, int maxSamples, boolean suffixRuns,
      Map<String, List<TensorCodec>> extra) throws IOException {
    CompressionPolicy policy = new CompressionPolicy(options);
    List<String> weights = new ArrayList<>();
    for (TensorInfo t : onnx.tensors()) {
      if (policy.plan(t).kind() == TensorPlan.Kind.FIXED) {
        weights.add(t.name());
      }
    }
    return new BitAllocator(onnx, candidates(options.blockSize(), options.symmetric(), superScales), threads)
        .parallelSamples(parallelSamples).suffixRuns(suffixRuns).extraCandidates(extra).onProgress(log)
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
    Map<String, TensorCodec> codecs = new LinkedHashMap<>();
    BitAllocator.allocate(effects, 1 - targetCosine, 1 - minCosine).forEach((n, e) -> codecs.put(n, e.codec()));
    return new Plan(codecs, targetCosine, minCosine);
  }

  /** A plan, and the weights GPTQ rounded under it ({@link Plan#calibrate}). */
  public record Calibrated(Plan plan, TensorSource source, String note) {}

  /**
   * {@link #plan(List, double, double)} on measured effects, then GPTQ under it, corrected for
   * what GPTQ gains: the effects are measured with plain rounding, and GPTQ lowers the output error
   * of the weights it rounds well below that (all-MiniLM-L6-v2 and bge-small: to about 0.4 of it),
   * but not that of the weights no group calibrates (a Gather's table). A plan is so too wide for
   * its target, and prices the rounded weights' bits against the tables' too high. A plan's real
   * output loss on the measuring samples gives the factor {@code rho = (real - tables' part) /
   * rounded weights' part} of its additive estimate; while it is under {@value #REPLAN_BELOW}, the
   * rounded weights' effects are scaled by it (each sample's by that sample's own factor, so that
   * the worst sample's estimate holds too) and planned again (at most {@value #MAX_PLANS} plans
   * in all, each with GPTQ), the factor measured anew on each plan that misses the target, each
   * re-plan aimed a little inside the budgets ({@link #REPLAN_MARGIN}). The smallest plan whose real
   * loss meets both targets on the measuring samples is kept, else the first. With {@code
   * rotation}, a group whose codecs a later plan keeps keeps the first decision on its input's
   * rotation ({@link RotationChoices}), so later plans round it once instead of twice.
   *
   * @param effects from {@link #measure} on the first {@value #MEASURE_SAMPLES} of {@code samples}
   */
  public static Calibrated calibrate(OnnxModelReader onnx, List<BitAllocator.Effect> effects,
      List<Map<String, OnnxCalibrator.Input>> samples, double targetCosine, double minCosine, int threads,
      boolean scaling, boolean refit, boolean rotation, Consumer<String> log) throws IOException {
    java.util.Set<String> tables = gatheredOnly(onnx);
    OutputLoss loss = OutputLoss.of(onnx, threads, samples.subList(0, Math.min(MEASURE_SAMPLES, samples.size())));
    Plan first = plan(effects, targetCosine, minCosine);
    Calibrated kept = null;
    boolean keptMeets = false;
    Plan plan = first;
    double rho = 1;
    StringBuilder note = new StringBuilder();
    List<Map<String, TensorCodec>> tried = new ArrayList<>();
    RotationChoices choices = rotation ? new RotationChoices() : null; // a group keeps its decision while its codecs do
    for (int round = 0; round < MAX_PLANS && !tried.contains(plan.codecs()); round++) {
      tried.add(plan.codecs());
      TensorSource source = plan.calibrate(onnx, samples, threads, scaling, refit, rotation, choices, log);
      double[] each = loss.perSample(source, plan);
      double[] real = OutputLoss.meanAndWorst(each);
      boolean meets = real[0] <= 1 - targetCosine && real[1] <= 1 - minCosine;
      if (round == 0 || meets && (!keptMeets || bytes(effects, plan) < bytes(effects, kept.plan()))) {
        kept = new Calibrated(plan, source, null);
        keptMeets = meets;
      }
      // the rounded weights' part of this plan's estimate, unscaled, and the tables' part: in all and per sample
      double rounded = 0;
      double other = 0;
      double[] roundedAt = new double[each.length];
      double[] otherAt = new double[each.length];
      for (BitAllocator.Effect e : chosen(effects, plan)) {
        boolean table = tables.contains(e.tensor());
        if (table) {
          other += e.distortion();
        } else {
          rounded += e.distortion();
        }
        double[] per = e.perSample();
        double[] into = table ? otherAt : roundedAt;
        for (int i = 0; i < each.length; i++) {
          into[i] += per.length == each.length ? per[i] : e.distortion();
        }
      }
      double measuredRho = rounded > 0 ? factor((real[0] - other) / rounded) : 1;
      double[] rhoAt = new double[each.length];
      for (int i = 0; i < each.length; i++) {
        rhoAt[i] = roundedAt[i] > 0 ? factor((each[i] - otherAt[i]) / roundedAt[i]) : measuredRho;
      }
      note.append(String.format(java.util.Locale.ROOT, "%splan %d%s: output loss %.5f after GPTQ (worst sample "
          + "%.5f), %.5f estimated from plain rounding; GPTQ factor %.2f (per sample %.2f to %.2f)",
          round == 0 ? "" : "; ", round + 1,
          round == 0 ? "" : String.format(java.util.Locale.ROOT, " (factor %.2f, %s)", rho, plan.histogram()), real[0],
          real[1], rounded + other, measuredRho, java.util.Arrays.stream(rhoAt).min().orElse(1),
          java.util.Arrays.stream(rhoAt).max().orElse(1)));
      if (meets && round > 0 || measuredRho >= REPLAN_BELOW) {
        break;
      }
      rho = measuredRho;
      // aimed a little inside the targets, more so each round: a plan's real loss lands within a few
      // percent of its scaled estimate (plan 2: 0.93x to 1.04x on MiniLM and bge), and GPTQ's rounding moves it
      double margin = Math.pow(REPLAN_MARGIN, round + 1);
      plan = new Plan(plan(scaled(effects, tables, rho, rhoAt), 1 - margin * (1 - targetCosine),
          1 - margin * (1 - minCosine)).codecs(), targetCosine, minCosine); // the plan records the user's targets
    }
    note.append(kept.plan() == first ? "; the first plan is kept" : "; plan " + (tried.indexOf(kept.plan().codecs())
        + 1) + " is kept");
    if (choices != null && tried.size() > 1) {
      note.append("; ").append(choices.reused()).append(" rotation decisions taken from an earlier plan (same codecs)");
    }
    log.accept(note.toString());
    return new Calibrated(kept.plan(), kept.source(), note.toString());
  }

  /** The share of the loss budgets a re-plan aims at, to the power of its round (0.95, then 0.9025). */
  static final double REPLAN_MARGIN = 0.95;

  /** Plans {@link #calibrate} makes at most. */
  static final int MAX_PLANS = 3;

  /** The effects a plan chose. */
  private static List<BitAllocator.Effect> chosen(List<BitAllocator.Effect> effects, Plan plan) {
    return effects.stream().filter(e -> e.codec().equals(plan.codec(e.tensor()))).toList();
  }

  private static long bytes(List<BitAllocator.Effect> effects, Plan plan) {
    return chosen(effects, plan).stream().mapToLong(BitAllocator.Effect::bytes).sum();
  }

  /** A measured GPTQ factor, kept within [0.05, 1]. */
  private static double factor(double rho) {
    return Math.max(0.05, Math.min(1, rho));
  }

  /**
   * The effects with those of every weight but the tables scaled: each sample's value by that
   * sample's factor {@code rhoAt[i]} (GPTQ gains more on some samples than on others, and the
   * worst sample decides the minimum cosine), the mean by as much as that moves it; an effect
   * measured on other samples by the overall factor {@code rho}.
   */
  static List<BitAllocator.Effect> scaled(List<BitAllocator.Effect> effects, java.util.Set<String> tables,
      double rho, double[] rhoAt) {
    List<BitAllocator.Effect> out = new ArrayList<>();
    for (BitAllocator.Effect e : effects) {
      if (tables.contains(e.tensor())) {
        out.add(e);
        continue;
      }
      double[] per = e.perSample().clone();
      double distortion = e.distortion() * rho;
      if (per.length == rhoAt.length) {
        double before = 0;
        double after = 0;
        for (int i = 0; i < per.length; i++) {
          before += per[i];
          per[i] *= rhoAt[i];
          after += per[i];
        }
        if (before > 0) {
          distortion = e.distortion() * after / before;
        }
      } else {
        for (int i = 0; i < per.length; i++) {
          per[i] *= rho;
        }
      }
      out.add(new BitAllocator.Effect(e.tensor(), e.codec(), e.bytes(), distortion, per));
    }
    return out;
  }

  /**
   * {@link #measure} (with {@link #tableCandidates} when {@code tableSteps}), then {@link
   * #calibrate}: what {@code compress --target-cosine} does.
   */
  public static Calibrated planAndCalibrate(OnnxModelReader onnx, CompressionOptions options,
      List<Map<String, OnnxCalibrator.Input>> samples, double targetCosine, double minCosine, int threads,
      boolean superScales, boolean tableSteps, boolean scaling, boolean refit, boolean rotation, Consumer<String> log)
      throws IOException {
    plan(List.of(), targetCosine, minCosine); // checks the targets before the long part
    List<BitAllocator.Effect> effects = measure(onnx, options, samples, threads, log, MEASURE_ANCHORS, true, superScales,
        MEASURE_SAMPLES, true, tableSteps ? tableCandidates(onnx, options) : Map.of());
    return calibrate(onnx, effects, samples, targetCosine, minCosine, threads, scaling, refit, rotation, log);
  }

  /** Below this GPTQ factor {@link #calibrate} plans again. */
  static final double REPLAN_BELOW = 0.9;

  /** Stored tensors that only {@code Gather}s read, as their table (GPTQ does not round them). */
  static java.util.Set<String> gatheredOnly(OnnxModelReader onnx) {
    Map<String, Boolean> only = new java.util.HashMap<>();
    java.util.Set<String> stored = new java.util.HashSet<>();
    onnx.tensors().forEach(t -> stored.add(t.name()));
    for (ai.onnx.proto.OnnxMl.NodeProto n : onnx.strippedModel().getGraph().getNodeList()) {
      for (int i = 0; i < n.getInputCount(); i++) {
        String in = n.getInput(i);
        if (stored.contains(in)) {
          only.merge(in, n.getOpType().equals("Gather") && i == 0, Boolean::logicalAnd);
        }
      }
    }
    java.util.Set<String> out = new java.util.HashSet<>();
    only.forEach((t, g) -> {
      if (g) {
        out.add(t);
      }
    });
    return out;
  }
}
