package dev.selfbyt.cortexsdr.djl.graph;

import ai.onnx.proto.OnnxMl.TensorProto;
import dev.selfbyt.cortexsdr.core.tensor.DType;
import dev.selfbyt.cortexsdr.core.tensor.Fp16;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/** Between ONNX element types, tensor protos and little-endian bytes on one side, {@link Value}s on the other. */
public final class OnnxValues {
  private OnnxValues() {}

  /** The element type of an ONNX type number; fails naming the node for types the executor lacks. */
  static DType dtype(int onnx, String where) {
    return switch (onnx) {
      case 1 -> DType.FLOAT32;
      case 2 -> DType.UINT8;
      case 3 -> DType.INT8;
      case 4 -> DType.UINT16;
      case 5 -> DType.INT16;
      case 6 -> DType.INT32;
      case 7 -> DType.INT64;
      case 9 -> DType.BOOL;
      case 10 -> DType.FLOAT16;
      case 11 -> DType.FLOAT64;
      case 12 -> DType.UINT32;
      default -> throw new IllegalArgumentException("'" + where + "': ONNX element type " + onnx
          + " is not supported by the CortexSDR executor");
    };
  }

  /** The ONNX type number of a dtype (the executor's floating values are float32). */
  public static int onnxType(DType d) {
    return switch (d) {
      case FLOAT32, FLOAT16, FLOAT64, BFLOAT16 -> 1;
      case UINT8 -> 2;
      case INT8 -> 3;
      case UINT16 -> 4;
      case INT16 -> 5;
      case INT32 -> 6;
      case BOOL -> 9;
      case UINT32 -> 12;
      default -> 7;
    };
  }

  /** Values from little-endian bytes of {@code dtype}. */
  public static Value fromBytes(DType dtype, long[] shape, ByteBuffer bytes) {
    ByteBuffer b = bytes.duplicate().order(ByteOrder.LITTLE_ENDIAN);
    int n = Broadcast.size(shape);
    if (dtype.isFloating()) {
      float[] f = new float[n];
      for (int i = 0; i < n; i++) {
        f[i] = switch (dtype) {
          case FLOAT16 -> Fp16.toFloat(b.getShort());
          case FLOAT64 -> (float) b.getDouble();
          case BFLOAT16 -> Float.intBitsToFloat((b.getShort() & 0xffff) << 16);
          default -> b.getFloat();
        };
      }
      return Value.ofFloats(shape, f);
    }
    long[] l = new long[n];
    for (int i = 0; i < n; i++) {
      l[i] = switch (dtype) {
        case INT8 -> b.get();
        case UINT8, BOOL -> b.get() & 0xff;
        case INT16 -> b.getShort();
        case UINT16 -> b.getShort() & 0xffff;
        case INT32 -> b.getInt();
        case UINT32 -> b.getInt() & 0xffffffffL;
        case INT64, UINT64 -> b.getLong();
        default -> throw new IllegalArgumentException(dtype + " is not supported by the CortexSDR executor");
      };
    }
    return Value.ofLongs(dtype, shape, l);
  }

  /** The values in a tensor proto (raw or typed fields). */
  static Value fromProto(TensorProto t, String where) {
    DType d = dtype(t.getDataType(), where);
    long[] shape = new long[t.getDimsCount()];
    for (int i = 0; i < shape.length; i++) {
      shape[i] = t.getDims(i);
    }
    if (!t.getRawData().isEmpty()) {
      return fromBytes(d, shape, t.getRawData().asReadOnlyByteBuffer());
    }
    int n = Broadcast.size(shape);
    if (d.isFloating()) {
      float[] f = new float[n];
      for (int i = 0; i < n; i++) {
        f[i] = d == DType.FLOAT64 ? (float) t.getDoubleData(i) : d == DType.FLOAT16
            ? Fp16.toFloat((short) t.getInt32Data(i)) : t.getFloatData(i);
      }
      return Value.ofFloats(shape, f);
    }
    long[] l = new long[n];
    for (int i = 0; i < n; i++) {
      l[i] = d == DType.INT64 ? t.getInt64Data(i) : d == DType.UINT32 ? t.getUint64Data(i) : t.getInt32Data(i);
    }
    return Value.ofLongs(d, shape, l);
  }
}
