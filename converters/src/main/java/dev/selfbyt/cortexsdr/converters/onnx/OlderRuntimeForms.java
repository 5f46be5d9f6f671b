package dev.selfbyt.cortexsdr.converters.onnx;

import ai.onnx.proto.OnnxMl.AttributeProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import dev.selfbyt.cortexsdr.core.codec.PackedCodes;
import dev.selfbyt.cortexsdr.core.codec.QuantizedTensor;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;

/**
 * The forms of a block-quantized weight for ONNX Runtime releases older than the operators
 * {@link QuantizedOnnxExporter} writes for {@link OrtVersion#NEWEST} (see {@link OrtVersion} for
 * which release has what). Every form keeps the weight's codes (one byte or half a byte each) in
 * the file and in ONNX Runtime's memory, and computes exactly the values {@code cortexsdr} decodes:
 *
 * <ul>
 *   <li>{@link #gatherBlockQuantizedUint4}: a 4-bit embedding table as {@code GatherBlockQuantized}
 *       with {@code uint4} data and zero points and no {@code bits} attribute (ONNX Runtime 1.20
 *       to 1.22 know only this form);
 *   <li>{@link #gatherThenDequantize}: any block-quantized table as {@code Gather} of its 8-bit
 *       codes, scales and zero points by the same ids, then {@code (codes - zero point) * scale}
 *       on the gathered rows only (standard operators of every opset from 10);
 *   <li>{@link #dequantizeLinearMatMul}: a MatMul weight as {@code com.microsoft.DequantizeLinear}
 *       over its blocks (one row per block, per-axis scale and zero point), reshaped and transposed
 *       into {@code [K, N]}, then the original MatMul. ONNX Runtime keeps {@code DequantizeLinear}
 *       of an initializer unfolded, so the weight stays 8-bit in memory and is expanded per run.
 * </ul>
 */
final class OlderRuntimeForms {
  private OlderRuntimeForms() {}

  /**
   * {@code GatherBlockQuantized} over a {@code [rows, d]} table of 4-bit codes, {@code uint4} data
   * and zero points packed over the whole tensor (ONNX's int4 layout: element {@code i} in the low
   * nibble of byte {@code i / 2} when {@code i} is even).
   */
  static NodeProto gatherBlockQuantizedUint4(NodeProto gather, String name, QuantizedTensor qt,
      List<TensorProto> added) {
    int rows = qt.fibers();
    int d = qt.fiberLength();
    int block = qt.codec().blockSize();
    int blocks = (d + block - 1) / block;
    byte[] codes = new byte[rows * d]; // packed over the whole tensor: a row may start mid-byte
    for (int r = 0; r < rows; r++) {
      System.arraycopy(qt.codes(r), 0, codes, r * d, d);
    }
    byte[] data = new byte[(int) PackedCodes.bytes(codes.length, 4)];
    PackedCodes.pack(codes, 0, codes.length, 4, data, 0);
    int[] zps = qt.zeroPoints();
    byte[] zp = new byte[(int) PackedCodes.bytes(zps.length, 4)];
    PackedCodes.packInts(zps, 4, zp, 0);
    String base = name + "_GatherBlockQuantized";
    added.add(QuantizedOnnxExporter.tensor(base + "_data", TensorProto.DataType.UINT4_VALUE, data, rows, d));
    added.add(QuantizedOnnxExporter.floats(base + "_scales", qt.scales(), rows, blocks));
    added.add(QuantizedOnnxExporter.tensor(base + "_zero_points", TensorProto.DataType.UINT4_VALUE, zp, rows, blocks));
    return NodeProto.newBuilder()
        .setName(gather.getName().isEmpty() ? base : gather.getName() + "_quantized")
        .setOpType("GatherBlockQuantized").setDomain("com.microsoft")
        .addInput(base + "_data").addInput(gather.getInput(1)).addInput(base + "_scales").addInput(base + "_zero_points")
        .addAllOutput(gather.getOutputList())
        .addAttribute(intAttr("gather_axis", 0)).addAttribute(intAttr("quantize_axis", 1))
        .addAttribute(intAttr("block_size", block))
        .build();
  }

