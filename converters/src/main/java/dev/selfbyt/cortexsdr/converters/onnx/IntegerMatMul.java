package dev.selfbyt.cortexsdr.converters.onnx;

import ai.onnx.proto.OnnxMl.AttributeProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import com.google.protobuf.ByteString;
import dev.selfbyt.cortexsdr.core.codec.QuantCodec;
import dev.selfbyt.cortexsdr.core.tensor.Fp16;
import dev.selfbyt.cortexsdr.core.tensor.TensorInfo;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;

/**
 * The standard-ONNX forms of a MatMul or Gemm whose weight is int8, symmetric, one scale per
 * output channel ({@code int8-fast}):
 *
 * <ul>
 *   <li>{@link #dynamic} (int8 activations): {@code DynamicQuantizeLinear(A) -> MatMulInteger(A_q,
 *       W_q, A_zp) -> Cast -> Mul(Mul(A_scale, w_scale))}, the pattern ONNX Runtime's quantizer
 *       writes and its optimizer fuses into {@code MatMulIntegerToFloat} and then {@code
 *       DynamicQuantizeMatMul} (one DynamicQuantizeLinear per product: the fusion needs its three
 *       outputs used once);
 *   <li>{@link #weightOnly} (fp32 activations): {@code Mul(Cast(W_q), w_scale)} feeding the
 *       original node (any opset; ONNX Runtime folds it into an fp32 weight when loading).
 * </ul>
 *
 * {@code W_q} holds the stored codes minus 128 as int8 in {@code [K, N]} (the stored zero point
 * of a symmetric 8-bit code), so both forms compute from exactly the values {@code cortexsdr}
 * decodes. Gemm: {@code alpha} is folded into the weight scales, {@code beta * C} is added after.
 */
final class IntegerMatMul {
  private IntegerMatMul() {}

  /** Why {@code user} cannot take an integer form for this weight, or null when it can. */
  static String problem(NodeProto user, String weight, TensorInfo info, QuantCodec q) {
    if (q.granularity() != QuantCodec.Granularity.CHANNEL || q.bits() < 7 || q.bits() > 8 || !q.symmetric()) {
      return q.describe() + " (the integer form needs 7- or 8-bit symmetric codes per output channel)";
    }
    if (info.rank() != 2) {
      return "rank " + info.rank();
    }
    boolean plain = user.getDomain().isEmpty() || user.getDomain().equals("ai.onnx");
    if (plain && user.getOpType().equals("MatMul") && user.getInput(1).equals(weight) && info.reductionAxis() == 0) {
      return null;
    }
    if (plain && user.getOpType().equals("Gemm") && user.getInput(1).equals(weight) && OnnxAttributes.intAttr(user, "transA", 0) == 0
        && info.reductionAxis() == (OnnxAttributes.intAttr(user, "transB", 0) != 0 ? 1 : 0)) {
      return null;
    }
    if (plain && user.getOpType().equals("Gather") && user.getInput(0).equals(weight) && OnnxAttributes.intAttr(user, "axis", 0) == 0
        && info.reductionAxis() == 1) {
      return null;
    }
    return "used by " + user.getOpType() + " in a way the integer form does not cover";
  }

  /**
   * A Gather from a table with one scale per row: {@code Cast(Gather(W_q)) * Cast(Gather(scales))},
   * the scales kept as fp16 when the {@code .cai} holds them so (exact: the product is formed in
   * fp32), so the table costs one byte per value plus two per row.
   */
  static List<NodeProto> gatherRows(NodeProto gather, String weight, QuantCodec.QuantizedTensor qt,
      List<TensorProto> added) {
    int rows = qt.fibers();
    int d = qt.fiberLength();
    String base = weight + "_int8";
    added.add(codesNxK(base + "_rows", qt, d, rows));
    float[] s = qt.scales();
    boolean half = halfExact(s);
    if (half) {
      added.add(halves(base + "_row_scale", s, rows, 1));
    } else {
      added.add(QuantizedOnnxExporter.floats(base + "_row_scale", s, rows, 1));
    }
    String ids = gather.getInput(1);
    String name = gather.getName().isEmpty() ? base : gather.getName();
    List<NodeProto> nodes = new ArrayList<>();
    nodes.add(node(name + "_codes", "Gather", List.of(base + "_rows", ids), List.of(base + "_gathered")));
    nodes.add(cast(name + "_c", base + "_gathered", base + "_gathered_float"));
    String scale = base + "_gathered_scale";
    nodes.add(node(name + "_scale", "Gather", List.of(base + "_row_scale", ids), List.of(half ? scale + "_half" : scale)));
    if (half) {
      nodes.add(cast(name + "_sc", scale + "_half", scale));
    }
    nodes.add(node(name + "_dequantize", "Mul", List.of(base + "_gathered_float", scale), List.of(gather.getOutput(0))));
    return nodes;
  }

