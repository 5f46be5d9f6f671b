package dev.selfbyt.cortexsdr.djl.graph;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;

import org.junit.jupiter.api.Test;

/** A graph run reuses an output array only once no slot holds it, views included. */
class ArrayRecyclerTest {
  @Test
  void anArrayIsReusedOnlyWhenNoSlotHoldsItAnyMore() {
    ArrayRecycler r = new ArrayRecycler();
    ArrayRecycler before = ArrayRecycler.enter(r);
    try {
      float[] a = ArrayRecycler.floats(5000);
      Value product = Value.ofFloats(new long[] {5000}, a);
      Value reshaped = Value.ofFloats(new long[] {50, 100}, a); // a Reshape shares its input's array
      r.held(product);
      r.held(reshaped);
      r.dropped(product);
      assertNotSame(a, ArrayRecycler.floats(5000), "the reshaped view still holds it");
      r.dropped(reshaped);
      assertSame(a, ArrayRecycler.floats(5000), "no slot holds it: reused");
      assertNotSame(a, ArrayRecycler.floats(5000), "handed out once");
      float[] other = new float[5000];
      r.held(Value.ofFloats(new long[] {5000}, other));
      r.dropped(Value.ofFloats(new long[] {5000}, other));
      float[] next = ArrayRecycler.floats(5000);
      assertNotSame(other, next, "an array the recycler did not make (an input, a constant) is never reused");
    } finally {
      ArrayRecycler.enter(before);
    }
  }

  @Test
  void outsideARunArraysAreNewAndZero() {
    assertNull(ArrayRecycler.current());
    float[] a = ArrayRecycler.floats(5000);
    for (float v : a) {
      assertEquals(0f, v);
    }
  }

  @Test
  void aNestedRunRestoresTheOuterRecycler() {
    ArrayRecycler outer = new ArrayRecycler();
    ArrayRecycler none = ArrayRecycler.enter(outer);
    ArrayRecycler inner = new ArrayRecycler();
    assertSame(outer, ArrayRecycler.enter(inner));
    assertSame(inner, ArrayRecycler.enter(outer));
    assertSame(outer, ArrayRecycler.enter(none));
    assertNull(ArrayRecycler.current());
  }
}
