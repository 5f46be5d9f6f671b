package dev.selfbyt.cortexsdr.onnxops;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import java.nio.FloatBuffer;
import java.nio.LongBuffer;
import java.util.Map;

/**
 * Runs an exported all-MiniLM-L6-v2 file on one fixed input in whatever ONNX Runtime is on the
 * class path and prints {@code OK <version> <sum of squares of the output>}: run by {@link
 * OldRuntimeTest} with ONNX Runtime 1.16.3 in place of 1.29.0.
 */
public final class OldRuntimeInt8Probe {
  private OldRuntimeInt8Probe() {}

  public static void main(String[] args) throws Exception {
    OrtEnvironment env = OrtEnvironment.getEnvironment();
    try (OrtSession.SessionOptions o = new OrtSession.SessionOptions();
        OrtSession s = env.createSession(args[0], o)) {
      System.out.println("OK " + env.getVersion() + " " + sumOfSquares(env, s));
    }
  }

  /** The fixed input: 128 token ids, [CLS] first and [SEP] last. */
  static double sumOfSquares(OrtEnvironment env, OrtSession s) throws Exception {
    long[] ids = new long[128];
    long[] mask = new long[128];
    for (int i = 0; i < ids.length; i++) {
      ids[i] = 1000 + (i * 7919L) % 29000;
      mask[i] = 1;
    }
    ids[0] = 101;
    ids[127] = 102;
    long[] shape = {1, 128};
    try (OnnxTensor a = OnnxTensor.createTensor(env, LongBuffer.wrap(ids), shape);
        OnnxTensor b = OnnxTensor.createTensor(env, LongBuffer.wrap(mask), shape);
        OnnxTensor c = OnnxTensor.createTensor(env, LongBuffer.wrap(new long[128]), shape);
        OrtSession.Result r = s.run(Map.of("input_ids", a, "attention_mask", b, "token_type_ids", c))) {
      FloatBuffer f = ((OnnxTensor) r.get(0)).getFloatBuffer();
      double sum = 0;
      while (f.hasRemaining()) {
        float v = f.get();
        sum += (double) v * v;
      }
      return sum;
    }
  }
}
