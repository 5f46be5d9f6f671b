package dev.selfbyt.cortexsdr.djl;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.util.Arrays;
import java.util.Random;
import java.util.function.Function;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The reductions a DJL user calls (max, min, prod, sum, mean along any axes with and without
 * {@code keepDims}, argMax/argMin, norm, cumSum/cumProd, median/percentile) on odd shapes and
 * negative axes, against {@link RefTensor} folds in double.
 */
class ReductionOperatorsTest {
  private static final long[] SHAPE = {3, 5, 7};
  private static final int[][] AXES = {{-1}, {0, 2}, {-2, -3}, {1}, null};
  private NDManager m;
  private final Random rnd = new Random(20261203);

  @BeforeEach
  void open() {
    m = NDManager.newBaseManager("CortexSDR");
  }

  @AfterEach
  void close() {
    m.close();
  }

  private static void assertClose(RefTensor expected, NDArray actual, double tol, String what) {
    assertInstanceOf(CaiNDArray.class, actual, what);
    assertArrayEquals(expected.shape, actual.getShape().getShape(), what + ": shape");
    float[] a = actual.toFloatArray();
    for (int i = 0; i < a.length; i++) {
      assertEquals(expected.data[i], a[i], tol * Math.max(1, Math.abs(expected.data[i])), what + " at " + i);
    }
  }

  private void eachAxisSet(float lo, float hi, String name, double init, java.util.function.DoubleBinaryOperator op,
      java.util.function.BiFunction<NDArray, int[], NDArray> keep, Function<NDArray, NDArray> all,
      java.util.function.BiFunction<NDArray, int[], NDArray> drop) {
    float[] x = Reference.random(rnd, RefTensor.size(SHAPE), lo, hi);
    NDArray a = m.create(x, new Shape(SHAPE));
    RefTensor ref = RefTensor.of(x, SHAPE);
    for (int[] axes : AXES) {
      if (axes == null) {
        assertClose(ref.fold(null, false, init, op), all.apply(a), 1e-6, name + "()");
        continue;
      }
      String what = name + Arrays.toString(axes);
      assertClose(ref.fold(axes, true, init, op), keep.apply(a, axes), 1e-6, what + " keepDims");
      assertClose(ref.fold(axes, false, init, op), drop.apply(a, axes), 1e-6, what);
    }
  }

  @Test
  void maxMinSumProdAndMeanAlongAnyAxes() {
    eachAxisSet(-2, 2, "max", Double.NEGATIVE_INFINITY, Math::max, (a, ax) -> a.max(ax, true), NDArray::max,
        NDArray::max);
    eachAxisSet(-2, 2, "min", Double.POSITIVE_INFINITY, Math::min, (a, ax) -> a.min(ax, true), NDArray::min,
        NDArray::min);
    eachAxisSet(-2, 2, "sum", 0, Double::sum, (a, ax) -> a.sum(ax, true), NDArray::sum, NDArray::sum);
    eachAxisSet(0.8f, 1.25f, "prod", 1, (p, v) -> p * v, (a, ax) -> a.prod(ax, true), NDArray::prod, NDArray::prod);
  }

  @Test
  void integerReductionsStayExactIntegers() {
    NDArray a = m.create(new long[] {3_000_000_001L, -7, 12, 5, 9, -4}, new Shape(2, 3));
    NDArray sum = a.sum(new int[] {-1});
    assertEquals(DataType.INT64, sum.getDataType());
    assertArrayEquals(new long[] {3_000_000_006L, 10}, sum.toLongArray());
    assertArrayEquals(new long[] {3_000_000_001L, 9}, a.max(new int[] {1}).toLongArray());
    assertArrayEquals(new long[] {-7, -4}, a.min(new int[] {1}).toLongArray());
    assertArrayEquals(new long[] {15_000_000_005L, -63, -48}, a.prod(new int[] {0}).toLongArray());
    assertArrayEquals(new long[] {2}, m.create(new boolean[] {true, false, true}).sum(new int[] {0}, true).toLongArray());
  }

