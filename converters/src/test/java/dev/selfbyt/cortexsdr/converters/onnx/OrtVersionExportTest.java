package dev.selfbyt.cortexsdr.converters.onnx;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnx.proto.OnnxMl.AttributeProto;
import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import dev.selfbyt.cortexsdr.core.CompressionOptions;
import dev.selfbyt.cortexsdr.core.CortexSdr;
import dev.selfbyt.cortexsdr.core.Preset;
import dev.selfbyt.cortexsdr.core.format.CaiReader;
import java.io.InputStream;
import java.nio.FloatBuffer;
import java.nio.LongBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code export(..., OrtVersion)} on the real all-MiniLM-L6-v2: for each target, no operator or
 * attribute the target lacks, the same weights kept quantized as for the newest, and the same
 * outputs in ONNX Runtime 1.29.0 (the older forms are checked in older runtimes by the
 * integration test {@code OnnxRuntimeVersionsIT}).
 */
class OrtVersionExportTest {
  @TempDir Path dir;

  private static final List<String> TARGETS = List.of("1.16", "1.20", "1.22", "1.23");

  @Test
  void int8AndInt4ExportsUseOnlyWhatEachTargetHasAndComputeTheSame() throws Exception {
    for (Preset preset : List.of(Preset.INT8, Preset.INT4)) {
      checkTargets(compress(CompressionOptions.builder().preset(preset).threads(2).build(), preset.name()), TARGETS);
    }
  }

  @Test
  void oddWidthsAndPaddedBlocksTooBelow123() throws Exception {
    // 3 bits: widened to 4 (MatMulNBits, uint4 GatherBlockQuantized); 6 bits: widened to 8
    // (DequantizeLinear); block 256 pads the 384-wide rows, which the older forms slice off
    for (int bits : new int[] {3, 6}) {
      Path cai = compress(CompressionOptions.builder().preset(Preset.INT8).bits(bits).blockSize(256).threads(2).build(),
          "bits" + bits);
      checkTargets(cai, List.of("1.16", "1.21"));
    }
  }

  @Test
  void theNewestTargetWritesTheBytesTheExporterAlwaysWrote() throws Exception {
    // SHA-256 of export-onnx --mode quantized of MiniLM at int8 / int4, written by the code before
    // the target version existed (main at a217261: 65af88aa... / 63b0e2e2...), then with the 12
    // residual Add + layer norm pairs written as SkipLayerNormalization (LayerNormFusion)
    Map<Preset, String> before = Map.of(
        Preset.INT8, "f603126b411a38f81a9db5c84708416d171db9552d8d687d63e2ab101794a0d8",
        Preset.INT4, "c31c5529b98732d79568df7e2be61499ee277079ab37ab26a0e1522531f517c7");
    for (Preset preset : List.of(Preset.INT8, Preset.INT4)) {
      Path cai = compress(CompressionOptions.builder().preset(preset).threads(2).build(), preset.name());
      Path plain = dir.resolve(preset + "-plain.onnx");
      Path newest = dir.resolve(preset + "-1.29.onnx");
      try (CaiReader r = CaiReader.open(cai)) {
        QuantizedOnnxExporter.export(r, plain, 0);
        QuantizedOnnxExporter.export(r, newest, 0, OrtVersion.parse("1.29.0"));
      }
      assertEquals(before.get(preset), sha256(plain), preset + ": export without a version");
      assertArrayEquals(Files.readAllBytes(plain), Files.readAllBytes(newest), preset + ": export for 1.29");
    }
  }

  @Test
  void versionsParseAndTooOldOnesAreRefusedWithTheReason() {
    assertEquals(new OrtVersion(1, 21), OrtVersion.parse("1.21.1"));
    assertEquals(new OrtVersion(1, 23), OrtVersion.parse(" 1.23 "));
    assertEquals(new OrtVersion(1, 22), OrtVersion.ofRuntime("1.22.0"));
    assertTrue(OrtVersion.parse("1.23").hasMatMulNBits8() && !OrtVersion.parse("1.22").hasMatMulNBits8());
    IllegalArgumentException old = assertThrows(IllegalArgumentException.class, () -> OrtVersion.parse("1.15"));
    assertTrue(old.getMessage().contains("MatMulNBits") && old.getMessage().contains("1.16"), old.getMessage());
    IllegalArgumentException bad = assertThrows(IllegalArgumentException.class, () -> OrtVersion.parse("latest"));
    assertTrue(bad.getMessage().contains("MAJOR.MINOR"), bad.getMessage());
    assertEquals(OrtVersion.OLDEST, QuantizedOnnxExporter.oldestKeepingQuantized(false));
    assertEquals(OrtVersion.CUSTOM_OPS, QuantizedOnnxExporter.oldestKeepingQuantized(true));
  }

  private Path compress(CompressionOptions options, String name) throws Exception {
    Path cai = dir.resolve(name + ".cai");
    try (OnnxModelReader onnx = OnnxModelReader.open(OnnxTestModels.miniLm(dir))) {
      CortexSdr.compress(onnx, cai, options);
    }
    return cai;
  }

