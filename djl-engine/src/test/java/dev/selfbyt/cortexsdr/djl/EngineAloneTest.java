package dev.selfbyt.cortexsdr.djl;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;

import ai.djl.Model;
import ai.djl.engine.Engine;
import ai.djl.inference.Predictor;
import ai.djl.modality.Classifications;
import ai.djl.modality.cv.Image;
import ai.djl.modality.cv.ImageFactory;
import ai.djl.modality.cv.output.BoundingBox;
import ai.djl.modality.cv.output.DetectedObjects;
import ai.djl.modality.cv.translator.ImageClassificationTranslator;
import ai.djl.modality.cv.translator.YoloV5Translator;
import ai.djl.modality.cv.translator.YoloV8Translator;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import ai.djl.nn.Blocks;
import ai.djl.nn.LambdaBlock;
import ai.djl.nn.Parameter;
import ai.djl.nn.SequentialBlock;
import ai.djl.nn.convolutional.Conv2d;
import ai.djl.nn.core.Linear;
import ai.djl.nn.pooling.Pool;
import ai.djl.training.initializer.Initializer;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

/**
 * The engine as the only one on the classpath: only {@code ai.djl:api} and this module, no
 * tokenizers jar, no PyTorch, no ONNX Runtime (the {@code engine-alone} surefire execution in this
 * module's pom trims the classpath and runs this class in its own JVM). {@code
 * NDManager.newBaseManager()} must give CortexSDR arrays, there is no alternative engine to fall
 * back to, and DJL's own image-classification and YOLOv8 translators run whole predictions on it;
 * any operator that went to an alternative engine would throw here. (The property set by that
 * execution keeps it from running in the full test classpath, where {@code -Dtest=...} selects it
 * too.)
 */
@EnabledIfSystemProperty(named = "cortexsdr.test.engineAlone", matches = "true")
class EngineAloneTest {
  @Test
  void theDefaultManagerIsCortexSdr() {
    assertFalse(Engine.hasEngine("Rust"), "the trimmed classpath has no tokenizers jar");
    assertFalse(Engine.hasEngine("PyTorch"));
    assertEquals("CortexSDR", Engine.getDefaultEngineName());
    assertNull(Engine.getEngine("CortexSDR").getAlternativeEngine(), "nothing to fall back to");
    try (NDManager m = NDManager.newBaseManager()) {
      assertEquals("CortexSDR", m.getEngine().getEngineName());
      NDArray a = m.create(new float[] {3, 1, 2});
      assertInstanceOf(CaiNDArray.class, a);
      assertArrayEquals(new float[] {1, 2, 3}, a.sort().toFloatArray());
      assertArrayEquals(new long[] {0}, a.topK(1, 0).get(1).toLongArray());
    }
    try (NDManager m = NDManager.newBaseManager("CortexSDR")) {
      assertEquals(new Shape(3, 4), m.ones(new Shape(3)).oneHot(4).getShape());
    }
  }

  @Test
  void float64IsRefusedClearlyWithoutAnAlternativeEngine() {
    try (NDManager m = NDManager.newBaseManager()) {
      UnsupportedOperationException e = org.junit.jupiter.api.Assertions.assertThrows(
          UnsupportedOperationException.class, () -> m.create(new double[] {1, 2}));
      org.junit.jupiter.api.Assertions.assertTrue(e.getMessage().contains("FLOAT64"), e.getMessage());
      NDArray a = m.create(new float[] {1, 2});
      org.junit.jupiter.api.Assertions.assertThrows(UnsupportedOperationException.class,
          () -> a.toType(DataType.FLOAT64, false));
      assertEquals(DataType.FLOAT16, a.toType(DataType.FLOAT16, false).getDataType());
    }
  }

  /** A 16x16 RGB image with a gradient, so every pixel differs. */
  private static BufferedImage gradient() {
    BufferedImage img = new BufferedImage(16, 16, BufferedImage.TYPE_INT_RGB);
    for (int y = 0; y < 16; y++) {
      for (int x = 0; x < 16; x++) {
        img.setRGB(x, y, (x * 15) << 16 | (y * 15) << 8 | ((x + y) * 7));
      }
    }
    return img;
  }

  @Test
  void imageClassificationTranslatorPredictsOnCortexSdrAlone() throws Exception {
    Random rnd = new Random(5);
    SequentialBlock net = new SequentialBlock()
        .add(Conv2d.builder().setKernelShape(new Shape(3, 3)).optPadding(new Shape(1, 1)).setFilters(4).build())
        .add(Activation.reluBlock())
        .add(Pool.globalAvgPool2dBlock())
        .add(Linear.builder().setUnits(3).build());
    Initializer uniform = (mm, shape, type) -> mm.create(Reference.random(rnd, (int) shape.size(), -1, 1), shape);
    net.setInitializer(uniform, Parameter.Type.WEIGHT);
    net.setInitializer(uniform, Parameter.Type.BIAS);
    net.freezeParameters(true);
    float[] mean = {0.485f, 0.456f, 0.406f};
    float[] std = {0.229f, 0.224f, 0.225f};
    // configured as a serving.properties would: resize (bilinear), toTensor, normalize, softmax
    ImageClassificationTranslator translator = ImageClassificationTranslator.builder(Map.of("width", 16, "height",
        16, "resize", "true", "normalize", "0.485,0.456,0.406,0.229,0.224,0.225", "synset", "red,green,blue"))
        .optApplySoftmax(true).build();
    Image image = ImageFactory.getInstance().fromImage(gradient());
    try (Model model = Model.newInstance("tiny-cnn", "CortexSDR")) {
      net.initialize(model.getNDManager(), DataType.FLOAT32, new Shape(1, 3, 16, 16));
      model.setBlock(net);
      Classifications c;
      try (Predictor<Image, Classifications> p = model.newPredictor(translator)) {
        c = p.predict(image);
      }
      Map<String, float[]> w = new HashMap<>();
      net.getParameters().forEach(pair -> w.put(pair.getKey(), pair.getValue().getArray().toFloatArray()));
      double[] expected = reference(gradient(), mean, std, w);
      for (int k = 0; k < 3; k++) {
        String name = List.of("red", "green", "blue").get(k);
        assertEquals(expected[k], c.get(name).getProbability(), 1e-5, name);
      }
    }
  }

