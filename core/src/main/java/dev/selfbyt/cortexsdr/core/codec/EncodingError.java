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

  /**
   * Adds elements {@code x[xOff..xOff+n)} against codes {@code codes[cOff..cOff+n)} of one group,
   * decoded as {@link QuantCodec} decodes them, {@code ((code & 0xff) - z) * s}, without storing
   * the decoded values: the loop waits on its double sums anyway, the decoding rides along.
   */
  void addCodes(float[] x, int xOff, byte[] codes, int cOff, int n, int z, float s) {
    double num = sumSquaredError;
    double den = sumSquares;
    int max = Float.floatToRawIntBits(maxAbs);
    for (int i = 0; i < n; i++) {
      float xi = x[xOff + i];
      float d = xi - ((codes[cOff + i] & 0xff) - z) * s;
      num += (double) d * d;
      den += (double) xi * xi;
      max = Math.max(max, Float.floatToRawIntBits(d) & 0x7fffffff);
    }
    sumSquaredError = num;
    sumSquares = den;
    if (max <= 0x7f800000) {
      maxAbs = Float.intBitsToFloat(max);
    } else {
      float m = maxAbs;
      for (int i = 0; i < n; i++) {
        m = Math.max(m, Math.abs(x[xOff + i] - ((codes[cOff + i] & 0xff) - z) * s));
      }
      maxAbs = m;
    }
  }

  /**
   * As {@link #addCodes(float[], int, byte[], int, int, int, float)} for a row that crosses
   * fibers: element {@code i} has zero point {@code zero[g + i]} and scale {@code scale[g + i]}.
   */
  void addCodes(float[] x, int xOff, byte[] codes, int cOff, int n, int[] zero, float[] scale, int g) {
    double num = sumSquaredError;
    double den = sumSquares;
    int max = Float.floatToRawIntBits(maxAbs);
    for (int i = 0; i < n; i++) {
      float xi = x[xOff + i];
      float d = xi - ((codes[cOff + i] & 0xff) - zero[g + i]) * scale[g + i];
      num += (double) d * d;
      den += (double) xi * xi;
      max = Math.max(max, Float.floatToRawIntBits(d) & 0x7fffffff);
    }
    sumSquaredError = num;
    sumSquares = den;
    if (max <= 0x7f800000) {
      maxAbs = Float.intBitsToFloat(max);
    } else {
      float m = maxAbs;
      for (int i = 0; i < n; i++) {
        m = Math.max(m, Math.abs(x[xOff + i] - ((codes[cOff + i] & 0xff) - zero[g + i]) * scale[g + i]));
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
