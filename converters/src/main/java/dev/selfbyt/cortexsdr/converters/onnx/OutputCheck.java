package dev.selfbyt.cortexsdr.converters.onnx;

import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import ai.onnx.proto.OnnxMl.TensorShapeProto;
import ai.onnx.proto.OnnxMl.TypeProto;
import ai.onnx.proto.OnnxMl.ValueInfoProto;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.selfbyt.cortexsdr.core.calibrate.Metrics;
import dev.selfbyt.cortexsdr.core.format.CaiEntry;
import dev.selfbyt.cortexsdr.core.format.CaiException;
import dev.selfbyt.cortexsdr.core.format.CaiReader;
import dev.selfbyt.cortexsdr.core.tensor.DType;
import dev.selfbyt.cortexsdr.core.tensor.TensorData;
import dev.selfbyt.cortexsdr.core.tensor.TensorInfo;
import dev.selfbyt.cortexsdr.core.tensor.TensorSource;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * The output check of {@code compress}: runs the original ONNX model and the compressed {@code
 * .cai} (as the graph {@link QuantizedOnnxExporter} gives ONNX Runtime, so int8 activations and
 * quantized operators count) on the same samples and reports the cosine of each output, mean and
 * min over the samples. Samples are {@linkplain Stream streams}: one step for a stateless model,
 * several for a stateful one whose state outputs feed its state inputs, each model carrying its own
 * state (so errors that accumulate over a stream are seen).
 *
 * <p>When some output falls below the threshold, {@link #check} also names the most damaging
 * tensors. Measuring every tensor's effect would take one model run per tensor and sample; instead
 * the lossy tensors with the largest weight error (NMSE) are the candidates ({@value
 * #CANDIDATES} of them), and each one's damage is measured by restoring it alone to its
 * uncompressed value in a model whose other weights are all decoded: the output cosine it gives
 * back is its damage. One ONNX Runtime session serves every candidate, as the candidates become
 * graph inputs, fed their decoded values but for the one restored. The decoded model has no int8
 * activations, so this ranks weights only.
 */
public final class OutputCheck {
  /** Lossy tensors, largest NMSE first, whose damage is measured. */
  public static final int CANDIDATES = 8;
  /** Largest model checked (decoded weight bytes): the quantized graph is one protobuf message, at most 2 GiB. */
  static final long MAX_MODEL_BYTES = (long) Integer.MAX_VALUE - (64L << 20);
  /** Samples the damage measurement runs on (each costs one run per candidate). */
  static final int DAMAGE_SAMPLES = 4;

  /**
   * One sample: the inputs of each step; {@code state} maps a state output to the input it feeds
   * at the next step (empty for a stateless model, whose streams have one step). The first step
   * gives the initial state inputs.
   */
  public record Stream(List<Map<String, OnnxCalibrator.Input>> steps, Map<String, String> state) {
    /** A stateless sample. */
    public static Stream of(Map<String, OnnxCalibrator.Input> sample) {
      return new Stream(List.of(sample), Map.of());
    }
  }

  /** Cosine of one output between the original and the compressed model, over every sample (step). */
  public record OutputCosine(String output, double mean, double min) {}

  /**
   * A tensor's measured damage.
   *
   * @param nmse its weight error as stored
   * @param restoredCosine the decoded model's mean output cosine with this tensor alone restored
   * @param gain how much restoring it raises that cosine
   */
  public record Damage(String tensor, double nmse, double restoredCosine, double gain) {}

  /**
   * What the check found.
   *
   * @param inputs what the samples were (calibration data, seeded random inputs, ...)
   * @param samples how many samples (steps) were compared
   * @param threshold the mean cosine every output must keep
   * @param decodedCosine the mean output cosine of the model with all weights decoded (the
   *     baseline of the damage measurement), NaN when damage was not measured
   * @param worst the most damaging tensors, most damaging first (empty when all outputs pass)
   */
  public record Report(String inputs, int samples, double threshold, List<OutputCosine> outputs, double decodedCosine,
      List<Damage> worst, long timeMs) {
    /** True when every output's mean cosine reaches the threshold. */
    public boolean passed() {
      return outputs.stream().allMatch(o -> o.mean() >= threshold);
    }

    /** The one-line summary: {@code out1 mean 0.99990 (min 0.99971), out2 ...}. */
    public String line() {
      StringBuilder b = new StringBuilder();
      for (OutputCosine o : outputs) {
        b.append(b.length() > 0 ? ", " : "").append(String.format(Locale.ROOT, "%s cosine mean %.5f (min %.5f)",
            o.output(), o.mean(), o.min()));
      }
      return b.toString();
    }

    /** As stored in the manifest ({@code outputCheck}, see docs/cai-format.md) and printed by {@code --json}. */
    public Map<String, Object> toMap() {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("inputs", inputs);
      m.put("samples", samples);
      m.put("threshold", threshold);
      m.put("passed", passed());
      List<Object> outs = new ArrayList<>();
      for (OutputCosine o : outputs) {
        Map<String, Object> x = new LinkedHashMap<>();
        x.put("name", o.output());
        x.put("meanCosine", round(o.mean()));
        x.put("minCosine", round(o.min()));
        outs.add(x);
      }
      m.put("outputs", outs);
      if (!worst.isEmpty()) {
        m.put("decodedCosine", round(decodedCosine));
        List<Object> ws = new ArrayList<>();
        for (Damage d : worst) {
          Map<String, Object> x = new LinkedHashMap<>();
          x.put("name", d.tensor());
          x.put("nmse", d.nmse());
          x.put("restoredCosine", round(d.restoredCosine()));
          x.put("gain", round(d.gain()));
          ws.add(x);
        }
        m.put("worstTensors", ws);
      }
      return m;
    }

    // six decimals: enough to compare, and the same in every run whatever ONNX Runtime's summation order
    private static double round(double v) {
      return Double.isFinite(v) ? Math.round(v * 1e6) / 1e6 : v;
    }
  }

  private final Path original;
  private final TensorSource compressedFrom;
  private final int threads;

  /**
   * @param original the ONNX file that was compressed
   * @param compressedFrom the source the archive was written from (the model itself, or its
   *     calibrated form): a restored tensor takes its value before rounding from here
   * @param threads ONNX Runtime intra-op threads
   */
  public OutputCheck(Path original, TensorSource compressedFrom, int threads) {
    this.original = original;
    this.compressedFrom = compressedFrom;
    this.threads = threads;
  }

  /**
   * Compares the original and the compressed model on {@code streams}.
   *
   * @param inputs what the samples are, for the report
   * @param threshold the mean cosine each output must keep; below it the worst tensors are measured
   * @throws CaiException when either model does not run on the samples (naming the model and ONNX
   *     Runtime's message)
   */
  public Report check(Path cai, List<Stream> streams, String inputs, double threshold) throws IOException {
    try (ModelTrial t = new ModelTrial(original, threads)) {
      return check(cai, streams, inputs, threshold, t);
    } catch (OrtException e) {
      throw new CaiException(original.toString(), null, e.getMessage(), e);
    }
  }

  /**
   * As {@link #check(Path, List, String, double)}, running the original model in {@code original}'s
   * session (shared with the size trials of random inputs, so the model is loaded once).
   */
  public Report check(Path cai, List<Stream> streams, String inputs, double threshold, ModelTrial original)
      throws IOException {
    long start = System.nanoTime();
    OrtEnvironment env = OrtEnvironments.get();
    Map<String, List<float[]>> ref;
    try {
      ref = run(env, original.session(), streams, this.original.toString());
    } catch (OrtException e) {
      throw new CaiException(this.original.toString(), null, "the original model does not run: " + e.getMessage(), e);
    }
    try (CaiReader reader = CaiReader.open(cai)) {
      long decoded = 0;
      for (CaiEntry e : reader.entries()) {
        decoded += e.info().byteSize();
      }
      if (decoded > MAX_MODEL_BYTES) {
        throw new CaiException(cai.toString(), null, "the model is " + decoded + " bytes decoded; the check builds "
            + "it in memory as one ONNX message, which protobuf limits to 2 GiB");
      }
      ModelProto q = QuantizedOnnxExporter.build(reader, 0, true, null).model();
      Map<String, List<float[]>> got;
      try (OrtSession.SessionOptions o = options(); OrtSession s = env.createSession(q.toByteArray(), o)) {
        got = run(env, s, streams, cai.toString());
      } catch (OrtException e) {
        throw new CaiException(cai.toString(), null, "the compressed model does not run in ONNX Runtime: "
            + e.getMessage(), e);
      }
      List<OutputCosine> outs = cosines(ref, got);
      int samples = ref.isEmpty() ? 0 : ref.values().iterator().next().size();
      Report r = new Report(inputs, samples, threshold, outs, Double.NaN, List.of(), 0);
      if (!r.passed()) {
        return damage(env, reader, streams, ref, r, start);
      }
      return new Report(inputs, samples, threshold, outs, Double.NaN, List.of(), ms(start));
    }
  }

  private static long ms(long start) {
    return (System.nanoTime() - start) / 1_000_000;
  }

  private OrtSession.SessionOptions options() throws OrtException {
    return ModelTrial.sessionOptions(threads);
  }

  /** Every output of every step of every stream, per output name, in order. */
  private static Map<String, List<float[]>> run(OrtEnvironment env, OrtSession s, List<Stream> streams, String model)
      throws OrtException {
    Map<String, List<float[]>> out = new LinkedHashMap<>();
    for (Stream stream : streams) {
      Map<String, OnnxCalibrator.Input> state = new HashMap<>();
      for (Map<String, OnnxCalibrator.Input> step : stream.steps()) {
        Map<String, OnnxCalibrator.Input> feed = new HashMap<>(step);
        feed.putAll(state);
        Map<String, float[]> r = OrtRunner.run(env, s, feed);
        for (Map.Entry<String, float[]> e : r.entrySet()) {
          out.computeIfAbsent(e.getKey(), k -> new ArrayList<>()).add(e.getValue());
          String in = stream.state().get(e.getKey());
          if (in != null) {
            OnnxCalibrator.Input like = feed.get(in);
            state.put(in, OnnxCalibrator.Input.ofFloats(like.elemType(), like.shape(), e.getValue()));
          }
        }
      }
    }
    return out;
  }

  private static List<OutputCosine> cosines(Map<String, List<float[]>> ref, Map<String, List<float[]>> got) {
    List<OutputCosine> outs = new ArrayList<>();
    for (Map.Entry<String, List<float[]>> e : ref.entrySet()) {
      List<float[]> g = got.get(e.getKey());
      double sum = 0;
      double min = Double.POSITIVE_INFINITY;
      for (int i = 0; i < e.getValue().size(); i++) {
        double c = g == null || g.get(i).length != e.getValue().get(i).length ? 0
            : Metrics.cosine(e.getValue().get(i), g.get(i));
        c = Double.isNaN(c) ? 0 : c; // NaN outputs are no agreement at all
        sum += c;
        min = Math.min(min, c);
      }
      outs.add(new OutputCosine(e.getKey(), sum / e.getValue().size(), min));
    }
    return outs;
  }

  private static double meanOverOutputs(List<OutputCosine> outs) {
    return outs.stream().mapToDouble(OutputCosine::mean).average().orElse(1);
  }

  /** Measures the candidates' damage (see the class comment) and returns the report with them. */
  private Report damage(OrtEnvironment env, CaiReader reader, List<Stream> streams, Map<String, List<float[]>> ref,
      Report r, long start) throws IOException {
    List<CaiEntry> lossy = new ArrayList<>();
    Map<String, TensorInfo> sourceInfos = new HashMap<>();
    for (TensorInfo t : compressedFrom.tensors()) {
      sourceInfos.put(t.name(), t);
    }
    ModelProto stored = OnnxExporter.storedModel(reader);
    GraphWeights weights = GraphWeights.of(reader.path().toString(), stored.getGraph());
    for (CaiEntry e : reader.entries()) {
      GraphWeights.Weight w = weights.get(e.name());
      if (e.nmse() > 0 && e.info().dtype() == DType.FLOAT32 && sourceInfos.containsKey(e.name()) && w != null
          && w.topLevel()) {
        lossy.add(e);
      }
    }
    lossy.sort(Comparator.comparingDouble((CaiEntry e) -> e.nmse()).reversed());
    List<CaiEntry> candidates = lossy.subList(0, Math.min(CANDIDATES, lossy.size()));
    if (candidates.isEmpty()) {
      return new Report(r.inputs(), r.samples(), r.threshold(), r.outputs(), Double.NaN, List.of(), ms(start));
    }
    Set<String> names = new HashSet<>();
    candidates.forEach(e -> names.add(e.name()));
    ModelProto decoded = OnnxExporter.withWeights(stored, n -> reader.contains(n) && !names.contains(n)
        ? reader.read(n).bytes() : null);
    ModelProto fed = decoded.toBuilder().setGraph(asInputs(decoded.getGraph(), names)).build();
    // the candidates are fed: decoded, but for the one restored
    Map<String, OnnxCalibrator.Input> decodedValues = new LinkedHashMap<>();
    for (CaiEntry e : candidates) {
      decodedValues.put(e.name(), OnnxCalibrator.Input.ofFloats(e.info().shape(), reader.read(e.name()).floats()));
    }
    List<Stream> few = streams.subList(0, Math.min(DAMAGE_SAMPLES, streams.size()));
    Map<String, List<float[]>> fewRef = new LinkedHashMap<>();
    int steps = few.stream().mapToInt(s -> s.steps().size()).sum();
    ref.forEach((k, v) -> fewRef.put(k, v.subList(0, Math.min(steps, v.size()))));
    List<Damage> found = new ArrayList<>();
    double base;
    try (OrtSession.SessionOptions o = options(); OrtSession s = env.createSession(fed.toByteArray(), o)) {
      base = meanOverOutputs(cosines(fewRef, run(env, s, with(few, decodedValues), "decoded")));
      for (CaiEntry e : candidates) {
        TensorData data = compressedFrom.read(sourceInfos.get(e.name()));
        float[] before = data.reference(); // the value before rounding (scaled as stored, where scaled)
        Map<String, OnnxCalibrator.Input> values = new LinkedHashMap<>(decodedValues);
        values.put(e.name(), OnnxCalibrator.Input.ofFloats(e.info().shape(), before));
        double c = meanOverOutputs(cosines(fewRef, run(env, s, with(few, values), "restored")));
        found.add(new Damage(e.name(), e.nmse(), c, c - base));
      }
    } catch (OrtException ex) {
      throw new CaiException(reader.path().toString(), null, "measuring tensor damage failed in ONNX Runtime: "
          + ex.getMessage(), ex);
    }
    found.sort(Comparator.comparingDouble(Damage::gain).reversed());
    return new Report(r.inputs(), r.samples(), r.threshold(), r.outputs(), base, found, ms(start));
  }

  /** Every step of {@code streams} with {@code values} added. */
  private static List<Stream> with(List<Stream> streams, Map<String, OnnxCalibrator.Input> values) {
    List<Stream> out = new ArrayList<>();
    for (Stream st : streams) {
      List<Map<String, OnnxCalibrator.Input>> steps = new ArrayList<>();
      for (Map<String, OnnxCalibrator.Input> step : st.steps()) {
        Map<String, OnnxCalibrator.Input> m = new HashMap<>(step);
        m.putAll(values);
        steps.add(m);
      }
      out.add(new Stream(steps, st.state()));
    }
    return out;
  }

  /**
   * The graph with the named top-level weights (initializers or {@code Constant} nodes) turned into
   * graph inputs, fed at every run. (ONNX Runtime lets an input override an initializer of the same
   * name, but its Java API refuses to feed one.)
   */
  static GraphProto asInputs(GraphProto g, Set<String> names) {
    GraphProto.Builder b = g.toBuilder().clearNode().clearInitializer();
    Map<String, TensorProto> taken = new LinkedHashMap<>();
    for (NodeProto n : g.getNodeList()) {
      if (GraphWeights.isConstant(n) && n.getOutputCount() == 1 && names.contains(n.getOutput(0))
          && n.getAttributeCount() == 1 && n.getAttribute(0).hasT()) {
        taken.put(n.getOutput(0), n.getAttribute(0).getT());
      } else {
        b.addNode(n);
      }
    }
    for (TensorProto t : g.getInitializerList()) {
      if (names.contains(t.getName())) {
        taken.put(t.getName(), t);
      } else {
        b.addInitializer(t);
      }
    }
    Set<String> declared = new HashSet<>();
    g.getInputList().forEach(v -> declared.add(v.getName()));
    for (Map.Entry<String, TensorProto> e : taken.entrySet()) {
      if (declared.add(e.getKey())) {
        TensorShapeProto.Builder shape = TensorShapeProto.newBuilder();
        e.getValue().getDimsList().forEach(d -> shape.addDim(TensorShapeProto.Dimension.newBuilder().setDimValue(d)));
        b.addInput(ValueInfoProto.newBuilder().setName(e.getKey()).setType(TypeProto.newBuilder()
            .setTensorType(TypeProto.Tensor.newBuilder().setElemType(e.getValue().getDataType()).setShape(shape))));
      }
    }
    return b.build();
  }
}
