package dev.selfbyt.cortexsdr.converters.onnx;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A rotated model computes what the original does (the rotation in the graph, its inverse in the
 * weights), on a real encoder in ONNX Runtime; the transform is its own inverse; what cannot be
 * rotated is refused with the file named.
 */
class HadamardRotationTest {
  @TempDir Path dir;

  @Test
  void rotatedMiniLmComputesWhatTheOriginalDoes() throws Exception {
    Path original = OnnxTestModels.miniLm(dir);
    Path rotated = dir.resolve("rotated.onnx");
    // all 36 linear layers: per layer the query/key/value input, the context, the FFN input and the GELU
    assertEquals(36, HadamardRotation.write(original, rotated, HadamardRotation.DEFAULT_BLOCK));
    ModelProto m = ModelProto.parseFrom(Files.readAllBytes(rotated));
    long rotations = m.getGraph().getNodeList().stream().filter(n -> n.getOpType().equals("MatMul")
        && n.getInput(1).startsWith("cortexsdr_rotation_h")).count();
    assertEquals(24, rotations, "one rotation per input, shared by the weights reading it");
    try (OnnxModelReader r = OnnxModelReader.open(rotated)) {
      // carried into a compressed file's manifest as source metadata
      assertTrue(r.metadata().getOrDefault("cortexsdr_rotation", "").contains("blocks of 32"), r.metadata().toString());
    }
    float[] a = run(original);
    float[] b = run(rotated);
    double worst = 0;
    for (int i = 0; i < a.length; i++) {
      worst = Math.max(worst, Math.abs(a[i] - b[i]));
    }
    assertTrue(worst < 1e-4, "rotated and original differ by " + worst);
    assertTrue(worst > 0, "the rotated file is not the same graph");
    for (NodeProto n : m.getGraph().getNodeList()) {
      if (n.getOpType().equals("MatMul") && n.getInput(1).startsWith("onnx::MatMul")) {
        assertTrue(n.getInput(0).contains("_rotated"), n.getName() + " reads an unrotated input");
      }
    }
  }

  @Test
  void theTransformIsOrthonormalAndItsOwnInverse() {
    SplittableRandom rnd = new SplittableRandom(1);
    int k = 64;
    int n = 5;
    float[] w = new float[k * n];
    for (int i = 0; i < w.length; i++) {
      w[i] = (float) rnd.nextGaussian();
    }
    float[] once = HadamardRotation.rotateRows(w, k, n, 32);
    float[] twice = HadamardRotation.rotateRows(once, k, n, 32);
    double normW = 0;
    double normOnce = 0;
    for (int i = 0; i < w.length; i++) {
      assertEquals(w[i], twice[i], 1e-5);
      normW += w[i] * w[i];
      normOnce += once[i] * once[i];
    }
    assertEquals(normW, normOnce, 1e-3 * normW);
    // a column with one large value spreads it over its block
    float[] spike = new float[32];
    spike[3] = 8f;
    for (float v : HadamardRotation.rotateRows(spike, 32, 1, 32)) {
      assertEquals(8f / Math.sqrt(32), Math.abs(v), 1e-5);
    }
  }

  @Test
  void whatCannotBeRotatedIsRefusedWithTheFileNamed() throws Exception {
    assertThrows(IllegalArgumentException.class, () -> HadamardRotation.rotateRows(new float[12], 12, 1, 3));
    Path conv = dir.resolve("conv.onnx");
    Files.write(conv, OnnxTestModels.convNet().toByteArray());
    OnnxFormatException e = assertThrows(OnnxFormatException.class,
        () -> HadamardRotation.write(conv, dir.resolve("out.onnx"), 32));
    assertTrue(e.getMessage().contains(conv.toString()) && e.getMessage().contains("no MatMul weight"), e.getMessage());
    assertTrue(Files.notExists(dir.resolve("out.onnx")));
    Path junk = dir.resolve("junk.onnx");
    Files.write(junk, new byte[] {(byte) 0xff, 1, 2, 3});
    OnnxFormatException j = assertThrows(OnnxFormatException.class,
        () -> HadamardRotation.write(junk, dir.resolve("out.onnx"), 32));
    assertTrue(j.getMessage().contains(junk.toString()), j.getMessage());
    try (var files = Files.list(dir)) {
      assertTrue(files.noneMatch(p -> p.getFileName().toString().startsWith(".rotating")), "no temp file left");
    }
  }

  @Test
  void aWeightASubgraphAlsoReadsStaysAsItIs() {
    // U is read inside the If's else branch; a top-level MatMul on the If's output reads it too
    ModelProto m = ControlFlowModels.ifBranches(32);
    ModelProto.Builder b = m.toBuilder();
    b.getGraphBuilder().addNode(NodeProto.newBuilder().setOpType("MatMul").addInput("Y").addInput("U")
        .addOutput("Z")).addOutput(OnnxTestModels.floatInput("Z", 1, 32));
    HadamardRotation.Rotated r = HadamardRotation.rotate(b.build(), 32);
    assertEquals(1, r.weights(), "only the top-level weight no subgraph reads");
    for (ai.onnx.proto.OnnxMl.TensorProto t : r.model().getGraph().getInitializerList()) {
      ai.onnx.proto.OnnxMl.TensorProto before = m.getGraph().getInitializerList().stream()
          .filter(x -> x.getName().equals(t.getName())).findFirst().orElse(null);
      if (t.getName().equals("U")) {
        assertEquals(before, t, "U is read inside the branch: unchanged");
      } else if (t.getName().equals(ControlFlowModels.COLLIDING)) {
        assertTrue(!before.getRawData().equals(t.getRawData()) || !before.getFloatDataList().equals(t.getFloatDataList()),
            "the top-level weight is rotated");
      }
    }
  }

  private static float[] run(Path model) throws Exception {
    return OnnxTestModels.runText(Files.readAllBytes(model), 2, 9, 14, 5, java.util.List.of()).get(0);
  }
}
