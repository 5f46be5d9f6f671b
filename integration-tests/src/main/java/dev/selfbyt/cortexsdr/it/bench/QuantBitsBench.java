package dev.selfbyt.cortexsdr.it.bench;

import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import dev.selfbyt.cortexsdr.converters.onnx.BitAllocator;
import dev.selfbyt.cortexsdr.converters.onnx.MixedPrecision;
import dev.selfbyt.cortexsdr.converters.onnx.OnnxCalibrator;
import dev.selfbyt.cortexsdr.converters.onnx.OnnxExporter;
import dev.selfbyt.cortexsdr.converters.onnx.OnnxModelReader;
import dev.selfbyt.cortexsdr.converters.onnx.RareRows;
import dev.selfbyt.cortexsdr.core.CompressionOptions;
import dev.selfbyt.cortexsdr.core.CortexSdr;
import dev.selfbyt.cortexsdr.core.Preset;
import dev.selfbyt.cortexsdr.core.codec.QuantCodec;
import dev.selfbyt.cortexsdr.core.codec.TensorCodec;
import dev.selfbyt.cortexsdr.core.codec.TieredQuantCodec;
import dev.selfbyt.cortexsdr.core.format.CaiReader;
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
 * Calibrated mixed precision toward output targets on the real text encoders, with and without
 * the rare-rows embedding tiers, and each way of measuring the per-weight effects: ratio, mean and
 * min cosine of pooled embeddings on 200 Moby-Dick sentences against fp32, and calibration time
 * (measuring, then GPTQ and compression), as a markdown table.
 *
 * <pre>
 * java -Xmx4g -Dai.djl.offline=true -cp ... dev.selfbyt.cortexsdr.it.bench.QuantBitsBench \
 *     [models=minilm,bge] [targets=0.99,0.995] [measure=full,parallel,anchors2,super-anchors2] [rare-bits=2,3] \
 *     [rare-codecs=c2/32s,q2/32s] [table-steps=0.5,0.58] \
 *     [calibration=128] [frequency-text=3000] [work=DIR]
 * </pre>
 *
 * A measure is {@code full} (every candidate run, samples one after the other), {@code parallel}
 * (every candidate, samples in parallel) or {@code anchorsN} (N candidates run per weight, the
 * others predicted), optionally prefixed {@code super-} (candidates also under super-block scales)
 * and suffixed {@code -sN} (N measuring samples instead of 32).
 *
 * Evaluation sentences are the first 200; calibration and frequency text start after sentence 300,
 * so they never overlap. The worst-sample target of each plan is {@code 1 - 2 (1 - target)}.
 */
public final class QuantBitsBench {
  private QuantBitsBench() {}

  record Row(String model, String variant, double target, long bytes, double ratio, double mean, double min,
      double measureSec, double gptqSec, String note) {}

