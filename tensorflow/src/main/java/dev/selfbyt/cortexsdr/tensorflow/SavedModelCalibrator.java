package dev.selfbyt.cortexsdr.tensorflow;

import dev.selfbyt.cortexsdr.core.CompressionOptions;
import dev.selfbyt.cortexsdr.core.calibrate.Gptq;
import dev.selfbyt.cortexsdr.core.calibrate.Hessian;
import dev.selfbyt.cortexsdr.core.calibrate.Metrics;
import dev.selfbyt.cortexsdr.core.codec.QuantCodec;
import dev.selfbyt.cortexsdr.core.policy.CompressionPolicy;
import dev.selfbyt.cortexsdr.core.policy.TensorPlan;
import dev.selfbyt.cortexsdr.core.tensor.TensorData;
import dev.selfbyt.cortexsdr.core.tensor.TensorInfo;
import dev.selfbyt.cortexsdr.core.tensor.TensorSource;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import org.tensorflow.Result;
import org.tensorflow.SavedModelBundle;
import org.tensorflow.Session;
import org.tensorflow.Tensor;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.ndarray.buffer.DataBuffers;
import org.tensorflow.proto.SignatureDef;
import org.tensorflow.types.TFloat32;

/**
 * Calibration of a SavedModel where it runs: TF Java runs the fp32 model on calibration inputs,
 * captures the input of every {@code MatMul} whose right-hand side is a variable the policy
 * quantizes block-wise, and rounds that weight with GPTQ ({@link Gptq}) against those inputs'
 * {@code X^T X}. All inputs come from the fp32 model in one pass (the layers are calibrated
 * independently, not one after the other). Other weights keep the policy's plain rounding. {@link
 * #compareOutputs} runs the original and the compressed model on the same inputs and gives the
 * cosine of their outputs. Needs TensorFlow's native library ({@link TensorFlowRuntime}).
 *
 * <pre>{@code
 * try (SavedModelReader model = SavedModelReader.open(dir)) {
 *   List<Map<String, NpyArray>> batches = SavedModelCalibrator.batches(model, NpyArray.read(npy), 100);
 *   TensorSource calibrated = new SavedModelCalibrator(model, options).calibrate(batches);
 *   CortexSdr.compress(calibrated, cai, options);
 * }
 * }</pre>
 */
public final class SavedModelCalibrator {
  /** GPTQ's relative damping of {@code X^T X}. */
  public static final double DAMPING = 0.01;

  private final SavedModelReader source;
  private final Map<String, QuantCodec> planned = new LinkedHashMap<>();
  private Consumer<String> log = s -> {};

  /** Calibrates the weights {@code options} quantize block-wise. */
  public SavedModelCalibrator(SavedModelReader source, CompressionOptions options) {
    this.source = source;
    CompressionPolicy policy = new CompressionPolicy(options);
    for (TensorInfo t : source.tensors()) {
      TensorPlan p = policy.plan(t);
      if (p.kind() == TensorPlan.Kind.FIXED && p.candidates().get(0) instanceof QuantCodec q
          && q.granularity() == QuantCodec.Granularity.BLOCK && source.use(t.name()).activation() != null
          && t.rank() == 2) {
        planned.put(t.name(), q);
      }
    }
  }

  /** Receives a line per calibrated weight. */
  public SavedModelCalibrator onProgress(Consumer<String> log) {
    this.log = log;
    return this;
  }

  /** The weights calibration rounds with GPTQ (MatMul weights the policy quantizes block-wise). */
  public List<String> weights() {
    return List.copyOf(planned.keySet());
  }

