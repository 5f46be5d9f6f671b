package dev.selfbyt.cortexsdr.it.bench;

import dev.selfbyt.cortexsdr.core.calibrate.Gptq;
import dev.selfbyt.cortexsdr.core.calibrate.Hessian;
import dev.selfbyt.cortexsdr.core.codec.QuantCodec;
import java.util.Arrays;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * GPTQ's solve alone ({@link Gptq#quantize}: the factor of the inverse Hessian, then the rounding
 * with its updates) at the weight shapes of a BERT-style layer of width 384 (MiniLM, bge-small):
 * {@code 384 x 384} (the query, key, value and output projections), {@code 384 x 1536} and
 * {@code 1536 x 384} (the feed-forward pair). The Hessian is {@code X^T X} of seeded inputs with
 * correlated channels of unequal scale, so the factorization and the updates do the work they do
 * on a real model; the codec is {@code compress --preset int4}'s (4 bits, blocks of 32, with zero
 * points). Prints the fastest and median of {@code rounds} calls per shape and the time of one
 * layer's six weights.
 *
 * <pre>
 * java -cp integration-tests/target/benchmarks.jar dev.selfbyt.cortexsdr.it.bench.GptqSolveBench \
 *     [rounds=8] [threads=2]
 * </pre>
 *
 * Run against an older core by putting its jar first on the class path (this class uses only API
 * that it has too).
 */
public final class GptqSolveBench {
  private GptqSolveBench() {}

  /** The layer's weights {k, n, how many of them}. */
  private static final int[][] SHAPES = {{384, 384, 4}, {384, 1536, 1}, {1536, 384, 1}};

  public static void main(String[] args) {
    int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 8;
    int threads = args.length > 1 ? Integer.parseInt(args[1]) : 2;
    QuantCodec codec = QuantCodec.blockwise(4, false, 32);
    System.out.println("| weight k x n | per layer | fastest ms | median ms |");
    System.out.println("|---|---|---|---|");
    double layer = 0;
    for (int[] shape : SHAPES) {
      int k = shape[0];
      int n = shape[1];
      Hessian h = hessian(k, 2 * k, 7);
      float[] w = new float[k * n];
      SplittableRandom r = new SplittableRandom(3);
      for (int i = 0; i < w.length; i++) {
        w[i] = (float) (0.05 * r.nextGaussian());
      }
      long[] t = new long[rounds + 2];
      for (int i = 0; i < t.length; i++) {
        long t0 = System.nanoTime();
        Gptq.quantize(w, k, n, codec, h, 0.01, threads);
        t[i] = System.nanoTime() - t0;
      }
      long[] timed = Arrays.copyOfRange(t, 2, t.length); // the first two calls warm the JIT
      Arrays.sort(timed);
      double fastest = timed[0] / 1e6;
      layer += shape[2] * fastest;
      System.out.printf(Locale.ROOT, "| %d x %d | %d | %.1f | %.1f |%n", k, n, shape[2], fastest,
          timed[timed.length / 2] / 1e6);
    }
    System.out.printf(Locale.ROOT, "%none layer's six weights, fastest calls: %.0f ms (%d threads)%n", layer, threads);
  }

  /** {@code X^T X} of {@code rows} seeded inputs whose channels mix a few shared factors at unequal scales. */
  static Hessian hessian(int k, int rows, long seed) {
    SplittableRandom r = new SplittableRandom(seed);
    int factors = 16;
    float[] mix = new float[factors * k];
    for (int i = 0; i < mix.length; i++) {
      mix[i] = (float) r.nextGaussian();
    }
    float[] x = new float[rows * k];
    double[] f = new double[factors];
    for (int s = 0; s < rows; s++) {
      for (int p = 0; p < factors; p++) {
        f[p] = r.nextGaussian();
      }
      for (int c = 0; c < k; c++) {
        double v = r.nextGaussian();
        for (int p = 0; p < factors; p++) {
          v += f[p] * mix[p * k + c];
        }
        x[s * k + c] = (float) (v * (1 + c % 9));
      }
    }
    Hessian h = new Hessian(k);
    h.add(x, 0, rows);
    return h;
  }
}
