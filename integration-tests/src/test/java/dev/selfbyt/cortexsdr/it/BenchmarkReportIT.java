package dev.selfbyt.cortexsdr.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.selfbyt.cortexsdr.it.report.BenchmarkReport;
import dev.selfbyt.cortexsdr.it.report.ReportConfig;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;

/**
 * The benchmark report as CI runs it ({@code ./benchmark --quick}, here into {@code
 * target/report-it}): every section is in the markdown with its measured tables, the header names
 * the machine, load and versions, every figure the markdown links is there, and every figure is a
 * PNG of the size drawn that is not blank.
 */
class BenchmarkReportIT {
  @Test
  void quickReportHasEverySectionAndItsPlotsRender() throws Exception {
    Path out = Path.of("target/report-it");
    BenchmarkReport.Written w = BenchmarkReport.run(ReportConfig.of(true, out, false));
    String md = Files.readString(w.markdown());
    System.out.println(md);

    assertEquals(6, w.sections().size(), "size/fidelity twice, memory, latency, throughput, sparsity");
    for (String title : w.sections()) {
      assertTrue(md.contains("\n## " + title + "\n"), "section '" + title + "' missing");
    }
    for (String header : List.of("| machine |", "| load average (1 min) |", "| Java |", "| ONNX Runtime | 1.",
        "| DJL | 0.", "| DJL PyTorch engine |", "| commit |")) {
      assertTrue(md.contains(header), "header line '" + header + "' missing");
    }
    // measured rows, not empty tables: the fp32 anchor, the int8 twin, a .cai on each runtime, M-LSD, the MLP
    for (String row : List.of("| all-MiniLM-L6-v2 | fp32 original |", "| all-MiniLM-L6-v2 | ONNX Runtime int8 twin |",
        "| CortexSDR engine, int8 .cai |", "| mlsd_320x320_tiny | int4 |", "| dense fp32 .onnx |", "| sdr 90% 4-bit .cai |")) {
      assertTrue(md.contains(row), "no row '" + row + "'");
    }

    // every linked figure exists, and every figure written is linked
    List<String> linked = new ArrayList<>();
    Matcher m = Pattern.compile("\\]\\(images/([a-z0-9-]+\\.png)\\)").matcher(md);
    while (m.find()) {
      linked.add(m.group(1));
    }
    List<String> written = w.images().stream().map(p -> p.getFileName().toString()).toList();
    assertEquals(written.stream().sorted().toList(), linked.stream().sorted().toList(), "figures linked vs written");

    for (Path png : w.images()) {
      BufferedImage img = ImageIO.read(png.toFile());
      assertNotNull(img, png + " does not decode as an image");
      // the proof of concept's own figures are 900 x 540, the report's 1000 x 600
      boolean poc = png.getFileName().toString().startsWith("report-sparsity-");
      assertEquals(poc ? 900 : 1000, img.getWidth(), png + " width");
      assertEquals(poc ? 540 : 600, img.getHeight(), png + " height");
      assertTrue(luminanceVariance(img) > 100, png + " looks blank (luminance variance " + luminanceVariance(img) + ")");
    }
  }

  /** Variance of the pixels' luminance (0-255): near 0 for an empty or one-colour image. */
  private static double luminanceVariance(BufferedImage img) {
    double sum = 0;
    double sq = 0;
    long n = 0;
    for (int y = 0; y < img.getHeight(); y += 2) {
      for (int x = 0; x < img.getWidth(); x += 2) {
        int rgb = img.getRGB(x, y);
        double l = 0.299 * ((rgb >> 16) & 0xff) + 0.587 * ((rgb >> 8) & 0xff) + 0.114 * (rgb & 0xff);
        sum += l;
        sq += l * l;
        n++;
      }
    }
    double mean = sum / n;
    return sq / n - mean * mean;
  }
}
