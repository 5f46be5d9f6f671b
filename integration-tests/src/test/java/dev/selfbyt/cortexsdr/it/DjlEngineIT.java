package dev.selfbyt.cortexsdr.it;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.inference.Predictor;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.repository.zoo.Criteria;
import ai.djl.repository.zoo.ZooModel;
import dev.selfbyt.cortexsdr.converters.onnx.OnnxExporter;
import dev.selfbyt.cortexsdr.converters.onnx.OnnxModelReader;
import dev.selfbyt.cortexsdr.core.CompressionOptions;
import dev.selfbyt.cortexsdr.core.CortexSdr;
import dev.selfbyt.cortexsdr.core.Preset;
import dev.selfbyt.cortexsdr.core.calibrate.Metrics;
import dev.selfbyt.cortexsdr.core.format.CaiReader;
import dev.selfbyt.cortexsdr.djl.CaiSymbolBlock;
import dev.selfbyt.cortexsdr.it.djl.DjlEngineReport.Fidelity;
import dev.selfbyt.cortexsdr.it.djl.DjlEngineReport;
import dev.selfbyt.cortexsdr.it.models.LineScenes;
import dev.selfbyt.cortexsdr.it.models.MobyDick;
import dev.selfbyt.cortexsdr.it.models.RealModel;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Real sentence encoders as {@code .cai} files through {@code Criteria...optEngine("CortexSDR")}
 * with DJL's text-embedding translator, no PyTorch on the classpath: the engine adds no error of
 * its own (against the same file decoded and run in ONNX Runtime), int8 keeps the fp32 model's
 * embeddings, and int4 weights take at most a fifth of their fp32 memory. Fewer sentences than
 * the bench main ({@code DjlEngineReport}, 200) to keep the build short.
 */
class DjlEngineIT {
  @TempDir Path work;

  @ParameterizedTest
  @EnumSource(RealModel.class)
  void engineMatchesOnnxRuntimeAndKeepsWeightsSmall(RealModel model) throws Exception {
    assertFalse(Engine.hasEngine("PyTorch"), "this test runs without PyTorch");
    List<Fidelity> rows = DjlEngineReport.fidelity(model, List.of(Preset.INT8, Preset.INT4), 48, 2, work);
    System.out.println(DjlEngineReport.markdown(rows, 48));
    for (Fidelity f : rows) {
      assertTrue(f.minCosVsDecoded() >= 0.9999, "the engine adds no error of its own: " + f);
    }
    Fidelity int8 = rows.get(0);
    assertTrue(int8.meanCosVsFp32() >= 0.999, "int8 fidelity: " + int8);
    Fidelity int4 = rows.get(1);
    assertTrue(int4.residentWeightBytes() * 5 <= int4.fp32WeightBytes(), "int4 weights in memory: " + int4);
  }

