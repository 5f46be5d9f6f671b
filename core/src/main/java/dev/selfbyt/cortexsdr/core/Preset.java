package dev.selfbyt.cortexsdr.core;

import java.util.Locale;

/**
 * Named starting points for {@link CompressionOptions}: what codec the large floating-point
 * weights get. Small tensors, biases, norms, non-floating tensors and protected names stay
 * lossless under every preset.
 */
public enum Preset {
  /** Every tensor bit-exact: byte-shuffled or run-length coded, then zstd. */
  LOSSLESS,
  /** 8-bit symmetric quantization in blocks of 64 along the reduction axis. */
  INT8,
  /** 4-bit asymmetric quantization in blocks of 32 (GGUF Q4_1-like cost, ONNX-exportable). */
  INT4,
  /**
   * Fast on integer kernels: MatMul/Gemm weights get 7-bit symmetric codes (int8 values in [-63,
   * 63], exact in ONNX Runtime on every x86 CPU; see {@link CompressionOptions#integerMatMulBits()})
   * with one scale per output channel and compute with int8 activations (listed in the manifest's
   * {@code int8Activations}); embedding tables get the same codes with one scale per row; other
   * large weights are stored as under {@link #INT8}.
   */
  INT8_FAST,
  /** 50% magnitude sparsity per fiber, kept values in 4 bits (blocks of 32). */
  SDR;

  /** Parses a preset name, case-insensitive ({@code int4}, {@code LOSSLESS}, ...). */
  public static Preset parse(String name) {
    try {
      return valueOf(name.trim().toUpperCase(Locale.ROOT).replace('-', '_'));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(
          "unknown preset '" + name + "': use lossless, int8, int8-fast, int4 or sdr");
    }
  }

  /** The preset's name as the CLI spells it ({@code int8-fast}). */
  public String id() {
    return name().toLowerCase(Locale.ROOT).replace('_', '-');
  }
}
