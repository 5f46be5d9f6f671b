package dev.selfbyt.cortexsdr.djl;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import ai.djl.nn.convolutional.Conv2d;
import ai.djl.nn.core.Linear;
import ai.djl.nn.norm.BatchNorm;
import ai.djl.nn.norm.LayerNorm;
import ai.djl.nn.pooling.Pool;
import dev.selfbyt.cortexsdr.core.codec.QuantCodec;
import dev.selfbyt.cortexsdr.core.codec.SdrCodec;
import dev.selfbyt.cortexsdr.core.tensor.DType;
import dev.selfbyt.cortexsdr.core.tensor.TensorData;
import dev.selfbyt.cortexsdr.core.tensor.TensorInfo;
import dev.selfbyt.cortexsdr.core.tensor.TensorRole;
import dev.selfbyt.cortexsdr.djl.graph.Value;
import dev.selfbyt.cortexsdr.djl.kernel.QuantMatrix;
import dev.selfbyt.cortexsdr.djl.kernel.SparseMatrix;
import java.nio.ByteBuffer;
import java.util.Random;
import java.util.function.DoubleUnaryOperator;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The dense operators a transformer and a CNN need, called on CortexSDR NDArrays the way DJL code
 * calls them (NDArray methods, {@link NDArrays}, and the {@code ai.djl.nn} functions that go
 * through {@code getNDArrayInternal()}), each against {@link Reference} on small random inputs.
 * Every result must be a {@link CaiNDArray}: an operator that fell back to DJL's alternative engine
 * (the tokenizers' Rust engine is on the test classpath) would fail the test.
 */
class NDArrayOperatorsTest {
  private static final float TOL = 2e-5f;
  private NDManager m;
  private final Random rnd = new Random(20261126);

  @BeforeEach
  void open() {
    m = Engine.getEngine("CortexSDR").newBaseManager();
  }

  @AfterEach
  void close() {
    m.close();
  }

  private NDArray random(Shape s, float lo, float hi) {
    return m.create(Reference.random(rnd, (int) s.size(), lo, hi), s);
  }

  private static void close(float[] expected, NDArray actual, String what) {
    assertInstanceOf(CaiNDArray.class, actual, what + " ran in " + actual.getManager().getEngine().getEngineName());
    float[] a = actual.toFloatArray();
    assertEquals(expected.length, a.length, what + ": size");
    for (int i = 0; i < a.length; i++) {
      assertEquals(expected[i], a[i], TOL * Math.max(1, Math.abs(expected[i])), what + " at " + i);
    }
  }

  private NDArray quantized(float[] w, TensorInfo info, QuantCodec codec, float[] decodedOut) {
    ByteBuffer payload = codec.encode(TensorData.ofFloats(info, w));
    float[] decoded = codec.decode(info, payload.duplicate()).floats();
    System.arraycopy(decoded, 0, decodedOut, 0, decoded.length);
    return ((CaiNDManager) m).create(Value.ofQuantized(info, QuantMatrix.of(codec.unpack(info, payload.duplicate()))));
  }

  @Test
  void elementWiseArithmeticBroadcasts() {
    NDArray a = random(new Shape(2, 3, 4), -2, 2);
    NDArray b = random(new Shape(3, 1), 0.5f, 2);
    float[] x = a.toFloatArray();
    float[] y = b.toFloatArray();
    float[][] expected = new float[5][x.length];
    for (int i = 0; i < x.length; i++) {
      float yv = y[(i / 4) % 3];
      expected[0][i] = x[i] + yv;
      expected[1][i] = x[i] - yv;
      expected[2][i] = x[i] * yv;
      expected[3][i] = x[i] / yv;
      expected[4][i] = (float) Math.pow(Math.abs(x[i]), yv);
    }
    close(expected[0], a.add(b), "add");
    close(expected[1], a.sub(b), "sub");
    close(expected[2], a.mul(b), "mul");
    close(expected[3], a.div(b), "div");
    close(expected[4], a.abs().pow(b), "pow");
    close(Reference.map(x, v -> v * 3), a.mul(3), "mul scalar");
    close(Reference.map(x, v -> Math.sqrt(Math.abs(v))), a.abs().sqrt(), "sqrt");
    close(Reference.map(x, v -> 1 / v), a.getNDArrayInternal().rdiv(1f), "rdiv");
    close(Reference.map(x, v -> Math.max(v, 0.5)), a.maximum(0.5f), "maximum");
  }

  @Test
  void activationsMatchTheirDefinitions() {
    NDArray a = random(new Shape(3, 5), -3, 3);
    float[] x = a.toFloatArray();
    DoubleUnaryOperator sigmoid = v -> 1 / (1 + Math.exp(-v));
    close(Reference.map(x, v -> Math.max(0, v)), Activation.relu(a), "relu");
    close(Reference.map(x, sigmoid), Activation.sigmoid(a), "sigmoid");
    close(Reference.map(x, Math::tanh), Activation.tanh(a), "tanh");
    close(Reference.map(x, Math::tanh), a.tanh(), "NDArray.tanh");
    close(Reference.map(x, Reference::erf), a.erf(), "erf");
    close(Reference.map(x, Reference::gelu), Activation.gelu(a), "gelu");
  }

  @Test
  void softmaxAndReductions() {
    NDArray a = random(new Shape(2, 3, 4), -3, 3);
    float[] x = a.toFloatArray();
    float[] soft = new float[x.length];
    float[] sum1 = new float[8];
    float[] mean2 = new float[6];
    for (int r = 0; r < 6; r++) {
      double max = Double.NEGATIVE_INFINITY;
      for (int i = 0; i < 4; i++) {
        max = Math.max(max, x[r * 4 + i]);
      }
      double z = 0;
      for (int i = 0; i < 4; i++) {
        z += Math.exp(x[r * 4 + i] - max);
        mean2[r] += x[r * 4 + i] / 4f;
      }
      for (int i = 0; i < 4; i++) {
        soft[r * 4 + i] = (float) (Math.exp(x[r * 4 + i] - max) / z);
      }
    }
    for (int b = 0; b < 2; b++) {
      for (int j = 0; j < 3; j++) {
        for (int i = 0; i < 4; i++) {
          sum1[b * 4 + i] += x[(b * 3 + j) * 4 + i];
        }
      }
    }
    close(soft, a.softmax(-1), "softmax");
    close(sum1, a.sum(new int[] {1}), "sum axis 1");
    close(mean2, a.mean(new int[] {2}), "mean axis 2");
    assertEquals(new Shape(2, 3, 1), a.mean(new int[] {-1}, true).getShape());
    double total = 0;
    for (float v : x) {
      total += v;
    }
    assertEquals(total, a.sum().getFloat(), 1e-4);
  }

  @Test
  void shapesSlicesConcatGatherWhere() {
    NDArray a = random(new Shape(2, 3, 4), -1, 1);
    float[] x = a.toFloatArray();
    float[] t = new float[x.length]; // transpose(2, 0, 1): [4, 2, 3]
    for (int b = 0; b < 2; b++) {
      for (int j = 0; j < 3; j++) {
        for (int i = 0; i < 4; i++) {
          t[(i * 2 + b) * 3 + j] = x[(b * 3 + j) * 4 + i];
        }
      }
    }
    NDArray tr = a.transpose(2, 0, 1);
    assertEquals(new Shape(4, 2, 3), tr.getShape());
    close(t, tr, "transpose");
    close(x, a.reshape(6, 4), "reshape");
    assertEquals(new Shape(6, 4), a.reshape(-1, 4).getShape());

    // slice: a[1, 1:3, ::2]
    NDArray s = a.get(new NDIndex("1, 1:3, ::2"));
    assertEquals(new Shape(2, 2), s.getShape());
    close(new float[] {x[16], x[18], x[20], x[22]}, s, "slice");

    NDArray b = random(new Shape(2, 1, 4), -1, 1);
    NDArray cat = a.concat(b, 1);
    assertEquals(new Shape(2, 4, 4), cat.getShape());
    close(b.get(new NDIndex(":, 0")).toFloatArray(), cat.get(new NDIndex(":, 3")), "concat tail");
    close(a.toFloatArray(), cat.get(new NDIndex(":, 0:3")), "concat head");
    NDArray three = NDArrays.concat(new NDList(b, b, b), 1);
    assertEquals(new Shape(2, 3, 4), three.getShape());
    NDArray stacked = NDArrays.stack(new NDList(a, a), 0);
    assertEquals(new Shape(2, 2, 3, 4), stacked.getShape());
    close(x, stacked.get(new NDIndex("1")), "stack");

    // gather rows of an embedding table (what a translator's token lookup does)
    NDArray table = random(new Shape(5, 3), -1, 1);
    float[] tv = table.toFloatArray();
    NDArray ids = m.create(new long[] {4, 0, 4, 2}, new Shape(2, 2));
    NDArray rows = table.getNDArrayInternal().embedding(ids, table, ai.djl.ndarray.types.SparseFormat.DENSE)
        .singletonOrThrow();
    assertEquals(new Shape(2, 2, 3), rows.getShape());
    float[] expected = new float[12];
    long[] idv = {4, 0, 4, 2};
    for (int r = 0; r < 4; r++) {
      System.arraycopy(tv, (int) idv[r] * 3, expected, r * 3, 3);
    }
    close(expected, rows, "embedding gather");
    close(expected, table.get(ids), "take by an index array");
    NDArray cols = table.get(new NDIndex(":, {}", m.create(new long[] {2, 0})));
    assertEquals(new Shape(5, 2), cols.getShape());
    close(new float[] {tv[2], tv[0], tv[5], tv[3], tv[8], tv[6], tv[11], tv[9], tv[14], tv[12]}, cols,
        "take along axis 1");

    NDArray cond = a.eq(a.abs()); // a >= 0
    NDArray zeros = m.zeros(a.getShape());
    close(Reference.map(x, v -> v >= 0 ? v : 0), NDArrays.where(cond, a, zeros), "where");
  }

  @Test
  void comparisonsAndElementGather() {
    NDArray a = random(new Shape(3, 4), -1, 1);
    NDArray b = random(new Shape(4), -1, 1);
    float[] x = a.toFloatArray();
    float[] y = b.toFloatArray();
    boolean[][] expected = new boolean[6][12];
    for (int i = 0; i < 12; i++) {
      float u = x[i];
      float v = y[i % 4];
      expected[0][i] = u > v;
      expected[1][i] = u >= v;
      expected[2][i] = u < v;
      expected[3][i] = u <= v;
      expected[4][i] = u != v;
      expected[5][i] = u > 0;
    }
    NDArray[] got = {a.gt(b), a.gte(b), a.lt(b), a.lte(b), a.neq(b), a.gt(0)};
    for (int k = 0; k < got.length; k++) {
      assertInstanceOf(CaiNDArray.class, got[k]);
      assertEquals(DataType.BOOLEAN, got[k].getDataType());
      assertArrayEquals(expected[k], got[k].toBooleanArray(), "comparison " + k);
    }
    assertArrayEquals(new boolean[] {true, false}, m.create(new float[] {2, 3}).lte(2).toBooleanArray());

    // gather along axis 1 (PyTorch semantics): out[i][j] = a[i][index[i][j]]
    long[] idx = {3, 0, 1, 1, 2, 0};
    NDArray g = a.gather(m.create(idx, new Shape(3, 2)), 1);
    assertEquals(new Shape(3, 2), g.getShape());
    float[] eg = new float[6];
    for (int i = 0; i < 3; i++) {
      for (int j = 0; j < 2; j++) {
        eg[i * 2 + j] = x[i * 4 + (int) idx[i * 2 + j]];
      }
    }
    close(eg, g, "gather axis 1");
    assertThrows(IndexOutOfBoundsException.class, () -> a.gather(m.create(new long[] {4}, new Shape(1, 1)), 1));
  }

  @Test
  void poolingMaxAndAverage() {
    NDArray a = random(new Shape(2, 3, 7, 6), -2, 2);
    float[] x = a.toFloatArray();
    int[][] cases = {{2, 2, 2, 2, 0, 0}, {3, 3, 2, 2, 1, 1}, {3, 2, 2, 1, 1, 0}};
    for (int[] c : cases) {
      int[] k = {c[0], c[1]};
      int[] s = {c[2], c[3]};
      int[] p = {c[4], c[5]};
      for (boolean ceil : new boolean[] {false, true}) {
        String what = "k" + k[0] + "x" + k[1] + " s" + s[0] + "x" + s[1] + " p" + p[0] + "x" + p[1] + " ceil " + ceil;
        NDArray max = Pool.maxPool2d(a, new Shape(k[0], k[1]), new Shape(s[0], s[1]), new Shape(p[0], p[1]), ceil);
        assertEquals(new Shape(2, 3, Reference.pooledLength(7, k[0], s[0], p[0], ceil),
            Reference.pooledLength(6, k[1], s[1], p[1], ceil)), max.getShape(), what);
        close(Reference.pool2d(x, 6, 7, 6, k, s, p, ceil, false, false), max, "max " + what);
        for (boolean countPad : new boolean[] {false, true}) {
          NDArray avg = Pool.avgPool2d(a, new Shape(k[0], k[1]), new Shape(s[0], s[1]), new Shape(p[0], p[1]), ceil,
              countPad);
          close(Reference.pool2d(x, 6, 7, 6, k, s, p, ceil, true, countPad), avg, "avg count_pad " + countPad + " " + what);
        }
      }
    }
    float[] gap = new float[6];
    for (int c = 0; c < 6; c++) {
      for (int i = 0; i < 42; i++) {
        gap[c] += x[c * 42 + i] / 42f;
      }
    }
    close(gap, Pool.globalAvgPool2d(a), "global average");
    assertEquals(new Shape(2, 3), Pool.globalMaxPool2d(a).getShape());
  }

  @Test
  void batchNormAndLayerNorm() {
    NDArray a = random(new Shape(2, 3, 4, 5), -2, 2);
    float[] mean = Reference.random(rnd, 3, -0.5f, 0.5f);
    float[] var = Reference.random(rnd, 3, 0.5f, 2f);
    float[] gamma = Reference.random(rnd, 3, 0.5f, 1.5f);
    float[] beta = Reference.random(rnd, 3, -1f, 1f);
    NDArray bn = BatchNorm.batchNorm(a, m.create(mean), m.create(var), m.create(gamma), m.create(beta), 1, 0.9f,
        1e-5f, false).singletonOrThrow();
    close(Reference.batchNorm(a.toFloatArray(), 2, 3, 20, mean, var, gamma, beta, 1e-5), bn, "batch norm");

    NDArray h = random(new Shape(2, 3, 8), -3, 3);
    float[] g = Reference.random(rnd, 8, 0.5f, 1.5f);
    float[] be = Reference.random(rnd, 8, -1f, 1f);
    NDArray ln = LayerNorm.layerNorm(h, new Shape(8), m.create(g), m.create(be), 1e-5f).singletonOrThrow();
    close(Reference.layerNorm(h.toFloatArray(), 8, g, be, 1e-5), ln, "layer norm");
  }

  private NDArray sdr(float[] w, TensorInfo info, float[] decodedOut) {
    SdrCodec codec = SdrCodec.builder().sparsity(0.6).build();
    ByteBuffer payload = codec.encode(TensorData.ofFloats(info, w));
    float[] decoded = codec.decode(info, payload.duplicate()).floats();
    System.arraycopy(decoded, 0, decodedOut, 0, decoded.length);
    SparseMatrix s = SparseMatrix.of(codec.unpack(info, payload.duplicate()),
        Math.toIntExact(info.outer() * info.inner()), Math.toIntExact(info.fiberLength()));
    return ((CaiNDManager) m).create(Value.ofSparse(info, s));
  }

  @Test
  void linearAndConvWithSdrWeights() {
    NDArray x = random(new Shape(3, 16), -1, 1);
    float[] w = Reference.random(rnd, 5 * 16, -1, 1);
    float[] decoded = new float[w.length];
    NDArray s = sdr(w, new TensorInfo("w", DType.FLOAT32, new long[] {5, 16}, TensorRole.MATMUL_WEIGHT, 1), decoded);
    assertEquals(ai.djl.ndarray.types.SparseFormat.CSR, s.getSparseFormat());
    close(Reference.linear(x.toFloatArray(), 3, 16, decoded, 5, null), Linear.linear(x, s, null).singletonOrThrow(),
        "linear sdr");

    NDArray img = random(new Shape(1, 4, 6, 5), -1, 1);
    float[] cw = Reference.random(rnd, 6 * 4 * 3 * 3, -1, 1);
    float[] cdec = new float[cw.length];
    NDArray cs = sdr(cw, new TensorInfo("c", DType.FLOAT32, new long[] {6, 4, 3, 3}, TensorRole.CONV_WEIGHT, 1), cdec);
    int[] one = {1, 1};
    close(Reference.conv2d(img.toFloatArray(), 1, 4, 6, 5, cdec, 6, 3, 3, null, one, one, one, 1),
        Conv2d.conv2d(img, cs, null, new Shape(1, 1), new Shape(1, 1), new Shape(1, 1), 1).singletonOrThrow(),
        "conv sdr");
  }

  @Test
  void linearWithDenseAndQuantizedWeights() {
    NDArray x = random(new Shape(2, 3, 16), -1, 1);
    float[] w = Reference.random(rnd, 5 * 16, -1, 1);
    float[] bias = Reference.random(rnd, 5, -1, 1);
    NDArray y = Linear.linear(x, m.create(w, new Shape(5, 16)), m.create(bias)).singletonOrThrow();
    assertEquals(new Shape(2, 3, 5), y.getShape());
    close(Reference.linear(x.toFloatArray(), 6, 16, w, 5, bias), y, "linear");
    close(Reference.linear(x.toFloatArray(), 6, 16, w, 5, null), x.matMul(m.create(w, new Shape(5, 16)).transpose()),
        "matMul");

    TensorInfo info = new TensorInfo("w", DType.FLOAT32, new long[] {5, 16}, TensorRole.MATMUL_WEIGHT, 1);
    float[] decoded = new float[w.length];
    NDArray q = quantized(w, info, QuantCodec.blockwise(4, false, 8), decoded);
    NDArray yq = Linear.linear(x, q, m.create(bias)).singletonOrThrow();
    close(Reference.linear(x.toFloatArray(), 6, 16, decoded, 5, bias), yq, "linear int4");
  }

  @Test
  void conv2dWithDenseAndQuantizedWeights() {
    NDArray x = random(new Shape(2, 4, 7, 6), -1, 1);
    float[] xv = x.toFloatArray();
    // {out channels, kernel h, kernel w, stride, pad, dilation, groups}
    int[][] cases = {{6, 3, 3, 1, 1, 1, 1}, {4, 3, 2, 2, 1, 1, 2}, {4, 3, 3, 1, 2, 2, 4}, {5, 1, 1, 1, 0, 1, 1}};
    for (int[] c : cases) {
      int oc = c[0], kh = c[1], kw = c[2], groups = c[6];
      int[] s = {c[3], c[3]};
      int[] p = {c[4], c[4]};
      int[] d = {c[5], c[5]};
      float[] w = Reference.random(rnd, oc * (4 / groups) * kh * kw, -1, 1);
      float[] bias = Reference.random(rnd, oc, -1, 1);
      NDArray y = Conv2d.conv2d(x, m.create(w, new Shape(oc, 4 / groups, kh, kw)), m.create(bias),
          new Shape(s[0], s[1]), new Shape(p[0], p[1]), new Shape(d[0], d[1]), groups).singletonOrThrow();
      close(Reference.conv2d(xv, 2, 4, 7, 6, w, oc, kh, kw, bias, s, p, d, groups), y,
          "conv " + java.util.Arrays.toString(c));
    }
    float[] w = Reference.random(rnd, 6 * 4 * 3 * 3, -1, 1);
    TensorInfo info = new TensorInfo("conv", DType.FLOAT32, new long[] {6, 4, 3, 3}, TensorRole.CONV_WEIGHT, 1);
    for (QuantCodec codec : new QuantCodec[] {QuantCodec.perChannel(8, true), QuantCodec.blockwise(4, false, 12)}) {
      float[] decoded = new float[w.length];
      NDArray q = quantized(w, info, codec, decoded);
      NDArray y = Conv2d.conv2d(x, q, null, new Shape(1, 1), new Shape(1, 1), new Shape(1, 1), 1).singletonOrThrow();
      close(Reference.conv2d(xv, 2, 4, 7, 6, decoded, 6, 3, 3, null, new int[] {1, 1}, new int[] {1, 1},
          new int[] {1, 1}, 1), y, "conv " + codec.describe());
    }
  }

  @Test
  void mismatchedShapesAreClearErrors() {
    NDArray x = random(new Shape(2, 3), -1, 1);
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> Linear.linear(x, m.zeros(new Shape(4, 5)), null));
    assertEquals(true, e.getMessage().contains("[4, 5]"), e.getMessage());
    assertThrows(IllegalArgumentException.class, () -> Conv2d.conv2d(random(new Shape(1, 3, 4, 4), 0, 1),
        m.zeros(new Shape(2, 2, 3, 3)), null, new Shape(1, 1), new Shape(0, 0), new Shape(1, 1), 1));
    assertEquals(DataType.FLOAT32, x.getDataType());
  }
}
