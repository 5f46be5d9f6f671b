package dev.selfbyt.cortexsdr.converters.onnx;

import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.TensorShapeProto;
import ai.onnx.proto.OnnxMl.TypeProto;
import ai.onnx.proto.OnnxMl.ValueInfoProto;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.selfbyt.cortexsdr.core.calibrate.Metrics;
import dev.selfbyt.cortexsdr.core.codec.QuantCodec;
import dev.selfbyt.cortexsdr.core.codec.TensorCodec;
import dev.selfbyt.cortexsdr.core.format.CaiException;
import dev.selfbyt.cortexsdr.core.tensor.TensorData;
import dev.selfbyt.cortexsdr.core.tensor.TensorInfo;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.Consumer;

/**
 * Mixed precision driven by the model's output: measures, for every quantizable weight and every
 * candidate codec (a width and a block size), how far the model's first output moves (1 - cosine,
 * per calibration sample) when only that weight is rounded; then, treating those effects as
 * additive, gives each weight the smallest codec such that both the mean effect and every
 * sample's effect stay within their budgets, spending bytes where they buy the most fidelity.
 *
 * <p>Measuring runs one ONNX Runtime session in which the measured weights are graph inputs: each
 * (weight, codec) pair is a handful of runs with one input swapped, no session rebuilt.
 */
public final class BitAllocator {
  private final OnnxModelReader source;
  private final List<QuantCodec> candidates;
  private Map<String, List<TensorCodec>> extra = Map.of();
  private final int threads;
  private Consumer<String> log = s -> {};
  private boolean parallelSamples = true;
  private boolean suffixRuns = true;

  /** @param candidates the codecs each weight may get (block-wise, one symmetry) */
  public BitAllocator(OnnxModelReader source, List<QuantCodec> candidates, int threads) {
    this.source = source;
    this.candidates = List.copyOf(candidates);
    this.threads = threads;
  }

  /**
   * Whether samples run on all threads at once, each in one ONNX Runtime thread (default), or one
   * after the other, each on all threads (as before; kept to compare in benchmarks).
   */
  public BitAllocator parallelSamples(boolean on) {
    this.parallelSamples = on;
    return this;
  }

  /**
   * Whether each weight's candidates run only the nodes downstream of the weight, on activations
   * cached from one run of the whole model per sample ({@link SuffixRuns}; default), or the whole
   * model every time (as before; kept to compare in benchmarks).
   */
  public BitAllocator suffixRuns(boolean on) {
    this.suffixRuns = on;
    return this;
  }

  /**
   * Codecs offered to some weights besides the common candidates, each always run (never
   * predicted from the common candidates' anchors), for example entropy-coded steps for an
   * embedding table ({@link MixedPrecision#tableCandidates}).
   */
  public BitAllocator extraCandidates(Map<String, ? extends List<? extends TensorCodec>> extra) {
    Map<String, List<TensorCodec>> m = new HashMap<>();
    extra.forEach((w, c) -> m.put(w, List.copyOf(c)));
    this.extra = m;
    return this;
  }

  public BitAllocator onProgress(Consumer<String> log) {
    this.log = log;
    return this;
  }

  /**
   * Measured effect of one weight under one codec: payload bytes, and 1 - cosine of the output per
   * sample ({@code distortion} is their mean).
   */
  public record Effect(String tensor, TensorCodec codec, long bytes, double distortion, double[] perSample) {
    /** An effect that is the same on every sample (for planning by the mean alone). */
    public static Effect uniform(String tensor, TensorCodec codec, long bytes, double distortion) {
      return new Effect(tensor, codec, bytes, distortion, new double[] {distortion});
    }
  }

  /** Measures every (weight, candidate) pair on the samples. */
  public List<Effect> measure(List<String> weights, List<Map<String, OnnxCalibrator.Input>> samples)
      throws IOException {
    return measure(weights, samples, 0);
  }

