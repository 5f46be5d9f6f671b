package dev.selfbyt.cortexsdr.spark;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.executor.ExecutorMetrics;
import org.apache.spark.scheduler.SparkListener;
import org.apache.spark.scheduler.SparkListenerExecutorMetricsUpdate;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import scala.Tuple2;

/**
 * Distributed embedding on a real standalone cluster (master and two workers of one core and 1
 * GiB on 127.0.0.1, started here): all-MiniLM-L6-v2 as the fp32 {@code .onnx} in ONNX Runtime
 * (the anchor), as the int8 {@code .cai} the CLI makes by default in ONNX Runtime ({@code
 * CaiOrt}), and the same {@code .cai} in the DJL engine CortexSDR. Each variant is an application
 * of its own, so its executors are fresh JVMs: the first job pays the broadcast and the model
 * load (cold), the second finds the model loaded (warm). Prints a markdown table: rows per second,
 * bytes shipped to the executors, peak resident memory per executor JVM (VmHWM from /proc) and
 * peak executor heap (Spark's executor metrics).
 *
 * <p>Run (after {@code mvn -pl spark -am package -DskipTests} and {@code mvn -pl spark
 * dependency:build-classpath -Dmdep.outputFile=target/bench-classpath.txt -Dmdep.includeScope=test}):
 * see docs/spark.md. Arguments: rows (default 4000), partitions (default 8).
 */
public final class SparkEmbeddingBench {
  private SparkEmbeddingBench() {}

  record Variant(String label, Path model, ModelRuntime runtime) {}

  record Result(Variant v, long modelBytes, long shipped, double coldRowsPerS, double warmRowsPerS, long peakRssMax,
      long peakRssSum, long peakHeap, double loadBefore, double loadAfter) {}

  public static void main(String[] args) throws Exception {
    int rows = args.length > 0 ? Integer.parseInt(args[0]) : 4000;
    int partitions = args.length > 1 ? Integer.parseInt(args[1]) : 8;
    Path work = Files.createDirectories(Path.of("target", "bench"));
    List<String> texts = TestModels.sentences(1000, StandaloneClusterIT.MAX_WORDS);
    List<Variant> variants = List.of(
        new Variant("fp32 .onnx, ONNX Runtime (anchor)", TestModels.minilmOnnx(), ModelRuntime.ONNX_RUNTIME),
        new Variant("int8 .cai (CLI defaults), ONNX Runtime", TestModels.minilmCai(), ModelRuntime.ONNX_RUNTIME),
        new Variant("int8 .cai (CLI defaults), DJL engine CortexSDR", TestModels.minilmCai(), ModelRuntime.DJL));
    List<Result> results = new ArrayList<>();
    try (StandaloneCluster cluster = new StandaloneCluster(work, 2, 1, "1g", Duration.ofSeconds(90))) {
      for (Variant v : variants) {
        results.add(run(cluster, v, texts, rows, partitions));
        System.out.println("done: " + v.label());
      }
    }
    System.out.println(table(results, rows, partitions));
  }

