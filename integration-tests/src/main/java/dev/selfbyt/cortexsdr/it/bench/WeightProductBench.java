package dev.selfbyt.cortexsdr.it.bench;

import ai.onnx.proto.OnnxMl.AttributeProto;
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
import dev.selfbyt.cortexsdr.converters.onnx.OrtEnvironments;
import dev.selfbyt.cortexsdr.core.codec.QuantCodec;
import dev.selfbyt.cortexsdr.core.tensor.DType;
import dev.selfbyt.cortexsdr.core.tensor.TensorData;
import dev.selfbyt.cortexsdr.core.tensor.TensorInfo;
import dev.selfbyt.cortexsdr.core.tensor.TensorRole;
import dev.selfbyt.cortexsdr.djl.kernel.KernelScope;
import dev.selfbyt.cortexsdr.djl.kernel.KernelThreads;
import dev.selfbyt.cortexsdr.djl.kernel.Kernels;
import dev.selfbyt.cortexsdr.djl.kernel.MatMul;
import dev.selfbyt.cortexsdr.djl.kernel.QuantMatrix;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;

/**
 * The weight products of one MiniLM layer ({@code [M,384] x [384,384]} four times, {@code x
 * [384,1536]}, {@code [M,1536] x [1536,384]}, each with its bias) in the DJL engine's native
 * kernels against ONNX Runtime on the same shapes in the same JVM: ONNX Runtime's MatMul on the
 * fp32 weights (the anchor of the int8 and int4 files) and its int8 twin's arithmetic ({@code
 * DynamicQuantizeLinear}, {@code MatMulInteger}, {@code Cast}, the scales' {@code Mul}s, as
 * {@code quantize_dynamic} writes it; ONNX Runtime fuses it), the anchor of the W8A8 file. The
 * engine runs the default {@code int8} file's weights (blocks of 64, symmetric), the {@code int4}
 * ones (blocks of 32 with zero points) and W8A8 (per-channel int8, int8 activations).
 *
 * <p>All configurations take turns, one layer each, for many rounds; the table gives per layer the
 * fastest and the median time and the ratios of the medians. A busy machine (other processes on
 * the cores) inflates the medians of all alike; the fastest times are what the code can do.
 *
 * <p>Usage: {@code WeightProductBench [m=128] [threads=2] [rounds=60] [kernels=native]} ({@code
 * kernels}: a comma-separated list of {@code native}, {@code vector}, {@code scalar}; each runs the
 * three weight formats, {@code vector} only when the JVM has {@code jdk.incubator.vector}). Run against an older
 * engine by putting its jar first on the class path (this class uses only API that it has too).
 */
public final class WeightProductBench {
  private static final int D = 384;
  private static final int F = 1536;
  /** The layer's products: {k, n}. */
  private static final int[][] SHAPES = {{D, D}, {D, D}, {D, D}, {D, D}, {D, F}, {F, D}};

  private WeightProductBench() {}

  /** One way to run the layer's products. */
  private interface Runner {
    void run();
  }

