package dev.selfbyt.cortexsdr.converters.onnx;

import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.selfbyt.cortexsdr.core.CompressionOptions;
import dev.selfbyt.cortexsdr.core.calibrate.ActivationScaling;
import dev.selfbyt.cortexsdr.core.calibrate.Gptq;
import dev.selfbyt.cortexsdr.core.calibrate.Hadamard;
import dev.selfbyt.cortexsdr.core.calibrate.Refit;
import dev.selfbyt.cortexsdr.core.calibrate.Hessian;
import dev.selfbyt.cortexsdr.core.codec.QuantCodec;
import dev.selfbyt.cortexsdr.core.codec.TensorCodec;
import dev.selfbyt.cortexsdr.core.format.CaiException;
import dev.selfbyt.cortexsdr.core.policy.CompressionPolicy;
import dev.selfbyt.cortexsdr.core.policy.TensorPlan;
import dev.selfbyt.cortexsdr.core.tensor.DType;
import dev.selfbyt.cortexsdr.core.tensor.TensorData;
import dev.selfbyt.cortexsdr.core.tensor.TensorInfo;
import dev.selfbyt.cortexsdr.core.tensor.TensorRole;
import dev.selfbyt.cortexsdr.core.tensor.TensorSource;
import java.io.IOException;
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
 *
 * <p>This class holds the method (what to measure, how to round, in which order); the graph edits
 * it needs are in {@link CalibrationGraphs}, running samples in {@link OrtRunner}, and the result
 * is a {@link CalibratedSource}.
 */
public final class OnnxCalibrator {
  /**
   * One calibration input: a tensor per model input. Integer and boolean inputs (any ONNX integer
   * type, bool as 0/1) keep their values in {@code int64}, floating ones (float, double, float16)
   * in {@code fp32}; {@code elemType} is the ONNX element type the model takes, converted to when
   * fed ({@link OrtRunner}).
   */
  public record Input(long[] shape, long[] int64, float[] fp32, int elemType) {
    /** An int64 ({@code int64 != null}) or float32 input. */
    public Input(long[] shape, long[] int64, float[] fp32) {
      this(shape, int64, fp32, int64 != null ? ai.onnx.proto.OnnxMl.TensorProto.DataType.INT64_VALUE : ai.onnx.proto.OnnxMl.TensorProto.DataType.FLOAT_VALUE);
    }

    public static Input ofLongs(long[] shape, long[] values) {
      return new Input(shape, values, null);
    }

    public static Input ofFloats(long[] shape, float[] values) {
      return new Input(shape, null, values);
    }

    /** Integer or bool values fed as ONNX element type {@code elemType} (int32, uint8, bool, ...). */
    public static Input ofIntegers(int elemType, long[] shape, long[] values) {
      return new Input(shape, values, null, elemType);
    }

    /** Floating values fed as ONNX element type {@code elemType} (float, double, float16). */
    public static Input ofFloats(int elemType, long[] shape, float[] values) {
      return new Input(shape, null, values, elemType);
    }

