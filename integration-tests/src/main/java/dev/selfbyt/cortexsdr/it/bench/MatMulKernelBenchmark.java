package dev.selfbyt.cortexsdr.it.bench;

import dev.selfbyt.cortexsdr.converters.onnx.OrtEnvironments;
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
import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.OperatorSetIdProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import ai.onnx.proto.OnnxMl.TypeProto;
import ai.onnx.proto.OnnxMl.ValueInfoProto;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import com.google.protobuf.ByteString;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.Map;
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
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The DJL engine's product kernels on one MiniLM-sized weight ({@code [K=384, N=1536]}, the first
 * feed-forward layer), one thread: {@code Y[M,N] = X[M,K] * W} with {@code W} dense fp32 (the
 * anchor), int8 blocks of 64 (symmetric, the default preset), int4 blocks of 32 (asymmetric) or
 * SDR (half the weights kept, fp16 values), with the Vector API kernels or the scalar ones, at
 * {@code M = 1} (one token) and {@code M = 128}; {@code native} is the C library at this CPU's best
 * instruction set; {@code int8-w8a8} is the int8-activation product ({@code int8Activations}:
 * activations quantized per tensor, int8 per-channel weights, 32-bit integer sums). {@code inputs
 * = denormal} scales the activations into the denormal range (below 1.2e-38), to show what
 * denormals cost a kernel (the native kernels flush them to zero inside each call). Quantized weights are held in the column-panel
 * layout the engine uses for MatMul weights ({@code int8}, {@code int4}) or in their stored row
 * layout ({@code int8-rows}, {@code int4-rows}, the engine's earlier kernels); {@code ort-fp32} is
 * ONNX Runtime's own MatMul on the dense weight (MLAS, one intra-op thread), the outside anchor. {@link MatMulKernelBenchReport} turns the times
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

  @Param({"fp32", "int8", "int4", "int8-w8a8", "int8-rows", "int4-rows", "sdr", "ort-fp32"})
  public String format;

  @Param({"native", "vector", "scalar"})
  public String kernel;

  @Param({"gaussian"})
  public String inputs;

  @Param({"1", "128"})
  public int m;

  private Kernels kern;
  private float[] x;
  private float[] y;
  private float[] dense;
  private QuantMatrix quant;
  private SparseMatrix sparse;
  private OrtMatMul ort;

  @TearDown(Level.Trial)
  public void tearDown() throws Exception {
    if (ort != null) {
      ort.close();
    }
  }

  /** ONNX Runtime running one MatMul node with the weight as an initializer, one intra-op thread. */
  static final class OrtMatMul implements AutoCloseable {
    private final OrtEnvironment env = OrtEnvironments.get();
    private final OrtSession session;
    private final int k;

    OrtMatMul(float[] w, int k, int n) {
      this.k = k;
      TensorProto.Builder t = TensorProto.newBuilder().setName("w").setDataType(1).addDims(k).addDims(n);
      ByteBuffer raw = ByteBuffer.allocate(4 * w.length).order(ByteOrder.LITTLE_ENDIAN);
      raw.asFloatBuffer().put(w);
      t.setRawData(ByteString.copyFrom(raw.array()));
      TypeProto type = TypeProto.newBuilder().setTensorType(TypeProto.Tensor.newBuilder().setElemType(1)).build();
      GraphProto g = GraphProto.newBuilder().setName("matmul").addInitializer(t)
          .addNode(NodeProto.newBuilder().setOpType("MatMul").addInput("x").addInput("w").addOutput("y"))
          .addInput(ValueInfoProto.newBuilder().setName("x").setType(type))
          .addOutput(ValueInfoProto.newBuilder().setName("y").setType(type)).build();
      ModelProto model = ModelProto.newBuilder().setIrVersion(8).setGraph(g)
          .addOpsetImport(OperatorSetIdProto.newBuilder().setVersion(13)).build();
      try (OrtSession.SessionOptions o = new OrtSession.SessionOptions()) {
        o.setIntraOpNumThreads(1);
        session = env.createSession(model.toByteArray(), o);
      } catch (OrtException e) {
        throw new IllegalStateException(e);
      }
    }

    void multiply(float[] x, int m, float[] y) {
      try (OnnxTensor in = OnnxTensor.createTensor(env, FloatBuffer.wrap(x), new long[] {m, k});
          OrtSession.Result r = session.run(Map.of("x", in))) {
        ((OnnxTensor) r.get(0)).getFloatBuffer().get(y);
      } catch (OrtException e) {
        throw new IllegalStateException(e);
      }
    }

    @Override
    public void close() throws OrtException {
      session.close();
    }
  }

  @Setup(Level.Trial)
  public void setUp() {
    kern = switch (kernel) {
      case "vector" -> Kernels.vector();
      case "native" -> Kernels.nativeKernels();
      default -> Kernels.scalar();
    };
    if (kern == null) {
      throw new IllegalStateException(kernel.equals("native") ? "no native kernels: " + Kernels.nativeFailure()
          : "start the JVM with --add-modules jdk.incubator.vector");
    }
    Random rnd = new Random(42);
    x = new float[m * K];
    float scale = inputs.equals("denormal") ? 1e-39f : 1f;
    for (int i = 0; i < x.length; i++) {
      x[i] = (float) rnd.nextGaussian() * scale;
    }
    y = new float[m * N];
    dense = new float[K * N];
    for (int i = 0; i < dense.length; i++) {
      dense[i] = (float) (rnd.nextGaussian() * 0.05);
    }
    TensorInfo info = new TensorInfo("w", DType.FLOAT32, new long[] {K, N}, TensorRole.MATMUL_WEIGHT, 0);
    switch (format) {
      case "int8" -> quant = quantize(QuantCodec.blockwise(8, true, 64), info).inPanels();
      case "int4" -> quant = quantize(QuantCodec.blockwise(4, false, 32), info).inPanels();
      case "int8-rows" -> quant = quantize(QuantCodec.blockwise(8, true, 64), info);
      case "int4-rows" -> quant = quantize(QuantCodec.blockwise(4, false, 32), info);
      case "int8-w8a8" -> {
        QuantCodec c = QuantCodec.perChannel(8, true);
        quant = QuantMatrix.withInt8Activations(c.unpack(info, c.encode(TensorData.ofFloats(info, dense))));
      }
      case "ort-fp32" -> ort = new OrtMatMul(dense, K, N);
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
      case "int8", "int4", "int8-w8a8", "int8-rows", "int4-rows" -> quant.residentBytes();
      case "sdr" -> sparse.residentBytes();
      default -> 4L * K * N;
    };
  }

  @Benchmark
  public float[] multiply() {
    switch (format) {
      case "fp32" -> MatMul.multiplyDense(kern, x, 0, m, K, dense, 0, N, y, 0);
      case "sdr" -> MatMul.multiply(kern, x, 0, m, sparse, y, 0);
      case "ort-fp32" -> ort.multiply(x, m, y);
      default -> MatMul.multiply(kern, x, 0, m, quant, y, 0);
    }
    return y;
  }
}
