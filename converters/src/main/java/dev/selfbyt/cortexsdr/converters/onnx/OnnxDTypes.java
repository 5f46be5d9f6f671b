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
}
