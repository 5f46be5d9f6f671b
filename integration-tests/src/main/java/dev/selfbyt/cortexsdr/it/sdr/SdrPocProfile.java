package dev.selfbyt.cortexsdr.it.sdr;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.selfbyt.cortexsdr.converters.onnx.OrtEnvironments;
import dev.selfbyt.cortexsdr.onnxops.CaiOrt;
import dev.selfbyt.cortexsdr.onnxops.CaiOrtOptions;
import java.io.Reader;
import java.lang.management.ManagementFactory;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Where ONNX Runtime spends a forward pass of the proof of concept's networks, node by node: the
 * dense fp32 {@code .onnx} and the SDR {@code .cai} files at one sparsity (opened with {@link
 * CaiOrt} as {@link SdrPocReport} opens them: 2 intra-op threads, no spinning), each in a session
 * with ONNX Runtime's profiling on, run at batch 1 and 64; prints every node of the optimized graph
 * with its median kernel time and the sum. This is how the CNN's ONNX Runtime latency was taken
 * apart (docs/benchmarks.md); the files are the ones {@link SdrPocReport} trained and compressed.
 *
 * <p>Usage, from integration-tests after one {@code SdrPocReport} run: {@code SdrPocProfile [--work
 * DIR] [--arch cnn] [--sparsity 90] [--runs 1000] [--threads 2]}.
 */
public final class SdrPocProfile {
  private SdrPocProfile() {}

  /** Runs the profile; see the class comment. */
  public static void main(String[] args) throws Exception {
    Path work = Path.of("target/sdr-poc");
    String arch = "cnn";
    String sparsity = "90";
    int runs = 1000;
    int threads = 2;
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--work" -> work = Path.of(args[++i]);
        case "--arch" -> arch = args[++i];
        case "--sparsity" -> sparsity = args[++i];
        case "--runs" -> runs = Integer.parseInt(args[++i]);
        case "--threads" -> threads = Integer.parseInt(args[++i]);
        default -> throw new IllegalArgumentException("unknown argument " + args[i]);
      }
    }
    List<Path> files = List.of(work.resolve("trained").resolve(arch).resolve(arch + "-dense.onnx"),
        work.resolve("cai").resolve(arch).resolve(arch + "-s" + sparsity + "-sdr8.cai"),
        work.resolve("cai").resolve(arch).resolve(arch + "-s" + sparsity + "-sdr4.cai"));
    for (Path f : files) {
      if (!Files.isRegularFile(f)) {
        throw new IllegalArgumentException(f + " is missing: run SdrPocReport first (it trains and compresses)");
      }
    }
    long[] image = arch.equals("cnn") ? new long[] {1, 28, 28} : new long[] {784};
    OrtEnvironment env = OrtEnvironments.get();
    Path out = Files.createTempDirectory("sdr-poc-profile");
    System.out.printf(Locale.ROOT, "ONNX Runtime %s per-node profile, %s at %s%%, %d runs, %d threads, load average %.2f%n",
        env.getVersion(), arch, sparsity, runs, threads, ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage());
    for (int batch : new int[] {1, 64}) {
      for (Path f : files) {
        Map<String, Long> medians = profile(env, f, batch, runs, threads, image, out);
        long sum = medians.values().stream().mapToLong(Long::longValue).sum();
        System.out.printf(Locale.ROOT, "%n%s, batch %d: sum of node medians %d us%n", f.getFileName(), batch, sum);
        medians.forEach((node, us) -> System.out.printf(Locale.ROOT, "  %-48s %6d us%n", node, us));
      }
    }
    Files.deleteIfExists(out);
  }

  /** Node (with its operator) to median kernel microseconds, in graph order, warm-up runs left out. */
  private static Map<String, Long> profile(OrtEnvironment env, Path file, int batch, int runs, int threads,
      long[] image, Path dir) throws Exception {
    String prefix = dir.resolve(file.getFileName() + "-b" + batch).toString();
    int warmup = 20;
    OrtSession session;
    AutoCloseable owner;
    if (file.toString().endsWith(".cai")) {
      var cs = CaiOrt.open(env, file, CaiOrtOptions.builder().intraOpThreads(threads).interOpThreads(1)
          .configEntry("session.intra_op.allow_spinning", "0").sessionOptions(o -> o.enableProfiling(prefix)).build());
      session = cs.session();
      owner = cs;
    } else {
      OrtSession.SessionOptions o = new OrtSession.SessionOptions();
      o.setIntraOpNumThreads(threads);
      o.setInterOpNumThreads(1);
      o.addConfigEntry("session.intra_op.allow_spinning", "0");
      o.enableProfiling(prefix);
      session = env.createSession(file.toString(), o);
      owner = () -> {
        session.close();
        o.close();
      };
    }
    String json;
    try (owner) {
      long[] shape = new long[image.length + 1];
      shape[0] = batch;
      System.arraycopy(image, 0, shape, 1, image.length);
      float[] x = new float[(int) (batch * java.util.Arrays.stream(image).reduce(1, (a, b) -> a * b))];
      SplittableRandom rnd = new SplittableRandom(1);
      for (int i = 0; i < x.length; i++) {
        x[i] = (float) rnd.nextDouble();
      }
      String input = session.getInputNames().iterator().next();
      for (int i = 0; i < warmup + runs; i++) {
        try (OnnxTensor t = OnnxTensor.createTensor(env, FloatBuffer.wrap(x), shape);
            OrtSession.Result r = session.run(Map.of(input, t))) {
          r.get(0);
        }
      }
      json = session.endProfiling();
    }
    Map<String, List<Long>> times = new LinkedHashMap<>();
    try (Reader r = Files.newBufferedReader(Path.of(json))) {
      for (JsonElement e : JsonParser.parseReader(r).getAsJsonArray()) {
        JsonObject o = e.getAsJsonObject();
        String name = o.get("name").getAsString();
        if (o.has("cat") && o.get("cat").getAsString().equals("Node") && name.endsWith("_kernel_time")) {
          String op = o.getAsJsonObject("args").get("op_name").getAsString();
          times.computeIfAbsent(name.substring(0, name.length() - "_kernel_time".length()) + " (" + op + ")",
              k -> new ArrayList<>()).add(o.get("dur").getAsLong());
        }
      }
    }
    Files.deleteIfExists(Path.of(json));
    Map<String, Long> medians = new LinkedHashMap<>();
    times.forEach((node, d) -> {
      List<Long> timed = new ArrayList<>(d.subList(Math.min(warmup, d.size()), d.size()));
      timed.sort(null);
      medians.put(node, timed.isEmpty() ? 0 : timed.get(timed.size() / 2));
    });
    return medians;
  }
}
