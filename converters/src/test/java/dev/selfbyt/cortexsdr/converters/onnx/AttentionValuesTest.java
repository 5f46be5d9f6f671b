package dev.selfbyt.cortexsdr.converters.onnx;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import ai.onnx.proto.OnnxMl.TypeProto;
import ai.onnx.proto.OnnxMl.ValueInfoProto;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * An attention's context is found with the value projection its channels come from, on a real
 * encoder, and dividing that projection's columns divides the context's channels, as ONNX Runtime
 * computes it; any other input, or a context something else also reads, has none.
 */
class AttentionValuesTest {
  @TempDir Path dir;

  @Test
  void eachMiniLmContextComesFromItsValueProjection() throws Exception {
    ModelProto model = ModelProto.parseFrom(Files.readAllBytes(OnnxTestModels.miniLm(dir)));
    GraphProto g = model.getGraph();
    Map<String, TensorProto> weights = new HashMap<>();
    g.getInitializerList().forEach(t -> weights.put(t.getName(), t));
    Map<String, AttentionValues.Projection> found = new LinkedHashMap<>();
    Map<String, String> readers = new HashMap<>();
    int products = 0;
    AttentionValues attention = new AttentionValues(g, weights::containsKey);
    for (NodeProto n : g.getNodeList()) {
      if (n.getOpType().equals("MatMul") && weights.containsKey(n.getInput(1))) {
        products++;
        AttentionValues.Projection p = attention.of(n.getInput(0), Set.of(n.getInput(1)));
        if (p != null) {
          found.put(n.getInput(0), p);
          readers.put(p.weight(), n.getInput(1));
        }
      }
    }
    long softmaxes = g.getNodeList().stream().filter(n -> n.getOpType().equals("Softmax")).count();
    assertEquals(36, products);
    assertEquals(softmaxes, found.size(), "one context per attention: " + found.keySet());
    for (AttentionValues.Projection p : found.values()) {
      assertNotNull(p.bias());
      assertEquals(List.of(384L, 384L), weights.get(p.weight()).getDimsList());
    }
    assertEquals(found.size(), found.values().stream().map(AttentionValues.Projection::weight).distinct().count());

    // dividing the columns divides the channels, in ONNX Runtime; the reader's rows multiplied
    // back keep the rest of the model as it was
    Map<String, float[]> factors = new HashMap<>();
    SplittableRandom rnd = new SplittableRandom(7);
    GraphProto.Builder scaled = g.toBuilder();
    for (AttentionValues.Projection p : found.values()) {
      float[] f = new float[384];
      for (int c = 0; c < f.length; c++) {
        f[c] = (float) (1 + 3 * rnd.nextDouble());
      }
      factors.put(p.weight(), f);
      for (int i = 0; i < scaled.getInitializerCount(); i++) {
        TensorProto t = scaled.getInitializer(i);
        if (t.getName().equals(p.weight()) || t.getName().equals(p.bias())) {
          float[] v = floats(t);
          for (int j = 0; j < v.length; j++) {
            v[j] /= f[j % 384];
          }
          scaled.setInitializer(i, t.toBuilder().setRawData(OnnxTestModels.raw(v)));
        } else if (t.getName().equals(readers.get(p.weight()))) {
          float[] v = floats(t);
          for (int j = 0; j < v.length; j++) {
            v[j] *= f[j / (int) t.getDims(1)];
          }
          scaled.setInitializer(i, t.toBuilder().setRawData(OnnxTestModels.raw(v)));
        }
      }
    }
    List<String> contexts = List.copyOf(found.keySet());
    Map<String, float[]> before = run(withOutputs(model, g.toBuilder(), contexts), contexts);
    Map<String, float[]> after = run(withOutputs(model, scaled, contexts), contexts);
    for (String ctx : contexts) {
      float[] f = factors.get(found.get(ctx).weight());
      float[] a = before.get(ctx);
      float[] b = after.get(ctx);
      double worst = 0;
      for (int i = 0; i < a.length; i++) {
        worst = Math.max(worst, Math.abs(b[i] * f[i % 384] - a[i]) / (1e-3 + Math.abs(a[i])));
      }
      assertTrue(worst < 1e-3, ctx + ": scaled context off by " + worst);
    }
  }

  @Test
  void otherInputsAndSharedContextsHaveNone() throws Exception {
    GraphProto g = ModelProto.parseFrom(Files.readAllBytes(OnnxTestModels.miniLm(dir))).getGraph();
    Set<String> names = new java.util.HashSet<>();
    g.getInitializerList().forEach(t -> names.add(t.getName()));
    int checked = 0;
    AttentionValues attention = new AttentionValues(g, names::contains);
    for (NodeProto n : g.getNodeList()) {
      if (!n.getOpType().equals("MatMul") || !names.contains(n.getInput(1))) {
        continue;
      }
      String x = n.getInput(0);
      NodeProto producer = g.getNodeList().stream().filter(p -> p.getOutputList().contains(x)).findFirst().orElseThrow();
      if (!producer.getOpType().equals("Reshape")) {
        // layer norm outputs (query/key/value, FFN input) and the GELU (FFN output projection)
        assertNull(attention.of(x, Set.of(n.getInput(1))), x);
        checked++;
      } else {
        // the context, but its reader is not among the ones that expect it scaled
        assertNull(attention.of(x, Set.of()), x);
      }
    }
    assertEquals(30, checked);
  }

  private static ModelProto withOutputs(ModelProto model, GraphProto.Builder g, List<String> names) {
    for (String name : names) {
      g.addOutput(ValueInfoProto.newBuilder().setName(name).setType(TypeProto.newBuilder()
          .setTensorType(TypeProto.Tensor.newBuilder().setElemType(TensorProto.DataType.FLOAT_VALUE))));
    }
    return model.toBuilder().setGraph(g).build();
  }

  private static Map<String, float[]> run(ModelProto m, List<String> names) throws Exception {
    List<float[]> values = OnnxTestModels.runText(m.toByteArray(), 2, 11, 18, 3, names);
    Map<String, float[]> out = new HashMap<>();
    for (int i = 0; i < names.size(); i++) {
      out.put(names.get(i), values.get(i));
    }
    return out;
  }

  private static float[] floats(TensorProto t) {
    FloatBuffer b = ByteBuffer.wrap(t.getRawData().toByteArray()).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer();
    float[] v = new float[b.remaining()];
    b.get(v);
    return v;
  }
}
