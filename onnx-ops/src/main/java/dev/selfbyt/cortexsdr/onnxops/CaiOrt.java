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
import dev.selfbyt.cortexsdr.converters.onnx.OrtEnvironments;
import dev.selfbyt.cortexsdr.converters.onnx.OrtVersion;
import dev.selfbyt.cortexsdr.converters.onnx.QuantizedOnnxExporter;
import dev.selfbyt.cortexsdr.converters.onnx.StoredGraphCheck;
import dev.selfbyt.cortexsdr.core.format.CaiException;
import dev.selfbyt.cortexsdr.core.format.CaiReader;
import dev.selfbyt.cortexsdr.core.format.CorruptCaiException;
import dev.selfbyt.cortexsdr.core.tensor.DType;
import dev.selfbyt.cortexsdr.core.tensor.TensorData;
import java.io.IOException;
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
 * try (CaiOrtSession s = CaiOrt.open(env, Path.of("model.cai"))) {
 *   s.session().run(inputs);
 * }
 * }</pre>
 *
 * The model is rebuilt in memory as {@code export-onnx --mode quantized} writes it, for the ONNX
 * Runtime this process runs unless {@link CaiOrtOptions#ortVersion()} says otherwise (so it never
 * holds an operator or attribute that runtime lacks): block-quantized weights become {@code
 * MatMulNBits} / {@code GatherBlockQuantized} (or their older forms) and stay quantized in ONNX
 * Runtime, SDR-sparse MatMul weights become {@code ai.cortexsdr.SdrMatMul} when sparse enough
 * ({@link SdrMatMulRewriter}; ONNX Runtime 1.17 or newer), and every other weight is decoded into
 * a direct buffer handed to ONNX Runtime with {@code SessionOptions.addExternalInitializers}
 * (weights of {@code If}/{@code Loop}/{@code Scan} subgraphs too: the rebuilt model reads them
 * from the main graph). Nothing is written to disk, and the model bytes hold no decoded weight but
 * tensors under 1 KiB and non-float ones (shape and index data ONNX Runtime reads while resolving
 * the graph).
 *
 * <p>Each session gets its own {@code SessionOptions}, built from a {@link CaiOrtOptions}
 * (threads, denormal flushing, config entries, a setup callback for anything else) and closed
 * once the session exists: no {@code SessionOptions} of the caller is ever changed. Denormal
 * floats are flushed to zero by default ({@code session.set_denormal_as_zero = 1}): rounded
 * weights can push activations into the denormal range, where the CPU slows down by orders of
 * magnitude for no visible change in the result.
 */
public final class CaiOrt {
  private CaiOrt() {}

  /**
   * Opens {@code cai} with {@link CaiOrtOptions#defaults()} in ONNX Runtime's process-wide
   * environment, created as {@link OrtEnvironments#get()} does (safe with ONNX Runtime 1.29.0 and
   * a long JVM command line).
   */
  public static CaiOrtSession open(Path cai) throws IOException, OrtException {
    return open(OrtEnvironments.get(), cai, CaiOrtOptions.defaults());
  }

  /** Opens {@code cai} with {@link CaiOrtOptions#defaults()}. */
  public static CaiOrtSession open(OrtEnvironment env, Path cai) throws IOException, OrtException {
    return open(env, cai, CaiOrtOptions.defaults());
  }

  /**
   * Opens {@code cai} with {@code options}.
   *
   * @throws CaiException if the file is damaged, disagrees with its own graph ({@link
   *     StoredGraphCheck}) or was not made from an ONNX model; the message names the file, the
   *     region and the tensor
   * @throws OrtException if ONNX Runtime rejects the model or the options
   */
  public static CaiOrtSession open(OrtEnvironment env, Path cai, CaiOrtOptions options)
      throws IOException, OrtException {
    OrtVersion runtime = options.ortVersion() != null ? options.ortVersion() : OrtVersion.ofRuntime(env.getVersion());
    List<OnnxTensor> owned = new ArrayList<>();
    boolean done = false;
    try (CaiReader r = CaiReader.open(cai);
        OrtSession.SessionOptions so = options.newSessionOptions()) {
      StoredGraphCheck.check(r);
      // the tensor being turned into ONNX, to name it when its payload turns out malformed
      String[] current = {null};
      r.onTensorRead(e -> current[0] = e.name());
      try {
        CaiOrtSession session = build(env, options, runtime, r, so, owned);
        done = true;
        return session;
      } catch (RuntimeException e) {
        throw new CorruptCaiException(cai.toString(), current[0], "does not load: "
            + (e.getMessage() == null ? e.toString() : e.getMessage()), e);
      }
    } catch (OrtException e) {
      throw new OrtException(e.getCode(), cai + ": ONNX Runtime rejected the model rebuilt from this .cai"
          + (options.ortVersion() == null ? "" : " for ONNX Runtime " + runtime + " (this process runs "
              + env.getVersion() + ")") + ": " + e.getMessage());
    } finally {
      if (!done) {
        for (OnnxTensor t : owned) {
          t.close();
        }
      }
    }
  }

