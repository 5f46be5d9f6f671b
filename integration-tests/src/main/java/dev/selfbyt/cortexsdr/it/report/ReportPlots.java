package dev.selfbyt.cortexsdr.it.report;

import dev.selfbyt.cortexsdr.it.djl.DjlEngineReport;
import dev.selfbyt.cortexsdr.it.models.ModelReport;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Predicate;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.CategoryChart;
import org.knowm.xchart.CategoryChartBuilder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.internal.chartpart.Chart;
import org.knowm.xchart.style.Styler;
import org.knowm.xchart.style.markers.SeriesMarkers;

/**
 * The report's figures as PNG (XChart), drawn only from the run's own results. Every figure is
 * {@value #WIDTH} x {@value #HEIGHT} pixels.
 */
final class ReportPlots {
  /** Width of every figure in pixels. */
  static final int WIDTH = 1000;
  /** Height of every figure in pixels. */
  static final int HEIGHT = 600;

  private ReportPlots() {}

  /**
   * Size against fidelity of the models {@code which} accepts, a series per model and kind of file;
   * up and right is better.
   */
  static XYChart pareto(List<Point> points, Predicate<String> which, String title, String yTitle) {
    XYChart c = new XYChartBuilder().width(WIDTH).height(HEIGHT).title(title)
        .xAxisTitle("times smaller than the fp32 file").yAxisTitle(yTitle).build();
    c.getStyler().setDefaultSeriesRenderStyle(XYSeries.XYSeriesRenderStyle.Scatter);
    c.getStyler().setLegendPosition(Styler.LegendPosition.OutsideE);
    c.getStyler().setLegendFont(c.getStyler().getLegendFont().deriveFont(11f));
    c.getStyler().setMarkerSize(9);
    Map<String, List<Point>> series = new LinkedHashMap<>();
    for (Point p : points) {
      if (which.test(p.model())) {
        series.computeIfAbsent(p.model().replaceFirst("^all-", "").replace("_320x320", "") + ": "
            + p.kind().replace("ONNX Runtime", "ORT").replace(" -> quantized .onnx", " export"), k -> new ArrayList<>())
            .add(p);
      }
    }
    for (Map.Entry<String, List<Point>> e : series.entrySet()) {
      c.addSeries(e.getKey(), e.getValue().stream().map(Point::ratio).toList(),
          e.getValue().stream().map(Point::fidelity).toList()).setMarker(e.getKey().contains("twin")
              ? SeriesMarkers.DIAMOND : e.getKey().contains("DJL") ? SeriesMarkers.SQUARE : SeriesMarkers.CIRCLE);
    }
    return c;
  }

  /**
   * Latency of every runtime path of one model relative to ONNX Runtime fp32 of the same run: the DJL
   * run (A) and the ONNX Runtime sessions run (B).
   */
  static CategoryChart latency(String model, DjlEngineReport.Times a, List<ModelReport.Row> b, String subtitle) {
    CategoryChart c = new CategoryChartBuilder().width(WIDTH).height(HEIGHT)
        .title(model + ": latency, batch 1, 128 tokens (" + subtitle + ")")
        .yAxisTitle("median / ONNX Runtime fp32 of the same run (lower is faster)").build();
    c.getStyler().setLegendVisible(false);
    c.getStyler().setXAxisLabelRotation(25);
    c.getStyler().setLabelsVisible(true);
    c.getStyler().setDecimalPattern("0.00");
    List<String> names = new ArrayList<>();
    List<Double> values = new ArrayList<>();
    if (a != null) {
      double base = a.median(DjlEngineReport.ORT_FP32);
      for (String k : a.times().keySet()) {
        names.add("A: " + shorter(k));
        values.add(a.median(k) / base);
      }
    }
    if (b != null) {
      double base = b.get(0).latencyMs();
      for (ModelReport.Row r : b) {
        if (!Double.isNaN(r.latencyMs())) {
          names.add("B: " + (r.variant().startsWith("ONNX Runtime") ? "" : "ORT ")
              + shorter(r.variant().replace(" original", "")));
          values.add(r.latencyMs() / base);
        }
      }
    }
    c.addSeries("latency", names, values);
    return c;
  }

  private static String shorter(String runtime) {
    return runtime.replace("ONNX Runtime", "ORT").replace(" (its dynamic quantization)", "")
        .replace("CortexSDR engine, ", "DJL CortexSDR ").replace("DJL PyTorch engine, fp32 TorchScript",
            "DJL PyTorch fp32").replace(" -> quantized .onnx", " export").replace(", accuracy_level 4", " acc4");
  }

  /** Input MB/s per model and preset, cold and warm. */
  static CategoryChart throughput(List<Throughput.Row> rows, String subtitle) {
    CategoryChart c = new CategoryChartBuilder().width(WIDTH).height(HEIGHT)
        .title("Compression throughput, CLI defaults (" + subtitle + ")").yAxisTitle("input MB/s (higher is faster)")
        .build();
    c.getStyler().setXAxisLabelRotation(25);
    c.getStyler().setLegendPosition(Styler.LegendPosition.InsideNE);
    List<String> names = rows.stream().map(r -> r.model().replace(".onnx", "") + " " + r.preset().id()).toList();
    c.addSeries("cold (first in the JVM)", names, rows.stream().map(r -> r.cold().mbPerSecond()).toList());
    c.addSeries("warm (fastest repetition)", names, rows.stream().map(r -> r.warm().mbPerSecond()).toList());
    return c;
  }

  /** Weights resident in the DJL engine after load against the same weights as fp32. */
  static CategoryChart memory(List<DjlEngineReport.Fidelity> rows, String subtitle) {
    CategoryChart c = new CategoryChartBuilder().width(WIDTH).height(HEIGHT)
        .title("Weights in memory after load, DJL engine CortexSDR (" + subtitle + ")").yAxisTitle("MB").build();
    c.getStyler().setXAxisLabelRotation(25);
    c.getStyler().setLegendPosition(Styler.LegendPosition.InsideNE);
    List<String> names = rows.stream().map(r -> r.model() + " " + r.preset()).toList();
    c.addSeries("weights in memory", names, rows.stream().map(r -> r.residentWeightBytes() / 1e6).toList());
    c.addSeries("the same weights as fp32", names, rows.stream().map(r -> r.fp32WeightBytes() / 1e6).toList());
    return c;
  }

  /** Writes {@code chart} as {@code dir/name.png} (temporary file, then rename) and returns the file. */
  static Path save(Chart<?, ?> chart, Path dir, String name) throws IOException {
    System.setProperty("java.awt.headless", "true");
    Files.createDirectories(dir);
    Path tmp = dir.resolve("." + name + ".tmp.png");
    BitmapEncoder.saveBitmap(chart, tmp.toString(), BitmapEncoder.BitmapFormat.PNG);
    Path png = dir.resolve(name + ".png");
    Files.move(tmp, png, StandardCopyOption.REPLACE_EXISTING);
    return png;
  }

  /** A file name part for a model. */
  static String slug(String model) {
    return model.toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9]+", "-").replaceAll("(^-|-$)", "");
  }
}
