package dev.selfbyt.cortexsdr.djl;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.selfbyt.cortexsdr.djl.graph.Value;
import dev.selfbyt.cortexsdr.djl.graph.ValueOps;
import java.util.function.Function;

/**
 * The structural half of {@link CaiNDArray}'s extra operators: reductions along any axes ({@link
 * Reductions}, {@link Statistics}), sorting and top-k ({@link Sorting}), masks, one-hot and index
 * gathers ({@link Selection}), repeat/tile/flip/flatten/split ({@link Layout}) and indexed {@code
 * set} ({@link CaiNDArrayIndexer}); the element-wise half is {@link CaiNDArrayMath}. Each method
 * turns the arrays into executor {@link Value}s, calls its family and wraps the result; none goes
 * to DJL's alternative engine. This class only exists to keep {@link CaiNDArray} short; use {@link
 * CaiNDArray}.
 */
public abstract class CaiNDArrayOperators extends CaiNDArrayMath {
  CaiNDArrayOperators(NDManager manager, NDManager alternativeManager, String uid) {
    super(manager, alternativeManager, uid);
  }

  private static int[] allAxes() {
    return null;
  }

  // ---- reductions ----

  @Override
  public NDArray max() {
    return result(Reductions.reduce(value(), allAxes(), false, Reductions.Kind.MAX));
  }

  @Override
  public NDArray max(int[] axes, boolean keepDims) {
    return result(Reductions.reduce(value(), axes, keepDims, Reductions.Kind.MAX));
  }

  @Override
  public NDArray min() {
    return result(Reductions.reduce(value(), allAxes(), false, Reductions.Kind.MIN));
  }

  @Override
  public NDArray min(int[] axes, boolean keepDims) {
    return result(Reductions.reduce(value(), axes, keepDims, Reductions.Kind.MIN));
  }

  @Override
  public NDArray prod() {
    return result(Reductions.reduce(value(), allAxes(), false, Reductions.Kind.PROD));
  }

  @Override
  public NDArray prod(int[] axes, boolean keepDims) {
    return result(Reductions.reduce(value(), axes, keepDims, Reductions.Kind.PROD));
  }

  @Override
  public NDArray argMax() {
    return result(Reductions.arg(value(), null, true));
  }

  @Override
  public NDArray argMax(int axis) {
    return result(Reductions.arg(value(), axis, true));
  }

  @Override
  public NDArray argMin() {
    return result(Reductions.arg(value(), null, false));
  }

  @Override
  public NDArray argMin(int axis) {
    return result(Reductions.arg(value(), axis, false));
  }

  /** The L2 norm of all values (Frobenius for a matrix). */
  @Override
  public NDArray norm(boolean keepDims) {
    return result(Reductions.norm(value(), 2, allAxes(), keepDims));
  }

  /** The {@code ord}-norm over {@code axes}, as PyTorch's {@code torch.norm(x, ord, axes)}. */
  @Override
  public NDArray norm(int ord, int[] axes, boolean keepDims) {
    return result(Reductions.norm(value(), ord, axes, keepDims));
  }

  @Override
  public NDArray cumSum() {
    return result(Reductions.cumulate(value(), null, false));
  }

  @Override
  public NDArray cumSum(int axis) {
    return result(Reductions.cumulate(value(), axis, false));
  }

  @Override
  public NDArray cumProd(int axis) {
    return result(Reductions.cumulate(value(), axis, true));
  }

  @Override
  public NDArray cumProd(int axis, DataType dataType) {
    return toType(dataType, false).cumProd(axis);
  }

  /** The median over all values (the two middle values averaged for an even count, as numpy). */
  @Override
  public NDArray median() {
    return percentile(50);
  }

  @Override
  public NDArray median(int[] axes) {
    return percentile(50, axes);
  }

  @Override
  public NDArray percentile(Number percentile) {
    return result(Statistics.percentile(value(), percentile.doubleValue(), allAxes()));
  }

