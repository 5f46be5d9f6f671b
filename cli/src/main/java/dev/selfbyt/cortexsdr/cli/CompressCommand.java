package dev.selfbyt.cortexsdr.cli;

import dev.selfbyt.cortexsdr.core.CompressionOptions;
import dev.selfbyt.cortexsdr.core.CompressionStats;
import dev.selfbyt.cortexsdr.core.CortexSdr;
import dev.selfbyt.cortexsdr.core.Preset;
import dev.selfbyt.cortexsdr.core.TensorStats;
import dev.selfbyt.cortexsdr.core.codec.EntropyQuantCodec;
import dev.selfbyt.cortexsdr.core.codec.QuantCodec;
import dev.selfbyt.cortexsdr.converters.onnx.CalibrationOptions;
import dev.selfbyt.cortexsdr.converters.onnx.HadamardRotation;
import dev.selfbyt.cortexsdr.converters.onnx.Int8FastCalibrator;
import dev.selfbyt.cortexsdr.converters.onnx.MixedPrecision;
import dev.selfbyt.cortexsdr.converters.onnx.OnnxCalibrator;
import dev.selfbyt.cortexsdr.converters.onnx.ModelTrial;
import dev.selfbyt.cortexsdr.converters.onnx.OnnxModelReader;
import dev.selfbyt.cortexsdr.converters.onnx.OutputCheck;
import dev.selfbyt.cortexsdr.converters.onnx.RandomInputs;
import dev.selfbyt.cortexsdr.converters.onnx.RareRows;
import dev.selfbyt.cortexsdr.core.format.Json;
import dev.selfbyt.cortexsdr.core.pipeline.CompressionPipeline;
import dev.selfbyt.cortexsdr.core.tensor.TensorSource;
import dev.selfbyt.cortexsdr.pytorch.TorchScriptReader;
import dev.selfbyt.cortexsdr.tensorflow.SavedModelReader;
import java.nio.file.Files;
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
    description = "Compress a model (ONNX, TorchScript, TensorFlow SavedModel folder, safetensors, PyTorch state "
        + "dict) into a .cai archive.")
final class CompressCommand implements Callable<Integer> {
  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Parameters(index = "0", paramLabel = "IN", description = "the model to compress (.onnx, a TorchScript .pt, a "
      + "SavedModel folder, .safetensors, model.safetensors.index.json, a torch.save state dict .pt)")
  Path in;

  @Option(names = {"-o", "--output"}, required = true, paramLabel = "OUT.cai", description = "the archive to write")
  Path out;

  @Option(names = "--preset", paramLabel = "NAME", description = "lossless, int8 (default), int8-fast (int8 "
      + "activations on integer kernels; calibrates, on seeded random inputs unless --calibrate), int4 or sdr")
  String preset = "int8";

