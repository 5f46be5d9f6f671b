package dev.selfbyt.cortexsdr.it.models;

import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import dev.selfbyt.cortexsdr.converters.onnx.BitAllocator;
import dev.selfbyt.cortexsdr.converters.onnx.OnnxCalibrator;
import dev.selfbyt.cortexsdr.converters.onnx.MixedPrecision;
import dev.selfbyt.cortexsdr.converters.onnx.OnnxExporter;
import dev.selfbyt.cortexsdr.converters.onnx.OnnxModelReader;
import dev.selfbyt.cortexsdr.converters.onnx.QuantizedOnnxExporter;
import dev.selfbyt.cortexsdr.core.CompressionOptions;
import dev.selfbyt.cortexsdr.core.CompressionStats;
import dev.selfbyt.cortexsdr.core.CortexSdr;
import dev.selfbyt.cortexsdr.core.Preset;
import dev.selfbyt.cortexsdr.core.codec.QuantCodec;
import dev.selfbyt.cortexsdr.core.format.CaiReader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The README's main job: compresses a real sentence encoder with CortexSDR, exports it to ONNX,
 * and runs the original, the compressed model and ONNX Runtime's own int8 twin on real
 * sentences, printing size, ratio, fidelity (cosine of pooled embeddings against the fp32
 * model) and latency (batch 1, 128 tokens) side by side, all measured in this run.
 *
 * <p>Usage: {@code ModelReport [--models minilm,bge] [--presets int8,int4,lossless]
 * [--sentences 200] [--latency-runs 30] [--threads 2] [--calibration N] [--methods gptq,scaling,scaling+gptq]
 * [--targets 0.99,0.995] [--mixed-scaling true] [--mixed-refit true] [--lexicon N|-1] [--work DIR]}. Defaults: all-MiniLM-L6-v2,
 * the default preset, no calibrated rows, no lexicon column. {@code --calibration N} adds a row per
 * calibration method on N sentences after the evaluation ones; {@code --targets} adds mixed-precision
 * rows; {@code --lexicon} adds the Liu-lexicon 10-NN accuracy of every variant (N words of each
 * polarity, -1 for all).
 */
public final class ModelReport {
  private ModelReport() {}

  /** One line of the table. */
  public record Row(String model, String variant, long bytes, double ratio, double meanCos, double minCos,
      double knn, double latencyMs, String note) {}

  public static void main(String[] args) throws Exception {
    Map<String, String> a = new LinkedHashMap<>();
    for (int i = 0; i + 1 < args.length; i += 2) {
      a.put(args[i].replaceFirst("^--", ""), args[i + 1]);
    }
    List<RealModel> models = new ArrayList<>();
    for (String m : a.getOrDefault("models", "minilm").split(",")) {
      models.add(RealModel.parse(m));
    }
    List<Preset> presets = new ArrayList<>();
    for (String p : a.getOrDefault("presets", CompressionOptions.defaults().preset().id()).split(",")) {
      presets.add(Preset.parse(p));
    }
    int sentences = Integer.parseInt(a.getOrDefault("sentences", "200"));
    int runs = Integer.parseInt(a.getOrDefault("latency-runs", "30"));
    int threads = Integer.parseInt(a.getOrDefault("threads", "2"));
    calibrationSamples = Integer.parseInt(a.getOrDefault("calibration", Integer.toString(calibrationSamples)));
    lexiconWords = Integer.parseInt(a.getOrDefault("lexicon", "0"));
    mixedScaling = Boolean.parseBoolean(a.getOrDefault("mixed-scaling", "false"));
    mixedRefit = Boolean.parseBoolean(a.getOrDefault("mixed-refit", "false"));
    if (a.containsKey("methods")) {
      methods = new ArrayList<>(List.of(a.get("methods").split(",")));
      methods.removeIf(String::isBlank);
    }
    for (String t : a.getOrDefault("targets", "").split(",")) {
      if (!t.isBlank()) {
        targets.add(Double.parseDouble(t));
      }
    }
    Path work = Path.of(a.getOrDefault("work", System.getProperty("java.io.tmpdir") + "/cortexsdr-report"));
    Files.createDirectories(work);

    List<Row> rows = new ArrayList<>();
    for (RealModel m : models) {
      rows.addAll(evaluate(m, presets, sentences, runs, threads, work, true, calibrationSamples));
    }
    System.out.println();
    System.out.printf(Locale.ROOT, "%d Moby-Dick sentences; cosine of pooled embeddings vs the fp32 model; "
        + "latency: median of %d runs, batch 1, 128 tokens, %d threads, ONNX Runtime 1.29.0%n%n", sentences, runs, threads);
    System.out.println(markdown(rows));
  }

