package dev.selfbyt.cortexsdr.core.format;

/** The file is not a {@code .cai} archive at all (wrong magic bytes); the message guesses what it is. */
public class NotCaiFileException extends CaiException {
  public NotCaiFileException(String file, String reason) {
    super(file, null, reason);
  }
}
