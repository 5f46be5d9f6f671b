package dev.selfbyt.cortexsdr.spark;

import java.io.IOException;
import java.io.Serializable;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.apache.spark.api.java.function.MapPartitionsFunction;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.api.java.UDF1;
import org.apache.spark.sql.api.java.UDF2;
import org.apache.spark.sql.api.java.UDF3;
import org.apache.spark.sql.types.ArrayType;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.util.LongAccumulator;

/**
 * Any model as a DataFrame transformation: numeric array columns in (one per model input), model
 * outputs out (one {@code array<float>} column per output asked for). Each row is one batch item:
 * its arrays become tensors of shape {@code [1, length]} (or {@code [1, ...shape]} when {@link
 * Builder#input(String, String, long...)} gives a shape), and consecutive rows whose inputs have the
 * same shapes run as one batch of up to {@link Builder#batchSize} rows; each row gets its slice of
 * every output, flattened.
 *
 * <pre>{@code
 * Dataset<Row> out = CortexSdrModelTransformer.builder().model(Path.of("model.cai"))
 *     .input("input_ids", "ids").input("attention_mask", "mask").input("token_type_ids", "types")
 *     .output("last_hidden_state", "hidden").build().transform(df);
 * }</pre>
 *
 * Integer and long columns feed int64 inputs, float and double columns fp32 ones. A row with a
 * null input gets null outputs. Shipping, the per-executor model and the runtime choice are as
 * for {@link CortexSdrEmbedder}.
 */
public final class CortexSdrModelTransformer {
  private final Path model;
  private final ModelRuntime runtime;
  private final Map<String, String> inputs;
  private final Map<String, long[]> shapes;
  private final Map<String, String> outputs;
  private final int batchSize;
  private final int threads;
  private LongAccumulator bytesLoaded;

  private CortexSdrModelTransformer(Builder b) {
    this.model = Objects.requireNonNull(b.model, "model");
    if (b.inputs.isEmpty() || b.outputs.isEmpty()) {
      throw new IllegalArgumentException("give at least one input column and one output column");
    }
    this.runtime = b.runtime;
    this.inputs = new LinkedHashMap<>(b.inputs);
    this.shapes = new LinkedHashMap<>(b.shapes);
    this.outputs = new LinkedHashMap<>(b.outputs);
    this.batchSize = b.batchSize;
    this.threads = b.threads;
  }

  /** A builder: ONNX Runtime, batches of 32. */
  public static Builder builder() {
    return new Builder();
  }

  /** {@code df} with the output columns added (lazy). */
  public Dataset<Row> transform(Dataset<Row> df) throws IOException {
    StructType schema = df.schema();
    List<String> names = List.of(schema.fieldNames());
    int[] columns = new int[inputs.size()];
    boolean[] isLong = new boolean[inputs.size()];
    int i = 0;
    for (Map.Entry<String, String> e : inputs.entrySet()) {
      String col = e.getValue();
      if (!names.contains(col)) {
        throw new IllegalArgumentException("no column '" + col + "' for model input '" + e.getKey() + "' (columns: "
            + String.join(", ", names) + ")");
      }
      columns[i] = schema.fieldIndex(col);
      isLong[i] = elementIsLong(col, schema.fields()[columns[i]].dataType());
      i++;
    }
    StructType out = schema;
    for (String col : outputs.values()) {
      if (names.contains(col)) {
        throw new IllegalArgumentException("column '" + col + "' exists already; choose another output column");
      }
      out = out.add(col, DataTypes.createArrayType(DataTypes.FloatType, false), true);
    }
    return df.mapPartitions(new RunPartition(spec(df.sparkSession()), columns, isLong, batchSize), Encoders.row(out));
  }

