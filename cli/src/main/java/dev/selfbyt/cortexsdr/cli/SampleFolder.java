package dev.selfbyt.cortexsdr.cli;

import dev.selfbyt.cortexsdr.converters.onnx.ModelInputs;
import dev.selfbyt.cortexsdr.converters.onnx.NpyFiles;
import dev.selfbyt.cortexsdr.converters.onnx.OnnxCalibrator;
import dev.selfbyt.cortexsdr.converters.onnx.OnnxModelReader;
import dev.selfbyt.cortexsdr.converters.onnx.WavAudio;
import dev.selfbyt.cortexsdr.core.format.CaiException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * A calibration folder of arrays ({@code .npy}, {@code .npz}) or audio ({@code .wav}) turned into
 * samples for a model, each checked against the model's inputs (names, rank, fixed dimensions,
 * integer or floating type) so that a wrong file fails here, naming it, rather than deep inside
 * ONNX Runtime. Samples come as streams (lists of steps): one per wav file, one over the whole
 * folder for arrays of a stateful model, else one per sample.
 */
final class SampleFolder {
  /** What a folder holds. */
  enum Kind { ARRAYS, AUDIO, IMAGES }

  private SampleFolder() {}

  static Kind kind(Path folder) throws IOException {
    try (var list = Files.list(folder)) {
      List<String> names = list.map(f -> f.getFileName().toString().toLowerCase(Locale.ROOT)).toList();
      if (names.stream().anyMatch(n -> n.endsWith(".npy") || n.endsWith(".npz"))) {
        return Kind.ARRAYS;
      }
      return names.stream().anyMatch(n -> n.endsWith(".wav")) ? Kind.AUDIO : Kind.IMAGES;
    }
  }

  private static List<Path> files(Path folder, String regex, int count) throws IOException {
    try (var list = Files.list(folder)) {
      return list.filter(f -> f.getFileName().toString().toLowerCase(Locale.ROOT).matches(regex)).sorted()
          .limit(count).toList();
    }
  }

  /** One sample per {@code .npy} (single-input models) or {@code .npz} file. */
  static List<List<Map<String, OnnxCalibrator.Input>>> arrays(Path folder, ModelInputs inputs,
      Collection<String> state, int count, boolean stateful) throws IOException {
    ModelInputs data = inputs.without(state);
    List<List<Map<String, OnnxCalibrator.Input>>> out = new ArrayList<>();
    List<Map<String, OnnxCalibrator.Input>> one = new ArrayList<>();
    for (Path f : files(folder, ".*\\.np[yz]", count)) {
      Map<String, OnnxCalibrator.Input> raw;
      if (f.getFileName().toString().toLowerCase(Locale.ROOT).endsWith(".npy")) {
        if (data.specs().size() != 1) {
          throw new CaiException(f.toString(), null, "a .npy file holds one array, the model takes "
              + data.specs().size() + " inputs (" + String.join(", ", data.names()) + "): give .npz files with "
              + "one array per input, named as the inputs");
        }
        raw = Map.of(data.specs().get(0).name(), NpyFiles.readNpy(f));
      } else {
        raw = NpyFiles.readNpz(f);
      }
      Map<String, OnnxCalibrator.Input> sample = new LinkedHashMap<>();
      for (Map.Entry<String, OnnxCalibrator.Input> e : raw.entrySet()) {
        ModelInputs.Spec s = inputs.get(e.getKey());
        if (s == null) {
          throw new CaiException(f.toString(), e.getKey(), "the model has no input of this name (its inputs: "
              + String.join(", ", inputs.names()) + ")");
        }
        sample.put(e.getKey(), conform(f, s, e.getValue()));
      }
      for (ModelInputs.Spec s : data.specs()) {
        if (!sample.containsKey(s.name())) {
          throw new CaiException(f.toString(), s.name(), "no array for model input '" + s.name() + "' "
              + s.typeName() + " " + s.describeDims() + " (arrays in the file: " + String.join(", ", raw.keySet())
              + ")");
        }
      }
      if (stateful) {
        one.add(sample);
      } else {
        out.add(List.of(sample));
      }
    }
    if (stateful && !one.isEmpty()) {
      out.add(one);
    }
    if (out.isEmpty()) {
      throw new CaiException(folder.toString(), null, "no .npy or .npz files in the calibration folder");
    }
    return out;
  }

