package dev.selfbyt.cortexsdr.converters.onnx;

import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.TypeProto;
import ai.onnx.proto.OnnxMl.ValueInfoProto;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.selfbyt.cortexsdr.core.CompressionOptions;
import dev.selfbyt.cortexsdr.core.CortexSdr;
import dev.selfbyt.cortexsdr.core.Preset;
import dev.selfbyt.cortexsdr.core.calibrate.ActivationScaling;
import dev.selfbyt.cortexsdr.core.calibrate.Metrics;
import dev.selfbyt.cortexsdr.core.format.CaiException;
import dev.selfbyt.cortexsdr.core.format.CaiReader;
import dev.selfbyt.cortexsdr.core.policy.CompressionPolicy;
import dev.selfbyt.cortexsdr.core.tensor.DType;
import dev.selfbyt.cortexsdr.core.tensor.Fp16;
import dev.selfbyt.cortexsdr.core.tensor.TensorData;
import dev.selfbyt.cortexsdr.core.tensor.TensorInfo;
import dev.selfbyt.cortexsdr.core.tensor.TensorRole;
import dev.selfbyt.cortexsdr.core.tensor.TensorSource;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;

/**
 * Calibration for {@link Preset#INT8_FAST} ("W8A8": int8 weights, int8 activations rounded per
 * tensor as ONNX {@code DynamicQuantizeLinear} does), in measured steps on calibration inputs:
 *
 * <ol>
 *   <li>Smoothing (SmoothQuant, Xiao et al. 2022): a few input channels of a MatMul carry
 *       activations far larger than the rest, and they set the per-tensor step for all. Each
 *       MatMul input is divided per channel by {@code s_j = a_j^alpha / w_j^(1 - alpha)} ({@code
 *       a_j}: largest |activation| of channel j on the calibration data, {@code w_j}: largest
 *       |weight| in row j of the weights reading it), kept at 1 or more ({@link #smoothingScales}),
 *       and the weights' rows multiplied by it. The division is a {@code Mul} inserted into the
 *       stored graph, so every runtime runs it; where the input is an attention's context, the
 *       division goes into the value projection's columns instead, exactly and with no node
 *       ({@link AttentionValues}): in a BERT-style encoder, one of the four smoothed inputs per
 *       layer.
 *   <li>Weight-only fallback: the effect on the model's first output of giving each MatMul int8
 *       activations alone is measured in ONNX Runtime; the weights with the largest effects compute
 *       with fp32 activations ({@link CompressionOptions#weightOnly()}) until the estimated output
 *       cosine meets the target, which is then checked by a run of the whole model.
 *   <li>Outlier channels instead of the fallback ({@link #outlierChannels(boolean)}, LLM.int8()'s
 *       decomposition, Dettmers et al. 2022, in standard ONNX): for each MatMul the fallback chose,
 *       the few input channels with the widest smoothed calibration range are split off ({@link
 *       CalibrationGraphs#withOutlierChannels}): zeroed in the smoothing scale and the weight's rows,
 *       gathered from the unscaled input ({@code Gather} on the last axis) and multiplied in fp32
 *       by their original rows (rounded to fp16, a tensor small enough to stay lossless), the
 *       product added to the int8 one. The channel count per MatMul is the smallest of 1, 2, 4,
 *       ... that brings its own effect down to the largest effect of a MatMul already on int8
 *       activations; the split replaces the fallback when the whole model then meets the target,
 *       or misses it by less than the fallback.
 * </ol>
 *
 * <p>Every fidelity is measured as a batch would see it, not as one sample alone: {@code
 * DynamicQuantizeLinear} takes one range over the whole input tensor, so in a batch of many samples
 * each is rounded with the widest range any of them brings, padding positions included. The
 * measuring runs replace each {@code DynamicQuantizeLinear} by a {@code QuantizeLinear} with the
 * range of that activation over all the calibration samples (the widest a batch drawn from them
 * can have), and text calibration data holds padded batches ({@code compress --calibrate} makes
 * them), so a model that meets the target here meets it at any batch size on data like the
 * calibration data. Measured on all-MiniLM-L6-v2 (pooled cosine, 200 Moby-Dick sentences), ranges
 * per single sentence before this: 0.9978 one at a time, 0.9921 in padded batches of 32.
 *
 * Get one with {@code new Int8FastCalibrator(onnx, options, threads)}, then {@link #calibrate}.
 */
