package dev.selfbyt.cortexsdr.djl.graph;

import ai.onnx.proto.OnnxMl.AttributeProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import dev.selfbyt.cortexsdr.core.tensor.DType;
import dev.selfbyt.cortexsdr.core.tensor.TensorInfo;
import dev.selfbyt.cortexsdr.djl.kernel.DenseRows;
import dev.selfbyt.cortexsdr.djl.kernel.Kernels;
import dev.selfbyt.cortexsdr.djl.kernel.MatMul;
import dev.selfbyt.cortexsdr.djl.kernel.QuantMatrix;
import java.util.Arrays;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * The ONNX operators the executor knows, each compiled once per node into an {@link Op} with its
 * attributes read. Semantics follow the ONNX operator spec at the model's opset (Softmax before
 * opset 13 flattens from its axis; Unsqueeze, Squeeze and Slice read attributes or inputs by opset).
 * MatMul and Gemm compute on quantized or sparse weights directly; Gather reads rows of a
 * quantized table without decoding the rest.
 */
public final class Ops {
  /** One compiled node: inputs in, outputs out (missing optional inputs are null). */
  @FunctionalInterface
  public interface Op {
    Value[] run(Value[] in);
  }

  @FunctionalInterface
  interface Factory {
    Op create(Attrs a, NodeProto node, int opset);
  }

  private static final Map<String, Factory> OPS = new TreeMap<>();

