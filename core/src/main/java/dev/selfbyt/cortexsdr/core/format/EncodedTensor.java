package dev.selfbyt.cortexsdr.core.format;

import dev.selfbyt.cortexsdr.core.codec.TensorCodec;
import dev.selfbyt.cortexsdr.core.tensor.TensorInfo;
import java.nio.ByteBuffer;

/**
 * A tensor ready to be written: the codec that encoded it, the stored payload (after the zstd
 * stage when {@code zstd} is true), the payload's length before that stage, and the error the
 * encoding made ({@code 0} for lossless codecs). Made by the compression pipeline, consumed by
 * {@link CaiWriter#write(EncodedTensor)}.
 *
 * @param nmse normalized mean squared error {@code sum((x - x')^2) / sum(x^2)}
 * @param maxAbsError the largest {@code |x - x'|}
 */
public record EncodedTensor(
    TensorInfo info,
    TensorCodec codec,
    ByteBuffer payload,
    boolean zstd,
    long rawLength,
    float nmse,
    float maxAbsError) {

  /** Bytes the tensor takes in the file (payload only, not its directory entry). */
  public long storedLength() {
    return payload.remaining();
  }
}
