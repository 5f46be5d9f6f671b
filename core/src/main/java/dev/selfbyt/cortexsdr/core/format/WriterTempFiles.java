package dev.selfbyt.cortexsdr.core.format;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The temporary files of the write-then-rename rule: {@code .<target name>.<random>.tmp} beside
 * the target, locked ({@link FileChannel#tryLock()}) by the writer for as long as it writes.
 * A writer killed outright ({@code kill -9}, power loss) cannot delete its file, but the operating
 * system drops its lock; so before a new file is started for the same target, every unlocked
 * temporary file of that target is a leftover and is deleted. Files of live writers, in this JVM
 * or another process, are locked and left alone.
 *
 * <p>The file is created with the permissions the process's umask gives (0644 under the usual
 * 022), as every other program's output, so the renamed result is readable by whoever may read
 * the folder; {@code Files.createTempFile} would make it 0600.
 *
 * <p>Used by {@link CaiWriter} and the ONNX exporters; {@link #create} then {@link #release} when
 * the file is renamed or deleted.
 */
public final class WriterTempFiles {
  private WriterTempFiles() {}

  /**
   * Temporary files this JVM is writing. They are never opened by {@link #removeStale}: closing a
   * second channel on a file drops this process's lock on it (POSIX record locks are per process).
   */
  private static final Set<Path> OPEN = ConcurrentHashMap.newKeySet();

  /** Names of new temporary files (unpredictable, as {@code Files.createTempFile}'s). */
  private static final java.security.SecureRandom RANDOM = new java.security.SecureRandom();

  /** A created, locked temporary file and its channel (open for writing). */
  public record Held(Path path, FileChannel channel, FileLock lock) {}

  /** The prefix every temporary file of {@code target} starts with. */
  static String prefix(Path target) {
    return "." + target.getFileName() + ".";
  }

  /**
   * Deletes leftovers of {@code target}, then creates, opens and locks a new temporary file beside
   * it. Synchronized so that a writer of this JVM never sees another's file before it is locked.
   */
  public static synchronized Held create(Path target) throws IOException {
    Path abs = target.toAbsolutePath();
    Path dir = abs.getParent();
    removeStale(abs);
    Path temp = null;
    FileChannel ch = null;
    try {
      // not Files.createTempFile: that makes the file 0600, and the rename would keep that mode
      // (a server running as another user could not read the result); CREATE_NEW without
      // attributes gives the mode the umask gives, as any other program's output
      for (int attempt = 0; ch == null; attempt++) {
        temp = dir.resolve(prefix(abs) + Long.toUnsignedString(RANDOM.nextLong(), 36) + ".tmp");
        try {
          ch = FileChannel.open(temp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
        } catch (java.nio.file.FileAlreadyExistsException e) {
          if (attempt >= 100) {
            throw e;
          }
        }
      }
      FileLock lock;
      try {
        lock = ch.tryLock();
      } catch (IOException e) {
        lock = null; // a file system without locks: leftovers then stay (removeStale cannot lock them either)
      }
      OPEN.add(temp);
      return new Held(temp, ch, lock);
    } catch (IOException | RuntimeException e) {
      if (ch != null) {
        ch.close();
        Files.deleteIfExists(temp);
      }
      throw e;
    }
  }

  /** Forgets a temporary file once it was renamed onto its target or deleted. */
  public static void release(Path temp) {
    OPEN.remove(temp);
  }

  /**
   * Deletes the temporary files of {@code target} that no writer holds; returns how many. Best
   * effort: a file that cannot be opened or deleted stays.
   */
  public static int removeStale(Path target) {
    Path abs = target.toAbsolutePath();
    String prefix = prefix(abs);
    int removed = 0;
    try (DirectoryStream<Path> s = Files.newDirectoryStream(abs.getParent(), prefix + "*.tmp")) {
      for (Path p : s) {
        if (OPEN.contains(p) || !Files.isRegularFile(p, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
          continue;
        }
        try (FileChannel ch = FileChannel.open(p, StandardOpenOption.WRITE)) {
          FileLock lock = ch.tryLock();
          if (lock != null) { // no live writer: a leftover of a killed one
            Files.deleteIfExists(p);
            removed++;
          }
        } catch (IOException | OverlappingFileLockException e) {
          // held, vanished or unreadable: leave it
        }
      }
    } catch (IOException e) {
      // the folder cannot be listed: creating the new file will report what is wrong
    }
    return removed;
  }
}
