package dev.selfbyt.cortexsdr.it.report;

import dev.selfbyt.cortexsdr.converters.onnx.OnnxCalibrator;
import dev.selfbyt.cortexsdr.it.models.CalibratedRun;
import dev.selfbyt.cortexsdr.it.models.ModelReport;
import dev.selfbyt.cortexsdr.it.models.MobyDick;
import dev.selfbyt.cortexsdr.it.models.RealModel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Size against fidelity: the sentence encoders through {@link ModelReport#evaluate} (which also times
 * the ONNX Runtime paths) and M-LSD through {@link CalibratedRun}. Keeps the rows for the plots and
 * the latency section.
 */
final class SizeFidelity {
  /** Every measured file, for the Pareto plot. */
  final List<Point> points = new ArrayList<>();
  /** The text models' rows, with ONNX Runtime latency where timed. */
  final Map<RealModel, List<ModelReport.Row>> textRows = new LinkedHashMap<>();

  /** The sentence encoders' table. */
  String text(ReportConfig c) throws Exception {
    List<ModelReport.Row> all = new ArrayList<>();
    for (RealModel m : c.textModels()) {
      List<ModelReport.Row> rows = ModelReport.evaluate(m, c.presets(), c.sentences(), c.latencyRuns(), c.threads(),
          c.work(), true, c.methods().isEmpty() ? 0 : c.calibration(), c.methods());
      textRows.put(m, rows);
      all.addAll(rows);
      for (ModelReport.Row r : rows) {
        points.add(new Point(r.model(), kind(r.variant()), r.variant(), r.ratio(), r.meanCos()));
      }
    }
    return String.format(Locale.ROOT, "%d Moby-Dick sentences per model; fidelity is the cosine of the pooled "
        + "embeddings against the fp32 model, the file run in ONNX Runtime %s. `(decoded)` rows: the `.cai` file's "
        + "size, its weights decoded to fp32 in an ONNX file; `-> quantized .onnx`: the file "
        + "`cortexsdr export-onnx --mode quantized` writes (the size ONNX Runtime loads). %s Latency (batch 1, 128 tokens, %d threads, median "
        + "of %d calls, the sessions taking turns) is in the latency section.%n%n%s", c.sentences(),
        dev.selfbyt.cortexsdr.converters.onnx.OrtEnvironments.get().getVersion(), c.methods().isEmpty()
        ? "No calibrated rows in this run." : String.format(Locale.ROOT, "Calibrated rows (%s): %d further sentences "
        + "the evaluation never sees.", String.join(", ", c.methods()), c.calibration()), c.threads(), c.latencyRuns(),
        ModelReport.markdown(withoutLatency(all)));
  }

  /** The series of a row of {@link ModelReport}. */
  private static String kind(String variant) {
    if (variant.startsWith("fp32")) {
      return "fp32";
    }
    if (variant.contains("twin")) {
      return "ONNX Runtime int8 twin";
    }
    if (variant.contains("accuracy_level")) {
      return ".cai -> quantized .onnx, int8 activations";
    }
    return variant.contains("quantized") ? ".cai -> quantized .onnx" : ".cai (decoded)";
  }

  private static List<ModelReport.Row> withoutLatency(List<ModelReport.Row> rows) {
    List<ModelReport.Row> out = new ArrayList<>();
    for (ModelReport.Row r : rows) {
      out.add(new ModelReport.Row(r.model(), r.variant(), r.bytes(), r.ratio(), r.meanCos(), r.minCos(), r.knn(),
          Double.NaN, r.note()));
    }
    return out;
  }

  /** M-LSD's table: each recipe's {@code .cai} and quantized export against the fp32 file, on line scenes. */
  String mlsd(ReportConfig c) throws Exception {
    Path work = Files.createDirectories(c.work().resolve("mlsd"));
    StringBuilder sb = new StringBuilder(String.format(Locale.ROOT, "M-LSD (npm `jp.keijiro.mlsd`, weights in "
        + "`Constant` nodes) on %d synthetic line scenes (`LineScenes`); fidelity is the mean cosine of each output "
        + "against the fp32 file (out0 line offsets, out1 scores), the quantized export run in ONNX Runtime; the plot "
        + "uses the worse output. No ONNX Runtime int8 twin ships for it.%n%n"
        + "| model | recipe | `.cai` ratio | quantized export bytes | export vs fp32 file | mean cosine per output |%n"
        + "|---|---|---|---|---|---|%n", c.mlsdScenes()));
    for (String name : c.mlsd()) {
      Path fp32 = MobyDick.dataDir().resolve("mlsd/package/ONNX/" + name + ".onnx");
      List<Map<String, OnnxCalibrator.Input>> eval = CalibratedRun.scenes(fp32, 1, c.mlsdScenes());
      long fp32Bytes = Files.size(fp32);
      points.add(new Point(name, "fp32", "fp32 original", 1, 1));
      for (CalibratedRun.Recipe r : c.mlsdRecipes()) {
        // calibrated recipes on 16 other scenes (seeds 100-115), as LayerCalibrationBench
        CalibratedRun.Result res = CalibratedRun.run(fp32, r, r.calibrated() ? CalibratedRun.scenes(fp32, 100, 16)
            : List.of(), work);
        double[] cos = CalibratedRun.meanCosines(fp32, res.export(), eval);
        double worst = 1;
        StringBuilder q = new StringBuilder();
        for (int i = 0; i < cos.length; i++) {
          worst = Math.min(worst, cos[i]);
          q.append(i == 0 ? "" : ", ").append(String.format(Locale.ROOT, "out%d %.5f", i, cos[i]));
        }
        double exportRatio = (double) fp32Bytes / res.exportBytes();
        points.add(new Point(name, ".cai (decoded)", ".cai " + r.label(), res.ratio(), worst));
        points.add(new Point(name, ".cai -> quantized .onnx", ".cai " + r.label() + " -> quantized .onnx", exportRatio,
            worst));
        sb.append(String.format(Locale.ROOT, "| %s | %s | %.2fx | %,d | %.2fx | %s |%n", name, r.label(), res.ratio(),
            res.exportBytes(), exportRatio, q));
      }
    }
    return sb.toString();
  }
}
