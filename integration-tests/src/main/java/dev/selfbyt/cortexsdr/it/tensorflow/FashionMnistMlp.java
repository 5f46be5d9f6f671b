package dev.selfbyt.cortexsdr.it.tensorflow;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.tensorflow.Graph;
import org.tensorflow.Result;
import org.tensorflow.SavedModelBundle;
import org.tensorflow.Session;
import org.tensorflow.Signature;
import org.tensorflow.Tensor;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.ndarray.buffer.DataBuffers;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.op.core.Variable;
import org.tensorflow.op.random.TruncatedNormal;
import org.tensorflow.types.TFloat32;

/**
 * A Fashion-MNIST classifier trained from Java with TF Java and saved as a SavedModel: an MLP
 * 784-512-256-10 (ReLU), seeded initial weights, plain SGD on mini-batches of the 60,000 training
 * images in a seeded order. The SavedModel holds only the serving graph (no training ops):
 * signature {@code serving_default}, input {@code pixels} float [n, 784] in [0, 1], output {@code
 * logits} [n, 10]; variables {@code dense_0/kernel} ... {@code dense_2/bias}.
 *
 * <p>{@link #ensure(Path)} trains once and keeps the folder for later runs (the integration tests'
 * data folder); its 3 epochs took about 15 s on the project's two cores.
 */
public final class FashionMnistMlp {
  /** Layer widths. */
  public static final int[] WIDTHS = {FashionMnist.PIXELS, 512, 256, 10};
  /** Passes over the training set. */
  public static final int EPOCHS = 3;
  static final int BATCH = 100;
  static final float LEARNING_RATE = 0.1f;
  static final long SEED = 42;

  private FashionMnistMlp() {}

  /** The SavedModel in {@code dataDir}/fashion-mnist-mlp, trained now if absent. */
  public static Path ensure(Path dataDir) throws IOException {
    Path dir = dataDir.resolve("fashion-mnist-mlp");
    if (Files.isRegularFile(dir.resolve("saved_model.pb"))) {
      return dir;
    }
    Files.createDirectories(dataDir);
    Path tmp = Files.createTempDirectory(dataDir, ".fashion-mnist-mlp-");
    Path out = tmp.resolve("model");
    train(FashionMnist.train(), out);
    Files.move(out, dir);
    Files.delete(tmp);
    return dir;
  }

  /** Trains on {@code data} and writes the SavedModel folder {@code out}. */
  public static void train(FashionMnist data, Path out) throws IOException {
    List<float[]> weights = new ArrayList<>();
    try (Graph g = new Graph()) {
      Ops tf = Ops.create(g);
      var x = tf.placeholder(TFloat32.class, Placeholder.shape(Shape.of(-1, FashionMnist.PIXELS)));
      // one-hot labels: TensorFlow's C++ gradients (which TF Java uses) have none for the sparse loss
      var y = tf.placeholder(TFloat32.class, Placeholder.shape(Shape.of(-1, 10)));
      List<Variable<TFloat32>> vars = new ArrayList<>();
      for (int l = 0; l + 1 < WIDTHS.length; l++) {
        float scale = (float) Math.sqrt(2.0 / WIDTHS[l]);
        vars.add(tf.variable(tf.math.mul(tf.random.truncatedNormal(tf.constant(new long[] {WIDTHS[l], WIDTHS[l + 1]}),
            TFloat32.class, TruncatedNormal.seed(SEED), TruncatedNormal.seed2(l + 1L)), tf.constant(scale))));
        vars.add(tf.variable(tf.zeros(tf.constant(new long[] {WIDTHS[l + 1]}), TFloat32.class)));
      }
      var logits = forward(tf, x, vars);
      var loss = tf.math.neg(tf.math.mean(tf.reduceSum(tf.math.mul(y, tf.nn.logSoftmax(logits)), tf.constant(1)),
          tf.constant(0)));
      var grads = tf.gradients(loss, vars);
      List<org.tensorflow.op.Op> steps = new ArrayList<>();
      var lr = tf.constant(LEARNING_RATE);
      // updates wait for every gradient: the forward pass reads the variables by reference, and an
      // early update would race with the backward pass of another layer
      List<org.tensorflow.op.Op> allGrads = new ArrayList<>();
      for (int i = 0; i < vars.size(); i++) {
        allGrads.add(tf.identity(grads.<TFloat32>dy(i)));
      }
      Ops after = tf.withControlDependencies(allGrads);
      for (int i = 0; i < vars.size(); i++) {
        steps.add(after.train.applyGradientDescent(vars.get(i), lr, grads.<TFloat32>dy(i)));
      }
      try (Session s = new Session(g)) {
        s.initialize();
        int n = data.count();
        int[] order = new int[n];
        java.util.Random r = new java.util.Random(SEED);
        for (int e = 0; e < EPOCHS; e++) {
          for (int i = 0; i < n; i++) {
            order[i] = i;
          }
          for (int i = n - 1; i > 0; i--) { // Fisher-Yates, seeded
            int j = r.nextInt(i + 1);
            int t = order[i];
            order[i] = order[j];
            order[j] = t;
          }
          for (int b = 0; b + BATCH <= n; b += BATCH) {
            float[] px = new float[BATCH * FashionMnist.PIXELS];
            float[] lab = new float[BATCH * 10];
            for (int k = 0; k < BATCH; k++) {
              System.arraycopy(data.pixels(), order[b + k] * FashionMnist.PIXELS, px, k * FashionMnist.PIXELS,
                  FashionMnist.PIXELS);
              lab[k * 10 + data.labels()[order[b + k]]] = 1;
            }
            try (TFloat32 xt = TFloat32.tensorOf(Shape.of(BATCH, FashionMnist.PIXELS), DataBuffers.of(px, true, false));
                TFloat32 yt = TFloat32.tensorOf(Shape.of(BATCH, 10), DataBuffers.of(lab, true, false))) {
              Session.Runner run = s.runner().feed(x, xt).feed(y, yt);
              steps.forEach(run::addTarget);
              run.run().close();
            }
          }
        }
        Session.Runner fetch = s.runner();
        vars.forEach(fetch::fetch);
        try (Result res = fetch.run()) {
          for (int i = 0; i < vars.size(); i++) {
            TFloat32 t = (TFloat32) res.get(i);
            float[] v = new float[(int) t.shape().size()];
            t.copyTo(DataBuffers.of(v, false, false));
            weights.add(v);
          }
        }
      }
    }
    export(weights, out);
  }

