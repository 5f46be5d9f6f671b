package dev.selfbyt.cortexsdr.core.codec;

import dev.selfbyt.cortexsdr.core.tensor.DType;
import dev.selfbyt.cortexsdr.core.tensor.TensorData;
import dev.selfbyt.cortexsdr.core.tensor.TensorInfo;
import dev.selfbyt.cortexsdr.core.tensor.TensorRole;
import java.nio.ByteBuffer;
import java.util.SplittableRandom;

/**
 * Decode time of an SDR MatMul weight {@code [K, N]} (reduction axis 0, strided fibers): {@link
 * SdrCodec#decode}, which scatters kept values straight into natural order, against the anchor of
 * the same run, the way it decoded before (a dense fiber-major array, then a transpose). A main,
 * not a test: {@code java -cp core/target/classes:core/target/test-classes:<zstd-jni.jar>
 * dev.selfbyt.cortexsdr.core.codec.SdrDecodeBench}.
 */
public final class SdrDecodeBench {
  private SdrDecodeBench() {}

  static float[] anchor(SdrCodec codec, TensorInfo info, ByteBuffer payload) {
    SdrCodec.SparseTensor s = codec.unpack(info, payload);
    float[] fm = new float[Math.toIntExact(info.numel())];
    int[] pos = s.positions();
    float[] val = s.values();
    for (int i = 0; i < pos.length; i++) {
      fm[pos[i]] = val[i];
    }
    return FiberLayout.fromFiberMajor(fm, info);
  }

  public static void main(String[] args) {
    int k = 1024;
    int n = 4096;
    TensorInfo info = new TensorInfo("w", DType.FLOAT32, new long[] {k, n}, TensorRole.MATMUL_WEIGHT, 0);
    float[] x = new float[k * n];
    SplittableRandom r = new SplittableRandom(1);
    for (int i = 0; i < x.length; i++) {
      x[i] = (float) r.nextGaussian();
    }
    System.out.printf("SDR decode, [%d, %d] fp32 axis 0, one thread (ms per decode, median of 15 after 5 warm-up)%n", k, n);
    System.out.printf("%-10s %12s %12s %8s%n", "sparsity", "anchor (old)", "decode (new)", "new/old");
    for (double sparsity : new double[] {0.5, 0.8, 0.9, 0.97}) {
      SdrCodec codec = SdrCodec.builder().sparsity(sparsity).build();
      ByteBuffer payload = codec.encode(TensorData.ofFloats(info, x));
      float[] a = anchor(codec, info, payload);
      float[] b = codec.decode(info, payload).floats();
      if (!java.util.Arrays.equals(a, b)) {
        throw new AssertionError("the two decodes differ");
      }
      double old = median(() -> anchor(codec, info, payload));
      double now = median(() -> codec.decode(info, payload).floats());
      System.out.printf("%-10.2f %12.2f %12.2f %8.2f%n", sparsity, old, now, now / old);
    }
  }

  static double median(Runnable r) {
    for (int i = 0; i < 5; i++) {
      r.run();
    }
    double[] t = new double[15];
    for (int i = 0; i < t.length; i++) {
      long s = System.nanoTime();
      r.run();
      t[i] = (System.nanoTime() - s) / 1e6;
    }
    java.util.Arrays.sort(t);
    return t[t.length / 2];
  }
}
