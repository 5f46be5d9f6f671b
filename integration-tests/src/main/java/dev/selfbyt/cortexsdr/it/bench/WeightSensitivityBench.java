package dev.selfbyt.cortexsdr.it.bench;

import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import dev.selfbyt.cortexsdr.converters.onnx.OnnxCalibrator;
import dev.selfbyt.cortexsdr.converters.onnx.OnnxModelReader;
import dev.selfbyt.cortexsdr.converters.onnx.OrtEnvironments;
import dev.selfbyt.cortexsdr.converters.onnx.OrtRunner;
import dev.selfbyt.cortexsdr.converters.onnx.WeightSensitivity;
import dev.selfbyt.cortexsdr.core.CompressionOptions;
import dev.selfbyt.cortexsdr.core.Preset;
import dev.selfbyt.cortexsdr.core.calibrate.Metrics;
import dev.selfbyt.cortexsdr.core.codec.QuantCodec;
import dev.selfbyt.cortexsdr.core.tensor.DType;
import dev.selfbyt.cortexsdr.core.tensor.TensorInfo;
import dev.selfbyt.cortexsdr.it.models.CalibratedRun;
import dev.selfbyt.cortexsdr.it.models.MobyDick;
import dev.selfbyt.cortexsdr.it.models.PeakAgreement;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Benchmark (a main): where a CNN's quantization error comes from, on M-LSD. For each model: the
 * noise floor (every weight rounded to fp16's precision), the preset's plain rounding, each
 * quantized weight's damage alone ({@link WeightSensitivity}, on calibration scenes), and the
 * preset with the {@code k} most damaging weights kept at fp32. Quality: mean cosine of each output
 * over 8 evaluation scenes and, for an output that is mostly zeros (peaks after the model's own
 * selection), the agreement of its peaks at or above 0.1 (intersection over union of the
 * positions, summed over the scenes).
 *
 * <pre>
 * java -cp integration-tests/target/benchmarks.jar dev.selfbyt.cortexsdr.it.bench.WeightSensitivityBench [work dir] [models] [preset]
 * </pre>
 */
public final class WeightSensitivityBench {
  private WeightSensitivityBench() {}

  static final float PEAK = 0.1f;
  private static int[][] hw;

  public static void main(String[] args) throws Exception {
    Path work = Files.createDirectories(Path.of(args.length > 0 ? args[0] : "integration-tests/target/sensitivity"));
    List<String> models = List.of((args.length > 1 ? args[1] : "mlsd_320x320_tiny,mlsd_320x320_large").split(","));
    Preset preset = Preset.parse(args.length > 2 ? args[2] : "int8");
    System.out.printf(Locale.ROOT, "load average at start: %.2f (2 cores)%n", load());
    for (String name : models) {
      Path fp32 = MobyDick.dataDir().resolve("mlsd/package/ONNX/" + name + ".onnx");
      List<Map<String, OnnxCalibrator.Input>> calib = CalibratedRun.scenes(fp32, 100, 16);
      List<Map<String, OnnxCalibrator.Input>> eval = CalibratedRun.scenes(fp32, 1, 8);
      List<List<float[]>> ref = outputs(fp32, eval);
      hw = maps(fp32);
      try (OnnxModelReader onnx = OnnxModelReader.open(fp32)) {
        Map<String, QuantCodec> codecs = WeightSensitivity.plannedCodecs(onnx,
            CompressionOptions.builder().preset(preset).build());
        long quantizedValues = 0;
        Map<String, TensorInfo> infos = new HashMap<>();
        for (TensorInfo t : onnx.tensors()) {
          infos.put(t.name(), t);
          if (codecs.containsKey(t.name())) {
            quantizedValues += t.numel();
          }
        }
        System.out.printf(Locale.ROOT, "%n%s: %d weights quantized by %s (%d values)%n", name, codecs.size(),
            preset.id(), quantizedValues);
        Map<String, float[]> fp16 = new LinkedHashMap<>();
        for (TensorInfo t : onnx.tensors()) {
          if (t.dtype() == DType.FLOAT32) {
            fp16.put(t.name(), fp16Precision(onnx.read(t).floats()));
          }
        }
        System.out.printf(Locale.ROOT, "| %s | fp32, ONNX Runtime on 1 thread (reference: 2) | %s |%n", name,
            quality(ref, outputs(fp32, eval, 1), hw));
        row(name, "every weight at fp16 precision", fp32, work, onnx, fp16, ref, eval);
        if (Boolean.getBoolean("fp16.each")) {
          List<WeightSensitivity.Effect> fe = WeightSensitivity.measure(onnx, t -> fp16.get(t.name()),
              calib.subList(0, 4), 2);
          print("each tensor alone at fp16 precision", fe, infos);
        }
        Map<String, float[]> rounded = new LinkedHashMap<>();
        var roundedBy = WeightSensitivity.roundedBy(onnx, codecs);
        for (String w : codecs.keySet()) {
          rounded.put(w, roundedBy.apply(infos.get(w)));
        }
        row(name, preset.id() + ", plain rounding", fp32, work, onnx, rounded, ref, eval);
        long t0 = System.nanoTime();
        List<WeightSensitivity.Effect> effects = WeightSensitivity.measure(onnx, roundedBy, calib.subList(0, 4), 2);
        System.out.printf(Locale.ROOT, "each weight alone at %s, 4 calibration scenes (%.1f s), most damaging first:%n",
            preset.id(), (System.nanoTime() - t0) / 1e9);
        print("", effects, infos);
        for (int k : new int[] {1, 2, 4, 8, 16}) {
          if (k > effects.size()) {
            break;
          }
          Map<String, float[]> keep = new LinkedHashMap<>(rounded);
          long kept = 0;
          for (WeightSensitivity.Effect e : effects.subList(0, k)) {
            keep.remove(e.tensor());
            kept += e.numel();
          }
          row(name, String.format(Locale.ROOT, "%s, %d worst at fp32 (%.1f%% of the values)", preset.id(), k,
              100.0 * kept / quantizedValues), fp32, work, onnx, keep, ref, eval);
        }
      }
    }
    System.out.printf(Locale.ROOT, "load average at end: %.2f%n", load());
  }

  private static void print(String title, List<WeightSensitivity.Effect> effects, Map<String, TensorInfo> infos) {
    if (!title.isEmpty()) {
      System.out.println(title + ", most damaging first:");
    }
    System.out.println("| weight | shape | cosines (one per output) |");
    System.out.println("|---|---|---|");
    for (WeightSensitivity.Effect e : effects.subList(0, Math.min(12, effects.size()))) {
      StringBuilder c = new StringBuilder();
      for (double v : e.cosines()) {
        c.append(c.length() == 0 ? "" : ", ").append(String.format(Locale.ROOT, "%.6f", v));
      }
      System.out.printf(Locale.ROOT, "| %s | %s | %s |%n", e.tensor(), Arrays.toString(infos.get(e.tensor()).shape()),
          c);
    }
  }

  private static void row(String model, String label, Path fp32, Path work, OnnxModelReader onnx,
      Map<String, float[]> replaced, List<List<float[]>> ref, List<Map<String, OnnxCalibrator.Input>> eval)
      throws Exception {
    Path f = work.resolve(model + "-variant.onnx");
    WeightSensitivity.writeWith(onnx, replaced, f);
    System.out.printf(Locale.ROOT, "| %s | %s | %s |%n", model, label, quality(ref, outputs(f, eval), hw));
  }

  /** Mean cosine per output, and peak agreement for the sparse ones. */
  static String quality(List<List<float[]>> ref, List<List<float[]>> got) {
    return quality(ref, got, null);
  }

  /**
   * As {@link #quality(List, List)}; {@code hw} gives each output's map height and width (its two
   * dimensions above 1, null for others) for peaks matched within a pixel.
   */
  static String quality(List<List<float[]>> ref, List<List<float[]>> got, int[][] hw) {
    int outs = ref.get(0).size();
    StringBuilder b = new StringBuilder();
    for (int j = 0; j < outs; j++) {
      double cos = 0;
      int[] counts = new int[3];
      int[] near = new int[4];
      boolean sparse = true;
      for (int i = 0; i < ref.size(); i++) {
        cos += Metrics.cosine(ref.get(i).get(j), got.get(i).get(j)) / ref.size();
        sparse &= PeakAgreement.isSparse(ref.get(i).get(j), 0.9);
        int[] c = PeakAgreement.counts(ref.get(i).get(j), got.get(i).get(j), PEAK);
        for (int x = 0; x < 3; x++) {
          counts[x] += c[x];
        }
        if (hw != null && hw[j] != null) {
          int[] n = PeakAgreement.near(ref.get(i).get(j), got.get(i).get(j), hw[j][0], hw[j][1], PEAK, 1);
          for (int x = 0; x < 4; x++) {
            near[x] += n[x];
          }
        }
      }
      b.append(j == 0 ? "" : ", ").append(String.format(Locale.ROOT, "out%d %.5f", j, cos));
      if (sparse) {
        b.append(String.format(Locale.ROOT, " (peaks >= %.1f: %d vs %d, same pixel IoU %.3f", PEAK, counts[0],
            counts[1], PeakAgreement.jaccard(counts)));
        if (hw != null && hw[j] != null) {
          b.append(String.format(Locale.ROOT, "; within 1 px: recall %.3f, precision %.3f",
              near[0] == 0 ? 1 : near[2] / (double) near[0], near[1] == 0 ? 1 : near[3] / (double) near[1]));
        }
        b.append(')');
      }
    }
    return b.toString();
  }

  /** Every output of {@code model} on each sample, from one session. */
  static List<List<float[]>> outputs(Path model, List<Map<String, OnnxCalibrator.Input>> samples) throws Exception {
    return outputs(model, samples, 2);
  }

  /** As {@link #outputs(Path, List)} with {@code threads} intra-op threads. */
  static List<List<float[]>> outputs(Path model, List<Map<String, OnnxCalibrator.Input>> samples, int threads)
      throws Exception {
    OrtEnvironment env = OrtEnvironments.get();
    List<List<float[]>> out = new ArrayList<>();
    try (OrtSession.SessionOptions o = new OrtSession.SessionOptions()) {
      o.setIntraOpNumThreads(threads);
      try (OrtSession s = env.createSession(model.toString(), o)) {
        for (Map<String, OnnxCalibrator.Input> sample : samples) {
          out.add(new ArrayList<>(OrtRunner.run(env, s, sample).values()));
        }
      }
    }
    return out;
  }

  /** Each output's map height and width: its only two dimensions above 1, else null. */
  static int[][] maps(Path model) throws Exception {
    OrtEnvironment env = OrtEnvironments.get();
    try (OrtSession s = env.createSession(model.toString(), new OrtSession.SessionOptions())) {
      int[][] out = new int[(int) s.getNumOutputs()][];
      int j = 0;
      for (var info : s.getOutputInfo().values()) {
        if (info.getInfo() instanceof ai.onnxruntime.TensorInfo t) {
          long[] big = Arrays.stream(t.getShape()).filter(d -> d > 1).toArray();
          out[j] = big.length == 2 ? new int[] {(int) big[0], (int) big[1]} : null;
        }
        j++;
      }
      return out;
    }
  }

  /** Rounds to fp16's 11 significant bits (ties away from zero; range not clipped: weights are small). */
  static float[] fp16Precision(float[] x) {
    float[] y = new float[x.length];
    for (int i = 0; i < x.length; i++) {
      int b = Float.floatToRawIntBits(x[i]);
      y[i] = Float.intBitsToFloat((b + 0x1000) & ~0x1FFF);
    }
    return y;
  }

  private static double load() {
    return ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage();
  }
}
