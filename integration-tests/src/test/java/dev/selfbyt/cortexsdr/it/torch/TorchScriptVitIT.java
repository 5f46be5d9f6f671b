package dev.selfbyt.cortexsdr.it.torch;

import ai.djl.engine.Engine;
import java.nio.file.Path;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * torchvision's ViT-B/16 (seeded weights, traced by torchvision_torchscript.py) through .cai and back
 * into DJL's PyTorch engine: int8 and int4 reach 3.9x and 6.5x with their output NMSE on seeded images printed.
 */
@Tag("pytorch")
class TorchScriptVitIT {
  @TempDir Path work;
  Path pt;

  @BeforeEach
  void model() throws Exception {
    Assumptions.assumeTrue(Engine.hasEngine("PyTorch"), "runs in failsafe's torchscript execution (PyTorch added)");
    pt = TorchFixtures.inModule().vision(TorchFixtures.Vision.VIT_B_16);
  }

  @Test
  void int8AndInt4SizesAndOutputError() throws Exception {
    System.out.println(VisionCheck.sizesAndFidelity(TorchFixtures.Vision.VIT_B_16, pt, work, 1e-3, 0.1));
  }
}
