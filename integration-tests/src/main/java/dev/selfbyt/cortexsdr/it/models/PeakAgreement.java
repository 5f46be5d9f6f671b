package dev.selfbyt.cortexsdr.it.models;

/**
 * Agreement of two peak maps, for outputs that are mostly zeros with a few selected peaks (a
 * detector's scores after its own non-maximum suppression): the positions whose value reaches a
 * threshold in each map, compared as sets. A cosine over such a map counts a peak that moves by
 * one pixel as two wrong entries; this says how many detections stay where they were.
 */
public final class PeakAgreement {
  private PeakAgreement() {}

  /** True when at least {@code fraction} of {@code x}'s entries are exactly zero. */
  public static boolean isSparse(float[] x, double fraction) {
    int zeros = 0;
    for (float v : x) {
      if (v == 0f) {
        zeros++;
      }
    }
    return zeros >= fraction * x.length;
  }

  /**
   * Counts of the peaks at or above {@code threshold}: {@code [in reference, in other, in both at
   * the same index]}.
   */
  public static int[] counts(float[] reference, float[] other, float threshold) {
    int a = 0;
    int b = 0;
    int both = 0;
    for (int i = 0; i < reference.length; i++) {
      boolean p = reference[i] >= threshold;
      boolean q = other[i] >= threshold;
      a += p ? 1 : 0;
      b += q ? 1 : 0;
      both += p && q ? 1 : 0;
    }
    return new int[] {a, b, both};
  }

  /** Intersection over union of the peak sets of summed {@link #counts} (1 when both are empty). */
  public static double jaccard(int[] counts) {
    int union = counts[0] + counts[1] - counts[2];
    return union == 0 ? 1 : counts[2] / (double) union;
  }

  /**
   * Peaks matched within {@code radius} pixels (Chebyshev distance) on an {@code h x w} map:
   * {@code [in reference, in other, reference peaks with an other peak near, other peaks with a
   * reference peak near]}.
   */
  public static int[] near(float[] reference, float[] other, int h, int w, float threshold, int radius) {
    int[] c = new int[4];
    for (int i = 0; i < reference.length; i++) {
      if (reference[i] >= threshold) {
        c[0]++;
        c[2] += any(other, i, h, w, threshold, radius) ? 1 : 0;
      }
      if (other[i] >= threshold) {
        c[1]++;
        c[3] += any(reference, i, h, w, threshold, radius) ? 1 : 0;
      }
    }
    return c;
  }

  private static boolean any(float[] map, int at, int h, int w, float threshold, int radius) {
    int y = at / w;
    int x = at % w;
    for (int dy = -radius; dy <= radius; dy++) {
      for (int dx = -radius; dx <= radius; dx++) {
        int yy = y + dy;
        int xx = x + dx;
        if (yy >= 0 && xx >= 0 && yy < h && xx < w && map[yy * w + xx] >= threshold) {
          return true;
        }
      }
    }
    return false;
  }
}
