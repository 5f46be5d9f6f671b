package dev.selfbyt.cortexsdr.core.calibrate;

import dev.selfbyt.cortexsdr.core.codec.QuantCodec;
import dev.selfbyt.cortexsdr.core.codec.QuantGrid;

/**
 * Error-compensating rounding (GPTQ, Frantar et al. 2022) of a {@code [K, N]} weight used as
 * {@code Y = X W}, quantized along K in the blocks of a {@link QuantCodec}. Rows are rounded in
 * order; each row's error, divided by the pivot of the upper Cholesky factor {@code U} of {@code
 * (X^T X + lambda I)^-1}, is subtracted from the rows not yet rounded, weighted by {@code U}'s row.
 * A block's scale and zero point are taken from its values as they stand when its first row is
 * reached. With {@code X^T X = I} this is plain rounding.
 *
 * <p>Under super-block scales ({@link QuantCodec#withSuperScales}) each run of groups' fp16 super
 * scale is fixed before rounding, from the weight's ranges as given times 1.0625
 * (the updates may widen a block a little), and each group's scale is the smallest step of it
 * that covers the block when reached.
 */
public final class Gptq {
  /** Head room of super scales over the ranges before the updates. */
  static final float SUPER_MARGIN = 1.0625f;

  private Gptq() {}

  /**
   * The values as they were when rounded (row-major {@code [K, N]}) and the grid they were
   * rounded on; {@code TensorData.ofFloats(info, values).withGrid(grid)} encodes to GPTQ's codes.
   * {@code outputError}: what the rounding costs the layer, {@code tr(D^T X^T X D)} for {@code D =
   * W - Q} ({@link Hessian#outputError}), from GPTQ's own scaled errors (their squares sum to the
   * damped objective, less {@code lambda |D|^2}), so without a {@code K^2 N} product.
   */
  public record Result(float[] values, QuantGrid grid, double outputError) {
    /** A result whose output error was not measured (NaN). */
    public Result(float[] values, QuantGrid grid) {
      this(values, grid, Double.NaN);
    }
  }

  /**
   * @param w the weight, row-major {@code [K, N]}
   * @param codec a block-wise quant codec (its bits, symmetry and block size are used)
   * @param hessian {@code X^T X} of the weight's input
   * @param damping relative damping: {@code lambda = damping * mean(diag(X^T X))} (e.g. 0.01)
   */
  public static Result quantize(float[] w, int k, int n, QuantCodec codec, Hessian hessian, double damping) {
    return quantize(w, k, n, codec, hessian, damping, 1);
  }

