package dev.selfbyt.cortexsdr.core.format;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Format stability, as Lucene's backward-compatibility tests keep it: the committed golden {@code
 * .cai} files (written by {@link GoldenFiles} with the format and codec versions in their names)
 * must open, verify and decode to exactly the bytes recorded when they were written, in every
 * later build. A failure here means a reader change altered what an existing file decodes to:
 * fix the reader; never regenerate the golden files to make it pass (docs/cai-format.md,
 * "Format stability").
 */
class GoldenFilesTest {
  @TempDir Path dir;

  /** file -> (tensor or "*") -> sha256, from SHA256SUMS. */
  static Map<String, Map<String, String>> sums() throws IOException {
    Map<String, Map<String, String>> out = new LinkedHashMap<>();
    for (String line : new String(resource(GoldenFiles.SUMS), StandardCharsets.UTF_8).split("\n")) {
      if (line.isBlank() || line.startsWith("#")) {
        continue;
      }
      String[] f = line.split(" ");
      out.computeIfAbsent(f[0], k -> new LinkedHashMap<>()).put(f[1], f[2]);
    }
    return out;
  }

  static byte[] resource(String name) throws IOException {
    try (InputStream in = GoldenFilesTest.class.getResourceAsStream("/golden/" + name)) {
      if (in == null) {
        throw new IllegalStateException("golden/" + name + " is not on the test classpath");
      }
      return in.readAllBytes();
    }
  }

  @Test
  void everyGoldenFileDecodesBitExactly() throws IOException {
    Map<String, Map<String, String>> sums = sums();
    assertTrue(sums.size() >= 8, "golden files listed: " + sums.keySet());
    for (Map.Entry<String, Map<String, String>> file : sums.entrySet()) {
      byte[] bytes = resource(file.getKey());
      assertTrue(bytes.length < 16 << 10, file.getKey() + " stays small: " + bytes.length + " bytes");
      assertEquals(file.getValue().get("*"), GoldenFiles.sha256(ByteBuffer.wrap(bytes)),
          file.getKey() + " itself is unchanged (golden files are never rewritten)");
      Path p = dir.resolve(file.getKey());
      Files.write(p, bytes);
      try (CaiReader r = CaiReader.open(p)) {
        r.verify();
        TreeSet<String> seen = new TreeSet<>();
        for (CaiEntry e : r.entries()) {
          String want = file.getValue().get(e.name());
          assertTrue(want != null, file.getKey() + ": tensor " + e.name() + " has no recorded checksum");
          assertEquals(want, GoldenFiles.sha256(r.read(e.name()).bytes()), file.getKey() + ": " + e.name());
          seen.add(e.name());
        }
        TreeSet<String> listed = new TreeSet<>(file.getValue().keySet());
        listed.remove("*");
        assertEquals(listed, seen, file.getKey() + ": the tensors recorded are the tensors present");
      }
    }
  }

  @Test
  void theGoldenFilesCoverEveryCodecDTypeAndOptionFamily() throws IOException {
    Map<String, Map<String, String>> sums = sums();
    List<String> files = List.copyOf(sums.keySet());
    java.util.Set<String> describe = new java.util.TreeSet<>();
    java.util.Set<dev.selfbyt.cortexsdr.core.tensor.DType> dtypes = java.util.EnumSet.noneOf(
        dev.selfbyt.cortexsdr.core.tensor.DType.class);
    boolean zstd = false;
    for (String f : files) {
      Path p = dir.resolve(f);
      Files.write(p, resource(f));
      try (CaiReader r = CaiReader.open(p)) {
        for (CaiEntry e : r.entries()) {
          describe.add(e.describe());
          dtypes.add(e.info().dtype());
          zstd |= e.zstd();
        }
      }
    }
    String all = String.join("\n", describe);
    for (String family : new String[] {"raw", "raw shuffled", "rle", "quant int8 sym per-tensor",
        "quant int8 asym per-channel", "quant int4 sym block32", "quant int4 asym block32", "sdr", "values fp16",
        "values int4", "|x|>", "entropy-coded"}) {
      assertTrue(all.contains(family), "no golden tensor is stored as '" + family + "':\n" + all);
    }
    assertEquals(java.util.EnumSet.allOf(dev.selfbyt.cortexsdr.core.tensor.DType.class), dtypes);
    assertTrue(zstd, "a payload through the zstd stage");
    assertFalse(files.isEmpty());
  }

  /** The first payload byte of a golden tensor: the quant scale type or the sdr position coding. */
  private int firstPayloadByte(String file, String tensor) throws IOException {
    Path p = dir.resolve(file);
    Files.write(p, resource(file));
    try (CaiReader r = CaiReader.open(p)) {
      return r.readStored(tensor).payload().get(0) & 0xff;
    }
  }

  @Test
  void calibratedScalesAreStoredAsGivenNotRoundedToFp16() throws IOException {
    // scale type 2 = fp32: a calibrated grid whose scales are not fp16 values keeps them exactly
    assertEquals(2, firstPayloadByte("quant-calibrated-v1.cai", "cal.fp32"));
    assertEquals(1, firstPayloadByte("quant-calibrated-v1.cai", "cal.fp16-exact"));
    assertEquals(2, firstPayloadByte("quant-lowbit-v1.cai", "q8.fp32-scales"));
    assertEquals(1, firstPayloadByte("quant8-v1.cai", "q.channel.sym"), "plain rounding: fp16 scales");
  }

  @Test
  void superBlockScalesAreScaleType3() throws IOException {
    assertEquals(3, firstPayloadByte("quant-superscales-v2.cai", "q4.block16.asym.super"));
    assertEquals(3, firstPayloadByte("quant-superscales-v2.cai", "q3.conv.block16.asym.super"));
  }

  @Test
  void sdrGoldenTensorsUseEachPositionCoding() throws IOException {
    assertEquals(1, firstPayloadByte("sdr-v1.cai", "sdr.delta.fp32"), "delta-varint");
    assertEquals(2, firstPayloadByte("sdr-v1.cai", "sdr.bitmap.fp16"), "bitmap");
    assertEquals(3, firstPayloadByte("sdr-v1.cai", "sdr.u32.pertensor"), "u32");
  }
}