public final class Int8FastCalibrator {
  /**
   * SmoothQuant's migration strength. Measured on all-MiniLM-L6-v2 (pooled cosine, 200 Moby-Dick
   * sentences, every MatMul on int8 activations): 0 (off) 0.9929, 0.5 0.9864, 0.75 0.9979, 0.9
   * 0.9973 (min 0.972).
   */
  public static final double DEFAULT_ALPHA = 0.75;
  /** Samples used to measure effects; more only slow the measuring down. */
  static final int MEASURE_SAMPLES = 32;
  /** Verification rounds when the additive estimate was too hopeful. */
  static final int MAX_ROUNDS = 4;

  private final OnnxModelReader source;
  private final CompressionOptions options;
  private final int threads;
  private double alpha = DEFAULT_ALPHA;
  private double targetCosine = 0.997;
  private double minCosine = 0.99;
  private Consumer<String> log = s -> {};
  private boolean outliers = true;
  private String outputMask;

  /** @param options int8-fast options (threads, protect, ...); weight-only names are chosen here */
  public Int8FastCalibrator(OnnxModelReader source, CompressionOptions options, int threads) {
    if (options.preset() != Preset.INT8_FAST) {
      throw new IllegalArgumentException("int8-fast calibration needs the int8-fast preset, got " + options.preset().id());
    }
    this.source = source;
    this.options = options;
    this.threads = threads;
  }

  /** SmoothQuant's migration strength in [0, 1); 0 turns smoothing off. Default {@value #DEFAULT_ALPHA}. */
  public Int8FastCalibrator smoothing(double alpha) {
    if (!(alpha >= 0 && alpha < 1)) {
      throw new IllegalArgumentException("smoothing alpha must be in [0, 1), got " + alpha);
    }
    this.alpha = alpha;
    return this;
  }

  /**
   * The output cosine to keep on the calibration samples (mean, and every sample), measured on
   * the model's first output; 1 keeps every MatMul weight-only, 0 none. Default 0.997 / 0.99.
   */
  public Int8FastCalibrator target(double mean, double min) {
    if (!(mean > 0 && mean <= 1 && min > -1 && min <= mean)) {
      throw new IllegalArgumentException("targets must satisfy 0 < mean <= 1 and -1 < min <= mean, got " + mean
          + ", " + min);
    }
    this.targetCosine = mean;
    this.minCosine = min;
    return this;
  }

  /**
   * The input ({@code [batch, positions]}, 0 where a position is padding: a text encoder's
   * attention mask) whose zero positions are left out when outputs are compared, and whose rows
   * are compared one by one. The padding still takes part in every activation range, as in use.
   */
  public Int8FastCalibrator outputMask(String input) {
    this.outputMask = input;
    return this;
  }

  /**
   * Whether a MatMul the fallback would put on fp32 activations first tries its input's widest
   * channels split off in fp32 (the rest stays on int8 activations). Default on.
   */
  public Int8FastCalibrator outlierChannels(boolean on) {
    this.outliers = on;
    return this;
  }

  public Int8FastCalibrator onProgress(Consumer<String> log) {
    this.log = log;
    return this;
  }

  /** The source to compress (smoothed weights, scaling nodes) and the options to compress it with. */
  public record Result(TensorSource source, CompressionOptions options, List<String> weightOnly,
      double meanCosine, double minCosine) {}

