package dev.selfbyt.cortexsdr.core.tensor;

/**
 * What a weight tensor does in its model, as a converter found it. The policy uses it to choose
 * the quantization axis and to keep small, sensitive tensors (biases, norms) lossless.
 */
public enum TensorRole {
  /** Right-hand side of a MatMul or Gemm; the reduction axis is the one summed over. */
  MATMUL_WEIGHT(1),
  /** A convolution kernel {@code [out, in, kh, kw...]}; reduction over input channels. */
  CONV_WEIGHT(2),
  /** A table read by Gather; each row is decoded on its own (reduction axis = last). */
  EMBEDDING(3),
  BIAS(4),
  NORM(5),
  /** Anything else, or unknown. */
  OTHER(0);

  private final int code;

  TensorRole(int code) {
    this.code = code;
  }

  public int code() {
    return code;
  }

  /** The role stored under {@code code}; unknown codes (newer writers) read as {@link #OTHER}. */
  public static TensorRole fromCode(int code) {
    for (TensorRole r : values()) {
      if (r.code == code) {
        return r;
      }
    }
    return OTHER;
  }
}