  /**
   * Measures the effects on the samples. With {@code anchors = 0} every (weight, candidate) pair
   * runs the samples. With {@code anchors = k > 0}, each weight runs them under {@code k} of its
   * candidates only, spread over the range of its weight error, and the others' effects are
   * predicted from their weight error (sum of squared differences, computed without running the
   * model): per sample, the nearest anchor's effect times {@code (e / e_anchor)^p}, with the
   * exponent {@code p} fitted on the anchors' mean effects (1 with one anchor; output distortion
   * grows with the weight's squared error). Samples run on {@code threads} workers at once, each
   * in one thread of ONNX Runtime (faster than one sample on all threads for short inputs).
   */
  public List<Effect> measure(List<String> weights, List<Map<String, OnnxCalibrator.Input>> samples, int anchors)
      throws IOException {
    Map<String, TensorInfo> infos = new HashMap<>();
    for (TensorInfo t : source.tensors()) {
      infos.put(t.name(), t);
    }
    OrtEnvironment env = OrtEnvironments.get();
    List<Effect> out = new ArrayList<>();
    Map<String, OnnxTensor> originals = new LinkedHashMap<>();
    List<Map<String, OnnxTensor>> feeds = new ArrayList<>();
    int workers = parallelSamples ? Math.max(1, Math.min(threads, samples.size())) : 1;
    ExecutorService pool = Executors.newFixedThreadPool(workers, r -> {
      Thread t = new Thread(r, "cortexsdr-measure");
      t.setDaemon(true);
      return t;
    });
    long t0 = System.nanoTime();
    ModelProto measuring = measuringModel(new HashSet<>(weights), infos);
    SuffixRuns suffixes = suffixRuns ? new SuffixRuns(measuring, weights) : null;
    try (OrtSession.SessionOptions o = new OrtSession.SessionOptions()) {
      o.setIntraOpNumThreads(workers > 1 ? 1 : threads);
      try (OrtSession s = env.createSession((suffixes != null ? suffixes.withCachedOutputs() : measuring)
          .toByteArray(), o)) {
        for (String w : weights) {
          TensorInfo info = infos.get(w);
          originals.put(w, tensor(env, source.read(info).floats(), info.shape()));
        }
        for (Map<String, OnnxCalibrator.Input> sample : samples) {
          feeds.add(OnnxCalibrator.feed(env, s, sample));
        }
        t0 = CalibrationClock.since(CalibrationClock.MEASURE_SESSION, t0);
        List<float[]> reference = suffixes != null ? suffixes.cache(pool, s, feeds, originals)
            : run(pool, s, feeds, originals, null, null);
        t0 = CalibrationClock.since(CalibrationClock.MEASURE_RUNS, t0);
        int done = 0;
        long runs = 0;
        for (String w : weights) {
          TensorInfo info = infos.get(w);
          TensorData data = source.read(info);
          float[] x = data.floats();
          List<TensorCodec> codecs = new ArrayList<>(candidates);
          codecs.addAll(extra.getOrDefault(w, List.of()));
          int n = codecs.size();
          int common = candidates.size();
          long[] bytes = new long[n];
          double[] sse = new double[n];
          float[][] decoded = new float[n][];
          for (int c = 0; c < n; c++) {
            ByteBuffer payload = codecs.get(c).encode(data);
            bytes[c] = payload.remaining();
            decoded[c] = codecs.get(c).decode(info, payload.duplicate()).floats();
            sse[c] = sse(x, decoded[c]);
          }
          // anchors among the common candidates; every extra one is run
          boolean[] measured = java.util.Arrays.copyOf(anchorsOf(java.util.Arrays.copyOf(sse, common), anchors), n);
          java.util.Arrays.fill(measured, common, n, true);
          t0 = CalibrationClock.since(CalibrationClock.MEASURE_ENCODE, t0);
          SuffixRuns.Suffix suffix = suffixes != null ? suffixes.open(env, w, workers > 1 ? 1 : threads) : null;
          t0 = CalibrationClock.since(CalibrationClock.MEASURE_SESSION, t0);
          double[][] per = new double[n][];
          for (int c = 0; c < n; c++) {
            if (!measured[c]) {
              continue;
            }
            List<float[]> o2;
            try (OnnxTensor qt = tensor(env, decoded[c], info.shape())) {
              o2 = suffix != null ? suffix.run(pool, feeds, originals, w, qt) : run(pool, s, feeds, originals, w, qt);
            }
            runs += o2.size();
            per[c] = new double[o2.size()];
            for (int i = 0; i < o2.size(); i++) {
              per[c][i] = Math.max(0, 1 - Metrics.cosine(reference.get(i), o2.get(i)));
            }
          }
          if (suffix != null) {
            suffix.close();
          }
          t0 = CalibrationClock.since(CalibrationClock.MEASURE_RUNS, t0);
          double[][] perCommon = java.util.Arrays.copyOf(per, common); // predicted from their own anchors only
          predict(perCommon, java.util.Arrays.copyOf(sse, common), java.util.Arrays.copyOf(measured, common));
          System.arraycopy(perCommon, 0, per, 0, common);
          for (int c = 0; c < n; c++) {
            out.add(new Effect(w, codecs.get(c), bytes[c], mean(per[c]), per[c]));
          }
          done++;
          log.accept(String.format(java.util.Locale.ROOT, "measured %d of %d weights (%,d model runs), last %s",
              done, weights.size(), runs, w));
        }
      }
    } catch (OrtException e) {
      throw new CaiException(source.location(), null, "measuring the output failed: " + e.getMessage(), e);
    } finally {
      pool.shutdownNow();
      if (suffixes != null) {
        suffixes.close();
      }
      originals.values().forEach(OnnxTensor::close);
      feeds.forEach(f -> f.values().forEach(OnnxTensor::close));
    }
    return out;
  }