  @Override
  public NDArray percentile(Number percentile, int[] axes) {
    return result(Statistics.percentile(value(), percentile.doubleValue(), axes));
  }

  // ---- sorting ----

  @Override
  public NDArray sort() {
    return sort(-1);
  }

  @Override
  public NDArray sort(int axis) {
    return result(Sorting.sort(value(), axis, true, false));
  }

  @Override
  public NDArray argSort(int axis, boolean ascending) {
    return result(Sorting.sort(value(), axis, ascending, true));
  }

  /** {@code [values, indices]}; the values are always in sorted order (a valid answer for {@code sorted = false}). */
  @Override
  public NDList topK(int k, int axis, boolean largest, boolean sorted) {
    Value[] r = Sorting.topK(value(), k, axis, largest);
    return new NDList(result(r[0]), result(r[1]));
  }

  // ---- selection ----

  @Override
  public NDArray booleanMask(NDArray index, int axis) {
    return result(Selection.booleanMask(value(), operand(index), axis));
  }

  @Override
  public NDArray oneHot(int depth, float onValue, float offValue, DataType dataType) {
    return ((CaiNDManager) getManager()).create(
        Selection.oneHot(value(), depth, onValue, offValue, CaiNDArray.toDType(dataType)), dataType);
  }

  @Override
  public NDArray gatherNd(NDArray index) {
    return result(Selection.gatherNd(value(), operand(index)));
  }

  @Override
  public NDArray take(NDManager manager, NDArray index) {
    CaiNDManager m = manager instanceof CaiNDManager cm ? cm : (CaiNDManager) getManager();
    return ((CaiNDArray) this).result(Selection.take(value(), operand(index)), m);
  }

  @Override
  public NDArray nonzero() {
    return result(Selection.nonzero(value()));
  }

  @Override
  public NDArray sequenceMask(NDArray sequenceLength, float value) {
    return result(Selection.sequenceMask(value(), operand(sequenceLength), value));
  }

  @Override
  public NDArray put(NDArray index, NDArray value) {
    return result(Selection.put(value(), operand(index), operand(value)), value);
  }

  @Override
  public NDArray scatter(NDArray index, NDArray value, int axis) {
    return result(Selection.scatter(value(), operand(index), operand(value), axis), value);
  }

  // ---- layout ----

  @Override
  public NDArray repeat(long repeats) {
    long[] r = new long[Math.max(1, value().rank())];
    java.util.Arrays.fill(r, repeats);
    return repeat(r);
  }

  @Override
  public NDArray repeat(int axis, long repeats) {
    return result(Layout.repeat(value(), axis, repeats));
  }

  @Override
  public NDArray repeat(long[] repeats) {
    return result(Layout.repeat(value(), repeats));
  }

  @Override
  public NDArray repeat(Shape desiredShape) {
    return repeat(Layout.countsFor(value().shape(), desiredShape.getShape(), "repeat"));
  }

  @Override
  public NDArray tile(long repeats) {
    long[] r = new long[Math.max(1, value().rank())];
    java.util.Arrays.fill(r, repeats);
    return tile(r);
  }

  @Override
  public NDArray tile(int axis, long repeats) {
    int rank = value().rank();
    int a = axis < 0 ? axis + rank : axis;
    long[] r = new long[Math.max(rank, a + 1)];
    java.util.Arrays.fill(r, 1);
    r[a] = repeats;
    return tile(r);
  }

  @Override
  public NDArray tile(long[] repeats) {
    return result(Layout.tile(value(), repeats));
  }

  @Override
  public NDArray tile(Shape desiredShape) {
    return tile(Layout.countsFor(value().shape(), desiredShape.getShape(), "tile"));
  }

  @Override
  public NDArray flip(int... axes) {
    return result(Layout.flip(value(), axes));
  }

  @Override
  public NDArray flatten() {
    return reshape(new Shape(value().size()));
  }

