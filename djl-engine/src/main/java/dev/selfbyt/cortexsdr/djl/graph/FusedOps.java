package dev.selfbyt.cortexsdr.djl.graph;

import ai.onnx.proto.OnnxMl.NodeProto;
import dev.selfbyt.cortexsdr.djl.graph.ValueOps.Binary;
import dev.selfbyt.cortexsdr.djl.kernel.FusedKernels;
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
      case "Gelu" -> {
        boolean both = n.getOutputCount() > 1;
        yield in -> gelu(in[0], in.length > 1 ? in[1] : null, false, both);
      }
      case "LayerNorm" -> {
        float eps = a.f("epsilon", 1e-5f);
        boolean both = n.getOutputCount() > 1;
        yield in -> layerNorm(in[0], in.length > 3 ? in[3] : null, in[1], in[2], in.length > 4 ? in[4] : null, eps,
            both);
      }
      case "Attention" -> {
        float scale = a.f("scale", 1f);
        yield in -> {
          Value o = FusedAttention.run(in[0], in[1], in[2], in.length > 3 ? in[3] : null, scale);
          if (in.length > 4 && in[4] != null) {
            o = ShapeOps.reshape(o, in[4].longs(), false);
          }
          if (in.length > 5 && in[5] != null) {
            // the attention's output is this node's own array, read by no one yet: scaled in place
            o = in.length > 4 && in[4] != null ? scaled(o, in[5], true) : scaledFlat(o, in[5], true);
          }
          return Ops.one(o);
        };
      }
      case "MatMulBias" -> {
        boolean gelu = a.i("gelu", 0) != 0;
        boolean both = n.getOutputCount() > 1;
        boolean plus = a.i("plus", 0) != 0;
        yield in -> {
          Value y = ProductOps.matMul(in[0], in[1], in[2].floats());
          if (plus) {
            y = plusProduct(gelu ? gelu(y, in[3], true, false)[0] : y, in[4], in[5]);
            return Ops.one(y);
          }
          return gelu ? gelu(y, in.length > 3 ? in[3] : null, true, both) : Ops.one(y);
        };
      }
      case "MatMulGroup" -> in -> {
        int products = (in.length - 1) / 2;
        Value[] w = new Value[products];
        float[][] bias = new float[products][];
        for (int i = 0; i < products; i++) {
          w[i] = in[1 + 2 * i];
          bias[i] = in[2 + 2 * i] == null ? null : in[2 + 2 * i].floats();
        }
        return ProductOps.matMulGroup(in[0], w, bias);
      };
      case "ScaledMaskedSoftmax" -> {
        float scale = a.f("scale", 1f);
        long axis = a.i("axis", opset < 13 ? 1 : -1);
        yield in -> Ops.one(scaledMaskedSoftmax(in[0], in[1], scale, axis, opset < 13));
      }
      default -> throw new IllegalArgumentException("no fused operator " + n.getOpType());
    };
  }

  static Value gelu(Value x) {
    return gelu(x, null, false, false)[0];
  }

  /**
   * GELU, then (when {@code scale} is not null) {@code Mul} by it: a vector along the last axis is
   * applied to each chunk while it is in cache, any other shape as the {@code Mul} node would;
   * {@code inPlace}: written over {@code x}, a dense tensor the caller made and no one else reads;
   * {@code both}: the GELU and its scaled copy (two outputs), else the one or the other.
   */
  static Value[] gelu(Value x, Value scale, boolean inPlace, boolean both) {
    float[] src = x.floats();
    float[] dst = inPlace ? src : ArrayRecycler.floats(src.length); // every value written below
    long[] shape = x.shapeRef();
    int cols = shape.length == 0 ? 1 : (int) shape[shape.length - 1];
    float[] s = scale != null && scale.rank() == 1 && scale.size() == cols && cols > 0 ? scale.floats() : null;
    float[] scaledDst = s == null ? null : both ? ArrayRecycler.floats(src.length) : dst;
    Kernels k = Kernels.get();
    int chunk = cols > 0 && s != null ? Math.max(1, (1 << 14) / cols) * cols : 1 << 14;
    int tasks = (src.length + chunk - 1) / chunk;
    KernelThreads.forEach(tasks, src.length >= PARALLEL_MIN ? Long.MAX_VALUE : 0, t -> {
      int from = t * chunk;
      int len = Math.min(chunk, src.length - from);
      k.gelu(src, from, len, dst, from);
      if (s != null) {
        scaleRows(dst, from, len, s, scaledDst);
      }
    });
    Value y = Value.ofFloats(shape, dst);
    if (scale == null) {
      return new Value[] {y};
    }
    Value ys = s == null ? Arith.binary(Binary.MUL, y, scale) : Value.ofFloats(shape, scaledDst);
    return both ? new Value[] {y, ys} : new Value[] {ys};
  }

  /** Channels of the second product up to which {@link #plusProduct} sums it in place itself. */
  private static final int PLUS_INLINE_MAX = 16;

  /**
   * {@code y + MatMul(g, r)} as the {@code Add} of the two products computes it, written over {@code
   * y} (a dense tensor the caller made and no one else reads): for a few channels ({@code r} of
   * {@code [c, N]}, {@code c} small) each row's product {@code sum_c g[i, c] r[c, :]} is made in a
   * row buffer and added; otherwise, or when the shapes ask for broadcasting, by the two nodes'
   * own code.
   */
  static Value plusProduct(Value y, Value g, Value r) {
    long[] ys = y.shapeRef();
    long[] gs = g.shapeRef();
    int c = r.rank() == 2 ? (int) r.dim(0) : -1;
    int n = r.rank() == 2 ? (int) r.dim(1) : -1;
    boolean inPlace = c > 0 && c <= PLUS_INLINE_MAX && n > 0 && g.isFloating() && y.isFloating()
        && gs.length == ys.length && gs.length > 0 && gs[gs.length - 1] == c && ys[ys.length - 1] == n
        && Arrays.equals(Arrays.copyOf(gs, gs.length - 1), Arrays.copyOf(ys, ys.length - 1));
    if (!inPlace) {
      return Arith.binary(Binary.ADD, y, ProductOps.matMul(g, r));
    }
    float[] dst = y.floats();
    float[] gv = g.floats();
    float[] rv = r.floats();
    int rows = dst.length / n;
    inRowChunks(rows, dst.length, (r0, r1) -> {
      float[] side = new float[n];
      for (int i = r0; i < r1; i++) {
        float g0 = gv[i * c];
        for (int j = 0; j < n; j++) {
          side[j] = g0 * rv[j];
        }
        for (int q = 1; q < c; q++) {
          float gq = gv[i * c + q];
          for (int j = 0; j < n; j++) {
            side[j] += gq * rv[q * n + j];
          }
        }
        for (int j = 0, o = i * n; j < n; j++) {
          dst[o + j] += side[j];
        }
      }
    });
    return y;
  }

  /** {@code dst[i] = src[i] * s[i % s.length]} over {@code len} values from {@code off}, a multiple of rows. */
  private static void scaleRows(float[] src, int off, int len, float[] s, float[] dst) {
    int cols = s.length;
    for (int r = off, end = off + len; r < end; r += cols) {
      for (int c = 0; c < cols; c++) {
        dst[r + c] = src[r + c] * s[c];
      }
    }
  }

  /**
   * {@code y} with value {@code i} (flat order) times {@code scale[i % scale.length]}: the {@code
   * Mul} by {@code scale} after a {@code Reshape} whose last dimension is its length. Left as is
   * when the size is not a multiple (that Reshape then fails as it would have).
   */
  static Value scaledFlat(Value y, Value scale, boolean inPlace) {
    float[] s = scale.floats();
    float[] src = y.floats();
    if (s.length == 0 || src.length % s.length != 0) {
      return y;
    }
    float[] dst = inPlace ? src : ArrayRecycler.floats(src.length); // every value written below
    scaleRows(src, 0, src.length, s, dst);
    return Value.ofFloats(y.shapeRef(), dst);
  }

  /** {@code y * scale} as the {@code Mul} node computes it, in one pass when {@code scale} runs along the last axis. */
  static Value scaled(Value y, Value scale) {
    return scaled(y, scale, false);
  }

  /**
   * {@link #scaled(Value, Value)}, written over {@code y}'s array when {@code inPlace} (an array the
   * caller made and no one else reads).
   */
  static Value scaled(Value y, Value scale, boolean inPlace) {
    long[] shape = y.shapeRef();
    int cols = shape.length == 0 ? 1 : (int) shape[shape.length - 1];
    if (scale.rank() != 1 || scale.size() != cols || cols == 0 || !y.isFloating()) {
      return Arith.binary(Binary.MUL, y, scale);
    }
    float[] src = y.floats();
    float[] dst = inPlace ? src : ArrayRecycler.floats(src.length); // every value written below
    scaleRows(src, 0, src.length, scale.floats(), dst);
    return Value.ofFloats(shape, dst);
  }

  /**
   * The fused {@code LayerNorm} node: {@code LayerNorm(x + skip)} (no sum when {@code skip} is
   * null), then with {@code scale}: {@code [y, y * scale]} when {@code both}, else {@code [y *
   * scale]}; without it {@code [y]}.
   */
  static Value[] layerNorm(Value x, Value skip, Value gamma, Value beta, Value scale, float eps, boolean both) {
    long[] shape = x.shapeRef();
    int cols = shape.length == 0 ? 1 : (int) shape[shape.length - 1];
    boolean fused = skip == null || Arrays.equals(shape, skip.shapeRef()) && x.isFloating() && skip.isFloating()
        && shape.length > 0;
    Value sum = fused ? x : Arith.binary(Binary.ADD, x, skip);
    float[] s = scale != null && scale.rank() == 1 && scale.size() == cols && cols > 0 ? scale.floats() : null;
    if (scale != null && s == null || !fused) {
      Value y = layerNorm(sum, fused ? skip : null, gamma, beta, null, eps, false)[0];
      if (scale == null) {
        return new Value[] {y};
      }
      Value ys = scaled(y, scale);
      return both ? new Value[] {y, ys} : new Value[] {ys};
    }
    float[] g = gamma == null ? null : gamma.floats();
    float[] b = beta == null ? null : beta.floats();
    if ((g != null && g.length != cols) || (b != null && b.length != cols)) {
      throw new IllegalArgumentException("layer norm over " + cols + " values with scale " + (g == null ? "-"
          : g.length) + " and bias " + (b == null ? "-" : b.length));
    }
    float[] u = x.floats();
    float[] v = skip == null ? null : skip.floats();
    // every row is written below: arrays of this run may be reused
    float[] dst = ArrayRecycler.floats(u.length);
    float[] scaledDst = s == null ? null : both ? ArrayRecycler.floats(u.length) : dst;
    int rows = cols == 0 ? 0 : u.length / cols;
    Kernels k = Kernels.get();
    inRowChunks(rows, u.length, (r0, r1) -> {
      if (FusedKernels.skipLayerNormRows(k, u, v, r0, r1, cols, eps, g, b, s, dst, both ? scaledDst : null)) {
        return;
      }
      if (v != null) {
        for (int i = r0 * cols, end = r1 * cols; i < end; i++) {
          dst[i] = u[i] + v[i];
        }
        k.layerNormRows(dst, r0, r1, cols, eps, g, b, dst);
      } else {
        k.layerNormRows(u, r0, r1, cols, eps, g, b, dst);
      }
      if (s != null) {
        scaleRows(dst, r0 * cols, (r1 - r0) * cols, s, scaledDst);
      }
    });
    Value y = Value.ofFloats(shape, dst);
    if (s == null) {
      return new Value[] {y};
    }
    Value ys = Value.ofFloats(shape, scaledDst);
    return both ? new Value[] {y, ys} : new Value[] {ys};
  }

  static Value layerNorm(Value x, Value gamma, Value beta, float eps) {
    return layerNorm(x, null, gamma, beta, null, eps, false)[0];
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
          : Arith.binary(Binary.MUL, scores, Value.ofFloats(new long[0], new float[] {scale}));
      if (mask != null) {
        t = Arith.binary(Binary.ADD, t, mask);
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
