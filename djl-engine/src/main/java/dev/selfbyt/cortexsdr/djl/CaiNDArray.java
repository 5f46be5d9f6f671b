package dev.selfbyt.cortexsdr.djl;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.ndarray.types.SparseFormat;
import dev.selfbyt.cortexsdr.core.tensor.DType;
import dev.selfbyt.cortexsdr.core.tensor.Fp16;
import dev.selfbyt.cortexsdr.core.tensor.TensorInfo;
import dev.selfbyt.cortexsdr.core.tensor.TensorRole;
import dev.selfbyt.cortexsdr.djl.graph.Value;
import dev.selfbyt.cortexsdr.djl.graph.ValueOps;
import dev.selfbyt.cortexsdr.djl.kernel.SparseMatrix;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * An NDArray of the CortexSDR engine (on DJL's {@link ai.djl.ndarray.NDArrayAdapter}). It holds a {@link Value}:
 * dense values on the Java heap, or a weight still block-quantized or SDR-sparse, decoded only
 * when an operator needs dense values. {@link #matMul}/{@link #dot} with a compressed right operand
 * run the quantized or sparse kernels on it directly; {@link #toSparse(SparseFormat)} with {@code
 * CSR} and {@code NDManager.createCSR} give the sparse form. The element-wise, comparison,
 * reduction, shape and indexing operators ({@code get} with fixed indices, slices or one index
 * array; PyTorch-style {@code gather}) a translator or a transformer needs run in Java here, the
 * other operator families in {@link CaiNDArrayOperators}, and {@link #getNDArrayInternal()} gives
 * the layer and image operators of DJL's {@code ai.djl.nn} blocks and transforms ({@link
 * CaiNDArrayEx}); what is left goes to DJL's alternative engine (PyTorch when present), as DJL's
 * OnnxRuntime engine does. A FLOAT16 array holds float16 values exactly (rounded after every
 * operator); FLOAT64 arrays are not this engine's. Get one from a {@link CaiNDManager}.
 */
public class CaiNDArray extends CaiNDArrayOperators {
  private Value value;
  /** Declared FLOAT16: the values are float32 holding float16 numbers exactly, rounded after each operator. */
  private boolean half;

  CaiNDArray(CaiNDManager manager, NDManager alternativeManager, Value value) {
    super(manager, alternativeManager, NDManager.nextUid());
    this.value = value;
    manager.attachInternal(uid, this);
  }

  /** This array as FLOAT16: its floating values rounded to the nearest float16. */
  CaiNDArray asHalf() {
    if (!value.isFloating()) {
      throw new IllegalArgumentException("only a floating array can be FLOAT16, this one is " + value.dtype());
    }
    float[] f = value.floats();
    float[] h = new float[f.length];
    for (int i = 0; i < f.length; i++) {
      h[i] = Fp16.toFloat(Fp16.fromFloat(f[i]));
    }
    value = Value.ofFloats(value.shape(), h);
    half = true;
    return this;
  }

  @Override
  CaiNDArray result(Value v) {
    return result(v, (CaiNDManager) manager, half);
  }

  @Override
  CaiNDArray result(Value v, NDArray other) {
    boolean otherHalf = other.getDataType() == DataType.FLOAT16 || !other.getDataType().isFloating();
    return result(v, (CaiNDManager) manager, half && otherHalf);
  }

  /** A result in manager {@code m}. */
  CaiNDArray result(Value v, CaiNDManager m) {
    return result(v, m, half);
  }

  private static CaiNDArray result(Value v, CaiNDManager m, boolean half) {
    CaiNDArray r = m.create(v);
    return half && v.isFloating() ? r.asHalf() : r;
  }

  @Override
  Value operand(NDArray a) {
    return other(a);
  }

  @Override
  void replaceValue(Value v) {
    checkOpen();
    value = v;
    if (half && v.isFloating()) {
      asHalf();
    }
  }

  /** The executor value behind this array. */
  @Override
  public Value value() {
    checkOpen();
    return value;
  }

  private void checkOpen() {
    if (isClosed) {
      throw new IllegalStateException("this CaiNDArray is closed");
    }
  }

  private CaiNDArray wrap(Value v) {
    return result(v);
  }

  private static Value valueOf(NDArray a, NDManager m) {
    if (a instanceof CaiNDArray c) {
      return c.value();
    }
    return ((CaiNDManager) m).from(a).value();
  }

  private Value other(NDArray a) {
    return valueOf(a, manager);
  }

  private Value scalar(Number n) {
    if (value.isFloating() || n instanceof Float || n instanceof Double) {
      return Value.ofFloats(new long[0], new float[] {n.floatValue()});
    }
    return Value.ofLongs(value.dtype(), new long[0], new long[] {n.longValue()});
  }

  static DType toDType(DataType t) {
    return switch (t) {
      case FLOAT32, FLOAT64, FLOAT16 -> DType.FLOAT32;
      case INT64 -> DType.INT64;
      case INT32 -> DType.INT32;
      case INT8 -> DType.INT8;
      case UINT8 -> DType.UINT8;
      case INT16 -> DType.INT16;
      case BOOLEAN -> DType.BOOL;
      default -> throw new IllegalArgumentException(t + " is not supported by the CortexSDR engine");
    };
  }

  static DataType toDataType(DType t) {
    return switch (t) {
      case FLOAT32, FLOAT16, FLOAT64, BFLOAT16 -> DataType.FLOAT32;
      case INT64, UINT32, UINT64 -> DataType.INT64;
      case INT32 -> DataType.INT32;
      case INT8 -> DataType.INT8;
      case UINT8 -> DataType.UINT8;
      case INT16, UINT16 -> DataType.INT16;
      case BOOL -> DataType.BOOLEAN;
      default -> throw new IllegalArgumentException(t + " has no DJL data type");
    };
  }

  /** A CSR matrix of shape {@code [rows, cols]} as a sparse value whose fibers are its columns. */
  static Value csrValue(SparseMatrix rowsMajor, int rows, int cols) {
    float[] t = new float[rows * cols];
    float[] row = new float[cols];
    for (int r = 0; r < rows; r++) {
      rowsMajor.decodeRow(r, row, 0);
      for (int c = 0; c < cols; c++) {
        t[c * rows + r] = row[c];
      }
    }
    TensorInfo info = new TensorInfo("csr", DType.FLOAT32, new long[] {rows, cols}, TensorRole.MATMUL_WEIGHT, 0);
    return Value.ofSparse(info, SparseMatrix.ofDense(t, cols, rows));
  }

  @Override
  public DataType getDataType() {
    checkOpen();
    return half ? DataType.FLOAT16 : toDataType(value.dtype());
  }

  @Override
  public Shape getShape() {
    checkOpen();
    return new Shape(value.shape());
  }

  @Override
  public SparseFormat getSparseFormat() {
    return value().sparse() != null ? SparseFormat.CSR : SparseFormat.DENSE;
  }

  @Override
  public ByteBuffer toByteBuffer(boolean tryDirect) {
    Value v = value();
    DataType t = getDataType();
    ByteBuffer b = ByteBuffer.allocate(v.size() * t.getNumOfBytes()).order(ByteOrder.nativeOrder());
    if (half) {
      for (float f : v.floats()) {
        b.putShort(Fp16.fromFloat(f));
      }
      b.rewind();
    } else if (v.isFloating()) {
      b.asFloatBuffer().put(v.floats());
    } else {
      long[] l = v.longs();
      for (long x : l) {
        switch (t) {
          case INT64 -> b.putLong(x);
          case INT32 -> b.putInt((int) x);
          case INT16 -> b.putShort((short) x);
          default -> b.put((byte) x);
        }
      }
      b.rewind();
    }
    return b;
  }

  @Override
  public void intern(NDArray replaced) {
    CaiNDArray other = (CaiNDArray) replaced;
    this.value = other.value();
    this.half = other.half;
    other.close();
  }

  @Override
  public void detach() {
    manager.detachInternal(getUid());
    manager = CaiNDManager.getSystemManager();
  }

  @Override
  public NDArray duplicate() {
    CaiNDArray r = result(value());
    r.setName(getName());
    return r;
  }

  /**
   * FLOAT16 is held exactly (float16 numbers in float32, rounded after every operator); FLOAT64 is
   * not an engine type: the array goes to DJL's alternative engine when there is one, else the
   * call is refused (it would otherwise report float32 for a float64 request).
   */
  @Override
  public NDArray toType(DataType dataType, boolean copy) {
    if (dataType == getDataType() && !copy) {
      return this;
    }
    if (dataType == DataType.FLOAT64) {
      return ((CaiNDManager) manager).float64(java.nio.DoubleBuffer.wrap(Dense.doubles(value())), getShape());
    }
    CaiNDArray r = ((CaiNDManager) manager).create(ValueOps.cast(value(), toDType(dataType)));
    return dataType == DataType.FLOAT16 ? r.asHalf() : r;
  }

  @Override
  public NDArray toDense() {
    return value().isCompressed() ? wrap(ValueOps.dense(value)) : this;
  }

  @Override
  public NDArray toSparse(SparseFormat fmt) {
    if (fmt == SparseFormat.DENSE) {
      return toDense();
    }
    if (fmt == SparseFormat.CSR && value().rank() == 2) {
      if (value.sparse() != null) {
        return this;
      }
      int rows = (int) value.dim(0);
      int cols = (int) value.dim(1);
      return wrap(csrValue(SparseMatrix.ofDense(value.floats(), rows, cols), rows, cols));
    }
    return super.toSparse(fmt);
  }

  /**
   * The operators DJL's {@code ai.djl.nn} blocks call (convolution, linear, layer and batch norm,
   * pooling, activations, concat, where, embedding) on this engine; see {@link CaiNDArrayEx}.
   */
  @Override
  public ai.djl.ndarray.internal.NDArrayEx getNDArrayInternal() {
    checkOpen();
    return new CaiNDArrayEx(this);
  }

  /** True once an operator sent this array to DJL's alternative engine (what the API walk reports). */
  boolean usedAlternativeEngine() {
    return alternativeArray != null;
  }

  /** DJL's alternative engine's view of this array, for operators this engine does not run. */
  ai.djl.ndarray.internal.NDArrayEx alternativeEx() {
    return super.getNDArrayInternal();
  }

  // ---- element-wise ----

  @Override
  public NDArray add(Number n) {
    return wrap(ValueOps.binary(ValueOps.Binary.ADD, value(), scalar(n)));
  }

  @Override
  public NDArray add(NDArray other) {
    return result(ValueOps.binary(ValueOps.Binary.ADD, value(), other(other)), other);
  }

  @Override
  public NDArray sub(Number n) {
    return wrap(ValueOps.binary(ValueOps.Binary.SUB, value(), scalar(n)));
  }

  @Override
  public NDArray sub(NDArray other) {
    return result(ValueOps.binary(ValueOps.Binary.SUB, value(), other(other)), other);
  }

  @Override
  public NDArray mul(Number n) {
    return wrap(ValueOps.binary(ValueOps.Binary.MUL, value(), scalar(n)));
  }

  @Override
  public NDArray mul(NDArray other) {
    return result(ValueOps.binary(ValueOps.Binary.MUL, value(), other(other)), other);
  }

  @Override
  public NDArray div(Number n) {
    return wrap(ValueOps.binary(ValueOps.Binary.DIV, value(), scalar(n)));
  }

  @Override
  public NDArray div(NDArray other) {
    return result(ValueOps.binary(ValueOps.Binary.DIV, value(), other(other)), other);
  }

  @Override
  public NDArray pow(Number n) {
    return wrap(ValueOps.binary(ValueOps.Binary.POW, value(), scalar(n)));
  }

  @Override
  public NDArray pow(NDArray other) {
    return result(ValueOps.binary(ValueOps.Binary.POW, value(), other(other)), other);
  }

  @Override
  public NDArray maximum(NDArray other) {
    return result(ValueOps.binary(ValueOps.Binary.MAX, value(), other(other)), other);
  }

  @Override
  public NDArray minimum(NDArray other) {
    return result(ValueOps.binary(ValueOps.Binary.MIN, value(), other(other)), other);
  }

  @Override
  public NDArray maximum(Number n) {
    return wrap(ValueOps.binary(ValueOps.Binary.MAX, value(), scalar(n)));
  }

  @Override
  public NDArray minimum(Number n) {
    return wrap(ValueOps.binary(ValueOps.Binary.MIN, value(), scalar(n)));
  }

  @Override
  public NDArray neq(NDArray other) {
    return wrap(ValueOps.compare(ValueOps.Comparison.NOT_EQUAL, value(), other(other)));
  }

  @Override
  public NDArray neq(Number n) {
    return wrap(ValueOps.compare(ValueOps.Comparison.NOT_EQUAL, value(), scalar(n)));
  }

  @Override
  public NDArray gt(NDArray other) {
    return wrap(ValueOps.compare(ValueOps.Comparison.GREATER, value(), other(other)));
  }

  @Override
  public NDArray gt(Number n) {
    return wrap(ValueOps.compare(ValueOps.Comparison.GREATER, value(), scalar(n)));
  }

  @Override
  public NDArray gte(NDArray other) {
    return wrap(ValueOps.compare(ValueOps.Comparison.GREATER_OR_EQUAL, value(), other(other)));
  }

  @Override
  public NDArray gte(Number n) {
    return wrap(ValueOps.compare(ValueOps.Comparison.GREATER_OR_EQUAL, value(), scalar(n)));
  }

  @Override
  public NDArray lt(NDArray other) {
    return wrap(ValueOps.compare(ValueOps.Comparison.LESS, value(), other(other)));
  }

  @Override
  public NDArray lt(Number n) {
    return wrap(ValueOps.compare(ValueOps.Comparison.LESS, value(), scalar(n)));
  }

  @Override
  public NDArray lte(NDArray other) {
    return wrap(ValueOps.compare(ValueOps.Comparison.LESS_OR_EQUAL, value(), other(other)));
  }

  @Override
  public NDArray lte(Number n) {
    return wrap(ValueOps.compare(ValueOps.Comparison.LESS_OR_EQUAL, value(), scalar(n)));
  }

  /** PyTorch-style gather (ONNX GatherElements): the output has {@code index}'s shape. */
  @Override
  public NDArray gather(NDArray index, int axis) {
    return wrap(ValueOps.gatherElements(value(), other(index), axis));
  }

  @Override
  public NDArray eq(NDArray other) {
    return wrap(ValueOps.equal(value(), other(other)));
  }

  @Override
  public NDArray eq(Number n) {
    return wrap(ValueOps.equal(value(), scalar(n)));
  }

  @Override
  public NDArray sqrt() {
    return wrap(ValueOps.unary(ValueOps.Unary.SQRT, value()));
  }

  @Override
  public NDArray exp() {
    return wrap(ValueOps.unary(ValueOps.Unary.EXP, value()));
  }

  @Override
  public NDArray log() {
    return wrap(ValueOps.unary(ValueOps.Unary.LOG, value()));
  }

  @Override
  public NDArray neg() {
    return wrap(ValueOps.unary(ValueOps.Unary.NEG, value()));
  }

  @Override
  public NDArray abs() {
    return wrap(ValueOps.unary(ValueOps.Unary.ABS, value()));
  }

  @Override
  public NDArray erf() {
    return wrap(ValueOps.unary(ValueOps.Unary.ERF, value()));
  }

  @Override
  public NDArray tanh() {
    return wrap(ValueOps.unary(ValueOps.Unary.TANH, value()));
  }

  @Override
  public NDArray clip(Number min, Number max) {
    return wrap(ValueOps.clip(value(), min.floatValue(), max.floatValue()));
  }

  // ---- reductions ----

  /** Floating sums run the executor's ReduceSum; integer sums stay exact integers ({@link Reductions}). */
  @Override
  public NDArray sum() {
    return sum(null, false);
  }

  @Override
  public NDArray sum(int[] axes, boolean keepDims) {
    if (!value().isFloating()) {
      return wrap(Reductions.reduce(value, axes, keepDims, Reductions.Kind.SUM));
    }
    return wrap(ValueOps.reduce(value(), longs(axes), keepDims, false));
  }

  @Override
  public NDArray mean() {
    return wrap(ValueOps.reduce(value(), null, false, true));
  }

  @Override
  public NDArray mean(int[] axes, boolean keepDims) {
    return wrap(ValueOps.reduce(value(), longs(axes), keepDims, true));
  }

  @Override
  public NDArray normalize(double exponent, long dim, double eps) {
    Value v = value();
    int ax = (int) (dim < 0 ? dim + v.rank() : dim);
    Value p = ValueOps.binary(ValueOps.Binary.POW, ValueOps.unary(ValueOps.Unary.ABS, v), Value.ofFloats(new long[0], new float[] {(float) exponent}));
    Value norm = ValueOps.binary(ValueOps.Binary.POW, ValueOps.reduce(p, new long[] {ax}, true, false),
        Value.ofFloats(new long[0], new float[] {(float) (1 / exponent)}));
    norm = ValueOps.binary(ValueOps.Binary.MAX, norm, Value.ofFloats(new long[0], new float[] {(float) eps}));
    return wrap(ValueOps.binary(ValueOps.Binary.DIV, v, norm));
  }

  /** In double ({@link ElementWise#softmax}): DJL's fill-mask and classification translators take it over whole vocabularies. */
  @Override
  public NDArray softmax(int axis) {
    return wrap(ElementWise.softmax(value(), axis));
  }

  // ---- shapes ----

  @Override
  public NDArray reshape(Shape shape) {
    return wrap(ValueOps.reshape(value(), shape.getShape()));
  }

  @Override
  public NDArray expandDims(int axis) {
    return wrap(ValueOps.unsqueeze(value(), new long[] {axis < 0 ? axis + value.rank() + 1 : axis}));
  }

  @Override
  public NDArray squeeze(int[] axes) {
    return wrap(ValueOps.squeeze(value(), longs(axes)));
  }

  @Override
  public NDArray broadcast(Shape shape) {
    return wrap(ValueOps.broadcast(value(), shape.getShape()));
  }

  @Override
  public NDArray transpose() {
    return wrap(ValueOps.transpose(value(), null));
  }

  @Override
  public NDArray transpose(int... axes) {
    return wrap(ValueOps.transpose(value(), longs(axes)));
  }

  @Override
  public NDList split(long[] indices, int axis) {
    Value v = value();
    int ax = axis < 0 ? axis + v.rank() : axis;
    long size = v.dim(ax);
    NDList out = new NDList();
    long start = 0;
    for (int i = 0; i <= indices.length; i++) {
      long end = i < indices.length ? indices[i] : size;
      out.add(wrap(ValueOps.slice(v, new long[] {start}, new long[] {end}, new long[] {ax}, null)));
      start = end;
    }
    return out;
  }

  /** DJL's indexing, in {@link CaiNDArrayIndexer}; the result belongs to {@code m} when it is a CortexSDR manager. */
  @Override
  public NDArray get(NDManager m, NDIndex index) {
    CaiNDManager target = m instanceof CaiNDManager cm ? cm : (CaiNDManager) manager;
    return new CaiNDArrayIndexer(target).get(this, index);
  }

  // ---- products ----

  /** {@code this * other}; a quantized or sparse {@code other} is used as stored. */
  @Override
  public NDArray matMul(NDArray other) {
    return result(ValueOps.matMul(value(), other(other)), other);
  }

  /** numpy's dot: a matrix product whenever {@code other} has at most two axes; otherwise the alternative engine. */
  @Override
  public NDArray dot(NDArray other) {
    Value a = value();
    Value b = other(other);
    if (b.rank() <= 2) {
      return result(ValueOps.matMul(a, b), other);
    }
    return super.dot(other);
  }

  private static long[] longs(int[] a) {
    if (a == null) {
      return null;
    }
    long[] l = new long[a.length];
    for (int i = 0; i < a.length; i++) {
      l[i] = a[i];
    }
    return l;
  }

  @Override
  public void close() {
    value = null;
    super.close();
  }
}