  public static void main(String[] args) throws Exception {
    Map<String, String> a = new LinkedHashMap<>();
    for (String s : args) {
      int eq = s.indexOf('=');
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
    List<String> measures = List.of(a.getOrDefault("measure", "full").split(","));
    List<Integer> rareBits = new ArrayList<>();
    for (String r : a.getOrDefault("rare-bits", "2").split(",")) {
      rareBits.add(Integer.parseInt(r));
    }
    rareCodecs = a.containsKey("rare-codecs") ? List.of(a.get("rare-codecs").split(",")) : List.of();
    tableSteps = a.containsKey("table-steps") ? List.of(a.get("table-steps").split(",")) : List.of();
    int calibration = Integer.parseInt(a.getOrDefault("calibration", "128"));
    int frequencyText = Integer.parseInt(a.getOrDefault("frequency-text", "3000"));
    int threads = Integer.parseInt(a.getOrDefault("threads", "2"));
    reuse = Boolean.parseBoolean(a.getOrDefault("reuse", "false"));
    planOnly = Boolean.parseBoolean(a.getOrDefault("plan-only", "false"));
    Path work = Files.createDirectories(Path.of(a.getOrDefault("work", System.getProperty("java.io.tmpdir")
        + "/cortexsdr-qbits")));
    double load0 = ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage();
    List<Row> rows = new ArrayList<>();
    for (RealModel m : models) {
      rows.addAll(run(m, targets, measures, rareBits, calibration, frequencyText, threads, work));
      System.err.println(markdown(rows));
    }
    double load1 = ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage();
    System.out.printf(Locale.ROOT, "%n200 Moby-Dick sentences, pooled-embedding cosine vs fp32; %d calibration "
        + "sentences, rare rows counted on %d sentences (disjoint from the evaluation); %d threads; "
        + "load average %.2f at start, %.2f at end%n%n", calibration, frequencyText, threads, load0, load1);
    System.out.println(markdown(rows));
  }

  static List<Row> run(RealModel model, List<Double> targets, List<String> measures, List<Integer> rareBitsList,
      int calibration,
      int frequencyText, int threads, Path work) throws Exception {
    Path dir = Files.createDirectories(work.resolve(model.name().toLowerCase(Locale.ROOT)));
    Path fp32 = model.onnx(dir);
    long fp32Bytes = Files.size(fp32);
    List<Encoding> eval;
    List<Map<String, OnnxCalibrator.Input>> calib = new ArrayList<>();
    List<Map<String, OnnxCalibrator.Input>> text = new ArrayList<>();
    try (HuggingFaceTokenizer tok = Embedder.tokenizer(model.tokenizer(dir), 128)) {
      eval = new ArrayList<>();
      for (String s : MobyDick.sentences(200, 0)) {
        eval.add(tok.encode(s));
      }
      List<String> after = MobyDick.sentences(Math.max(calibration, frequencyText), 300);
      for (int i = 0; i < after.size(); i++) {
        Map<String, OnnxCalibrator.Input> in = Embedder.input(tok.encode(after.get(i)));
        text.add(in);
        if (i < calibration) {
          calib.add(in);
        }
      }
    }
    float[][] reference;
    try (Embedder e = new Embedder(fp32, model.pooling(), threads)) {
      reference = e.embedAll(eval);
    }
    CompressionOptions base = CompressionOptions.builder().preset(Preset.INT4).threads(threads).build();
    Map<String, long[]> counts;
    try (OnnxModelReader onnx = OnnxModelReader.open(fp32)) {
      counts = RareRows.counts(onnx, text);
    }
    counts.forEach((t, c) -> System.err.printf(Locale.ROOT, "%s: %s read %d of %d rows on %d sentences%n",
        model.displayName(), t, RareRows.frequentRows(c, 1), c.length, text.size()));
    List<Row> rows = new ArrayList<>();
    for (String measure : measures) {
      long t0 = System.nanoTime();
      List<BitAllocator.Effect> effects;
      Path saved = dir.resolve("effects-" + measure + ".txt");
      double measureSec;
      if (reuse && Files.exists(saved)) {
        effects = load(saved);
        measureSec = Double.parseDouble(Files.readAllLines(saved).get(0));
      } else {
        try (OnnxModelReader onnx = OnnxModelReader.open(fp32)) {
          effects = measure(measure, onnx, base, calib, threads);
        }
        measureSec = (System.nanoTime() - t0) / 1e9;
        save(saved, effects, measureSec);
      }
      System.err.printf(Locale.ROOT, "%s %s: %d effects in %.0f s%n", model.displayName(), measure, effects.size(),
          measureSec);
      for (double target : targets) {
        MixedPrecision.Plan plan = MixedPrecision.plan(effects, target, MixedPrecision.defaultMinCosine(target));
        if (planOnly) { // the planned weights' payload bytes, no GPTQ and no file (plan-only=true)
          var chosen = dev.selfbyt.cortexsdr.converters.onnx.BitAllocator.allocate(effects, 1 - target,
              1 - MixedPrecision.defaultMinCosine(target));
          System.out.printf(Locale.ROOT, "| %s | %s | %.3f | %,d | %s |%n", model.displayName(), measure, target,
              dev.selfbyt.cortexsdr.converters.onnx.BitAllocator.bytes(chosen), plan.histogram());
          continue;
        }
        long t1 = System.nanoTime();
        TensorSource calibrated;
        try (OnnxModelReader onnx = OnnxModelReader.open(fp32)) {
          long tg = System.nanoTime();
          calibrated = plan.calibrate(onnx, calib, threads, false, false, false, s -> System.err.printf(Locale.ROOT,
              "  GPTQ %.0f s: %s%n", (System.nanoTime() - tg) / 1e9, s));
          String tag = String.format(Locale.ROOT, "%s-%.4f", measure, target);
          Path cai = dir.resolve(tag + ".cai");
          CortexSdr.compress(calibrated, cai, plan.options(CompressionOptions.builder().preset(Preset.INT4)
              .threads(threads)).build());
          double gptqSec = (System.nanoTime() - t1) / 1e9;
          String hist = plan.histogram().toString();
          rows.add(evaluate(model, "mixed + GPTQ, measure " + measure, target, cai, dir, tag, fp32Bytes, reference,
              eval, threads, measureSec, gptqSec, hist));
          for (int rareBits : rareBitsList) {
          if (rareBits > 0 && counts.keySet().stream().anyMatch(t -> plan.blockCodec(t) != null
              && plan.blockCodec(t).bits() > rareBits)) {
            Path rare = dir.resolve(tag + "-rare" + rareBits + ".cai");
            CortexSdr.compress(calibrated, rare, plan.options(CompressionOptions.builder().preset(Preset.INT4)
                .threads(threads), counts, rareBits).build());
            rows.add(evaluate(model, "mixed + GPTQ + rare rows " + rareBits + "b, measure " + measure, target, rare,
                dir, tag + "-rare" + rareBits, fp32Bytes, reference, eval, threads, measureSec, gptqSec, hist));
          }
          }
          for (String step : tableSteps) { // counted tables entropy-coded (table-steps=0.5,0.58), the rest as planned
            var entropy = dev.selfbyt.cortexsdr.core.codec.EntropyQuantCodec.of(Double.parseDouble(step));
            CompressionOptions.Builder b = plan.options(CompressionOptions.builder().preset(Preset.INT4)
                .threads(threads), counts.keySet(), entropy);
            Path ent = dir.resolve(tag + "-entropy-" + step + ".cai");
            CortexSdr.compress(calibrated, ent, b.build());
            rows.add(evaluate(model, "mixed + GPTQ + tables entropy-coded, step " + step + " x rms, measure " + measure,
                target, ent, dir, tag + "-entropy-" + step, fp32Bytes, reference, eval, threads, measureSec, gptqSec,
                hist));
          }
          for (String rc : rareCodecs) { // rare rows under a given codec (rare-codecs=c2/32s: a 2-bit codebook)
            var rareCodec = VocabCodecBench.codec(rc);
            Path rare = dir.resolve(tag + "-rare-" + rc.replace('/', '-') + ".cai");
            CortexSdr.compress(calibrated, rare, plan.options(CompressionOptions.builder().preset(Preset.INT4)
                .threads(threads), counts, c -> rareCodec).build());
            rows.add(evaluate(model, "mixed + GPTQ + rare rows " + rc + ", measure " + measure, target, rare,
                dir, tag + "-rare-" + rc.replace('/', '-'), fp32Bytes, reference, eval, threads, measureSec, gptqSec,
                hist));
          }
        }
        System.err.println(markdown(rows));
      }
    }
    return rows;
  }

  /** Codecs for the rare rows of counted tables ({@code rare-codecs=c2/32s,q2/32s}, see {@link VocabCodecBench#codec}). */
  static List<String> rareCodecs = List.of();

  /**
   * Relative steps for the counted (directly indexed) tables under {@link
   * dev.selfbyt.cortexsdr.core.codec.EntropyQuantCodec} ({@code table-steps=0.5,0.58}): one file per step.
   */
  static List<String> tableSteps = List.of();

  /** Reuse effects measured by an earlier run in the same work folder ({@code reuse=true}); its time is reported. */
  static boolean reuse = false;

  /** Only print each plan's planned payload bytes from saved effects ({@code plan-only=true}, with reuse). */
  static boolean planOnly = false;

  static void save(Path p, List<BitAllocator.Effect> effects, double seconds) throws java.io.IOException {
    StringBuilder b = new StringBuilder(seconds + "\n");
    for (BitAllocator.Effect e : effects) {
      if (!(e.codec() instanceof QuantCodec c)) {
        continue; // the saved form holds block-wise candidates only
      }
      b.append(e.tensor()).append('\t').append(c.bits()).append('\t').append(c.symmetric())
          .append('\t').append(c.blockSize()).append(c.superScales() ? "s" : "").append('\t')
          .append(e.bytes());
      for (double d : e.perSample()) {
        b.append('\t').append(d);
      }
      b.append('\n');
    }
    Files.writeString(p, b);
  }

  static List<BitAllocator.Effect> load(Path p) throws java.io.IOException {
    List<BitAllocator.Effect> out = new ArrayList<>();
    List<String> lines = Files.readAllLines(p);
    for (String line : lines.subList(1, lines.size())) {
      String[] f = line.split("\t");
      double[] per = new double[f.length - 5];
      double sum = 0;
      for (int i = 0; i < per.length; i++) {
        per[i] = Double.parseDouble(f[5 + i]);
        sum += per[i];
      }
      boolean sup = f[3].endsWith("s");
      QuantCodec c = QuantCodec.blockwise(Integer.parseInt(f[1]), Boolean.parseBoolean(f[2]),
          Integer.parseInt(sup ? f[3].substring(0, f[3].length() - 1) : f[3]));
      out.add(new BitAllocator.Effect(f[0], sup ? c.withSuperScales() : c, Long.parseLong(f[4]), sum / per.length, per));
    }
    return out;
  }

  static List<BitAllocator.Effect> measure(String how, OnnxModelReader onnx, CompressionOptions options,
      List<Map<String, OnnxCalibrator.Input>> calib, int threads) throws Exception {
    long t0 = System.nanoTime();
    java.util.function.Consumer<String> log = s -> System.err.printf(Locale.ROOT, "  %.0f s: %s%n",
        (System.nanoTime() - t0) / 1e9, s);
    boolean sup = false;
    int samples = 32;
    int anchors = -1;
    boolean parallel = true;
    for (String part : how.split("-")) {
      if (part.equals("super")) {
        sup = true;
      } else if (part.equals("full")) {
        anchors = 0;
        parallel = false;
      } else if (part.equals("parallel")) {
        anchors = 0;
      } else if (part.startsWith("anchors")) {
        anchors = Integer.parseInt(part.substring(7));
      } else if (part.matches("s[0-9]+")) {
        samples = Integer.parseInt(part.substring(1));
      } else {
        throw new IllegalArgumentException("measure takes [super-](full|parallel|anchorsN)[-sN]; not " + how);
      }
    }
    if (anchors < 0) {
      throw new IllegalArgumentException("measure " + how + " names no way of measuring (full, parallel, anchorsN)");
    }
    return MixedPrecision.measure(onnx, options, calib, threads, log, anchors, parallel, sup, samples);
  }

  static Row evaluate(RealModel model, String variant, double target, Path cai, Path dir, String tag, long fp32Bytes,
      float[][] reference, List<Encoding> eval, int threads, double measureSec, double gptqSec, String note)
      throws Exception {
    Path decoded = dir.resolve(tag + "-decoded.onnx");
    try (CaiReader r = CaiReader.open(cai)) {
      OnnxExporter.exportDecoded(r, decoded);
    }
    double sum = 0;
    double min = 1;
    try (Embedder e = new Embedder(decoded, model.pooling(), threads)) {
      for (int i = 0; i < eval.size(); i++) {
        double c = Embedder.cosine(e.embed(eval.get(i)), reference[i]);
        sum += c;
        min = Math.min(min, c);
      }
    }
    long bytes = Files.size(cai);
    System.err.println(tag + ": " + byteShares(cai));
    return new Row(model.displayName(), variant, target, bytes, (double) fp32Bytes / bytes, sum / eval.size(), min,
        measureSec, gptqSec, note);
  }

  /**
   * Where a file's bytes go: the share of the embedding tables (Gather tables, stored bytes) and
   * the share of block scales and zero points in the quantized tensors' raw payloads (fp16 or
   * fp32 scale, packed zero point per group), of all stored bytes.
   */
  static String byteShares(Path cai) throws Exception {
    long total = 0;
    long tables = 0;
    double scales = 0;
    try (CaiReader r = CaiReader.open(cai)) {
      for (dev.selfbyt.cortexsdr.core.format.CaiEntry e : r.entries()) {
        total += e.storedLength();
        if (e.info().role() == dev.selfbyt.cortexsdr.core.tensor.TensorRole.EMBEDDING) {
          tables += e.storedLength();
        }
        TensorCodec c = r.readStored(e.name()).codec();
        List<QuantCodec> qs = c instanceof QuantCodec q ? List.of(q)
            : c instanceof TieredQuantCodec t ? t.tiers().stream().filter(QuantCodec.class::isInstance)
                .map(QuantCodec.class::cast).toList() : List.of();
        if (!qs.isEmpty()) {
          QuantCodec q = qs.get(0); // tiers: the first (frequent) tier's grouping, an estimate
          double groups = q.granularity() == QuantCodec.Granularity.BLOCK
              ? (double) e.info().numel() / q.blockSize() : e.info().numel() / (double) e.info().fiberLength();
          scales += groups * (2 + (q.symmetric() ? 0 : q.bits() / 8.0)) * e.storedLength() / Math.max(1, e.rawLength());
        }
      }
    }
    return String.format(Locale.ROOT, "%,d bytes stored; embedding tables %.1f%%; scales and zero points %.1f%%",
        total, 100.0 * tables / total, 100.0 * scales / total);
  }

  static String markdown(List<Row> rows) {
    StringBuilder b = new StringBuilder(
        "| model | variant | target (mean / min) | bytes | smaller than fp32 | mean cosine | min cosine "
            + "| measuring s | GPTQ + compress s | calibration s | codecs |\n|---|---|---|---|---|---|---|---|---|---|---|\n");
    for (Row r : rows) {
      b.append(String.format(Locale.ROOT, "| %s | %s | %.3f / %.3f | %,d | %.2fx | %.4f | %.4f | %.0f | %.0f | %.0f | %s |%n",
          r.model(), r.variant(), r.target(), MixedPrecision.defaultMinCosine(r.target()), r.bytes(), r.ratio(),
          r.mean(), r.min(), r.measureSec(), r.gptqSec(), r.measureSec() + r.gptqSec(), r.note()));
    }
    return b.toString();
  }
}
