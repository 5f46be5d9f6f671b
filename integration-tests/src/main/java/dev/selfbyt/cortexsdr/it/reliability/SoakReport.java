package dev.selfbyt.cortexsdr.it.reliability;

import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.inference.Predictor;
import ai.djl.repository.zoo.ZooModel;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import dev.selfbyt.cortexsdr.converters.onnx.OnnxCalibrator;
import dev.selfbyt.cortexsdr.converters.onnx.OnnxModelReader;
import dev.selfbyt.cortexsdr.converters.onnx.OrtEnvironments;
import dev.selfbyt.cortexsdr.core.CompressionOptions;
import dev.selfbyt.cortexsdr.core.CortexSdr;
import dev.selfbyt.cortexsdr.core.Preset;
import dev.selfbyt.cortexsdr.it.djl.DjlEngineReport;
import dev.selfbyt.cortexsdr.it.models.Embedder;
import dev.selfbyt.cortexsdr.it.models.MobyDick;
import dev.selfbyt.cortexsdr.it.models.RealModel;
import dev.selfbyt.cortexsdr.onnxops.CaiOrt;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Concurrency and load check of both runtime paths on a real model (all-MiniLM-L6-v2 as an int8
 * {@code .cai}), printing markdown tables for docs/reliability.md:
 *
 * <ol>
 *   <li>Soak: one loaded model shared by {@code --threads} threads (16) for {@code --seconds}
 *       (600) per path: the DJL engine {@code CortexSDR} (one {@code ZooModel}, a {@code
 *       Predictor} per thread, as DJL prescribes) and ONNX Runtime through {@code
 *       CaiOrt.open} (one {@code OrtSession}, shared). Every output is compared with the
 *       same sentence's output from a single-threaded run of a separately loaded model.
 *   <li>Cycles: {@code --cycles} (10,000) load, one inference, close, per path, sampling resident
 *       memory, heap used after GC and open file descriptors ({@link ProcessGauges}) after three
 *       warm-up cycles and then ten times (every tenth of the cycles or of the time cap).
 * </ol>
 *
 * Usage (defaults are the full run):
 * <pre>
 * java -cp integration-tests/target/benchmarks.jar dev.selfbyt.cortexsdr.it.reliability.SoakReport \
 *     [--seconds 600] [--threads 16] [--cycles 10000] [--cycle-minutes 0] [--paths djl,ort] \
 *     [--sentences 32] [--work target/soak]
 * </pre>
 * {@code --cycle-minutes} caps each path's cycle phase (0: no cap); the report says how many ran.
 * {@code --paths djl-ndlist} adds the DJL engine without DJL's text translator and tokenizer.
 * Exits with status 1 if any output differed or any call failed.
 */
public final class SoakReport {
  private SoakReport() {}

  /** Outputs may differ from the single-threaded run by this much (float32 kernels, same order). */
  static final double TOLERANCE = 1e-5;

  /** A model loaded by one runtime path. */
  interface Loaded extends AutoCloseable {
    /** Something that runs sentence {@code i}; one per thread. */
    Runner runner() throws Exception;
  }

  /** Runs inputs on a loaded model; used by one thread. */
  interface Runner extends AutoCloseable {
    float[] run(int sentence) throws Exception;

    @Override
    default void close() {}
  }

  /** Loads the model through one runtime path. */
  interface RuntimePath {
    String name();

    Loaded load() throws Exception;
  }

