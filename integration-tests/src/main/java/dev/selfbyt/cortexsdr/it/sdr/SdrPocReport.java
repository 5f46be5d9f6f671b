package dev.selfbyt.cortexsdr.it.sdr;

import ai.djl.inference.Predictor;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.repository.zoo.Criteria;
import ai.djl.repository.zoo.ZooModel;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import dev.selfbyt.cortexsdr.converters.onnx.OnnxModelReader;
import dev.selfbyt.cortexsdr.converters.onnx.OrtEnvironments;
import dev.selfbyt.cortexsdr.core.CompressionOptions;
import dev.selfbyt.cortexsdr.core.CortexSdr;
import dev.selfbyt.cortexsdr.core.Preset;
import dev.selfbyt.cortexsdr.it.models.FashionMnistImages;
import dev.selfbyt.cortexsdr.onnxops.CaiOrt;
import dev.selfbyt.cortexsdr.onnxops.CaiOrtOptions;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The SDR proof of concept's bench main: Fashion-MNIST MLPs trained and pruned in Java ({@link
 * SparseTrainer}, started in a child JVM with DJL's PyTorch engine unless the trained files are
 * already in the work folder), compressed as the command line does ({@code compress --preset sdr
 * --sparsity S [--bits 8]}; the dense network at the default {@code int8} and {@code lossless}),
 * then for every file: size and ratio against the fp32 ONNX file, accuracy on the 10,000 test images
 * on ONNX Runtime ({@link CaiOrt}, defaults: {@code SdrMatMul} for SDR weights) and on the DJL engine
 * {@code CortexSDR}, and median latency at batch 1 and 64 against the dense fp32 network on the same
 * runtime (ONNX Runtime on the fp32 {@code .onnx}; the DJL engine on the lossless {@code .cai}), all
 * in one run with the models taking turns. Prints one markdown table.
 *
 * <p>Usage: {@code SdrPocReport [--work DIR] [--quick] [--retrain] [--runs N] [--threads N] [--data
 * DIR] [--arch mlp,cnn] [--plots DIR]}; {@code --quick} trains one epoch per stage and times fewer
 * runs (CI); {@code --plots} writes the PNG figures of {@link SdrPocPlots} there.
 */
public final class SdrPocReport {
  private static final int[] BATCHES = {1, 64};

  /**
   * One compressed or original file, measured on both runtimes.
   *
   * @param name the row's label
   * @param file the {@code .onnx} or {@code .cai}
   * @param sparsity the fraction of weights pruned (0 for the dense network)
   * @param trainedAccuracy PyTorch's test accuracy of the same network
   * @param imageShape the input shape for one image
   */
  public record Variant(String name, Path file, double sparsity, double trainedAccuracy, long[] imageShape) {
    /** The input shape for {@code n} images. */
    public long[] shape(int n) {
      long[] s = imageShape.clone();
      s[0] = n;
      return s;
    }
  }

  /**
   * Measured figures of one variant.
   *
   * @param v the variant
   * @param bytes its file size
   * @param ratio the fp32 ONNX file's size over this one's
   * @param ortAccuracy test accuracy on ONNX Runtime
   * @param djlAccuracy test accuracy on the DJL engine
   * @param latencyMs median milliseconds by runtime and batch ({@code "ort b1"}, {@code "djl b64"}, ...)
   */
  public record Row(Variant v, long bytes, double ratio, double ortAccuracy, double djlAccuracy,
      Map<String, Double> latencyMs) {}

  private SdrPocReport() {}

