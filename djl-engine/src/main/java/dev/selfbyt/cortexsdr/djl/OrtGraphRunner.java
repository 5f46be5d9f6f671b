package dev.selfbyt.cortexsdr.djl;

import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxValue;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.selfbyt.cortexsdr.converters.onnx.OrtEnvironments;
import dev.selfbyt.cortexsdr.core.tensor.DType;
import dev.selfbyt.cortexsdr.djl.graph.OnnxValues;
import dev.selfbyt.cortexsdr.djl.graph.Value;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.LongBuffer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Runs a whole graph in ONNX Runtime with decoded weights: the fallback for a graph holding
 * operators the Java executor lacks. Only loaded (by name, from {@link CaiModel}) when ONNX
 * Runtime is on the classpath.
 */
final class OrtGraphRunner implements CaiSymbolBlock.Runner {
  private final OrtEnvironment env;
  private final OrtSession session;
  private final long weightBytes;

  private OrtGraphRunner(OrtEnvironment env, OrtSession session, long weightBytes) {
    this.env = env;
    this.session = session;
    this.weightBytes = weightBytes;
  }

  /** Opens {@code decoded} (a model whose weights are all in it) in a new session. */
  static CaiSymbolBlock.Runner open(ModelProto decoded, int threads) throws OrtException, java.io.IOException {
    OrtEnvironment env = OrtEnvironments.get();
    try (OrtSession.SessionOptions o = new OrtSession.SessionOptions()) {
      o.setIntraOpNumThreads(threads);
      o.setInterOpNumThreads(1);
      long bytes = 0;
      // subgraph weights (If branches, Loop and Scan bodies) are held too
      for (var w : dev.selfbyt.cortexsdr.converters.onnx.GraphWeights.of("model", decoded.getGraph()).weights()) {
        bytes += w.tensor().getRawData().size();
      }
      return new OrtGraphRunner(env, env.createSession(decoded.toByteArray(), o), bytes);
    }
  }

  @Override
  public List<String> inputNames() {
    return new ArrayList<>(session.getInputNames());
  }

  @Override
  public List<String> outputNames() {
    return new ArrayList<>(session.getOutputNames());
  }

  @Override
  public Map<String, Value> run(Map<String, Value> inputs) {
    Map<String, OnnxTensor> in = new HashMap<>();
    try {
      for (Map.Entry<String, Value> e : inputs.entrySet()) {
        Value v = e.getValue();
        OnnxTensor t = v.isFloating()
            ? OnnxTensor.createTensor(env, FloatBuffer.wrap(v.floats()), v.shape())
            : v.dtype() == DType.INT64
                ? OnnxTensor.createTensor(env, LongBuffer.wrap(v.longs()), v.shape())
                : OnnxTensor.createTensor(env, encode(v), v.shape(), javaType(e.getKey(), v.dtype()));
        in.put(e.getKey(), t);
      }
      Map<String, Value> out = new LinkedHashMap<>();
      try (OrtSession.Result r = session.run(in)) {
        for (Map.Entry<String, OnnxValue> e : r) {
          OnnxTensor t = (OnnxTensor) e.getValue();
          long[] shape = t.getInfo().getShape();
          ByteBuffer b = t.getByteBuffer().order(ByteOrder.nativeOrder());
          DType d = switch (t.getInfo().type) {
            case FLOAT -> DType.FLOAT32;
            case INT64 -> DType.INT64;
            case INT32 -> DType.INT32;
            case INT8 -> DType.INT8;
            case UINT8 -> DType.UINT8;
            case BOOL -> DType.BOOL;
            case DOUBLE -> DType.FLOAT64;
            default -> throw new IllegalStateException("output '" + e.getKey() + "' of type " + t.getInfo().type
                + " is not supported");
          };
          out.put(e.getKey(), OnnxValues.fromBytes(d, shape, b.order(ByteOrder.LITTLE_ENDIAN)));
        }
      }
      return out;
    } catch (OrtException e) {
      throw new IllegalStateException("ONNX Runtime: " + e.getMessage(), e);
    } finally {
      in.values().forEach(OnnxTensor::close);
    }
  }

  /**
   * The ONNX Runtime Java type of an integer or bool input. (Not through {@code
   * OnnxTensorType.mapFromInt}: its numbers are ONNX Runtime Java's own, not ONNX's; ONNX's bool,
   * 9, is its FLOAT16 there, which made a bool input fail as "not enough space".)
   */
  private static ai.onnxruntime.OnnxJavaType javaType(String input, DType d) {
    return switch (d) {
      case BOOL -> ai.onnxruntime.OnnxJavaType.BOOL;
      case INT8 -> ai.onnxruntime.OnnxJavaType.INT8;
      case UINT8 -> ai.onnxruntime.OnnxJavaType.UINT8;
      case INT16 -> ai.onnxruntime.OnnxJavaType.INT16;
      case INT32 -> ai.onnxruntime.OnnxJavaType.INT32;
      case INT64 -> ai.onnxruntime.OnnxJavaType.INT64;
      default -> throw new IllegalArgumentException("input '" + input + "' of type " + d
          + " cannot be handed to ONNX Runtime");
    };
  }

  private static ByteBuffer encode(Value v) {
    long[] l = v.longs();
    int size = v.dtype().size();
    ByteBuffer b = ByteBuffer.allocateDirect(l.length * size).order(ByteOrder.nativeOrder());
    for (long x : l) {
      switch (size) {
        case 1 -> b.put((byte) x);
        case 2 -> b.putShort((short) x);
        case 4 -> b.putInt((int) x);
        default -> b.putLong(x);
      }
    }
    return b.rewind();
  }

  @Override
  public long residentBytes() {
    return weightBytes;
  }

  @Override
  public String describe() {
    return "ONNX Runtime (fallback)";
  }

  @Override
  public void close() {
    try {
      session.close();
    } catch (OrtException e) {
      throw new IllegalStateException(e);
    }
  }
}
