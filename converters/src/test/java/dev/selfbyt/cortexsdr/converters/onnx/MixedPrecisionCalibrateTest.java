package dev.selfbyt.cortexsdr.converters.onnx;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.selfbyt.cortexsdr.core.CompressionOptions;
import dev.selfbyt.cortexsdr.core.Preset;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Mixed precision corrected for GPTQ: the effects are measured with plain rounding, GPTQ rounds
 * better, so the first plan lands well inside its target; {@link MixedPrecision#calibrate}
 * measures by how much, plans again, and keeps a smaller plan only where it still meets the
 * target after GPTQ.
 */
class MixedPrecisionCalibrateTest {
  @TempDir Path dir;

  @Test
  void theReplannedFileIsSmallerAndStillMeetsItsTargetAfterGptq() throws Exception {
    Path model = dir.resolve("mlp.onnx");
    OnnxExporter.write(OnnxCalibratorTest.mlp(K, H, N), model); // weights large enough to be quantized
    List<Map<String, OnnxCalibrator.Input>> samples = samples(16);
    double target = 0.999;
    double min = 0.998;
    List<String> log = new ArrayList<>();
    try (OnnxModelReader onnx = OnnxModelReader.open(model)) {
      CompressionOptions options = CompressionOptions.builder().preset(Preset.INT4).blockSize(32).build();
      List<BitAllocator.Effect> effects = MixedPrecision.measure(onnx, options, samples, 2, s -> {});
      MixedPrecision.Plan first = MixedPrecision.plan(effects, target, min);
      MixedPrecision.Calibrated c = MixedPrecision.calibrate(onnx, effects, samples, target, min, 2, false, false, false,
          log::add);
      assertTrue(c.note().startsWith("plan 1: output loss"), c.note());
      assertTrue(c.note().contains("plan 2 (factor"), "GPTQ gained, so the model was planned again: " + c.note());
      double[] real = OutputLoss.of(onnx, 2, samples).loss(c.source(), c.plan());
      assertTrue(real[0] <= 1 - target && real[1] <= 1 - min, "the kept plan meets both targets: " + c.note());
      assertTrue(bytes(effects, c.plan()) < bytes(effects, first), "and is smaller than the first: " + c.note());
      assertTrue(log.contains(c.note()), "the note is logged");
    }
  }

  static final int ROWS = OnnxCalibratorTest.ROWS;
  static final int K = 256;
  static final int H = 128;
  static final int N = 64;

  /** Inputs whose channels are correlated in pairs, a few of them wide: GPTQ's Hessian is far from the identity. */
  static List<Map<String, OnnxCalibrator.Input>> samples(int count) {
    SplittableRandom r = new SplittableRandom(5);
    List<Map<String, OnnxCalibrator.Input>> out = new ArrayList<>();
    for (int s = 0; s < count; s++) {
      float[] x = new float[ROWS * K];
      for (int i = 0; i < x.length; i += 2) {
        double shared = r.nextGaussian() * (i % K < 16 ? 8 : 1);
        x[i] = (float) shared;
        x[i + 1] = (float) (shared + 0.1 * r.nextGaussian());
      }
      out.add(Map.of("X", OnnxCalibrator.Input.ofFloats(new long[] {ROWS, K}, x)));
    }
    return out;
  }

  private static long bytes(List<BitAllocator.Effect> effects, MixedPrecision.Plan plan) {
    return effects.stream().filter(e -> e.codec().equals(plan.codec(e.tensor()))).mapToLong(BitAllocator.Effect::bytes)
        .sum();
  }
}
