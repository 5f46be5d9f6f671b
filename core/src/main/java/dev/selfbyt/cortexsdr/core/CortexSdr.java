package dev.selfbyt.cortexsdr.core;

import dev.selfbyt.cortexsdr.core.format.CaiFormat;
import dev.selfbyt.cortexsdr.core.pipeline.CompressionPipeline;
import dev.selfbyt.cortexsdr.core.tensor.TensorSource;
import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;

/**
 * The front door: {@link #compress} turns a model's tensors into a {@code .cai} file.
 *
 * <pre>{@code
 * CompressionStats stats = CortexSdr.compress(source, Path.of("model.cai"),
 *     CompressionOptions.builder().preset(Preset.INT4).threads(4).build());
 * System.out.println(stats.ratio());
 * }</pre>
 *
 * Read the result with {@link dev.selfbyt.cortexsdr.core.format.CaiReader}.
 */
public final class CortexSdr {
  /**
   * This library's version, stored in every manifest: the Maven project version, written into
   * {@code version.properties} by the build (the pom is the one place it is set).
   */
  public static final String VERSION = readVersion();

  /**
   * Manifest key: JSON array of the MatMul weight names whose products take int8 activations,
   * quantized per tensor as ONNX {@code DynamicQuantizeLinear} does (see docs/cai-format.md).
   */
  public static final String INT8_ACTIVATIONS_KEY = "int8Activations";

  private CortexSdr() {}

  private static String readVersion() {
    try (java.io.InputStream in = CortexSdr.class.getResourceAsStream("version.properties")) {
      java.util.Properties p = new java.util.Properties();
      if (in != null) {
        p.load(in);
      }
      String v = p.getProperty("version");
      // an unfiltered copy (an IDE that skips Maven's resource filtering) still says something true
      return v == null || v.startsWith("${") ? "unknown" : v;
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException("version.properties of cortexsdr-core cannot be read", e);
    }
  }

  /**
   * Compresses {@code source} into {@code target}. The target is written atomically: after a
   * failure it is unchanged (absent, or the previous file).
   *
   * @throws dev.selfbyt.cortexsdr.core.format.CaiException naming the file, the tensor and the
   *     cause
   */
  public static CompressionStats compress(TensorSource source, Path target, CompressionOptions options)
      throws IOException {
    return new CompressionPipeline(options).run(source, source.location(), target, manifest(source, options));
  }

  /** Compresses with {@link CompressionOptions#defaults()}. */
  public static CompressionStats compress(TensorSource source, Path target) throws IOException {
    return compress(source, target, CompressionOptions.defaults());
  }

  /** The manifest stored for a source and options: no timestamps, so output is reproducible. */
  public static Map<String, Object> manifest(TensorSource source, CompressionOptions options) throws IOException {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("format", "cai");
    m.put("formatVersion", CaiFormat.VERSION_MAJOR + "." + CaiFormat.VERSION_MINOR);
    m.put("producer", "cortexsdr-java");
    m.put("producerVersion", VERSION);
    Map<String, Object> src = new LinkedHashMap<>();
    src.put("format", source.format());
    src.put("metadata", new TreeMap<>(source.metadata()));
    m.put("source", src);
    m.put("options", options.toMap());
    java.util.List<String> int8 = new dev.selfbyt.cortexsdr.core.policy.CompressionPolicy(options)
        .int8Activations(source.tensors());
    if (!int8.isEmpty()) {
      // the contract between the .cai and its runtimes (ONNX Runtime export, the DJL engine):
      // these MatMuls quantize their input per tensor as DynamicQuantizeLinear does
      m.put(INT8_ACTIVATIONS_KEY, int8);
    }
    return m;
  }
}
