package dev.selfbyt.cortexsdr.cli;

import static dev.selfbyt.cortexsdr.cli.CortexSdrCommandTest.cortexsdr;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.zip.CRC32;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code compress} and {@code decompress} on weight files: safetensors and PyTorch state dicts in
 * and back out; hostile ones refused with exit 1, one line naming file, tensor and cause, and no
 * output left. (Real files written by torch are in the integration tests.)
 */
class CliWeightFilesTest {
  @TempDir Path dir;

  private static byte[] safetensors(String header, int dataBytes) {
    byte[] h = header.getBytes(StandardCharsets.UTF_8);
    ByteBuffer b = ByteBuffer.allocate(8 + h.length + dataBytes).order(ByteOrder.LITTLE_ENDIAN);
    b.putLong(h.length).put(h);
    for (int i = 0; i + 4 <= dataBytes; i += 4) {
      b.putFloat((float) Math.sin(i * 0.37) * 0.1f);
    }
    return b.array();
  }

  /** A pickle of {@code OrderedDict(name -> FloatStorage-backed tensor)}, protocol 2, as torch writes one. */
  static byte[] statePickle(String name, String storageKey, long storageNumel, long[] size, long[] stride) {
    ByteArrayOutputStream p = new ByteArrayOutputStream();
    p.write(0x80);
    p.write(2);
    global(p, "collections", "OrderedDict");
    p.write(')');
    p.write('R');
    unicode(p, name);
    global(p, "torch._utils", "_rebuild_tensor_v2");
    p.write('(');
    p.write('(');
    unicode(p, "storage");
    global(p, "torch", "FloatStorage");
    unicode(p, storageKey);
    unicode(p, "cpu");
    binint(p, storageNumel);
    p.write('t');
    p.write('Q');
    binint(p, 0);
    p.write('(');
    for (long s : size) {
      binint(p, s);
    }
    p.write('t');
    p.write('(');
    for (long s : stride) {
      binint(p, s);
    }
    p.write('t');
    p.write(0x89);
    global(p, "collections", "OrderedDict");
    p.write(')');
    p.write('R');
    p.write('t');
    p.write('R');
    p.write('s');
    p.write('.');
    return p.toByteArray();
  }

  static void global(ByteArrayOutputStream p, String module, String name) {
    p.write('c');
    p.writeBytes((module + "\n" + name + "\n").getBytes(StandardCharsets.US_ASCII));
  }

  static void unicode(ByteArrayOutputStream p, String s) {
    byte[] b = s.getBytes(StandardCharsets.UTF_8);
    p.write('X');
    p.writeBytes(ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(b.length).array());
    p.writeBytes(b);
  }

  static void binint(ByteArrayOutputStream p, long v) {
    p.write('J');
    p.writeBytes(ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt((int) v).array());
  }

  /** A zip of stored records, as torch.save writes them. */
  static byte[] zip(Map<String, byte[]> records) throws IOException {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (ZipOutputStream z = new ZipOutputStream(bytes)) {
      for (Map.Entry<String, byte[]> r : records.entrySet()) {
        ZipEntry e = new ZipEntry(r.getKey());
        e.setMethod(ZipEntry.STORED);
        e.setSize(r.getValue().length);
        CRC32 crc = new CRC32();
        crc.update(r.getValue());
        e.setCrc(crc.getValue());
        z.putNextEntry(e);
        z.write(r.getValue());
        z.closeEntry();
      }
    }
    return bytes.toByteArray();
  }

  private Path stateDict(String file, byte[] pickle, int storageFloats) throws IOException {
    Map<String, byte[]> records = new LinkedHashMap<>();
    records.put("archive/data.pkl", pickle);
    if (storageFloats >= 0) {
      ByteBuffer b = ByteBuffer.allocate(4 * storageFloats).order(ByteOrder.LITTLE_ENDIAN);
      for (int i = 0; i < storageFloats; i++) {
        b.putFloat(i * 0.25f - 1);
      }
      records.put("archive/data/0", b.array());
    }
    records.put("archive/version", "3\n".getBytes(StandardCharsets.US_ASCII));
    Path p = dir.resolve(file);
    Files.write(p, zip(records));
    return p;
  }

  private static void refused(CortexSdrCommandTest.Run r, Path out, String... words) {
    assertEquals(1, r.code(), r.out() + r.err());
    assertEquals(1, r.err().lines().count(), r.err());
    for (String w : words) {
      assertTrue(r.err().contains(w), r.err());
    }
    assertFalse(Files.exists(out), "no output left");
    try (var files = Files.list(out.getParent())) {
      assertTrue(files.noneMatch(f -> f.getFileName().toString().endsWith(".tmp")), "no temporary file left");
    } catch (IOException e) {
      throw new AssertionError(e);
    }
  }

  @Test
  void aStateDictComesBackAsAStateDict() throws IOException {
    Path pt = stateDict("m.pt", statePickle("fc.weight", "0", 16, new long[] {4, 4}, new long[] {4, 1}), 16);
    Path cai = dir.resolve("m.cai");
    assertEquals(0, cortexsdr("compress", pt.toString(), "-o", cai.toString(), "--preset", "lossless").code());
    Path back = dir.resolve("back.pt");
    CortexSdrCommandTest.Run d = cortexsdr("decompress", cai.toString(), "-o", back.toString());
    assertEquals(0, d.code(), d.err());
    try (java.util.zip.ZipFile a = new java.util.zip.ZipFile(pt.toFile());
        java.util.zip.ZipFile b = new java.util.zip.ZipFile(back.toFile())) {
      for (String n : new String[] {"archive/data.pkl", "archive/data/0", "archive/version"}) {
        assertArrayEquals(a.getInputStream(a.getEntry(n)).readAllBytes(), b.getInputStream(b.getEntry(n)).readAllBytes(), n);
      }
    }
  }

