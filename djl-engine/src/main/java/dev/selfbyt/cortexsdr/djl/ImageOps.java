package dev.selfbyt.cortexsdr.djl;

import dev.selfbyt.cortexsdr.djl.graph.Value;

/**
 * Image resizing for DJL's {@code NDImageUtils.resize} (an {@code [H, W, C]} or {@code [N, H, W,
 * C]} image) and {@code NDArrayEx.interpolation} ({@code [N, C, H, W]}): nearest, bilinear and
 * area (mean over the covered source box) interpolation with PyTorch's {@code
 * F.interpolate(align_corners=False)} arithmetic, computed in double, float32 out (what DJL's
 * PyTorch engine returns). Bicubic is not implemented here.
 */
final class ImageOps {
  /** DJL's {@code Image.Interpolation} ordinals. */
  static final int NEAREST = 0;
  static final int BILINEAR = 1;
  static final int AREA = 2;

  private ImageOps() {}

  static boolean supports(int mode) {
    return mode == NEAREST || mode == BILINEAR || mode == AREA;
  }

  /** Resizes the planes of {@code [..., H, W]} values ({@code planes} of them) to {@code oh x ow}. */
  static double[] resizePlanes(double[] in, int planes, int h, int w, int oh, int ow, int mode, boolean alignCorners) {
    double[] out = new double[planes * oh * ow];
    for (int p = 0; p < planes; p++) {
      for (int y = 0; y < oh; y++) {
        for (int x = 0; x < ow; x++) {
          out[(p * oh + y) * ow + x] = sample(in, p * h * w, h, w, oh, ow, y, x, mode, alignCorners);
        }
      }
    }
    return out;
  }

  private static double sample(double[] in, int base, int h, int w, int oh, int ow, int y, int x, int mode,
      boolean alignCorners) {
    double sy = (double) h / oh;
    double sx = (double) w / ow;
    switch (mode) {
      case NEAREST -> {
        int iy = Math.min((int) Math.floor(y * sy), h - 1);
        int ix = Math.min((int) Math.floor(x * sx), w - 1);
        return in[base + iy * w + ix];
      }
      case AREA -> {
        int y0 = (int) Math.floor(y * sy);
        int y1 = (int) Math.ceil((y + 1) * sy);
        int x0 = (int) Math.floor(x * sx);
        int x1 = (int) Math.ceil((x + 1) * sx);
        double sum = 0;
        for (int iy = y0; iy < y1; iy++) {
          for (int ix = x0; ix < x1; ix++) {
            sum += in[base + iy * w + ix];
          }
        }
        return sum / ((y1 - y0) * (x1 - x0));
      }
      default -> {
        double fy = source(y, sy, h, oh, alignCorners);
        double fx = source(x, sx, w, ow, alignCorners);
        int y0 = (int) Math.floor(fy);
        int x0 = (int) Math.floor(fx);
        int y1 = Math.min(y0 + 1, h - 1);
        int x1 = Math.min(x0 + 1, w - 1);
        double ly = fy - y0;
        double lx = fx - x0;
        return (1 - ly) * ((1 - lx) * in[base + y0 * w + x0] + lx * in[base + y0 * w + x1])
            + ly * ((1 - lx) * in[base + y1 * w + x0] + lx * in[base + y1 * w + x1]);
      }
    }
  }

  /** The source coordinate of output coordinate {@code o} for linear interpolation. */
  private static double source(int o, double scale, int in, int out, boolean alignCorners) {
    if (alignCorners) {
      return out > 1 ? (double) o * (in - 1) / (out - 1) : 0;
    }
    return Math.max(0, (o + 0.5) * scale - 0.5);
  }

  /** {@code [N, C, H, W]} (or {@code [C, H, W]}) resized to {@code size = [oh, ow]}. */
  static Value interpolate(Value v, long[] size, int mode, boolean alignCorners) {
    if (v.rank() < 3 || size.length != 2) {
      throw new IllegalArgumentException("interpolation needs [N, C, H, W] or [C, H, W] and a [height, width] size, got "
          + java.util.Arrays.toString(v.shape()) + " and " + java.util.Arrays.toString(size));
    }
    long[] s = v.shape();
    int h = (int) s[s.length - 2];
    int w = (int) s[s.length - 1];
    int planes = v.size() / Math.max(1, h * w);
    double[] r = resizePlanes(Dense.doubles(v), planes, h, w, (int) size[0], (int) size[1], mode, alignCorners);
    long[] out = s.clone();
    out[s.length - 2] = size[0];
    out[s.length - 1] = size[1];
    return Dense.floats(out, r);
  }

  /** An {@code [H, W, C]} or {@code [N, H, W, C]} image resized to {@code height x width}, float32. */
  static Value resizeHwc(Value v, int width, int height, int mode) {
    if (v.rank() != 3 && v.rank() != 4) {
      throw new IllegalArgumentException("resize needs an [H, W, C] or [N, H, W, C] image, got "
          + java.util.Arrays.toString(v.shape()));
    }
    long[] s = v.shape();
    int r = s.length;
    int n = r == 4 ? (int) s[0] : 1;
    int h = (int) s[r - 3];
    int w = (int) s[r - 2];
    int c = (int) s[r - 1];
    double[] in = Dense.doubles(v);
    double[] planes = new double[in.length];
    for (int b = 0; b < n; b++) {
      for (int y = 0; y < h; y++) {
        for (int x = 0; x < w; x++) {
          for (int ch = 0; ch < c; ch++) {
            planes[((b * c + ch) * h + y) * w + x] = in[((b * h + y) * w + x) * c + ch];
          }
        }
      }
    }
    double[] o = resizePlanes(planes, n * c, h, w, height, width, mode, false);
    double[] hwc = new double[o.length];
    for (int b = 0; b < n; b++) {
      for (int ch = 0; ch < c; ch++) {
        for (int y = 0; y < height; y++) {
          for (int x = 0; x < width; x++) {
            hwc[((b * height + y) * width + x) * c + ch] = o[((b * c + ch) * height + y) * width + x];
          }
        }
      }
    }
    long[] out = r == 4 ? new long[] {n, height, width, c} : new long[] {height, width, c};
    return Dense.floats(out, hwc);
  }
}