  /**
   * Calibrates on {@code samples}.
   *
   * @param base the options builder the result's options start from (the caller's flags);
   *     weight-only names are added to it
   */
  public Result calibrate(List<Map<String, OnnxCalibrator.Input>> samples, CompressionOptions.Builder base)
      throws IOException {
    if (samples.isEmpty()) {
      throw new CaiException(source.location(), null, "no calibration samples");
    }
    List<Map<String, OnnxCalibrator.Input>> measure = samples.subList(0, Math.min(MEASURE_SAMPLES, samples.size()));
    Smoothing sm = alpha > 0 ? measureSmoothing(samples) : null;
    TensorSource smoothed = sm != null ? smooth(sm, Map.of(), samples.size()) : source;
    List<float[]> reference = outputs(OnnxCalibrator.modelWith(source.strippedModel(), source, Map.of()), measure);
    Path tmp = Files.createTempFile("cortexsdr-int8-fast", ".cai");
    try {
      CortexSdr.compress(smoothed, tmp, options);
      try (CaiReader cai = CaiReader.open(tmp)) {
        List<String> candidates = new ArrayList<>(QuantizedOnnxExporter.int8Activations(cai));
        Map<String, float[]> ranges = BatchRanges.measure(QuantizedOnnxExporter.build(cai, 0, true, null,
            new LinkedHashSet<>(candidates)).model(), samples, threads, source.location());
        double[] all = fidelity(cai, new LinkedHashSet<>(candidates), measure, reference, ranges);
        log.accept(String.format(java.util.Locale.ROOT, "all %d MatMuls with int8 activations: cosine %.5f (min %.5f)",
            candidates.size(), all[0], all[1]));
        Set<String> weightOnly = new LinkedHashSet<>();
        double[] now = all;
        Map<String, double[]> effect = new LinkedHashMap<>();
        if (!meets(all)) {
          for (String w : candidates) {
            double[] f = fidelity(cai, Set.of(w), measure, reference, ranges);
            effect.put(w, new double[] {1 - f[0], 1 - f[1]});
          }
          List<String> order = new ArrayList<>(candidates);
          order.sort(Comparator.comparingDouble((String w) -> -effect.get(w)[0]));
          double loss = 1 - all[0];
          int next = 0;
          for (int round = 0; round < MAX_ROUNDS && !meets(now) && next < order.size(); round++) {
            // additive estimate: drop the largest effects until the mean loss fits, then check
            while (next < order.size() && (loss > 1 - targetCosine || weightOnly.isEmpty())) {
              String w = order.get(next++);
              weightOnly.add(w);
              loss -= effect.get(w)[0];
            }
            Set<String> int8 = new LinkedHashSet<>(candidates);
            int8.removeAll(weightOnly);
            now = fidelity(cai, int8, measure, reference, ranges);
            loss = 1 - now[0];
            log.accept(String.format(java.util.Locale.ROOT, "%d weight-only: cosine %.5f (min %.5f)", weightOnly.size(),
                now[0], now[1]));
            if (!meets(now) && next < order.size()) {
              loss = Math.max(loss, 1 - targetCosine + 1e-9); // at least one more next round
            }
          }
        }
        if (sm != null && outliers && !weightOnly.isEmpty()) {
          Split split = splitOutliers(sm, samples, measure, reference, candidates, weightOnly, effect);
          // taken when it meets the target, or misses it by less than the fallback does (and runs faster)
          if (split != null && (meets(split.fidelity()) || split.fidelity()[0] >= now[0]
              && split.fidelity()[1] >= now[1])) {
            smoothed = split.source();
            weightOnly = split.weightOnly();
            now = split.fidelity();
          }
        }
        weightOnly.forEach(base::weightOnly);
        return new Result(smoothed, base.build(), List.copyOf(weightOnly), now[0], now[1]);
      }
    } finally {
      Files.deleteIfExists(tmp);
    }
  }

  /** A smoothed source with outlier channels split off, the weights still weight-only, its fidelity. */
  private record Split(TensorSource source, Set<String> weightOnly, double[] fidelity) {}

