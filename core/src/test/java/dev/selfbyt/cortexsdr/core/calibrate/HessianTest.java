package dev.selfbyt.cortexsdr.core.calibrate;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** The statistics of a weight's input: rotated with the input, and the output error they give. */
class HessianTest {
  private static final int ROWS = 40;
  private static final int K = 64;

  private static float[] gaussian(int n, long seed, double scale) {
    SplittableRandom r = new SplittableRandom(seed);
    float[] v = new float[n];
    for (int i = 0; i < n; i++) {
      v[i] = (float) (r.nextGaussian() * scale);
    }
    return v;
  }

  /** {@code x} ({@code rows x k}) times the block Walsh-Hadamard matrix: each row transformed. */
  private static float[] rotateEachRow(float[] x, int rows, int k, int block) {
    float[] t = new float[x.length]; // as columns, the transform's axis
    for (int i = 0; i < rows; i++) {
      for (int j = 0; j < k; j++) {
        t[j * rows + i] = x[i * k + j];
      }
    }
    float[] h = Hadamard.rotateRows(t, k, rows, block);
    float[] out = new float[x.length];
    for (int i = 0; i < rows; i++) {
      for (int j = 0; j < k; j++) {
        out[i * k + j] = h[j * rows + i];
      }
    }
    return out;
  }

  @Test
  void rotatedStatisticsAreThoseOfTheRotatedInput() {
    float[] x = gaussian(ROWS * K, 1, 1);
    x[3 * K + 5] = 40; // a loud value
    Hessian plain = new Hessian(K);
    plain.add(x, 0, ROWS);
    Hessian ofRotated = new Hessian(K);
    ofRotated.add(rotateEachRow(x, ROWS, K, 32), 0, ROWS);
    Hessian rotated = plain.rotated(32);
    // the rotated input is rounded to float: agreement to float precision of the largest entry (40 * 40)
    assertArrayEquals(ofRotated.matrix(), rotated.matrix(), 1e-6 * 1600);
    assertEquals(ROWS, rotated.rows());
    assertThrows(IllegalArgumentException.class, () -> plain.rotated(48));
  }

  @Test
  void outputErrorIsTheSquaredErrorOfTheLayersOutputs() {
    int n = 7;
    float[] x = gaussian(ROWS * K, 2, 1);
    float[] w = gaussian(K * n, 3, 0.1);
    float[] q = w.clone();
    SplittableRandom r = new SplittableRandom(4);
    for (int i = 0; i < q.length; i++) {
      q[i] += (float) (r.nextDouble() - 0.5) * 0.01f;
    }
    Hessian h = new Hessian(K);
    h.add(x, 0, ROWS);
    double want = 0;
    for (int i = 0; i < ROWS; i++) {
      for (int c = 0; c < n; c++) {
        double d = 0;
        for (int j = 0; j < K; j++) {
          d += (double) x[i * K + j] * ((double) w[j * n + c] - q[j * n + c]);
        }
        want += d * d;
      }
    }
    assertEquals(want, h.outputError(w, q, n), 1e-9 * want);
    assertEquals(0, h.outputError(w, w, n));
  }

  /** GPTQ's own account of its error is the layer's output error, measured directly. */
  @Test
  void gptqReportsTheOutputErrorItLeaves() {
    int n = 80;
    float[] x = gaussian(ROWS * 4 * K, 5, 1);
    for (int i = 0; i < ROWS * 4; i++) {
      x[i * K + 9] *= 8; // a loud channel
      x[i * K + 17] = 0; // one that never fires
    }
    float[] w = gaussian(K * n, 6, 0.1);
    Hessian h = new Hessian(K);
    h.add(x, 0, ROWS * 4);
    for (dev.selfbyt.cortexsdr.core.codec.QuantCodec codec : List.of(
        dev.selfbyt.cortexsdr.core.codec.QuantCodec.blockwise(4, false, 32),
        dev.selfbyt.cortexsdr.core.codec.QuantCodec.blockwise(3, true, 16))) {
      Gptq.Result r = Gptq.quantize(w, K, n, codec, h, 0.01, 2);
      dev.selfbyt.cortexsdr.core.tensor.TensorInfo info = new dev.selfbyt.cortexsdr.core.tensor.TensorInfo("w",
          dev.selfbyt.cortexsdr.core.tensor.DType.FLOAT32, new long[] {K, n},
          dev.selfbyt.cortexsdr.core.tensor.TensorRole.MATMUL_WEIGHT, 0);
      float[] q = codec.decode(info, codec.encode(dev.selfbyt.cortexsdr.core.tensor.TensorData.ofFloats(info,
          r.values()).withGrid(r.grid()))).floats();
      double measured = h.outputError(w, q, n);
      assertEquals(measured, r.outputError(), 1e-6 * measured, codec.describe());
    }
  }

  @Test
  void theRotationIsItsOwnInverseAndKeepsLengths() {
    double[] m = new double[K * 3];
    for (int i = 0; i < m.length; i++) {
      m[i] = Math.sin(i);
    }
    double[] once = m.clone();
    Hadamard.rotateRows(once, K, 3, 16);
    double before = 0;
    double after = 0;
    for (int i = 0; i < m.length; i++) {
      before += m[i] * m[i];
      after += once[i] * once[i];
    }
    assertEquals(before, after, 1e-12 * before);
    Hadamard.rotateRows(once, K, 3, 16);
    assertArrayEquals(m, once, 1e-12);
  }
}
