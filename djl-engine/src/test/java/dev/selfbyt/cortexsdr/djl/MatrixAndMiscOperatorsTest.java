package dev.selfbyt.cortexsdr.djl;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Matrix operators (diagonal, trace, inverse, rotate90, batchDot, N-D dot), diff, unique, pad,
 * xlogy, gammaln and the manager's eye/linspace/randomInteger, against plain-Java references.
 */
class MatrixAndMiscOperatorsTest {
  private NDManager m;
  private final Random rnd = new Random(99);

  @BeforeEach
  void open() {
    m = NDManager.newBaseManager("CortexSDR");
  }

  @AfterEach
  void close() {
    m.close();
  }

  @Test
  void diagonalAndTraceWithOffsetsAndAxes() {
    float[] x = Reference.random(rnd, 2 * 3 * 5, -1, 1);
    NDArray a = m.create(x, new Shape(2, 3, 5));
    for (int offset : new int[] {0, 2, -1}) {
      NDArray d = a.diagonal(offset, -2, -1);
      int len = offset >= 0 ? Math.min(3, 5 - offset) : Math.min(3 + offset, 5);
      assertEquals(new Shape(2, len), d.getShape());
      float[] got = d.toFloatArray();
      float[] tr = a.trace(offset, 1, 2).toFloatArray();
      for (int b = 0; b < 2; b++) {
        double sum = 0;
        for (int t = 0; t < len; t++) {
          int i = offset >= 0 ? t : t - offset;
          int j = offset >= 0 ? t + offset : t;
          assertEquals(x[(b * 3 + i) * 5 + j], got[b * len + t], "diagonal " + offset);
          sum += x[(b * 3 + i) * 5 + j];
        }
        assertEquals(sum, tr[b], 1e-6, "trace " + offset);
      }
    }
  }

  @Test
  void inverseTimesTheMatrixIsTheIdentity() {
    int n = 5;
    float[] x = Reference.random(rnd, 2 * n * n, -1, 1);
    for (int b = 0; b < 2; b++) {
      for (int i = 0; i < n; i++) {
        x[b * n * n + i * n + i] += 3; // diagonally dominant: well conditioned
      }
    }
    float[] inv = m.create(x, new Shape(2, n, n)).inverse().toFloatArray();
    for (int b = 0; b < 2; b++) {
      for (int i = 0; i < n; i++) {
        for (int j = 0; j < n; j++) {
          double s = 0;
          for (int k = 0; k < n; k++) {
            s += (double) x[b * n * n + i * n + k] * inv[b * n * n + k * n + j];
          }
          assertEquals(i == j ? 1 : 0, s, 1e-5, "A * inverse(A) at " + b + "," + i + "," + j);
        }
      }
    }
    assertThrows(ArithmeticException.class, () -> m.create(new float[] {1, 2, 2, 4}, new Shape(2, 2)).inverse());
  }

  @Test
  void rotate90AndDiffLikeNumpy() {
    NDArray a = m.create(new float[] {1, 2, 3, 4, 5, 6}, new Shape(2, 3));
    // numpy.rot90([[1,2,3],[4,5,6]]) = [[3,6],[2,5],[1,4]]
    NDArray r = a.rotate90(1, new int[] {0, 1});
    assertEquals(new Shape(3, 2), r.getShape());
    assertArrayEquals(new float[] {3, 6, 2, 5, 1, 4}, r.toFloatArray());
    assertArrayEquals(new float[] {6, 5, 4, 3, 2, 1}, a.rotate90(2, new int[] {0, 1}).toFloatArray());
    assertArrayEquals(new float[] {4, 1, 5, 2, 6, 3}, a.rotate90(-1, new int[] {0, 1}).toFloatArray());
    NDArray sq = m.create(new float[] {1, 4, 9, 16, 25}, new Shape(1, 5));
    assertArrayEquals(new float[] {3, 5, 7, 9}, sq.diff(1, -1).toFloatArray());
    assertArrayEquals(new float[] {2, 2, 2}, sq.diff(2, 1).toFloatArray());
  }

  @Test
  void batchDotAndDotOverMoreAxes() {
    float[] x = Reference.random(rnd, 2 * 3 * 4, -1, 1);
    float[] y = Reference.random(rnd, 2 * 4 * 5, -1, 1);
    NDArray bd = m.create(x, new Shape(2, 3, 4)).batchDot(m.create(y, new Shape(2, 4, 5)));
    assertEquals(new Shape(2, 3, 5), bd.getShape());
    float[] got = bd.toFloatArray();
    for (int b = 0; b < 2; b++) {
      float[] expect = Reference.linear(java.util.Arrays.copyOfRange(x, b * 12, b * 12 + 12), 3, 4,
          transpose(java.util.Arrays.copyOfRange(y, b * 20, b * 20 + 20), 4, 5), 5, null);
      for (int i = 0; i < 15; i++) {
        assertEquals(expect[i], got[b * 15 + i], 1e-5);
      }
    }
    NDArray dot = m.create(x, new Shape(2, 3, 4)).dot(m.create(java.util.Arrays.copyOf(y, 20), new Shape(4, 5)));
    assertInstanceOf(CaiNDArray.class, dot);
    assertEquals(new Shape(2, 3, 5), dot.getShape());
  }

