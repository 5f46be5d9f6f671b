package dev.selfbyt.cortexsdr.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.selfbyt.cortexsdr.converters.onnx.OnnxTestModelsAccess;
import dev.selfbyt.cortexsdr.core.format.CaiReader;
import dev.selfbyt.cortexsdr.core.format.Json;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code compress} checks the compressed model's outputs against the original's and says so on
 * every run: the fidelity line, {@code --json}'s and the manifest's {@code outputCheck}, and a
 * warning naming the tensors that break a model.
 */
class OutputCheckCommandTest {
  @TempDir Path dir;

  static CortexSdrCommandTest.Run cortexsdr(String... args) {
    return CortexSdrCommandTest.cortexsdr(args);
  }

  private Path write(String name, byte[] bytes) throws Exception {
    return Files.write(dir.resolve(name), bytes);
  }

  @Test
  void aModelInt8BreaksIsReportedWithItsWorstTensor() throws Exception {
    Path model = write("sensitive.onnx", OnnxTestModelsAccess.sensitive().toByteArray());
    Path cai = dir.resolve("s.cai");
    var c = cortexsdr("compress", model.toString(), "-o", cai.toString(), "--protect", "W2", "--threads", "1");
    assertEquals(0, c.code(), c.err());
    assertTrue(c.out().contains("output fidelity on 8 samples (seeded random inputs (seed 7)): Y cosine mean"),
        c.out());
    assertTrue(c.out().contains("BELOW 0.999"), c.out());
    assertTrue(c.err().contains("most damaging tensors"), c.err());
    String firstNamed = c.err().substring(c.err().indexOf("gives):")).lines().skip(1).findFirst().orElseThrow();
    assertTrue(firstNamed.strip().startsWith("W1 "), c.err());
    try (CaiReader r = CaiReader.open(cai)) {
      Map<?, ?> check = (Map<?, ?>) r.manifest().get("outputCheck");
      assertEquals(false, check.get("passed"));
      assertEquals("W1", ((Map<?, ?>) ((List<?>) check.get("worstTensors")).get(0)).get("name"));
      r.verify(); // the rewritten archive is whole
    }
    var inspect = cortexsdr("inspect", cai.toString());
    assertTrue(inspect.out().contains("  output check: Y mean ") && inspect.out().contains("BELOW 0.999 on 8 samples")
        && inspect.out().contains("most damaging measured: W1"), inspect.out());

    var j = cortexsdr("compress", model.toString(), "-o", cai.toString(), "--protect", "W2", "--json",
        "--min-cosine", "-0.5");
    assertEquals(0, j.code(), j.err());
    Map<?, ?> check = (Map<?, ?>) ((Map<?, ?>) Json.parse(j.out().strip())).get("outputCheck");
    assertEquals(true, check.get("passed"));
    assertEquals(-0.5, ((Number) check.get("threshold")).doubleValue());
    Map<?, ?> y = (Map<?, ?>) ((List<?>) check.get("outputs")).get(0);
    assertTrue(((Number) y.get("minCosine")).doubleValue() <= ((Number) y.get("meanCosine")).doubleValue(), j.out());
    assertEquals("", j.err().strip());
  }

  @Test
  void noCheckSaysSo() throws Exception {
    Path model = write("sensitive.onnx", OnnxTestModelsAccess.sensitive().toByteArray());
    Path cai = dir.resolve("s.cai");
    var c = cortexsdr("compress", model.toString(), "-o", cai.toString(), "--no-check");
    assertEquals(0, c.code(), c.err());
    assertTrue(c.out().contains("output fidelity: not checked (--no-check)"), c.out());
    try (CaiReader r = CaiReader.open(cai)) {
      assertFalse(r.manifest().containsKey("outputCheck"));
    }
    var bad = cortexsdr("compress", model.toString(), "-o", cai.toString(), "--no-check", "--min-cosine", "0.9");
    assertEquals(2, bad.code());
  }

  @Test
  void randomCalibrationOfAModelWithBoolIdsAndMask() throws Exception {
    Path model = write("tokens.onnx", OnnxTestModelsAccess.tokens().toByteArray());
    Path cai = dir.resolve("t.cai");
    var c = cortexsdr("compress", model.toString(), "-o", cai.toString(), "--preset", "int4", "--calibrate", "random",
        "--calibration-samples", "4", "--input-shape", "ids=1,12");
    assertEquals(0, c.code(), c.err());
    // checked on other random samples than calibration's, the sequence length pinned for every input sharing it
    assertTrue(c.out().contains("output fidelity on 8 samples (seeded random inputs (seed 7)): Y cosine mean"),
        c.out());
    var shape = cortexsdr("compress", model.toString(), "-o", cai.toString(), "--input-shape", "idz=1,12");
    assertEquals(2, shape.code());
    assertTrue(shape.err().contains("no such input") && shape.err().contains("ids, keep, attention_mask"),
        shape.err());
    var syntax = cortexsdr("compress", model.toString(), "-o", cai.toString(), "--input-shape", "ids=1;12");
    assertEquals(2, syntax.code());
  }

