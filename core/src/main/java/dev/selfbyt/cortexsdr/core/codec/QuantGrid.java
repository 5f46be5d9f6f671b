package dev.selfbyt.cortexsdr.core.codec;

/**
 * Scales and zero points chosen ahead of encoding (by error-compensating rounding, say), one per
 * group in the order a {@link QuantCodec} numbers them. Attach one to a tensor with {@link
 * dev.selfbyt.cortexsdr.core.tensor.TensorData#withGrid}; a quant codec with the same settings
 * then rounds each value on this grid instead of deriving the grid from the values.
 *
 * @param bits, symmetric, blockSize the codec settings the grid was made for
 * @param superScales for a codec with super-block scales: the fp16 {@code d} of each run of
 *     {@link QuantCodec#SUPER_BLOCK} groups, every scale being one of its steps ({@link
 *     QuantCodec#scaleAndZeroPoint(float, float, float)}); null otherwise
 */
public record QuantGrid(int bits, boolean symmetric, int blockSize, float[] scales, int[] zeroPoints,
    float[] superScales) {
  public QuantGrid {
    if (scales.length != zeroPoints.length) {
      throw new IllegalArgumentException("scales and zero points differ in count");
    }
    if (superScales != null && superScales.length != (scales.length + QuantCodec.SUPER_BLOCK - 1)
        / QuantCodec.SUPER_BLOCK) {
      throw new IllegalArgumentException(superScales.length + " super scales for " + scales.length + " groups");
    }
  }

  /** A grid with plain scales. */
  public QuantGrid(int bits, boolean symmetric, int blockSize, float[] scales, int[] zeroPoints) {
    this(bits, symmetric, blockSize, scales, zeroPoints, null);
  }

  /** True when this grid was made for {@code codec}. */
  public boolean fits(QuantCodec codec) {
    return codec.granularity() == QuantCodec.Granularity.BLOCK && codec.bits() == bits
        && codec.symmetric() == symmetric && codec.blockSize() == blockSize;
  }
}
