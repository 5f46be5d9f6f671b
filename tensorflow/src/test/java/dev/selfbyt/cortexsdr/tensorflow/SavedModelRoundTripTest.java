package dev.selfbyt.cortexsdr.tensorflow;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.selfbyt.cortexsdr.core.CompressionOptions;
import dev.selfbyt.cortexsdr.core.CortexSdr;
import dev.selfbyt.cortexsdr.core.Preset;
import dev.selfbyt.cortexsdr.core.format.CaiReader;
import dev.selfbyt.cortexsdr.core.tensor.TensorInfo;
import dev.selfbyt.cortexsdr.core.tensor.TensorRole;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tensorflow.SavedModelBundle;

/** A SavedModel through a .cai and back, in TF Java, on {@link TinySavedModel}. */
class SavedModelRoundTripTest {
  @TempDir static Path tmp;
  static Path model;

  @BeforeAll
  static void writeModel() throws Exception {
    model = tmp.resolve("tiny");
    TinySavedModel.write(model);
  }

  @Test
  void rolesComeFromTheOpsThatReadEachVariable() throws Exception {
    try (SavedModelReader r = SavedModelReader.open(model)) {
      Map<String, TensorInfo> t = r.tensors().stream().collect(Collectors.toMap(TensorInfo::name, Function.identity()));
      assertEquals(TensorRole.MATMUL_WEIGHT, t.get("dense").role());
      assertEquals(0, t.get("dense").reductionAxis()); // [K, N]: K
      assertEquals(2, t.get("conv").reductionAxis()); // [kh, kw, in, out]: input channels
      assertEquals(TensorRole.BIAS, t.get("dense_bias").role());
      assertEquals(TensorRole.EMBEDDING, t.get("embedding").role());
      assertEquals(SavedModelReader.FORMAT, r.format());
    }
  }

  @Test
  void losslessRoundTripIsBitIdenticalInTensorFlow() throws Exception {
    Path cai = tmp.resolve("lossless.cai");
    try (SavedModelReader r = SavedModelReader.open(model)) {
      CortexSdr.compress(r, cai, CompressionOptions.builder().preset(Preset.LOSSLESS).build());
    }
    Path back = tmp.resolve("back");
    try (CaiReader c = CaiReader.open(cai)) {
      SavedModelWriter.write(c, back);
    }
    // the folder comes back byte for byte: the graph kept, the checkpoint written as TensorFlow writes it
    for (String f : new String[] {"saved_model.pb", "variables/variables.index", "variables/variables.data-00000-of-00001"}) {
      assertArrayEquals(Files.readAllBytes(model.resolve(f)), Files.readAllBytes(back.resolve(f)), f);
    }
    try (SavedModelReader a = SavedModelReader.open(model); SavedModelReader b = SavedModelReader.open(back)) {
      for (TensorInfo t : a.tensors()) {
        assertEquals(a.read(t).bytes(), b.read(t).bytes(), t.name());
      }
    }
    float[] expected;
    try (SavedModelBundle original = SavedModelBundle.load(model.toString(), "serve")) {
      expected = TinySavedModel.run(original, 5);
    }
    try (SavedModelBundle decoded = SavedModelBundle.load(back.toString(), "serve")) {
      assertArrayEquals(expected, TinySavedModel.run(decoded, 5));
    }
    try (SavedModelBundle loaded = CaiSavedModel.load(cai)) {
      assertArrayEquals(expected, TinySavedModel.run(loaded, 5));
    }
  }

  @Test
  void int8KeepsTheOutputsClose() throws Exception {
    Path cai = tmp.resolve("int8.cai");
    try (SavedModelReader r = SavedModelReader.open(model)) {
      CortexSdr.compress(r, cai, CompressionOptions.builder().preset(Preset.INT8).minLossyElements(256).build());
    }
    float[] expected;
    try (SavedModelBundle original = SavedModelBundle.load(model.toString(), "serve")) {
      expected = TinySavedModel.run(original, 5);
    }
    try (SavedModelBundle loaded = CaiSavedModel.load(cai)) {
      float[] got = TinySavedModel.run(loaded, 5);
      double num = 0;
      double den = 0;
      for (int i = 0; i < got.length; i++) {
        num += (got[i] - expected[i]) * (got[i] - expected[i]);
        den += expected[i] * expected[i];
      }
      assertTrue(num / den < 1e-3, "output NMSE " + num / den);
      assertTrue(num > 0, "int8 changed nothing: the weights were not quantized");
    }
  }
}
