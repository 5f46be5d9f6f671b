package dev.selfbyt.cortexsdr.core.pipeline;

import dev.selfbyt.cortexsdr.core.format.CaiException;

/**
 * The heap ran out while tensors were being encoded. Fewer encoding threads ({@code
 * CompressionOptions.Builder.threads}) hold fewer tensors in memory at once; a larger heap is the
 * other way. Nothing is written: the target file is only created by the final rename.
 */
public final class EncodingOutOfMemoryException extends CaiException {
  private static final long serialVersionUID = 1L;

  /**
   * @param file the source being compressed
   * @param cause the error the encoder met
   */
  public EncodingOutOfMemoryException(String file, OutOfMemoryError cause) {
    super(file, null, "out of memory while encoding: use fewer threads or a larger heap (" + cause.getMessage() + ")",
        cause);
  }
}
