package dev.selfbyt.cortexsdr.it;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.selfbyt.cortexsdr.core.CompressionOptions;
import dev.selfbyt.cortexsdr.core.CompressionStats;
import dev.selfbyt.cortexsdr.core.CortexSdr;
import dev.selfbyt.cortexsdr.core.Preset;
import dev.selfbyt.cortexsdr.core.format.CaiEntry;
import dev.selfbyt.cortexsdr.core.format.CaiReader;
import dev.selfbyt.cortexsdr.core.tensor.TensorInfo;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Files over 2 GiB: offsets past 2^31, payloads mapped one at a time, the whole-file checksum. */
class LargeFileIT {
  @TempDir Path dir;

  @Test
  void aLosslessFileOver2GiBReadsBackExactly() throws Exception {
    SyntheticTensorSource src = new SyntheticTensorSource(2200L << 20, 1024, 2048, 5);
    Path out = dir.resolve("large.cai");
    CompressionStats stats = CortexSdr.compress(src, out,
        CompressionOptions.builder().preset(Preset.LOSSLESS).zstdLevel(0).threads(2).build());
    assertTrue(Files.size(out) > (2L << 30) + (50L << 20), "file of " + Files.size(out) + " bytes");
    System.out.println("large file: " + stats);
    try (CaiReader cai = CaiReader.open(out)) {
      List<TensorInfo> all = src.tensors();
      TensorInfo last = all.get(all.size() - 2);
      CaiEntry e = cai.entry(last.name());
      assertTrue(e.offset() > Integer.MAX_VALUE, "last payload at " + e.offset());
      assertArrayEquals(src.read(last).floats(), cai.read(last.name()).floats());
      cai.verify();
    }
  }
}
