package dev.selfbyt.cortexsdr.djl;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.BaseNDManager;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.selfbyt.cortexsdr.core.tensor.DType;
import dev.selfbyt.cortexsdr.djl.graph.Value;
import dev.selfbyt.cortexsdr.djl.kernel.SparseMatrix;
import java.nio.Buffer;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.DoubleBuffer;
import java.nio.FloatBuffer;
import java.nio.IntBuffer;
import java.nio.LongBuffer;
import java.nio.ShortBuffer;

/**
 * The {@link NDManager} of the CortexSDR engine: makes {@link CaiNDArray}s on the Java heap. Get
 * one from {@code Engine.getEngine("CortexSDR").newBaseManager()} or from a model.
 */
public class CaiNDManager extends BaseNDManager {
  private static final CaiNDManager SYSTEM = new SystemManager();

  private CaiNDManager(NDManager parent, Device device) {
    super(parent, device);
  }

  static CaiNDManager getSystemManager() {
    return SYSTEM;
  }

  @Override
  public ByteBuffer allocateDirect(int capacity) {
    return ByteBuffer.allocate(capacity).order(ByteOrder.nativeOrder());
  }

  NDManager alternative() {
    return alternativeManager;
  }

  /** Wraps an executor value. */
  public CaiNDArray create(Value value) {
    return new CaiNDArray(this, alternativeManager, value);
  }

  /**
   * {@code array} as a CortexSDR array (itself when it is one). An array of another engine is
   * copied; a FLOAT64 one is read as float32, the precision this engine computes in.
   */
  @Override
  public CaiNDArray from(NDArray array) {
    if (array == null || array instanceof CaiNDArray) {
      return (CaiNDArray) array;
    }
    NDArray src = array.getDataType() == DataType.FLOAT64 ? array.toType(DataType.FLOAT32, false) : array;
    CaiNDArray r = createHere(src.toByteBuffer(), src.getShape(), src.getDataType());
    r.setName(array.getName());
    return r;
  }

  /** An executor value as an array of the declared {@code type} (FLOAT16 rounds it; FLOAT64 see {@link #float64}). */
  NDArray create(Value value, DataType type) {
    if (type == DataType.FLOAT64) {
      return float64(java.nio.DoubleBuffer.wrap(Dense.doubles(value)), new Shape(value.shape()));
    }
    CaiNDArray r = create(value);
    return type == DataType.FLOAT16 ? r.asHalf() : r;
  }

  /**
   * A FLOAT64 array: this engine computes in float32 (and holds float16 exactly) but has no float64
   * arrays, so it is made by DJL's alternative engine when there is one; without one the call is
   * refused rather than answered with a float32 array.
   */
  NDArray float64(Buffer data, Shape shape) {
    if (alternativeManager == null) {
      throw new UnsupportedOperationException("The CortexSDR engine has no FLOAT64 arrays (it computes in float32 and"
          + " holds float16): create the array as FLOAT32 (toType(DataType.FLOAT32, false)), or put an engine with"
          + " FLOAT64 (ai.djl.pytorch:pytorch-engine) on the classpath, which CortexSDR then hands FLOAT64 arrays to");
    }
    return alternativeManager.create(data, shape, DataType.FLOAT64);
  }

  /**
   * Dense values read from {@code data}: FLOAT16 arrays are held exactly; FLOAT64 ones go to {@link
   * #float64}.
   */
  @Override
  public NDArray create(Buffer data, Shape shape, DataType dataType) {
    if (dataType == DataType.FLOAT64) {
      return float64(data, shape);
    }
    return createHere(data, shape, dataType);
  }

