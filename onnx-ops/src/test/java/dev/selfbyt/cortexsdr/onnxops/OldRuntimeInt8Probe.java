package dev.selfbyt.cortexsdr.onnxops;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import java.nio.FloatBuffer;
import java.nio.LongBuffer;
import java.util.Map;

/**
 * Runs an exported all-MiniLM-L6-v2 file on one fixed input in whatever ONNX Runtime is on the
 * class path and prints {@code OK <version> <sum of squares of the output>}, and writes the output
 * to the file given second: run by {@link OldRuntimeTest} with ONNX Runtime 1.16.3 in place of
 * 1.29.0.
 */
public final class OldRuntimeInt8Probe {
  private OldRuntimeInt8Probe() {}

  public static void main(String[] args) throws Exception {
    OrtEnvironment env = OrtEnvironment.getEnvironment();
    try (OrtSession.SessionOptions o = new OrtSession.SessionOptions();
        OrtSession s = env.createSession(args[0], o)) {
      float[] out = output(env, s);
      if (args.length > 1) { // the output itself, little-endian floats, for the caller to compare
        java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(4 * out.length).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        b.asFloatBuffer().put(out);
        java.nio.file.Files.write(java.nio.file.Path.of(args[1]), b.array());
      }
      double sum = 0;
      for (float v : out) {
        sum += (double) v * v;
      }
      System.out.println("OK " + env.getVersion() + " " + sum);
    }
  }

  /** The output on the fixed input: 128 token ids, [CLS] first and [SEP] last. */
  static float[] output(OrtEnvironment env, OrtSession s) throws Exception {
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
      float[] out = new float[f.remaining()];
      f.get(out);
      return out;
    }
  }
}
