package dev.selfbyt.cortexsdr.it.bench;

import dev.selfbyt.cortexsdr.core.codec.QuantCodec;
import dev.selfbyt.cortexsdr.core.codec.SdrCodec;
import dev.selfbyt.cortexsdr.core.tensor.DType;
import dev.selfbyt.cortexsdr.core.tensor.TensorData;
import dev.selfbyt.cortexsdr.core.tensor.TensorInfo;
import dev.selfbyt.cortexsdr.core.tensor.TensorRole;
import dev.selfbyt.cortexsdr.djl.kernel.Kernels;
import dev.selfbyt.cortexsdr.djl.kernel.MatMul;
import dev.selfbyt.cortexsdr.djl.kernel.QuantMatrix;
import dev.selfbyt.cortexsdr.djl.kernel.SparseMatrix;
import java.nio.ByteBuffer;
import java.util.Random;
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
 * The DJL engine's product kernels on one MiniLM-sized weight ({@code [K=384, N=1536]}, the first
 * feed-forward layer), one thread: {@code Y[M,N] = X[M,K] * W} with {@code W} dense fp32 (the
 * anchor), int8 blocks of 64 (symmetric, the default preset), int4 blocks of 32 (asymmetric) or
 * SDR (half the weights kept, fp16 values), with the Vector API kernels or the scalar ones, at
 * {@code M = 1} (one token) and {@code M = 128}. {@link MatMulKernelBenchReport} turns the times
 * into GFLOP/s and GB/s of weights read.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"-Xmx1g", "--add-modules", "jdk.incubator.vector",
    "-Ddev.selfbyt.cortexsdr.num_threads=1"})
public class MatMulKernelBenchmark {
  public static final int K = 384;
  public static final int N = 1536;

  @Param({"fp32", "int8", "int4", "sdr"})
  public String format;

  @Param({"vector", "scalar"})
  public String kernel;

  @Param({"1", "128"})
  public int m;

  private Kernels kern;
  private float[] x;
  private float[] y;
  private float[] dense;
  private QuantMatrix quant;
  private SparseMatrix sparse;

  @Setup(Level.Trial)
  public void setUp() {
    kern = kernel.equals("vector") ? Kernels.vector() : Kernels.scalar();
    if (kern == null) {
      throw new IllegalStateException("start the JVM with --add-modules jdk.incubator.vector");
    }
    Random rnd = new Random(42);
    x = new float[m * K];
    for (int i = 0; i < x.length; i++) {
      x[i] = (float) rnd.nextGaussian();
    }
    y = new float[m * N];
    dense = new float[K * N];
    for (int i = 0; i < dense.length; i++) {
      dense[i] = (float) (rnd.nextGaussian() * 0.05);
    }
    TensorInfo info = new TensorInfo("w", DType.FLOAT32, new long[] {K, N}, TensorRole.MATMUL_WEIGHT, 0);
    switch (format) {
      case "int8" -> quant = quantize(QuantCodec.blockwise(8, true, 64), info);
      case "int4" -> quant = quantize(QuantCodec.blockwise(4, false, 32), info);
      case "sdr" -> {
        SdrCodec c = SdrCodec.builder().sparsity(0.5).fp16Values().build();
        ByteBuffer p = c.encode(TensorData.ofFloats(info, dense));
        sparse = SparseMatrix.of(c.unpack(info, p), N, K);
      }
      default -> { }
    }
  }

  private QuantMatrix quantize(QuantCodec c, TensorInfo info) {
    ByteBuffer p = c.encode(TensorData.ofFloats(info, dense));
    return QuantMatrix.of(c.unpack(info, p));
  }

  /** Bytes of weights one product reads (as held in memory). */
  public long weightBytes() {
    return switch (format) {
      case "int8", "int4" -> quant.residentBytes();
      case "sdr" -> sparse.residentBytes();
      default -> 4L * K * N;
    };
  }

  @Benchmark
  public float[] multiply() {
    switch (format) {
      case "fp32" -> MatMul.multiplyDense(kern, x, 0, m, K, dense, 0, N, y, 0);
      case "sdr" -> MatMul.multiply(kern, x, 0, m, sparse, y, 0);
      default -> MatMul.multiply(kern, x, 0, m, quant, y, 0);
    }
    return y;
  }
}