  /**
   * Measures one model: fp32, ONNX Runtime's int8 twin, and each preset as a {@code .cai} (size)
   * exported with quantized weights (fidelity and latency) and decoded (fidelity).
   *
   * @param runs latency runs per variant; 0 skips latency
   * @param calibration sentences for the GPTQ rows (after the evaluation ones); 0 for none
   */
  public static List<Row> evaluate(RealModel model, List<Preset> presets, int sentenceCount, int runs, int threads,
      Path work, boolean log, int calibration) throws Exception {
    return evaluate(model, presets, sentenceCount, runs, threads, work, log, calibration, methods);
  }

  /**
   * {@link #evaluate(RealModel, List, int, int, int, Path, boolean, int)} with the calibration
   * methods to compare, e.g. {@code gptq}, {@code scaling}, {@code refit+scaling+gptq}.
   */
  public static List<Row> evaluate(RealModel model, List<Preset> presets, int sentenceCount, int runs, int threads,
      Path work, boolean log, int calibration, List<String> methods) throws Exception {
    Path dir = Files.createDirectories(work.resolve(model.name().toLowerCase(Locale.ROOT)));
    Path fp32 = model.onnx(dir);
    Path twin = model.int8Twin(dir);
    List<Encoding> enc = new ArrayList<>();
    List<Encoding> latencyInput;
    try (HuggingFaceTokenizer tok = Embedder.tokenizer(model.tokenizer(dir), 128)) {
      for (String s : MobyDick.sentences(sentenceCount, 0)) {
        enc.add(tok.encode(s));
      }
      String longText = String.join(" ", MobyDick.sentences(40, sentenceCount));
      latencyInput = List.of(tok.encode(longText));
    }
    long fp32Bytes = Files.size(fp32);
    float[][] reference;
    try (Embedder e = new Embedder(fp32, model.pooling(), threads)) {
      reference = e.embedAll(enc);
    }
    Map<String, Path> timed = new LinkedHashMap<>();
    List<Row> rows = new ArrayList<>();
    lexiconEncodings = null;
    if (lexiconWords != 0) {
      lexicon = LiuLexicon.words(lexiconWords);
      lexiconEncodings = new ArrayList<>();
      try (HuggingFaceTokenizer tok = Embedder.tokenizer(model.tokenizer(dir), 128)) {
        for (LiuLexicon.Word w : lexicon) {
          lexiconEncodings.add(tok.encode(w.text()));
        }
      }
    }
    rows.add(new Row(model.displayName(), "fp32 original", fp32Bytes, 1.0, 1.0, 1.0, knn(model, fp32, threads),
        Double.NaN, ""));
    timed.put("fp32 original", fp32);
    rows.add(fidelity(model, "ONNX Runtime int8 twin", twin, Files.size(twin), fp32Bytes, reference, enc, threads, ""));
    timed.put("ONNX Runtime int8 twin", twin);

    for (Preset p : presets) {
      Path cai = dir.resolve(p.id() + ".cai");
      CompressionStats stats;
      try (OnnxModelReader onnx = OnnxModelReader.open(fp32)) {
        stats = CortexSdr.compress(onnx, cai, CompressionOptions.builder().preset(p).threads(threads).build());
      }
      rows.add(fidelity(model, ".cai " + p.id() + " (decoded)", decodedExport(cai, dir, p.id()), Files.size(cai),
          fp32Bytes, reference, enc, threads, "the .cai file's size"));
      if (calibration > 0 && p != Preset.LOSSLESS) {
        CompressionOptions opts = CompressionOptions.builder().preset(p).threads(threads).build();
        var calib = calibrationInputs(model, dir, sentenceCount + 100, calibration);
        for (String method : methods) {
          boolean scaling = method.contains("scaling");
          boolean gptq = method.contains("gptq");
          boolean refit = method.contains("refit");
          String tag = p.id() + "-" + method.replace('+', '-');
          Path out = dir.resolve(tag + ".cai");
          long t0 = System.nanoTime();
          try (OnnxModelReader onnx = OnnxModelReader.open(fp32)) {
            var calibrated = OnnxCalibrator.forOptions(onnx, opts, 0.01, threads).activationScaling(scaling)
                .refit(refit).errorCompensation(gptq).calibrate(calib);
            CortexSdr.compress(calibrated, out, opts);
          }
          double secs = (System.nanoTime() - t0) / 1e9;
          rows.add(fidelity(model, ".cai " + p.id() + " + " + method + " (decoded)", decodedExport(out, dir, tag),
              Files.size(out), fp32Bytes, reference, enc, threads,
              String.format(Locale.ROOT, "%d calibration sentences, %.0f s", calibration, secs)));
        }
      }
      Path quantized = dir.resolve(p.id() + "-quantized.onnx");
      Path quantizedInt8Act = dir.resolve(p.id() + "-quantized-acc4.onnx");
      List<QuantizedOnnxExporter.Form> forms;
      try (CaiReader r = CaiReader.open(cai)) {
        forms = QuantizedOnnxExporter.export(r, quantized, 0);
        QuantizedOnnxExporter.export(r, quantizedInt8Act, 4);
      }
      long kept = forms.stream().filter(f -> !f.form().equals("decoded")).count();
      if (log) {
        System.err.printf(Locale.ROOT, "%s %s: %s%n", model.displayName(), p.id(), stats);
      }
      rows.add(fidelity(model, ".cai " + p.id() + " -> quantized .onnx", quantized, Files.size(quantized), fp32Bytes,
          reference, enc, threads, kept + " weights stay quantized in ORT"));
      timed.put(".cai " + p.id() + " -> quantized .onnx", quantized);
      if (kept > 0) {
        String v = ".cai " + p.id() + " -> quantized .onnx, accuracy_level 4";
        rows.add(fidelity(model, v, quantizedInt8Act, Files.size(quantizedInt8Act), fp32Bytes, reference, enc, threads,
            "MatMulNBits with int8 activations"));
        timed.put(v, quantizedInt8Act);
      }
    }
    List<BitAllocator.Effect> effects = null;
    for (double target : targets) {
      if (effects == null) {
        long t0 = System.nanoTime();
        try (OnnxModelReader onnx = OnnxModelReader.open(fp32)) {
          effects = MixedPrecision.measure(onnx, CompressionOptions.builder().preset(Preset.INT4).threads(threads).build(),
              calibrationInputs(model, dir, sentenceCount + 100, MIXED_MEASURE_SAMPLES), threads, s -> {});
        }
        if (log) {
          System.err.printf(Locale.ROOT, "%s: measured %d (weight, codec) effects in %.0f s%n", model.displayName(),
              effects.size(), (System.nanoTime() - t0) / 1e9);
        }
      }
      rows.addAll(mixedPrecision(model, fp32, dir, effects, target, sentenceCount, threads, fp32Bytes, reference, enc,
          log, timed));
    }
    if (runs > 0) {
      Map<String, Double> lat = Latency.median(timed, model.pooling(), latencyInput.get(0), runs, threads);
      List<Row> withLatency = new ArrayList<>();
      for (Row r : rows) {
        Double ms = lat.get(r.variant());
        withLatency.add(ms == null ? r : new Row(r.model(), r.variant(), r.bytes(), r.ratio(), r.meanCos(), r.minCos(), r.knn(),
            ms, r.note()));
      }
      rows = withLatency;
    }
    return rows;
  }

