package dev.selfbyt.cortexsdr.djl.graph;

import ai.onnx.proto.OnnxMl.NodeProto;
import dev.selfbyt.cortexsdr.djl.kernel.KernelThreads;
import dev.selfbyt.cortexsdr.djl.kernel.Kernels;
import java.util.Arrays;

/**
 * The operators of {@link Fusion}'s nodes. Each computes what its chain of ONNX nodes computes;
 * where a runtime shape falls outside the fused form (a softmax not over the last axis, a mask that
 * widens the scores), it runs the chain's operators one by one instead.
 */
final class FusedOps {
  /** Below this many values an element-wise pass runs on the caller's thread alone. */
  private static final int PARALLEL_MIN = 1 << 15;

  private FusedOps() {}

  static Ops.Op compile(NodeProto n, int opset) {
    Attrs a = new Attrs(n);
    return switch (n.getOpType()) {
      case "Gelu" -> in -> Ops.one(gelu(in[0]));
      case "LayerNorm" -> {
        float eps = a.f("epsilon", 1e-5f);
        yield in -> Ops.one(layerNorm(in[0], in[1], in[2], eps));
      }
      case "MatMulBias" -> in -> Ops.one(ProductOps.matMul(in[0], in[1], in[2].floats()));
      case "ScaledMaskedSoftmax" -> {
        float scale = a.f("scale", 1f);
        long axis = a.i("axis", opset < 13 ? 1 : -1);
        yield in -> Ops.one(scaledMaskedSoftmax(in[0], in[1], scale, axis, opset < 13));
      }
      default -> throw new IllegalArgumentException("no fused operator " + n.getOpType());
    };
  }

  static Value gelu(Value x) {
    float[] src = x.floats();
    float[] dst = new float[src.length];
    Kernels k = Kernels.get();
    int chunk = 1 << 14;
    int tasks = (src.length + chunk - 1) / chunk;
    KernelThreads.forEach(tasks, src.length >= PARALLEL_MIN ? Long.MAX_VALUE : 0, t -> {
      int from = t * chunk;
      k.gelu(src, from, Math.min(chunk, src.length - from), dst, from);
    });
    return Value.ofFloats(x.shapeRef(), dst);
  }

  static Value layerNorm(Value x, Value gamma, Value beta, float eps) {
    long[] s = x.shapeRef();
    int cols = s.length == 0 ? 1 : (int) s[s.length - 1];
    float[] g = gamma == null ? null : gamma.floats();
    float[] b = beta == null ? null : beta.floats();
    if ((g != null && g.length != cols) || (b != null && b.length != cols)) {
      throw new IllegalArgumentException("layer norm over " + cols + " values with scale " + (g == null ? "-"
          : g.length) + " and bias " + (b == null ? "-" : b.length));
    }
    float[] src = x.floats();
    float[] dst = new float[src.length];
    int rows = cols == 0 ? 0 : src.length / cols;
    Kernels k = Kernels.get();
    inRowChunks(rows, src.length, (r0, r1) -> k.layerNormRows(src, r0, r1, cols, eps, g, b, dst));
    return Value.ofFloats(s, dst);
  }

  /** Rows per softmax or layer-norm kernel call: enough to amortize a call, small enough to share among threads. */
  static final int ROW_CHUNK = 64;

  /** Rows {@code r0 <= r < r1} of a row-wise kernel. */
  private interface RowRange {
    void apply(int r0, int r1);
  }

  /**
   * {@code rows} in chunks of up to {@value #ROW_CHUNK}, at least four chunks when there are rows
   * enough, on the kernel threads when {@code values} is large: one kernel call per chunk (one JNI
   * crossing for the native kernels, not one per row).
   */
  private static void inRowChunks(int rows, int values, RowRange body) {
    int chunk = Math.max(1, Math.min(ROW_CHUNK, (rows + 3) / 4));
    int chunks = (rows + chunk - 1) / chunk;
    KernelThreads.forEach(chunks, values >= PARALLEL_MIN ? Long.MAX_VALUE : 0,
        c -> body.apply(c * chunk, Math.min(rows, c * chunk + chunk)));
  }

  static Value scaledMaskedSoftmax(Value scores, Value mask, float scale, long axis, boolean flattenFromAxis) {
    long[] s = scores.shapeRef();
    int ax = InvalidNodeException.axis("Softmax axis", axis, s.length);
    long[] out = mask == null ? s : Broadcast.shape(s, mask.shapeRef());
    if (s.length == 0 || ax != s.length - 1 || !Arrays.equals(out, s)) {
      // outside the fused form: the original nodes' operators
      Value t = scale == 1f ? scores
          : Arith.binary(Arith.MUL, scores, Value.ofFloats(new long[0], new float[] {scale}));
      if (mask != null) {
        t = Arith.binary(Arith.ADD, t, mask);
      }
      return NormOps.softmax(t, axis, flattenFromAxis);
    }
    float[] x = scores.floats();
    float[] y = new float[x.length];
    int cols = (int) s[s.length - 1];
    int rows = cols == 0 ? 0 : x.length / cols;
    float[] m = mask == null ? null : mask.floats();
    int[] maskRow = new int[rows];
    int[][] st = m == null ? null : new int[][] {Broadcast.strides(mask.shapeRef(), s)};
    int step = m == null ? 0 : st[0][s.length - 1];
    if (m != null) {
      Broadcast.rows(s, st, (o, oo, len) -> maskRow[oo / Math.max(len, 1)] = o[0]);
    }
    Kernels k = Kernels.get();
    inRowChunks(rows, x.length, (r0, r1) -> k.softmaxRows(x, r0, r1, cols, scale, m, maskRow, step, y));
    return Value.ofFloats(s, y);
  }
}
