package dev.selfbyt.cortexsdr.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.inference.Predictor;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.repository.zoo.Criteria;
import ai.djl.repository.zoo.ZooModel;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import dev.selfbyt.cortexsdr.converters.onnx.OnnxExporter;
import dev.selfbyt.cortexsdr.converters.onnx.OnnxModelReader;
import dev.selfbyt.cortexsdr.core.CompressionOptions;
import dev.selfbyt.cortexsdr.core.CompressionStats;
import dev.selfbyt.cortexsdr.core.CortexSdr;
import dev.selfbyt.cortexsdr.core.Preset;
import dev.selfbyt.cortexsdr.core.format.CaiReader;
import dev.selfbyt.cortexsdr.djl.CaiModel;
import dev.selfbyt.cortexsdr.it.models.Embedder;
import java.io.IOException;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Real vision architectures on the CortexSDR DJL engine alone: a MobileNetV3 classifier (small and
 * large), a DB-style text detector (MobileNetV3 backbone, FPN with nearest and bilinear Resize,
 * ConvTranspose head), a CRNN text recogniser (bidirectional LSTM) and an SVTR-style one
 * (attention and depthwise-conv mixing blocks), written as ONNX by
 * src/main/python/cnn_models.py with Debian's PyTorch from a fixed seed (no pretrained weights are
 * available offline), compressed to int8, and run through {@code Criteria} with the ONNX Runtime
 * fallback turned off. Their outputs must equal ONNX Runtime's on the decoded export ({@code
 * export-onnx --mode decoded}) within 1e-4 cosine.
 */
class CnnEngineIT {
  static final Path MODELS = Path.of("target/cnn-models");
  static final Path SCRIPT = Path.of("src/main/python/cnn_models.py");