  /**
   * Sentences for calibration (GPTQ rows), disjoint from the evaluation ones; 0 for none. Set with
   * {@code --calibration N} or {@code -Dcortexsdr.calibration=N}.
   */
  static int calibrationSamples = Integer.getInteger("cortexsdr.calibration", 0);

  static List<Map<String, OnnxCalibrator.Input>> calibrationInputs(RealModel model, Path dir, int skip, int count)
      throws Exception {
    List<Map<String, OnnxCalibrator.Input>> out = new ArrayList<>();
    try (HuggingFaceTokenizer tok = Embedder.tokenizer(model.tokenizer(dir), 128)) {
      for (String s : MobyDick.sentences(count, skip)) {
        out.add(Embedder.input(tok.encode(s)));
      }
    }
    return out;
  }

  /**
   * Calibration methods compared ({@code --methods gptq,scaling,refit+gptq,...}): any of
   * error-compensating rounding (gptq), activation scaling (scaling) and re-fitting (refit).
   */
  static List<String> methods = new ArrayList<>(List.of("gptq", "scaling", "refit+gptq", "refit+scaling+gptq"));

  /** Whether mixed-precision rows also scale activations ({@code --mixed-scaling true}). */
  static boolean mixedScaling = false;

  /** Whether mixed-precision rows also re-fit weights ({@code --mixed-refit true}). */
  static boolean mixedRefit = false;

