package dev.selfbyt.cortexsdr.converters.onnx;

import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.TypeProto;
import ai.onnx.proto.OnnxMl.ValueInfoProto;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.selfbyt.cortexsdr.core.CompressionOptions;
import dev.selfbyt.cortexsdr.core.calibrate.ActivationScaling;
import dev.selfbyt.cortexsdr.core.calibrate.Gptq;
import dev.selfbyt.cortexsdr.core.calibrate.Refit;
import dev.selfbyt.cortexsdr.core.calibrate.Hessian;
import dev.selfbyt.cortexsdr.core.codec.QuantCodec;
import dev.selfbyt.cortexsdr.core.format.CaiException;
import dev.selfbyt.cortexsdr.core.policy.CompressionPolicy;
import dev.selfbyt.cortexsdr.core.policy.TensorPlan;
import dev.selfbyt.cortexsdr.core.tensor.DType;
import dev.selfbyt.cortexsdr.core.tensor.TensorData;
import dev.selfbyt.cortexsdr.core.tensor.TensorInfo;
import dev.selfbyt.cortexsdr.core.tensor.TensorRole;
import dev.selfbyt.cortexsdr.core.tensor.TensorSource;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.LongBuffer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * Calibrated 4-bit (or any width) compression of an ONNX model: runs it in ONNX Runtime on
 * calibration inputs, collects {@code X^T X} of the input of every MatMul weight, and rounds each
 * weight with {@link Gptq}. Weights are processed in graph order, a group of weights sharing one
 * input at a time, and each group sees the activations of the model whose earlier weights are
 * already quantized (so errors upstream are compensated downstream). The result is a {@link
 * TensorSource} over the same model whose calibrated weights carry their quantization grid; the
 * compression pipeline stores exactly those codes when its codec matches.
 */
public final class OnnxCalibrator {
  /** One calibration input: a tensor per model input, int64 or float32. */
  public record Input(long[] shape, long[] int64, float[] fp32) {
    public static Input ofLongs(long[] shape, long[] values) {
      return new Input(shape, values, null);
    }

    public static Input ofFloats(long[] shape, float[] values) {
      return new Input(shape, null, values);
    }

    /** Rows of equal length as one {@code [rows, length]} int64 input (a batch of token sequences). */
    public static Input ofRows(long[]... rows) {
      int n = rows[0].length;
      long[] v = new long[rows.length * n];
      for (int r = 0; r < rows.length; r++) {
        if (rows[r].length != n) {
          throw new IllegalArgumentException("row " + r + " has " + rows[r].length + " values, row 0 " + n);
        }
        System.arraycopy(rows[r], 0, v, r * n, n);
      }
      return ofLongs(new long[] {rows.length, n}, v);
    }
  }

  private final OnnxModelReader source;
  private final java.util.function.Function<String, QuantCodec> codecs;
  private final double damping;
  private final int threads;
  private Consumer<String> log = s -> {};
  private final Map<String, String> metadata = new LinkedHashMap<>();
  private boolean activationScaling;
  private boolean errorCompensation = true;
  private boolean refit;
  /** The original model's filled graph, for re-fitting; built on first use. */
  private GraphProto fp32Graph;
  /** Re-fit damping relative to the mean of diag(X^T X): heavy, a few hundred samples are little data. */
  static final double REFIT_DAMPING = 1.0;

  /**
   * @param codec the block-wise codec the weights will be stored with
   * @param damping GPTQ's relative damping, e.g. 0.01
   */
  public OnnxCalibrator(OnnxModelReader source, QuantCodec codec, double damping, int threads) {
    this(source, name -> codec, damping, threads);
  }

  /**
   * @param codecs the block-wise codec of each weight (mixed precision); null leaves a weight to
   *     the compression policy
   */
  public OnnxCalibrator(OnnxModelReader source, java.util.function.Function<String, QuantCodec> codecs,
      double damping, int threads) {
    this.source = source;
    this.codecs = codecs;
    this.damping = damping;
    this.threads = threads;
  }

