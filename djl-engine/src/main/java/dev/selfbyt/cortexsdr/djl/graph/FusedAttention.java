package dev.selfbyt.cortexsdr.djl.graph;

import dev.selfbyt.cortexsdr.djl.kernel.FusedKernels;
import dev.selfbyt.cortexsdr.djl.kernel.KernelThreads;
import dev.selfbyt.cortexsdr.djl.kernel.Kernels;
import java.util.Arrays;

/**
 * The fused {@code Attention} node of {@link Fusion}: {@code out[b, i, h, :] = sum_j P[b,h,i,j]
 * v[b, j, h, :]} with {@code P = softmax(q[b,:,h,:] k[b,:,h,:]^T * scale + mask)}, which is what
 * the exported chain ({@code Transpose}s, two {@code MatMul}s, the scaled masked softmax and the
 * transpose back) computes. Each (batch, head) is one task on the engine threads: it reads its
 * query, key and value rows where they lie in the {@code [batch, seq, heads, dim]} inputs, keeps
 * its {@code [seq_q, seq_k]} scores to itself (in cache) and writes its output columns in place,
 * so the four transposed copies and the full score tensor of the unfused chain are never made.
 * The native kernels do one head in one call; the Java kernels run the same steps with their
 * panel product and softmax. Shapes outside this form (another rank, a mask that widens the
 * scores or broadcasts along the keys) run the original operators instead.
 */
final class FusedAttention {
  private FusedAttention() {}

  static Value run(Value q, Value k, Value v, Value mask, float scale) {
    long[] qs = q.shapeRef();
    long[] ks = k.shapeRef();
    long[] vs = v.shapeRef();
    boolean fits = qs.length == 4 && ks.length == 4 && vs.length == 4 && q.isFloating() && k.isFloating()
        && v.isFloating() && qs[0] == ks[0] && ks[0] == vs[0] && qs[2] == ks[2] && ks[2] == vs[2]
        && qs[3] == ks[3] && ks[1] == vs[1];
    long[] scores = fits ? new long[] {qs[0], qs[2], qs[1], ks[1]} : null;
    int[] mst = null;
    if (fits && mask != null) {
      long[] ms = mask.shapeRef();
      try {
        fits = mask.isFloating() && Arrays.equals(Broadcast.shape(scores, ms), scores);
      } catch (IllegalArgumentException e) {
        fits = false; // shapes that do not broadcast: the Add of the unfused chain says so
      }
      mst = fits ? Broadcast.strides(ms, scores) : null;
    }
    if (!fits) {
      return unfused(q, k, v, mask, scale);
    }
    int batch = (int) qs[0];
    int sq = (int) qs[1];
    int heads = (int) qs[2];
    int d = (int) qs[3];
    int sk = (int) ks[1];
    int dv = (int) vs[3];
    float[] qa = q.floats();
    float[] ka = k.floats();
    float[] va = v.floats();
    float[] m = mask == null ? null : mask.floats();
    Kernels kern = Kernels.get();
    // every head writes all its rows and columns: an array of this run may be reused (sq, dv > 0)
    int size = batch * sq * heads * dv;
    float[] out = sk > 0 ? ArrayRecycler.floats(size) : new float[size];
    int[] st = mst;
    long work = (long) batch * heads * sq * sk * (d + dv);
    KernelThreads.forEach(batch * heads, work, t -> {
      int b = t / heads;
      int h = t % heads;
      int qOff = b * sq * heads * d + h * d;
      int kOff = b * sk * heads * d + h * d;
      int vOff = b * sk * heads * dv + h * dv;
      int oOff = b * sq * heads * dv + h * dv;
      int mOff = m == null ? 0 : b * st[0] + h * st[1];
      int mRow = m == null ? 0 : st[2];
      int mStep = m == null ? 0 : st[3];
      if (!FusedKernels.attentionHead(kern, qa, qOff, ka, kOff, va, vOff, sq, sk, heads, d, dv, scale, m, mOff, mRow,
          mStep, out, oOff)) {
        head(kern, qa, qOff, ka, kOff, va, vOff, sq, sk, heads, d, dv, scale, m, mOff, mRow, mStep, out, oOff);
      }
    });
    return Value.ofFloats(new long[] {batch, sq, heads, dv}, out);
  }

  /**
   * One head with the Java kernels: the query rows and the transposed keys copied together (small:
   * {@code seq * dim}), scores by panels of the kernels' product, the softmax in place, then the
   * product with the value rows read in place and written in place.
   */
  static void head(Kernels kern, float[] q, int qOff, float[] k, int kOff, float[] v, int vOff, int sq, int sk,
      int heads, int d, int dv, float scale, float[] m, int mOff, int mRow, int mStep, float[] out, int oOff) {
    int ld = heads * d;
    int ldv = heads * dv;
    float[] qh = new float[sq * d];
    for (int i = 0; i < sq; i++) {
      System.arraycopy(q, qOff + i * ld, qh, i * d, d);
    }
    float[] kt = new float[d * sk];
    for (int j = 0; j < sk; j++) {
      for (int c = 0, src = kOff + j * ld; c < d; c++) {
        kt[c * sk + j] = k[src + c];
      }
    }
    float[] s = new float[sq * sk];
    int panel = 32;
    for (int j0 = 0; j0 < sk; j0 += panel) {
      kern.gemmPanel(qh, 0, sq, d, kt, j0, sk, Math.min(panel, sk - j0), s, j0, sk);
    }
    kern.softmaxRows(s, 0, sq, sk, scale, m, Kernels.maskRows(m, mOff, mRow, sq), mStep, s);
    for (int j0 = 0; j0 < dv; j0 += panel) {
      kern.gemmPanel(s, 0, sq, sk, v, vOff + j0, ldv, Math.min(panel, dv - j0), out, oOff + j0, ldv);
    }
  }

  /** The chain the node replaced, operator by operator (shapes outside the fused form). */
  private static Value unfused(Value q, Value k, Value v, Value mask, float scale) {
    long[] qkvPerm = {0, 2, 1, 3};
    Value scores = ProductOps.matMul(ShapeOps.transpose(q, qkvPerm), ShapeOps.transpose(k, new long[] {0, 2, 3, 1}));
    Value p = FusedOps.scaledMaskedSoftmax(scores, mask, scale, -1, false);
    return ShapeOps.transpose(ProductOps.matMul(p, ShapeOps.transpose(v, qkvPerm)), qkvPerm);
  }
}
