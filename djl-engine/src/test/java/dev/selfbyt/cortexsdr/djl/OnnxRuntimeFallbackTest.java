package dev.selfbyt.cortexsdr.djl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.MalformedModelException;
import ai.djl.inference.Predictor;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.repository.zoo.Criteria;
import ai.djl.repository.zoo.ZooModel;
import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.OperatorSetIdProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import ai.onnx.proto.OnnxMl.TypeProto;
import ai.onnx.proto.OnnxMl.ValueInfoProto;
import com.google.protobuf.ByteString;
import dev.selfbyt.cortexsdr.converters.onnx.OnnxModelReader;
import dev.selfbyt.cortexsdr.core.CortexSdr;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A graph with an operator the executor lacks (Sin, control flow) runs whole in ONNX Runtime, or
 * fails naming it.
 */
class OnnxRuntimeFallbackTest {
  @TempDir Path dir;

  private Path caiWithSin() throws Exception {
    int k = 64;
    ByteBuffer w = ByteBuffer.allocate(4 * k * k).order(ByteOrder.LITTLE_ENDIAN);
    Random rnd = new Random(3);
    for (int i = 0; i < k * k; i++) {
      w.putFloat((float) rnd.nextGaussian());
    }
    TypeProto f32 = TypeProto.newBuilder().setTensorType(TypeProto.Tensor.newBuilder().setElemType(1)).build();
    GraphProto g = GraphProto.newBuilder().setName("sin-mlp")
        .addInitializer(TensorProto.newBuilder().setName("w").setDataType(1).addDims(k).addDims(k)
            .setRawData(ByteString.copyFrom(w.array())))
        .addNode(NodeProto.newBuilder().setOpType("MatMul").addInput("x").addInput("w").addOutput("h"))
        .addNode(NodeProto.newBuilder().setOpType("Sin").addInput("h").addOutput("y"))
        .addInput(ValueInfoProto.newBuilder().setName("x").setType(f32))
        .addOutput(ValueInfoProto.newBuilder().setName("y").setType(f32))
        .build();
    ModelProto m = ModelProto.newBuilder().setIrVersion(8).setGraph(g)
        .addOpsetImport(OperatorSetIdProto.newBuilder().setVersion(13)).build();
    Path onnx = dir.resolve("sin.onnx");
    Files.write(onnx, m.toByteArray());
    Path cai = dir.resolve("sin.cai");
    try (OnnxModelReader r = OnnxModelReader.open(onnx)) {
      CortexSdr.compress(r, cai);
    }
    return cai;
  }

  private static Criteria<NDList, NDList> criteria(Path cai) {
    return Criteria.builder().setTypes(NDList.class, NDList.class).optModelPath(cai).optEngine("CortexSDR").build();
  }

  @Test
  void runsInOnnxRuntimeWhenItIsOnTheClasspath() throws Exception {
    Path cai = caiWithSin();
    // the warning goes through java.util.logging, the engine's logger: seen with no SLF4J binding
    List<LogRecord> records = new ArrayList<>();
    Handler capture = new Handler() {
      @Override
      public void publish(LogRecord r) {
        records.add(r);
      }

      @Override
      public void flush() {}

      @Override
      public void close() {}
    };
    Logger log = Logger.getLogger(CaiModel.class.getName());
    log.addHandler(capture);
    try (ZooModel<NDList, NDList> model = criteria(cai).loadModel()) {
      assertEquals(1, records.size(), "one warning: " + records);
      LogRecord r = records.get(0);
      assertEquals(Level.WARNING, r.getLevel());
      assertTrue(r.getMessage().contains("Sin") && r.getMessage().contains(cai.toString())
          && r.getMessage().contains("ONNX Runtime") && r.getMessage().contains("memory saving of the .cai is lost"),
          r.getMessage());
    } finally {
      log.removeHandler(capture);
    }
    try (ZooModel<NDList, NDList> model = criteria(cai).loadModel();
        Predictor<NDList, NDList> p = model.newPredictor();
        NDManager nd = model.getNDManager().newSubManager()) {
      CaiSymbolBlock block = (CaiSymbolBlock) model.getBlock();
      assertEquals("ONNX Runtime (fallback)", block.describeRunner());
      float[] x = new float[2 * 64];
      for (int i = 0; i < x.length; i++) {
        x[i] = (i % 7) * 0.1f;
      }
      NDArray in = nd.create(x, new ai.djl.ndarray.types.Shape(2, 64));
      float[] y = p.predict(new NDList(in)).head().toFloatArray();
      // the same numbers by hand: sin(x * decoded w)
      float[] w;
      try (dev.selfbyt.cortexsdr.core.format.CaiReader r = dev.selfbyt.cortexsdr.core.format.CaiReader.open(cai)) {
        w = r.read("w").floats();
      }
      for (int i = 0; i < 2; i++) {
        for (int j = 0; j < 64; j++) {
          double s = 0;
          for (int kk = 0; kk < 64; kk++) {
            s += x[i * 64 + kk] * w[kk * 64 + j];
          }
          assertEquals(Math.sin(s), y[i * 64 + j], 1e-4);
        }
      }
    }
  }