  /** The same network in plain Java: pixels / 255, normalized, 3x3 convolution, ReLU, mean, linear, softmax. */
  private static double[] reference(BufferedImage img, float[] mean, float[] std, Map<String, float[]> w) {
    float[] x = new float[3 * 16 * 16];
    for (int y = 0; y < 16; y++) {
      for (int xo = 0; xo < 16; xo++) {
        int rgb = img.getRGB(xo, y);
        int[] ch = {(rgb >> 16) & 0xff, (rgb >> 8) & 0xff, rgb & 0xff};
        for (int c = 0; c < 3; c++) {
          x[(c * 16 + y) * 16 + xo] = (float) ((ch[c] / 255.0 - mean[c]) / std[c]);
        }
      }
    }
    String conv = w.keySet().stream().filter(k -> k.contains("Conv2d") && k.endsWith("weight")).findFirst().orElseThrow();
    String convB = conv.replace("weight", "bias");
    String lin = w.keySet().stream().filter(k -> k.contains("Linear") && k.endsWith("weight")).findFirst().orElseThrow();
    float[] y = Reference.conv2d(x, 1, 3, 16, 16, w.get(conv), 4, 3, 3, w.get(convB), new int[] {1, 1},
        new int[] {1, 1}, new int[] {1, 1}, 1);
    float[] pooled = new float[4];
    for (int c = 0; c < 4; c++) {
      double s = 0;
      for (int i = 0; i < 256; i++) {
        s += Math.max(0, y[c * 256 + i]);
      }
      pooled[c] = (float) (s / 256);
    }
    float[] logits = Reference.linear(pooled, 1, 4, w.get(lin), 3, w.get(lin.replace("weight", "bias")));
    double max = Math.max(logits[0], Math.max(logits[1], logits[2]));
    double[] p = new double[3];
    double sum = 0;
    for (int k = 0; k < 3; k++) {
      p[k] = Math.exp(logits[k] - max);
      sum += p[k];
    }
    for (int k = 0; k < 3; k++) {
      p[k] /= sum;
    }
    return p;
  }

  @Test
  void yoloV8TranslatorDetectsOnCortexSdrAlone() throws Exception {
    // a "model" whose output is a fixed YOLOv8 head [1, 4 + 2 classes, 3 anchors]: anchors 0 and 1
    // overlap in class 0 (NMS keeps the stronger one), anchor 2 is class 1
    float[][] anchors = {{40, 40, 20, 20, 0.9f, 0.1f}, {42, 41, 20, 20, 0.6f, 0.2f}, {100, 90, 30, 10, 0.05f, 0.8f}};
    float[] head = new float[6 * 3];
    for (int a = 0; a < 3; a++) {
      for (int f = 0; f < 6; f++) {
        head[f * 3 + a] = anchors[a][f];
      }
    }
    LambdaBlock block = new LambdaBlock(in -> new NDList(in.head().getManager().create(head, new Shape(1, 6, 3))));
    // as a serving.properties would configure it; maxBox = anchors + 1 (DJL's loop bound)
    YoloV5Translator translator = YoloV8Translator.builder(Map.of("width", 160, "height", 160, "resize", "true",
        "threshold", 0.3, "applyRatio", true, "maxBox", 4, "synset", "cat,dog")).build();
    try (Model model = Model.newInstance("yolo-head", "CortexSDR")) {
      model.setBlock(block);
      DetectedObjects d;
      try (Predictor<Image, DetectedObjects> p = model.newPredictor(translator)) {
        d = p.predict(ImageFactory.getInstance().fromImage(gradient()));
      }
      assertEquals(2, d.getNumberOfObjects(), d.toString());
      DetectedObjects.DetectedObject cat = d.items().stream().map(o -> (DetectedObjects.DetectedObject) o)
          .filter(o -> o.getClassName().equals("cat")).findFirst().orElseThrow();
      assertEquals(0.9, cat.getProbability(), 1e-6);
      BoundingBox box = cat.getBoundingBox();
      assertEquals(30.0 / 160, box.getBounds().getX(), 1e-6);
      assertEquals(30.0 / 160, box.getBounds().getY(), 1e-6);
    }
  }

  @Test
  void ndArrayApiWithoutAnAlternativeEngine() throws IOException {
    List<NDArrayApiWalk.Row> rows;
    try (NDManager m = NDManager.newBaseManager()) {
      rows = new NDArrayApiWalk(m).walk();
    }
    Path out = Path.of("target", "ndarray-api-walk-alone.md");
    Files.createDirectories(out.getParent());
    Files.writeString(out, NDArrayApiWalk.markdown(rows));
    Map<String, NDArrayApiWalk.Row> bySignature = new HashMap<>();
    rows.forEach(r -> bySignature.putIfAbsent(r.call(), r));
    List<String> notHere = NDArrayApiWalkTest.REQUIRED.stream()
        .filter(s -> bySignature.get(s).outcome() != NDArrayApiWalk.Outcome.CORTEXSDR).toList();
    assertEquals(List.of(), notHere, "required operators with no alternative engine at all");
  }
}
