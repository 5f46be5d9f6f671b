package dev.selfbyt.cortexsdr.djl;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.ndarray.types.SparseFormat;
import org.junit.jupiter.api.Test;

/** The engine's NDArrays as a DJL user meets them: dense, sparse (CSR) and the operators translators use. */
class CaiNDArrayTest {
  @Test
  void csrArraysStaySparseAndMultiplyLikeDenseOnes() {
    try (NDManager m = Engine.getEngine("CortexSDR").newBaseManager()) {
      float[] w = {0, 2, 0, 0, -1, 0, 3, 0, 0, 0, 0, 5};
      NDArray dense = m.create(w, new Shape(4, 3));
      NDArray sparse = dense.toSparse(SparseFormat.CSR);
      assertEquals(SparseFormat.CSR, sparse.getSparseFormat());
      NDArray csr = m.createCSR(java.nio.FloatBuffer.wrap(new float[] {2, -1, 3, 5}), new long[] {0, 1, 2, 3, 4},
          new long[] {1, 1, 0, 2}, new Shape(4, 3));
      assertArrayEquals(w, csr.toDense().toFloatArray());
      NDArray x = m.create(new float[] {1, 2, 3, 4, 5, 6, 7, 8}, new Shape(2, 4));
      float[] expected = x.matMul(dense).toFloatArray();
      assertArrayEquals(expected, x.matMul(sparse).toFloatArray(), 1e-6f);
      assertArrayEquals(expected, x.matMul(csr).toFloatArray(), 1e-6f);
      assertArrayEquals(new float[] {9, 0, 20}, x.get(new NDIndex("0")).matMul(csr).toFloatArray(), 1e-6f);
    }
  }

  @Test
  void translatorOperatorsRunWithoutAnAlternativeEngine() {
    try (NDManager m = Engine.getEngine("CortexSDR").newBaseManager()) {
      NDArray h = m.create(new float[] {1, 2, 3, 4, 5, 6}, new Shape(1, 3, 2));
      NDArray mask = m.create(new long[] {1, 1, 0}, new Shape(1, 3));
      NDArray expanded = mask.expandDims(-1).broadcast(h.getShape());
      NDArray mean = h.mul(expanded).sum(new int[] {-2}).div(expanded.sum(new int[] {-2}).clip(1e-9f, 1e12f));
      assertArrayEquals(new float[] {2, 3}, mean.toFloatArray(), 1e-6f);
      NDArray unit = mean.normalize(2, -1);
      assertEquals(1.0, Math.hypot(unit.toFloatArray()[0], unit.toFloatArray()[1]), 1e-6);
      assertArrayEquals(new float[] {1, 2}, h.get(new NDIndex(":, 0")).toFloatArray());
      assertArrayEquals(new float[] {5, 6}, h.get(new NDIndex(":, -1")).toFloatArray());
      assertEquals(DataType.FLOAT32, mask.toType(DataType.FLOAT32, false).getDataType());
      assertArrayEquals(new float[] {0.5f, 0.5f}, m.create(new float[] {3, 3}).softmax(0).toFloatArray(), 1e-6f);
      assertEquals(new Shape(2, 3), h.reshape(3, 2).transpose().getShape());
    }
  }
}
