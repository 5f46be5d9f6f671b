package dev.selfbyt.cortexsdr.core.format;

/**
 * A {@code .cai} file is damaged or truncated: a checksum does not match, a length or offset
 * points outside the file, the footer is missing. The message says which region (header,
 * manifest, graph, directory, footer, or the tensor's payload) failed and how.
 */
public class CorruptCaiException extends CaiException {
  public CorruptCaiException(String file, String tensor, String reason) {
    super(file, tensor, reason);
  }

  public CorruptCaiException(String file, String tensor, String reason, Throwable cause) {
    super(file, tensor, reason, cause);
  }
}
