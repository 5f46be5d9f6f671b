package dev.selfbyt.cortexsdr.core.tensor;

import java.util.Arrays;
import java.util.Objects;

/**
 * A tensor's metadata: name, element type, shape, role and reduction axis. Immutable. Build one
 * with the constructor, or {@link #of(String, DType, long...)} when the role is unknown.
 *
 * <p>The reduction axis is the axis a consumer sums over (K of a MatMul weight {@code [K, N]},
 * the input channels of a convolution); block quantization and sparsity work along it. A
 * tensor viewed around axis {@code a} is {@code [outer, shape[a], inner]}; a <em>fiber</em> is the
 * {@code shape[a]} elements that share one {@code (outer, inner)} pair.
 *
 * <p>A convolution kernel ({@link TensorRole#CONV_WEIGHT}) sums over its input channels and its
 * kernel window together, so its fibers span every axis from the reduction axis to the last:
 * {@code [out, in, kh, kw]} with axis 1 has {@code out} fibers of {@code in * kh * kw} values.
 */
public final class TensorInfo {
  private final String name;
  private final DType dtype;
  private final long[] shape;
  private final TensorRole role;
  private final int reductionAxis;

  /**
   * @param reductionAxis axis in {@code [0, rank)}, or -1 for "last axis" (also used for scalars)
   */
  public TensorInfo(String name, DType dtype, long[] shape, TensorRole role, int reductionAxis) {
    this.name = Objects.requireNonNull(name, "name");
    this.dtype = Objects.requireNonNull(dtype, "dtype");
    this.shape = shape.clone();
    this.role = role == null ? TensorRole.OTHER : role;
    for (long d : shape) {
      if (d < 0) {
        throw new IllegalArgumentException(
            "tensor '" + name + "': negative dimension in shape " + Arrays.toString(shape));
      }
    }
    int rank = shape.length;
    int axis = reductionAxis < 0 ? rank - 1 : reductionAxis;
    if (rank > 0 && axis >= rank) {
      throw new IllegalArgumentException(
          "tensor '" + name + "': reduction axis " + reductionAxis + " out of range for shape "
              + Arrays.toString(shape));
    }
    this.reductionAxis = Math.max(axis, 0);
  }

  public static TensorInfo of(String name, DType dtype, long... shape) {
    return new TensorInfo(name, dtype, shape, TensorRole.OTHER, -1);
  }

  public String name() {
    return name;
  }

  public DType dtype() {
    return dtype;
  }

  public long[] shape() {
    return shape.clone();
  }

  public int rank() {
    return shape.length;
  }

  public TensorRole role() {
    return role;
  }

  /** The normalized reduction axis (0 for scalars). */
  public int reductionAxis() {
    return reductionAxis;
  }

  /**
   * Number of elements (1 for a scalar).
   *
   * @throws ArithmeticException naming the tensor and its shape when the count overflows a long
   */
  public long numel() {
    long n = 1;
    for (long d : shape) {
      n = multiply(n, d);
    }
    return n;
  }

  /**
   * Size in bytes of the tensor in its own dtype, uncompressed.
   *
   * @throws ArithmeticException naming the tensor and its shape when the size overflows a long
   */
  public long byteSize() {
    return multiply(numel(), dtype.size());
  }

  /** True when {@link #numel()} and {@link #byteSize()} fit a long (a shape from a file may not). */
  public boolean hasExactByteSize() {
    long n = dtype.size();
    for (long d : shape) {
      long h = Math.multiplyHigh(n, d);
      n *= d;
      if (h != 0 || n < 0) {
        return false;
      }
    }
    return true;
  }

  private long multiply(long a, long b) {
    long h = Math.multiplyHigh(a, b);
    long r = a * b;
    if (h != 0 || r < 0) {
      throw new ArithmeticException("tensor '" + name + "': shape " + Arrays.toString(shape) + " of " + dtype
          + " overflows: its size does not fit 63 bits");
    }
    return r;
  }

  /**
   * Length of a fiber: the size of the reduction axis (1 for scalars), or for a convolution
   * kernel the product of the reduction axis and all axes after it.
   */
  public long fiberLength() {
    if (shape.length == 0) {
      return 1;
    }
    if (fibersSpanTrailingAxes()) {
      long n = 1;
      for (int i = reductionAxis; i < shape.length; i++) {
        n = multiply(n, shape[i]);
      }
      return n;
    }
    return shape[reductionAxis];
  }

  /** Product of the dimensions after the reduction axis (1 when fibers span them). */
  public long inner() {
    if (fibersSpanTrailingAxes()) {
      return 1;
    }
    long n = 1;
    for (int i = reductionAxis + 1; i < shape.length; i++) {
      n = multiply(n, shape[i]);
    }
    return n;
  }

  private boolean fibersSpanTrailingAxes() {
    return role == TensorRole.CONV_WEIGHT;
  }

  /** Product of the dimensions before the reduction axis. */
  public long outer() {
    long n = 1;
    for (int i = 0; i < reductionAxis && i < shape.length; i++) {
      n = multiply(n, shape[i]);
    }
    return n;
  }

  /** The same tensor under another dtype (used when a codec changes the stored type). */
  public TensorInfo withDType(DType other) {
    return new TensorInfo(name, other, shape, role, reductionAxis);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof TensorInfo t
        && name.equals(t.name)
        && dtype == t.dtype
        && Arrays.equals(shape, t.shape)
        && role == t.role
        && reductionAxis == t.reductionAxis;
  }

  @Override
  public int hashCode() {
    return Objects.hash(name, dtype, Arrays.hashCode(shape), role, reductionAxis);
  }

  @Override
  public String toString() {
    return name + " " + dtype + Arrays.toString(shape);
  }
}
