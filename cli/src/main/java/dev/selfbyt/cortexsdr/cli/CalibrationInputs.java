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
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Calibration inputs for {@code compress --calibrate}: lines of a text file tokenized with the
 * model's {@code tokenizer.json}, a folder of images (JPEG, PNG, BMP, GIF) resized to the model's
 * image input, or seeded random inputs shaped after the model's inputs.
 */
final class CalibrationInputs {
  private CalibrationInputs() {}

  /** How image pixels map to input values. */
  enum ImageRange {
    /** 0 to 1. */
    UNIT("0,1"),
    /** -1 to 1. */
    SIGNED("-1,1"),
    /** 0 to 255. */
    BYTE("0,255"),
    /** 0 to 1, then ImageNet's per-channel mean and standard deviation. */
    IMAGENET("imagenet");

    final String label;

    ImageRange(String label) {
      this.label = label;
    }

    static ImageRange parse(String s) {
      for (ImageRange r : values()) {
        if (r.label.equals(s)) {
          return r;
        }
      }
      throw new IllegalArgumentException("--image-range must be 0,1 | -1,1 | 0,255 | imagenet, got " + s);
    }

    private static final float[] MEAN = {0.485f, 0.456f, 0.406f};
    private static final float[] STD = {0.229f, 0.224f, 0.225f};

    /** A channel value (0-255) of channel {@code c} as the model takes it. */
    float map(int v, int c) {
      float u = v / 255f;
      return switch (this) {
        case UNIT -> u;
        case SIGNED -> u * 2 - 1;
        case BYTE -> v;
        case IMAGENET -> c < 3 ? (u - MEAN[c]) / STD[c] : u;
      };
    }
  }

  static List<Map<String, OnnxCalibrator.Input>> load(OnnxModelReader model, Path modelPath, String spec,
      Path tokenizer, int count, ImageRange range) throws IOException {
    return load(model, modelPath, spec, tokenizer, count, range, false);
  }

