package dev.selfbyt.cortexsdr.converters.onnx;

import static org.junit.jupiter.api.Assertions.assertEquals;
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
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import dev.selfbyt.cortexsdr.core.CompressionOptions;
import dev.selfbyt.cortexsdr.core.CortexSdr;
import dev.selfbyt.cortexsdr.core.Preset;
import dev.selfbyt.cortexsdr.core.format.CaiReader;
import java.nio.FloatBuffer;
import java.nio.LongBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A quantized export writes each residual {@code Add} + layer normalization as ONNX Runtime's
 * {@code SkipLayerNormalization} where both operands provably have the same shape, and leaves the
 * graph as it is elsewhere; the fused graph computes what the unfused one does.
 */
class LayerNormFusionTest {
  @TempDir Path dir;
  static final OrtEnvironment ENV = OrtEnvironment.getEnvironment();

  @Test
  void miniLmResidualNormsFuseAndComputeTheSame() throws Exception {
    Path cai = dir.resolve("minilm.cai");
    try (OnnxModelReader r = OnnxModelReader.open(OnnxTestModels.miniLm(dir))) {
      CortexSdr.compress(r, cai, CompressionOptions.builder().preset(Preset.INT8).build());
    }
    try (CaiReader r = CaiReader.open(cai)) {
      ModelProto fused = QuantizedOnnxExporter.build(r, 0, true, null).model();
      // the 12 residual norms of the 6 layers fuse; the embeddings' norm adds position embeddings
      // of batch size 1 to token embeddings of any batch size, so it keeps its 2 ReduceMeans
      assertEquals(12, count(fused, "SkipLayerNormalization"));
      assertEquals(2, count(fused, "ReduceMean"));
      // the decoded export: the stored graph, norms unfused, with the same decoded weights
      Path decoded = dir.resolve("decoded.onnx");
      OnnxExporter.exportDecoded(r, decoded);
      ModelProto plain = ModelProto.parseFrom(Files.readAllBytes(decoded));
      assertEquals(0, count(plain, "SkipLayerNormalization"));
      long[] ids = new long[2 * 9];
      long[] mask = new long[ids.length];
      SplittableRandom rnd = new SplittableRandom(5);
      for (int i = 0; i < ids.length; i++) {
        ids[i] = 1000 + rnd.nextInt(20000);
        mask[i] = i < 14 ? 1 : 0;
      }
      Map<String, long[]> in = Map.of("input_ids", ids, "attention_mask", mask, "token_type_ids", new long[ids.length]);
      float[] a = runLongs(fused, in, new long[] {2, 9});
      float[] b = runLongs(plain, in, new long[] {2, 9});
      assertEquals(b.length, a.length);
      double maxDiff = 0;
      for (int i = 0; i < a.length; i++) {
        maxDiff = Math.max(maxDiff, Math.abs(a[i] - b[i]));
      }
      assertTrue(maxDiff < 1e-4, "fused and unfused outputs differ by " + maxDiff);
      assertTrue(maxDiff > 0, "the two runs are not the same graph");
    }
  }

  @Test
  void onlyProvablySameShapedResidualsFuse() throws Exception {
    int h = 8;
    GraphProto.Builder g = GraphProto.newBuilder().setName("norms")
        .addInput(input("X", "batch", "seq", h))
        .addInput(input("P", "1", "seq", h));
    g.addInitializer(floats("W", OnnxTestModels.weights(h * h, 3), h, h));
    g.addInitializer(floats("gamma", OnnxTestModels.weights(h, 4), h));
    g.addInitializer(floats("beta", OnnxTestModels.weights(h, 5), h));
    g.addNode(node("MatMul", "mm", List.of("X", "W"), "XW"));
    // 1: X + XW, same shape: fuses
    g.addNode(node("Add", "res1", List.of("X", "XW"), "S1"));
    g.addNode(layerNorm("ln1", "S1", "Y1"));
    // 2: X + P broadcasts P's batch of 1: stays
    g.addNode(node("Add", "res2", List.of("X", "P"), "S2"));
    g.addNode(layerNorm("ln2", "S2", "Y2"));
    // 3: pre-norm: the sum goes on beside the norm: stays
    g.addNode(node("Add", "res3", List.of("XW", "Y1"), "S3"));
    g.addNode(layerNorm("ln3", "S3", "Y3"));
    g.addNode(node("Add", "next", List.of("S3", "Y3"), "Y4"));
    for (String y : List.of("Y1", "Y2", "Y4")) {
      g.addOutput(ValueInfoProto.newBuilder().setName(y));
    }
    ModelProto m = ModelProto.newBuilder().setIrVersion(8).addOpsetImport(OperatorSetIdProto.newBuilder().setVersion(17))
        .addOpsetImport(OperatorSetIdProto.newBuilder().setDomain("com.microsoft").setVersion(1)).setGraph(g).build();
    List<LayerNormFusion.Fusion> plan = LayerNormFusion.plan(m.getGraph(), null);
    assertEquals(1, plan.size());
    assertEquals("Y1", plan.get(0).output());
    GraphProto.Builder fusedGraph = m.getGraph().toBuilder();
    assertEquals(1, LayerNormFusion.apply(fusedGraph, plan));
    ModelProto fused = m.toBuilder().setGraph(fusedGraph).build();
    assertEquals(1, count(fused, "SkipLayerNormalization"));
    assertEquals(2, count(fused, "LayerNormalization"));
    float[] x = OnnxTestModels.weights(3 * 5 * h, 6);
    float[] p = OnnxTestModels.weights(5 * h, 7);
    for (String out : List.of("Y1", "Y2", "Y4")) {
      float[] a = runFloats(fused, out, x, p, h);
      float[] b = runFloats(m, out, x, p, h);
      for (int i = 0; i < a.length; i++) {
        assertEquals(b[i], a[i], 1e-5, out + "[" + i + "]");
      }
    }
  }

