package dev.selfbyt.cortexsdr.onnxops;

import ai.onnx.proto.OnnxMl.AttributeProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.OperatorSetIdProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import com.google.protobuf.ByteString;
import dev.selfbyt.cortexsdr.core.codec.PackedCodes;
import dev.selfbyt.cortexsdr.core.codec.QuantCodec;
import dev.selfbyt.cortexsdr.core.codec.QuantizedTensor;
import dev.selfbyt.cortexsdr.core.codec.SdrCodec;
import dev.selfbyt.cortexsdr.core.format.CaiException;
import dev.selfbyt.cortexsdr.core.format.CaiReader;
import dev.selfbyt.cortexsdr.core.tensor.TensorInfo;
import dev.selfbyt.cortexsdr.core.tensor.TensorRole;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;

/**
 * A {@code [K, N]} MatMul weight in the layout of the {@code ai.cortexsdr.SdrMatMul} operator:
 * compressed sparse columns. The non-zeros of output column {@code n} are entries {@code
 * colPtr[n] .. colPtr[n+1]-1}; each has a row {@code rowIdx[j]} (stored as uint16 when {@code K
 * <= 65536}, else int32) and a value, either fp32 or an 8/4-bit code read as {@code (code -
 * zeroPoint[j / blockSize]) * scale[j / blockSize]}.
 *
 * <p>This is the order a {@code .cai} SDR tensor already keeps (fiber-major positions, one fiber
 * per output column, values quantized in blocks along that order), so {@link #fromCai} copies
 * positions and codes without re-rounding anything. Get one with {@link #fromCai}, {@link
 * #ofFloats} or {@link #ofCodes}.
 */
public final class SdrMatMulWeights {
  private final int k;
  private final int n;
  private final int[] colPtr;
  private final int[] rowIdx;
  private final int bits;
  private final float[] values;
  private final byte[] codes;
  private final float[] scales;
  private final int[] zeroPoints;
  private final int blockSize;

  private SdrMatMulWeights(int k, int n, int[] positions, int bits, float[] values, byte[] codes, float[] scales,
      int[] zeroPoints, int blockSize) {
    this.k = k;
    this.n = n;
    this.bits = bits;
    this.values = values;
    this.codes = codes;
    this.scales = scales;
    this.zeroPoints = zeroPoints;
    this.blockSize = blockSize;
    this.colPtr = new int[n + 1];
    this.rowIdx = new int[positions.length];
    long prev = -1;
    for (int j = 0; j < positions.length; j++) {
      int p = positions[j];
      if (p <= prev || p >= (long) k * n) {
        throw new IllegalArgumentException("position " + p + " at " + j + " is not ascending within [0, K*N = "
            + (long) k * n + ")");
      }
      prev = p;
      colPtr[p / k + 1]++;
      rowIdx[j] = p % k;
    }
    for (int c = 0; c < n; c++) {
      colPtr[c + 1] += colPtr[c];
    }
  }

  /**
   * A weight with fp32 values.
   *
   * @param positions ascending fiber-major indices {@code n * K + k} of the non-zeros
   */
  public static SdrMatMulWeights ofFloats(int k, int n, int[] positions, float[] values) {
    if (values.length != positions.length) {
      throw new IllegalArgumentException(values.length + " values for " + positions.length + " positions");
    }
    return new SdrMatMulWeights(k, n, positions, 32, values.clone(), null, null, null, 0);
  }

  /**
   * A weight with quantized values.
   *
   * @param codes one unsigned code per non-zero, below {@code 2^bits}
   * @param scales one per block of {@code blockSize} non-zeros in storage order
   * @param zeroPoints one per block
   */
  public static SdrMatMulWeights ofCodes(int k, int n, int[] positions, int bits, byte[] codes, float[] scales,
      int[] zeroPoints, int blockSize) {
    int blocks = blockSize == 0 ? 0 : (positions.length + blockSize - 1) / blockSize;
    if ((bits != 8 && bits != 4) || codes.length != positions.length || blockSize <= 0 || scales.length < blocks
        || zeroPoints.length < blocks) {
      throw new IllegalArgumentException("bits " + bits + ", " + codes.length + " codes, " + scales.length
          + " scales, " + zeroPoints.length + " zero points for " + positions.length + " non-zeros in blocks of "
          + blockSize);
    }
    for (byte c : codes) {
      if ((c & 0xff) >= 1 << bits) {
        throw new IllegalArgumentException("code " + (c & 0xff) + " does not fit " + bits + " bits");
      }
    }
    return new SdrMatMulWeights(k, n, positions, bits, null, codes.clone(), scales.clone(), zeroPoints.clone(),
        blockSize);
  }

