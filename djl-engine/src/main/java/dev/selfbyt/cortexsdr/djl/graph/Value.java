package dev.selfbyt.cortexsdr.djl.graph;

import dev.selfbyt.cortexsdr.core.tensor.DType;
import dev.selfbyt.cortexsdr.core.tensor.TensorInfo;
import dev.selfbyt.cortexsdr.djl.kernel.QuantMatrix;
import dev.selfbyt.cortexsdr.djl.kernel.SparseMatrix;
import java.util.Arrays;

/**
 * A tensor in the graph executor: dense values ({@code float[]} for floating types, {@code long[]}
 * for integer and boolean types, with the type kept as a tag), or a weight in its compressed form
 * ({@link QuantMatrix} or {@link SparseMatrix} over the stored tensor's fibers) that {@link
 * #floats()} decodes on demand without keeping the result. Get one with {@link #ofFloats}, {@link
 * #ofLongs} or {@link #ofQuantized}/{@link #ofSparse}. Immutable by convention: operators never
 * write into their inputs.
 */
public final class Value {
  private final DType dtype;
  private final long[] shape;
  private final float[] floats;
  private final long[] longs;
  private final TensorInfo stored;
  private final QuantMatrix quant;
  private final SparseMatrix sparse;

  private Value(DType dtype, long[] shape, float[] floats, long[] longs, TensorInfo stored, QuantMatrix quant,
      SparseMatrix sparse) {
    this.dtype = dtype;
    this.shape = shape;
    this.floats = floats;
    this.longs = longs;
    this.stored = stored;
    this.quant = quant;
    this.sparse = sparse;
  }

  /** Dense float32 values, row-major. */
  public static Value ofFloats(long[] shape, float[] values) {
    check(shape, values.length);
    return new Value(DType.FLOAT32, shape, values, null, null, null, null);
  }

  /** Dense integer or boolean values held as longs; {@code dtype} says what they are. */
  public static Value ofLongs(DType dtype, long[] shape, long[] values) {
    if (dtype.isFloating()) {
      throw new IllegalArgumentException(dtype + " is floating: use ofFloats");
    }
    check(shape, values.length);
    return new Value(dtype, shape, null, values, null, null, null);
  }

  /**
   * A quantized weight: the stored tensor's fibers are the matrix rows. A matrix quantized along
   * its first axis (a MatMul weight {@code [K, N]}, fibers = columns) is kept in the column-panel
   * layout ({@link QuantMatrix#inPanels()}) the GEMM decodes fastest; the same bytes.
   */
  public static Value ofQuantized(TensorInfo info, QuantMatrix q) {
    if (info.rank() == 2 && info.reductionAxis() == 0) {
      q = q.inPanels();
    }
    return new Value(DType.FLOAT32, info.shape(), null, null, info, q, null);
  }

  /** An SDR weight: the stored tensor's fibers are the CSR rows. */
  public static Value ofSparse(TensorInfo info, SparseMatrix s) {
    return new Value(DType.FLOAT32, info.shape(), null, null, info, null, s);
  }

  private static void check(long[] shape, int n) {
    long size = 1;
    for (long d : shape) {
      size *= d;
    }
    if (size != n) {
      throw new IllegalArgumentException(n + " values for shape " + Arrays.toString(shape));
    }
  }

  public DType dtype() {
    return dtype;
  }

  public long[] shape() {
    return shape.clone();
  }

  long[] shapeRef() {
    return shape;
  }

  public int rank() {
    return shape.length;
  }

  public long dim(int axis) {
    return shape[axis < 0 ? axis + shape.length : axis];
  }

  public int size() {
    long n = 1;
    for (long d : shape) {
      n *= d;
    }
    return Math.toIntExact(n);
  }

  public boolean isFloating() {
    return dtype.isFloating();
  }

  /** True for a weight held quantized or sparse. */
  public boolean isCompressed() {
    return quant != null || sparse != null;
  }

  public QuantMatrix quantized() {
    return quant;
  }

  public SparseMatrix sparse() {
    return sparse;
  }

  /** The stored tensor a compressed value comes from (null when dense). */
  public TensorInfo storedInfo() {
    return stored;
  }

  /** The dense float array itself, or null (integers, compressed weights); for {@link ArrayRecycler}. */
  float[] denseFloats() {
    return floats;
  }

  /**
   * The values as floats in row-major order: the array itself when dense float (do not write
   * into it), a converted copy for integers, a freshly decoded copy for a compressed weight.
   */
  public float[] floats() {
    if (floats != null) {
      return floats;
    }
    if (longs != null) {
      float[] f = new float[longs.length];
      for (int i = 0; i < f.length; i++) {
        f[i] = longs[i];
      }
      return f;
    }
    return decode();
  }

  /** The values as longs (floats are truncated toward zero, as ONNX Cast does). */
  public long[] longs() {
    if (longs != null) {
      return longs;
    }
    float[] f = floats();
    long[] l = new long[f.length];
    for (int i = 0; i < l.length; i++) {
      l[i] = (long) f[i];
    }
    return l;
  }

  /** Bytes this value holds in memory. */
  public long residentBytes() {
    if (quant != null) {
      return quant.residentBytes();
    }
    if (sparse != null) {
      return sparse.residentBytes();
    }
    return floats != null ? 4L * floats.length : 8L * longs.length;
  }

  private float[] decode() {
    int fibers = quant != null ? quant.rows() : sparse.rows();
    int r = quant != null ? quant.cols() : sparse.cols();
    int inner = (int) stored.inner();
    float[] fm = new float[Math.multiplyExact(fibers, r)];
    for (int f = 0; f < fibers; f++) {
      if (quant != null) {
        quant.decodeRow(f, fm, f * r);
      } else {
        sparse.decodeRow(f, fm, f * r);
      }
    }
    if (inner == 1) {
      return fm;
    }
    float[] out = new float[fm.length];
    int outer = fibers / inner;
    for (int o = 0; o < outer; o++) {
      for (int c = 0; c < inner; c++) {
        int src = (o * inner + c) * r;
        for (int i = 0; i < r; i++) {
          out[(o * r + i) * inner + c] = fm[src + i];
        }
      }
    }
    return out;
  }

  @Override
  public String toString() {
    return dtype + Arrays.toString(shape) + (quant != null ? " int" + quant.bits() : sparse != null ? " sdr" : "");
  }
}
