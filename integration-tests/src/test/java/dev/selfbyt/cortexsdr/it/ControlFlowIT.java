package dev.selfbyt.cortexsdr.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.inference.Predictor;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.repository.zoo.Criteria;
import ai.djl.repository.zoo.ZooModel;
import ai.onnxruntime.NodeInfo;
import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxValue;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.TensorInfo;
import dev.selfbyt.cortexsdr.converters.onnx.OnnxExporter;
import dev.selfbyt.cortexsdr.converters.onnx.OnnxModelReader;
import dev.selfbyt.cortexsdr.converters.onnx.QuantizedOnnxExporter;
import dev.selfbyt.cortexsdr.core.CompressionOptions;
import dev.selfbyt.cortexsdr.core.CompressionStats;
import dev.selfbyt.cortexsdr.core.CortexSdr;
import dev.selfbyt.cortexsdr.core.Preset;
import dev.selfbyt.cortexsdr.core.calibrate.Metrics;
import dev.selfbyt.cortexsdr.core.codec.CodecId;
import dev.selfbyt.cortexsdr.core.format.CaiEntry;
import dev.selfbyt.cortexsdr.core.format.CaiReader;
import dev.selfbyt.cortexsdr.djl.CaiSymbolBlock;
import dev.selfbyt.cortexsdr.it.models.ControlFlowModels;
import dev.selfbyt.cortexsdr.onnxops.CaiOrt;
import java.nio.ByteBuffer;
import java.nio.FloatBuffer;
import java.nio.LongBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Models with control flow ({@code If}, {@code Loop}, {@code LSTM}, {@code GRU}) compressed at
 * int8 and run every way a user runs a {@code .cai}: {@code CaiOrt}, the decoded and the quantized
 * {@code export-onnx} files in ONNX Runtime, and DJL with the CortexSDR engine (which hands these
 * graphs to ONNX Runtime); each against ONNX Runtime on the original, on inputs that take every
 * branch. The PyTorch models are exported by {@code src/main/python/control_flow_models.py} and
 * need Debian's python3-torch under /usr/bin/python3 (skipped, saying so, without it).
 */
class ControlFlowIT {
  static final String PYTHON = "/usr/bin/python3";
  @TempDir static Path dir;
  static OrtEnvironment env;

  @BeforeAll
  static void setUp() {
    env = OrtEnvironment.getEnvironment();
  }

  /** The If whose branches hold their own 256 x 256 weights compresses as if they were main-graph weights. */
  @Test
  void branchWeightsCompressToTheInt8Ratio() throws Exception {
    Path model = ControlFlowModels.branchWeights(dir);
    CompressionStats stats = check(model, "branch_weights", Preset.INT8);
    assertTrue(stats.ratio() > 3.8, "ratio " + stats.ratio());
  }

  @ParameterizedTest
  @ValueSource(strings = {"if_scripted", "loop_scripted", "lstm", "gru"})
  void pytorchControlFlowModelsRunTheSame(String name) throws Exception {
    CompressionStats stats = check(torchModel(name), name, Preset.INT8);
    assertTrue(stats.ratio() > 3.5, name + " ratio " + stats.ratio());
  }

  /**
   * {@code int8-fast}: the Gemm inside the If branches and the Loop body compute with int8
   * activations ({@code MatMulInteger}) in the quantized export and in {@code CaiOrt}.
   */
  @ParameterizedTest
  @ValueSource(strings = {"if_scripted", "loop_scripted"})
  void int8ActivationsInsideSubgraphs(String name) throws Exception {
    check(torchModel(name), name + "-fast", Preset.INT8_FAST);
    try (CaiReader r = CaiReader.open(dir.resolve(name + "-fast.cai"))) {
      long integer = QuantizedOnnxExporter.build(r, 0, true, null).forms().stream()
          .filter(f -> f.form().startsWith("MatMulInteger")).count();
      assertEquals(name.equals("if_scripted") ? 2 : 1, integer, name);
    }
  }

  private static Path torchModel(String name) throws Exception {
    Assumptions.assumeTrue(ControlFlowModels.hasTorch(PYTHON), PYTHON + " has no torch (apt-get install python3-torch)");
    Path model = dir.resolve(name + ".onnx");
    if (!Files.exists(model)) {
      Path tool = Path.of("src/main/python/control_flow_models.py");
      if (!Files.exists(tool)) {
        tool = Path.of("integration-tests/src/main/python/control_flow_models.py");
      }
      ControlFlowModels.torch(dir, PYTHON, tool);
    }
    return model;
  }

