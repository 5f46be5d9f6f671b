package dev.selfbyt.cortexsdr.converters.onnx;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnx.proto.OnnxMl.AttributeProto;
import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.OperatorSetIdProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import ai.onnx.proto.OnnxMl.TensorShapeProto;
import ai.onnx.proto.OnnxMl.TypeProto;
import ai.onnx.proto.OnnxMl.ValueInfoProto;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Random inputs of the right type, range and size, accepted by ONNX Runtime. */
class RandomInputsTest {
  @TempDir Path dir;

  static ValueInfoProto input(String name, int type, Object... dims) {
    TensorShapeProto.Builder s = TensorShapeProto.newBuilder();
    for (Object d : dims) {
      s.addDim(d instanceof String p ? TensorShapeProto.Dimension.newBuilder().setDimParam(p)
          : TensorShapeProto.Dimension.newBuilder().setDimValue(((Number) d).longValue()));
    }
    return ValueInfoProto.newBuilder().setName(name).setType(TypeProto.newBuilder()
        .setTensorType(TypeProto.Tensor.newBuilder().setElemType(type).setShape(s))).build();
  }

  static ModelProto model(GraphProto.Builder g) {
    return ModelProto.newBuilder().setIrVersion(8).setProducerName("cortexsdr-test")
        .addOpsetImport(OperatorSetIdProto.newBuilder().setVersion(13)).setGraph(g).build();
  }

  /**
   * Token ids looked up in a 500-row table, a bool "keep" flag per position and an attention mask:
   * Y = table[ids] * keep * mask, of dynamic sequence length.
   */
  static ModelProto tokens() {
    GraphProto.Builder g = GraphProto.newBuilder().setName("tokens")
        .addInput(input("ids", TensorProto.DataType.INT64_VALUE, 1, "seq"))
        .addInput(input("keep", TensorProto.DataType.BOOL_VALUE, 1, "seq"))
        .addInput(input("attention_mask", TensorProto.DataType.INT64_VALUE, 1, "seq"))
        .addOutput(input("Y", TensorProto.DataType.FLOAT_VALUE, 1, "seq", 64));
    g.addInitializer(TensorProto.newBuilder().setName("table").setDataType(TensorProto.DataType.FLOAT_VALUE)
        .addDims(500).addDims(64).setRawData(OnnxTestModels.raw(OnnxTestModels.weights(500 * 64, 5))));
    g.addInitializer(TensorProto.newBuilder().setName("axes").setDataType(TensorProto.DataType.INT64_VALUE)
        .addDims(1).addInt64Data(-1));
    AttributeProto toFloat = AttributeProto.newBuilder().setName("to").setType(AttributeProto.AttributeType.INT)
        .setI(TensorProto.DataType.FLOAT_VALUE).build();
    g.addNode(NodeProto.newBuilder().setOpType("Gather").addInput("table").addInput("ids").addOutput("E").setName("g"));
    g.addNode(NodeProto.newBuilder().setOpType("Cast").addInput("keep").addOutput("kf").setName("c1")
        .addAttribute(toFloat));
    g.addNode(NodeProto.newBuilder().setOpType("Cast").addInput("attention_mask").addOutput("mf").setName("c2")
        .addAttribute(toFloat));
    g.addNode(NodeProto.newBuilder().setOpType("Mul").addInput("kf").addInput("mf").addOutput("km").setName("m1"));
    g.addNode(NodeProto.newBuilder().setOpType("Unsqueeze").addInput("km").addInput("axes").addOutput("k3")
        .setName("u"));
    g.addNode(NodeProto.newBuilder().setOpType("Mul").addInput("E").addInput("k3").addOutput("Y").setName("m2"));
    return model(g);
  }

  /** An image input of dynamic size that only 64 x 64 fits: Y = X + bias[1, 1, 64, 64]. */
  static ModelProto only64() {
    GraphProto.Builder g = GraphProto.newBuilder().setName("only64")
        .addInput(input("X", TensorProto.DataType.FLOAT_VALUE, 1, 3, "height", "width"))
        .addOutput(input("Y", TensorProto.DataType.FLOAT_VALUE, 1, 3, 64, 64));
    g.addInitializer(TensorProto.newBuilder().setName("bias").setDataType(TensorProto.DataType.FLOAT_VALUE)
        .addDims(1).addDims(1).addDims(64).addDims(64).setRawData(OnnxTestModels.raw(new float[64 * 64])));
    g.addNode(NodeProto.newBuilder().setOpType("Add").addInput("X").addInput("bias").addOutput("Y").setName("a"));
    return model(g);
  }