  /**
   * A file made with {@code compress --rotate} (the Hadamard rotation of MatMul inputs as graph
   * nodes, the weights reading them rotated) runs in the engine as ONNX Runtime runs its decoded
   * export.
   */
  @Test
  void aRotatedFileRunsAsOnnxRuntimeRunsItsExport() throws Exception {
    RealModel model = RealModel.MINILM;
    Path dir = java.nio.file.Files.createDirectories(work.resolve("rotated"));
    Path fp32 = model.onnx(dir);
    Path rotated = dir.resolve("rotated.onnx");
    dev.selfbyt.cortexsdr.converters.onnx.HadamardRotation.write(fp32, rotated, 32);
    Path folder = java.nio.file.Files.createDirectories(dir.resolve("djl"));
    Path cai = folder.resolve("model.cai");
    try (OnnxModelReader r = OnnxModelReader.open(rotated)) {
      CortexSdr.compress(r, cai, CompressionOptions.builder().preset(Preset.INT4).build());
    }
    java.nio.file.Files.copy(model.tokenizer(dir), folder.resolve("tokenizer.json"));
    Path decoded = dir.resolve("rotated-int4.decoded.onnx");
    try (CaiReader r = CaiReader.open(cai)) {
      OnnxExporter.exportDecoded(r, decoded);
    }
    List<String> sentences = MobyDick.sentences(16, 0);
    var enc = dev.selfbyt.cortexsdr.it.models.Embedder.encodeAll(model.tokenizer(dir), 128, sentences);
    float[][] ort;
    float[][] reference;
    try (var e = new dev.selfbyt.cortexsdr.it.models.Embedder(decoded, model.pooling(), 2)) {
      ort = e.embedAll(enc);
    }
    try (var e = new dev.selfbyt.cortexsdr.it.models.Embedder(fp32, model.pooling(), 2)) {
      reference = e.embedAll(enc);
    }
    double vsFp32 = 0;
    try (ZooModel<String, float[]> z = DjlEngineReport.criteria(model, folder, "CortexSDR").loadModel();
        Predictor<String, float[]> p = z.newPredictor()) {
      for (int i = 0; i < sentences.size(); i++) {
        float[] got = p.predict(sentences.get(i));
        double c = dev.selfbyt.cortexsdr.it.models.Embedder.cosine(got, ort[i]);
        assertTrue(c >= 0.9999, "sentence " + i + ": the engine against ONNX Runtime " + c);
        vsFp32 += dev.selfbyt.cortexsdr.it.models.Embedder.cosine(got, reference[i]) / sentences.size();
      }
    }
    // uncalibrated int4 on MiniLM, these 16 sentences: 0.9693 rotated and not (2026-12-04)
    assertTrue(vsFp32 >= 0.96, "rotated int4 against fp32: " + vsFp32);
  }

  /** The M-LSD line detector (a MobileNetV2 CNN) runs in the Java executor, int8 Conv weights used as stored. */
  @Test
  void convolutionalNetworkMatchesOnnxRuntime() throws Exception {
    Path onnx = MobyDick.dataDir().resolve("mlsd/package/ONNX/mlsd_320x320_tiny.onnx");
    Path cai = work.resolve("mlsd.cai");
    try (OnnxModelReader r = OnnxModelReader.open(onnx)) {
      CortexSdr.compress(r, cai, CompressionOptions.builder().preset(Preset.INT8).build());
    }
    Path decoded = work.resolve("mlsd.decoded.onnx");
    try (CaiReader r = CaiReader.open(cai)) {
      OnnxExporter.exportDecoded(r, decoded);
    }
    List<float[]> ort = ConvNetIT.run(decoded);
    long[] shape = {1, 320, 320, 4};
    float[] image = LineScenes.scene(shape, 1);
    Criteria<NDList, NDList> criteria = Criteria.builder().setTypes(NDList.class, NDList.class).optModelPath(cai)
        .optEngine("CortexSDR").build();
    try (ZooModel<NDList, NDList> model = criteria.loadModel();
        Predictor<NDList, NDList> p = model.newPredictor();
        NDManager nd = model.getNDManager().newSubManager()) {
      assertTrue(((CaiSymbolBlock) model.getBlock()).describeRunner().contains("java"), "runs in the Java executor");
      NDList out = p.predict(new NDList(nd.create(image, new Shape(shape))));
      assertTrue(out.size() == ort.size(), out.size() + " outputs, ONNX Runtime gave " + ort.size());
      for (int i = 0; i < out.size(); i++) {
        NDArray a = out.get(i);
        float[] ours = a.getDataType() == DataType.FLOAT32 ? a.toFloatArray() : a.toType(DataType.FLOAT32, false)
            .toFloatArray();
        double cos = Metrics.cosine(ours, ort.get(i));
        System.out.printf("M-LSD output %d %s: cosine vs ONNX Runtime %.7f%n", i, a.getShape(), cos);
        assertTrue(cos >= 0.9999, "output " + i + ": cosine " + cos);
      }
    }
  }
}