  /**
   * Compresses {@code model} with {@code preset} and checks every way of running it against the original;
   * every float weight of 4096 elements or more, in whatever graph, must be quantized.
   */
  private static CompressionStats check(Path model, String name, Preset preset) throws Exception {
    Path cai = dir.resolve(name + ".cai");
    CompressionStats stats;
    try (OnnxModelReader onnx = OnnxModelReader.open(model)) {
      stats = CortexSdr.compress(onnx, cai, CompressionOptions.builder().preset(preset).build());
    }
    Path decoded = dir.resolve(name + "-decoded.onnx");
    Path quantized = dir.resolve(name + "-quantized.onnx");
    List<QuantizedOnnxExporter.Form> forms;
    try (CaiReader r = CaiReader.open(cai)) {
      for (CaiEntry e : r.entries()) {
        if (e.info().dtype().isFloating() && e.info().numel() >= 4096) {
          assertEquals(CodecId.QUANT, e.codec(), name + ": " + e.name() + " " + e.info());
        }
        System.out.printf("%s: %s %s role %s axis %d, %s%n", name, e.name(), java.util.Arrays.toString(e.info().shape()),
            e.info().role(), e.info().reductionAxis(), e.codec());
      }
      OnnxExporter.exportDecoded(r, decoded);
      forms = QuantizedOnnxExporter.export(r, quantized, 0);
    }
    long nbits = forms.stream().filter(f -> f.form().startsWith("MatMulNBits")).count();
    System.out.printf("%s: %s %.3fx (%,d -> %,d bytes), %d weights as MatMulNBits in the quantized export%n", name,
        preset.id(), stats.ratio(), stats.inputBytes(), stats.outputBytes(), nbits);
    List<Map<String, Object>> cases = inputs(model);
    try (dev.selfbyt.cortexsdr.onnxops.CaiOrtSession caiOrt = CaiOrt.open(env, cai)) {
      OrtSession viaCaiOrt = caiOrt.session();
      for (int c = 0; c < cases.size(); c++) {
        Map<String, Object> in = cases.get(c);
        List<float[]> want = run(model, in);
        List<float[]> dec = run(decoded, in);
        List<float[]> q = run(quantized, in);
        List<float[]> ort = run(viaCaiOrt, in);
        for (int i = 0; i < want.size(); i++) {
          double cos = Metrics.cosine(want.get(i), dec.get(i));
          double cq = Metrics.cosine(dec.get(i), q.get(i));
          double co = Metrics.cosine(want.get(i), ort.get(i));
          System.out.printf("%s case %d output %d: cosine vs original: decoded %.6f, CaiOrt %.6f; quantized vs decoded "
              + "%.7f%n", name, c, i, cos, co, cq);
          assertTrue(cos > 0.999 && co > 0.999, name + " case " + c + " output " + i + ": " + cos + " / " + co);
          // int8-fast's export quantizes activations too: it matches the decoded one less closely
          assertTrue(cq > (preset == Preset.INT8_FAST ? 0.999 : 0.99999), name + " case " + c + " output " + i
              + ": quantized " + cq);
        }
        List<float[]> djl = djl(cai, in, hasControlFlow(model));
        assertEquals(dec.size(), djl.size());
        for (int i = 0; i < dec.size(); i++) {
          assertTrue(Metrics.cosine(dec.get(i), djl.get(i)) > 0.99999, name + " DJL output " + i);
        }
      }
    }
    return stats;
  }