  /**
   * A calibrator for exactly the weights {@code options} would quantize block-wise, each with the
   * codec the policy plans for it: protected, small and lossless tensors are left alone.
   */
  public static OnnxCalibrator forOptions(OnnxModelReader source, CompressionOptions options, double damping,
      int threads) {
    CompressionPolicy policy = new CompressionPolicy(options);
    Map<String, QuantCodec> planned = new HashMap<>();
    for (TensorInfo t : source.tensors()) {
      TensorPlan p = policy.plan(t);
      if (p.kind() == TensorPlan.Kind.FIXED && p.candidates().get(0) instanceof QuantCodec q
          && q.granularity() == QuantCodec.Granularity.BLOCK) {
        planned.put(t.name(), q);
      }
    }
    return new OnnxCalibrator(source, planned::get, damping, threads);
  }

  public OnnxCalibrator onProgress(Consumer<String> log) {
    this.log = log;
    return this;
  }

  /**
   * Turns on activation-aware scaling ({@link ActivationScaling}) before GPTQ: where it lowers the
   * rounding error, the weights sharing an input are scaled per input channel and a {@code Mul}
   * by the inverse scales is inserted before their {@code MatMul}s (stored lossless), so the
   * model computes the same function before rounding.
   */
  public OnnxCalibrator activationScaling(boolean on) {
    this.activationScaling = on;
    return this;
  }

  /**
   * Error-compensating rounding (GPTQ), on by default; off leaves plain rounding (useful with
   * {@link #activationScaling} alone, to compare methods).
   */
  public OnnxCalibrator errorCompensation(boolean on) {
    this.errorCompensation = on;
    return this;
  }

  /**
   * Re-fits each weight, before rounding, to the inputs the already-rounded layers upstream give it
   * ({@link Refit}): the quantized model's activations should reproduce the fp32 model's outputs.
   * Needs a second copy of the model in the calibration runs.
   */
  public OnnxCalibrator refit(boolean on) {
    this.refit = on;
    return this;
  }

  /** Adds a line to the metadata of the calibrated source (stored in the manifest, shown by inspect). */
  public OnnxCalibrator describe(String key, String value) {
    metadata.put(key, value);
    return this;
  }

