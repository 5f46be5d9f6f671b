package dev.selfbyt.cortexsdr.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.selfbyt.cortexsdr.converters.statedict.StateDictFormatException;
import dev.selfbyt.cortexsdr.converters.statedict.StateDictReader;
import dev.selfbyt.cortexsdr.converters.statedict.StateDictWriter;
import dev.selfbyt.cortexsdr.core.CompressionOptions;
import dev.selfbyt.cortexsdr.core.CompressionStats;
import dev.selfbyt.cortexsdr.core.CortexSdr;
import dev.selfbyt.cortexsdr.core.Preset;
import dev.selfbyt.cortexsdr.core.format.CaiReader;
import dev.selfbyt.cortexsdr.it.models.RealModel;
import dev.selfbyt.cortexsdr.it.models.WeightFiles;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Real PyTorch state dicts written by {@code torch.save} (Debian's torch 1.13): torchvision's
 * ResNet-50 from a fixed seed, MiniLM's weights, and a checkpoint of shared storages, views and
 * every dtype; compressed, written back, and loaded by torch
 * itself ({@code torch.load(weights_only=True)}) to compare every tensor bit for bit. A state dict
 * whose pickle would run a command is refused, and the command does not run.
 */
class StateDictIT {
  @TempDir static Path work;
  static Path resnet;
  static Path minilm;
  static Path mixed;

  @BeforeAll
  static void fixtures() throws Exception {
    Assumptions.assumeTrue(WeightFiles.available(), WeightFiles.PYTHON + " lacks torch, torchvision or onnx "
        + "(apt-get install python3-torch python3-torchvision python3-onnx)");
    resnet = work.resolve("resnet50.pt");
    WeightFiles.run("resnet50", resnet.toString(), "--seed", "0");
    minilm = work.resolve("minilm.pt");
    WeightFiles.run("statedict", RealModel.MINILM.onnx(work).toString(), minilm.toString());
    mixed = work.resolve("mixed.pt"); // tied weights, views, a transposed tensor, every dtype, nested
    WeightFiles.run("mixed", mixed.toString());
  }

  private static CompressionStats compress(Path pt, Path cai, Preset preset) throws Exception {
    try (StateDictReader r = StateDictReader.open(pt)) {
      return CortexSdr.compress(r, cai, CompressionOptions.builder().preset(preset).build());
    }
  }

  @Test
  void losslessRoundTripLoadsInTorchBitForBit() throws Exception {
    List<String> pairs = new java.util.ArrayList<>(List.of("same"));
    for (Path pt : List.of(resnet, minilm, mixed)) {
      Path cai = work.resolve(pt.getFileName() + ".cai");
      CompressionStats s = compress(pt, cai, Preset.LOSSLESS);
      Path back = work.resolve("back-" + pt.getFileName());
      try (CaiReader r = CaiReader.open(cai)) {
        StateDictWriter.write(r, back);
      }
      System.out.printf(Locale.ROOT, "%s: %,d -> %,d bytes lossless (%.3fx)%n", pt.getFileName(), s.inputBytes(),
          s.outputBytes(), s.ratio());
      pairs.add(pt.toString());
      pairs.add(back.toString());
    }
    String same = WeightFiles.run(pairs.toArray(String[]::new)); // fails unless every pair is identical
    assertEquals(3, same.lines().filter(l -> l.endsWith(": identical")).count(), same);
  }

  @Test
  void resNet50SizesAtInt8AndInt4AndTorchLoadsTheDecodedFile() throws Exception {
    StringBuilder table = new StringBuilder();
    List<String> pairs = new java.util.ArrayList<>(List.of("same"));
    for (Preset preset : List.of(Preset.INT8, Preset.INT4)) {
      Path cai = work.resolve("resnet50-" + preset.id() + ".cai");
      CompressionStats s = compress(resnet, cai, preset);
      table.append(String.format(Locale.ROOT, "ResNet-50 state dict %s: %,d -> %,d bytes, %.2fx%n", preset.id(),
          s.inputBytes(), s.outputBytes(), s.ratio()));
      assertTrue(s.ratio() >= (preset == Preset.INT8 ? 3.9 : 6.5), preset.id() + ": " + s.ratio());
      Path back = work.resolve("resnet50-" + preset.id() + ".pt");
      try (CaiReader r = CaiReader.open(cai)) {
        StateDictWriter.write(r, back);
      }
      pairs.add(resnet.toString());
      pairs.add(back.toString());
    }
    System.out.print(table);
    // torch loads both; their weights are the decoded ones, not the originals
    String same = WeightFiles.output(pairs.toArray(String[]::new));
    assertEquals(2, same.lines().filter(l -> l.endsWith(": values differ")).count(), same);
  }

  @Test
  void aPickleThatWouldRunACommandIsRefusedAndNothingRuns() throws Exception {
    Path marker = work.resolve("ran");
    Path evil = work.resolve("evil.pt");
    WeightFiles.run("hostile", evil.toString(), marker.toString());
    Path out = work.resolve("evil.cai");
    StateDictFormatException e = assertThrows(StateDictFormatException.class, () -> compress(evil, out, Preset.INT8));
    assertTrue(e.getMessage().startsWith(evil + ":"), e.getMessage());
    assertTrue(e.getMessage().contains("system' (byte") && e.getMessage().contains("refused"), e.getMessage());
    assertFalse(Files.exists(marker), "the pickled command did not run");
    assertFalse(Files.exists(out), "no output");
  }
}
