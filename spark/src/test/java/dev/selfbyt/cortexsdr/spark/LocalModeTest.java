package dev.selfbyt.cortexsdr.spark;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Spark API in local mode ({@code local[2]}, two task threads in this JVM) on the real
 * all-MiniLM-L6-v2, its {@code .cai} made by {@code cortexsdr compress} with the defaults: the
 * embedding column equals a plain-Java run of the same model, the SQL UDF gives the same numbers,
 * the DJL engine agrees with ONNX Runtime, the generic transformer gives the model's raw output,
 * and the compression job writes what the CLI writes. The standalone cluster is {@code
 * StandaloneClusterIT}.
 */
class LocalModeTest {
  static SparkSession spark;
  static List<String> texts;
  static float[][] local;

  @TempDir Path work;

  @BeforeAll
  static void start() throws Exception {
    spark = SparkSession.builder().master("local[2]").appName("cortexsdr-local-test")
        .config("spark.ui.enabled", "false").config("spark.sql.shuffle.partitions", "2").getOrCreate();
    texts = TestModels.sentences(120);
    // the local reference: no Spark, one sentence at a time (no padding)
    try (SentenceEncoder e = SentenceEncoder.open(TestModels.minilmCai(), TestModels.minilmTokenizer(),
        ModelRuntime.ONNX_RUNTIME, Pooling.MEAN, 128, 1)) {
      local = new float[texts.size()][];
      for (int i = 0; i < texts.size(); i++) {
        local[i] = e.encode(List.of(texts.get(i)))[0];
      }
    }
  }

  @AfterAll
  static void stop() {
    if (spark != null) {
      spark.stop();
    }
  }

  static Dataset<Row> textFrame(List<String> texts) {
    StructType schema = new StructType().add("id", DataTypes.IntegerType, false).add("text", DataTypes.StringType, true);
    List<Row> rows = new ArrayList<>();
    for (int i = 0; i < texts.size(); i++) {
      rows.add(RowFactory.create(i, texts.get(i)));
    }
    return spark.createDataFrame(rows, schema).repartition(4);
  }

  @Test
  void embeddingColumnEqualsALocalRunAndTheSqlUdfAgrees() throws Exception {
    List<String> withNull = new ArrayList<>(texts);
    withNull.add(null);
    CortexSdrEmbedder embedder = CortexSdrEmbedder.builder().model(TestModels.minilmCai())
        .tokenizer(TestModels.minilmTokenizer()).batchSize(16).build();
    List<Row> rows = embedder.transform(textFrame(withNull)).collectAsList();
    assertEquals(withNull.size(), rows.size());
    double worst = 1;
    for (Row r : rows) {
      int id = r.getInt(0);
      if (id == texts.size()) {
        assertTrue(r.isNullAt(2), "a null text gives a null embedding");
        continue;
      }
      float[] v = floats(r.getList(2));
      assertEquals(384, v.length);
      worst = Math.min(worst, TestModels.cosine(v, local[id]));
    }
    System.out.printf("local[2] vs plain Java, %d rows in batches of 16: min cosine %.8f%n", texts.size(), worst);
    assertTrue(worst >= 0.99999, "batched on Spark equals one-at-a-time locally, min cosine " + worst);
    assertTrue(embedder.modelBytesLoaded() >= Files.size(TestModels.minilmCai()), "the model was loaded");
    assertTrue(embedder.modelBytesLoaded() <= Files.size(TestModels.minilmCai()),
        "one load per JVM, not per task: " + embedder.modelBytesLoaded());

    embedder.registerUdf(spark, "embed");
    textFrame(texts.subList(0, 10)).createOrReplaceTempView("moby");
    List<Row> sql = spark.sql("SELECT id, embed(text) AS e FROM moby").collectAsList();
    assertEquals(10, sql.size());
    for (Row r : sql) {
      double c = TestModels.cosine(floats(r.getList(1)), local[r.getInt(0)]);
      assertTrue(c >= 0.99999, "SQL UDF row " + r.getInt(0) + ": cosine " + c);
    }
  }

  @Test
  void djlEngineAgreesWithOnnxRuntime() throws Exception {
    List<String> some = texts.subList(0, 24);
    List<Row> rows = CortexSdrEmbedder.builder().model(TestModels.minilmCai()).tokenizer(TestModels.minilmTokenizer())
        .runtime(ModelRuntime.DJL).outputCol("e").build().transform(textFrame(some)).collectAsList();
    assertEquals(some.size(), rows.size());
    for (Row r : rows) {
      double c = TestModels.cosine(floats(r.getList(2)), local[r.getInt(0)]);
      assertTrue(c >= 0.9999, "DJL engine vs ONNX Runtime, row " + r.getInt(0) + ": cosine " + c);
    }
  }