  /** Runs calibration and returns the source to compress. */
  public TensorSource calibrate(List<Map<String, Input>> samples) throws IOException {
    if (samples.isEmpty()) {
      throw new CaiException(source.location(), null, "no calibration samples");
    }
    ModelProto stripped = source.strippedModel();
    Map<String, TensorInfo> infos = new LinkedHashMap<>();
    for (TensorInfo t : source.tensors()) {
      infos.put(t.name(), t);
    }
    List<List<String>> groups = matmulGroups(stripped.getGraph(), infos);
    Map<String, float[]> quantized = new HashMap<>(); // and the inverse scales added
    Map<String, Gptq.Result> results = new LinkedHashMap<>();
    Map<String, TensorInfo> added = new LinkedHashMap<>();
    Map<String, float[]> scalesOf = new HashMap<>();
    ModelProto current = stripped;
    // weights the codecs round that no group calibrates (embedding tables, say): every group sees them rounded
    java.util.Set<String> grouped = new java.util.HashSet<>();
    groups.forEach(grouped::addAll);
    // Conv, Gemm and recurrent weights: calibrated first (they come before a MatMul head), see LayerGptq
    LayerGptq layers = new LayerGptq(source, codecs, damping, threads, log);
    List<LayerGptq.Target> layerTargets = errorCompensation ? layers.targets(stripped.getGraph(), infos) : List.of();
    layerTargets.forEach(t -> grouped.addAll(t.weights()));
    for (TensorInfo t : source.tensors()) {
      QuantCodec codec = codecs.apply(t.name());
      if (codec != null && !grouped.contains(t.name()) && t.dtype() == DType.FLOAT32) {
        quantized.put(t.name(), codec.decode(t, codec.encode(source.read(t))).floats());
      }
    }
    int done = layers.calibrate(stripped, layerTargets, samples, infos, quantized, results);
    OrtEnvironment env = OrtEnvironment.getEnvironment();
    int scaledGroups = 0;
    for (List<String> group : groups) {
      String activation = consumerInput(current.getGraph(), group.get(0));
      TensorInfo first = infos.get(group.get(0));
      int k = (int) first.shape()[0];
      Hessian h = new Hessian(k);
      boolean cross = refit && !quantized.isEmpty(); // before anything is rounded X = Xq: nothing to re-fit
      ModelProto m = probe(current, quantized, activation, k, cross);
      double[] c = cross ? new double[k * k] : null;
      try (OrtSession.SessionOptions o = new OrtSession.SessionOptions()) {
        o.setIntraOpNumThreads(threads);
        try (OrtSession s = env.createSession(m.toByteArray(), o)) {
          for (Map<String, Input> sample : samples) {
            List<float[]> out = runOutputs(env, s, sample);
            h.addGram(out.get(0), 1);
            if (cross) {
              float[] x = out.get(1);
              for (int i = 0; i < c.length; i++) {
                c[i] += x[i];
              }
            }
          }
        }
      } catch (OrtException e) {
        throw new CaiException(source.location(), group.get(0), "calibration run failed: " + e.getMessage(), e);
      }
      Map<String, float[]> originals = new HashMap<>();
      for (String name : group) {
        if (codecs.apply(name) != null) {
          float[] w = source.read(infos.get(name)).floats();
          originals.put(name, cross ? Refit.apply(w, k, (int) infos.get(name).shape()[1], h, c, REFIT_DAMPING) : w);
        }
      }
      float[] scales = null;
      if (activationScaling) {
        scales = searchScales(group, infos, originals, h);
        if (scales != null) {
          String inv = uniqueName(current.getGraph(), activation + "_cortexsdr_inverse_scale");
          added.put(inv, new TensorInfo(inv, DType.FLOAT32, new long[] {k}, TensorRole.OTHER, -1));
          quantized.put(inv, ActivationScaling.inverse(scales));
          current = withInputScaled(current, group, activation, inv, k);
          h = h.dividedBy(scales);
          scaledGroups++;
        }
      }
      for (String name : group) {
        QuantCodec codec = codecs.apply(name);
        if (codec == null) {
          continue;
        }
        TensorInfo info = infos.get(name);
        int n = (int) info.shape()[1];
        float[] w = originals.get(name);
        if (scales != null) {
          w = ActivationScaling.scaleRows(w, k, n, scales);
          scalesOf.put(name, scales);
        }
        Gptq.Result r;
        if (!errorCompensation) {
          if (scales == null && !cross) {
            continue; // plain rounding by the policy, nothing changed upstream sees
          }
          r = new Gptq.Result(w, null); // re-fitted or scaled, then plain rounding
        } else {
          try {
            r = Gptq.quantize(w, k, n, codec, h, damping);
          } catch (ArithmeticException e) {
            throw new CaiException(source.location(), name, "GPTQ failed: " + e.getMessage(), e);
          }
        }
        results.put(name, r);
        // what later groups see: this weight as the codec will decode it
        quantized.put(name, codec.decode(info, codec.encode(TensorData.ofFloats(info, r.values()).withGrid(r.grid())))
            .floats());
        done++;
      }
      log.accept("calibrated " + done + " weights (" + String.join(", ", group) + ")");
    }
    Map<String, String> meta = new LinkedHashMap<>();
    meta.put("calibration", (errorCompensation ? "gptq on " + results.size() + " weights, damping " + damping
        : "plain rounding") + ", " + samples.size() + " samples");
    if (refit) {
      meta.put("refit", "weights re-fitted to the rounded model's inputs, damping " + REFIT_DAMPING);
    }
    List<String> inSubgraphs = uncalibratedInSubgraphs(stripped.getGraph(), grouped);
    if (!inSubgraphs.isEmpty()) {
      // calibration probes main-graph activations only: say so instead of rounding them silently
      String note = inSubgraphs.size() + " weights read only inside If/Loop/Scan subgraphs are rounded without "
          + "calibration (" + String.join(", ", inSubgraphs.subList(0, Math.min(3, inSubgraphs.size())))
          + (inSubgraphs.size() > 3 ? ", ..." : "") + ")";
      meta.put("calibration subgraphs", note);
      log.accept(note);
    }
    if (activationScaling) {
      meta.put("activation scaling", scaledGroups + " of " + groups.size() + " inputs scaled");
    }
    meta.putAll(metadata);
    Map<String, float[]> addedValues = new LinkedHashMap<>();
    added.keySet().forEach(n -> addedValues.put(n, quantized.get(n)));
    return new CalibratedSource(source, current, results, scalesOf, added, addedValues, meta);
  }

