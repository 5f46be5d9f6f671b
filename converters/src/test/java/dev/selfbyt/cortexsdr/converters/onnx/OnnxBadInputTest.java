package dev.selfbyt.cortexsdr.converters.onnx;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Bad ONNX inputs get one clear error naming the file, the tensor and the cause. */
class OnnxBadInputTest {
  @TempDir Path dir;

  @Test
  void notAnOnnxFile() throws IOException {
    Path p = dir.resolve("notes.onnx");
    Files.writeString(p, "these are my notes, not a model\n");
    OnnxFormatException e = assertThrows(OnnxFormatException.class, () -> OnnxModelReader.open(p));
    assertTrue(e.getMessage().startsWith(p.toString()) && e.getMessage().contains("ONNX"), e.getMessage());
  }

  @Test
  void aTruncatedOnnxFile() throws IOException {
    byte[] full = Files.readAllBytes(OnnxTestModels.miniLm(dir));
    Path p = dir.resolve("cut.onnx");
    Files.write(p, Arrays.copyOf(full, full.length / 2));
    OnnxFormatException e = assertThrows(OnnxFormatException.class, () -> OnnxModelReader.open(p));
    assertTrue(e.getMessage().contains("complete"), e.getMessage());
  }

  @Test
  void anUnknownElementType() throws IOException {
    ModelProto m = OnnxTestModels.matMul(8, 4, false, dir);
    ModelProto bad = m.toBuilder().setGraph(m.getGraph().toBuilder().addInitializer(
        TensorProto.newBuilder().setName("future").setDataType(99).addDims(4)
            .setRawData(com.google.protobuf.ByteString.copyFrom(new byte[4])))).build();
    Path p = dir.resolve("future.onnx");
    Files.write(p, bad.toByteArray());
    OnnxFormatException e = assertThrows(OnnxFormatException.class, () -> OnnxModelReader.open(p));
    assertEquals("future", e.tensor());
    assertTrue(e.getMessage().contains("type 99"), e.getMessage());
  }

  @Test
  void aMissingExternalDataFile() throws IOException {
    Path p = dir.resolve("ext.onnx");
    Files.write(p, OnnxTestModels.matMul(8, 4, true, dir).toByteArray());
    Files.delete(dir.resolve("w.bin"));
    OnnxFormatException e = assertThrows(OnnxFormatException.class, () -> OnnxModelReader.open(p));
    assertEquals("W", e.tensor());
    assertTrue(e.getMessage().contains("w.bin") && e.getMessage().contains("missing"), e.getMessage());
  }
}