  /**
   * Cuts {@code data} (samples along its first axis) into batches of {@code batch} samples for the
   * single input of the model's serving signature.
   *
   * @throws SavedModelFormatException when the signature has not exactly one input, or the
   *     sample shape disagrees with it
   */
  public static List<Map<String, NpyArray>> batches(SavedModelReader model, NpyArray data, int batch)
      throws SavedModelFormatException {
    SignatureDef sig = signature(model);
    if (sig.getInputsCount() != 1) {
      throw new SavedModelFormatException(model.location(), null, "calibration data for one input, but the "
          + "serving signature has " + sig.getInputsCount() + ": " + sig.getInputsMap().keySet());
    }
    var in = sig.getInputsMap().entrySet().iterator().next();
    var dims = in.getValue().getTensorShape().getDimList();
    long[] shape = data.shape();
    boolean ok = shape.length == dims.size();
    for (int i = 1; ok && i < shape.length; i++) {
      ok = dims.get(i).getSize() < 0 || dims.get(i).getSize() == shape[i];
    }
    if (!ok || shape.length == 0) {
      throw new SavedModelFormatException(model.location(), null, "calibration data of shape "
          + java.util.Arrays.toString(shape) + " does not fit input '" + in.getKey() + "' of shape "
          + in.getValue().getTensorShape().getDimList().stream().map(d -> Long.toString(d.getSize())).toList());
    }
    int row = (int) (data.values().length / shape[0]);
    List<Map<String, NpyArray>> out = new ArrayList<>();
    for (long s = 0; s < shape[0]; s += batch) {
      int m = (int) Math.min(batch, shape[0] - s);
      long[] bs = shape.clone();
      bs[0] = m;
      float[] v = new float[m * row];
      System.arraycopy(data.values(), (int) (s * row), v, 0, v.length);
      out.add(Map.of(in.getKey(), new NpyArray(bs, v)));
    }
    return out;
  }

  /**
   * Seeded random inputs for every float input of the serving signature: {@code samples} samples
   * of uniform values in [0, 1), in batches of up to 64; unknown dimensions after the first are 1.
   * Real samples ({@link #batches}) calibrate better.
   */
  public static List<Map<String, NpyArray>> randomBatches(SavedModelReader model, int samples, long seed)
      throws SavedModelFormatException {
    SignatureDef sig = signature(model);
    java.util.Random r = new java.util.Random(seed);
    List<Map<String, NpyArray>> out = new ArrayList<>();
    for (int s = 0; s < samples; s += 64) {
      int m = Math.min(64, samples - s);
      Map<String, NpyArray> batch = new java.util.TreeMap<>();
      for (var in : new java.util.TreeMap<>(sig.getInputsMap()).entrySet()) {
        if (in.getValue().getDtype() != org.tensorflow.proto.DataType.DT_FLOAT) {
          throw new SavedModelFormatException(model.location(), null, "input '" + in.getKey() + "' is "
              + in.getValue().getDtype() + "; random calibration feeds float inputs only: give a .npy of samples");
        }
        var dims = in.getValue().getTensorShape().getDimList();
        long[] shape = new long[Math.max(1, dims.size())];
        shape[0] = m;
        long n = m;
        for (int i = 1; i < dims.size(); i++) {
          shape[i] = Math.max(1, dims.get(i).getSize());
          n *= shape[i];
        }
        float[] v = new float[Math.toIntExact(n)];
        for (int i = 0; i < v.length; i++) {
          v[i] = r.nextFloat();
        }
        batch.put(in.getKey(), new NpyArray(shape, v));
      }
      out.add(batch);
    }
    return out;
  }