  private CaiNDArray createHere(Buffer data, Shape shape, DataType dataType) {
    int n = Math.toIntExact(shape.size());
    long[] dims = shape.getShape();
    if (dataType == DataType.FLOAT32 || dataType == DataType.FLOAT64 || dataType == DataType.FLOAT16) {
      float[] f = new float[n];
      if (data instanceof FloatBuffer fb) {
        fb.duplicate().get(f);
      } else if (data instanceof DoubleBuffer db) {
        for (int i = 0; i < n; i++) {
          f[i] = (float) db.get(db.position() + i);
        }
      } else if (data instanceof ByteBuffer bb) {
        ByteBuffer b = bb.duplicate().order(ByteOrder.nativeOrder());
        for (int i = 0; i < n; i++) {
          f[i] = dataType == DataType.FLOAT64 ? (float) b.getDouble()
              : dataType == DataType.FLOAT16 ? dev.selfbyt.cortexsdr.core.tensor.Fp16.toFloat(b.getShort())
              : b.getFloat();
        }
      } else if (data instanceof ShortBuffer sb && dataType == DataType.FLOAT16) {
        for (int i = 0; i < n; i++) {
          f[i] = dev.selfbyt.cortexsdr.core.tensor.Fp16.toFloat(sb.get(sb.position() + i));
        }
      } else {
        throw new IllegalArgumentException("cannot read " + dataType + " from a " + data.getClass().getSimpleName());
      }
      CaiNDArray r = create(Value.ofFloats(dims, f));
      return dataType == DataType.FLOAT16 ? r.asHalf() : r;
    }
    DType t = CaiNDArray.toDType(dataType);
    long[] l = new long[n];
    if (data instanceof LongBuffer lb) {
      lb.duplicate().get(l);
    } else if (data instanceof IntBuffer ib) {
      for (int i = 0; i < n; i++) {
        l[i] = ib.get(ib.position() + i);
      }
    } else if (data instanceof ShortBuffer sb) {
      for (int i = 0; i < n; i++) {
        l[i] = sb.get(sb.position() + i);
      }
    } else if (data instanceof ByteBuffer bb) {
      ByteBuffer b = bb.duplicate().order(ByteOrder.nativeOrder());
      for (int i = 0; i < n; i++) {
        l[i] = switch (t) {
          case INT64 -> b.getLong();
          case INT32 -> b.getInt();
          case UINT8, BOOL -> b.get() & 0xff;
          case INT8 -> b.get();
          case INT16 -> b.getShort();
          default -> throw new IllegalArgumentException(dataType + " is not supported by the CortexSDR engine");
        };
      }
    } else {
      throw new IllegalArgumentException("cannot read " + dataType + " from a " + data.getClass().getSimpleName());
    }
    return create(Value.ofLongs(t, dims, l));
  }

  @Override
  public NDArray zeros(Shape shape, DataType dataType) {
    return full(shape, 0f, dataType);
  }

  @Override
  public NDArray ones(Shape shape, DataType dataType) {
    return full(shape, 1f, dataType);
  }

  @Override
  public NDArray full(Shape shape, float value, DataType dataType) {
    int n = Math.toIntExact(shape.size());
    if (dataType.isFloating()) {
      float[] f = new float[n];
      java.util.Arrays.fill(f, value);
      return create(Value.ofFloats(shape.getShape(), f), dataType);
    }
    long[] l = new long[n];
    java.util.Arrays.fill(l, (long) value);
    return create(Value.ofLongs(CaiNDArray.toDType(dataType), shape.getShape(), l));
  }

  /**
   * Uniform values in {@code [low, high)} from DJL's shared generator ({@code RandomUtils.RANDOM},
   * seeded by {@code Engine.getEngine("CortexSDR").setRandomSeed}); what DJL's Xavier and uniform
   * initializers call.
   */
  @Override
  public NDArray randomUniform(float low, float high, Shape shape, DataType dataType) {
    float[] f = new float[Math.toIntExact(shape.size())];
    for (int i = 0; i < f.length; i++) {
      f[i] = low + (high - low) * ai.djl.util.RandomUtils.RANDOM.nextFloat();
    }
    return floating(shape, f, dataType);
  }

  /** Normal values (mean {@code loc}, standard deviation {@code scale}) from DJL's shared generator. */
  @Override
  public NDArray randomNormal(float loc, float scale, Shape shape, DataType dataType) {
    float[] f = new float[Math.toIntExact(shape.size())];
    for (int i = 0; i < f.length; i++) {
      f[i] = (float) (loc + scale * ai.djl.util.RandomUtils.RANDOM.nextGaussian());
    }
    return floating(shape, f, dataType);
  }

  /** Normal values redrawn until within two standard deviations of {@code loc}. */
  @Override
  public NDArray truncatedNormal(float loc, float scale, Shape shape, DataType dataType) {
    float[] f = new float[Math.toIntExact(shape.size())];
    for (int i = 0; i < f.length; i++) {
      double g;
      do {
        g = ai.djl.util.RandomUtils.RANDOM.nextGaussian();
      } while (Math.abs(g) > 2);
      f[i] = (float) (loc + scale * g);
    }
    return floating(shape, f, dataType);
  }

  private NDArray floating(Shape shape, float[] f, DataType dataType) {
    if (!dataType.isFloating()) {
      throw new IllegalArgumentException("random values are floating; " + dataType + " was asked");
    }
    return create(Value.ofFloats(shape.getShape(), f), dataType);
  }

