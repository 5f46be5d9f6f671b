package dev.selfbyt.cortexsdr.djl.kernel;

/**
 * One head of multi-head attention ({@link FusedKernels#attentionHead}) for {@link ScalarKernels},
 * in the shapes C2 auto-vectorizes: the keys transposed into one 0-based row per element of the
 * head ({@code d} rows of {@code sk}) and the values copied into one 0-based row per key, so both
 * products are {@link ScalarMatMul#gemm}'s {@code acc[j] += a * row[j]} loops, not the strided
 * register-blocked panel loops (measured 3 GFLOP/s, a sixth of the model's time on the scalar path).
 */
final class ScalarAttention {
  private ScalarAttention() {}

  /** The arithmetic of {@link FusedKernels#attentionHead}, same arguments. */
  static void head(ScalarKernels kern, float[] q, int qOff, float[] k, int kOff, float[] v, int vOff, int sq, int sk,
      int heads, int d, int dv, float scale, float[] m, int mOff, int mRow, int mStep, float[] out, int oOff) {
    int ld = heads * d;
    int ldv = heads * dv;
    float[] qh = new float[sq * d];
    for (int i = 0; i < sq; i++) {
      System.arraycopy(q, qOff + i * ld, qh, i * d, d);
    }
    float[][] kt = new float[d][sk];
    for (int j = 0; j < sk; j++) {
      for (int c = 0, src = kOff + j * ld; c < d; c++) {
        kt[c][j] = k[src + c];
      }
    }
    float[] s = new float[sq * sk];
    for (int j0 = 0; j0 < sk; j0 += ScalarMatMul.WIDE) {
      ScalarMatMul.gemm(qh, 0, 0, sq, d, j0 == 0 ? kt : shifted(kt, j0, Math.min(ScalarMatMul.WIDE, sk - j0)),
          Math.min(ScalarMatMul.WIDE, sk - j0), s, j0, sk, null, 0);
    }
    kern.softmaxRows(s, 0, sq, sk, scale, m, Kernels.maskRows(m, mOff, mRow, sq), mStep, s);
    float[][] vr = new float[sk][];
    for (int j = 0; j < sk; j++) {
      vr[j] = new float[Math.min(dv, ScalarMatMul.WIDE)];
    }
    float[] o = new float[sq * dv];
    for (int c0 = 0; c0 < dv; c0 += ScalarMatMul.WIDE) {
      int nb = Math.min(ScalarMatMul.WIDE, dv - c0);
      for (int j = 0; j < sk; j++) {
        System.arraycopy(v, vOff + j * ldv + c0, vr[j], 0, nb);
      }
      ScalarMatMul.gemm(s, 0, 0, sq, sk, vr, nb, o, c0, dv, null, 0);
    }
    for (int i = 0; i < sq; i++) {
      System.arraycopy(o, i * dv, out, oOff + i * ldv, dv);
    }
  }

  /** Columns {@code [j0, j0 + nb)} of each row as new 0-based rows (more keys than one tile holds). */
  private static float[][] shifted(float[][] rows, int j0, int nb) {
    float[][] r = new float[rows.length][];
    for (int i = 0; i < rows.length; i++) {
      r[i] = java.util.Arrays.copyOfRange(rows[i], j0, j0 + nb);
    }
    return r;
  }
}
