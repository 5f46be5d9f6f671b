package dev.selfbyt.cortexsdr.onnxops;

import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.selfbyt.cortexsdr.converters.onnx.NBitsAccuracy;
import dev.selfbyt.cortexsdr.converters.onnx.OrtVersion;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * How {@link CaiOrt} opens a {@code .cai}: the ONNX Runtime release the rebuilt graph targets,
 * denormal flushing, threads, the {@code MatMulNBits} accuracy level, the SdrMatMul threshold, and
 * any further session settings. Immutable and reusable for any number of sessions; every session
 * gets its own {@code SessionOptions}, built from these, so nothing the caller owns is changed.
 *
 * <pre>{@code
 * CaiOrtOptions o = CaiOrtOptions.builder().intraOpThreads(2).ortVersion("1.21")
 *     .sessionOptions(so -> so.setOptimizationLevel(OptLevel.ALL_OPT)).build();
 * try (CaiOrtSession s = CaiOrt.open(env, Path.of("model.cai"), o)) { s.session().run(inputs); }
 * }</pre>
 *
 * The system properties {@value CaiOrt#DENORMAL_AS_ZERO_PROPERTY}, {@value
 * CaiOrt#ACCURACY_LEVEL_PROPERTY} and {@value SdrMatMulRewriter#MIN_SPARSITY_PROPERTY} are only
 * defaults: {@link #builder()} starts from them, and a bad value fails there naming the property.
 */
public final class CaiOrtOptions {
  /** Configures a session's fresh {@code SessionOptions} (execution providers, optimization level...). */
  @FunctionalInterface
  public interface SessionOptionsSetup {
    void apply(OrtSession.SessionOptions options) throws OrtException;
  }

  private final OrtVersion ortVersion;
  private final boolean denormalAsZero;
  private final int intraOpThreads;
  private final int interOpThreads;
  private final int accuracyLevel;
  private final SdrMatMulRewriter sdr;
  private final Map<String, String> configEntries;
  private final SessionOptionsSetup setup;

  private CaiOrtOptions(Builder b) {
    this.ortVersion = b.ortVersion;
    this.denormalAsZero = b.denormalAsZero;
    this.intraOpThreads = b.intraOpThreads;
    this.interOpThreads = b.interOpThreads;
    this.accuracyLevel = b.accuracyLevel;
    this.sdr = b.sdr;
    this.configEntries = Map.copyOf(b.configEntries);
    this.setup = b.setup;
  }

  /** The defaults: the system properties' values, else the documented defaults. */
  public static CaiOrtOptions defaults() {
    return builder().build();
  }

  /** A builder starting from {@link #defaults()}. */
  public static Builder builder() {
    return new Builder();
  }

  /** The release the rebuilt graph targets, or null for the ONNX Runtime this process runs (the default). */
  public OrtVersion ortVersion() {
    return ortVersion;
  }

  /** Whether {@value CaiOrt#DENORMAL_AS_ZERO_KEY} = 1 is set (unless a config entry sets the key). */
  public boolean denormalAsZero() {
    return denormalAsZero;
  }

  /** Intra-op threads, 0 for ONNX Runtime's default. */
  public int intraOpThreads() {
    return intraOpThreads;
  }

  /** Inter-op threads, 0 for ONNX Runtime's default. */
  public int interOpThreads() {
    return interOpThreads;
  }

  /** {@code MatMulNBits accuracy_level}: 0 to 4, or {@link NBitsAccuracy#MEASURED}. */
  public int accuracyLevel() {
    return accuracyLevel;
  }

  /** Which SDR MatMul weights become {@code ai.cortexsdr.SdrMatMul}. */
  public SdrMatMulRewriter sdr() {
    return sdr;
  }

  /** Session configuration entries ({@code SessionOptions.addConfigEntry}). */
  public Map<String, String> configEntries() {
    return configEntries;
  }

  /** A fresh {@code SessionOptions} with these settings; the caller closes it. */
  OrtSession.SessionOptions newSessionOptions() throws OrtException {
    OrtSession.SessionOptions o = new OrtSession.SessionOptions();
    boolean done = false;
    try {
      if (intraOpThreads > 0) {
        o.setIntraOpNumThreads(intraOpThreads);
      }
      if (interOpThreads > 0) {
        o.setInterOpNumThreads(interOpThreads);
      }
      for (Map.Entry<String, String> e : configEntries.entrySet()) {
        o.addConfigEntry(e.getKey(), e.getValue());
      }
      if (denormalAsZero && !configEntries.containsKey(CaiOrt.DENORMAL_AS_ZERO_KEY)) {
        o.addConfigEntry(CaiOrt.DENORMAL_AS_ZERO_KEY, "1");
      }
      if (setup != null) {
        setup.apply(o);
      }
      done = true;
      return o;
    } finally {
      if (!done) {
        o.close();
      }
    }
  }

  /** Builds {@link CaiOrtOptions}; starts from the system properties' values. */
  public static final class Builder {
    private OrtVersion ortVersion;
    private boolean denormalAsZero = denormalProperty();
    private int intraOpThreads;
    private int interOpThreads;
    private int accuracyLevel = accuracyProperty();
    private SdrMatMulRewriter sdr = SdrMatMulRewriter.fromSystemProperty();
    private final Map<String, String> configEntries = new LinkedHashMap<>();
    private SessionOptionsSetup setup;

    private Builder() {}

    /**
     * The oldest ONNX Runtime the rebuilt graph must run in (no operator or attribute it lacks);
     * default: the ONNX Runtime this process runs.
     */
    public Builder ortVersion(OrtVersion v) {
      this.ortVersion = v;
      return this;
    }

    /** As {@link #ortVersion(OrtVersion)}, from text such as {@code 1.21}. */
    public Builder ortVersion(String v) {
      return ortVersion(OrtVersion.parse(v));
    }

    /** Flush denormal floats to zero (default true, or the system property). */
    public Builder denormalAsZero(boolean on) {
      this.denormalAsZero = on;
      return this;
    }

    /** Intra-op threads (0: ONNX Runtime's default, one per core). */
    public Builder intraOpThreads(int n) {
      if (n < 0) {
        throw new IllegalArgumentException("intra-op threads must be 0 (ONNX Runtime's default) or more, got " + n);
      }
      this.intraOpThreads = n;
      return this;
    }

    /** Inter-op threads (0: ONNX Runtime's default). */
    public Builder interOpThreads(int n) {
      if (n < 0) {
        throw new IllegalArgumentException("inter-op threads must be 0 (ONNX Runtime's default) or more, got " + n);
      }
      this.interOpThreads = n;
      return this;
    }

    /** {@code MatMulNBits accuracy_level}: 0 (fp32, default) to 4 (int8 activations). */
    public Builder accuracyLevel(int level) {
      if ((level < 0 || level > 4) && level != NBitsAccuracy.MEASURED) {
        throw new IllegalArgumentException("accuracy level " + level + ": use 0 (fp32) to 4 (int8 activations)");
      }
      this.accuracyLevel = level;
      return this;
    }

    /** Which SDR MatMul weights become {@code SdrMatMul} (default: {@link SdrMatMulRewriter#fromSystemProperty()}). */
    public Builder sdr(SdrMatMulRewriter rewriter) {
      this.sdr = Objects.requireNonNull(rewriter, "rewriter");
      return this;
    }

    /** A session configuration entry; an entry for {@value CaiOrt#DENORMAL_AS_ZERO_KEY} wins over {@link #denormalAsZero}. */
    public Builder configEntry(String key, String value) {
      configEntries.put(Objects.requireNonNull(key, "key"), Objects.requireNonNull(value, "value"));
      return this;
    }

    /** Further settings applied to each session's fresh {@code SessionOptions}, after the ones above. */
    public Builder sessionOptions(SessionOptionsSetup setup) {
      this.setup = setup;
      return this;
    }

    public CaiOrtOptions build() {
      return new CaiOrtOptions(this);
    }

    private static boolean denormalProperty() {
      String v = System.getProperty(CaiOrt.DENORMAL_AS_ZERO_PROPERTY, "true").trim();
      if (!v.equalsIgnoreCase("true") && !v.equalsIgnoreCase("false")) {
        throw new IllegalArgumentException("-D" + CaiOrt.DENORMAL_AS_ZERO_PROPERTY + "=" + v + ": use true or false");
      }
      return Boolean.parseBoolean(v);
    }

    private static int accuracyProperty() {
      String v = System.getProperty(CaiOrt.ACCURACY_LEVEL_PROPERTY, "0").trim();
      if (v.equals("auto")) {
        return NBitsAccuracy.MEASURED;
      }
      try {
        int level = Integer.parseInt(v);
        if (level >= 0 && level <= 4) {
          return level;
        }
      } catch (NumberFormatException e) {
        // reported below
      }
      throw new IllegalArgumentException("-D" + CaiOrt.ACCURACY_LEVEL_PROPERTY + "=" + v
          + ": use 0 (fp32) to 4 (int8 activations), or auto (timed per weight shape)");
    }
  }
}
