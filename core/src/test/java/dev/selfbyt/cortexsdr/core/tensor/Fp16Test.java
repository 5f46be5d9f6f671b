package dev.selfbyt.cortexsdr.core.tensor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class Fp16Test {
  @Test
  void everyHalfValueSurvivesARoundTripThroughFloat() {
    for (int h = 0; h < 0x10000; h++) {
      float f = Fp16.toFloat((short) h);
      if (Float.isNaN(f)) {
        assertTrue(Float.isNaN(Fp16.toFloat(Fp16.fromFloat(f))));
        continue;
      }
      assertEquals((short) h, Fp16.fromFloat(f), "half bits " + Integer.toHexString(h));
    }
  }

  @Test
  void roundsToNearestEvenAndOverflowsToInfinity() {
    assertEquals(1f, Fp16.toFloat(Fp16.fromFloat(1f + 0x1p-11f))); // tie goes to even (1.0)
    assertEquals(1f + 0x1p-9f, Fp16.toFloat(Fp16.fromFloat(1f + 0x1p-10f + 0x1p-11f))); // tie to even, up
    assertEquals(Float.POSITIVE_INFINITY, Fp16.toFloat(Fp16.fromFloat(70000f)));
    assertEquals(65504f, Fp16.toFloat(Fp16.fromFloat(65519f)));
    assertEquals(0x1p-24f, Fp16.toFloat(Fp16.fromFloat(0x1p-24f))); // smallest subnormal
    assertEquals(0f, Fp16.toFloat(Fp16.fromFloat(0x1p-26f)));
  }

  @Test
  void roundUpNeverGivesLess() {
    java.util.SplittableRandom r = new java.util.SplittableRandom(1);
    for (int i = 0; i < 100_000; i++) {
      float f = (float) Math.exp(r.nextDouble(-20, 11));
      float up = Fp16.toFloat(Fp16.fromFloatRoundUp(f));
      assertTrue(up >= f, f + " rounded up to " + up);
      assertTrue(up - f <= Math.max(Math.ulp(up) * 8192, 0x1p-24f), f + " -> " + up);
    }
  }

  /** The fast path gives the bits of the definition: round to nearest, step up if that was below. */
  @Test
  void roundUpMatchesItsDefinitionOnEveryKindOfFloat() {
    java.util.function.IntConsumer check = bits -> {
      float f = Float.intBitsToFloat(bits);
      short h = Fp16.fromFloat(f);
      if (Fp16.toFloat(h) < f && f > 0) {
        h = (short) (h + 1);
      }
      assertEquals(h, Fp16.fromFloatRoundUp(f), f + " (bits " + Integer.toHexString(bits) + ")");
    };
    for (long b = 0; b <= 0xffffffffL; b += 997) { // every sign, exponent and a spread of mantissas
      check.accept((int) b);
    }
    for (int h = 0; h < 0x10000; h++) { // each half value and its float neighbours
      int bits = Float.floatToRawIntBits(Fp16.toFloat((short) h));
      check.accept(bits - 1);
      check.accept(bits);
      check.accept(bits + 1);
    }
  }

  @Test
  void bfloat16RoundTripsItsOwnValues() {
    for (int h = 0; h < 0x10000; h++) {
      float f = Fp16.fromBf16((short) h);
      if (!Float.isNaN(f)) {
        assertEquals((short) h, Fp16.toBf16(f));
      }
    }
  }
}
