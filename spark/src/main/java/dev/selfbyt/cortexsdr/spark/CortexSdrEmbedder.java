package dev.selfbyt.cortexsdr.spark;

import java.io.IOException;
import java.io.Serializable;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Objects;
import org.apache.spark.api.java.function.MapPartitionsFunction;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.api.java.UDF1;
import org.apache.spark.sql.types.ArrayType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StringType;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.util.LongAccumulator;

/**
 * Text in, embedding out, as a DataFrame transformation: adds an {@code array<float>} column with
 * the sentence embedding of a string column, computed on the executors by a sentence encoder
 * ({@code .cai} or {@code .onnx}, with its {@code tokenizer.json}; {@link SentenceEncoder}).
 *
 * <pre>{@code
 * CortexSdrEmbedder embedder = CortexSdrEmbedder.builder()
 *     .model(Path.of("all-MiniLM-L6-v2.cai")).tokenizer(Path.of("tokenizer.json"))
 *     .inputCol("text").outputCol("embedding").build();
 * Dataset<Row> out = embedder.transform(spark.read().text("docs.txt").withColumnRenamed("value", "text"));
 * embedder.registerUdf(spark, "embed");   // SELECT embed(text) FROM docs
 * }</pre>
 *
 * The model and tokenizer go to each executor once ({@link ShippedFile}); each executor JVM loads
 * the model once and its tasks share it ({@link ExecutorModels}); each partition is encoded in
 * batches of {@link Builder#batchSize} rows, padded to their longest sentence. A null text gives a
 * null embedding. The UDF encodes a row at a time (SQL UDFs see one row): the transformation is
 * the faster path.
 */
public final class CortexSdrEmbedder {
  private final Path model;
  private final Path tokenizer;
  private final String inputCol;
  private final String outputCol;
  private final ModelRuntime runtime;
  private final Pooling pooling;
  private final int maxLength;
  private final int batchSize;
  private final int threads;
  private LongAccumulator bytesLoaded;

  private CortexSdrEmbedder(Builder b) {
    this.model = Objects.requireNonNull(b.model, "model");
    this.tokenizer = Objects.requireNonNull(b.tokenizer, "tokenizer");
    this.inputCol = b.inputCol;
    this.outputCol = b.outputCol;
    this.runtime = b.runtime;
    this.pooling = b.pooling;
    this.maxLength = b.maxLength;
    this.batchSize = b.batchSize;
    this.threads = b.threads;
  }

  /** A builder: input column {@code text}, output {@code embedding}, ONNX Runtime, mean pooling, 128 tokens, batches of 32. */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * {@code df} with the embedding column added (lazy, as any transformation).
   *
   * @throws IllegalArgumentException if the input column is missing or not a string, or the output column exists
   */
  public Dataset<Row> transform(Dataset<Row> df) throws IOException {
    StructType schema = df.schema();
    int at = inputIndex(schema);
    if (List.of(schema.fieldNames()).contains(outputCol)) {
      throw new IllegalArgumentException("column '" + outputCol + "' exists already; choose another outputCol");
    }
    StructType out = schema.add(outputCol, embeddingType(), true);
    Settings s = settings(df.sparkSession());
    return df.mapPartitions(new EmbedPartition(s, at, batchSize), Encoders.row(out));
  }

  /** Registers {@code name(text)} returning the embedding, for Spark SQL. */
  public void registerUdf(SparkSession spark, String name) throws IOException {
    Settings s = settings(spark);
    spark.udf().register(name, (UDF1<String, float[]>) text -> text == null ? null
        : s.encoder().encode(List.of(text))[0], embeddingType());
  }

  /**
   * Model bytes the executors loaded so far through this embedder: its file size once per
   * executor JVM that loaded it (Spark's file server sent it to each of them once).
   */
  public long modelBytesLoaded() {
    return bytesLoaded == null ? 0 : bytesLoaded.value();
  }

  private static ArrayType embeddingType() {
    return DataTypes.createArrayType(DataTypes.FloatType, false);
  }

  private int inputIndex(StructType schema) {
    if (!List.of(schema.fieldNames()).contains(inputCol)) {
      throw new IllegalArgumentException("no column '" + inputCol + "' to embed (columns: "
          + String.join(", ", schema.fieldNames()) + ")");
    }
    int at = schema.fieldIndex(inputCol);
    if (!(schema.fields()[at].dataType() instanceof StringType)) {
      throw new IllegalArgumentException("column '" + inputCol + "' is " + schema.fields()[at].dataType().simpleString()
          + ", not a string");
    }
    return at;
  }

  private Settings settings(SparkSession spark) throws IOException {
    if (bytesLoaded == null) {
      bytesLoaded = spark.sparkContext().longAccumulator("cortexsdr model bytes loaded: " + model.getFileName());
    }
    ModelSettings m = new ModelSettings(ShippedFile.ship(spark.sparkContext(), model), runtime, threads, bytesLoaded);
    return new Settings(m, ShippedFile.ship(spark.sparkContext(), tokenizer), pooling, maxLength);
  }

