package dev.selfbyt.cortexsdr.core.calibrate;

/**
 * The sum {@code X^T X} over calibration activations of one weight's input ({@code K} features),
 * in double precision. Feed it rows with {@link #add}; thread-safe.
 */
public final class Hessian {
  private final int k;
  private final double[] sum;
  private long rows;

  public Hessian(int k) {
    if (k < 1) {
      throw new IllegalArgumentException("K must be >= 1");
    }
    this.k = k;
    this.sum = new double[k * k];
  }

  public int size() {
    return k;
  }

  /**
   * Adds {@code n} rows of {@code K} values each, row-major from {@code off}. Rows of the sum
   * are split between two threads when K is large.
   */
  public synchronized void add(float[] x, int off, int n) {
    if (k >= 256 && n * (long) k * k > 50_000_000L) {
      // the upper triangle of row i costs K - i: split where each half holds half the work
      int mid = (int) (k - k / Math.sqrt(2));
      Thread t = new Thread(() -> addRows(x, off, n, mid, k));
      t.start();
      addRows(x, off, n, 0, mid);
      try {
        t.join();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("interrupted", e);
      }
    } else {
      addRows(x, off, n, 0, k);
    }
    rows += n;
  }

  private void addRows(float[] x, int off, int n, int from, int to) {
    for (int r = 0; r < n; r++) {
      int base = off + r * k;
      for (int i = from; i < to; i++) {
        double xi = x[base + i];
        if (xi == 0) {
          continue;
        }
        int row = i * k;
        for (int j = i; j < k; j++) {
          sum[row + j] += xi * x[base + j];
        }
      }
    }
  }

  /**
   * Adds a Gram matrix {@code X^T X} (row-major {@code K x K}) computed elsewhere (by the model's
   * runtime, say) over {@code rows} rows.
   */
  public synchronized void addGram(float[] gram, long rows) {
    if (gram.length != k * k) {
      throw new IllegalArgumentException("Gram matrix of " + gram.length + " values for K = " + k);
    }
    for (int i = 0; i < k; i++) {
      int row = i * k;
      for (int j = i; j < k; j++) {
        sum[row + j] += gram[row + j];
      }
    }
    this.rows += rows;
  }

  /** Adds another sum of the same width (partial sums over disjoint samples, say). */
  public void add(Hessian other) {
    if (other.k != k) {
      throw new IllegalArgumentException("Hessian of K = " + other.k + " added to K = " + k);
    }
    double[] o;
    long r;
    synchronized (other) {
      o = other.sum.clone();
      r = other.rows;
    }
    synchronized (this) {
      for (int i = 0; i < o.length; i++) {
        sum[i] += o[i];
      }
      rows += r;
    }
  }

  /**
   * The statistics of the input divided channel-wise by {@code s} ({@code x_i / s_i}): {@code
   * diag(1/s) X^T X diag(1/s)}, what a weight scaled by {@code s} along K sees.
   */
  public synchronized Hessian dividedBy(float[] s) {
    if (s.length != k) {
      throw new IllegalArgumentException(s.length + " scales for K = " + k);
    }
    Hessian h = new Hessian(k);
    for (int i = 0; i < k; i++) {
      for (int j = i; j < k; j++) {
        h.sum[i * k + j] = sum[i * k + j] / ((double) s[i] * s[j]);
      }
    }
    h.rows = rows;
    return h;
  }

  /**
   * The statistics of the input rotated by the block Walsh-Hadamard matrix {@code H} ({@code x H},
   * {@link Hadamard}): {@code H X^T X H}, what a weight stored as {@code H W} sees.
   */
  public Hessian rotated(int block) {
    double[] m = matrix();
    Hadamard.rotateRows(m, k, k, block); // H G
    transposeInPlace(m, k);
    Hadamard.rotateRows(m, k, k, block); // H (H G)^T = H G H (G and H symmetric)
    Hessian h = new Hessian(k);
    for (int i = 0; i < k; i++) {
      for (int j = i; j < k; j++) {
        h.sum[i * k + j] = 0.5 * (m[i * k + j] + m[j * k + i]);
      }
    }
    synchronized (this) {
      h.rows = rows;
    }
    return h;
  }

  /**
   * {@code tr(D^T X^T X D)} for {@code D = w - q} (row-major {@code [K, n]}): the summed squared
   * error of the outputs {@code X w} against {@code X q} over the rows added, what rounding {@code
   * w} to {@code q} costs this layer on the calibration data.
   */
  public double outputError(float[] w, float[] q, int n) {
    if (w.length != (long) k * n || q.length != w.length) {
      throw new IllegalArgumentException("[" + k + ", " + n + "] weights of " + w.length + " and " + q.length
          + " values");
    }
    double[] g = matrix();
    double[] d = new double[w.length];
    for (int i = 0; i < d.length; i++) {
      d[i] = (double) w[i] - q[i];
    }
    double[] t = new double[n];
    double total = 0;
    for (int i = 0; i < k; i++) {
      java.util.Arrays.fill(t, 0);
      int row = i * k;
      for (int l = 0; l < k; l++) {
        double gil = g[row + l];
        if (gil == 0) {
          continue;
        }
        int dl = l * n;
        for (int c = 0; c < n; c++) {
          t[c] += gil * d[dl + c];
        }
      }
      int di = i * n;
      for (int c = 0; c < n; c++) {
        total += d[di + c] * t[c];
      }
    }
    return total;
  }

  private static void transposeInPlace(double[] m, int k) {
    for (int i = 0; i < k; i++) {
      for (int j = i + 1; j < k; j++) {
        double a = m[i * k + j];
        m[i * k + j] = m[j * k + i];
        m[j * k + i] = a;
      }
    }
  }

  /** Rows added so far. */
  public synchronized long rows() {
    return rows;
  }

  /** The full symmetric matrix, row-major {@code K x K}. */
  public synchronized double[] matrix() {
    double[] m = new double[k * k];
    for (int i = 0; i < k; i++) {
      for (int j = i; j < k; j++) {
        m[i * k + j] = sum[i * k + j];
        m[j * k + i] = sum[i * k + j];
      }
    }
    return m;
  }
}
