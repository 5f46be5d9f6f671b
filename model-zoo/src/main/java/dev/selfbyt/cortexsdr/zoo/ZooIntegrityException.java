package dev.selfbyt.cortexsdr.zoo;

import java.io.IOException;

/**
 * A repository file or answer the zoo refuses: a hash or size that does not match the metadata, a
 * path that would leave the repository, a file larger than allowed, a redirect to another host, a
 * network fetch in offline mode. The message names the file or URL and the cause; nothing of the
 * refused download is left in DJL's cache.
 */
public class ZooIntegrityException extends IOException {
  private static final long serialVersionUID = 1L;

  /** Why a file or answer was refused. */
  public enum Reason {
    /** The bytes' sha256 is not the one the metadata declares. */
    HASH_MISMATCH,
    /** Fewer or more bytes than the metadata declares (a truncated or padded download). */
    SIZE_MISMATCH,
    /** A path that is not a plain relative path inside the repository. */
    PATH_ESCAPE,
    /** A declared or served size above the limit. */
    TOO_LARGE,
    /** An http redirect to another host, port or scheme. */
    REDIRECT,
    /** A network fetch while {@code ai.djl.offline} is true. */
    OFFLINE,
    /** Metadata that is not a valid repository metadata file. */
    MALFORMED
  }

  private final Reason reason;
  private final String location;

  /** A refusal of {@code location} (a file or URL) for {@code reason}, {@code detail} saying what was found. */
  public ZooIntegrityException(Reason reason, String location, String detail) {
    super(location + ": " + detail);
    this.reason = reason;
    this.location = location;
  }

  /** Why it was refused. */
  public Reason reason() {
    return reason;
  }

  /** The file or URL refused. */
  public String location() {
    return location;
  }
}
