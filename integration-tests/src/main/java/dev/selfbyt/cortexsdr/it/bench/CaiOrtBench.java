package dev.selfbyt.cortexsdr.it.bench;

import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import dev.selfbyt.cortexsdr.converters.onnx.OnnxCalibrator;
import dev.selfbyt.cortexsdr.converters.onnx.OnnxModelReader;
import dev.selfbyt.cortexsdr.converters.onnx.OrtEnvironments;
import dev.selfbyt.cortexsdr.converters.onnx.QuantizedOnnxExporter;
import dev.selfbyt.cortexsdr.core.CompressionOptions;
import dev.selfbyt.cortexsdr.core.CortexSdr;
import dev.selfbyt.cortexsdr.core.Preset;
import dev.selfbyt.cortexsdr.core.calibrate.Metrics;
import dev.selfbyt.cortexsdr.core.format.CaiReader;
import dev.selfbyt.cortexsdr.it.models.Embedder;
import dev.selfbyt.cortexsdr.it.models.MobyDick;
import dev.selfbyt.cortexsdr.it.models.RealModel;
import dev.selfbyt.cortexsdr.onnxops.CaiOrt;
import dev.selfbyt.cortexsdr.onnxops.SdrMatMulRewriter;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Benchmark (a main): all-MiniLM-L6-v2 opened from a {@code .cai} with {@link CaiOrt} against
 * the fp32 original and ONNX Runtime's int8 twin, in one run. Latency: batch 1, 128 tokens of
 * Moby-Dick, 2 intra-op threads, sessions taking turns (median of the rounds). Memory: each
 * variant loaded in a fresh JVM, resident set size ({@code VmRSS} of /proc/self/status) before
 * and after creating the session (each after a full GC and a pause for G1 to return freed heap)
 * and after one inference.
 *
 * <pre>
 * java -cp integration-tests/target/benchmarks.jar dev.selfbyt.cortexsdr.it.bench.CaiOrtBench [work dir] [rounds]
 * </pre>
 *
 * <p>With {@code int8 [work dir] [rounds] [models]}: the int8 table ({@link Int8Table}): size,
 * fidelity and latency at batch 1 and batch 32 of fp32, the int8 twin, the int8, int8-fast and
 * int4 {@code .cai} files, for all-MiniLM-L6-v2 and bge-small. With {@code denormal [work dir]
 * [rounds]}: M-LSD fp32 against its int8 {@code .cai}, with and without flushing denormals
 * ({@link DenormalBench}). With {@code targets [work dir] [rounds]}: the int8 and int4 exports
 * for ONNX Runtime 1.16, 1.20 and 1.23 side by side ({@link OrtTargetTable}).
 */
public final class CaiOrtBench {
  private CaiOrtBench() {}

