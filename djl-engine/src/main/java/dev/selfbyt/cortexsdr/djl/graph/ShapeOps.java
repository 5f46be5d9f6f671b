package dev.selfbyt.cortexsdr.djl.graph;

import ai.onnx.proto.OnnxMl.AttributeProto;
import dev.selfbyt.cortexsdr.core.tensor.DType;
import dev.selfbyt.cortexsdr.core.tensor.TensorInfo;
import dev.selfbyt.cortexsdr.djl.kernel.QuantMatrix;
import java.util.Arrays;
import java.util.Map;

/**
 * Operators that move values without computing on them: Reshape, Squeeze, Unsqueeze, Flatten,
 * Cast, Concat, Transpose, Gather (rows of a quantized table decoded one by one),
 * GatherElements, Slice.
 */
final class ShapeOps {
  private ShapeOps() {}

  static void register(Map<String, Ops.Factory> ops) {
    ops.put("GatherElements", (a, n, o) -> {
      long axis = a.i("axis", 0);
      return in -> Ops.one(gatherElements(in[0], in[1], axis));
    });
    ops.put("Shape", (a, n, o) -> {
      long start = a.i("start", 0);
      long end = a.i("end", Long.MAX_VALUE);
      return in -> {
        long[] s = in[0].shapeRef();
        int r = s.length;
        int b = (int) Math.max(0, Math.min(r, start < 0 ? start + r : start));
        int e = (int) Math.max(0, Math.min(r, end < 0 ? end + r : end));
        long[] v = Arrays.copyOfRange(s, b, Math.max(b, e));
        return Ops.one(Value.ofLongs(DType.INT64, new long[] {v.length}, v));
      };
    });
    ops.put("Cast", (a, n, o) -> {
      DType to = OnnxValues.dtype((int) a.i("to", 1), n.getName());
      return in -> Ops.one(cast(in[0], to));
    });
    ops.put("Reshape", (a, n, o) -> {
      boolean allowZero = a.i("allowzero", 0) != 0;
      return in -> Ops.one(reshape(in[0], in[1].longs(), allowZero));
    });
    ops.put("Unsqueeze", (a, n, o) -> {
      long[] attr = a.ints("axes");
      return in -> Ops.one(unsqueeze(in[0], o < 13 || in.length < 2 ? attr : in[1].longs()));
    });
    ops.put("Squeeze", (a, n, o) -> {
      long[] attr = a.ints("axes");
      return in -> Ops.one(squeeze(in[0], o < 13 || in.length < 2 || in[1] == null ? attr : in[1].longs()));
    });
    ops.put("Flatten", (a, n, o) -> {
      long axis = a.i("axis", 1);
      return in -> {
        long[] s = in[0].shapeRef();
        // Flatten's axis may also be the rank itself: [-r, r]
        int ax = axis == s.length ? s.length : InvalidNodeException.axis("Flatten axis", axis, s.length);
        long outer = 1;
        for (int i = 0; i < ax; i++) {
          outer *= s[i];
        }
        return Ops.one(reshape(in[0], new long[] {outer, -1}, false));
      };
    });
    ops.put("Concat", (a, n, o) -> {
      long axis = a.i("axis", 0);
      return in -> Ops.one(concat(in, axis));
    });
    ops.put("Transpose", (a, n, o) -> {
      long[] perm = a.ints("perm");
      return in -> Ops.one(transpose(in[0], perm));
    });
    ops.put("Gather", (a, n, o) -> {
      long axis = a.i("axis", 0);
      return in -> Ops.one(gather(in[0], in[1], axis));
    });
    ops.put("Slice", (a, n, o) -> {
      long[] starts = a.ints("starts");
      long[] ends = a.ints("ends");
      long[] axes = a.ints("axes");
      return in -> o < 10
          ? Ops.one(slice(in[0], starts, ends, axes, null))
          : Ops.one(slice(in[0], in[1].longs(), in[2].longs(), in.length > 3 && in[3] != null ? in[3].longs() : null,
              in.length > 4 && in[4] != null ? in[4].longs() : null));
    });
    ops.put("Split", (a, n, o) -> split(a, o, n.getOutputCount()));
    ops.put("Expand", (a, n, o) -> in -> {
      long[] target = Broadcast.shape(in[0].shapeRef(), in[1].longs());
      return Ops.one(in[0].isFloating()
          ? Value.ofFloats(target, Broadcast.expand(in[0].floats(), in[0].shapeRef(), target))
          : Value.ofLongs(in[0].dtype(), target, Broadcast.expand(in[0].longs(), in[0].shapeRef(), target)));
    });
    ops.put("ConstantOfShape", (a, n, o) -> {
      AttributeProto v = a.get("value");
      Value fill = v == null ? Value.ofFloats(new long[] {1}, new float[1]) : OnnxValues.fromProto(v.getT(), n.getName());
      return in -> {
        long[] shape = in[0].longs().clone();
        int size = Broadcast.size(shape);
        if (fill.isFloating()) {
          float[] f = new float[size];
          Arrays.fill(f, fill.floats()[0]);
          return Ops.one(Value.ofFloats(shape, f));
        }
        long[] l = new long[size];
        Arrays.fill(l, fill.longs()[0]);
        return Ops.one(Value.ofLongs(fill.dtype(), shape, l));
      };
    });
  }

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
      // rows of a quantized table: decode only the rows asked for (each written whole: an array of the run)
      float[] f = ArrayRecycler.floats(idx.length * inner);
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

  static Ops.Op split(Attrs a, int opset, int outputs) {
    long axis = a.i("axis", 0);
    long[] splitAttr = a.ints("split");
    return in -> {
      Value x = in[0];
      int ax = InvalidNodeException.axis("Split axis", axis, x.rank());
      long[] parts = opset >= 13 && in.length > 1 && in[1] != null ? in[1].longs() : splitAttr;
      long d = x.dim(ax);
      if (parts == null) {
        parts = new long[outputs];
        Arrays.fill(parts, d / outputs);
      }
      Value[] out = new Value[parts.length];
      long start = 0;
      for (int i = 0; i < parts.length; i++) {
        out[i] = slice(x, new long[] {start}, new long[] {start + parts[i]}, new long[] {ax}, null);
        start += parts[i];
      }
      return out;
    };
  }
}
