package dev.selfbyt.cortexsdr.converters.onnx;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnx.proto.OnnxMl.AttributeProto;
import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import dev.selfbyt.cortexsdr.core.CompressionOptions;
import dev.selfbyt.cortexsdr.core.CortexSdr;
import dev.selfbyt.cortexsdr.core.Preset;
import dev.selfbyt.cortexsdr.core.format.CaiReader;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code accuracy_level} chosen per weight shape by timing both levels in ONNX Runtime. */
class NBitsAccuracyTest {
  @TempDir Path dir;

  @Test
  void theExportWritesTheLevelMeasuredForEachShapeAndKeepsTheDecision() throws Exception {
    Path onnx = dir.resolve("m.onnx");
    Files.write(onnx, OnnxTestModels.matMul(256, 64, false, dir).toByteArray());
    Path cai = dir.resolve("m.cai");
    try (OnnxModelReader r = OnnxModelReader.open(onnx)) {
      CortexSdr.compress(r, cai, CompressionOptions.builder().preset(Preset.INT4).threads(1).build());
    }
    Path out = dir.resolve("m-auto.onnx");
    try (CaiReader r = CaiReader.open(cai)) {
      QuantizedOnnxExporter.export(r, out, NBitsAccuracy.MEASURED);
    }
    int chosen = NBitsAccuracy.choose(256, 64, 4, 32);
    assertTrue(chosen == 0 || chosen == 4, "level " + chosen);
    assertEquals(chosen, NBitsAccuracy.choose(256, 64, 4, 32), "measured once, then cached");
    assertEquals(chosen, NBitsAccuracy.decisions().get("256x64/4b32"));
    NodeProto nbits = ModelProto.parseFrom(Files.readAllBytes(out)).getGraph().getNodeList().stream()
        .filter(n -> n.getOpType().equals("MatMulNBits")).findFirst().orElseThrow();
    long written = nbits.getAttributeList().stream().filter(a -> a.getName().equals("accuracy_level"))
        .mapToLong(AttributeProto::getI).findFirst().orElse(0);
    assertEquals(chosen, written);
  }
}