  /**
   * Tries to bring the weight-only MatMuls back to int8 activations by splitting off their
   * input's widest channels ({@link CalibrationGraphs#withOutlierChannels}): per MatMul, the
   * smallest channel count (1, 2, 4, ...) whose effect alone on the output is no larger than the
   * largest effect of a MatMul already on int8 activations, with the split-off rows small enough to
   * stay exact ({@link CompressionOptions#minLossyElements()}); then the whole model is checked
   * against the target. Null when no MatMul could be split.
   */
  private Split splitOutliers(Smoothing sm, List<Map<String, OnnxCalibrator.Input>> samples,
      List<Map<String, OnnxCalibrator.Input>> measure, List<float[]> reference, List<String> candidates,
      Set<String> weightOnly, Map<String, double[]> effect) throws IOException {
    double tolerance = 0;
    for (String w : candidates) {
      if (!weightOnly.contains(w) && effect.containsKey(w)) {
        tolerance = Math.max(tolerance, effect.get(w)[0]);
      }
    }
    Map<Integer, Integer> split = new LinkedHashMap<>();
    Set<String> left = new LinkedHashSet<>(weightOnly);
    for (String w : weightOnly) {
      int gi = sm.groupOf(w);
      if (gi < 0 || split.containsKey(gi)) {
        continue;
      }
      long widest = 0;
      for (String member : sm.groups().get(gi)) {
        widest = Math.max(widest, sm.infos().get(member).shape()[1]);
      }
      int k = (int) sm.infos().get(w).shape()[0];
      for (int m = 1; m <= k / 8 && m * widest < options.minLossyElements(); m *= 2) {
        Map<Integer, Integer> trial = new LinkedHashMap<>(split);
        trial.put(gi, m);
        double[] f = splitFidelity(sm, trial, samples, measure, reference, Set.of(w), Set.of());
        log.accept(String.format(java.util.Locale.ROOT, "%s with %d outlier channel(s) in fp32: cosine %.5f alone "
            + "(without the split %.5f, the worst MatMul kept on int8 activations %.5f)", w, m, f[0],
            1 - effect.get(w)[0], 1 - tolerance));
        if (1 - f[0] <= tolerance) {
          split.put(gi, m);
          left.removeAll(sm.groups().get(gi));
          break;
        }
      }
    }
    if (split.isEmpty()) {
      return null;
    }
    double[] f = splitFidelity(sm, split, samples, measure, reference, null, left);
    log.accept(String.format(java.util.Locale.ROOT, "outlier channels split off in %d MatMul input(s), %d weight-only: "
        + "cosine %.5f (min %.5f)", split.size(), left.size(), f[0], f[1]));
    return new Split(smooth(sm, split, samples.size()), left, f);
  }

  /** Fidelity of the model split so: with int8 activations in {@code only}, or else all but {@code fp32}. */
  private double[] splitFidelity(Smoothing sm, Map<Integer, Integer> split,
      List<Map<String, OnnxCalibrator.Input>> samples, List<Map<String, OnnxCalibrator.Input>> measure,
      List<float[]> reference, Set<String> only, Set<String> fp32) throws IOException {
    TensorSource t = smooth(sm, split, samples.size());
    Path tmp = Files.createTempFile("cortexsdr-int8-fast-split", ".cai");
    try {
      CortexSdr.compress(t, tmp, options);
      try (CaiReader cai = CaiReader.open(tmp)) {
        Set<String> all = new LinkedHashSet<>(QuantizedOnnxExporter.int8Activations(cai));
        Map<String, float[]> ranges = BatchRanges.measure(QuantizedOnnxExporter.build(cai, 0, true, null, all).model(),
            samples, threads, source.location());
        Set<String> int8 = new LinkedHashSet<>(only != null ? only : all);
        int8.removeAll(fp32);
        return fidelity(cai, int8, measure, reference, ranges);
      }
    } finally {
      Files.deleteIfExists(tmp);
    }
  }

  private boolean meets(double[] f) {
    return f[0] >= targetCosine && f[1] >= minCosine;
  }

  /** Mean and minimum cosine of the first output with these weights on int8 activations. */
  private double[] fidelity(CaiReader cai, Set<String> int8, List<Map<String, OnnxCalibrator.Input>> samples,
      List<float[]> reference, Map<String, float[]> ranges) throws IOException {
    ModelProto m = BatchRanges.apply(QuantizedOnnxExporter.build(cai, 0, true, null, int8).model(), ranges);
    List<float[]> out = outputs(m, samples);
    double sum = 0;
    double min = 1;
    int count = 0;
    for (int i = 0; i < out.size(); i++) {
      for (double c : cosines(out.get(i), reference.get(i), samples.get(i))) {
        sum += c;
        min = Math.min(min, c);
        count++;
      }
    }
    return new double[] {sum / count, min};
  }

