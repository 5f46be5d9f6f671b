package dev.selfbyt.cortexsdr.core.codec;

import dev.selfbyt.cortexsdr.core.tensor.Fp16;

/**
 * The arithmetic of super-block scales ({@link QuantCodec#withSuperScales}): a run of {@link
 * QuantCodec#SUPER_BLOCK} group scales is stored as one fp16 {@code d} and one byte {@code c} per
 * group, the group's scale being {@code d * c / 255} in float32 (the product is exact: an 11-bit
 * significand times an 8-bit integer; the division is IEEE-rounded, so every runtime that decodes
 * in float32 gets the same scale).
 */
final class SuperScales {
  static final int CODE_MAX = 255;
  /** The largest growth of {@code d} by rounding up to fp16 that is accepted (tiny subnormal values). */
  private static final float FP16_MAX_DISTORTION = 0.01f;

  private SuperScales() {}

  /** The scale of code {@code c} under super scale {@code d}. */
  static float scale(float d, int c) {
    return d * c / 255f;
  }

  /** The smallest code whose scale is at least {@code s} (no value leaves its range), at most 255. */
  static int code(float s, float d) {
    if (!(s > 0) || d == 0f) {
      return 0;
    }
    int c = (int) Math.ceil((double) s * CODE_MAX / d);
    c = Math.max(0, Math.min(CODE_MAX, c));
    while (c < CODE_MAX && scale(d, c) < s) {
      c++;
    }
    while (c > 1 && scale(d, c - 1) >= s) {
      c--;
    }
    return c;
  }

  /**
   * One fp16-exact {@code d} per run of {@code superBlock} scales: the largest scale of the run
   * times {@code margin}, rounded up to fp16; null when one does not fit fp16 (over 65504, or
   * rounding would grow it by more than 1%).
   */
  static float[] supers(float[] scales, int superBlock, float margin) {
    int n = (scales.length + superBlock - 1) / superBlock;
    float[] d = new float[n];
    for (int b = 0; b < n; b++) {
      float mx = 0;
      for (int g = b * superBlock, end = Math.min(scales.length, g + superBlock); g < end; g++) {
        mx = Math.max(mx, scales[g]);
      }
      float want = mx * margin;
      if (want == 0f) {
        continue;
      }
      if (!(want <= Fp16.MAX)) {
        return null;
      }
      float stored = Fp16.toFloat(Fp16.fromFloatRoundUp(want));
      if (Float.isInfinite(stored) || stored - want > FP16_MAX_DISTORTION * want) {
        return null;
      }
      d[b] = stored;
    }
    return d;
  }
}
