package dev.selfbyt.cortexsdr.it.djl;

import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import ai.djl.huggingface.translator.TextEmbeddingTranslatorFactory;
import ai.djl.inference.Predictor;
import ai.djl.repository.zoo.Criteria;
import ai.djl.repository.zoo.ZooModel;
import dev.selfbyt.cortexsdr.converters.onnx.OnnxExporter;
import dev.selfbyt.cortexsdr.converters.onnx.QuantizedOnnxExporter;
import dev.selfbyt.cortexsdr.converters.onnx.OnnxModelReader;
import dev.selfbyt.cortexsdr.core.CompressionOptions;
import dev.selfbyt.cortexsdr.core.CortexSdr;
import dev.selfbyt.cortexsdr.core.Preset;
import dev.selfbyt.cortexsdr.core.calibrate.Metrics;
import dev.selfbyt.cortexsdr.core.format.CaiEntry;
import dev.selfbyt.cortexsdr.core.format.CaiReader;
import dev.selfbyt.cortexsdr.core.tensor.DType;
import dev.selfbyt.cortexsdr.djl.CaiModel;
import dev.selfbyt.cortexsdr.djl.graph.CaiWeights;
import dev.selfbyt.cortexsdr.djl.graph.GraphExecutor;
import dev.selfbyt.cortexsdr.djl.graph.Value;
import dev.selfbyt.cortexsdr.djl.kernel.KernelThreads;
import dev.selfbyt.cortexsdr.djl.kernel.Kernels;
import dev.selfbyt.cortexsdr.it.models.Embedder;
import dev.selfbyt.cortexsdr.it.models.Int8FastFiles;
import dev.selfbyt.cortexsdr.it.models.MobyDick;
import dev.selfbyt.cortexsdr.it.models.RealModel;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * The DJL engine "CortexSDR" on real sentence encoders: each {@code .cai} runs through {@code
 * Criteria...optEngine("CortexSDR")} with DJL's HuggingFace text-embedding translator, and is
 * compared with the same {@code .cai} exported decoded and run in ONNX Runtime (the engine's own
 * error), and with the fp32 model (the compression's error). Then, in one run: latency against ONNX
 * Runtime fp32 and, given {@code --torchscript}, DJL's PyTorch engine on the same network as TorchScript
 * (batch 1, 128 tokens, round-robin so machine noise falls on all alike), where the engine's time
 * goes (per ONNX operator type), and the weights' memory after load.
 *
 * <p>With {@code --kernels native,vector,scalar} the latency runs instead in one child JVM per kernel
 * choice, each with its own ONNX Runtime fp32 anchor, and one table gathers them: {@code native} is
 * a plain {@code java -cp} (no flags: the native kernels load from the jar), {@code vector} adds
 * {@code --add-modules jdk.incubator.vector -Ddev.selfbyt.cortexsdr.djl.native=false} (tuned,
 * labelled so), {@code scalar} only {@code -Ddev.selfbyt.cortexsdr.djl.native=false}.
 *
 * <p>Usage: {@code DjlEngineReport [--models minilm,bge] [--presets int8,int4] [--sentences 200]
 * [--latency-runs 30] [--threads 2] [--work DIR] [--kernels native,vector,scalar] [--fidelity true]
 * [--profile true] [--w8a8 false] [--batch 1] [--torchscript make|minilm=PATH,bge=PATH]
 * [--python /usr/bin/python3] [--torchscript-tool integration-tests/src/main/python/onnx_to_torchscript.py]}.
 * {@code --torchscript} needs {@code integration-tests/target/pytorch-lib/*} on {@code -cp} (see {@link
 * PyTorchBaseline}); {@code make} converts each model's fp32 ONNX file with the Python tool.
 */
public final class DjlEngineReport {
  private DjlEngineReport() {}

  /** Fidelity and memory of one {@code .cai} in the engine. */
  public record Fidelity(String model, String preset, long caiBytes, double meanCosVsDecoded,
      double minCosVsDecoded, double meanCosVsFp32, double minCosVsFp32, long residentWeightBytes,
      long fp32WeightBytes, long heapAfterLoad) {}

  public static void main(String[] args) throws Exception {
    Map<String, String> a = new LinkedHashMap<>();
    for (int i = 0; i + 1 < args.length; i += 2) {
      a.put(args[i].replaceFirst("^--", ""), args[i + 1]);
    }
    List<RealModel> models = new ArrayList<>();
    for (String m : a.getOrDefault("models", "minilm,bge").split(",")) {
      models.add(RealModel.parse(m));
    }
    List<Preset> presets = new ArrayList<>();
    for (String p : a.getOrDefault("presets", "int8,int4").split(",")) {
      presets.add(Preset.parse(p));
    }
    int sentences = Integer.parseInt(a.getOrDefault("sentences", "200"));
    int runs = Integer.parseInt(a.getOrDefault("latency-runs", "30"));
    int threads = Integer.parseInt(a.getOrDefault("threads", "2"));
    Path work = Files.createDirectories(Path.of(a.getOrDefault("work",
        System.getProperty("java.io.tmpdir") + "/cortexsdr-djl-report")));
    PyTorchBaseline.configureThreads(threads); // before anything starts the PyTorch engine, if present
    Map<RealModel, Path> torchScripts = Map.of();
    if (a.containsKey("torchscript")) {
      PyTorchBaseline.require();
      torchScripts = PyTorchBaseline.torchScripts(a.get("torchscript"), models, work,
          a.getOrDefault("python", "/usr/bin/python3"),
          Path.of(a.getOrDefault("torchscript-tool", "integration-tests/src/main/python/onnx_to_torchscript.py")));
    }
    if (PyTorchBaseline.present()) {
      ai.djl.engine.Engine pt = ai.djl.engine.Engine.getEngine("PyTorch");
      System.out.println("DJL PyTorch engine " + pt.getVersion() + " on the classpath (num_threads "
          + System.getProperty("ai.djl.pytorch.num_threads", "default") + ", num_interop_threads "
          + System.getProperty("ai.djl.pytorch.num_interop_threads", "default")
          + "); it is the CortexSDR engine's alternative engine, watched: no CortexSDR call may use it");
    } else {
      System.out.println("DJL PyTorch engine: not on the classpath (no PyTorch rows; CortexSDR has no alternative engine)");
    }
    if (a.containsKey("kernels")) {
      System.out.println(KernelModes.run(a.get("kernels").split(","), args));
      return;
    }
    boolean child = Boolean.parseBoolean(a.getOrDefault("child", "false"));
    withW8a8 = Boolean.parseBoolean(a.getOrDefault("w8a8", "false"));
    batchSize = Integer.parseInt(a.getOrDefault("batch", "1"));
    System.out.println("CortexSDR engine: kernels " + Kernels.get().name() + ", " + KernelThreads.threads()
        + " threads (set -Ddev.selfbyt.cortexsdr.num_threads to match --threads)");
    List<Fidelity> rows = new ArrayList<>();
    List<String> latency = new ArrayList<>();
    List<PyTorchBaseline.Agreement> agreements = new ArrayList<>();
    boolean withFidelity = Boolean.parseBoolean(a.getOrDefault("fidelity", "true"));
    boolean withProfile = Boolean.parseBoolean(a.getOrDefault("profile", "true"));
    for (RealModel m : models) {
      if (child) {
        System.out.println(KernelModes.rows(latencyTimes(m, presets, runs, threads, work, null), m));
        continue;
      }
      if (withFidelity) {
        rows.addAll(fidelity(m, presets, sentences, threads, work));
      }
      if (torchScripts.containsKey(m)) {
        agreements.add(PyTorchBaseline.agreement(m, torchScripts.get(m), sentences, threads, work));
      }
      if (runs > 0) {
        latency.add(latency(m, presets, runs, threads, work, torchScripts.get(m)));
        if (withProfile) {
          latency.add(profile(m, presets.get(0).id(), cai(m, presets.get(0), work), 30));
          if (withW8a8) {
            latency.add(profile(m, W8A8, caiW8a8(m, work), 30));
          }
        }
      }
    }
    if (child) {
      return;
    }
    System.out.println();
    if (!rows.isEmpty()) {
      System.out.println(markdown(rows, sentences));
    }
    if (!agreements.isEmpty()) {
      System.out.println(PyTorchBaseline.markdown(agreements));
    }
    latency.forEach(System.out::println);
  }

  /** The model's {@code .cai} for a preset, made once in {@code work}. */
  static Path cai(RealModel model, Preset p, Path work) throws Exception {
    Path dir = Files.createDirectories(work.resolve(model.name().toLowerCase(Locale.ROOT)));
    Path cai = dir.resolve(p.id() + ".cai");
    if (!Files.exists(cai)) {
      try (OnnxModelReader onnx = OnnxModelReader.open(model.onnx(dir))) {
        CortexSdr.compress(onnx, cai, CompressionOptions.builder().preset(p).build());
      }
    }
    return cai;
  }

  /** The row label of the W8A8 file ({@link #caiW8a8}). */
  public static final String W8A8 = "int8-fast (W8A8)";

  /**
   * The model's {@code --preset int8-fast} {@code .cai} (per-channel int8 MatMul weights that compute
   * with int8 activations, listed in the manifest's {@code int8Activations}; smoothing folded into the
   * stored graph), calibrated on text as {@link Int8FastFiles} makes it for the ONNX Runtime table.
   */
  static Path caiW8a8(RealModel model, Path work) throws Exception {
    return Int8FastFiles.textCalibrated(model, Files.createDirectories(work.resolve(model.name().toLowerCase(Locale.ROOT))));
  }

  /** A DJL model folder: the {@code .cai} and the tokenizer. */
  static Path folder(RealModel model, Preset p, Path work) throws Exception {
    return folder(model, work, p.id() + "-djl", cai(model, p, work), "model.cai");
  }

  /** A DJL model folder {@code name} beside the model's files: {@code file} as {@code fileName}, and the tokenizer. */
  public static Path folder(RealModel model, Path work, String name, Path file, String fileName) throws IOException {
    Path dir = work.resolve(model.name().toLowerCase(Locale.ROOT));
    Path f = Files.createDirectories(dir.resolve(name));
    Files.copy(file, f.resolve(fileName), StandardCopyOption.REPLACE_EXISTING);
    Files.copy(model.tokenizer(dir), f.resolve("tokenizer.json"), StandardCopyOption.REPLACE_EXISTING);
    return f;
  }

  /** The criteria a DJL user writes for a sentence encoder on this engine. */
  public static Criteria<String, float[]> criteria(RealModel model, Path folder) {
    return criteria(model, folder, "CortexSDR");
  }

  /** The same sentence-encoder criteria on the DJL engine named {@code engine}. */
  public static Criteria<String, float[]> criteria(RealModel model, Path folder, String engine) {
    return criteria(model, folder, engine, false);
  }

  /** The criteria; {@code padding}: batches padded to their longest sentence (for batchPredict). */
  static Criteria<String, float[]> criteria(RealModel model, Path folder, String engine, boolean padding) {
    return Criteria.builder()
        .setTypes(String.class, float[].class)
        .optModelPath(folder)
        .optEngine(engine)
        .optTranslatorFactory(new TextEmbeddingTranslatorFactory())
        .optArgument("includeTokenTypes", true)
        .optArgument("pooling", model.pooling() == RealModel.Pooling.CLS ? "cls" : "mean")
        .optArgument("maxLength", 128)
        .optArgument("truncation", true)
        .optArgument("padding", padding)
        .build();
  }

  public static List<Fidelity> fidelity(RealModel model, List<Preset> presets, int sentenceCount, int threads,
      Path work) throws Exception {
    Path dir = Files.createDirectories(work.resolve(model.name().toLowerCase(Locale.ROOT)));
    List<String> sentences = MobyDick.sentences(sentenceCount, 0);
    List<Encoding> enc = Embedder.encodeAll(model.tokenizer(dir), 128, sentences);
    float[][] fp32;
    try (Embedder e = new Embedder(model.onnx(dir), model.pooling(), threads)) {
      fp32 = e.embedAll(enc);
    }
    List<Fidelity> out = new ArrayList<>();
    Map<String, Path> files = new LinkedHashMap<>();
    for (Preset p : presets) {
      files.put(p.id(), cai(model, p, work));
    }
    if (withW8a8) {
      files.put(W8A8, caiW8a8(model, work)); // compared with its quantized export: the same int8 arithmetic in ORT
    }
    for (Map.Entry<String, Path> file : files.entrySet()) {
      String id = file.getKey();
      Path cai = file.getValue();
      Path decoded = dir.resolve(id.replace(' ', '-') + ".decoded.onnx");
      long fp32Weights = 0;
      try (CaiReader r = CaiReader.open(cai)) {
        if (!Files.exists(decoded)) {
          if (id.equals(W8A8)) {
            QuantizedOnnxExporter.export(r, decoded, 0); // DynamicQuantizeLinear + MatMulInteger, as the engine
          } else {
            OnnxExporter.exportDecoded(r, decoded);
          }
        }
        for (CaiEntry e : r.entries()) {
          fp32Weights += e.info().dtype().isFloating() ? 4 * e.info().numel() : e.info().byteSize();
        }
      }
      float[][] ort;
      try (Embedder e = new Embedder(decoded, model.pooling(), threads)) {
        ort = e.embedAll(enc);
      }
      long heapBefore = usedHeap();
      Path folder = folder(model, work, id.replace(' ', '-') + "-djl", cai, "model.cai");
      try (ZooModel<String, float[]> zoo = criteria(model, folder).loadModel();
          Predictor<String, float[]> pred = PyTorchBaseline.Watch.predictor(zoo)) {
        long heapAfter = usedHeap() - heapBefore;
        double[] vsDecoded = new double[sentences.size()];
        double[] vsFp32 = new double[sentences.size()];
        for (int i = 0; i < sentences.size(); i++) {
          float[] ours = pred.predict(sentences.get(i));
          vsDecoded[i] = Metrics.cosine(ours, ort[i]);
          vsFp32[i] = Metrics.cosine(ours, fp32[i]);
        }
        long resident = ((CaiModel) zoo.getWrappedModel()).residentWeightBytes();
        out.add(new Fidelity(model.displayName(), id, Files.size(cai), mean(vsDecoded), min(vsDecoded),
            mean(vsFp32), min(vsFp32), resident, fp32Weights, heapAfter));
      }
    }
    return out;
  }

  private static long usedHeap() {
    for (int i = 0; i < 3; i++) {
      System.gc();
    }
    return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
  }

  /** Median latency (ms) of ONNX Runtime fp32 and the engine per preset, batch 1, 128 tokens, in one run. */
  public static String latency(RealModel model, List<Preset> presets, int runs, int threads, Path work)
      throws Exception {
    return latency(model, presets, runs, threads, work, null);
  }

  /** Timed calls per runtime in one turn of the latency run. */
  static final int BLOCK = 5;
  /** Idle time before each turn, longer than any runtime's threads spin after a call. */
  static final int BLOCK_PAUSE_MS = 200;

  /**
   * Median latency (ms) of ONNX Runtime fp32, the engine per preset and, when {@code torchScript} is
   * not null, DJL's PyTorch engine on it, batch 1, 128 tokens, in one run.
   */
  public static String latency(RealModel model, List<Preset> presets, int runs, int threads, Path work,
      Path torchScript) throws Exception {
    Times t = latencyTimes(model, presets, runs, threads, work, torchScript);
    return t.markdown(model, threads);
  }

  /** Per runtime, the timed calls (ns) of one latency run, the tokens and the load average around it. */
  public record Times(Map<String, List<Long>> times, int tokens, double loadBefore, double loadAfter) {
    /** The median call of {@code runtime} in milliseconds. */
    public double median(String runtime) {
      return DjlEngineReport.median(times.get(runtime));
    }

    double fastest(String runtime) {
      return times.get(runtime).stream().mapToLong(Long::longValue).min().orElse(0) / 1e6;
    }

    /**
     * The median over turns of {@code runtime}'s median call in a turn over {@code anchor}'s in the
     * same turn. The runtimes take turns a few hundred milliseconds apart, so a stretch in which
     * the shared machine runs slow falls on both sides of each ratio; the ratio of the overall
     * medians (the other column) compares calls made at different times. NaN when the two have
     * no whole turn.
     */
    public double turnRatio(String runtime, String anchor) {
      List<Long> a = times.get(runtime);
      List<Long> b = times.get(anchor);
      List<Double> ratios = new ArrayList<>();
      for (int t = 0; (t + 1) * BLOCK <= Math.min(a.size(), b.size()); t++) {
        ratios.add(DjlEngineReport.median(a.subList(t * BLOCK, (t + 1) * BLOCK))
            / DjlEngineReport.median(b.subList(t * BLOCK, (t + 1) * BLOCK)));
      }
      if (ratios.isEmpty()) {
        return Double.NaN;
      }
      java.util.Collections.sort(ratios);
      return ratios.get(ratios.size() / 2);
    }

    /** The latency table of this run, with its conditions. */
    public String markdown(RealModel model, int threads) {
      double base = median(ORT_FP32);
      StringBuilder sb = new StringBuilder();
      sb.append(String.format(Locale.ROOT, "%n%s, batch %d, %d tokens%s, %d threads, median of %d calls each "
          + "(in turns of %d per runtime, each turn after a %d ms pause and one untimed call; \"per turn\": "
          + "the median over turns of the ratio of the two runtimes' medians in the same turn; "
          + "all rows: tokenizing, the model, pooling; DJL engines through Predictor.predict(String), "
          + "batchPredict(List) for batches); "
          + "machine load average %.1f before, %.1f after%n%n",
          model.displayName(), batchSize, tokens, batchSize > 1 ? " (the longest; padded to it)" : "", threads,
          times.get(ORT_FP32).size(), BLOCK,
          BLOCK_PAUSE_MS, loadBefore, loadAfter));
      boolean twin = times.containsKey(ORT_TWIN);
      sb.append("| runtime | median ms | fastest ms | median vs ONNX Runtime fp32 | per turn |"
          + (twin ? " vs int8 twin | per turn |" : "") + (batchSize > 1 ? " sentences/s |" : "")
          + "\n|---|---|---|---|---|" + (twin ? "---|---|" : "") + (batchSize > 1 ? "---|" : "") + "\n");
      for (String k : times.keySet()) {
        double ms = median(k);
        sb.append(String.format(Locale.ROOT, "| %s | %.2f | %.2f | %.2fx | %.2fx |", k, ms, fastest(k), ms / base,
            turnRatio(k, ORT_FP32)));
        if (twin) {
          sb.append(String.format(Locale.ROOT, " %.2fx | %.2fx |", ms / median(ORT_TWIN), turnRatio(k, ORT_TWIN)));
        }
        if (batchSize > 1) {
          sb.append(String.format(Locale.ROOT, " %.0f |", batchSize / (ms / 1000)));
        }
        sb.append('\n');
      }
      return sb.toString();
    }
  }

  /** The anchor's row name in {@link Times}. */
  public static final String ORT_FP32 = "ONNX Runtime fp32";
  /** The int8 twin's row name in {@link Times} (present with the W8A8 file, {@link #includeW8a8}). */
  public static final String ORT_TWIN = "ONNX Runtime int8 twin (its dynamic quantization)";

  /** One timed call of a runtime. */
  private interface Call {
    void run() throws Exception;
  }
  /** Whether the latency runs add the W8A8 file ({@code --w8a8 true}). */
  static boolean withW8a8;
  /**
   * Whether {@link #fidelity} and {@link #latencyTimes} add the {@code int8-fast} (W8A8) file, and the
   * latency run ONNX Runtime's int8 twin as its anchor ({@code --w8a8 true}).
   */
  public static void includeW8a8(boolean on) {
    withW8a8 = on;
  }

  /** Sentences per timed call ({@code --batch N}): 1 is one 128-token input, more are Moby-Dick sentences padded. */
  static int batchSize = 1;

  private static List<Encoding> encode(HuggingFaceTokenizer tok, List<String> texts) {
    List<Encoding> out = new ArrayList<>(texts.size());
    for (String t : texts) {
      out.add(tok.encode(t));
    }
    return out;
  }

  /** The timed calls behind {@link #latency}: the result record, for reports that plot it. */
  public static Times latencyTimes(RealModel model, List<Preset> presets, int runs, int threads, Path work,
      Path torchScript) throws Exception {
    Path dir = work.resolve(model.name().toLowerCase(Locale.ROOT));
    String text = String.join(" ", MobyDick.sentences(40, 500));
    List<String> batch = MobyDick.sentences(Math.max(1, batchSize), 240); // mixed lengths, padded to the longest
    Map<String, List<Long>> times = new LinkedHashMap<>();
    double loadBefore = Double.NaN;
    int tokens;
    List<ZooModel<String, float[]>> zoos = new ArrayList<>();
    List<Predictor<String, float[]>> preds = new ArrayList<>();
    List<Call> calls = new ArrayList<>();
    Embedder twin = null;
    try (HuggingFaceTokenizer tok = Embedder.tokenizer(model.tokenizer(dir), 128);
        Embedder ortFp32 = new Embedder(model.onnx(dir), model.pooling(), threads)) {
      Encoding input = tok.encode(text);
      tokens = batchSize > 1 ? batch.stream().mapToInt(x -> tok.encode(x).getIds().length).max().orElse(0)
          : input.getIds().length;
      times.put("ONNX Runtime fp32", new ArrayList<>());
      // tokenizing included, as in Predictor.predict(String)
      calls.add(batchSize > 1 ? () -> ortFp32.embedBatch(encode(tok, batch)) : () -> ortFp32.embed(tok.encode(text)));
      if (withW8a8) {
        // ONNX Runtime's own dynamically quantized int8 twin: the W8A8 file's latency anchor
        Embedder t = new Embedder(model.int8Twin(dir), model.pooling(), threads);
        twin = t;
        times.put(ORT_TWIN, new ArrayList<>());
        calls.add(batchSize > 1 ? () -> t.embedBatch(encode(tok, batch)) : () -> t.embed(tok.encode(text)));
      }
      List<String[]> variants = new ArrayList<>();
      for (Preset p : presets) {
        variants.add(new String[] {p.id(), folder(model, p, work).toString()});
      }
      if (withW8a8) {
        variants.add(new String[] {W8A8, folder(model, work, "int8-w8a8-djl", caiW8a8(model, work), "model.cai")
            .toString()});
      }
      for (String[] v : variants) {
        ZooModel<String, float[]> z = criteria(model, Path.of(v[1]), "CortexSDR", batchSize > 1).loadModel();
        zoos.add(z);
        Predictor<String, float[]> pr = z.newPredictor();
        preds.add(pr);
        calls.add(batchSize > 1 ? () -> pr.batchPredict(batch) : () -> pr.predict(text));
        times.put("CortexSDR engine, " + v[0] + " .cai", new ArrayList<>());
        // warm-up calls through a predictor that proves no CortexSDR work goes to PyTorch
        try (Predictor<String, float[]> watched = PyTorchBaseline.Watch.predictor(z)) {
          for (int w = 0; w < 5; w++) {
            watched.predict(text);
          }
        }
      }
      if (torchScript != null) {
        ZooModel<String, float[]> z = PyTorchBaseline.criteria(model, PyTorchBaseline.folder(model, torchScript, work))
            .loadModel();
        zoos.add(z);
        Predictor<String, float[]> pr = z.newPredictor();
        preds.add(pr);
        calls.add(() -> pr.predict(text));
        times.put(PyTorchBaseline.ROW, new ArrayList<>());
      }
      for (int w = 0; w < 5; w++) {
        for (Call call : calls) {
          call.run();
        }
      }
      List<String> keys = new ArrayList<>(times.keySet());
      loadBefore = ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage();
      // Blocks of calls per runtime, the runtimes taking turns block by block, so that machine noise
      // falls on all alike; each block starts after a pause and an untimed call, because every
      // runtime's worker threads keep spinning for a while after a call (ONNX Runtime's and
      // OpenMP's by design, the JVM's fork-join workers briefly) and would slow the next runtime's
      // first call.
      int rounds = Math.max(1, runs / BLOCK);
      for (int r = 0; r < rounds; r++) {
        for (int i = 0; i < calls.size(); i++) {
          Thread.sleep(BLOCK_PAUSE_MS);
          for (int c = 0; c <= Math.min(BLOCK, runs - r * BLOCK); c++) {
            long t = System.nanoTime();
            calls.get(i).run();
            if (c > 0) {
              times.get(keys.get(i)).add(System.nanoTime() - t);
            }
          }
        }
      }
    } finally {
      preds.forEach(Predictor::close);
      zoos.forEach(ZooModel::close);
      if (twin != null) {
        twin.close();
      }
    }
    double loadAfter = ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage();
    return new Times(times, tokens, loadBefore, loadAfter);
  }

  /** Where the engine's time goes: milliseconds per ONNX operator type, summed over the graph's nodes. */
  public static String profile(RealModel model, String label, Path cai, int runs) throws Exception {
    Path dir = cai.getParent();
    String text = String.join(" ", MobyDick.sentences(40, 500));
    Encoding e;
    try (HuggingFaceTokenizer tok = Embedder.tokenizer(model.tokenizer(dir), 128)) {
      e = tok.encode(text);
    }
    Map<String, long[]> byOp = new TreeMap<>();
    long total;
    try (CaiReader r = CaiReader.open(cai)) {
      ai.onnx.proto.OnnxMl.ModelProto stored = OnnxExporter.storedModel(r);
      java.util.Set<String> weights = new java.util.HashSet<>();
      stored.getGraph().getInitializerList().forEach(t -> weights.add(t.getName()));
      GraphExecutor exec = new GraphExecutor(stored, n -> CaiWeights.load(r, n));
      long[] shape = {1, e.getIds().length};
      Map<String, Value> in = new HashMap<>();
      in.put("input_ids", Value.ofLongs(DType.INT64, shape, e.getIds()));
      in.put("attention_mask", Value.ofLongs(DType.INT64, shape, e.getAttentionMask()));
      in.put("token_type_ids", Value.ofLongs(DType.INT64, shape, new long[shape[1] > 0 ? (int) shape[1] : 0]));
      for (int w = 0; w < 20; w++) {
        exec.run(in);
      }
      long t0 = System.nanoTime();
      for (int i = 0; i < runs; i++) {
        exec.run(in, (node, nanos) -> {
          String key = node.getOpType().equals("MatMul")
              ? (weights.contains(node.getInput(1)) ? "MatMul (x weight)" : "MatMul (x activation)")
              : node.getOpType();
          long[] acc = byOp.computeIfAbsent(key, k -> new long[2]);
          acc[0] += nanos;
          acc[1]++;
        });
      }
      total = System.nanoTime() - t0;
    }
    StringBuilder sb = new StringBuilder();
    sb.append(String.format(Locale.ROOT, "%nWhere the time goes: %s %s .cai, %d tokens, mean of %d graph runs "
        + "(%.2f ms per run)%n%n| ONNX op | nodes | ms per run | share |%n|---|---|---|---|%n", model.displayName(),
        label, e.getIds().length, runs, total / 1e6 / runs));
    byOp.entrySet().stream()
        .sorted((x, y) -> Long.compare(y.getValue()[0], x.getValue()[0]))
        .forEach(en -> sb.append(String.format(Locale.ROOT, "| %s | %d | %.2f | %.1f%% |%n", en.getKey(),
            en.getValue()[1] / runs, en.getValue()[0] / 1e6 / runs, 100.0 * en.getValue()[0] / total)));
    return sb.toString();
  }

  public static String markdown(List<Fidelity> rows, int sentences) {
    StringBuilder sb = new StringBuilder();
    sb.append(String.format(Locale.ROOT, "%d Moby-Dick sentences through Criteria...optEngine(\"CortexSDR\") "
        + "(DJL text-embedding translator, %s); cosine of pooled embeddings%n%n", sentences,
        PyTorchBaseline.present() ? "PyTorch on the classpath as the alternative engine, and " + PyTorchBaseline.Watch
            .watchedCalls() + " calls watched: none made an NDArray in PyTorch" : "no PyTorch"));
    sb.append("| model | .cai | file bytes | mean cos vs same .cai decoded in ORT | min | mean cos vs fp32 | min "
        + "| weights in memory | fp32 weights | ratio |\n|---|---|---|---|---|---|---|---|---|---|\n");
    for (Fidelity f : rows) {
      sb.append(String.format(Locale.ROOT, "| %s | %s | %,d | %.6f | %.6f | %.4f | %.4f | %,d | %,d | 1/%.2f |%n",
          f.model(), f.preset(), f.caiBytes(), f.meanCosVsDecoded(), f.minCosVsDecoded(), f.meanCosVsFp32(),
          f.minCosVsFp32(), f.residentWeightBytes(), f.fp32WeightBytes(),
          (double) f.fp32WeightBytes() / f.residentWeightBytes()));
    }
    return sb.toString();
  }

  private static double mean(double[] a) {
    return Arrays.stream(a).average().orElse(Double.NaN);
  }

  private static double min(double[] a) {
    return Arrays.stream(a).min().orElse(Double.NaN);
  }

  static double median(List<Long> v) {
    long[] a = v.stream().mapToLong(Long::longValue).toArray();
    Arrays.sort(a);
    return a[a.length / 2] / 1e6;
  }
}