  /** Two input sets: seeded floats and their negation (x.sum() > 0 takes each branch), C true and false, counts 3. */
  private static List<Map<String, Object>> inputs(Path model) throws Exception {
    List<Map<String, Object>> out = new ArrayList<>();
    try (OrtSession s = env.createSession(model.toString(), new OrtSession.SessionOptions())) {
      for (int c = 0; c < 2; c++) {
        Map<String, Object> in = new LinkedHashMap<>();
        int seed = 1;
        for (Map.Entry<String, NodeInfo> e : s.getInputInfo().entrySet()) {
          TensorInfo t = (TensorInfo) e.getValue().getInfo();
          switch (t.type) {
            case FLOAT -> {
              int n = (int) t.getNumElements();
              float[] v = new float[n];
              SplittableRandom r = new SplittableRandom(seed++);
              for (int i = 0; i < n; i++) {
                v[i] = (float) r.nextGaussian() * (c == 0 ? 1 : -1);
              }
              in.put(e.getKey(), new Shaped(v, t.getShape()));
            }
            case BOOL -> in.put(e.getKey(), c == 0);
            case INT64 -> in.put(e.getKey(), 3L);
            default -> throw new IllegalArgumentException(model + ": input " + e.getKey() + " of type " + t.type);
          }
        }
        out.add(in);
      }
    }
    return out;
  }

  private record Shaped(float[] values, long[] shape) {}

  private static List<float[]> run(Path model, Map<String, Object> inputs) throws Exception {
    try (OrtSession s = env.createSession(model.toString(), new OrtSession.SessionOptions())) {
      return run(s, inputs);
    }
  }

  private static List<float[]> run(OrtSession s, Map<String, Object> inputs) throws Exception {
    Map<String, OnnxTensor> in = new LinkedHashMap<>();
    try {
      for (Map.Entry<String, Object> e : inputs.entrySet()) {
        Object v = e.getValue();
        OnnxTensor t;
        if (v instanceof Shaped f) {
          t = OnnxTensor.createTensor(env, FloatBuffer.wrap(f.values()), f.shape());
        } else if (v instanceof Boolean b) {
          t = OnnxTensor.createTensor(env, ByteBuffer.wrap(new byte[] {(byte) (b ? 1 : 0)}), new long[0], OnnxJavaType.BOOL);
        } else {
          t = OnnxTensor.createTensor(env, LongBuffer.wrap(new long[] {(Long) v}), new long[0]);
        }
        in.put(e.getKey(), t);
      }
      try (OrtSession.Result r = s.run(in)) {
        List<float[]> out = new ArrayList<>();
        for (Map.Entry<String, OnnxValue> e : r) {
          FloatBuffer b = ((OnnxTensor) e.getValue()).getFloatBuffer();
          float[] a = new float[b.remaining()];
          b.get(a);
          out.add(a);
        }
        return out;
      }
    } finally {
      in.values().forEach(OnnxTensor::close);
    }
  }

  /** Whether the graph holds {@code If}, {@code Loop} or {@code Scan} nodes (at its top level). */
  private static boolean hasControlFlow(Path onnx) throws Exception {
    ai.onnx.proto.OnnxMl.ModelProto m = ai.onnx.proto.OnnxMl.ModelProto.parseFrom(Files.readAllBytes(onnx));
    return m.getGraph().getNodeList().stream()
        .anyMatch(n -> List.of("If", "Loop", "Scan").contains(n.getOpType()));
  }

  /**
   * Runs the {@code .cai} through DJL with the CortexSDR engine: the Java executor runs LSTM and
   * GRU itself and hands graphs with control flow to ONNX Runtime.
   */
  private static List<float[]> djl(Path cai, Map<String, Object> inputs, boolean controlFlow) throws Exception {
    Criteria<NDList, NDList> criteria = Criteria.builder().setTypes(NDList.class, NDList.class).optModelPath(cai)
        .optEngine("CortexSDR").build();
    try (ZooModel<NDList, NDList> model = criteria.loadModel();
        Predictor<NDList, NDList> p = model.newPredictor();
        NDManager nd = model.getNDManager().newSubManager()) {
      String runner = ((CaiSymbolBlock) model.getBlock()).describeRunner();
      assertTrue(runner.contains(controlFlow ? "ONNX Runtime" : "java executor"),
          (controlFlow ? "control flow runs in ONNX Runtime: " : "the Java executor runs it: ") + runner);
      NDList in = new NDList();
      for (Object v : inputs.values()) {
        if (v instanceof Shaped f) {
          in.add(nd.create(f.values(), new Shape(f.shape())));
        } else if (v instanceof Boolean b) {
          in.add(nd.create(b));
        } else {
          in.add(nd.create((long) (Long) v));
        }
      }
      List<float[]> out = new ArrayList<>();
      for (NDArray a : p.predict(in)) {
        out.add(a.toFloatArray());
      }
      return out;
    }
  }
}
