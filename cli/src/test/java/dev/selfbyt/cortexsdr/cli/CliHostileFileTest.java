package dev.selfbyt.cortexsdr.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import dev.selfbyt.cortexsdr.converters.onnx.CaiRewrite;
import dev.selfbyt.cortexsdr.converters.onnx.OnnxTestModelsAccess;
import dev.selfbyt.cortexsdr.core.codec.RawCodec;
import dev.selfbyt.cortexsdr.core.format.CaiWriter;
import dev.selfbyt.cortexsdr.core.format.EncodedTensor;
import dev.selfbyt.cortexsdr.core.format.Json;
import dev.selfbyt.cortexsdr.core.tensor.DType;
import dev.selfbyt.cortexsdr.core.tensor.TensorInfo;
import dev.selfbyt.cortexsdr.core.tensor.TensorRole;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The command on hostile files (issue 11): exit 1, one line on stderr naming the file, the tensor
 * and the cause, and with {@code --json} one JSON error object on stdout.
 */
class CliHostileFileTest {
  @TempDir Path dir;

  private Path compressedMatMul() throws IOException {
    Path onnx = dir.resolve("mm.onnx");
    Files.write(onnx, OnnxTestModelsAccess.matMul(64, 32, false, dir).toByteArray());
    Path cai = dir.resolve("mm.cai");
    assertEquals(0, CortexSdrCommandTest.cortexsdr("compress", onnx.toString(), "-o", cai.toString()).code());
    return cai;
  }

  private static void oneLine(CortexSdrCommandTest.Run r, String... words) {
    assertEquals(1, r.code(), r.out() + r.err());
    assertEquals(1, r.err().lines().count(), r.err());
    for (String w : words) {
      assertTrue(r.err().contains(w), r.err());
    }
  }

  @Test
  void verifyRefusesAnArchiveWhoseGraphUsesAWeightItDoesNotHold() throws IOException {
    Path bad = dir.resolve("no-bias.cai");
    CaiRewrite.without(compressedMatMul(), bad, "B");
    oneLine(CortexSdrCommandTest.cortexsdr("verify", bad.toString()), bad.toString(), "'B'", "does not hold it");
  }

  @Test
  void verifyRefusesAMatMulWeightStoredWithAConvRole() throws IOException {
    Path bad = dir.resolve("conv-role.cai");
    CaiRewrite.withInfo(compressedMatMul(), bad, "W",
        i -> new TensorInfo(i.name(), i.dtype(), i.shape(), TensorRole.CONV_WEIGHT, i.reductionAxis()));
    oneLine(CortexSdrCommandTest.cortexsdr("verify", bad.toString()), "'W'", "CONV_WEIGHT");
  }

  @Test
  void withJsonAnErrorIsOneJsonObjectOnStdout() throws IOException {
    Path bad = dir.resolve("no-bias.cai");
    CaiRewrite.without(compressedMatMul(), bad, "B");
    CortexSdrCommandTest.Run r = CortexSdrCommandTest.cortexsdr("verify", "--json", bad.toString());
    assertEquals(1, r.code());
    assertEquals(1, r.out().lines().count(), r.out());
    Map<?, ?> m = (Map<?, ?>) Json.parse(r.out());
    assertEquals(false, m.get("ok"));
    assertEquals(bad.toString(), m.get("file"));
    assertEquals("B", m.get("tensor"));
    assertTrue(((String) m.get("error")).contains("does not hold it"), r.out());
    assertEquals("CorruptCaiException", m.get("kind"));
  }

  @Test
  void inspectNamesATensorWhoseShapeOverflows() throws IOException {
    Path cai = dir.resolve("vast.cai");
    try (CaiWriter w = CaiWriter.create(cai, Map.of("format", "cai"), new byte[0], null)) {
      TensorInfo vast = TensorInfo.of("vast", DType.FLOAT32, 1L << 40, 1L << 40);
      w.write(new EncodedTensor(vast, RawCodec.plain(), ByteBuffer.allocate(0), false, 0, 0f, 0f));
      w.finish();
    }
    CortexSdrCommandTest.Run r = CortexSdrCommandTest.cortexsdr("inspect", cai.toString());
    oneLine(r, "'vast'", "overflows", "[1099511627776, 1099511627776]");
  }

  @Test
  void compressNamesATensorWhoseShapeOverflows() throws IOException {
    ModelProto m = OnnxTestModelsAccess.matMul(8, 4, false, dir);
    ModelProto bad = m.toBuilder().setGraph(m.getGraph().toBuilder().addInitializer(TensorProto.newBuilder()
        .setName("vast").setDataType(TensorProto.DataType.FLOAT_VALUE).addDims(1L << 40).addDims(1L << 40)))
        .build();
    Path onnx = dir.resolve("vast.onnx");
    Files.write(onnx, bad.toByteArray());
    Path out = dir.resolve("vast.cai");
    oneLine(CortexSdrCommandTest.cortexsdr("compress", onnx.toString(), "-o", out.toString()), "'vast'", "overflows");
    assertTrue(Files.notExists(out));
  }

  @Test
  void exportAndDecompressRefuseAnArchiveMissingAGraphWeight() throws IOException {
    Path bad = dir.resolve("no-w.cai");
    CaiRewrite.without(compressedMatMul(), bad, "W");
    for (String[] args : new String[][] {
        {"decompress", bad.toString(), "-o", dir.resolve("d.onnx").toString()},
        {"export-onnx", bad.toString(), "-o", dir.resolve("q.onnx").toString()},
        {"export-onnx", bad.toString(), "-o", dir.resolve("e.onnx").toString(), "--mode", "decoded"}}) {
      oneLine(CortexSdrCommandTest.cortexsdr(args), "'W'", "does not hold it");
      assertTrue(Files.notExists(Path.of(args[3])), "no output left: " + args[3]);
    }
  }
}
