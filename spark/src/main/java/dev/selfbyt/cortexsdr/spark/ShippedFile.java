package dev.selfbyt.cortexsdr.spark;

import dev.selfbyt.cortexsdr.core.format.CaiException;
import java.io.IOException;
import java.io.InputStream;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.spark.SparkContext;
import org.apache.spark.SparkFiles;

/**
 * A file of the driver sent to every executor once, through {@code SparkContext.addFile}: Spark's
 * file server hands it to each executor JVM a single time, where it lands on local disk (so a
 * {@code .cai} is read from a file, not held twice on the heap as a broadcast byte array would
 * be). It is added under a name made of its SHA-256 and its own name, so two files called {@code
 * model.cai} never clash, and the executor checks the hash before anything reads the file. Get
 * one with {@link #ship}; it is serializable and travels in task closures.
 */
public final class ShippedFile implements Serializable {
  private static final long serialVersionUID = 1L;

  /** Files this JVM has already checked: the hash is computed once per executor, not per task. */
  private static final Set<String> CHECKED = ConcurrentHashMap.newKeySet();
  /** Driver side: content hash -> the staged copy added to Spark, reused for every later ship. */
  private static final Map<String, Path> STAGED = new ConcurrentHashMap<>();

  private final String sparkName;
  private final String sha256;
  private final long size;
  private final String source;

  private ShippedFile(String sparkName, String sha256, long size, String source) {
    this.sparkName = sparkName;
    this.sha256 = sha256;
    this.size = size;
    this.source = source;
  }

  /**
   * Adds {@code file} to {@code sc}'s files (once per content, whatever its path) and returns the
   * handle tasks resolve with {@link #localPath()}.
   */
  public static ShippedFile ship(SparkContext sc, Path file) throws IOException {
    if (!Files.isRegularFile(file)) {
      throw new CaiException(file.toString(), null, "no such file to ship to the executors");
    }
    String sha = sha256(file);
    String name = sha.substring(0, 16) + "-" + file.getFileName();
    Path staged = STAGED.get(sha);
    if (staged == null || !Files.isRegularFile(staged)) {
      // a hard link where the file system allows it: no copy of a large model on the driver
      Path dir = Files.createTempDirectory("cortexsdr-ship-");
      staged = dir.resolve(name);
      try {
        Files.createLink(staged, file.toAbsolutePath());
      } catch (IOException | UnsupportedOperationException e) {
        Files.copy(file, staged, StandardCopyOption.COPY_ATTRIBUTES);
      }
      staged.toFile().deleteOnExit();
      dir.toFile().deleteOnExit();
      STAGED.put(sha, staged);
    }
    // Spark keeps the first registration of a path and ignores the same path added again
    sc.addFile(staged.toUri().toString());
    return new ShippedFile(name, sha, Files.size(file), file.toString());
  }

  /**
   * Where the file is on this executor (or driver, in local mode); the first call in a JVM checks
   * its size and SHA-256.
   *
   * @throws CaiException when the file Spark delivered differs from the one shipped
   */
  public Path localPath() throws IOException {
    Path p = Path.of(SparkFiles.get(sparkName));
    if (!CHECKED.contains(sparkName)) {
      if (!Files.isRegularFile(p)) {
        throw new CaiException(source, null, "was shipped to the executors as " + sparkName + " but is not at " + p);
      }
      String got = sha256(p);
      if (Files.size(p) != size || !got.equals(sha256)) {
        throw new CaiException(source, null, "the copy Spark delivered to this executor (" + p + ", "
            + Files.size(p) + " bytes) differs from the shipped file (" + size + " bytes, SHA-256 " + sha256 + ")");
      }
      CHECKED.add(sparkName);
    }
    return p;
  }

  /** The SHA-256 of the content, hex. */
  public String sha256() {
    return sha256;
  }

  /** The file's size in bytes: what each executor receives. */
  public long size() {
    return size;
  }

  /** The driver path it was shipped from. */
  public String source() {
    return source;
  }

  /** The SHA-256 of a file, hex. */
  static String sha256(Path file) throws IOException {
    MessageDigest md;
    try {
      md = MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every JDK has SHA-256", e);
    }
    try (InputStream in = Files.newInputStream(file)) {
      byte[] buf = new byte[1 << 16];
      for (int n; (n = in.read(buf)) > 0; ) {
        md.update(buf, 0, n);
      }
    } catch (UncheckedIOException e) {
      throw e.getCause();
    }
    return HexFormat.of().formatHex(md.digest());
  }

  @Override
  public String toString() {
    return source + " (" + size + " bytes, SHA-256 " + sha256.substring(0, 16) + "...)";
  }
}