  /**
   * Registers {@code name(col1, ...)} for Spark SQL (one to three inputs, in the order given to the
   * builder), returning the first output asked for; {@code longInputs} says per input whether it
   * is int64 (else fp32).
   */
  public void registerUdf(SparkSession spark, String name, boolean... longInputs) throws IOException {
    if (longInputs.length != inputs.size()) {
      throw new IllegalArgumentException("say for each of the " + inputs.size() + " inputs whether it is int64");
    }
    Spec s = spec(spark);
    ArrayType t = DataTypes.createArrayType(DataTypes.FloatType, false);
    switch (inputs.size()) {
      case 1 -> spark.udf().register(name, (UDF1<Object, float[]>) a -> s.one(new Object[] {a}, longInputs), t);
      case 2 -> spark.udf().register(name, (UDF2<Object, Object, float[]>) (a, b) ->
          s.one(new Object[] {a, b}, longInputs), t);
      case 3 -> spark.udf().register(name, (UDF3<Object, Object, Object, float[]>) (a, b, c) ->
          s.one(new Object[] {a, b, c}, longInputs), t);
      default -> throw new IllegalArgumentException("a SQL UDF here takes one to three inputs; use transform() for "
          + inputs.size());
    }
  }

  /** Model bytes the executors loaded so far: the file size once per executor JVM that loaded it. */
  public long modelBytesLoaded() {
    return bytesLoaded == null ? 0 : bytesLoaded.value();
  }

  private Spec spec(SparkSession spark) throws IOException {
    if (bytesLoaded == null) {
      bytesLoaded = spark.sparkContext().longAccumulator("cortexsdr model bytes loaded: " + model.getFileName());
    }
    ModelSettings m = new ModelSettings(ShippedFile.ship(spark.sparkContext(), model), runtime, threads, bytesLoaded);
    List<long[]> rowShapes = new ArrayList<>();
    for (String name : inputs.keySet()) {
      rowShapes.add(shapes.get(name)); // null: [1, length]
    }
    return new Spec(m, new ArrayList<>(inputs.keySet()), rowShapes, new ArrayList<>(outputs.keySet()));
  }

  private static boolean elementIsLong(String col, DataType t) {
    if (t instanceof ArrayType a) {
      DataType e = a.elementType();
      if (e.equals(DataTypes.LongType) || e.equals(DataTypes.IntegerType)) {
        return true;
      }
      if (e.equals(DataTypes.FloatType) || e.equals(DataTypes.DoubleType)) {
        return false;
      }
    }
    throw new IllegalArgumentException("column '" + col + "' is " + t.simpleString()
        + "; model inputs come from array<int|bigint|float|double> columns");
  }

  /** What the executors need: the model, its input and output names, per-row shapes. */
  static final class Spec implements Serializable {
    private static final long serialVersionUID = 1L;
    final ModelSettings model;
    final List<String> inputNames;
    final List<long[]> rowShapes;
    final List<String> outputNames;

    Spec(ModelSettings model, List<String> inputNames, List<long[]> rowShapes, List<String> outputNames) {
      this.model = model;
      this.inputNames = inputNames;
      this.rowShapes = rowShapes;
      this.outputNames = outputNames;
    }

    /** The shape of one row's input {@code i} holding {@code n} elements, batch dimension first. */
    long[] rowShape(int i, int n) {
      long[] s = rowShapes.get(i);
      if (s == null) {
        return new long[] {1, n};
      }
      long want = 1;
      for (long d : s) {
        want *= d;
      }
      if (want != n) {
        throw new IllegalArgumentException("input '" + inputNames.get(i) + "': a row holds " + n
            + " elements, its shape " + Arrays.toString(s) + " needs " + want);
      }
      long[] r = new long[s.length + 1];
      r[0] = 1;
      System.arraycopy(s, 0, r, 1, s.length);
      return r;
    }

