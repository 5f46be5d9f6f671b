package dev.selfbyt.cortexsdr.onnxops;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import ai.onnx.proto.OnnxMl.AttributeProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import com.google.protobuf.ByteString;
import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

/** {@code ai.cortexsdr.SdrMatMul} in ONNX Runtime against a Java reference. */
class SdrMatMulTest {
  static final OrtEnvironment ENV = OrtEnvironment.getEnvironment();

  /** {M, K, N}: single rows, odd sizes, the few-rows and the tiled kernel, tiles with a ragged end. */
  static final int[][] SHAPES = {
    {1, 1, 1}, {1, 7, 5}, {1, 384, 384}, {1, 1537, 33}, {2, 33, 17}, {4, 100, 3},
    {5, 129, 65}, {31, 17, 9}, {65, 63, 31}, {128, 384, 96}, {3, 1, 40},
  };

  static OrtSession session(byte[] model, String isa, int threads) throws OrtException {
    try (OrtSession.SessionOptions o = new OrtSession.SessionOptions()) {
      o.setIntraOpNumThreads(threads);
      o.addConfigEntry(SdrOps.ISA_CONFIG, isa);
      try {
        SdrOps.register(o);
      } catch (OrtException e) {
        Assumptions.assumeFalse(e.getMessage().contains("this CPU supports at most"), e.getMessage());
        throw e;
      }
      // the session outlives its options: the library stays loaded (System.load in SdrOps)
      return ENV.createSession(model, o);
    }
  }

  static float[] run(OrtSession s, float[] x, long... shape) throws OrtException {
    try (OnnxTensor t = OnnxTensor.createTensor(ENV, FloatBuffer.wrap(x), shape);
        OrtSession.Result r = s.run(Map.of("X", t))) {
      OnnxTensor y = (OnnxTensor) r.get(0);
      FloatBuffer b = y.getFloatBuffer();
      float[] out = new float[b.remaining()];
      b.get(out);
      return out;
    }
  }

  static void assertClose(float[] want, float[] tol, float[] got, String what) {
    assertEquals(want.length, got.length, what + ": output size");
    for (int i = 0; i < want.length; i++) {
      if (!(Math.abs(want[i] - got[i]) <= tol[i])) {
        fail(what + ": element " + i + " is " + got[i] + ", reference " + want[i] + " (tolerance " + tol[i] + ")");
      }
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"scalar", "avx2", "avx512", "auto"})
  void matchesTheJavaReferenceOnRandomShapes(String isa) throws Exception {
    Random rnd = new Random(isa.hashCode());
    double[] sparsities = {0.0, 0.5, 0.9, 0.97, 1.0};
    int[][] valueForms = {{32, 0}, {8, 32}, {8, 7}, {4, 16}, {4, 5}};
    int cases = 0;
    for (int[] s : SHAPES) {
      int m = s[0];
      int k = s[1];
      int n = s[2];
      for (int[] vf : valueForms) {
        double sp = sparsities[rnd.nextInt(sparsities.length)];
        SdrMatMulWeights w = SdrModels.random(rnd, k, n, sp, vf[0], vf[1]);
        boolean int32Rows = rnd.nextBoolean();
        try (OrtSession sess = session(SdrModels.model(w, int32Rows, null, (long) k), isa, 2)) {
          float[] x = SdrModels.randomInput(rnd, m * k);
          String what = String.format("%s M=%d K=%d N=%d %s bits=%d block=%d nnz=%d%s", isa, m, k, n,
              sp, vf[0], vf[1], w.nnz(), int32Rows ? " int32 rows" : "");
          assertClose(SdrModels.reference(x, m, w), SdrModels.tolerance(x, m, w), run(sess, x, m, k), what);
          cases++;
        }
      }
    }
    assertEquals(SHAPES.length * valueForms.length, cases);
  }

  @Test
  void keepsTheLeadingDimensionsOfX() throws Exception {
    Random rnd = new Random(3);
    SdrMatMulWeights w = SdrModels.random(rnd, 24, 10, 0.6, 4, 32);
    try (OrtSession s = session(SdrModels.model(w, false, 2L, null, 24L), "auto", 2)) {
      float[] x = SdrModels.randomInput(rnd, 2 * 3 * 24);
      float[] y = run(s, x, 2, 3, 24);
      assertClose(SdrModels.reference(x, 6, w), SdrModels.tolerance(x, 6, w), y, "[2, 3, 24] input");
    }
  }

  @Test
  void wrongInputShapeIsAClearError() throws Exception {
    SdrMatMulWeights w = SdrModels.random(new Random(1), 16, 8, 0.5, 32, 0);
    try (OrtSession s = session(SdrModels.model(w, false, null, null), "auto", 1)) {
      OrtException e = assertThrows(OrtException.class, () -> run(s, new float[2 * 15], 2, 15));
      assertTrue(e.getMessage().contains("SdrMatMul node 'sdr': X's last dimension is 15, the attribute K is 16"),
          e.getMessage());
    }
  }