  private static double sse(float[] a, float[] b) {
    double s = 0;
    for (int i = 0; i < a.length; i++) {
      double d = (double) a[i] - b[i];
      s += d * d;
    }
    return s;
  }

  private static double mean(double[] v) {
    double s = 0;
    for (double x : v) {
      s += x;
    }
    return v.length == 0 ? 0 : s / v.length;
  }

  /**
   * Which candidates to run: all ({@code anchors <= 0} or at least as many anchors as candidates),
   * else {@code anchors} spread evenly over the candidates ranked by weight error, the largest
   * error and the smallest error excluded (their effects are the least and the most predictable
   * extremes: rarely chosen, or negligible).
   */
  static boolean[] anchorsOf(double[] sse, int anchors) {
    int n = sse.length;
    boolean[] m = new boolean[n];
    if (anchors <= 0 || anchors >= n) {
      java.util.Arrays.fill(m, true);
      return m;
    }
    Integer[] order = new Integer[n];
    for (int i = 0; i < n; i++) {
      order[i] = i;
    }
    java.util.Arrays.sort(order, (a, b) -> Double.compare(sse[b], sse[a])); // largest error first
    for (int k = 0; k < anchors; k++) {
      // positions (k + 1) / (anchors + 1) of the way along the ranking
      int pos = (int) Math.round((double) (k + 1) * (n - 1) / (anchors + 1));
      m[order[pos]] = true;
    }
    return m;
  }

  /** Fills in the unmeasured candidates' per-sample effects from the measured ones (see {@link #measure}). */
  static void predict(double[][] per, double[] sse, boolean[] measured) {
    List<Integer> a = new ArrayList<>();
    for (int c = 0; c < per.length; c++) {
      if (measured[c]) {
        a.add(c);
      }
    }
    double p = 1;
    if (a.size() >= 2) {
      // least-squares slope of log(mean effect) against log(error) over the anchors
      double sx = 0, sy = 0, sxx = 0, sxy = 0;
      int k = 0;
      for (int c : a) {
        double m = mean(per[c]);
        if (m > 0 && sse[c] > 0) {
          double lx = Math.log(sse[c]);
          double ly = Math.log(m);
          sx += lx;
          sy += ly;
          sxx += lx * lx;
          sxy += lx * ly;
          k++;
        }
      }
      double den = k * sxx - sx * sx;
      if (k >= 2 && den > 1e-12) {
        p = Math.max(0.5, Math.min(2, (k * sxy - sx * sy) / den));
      }
    }
    for (int c = 0; c < per.length; c++) {
      if (measured[c]) {
        continue;
      }
      int near = a.get(0);
      for (int x : a) {
        if (Math.abs(Math.log((sse[x] + 1e-30) / (sse[c] + 1e-30)))
            < Math.abs(Math.log((sse[near] + 1e-30) / (sse[c] + 1e-30)))) {
          near = x;
        }
      }
      double f = sse[near] == 0 ? (sse[c] == 0 ? 1 : 0) : Math.pow(sse[c] / sse[near], p);
      per[c] = new double[per[near].length];
      for (int i = 0; i < per[c].length; i++) {
        per[c][i] = per[near][i] * f;
      }
    }
  }

