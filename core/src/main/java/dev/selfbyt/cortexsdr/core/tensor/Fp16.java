package dev.selfbyt.cortexsdr.core.tensor;

/**
 * IEEE 754 half precision and bfloat16 conversions (Java 17 has neither
 * {@code Float.floatToFloat16} nor {@code float16ToFloat}). Round to nearest even, with
 * overflow to infinity and gradual underflow, as the hardware does.
 */
public final class Fp16 {
  private Fp16() {}

  /** The largest finite half-precision value. */
  public static final float MAX = 65504f;

  /** Converts a float to half precision bits, round to nearest even. */
  public static short fromFloat(float f) {
    int bits = Float.floatToRawIntBits(f);
    int sign = (bits >>> 16) & 0x8000;
    int exp = (bits >>> 23) & 0xff;
    int mant = bits & 0x7fffff;
    if (exp == 0xff) { // inf or nan
      return (short) (sign | 0x7c00 | (mant != 0 ? 0x200 | (mant >>> 13) : 0));
    }
    int e = exp - 127 + 15;
    if (e >= 0x1f) {
      return (short) (sign | 0x7c00);
    }
    if (e <= 0) {
      if (e < -10) {
        return (short) sign;
      }
      // subnormal: shift the mantissa with its implicit bit, rounding to nearest even
      int m = mant | 0x800000;
      int shift = 14 - e;
      int half = m >>> shift;
      int rem = m & ((1 << shift) - 1);
      int mid = 1 << (shift - 1);
      if (rem > mid || (rem == mid && (half & 1) != 0)) {
        half++;
      }
      return (short) (sign | half);
    }
    int half = (e << 10) | (mant >>> 13);
    int rem = mant & 0x1fff;
    if (rem > 0x1000 || (rem == 0x1000 && (half & 1) != 0)) {
      half++; // may carry into the exponent, which is correct (up to infinity)
    }
    return (short) (sign | half);
  }

  /** Converts half precision bits to a float (exact). */
  public static float toFloat(short h) {
    int bits = h & 0xffff;
    int sign = (bits & 0x8000) << 16;
    int exp = (bits >>> 10) & 0x1f;
    int mant = bits & 0x3ff;
    if (exp == 0) {
      if (mant == 0) {
        return Float.intBitsToFloat(sign);
      }
      float v = mant * 0x1p-24f;
      return sign == 0 ? v : -v;
    }
    if (exp == 0x1f) {
      return Float.intBitsToFloat(sign | 0x7f800000 | (mant << 13));
    }
    return Float.intBitsToFloat(sign | ((exp - 15 + 127) << 23) | (mant << 13));
  }

  /** The smallest half-precision value that is >= {@code f} (for scales that must not shrink). */
  public static short fromFloatRoundUp(float f) {
    int bits = Float.floatToRawIntBits(f);
    int e = (bits >>> 23) - 127 + 15; // sign bit 0: a positive float
    if (e >= 1 && e <= 30) {
      // positive and in half precision's normal range: truncate the mantissa, step up if any bit
      // was cut (a carry into the exponent is the right answer). The general path below gives the
      // same bits; this one has no rounding branches (it ran once per scale, 9% of int8 encoding).
      int half = (e << 10) | ((bits & 0x7fffff) >>> 13);
      return (short) ((bits & 0x1fff) != 0 ? half + 1 : half);
    }
    short h = fromFloat(f);
    float back = toFloat(h);
    if (back < f && f > 0) {
      h = (short) (h + 1);
    }
    return h;
  }

  /** Converts a float to bfloat16 bits, round to nearest even. */
  public static short toBf16(float f) {
    int bits = Float.floatToRawIntBits(f);
    if ((bits & 0x7f800000) == 0x7f800000 && (bits & 0x7fffff) != 0) {
      return (short) ((bits >>> 16) | 0x40); // keep NaN a NaN
    }
    int rounding = 0x7fff + ((bits >>> 16) & 1);
    return (short) ((bits + rounding) >>> 16);
  }

  /** Converts bfloat16 bits to a float (exact). */
  public static float fromBf16(short b) {
    return Float.intBitsToFloat((b & 0xffff) << 16);
  }
}
