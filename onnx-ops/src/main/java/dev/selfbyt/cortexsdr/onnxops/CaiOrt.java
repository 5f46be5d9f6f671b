package dev.selfbyt.cortexsdr.onnxops;

import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.StringStringEntryProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxTensorLike;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import com.google.protobuf.ByteString;
import com.google.protobuf.CodedOutputStream;
import dev.selfbyt.cortexsdr.converters.onnx.QuantizedOnnxExporter;
import dev.selfbyt.cortexsdr.converters.onnx.StoredGraphCheck;
import dev.selfbyt.cortexsdr.core.format.CaiException;
import dev.selfbyt.cortexsdr.core.format.CaiReader;
import dev.selfbyt.cortexsdr.core.format.CorruptCaiException;
import dev.selfbyt.cortexsdr.core.tensor.DType;
import dev.selfbyt.cortexsdr.core.tensor.TensorData;
import java.io.IOException;
import java.lang.ref.Cleaner;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Opens a {@code .cai} made from an ONNX model as an ONNX Runtime session, in one call:
 *
 * <pre>{@code
 * // before: OrtSession s = env.createSession("model.onnx", options);
 * OrtSession s = CaiOrt.createSession(env, Path.of("model.cai"), options);
 * }</pre>
 *
 * The model is rebuilt in memory as {@code export-onnx --mode quantized} writes it: block-quantized
 * weights become {@code MatMulNBits} / {@code GatherBlockQuantized} and stay quantized in ONNX
 * Runtime, SDR-sparse MatMul weights become {@code ai.cortexsdr.SdrMatMul} when sparse enough
 * ({@link SdrMatMulRewriter}, whose library is then registered on {@code options}), and every
 * other weight is decoded into a direct buffer handed to ONNX Runtime with {@code
 * SessionOptions.addExternalInitializers} (weights of {@code If}/{@code Loop}/{@code Scan}
 * subgraphs too: the rebuilt model reads them from the main graph). Nothing is written to disk, and the model bytes hold no
 * decoded weight but tensors under 1 KiB and non-float ones (shape and index data ONNX Runtime
 * reads while resolving the graph).
 *
 * <p>Denormal floats are flushed to zero ({@code session.set_denormal_as_zero = 1}) unless {@code
 * options} already say otherwise or {@code -D}{@value #DENORMAL_AS_ZERO_PROPERTY}{@code =false}:
 * rounded weights can push activations into the denormal range, where the CPU slows down by
 * orders of magnitude for no visible change in the result.
 *
 * <p>{@code options} is changed (external initializers added, the operator library registered):
 * use a fresh {@code SessionOptions} for each call. The decoded buffers stay alive as long as the
 * returned session is reachable; close the session as usual.
 */
public final class CaiOrt {
  private static final Cleaner CLEANER = Cleaner.create();
  /** Options already given decoded weights, and the file they came from (weak keys). */
  private static final Map<OrtSession.SessionOptions, Path> USED =
      java.util.Collections.synchronizedMap(new java.util.WeakHashMap<>());

  private CaiOrt() {}

  /** Opens {@code cai} with the SdrMatMul threshold from {@link SdrMatMulRewriter#fromSystemProperty()}. */
  public static OrtSession createSession(OrtEnvironment env, Path cai, OrtSession.SessionOptions options)
      throws IOException, OrtException {
    return createSession(env, cai, options, SdrMatMulRewriter.fromSystemProperty());
  }

  /**
   * Opens {@code cai}, turning SDR MatMul weights into {@code SdrMatMul} as {@code sdr} decides.
   *
   * @throws CaiException if the file is damaged, disagrees with its own graph ({@link
   *     StoredGraphCheck}) or was not made from an ONNX model; the message names the file, the
   *     region and the tensor
   * @throws OrtException if ONNX Runtime rejects the model or the options
   */
  public static OrtSession createSession(OrtEnvironment env, Path cai, OrtSession.SessionOptions options,
      SdrMatMulRewriter sdr) throws IOException, OrtException {
    return createSession(env, cai, options, sdr, accuracyLevel());
  }

  /**
   * As {@link #createSession(OrtEnvironment, Path, OrtSession.SessionOptions, SdrMatMulRewriter)}
   * with an explicit {@code MatMulNBits accuracy_level}: 0 (the default, as {@code export-onnx
   * --mode quantized}) computes in fp32; 4 lets ONNX Runtime quantize activations to int8, faster
   * and slightly less exact.
   */
  public static OrtSession createSession(OrtEnvironment env, Path cai, OrtSession.SessionOptions options,
      SdrMatMulRewriter sdr, int accuracyLevel) throws IOException, OrtException {
    Path earlier = USED.get(options);
    if (earlier != null) {
      // ONNX Runtime would fail later with "An OrtValue for this name has already been added"
      throw new IllegalArgumentException("these SessionOptions already carry the decoded weights of " + earlier
          + " (CaiOrt.createSession adds them to the options it is given): pass a new SessionOptions to open "
          + cai + ", and do not reuse it for other sessions");
    }
    flushDenormals(options); // before the file is read: a bad property is the caller's error, not the file's
    List<OnnxTensor> owned = new ArrayList<>();
    boolean done = false;
    try (CaiReader r = CaiReader.open(cai)) {
      StoredGraphCheck.check(r);
      // the tensor being turned into ONNX, to name it when its payload turns out malformed
      String[] current = {null};
      r.onTensorRead(e -> current[0] = e.name());
      try {
        OrtSession session = build(env, cai, options, sdr, accuracyLevel, r, owned);
        done = true;
        return session;
      } catch (RuntimeException e) {
        throw new CorruptCaiException(cai.toString(), current[0], "does not load: "
            + (e.getMessage() == null ? e.toString() : e.getMessage()), e);
      }
    } catch (OrtException e) {
      throw new OrtException(e.getCode(), cai + ": ONNX Runtime rejected the model rebuilt from this .cai: "
          + e.getMessage());
    } finally {
      if (!done) {
        new Release(owned).run();
      }
    }
  }

  private static OrtSession build(OrtEnvironment env, Path cai, OrtSession.SessionOptions options,
      SdrMatMulRewriter sdr, int accuracyLevel, CaiReader r, List<OnnxTensor> owned)
      throws IOException, OrtException {
    QuantizedOnnxExporter.Graph g = QuantizedOnnxExporter.build(r, accuracyLevel, false, sdr);
    GraphProto graph = g.model().getGraph();
    Map<String, Integer> initializer = new HashMap<>();
    for (int i = 0; i < graph.getInitializerCount(); i++) {
      initializer.put(graph.getInitializer(i).getName(), i);
    }
    GraphProto.Builder gb = graph.toBuilder();
    Map<String, OnnxTensorLike> external = new LinkedHashMap<>();
    for (String name : g.decoded()) {
      Integer at = initializer.get(name);
      if (at == null) {
        continue; // not in the graph as a tensor (e.g. a weight nothing uses)
      }
      TensorData data = r.read(name);
      OnnxJavaType type = javaType(data.info().dtype());
      if (type == null || !data.info().dtype().isFloating() || data.info().byteSize() < INLINE_BYTES) {
        // ONNX Runtime's Java API has no tensor of this type, or it is shape and index data
        // (Slice starts, Reshape shapes) that ONNX Runtime reads while resolving the graph,
        // before external initializers exist: the model carries it
        gb.setInitializer(at, gb.getInitializer(at).toBuilder().setRawData(ByteString.copyFrom(data.bytes())));
        continue;
      }
      ByteBuffer src = data.bytes();
      ByteBuffer direct = ByteBuffer.allocateDirect(src.remaining()).order(ByteOrder.nativeOrder());
      direct.put(src.duplicate().order(ByteOrder.LITTLE_ENDIAN)).flip();
      OnnxTensor t = OnnxTensor.createTensor(env, direct, data.info().shape(), type);
      owned.add(t);
      external.put(name, t);
      // ONNX Runtime only replaces initializers marked as external data; the location is never read
      gb.setInitializer(at, gb.getInitializer(at).toBuilder()
          .setDataLocation(TensorProto.DataLocation.EXTERNAL)
          .addExternalData(StringStringEntryProto.newBuilder().setKey("location").setValue("cortexsdr-decoded-" + name))
          .build());
    }
    if (graph.getNodeList().stream().anyMatch(n -> n.getDomain().equals(SdrOps.DOMAIN))) {
      SdrOps.register(options);
    }
    if (!external.isEmpty()) {
      options.addExternalInitializers(external);
      USED.put(options, cai);
    }
    ModelProto model = g.model().toBuilder().setGraph(gb).build();
    g = null;
    // serialized off the Java heap; ONNX Runtime parses it during the call and keeps nothing of it
    ByteBuffer bytes = ByteBuffer.allocateDirect(model.getSerializedSize());
    CodedOutputStream out = CodedOutputStream.newInstance(bytes);
    model.writeTo(out);
    out.flush();
    model = null;
    bytes.flip();
    OrtSession session = env.createSession(bytes, options);
    CLEANER.register(session, new Release(owned));
    return session;
  }

  /**
   * Writes the graph {@link #createSession} builds to a standard {@code .onnx} file, with every
   * weight inside it: SDR MatMul weights chosen by {@code sdr} as {@code ai.cortexsdr.SdrMatMul}
   * nodes (any ONNX Runtime runs the file after registering {@code libcortexsdr_ops.so}), the rest
   * as {@code export-onnx --mode quantized} writes them. Temp file, then rename.
   *
   * @return how each weight was written
   */
  public static List<QuantizedOnnxExporter.Form> export(Path cai, Path target, SdrMatMulRewriter sdr)
      throws IOException {
    try (CaiReader r = CaiReader.open(cai)) {
      StoredGraphCheck.check(r);
      String[] current = {null};
      r.onTensorRead(e -> current[0] = e.name());
      QuantizedOnnxExporter.Graph g;
      try {
        g = QuantizedOnnxExporter.build(r, 0, true, sdr);
      } catch (RuntimeException e) {
        throw new CorruptCaiException(cai.toString(), current[0], "does not load: "
            + (e.getMessage() == null ? e.toString() : e.getMessage()), e);
      }
      dev.selfbyt.cortexsdr.converters.onnx.OnnxExporter.write(g.model(), target);
      return g.forms();
    }
  }

  /**
   * System property: {@code false} keeps denormal floats in sessions {@link #createSession} opens
   * (default {@code true}: {@value #DENORMAL_AS_ZERO_KEY} = 1 unless the options set the key).
   */
  public static final String DENORMAL_AS_ZERO_PROPERTY = "dev.selfbyt.cortexsdr.onnxops.denormal_as_zero";

  /** ONNX Runtime's session configuration key for flushing denormals to zero. */
  public static final String DENORMAL_AS_ZERO_KEY = "session.set_denormal_as_zero";

  /** Sets {@value #DENORMAL_AS_ZERO_KEY} = 1 unless the caller set it or opted out by property. */
  static void flushDenormals(OrtSession.SessionOptions options) throws OrtException {
    String v = System.getProperty(DENORMAL_AS_ZERO_PROPERTY, "true").trim();
    if (!v.equalsIgnoreCase("true") && !v.equalsIgnoreCase("false")) {
      throw new IllegalArgumentException("-D" + DENORMAL_AS_ZERO_PROPERTY + "=" + v + ": use true or false");
    }
    if (Boolean.parseBoolean(v) && !options.getConfigEntries().containsKey(DENORMAL_AS_ZERO_KEY)) {
      options.addConfigEntry(DENORMAL_AS_ZERO_KEY, "1");
    }
  }

  /** Decoded tensors smaller than this stay in the model bytes (shape data ONNX Runtime reads early). */
  static final long INLINE_BYTES = 1024;

  /** System property for the default {@code MatMulNBits accuracy_level} (0 to 4, or auto; default 0). */
  public static final String ACCURACY_LEVEL_PROPERTY = "dev.selfbyt.cortexsdr.onnxops.accuracy_level";

  private static int accuracyLevel() {
    String v = System.getProperty(ACCURACY_LEVEL_PROPERTY, "0").trim();
    if (v.equals("auto")) {
      return dev.selfbyt.cortexsdr.converters.onnx.NBitsAccuracy.MEASURED;
    }
    try {
      int level = Integer.parseInt(v);
      if (level >= 0 && level <= 4) {
        return level;
      }
    } catch (NumberFormatException e) {
      // reported below
    }
    throw new IllegalArgumentException("-D" + ACCURACY_LEVEL_PROPERTY + "=" + v
        + ": use 0 (fp32) to 4 (int8 activations), or auto (timed per weight shape)");
  }

  /** The ONNX Runtime Java type of a {@code .cai} dtype, or null when the Java API has none. */
  static OnnxJavaType javaType(DType d) {
    return switch (d) {
      case FLOAT32 -> OnnxJavaType.FLOAT;
      case FLOAT64 -> OnnxJavaType.DOUBLE;
      case FLOAT16 -> OnnxJavaType.FLOAT16;
      case BFLOAT16 -> OnnxJavaType.BFLOAT16;
      case INT8 -> OnnxJavaType.INT8;
      case UINT8 -> OnnxJavaType.UINT8;
      case INT16 -> OnnxJavaType.INT16;
      case INT32 -> OnnxJavaType.INT32;
      case INT64 -> OnnxJavaType.INT64;
      case BOOL -> OnnxJavaType.BOOL;
      default -> null;
    };
  }

  /** Closes the decoded tensors once their session is unreachable (their buffers then go too). */
  private record Release(List<OnnxTensor> tensors) implements Runnable {
    @Override
    public void run() {
      for (OnnxTensor t : tensors) {
        t.close();
      }
    }
  }
}
