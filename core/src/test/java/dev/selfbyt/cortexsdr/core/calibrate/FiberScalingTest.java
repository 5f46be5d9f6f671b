package dev.selfbyt.cortexsdr.core.calibrate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.selfbyt.cortexsdr.core.codec.QuantCodec;
import dev.selfbyt.cortexsdr.core.tensor.DType;
import dev.selfbyt.cortexsdr.core.tensor.TensorInfo;
import dev.selfbyt.cortexsdr.core.tensor.TensorRole;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * Activation-aware scaling for a convolution layout: the scaled weight times the scaled input is
 * the original product, the search keeps scaling only where GPTQ's layer error drops, and on
 * inputs with outlier channels it does drop.
 */
class FiberScalingTest {
  static final int C = 8;
  static final int SPAN = 9;
  static final int OUT = 32;

  /** Patch rows {@code [rows, C * 9]} whose channels differ in size ({@code sizes[c]}). */
  static Hessian patches(double[] sizes, long seed) {
    SplittableRandom r = new SplittableRandom(seed);
    Hessian h = new Hessian(C * SPAN);
    float[] row = new float[C * SPAN];
    for (int n = 0; n < 2000; n++) {
      for (int c = 0; c < C; c++) {
        double base = r.nextDouble();
        for (int j = 0; j < SPAN; j++) {
          row[c * SPAN + j] = (float) (sizes[c] * (base + 0.2 * r.nextGaussian()));
        }
      }
      h.add(row, 0, 1);
    }
    return h;
  }

  static float[] weight(long seed) {
    SplittableRandom r = new SplittableRandom(seed);
    float[] w = new float[OUT * C * SPAN];
    for (int i = 0; i < w.length; i++) {
      w[i] = (float) (0.1 * r.nextGaussian());
    }
    return w;
  }

  static final TensorInfo INFO = new TensorInfo("w", DType.FLOAT32, new long[] {OUT, C, 3, 3}, TensorRole.CONV_WEIGHT, 1);
  static final FiberScaling.Layout LAYOUT = new FiberScaling.Layout(C, SPAN, C);

  @Test
  void scaledWeightTimesScaledInputIsTheOriginalProduct() {
    float[] w = weight(1);
    float[] s = {0.5f, 2f, 3f, 0.25f, 1f, 8f, 0.1f, 1.5f};
    float[] ws = FiberScaling.scaleWeight(w, INFO, LAYOUT, s, 1);
    SplittableRandom r = new SplittableRandom(2);
    float[] x = new float[C * SPAN];
    for (int i = 0; i < x.length; i++) {
      x[i] = (float) r.nextGaussian();
    }
    for (int o = 0; o < OUT; o++) {
      double a = 0;
      double b = 0;
      for (int j = 0; j < C * SPAN; j++) {
        a += w[o * C * SPAN + j] * (double) x[j];
        b += ws[o * C * SPAN + j] * (double) (x[j] / s[j / SPAN]);
      }
      assertEquals(a, b, 1e-5 * Math.max(1, Math.abs(a)));
    }
  }

  @Test
  void outlierChannelsAreScaledAndGptqErrorDrops() {
    double[] sizes = {0.05, 30, 0.1, 0.2, 20, 0.05, 1, 0.3};
    Hessian h = patches(sizes, 3);
    FiberScaling.Result r = FiberScaling.search(weight(4), INFO, new Hessian[] {h}, LAYOUT,
        QuantCodec.blockwise(4, false, 32), true, 0.01);
    assertTrue(r.scaled(), "alpha " + r.alpha());
    assertTrue(r.error() < 0.9 * r.unscaledError(), r.error() + " vs GPTQ alone " + r.unscaledError());
    assertTrue(r.scales()[1] > r.scales()[0], "the larger channel gets the larger scale");
  }

  @Test
  void evenChannelsKeepGptqAloneUnlessScalingWins() {
    double[] sizes = {1, 1, 1, 1, 1, 1, 1, 1};
    Hessian h = patches(sizes, 5);
    FiberScaling.Result r = FiberScaling.search(weight(6), INFO, new Hessian[] {h}, LAYOUT,
        QuantCodec.blockwise(4, false, 32), true, 0.01);
    assertTrue(r.error() <= r.unscaledError(), "never worse than GPTQ alone");
    if (!r.scaled()) {
      assertEquals(r.unscaledError(), r.error());
    }
  }
}
