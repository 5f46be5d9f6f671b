/**
 * Apache Spark integration: {@code .cai} models (and plain {@code .onnx} ones) as DataFrame
 * transformations and SQL UDFs, and the compression of many models as one Spark job.
 *
 * <p>Inference. {@link dev.selfbyt.cortexsdr.spark.CortexSdrEmbedder} turns a text column into an
 * {@code array<float>} embedding column (tokenizer.json, the model, mean or CLS pooling: the same
 * steps as the project's ONNX Runtime and DJL paths); {@link
 * dev.selfbyt.cortexsdr.spark.CortexSdrModelTransformer} maps named numeric array columns to a
 * model's inputs and its outputs to new columns. Both run per partition ({@code mapPartitions}) in
 * batches, and both register a SQL UDF for SQL users. The pieces:
 * <ul>
 *   <li>{@link dev.selfbyt.cortexsdr.spark.ShippedFile}: a driver file sent to the executors once
 *       as a broadcast of its bytes, written to a local file and checked against its SHA-256
 *       where it lands;</li>
 *   <li>{@link dev.selfbyt.cortexsdr.spark.ExecutorModels}: the per-JVM cache (static, keyed by
 *       content hash and settings) that gives every task of an executor the same loaded model,
 *       closed when the JVM exits;</li>
 *   <li>{@link dev.selfbyt.cortexsdr.spark.ModelRuntime} and {@link
 *       dev.selfbyt.cortexsdr.spark.ModelRunner}: ONNX Runtime ({@code CaiOrt} for a {@code .cai},
 *       a plain session for an {@code .onnx}) or the DJL engine {@code CortexSDR}, behind one
 *       interface taking and giving {@link dev.selfbyt.cortexsdr.spark.Tensor}s;</li>
 *   <li>{@link dev.selfbyt.cortexsdr.spark.SentenceEncoder}: tokenizer, batches padded to their
 *       longest row, pooling; plain Java, also usable outside Spark (the tests' local reference);</li>
 *   <li>{@link dev.selfbyt.cortexsdr.spark.Pooling} and {@link
 *       dev.selfbyt.cortexsdr.spark.ModelSettings}: what the executors need to load and run a
 *       model, serializable.</li>
 * </ul>
 *
 * <p>Compression. {@link dev.selfbyt.cortexsdr.spark.CortexSdrCompressionJob} compresses a list
 * of models (or every {@code .onnx} in a folder) in parallel across the cluster with the same
 * code and defaults as {@code cortexsdr compress}, writes each {@code .cai} to a shared folder
 * (temp file, then rename) byte for byte as a local run would, and returns a summary Dataset of
 * {@link dev.selfbyt.cortexsdr.spark.CompressionSummary} rows (model, sizes, ratio, and fidelity
 * when calibration sentences are given).
 *
 * <p>{@link dev.selfbyt.cortexsdr.spark.EmbedText} is a ready application for {@code
 * spark-submit}: the lines of a text file to {@code (text, embedding)} Parquet rows.
 *
 * <p>Spark itself is a {@code provided} dependency: the cluster brings it. See docs/spark.md for
 * the jar to submit and the {@code spark-submit} line.
 */
package dev.selfbyt.cortexsdr.spark;
