package dev.selfbyt.cortexsdr.converters.onnx;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import dev.selfbyt.cortexsdr.core.CompressionOptions;
import dev.selfbyt.cortexsdr.core.CortexSdr;
import dev.selfbyt.cortexsdr.core.Preset;
import dev.selfbyt.cortexsdr.core.format.CaiException;
import dev.selfbyt.cortexsdr.core.format.CaiReader;
import dev.selfbyt.cortexsdr.core.format.CorruptCaiException;
import dev.selfbyt.cortexsdr.core.tensor.TensorInfo;
import dev.selfbyt.cortexsdr.core.tensor.TensorRole;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * ONNX models and {@code .cai} archives made to mislead (issue 11): external data that leaves
 * the model's folder through a symbolic link, a tensor that declares far more than it holds, a
 * shape whose size overflows, and archives whose directory disagrees with their own graph.
 */
class OnnxHostileInputTest {
  @TempDir Path dir;

  private static long heapAllocatedByThisThread() {
    return ((com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean()).getCurrentThreadAllocatedBytes();
  }

  /** The external-data model in {@code model/}, its {@code w.bin} replaced by a link to {@code target}. */
  private Path linkedModel(Path linkTarget, String link) throws IOException {
    Path folder = Files.createDirectories(dir.resolve("model"));
    Path p = folder.resolve("ext.onnx");
    Files.write(p, OnnxTestModels.matMul(8, 4, true, folder).toByteArray());
    Path w = folder.resolve("w.bin");
    Files.move(w, linkTarget, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    Files.createSymbolicLink(folder.resolve(link), linkTarget);
    return p;
  }

  @Test
  void externalDataThroughASymlinkOutOfTheModelFolderIsRefused() throws IOException {
    Path outside = Files.createDirectories(dir.resolve("elsewhere")).resolve("secret.bin");
    Path p = linkedModel(outside, "w.bin");
    OnnxFormatException e = assertThrows(OnnxFormatException.class, () -> {
      try (OnnxModelReader onnx = OnnxModelReader.open(p)) {
        for (TensorInfo t : onnx.tensors()) {
          onnx.read(t);
        }
      }
    });
    assertEquals("W", e.tensor());
    assertTrue(e.getMessage().contains("symbolic link") && e.getMessage().contains("outside"), e.getMessage());
    assertTrue(Files.notExists(dir.resolve("out.cai")));
  }

  @Test
  void externalDataThroughASymlinkInsideTheModelFolderIsRead() throws IOException {
    Path folder = Files.createDirectories(dir.resolve("model"));
    Path p = linkedModel(folder.resolve("weights-v2.bin"), "w.bin");
    try (OnnxModelReader onnx = OnnxModelReader.open(p)) {
      TensorInfo w = onnx.tensors().stream().filter(t -> t.name().equals("W")).findFirst().orElseThrow();
      assertArrayEquals(OnnxTestModels.weights(32, 1), onnx.read(w).floats(), 0f);
    }
  }

  @Test
  void anInitializerWithNoDataAndAHugeShapeIsRefusedBeforeAllocating() throws IOException {
    ModelProto m = OnnxTestModels.matMul(8, 4, false, dir);
    ModelProto bad = m.toBuilder().setGraph(m.getGraph().toBuilder().addInitializer(TensorProto.newBuilder()
        .setName("empty").setDataType(TensorProto.DataType.FLOAT_VALUE).addDims(536_870_000L))).build();
    Path p = dir.resolve("nodata.onnx");
    Files.write(p, bad.toByteArray());
    try (OnnxModelReader onnx = OnnxModelReader.open(p)) {
      TensorInfo empty = onnx.tensors().stream().filter(t -> t.name().equals("empty")).findFirst().orElseThrow();
      long before = heapAllocatedByThisThread();
      OnnxFormatException e = assertThrows(OnnxFormatException.class, () -> onnx.read(empty));
      assertTrue(heapAllocatedByThisThread() - before < 64 << 20,
          "allocated " + (heapAllocatedByThisThread() - before) + " bytes");
      assertEquals("empty", e.tensor());
      assertTrue(e.getMessage().contains("holds 0 values"), e.getMessage());
    }
  }

  @Test
  void anExternalDataOffsetThatOverflowsIsRefusedBeforeAllocating() throws IOException {
    // a 2^28-float weight (1 GiB) said to lie at offset 2^63 - 2^30 + 1 of a 128-byte file:
    // offset + length wraps negative and passed the "ends before" check
    long length = 4L << 28;
    ModelProto m = OnnxTestModels.matMul(8, 4, true, dir);
    ai.onnx.proto.OnnxMl.GraphProto.Builder g = m.getGraph().toBuilder();
    g.setInitializer(0, g.getInitializer(0).toBuilder().clearDims().addDims(1L << 28).clearExternalData()
        .addExternalData(ai.onnx.proto.OnnxMl.StringStringEntryProto.newBuilder().setKey("location").setValue("w.bin"))
        .addExternalData(ai.onnx.proto.OnnxMl.StringStringEntryProto.newBuilder().setKey("offset")
            .setValue(Long.toString(Long.MAX_VALUE - length + 2)))
        .addExternalData(ai.onnx.proto.OnnxMl.StringStringEntryProto.newBuilder().setKey("length")
            .setValue(Long.toString(length))));
    Path p = dir.resolve("far.onnx");
    Files.write(p, m.toBuilder().setGraph(g).build().toByteArray());
    try (OnnxModelReader onnx = OnnxModelReader.open(p)) {
      TensorInfo w = onnx.tensors().stream().filter(t -> t.name().equals("W")).findFirst().orElseThrow();
      long before = heapAllocatedByThisThread();
      OnnxFormatException e = assertThrows(OnnxFormatException.class, () -> onnx.read(w));
      assertTrue(heapAllocatedByThisThread() - before < 64 << 20,
          "allocated " + (heapAllocatedByThisThread() - before) + " bytes");
      assertEquals("W", e.tensor());
    }
  }

  @Test
  void aShapeWhoseByteSizeOverflowsNamesTheTensor() throws IOException {
    ModelProto m = OnnxTestModels.matMul(8, 4, false, dir);
    ModelProto bad = m.toBuilder().setGraph(m.getGraph().toBuilder().addInitializer(TensorProto.newBuilder()
        .setName("vast").setDataType(TensorProto.DataType.FLOAT_VALUE).addDims(1L << 40).addDims(1L << 40)))
        .build();
    Path p = dir.resolve("vast.onnx");
    Files.write(p, bad.toByteArray());
    OnnxFormatException e = assertThrows(OnnxFormatException.class, () -> {
      try (OnnxModelReader onnx = OnnxModelReader.open(p)) {
        CortexSdr.compress(onnx, dir.resolve("vast.cai"), CompressionOptions.defaults());
      }
    });
    assertEquals("vast", e.tensor());
    assertTrue(e.getMessage().contains("overflows"), e.getMessage());
  }

  /** Found by OnnxImportFuzzIT: an int4 weight of 2^63 - 1 values packed into (n + 1) / 2 bytes overflowed. */
  @Test
  void aPackedFourBitShapeOfLongMaxValueIsNamedNotOverflowed() throws IOException {
    ModelProto m = OnnxTestModels.matMul(8, 4, false, dir);
    ModelProto bad = m.toBuilder().setGraph(m.getGraph().toBuilder().addInitializer(TensorProto.newBuilder()
        .setName("packed").setDataType(TensorProto.DataType.INT4_VALUE).addDims(Long.MAX_VALUE)
        .setRawData(com.google.protobuf.ByteString.copyFrom(new byte[4])))).build();
    Path p = dir.resolve("packed.onnx");
    Files.write(p, bad.toByteArray());
    try (OnnxModelReader onnx = OnnxModelReader.open(p)) {
      TensorInfo packed = onnx.tensors().stream().filter(t -> t.name().equals("packed")).findFirst().orElseThrow();
      assertEquals(List.of(1L << 62), java.util.Arrays.stream(packed.shape()).boxed().toList());
      OnnxFormatException e = assertThrows(OnnxFormatException.class, () -> onnx.read(packed));
      assertEquals("packed", e.tensor());
    }
  }

  // ---- a .cai's directory against its own graph ----

  private Path compressedMatMul() throws IOException {
    Path onnxFile = dir.resolve("mm.onnx");
    Files.write(onnxFile, OnnxTestModels.matMul(64, 32, false, dir).toByteArray());
    Path cai = dir.resolve("mm.cai");
    try (OnnxModelReader onnx = OnnxModelReader.open(onnxFile)) {
      CortexSdr.compress(onnx, cai, CompressionOptions.builder().preset(Preset.SDR).build());
    }
    return cai;
  }

  @Test
  void filesWrittenByTheCompressorAgreeWithTheirGraphs() throws IOException {
    try (CaiReader cai = CaiReader.open(compressedMatMul())) {
      StoredGraphCheck.check(cai);
      assertEquals(TensorRole.MATMUL_WEIGHT, cai.entry("W").info().role());
    }
    Path conv = dir.resolve("conv.onnx");
    Files.write(conv, OnnxTestModels.convNet().toByteArray());
    for (Path onnxFile : new Path[] {conv, OnnxTestModels.miniLm(dir)}) {
      Path cai = dir.resolve(onnxFile.getFileName() + ".cai");
      try (OnnxModelReader onnx = OnnxModelReader.open(onnxFile)) {
        CortexSdr.compress(onnx, cai, CompressionOptions.builder().preset(Preset.INT4).build());
      }
      try (CaiReader r = CaiReader.open(cai)) {
        StoredGraphCheck.check(r);
        assertTrue(r.entries().stream().anyMatch(e -> e.info().role() != TensorRole.OTHER), onnxFile.toString());
      }
    }
  }

  @Test
  void aMatMulWeightStoredWithAConvRoleIsRefused() throws IOException {
    Path bad = dir.resolve("conv-role.cai");
    CaiRewrite.withInfo(compressedMatMul(), bad, "W",
        i -> new TensorInfo(i.name(), i.dtype(), i.shape(), TensorRole.CONV_WEIGHT, i.reductionAxis()));
    try (CaiReader cai = CaiReader.open(bad)) {
      CorruptCaiException e = assertThrows(CorruptCaiException.class, () -> StoredGraphCheck.check(cai));
      assertEquals("W", e.tensor());
      assertTrue(e.getMessage().contains("CONV_WEIGHT") && e.getMessage().contains("MATMUL_WEIGHT"), e.getMessage());
    }
  }

  @Test
  void aGraphWeightMissingFromTheArchiveIsRefused() throws IOException {
    Path bad = dir.resolve("no-bias.cai");
    CaiRewrite.without(compressedMatMul(), bad, "B");
    try (CaiReader cai = CaiReader.open(bad)) {
      CaiException e = assertThrows(CorruptCaiException.class, () -> StoredGraphCheck.check(cai));
      assertEquals("B", e.tensor());
      assertTrue(e.getMessage().contains("does not hold it"), e.getMessage());
    }
  }
}