  /**
   * The cosines of one sample's first output: one per batch row when {@link #outputMask} names an
   * input of shape {@code [batch, positions]} whose size divides the output's, over the positions
   * the mask keeps; else one over the whole output.
   */
  private List<Double> cosines(float[] out, float[] ref, Map<String, OnnxCalibrator.Input> sample) {
    OnnxCalibrator.Input mask = outputMask == null ? null : sample.get(outputMask);
    if (mask == null || mask.int64() == null || mask.shape().length != 2 || out.length % mask.int64().length != 0) {
      return List.of(Metrics.cosine(out, ref));
    }
    int rows = (int) mask.shape()[0];
    int positions = (int) mask.shape()[1];
    int width = out.length / mask.int64().length;
    List<Double> c = new ArrayList<>();
    for (int b = 0; b < rows; b++) {
      int kept = 0;
      for (int p = 0; p < positions; p++) {
        kept += mask.int64()[b * positions + p] != 0 ? 1 : 0;
      }
      if (kept == 0) {
        continue;
      }
      float[] x = new float[kept * width];
      float[] y = new float[kept * width];
      int at = 0;
      for (int p = 0; p < positions; p++) {
        if (mask.int64()[b * positions + p] != 0) {
          int from = (b * positions + p) * width;
          System.arraycopy(out, from, x, at, width);
          System.arraycopy(ref, from, y, at, width);
          at += width;
        }
      }
      c.add(Metrics.cosine(x, y));
    }
    return c.isEmpty() ? List.of(Metrics.cosine(out, ref)) : c;
  }

  private List<float[]> outputs(ModelProto m, List<Map<String, OnnxCalibrator.Input>> samples) throws IOException {
    return OutputLoss.outputs(source.location(), m, threads, samples, "int8-fast calibration run");
  }

  /**
   * The smoothable MatMul groups of the source, their activations and channel maxima (measured
   * once), and per group the attention value projection its factors fold into, or null.
   */
  private record Smoothing(List<List<String>> groups, List<String> activations, float[][] maxima,
      Map<String, TensorInfo> infos, List<AttentionValues.Projection> values) {
    /** The group index holding {@code weight}, or -1. */
    int groupOf(String weight) {
      for (int i = 0; i < groups.size(); i++) {
        if (groups.get(i).contains(weight)) {
          return i;
        }
      }
      return -1;
    }
  }

  private Smoothing measureSmoothing(List<Map<String, OnnxCalibrator.Input>> samples) throws IOException {
    ModelProto stripped = source.strippedModel();
    Map<String, TensorInfo> infos = new LinkedHashMap<>();
    for (TensorInfo t : source.tensors()) {
      infos.put(t.name(), t);
    }
    Set<String> int8 = new HashSet<>(new CompressionPolicy(options).int8Activations(source.tensors()));
    List<List<String>> groups = new ArrayList<>();
    for (List<String> g : OnnxCalibrator.matmulGroups(stripped.getGraph(), infos)) {
      if (int8.containsAll(g)) {
        groups.add(g);
      }
    }
    List<String> activations = new ArrayList<>();
    for (List<String> g : groups) {
      activations.add(consumerInput(stripped.getGraph(), g.get(0)));
    }
    float[][] maxima = groups.isEmpty() ? new float[0][]
        : activationMaxima(stripped, activations, groups, infos, samples);
    AttentionValues attention = new AttentionValues(
        SymbolicShapes.withSmallData(stripped.getGraph(), name -> smallData(infos, name)), infos::containsKey);
    List<AttentionValues.Projection> values = new ArrayList<>();
    for (int gi = 0; gi < groups.size(); gi++) {
      AttentionValues.Projection p = attention.of(activations.get(gi), new HashSet<>(groups.get(gi)));
      values.add(p != null && foldable(infos, p) ? p : null);
    }
    return new Smoothing(groups, activations, maxima, infos, values);
  }

