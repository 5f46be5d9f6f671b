package dev.selfbyt.cortexsdr.it.torch;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Model;
import ai.djl.inference.Predictor;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.repository.zoo.ZooModel;
import ai.djl.translate.NoopTranslator;
import dev.selfbyt.cortexsdr.core.CompressionOptions;
import dev.selfbyt.cortexsdr.core.CompressionStats;
import dev.selfbyt.cortexsdr.core.CortexSdr;
import dev.selfbyt.cortexsdr.core.Preset;
import dev.selfbyt.cortexsdr.core.TensorStats;
import dev.selfbyt.cortexsdr.core.tensor.TensorInfo;
import dev.selfbyt.cortexsdr.pytorch.CaiTorch;
import dev.selfbyt.cortexsdr.pytorch.TorchFidelity;
import dev.selfbyt.cortexsdr.pytorch.TorchScriptReader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.function.Function;

/** A torchvision TorchScript model through .cai: sizes and output NMSE on seeded images, in PyTorch. */
final class VisionCheck {
  private VisionCheck() {}

  /** Seeded standard-normal images, batch 1, 224 x 224. */
  static List<Function<NDManager, NDList>> images() {
    return TorchFidelity.randomInputs(42, 2, new Shape(1, 3, 224, 224));
  }

  /** int8 and int4: ratio over the .pt and output NMSE against the original; asserts the size targets. */
  static String sizesAndFidelity(TorchFixtures.Vision v, Path pt, Path work, double maxNmse8, double maxNmse4)
      throws Exception {
    StringBuilder table = new StringBuilder(String.format(Locale.ROOT,
        "%n| %s (%,d bytes) | .cai bytes | ratio | output NMSE | mean cos | min cos |%n|---|---|---|---|---|---|%n",
        v.displayName(), Files.size(pt)));
    List<Function<NDManager, NDList>> inputs = images();
    try (Model original = TorchFidelity.loadTorchScript(pt)) {
      for (Preset preset : List.of(Preset.INT8, Preset.INT4)) {
        Path cai = work.resolve(v.name() + "-" + preset.id() + ".cai");
        CompressionStats stats;
        try (TorchScriptReader r = TorchScriptReader.open(pt)) {
          stats = CortexSdr.compress(r, cai, CompressionOptions.builder().preset(preset).build());
        }
        // what is not tensors: header, manifest, directory, and the skeleton (code, pickles, zeroed weights)
        long rest = stats.outputBytes() - stats.tensors().stream().mapToLong(TensorStats::storedBytes).sum();
        assertTrue(rest < 0.01 * Files.size(pt), v + ": " + rest + " bytes besides the tensors");
        double ratio = (double) Files.size(pt) / Files.size(cai);
        TorchFidelity.Result f;
        try (ZooModel<NDList, NDList> loaded = CaiTorch.load(cai, new NoopTranslator())) {
          f = TorchFidelity.compare(original, loaded, inputs);
        }
        table.append(String.format(Locale.ROOT, "| %s | %,d (%,d not tensors) | %.2fx | %.3e | %.6f | %.6f |%n",
            preset.id(), Files.size(cai), rest, ratio, f.nmse(), f.meanCosine(), f.minCosine()));
        if (preset == Preset.INT8) {
          assertTrue(ratio >= 3.9, v + " int8 ratio " + ratio);
          assertTrue(f.nmse() < maxNmse8, v + " int8 " + f);
        } else {
          assertTrue(ratio >= 6.5, v + " int4 ratio " + ratio);
          assertTrue(f.nmse() < maxNmse4, v + " int4 " + f);
        }
        Files.delete(cai);
      }
    }
    return table.toString();
  }

  /** Lossless: the .cai in PyTorch and the decompressed file give the original's outputs and weights, bit for bit. */
  static void losslessIsBitIdentical(Path pt, Path work) throws Exception {
    Path cai = work.resolve("lossless.cai");
    try (TorchScriptReader r = TorchScriptReader.open(pt)) {
      CortexSdr.compress(r, cai, CompressionOptions.builder().preset(Preset.LOSSLESS).build());
    }
    Path back = work.resolve("decompressed.pt");
    CaiTorch.decompress(cai, back);
    try (TorchScriptReader a = TorchScriptReader.open(pt); TorchScriptReader b = TorchScriptReader.open(back)) {
      assertEquals(a.tensors(), b.tensors());
      for (TensorInfo t : a.tensors()) {
        assertEquals(a.read(t).bytes(), b.read(t).bytes(), "weight " + t.name());
      }
    }
    List<Function<NDManager, NDList>> inputs = images();
    try (Model original = TorchFidelity.loadTorchScript(pt);
        ZooModel<NDList, NDList> loaded = CaiTorch.load(cai, new NoopTranslator());
        Model decompressed = TorchFidelity.loadTorchScript(back)) {
      for (Function<NDManager, NDList> in : inputs) {
        float[] want = run(original, in);
        assertArrayEquals(want, run(loaded, in), "CaiTorch.load outputs");
        assertArrayEquals(want, run(decompressed, in), "decompressed file outputs");
      }
    }
  }

  private static float[] run(Model model, Function<NDManager, NDList> in) throws Exception {
    try (Predictor<NDList, NDList> p = model.newPredictor(new NoopTranslator());
        NDManager m = model.getNDManager().newSubManager()) {
      return p.predict(in.apply(m)).head().toFloatArray();
    }
  }
}
