package dev.selfbyt.cortexsdr.core.calibrate;

import dev.selfbyt.cortexsdr.core.codec.QuantCodec;
import dev.selfbyt.cortexsdr.core.tensor.DType;
import dev.selfbyt.cortexsdr.core.tensor.TensorData;
import dev.selfbyt.cortexsdr.core.tensor.TensorInfo;
import dev.selfbyt.cortexsdr.core.tensor.TensorRole;
import java.util.Arrays;

/**
 * {@link ActivationScaling} for a weight of any layout, seen as {@link FiberGptq} sees it (fibers
 * along the reduction axis, split into groups with one Hessian each): a convolution's fibers hold
 * {@code C/g * prod(k)} values, {@code prod(k)} per input channel, so one scale per input channel
 * covers a run of {@code span = prod(k)} fiber values; a Gemm or a recurrent {@code W} has one
 * value per input channel ({@code span = 1}), and the directions of a recurrent node read the same
 * input (their groups share the channels).
 *
 * <p>The scales are {@code s_c = a_c^alpha} with {@code a_c} the RMS of input channel {@code c}
 * (the mean of its diagonal entries of {@code X^T X}), alpha from {@link ActivationScaling#ALPHAS}
 * chosen by the plain-rounding output error {@code sum_f dW_f^T H_g dW_f} on a subset of fibers.
 * With error compensation the chosen alpha is then checked with GPTQ on the whole weight against
 * GPTQ alone, and kept only where it gives the lower output error: scaling never makes the
 * measured layer error worse than what the caller had without it.
 *
 * <p>A depthwise convolution ({@code C/g = 1}) has one input channel per fiber: a scale per
 * channel multiplies whole fibers, which the per-fiber block scales absorb, so it cannot change
 * the rounding; callers skip those.
 */
public final class FiberScaling {
  /** Fibers per group the alpha search measures (evenly spaced): the search stays cheap. */
  static final int SEARCH_FIBERS = 64;

  private FiberScaling() {}

  /**
   * How fiber positions map to input channels: position {@code j} of a fiber in group {@code g}
   * reads channel {@code g * channelsPerGroup + j / span} ({@code channelsPerGroup = 0}: every
   * group reads the same channels, as the directions of a recurrent node do).
   */
  public record Layout(int channels, int span, int channelsPerGroup) {
    /** The input channel of fiber position {@code j} in group {@code g}. */
    public int channel(int g, int j) {
      return g * channelsPerGroup + j / span;
    }
  }

  /**
   * What the search chose.
   *
   * @param scales one per input channel (all 1 when not scaled)
   * @param alpha the exponent kept (0: not scaled)
   * @param error the layer output error of the kept rounding
   * @param unscaledError the same without scaling (GPTQ alone, or plain rounding)
   * @param rounded the kept GPTQ result on the scaled weight (null without error compensation, or
   *     when not scaled)
   * @param unscaled the GPTQ result without scaling (null without error compensation)
   */
  public record Result(float[] scales, double alpha, double error, double unscaledError, Gptq.Result rounded,
      Gptq.Result unscaled) {
    /** Whether scaling was kept. */
    public boolean scaled() {
      return alpha > 0;
    }
  }

  /**
   * @param w the weight in natural order
   * @param info its shape and reduction axis
   * @param hessians one per fiber group, as {@link FiberGptq#quantize} takes them
   * @param layout the input channel of each fiber position
   * @param codec the block-wise codec it will be stored with
   * @param gptq whether GPTQ rounds it (else plain rounding)
   * @param damping GPTQ's relative damping
   */
  public static Result search(float[] w, TensorInfo info, Hessian[] hessians, Layout layout, QuantCodec codec,
      boolean gptq, double damping) {
    return search(w, info, hessians, layout, codec, gptq, damping, false);
  }