    /** Number of values. */
    public int size() {
      return int64 != null ? int64.length : fp32.length;
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
  private java.util.function.Function<String, ? extends TensorCodec> storedCodecs;
  private final double damping;
  private final int threads;
  private Consumer<String> log = s -> {};
  private final Map<String, String> metadata = new LinkedHashMap<>();
  private boolean activationScaling;
  private boolean errorCompensation = true;
  private boolean refit;
  private boolean biasCorrection = true;
  private boolean smallSessions = true;
  private boolean rotation;
  private RotationChoices rotationChoices;
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

  /**
   * The codec each weight that no group calibrates will be stored with, where that is not the
   * block-wise one {@code codecs} gives (an entropy-coded embedding table, say): later groups see
   * such a weight rounded by it. Default: {@code codecs}.
   */
  public OnnxCalibrator storedCodecs(java.util.function.Function<String, ? extends TensorCodec> stored) {
    this.storedCodecs = stored;
    return this;
  }

  public OnnxCalibrator onProgress(Consumer<String> log) {
    this.log = log;
    return this;
  }

  /**
   * Turns on activation-aware scaling ({@link ActivationScaling}) before GPTQ: where it lowers the
   * rounding error, the weights sharing an input are scaled per input channel and a {@code Mul}
   * by the inverse scales is inserted before their {@code MatMul}s (stored lossless), so the
   * model computes the same function before rounding. With error compensation on, the inputs of
   * Conv, Gemm and recurrent {@code W} weights are scaled too ({@link LayerScaling}), each only
   * where the layer's output error after GPTQ is lower than GPTQ's alone.
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

  /**
   * Bias correction for Conv and Gemm weights calibrated by GPTQ ({@link BiasCorrection}): the
   * mean output shift each rounded weight causes on the calibration data is folded into its bias.
   * On by default: on M-LSD, the Fashion-MNIST classifiers and the unit tests it lowered the output
   * error in every case measured (docs/benchmarks.md, "M-LSD: where the error comes from").
   */
  public OnnxCalibrator biasCorrection(boolean on) {
    this.biasCorrection = on;
    return this;
  }

  /**
   * Whether each MatMul group's statistics come from a small session ({@link GroupGrams}: the graph
   * cut to what the group's input depends on, the weights fed as inputs; default) or, as before, from
   * a session of the whole model filled with the weights rounded so far (kept to compare in
   * benchmarks). Re-fitting always takes the whole model.
   */
  public OnnxCalibrator smallSessions(boolean on) {
    this.smallSessions = on;
    return this;
  }

  /**
   * A block Walsh-Hadamard rotation of MatMul inputs ({@link HadamardRotation}'s, blocks of {@value
   * #ROTATION_BLOCK}), decided per input: each group of weights sharing an input is rounded by GPTQ
   * both as it is and rotated ({@code H W} against {@code H X^T X H}), and the rotation is kept only
   * where it lowers the group's output error {@code tr(dW^T X^T X dW)} on the calibration data by
   * at least {@value #ROTATION_MIN_GAIN} of it (each rotated input costs one small product at run
   * time). The graph then rotates those inputs and stores their weights rotated. Needs error
   * compensation; inputs whose width is not a multiple of the block stay as they are.
   */
  public OnnxCalibrator rotation(boolean on) {
    this.rotation = on;
    return this;
  }

  /**
   * Decisions of earlier passes over the same model to take, and to add this pass's to: a group
   * rounded under the same codecs as when its rotation was decided is rounded only the way decided
   * ({@link RotationChoices}). Null (the default): every group is decided by rounding it both ways.
   */
  public OnnxCalibrator rotationChoices(RotationChoices choices) {
    this.rotationChoices = choices;
    return this;
  }

  /** The rotation's block: {@link HadamardRotation#DEFAULT_BLOCK}. */
  static final int ROTATION_BLOCK = HadamardRotation.DEFAULT_BLOCK;
  /** The share of a group's output error the rotation must remove to be kept. */
  static final double ROTATION_MIN_GAIN = 0.02;

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
    Pass pass = new Pass(samples);
    // Conv, Gemm and recurrent weights: calibrated first (they come before a MatMul head), see LayerGptq
    LayerGptq layers = new LayerGptq(source, codecs, damping, threads, log).biasCorrection(biasCorrection)
        .activationScaling(activationScaling);
    List<LayerGptq.Target> layerTargets = errorCompensation ? layers.targets(pass.stripped.getGraph(), pass.infos)
        : List.of();
    layerTargets.forEach(t -> pass.grouped.addAll(t.weights()));
    pass.roundUngrouped();
    pass.done = layers.calibrate(pass.stripped, layerTargets, samples, pass.infos, pass.quantized, pass.results);
    pass.correctedBiases = layers.correctedBiases();
    if (!layerTargets.isEmpty()) { // the scaling Muls layer calibration inserted
      pass.current = layers.model();
      pass.added.putAll(layers.added());
      pass.references.putAll(layers.references());
      pass.layerScaling = layers.scaledInputs();
    }
    try {
      for (List<String> group : pass.groups) {
        pass.calibrate(group);
      }
    } finally {
      if (pass.grams != null) {
        pass.grams.close();
      }
    }
    return pass.result();
  }

  /**
   * One calibration run's state: the graph as edited so far, the weights rounded so far (what the
   * next group's inputs are computed with), and the results.
   */
  private final class Pass {
    final List<Map<String, Input>> samples;
    final ModelProto stripped = source.strippedModel();
    final Map<String, TensorInfo> infos = new LinkedHashMap<>();
    final List<List<String>> groups;
    final java.util.Set<String> grouped = new java.util.HashSet<>();
    final Map<String, float[]> quantized = new HashMap<>(); // and the inverse scales added
    final Map<String, Gptq.Result> results = new LinkedHashMap<>();
    final Map<String, TensorInfo> added = new LinkedHashMap<>();
    final Map<String, float[]> scalesOf = new HashMap<>();
    final Map<String, float[]> references = new HashMap<>();
    int[] layerScaling = {0, 0, 0};
    ModelProto current = stripped;
    int done;
    int scaledGroups;
    int rotatedGroups;
    int rotationCandidates;
    /** The rotation matrix's initializer and the int64 row shape its nodes use, once some input is rotated. */
    String rotationMatrix;
    String rotationRows;
    int correctedBiases;
    /** The small sessions' statistics ({@link #smallSessions}), or null. */
    final GroupGrams grams;

