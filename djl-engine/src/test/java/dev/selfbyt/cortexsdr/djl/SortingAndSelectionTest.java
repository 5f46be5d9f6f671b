package dev.selfbyt.cortexsdr.djl;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.util.Arrays;
import java.util.Comparator;
import java.util.Random;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Sorting (sort, argSort, topK) and selection (booleanMask, oneHot, gatherNd, take, nonzero,
 * where) on odd shapes with ties and negative axes, against loop-by-loop references.
 */
class SortingAndSelectionTest {
  private static final long[] SHAPE = {3, 5, 7};
  private NDManager m;
  private final Random rnd = new Random(42);

  @BeforeEach
  void open() {
    m = NDManager.newBaseManager("CortexSDR");
  }

  @AfterEach
  void close() {
    m.close();
  }

  /** Values on a 0.5 grid, so fibers hold ties. */
  private float[] withTies() {
    float[] x = new float[RefTensor.size(SHAPE)];
    for (int i = 0; i < x.length; i++) {
      x[i] = rnd.nextInt(9) * 0.5f - 2;
    }
    return x;
  }

  /** Stable order of a fiber: equal values keep their positions, ascending or descending. */
  private static Integer[] stableOrder(double[] f, boolean ascending) {
    Integer[] idx = IntStream.range(0, f.length).boxed().toArray(Integer[]::new);
    Comparator<Integer> byValue = Comparator.comparingDouble(i -> f[i]);
    Arrays.sort(idx, ascending ? byValue : byValue.reversed());
    return idx;
  }

  @Test
  void sortAndArgSortAreStableAlongAnyAxis() {
    float[] x = withTies();
    NDArray a = m.create(x, new Shape(SHAPE));
    RefTensor ref = RefTensor.of(x, SHAPE);
    for (int axis : new int[] {-1, 0, -2}) {
      int ax = RefTensor.norm(axis, 3);
      for (boolean ascending : new boolean[] {true, false}) {
        long[] expectIdx = new long[x.length];
        float[] expectVal = new float[x.length];
        for (int[] c : RefTensor.coordinates(SHAPE)) {
          Integer[] order = stableOrder(ref.fiber(c, ax), ascending);
          int flat = 0;
          for (int k = 0; k < 3; k++) {
            flat = flat * (int) SHAPE[k] + c[k];
          }
          int[] src = c.clone();
          src[ax] = order[c[ax]];
          expectIdx[flat] = order[c[ax]];
          expectVal[flat] = (float) ref.at(src);
        }
        assertArrayEquals(expectIdx, a.argSort(axis, ascending).toLongArray(), "argSort " + axis + " " + ascending);
        if (ascending) {
          assertArrayEquals(expectVal, a.sort(axis).toFloatArray(), "sort " + axis);
        }
      }
    }
    assertEquals(DataType.INT64, a.argSort().getDataType());
    NDArray nan = m.create(new float[] {2, Float.NaN, -1, 0});
    assertArrayEquals(new float[] {-1, 0, 2, Float.NaN}, nan.sort().toFloatArray(), "NaN sorts last");
    assertArrayEquals(new long[] {-3, 2, 9}, m.create(new long[] {9, -3, 2}).sort().toLongArray());
  }

  @Test
  void topKPicksTheBestValuesAndTheirIndices() {
    float[] x = withTies();
    NDArray a = m.create(x, new Shape(SHAPE));
    RefTensor ref = RefTensor.of(x, SHAPE);
    for (boolean largest : new boolean[] {true, false}) {
      NDList r = a.topK(3, -2, largest, true);
      assertEquals(new Shape(3, 3, 7), r.get(0).getShape());
      float[] values = r.get(0).toFloatArray();
      long[] indices = r.get(1).toLongArray();
      int i = 0;
      for (int[] c : RefTensor.coordinates(new long[] {3, 3, 7})) {
        Integer[] order = stableOrder(ref.fiber(c, 1), !largest);
        assertEquals(order[c[1]].longValue(), indices[i], "topK index at " + Arrays.toString(c));
        int[] src = c.clone();
        src[1] = order[c[1]];
        assertEquals((float) ref.at(src), values[i++]);
      }
    }
    assertThrows(IllegalArgumentException.class, () -> a.topK(8, -1));
  }

