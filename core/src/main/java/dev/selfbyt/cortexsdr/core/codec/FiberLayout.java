package dev.selfbyt.cortexsdr.core.codec;

import dev.selfbyt.cortexsdr.core.tensor.TensorInfo;

/**
 * Moves a tensor between its natural row-major order {@code [outer, R, inner]} and fiber-major
 * order {@code [outer, inner, R]}, where each reduction-axis fiber is contiguous. When the
 * reduction axis is the last one ({@code inner == 1}) both orders are the same and no copy is
 * made. Transposes go tile by tile to stay in cache.
 */
final class FiberLayout {
  private static final int TILE = 64;

  private FiberLayout() {}

  static int fiberLength(TensorInfo info) {
    return Math.toIntExact(info.fiberLength());
  }

  static int fiberCount(TensorInfo info) {
    return Math.toIntExact(Math.multiplyExact(info.outer(), info.inner()));
  }

  /** The values in fiber-major order; {@code x} itself when already so. */
  static float[] toFiberMajor(float[] x, TensorInfo info) {
    int inner = (int) info.inner();
    if (inner == 1) {
      return x;
    }
    int r = fiberLength(info);
    int outer = (int) info.outer();
    float[] out = new float[x.length];
    for (int o = 0; o < outer; o++) {
      transpose(x, o * r * inner, r, inner, out, o * r * inner);
    }
    return out;
  }

  /** The values back in natural order; {@code x} itself when already so. */
  static float[] fromFiberMajor(float[] x, TensorInfo info) {
    int inner = (int) info.inner();
    if (inner == 1) {
      return x;
    }
    int r = fiberLength(info);
    int outer = (int) info.outer();
    float[] out = new float[x.length];
    for (int o = 0; o < outer; o++) {
      transpose(x, o * r * inner, inner, r, out, o * r * inner);
    }
    return out;
  }

  /**
   * out[c][r] = in[r][c] for an {@code rows x cols} matrix at the given offsets. Writes run
   * contiguously and reads stride through tiles: measured twice as fast as the reverse here.
   */
  private static void transpose(float[] in, int inOff, int rows, int cols, float[] out, int outOff) {
    // c0 and r0 stay below cols and rows (ints), so stepping them in long cannot wrap around
    for (long c0 = 0; c0 < cols; c0 += TILE) {
      int c1 = (int) Math.min(cols, c0 + TILE);
      for (long r0 = 0; r0 < rows; r0 += TILE) {
        int r1 = (int) Math.min(rows, r0 + TILE);
        for (int c = (int) c0; c < c1; c++) {
          int dst = outOff + c * rows;
          for (int r = (int) r0; r < r1; r++) {
            out[dst + r] = in[inOff + r * cols + c];
          }
        }
      }
    }
  }

  /** Refuses a tensor that is not floating point, naming it and what {@code codec} would have done. */
  static void requireFloating(TensorInfo info, String codec) {
    if (!info.dtype().isFloating()) {
      throw new IllegalArgumentException(
          "tensor '" + info.name() + "' is " + info.dtype() + "; " + codec + " needs a floating type");
    }
  }

  /** Fails with a message naming the tensor when it is too large for one array. */
  static void checkIndexable(TensorInfo info) {
    if (info.numel() > Integer.MAX_VALUE - 8) {
      throw new IllegalArgumentException(
          "tensor '" + info.name() + "' has " + info.numel()
              + " elements; a lossy codec handles at most 2^31-9 per tensor");
    }
    long fibers = Math.multiplyExact(info.outer(), info.inner());
    if (fibers > Integer.MAX_VALUE - 8 || info.fiberLength() > Integer.MAX_VALUE - 8) {
      throw new IllegalArgumentException("tensor '" + info.name() + "' has " + fibers + " fibers of "
          + info.fiberLength() + " elements; a lossy codec handles at most 2^31-9 of each");
    }
  }
}