  @Test
  void aSafetensorsFileComesBackByteForByteAndCalibrationSaysItFallsBack() throws IOException {
    Path st = dir.resolve("w.safetensors");
    Files.write(st, safetensors("{\"__metadata__\":{\"format\":\"pt\"},\"fc.weight\":{\"dtype\":\"F32\",\"shape\":[64,64],"
        + "\"data_offsets\":[0,16384]}}   ", 16384));
    Path cai = dir.resolve("w.cai");
    CortexSdrCommandTest.Run c = cortexsdr("compress", st.toString(), "-o", cai.toString(), "--preset", "lossless");
    assertEquals(0, c.code(), c.err());
    Path back = dir.resolve("back.safetensors");
    assertEquals(0, cortexsdr("decompress", cai.toString(), "-o", back.toString()).code());
    assertArrayEquals(Files.readAllBytes(st), Files.readAllBytes(back));

    CortexSdrCommandTest.Run cal = cortexsdr("compress", st.toString(), "-o", dir.resolve("c.cai").toString(),
        "--preset", "int4", "--calibrate", "random");
    assertEquals(0, cal.code(), cal.err());
    assertTrue(cal.err().contains("holds weights only (safetensors, no graph to run), so calibration does not apply: "
        + "falling back to uncalibrated rounding"), cal.err());
  }

  @Test
  void aBadSafetensorsHeaderIsRefused() throws IOException {
    Path st = dir.resolve("bad.safetensors");
    Files.write(st, safetensors("{\"fc.weight\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,4096]}}", 16));
    Path out = dir.resolve("out.cai");
    refused(cortexsdr("compress", st.toString(), "-o", out.toString()), out, st.toString(), "tensor 'fc.weight'",
        "out of range");
  }

  @Test
  void aPickleThatNamesAnyOtherGlobalIsRefusedAndNothingRuns() throws IOException {
    Path marker = dir.resolve("ran");
    for (String[] g : new String[][] {{"os", "system"}, {"posix", "system"}, {"builtins", "eval"},
        {"subprocess", "Popen"}, {"torch", "load"}}) {
      ByteArrayOutputStream p = new ByteArrayOutputStream();
      p.write(0x80);
      p.write(2);
      global(p, g[0], g[1]);
      unicode(p, "touch " + marker);
      p.write(0x85);
      p.write('R');
      p.write('.');
      Path pt = stateDict("evil.pt", p.toByteArray(), -1);
      Path out = dir.resolve("out.cai");
      refused(cortexsdr("compress", pt.toString(), "-o", out.toString()), out, pt.toString(),
          "'" + g[0] + "." + g[1] + "'", "refused", "nothing was run");
      assertFalse(Files.exists(marker));
    }
  }

  @Test
  void truncatedZipsMissingStoragesAndShapeMismatchesAreRefused() throws IOException {
    Path out = dir.resolve("out.cai");
    Path good = stateDict("good.pt", statePickle("fc.weight", "0", 16, new long[] {4, 4}, new long[] {4, 1}), 16);
    byte[] all = Files.readAllBytes(good);
    Path cut = dir.resolve("cut.pt");
    Files.write(cut, Arrays.copyOf(all, all.length - 30));
    refused(cortexsdr("compress", cut.toString(), "-o", out.toString()), out, cut.toString(), "truncated");

    Path missing = stateDict("missing.pt", statePickle("fc.weight", "0", 16, new long[] {4, 4}, new long[] {4, 1}), -1);
    refused(cortexsdr("compress", missing.toString(), "-o", out.toString()), out, "tensor 'fc.weight'",
        "storage record archive/data/0 is missing");

    Path shape = stateDict("shape.pt", statePickle("fc.weight", "0", 16, new long[] {4, 8}, new long[] {8, 1}), 16);
    refused(cortexsdr("compress", shape.toString(), "-o", out.toString()), out, "tensor 'fc.weight'", "shape mismatch");

    Path size = stateDict("size.pt", statePickle("fc.weight", "0", 32, new long[] {4, 4}, new long[] {4, 1}), 16);
    refused(cortexsdr("compress", size.toString(), "-o", out.toString()), out, "tensor 'fc.weight'",
        "holds 64 bytes; the pickle says 32 elements of FLOAT32 = 128 bytes");
  }

  @Test
  void torchScriptAndLegacyFilesSayWhatTheyAre() throws IOException {
    Map<String, byte[]> records = new LinkedHashMap<>();
    records.put("archive/data.pkl", new byte[] {(byte) 0x80, 2, '}', '.'});
    records.put("archive/code/__torch__.py", "class M: pass\n".getBytes(StandardCharsets.US_ASCII));
    records.put("archive/constants.pkl", new byte[] {(byte) 0x80, 2, ')', '.'});
    Path ts = dir.resolve("ts.pt");
    Files.write(ts, zip(records));
    Path out = dir.resolve("out.cai");
    refused(cortexsdr("compress", ts.toString(), "-o", out.toString()), out, "a TorchScript archive",
        "needs the pytorch module");

    Path legacy = dir.resolve("legacy.pt");
    try (OutputStream o = Files.newOutputStream(legacy)) {
      o.write(new byte[] {(byte) 0x80, 2, (byte) 0x8a, 0x0a, 0x6c, (byte) 0xfc, (byte) 0x9c, 0x46, (byte) 0xf9, 0x20,
          0x6a, (byte) 0xa8, 0x50, 0x19, '.'});
    }
    refused(cortexsdr("compress", legacy.toString(), "-o", out.toString()), out, "legacy torch.save format");
  }
}
