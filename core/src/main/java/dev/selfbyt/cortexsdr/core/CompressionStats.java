package dev.selfbyt.cortexsdr.core;

import java.nio.file.Path;
import java.util.List;

/**
 * The result of {@link CortexSdr#compress}: input and output sizes, their ratio, wall time, and
 * one {@link TensorStats} per tensor in file order.
 *
 * @param inputBytes bytes of all tensors in their source dtypes plus the graph
 * @param outputBytes size of the {@code .cai} file
 */
public record CompressionStats(
    Path target, long inputBytes, long outputBytes, long timeMs, List<TensorStats> tensors) {

  public CompressionStats {
    tensors = List.copyOf(tensors);
  }

  /** {@code inputBytes / outputBytes}. */
  public double ratio() {
    return outputBytes == 0 ? 0 : (double) inputBytes / outputBytes;
  }

  /** The stats of one tensor, or null. */
  public TensorStats tensor(String name) {
    for (TensorStats t : tensors) {
      if (t.name().equals(name)) {
        return t;
      }
    }
    return null;
  }

  @Override
  public String toString() {
    return String.format("%s: %,d -> %,d bytes (%.2fx) in %d ms, %d tensors", target, inputBytes,
        outputBytes, ratio(), timeMs, tensors.size());
  }
}
