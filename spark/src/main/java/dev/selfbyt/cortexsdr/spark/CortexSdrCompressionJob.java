package dev.selfbyt.cortexsdr.spark;

import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import dev.selfbyt.cortexsdr.converters.onnx.OnnxModelReader;
import dev.selfbyt.cortexsdr.core.CompressionOptions;
import dev.selfbyt.cortexsdr.core.CompressionStats;
import dev.selfbyt.cortexsdr.core.CortexSdr;
import dev.selfbyt.cortexsdr.core.Preset;
import dev.selfbyt.cortexsdr.core.calibrate.Metrics;
import dev.selfbyt.cortexsdr.core.format.CaiException;
import java.io.IOException;
import java.io.Serializable;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.stream.Stream;
import org.apache.spark.SparkEnv;
import org.apache.spark.TaskContext;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.api.java.function.FlatMapFunction;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.SparkSession;

/**
 * Compresses many ONNX models at once, one Spark task per model, with the code and defaults of
 * {@code cortexsdr compress} (preset {@code int8} unless told otherwise; the task's cores as
 * encoding threads, which change nothing in the output): every {@code .cai} is byte for byte what
 * a local run writes (the manifest holds no time, host, path or thread count), and lands in the
 * shared destination folder through a temporary file and a rename, so a reader never sees half a
 * file and a retried task (a lost executor) just writes the same bytes again.
 *
 * <pre>{@code
 * List<CompressionSummary> rows = CortexSdrCompressionJob.builder()
 *     .modelsIn(Path.of("/shared/models"))          // every .onnx there; or .models(paths)
 *     .destination(Path.of("/shared/compressed"))
 *     .calibrationSentences(sentences)              // optional: fidelity per model
 *     .build().run(spark);
 * }</pre>
 *
 * Paths are read and written by the executors: they must name a file system every executor and
 * the driver see (NFS, a shared volume; here, one machine).
 */
public final class CortexSdrCompressionJob {
  private final List<Path> models;
  private final Path destination;
  private final String preset;
  private final List<String> sentences;
  private final int maxLength;

  private CortexSdrCompressionJob(Builder b) {
    if (b.models.isEmpty()) {
      throw new IllegalArgumentException("no models to compress");
    }
    this.models = List.copyOf(b.models);
    this.destination = Objects.requireNonNull(b.destination, "destination");
    this.preset = b.preset;
    this.sentences = List.copyOf(b.sentences);
    this.maxLength = b.maxLength;
  }

  /** A builder: preset int8 (the CLI's default), no calibration sentences. */
  public static Builder builder() {
    return new Builder();
  }

  /** The {@code .cai} a model is written to: its name without {@code .onnx}, plus {@code .cai}. */
  public static Path outputFor(Path model, Path destination) {
    return destination.resolve(model.getFileName().toString().replaceFirst("\\.onnx$", "") + ".cai");
  }

  /**
   * Runs the job (eagerly: compression writes files, so it must run exactly once, not whenever a
   * lazy Dataset is read) and returns its summary, one row per model in the order given.
   */
  public Dataset<CompressionSummary> run(SparkSession spark) throws IOException {
    return spark.createDataset(collect(spark), Encoders.bean(CompressionSummary.class));
  }

  /** As {@link #run}, the rows as a list. */
  public List<CompressionSummary> collect(SparkSession spark) throws IOException {
    Map<Path, Path> seen = new HashMap<>();
    List<String> paths = new ArrayList<>();
    for (Path m : models) {
      Path out = outputFor(m, destination);
      Path other = seen.put(out, m);
      if (other != null) {
        throw new IllegalArgumentException(m + " and " + other + " would both be written to " + out
            + ": rename one of them");
      }
      paths.add(m.toAbsolutePath().toString());
    }
    Files.createDirectories(destination);
    JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
    jsc.setJobDescription("cortexsdr compress " + models.size() + " models (" + preset + ")");
    List<CompressionSummary> rows = jsc.parallelize(paths, paths.size())
        .mapPartitions(new CompressPartition(destination.toAbsolutePath().toString(), preset,
            new ArrayList<>(sentences), maxLength))
        .collect();
    Map<String, CompressionSummary> byModel = new LinkedHashMap<>();
    for (CompressionSummary s : rows) {
      byModel.put(s.getModel(), s);
    }
    List<CompressionSummary> ordered = new ArrayList<>();
    for (String p : paths) {
      ordered.add(byModel.get(p));
    }
    return ordered;
  }

  /** The options a task compresses with: the CLI's for this preset, with {@code threads} encoding threads. */
  static CompressionOptions options(String preset, int threads) {
    return CompressionOptions.builder().preset(Preset.parse(preset)).threads(threads).build();
  }

  /** Compresses the models of one partition (one model, as the job partitions them). */
  static final class CompressPartition implements FlatMapFunction<Iterator<String>, CompressionSummary> {
    private static final long serialVersionUID = 1L;
    private final String destination;
    private final String preset;
    private final ArrayList<String> sentences;
    private final int maxLength;

    CompressPartition(String destination, String preset, ArrayList<String> sentences, int maxLength) {
      this.destination = destination;
      this.preset = preset;
      this.sentences = sentences;
      this.maxLength = maxLength;
    }

    @Override
    public Iterator<CompressionSummary> call(Iterator<String> models) throws Exception {
      List<CompressionSummary> out = new ArrayList<>();
      TaskContext t = TaskContext.get();
      int threads = t == null ? 1 : Math.max(1, t.cpus());
      while (models.hasNext()) {
        out.add(compress(Path.of(models.next()), threads));
      }
      return out.iterator();
    }

