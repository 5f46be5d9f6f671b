package dev.selfbyt.cortexsdr.cli;

import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import ai.onnx.proto.OnnxMl.TensorShapeProto;
import ai.onnx.proto.OnnxMl.ValueInfoProto;
import dev.selfbyt.cortexsdr.converters.onnx.ModelInputs;
import dev.selfbyt.cortexsdr.converters.onnx.ModelTrial;
import dev.selfbyt.cortexsdr.converters.onnx.OnnxCalibrator;
import dev.selfbyt.cortexsdr.converters.onnx.OutputCheck;
import dev.selfbyt.cortexsdr.converters.onnx.RandomInputs;
import dev.selfbyt.cortexsdr.converters.onnx.StatefulStreams;
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
 * Calibration inputs for {@code compress --calibrate} and samples for its output check: lines of
 * a text file tokenized with the model's {@code tokenizer.json}; a folder of images (JPEG, PNG,
 * BMP, GIF) resized to the model's image input; a folder of {@code .npy} (single-input models) or
 * {@code .npz} files (one array per input, by name), one sample each; a folder of 16-bit PCM
 * {@code .wav} files, resampled to the model's rate and cut to its input length; or seeded random
 * inputs ({@link RandomInputs}). For a stateful model ({@link StatefulStreams}) the samples of a
 * file (the chunks of a wav) or of the whole set form a stream with the state carried.
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

  /**
   * What to load.
   *
   * @param spec a text file, a folder (images, .npy/.npz, .wav), or {@code random}
   * @param batches text: also padded batches of {@value #BATCH} lines, before the single lines (for
   *     int8 activations, whose one range per tensor spans a whole batch, padding included)
   * @param shapes input shapes given by the user (random data, audio chunk length, state sizes)
   * @param sampleRate the model's audio rate when its metadata does not say, else null
   * @param state state output to input, given by the user; null detects them
   * @param seed random data's seed
   */
  record Request(Path modelPath, String spec, Path tokenizer, int count, ImageRange range, boolean batches,
      Map<String, long[]> shapes, Integer sampleRate, Map<String, String> state, int threads, long seed) {
    static Request of(Path modelPath, String spec, Path tokenizer, int count, ImageRange range, boolean batches) {
      return new Request(modelPath, spec, tokenizer, count, range, batches, Map.of(), null, null, 1, 42);
    }
  }

  /**
   * Loaded samples.
   *
   * @param samples independent samples for the calibrators (a stream's steps with their state)
   * @param streams the same data as streams, for the output check
   * @param description what the samples are, for messages and the manifest
   */
  record Loaded(List<Map<String, OnnxCalibrator.Input>> samples, List<OutputCheck.Stream> streams,
      String description) {}

  static List<Map<String, OnnxCalibrator.Input>> load(OnnxModelReader model, Path modelPath, String spec,
      Path tokenizer, int count, ImageRange range) throws IOException {
    return load(model, modelPath, spec, tokenizer, count, range, false);
  }

  static List<Map<String, OnnxCalibrator.Input>> load(OnnxModelReader model, Path modelPath, String spec,
      Path tokenizer, int count, ImageRange range, boolean batches) throws IOException {
    return load(model, Request.of(modelPath, spec, tokenizer, count, range, batches)).samples();
  }

  /** Loads what {@code r} asks for. */
  static Loaded load(OnnxModelReader model, Request r) throws IOException {
    try (ModelTrial trial = new ModelTrial(r.modelPath(), r.threads())) {
      return load(model, r, trial);
    } catch (ai.onnxruntime.OrtException e) {
      throw new CaiException(r.modelPath().toString(), null, e.getMessage(), e);
    }
  }

  /** Loads what {@code r} asks for, running the model (size trials, state) in {@code trial}'s session. */
  static Loaded load(OnnxModelReader model, Request r, ModelTrial trial) throws IOException {
    Map<String, String> state = r.state() != null ? StatefulStreams.checked(model, r.state())
        : StatefulStreams.detect(model);
    ModelInputs inputs = ModelInputs.of(model);
    List<List<Map<String, OnnxCalibrator.Input>>> streams;
    String description;
    if (r.spec().equals("random")) {
      RandomInputs gen = RandomInputs.of(withoutState(inputs, state)).seed(r.seed());
      r.shapes().forEach(gen::shape);
      RandomInputs.Result res;
      try {
        res = gen.generate(r.count(), withState(trial, StatefulStreams.zeros(inputs, state, r.shapes())));
      } catch (IllegalArgumentException e) {
        throw new CaiException(r.modelPath().toString(), null, e.getMessage(), e);
      }
      streams = state.isEmpty() ? res.samples().stream().map(List::of).toList() : List.of(res.samples());
      description = res.description();
    } else {
      Path p = Path.of(r.spec());
      if (Files.isDirectory(p)) {
        SampleFolder.Kind kind = SampleFolder.kind(p);
        switch (kind) {
          case ARRAYS -> {
            streams = SampleFolder.arrays(p, inputs, state.values(), r.count(), !state.isEmpty());
            description = "arrays of " + p.getFileName();
          }
          case AUDIO -> {
            streams = SampleFolder.audio(p, model, inputs, state.values(), r.shapes(), r.sampleRate(), r.count(),
                !state.isEmpty());
            description = "audio of " + p.getFileName();
          }
          default -> {
            streams = images(model, p, r.count(), r.range()).stream().map(List::of).toList();
            description = "images of " + p.getFileName();
          }
        }
      } else {
        streams = text(r.modelPath(), r).stream().map(List::of).toList();
        description = "text of " + p.getFileName();
      }
    }
    if (state.isEmpty()) {
      List<Map<String, OnnxCalibrator.Input>> samples = streams.stream().map(s -> s.get(0)).toList();
      return new Loaded(samples, samples.stream().map(OutputCheck.Stream::of).toList(), description);
    }
    Map<String, OnnxCalibrator.Input> zeros = StatefulStreams.zeros(inputs, state, r.shapes());
    List<OutputCheck.Stream> ss = new ArrayList<>();
    for (List<Map<String, OnnxCalibrator.Input>> steps : streams) {
      List<Map<String, OnnxCalibrator.Input>> withZeros = new ArrayList<>(steps);
      Map<String, OnnxCalibrator.Input> first = new java.util.LinkedHashMap<>(zeros);
      first.putAll(steps.get(0));
      withZeros.set(0, first);
      ss.add(new OutputCheck.Stream(withZeros, state));
    }
    List<Map<String, OnnxCalibrator.Input>> samples = unroll(r.modelPath(), ss, trial);
    return new Loaded(samples, ss, description + ", streamed with state " + describe(state));
  }

  private static List<Map<String, OnnxCalibrator.Input>> unroll(Path model, List<OutputCheck.Stream> streams,
      ModelTrial trial) throws CaiException {
    try {
      return StatefulStreams.unroll(model, streams, trial.session());
    } catch (ai.onnxruntime.OrtException e) {
      throw new CaiException(model.toString(), null, "the model does not load: " + e.getMessage(), e);
    }
  }

  private static String describe(Map<String, String> state) {
    StringBuilder b = new StringBuilder();
    state.forEach((o, i) -> b.append(b.length() > 0 ? ", " : "").append(o).append(" -> ").append(i));
    return b.toString();
  }

  /** The inputs without the state inputs (they get zeros, then the carried state). */
  private static ModelInputs withoutState(ModelInputs inputs, Map<String, String> state) {
    return state.isEmpty() ? inputs : inputs.without(state.values());
  }

  /** A trial that adds the zero state to a sample before running it. */
  private static java.util.function.Function<Map<String, OnnxCalibrator.Input>, String> withState(
      ModelTrial trial, Map<String, OnnxCalibrator.Input> zeros) {
    return sample -> {
      Map<String, OnnxCalibrator.Input> m = new java.util.HashMap<>(zeros);
      m.putAll(sample);
      return trial.apply(m);
    };
  }

  /** Text lines, tokenized (padded batches first when asked). */
  private static List<Map<String, OnnxCalibrator.Input>> text(Path modelPath, Request r) throws IOException {
    Path p = Path.of(r.spec());
    Path tokenizer = r.tokenizer();
    int count = r.count();
    boolean batches = r.batches();
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
}