  @Test
  void genericTransformerGivesTheModelsOutput() throws Exception {
    List<String> some = texts.subList(0, 12);
    StructType schema = new StructType().add("id", DataTypes.IntegerType)
        .add("ids", DataTypes.createArrayType(DataTypes.LongType)).add("mask", DataTypes.createArrayType(DataTypes.LongType))
        .add("types", DataTypes.createArrayType(DataTypes.LongType));
    List<Row> in = new ArrayList<>();
    List<long[]> ids = new ArrayList<>();
    try (HuggingFaceTokenizer tok = SentenceEncoder.tokenizer(TestModels.minilmTokenizer(), 128)) {
      for (int i = 0; i < some.size(); i++) {
        Encoding e = tok.encode(some.get(i));
        ids.add(e.getIds());
        in.add(RowFactory.create(i, boxed(e.getIds()), boxed(e.getAttentionMask()), boxed(new long[e.getIds().length])));
      }
    }
    List<Row> out = CortexSdrModelTransformer.builder().model(TestModels.minilmOnnx())
        .input("input_ids", "ids").input("attention_mask", "mask").input("token_type_ids", "types")
        .output("last_hidden_state", "hidden").batchSize(8).build()
        .transform(spark.createDataFrame(in, schema).repartition(2)).collectAsList();
    assertEquals(some.size(), out.size());
    try (ModelRunner direct = ModelRunner.open(TestModels.minilmOnnx(), ModelRuntime.ONNX_RUNTIME, 1)) {
      for (Row r : out) {
        long[] x = ids.get(r.getInt(0));
        long[] shape = {1, x.length};
        long[] ones = new long[x.length];
        Arrays.fill(ones, 1);
        float[] want = direct.run(Map.of("input_ids", Tensor.ofLongs(shape, x), "attention_mask",
            Tensor.ofLongs(shape, ones), "token_type_ids", Tensor.ofLongs(shape, new long[x.length])))
            .get("last_hidden_state").floats();
        float[] got = floats(r.getList(4));
        assertEquals(want.length, got.length, "[1, tokens, 384] flattened");
        assertTrue(TestModels.cosine(want, got) >= 0.99999, "row " + r.getInt(0));
      }
    }
  }

  @Test
  void compressionJobWritesWhatTheCliWrites() throws Exception {
    Path models = Files.createDirectories(work.resolve("models"));
    Files.copy(TestModels.minilmOnnx(), models.resolve("all-minilm-l6-v2.onnx"));
    Files.copy(TestModels.minilmTokenizer(), models.resolve("all-minilm-l6-v2-tokenizer.json"));
    Path dest = work.resolve("out");
    List<CompressionSummary> rows = CortexSdrCompressionJob.builder().modelsIn(models).destination(dest)
        .calibrationSentences(texts.subList(0, 8)).build().collect(spark);
    assertEquals(1, rows.size());
    CompressionSummary s = rows.get(0);
    System.out.println("local[2] compression job: " + s);
    assertArrayEquals(Files.readAllBytes(TestModels.minilmCai()), Files.readAllBytes(dest.resolve("all-minilm-l6-v2.cai")),
        "the job's .cai is the CLI's, byte for byte");
    assertEquals(ShippedFile.sha256(TestModels.minilmCai()), s.getSha256());
    assertTrue(s.getRatio() > 3.5, "int8: " + s.getRatio());
    assertNotNull(s.getMeanCosine());
    assertTrue(s.getMeanCosine() > 0.99 && s.getMinCosine() > 0.98, s.toString());
    try (Stream<Path> left = Files.list(dest)) {
      assertEquals(List.of(dest.resolve("all-minilm-l6-v2.cai")), left.toList(), "no temporary file left");
    }
  }

  @Test
  void badInputsAreRefusedWithTheCause() throws Exception {
    CortexSdrEmbedder wrongColumn = CortexSdrEmbedder.builder().model(TestModels.minilmCai())
        .tokenizer(TestModels.minilmTokenizer()).inputCol("body").build();
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> wrongColumn.transform(textFrame(texts)));
    assertTrue(e.getMessage().contains("no column 'body'"), e.getMessage());
    CortexSdrEmbedder notText = CortexSdrEmbedder.builder().model(TestModels.minilmCai())
        .tokenizer(TestModels.minilmTokenizer()).inputCol("id").build();
    e = assertThrows(IllegalArgumentException.class, () -> notText.transform(textFrame(texts)));
    assertTrue(e.getMessage().contains("'id' is int, not a string"), e.getMessage());
    Exception x = assertThrows(Exception.class, () -> ModelRunner.open(TestModels.minilmOnnx(), ModelRuntime.DJL, 1));
    assertTrue(x.getMessage().contains("runs .cai files"), x.getMessage());
    x = assertThrows(Exception.class, () -> ModelRunner.open(TestModels.minilmTokenizer(), ModelRuntime.ONNX_RUNTIME, 1));
    assertTrue(x.getMessage().contains("all-minilm-l6-v2-tokenizer.json") && x.getMessage().contains("not a .cai"),
        x.getMessage());
    assertThrows(IllegalArgumentException.class, () -> CortexSdrCompressionJob.builder().preset("int8-fast"));
    Path two = Files.createDirectories(work.resolve("a"));
    assertFalse(Files.exists(work.resolve("b")));
    e = assertThrows(IllegalArgumentException.class, () -> CortexSdrCompressionJob.builder()
        .models(List.of(two.resolve("m.onnx"), work.resolve("b/m.onnx"))).destination(work.resolve("o")).build()
        .collect(spark));
    assertTrue(e.getMessage().contains("would both be written to"), e.getMessage());
  }

  static float[] floats(List<Object> list) {
    float[] v = new float[list.size()];
    for (int i = 0; i < v.length; i++) {
      v[i] = ((Number) list.get(i)).floatValue();
    }
    assertNull(null);
    return v;
  }

  static List<Long> boxed(long[] a) {
    return Arrays.stream(a).boxed().toList();
  }
}
