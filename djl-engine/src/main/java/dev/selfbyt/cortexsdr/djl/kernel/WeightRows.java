package dev.selfbyt.cortexsdr.djl.kernel;

/**
 * A weight read as {@code rows()} rows of {@code cols()} values that a kernel decodes a few rows at
 * a time: {@link QuantMatrix} (block-quantized codes) or {@link DenseRows} (plain floats).
 */
public interface WeightRows {
  int rows();

  int cols();

  /** Writes rows {@code [r0, r1)} as floats into {@code dst}, row after row, from index 0. */
  void decodeRows(int r0, int r1, float[] dst);

  /** Bytes this weight keeps in memory. */
  long residentBytes();
}