  static {
    for (String name : new String[] {"Add", "Sub", "Mul", "Div", "Pow", "Max", "Min"}) {
      int code = Arith.code(name);
      OPS.put(name, (a, n, o) -> in -> one(Arith.binary(code, in[0], in[1])));
    }
    for (String name : new String[] {"Sqrt", "Erf", "Relu", "Tanh", "Sigmoid", "Neg", "Exp", "Log", "Abs",
        "Reciprocal"}) {
      int code = Arith.unaryCode(name);
      OPS.put(name, (a, n, o) -> in -> one(Arith.unary(code, in[0])));
    }
    OPS.put("Identity", (a, n, o) -> in -> one(in[0]));
    for (String name : new String[] {"Equal", "Greater", "GreaterOrEqual", "Less", "LessOrEqual"}) {
      int code = Arith.compareCode(name);
      OPS.put(name, (a, n, o) -> in -> one(Arith.compare(code, in[0], in[1])));
    }
    OPS.put("GatherElements", (a, n, o) -> {
      long axis = a.i("axis", 0);
      return in -> one(gatherElements(in[0], in[1], axis));
    });
    OPS.put("Where", (a, n, o) -> in -> one(Arith.where(in[0], in[1], in[2])));
    OPS.put("Clip", Ops::clip);
    OPS.put("Shape", (a, n, o) -> {
      long start = a.i("start", 0);
      long end = a.i("end", Long.MAX_VALUE);
      return in -> {
        long[] s = in[0].shapeRef();
        int r = s.length;
        int b = (int) Math.max(0, Math.min(r, start < 0 ? start + r : start));
        int e = (int) Math.max(0, Math.min(r, end < 0 ? end + r : end));
        long[] v = Arrays.copyOfRange(s, b, Math.max(b, e));
        return one(Value.ofLongs(DType.INT64, new long[] {v.length}, v));
      };
    });
    OPS.put("Cast", (a, n, o) -> {
      DType to = OnnxValues.dtype((int) a.i("to", 1), n.getName());
      return in -> one(cast(in[0], to));
    });
    OPS.put("Reshape", (a, n, o) -> {
      boolean allowZero = a.i("allowzero", 0) != 0;
      return in -> one(reshape(in[0], in[1].longs(), allowZero));
    });
    OPS.put("Unsqueeze", (a, n, o) -> {
      long[] attr = a.ints("axes");
      return in -> one(unsqueeze(in[0], o < 13 || in.length < 2 ? attr : in[1].longs()));
    });
    OPS.put("Squeeze", (a, n, o) -> {
      long[] attr = a.ints("axes");
      return in -> one(squeeze(in[0], o < 13 || in.length < 2 || in[1] == null ? attr : in[1].longs()));
    });
    OPS.put("Flatten", (a, n, o) -> {
      long axis = a.i("axis", 1);
      return in -> {
        long[] s = in[0].shapeRef();
        // Flatten's axis may also be the rank itself: [-r, r]
        int ax = axis == s.length ? s.length : InvalidNodeException.axis("Flatten axis", axis, s.length);
        long outer = 1;
        for (int i = 0; i < ax; i++) {
          outer *= s[i];
        }
        return one(reshape(in[0], new long[] {outer, -1}, false));
      };
    });
    OPS.put("Concat", (a, n, o) -> {
      long axis = a.i("axis", 0);
      return in -> one(concat(in, axis));
    });
    OPS.put("Transpose", (a, n, o) -> {
      long[] perm = a.ints("perm");
      return in -> one(transpose(in[0], perm));
    });
    OPS.put("Gather", (a, n, o) -> {
      long axis = a.i("axis", 0);
      return in -> one(gather(in[0], in[1], axis));
    });
    OPS.put("Slice", (a, n, o) -> {
      long[] starts = a.ints("starts");
      long[] ends = a.ints("ends");
      long[] axes = a.ints("axes");
      return in -> o < 10
          ? one(slice(in[0], starts, ends, axes, null))
          : one(slice(in[0], in[1].longs(), in[2].longs(), in.length > 3 && in[3] != null ? in[3].longs() : null,
              in.length > 4 && in[4] != null ? in[4].longs() : null));
    });
    OPS.put("ReduceMean", (a, n, o) -> reduce(a, o, true));
    OPS.put("ReduceSum", (a, n, o) -> reduce(a, o, false));
    OPS.put("Softmax", (a, n, o) -> {
      long axis = a.i("axis", o < 13 ? 1 : -1);
      return in -> one(softmax(in[0], axis, o < 13));
    });
    OPS.put("MatMul", (a, n, o) -> in -> one(matMul(in[0], in[1])));
    OPS.put("Conv", (a, n, o) -> ConvOps.conv(a));
    OPS.put("MaxPool", (a, n, o) -> ConvOps.maxPool(a));
    OPS.put("AveragePool", (a, n, o) -> ConvOps.averagePool(a));
    OPS.put("BatchNormalization", (a, n, o) -> {
      if (a.i("training_mode", 0) != 0 || n.getOutputCount() > 1) {
        throw new IllegalArgumentException("BatchNormalization node " + n.getName()
            + ": only inference mode (one output, training_mode 0) is supported");
      }
      float eps = a.f("epsilon", 1e-5f);
      return in -> one(batchNorm(in[0], in[1], in[2], in[3], in[4], 1, eps));
    });
    OPS.put("Pad", (a, n, o) -> ConvOps.pad(a, o));
    OPS.put("Resize", (a, n, o) -> ConvOps.resize(a, o));
    OPS.put("Split", (a, n, o) -> ConvOps.split(a, o, n.getOutputCount()));
    OPS.put("Gemm", Ops::gemm);
    OPS.put("LayerNormalization", (a, n, o) -> {
      long axis = a.i("axis", -1);
      float eps = a.f("epsilon", 1e-5f);
      return in -> one(layerNorm(in[0], in[1], in.length > 2 ? in[2] : null, axis, eps));
    });
    OPS.put("Expand", (a, n, o) -> in -> {
      long[] target = Broadcast.shape(in[0].shapeRef(), in[1].longs());
      return one(in[0].isFloating()
          ? Value.ofFloats(target, Broadcast.expand(in[0].floats(), in[0].shapeRef(), target))
          : Value.ofLongs(in[0].dtype(), target, Broadcast.expand(in[0].longs(), in[0].shapeRef(), target)));
    });
    OPS.put("ConstantOfShape", (a, n, o) -> {
      AttributeProto v = a.get("value");
      Value fill = v == null ? Value.ofFloats(new long[] {1}, new float[1]) : OnnxValues.fromProto(v.getT(), n.getName());
      return in -> {
        long[] shape = in[0].longs().clone();
        int size = Broadcast.size(shape);
        if (fill.isFloating()) {
          float[] f = new float[size];
          Arrays.fill(f, fill.floats()[0]);
          return one(Value.ofFloats(shape, f));
        }
        long[] l = new long[size];
        Arrays.fill(l, fill.longs()[0]);
        return one(Value.ofLongs(fill.dtype(), shape, l));
      };
    });
  }