  @Option(names = "--bits", paramLabel = "N", description = "quantization bits, 2 to 8 (default: the preset's; int8-fast: 7 for its integer "
      + "MatMul weights, exact in ONNX Runtime on x86 without VNNI, 8 for VNNI or ARM targets)")
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
          + "tokenized with the model's tokenizer.json), a folder of images, or 'random'; for a SavedModel a .npy "
          + "file of input samples or 'random'")
  String calibrate;

  @Option(names = "--image-range", paramLabel = "R",
      description = "with --calibrate FOLDER: pixel values as the model takes them: 0,1 (default), -1,1, 0,255 "
          + "or imagenet (0,1 then ImageNet mean and std)")
  String imageRange = "0,1";

  @Option(names = "--calibration-samples", paramLabel = "N", description = "samples to calibrate on (default 256)")
  int calibrationSamples = 256;

  @Option(names = "--target-cosine", paramLabel = "T",
      description = "mixed precision: each weight gets the narrowest width (3 to 8 bits) such that the "
          + "model's output keeps this cosine to the fp32 output on the calibration data (seeded random inputs "
          + "without --calibrate)")
  Double targetCosine;

  @Option(names = "--target-min-cosine", paramLabel = "T",
      description = "with --target-cosine: the cosine every calibration sample keeps (default: twice the "
          + "target's loss, e.g. 0.98 for 0.99)")
  Double targetMinCosine;

  @Option(names = "--super-scales",
      description = "with --target-cosine: also offer each width with super-block scales (an fp16 per 8 blocks "
          + "and a byte per block instead of an fp16 per block; files need a reader of quant params version 2)")
  boolean superScales;

  @Option(names = "--table-step", paramLabel = "S|auto",
      description = "with --target-cosine: embedding tables that a Gather indexes by a model input store each "
          + "row at a step of S times its root mean square, the codes Huffman-coded (codec entropy), instead of "
          + "their planned width; 0.58 gives about 3-bit block error at 2.9 bits per value. auto: the plan measures "
          + "steps 0.3 to 1.3 beside the block-wise widths and takes a step only where it buys more fidelity per "
          + "byte (files need a reader of codec id 6)")
  String tableStep;

  @Option(names = "--rare-rows", paramLabel = "BITS",
      description = "with --target-cosine: rows of those tables that the calibration data never reads take BITS "
          + "(at the planned block) instead of the planned width (codec tiered); real calibration text, not "
          + "random inputs, decides which rows are read")
  Integer rareRowBits;

  @Option(names = "--activation-scaling",
      description = "with --calibrate: scale each MatMul, Conv, Gemm and LSTM/GRU input (W) per channel by its "
          + "activation size before rounding (AWQ-style; a Mul by the inverse is added to the graph) where that "
          + "lowers the error")
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

  @Option(names = "--rotate",
      description = "rotate MatMul inputs by a block Hadamard transform (blocks of "
          + HadamardRotation.DEFAULT_BLOCK + ", folded into the weights; one small product per rotated input at run "
          + "time); with --calibrate or --target-cosine (GPTQ) each input is rotated only where that lowers its "
          + "weights' output error on the calibration data by 2% or more, without them every input is; ONNX models "
          + "with their weights inside the file, not with int8-fast")
  boolean rotate;

  @Option(names = "--tokenizer", paramLabel = "PATH",
      description = "tokenizer.json for --calibrate text (default: beside the model)")
  Path tokenizer;

  @Option(names = "--input-shape", paramLabel = "NAME=DIMS",
      description = "an input's dimensions (e.g. input_ids=1,128) for random data, audio chunks and state; pins "
          + "dynamic dimensions (repeatable)")
  List<String> inputShapes = new ArrayList<>();

  @Option(names = "--sample-rate", paramLabel = "HZ",
      description = "with --calibrate of .wav files: the model's audio rate (default: its metadata's sample_rate)")
  Integer sampleRate;

  @Option(names = "--state", paramLabel = "OUT=IN",
      description = "a stateful model's state output that feeds an input at the next step (repeatable; default: "
          + "outputs and inputs paired by name and shape)")
  List<String> states = new ArrayList<>();

  @Option(names = "--min-cosine", paramLabel = "T",
      description = "output check: the mean output cosine each output must keep (default 0.999 at 8 bits, 0.99 "
          + "below, the --target-cosine when given)")
  Double minCosine;

  @Option(names = "--no-check", description = "skip the output check (running both models on the calibration "
      + "data or seeded random inputs)")
  boolean noCheck;

  @Option(names = "--json", description = "print the result as JSON")
  boolean json;

  @Override
  public Integer call() throws Exception {
    CompressionOptions options = options();
    CompressionStats stats;
    boolean calibrating = calibrate != null || targetCosine != null || options.preset() == Preset.INT8_FAST;
    if (superScales && (targetCosine == null || options.preset() == Preset.INT8_FAST)) {
      throw new CommandLine.ParameterException(spec.commandLine(),
          "--super-scales offers mixed precision (--target-cosine, not int8-fast) more candidates; give --target-cosine");
    }
    if ((tableStep != null || rareRowBits != null) && (targetCosine == null || options.preset() == Preset.INT8_FAST)) {
      throw new CommandLine.ParameterException(spec.commandLine(),
          "--table-step and --rare-rows change mixed precision's tables (--target-cosine, not int8-fast); give "
              + "--target-cosine");
    }
    if (tableStep != null && rareRowBits != null) {
      throw new CommandLine.ParameterException(spec.commandLine(),
          "--table-step and --rare-rows both set a table's codec; give one");
    }
    Double fixedTableStep = null;
    if (tableStep != null && !tableStep.equals("auto")) {
      try {
        fixedTableStep = Double.valueOf(tableStep);
      } catch (NumberFormatException e) {
        fixedTableStep = Double.NaN;
      }
      if (!(fixedTableStep > 0 && fixedTableStep <= 4)) {
        throw new CommandLine.ParameterException(spec.commandLine(), "--table-step takes auto or a step in (0, 4], got "
            + tableStep);
      }
    }
    if (rareRowBits != null && (rareRowBits < 2 || rareRowBits > 8)) {
      throw new CommandLine.ParameterException(spec.commandLine(), "--rare-rows takes 2 to 8 bits, got " + rareRowBits);
    }
    CalibrationInputs.Loaded loaded = null;
    OutputCheck.Report check = null;
    String notChecked = null;
    var err = spec.commandLine().getErr();
    Path model = in;
    Path rotated = null;
    // with GPTQ the calibration decides input by input; without it, every input is rotated up front
    boolean measuredRotation = rotate && (calibrate != null || targetCosine != null) && !noErrorCompensation;
    if (rotate) {
      if (options.preset() == Preset.INT8_FAST) {
        throw new CommandLine.ParameterException(spec.commandLine(),
            "--rotate is for weight-only presets; int8-fast smooths its MatMul inputs instead");
      }
      if (!in.getFileName().toString().toLowerCase(Locale.ROOT).endsWith(".onnx")) {
        throw new CommandLine.ParameterException(spec.commandLine(), "--rotate needs an ONNX model, got " + in);
      }
    }
    if (rotate && !measuredRotation) {
      Path dir = out.toAbsolutePath().getParent();
      rotated = Files.createTempFile(dir, "." + out.getFileName(), ".rotated.onnx");
      try {
        int n = HadamardRotation.write(in, rotated, HadamardRotation.DEFAULT_BLOCK);
        if (!json) {
          err.printf(Locale.ROOT, "rotated the inputs of %d MatMul weights (Hadamard blocks of %d)%n", n,
              HadamardRotation.DEFAULT_BLOCK);
        }
      } catch (java.io.IOException | RuntimeException e) {
        Files.deleteIfExists(rotated);
        throw e;
      }
      model = rotated;
    }
    try (TensorSource opened = ModelFormats.open(model);
        ProgressBar bar = ProgressBar.open(spec, calibrating ? "calibrating" : "compressing", json)) {
      TensorSource source = opened;
      if (!(opened instanceof OnnxModelReader) && !(opened instanceof SavedModelReader)
          && !(opened instanceof TorchScriptReader) && calibrating) {
        // weights only (safetensors, a state dict): no graph to run, so the same codecs round plainly
        spec.commandLine().getErr().println("warning: " + in + " holds weights only (" + opened.format() + ", no "
            + "graph to run), so calibration does not apply: falling back to uncalibrated rounding");
      }
      if (opened instanceof OnnxModelReader onnx) {
        checkShapes(onnx); // before any work: a wrong --input-shape is a usage error
      }
      if (opened instanceof TorchScriptReader) {
        TorchScriptOptions.check(spec, options, calibrate, targetCosine);
      } else if (options.preset() == Preset.INT8_FAST && opened instanceof OnnxModelReader onnx) {
        String data = calibrate != null ? calibrate : "random";
        if (calibrate == null) {
          spec.commandLine().getErr().println("warning: int8-fast calibrates on seeded random inputs; real inputs "
              + "(--calibrate sentences.txt or an image folder) give better int8 activations");
        }
        loaded = CalibrationInputs.load(onnx, request(data, true, options));
        var inputs = loaded.samples();
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
      } else if ((calibrate != null || targetCosine != null) && opened instanceof SavedModelReader savedModel) {
        if (targetCosine != null || activationScaling || refit || noErrorCompensation) {
          throw new CommandLine.ParameterException(spec.commandLine(), "a SavedModel calibrates with GPTQ only: drop "
              + "--target-cosine, --activation-scaling, --refit and --no-error-compensation");
        }
        source = SavedModelCalibration.calibrate(savedModel, calibrate, options, calibrationSamples, spec, json);
      } else if ((calibrate != null || targetCosine != null) && opened instanceof OnnxModelReader onnx) {
        if (calibrate == null) {
          err.println("note: --target-cosine without --calibrate plans on seeded random inputs; real inputs "
              + "(--calibrate data) measure the model as it is used and give a better plan");
        }
        loaded = CalibrationInputs.load(onnx, request(calibrate != null ? calibrate : "random", false, options));
        var inputs = loaded.samples();
        if (!json) {
          spec.commandLine().getErr().printf("calibrating on %d samples...%n", inputs.size());
          spec.commandLine().getErr().flush();
        }
        if (targetCosine != null) {
          double min = targetMinCosine != null ? targetMinCosine : MixedPrecision.defaultMinCosine(targetCosine);
          MixedPrecision.Calibrated calibrated = MixedPrecision.planAndCalibrate(onnx, options, inputs, targetCosine, min,
              options.threads(), superScales, fixedTableStep == null && tableStep != null, activationScaling, refit,
              measuredRotation, bar::note);
          MixedPrecision.Plan plan = calibrated.plan();
          if (!json) {
            spec.commandLine().getErr().printf("plan (bits/block: weights): %s%n  %s%n", plan.histogram(),
                calibrated.note());
            spec.commandLine().getErr().flush();
          }
          source = calibrated.source();
          if (tableStep != null || rareRowBits != null) {
            Map<String, long[]> counts = RareRows.counts(onnx, inputs);
            Double step = fixedTableStep;
            options = (step != null ? plan.options(builder(), counts.keySet(), EntropyQuantCodec.of(step))
                : tableStep != null ? plan.options(builder()) : plan.options(builder(), counts, rareRowBits)).build();
            if (!json) {
              counts.forEach((t, c) -> err.printf(Locale.ROOT, "table %s: %s%n", t, plan.codec(t) == null
                  ? "not planned, left as it is" : step != null ? "entropy-coded, step " + step + " x rms"
                  : tableStep != null ? "planned " + MixedPrecision.Plan.label(plan.codec(t))
                  : String.format(Locale.ROOT, "%,d of %,d rows read by the calibration data keep %s, the others "
                      + "%d bits", RareRows.frequentRows(c, 1), c.length, plan.codec(t).describe(), rareRowBits)));
            }
          } else {
            options = plan.options(builder()).build();
          }
        } else {
          source = OnnxCalibrator.forOptions(onnx, options, 0.01, options.threads()).onProgress(bar::note)
              .activationScaling(activationScaling).refit(refit).errorCompensation(!noErrorCompensation)
              .rotation(measuredRotation).calibrate(inputs);
        }
      }
      if (measuredRotation && !json && source.metadata().containsKey("rotation")) {
        err.println("rotation: " + source.metadata().get("rotation"));
      }
      if (calibrating) {
        bar.stage("compressing");
      }
      bar.units("bytes");
      stats = new CompressionPipeline(options)
          .onProgress(p -> bar.update(p.bytesDone(), p.bytesTotal(), p.tensor()))
          .run(source, source.location(), out, CortexSdr.manifest(source, options));
      if (noCheck) {
        notChecked = "--no-check";
      } else if (!(opened instanceof OnnxModelReader onnx)) {
        notChecked = "only ONNX models are run; this is " + opened.format();
      } else {
        bar.stage("checking outputs");
        try {
          check = checkOutputs(onnx, source, options, loaded);
          stats = new CompressionStats(stats.target(), stats.inputBytes(), java.nio.file.Files.size(out),
              stats.timeMs(), stats.tensors());
        } catch (dev.selfbyt.cortexsdr.core.format.CaiException | IllegalArgumentException | IllegalStateException e) {
          // the archive is written and whole; say loudly that it could not be checked
          notChecked = "the check failed: " + e.getMessage();
          err.println("warning: output check failed, " + OUT_NOT_CHECKED + ": " + e.getMessage());
        }
      }
      bar.done();
      if (calibrate != null && opened instanceof SavedModelReader savedModel) {
        SavedModelCalibration.checkOutputs(savedModel, out, calibrate, calibrationSamples, spec, json);
      }
    } finally {
      if (rotated != null) {
        Files.deleteIfExists(rotated);
      }
    }
    var o = spec.commandLine().getOut();
    if (json) {
      Map<String, Object> m = toMap(stats);
      if (check != null) {
        Map<String, Object> c = check.toMap();
        c.put("timeMs", check.timeMs());
        m.put(FidelityCheck.KEY, c);
      } else {
        m.put(FidelityCheck.KEY, Map.of("skipped", notChecked));
      }
      o.println(Json.write(m));
      if (check != null && !check.passed()) {
        err.println(FidelityCheck.warning(check));
      }
    } else {
      long lossy = stats.tensors().stream().filter(t -> t.nmse() > 0).count();
      double worst = stats.tensors().stream().mapToDouble(TensorStats::nmse).max().orElse(0);
      o.printf(Locale.ROOT, "%s -> %s%n", in, out);
      o.printf(Locale.ROOT, "  %,d -> %,d bytes, %.2fx smaller, %d ms%n", stats.inputBytes(), stats.outputBytes(),
          stats.ratio(), stats.timeMs());
      o.printf(Locale.ROOT, "  %d tensors (%d lossy, %d lossless), largest per-tensor NMSE %.3g%n",
          stats.tensors().size(), lossy, stats.tensors().size() - lossy, worst);
      if (check != null) {
        FidelityCheck.print(check, o, err);
      } else {
        FidelityCheck.printSkipped(notChecked, o);
      }
    }
    return 0;
  }

  private static final String OUT_NOT_CHECKED = "the archive is written but its outputs are not checked";

  private void checkShapes(OnnxModelReader onnx) {
    RandomInputs r = RandomInputs.of(dev.selfbyt.cortexsdr.converters.onnx.ModelInputs.of(onnx));
    try {
      for (String s : inputShapes) {
        Map.Entry<String, long[]> e = RandomInputs.parseShape(s);
        r.shape(e.getKey(), e.getValue());
      }
    } catch (IllegalArgumentException e) {
      throw new CommandLine.ParameterException(spec.commandLine(), "--input-shape: " + e.getMessage());
    }
  }

  /** The calibration request of the flags, for {@code data}. */
  private CalibrationInputs.Request request(String data, boolean batches, CompressionOptions options) {
    Map<String, long[]> shapes = new LinkedHashMap<>();
    for (String s : inputShapes) {
      Map.Entry<String, long[]> e = RandomInputs.parseShape(s);
      shapes.put(e.getKey(), e.getValue());
    }
    Map<String, String> pairs = null;
    if (!states.isEmpty()) {
      pairs = new LinkedHashMap<>();
      for (String s : states) {
        int eq = s.indexOf('=');
        if (eq <= 0 || eq == s.length() - 1) {
          throw new CommandLine.ParameterException(spec.commandLine(), "--state must be OUTPUT=INPUT, got " + s);
        }
        pairs.put(s.substring(0, eq), s.substring(eq + 1));
      }
    }
    return new CalibrationInputs.Request(in, data, tokenizer, calibrationSamples,
        CalibrationInputs.ImageRange.parse(imageRange), batches, shapes, sampleRate, pairs, options.threads(), 42);
  }

  /**
   * The output check: on (up to {@value FidelityCheck#CALIBRATION_SAMPLES} of) the calibration
   * data when there is some, else on seeded random inputs of other seed than calibration's (so
   * that random calibration is not checked on its own samples).
   */
  private OutputCheck.Report checkOutputs(OnnxModelReader onnx, TensorSource source, CompressionOptions options,
      CalibrationInputs.Loaded loaded) throws java.io.IOException {
    double threshold = minCosine != null ? minCosine : FidelityCheck.defaultThreshold(options, targetCosine);
    try (ModelTrial original = new ModelTrial(in, options.threads())) {
      List<OutputCheck.Stream> streams;
      String what;
      if (loaded != null && calibrate != null && !calibrate.equals("random")) {
        streams = FidelityCheck.spread(loaded.streams(), FidelityCheck.CALIBRATION_SAMPLES);
        what = "calibration " + loaded.description();
      } else {
        CalibrationInputs.Request r = request("random", false, options);
        CalibrationInputs.Loaded random = CalibrationInputs.load(onnx, new CalibrationInputs.Request(r.modelPath(),
            "random", null, FidelityCheck.RANDOM_SAMPLES, r.range(), false, r.shapes(), r.sampleRate(), r.state(),
            r.threads(), FidelityCheck.SEED), original);
        streams = random.streams();
        what = random.description();
      }
      return FidelityCheck.run(in, out, source, options, streams, what, threshold, original);
    } catch (ai.onnxruntime.OrtException e) {
      throw new dev.selfbyt.cortexsdr.core.format.CaiException(in.toString(), null, e.getMessage(), e);
    }
  }

  private CompressionOptions options() {
    CompressionOptions o;
    try {
      o = builder().build();
      CalibrationInputs.ImageRange.parse(imageRange);
    } catch (IllegalArgumentException e) { // includes bad regular expressions
      throw new CommandLine.ParameterException(spec.commandLine(), e.getMessage());
    }
    calibrationOptions(o);
    return o;
  }

  /** The flag of each calibration setting, for messages. */
  private static final Map<CalibrationOptions.Setting, String> FLAGS = Map.ofEntries(
      Map.entry(CalibrationOptions.Setting.DATA, "--calibrate"),
      Map.entry(CalibrationOptions.Setting.SAMPLES, "--calibration-samples"),
      Map.entry(CalibrationOptions.Setting.ACTIVATION_SCALING, "--activation-scaling"),
      Map.entry(CalibrationOptions.Setting.REFIT, "--refit"),
      Map.entry(CalibrationOptions.Setting.ERROR_COMPENSATION, "--no-error-compensation"),
      Map.entry(CalibrationOptions.Setting.SMOOTHING, "--smoothing"),
      Map.entry(CalibrationOptions.Setting.TARGET_COSINE, "--target-cosine"),
      Map.entry(CalibrationOptions.Setting.TARGET_MIN_COSINE, "--target-min-cosine"),
      Map.entry(CalibrationOptions.Setting.CHECK, "--no-check"),
      Map.entry(CalibrationOptions.Setting.CHECK_THRESHOLD, "--min-cosine"),
      Map.entry(CalibrationOptions.Setting.SAMPLE_RATE, "--sample-rate"),
      Map.entry(CalibrationOptions.Setting.INPUT_SHAPE, "--input-shape"),
      Map.entry(CalibrationOptions.Setting.STATE, "--state"));

  /** The calibration flags as {@link CalibrationOptions}, checked there (usage errors name the flag). */
  private CalibrationOptions calibrationOptions(CompressionOptions o) {
    try {
      CalibrationOptions.Builder c = CalibrationOptions.builder().data(calibrate).samples(calibrationSamples)
          .activationScaling(activationScaling).refit(refit).errorCompensation(!noErrorCompensation)
          .smoothing(smoothing).targetCosine(targetCosine).targetMinCosine(targetMinCosine).check(!noCheck)
          .checkThreshold(minCosine).sampleRate(sampleRate);
      for (String shape : inputShapes) {
        Map.Entry<String, long[]> e = RandomInputs.parseShape(shape);
        c.inputShape(e.getKey(), e.getValue());
      }
      return c.build(o);
    } catch (CalibrationOptions.InvalidOptionException e) {
      throw new CommandLine.ParameterException(spec.commandLine(), FLAGS.get(e.setting()) + ": " + e.getMessage());
    } catch (IllegalArgumentException e) {
      throw new CommandLine.ParameterException(spec.commandLine(), "--input-shape: " + e.getMessage());
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