  /**
   * The smallest codec per weight such that the summed mean effect stays within {@code meanBudget}
   * and, on every sample, the summed effect within {@code worstBudget}: start every weight at its
   * smallest candidate, then repeatedly take the change that removes the most excess per added
   * byte, until both fit or nothing helps. Never larger than the smallest one-codec-for-all plan
   * that fits.
   */
  public static Map<String, Effect> allocate(List<Effect> effects, double meanBudget, double worstBudget) {
    Map<String, List<Effect>> byTensor = byTensor(effects);
    int samples = effects.stream().mapToInt(e -> e.perSample().length).max().orElse(1);
    Map<String, Effect> plan = new LinkedHashMap<>();
    for (Map.Entry<String, List<Effect>> t : byTensor.entrySet()) {
      t.getValue().sort(Comparator.comparingLong(Effect::bytes).thenComparingDouble(Effect::distortion));
      plan.put(t.getKey(), t.getValue().get(0));
    }
    double[] perSample = new double[samples];
    double mean = 0;
    for (Effect e : plan.values()) {
      mean += e.distortion();
      add(perSample, e, 1);
    }
    double excess = excess(mean, perSample, meanBudget, worstBudget);
    while (excess > 0) {
      Effect bestFrom = null;
      Effect bestTo = null;
      double bestGain = 0;
      for (Map.Entry<String, List<Effect>> t : byTensor.entrySet()) {
        Effect now = plan.get(t.getKey());
        for (Effect next : t.getValue()) {
          if (next.bytes() <= now.bytes() || next.distortion() >= now.distortion()) {
            continue;
          }
          add(perSample, now, -1);
          add(perSample, next, 1);
          double e = excess(mean - now.distortion() + next.distortion(), perSample, meanBudget, worstBudget);
          add(perSample, next, -1);
          add(perSample, now, 1);
          double gain = (excess - e) / (next.bytes() - now.bytes());
          if (gain > bestGain) {
            bestGain = gain;
            bestFrom = now;
            bestTo = next;
          }
        }
      }
      if (bestTo == null) {
        break; // nothing left that helps
      }
      add(perSample, bestFrom, -1);
      add(perSample, bestTo, 1);
      mean += bestTo.distortion() - bestFrom.distortion();
      plan.put(bestTo.tensor(), bestTo);
      excess = excess(mean, perSample, meanBudget, worstBudget);
    }
    // never worse than one codec for all: the smallest uniform plan within budget, if smaller
    long bytes = bytes(plan);
    for (Effect c : effects) {
      Map<String, Effect> uniform = new LinkedHashMap<>();
      for (Map.Entry<String, List<Effect>> t : byTensor.entrySet()) {
        t.getValue().stream().filter(x -> x.codec().equals(c.codec())).findFirst()
            .ifPresent(x -> uniform.put(t.getKey(), x));
      }
      if (uniform.size() == byTensor.size() && fits(uniform.values(), samples, meanBudget, worstBudget)
          && bytes(uniform) < bytes) {
        plan = uniform;
        bytes = bytes(uniform);
      }
    }
    return plan;
  }

  /** Whether a set of effects stays within both budgets. */
  public static boolean fits(Iterable<Effect> chosen, int samples, double meanBudget, double worstBudget) {
    double[] perSample = new double[samples];
    double mean = 0;
    for (Effect e : chosen) {
      mean += e.distortion();
      add(perSample, e, 1);
    }
    return excess(mean, perSample, meanBudget, worstBudget) <= 0;
  }

  /** How far over budget: relative excess of the mean plus mean relative excess of the samples. */
  private static double excess(double mean, double[] perSample, double meanBudget, double worstBudget) {
    double e = Math.max(0, mean - meanBudget) / meanBudget;
    double w = 0;
    for (double s : perSample) {
      w += Math.max(0, s - worstBudget) / worstBudget;
    }
    return e + w / perSample.length;
  }

  /** Adds {@code sign} times an effect's per-sample values (a one-value effect counts on every sample). */
  private static void add(double[] perSample, Effect e, int sign) {
    double[] p = e.perSample();
    for (int i = 0; i < perSample.length; i++) {
      perSample[i] += sign * (p.length == perSample.length ? p[i] : e.distortion());
    }
  }

