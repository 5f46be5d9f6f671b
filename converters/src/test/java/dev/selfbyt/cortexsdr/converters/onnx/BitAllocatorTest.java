package dev.selfbyt.cortexsdr.converters.onnx;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.selfbyt.cortexsdr.core.codec.QuantCodec;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** The allocation on measured effects: within budget, never larger than one codec for all. */
class BitAllocatorTest {
  static final List<QuantCodec> CODECS = MixedPrecision.candidates(32, false);

  /**
   * Tensors of assorted sizes and sensitivities over 8 samples; distortion falls 4x per extra bit
   * and grows with the block size; some samples are more sensitive than others.
   */
  static List<BitAllocator.Effect> effects(long seed, int tensors) {
    SplittableRandom r = new SplittableRandom(seed);
    double[] sampleWeight = new double[8];
    for (int s = 0; s < sampleWeight.length; s++) {
      sampleWeight[s] = Math.exp(r.nextDouble(-1, 1));
    }
    List<BitAllocator.Effect> out = new ArrayList<>();
    for (int t = 0; t < tensors; t++) {
      long numel = 4096L * (1 + r.nextInt(64));
      double sensitivity = Math.exp(r.nextDouble(-4, 2));
      for (QuantCodec c : CODECS) {
        double base = sensitivity * 1e-3 * Math.pow(4, 4 - c.bits()) * (c.blockSize() == 128 ? 1.3 : 1);
        double[] per = new double[sampleWeight.length];
        double sum = 0;
        for (int s = 0; s < per.length; s++) {
          per[s] = base * sampleWeight[s] * Math.exp(r.nextDouble(-0.5, 0.5));
          sum += per[s];
        }
        long bytes = numel * c.bits() / 8 + numel / c.blockSize() * 3;
        out.add(new BitAllocator.Effect("t" + t, c, bytes, sum / per.length, per));
      }
    }
    return out;
  }

  @Test
  void staysWithinBothBudgetsAndNeverExceedsAUniformPlan() {
    for (long seed = 1; seed <= 20; seed++) {
      List<BitAllocator.Effect> e = effects(seed, 30);
      for (double budget : new double[] {1e-4, 1e-3, 1e-2, 5e-2}) {
        Map<String, BitAllocator.Effect> plan = BitAllocator.allocate(e, budget, 2 * budget);
        assertEquals(30, plan.size());
        boolean fits = BitAllocator.fits(plan.values(), 8, budget, 2 * budget);
        long bytes = BitAllocator.bytes(plan);
        for (QuantCodec c : CODECS) {
          List<BitAllocator.Effect> uniform = e.stream().filter(x -> x.codec().equals(c)).toList();
          if (BitAllocator.fits(uniform, 8, budget, 2 * budget)) {
            assertTrue(fits, "seed " + seed + " budget " + budget + ": a uniform plan fits, the mixed one must too");
            long bu = uniform.stream().mapToLong(BitAllocator.Effect::bytes).sum();
            assertTrue(bytes <= bu, "seed " + seed + " budget " + budget + ": " + bytes + " > uniform " + c + " " + bu);
          }
        }
      }
    }
  }

  @Test
  void sensitiveTensorsGetMoreBits() {
    List<BitAllocator.Effect> e = new ArrayList<>();
    for (int b : MixedPrecision.WIDTHS) {
      QuantCodec c = QuantCodec.blockwise(b, false, 32);
      e.add(BitAllocator.Effect.uniform("robust", c, 1000L * b, 1e-4 * Math.pow(4, 4 - b)));
      e.add(BitAllocator.Effect.uniform("sensitive", c, 1000L * b, 1e-2 * Math.pow(4, 4 - b)));
    }
    Map<String, BitAllocator.Effect> plan = BitAllocator.allocate(e, 2e-3, 2e-3);
    assertTrue(bits(plan.get("sensitive")) > bits(plan.get("robust")), plan.toString());
  }

  @Test
  void theWorstSampleBudgetBuysBitsTheMeanAloneWouldNot() {
    // two tensors; "a" hurts one sample badly at 3 bits, "b" hurts every sample a little
    List<BitAllocator.Effect> e = new ArrayList<>();
    for (int b : MixedPrecision.WIDTHS) {
      QuantCodec c = QuantCodec.blockwise(b, false, 32);
      double f = Math.pow(4, 3 - b);
      e.add(new BitAllocator.Effect("a", c, 1000L * b, 0.01 * f, new double[] {0.04 * f, 0, 0, 0}));
      e.add(new BitAllocator.Effect("b", c, 1000L * b, 0.001 * f, new double[] {0.001 * f, 0.001 * f, 0.001 * f,
          0.001 * f}));
    }
    Map<String, BitAllocator.Effect> meanOnly = BitAllocator.allocate(e, 0.011, 1);
    Map<String, BitAllocator.Effect> both = BitAllocator.allocate(e, 0.011, 0.02);
    assertEquals(3, bits(meanOnly.get("a")), meanOnly.toString());
    assertTrue(bits(both.get("a")) > 3, both.toString());
    assertTrue(BitAllocator.fits(both.values(), 4, 0.011, 0.02));
  }

  /** Anchors spread over the ranking by weight error, never the two extremes. */
  @Test
  void anchorsSpreadOverTheErrorRanking() {
    double[] sse = {9, 1, 7, 3, 5, 8, 2, 6, 4}; // ranked largest first: 9 8 7 6 5 4 3 2 1
    boolean[] two = BitAllocator.anchorsOf(sse, 2);
    // positions round(1 * 8 / 3) = 3 and round(2 * 8 / 3) = 5 of the ranking: errors 6 and 4
    assertTrue(two[7] && two[8]);
    assertEquals(2, count(two));
    assertEquals(9, count(BitAllocator.anchorsOf(sse, 0)));
    assertEquals(9, count(BitAllocator.anchorsOf(sse, 9)));
  }

  /**
   * When the output effect follows a power of the weight error (here exactly), predicting from
   * two anchors gives every other candidate's per-sample effects back.
   */
  @Test
  void predictionRecoversAPowerLawFromTwoAnchors() {
    double[] sse = {1e-2, 3e-3, 1e-3, 4e-4, 1e-4, 2e-5};
    double[] sample = {1.0, 0.5, 2.0};
    double[][] truth = new double[sse.length][sample.length];
    for (int c = 0; c < sse.length; c++) {
      for (int i = 0; i < sample.length; i++) {
        truth[c][i] = 0.3 * sample[i] * Math.pow(sse[c], 1.2);
      }
    }
    boolean[] measured = BitAllocator.anchorsOf(sse, 2);
    double[][] per = new double[sse.length][];
    for (int c = 0; c < sse.length; c++) {
      per[c] = measured[c] ? truth[c].clone() : null;
    }
    BitAllocator.predict(per, sse, measured);
    for (int c = 0; c < sse.length; c++) {
      for (int i = 0; i < sample.length; i++) {
        assertEquals(truth[c][i], per[c][i], 1e-9 * truth[c][i], "candidate " + c + " sample " + i);
      }
    }
  }

  private static int count(boolean[] b) {
    int n = 0;
    for (boolean x : b) {
      n += x ? 1 : 0;
    }
    return n;
  }

  private static int bits(BitAllocator.Effect e) {
    return ((QuantCodec) e.codec()).bits();
  }
}
