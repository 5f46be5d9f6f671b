package dev.selfbyt.cortexsdr.it.models;

import java.util.SplittableRandom;

/**
 * Synthetic inputs for the M-LSD line detectors ({@code [1, h, w, 4]} NHWC): a grey background
 * crossed by eight light lines of seeded random ends, an alpha channel of ones, the kind of picture
 * a line detector is for (as ConvNetIT draws them).
 */
public final class LineScenes {
  private LineScenes() {}

  /** An NHWC image {@code [1, h, w, c]}: grey, eight random light lines, last channel 1. */
  public static float[] scene(long[] shape, long seed) {
    int h = (int) shape[1];
    int w = (int) shape[2];
    int c = (int) shape[3];
    float[] x = new float[h * w * c];
    for (int p = 0; p < h * w; p++) {
      for (int k = 0; k < c; k++) {
        x[p * c + k] = k == 3 ? 1f : 0.2f;
      }
    }
    SplittableRandom r = new SplittableRandom(seed);
    for (int l = 0; l < 8; l++) {
      double x0 = r.nextDouble(w);
      double y0 = r.nextDouble(h);
      double x1 = r.nextDouble(w);
      double y1 = r.nextDouble(h);
      for (int t = 0; t <= 400; t++) {
        int px = (int) (x0 + (x1 - x0) * t / 400);
        int py = (int) (y0 + (y1 - y0) * t / 400);
        for (int dy = -1; dy <= 1; dy++) {
          for (int dx = -1; dx <= 1; dx++) {
            int qx = px + dx;
            int qy = py + dy;
            if (qx >= 0 && qy >= 0 && qx < w && qy < h) {
              for (int k = 0; k < Math.min(3, c); k++) {
                x[(qy * w + qx) * c + k] = 0.9f;
              }
            }
          }
        }
      }
    }
    return x;
  }
}
