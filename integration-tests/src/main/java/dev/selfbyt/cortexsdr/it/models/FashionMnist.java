package dev.selfbyt.cortexsdr.it.models;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.selfbyt.cortexsdr.converters.onnx.OnnxCalibrator;
import dev.selfbyt.cortexsdr.converters.onnx.OrtEnvironments;
import java.io.IOException;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Fashion-MNIST (Debian's dataset-fashion-mnist, {@code /usr/share/datasets/fashion-mnist}) and the
 * two classifiers trained on it by {@code src/main/python/fashion_models.py} with Debian's PyTorch
 * from a fixed seed: {@code fashion_lstm} (an LSTM over image rows, input {@code [batch, 28, 28]})
 * and {@code fashion_mobilenet} (a MobileNetV3-style CNN, input {@code [batch, 1, 28, 28]}). The
 * trained models are cached under {@code target/fashion-models} so that tests and benchmarks train
 * them once.
 */
public final class FashionMnist {
  /** Where Debian installs the dataset. */
  public static final Path DATA = Path.of("/usr/share/datasets/fashion-mnist");
  /** The model names the training script knows. */
  public static final List<String> MODELS = List.of("fashion_lstm", "fashion_mobilenet");
  private static final float MEAN = 0.2860f;
  private static final float STD = 0.3530f;

  /** Images normalized as the models were trained ({@code [n, 784]}, row-major 28 x 28) and their labels. */
  public record Split(float[][] images, int[] labels) {}

  private FashionMnist() {}

  /** The 10,000 test images. */
  public static Split test() throws IOException {
    return read("t10k", 10_000);
  }

  /** The first {@code n} training images (calibration data: disjoint from the test images). */
  public static Split train(int n) throws IOException {
    return read("train", n);
  }

  private static Split read(String prefix, int n) throws IOException {
    FashionMnistImages all = prefix.equals("train") ? FashionMnistImages.train(DATA) : FashionMnistImages.test(DATA);
    float[][] x = new float[n][];
    for (int i = 0; i < n; i++) {
      x[i] = all.images()[i].clone();
      for (int p = 0; p < x[i].length; p++) {
        x[i][p] = (x[i][p] - MEAN) / STD; // normalised as the training script does
      }
    }
    return new Split(x, java.util.Arrays.copyOf(all.labels(), n));
  }

  /**
   * The model file under {@code dir}, trained by the script (about a minute per model on an idle
   * 2-core machine) when not there yet.
   */
  public static Path model(Path dir, String name, Path script) throws IOException, InterruptedException {
    Path onnx = dir.resolve(name + ".onnx");
    if (Files.isRegularFile(onnx)) {
      return onnx;
    }
    Files.createDirectories(dir);
    List<String> cmd = List.of("/usr/bin/python3", script.toString(), DATA.toString(), dir.toString(), name);
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes());
    if (p.waitFor() != 0 || !Files.isRegularFile(onnx)) {
      throw new IOException(String.join(" ", cmd) + " failed (it needs Debian's python3-torch and "
          + "dataset-fashion-mnist):\n" + out);
    }
    return onnx;
  }

  /** The input shape of a batch of {@code n} images for this model's input ({@code [n, 28, 28]} or {@code [n, 1, 28, 28]}). */
  public static long[] shape(String model, int n) {
    return model.contains("lstm") ? new long[] {n, 28, 28} : new long[] {n, 1, 28, 28};
  }

  /** Calibration samples: {@code batches} batches of {@code size} training images each. */
  public static List<Map<String, OnnxCalibrator.Input>> calibration(String model, int batches, int size)
      throws IOException {
    Split s = train(batches * size);
    List<Map<String, OnnxCalibrator.Input>> out = new ArrayList<>();
    for (int b = 0; b < batches; b++) {
      float[] v = new float[size * 784];
      for (int i = 0; i < size; i++) {
        System.arraycopy(s.images()[b * size + i], 0, v, i * 784, 784);
      }
      out.add(Map.of("input", OnnxCalibrator.Input.ofFloats(shape(model, size), v)));
    }
    return out;
  }

  /** The predicted class of every image of {@code split}, run in ONNX Runtime in batches of 1,000. */
  public static int[] predict(Path onnx, String model, Split split) throws OrtException {
    OrtEnvironment env = OrtEnvironments.get();
    int n = split.labels().length;
    int[] pred = new int[n];
    try (OrtSession.SessionOptions o = new OrtSession.SessionOptions()) {
      o.setIntraOpNumThreads(2);
      try (OrtSession s = env.createSession(onnx.toString(), o)) {
        for (int start = 0; start < n; start += 1000) {
          int m = Math.min(1000, n - start);
          float[] v = new float[m * 784];
          for (int i = 0; i < m; i++) {
            System.arraycopy(split.images()[start + i], 0, v, i * 784, 784);
          }
          try (OnnxTensor in = OnnxTensor.createTensor(env, FloatBuffer.wrap(v), shape(model, m));
              OrtSession.Result r = s.run(Map.of(s.getInputNames().iterator().next(), in))) {
            FloatBuffer logits = ((OnnxTensor) r.get(0)).getFloatBuffer();
            for (int i = 0; i < m; i++) {
              int best = 0;
              for (int c = 1; c < 10; c++) {
                if (logits.get(i * 10 + c) > logits.get(i * 10 + best)) {
                  best = c;
                }
              }
              pred[start + i] = best;
            }
          }
        }
      }
    }
    return pred;
  }

  /** The fraction of {@code pred} equal to the labels. */
  public static double accuracy(int[] pred, int[] labels) {
    int ok = 0;
    for (int i = 0; i < labels.length; i++) {
      ok += pred[i] == labels[i] ? 1 : 0;
    }
    return ok / (double) labels.length;
  }
}