  @Test
  void argMaxAndArgMinGiveTheFirstExtreme() {
    float[] x = Reference.random(rnd, RefTensor.size(SHAPE), -2, 2);
    x[5] = x[6] = 9; // a tie along the last axis: the first one wins
    NDArray a = m.create(x, new Shape(SHAPE));
    RefTensor ref = RefTensor.of(x, SHAPE);
    for (int axis : new int[] {-1, 0, 1}) {
      int ax = RefTensor.norm(axis, 3);
      long[] outShape = a.getShape().getShape().clone();
      outShape[ax] = 1;
      long[] expectMax = new long[RefTensor.size(outShape)];
      long[] expectMin = new long[expectMax.length];
      int o = 0;
      for (int[] c : RefTensor.coordinates(outShape)) {
        double[] f = ref.fiber(c, ax);
        for (int j = 1; j < f.length; j++) {
          expectMax[o] = f[j] > f[(int) expectMax[o]] ? j : expectMax[o];
          expectMin[o] = f[j] < f[(int) expectMin[o]] ? j : expectMin[o];
        }
        o++;
      }
      assertEquals(DataType.INT64, a.argMax(axis).getDataType());
      assertArrayEquals(expectMax, a.argMax(axis).toLongArray(), "argMax " + axis);
      assertArrayEquals(expectMin, a.argMin(axis).toLongArray(), "argMin " + axis);
    }
    assertEquals(new Shape(), a.argMax().getShape());
    assertEquals(5, a.argMax().getLong());
    NDArray withNan = m.create(new float[] {1, Float.NaN, 3});
    assertEquals(1, withNan.argMax().getLong(), "NaN counts as the maximum, as in PyTorch");
    assertEquals(Float.NaN, withNan.max().getFloat());
    assertThrows(IllegalArgumentException.class, () -> m.create(new float[0], new Shape(2, 0)).max(new int[] {1}));
  }

  @Test
  void normsOverAxes() {
    float[] x = Reference.random(rnd, RefTensor.size(SHAPE), -2, 2);
    NDArray a = m.create(x, new Shape(SHAPE));
    RefTensor abs = RefTensor.of(Reference.map(x, Math::abs), SHAPE);
    for (int ord : new int[] {1, 2, 3}) {
      for (int[] axes : new int[][] {{-1}, {0, 2}}) {
        RefTensor sums = abs.fold(axes, true, 0, (s, v) -> s + Math.pow(v, ord));
        double[] n = Arrays.stream(sums.data).map(s -> Math.pow(s, 1.0 / ord)).toArray();
        assertClose(new RefTensor(sums.shape, n), a.norm(ord, axes, true), 1e-6, "norm " + ord + Arrays.toString(axes));
      }
    }
    double frobenius = Math.sqrt(abs.fold(null, false, 0, (s, v) -> s + v * v).data[0]);
    assertEquals(frobenius, a.norm().getFloat(), 1e-5 * frobenius);
    assertEquals(new Shape(1, 1, 1), a.norm(true).getShape());
    assertEquals(new Shape(5), a.norm(new int[] {0, -1}).getShape());
  }

  @Test
  void cumulativeSumAndProduct() {
    float[] x = Reference.random(rnd, RefTensor.size(SHAPE), 0.8f, 1.25f);
    NDArray a = m.create(x, new Shape(SHAPE));
    RefTensor ref = RefTensor.of(x, SHAPE);
    for (int axis : new int[] {-2, 0, 2}) {
      int ax = RefTensor.norm(axis, 3);
      double[] sum = new double[x.length];
      double[] prod = new double[x.length];
      int i = 0;
      for (int[] c : RefTensor.coordinates(SHAPE)) {
        double s = 0;
        double p = 1;
        int[] q = c.clone();
        for (int j = 0; j <= c[ax]; j++) {
          q[ax] = j;
          s += ref.at(q);
          p *= ref.at(q);
        }
        sum[i] = s;
        prod[i++] = p;
      }
      assertClose(new RefTensor(SHAPE, sum), a.cumSum(axis), 1e-6, "cumSum " + axis);
      assertClose(new RefTensor(SHAPE, prod), a.cumProd(axis), 1e-6, "cumProd " + axis);
    }
    double[] flat = new double[x.length];
    double run = 0;
    for (int j = 0; j < x.length; j++) {
      run += x[j];
      flat[j] = run;
    }
    assertClose(new RefTensor(new long[] {x.length}, flat), a.cumSum(), 1e-6, "cumSum()");
    assertArrayEquals(new long[] {1, 3, 6}, m.create(new long[] {1, 2, 3}).cumSum(0).toLongArray());
  }

  @Test
  void medianAndPercentileInterpolateLikeNumpy() {
    NDArray a = m.create(new float[] {7, 1, 3, 5, 2, 8, 4, 6}, new Shape(2, 4));
    assertEquals(4.5f, a.median().getFloat(), 1e-6);
    assertArrayEquals(new float[] {4, 5}, a.median(new int[] {-1}).toFloatArray(), 1e-6f);
    // numpy.percentile([1, 3, 5, 7], 25) = 2.5
    assertArrayEquals(new float[] {2.5f, 3.5f}, a.percentile(25, new int[] {1}).toFloatArray(), 1e-6f);
  }
}
