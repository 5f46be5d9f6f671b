package dev.selfbyt.cortexsdr.it.models;

import ai.djl.huggingface.tokenizers.Encoding;
import dev.selfbyt.cortexsdr.converters.onnx.Int8FastCalibrator;
import dev.selfbyt.cortexsdr.converters.onnx.OnnxCalibrator;
import dev.selfbyt.cortexsdr.converters.onnx.OnnxModelReader;
import dev.selfbyt.cortexsdr.core.CompressionOptions;
import dev.selfbyt.cortexsdr.core.CortexSdr;
import dev.selfbyt.cortexsdr.core.Preset;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * {@code --preset int8-fast} files of the real text encoders, made as {@code cortexsdr compress
 * --preset int8-fast --calibrate sentences.txt} makes them with its default {@code
 * --calibration-samples 256}: calibrated on 256 Moby-Dick sentences that the reports never
 * evaluate on (sentences 300 to 555; the reports use 0 to 299). One place for the ONNX Runtime
 * table and the DJL engine report, so both measure the same file.
 *
 * <p>Measured on all-MiniLM-L6-v2 (ONNX Runtime 1.29, 200 evaluation sentences, cosine to fp32,
 * one at a time / in padded batches of 32): calibrated on 64 sentences 0.9977 / 0.9909 and 0.9969
 * / 0.9931; on 192, 0.9976 / 0.9952 and 0.9973 / 0.9946; on 256, 0.9976 / 0.9954 and 0.9972 /
 * 0.9951. Fewer sentences see fewer of the rare tokens that set an activation's range.
 */
public final class Int8FastFiles {
  private Int8FastFiles() {}

  /** The first calibration sentence: the evaluation sets of the reports stay below it. */
  public static final int CALIBRATION_OFFSET = 300;
  /** Calibration sentences: {@code compress}'s default {@code --calibration-samples}. */
  public static final int CALIBRATION_SENTENCES = 256;

  /** The text-calibrated int8-fast {@code .cai} of {@code model} in {@code dir}, made once. */
  public static Path textCalibrated(RealModel model, Path dir) throws Exception {
    Path cai = dir.resolve("int8-fast-text.cai");
    if (!Files.exists(cai)) {
      List<String> text = MobyDick.sentences(CALIBRATION_SENTENCES, CALIBRATION_OFFSET);
      List<Map<String, OnnxCalibrator.Input>> samples = new ArrayList<>();
      // as `compress --preset int8-fast --calibrate` does: padded batches of 16 first, then each sentence
      try (ai.djl.huggingface.tokenizers.HuggingFaceTokenizer t = ai.djl.huggingface.tokenizers.HuggingFaceTokenizer
          .builder().optTokenizerPath(model.tokenizer(dir)).optMaxLength(128).optTruncation(true).optPadding(true)
          .build()) {
        for (int i = 0; i < text.size(); i += 16) {
          samples.add(Embedder.input(t.batchEncode(text.subList(i, Math.min(text.size(), i + 16)))));
        }
      }
      for (Encoding e : Embedder.encodeAll(model.tokenizer(dir), 128, text)) {
        samples.add(Embedder.input(e));
      }
      compress(model.onnx(dir), cai, samples);
    }
    return cai;
  }

  /**
   * The int8-fast {@code .cai} of {@code model} in {@code dir} as {@code compress --preset
   * int8-fast} makes it without {@code --calibrate} (on {@link #randomInputs}), made once.
   */
  public static Path randomCalibrated(RealModel model, Path dir) throws Exception {
    Path cai = dir.resolve("int8-fast.cai");
    if (!Files.exists(cai)) {
      compress(model.onnx(dir), cai, randomInputs());
    }
    return cai;
  }

  /**
   * What {@code compress --preset int8-fast} calibrates a text encoder on without {@code
   * --calibrate}: the CLI's {@code CalibrationInputs.random}, 256 inputs of 32 token ids below 1000,
   * seed 42.
   */
  public static List<Map<String, OnnxCalibrator.Input>> randomInputs() {
    java.util.SplittableRandom rnd = new java.util.SplittableRandom(42);
    List<Map<String, OnnxCalibrator.Input>> out = new ArrayList<>();
    for (int i = 0; i < 256; i++) {
      long[] ids = new long[32];
      for (int j = 0; j < ids.length; j++) {
        ids[j] = rnd.nextInt(1000);
      }
      long[] mask = new long[32];
      java.util.Arrays.fill(mask, 1);
      long[] shape = {1, 32};
      out.add(Map.of("input_ids", OnnxCalibrator.Input.ofLongs(shape, ids),
          "attention_mask", OnnxCalibrator.Input.ofLongs(shape, mask),
          "token_type_ids", OnnxCalibrator.Input.ofLongs(shape, new long[32])));
    }
    return out;
  }

  /** Compresses {@code fp32} at int8-fast, calibrated on {@code calibration} (2 threads), temp file then rename. */
  public static void compress(Path fp32, Path cai, List<Map<String, OnnxCalibrator.Input>> calibration)
      throws Exception {
    CompressionOptions.Builder b = CompressionOptions.builder().preset(Preset.INT8_FAST).threads(2);
    Path tmp = cai.resolveSibling(cai.getFileName() + ".tmp");
    try (OnnxModelReader onnx = OnnxModelReader.open(fp32)) {
      long t0 = System.nanoTime();
      Int8FastCalibrator.Result r = new Int8FastCalibrator(onnx, b.build(), 2).outputMask("attention_mask")
          .onProgress(s -> System.err.println("  " + s))
          .calibrate(calibration, b);
      CortexSdr.compress(r.source(), tmp, r.options());
      System.err.printf(Locale.ROOT, "%s -> %s: %d weight-only %s, calibration cosine %.5f / %.5f, %.0f s%n",
          fp32.getFileName(), cai.getFileName(), r.weightOnly().size(), r.weightOnly(), r.meanCosine(),
          r.minCosine(), (System.nanoTime() - t0) / 1e9);
    }
    Files.move(tmp, cai, StandardCopyOption.REPLACE_EXISTING);
  }
}