    /** Runs rows with equal shapes as one batch: {@code rows[r][i]} is row r's input i. */
    List<float[][]> run(List<Object[]> rows, boolean[] isLong) throws Exception {
      ModelRunner runner = model.runner();
      int b = rows.size();
      Map<String, Tensor> in = new LinkedHashMap<>();
      for (int i = 0; i < inputNames.size(); i++) {
        int n = isLong[i] ? ((long[]) rows.get(0)[i]).length : ((float[]) rows.get(0)[i]).length;
        long[] shape = rowShape(i, n);
        shape[0] = b;
        if (isLong[i]) {
          long[] all = new long[b * n];
          for (int r = 0; r < b; r++) {
            System.arraycopy((long[]) rows.get(r)[i], 0, all, r * n, n);
          }
          in.put(inputNames.get(i), Tensor.ofLongs(shape, all));
        } else {
          float[] all = new float[b * n];
          for (int r = 0; r < b; r++) {
            System.arraycopy((float[]) rows.get(r)[i], 0, all, r * n, n);
          }
          in.put(inputNames.get(i), Tensor.ofFloats(shape, all));
        }
      }
      Map<String, Tensor> out = runner.run(in);
      List<float[][]> result = new ArrayList<>(b);
      for (int r = 0; r < b; r++) {
        result.add(new float[outputNames.size()][]);
      }
      for (int o = 0; o < outputNames.size(); o++) {
        Tensor t = out.get(outputNames.get(o));
        if (t == null) {
          throw new IllegalArgumentException(runner.describe() + ": no output '" + outputNames.get(o) + "' (outputs: "
              + out.keySet() + ")");
        }
        if (t.isLong()) {
          throw new IllegalArgumentException(runner.describe() + ": output '" + outputNames.get(o)
              + "' is int64; output columns are array<float>");
        }
        long[] s = t.shape();
        if (s.length == 0 || s[0] != b) {
          throw new IllegalArgumentException(runner.describe() + ": output '" + outputNames.get(o) + "' has shape "
              + Arrays.toString(s) + " for a batch of " + b + " rows (its first dimension must be the batch)");
        }
        int per = t.size() / b;
        for (int r = 0; r < b; r++) {
          result.get(r)[o] = Arrays.copyOfRange(t.floats(), r * per, (r + 1) * per);
        }
      }
      return result;
    }

    /** One row (the UDF): the first output. */
    float[] one(Object[] values, boolean[] isLong) throws Exception {
      Object[] row = new Object[values.length];
      for (int i = 0; i < values.length; i++) {
        if (values[i] == null) {
          return null;
        }
        row[i] = isLong[i] ? ArrayValues.longs(values[i]) : ArrayValues.floats(values[i]);
      }
      return run(List.<Object[]>of(row), isLong).get(0)[0];
    }
  }

  /** One partition: rows grouped into batches of equal input shapes. */
  static final class RunPartition implements MapPartitionsFunction<Row, Row> {
    private static final long serialVersionUID = 1L;
    private final Spec spec;
    private final int[] columns;
    private final boolean[] isLong;
    private final int batchSize;

    RunPartition(Spec spec, int[] columns, boolean[] isLong, int batchSize) {
      this.spec = spec;
      this.columns = columns;
      this.isLong = isLong;
      this.batchSize = batchSize;
    }

    @Override
    public Iterator<Row> call(Iterator<Row> rows) {
      return new Batches<Row, Row>(rows, batchSize, this::batch);
    }

    private List<Row> batch(List<Row> batch) throws Exception {
      List<float[][]> outputs = new ArrayList<>(batch.size());
      List<Object[]> run = new ArrayList<>();
      List<Integer> runAt = new ArrayList<>();
      for (int r = 0; r < batch.size(); r++) {
        Object[] values = values(batch.get(r));
        outputs.add(null);
        if (values == null) {
          continue; // a null input: null outputs
        }
        if (!run.isEmpty() && !sameShapes(run.get(0), values)) {
          flush(run, runAt, outputs);
        }
        run.add(values);
        runAt.add(r);
      }
      flush(run, runAt, outputs);
      List<Row> out = new ArrayList<>(batch.size());
      int outs = spec.outputNames.size();
      for (int r = 0; r < batch.size(); r++) {
        Row row = batch.get(r);
        Object[] v = new Object[row.size() + outs];
        for (int i = 0; i < row.size(); i++) {
          v[i] = row.get(i);
        }
        float[][] o = outputs.get(r);
        for (int k = 0; k < outs; k++) {
          v[row.size() + k] = o == null ? null : o[k];
        }
        out.add(RowFactory.create(v));
      }
      return out;
    }

