package dev.selfbyt.cortexsdr.djl.graph;

import ai.onnx.proto.OnnxMl.NodeProto;
import dev.selfbyt.cortexsdr.core.tensor.TensorInfo;
import dev.selfbyt.cortexsdr.djl.graph.ValueOps.Binary;
import dev.selfbyt.cortexsdr.djl.kernel.DenseRows;
import dev.selfbyt.cortexsdr.djl.kernel.Kernels;
import dev.selfbyt.cortexsdr.djl.kernel.MatMul;
import dev.selfbyt.cortexsdr.djl.kernel.QuantMatrix;
import java.util.Arrays;
import java.util.Map;

/**
 * Matrix products: MatMul (numpy broadcasting of batch axes), Gemm and the fully connected layer,
 * computing on a quantized or SDR weight as stored when its fibers run along the reduction axis.
 */
final class ProductOps {
  private ProductOps() {}

  static void register(Map<String, Ops.Factory> ops) {
    ops.put("MatMul", (a, n, o) -> in -> Ops.one(matMul(in[0], in[1])));
    ops.put("Gemm", ProductOps::gemm);
  }

  /** Numpy matmul: batch axes broadcast, a 2-D right operand may be a compressed weight. */
  static Value matMul(Value a, Value b) {
    return matMul(a, b, null);
  }

  /** {@link #matMul(Value, Value)} plus {@code bias[N]} on every row, for a 2-D {@code b} (null for none). */
  static Value matMul(Value a, Value b, float[] bias) {
    long[] as = a.shapeRef();
    long[] bs = b.shapeRef();
    boolean aVec = as.length == 1;
    boolean bVec = bs.length == 1;
    if (aVec) {
      as = new long[] {1, as[0]};
    }
    if (bVec) {
      bs = new long[] {bs[0], 1};
    }
    int k = (int) as[as.length - 1];
    if (bs[bs.length - 2] != k) {
      throw new IllegalArgumentException("MatMul: " + Arrays.toString(a.shapeRef()) + " x " + Arrays.toString(b.shapeRef()));
    }
    int n = (int) bs[bs.length - 1];
    float[] x = a.floats();
    if (bs.length == 2) {
      int m = x.length / Math.max(k, 1);
      // a product on a compressed weight writes every output: an array of this run may be reused
      float[] y = writesEveryOutput(b) ? ArrayRecycler.floats(m * n) : new float[m * n];
      multiplyByWeight(x, 0, m, b, k, n, bias, y, 0);
      long[] out = as.clone();
      out[out.length - 1] = n;
      return Value.ofFloats(squeezeVectors(out, aVec, bVec), y);
    }
    int m = (int) as[as.length - 2];
    long[] abatch = Arrays.copyOf(as, as.length - 2);
    long[] bbatch = Arrays.copyOf(bs, bs.length - 2);
    long[] batch = Broadcast.shape(abatch, bbatch);
    int nb = Broadcast.size(batch);
    int[][] st = {Broadcast.strides(abatch, batch), Broadcast.strides(bbatch, batch)};
    float[] w = b.floats();
    float[] y = new float[nb * m * n];
    int[] aOff = new int[nb];
    int[] bOff = new int[nb];
    long[] flat = batch.length == 0 ? new long[] {1} : batch;
    int[][] st2 = batch.length == 0 ? new int[][] {{0}, {0}} : st;
    int[] c = {0};
    Broadcast.rows(flat, st2, (o, oo, len) -> {
      for (int i = 0; i < len; i++) {
        aOff[oo + i] = o[0] + i * st2[0][flat.length - 1];
        bOff[oo + i] = o[1] + i * st2[1][flat.length - 1];
      }
    });
    int[] xo = new int[nb];
    int[] wo = new int[nb];
    int[] yo = new int[nb];
    for (int t = 0; t < nb; t++) {
      xo[t] = aOff[t] * m * k;
      wo[t] = bOff[t] * k * n;
      yo[t] = t * m * n;
    }
    MatMul.multiplyDense(Kernels.get(), x, xo, m, k, w, wo, n, y, yo, null);
    if (bias != null) {
      throw new IllegalArgumentException("MatMul with a bias needs a 2-D weight, got " + Arrays.toString(bs));
    }
    long[] out = new long[batch.length + 2];
    System.arraycopy(batch, 0, out, 0, batch.length);
    out[batch.length] = m;
    out[batch.length + 1] = n;
    return Value.ofFloats(squeezeVectors(out, aVec, bVec), y);
  }

