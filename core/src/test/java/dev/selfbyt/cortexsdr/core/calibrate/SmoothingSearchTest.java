package dev.selfbyt.cortexsdr.core.calibrate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class SmoothingSearchTest {
  static final int K = 96;
  static final int N = 40;

  /** Rows of Gaussian activations, channels in {@code loud} scaled by {@code gain}. */
  static List<float[]> rows(int m, int[] loud, float gain, long seed) {
    Random r = new Random(seed);
    List<float[]> rows = new ArrayList<>();
    for (int i = 0; i < m; i++) {
      float[] x = new float[K];
      for (int j = 0; j < K; j++) {
        x[j] = (float) r.nextGaussian();
      }
      for (int j : loud) {
        x[j] *= gain;
      }
      rows.add(x);
    }
    return rows;
  }

  static float[] weights(long seed) {
    Random r = new Random(seed);
    float[] w = new float[K * N];
    for (int i = 0; i < w.length; i++) {
      w[i] = (float) (r.nextGaussian() * 0.05);
    }
    return w;
  }

  static float[][] range(List<float[]> rows) {
    float[] min = new float[K];
    float[] max = new float[K];
    for (float[] x : rows) {
      for (int j = 0; j < K; j++) {
        min[j] = Math.min(min[j], x[j]);
        max[j] = Math.max(max[j], x[j]);
      }
    }
    return new float[][] {min, max};
  }

  @Test
  void aFewLoudChannelsAreMigratedIntoTheWeights() {
    List<float[]> x = rows(64, new int[] {3, 50}, 80f, 1);
    float[][] r = range(x);
    SmoothingSearch.Result res = SmoothingSearch.best(x, K, r[0], r[1], List.of(weights(2), weights(3)),
        new int[] {N, N}, SmoothingSearch.ALPHAS);
    assertTrue(res.alpha() > 0, "loud channels: smoothing chosen, got alpha " + res.alpha());
    double plain = res.errors()[0]; // ALPHAS[0] == 0: no smoothing
    assertTrue(res.error() * 4 < plain, "smoothing cuts the product error: " + res.error() + " vs " + plain);
  }

  @Test
  void evenActivationsNeedNoMigrationToRoundWell() {
    List<float[]> x = rows(64, new int[0], 1f, 4);
    float[][] r = range(x);
    SmoothingSearch.Result res = SmoothingSearch.best(x, K, r[0], r[1], List.of(weights(5)), new int[] {N},
        SmoothingSearch.ALPHAS);
    // int8 x int8 of even Gaussian data: about 1e-4 relative squared error whatever alpha
    assertTrue(res.errors()[0] < 1e-3, "plain rounding error " + res.errors()[0]);
    assertTrue(res.error() <= res.errors()[0]);
  }

  @Test
  void theRangeIsTheCalibrationSetsNotTheRowsMeasured() {
    List<float[]> x = rows(32, new int[0], 1f, 6);
    float[][] r = range(x);
    float[] wideMax = r[1].clone();
    wideMax[7] = 500f; // another sample in the set reached 500 on channel 7
    double narrow = SmoothingSearch.error(x, K, r[0], r[1], List.of(weights(7)), new int[] {N}, ones());
    double wide = SmoothingSearch.error(x, K, r[0], wideMax, List.of(weights(7)), new int[] {N}, ones());
    assertTrue(wide > 100 * narrow, "a wider range coarsens every step: " + wide + " vs " + narrow);
  }

  @Test
  void scalesFollowSmoothQuantsFormula() {
    float[] s = SmoothingSearch.scales(new float[] {16f, 0f, 4f}, new float[] {0.25f, 1f, 0f}, 0.5);
    assertEquals(Math.sqrt(16) / Math.sqrt(0.25), s[0], 1e-6);
    assertEquals(1f, s[1]);
    assertEquals(1f, s[2]);
    assertEquals(1f, SmoothingSearch.scales(new float[] {16f}, new float[] {0.25f}, 0)[0]);
  }

  static float[] ones() {
    float[] s = new float[K];
    java.util.Arrays.fill(s, 1f);
    return s;
  }
}