    Pass(List<Map<String, Input>> samples) {
      this.samples = samples;
      java.util.Set<String> fed = new java.util.LinkedHashSet<>();
      for (TensorInfo t : source.tensors()) {
        infos.put(t.name(), t);
        if (t.dtype() == DType.FLOAT32 && codecs.apply(t.name()) != null) {
          fed.add(t.name());
        }
      }
      grams = smallSessions ? new GroupGrams(source, fed, threads) : null;
      groups = CalibrationGraphs.matmulGroups(stripped.getGraph(), infos);
      groups.forEach(grouped::addAll);
    }

    /** Weights the codecs round that no group calibrates (embedding tables, say): every group sees them rounded. */
    void roundUngrouped() throws IOException {
      for (TensorInfo t : source.tensors()) {
        TensorCodec codec = storedCodecs != null ? storedCodecs.apply(t.name()) : codecs.apply(t.name());
        if (codec != null && !grouped.contains(t.name()) && t.dtype() == DType.FLOAT32) {
          quantized.put(t.name(), codec.decode(t, codec.encode(source.read(t))).floats());
        }
      }
    }

    /** Calibrates the weights of one group (sharing one input) on the activations the model so far gives. */
    void calibrate(List<String> group) throws IOException {
      String activation = CalibrationGraphs.consumerInput(current.getGraph(), group.get(0));
      int k = (int) infos.get(group.get(0)).shape()[0];
      boolean cross = refit && !quantized.isEmpty(); // before anything is rounded X = Xq: nothing to re-fit
      ProbeStatistics.Statistics st = statistics(group.get(0), activation, k, cross);
      Hessian h = st.gram();
      Map<String, float[]> originals = new HashMap<>();
      for (String name : group) {
        if (codecs.apply(name) != null) {
          float[] w = source.read(infos.get(name)).floats();
          originals.put(name, cross ? Refit.apply(w, k, (int) infos.get(name).shape()[1], h, st.cross(),
              REFIT_DAMPING) : w);
        }
      }
      float[] scales = activationScaling ? searchScales(group, infos, originals, h) : null;
      if (scales != null) {
        String inv = CalibrationGraphs.uniqueName(current.getGraph(), activation + "_cortexsdr_inverse_scale");
        added.put(inv, new TensorInfo(inv, DType.FLOAT32, new long[] {k}, TensorRole.OTHER, -1));
        quantized.put(inv, ActivationScaling.inverse(scales));
        current = CalibrationGraphs.withInputScaled(current, group, activation, inv, k);
        h = h.dividedBy(scales);
        scaledGroups++;
      }
      if (rotation && errorCompensation && Hadamard.fits(k, ROTATION_BLOCK)
          && group.stream().allMatch(name -> codecs.apply(name) != null)) {
        roundRotatedOrNot(group, originals, k, h, scales);
      } else {
        for (String name : group) {
          if (codecs.apply(name) != null) {
            round(name, originals.get(name), k, h, scales, cross);
          }
        }
      }
      log.accept("calibrated " + done + " weights (" + String.join(", ", group) + ")");
    }

    /** {@code X^T X} of the activation over the samples (and {@code Xq^T X} when re-fitting), run in ONNX Runtime. */
    ProbeStatistics.Statistics statistics(String weight, String activation, int k, boolean cross) throws IOException {
      if (grams != null && !cross) {
        return new ProbeStatistics.Statistics(grams.gram(current, quantized, added, activation, k, samples, weight), null);
      }
      long t0 = System.nanoTime();
      ModelProto m = probe(current, quantized, activation, k, cross);
      return ProbeStatistics.run(source.location(), weight, m, k, cross, samples, threads, t0);
    }