  /**
   * Products of one activation {@code a} with several 2-D weights, each with its bias ({@code
   * MatMulGroup}): {@code [a * w[0] + bias[0], a * w[1] + bias[1], ...]}. Compressed weights of the
   * same depth run as one job ({@link MatMul#multiplyGroup}: one meeting of the threads, one
   * quantization of {@code a} for int8 activations); anything else product by product.
   */
  static Value[] matMulGroup(Value a, Value[] w, float[][] bias) {
    long[] as = a.shapeRef();
    QuantMatrix[] q = new QuantMatrix[w.length];
    boolean together = as.length >= 2 && a.isFloating();
    for (int i = 0; i < w.length && together; i++) {
      long[] bs = w[i].shapeRef();
      together = bs.length == 2 && bs[0] == as[as.length - 1] && writesEveryOutput(w[i])
          && (bias[i] == null || bias[i].length == bs[1]);
      q[i] = together ? w[i].quantized() : null;
    }
    if (together && m(a) > 0 && MatMul.groups(Kernels.get(), q)) {
      int k = (int) as[as.length - 1];
      float[] x = a.floats();
      int m = x.length / Math.max(k, 1);
      float[][] y = new float[w.length][];
      for (int i = 0; i < w.length; i++) {
        y[i] = ArrayRecycler.floats(m * (int) w[i].shapeRef()[1]); // every output written
      }
      MatMul.multiplyGroup(Kernels.get(), x, 0, m, q, bias, y);
      Value[] out = new Value[w.length];
      for (int i = 0; i < w.length; i++) {
        long[] s = as.clone();
        s[s.length - 1] = w[i].shapeRef()[1];
        out[i] = Value.ofFloats(s, y[i]);
      }
      return out;
    }
    Value[] out = new Value[w.length];
    for (int i = 0; i < w.length; i++) {
      out[i] = matMul(a, w[i], bias[i]);
    }
    return out;
  }

  /** Rows of {@code a} as a product's left operand (all axes but the last). */
  private static int m(Value a) {
    long[] as = a.shapeRef();
    long m = 1;
    for (int i = 0; i < as.length - 1; i++) {
      m *= as[i];
    }
    return (int) m;
  }

  private static long[] squeezeVectors(long[] out, boolean aVec, boolean bVec) {
    if (bVec) {
      out = Arrays.copyOf(out, out.length - 1);
    }
    if (aVec) {
      long[] r = new long[out.length - 1];
      System.arraycopy(out, 0, r, 0, out.length - (bVec ? 1 : 2));
      if (!bVec) {
        r[r.length - 1] = out[out.length - 1];
      }
      out = r;
    }
    return out;
  }

  /** Whether {@link #multiplyByWeight} writes each element of its output without reading it first. */
  private static boolean writesEveryOutput(Value w) {
    TensorInfo st = w.storedInfo();
    return w.quantized() != null && st != null && st.rank() == 2 && st.reductionAxis() == 0
        && MatMul.writesEveryOutput(Kernels.get());
  }

  /** {@code y = x[m,k] * w[k,n]}: on the compressed form when {@code w}'s fibers are its columns. */
  static void multiplyByWeight(float[] x, int xOff, int m, Value w, int k, int n, float[] y, int yOff) {
    multiplyByWeight(x, xOff, m, w, k, n, null, y, yOff);
  }

