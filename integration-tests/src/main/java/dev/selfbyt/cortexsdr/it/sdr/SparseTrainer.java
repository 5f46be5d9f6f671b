package dev.selfbyt.cortexsdr.it.sdr;

import ai.djl.Device;
import ai.djl.Model;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import ai.djl.nn.Blocks;
import ai.djl.nn.SequentialBlock;
import ai.djl.nn.convolutional.Conv2d;
import ai.djl.nn.core.Linear;
import ai.djl.nn.pooling.Pool;
import ai.djl.training.DefaultTrainingConfig;
import ai.djl.training.GradientCollector;
import ai.djl.training.Trainer;
import ai.djl.training.loss.Loss;
import ai.djl.training.optimizer.Optimizer;
import ai.djl.training.tracker.Tracker;
import dev.selfbyt.cortexsdr.core.CompressionOptions;
import dev.selfbyt.cortexsdr.it.models.FashionMnistImages;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * Trains a Fashion-MNIST network with DJL's PyTorch engine from a fixed seed, then prunes it
 * gradually by magnitude while fine-tuning, to each target sparsity in turn (90%, 95%, 98% by
 * default; each continues from the one before, as iterative pruning does), and writes every network
 * as ONNX ({@link NetOnnx}) with a line of {@code train.tsv}: file, sparsity, PyTorch test accuracy,
 * epochs, seconds.
 *
 * <p>Networks ({@code --arch}): {@code mlp} 784-512-256-10; {@code cnn} two 3 x 3 convolutions (16 and
 * 32 filters, each with ReLU and 2 x 2 max pooling), then 1568-128-10.
 *
 * <p>Pruning is per output neuron or filter: each keeps the same number of its largest-magnitude
 * weights, {@code round(n * (1 - s))}, which is what the {@code sdr} codec keeps per fiber at
 * sparsity {@code s}, so compressing with {@code --sparsity s} drops exactly the pruned zeros.
 * Weights the codec leaves lossless because they are small (fewer than {@link
 * CompressionOptions#minLossyElements()} values, like a first convolution's 144) are not pruned. The
 * sparsity rises on the cubic schedule of Zhu and Gupta (2017) over the first two thirds of each
 * stage, then holds while the network recovers; masks are recomputed every 16 steps and applied
 * after every optimiser step.
 *
 * <p>Needs DJL's PyTorch engine on the class path ({@code integration-tests/target/pytorch-lib/*});
 * {@link SdrPocReport} starts it in a child JVM. Usage: {@code SparseTrainer OUT_DIR [--arch
 * mlp|cnn] [--quick] [--seed N] [--sparsities 0.9,0.95,0.98] [--data DIR]}. {@code --quick} trains
 * one epoch per stage (on the first 12,000 images for the CNN), for CI.
 */
public final class SparseTrainer {
  private static final int BATCH = 128;
  /** Steps between recomputing the masks (each step applies them): sorting every fiber is the slow part. */
  private static final int MASK_EVERY = 16;

  private final FashionMnistImages train;
  private final FashionMnistImages test;
  private final long seed;
  private final String arch;
  private final int trainImages;
  private List<NDArray> masks = List.of();

  private SparseTrainer(FashionMnistImages train, FashionMnistImages test, long seed, String arch, int trainImages) {
    this.train = train;
    this.test = test;
    this.seed = seed;
    this.arch = arch;
    this.trainImages = trainImages;
  }

  /** Runs the training; see the class comment for the arguments. */
  public static void main(String[] args) throws Exception {
    Path out = Path.of(args[0]);
    boolean quick = false;
    long seed = 42;
    String arch = "mlp";
    Path data = FashionMnistImages.DEFAULT_DIR;
    double[] targets = {0.9, 0.95, 0.98};
    for (int i = 1; i < args.length; i++) {
      switch (args[i]) {
        case "--quick" -> quick = true;
        case "--seed" -> seed = Long.parseLong(args[++i]);
        case "--arch" -> arch = args[++i];
        case "--data" -> data = Path.of(args[++i]);
        case "--sparsities" -> targets = Arrays.stream(args[++i].split(",")).mapToDouble(Double::parseDouble).toArray();
        default -> throw new IllegalArgumentException("unknown argument " + args[i]);
      }
    }
    if (!arch.equals("mlp") && !arch.equals("cnn")) {
      throw new IllegalArgumentException("--arch " + arch + ": use mlp or cnn");
    }
    System.setProperty("ai.djl.pytorch.num_threads", System.getProperty("ai.djl.pytorch.num_threads", "2"));
    System.setProperty("ai.djl.pytorch.num_interop_threads", "1");
    FashionMnistImages train = FashionMnistImages.train(data);
    int images = quick && arch.equals("cnn") ? 12_000 : train.size();
    new SparseTrainer(train, FashionMnistImages.test(data), seed, arch, images).run(out, quick, targets);
  }

  /** The network's blocks and, in the same order, what each is for the ONNX file. */
  private record Net(SequentialBlock block, List<Object> layers) {}

  private Net build() {
    SequentialBlock b = new SequentialBlock();
    List<Object> l = new ArrayList<>();
    if (arch.equals("cnn")) {
      for (int filters : new int[] {16, 32}) {
        Conv2d c = Conv2d.builder().setKernelShape(new Shape(3, 3)).optPadding(new Shape(1, 1)).setFilters(filters)
            .build();
        b.add(c).add(Activation.reluBlock()).add(Pool.maxPool2dBlock(new Shape(2, 2), new Shape(2, 2)));
        l.addAll(List.of(c, new NetOnnx.Relu(), new NetOnnx.MaxPool()));
      }
      b.add(Blocks.batchFlattenBlock());
      l.add(new NetOnnx.Flatten());
    }
    int[] units = arch.equals("cnn") ? new int[] {128, FashionMnistImages.CLASSES} : new int[] {512, 256,
        FashionMnistImages.CLASSES};
    for (int i = 0; i < units.length; i++) {
      Linear d = Linear.builder().setUnits(units[i]).build();
      b.add(d);
      l.add(d);
      if (i < units.length - 1) {
        b.add(Activation.reluBlock());
        l.add(new NetOnnx.Relu());
      }
    }
    return new Net(b, l);
  }

  private Shape inputShape(int n) {
    return arch.equals("cnn") ? new Shape(n, 1, 28, 28) : new Shape(n, FashionMnistImages.PIXELS);
  }

  private void run(Path out, boolean quick, double[] targets) throws IOException {
    Files.createDirectories(out);
    Path log = out.resolve("train.tsv");
    Files.deleteIfExists(log);
    Engine.getEngine("PyTorch").setRandomSeed((int) seed);
    Net net = build();
    try (Model model = Model.newInstance("fashion-" + arch, "PyTorch")) {
      model.setBlock(net.block());
      List<NDArray> prunable = new ArrayList<>();
      SplittableRandom shuffle = new SplittableRandom(seed);
      float[] lr = {1e-3f};
      long t0 = System.nanoTime();
      int denseEpochs = quick ? 1 : arch.equals("cnn") ? 3 : 4;
      try (Trainer trainer = trainer(model, lr)) {
        int minElements = CompressionOptions.builder().build().minLossyElements();
        for (Object o : net.layers()) {
          if (o instanceof ai.djl.nn.Block blk && !(o instanceof NetOnnx.Layer)) {
            NDArray w = blk.getParameters().get("weight").getArray();
            if (w.size() >= minElements) {
              prunable.add(w);
            }
          }
        }
        for (int e = 0; e < denseEpochs; e++) {
          epoch(trainer, shuffle, null, 0, 0, 0, prunable);
        }
        save(out, arch + "-dense.onnx", 0, trainer, net, denseEpochs, t0, log);
        lr[0] = 5e-4f; // fine-tuning
        double from = 0;
        for (double s : targets) {
          int epochs = quick ? 1 : from == 0 ? 4 : 2;
          long t1 = System.nanoTime();
          int steps = epochs * ((trainImages + BATCH - 1) / BATCH);
          int ramp = Math.max(1, steps * 2 / 3);
          int[] step = {0};
          for (int e = 0; e < epochs; e++) {
            epoch(trainer, shuffle, step, ramp, from, s, prunable);
          }
          prune(prunable, s); // exactly the target, whatever the schedule's last step was
          save(out, String.format(Locale.ROOT, "%s-s%02d.onnx", arch, Math.round(s * 100)), s, trainer, net,
              epochs, t1, log);
          from = s;
        }
      }
    }
  }

  /** One trainer for all stages; the learning rate is read from {@code lr[0]} at every update. */
  private Trainer trainer(Model model, float[] lr) {
    Tracker rate = numUpdate -> lr[0];
    DefaultTrainingConfig cfg = new DefaultTrainingConfig(Loss.softmaxCrossEntropyLoss())
        .optOptimizer(Optimizer.adam().optLearningRateTracker(rate).build())
        .optDevices(new Device[] {Device.cpu()});
    Trainer t = model.newTrainer(cfg);
    t.initialize(inputShape(1));
    return t;
  }

  /** One pass over the training images; with {@code step} non-null, prunes on the schedule as it goes. */
  private void epoch(Trainer trainer, SplittableRandom rnd, int[] step, int ramp, double from, double to,
      List<NDArray> prunable) {
    int n = trainImages;
    int[] order = new int[n];
    for (int i = 0; i < n; i++) {
      order[i] = i;
    }
    for (int i = n - 1; i > 0; i--) {
      int j = rnd.nextInt(i + 1);
      int t = order[i];
      order[i] = order[j];
      order[j] = t;
    }
    NDManager m = trainer.getManager();
    for (int b = 0; b < n; b += BATCH) {
      int e = Math.min(n, b + BATCH);
      try (NDManager batch = m.newSubManager()) {
        NDArray x = batch.create(train.batch(order, b, e), inputShape(e - b));
        long[] y = new long[e - b];
        for (int i = b; i < e; i++) {
          y[i - b] = train.labels()[order[i]];
        }
        NDArray label = batch.create(y);
        try (GradientCollector gc = trainer.newGradientCollector()) {
          NDArray pred = trainer.forward(new NDList(x)).singletonOrThrow();
          NDArray loss = trainer.getLoss().evaluate(new NDList(label), new NDList(pred));
          gc.backward(loss);
        }
        trainer.step();
      }
      if (step != null) {
        int k = ++step[0];
        if (k % MASK_EVERY == 1 || k >= ramp && k - MASK_EVERY < ramp) {
          double t = Math.min(1.0, (double) k / ramp);
          masks = masks(prunable, to + (from - to) * Math.pow(1 - t, 3));
        }
        for (int i = 0; i < prunable.size(); i++) {
          prunable.get(i).muli(masks.get(i)); // pruned weights stay zero whatever the optimiser did
        }
      }
    }
  }

  /** Zeroes all but the {@code round(n * (1 - s))} largest-magnitude weights of every output (dimension 0). */
  private void prune(List<NDArray> weights, double s) {
    masks = masks(weights, s);
    for (int i = 0; i < weights.size(); i++) {
      weights.get(i).muli(masks.get(i));
    }
  }

  /** For each weight, 1 where {@link #prune} keeps a value and 0 where it drops it. */
  private List<NDArray> masks(List<NDArray> weights, double s) {
    for (NDArray m : masks) {
      m.close();
    }
    List<NDArray> out = new ArrayList<>();
    for (NDArray w : weights) {
      int outs = (int) w.getShape().get(0);
      int in = (int) (w.size() / outs);
      int keep = (int) Math.min(in, Math.max(0, Math.round(in * (1.0 - s))));
      float[] v = w.toFloatArray();
      float[] mask = new float[v.length];
      float[] mags = new float[in];
      for (int o = 0; o < outs; o++) {
        for (int i = 0; i < in; i++) {
          mags[i] = Math.abs(v[o * in + i]);
        }
        float[] sorted = mags.clone();
        Arrays.sort(sorted);
        float cut = keep == 0 ? Float.POSITIVE_INFINITY : sorted[in - keep];
        int above = 0;
        for (float g : mags) {
          above += g > cut ? 1 : 0;
        }
        int equal = keep - above; // ties at the cut go to lower indices, as the codec breaks them
        for (int i = 0; i < in; i++) {
          if (mags[i] > cut || (mags[i] == cut && equal-- > 0)) {
            mask[o * in + i] = 1f;
          }
        }
      }
      out.add(w.getManager().create(mask, w.getShape()));
    }
    return out;
  }

  private void save(Path out, String file, double s, Trainer trainer, Net net, int epochs, long t0, Path log)
      throws IOException {
    List<NetOnnx.Layer> onnx = new ArrayList<>();
    for (Object o : net.layers()) {
      if (o instanceof NetOnnx.Layer l) {
        onnx.add(l);
      } else if (o instanceof Linear l) {
        NDArray w = l.getParameters().get("weight").getArray(); // DJL: [out, in]; ONNX MatMul: [in, out]
        int outs = (int) w.getShape().get(0);
        int in = (int) w.getShape().get(1);
        float[] v = w.toFloatArray();
        float[] t = new float[v.length];
        for (int r = 0; r < outs; r++) {
          for (int i = 0; i < in; i++) {
            t[i * outs + r] = v[r * in + i];
          }
        }
        onnx.add(new NetOnnx.Dense(in, outs, t, l.getParameters().get("bias").getArray().toFloatArray()));
      } else if (o instanceof Conv2d c) {
        NDArray w = c.getParameters().get("weight").getArray(); // [out, in, k, k] in both
        Shape sh = w.getShape();
        onnx.add(new NetOnnx.Conv((int) sh.get(1), (int) sh.get(0), (int) sh.get(2), w.toFloatArray(),
            c.getParameters().get("bias").getArray().toFloatArray()));
      }
    }
    NetOnnx.write(onnx, out.resolve(file));
    double acc = accuracy(trainer);
    double secs = (System.nanoTime() - t0) / 1e9;
    String line = String.format(Locale.ROOT, "%s\t%.2f\t%.4f\t%d\t%.1f%n", file, s, acc, epochs, secs);
    System.out.print("trained " + line);
    Files.writeString(log, line, StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
  }

  private double accuracy(Trainer trainer) {
    int correct = 0;
    for (int b = 0; b < test.size(); b += 500) {
      int e = Math.min(test.size(), b + 500);
      try (NDManager batch = trainer.getManager().newSubManager()) {
        NDArray x = batch.create(test.batch(null, b, e), inputShape(e - b));
        long[] pred = trainer.evaluate(new NDList(x)).singletonOrThrow().argMax(1).toLongArray();
        for (int i = b; i < e; i++) {
          correct += pred[i - b] == test.labels()[i] ? 1 : 0;
        }
      }
    }
    return (double) correct / test.size();
  }
}