  /** Runs the report; see the class comment. */
  public static void main(String[] args) throws Exception {
    Path work = Path.of("target/sdr-poc");
    Path data = FashionMnistImages.DEFAULT_DIR;
    boolean quick = false;
    boolean retrain = false;
    List<String> archs = List.of("mlp", "cnn");
    Path plots = null;
    int runs = 0;
    int threads = 2;
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--work" -> work = Path.of(args[++i]);
        case "--data" -> data = Path.of(args[++i]);
        case "--quick" -> quick = true;
        case "--retrain" -> retrain = true;
        case "--runs" -> runs = Integer.parseInt(args[++i]);
        case "--threads" -> threads = Integer.parseInt(args[++i]);
        case "--arch" -> archs = List.of(args[++i].split(","));
        case "--plots" -> plots = Path.of(args[++i]);
        default -> throw new IllegalArgumentException("unknown argument " + args[i]);
      }
    }
    if (runs == 0) {
      runs = quick ? 20 : 200;
    }
    StringBuilder out = new StringBuilder();
    Map<String, List<Row>> byArch = new LinkedHashMap<>();
    for (String arch : archs) {
      List<Row> rows = run(work, data, arch, quick, retrain, runs, threads);
      byArch.put(arch, rows);
      out.append(table(arch, rows, runs, threads));
      System.out.print(table(arch, rows, runs, threads)); // as each finishes
    }
    System.out.print(out); // all together at the end
    if (plots != null) {
      String when = String.format(Locale.ROOT, "%tF, load %.1f", new java.util.Date(),
          ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage());
      for (Path p : SdrPocPlots.write(byArch, plots, when)) {
        System.out.println("wrote " + p);
      }
    }
  }

  /** Trains when needed, compresses, measures; the rows in table order. */
  public static List<Row> run(Path work, Path data, String arch, boolean quick, boolean retrain, int runs,
      int threads) throws Exception {
    Path trained = work.resolve(quick ? "trained-quick" : "trained").resolve(arch);
    if (retrain || !Files.isRegularFile(trained.resolve("train.tsv"))
        || Files.readAllLines(trained.resolve("train.tsv")).size() < 4) {
      train(trained, data, arch, quick);
    }
    long[] shape = arch.equals("cnn") ? new long[] {1, 1, 28, 28} : new long[] {1, FashionMnistImages.PIXELS};
    List<Variant> variants = compress(trained, work.resolve(quick ? "cai-quick" : "cai").resolve(arch), shape);
    FashionMnistImages test = FashionMnistImages.test(data);
    long fp32 = Files.size(variants.get(0).file());
    Map<String, Double> ortAcc = new LinkedHashMap<>();
    Map<String, Double> djlAcc = new LinkedHashMap<>();
    Map<String, Map<String, Double>> lat = new LinkedHashMap<>();
    try (Runtimes rt = new Runtimes(variants, threads)) {
      for (Variant v : variants) {
        ortAcc.put(v.name(), rt.ort.containsKey(v.name()) ? accuracy(rt.ort.get(v.name()), test) : Double.NaN);
        djlAcc.put(v.name(), rt.djl.containsKey(v.name()) ? accuracy(rt.djl.get(v.name()), test) : Double.NaN);
        lat.put(v.name(), new LinkedHashMap<>());
      }
      for (int b : BATCHES) {
        rt.latency(test.batch(null, 0, b), b, runs, lat);
      }
    }
    List<Row> rows = new ArrayList<>();
    for (Variant v : variants) {
      long bytes = Files.size(v.file());
      rows.add(new Row(v, bytes, (double) fp32 / bytes, ortAcc.get(v.name()), djlAcc.get(v.name()),
          lat.get(v.name())));
    }
    return rows;
  }

  private static void train(Path out, Path data, String arch, boolean quick) throws IOException,
      InterruptedException {
    Path lib = pytorchLib();
    String cp = System.getProperty("java.class.path") + java.io.File.pathSeparator + lib.toAbsolutePath() + "/*";
    List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-Dai.djl.offline=true", "-cp", cp, SparseTrainer.class.getName(), out.toString(), "--arch", arch,
        "--data", data.toString()));
    if (quick) {
      cmd.add("--quick");
    }
    System.err.println("sdr-poc: training in a child JVM with DJL's PyTorch engine (" + lib + ")");
    ProcessBuilder pb = new ProcessBuilder(cmd).inheritIO();
    // PyTorch's OpenMP threads spin while they wait: on a shared machine that starves everyone
    pb.environment().putIfAbsent("OMP_WAIT_POLICY", "PASSIVE");
    Process p = pb.start();
    if (p.waitFor() != 0) {
      throw new IOException("training failed (exit " + p.exitValue() + "): " + String.join(" ", cmd));
    }
  }

  /** {@code target/pytorch-lib} of integration-tests, from the module or the project folder. */
  static Path pytorchLib() throws IOException {
    for (String c : List.of(System.getProperty("sdrpoc.pytorchLib", ""), "target/pytorch-lib",
        "integration-tests/target/pytorch-lib")) {
      if (!c.isEmpty() && Files.isDirectory(Path.of(c))) {
        return Path.of(c);
      }
    }
    throw new IOException("DJL's PyTorch engine jars not found in target/pytorch-lib: build integration-tests "
        + "(mvn -pl integration-tests -am package -DskipTests) or pass -Dsdrpoc.pytorchLib=DIR");
  }

  /** The dense file (fp32, lossless, int8) and each pruned file at sdr 4-bit and 8-bit values. */
  private static List<Variant> compress(Path trained, Path dir, long[] shape) throws IOException {
    Files.createDirectories(dir);
    List<Variant> out = new ArrayList<>();
    for (String line : Files.readAllLines(trained.resolve("train.tsv"))) {
      String[] f = line.split("\t");
      Path onnx = trained.resolve(f[0]);
      double s = Double.parseDouble(f[1]);
      double acc = Double.parseDouble(f[2]);
      String base = f[0].replace(".onnx", "");
      if (s == 0) {
        out.add(new Variant("dense fp32 .onnx", onnx, 0, acc, shape));
        out.add(new Variant("dense lossless .cai", cai(onnx, dir.resolve(base + "-lossless.cai"),
            CompressionOptions.builder().preset(Preset.LOSSLESS)), 0, acc, shape));
        out.add(new Variant("dense int8 .cai", cai(onnx, dir.resolve(base + "-int8.cai"),
            CompressionOptions.builder().preset(Preset.INT8)), 0, acc, shape));
      } else {
        String pct = String.format(Locale.ROOT, "%.0f%%", s * 100);
        out.add(new Variant("sdr " + pct + " 4-bit .cai", cai(onnx, dir.resolve(base + "-sdr4.cai"),
            CompressionOptions.builder().preset(Preset.SDR).sparsity(s)), s, acc, shape));
        out.add(new Variant("sdr " + pct + " 8-bit .cai", cai(onnx, dir.resolve(base + "-sdr8.cai"),
            CompressionOptions.builder().preset(Preset.SDR).sparsity(s).bits(8)), s, acc, shape));
      }
    }
    return out;
  }

  private static Path cai(Path onnx, Path cai, CompressionOptions.Builder options) throws IOException {
    try (OnnxModelReader r = OnnxModelReader.open(onnx)) {
      CortexSdr.compress(r, cai, options.build());
    }
    return cai;
  }

  private static double accuracy(Runner r, FashionMnistImages test) throws Exception {
    int correct = 0;
    int step = 500;
    for (int b = 0; b < test.size(); b += step) {
      int e = Math.min(test.size(), b + step);
      float[] logits = r.run(test.batch(null, b, e), e - b);
      for (int i = 0; i < e - b; i++) {
        int best = 0;
        for (int c = 1; c < FashionMnistImages.CLASSES; c++) {
          if (logits[i * FashionMnistImages.CLASSES + c] > logits[i * FashionMnistImages.CLASSES + best]) {
            best = c;
          }
        }
        correct += best == test.labels()[b + i] ? 1 : 0;
      }
    }
    return (double) correct / test.size();
  }

  /** Runs a batch of images, returns the logits row-major [n, 10]. */
  interface Runner {
    float[] run(float[] images, int n) throws Exception;
  }

  /** Every variant opened on ONNX Runtime and on the DJL engine. */
  private static final class Runtimes implements AutoCloseable {
    final Map<String, Runner> ort = new LinkedHashMap<>();
    final Map<String, Runner> djl = new LinkedHashMap<>();
    private final List<AutoCloseable> open = new ArrayList<>();
    private final OrtEnvironment env;

    Runtimes(List<Variant> variants, int threads) throws Exception {
      ai.djl.engine.Engine.getEngine("CortexSDR"); // DJL's engines first, then ONNX Runtime's environment
      env = OrtEnvironments.get();
      for (Variant v : variants) {
        String file = v.file().toString();
        OrtSession s;
        if (file.endsWith(".cai")) {
          var cs = CaiOrt.open(env, v.file(), CaiOrtOptions.builder().intraOpThreads(threads).interOpThreads(1)
              .configEntry("session.intra_op.allow_spinning", "0").build());
          open.add(cs);
          s = cs.session();
        } else {
          OrtSession.SessionOptions o = new OrtSession.SessionOptions();
          o.setIntraOpNumThreads(threads);
          o.setInterOpNumThreads(1);
          o.addConfigEntry("session.intra_op.allow_spinning", "0"); // the models take turns
          s = env.createSession(file, o);
          open.add(s);
        }
        OrtSession session = s;
        String input = session.getInputNames().iterator().next();
        ort.put(v.name(), (x, n) -> {
          try (OnnxTensor t = OnnxTensor.createTensor(env, FloatBuffer.wrap(x), v.shape(n));
              OrtSession.Result r = session.run(Map.of(input, t))) {
            return copy((OnnxTensor) r.get(0));
          }
        });
        if (file.endsWith(".cai")) {
          Criteria<NDList, NDList> c = Criteria.builder().setTypes(NDList.class, NDList.class).optModelPath(v.file())
              .optEngine("CortexSDR").optOption("numThreads", Integer.toString(threads)).build();
          ZooModel<NDList, NDList> m = c.loadModel();
          Predictor<NDList, NDList> p = m.newPredictor();
          open.add(m);
          open.add(p);
          djl.put(v.name(), (x, n) -> {
            try (NDManager nd = m.getNDManager().newSubManager()) {
              return p.predict(new NDList(nd.create(x, new Shape(v.shape(n))))).get(0).toFloatArray();
            }
          });
        }
      }
      // the DJL engine's fp32 baseline is the lossless file: same weights, its dense kernels
      if (djl.containsKey("dense lossless .cai")) {
        djl.put("dense fp32 .onnx", djl.get("dense lossless .cai"));
      }
    }

    private static float[] copy(OnnxTensor t) {
      FloatBuffer b = t.getFloatBuffer();
      float[] a = new float[b.remaining()];
      b.get(a);
      return a;
    }

    /** Median latency of every runner at batch {@code n}; the runners take turns, one call each per round. */
    void latency(float[] x, int n, int runs, Map<String, Map<String, Double>> out) throws Exception {
      for (String rtName : List.of("ort", "djl")) {
        Map<String, Runner> rs = rtName.equals("ort") ? ort : djl;
        Map<String, long[]> times = new LinkedHashMap<>();
        for (Map.Entry<String, Runner> r : rs.entrySet()) {
          for (int w = 0; w < 10; w++) {
            r.getValue().run(x, n);
          }
          times.put(r.getKey(), new long[runs]);
        }
        for (int i = 0; i < runs; i++) {
          for (Map.Entry<String, Runner> r : rs.entrySet()) {
            long t = System.nanoTime();
            r.getValue().run(x, n);
            times.get(r.getKey())[i] = System.nanoTime() - t;
          }
        }
        times.forEach((k, v) -> {
          Arrays.sort(v);
          out.get(k).put(rtName + " b" + n, v[v.length / 2] / 1e6);
        });
      }
    }

    @Override
    public void close() throws Exception {
      for (int i = open.size() - 1; i >= 0; i--) {
        open.get(i).close();
      }
    }
  }

  /** The markdown table, with when and where it was measured. */
  public static String table(String arch, List<Row> rows, int runs, int threads) {
    StringBuilder s = new StringBuilder();
    double load = ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage();
    s.append(String.format(Locale.ROOT, "%nSDR proof of concept, Fashion-MNIST %s, %s, %d cores, "
        + "load average %.2f, Java %s, %d timed runs per cell, %d threads%n%n", arch.equals("cnn")
        ? "CNN (conv 3x3 16, conv 3x3 32, 1568-128-10)" : "MLP 784-512-256-10", Instant.now(),
        Runtime.getRuntime().availableProcessors(), load, System.getProperty("java.version"), runs, threads));
    s.append("| network | bytes | smaller than fp32 | accuracy PyTorch | accuracy ORT | accuracy DJL |");
    for (int b : BATCHES) {
      s.append(" ORT b").append(b).append(" ms (x dense) |");
    }
    for (int b : BATCHES) {
      s.append(" DJL b").append(b).append(" ms (x dense) |");
    }
    s.append("\n|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
    Map<String, Double> dense = rows.get(0).latencyMs();
    Map<String, Double> djlDense = rows.stream().filter(r -> r.v().name().equals("dense lossless .cai"))
        .findFirst().map(Row::latencyMs).orElse(dense);
    for (Row r : rows) {
      s.append(String.format(Locale.ROOT, "| %s | %,d | %.1fx | %.2f%% | %.2f%% | %.2f%% |", r.v().name(), r.bytes(),
          r.ratio(), 100 * r.v().trainedAccuracy(), 100 * r.ortAccuracy(), 100 * r.djlAccuracy()));
      for (String rt : List.of("ort", "djl")) {
        Map<String, Double> base = rt.equals("ort") ? dense : djlDense;
        for (int b : BATCHES) {
          Double ms = r.latencyMs().get(rt + " b" + b);
          s.append(ms == null ? " - |" : String.format(Locale.ROOT, " %.3f (%.2fx) |", ms, ms / base.get(rt + " b" + b)));
        }
      }
      s.append('\n');
    }
    return s.toString();
  }
}