  @Override
  public NDArray arange(float start, float stop, float step, DataType dataType) {
    int n = (int) Math.max(0, Math.ceil((stop - start) / step));
    if (dataType.isFloating()) {
      float[] f = new float[n];
      for (int i = 0; i < n; i++) {
        f[i] = start + i * step;
      }
      return create(Value.ofFloats(new long[] {n}, f), dataType);
    }
    long[] l = new long[n];
    for (int i = 0; i < n; i++) {
      l[i] = (long) (start + i * step);
    }
    return create(Value.ofLongs(CaiNDArray.toDType(dataType), new long[] {n}, l));
  }

  @Override
  public NDArray eye(int rows, int cols, int k, DataType dataType) {
    float[] f = new float[rows * cols];
    for (int r = 0; r < rows; r++) {
      int c = r + k;
      if (c >= 0 && c < cols) {
        f[r * cols + c] = 1;
      }
    }
    return castTo(Value.ofFloats(new long[] {rows, cols}, f), dataType);
  }

  /** {@code num} evenly spaced values from {@code start} to {@code stop} (included when {@code endpoint}), computed in double. */
  @Override
  public NDArray linspace(float start, float stop, int num, boolean endpoint) {
    if (num < 0) {
      throw new IllegalArgumentException("linspace: num " + num + " is negative");
    }
    float[] f = new float[num];
    double step = (endpoint ? num - 1 : num) > 0 ? ((double) stop - start) / (endpoint ? num - 1 : num) : 0;
    for (int i = 0; i < num; i++) {
      f[i] = (float) (start + i * step);
    }
    return create(Value.ofFloats(new long[] {num}, f));
  }

  /** Integers uniform in {@code [low, high)} from DJL's shared generator. */
  @Override
  public NDArray randomInteger(long low, long high, Shape shape, DataType dataType) {
    if (high <= low) {
      throw new IllegalArgumentException("randomInteger: high " + high + " must exceed low " + low);
    }
    long[] l = new long[Math.toIntExact(shape.size())];
    for (int i = 0; i < l.length; i++) {
      l[i] = low + (long) Math.floor(ai.djl.util.RandomUtils.RANDOM.nextDouble() * (high - low));
    }
    return castTo(Value.ofLongs(dev.selfbyt.cortexsdr.core.tensor.DType.INT64, shape.getShape(), l), dataType);
  }

  private NDArray castTo(Value v, DataType dataType) {
    if (dataType.isFloating()) {
      return create(v.isFloating() ? v : dev.selfbyt.cortexsdr.djl.graph.ValueOps.cast(v, DType.FLOAT32), dataType);
    }
    return create(dev.selfbyt.cortexsdr.djl.graph.ValueOps.cast(v, CaiNDArray.toDType(dataType)));
  }

  /**
   * A CSR matrix: kept sparse (as an SDR weight is), so {@code matMul} by it runs the sparse
   * kernel. {@code shape} is {@code [rows, cols]}.
   */
  @Override
  public NDArray createCSR(Buffer data, long[] indptr, long[] indices, Shape shape) {
    if (shape.dimension() != 2) {
      throw new IllegalArgumentException("CSR needs a 2-D shape, got " + shape);
    }
    int rows = (int) shape.get(0);
    int cols = (int) shape.get(1);
    float[] dense = new float[rows * cols];
    FloatBuffer fb = data instanceof FloatBuffer f ? f.duplicate()
        : ((ByteBuffer) data).duplicate().order(ByteOrder.nativeOrder()).asFloatBuffer();
    for (int r = 0; r < rows; r++) {
      for (long p = indptr[r]; p < indptr[r + 1]; p++) {
        dense[r * cols + (int) indices[(int) p]] = fb.get((int) p);
      }
    }
    return create(CaiNDArray.csrValue(SparseMatrix.ofDense(dense, rows, cols), rows, cols));
  }

  @Override
  public CaiNDManager newSubManager(Device device) {
    CaiNDManager m = new CaiNDManager(this, device);
    attachInternal(m.uid, m);
    return m;
  }

  @Override
  public final Engine getEngine() {
    return Engine.getEngine(CortexSdrEngine.ENGINE_NAME);
  }

  @Override
  public void close() {
    super.close();
    if (alternativeManager != null) {
      alternativeManager.close();
      alternativeManager = null;
    }
  }

  private static final class SystemManager extends CaiNDManager implements SystemNDManager {
    SystemManager() {
      super(null, null);
    }

    @Override
    public void close() {}
  }
}
