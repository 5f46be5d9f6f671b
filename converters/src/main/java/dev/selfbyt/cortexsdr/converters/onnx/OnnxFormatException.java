package dev.selfbyt.cortexsdr.converters.onnx;

import dev.selfbyt.cortexsdr.core.format.CaiException;

/**
 * An ONNX file that cannot be read or written as asked: not ONNX, truncated, an element type
 * that has no {@code .cai} equivalent, a missing external-data file. The message names the file,
 * the tensor when one is involved, and the cause.
 */
public final class OnnxFormatException extends CaiException {
  public OnnxFormatException(String file, String tensor, String reason) {
    super(file, tensor, reason);
  }

  public OnnxFormatException(String file, String tensor, String reason, Throwable cause) {
    super(file, tensor, reason, cause);
  }
}
