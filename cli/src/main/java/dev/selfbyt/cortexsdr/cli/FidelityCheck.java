package dev.selfbyt.cortexsdr.cli;

import dev.selfbyt.cortexsdr.converters.onnx.ModelTrial;
import dev.selfbyt.cortexsdr.converters.onnx.OnnxCalibrator;
import dev.selfbyt.cortexsdr.converters.onnx.OutputCheck;
import dev.selfbyt.cortexsdr.core.CompressionOptions;
import dev.selfbyt.cortexsdr.core.CortexSdr;
import dev.selfbyt.cortexsdr.core.Preset;
import dev.selfbyt.cortexsdr.core.codec.ZstdStage;
import dev.selfbyt.cortexsdr.core.format.CaiWriter;
import dev.selfbyt.cortexsdr.core.tensor.TensorSource;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The output check step of {@code compress}: picks the samples (up to {@value #CALIBRATION_SAMPLES}
 * of the calibration data, spread over it, else {@value #RANDOM_SAMPLES} seeded random ones),
 * runs {@link OutputCheck}, stores its report in the archive's manifest under {@value #KEY}, and
 * prints the fidelity line and, below the threshold, the warning naming the worst tensors.
 */
final class FidelityCheck {
  /** Manifest key of the check's report (see docs/cai-format.md). */
  static final String KEY = "outputCheck";
  static final int CALIBRATION_SAMPLES = 16;
  static final int RANDOM_SAMPLES = 8;
  /** Seed of the check's random inputs: other samples than calibration's (seed 42) when both are random. */
  static final long SEED = 7;

  private FidelityCheck() {}

  /**
   * The default threshold on each output's mean cosine: 0.999 at 8 bits and more, 0.99 below,
   * 0.99999 for lossless (only float rounding may differ), the target of mixed precision when
   * given.
   */
  static double defaultThreshold(CompressionOptions o, Double targetCosine) {
    if (targetCosine != null) {
      return targetCosine;
    }
    if (o.preset() == Preset.LOSSLESS) {
      return 0.99999;
    }
    return o.bits() >= 8 ? 0.999 : 0.99;
  }

  /** Up to {@code n} samples spread evenly over {@code all} (first and last included). */
  static <T> List<T> spread(List<T> all, int n) {
    if (all.size() <= n) {
      return all;
    }
    List<T> out = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      out.add(all.get((int) ((long) i * (all.size() - 1) / (n - 1))));
    }
    return out;
  }

  /**
   * Runs the check and rewrites the archive's manifest with its report.
   *
   * @param streams the samples (already picked)
   * @param source the source the archive was written from (restored tensors take their values here)
   * @param original the original model's session (shared with the random inputs' size trials)
   */
  static OutputCheck.Report run(Path model, Path cai, TensorSource source, CompressionOptions options,
      List<OutputCheck.Stream> streams, String inputs, double threshold, ModelTrial original) throws IOException {
    OutputCheck.Report r = new OutputCheck(model, source, options.threads()).check(cai, streams, inputs, threshold,
        original);
    Map<String, Object> manifest = CortexSdr.manifest(source, options);
    manifest.put(KEY, r.toMap());
    ZstdStage stage = options.zstdLevel() == 0 ? null : new ZstdStage(options.zstdLevel());
    try {
      CaiWriter.copyWithManifest(cai, manifest, stage);
    } finally {
      if (stage != null) {
        stage.close();
      }
    }
    return r;
  }

  /** Stateless samples as one-step streams. */
  static List<OutputCheck.Stream> streams(List<Map<String, OnnxCalibrator.Input>> samples) {
    return samples.stream().map(OutputCheck.Stream::of).toList();
  }

  /** The summary line ({@code output fidelity ...}) on {@code out}, the warning on {@code err}. */
  static void print(OutputCheck.Report r, PrintWriter out, PrintWriter err) {
    out.printf(Locale.ROOT, "  output fidelity on %d samples (%s): %s; %s %s, %d ms%n", r.samples(), r.inputs(),
        r.line(), r.passed() ? "above" : "BELOW", trim(r.threshold()), r.timeMs());
    if (!r.passed()) {
      err.println(warning(r));
      err.flush();
    }
  }

  /** The warning for a report below its threshold, naming the most damaging tensors. */
  static String warning(OutputCheck.Report r) {
    StringBuilder b = new StringBuilder("warning: the compressed model's output cosine is below ")
        .append(trim(r.threshold())).append(" (");
    boolean first = true;
    for (OutputCheck.OutputCosine o : r.outputs()) {
      if (o.mean() < r.threshold()) {
        b.append(first ? "" : ", ").append(String.format(Locale.ROOT, "%s mean %.5f", o.output(), o.mean()));
        first = false;
      }
    }
    b.append(')');
    List<OutputCheck.Damage> harmful = r.worst().stream().filter(d -> d.gain() > 0).limit(5).toList();
    if (harmful.isEmpty()) {
      b.append("; no single weight accounts for it (restoring each of the ").append(r.worst().size())
          .append(" lossy weights with the largest error alone did not help): try more bits or calibration");
    } else {
      b.append(String.format(Locale.ROOT, "; most damaging tensors (mean cosine %.5f with all weights decoded, "
          + "restoring one alone gives):", r.decodedCosine()));
      for (OutputCheck.Damage d : harmful) {
        b.append(String.format(Locale.ROOT, "%n    %s  %.5f (+%.5f, weight NMSE %.3g)", d.tensor(), d.restoredCosine(),
            d.gain(), d.nmse()));
      }
      b.append(String.format("%n  keep them exact with --protect NAME, or use more bits (--bits, --target-cosine)"));
    }
    return b.toString();
  }

  /**
   * A stored report (the manifest's {@value #KEY}) in one line, for {@code inspect}: {@code Y mean
   * 0.99990 (min 0.99971); above 0.999 on 8 samples (seeded random inputs ...)}.
   */
  static String describe(Map<?, ?> check) {
    StringBuilder b = new StringBuilder();
    if (check.get("outputs") instanceof List<?> outs) {
      for (Object x : outs) {
        if (x instanceof Map<?, ?> o) {
          b.append(b.length() > 0 ? ", " : "").append(o.get("name")).append(" mean ").append(o.get("meanCosine"))
              .append(" (min ").append(o.get("minCosine")).append(')');
        }
      }
    }
    b.append("; ").append(Boolean.TRUE.equals(check.get("passed")) ? "above " : "BELOW ").append(check.get("threshold"))
        .append(" on ").append(check.get("samples")).append(" samples (").append(check.get("inputs")).append(')');
    if (check.get("worstTensors") instanceof List<?> worst && !worst.isEmpty() && worst.get(0) instanceof Map<?, ?> w) {
      b.append("; most damaging measured: ").append(w.get("name"));
    }
    return b.toString();
  }

  /** The line printed when no check ran. */
  static void printSkipped(String reason, PrintWriter out) {
    out.printf("  output fidelity: not checked (%s)%n", reason);
  }

  private static String trim(double v) {
    return java.math.BigDecimal.valueOf(v).stripTrailingZeros().toPlainString();
  }
}
