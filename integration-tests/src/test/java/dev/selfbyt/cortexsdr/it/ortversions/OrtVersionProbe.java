package dev.selfbyt.cortexsdr.it.ortversions;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import dev.selfbyt.cortexsdr.onnxops.CaiOrt;
import dev.selfbyt.cortexsdr.onnxops.CaiOrtSession;
import dev.selfbyt.cortexsdr.onnxops.SdrOps;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.LongBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * Runs MiniLM files in whatever ONNX Runtime is on the class path, one fixed input each, and
 * writes each output to {@code OUT/<file>.f32}; prints {@code RUNTIME <version>} and one {@code
 * RESULT <file> OK|FAIL <message>} line per file. {@code .onnx} files open with {@code
 * env.createSession} (named {@code *.sdrmatmul.onnx}: after {@code SdrOps.register}), {@code .cai}
 * files with {@code CaiOrt.open} and its defaults. With {@code --djl} first, {@code .onnx} files
 * run through DJL's own ONNX Runtime engine ({@link DjlOrtRunner}). Started by {@link
 * OnnxRuntimeVersionsIT} in a JVM of its own per runtime.
 *
 * <p>Usage: {@code OrtVersionProbe [--djl] OUT file...}
 */
public final class OrtVersionProbe {
  private OrtVersionProbe() {}

  /** 32 token ids: [CLS], words from the vocabulary, [SEP]. */
  static final long[] IDS = new long[32];

  static {
    for (int i = 0; i < IDS.length; i++) {
      IDS[i] = 1000 + (i * 7919L) % 29000;
    }
    IDS[0] = 101;
    IDS[IDS.length - 1] = 102;
  }

  public static void main(String[] args) throws Exception {
    boolean djl = args[0].equals("--djl");
    int at = djl ? 1 : 0;
    Path out = Path.of(args[at]);
    DjlOrtRunner viaDjl = djl ? new DjlOrtRunner() : null; // DJL's engine first, before any OrtEnvironment
    OrtEnvironment env = OrtEnvironment.getEnvironment();
    System.out.println("RUNTIME " + env.getVersion() + (djl ? " (" + viaDjl.describe() + ")" : ""));
    System.out.flush();
    for (int i = at + 1; i < args.length; i++) {
      Path file = Path.of(args[i]);
      String name = file.getFileName().toString();
      try {
        float[] y;
        if (name.endsWith(".cai")) {
          try (CaiOrtSession s = CaiOrt.open(env, file)) {
            y = run(env, s.session());
          }
        } else if (viaDjl != null) {
          y = viaDjl.run(file, IDS);
        } else {
          try (OrtSession.SessionOptions o = new OrtSession.SessionOptions()) {
            if (name.endsWith(".sdrmatmul.onnx")) {
              SdrOps.register(o);
            }
            try (OrtSession s = env.createSession(file.toString(), o)) {
              y = run(env, s);
            }
          }
        }
        ByteBuffer b = ByteBuffer.allocate(4 * y.length).order(ByteOrder.LITTLE_ENDIAN);
        b.asFloatBuffer().put(y);
        Files.write(out.resolve(name + ".f32"), b.array());
        System.out.println("RESULT " + name + " OK");
        System.out.flush(); // a pipe: each line out before the next file, should a runtime crash
      } catch (Exception | LinkageError e) {
        String m = String.valueOf(e.getMessage()).replace('\n', ' ');
        System.out.println("RESULT " + name + " FAIL " + e.getClass().getSimpleName() + ": "
            + m.substring(0, Math.min(300, m.length())));
        System.out.flush();
      }
    }
    if (viaDjl != null) {
      viaDjl.close();
    }
  }

  static float[] run(OrtEnvironment env, OrtSession s) throws Exception {
    long[] shape = {1, IDS.length};
    long[] mask = new long[IDS.length];
    java.util.Arrays.fill(mask, 1);
    try (OnnxTensor a = OnnxTensor.createTensor(env, LongBuffer.wrap(IDS), shape);
        OnnxTensor b = OnnxTensor.createTensor(env, LongBuffer.wrap(mask), shape);
        OnnxTensor c = OnnxTensor.createTensor(env, LongBuffer.wrap(new long[IDS.length]), shape);
        OrtSession.Result r = s.run(Map.of("input_ids", a, "attention_mask", b, "token_type_ids", c))) {
      FloatBuffer f = ((OnnxTensor) r.get(0)).getFloatBuffer();
      float[] v = new float[f.remaining()];
      f.get(v);
      return v;
    }
  }
}
