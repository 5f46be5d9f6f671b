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
import java.util.concurrent.ConcurrentHashMap;
import org.apache.spark.SparkContext;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;

/**
 * A file of the driver sent to every executor once, as a Spark broadcast of its bytes: each
 * executor JVM fetches it a single time (in 4 MiB pieces, from the driver or from executors that
 * have it already), writes it to a local file named after its SHA-256, checks the hash, and reads
 * the model from there. Get one with {@link #ship}; it is serializable and travels in task
 * closures. Files must be under 2 GiB (a Java array).
 *
 * <p>Why not {@code SparkContext.addFile}: with Spark 4.0.1 on a standalone cluster, a file added
 * that way before a {@code Dataset} action never reached the executors' working folders where
 * {@code SparkFiles.get} looks (measured; local mode hides it, as the driver keeps a copy there).
 */
public final class ShippedFile implements Serializable {
  private static final long serialVersionUID = 1L;

  /** Executor side: content hash -> the local copy of this JVM, written and checked once. */
  private static final Map<String, Path> LOCAL = new ConcurrentHashMap<>();
  /** Driver side: (context, content hash) -> its broadcast, so a model is broadcast once per application. */
  private static final Map<String, Broadcast<byte[]>> BROADCASTS = new ConcurrentHashMap<>();

  private final Broadcast<byte[]> bytes;
  private final String sha256;
  private final long size;
  private final String source;

  private ShippedFile(Broadcast<byte[]> bytes, String sha256, long size, String source) {
    this.bytes = bytes;
    this.sha256 = sha256;
    this.size = size;
    this.source = source;
  }

  /** Broadcasts {@code file} in {@code sc} (once per content and application) and returns the handle tasks resolve. */
  public static ShippedFile ship(SparkContext sc, Path file) throws IOException {
    if (!Files.isRegularFile(file)) {
      throw new CaiException(file.toString(), null, "no such file to ship to the executors");
    }
    long size = Files.size(file);
    if (size > Integer.MAX_VALUE - 16) {
      throw new CaiException(file.toString(), null, size + " bytes: a broadcast holds under 2 GiB");
    }
    String sha = sha256(file);
    String key = sc.applicationId() + ":" + sha;
    Broadcast<byte[]> b = BROADCASTS.get(key);
    if (b == null) {
      b = JavaSparkContext.fromSparkContext(sc).broadcast(Files.readAllBytes(file));
      BROADCASTS.put(key, b);
    }
    return new ShippedFile(b, sha, size, file.toString());
  }

  /**
   * The local copy on this executor (or driver, in local mode): written from the broadcast on the
   * first call in a JVM, its size and SHA-256 checked.
   *
   * @throws CaiException when the bytes that arrived differ from the file shipped
   */
  public Path localPath() throws IOException {
    Path p = LOCAL.get(sha256);
    if (p != null && Files.isRegularFile(p)) {
      return p;
    }
    synchronized (LOCAL) {
      p = LOCAL.get(sha256);
      if (p != null && Files.isRegularFile(p)) {
        return p;
      }
      Path dir = Files.createTempDirectory("cortexsdr-model-");
      Path tmp = dir.resolve(".incoming");
      Files.write(tmp, bytes.value());
      String got = sha256(tmp);
      if (Files.size(tmp) != size || !got.equals(sha256)) {
        Files.delete(tmp);
        throw new CaiException(source, null, "the bytes that reached this executor (" + Files.size(tmp)
            + ", SHA-256 " + got + ") differ from the file shipped (" + size + ", SHA-256 " + sha256 + ")");
      }
      p = dir.resolve(sha256.substring(0, 16) + "-" + Path.of(source).getFileName());
      Files.move(tmp, p, StandardCopyOption.ATOMIC_MOVE);
      p.toFile().deleteOnExit();
      dir.toFile().deleteOnExit();
      LOCAL.put(sha256, p);
      return p;
    }
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