  /**
   * An array as input {@code s} takes it: same rank, fixed dimensions equal, integers for integer
   * inputs (floats for floating ones, converted from integers where needed).
   */
  static OnnxCalibrator.Input conform(Path file, ModelInputs.Spec s, OnnxCalibrator.Input a) throws CaiException {
    if (a.shape().length != s.dims().length) {
      throw new CaiException(file.toString(), s.name(), "array of shape " + Arrays.toString(a.shape())
          + " has rank " + a.shape().length + ", the input " + s.describeDims() + " has rank " + s.dims().length);
    }
    for (int i = 0; i < a.shape().length; i++) {
      if (s.dims()[i] > 0 && s.dims()[i] != a.shape()[i]) {
        throw new CaiException(file.toString(), s.name(), "array of shape " + Arrays.toString(a.shape())
            + " does not fit the input " + s.describeDims() + " (dimension " + i + ")");
      }
    }
    if (s.integral()) {
      if (a.int64() == null) {
        throw new CaiException(file.toString(), s.name(), "floating array for the " + s.typeName()
            + " input: save it as integers");
      }
      return OnnxCalibrator.Input.ofIntegers(s.elemType(), a.shape(), a.int64());
    }
    if (a.fp32() != null) {
      return OnnxCalibrator.Input.ofFloats(s.elemType(), a.shape(), a.fp32());
    }
    float[] f = new float[a.int64().length];
    for (int i = 0; i < f.length; i++) {
      f[i] = a.int64()[i];
    }
    return OnnxCalibrator.Input.ofFloats(s.elemType(), a.shape(), f);
  }

  /**
   * Wav files as the model's one floating input (besides its state): resampled to the model's rate
   * (its metadata, else {@code sampleRate}) and cut into chunks of the input's last dimension
   * (fixed, or pinned in {@code shapes}).
   */
  static List<List<Map<String, OnnxCalibrator.Input>>> audio(Path folder, OnnxModelReader model, ModelInputs inputs,
      Collection<String> state, Map<String, long[]> shapes, Integer sampleRate, int count, boolean stateful)
      throws IOException {
    List<ModelInputs.Spec> floats = inputs.without(state).specs().stream().filter(s -> !s.integral()).toList();
    if (floats.size() != 1 || inputs.without(state).specs().size() != 1) {
      throw new CaiException(model.location(), null, "calibrating from audio needs a model with one floating input "
          + "besides its state; its inputs are " + String.join(", ", inputs.names()));
    }
    ModelInputs.Spec in = floats.get(0);
    long[] shape = shapes.containsKey(in.name()) ? shapes.get(in.name()).clone() : in.dims().clone();
    if (shape.length == 0 || shape[shape.length - 1] < 1) {
      throw new CaiException(model.location(), in.name(), "the audio input " + in.describeDims() + " has a dynamic "
          + "length: give the chunk length with --input-shape " + in.name() + "=...");
    }
    for (int i = 0; i < shape.length; i++) {
      shape[i] = shape[i] > 0 ? shape[i] : 1;
    }
    int length = (int) shape[shape.length - 1];
    long rest = 1;
    for (int i = 0; i < shape.length - 1; i++) {
      rest *= shape[i];
    }
    if (rest != 1) {
      throw new CaiException(model.location(), in.name(), "the audio input " + Arrays.toString(shape) + " is not "
          + "one channel of samples (all dimensions but the last must be 1)");
    }
    int rate = modelRate(model, sampleRate);
    List<List<Map<String, OnnxCalibrator.Input>>> out = new ArrayList<>();
    int taken = 0;
    for (Path f : files(folder, ".*\\.wav", Integer.MAX_VALUE)) {
      if (taken >= count) {
        break;
      }
      WavAudio.Audio a = WavAudio.read(f);
      List<Map<String, OnnxCalibrator.Input>> steps = new ArrayList<>();
      for (float[] chunk : WavAudio.chunks(WavAudio.resample(a, rate), length)) {
        if (taken >= count) {
          break;
        }
        steps.add(Map.of(in.name(), OnnxCalibrator.Input.ofFloats(in.elemType(), shape, chunk)));
        taken++;
      }
      if (stateful) {
        out.add(steps);
      } else {
        steps.forEach(s -> out.add(List.of(s)));
      }
    }
    if (out.isEmpty()) {
      throw new CaiException(folder.toString(), null, "no .wav files in the calibration folder");
    }
    return out;
  }

  /** The given audio rate, else the one the model says in its metadata ({@code sample_rate}, {@code sampling_rate}). */
  static int modelRate(OnnxModelReader model, Integer given) throws CaiException {
    if (given != null) {
      return given;
    }
    for (var p : model.strippedModel().getMetadataPropsList()) {
      String k = p.getKey().toLowerCase(Locale.ROOT).replaceAll("[^a-z]", "");
      if (k.contains("samplerate") || k.contains("samplingrate")) {
        try {
          return Integer.parseInt(p.getValue().strip());
        } catch (NumberFormatException e) {
          // not a number: fall through to the given rate
        }
      }
    }
    throw new CaiException(model.location(), null, "the model does not say its audio sample rate (no sample_rate "
        + "in its metadata): give it with --sample-rate");
  }
}
