package dev.selfbyt.cortexsdr.core.format;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.selfbyt.cortexsdr.core.CompressionOptions;
import dev.selfbyt.cortexsdr.core.CortexSdr;
import dev.selfbyt.cortexsdr.core.Preset;
import dev.selfbyt.cortexsdr.core.TestTensors;
import dev.selfbyt.cortexsdr.core.tensor.InMemoryTensorSource;
import dev.selfbyt.cortexsdr.core.tensor.TensorData;
import dev.selfbyt.cortexsdr.core.tensor.TensorInfo;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Writing, reading, and every way a file can be damaged, truncated or foreign. */
class CaiFileTest {
  @TempDir static Path dir;
  static Path good;
  static InMemoryTensorSource model;

  @BeforeAll
  static void writeAFile() throws IOException {
    model = TestTensors.smallModel(11);
    good = dir.resolve("small.cai");
    CortexSdr.compress(model, good, CompressionOptions.builder().preset(Preset.INT4).build());
  }

  @Test
  void readsBackManifestGraphAndTensors() throws IOException {
    try (CaiReader cai = CaiReader.open(good)) {
      assertEquals("1.0", cai.version());
      assertEquals("cai", cai.manifest().get("format"));
      assertEquals("test", ((Map<?, ?>) cai.manifest().get("source")).get("format"));
      assertArrayEquals(model.graph(), cai.graph());
      assertEquals(model.tensors().size(), cai.entries().size());
      for (CaiEntry e : cai.entries()) {
        assertEquals(0, e.offset() % CaiFormat.ALIGNMENT, e.name());
        TensorInfo info = model.tensors().stream().filter(t -> t.name().equals(e.name())).findFirst().orElseThrow();
        assertEquals(info, e.info());
        TensorData back = cai.read(e.name());
        TensorData orig = model.read(info);
        if (e.nmse() == 0) {
          assertArrayEquals(TestTensors.bytes(orig), TestTensors.bytes(back), e.name());
        } else {
          assertTrue(e.nmse() < 0.01, e.name() + " nmse " + e.nmse());
          assertEquals(orig.byteSize(), back.bytes().remaining());
        }
      }
      cai.verify();
    }
  }

  @Test
  void theFileIdComesFromTheContent() throws IOException {
    Path again = dir.resolve("again.cai");
    CortexSdr.compress(model, again, CompressionOptions.builder().preset(Preset.INT4).build());
    Path other = dir.resolve("other.cai");
    CortexSdr.compress(TestTensors.smallModel(12), other, CompressionOptions.builder().preset(Preset.INT4).build());
    try (CaiReader a = CaiReader.open(good); CaiReader b = CaiReader.open(again); CaiReader c = CaiReader.open(other)) {
      assertArrayEquals(a.fileId(), b.fileId());
      assertFalse(java.util.Arrays.equals(a.fileId(), c.fileId()));
    }
    assertArrayEquals(Files.readAllBytes(good), Files.readAllBytes(again));
  }

  /** One byte flipped in each region gives an error that names the region (and the tensor). */
  @Test
  void aFlippedByteInAnyRegionIsReportedPrecisely() throws IOException {
    CaiSurgery s = new CaiSurgery(good);
    int size = s.bytes.length;
    Map<String, int[]> regions = new LinkedHashMap<>();
    regions.put("header", new int[] {13, 28, 31});
    regions.put("manifest", spread((int) s.manifestOffset(), (int) s.graphOffset()));
    try (CaiReader cai = CaiReader.open(good)) {
      CaiEntry first = cai.entries().get(0);
      int graphEnd = (int) (s.graphOffset() + CaiFormat.SEGMENT_HEADER_SIZE + s.le().getLong((int) s.graphOffset() + 8)
          + CaiFormat.SEGMENT_TRAILER_SIZE);
      regions.put("graph", spread((int) s.graphOffset(), graphEnd));
      regions.put("payload", spread((int) first.offset(), (int) (first.offset() + first.storedLength())));
    }
    regions.put("directory", spread((int) s.directoryOffset(), size - CaiFormat.FOOTER_SIZE));
    regions.put("footer", new int[] {size - 40, size - 17, size - 13, size - 1});

    for (Map.Entry<String, int[]> r : regions.entrySet()) {
      for (int at : r.getValue()) {
        Path bad = dir.resolve("flip-" + r.getKey() + "-" + at + ".cai");
        byte[] b = s.bytes.clone();
        b[at] ^= 0x10;
        Files.write(bad, b);
        CaiException e = assertThrows(CaiException.class, () -> openAndReadAll(bad), r.getKey() + " @" + at);
        assertTrue(e.getMessage().startsWith(bad.toString()), e.getMessage());
        String expected = r.getKey().equals("payload") ? "payload is damaged" : r.getKey();
        assertTrue(e.getMessage().contains(expected), r.getKey() + " @" + at + ": " + e.getMessage());
        if (r.getKey().equals("payload")) {
          assertTrue(e.tensor() != null && e.getMessage().contains("tensor '" + e.tensor() + "'"), e.getMessage());
          assertThrows(CorruptCaiException.class, () -> {
            try (CaiReader cai = CaiReader.open(bad)) {
              cai.verify();
            }
          });
        }
      }
    }
  }