  @BeforeAll
  static void makeModels() throws IOException, InterruptedException {
    List<String> names = List.of("mobilenet_v3_small", "mobilenet_v3_large", "db_detector", "crnn", "svtr");
    if (names.stream().allMatch(n -> Files.isRegularFile(MODELS.resolve(n + ".onnx")))) {
      return;
    }
    List<String> cmd = new java.util.ArrayList<>(List.of("/usr/bin/python3", SCRIPT.toString(), MODELS.toString()));
    cmd.addAll(names);
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes());
    int rc = p.waitFor();
    assertEquals(0, rc, String.join(" ", cmd) + " failed (it needs Debian's python3-torch and python3-torchvision:"
        + " apt-get install python3-torch python3-torchvision):\n" + out);
  }

  @ParameterizedTest
  @ValueSource(strings = {"mobilenet_v3_small", "mobilenet_v3_large", "db_detector", "crnn", "svtr"})
  void int8ModelRunsOnTheEngineAloneAsOnnxRuntimeRunsItsDecodedExport(String name, @org.junit.jupiter.api.io.TempDir
      Path dir) throws Exception {
    Path onnx = MODELS.resolve(name + ".onnx");
    Path cai = dir.resolve(name + ".cai");
    CompressionStats stats;
    try (OnnxModelReader r = OnnxModelReader.open(onnx)) {
      stats = CortexSdr.compress(r, cai, CompressionOptions.builder().preset(Preset.INT8).build());
    }
    Path decoded = dir.resolve(name + "-decoded.onnx");
    try (CaiReader r = CaiReader.open(cai)) {
      OnnxExporter.exportDecoded(r, decoded);
    }
    long[] shape = inputShape(name);
    float[] image = scene(shape, 7);
    float[] reference = onnxRuntime(decoded, image, shape);

    Criteria<NDList, NDList> criteria = Criteria.builder().setTypes(NDList.class, NDList.class).optModelPath(cai)
        .optEngine("CortexSDR").optOption("ortFallback", "false").build();
    float[] ours;
    long resident;
    try (ZooModel<NDList, NDList> model = criteria.loadModel();
        Predictor<NDList, NDList> predictor = model.newPredictor();
        NDManager nd = model.getNDManager().newSubManager()) {
      CaiModel cm = (CaiModel) model.getWrappedModel();
      assertEquals("java executor", ((dev.selfbyt.cortexsdr.djl.CaiSymbolBlock) model.getBlock()).describeRunner(),
          "runs on the engine, not ONNX Runtime");
      resident = cm.residentWeightBytes();
      NDList out = predictor.predict(new NDList(nd.create(image, new Shape(shape))));
      ours = out.head().toFloatArray();
    }
    double cosine = Embedder.cosine(reference, ours);
    double maxDiff = 0;
    for (int i = 0; i < ours.length; i++) {
      maxDiff = Math.max(maxDiff, Math.abs(reference[i] - ours[i]));
    }
    long fp32 = Files.size(onnx);
    System.out.printf("%s int8: %.2fx, weights in memory %.1f MB (fp32 file %.1f MB), %d outputs, cosine to ORT on "
        + "the decoded export %.8f, max |diff| %.3g%n", name, stats.ratio(), resident / 1e6, fp32 / 1e6, ours.length,
        cosine, maxDiff);
    assertEquals(reference.length, ours.length, "output size");
    assertTrue(cosine >= 1 - 1e-4, name + ": cosine " + cosine);
    assertTrue(resident < fp32 / 2, name + ": weights stay compressed in memory: " + resident + " bytes of " + fp32);
  }

  private static long[] inputShape(String name) {
    return switch (name) {
      case "db_detector" -> new long[] {1, 3, 256, 320};
      case "crnn", "svtr" -> new long[] {1, 3, 32, 100};
      default -> new long[] {1, 3, 224, 224};
    };
  }

  /**
   * A normalized NCHW picture: a light gradient with a few dark strokes and filled boxes (the kind
   * of page a text detector reads), per-channel ImageNet normalization as torchvision's models expect.
   */
  static float[] scene(long[] shape, long seed) {
    int h = (int) shape[2];
    int w = (int) shape[3];
    float[][] rgb = new float[3][h * w];
    for (int y = 0; y < h; y++) {
      for (int x = 0; x < w; x++) {
        for (int c = 0; c < 3; c++) {
          rgb[c][y * w + x] = 0.75f + 0.2f * x / w - 0.1f * c * y / h;
        }
      }
    }
    SplittableRandom r = new SplittableRandom(seed);
    for (int s = 0; s < 12; s++) {
      int x0 = r.nextInt(w);
      int y0 = r.nextInt(h);
      int bw = 2 + r.nextInt(Math.max(3, w / 4));
      int bh = 1 + r.nextInt(Math.max(2, h / 8));
      float ink = (float) r.nextDouble(0.0, 0.4);
      for (int y = y0; y < Math.min(h, y0 + bh); y++) {
        for (int x = x0; x < Math.min(w, x0 + bw); x++) {
          for (int c = 0; c < 3; c++) {
            rgb[c][y * w + x] = ink + 0.05f * c;
          }
        }
      }
    }
    float[] mean = {0.485f, 0.456f, 0.406f};
    float[] std = {0.229f, 0.224f, 0.225f};
    float[] out = new float[3 * h * w];
    for (int c = 0; c < 3; c++) {
      for (int i = 0; i < h * w; i++) {
        out[c * h * w + i] = (rgb[c][i] - mean[c]) / std[c];
      }
    }
    return out;
  }

  static float[] onnxRuntime(Path model, float[] x, long[] shape) throws Exception {
    OrtEnvironment env = OrtEnvironment.getEnvironment();
    try (OrtSession s = env.createSession(model.toString(), new OrtSession.SessionOptions());
        OnnxTensor in = OnnxTensor.createTensor(env, FloatBuffer.wrap(x), shape);
        OrtSession.Result res = s.run(Map.of(s.getInputNames().iterator().next(), in))) {
      FloatBuffer fb = ((OnnxTensor) res.get(0)).getFloatBuffer();
      float[] v = new float[fb.remaining()];
      fb.get(v);
      return v;
    }
  }
}
