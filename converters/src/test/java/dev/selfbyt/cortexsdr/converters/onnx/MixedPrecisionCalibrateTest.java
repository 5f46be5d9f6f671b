package dev.selfbyt.cortexsdr.converters.onnx;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.selfbyt.cortexsdr.core.CompressionOptions;
import dev.selfbyt.cortexsdr.core.Preset;
import dev.selfbyt.cortexsdr.core.codec.QuantCodec;
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

  @Test
  void eachSampleIsScaledByItsOwnGptqFactorSoThePlansWorstSampleIsEstimatedAsMeasured() {
    QuantCodec int4 = QuantCodec.blockwise(4, false, 32);
    QuantCodec int8 = QuantCodec.blockwise(8, false, 32);
    // two rounded weights and a table, three samples; the plan chose A at 4 bits, B at 8, the table
    List<BitAllocator.Effect> effects = List.of(
        new BitAllocator.Effect("A", int4, 100, 0.004, new double[] {0.002, 0.004, 0.006}),
        new BitAllocator.Effect("A", int8, 200, 0.0004, new double[] {0.0002, 0.0004, 0.0006}),
        new BitAllocator.Effect("B", int8, 200, 0.001, new double[] {0.0005, 0.001, 0.0015}),
        new BitAllocator.Effect("T", int8, 50, 0.0002, new double[] {0.0001, 0.0002, 0.0003}));
    double[] measured = {0.0006, 0.0012, 0.0045}; // after GPTQ; the third sample gained least
    double[] tables = {0.0001, 0.0002, 0.0003};
    double[] rhoAt = new double[3];
    double rounded = 0;
    double real = 0;
    for (int i = 0; i < 3; i++) {
      double estimate = effects.get(0).perSample()[i] + effects.get(2).perSample()[i];
      rhoAt[i] = (measured[i] - tables[i]) / estimate;
      rounded += estimate / 3;
      real += (measured[i] - tables[i]) / 3;
    }
    List<BitAllocator.Effect> scaled = MixedPrecision.scaled(effects, java.util.Set.of("T"), real / rounded, rhoAt);
    for (int i = 0; i < 3; i++) {
      double estimate = scaled.get(0).perSample()[i] + scaled.get(2).perSample()[i] + scaled.get(3).perSample()[i];
      assertEquals(measured[i], estimate, 1e-12, "sample " + i);
    }
    assertEquals(0.0002, scaled.get(3).distortion(), 0, "the table keeps its measured effect");
    for (BitAllocator.Effect e : scaled) {
      assertEquals(java.util.Arrays.stream(e.perSample()).average().orElseThrow(), e.distortion(), 1e-15,
          e.tensor() + " " + e.codec().describe() + ": the mean is the mean of the samples");
    }
    // an effect measured on other samples (one value) takes the overall factor
    BitAllocator.Effect uniform = BitAllocator.Effect.uniform("C", int4, 10, 0.01);
    assertEquals(0.01 * 0.5, MixedPrecision.scaled(List.of(uniform), java.util.Set.of(), 0.5, rhoAt).get(0)
        .distortion(), 1e-15);
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
