package dev.selfbyt.cortexsdr.zoo;

import ai.djl.util.Progress;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * Copies one repository file to disk while counting and hashing it: never more than its declared
 * size plus one byte is read, and the copy fails ({@link ZooIntegrityException}) when the count or
 * the sha256 differs from the metadata. The caller writes into a temporary folder it deletes on
 * failure, so a refused file never reaches DJL's cache.
 */
public final class VerifiedCopy {
  private VerifiedCopy() {}

  /**
   * Copies {@code in} to {@code target}.
   *
   * @param location the file's URL, for messages
   * @param size the declared size in bytes
   * @param sha256 the declared sha256, lowercase hex
   * @param progress DJL's progress bar, or null
   */
  public static void copy(InputStream in, Path target, String location, long size, String sha256, Progress progress)
      throws IOException {
    MessageDigest md = sha256();
    long n = 0;
    byte[] buf = new byte[1 << 16];
    try (InputStream src = in;
        OutputStream out = Files.newOutputStream(target, StandardOpenOption.CREATE_NEW)) {
      while (true) {
        int r = src.read(buf, 0, (int) Math.min(buf.length, size + 1 - n));
        if (r < 0) {
          break;
        }
        n += r;
        if (n > size) {
          throw new ZooIntegrityException(ZooIntegrityException.Reason.SIZE_MISMATCH, location, "longer than the "
              + size + " bytes the metadata declares; download refused");
        }
        md.update(buf, 0, r);
        out.write(buf, 0, r);
        if (progress != null) {
          progress.increment(r);
        }
      }
    }
    if (n != size) {
      throw new ZooIntegrityException(ZooIntegrityException.Reason.SIZE_MISMATCH, location, "truncated: " + n + " of "
          + size + " bytes arrived; nothing was kept, load again to retry");
    }
    String actual = HexFormat.of().formatHex(md.digest());
    if (!actual.equalsIgnoreCase(sha256)) {
      throw new ZooIntegrityException(ZooIntegrityException.Reason.HASH_MISMATCH, location, "sha256 " + actual
          + " is not the " + sha256 + " the metadata declares (the file was altered or replaced); nothing was kept");
    }
  }

  /** The sha256 of a file, lowercase hex. */
  public static String sha256(Path file) throws IOException {
    return digest(file, sha256());
  }

  /** The sha1 of a file, lowercase hex (the hash DJL's own repositories check). */
  public static String sha1(Path file) throws IOException {
    try {
      return digest(file, MessageDigest.getInstance("SHA-1"));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  private static String digest(Path file, MessageDigest md) throws IOException {
    byte[] buf = new byte[1 << 16];
    try (InputStream in = Files.newInputStream(file)) {
      for (int r; (r = in.read(buf)) >= 0; ) {
        md.update(buf, 0, r);
      }
    }
    return HexFormat.of().formatHex(md.digest());
  }

  static MessageDigest sha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("the JVM has no SHA-256", e);
    }
  }
}
