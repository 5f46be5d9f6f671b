package dev.selfbyt.cortexsdr.it.bench;

import dev.selfbyt.cortexsdr.converters.onnx.OnnxCalibrator;
import dev.selfbyt.cortexsdr.core.Preset;
import dev.selfbyt.cortexsdr.it.models.CalibratedRun;
import dev.selfbyt.cortexsdr.it.models.CalibratedRun.Recipe;
import dev.selfbyt.cortexsdr.it.models.FashionMnist;
import dev.selfbyt.cortexsdr.it.models.MobyDick;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Benchmark (a main): calibration beyond MatMul on convolutional and recurrent models. For M-LSD
 * (tiny and large, npm jp.keijiro.mlsd) and the two Fashion-MNIST classifiers of {@code
 * src/main/python/fashion_models.py} (an LSTM over rows, a MobileNetV3-style CNN; trained once and
 * cached in {@code target/fashion-models}): int8, int4, int4 with GPTQ on every Conv, Gemm and LSTM
 * weight, and int4 with GPTQ and depthwise convolutions at 8 bits. Columns: {@code .cai} ratio,
 * quality against fp32 (M-LSD: mean cosine of each output over 8 scenes not used for calibration;
 * Fashion-MNIST: accuracy on the 10,000 test images), the quantized ONNX export's size for the
 * default target (1.16) against the fp32 file, whether the 1.29 export computes the same, and the
 * calibration time. Calibration: 16 line scenes (M-LSD), 16 batches of 32 training images
 * (Fashion-MNIST).
 *
 * <pre>
 * java -cp integration-tests/target/benchmarks.jar dev.selfbyt.cortexsdr.it.bench.LayerCalibrationBench [work dir] [models]
 * </pre>
 *
 * {@code models}: a comma-separated subset of {@code mlsd_320x320_tiny, mlsd_320x320_large,
 * fashion_lstm, fashion_mobilenet} (default: all). Then optionally the M-LSD recipes and the
 * Fashion-MNIST recipes, each a {@code +}-separated list of keys ({@link #select}; default: the five
 * of {@link #recipes}). M-LSD's {@code scores} output (peaks after the model's own selection) is
 * also compared as peaks (see {@link WeightSensitivityBench}).
 *
 * Run from the repository root (it reads {@code integration-tests/target/data} and the training
 * script under {@code integration-tests/src/main/python}).
 */
public final class LayerCalibrationBench {
  private LayerCalibrationBench() {}

  public static void main(String[] args) throws Exception {
    Path work = Files.createDirectories(Path.of(args.length > 0 ? args[0] : "integration-tests/target/layer-bench"));
    List<String> only = args.length > 1 ? List.of(args[1].split(",")) : List.of();
    List<Recipe> mlsdRecipes = args.length > 2 ? select(args[2]) : recipes();
    List<Recipe> fashionRecipes = args.length > 3 ? select(args[3]) : recipes();
    Path root = Files.isDirectory(Path.of("integration-tests")) ? Path.of("integration-tests") : Path.of(".");
    System.out.printf(Locale.ROOT, "load average at start: %.2f (2 cores)%n", load());
    System.out.println("| model | recipe | .cai ratio | quality vs fp32 | export (1.16 target) vs fp32 file | 1.29 export same | calibration |");
    System.out.println("|---|---|---|---|---|---|---|");
    for (String name : List.of("mlsd_320x320_tiny", "mlsd_320x320_large")) {
      if (!only.isEmpty() && !only.contains(name)) {
        continue;
      }
      Path fp32 = MobyDick.dataDir().resolve("mlsd/package/ONNX/" + name + ".onnx");
      List<Map<String, OnnxCalibrator.Input>> calib = CalibratedRun.scenes(fp32, 100, 16);
      List<Map<String, OnnxCalibrator.Input>> eval = CalibratedRun.scenes(fp32, 1, 8);
      List<List<float[]>> ref = WeightSensitivityBench.outputs(fp32, eval);
      int[][] maps = WeightSensitivityBench.maps(fp32);
      for (Recipe r : mlsdRecipes) {
        CalibratedRun.Result res = CalibratedRun.run(fp32, r, calib, work);
        String q = WeightSensitivityBench.quality(ref, WeightSensitivityBench.outputs(res.export(), eval), maps);
        double[] same = CalibratedRun.meanCosines(res.export(), res.newestExport(), eval.subList(0, 1));
        row(name, r, res, q, Files.size(fp32), Math.min(same[0], same[same.length - 1]) > 0.999999);
      }
    }
    FashionMnist.Split test = FashionMnist.test();
    for (String name : FashionMnist.MODELS) {
      if (!only.isEmpty() && !only.contains(name)) {
        continue;
      }
      Path fp32 = FashionMnist.model(root.resolve("target/fashion-models"), name,
          root.resolve("src/main/python/fashion_models.py"));
      double base = FashionMnist.accuracy(FashionMnist.predict(fp32, name, test), test.labels());
      System.out.printf(Locale.ROOT, "| %s | fp32 | 1.00x | accuracy %.2f%% | %d bytes | | |%n", name, 100 * base,
          Files.size(fp32));
      List<Map<String, OnnxCalibrator.Input>> calib = FashionMnist.calibration(name, 16, 32);
      for (Recipe r : fashionRecipes) {
        if (r.depthwise8() && name.contains("lstm")) {
          continue;
        }
        CalibratedRun.Result res = CalibratedRun.run(fp32, r, calib, work);
        int[] a = FashionMnist.predict(res.export(), name, test);
        int[] b = FashionMnist.predict(res.newestExport(), name, test);
        double acc = FashionMnist.accuracy(a, test.labels());
        row(name, r, res, String.format(Locale.ROOT, "accuracy %.2f%% (%+.2f points)", 100 * acc, 100 * (acc - base)),
            Files.size(fp32), java.util.Arrays.equals(a, b));
      }
    }
    System.out.printf(Locale.ROOT, "load average at end: %.2f%n", load());
  }

  static List<Recipe> recipes() {
    return List.of(Recipe.plain(Preset.INT8), Recipe.gptq(Preset.INT8), Recipe.plain(Preset.INT4),
        Recipe.gptq(Preset.INT4), Recipe.gptqDepthwise8(Preset.INT4));
  }

  /**
   * Recipes by key: {@code int8, int8g, int8gb, int8gbp, int4, int4g, int4gb, int4gbp, int4gd, int4gdb}
   * (g: GPTQ, b: bias correction, p: the 5% most damaging weights lossless, P: the 25% most damaging at
   * 8 bits, d: depthwise at 8 bits, a: activation-aware scaling, e.g. {@code int4gba}).
   */
  static List<Recipe> select(String keys) {
    List<Recipe> out = new java.util.ArrayList<>();
    for (String k : keys.split("\\+")) {
      Preset p = k.startsWith("int8") ? Preset.INT8 : Preset.INT4;
      String f = k.substring(4);
      Recipe r = f.isEmpty() ? Recipe.plain(p) : f.contains("d") ? Recipe.gptqDepthwise8(p) : Recipe.gptq(p);
      r = f.contains("b") ? r.withBiasCorrection() : r;
      r = f.contains("p") ? r.protecting(0.05) : r;
      r = f.contains("P") ? r.promoting(0.25) : r;
      r = f.contains("a") ? r.withActivationScaling() : r;
      out.add(r);
    }
    return out;
  }

  private static void row(String model, Recipe r, CalibratedRun.Result res, String quality, long fp32Bytes,
      boolean same) {
    System.out.printf(Locale.ROOT, "| %s | %s | %.2fx | %s | %d bytes (%.2fx) | %s | %s |%n", model, r.label(),
        res.ratio(), quality, res.exportBytes(), fp32Bytes / (double) res.exportBytes(), same ? "yes" : "NO",
        res.calibrationMs() == 0 ? "" : String.format(Locale.ROOT, "%.1f s", res.calibrationMs() / 1000.0));
  }

  private static double load() {
    return ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage();
  }
}