  @Test
  void wrongInputDtypeIsAClearError() {
    SdrMatMulWeights w = SdrModels.random(new Random(1), 16, 8, 0.5, 32, 0);
    byte[] model = SdrModels.model(w.node("sdr", "X", "Y", "W"), w.initializers("W"),
        TensorProto.DataType.DOUBLE_VALUE, null, 16L);
    OrtException e = assertThrows(OrtException.class, () -> session(model, "auto", 1).close());
    assertTrue(e.getMessage().contains("tensor(double)") && e.getMessage().contains("SdrMatMul"), e.getMessage());
  }

  @Test
  void wrongWeightArraysAreClearErrors() throws Exception {
    SdrMatMulWeights w = SdrModels.random(new Random(2), 16, 8, 0.5, 8, 16);
    List<TensorProto> inits = w.initializers("W");
    // row indices as int64
    assertRejected(w.node("sdr", "X", "Y", "W"), replace(inits, "W_row_idx", TensorProto.DataType.INT64_VALUE, 8),
        "row_idx must be uint16 or int32, it is int64");
    // values of the wrong type for bits = 8
    assertRejected(w.node("sdr", "X", "Y", "W"), replace(inits, "W_values", TensorProto.DataType.FLOAT_VALUE, 4),
        "values must be uint8 for bits = 8, they are float");
    // a row index outside K
    TensorProto rows = inits.stream().filter(t -> t.getName().equals("W_row_idx")).findFirst().orElseThrow();
    byte[] bad = rows.getRawData().toByteArray();
    bad[0] = 99;
    bad[1] = 0;
    assertRejected(w.node("sdr", "X", "Y", "W"),
        replace(inits, rows.toBuilder().setRawData(ByteString.copyFrom(bad)).build()), "row_idx[0] = 99 is outside [0, K = 16)");
    // a missing attribute
    NodeProto noK = w.node("sdr", "X", "Y", "W").toBuilder().removeAttribute(0).build();
    assertRejected(noK, inits, "attribute K is missing");
    // an unsupported width
    NodeProto bits3 = w.node("sdr", "X", "Y", "W").toBuilder().setAttribute(2,
        AttributeProto.newBuilder().setName("bits").setType(AttributeProto.AttributeType.INT).setI(3)).build();
    assertRejected(bits3, inits, "bits = 3; supported are 32 (float values), 8 and 4");
  }

  static List<TensorProto> replace(List<TensorProto> inits, String name, int type, int elementBytes) {
    TensorProto old = inits.stream().filter(t -> t.getName().equals(name)).findFirst().orElseThrow();
    long count = old.getDims(0);
    return replace(inits, old.toBuilder().setDataType(type)
        .setRawData(ByteString.copyFrom(new byte[(int) (count * elementBytes)])).build());
  }

  static List<TensorProto> replace(List<TensorProto> inits, TensorProto t) {
    List<TensorProto> out = new ArrayList<>();
    for (TensorProto i : inits) {
      out.add(i.getName().equals(t.getName()) ? t : i);
    }
    return out;
  }

  static void assertRejected(NodeProto node, List<TensorProto> inits, String message) throws Exception {
    byte[] model = SdrModels.model(node, inits, TensorProto.DataType.FLOAT_VALUE, 1L, 16L);
    OrtException e = assertThrows(OrtException.class, () -> {
      try (OrtSession s = session(model, "auto", 1)) {
        run(s, new float[16], 1, 16);
      }
    });
    assertTrue(e.getMessage().contains(message), "expected '" + message + "' in: " + e.getMessage());
  }

  @Test
  void weightsFedAsInputsAreCheckedOnEveryRun() throws Exception {
    // col_ptr, row_idx and values as graph inputs instead of initializers
    SdrMatMulWeights w = SdrModels.random(new Random(5), 16, 8, 0.5, 32, 0);
    NodeProto node = NodeProto.newBuilder().setName("sdr").setOpType("SdrMatMul").setDomain(SdrOps.DOMAIN)
        .addInput("X").addInput("col_ptr").addInput("row_idx").addInput("values").addOutput("Y")
        .addAttribute(AttributeProto.newBuilder().setName("K").setType(AttributeProto.AttributeType.INT).setI(16))
        .addAttribute(AttributeProto.newBuilder().setName("N").setType(AttributeProto.AttributeType.INT).setI(8))
        .build();
    ai.onnx.proto.OnnxMl.ModelProto m = ai.onnx.proto.OnnxMl.ModelProto.parseFrom(
        SdrModels.model(node, List.of(), TensorProto.DataType.FLOAT_VALUE, 1L, 16L));
    ai.onnx.proto.OnnxMl.GraphProto.Builder g = m.getGraph().toBuilder();
    g.addInput(SdrModels.input("col_ptr", TensorProto.DataType.INT32_VALUE, 9));
    g.addInput(SdrModels.input("row_idx", TensorProto.DataType.INT32_VALUE, w.nnz()));
    g.addInput(SdrModels.input("values", TensorProto.DataType.FLOAT_VALUE, w.nnz()));
    byte[] model = m.toBuilder().setGraph(g).build().toByteArray();
    List<TensorProto> inits = w.initializers("W", true);
    int[] colPtr = ints(inits.get(0));
    int[] rows = ints(inits.get(1));
    float[] values = new float[w.nnz()];
    java.nio.ByteBuffer.wrap(inits.get(2).getRawData().toByteArray()).order(java.nio.ByteOrder.LITTLE_ENDIAN)
        .asFloatBuffer().get(values);
    float[] x = SdrModels.randomInput(new Random(6), 16);
    try (OrtSession s = session(model, "auto", 1)) {
      assertClose(SdrModels.reference(x, 1, w), SdrModels.tolerance(x, 1, w), runWith(s, x, colPtr, rows, values),
          "weights as inputs");
      rows[rows.length - 1] = 16;
      OrtException e = assertThrows(OrtException.class, () -> runWith(s, x, colPtr, rows, values));
      assertTrue(e.getMessage().contains("is outside [0, K = 16)"), e.getMessage());
    }
  }

