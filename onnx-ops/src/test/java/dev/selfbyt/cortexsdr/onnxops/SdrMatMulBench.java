package dev.selfbyt.cortexsdr.onnxops;

import ai.onnx.proto.OnnxMl.AttributeProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import com.google.protobuf.ByteString;
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
 * Benchmark (a main, not a test): {@code SdrMatMul} against ONNX Runtime's dense fp32 {@code
 * MatMul} and {@code MatMulNBits} (int4, block 32, fp32 compute) on the same shapes, in one run.
 * For each shape and M every model takes turns, one run each per round, so the shared machine's
 * noise falls on all alike (thread pools do not spin between runs, for all models alike); prints the median per model in microseconds, the speedup of SdrMatMul
 * over dense MatMul, and each model's weight bytes.
 *
 * <pre>
 * java -cp ... dev.selfbyt.cortexsdr.onnxops.SdrMatMulBench [threads] [seconds per cell] [isa] [M]
 * </pre>
 */
public final class SdrMatMulBench {
  static final OrtEnvironment ENV = OrtEnvironment.getEnvironment();
  static String isa = "auto";

  public static void main(String[] args) throws Exception {
    int threads = args.length > 0 ? Integer.parseInt(args[0]) : 2;
    double seconds = args.length > 1 ? Double.parseDouble(args[1]) : 0.4;
    isa = args.length > 2 ? args[2] : "auto";
    int[] onlyM = args.length > 3 ? new int[] {Integer.parseInt(args[3])} : null;
    int[][] shapes = {{2048, 2048}, {384, 384}, {384, 1536}, {1536, 384}};
    int[] ms = onlyM != null ? onlyM : new int[] {1, 128};
    double[] sparsities = {0.5, 0.75, 0.9, 0.95};
    System.out.printf(Locale.ROOT, "SdrMatMul benchmark: %d intra-op threads, ONNX Runtime %s, %s%n", threads,
        ai.onnxruntime.OrtEnvironment.getEnvironment().getVersion(), System.getProperty("os.arch"));
    System.out.println();
    System.out.println("| K x N | M | dense fp32 MatMul us | MatMulNBits int4 us | sparsity | SdrMatMul fp32 us"
        + " | SdrMatMul int8 us | SdrMatMul int4 us | best SDR vs dense | weight KiB dense / nbits4 / sdr fp32 / int8 / int4 |");
    System.out.println("|---|---|---|---|---|---|---|---|---|---|");
    Random rnd = new Random(42);
    for (int[] s : shapes) {
      int k = s[0];
      int n = s[1];
      float[] dense = SdrModels.randomInput(rnd, k * n);
      List<SdrMatMulWeights[]> sdr = new ArrayList<>();
      for (double sp : sparsities) {
        sdr.add(new SdrMatMulWeights[] {
          SdrModels.random(rnd, k, n, sp, 32, 0), SdrModels.random(rnd, k, n, sp, 8, 32),
          SdrModels.random(rnd, k, n, sp, 4, 32)});
      }
      for (int m : ms) {
        Map<String, byte[]> models = new LinkedHashMap<>();
        models.put("dense", denseModel(dense, k, n));
        models.put("nbits", nbitsModel(rnd, k, n));
        for (int i = 0; i < sparsities.length; i++) {
          for (int v = 0; v < 3; v++) {
            models.put("sdr" + i + "_" + v, SdrModels.model(sdr.get(i)[v], false, null, (long) k));
          }
        }
        Map<String, Double> us = measure(models, m, k, threads, seconds);
        for (int i = 0; i < sparsities.length; i++) {
          SdrMatMulWeights[] w = sdr.get(i);
          double best = Math.min(us.get("sdr" + i + "_0"), Math.min(us.get("sdr" + i + "_1"), us.get("sdr" + i + "_2")));
          System.out.printf(Locale.ROOT, "| %dx%d | %d | %.1f | %.1f | %.0f%% | %.1f | %.1f | %.1f | %.2fx | %d / %d / %d / %d / %d |%n",
              k, n, m, us.get("dense"), us.get("nbits"), 100 * sparsities[i], us.get("sdr" + i + "_0"),
              us.get("sdr" + i + "_1"), us.get("sdr" + i + "_2"), us.get("dense") / best,
              4L * k * n / 1024, nbitsBytes(k, n) / 1024, w[0].bytes() / 1024, w[1].bytes() / 1024,
              w[2].bytes() / 1024);
        }
      }
    }
  }

