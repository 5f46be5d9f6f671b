package dev.selfbyt.cortexsdr.it.reliability;

import dev.selfbyt.cortexsdr.converters.onnx.OnnxModelReader;
import dev.selfbyt.cortexsdr.core.CompressionOptions;
import dev.selfbyt.cortexsdr.core.CompressionStats;
import dev.selfbyt.cortexsdr.core.CortexSdr;
import dev.selfbyt.cortexsdr.core.Preset;
import java.nio.file.Path;

/**
 * Compresses an ONNX model as the {@code compress} command does ({@code CortexSdr.compress} with a
 * preset) and prints one line when done. Forked by {@code AtomicCompressIT}, which kills it with
 * {@code kill -9} part-way.
 *
 * <p>Usage: {@code CompressModel MODEL.onnx OUT.cai PRESET}
 */
public final class CompressModel {
  private CompressModel() {}

  public static void main(String[] args) throws Exception {
    try (OnnxModelReader r = OnnxModelReader.open(Path.of(args[0]))) {
      CompressionStats s = CortexSdr.compress(r, Path.of(args[1]),
          CompressionOptions.builder().preset(Preset.parse(args[2])).build());
      System.out.printf("done: %d tensors, %d bytes, %d ms%n", s.tensors().size(), s.outputBytes(), s.timeMs());
    }
  }
}
