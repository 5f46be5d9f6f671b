package dev.selfbyt.cortexsdr.core.format;

/**
 * A {@code .cai} file declares more than a configured limit allows (a tensor, manifest, graph or
 * directory larger than {@link CaiReader.Options} permits). Nothing was allocated for it. The
 * message names the limit, so a caller that trusts the file can raise it.
 */
public class CaiLimitException extends CaiException {
  public CaiLimitException(String file, String tensor, String reason) {
    super(file, tensor, reason);
  }
}