  public static void main(String[] args) throws Exception {
    Map<String, String> a = new LinkedHashMap<>();
    for (String s : args) {
      String[] kv = s.split("=", 2);
      a.put(kv[0], kv.length > 1 ? kv[1] : "");
    }
    int m = Integer.parseInt(a.getOrDefault("m", "128"));
    int threads = Integer.parseInt(a.getOrDefault("threads", "2"));
    int rounds = Integer.parseInt(a.getOrDefault("rounds", "60"));
    Random rnd = new Random(42);
    List<float[]> weights = new ArrayList<>();
    List<float[]> biases = new ArrayList<>();
    for (int[] s : SHAPES) {
      float[] w = new float[s[0] * s[1]];
      for (int i = 0; i < w.length; i++) {
        w[i] = (float) (rnd.nextGaussian() * 0.05);
      }
      weights.add(w);
      float[] b = new float[s[1]];
      for (int i = 0; i < b.length; i++) {
        b[i] = (float) (rnd.nextGaussian() * 0.1);
      }
      biases.add(b);
    }
    float[][] xs = new float[2][];
    xs[0] = gaussians(rnd, m * D);
    xs[1] = gaussians(rnd, m * F);
    float[][] ys = new float[SHAPES.length][];
    for (int i = 0; i < SHAPES.length; i++) {
      ys[i] = new float[m * SHAPES[i][1]];
    }
    List<Kernels> kernelSets = new ArrayList<>();
    for (String kind : a.getOrDefault("kernels", "native").split(",")) {
      Kernels kern = switch (kind) {
        case "native" -> Kernels.nativeKernels();
        case "vector" -> Kernels.vector();
        case "scalar" -> Kernels.scalar();
        default -> throw new IllegalArgumentException("kernels: native, vector or scalar, not " + kind);
      };
      if (kern == null) {
        throw new IllegalStateException("no " + kind + " kernels in this JVM"
            + (kind.equals("native") ? ": " + Kernels.nativeFailure() : " (--add-modules jdk.incubator.vector)"));
      }
      kernelSets.add(kern);
    }
    Map<String, Runner> runners = new LinkedHashMap<>();
    OrtEnvironment env = OrtEnvironments.get();
    List<OrtSession> fp32 = new ArrayList<>();
    List<OrtSession> twin = new ArrayList<>();
    for (int i = 0; i < SHAPES.length; i++) {
      fp32.add(session(env, fp32Model(weights.get(i), biases.get(i), SHAPES[i][0], SHAPES[i][1]), threads));
      twin.add(session(env, twinModel(weights.get(i), biases.get(i), SHAPES[i][0], SHAPES[i][1]), threads));
    }
    runners.put("ONNX Runtime fp32 MatMul (MLAS)", () -> {
      for (int i = 0; i < SHAPES.length; i++) {
        ort(env, fp32.get(i), xs[SHAPES[i][0] == D ? 0 : 1], m, SHAPES[i][0], ys[i]);
      }
    });
    runners.put("ONNX Runtime int8 twin (DynamicQuantizeLinear + MatMulInteger)", () -> {
      for (int i = 0; i < SHAPES.length; i++) {
        ort(env, twin.get(i), xs[SHAPES[i][0] == D ? 0 : 1], m, SHAPES[i][0], ys[i]);
      }
    });
    for (Kernels kern : kernelSets) {
      KernelScope scope = new KernelScope(kern, KernelThreads.pool(threads, 100));
      for (String f : List.of("int8", "int4", "w8a8")) {
        List<QuantMatrix> q = new ArrayList<>();
        for (int i = 0; i < SHAPES.length; i++) {
          q.add(engineWeight(f, weights.get(i), SHAPES[i][0], SHAPES[i][1]));
        }
        runners.put("CortexSDR " + kern.name() + ", " + f + (f.equals("w8a8") ? " (int8 activations)" : " weights"),
            () -> scope.call(() -> {
              for (int i = 0; i < SHAPES.length; i++) {
                MatMul.multiply(kern, xs[SHAPES[i][0] == D ? 0 : 1], 0, m, q.get(i), biases.get(i), ys[i], 0);
              }
              return null;
            }));
      }
    }
    for (Runner r : runners.values()) { // warm up: the JIT, ONNX Runtime's first runs
      for (int i = 0; i < 10; i++) {
        r.run();
      }
    }
    Map<String, double[]> times = new LinkedHashMap<>();
    runners.keySet().forEach(k -> times.put(k, new double[rounds]));
    double load0 = load();
    for (int round = 0; round < rounds; round++) {
      for (Map.Entry<String, Runner> e : runners.entrySet()) {
        long t0 = System.nanoTime();
        e.getValue().run();
        times.get(e.getKey())[round] = (System.nanoTime() - t0) / 1e3;
      }
    }
    double load1 = load();
    double flops = 0;
    for (int[] s : SHAPES) {
      flops += 2.0 * m * s[0] * s[1];
    }
    double fp32Median = median(times.get("ONNX Runtime fp32 MatMul (MLAS)"));
    double twinMedian = median(times.get("ONNX Runtime int8 twin (DynamicQuantizeLinear + MatMulInteger)"));
    System.out.printf(Locale.ROOT, "%nWeight products of one MiniLM layer (6 MatMuls with bias, %.2f GFLOP), M=%d, "
        + "%d threads, %d rounds in turns; machine load average %.1f before, %.1f after%n%n", flops / 1e9, m, threads,
        rounds, load0, load1);
    System.out.println("| products | fastest µs | median µs | GFLOP/s (fastest) | median vs ORT fp32 | vs ORT twin |");
    System.out.println("|---|---|---|---|---|---|");
    for (Map.Entry<String, double[]> e : times.entrySet()) {
      double[] t = e.getValue();
      double min = Arrays.stream(t).min().orElse(0);
      double med = median(t);
      System.out.printf(Locale.ROOT, "| %s | %,.0f | %,.0f | %.0f | %.2fx | %.2fx |%n", e.getKey(), min, med,
          flops / min / 1e3, med / fp32Median, med / twinMedian);
    }
    for (OrtSession s : fp32) {
      s.close();
    }
    for (OrtSession s : twin) {
      s.close();
    }
  }

  private static QuantMatrix engineWeight(String format, float[] w, int k, int n) {
    TensorInfo info = new TensorInfo("w", DType.FLOAT32, new long[] {k, n}, TensorRole.MATMUL_WEIGHT, 0);
    QuantCodec c = switch (format) {
      case "int8" -> QuantCodec.blockwise(8, true, 64);
      case "int4" -> QuantCodec.blockwise(4, false, 32);
      default -> QuantCodec.perChannel(8, true);
    };
    QuantCodec.QuantizedTensor q = c.unpack(info, c.encode(TensorData.ofFloats(info, w)));
    return format.equals("w8a8") ? QuantMatrix.withInt8Activations(q) : QuantMatrix.of(q).inPanels();
  }

  private static double load() {
    return java.lang.management.ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage();
  }