  /** Output cosine targets for mixed-precision rows ({@code --targets 0.99,0.995}); none by default. */
  static List<Double> targets = new ArrayList<>();

  /**
   * Mixed precision toward an output target ({@link MixedPrecision}), GPTQ at the planned widths,
   * evaluated on the evaluation sentences.
   */
  /** Samples measured for mixed precision (of the calibration sentences). */
  static final int MIXED_MEASURE_SAMPLES = 32;

  /** The decoded and the quantized-export rows of a mixed-precision {@code .cai}; the export is timed. */
  private static List<Row> mixedPrecision(RealModel model, Path fp32, Path dir, List<BitAllocator.Effect> effects,
      double target, int sentenceCount, int threads, long fp32Bytes, float[][] reference, List<Encoding> enc,
      boolean log, Map<String, Path> timed) throws Exception {
    long t0 = System.nanoTime();
    int samples = Math.max(calibrationSamples, 32);
    List<Map<String, OnnxCalibrator.Input>> calib = calibrationInputs(model, dir, sentenceCount + 100, samples);
    Path cai = dir.resolve(String.format(Locale.ROOT, "mixed-%.4f.cai", target));
    MixedPrecision.Plan plan;
    try (OnnxModelReader onnx = OnnxModelReader.open(fp32)) {
      // as compress --target-cosine does: planned, GPTQ, and planned again for what GPTQ gained
      MixedPrecision.Calibrated c = MixedPrecision.calibrate(onnx, effects, calib, target,
          MixedPrecision.defaultMinCosine(target), threads, mixedScaling, mixedRefit, false, s -> {});
      plan = c.plan();
      CortexSdr.compress(c.source(), cai,
          plan.options(CompressionOptions.builder().preset(Preset.INT4).threads(threads)).build());
    }
    double secs = (System.nanoTime() - t0) / 1e9;
    if (log) {
      System.err.printf(Locale.ROOT, "%s mixed %.4f: %s%n", model.displayName(), target, plan.labels());
    }
    String variant = String.format(Locale.ROOT, ".cai mixed precision + %s, target %.3f",
        (mixedRefit ? "refit + " : "") + (mixedScaling ? "scaling + " : "") + "GPTQ", target);
    Path quantized = dir.resolve(String.format(Locale.ROOT, "mixed-%.4f-quantized.onnx", target));
    List<QuantizedOnnxExporter.Form> forms;
    try (CaiReader r = CaiReader.open(cai)) {
      forms = QuantizedOnnxExporter.export(r, quantized, 0);
    }
    long widened = forms.stream().filter(f -> f.note() != null && f.note().contains("widen")).count();
    timed.put(variant + " -> quantized .onnx", quantized);
    return List.of(
        fidelity(model, variant + " (decoded)", decodedExport(cai, dir, String.format(Locale.ROOT, "mixed-%.4f", target)),
            Files.size(cai), fp32Bytes, reference, enc, threads,
            "bits/block: weights " + plan.histogram() + String.format(Locale.ROOT, ", %.0f s", secs)),
        fidelity(model, variant + " -> quantized .onnx", quantized, Files.size(quantized), fp32Bytes, reference, enc,
            threads, widened + " weights widened to 8 bits for ORT"));
  }