  /**
   * The operator's layout of an SDR-coded {@code [K, N]} MatMul weight (reduction axis 0) or {@code
   * [N, C, kh, kw]} Conv weight (K = C * kh * kw) of a {@code .cai}: 8-bit and 4-bit value codes are kept as stored, other widths are widened to 8
   * bits exactly, fp32/fp16 values become fp32.
   *
   * @throws CaiException if the tensor is not such a weight
   */
  public static SdrMatMulWeights fromCai(CaiReader cai, String name) throws java.io.IOException {
    CaiReader.StoredTensor st = cai.readStored(name);
    TensorInfo info = st.entry().info();
    // fibers must be the K values of one column: a Conv role would make them span [K, N] whole
    boolean matMul = info.rank() == 2 && info.reductionAxis() == 0 && info.fiberLength() == info.shape()[0];
    // a Conv weight [N, C, kh, kw] keeps one fiber per output channel over its C * kh * kw values
    boolean conv = info.role() == TensorRole.CONV_WEIGHT && info.rank() == 4 && info.reductionAxis() == 1;
    if (!(st.codec() instanceof SdrCodec sdr) || !(matMul || conv)) {
      throw new CaiException(cai.path().toString(), name, "is not an SDR-coded [K, N] MatMul weight or [N, C, kh, "
          + "kw] Conv weight (" + st.codec().describe() + ", shape " + java.util.Arrays.toString(info.shape()) + ")");
    }
    int k = Math.toIntExact(conv ? info.fiberLength() : info.shape()[0]);
    int n = Math.toIntExact(conv ? info.shape()[0] : info.shape()[1]);
    if (sdr.valueCodec() == null) {
      SdrCodec.SparseTensor s = sdr.unpack(info, st.payload());
      return ofFloats(k, n, s.positions(), s.values());
    }
    SdrCodec.QuantizedSparse q = sdr.unpackQuantized(info, st.payload());
    QuantizedTensor qt = q.values();
    int nnz = q.positions().length;
    int bits = qt.codec().bits() <= 4 ? 4 : 8;
    byte[] c = nnz == 0 ? new byte[0] : qt.codes(0);
    int block = Math.max(1, qt.codec().granularity() == QuantCodec.Granularity.BLOCK ? qt.groupLength() : nnz);
    return ofCodes(k, n, q.positions(), bits, c, qt.scales(), qt.zeroPoints(), block);
  }

  public int k() {
    return k;
  }

  public int n() {
    return n;
  }

  public int nnz() {
    return rowIdx.length;
  }

  /** 32 for fp32 values, else 8 or 4. */
  public int bits() {
    return bits;
  }

  /** The fraction of zeros. */
  public double sparsity() {
    return 1 - (double) nnz() / ((double) k * n);
  }

  /** Bytes of the operator's initializers: proportional to the non-zeros. */
  public long bytes() {
    long b = 4L * (n + 1) + (long) nnz() * (k <= 65536 ? 2 : 4);
    if (bits == 32) {
      return b + 4L * nnz();
    }
    int blocks = (nnz() + blockSize - 1) / blockSize;
    return b + (bits == 8 ? nnz() : (nnz() + 1) / 2) + 5L * blocks;
  }

  /** The weight as a dense row-major {@code [K, N]} array, for reference computations. */
  public float[] dense() {
    float[] w = new float[k * n];
    for (int c = 0; c < n; c++) {
      for (int j = colPtr[c]; j < colPtr[c + 1]; j++) {
        w[rowIdx[j] * n + c] = value(j);
      }
    }
    return w;
  }

  /** The value of non-zero {@code j}, computed as the operator does. */
  public float value(int j) {
    if (bits == 32) {
      return values[j];
    }
    int b = j / blockSize;
    return ((codes[j] & 0xff) - zeroPoints[b]) * scales[b];
  }

  /** The operator set the node needs in the model's {@code opset_import}. */
  public static OperatorSetIdProto opset() {
    return OperatorSetIdProto.newBuilder().setDomain(SdrOps.DOMAIN).setVersion(1).build();
  }

  /** The {@code SdrMatMul} node computing {@code y = x * W} from the initializers named {@code prefix_*}. */
  public NodeProto node(String nodeName, String x, String y, String prefix) {
    NodeProto.Builder b = NodeProto.newBuilder().setName(nodeName).setOpType("SdrMatMul").setDomain(SdrOps.DOMAIN)
        .addInput(x).addInput(prefix + "_col_ptr").addInput(prefix + "_row_idx").addInput(prefix + "_values")
        .addOutput(y)
        .addAttribute(intAttr("K", k)).addAttribute(intAttr("N", n)).addAttribute(intAttr("bits", bits));
    if (bits != 32) {
      b.addInput(prefix + "_scales").addInput(prefix + "_zero_points").addAttribute(intAttr("block_size", blockSize));
    }
    return b.build();
  }

