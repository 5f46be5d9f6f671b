package dev.selfbyt.cortexsdr.core.tensor;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * A tensor's values: its {@link TensorInfo} plus either its little-endian bytes in its own dtype
 * or, for floating tensors, a {@code float[]}; each view is made from the other on first use.
 * Get one from {@link TensorSource#read}, {@link #ofBytes}, {@link #ofFloats}, or a codec's
 * decode. Not thread-safe; a tensor is used by one thread at a time.
 */
public final class TensorData {
  private final TensorInfo info;
  private ByteBuffer bytes;
  private float[] floats;
  private dev.selfbyt.cortexsdr.core.codec.QuantGrid grid;
  private float[] reference;

  private TensorData(TensorInfo info, ByteBuffer bytes, float[] floats) {
    this.info = info;
    this.bytes = bytes;
    this.floats = floats;
  }

  /**
   * The same values with a quantization grid chosen ahead (see {@link
   * dev.selfbyt.cortexsdr.core.codec.QuantGrid}); a quant codec of matching settings uses it.
   */
  public TensorData withGrid(dev.selfbyt.cortexsdr.core.codec.QuantGrid grid) {
    TensorData d = new TensorData(info, bytes, floats);
    d.grid = grid;
    d.reference = reference;
    return d;
  }

  /**
   * The same values, with the values they stand for when calibration has moved them away from the
   * original (GPTQ's updated weights, say): the stored error is measured against {@code
   * reference}.
   */
  public TensorData withReference(float[] reference) {
    if (reference != null && reference.length != info.numel()) {
      throw new IllegalArgumentException("reference of " + reference.length + " values for " + info);
    }
    TensorData d = new TensorData(info, bytes, floats);
    d.grid = grid;
    d.reference = reference;
    return d;
  }

  /** What the error is measured against: the {@linkplain #withReference reference}, else the values. */
  public float[] reference() {
    return reference != null ? reference : floats();
  }

  /** The attached quantization grid, or null. */
  public dev.selfbyt.cortexsdr.core.codec.QuantGrid grid() {
    return grid;
  }

  /** Wraps little-endian bytes of {@code info.dtype()}; the buffer's remaining bytes are used. */
  public static TensorData ofBytes(TensorInfo info, ByteBuffer bytes) {
    long expected = info.byteSize();
    if (bytes.remaining() != expected) {
      throw new IllegalArgumentException(
          "tensor '" + info.name() + "': " + bytes.remaining() + " bytes given, shape and dtype "
              + info.dtype() + " need " + expected);
    }
    return new TensorData(info, bytes.slice().order(ByteOrder.LITTLE_ENDIAN), null);
  }

  /** Wraps float values of a floating tensor; converted to its dtype when bytes are asked for. */
  public static TensorData ofFloats(TensorInfo info, float[] values) {
    if (!info.dtype().isFloating()) {
      throw new IllegalArgumentException(
          "tensor '" + info.name() + "' is " + info.dtype() + ", not a floating type");
    }
    if (values.length != info.numel()) {
      throw new IllegalArgumentException(
          "tensor '" + info.name() + "': " + values.length + " values given, shape needs "
              + info.numel());
    }
    return new TensorData(info, null, values);
  }

  public TensorInfo info() {
    return info;
  }

  /** Little-endian bytes in the tensor's own dtype (a read-only view positioned at 0). */
  public ByteBuffer bytes() {
    if (bytes == null) {
      bytes = encodeFloats(floats, info.dtype());
    }
    return bytes.asReadOnlyBuffer().order(ByteOrder.LITTLE_ENDIAN);
  }

  /**
   * The values as floats. Only for floating dtypes; float64 values are rounded to float32.
   *
   * @throws IllegalStateException if the tensor is not floating or has more than 2^31-1 elements
   */
  public float[] floats() {
    if (floats == null) {
      if (!info.dtype().isFloating()) {
        throw new IllegalStateException(
            "tensor '" + info.name() + "' is " + info.dtype() + ", not a floating type");
      }
      long n = info.numel();
      if (n > Integer.MAX_VALUE - 8) {
        throw new IllegalStateException(
            "tensor '" + info.name() + "' has " + n + " elements, more than a Java array holds");
      }
      floats = decodeFloats(bytes.duplicate().order(ByteOrder.LITTLE_ENDIAN), info.dtype(), (int) n);
    }
    return floats;
  }

  /** Number of bytes in the tensor's own dtype. */
  public long byteSize() {
    return info.byteSize();
  }

  static float[] decodeFloats(ByteBuffer b, DType dtype, int n) {
    float[] out = new float[n];
    switch (dtype) {
      case FLOAT32 -> b.asFloatBuffer().get(out);
      case FLOAT16 -> {
        for (int i = 0; i < n; i++) {
          out[i] = Fp16.toFloat(b.getShort(b.position() + 2 * i));
        }
      }
      case BFLOAT16 -> {
        for (int i = 0; i < n; i++) {
          out[i] = Fp16.fromBf16(b.getShort(b.position() + 2 * i));
        }
      }
      case FLOAT64 -> {
        for (int i = 0; i < n; i++) {
          out[i] = (float) b.getDouble(b.position() + 8 * i);
        }
      }
      default -> throw new IllegalArgumentException(dtype + " is not floating");
    }
    return out;
  }

  static ByteBuffer encodeFloats(float[] v, DType dtype) {
    ByteBuffer b =
        ByteBuffer.allocate(Math.multiplyExact(v.length, dtype.size())).order(ByteOrder.LITTLE_ENDIAN);
    switch (dtype) {
      case FLOAT32 -> b.asFloatBuffer().put(v);
      case FLOAT16 -> {
        for (int i = 0; i < v.length; i++) {
          b.putShort(2 * i, Fp16.fromFloat(v[i]));
        }
      }
      case BFLOAT16 -> {
        for (int i = 0; i < v.length; i++) {
          b.putShort(2 * i, Fp16.toBf16(v[i]));
        }
      }
      case FLOAT64 -> {
        for (int i = 0; i < v.length; i++) {
          b.putDouble(8 * i, v[i]);
        }
      }
      default -> throw new IllegalArgumentException(dtype + " is not floating");
    }
    return b;
  }
}
