package dev.selfbyt.cortexsdr.core.calibrate;

import dev.selfbyt.cortexsdr.core.codec.QuantCodec;
import dev.selfbyt.cortexsdr.core.codec.QuantGrid;
import dev.selfbyt.cortexsdr.core.tensor.TensorInfo;

/**
 * {@link Gptq} for a weight of any layout, seen the way the quant codec sees it: {@code [outer, R,
 * inner]} with fibers of {@code R} values along the reduction axis (see {@link TensorInfo}). The
 * fibers, in the codec's order ({@code outer * inner + i}), are split into {@code G} equal
 * consecutive groups, each with its own {@code R x R} Hessian of the input it multiplies:
 *
 * <ul>
 *   <li>a MatMul or Gemm weight {@code [K, N]} (axis 0): one group, the Hessian of its input;
 *   <li>a Gemm weight with {@code transB} {@code [N, K]} (axis 1): the same, its fibers are rows;
 *   <li>a convolution {@code [O, C/g, k...]} (axis 1, fibers of {@code C/g * prod(k)}): one group
 *       per convolution group, each with the Hessian of its input patches (im2col), depthwise
 *       convolutions included ({@code C/g = 1}: one small Hessian per channel);
 *   <li>a recurrent weight {@code [dirs, gates * H, in]} (last axis): one group per direction,
 *       with the Hessian of the sequence input (W) or of that direction's hidden state (R).
 * </ul>
 *
 * Each group is rounded by {@link Gptq} as a {@code [R, F/G]} matrix and put back in natural order,
 * with a grid in the codec's group order, so that {@code TensorData.ofFloats(info,
 * values).withGrid(grid)} encodes to exactly GPTQ's codes.
 */
public final class FiberGptq {
  private FiberGptq() {}

  /**
   * @param w the weight in natural row-major order
   * @param info its shape and reduction axis
   * @param codec a block-wise quant codec
   * @param hessians one per fiber group ({@code G} divides the fiber count), each {@code R} wide
   * @param damping relative damping, as in {@link Gptq#quantize}
   * @return values in natural order and the grid over all fibers
   */
  public static Gptq.Result quantize(float[] w, TensorInfo info, QuantCodec codec, Hessian[] hessians,
      double damping) {
    int r = Math.toIntExact(info.fiberLength());
    int inner = Math.toIntExact(info.inner());
    int fibers = Math.toIntExact(info.outer() * info.inner());
    int groups = hessians.length;
    if (w.length != (long) r * fibers) {
      throw new IllegalArgumentException("tensor '" + info.name() + "': " + w.length + " values for its shape");
    }
    if (groups < 1 || fibers % groups != 0) {
      throw new IllegalArgumentException("tensor '" + info.name() + "': " + fibers + " fibers do not split into "
          + groups + " groups");
    }
    int perGroup = fibers / groups;
    int gpf = (r + Math.min(codec.blockSize(), r) - 1) / Math.min(codec.blockSize(), r);
    float[] values = new float[w.length];
    float[] scales = new float[fibers * gpf];
    int[] zps = new int[fibers * gpf];
    for (int g = 0; g < groups; g++) {
      if (hessians[g].size() != r) {
        throw new IllegalArgumentException("tensor '" + info.name() + "': group " + g + " Hessian is "
            + hessians[g].size() + " wide, fibers have " + r + " values");
      }
      float[] m = new float[r * perGroup];
      for (int c = 0; c < perGroup; c++) {
        int f = g * perGroup + c;
        int base = natural(f, inner, r);
        for (int k = 0; k < r; k++) {
          m[k * perGroup + c] = w[base + k * inner];
        }
      }
      Gptq.Result part = Gptq.quantize(m, r, perGroup, codec, hessians[g], damping);
      for (int c = 0; c < perGroup; c++) {
        int f = g * perGroup + c;
        int base = natural(f, inner, r);
        for (int k = 0; k < r; k++) {
          values[base + k * inner] = part.values()[k * perGroup + c];
        }
      }
      System.arraycopy(part.grid().scales(), 0, scales, g * perGroup * gpf, perGroup * gpf);
      System.arraycopy(part.grid().zeroPoints(), 0, zps, g * perGroup * gpf, perGroup * gpf);
    }
    return new Gptq.Result(values, new QuantGrid(codec.bits(), codec.symmetric(), codec.blockSize(), scales, zps));
  }

  /** Natural index of element 0 of fiber {@code f} (= outer * inner + i); its elements step by inner. */
  private static int natural(int f, int inner, int r) {
    int o = f / inner;
    int i = f % inner;
    return o * r * inner + i;
  }
}
