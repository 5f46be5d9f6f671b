package dev.selfbyt.cortexsdr.core.codec;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * Rebuilds a codec from what a {@code .cai} directory entry stores: its id and its parameters.
 * The one place that knows every codec; a reader calls {@link #fromStored} before decoding.
 */
public final class Codecs {
  private Codecs() {}

  /**
   * @throws MalformedPayloadException if the parameters do not parse
   */
  public static TensorCodec fromStored(CodecId id, byte[] params) {
    ByteBuffer p = ByteBuffer.wrap(params).order(ByteOrder.LITTLE_ENDIAN);
    try {
      return switch (id) {
        case RAW -> RawCodec.fromParams(p);
        case RLE -> RleCodec.INSTANCE;
        case QUANT -> QuantCodec.fromParams(p);
        case SDR -> SdrCodec.fromParams(p);
        case TIERED -> TieredQuantCodec.fromParams(p);
        case CODEBOOK -> CodebookQuantCodec.fromParams(p);
        case ENTROPY -> EntropyQuantCodec.fromParams(p);
      };
    } catch (java.nio.BufferUnderflowException | IllegalArgumentException e) {
      throw new MalformedPayloadException(
          id + " parameters do not parse (" + params.length + " bytes): " + e.getMessage());
    }
  }
}
