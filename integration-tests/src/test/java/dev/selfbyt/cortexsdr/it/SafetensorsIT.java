package dev.selfbyt.cortexsdr.it;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.selfbyt.cortexsdr.converters.onnx.OnnxModelReader;
import dev.selfbyt.cortexsdr.converters.safetensors.SafetensorsReader;
import dev.selfbyt.cortexsdr.converters.safetensors.SafetensorsWriter;
import dev.selfbyt.cortexsdr.core.CompressionOptions;
import dev.selfbyt.cortexsdr.core.CompressionStats;
import dev.selfbyt.cortexsdr.core.CortexSdr;
import dev.selfbyt.cortexsdr.core.Preset;
import dev.selfbyt.cortexsdr.core.format.CaiReader;
import dev.selfbyt.cortexsdr.core.tensor.TensorSource;
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
 * Real weights in safetensors: MiniLM written by {@code weight_files.py} (json + struct, PyTorch's
 * names and layout) as one file, as a sharded set, in bf16 and fp16, and bge-small as one file;
 * compressed lossless and written back byte for byte. ({@link SafetensorsFidelityIT} measures the
 * lossy presets in ONNX Runtime.)
 */
class SafetensorsIT {
  @TempDir static Path work;
  static Path minilm;
  static Path bge;

  @BeforeAll
  static void fixtures() throws Exception {
    Assumptions.assumeTrue(WeightFiles.available(), WeightFiles.PYTHON + " lacks torch, torchvision or onnx "
        + "(apt-get install python3-torch python3-torchvision python3-onnx)");
    minilm = RealModel.MINILM.onnx(work);
    bge = RealModel.BGE_SMALL.onnx(work);
    WeightFiles.run("safetensors-set", minilm.toString(), work.resolve("minilm").toString(),
        "--shard-bytes", "30000000");
    WeightFiles.run("safetensors", bge.toString(), work.resolve("bge/f32").toString());
  }

  private static CompressionStats compress(Path in, Path cai, Preset preset) throws Exception {
    try (TensorSource s = in.getFileName().toString().endsWith(".onnx") ? OnnxModelReader.open(in)
        : SafetensorsReader.open(in)) {
      return CortexSdr.compress(s, cai, CompressionOptions.builder().preset(preset).build());
    }
  }

  @Test
  void theLosslessPresetGivesBackTheSameFiles() throws Exception {
    for (String fixture : List.of("minilm/f32", "minilm/bf16", "minilm/f16", "bge/f32", "minilm/sharded")) {
      Path dir = work.resolve(fixture);
      boolean sharded = Files.exists(dir.resolve("model.safetensors.index.json"));
      Path in = dir.resolve(sharded ? "model.safetensors.index.json" : "model.safetensors");
      Path cai = work.resolve(fixture.replace('/', '-') + "-lossless.cai");
      CompressionStats s = compress(in, cai, Preset.LOSSLESS);
      Path out = Files.createDirectories(work.resolve(fixture.replace('/', '-') + "-back"));
      List<Path> written;
      try (CaiReader r = CaiReader.open(cai)) {
        written = SafetensorsWriter.write(r, out.resolve(in.getFileName()));
      }
      System.out.printf(Locale.ROOT, "%s: %d file(s), %,d -> %,d bytes lossless (%.3fx)%n", fixture, written.size(),
          s.inputBytes(), s.outputBytes(), s.ratio());
      if (sharded) {
        assertTrue(written.size() >= 4, "the index and at least 3 shards: " + written);
      }
      for (Path w : written) {
        assertArrayEquals(Files.readAllBytes(dir.resolve(w.getFileName())), Files.readAllBytes(w),
            fixture + ": " + w.getFileName() + " byte for byte");
      }
    }
  }
}
