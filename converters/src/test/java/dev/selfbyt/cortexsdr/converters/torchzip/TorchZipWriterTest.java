package dev.selfbyt.cortexsdr.converters.torchzip;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.zip.ZipFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** One writer for state dicts and TorchScript: aligned, the same bytes through a channel or a stream, readable back. */
class TorchZipWriterTest {
  @TempDir Path dir;

  private static final List<String> NAMES = List.of("model/data.pkl", "model/code/__torch__.py", "model/data/0",
      "model/version");

  private static void records(TorchZipWriter z) throws IOException {
    for (int i = 0; i < NAMES.size(); i++) {
      byte[] b = new byte[17 * i + 3];
      for (int k = 0; k < b.length; k++) {
        b[k] = (byte) (k * 31 + i);
      }
      z.add(NAMES.get(i), ByteBuffer.wrap(b));
    }
  }

  @Test
  void aStreamAndAFileChannelGiveTheSameAlignedZip() throws Exception {
    ByteArrayOutputStream stream = new ByteArrayOutputStream();
    try (TorchZipWriter z = new TorchZipWriter(stream)) {
      records(z);
    }
    Path file = dir.resolve("m.pt");
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
      TorchZipWriter z = new TorchZipWriter(ch);
      records(z);
      z.finish();
    }
    assertArrayEquals(stream.toByteArray(), Files.readAllBytes(file));

    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ); ZipFile jdk = new ZipFile(file.toFile())) {
      StoredZip zip = StoredZip.read(ch);
      assertEquals(NAMES, zip.names());
      for (StoredZip.Entry e : zip.entries().values()) {
        assertEquals(0, e.dataOffset() % 64, e.name() + " is aligned for mapping");
        ByteBuffer b = ByteBuffer.allocate((int) e.size());
        ch.read(b, e.dataOffset());
        assertArrayEquals(jdk.getInputStream(jdk.getEntry(e.name())).readAllBytes(), b.array(), e.name());
      }
    }
  }
}