  /**
   * As {@link #search(float[], TensorInfo, Hessian[], Layout, QuantCodec, boolean, double)}; with
   * {@code powersOfTwo} every scale is rounded to a power of two (in the log), so that dividing a
   * producer's weights and block scales by it is exact.
   */
  public static Result search(float[] w, TensorInfo info, Hessian[] hessians, Layout layout, QuantCodec codec,
      boolean gptq, double damping, boolean powersOfTwo) {
    int r = Math.toIntExact(info.fiberLength());
    int groups = hessians.length;
    double[] rms = channelRms(hessians, layout, r);
    double max = Arrays.stream(rms).max().orElse(0);
    Gptq.Result unscaled = gptq ? FiberGptq.quantize(w, info, codec, hessians, damping) : null;
    double[][] hm = new double[groups][];
    for (int g = 0; g < groups; g++) {
      hm[g] = hessians[g].matrix();
    }
    double unscaledError = gptq ? error(w, decoded(info, codec, unscaled), info, hm) : Double.NaN;
    float[] ones = new float[layout.channels()];
    Arrays.fill(ones, 1f);
    if (max == 0) {
      return new Result(ones, 0, unscaledError, unscaledError, null, unscaled);
    }
    // the alpha search: plain rounding of a subset of fibers, in the scaled space
    int[] picked = subset(info, groups);
    double bestAlpha = 0;
    double best = Double.POSITIVE_INFINITY;
    double plain = 0;
    for (double alpha : ActivationScaling.ALPHAS) {
      float[] s = scales(rms, max, alpha, powersOfTwo);
      double e = plainError(w, info, hm, layout, s, codec, picked);
      if (alpha == 0) {
        plain = e;
      }
      if (e < best) {
        best = e;
        bestAlpha = alpha;
      }
    }
    if (!gptq) {
      return bestAlpha == 0 ? new Result(ones, 0, plain, plain, null, null)
          : new Result(scales(rms, max, bestAlpha, powersOfTwo), bestAlpha, best, plain, null, null);
    }
    if (bestAlpha == 0) {
      return new Result(ones, 0, unscaledError, unscaledError, null, unscaled);
    }
    // GPTQ on the scaled weight, its error measured in the scaled space (the same number as in the
    // original space: dW' = s dW and H' = H / (s s^T))
    float[] s = scales(rms, max, bestAlpha, powersOfTwo);
    float[] ws = scaleWeight(w, info, layout, s, groups);
    Hessian[] hs = scaleHessians(hessians, layout, s, r);
    double[][] hsm = new double[groups][];
    for (int g = 0; g < groups; g++) {
      hsm[g] = hs[g].matrix();
    }
    Gptq.Result scaled = FiberGptq.quantize(ws, info, codec, hs, damping);
    double e = error(ws, decoded(info, codec, scaled), info, hsm);
    return e < unscaledError ? new Result(s, bestAlpha, e, unscaledError, scaled, unscaled)
        : new Result(ones, 0, unscaledError, unscaledError, null, unscaled);
  }

  /** {@link ActivationScaling#scales}, each rounded to the nearest power of two with {@code powersOfTwo}. */
  static float[] scales(double[] rms, double max, double alpha, boolean powersOfTwo) {
    float[] s = ActivationScaling.scales(rms, max, alpha);
    if (powersOfTwo) {
      for (int i = 0; i < s.length; i++) {
        s[i] = (float) Math.scalb(1.0, (int) Math.round(Math.log(s[i]) / Math.log(2)));
      }
    }
    return s;
  }

  /** The RMS of each input channel: the root of the mean of its diagonal entries over its positions. */
  static double[] channelRms(Hessian[] hessians, Layout layout, int r) {
    double[] sum = new double[layout.channels()];
    int[] count = new int[layout.channels()];
    for (int g = 0; g < hessians.length; g++) {
      double[] m = hessians[g].matrix();
      double rows = Math.max(1, hessians[g].rows());
      for (int j = 0; j < r; j++) {
        int c = layout.channel(g, j);
        sum[c] += Math.max(0, m[j * r + j]) / rows;
        count[c]++;
      }
    }
    double[] rms = new double[sum.length];
    for (int c = 0; c < rms.length; c++) {
      rms[c] = count[c] == 0 ? 0 : Math.sqrt(sum[c] / count[c]);
    }
    return rms;
  }

  /** The weight with every value multiplied by its input channel's scale (natural order). */
  public static float[] scaleWeight(float[] w, TensorInfo info, Layout layout, float[] s, int groups) {
    int r = Math.toIntExact(info.fiberLength());
    int inner = Math.toIntExact(info.inner());
    int fibers = Math.toIntExact(info.outer() * info.inner());
    int perGroup = fibers / groups;
    float[] out = new float[w.length];
    for (int f = 0; f < fibers; f++) {
      int g = f / perGroup;
      int base = natural(f, inner, r);
      for (int j = 0; j < r; j++) {
        out[base + j * inner] = w[base + j * inner] * s[layout.channel(g, j)];
      }
    }
    return out;
  }