  private void checkTargets(Path cai, List<String> targets) throws Exception {
    Path newestFile = dir.resolve(cai.getFileName() + "-newest.onnx");
    List<QuantizedOnnxExporter.Form> newestForms;
    try (CaiReader r = CaiReader.open(cai)) {
      newestForms = QuantizedOnnxExporter.export(r, newestFile, 0, OrtVersion.NEWEST);
    }
    float[] expected = run(newestFile);
    for (String t : targets) {
      OrtVersion v = OrtVersion.parse(t);
      Path file = dir.resolve(cai.getFileName() + "-" + t + ".onnx");
      List<QuantizedOnnxExporter.Form> forms;
      try (CaiReader r = CaiReader.open(cai)) {
        forms = QuantizedOnnxExporter.export(r, file, 0, v);
      }
      String what = cai.getFileName() + " for " + t;
      assertEquals(decoded(newestForms), decoded(forms), what + ": the same weights stay quantized");
      ModelProto m = ModelProto.parseFrom(Files.readAllBytes(file));
      for (NodeProto n : m.getGraph().getNodeList()) {
        boolean gbq = n.getOpType().equals("GatherBlockQuantized");
        assertFalse(gbq && !v.hasGatherBlockQuantizedUint4(), what + ": " + n.getName());
        assertFalse(gbq && !v.hasGatherBlockQuantizedBits() && has(n, "bits"), what + ": bits on " + n.getName());
        assertFalse(n.getOpType().equals("MatMulNBits") && !v.hasMatMulNBits8() && intAttr(n, "bits") == 8,
            what + ": " + n.getName());
      }
      if (!v.hasGatherBlockQuantizedBits()) {
        Set<String> gbqData = m.getGraph().getNodeList().stream().filter(n -> n.getOpType().equals("GatherBlockQuantized"))
            .map(n -> n.getInput(0)).collect(Collectors.toSet());
        for (TensorProto i : m.getGraph().getInitializerList()) {
          if (gbqData.contains(i.getName())) {
            assertEquals(TensorProto.DataType.UINT4_VALUE, i.getDataType(), what + ": " + i.getName());
          }
        }
      }
      float[] got = run(file);
      double cos = cosine(expected, got);
      // the same decoded weights; only the order of fp32 sums differs between the operators
      assertTrue(cos > 0.999999, what + ": cosine " + cos + " to the newest form's output");
    }
  }

  private static Set<String> decoded(List<QuantizedOnnxExporter.Form> forms) {
    return forms.stream().filter(f -> f.form().equals("decoded")).map(QuantizedOnnxExporter.Form::tensor)
        .collect(Collectors.toSet());
  }

  private static float[] run(Path model) throws Exception {
    OrtEnvironment env = OrtEnvironment.getEnvironment();
    long[] ids = {101, 1996, 6240, 8522, 2379, 1996, 2911, 29000, 4, 102};
    long[] shape = {1, ids.length};
    try (OrtSession.SessionOptions o = new OrtSession.SessionOptions();
        OrtSession s = env.createSession(model.toString(), o);
        OnnxTensor a = OnnxTensor.createTensor(env, LongBuffer.wrap(ids), shape);
        OnnxTensor b = OnnxTensor.createTensor(env, LongBuffer.wrap(new long[] {1, 1, 1, 1, 1, 1, 1, 1, 1, 1}), shape);
        OnnxTensor c = OnnxTensor.createTensor(env, LongBuffer.wrap(new long[ids.length]), shape);
        OrtSession.Result r = s.run(Map.of("input_ids", a, "attention_mask", b, "token_type_ids", c))) {
      FloatBuffer f = ((OnnxTensor) r.get(0)).getFloatBuffer();
      float[] v = new float[f.remaining()];
      f.get(v);
      return v;
    }
  }

  static double cosine(float[] a, float[] b) {
    double d = 0;
    double na = 0;
    double nb = 0;
    for (int i = 0; i < a.length; i++) {
      d += (double) a[i] * b[i];
      na += (double) a[i] * a[i];
      nb += (double) b[i] * b[i];
    }
    return d / Math.sqrt(na * nb);
  }

  private static boolean has(NodeProto n, String attr) {
    return n.getAttributeList().stream().anyMatch(a -> a.getName().equals(attr));
  }

  private static long intAttr(NodeProto n, String attr) {
    return n.getAttributeList().stream().filter(a -> a.getName().equals(attr)).mapToLong(AttributeProto::getI)
        .findFirst().orElse(-1);
  }

  private static String sha256(Path file) throws Exception {
    MessageDigest md = MessageDigest.getInstance("SHA-256");
    try (InputStream in = Files.newInputStream(file)) {
      byte[] buf = new byte[1 << 16];
      for (int n; (n = in.read(buf)) > 0; ) {
        md.update(buf, 0, n);
      }
    }
    return HexFormat.of().formatHex(md.digest());
  }
}