  /**
   * The source with each smoothable MatMul input divided per channel and its weights' rows
   * multiplied; the groups in {@code outliers} (group index -> channel count) also get their
   * widest channels split off ({@link #outlierChannels}).
   */
  private TensorSource smooth(Smoothing sm, Map<Integer, Integer> outliers, int samples) throws IOException {
    if (sm.groups().isEmpty()) {
      return source;
    }
    ModelProto current = source.strippedModel();
    Map<String, float[]> values = new LinkedHashMap<>();
    Map<String, long[]> indices = new LinkedHashMap<>();
    Map<String, TensorInfo> added = new LinkedHashMap<>();
    Map<String, TensorInfo> infos = sm.infos();
    Set<String> splitWeights = new HashSet<>();
    outliers.keySet().forEach(gi -> splitWeights.addAll(sm.groups().get(gi)));
    Map<AttentionValues.Projection, float[]> folds = new LinkedHashMap<>();
    for (int gi = 0; gi < sm.groups().size(); gi++) {
      List<String> g = sm.groups().get(gi);
      int k = (int) infos.get(g.get(0)).shape()[0];
      float[] wMax = new float[k];
      Map<String, float[]> weights = new LinkedHashMap<>();
      for (String name : g) {
        TensorInfo info = infos.get(name);
        int n = (int) info.shape()[1];
        float[] w = source.read(info).floats();
        weights.put(name, w);
        for (int i = 0; i < k; i++) {
          for (int j = 0; j < n; j++) {
            wMax[i] = Math.max(wMax[i], Math.abs(w[i * n + j]));
          }
        }
      }
      // the graph multiplies by fp16 numbers (half the bytes in an exported file), the weights by
      // their exact inverses
      float[] inverse = ActivationScaling.inverse(smoothingScales(sm.maxima()[gi], wMax, alpha));
      for (int i = 0; i < k; i++) {
        inverse[i] = Fp16.toFloat(Fp16.fromFloat(inverse[i]));
      }
      float[] s = ActivationScaling.inverse(inverse);
      int[] split = outliers.containsKey(gi) ? outlierChannels(sm.maxima()[gi], inverse, outliers.get(gi)) : new int[0];
      String activation = sm.activations().get(gi);
      Map<String, TensorInfo> outlierWeights = new LinkedHashMap<>();
      for (Map.Entry<String, float[]> e : weights.entrySet()) {
        int n = (int) infos.get(e.getKey()).shape()[1];
        float[] scaled = ActivationScaling.scaleRows(e.getValue(), k, n, s);
        if (split.length > 0) {
          // the split channels' rows leave the int8 product (their activations are zeroed) and
          // multiply the unscaled activations in fp32, with the original rows
          float[] rows = new float[split.length * n];
          for (int r = 0; r < split.length; r++) {
            System.arraycopy(e.getValue(), split[r] * n, rows, r * n, n);
            java.util.Arrays.fill(scaled, split[r] * n, (split[r] + 1) * n, 0f);
          }
          // fp16 numbers: an exported file holds them at half the bytes, exactly (relative error
          // 2^-11 against the original rows, far below the int8 product's)
          for (int i = 0; i < rows.length; i++) {
            rows[i] = Fp16.toFloat(Fp16.fromFloat(rows[i]));
          }
          String rowsName = CalibrationGraphs.uniqueName(current.getGraph(), e.getKey() + "_outlier_rows");
          TensorInfo rowsInfo = new TensorInfo(rowsName, DType.FLOAT32, new long[] {split.length, n},
              TensorRole.MATMUL_WEIGHT, 0);
          added.put(rowsName, rowsInfo);
          values.put(rowsName, rows);
          outlierWeights.put(e.getKey(), rowsInfo);
        }
        values.put(e.getKey(), scaled);
      }
      for (int c : split) {
        inverse[c] = 0f;
      }
      // decided on the source graph: the smoothing and splits of other groups leave the chain from
      // the value projection to this context as it was, except a split of the projection itself
      AttentionValues.Projection value = split.length > 0 ? null : sm.values().get(gi);
      if (value != null && !splitWeights.contains(value.weight())) {
        folds.put(value, inverse); // the context's factors go into the value projection's columns
        continue;
      }
      String inv = activation + "_cortexsdr_smoothing";
      added.put(inv, new TensorInfo(inv, DType.FLOAT32, new long[] {k}, TensorRole.OTHER, -1));
      values.put(inv, inverse);
      current = OnnxCalibrator.withInputScaled(current, g, activation, inv, k);
      if (split.length > 0) {
        String idx = CalibrationGraphs.uniqueName(current.getGraph(), g.get(0) + "_outlier_channels");
        long[] at = new long[split.length];
        for (int r = 0; r < split.length; r++) {
          at[r] = split[r];
        }
        added.put(idx, new TensorInfo(idx, DType.INT64, new long[] {split.length}, TensorRole.OTHER, -1));
        indices.put(idx, at);
        current = CalibrationGraphs.withOutlierChannels(current, activation, idx, split.length, outlierWeights);
      }
    }
    for (Map.Entry<AttentionValues.Projection, float[]> f : folds.entrySet()) {
      String w = f.getKey().weight();
      float[] columns = f.getValue();
      float[] scaled = values.containsKey(w) ? values.get(w) : source.read(infos.get(w)).floats().clone();
      for (int i = 0; i < scaled.length; i++) {
        scaled[i] *= columns[i % columns.length];
      }
      values.put(w, scaled);
      String b = f.getKey().bias();
      if (b != null) {
        float[] bias = source.read(infos.get(b)).floats().clone();
        for (int i = 0; i < bias.length; i++) {
          bias[i] *= columns[i];
        }
        values.put(b, bias);
      }
    }
    log.accept("smoothed the inputs of " + sm.groups().size() + " MatMul groups, alpha " + alpha
        + (folds.isEmpty() ? "" : ", " + folds.size() + " of them folded into attention value projections")
        + (outliers.isEmpty() ? "" : ", outlier channels split off in " + outliers.size() + ": " + outliers.values()));
    String note = "smoothing (SmoothQuant) alpha " + alpha + " on " + sm.groups().size() + " MatMul inputs ("
        + folds.size() + " folded into attention value projections), " + samples
        + " samples" + (outliers.isEmpty() ? "" : "; outlier channels computed in fp32 on " + outliers.size()
        + " inputs " + outliers.values());
    return new SmoothedSource(source, current, values, indices, added, note);
  }

