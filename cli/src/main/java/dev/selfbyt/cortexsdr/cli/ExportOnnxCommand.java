package dev.selfbyt.cortexsdr.cli;

import dev.selfbyt.cortexsdr.converters.onnx.OnnxExporter;
import dev.selfbyt.cortexsdr.converters.onnx.OrtVersion;
import dev.selfbyt.cortexsdr.converters.onnx.QuantizedOnnxExporter;
import dev.selfbyt.cortexsdr.converters.onnx.StoredGraphCheck;
import dev.selfbyt.cortexsdr.core.format.CorruptCaiException;
import dev.selfbyt.cortexsdr.core.format.CaiReader;
import dev.selfbyt.cortexsdr.core.format.Json;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code cortexsdr export-onnx IN.cai -o OUT.onnx [--mode decoded|quantized] [--ort-version X.Y]}. */
@Command(name = "export-onnx", mixinStandardHelpOptions = true, versionProvider = CortexSdrCommand.Version.class,
    description = "Write a .cai archive as a standard .onnx model any ONNX Runtime loads.")
final class ExportOnnxCommand implements Callable<Integer> {
  enum Mode { decoded, quantized }

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Parameters(index = "0", paramLabel = "IN.cai")
  Path in;

  @Option(names = {"-o", "--output"}, required = true, paramLabel = "OUT.onnx")
  Path out;

  @Option(names = "--mode", paramLabel = "MODE",
      description = "decoded: fp32 weights, the original graph; quantized (default): weights stay "
          + "quantized (MatMulNBits, GatherBlockQuantized)")
  Mode mode = Mode.quantized;

  @Option(names = "--accuracy-level", paramLabel = "N",
      description = "MatMulNBits accuracy_level: 0 (default) computes in fp32, 4 uses int8 activations, "
          + "auto times both per weight shape in this ONNX Runtime and keeps the faster")
  String accuracyLevel = "0";

  @Option(names = "--ort-version", paramLabel = "X.Y",
      description = "the oldest ONNX Runtime that must load the file (quantized mode): no operator or attribute "
          + "it lacks is written (MatMulNBits int8 and GatherBlockQuantized bits need 1.23, GatherBlockQuantized "
          + "1.20). Default: the oldest that keeps the weights quantized (1.16); 1.20 or newer keeps 4-bit "
          + "embedding tables at half a byte per code")
  String ortVersion;

  @Option(names = "--json", description = "print the result as JSON")
  boolean json;

  @Override
  public Integer call() throws Exception {
    int level;
    if (accuracyLevel.equals("auto")) {
      level = dev.selfbyt.cortexsdr.converters.onnx.NBitsAccuracy.MEASURED;
    } else if (accuracyLevel.matches("[0-4]")) {
      level = Integer.parseInt(accuracyLevel);
    } else {
      throw new CommandLine.ParameterException(spec.commandLine(), "--accuracy-level must be 0 to 4 or auto, got "
          + accuracyLevel);
    }
    OrtVersion runtime;
    try {
      runtime = ortVersion == null ? QuantizedOnnxExporter.oldestKeepingQuantized(false) : OrtVersion.parse(ortVersion);
    } catch (IllegalArgumentException e) {
      throw new CommandLine.ParameterException(spec.commandLine(), "--ort-version: " + e.getMessage());
    }
    List<QuantizedOnnxExporter.Form> forms = List.of();
    try (CaiReader cai = CaiReader.open(in);
        ProgressBar bar = ProgressBar.open(spec, "exporting", json)) {
      bar.follow(cai);
      StoredGraphCheck.check(cai);
      try {
        if (mode == Mode.decoded) {
          OnnxExporter.exportDecoded(cai, out);
        } else {
          forms = QuantizedOnnxExporter.export(cai, out, level, runtime);
        }
      } catch (RuntimeException e) {
        // a payload the exporter trips over is the file's fault: name it (the output was not written)
        throw new CorruptCaiException(in.toString(), bar.last(), "does not export: "
            + (e.getMessage() == null ? e.toString() : e.getMessage()), e);
      }
      bar.done();
    }
    long bytes = Files.size(out);
    Map<String, Integer> counts = new TreeMap<>();
    List<Object> decodedLossy = new ArrayList<>();
    // why each decoded weight was decoded, grouped: reason -> tensors
    Map<String, List<String>> whyDecoded = new TreeMap<>();
    for (QuantizedOnnxExporter.Form f : forms) {
      counts.merge(f.form(), 1, Integer::sum);
      if (f.form().equals("decoded")) {
        whyDecoded.computeIfAbsent(reason(f.note()), k -> new ArrayList<>()).add(f.tensor());
        if (!f.note().equals("lossless")) {
          decodedLossy.add(Map.of("tensor", f.tensor(), "why", f.note()));
        }
      }
    }
    PrintWriter o = spec.commandLine().getOut();
    if (json) {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("output", out.toString());
      m.put("mode", mode.name());
      if (mode == Mode.quantized) {
        m.put("ortVersion", runtime.toString());
      }
      m.put("bytes", bytes);
      m.put("forms", counts);
      Map<String, Integer> reasons = new LinkedHashMap<>();
      whyDecoded.forEach((why, names) -> reasons.put(why, names.size()));
      m.put("decodedReasons", reasons);
      m.put("decodedLossyTensors", decodedLossy);
      List<Object> widened = new ArrayList<>();
      forms.stream().filter(f -> f.note().contains("widened")).forEach(f -> widened.add(f.tensor()));
      m.put("widenedTensors", widened);
      o.println(Json.write(m));
      return 0;
    }
    o.printf("%s -> %s (%,d bytes, %s)%n", in, out, bytes,
        mode == Mode.quantized ? "quantized, for ONNX Runtime " + runtime + " or newer" : mode);
    counts.forEach((form, n) -> {
      o.printf("  %4d x %s%n", n, form.equals("decoded") ? "decoded (plain initializers), because:" : form);
      if (form.equals("decoded")) {
        whyDecoded.entrySet().stream()
            .sorted((a, b) -> Integer.compare(b.getValue().size(), a.getValue().size()))
            .forEach(w -> o.printf("         %4d x %s%s%n", w.getValue().size(), w.getKey(), examples(w)));
      }
    });
    forms.stream().filter(f -> f.note().contains("widened")).findFirst()
        .ifPresent(f -> o.printf("  note: %s%n", f.note()));
    // one line per older form the target asked for, with the release that has the newer one
    Map<String, String> older = new TreeMap<>();
    forms.stream().filter(f -> f.note().contains("needs ONNX Runtime")).forEach(f -> older.putIfAbsent(f.form(), f.note()));
    older.forEach((form, note) -> o.printf("  note: %s: %s%n", form, note));
    return 0;
  }

  /** The exporter's note as a reason a reader understands; counts folded so that like groups with like. */
  static String reason(String note) {
    if (note.equals("lossless")) {
      return "stored losslessly (norms, biases, small or integer tensors): written exactly as they were";
    }
    if (note.matches("\\d+ consumers")) {
      return "used by several nodes (one quantized form per use is not written)";
    }
    return note.isEmpty() ? "no reason given" : note;
  }

  /** A few of a lossy group's tensors (the lossless ones are many and unremarkable). */
  private static String examples(Map.Entry<String, List<String>> w) {
    if (w.getKey().startsWith("stored losslessly")) {
      return "";
    }
    List<String> names = w.getValue();
    return ": " + String.join(", ", names.subList(0, Math.min(3, names.size())))
        + (names.size() > 3 ? ", ... (--json lists all)" : "");
  }
}