  private static CaiOrtSession build(OrtEnvironment env, CaiOrtOptions options, OrtVersion runtime, CaiReader r,
      OrtSession.SessionOptions so, List<OnnxTensor> owned) throws IOException, OrtException {
    // below C API 17 the operator library cannot load: SDR weights are then decoded
    SdrMatMulRewriter sdr = runtime.atLeast(OrtVersion.CUSTOM_OPS) ? options.sdr() : null;
    QuantizedOnnxExporter.Graph g = QuantizedOnnxExporter.build(r, options.accuracyLevel(), false, sdr,
        QuantizedOnnxExporter.int8Activations(r), runtime);
    GraphProto graph = g.model().getGraph();
    Map<String, Integer> initializer = new HashMap<>();
    for (int i = 0; i < graph.getInitializerCount(); i++) {
      initializer.put(graph.getInitializer(i).getName(), i);
    }
    GraphProto.Builder gb = graph.toBuilder();
    Map<String, OnnxTensorLike> external = new LinkedHashMap<>();
    long decodedBytes = 0;
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
      decodedBytes += direct.capacity();
      external.put(name, t);
      // ONNX Runtime only replaces initializers marked as external data; the location is never read
      gb.setInitializer(at, gb.getInitializer(at).toBuilder()
          .setDataLocation(TensorProto.DataLocation.EXTERNAL)
          .addExternalData(StringStringEntryProto.newBuilder().setKey("location").setValue("cortexsdr-decoded-" + name))
          .build());
    }
    if (graph.getNodeList().stream().anyMatch(n -> n.getDomain().equals(SdrOps.DOMAIN))) {
      SdrFolds.fold(gb);
      SdrOps.register(so);
    }
    if (!external.isEmpty()) {
      so.addExternalInitializers(external);
    }
    ModelProto model = g.model().toBuilder().setGraph(gb).build();
    List<QuantizedOnnxExporter.Form> forms = g.forms();
    g = null;
    OrtSession session;
    if (BYTE_BUFFER_SESSIONS) {
      // serialized off the Java heap; ONNX Runtime parses it during the call and keeps nothing of it
      ByteBuffer bytes = ByteBuffer.allocateDirect(model.getSerializedSize());
      CodedOutputStream out = CodedOutputStream.newInstance(bytes);
      model.writeTo(out);
      out.flush();
      model = null;
      bytes.flip();
      session = env.createSession(bytes, so);
    } else {
      session = env.createSession(model.toByteArray(), so);
    }
    return new CaiOrtSession(session, runtime, forms, owned, decodedBytes);
  }

  /** Whether this ONNX Runtime's Java API opens a model from a ByteBuffer (1.20 and newer; before: byte[] only). */
  private static final boolean BYTE_BUFFER_SESSIONS = hasByteBufferSessions();

  private static boolean hasByteBufferSessions() {
    try {
      OrtEnvironment.class.getMethod("createSession", ByteBuffer.class, OrtSession.SessionOptions.class);
      return true;
    } catch (NoSuchMethodException e) {
      return false;
    }
  }

  /**
   * Writes the graph {@link #open} builds to a standard {@code .onnx} file, with every
   * weight inside it: SDR MatMul weights chosen by {@code sdr} as {@code ai.cortexsdr.SdrMatMul}
   * nodes (any ONNX Runtime runs the file after registering {@code libcortexsdr_ops.so}), the rest
   * as {@code export-onnx --mode quantized} writes them. Temp file, then rename.
   *
   * @return how each weight was written
   */
  public static List<QuantizedOnnxExporter.Form> export(Path cai, Path target, SdrMatMulRewriter sdr)
      throws IOException {
    return export(cai, target, sdr, OrtVersion.NEWEST);
  }

  /**
   * As {@link #export(Path, Path, SdrMatMulRewriter)}, for ONNX Runtime {@code runtime} or newer
   * (below 1.17, which cannot load the operator library, SDR weights are decoded).
   */
  public static List<QuantizedOnnxExporter.Form> export(Path cai, Path target, SdrMatMulRewriter sdr,
      OrtVersion runtime) throws IOException {
    try (CaiReader r = CaiReader.open(cai)) {
      StoredGraphCheck.check(r);
      String[] current = {null};
      r.onTensorRead(e -> current[0] = e.name());
      QuantizedOnnxExporter.Graph g;
      try {
        g = QuantizedOnnxExporter.build(r, 0, true, runtime.atLeast(OrtVersion.CUSTOM_OPS) ? sdr : null,
            QuantizedOnnxExporter.int8Activations(r), runtime);
      } catch (RuntimeException e) {
        throw new CorruptCaiException(cai.toString(), current[0], "does not load: "
            + (e.getMessage() == null ? e.toString() : e.getMessage()), e);
      }
      // no Relu folding here: a file outlives this library, and an older SdrConv would ignore the
      // attribute and compute without the Relu; in-process (build) the library is this one
      dev.selfbyt.cortexsdr.converters.onnx.OnnxExporter.write(g.model(), target);
      return g.forms();
    }
  }

  /**
   * System property, the default of {@link CaiOrtOptions.Builder#denormalAsZero}: {@code false}
   * keeps denormal floats in sessions {@link #open} opens (default {@code true}: {@value
   * #DENORMAL_AS_ZERO_KEY} = 1 unless a config entry sets the key).
   */
  public static final String DENORMAL_AS_ZERO_PROPERTY = "dev.selfbyt.cortexsdr.onnxops.denormal_as_zero";

  /** ONNX Runtime's session configuration key for flushing denormals to zero. */
  public static final String DENORMAL_AS_ZERO_KEY = "session.set_denormal_as_zero";

  /** Decoded tensors smaller than this stay in the model bytes (shape data ONNX Runtime reads early). */
  static final long INLINE_BYTES = 1024;

  /**
   * System property, the default of {@link CaiOrtOptions.Builder#accuracyLevel}: {@code
   * MatMulNBits accuracy_level} 0 to 4, or auto (default 0).
   */
  public static final String ACCURACY_LEVEL_PROPERTY = "dev.selfbyt.cortexsdr.onnxops.accuracy_level";

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
}