  /**
   * An If whose branches hold their own weights (stored under scoped names) goes to ONNX Runtime
   * whole, its bool condition included, and computes with the decoded branch weights.
   */
  @Test
  void ifWithBranchWeightsRunsInOnnxRuntime() throws Exception {
    int k = 64;
    TypeProto f32 = TypeProto.newBuilder().setTensorType(TypeProto.Tensor.newBuilder().setElemType(1)).build();
    TypeProto bool = TypeProto.newBuilder().setTensorType(TypeProto.Tensor.newBuilder().setElemType(9)
        .setShape(ai.onnx.proto.OnnxMl.TensorShapeProto.newBuilder())).build();
    GraphProto.Builder[] branches = new GraphProto.Builder[2];
    for (int b = 0; b < 2; b++) {
      ByteBuffer w = ByteBuffer.allocate(4 * k * k).order(ByteOrder.LITTLE_ENDIAN);
      Random rnd = new Random(10 + b);
      for (int i = 0; i < k * k; i++) {
        w.putFloat((float) rnd.nextGaussian());
      }
      branches[b] = GraphProto.newBuilder().setName("branch" + b)
          .addInitializer(TensorProto.newBuilder().setName("w").setDataType(1).addDims(k).addDims(k)
              .setRawData(ByteString.copyFrom(w.array())))
          .addNode(NodeProto.newBuilder().setOpType("MatMul").addInput("x").addInput("w").addOutput("out" + b))
          .addOutput(ValueInfoProto.newBuilder().setName("out" + b).setType(f32));
    }
    GraphProto g = GraphProto.newBuilder().setName("if")
        .addNode(NodeProto.newBuilder().setOpType("If").setName("If_0").addInput("c").addOutput("y")
            .addAttribute(ai.onnx.proto.OnnxMl.AttributeProto.newBuilder().setName("then_branch")
                .setType(ai.onnx.proto.OnnxMl.AttributeProto.AttributeType.GRAPH).setG(branches[0]))
            .addAttribute(ai.onnx.proto.OnnxMl.AttributeProto.newBuilder().setName("else_branch")
                .setType(ai.onnx.proto.OnnxMl.AttributeProto.AttributeType.GRAPH).setG(branches[1])))
        .addInput(ValueInfoProto.newBuilder().setName("x").setType(f32))
        .addInput(ValueInfoProto.newBuilder().setName("c").setType(bool))
        .addOutput(ValueInfoProto.newBuilder().setName("y").setType(f32))
        .build();
    Path onnx = dir.resolve("if.onnx");
    Files.write(onnx, ModelProto.newBuilder().setIrVersion(8).setGraph(g)
        .addOpsetImport(OperatorSetIdProto.newBuilder().setVersion(13)).build().toByteArray());
    Path cai = dir.resolve("if.cai");
    try (OnnxModelReader r = OnnxModelReader.open(onnx)) {
      CortexSdr.compress(r, cai);
    }
    try (ZooModel<NDList, NDList> model = criteria(cai).loadModel();
        Predictor<NDList, NDList> p = model.newPredictor();
        NDManager nd = model.getNDManager().newSubManager();
        dev.selfbyt.cortexsdr.core.format.CaiReader r = dev.selfbyt.cortexsdr.core.format.CaiReader.open(cai)) {
      assertEquals("ONNX Runtime (fallback)", ((CaiSymbolBlock) model.getBlock()).describeRunner());
      // both branches' decoded weights are held
      assertEquals(2L * k * k * 4, ((CaiModel) model.getWrappedModel()).residentWeightBytes());
      float[] x = new float[k];
      for (int i = 0; i < k; i++) {
        x[i] = (i % 5) * 0.1f;
      }
      for (boolean c : new boolean[] {true, false}) {
        float[] y = p.predict(new NDList(nd.create(x, new ai.djl.ndarray.types.Shape(1, k)), nd.create(c)))
            .head().toFloatArray();
        float[] w = r.read(c ? "If_0/then_branch/w" : "If_0/else_branch/w").floats();
        for (int j = 0; j < k; j++) {
          double s = 0;
          for (int kk = 0; kk < k; kk++) {
            s += x[kk] * w[kk * k + j];
          }
          assertEquals(s, y[j], 1e-4, "c=" + c + ", y[" + j + "]");
        }
      }
    }
  }

  @Test
  void theOptionTurnsTheFallbackOffForOneModel() throws Exception {
    Path cai = caiWithSin();
    Criteria<NDList, NDList> off = Criteria.builder().setTypes(NDList.class, NDList.class).optModelPath(cai)
        .optEngine("CortexSDR").optOption("ortFallback", "false").build();
    Exception e = assertThrows(Exception.class, off::loadModel);
    Throwable t = e;
    while (t != null && !(t instanceof MalformedModelException)) {
      t = t.getCause();
    }
    assertTrue(t != null && t.getMessage().contains("Sin") && t.getMessage().contains("ortFallback=false"),
        String.valueOf(e));
  }

  @Test
  void failsListingTheOperatorsWithoutOnnxRuntime() throws Exception {
    Path cai = caiWithSin();
    System.setProperty("dev.selfbyt.cortexsdr.ort_fallback", "false");
    try {
      Exception e = assertThrows(Exception.class, () -> criteria(cai).loadModel());
      Throwable t = e;
      while (t != null && !(t instanceof MalformedModelException)) {
        t = t.getCause();
      }
      assertTrue(t != null && t.getMessage().contains("Sin") && t.getMessage().contains(cai.toString()),
          String.valueOf(e));
    } finally {
      System.clearProperty("dev.selfbyt.cortexsdr.ort_fallback");
    }
  }
}