  @Test
  void truncationAnywhereIsReported() throws IOException {
    CaiSurgery s = new CaiSurgery(good);
    int size = s.bytes.length;
    int[] cuts = {0, 5, 20, 40, (int) s.graphOffset() + 3, size / 2, (int) s.directoryOffset() + 10, size - 41,
        size - 20, size - 1};
    for (int cut : cuts) {
      Path bad = dir.resolve("cut-" + cut + ".cai");
      Files.write(bad, java.util.Arrays.copyOf(s.bytes, cut));
      CaiException e = assertThrows(CaiException.class, () -> openAndReadAll(bad), "cut at " + cut);
      assertTrue(e.getMessage().contains("truncated") || e.getMessage().contains("empty"),
          "cut at " + cut + ": " + e.getMessage());
    }
  }

  @Test
  void bitsFlippedInPaddingAreCaughtByVerify() throws IOException {
    CaiSurgery s = new CaiSurgery(good);
    try (CaiReader cai = CaiReader.open(good)) {
      CaiEntry e = cai.entries().get(0);
      long end = e.offset() + e.storedLength();
      if (end % 64 != 0) {
        byte[] b = s.bytes.clone();
        b[(int) end] ^= 1; // zero padding before the next payload
        Path bad = dir.resolve("padding.cai");
        Files.write(bad, b);
        try (CaiReader r = CaiReader.open(bad)) {
          CorruptCaiException x = assertThrows(CorruptCaiException.class, r::verify);
          assertTrue(x.getMessage().contains("whole-file checksum"), x.getMessage());
        }
      }
    }
  }

  @Test
  void foreignFilesAreNamedForWhatTheyAre() throws IOException {
    Map<String, byte[]> files = new LinkedHashMap<>();
    files.put("protobuf", new byte[] {0x08, 0x07, 0x12, 0x04, 'o', 'n', 'n', 'x', 0x1a, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0});
    files.put("zip", "PK\u0003\u0004 and enough bytes to fill a header...".getBytes());
    files.put("JSON", "{\"not\": \"a model, but long enough to be one\"}".getBytes());
    files.put("empty", new byte[0]);
    for (Map.Entry<String, byte[]> f : files.entrySet()) {
      Path p = dir.resolve("foreign." + f.getKey());
      Files.write(p, f.getValue());
      NotCaiFileException e = assertThrows(NotCaiFileException.class, () -> CaiReader.open(p));
      assertTrue(e.getMessage().contains("not a .cai file") && e.getMessage().contains(f.getKey()), e.getMessage());
    }
    // what the file is, in words, rather than its first bytes in hex
    Map<byte[], String> kinds = new LinkedHashMap<>();
    kinds.put("name,size\nfc.weight,4096\nfc.bias,64\n".getBytes(java.nio.charset.StandardCharsets.UTF_8),
        ": not a .cai file: this is a text file");
    kinds.put("Ä short note — über alles\n".repeat(40).getBytes(java.nio.charset.StandardCharsets.UTF_8),
        ": not a .cai file: this is a text file");
    kinds.put(new byte[] {(byte) 0x80, 2, ']', 'q', 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        0, 0, 0, 0, 0, 0, 0, 0}, "this is a Python pickle");
    kinds.put(new byte[] {(byte) 0xde, (byte) 0xad, (byte) 0xbe, (byte) 0xef, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11,
        12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28}, "starts with deadbeef01020304");
    int i = 0;
    for (Map.Entry<byte[], String> k : kinds.entrySet()) {
      Path p = dir.resolve("model" + i++ + ".cai");
      Files.write(p, k.getKey());
      NotCaiFileException e = assertThrows(NotCaiFileException.class, () -> CaiReader.open(p));
      assertTrue(e.getMessage().contains(k.getValue()), e.getMessage());
    }
    CaiException missing = assertThrows(CaiException.class, () -> CaiReader.open(dir.resolve("nope.cai")));
    assertTrue(missing.getMessage().contains("no such file"));
  }