  public static void main(String[] args) throws Exception {
    int seconds = intArg(args, "--seconds", 600);
    int threads = intArg(args, "--threads", 16);
    int cycles = intArg(args, "--cycles", 10_000);
    int cycleMinutes = intArg(args, "--cycle-minutes", 0);
    int sentenceCount = intArg(args, "--sentences", 32);
    List<String> paths = Arrays.asList(stringArg(args, "--paths", "djl,ort").split(","));
    Path work = Path.of(stringArg(args, "--work", "target/soak"));

    RealModel model = RealModel.MINILM;
    Path dir = Files.createDirectories(work.resolve("minilm"));
    Path cai = dir.resolve("int8.cai");
    if (!Files.exists(cai)) {
      try (OnnxModelReader r = OnnxModelReader.open(model.onnx(dir))) {
        CortexSdr.compress(r, cai, CompressionOptions.builder().preset(Preset.INT8).build());
      }
    }
    Path folder = Files.createDirectories(dir.resolve("djl"));
    Files.copy(cai, folder.resolve("model.cai"), StandardCopyOption.REPLACE_EXISTING);
    Files.copy(model.tokenizer(dir), folder.resolve("tokenizer.json"), StandardCopyOption.REPLACE_EXISTING);
    List<String> sentences = MobyDick.sentences(sentenceCount, 0);
    List<Encoding> encodings = Embedder.encodeAll(model.tokenizer(dir), 128, sentences);

    System.out.printf(Locale.ROOT, "SoakReport %s: %s (%s), %d threads, %d s soak per path, %d cycles per path%s, "
            + "%d sentences; load average %.2f at start; %d cores%n", Instant.now(), model.displayName(),
        cai.getFileName(), threads, seconds, cycles, cycleMinutes > 0 ? " (at most " + cycleMinutes + " min)" : "",
        sentences.size(), ProcessGauges.loadAverage(), Runtime.getRuntime().availableProcessors());
    boolean ok = true;
    List<String> soakRows = new ArrayList<>();
    List<String> cycleTables = new ArrayList<>();
    for (String p : paths) {
      RuntimePath path = switch (p.trim()) {
        case "djl" -> djl(model, folder, sentences);
        case "ort" -> ort(cai, encodings);
        case "djl-ndlist" -> djlNdList(cai, encodings);
        default -> throw new IllegalArgumentException("unknown path " + p + ": use djl, ort or djl-ndlist");
      };
      if (seconds > 0) {
        Soak s = soak(path, threads, seconds, sentences.size());
        soakRows.add(s.row());
        System.out.println(s.row());
        ok &= s.failures() == 0 && s.mismatches() == 0;
      }
      if (cycles > 0) {
        String t = cycles(path, cycles, cycleMinutes, sentences.size());
        cycleTables.add(t);
        System.out.println(t);
      }
    }
    System.out.println();
    System.out.println("| path | threads | seconds | calls | calls/s | bit-identical | max abs diff | over "
        + TOLERANCE + " | failures | load avg (start / end) |");
    System.out.println("|---|---:|---:|---:|---:|---:|---:|---:|---:|---|");
    soakRows.forEach(System.out::println);
    System.out.println();
    cycleTables.forEach(System.out::println);
    System.exit(ok ? 0 : 1);
  }

  static RuntimePath djl(RealModel model, Path folder, List<String> sentences) {
    return new RuntimePath() {
      @Override
      public String name() {
        return "DJL engine CortexSDR";
      }

      @Override
      public Loaded load() throws Exception {
        ZooModel<String, float[]> zoo = DjlEngineReport.criteria(model, folder).loadModel();
        return new Loaded() {
          @Override
          public Runner runner() {
            Predictor<String, float[]> p = zoo.newPredictor();
            return new Runner() {
              @Override
              public float[] run(int i) throws Exception {
                return p.predict(sentences.get(i));
              }

              @Override
              public void close() {
                p.close();
              }
            };
          }

          @Override
          public void close() {
            zoo.close();
          }
        };
      }
    };
  }

