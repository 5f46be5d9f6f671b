package dev.selfbyt.cortexsdr.it.djl;

import ai.djl.engine.Engine;
import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.inference.Predictor;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.repository.zoo.Criteria;
import ai.djl.repository.zoo.ZooModel;
import ai.djl.translate.Batchifier;
import ai.djl.translate.NoopTranslator;
import ai.djl.translate.Translator;
import ai.djl.translate.TranslatorContext;
import dev.selfbyt.cortexsdr.core.calibrate.Metrics;
import dev.selfbyt.cortexsdr.it.models.Embedder;
import dev.selfbyt.cortexsdr.it.models.MobyDick;
import dev.selfbyt.cortexsdr.it.models.RealModel;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * DJL's PyTorch engine as a second baseline for {@link DjlEngineReport}: the same network as the
 * fp32 ONNX file, as TorchScript made by {@code integration-tests/src/main/python/onnx_to_torchscript.py}
 * (no pretrained PyTorch weights exist offline), loaded with {@code optEngine("PyTorch")} and DJL's
 * text-embedding translator with the very options the CortexSDR rows use.
 *
 * <p>PyTorch is not on integration-tests' classpath (the CortexSDR checks run without it): the
 * build copies its jars to {@code integration-tests/target/pytorch-lib}, and the report's command
 * line adds them to {@code -cp}. With PyTorch present it is also the CortexSDR engine's alternative
 * engine, so {@link Watch} proves that no CortexSDR call hands work to it.
 */
public final class PyTorchBaseline {
  /** The row name in the latency table. */
  public static final String ROW = "DJL PyTorch engine, fp32 TorchScript";

  private PyTorchBaseline() {}

  /** True when DJL's PyTorch engine is on the classpath. */
  public static boolean present() {
    return Engine.hasEngine("PyTorch");
  }

  /** Fails with the way to fix it when PyTorch is not on the classpath. */
  public static void require() {
    if (!present()) {
      throw new IllegalStateException("--torchscript needs DJL's PyTorch engine, which is not on the classpath: build "
          + "integration-tests (mvn package copies it to integration-tests/target/pytorch-lib) and add "
          + "'integration-tests/target/pytorch-lib/*' to -cp");
    }
  }

  /**
   * Sets PyTorch's intra-op threads to {@code threads} and inter-op threads to 1, unless given on the
   * command line. Must run before anything touches the PyTorch engine (the CortexSDR engine does, as
   * its alternative engine).
   */
  public static void configureThreads(int threads) {
    if (System.getProperty("ai.djl.pytorch.num_threads") == null) {
      System.setProperty("ai.djl.pytorch.num_threads", Integer.toString(threads));
    }
    if (System.getProperty("ai.djl.pytorch.num_interop_threads") == null) {
      System.setProperty("ai.djl.pytorch.num_interop_threads", "1");
    }
  }

  /**
   * The TorchScript files per model from {@code --torchscript}: {@code minilm=PATH,bge=PATH}, or
   * {@code make} to convert each model's fp32 ONNX file with the Python tool into {@code
   * WORK/<model>/model.pt} (kept for the next run).
   */
  public static Map<RealModel, Path> torchScripts(String spec, List<RealModel> models, Path work, String python,
      Path tool) throws IOException, InterruptedException {
    Map<RealModel, Path> out = new LinkedHashMap<>();
    if (spec.equals("make")) {
      for (RealModel m : models) {
        out.put(m, make(m, work, python, tool));
      }
      return out;
    }
    for (String part : spec.split(",")) {
      int eq = part.indexOf('=');
      if (eq <= 0) {
        throw new IllegalArgumentException("--torchscript '" + spec + "': expected make or MODEL=PATH[,MODEL=PATH]");
      }
      Path pt = Path.of(part.substring(eq + 1));
      if (!Files.isRegularFile(pt)) {
        throw new IllegalArgumentException("--torchscript: " + pt + " (for " + part.substring(0, eq)
            + ") does not exist; make it with /usr/bin/python3 integration-tests/src/main/python/onnx_to_torchscript.py "
            + "MODEL.onnx " + pt + " (needs Debian's python3-torch and python3-onnx), or pass --torchscript make");
      }
      out.put(RealModel.parse(part.substring(0, eq)), pt);
    }
    return out;
  }

