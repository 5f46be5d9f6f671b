package dev.selfbyt.cortexsdr.cli;

import dev.selfbyt.cortexsdr.core.CompressionOptions;
import dev.selfbyt.cortexsdr.core.tensor.TensorSource;
import dev.selfbyt.cortexsdr.tensorflow.NpyArray;
import dev.selfbyt.cortexsdr.tensorflow.SavedModelCalibrator;
import dev.selfbyt.cortexsdr.tensorflow.SavedModelReader;
import dev.selfbyt.cortexsdr.tensorflow.TensorFlowRuntime;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Stream;
import picocli.CommandLine;

/**
 * {@code compress SAVED_MODEL_DIR --calibrate DATA}: GPTQ rounding of the MatMul weights with the
 * model run in TF Java on {@code DATA} (a {@code .npy} of input samples, or {@code random}), then
 * an output check of the written {@code .cai} against the original on the same samples. Without
 * TensorFlow's native library on the class path (the command does not bundle it) both say so and
 * the weights get the policy's plain rounding.
 */
final class SavedModelCalibration {
  private static final long SEED = 17;
  private static final int BATCH = 100;

  private SavedModelCalibration() {}

  static TensorSource calibrate(SavedModelReader model, String data, CompressionOptions options, int samples,
      CommandLine.Model.CommandSpec spec, boolean json) throws IOException {
    PrintWriter err = spec.commandLine().getErr();
    if (!TensorFlowRuntime.available()) {
      err.println("warning: calibrating a SavedModel runs it in TensorFlow, whose native library "
          + TensorFlowRuntime.problem() + "; compressing with uncalibrated rounding (no GPTQ, no output check)");
      err.flush();
      return model;
    }
    List<Map<String, NpyArray>> batches = inputs(model, data, samples);
    SavedModelCalibrator c = new SavedModelCalibrator(model, options);
    if (!json) {
      err.printf("calibrating %d MatMul weights on %d samples in TensorFlow...%n", c.weights().size(),
          count(batches));
      err.flush();
    }
    return c.calibrate(batches);
  }

  static void checkOutputs(SavedModelReader model, Path cai, String data, int samples,
      CommandLine.Model.CommandSpec spec, boolean json) throws IOException {
    if (!TensorFlowRuntime.available() || json) {
      return;
    }
    double[] cos = SavedModelCalibrator.compareOutputs(model, cai, inputs(model, data, samples));
    double mean = java.util.Arrays.stream(cos).average().orElse(Double.NaN);
    double min = java.util.Arrays.stream(cos).min().orElse(Double.NaN);
    spec.commandLine().getErr().printf(Locale.ROOT, "output check in TensorFlow (%d samples): cosine to the "
        + "original %.5f (min %.5f)%n", cos.length, mean, min);
    spec.commandLine().getErr().flush();
  }

  private static List<Map<String, NpyArray>> inputs(SavedModelReader model, String data, int samples)
      throws IOException {
    if (data.equals("random")) {
      return SavedModelCalibrator.randomBatches(model, samples, SEED);
    }
    NpyArray all = NpyArray.read(Path.of(data));
    long n = Math.min(samples, all.shape().length == 0 ? 0 : all.shape()[0]);
    long[] shape = all.shape().clone();
    if (shape.length > 0) {
      shape[0] = n;
    }
    int row = shape.length == 0 || all.shape()[0] == 0 ? 0 : (int) (all.values().length / all.shape()[0]);
    NpyArray first = new NpyArray(shape, java.util.Arrays.copyOf(all.values(), (int) (n * row)));
    return SavedModelCalibrator.batches(model, first, BATCH);
  }

  private static int count(List<Map<String, NpyArray>> batches) {
    return batches.stream().mapToInt(b -> (int) b.values().iterator().next().shape()[0]).sum();
  }

  /** Bytes of a file, or of all files in a folder (a SavedModel). */
  static long size(Path p) throws IOException {
    if (!Files.isDirectory(p)) {
      return Files.size(p);
    }
    long n = 0;
    try (Stream<Path> s = Files.walk(p)) {
      for (Path f : s.filter(Files::isRegularFile).toList()) {
        n += Files.size(f);
      }
    }
    return n;
  }
}