  /**
   * The DJL engine without DJL's text translator and its native tokenizer: token ids in, last hidden
   * state out, through {@code Criteria<NDList, NDList>}. Tells the engine's own memory from the
   * tokenizer's when the {@code djl} path's cycles are not flat.
   */
  static RuntimePath djlNdList(Path cai, List<Encoding> encodings) {
    return new RuntimePath() {
      @Override
      public String name() {
        return "DJL engine CortexSDR, NDList in/out (no tokenizer)";
      }

      @Override
      public Loaded load() throws Exception {
        ZooModel<ai.djl.ndarray.NDList, ai.djl.ndarray.NDList> zoo = ai.djl.repository.zoo.Criteria.builder()
            .setTypes(ai.djl.ndarray.NDList.class, ai.djl.ndarray.NDList.class).optModelPath(cai)
            .optEngine("CortexSDR").build().loadModel();
        return new Loaded() {
          @Override
          public Runner runner() {
            Predictor<ai.djl.ndarray.NDList, ai.djl.ndarray.NDList> p = zoo.newPredictor();
            return new Runner() {
              @Override
              public float[] run(int i) throws Exception {
                Encoding e = encodings.get(i);
                ai.djl.ndarray.types.Shape shape = new ai.djl.ndarray.types.Shape(1, e.getIds().length);
                try (ai.djl.ndarray.NDManager nd = zoo.getNDManager().newSubManager()) {
                  ai.djl.ndarray.NDList in = new ai.djl.ndarray.NDList(nd.create(e.getIds(), shape),
                      nd.create(e.getAttentionMask(), shape), nd.create(new long[e.getIds().length], shape));
                  return p.predict(in).get(0).toFloatArray();
                }
              }

              @Override
              public void close() {
                p.close();
              }
            };
          }

          @Override
          public void close() {
            zoo.close();
          }
        };
      }
    };
  }

  static RuntimePath ort(Path cai, List<Encoding> encodings) {
    return new RuntimePath() {
      @Override
      public String name() {
        return "ONNX Runtime (CaiOrt)";
      }

      @Override
      public Loaded load() throws Exception {
        OrtEnvironment env = OrtEnvironments.get();
        dev.selfbyt.cortexsdr.onnxops.CaiOrtSession opened = CaiOrt.open(env, cai);
        OrtSession session = opened.session();
        return new Loaded() {
          @Override
          public Runner runner() {
            return i -> {
              return OnnxCalibrator.runFirstOutput(env, session, Embedder.input(encodings.get(i)));
            };
          }

          @Override
          public void close() throws Exception {
            opened.close(); // the session and its decoded buffers, at once
          }
        };
      }
    };
  }

  /** The soak's figures for one path. */
  record Soak(String path, int threads, double seconds, long calls, long bitIdentical, double maxAbsDiff,
      long mismatches, long failures, String firstFailure, double loadStart, double loadEnd) {
    String row() {
      return String.format(Locale.ROOT, "| %s | %d | %.0f | %,d | %.1f | %,d | %.2e | %d | %d%s | %.2f / %.2f |", path,
          threads, seconds, calls, calls / seconds, bitIdentical, maxAbsDiff, mismatches, failures,
          firstFailure == null ? "" : " (" + firstFailure + ")", loadStart, loadEnd);
    }
  }

  static Soak soak(RuntimePath path, int threads, int seconds, int n) throws Exception {
    float[][] reference = new float[n][];
    try (Loaded single = path.load(); Runner r = single.runner()) {
      for (int i = 0; i < n; i++) {
        reference[i] = r.run(i);
      }
    }
    AtomicLong calls = new AtomicLong();
    AtomicLong identical = new AtomicLong();
    AtomicLong mismatches = new AtomicLong();
    AtomicLong failures = new AtomicLong();
    AtomicReference<String> firstFailure = new AtomicReference<>();
    double[] maxDiff = new double[threads];
    double loadStart = ProcessGauges.loadAverage();
    long start = System.nanoTime();
    long end = start + seconds * 1_000_000_000L;
    try (Loaded shared = path.load()) {
      List<Thread> workers = new ArrayList<>();
      for (int t = 0; t < threads; t++) {
        int id = t;
        Thread th = new Thread(() -> {
          try (Runner r = shared.runner()) {
            for (long k = 0; System.nanoTime() < end; k++) {
              int i = (int) ((id * 7L + k) % n);
              try {
                float[] out = r.run(i);
                calls.incrementAndGet();
                double d = maxAbsDiff(out, reference[i]);
                maxDiff[id] = Math.max(maxDiff[id], d);
                if (Arrays.equals(out, reference[i])) {
                  identical.incrementAndGet();
                } else if (!(d <= TOLERANCE)) {
                  mismatches.incrementAndGet();
                }
              } catch (Exception e) {
                failures.incrementAndGet();
                firstFailure.compareAndSet(null, e.toString());
              }
            }
          } catch (Exception e) {
            failures.incrementAndGet();
            firstFailure.compareAndSet(null, e.toString());
          }
        }, "soak-" + t);
        workers.add(th);
        th.start();
      }
      for (Thread th : workers) {
        th.join();
      }
    }
    double elapsed = (System.nanoTime() - start) / 1e9;
    double max = 0;
    for (double d : maxDiff) {
      max = Math.max(max, d);
    }
    return new Soak(path.name(), threads, elapsed, calls.get(), identical.get(), max, mismatches.get(),
        failures.get(), firstFailure.get(), loadStart, ProcessGauges.loadAverage());
  }

