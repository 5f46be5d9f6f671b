package dev.selfbyt.cortexsdr.zoo;

/**
 * Sizes the zoo accepts from a repository: {@code maxFileBytes} for each file an artifact
 * declares (system property {@code dev.selfbyt.cortexsdr.zoo.max_file_bytes}, default 8 GiB) and
 * {@code maxMetadataBytes} for a {@code metadata.json} or {@code index.json} (1 MiB). A declared
 * size above the limit is refused before anything is downloaded, and no download reads more than
 * its declared size plus one byte.
 *
 * @param maxFileBytes the largest file an artifact may declare
 * @param maxMetadataBytes the largest metadata or index file read
 */
public record ZooLimits(long maxFileBytes, long maxMetadataBytes) {
  /** The system property holding the default {@link #maxFileBytes}. */
  public static final String MAX_FILE_BYTES = "dev.selfbyt.cortexsdr.zoo.max_file_bytes";

  /** Checks both limits are positive. */
  public ZooLimits {
    if (maxFileBytes <= 0 || maxMetadataBytes <= 0) {
      throw new IllegalArgumentException("zoo limits must be positive: " + maxFileBytes + ", " + maxMetadataBytes);
    }
  }

  /** The limits from the system properties (read on each call). */
  public static ZooLimits defaults() {
    String v = System.getProperty(MAX_FILE_BYTES);
    long max = 8L << 30;
    if (v != null && !v.isBlank()) {
      try {
        max = Long.parseLong(v.trim());
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException(MAX_FILE_BYTES + "=" + v + " is not a number of bytes", e);
      }
    }
    return new ZooLimits(max, 1L << 20);
  }

  /** These limits with another {@link #maxFileBytes}. */
  public ZooLimits withMaxFileBytes(long bytes) {
    return new ZooLimits(bytes, maxMetadataBytes);
  }
}
