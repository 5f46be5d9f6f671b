package dev.selfbyt.cortexsdr.core.codec;

import dev.selfbyt.cortexsdr.core.tensor.TensorData;
import dev.selfbyt.cortexsdr.core.tensor.TensorInfo;
import java.nio.ByteBuffer;

/**
 * One way to store a tensor. An instance is a codec together with its parameters (bits, block,
 * sparsity...): {@link #params()} is what the file stores beside the payload, and {@link
 * Codecs#fromStored} rebuilds an equal instance from it. Instances are immutable and
 * thread-safe. Get one from {@link RawCodec}, {@link RleCodec}, {@link QuantCodec}, {@link
 * SdrCodec}, or {@link Codecs#fromStored}.
 */
public interface TensorCodec {

  CodecId id();

  /** The parameters stored in the directory entry; with the {@link TensorInfo}, all a decoder needs. */
  byte[] params();

  /** True when {@code decode(encode(x))} gives back exactly the bytes of {@code x}. */
  boolean isLossless();

  /** Whether this codec can store the given tensor (lossy codecs need a floating dtype). */
  default boolean accepts(TensorInfo info) {
    return isLossless() || info.dtype().isFloating();
  }

  /**
   * Encodes a tensor into a payload (position 0, little-endian).
   *
   * @throws IllegalArgumentException if the tensor cannot be stored this way (for example a lossy
   *     codec given NaN values); the message names the tensor and the cause
   */
  ByteBuffer encode(TensorData data);

  /**
   * Encodes a tensor and measures the error the payload makes against {@link
   * TensorData#reference()} (see {@link EncodingError}). The payload is {@link #encode}'s. This
   * default decodes the payload again and compares; a codec that can measure while it encodes
   * overrides it, with the same figures to the bit.
   *
   * @throws IllegalArgumentException as {@link #encode} does
   */
  default MeasuredPayload encodeMeasured(TensorData data) {
    ByteBuffer payload = encode(data);
    if (isLossless()) {
      return new MeasuredPayload(payload, 0f, 0f);
    }
    EncodingError e = EncodingError.of(data, this, payload);
    return new MeasuredPayload(payload, e.nmse(), e.maxAbsError());
  }

  /**
   * Decodes a payload written by {@link #encode} for the tensor {@code info}.
   *
   * @throws MalformedPayloadException if the payload is inconsistent
   */
  TensorData decode(TensorInfo info, ByteBuffer payload);

  /**
   * The longest payload (before the zstd stage) this codec writes for {@code info}: a reader
   * refuses a longer one before allocating it. May be loose, never too small.
   */
  long maxPayloadBytes(TensorInfo info);

  /** A short human description, e.g. {@code quant int4 asym block32}. */
  String describe();
}
