package dev.selfbyt.cortexsdr.core.format;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.github.luben.zstd.Zstd;
import dev.selfbyt.cortexsdr.core.TestTensors;
import dev.selfbyt.cortexsdr.core.codec.ByteSink;
import dev.selfbyt.cortexsdr.core.codec.QuantCodec;
import dev.selfbyt.cortexsdr.core.codec.RawCodec;
import dev.selfbyt.cortexsdr.core.codec.RleCodec;
import dev.selfbyt.cortexsdr.core.codec.SdrCodec;
import dev.selfbyt.cortexsdr.core.codec.TensorCodec;
import dev.selfbyt.cortexsdr.core.codec.ZstdStage;
import dev.selfbyt.cortexsdr.core.tensor.DType;
import dev.selfbyt.cortexsdr.core.tensor.TensorData;
import dev.selfbyt.cortexsdr.core.tensor.TensorInfo;
import dev.selfbyt.cortexsdr.core.tensor.TensorRole;
import java.io.IOException;
import java.lang.management.BufferPoolMXBean;
import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.zip.CRC32C;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Files made to hurt the reader: every one is refused with a {@link CaiException} naming the file,
 * region and tensor, quickly and without allocating what the file merely declares (issue 11).
 * Each file is written by {@link CaiWriter} with a hand-made payload or edited afterwards with
 * its checksums recomputed, so the damage reaches the parsers.
 */
class HostileFileTest {
  private static final long MIB = 1 << 20;
  @TempDir Path dir;

  /** Writes one tensor with the given codec and stored payload. */
  private Path write(String file, TensorInfo info, TensorCodec codec, ByteBuffer payload, boolean zstd, long raw)
      throws IOException {
    Path p = dir.resolve(file);
    Map<String, Object> manifest = new LinkedHashMap<>();
    manifest.put("format", "cai");
    manifest.put("note", "x".repeat(200));
    try (CaiWriter w = CaiWriter.create(p, manifest, new byte[0], null)) {
      w.write(new EncodedTensor(info, codec, payload, zstd, raw, 0f, 0f));
      w.finish();
    }
    return p;
  }

  private Path write(String file, TensorInfo info, TensorCodec codec, ByteBuffer payload) throws IOException {
    return write(file, info, codec, payload, false, payload.remaining());
  }

