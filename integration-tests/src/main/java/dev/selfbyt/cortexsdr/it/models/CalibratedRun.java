package dev.selfbyt.cortexsdr.it.models;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import dev.selfbyt.cortexsdr.converters.onnx.ConvWeights;
import dev.selfbyt.cortexsdr.converters.onnx.OnnxCalibrator;
import dev.selfbyt.cortexsdr.converters.onnx.OnnxModelReader;
import dev.selfbyt.cortexsdr.converters.onnx.OrtEnvironments;
import dev.selfbyt.cortexsdr.converters.onnx.OrtVersion;
import dev.selfbyt.cortexsdr.converters.onnx.QuantizedOnnxExporter;
import dev.selfbyt.cortexsdr.converters.onnx.SensitiveWeights;
import dev.selfbyt.cortexsdr.core.CompressionOptions;
import dev.selfbyt.cortexsdr.core.CompressionStats;
import dev.selfbyt.cortexsdr.core.CortexSdr;
import dev.selfbyt.cortexsdr.core.Preset;
import dev.selfbyt.cortexsdr.core.codec.QuantCodec;
import dev.selfbyt.cortexsdr.core.format.CaiReader;
import dev.selfbyt.cortexsdr.core.tensor.TensorSource;
import java.io.IOException;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * One compression of a convolutional or recurrent model as a user runs it, for the calibration
 * tests and {@code LayerCalibrationBench}: a preset, optionally calibrated (GPTQ on every Conv,
 * Gemm, LSTM and MatMul weight, {@link OnnxCalibrator}) and optionally with depthwise convolutions
 * kept at 8 bits; then the quantized ONNX export for the default target ({@link OrtVersion#OLDEST})
 * and for the newest, whose outputs are what the caller measures.
 */
public final class CalibratedRun {
  /** How a model is compressed. */
  public record Recipe(String label, Preset preset, boolean calibrated, boolean depthwise8, boolean biasCorrected,
      double protectShare, double promoteShare, boolean activationScaled) {
    /** A recipe without activation scaling. */
    public Recipe(String label, Preset preset, boolean calibrated, boolean depthwise8, boolean biasCorrected,
        double protectShare, double promoteShare) {
      this(label, preset, calibrated, depthwise8, biasCorrected, protectShare, promoteShare, false);
    }

    /** A recipe that promotes no weight to 8 bits. */
    public Recipe(String label, Preset preset, boolean calibrated, boolean depthwise8, boolean biasCorrected,
        double protectShare) {
      this(label, preset, calibrated, depthwise8, biasCorrected, protectShare, 0);
    }

    /** The preset plain, as {@code compress --preset} gives it. */
    public static Recipe plain(Preset p) {
      return new Recipe(p.id(), p, false, false, false, 0);
    }

    /** The preset with GPTQ on the calibration samples. */
    public static Recipe gptq(Preset p) {
      return new Recipe(p.id() + " + GPTQ", p, true, false, false, 0);
    }

    /** GPTQ, depthwise convolutions at 8 bits (symmetric, one scale per channel: blocks of 64 along fibers of 9 or 25). */
    public static Recipe gptqDepthwise8(Preset p) {
      return new Recipe(p.id() + " + GPTQ, depthwise int8", p, true, true, false, 0);
    }

    /** This recipe with bias correction after GPTQ ({@code OnnxCalibrator#biasCorrection}). */
    public Recipe withBiasCorrection() {
      return new Recipe(label + " + bias corr.", preset, calibrated, depthwise8, true, protectShare, promoteShare,
          activationScaled);
    }

    /**
     * This recipe with activation-aware scaling ({@code OnnxCalibrator#activationScaling}: MatMul,
     * Conv, Gemm and recurrent inputs, each kept only where it lowers the layer's error after GPTQ).
     */
    public Recipe withActivationScaling() {
      return new Recipe(label + " + act. scaling", preset, calibrated, depthwise8, biasCorrected, protectShare,
          promoteShare, true);
    }

    /**
     * This recipe with the most damaging weights (each rounded alone, measured on 4 calibration
     * samples, {@code SensitiveWeights}) kept lossless, within {@code share} of the quantized values.
     */
    public Recipe protecting(double share) {
      return new Recipe(label + String.format(java.util.Locale.ROOT, " + worst %.0f%% lossless", 100 * share), preset,
          calibrated, depthwise8, biasCorrected, share, promoteShare, activationScaled);
    }

    /**
     * This recipe with the most damaging weights (as for {@link #protecting}) at 8 bits (symmetric,
     * blocks of 64) instead of lossless, within {@code share} of the quantized values.
     */
    public Recipe promoting(double share) {
      return new Recipe(label + String.format(java.util.Locale.ROOT, " + worst %.0f%% at 8 bits", 100 * share), preset,
          calibrated, depthwise8, biasCorrected, protectShare, share, activationScaled);
    }
  }

  /**
   * The result of one recipe.
   *
   * @param ratio the {@code .cai} compression ratio
   * @param exportBytes size of the quantized ONNX export for the default target
   * @param export that file
   * @param newestExport the export for ONNX Runtime 1.29's forms
   * @param calibrationMs time spent calibrating (0 when not calibrated)
   */
  public record Result(Recipe recipe, double ratio, long exportBytes, Path export, Path newestExport,
      long calibrationMs) {}

  private CalibratedRun() {}

  /** Compresses {@code fp32} by {@code recipe} into {@code work} and exports it both ways. */
  public static Result run(Path fp32, Recipe recipe, List<Map<String, OnnxCalibrator.Input>> samples, Path work)
      throws IOException {
    String stem = fp32.getFileName().toString().replace(".onnx", "") + "-"
        + recipe.label().replaceAll("[^A-Za-z0-9]+", "_");
    Path cai = work.resolve(stem + ".cai");
    CompressionStats stats;
    long calibrationMs = 0;
    try (OnnxModelReader onnx = OnnxModelReader.open(fp32)) {
      CompressionOptions.Builder b = CompressionOptions.builder().preset(recipe.preset()).threads(2);
      if (recipe.depthwise8()) {
        for (String w : ConvWeights.depthwise(onnx)) {
          b.override(Pattern.quote(w), QuantCodec.blockwise(8, true, 64));
        }
      }
      long t0 = System.nanoTime();
      if (recipe.protectShare() > 0) {
        for (String w : SensitiveWeights.mostDamaging(onnx, b.build(), samples.subList(0, Math.min(4, samples.size())),
            2, recipe.protectShare())) {
          b.protect(Pattern.quote(w));
        }
        calibrationMs = (System.nanoTime() - t0) / 1_000_000;
      }
      if (recipe.promoteShare() > 0) {
        for (String w : SensitiveWeights.mostDamaging(onnx, b.build(), samples.subList(0, Math.min(4, samples.size())),
            2, recipe.promoteShare())) {
          b.override(Pattern.quote(w), QuantCodec.blockwise(8, true, 64));
        }
        calibrationMs = (System.nanoTime() - t0) / 1_000_000;
      }
      CompressionOptions options = b.build();
      TensorSource source = onnx;
      if (recipe.calibrated()) {
        source = OnnxCalibrator.forOptions(onnx, options, 0.01, 2).biasCorrection(recipe.biasCorrected())
            .activationScaling(recipe.activationScaled()).calibrate(samples);
        calibrationMs = (System.nanoTime() - t0) / 1_000_000;
      }
      stats = CortexSdr.compress(source, cai, options);
    }
    Path export = work.resolve(stem + "-q.onnx");
    Path newest = work.resolve(stem + "-q129.onnx");
    try (CaiReader r = CaiReader.open(cai)) {
      QuantizedOnnxExporter.export(r, export, 0, OrtVersion.OLDEST);
      QuantizedOnnxExporter.export(r, newest, 0, OrtVersion.NEWEST);
    }
    return new Result(recipe, stats.ratio(), Files.size(export), export, newest, calibrationMs);
  }

  /** Every output of {@code model} for one sample, flattened (float32 outputs). */
  public static List<float[]> outputs(Path model, Map<String, OnnxCalibrator.Input> sample) throws Exception {
    OrtEnvironment env = OrtEnvironments.get();
    try (OrtSession.SessionOptions o = new OrtSession.SessionOptions()) {
      o.setIntraOpNumThreads(2);
      try (OrtSession s = env.createSession(model.toString(), o)) {
        Map.Entry<String, OnnxCalibrator.Input> in = sample.entrySet().iterator().next();
        try (OnnxTensor t = OnnxTensor.createTensor(env, FloatBuffer.wrap(in.getValue().fp32()), in.getValue().shape());
            OrtSession.Result r = s.run(Map.of(in.getKey(), t))) {
          List<float[]> out = new ArrayList<>();
          for (var v : r) {
            if (v.getValue() instanceof OnnxTensor ot && ot.getInfo().type == ai.onnxruntime.OnnxJavaType.FLOAT) {
              FloatBuffer fb = ot.getFloatBuffer();
              float[] x = new float[fb.remaining()];
              fb.get(x);
              out.add(x);
            }
          }
          return out;
        }
      }
    }
  }

  /** M-LSD's calibration or evaluation scenes: one {@code [1, h, w, 4]} scene per seed. */
  public static List<Map<String, OnnxCalibrator.Input>> scenes(Path mlsd, long firstSeed, int count)
      throws Exception {
    OrtEnvironment env = OrtEnvironments.get();
    String name;
    long[] shape;
    try (OrtSession s = env.createSession(mlsd.toString(), new OrtSession.SessionOptions())) {
      name = s.getInputNames().iterator().next();
      shape = ((ai.onnxruntime.TensorInfo) s.getInputInfo().get(name).getInfo()).getShape();
    }
    List<Map<String, OnnxCalibrator.Input>> out = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      out.add(Map.of(name, OnnxCalibrator.Input.ofFloats(shape, LineScenes.scene(shape, firstSeed + i))));
    }
    return out;
  }

  /** Mean cosine to {@code reference}'s outputs, per output, over {@code samples}. */
  public static double[] meanCosines(Path reference, Path model, List<Map<String, OnnxCalibrator.Input>> samples)
      throws Exception {
    double[] sum = null;
    for (Map<String, OnnxCalibrator.Input> s : samples) {
      List<float[]> a = outputs(reference, s);
      List<float[]> b = outputs(model, s);
      if (sum == null) {
        sum = new double[a.size()];
      }
      for (int i = 0; i < a.size(); i++) {
        sum[i] += Embedder.cosine(a.get(i), b.get(i));
      }
    }
    for (int i = 0; i < sum.length; i++) {
      sum[i] /= samples.size();
    }
    return sum;
  }
}
