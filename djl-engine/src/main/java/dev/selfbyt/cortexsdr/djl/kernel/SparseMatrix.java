package dev.selfbyt.cortexsdr.djl.kernel;

import dev.selfbyt.cortexsdr.core.codec.SdrCodec;

/**
 * An SDR weight as compressed sparse rows (CSR): {@link #rows()} fibers of {@link #cols()}
 * values, of which only the kept ones are held (column index and value). Get one with {@link
 * #of(SdrCodec.SparseTensor, int, int)} from {@code SdrCodec.unpack}, whose fiber-major positions
 * map one to one onto CSR. Immutable; its arrays are checked when it is made (columns in range, rows
 * in order), so kernels take them without scanning them again.
 */
public final class SparseMatrix {
  private final int rows;
  private final int cols;
  private final int[] rowStart;
  private final int[] colIndex;
  private final float[] values;

  private SparseMatrix(int rows, int cols, int[] rowStart, int[] colIndex, float[] values) {
    this.rows = rows;
    this.cols = cols;
    this.rowStart = rowStart;
    this.colIndex = colIndex;
    this.values = values;
  }

  /** CSR from SDR positions (fiber-major, ascending) over {@code rows} fibers of {@code cols}. */
  public static SparseMatrix of(SdrCodec.SparseTensor s, int rows, int cols) {
    int[] pos = s.positions();
    int[] start = new int[rows + 1];
    int[] col = new int[pos.length];
    // checked here, once: the kernels trust these arrays (no scan per product)
    for (int i = 0; i < pos.length; i++) {
      int r = pos[i] / cols;
      if (pos[i] < 0 || r >= rows) {
        throw new IllegalArgumentException("sparse position " + pos[i] + " outside " + rows + " x " + cols);
      }
      if (i > 0 && pos[i] <= pos[i - 1]) {
        throw new IllegalArgumentException("sparse positions not ascending: " + pos[i - 1] + " then " + pos[i]);
      }
      start[r + 1]++;
      col[i] = pos[i] - r * cols;
    }
    for (int r = 0; r < rows; r++) {
      start[r + 1] += start[r];
    }
    if (s.values().length != pos.length) {
      throw new IllegalArgumentException(pos.length + " sparse positions but " + s.values().length + " values");
    }
    return new SparseMatrix(rows, cols, start, col, s.values().clone());
  }

  /** CSR of a dense row-major matrix, keeping its non-zero values. */
  public static SparseMatrix ofDense(float[] w, int rows, int cols) {
    int nnz = 0;
    for (float v : w) {
      nnz += v != 0f ? 1 : 0;
    }
    int[] start = new int[rows + 1];
    int[] col = new int[nnz];
    float[] val = new float[nnz];
    int p = 0;
    for (int r = 0; r < rows; r++) {
      for (int c = 0; c < cols; c++) {
        float v = w[r * cols + c];
        if (v != 0f) {
          col[p] = c;
          val[p++] = v;
        }
      }
      start[r + 1] = p;
    }
    return new SparseMatrix(rows, cols, start, col, val);
  }

  public int rows() {
    return rows;
  }

  public int cols() {
    return cols;
  }

  public int nnz() {
    return values.length;
  }

  public long residentBytes() {
    return 4L * rowStart.length + 4L * colIndex.length + 4L * values.length;
  }

  /** Row {@code r} as dense floats into {@code dst[off .. off + cols)}. */
  public void decodeRow(int r, float[] dst, int off) {
    java.util.Arrays.fill(dst, off, off + cols, 0f);
    for (int p = rowStart[r]; p < rowStart[r + 1]; p++) {
      dst[off + colIndex[p]] = values[p];
    }
  }

  int rowStart(int r) {
    return rowStart[r];
  }

  int colIndex(int p) {
    return colIndex[p];
  }

  float value(int p) {
    return values[p];
  }

  int[] rowStartArray() {
    return rowStart;
  }

  int[] colIndexArray() {
    return colIndex;
  }

  float[] valueArray() {
    return values;
  }
}
