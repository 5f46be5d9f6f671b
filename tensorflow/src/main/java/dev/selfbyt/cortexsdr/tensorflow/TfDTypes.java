package dev.selfbyt.cortexsdr.tensorflow;

import dev.selfbyt.cortexsdr.core.tensor.DType;
import org.tensorflow.proto.DataType;

/**
 * TensorFlow element types as {@code .cai} ones. Types with no fixed-size equivalent (strings,
 * quantized {@code qint} types, 4-bit ints, resources, variants) have none: their checkpoint bytes
 * are stored as they are, as a {@code uint8} tensor, and written back unchanged.
 */
final class TfDTypes {
  private TfDTypes() {}

  /** The {@code .cai} type of a TensorFlow one, or null when its bytes are kept as they are. */
  static DType of(DataType t) {
    return switch (t) {
      case DT_FLOAT -> DType.FLOAT32;
      case DT_DOUBLE -> DType.FLOAT64;
      case DT_HALF -> DType.FLOAT16;
      case DT_BFLOAT16 -> DType.BFLOAT16;
      case DT_INT8 -> DType.INT8;
      case DT_INT16 -> DType.INT16;
      case DT_INT32 -> DType.INT32;
      case DT_INT64 -> DType.INT64;
      case DT_UINT8 -> DType.UINT8;
      case DT_UINT16 -> DType.UINT16;
      case DT_UINT32 -> DType.UINT32;
      case DT_UINT64 -> DType.UINT64;
      case DT_BOOL -> DType.BOOL;
      case DT_COMPLEX64 -> DType.COMPLEX64;
      case DT_COMPLEX128 -> DType.COMPLEX128;
      case DT_FLOAT8_E4M3FN -> DType.FLOAT8E4M3FN;
      case DT_FLOAT8_E5M2 -> DType.FLOAT8E5M2;
      default -> null;
    };
  }
}
