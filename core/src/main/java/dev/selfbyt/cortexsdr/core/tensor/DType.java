package dev.selfbyt.cortexsdr.core.tensor;

/**
 * Element types a {@code .cai} tensor can hold. The numeric {@link #code()} is what the file
 * stores; it never changes once released. Get one with {@link #fromCode(int)} or by name.
 */
public enum DType {
  FLOAT32(1, 4, true),
  FLOAT16(2, 2, true),
  BFLOAT16(3, 2, true),
  FLOAT64(4, 8, true),
  INT8(5, 1, false),
  INT16(6, 2, false),
  INT32(7, 4, false),
  INT64(8, 8, false),
  UINT8(9, 1, false),
  BOOL(10, 1, false),
  UINT16(11, 2, false),
  UINT32(12, 4, false),
  UINT64(13, 8, false),
  /** Stored and restored bit-exactly; never quantized. */
  COMPLEX64(14, 8, false),
  COMPLEX128(15, 16, false),
  /** The 8-bit float formats of ONNX (opset 19+), kept as opaque bytes. */
  FLOAT8E4M3FN(16, 1, false),
  FLOAT8E4M3FNUZ(17, 1, false),
  FLOAT8E5M2(18, 1, false),
  FLOAT8E5M2FNUZ(19, 1, false),
  /**
   * The 8-bit power-of-two scale format (OCP MX {@code E8M0}; ONNX opset 24, safetensors {@code
   * F8_E8M0}), kept as opaque bytes.
   */
  FLOAT8E8M0(20, 1, false);

  private final int code;
  private final int size;
  private final boolean floating;

  DType(int code, int size, boolean floating) {
    this.code = code;
    this.size = size;
    this.floating = floating;
  }

  /** The code stored in a {@code .cai} directory entry. */
  public int code() {
    return code;
  }

  /** Bytes per element. */
  public int size() {
    return size;
  }

  /** True for the types a lossy codec (quantization, sparsity) may encode. */
  public boolean isFloating() {
    return floating;
  }

  /**
   * The type stored under {@code code}, or {@code null} when this reader does not know it (a file
   * from a newer writer); callers turn that into an error naming the tensor.
   */
  public static DType fromCode(int code) {
    for (DType t : values()) {
      if (t.code == code) {
        return t;
      }
    }
    return null;
  }
}