    /** Rounds one weight (GPTQ, or plain after scaling or re-fitting) and records what later groups see. */
    void round(String name, float[] original, int k, Hessian h, float[] scales, boolean cross) throws CaiException {
      long t0 = System.nanoTime();
      QuantCodec codec = codecs.apply(name);
      TensorInfo info = infos.get(name);
      int n = (int) info.shape()[1];
      float[] w = original;
      if (scales != null) {
        w = ActivationScaling.scaleRows(w, k, n, scales);
        scalesOf.put(name, scales);
      }
      Gptq.Result r;
      if (!errorCompensation) {
        if (scales == null && !cross) {
          return; // plain rounding by the policy, nothing changed upstream sees
        }
        r = new Gptq.Result(w, null); // re-fitted or scaled, then plain rounding
      } else {
        try {
          r = Gptq.quantize(w, k, n, codec, h, damping, threads);
        } catch (ArithmeticException e) {
          throw new CaiException(source.location(), name, "GPTQ failed: " + e.getMessage(), e);
        }
      }
      record(name, r, decoded(name, r));
      CalibrationClock.since(CalibrationClock.GPTQ_SOLVE, t0);
    }

    /** The weight GPTQ gave, as its codec will decode it. */
    float[] decoded(String name, Gptq.Result r) {
      QuantCodec codec = codecs.apply(name);
      TensorInfo info = infos.get(name);
      return codec.decode(info, codec.encode(TensorData.ofFloats(info, r.values()).withGrid(r.grid()))).floats();
    }

    /** A rounded weight: its result, and what later groups see (the weight as the codec decodes it). */
    void record(String name, Gptq.Result r, float[] decoded) {
      results.put(name, r);
      quantized.put(name, decoded);
      done++;
    }

    /**
     * The group rounded by GPTQ as it is and with its input rotated ({@link #rotation}), the one
     * with the lower output error kept (the rotation only when it gains {@value
     * #ROTATION_MIN_GAIN}); {@code scales}: the activation scaling already in the graph, or null.
     * A group an earlier pass decided under the same codecs ({@link #rotationChoices}) is rounded
     * only the way it decided.
     */
    void roundRotatedOrNot(List<String> group, Map<String, float[]> originals, int k, Hessian h,
        float[] scales) throws IOException {
      long t0 = System.nanoTime();
      Map<String, QuantCodec> groupCodecs = new LinkedHashMap<>();
      group.forEach(name -> groupCodecs.put(name, codecs.apply(name)));
      Boolean before = rotationChoices == null ? null : rotationChoices.decided(group, groupCodecs);
      boolean both = before == null;
      Hessian turned = both || before ? h.rotated(ROTATION_BLOCK) : null;
      Map<String, Gptq.Result[]> rounded = new LinkedHashMap<>();
      Map<String, float[]> rotatedWeights = new HashMap<>();
      double plainError = 0;
      double rotatedError = 0;
      for (String name : group) {
        int n = (int) infos.get(name).shape()[1];
        float[] w = scales == null ? originals.get(name) : ActivationScaling.scaleRows(originals.get(name), k, n, scales);
        float[] wr = turned == null ? null : Hadamard.rotateRows(w, k, n, ROTATION_BLOCK);
        Gptq.Result plain = null;
        Gptq.Result rot = null;
        try {
          if (both || !before) {
            plain = Gptq.quantize(w, k, n, codecs.apply(name), h, damping, threads);
            plainError += plain.outputError();
          }
          if (turned != null) {
            rot = Gptq.quantize(wr, k, n, codecs.apply(name), turned, damping, threads);
            rotatedError += rot.outputError();
          }
        } catch (ArithmeticException e) {
          throw new CaiException(source.location(), name, "GPTQ failed: " + e.getMessage(), e);
        }
        rounded.put(name, new Gptq.Result[] {plain, rot});
        rotatedWeights.put(name, wr);
      }
      rotationCandidates++;
      boolean rotate;
      if (both) {
        rotate = rotatedError < (1 - ROTATION_MIN_GAIN) * plainError;
        if (rotationChoices != null) {
          rotationChoices.record(group, groupCodecs, rotate);
        }
        log.accept(String.format(java.util.Locale.ROOT, "%s input of %s: output error %.4g as it is, %.4g rotated",
            rotate ? "rotated" : "kept the", group, plainError, rotatedError));
      } else {
        rotate = before;
        log.accept((rotate ? "rotated" : "kept the") + " input of " + group + " as an earlier pass decided under "
            + "the same codecs");
      }
      if (rotate) {
        if (rotationMatrix == null) {
          rotationMatrix = CalibrationGraphs.uniqueName(current.getGraph(), "cortexsdr_rotation_h");
          rotationRows = CalibrationGraphs.uniqueName(current.getGraph(), "cortexsdr_rotation_rows");
          added.put(rotationMatrix, new TensorInfo(rotationMatrix, DType.FLOAT32,
              new long[] {ROTATION_BLOCK, ROTATION_BLOCK}, TensorRole.MATMUL_WEIGHT, 0));
          quantized.put(rotationMatrix, HadamardRotation.matrix(ROTATION_BLOCK));
        }
        String input = CalibrationGraphs.consumerInput(current.getGraph(), group.get(0)); // after any scaling
        current = CalibrationGraphs.withInputRotated(current, group, input, rotationMatrix, rotationRows,
            ROTATION_BLOCK);
        rotatedGroups++;
      }
      for (String name : group) {
        Gptq.Result kept = rounded.get(name)[rotate ? 1 : 0];
        if (rotate) {
          references.put(name, rotatedWeights.get(name)); // errors are measured against H (s W)
        } else if (scales != null) {
          scalesOf.put(name, scales);
        }
        record(name, kept, decoded(name, kept)); // only the kept candidate is decoded
      }
      CalibrationClock.since(CalibrationClock.GPTQ_SOLVE, t0);
    }