  private static Path make(RealModel m, Path work, String python, Path tool) throws IOException, InterruptedException {
    Path dir = Files.createDirectories(work.resolve(m.name().toLowerCase(Locale.ROOT)));
    Path pt = dir.resolve("model.pt");
    if (Files.isRegularFile(pt)) {
      return pt;
    }
    if (!Files.isRegularFile(tool)) {
      throw new IOException("--torchscript make: the converter " + tool + " does not exist (run from the repository root "
          + "or pass --torchscript-tool PATH)");
    }
    List<String> cmd = List.of(python, tool.toString(), m.onnx(dir).toString(), pt.toString(), "--seq-len", "128");
    System.out.println("making TorchScript: " + String.join(" ", cmd));
    Process p = new ProcessBuilder(cmd).inheritIO().start();
    int rc = p.waitFor();
    if (rc != 0 || !Files.isRegularFile(pt)) {
      throw new IOException("TorchScript conversion of " + m.onnx(dir) + " failed (exit " + rc + "): " + String.join(" ",
          cmd) + " (it needs Debian's python3-torch and python3-onnx under /usr/bin/python3)");
    }
    return pt;
  }

  /** A DJL model folder holding the TorchScript as {@code model.pt} and the model's tokenizer. */
  public static Path folder(RealModel model, Path torchScript, Path work) throws IOException {
    return DjlEngineReport.folder(model, work, "torchscript-djl", torchScript, "model.pt");
  }

  /** The CortexSDR rows' criteria on DJL's PyTorch engine: same translator, same options. */
  public static Criteria<String, float[]> criteria(RealModel model, Path folder) {
    return DjlEngineReport.criteria(model, folder, "PyTorch");
  }

  /**
   * How far DJL's PyTorch engine on the TorchScript is from ONNX Runtime on the fp32 ONNX file: the
   * last hidden state (cosine, and max abs difference over max abs value) and the pooled embedding
   * through the text-embedding translator (cosine).
   */
  public record Agreement(String model, int sentences, double minHiddenCos, double worstRelMaxAbsDiff,
      double worstMaxAbsDiff, double meanPooledCos, double minPooledCos) {}

  /** Runs both on {@code count} Moby-Dick sentences; fails when they are not the same network. */
  public static Agreement agreement(RealModel model, Path torchScript, int count, int threads, Path work)
      throws Exception {
    Path dir = Files.createDirectories(work.resolve(model.name().toLowerCase(Locale.ROOT)));
    List<String> sentences = MobyDick.sentences(count, 0);
    List<Encoding> enc = Embedder.encodeAll(model.tokenizer(dir), 128, sentences);
    double minHidden = 1;
    double worstRel = 0;
    double worstAbs = 0;
    double[] pooled = new double[sentences.size()];
    try (Embedder ort = new Embedder(model.onnx(dir), model.pooling(), threads);
        ZooModel<String, float[]> zoo = criteria(model, folder(model, torchScript, work)).loadModel();
        Predictor<String, float[]> text = zoo.newPredictor();
        Predictor<NDList, NDList> raw = zoo.newPredictor(new NoopTranslator(null))) {
      for (int i = 0; i < sentences.size(); i++) {
        Encoding e = enc.get(i);
        float[] want = ort.hidden(e.getIds(), e.getAttentionMask());
        float[] got;
        try (NDManager m = zoo.getNDManager().newSubManager()) {
          Shape s = new Shape(1, e.getIds().length);
          NDList out = raw.predict(new NDList(m.create(e.getIds(), s), m.create(e.getAttentionMask(), s),
              m.create(new long[e.getIds().length], s)));
          got = out.head().toFloatArray();
        }
        if (got.length != want.length) {
          throw new IllegalStateException(torchScript + " gives " + got.length + " values where ONNX Runtime gives "
              + want.length + " for " + model.displayName() + ": not the same network");
        }
        double maxAbs = 0;
        double diff = 0;
        for (int j = 0; j < want.length; j++) {
          maxAbs = Math.max(maxAbs, Math.abs(want[j]));
          diff = Math.max(diff, Math.abs(want[j] - got[j]));
        }
        minHidden = Math.min(minHidden, Metrics.cosine(got, want));
        worstAbs = Math.max(worstAbs, diff);
        worstRel = Math.max(worstRel, diff / maxAbs);
        pooled[i] = Metrics.cosine(text.predict(sentences.get(i)), ort.embed(e));
      }
    }
    Agreement a = new Agreement(model.displayName(), sentences.size(), minHidden, worstRel, worstAbs,
        java.util.Arrays.stream(pooled).average().orElse(Double.NaN),
        java.util.Arrays.stream(pooled).min().orElse(Double.NaN));
    if (!(a.worstRelMaxAbsDiff() <= 1e-3)) {
      throw new IllegalStateException(torchScript + " is not the network of " + model.displayName() + "'s ONNX file: "
          + a);
    }
    return a;
  }

