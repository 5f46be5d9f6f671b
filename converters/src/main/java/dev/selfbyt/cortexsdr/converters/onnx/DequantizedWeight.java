package dev.selfbyt.cortexsdr.converters.onnx;

import ai.onnx.proto.OnnxMl.AttributeProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import dev.selfbyt.cortexsdr.core.codec.QuantCodec;
import dev.selfbyt.cortexsdr.core.tensor.TensorInfo;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;

/**
 * Any quantized weight whose consumer has no quantized operator (a {@code Conv}, {@code
 * ConvTranspose}, {@code LSTM}, {@code GRU}, a {@code Gemm} with block scales, a weight with
 * several consumers) kept quantized in an ONNX export: its codes, one byte each, dequantized in the
 * graph into a tensor of the weight's own name and shape, which the consumers read unchanged.
 *
 * <p>The codes are laid out one row per scale group ({@code [fibers * groups, group length]},
 * padded at the end of each fiber), dequantized per axis 0 ({@code (code - zero point) * scale},
 * exactly as {@code cortexsdr} decodes), reshaped to fibers, unpadded, and moved back from
 * fiber-major to natural order. Which dequantization the model's opset allows:
 *
 * <ul>
 *   <li>opset 13 and newer: ONNX {@code DequantizeLinear} with {@code axis} (per-axis scales are
 *       standard from opset 13);
 *   <li>opset 10 to 12: {@code com.microsoft.DequantizeLinear} with {@code axis} (ONNX Runtime's
 *       contrib operator, in every release the exporter targets), so the model's opset, and with it
 *       the meaning of every other node, stays as it was;
 *   <li>below 10: {@code Cast}, {@code Sub}, {@code Mul} (standard operators).
 * </ul>
 *
 * ONNX Runtime does not constant-fold {@code DequantizeLinear} of an initializer, so the weight
 * stays 8-bit in memory too. 4-bit codes take a byte each here: ONNX's {@code int4} types and
 * blocked {@code DequantizeLinear} need opset 21, and raising a model's opset changes the meaning
 * of operators such as {@code Softmax}, {@code Squeeze}, {@code Split} and {@code ReduceMean}, so
 * it is not done.
 */
final class DequantizedWeight {
  private DequantizedWeight() {}

  /** How a weight is written, for the export report. */
  static String form(long opset, QuantCodec.QuantizedTensor qt) {
    String op = opset >= 13 ? "DequantizeLinear" : opset >= 10 ? "com.microsoft.DequantizeLinear" : "Cast and Mul";
    String scales = qt.codec().granularity() == QuantCodec.Granularity.BLOCK ? "block" + qt.codec().blockSize()
        : qt.codec().granularity().name().toLowerCase(java.util.Locale.ROOT);
    return "int" + qt.codec().bits() + " " + scales + " codes (one per byte) dequantized by " + op;
  }