  /**
   * Runs the fp32 model on {@code batches} (signature input name to values) and returns the
   * source with the GPTQ-rounded weights (their grids attached, errors measured against the
   * originals).
   */
  public TensorSource calibrate(List<Map<String, NpyArray>> batches) throws IOException {
    TensorFlowRuntime.require("calibrating a SavedModel");
    if (batches.isEmpty()) {
      throw new SavedModelFormatException(source.location(), null, "no calibration samples");
    }
    Map<String, TensorInfo> infos = new LinkedHashMap<>();
    source.tensors().forEach(t -> infos.put(t.name(), t));
    Map<String, Hessian> hessians = new LinkedHashMap<>();
    Map<String, List<String>> byActivation = new LinkedHashMap<>();
    for (String name : planned.keySet()) {
      String a = source.use(name).activation();
      byActivation.computeIfAbsent(a, k -> new ArrayList<>()).add(name);
      hessians.computeIfAbsent(a, k -> new Hessian((int) infos.get(name).shape()[0]));
    }
    List<String> activations = new ArrayList<>(byActivation.keySet());
    try (SavedModelBundle model = load(source.folder())) {
      SignatureDef sig = signature(source);
      for (Map<String, NpyArray> batch : batches) {
        List<Tensor> fed = new ArrayList<>();
        try {
          Session.Runner run = feed(model.session(), sig, batch, fed);
          // a MatMul on a model input sees the fed values (TensorFlow refuses to fetch a fed tensor)
          Map<String, float[]> given = new java.util.HashMap<>();
          for (Map.Entry<String, NpyArray> e : batch.entrySet()) {
            given.put(canonical(sig.getInputsMap().get(e.getKey()).getName()), e.getValue().values());
          }
          List<String> fetched = new ArrayList<>();
          for (String a : activations) {
            if (!given.containsKey(canonical(a))) {
              run.fetch(op(a), index(a));
              fetched.add(a);
            }
          }
          try (Result r = run.run()) {
            for (String a : activations) {
              int i = fetched.indexOf(a);
              float[] x = i >= 0 ? floats((TFloat32) r.get(i)) : given.get(canonical(a));
              Hessian h = hessians.get(a);
              h.add(x, 0, x.length / h.size());
            }
          }
        } catch (RuntimeException e) { // TensorFlow's status, unchecked in TF Java
          throw new SavedModelFormatException(source.location(), null, "calibration run failed: " + e.getMessage(), e);
        } finally {
          fed.forEach(Tensor::close);
        }
      }
    }
    Map<String, Gptq.Result> results = new LinkedHashMap<>();
    for (Map.Entry<String, List<String>> e : byActivation.entrySet()) {
      for (String name : e.getValue()) {
        TensorInfo info = infos.get(name);
        float[] w = source.read(info).floats();
        try {
          results.put(name, Gptq.quantize(w, (int) info.shape()[0], (int) info.shape()[1], planned.get(name),
              hessians.get(e.getKey()), DAMPING));
        } catch (ArithmeticException x) {
          throw new SavedModelFormatException(source.location(), name, "GPTQ failed: " + x.getMessage(), x);
        }
        log.accept("calibrated " + name + " on the inputs of " + e.getKey());
      }
    }
    return new Calibrated(source, results);
  }

  /**
   * Runs the SavedModel in {@code original} and the {@code .cai} {@code cai} on {@code batches} and
   * returns the cosine of their outputs per sample (every output of the serving signature,
   * flattened per sample).
   */
  public static double[] compareOutputs(SavedModelReader original, Path cai, List<Map<String, NpyArray>> batches)
      throws IOException {
    TensorFlowRuntime.require("checking a SavedModel's outputs");
    SignatureDef sig = signature(original);
    List<Double> out = new ArrayList<>();
    try (SavedModelBundle a = load(original.folder()); SavedModelBundle b = CaiSavedModel.load(cai,
        original.metaGraph().getMetaInfoDef().getTagsList().toArray(String[]::new))) {
      for (Map<String, NpyArray> batch : batches) {
        int m = (int) batch.values().iterator().next().shape()[0];
        float[] x = outputs(a, sig, batch);
        float[] y = outputs(b, sig, batch);
        int per = x.length / m;
        for (int i = 0; i < m; i++) {
          out.add(Metrics.cosine(java.util.Arrays.copyOfRange(x, i * per, (i + 1) * per),
              java.util.Arrays.copyOfRange(y, i * per, (i + 1) * per)));
        }
      }
    } catch (RuntimeException e) {
      throw new SavedModelFormatException(original.location(), null, "output check failed: " + e.getMessage(), e);
    }
    return out.stream().mapToDouble(Double::doubleValue).toArray();
  }

