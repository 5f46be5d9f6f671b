package dev.selfbyt.cortexsdr.cli;

import static dev.selfbyt.cortexsdr.cli.CortexSdrCommandTest.cortexsdr;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.selfbyt.cortexsdr.converters.onnx.CaiRewrite;
import dev.selfbyt.cortexsdr.converters.statedict.TorchFiles;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
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

  private Path stateDict(String file, byte[] pickle, int storageFloats) throws IOException {
    Path p = dir.resolve(file);
    Files.write(p, TorchFiles.stateDict(pickle, storageFloats));
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
    Path pt = stateDict("m.pt", TorchFiles.statePickle("fc.weight", "0", 16, new long[] {4, 4}, new long[] {4, 1}), 16);
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
  void verifyAndDecompressRefuseAnArchiveThatLostATensorOfItsWeightFile() throws IOException {
    Path pt = stateDict("m.pt", TorchFiles.statePickle("fc.weight", "0", 16, new long[] {4, 4}, new long[] {4, 1}), 16);
    Path st = dir.resolve("w.safetensors");
    Files.write(st, safetensors("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
        + "\"fc.weight\":{\"dtype\":\"F32\",\"shape\":[4,4],\"data_offsets\":[8,72]}}", 72));
    for (Path in : List.of(pt, st)) {
      Path cai = dir.resolve("full.cai");
      assertEquals(0, cortexsdr("compress", in.toString(), "-o", cai.toString()).code());
      assertEquals(0, cortexsdr("verify", cai.toString()).code());
      Path bad = dir.resolve("lost.cai");
      CaiRewrite.without(cai, bad, "fc.weight");
      CortexSdrCommandTest.Run v = cortexsdr("verify", bad.toString());
      assertEquals(1, v.code());
      assertTrue(v.err().contains(bad + ": tensor 'fc.weight': "), v.err());
      Path out = dir.resolve("out" + in.getFileName());
      refused(cortexsdr("decompress", bad.toString(), "-o", out.toString()), out, "tensor 'fc.weight'");
      Files.delete(bad);
    }
  }

  @Test
  void aBadSafetensorsHeaderIsRefused() throws IOException {
    Path st = dir.resolve("bad.safetensors");
    Files.write(st, safetensors("{\"fc.weight\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,4096]}}", 16));
    Path out = dir.resolve("out.cai");
    refused(cortexsdr("compress", st.toString(), "-o", out.toString()), out, st.toString(), "tensor 'fc.weight'",
        "out of range");

    Path cut = dir.resolve("cut.safetensors"); // cut inside its header: still named a safetensors file
    byte[] whole = safetensors("{\"fc.weight\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]}}", 16);
    Files.write(cut, Arrays.copyOf(whole, 30));
    refused(cortexsdr("compress", cut.toString(), "-o", out.toString()), out, cut.toString(), "does not fit the file",
        "truncated");
  }

  @Test
  void aPickleThatNamesAnyOtherGlobalIsRefusedAndNothingRuns() throws IOException {
    Path marker = dir.resolve("ran");
    for (String[] g : new String[][] {{"os", "system"}, {"posix", "system"}, {"builtins", "eval"},
        {"subprocess", "Popen"}, {"torch", "load"}}) {
      Path pt = stateDict("evil.pt", TorchFiles.callPickle(g[0], g[1], "touch " + marker), -1);
      Path out = dir.resolve("out.cai");
      refused(cortexsdr("compress", pt.toString(), "-o", out.toString()), out, pt.toString(),
          "'" + g[0] + "." + g[1] + "'", "refused", "nothing was run");
      assertFalse(Files.exists(marker));
    }
  }

  @Test
  void truncatedZipsMissingStoragesAndShapeMismatchesAreRefused() throws IOException {
    Path out = dir.resolve("out.cai");
    Path good = stateDict("good.pt", TorchFiles.statePickle("fc.weight", "0", 16, new long[] {4, 4}, new long[] {4, 1}), 16);
    byte[] all = Files.readAllBytes(good);
    Path cut = dir.resolve("cut.pt");
    Files.write(cut, Arrays.copyOf(all, all.length - 30));
    refused(cortexsdr("compress", cut.toString(), "-o", out.toString()), out, cut.toString(), "truncated");

    Path missing = stateDict("missing.pt", TorchFiles.statePickle("fc.weight", "0", 16, new long[] {4, 4}, new long[] {4, 1}), -1);
    refused(cortexsdr("compress", missing.toString(), "-o", out.toString()), out, "tensor 'fc.weight'",
        "storage record archive/data/0 is missing");

    Path shape = stateDict("shape.pt", TorchFiles.statePickle("fc.weight", "0", 16, new long[] {4, 8}, new long[] {8, 1}), 16);
    refused(cortexsdr("compress", shape.toString(), "-o", out.toString()), out, "tensor 'fc.weight'", "shape mismatch");

    Path size = stateDict("size.pt", TorchFiles.statePickle("fc.weight", "0", 32, new long[] {4, 4}, new long[] {4, 1}), 16);
    refused(cortexsdr("compress", size.toString(), "-o", out.toString()), out, "tensor 'fc.weight'",
        "holds 64 bytes; the pickle says 32 elements of FLOAT32 = 128 bytes");
  }

  @Test
  void hollowTorchScriptAndLegacyFilesSayWhatTheyAre() throws IOException {
    Map<String, byte[]> records = new LinkedHashMap<>();
    records.put("archive/data.pkl", new byte[] {(byte) 0x80, 2, '}', '.'});
    records.put("archive/code/__torch__.py", "class M: pass\n".getBytes(StandardCharsets.US_ASCII));
    records.put("archive/constants.pkl", new byte[] {(byte) 0x80, 2, ')', '.'});
    Path ts = dir.resolve("ts.pt");
    Files.write(ts, TorchFiles.zip(records));
    Path out = dir.resolve("out.cai");
    // read as TorchScript (the pytorch module), whose reader names what this hollow archive lacks
    refused(cortexsdr("compress", ts.toString(), "-o", out.toString()), out, "ts.pt",
        "data.pkl holds no TorchScript module object");

    Path legacy = dir.resolve("legacy.pt");
    try (OutputStream o = Files.newOutputStream(legacy)) {
      o.write(new byte[] {(byte) 0x80, 2, (byte) 0x8a, 0x0a, 0x6c, (byte) 0xfc, (byte) 0x9c, 0x46, (byte) 0xf9, 0x20,
          0x6a, (byte) 0xa8, 0x50, 0x19, '.'});
    }
    refused(cortexsdr("compress", legacy.toString(), "-o", out.toString()), out, "legacy torch.save format");
  }
}