  /** The bytes of a stored tensor of at most 16 elements (shapes are computed from them), or null. */
  private java.nio.ByteBuffer smallData(Map<String, TensorInfo> infos, String name) {
    TensorInfo t = infos.get(name);
    if (t == null || t.numel() > 16) {
      return null;
    }
    try {
      return source.read(t).bytes();
    } catch (IOException | RuntimeException e) {
      return null; // unreadable here: the shape stays unproven, nothing is folded
    }
  }

  /** Whether the projection's weight and bias are stored fp32 tensors of the shapes a fold scales. */
  private static boolean foldable(Map<String, TensorInfo> infos, AttentionValues.Projection p) {
    TensorInfo w = infos.get(p.weight());
    TensorInfo b = p.bias() == null ? null : infos.get(p.bias());
    return w != null && w.dtype() == DType.FLOAT32 && w.shape().length == 2
        && (p.bias() == null || b != null && b.dtype() == DType.FLOAT32 && b.shape().length == 1
            && b.shape()[0] == w.shape()[1]);
  }

  /**
   * The {@code count} channels whose smoothed calibration range ({@code max_j * inverse_j}) is
   * widest, ascending: the ones that set the per-tensor step of {@code DynamicQuantizeLinear}.
   */
  static int[] outlierChannels(float[] maxima, float[] inverse, int count) {
    Integer[] order = new Integer[maxima.length];
    for (int i = 0; i < order.length; i++) {
      order[i] = i;
    }
    java.util.Arrays.sort(order, Comparator.comparingDouble((Integer i) -> -(double) maxima[i] * inverse[i]));
    int[] out = new int[Math.min(count, order.length)];
    for (int i = 0; i < out.length; i++) {
      out[i] = order[i];
    }
    java.util.Arrays.sort(out);
    return out;
  }

