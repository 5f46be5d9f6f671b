package dev.selfbyt.cortexsdr.converters.onnx;

import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.selfbyt.cortexsdr.core.calibrate.Metrics;
import dev.selfbyt.cortexsdr.core.codec.TensorCodec;
import dev.selfbyt.cortexsdr.core.format.CaiException;
import dev.selfbyt.cortexsdr.core.tensor.TensorData;
import dev.selfbyt.cortexsdr.core.tensor.TensorInfo;
import dev.selfbyt.cortexsdr.core.tensor.TensorSource;
import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The first output's loss, {@code 1 - cosine} per sample as {@link BitAllocator} measures effects,
 * of a model whose weights are stored as a {@link MixedPrecision.Plan} says, against the original
 * model on fixed samples in ONNX Runtime. The original's outputs are computed once.
 */
final class OutputLoss {
  private final String location;
  private final int threads;
  private final List<Map<String, OnnxCalibrator.Input>> samples;
  private final List<float[]> reference;

  private OutputLoss(String location, int threads, List<Map<String, OnnxCalibrator.Input>> samples,
      List<float[]> reference) {
    this.location = location;
    this.threads = threads;
    this.samples = samples;
    this.reference = reference;
  }

  /** Runs the original model on {@code samples}. */
  static OutputLoss of(OnnxModelReader onnx, int threads, List<Map<String, OnnxCalibrator.Input>> samples)
      throws IOException {
    ModelProto original = CalibrationGraphs.modelWith(onnx.strippedModel(), onnx, Map.of());
    return new OutputLoss(onnx.location(), threads, samples, outputs(onnx.location(), original, threads, samples,
        "running the original model"));
  }

  /**
   * Mean and worst loss over the samples of {@code weights} (its graph and tensors, for example
   * GPTQ's result) with each planned weight encoded and decoded by its codec.
   */
  double[] loss(TensorSource weights, MixedPrecision.Plan plan) throws IOException {
    return meanAndWorst(perSample(weights, plan));
  }

  /** The mean and the largest of per-sample losses. */
  static double[] meanAndWorst(double[] each) {
    double mean = 0;
    double worst = 0;
    for (double l : each) {
      mean += l / each.length;
      worst = Math.max(worst, l);
    }
    return new double[] {mean, worst};
  }

  /** The loss on each sample, in order, of {@code weights} stored as {@code plan} says (see {@link #loss}). */
  double[] perSample(TensorSource weights, MixedPrecision.Plan plan) throws IOException {
    Map<String, TensorInfo> infos = new HashMap<>();
    weights.tensors().forEach(t -> infos.put(t.name(), t));
    ModelProto stored = ModelProto.parseFrom(weights.graph());
    ModelProto m = OnnxExporter.withWeights(stored, name -> {
      TensorInfo t = infos.get(name);
      if (t == null) {
        return null;
      }
      TensorData d = weights.read(t);
      TensorCodec c = plan.codec(name);
      return c == null ? d.bytes() : c.decode(t, c.encode(d)).bytes();
    });
    List<float[]> out = outputs(location, m, threads, samples, "measuring the planned model's output");
    double[] each = new double[out.size()];
    for (int i = 0; i < out.size(); i++) {
      each[i] = Math.max(0, 1 - Metrics.cosine(reference.get(i), out.get(i)));
    }
    return each;
  }

  /** The first output of {@code m} on each sample, in one session of {@code threads} threads; {@code what} names a failure. */
  static List<float[]> outputs(String location, ModelProto m, int threads,
      List<Map<String, OnnxCalibrator.Input>> samples, String what) throws CaiException {
    OrtEnvironment env = OrtEnvironments.get();
    List<float[]> out = new ArrayList<>();
    try (OrtSession.SessionOptions o = new OrtSession.SessionOptions()) {
      o.setIntraOpNumThreads(threads);
      try (OrtSession s = env.createSession(m.toByteArray(), o)) {
        for (Map<String, OnnxCalibrator.Input> sample : samples) {
          out.add(OnnxCalibrator.runFirstOutput(env, s, sample));
        }
      }
    } catch (OrtException e) {
      throw new CaiException(location, null, what + " failed: " + e.getMessage(), e);
    }
    return out;
  }
}
