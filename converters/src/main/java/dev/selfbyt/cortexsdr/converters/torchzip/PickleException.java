package dev.selfbyt.cortexsdr.converters.torchzip;

/**
 * A pickle that {@link RestrictedUnpickler} refuses (a global or opcode not allowed) or cannot read
 * (truncated, malformed). The message gives the byte and the cause; the reader that caught it names
 * the file and the record when it turns it into its own {@code CaiException}.
 */
public final class PickleException extends Exception {
  private static final long serialVersionUID = 1L;

  /** A refused or malformed pickle, described by {@code reason}. */
  public PickleException(String reason) {
    super(reason);
  }

  /** The same, with the exception that revealed it. */
  public PickleException(String reason, Throwable cause) {
    super(reason, cause);
  }
}
