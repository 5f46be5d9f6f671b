package dev.selfbyt.cortexsdr.it.zoo;

import ai.djl.huggingface.translator.TextEmbeddingTranslatorFactory;
import ai.djl.inference.Predictor;
import ai.djl.repository.zoo.Criteria;
import ai.djl.repository.zoo.ZooModel;
import dev.selfbyt.cortexsdr.it.models.RealModel;
import dev.selfbyt.cortexsdr.zoo.CortexSdrModelZoo;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Time from {@code loadModel()} to the first embedding, as a user meets it: a model named in the
 * CortexSDR zoo (the project's jar repository on the class path; the file copied into a fresh DJL
 * cache and checked by sha256 on the way, engine {@code CortexSDR}) against DJL's OnnxRuntime engine
 * loading the fp32 {@code .onnx} from a folder, same translator and arguments. "Cold": each load in
 * a JVM of its own (engines, tokenizer and JIT all start from nothing), median of {@code --cold}
 * JVMs, the engines taking turns. "Warm": the same JVM loading again, median of {@code --warm}
 * turns. Plain {@code java -cp}, no flags beyond offline mode.
 *
 * <p>Usage: {@code java -cp integration-tests/target/benchmarks.jar:integration-tests/target/ort-versions/onnxruntime-engine-0.36.0.jar:integration-tests/target/zoo/cortexsdr-zoo-models-0.1.0-SNAPSHOT.jar
 * -Dai.djl.offline=true -Dcortexsdr.data=integration-tests/target/data dev.selfbyt.cortexsdr.it.zoo.ZooLoadBench
 * [--models minilm,bge] [--cold 3] [--warm 5] [--work DIR] [--int4 int4|int4-gptq]}.
 */
public final class ZooLoadBench {
  static final String SENTENCE = "Call me Ishmael. Some years ago, never mind how long precisely, having little or no "
      + "money in my purse, I thought I would sail about a little and see the watery part of the world.";
  static List<String> rows;

  private ZooLoadBench() {}

  public static void main(String[] args) throws Exception {
    Map<String, String> a = new LinkedHashMap<>();
    for (int i = 0; i + 1 < args.length; i += 2) {
      a.put(args[i].replaceFirst("^--", ""), args[i + 1]);
    }
    Path work = Files.createDirectories(Path.of(a.getOrDefault("work",
        System.getProperty("java.io.tmpdir") + "/cortexsdr-zoo-bench")));
    if (a.containsKey("child")) {
      System.out.println("RESULT " + once(a.get("child"), RealModel.parse(a.get("model")), work));
      return;
    }
    rows = List.of("CortexSDR zoo int8", "CortexSDR zoo " + a.getOrDefault("int4", "int4"), "OnnxRuntime fp32 folder");
    int cold = Integer.parseInt(a.getOrDefault("cold", "3"));
    int warm = Integer.parseInt(a.getOrDefault("warm", "5"));
    StringBuilder table = new StringBuilder("| model | load to first embedding | cold ms (median, own JVM) | vs ORT fp32 |"
        + " warm ms (median, same JVM) | vs ORT fp32 |\n|---|---|---|---|---|---|\n");
    for (String name : a.getOrDefault("models", "minilm,bge").split(",")) {
      RealModel m = RealModel.parse(name);
      Map<String, List<Double>> colds = new LinkedHashMap<>();
      for (int r = 0; r < cold; r++) {
        for (String row : rows) {
          colds.computeIfAbsent(row, k -> new ArrayList<>()).add(child(row, m, work));
        }
      }
      Map<String, List<Double>> warms = new LinkedHashMap<>();
      for (String row : rows) {
        once(row, m, work); // the engine, tokenizer and (for the zoo) the cache entry exist from here on
      }
      for (int r = 0; r < warm; r++) {
        for (String row : rows) {
          warms.computeIfAbsent(row, k -> new ArrayList<>()).add(once(row, m, work));
        }
      }
      double ortCold = median(colds.get(rows.get(2)));
      double ortWarm = median(warms.get(rows.get(2)));
      for (String row : rows) {
        double c = median(colds.get(row));
        double w = median(warms.get(row));
        table.append(String.format(Locale.ROOT, "| %s | %s | %.0f | %.2fx | %.0f | %.2fx |%n", m.displayName(), row, c,
            c / ortCold, w, w / ortWarm));
      }
    }
    System.out.println(table);
    System.out.printf(Locale.ROOT, "load average (1 min) at the end: %.2f on %d cores%n",
        ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage(), Runtime.getRuntime().availableProcessors());
  }

