package dev.selfbyt.cortexsdr.djl;

import dev.selfbyt.cortexsdr.djl.graph.Value;
import dev.selfbyt.cortexsdr.djl.graph.ValueOps;
import java.util.Arrays;

/**
 * Order statistics: the {@code q}-th percentile over a set of axes with numpy's default linear
 * interpolation between the two nearest ranks ({@code median} is the 50th), in double, float32
 * out; and the unique values of an array with their inverse indices and counts.
 */
final class Statistics {
  private Statistics() {}

  static Value percentile(Value v, double q, int[] axes) {
    if (q < 0 || q > 100) {
      throw new IllegalArgumentException("percentile " + q + " is outside [0, 100]");
    }
    int[] ax = Dense.axes(axes, v.rank());
    int rank = v.rank();
    boolean[] reduced = new boolean[rank];
    for (int a : ax) {
      reduced[a] = true;
    }
    long[] perm = new long[rank];
    long[] kept = new long[rank - ax.length];
    int p = 0;
    int k = 0;
    long n = 1;
    for (int i = 0; i < rank; i++) {
      if (!reduced[i]) {
        perm[p++] = i;
        kept[k++] = v.dim(i);
      }
    }
    for (int a : ax) {
      perm[p++] = a;
      n *= v.dim(a);
    }
    if (n == 0) {
      throw new IllegalArgumentException("percentile of an empty set of values");
    }
    Value moved = rank == 0 ? v : ValueOps.transpose(v, perm);
    double[] d = Dense.doubles(moved);
    int rows = (int) (d.length / n);
    double[] out = new double[rows];
    for (int r = 0; r < rows; r++) {
      double[] row = Arrays.copyOfRange(d, (int) (r * n), (int) ((r + 1) * n));
      Arrays.sort(row);
      double pos = q / 100 * (n - 1);
      int lo = (int) Math.floor(pos);
      int hi = Math.min(lo + 1, (int) n - 1);
      out[r] = row[lo] + (pos - lo) * (row[hi] - row[lo]);
    }
    return Dense.floats(kept, out);
  }

  /**
   * The distinct values of the flattened array in ascending order, the position of each input value
   * among them (INT64, the input's shape) and how often each occurs (INT64), as PyTorch's {@code
   * torch.unique(x, sorted, return_inverse, return_counts)}.
   */
  static Value[] unique(Value v) {
    double[] d = Dense.doubles(v);
    double[] sorted = d.clone();
    Arrays.sort(sorted);
    int n = 0;
    double[] values = new double[sorted.length];
    long[] counts = new long[sorted.length];
    for (int i = 0; i < sorted.length; i++) {
      if (n == 0 || Double.compare(sorted[i], values[n - 1]) != 0) {
        values[n++] = sorted[i];
      }
      counts[n - 1]++;
    }
    double[] distinct = Arrays.copyOf(values, n);
    long[] inverse = new long[d.length];
    for (int i = 0; i < d.length; i++) {
      inverse[i] = Arrays.binarySearch(distinct, d[i]);
    }
    return new Value[] {Dense.sameType(v, new long[] {n}, distinct), Dense.int64(v.shape(), inverse),
        Dense.int64(new long[] {n}, Arrays.copyOf(counts, n))};
  }
}