  /**
   * The nodes computing weight {@code name} (fp32, {@code info}'s shape) from its codes; the
   * initializers they read go to {@code added}.
   */
  static List<NodeProto> nodes(String name, TensorInfo info, QuantCodec.QuantizedTensor qt, long opset,
      List<TensorProto> added) {
    int fibers = qt.fibers();
    int r = qt.fiberLength();
    int gl = Math.min(qt.groupLength(), r);
    int groups = (r + gl - 1) / gl;
    float[] s = qt.scales();
    int[] z = qt.zeroPoints();
    int rows = fibers * groups;
    byte[] codes = new byte[rows * gl];
    float[] scales = new float[rows];
    byte[] zp = new byte[rows];
    for (int f = 0; f < fibers; f++) {
      byte[] c = qt.codes(f);
      for (int g = 0; g < groups; g++) {
        int row = f * groups + g;
        int src = qt.group(f, g * gl);
        scales[row] = s[src];
        zp[row] = (byte) z[src];
        for (int j = 0; j < gl; j++) {
          int i = g * gl + j;
          codes[row * gl + j] = i < r ? c[i] : zp[row];
        }
      }
    }
    String base = name + "_dq";
    List<NodeProto> nodes = new ArrayList<>();
    added.add(QuantizedOnnxExporter.tensor(base + "_codes", TensorProto.DataType.UINT8_VALUE, codes, rows, gl));
    String dequantized = base + "_rows";
    if (opset >= 10) {
      added.add(QuantizedOnnxExporter.floats(base + "_scales", scales, rows));
      added.add(QuantizedOnnxExporter.tensor(base + "_zero_points", TensorProto.DataType.UINT8_VALUE, zp, rows));
      NodeProto.Builder dq = node(base + "_dequantize", "DequantizeLinear",
          List.of(base + "_codes", base + "_scales", base + "_zero_points"), dequantized).toBuilder()
          .addAttribute(AttributeProto.newBuilder().setName("axis").setType(AttributeProto.AttributeType.INT).setI(0));
      if (opset < 13) {
        dq.setDomain("com.microsoft");
      }
      nodes.add(dq.build());
    } else {
      float[] zf = new float[rows];
      for (int i = 0; i < rows; i++) {
        zf[i] = zp[i] & 0xff;
      }
      added.add(QuantizedOnnxExporter.floats(base + "_scales", scales, rows, 1));
      added.add(QuantizedOnnxExporter.floats(base + "_zero_points", zf, rows, 1));
      nodes.add(node(base + "_cast", "Cast", List.of(base + "_codes"), base + "_float").toBuilder()
          .addAttribute(AttributeProto.newBuilder().setName("to").setType(AttributeProto.AttributeType.INT)
              .setI(TensorProto.DataType.FLOAT_VALUE)).build());
      nodes.add(node(base + "_sub", "Sub", List.of(base + "_float", base + "_zero_points"), base + "_centred"));
      nodes.add(node(base + "_mul", "Mul", List.of(base + "_centred", base + "_scales"), dequantized));
    }
    // [rows, gl] -> [fibers, groups * gl] -> unpadded [fibers, r] -> natural order
    int inner = (int) info.inner();
    long outer = info.outer();
    String fibersOut = base + "_fibers";
    boolean padded = groups * gl != r;
    nodes.add(reshape(base + "_join", dequantized, padded ? base + "_padded" : fibersOut,
        new long[] {fibers, (long) groups * gl}, added));
    if (padded) {
      if (opset >= 10) {
        added.add(longs(base + "_starts", 0));
        added.add(longs(base + "_ends", r));
        added.add(longs(base + "_axes", 1));
        nodes.add(node(base + "_unpad", "Slice", List.of(base + "_padded", base + "_starts", base + "_ends",
            base + "_axes"), fibersOut));
      } else {
        nodes.add(node(base + "_unpad", "Slice", List.of(base + "_padded"), fibersOut).toBuilder()
            .addAttribute(ints("starts", 0)).addAttribute(ints("ends", r)).addAttribute(ints("axes", 1)).build());
      }
    }
    long[] shape = info.shape();
    if (inner == 1) {
      nodes.add(reshape(base + "_shape", fibersOut, name, shape, added));
    } else {
      nodes.add(reshape(base + "_split", fibersOut, base + "_oir", new long[] {outer, inner, r}, added));
      nodes.add(node(base + "_transpose", "Transpose", List.of(base + "_oir"), base + "_ori").toBuilder()
          .addAttribute(AttributeProto.newBuilder().setName("perm").setType(AttributeProto.AttributeType.INTS)
              .addInts(0).addInts(2).addInts(1)).build());
      nodes.add(reshape(base + "_shape", base + "_ori", name, shape, added));
    }
    return nodes;
  }

  private static NodeProto reshape(String nodeName, String in, String out, long[] shape, List<TensorProto> added) {
    added.add(longs(nodeName + "_dims", shape));
    return node(nodeName, "Reshape", List.of(in, nodeName + "_dims"), out);
  }

  private static NodeProto node(String name, String op, List<String> in, String out) {
    return NodeProto.newBuilder().setName(name).setOpType(op).addAllInput(in).addOutput(out).build();
  }

  private static AttributeProto ints(String name, long v) {
    return AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.INTS).addInts(v).build();
  }

  private static TensorProto longs(String name, long... v) {
    ByteBuffer b = ByteBuffer.allocate(8 * v.length).order(ByteOrder.LITTLE_ENDIAN);
    for (long x : v) {
      b.putLong(x);
    }
    return QuantizedOnnxExporter.tensor(name, TensorProto.DataType.INT64_VALUE, b.array(), v.length);
  }
}
