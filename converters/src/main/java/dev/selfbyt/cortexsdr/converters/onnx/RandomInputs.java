package dev.selfbyt.cortexsdr.converters.onnx;

import ai.onnx.proto.OnnxMl.TensorProto.DataType;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.Function;

/**
 * Seeded random inputs of valid shapes and values for a model with no data at hand (calibration
 * with {@code random}, the output check of {@code compress}). Values respect each input's type
 * and meaning as far as the graph tells it: ids below the row count of the table that looks them
 * up ({@link ModelInputs.Spec#vocabulary()}), masks of ones then zeros, token types 0, bools 0 or
 * 1, floats in [0, 1) for image-like inputs (rank 3 or more) and [-1, 1) otherwise.
 *
 * <p>Dynamic dimensions take the sizes given with {@link #shape}; the others are tried in turn
 * (a leading batch dimension is 1; sequences 32, 16, 64, ...; image sides 224, 256, 320, ...)
 * until the model accepts a sample, since a graph may reject sizes it was not built for (a
 * {@code Pad} or {@code Reshape} that needs a multiple of its stride). {@link Result#description()}
 * says what was picked. Dimensions sharing a symbolic name get one size.
 */
public final class RandomInputs {
  private static final long[] SEQUENCE = {32, 16, 64, 128, 8, 256, 4, 1};
  private static final long[] SPATIAL = {224, 256, 320, 128, 64, 512, 32, 16, 1};
  private static final long[] OTHER = {32, 64, 16, 128, 256, 8, 4, 1};

  /** Samples and what they are. */
  public record Result(List<Map<String, OnnxCalibrator.Input>> samples, String description) {}

  private final ModelInputs inputs;
  private final Map<String, long[]> pinned = new LinkedHashMap<>();
  private long seed = 42;

  private RandomInputs(ModelInputs inputs) {
    this.inputs = inputs;
  }

  /** Random inputs for a model's data inputs. */
  public static RandomInputs of(ModelInputs inputs) {
    return new RandomInputs(inputs);
  }

  /** The generator's seed (default 42). */
  public RandomInputs seed(long seed) {
    this.seed = seed;
    return this;
  }

  /**
   * Pins every dimension of input {@code name}; dynamic dimensions sharing a symbolic name with it
   * elsewhere take the same sizes.
   *
   * @throws IllegalArgumentException for an input the model does not have, a wrong rank, or a
   *     size that contradicts a fixed dimension
   */
  public RandomInputs shape(String name, long[] dims) {
    ModelInputs.Spec s = inputs.get(name);
    if (s == null) {
      throw new IllegalArgumentException("input shape for '" + name + "': the model has no such input (its inputs: "
          + String.join(", ", inputs.names()) + ")");
    }
    if (dims.length != s.dims().length) {
      throw new IllegalArgumentException("input shape for '" + name + "': " + Arrays.toString(dims) + " has rank "
          + dims.length + ", the input " + s.describeDims() + " has rank " + s.dims().length);
    }
    for (int i = 0; i < dims.length; i++) {
      if (dims[i] < 1 || (s.dims()[i] > 0 && s.dims()[i] != dims[i])) {
        throw new IllegalArgumentException("input shape for '" + name + "': dimension " + i + " is " + dims[i]
            + ", the model's input is " + s.describeDims());
      }
    }
    pinned.put(name, dims.clone());
    return this;
  }

  /**
   * Parses {@code name=d0,d1,...} (or {@code name=d0xd1x...}) into the name and dimensions.
   *
   * @throws IllegalArgumentException naming what is wrong
   */
  public static Map.Entry<String, long[]> parseShape(String spec) {
    int eq = spec.lastIndexOf('=');
    if (eq <= 0 || eq == spec.length() - 1) {
      throw new IllegalArgumentException("input shape '" + spec + "' is not name=dims (e.g. input_ids=1,128)");
    }
    String[] parts = spec.substring(eq + 1).split("[,x]");
    long[] dims = new long[parts.length];
    for (int i = 0; i < parts.length; i++) {
      try {
        dims[i] = Long.parseLong(parts[i].strip());
      } catch (NumberFormatException e) {
        dims[i] = -1;
      }
      if (dims[i] < 1 || dims[i] > Integer.MAX_VALUE) {
        throw new IllegalArgumentException("input shape '" + spec + "': '" + parts[i] + "' is not a size >= 1");
      }
    }
    return Map.entry(spec.substring(0, eq), dims);
  }

