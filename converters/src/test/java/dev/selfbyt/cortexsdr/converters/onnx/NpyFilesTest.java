package dev.selfbyt.cortexsdr.converters.onnx;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnx.proto.OnnxMl.TensorProto.DataType;
import dev.selfbyt.cortexsdr.core.format.CaiException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * .npy and .npz as numpy writes them (header padded to 64 bytes, ending in a newline), and the
 * clear refusals of what is not one. (Files written by numpy itself are read in
 * CalibrationInputsIT.)
 */
class NpyFilesTest {
  @TempDir Path dir;

  /** A version 1.0 .npy image of {@code data} with numpy's header layout. */
  static byte[] npy(String descr, String shape, byte[] data) {
    String h = "{'descr': '" + descr + "', 'fortran_order': False, 'shape': " + shape + ", }";
    int total = 10 + h.length() + 1;
    h += " ".repeat((64 - total % 64) % 64) + "\n";
    ByteBuffer b = ByteBuffer.allocate(10 + h.length() + data.length).order(ByteOrder.LITTLE_ENDIAN);
    b.put(new byte[] {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0}).putShort((short) h.length());
    b.put(h.getBytes(StandardCharsets.ISO_8859_1)).put(data);
    return b.array();
  }

  static byte[] floats(float... v) {
    ByteBuffer b = ByteBuffer.allocate(4 * v.length).order(ByteOrder.LITTLE_ENDIAN);
    for (float x : v) {
      b.putFloat(x);
    }
    return b.array();
  }

  @Test
  void readsArraysOfEachKind() throws Exception {
    Path f = dir.resolve("x.npy");
    Files.write(f, npy("<f4", "(2, 3)", floats(1, 2, 3, 4, 5, 6)));
    OnnxCalibrator.Input x = NpyFiles.readNpy(f);
    assertArrayEquals(new long[] {2, 3}, x.shape());
    assertArrayEquals(new float[] {1, 2, 3, 4, 5, 6}, x.fp32());

    ByteBuffer be = ByteBuffer.allocate(16).order(ByteOrder.BIG_ENDIAN).putLong(7).putLong(-2);
    Files.write(f, npy(">i8", "(2,)", be.array()));
    assertArrayEquals(new long[] {7, -2}, NpyFiles.readNpy(f).int64());

    Files.write(f, npy("|b1", "(1, 3)", new byte[] {1, 0, 1}));
    OnnxCalibrator.Input b = NpyFiles.readNpy(f);
    assertEquals(DataType.BOOL_VALUE, b.elemType());
    assertArrayEquals(new long[] {1, 0, 1}, b.int64());

    Files.write(f, npy("<f8", "()", ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putDouble(0.5).array()));
    assertArrayEquals(new float[] {0.5f}, NpyFiles.readNpy(f).fp32());
  }

  @Test
  void readsNpzByName() throws Exception {
    Path z = dir.resolve("s.npz");
    try (OutputStream o = Files.newOutputStream(z); ZipOutputStream zip = new ZipOutputStream(o)) {
      zip.putNextEntry(new ZipEntry("input_ids.npy"));
      zip.write(npy("<i8", "(1, 2)", ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putLong(3).putLong(4)
          .array()));
      zip.putNextEntry(new ZipEntry("pixel:0.npy"));
      zip.write(npy("<f4", "(1,)", floats(9)));
    }
    Map<String, OnnxCalibrator.Input> m = NpyFiles.readNpz(z);
    assertEquals(java.util.List.of("input_ids", "pixel:0"), java.util.List.copyOf(m.keySet()));
    assertArrayEquals(new long[] {3, 4}, m.get("input_ids").int64());
  }

  @Test
  void refusesWhatIsNotAnArray() throws Exception {
    Path f = dir.resolve("bad.npy");
    byte[] good = npy("<f4", "(2, 3)", floats(1, 2, 3, 4, 5, 6));
    Files.write(f, Arrays.copyOf(good, good.length - 4));
    assertMessage(f, "truncated");
    byte[] fortran = new String(good, StandardCharsets.ISO_8859_1).replace("False", "True ")
        .getBytes(StandardCharsets.ISO_8859_1);
    Files.write(f, fortran);
    assertMessage(f, "Fortran");
    Files.write(f, npy("|O", "(1,)", new byte[8]));
    assertMessage(f, "dtype");
    Files.write(f, "hello, not numpy".getBytes(StandardCharsets.US_ASCII));
    assertMessage(f, "magic");
    Files.write(f, npy("<f4", "(99999999, 99999999)", new byte[0]));
    assertMessage(f, "too large");
    Path z = dir.resolve("bad.npz");
    Files.write(z, "PK but not really".getBytes(StandardCharsets.US_ASCII));
    String m = assertThrows(CaiException.class, () -> NpyFiles.readNpz(z)).getMessage();
    assertTrue(m.contains("bad.npz"), m);
  }

  private static void assertMessage(Path f, String part) {
    String m = assertThrows(CaiException.class, () -> NpyFiles.readNpy(f)).getMessage();
    assertTrue(m.contains(part) && m.contains(f.getFileName().toString()), m);
  }
}
