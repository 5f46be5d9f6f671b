package dev.selfbyt.cortexsdr.it.bench;

import dev.selfbyt.cortexsdr.core.codec.QuantCodec;
import dev.selfbyt.cortexsdr.core.codec.ZstdStage;
import dev.selfbyt.cortexsdr.core.tensor.DType;
import dev.selfbyt.cortexsdr.core.tensor.TensorData;
import dev.selfbyt.cortexsdr.core.tensor.TensorInfo;
import dev.selfbyt.cortexsdr.core.tensor.TensorRole;
import dev.selfbyt.cortexsdr.it.SyntheticTensorSource;
import java.nio.ByteBuffer;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Encode and decode time of the quantization codec on one 64 MiB fp32 tensor ({@code [4096,
 * 4096]}), one thread, and the cost of the zstd stage on its output. Divide 64 MiB by the time
 * for MB/s of fp32 per thread; {@link CodecBenchReport} prints that table.
 *
 * <p>{@code axis} is the reduction axis: {@code 1} is the last axis (fibers contiguous, as for
 * embeddings and {@code [N, K]} weights), {@code 0} the first (a {@code [K, N]} MatMul weight,
 * which costs a transpose).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"-Xmx2g", "-Xms2g"})
public class CodecBenchmark {
  public static final int ROWS = 4096;
  public static final int COLS = 4096;

  @Param({"int8", "int4"})
  public String codec;

  @Param({"1", "0"})
  public int axis;

  private QuantCodec quant;
  private TensorData tensor;
  private ByteBuffer payload;
  private ByteBuffer zstdPayload;
  private final ZstdStage zstd = new ZstdStage(3);

  @Setup(Level.Trial)
  public void setUp() {
    quant = codec.equals("int8") ? QuantCodec.blockwise(8, true, 32) : QuantCodec.blockwise(4, false, 32);
    TensorInfo info = new TensorInfo("w", DType.FLOAT32, new long[] {ROWS, COLS}, TensorRole.MATMUL_WEIGHT, axis);
    tensor = TensorData.ofFloats(info, SyntheticTensorSource.weights(ROWS * COLS, 7));
    payload = quant.encode(tensor);
    zstdPayload = zstd.compress(payload.duplicate());
  }

  @Benchmark
  public ByteBuffer encode() {
    return quant.encode(tensor);
  }

  @Benchmark
  public float[] decode() {
    return quant.decode(tensor.info(), payload.duplicate()).floats();
  }

  /** The zstd stage alone on the codec's output (its cost on top of {@link #encode}). */
  @Benchmark
  public ByteBuffer zstdCompress() {
    return zstd.compress(payload.duplicate());
  }

  /** Undoing the zstd stage alone (its cost on top of {@link #decode}). */
  @Benchmark
  public ByteBuffer zstdDecompress() {
    return ZstdStage.decompress(zstdPayload.duplicate(), payload.remaining());
  }

  /** Stored bits per weight with and without the zstd stage, for the report. */
  public double[] bitsPerWeight() {
    double n = (double) ROWS * COLS;
    return new double[] {payload.remaining() * 8 / n, (zstdPayload == null ? payload : zstdPayload).remaining() * 8 / n};
  }
}
