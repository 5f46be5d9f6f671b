package dev.selfbyt.cortexsdr.it.bench;

import ai.djl.huggingface.tokenizers.Encoding;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import dev.selfbyt.cortexsdr.converters.onnx.OnnxCalibrator;
import dev.selfbyt.cortexsdr.converters.onnx.OrtVersion;
import dev.selfbyt.cortexsdr.converters.onnx.OnnxModelReader;
import dev.selfbyt.cortexsdr.converters.onnx.OrtEnvironments;
import dev.selfbyt.cortexsdr.converters.onnx.QuantizedOnnxExporter;
import dev.selfbyt.cortexsdr.core.CompressionOptions;
import dev.selfbyt.cortexsdr.core.CortexSdr;
import dev.selfbyt.cortexsdr.core.Preset;
import dev.selfbyt.cortexsdr.core.format.CaiReader;
import dev.selfbyt.cortexsdr.it.models.Embedder;
import dev.selfbyt.cortexsdr.it.models.Int8FastFiles;
import dev.selfbyt.cortexsdr.it.models.MobyDick;
import dev.selfbyt.cortexsdr.it.models.RealModel;
import dev.selfbyt.cortexsdr.onnxops.CaiOrt;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The int8 table of issue 10 (a main, run by {@code CaiOrtBench int8}): for each model, fp32, ONNX
 * Runtime's int8 twin, and {@code .cai} files (int8, int8-fast calibrated as the CLI does by
 * default on seeded random inputs, int8-fast calibrated on Moby-Dick text, int4) exported with
 * {@code export-onnx --mode quantized}, and int8-fast opened with {@link CaiOrt}. Columns: bytes
 * and ratio to the twin; mean/min cosine of pooled embeddings vs fp32 on 200 Moby-Dick sentences,
 * run one at a time and in batches of 32 (padded); latency at batch 1 (128 tokens) and batch 32
 * (32 sentences of mixed length, padded to the longest), medians of sessions taking turns, as
 * ratios to the twin; sentences per second at batch 32. Plain session options: 2 intra-op
 * threads, no spinning (sessions take turns).
 */
final class Int8Table {
  private Int8Table() {}

  record Variant(String name, Path file, boolean caiOrt) {}

  public static void main(String[] args) throws Exception {
    Path dir = Path.of(args.length > 0 ? args[0] : "integration-tests/target/int8-table");
    int rounds = args.length > 1 ? Integer.parseInt(args[1]) : 20;
    String models = args.length > 2 ? args[2] : "minilm,bge";
    StringBuilder out = new StringBuilder();
    for (String m : models.split(",")) {
      out.append(table(RealModel.parse(m), Files.createDirectories(dir.resolve(m)), rounds)).append('\n');
    }
    System.out.println(out);
  }

