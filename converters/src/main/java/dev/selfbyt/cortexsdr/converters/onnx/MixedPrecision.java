package dev.selfbyt.cortexsdr.converters.onnx;

import dev.selfbyt.cortexsdr.core.CompressionOptions;
import dev.selfbyt.cortexsdr.core.codec.QuantCodec;
import dev.selfbyt.cortexsdr.core.policy.CompressionPolicy;
import dev.selfbyt.cortexsdr.core.policy.TensorPlan;
import dev.selfbyt.cortexsdr.core.tensor.TensorInfo;
import dev.selfbyt.cortexsdr.core.tensor.TensorSource;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Consumer;
import java.util.regex.Pattern;

/**
 * Mixed-precision compression toward an output target: measures what each quantizable weight does
 * to the model's output at 3, 4, 5, 6 and 8 bits, gives each the narrowest width that keeps the
 * summed effect within {@code 1 - targetCosine} ({@link BitAllocator}), then rounds with GPTQ at
 * those widths ({@link OnnxCalibrator}). Use {@link #plan}, then {@link Plan#calibrate} and {@link
 * Plan#options}.
 */
public final class MixedPrecision {
  static final int[] WIDTHS = {3, 4, 5, 6, 8};
  /** Samples used to measure effects; more only slow the measuring down. */
  static final int MEASURE_SAMPLES = 32;

  private MixedPrecision() {}

  /** Chosen width per weight, for one block size and symmetry. */
  public record Plan(Map<String, Integer> bits, int block, boolean symmetric) {
    /** The codec of a planned weight, or null. */
    public QuantCodec codec(String name) {
      Integer b = bits.get(name);
      return b == null ? null : QuantCodec.blockwise(b, symmetric, block);
    }

    /** How many weights got each width. */
    public Map<Integer, Integer> histogram() {
      Map<Integer, Integer> h = new TreeMap<>();
      bits.values().forEach(w -> h.merge(w, 1, Integer::sum));
      return h;
    }

    /** The weights with GPTQ at their planned widths, ready to compress. */
    public TensorSource calibrate(OnnxModelReader onnx, List<Map<String, OnnxCalibrator.Input>> samples, int threads)
        throws IOException {
      return new OnnxCalibrator(onnx, this::codec, 0.01, threads).calibrate(samples);
    }

    /** {@code base} plus one override per planned weight. */
    public CompressionOptions.Builder options(CompressionOptions.Builder base) {
      bits.forEach((name, w) -> base.override(Pattern.quote(name), QuantCodec.blockwise(w, symmetric, block)));
      return base;
    }
  }

  /**
   * @param options the compression options; the weights it would quantize are planned, with its
   *     block size and symmetry
   */
  public static Plan plan(OnnxModelReader onnx, CompressionOptions options, List<Map<String, OnnxCalibrator.Input>> samples,
      double targetCosine, int threads, Consumer<String> log) throws IOException {
    if (!(targetCosine > 0 && targetCosine < 1)) {
      throw new IllegalArgumentException("target cosine must be in (0, 1), got " + targetCosine);
    }
    CompressionPolicy policy = new CompressionPolicy(options);
    List<String> weights = new ArrayList<>();
    for (TensorInfo t : onnx.tensors()) {
      if (policy.plan(t).kind() == TensorPlan.Kind.FIXED) {
        weights.add(t.name());
      }
    }
    List<BitAllocator.Effect> effects = new BitAllocator(onnx, WIDTHS, options.blockSize(), options.symmetric(), threads)
        .onProgress(log).measure(weights, samples.subList(0, Math.min(MEASURE_SAMPLES, samples.size())));
    return new Plan(BitAllocator.allocate(effects, 1 - targetCosine), options.blockSize(), options.symmetric());
  }
}
