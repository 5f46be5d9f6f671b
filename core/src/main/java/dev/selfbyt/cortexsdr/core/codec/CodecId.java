package dev.selfbyt.cortexsdr.core.codec;

/**
 * The codec identifiers stored in a {@code .cai} directory entry. Codes never change once
 * released; a reader that meets a code it does not know reports it with the tensor's name.
 */
public enum CodecId {
  RAW(0),
  RLE(1),
  QUANT(2),
  SDR(3),
  TIERED(4),
  /** Non-uniform levels from a per-tensor table ({@link CodebookQuantCodec}). */
  CODEBOOK(5),
  /** Uniform steps per fiber, Huffman-coded codes ({@link EntropyQuantCodec}). */
  ENTROPY(6);

  private final int code;

  CodecId(int code) {
    this.code = code;
  }

  public int code() {
    return code;
  }

  /** The codec under {@code code}, or {@code null} if this reader does not know it. */
  public static CodecId fromCode(int code) {
    for (CodecId c : values()) {
      if (c.code == code) {
        return c;
      }
    }
    return null;
  }
}