  static String table(RealModel model, Path dir, int rounds) throws Exception {
    Path fp32 = model.onnx(dir);
    Path twin = model.int8Twin(dir);
    List<Encoding> eval = Embedder.encodeAll(model.tokenizer(dir), 128, MobyDick.sentences(200, 0));
    Encoding long128 = Embedder.encodeAll(model.tokenizer(dir), 128,
        List.of(String.join(" ", MobyDick.sentences(40, 200)))).get(0);
    List<Encoding> batch32 = Embedder.encodeAll(model.tokenizer(dir), 128, MobyDick.sentences(32, 240));

    List<Variant> variants = new ArrayList<>();
    variants.add(new Variant("fp32 original", fp32, false));
    variants.add(new Variant("ONNX Runtime int8 twin", twin, false));
    variants.add(new Variant(".cai int8 -> quantized .onnx", export(compress(fp32, dir, "int8", Preset.INT8, null), dir), false));
    Path fastDefault = compress(fp32, dir, "int8-fast", Preset.INT8_FAST, Int8FastFiles.randomInputs());
    variants.add(new Variant(".cai int8-fast (CLI default: random calibration) -> quantized .onnx", export(fastDefault, dir), false));
    Path fastText = Int8FastFiles.textCalibrated(model, dir);
    variants.add(new Variant(".cai int8-fast, calibrated on " + Int8FastFiles.CALIBRATION_SENTENCES + " sentences -> quantized .onnx", export(fastText, dir), false));
    variants.add(new Variant(".cai int8-fast, calibrated on " + Int8FastFiles.CALIBRATION_SENTENCES + " sentences, via CaiOrt", fastText, true));
    variants.add(new Variant(".cai int4 -> quantized .onnx", export(compress(fp32, dir, "int4", Preset.INT4, null), dir), false));

    OrtEnvironment env = OrtEnvironments.get();
    float[][] reference = null;
    Map<String, double[]> fidelity = new LinkedHashMap<>();
    Map<String, Embedder> open = new LinkedHashMap<>();
    Map<String, List<Long>> t1 = new LinkedHashMap<>();
    Map<String, List<Long>> t32 = new LinkedHashMap<>();
    try {
      for (Variant v : variants) {
        OrtSession s = v.caiOrt() ? CaiOrt.open(env, v.file(), CaiOrtBench.caiOptions().build()).session()
            : env.createSession(v.file().toString(), CaiOrtBench.options());
        Embedder e = new Embedder(s, model.pooling());
        open.put(v.name(), e);
        float[][] one = e.embedAll(eval);
        float[][] batched = new float[eval.size()][];
        for (int i = 0; i < eval.size(); i += 32) {
          float[][] b = e.embedBatch(eval.subList(i, Math.min(eval.size(), i + 32)));
          System.arraycopy(b, 0, batched, i, b.length);
        }
        if (reference == null) {
          reference = one;
        }
        fidelity.put(v.name(), new double[] {mean(one, reference), min(one, reference), mean(batched, reference),
            min(batched, reference)});
        t1.put(v.name(), new ArrayList<>());
        t32.put(v.name(), new ArrayList<>());
        for (int i = 0; i < 3; i++) {
          e.embed(long128);
          e.embedBatch(batch32);
        }
      }
      for (int r = 0; r < rounds; r++) {
        for (Map.Entry<String, Embedder> e : open.entrySet()) {
          long t = System.nanoTime();
          e.getValue().embed(long128);
          t1.get(e.getKey()).add(System.nanoTime() - t);
          t = System.nanoTime();
          e.getValue().embedBatch(batch32);
          t32.get(e.getKey()).add(System.nanoTime() - t);
        }
      }
    } finally {
      for (Embedder e : open.values()) {
        e.close();
      }
    }
    String twinName = variants.get(1).name();
    long twinBytes = Files.size(twin);
    double twin1 = CaiOrtBench.median(t1.get(twinName));
    double twin32 = CaiOrtBench.median(t32.get(twinName));
    StringBuilder sb = new StringBuilder();
    int longest = batch32.stream().mapToInt(x -> x.getIds().length).max().orElse(0);
    int shortest = batch32.stream().mapToInt(x -> x.getIds().length).min().orElse(0);
    sb.append(String.format(Locale.ROOT, "%s, ONNX Runtime %s, 2 intra-op threads, %d rounds; batch 1: %d tokens; "
        + "batch 32: sentences of %d to %d tokens padded to %d; cosine vs fp32 (batch 1) on 200 Moby-Dick sentences%n%n",
        model.displayName(), env.getVersion(), rounds, long128.getIds().length, shortest, longest, longest));
    sb.append("| variant | bytes | vs twin | mean / min cosine, batch 1 | mean / min cosine, batch 32 | ms, batch 1 "
        + "| vs twin | ms, batch 32 | vs twin | sentences/s, batch 32 |\n|---|---|---|---|---|---|---|---|---|---|\n");
    for (Variant v : variants) {
      long bytes = Files.size(v.file());
      double[] f = fidelity.get(v.name());
      double ms1 = CaiOrtBench.median(t1.get(v.name()));
      double ms32 = CaiOrtBench.median(t32.get(v.name()));
      sb.append(String.format(Locale.ROOT, "| %s | %,d | %.3fx | %.4f / %.4f | %.4f / %.4f | %.1f | %.2fx | %.1f | %.2fx | %.0f |%n",
          v.name(), bytes, (double) bytes / twinBytes, f[0], f[1], f[2], f[3], ms1, ms1 / twin1, ms32, ms32 / twin32,
          32 / (ms32 / 1000)));
    }
    return sb.toString();
  }

  private static Path compress(Path fp32, Path dir, String tag, Preset preset,
      List<Map<String, OnnxCalibrator.Input>> calibration) throws Exception {
    Path cai = dir.resolve(tag + ".cai");
    if (calibration != null) {
      Int8FastFiles.compress(fp32, cai, calibration);
      return cai;
    }
    try (OnnxModelReader onnx = OnnxModelReader.open(fp32)) {
      CortexSdr.compress(onnx, cai, CompressionOptions.builder().preset(preset).threads(2).build());
    }
    return cai;
  }

  private static Path export(Path cai, Path dir) throws Exception {
    Path out = dir.resolve(cai.getFileName().toString().replace(".cai", "-quantized.onnx"));
    try (CaiReader r = CaiReader.open(cai)) {
      // for the runtime this JVM runs, as `export-onnx --ort-version` would (the int8 file's 8-bit
      // MatMulNBits needs 1.23; run with an older onnxruntime jar first on the class path)
      QuantizedOnnxExporter.export(r, out, 0, OrtVersion.ofRuntime(OrtEnvironments.get().getVersion()));
    }
    return out;
  }


  private static double mean(float[][] a, float[][] ref) {
    double s = 0;
    for (int i = 0; i < a.length; i++) {
      s += Arrays.equals(a[i], ref[i]) ? 1 : Embedder.cosine(a[i], ref[i]);
    }
    return s / a.length;
  }

  private static double min(float[][] a, float[][] ref) {
    double m = 1;
    for (int i = 0; i < a.length; i++) {
      m = Math.min(m, Arrays.equals(a[i], ref[i]) ? 1 : Embedder.cosine(a[i], ref[i]));
    }
    return m;
  }
}
