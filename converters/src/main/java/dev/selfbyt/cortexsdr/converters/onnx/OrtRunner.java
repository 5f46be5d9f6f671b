package dev.selfbyt.cortexsdr.converters.onnx;

import ai.onnx.proto.OnnxMl.TensorProto.DataType;
import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxValue;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.DoubleBuffer;
import java.nio.FloatBuffer;
import java.nio.IntBuffer;
import java.nio.LongBuffer;
import java.nio.ShortBuffer;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Runs calibration samples ({@link OnnxCalibrator.Input}) in an ONNX Runtime session: each input
 * is fed as the element type it names (int32, uint8, bool, float16, ...), and every tensor output
 * of a numeric type is read back as floats, so that callers compare outputs of any type the same
 * way. Non-tensor outputs (sequences, maps) are left out.
 */
public final class OrtRunner {
  private OrtRunner() {}

  /** One sample as tensors, for the inputs the session has (the caller closes them). */
  public static Map<String, OnnxTensor> feed(OrtEnvironment env, OrtSession s, Map<String, OnnxCalibrator.Input> sample)
      throws OrtException {
    Map<String, OnnxTensor> in = new HashMap<>();
    try {
      for (Map.Entry<String, OnnxCalibrator.Input> e : sample.entrySet()) {
        if (s.getInputNames().contains(e.getKey())) {
          in.put(e.getKey(), tensor(env, e.getValue()));
        }
      }
      return in;
    } catch (OrtException | RuntimeException e) {
      in.values().forEach(OnnxTensor::close);
      throw e;
    }
  }

  /** The tensor of one input, of the element type it names. */
  static OnnxTensor tensor(OrtEnvironment env, OnnxCalibrator.Input v) throws OrtException {
    long[] shape = v.shape();
    int n = v.size();
    switch (v.elemType()) {
      case DataType.FLOAT_VALUE:
        return OnnxTensor.createTensor(env, FloatBuffer.wrap(floats(v)), shape);
      case DataType.DOUBLE_VALUE: {
        float[] f = floats(v);
        double[] d = new double[n];
        for (int i = 0; i < n; i++) {
          d[i] = f[i];
        }
        return OnnxTensor.createTensor(env, DoubleBuffer.wrap(d), shape);
      }
      case DataType.FLOAT16_VALUE: {
        float[] f = floats(v);
        ByteBuffer b = ByteBuffer.allocateDirect(2 * n).order(ByteOrder.nativeOrder());
        for (int i = 0; i < n; i++) {
          b.putShort(dev.selfbyt.cortexsdr.core.tensor.Fp16.fromFloat(f[i]));
        }
        b.flip();
        return OnnxTensor.createTensor(env, b, shape, OnnxJavaType.FLOAT16);
      }
      case DataType.INT64_VALUE:
        return OnnxTensor.createTensor(env, LongBuffer.wrap(longs(v)), shape);
      case DataType.INT32_VALUE: {
        long[] l = longs(v);
        int[] x = new int[n];
        for (int i = 0; i < n; i++) {
          x[i] = (int) l[i];
        }
        return OnnxTensor.createTensor(env, IntBuffer.wrap(x), shape);
      }
      case DataType.INT16_VALUE: {
        long[] l = longs(v);
        short[] x = new short[n];
        for (int i = 0; i < n; i++) {
          x[i] = (short) l[i];
        }
        return OnnxTensor.createTensor(env, ShortBuffer.wrap(x), shape);
      }
      case DataType.INT8_VALUE:
      case DataType.UINT8_VALUE:
      case DataType.BOOL_VALUE: {
        long[] l = longs(v);
        ByteBuffer b = ByteBuffer.allocateDirect(n);
        for (int i = 0; i < n; i++) {
          b.put(v.elemType() == DataType.BOOL_VALUE ? (byte) (l[i] != 0 ? 1 : 0) : (byte) l[i]);
        }
        b.flip();
        OnnxJavaType t = v.elemType() == DataType.INT8_VALUE ? OnnxJavaType.INT8
            : v.elemType() == DataType.UINT8_VALUE ? OnnxJavaType.UINT8 : OnnxJavaType.BOOL;
        return OnnxTensor.createTensor(env, b, shape, t);
      }
      default:
        throw new IllegalArgumentException("ONNX element type " + v.elemType() + " ("
            + DataType.forNumber(v.elemType()) + ") cannot be fed as a calibration input");
    }
  }

  private static float[] floats(OnnxCalibrator.Input v) {
    if (v.fp32() != null) {
      return v.fp32();
    }
    float[] f = new float[v.int64().length];
    for (int i = 0; i < f.length; i++) {
      f[i] = v.int64()[i];
    }
    return f;
  }

  private static long[] longs(OnnxCalibrator.Input v) {
    if (v.int64() != null) {
      return v.int64();
    }
    long[] l = new long[v.fp32().length];
    for (int i = 0; i < l.length; i++) {
      l[i] = Math.round(v.fp32()[i]);
    }
    return l;
  }

  /** Runs one sample and returns every numeric tensor output by name, flattened, as floats. */
  public static Map<String, float[]> run(OrtEnvironment env, OrtSession s, Map<String, OnnxCalibrator.Input> sample)
      throws OrtException {
    Map<String, OnnxTensor> in = feed(env, s, sample);
    try (OrtSession.Result r = s.run(in)) {
      Map<String, float[]> out = new LinkedHashMap<>();
      for (Map.Entry<String, OnnxValue> e : r) {
        if (e.getValue() instanceof OnnxTensor t) {
          float[] x = floats(t);
          if (x != null) {
            out.put(e.getKey(), x);
          }
        }
      }
      return out;
    } finally {
      in.values().forEach(OnnxTensor::close);
    }
  }

  /** A tensor's values as floats, or null for a type that has no numeric value (strings). */
  static float[] floats(OnnxTensor t) {
    OnnxJavaType type = t.getInfo().type;
    switch (type) {
      case FLOAT:
      case FLOAT16:
      case BFLOAT16: {
        FloatBuffer b = t.getFloatBuffer();
        float[] x = new float[b.remaining()];
        b.get(x);
        return x;
      }
      case DOUBLE: {
        DoubleBuffer b = t.getDoubleBuffer();
        float[] x = new float[b.remaining()];
        for (int i = 0; i < x.length; i++) {
          x[i] = (float) b.get(i);
        }
        return x;
      }
      case INT64: {
        LongBuffer b = t.getLongBuffer();
        float[] x = new float[b.remaining()];
        for (int i = 0; i < x.length; i++) {
          x[i] = b.get(i);
        }
        return x;
      }
      case INT32: {
        IntBuffer b = t.getIntBuffer();
        float[] x = new float[b.remaining()];
        for (int i = 0; i < x.length; i++) {
          x[i] = b.get(i);
        }
        return x;
      }
      case INT16: {
        ShortBuffer b = t.getShortBuffer();
        float[] x = new float[b.remaining()];
        for (int i = 0; i < x.length; i++) {
          x[i] = b.get(i);
        }
        return x;
      }
      case INT8:
      case UINT8:
      case BOOL: {
        ByteBuffer b = t.getByteBuffer();
        float[] x = new float[b.remaining()];
        for (int i = 0; i < x.length; i++) {
          x[i] = type == OnnxJavaType.UINT8 ? Byte.toUnsignedInt(b.get(i)) : b.get(i);
        }
        return x;
      }
      default:
        return null;
    }
  }
}
