package dev.selfbyt.cortexsdr.converters.safetensors;

import dev.selfbyt.cortexsdr.core.tensor.DType;

/**
 * The element types of the safetensors format, by the names its headers use, with the {@link
 * DType} each is stored as in a {@code .cai}. The sub-byte types (F4, F6) have no {@code DType}:
 * they are stored as their packed bytes ({@link DType#UINT8}, one axis), the header kept in the
 * graph segment saying what they are.
 */
public enum SafetensorsDType {
  BOOL(DType.BOOL, 8),
  F4(null, 4),
  F6_E2M3(null, 6),
  F6_E3M2(null, 6),
  U8(DType.UINT8, 8),
  I8(DType.INT8, 8),
  F8_E5M2(DType.FLOAT8E5M2, 8),
  F8_E4M3(DType.FLOAT8E4M3FN, 8),
  F8_E8M0(DType.FLOAT8E8M0, 8),
  I16(DType.INT16, 16),
  U16(DType.UINT16, 16),
  F16(DType.FLOAT16, 16),
  BF16(DType.BFLOAT16, 16),
  I32(DType.INT32, 32),
  U32(DType.UINT32, 32),
  F32(DType.FLOAT32, 32),
  C64(DType.COMPLEX64, 64),
  F64(DType.FLOAT64, 64),
  I64(DType.INT64, 64),
  U64(DType.UINT64, 64);

  private final DType dtype;
  private final int bits;

  SafetensorsDType(DType dtype, int bits) {
    this.dtype = dtype;
    this.bits = bits;
  }

  /** The {@code .cai} type of whole-byte types; null for the packed sub-byte ones. */
  public DType dtype() {
    return dtype;
  }

  /** Bits per element. */
  public int bits() {
    return bits;
  }

  /** The type named {@code name} in a header, or null when the format has no such type. */
  public static SafetensorsDType parse(String name) {
    try {
      return valueOf(name); // names are case-sensitive in the format
    } catch (IllegalArgumentException e) {
      return null;
    }
  }

  /** The safetensors name of a {@code .cai} type, or null when the format has none. */
  public static SafetensorsDType of(DType d) {
    for (SafetensorsDType t : values()) {
      if (t.dtype == d) {
        return t;
      }
    }
    return null;
  }
}
