package dev.selfbyt.cortexsdr.it.sdr;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.ToDoubleFunction;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.CategoryChart;
import org.knowm.xchart.CategoryChartBuilder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.style.Styler;
import org.knowm.xchart.style.markers.SeriesMarkers;

/**
 * The proof of concept's figures as PNG (XChart): test accuracy against sparsity, accuracy against
 * size (how many times smaller than fp32), and latency of each sparse file relative to the dense
 * fp32 network on the same runtime, at batch 1 and 64. Drawn from {@link SdrPocReport.Row}s only:
 * every point is a measurement of the run that wrote the table beside them.
 */
public final class SdrPocPlots {
  private SdrPocPlots() {}

  /**
   * Writes {@code sdr-poc-accuracy.png}, {@code sdr-poc-size.png} and {@code sdr-poc-latency-ARCH.png}
   * into {@code dir}, and returns the files written.
   */
  public static List<Path> write(Map<String, List<SdrPocReport.Row>> byArch, Path dir, String subtitle)
      throws IOException {
    System.setProperty("java.awt.headless", "true");
    Files.createDirectories(dir);
    List<Path> out = new ArrayList<>();
    out.add(save(accuracy(byArch, subtitle), dir.resolve("sdr-poc-accuracy")));
    out.add(save(size(byArch, subtitle), dir.resolve("sdr-poc-size")));
    for (Map.Entry<String, List<SdrPocReport.Row>> e : byArch.entrySet()) {
      out.add(save(latency(e.getKey(), e.getValue(), subtitle), dir.resolve("sdr-poc-latency-" + e.getKey())));
    }
    return out;
  }

  private static XYChart accuracy(Map<String, List<SdrPocReport.Row>> byArch, String subtitle) {
    XYChart c = new XYChartBuilder().width(900).height(540)
        .title("Fashion-MNIST test accuracy vs sparsity (" + subtitle + ")")
        .xAxisTitle("weights pruned (%)").yAxisTitle("accuracy on 10,000 test images (%)").build();
    c.getStyler().setLegendPosition(Styler.LegendPosition.InsideSW);
    for (Map.Entry<String, List<SdrPocReport.Row>> e : byArch.entrySet()) {
      String arch = e.getKey().toUpperCase(java.util.Locale.ROOT);
      series(c, arch + " PyTorch (fp32)", e.getValue(), "dense fp32", "4-bit", r -> 100 * r.v().sparsity(),
          r -> 100 * r.v().trainedAccuracy());
      series(c, arch + " .cai sdr 8-bit, ONNX Runtime", e.getValue(), "dense fp32", "8-bit", r -> 100 * r.v().sparsity(),
          r -> 100 * r.ortAccuracy());
      series(c, arch + " .cai sdr 4-bit, ONNX Runtime", e.getValue(), "dense fp32", "4-bit", r -> 100 * r.v().sparsity(),
          r -> 100 * r.ortAccuracy());
      series(c, arch + " .cai sdr 4-bit, DJL engine", e.getValue(), "dense fp32", "4-bit", r -> 100 * r.v().sparsity(),
          r -> 100 * r.djlAccuracy());
    }
    return c;
  }

  private static XYChart size(Map<String, List<SdrPocReport.Row>> byArch, String subtitle) {
    XYChart c = new XYChartBuilder().width(900).height(540)
        .title("Accuracy vs size (" + subtitle + ")")
        .xAxisTitle("times smaller than the fp32 .onnx").yAxisTitle("accuracy on ONNX Runtime (%)").build();
    c.getStyler().setLegendPosition(Styler.LegendPosition.InsideSW);
    c.getStyler().setXAxisLogarithmic(true);
    for (Map.Entry<String, List<SdrPocReport.Row>> e : byArch.entrySet()) {
      String arch = e.getKey().toUpperCase(java.util.Locale.ROOT);
      for (String kind : List.of("8-bit", "4-bit")) {
        series(c, arch + " sdr " + kind, e.getValue(), "dense fp32", kind, SdrPocReport.Row::ratio,
            r -> 100 * r.ortAccuracy());
      }
      series(c, arch + " dense int8", e.getValue(), "dense fp32", "dense int8", SdrPocReport.Row::ratio,
          r -> 100 * r.ortAccuracy());
    }
    return c;
  }

  /** The dense rows named {@code dense} first, then every row whose name contains {@code kind}. */
  private static void series(XYChart c, String name, List<SdrPocReport.Row> rows, String dense, String kind,
      ToDoubleFunction<SdrPocReport.Row> x, ToDoubleFunction<SdrPocReport.Row> y) {
    List<Double> xs = new ArrayList<>();
    List<Double> ys = new ArrayList<>();
    for (SdrPocReport.Row r : rows) {
      if (r.v().name().startsWith(dense) || r.v().name().contains(kind)) {
        xs.add(x.applyAsDouble(r));
        ys.add(y.applyAsDouble(r));
      }
    }
    XYSeries s = c.addSeries(name, xs, ys);
    s.setMarker(SeriesMarkers.CIRCLE);
  }

  private static CategoryChart latency(String arch, List<SdrPocReport.Row> rows, String subtitle) {
    CategoryChart c = new CategoryChartBuilder().width(900).height(540)
        .title(arch.toUpperCase(java.util.Locale.ROOT) + " latency vs the dense fp32 network on the same runtime ("
            + subtitle + ")")
        .xAxisTitle("file").yAxisTitle("median latency / dense fp32 (lower is faster)").build();
    c.getStyler().setLegendPosition(Styler.LegendPosition.InsideNE);
    c.getStyler().setXAxisLabelRotation(20);
    Map<String, Double> ort = rows.get(0).latencyMs();
    Map<String, Double> djl = rows.stream().filter(r -> r.v().name().equals("dense lossless .cai")).findFirst()
        .map(SdrPocReport.Row::latencyMs).orElse(ort);
    List<String> names = new ArrayList<>();
    for (SdrPocReport.Row r : rows) {
      if (r.v().sparsity() > 0 || r.v().name().contains("int8")) {
        names.add(r.v().name().replace(" .cai", ""));
      }
    }
    for (String key : List.of("ort b1", "ort b64", "djl b1", "djl b64")) {
      Map<String, Double> base = key.startsWith("ort") ? ort : djl;
      List<Double> v = new ArrayList<>();
      for (SdrPocReport.Row r : rows) {
        if (r.v().sparsity() > 0 || r.v().name().contains("int8")) {
          v.add(r.latencyMs().get(key) / base.get(key));
        }
      }
      c.addSeries((key.startsWith("ort") ? "ONNX Runtime" : "DJL engine") + ", batch " + key.substring(5), names, v);
    }
    return c;
  }

  private static Path save(org.knowm.xchart.internal.chartpart.Chart<?, ?> chart, Path base) throws IOException {
    Path tmp = base.resolveSibling(base.getFileName() + ".tmp.png");
    BitmapEncoder.saveBitmap(chart, tmp.toString(), BitmapEncoder.BitmapFormat.PNG);
    Path png = base.resolveSibling(base.getFileName() + ".png");
    Files.move(tmp, png, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    return png;
  }
}