  /**
   * @param batches text: also padded batches of {@value #BATCH} lines, before the single lines (for
   *     int8 activations, whose one range per tensor spans a whole batch, padding included)
   */
  static List<Map<String, OnnxCalibrator.Input>> load(OnnxModelReader model, Path modelPath, String spec,
      Path tokenizer, int count, ImageRange range, boolean batches) throws IOException {
    if (spec.equals("random")) {
      return random(model, count);
    }
    Path p = Path.of(spec);
    if (Files.isDirectory(p)) {
      return images(model, p, count, range);
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
    // padded batches first (the calibrators measure on the first samples): in a batch the padding
    // positions are activations too, and one range per tensor spans them all
    try (HuggingFaceTokenizer t = HuggingFaceTokenizer.builder().optTokenizerPath(tok).optMaxLength(256)
        .optTruncation(true).optPadding(true).build()) {
      for (int i = 0; batches && i + 1 < lines.size(); i += BATCH) {
        out.add(text(t.batchEncode(lines.subList(i, Math.min(lines.size(), i + BATCH)))));
      }
    }
    try (HuggingFaceTokenizer t = HuggingFaceTokenizer.builder().optTokenizerPath(tok).optMaxLength(256)
        .optTruncation(true).optPadding(false).build()) {
      for (String line : lines) {
        out.add(text(t.encode(line)));
      }
    }
    return out;
  }

  /** The text input that marks padding positions with 0. */
  static final String TEXT_MASK = "attention_mask";

  /** Sentences per padded calibration batch. */
  static final int BATCH = 16;

  /** Encodings of equal length as one input batch (ids, mask, token types). */
  private static Map<String, OnnxCalibrator.Input> text(Encoding... batch) {
    return Map.of(
        "input_ids", OnnxCalibrator.Input.ofRows(Arrays.stream(batch).map(Encoding::getIds).toArray(long[][]::new)),
        TEXT_MASK, OnnxCalibrator.Input.ofRows(Arrays.stream(batch).map(Encoding::getAttentionMask)
            .toArray(long[][]::new)),
        "token_type_ids", OnnxCalibrator.Input.ofRows(Arrays.stream(batch).map(Encoding::getTypeIds)
            .toArray(long[][]::new)));
  }


  /**
   * Images of a folder (sorted by name, up to {@code count}) as the model's one float image input:
   * rank 4, channels first ({@code [N, C, H, W]}) or last ({@code [N, H, W, C]}) with C of 1
   * (grey), 3 (RGB) or 4 (RGBA, opaque where the image has no alpha); dynamic sizes become 224.
   */
  static List<Map<String, OnnxCalibrator.Input>> images(OnnxModelReader model, Path folder, int count,
      ImageRange range) throws IOException {
    java.util.Set<String> weights = new java.util.HashSet<>();
    model.tensors().forEach(t -> weights.add(t.name()));
    List<ValueInfoProto> inputs = new ArrayList<>();
    for (ValueInfoProto in : model.strippedModel().getGraph().getInputList()) {
      if (!weights.contains(in.getName())) {
        inputs.add(in);
      }
    }
    if (inputs.size() != 1 || inputs.get(0).getType().getTensorType().getElemType() != 1
        || inputs.get(0).getType().getTensorType().getShape().getDimCount() != 4) {
      throw new CaiException(model.location(), null, "calibrating from images needs a model with one float input "
          + "of rank 4; this one has " + inputs.size() + " input(s)");
    }
    ValueInfoProto in = inputs.get(0);
    List<TensorShapeProto.Dimension> dims = in.getType().getTensorType().getShape().getDimList();
    long[] d = new long[4];
    for (int i = 0; i < 4; i++) {
      d[i] = dims.get(i).hasDimValue() ? dims.get(i).getDimValue() : -1;
    }
    boolean channelsFirst = d[1] >= 1 && d[1] <= 4 && !(d[3] >= 1 && d[3] <= 4);
    int c = (int) (channelsFirst ? d[1] : d[3]);
    if (c != 1 && c != 3 && c != 4) {
      throw new CaiException(model.location(), in.getName(), "calibrating from images needs 1, 3 or 4 channels "
          + "first or last; the input is " + java.util.Arrays.toString(d));
    }
    int h = (int) (channelsFirst ? d[2] : d[1]);
    int w = (int) (channelsFirst ? d[3] : d[2]);
    h = h > 0 ? h : 224;
    w = w > 0 ? w : 224;
    List<Path> files;
    try (var list = Files.list(folder)) {
      files = list.filter(f -> f.getFileName().toString().toLowerCase(java.util.Locale.ROOT)
          .matches(".*\\.(jpe?g|png|bmp|gif)")).sorted().limit(count).toList();
    }
    if (files.isEmpty()) {
      throw new CaiException(folder.toString(), null, "no images (jpg, png, bmp, gif) in the calibration folder");
    }
    long[] shape = channelsFirst ? new long[] {1, c, h, w} : new long[] {1, h, w, c};
    List<Map<String, OnnxCalibrator.Input>> out = new ArrayList<>();
    for (Path f : files) {
      java.awt.image.BufferedImage img = javax.imageio.ImageIO.read(f.toFile());
      if (img == null) {
        throw new CaiException(f.toString(), null, "not an image this JVM can read");
      }
      java.awt.image.BufferedImage scaled = new java.awt.image.BufferedImage(w, h,
          java.awt.image.BufferedImage.TYPE_INT_ARGB);
      java.awt.Graphics2D g = scaled.createGraphics();
      g.setRenderingHint(java.awt.RenderingHints.KEY_INTERPOLATION,
          java.awt.RenderingHints.VALUE_INTERPOLATION_BILINEAR);
      g.drawImage(img, 0, 0, w, h, null);
      g.dispose();
      float[] v = new float[c * h * w];
      for (int y = 0; y < h; y++) {
        for (int x = 0; x < w; x++) {
          int argb = scaled.getRGB(x, y);
          int[] ch = {(argb >> 16) & 0xff, (argb >> 8) & 0xff, argb & 0xff, (argb >>> 24) & 0xff};
          if (c == 1) {
            ch[0] = Math.round(0.299f * ch[0] + 0.587f * ch[1] + 0.114f * ch[2]);
          }
          for (int k = 0; k < c; k++) {
            int idx = channelsFirst ? (k * h + y) * w + x : (y * w + x) * c + k;
            v[idx] = range.map(ch[k], k);
          }
        }
      }
      out.add(Map.of(in.getName(), OnnxCalibrator.Input.ofFloats(shape, v)));
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