  /** What the executors need to build the encoder. */
  static final class Settings implements Serializable {
    private static final long serialVersionUID = 1L;
    final ModelSettings model;
    final ShippedFile tokenizer;
    final Pooling pooling;
    final int maxLength;

    Settings(ModelSettings model, ShippedFile tokenizer, Pooling pooling, int maxLength) {
      this.model = model;
      this.tokenizer = tokenizer;
      this.pooling = pooling;
      this.maxLength = maxLength;
    }

    /** This executor's encoder, built on first use and shared by its tasks. */
    SentenceEncoder encoder() throws IOException {
      Path modelFile = model.model().localPath();
      Path tok = tokenizer.localPath();
      String key = model.key("encoder") + ":" + tokenizer.sha256() + ":" + pooling + ":" + maxLength;
      return ExecutorModels.get(key, () -> {
        model.countLoad();
        return SentenceEncoder.open(modelFile, tok, model.runtime(), pooling, maxLength, model.threadsHere());
      });
    }
  }

  /** One partition: rows in batches through the executor's encoder. */
  static final class EmbedPartition implements MapPartitionsFunction<Row, Row> {
    private static final long serialVersionUID = 1L;
    private final Settings settings;
    private final int column;
    private final int batchSize;

    EmbedPartition(Settings settings, int column, int batchSize) {
      this.settings = settings;
      this.column = column;
      this.batchSize = batchSize;
    }

    @Override
    public Iterator<Row> call(Iterator<Row> rows) throws Exception {
      if (!rows.hasNext()) {
        return rows; // an empty partition loads nothing
      }
      SentenceEncoder encoder = settings.encoder();
      return new Batches<Row, Row>(rows, batchSize, batch -> {
        List<String> texts = new ArrayList<>(batch.size());
        for (Row r : batch) {
          if (!r.isNullAt(column)) {
            texts.add(r.getString(column));
          }
        }
        float[][] v = encoder.encode(texts);
        List<Row> out = new ArrayList<>(batch.size());
        int k = 0;
        for (Row r : batch) {
          Object[] values = new Object[r.size() + 1];
          for (int i = 0; i < r.size(); i++) {
            values[i] = r.get(i);
          }
          values[r.size()] = r.isNullAt(column) ? null : v[k++];
          out.add(RowFactory.create(values));
        }
        return out;
      });
    }
  }

  /** Builds a {@link CortexSdrEmbedder}; every setter checks its argument. */
  public static final class Builder {
    private Path model;
    private Path tokenizer;
    private String inputCol = "text";
    private String outputCol = "embedding";
    private ModelRuntime runtime = ModelRuntime.ONNX_RUNTIME;
    private Pooling pooling = Pooling.MEAN;
    private int maxLength = 128;
    private int batchSize = 32;
    private int threads;

    private Builder() {}

    /** The model: a {@code .cai}, or an {@code .onnx} (ONNX Runtime only). Read on the driver, shipped to executors. */
    public Builder model(Path p) {
      this.model = Objects.requireNonNull(p, "model");
      return this;
    }

    /** The model's {@code tokenizer.json} (HuggingFace tokenizers format). */
    public Builder tokenizer(Path p) {
      this.tokenizer = Objects.requireNonNull(p, "tokenizer");
      return this;
    }

    /** The string column to embed (default {@code text}). */
    public Builder inputCol(String c) {
      this.inputCol = Objects.requireNonNull(c, "inputCol");
      return this;
    }

    /** The {@code array<float>} column to add (default {@code embedding}). */
    public Builder outputCol(String c) {
      this.outputCol = Objects.requireNonNull(c, "outputCol");
      return this;
    }

    /** ONNX Runtime (default) or the DJL engine CortexSDR. */
    public Builder runtime(ModelRuntime r) {
      this.runtime = Objects.requireNonNull(r, "runtime");
      return this;
    }

    /** Mean (default) or CLS pooling. */
    public Builder pooling(Pooling p) {
      this.pooling = Objects.requireNonNull(p, "pooling");
      return this;
    }

    /** Tokens kept per text (default 128; longer texts are truncated). */
    public Builder maxLength(int n) {
      if (n < 1) {
        throw new IllegalArgumentException("maxLength must be at least 1, got " + n);
      }
      this.maxLength = n;
      return this;
    }

    /** Rows per model call (default 32). */
    public Builder batchSize(int n) {
      if (n < 1) {
        throw new IllegalArgumentException("batchSize must be at least 1, got " + n);
      }
      this.batchSize = n;
      return this;
    }

    /** Threads of the runtime per executor; 0 (default): the task's cores, {@code spark.task.cpus}. */
    public Builder threads(int n) {
      if (n < 0) {
        throw new IllegalArgumentException("threads must be 0 (the task's cores) or more, got " + n);
      }
      this.threads = n;
      return this;
    }

    public CortexSdrEmbedder build() {
      return new CortexSdrEmbedder(this);
    }
  }
}
