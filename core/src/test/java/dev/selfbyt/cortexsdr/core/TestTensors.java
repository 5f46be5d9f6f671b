package dev.selfbyt.cortexsdr.core;

import dev.selfbyt.cortexsdr.core.tensor.DType;
import dev.selfbyt.cortexsdr.core.tensor.Fp16;
import dev.selfbyt.cortexsdr.core.tensor.InMemoryTensorSource;
import dev.selfbyt.cortexsdr.core.tensor.TensorData;
import dev.selfbyt.cortexsdr.core.tensor.TensorInfo;
import dev.selfbyt.cortexsdr.core.tensor.TensorRole;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.SplittableRandom;

/** Seeded test tensors shaped like real weights (Gaussian with a few outliers). */
public final class TestTensors {
  private TestTensors() {}

  public static float[] gaussian(int n, long seed, float std) {
    SplittableRandom r = new SplittableRandom(seed);
    float[] x = new float[n];
    for (int i = 0; i < n; i++) {
      double u1 = r.nextDouble();
      double u2 = r.nextDouble();
      x[i] = (float) (Math.sqrt(-2 * Math.log(1 - u1)) * Math.cos(2 * Math.PI * u2) * std);
      if (r.nextInt(1000) == 0) {
        x[i] *= 8; // outliers, as real weights have
      }
    }
    return x;
  }

  /** Random little-endian bytes valid for the dtype (finite floats, 0/1 booleans). */
  public static TensorData random(TensorInfo info, long seed) {
    int n = (int) info.numel();
    if (info.dtype().isFloating()) {
      return TensorData.ofFloats(info, gaussian(n, seed, 0.05f));
    }
    SplittableRandom r = new SplittableRandom(seed);
    ByteBuffer b = ByteBuffer.allocate((int) info.byteSize()).order(ByteOrder.LITTLE_ENDIAN);
    for (int i = 0; i < n; i++) {
      switch (info.dtype()) {
        case BOOL -> b.put((byte) r.nextInt(2));
        case INT8, UINT8 -> b.put((byte) r.nextInt(256));
        case INT16 -> b.putShort((short) r.nextInt());
        case INT32 -> b.putInt(r.nextInt(-1000, 1000));
        case INT64 -> b.putLong(r.nextLong());
        default -> {
          byte[] any = new byte[info.dtype().size()];
          for (int k = 0; k < any.length; k++) {
            any[k] = (byte) r.nextInt();
          }
          b.put(any);
        }
      }
    }
    return TensorData.ofBytes(info, b.flip());
  }

  /** A small transformer-like model: embeddings, per-layer weights, biases and norms. */
  public static InMemoryTensorSource smallModel(long seed) {
    InMemoryTensorSource.Builder b = InMemoryTensorSource.builder("test")
        .graph("graph of a small test model".getBytes())
        .metadata("name", "small");
    b.add(new TensorInfo("embed.weight", DType.FLOAT32, new long[] {500, 64}, TensorRole.EMBEDDING, 1),
        gaussian(500 * 64, seed, 0.05f));
    for (int l = 0; l < 3; l++) {
      b.add(new TensorInfo("layer" + l + ".fc1.weight", DType.FLOAT32, new long[] {64, 256},
          TensorRole.MATMUL_WEIGHT, 0), gaussian(64 * 256, seed + 10 * l + 1, 0.04f));
      b.add(new TensorInfo("layer" + l + ".fc1.bias", DType.FLOAT32, new long[] {256}, TensorRole.BIAS, 0),
          gaussian(256, seed + 10 * l + 2, 0.01f));
      b.add(new TensorInfo("layer" + l + ".fc2.weight", DType.FLOAT32, new long[] {256, 64},
          TensorRole.MATMUL_WEIGHT, 0), gaussian(256 * 64, seed + 10 * l + 3, 0.04f));
      b.add(new TensorInfo("layer" + l + ".norm.weight", DType.FLOAT32, new long[] {64}, TensorRole.NORM, 0),
          ones(64));
    }
    TensorInfo ids = TensorInfo.of("position_ids", DType.INT64, 1, 128);
    ByteBuffer pid = ByteBuffer.allocate(128 * 8).order(ByteOrder.LITTLE_ENDIAN);
    for (int i = 0; i < 128; i++) {
      pid.putLong(i);
    }
    b.add(ids, pid.flip());
    TensorInfo half = new TensorInfo("head.weight", DType.FLOAT16, new long[] {64, 96}, TensorRole.MATMUL_WEIGHT, 0);
    float[] hv = gaussian(64 * 96, seed + 99, 0.05f);
    ByteBuffer hb = ByteBuffer.allocate(64 * 96 * 2).order(ByteOrder.LITTLE_ENDIAN);
    for (float v : hv) {
      hb.putShort(Fp16.fromFloat(v));
    }
    b.add(half, hb.flip());
    return b.build();
  }

  public static float[] ones(int n) {
    float[] x = new float[n];
    java.util.Arrays.fill(x, 1f);
    return x;
  }

  public static byte[] bytes(TensorData d) {
    ByteBuffer b = d.bytes();
    byte[] a = new byte[b.remaining()];
    b.get(a);
    return a;
  }
}
