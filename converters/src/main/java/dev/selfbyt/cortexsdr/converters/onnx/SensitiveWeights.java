package dev.selfbyt.cortexsdr.converters.onnx;

import dev.selfbyt.cortexsdr.core.CompressionOptions;
import dev.selfbyt.cortexsdr.core.codec.QuantCodec;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * A policy for models whose outputs hinge on a few weights (small CNNs with depthwise-separable
 * blocks): the weights that damage the outputs most when rounded alone ({@link WeightSensitivity},
 * measured on calibration samples) are kept at full precision, most damaging first, within a share
 * of the quantized values. The size it costs is bounded by the share; which weights it picks
 * comes from the measurement, not from their names or kinds.
 */
public final class SensitiveWeights {
  private SensitiveWeights() {}

  /**
   * The weights to keep lossless: most damaging first, each taken while the values kept stay
   * within {@code share} of the values {@code options} would quantize (a weight too large for
   * what is left is passed over, a smaller one after it may still fit).
   *
   * @param share fraction of the quantized values that may stay lossless, e.g. 0.05
   */
  public static List<String> mostDamaging(OnnxModelReader onnx, CompressionOptions options,
      List<Map<String, OnnxCalibrator.Input>> samples, int threads, double share) throws IOException {
    Map<String, QuantCodec> codecs = WeightSensitivity.plannedCodecs(onnx, options);
    long total = 0;
    for (var t : onnx.tensors()) {
      total += codecs.containsKey(t.name()) ? t.numel() : 0;
    }
    List<WeightSensitivity.Effect> effects = WeightSensitivity.measure(onnx, WeightSensitivity.roundedBy(onnx, codecs),
        samples, threads);
    List<String> out = new ArrayList<>();
    long kept = 0;
    for (WeightSensitivity.Effect e : effects) {
      if (kept + e.numel() <= share * total) {
        out.add(e.tensor());
        kept += e.numel();
      }
    }
    return out;
  }
}
