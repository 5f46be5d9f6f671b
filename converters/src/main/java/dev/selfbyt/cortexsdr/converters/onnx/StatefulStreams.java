package dev.selfbyt.cortexsdr.converters.onnx;

import ai.onnx.proto.OnnxMl.TensorShapeProto;
import ai.onnx.proto.OnnxMl.ValueInfoProto;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.selfbyt.cortexsdr.core.format.CaiException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Stateful models, whose state outputs feed state inputs at the next step (a recurrent network
 * run chunk by chunk, a streaming audio model): which output feeds which input ({@link #detect},
 * or given), the initial state (zeros), and calibration samples taken from streams with the state
 * carried ({@link #unroll}).
 *
 * <p>Detection pairs an output with an input of the same element type and shape whose names are
 * the same once the words that mark a direction or time are dropped ({@code in}, {@code out},
 * {@code input}, {@code output}, {@code past}, {@code present}, {@code prev}, {@code next}, {@code
 * new}, ...; a trailing {@code 0} or {@code n} of a two-letter name: {@code h0}/{@code hn}), so
 * {@code state_in}/{@code state_out}, {@code h0}/{@code hn} and {@code past_c}/{@code present_c}
 * pair, and unrelated tensors of the same shape do not.
 */
public final class StatefulStreams {
  private static final Set<String> MARKERS = Set.of("in", "out", "input", "inputs", "output", "outputs", "inp",
      "new", "next", "prev", "previous", "past", "present", "cur", "current", "init", "initial", "last", "old",
      "updated", "t", "t1");

  private StatefulStreams() {}

  /** State output to state input, found by name and shape (see the class comment); empty when none. */
  public static Map<String, String> detect(OnnxModelReader model) {
    ModelInputs inputs = ModelInputs.of(model);
    Map<String, String> out = new LinkedHashMap<>();
    for (ValueInfoProto o : model.strippedModel().getGraph().getOutputList()) {
      String key = stem(o.getName());
      if (key.isEmpty()) {
        continue;
      }
      for (ModelInputs.Spec in : inputs.specs()) {
        if (!out.containsValue(in.name()) && stem(in.name()).equals(key) && !in.name().equals(o.getName())
            && sameType(o, in)) {
          out.put(o.getName(), in.name());
          break;
        }
      }
    }
    return out;
  }

  /**
   * Checks given pairs ({@code out=in}) against the model.
   *
   * @throws IllegalArgumentException naming an output or input the model lacks
   */
  public static Map<String, String> checked(OnnxModelReader model, Map<String, String> pairs) {
    ModelInputs inputs = ModelInputs.of(model);
    List<String> outputs = model.strippedModel().getGraph().getOutputList().stream().map(ValueInfoProto::getName)
        .toList();
    for (Map.Entry<String, String> e : pairs.entrySet()) {
      if (!outputs.contains(e.getKey())) {
        throw new IllegalArgumentException("state " + e.getKey() + "=" + e.getValue() + ": the model has no output '"
            + e.getKey() + "' (its outputs: " + String.join(", ", outputs) + ")");
      }
      if (inputs.get(e.getValue()) == null) {
        throw new IllegalArgumentException("state " + e.getKey() + "=" + e.getValue() + ": the model has no input '"
            + e.getValue() + "' (its inputs: " + String.join(", ", inputs.names()) + ")");
      }
    }
    return pairs;
  }

  private static String stem(String name) {
    List<String> kept = new ArrayList<>();
    for (String w : name.toLowerCase(Locale.ROOT).split("[^a-z0-9]+")) {
      if (w.isEmpty() || MARKERS.contains(w)) {
        continue;
      }
      kept.add(w.length() == 2 && Character.isLetter(w.charAt(0)) && (w.charAt(1) == '0' || w.charAt(1) == 'n')
          ? w.substring(0, 1) : w);
    }
    return String.join("_", kept);
  }

  private static boolean sameType(ValueInfoProto o, ModelInputs.Spec in) {
    if (!o.getType().hasTensorType() || o.getType().getTensorType().getElemType() != in.elemType()) {
      return false;
    }
    List<TensorShapeProto.Dimension> d = o.getType().getTensorType().getShape().getDimList();
    if (d.size() != in.dims().length) {
      return false;
    }
    for (int i = 0; i < d.size(); i++) {
      if (d.get(i).hasDimValue() && in.dims()[i] > 0 && d.get(i).getDimValue() != in.dims()[i]) {
        return false;
      }
    }
    return true;
  }

  /**
   * The zero initial state of each state input, its dynamic dimensions taken from {@code shapes}
   * (input name to dimensions) or 1.
   */
  public static Map<String, OnnxCalibrator.Input> zeros(ModelInputs inputs, Map<String, String> pairs,
      Map<String, long[]> shapes) {
    Map<String, OnnxCalibrator.Input> out = new LinkedHashMap<>();
    for (String in : pairs.values()) {
      ModelInputs.Spec s = inputs.get(in);
      long[] d = shapes.containsKey(in) ? shapes.get(in) : s.dims().clone();
      int n = 1;
      for (int i = 0; i < d.length; i++) {
        d[i] = d[i] > 0 ? d[i] : 1;
        n *= (int) d[i];
      }
      out.put(in, s.integral() ? OnnxCalibrator.Input.ofIntegers(s.elemType(), d, new long[n])
          : OnnxCalibrator.Input.ofFloats(s.elemType(), d, new float[n]));
    }
    return out;
  }

  /**
   * Calibration samples from streams: every step with the state the original model carries to it
   * (its state inputs filled), so that calibrators that take independent samples see the
   * activations a streamed run has.
   *
   * @param s a session of the original model
   */
  public static List<Map<String, OnnxCalibrator.Input>> unroll(Path model, List<OutputCheck.Stream> streams,
      OrtSession s) throws CaiException {
    List<Map<String, OnnxCalibrator.Input>> out = new ArrayList<>();
    OrtEnvironment env = OrtEnvironments.get();
    try {
      for (OutputCheck.Stream stream : streams) {
        Map<String, OnnxCalibrator.Input> state = new HashMap<>();
        for (Map<String, OnnxCalibrator.Input> step : stream.steps()) {
          Map<String, OnnxCalibrator.Input> feed = new LinkedHashMap<>(step);
          feed.putAll(state);
          out.add(feed);
          Map<String, float[]> r = OrtRunner.run(env, s, feed);
          for (Map.Entry<String, String> p : stream.state().entrySet()) {
            float[] v = r.get(p.getKey());
            OnnxCalibrator.Input like = feed.get(p.getValue());
            if (v == null || like == null || v.length != like.size()) {
              throw new CaiException(model.toString(), p.getKey(), "state output " + p.getKey() + " ("
                  + (v == null ? "absent" : v.length + " values") + ") cannot feed input " + p.getValue()
                  + (like == null ? "" : " " + Arrays.toString(like.shape())));
            }
            state.put(p.getValue(), OnnxCalibrator.Input.ofFloats(like.elemType(), like.shape(), v));
          }
        }
      }
    } catch (OrtException e) {
      throw new CaiException(model.toString(), null, "streaming the calibration data failed: " + e.getMessage(), e);
    }
    return out;
  }
}