  static byte[] longs(long... v) {
    ByteBuffer b = ByteBuffer.allocate(8 * v.length).order(ByteOrder.LITTLE_ENDIAN);
    for (long x : v) {
      b.putLong(x);
    }
    return b.array();
  }

  private void npz(Path file, Map<String, byte[]> arrays) throws Exception {
    try (OutputStream o = Files.newOutputStream(file); ZipOutputStream zip = new ZipOutputStream(o)) {
      for (Map.Entry<String, byte[]> e : arrays.entrySet()) {
        zip.putNextEntry(new ZipEntry(e.getKey() + ".npy"));
        zip.write(e.getValue());
      }
    }
  }

  @Test
  void npzFolderCalibratesAndBadFilesAreNamed() throws Exception {
    Path model = write("tokens.onnx", OnnxTestModelsAccess.tokens().toByteArray());
    Path data = Files.createDirectory(dir.resolve("npz"));
    for (int i = 0; i < 3; i++) {
      npz(data.resolve("s" + i + ".npz"), new java.util.LinkedHashMap<>(Map.of(
          "ids", OnnxTestModelsAccess.npy("<i8", "(1, 4)", longs(1, 2 + i, 30, 499)),
          "keep", OnnxTestModelsAccess.npy("|b1", "(1, 4)", new byte[] {1, 1, 0, 1}),
          "attention_mask", OnnxTestModelsAccess.npy("<i8", "(1, 4)", longs(1, 1, 1, 0)))));
    }
    Path cai = dir.resolve("t.cai");
    var c = cortexsdr("compress", model.toString(), "-o", cai.toString(), "--calibrate", data.toString());
    assertEquals(0, c.code(), c.err());
    assertTrue(c.out().contains("output fidelity on 3 samples (calibration arrays of npz)"), c.out());

    npz(data.resolve("s9.npz"), Map.of("ids", OnnxTestModelsAccess.npy("<i8", "(1, 4)", longs(1, 2, 3, 4))));
    var missing = cortexsdr("compress", model.toString(), "-o", cai.toString(), "--calibrate", data.toString());
    assertEquals(1, missing.code());
    assertTrue(missing.err().contains("s9.npz") && missing.err().contains("no array for model input 'keep'"),
        missing.err());
    Files.delete(data.resolve("s9.npz"));
    npz(data.resolve("s8.npz"), new java.util.LinkedHashMap<>(Map.of(
        "ids", OnnxTestModelsAccess.npy("<f4", "(1, 1)", new byte[4]),
        "keep", OnnxTestModelsAccess.npy("|b1", "(1, 1)", new byte[1]),
        "attention_mask", OnnxTestModelsAccess.npy("<i8", "(1, 1)", longs(1)))));
    var floats = cortexsdr("compress", model.toString(), "-o", cai.toString(), "--calibrate", data.toString());
    assertEquals(1, floats.code());
    assertTrue(floats.err().contains("s8.npz") && floats.err().contains("floating array for the int64 input"),
        floats.err());
  }

  @Test
  void wavFolderStreamsAStatefulModel() throws Exception {
    Path model = write("gru.onnx", OnnxTestModelsAccess.gru().toByteArray());
    Path audio = Files.createDirectory(dir.resolve("audio"));
    for (int f = 0; f < 2; f++) {
      short[] s = new short[8000 / 10]; // 0.1 s at 8 kHz
      for (int i = 0; i < s.length; i++) {
        s[i] = (short) (8000 * Math.sin(i * (0.05 + f * 0.03)));
      }
      write("audio/a" + f + ".wav", OnnxTestModelsAccess.wav(8000, 1, s));
    }
    Path cai = dir.resolve("g.cai");
    var noRate = cortexsdr("compress", model.toString(), "-o", cai.toString(), "--calibrate", audio.toString());
    assertEquals(1, noRate.code());
    assertTrue(noRate.err().contains("--sample-rate"), noRate.err());
    var c = cortexsdr("compress", model.toString(), "-o", cai.toString(), "--calibrate", audio.toString(),
        "--sample-rate", "16000", "--calibration-samples", "40");
    assertEquals(0, c.code(), c.err());
    assertTrue(c.out().contains("calibration audio of audio, streamed with state hn -> h0"), c.out());
    write("audio/b.wav", OnnxTestModelsAccess.wav(8000, 1, new short[0]));
    var empty = cortexsdr("compress", model.toString(), "-o", cai.toString(), "--calibrate", audio.toString(),
        "--sample-rate", "16000");
    assertEquals(1, empty.code());
    assertTrue(empty.err().contains("b.wav") && empty.err().contains("no samples"), empty.err());
  }
}
