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
