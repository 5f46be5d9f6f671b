package dev.selfbyt.cortexsdr.converters.safetensors;

import dev.selfbyt.cortexsdr.core.format.CaiException;

/**
 * A safetensors file (or sharded set) that cannot be read or written as asked: a header that does
 * not fit the file, bad JSON, an unknown dtype, offsets out of range or overlapping, a shape that
 * disagrees with its bytes, a shard missing. The message names the file, the tensor when one is
 * involved, and the cause.
 */
public final class SafetensorsFormatException extends CaiException {
  public SafetensorsFormatException(String file, String tensor, String reason) {
    super(file, tensor, reason);
  }

  public SafetensorsFormatException(String file, String tensor, String reason, Throwable cause) {
    super(file, tensor, reason, cause);
  }
}