  private static org.tensorflow.Operand<TFloat32> forward(Ops tf, org.tensorflow.Operand<TFloat32> x,
      List<? extends org.tensorflow.Operand<TFloat32>> vars) {
    org.tensorflow.Operand<TFloat32> h = x;
    for (int l = 0; l < vars.size() / 2; l++) {
      h = tf.nn.biasAdd(tf.linalg.matMul(h, vars.get(2 * l)), vars.get(2 * l + 1));
      if (l + 1 < vars.size() / 2) {
        h = tf.nn.relu(h);
      }
    }
    return h;
  }

  /** A serving graph with the trained values as its variables, exported as a SavedModel. */
  private static void export(List<float[]> weights, Path out) throws IOException {
    try (Graph g = new Graph()) {
      Ops tf = Ops.create(g);
      var x = tf.withName("pixels").placeholder(TFloat32.class, Placeholder.shape(Shape.of(-1, FashionMnist.PIXELS)));
      List<Variable<TFloat32>> vars = new ArrayList<>();
      List<Placeholder<TFloat32>> feeds = new ArrayList<>();
      List<org.tensorflow.op.Op> assigns = new ArrayList<>();
      for (int l = 0; l + 1 < WIDTHS.length; l++) {
        Ops layer = tf.withSubScope("dense_" + l);
        Shape[] shapes = {Shape.of(WIDTHS[l], WIDTHS[l + 1]), Shape.of(WIDTHS[l + 1])};
        String[] names = {"kernel", "bias"};
        for (int k = 0; k < 2; k++) {
          Variable<TFloat32> v = layer.withName(names[k]).variable(shapes[k], TFloat32.class);
          Placeholder<TFloat32> p = layer.withName(names[k] + "_value").placeholder(TFloat32.class,
              Placeholder.shape(shapes[k]));
          assigns.add(layer.withName(names[k] + "_assign").assign(v, p));
          vars.add(v);
          feeds.add(p);
        }
      }
      var logits = tf.withName("logits").identity(forward(tf, x, vars));
      try (Session s = new Session(g)) {
        Session.Runner run = s.runner();
        List<Tensor> open = new ArrayList<>();
        try {
          for (int i = 0; i < vars.size(); i++) {
            TFloat32 t = TFloat32.tensorOf(vars.get(i).shape(), DataBuffers.of(weights.get(i), true, false));
            open.add(t);
            run.feed(feeds.get(i), t);
            run.addTarget(assigns.get(i));
          }
          run.run().close();
        } finally {
          open.forEach(Tensor::close);
        }
        Signature sig = Signature.builder().key("serving_default").input("pixels", x).output("logits", logits).build();
        SavedModelBundle.exporter(out.toString()).withSession(s).withSignature(sig).export();
      }
    }
  }

  /** The fraction of {@code data} the model classifies right (batches of 1,000 through its signature). */
  public static double accuracy(SavedModelBundle model, FashionMnist data) {
    int right = 0;
    int n = data.count();
    for (int b = 0; b < n; b += 1000) {
      int m = Math.min(1000, n - b);
      float[] px = new float[m * FashionMnist.PIXELS];
      System.arraycopy(data.pixels(), b * FashionMnist.PIXELS, px, 0, px.length);
      float[] logits = logits(model, px, m);
      for (int i = 0; i < m; i++) {
        int best = 0;
        for (int c = 1; c < 10; c++) {
          if (logits[i * 10 + c] > logits[i * 10 + best]) {
            best = c;
          }
        }
        right += best == data.labels()[b + i] ? 1 : 0;
      }
    }
    return (double) right / n;
  }

  /** The logits of {@code m} images, {@code m * 10} values. */
  public static float[] logits(SavedModelBundle model, float[] pixels, int m) {
    try (TFloat32 xt = TFloat32.tensorOf(Shape.of(m, FashionMnist.PIXELS), DataBuffers.of(pixels, true, false));
        Result r = model.call(Map.of("pixels", xt))) {
      TFloat32 out = (TFloat32) r.get("logits").orElseThrow();
      float[] v = new float[m * 10];
      out.copyTo(DataBuffers.of(v, false, false));
      return v;
    }
  }
}