  private Ops() {}

  /** The operator types this executor runs (plus {@code Constant}, which is read at load time). */
  public static Set<String> supported() {
    java.util.TreeSet<String> s = new java.util.TreeSet<>(OPS.keySet());
    s.add("Constant");
    return s;
  }

  /**
   * How many leading inputs a standard node of {@code opType} must have named (ONNX leaves later
   * ones optional, an empty name omitting one): two for binary and comparison operators, MatMul,
   * Gather and the like, more for Where, BatchNormalization and the input forms of Reshape and
   * Slice, one otherwise.
   */
  static int requiredInputs(String opType, int opset) {
    return switch (opType) {
      case "Add", "Sub", "Mul", "Div", "Pow", "Equal", "Greater", "GreaterOrEqual", "Less", "LessOrEqual", "MatMul",
          "Gather", "GatherElements", "Expand", "LayerNormalization", "Conv", "Gemm" -> 2;
      case "Where" -> 3;
      case "BatchNormalization" -> 5;
      case "Reshape" -> opset >= 5 ? 2 : 1;
      case "Slice" -> opset >= 10 ? 3 : 1;
      default -> 1;
    };
  }

  static boolean supports(NodeProto n) {
    return (n.getDomain().isEmpty() || n.getDomain().equals("ai.onnx"))
        && (OPS.containsKey(n.getOpType()) || n.getOpType().equals("Constant"));
  }

  static Op compile(NodeProto n, int opset) {
    if (n.getDomain().equals(Fusion.DOMAIN)) {
      return FusedOps.compile(n, opset);
    }
    Factory f = OPS.get(n.getOpType());
    if (f == null) {
      throw new IllegalArgumentException("no operator " + n.getOpType());
    }
    return f.create(new Attrs(n), n, opset);
  }

  static Value[] one(Value v) {
    return new Value[] {v};
  }

  // ---- shape operators ----

  static Value withShape(Value v, long[] shape) {
    return v.isFloating() ? Value.ofFloats(shape, v.floats()) : Value.ofLongs(v.dtype(), shape, v.longs());
  }

  static Value reshape(Value v, long[] spec, boolean allowZero) {
    long[] in = v.shapeRef();
    long[] out = spec.clone();
    int infer = -1;
    long known = 1;
    for (int i = 0; i < out.length; i++) {
      if (out[i] == 0 && !allowZero) {
        out[i] = in[i];
      }
      if (out[i] == -1) {
        if (infer >= 0) {
          throw new IllegalArgumentException("Reshape: two -1 in " + Arrays.toString(spec));
        }
        infer = i;
      } else {
        known *= out[i];
      }
    }
    int size = v.size();
    if (infer >= 0) {
      out[infer] = known == 0 ? 0 : size / known;
    }
    if (Broadcast.size(out) != size) {
      throw new IllegalArgumentException("Reshape: cannot view " + Arrays.toString(in) + " as " + Arrays.toString(spec));
    }
    return withShape(v, out);
  }

  static Value unsqueeze(Value v, long[] axes) {
    int rank = v.rank() + axes.length;
    boolean[] inserted = new boolean[rank];
    for (long a : axes) {
      inserted[InvalidNodeException.axis("Unsqueeze axis", a, rank)] = true;
    }
    long[] out = new long[rank];
    long[] in = v.shapeRef();
    for (int i = 0, j = 0; i < rank; i++) {
      out[i] = inserted[i] ? 1 : in[j++];
    }
    return withShape(v, out);
  }

  static Value squeeze(Value v, long[] axes) {
    long[] in = v.shapeRef();
    boolean[] drop = new boolean[in.length];
    if (axes == null) {
      for (int i = 0; i < in.length; i++) {
        drop[i] = in[i] == 1;
      }
    } else {
      for (long a : axes) {
        drop[InvalidNodeException.axis("Squeeze axis", a, in.length)] = true;
      }
    }
    long[] out = new long[in.length];
    int j = 0;
    for (int i = 0; i < in.length; i++) {
      if (!drop[i]) {
        out[j++] = in[i];
      }
    }
    return withShape(v, Arrays.copyOf(out, j));
  }

