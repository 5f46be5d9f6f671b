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
  /** 50% magnitude sparsity per fiber, kept values in 4 bits (blocks of 32). */
  SDR;

  /** Parses a preset name, case-insensitive ({@code int4}, {@code LOSSLESS}, ...). */
  public static Preset parse(String name) {
    try {
      return valueOf(name.trim().toUpperCase(Locale.ROOT));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(
          "unknown preset '" + name + "': use lossless, int8, int4 or sdr");
    }
  }

  public String id() {
    return name().toLowerCase(Locale.ROOT);
  }
}