  /** Median microseconds per run of each model on one random [M, K] input. */
  static Map<String, Double> measure(Map<String, byte[]> models, int m, int k, int threads, double seconds)
      throws Exception {
    Map<String, OrtSession> open = new LinkedHashMap<>();
    Map<String, List<Long>> times = new LinkedHashMap<>();
    float[] x = SdrModels.randomInput(new Random(m), m * k);
    try (OnnxTensor in = OnnxTensor.createTensor(ENV, FloatBuffer.wrap(x), new long[] {m, k})) {
      try {
        long slowest = 0;
        for (Map.Entry<String, byte[]> e : models.entrySet()) {
          try (OrtSession.SessionOptions o = new OrtSession.SessionOptions()) {
            o.setIntraOpNumThreads(threads);
            o.setInterOpNumThreads(1);
            // many sessions take turns: idle thread pools must not spin on the cores the next one needs
            o.addConfigEntry("session.intra_op.allow_spinning", "0");
            o.addConfigEntry(SdrOps.ISA_CONFIG, isa);
            SdrOps.register(o);
            OrtSession s = ENV.createSession(e.getValue(), o);
            open.put(e.getKey(), s);
            times.put(e.getKey(), new ArrayList<>());
            long t = 0;
            for (int i = 0; i < 5; i++) {
              t = System.nanoTime();
              s.run(Map.of("X", in)).close();
              t = System.nanoTime() - t;
            }
            slowest = Math.max(slowest, t);
          }
        }
        int rounds = (int) Math.max(15, Math.min(400, seconds * 1e9 * 4 / (slowest * models.size() + 1)));
        for (int r = 0; r < rounds; r++) {
          for (Map.Entry<String, OrtSession> e : open.entrySet()) {
            long t = System.nanoTime();
            e.getValue().run(Map.of("X", in)).close();
            times.get(e.getKey()).add(System.nanoTime() - t);
          }
        }
      } finally {
        for (OrtSession s : open.values()) {
          s.close();
        }
      }
    }
    Map<String, Double> out = new LinkedHashMap<>();
    times.forEach((name, v) -> {
      long[] a = v.stream().mapToLong(Long::longValue).toArray();
      Arrays.sort(a);
      out.put(name, a[a.length / 2] / 1e3);
    });
    return out;
  }

  static byte[] denseModel(float[] w, int k, int n) {
    ByteBuffer b = ByteBuffer.allocate(4 * w.length).order(ByteOrder.LITTLE_ENDIAN);
    b.asFloatBuffer().put(w);
    TensorProto t = TensorProto.newBuilder().setName("W").setDataType(TensorProto.DataType.FLOAT_VALUE)
        .addDims(k).addDims(n).setRawData(ByteString.copyFrom(b.array())).build();
    NodeProto mm = NodeProto.newBuilder().setName("mm").setOpType("MatMul").addInput("X").addInput("W").addOutput("Y").build();
    return SdrModels.model(mm, List.of(t), TensorProto.DataType.FLOAT_VALUE, null, (long) k);
  }

  static long nbitsBytes(int k, int n) {
    int blocks = (k + 31) / 32;
    return (long) n * blocks * 16 + 4L * n * blocks;
  }

  /** MatMulNBits, int4 codes in blocks of 32 along K, fp32 compute (accuracy_level 0). */
  static byte[] nbitsModel(Random rnd, int k, int n) {
    int blocks = (k + 31) / 32;
    byte[] codes = new byte[n * blocks * 16];
    rnd.nextBytes(codes);
    ByteBuffer sc = ByteBuffer.allocate(4 * n * blocks).order(ByteOrder.LITTLE_ENDIAN);
    for (int i = 0; i < n * blocks; i++) {
      sc.putFloat(0.01f + rnd.nextFloat() * 0.05f);
    }
    List<TensorProto> inits = List.of(
        TensorProto.newBuilder().setName("B").setDataType(TensorProto.DataType.UINT8_VALUE).addDims(n).addDims(blocks)
            .addDims(16).setRawData(ByteString.copyFrom(codes)).build(),
        TensorProto.newBuilder().setName("S").setDataType(TensorProto.DataType.FLOAT_VALUE).addDims((long) n * blocks)
            .setRawData(ByteString.copyFrom(sc.array())).build());
    NodeProto nb = NodeProto.newBuilder().setName("nbits").setOpType("MatMulNBits").setDomain("com.microsoft")
        .addInput("X").addInput("B").addInput("S").addOutput("Y")
        .addAttribute(attr("K", k)).addAttribute(attr("N", n)).addAttribute(attr("bits", 4))
        .addAttribute(attr("block_size", 32)).build();
    byte[] model = SdrModels.model(nb, inits, TensorProto.DataType.FLOAT_VALUE, null, (long) k);
    try {
      return ai.onnx.proto.OnnxMl.ModelProto.parseFrom(model).toBuilder()
          .addOpsetImport(ai.onnx.proto.OnnxMl.OperatorSetIdProto.newBuilder().setDomain("com.microsoft").setVersion(1))
          .build().toByteArray();
    } catch (com.google.protobuf.InvalidProtocolBufferException e) {
      throw new IllegalStateException(e);
    }
  }

  static AttributeProto attr(String name, long v) {
    return AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.INT).setI(v).build();
  }
}