  public static String markdown(List<Agreement> rows) {
    StringBuilder sb = new StringBuilder();
    sb.append(String.format(Locale.ROOT, "%nDJL PyTorch engine on the TorchScript against ONNX Runtime on the fp32 ONNX "
        + "file (same sentences, batch 1)%n%n| model | sentences | min cos, last hidden state | worst max abs diff "
        + "| worst max abs diff / max abs | mean cos, pooled | min |%n|---|---|---|---|---|---|---|%n"));
    for (Agreement a : rows) {
      sb.append(String.format(Locale.ROOT, "| %s | %d | %.8f | %.2e | %.2e | %.8f | %.8f |%n", a.model(), a.sentences(),
          a.minHiddenCos(), a.worstMaxAbsDiff(), a.worstRelMaxAbsDiff(), a.meanPooledCos(), a.minPooledCos()));
    }
    return sb.toString();
  }

  /**
   * A CortexSDR translator that counts the NDArrays alive in DJL's PyTorch engine while each call
   * runs, proving that no CortexSDR call hands work to PyTorch (the CortexSDR engine's alternative
   * engine when PyTorch is present). Arrays an alternative operator makes stay attached to the call's
   * manager until the call ends, so they are seen.
   */
  public static final class Watch implements Translator<String, float[]> {
    private final Translator<String, float[]> delegate;
    private final NDManager pyTorchSystem;
    private static final java.util.concurrent.atomic.AtomicLong CALLS = new java.util.concurrent.atomic.AtomicLong();
    private long before;

    private Watch(Translator<String, float[]> delegate, NDManager pyTorchSystem) {
      this.delegate = delegate;
      this.pyTorchSystem = pyTorchSystem;
    }

    /**
     * A predictor on a CortexSDR model that watches PyTorch, or the plain predictor when PyTorch is
     * absent. First checks that the watch can see: an operator CortexSDR leaves to its alternative
     * engine must show up.
     */
    public static Predictor<String, float[]> predictor(ZooModel<String, float[]> zoo) {
      if (!present()) {
        return zoo.newPredictor();
      }
      NDManager system;
      try (NDManager sub = Engine.getEngine("PyTorch").newBaseManager()) {
        system = sub.getParentManager();
      }
      Watch w = new Watch(zoo.getTranslator(), system);
      try (NDManager m = zoo.getNDManager().newSubManager()) {
        long n = w.alive();
        NDArray x = m.create(new float[] {0.5f, 1, 1, 1}, new Shape(1, 1, 2, 2));
        // not a CortexSDR operator (sinh was, until the engine learned it): DJL hands it to the alternative engine
        x.getNDArrayInternal().globalLpPool(2);
        if (w.alive() <= n) {
          throw new IllegalStateException("the PyTorch watch did not see an operator the CortexSDR engine leaves to "
              + "PyTorch (globalLpPool): the check would be blind");
        }
      }
      return zoo.newPredictor(w);
    }

    /** How many CortexSDR calls were watched (each one ended with no PyTorch array made). */
    public static long watchedCalls() {
      return CALLS.get();
    }

    private long alive() {
      return pyTorchSystem.getManagedArrays().size();
    }

    private void check() {
      long extra = alive() - before;
      if (extra > 0) {
        throw new IllegalStateException(extra + " NDArray(s) were made in DJL's PyTorch engine during a CortexSDR "
            + "call: CortexSDR work went to its alternative engine");
      }
      CALLS.incrementAndGet();
    }

    @Override
    public void prepare(TranslatorContext ctx) throws Exception {
      delegate.prepare(ctx);
    }

    @Override
    public Batchifier getBatchifier() {
      return delegate.getBatchifier();
    }

    @Override
    public NDList processInput(TranslatorContext ctx, String input) throws Exception {
      before = alive();
      return delegate.processInput(ctx, input);
    }

    @Override
    public float[] processOutput(TranslatorContext ctx, NDList list) throws Exception {
      float[] out = delegate.processOutput(ctx, list);
      check();
      return out;
    }

    @Override
    public NDList batchProcessInput(TranslatorContext ctx, List<String> inputs) throws Exception {
      before = alive();
      return delegate.batchProcessInput(ctx, inputs);
    }

    @Override
    public List<float[]> batchProcessOutput(TranslatorContext ctx, NDList list) throws Exception {
      List<float[]> out = delegate.batchProcessOutput(ctx, list);
      check();
      return out;
    }
  }
}
