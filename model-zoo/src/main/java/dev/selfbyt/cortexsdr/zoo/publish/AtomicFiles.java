package dev.selfbyt.cortexsdr.zoo.publish;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;

/** Files written whole or not at all: into a temporary file beside the target, synced, then renamed over it. */
final class AtomicFiles {
  private AtomicFiles() {}

  /** Writes {@code bytes} to {@code target}. */
  static void write(Path target, byte[] bytes) throws IOException {
    write(target, out -> out.write(bytes));
  }

  /** Copies {@code source} to {@code target}. */
  static void copy(Path source, Path target) throws IOException {
    write(target, out -> Files.copy(source, out));
  }

  /** What writes a file's content. */
  interface Content {
    void writeTo(OutputStream out) throws IOException;
  }

  /** Writes {@code content} to {@code target}. */
  static void write(Path target, Content content) throws IOException {
    Path dir = Files.createDirectories(target.toAbsolutePath().getParent());
    Path tmp = Files.createTempFile(dir, "." + target.getFileName(), ".tmp");
    try {
      try (OutputStream out = Files.newOutputStream(tmp)) {
        content.writeTo(out);
      }
      try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
        ch.force(true); // the bytes are on disk before the name points at them
      }
      if (tmp.getFileSystem().supportedFileAttributeViews().contains("posix")) {
        // a temporary file is private (rw-------); a published one is read by servers and other users
        Files.setPosixFilePermissions(tmp, java.nio.file.attribute.PosixFilePermissions.fromString("rw-r--r--"));
      }
      Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    } finally {
      Files.deleteIfExists(tmp);
    }
  }
}
