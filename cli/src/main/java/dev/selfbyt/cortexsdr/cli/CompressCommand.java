package dev.selfbyt.cortexsdr.cli;

import dev.selfbyt.cortexsdr.core.CompressionOptions;
import dev.selfbyt.cortexsdr.core.CompressionStats;
import dev.selfbyt.cortexsdr.core.CortexSdr;
import dev.selfbyt.cortexsdr.core.Preset;
import dev.selfbyt.cortexsdr.core.TensorStats;
import dev.selfbyt.cortexsdr.core.codec.QuantCodec;
import dev.selfbyt.cortexsdr.converters.onnx.Int8FastCalibrator;
import dev.selfbyt.cortexsdr.converters.onnx.MixedPrecision;
import dev.selfbyt.cortexsdr.converters.onnx.OnnxCalibrator;
import dev.selfbyt.cortexsdr.converters.onnx.OnnxModelReader;
import dev.selfbyt.cortexsdr.core.format.Json;
import dev.selfbyt.cortexsdr.core.pipeline.CompressionPipeline;
import dev.selfbyt.cortexsdr.core.tensor.TensorSource;
import dev.selfbyt.cortexsdr.pytorch.TorchScriptReader;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code cortexsdr compress IN -o OUT.cai [options]}. */
@Command(name = "compress", mixinStandardHelpOptions = true, versionProvider = CortexSdrCommand.Version.class,
    description = "Compress a model (ONNX or TorchScript) into a .cai archive.")
final class CompressCommand implements Callable<Integer> {
  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Parameters(index = "0", paramLabel = "IN", description = "the model to compress (.onnx, or a TorchScript .pt)")
  Path in;

  @Option(names = {"-o", "--output"}, required = true, paramLabel = "OUT.cai", description = "the archive to write")
  Path out;

  @Option(names = "--preset", paramLabel = "NAME", description = "lossless, int8 (default), int8-fast (int8 "
      + "activations on integer kernels; calibrates, on seeded random inputs unless --calibrate), int4 or sdr")
  String preset = "int8";

  @Option(names = "--bits", paramLabel = "N", description = "quantization bits, 2 to 8 (default: the preset's)")
  Integer bits;

  @Option(names = "--block", paramLabel = "N", description = "values per scale along the reduction axis; 0 = per channel")
  Integer block;

  @Option(names = "--symmetric", description = "symmetric quantization (zero point fixed)")
  boolean symmetric;

  @Option(names = "--sparsity", paramLabel = "F", description = "fraction of weights dropped (SDR), in [0, 1)")
  Double sparsity;

  @Option(names = "--threads", paramLabel = "N", description = "encoding threads (default: all cores)")
  Integer threads;

  @Option(names = "--protect", paramLabel = "REGEX", description = "tensor names that stay lossless (repeatable)")
  List<String> protect = new ArrayList<>();

  @Option(names = "--zstd-level", paramLabel = "N", description = "entropy stage level, 0 (off) to 22; default 3")
  Integer zstdLevel;

  @Option(names = "--error-budget", paramLabel = "NMSE", description = "per-tensor error budget: smallest encoding under it")
  Double errorBudget;

  @Option(names = "--calibrate", paramLabel = "PATH",
      description = "calibration data for error-compensating rounding (GPTQ): a text file (one sample per line, "
          + "tokenized with the model's tokenizer.json), a folder of images, or 'random'")
  String calibrate;

  @Option(names = "--image-range", paramLabel = "R",
      description = "with --calibrate FOLDER: pixel values as the model takes them: 0,1 (default), -1,1, 0,255 "
          + "or imagenet (0,1 then ImageNet mean and std)")
  String imageRange = "0,1";

  @Option(names = "--calibration-samples", paramLabel = "N", description = "samples to calibrate on (default 256)")
  int calibrationSamples = 256;

  @Option(names = "--target-cosine", paramLabel = "T",
      description = "mixed precision: each weight gets the narrowest width (3 to 8 bits) such that the "
          + "model's output keeps this cosine to the fp32 output on the calibration data (needs --calibrate)")
  Double targetCosine;

  @Option(names = "--target-min-cosine", paramLabel = "T",
      description = "with --target-cosine: the cosine every calibration sample keeps (default: twice the "
          + "target's loss, e.g. 0.98 for 0.99)")
  Double targetMinCosine;

  @Option(names = "--activation-scaling",
      description = "with --calibrate: scale each MatMul input per channel by its activation size before "
          + "rounding (AWQ-style; a Mul by the inverse is added to the graph) where that lowers the error")
  boolean activationScaling;

  @Option(names = "--refit",
      description = "with --calibrate: re-fit each weight to the inputs the rounded layers before it give, "
          + "so that the output matches the fp32 model's (runs a second copy of the model while calibrating)")
  boolean refit;

