package dev.selfbyt.cortexsdr.core.format;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.selfbyt.cortexsdr.core.CompressionOptions;
import dev.selfbyt.cortexsdr.core.CortexSdr;
import dev.selfbyt.cortexsdr.core.Preset;
import dev.selfbyt.cortexsdr.core.TestTensors;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Leftover temporary files of killed writers are removed by the next writer of the same target;
 * files of live writers and of other targets are not. (The kill -9 itself, in a separate JVM, is
 * {@code AtomicCompressIT} in integration-tests.)
 */
class WriterTempFilesTest {
  @TempDir Path dir;

  @Test
  void nextWriteOfTheSameTargetRemovesLeftoversOfKilledWriters() throws IOException {
    Path target = dir.resolve("model.cai");
    // what a writer killed by kill -9 leaves: an unlocked, half-written temporary file
    Path leftover = dir.resolve(".model.cai.123456789.tmp");
    Files.write(leftover, new byte[] {(byte) 0x89, 'C', 'A', 'I'});
    Path otherTarget = dir.resolve(".other.cai.987654321.tmp");
    Files.write(otherTarget, new byte[4]);

    CortexSdr.compress(TestTensors.smallModel(3), target, CompressionOptions.builder().preset(Preset.INT8).build());

    assertFalse(Files.exists(leftover), "the killed writer's temporary file is removed");
    assertTrue(Files.exists(otherTarget), "another target's temporary file is not touched");
    assertEquals(List.of(".other.cai.987654321.tmp", "model.cai"), names());
    try (CaiReader r = CaiReader.open(target)) {
      r.verify();
    }
  }

  @Test
  void aLiveWritersFileIsLeftAlone() throws IOException {
    Path target = dir.resolve("model.cai");
    try (CaiWriter first = CaiWriter.create(target, Map.of("format", "cai"), new byte[0], null)) {
      Path live = tempFiles().get(0);
      assertEquals(0, WriterTempFiles.removeStale(target), "a file this JVM is writing is skipped");
      try (CaiWriter second = CaiWriter.create(target, Map.of("format", "cai"), new byte[0], null)) {
        assertTrue(Files.exists(live), "a second writer of the same target keeps the first one's file");
        assertEquals(2, tempFiles().size());
        second.finish();
      }
      assertTrue(Files.exists(live));
    }
    assertEquals(List.of("model.cai"), names(), "the unfinished writer deleted its file on close");
  }

  /**
   * A finished file has the mode the process's umask gives any new file (0644 under the usual
   * 022), not the 0600 of {@code Files.createTempFile}: a server running as another user reads it.
   */
  @Test
  void aFinishedFileHasTheModeTheUmaskGives() throws IOException, InterruptedException {
    Path target = dir.resolve("model.cai");
    CortexSdr.compress(TestTensors.smallModel(3), target, CompressionOptions.builder().preset(Preset.INT8).build());
    // the umask this JVM runs under, as a child process inherits it
    Process p = new ProcessBuilder("sh", "-c", "umask").redirectErrorStream(true).start();
    String umask = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.US_ASCII).strip();
    assertEquals(0, p.waitFor(), umask);
    int expected = 0666 & ~Integer.parseInt(umask, 8);
    assertEquals(Integer.toOctalString(expected), Integer.toOctalString(mode(target)), "umask " + umask);
    // and the same as any other new file in that folder
    Path plain = Files.createFile(dir.resolve("plain"));
    assertEquals(Files.getPosixFilePermissions(plain), Files.getPosixFilePermissions(target));
  }

  private static int mode(Path p) throws IOException {
    int m = 0;
    for (java.nio.file.attribute.PosixFilePermission x : Files.getPosixFilePermissions(p)) {
      m |= 0400 >> x.ordinal(); // OWNER_READ, OWNER_WRITE, OWNER_EXECUTE, GROUP_READ, ... in that order
    }
    return m;
  }

  private List<Path> tempFiles() throws IOException {
    try (Stream<Path> s = Files.list(dir)) {
      return s.filter(p -> p.getFileName().toString().endsWith(".tmp")).sorted().toList();
    }
  }

  private List<String> names() throws IOException {
    try (Stream<Path> s = Files.list(dir)) {
      return s.map(p -> p.getFileName().toString()).sorted().toList();
    }
  }
}