  static void multiplyByWeight(float[] x, int xOff, int m, Value w, int k, int n, float[] bias, float[] y,
      int yOff) {
    TensorInfo st = w.storedInfo();
    boolean columns = st != null && st.rank() == 2 && st.reductionAxis() == 0;
    if (w.quantized() != null && columns) {
      MatMul.multiply(Kernels.get(), x, xOff, m, w.quantized(), bias, y, yOff);
      return;
    }
    if (w.sparse() != null && columns) {
      MatMul.multiply(x, xOff, m, w.sparse(), y, yOff);
      if (bias != null) {
        Kernels.addBias(y, yOff, m, n, n, bias, 0);
      }
    } else {
      MatMul.multiplyDense(Kernels.get(), x, new int[] {xOff}, m, k, w.floats(), new int[] {0}, n, y, new int[] {yOff},
          bias);
    }
  }

  /**
   * {@code y[m,n] = x[m,k] * w^T} for {@code w [n, k]} (or any {@code [..., k]} whose leading axes
   * make {@code n}): on the compressed form when its fibers run along its last axis.
   */
  static void multiplyByRows(float[] x, int m, Value w, int k, int n, float[] y) {
    TensorInfo st = w.storedInfo();
    if (w.isCompressed() && st.rank() >= 2 && st.reductionAxis() == st.rank() - 1) {
      // w is [N, K] with fibers along K: its rows are already the rows the kernel wants
      if (w.quantized() != null) {
        MatMul.multiply(x, 0, m, w.quantized(), y, 0);
      } else {
        MatMul.multiply(x, 0, m, w.sparse(), y, 0);
      }
    } else {
      MatMul.multiply(x, 0, m, new DenseRows(w.floats(), n, k), y, 0);
    }
  }

  /**
   * A fully connected layer: {@code x [..., K]} times {@code w [N, K]} transposed, plus {@code bias
   * [N]} when not null (DJL's and PyTorch's {@code linear}); a compressed {@code w} is used as stored.
   */
  static Value linear(Value x, Value w, Value bias) {
    long[] xs = x.shapeRef();
    if (w.rank() != 2 || xs.length == 0 || xs[xs.length - 1] != w.dim(1)) {
      throw new IllegalArgumentException("linear: input " + Arrays.toString(xs) + " does not match weight "
          + Arrays.toString(w.shapeRef()) + " ([out, in])");
    }
    int k = (int) w.dim(1);
    int n = (int) w.dim(0);
    int m = x.size() / Math.max(k, 1);
    float[] y = new float[m * n];
    multiplyByRows(x.floats(), m, w, k, n, y);
    long[] out = xs.clone();
    out[out.length - 1] = n;
    Value r = Value.ofFloats(out, y);
    return bias == null ? r : Arith.binary(Binary.ADD, r, bias);
  }

  private static Ops.Op gemm(Attrs at, NodeProto node, int opset) {
    float alpha = at.f("alpha", 1f);
    float beta = at.f("beta", 1f);
    boolean ta = at.i("transA", 0) != 0;
    boolean tb = at.i("transB", 0) != 0;
    return in -> {
      Value a = ta ? ShapeOps.transpose(in[0], null) : in[0];
      int m = (int) a.dim(0);
      int k = (int) a.dim(1);
      Value b = in[1];
      int n = (int) (tb ? b.dim(0) : b.dim(1));
      float[] y = new float[m * n];
      TensorInfo st = b.storedInfo();
      if (tb) {
        multiplyByRows(a.floats(), m, b, k, n, y);
      } else {
        multiplyByWeight(a.floats(), 0, m, b, k, n, y, 0);
      }
      if (alpha != 1f) {
        for (int i = 0; i < y.length; i++) {
          y[i] *= alpha;
        }
      }
      Value out = Value.ofFloats(new long[] {m, n}, y);
      if (in.length > 2 && in[2] != null) {
        Value c = beta == 1f ? in[2] : Arith.binary(Binary.MUL, in[2], Value.ofFloats(new long[0], new float[] {beta}));
        out = Arith.binary(Binary.ADD, out, c);
      }
      return Ops.one(out);
    };
  }
}