  @Option(names = "--no-error-compensation",
      description = "with --calibrate: plain rounding instead of GPTQ's error-compensating rounding")
  boolean noErrorCompensation;

  @Option(names = "--smoothing", paramLabel = "ALPHA",
      description = "int8-fast: SmoothQuant migration strength in [0, 1), 0 off (default "
          + Int8FastCalibrator.DEFAULT_ALPHA + ")")
  Double smoothing;

  @Option(names = "--tokenizer", paramLabel = "PATH",
      description = "tokenizer.json for --calibrate text (default: beside the model)")
  Path tokenizer;

  @Option(names = "--json", description = "print the result as JSON")
  boolean json;

  @Override
  public Integer call() throws Exception {
    CompressionOptions options = options();
    CompressionStats stats;
    boolean calibrating = calibrate != null || options.preset() == Preset.INT8_FAST;
    try (TensorSource opened = ModelFormats.open(in);
        ProgressBar bar = ProgressBar.open(spec, calibrating ? "calibrating" : "compressing", json)) {
      TensorSource source = opened;
      if (opened instanceof TorchScriptReader) {
        TorchScriptOptions.check(spec, options, calibrate, targetCosine);
      } else if (options.preset() == Preset.INT8_FAST && opened instanceof OnnxModelReader onnx) {
        String data = calibrate != null ? calibrate : "random";
        if (calibrate == null) {
          spec.commandLine().getErr().println("warning: int8-fast calibrates on seeded random inputs; real inputs "
              + "(--calibrate sentences.txt or an image folder) give better int8 activations");
        }
        var inputs = CalibrationInputs.load(onnx, in, data, tokenizer, calibrationSamples,
            CalibrationInputs.ImageRange.parse(imageRange), true);
        if (!json) {
          spec.commandLine().getErr().printf("calibrating int8 activations on %d samples...%n", inputs.size());
          spec.commandLine().getErr().flush();
        }
        Int8FastCalibrator c = new Int8FastCalibrator(onnx, options, options.threads()).onProgress(bar::note);
        if (smoothing != null) {
          c.smoothing(smoothing);
        }
        if (calibrate != null && inputs.get(0).containsKey(CalibrationInputs.TEXT_MASK)) {
          c.outputMask(CalibrationInputs.TEXT_MASK); // padding positions of text batches do not count
        }
        if (targetCosine != null) {
          c.target(targetCosine, targetMinCosine != null ? targetMinCosine : MixedPrecision.defaultMinCosine(targetCosine));
        }
        Int8FastCalibrator.Result r = c.calibrate(inputs, builder());
        if (!json) {
          spec.commandLine().getErr().printf(Locale.ROOT, "int8 activations: %d MatMuls weight-only, calibration "
              + "output cosine %.4f (min %.4f)%n", r.weightOnly().size(), r.meanCosine(), r.minCosine());
        }
        source = r.source();
        options = r.options();
      } else if (calibrate != null) {
        if (!(opened instanceof OnnxModelReader onnx)) {
          throw new CommandLine.ParameterException(spec.commandLine(), "--calibrate needs an ONNX model");
        }
        var inputs = CalibrationInputs.load(onnx, in, calibrate, tokenizer, calibrationSamples,
            CalibrationInputs.ImageRange.parse(imageRange));
        if (!json) {
          spec.commandLine().getErr().printf("calibrating on %d samples...%n", inputs.size());
          spec.commandLine().getErr().flush();
        }
        if (targetCosine != null) {
          double min = targetMinCosine != null ? targetMinCosine : MixedPrecision.defaultMinCosine(targetCosine);
          MixedPrecision.Plan plan = MixedPrecision.plan(onnx, options, inputs, targetCosine, min, options.threads(),
              bar::note);
          if (!json) {
            spec.commandLine().getErr().printf("plan (bits/block: weights): %s%n", plan.histogram());
            spec.commandLine().getErr().flush();
          }
          source = plan.calibrate(onnx, inputs, options.threads(), activationScaling, refit);
          options = plan.options(builder()).build();
        } else {
          source = OnnxCalibrator.forOptions(onnx, options, 0.01, options.threads()).onProgress(bar::note)
              .activationScaling(activationScaling).refit(refit).errorCompensation(!noErrorCompensation)
              .calibrate(inputs);
        }
      }
      if (calibrating) {
        bar.stage("compressing");
      }
      bar.units("bytes");
      stats = new CompressionPipeline(options)
          .onProgress(p -> bar.update(p.bytesDone(), p.bytesTotal(), p.tensor()))
          .run(source, source.location(), out, CortexSdr.manifest(source, options));
      bar.done();
    }
    var o = spec.commandLine().getOut();
    if (json) {
      o.println(Json.write(toMap(stats)));
    } else {
      long lossy = stats.tensors().stream().filter(t -> t.nmse() > 0).count();
      double worst = stats.tensors().stream().mapToDouble(TensorStats::nmse).max().orElse(0);
      o.printf(Locale.ROOT, "%s -> %s%n", in, out);
      o.printf(Locale.ROOT, "  %,d -> %,d bytes, %.2fx smaller, %d ms%n", stats.inputBytes(), stats.outputBytes(),
          stats.ratio(), stats.timeMs());
      o.printf(Locale.ROOT, "  %d tensors (%d lossy, %d lossless), largest per-tensor NMSE %.3g%n",
          stats.tensors().size(), lossy, stats.tensors().size() - lossy, worst);
    }
    return 0;
  }