  /**
   * As {@link #quantize(float[], int, int, QuantCodec, Hessian, double)}, the output columns split
   * over {@code threads} threads: each column is rounded on its own (its blocks, its errors, its
   * updates; only {@code U} is shared), so the result is the same for any number of threads.
   */
  public static Result quantize(float[] w, int k, int n, QuantCodec codec, Hessian hessian, double damping,
      int threads) {
    if (codec.granularity() != QuantCodec.Granularity.BLOCK) {
      throw new IllegalArgumentException("GPTQ here needs a block-wise codec, got " + codec.describe());
    }
    if (hessian.size() != k || w.length != k * n) {
      throw new IllegalArgumentException("shapes disagree: W has " + w.length + " values for [" + k + ", " + n
          + "], X^T X is " + hessian.size() + " wide");
    }
    double[] h = hessian.matrix();
    double[] wd = new double[k * n];
    for (int i = 0; i < wd.length; i++) {
      wd[i] = w[i];
    }
    double mean = 0;
    for (int i = 0; i < k; i++) {
      mean += h[i * k + i];
    }
    mean /= k;
    boolean[] dead = new boolean[k];
    for (int i = 0; i < k; i++) {
      if (h[i * k + i] == 0) { // an input that never fires: its weights cannot matter
        dead[i] = true;
        h[i * k + i] = 1;
        for (int c = 0; c < n; c++) {
          wd[i * n + c] = 0;
        }
      }
      h[i * k + i] += damping * (mean == 0 ? 1 : mean);
    }
    double lambda = damping * (mean == 0 ? 1 : mean);
    double[] u = Linalg.upperCholeskyOfInverse(h, k);

    int bits = codec.bits();
    int block = Math.min(codec.blockSize(), k);
    int groupsPerFiber = (k + block - 1) / block;
    float[] scales = new float[n * groupsPerFiber];
    int[] zps = new int[n * groupsPerFiber];
    float[] values = new float[k * n];
    float[] supers = codec.superScales() ? superScales(wd, k, n, block, groupsPerFiber, codec) : null;
    int parts = Math.max(1, Math.min(threads, n / 64)); // narrow weights: not worth a thread
    double[][] sums = new double[parts][];
    if (parts == 1) {
      sums[0] = round(wd, u, k, n, 0, n, codec, block, groupsPerFiber, supers, scales, zps, values, w, dead);
    } else {
      java.util.stream.IntStream.range(0, parts).parallel().forEach(p -> sums[p] = round(wd, u, k, n, n * p / parts,
          n * (p + 1) / parts, codec, block, groupsPerFiber, supers, scales, zps, values, w, dead));
    }
    // OBS: the summed squared scaled errors are the damped objective tr(D^T (X^T X + lambda I) D)
    // for D = W - Q; less lambda |D|^2, the layer's output error on the calibration data
    double damped = 0;
    double squared = 0;
    for (double[] part : sums) {
      damped += part[0];
      squared += part[1];
    }
    return new Result(values, new QuantGrid(bits, codec.symmetric(), codec.blockSize(), scales, zps, supers),
        Math.max(0, damped - lambda * squared));
  }

  /** Rows of {@code W} whose updates of the rows below are gathered before they are applied (about 128). */
  static int lazyRows(int block) {
    return block * Math.max(1, 128 / block);
  }

  /** Columns of a pass of the gathered updates: their errors ({@code lazyRows x 64} doubles) stay in L2. */
  static final int UPDATE_COLUMNS = 64;

  /**
   * Rounds columns {@code [c0, c1)} of {@code wd} row by row, updating the rows below (see the
   * class comment). The updates are gathered ("lazy batch" updates, as the GPTQ paper does): a run
   * of {@link #lazyRows} rows (whole quantization blocks, so a block's range is read after all the
   * updates that reach it) updates only its own rows as it goes, and then all rows below it in one
   * pass, a tile of columns at a time, while their errors are in cache; with the row-by-row order
   * the whole rest of {@code W} streamed from memory once per row. Every element receives the
   * same subtractions in the same order as row by row, so the result is the same to the bit.
   */
  private static double[] round(double[] wd, double[] u, int k, int n, int c0, int c1, QuantCodec codec, int block,
      int groupsPerFiber, float[] supers, float[] scales, int[] zps, float[] values, float[] w, boolean[] dead) {
    double damped = 0; // sum of the scaled errors squared
    double squared = 0; // sum of (w - q)^2 over the inputs that fire
    int bits = codec.bits();
    int maxq = (1 << bits) - 1;
    int lo = codec.symmetric() ? 1 : 0;
    int lazy = lazyRows(block);
    double[][] err = new double[lazy][n];
    for (int i1 = 0; i1 < k; i1 += lazy) {
      int i2 = Math.min(k, i1 + lazy);
      for (int i = i1; i < i2; i++) {
        int j = i / block;
        if (i % block == 0) {
          int end = Math.min(k, i + block);
          for (int c = c0; c < c1; c++) {
            float mn = Float.POSITIVE_INFINITY;
            float mx = Float.NEGATIVE_INFINITY;
            for (int r = i; r < end; r++) {
              float v = (float) wd[r * n + c];
              mn = Math.min(mn, v);
              mx = Math.max(mx, v);
            }
            float[] sz = supers == null ? codec.scaleAndZeroPoint(mn, mx)
                : codec.scaleAndZeroPoint(mn, mx, supers[(c * groupsPerFiber + j) / QuantCodec.SUPER_BLOCK]);
            scales[c * groupsPerFiber + j] = sz[0];
            zps[c * groupsPerFiber + j] = (int) sz[1];
          }
        }
        double pivot = u[i * k + i];
        double[] e = err[i - i1];
        for (int c = c0; c < c1; c++) {
          int g = c * groupsPerFiber + j;
          float s = scales[g];
          int z = zps[g];
          float x = (float) wd[i * n + c];
          values[i * n + c] = x;
          // the same float arithmetic as QuantCodec, so the codec reproduces these codes
          float inv = s == 0f ? 0f : 1f / s;
          int q = Math.max(lo, Math.min(maxq, (int) (x * inv + (z + 0.5f))));
          float deq = (q - z) * s;
          e[c] = (x - deq) / pivot;
          damped += e[c] * e[c];
          if (!dead[i]) {
            double d = w[i * n + c] - (double) deq;
            squared += d * d;
          }
        }
        // the rows of this run at once: the next row's values must be final when it is rounded
        for (int r = i + 1; r < i2; r++) {
          subtract(wd, r * n, u[i * k + r], e, c0, c1);
        }
      }
      // the rows below the run: each receives the run's rows' updates in their order, as above
      for (int t0 = c0; t0 < c1; t0 += UPDATE_COLUMNS) {
        int t1 = Math.min(c1, t0 + UPDATE_COLUMNS);
        for (int r = i2; r < k; r++) {
          int i = i1;
          for (; i + 3 < i2; i += 4) { // four rows' updates in one pass: the same subtractions in the same order
            subtractFour(wd, r * n, u, k, r, i, err, i - i1, t0, t1);
          }
          for (; i < i2; i++) {
            subtract(wd, r * n, u[i * k + r], err[i - i1], t0, t1);
          }
        }
      }
    }
    return new double[] {damped, squared};
  }

