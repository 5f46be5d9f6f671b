package dev.selfbyt.cortexsdr.converters.onnx;

import ai.onnx.proto.OnnxMl.TensorProto.DataType;
import dev.selfbyt.cortexsdr.core.tensor.DType;

/** ONNX {@code TensorProto.DataType} codes to and from {@link DType}. */
final class OnnxDTypes {
  private OnnxDTypes() {}

  /** The {@code .cai} type of an ONNX element type code, or null when there is none. */
  static DType toDType(int onnxType) {
    switch (onnxType) { // the float8 formats of opset 19, by their TensorProto numbers
      case 17: return DType.FLOAT8E4M3FN;
      case 18: return DType.FLOAT8E4M3FNUZ;
      case 19: return DType.FLOAT8E5M2;
      case 20: return DType.FLOAT8E5M2FNUZ;
      case 24: return DType.FLOAT8E8M0; // opset 24
      default: break;
    }
    DataType t = DataType.forNumber(onnxType);
    if (t == null) {
      return null;
    }
    return switch (t) {
      case FLOAT -> DType.FLOAT32;
      case UINT8 -> DType.UINT8;
      case INT8 -> DType.INT8;
      case UINT16 -> DType.UINT16;
      case INT16 -> DType.INT16;
      case INT32 -> DType.INT32;
      case INT64 -> DType.INT64;
      case BOOL -> DType.BOOL;
      case FLOAT16 -> DType.FLOAT16;
      case DOUBLE -> DType.FLOAT64;
      case UINT32 -> DType.UINT32;
      case UINT64 -> DType.UINT64;
      case COMPLEX64 -> DType.COMPLEX64;
      case COMPLEX128 -> DType.COMPLEX128;
      case BFLOAT16 -> DType.BFLOAT16;
      default -> null;
    };
  }

  static int toOnnx(DType d) {
    switch (d) {
      case FLOAT8E4M3FN: return 17;
      case FLOAT8E4M3FNUZ: return 18;
      case FLOAT8E5M2: return 19;
      case FLOAT8E5M2FNUZ: return 20;
      case FLOAT8E8M0: return 24;
      default: break;
    }
    DataType t = switch (d) {
      case FLOAT32 -> DataType.FLOAT;
      case FLOAT16 -> DataType.FLOAT16;
      case BFLOAT16 -> DataType.BFLOAT16;
      case FLOAT64 -> DataType.DOUBLE;
      case INT8 -> DataType.INT8;
      case INT16 -> DataType.INT16;
      case INT32 -> DataType.INT32;
      case INT64 -> DataType.INT64;
      case UINT8 -> DataType.UINT8;
      case BOOL -> DataType.BOOL;
      case UINT16 -> DataType.UINT16;
      case UINT32 -> DataType.UINT32;
      case UINT64 -> DataType.UINT64;
      case COMPLEX64 -> DataType.COMPLEX64;
      case COMPLEX128 -> DataType.COMPLEX128;
      default -> throw new IllegalArgumentException(d + " has no ONNX type in this build");
    };
    return t.getNumber();
  }

  /** INT4 (22), UINT4 (21) and FLOAT4E2M1 (23): two elements per byte. */
  static boolean isPacked4Bit(int onnxType) {
    return onnxType == 21 || onnxType == 22 || onnxType == 23;
  }

  static String name(int onnxType) {
    DataType t = DataType.forNumber(onnxType);
    return t == null ? "type " + onnxType : t.name();
  }

  /**
   * The values of a small constant tensor (float, float16, double, int32 or int64, its data in the
   * tensor) as floats, or null for another type or data kept elsewhere.
   */
  static float[] smallFloats(ai.onnx.proto.OnnxMl.TensorProto t) {
    long numel = 1;
    for (long d : t.getDimsList()) {
      numel *= d;
    }
    if (numel > 4096) {
      return null;
    }
    int n = (int) numel;
    float[] v = new float[n];
    java.nio.ByteBuffer raw = t.getRawData().asReadOnlyByteBuffer().order(java.nio.ByteOrder.LITTLE_ENDIAN);
    boolean hasRaw = !t.getRawData().isEmpty();
    switch (t.getDataType()) {
      case 1 -> { // FLOAT
        if (hasRaw ? raw.remaining() != 4L * n : t.getFloatDataCount() != n) {
          return null;
        }
        for (int i = 0; i < n; i++) {
          v[i] = hasRaw ? raw.getFloat() : t.getFloatData(i);
        }
      }
      case 10 -> { // FLOAT16: raw, or one per int32_data element
        if (hasRaw ? raw.remaining() != 2L * n : t.getInt32DataCount() != n) {
          return null;
        }
        for (int i = 0; i < n; i++) {
          v[i] = dev.selfbyt.cortexsdr.core.tensor.Fp16.toFloat((short) (hasRaw ? raw.getShort() : t.getInt32Data(i)));
        }
      }
      case 11 -> { // DOUBLE
        if (hasRaw ? raw.remaining() != 8L * n : t.getDoubleDataCount() != n) {
          return null;
        }
        for (int i = 0; i < n; i++) {
          v[i] = (float) (hasRaw ? raw.getDouble() : t.getDoubleData(i));
        }
      }
      case 6 -> { // INT32
        if (hasRaw ? raw.remaining() != 4L * n : t.getInt32DataCount() != n) {
          return null;
        }
        for (int i = 0; i < n; i++) {
          v[i] = hasRaw ? raw.getInt() : t.getInt32Data(i);
        }
      }
      case 7 -> { // INT64
        if (hasRaw ? raw.remaining() != 8L * n : t.getInt64DataCount() != n) {
          return null;
        }
        for (int i = 0; i < n; i++) {
          v[i] = hasRaw ? raw.getLong() : t.getInt64Data(i);
        }
      }
      default -> {
        return null;
      }
    }
    return v;
  }
}
