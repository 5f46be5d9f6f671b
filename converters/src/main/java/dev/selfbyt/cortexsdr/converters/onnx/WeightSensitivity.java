package dev.selfbyt.cortexsdr.converters.onnx;

import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.selfbyt.cortexsdr.core.CompressionOptions;
import dev.selfbyt.cortexsdr.core.calibrate.Metrics;
import dev.selfbyt.cortexsdr.core.codec.QuantCodec;
import dev.selfbyt.cortexsdr.core.format.CaiException;
import dev.selfbyt.cortexsdr.core.policy.CompressionPolicy;
import dev.selfbyt.cortexsdr.core.policy.TensorPlan;
import dev.selfbyt.cortexsdr.core.tensor.DType;
import dev.selfbyt.cortexsdr.core.tensor.TensorData;
import dev.selfbyt.cortexsdr.core.tensor.TensorInfo;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;

/**
 * Each quantized weight's damage alone: the model with every weight at its original value but one,
 * rounded as its codec stores it, run on samples; the cosine of each output to the original model's
 * is that weight's effect. This is the other direction of {@link OutputCheck}'s damage measure
 * (which restores one weight in a fully decoded model): it ranks every lossy weight, not only the
 * largest-NMSE ones, and what it finds is what a policy can act on before compressing (keep the
 * few most damaging weights at higher precision).
 *
 * <p>One ONNX Runtime session serves every weight: the measured weights become graph inputs, fed
 * their original values but for the one rounded.
 */
public final class WeightSensitivity {
  /**
   * One weight's effect.
   *
   * @param tensor the weight
   * @param numel its number of values
   * @param cosines mean cosine of each model output (graph order) with only this weight rounded
   */
  public record Effect(String tensor, long numel, double[] cosines) {
    /** The lowest of the outputs' mean cosines: how far this weight alone moves the model. */
    public double worst() {
      double w = 1;
      for (double c : cosines) {
        w = Math.min(w, c);
      }
      return w;
    }
  }

  private WeightSensitivity() {}

  /**
   * The codec {@code options} would store each tensor of {@code onnx} with, for the tensors it
   * quantizes (fixed plans with a {@link QuantCodec}); lossless tensors are absent.
   */
  public static Map<String, QuantCodec> plannedCodecs(OnnxModelReader onnx, CompressionOptions options) {
    CompressionPolicy policy = new CompressionPolicy(options);
    Map<String, QuantCodec> out = new LinkedHashMap<>();
    for (TensorInfo t : onnx.tensors()) {
      TensorPlan p = policy.plan(t);
      if (t.dtype() == DType.FLOAT32 && p.kind() == TensorPlan.Kind.FIXED
          && p.candidates().get(0) instanceof QuantCodec q) {
        out.put(t.name(), q);
      }
    }
    return out;
  }

  /**
   * Measures every weight {@code rounded} gives a value for, most damaging (lowest {@link
   * Effect#worst()}) first.
   *
   * @param rounded a weight's value as it would be stored, or null to leave it out
   */
  public static List<Effect> measure(OnnxModelReader onnx, Function<TensorInfo, float[]> rounded,
      List<Map<String, OnnxCalibrator.Input>> samples, int threads) throws IOException {
    Map<String, TensorInfo> measured = new LinkedHashMap<>();
    Map<String, float[]> values = new LinkedHashMap<>();
    for (TensorInfo t : onnx.tensors()) {
      float[] r = t.dtype() == DType.FLOAT32 ? rounded.apply(t) : null;
      if (r != null) {
        measured.put(t.name(), t);
        values.put(t.name(), r);
      }
    }
    if (measured.isEmpty()) {
      return List.of();
    }
    Set<String> names = new HashSet<>(measured.keySet());
    ModelProto filled = CalibrationGraphs.modelWith(onnx.strippedModel(), onnx, Map.of());
    ModelProto fed = filled.toBuilder().setGraph(OutputCheck.asInputs(filled.getGraph(), names)).build();
    Map<String, OnnxCalibrator.Input> originals = new LinkedHashMap<>();
    for (TensorInfo t : measured.values()) {
      originals.put(t.name(), OnnxCalibrator.Input.ofFloats(t.shape(), onnx.read(t).floats()));
    }
    OrtEnvironment env = OrtEnvironments.get();
    List<Effect> out = new ArrayList<>();
    try (OrtSession.SessionOptions o = ModelTrial.sessionOptions(threads);
        OrtSession s = env.createSession(fed.toByteArray(), o)) {
      List<List<float[]>> ref = new ArrayList<>();
      for (Map<String, OnnxCalibrator.Input> sample : samples) {
        ref.add(new ArrayList<>(OrtRunner.run(env, s, with(sample, originals)).values()));
      }
      for (TensorInfo t : measured.values()) {
        Map<String, OnnxCalibrator.Input> feed = new LinkedHashMap<>(originals);
        feed.put(t.name(), OnnxCalibrator.Input.ofFloats(t.shape(), values.get(t.name())));
        double[] cos = new double[ref.get(0).size()];
        for (int i = 0; i < samples.size(); i++) {
          List<float[]> got = new ArrayList<>(OrtRunner.run(env, s, with(samples.get(i), feed)).values());
          for (int j = 0; j < cos.length; j++) {
            double c = Metrics.cosine(ref.get(i).get(j), got.get(j));
            cos[j] += (Double.isNaN(c) ? 0 : c) / samples.size();
          }
        }
        out.add(new Effect(t.name(), t.numel(), cos));
      }
    } catch (OrtException e) {
      throw new CaiException(onnx.location(), null, "measuring weight sensitivity failed in ONNX Runtime: "
          + e.getMessage(), e);
    }
    out.sort(Comparator.comparingDouble(Effect::worst));
    return out;
  }

  /** Every weight {@code codecs} names, rounded by its codec (encode, decode). */
  public static Function<TensorInfo, float[]> roundedBy(OnnxModelReader onnx, Map<String, QuantCodec> codecs) {
    return t -> {
      QuantCodec c = codecs.get(t.name());
      if (c == null) {
        return null;
      }
      try {
        TensorData d = onnx.read(t);
        return c.decode(t, c.encode(d)).floats();
      } catch (IOException e) {
        throw new java.io.UncheckedIOException(e);
      }
    };
  }

  /**
   * Writes {@code onnx} with the weights in {@code replaced} set to those values (the others as
   * they are), for running a rounding in ONNX Runtime without compressing.
   */
  public static void writeWith(OnnxModelReader onnx, Map<String, float[]> replaced, java.nio.file.Path target)
      throws IOException {
    OnnxExporter.write(CalibrationGraphs.modelWith(onnx.strippedModel(), onnx, replaced), target);
  }

  private static Map<String, OnnxCalibrator.Input> with(Map<String, OnnxCalibrator.Input> sample,
      Map<String, OnnxCalibrator.Input> weights) {
    Map<String, OnnxCalibrator.Input> m = new LinkedHashMap<>(sample);
    m.putAll(weights);
    return m;
  }
}