  @Test
  void idsBelowTheTableBoolsAndMasks() throws Exception {
    Path p = dir.resolve("tokens.onnx");
    Files.write(p, tokens().toByteArray());
    try (OnnxModelReader m = OnnxModelReader.open(p); ModelTrial trial = new ModelTrial(p, 1)) {
      ModelInputs inputs = ModelInputs.of(m);
      assertEquals(500, inputs.get("ids").vocabulary());
      RandomInputs.Result r = RandomInputs.of(inputs).generate(4, trial);
      assertTrue(r.description().contains("seq=32"), r.description());
      int zeros = 0;
      int ones = 0;
      for (Map<String, OnnxCalibrator.Input> s : r.samples()) {
        assertNull(trial.apply(s)); // ONNX Runtime takes the bool input
        assertEquals(TensorProto.DataType.BOOL_VALUE, s.get("keep").elemType());
        for (long v : s.get("ids").int64()) {
          assertTrue(v >= 0 && v < 500, "id " + v);
        }
        for (long v : s.get("keep").int64()) {
          assertTrue(v == 0 || v == 1);
          zeros += v == 0 ? 1 : 0;
          ones += v == 1 ? 1 : 0;
        }
        long[] mask = s.get("attention_mask").int64();
        assertEquals(1, mask[0]);
        for (int i = 1; i < mask.length; i++) {
          assertTrue(mask[i] <= mask[i - 1], "ones then zeros"); // real positions, then padding
        }
      }
      assertTrue(zeros > 0 && ones > 0);
    }
  }

  @Test
  void triesSizesUntilTheModelAcceptsOne() throws Exception {
    Path p = dir.resolve("only64.onnx");
    Files.write(p, only64().toByteArray());
    try (OnnxModelReader m = OnnxModelReader.open(p); ModelTrial trial = new ModelTrial(p, 1)) {
      RandomInputs.Result r = RandomInputs.of(ModelInputs.of(m)).generate(2, trial);
      assertArrayEquals(new long[] {1, 3, 64, 64}, r.samples().get(0).get("X").shape());
      assertTrue(r.description().contains("height=64, width=64") && r.description().contains("rejected height=224"),
          r.description());
      for (float v : r.samples().get(1).get("X").fp32()) {
        assertTrue(v >= 0 && v < 1); // image-like inputs in [0, 1)
      }
    }
  }

  @Test
  void pinnedShapesAndTheirMistakes() throws Exception {
    Path p = dir.resolve("only64.onnx");
    Files.write(p, only64().toByteArray());
    try (OnnxModelReader m = OnnxModelReader.open(p)) {
      RandomInputs r = RandomInputs.of(ModelInputs.of(m));
      Map.Entry<String, long[]> e = RandomInputs.parseShape("X=1,3,64x64");
      RandomInputs.Result pinned = r.shape(e.getKey(), e.getValue()).generate(1, s -> "never asked");
      assertArrayEquals(new long[] {1, 3, 64, 64}, pinned.samples().get(0).get("X").shape());
      String noSuch = assertThrows(IllegalArgumentException.class, () -> r.shape("Z", new long[] {1})).getMessage();
      assertTrue(noSuch.contains("no such input") && noSuch.contains("X"), noSuch);
      String rank = assertThrows(IllegalArgumentException.class, () -> r.shape("X", new long[] {1, 3})).getMessage();
      assertTrue(rank.contains("rank 2"), rank);
      String fixed = assertThrows(IllegalArgumentException.class, () -> r.shape("X", new long[] {1, 4, 64, 64}))
          .getMessage();
      assertTrue(fixed.contains("dimension 1"), fixed);
      String syntax = assertThrows(IllegalArgumentException.class, () -> RandomInputs.parseShape("X=1,a")).getMessage();
      assertTrue(syntax.contains("'a'"), syntax);
      String none = assertThrows(IllegalArgumentException.class,
          () -> RandomInputs.of(ModelInputs.of(m)).generate(1, s -> "rejected")).getMessage();
      assertTrue(none.contains("rejected every size") && none.contains("name=dims"), none);
    }
  }
}