  /**
   * {@code a^alpha / w^(1 - alpha)} per channel, 1 where either is 0, kept within [1, 1e4]: a
   * channel is only ever divided, never multiplied. SmoothQuant's own scales also multiply the
   * channels that are quiet on the calibration data; a token the calibration never saw that is loud
   * in such a channel then sets the per-tensor range for the whole batch. Measured on
   * all-MiniLM-L6-v2 (text calibration, 200 Moby-Dick sentences): a quiet channel of the first
   * FFN's GELU output, multiplied, spanned 1.9 on the calibration batches and 12.5 in the
   * evaluation's batches of 32; kept within [1e-4, 1e4] one MatMul needed fp32 activations (0.9981 /
   * 0.9948 one at a time, 0.9978 / 0.9947 in batches of 32), kept at 1 or more none do (0.9978 /
   * 0.9950 and 0.9976 / 0.9937).
   */
  static float[] smoothingScales(float[] a, float[] w, double alpha) {
    float[] s = new float[a.length];
    for (int i = 0; i < a.length; i++) {
      if (a[i] <= 0 || w[i] <= 0) {
        s[i] = 1f;
        continue;
      }
      double v = Math.pow(a[i], alpha) / Math.pow(w[i], 1 - alpha);
      s[i] = (float) Math.min(1e4, Math.max(1, v));
    }
    return s;
  }

  /** Largest |value| per channel (last axis) of each activation over the samples, fp32 model. */
  private float[][] activationMaxima(ModelProto stripped, List<String> activations, List<List<String>> groups,
      Map<String, TensorInfo> infos, List<Map<String, OnnxCalibrator.Input>> samples) throws IOException {
    ModelProto full = OnnxCalibrator.modelWith(stripped, source, Map.of());
    GraphProto.Builder g = full.getGraph().toBuilder().clearOutput();
    for (String a : activations) {
      g.addOutput(ValueInfoProto.newBuilder().setName(a)
          .setType(TypeProto.newBuilder().setTensorType(TypeProto.Tensor.newBuilder().setElemType(1))));
    }
    ModelProto probe = full.toBuilder().setGraph(g).build();
    float[][] max = new float[activations.size()][];
    for (int i = 0; i < max.length; i++) {
      max[i] = new float[(int) infos.get(groups.get(i).get(0)).shape()[0]];
    }
    OrtEnvironment env = OrtEnvironments.get();
    try (OrtSession.SessionOptions o = new OrtSession.SessionOptions()) {
      o.setIntraOpNumThreads(threads);
      try (OrtSession s = env.createSession(probe.toByteArray(), o)) {
        for (Map<String, OnnxCalibrator.Input> sample : samples) {
          List<float[]> out = OnnxCalibrator.runOutputs(env, s, sample);
          for (int i = 0; i < out.size(); i++) {
            float[] x = out.get(i);
            int k = max[i].length;
            for (int j = 0; j < x.length; j++) {
              max[i][j % k] = Math.max(max[i][j % k], Math.abs(x[j]));
            }
          }
        }
      }
    } catch (OrtException e) {
      throw new CaiException(source.location(), null, "int8-fast calibration run failed: " + e.getMessage(), e);
    }
    return max;
  }

  private static String consumerInput(GraphProto g, String weight) {
    for (ai.onnx.proto.OnnxMl.NodeProto n : g.getNodeList()) {
      if (n.getOpType().equals("MatMul") && n.getInput(1).equals(weight)) {
        return n.getInput(0);
      }
    }
    throw new IllegalStateException("no MatMul uses " + weight);
  }

  /** The source with smoothed weights, the scaling nodes' tensors, and the changed graph. */
  private static final class SmoothedSource extends EditedOnnxSource {
    private final Map<String, float[]> values;
    private final Map<String, long[]> indices;

    SmoothedSource(OnnxModelReader base, ModelProto graph, Map<String, float[]> values, Map<String, long[]> indices,
        Map<String, TensorInfo> added, String note) {
      super(base, graph, added, Map.of("int8-fast calibration", note));
      this.values = values;
      this.indices = indices;
    }

    @Override
    public TensorData read(TensorInfo tensor) throws IOException {
      float[] v = values.get(tensor.name());
      if (v != null) {
        return TensorData.ofFloats(tensor, v);
      }
      long[] at = indices.get(tensor.name());
      if (at != null) {
        return longs(tensor, at);
      }
      return base.read(tensor);
    }
  }
}