    private void flush(List<Object[]> run, List<Integer> runAt, List<float[][]> outputs) throws Exception {
      if (run.isEmpty()) {
        return;
      }
      List<float[][]> res = spec.run(run, isLong);
      for (int k = 0; k < run.size(); k++) {
        outputs.set(runAt.get(k), res.get(k));
      }
      run.clear();
      runAt.clear();
    }

    private Object[] values(Row row) {
      Object[] v = new Object[columns.length];
      for (int i = 0; i < columns.length; i++) {
        if (row.isNullAt(columns[i])) {
          return null;
        }
        List<Object> list = row.getList(columns[i]);
        v[i] = isLong[i] ? ArrayValues.longs(list) : ArrayValues.floats(list);
      }
      return v;
    }

    private boolean sameShapes(Object[] a, Object[] b) {
      for (int i = 0; i < a.length; i++) {
        int na = isLong[i] ? ((long[]) a[i]).length : ((float[]) a[i]).length;
        int nb = isLong[i] ? ((long[]) b[i]).length : ((float[]) b[i]).length;
        if (na != nb) {
          return false;
        }
      }
      return true;
    }
  }

  /** Builds a {@link CortexSdrModelTransformer}. */
  public static final class Builder {
    private Path model;
    private ModelRuntime runtime = ModelRuntime.ONNX_RUNTIME;
    private final Map<String, String> inputs = new LinkedHashMap<>();
    private final Map<String, long[]> shapes = new LinkedHashMap<>();
    private final Map<String, String> outputs = new LinkedHashMap<>();
    private int batchSize = 32;
    private int threads;

    private Builder() {}

    /** The model: a {@code .cai}, or an {@code .onnx} (ONNX Runtime only). */
    public Builder model(Path p) {
      this.model = Objects.requireNonNull(p, "model");
      return this;
    }

    /** ONNX Runtime (default) or the DJL engine CortexSDR. */
    public Builder runtime(ModelRuntime r) {
      this.runtime = Objects.requireNonNull(r, "runtime");
      return this;
    }

    /** Feeds model input {@code name} from array column {@code column}, one row as shape {@code [1, length]}. */
    public Builder input(String name, String column) {
      inputs.put(Objects.requireNonNull(name, "name"), Objects.requireNonNull(column, "column"));
      return this;
    }

    /** As {@link #input(String, String)}, one row as shape {@code [1, ...rowShape]} (row-major elements). */
    public Builder input(String name, String column, long... rowShape) {
      input(name, column);
      shapes.put(name, rowShape.clone());
      return this;
    }

    /** Adds model output {@code name} as {@code array<float>} column {@code column}. */
    public Builder output(String name, String column) {
      outputs.put(Objects.requireNonNull(name, "name"), Objects.requireNonNull(column, "column"));
      return this;
    }

    /** Rows per model call at most (default 32). */
    public Builder batchSize(int n) {
      if (n < 1) {
        throw new IllegalArgumentException("batchSize must be at least 1, got " + n);
      }
      this.batchSize = n;
      return this;
    }

    /** Threads of the runtime per executor; 0 (default): the task's cores. */
    public Builder threads(int n) {
      if (n < 0) {
        throw new IllegalArgumentException("threads must be 0 (the task's cores) or more, got " + n);
      }
      this.threads = n;
      return this;
    }

    public CortexSdrModelTransformer build() {
      return new CortexSdrModelTransformer(this);
    }
  }
}