  /** Whether every value is an fp16 number (so fp16 storage plus a Cast is exact). */
  static boolean halfExact(float[] v) {
    for (float x : v) {
      if (Float.isNaN(x) || Fp16.toFloat(Fp16.fromFloat(x)) != x) {
        return false;
      }
    }
    return true;
  }

  /** An fp16 tensor of values for which {@link #halfExact} holds. */
  static TensorProto halves(String name, float[] v, long... dims) {
    ByteBuffer b = ByteBuffer.allocate(2 * v.length).order(ByteOrder.LITTLE_ENDIAN);
    for (float x : v) {
      b.putShort(Fp16.fromFloat(x));
    }
    return QuantizedOnnxExporter.tensor(name, TensorProto.DataType.FLOAT16_VALUE, b.array(), dims);
  }

  static NodeProto cast(String name, String in, String out) {
    return NodeProto.newBuilder(node(name, "Cast", List.of(in), List.of(out)))
        .addAttribute(AttributeProto.newBuilder().setName("to").setType(AttributeProto.AttributeType.INT)
            .setI(TensorProto.DataType.FLOAT_VALUE)).build();
  }

  /** The nodes computing {@code user} with int8 activations; adds the weight's initializers to {@code added}. */
  static List<NodeProto> dynamic(NodeProto user, String weight, TensorInfo info, QuantCodec.QuantizedTensor qt,
      List<TensorProto> added) {
    boolean gemm = user.getOpType().equals("Gemm");
    int n = qt.fibers();
    int k = qt.fiberLength();
    String base = weight + "_i8"; // short names: they are a few kB of the file
    added.add(codesKxN(base + "_B", qt, k, n));
    float alpha = gemm ? floatAttr(user, "alpha", 1f) : 1f;
    float[] s = qt.scales();
    if (alpha != 1f) {
      for (int i = 0; i < n; i++) {
        s[i] *= alpha;
      }
    }
    // node names from the weight too: the graph's own names (a path such as
    // "/encoder/layer.0/attention/self/query/MatMul") times 6 nodes took 10 kB of a MiniLM file
    String name = base;
    String a = user.getInput(0);
    String out = user.getOutput(0);
    String product = gemm && hasBias(user) ? base + "_product" : out;
    List<NodeProto> nodes = new ArrayList<>();
    if (halfExact(s)) {
      // the .cai's fp16 scales at 2 bytes (ONNX Runtime folds the Cast when loading): what keeps
      // the file within the size of ONNX Runtime's own int8 model
      added.add(halves(base + "_sh", s, n));
      nodes.add(cast(name + "_sc", base + "_sh", base + "_s"));
    } else {
      added.add(QuantizedOnnxExporter.floats(base + "_s", s, n));
    }
    nodes.add(node(name + "_dql", "DynamicQuantizeLinear", List.of(a),
        List.of(base + "_aq", base + "_as", base + "_az")));
    nodes.add(node(name + "_mmi", "MatMulInteger", List.of(base + "_aq", base + "_B", base + "_az"),
        List.of(base + "_i32")));
    nodes.add(node(name + "_ss", "Mul", List.of(base + "_as", base + "_s"), List.of(base + "_ss")));
    nodes.add(NodeProto.newBuilder(node(name + "_c", "Cast", List.of(base + "_i32"), List.of(base + "_f")))
        .addAttribute(AttributeProto.newBuilder().setName("to").setType(AttributeProto.AttributeType.INT)
            .setI(TensorProto.DataType.FLOAT_VALUE)).build());
    nodes.add(node(name + "_mul", "Mul", List.of(base + "_f", base + "_ss"), List.of(product)));
    if (!product.equals(out)) {
      nodes.addAll(bias(user, base, product, out, added));
    }
    return nodes;
  }