  static Value cast(Value v, DType to) {
    if (to.isFloating()) {
      return v.isFloating() ? v : Value.ofFloats(v.shapeRef(), v.floats());
    }
    long[] l = v.longs();
    if (to == DType.BOOL) {
      long[] b = new long[l.length];
      float[] f = v.isFloating() ? v.floats() : null;
      for (int i = 0; i < b.length; i++) {
        b[i] = (f != null ? f[i] != 0f : l[i] != 0) ? 1 : 0;
      }
      return Value.ofLongs(to, v.shapeRef(), b);
    }
    return Value.ofLongs(to, v.shapeRef(), l);
  }

  static Value concat(Value[] in, long axis) {
    long[] s0 = in[0].shapeRef();
    int ax = InvalidNodeException.axis("Concat axis", axis, s0.length);
    long[] out = s0.clone();
    out[ax] = 0;
    for (Value v : in) {
      out[ax] += v.dim(ax);
    }
    int outer = 1;
    for (int i = 0; i < ax; i++) {
      outer *= (int) s0[i];
    }
    int inner = 1;
    for (int i = ax + 1; i < s0.length; i++) {
      inner *= (int) s0[i];
    }
    int rowOut = (int) out[ax] * inner;
    boolean floating = in[0].isFloating();
    float[] f = floating ? new float[Broadcast.size(out)] : null;
    long[] l = floating ? null : new long[Broadcast.size(out)];
    int at = 0;
    for (Value v : in) {
      int row = (int) v.dim(ax) * inner;
      Object src = floating ? v.floats() : v.longs();
      for (int o = 0; o < outer; o++) {
        System.arraycopy(src, o * row, floating ? f : l, o * rowOut + at, row);
      }
      at += row;
    }
    return floating ? Value.ofFloats(out, f) : Value.ofLongs(in[0].dtype(), out, l);
  }

  static Value transpose(Value v, long[] perm) {
    long[] in = v.shapeRef();
    int rank = in.length;
    int[] p = new int[rank];
    for (int i = 0; i < rank; i++) {
      p[i] = perm == null ? rank - 1 - i : (int) perm[i];
    }
    long[] out = new long[rank];
    int[] inStride = new int[rank];
    int acc = 1;
    for (int i = rank - 1; i >= 0; i--) {
      inStride[i] = acc;
      acc *= (int) in[i];
    }
    int[] st = new int[rank];
    for (int i = 0; i < rank; i++) {
      out[i] = in[p[i]];
      st[i] = inStride[p[i]];
    }
    int[][] strides = {st};
    int step = rank == 0 ? 0 : st[rank - 1];
    if (v.isFloating()) {
      float[] src = v.floats();
      float[] dst = new float[src.length];
      Broadcast.rows(out, strides, (o, oo, len) -> {
        if (step == 1) {
          System.arraycopy(src, o[0], dst, oo, len);
        } else {
          for (int i = 0, s = o[0]; i < len; i++, s += step) {
            dst[oo + i] = src[s];
          }
        }
      });
      return Value.ofFloats(out, dst);
    }
    long[] src = v.longs();
    long[] dst = new long[src.length];
    Broadcast.rows(out, strides, (o, oo, len) -> {
      for (int i = 0; i < len; i++) {
        dst[oo + i] = src[o[0] + i * step];
      }
    });
    return Value.ofLongs(v.dtype(), out, dst);
  }

