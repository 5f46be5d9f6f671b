package dev.selfbyt.cortexsdr.djl.kernel;

/** Plain float rows: {@code rows x cols} values, row-major. Get one with {@code new DenseRows(...)}. */
public record DenseRows(float[] data, int rows, int cols) implements WeightRows {
  public DenseRows {
    if ((long) rows * cols != data.length) {
      throw new IllegalArgumentException(data.length + " values for " + rows + " x " + cols);
    }
  }

  @Override
  public void decodeRows(int r0, int r1, float[] dst) {
    System.arraycopy(data, r0 * cols, dst, 0, (r1 - r0) * cols);
  }

  @Override
  public long residentBytes() {
    return 4L * data.length;
  }
}
