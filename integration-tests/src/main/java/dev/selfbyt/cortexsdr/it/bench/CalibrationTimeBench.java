package dev.selfbyt.cortexsdr.it.bench;

import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import dev.selfbyt.cortexsdr.converters.onnx.BitAllocator;
import dev.selfbyt.cortexsdr.converters.onnx.CalibrationClock;
import dev.selfbyt.cortexsdr.converters.onnx.MixedPrecision;
import dev.selfbyt.cortexsdr.converters.onnx.OnnxCalibrator;
import dev.selfbyt.cortexsdr.converters.onnx.OnnxModelReader;
import dev.selfbyt.cortexsdr.core.CompressionOptions;
import dev.selfbyt.cortexsdr.core.CortexSdr;
import dev.selfbyt.cortexsdr.core.Preset;
import dev.selfbyt.cortexsdr.core.tensor.TensorSource;
import dev.selfbyt.cortexsdr.it.models.Embedder;
import dev.selfbyt.cortexsdr.it.models.MobyDick;
import dev.selfbyt.cortexsdr.it.models.RealModel;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Calibration time of mixed precision ({@code compress --target-cosine T}), before and after in
 * one run: for each model, each procedure measures the per-weight effects once (as the command
 * does: 2 anchors per weight, 32 samples), then for each target plans, rounds with GPTQ (128
 * calibration sentences) and compresses; each file is evaluated in ONNX Runtime on 200 Moby-Dick
 * sentences (pooled-embedding cosine against fp32; calibration text from sentence 300 on,
 * disjoint). Prints seconds per phase ({@link CalibrationClock}), the file's size and cosines.
 *
 * <pre>
 * java -Xmx3g -Dai.djl.offline=true -cp integration-tests/target/benchmarks.jar \
 *     dev.selfbyt.cortexsdr.it.bench.CalibrationTimeBench [models=minilm,bge] [targets=0.99,0.995] \
 *     [procedures=before,after,corrected] [calibration=128] [samples=32] [anchors=2] [super=false]
 *     [tables=false] [rotation=false] [min=M] [threads=2] [work=DIR]
 * </pre>
 *
 * {@code before} is the procedure of main at 26994b9 (the measuring runs the whole model for every
 * weight; GPTQ makes each group's session from the whole model filled with the weights so far);
 * {@code after} runs each weight's measuring from its node onwards on cached activations and
 * collects GPTQ's statistics in small sessions with the weights fed as inputs; {@code corrected} is
 * what {@code compress --target-cosine} runs now: {@code after}'s measuring (with the vocabulary
 * tables' entropy steps as candidates when {@code tables=true}, as {@code --table-step auto}), then
 * {@link MixedPrecision#calibrate}, which plans again while GPTQ gains much over plain rounding
 * (one to three plans, each with its own GPTQ pass; its "GPTQ s" are all of them and the output
 * loss runs between them, its "plans" column how many it made). {@code rotation=true} is {@code
 * --rotate} ({@code corrected} only), {@code min=M} the worst-sample target ({@code
 * --target-min-cosine}; default: the command's).
 */
public final class CalibrationTimeBench {
  private CalibrationTimeBench() {}

  record Row(String model, String procedure, double target, double minCosine, Map<String, Double> measure,
      double measureSec, Map<String, Double> gptq, double gptqSec, double compressSec, long bytes, double ratio, double mean, double min,
      String codecs, Map<String, String> plan, int plans) {}

  public static void main(String[] args) throws Exception {
    Map<String, String> a = new LinkedHashMap<>();
    for (String s : args) {
      int eq = s.indexOf('=');
      if (eq < 0) {
        throw new IllegalArgumentException("arguments are name=value, not " + s);
      }
      a.put(s.substring(0, eq).replaceFirst("^--", ""), s.substring(eq + 1));
    }
    List<RealModel> models = new ArrayList<>();
    for (String m : a.getOrDefault("models", "minilm,bge").split(",")) {
      models.add(RealModel.parse(m));
    }
    List<Double> targets = new ArrayList<>();
    for (String t : a.getOrDefault("targets", "0.99,0.995").split(",")) {
      targets.add(Double.parseDouble(t));
    }
    List<String> procedures = List.of(a.getOrDefault("procedures", "before,after,corrected").split(","));
    for (String p : procedures) {
      if (!List.of("before", "after", "corrected").contains(p)) {
        throw new IllegalArgumentException("procedures are before, after and corrected, not " + p);
      }
    }
    int calibration = Integer.parseInt(a.getOrDefault("calibration", "128"));
    int samples = Integer.parseInt(a.getOrDefault("samples", "32"));
    int anchors = Integer.parseInt(a.getOrDefault("anchors", "2"));
    boolean sup = Boolean.parseBoolean(a.getOrDefault("super", "false"));
    boolean tables = Boolean.parseBoolean(a.getOrDefault("tables", "false"));
    boolean rotation = Boolean.parseBoolean(a.getOrDefault("rotation", "false"));
    double min = Double.parseDouble(a.getOrDefault("min", "NaN"));
    int threads = Integer.parseInt(a.getOrDefault("threads", "2"));
    Path work = Files.createDirectories(Path.of(a.getOrDefault("work", System.getProperty("java.io.tmpdir")
        + "/cortexsdr-calibration-time")));
    double load0 = load();
    List<Row> rows = new ArrayList<>();
    for (RealModel m : models) {
      rows.addAll(run(m, targets, procedures, calibration, samples, anchors, sup, tables, rotation, min, threads,
          work));
      System.err.println(markdown(rows));
    }
    System.out.printf(Locale.ROOT, "%n200 Moby-Dick sentences, pooled-embedding cosine vs fp32; %d calibration "
        + "sentences, %d measuring samples, %d anchors%s%s%s; %d threads; load average %.2f at start, %.2f at end%n%n",
        calibration, samples, anchors, sup ? ", super-block candidates" : "",
        tables ? ", vocabulary steps (corrected only)" : "", rotation ? ", inputs rotated where GPTQ gains (corrected "
        + "only)" : "", threads, load0, load());
    System.out.println(markdown(rows));
  }

  static double load() {
    return ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage();
  }

  static List<Row> run(RealModel model, List<Double> targets, List<String> procedures, int calibration, int samples,
      int anchors, boolean sup, boolean tables, boolean rotation, double min, int threads, Path work)
      throws Exception {
    Path dir = Files.createDirectories(work.resolve(model.name().toLowerCase(Locale.ROOT)));
    Path fp32 = model.onnx(dir);
    long fp32Bytes = Files.size(fp32);
    List<Encoding> eval = new ArrayList<>();
    List<Map<String, OnnxCalibrator.Input>> calib = new ArrayList<>();
    try (HuggingFaceTokenizer tok = Embedder.tokenizer(model.tokenizer(dir), 128)) {
      for (String s : MobyDick.sentences(200, 0)) {
        eval.add(tok.encode(s));
      }
      for (String s : MobyDick.sentences(calibration, 300)) {
        calib.add(Embedder.input(tok.encode(s)));
      }
    }
    float[][] reference;
    try (Embedder e = new Embedder(fp32, model.pooling(), threads)) {
      reference = e.embedAll(eval);
    }
    CompressionOptions base = CompressionOptions.builder().preset(Preset.INT4).threads(threads).build();
    List<Row> rows = new ArrayList<>();
    for (String procedure : procedures) {
      boolean after = !procedure.equals("before");
      boolean corrected = procedure.equals("corrected");
      long t0 = System.nanoTime();
      java.util.function.Consumer<String> log = s -> System.err.printf(Locale.ROOT, "  %s %s %.0f s (load %.1f): %s%n",
          model.displayName(), procedure, (System.nanoTime() - t0) / 1e9, load(), s);
      CalibrationClock.reset();
      List<BitAllocator.Effect> effects;
      try (OnnxModelReader onnx = OnnxModelReader.open(fp32)) {
        effects = MixedPrecision.measure(onnx, base, calib, threads, log, anchors, true, sup, samples, after,
            corrected && tables ? MixedPrecision.tableCandidates(onnx, base) : Map.of());
      }
      double measureSec = (System.nanoTime() - t0) / 1e9;
      Map<String, Double> measure = CalibrationClock.seconds();
      for (double target : targets) {
        double minCosine = Double.isNaN(min) ? MixedPrecision.defaultMinCosine(target) : min;
        MixedPrecision.Plan plan = MixedPrecision.plan(effects, target, minCosine);
        CalibrationClock.reset();
        long t1 = System.nanoTime();
        TensorSource calibrated;
        Path cai = dir.resolve(String.format(Locale.ROOT, "%s-%.4f.cai", procedure, target));
        double gptqSec;
        double compressSec;
        Map<String, Double> gptq;
        int plans = 1;
        try (OnnxModelReader onnx = OnnxModelReader.open(fp32)) {
          if (corrected) {
            // what compress --target-cosine does since the plan is corrected for GPTQ (one to three plans)
            MixedPrecision.Calibrated c = MixedPrecision.calibrate(onnx, effects, calib, target, minCosine, threads,
                false, false, rotation, log);
            plan = c.plan();
            calibrated = c.source();
            plans = c.note().split("GPTQ factor", -1).length - 1;
          } else {
            // what MixedPrecision.Plan.calibrate does, with the procedure chosen
            calibrated = new OnnxCalibrator(onnx, plan::blockCodec, 0.01, threads).storedCodecs(plan::codec)
                .smallSessions(after).onProgress(log)
                .calibrate(calib);
          }
          gptqSec = (System.nanoTime() - t1) / 1e9;
          gptq = CalibrationClock.seconds();
          long t2 = System.nanoTime();
          CortexSdr.compress(calibrated, cai, plan.options(CompressionOptions.builder().preset(Preset.INT4)
              .threads(threads)).build());
          compressSec = (System.nanoTime() - t2) / 1e9;
        }
        QuantBitsBench.Row r = QuantBitsBench.evaluate(model, procedure, target, cai, dir, procedure + "-" + target,
            fp32Bytes, reference, eval, threads, measureSec, gptqSec, "");
        rows.add(new Row(model.displayName(), procedure, target, minCosine, measure, measureSec, gptq, gptqSec, compressSec,
            r.bytes(), r.ratio(), r.mean(), r.min(), plan.histogram().toString(), plan.labels(), plans));
        System.err.println(markdown(rows));
      }
    }
    return rows;
  }

  static String markdown(List<Row> rows) {
    StringBuilder b = new StringBuilder("| model | procedure | target (mean / min) | measuring s (encode / sessions / "
        + "runs) | plans | GPTQ s (sessions / runs / solve) | compress s | total s | after / before | bytes | smaller than "
        + "fp32 | mean cosine | min cosine | same plan as before | codecs |\n"
        + "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n");
    for (Row r : rows) {
      Row before = rows.stream().filter(x -> x.model().equals(r.model()) && x.target() == r.target()
          && x.procedure().equals("before")).findFirst().orElse(null);
      double total = r.measureSec() + r.gptqSec() + r.compressSec();
      String ratio = before == null || before == r ? "" : String.format(Locale.ROOT, "%.2fx faster",
          (before.measureSec() + before.gptqSec() + before.compressSec()) / total);
      String same = before == null || before == r ? "" : before.plan().equals(r.plan()) ? "yes" : "no";
      b.append(String.format(Locale.ROOT, "| %s | %s | %.3f / %.3f | %.0f (%.0f / %.0f / %.0f) | %d | %.0f (%.0f / %.0f / "
          + "%.0f) | %.0f | %.0f | %s | %,d | %.2fx | %.4f | %.4f | %s | %s |%n", r.model(), r.procedure(), r.target(),
          r.minCosine(), r.measureSec(), s(r.measure(), CalibrationClock.MEASURE_ENCODE),
          s(r.measure(), CalibrationClock.MEASURE_SESSION), s(r.measure(), CalibrationClock.MEASURE_RUNS), r.plans(),
          r.gptqSec(),
          s(r.gptq(), CalibrationClock.GPTQ_SESSION), s(r.gptq(), CalibrationClock.GPTQ_RUNS),
          s(r.gptq(), CalibrationClock.GPTQ_SOLVE), r.compressSec(), total, ratio, r.bytes(), r.ratio(), r.mean(),
          r.min(), same, r.codecs()));
    }
    return b.toString();
  }

  private static double s(Map<String, Double> m, String phase) {
    return m.getOrDefault(phase, 0.0);
  }
}