  static Value gather(Value data, Value indices, long axis) {
    long[] ds = data.shapeRef();
    int ax = InvalidNodeException.axis("Gather axis", axis, ds.length);
    long[] is = indices.shapeRef();
    long[] idx = indices.longs();
    long n = ds[ax];
    long[] out = new long[ds.length - 1 + is.length];
    int o = 0;
    for (int i = 0; i < ax; i++) {
      out[o++] = ds[i];
    }
    for (long d : is) {
      out[o++] = d;
    }
    for (int i = ax + 1; i < ds.length; i++) {
      out[o++] = ds[i];
    }
    int outer = 1;
    for (int i = 0; i < ax; i++) {
      outer *= (int) ds[i];
    }
    int inner = 1;
    for (int i = ax + 1; i < ds.length; i++) {
      inner *= (int) ds[i];
    }
    int[] rowsAt = new int[idx.length];
    for (int i = 0; i < idx.length; i++) {
      long r = idx[i] < 0 ? idx[i] + n : idx[i];
      if (r < 0 || r >= n) {
        throw new IndexOutOfBoundsException("Gather: index " + idx[i] + " outside [" + -n + ", " + n + ")");
      }
      rowsAt[i] = (int) r;
    }
    QuantMatrix q = data.quantized();
    TensorInfo st = data.storedInfo();
    if (q != null && ax == 0 && st.inner() == 1 && q.rows() == n && q.cols() == inner) {
      // rows of a quantized table: decode only the rows asked for
      float[] f = new float[idx.length * inner];
      for (int i = 0; i < idx.length; i++) {
        q.decodeRow(rowsAt[i], f, i * inner);
      }
      return Value.ofFloats(out, f);
    }
    if (data.sparse() != null && ax == 0 && st.inner() == 1 && data.sparse().rows() == n) {
      float[] f = new float[idx.length * inner];
      for (int i = 0; i < idx.length; i++) {
        data.sparse().decodeRow(rowsAt[i], f, i * inner);
      }
      return Value.ofFloats(out, f);
    }
    int block = idx.length * inner;
    if (data.isFloating()) {
      float[] src = data.floats();
      float[] f = new float[outer * block];
      for (int b = 0; b < outer; b++) {
        for (int i = 0; i < idx.length; i++) {
          System.arraycopy(src, (int) ((b * n + rowsAt[i]) * inner), f, b * block + i * inner, inner);
        }
      }
      return Value.ofFloats(out, f);
    }
    long[] src = data.longs();
    long[] l = new long[outer * block];
    for (int b = 0; b < outer; b++) {
      for (int i = 0; i < idx.length; i++) {
        System.arraycopy(src, (int) ((b * n + rowsAt[i]) * inner), l, b * block + i * inner, inner);
      }
    }
    return Value.ofLongs(data.dtype(), out, l);
  }

  /**
   * ONNX GatherElements (PyTorch's and DJL's {@code gather}): {@code out[i][j][k] =
   * data[index[i][j][k]][j][k]} for axis 0, and so on; the output has the indices' shape.
   */
  static Value gatherElements(Value data, Value indices, long axis) {
    long[] ds = data.shapeRef();
    long[] is = indices.shapeRef();
    int ax = (int) (axis < 0 ? axis + ds.length : axis);
    if (ax < 0 || ax >= ds.length || is.length != ds.length) {
      throw new IllegalArgumentException("GatherElements: indices " + Arrays.toString(is) + " and data "
          + Arrays.toString(ds) + " must have the same rank, axis " + axis + " inside it");
    }
    int rank = ds.length;
    int[] dStride = new int[rank];
    int[] iStride = new int[rank];
    for (int d = rank - 1, sd = 1, si = 1; d >= 0; d--) {
      if (d != ax && is[d] > ds[d]) {
        throw new IllegalArgumentException("GatherElements: indices " + Arrays.toString(is) + " exceed data "
            + Arrays.toString(ds) + " on axis " + d);
      }
      dStride[d] = sd;
      iStride[d] = si;
      sd *= (int) ds[d];
      si *= (int) is[d];
    }
    long[] idx = indices.longs();
    float[] fsrc = data.isFloating() ? data.floats() : null;
    long[] lsrc = fsrc == null ? data.longs() : null;
    float[] fdst = fsrc != null ? new float[idx.length] : null;
    long[] ldst = fsrc == null ? new long[idx.length] : null;
    for (int i = 0; i < idx.length; i++) {
      long k = idx[i] < 0 ? idx[i] + ds[ax] : idx[i];
      if (k < 0 || k >= ds[ax]) {
        throw new IndexOutOfBoundsException("GatherElements: index " + idx[i] + " outside axis " + ax + " of size "
            + ds[ax]);
      }
      int src = 0;
      for (int d = 0, rest = i; d < rank; d++) {
        int coord = rest / iStride[d];
        rest -= coord * iStride[d];
        src += (d == ax ? (int) k : coord) * dStride[d];
      }
      if (fsrc != null) {
        fdst[i] = fsrc[src];
      } else {
        ldst[i] = lsrc[src];
      }
    }
    return fsrc != null ? Value.ofFloats(is.clone(), fdst) : Value.ofLongs(data.dtype(), is.clone(), ldst);
  }

