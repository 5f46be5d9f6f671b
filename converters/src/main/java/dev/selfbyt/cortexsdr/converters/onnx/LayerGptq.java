package dev.selfbyt.cortexsdr.converters.onnx;

import ai.onnx.proto.OnnxMl.AttributeProto;
import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import ai.onnx.proto.OnnxMl.TypeProto;
import ai.onnx.proto.OnnxMl.ValueInfoProto;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.selfbyt.cortexsdr.core.calibrate.FiberGptq;
import dev.selfbyt.cortexsdr.core.calibrate.FiberScaling;
import dev.selfbyt.cortexsdr.core.calibrate.Gptq;
import dev.selfbyt.cortexsdr.core.calibrate.Hessian;
import dev.selfbyt.cortexsdr.core.codec.QuantCodec;
import dev.selfbyt.cortexsdr.core.format.CaiException;
import dev.selfbyt.cortexsdr.core.tensor.DType;
import dev.selfbyt.cortexsdr.core.tensor.TensorData;
import dev.selfbyt.cortexsdr.core.tensor.TensorInfo;
import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * GPTQ ({@link FiberGptq}) for the weights {@link OnnxCalibrator}'s MatMul groups do not cover: of
 * {@code Conv} (one Hessian per convolution group, from the input's im2col patches; depthwise
 * convolutions have one {@code prod(kernel) x prod(kernel)} Hessian per channel), {@code Gemm}
 * ({@code transB} or not) and {@code LSTM}/{@code GRU}/{@code RNN} ({@code W} with the Hessian of
 * the sequence input, {@code R} with that of each direction's hidden states).
 *
 * <p>The statistics are computed by ONNX Runtime in a probe model: the model with its weights as
 * calibrated so far, whose only outputs are Gram matrices. For a convolution the patches come from
 * a depthwise convolution with one-hot kernels and the node's own strides, pads and dilations:
 * channel {@code c * prod(k) + s} of its output is input channel {@code c} at kernel offset {@code
 * s}, the order of the weight's fibers. For a recurrent node the hidden states are its {@code Y}
 * output, every step (the state at the last step, which {@code R} never multiplies, is counted too:
 * a close approximation of the states {@code h_0 .. h_{T-1}} it does multiply).
 *
 * <p>Nodes are calibrated one at a time in graph order, each seeing the earlier ones rounded.
 */
final class LayerGptq {
  /** A node whose weights are calibrated together, from one probe run. */
  record Target(NodeProto node, String kind, List<String> weights) {}

  private static final String P = "cortexsdr_layer_";

  private final OnnxModelReader source;
  private final Function<String, QuantCodec> codecs;
  private final double damping;
  private final int threads;
  private final Consumer<String> log;
  private boolean biasCorrection;
  private int correctedBiases;
  private boolean activationScaling;
  private int scaledInputs;
  private int foldedInputs;
  private int scalable;
  /** The graph as edited so far (a {@code Mul} by inverse scales before each scaled node). */
  private ModelProto current;
  private final Map<String, TensorInfo> added = new java.util.LinkedHashMap<>();
  private final Map<String, float[]> references = new HashMap<>();

  LayerGptq(OnnxModelReader source, Function<String, QuantCodec> codecs, double damping, int threads,
      Consumer<String> log) {
    this.source = source;
    this.codecs = codecs;
    this.damping = damping;
    this.threads = threads;
    this.log = log;
  }

  /**
   * After rounding a Conv, Gemm or recurrent weight, folds the mean output shift it causes into
   * the node's bias ({@link BiasCorrection}; a recurrent node's {@code Wb} for {@code W} and {@code
   * Rb} for {@code R}); the probe run also measures the mean input. Off by default.
   */
  LayerGptq biasCorrection(boolean on) {
    this.biasCorrection = on;
    return this;
  }

  /**
   * Activation-aware scaling of the input of each Conv ({@code C/g > 1}), Gemm ({@code transA = 0})
   * and recurrent {@code W} ({@link LayerScaling}), kept per weight only where it lowers the
   * layer's output error after GPTQ. Off by default.
   */
  LayerGptq activationScaling(boolean on) {
    this.activationScaling = on;
    return this;
  }

  /** The graph after {@link #calibrate}: with the scaling {@code Mul}s, if any. */
  ModelProto model() {
    return current;
  }

  /** The inverse-scale tensors the scaling {@code Mul}s read (their values are in the quantized map). */
  Map<String, TensorInfo> added() {
    return added;
  }

  /** Each scaled weight's original multiplied by its scales: what its stored error is measured against. */
  Map<String, float[]> references() {
    return references;
  }

  /** How many node inputs activation scaling changed, of how many it searched, and how many of those a producer absorbed. */
  int[] scaledInputs() {
    return new int[] {scaledInputs, scalable, foldedInputs};
  }

  /**
   * Multiplies the producer's output channels by {@code inverse} (powers of two: exact): its
   * weight as rounded (values and block scales, so the codes stay), as decoded, its reference,
   * and its bias.
   */
  private void fold(LayerScaling.Producer p, float[] inverse, Map<String, TensorInfo> infos,
      Map<String, float[]> quantized, Map<String, Gptq.Result> results) throws IOException {
    String name = p.weight();
    float[] original = references.containsKey(name) ? references.get(name) : source.read(infos.get(name)).floats();
    references.put(name, LayerScaling.perChannel(original, inverse));
    Gptq.Result r = results.get(name);
    if (r != null) {
      dev.selfbyt.cortexsdr.core.codec.QuantGrid g = r.grid();
      dev.selfbyt.cortexsdr.core.codec.QuantGrid scaled = null;
      if (g != null) { // groups are numbered fiber-major, a fiber per output channel
        scaled = new dev.selfbyt.cortexsdr.core.codec.QuantGrid(g.bits(), g.symmetric(), g.blockSize(),
            LayerScaling.perChannel(g.scales(), inverse), g.zeroPoints());
      }
      results.put(name, new Gptq.Result(LayerScaling.perChannel(r.values(), inverse), scaled));
    } else {
      results.put(name, new Gptq.Result(LayerScaling.perChannel(original, inverse), null));
    }
    if (quantized.containsKey(name)) {
      quantized.put(name, LayerScaling.perChannel(quantized.get(name), inverse));
    }
    if (p.bias() != null) {
      String b = p.bias();
      float[] v = quantized.containsKey(b) ? quantized.get(b)
          : results.containsKey(b) ? results.get(b).values() : source.read(infos.get(b)).floats();
      float[] scaled = LayerScaling.perChannel(v, inverse);
      results.put(b, new Gptq.Result(scaled, null));
      quantized.put(b, scaled);
      references.put(b, scaled);
    }
  }

  /** How many biases {@link #calibrate} corrected. */
  int correctedBiases() {
    return correctedBiases;
  }

  /** The Conv, Gemm and recurrent nodes with at least one weight the codecs quantize, in graph order. */
  List<Target> targets(GraphProto g, Map<String, TensorInfo> infos) {
    Map<String, Integer> uses = new HashMap<>();
    for (NodeProto n : g.getNodeList()) {
      for (String in : n.getInputList()) {
        uses.merge(in, 1, Integer::sum);
      }
    }
    List<Target> out = new ArrayList<>();
    for (NodeProto n : g.getNodeList()) {
      if (!(n.getDomain().isEmpty() || n.getDomain().equals("ai.onnx")) || n.getInputCount() < 2
          || infos.containsKey(n.getInput(0))) {
        continue;
      }
      switch (n.getOpType()) {
        case "Conv" -> {
          TensorInfo w = usable(infos, uses, n.getInput(1));
          if (w != null && w.rank() >= 3 && w.reductionAxis() == 1 && w.fiberLength() == w.numel() / w.shape()[0]) {
            out.add(new Target(n, "Conv", List.of(w.name())));
          }
        }
        case "Gemm" -> {
          TensorInfo w = usable(infos, uses, n.getInput(1));
          if (w != null && w.rank() == 2 && w.reductionAxis() == (OnnxAttributes.intAttr(n, "transB", 0) != 0 ? 1 : 0)) {
            out.add(new Target(n, "Gemm", List.of(w.name())));
          }
        }
        case "LSTM", "GRU", "RNN" -> {
          List<String> ws = new ArrayList<>();
          for (int i = 1; i <= 2 && i < n.getInputCount(); i++) {
            TensorInfo w = usable(infos, uses, n.getInput(i));
            if (w != null && w.rank() == 3 && w.reductionAxis() == 2) {
              ws.add(w.name());
            }
          }
          if (!ws.isEmpty() && n.getInputCount() >= 3) {
            out.add(new Target(n, n.getOpType(), ws));
          }
        }
        default -> { }
      }
    }
    return out;
  }

  private TensorInfo usable(Map<String, TensorInfo> infos, Map<String, Integer> uses, String name) {
    TensorInfo t = infos.get(name);
    return t != null && t.dtype() == DType.FLOAT32 && uses.getOrDefault(name, 0) == 1 && codecs.apply(name) != null
        ? t : null;
  }

  /**
   * Calibrates every target's weights on {@code samples}, each node seeing the model with the
   * weights in {@code quantized} (and every earlier target's) as they will be decoded; adds each
   * result to {@code results} and its decoded values to {@code quantized}.
   *
   * @return the number of weights calibrated
   */
  int calibrate(ModelProto stripped, List<Target> targets, List<Map<String, OnnxCalibrator.Input>> samples,
      Map<String, TensorInfo> infos, Map<String, float[]> quantized, Map<String, Gptq.Result> results)
      throws IOException {
    OrtEnvironment env = OrtEnvironments.get();
    int done = 0;
    current = stripped;
    for (Target t : targets) {
      Probe probe = probe(stripped, t, infos);
      String bias = correctedBias(stripped, t, infos);
      if (bias != null) {
        probe = withMean(probe, t, opset(stripped));
      }
      double[] mean = null;
      ModelProto m = withProbe(OnnxCalibrator.modelWith(current, source, quantized), probe);
      Hessian[][] hs = probe.hessians();
      try (OrtSession.SessionOptions o = new OrtSession.SessionOptions()) {
        o.setIntraOpNumThreads(threads);
        try (OrtSession s = env.createSession(m.toByteArray(), o)) {
          for (Map<String, OnnxCalibrator.Input> sample : samples) {
            List<float[]> grams = OnnxCalibrator.runOutputs(env, s, sample);
            if (bias != null) { // the mean input of this sample, last output
              float[] mu = grams.remove(grams.size() - 1);
              mean = mean == null ? new double[mu.length] : mean;
              for (int i = 0; i < mu.length; i++) {
                mean[i] += mu[i] / (double) samples.size();
              }
            }
            for (int i = 0; i < grams.size(); i++) {
              addGrams(hs[i], grams.get(i));
            }
          }
        }
      } catch (OrtException e) {
        throw new CaiException(source.location(), t.weights().get(0), "calibration run of " + t.kind() + " node '"
            + t.node().getName() + "' failed: " + e.getMessage(), e);
      }
      for (String name : t.weights()) {
        TensorInfo info = infos.get(name);
        QuantCodec codec = codecs.apply(name);
        Hessian[] h = probe.hessiansOf(name);
        float[] w = source.read(info).floats();
        FiberScaling.Layout layout = activationScaling ? LayerScaling.layout(t.node(), t.kind(), info) : null;
        Gptq.Result r;
        float[] perValue = null; // each value's scale, where scaling is kept
        try {
          if (layout != null) {
            scalable++;
            LayerScaling.Producer producer = LayerScaling.producer(current.getGraph(), t.node(), infos,
                layout.channels());
            if (producer != null && results.get(producer.weight()) != null
                && results.get(producer.weight()).grid() != null
                && results.get(producer.weight()).grid().superScales() != null) {
              producer = null; // super-block scales are steps of one fp16: not multiplied exactly
            }
            FiberScaling.Result sr = FiberScaling.search(w, info, h, layout, codec, true, damping, producer != null);
            r = sr.scaled() ? sr.rounded() : sr.unscaled();
            if (sr.scaled()) {
              perValue = FiberScaling.scaleWeight(ones(w.length), info, layout, sr.scales(), h.length);
              references.put(name, FiberScaling.scaleWeight(w, info, layout, sr.scales(), h.length));
              float[] inverse = dev.selfbyt.cortexsdr.core.calibrate.ActivationScaling.inverse(sr.scales());
              if (producer != null) {
                fold(producer, inverse, infos, quantized, results);
                foldedInputs++;
              } else {
                String inv = CalibrationGraphs.uniqueName(current.getGraph(), t.node().getInput(0)
                    + "_cortexsdr_inverse_scale");
                long[] dims = LayerScaling.inverseShape(t.kind(), info, layout);
                added.put(inv, new TensorInfo(inv, DType.FLOAT32, dims,
                    dev.selfbyt.cortexsdr.core.tensor.TensorRole.OTHER, -1));
                quantized.put(inv, inverse);
                current = LayerScaling.withInputScaled(current, t.node(), inv, dims);
              }
              scaledInputs++;
              log.accept(String.format(java.util.Locale.ROOT, "scaled input of %s %s: alpha %.3f, error %.4g -> %.4g",
                  t.kind(), name, sr.alpha(), sr.unscaledError(), sr.error()));
            }
          } else {
            r = FiberGptq.quantize(w, info, codec, h, damping);
          }
        } catch (ArithmeticException | IllegalArgumentException e) {
          throw new CaiException(source.location(), name, "GPTQ failed: " + e.getMessage(), e);
        }
        results.put(name, r);
        float[] decoded = codec.decode(info, codec.encode(TensorData.ofFloats(info, r.values()).withGrid(r.grid())))
            .floats();
        quantized.put(name, decoded);
        done++;
        if (bias != null) {
          float[] b = quantized.containsKey(bias) ? quantized.get(bias) : source.read(infos.get(bias)).floats();
          // the node now multiplies x / s by the scaled weight: its shift is (decoded / s - w) E[x]
          float[] effective = decoded;
          if (perValue != null) {
            effective = new float[decoded.length];
            for (int i = 0; i < decoded.length; i++) {
              effective[i] = decoded[i] / perValue[i];
            }
          }
          float[] corrected = t.kind().equals("Conv")
              ? BiasCorrection.conv(b, w, effective, mean, (int) OnnxAttributes.intAttr(t.node(), "group", 1))
              : t.kind().equals("Gemm") ? BiasCorrection.gemm(b, w, effective, mean, OnnxAttributes.intAttr(t.node(), "transB", 0) != 0)
              : recurrentBias(t, name, info, b, w, effective, mean);
          if (corrected != null) {
            results.put(bias, new Gptq.Result(corrected, null)); // stored as the policy stores the bias
            quantized.put(bias, corrected);
            correctedBiases++;
          }
        }
      }
      log.accept("calibrated " + t.kind() + " " + String.join(", ", t.weights()));
    }
    return done;
  }

  /**
   * The bias of a Conv or Gemm target to correct, or null: bias correction off, no bias, a bias
   * that is no fp32 weight, is read by other nodes, or whose length is not the output channels.
   */
  private String correctedBias(ModelProto stripped, Target t, Map<String, TensorInfo> infos) {
    NodeProto n = t.node();
    boolean recurrent = !(t.kind().equals("Conv") || t.kind().equals("Gemm"));
    int biasInput = recurrent ? 3 : 2;
    if (!biasCorrection || n.getInputCount() <= biasInput) {
      return null;
    }
    TensorInfo b = infos.get(n.getInput(biasInput));
    TensorInfo w = infos.get(n.getInput(1));
    long expected;
    if (recurrent) { // B is [dirs, 2 * gates * H]: Wb then Rb of each direction
      TensorInfo any = w != null ? w : infos.get(n.getInput(2));
      expected = any == null ? -1 : 2 * any.shape()[0] * any.shape()[1];
    } else {
      expected = t.kind().equals("Conv") ? w.shape()[0] : w.shape()[OnnxAttributes.intAttr(n, "transB", 0) != 0 ? 0 : 1];
    }
    if (b == null || b.dtype() != DType.FLOAT32 || b.numel() != expected) {
      return null;
    }
    int uses = 0;
    for (NodeProto other : stripped.getGraph().getNodeList()) {
      for (String in : other.getInputList()) {
        uses += in.equals(b.name()) ? 1 : 0;
      }
    }
    return uses == 1 ? b.name() : null;
  }

  /** A recurrent node's corrected bias after rounding {@code name} ({@code W} or {@code R}), or null. */
  private static float[] recurrentBias(Target t, String name, TensorInfo info, float[] b, float[] w, float[] wq,
      double[] mean) {
    NodeProto n = t.node();
    boolean isR = name.equals(n.getInput(2));
    int dirs = (int) info.shape()[0];
    int gh = (int) info.shape()[1];
    int k = (int) info.shape()[2];
    int offset = 0;
    if (isR && t.weights().contains(n.getInput(1))) {
      offset = (int) (mean.length - (long) dirs * k); // after the input's mean
    }
    double[][] means = new double[dirs][];
    for (int d = 0; d < dirs; d++) {
      int from = isR ? offset + d * k : 0; // every direction reads the same input
      means[d] = java.util.Arrays.copyOfRange(mean, from, from + k);
    }
    // GRU without linear_before_reset multiplies R_h by r * h, not h: its rows are left as they are
    int skipFrom = isR && t.kind().equals("GRU") && OnnxAttributes.intAttr(n, "linear_before_reset", 0) == 0 ? 2 * gh / 3 : gh;
    return BiasCorrection.recurrent(b, w, wq, means, isR, skipFrom);
  }

  /** The default domain's opset of a model. */
  private static long opset(ModelProto m) {
    for (ai.onnx.proto.OnnxMl.OperatorSetIdProto o : m.getOpsetImportList()) {
      if (o.getDomain().isEmpty() || o.getDomain().equals("ai.onnx")) {
        return o.getVersion();
      }
    }
    return 1;
  }

  /**
   * {@code p} with one more output, last: the mean of the Conv's patches per group ({@code [groups,
   * kg]}) or of the Gemm's input rows ({@code [k]}), for bias correction.
   */
  private static Probe withMean(Probe p, Target t, long opset) {
    List<NodeProto> nodes = new ArrayList<>(p.nodes());
    List<TensorProto> inits = new ArrayList<>(p.initializers());
    List<String> outs = new ArrayList<>(p.outputs());
    if (t.kind().equals("Conv") || t.kind().equals("Gemm")) {
      boolean conv = t.kind().equals("Conv");
      nodes.add(reduceMean(conv ? P + "cols" : P + "rows", conv ? 2 : 0, P + "mean", opset, inits));
    } else { // recurrent: the mean input row [in], then each direction's mean hidden state [dirs * H]
      List<String> parts = new ArrayList<>();
      if (t.weights().contains(t.node().getInput(1))) {
        nodes.add(reduceMean(P + "x_rows", 0, P + "x_mean", opset, inits));
        parts.add(P + "x_mean");
      }
      if (t.weights().contains(t.node().getInput(2))) {
        nodes.add(reduceMean(P + "h_rows", 1, P + "h_mean2", opset, inits));
        nodes.add(reshape(P + "h_mean2", new long[] {-1}, P + "h_mean", inits));
        parts.add(P + "h_mean");
      }
      NodeProto.Builder cat = NodeProto.newBuilder().setOpType("Concat").setName(P + "mean").addOutput(P + "mean")
          .addAttribute(AttributeProto.newBuilder().setName("axis").setType(AttributeProto.AttributeType.INT).setI(0));
      parts.forEach(cat::addInput);
      nodes.add(cat.build());
    }
    outs.add(P + "mean");
    return new Probe(nodes, inits, outs, p.hessians(), p.byWeight(), p.replaced(), p.replacement());
  }

  /** {@code ReduceMean} over one axis, without keeping it ({@code axes} an input from opset 18). */
  private static NodeProto reduceMean(String in, long axis, String out, long opset, List<TensorProto> inits) {
    NodeProto.Builder mean = NodeProto.newBuilder().setOpType("ReduceMean").setName(out).addInput(in)
        .addOutput(out).addAttribute(AttributeProto.newBuilder().setName("keepdims")
            .setType(AttributeProto.AttributeType.INT).setI(0));
    if (opset >= 18) { // axes became an input in opset 18
      inits.add(TensorProto.newBuilder().setName(out + "_axes").setDataType(TensorProto.DataType.INT64_VALUE)
          .addDims(1).addInt64Data(axis).build());
      mean.addInput(out + "_axes");
    } else {
      mean.addAttribute(AttributeProto.newBuilder().setName("axes").setType(AttributeProto.AttributeType.INTS)
          .addInts(axis));
    }
    return mean.build();
  }

  /** Splits a batch of {@code hs.length} Gram matrices (row-major, one after the other) into the Hessians. */
  private static void addGrams(Hessian[] hs, float[] grams) {
    int k = hs[0].size();
    if (grams.length != hs.length * k * k) {
      throw new IllegalStateException(grams.length + " Gram values for " + hs.length + " of " + k + " x " + k);
    }
    for (int g = 0; g < hs.length; g++) {
      hs[g].addGram(java.util.Arrays.copyOfRange(grams, g * k * k, (g + 1) * k * k), 1);
    }
  }

  /**
   * The nodes and initializers that compute a target's Gram matrices, the Hessians they fill (one
   * array per probe output) and which Hessians each weight uses.
   */
  private record Probe(List<NodeProto> nodes, List<TensorProto> initializers, List<String> outputs,
      Hessian[][] hessians, Map<String, Hessian[]> byWeight, NodeProto replaced, NodeProto replacement) {
    Hessian[] hessiansOf(String weight) {
      return byWeight.get(weight);
    }
  }

  private Probe probe(ModelProto stripped, Target t, Map<String, TensorInfo> infos) {
    NodeProto n = t.node();
    List<NodeProto> nodes = new ArrayList<>();
    List<TensorProto> inits = new ArrayList<>();
    String x = n.getInput(0);
    switch (t.kind()) {
      case "Conv" -> {
        TensorInfo w = infos.get(t.weights().get(0));
        int groups = (int) OnnxAttributes.intAttr(n, "group", 1);
        int cg = (int) w.shape()[1];
        int c = cg * groups;
        int s = 1;
        List<Long> kernel = new ArrayList<>();
        for (int i = 2; i < w.rank(); i++) {
          s *= (int) w.shape()[i];
          kernel.add(w.shape()[i]);
        }
        int kg = cg * s;
        // one-hot kernels [c * s, 1, k...]: output channel c * s + j is channel c at kernel offset j
        float[] eye = new float[c * s * s];
        for (int ch = 0; ch < c; ch++) {
          for (int j = 0; j < s; j++) {
            eye[(ch * s + j) * s + j] = 1f;
          }
        }
        long[] dims = new long[2 + kernel.size()];
        dims[0] = (long) c * s;
        dims[1] = 1;
        for (int i = 0; i < kernel.size(); i++) {
          dims[2 + i] = kernel.get(i);
        }
        inits.add(QuantizedOnnxExporter.floats(P + "onehot", eye, dims));
        NodeProto.Builder conv = NodeProto.newBuilder().setOpType("Conv").setName(P + "im2col").addInput(x)
            .addInput(P + "onehot").addOutput(P + "patches");
        for (AttributeProto a : n.getAttributeList()) {
          if (!a.getName().equals("group")) {
            conv.addAttribute(a);
          }
        }
        conv.addAttribute(AttributeProto.newBuilder().setName("group").setType(AttributeProto.AttributeType.INT)
            .setI(c));
        nodes.add(conv.build());
        nodes.add(reshape(P + "patches", new long[] {0, groups, kg, -1}, P + "p4", inits));
        nodes.add(transpose(P + "p4", new long[] {1, 2, 0, 3}, P + "p4t"));
        nodes.add(reshape(P + "p4t", new long[] {groups, kg, -1}, P + "cols", inits));
        gram(P + "cols", new long[] {0, 2, 1}, P + "gram", nodes);
        Hessian[] hs = hessians(groups, kg);
        return new Probe(nodes, inits, List.of(P + "gram"), new Hessian[][] {hs}, Map.of(w.name(), hs), null, null);
      }
      case "Gemm" -> {
        TensorInfo w = infos.get(t.weights().get(0));
        int k = (int) w.shape()[w.reductionAxis()];
        String a = x;
        if (OnnxAttributes.intAttr(n, "transA", 0) != 0) {
          nodes.add(transpose(x, new long[] {1, 0}, P + "a"));
          a = P + "a";
        }
        nodes.add(reshape(a, new long[] {-1, k}, P + "rows", inits));
        gram2(P + "rows", P + "gram", nodes);
        Hessian[] hs = hessians(1, k);
        return new Probe(nodes, inits, List.of(P + "gram"), new Hessian[][] {hs}, Map.of(w.name(), hs), null, null);
      }
      default -> { // LSTM, GRU, RNN
        TensorInfo first = infos.get(n.getInput(1)) != null ? infos.get(n.getInput(1)) : infos.get(n.getInput(2));
        int dirs = (int) first.shape()[0];
        TensorInfo wInfo = infos.get(n.getInput(1));
        TensorInfo rInfo = infos.get(n.getInput(2));
        int in = wInfo != null ? (int) wInfo.shape()[2] : -1;
        int hidden = (int) (rInfo != null ? rInfo.shape()[2] : OnnxAttributes.intAttr(n, "hidden_size", 0));
        boolean batchFirst = OnnxAttributes.intAttr(n, "layout", 0) != 0;
        Map<String, Hessian[]> by = new HashMap<>();
        List<String> outs = new ArrayList<>();
        List<Hessian[]> all = new ArrayList<>();
        NodeProto replaced = null;
        NodeProto replacement = null;
        if (t.weights().contains(n.getInput(1))) {
          nodes.add(reshape(x, new long[] {-1, in}, P + "x_rows", inits));
          gram2(P + "x_rows", P + "x_gram", nodes);
          Hessian h = new Hessian(in);
          Hessian[] hs = new Hessian[dirs];
          java.util.Arrays.fill(hs, h); // every direction reads the same sequence
          by.put(n.getInput(1), hs);
          outs.add(P + "x_gram");
          all.add(new Hessian[] {h});
        }
        if (t.weights().contains(n.getInput(2))) {
          boolean hasY = n.getOutputCount() > 0 && !n.getOutput(0).isEmpty();
          String y = hasY ? n.getOutput(0) : P + "y";
          if (!hasY) { // the graph does not read Y: the probe names it
            replaced = n;
            replacement = n.getOutputCount() == 0 ? n.toBuilder().addOutput(y).build()
                : n.toBuilder().setOutput(0, y).build();
          }
          // Y is [seq, dirs, batch, H] (layout 0) or [batch, seq, dirs, H] (layout 1)
          nodes.add(transpose(y, batchFirst ? new long[] {2, 0, 1, 3} : new long[] {1, 0, 2, 3}, P + "y_t"));
          nodes.add(reshape(P + "y_t", new long[] {dirs, -1, hidden}, P + "h_rows", inits));
          nodes.add(transpose(P + "h_rows", new long[] {0, 2, 1}, P + "h_cols"));
          nodes.add(NodeProto.newBuilder().setOpType("MatMul").setName(P + "h_gram").addInput(P + "h_cols")
              .addInput(P + "h_rows").addOutput(P + "h_gram").build());
          Hessian[] hs = hessians(dirs, hidden);
          by.put(n.getInput(2), hs);
          outs.add(P + "h_gram");
          all.add(hs);
        }
        return new Probe(nodes, inits, outs, all.toArray(new Hessian[0][]), by, replaced, replacement);
      }
    }
  }

  private static float[] ones(int n) {
    float[] o = new float[n];
    java.util.Arrays.fill(o, 1f);
    return o;
  }

  private static Hessian[] hessians(int count, int k) {
    Hessian[] hs = new Hessian[count];
    for (int i = 0; i < count; i++) {
      hs[i] = new Hessian(k);
    }
    return hs;
  }

  /** The filled model with the probe added and only the probe's outputs. */
  private static ModelProto withProbe(ModelProto full, Probe p) {
    GraphProto.Builder g = full.getGraph().toBuilder().clearOutput();
    if (p.replaced() != null) {
      for (int i = 0; i < g.getNodeCount(); i++) {
        NodeProto n = g.getNode(i);
        if (n.getOpType().equals(p.replaced().getOpType()) && n.getInputList().equals(p.replaced().getInputList())
            && n.getOutputList().equals(p.replaced().getOutputList())) {
          g.setNode(i, p.replacement());
        }
      }
    }
    g.addAllNode(p.nodes());
    g.addAllInitializer(p.initializers());
    for (String o : p.outputs()) {
      g.addOutput(ValueInfoProto.newBuilder().setName(o)
          .setType(TypeProto.newBuilder().setTensorType(TypeProto.Tensor.newBuilder().setElemType(1))));
    }
    return full.toBuilder().setGraph(g).build();
  }

  private static NodeProto reshape(String in, long[] shape, String out, List<TensorProto> inits) {
    TensorProto.Builder s = TensorProto.newBuilder().setName(out + "_shape")
        .setDataType(TensorProto.DataType.INT64_VALUE).addDims(shape.length);
    for (long d : shape) {
      s.addInt64Data(d);
    }
    inits.add(s.build());
    return NodeProto.newBuilder().setOpType("Reshape").setName(out).addInput(in).addInput(out + "_shape")
        .addOutput(out).build();
  }

  private static NodeProto transpose(String in, long[] perm, String out) {
    AttributeProto.Builder a = AttributeProto.newBuilder().setName("perm").setType(AttributeProto.AttributeType.INTS);
    for (long p : perm) {
      a.addInts(p);
    }
    return NodeProto.newBuilder().setOpType("Transpose").setName(out).addInput(in).addOutput(out).addAttribute(a)
        .build();
  }

  /** {@code A A^T} batched over the first axis of {@code [G, K, M]}. */
  private static void gram(String cols, long[] perm, String out, List<NodeProto> nodes) {
    nodes.add(transpose(cols, perm, out + "_t"));
    nodes.add(NodeProto.newBuilder().setOpType("MatMul").setName(out).addInput(cols).addInput(out + "_t")
        .addOutput(out).build());
  }

  /** {@code X^T X} of rows {@code [M, K]}. */
  private static void gram2(String rows, String out, List<NodeProto> nodes) {
    nodes.add(transpose(rows, new long[] {1, 0}, out + "_t"));
    nodes.add(NodeProto.newBuilder().setOpType("MatMul").setName(out).addInput(out + "_t").addInput(rows)
        .addOutput(out).build());
  }
}