  static double maxAbsDiff(float[] a, float[] b) {
    if (a.length != b.length) {
      return Double.POSITIVE_INFINITY;
    }
    double m = 0;
    for (int i = 0; i < a.length; i++) {
      double d = Math.abs((double) a[i] - b[i]);
      if (!(d <= m)) {
        m = d; // NaN propagates
      }
    }
    return m;
  }

  /** Load, one inference, close, {@code cycles} times; a markdown table of the gauges at 11 points. */
  static String cycles(RuntimePath path, int cycles, int capMinutes, int n) throws Exception {
    List<String> rows = new ArrayList<>();
    long capNanos = capMinutes * 60_000_000_000L;
    // a few cycles first, so that classes, the engine, ORT's environment and the allocator's arenas
    // are in place before the baseline
    for (int i = 0; i < 3; i++) {
      cycle(path, i % n);
    }
    ProcessGauges.Sample base = ProcessGauges.sample();
    rows.add(row(0, 0, base, base));
    long start = System.nanoTime();
    long end = capMinutes > 0 ? start + capNanos : Long.MAX_VALUE;
    // 10 samples after the baseline: every tenth of the cycles, or of the time cap when it comes first
    int step = Math.max(1, cycles / 10);
    long nextByTime = capMinutes > 0 ? start + capNanos / 10 : Long.MAX_VALUE;
    int done = 0;
    while (done < cycles && System.nanoTime() < end) {
      cycle(path, done % n);
      done++;
      long now = System.nanoTime();
      if (done % step == 0 || done == cycles || now >= nextByTime || now >= end) {
        rows.add(row(done, (now - start) / 1e9, ProcessGauges.sample(), base));
        while (nextByTime <= now) {
          nextByTime += capNanos / 10;
        }
      }
    }
    StringBuilder sb = new StringBuilder();
    sb.append(String.format(Locale.ROOT, "%s: %,d load/infer/close cycles in %.0f s (%s)%n%n", path.name(), done,
        (System.nanoTime() - start) / 1e9, done < cycles ? "stopped by the time cap" : "all asked for"));
    sb.append("| cycles | seconds | RSS MB | RSS outside the heap MB | heap committed MB | heap after GC MB "
        + "| direct MB | mapped MB | open fds | load avg |\n");
    sb.append("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
    rows.forEach(r -> sb.append(r).append('\n'));
    return sb.toString();
  }

  private static void cycle(RuntimePath path, int sentence) throws Exception {
    try (Loaded m = path.load(); Runner r = m.runner()) {
      r.run(sentence);
    }
  }

  private static String row(int cycles, double seconds, ProcessGauges.Sample s, ProcessGauges.Sample base) {
    return String.format(Locale.ROOT, "| %,d | %.0f | %.0f | %.0f (%+.0f) | %.0f | %.1f | %.1f | %.1f | %d | %.2f |",
        cycles, seconds, s.rssMb(), s.nonHeapRssMb(), s.nonHeapRssMb() - base.nonHeapRssMb(), s.heapCommittedMb(),
        s.heapMb(), s.directMb(), s.mappedMb(), s.openFds(), s.loadAverage());
  }

  private static int intArg(String[] args, String name, int def) {
    String v = stringArg(args, name, null);
    return v == null ? def : Integer.parseInt(v);
  }

  private static String stringArg(String[] args, String name, String def) {
    for (int i = 0; i + 1 < args.length; i++) {
      if (args[i].equals(name)) {
        return args[i + 1];
      }
    }
    return def;
  }
}
