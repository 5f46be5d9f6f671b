package dev.selfbyt.cortexsdr.djl.kernel;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.selfbyt.cortexsdr.core.codec.QuantCodec;
import dev.selfbyt.cortexsdr.core.codec.SdrCodec;
import dev.selfbyt.cortexsdr.core.tensor.DType;
import dev.selfbyt.cortexsdr.core.tensor.TensorData;
import dev.selfbyt.cortexsdr.core.tensor.TensorInfo;
import dev.selfbyt.cortexsdr.core.tensor.TensorRole;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Products on compressed weights equal the dense product of the decoded weight (in double), for
 * every kernel implementation: scalar, Vector API and native at each instruction set in turn.
 */
class MatMulTest {
  static List<Arguments> shapes() {
    return List.of(
        Arguments.of(1, 384, 384), Arguments.of(1, 37, 19), Arguments.of(3, 65, 33), Arguments.of(5, 17, 3),
        Arguments.of(128, 96, 40), Arguments.of(9, 1, 7), Arguments.of(17, 130, 21), Arguments.of(3, 70, 1),
        Arguments.of(17, 100, 33), Arguments.of(13, 64, 40), Arguments.of(25, 33, 96), Arguments.of(200, 48, 40),
        // rows enough for the native product to decode a run of panels once and reuse it by chunks of rows
        Arguments.of(300, 520, 70),
        // the scalar kernels' tiles: depth past a chunk and not a multiple of 4, columns past a
        // tile (and split over threads), rows past a block of accumulators
        Arguments.of(70, 261, 547), Arguments.of(131, 515, 65),
        // one tile as wide as all columns, the rows split over the threads instead
        Arguments.of(48, 97, 384));
  }

  /** Scalar, Vector API, and the native kernels at each instruction set this CPU runs, in turn. */
  static List<Kernels> kernels() {
    return AllKernels.list();
  }

  @ParameterizedTest
  @MethodSource("shapes")
  void quantizedProductMatchesDecodedWeight(int m, int k, int n) {
    Random rnd = new Random(31L * m + k * 7L + n);
    float[] x = randoms(rnd, m * k);
    float[] w = randoms(rnd, k * n);
    TensorInfo info = new TensorInfo("w", DType.FLOAT32, new long[] {k, n}, TensorRole.MATMUL_WEIGHT, 0);
    for (QuantCodec codec : List.of(QuantCodec.blockwise(4, false, 32), QuantCodec.blockwise(8, true, 16),
        QuantCodec.blockwise(3, false, 7), QuantCodec.perChannel(8, false), QuantCodec.perTensor(5, true))) {
      ByteBuffer payload = codec.encode(TensorData.ofFloats(info, w));
      float[] decoded = codec.decode(info, payload.duplicate()).floats();
      QuantMatrix q = QuantMatrix.of(codec.unpack(info, payload.duplicate()));
      QuantMatrix panels = q.inPanels();
      double[] expected = reference(x, decoded, m, k, n);
      float[] bias = randoms(rnd, n);
      double[] withBias = expected.clone();
      for (int i = 0; i < withBias.length; i++) {
        withBias[i] += bias[i % n];
      }
      for (Kernels kern : kernels()) {
        float[] y = new float[m * n];
        MatMul.multiply(kern, x, 0, m, q, y, 0);
        assertClose(expected, y, k, codec.describe() + " " + kern.name());
        float[] yp = new float[m * n];
        MatMul.multiply(kern, x, 0, m, panels, yp, 0);
        assertClose(expected, yp, k, codec.describe() + " in panels " + kern.name());
        MatMul.multiply(kern, x, 0, m, panels, bias, yp, 0);
        assertClose(withBias, yp, k, codec.describe() + " in panels, with bias " + kern.name());
      }
      float[] row = new float[k];
      float[] rowP = new float[k];
      for (int r = 0; r < n; r += Math.max(1, n / 5)) {
        q.decodeRow(r, row, 0);
        panels.decodeRow(r, rowP, 0);
        assertArrayEquals(row, rowP, codec.describe() + " row " + r);
        for (int i = 0; i < k; i++) { // fiber r is column r of the [k, n] weight
          float v = decoded[i * n + r];
          assertEquals(v, row[i], 1e-6 * (1 + Math.abs(v)), codec.describe() + " row " + r + " at " + i);
        }
      }
      if (n % QuantMatrix.PANEL == 0 && k % 2 == 0) { // odd k: 4-bit rows pad their last byte, panels do not
        assertEquals(q.residentBytes(), panels.residentBytes(), "the panel layout holds the same bytes");
      }
    }
  }