  @Override
  public NDArray flatten(int startDim, int endDim) {
    return reshape(new Shape(Layout.flattenedShape(value().shape(), startDim, endDim)));
  }

  /** {@code sections} equal parts along {@code axis}; the axis must divide evenly. */
  @Override
  public NDList split(long sections, int axis) {
    Value v = value();
    int a = Dense.axis(axis, v.rank());
    long size = v.dim(a);
    if (sections <= 0 || size % sections != 0) {
      throw new IllegalArgumentException("split: axis " + axis + " of size " + size + " does not divide into "
          + sections + " equal parts");
    }
    long[] indices = new long[(int) sections - 1];
    for (int i = 0; i < indices.length; i++) {
      indices[i] = (i + 1) * (size / sections);
    }
    return split(indices, axis);
  }

  /** PyTorch's constant pad: (before, after) pairs, last axis first. */
  @Override
  public NDArray pad(Shape padding, double value) {
    return result(Layout.pad(value(), padding.getShape(), value));
  }

  // ---- matrices ----

  @Override
  public NDArray diagonal() {
    return diagonal(0);
  }

  @Override
  public NDArray diagonal(int offset) {
    return diagonal(offset, 0, 1);
  }

  @Override
  public NDArray diagonal(int offset, int axis1, int axis2) {
    return result(LinearAlgebra.diagonal(value(), offset, axis1, axis2));
  }

  @Override
  public NDArray trace(int offset, int axis1, int axis2) {
    return result(LinearAlgebra.trace(value(), offset, axis1, axis2));
  }

  @Override
  public NDArray inverse() {
    return result(LinearAlgebra.inverse(value()));
  }

  @Override
  public NDArray rotate90(int times, int[] axes) {
    return result(LinearAlgebra.rotate90(value(), times, axes));
  }

  @Override
  public NDArray diff(int n, int dim) {
    return result(LinearAlgebra.diff(value(), n, dim));
  }

  /** Batched matrix product {@code [B, n, k] x [B, k, m]} (any leading batch axes, broadcast). */
  @Override
  public NDArray batchDot(NDArray other) {
    return result(ValueOps.matMul(value(), operand(other)), other);
  }

  @Override
  public NDArray batchMatMul(NDArray other) {
    return batchDot(other);
  }

  /** The flattened array's distinct values, sorted, then the inverse indices and the counts when asked; {@code dim} must be null. */
  @Override
  public NDList unique(Integer dim, boolean sorted, boolean returnInverse, boolean returnCounts) {
    if (dim != null) {
      return super.unique(dim, sorted, returnInverse, returnCounts);
    }
    Value[] r = Statistics.unique(value());
    NDList out = new NDList(result(r[0]));
    if (returnInverse) {
      out.add(result(r[1]));
    }
    if (returnCounts) {
      out.add(result(r[2]));
    }
    return out;
  }

  // ---- indexed writes ----

  private CaiNDArrayIndexer indexer() {
    return new CaiNDArrayIndexer((CaiNDManager) getManager());
  }

  @Override
  public void set(NDIndex index, NDArray value) {
    indexer().set(this, index, value);
  }

  @Override
  public void set(NDIndex index, Number value) {
    indexer().set(this, index, value);
  }

  @Override
  public void set(NDIndex index, Function<NDArray, NDArray> function) {
    set(index, function.apply(get(index)));
  }

  /** Where {@code index} (a boolean array of this shape, or broadcast to it) is true, {@code value}. */
  @Override
  public void set(NDArray index, Number value) {
    replaceValue(ValueOps.where(ValueOps.cast(operand(index), dev.selfbyt.cortexsdr.core.tensor.DType.BOOL),
        ValueOps.cast(scalarLike(value), value().dtype()), value()));
  }

  @Override
  public void setScalar(NDIndex index, Number value) {
    indexer().setScalar(this, index, value);
  }

  @Override
  public NDArray get(NDIndex index) {
    return get(getManager(), index);
  }
}
