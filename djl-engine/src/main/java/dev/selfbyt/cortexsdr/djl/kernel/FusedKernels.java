package dev.selfbyt.cortexsdr.djl.kernel;

/**
 * The native forms of the graph's fused operators (C, {@code fused_ops.c} in the same library as
 * the products) for the fused nodes of the graph package, and the scalar kernels' attention head:
 * each method runs when {@code kernels} have a form of it and returns true, or returns false without doing anything, and the caller then
 * runs its Java form with the same kernels' primitives (so a JVM without the library, or a model
 * whose settings ask for Java kernels, gets the same results within float rounding).
 */
public final class FusedKernels {
  private FusedKernels() {}

  /**
   * One (batch, head) of multi-head attention with the operands where {@code [batch, seq, heads,
   * dim]} tensors hold them: {@code out[oOff + i*heads*dv + c] = sum_j P[i][j] * v[vOff +
   * j*heads*dv + c]}, {@code P[i] = softmax_j(q_i . k_j * scale + m[mOff + i*mRow + j*mStep])} with
   * {@code q_i} at {@code q[qOff + i*heads*d]} and {@code k_j} at {@code k[kOff + j*heads*d]}, for
   * {@code i < sq}, {@code j < sk}, {@code c < dv}; {@code m} null: no mask.
   *
   * <p>The scalar kernels run it too ({@link ScalarAttention}: their panel product is strided, so
   * they take the head in the 0-based rows C2 vectorizes).
   *
   * @return whether it ran (false: {@code kernels} are neither native nor scalar)
   */
  public static boolean attentionHead(Kernels kernels, float[] q, int qOff, float[] k, int kOff, float[] v, int vOff,
      int sq, int sk, int heads, int d, int dv, float scale, float[] m, int mOff, int mRow, int mStep, float[] out,
      int oOff) {
    if (kernels instanceof ScalarKernels sc) {
      ScalarAttention.head(sc, q, qOff, k, kOff, v, vOff, sq, sk, heads, d, dv, scale, m, mOff, mRow, mStep, out, oOff);
      return true;
    }
    if (!(kernels instanceof NativeKernels nat)) {
      return false;
    }
    nat.attentionHead(q, qOff, k, kOff, v, vOff, sq, sk, heads, d, dv, scale, m, mOff, mRow, mStep, out, oOff);
    return true;
  }

  /**
   * Rows {@code r0 <= r < r1} of {@code len} values: {@code y = LayerNorm(x + skip)} ({@code skip}
   * null: of {@code x}) with scale {@code g} and shift {@code b} (null: none), then with {@code
   * sc}: {@code ys = y * sc}, or ({@code ys} null) {@code y} itself scaled. The sums run in vector
   * lanes.
   *
   * @return whether it ran (false: {@code kernels} are not native)
   */
  public static boolean skipLayerNormRows(Kernels kernels, float[] x, float[] skip, int r0, int r1, int len,
      float eps, float[] g, float[] b, float[] sc, float[] y, float[] ys) {
    if (!(kernels instanceof NativeKernels nat)) {
      return false;
    }
    nat.skipLayerNormRows(x, skip, r0, r1, len, eps, g, b, sc, y, ys);
    return true;
  }
}