  @ParameterizedTest
  @MethodSource("shapes")
  void sparseProductMatchesDecodedWeight(int m, int k, int n) {
    Random rnd = new Random(17L * m + k * 5L + n);
    float[] x = randoms(rnd, m * k);
    float[] w = randoms(rnd, k * n);
    TensorInfo info = new TensorInfo("w", DType.FLOAT32, new long[] {k, n}, TensorRole.MATMUL_WEIGHT, 0);
    SdrCodec codec = SdrCodec.builder().sparsity(0.7).fp16Values().build();
    ByteBuffer payload = codec.encode(TensorData.ofFloats(info, w));
    float[] decoded = codec.decode(info, payload.duplicate()).floats();
    SparseMatrix s = SparseMatrix.of(codec.unpack(info, payload.duplicate()), n, k);
    double[] expected = reference(x, decoded, m, k, n);
    for (Kernels kern : kernels()) {
      float[] y = new float[m * n];
      MatMul.multiply(kern, x, 0, m, s, y, 0);
      assertClose(expected, y, k, "sdr " + kern.name());
    }
  }

  @ParameterizedTest
  @MethodSource("shapes")
  void denseRowsProduct(int m, int k, int n) {
    Random rnd = new Random(m + 3L * k + 11L * n);
    float[] x = randoms(rnd, m * k);
    float[] wt = randoms(rnd, n * k);
    float[] w = new float[k * n];
    for (int j = 0; j < n; j++) {
      for (int kk = 0; kk < k; kk++) {
        w[kk * n + j] = wt[j * k + kk];
      }
    }
    double[] expected = reference(x, w, m, k, n);
    for (Kernels kern : kernels()) {
      float[] y = new float[m * n + 3];
      MatMul.multiply(kern, x, 0, m, new DenseRows(wt, n, k), y, 3);
      float[] shifted = java.util.Arrays.copyOfRange(y, 3, y.length);
      assertClose(expected, shifted, k, "dense rows " + kern.name());
      float[] z = new float[m * n];
      MatMul.multiplyDense(kern, x, 0, m, k, w, 0, n, z, 0);
      assertClose(expected, z, k, "dense [k, n] " + kern.name());
    }
  }

  private static float[] randoms(Random rnd, int n) {
    float[] a = new float[n];
    for (int i = 0; i < n; i++) {
      a[i] = (float) rnd.nextGaussian();
    }
    return a;
  }

  /** X[M,K] * W[K,N] in double, W row-major as stored in its natural order. */
  private static double[] reference(float[] x, float[] w, int m, int k, int n) {
    double[] y = new double[m * n];
    for (int i = 0; i < m; i++) {
      for (int j = 0; j < n; j++) {
        double s = 0;
        for (int kk = 0; kk < k; kk++) {
          s += (double) x[i * k + kk] * w[kk * n + j];
        }
        y[i * n + j] = s;
      }
    }
    return y;
  }

  private static void assertClose(double[] expected, float[] actual, int k, String what) {
    assertEquals(expected.length, actual.length, what);
    for (int i = 0; i < expected.length; i++) {
      double tol = 1e-5 * Math.sqrt(k) * (1 + Math.abs(expected[i])) + 1e-4;
      assertEquals(expected[i], actual[i], tol, what + " at " + i);
    }
  }
}
