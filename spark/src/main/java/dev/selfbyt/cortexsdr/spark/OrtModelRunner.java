package dev.selfbyt.cortexsdr.spark;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxValue;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.selfbyt.cortexsdr.converters.onnx.OrtEnvironments;
import dev.selfbyt.cortexsdr.onnxops.CaiOrt;
import dev.selfbyt.cortexsdr.onnxops.CaiOrtOptions;
import dev.selfbyt.cortexsdr.onnxops.CaiOrtSession;
import java.nio.FloatBuffer;
import java.nio.LongBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A model in ONNX Runtime: a {@code .cai} through {@link CaiOrt} (quantized weights stay
 * quantized inside ONNX Runtime), an {@code .onnx} file as a plain session. ONNX Runtime sessions
 * run concurrent calls, so one instance serves every task of an executor.
 */
final class OrtModelRunner implements ModelRunner {
  private final Path file;
  private final OrtEnvironment env;
  private final OrtSession session;
  private final AutoCloseable owner;
  private final List<String> inputs;

  private OrtModelRunner(Path file, OrtEnvironment env, OrtSession session, AutoCloseable owner) throws OrtException {
    this.file = file;
    this.env = env;
    this.session = session;
    this.owner = owner;
    this.inputs = new ArrayList<>(session.getInputInfo().keySet());
  }

  static OrtModelRunner open(Path model, boolean cai, int threads) throws Exception {
    OrtEnvironment env = OrtEnvironments.get();
    if (cai) {
      CaiOrtSession s = CaiOrt.open(env, model, CaiOrtOptions.builder().intraOpThreads(threads).interOpThreads(1)
          .build());
      return new OrtModelRunner(model, env, s.session(), s);
    }
    try (OrtSession.SessionOptions o = new OrtSession.SessionOptions()) {
      if (threads > 0) {
        o.setIntraOpNumThreads(threads);
      }
      o.setInterOpNumThreads(1);
      OrtSession s = env.createSession(model.toString(), o);
      return new OrtModelRunner(model, env, s, s);
    }
  }

  @Override
  public List<String> inputNames() {
    return inputs;
  }

  @Override
  public Map<String, Tensor> run(Map<String, Tensor> in) throws OrtException {
    Map<String, OnnxTensor> feed = new HashMap<>();
    try {
      for (Map.Entry<String, Tensor> e : in.entrySet()) {
        Tensor t = e.getValue();
        feed.put(e.getKey(), t.isLong()
            ? OnnxTensor.createTensor(env, LongBuffer.wrap(t.longs()), t.shape())
            : OnnxTensor.createTensor(env, FloatBuffer.wrap(t.floats()), t.shape()));
      }
      try (OrtSession.Result r = session.run(feed)) {
        Map<String, Tensor> out = new LinkedHashMap<>();
        for (Map.Entry<String, OnnxValue> e : r) {
          if (!(e.getValue() instanceof OnnxTensor t)) {
            throw new OrtException(file + ": output '" + e.getKey() + "' is not a tensor (" + e.getValue().getType()
                + "); only tensor outputs can become columns");
          }
          long[] shape = t.getInfo().getShape();
          out.put(e.getKey(), switch (t.getInfo().type) {
            case FLOAT -> Tensor.ofFloats(shape, copy(t.getFloatBuffer()));
            case INT64 -> Tensor.ofLongs(shape, copy(t.getLongBuffer()));
            default -> throw new OrtException(file + ": output '" + e.getKey() + "' is " + t.getInfo().type
                + "; fp32 and int64 outputs can become columns");
          });
        }
        return out;
      }
    } finally {
      for (OnnxTensor t : feed.values()) {
        t.close();
      }
    }
  }

  private static float[] copy(FloatBuffer b) {
    float[] a = new float[b.remaining()];
    b.get(a);
    return a;
  }

  private static long[] copy(LongBuffer b) {
    long[] a = new long[b.remaining()];
    b.get(a);
    return a;
  }

  @Override
  public String describe() {
    return "ONNX Runtime " + env.getVersion() + " on " + file;
  }

  @Override
  public void close() throws Exception {
    owner.close();
  }
}