  private static long heapAllocatedByThisThread() {
    return ((com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean()).getCurrentThreadAllocatedBytes();
  }

  private static long directMemoryUsed() {
    return ManagementFactory.getPlatformMXBeans(BufferPoolMXBean.class).stream()
        .filter(b -> b.getName().equals("direct")).mapToLong(BufferPoolMXBean::getMemoryUsed).sum();
  }

  /** Reads the tensor and verifies the file, each expected to fail naming the tensor. */
  private static CaiException refusedOnReadAndVerify(Path p, String tensor) throws IOException {
    try (CaiReader cai = CaiReader.open(p)) {
      CaiException e = assertThrows(CaiException.class, () -> cai.read(tensor));
      assertEquals(tensor, e.tensor(), e.getMessage());
      assertEquals(p.toString(), e.file());
      CaiException v = assertThrows(CaiException.class, cai::verify);
      assertEquals(tensor, v.tensor(), v.getMessage());
      return e;
    }
  }

  // ---- hang ----

  @Test
  void perTensorInt8WithAnInnerDimensionNear2To31DecodesWithoutHanging() throws IOException {
    // [1, 0, 2^31-10] around axis 1: no element, one scale, 2^31-10 empty fibers; the strided
    // dequantize loop stepped c0 by 64 past Integer.MAX_VALUE and never ended
    TensorInfo info = new TensorInfo("w", DType.FLOAT32, new long[] {1, 0, Integer.MAX_VALUE - 9},
        TensorRole.OTHER, 1);
    QuantCodec q = QuantCodec.perTensor(8, true);
    ByteBuffer payload = ByteBuffer.wrap(new byte[] {1, 0, 0x3c}); // fp16 scales, scale 1.0
    Path p = write("hang.cai", info, q, payload);
    assertTimeoutPreemptively(Duration.ofSeconds(10), () -> {
      try (CaiReader cai = CaiReader.open(p)) {
        assertEquals(0, cai.read("w").floats().length);
        cai.verify();
      }
    });
  }

  // ---- huge allocations from small files ----

  @Test
  void aZstdTensorDeclaringNearly2GiBIsRefusedBeforeAllocating() throws IOException {
    byte[] frame = Zstd.compress(new byte[64]);
    TensorInfo info = TensorInfo.of("t", DType.FLOAT32, 16);
    Path p = write("zstd-tensor.cai", info, RawCodec.plain(), ByteBuffer.wrap(frame), true, Integer.MAX_VALUE - 17);
    long before = directMemoryUsed();
    CaiException e = refusedOnReadAndVerify(p, "t");
    assertTrue(directMemoryUsed() - before < 64 * MIB, "direct memory grew by " + (directMemoryUsed() - before));
    assertTrue(e.getMessage().contains("zstd"), e.getMessage());
  }

  @Test
  void aZstdManifestDeclaringNearly2GiBIsRefusedBeforeAllocating() throws IOException {
    Path p = dir.resolve("zstd-manifest.cai");
    Map<String, Object> manifest = new LinkedHashMap<>();
    manifest.put("format", "cai");
    manifest.put("note", "abc".repeat(400));
    try (CaiWriter w = CaiWriter.create(p, manifest, new byte[0], new ZstdStage(3))) {
      w.finish();
    }
    CaiSurgery s = new CaiSurgery(p);
    ByteBuffer b = s.le();
    int m = (int) s.manifestOffset();
    assertEquals(CaiFormat.FLAG_ZSTD, b.get(m + 4), "the manifest went through zstd");
    long before = directMemoryUsed();
    // over the default maxManifestBytes: refused by the cap; under it: by the frame's own header
    for (long declared : new long[] {Integer.MAX_VALUE - 17, 8 << 20}) {
      b.putLong(m + 16, declared);
      s.fixSegmentChecksum(m).fixChecksums().writeTo(p);
      CaiException e = assertThrows(CaiException.class, () -> CaiReader.open(p).close());
      assertTrue(e.getMessage().contains("manifest"), e.getMessage());
      assertTrue(e instanceof CaiLimitException || e.getMessage().contains("zstd stage"), e.getMessage());
    }
    assertTrue(directMemoryUsed() - before < 64 * MIB, "direct memory grew by " + (directMemoryUsed() - before));
  }

  @Test
  void anRleTensorWhoseShapeOutgrowsItsPayloadIsRefusedBeforeAllocating() throws IOException {
    // 6 bytes holding a run of 16 floats, under a shape of 2^28 floats (1 GiB)
    ByteBuffer payload = ByteBuffer.wrap(new ByteSink(8).putVarLong((16L << 1) | 1).putFloat(1f).toArray());
    Path p = write("rle.cai", TensorInfo.of("r", DType.FLOAT32, 1 << 28), RleCodec.INSTANCE, payload);
    long before = heapAllocatedByThisThread();
    CaiException e = refusedOnReadAndVerify(p, "r");
    assertTrue(heapAllocatedByThisThread() - before < 64 * MIB,
        "allocated " + (heapAllocatedByThisThread() - before) + " bytes");
    assertTrue(e.getMessage().contains("rle"), e.getMessage());
  }

  @Test
  void anSdrTensorWhoseShapeWasGrownIsRefusedBeforeAllocating() throws IOException {
    // a real 95%-sparse [64, 64] MatMul weight, its shape then declared as [64, 2^22]
    TensorInfo small = new TensorInfo("s", DType.FLOAT32, new long[] {64, 64}, TensorRole.MATMUL_WEIGHT, 0);
    SdrCodec sdr = SdrCodec.builder().sparsity(0.95).build();
    ByteBuffer payload = sdr.encode(TestTensors.random(small, 3));
    TensorInfo grown = new TensorInfo("s", DType.FLOAT32, new long[] {64, 1 << 22}, TensorRole.MATMUL_WEIGHT, 0);
    Path p = write("sdr-grown.cai", grown, sdr, payload);
    long before = heapAllocatedByThisThread();
    CaiException e = refusedOnReadAndVerify(p, "s");
    assertTrue(heapAllocatedByThisThread() - before < 64 * MIB,
        "allocated " + (heapAllocatedByThisThread() - before) + " bytes");
    assertTrue(e.getMessage().contains("sdr"), e.getMessage());
  }

  @Test
  void configuredCapsRefuseLargeTensorsAndSegmentsNamingTheCap() throws IOException {
    TensorInfo info = TensorInfo.of("big", DType.FLOAT32, 1 << 20); // 4 MiB
    Path p = write("big.cai", info, RawCodec.plain(), ByteBuffer.allocate(4 << 20));
    CaiReader.Options tight = CaiReader.Options.builder().maxTensorBytes(1 << 20).build();
    try (CaiReader cai = CaiReader.open(p, tight)) {
      CaiLimitException e = assertThrows(CaiLimitException.class, () -> cai.read("big"));
      assertEquals("big", e.tensor());
      assertTrue(e.getMessage().contains("maxTensorBytes"), e.getMessage());
    }
    try (CaiReader cai = CaiReader.open(p)) {
      assertEquals(1 << 20, cai.read("big").floats().length, "the default caps let it through");
    }
    CaiReader.Options tinyManifest = CaiReader.Options.builder().maxManifestBytes(100).build();
    CaiLimitException m = assertThrows(CaiLimitException.class, () -> CaiReader.open(p, tinyManifest));
    assertTrue(m.getMessage().contains("maxManifestBytes"), m.getMessage());
  }

  // ---- silently wrong ----

  /** An SDR payload (fp32 values) with the given delta-coded position deltas. */
  private static ByteBuffer sdrDeltaPayload(long... deltas) {
    ByteSink pos = new ByteSink(32);
    for (long d : deltas) {
      pos.putVarLong(d);
    }
    ByteSink out = new ByteSink(64).putU8(1).putVarLong(deltas.length).putVarLong(pos.size()).put(pos.toArray());
    for (int i = 0; i < deltas.length; i++) {
      out.putFloat(i + 1);
    }
    return out.toBuffer();
  }

  @Test
  void sdrPositionsThatGoBackwardsOrRepeatAreRefused() throws IOException {
    TensorInfo info = TensorInfo.of("p", DType.FLOAT32, 16);
    SdrCodec sdr = SdrCodec.builder().threshold(0f).build();
    // 5, then a 64-bit delta that wraps around to 3; and 5 repeated
    for (long wrap : new long[] {-3L, -1L}) {
      ByteBuffer payload = sdrDeltaPayload(5, wrap);
      assertThrows(RuntimeException.class, () -> sdr.unpack(info, payload), "what DJL and ORT loaders call");
      Path p = write("sdr-order" + wrap + ".cai", info, sdr, payload);
      CaiException e = refusedOnReadAndVerify(p, "p");
      assertTrue(e.getMessage().contains("ascending"), e.getMessage());
    }
  }

  // ---- format promises ----

  @Test
  void aPayloadOverlappingTheManifestIsRefusedAtOpen() throws IOException {
    Path p = write("overlap.cai", TensorInfo.of("o", DType.UINT8, 64), RawCodec.plain(), ByteBuffer.allocate(64));
    CaiSurgery s = new CaiSurgery(p);
    int field = s.firstEntryOffsetField();
    ByteBuffer b = s.le();
    b.putLong(field, 64); // inside the manifest segment, 64-aligned
    CRC32C c = new CRC32C();
    c.update(s.bytes, 64, 64);
    b.putInt(field + 24, (int) c.getValue()); // a consistent checksum: only the area rule catches it
    s.fixChecksums().writeTo(p);
    CorruptCaiException e = assertThrows(CorruptCaiException.class, () -> CaiReader.open(p).close());
    assertEquals("o", e.tensor());
    assertTrue(e.getMessage().contains("payload area"), e.getMessage());
  }

  @Test
  void aShapeWhoseByteSizeOverflowsIsNamedAtOpen() throws IOException {
    TensorInfo info = TensorInfo.of("huge", DType.FLOAT32, 1L << 40, 1L << 40, 0);
    Path p = write("overflow.cai", info, RawCodec.plain(), ByteBuffer.allocate(0));
    CaiSurgery s = new CaiSurgery(p);
    // make the zero dimension 2^40 too: 2^120 elements
    int dims = s.firstEntryCodecByte() - 1;
    assertEquals(0, s.bytes[dims]);
    s.bytes[dims] = 1; // a dimension of 1 keeps the entry length; then 2^80 x 4 bytes overflows
    s.fixChecksums().writeTo(p);
    CorruptCaiException e = assertThrows(CorruptCaiException.class, () -> CaiReader.open(p).close());
    assertEquals("huge", e.tensor());
    assertTrue(e.getMessage().contains("overflow") && e.getMessage().contains("[1099511627776, 1099511627776, 1]"),
        e.getMessage());
  }

  @Test
  void theFileTheZstdStageWroteReadsBack() throws IOException {
    // the checks above must not refuse what the writer makes: a real zstd payload
    TensorInfo info = TensorInfo.of("z", DType.FLOAT32, 4096);
    TensorData data = TensorData.ofFloats(info, new float[4096]);
    ByteBuffer raw = RawCodec.plain().encode(data);
    ByteBuffer z = new ZstdStage(3).compress(raw.duplicate());
    Path p = write("zstd-ok.cai", info, RawCodec.plain(), z, true, raw.remaining());
    try (CaiReader cai = CaiReader.open(p)) {
      cai.verify();
      assertEquals(4096, cai.read("z").floats().length);
    }
    assertEquals(ByteOrder.LITTLE_ENDIAN, raw.order());
  }
}