    private CompressionSummary compress(Path model, int threads) throws Exception {
      Path target = outputFor(model, Path.of(destination));
      CompressionStats stats;
      try (OnnxModelReader r = OnnxModelReader.open(model)) {
        stats = CortexSdr.compress(r, target, options(preset, threads));
      }
      CompressionSummary s = new CompressionSummary();
      s.setModel(model.toString());
      s.setOutput(target.toString());
      s.setInputBytes(stats.inputBytes());
      s.setOutputBytes(stats.outputBytes());
      s.setRatio(stats.ratio());
      s.setTimeMs(stats.timeMs());
      s.setSha256(ShippedFile.sha256(target));
      SparkEnv env = SparkEnv.get();
      s.setExecutor(env == null ? "local" : env.executorId());
      Path tok = tokenizerBeside(model);
      if (!sentences.isEmpty() && tok != null) {
        double[] cos = fidelity(model, target, tok, threads);
        double sum = 0;
        double min = 1;
        for (double c : cos) {
          sum += c;
          min = Math.min(min, c);
        }
        s.setMeanCosine(sum / cos.length);
        s.setMinCosine(min);
        s.setSentences(cos.length);
      }
      return s;
    }

    /** Cosine of the first output (all token vectors), original vs compressed, per sentence, batch 1. */
    private double[] fidelity(Path model, Path cai, Path tokenizer, int threads) throws Exception {
      double[] cos = new double[sentences.size()];
      try (HuggingFaceTokenizer tok = SentenceEncoder.tokenizer(tokenizer, maxLength);
          ModelRunner original = ModelRunner.open(model, ModelRuntime.ONNX_RUNTIME, threads);
          ModelRunner compressed = ModelRunner.open(cai, ModelRuntime.ONNX_RUNTIME, threads)) {
        boolean types = original.inputNames().contains("token_type_ids");
        for (int i = 0; i < cos.length; i++) {
          Encoding e = tok.encode(sentences.get(i));
          long[] shape = {1, e.getIds().length};
          Map<String, Tensor> in = new HashMap<>();
          in.put("input_ids", Tensor.ofLongs(shape, e.getIds()));
          in.put("attention_mask", Tensor.ofLongs(shape, e.getAttentionMask()));
          if (types) {
            in.put("token_type_ids", Tensor.ofLongs(shape, new long[e.getIds().length]));
          }
          float[] a = original.run(in).values().iterator().next().floats();
          float[] b = compressed.run(in).values().iterator().next().floats();
          cos[i] = Metrics.cosine(a, b);
        }
      } catch (RuntimeException e) {
        throw new CaiException(model.toString(), null, "fidelity on the calibration sentences failed (is it a text "
            + "encoder taking input_ids and attention_mask?): " + e.getMessage(), e);
      }
      return cos;
    }
  }

  /** The model's {@code <name>-tokenizer.json} or {@code tokenizer.json} beside it (as {@code compress --calibrate}), or null. */
  static Path tokenizerBeside(Path model) {
    Path dir = model.toAbsolutePath().getParent();
    String base = model.getFileName().toString().replaceFirst("\\.onnx$", "");
    for (Path p : List.of(dir.resolve(base + "-tokenizer.json"), dir.resolve("tokenizer.json"))) {
      if (Files.isRegularFile(p)) {
        return p;
      }
    }
    return null;
  }

  /** Builds a {@link CortexSdrCompressionJob}. */
  public static final class Builder implements Serializable {
    private static final long serialVersionUID = 1L;
    private final List<Path> models = new ArrayList<>();
    private Path destination;
    private String preset = "int8";
    private final List<String> sentences = new ArrayList<>();
    private int maxLength = 128;

    private Builder() {}

    /** Models to compress (ONNX files), on a file system the executors see. */
    public Builder models(List<Path> paths) {
      models.addAll(paths);
      return this;
    }

    /** Every {@code .onnx} file directly in {@code dir}, in name order. */
    public Builder modelsIn(Path dir) throws IOException {
      if (!Files.isDirectory(dir)) {
        throw new CaiException(dir.toString(), null, "is not a folder of models");
      }
      try (Stream<Path> s = Files.list(dir)) {
        s.filter(p -> p.getFileName().toString().endsWith(".onnx") && Files.isRegularFile(p)).sorted()
            .forEach(models::add);
      }
      return this;
    }

    /** The folder the {@code .cai} files go to (created if missing). */
    public Builder destination(Path dir) {
      this.destination = Objects.requireNonNull(dir, "destination");
      return this;
    }

    /** A preset, as {@code compress --preset} takes it (default {@code int8}). */
    public Builder preset(String p) {
      if (Preset.parse(p) == Preset.INT8_FAST) { // fails here, on the driver, naming a bad preset
        throw new IllegalArgumentException("int8-fast calibrates its activations (compress --calibrate): the job "
            + "compresses with weight-only presets (int8, int4, lossless, sdr)");
      }
      this.preset = p;
      return this;
    }

    /**
     * Sentences to measure each text encoder's fidelity on (the model's first output, original
     * against compressed); models without a tokenizer.json beside them get none.
     */
    public Builder calibrationSentences(List<String> s) {
      sentences.addAll(s);
      return this;
    }

    /** Tokens kept per calibration sentence (default 128). */
    public Builder maxLength(int n) {
      if (n < 1) {
        throw new IllegalArgumentException("maxLength must be at least 1, got " + n);
      }
      this.maxLength = n;
      return this;
    }

    public CortexSdrCompressionJob build() {
      return new CortexSdrCompressionJob(this);
    }
  }
}
