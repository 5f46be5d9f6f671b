package dev.selfbyt.cortexsdr.djl;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertSame;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.util.Random;
import java.util.function.DoubleUnaryOperator;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Element-wise operators (logSoftmax, rounding, trigonometry, mod, logic, clip, pow, erf), layout
 * operators (repeat, tile, flip, flatten), the in-place operators and indexed get/set, on odd
 * shapes and negative axes, against loop-by-loop references in double.
 */
class ElementWiseLayoutAndIndexingTest {
  private NDManager m;
  private final Random rnd = new Random(3);

  @BeforeEach
  void open() {
    m = NDManager.newBaseManager("CortexSDR");
  }

  @AfterEach
  void close() {
    m.close();
  }

  private static void close(float[] expected, NDArray actual, double tol, String what) {
    assertInstanceOf(CaiNDArray.class, actual, what);
    float[] a = actual.toFloatArray();
    assertEquals(expected.length, a.length, what + ": size");
    for (int i = 0; i < a.length; i++) {
      assertEquals(expected[i], a[i], tol * Math.max(1, Math.abs(expected[i])), what + " at " + i);
    }
  }

  @Test
  void logSoftmaxAlongAnyAxisIsStable() {
    long[] shape = {3, 5, 7};
    float[] x = Reference.random(rnd, 105, -4, 4);
    x[0] = 1000; // exp(1000) overflows: the maximum must be subtracted first
    NDArray a = m.create(x, new Shape(shape));
    RefTensor ref = RefTensor.of(x, shape);
    for (int axis : new int[] {-1, 0, 1}) {
      int ax = RefTensor.norm(axis, 3);
      float[] expect = new float[105];
      int i = 0;
      for (int[] c : RefTensor.coordinates(shape)) {
        double[] f = ref.fiber(c, ax);
        double max = java.util.Arrays.stream(f).max().orElseThrow();
        double sum = 0;
        for (double v : f) {
          sum += Math.exp(v - max);
        }
        expect[i++] = (float) (ref.at(c) - max - Math.log(sum));
      }
      close(expect, a.logSoftmax(axis), 1e-6, "logSoftmax " + axis);
    }
  }

  @Test
  void unaryFamilyMatchesJavaMath() {
    float[] x = {-2.5f, -1.5f, -0.5f, 0.5f, 1.5f, 2.5f, -0.3f, 0.7f, 0f};
    NDArray a = m.create(x, new Shape(3, 3));
    close(new float[] {-2, -2, -0f, 0, 2, 2, -0f, 1, 0}, a.round(), 0, "round half to even");
    close(Reference.map(x, Math::floor), a.floor(), 0, "floor");
    close(Reference.map(x, Math::ceil), a.ceil(), 0, "ceil");
    close(Reference.map(x, v -> (long) v), a.trunc(), 0, "trunc");
    close(Reference.map(x, Math::signum), a.sign(), 0, "sign");
    close(Reference.map(x, v -> v * v), a.square(), 0, "square");
    DoubleUnaryOperator[] f = {Math::sin, Math::cos, Math::tan, Math::atan, Math::sinh, Math::cosh, Math::cbrt};
    NDArray[] got = {a.sin(), a.cos(), a.tan(), a.atan(), a.sinh(), a.cosh(), a.cbrt()};
    for (int i = 0; i < f.length; i++) {
      close(Reference.map(x, f[i]), got[i], 1e-6, "unary " + i);
    }
    float[] unit = {-0.9f, -0.3f, 0.2f, 0.8f};
    NDArray u = m.create(unit);
    close(Reference.map(unit, Math::asin), u.asin(), 1e-6, "asin");
    close(Reference.map(unit, v -> 0.5 * Math.log((1 + v) / (1 - v))), u.atanh(), 1e-6, "atanh");
    close(Reference.map(unit, Reference::erf), u.erf(), 1e-6, "erf");
    close(Reference.map(unit, v -> Math.min(0.5, Math.max(-0.25, v))), u.clip(-0.25, 0.5), 0, "clip");
    close(Reference.map(unit, v -> Math.pow(v + 1, 1.7)), u.add(1).pow(1.7f), 1e-6, "pow");
    NDArray pos = m.create(new float[] {0.5f, 8f, 1000f});
    close(Reference.map(new float[] {0.5f, 8f, 1000f}, Math::log10), pos.log10(), 1e-6, "log10");
    close(new float[] {-1, 3, (float) (Math.log(1000) / Math.log(2))}, pos.log2(), 1e-6, "log2");
    assertArrayEquals(new long[] {-3, 4}, m.create(new long[] {-3, 4}).round().toLongArray());
  }

  @Test
  void modTakesTheDivisorsSignAndLogicBroadcasts() {
    NDArray a = m.create(new float[] {7, -7, 7, -7, 5.5f});
    NDArray b = m.create(new float[] {3, 3, -3, -3, 2});
    // Python: 7 % 3 = 1, -7 % 3 = 2, 7 % -3 = -2, -7 % -3 = -1, 5.5 % 2 = 1.5
    close(new float[] {1, 2, -2, -1, 1.5f}, a.mod(b), 1e-6, "mod");
    assertArrayEquals(new long[] {1, 2, -2}, m.create(new long[] {7, -7, 7}).mod(m.create(new long[] {3, 3, -3}))
        .toLongArray());
    NDArray p = m.create(new boolean[] {true, false, true, false}, new Shape(2, 2));
    NDArray q = m.create(new boolean[] {true, false});
    assertArrayEquals(new boolean[] {true, false, true, false}, p.logicalAnd(q).toBooleanArray());
    assertArrayEquals(new boolean[] {true, false, true, false}, p.logicalOr(q.logicalAnd(q.logicalNot()))
        .toBooleanArray());
    assertArrayEquals(new boolean[] {false, false, false, false}, p.logicalXor(p).toBooleanArray());
    NDArray special = m.create(new float[] {Float.NaN, 1, Float.POSITIVE_INFINITY});
    assertArrayEquals(new boolean[] {true, false, false}, special.isNaN().toBooleanArray());
    assertArrayEquals(new boolean[] {false, false, true}, special.isInfinite().toBooleanArray());
  }

