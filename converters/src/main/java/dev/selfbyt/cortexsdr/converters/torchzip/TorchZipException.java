package dev.selfbyt.cortexsdr.converters.torchzip;

/**
 * A zip that {@link StoredZip} cannot read: no zip (or cut before its directory), a directory or
 * entry outside the file, a name twice. {@link #record()} names the entry involved, if any; the
 * reader that caught it names the file when it turns it into its own {@code CaiException}.
 */
public final class TorchZipException extends Exception {
  private static final long serialVersionUID = 1L;

  private final String record;

  /** A damaged zip: {@code record} (or null) and the cause. */
  public TorchZipException(String record, String reason) {
    super(reason);
    this.record = record;
  }

  /** The zip entry concerned, or null when the damage is not an entry's. */
  public String record() {
    return record;
  }
}
