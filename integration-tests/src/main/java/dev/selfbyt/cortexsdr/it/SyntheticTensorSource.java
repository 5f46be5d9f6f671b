package dev.selfbyt.cortexsdr.it;

import dev.selfbyt.cortexsdr.core.tensor.DType;
import dev.selfbyt.cortexsdr.core.tensor.TensorData;
import dev.selfbyt.cortexsdr.core.tensor.TensorInfo;
import dev.selfbyt.cortexsdr.core.tensor.TensorRole;
import dev.selfbyt.cortexsdr.core.tensor.TensorSource;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * A model of any size whose weights are generated on demand from a seed (roughly Gaussian,
 * weight-like), so that a test can compress gigabytes without holding them: each {@link #read}
 * makes one tensor and forgets it. Tensors are {@code [rows, cols]} MatMul weights with the
 * reduction axis first, plus one bias per layer.
 */
public final class SyntheticTensorSource implements TensorSource {
  private final List<TensorInfo> tensors = new ArrayList<>();
  private final long seed;

  /**
   * @param totalBytes approximate fp32 size of the model
   * @param tensorBytes size of each weight tensor
   */
  public SyntheticTensorSource(long totalBytes, int rows, int cols, long seed) {
    this.seed = seed;
    long tensorBytes = 4L * rows * cols;
    int layers = (int) Math.max(1, totalBytes / tensorBytes);
    for (int i = 0; i < layers; i++) {
      tensors.add(new TensorInfo("layer" + i + ".weight", DType.FLOAT32, new long[] {rows, cols},
          TensorRole.MATMUL_WEIGHT, 0));
      tensors.add(new TensorInfo("layer" + i + ".bias", DType.FLOAT32, new long[] {cols}, TensorRole.BIAS, 0));
    }
  }

  @Override
  public String format() {
    return "synthetic";
  }

  @Override
  public byte[] graph() {
    return "synthetic graph".getBytes(java.nio.charset.StandardCharsets.UTF_8);
  }

  @Override
  public List<TensorInfo> tensors() {
    return List.copyOf(tensors);
  }

  @Override
  public TensorData read(TensorInfo t) {
    return TensorData.ofFloats(t, weights((int) t.numel(), seed + tensors.indexOf(t)));
  }

  /** Sum of four uniforms: cheap, bell-shaped, in (-2, 2) times the scale. */
  public static float[] weights(int n, long seed) {
    SplittableRandom r = new SplittableRandom(seed);
    float[] x = new float[n];
    for (int i = 0; i < n; i++) {
      long a = r.nextLong();
      float s = (a & 0xffff) + ((a >>> 16) & 0xffff) + ((a >>> 32) & 0xffff) + ((a >>> 48) & 0xffff);
      x[i] = (s / 65536f - 2f) * 0.02f;
    }
    return x;
  }

  /** Total fp32 bytes of all tensors. */
  public long totalBytes() {
    long n = 0;
    for (TensorInfo t : tensors) {
      n += t.byteSize();
    }
    return n;
  }
}