    /** The calibrated source, with the metadata that says how it was made. */
    TensorSource result() throws IOException {
      Map<String, String> meta = new LinkedHashMap<>();
      meta.put("calibration", (errorCompensation ? "gptq on " + (results.size() - correctedBiases) + " weights, damping " + damping
          : "plain rounding") + ", " + samples.size() + " samples");
      if (correctedBiases > 0) {
        meta.put("bias correction", correctedBiases + " Conv/Gemm/recurrent biases take the mean output shift of their rounded "
            + "weights");
      }
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
      if (rotation) {
        meta.put("rotation", "Walsh-Hadamard, blocks of " + ROTATION_BLOCK + ", " + rotatedGroups + " of "
            + rotationCandidates + " MatMul inputs rotated (kept where GPTQ's output error fell by "
            + Math.round(ROTATION_MIN_GAIN * 100) + "% or more)");
      }
      if (activationScaling) {
        meta.put("activation scaling", scaledGroups + " of " + groups.size() + " MatMul inputs scaled"
            + (layerScaling[1] > 0 ? ", " + layerScaling[0] + " of " + layerScaling[1] + " Conv/Gemm/recurrent inputs"
                + " (" + layerScaling[2] + " folded into the Conv producing them)" : ""));
      }
      meta.putAll(metadata);
      Map<String, float[]> addedValues = new LinkedHashMap<>();
      added.keySet().forEach(n -> addedValues.put(n, quantized.get(n)));
      Map<String, TensorInfo> all = new LinkedHashMap<>(added);
      Map<String, long[]> integers = new LinkedHashMap<>();
      if (rotationRows != null) { // inline in the graph while calibrating (the probes keep it), a tensor of the file
        all.put(rotationRows, new TensorInfo(rotationRows, DType.INT64, new long[] {2}, TensorRole.OTHER, -1));
        integers.put(rotationRows, new long[] {-1, ROTATION_BLOCK});
      }
      return new CalibratedSource(source, current, results, scalesOf, all, addedValues, meta)
          .withReferences(references).withIntegers(integers);
    }
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



  /** The probe model of one group ({@link CalibrationGraphs#gramProbe}) with current weights. */
  private ModelProto probe(ModelProto stripped, Map<String, float[]> quantized, String activation, int k,
      boolean cross) throws IOException {
    if (cross && fp32Graph == null) { // the same for every group: built once per calibration
      fp32Graph = CalibrationGraphs.modelWith(source.strippedModel(), source, Map.of()).getGraph();
    }
    return CalibrationGraphs.gramProbe(CalibrationGraphs.modelWith(stripped, source, quantized), activation, k,
        cross ? fp32Graph : null, source.location());
  }

  /** See {@link CalibrationGraphs#withInputScaled}. */
  static ModelProto withInputScaled(ModelProto model, List<String> group, String activation, String inverse, int k) {
    return CalibrationGraphs.withInputScaled(model, group, activation, inverse, k);
  }

  /** See {@link CalibrationGraphs#matmulGroups}. */
  static List<List<String>> matmulGroups(GraphProto g, Map<String, TensorInfo> infos) {
    return CalibrationGraphs.matmulGroups(g, infos);
  }

  /** See {@link CalibrationGraphs#modelWith}. */
  static ModelProto modelWith(ModelProto stripped, OnnxModelReader source, Map<String, float[]> replaced)
      throws IOException {
    return CalibrationGraphs.modelWith(stripped, source, replaced);
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
    return OrtRunner.feed(env, s, sample);
  }

  /** Runs one sample and returns every numeric output, flattened, as floats ({@link OrtRunner#run}). */
  static List<float[]> runOutputs(OrtEnvironment env, OrtSession s, Map<String, Input> sample) throws OrtException {
    return new ArrayList<>(OrtRunner.run(env, s, sample).values());
  }
}