  private static float[] outputs(SavedModelBundle model, SignatureDef sig, Map<String, NpyArray> batch)
      throws SavedModelFormatException {
    List<Tensor> fed = new ArrayList<>();
    try {
      Session.Runner run = feed(model.session(), sig, batch, fed);
      List<String> names = new ArrayList<>(new java.util.TreeMap<>(sig.getOutputsMap()).values().stream()
          .map(org.tensorflow.proto.TensorInfo::getName).toList());
      for (String n : names) {
        run.fetch(op(n), index(n));
      }
      try (Result r = run.run()) {
        int m = (int) batch.values().iterator().next().shape()[0];
        List<float[]> parts = new ArrayList<>();
        for (int i = 0; i < names.size(); i++) {
          parts.add(floats((TFloat32) r.get(i)));
        }
        // per sample: its slice of each output, one after the other
        int total = parts.stream().mapToInt(p -> p.length).sum();
        float[] v = new float[total];
        int o = 0;
        for (int s = 0; s < m; s++) {
          for (float[] p : parts) {
            int per = p.length / m;
            System.arraycopy(p, s * per, v, o, per);
            o += per;
          }
        }
        return v;
      }
    } finally {
      fed.forEach(Tensor::close);
    }
  }

  private static Session.Runner feed(Session s, SignatureDef sig, Map<String, NpyArray> batch, List<Tensor> fed)
      throws SavedModelFormatException {
    Session.Runner run = s.runner();
    for (Map.Entry<String, NpyArray> e : batch.entrySet()) {
      org.tensorflow.proto.TensorInfo in = sig.getInputsMap().get(e.getKey());
      if (in == null) {
        throw new SavedModelFormatException(null, null, "the serving signature has no input '" + e.getKey() + "'");
      }
      TFloat32 t = TFloat32.tensorOf(Shape.of(e.getValue().shape()), DataBuffers.of(e.getValue().values(), true, false));
      fed.add(t);
      run.feed(op(in.getName()), index(in.getName()), t);
    }
    return run;
  }

  private static SavedModelBundle load(Path dir) {
    return SavedModelBundle.load(dir.toString(), SavedModelReader.SERVE_TAG);
  }

  static SignatureDef signature(SavedModelReader model) throws SavedModelFormatException {
    Map<String, SignatureDef> sigs = model.metaGraph().getSignatureDefMap();
    SignatureDef s = sigs.get("serving_default");
    if (s == null && sigs.size() == 1) {
      s = sigs.values().iterator().next();
    }
    if (s == null) {
      throw new SavedModelFormatException(model.location(), null, "no serving_default signature to feed "
          + "calibration inputs to (signatures: " + sigs.keySet() + ")");
    }
    return s;
  }

  private static float[] floats(TFloat32 t) {
    float[] v = new float[Math.toIntExact(t.shape().size())];
    t.copyTo(DataBuffers.of(v, false, false));
    return v;
  }

  private static String canonical(String tensor) {
    return op(tensor) + ":" + index(tensor);
  }

  private static String op(String tensor) {
    int c = tensor.lastIndexOf(':');
    return c > 0 ? tensor.substring(0, c) : tensor;
  }

  private static int index(String tensor) {
    int c = tensor.lastIndexOf(':');
    return c > 0 ? Integer.parseInt(tensor.substring(c + 1)) : 0;
  }

  /** The source with calibrated values where GPTQ ran. */
  private static final class Calibrated implements TensorSource {
    private final SavedModelReader base;
    private final Map<String, Gptq.Result> results;

    Calibrated(SavedModelReader base, Map<String, Gptq.Result> results) {
      this.base = base;
      this.results = results;
    }

    @Override
    public String format() {
      return base.format();
    }

    @Override
    public String location() {
      return base.location();
    }

    @Override
    public Map<String, String> metadata() {
      Map<String, String> m = new java.util.TreeMap<>(base.metadata());
      m.put("calibration", "GPTQ on " + results.size() + " MatMul weights (TF Java)");
      return m;
    }

    @Override
    public byte[] graph() {
      return base.graph();
    }

    @Override
    public List<TensorInfo> tensors() {
      return base.tensors();
    }

    @Override
    public TensorData read(TensorInfo tensor) throws IOException {
      Gptq.Result r = results.get(tensor.name());
      if (r == null) {
        return base.read(tensor);
      }
      return TensorData.ofFloats(tensor, r.values()).withGrid(r.grid()).withReference(base.read(tensor).floats());
    }
  }
}