  /** Each group's Hessian of the scaled input {@code x / s}: {@code H_jl / (s_j s_l)}. */
  public static Hessian[] scaleHessians(Hessian[] hessians, Layout layout, float[] s, int r) {
    Hessian[] out = new Hessian[hessians.length];
    java.util.Map<Hessian, Hessian> done = new java.util.IdentityHashMap<>();
    for (int g = 0; g < hessians.length; g++) {
      float[] per = new float[r];
      for (int j = 0; j < r; j++) {
        per[j] = s[layout.channel(g, j)];
      }
      Hessian h = hessians[g];
      // groups sharing one Hessian (directions over one input) share one channel map too
      out[g] = layout.channelsPerGroup() == 0 ? done.computeIfAbsent(h, x -> x.dividedBy(per)) : h.dividedBy(per);
    }
    return out;
  }

  /** {@code sum_f (w - q)_f^T H_g (w - q)_f} over every fiber. */
  static double error(float[] w, float[] q, TensorInfo info, double[][] hm) {
    int r = Math.toIntExact(info.fiberLength());
    int inner = Math.toIntExact(info.inner());
    int fibers = Math.toIntExact(info.outer() * info.inner());
    int perGroup = fibers / hm.length;
    double[] d = new double[r];
    double total = 0;
    for (int f = 0; f < fibers; f++) {
      int base = natural(f, inner, r);
      for (int j = 0; j < r; j++) {
        d[j] = (double) w[base + j * inner] - q[base + j * inner];
      }
      total += quadratic(hm[f / perGroup], d, r);
    }
    return total;
  }

  /** Plain rounding error of the picked fibers, scaled by {@code s}, in the scaled space. */
  private static double plainError(float[] w, TensorInfo info, double[][] hm, Layout layout, float[] s,
      QuantCodec codec, int[] picked) {
    int r = Math.toIntExact(info.fiberLength());
    int inner = Math.toIntExact(info.inner());
    int fibers = Math.toIntExact(info.outer() * info.inner());
    int perGroup = fibers / hm.length;
    float[] rows = new float[picked.length * r];
    for (int i = 0; i < picked.length; i++) {
      int f = picked[i];
      int base = natural(f, inner, r);
      for (int j = 0; j < r; j++) {
        rows[i * r + j] = w[base + j * inner] * s[layout.channel(f / perGroup, j)];
      }
    }
    TensorInfo sub = new TensorInfo("search", DType.FLOAT32, new long[] {picked.length, r}, TensorRole.OTHER, 1);
    float[] q = codec.decode(sub, codec.encode(TensorData.ofFloats(sub, rows))).floats();
    double[] d = new double[r];
    double total = 0;
    for (int i = 0; i < picked.length; i++) {
      int g = picked[i] / perGroup;
      for (int j = 0; j < r; j++) {
        double sj = s[layout.channel(g, j)];
        d[j] = (rows[i * r + j] - (double) q[i * r + j]) / sj; // back in the original space
      }
      total += quadratic(hm[g], d, r);
    }
    return total;
  }

  private static double quadratic(double[] h, double[] d, int r) {
    double total = 0;
    for (int j = 0; j < r; j++) {
      if (d[j] == 0) {
        continue;
      }
      double acc = 0;
      int row = j * r;
      for (int l = 0; l < r; l++) {
        acc += h[row + l] * d[l];
      }
      total += d[j] * acc;
    }
    return total;
  }

  /** Up to {@link #SEARCH_FIBERS} evenly spaced fibers of each group. */
  private static int[] subset(TensorInfo info, int groups) {
    int fibers = Math.toIntExact(info.outer() * info.inner());
    int perGroup = fibers / groups;
    int m = Math.min(SEARCH_FIBERS, perGroup);
    int[] out = new int[groups * m];
    for (int g = 0; g < groups; g++) {
      for (int c = 0; c < m; c++) {
        out[g * m + c] = g * perGroup + (int) ((long) c * perGroup / m);
      }
    }
    return out;
  }

  private static float[] decoded(TensorInfo info, QuantCodec codec, Gptq.Result r) {
    return codec.decode(info, codec.encode(TensorData.ofFloats(info, r.values()).withGrid(r.grid()))).floats();
  }

  private static int natural(int f, int inner, int r) {
    int o = f / inner;
    int i = f % inner;
    return o * r * inner + i;
  }
}