  static Result run(StandaloneCluster cluster, Variant v, List<String> texts, int rows, int partitions)
      throws Exception {
    double loadBefore = StandaloneClusterIT.loadAverage();
    SparkSession spark = SparkSession.builder().master(cluster.masterUrl()).appName("cortexsdr-bench " + v.label())
        .config("spark.driver.host", "127.0.0.1").config("spark.driver.bindAddress", "127.0.0.1")
        .config("spark.executor.memory", "640m").config("spark.executor.cores", "1").config("spark.cores.max", "2")
        .config("spark.executor.extraJavaOptions", "-Dai.djl.offline=true").config("spark.ui.enabled", "false")
        .config("spark.scheduler.minRegisteredResourcesRatio", "1.0")
        .config("spark.scheduler.maxRegisteredResourcesWaitingTime", "60s")
        .config("spark.executor.heartbeatInterval", "2s").config("spark.executor.metrics.pollingInterval", "200ms")
        .getOrCreate();
    Map<String, Long> heap = new ConcurrentHashMap<>();
    spark.sparkContext().addSparkListener(new SparkListener() {
      @Override
      public void onExecutorMetricsUpdate(SparkListenerExecutorMetricsUpdate e) {
        scala.collection.Iterator<Tuple2<Tuple2<Object, Object>, ExecutorMetrics>> it = e.executorUpdates().iterator();
        while (it.hasNext()) {
          long h = it.next()._2().getMetricValue("JVMHeapMemory");
          heap.merge(e.execId(), h, Math::max);
        }
      }
    });
    try {
      List<Row> data = new ArrayList<>(rows);
      for (int i = 0; i < rows; i++) {
        data.add(RowFactory.create(i, texts.get(i % texts.size())));
      }
      Dataset<Row> df = spark.createDataFrame(JavaSparkContext.fromSparkContext(spark.sparkContext())
          .parallelize(data, partitions), new StructType().add("id", DataTypes.IntegerType).add("text",
          DataTypes.StringType));
      CortexSdrEmbedder embedder = CortexSdrEmbedder.builder().model(v.model()).tokenizer(TestModels.minilmTokenizer())
          .runtime(v.runtime()).batchSize(32).build();
      double cold = timeRows(embedder, df, rows);
      double warm = timeRows(embedder, df, rows);
      long max = 0;
      long sum = 0;
      for (long pid : cluster.executorPids()) {
        long hwm = vmHwm(pid);
        max = Math.max(max, hwm);
        sum += hwm;
      }
      long peakHeap = heap.values().stream().mapToLong(Long::longValue).max().orElse(-1);
      return new Result(v, Files.size(v.model()), embedder.modelBytesLoaded(), cold, warm, max, sum, peakHeap,
          loadBefore, StandaloneClusterIT.loadAverage());
    } finally {
      spark.stop();
      Thread.sleep(3000); // the workers stop this application's executors before the next one starts
    }
  }

  /** Rows per second of one job that embeds every row and counts them on the driver. */
  static double timeRows(CortexSdrEmbedder embedder, Dataset<Row> df, int rows) throws Exception {
    long t0 = System.nanoTime();
    long n = embedder.transform(df).filter("embedding is not null").count();
    double s = (System.nanoTime() - t0) / 1e9;
    if (n != rows) {
      throw new IllegalStateException(n + " embeddings for " + rows + " rows");
    }
    return rows / s;
  }

  /** Peak resident set of a process, bytes ({@code VmHWM} in /proc/pid/status). */
  static long vmHwm(long pid) {
    try {
      for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid), "status"))) {
        if (line.startsWith("VmHWM:")) {
          return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
        }
      }
    } catch (java.io.IOException e) {
      return -1;
    }
    return -1;
  }

  static String table(List<Result> rs, int rows, int partitions) {
    StringBuilder sb = new StringBuilder();
    sb.append(String.format(Locale.ROOT, "%,d Moby-Dick rows (1,000 distinct sentences of 6 to 14 words), %d partitions, batches of 32; "
        + "2 workers x 1 core, executors -Xmx640m; cold = first job of the application (broadcast + load), "
        + "warm = second job%n%n", rows, partitions));
    sb.append("| variant | model bytes | bytes shipped to executors | rows/s cold | rows/s warm | warm vs anchor "
        + "| peak RSS per executor (max) | peak executor heap | load average before / after |\n");
    sb.append("|---|---|---|---|---|---|---|---|---|\n");
    double anchor = rs.get(0).warmRowsPerS();
    for (Result r : rs) {
      sb.append(String.format(Locale.ROOT, "| %s | %,d | %,d | %.1f | %.1f | %.2fx | %,d MiB | %,d MiB | %.1f / %.1f |%n",
          r.v().label(), r.modelBytes(), r.shipped(), r.coldRowsPerS(), r.warmRowsPerS(), r.warmRowsPerS() / anchor,
          r.peakRssMax() >> 20, r.peakHeap() >> 20, r.loadBefore(), r.loadAfter()));
    }
    return sb.toString();
  }
}
