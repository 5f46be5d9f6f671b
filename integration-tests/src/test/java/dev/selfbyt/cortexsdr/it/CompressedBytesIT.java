package dev.selfbyt.cortexsdr.it;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.selfbyt.cortexsdr.converters.onnx.OnnxModelReader;
import dev.selfbyt.cortexsdr.core.CompressionOptions;
import dev.selfbyt.cortexsdr.core.CortexSdr;
import dev.selfbyt.cortexsdr.core.Preset;
import dev.selfbyt.cortexsdr.core.pipeline.CompressionPipeline;
import dev.selfbyt.cortexsdr.it.models.RealModel;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.Map;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Making compression faster must not change what it writes: real models compressed with each
 * preset give, on 1 and on 2 threads, the very bytes the code at main's commit 2250c03 (before
 * the compression-speed work) wrote, compared by SHA-256 of the whole file (the same bytes decode
 * to the same values, and the stored errors are the same to the bit).
 *
 * <p>The digests cover the manifest too. A change that means to alter the bytes (a new manifest
 * key, another codec choice) updates them in the same commit and says why. The one manifest value
 * that changes with every release, {@code producerVersion} (the pom's version since it is read
 * from there), is written as it was at that commit, {@code 0.1.0}, so that a version bump does not
 * look like a change of the bytes.
 */
class CompressedBytesIT {
  /** The library version when the digests were taken. */
  private static final String DIGESTS_VERSION = "0.1.0";

  @TempDir Path dir;

  @ParameterizedTest(name = "{0} {1}")
  @CsvSource({
    "MINILM, INT8, 1b02952aac53bef9434d967dda4268b31922bd1b396bd530e7a7b6c9690cd2d1",
    "MINILM, INT4, e8d341c0a80db6cf002825adfb6e3d096d2cb9351554f3ad4232eaaeddd94ce8",
    "MINILM, LOSSLESS, 036a0fc1f31970e704c198026bab16c6e5bdebf49f5131712bbc54e646618505",
    "BGE_SMALL, INT8, 1404567fe464215ab89af3407bee55f5073b2989f05180d84f08fc2cd9762502",
    "BGE_SMALL, INT4, defa08f7f6afacf52506414a8390fb891721e9f1da254ac79986e4f71531903a",
    "BGE_SMALL, LOSSLESS, 91c57ad8ff9a67f7e97cf3326721a5737aecd2c00cbb24d56a7c05aef94b58ad",
  })
  void compressedFilesAreByteIdenticalToTheOldCodePath(RealModel model, Preset preset, String sha256)
      throws Exception {
    Path onnx = model.onnx(dir);
    for (int threads : new int[] {1, 2}) {
      Path out = dir.resolve(model + "-" + preset + "-" + threads + ".cai");
      try (OnnxModelReader reader = OnnxModelReader.open(onnx)) {
        // what CortexSdr.compress does, with the version the digests were taken at
        CompressionOptions options = CompressionOptions.builder().preset(preset).threads(threads).build();
        Map<String, Object> manifest = CortexSdr.manifest(reader, options);
        manifest.put("producerVersion", DIGESTS_VERSION);
        new CompressionPipeline(options).run(reader, reader.location(), out, manifest);
      }
      assertEquals(sha256, sha256(out), model + " " + preset + " on " + threads + " threads");
    }
  }

  private static String sha256(Path file) throws Exception {
    MessageDigest md = MessageDigest.getInstance("SHA-256");
    try (InputStream in = Files.newInputStream(file)) {
      byte[] buf = new byte[1 << 16];
      for (int n; (n = in.read(buf)) > 0; ) {
        md.update(buf, 0, n);
      }
    }
    return HexFormat.of().formatHex(md.digest());
  }
}