  private static float[] transpose(float[] a, int rows, int cols) {
    float[] t = new float[a.length];
    for (int r = 0; r < rows; r++) {
      for (int c = 0; c < cols; c++) {
        t[c * rows + r] = a[r * cols + c];
      }
    }
    return t;
  }

  @Test
  void uniquePadXlogyAndGammaln() {
    NDArray a = m.create(new float[] {3, 1, 2, 3, 1, 1}, new Shape(2, 3));
    NDList u = a.unique(null, true, true, true);
    assertArrayEquals(new float[] {1, 2, 3}, u.get(0).toFloatArray());
    assertArrayEquals(new long[] {2, 0, 1, 2, 0, 0}, u.get(1).toLongArray());
    assertEquals(new Shape(2, 3), u.get(1).getShape());
    assertArrayEquals(new long[] {3, 1, 2}, u.get(2).toLongArray());

    NDArray p = m.create(new float[] {1, 2, 3, 4}, new Shape(2, 2)).pad(new Shape(1, 2, 0, 1), -1);
    assertEquals(new Shape(3, 5), p.getShape());
    assertArrayEquals(new float[] {-1, 1, 2, -1, -1, -1, 3, 4, -1, -1, -1, -1, -1, -1, -1}, p.toFloatArray());

    NDArray xs = m.create(new float[] {0, 2, 3});
    assertArrayEquals(new float[] {0, (float) (2 * Math.log(5)), (float) (3 * Math.log(0.5))},
        xs.xlogy(m.create(new float[] {0, 5, 0.5f})).toFloatArray(), 1e-6f);
    float[] lg = m.create(new float[] {0.5f, 5, -0.5f, 20}).gammaln().toFloatArray();
    double[] expect = {0.5 * Math.log(Math.PI), Math.log(24), Math.log(2 * Math.sqrt(Math.PI)), Math.log(1.21645100408832e17)};
    for (int i = 0; i < 4; i++) {
      assertEquals(expect[i], lg[i], 1e-5 * Math.max(1, Math.abs(expect[i])), "gammaln " + i);
    }
  }

  @Test
  void erfinvInvertsErf() {
    float[] y = {-3.5f, -2f, -0.7f, -0.01f, 0f, 0.3f, 1.2f, 2.6f};
    float[] x = new float[y.length];
    for (int i = 0; i < y.length; i++) {
      x[i] = (float) Reference.erf(y[i]);
    }
    float[] back = m.create(x).erfinv().toFloatArray();
    for (int i = 0; i < y.length; i++) {
      // x is rounded to float: compare through erf again, where the slope is tame
      assertEquals(x[i], Reference.erf(back[i]), 2e-7, "erf(erfinv(" + x[i] + "))");
    }
    float[] edges = m.create(new float[] {1, -1, 1.5f}).erfinv().toFloatArray();
    assertEquals(Float.POSITIVE_INFINITY, edges[0]);
    assertEquals(Float.NEGATIVE_INFINITY, edges[1]);
    assertTrue(Float.isNaN(edges[2]));
  }

  @Test
  void managerEyeLinspaceAndRandomIntegers() {
    assertArrayEquals(new float[] {0, 1, 0, 0, 0, 1, 0, 0, 0}, m.eye(3, 3, 1, DataType.FLOAT32).toFloatArray());
    assertArrayEquals(new int[] {1, 0, 0, 1, 0, 0}, m.eye(3, 2, 0, DataType.INT32).toIntArray());
    assertArrayEquals(new float[] {0, 0.25f, 0.5f, 0.75f, 1}, m.linspace(0, 1, 5, true).toFloatArray(), 1e-7f);
    assertArrayEquals(new float[] {0, 0.2f, 0.4f, 0.6f, 0.8f}, m.linspace(0, 1, 5, false).toFloatArray(), 1e-7f);
    long[] r = m.randomInteger(-3, 4, new Shape(1000), DataType.INT64).toLongArray();
    boolean[] seen = new boolean[7];
    for (long v : r) {
      assertTrue(v >= -3 && v < 4, "in [low, high): " + v);
      seen[(int) v + 3] = true;
    }
    for (boolean s : seen) {
      assertTrue(s, "every value drawn in 1000 tries");
    }
  }

  @Test
  void int64ValuesBeyondDoublePrecisionStayExact() {
    long big = (1L << 53) + 1; // not representable as a double
    NDArray a = m.create(new long[] {big, big + 2, 7, big + 1}, new Shape(2, 2));
    assertEquals(1, a.argMax().getLong(), "big + 2 is the largest");
    assertArrayEquals(new long[] {7, big, big + 1, big + 2}, a.flatten().sort().toLongArray());
    NDArray b = a.duplicate();
    b.set(new ai.djl.ndarray.index.NDIndex("1, 0"), m.create(big + 4));
    assertArrayEquals(new long[] {big, big + 2, big + 4, big + 1}, b.toLongArray());
    assertArrayEquals(new long[] {0, 0, 0, 0, big, big + 2, 0, 7, big + 1},
        a.pad(new Shape(1, 0, 1, 0), 0).flatten().toLongArray());
    assertArrayEquals(new long[] {big + 1, big + 2}, a.put(m.create(new long[] {0}), m.create(big + 1))
        .take(m.create(new long[] {0, 1})).toLongArray());
  }
}
