package dev.selfbyt.cortexsdr.core;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.selfbyt.cortexsdr.core.codec.NonFiniteValueException;
import dev.selfbyt.cortexsdr.core.codec.QuantCodec;
import dev.selfbyt.cortexsdr.core.format.CaiEntry;
import dev.selfbyt.cortexsdr.core.format.CaiException;
import dev.selfbyt.cortexsdr.core.format.CaiReader;
import dev.selfbyt.cortexsdr.core.tensor.DType;
import dev.selfbyt.cortexsdr.core.tensor.InMemoryTensorSource;
import dev.selfbyt.cortexsdr.core.tensor.TensorData;
import dev.selfbyt.cortexsdr.core.tensor.TensorInfo;
import dev.selfbyt.cortexsdr.core.tensor.TensorRole;
import dev.selfbyt.cortexsdr.core.tensor.TensorSource;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** The compress API end to end: presets, policy rules, threads, failures. */
class CortexSdrTest {
  @TempDir Path dir;

  @Test
  void outputIsByteIdenticalFor1And2And8Threads() throws IOException {
    TensorSource model = TestTensors.smallModel(1);
    for (Preset preset : Preset.values()) {
      byte[] reference = null;
      for (int threads : new int[] {1, 2, 8}) {
        Path out = dir.resolve(preset.id() + "-" + threads + ".cai");
        CortexSdr.compress(model, out, CompressionOptions.builder().preset(preset).threads(threads).build());
        byte[] bytes = Files.readAllBytes(out);
        if (reference == null) {
          reference = bytes;
        } else {
          assertArrayEquals(reference, bytes, preset + " with " + threads + " threads");
        }
      }
    }
  }

  @Test
  void losslessPresetGivesBackEveryBit() throws IOException {
    TensorSource model = TestTensors.smallModel(2);
    Path out = dir.resolve("lossless.cai");
    CompressionStats stats = CortexSdr.compress(model, out, CompressionOptions.builder().preset(Preset.LOSSLESS).build());
    assertTrue(stats.ratio() > 1.0, "zstd on shuffled floats shrinks: " + stats.ratio());
    try (CaiReader cai = CaiReader.open(out)) {
      for (TensorInfo t : model.tensors()) {
        assertArrayEquals(TestTensors.bytes(model.read(t)), TestTensors.bytes(cai.read(t.name())), t.name());
        assertEquals(0f, cai.entry(t.name()).nmse());
      }
    }
  }

  @ParameterizedTest
  @EnumSource(value = Preset.class, names = {"INT8", "INT4", "SDR"})
  void presetsShrinkWeightsAndKeepSmallTensorsLossless(Preset preset) throws IOException {
    TensorSource model = TestTensors.smallModel(3);
    Path out = dir.resolve(preset.id() + ".cai");
    CompressionStats stats = CortexSdr.compress(model, out, CompressionOptions.builder().preset(preset).build());
    double minRatio = switch (preset) {
      case INT8 -> 3.3;
      case INT4 -> 5.5;
      default -> 6.0;
    };
    assertTrue(stats.ratio() > minRatio, preset + " ratio " + stats.ratio());
    assertEquals(Files.size(out), stats.outputBytes());
    for (TensorStats t : stats.tensors()) {
      boolean small = t.name().endsWith(".bias") || t.name().endsWith("norm.weight") || t.name().equals("position_ids");
      assertEquals(small, t.nmse() > 0 ? false : true, t.toString());
      if (!small) {
        assertTrue(t.nmse() > 0 && t.nmse() < (preset == Preset.INT8 ? 1e-4 : 0.1), t.toString());
      }
    }
    TensorStats fc1 = stats.tensor("layer0.fc1.weight");
    double expectedBpw = switch (preset) {
      case INT8 -> 8.25;
      case INT4 -> 4.625;
      default -> 3.4;
    };
    assertTrue(fc1.bitsPerWeight() <= expectedBpw + 0.01, fc1.toString());
  }