  /** {@code Mul(Cast(W_q), scale)}, then {@code user} reading it in place of the weight. */
  static List<NodeProto> weightOnly(NodeProto user, String weight, TensorInfo info, QuantCodec.QuantizedTensor qt,
      List<TensorProto> added) {
    int n = qt.fibers();
    int k = qt.fiberLength();
    String base = weight + "_int8";
    // stored as the node reads it: [K, N] (MatMul, Gemm) or [N, K] (Gemm transB)
    boolean rowsAreChannels = info.reductionAxis() == 1;
    added.add(rowsAreChannels ? codesNxK(base + "_B", qt, k, n) : codesKxN(base + "_B", qt, k, n));
    added.add(rowsAreChannels ? QuantizedOnnxExporter.floats(base + "_s", qt.scales(), n, 1) : QuantizedOnnxExporter.floats(base + "_s", qt.scales(), n));
    NodeProto cast = NodeProto.newBuilder(node(base + "_cast", "Cast", List.of(base + "_B"), List.of(base + "_codes")))
        .addAttribute(AttributeProto.newBuilder().setName("to").setType(AttributeProto.AttributeType.INT)
            .setI(TensorProto.DataType.FLOAT_VALUE)).build();
    NodeProto mul = node(base + "_dequantize", "Mul", List.of(base + "_codes", base + "_s"), List.of(base + "_f"));
    return List.of(cast, mul, user.toBuilder().setInput(1, base + "_f").build());
  }

  private static boolean hasBias(NodeProto gemm) {
    return gemm.getInputCount() > 2 && !gemm.getInput(2).isEmpty();
  }

  private static List<NodeProto> bias(NodeProto gemm, String base, String product, String out,
      List<TensorProto> added) {
    float beta = floatAttr(gemm, "beta", 1f);
    String c = gemm.getInput(2);
    List<NodeProto> nodes = new ArrayList<>();
    if (beta != 1f) {
      added.add(QuantizedOnnxExporter.floats(base + "_beta", new float[] {beta}));
      nodes.add(node(base + "_beta_c", "Mul", List.of(c, base + "_beta"), List.of(base + "_beta_c")));
      c = base + "_beta_c";
    }
    nodes.add(node(base + "_bias", "Add", List.of(product, c), List.of(out)));
    return nodes;
  }

  /**
   * int8 {@code [K, N]}: element {@code (k, n)} is code {@code k} of fiber (output channel) {@code
   * n}, minus the symmetric zero point ({@code 2^(bits - 1)}: 128 for 8-bit codes, 64 for 7-bit).
   */
  private static TensorProto codesKxN(String name, QuantCodec.QuantizedTensor qt, int k, int n) {
    byte[] b = new byte[k * n];
    int zero = 1 << (qt.codec().bits() - 1);
    for (int f = 0; f < n; f++) {
      byte[] c = qt.codes(f);
      for (int i = 0; i < k; i++) {
        b[i * n + f] = (byte) ((c[i] & 0xff) - zero);
      }
    }
    return QuantizedOnnxExporter.tensor(name, TensorProto.DataType.INT8_VALUE, b, k, n);
  }

  /** int8 {@code [N, K]}: one row per output channel. */
  private static TensorProto codesNxK(String name, QuantCodec.QuantizedTensor qt, int k, int n) {
    byte[] b = new byte[k * n];
    int zero = 1 << (qt.codec().bits() - 1);
    for (int f = 0; f < n; f++) {
      byte[] c = qt.codes(f);
      for (int i = 0; i < k; i++) {
        b[f * k + i] = (byte) ((c[i] & 0xff) - zero);
      }
    }
    return QuantizedOnnxExporter.tensor(name, TensorProto.DataType.INT8_VALUE, b, n, k);
  }

  private static NodeProto node(String name, String op, List<String> in, List<String> out) {
    return NodeProto.newBuilder().setName(name).setOpType(op).addAllInput(in).addAllOutput(out).build();
  }

  private static float floatAttr(NodeProto n, String name, float dflt) {
    for (AttributeProto a : n.getAttributeList()) {
      if (a.getName().equals(name)) {
        return a.getF();
      }
    }
    return dflt;
  }
}
