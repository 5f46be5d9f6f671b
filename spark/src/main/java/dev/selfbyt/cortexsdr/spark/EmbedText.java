package dev.selfbyt.cortexsdr.spark;

import java.nio.file.Path;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

/**
 * A ready Spark application for {@code spark-submit}: embeds every line of a text file (or folder)
 * and writes {@code (text, embedding)} rows as Parquet.
 *
 * <pre>
 * spark-submit --class dev.selfbyt.cortexsdr.spark.EmbedText --master spark://host:7077 \
 *   --conf spark.executor.extraJavaOptions=-Dai.djl.offline=true \
 *   cortexsdr-spark-VERSION-all.jar model.cai tokenizer.json lines.txt out.parquet [ort|djl] [mean|cls]
 * </pre>
 *
 * The model and tokenizer are read on the driver and broadcast; the input and output paths are
 * read and written by the executors (a file system they all see, or HDFS/S3 URIs Spark knows).
 * The output is written with Spark's commit protocol: complete, or absent.
 */
public final class EmbedText {
  private EmbedText() {}

  /** {@code model tokenizer input output [runtime] [pooling]}. */
  public static void main(String[] args) throws Exception {
    if (args.length < 4) {
      System.err.println("usage: EmbedText model.cai|model.onnx tokenizer.json input.txt output.parquet [ort|djl] "
          + "[mean|cls]");
      System.exit(2);
    }
    CortexSdrEmbedder embedder = CortexSdrEmbedder.builder().model(Path.of(args[0])).tokenizer(Path.of(args[1]))
        .runtime(args.length > 4 ? ModelRuntime.parse(args[4]) : ModelRuntime.ONNX_RUNTIME)
        .pooling(args.length > 5 ? Pooling.parse(args[5]) : Pooling.MEAN).build();
    SparkSession spark = SparkSession.builder().appName("cortexsdr embed " + Path.of(args[0]).getFileName())
        .getOrCreate();
    try {
      Dataset<Row> lines = spark.read().text(args[2]).withColumnRenamed("value", "text");
      embedder.transform(lines).write().parquet(args[3]);
      System.out.println("embedded " + spark.read().parquet(args[3]).count() + " lines into " + args[3]
          + " (model bytes loaded by executors: " + embedder.modelBytesLoaded() + ")");
    } finally {
      spark.stop();
    }
  }
}
