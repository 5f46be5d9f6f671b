package dev.selfbyt.cortexsdr.core.codec;

import dev.selfbyt.cortexsdr.core.tensor.TensorData;
import java.nio.ByteBuffer;

/**
 * The error a lossy encoding makes, summed over a tensor: {@code sum((x - x')^2)} and {@code
 * sum(x^2)} in double, and the largest {@code |x - x'|}, where {@code x} is what the values stand
 * for ({@link TensorData#reference()}) and {@code x'} what the payload decodes to. The directory
 * stores the figures, so they must not depend on how they were computed: every caller adds
 * elements in the tensor's natural (row-major) order, the order that fixes the rounding of the
 * double sums. Codecs that can measure while they encode ({@link QuantCodec}) use it so that
 * the payload need not be decoded again. Not thread-safe; one per encoding.
 */
public final class EncodingError {
  private double sumSquaredError;
  private double sumSquares;
  private float maxAbs;

  /** Adds elements {@code x[xOff..xOff+n)} against their decoded values {@code y[yOff..yOff+n)}. */
  public void add(float[] x, int xOff, float[] y, int yOff, int n) {
    double num = sumSquaredError;
    double den = sumSquares;
    // the largest |d| as an int over the bits of |d|, which order like the values when none is
    // NaN: Math.max on floats chains a slow NaN-aware sequence through every element (this loop
    // ran at 9 ns per element with it, its double sums alone take about 1.5)
    int max = Float.floatToRawIntBits(maxAbs);
    for (int i = 0; i < n; i++) {
      float xi = x[xOff + i];
      float d = xi - y[yOff + i];
      num += (double) d * d;
      den += (double) xi * xi;
      max = Math.max(max, Float.floatToRawIntBits(d) & 0x7fffffff);
    }
    sumSquaredError = num;
    sumSquares = den;
    if (max <= 0x7f800000) {
      maxAbs = Float.intBitsToFloat(max);
    } else { // a NaN: Math.max keeps the first one, so take it the same way, to the bit
      float m = maxAbs;
      for (int i = 0; i < n; i++) {
        m = Math.max(m, Math.abs(x[xOff + i] - y[yOff + i]));
      }
      maxAbs = m;
    }
  }

  /** Normalized mean squared error: 0 for no error, infinite for an error on an all-zero tensor. */
  public float nmse() {
    double num = sumSquaredError;
    double den = sumSquares;
    return den == 0 ? (num == 0 ? 0f : Float.POSITIVE_INFINITY) : (float) (num / den);
  }

  public float maxAbsError() {
    return maxAbs;
  }

  /** The error of {@code payload} (written by {@code codec} for {@code data}): decodes and compares. */
  public static EncodingError of(TensorData data, TensorCodec codec, ByteBuffer payload) {
    float[] x = data.reference();
    float[] y = codec.decode(data.info(), payload.duplicate()).floats();
    EncodingError e = new EncodingError();
    e.add(x, 0, y, 0, x.length);
    return e;
  }
}