  static int[] ints(TensorProto t) {
    java.nio.IntBuffer b = java.nio.ByteBuffer.wrap(t.getRawData().toByteArray())
        .order(java.nio.ByteOrder.LITTLE_ENDIAN).asIntBuffer();
    int[] out = new int[b.remaining()];
    b.get(out);
    return out;
  }

  static float[] runWith(OrtSession s, float[] x, int[] colPtr, int[] rows, float[] values) throws OrtException {
    try (OnnxTensor tx = OnnxTensor.createTensor(ENV, FloatBuffer.wrap(x), new long[] {1, x.length});
        OnnxTensor tc = OnnxTensor.createTensor(ENV, java.nio.IntBuffer.wrap(colPtr), new long[] {colPtr.length});
        OnnxTensor tr = OnnxTensor.createTensor(ENV, java.nio.IntBuffer.wrap(rows), new long[] {rows.length});
        OnnxTensor tv = OnnxTensor.createTensor(ENV, FloatBuffer.wrap(values), new long[] {values.length});
        OrtSession.Result r = s.run(Map.of("X", tx, "col_ptr", tc, "row_idx", tr, "values", tv))) {
      FloatBuffer b = ((OnnxTensor) r.get(0)).getFloatBuffer();
      float[] out = new float[b.remaining()];
      b.get(out);
      return out;
    }
  }

  @Test
  void tooOldRuntimeIsAClearError() throws Exception {
    try (OrtSession.SessionOptions o = new OrtSession.SessionOptions()) {
      o.addConfigEntry("cortexsdr.ops.required_api", "1000");
      OrtException e = assertThrows(OrtException.class, () -> SdrOps.register(o));
      assertTrue(e.getMessage().contains("need ONNX Runtime C API version 1000")
          && e.getMessage().contains("this process runs ONNX Runtime 1.29.0, which is too old"), e.getMessage());
    }
  }

  @Test
  void eightThreadsOverSeveralSessions() throws Exception {
    Random rnd = new Random(8);
    int sessions = 4;
    List<SdrMatMulWeights> weights = new ArrayList<>();
    List<OrtSession> open = new ArrayList<>();
    ExecutorService pool = Executors.newFixedThreadPool(8);
    try {
      int[][] forms = {{32, 0}, {8, 32}, {4, 16}, {8, 64}};
      for (int i = 0; i < sessions; i++) {
        SdrMatMulWeights w = SdrModels.random(rnd, 192 + i, 130 - i, 0.8, forms[i][0], forms[i][1]);
        weights.add(w);
        open.add(session(SdrModels.model(w, false, null, (long) w.k()), "auto", 2));
      }
      List<Future<Integer>> done = new ArrayList<>();
      for (int t = 0; t < 8; t++) {
        int id = t;
        done.add(pool.submit(() -> {
          Random r = new Random(100 + id);
          int checked = 0;
          for (int iter = 0; iter < 20; iter++) {
            int s = (id + iter) % sessions;
            SdrMatMulWeights w = weights.get(s);
            int m = 1 + r.nextInt(iter % 2 == 0 ? 3 : 70);
            float[] x = SdrModels.randomInput(r, m * w.k());
            assertClose(SdrModels.reference(x, m, w), SdrModels.tolerance(x, m, w), run(open.get(s), x, m, w.k()),
                "thread " + id + " session " + s + " M=" + m);
            checked++;
          }
          return checked;
        }));
      }
      int total = 0;
      for (Future<Integer> f : done) {
        total += f.get();
      }
      assertEquals(160, total);
    } finally {
      pool.shutdown();
      for (OrtSession s : open) {
        s.close();
      }
    }
  }
}
