package dev.selfbyt.cortexsdr.core;

import dev.selfbyt.cortexsdr.core.codec.TensorCodec;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * How to compress a model: threads, preset, quantization and sparsity settings, zstd level,
 * names that stay lossless, per-tensor overrides and an optional error budget. Immutable; build
 * one with {@link #builder()}, which starts from the {@link Preset#INT8} preset:
 *
 * <pre>{@code
 * CompressionOptions opts = CompressionOptions.builder()
 *     .preset(Preset.INT4)
 *     .blockSize(64)
 *     .protect("lm_head.*")
 *     .threads(4)
 *     .build();
 * }</pre>
 *
 * Settings left unset take the preset's values: bits, symmetric and block size for quantizing
 * presets, sparsity for {@link Preset#SDR}.
 */
public final class CompressionOptions {
  /** Tensors with fewer elements than this stay lossless unless overridden. */
  public static final int DEFAULT_MIN_LOSSY_ELEMENTS = 4096;

  private final int threads;
  private final Preset preset;
  private final int bits;
  private final boolean symmetric;
  private final int blockSize;
  private final double sparsity;
  private final boolean deltaIndices;
  private final int zstdLevel;
  private final List<Pattern> protectedPatterns;
  private final Map<Pattern, TensorCodec> overrides;
  private final double errorBudget;
  private final int minLossyElements;
  private final int integerMatMulBits;
  private final int windowSize;
  private final List<String> weightOnly;

  private CompressionOptions(Builder b) {
    this.threads = b.threads;
    this.preset = b.preset;
    this.bits = b.bits != null ? b.bits : switch (b.preset) {
      case INT8, INT8_FAST -> 8;
      case INT4, SDR -> 4;
      case LOSSLESS -> 0;
    };
    // int8-fast's integer MatMul weights: 7-bit codes (held in int8) unless bits are given, as ONNX
    // Runtime's quantizer writes them with reduce_range: on x86 without VNNI (AVX2, AVX-512 before
    // VNNI) ONNX Runtime multiplies uint8 activations by int8 weights with vpmaddubsw, whose 16-bit
    // pair sums saturate past 32767; 255 * 63 * 2 stays below it, 255 * 127 * 2 does not
    this.integerMatMulBits = b.bits != null ? b.bits : 7;
    boolean int8 = b.preset == Preset.INT8 || b.preset == Preset.INT8_FAST;
    this.symmetric = b.symmetric != null ? b.symmetric : int8;
    this.blockSize = b.blockSize != null ? b.blockSize : (int8 ? 64 : 32);
    this.sparsity = b.sparsity != null ? b.sparsity : (b.preset == Preset.SDR ? 0.5 : 0.0);
    this.deltaIndices = b.deltaIndices;
    this.zstdLevel = b.zstdLevel;
    this.protectedPatterns = List.copyOf(b.protectedPatterns);
    this.overrides = new LinkedHashMap<>(b.overrides);
    this.errorBudget = b.errorBudget;
    this.minLossyElements = b.minLossyElements;
    this.windowSize = b.windowSize;
    this.weightOnly = List.copyOf(b.weightOnly);
    if (bits != 0 && (bits < 2 || bits > 8)) {
      throw new IllegalArgumentException("bits must be 2 to 8, got " + bits);
    }
  }

  public static Builder builder() {
    return new Builder();
  }

  /** The options every preset starts from: {@link Preset#INT8}, all cores. */
  public static CompressionOptions defaults() {
    return builder().build();
  }

  public int threads() {
    return threads;
  }

  public Preset preset() {
    return preset;
  }

  /** Quantization bits (0 under {@link Preset#LOSSLESS}). */
  /**
   * Under {@link Preset#INT8_FAST}: the code width of the MatMul/Gemm weights that compute with
   * int8 activations, 7 unless {@link Builder#bits} set it. ONNX Runtime computes exactly with 7-bit
   * codes on every x86 CPU; with 8-bit codes only on CPUs with VNNI (on AVX2 its uint8 x int8
   * kernel saturates 16-bit pair sums). Measured on all-MiniLM-L6-v2 on an AVX2 machine (ONNX
   * Runtime 1.29, text-calibrated on 64 sentences, all 36 MatMuls on int8 activations): calibration
   * cosine 0.99375 at 8 bits, 0.99534 at 7.
   */
  public int integerMatMulBits() {
    return integerMatMulBits;
  }

  public int bits() {
    return bits;
  }

  public boolean symmetric() {
    return symmetric;
  }

  /** Block size along the reduction axis; 0 = one scale per channel, -1 = one per tensor. */
  public int blockSize() {
    return blockSize;
  }

  /** Fraction of weights dropped by the SDR codec (0 = no sparsification). */
  public double sparsity() {
    return sparsity;
  }

  public boolean deltaIndices() {
    return deltaIndices;
  }

  /** zstd level of the entropy stage; 0 turns the stage off. */
  public int zstdLevel() {
    return zstdLevel;
  }

  public List<Pattern> protectedPatterns() {
    return protectedPatterns;
  }

  public Map<Pattern, TensorCodec> overrides() {
    return new LinkedHashMap<>(overrides);
  }

  /** Per-tensor NMSE budget of the error-budget mode, or 0 when the mode is off. */
  public double errorBudget() {
    return errorBudget;
  }

  public int minLossyElements() {
    return minLossyElements;
  }

  /** Tensors in flight at once (read, encoded, or waiting to be written). */
  public int windowSize() {
    return windowSize > 0 ? windowSize : threads + 1;
  }

  /**
   * Under {@link Preset#INT8_FAST}: the MatMul weights that compute with fp32 activations although
   * their layout would allow int8 ones (those whose outputs suffer most from rounded activations).
   */
  public List<String> weightOnly() {
    return weightOnly;
  }

  /** The options as a JSON-able map, stored in the manifest. */
  public Map<String, Object> toMap() {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("preset", preset.id());
    m.put("bits", bits);
    m.put("symmetric", symmetric);
    m.put("blockSize", blockSize);
    m.put("sparsity", sparsity);
    m.put("deltaIndices", deltaIndices);
    m.put("zstdLevel", zstdLevel);
    List<String> p = new ArrayList<>();
    protectedPatterns.forEach(x -> p.add(x.pattern()));
    m.put("protect", p);
    Map<String, Object> o = new LinkedHashMap<>();
    overrides.forEach((k, v) -> o.put(k.pattern(), v.describe()));
    m.put("overrides", o);
    m.put("errorBudget", errorBudget);
    m.put("minLossyElements", minLossyElements);
    if (!weightOnly.isEmpty()) {
      m.put("weightOnly", weightOnly);
    }
    return m;
  }

  /** Builds {@link CompressionOptions}; every setter checks its argument at once. */
  public static final class Builder {
    private int threads = Runtime.getRuntime().availableProcessors();
    private Preset preset = Preset.INT8;
    private Integer bits;
    private Boolean symmetric;
    private Integer blockSize;
    private Double sparsity;
    private boolean deltaIndices = true;
    private int zstdLevel = 3;
    private final List<Pattern> protectedPatterns = new ArrayList<>();
    private final Map<Pattern, TensorCodec> overrides = new LinkedHashMap<>();
    private double errorBudget;
    private int minLossyElements = DEFAULT_MIN_LOSSY_ELEMENTS;
    private int windowSize;
    private final List<String> weightOnly = new ArrayList<>();

    private Builder() {}

    /** Encoding threads; output bytes are the same for every count. */
    public Builder threads(int threads) {
      if (threads < 1) {
        throw new IllegalArgumentException("threads must be >= 1, got " + threads);
      }
      this.threads = threads;
      return this;
    }

    public Builder preset(Preset preset) {
      this.preset = preset;
      return this;
    }

    public Builder bits(int bits) {
      if (bits < 2 || bits > 8) {
        throw new IllegalArgumentException("bits must be 2 to 8, got " + bits);
      }
      this.bits = bits;
      return this;
    }

    public Builder symmetric(boolean symmetric) {
      this.symmetric = symmetric;
      return this;
    }

    /** Blocks of this many values along the reduction axis (e.g. 32, 64, 128). */
    public Builder blockSize(int blockSize) {
      if (blockSize < 1) {
        throw new IllegalArgumentException("block size must be >= 1, got " + blockSize);
      }
      this.blockSize = blockSize;
      return this;
    }

    /** One scale per output channel (fiber) instead of blocks. */
    public Builder perChannel() {
      this.blockSize = 0;
      return this;
    }

    /** One scale for each whole tensor. */
    public Builder perTensor() {
      this.blockSize = -1;
      return this;
    }

    /** Fraction of weights the SDR codec drops, in [0, 1). */
    public Builder sparsity(double sparsity) {
      if (!(sparsity >= 0 && sparsity < 1)) {
        throw new IllegalArgumentException("sparsity must be in [0, 1), got " + sparsity);
      }
      this.sparsity = sparsity;
      return this;
    }

    /** Let SDR positions use delta+varint coding (default on). */
    public Builder deltaIndices(boolean deltaIndices) {
      this.deltaIndices = deltaIndices;
      return this;
    }

    /** zstd level 1 to 22, or 0 to turn the entropy stage off. Default 3. */
    public Builder zstdLevel(int level) {
      if (level < 0 || level > 22) {
        throw new IllegalArgumentException("zstd level must be 0 (off) to 22, got " + level);
      }
      this.zstdLevel = level;
      return this;
    }

    /** Tensors whose full name matches this regular expression stay lossless. */
    public Builder protect(String regex) {
      protectedPatterns.add(Pattern.compile(regex));
      return this;
    }

    /** Tensors whose full name matches this regular expression use this codec (first match wins). */
    public Builder override(String regex, TensorCodec codec) {
      overrides.put(Pattern.compile(regex), codec);
      return this;
    }

    /**
     * Error-budget mode: for each lossy-eligible tensor, the smallest quantization whose NMSE
     * ({@code sum((x - x')^2) / sum(x^2)}) stays at or under {@code nmse}; lossless when none
     * does. 0 turns the mode off.
     */
    public Builder errorBudget(double nmse) {
      if (!(nmse >= 0)) {
        throw new IllegalArgumentException("error budget must be >= 0, got " + nmse);
      }
      this.errorBudget = nmse;
      return this;
    }

    /** Tensors with fewer elements stay lossless (default {@value #DEFAULT_MIN_LOSSY_ELEMENTS}). */
    public Builder minLossyElements(int n) {
      if (n < 0) {
        throw new IllegalArgumentException("minLossyElements must be >= 0");
      }
      this.minLossyElements = n;
      return this;
    }

    /** Tensors in flight at once; default threads + 1. Bounds memory. */
    public Builder windowSize(int n) {
      if (n < 1) {
        throw new IllegalArgumentException("window size must be >= 1");
      }
      this.windowSize = n;
      return this;
    }

    /**
     * Under {@link Preset#INT8_FAST}: this MatMul weight (exact name) computes with fp32
     * activations (weight-only int8), for a MatMul whose output int8 activations hurt most.
     */
    public Builder weightOnly(String tensorName) {
      if (tensorName == null || tensorName.isEmpty()) {
        throw new IllegalArgumentException("weight-only tensor name must not be empty");
      }
      weightOnly.add(tensorName);
      return this;
    }

    public CompressionOptions build() {
      return new CompressionOptions(this);
    }
  }
}
