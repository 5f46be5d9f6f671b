package dev.selfbyt.cortexsdr.tensorflow;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.tensorflow.Graph;
import org.tensorflow.Result;
import org.tensorflow.SavedModelBundle;
import org.tensorflow.Session;
import org.tensorflow.Signature;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.op.core.Variable;
import org.tensorflow.op.random.TruncatedNormal;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt32;

/**
 * A small SavedModel written by TF Java with seeded random variables: a 3x3 {@code Conv2D} on a
 * 4x4x2 image, a {@code MatMul} to 10 logits with a {@code BiasAdd}, plus a row of a 20x10
 * embedding table picked by {@code GatherV2}. Signature {@code serving_default}: inputs {@code
 * image} [n,4,4,2] and {@code id} [n] (int32), output {@code logits} [n,10].
 */
final class TinySavedModel {
  private TinySavedModel() {}

  static void write(Path dir) throws Exception {
    try (Graph g = new Graph()) {
      Ops tf = Ops.create(g);
      Placeholder<TFloat32> image = tf.withName("image").placeholder(TFloat32.class,
          Placeholder.shape(Shape.of(-1, 4, 4, 2)));
      Placeholder<TInt32> id = tf.withName("id").placeholder(TInt32.class, Placeholder.shape(Shape.of(-1)));
      Variable<TFloat32> filter = variable(tf, "conv", 1, 3, 3, 2, 16);
      Variable<TFloat32> kernel = variable(tf, "dense", 2, 256, 10);
      Variable<TFloat32> bias = variable(tf, "dense_bias", 3, 10);
      Variable<TFloat32> table = variable(tf, "embedding", 4, 20, 10);
      var conv = tf.nn.relu(tf.nn.conv2d(image, filter, List.of(1L, 1L, 1L, 1L), "SAME"));
      var flat = tf.reshape(conv, tf.constant(new int[] {-1, 256}));
      var dense = tf.nn.biasAdd(tf.linalg.matMul(flat, kernel), bias);
      var logits = tf.withName("logits").math.add(dense, tf.gather(table, id, tf.constant(0)));
      try (Session s = new Session(g)) {
        s.initialize();
        Signature sig = Signature.builder().key("serving_default").input("image", image).input("id", id)
            .output("logits", logits).build();
        SavedModelBundle.exporter(dir.toString()).withSession(s).withSignature(sig).export();
      }
    }
  }

  private static Variable<TFloat32> variable(Ops tf, String name, long seed, long... shape) {
    return tf.withName(name).variable(tf.math.mul(tf.random.truncatedNormal(tf.constant(shape), TFloat32.class,
        TruncatedNormal.seed(seed), TruncatedNormal.seed2(seed)), tf.constant(0.3f)));
  }

  /** Runs the model's signature on seeded inputs of {@code n} rows; returns the logits. */
  static float[] run(SavedModelBundle model, int n) {
    java.util.Random r = new java.util.Random(7);
    try (TFloat32 image = TFloat32.tensorOf(Shape.of(n, 4, 4, 2));
        TInt32 id = TInt32.tensorOf(Shape.of(n))) {
      for (int i = 0; i < n; i++) {
        id.setInt(r.nextInt(20), i);
        for (int y = 0; y < 4; y++) {
          for (int x = 0; x < 4; x++) {
            for (int c = 0; c < 2; c++) {
              image.setFloat((float) r.nextGaussian(), i, y, x, c);
            }
          }
        }
      }
      try (Result out = model.call(Map.of("image", image, "id", id))) {
        TFloat32 logits = (TFloat32) out.get("logits").orElseThrow();
        float[] v = new float[n * 10];
        logits.copyTo(org.tensorflow.ndarray.buffer.DataBuffers.of(v, false, false));
        return v;
      }
    }
  }
}