  public static void main(String[] args) throws Exception {
    if (args.length > 0 && args[0].equals("denormal")) {
      DenormalBench.main(java.util.Arrays.copyOfRange(args, 1, args.length));
      return;
    }
    if (args.length > 0 && args[0].equals("targets")) {
      OrtTargetTable.main(java.util.Arrays.copyOfRange(args, 1, args.length));
      return;
    }
    if (args.length > 0 && args[0].equals("int8")) {
      Int8Table.main(java.util.Arrays.copyOfRange(args, 1, args.length));
      return;
    }
    if (args.length > 0 && args[0].equals("rss")) {
      rss(args[1], Path.of(args[2]));
      return;
    }
    Path dir = Path.of(args.length > 0 ? args[0] : "integration-tests/target/caiort-bench");
    int rounds = args.length > 1 ? Integer.parseInt(args[1]) : 40;
    Files.createDirectories(dir);
    RealModel model = RealModel.MINILM;
    Path fp32 = model.onnx(dir);
    Path int8 = model.int8Twin(dir);
    Path int4 = dir.resolve("minilm-int4.cai");
    Path int4File = dir.resolve("minilm-int4.quantized.onnx");
    Path sdr = dir.resolve("minilm-sdr90-int8.cai");
    try (OnnxModelReader onnx = OnnxModelReader.open(fp32)) {
      CortexSdr.compress(onnx, int4, CompressionOptions.builder().preset(Preset.INT4).threads(2).build());
    }
    try (OnnxModelReader onnx = OnnxModelReader.open(fp32)) {
      CortexSdr.compress(onnx, sdr, CompressionOptions.builder().preset(Preset.SDR).sparsity(0.9).bits(8)
          .threads(2).build());
    }
    try (CaiReader r = CaiReader.open(int4)) {
      QuantizedOnnxExporter.export(r, int4File, 0);
    }
    Encoding input;
    try (HuggingFaceTokenizer tok = Embedder.tokenizer(model.tokenizer(dir), 128)) {
      input = tok.encode(String.join(" ", MobyDick.sentences(40, 0)));
    }
    Map<String, Path> variants = new LinkedHashMap<>();
    variants.put("fp32 original .onnx", fp32);
    variants.put("ORT int8 twin (-q) .onnx", int8);
    variants.put(".cai int4 via CaiOrt", int4);
    variants.put(".cai int4 quantized export .onnx", int4File);
    variants.put(".cai int4 via CaiOrt, accuracy_level 4", int4);
    variants.put(".cai SDR 90% int8 via CaiOrt (SdrMatMul)", sdr);

    OrtEnvironment env = OrtEnvironments.get();
    Map<String, OrtSession> open = new LinkedHashMap<>();
    Map<String, List<Long>> times = new LinkedHashMap<>();
    Map<String, float[]> outputs = new LinkedHashMap<>();
    try {
      for (Map.Entry<String, Path> v : variants.entrySet()) {
        OrtSession.SessionOptions o = options();
        OrtSession s = open(env, v.getKey(), v.getValue(), o);
        open.put(v.getKey(), s);
        times.put(v.getKey(), new ArrayList<>());
        for (int i = 0; i < 5; i++) {
          outputs.put(v.getKey(), run(env, s, input));
        }
      }
      for (int r = 0; r < rounds; r++) {
        for (Map.Entry<String, OrtSession> e : open.entrySet()) {
          long t = System.nanoTime();
          run(env, e.getValue(), input);
          times.get(e.getKey()).add(System.nanoTime() - t);
        }
      }
    } finally {
      for (OrtSession s : open.values()) {
        s.close();
      }
    }
    float[] ref = outputs.get("fp32 original .onnx");
    double fp32Ms = median(times.get("fp32 original .onnx"));
    System.out.printf(Locale.ROOT, "all-MiniLM-L6-v2, batch 1, %d tokens, 2 intra-op threads, %d rounds, ONNX Runtime %s%n%n",
        input.getIds().length, rounds, env.getVersion());
    System.out.println("| variant | file MB | median ms | vs fp32 | cosine of mean-pooled output vs fp32 | RSS after load MB | RSS growth by load MB | RSS after 1st run MB |");
    System.out.println("|---|---|---|---|---|---|---|---|");
    for (Map.Entry<String, Path> v : variants.entrySet()) {
      double ms = median(times.get(v.getKey()));
      long[] rss = rssInFreshJvm(v.getKey(), v.getValue());
      System.out.printf(Locale.ROOT, "| %s | %.1f | %.2f | %.2fx | %.5f | %.1f | %.1f | %.1f |%n", v.getKey(),
          Files.size(v.getValue()) / 1e6, ms, fp32Ms / ms, Metrics.cosine(pool(ref, 384), pool(outputs.get(v.getKey()), 384)),
          rss[1] / 1024.0, (rss[1] - rss[0]) / 1024.0, rss[2] / 1024.0);
    }
    float[] a = outputs.get(".cai int4 via CaiOrt");
    float[] b = outputs.get(".cai int4 quantized export .onnx");
    System.out.printf(Locale.ROOT, "%n.cai int4 via CaiOrt vs its quantized export file: outputs %s%n",
        Arrays.equals(a, b) ? "bit-identical" : "DIFFER");
  }

  static OrtSession open(OrtEnvironment env, String variant, Path model, OrtSession.SessionOptions o)
      throws Exception {
    if (!model.toString().endsWith(".cai")) {
      return env.createSession(model.toString(), o);
    }
    // the session alone: CaiOrtSession's buffers go once it is closed and unreachable
    return CaiOrt.open(env, model, caiOptions().sdr(SdrMatMulRewriter.withMinSparsity(0.75))
        .accuracyLevel(variant.contains("accuracy_level 4") ? 4 : 0).build()).session();
  }

