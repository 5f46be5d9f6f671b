package dev.selfbyt.cortexsdr.cli;

import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import ai.onnx.proto.OnnxMl.TensorShapeProto;
import ai.onnx.proto.OnnxMl.ValueInfoProto;
import dev.selfbyt.cortexsdr.converters.onnx.OnnxCalibrator;
import dev.selfbyt.cortexsdr.converters.onnx.OnnxModelReader;
import dev.selfbyt.cortexsdr.core.format.CaiException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Calibration inputs for {@code compress --calibrate}: lines of a text file tokenized with the
 * model's {@code tokenizer.json}, or seeded random inputs shaped after the model's inputs.
 */
final class CalibrationInputs {
  private CalibrationInputs() {}

  static List<Map<String, OnnxCalibrator.Input>> load(OnnxModelReader model, Path modelPath, String spec,
      Path tokenizer, int count) throws IOException {
    if (spec.equals("random")) {
      return random(model, count);
    }
    Path p = Path.of(spec);
    if (Files.isDirectory(p)) {
      throw new CaiException(p.toString(), null, "calibrating from a folder of images is not supported yet; "
          + "give a text file (one sample per line) or 'random'");
    }
    if (!Files.isRegularFile(p)) {
      throw new CaiException(p.toString(), null, "no such calibration file");
    }
    Path tok = tokenizer != null ? tokenizer : findTokenizer(modelPath);
    List<String> lines = new ArrayList<>();
    for (String line : Files.readAllLines(p)) {
      if (!line.isBlank()) {
        lines.add(line.strip());
      }
      if (lines.size() == count) {
        break;
      }
    }
    if (lines.isEmpty()) {
      throw new CaiException(p.toString(), null, "the calibration file has no text");
    }
    List<Map<String, OnnxCalibrator.Input>> out = new ArrayList<>();
    try (HuggingFaceTokenizer t = HuggingFaceTokenizer.builder().optTokenizerPath(tok).optMaxLength(256)
        .optTruncation(true).optPadding(false).build()) {
      for (String line : lines) {
        Encoding e = t.encode(line);
        long[] shape = {1, e.getIds().length};
        out.add(Map.of("input_ids", OnnxCalibrator.Input.ofLongs(shape, e.getIds()),
            "attention_mask", OnnxCalibrator.Input.ofLongs(shape, e.getAttentionMask()),
            "token_type_ids", OnnxCalibrator.Input.ofLongs(shape, e.getTypeIds())));
      }
    }
    return out;
  }

  private static Path findTokenizer(Path model) throws CaiException {
    Path dir = model.toAbsolutePath().getParent();
    String base = model.getFileName().toString().replaceFirst("\\.onnx$", "");
    for (Path p : List.of(dir.resolve(base + "-tokenizer.json"), dir.resolve("tokenizer.json"))) {
      if (Files.isRegularFile(p)) {
        return p;
      }
    }
    throw new CaiException(model.toString(), null, "no tokenizer.json beside the model for --calibrate text; "
        + "give one with --tokenizer");
  }

  /** Seeded random inputs: int64 ids below 1000 (sequence length 32 where dynamic), floats in [-1, 1]. */
  private static List<Map<String, OnnxCalibrator.Input>> random(OnnxModelReader model, int count) {
    SplittableRandom r = new SplittableRandom(42);
    java.util.Set<String> weights = new java.util.HashSet<>();
    model.tensors().forEach(t -> weights.add(t.name()));
    List<Map<String, OnnxCalibrator.Input>> out = new ArrayList<>();
    for (int s = 0; s < count; s++) {
      Map<String, OnnxCalibrator.Input> sample = new HashMap<>();
      for (ValueInfoProto in : model.strippedModel().getGraph().getInputList()) {
        if (weights.contains(in.getName())) {
          continue;
        }
        List<TensorShapeProto.Dimension> dims = in.getType().getTensorType().getShape().getDimList();
        long[] shape = new long[dims.size()];
        int n = 1;
        for (int i = 0; i < shape.length; i++) {
          long d = dims.get(i).hasDimValue() ? dims.get(i).getDimValue() : (i == 0 ? 1 : 32);
          shape[i] = d;
          n *= d;
        }
        int type = in.getType().getTensorType().getElemType();
        if (type == 7) { // int64
          long[] v = new long[n];
          for (int i = 0; i < n; i++) {
            v[i] = in.getName().contains("mask") ? 1 : in.getName().contains("type") ? 0 : r.nextInt(1000);
          }
          sample.put(in.getName(), OnnxCalibrator.Input.ofLongs(shape, v));
        } else {
          float[] v = new float[n];
          for (int i = 0; i < n; i++) {
            v[i] = (float) r.nextDouble(-1, 1);
          }
          sample.put(in.getName(), OnnxCalibrator.Input.ofFloats(shape, v));
        }
      }
      out.add(sample);
    }
    return out;
  }
}