  /**
   * {@code Gather} of a block-quantized {@code [rows, d]} table's codes ({@code [rows, blocks,
   * block]}, one byte each, padded with the zero point), scales and zero points, dequantized after
   * the gather and reshaped to {@code ids.shape + [d]}.
   *
   * @param opset the model's default-domain opset: from 10 {@code Slice} takes inputs
   */
  static List<NodeProto> gatherThenDequantize(NodeProto gather, String name, QuantizedTensor qt,
      long opset, List<TensorProto> added) {
    int rows = qt.fibers();
    int d = qt.fiberLength();
    int block = qt.codec().blockSize();
    int blocks = (d + block - 1) / block;
    int[] zps = qt.zeroPoints();
    byte[] codes = new byte[rows * blocks * block];
    for (int r = 0; r < rows; r++) {
      byte[] c = qt.codes(r);
      for (int b = 0; b < blocks; b++) {
        for (int j = 0; j < block; j++) {
          int i = b * block + j;
          codes[(r * blocks + b) * block + j] = i < d ? c[i] : (byte) zps[r * blocks + b];
        }
      }
    }
    String base = name + "_rows";
    String ids = gather.getInput(1);
    String prefix = gather.getName().isEmpty() ? base : gather.getName();
    added.add(QuantizedOnnxExporter.tensor(base + "_codes", TensorProto.DataType.UINT8_VALUE, codes, rows, blocks, block));
    added.add(QuantizedOnnxExporter.floats(base + "_scales", qt.scales(), rows, blocks, 1));
    List<NodeProto> nodes = new ArrayList<>();
    nodes.add(node(prefix + "_codes", "Gather", List.of(base + "_codes", ids), List.of(base + "_gathered")));
    nodes.add(IntegerMatMul.cast(prefix + "_codes_float", base + "_gathered", base + "_gathered_float"));
    if (allEqual(zps)) {
      added.add(QuantizedOnnxExporter.floats(base + "_zero_point", new float[] {zps[0]}));
      nodes.add(node(prefix + "_centre", "Sub", List.of(base + "_gathered_float", base + "_zero_point"),
          List.of(base + "_centred")));
    } else {
      byte[] z = new byte[zps.length];
      for (int i = 0; i < z.length; i++) {
        z[i] = (byte) zps[i];
      }
      added.add(QuantizedOnnxExporter.tensor(base + "_zero_points", TensorProto.DataType.UINT8_VALUE, z, rows, blocks, 1));
      nodes.add(node(prefix + "_zero_points", "Gather", List.of(base + "_zero_points", ids), List.of(base + "_gathered_zp")));
      nodes.add(IntegerMatMul.cast(prefix + "_zero_points_float", base + "_gathered_zp", base + "_gathered_zp_float"));
      nodes.add(node(prefix + "_centre", "Sub", List.of(base + "_gathered_float", base + "_gathered_zp_float"),
          List.of(base + "_centred")));
    }
    nodes.add(node(prefix + "_scales", "Gather", List.of(base + "_scales", ids), List.of(base + "_gathered_scales")));
    nodes.add(node(prefix + "_dequantize", "Mul", List.of(base + "_centred", base + "_gathered_scales"),
        List.of(base + "_values")));
    // [ids..., blocks, block] -> [ids..., blocks * block]: the ids' rank is known only at run time
    added.add(longs(base + "_width", blocks * block));
    nodes.add(node(prefix + "_ids_shape", "Shape", List.of(ids), List.of(base + "_ids_shape")));
    nodes.add(NodeProto.newBuilder(node(prefix + "_out_shape", "Concat", List.of(base + "_ids_shape", base + "_width"),
        List.of(base + "_out_shape"))).addAttribute(intAttr("axis", 0)).build());
    boolean padded = blocks * block != d;
    String reshaped = padded ? base + "_padded" : gather.getOutput(0);
    nodes.add(node(prefix + "_reshape", "Reshape", List.of(base + "_values", base + "_out_shape"), List.of(reshaped)));
    if (padded) {
      nodes.add(slice(prefix + "_unpad", base, reshaped, gather.getOutput(0), -1, d, opset, added));
    }
    return nodes;
  }

