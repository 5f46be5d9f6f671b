package dev.selfbyt.cortexsdr.djl;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDArrayIndexer;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.index.dim.NDIndexAll;
import ai.djl.ndarray.index.dim.NDIndexElement;
import ai.djl.ndarray.index.dim.NDIndexFixed;
import ai.djl.ndarray.index.dim.NDIndexSlice;
import ai.djl.ndarray.index.dim.NDIndexTake;
import dev.selfbyt.cortexsdr.core.tensor.DType;
import ai.djl.ndarray.index.full.NDIndexFullPick;
import ai.djl.ndarray.index.full.NDIndexFullSlice;
import ai.djl.ndarray.index.full.NDIndexFullTake;
import dev.selfbyt.cortexsdr.djl.graph.Value;
import dev.selfbyt.cortexsdr.djl.graph.ValueOps;
import java.util.ArrayList;
import java.util.List;

/**
 * DJL's indexing on CortexSDR arrays: {@code get} with slices, fixed indices and ellipsis, one
 * index array ({@code take} along an axis), a pick ({@code NDIndex().addPickDim}) or a boolean
 * mask, and {@code set} of an array or a number into a slice, a boolean mask or the entries one
 * index array picks along an axis (DJL's own {@link NDArrayIndexer} parses the {@code NDIndex};
 * this class does the reads and writes). A {@code set}
 * replaces the target's values in place, keeping its type. Get one from {@code
 * getNDArrayInternal().getIndexer(manager)}.
 */
final class CaiNDArrayIndexer extends NDArrayIndexer {
  private final CaiNDManager manager;

  CaiNDArrayIndexer(CaiNDManager manager) {
    this.manager = manager;
  }

  private static Value value(NDArray a, NDManager fallback) {
    if (a instanceof CaiNDArray c) {
      return c.value();
    }
    return ((CaiNDManager) fallback).from(a).value();
  }

  /**
   * Fixed indices, slices (negative steps too) and {@code :} are read directly, and so is one
   * integer array index with only {@code :} beside it ({@code "{}"}, a take along that axis, as ONNX
   * Gather); an ellipsis, a boolean mask or a pick go through DJL's parsing to the methods below.
   */
  @Override
  public NDArray get(NDArray array, NDIndex index) {
    CaiNDArray self = (CaiNDArray) array;
    Value v = self.value();
    List<NDIndexElement> el = index.getIndices();
    CaiNDManager target = manager;
    if (index.getEllipsisIndex() >= 0 || el.size() > v.rank()) {
      return super.get(array, index);
    }
    int takes = 0;
    int takeAxis = -1;
    for (int ax = 0; ax < el.size(); ax++) {
      if (el.get(ax) instanceof NDIndexTake) {
        takes++;
        takeAxis = ax;
      } else if (!(el.get(ax) instanceof NDIndexAll)) {
        takes = -el.size() - 1;
      }
    }
    if (takes == 1) {
      Value idx = value(((NDIndexTake) el.get(takeAxis)).getIndex(), manager);
      if (!idx.isFloating() && idx.dtype() != DType.BOOL) {
        return self.result(ValueOps.gather(v, idx, takeAxis), target);
      }
    }
    List<Long> starts = new ArrayList<>();
    List<Long> ends = new ArrayList<>();
    List<Long> axes = new ArrayList<>();
    List<Long> steps = new ArrayList<>();
    List<Long> squeeze = new ArrayList<>();
    for (int ax = 0; ax < el.size(); ax++) {
      NDIndexElement e = el.get(ax);
      long d = v.dim(ax);
      if (e instanceof NDIndexAll) {
        continue;
      } else if (e instanceof NDIndexFixed f) {
        long i = f.getIndex() < 0 ? f.getIndex() + d : f.getIndex();
        if (i < 0 || i >= d) {
          throw new IndexOutOfBoundsException("index " + f.getIndex() + " outside axis " + ax + " of size " + d);
        }
        starts.add(i);
        ends.add(i + 1);
        steps.add(1L);
        squeeze.add((long) ax);
      } else if (e instanceof NDIndexSlice s) {
        long step = s.getStep() == null ? 1 : s.getStep();
        starts.add(s.getMin() == null ? (step > 0 ? 0 : d - 1) : s.getMin());
        ends.add(s.getMax() == null ? (step > 0 ? d : -d - 1) : s.getMax());
        steps.add(step);
      } else {
        return super.get(array, index);
      }
      axes.add((long) ax);
    }
    Value r = axes.isEmpty() ? v : ValueOps.slice(v, longs(starts), longs(ends), longs(axes), longs(steps));
    if (!squeeze.isEmpty()) {
      r = ValueOps.squeeze(r, longs(squeeze));
    }
    return self.result(r, target);
  }

  private static long[] longs(List<Long> l) {
    return l.stream().mapToLong(Long::longValue).toArray();
  }

