package dev.selfbyt.cortexsdr.core.format;

/**
 * The file was written by a newer, incompatible format version (a higher major version than
 * this reader knows). Newer minor versions are read; this is thrown only when reading would risk
 * wrong numbers. The fix is a newer CortexSDR.
 */
public class UnsupportedCaiVersionException extends CaiException {
  public UnsupportedCaiVersionException(String file, String reason) {
    super(file, null, reason);
  }
}