  static Value slice(Value v, long[] starts, long[] ends, long[] axes, long[] steps) {
    long[] in = v.shapeRef();
    int rank = in.length;
    long[] b = new long[rank];
    long[] step = new long[rank];
    long[] out = in.clone();
    Arrays.fill(step, 1);
    for (int k = 0; k < starts.length; k++) {
      int ax = axes == null ? k : InvalidNodeException.axis("Slice axis", axes[k], rank);
      long d = in[ax];
      long st = steps == null ? 1 : steps[k];
      if (st == 0) {
        throw new IllegalArgumentException("Slice: step 0");
      }
      long s = starts[k] < 0 ? starts[k] + d : starts[k];
      long e = ends[k] < 0 ? ends[k] + d : ends[k];
      if (st > 0) {
        s = Math.max(0, Math.min(d, s));
        e = Math.max(0, Math.min(d, e));
        out[ax] = Math.max(0, (e - s + st - 1) / st);
      } else {
        s = Math.max(-1, Math.min(d - 1, s));
        e = Math.max(-1, Math.min(d - 1, e));
        out[ax] = Math.max(0, (s - e - st - 1) / -st);
      }
      b[ax] = s;
      step[ax] = st;
    }
    int[] inStride = new int[rank];
    int acc = 1;
    for (int i = rank - 1; i >= 0; i--) {
      inStride[i] = acc;
      acc *= (int) in[i];
    }
    int base = 0;
    int[] st = new int[rank];
    for (int i = 0; i < rank; i++) {
      base += (int) b[i] * inStride[i];
      st[i] = (int) step[i] * inStride[i];
    }
    int start = base;
    int last = rank == 0 ? 0 : st[rank - 1];
    int[][] strides = {st};
    if (v.isFloating()) {
      float[] src = v.floats();
      float[] dst = new float[Broadcast.size(out)];
      Broadcast.rows(out, strides, (o, oo, len) -> {
        for (int i = 0; i < len; i++) {
          dst[oo + i] = src[start + o[0] + i * last];
        }
      });
      return Value.ofFloats(out, dst);
    }
    long[] src = v.longs();
    long[] dst = new long[Broadcast.size(out)];
    Broadcast.rows(out, strides, (o, oo, len) -> {
      for (int i = 0; i < len; i++) {
        dst[oo + i] = src[start + o[0] + i * last];
      }
    });
    return Value.ofLongs(v.dtype(), out, dst);
  }

  // ---- reductions and normalizations ----

  private static Op reduce(Attrs a, int opset, boolean mean) {
    long[] attrAxes = a.ints("axes");
    boolean keep = a.i("keepdims", 1) != 0;
    boolean noopEmpty = a.i("noop_with_empty_axes", 0) != 0;
    boolean axesInput = mean ? opset >= 18 : opset >= 13;
    return in -> {
      long[] axes = axesInput ? (in.length > 1 && in[1] != null ? in[1].longs() : null) : attrAxes;
      if ((axes == null || axes.length == 0) && noopEmpty) {
        return one(in[0]);
      }
      return one(reduce(in[0], axes, keep, mean));
    };
  }