  private static Path decodedExport(Path cai, Path dir, String tag) throws Exception {
    Path decoded = dir.resolve(tag + "-decoded.onnx");
    try (CaiReader r = CaiReader.open(cai)) {
      OnnxExporter.exportDecoded(r, decoded);
    }
    return decoded;
  }

  /** Words of each polarity for the lexicon kNN column ({@code --lexicon N}, 0 off, -1 all). */
  static int lexiconWords = 0;
  private static List<LiuLexicon.Word> lexicon;
  private static List<Encoding> lexiconEncodings;

  /** Leave-one-out 10-NN accuracy on the Liu lexicon, or NaN when the column is off. */
  private static double knn(RealModel model, Path onnx, int threads) throws Exception {
    if (lexiconEncodings == null) {
      return Double.NaN;
    }
    try (Embedder e = new Embedder(onnx, model.pooling(), threads)) {
      return LiuLexicon.knnAccuracy(e.embedAll(lexiconEncodings), lexicon, 10);
    }
  }

  private static Row fidelity(RealModel model, String variant, Path onnx, long bytes, long fp32Bytes,
      float[][] reference, List<Encoding> enc, int threads, String note) throws Exception {
    double sum = 0;
    double min = 1;
    try (Embedder e = new Embedder(onnx, model.pooling(), threads)) {
      for (int i = 0; i < enc.size(); i++) {
        float[] v = e.embed(enc.get(i));
        double c = Arrays.equals(v, reference[i]) ? 1.0 : Embedder.cosine(v, reference[i]);
        sum += c;
        min = Math.min(min, c);
      }
    }
    return new Row(model.displayName(), variant, bytes, (double) fp32Bytes / bytes, sum / enc.size(), min,
        knn(model, onnx, threads), Double.NaN,
        note);
  }

  public static String markdown(List<Row> rows) {
    StringBuilder sb = new StringBuilder();
    boolean knn = rows.stream().anyMatch(r -> !Double.isNaN(r.knn()));
    sb.append("| model | variant | bytes | smaller than fp32 | mean cosine | min cosine |"
        + (knn ? " lexicon 10-NN accuracy |" : "") + " latency ms | vs fp32 latency | note |\n");
    sb.append("|---|---|---|---|---|---|" + (knn ? "---|" : "") + "---|---|---|\n");
    Map<String, Double> base = new LinkedHashMap<>();
    for (Row r : rows) {
      if (r.variant().equals("fp32 original")) {
        base.put(r.model(), r.latencyMs());
      }
    }
    for (Row r : rows) {
      double b = base.getOrDefault(r.model(), Double.NaN);
      sb.append(String.format(Locale.ROOT, "| %s | %s | %,d | %.2fx | %s | %s |%s %s | %s | %s |%n", r.model(), r.variant(),
          r.bytes(), r.ratio(), cos(r.meanCos()), cos(r.minCos()),
          knn ? String.format(Locale.ROOT, " %.2f%% |", 100 * r.knn()) : "",
          Double.isNaN(r.latencyMs()) ? "" : String.format(Locale.ROOT, "%.1f", r.latencyMs()),
          Double.isNaN(r.latencyMs()) || Double.isNaN(b) ? "" : String.format(Locale.ROOT, "%.2fx", r.latencyMs() / b),
          r.note()));
    }
    return sb.toString();
  }

  private static String cos(double c) {
    return c == 1.0 ? "1 (identical)" : String.format(Locale.ROOT, "%.4f", c);
  }
}
