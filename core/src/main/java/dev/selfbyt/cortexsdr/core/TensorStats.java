package dev.selfbyt.cortexsdr.core;

import java.util.Arrays;

/**
 * What compression did to one tensor: the codec kept, its input and stored sizes, bits per
 * weight, and its error. Part of {@link CompressionStats}.
 *
 * @param codec the codec's description, e.g. {@code quant int4 asym block32 +zstd}
 * @param reason why the policy chose this kind of encoding
 * @param nmse normalized mean squared error, {@code sum((x - x')^2) / sum(x^2)} (0 lossless)
 */
public record TensorStats(
    String name,
    String dtype,
    long[] shape,
    String codec,
    String reason,
    long inputBytes,
    long storedBytes,
    double bitsPerWeight,
    double nmse,
    double maxAbsError) {

  @Override
  public boolean equals(Object o) {
    return o instanceof TensorStats t && name.equals(t.name) && Arrays.equals(shape, t.shape)
        && codec.equals(t.codec) && storedBytes == t.storedBytes;
  }

  @Override
  public int hashCode() {
    return name.hashCode() * 31 + Long.hashCode(storedBytes);
  }

  @Override
  public String toString() {
    return String.format("%s %s%s %s %.2f bpw nmse=%.3g", name, dtype, Arrays.toString(shape), codec,
        bitsPerWeight, nmse);
  }
}
