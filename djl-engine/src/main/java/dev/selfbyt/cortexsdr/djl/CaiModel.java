package dev.selfbyt.cortexsdr.djl;

import ai.djl.BaseModel;
import ai.djl.MalformedModelException;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.onnx.proto.OnnxMl.ModelProto;
import dev.selfbyt.cortexsdr.converters.onnx.OnnxExporter;
import dev.selfbyt.cortexsdr.converters.onnx.StoredGraphCheck;
import dev.selfbyt.cortexsdr.core.CompressionOptions;
import dev.selfbyt.cortexsdr.core.codec.QuantCodec;
import dev.selfbyt.cortexsdr.core.codec.SdrCodec;
import dev.selfbyt.cortexsdr.core.codec.TensorCodec;
import dev.selfbyt.cortexsdr.core.format.CaiEntry;
import dev.selfbyt.cortexsdr.core.format.CaiException;
import dev.selfbyt.cortexsdr.core.format.CaiReader;
import dev.selfbyt.cortexsdr.core.policy.CompressionPolicy;
import dev.selfbyt.cortexsdr.core.policy.TensorPlan;
import dev.selfbyt.cortexsdr.core.tensor.TensorData;
import dev.selfbyt.cortexsdr.core.tensor.TensorInfo;
import dev.selfbyt.cortexsdr.djl.graph.CaiWeights;
import dev.selfbyt.cortexsdr.djl.graph.GraphExecutor;
import dev.selfbyt.cortexsdr.djl.graph.Value;
import dev.selfbyt.cortexsdr.djl.kernel.KernelScope;
import dev.selfbyt.cortexsdr.djl.kernel.QuantMatrix;
import dev.selfbyt.cortexsdr.djl.kernel.SparseMatrix;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * A {@code .cai} model in DJL. {@link #load(Path, String, Map)} takes the {@code .cai} file itself
 * or a folder holding one ({@code <prefix>.cai}, {@code <folder name>.cai}, {@code model.cai}, or
 * the only {@code .cai} there; a folder whose files sit in one subfolder, as in many zips, is
 * searched in that subfolder, as DJL's own engines do); every weight is read once and kept in its
 * stored form, and the file is closed again. A folder without a {@code .cai} but with an
 * {@code .onnx} fails with the {@code cortexsdr compress} command that makes one. Get one through {@code Criteria} with {@code optEngine("CortexSDR")}, or
 * {@code Model.newInstance(name, "CortexSDR")}.
 *
 * <p>The engine's settings (threads, kernels, fusion, fallback) are read per model from the
 * {@code options} it is loaded with ({@code Criteria.optOption}, {@code serving.properties}), the
 * system properties giving the defaults: see {@link EngineSettings}. Each call runs in the model's
 * own {@link KernelScope}, so models with different settings share a JVM.
 *
 * <p>A graph with operators the Java executor lacks runs whole in ONNX Runtime when it is on the
 * classpath (unless the option {@code ortFallback} is {@code false}), with decoded weights: a
 * warning through {@code java.util.logging} (the engine's logger, which needs no SLF4J binding to
 * be seen) names the operators and says the memory saving is lost. Otherwise loading fails with a
 * {@link MalformedModelException} listing them.
 */
public class CaiModel extends BaseModel {
  private static final Logger LOG = Logger.getLogger(CaiModel.class.getName());

  private Path caiFile;
  private EngineSettings settings = EngineSettings.defaults();
  private KernelScope scope;
  private final Map<String, TensorInfo> infos = new HashMap<>();

  CaiModel(String name, NDManager manager) {
    super(name);
    this.manager = manager;
    this.manager.setName("caiModel");
    this.dataType = DataType.FLOAT32;
  }

  @Override
  public void load(Path modelPath, String prefix, Map<String, ?> options) throws IOException, MalformedModelException {
    setModelDir(modelPath);
    wasLoaded = true;
    Path file = findCai(modelPath, prefix);
    this.caiFile = file;
    try {
      this.settings = EngineSettings.of(options);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(file + ": " + e.getMessage() + " (from Criteria.optOption or the option."
          + " entries of serving.properties)", e);
    }
    this.scope = settings.scope();
    try (CaiReader cai = CaiReader.open(file)) {
      long storedBytes = 0;
      for (CaiEntry e : cai.entries()) {
        infos.put(e.name(), e.info());
        storedBytes += e.storedLength();
      }
      ModelProto model = OnnxExporter.storedModel(cai);
      StoredGraphCheck.check(cai); // what the executor trusts: every weight present, roles as the graph uses them
      Set<String> missing = GraphExecutor.missingOperators(model.getGraph());
      CaiSymbolBlock.Runner runner;
      if (missing.isEmpty()) {
        runner = new ExecutorRunner(new GraphExecutor(model, name -> CaiWeights.load(cai, name), settings.fusion()),
            scope);
      } else if (onnxRuntimePresent(settings)) {
        ModelProto decoded = OnnxExporter.withWeights(model, n -> cai.contains(n) ? cai.read(n).bytes() : null);
        runner = openOrt(decoded, file, settings.numThreads());
        LOG.log(Level.WARNING, file + ": operators " + String.join(", ", missing) + " are not supported by the "
            + "CortexSDR executor, so the whole graph runs in ONNX Runtime with decoded weights: "
            + mib(runner.residentBytes()) + " of weights in memory instead of " + mib(storedBytes)
            + " compressed (the memory saving of the .cai is lost)");
      } else {
        throw new MalformedModelException(file + ": operators " + String.join(", ", missing) + " are not supported"
            + " by the CortexSDR executor; " + (settings.ortFallback() ? "add com.microsoft.onnxruntime:onnxruntime to"
            + " the classpath to run this model in ONNX Runtime" : "the ONNX Runtime fallback is off (ortFallback="
            + "false)"));
      }
      block = new CaiSymbolBlock((CaiNDManager) manager, runner);
    } catch (CaiException e) {
      throw new MalformedModelException(e.getMessage(), e);
    } catch (RuntimeException e) {
      // whatever a malformed file makes the graph builder trip over is still the file's fault
      CaiException c = new dev.selfbyt.cortexsdr.core.format.CorruptCaiException(file.toString(), null,
          "does not load: " + (e.getMessage() == null ? e.toString() : e.getMessage()), e);
      throw new MalformedModelException(c.getMessage(), c);
    }
  }

  @Override
  public void load(InputStream is, Map<String, ?> options) throws IOException, MalformedModelException {
    Path tmp = Files.createTempFile("cortexsdr-model", ".cai");
    try {
      Files.copy(is, tmp, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
      load(tmp, null, options);
    } finally {
      Files.deleteIfExists(tmp);
    }
  }

  private Path findCai(Path modelPath, String prefix) throws IOException {
    if (Files.isRegularFile(modelPath)) {
      modelDir = modelPath.toAbsolutePath().getParent();
      String f = modelPath.getFileName().toString();
      modelName = f.endsWith(".cai") ? f.substring(0, f.length() - 4) : f;
      return modelPath;
    }
    if (!Files.isDirectory(modelPath)) {
      throw new java.io.FileNotFoundException(modelPath + ": no such file or folder");
    }
    // setModelDir went down into the one folder a zip's files often sit in, as DJL's engines do
    Path dir = modelDir != null && Files.isDirectory(modelDir) ? modelDir : modelPath;
    java.util.Set<String> tried = new java.util.LinkedHashSet<>();
    for (String p : new String[] {prefix, modelName, modelPath.getFileName().toString(),
        dir.getFileName() == null ? null : dir.getFileName().toString(), "model"}) {
      if (p == null) {
        continue;
      }
      Path c = dir.resolve(p.endsWith(".cai") ? p : p + ".cai");
      tried.add(c.getFileName().toString());
      if (Files.isRegularFile(c)) {
        return c;
      }
    }
    List<String> all = new ArrayList<>();
    try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir, "*.cai")) {
      ds.forEach(p -> all.add(p.getFileName().toString()));
    }
    java.util.Collections.sort(all);
    if (all.size() == 1) {
      return dir.resolve(all.get(0));
    }
    if (all.isEmpty()) {
      throw new java.io.FileNotFoundException(dir + ": holds no .cai file" + uncompressedHint(dir));
    }
    throw new java.io.FileNotFoundException(dir + ": holds " + all.size() + " .cai files (" + String.join(", ", all)
        + ") and none is named " + String.join(" or ", tried) + "; name the one to load with "
        + "Criteria.optModelName or give the file itself as the model path");
  }

  /** What to do with a folder that holds a model this engine does not read as it is. */
  private static String uncompressedHint(Path dir) throws IOException {
    List<String> models = new ArrayList<>();
    try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir, "*.onnx")) {
      ds.forEach(p -> models.add(p.getFileName().toString()));
    }
    if (models.isEmpty()) {
      return "";
    }
    java.util.Collections.sort(models);
    String m = models.get(0);
    String base = m.substring(0, m.length() - ".onnx".length());
    return " but holds " + String.join(", ", models) + ": compress it first: cortexsdr compress "
        + dir.resolve(m) + " -o " + dir.resolve(base + ".cai");
  }

  private static String mib(long bytes) {
    return bytes >= 1 << 20 ? String.format(java.util.Locale.ROOT, "%.1f MiB", bytes / (1024.0 * 1024.0))
        : bytes >= 1 << 10 ? String.format(java.util.Locale.ROOT, "%.1f KiB", bytes / 1024.0) : bytes + " bytes";
  }

  private static boolean onnxRuntimePresent(EngineSettings settings) {
    if (!settings.ortFallback()) {
      return false;
    }
    try {
      Class.forName("ai.onnxruntime.OrtEnvironment", false, CaiModel.class.getClassLoader());
      return true;
    } catch (ClassNotFoundException | LinkageError e) {
      return false;
    }
  }

  private static CaiSymbolBlock.Runner openOrt(ModelProto decoded, Path file, int threads)
      throws MalformedModelException {
    try {
      return (CaiSymbolBlock.Runner) Class.forName("dev.selfbyt.cortexsdr.djl.OrtGraphRunner")
          .getDeclaredMethod("open", ModelProto.class, int.class)
          .invoke(null, decoded, threads);
    } catch (java.lang.reflect.InvocationTargetException e) {
      throw new MalformedModelException(file + ": ONNX Runtime cannot open the graph: " + e.getCause().getMessage(),
          e.getCause());
    } catch (ReflectiveOperationException e) {
      throw new MalformedModelException(file + ": ONNX Runtime fallback unavailable: " + e, e);
    }
  }

  /** The engine settings this model runs with (its options over the JVM's defaults). */
  public EngineSettings settings() {
    return settings;
  }

  /** The kernels and kernel threads this model's calls run on. */
  public KernelScope kernelScope() {
    return scope != null ? scope : settings.scope();
  }

  /** The {@code .cai} file this model was loaded from. */
  public Path caiFile() {
    return caiFile;
  }

  /** Bytes the loaded weights take in memory (compressed weights at their compressed size). */
  public long residentWeightBytes() {
    return ((CaiSymbolBlock) block).residentWeightBytes();
  }

  /**
   * Compresses this model's fp32 weights in place with the default preset ({@link
   * CompressionOptions#defaults()}: int8 blocks for MatMul, Gemm, Conv and embedding weights; norms,
   * biases and small tensors stay as they are). Weights already compressed are left alone.
   * Predictors made before keep working and see the new weights from their next call.
   */
  @Override
  public void quantize() {
    quantize(CompressionOptions.defaults());
  }

  /** Compresses this model's fp32 weights in place as {@code options} would in a file. */
  public void quantize(CompressionOptions options) {
    CaiSymbolBlock b = (CaiSymbolBlock) block;
    if (!(b.runner() instanceof ExecutorRunner er)) {
      throw new UnsupportedOperationException(caiFile + " runs in ONNX Runtime (operators the executor lacks); "
          + "quantize the file with `cortexsdr compress` instead");
    }
    CompressionPolicy policy = new CompressionPolicy(options);
    try {
      GraphExecutor next = er.executor.withWeights((name, v) -> {
        TensorInfo info = infos.get(name);
        if (info == null || v.isCompressed() || !v.isFloating()) {
          return v;
        }
        TensorPlan plan = policy.plan(info);
        if (plan.kind() != TensorPlan.Kind.FIXED) {
          return v;
        }
        TensorCodec codec = plan.candidates().get(0);
        TensorInfo f32 = info.withDType(dev.selfbyt.cortexsdr.core.tensor.DType.FLOAT32);
        java.nio.ByteBuffer payload = codec.encode(TensorData.ofFloats(f32, v.floats()));
        if (codec instanceof QuantCodec q) {
          return Value.ofQuantized(f32, QuantMatrix.of(q.unpack(f32, payload)));
        }
        if (codec instanceof SdrCodec s) {
          return Value.ofSparse(f32, SparseMatrix.of(s.unpack(f32, payload), Math.toIntExact(f32.outer() * f32.inner()),
              Math.toIntExact(f32.fiberLength())));
        }
        return v;
      });
      b.replace(new ExecutorRunner(next, er.scope));
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  /** The Java executor as a block runner, each call in the model's kernel scope. */
  static final class ExecutorRunner implements CaiSymbolBlock.Runner {
    final GraphExecutor executor;
    final KernelScope scope;

    ExecutorRunner(GraphExecutor executor, KernelScope scope) {
      this.executor = executor;
      this.scope = scope;
    }

    @Override
    public List<String> inputNames() {
      return executor.inputNames();
    }

    @Override
    public List<String> outputNames() {
      return executor.outputNames();
    }

    @Override
    public Map<String, Value> run(Map<String, Value> inputs) {
      return scope.call(() -> executor.run(inputs));
    }

    @Override
    public long residentBytes() {
      return executor.residentBytes();
    }

    @Override
    public String describe() {
      return "java executor";
    }

    @Override
    public void close() {}
  }
}
