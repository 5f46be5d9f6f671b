package dev.selfbyt.cortexsdr.it.bench;

import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import dev.selfbyt.cortexsdr.converters.onnx.OnnxModelReader;
import dev.selfbyt.cortexsdr.converters.onnx.OrtEnvironments;
import dev.selfbyt.cortexsdr.converters.onnx.OrtVersion;
import dev.selfbyt.cortexsdr.converters.onnx.QuantizedOnnxExporter;
import dev.selfbyt.cortexsdr.core.CompressionOptions;
import dev.selfbyt.cortexsdr.core.CortexSdr;
import dev.selfbyt.cortexsdr.core.Preset;
import dev.selfbyt.cortexsdr.core.calibrate.Metrics;
import dev.selfbyt.cortexsdr.core.format.CaiReader;
import dev.selfbyt.cortexsdr.it.models.Embedder;
import dev.selfbyt.cortexsdr.it.models.MobyDick;
import dev.selfbyt.cortexsdr.it.models.RealModel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Benchmark (a main): what an older target costs in a new ONNX Runtime. all-MiniLM-L6-v2 at int8
 * and int4, exported for 1.16 (the default: {@code DequantizeLinear + MatMul}, {@code Gather} then
 * dequantize), 1.20 (uint4 {@code GatherBlockQuantized}) and 1.23 (the newest forms), run in the
 * ONNX Runtime on the class path: batch 1, 128 tokens of Moby-Dick, {@link CaiOrtBench#options()}
 * (2 intra-op threads), sessions taking turns, median of the rounds; resident memory as {@link
 * CaiOrtBench} measures it (a fresh JVM per file).
 *
 * <pre>
 * java -cp integration-tests/target/benchmarks.jar dev.selfbyt.cortexsdr.it.bench.CaiOrtBench targets [work dir] [rounds]
 * </pre>
 */
public final class OrtTargetTable {
  private OrtTargetTable() {}

  public static void main(String[] args) throws Exception {
    Path dir = Path.of(args.length > 0 ? args[0] : "integration-tests/target/ort-target-bench");
    int rounds = args.length > 1 ? Integer.parseInt(args[1]) : 30;
    Files.createDirectories(dir);
    RealModel model = RealModel.MINILM;
    Path fp32 = model.onnx(dir);
    Map<String, Path> variants = new LinkedHashMap<>();
    for (Preset preset : List.of(Preset.INT8, Preset.INT4)) {
      String name = preset.name().toLowerCase(Locale.ROOT);
      Path cai = dir.resolve("minilm-" + name + ".cai");
      try (OnnxModelReader onnx = OnnxModelReader.open(fp32)) {
        CortexSdr.compress(onnx, cai, CompressionOptions.builder().preset(preset).threads(2).build());
      }
      for (String target : List.of("1.23", "1.20", "1.16")) {
        Path file = dir.resolve("minilm-" + name + "-for-" + target + ".onnx");
        try (CaiReader r = CaiReader.open(cai)) {
          QuantizedOnnxExporter.export(r, file, 0, OrtVersion.parse(target));
        }
        variants.put(name + ", --ort-version " + target, file);
      }
    }
    Encoding input;
    try (HuggingFaceTokenizer tok = Embedder.tokenizer(model.tokenizer(dir), 128)) {
      input = tok.encode(String.join(" ", MobyDick.sentences(40, 0)));
    }
    OrtEnvironment env = OrtEnvironments.get();
    Map<String, OrtSession> open = new LinkedHashMap<>();
    Map<String, List<Long>> times = new LinkedHashMap<>();
    Map<String, float[]> outputs = new LinkedHashMap<>();
    try {
      for (Map.Entry<String, Path> v : variants.entrySet()) {
        OrtSession s = env.createSession(v.getValue().toString(), CaiOrtBench.options());
        open.put(v.getKey(), s);
        times.put(v.getKey(), new ArrayList<>());
        for (int i = 0; i < 3; i++) {
          outputs.put(v.getKey(), CaiOrtBench.run(env, s, input));
        }
      }
      for (int r = 0; r < rounds; r++) {
        for (Map.Entry<String, OrtSession> e : open.entrySet()) {
          long t = System.nanoTime();
          CaiOrtBench.run(env, e.getValue(), input);
          times.get(e.getKey()).add(System.nanoTime() - t);
        }
      }
    } finally {
      for (OrtSession s : open.values()) {
        s.close();
      }
    }
    System.out.printf(Locale.ROOT, "all-MiniLM-L6-v2, batch 1, %d tokens, 2 intra-op threads, %d rounds, ONNX Runtime %s%n%n",
        input.getIds().length, rounds, env.getVersion());
    System.out.println("| file | bytes | median ms | vs the 1.23 file | cosine vs the 1.23 file | RSS after load MB | RSS after 1st run MB |");
    System.out.println("|---|---|---|---|---|---|---|");
    for (Map.Entry<String, Path> v : variants.entrySet()) {
      String newest = v.getKey().replaceAll("--ort-version .*", "--ort-version 1.23");
      double ms = CaiOrtBench.median(times.get(v.getKey()));
      long[] rss = CaiOrtBench.rssInFreshJvm(v.getKey(), v.getValue());
      System.out.printf(Locale.ROOT, "| %s | %,d | %.1f | %.2fx | %.7f | %.0f | %.0f |%n", v.getKey(), Files.size(v.getValue()),
          ms, ms / CaiOrtBench.median(times.get(newest)),
          Metrics.cosine(outputs.get(newest), outputs.get(v.getKey())), rss[1] / 1024.0, rss[2] / 1024.0);
    }
  }
}