  /** PyTorch's gather along the pick axis; an index one rank lower picks one entry per fiber. */
  @Override
  public NDArray get(NDArray array, NDIndexFullPick fullPick) {
    Value v = value(array, manager);
    Value idx = value(fullPick.getIndices(), manager);
    int axis = fullPick.getAxis();
    if (idx.rank() == v.rank()) {
      return ((CaiNDArray) array).result(ValueOps.gatherElements(v, idx, axis), manager);
    }
    Value picked = ValueOps.gatherElements(v, ValueOps.unsqueeze(idx, new long[] {axis}), axis);
    return ((CaiNDArray) array).result(ValueOps.squeeze(picked, new long[] {axis}), manager);
  }

  @Override
  public NDArray get(NDArray array, NDIndexFullTake fullTake) {
    Value v = value(array, manager);
    Value idx = value(fullTake.getIndices(), manager);
    return ((CaiNDArray) array).result(ValueOps.gather(v, idx, fullTake.getAxis()), manager);
  }

  @Override
  public NDArray get(NDArray array, NDIndexFullSlice fullSlice) {
    Value v = value(array, manager);
    int rank = v.rank();
    long[] axes = new long[rank];
    for (int i = 0; i < rank; i++) {
      axes[i] = i;
    }
    Value r = rank == 0 ? v : ValueOps.slice(v, fullSlice.getMin(), fullSlice.getMax(), axes, fullSlice.getStep());
    int[] squeeze = fullSlice.getToSqueeze();
    if (squeeze.length > 0) {
      long[] s = new long[squeeze.length];
      for (int i = 0; i < s.length; i++) {
        s[i] = squeeze[i];
      }
      r = ValueOps.squeeze(r, s);
    }
    return ((CaiNDArray) array).result(r, manager);
  }

  /**
   * Adds one case to DJL's {@code set}: one integer index array along an axis ({@code "{}"}, with
   * {@code :} before it), which DJL's own indexer refuses and DJL's question-answering translator
   * uses to mask the question tokens.
   */
  @Override
  public void set(NDArray array, NDIndex index, Object value) {
    java.util.Optional<NDIndexFullTake> take = index.getIndices().stream().anyMatch(e -> e instanceof NDIndexTake)
        ? NDIndexFullTake.fromIndex(index, array.getShape()) : java.util.Optional.empty();
    if (take.isEmpty()) {
      super.set(array, index, value);
      return;
    }
    CaiNDArray target = (CaiNDArray) array;
    Value old = target.value();
    int axis = take.get().getAxis();
    long[] shape = old.shape();
    long[] idx = Dense.indices(value(take.get().getIndices(), manager), shape[axis], "set: index");
    int outer = Dense.outer(shape, axis);
    int inner = Dense.inner(shape, axis);
    int n = (int) shape[axis];
    long[] region = Dense.withAxis(shape, axis, idx.length);
    Value src = value instanceof NDArray a ? value(a, manager) : Dense.scalar(old, ((Number) value).doubleValue());
    src = ValueOps.broadcast(src, region);
    int[] dst = new int[outer * idx.length * inner];
    int p = 0;
    for (int o = 0; o < outer; o++) {
      for (long j : idx) {
        for (int i = 0; i < inner; i++) {
          dst[p++] = (int) ((o * n + j) * inner + i);
        }
      }
    }
    target.replaceValue(Dense.scatter(old, dst, src, Dense.iota(dst.length)));
  }

  @Override
  public void set(NDArray array, NDIndexFullSlice fullSlice, NDArray value) {
    write((CaiNDArray) array, fullSlice, value(value, manager));
  }

  @Override
  public void set(NDArray array, NDIndexFullSlice fullSlice, Number value) {
    CaiNDArray target = (CaiNDArray) array;
    Value v = target.value().isFloating() || value instanceof Float || value instanceof Double
        ? Value.ofFloats(new long[0], new float[] {value.floatValue()})
        : Value.ofLongs(target.value().dtype(), new long[0], new long[] {value.longValue()});
    write(target, fullSlice, v);
  }

  /** Writes {@code source}, broadcast over the slice, into a copy of the target's values. */
  private static void write(CaiNDArray target, NDIndexFullSlice slice, Value source) {
    Value old = target.value();
    long[] shape = old.shape();
    long[] region = slice.getShape().getShape();
    long[] squeezed = slice.getSqueezedShape().getShape();
    Value src = source.size() == Dense.size(region) && source.rank() == region.length ? source
        : ValueOps.reshape(ValueOps.broadcast(source, squeezed), region);
    long[] min = slice.getMin();
    long[] step = slice.getStep();
    int rank = shape.length;
    long[] coord = new long[rank];
    int[] dst = new int[src.size()];
    for (int i = 0; i < dst.length; i++) {
      long flat = 0;
      for (int k = 0; k < rank; k++) {
        flat = flat * shape[k] + min[k] + coord[k] * step[k];
      }
      dst[i] = (int) flat;
      for (int k = rank - 1; k >= 0; k--) {
        if (++coord[k] < region[k]) {
          break;
        }
        coord[k] = 0;
      }
    }
    target.replaceValue(Dense.scatter(old, dst, src, Dense.iota(dst.length)));
  }
}