  static Value reduce(Value v, long[] axes, boolean keep, boolean mean) {
    long[] in = v.shapeRef();
    int rank = in.length;
    boolean[] red = new boolean[rank];
    if (axes == null || axes.length == 0) {
      Arrays.fill(red, true);
    } else {
      for (long a : axes) {
        red[InvalidNodeException.axis("reduction axis", a, rank)] = true;
      }
    }
    long[] kept = new long[rank];
    long count = 1;
    for (int i = 0; i < rank; i++) {
      kept[i] = red[i] ? 1 : in[i];
      count *= red[i] ? in[i] : 1;
    }
    float[] src = v.floats();
    float[] dst = new float[Broadcast.size(kept)];
    boolean lastOnly = rank > 0 && red[rank - 1];
    for (int i = 0; i < rank - 1; i++) {
      lastOnly &= !red[i];
    }
    if (lastOnly) {
      int len = (int) in[rank - 1];
      for (int r = 0; r < dst.length; r++) {
        double s = 0;
        for (int i = 0, o = r * len; i < len; i++) {
          s += src[o + i];
        }
        dst[r] = (float) (mean ? s / len : s);
      }
    } else {
      // walk the input, adding each element into its output slot
      double[] acc = new double[dst.length];
      int[][] st = {Broadcast.strides(kept, in)};
      int step = rank == 0 ? 0 : st[0][rank - 1];
      Broadcast.rows(in, st, (o, oo, len) -> {
        for (int i = 0; i < len; i++) {
          acc[o[0] + i * step] += src[oo + i];
        }
      });
      for (int i = 0; i < dst.length; i++) {
        dst[i] = (float) (mean ? acc[i] / count : acc[i]);
      }
    }
    long[] out = kept;
    if (!keep) {
      int j = 0;
      out = new long[rank];
      for (int i = 0; i < rank; i++) {
        if (!red[i]) {
          out[j++] = in[i];
        }
      }
      out = Arrays.copyOf(out, j);
    }
    return Value.ofFloats(out, dst);
  }

  static Value softmax(Value v, long axis, boolean flattenFromAxis) {
    long[] s = v.shapeRef();
    int ax = InvalidNodeException.axis("Softmax axis", axis, s.length);
    if (!flattenFromAxis && ax != s.length - 1) {
      long[] perm = new long[s.length];
      for (int i = 0; i < perm.length; i++) {
        perm[i] = i;
      }
      perm[ax] = s.length - 1;
      perm[s.length - 1] = ax;
      return transpose(softmax(transpose(v, perm), -1, false), perm);
    }
    int cols = 1;
    for (int i = ax; i < s.length; i++) {
      cols *= (int) s[i];
    }
    float[] src = v.floats();
    float[] dst = new float[src.length];
    int rows = cols == 0 ? 0 : src.length / cols;
    for (int r = 0; r < rows; r++) {
      int o = r * cols;
      float max = Float.NEGATIVE_INFINITY;
      for (int i = 0; i < cols; i++) {
        float x = src[o + i];
        max = x > max ? x : max;
      }
      float sum = Kernels.get().expShifted(src, o, cols, max, dst);
      float inv = (float) (1.0 / sum);
      for (int i = 0; i < cols; i++) {
        dst[o + i] *= inv;
      }
    }
    return Value.ofFloats(s, dst);
  }

  static Value layerNorm(Value x, Value scale, Value bias, long axis, float eps) {
    long[] s = x.shapeRef();
    int ax = InvalidNodeException.axis("LayerNormalization axis", axis, s.length);
    int cols = 1;
    for (int i = ax; i < s.length; i++) {
      cols *= (int) s[i];
    }
    float[] src = x.floats();
    float[] g = scale.floats();
    float[] b = bias == null ? null : bias.floats();
    if (ax == s.length - 1 && g.length == cols && (b == null || b.length == cols)) {
      return FusedOps.layerNorm(x, scale, bias, eps); // the common case: vector kernels, rows over threads
    }
    float[] dst = new float[src.length];
    for (int r = 0, rows = src.length / Math.max(cols, 1); r < rows; r++) {
      int o = r * cols;
      double mean = 0;
      for (int i = 0; i < cols; i++) {
        mean += src[o + i];
      }
      mean /= cols;
      double var = 0;
      for (int i = 0; i < cols; i++) {
        double d = src[o + i] - mean;
        var += d * d;
      }
      float inv = (float) (1.0 / Math.sqrt(var / cols + eps));
      float m = (float) mean;
      for (int i = 0; i < cols; i++) {
        dst[o + i] = (src[o + i] - m) * inv * g[i % g.length] + (b == null ? 0f : b[i % b.length]);
      }
    }
    return Value.ofFloats(s, dst);
  }