  /**
   * {@code count} samples. When some dynamic dimension is not pinned, {@code trial} is asked
   * whether the model accepts a sample of the sizes tried (it returns null when it does, else the
   * reason); null skips trials and takes the first sizes.
   *
   * @throws IllegalArgumentException when the model accepts none of the sizes tried, with the
   *     model's last error
   */
  public Result generate(int count, Function<Map<String, OnnxCalibrator.Input>, String> trial) {
    Map<String, long[]> candidates = new LinkedHashMap<>(); // dimension key -> sizes to try
    Map<String, Long> fixedByName = new HashMap<>();
    for (Map.Entry<String, long[]> e : pinned.entrySet()) {
      ModelInputs.Spec s = inputs.get(e.getKey());
      for (int i = 0; i < s.dims().length; i++) {
        if (s.dims()[i] < 0 && !s.dimNames()[i].isEmpty()) {
          fixedByName.put(s.dimNames()[i], e.getValue()[i]);
        }
      }
    }
    for (ModelInputs.Spec s : inputs.specs()) {
      if (pinned.containsKey(s.name())) {
        continue;
      }
      for (int i = 0; i < s.dims().length; i++) {
        if (s.dims()[i] >= 0) {
          continue;
        }
        String key = key(s, i);
        if (fixedByName.containsKey(s.dimNames()[i])) {
          continue;
        }
        long[] tries = i == 0 && s.dims().length >= 2 ? new long[] {1}
            : s.integral() ? SEQUENCE : s.dims().length >= 3 ? SPATIAL : OTHER;
        candidates.putIfAbsent(key, tries);
      }
    }
    int rounds = candidates.values().stream().mapToInt(a -> a.length).max().orElse(1);
    List<String> rejected = new ArrayList<>();
    String lastError = null;
    for (int round = 0; round < rounds; round++) {
      Map<String, Long> sizes = new LinkedHashMap<>();
      for (Map.Entry<String, long[]> e : candidates.entrySet()) {
        long[] t = e.getValue();
        sizes.put(e.getKey(), t[Math.min(round, t.length - 1)]);
      }
      Map<String, long[]> shapes = shapes(sizes, fixedByName);
      if (trial != null && !candidates.isEmpty()) {
        String error = trial.apply(sample(shapes, new SplittableRandom(seed)));
        if (error != null) {
          lastError = error;
          rejected.add(describe(sizes));
          continue;
        }
      }
      SplittableRandom r = new SplittableRandom(seed);
      List<Map<String, OnnxCalibrator.Input>> out = new ArrayList<>();
      for (int i = 0; i < count; i++) {
        out.add(sample(shapes, r));
      }
      String d = "seeded random inputs (seed " + seed + ")";
      if (!candidates.isEmpty()) {
        d += ", dynamic sizes " + describe(sizes) + (rejected.isEmpty() ? "" : " (the model rejected "
            + String.join("; ", rejected) + ")");
      }
      return new Result(out, d);
    }
    throw new IllegalArgumentException("the model rejected every size tried for its dynamic dimensions ("
        + String.join("; ", rejected) + "); pin them with an input shape (name=dims). Last error: " + lastError);
  }

  private static String key(ModelInputs.Spec s, int i) {
    return s.dimNames()[i].isEmpty() ? s.name() + "[" + i + "]" : s.dimNames()[i];
  }

  private static String describe(Map<String, Long> sizes) {
    StringBuilder b = new StringBuilder();
    sizes.forEach((k, v) -> b.append(b.length() > 0 ? ", " : "").append(k).append('=').append(v));
    return b.toString();
  }

  private Map<String, long[]> shapes(Map<String, Long> sizes, Map<String, Long> fixedByName) {
    Map<String, long[]> out = new LinkedHashMap<>();
    for (ModelInputs.Spec s : inputs.specs()) {
      long[] p = pinned.get(s.name());
      if (p != null) {
        out.put(s.name(), p);
        continue;
      }
      long[] d = s.dims().clone();
      for (int i = 0; i < d.length; i++) {
        if (d[i] < 0) {
          Long named = fixedByName.get(s.dimNames()[i]);
          d[i] = named != null ? named : sizes.get(key(s, i));
        }
      }
      out.put(s.name(), d);
    }
    return out;
  }

  private Map<String, OnnxCalibrator.Input> sample(Map<String, long[]> shapes, SplittableRandom r) {
    Map<String, OnnxCalibrator.Input> m = new LinkedHashMap<>();
    for (ModelInputs.Spec s : inputs.specs()) {
      long[] shape = shapes.get(s.name());
      long n = 1;
      for (long d : shape) {
        n *= d;
      }
      if (n > Integer.MAX_VALUE / 4) {
        throw new IllegalArgumentException("input '" + s.name() + "' of shape " + Arrays.toString(shape)
            + " is too large for a random sample");
      }
      m.put(s.name(), s.integral() ? integers(s, shape, (int) n, r) : floats(s, shape, (int) n, r));
    }
    return m;
  }

  private static OnnxCalibrator.Input floats(ModelInputs.Spec s, long[] shape, int n, SplittableRandom r) {
    boolean image = shape.length >= 3;
    float[] v = new float[n];
    for (int i = 0; i < n; i++) {
      v[i] = (float) (image ? r.nextDouble() : r.nextDouble(-1, 1));
    }
    return OnnxCalibrator.Input.ofFloats(s.elemType(), shape, v);
  }

  private static OnnxCalibrator.Input integers(ModelInputs.Spec s, long[] shape, int n, SplittableRandom r) {
    String name = s.name().toLowerCase(Locale.ROOT);
    long[] v = new long[n];
    if (name.contains("mask")) {
      // ones then zeros along the last axis (real positions, then padding), at least half ones
      int row = shape.length == 0 ? 1 : (int) Math.max(1, shape[shape.length - 1]);
      for (int start = 0; start < n; start += row) {
        int ones = row - r.nextInt(row / 2 + 1);
        for (int j = 0; j < ones; j++) {
          v[start + j] = 1;
        }
      }
    } else if (s.elemType() == DataType.BOOL_VALUE) {
      for (int i = 0; i < n; i++) {
        v[i] = r.nextInt(2);
      }
    } else if (name.contains("type_id") || name.contains("segment")) {
      // token types / segments: one segment (all zeros) is what single-text models see
    } else {
      long bound = s.vocabulary() > 0 ? s.vocabulary() : switch (s.elemType()) {
        case DataType.UINT8_VALUE -> 256;
        case DataType.INT8_VALUE -> 128;
        default -> 1000;
      };
      for (int i = 0; i < n; i++) {
        v[i] = r.nextLong(bound);
      }
    }
    return OnnxCalibrator.Input.ofIntegers(s.elemType(), shape, v);
  }
}
