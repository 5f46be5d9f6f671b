package dev.selfbyt.cortexsdr.core.format;

/**
 * A tensor is stored with a codec or dtype this reader does not know (written by a newer
 * CortexSDR). The rest of the file stays readable; only this tensor cannot be decoded.
 */
public class UnknownCodecException extends CaiException {
  public UnknownCodecException(String file, String tensor, String reason) {
    super(file, tensor, reason);
  }
}
