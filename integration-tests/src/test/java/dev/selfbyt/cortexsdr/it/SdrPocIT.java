package dev.selfbyt.cortexsdr.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.selfbyt.cortexsdr.it.models.FashionMnistImages;
import dev.selfbyt.cortexsdr.it.sdr.SdrPocPlots;
import dev.selfbyt.cortexsdr.it.sdr.SdrPocReport;
import java.awt.image.BufferedImage;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import javax.imageio.ImageIO;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The SDR proof of concept end to end in its quick form ({@code SdrPocReport --quick}): a
 * Fashion-MNIST network trained and pruned with DJL's PyTorch engine (one epoch per stage), written
 * as ONNX, compressed with the {@code sdr} preset at the sparsity it was pruned to, and run on the
 * 10,000 test images on ONNX Runtime ({@code SdrMatMul}/{@code SdrConv} through {@code CaiOrt}) and
 * on the DJL engine. The full run's figures (accuracy loss, speed) are the benchmark's, in
 * docs/benchmarks.md; this checks what must hold whatever the training length: the two runtimes
 * agree, they reproduce PyTorch's accuracy of the same network, the files are as small as the
 * sparsity says, and the report's plots render.
 */
class SdrPocIT {
  @ParameterizedTest
  @ValueSource(strings = {"mlp", "cnn"})
  void prunedNetworksRunSparseOnBothRuntimesWithPyTorchsAccuracy(String arch) throws Exception {
    List<SdrPocReport.Row> rows = SdrPocReport.run(Path.of("target/sdr-poc"), FashionMnistImages.DEFAULT_DIR, arch, true,
        false, 5, 2);
    System.out.print(SdrPocReport.table(arch, rows, 5, 2));
    // the report's figures render: every plot is a PNG of the size drawn, not blank
    for (Path png : SdrPocPlots.write(Map.of(arch, rows), Path.of("target/sdr-poc/plots-" + arch), "quick")) {
      BufferedImage img = ImageIO.read(png.toFile());
      assertTrue(img != null && img.getWidth() == 900 && img.getHeight() == 540, png + " is not a 900 x 540 image");
      assertTrue(img.getRGB(0, 0) != img.getRGB(450, 270) || img.getRGB(450, 270) != img.getRGB(100, 500),
          png + " looks blank");
    }
    assertEquals(3 + 3 * 2, rows.size(), "dense fp32, lossless, int8, then sdr 4-bit and 8-bit per sparsity");
    for (SdrPocReport.Row r : rows) {
      String what = arch + " " + r.v().name();
      // both runtimes compute the same decoded network: the same predictions but for rounding ties
      assertEquals(r.ortAccuracy(), r.djlAccuracy(), 0.0005, what + ": ONNX Runtime vs DJL engine");
      // 8-bit and 4-bit values move an image or a few; more means the sparse network is not PyTorch's
      double tolerance = r.v().name().contains("4-bit") ? 0.01 : 0.003;
      assertEquals(r.v().trainedAccuracy(), r.ortAccuracy(), tolerance, what + ": vs PyTorch's accuracy");
      if (r.v().sparsity() > 0 && r.v().sparsity() < 0.91) {
        // a kept weight costs about a byte of position plus its value bits, one of (1 - s) kept; 0.6
        // leaves room for the small layers and biases the policy keeps lossless (at 95% and 98% those
        // dominate, so there the files need only shrink as the sparsity rises, below)
        int bits = r.v().name().contains("4-bit") ? 4 : 8;
        double nominal = 32 / ((1 - r.v().sparsity()) * (9 + bits));
        assertTrue(r.ratio() >= 0.6 * nominal, what + ": " + r.ratio() + "x smaller than fp32, nominal " + nominal);
      }
    }
    for (String bits : List.of("4-bit", "8-bit")) {
      List<SdrPocReport.Row> sparse = rows.stream().filter(r -> r.v().name().contains(bits)).toList();
      for (int i = 1; i < sparse.size(); i++) {
        assertTrue(sparse.get(i).bytes() < sparse.get(i - 1).bytes(),
            arch + " " + bits + ": the file shrinks as the sparsity rises " + sparse.get(i - 1).v().name() + " -> "
                + sparse.get(i).v().name());
      }
    }
  }
}
