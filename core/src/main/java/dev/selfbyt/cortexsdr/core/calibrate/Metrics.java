package dev.selfbyt.cortexsdr.core.calibrate;

/** How close a compressed model's output stays to the original's. */
public final class Metrics {
  private Metrics() {}

  /** Cosine similarity of two vectors of the same length (1 when both are zero, 0 when one is). */
  public static double cosine(float[] a, float[] b) {
    if (a.length != b.length) {
      throw new IllegalArgumentException("lengths differ: " + a.length + " and " + b.length);
    }
    double ab = 0;
    double aa = 0;
    double bb = 0;
    for (int i = 0; i < a.length; i++) {
      ab += a[i] * (double) b[i];
      aa += a[i] * (double) a[i];
      bb += b[i] * (double) b[i];
    }
    return aa == 0 || bb == 0 ? (aa == bb ? 1 : 0) : ab / Math.sqrt(aa * bb);
  }
}