  @Test
  void protectedNamesAndOverridesWin() throws IOException {
    TensorSource model = TestTensors.smallModel(4);
    Path out = dir.resolve("rules.cai");
    CompressionStats stats = CortexSdr.compress(model, out, CompressionOptions.builder()
        .preset(Preset.INT4)
        .protect("embed\\..*")
        .override("layer2\\..*weight", QuantCodec.perChannel(8, true))
        .build());
    assertEquals(0.0, stats.tensor("embed.weight").nmse());
    assertTrue(stats.tensor("embed.weight").reason().contains("protected"));
    assertTrue(stats.tensor("layer2.fc1.weight").codec().startsWith("quant int8 sym per-channel"));
    assertTrue(stats.tensor("layer1.fc1.weight").codec().startsWith("quant int4 asym block32"));
    // the override pattern also matches the 64-element norm: overrides win over the size rule
    assertTrue(stats.tensor("layer2.norm.weight").codec().startsWith("quant int8"));
  }

  @Test
  void errorBudgetPicksTheSmallestEncodingUnderTheTarget() throws IOException {
    TensorSource model = TestTensors.smallModel(5);
    for (double budget : new double[] {1e-2, 1e-3, 1e-5}) {
      Path out = dir.resolve("budget-" + budget + ".cai");
      CompressionStats stats = CortexSdr.compress(model, out, CompressionOptions.builder()
          .preset(Preset.INT8).symmetric(false).errorBudget(budget).build());
      for (TensorStats t : stats.tensors()) {
        assertTrue(t.nmse() <= budget, t.toString());
      }
      TensorStats w = stats.tensor("layer0.fc1.weight");
      TensorData d = model.read(model.tensors().stream().filter(x -> x.name().equals(w.name())).findFirst().get());
      if (w.codec().startsWith("raw")) {
        // lossless only when even the largest quantization misses the budget
        assertTrue(nmse(d, QuantCodec.blockwise(8, false, 32)) > budget, w.toString());
        continue;
      }
      int bits = Integer.parseInt(w.codec().replaceAll(".*int(\\d).*", "$1"));
      if (bits > 2) {
        // no smaller candidate meets the budget: one bit less, even at the cheapest block, is over it
        QuantCodec smaller = QuantCodec.blockwise(bits == 8 ? 6 : bits - 1, false, 128);
        assertTrue(nmse(d, smaller) > budget, "a smaller encoding would have met " + budget);
      }
    }
  }

  private static double nmse(TensorData d, QuantCodec c) {
    float[] x = d.floats();
    float[] y = c.decode(d.info(), c.encode(d)).floats();
    double num = 0;
    double den = 0;
    for (int i = 0; i < x.length; i++) {
      num += (x[i] - y[i]) * (double) (x[i] - y[i]);
      den += x[i] * (double) x[i];
    }
    return num / den;
  }

  @Test
  void aTensorThatCannotBeEncodedFailsWithItsNameAndLeavesNoFile() throws IOException {
    float[] w = TestTensors.gaussian(64 * 128, 1, 0.1f);
    w[1000] = Float.NaN;
    InMemoryTensorSource model = InMemoryTensorSource.builder("test")
        .add(new TensorInfo("ok.weight", DType.FLOAT32, new long[] {64, 128}, TensorRole.MATMUL_WEIGHT, 0),
            TestTensors.gaussian(64 * 128, 2, 0.1f))
        .add(new TensorInfo("broken.weight", DType.FLOAT32, new long[] {64, 128}, TensorRole.MATMUL_WEIGHT, 0), w)
        .build();
    Path out = dir.resolve("broken.cai");
    CaiException e = assertThrows(CaiException.class,
        () -> CortexSdr.compress(model, out, CompressionOptions.builder().preset(Preset.INT4).build()));
    assertEquals("broken.weight", e.tensor());
    assertTrue(e.getMessage().contains("NaN") && e.getMessage().contains("keep this tensor lossless"), e.getMessage());
    assertTrue(e.getCause() instanceof NonFiniteValueException nf && nf.tensor().equals("broken.weight")
        && Float.isNaN(nf.value()), String.valueOf(e.getCause()));
    assertFalse(Files.exists(out));
    try (Stream<Path> left = Files.list(dir)) {
      assertEquals(List.of(), left.toList(), "no temporary file left behind");
    }
    // protecting it is the fix the message suggests
    CortexSdr.compress(model, out, CompressionOptions.builder().preset(Preset.INT4).protect("broken.*").build());
    assertTrue(Files.exists(out));
  }

