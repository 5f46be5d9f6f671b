package dev.selfbyt.cortexsdr.converters.onnx;

import dev.selfbyt.cortexsdr.core.CompressionOptions;
import dev.selfbyt.cortexsdr.core.Preset;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * How a compression calibrates and checks, validated together with the {@link CompressionOptions}
 * it goes with: which calibration data (none, {@code random}, a file or folder), the methods
 * (GPTQ, activation scaling, re-fitting, int8-fast smoothing), a mixed-precision target, the input
 * shapes and state pairs of the model, and the output check's threshold. Immutable; made with
 * {@link #builder()}, whose {@link Builder#build(CompressionOptions)} refuses contradictory or
 * out-of-range settings with an {@link InvalidOptionException} naming the {@link Setting} (the
 * command line turns it into its flag).
 *
 * <pre>{@code
 * CalibrationOptions c = CalibrationOptions.builder().data("sentences.txt").activationScaling(true)
 *     .targetCosine(0.995).build(compressionOptions);
 * }</pre>
 */
public final class CalibrationOptions {
  /** Each setting, for error messages. */
  public enum Setting {
    DATA, SAMPLES, ACTIVATION_SCALING, REFIT, ERROR_COMPENSATION, SMOOTHING, TARGET_COSINE, TARGET_MIN_COSINE,
    CHECK, CHECK_THRESHOLD, SAMPLE_RATE, INPUT_SHAPE, STATE
  }

  /** A setting that is out of range or contradicts another. */
  public static final class InvalidOptionException extends IllegalArgumentException {
    private static final long serialVersionUID = 1L;
    private final transient Setting setting;

    InvalidOptionException(Setting setting, String message) {
      super(message);
      this.setting = setting;
    }

    /** The setting at fault. */
    public Setting setting() {
      return setting;
    }
  }

  private final String data;
  private final int samples;
  private final boolean activationScaling;
  private final boolean refit;
  private final boolean errorCompensation;
  private final Double smoothing;
  private final Double targetCosine;
  private final Double targetMinCosine;
  private final boolean check;
  private final Double checkThreshold;
  private final Integer sampleRate;
  private final Map<String, long[]> inputShapes;
  private final Map<String, String> state;

  private CalibrationOptions(Builder b) {
    data = b.data;
    samples = b.samples;
    activationScaling = b.activationScaling;
    refit = b.refit;
    errorCompensation = b.errorCompensation;
    smoothing = b.smoothing;
    targetCosine = b.targetCosine;
    targetMinCosine = b.targetMinCosine;
    check = b.check;
    checkThreshold = b.checkThreshold;
    sampleRate = b.sampleRate;
    inputShapes = Collections.unmodifiableMap(new LinkedHashMap<>(b.inputShapes));
    state = b.state == null ? null : Collections.unmodifiableMap(new LinkedHashMap<>(b.state));
  }

  public static Builder builder() {
    return new Builder();
  }

  /** The calibration data ({@code random}, a file or a folder), or null for none. */
  public String data() {
    return data;
  }

  public int samples() {
    return samples;
  }

  public boolean activationScaling() {
    return activationScaling;
  }

  public boolean refit() {
    return refit;
  }

  public boolean errorCompensation() {
    return errorCompensation;
  }

  /** int8-fast's SmoothQuant strength, or null for its default. */
  public Double smoothing() {
    return smoothing;
  }

  /** The mixed-precision target, or null for none. */
  public Double targetCosine() {
    return targetCosine;
  }

  /** The per-sample target, or null for the default derived from {@link #targetCosine()}. */
  public Double targetMinCosine() {
    return targetMinCosine;
  }

  /** Whether the outputs are checked after compression. */
  public boolean check() {
    return check;
  }

  /** The output check's threshold, or null for the default. */
  public Double checkThreshold() {
    return checkThreshold;
  }

  /** The model's audio rate when given, else null (its metadata says it). */
  public Integer sampleRate() {
    return sampleRate;
  }

  /** Input name to dimensions, pinned. */
  public Map<String, long[]> inputShapes() {
    return inputShapes;
  }

  /** State output to input, or null to detect the pairs. */
  public Map<String, String> state() {
    return state;
  }

  /** Builds {@link CalibrationOptions}; every setting optional. */
  public static final class Builder {
    private String data;
    private int samples = 256;
    private boolean activationScaling;
    private boolean refit;
    private boolean errorCompensation = true;
    private Double smoothing;
    private Double targetCosine;
    private Double targetMinCosine;
    private boolean check = true;
    private Double checkThreshold;
    private Integer sampleRate;
    private final Map<String, long[]> inputShapes = new LinkedHashMap<>();
    private Map<String, String> state;

    private Builder() {}

    public Builder data(String data) {
      this.data = data;
      return this;
    }

    public Builder samples(int n) {
      this.samples = n;
      return this;
    }

    public Builder activationScaling(boolean on) {
      this.activationScaling = on;
      return this;
    }

    public Builder refit(boolean on) {
      this.refit = on;
      return this;
    }

    public Builder errorCompensation(boolean on) {
      this.errorCompensation = on;
      return this;
    }

    public Builder smoothing(Double alpha) {
      this.smoothing = alpha;
      return this;
    }

    public Builder targetCosine(Double t) {
      this.targetCosine = t;
      return this;
    }

    public Builder targetMinCosine(Double t) {
      this.targetMinCosine = t;
      return this;
    }

    public Builder check(boolean on) {
      this.check = on;
      return this;
    }

    public Builder checkThreshold(Double t) {
      this.checkThreshold = t;
      return this;
    }

    public Builder sampleRate(Integer hz) {
      this.sampleRate = hz;
      return this;
    }

    public Builder inputShape(String name, long[] dims) {
      inputShapes.put(name, dims.clone());
      return this;
    }

    public Builder state(String output, String input) {
      if (state == null) {
        state = new LinkedHashMap<>();
      }
      state.put(output, input);
      return this;
    }

    /**
     * The options, checked against each other and against {@code compression}.
     *
     * @throws InvalidOptionException naming the setting at fault
     */
    public CalibrationOptions build(CompressionOptions compression) {
      boolean fast = compression.preset() == Preset.INT8_FAST;
      boolean methods = activationScaling || refit || !errorCompensation;
      if (fast && methods) {
        fail(Setting.ACTIVATION_SCALING, "int8-fast calibrates its own way (smoothing, weight-only fallback): "
            + "no activation scaling, re-fitting or plain rounding");
      }
      if (smoothing != null && (!fast || !(smoothing >= 0 && smoothing < 1))) {
        fail(Setting.SMOOTHING, "smoothing needs the int8-fast preset and a value in [0, 1)");
      }
      if (targetCosine != null && !(targetCosine > 0 && (fast ? targetCosine <= 1 : targetCosine < 1))) {
        fail(Setting.TARGET_COSINE, "the target cosine must be in (0, " + (fast ? "1]" : "1)"));
      }
      boolean blockWise = compression.preset() != Preset.LOSSLESS && compression.blockSize() > 0
          && compression.sparsity() == 0 && compression.errorBudget() == 0;
      if (!fast && (data != null || targetCosine != null) && !blockWise) {
        fail(data != null ? Setting.DATA : Setting.TARGET_COSINE, "calibration needs block-wise quantization "
            + "(int8 or int4 preset, block > 0, no sparsity or error budget)");
      }
      if (samples < 1) {
        fail(Setting.SAMPLES, "calibration samples must be >= 1");
      }
      if (methods && data == null) {
        fail(activationScaling ? Setting.ACTIVATION_SCALING : refit ? Setting.REFIT : Setting.ERROR_COMPENSATION,
            "activation scaling, re-fitting and plain rounding need calibration data");
      }
      if (!errorCompensation && targetCosine != null) {
        fail(Setting.ERROR_COMPENSATION, "mixed precision always rounds with GPTQ: keep error compensation on");
      }
      if (targetMinCosine != null && (targetCosine == null || !(targetMinCosine > -1 && targetMinCosine <= targetCosine))) {
        fail(Setting.TARGET_MIN_COSINE, "the per-sample target needs a target cosine and a value in (-1, target]");
      }
      if (checkThreshold != null && !(checkThreshold > -1 && checkThreshold <= 1)) {
        fail(Setting.CHECK_THRESHOLD, "the output check's threshold must be in (-1, 1]");
      }
      if (!check && checkThreshold != null) {
        fail(Setting.CHECK_THRESHOLD, "a threshold for an output check that is off: drop one of them");
      }
      if (sampleRate != null && sampleRate < 1) {
        fail(Setting.SAMPLE_RATE, "the sample rate must be >= 1");
      }
      for (Map.Entry<String, long[]> e : inputShapes.entrySet()) {
        for (long d : e.getValue()) {
          if (d < 1) {
            fail(Setting.INPUT_SHAPE, "input shape of '" + e.getKey() + "' has a size " + d + " < 1");
          }
        }
      }
      return new CalibrationOptions(this);
    }

    private static void fail(Setting s, String message) {
      throw new InvalidOptionException(s, message);
    }
  }
}
