package dev.selfbyt.cortexsdr.converters.onnx;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** The allocation on measured effects: within budget, never larger than one width for all. */
class BitAllocatorTest {
  static final int[] WIDTHS = {3, 4, 5, 6, 8};

  /** Tensors of assorted sizes and sensitivities; distortion falls 4x per extra bit. */
  static List<BitAllocator.Effect> effects(long seed, int tensors) {
    SplittableRandom r = new SplittableRandom(seed);
    List<BitAllocator.Effect> out = new ArrayList<>();
    for (int t = 0; t < tensors; t++) {
      long numel = 4096L * (1 + r.nextInt(64));
      double sensitivity = Math.exp(r.nextDouble(-4, 2));
      for (int b : WIDTHS) {
        out.add(new BitAllocator.Effect("t" + t, b, numel * b / 8 + numel / 16,
            sensitivity * 1e-3 * Math.pow(4, 4 - b)));
      }
    }
    return out;
  }

  @Test
  void staysWithinBudgetAndNeverExceedsAUniformPlan() {
    for (long seed = 1; seed <= 20; seed++) {
      List<BitAllocator.Effect> e = effects(seed, 30);
      Map<String, List<BitAllocator.Effect>> by = BitAllocator.byTensor(e);
      for (double budget : new double[] {1e-4, 1e-3, 1e-2, 5e-2}) {
        Map<String, Integer> plan = BitAllocator.allocate(e, budget);
        assertEquals(30, plan.size());
        double d = 0;
        for (BitAllocator.Effect x : e) {
          if (plan.get(x.tensor()) == x.bits()) {
            d += x.distortion();
          }
        }
        long bytes = BitAllocator.bytes(by, plan);
        for (int w : WIDTHS) {
          double dw = e.stream().filter(x -> x.bits() == w).mapToDouble(BitAllocator.Effect::distortion).sum();
          long bw = e.stream().filter(x -> x.bits() == w).mapToLong(BitAllocator.Effect::bytes).sum();
          if (dw <= budget) {
            assertTrue(d <= budget, "within budget " + budget + ": " + d);
            assertTrue(bytes <= bw, "seed " + seed + " budget " + budget + ": " + bytes + " > uniform " + w + "-bit " + bw);
          }
        }
      }
    }
  }

  @Test
  void sensitiveTensorsGetMoreBits() {
    List<BitAllocator.Effect> e = new ArrayList<>();
    for (int b : WIDTHS) {
      e.add(new BitAllocator.Effect("robust", b, 1000L * b, 1e-4 * Math.pow(4, 4 - b)));
      e.add(new BitAllocator.Effect("sensitive", b, 1000L * b, 1e-2 * Math.pow(4, 4 - b)));
    }
    Map<String, Integer> plan = BitAllocator.allocate(e, 2e-3);
    assertTrue(plan.get("sensitive") > plan.get("robust"), plan.toString());
  }
}
