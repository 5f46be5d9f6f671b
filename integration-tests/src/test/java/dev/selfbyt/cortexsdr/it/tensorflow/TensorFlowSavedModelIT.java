package dev.selfbyt.cortexsdr.it.tensorflow;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.selfbyt.cortexsdr.cli.CortexSdrCommand;
import dev.selfbyt.cortexsdr.core.tensor.TensorInfo;
import dev.selfbyt.cortexsdr.it.models.MobyDick;
import dev.selfbyt.cortexsdr.tensorflow.CaiSavedModel;
import dev.selfbyt.cortexsdr.tensorflow.SavedModelReader;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tensorflow.SavedModelBundle;

/**
 * A real SavedModel (the Fashion-MNIST MLP 784-512-256-10 trained with TF Java, {@link
 * FashionMnistMlp}) through {@code cortexsdr compress} and back into TensorFlow: the lossless
 * preset bit-identical in TF Java, int8 and int4 sizes and accuracy on the 10,000 test images.
 */
class TensorFlowSavedModelIT {
  @TempDir static Path tmp;
  static Path model;
  static FashionMnist test;
  static float[] fp32Logits;
  static double fp32Accuracy;

  @BeforeAll
  static void fixture() throws Exception {
    long t0 = System.nanoTime();
    model = FashionMnistMlp.ensure(MobyDick.dataDir());
    test = FashionMnist.test();
    try (SavedModelBundle m = SavedModelBundle.load(model.toString(), "serve")) {
      fp32Logits = FashionMnistMlp.logits(m, test.pixels(), test.count());
      fp32Accuracy = FashionMnistMlp.accuracy(m, test);
    }
    System.out.printf(Locale.ROOT, "fixture ready in %.1f s; fp32 test accuracy %.4f%n",
        (System.nanoTime() - t0) / 1e9, fp32Accuracy);
  }

  /** Runs the command; returns exit code and stderr. */
  static Run cli(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    int code = CortexSdrCommand.run(new PrintWriter(out), new PrintWriter(err), args);
    return new Run(code, out.toString(), err.toString());
  }

  record Run(int code, String out, String err) {}

  static long folderBytes(Path dir) throws Exception {
    try (Stream<Path> s = Files.walk(dir)) {
      return s.filter(Files::isRegularFile).mapToLong(p -> p.toFile().length()).sum();
    }
  }

  @Test
  void losslessRoundTripIsBitIdenticalInTensorFlow() throws Exception {
    Path cai = tmp.resolve("lossless.cai");
    Path back = tmp.resolve("lossless-back");
    Run c = cli("compress", model.toString(), "-o", cai.toString(), "--preset", "lossless");
    assertEquals(0, c.code(), c.err());
    Run d = cli("decompress", cai.toString(), "-o", back.toString());
    assertEquals(0, d.code(), d.err());
    // the whole folder, byte for byte: saved_model.pb kept, the checkpoint written as TensorFlow writes it
    for (String f : new String[] {"saved_model.pb", "variables/variables.data-00000-of-00001",
        "variables/variables.index"}) {
      assertArrayEquals(Files.readAllBytes(model.resolve(f)), Files.readAllBytes(back.resolve(f)), f);
    }
    try (SavedModelReader a = SavedModelReader.open(model); SavedModelReader b = SavedModelReader.open(back)) {
      for (TensorInfo t : a.tensors()) {
        assertEquals(a.read(t).bytes(), b.read(t).bytes(), t.name());
      }
    }
    try (SavedModelBundle decompressed = SavedModelBundle.load(back.toString(), "serve");
        SavedModelBundle loaded = CaiSavedModel.load(cai)) {
      assertArrayEquals(bits(fp32Logits), bits(FashionMnistMlp.logits(decompressed, test.pixels(), test.count())));
      assertArrayEquals(bits(fp32Logits), bits(FashionMnistMlp.logits(loaded, test.pixels(), test.count())));
    }
    System.out.printf(Locale.ROOT, "lossless: %,d -> %,d bytes, folder byte-identical after decompress%n",
        folderBytes(model), Files.size(cai));
  }

  private static int[] bits(float[] v) {
    int[] out = new int[v.length];
    for (int i = 0; i < v.length; i++) {
      out[i] = Float.floatToRawIntBits(v[i]);
    }
    return out;
  }

  @Test
  void int8AndInt4KeepTheTestAccuracy() throws Exception {
    Path calib = FashionMnist.train().writeNpy(tmp.resolve("train256.npy"), 256);
    long fp32 = folderBytes(model);
    System.out.printf(Locale.ROOT, "| variant | bytes | smaller than the SavedModel | test accuracy (10,000) |%n");
    System.out.printf(Locale.ROOT, "| fp32 SavedModel | %,d | 1.00x | %.4f |%n", fp32, fp32Accuracy);
    String[][] variants = {
        {"int8", "--preset", "int8"},
        {"int4", "--preset", "int4"},
        {"int4, GPTQ on 256 training images", "--preset", "int4", "--calibrate", calib.toString()}};
    for (String[] v : variants) {
      Path cai = tmp.resolve(v[0].replaceAll("[^a-z0-9]", "_") + ".cai");
      java.util.List<String> args = new java.util.ArrayList<>(java.util.List.of("compress", model.toString(), "-o",
          cai.toString()));
      args.addAll(java.util.Arrays.asList(v).subList(1, v.length));
      Run r = cli(args.toArray(String[]::new));
      assertEquals(0, r.code(), r.err());
      double acc;
      try (SavedModelBundle m = CaiSavedModel.load(cai)) {
        acc = FashionMnistMlp.accuracy(m, test);
      }
      long bytes = Files.size(cai);
      System.out.printf(Locale.ROOT, "| `.cai` %s | %,d | %.2fx | %.4f |%n", v[0], bytes, (double) fp32 / bytes, acc);
      if (v.length > 3) {
        System.out.print(r.err());
        assertTrue(r.err().contains("output check in TensorFlow"), r.err());
      }
      boolean int8 = v[0].equals("int8");
      // int8 and int4 in blocks of 32 with fp16 scales and zero points: 8.75 and 4.75 bits a weight
      // before zstd, so 3.66x and 6.7x on the weights, less the graph and small tensors kept whole
      assertTrue((double) fp32 / bytes >= (int8 ? 3.6 : 6.0), v[0] + ": " + fp32 + " -> " + bytes);
      assertTrue(acc >= fp32Accuracy - (int8 ? 0.003 : 0.01), v[0] + " accuracy " + acc + " vs fp32 " + fp32Accuracy);
    }
  }
}