  /** {@code wd[row + c] -= f * e[c]} for {@code c} in {@code [c0, c1)}; nothing when {@code f} is 0. */
  private static void subtract(double[] wd, int row, double f, double[] e, int c0, int c1) {
    if (f == 0) {
      return;
    }
    for (int c = c0; c < c1; c++) {
      wd[row + c] -= f * e[c];
    }
  }

  /**
   * {@code wd[row + c] -= U[i + q][r] e[q][c]} for {@code q = 0..3} in that order, {@code e} the
   * errors of rows {@code i .. i+3} (at {@code err[e0 ..]}), {@code c} in {@code [c0, c1)}: each
   * element receives the same subtractions in the same order as from four {@link #subtract}s
   * (Java neither fuses nor reorders them; a zero factor subtracts a zero).
   */
  private static void subtractFour(double[] wd, int row, double[] u, int k, int r, int i, double[][] err, int e0,
      int c0, int c1) {
    double f0 = u[i * k + r];
    double f1 = u[(i + 1) * k + r];
    double f2 = u[(i + 2) * k + r];
    double f3 = u[(i + 3) * k + r];
    double[] a0 = err[e0];
    double[] a1 = err[e0 + 1];
    double[] a2 = err[e0 + 2];
    double[] a3 = err[e0 + 3];
    for (int c = c0; c < c1; c++) {
      wd[row + c] = wd[row + c] - f0 * a0[c] - f1 * a1[c] - f2 * a2[c] - f3 * a3[c];
    }
  }

  /** The super scales from the blocks' ranges before rounding (null when they do not fit fp16). */
  private static float[] superScales(double[] wd, int k, int n, int block, int groupsPerFiber, QuantCodec codec) {
    float[] s = new float[n * groupsPerFiber];
    for (int c = 0; c < n; c++) {
      for (int j = 0; j < groupsPerFiber; j++) {
        float mn = Float.POSITIVE_INFINITY;
        float mx = Float.NEGATIVE_INFINITY;
        for (int r = j * block, end = Math.min(k, r + block); r < end; r++) {
          float v = (float) wd[r * n + c];
          mn = Math.min(mn, v);
          mx = Math.max(mx, v);
        }
        s[c * groupsPerFiber + j] = codec.scaleAndZeroPoint(mn, mx)[0];
      }
    }
    return codec.superScalesOf(s, SUPER_MARGIN);
  }
}
