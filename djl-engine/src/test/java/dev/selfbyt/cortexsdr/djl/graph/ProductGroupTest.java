package dev.selfbyt.cortexsdr.djl.graph;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.OperatorSetIdProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import ai.onnx.proto.OnnxMl.ValueInfoProto;
import dev.selfbyt.cortexsdr.core.codec.QuantCodec;
import dev.selfbyt.cortexsdr.core.tensor.DType;
import dev.selfbyt.cortexsdr.core.tensor.TensorData;
import dev.selfbyt.cortexsdr.core.tensor.TensorInfo;
import dev.selfbyt.cortexsdr.core.tensor.TensorRole;
import dev.selfbyt.cortexsdr.djl.kernel.KernelScope;
import dev.selfbyt.cortexsdr.djl.kernel.KernelThreads;
import dev.selfbyt.cortexsdr.djl.kernel.Kernels;
import dev.selfbyt.cortexsdr.djl.kernel.QuantMatrix;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Products that read the same activation (an attention layer's query, key and value projections)
 * run as one {@code MatMulGroup} node: with compressed weights (int8 activations, and weight-only
 * 8- and 4-bit codes) and every kernel set, each output is bit for bit what the same product gives
 * alone (fusion off); a product of another depth on the same input stays a {@code MatMulBias}.
 */
class ProductGroupTest {
  private static final String FUSED = Fusion.DOMAIN + ":";

  private final Random rnd = new Random(23);
  private final GraphProto.Builder g = GraphProto.newBuilder().setName("group");
  private final Map<String, float[]> weights = new HashMap<>();
  private final Map<String, long[]> shapes = new HashMap<>();

  @ParameterizedTest(name = "{0} bits, int8 activations {1}, {2} rows")
  @CsvSource({"8, true, 40", "8, true, 300", "8, false, 40", "4, false, 40", "4, false, 300", "8, false, 3"})
  void groupedProductsGiveEachProductsOwnResult(int bits, boolean int8Activations, int rows) throws Exception {
    int k = 48;
    int[] widths = {32, 64, 40};
    // the products on x itself (grouped), and each on its own Identity copy of x (fused one by one)
    ModelProto model = model(k, widths, false);
    ModelProto apart = model(k, widths, true);
    GraphExecutor.WeightSource compressed = name -> {
      float[] w = weights.get(name);
      if (w == null || shapes.get(name).length != 2) {
        return null;
      }
      TensorInfo info = new TensorInfo(name, DType.FLOAT32, shapes.get(name), TensorRole.MATMUL_WEIGHT, 0);
      QuantCodec codec = QuantCodec.perChannel(bits, true);
      QuantCodec.QuantizedTensor qt = codec.unpack(info, codec.encode(TensorData.ofFloats(info, w)).duplicate());
      return Value.ofQuantized(info, int8Activations ? QuantMatrix.withInt8Activations(qt) : QuantMatrix.of(qt));
    };
    GraphExecutor grouped = new GraphExecutor(model, compressed, true);
    List<String> ops = grouped.operatorTypes();
    assertEquals(1, Collections.frequency(ops, FUSED + "MatMulGroup"), ops.toString());
    assertEquals(1, Collections.frequency(ops, FUSED + "MatMulBias"), ops.toString());
    assertFalse(ops.contains("MatMul") || ops.contains("Add"), ops.toString());
    GraphExecutor alone = new GraphExecutor(apart, compressed, true);
    assertEquals(4, Collections.frequency(alone.operatorTypes(), FUSED + "MatMulBias"), alone.operatorTypes().toString());

    Map<String, Value> in = Map.of("x", random(2, rows, k), "h", random(rows, 20));
    KernelThreads pool = KernelThreads.pool(2, 0);
    for (Map.Entry<String, Kernels> kern : FusedAttentionTest.kernelSets().entrySet()) {
      KernelScope scope = new KernelScope(kern.getValue(), pool);
      Map<String, Value> a = scope.call(() -> grouped.run(in));
      Map<String, Value> b = scope.call(() -> alone.run(in));
      for (String o : b.keySet()) {
        assertArrayEquals(b.get(o).shape(), a.get(o).shape(), o);
        assertArrayEquals(b.get(o).floats(), a.get(o).floats(), o + " with " + kern.getKey());
      }
    }
  }

  private ModelProto model(int k, int[] widths, boolean copies) {
    g.clear().setName("group");
    g.addInput(ValueInfoProto.newBuilder().setName("x"));
    g.addInput(ValueInfoProto.newBuilder().setName("h"));
    for (int i = 0; i < widths.length; i++) {
      String in = "x";
      if (copies) {
        in = "x" + i;
        g.addNode(NodeProto.newBuilder().setOpType("Identity").setName(in + "_copy").addInput("x").addOutput(in));
      }
      linear(in, "q" + i, k, widths[i]);
    }
    linear("h", "other", 20, 16); // another input: not grouped
    return ModelProto.newBuilder().setIrVersion(8).setGraph(g)
        .addOpsetImport(OperatorSetIdProto.newBuilder().setDomain("").setVersion(13)).build();
  }

  /** {@code out = in * W + b} as exported: a MatMul on a constant {@code [k, n]} and an Add of a constant vector. */
  private void linear(String in, String out, int k, int n) {
    initializer(out + "_w", k, n);
    initializer(out + "_b", n);
    g.addNode(NodeProto.newBuilder().setOpType("MatMul").setName(out + "_mm").addInput(in).addInput(out + "_w")
        .addOutput(out + "_p"));
    g.addNode(NodeProto.newBuilder().setOpType("Add").setName(out + "_add").addInput(out + "_p").addInput(out + "_b")
        .addOutput(out));
    g.addOutput(ValueInfoProto.newBuilder().setName(out));
  }

  /** A constant of random values, the same ones in both models. */
  private void initializer(String name, long... shape) {
    float[] v = weights.computeIfAbsent(name, n -> random(shape).floats());
    shapes.put(name, shape);
    TensorProto.Builder t = TensorProto.newBuilder().setName(name).setDataType(1);
    for (long d : shape) {
      t.addDims(d);
    }
    for (float f : v) {
      t.addFloatData(f);
    }
    g.addInitializer(t);
  }

  private Value random(long... shape) {
    float[] v = new float[Broadcast.size(shape)];
    for (int i = 0; i < v.length; i++) {
      v[i] = (float) rnd.nextGaussian();
    }
    return Value.ofFloats(shape, v);
  }
}
