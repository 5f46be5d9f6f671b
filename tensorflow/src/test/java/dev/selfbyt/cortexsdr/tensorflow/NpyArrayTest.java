package dev.selfbyt.cortexsdr.tensorflow;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Calibration samples from NumPy files, as {@code numpy.save} writes them. */
class NpyArrayTest {
  @TempDir Path tmp;

  private Path npy(String descr, String shape, byte[] data) throws Exception {
    String header = "{'descr': '" + descr + "', 'fortran_order': False, 'shape': (" + shape + "), }";
    header += " ".repeat(63 - (10 + header.length()) % 64) + "\n";
    ByteBuffer b = ByteBuffer.allocate(10 + header.length() + data.length).order(ByteOrder.LITTLE_ENDIAN);
    b.put((byte) 0x93).put("NUMPY".getBytes(StandardCharsets.US_ASCII)).put((byte) 1).put((byte) 0)
        .putShort((short) header.length()).put(header.getBytes(StandardCharsets.US_ASCII)).put(data);
    return Files.write(tmp.resolve(descr.replaceAll("\\W", "") + ".npy"), b.array());
  }

  @Test
  void float32AndUint8() throws Exception {
    ByteBuffer f = ByteBuffer.allocate(24).order(ByteOrder.LITTLE_ENDIAN);
    for (int i = 0; i < 6; i++) {
      f.putFloat(i * 0.5f);
    }
    NpyArray a = NpyArray.read(npy("<f4", "2, 3", f.array()));
    assertArrayEquals(new long[] {2, 3}, a.shape());
    assertArrayEquals(new float[] {0, 0.5f, 1, 1.5f, 2, 2.5f}, a.values());
    NpyArray u = NpyArray.read(npy("|u1", "2,", new byte[] {0, (byte) 255}));
    assertArrayEquals(new float[] {0, 1}, u.values());
  }

  @Test
  void refusals() throws Exception {
    assertTrue(assertThrows(SavedModelFormatException.class, () -> NpyArray.read(npy("<f8", "1,", new byte[8])))
        .reason().startsWith("element type <f8"));
    assertTrue(assertThrows(SavedModelFormatException.class, () -> NpyArray.read(npy("<f4", "4,", new byte[8])))
        .reason().contains("needs 16 bytes of data; the file has 8"));
    Path text = Files.writeString(tmp.resolve("x.npy"), "1,2,3");
    assertTrue(assertThrows(SavedModelFormatException.class, () -> NpyArray.read(text)).reason()
        .equals("not a NumPy .npy file"));
  }
}