  /** One load and first embedding, in ms. */
  static double once(String row, RealModel m, Path work) throws Exception {
    Criteria<String, float[]> c = criteria(row, m, work);
    long t0 = System.nanoTime();
    try (ZooModel<String, float[]> model = c.loadModel(); Predictor<String, float[]> p = model.newPredictor()) {
      float[] e = p.predict(SENTENCE);
      double ms = (System.nanoTime() - t0) / 1e6;
      if (e.length != 384) {
        throw new IllegalStateException(row + ": embedding of " + e.length + " values");
      }
      return ms;
    }
  }

  static Criteria<String, float[]> criteria(String row, RealModel m, Path work) throws Exception {
    if (row.startsWith("CortexSDR zoo ")) {
      return Criteria.builder().setTypes(String.class, float[].class)
          .optModelUrls("djl://" + CortexSdrModelZoo.GROUP_ID + "/" + ProjectZoo.artifactId(m))
          .optFilter("quantization", row.substring("CortexSDR zoo ".length())).build();
    }
    Path dir = Files.createDirectories(work.resolve(ProjectZoo.artifactId(m)));
    Path folder = Files.createDirectories(dir.resolve("fp32"));
    if (!Files.exists(folder.resolve("model.onnx"))) {
      Files.copy(m.onnx(dir), folder.resolve("model.onnx"), StandardCopyOption.REPLACE_EXISTING);
      Files.copy(m.tokenizer(dir), folder.resolve("tokenizer.json"), StandardCopyOption.REPLACE_EXISTING);
    }
    return Criteria.builder().setTypes(String.class, float[].class).optModelPath(folder).optModelName("model")
        .optEngine("OnnxRuntime").optTranslatorFactory(new TextEmbeddingTranslatorFactory())
        .optArgument("pooling", m.pooling() == RealModel.Pooling.CLS ? "cls" : "mean")
        .optArgument("includeTokenTypes", true).optArgument("maxLength", 512).optArgument("truncation", true).build();
  }

  /** One load in a JVM of its own (a fresh DJL cache: the zoo copies and checks its file), in ms. */
  static double child(String row, RealModel m, Path work) throws Exception {
    Path cache = Files.createTempDirectory(work, "cache");
    List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-cp", System.getProperty("java.class.path"), "-Dai.djl.offline=true",
        "-DDJL_CACHE_DIR=" + cache, "-DENGINE_CACHE_DIR=" + ai.djl.util.Utils.getEngineCacheDir(),
        "-Dcortexsdr.data=" + System.getProperty("cortexsdr.data", "integration-tests/target/data"),
        ZooLoadBench.class.getName(), "--child", row, "--model", m.name(), "--work", work.toString()));
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    String result = null;
    StringBuilder log = new StringBuilder();
    try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
      for (String line; (line = r.readLine()) != null; ) {
        log.append(line).append('\n');
        if (line.startsWith("RESULT ")) {
          result = line.substring(7);
        }
      }
    }
    if (p.waitFor() != 0 || result == null) {
      throw new IllegalStateException(row + " " + m + ": the child JVM failed:\n" + log);
    }
    try (var s = Files.walk(cache)) {
      for (Path q : s.sorted(java.util.Comparator.reverseOrder()).toList()) {
        Files.delete(q);
      }
    }
    return Double.parseDouble(result);
  }

  static double median(List<Double> v) {
    double[] a = v.stream().mapToDouble(Double::doubleValue).toArray();
    Arrays.sort(a);
    return a.length % 2 == 1 ? a[a.length / 2] : (a[a.length / 2 - 1] + a[a.length / 2]) / 2;
  }
}
