package dev.selfbyt.cortexsdr.core.format;

import dev.selfbyt.cortexsdr.core.codec.CodecId;
import dev.selfbyt.cortexsdr.core.codec.Codecs;
import dev.selfbyt.cortexsdr.core.codec.MalformedPayloadException;
import dev.selfbyt.cortexsdr.core.tensor.TensorInfo;

/**
 * One tensor's entry in a {@code .cai} directory: what the tensor is ({@link #info()}), how it is
 * stored (codec id and parameters, zstd stage or not), where (offset, length, CRC32C), and the
 * error its encoding made. Get entries from {@link CaiReader#entries()}.
 */
public final class CaiEntry {
  private final TensorInfo info;
  private final int codecCode;
  private final byte[] params;
  private final boolean zstd;
  private final long offset;
  private final long storedLength;
  private final long rawLength;
  private final int crc32c;
  private final float nmse;
  private final float maxAbsError;
  private final int unknownDTypeCode;

  CaiEntry(
      TensorInfo info, int codecCode, byte[] params, boolean zstd, long offset, long storedLength,
      long rawLength, int crc32c, float nmse, float maxAbsError, int unknownDTypeCode) {
    this.info = info;
    this.codecCode = codecCode;
    this.params = params;
    this.zstd = zstd;
    this.offset = offset;
    this.storedLength = storedLength;
    this.rawLength = rawLength;
    this.crc32c = crc32c;
    this.nmse = nmse;
    this.maxAbsError = maxAbsError;
    this.unknownDTypeCode = unknownDTypeCode;
  }

  /** The stored dtype code when this reader does not know it, else -1. */
  int unknownDTypeCode() {
    return unknownDTypeCode;
  }

  public TensorInfo info() {
    return info;
  }

  public String name() {
    return info.name();
  }

  /** The codec, or {@code null} if this reader does not know the stored codec id. */
  public CodecId codec() {
    return CodecId.fromCode(codecCode);
  }

  public int codecCode() {
    return codecCode;
  }

  /** The codec's stored parameters. */
  public byte[] params() {
    return params.clone();
  }

  /** True when the payload went through the zstd stage. */
  public boolean zstd() {
    return zstd;
  }

  /** Absolute offset of the payload in the file (a multiple of 64). */
  public long offset() {
    return offset;
  }

  /** Bytes the payload takes in the file. */
  public long storedLength() {
    return storedLength;
  }

  /** Bytes of the codec's payload before the zstd stage. */
  public long rawLength() {
    return rawLength;
  }

  public int crc32c() {
    return crc32c;
  }

  /** Normalized mean squared error of the encoding (0 for lossless). */
  public float nmse() {
    return nmse;
  }

  public float maxAbsError() {
    return maxAbsError;
  }

  /** Stored bits per element. */
  public double bitsPerWeight() {
    long n = info.numel();
    return n == 0 ? 0 : storedLength * 8.0 / n;
  }

  /** A human description such as {@code quant int4 asym block32 +zstd}. */
  public String describe() {
    CodecId id = codec();
    String base;
    if (id == null) {
      base = "unknown codec #" + codecCode;
    } else {
      try {
        base = Codecs.fromStored(id, params).describe();
      } catch (MalformedPayloadException e) {
        base = id.name().toLowerCase(java.util.Locale.ROOT) + " (bad parameters)";
      }
    }
    return zstd ? base + " +zstd" : base;
  }

  @Override
  public String toString() {
    return info + " " + describe() + " @" + offset + "+" + storedLength;
  }
}
