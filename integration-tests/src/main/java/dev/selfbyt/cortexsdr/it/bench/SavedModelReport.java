package dev.selfbyt.cortexsdr.it.bench;

import dev.selfbyt.cortexsdr.core.CompressionOptions;
import dev.selfbyt.cortexsdr.core.CortexSdr;
import dev.selfbyt.cortexsdr.core.Preset;
import dev.selfbyt.cortexsdr.core.tensor.TensorSource;
import dev.selfbyt.cortexsdr.it.models.MobyDick;
import dev.selfbyt.cortexsdr.it.tensorflow.FashionMnist;
import dev.selfbyt.cortexsdr.it.tensorflow.FashionMnistMlp;
import dev.selfbyt.cortexsdr.tensorflow.CaiSavedModel;
import dev.selfbyt.cortexsdr.tensorflow.NpyArray;
import dev.selfbyt.cortexsdr.tensorflow.SavedModelCalibrator;
import dev.selfbyt.cortexsdr.tensorflow.SavedModelReader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Stream;
import org.tensorflow.SavedModelBundle;

/**
 * The SavedModel table of docs/benchmarks.md: the Fashion-MNIST MLP trained with TF Java ({@link
 * FashionMnistMlp}) compressed lossless, int8, int4 and int4 with GPTQ calibrated in TF Java on
 * 256 training images; per variant the {@code .cai} size against the SavedModel folder, the
 * accuracy on the 10,000 test images in TF Java, the largest logit difference to fp32, and the
 * time to load into TF Java (median of 7, interleaved with loading the original folder, in one
 * run). The benchmarks jar leaves out TensorFlow's native library; name it beside. Run:
 *
 * <pre>
 * java -cp integration-tests/target/benchmarks.jar:$HOME/.m2/repository/org/tensorflow/tensorflow-core-native/1.1.0/tensorflow-core-native-1.1.0-linux-x86_64.jar \
 *     dev.selfbyt.cortexsdr.it.bench.SavedModelReport
 * </pre>
 */
public final class SavedModelReport {
  private SavedModelReport() {}

  public static void main(String[] args) throws Exception {
    Path model = FashionMnistMlp.ensure(MobyDick.dataDir());
    FashionMnist test = FashionMnist.test();
    Path work = Files.createTempDirectory("savedmodel-report");
    float[] fp32;
    double fp32Acc;
    try (SavedModelBundle m = SavedModelBundle.load(model.toString(), "serve")) {
      fp32 = FashionMnistMlp.logits(m, test.pixels(), test.count());
      fp32Acc = FashionMnistMlp.accuracy(m, test);
    }
    long folder;
    try (Stream<Path> s = Files.walk(model)) {
      folder = s.filter(Files::isRegularFile).mapToLong(p -> p.toFile().length()).sum();
    }
    System.out.printf(Locale.ROOT, "load average %s%n", Files.readString(Path.of("/proc/loadavg")).strip());
    System.out.println("| variant | bytes | smaller than the SavedModel | test accuracy | max abs logit difference "
        + "| load into TF Java, ms (median of 7) | vs loading the SavedModel |");
    System.out.println("|---|---|---|---|---|---|---|");
    double base = loadMs(model, null);
    System.out.printf(Locale.ROOT, "| fp32 SavedModel folder | %,d | 1.00x | %.4f | 0 | %.1f | 1.00x |%n", folder, fp32Acc,
        base);
    Path npy = FashionMnist.train().writeNpy(work.resolve("train256.npy"), 256);
    Object[][] variants = {{"lossless", Preset.LOSSLESS, false}, {"int8", Preset.INT8, false},
        {"int4", Preset.INT4, false}, {"int4, GPTQ on 256 training images", Preset.INT4, true}};
    for (Object[] v : variants) {
      Path cai = work.resolve(((Preset) v[1]).id() + v[2] + ".cai");
      CompressionOptions o = CompressionOptions.builder().preset((Preset) v[1]).build();
      try (SavedModelReader r = SavedModelReader.open(model)) {
        TensorSource src = r;
        if ((Boolean) v[2]) {
          src = new SavedModelCalibrator(r, o).calibrate(SavedModelCalibrator.batches(r, NpyArray.read(npy), 100));
        }
        CortexSdr.compress(src, cai, o);
      }
      double acc;
      double maxDiff = 0;
      try (SavedModelBundle m = CaiSavedModel.load(cai)) {
        acc = FashionMnistMlp.accuracy(m, test);
        float[] got = FashionMnistMlp.logits(m, test.pixels(), test.count());
        for (int i = 0; i < got.length; i++) {
          maxDiff = Math.max(maxDiff, Math.abs(got[i] - fp32[i]));
        }
      }
      double[] times = new double[2];
      double ms = loadMs(model, cai, times);
      System.out.printf(Locale.ROOT, "| `.cai` %s | %,d | %.2fx | %.4f | %.3g | %.1f | %.2fx |%n", v[0], Files.size(cai),
          (double) folder / Files.size(cai), acc, maxDiff, ms, times[1] / times[0]);
    }
    System.out.printf(Locale.ROOT, "load average %s%n", Files.readString(Path.of("/proc/loadavg")).strip());
  }

  private static double loadMs(Path model, Path cai) throws Exception {
    return loadMs(model, cai, new double[2]);
  }

  /** Median load time of {@code cai} (or of the folder when null); times[0], [1]: folder and cai medians. */
  private static double loadMs(Path model, Path cai, double[] times) throws Exception {
    int n = 7;
    double[] a = new double[n];
    double[] b = new double[n];
    for (int i = 0; i < n; i++) {
      long t0 = System.nanoTime();
      try (SavedModelBundle m = SavedModelBundle.load(model.toString(), "serve")) {
        a[i] = (System.nanoTime() - t0) / 1e6;
      }
      if (cai != null) {
        t0 = System.nanoTime();
        try (SavedModelBundle m = CaiSavedModel.load(cai)) {
          b[i] = (System.nanoTime() - t0) / 1e6;
        }
      }
    }
    Arrays.sort(a);
    Arrays.sort(b);
    times[0] = a[n / 2];
    times[1] = b[n / 2];
    return cai == null ? times[0] : times[1];
  }
}
