package dev.selfbyt.cortexsdr.core.codec;

/**
 * A codec's stored parameters carry a version this reader does not know: the file was written
 * by a newer CortexSDR. The reader reports it as an unknown codec, not as damage.
 */
public final class UnknownParamsVersionException extends MalformedPayloadException {
  public UnknownParamsVersionException(String codec, int version) {
    super(codec + " parameters of version " + version + " are not known to this reader");
  }
}