  /** Total bytes of a plan. */
  public static long bytes(Map<String, Effect> plan) {
    return plan.values().stream().mapToLong(Effect::bytes).sum();
  }

  /** Effects grouped by tensor, in first-seen order. */
  public static Map<String, List<Effect>> byTensor(List<Effect> effects) {
    Map<String, List<Effect>> m = new LinkedHashMap<>();
    for (Effect e : effects) {
      m.computeIfAbsent(e.tensor(), k -> new ArrayList<>()).add(e);
    }
    return m;
  }

  /**
   * The full model in which the measured weights are graph inputs (their initializers or {@code
   * Constant} nodes removed) and every other weight is filled in.
   */
  private ModelProto measuringModel(Set<String> measured, Map<String, TensorInfo> infos) throws IOException {
    ModelProto full = OnnxExporter.withWeights(source.strippedModel(), name -> {
      TensorInfo t = infos.get(name);
      return t == null || measured.contains(name) ? null : source.read(t).bytes();
    });
    GraphProto g = full.getGraph();
    GraphProto.Builder gb = g.toBuilder().clearInitializer().clearNode();
    g.getInitializerList().stream().filter(t -> !measured.contains(t.getName())).forEach(gb::addInitializer);
    for (NodeProto n : g.getNodeList()) {
      boolean measuredConstant = n.getOpType().equals("Constant") && n.getOutputCount() == 1
          && measured.contains(n.getOutput(0));
      if (!measuredConstant) {
        gb.addNode(n);
      }
    }
    List<ValueInfoProto> inputs = new ArrayList<>(g.getInputList());
    inputs.removeIf(v -> measured.contains(v.getName())); // old-style models list initializers as inputs
    gb.clearInput().addAllInput(inputs);
    for (String w : measured) {
      TensorShapeProto.Builder shape = TensorShapeProto.newBuilder();
      for (long d : infos.get(w).shape()) {
        shape.addDim(TensorShapeProto.Dimension.newBuilder().setDimValue(d));
      }
      gb.addInput(ValueInfoProto.newBuilder().setName(w).setType(TypeProto.newBuilder()
          .setTensorType(TypeProto.Tensor.newBuilder().setElemType(1).setShape(shape))));
    }
    return full.toBuilder().setGraph(gb).build();
  }

  private static OnnxTensor tensor(OrtEnvironment env, float[] values, long[] shape) throws OrtException {
    FloatBuffer b = ByteBuffer.allocateDirect(4 * values.length).order(ByteOrder.nativeOrder()).asFloatBuffer();
    b.put(values).flip();
    return OnnxTensor.createTensor(env, b, shape); // direct: ORT uses the buffer in place
  }

  /** First output per sample, with {@code swapped} fed for weight {@code name} (or none swapped), samples in parallel. */
  private static List<float[]> run(ExecutorService pool, OrtSession s, List<Map<String, OnnxTensor>> feeds,
      Map<String, OnnxTensor> weights, String name, OnnxTensor swapped) throws OrtException {
    List<Future<float[]>> futures = new ArrayList<>();
    for (Map<String, OnnxTensor> feed : feeds) {
      futures.add(pool.submit(() -> {
        Map<String, OnnxTensor> in = new HashMap<>(feed);
        in.putAll(weights);
        if (name != null) {
          in.put(name, swapped);
        }
        try (OrtSession.Result r = s.run(in)) {
          FloatBuffer fb = ((OnnxTensor) r.get(0)).getFloatBuffer();
          float[] x = new float[fb.remaining()];
          fb.get(x);
          return x;
        }
      }));
    }
    List<float[]> out = new ArrayList<>();
    try {
      for (Future<float[]> f : futures) {
        out.add(f.get());
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      futures.forEach(f -> f.cancel(true));
      throw new IllegalStateException("interrupted while measuring", e);
    } catch (ExecutionException e) {
      futures.forEach(f -> f.cancel(true));
      if (e.getCause() instanceof OrtException oe) {
        throw oe;
      }
      throw new IllegalStateException("measuring the output failed: " + e.getCause(), e.getCause());
    }
    return out;
  }
}