  /**
   * Scales for the weights of a group that will be quantized, or null where scaling does not lower
   * their rounding error (or some weight of the group is left to the policy: they share one input).
   */
  private float[] searchScales(List<String> group, Map<String, TensorInfo> infos, Map<String, float[]> weights,
      Hessian h) {
    List<float[]> ws = new ArrayList<>();
    int[] cols = new int[group.size()];
    QuantCodec codec = null;
    for (int i = 0; i < group.size(); i++) {
      QuantCodec c = codecs.apply(group.get(i));
      if (c == null) {
        return null;
      }
      codec = codec == null || c.bits() < codec.bits() ? c : codec; // search for the narrowest
      TensorInfo info = infos.get(group.get(i));
      ws.add(weights.get(group.get(i)));
      cols[i] = (int) info.shape()[1];
    }
    ActivationScaling.Result r = ActivationScaling.search(h, ws, cols, codec);
    if (r.scaled()) {
      log.accept(String.format(java.util.Locale.ROOT, "scaled input of %s: alpha %.3f, error %.4g -> %.4g",
          group, r.alpha(), r.plainError(), r.error()));
    }
    return r.scaled() ? r.scales() : null;
  }

  /**
   * The graph with {@code activation} multiplied by the initializer {@code inverse} ({@code [k]},
   * weight data stripped) before the group's {@code MatMul}s, the node placed before the first of
   * them.
   */
  static ModelProto withInputScaled(ModelProto model, List<String> group, String activation, String inverse, int k) {
    GraphProto g = model.getGraph();
    String scaled = uniqueName(g, activation + "_cortexsdr_scaled");
    GraphProto.Builder gb = g.toBuilder().clearNode();
    boolean inserted = false;
    for (NodeProto n : g.getNodeList()) {
      boolean ours = n.getOpType().equals("MatMul") && n.getInputCount() == 2 && group.contains(n.getInput(1))
          && n.getInput(0).equals(activation);
      if (ours && !inserted) {
        gb.addNode(NodeProto.newBuilder().setOpType("Mul").setName(scaled).addInput(activation).addInput(inverse)
            .addOutput(scaled));
        inserted = true;
      }
      gb.addNode(ours ? n.toBuilder().setInput(0, scaled).build() : n);
    }
    gb.addInitializer(ai.onnx.proto.OnnxMl.TensorProto.newBuilder().setName(inverse)
        .setDataType(ai.onnx.proto.OnnxMl.TensorProto.DataType.FLOAT_VALUE).addDims(k));
    return model.toBuilder().setGraph(gb).build();
  }

  /** {@code base}, or {@code base_2}, ... whichever names nothing in the graph yet. */
  private static String uniqueName(GraphProto g, String base) {
    java.util.Set<String> used = new java.util.HashSet<>();
    g.getInitializerList().forEach(t -> used.add(t.getName()));
    for (NodeProto n : g.getNodeList()) {
      used.addAll(n.getOutputList());
      used.add(n.getName());
    }
    g.getInputList().forEach(v -> used.add(v.getName()));
    String name = base;
    for (int i = 2; used.contains(name); i++) {
      name = base + "_" + i;
    }
    return name;
  }