  @Test
  void repeatTileFlipAndFlattenMoveValues() {
    long[] shape = {2, 3, 5};
    float[] x = Reference.random(rnd, 30, -1, 1);
    NDArray a = m.create(x, new Shape(shape));
    RefTensor ref = RefTensor.of(x, shape);
    NDArray rep = a.repeat(-2, 2);
    assertEquals(new Shape(2, 6, 5), rep.getShape());
    float[] r = rep.toFloatArray();
    int i = 0;
    for (int[] c : RefTensor.coordinates(new long[] {2, 6, 5})) {
      assertEquals((float) ref.at(c[0], c[1] / 2, c[2]), r[i++], "repeat at " + java.util.Arrays.toString(c));
    }
    NDArray tiled = a.tile(new long[] {2, 1, 3});
    assertEquals(new Shape(4, 3, 15), tiled.getShape());
    float[] t = tiled.toFloatArray();
    i = 0;
    for (int[] c : RefTensor.coordinates(new long[] {4, 3, 15})) {
      assertEquals((float) ref.at(c[0] % 2, c[1], c[2] % 5), t[i++], "tile");
    }
    NDArray flipped = a.flip(0, -1);
    float[] fl = flipped.toFloatArray();
    i = 0;
    for (int[] c : RefTensor.coordinates(shape)) {
      assertEquals((float) ref.at(1 - c[0], c[1], 4 - c[2]), fl[i++], "flip");
    }
    assertEquals(new Shape(2, 15), a.flatten(1, -1).getShape());
    assertArrayEquals(x, a.flatten().toFloatArray());
    assertArrayEquals(new float[] {0, 0, 1, 1, 2, 2}, m.create(new float[] {0, 1, 2}).repeat(2).toFloatArray());
    assertEquals(new Shape(1, 6), m.create(new float[] {0, 1, 2}).tile(1, 2).getShape());
    assertEquals(new Shape(4, 6, 10), a.tile(new Shape(4, 6, 10)).getShape());
  }

  @Test
  void inPlaceOperatorsChangeTheArrayItself() {
    NDArray a = m.create(new float[] {1, 2, 3, 4}, new Shape(2, 2));
    assertSame(a, a.addi(1));
    assertSame(a, a.muli(m.create(new float[] {2, 10})));
    a.subi(1).divi(2);
    assertArrayEquals(new float[] {1.5f, 14.5f, 3.5f, 24.5f}, a.toFloatArray());
    NDArray ints = m.create(new long[] {5, 7});
    ints.muli(3);
    assertEquals(DataType.INT64, ints.getDataType());
    assertArrayEquals(new long[] {15, 21}, ints.toLongArray());
  }

  @Test
  void indexedGetAndSet() {
    float[] x = Reference.random(rnd, 2 * 3 * 4, -1, 1);
    NDArray a = m.create(x, new Shape(2, 3, 4));
    NDArray last = a.get("..., -1");
    assertEquals(new Shape(2, 3), last.getShape());
    assertArrayEquals(new float[] {x[3], x[7], x[11], x[15], x[19], x[23]}, last.toFloatArray());
    NDArray picked = a.get(new NDIndex().addAllDim().addAllDim().addPickDim(m.create(new long[] {1, 0, 3, 2, 2, 0},
        new Shape(2, 3))));
    assertArrayEquals(new float[] {x[1], x[4], x[11], x[14], x[18], x[20]}, picked.toFloatArray());

    NDArray b = a.duplicate();
    b.set(new NDIndex(":, 1"), m.create(new float[] {9, 8, 7, 6}));
    b.set(new NDIndex("..., 0"), 5f);
    b.setScalar(new NDIndex("1, 2, 3"), -1f);
    b.set(new NDIndex("0, 0"), arr -> arr.mul(0));
    float[] expect = x.clone();
    for (int i = 0; i < 2; i++) {
      for (int k = 0; k < 4; k++) {
        expect[i * 12 + 4 + k] = 9 - k;
      }
      for (int j = 0; j < 3; j++) {
        expect[i * 12 + j * 4] = 5;
      }
    }
    expect[23] = -1;
    for (int k = 0; k < 4; k++) {
      expect[k] = expect[k] * 0;
    }
    assertArrayEquals(expect, b.toFloatArray());
    NDArray cols = m.create(x, new Shape(2, 3, 4));
    cols.set(new NDIndex(":, {}", m.create(new int[] {2, -3})), -7f); // rows 2 and 0 of axis 1
    float[] masked = x.clone();
    for (int i = 0; i < 2; i++) {
      for (int j : new int[] {0, 2}) {
        for (int k = 0; k < 4; k++) {
          masked[i * 12 + j * 4 + k] = -7;
        }
      }
    }
    assertArrayEquals(masked, cols.toFloatArray(), "set with an index array, as DJL's QA translator does");
    NDArray c = m.create(new float[] {1, -2, 3, -4});
    c.set(c.lt(0), 0);
    assertArrayEquals(new float[] {1, 0, 3, 0}, c.toFloatArray());
    assertArrayEquals(x, a.toFloatArray(), "set on a duplicate leaves the original alone");
  }
}
