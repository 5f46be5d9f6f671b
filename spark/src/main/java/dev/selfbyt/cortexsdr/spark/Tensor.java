package dev.selfbyt.cortexsdr.spark;

import java.util.Arrays;

/**
 * One model input or output: a shape and its elements, row-major, as int64 ({@link #longs()}) or
 * fp32 ({@link #floats()}); exactly one of the two is set. Get one with {@link #ofLongs} or
 * {@link #ofFloats}.
 */
public final class Tensor {
  private final long[] shape;
  private final long[] longs;
  private final float[] floats;

  private Tensor(long[] shape, long[] longs, float[] floats) {
    long n = 1;
    for (long d : shape) {
      if (d < 0) {
        throw new IllegalArgumentException("negative dimension in shape " + Arrays.toString(shape));
      }
      n *= d;
    }
    int have = longs != null ? longs.length : floats.length;
    if (n != have) {
      throw new IllegalArgumentException("shape " + Arrays.toString(shape) + " holds " + n + " elements, got " + have);
    }
    this.shape = shape.clone();
    this.longs = longs;
    this.floats = floats;
  }

  /** An int64 tensor. */
  public static Tensor ofLongs(long[] shape, long[] values) {
    return new Tensor(shape, values, null);
  }

  /** An fp32 tensor. */
  public static Tensor ofFloats(long[] shape, float[] values) {
    return new Tensor(shape, null, values);
  }

  public long[] shape() {
    return shape.clone();
  }

  /** Whether the elements are int64 (else fp32). */
  public boolean isLong() {
    return longs != null;
  }

  /** The int64 elements; fails on an fp32 tensor. */
  public long[] longs() {
    if (longs == null) {
      throw new IllegalStateException("an fp32 tensor " + Arrays.toString(shape) + ", not int64");
    }
    return longs;
  }

  /** The fp32 elements; fails on an int64 tensor. */
  public float[] floats() {
    if (floats == null) {
      throw new IllegalStateException("an int64 tensor " + Arrays.toString(shape) + ", not fp32");
    }
    return floats;
  }

  /** Elements of the whole tensor. */
  public int size() {
    return longs != null ? longs.length : floats.length;
  }
}