  /** {@link #options()} for {@link CaiOrt#open}. */
  static dev.selfbyt.cortexsdr.onnxops.CaiOrtOptions.Builder caiOptions() {
    return dev.selfbyt.cortexsdr.onnxops.CaiOrtOptions.builder().intraOpThreads(2).interOpThreads(1)
        .configEntry("session.intra_op.allow_spinning", "0");
  }

  static OrtSession.SessionOptions options() throws Exception {
    OrtSession.SessionOptions o = new OrtSession.SessionOptions();
    o.setIntraOpNumThreads(2);
    o.setInterOpNumThreads(1);
    // sessions take turns: an idle pool must not spin on the cores the next one needs
    o.addConfigEntry("session.intra_op.allow_spinning", "0");
    return o;
  }

  static float[] run(OrtEnvironment env, OrtSession s, Encoding e) throws Exception {
    return OnnxCalibrator.runFirstOutput(env, s, Embedder.input(e));
  }

  static float[] pool(float[] hidden, int d) {
    int n = hidden.length / d;
    float[] out = new float[d];
    for (int t = 0; t < n; t++) {
      for (int j = 0; j < d; j++) {
        out[j] += hidden[t * d + j] / n;
      }
    }
    return out;
  }

  static double median(List<Long> ns) {
    long[] a = ns.stream().mapToLong(Long::longValue).toArray();
    Arrays.sort(a);
    return a[a.length / 2] / 1e6;
  }

  /** {before, after load, after first run} in KiB, measured by a fresh JVM. */
  static long[] rssInFreshJvm(String variant, Path model) throws Exception {
    Process p = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-Xmx1g", "-cp", System.getProperty("java.class.path"), CaiOrtBench.class.getName(), "rss", variant,
        model.toString()).redirectErrorStream(true).start();
    String last = null;
    try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
      for (String line; (line = r.readLine()) != null; ) {
        if (line.startsWith("RSS ")) {
          last = line;
        }
      }
    }
    if (p.waitFor() != 0 || last == null) {
      throw new IllegalStateException("RSS measurement of " + variant + " failed (exit " + p.exitValue() + ")");
    }
    String[] f = last.split(" ");
    return new long[] {Long.parseLong(f[1]), Long.parseLong(f[2]), Long.parseLong(f[3])};
  }

  /** Child side: prints {@code RSS before afterLoad afterRun} in KiB. */
  static void rss(String variant, Path model) throws Exception {
    OrtEnvironment env = OrtEnvironments.get();
    Encoding e;
    try (HuggingFaceTokenizer tok = Embedder.tokenizer(RealModel.MINILM.tokenizer(model.getParent()), 128)) {
      e = tok.encode(String.join(" ", MobyDick.sentences(40, 0)));
    }
    // the libraries every variant's loading path uses are loaded before "before" (ONNX Runtime
    // by getEnvironment above; protobuf and zstd, which CaiOrt uses, here), so the growth is the model
    ai.onnx.proto.OnnxMl.ModelProto.getDefaultInstance();
    com.github.luben.zstd.Zstd.compress(new byte[64]);
    settle();
    long before = vmRssKb();
    OrtSession.SessionOptions o = options();
    OrtSession s = open(env, variant, model, o);
    settle();
    long afterLoad = vmRssKb();
    run(env, s, e);
    long afterRun = vmRssKb();
    System.out.println("RSS " + before + " " + afterLoad + " " + afterRun + " heap-committed-kb "
        + Runtime.getRuntime().totalMemory() / 1024 + " heap-used-kb "
        + (Runtime.getRuntime().totalMemory() - Runtime.getRuntime().freeMemory()) / 1024);
    s.close();
  }

  /** A full collection, then time for G1 to give freed heap back to the system, then another. */
  static void settle() throws InterruptedException {
    System.gc();
    Thread.sleep(1500);
    System.gc();
  }

  static long vmRssKb() throws Exception {
    for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
      if (line.startsWith("VmRSS:")) {
        return Long.parseLong(line.replaceAll("[^0-9]", ""));
      }
    }
    throw new IllegalStateException("no VmRSS in /proc/self/status");
  }
}