  /**
   * A MatMul on a block-quantized {@code [K, N]} weight: {@code DequantizeLinear(codes [blocks *
   * N, block], axis 0)}, reshaped to {@code [blocks, N, block]}, transposed to {@code [blocks,
   * block, N]}, reshaped to {@code [blocks * block, N]} (and sliced to {@code K} rows when padded),
   * feeding {@code mm} in place of the weight.
   */
  static List<NodeProto> dequantizeLinearMatMul(NodeProto mm, String name, QuantizedTensor qt,
      long opset, List<TensorProto> added) {
    int n = qt.fibers();
    int k = qt.fiberLength();
    int block = qt.codec().blockSize();
    int blocks = (k + block - 1) / block;
    int[] zps = qt.zeroPoints();
    float[] s = qt.scales();
    byte[] codes = new byte[blocks * n * block];
    float[] scales = new float[blocks * n];
    byte[] zp = new byte[blocks * n];
    for (int f = 0; f < n; f++) {
      byte[] c = qt.codes(f);
      for (int b = 0; b < blocks; b++) {
        int row = b * n + f; // row (block b, column f): the order the reshape and transpose undo
        scales[row] = s[f * blocks + b];
        zp[row] = (byte) zps[f * blocks + b];
        for (int j = 0; j < block; j++) {
          int i = b * block + j;
          codes[row * block + j] = i < k ? c[i] : zp[row];
        }
      }
    }
    String base = name + "_dq";
    String prefix = mm.getName().isEmpty() ? base : mm.getName();
    added.add(QuantizedOnnxExporter.tensor(base + "_codes", TensorProto.DataType.UINT8_VALUE, codes, (long) blocks * n, block));
    added.add(QuantizedOnnxExporter.floats(base + "_scales", scales, (long) blocks * n));
    added.add(QuantizedOnnxExporter.tensor(base + "_zero_points", TensorProto.DataType.UINT8_VALUE, zp, (long) blocks * n));
    added.add(longs(base + "_blocks_shape", blocks, n, block));
    added.add(longs(base + "_kn_shape", (long) blocks * block, n));
    List<NodeProto> nodes = new ArrayList<>();
    nodes.add(NodeProto.newBuilder(node(prefix + "_dequantize", "DequantizeLinear",
        List.of(base + "_codes", base + "_scales", base + "_zero_points"), List.of(base + "_blocks")))
        .setDomain("com.microsoft").addAttribute(intAttr("axis", 0)).build());
    nodes.add(node(prefix + "_split", "Reshape", List.of(base + "_blocks", base + "_blocks_shape"), List.of(base + "_bnk")));
    nodes.add(NodeProto.newBuilder(node(prefix + "_transpose", "Transpose", List.of(base + "_bnk"), List.of(base + "_bkn")))
        .addAttribute(AttributeProto.newBuilder().setName("perm").setType(AttributeProto.AttributeType.INTS)
            .addInts(0).addInts(2).addInts(1)).build());
    boolean padded = blocks * block != k;
    String weight = padded ? base + "_padded" : base + "_weight";
    nodes.add(node(prefix + "_join", "Reshape", List.of(base + "_bkn", base + "_kn_shape"), List.of(weight)));
    if (padded) {
      nodes.add(slice(prefix + "_unpad", base, weight, base + "_weight", 0, k, opset, added));
    }
    nodes.add(mm.toBuilder().setInput(1, base + "_weight").build());
    return nodes;
  }

  /** {@code in[..., 0:end]} along {@code axis}, in the Slice form of {@code opset}. */
  private static NodeProto slice(String name, String base, String in, String out, long axis, long end, long opset,
      List<TensorProto> added) {
    if (opset >= 10) {
      added.add(longs(base + "_slice_starts", 0));
      added.add(longs(base + "_slice_ends", end));
      added.add(longs(base + "_slice_axes", axis));
      return node(name, "Slice", List.of(in, base + "_slice_starts", base + "_slice_ends", base + "_slice_axes"),
          List.of(out));
    }
    return NodeProto.newBuilder(node(name, "Slice", List.of(in), List.of(out)))
        .addAttribute(ints("starts", 0)).addAttribute(ints("ends", end)).addAttribute(ints("axes", axis)).build();
  }

  private static boolean allEqual(int[] v) {
    for (int x : v) {
      if (x != v[0]) {
        return false;
      }
    }
    return true;
  }

  private static TensorProto longs(String name, long... v) {
    ByteBuffer b = ByteBuffer.allocate(8 * v.length).order(ByteOrder.LITTLE_ENDIAN);
    for (long x : v) {
      b.putLong(x);
    }
    return QuantizedOnnxExporter.tensor(name, TensorProto.DataType.INT64_VALUE, b.array(), v.length);
  }

  private static NodeProto node(String name, String op, List<String> in, List<String> out) {
    return NodeProto.newBuilder().setName(name).setOpType(op).addAllInput(in).addAllOutput(out).build();
  }

  private static AttributeProto intAttr(String name, long v) {
    return AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.INT).setI(v).build();
  }

  private static AttributeProto ints(String name, long v) {
    return AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.INTS).addInts(v).build();
  }
}