  /**
   * The weights the codecs quantize that no group calibrates and that only subgraph nodes read
   * (weights of subgraphs, or main-graph weights read only inside them).
   */
  private List<String> uncalibratedInSubgraphs(GraphProto g, java.util.Set<String> grouped) throws IOException {
    GraphWeights weights = GraphWeights.of(source.location(), g);
    java.util.Set<NodeProto> main = java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>());
    main.addAll(g.getNodeList());
    List<String> out = new ArrayList<>();
    for (TensorInfo t : source.tensors()) {
      List<NodeProto> users = weights.consumers(t.name());
      if (codecs.apply(t.name()) != null && !grouped.contains(t.name()) && !users.isEmpty()
          && users.stream().noneMatch(main::contains)) {
        out.add(t.name());
      }
    }
    return out;
  }

  /** MatMul weights ([K, N], reduction along K), grouped by the activation they multiply, in graph order. */
  static List<List<String>> matmulGroups(GraphProto g, Map<String, TensorInfo> infos) {
    Map<String, Integer> uses = new HashMap<>();
    for (NodeProto n : g.getNodeList()) {
      for (String in : n.getInputList()) {
        uses.merge(in, 1, Integer::sum);
      }
    }
    Map<String, List<String>> byActivation = new LinkedHashMap<>();
    for (NodeProto n : g.getNodeList()) {
      if (!n.getOpType().equals("MatMul") || !(n.getDomain().isEmpty() || n.getDomain().equals("ai.onnx"))) {
        continue;
      }
      String w = n.getInput(1);
      TensorInfo t = infos.get(w);
      if (t == null || t.dtype() != DType.FLOAT32 || t.rank() != 2 || t.role() != TensorRole.MATMUL_WEIGHT
          || uses.getOrDefault(w, 0) != 1 || infos.containsKey(n.getInput(0))) {
        continue;
      }
      byActivation.computeIfAbsent(n.getInput(0), a -> new ArrayList<>()).add(w);
    }
    return new ArrayList<>(byActivation.values());
  }

  private static String consumerInput(GraphProto g, String weight) {
    for (NodeProto n : g.getNodeList()) {
      if (n.getOpType().equals("MatMul") && n.getInput(1).equals(weight)) {
        return n.getInput(0);
      }
    }
    throw new IllegalStateException("no MatMul uses " + weight);
  }

  /**
   * The model with current weights, quantized ones decoded, whose only output is the Gram matrix
   * {@code A^T A} of {@code activation} flattened to rows of {@code k}: ONNX Runtime's own GEMM
   * does the heavy sum, Java only adds {@code k x k} per sample.
   */
  private ModelProto probe(ModelProto stripped, Map<String, float[]> quantized, String activation, int k,
      boolean cross) throws IOException {
    ModelProto full = modelWith(stripped, source, quantized);
    GraphProto.Builder g = full.getGraph().toBuilder().clearOutput();
    String p = "cortexsdr_calibration_";
    g.addInitializer(ai.onnx.proto.OnnxMl.TensorProto.newBuilder().setName(p + "shape")
        .setDataType(ai.onnx.proto.OnnxMl.TensorProto.DataType.INT64_VALUE).addDims(2)
        .addInt64Data(-1).addInt64Data(k));
    g.addNode(NodeProto.newBuilder().setOpType("Reshape").addInput(activation).addInput(p + "shape")
        .addOutput(p + "rows").setName(p + "reshape"));
    g.addNode(NodeProto.newBuilder().setOpType("Transpose").addInput(p + "rows").addOutput(p + "cols")
        .setName(p + "transpose"));
    g.addNode(NodeProto.newBuilder().setOpType("MatMul").addInput(p + "cols").addInput(p + "rows")
        .addOutput(p + "gram").setName(p + "gram"));
    g.addOutput(ValueInfoProto.newBuilder().setName(p + "gram")
        .setType(TypeProto.newBuilder().setTensorType(TypeProto.Tensor.newBuilder().setElemType(1))));
    if (cross) {
      // the original fp32 model beside it, every name prefixed but the inputs: X^T of the rounded
      // model times X of the original, in one run
      String f = "cortexsdr_fp32_";
      if (fp32Graph == null) { // the same for every group: built once per calibration
        fp32Graph = modelWith(source.strippedModel(), source, Map.of()).getGraph();
      }
      GraphProto fp = fp32Graph;
      java.util.Set<String> inputs = new java.util.HashSet<>();
      fp.getInputList().forEach(v -> inputs.add(v.getName()));
      fp.getInitializerList().forEach(t -> inputs.remove(t.getName()));
      java.util.function.UnaryOperator<String> rename = x -> x.isEmpty() || inputs.contains(x) ? x : f + x;
      for (ai.onnx.proto.OnnxMl.TensorProto t : fp.getInitializerList()) {
        g.addInitializer(t.toBuilder().setName(rename.apply(t.getName())));
      }
      for (NodeProto n : fp.getNodeList()) {
        if (n.getAttributeList().stream().anyMatch(a -> a.hasG() || a.getGraphsCount() > 0)) {
          throw new CaiException(source.location(), null, "re-fitting needs a graph without subgraphs (node "
              + n.getName() + " has one): calibrate without refit");
        }
        NodeProto.Builder b = n.toBuilder().clearInput().clearOutput().setName(f + n.getName());
        n.getInputList().forEach(x -> b.addInput(rename.apply(x)));
        n.getOutputList().forEach(x -> b.addOutput(rename.apply(x)));
        g.addNode(b);
      }
      g.addNode(NodeProto.newBuilder().setOpType("Reshape").addInput(rename.apply(activation)).addInput(p + "shape")
          .addOutput(p + "fp32_rows").setName(p + "fp32_reshape"));
      g.addNode(NodeProto.newBuilder().setOpType("MatMul").addInput(p + "cols").addInput(p + "fp32_rows")
          .addOutput(p + "cross").setName(p + "cross"));
      g.addOutput(ValueInfoProto.newBuilder().setName(p + "cross")
          .setType(TypeProto.newBuilder().setTensorType(TypeProto.Tensor.newBuilder().setElemType(1))));
    }
    return full.toBuilder().setGraph(g).build();
  }

  /**
   * A stripped graph of {@code source} (possibly with tensors added) filled in: the tensors in
   * {@code replaced} get those values, the others their values in the source.
   */
  static ModelProto modelWith(ModelProto stripped, OnnxModelReader source, Map<String, float[]> replaced)
      throws IOException {
    Map<String, TensorInfo> infos = new HashMap<>();
    for (TensorInfo t : source.tensors()) {
      infos.put(t.name(), t);
    }
    return OnnxExporter.withWeights(stripped, name -> {
      float[] q = replaced.get(name);
      if (q != null) {
        ByteBuffer b = ByteBuffer.allocate(4 * q.length).order(ByteOrder.LITTLE_ENDIAN);
        b.asFloatBuffer().put(q);
        return b;
      }
      TensorInfo t = infos.get(name);
      return t == null ? null : source.read(t).bytes();
    });
  }

  /**
   * Runs one sample (inputs the session does not have are skipped) and returns its first output,
   * flattened (float32).
   */
  public static float[] runFirstOutput(OrtEnvironment env, OrtSession s, Map<String, Input> sample) throws OrtException {
    return runOutputs(env, s, sample).get(0);
  }

  /** One sample as tensors, for the inputs the session has (the caller closes them). */
  static Map<String, OnnxTensor> feed(OrtEnvironment env, OrtSession s, Map<String, Input> sample)
      throws OrtException {
    Map<String, OnnxTensor> in = new HashMap<>();
    for (Map.Entry<String, Input> e : sample.entrySet()) {
      if (s.getInputNames().contains(e.getKey())) {
        Input v = e.getValue();
        in.put(e.getKey(), v.int64() != null
            ? OnnxTensor.createTensor(env, LongBuffer.wrap(v.int64()), v.shape())
            : OnnxTensor.createTensor(env, FloatBuffer.wrap(v.fp32()), v.shape()));
      }
    }
    return in;
  }

  /** Runs one sample and returns every output, flattened (float32). */
  static List<float[]> runOutputs(OrtEnvironment env, OrtSession s, Map<String, Input> sample) throws OrtException {
    Map<String, OnnxTensor> in = feed(env, s, sample);
    try {
      try (OrtSession.Result r = s.run(in)) {
        List<float[]> out = new ArrayList<>();
        for (int i = 0; i < r.size(); i++) {
          FloatBuffer fb = ((OnnxTensor) r.get(i)).getFloatBuffer();
          float[] x = new float[fb.remaining()];
          fb.get(x);
          out.add(x);
        }
        return out;
      }
    } finally {
      in.values().forEach(OnnxTensor::close);
    }
  }

  /** The source model with calibrated weights: same tensors, GPTQ values and grids where computed. */
  private static final class CalibratedSource extends EditedOnnxSource {
    private final Map<String, Gptq.Result> results;
    private final Map<String, float[]> scales;
    private final Map<String, float[]> addedValues;

    CalibratedSource(OnnxModelReader base, ModelProto graph, Map<String, Gptq.Result> results,
        Map<String, float[]> scales, Map<String, TensorInfo> added, Map<String, float[]> addedValues,
        Map<String, String> metadata) {
      super(base, graph, added, metadata);
      this.scales = scales;
      this.results = results;
      this.addedValues = addedValues;
    }

    @Override
    public TensorData read(TensorInfo tensor) throws IOException {
      float[] a = addedValues.get(tensor.name());
      if (a != null) {
        return TensorData.ofFloats(tensor, a);
      }
      Gptq.Result r = results.get(tensor.name());
      if (r == null) {
        return base.read(tensor);
      }
      // errors are reported against the original weight (scaled as stored, where scaling applies)
      float[] original = base.read(tensor).floats();
      float[] s = scales.get(tensor.name());
      float[] reference = s == null ? original
          : ActivationScaling.scaleRows(original, (int) tensor.shape()[0], (int) tensor.shape()[1], s);
      return TensorData.ofFloats(tensor, r.values()).withGrid(r.grid()).withReference(reference);
    }
  }
}