  private CompressionOptions options() {
    try {
      CompressionOptions o = builder().build();
      boolean fast = o.preset() == Preset.INT8_FAST;
      if (fast && (activationScaling || refit || noErrorCompensation)) {
        throw new IllegalArgumentException("int8-fast calibrates its own way (smoothing, weight-only fallback): drop "
            + "--activation-scaling, --refit and --no-error-compensation");
      }
      if (smoothing != null && (!fast || !(smoothing >= 0 && smoothing < 1))) {
        throw new IllegalArgumentException("--smoothing needs --preset int8-fast and a value in [0, 1)");
      }
      if (fast && targetCosine != null && !(targetCosine > 0 && targetCosine <= 1)) {
        throw new IllegalArgumentException("--target-cosine must be in (0, 1]");
      }
      if (!fast && calibrate != null && (o.preset() == Preset.LOSSLESS || o.blockSize() <= 0 || o.sparsity() > 0
          || o.errorBudget() > 0)) {
        throw new IllegalArgumentException("--calibrate needs block-wise quantization (int8 or int4 preset, "
            + "--block > 0, no sparsity or error budget)");
      }
      CalibrationInputs.ImageRange.parse(imageRange);
      if (calibrationSamples < 1) {
        throw new IllegalArgumentException("--calibration-samples must be >= 1");
      }
      if (!fast && targetCosine != null && (calibrate == null || !(targetCosine > 0 && targetCosine < 1))) {
        throw new IllegalArgumentException("--target-cosine needs --calibrate and a value between 0 and 1");
      }
      if ((activationScaling || refit || noErrorCompensation) && calibrate == null) {
        throw new IllegalArgumentException("--activation-scaling, --refit and --no-error-compensation need --calibrate");
      }
      if (noErrorCompensation && targetCosine != null) {
        throw new IllegalArgumentException("--target-cosine always rounds with GPTQ: drop --no-error-compensation");
      }
      if (targetMinCosine != null && (targetCosine == null || !(targetMinCosine > -1 && targetMinCosine <= targetCosine))) {
        throw new IllegalArgumentException("--target-min-cosine needs --target-cosine and a value in (-1, target]");
      }
      return o;
    } catch (IllegalArgumentException e) { // includes bad regular expressions
      throw new CommandLine.ParameterException(spec.commandLine(), e.getMessage());
    }
  }

  /** The options the flags ask for. */
  private CompressionOptions.Builder builder() {
    CompressionOptions.Builder b;
    {
      b = CompressionOptions.builder().preset(Preset.parse(preset));
      if (bits != null) {
        b.bits(bits);
      }
      if (block != null) {
        if (block == 0) {
          b.perChannel();
        } else {
          b.blockSize(block);
        }
      }
      if (symmetric) {
        b.symmetric(true);
      }
      if (sparsity != null) {
        b.sparsity(sparsity);
      }
      if (threads != null) {
        b.threads(threads);
      }
      if (zstdLevel != null) {
        b.zstdLevel(zstdLevel);
      }
      if (errorBudget != null) {
        b.errorBudget(errorBudget);
      }
      for (String p : protect) {
        b.protect(p);
      }
      return b;
    }
  }

  static Map<String, Object> toMap(CompressionStats s) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("output", s.target().toString());
    m.put("inputBytes", s.inputBytes());
    m.put("outputBytes", s.outputBytes());
    m.put("ratio", s.ratio());
    m.put("timeMs", s.timeMs());
    List<Object> ts = new ArrayList<>();
    for (TensorStats t : s.tensors()) {
      Map<String, Object> x = new LinkedHashMap<>();
      x.put("name", t.name());
      x.put("dtype", t.dtype());
      List<Object> shape = new ArrayList<>();
      for (long d : t.shape()) {
        shape.add(d);
      }
      x.put("shape", shape);
      x.put("codec", t.codec());
      x.put("reason", t.reason());
      x.put("storedBytes", t.storedBytes());
      x.put("bitsPerWeight", t.bitsPerWeight());
      x.put("nmse", t.nmse());
      x.put("maxAbsError", t.maxAbsError());
      ts.add(x);
    }
    m.put("tensors", ts);
    return m;
  }
}