  private static int count(ModelProto m, String op) {
    return (int) m.getGraph().getNodeList().stream().filter(n -> n.getOpType().equals(op)).count();
  }

  private static float[] runLongs(ModelProto m, Map<String, long[]> in, long[] shape) throws Exception {
    try (OrtSession s = ENV.createSession(m.toByteArray(), new OrtSession.SessionOptions())) {
      Map<String, OnnxTensor> feed = new HashMap<>();
      try {
        for (Map.Entry<String, long[]> e : in.entrySet()) {
          feed.put(e.getKey(), OnnxTensor.createTensor(ENV, LongBuffer.wrap(e.getValue()), shape));
        }
        try (OrtSession.Result r = s.run(feed)) {
          return ((OnnxTensor) r.get(0)).getFloatBuffer().array();
        }
      } finally {
        feed.values().forEach(OnnxTensor::close);
      }
    }
  }

  private static float[] runFloats(ModelProto m, String out, float[] x, float[] p, int h) throws Exception {
    try (OrtSession s = ENV.createSession(m.toByteArray(), new OrtSession.SessionOptions());
        OnnxTensor tx = OnnxTensor.createTensor(ENV, FloatBuffer.wrap(x), new long[] {3, 5, h});
        OnnxTensor tp = OnnxTensor.createTensor(ENV, FloatBuffer.wrap(p), new long[] {1, 5, h});
        OrtSession.Result r = s.run(Map.of("X", tx, "P", tp), java.util.Set.of(out))) {
      return ((OnnxTensor) r.get(0)).getFloatBuffer().array();
    }
  }

  private static NodeProto node(String op, String name, List<String> in, String out) {
    return NodeProto.newBuilder().setOpType(op).setName(name).addAllInput(in).addOutput(out).build();
  }

  private static NodeProto layerNorm(String name, String in, String out) {
    return NodeProto.newBuilder().setOpType("LayerNormalization").setName(name).addInput(in).addInput("gamma")
        .addInput("beta").addOutput(out)
        .addAttribute(AttributeProto.newBuilder().setName("epsilon").setType(AttributeProto.AttributeType.FLOAT)
            .setF(1e-5f))
        .build();
  }

  /** A float input whose dimensions are numbers or symbolic names. */
  private static ValueInfoProto input(String name, Object... dims) {
    TensorShapeProto.Builder s = TensorShapeProto.newBuilder();
    for (Object d : dims) {
      s.addDim(d instanceof Integer i ? TensorShapeProto.Dimension.newBuilder().setDimValue(i)
          : ((String) d).matches("\\d+") ? TensorShapeProto.Dimension.newBuilder().setDimValue(Long.parseLong((String) d))
          : TensorShapeProto.Dimension.newBuilder().setDimParam((String) d));
    }
    return ValueInfoProto.newBuilder().setName(name).setType(TypeProto.newBuilder().setTensorType(
        TypeProto.Tensor.newBuilder().setElemType(TensorProto.DataType.FLOAT_VALUE).setShape(s))).build();
  }

  private static TensorProto floats(String name, float[] v, long... dims) {
    TensorProto.Builder t = TensorProto.newBuilder().setName(name).setDataType(TensorProto.DataType.FLOAT_VALUE)
        .setRawData(OnnxTestModels.raw(v));
    for (long d : dims) {
      t.addDims(d);
    }
    return t.build();
  }
}