  @Test
  void booleanMaskKeepsTheTrueEntries() {
    float[] x = Reference.random(rnd, 3 * 4 * 5, -1, 1);
    NDArray a = m.create(x, new Shape(3, 4, 5));
    boolean[] rows = {true, false, true};
    NDArray kept = a.booleanMask(m.create(rows));
    assertEquals(new Shape(2, 4, 5), kept.getShape());
    assertArrayEquals(Arrays.copyOfRange(x, 40, 60), kept.get("1").toFloatArray());
    boolean[] mask45 = new boolean[20];
    for (int i = 0; i < 20; i++) {
      mask45[i] = i % 3 == 0;
    }
    NDArray inner = a.booleanMask(m.create(mask45, new Shape(4, 5)), 1);
    assertEquals(new Shape(3, 7), inner.getShape());
    float[] expect = new float[21];
    int p = 0;
    for (int b = 0; b < 3; b++) {
      for (int i = 0; i < 20; i++) {
        if (mask45[i]) {
          expect[p++] = x[b * 20 + i];
        }
      }
    }
    assertArrayEquals(expect, inner.toFloatArray());
    assertThrows(IllegalArgumentException.class, () -> a.booleanMask(m.create(new boolean[] {true, false})));
  }

  @Test
  void oneHotAppendsADepthAxis() {
    NDArray idx = m.create(new long[] {0, 4, 2, -1, 7, 1}, new Shape(2, 3));
    NDArray h = idx.oneHot(5, 2f, -1f, DataType.FLOAT32);
    assertEquals(new Shape(2, 3, 5), h.getShape());
    float[] r = h.toFloatArray();
    long[] ids = {0, 4, 2, -1, 7, 1};
    for (int i = 0; i < 6; i++) {
      for (int d = 0; d < 5; d++) {
        assertEquals(ids[i] == d ? 2f : -1f, r[i * 5 + d], "row " + i + " depth " + d);
      }
    }
    assertEquals(DataType.INT32, idx.oneHot(5, DataType.INT32).getDataType());
  }

  @Test
  void gatherNdAndTakeFollowDjlsDefinitions() {
    float[] x = Reference.random(rnd, 3 * 4 * 5, -1, 1);
    NDArray a = m.create(x, new Shape(3, 4, 5));
    RefTensor ref = RefTensor.of(x, 3, 4, 5);
    // index [2, 2, 3]: six (i, j) pairs, each picks a row of 5
    long[] idx = {0, 2, -1, 1, 0, 2, 3, 0, 1, -4, 2, 3};
    NDArray g = a.gatherNd(m.create(idx, new Shape(2, 2, 3)));
    assertEquals(new Shape(2, 3, 5), g.getShape());
    float[] r = g.toFloatArray();
    for (int p = 0; p < 6; p++) {
      int i = (int) Math.floorMod(idx[p], 3);
      int j = (int) Math.floorMod(idx[6 + p], 4);
      for (int t = 0; t < 5; t++) {
        assertEquals((float) ref.at(i, j, t), r[p * 5 + t]);
      }
    }
    NDArray taken = a.take(m.create(new long[] {0, 59, -1, 17}, new Shape(2, 2)));
    assertEquals(new Shape(2, 2), taken.getShape());
    assertArrayEquals(new float[] {x[0], x[59], x[59], x[17]}, taken.toFloatArray());
    assertThrows(IndexOutOfBoundsException.class, () -> a.take(m.create(new long[] {60})));
  }

  @Test
  void nonzeroWhereAndSequenceMask() {
    NDArray a = m.create(new float[] {0, 3, 0, -2, 0, 1}, new Shape(2, 3));
    assertArrayEquals(new long[] {0, 1, 1, 0, 1, 2}, a.nonzero().toLongArray());
    assertEquals(new Shape(3, 2), a.nonzero().getShape());
    NDArray w = NDArrays.where(a.gt(0), a, a.neg().mul(10));
    assertInstanceOf(CaiNDArray.class, w);
    assertArrayEquals(new float[] {-0f, 3, -0f, 20, -0f, 1}, w.toFloatArray());
    NDArray seq = m.create(new float[] {1, 2, 3, 4, 5, 6}, new Shape(2, 3));
    assertArrayEquals(new float[] {1, 2, -1, 4, -1, -1},
        seq.sequenceMask(m.create(new long[] {2, 1}), -1).toFloatArray());
  }
}