  @Test
  void aSourceThatFailsMidwayLeavesThePreviousFileUntouched() throws IOException {
    Path out = dir.resolve("model.cai");
    Files.writeString(out, "previous content");
    InMemoryTensorSource good = TestTensors.smallModel(6);
    TensorSource failing = new TensorSource() {
      @Override
      public String format() {
        return "test";
      }

      @Override
      public String location() {
        return "/models/failing.onnx";
      }

      @Override
      public byte[] graph() {
        return new byte[0];
      }

      @Override
      public List<TensorInfo> tensors() {
        return good.tensors();
      }

      @Override
      public TensorData read(TensorInfo t) throws IOException {
        if (t.name().startsWith("layer2")) {
          throw new IOException("disk read error");
        }
        return good.read(t);
      }
    };
    CaiException e = assertThrows(CaiException.class, () -> CortexSdr.compress(failing, out));
    assertTrue(e.getMessage().startsWith("/models/failing.onnx: tensor 'layer2."), e.getMessage());
    assertTrue(e.getMessage().contains("disk read error"), e.getMessage());
    assertEquals("previous content", Files.readString(out));
    try (Stream<Path> left = Files.list(dir)) {
      assertEquals(1, left.count());
    }
  }

  @Test
  void anUnwritableTargetIsNamed() {
    Path out = dir.resolve("no/such/folder/model.cai");
    CaiException e = assertThrows(CaiException.class, () -> CortexSdr.compress(TestTensors.smallModel(7), out));
    assertTrue(e.getMessage().startsWith(out.toString()) && e.getMessage().contains("cannot write"), e.getMessage());
  }

  @Test
  void statsDescribeEveryTensor() throws IOException {
    TensorSource model = TestTensors.smallModel(8);
    Path out = dir.resolve("stats.cai");
    CompressionStats stats = CortexSdr.compress(model, out, CompressionOptions.builder().preset(Preset.INT4).build());
    assertEquals(model.tensors().size(), stats.tensors().size());
    long input = model.graph().length;
    for (TensorInfo t : model.tensors()) {
      input += t.byteSize();
    }
    assertEquals(input, stats.inputBytes());
    try (CaiReader cai = CaiReader.open(out)) {
      for (TensorStats t : stats.tensors()) {
        CaiEntry e = cai.entry(t.name());
        assertEquals(e.storedLength(), t.storedBytes());
        assertEquals(e.describe(), t.codec());
        assertEquals(e.nmse(), (float) t.nmse());
      }
      assertEquals("int4", ((java.util.Map<?, ?>) cai.manifest().get("options")).get("preset"));
    }
  }

  @Test
  void int8FastListsItsFp32MatMulWeightsForInt8ActivationsInTheManifest() throws IOException {
    assertEquals(Preset.INT8_FAST, Preset.parse("int8-fast"));
    assertEquals("int8-fast", Preset.INT8_FAST.id());
    TensorSource model = TestTensors.smallModel(9);
    Path out = dir.resolve("fast.cai");
    CortexSdr.compress(model, out, CompressionOptions.builder().preset(Preset.INT8_FAST).weightOnly("layer1.fc2.weight")
        .threads(1).build());
    try (CaiReader r = CaiReader.open(out)) {
      // fp16 head.weight is per-channel too, but its activations are not fp32: not listed
      assertEquals(List.of("layer0.fc1.weight", "layer0.fc2.weight", "layer1.fc1.weight", "layer2.fc1.weight",
          "layer2.fc2.weight"), r.manifest().get(CortexSdr.INT8_ACTIVATIONS_KEY));
      QuantCodec fc = (QuantCodec) r.readStored("layer1.fc2.weight").codec();
      assertEquals(QuantCodec.Granularity.CHANNEL, fc.granularity(), "weight-only keeps the per-channel layout");
      QuantCodec embed = (QuantCodec) r.readStored("embed.weight").codec();
      assertEquals(QuantCodec.Granularity.CHANNEL, embed.granularity(), "embedding tables: one scale per row");
      // 7-bit codes held in int8: exact in ONNX Runtime's integer kernels on x86 without VNNI too
      assertTrue(embed.symmetric() && embed.bits() == 7 && fc.bits() == 7, embed.describe() + ", " + fc.describe());
    }
    Path eight = dir.resolve("fast8.cai");
    CortexSdr.compress(model, eight, CompressionOptions.builder().preset(Preset.INT8_FAST).bits(8).threads(1).build());
    try (CaiReader r = CaiReader.open(eight)) {
      assertEquals(8, ((QuantCodec) r.readStored("layer0.fc1.weight").codec()).bits(), "bits given: VNNI or ARM targets");
      assertEquals(6, ((List<?>) r.manifest().get(CortexSdr.INT8_ACTIVATIONS_KEY)).size());
    }
  }
}
