package dev.selfbyt.cortexsdr.core.codec;

import java.nio.ByteBuffer;

/**
 * A codec's payload with the error it makes (see {@link EncodingError}; 0 for lossless codecs).
 * Made by {@link TensorCodec#encodeMeasured}.
 *
 * @param nmse normalized mean squared error {@code sum((x - x')^2) / sum(x^2)}
 * @param maxAbsError the largest {@code |x - x'|}
 */
public record MeasuredPayload(ByteBuffer payload, float nmse, float maxAbsError) {}