  private static Op clip(Attrs a, NodeProto n, int opset) {
    float lo = a.f("min", Float.NEGATIVE_INFINITY);
    float hi = a.f("max", Float.POSITIVE_INFINITY);
    return in -> {
      float mn = opset >= 11 && in.length > 1 && in[1] != null ? in[1].floats()[0] : lo;
      float mx = opset >= 11 && in.length > 2 && in[2] != null ? in[2].floats()[0] : hi;
      float[] src = in[0].floats();
      float[] dst = new float[src.length];
      for (int i = 0; i < src.length; i++) {
        dst[i] = Math.min(mx, Math.max(mn, src[i]));
      }
      return one(Value.ofFloats(in[0].shapeRef(), dst));
    };
  }

  // ---- products ----

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
      float[] y = new float[m * n];
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

  static float[] transposeMatrix(float[] w, int off, int rows, int cols) {
    float[] t = new float[rows * cols];
    for (int r = 0; r < rows; r++) {
      for (int c = 0; c < cols; c++) {
        t[c * rows + r] = w[off + r * cols + c];
      }
    }
    return t;
  }

  /** {@code y[m,n] = x[m,k] * w^T} for {@code w [n, k]}: on the compressed form when its fibers are its rows. */
  static void multiplyByRows(float[] x, int m, Value w, int k, int n, float[] y) {
    TensorInfo st = w.storedInfo();
    if (w.isCompressed() && st.rank() == 2 && st.reductionAxis() == 1) {
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
    return bias == null ? r : Arith.binary(Arith.ADD, r, bias);
  }

  /**
   * Inference batch normalization: {@code (x - mean) / sqrt(var + eps) * scale + bias} with the
   * four vectors along {@code axis} of {@code x} (ONNX BatchNormalization uses axis 1); a null
   * scale counts as ones and a null bias as zeros.
   */
  static Value batchNorm(Value x, Value scale, Value bias, Value mean, Value var, int axis, float eps) {
    long[] s = x.shapeRef();
    int ax = axis < 0 ? axis + s.length : axis;
    if (ax < 0 || ax >= s.length) {
      throw new IllegalArgumentException("batchNorm: axis " + axis + " outside input " + Arrays.toString(s));
    }
    int ch = (int) s[ax];
    int inner = 1;
    for (int i = ax + 1; i < s.length; i++) {
      inner *= (int) s[i];
    }
    float[] g = scale == null ? null : scale.floats();
    float[] b = bias == null ? null : bias.floats();
    float[] mu = mean.floats();
    float[] v = var.floats();
    for (float[] p : new float[][] {g, b, mu, v}) {
      if (p != null && p.length != ch) {
        throw new IllegalArgumentException("batchNorm: " + p.length + " statistics for " + ch + " channels of input "
            + Arrays.toString(s));
      }
    }
    float[] mul = new float[ch];
    float[] add = new float[ch];
    for (int c = 0; c < ch; c++) {
      mul[c] = (float) ((g == null ? 1.0 : g[c]) / Math.sqrt(v[c] + (double) eps));
      add[c] = (b == null ? 0f : b[c]) - mu[c] * mul[c];
    }
    float[] src = x.floats();
    float[] dst = new float[src.length];
    for (int o = 0, i = 0; i < src.length; o++) {
      int c = o % ch;
      for (int j = 0; j < inner; j++, i++) {
        dst[i] = src[i] * mul[c] + add[c];
      }
    }
    return Value.ofFloats(s, dst);
  }

  private static Op gemm(Attrs at, NodeProto node, int opset) {
    float alpha = at.f("alpha", 1f);
    float beta = at.f("beta", 1f);
    boolean ta = at.i("transA", 0) != 0;
    boolean tb = at.i("transB", 0) != 0;
    return in -> {
      Value a = ta ? transpose(in[0], null) : in[0];
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
        Value c = beta == 1f ? in[2] : Arith.binary(Arith.MUL, in[2], Value.ofFloats(new long[0], new float[] {beta}));
        out = Arith.binary(Arith.ADD, out, c);
      }
      return one(out);
    };
  }
}