  @Test
  void aNewerMajorVersionIsRefusedAndANewerMinorIsRead() throws IOException {
    Path plain = dir.resolve("plain.cai");
    CortexSdr.compress(model, plain, CompressionOptions.builder().preset(Preset.INT8).zstdLevel(0).build());

    CaiSurgery zero = new CaiSurgery(plain);
    zero.le().putShort(8, (short) 0);
    Path v0 = dir.resolve("v0.cai");
    zero.fixChecksums().writeTo(v0);
    assertThrows(CorruptCaiException.class, () -> CaiReader.open(v0));

    CaiSurgery major = new CaiSurgery(plain);
    major.le().putShort(8, (short) 2);
    Path v2 = dir.resolve("v2.cai");
    major.fixChecksums().writeTo(v2);
    UnsupportedCaiVersionException e = assertThrows(UnsupportedCaiVersionException.class, () -> CaiReader.open(v2));
    assertTrue(e.getMessage().contains("2.0") && e.getMessage().contains("newer"), e.getMessage());

    CaiSurgery minor = new CaiSurgery(plain);
    minor.le().putShort(10, (short) 7);
    Path v17 = dir.resolve("v1.7.cai");
    minor.fixChecksums().writeTo(v17);
    try (CaiReader cai = CaiReader.open(v17)) {
      assertEquals("1.7", cai.version());
      cai.verify();
    }
  }

  @Test
  void anUnknownCodecOrDTypeFailsOnlyThatTensor() throws IOException {
    Path plain = dir.resolve("plain2.cai");
    CortexSdr.compress(model, plain, CompressionOptions.builder().preset(Preset.INT8).zstdLevel(0).build());
    CaiSurgery codec = new CaiSurgery(plain);
    codec.bytes[codec.firstEntryCodecByte()] = 42;
    Path bad = dir.resolve("codec42.cai");
    codec.fixChecksums().writeTo(bad);
    try (CaiReader cai = CaiReader.open(bad)) {
      String first = cai.entries().get(0).name();
      UnknownCodecException e = assertThrows(UnknownCodecException.class, () -> cai.read(first));
      assertTrue(e.getMessage().contains("codec id 42") && e.getMessage().contains(first), e.getMessage());
      cai.read(cai.entries().get(1).name());
    }
    CaiSurgery params = new CaiSurgery(plain);
    int codecAt = params.firstEntryCodecByte();
    assertEquals(2, params.bytes[codecAt], "the first tensor is quantized");
    params.bytes[codecAt + 2] = 9; // quant params version byte, after the params length
    Path newer = dir.resolve("params9.cai");
    params.fixChecksums().writeTo(newer);
    try (CaiReader cai = CaiReader.open(newer)) {
      String first = cai.entries().get(0).name();
      UnknownCodecException e = assertThrows(UnknownCodecException.class, () -> cai.read(first));
      assertTrue(e.getMessage().contains("version 9") && e.getMessage().contains("newer"), e.getMessage());
    }
    CaiSurgery dtype = new CaiSurgery(plain);
    dtype.bytes[dtype.firstEntryDTypeByte()] = 99;
    Path bad2 = dir.resolve("dtype99.cai");
    dtype.fixChecksums().writeTo(bad2);
    try (CaiReader cai = CaiReader.open(bad2)) {
      String first = cai.entries().get(0).name();
      UnknownCodecException e = assertThrows(UnknownCodecException.class, () -> cai.read(first));
      assertTrue(e.getMessage().contains("dtype code 99"), e.getMessage());
    }
  }

  @Test
  void combinedChecksumsMatchAChecksumOfTheWhole() {
    java.util.SplittableRandom r = new java.util.SplittableRandom(3);
    byte[] a = new byte[1000];
    byte[] b = new byte[3333];
    for (int i = 0; i < a.length; i++) {
      a[i] = (byte) r.nextInt();
    }
    for (int i = 0; i < b.length; i++) {
      b[i] = (byte) r.nextInt();
    }
    java.util.zip.CRC32C ca = new java.util.zip.CRC32C();
    ca.update(a);
    java.util.zip.CRC32C cb = new java.util.zip.CRC32C();
    cb.update(b);
    java.util.zip.CRC32C all = new java.util.zip.CRC32C();
    all.update(a);
    all.update(b);
    assertEquals((int) all.getValue(), Crc32cCombine.combine((int) ca.getValue(), (int) cb.getValue(), b.length));
  }

  private static void openAndReadAll(Path p) throws IOException {
    try (CaiReader cai = CaiReader.open(p)) {
      for (CaiEntry e : cai.entries()) {
        cai.read(e.name());
      }
    }
  }

  private static int[] spread(int from, int to) {
    return new int[] {from, (from + to) / 2, to - 1};
  }
}
