package dev.selfbyt.cortexsdr.converters.onnx;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.selfbyt.cortexsdr.core.CompressionOptions;
import dev.selfbyt.cortexsdr.core.Preset;
import org.junit.jupiter.api.Test;

/** Calibration settings are checked together, as the command line's flags are, for Java callers too. */
class CalibrationOptionsTest {
  static final CompressionOptions INT4 = CompressionOptions.builder().preset(Preset.INT4).build();
  static final CompressionOptions FAST = CompressionOptions.builder().preset(Preset.INT8_FAST).build();

  static CalibrationOptions.Setting refused(CalibrationOptions.Builder b, CompressionOptions o) {
    return assertThrows(CalibrationOptions.InvalidOptionException.class, () -> b.build(o)).setting();
  }

  @Test
  void validCombinations() {
    CalibrationOptions c = CalibrationOptions.builder().data("random").activationScaling(true).targetCosine(0.995)
        .inputShape("x", new long[] {1, 3}).state("hn", "h0").build(INT4);
    assertEquals(0.995, c.targetCosine());
    assertEquals("h0", c.state().get("hn"));
    // mixed precision without data plans on random inputs
    assertTrue(CalibrationOptions.builder().targetCosine(0.99).build(INT4).data() == null);
    assertEquals(0.5, CalibrationOptions.builder().smoothing(0.5).build(FAST).smoothing());
  }

  @Test
  void contradictionsNameTheSetting() {
    assertEquals(CalibrationOptions.Setting.ACTIVATION_SCALING,
        refused(CalibrationOptions.builder().activationScaling(true), INT4)); // no data
    assertEquals(CalibrationOptions.Setting.ACTIVATION_SCALING,
        refused(CalibrationOptions.builder().data("random").activationScaling(true), FAST));
    assertEquals(CalibrationOptions.Setting.SMOOTHING, refused(CalibrationOptions.builder().smoothing(0.5), INT4));
    assertEquals(CalibrationOptions.Setting.TARGET_COSINE, refused(CalibrationOptions.builder().targetCosine(1.0), INT4));
    assertEquals(CalibrationOptions.Setting.DATA, refused(CalibrationOptions.builder().data("random"),
        CompressionOptions.builder().preset(Preset.LOSSLESS).build()));
    assertEquals(CalibrationOptions.Setting.TARGET_MIN_COSINE,
        refused(CalibrationOptions.builder().targetMinCosine(0.9), INT4));
    assertEquals(CalibrationOptions.Setting.CHECK_THRESHOLD,
        refused(CalibrationOptions.builder().check(false).checkThreshold(0.9), INT4));
    assertEquals(CalibrationOptions.Setting.SAMPLES, refused(CalibrationOptions.builder().samples(0), INT4));
    assertEquals(CalibrationOptions.Setting.SAMPLE_RATE, refused(CalibrationOptions.builder().sampleRate(0), INT4));
    assertEquals(CalibrationOptions.Setting.INPUT_SHAPE,
        refused(CalibrationOptions.builder().inputShape("x", new long[] {0}), INT4));
  }
}
