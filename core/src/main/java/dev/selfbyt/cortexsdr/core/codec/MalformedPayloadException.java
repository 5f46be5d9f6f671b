package dev.selfbyt.cortexsdr.core.codec;

/**
 * Thrown by a codec that finds its payload or parameters inconsistent (a length that does not
 * add up, a value out of range). The reader turns it into a {@code CorruptCaiException} naming
 * the file and the tensor; on its own it only says what was wrong.
 */
public class MalformedPayloadException extends RuntimeException {
  public MalformedPayloadException(String message) {
    super(message);
  }
}
