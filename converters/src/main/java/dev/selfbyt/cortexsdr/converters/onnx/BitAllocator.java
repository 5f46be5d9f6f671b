package dev.selfbyt.cortexsdr.converters.onnx;

import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.selfbyt.cortexsdr.core.codec.QuantCodec;
import dev.selfbyt.cortexsdr.core.format.CaiException;
import dev.selfbyt.cortexsdr.core.tensor.TensorData;
import dev.selfbyt.cortexsdr.core.tensor.TensorInfo;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * Mixed precision driven by the model's output: measures, for every quantizable weight and every
 * candidate width, how far the model's first output moves (1 - cosine, averaged over the
 * calibration samples) when only that weight is rounded; then, treating those effects as
 * additive, gives each weight the narrowest width such that the summed effect stays within a
 * budget, spending bits where they buy the most fidelity per byte. {@link #plan} returns one
 * codec per weight.
 */
public final class BitAllocator {
  private final OnnxModelReader source;
  private final int[] widths;
  private final int block;
  private final boolean symmetric;
  private final int threads;
  private Consumer<String> log = s -> {};

  public BitAllocator(OnnxModelReader source, int[] widths, int block, boolean symmetric, int threads) {
    this.source = source;
    this.widths = widths.clone();
    java.util.Arrays.sort(this.widths);
    this.block = block;
    this.symmetric = symmetric;
    this.threads = threads;
  }

  public BitAllocator onProgress(Consumer<String> log) {
    this.log = log;
    return this;
  }

  /** Measured effect of one weight at one width. */
  public record Effect(String tensor, int bits, long bytes, double distortion) {}

  /** Measures every (weight, width) pair on the samples. */
  public List<Effect> measure(List<String> weights, List<Map<String, OnnxCalibrator.Input>> samples)
      throws IOException {
    Map<String, TensorInfo> infos = new HashMap<>();
    for (TensorInfo t : source.tensors()) {
      infos.put(t.name(), t);
    }
    OrtEnvironment env = OrtEnvironment.getEnvironment();
    List<float[]> reference = outputs(env, Map.of(), samples);
    List<Effect> out = new ArrayList<>();
    for (String w : weights) {
      TensorInfo info = infos.get(w);
      TensorData data = source.read(info);
      for (int bits : widths) {
        QuantCodec c = QuantCodec.blockwise(bits, symmetric, block);
        ByteBuffer payload = c.encode(data);
        float[] q = c.decode(info, payload.duplicate()).floats();
        List<float[]> o = outputs(env, Map.of(w, q), samples);
        double d = 0;
        for (int i = 0; i < o.size(); i++) {
          d += 1 - dev.selfbyt.cortexsdr.core.calibrate.Metrics.cosine(reference.get(i), o.get(i));
        }
        out.add(new Effect(w, bits, payload.remaining(), d / o.size()));
      }
      log.accept("measured " + w);
    }
    return out;
  }

  /**
   * The narrowest widths whose summed distortion stays within {@code budget}: start every weight
   * at its narrowest width, then widen the weight that removes the most distortion per added byte,
   * until the sum fits.
   */
  public static Map<String, Integer> allocate(List<Effect> effects, double budget) {
    Map<String, List<Effect>> byTensor = new LinkedHashMap<>();
    for (Effect e : effects) {
      byTensor.computeIfAbsent(e.tensor(), k -> new ArrayList<>()).add(e);
    }
    Map<String, Integer> level = new LinkedHashMap<>();
    double total = 0;
    for (Map.Entry<String, List<Effect>> t : byTensor.entrySet()) {
      t.getValue().sort(java.util.Comparator.comparingInt(Effect::bits));
      level.put(t.getKey(), 0);
      total += t.getValue().get(0).distortion();
    }
    while (total > budget) {
      String best = null;
      double bestGain = 0;
      for (Map.Entry<String, List<Effect>> t : byTensor.entrySet()) {
        int l = level.get(t.getKey());
        List<Effect> options = t.getValue();
        if (l + 1 >= options.size()) {
          continue;
        }
        Effect now = options.get(l);
        Effect next = options.get(l + 1);
        double gain = (now.distortion() - next.distortion()) / Math.max(1, next.bytes() - now.bytes());
        if (best == null || gain > bestGain) {
          best = t.getKey();
          bestGain = gain;
        }
      }
      if (best == null) {
        break; // everything at its widest
      }
      List<Effect> options = byTensor.get(best);
      int l = level.get(best);
      total += options.get(l + 1).distortion() - options.get(l).distortion();
      level.put(best, l + 1);
    }
    Map<String, Integer> greedy = new LinkedHashMap<>();
    level.forEach((t, l) -> greedy.put(t, byTensor.get(t).get(l).bits()));
    Map<String, Integer> bits = greedy;
    // never worse than one width for all: the smallest uniform plan within budget, if smaller
    long mixed = bytes(byTensor, bits);
    for (int w : widthsOf(effects)) {
      Map<String, Integer> uniform = new LinkedHashMap<>();
      double d = 0;
      boolean complete = true;
      for (Map.Entry<String, List<Effect>> t : byTensor.entrySet()) {
        Effect e = null;
        for (Effect x : t.getValue()) {
          if (x.bits() == w) {
            e = x;
          }
        }
        if (e == null) {
          complete = false;
          break;
        }
        uniform.put(t.getKey(), w);
        d += e.distortion();
      }
      if (complete && d <= budget && bytes(byTensor, uniform) < mixed) {
        bits = uniform;
        mixed = bytes(byTensor, uniform);
      }
    }
    return bits;
  }

  /** Total bytes of a plan. */
  public static long bytes(Map<String, List<Effect>> byTensor, Map<String, Integer> plan) {
    long n = 0;
    for (Map.Entry<String, Integer> p : plan.entrySet()) {
      for (Effect e : byTensor.get(p.getKey())) {
        if (e.bits() == p.getValue()) {
          n += e.bytes();
        }
      }
    }
    return n;
  }

  private static int[] widthsOf(List<Effect> effects) {
    return effects.stream().mapToInt(Effect::bits).distinct().sorted().toArray();
  }

  /** Effects grouped by tensor, for {@link #bytes}. */
  public static Map<String, List<Effect>> byTensor(List<Effect> effects) {
    Map<String, List<Effect>> m = new LinkedHashMap<>();
    for (Effect e : effects) {
      m.computeIfAbsent(e.tensor(), k -> new ArrayList<>()).add(e);
    }
    return m;
  }

  private List<float[]> outputs(OrtEnvironment env, Map<String, float[]> replaced,
      List<Map<String, OnnxCalibrator.Input>> samples) throws IOException {
    ModelProto m = OnnxCalibrator.modelWith(source, replaced);
    List<float[]> out = new ArrayList<>();
    try (OrtSession.SessionOptions o = new OrtSession.SessionOptions()) {
      o.setIntraOpNumThreads(threads);
      try (OrtSession s = env.createSession(m.toByteArray(), o)) {
        for (Map<String, OnnxCalibrator.Input> sample : samples) {
          out.add(OnnxCalibrator.runFirstOutput(env, s, sample));
        }
      }
    } catch (OrtException e) {
      throw new CaiException(source.location(), null, "measuring the output failed: " + e.getMessage(), e);
    }
    return out;
  }

}