  private static double median(double[] t) {
    double[] s = t.clone();
    Arrays.sort(s);
    return s[s.length / 2];
  }

  private static float[] gaussians(Random r, int n) {
    float[] x = new float[n];
    for (int i = 0; i < n; i++) {
      x[i] = (float) r.nextGaussian();
    }
    return x;
  }

  private static void ort(OrtEnvironment env, OrtSession s, float[] x, int m, int k, float[] y) {
    try (OnnxTensor in = OnnxTensor.createTensor(env, FloatBuffer.wrap(x, 0, m * k), new long[] {m, k});
        OrtSession.Result r = s.run(Map.of("x", in))) {
      ((OnnxTensor) r.get(0)).getFloatBuffer().get(y);
    } catch (OrtException e) {
      throw new IllegalStateException(e);
    }
  }

  private static OrtSession session(OrtEnvironment env, ModelProto model, int threads) throws OrtException {
    try (OrtSession.SessionOptions o = new OrtSession.SessionOptions()) {
      o.setIntraOpNumThreads(threads);
      return env.createSession(model.toByteArray(), o);
    }
  }

  private static TensorProto floats(String name, float[] v, long... dims) {
    ByteBuffer raw = ByteBuffer.allocate(4 * v.length).order(ByteOrder.LITTLE_ENDIAN);
    raw.asFloatBuffer().put(v);
    TensorProto.Builder t = TensorProto.newBuilder().setName(name).setDataType(1);
    for (long d : dims) {
      t.addDims(d);
    }
    return t.setRawData(ByteString.copyFrom(raw.array())).build();
  }

  private static TensorProto bytes(String name, int type, byte[] v, long... dims) {
    TensorProto.Builder t = TensorProto.newBuilder().setName(name).setDataType(type);
    for (long d : dims) {
      t.addDims(d);
    }
    return t.setRawData(ByteString.copyFrom(v)).build();
  }

  private static ModelProto model(GraphProto.Builder g) {
    TypeProto type = TypeProto.newBuilder().setTensorType(TypeProto.Tensor.newBuilder().setElemType(1)).build();
    g.setName("product").addInput(ValueInfoProto.newBuilder().setName("x").setType(type))
        .addOutput(ValueInfoProto.newBuilder().setName("y").setType(type));
    return ModelProto.newBuilder().setIrVersion(8).setGraph(g)
        .addOpsetImport(OperatorSetIdProto.newBuilder().setVersion(13)).build();
  }

  private static NodeProto.Builder node(String op, String... io) {
    NodeProto.Builder n = NodeProto.newBuilder().setOpType(op);
    int split = Arrays.asList(io).indexOf("->");
    for (int i = 0; i < split; i++) {
      n.addInput(io[i]);
    }
    for (int i = split + 1; i < io.length; i++) {
      n.addOutput(io[i]);
    }
    return n;
  }

  /** {@code y = x W + b} in fp32. */
  private static ModelProto fp32Model(float[] w, float[] b, int k, int n) {
    GraphProto.Builder g = GraphProto.newBuilder().addInitializer(floats("w", w, k, n)).addInitializer(floats("b", b, n))
        .addNode(node("MatMul", "x", "w", "->", "xw")).addNode(node("Add", "xw", "b", "->", "y"));
    return model(g);
  }

  /**
   * The twin's arithmetic, as ONNX Runtime's {@code quantize_dynamic} writes a MatMul: int8
   * per-column symmetric weights, {@code DynamicQuantizeLinear} on x, {@code MatMulInteger},
   * {@code Cast}, times {@code x_scale * w_scale}, plus the bias.
   */
  private static ModelProto twinModel(float[] w, float[] b, int k, int n) {
    byte[] q = new byte[k * n];
    float[] s = new float[n];
    for (int j = 0; j < n; j++) {
      float max = 0;
      for (int i = 0; i < k; i++) {
        max = Math.max(max, Math.abs(w[i * n + j]));
      }
      s[j] = max == 0 ? 1 : max / 127f;
      for (int i = 0; i < k; i++) {
        q[i * n + j] = (byte) Math.round(w[i * n + j] / s[j]);
      }
    }
    GraphProto.Builder g = GraphProto.newBuilder().addInitializer(bytes("wq", 3, q, k, n))
        .addInitializer(bytes("wz", 3, new byte[n], n)).addInitializer(floats("ws", s, n))
        .addInitializer(floats("b", b, n))
        .addNode(node("DynamicQuantizeLinear", "x", "->", "xq", "xs", "xz"))
        .addNode(node("MatMulInteger", "xq", "wq", "xz", "wz", "->", "yi"))
        .addNode(node("Cast", "yi", "->", "yf").addAttribute(AttributeProto.newBuilder().setName("to")
            .setType(AttributeProto.AttributeType.INT).setI(1)))
        .addNode(node("Mul", "xs", "ws", "->", "scale")).addNode(node("Mul", "yf", "scale", "->", "xw"))
        .addNode(node("Add", "xw", "b", "->", "y"));
    return model(g);
  }
}