  /**
   * The {@code SdrConv} node computing {@code y = Conv(x, W) + bias} (bias may be null) from the
   * initializers named {@code prefix_*}; {@code kernel} [kh, kw], {@code pads} [top, left, bottom,
   * right], {@code strides} and {@code dilations} [h, w] as the ONNX {@code Conv} attributes.
   */
  public NodeProto convNode(String nodeName, String x, String bias, String y, String prefix, long[] kernel,
      long[] pads, long[] strides, long[] dilations) {
    NodeProto.Builder b = NodeProto.newBuilder().setName(nodeName).setOpType("SdrConv").setDomain(SdrOps.DOMAIN)
        .addInput(x).addInput(prefix + "_col_ptr").addInput(prefix + "_row_idx").addInput(prefix + "_values")
        .addOutput(y)
        .addAttribute(intAttr("K", k)).addAttribute(intAttr("N", n)).addAttribute(intAttr("bits", bits))
        .addAttribute(intsAttr("kernel_shape", kernel)).addAttribute(intsAttr("pads", pads))
        .addAttribute(intsAttr("strides", strides)).addAttribute(intsAttr("dilations", dilations));
    if (bits != 32) {
      b.addInput(prefix + "_scales").addInput(prefix + "_zero_points").addAttribute(intAttr("block_size", blockSize));
    } else if (bias != null) {
      b.addInput("").addInput(""); // optional inputs left out, so the bias is input 6
    }
    if (bias != null) {
      b.addInput(bias);
    }
    return b.build();
  }

  /** The node's initializers, named {@code prefix_col_ptr}, {@code prefix_row_idx}, ... */
  public List<TensorProto> initializers(String prefix) {
    return initializers(prefix, k > 65536);
  }

  /** As {@link #initializers(String)}, with int32 row indices even where uint16 would do. */
  List<TensorProto> initializers(String prefix, boolean int32Rows) {
    List<TensorProto> t = new ArrayList<>();
    t.add(tensor(prefix + "_col_ptr", TensorProto.DataType.INT32_VALUE, ints(colPtr), colPtr.length));
    if (!int32Rows) {
      ByteBuffer b = le(2 * rowIdx.length);
      for (int r : rowIdx) {
        b.putShort((short) r);
      }
      t.add(tensor(prefix + "_row_idx", TensorProto.DataType.UINT16_VALUE, b.array(), rowIdx.length));
    } else {
      t.add(tensor(prefix + "_row_idx", TensorProto.DataType.INT32_VALUE, ints(rowIdx), rowIdx.length));
    }
    if (bits == 32) {
      ByteBuffer b = le(4 * values.length);
      b.asFloatBuffer().put(values);
      t.add(tensor(prefix + "_values", TensorProto.DataType.FLOAT_VALUE, b.array(), values.length));
      return t;
    }
    byte[] packed;
    if (bits == 8) {
      packed = codes;
    } else {
      packed = new byte[(int) PackedCodes.bytes(codes.length, 4)];
      PackedCodes.pack(codes, 0, codes.length, 4, packed, 0);
    }
    t.add(tensor(prefix + "_values", TensorProto.DataType.UINT8_VALUE, packed, packed.length));
    int blocks = (codes.length + blockSize - 1) / blockSize;
    ByteBuffer s = le(4 * blocks);
    for (int i = 0; i < blocks; i++) {
      s.putFloat(scales[i]);
    }
    t.add(tensor(prefix + "_scales", TensorProto.DataType.FLOAT_VALUE, s.array(), blocks));
    byte[] z = new byte[blocks];
    for (int i = 0; i < blocks; i++) {
      z[i] = (byte) zeroPoints[i];
    }
    t.add(tensor(prefix + "_zero_points", TensorProto.DataType.UINT8_VALUE, z, blocks));
    return t;
  }

  private static ByteBuffer le(int size) {
    return ByteBuffer.allocate(size).order(ByteOrder.LITTLE_ENDIAN);
  }

  private static byte[] ints(int[] v) {
    ByteBuffer b = le(4 * v.length);
    b.asIntBuffer().put(v);
    return b.array();
  }

  private static TensorProto tensor(String name, int type, byte[] data, long dim) {
    return TensorProto.newBuilder().setName(name).setDataType(type).addDims(dim)
        .setRawData(ByteString.copyFrom(data)).build();
  }

  private static AttributeProto intsAttr(String name, long[] v) {
    AttributeProto.Builder a = AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.INTS);
    for (long x : v) {
      a.addInts(x);
    }
    return a.build();
  }

  private static AttributeProto intAttr(String name, long v) {
    return AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.INT).setI(v).build();
  }
}
