package dev.selfbyt.cortexsdr.core.codec;

import dev.selfbyt.cortexsdr.core.codec.QuantCodec.Granularity;
import dev.selfbyt.cortexsdr.core.tensor.Fp16;
import dev.selfbyt.cortexsdr.core.tensor.TensorInfo;
import java.nio.ByteBuffer;

/**
 * What a {@link QuantCodec} stores and how: bits, symmetry, granularity, block size, super-block
 * scales; their params bytes ({@link QuantCodec}'s Javadoc gives the format), the groups and the
 * payload layout they give a tensor, and the scale and zero point of a group's range. Shared by
 * the encoder ({@link QuantEncoder}) and the reader ({@link QuantCodec#unpack}).
 */
record QuantParams(int bits, boolean symmetric, Granularity granularity, int blockSize, boolean superScales) {
  private static final float FP16_MAX_DISTORTION = 0.01f;

  QuantParams {
    if (bits < 2 || bits > 8) {
      throw new IllegalArgumentException("quantization needs 2 to 8 bits, got " + bits);
    }
    if (granularity == Granularity.BLOCK && blockSize < 1) {
      throw new IllegalArgumentException("block size must be positive, got " + blockSize);
    }
    blockSize = granularity == Granularity.BLOCK ? blockSize : 0;
    if (superScales && granularity != Granularity.BLOCK) {
      throw new IllegalArgumentException("super-block scales need block granularity, got " + granularity);
    }
  }

  /** Reads params bytes, version {@link QuantCodec#PARAMS_VERSION_START} to current. */
  static QuantParams read(ByteBuffer p) {
    int version = p.get() & 0xff;
    if (version < QuantCodec.PARAMS_VERSION_START || version > QuantCodec.PARAMS_VERSION_CURRENT) {
      throw new UnknownParamsVersionException("quant", version);
    }
    int bits = p.get() & 0xff;
    int flags = p.get() & 0xff;
    int g = p.get() & 0xff;
    if (g >= Granularity.values().length || bits < 2 || bits > 8) {
      throw new MalformedPayloadException("quant parameters out of range: bits " + bits + ", granularity " + g);
    }
    boolean superScales = (flags & 2) != 0;
    if (superScales && (version < 2 || g != Granularity.BLOCK.ordinal())) {
      throw new MalformedPayloadException("quant flags " + flags + ": super-block scales need params version 2 "
          + "and block granularity, got version " + version + ", granularity " + g);
    }
    int block = ByteSink.getVarInt(p, Integer.MAX_VALUE, "block size");
    Granularity gran = Granularity.values()[g];
    if (gran == Granularity.BLOCK && block < 1) {
      throw new MalformedPayloadException("block size " + block);
    }
    return new QuantParams(bits, (flags & 1) != 0, gran, block, superScales);
  }

  /** The params bytes: version 1 where it suffices, so that such files stay readable by 1.0 readers. */
  byte[] toBytes() {
    return new ByteSink(8)
        .putU8(superScales ? 2 : 1)
        .putU8(bits)
        .putU8((symmetric ? 1 : 0) | (superScales ? 2 : 0))
        .putU8(granularity.ordinal())
        .putVarLong(blockSize)
        .toArray();
  }

  String describe() {
    String g =
        switch (granularity) {
          case TENSOR -> "per-tensor";
          case CHANNEL -> "per-channel";
          case BLOCK -> "block" + blockSize;
        };
    return "quant int" + bits + (symmetric ? " sym " : " asym ") + g + (superScales ? " super-scales" : "");
  }

  /** Values sharing one scale within a fiber of length {@code r}. */
  int groupLength(int r) {
    return granularity == Granularity.BLOCK ? Math.min(blockSize, Math.max(r, 1)) : Math.max(r, 1);
  }

  int groupsPerFiber(int r) {
    return granularity == Granularity.BLOCK ? QuantCodec.ceilDiv(r, groupLength(r)) : 1;
  }

  long groupCount(int fibers, int r) {
    return granularity == Granularity.TENSOR ? 1 : (long) fibers * groupsPerFiber(r);
  }

  /** Where the parts of a payload sit, for a tensor and a scale width. */
  record Layout(int groups, int scaleBytes, int fiberBytes, int zpOffset, int codeOffset, int total) {}

  /** The layout of a payload with scales of {@code scaleBytes} (0: super-block scales). */
  Layout layout(TensorInfo info, int scaleBytes) {
    int r = FiberLayout.fiberLength(info);
    int fibers = FiberLayout.fiberCount(info);
    int groups = Math.toIntExact(groupCount(fibers, r));
    int fiberBytes = Math.toIntExact(PackedCodes.bytes(r, bits));
    int zpBytes = symmetric ? 0 : Math.toIntExact(PackedCodes.bytes(groups, bits));
    // scaleBytes 0 stands for super-block scales: an fp16 per SUPER_BLOCK groups, a byte per group
    long scaleRegion = scaleBytes == 0
        ? 2 * QuantCodec.ceilDiv((long) groups, QuantCodec.SUPER_BLOCK) + groups
        : (long) groups * scaleBytes;
    long total = 1L + scaleRegion + zpBytes + (long) fibers * fiberBytes;
    if (total > Integer.MAX_VALUE - 16) {
      throw new IllegalArgumentException("tensor '" + info.name() + "': quantized payload over 2 GiB");
    }
    int zpOffset = (int) (1 + scaleRegion);
    return new Layout(groups, scaleBytes, fiberBytes, zpOffset, zpOffset + zpBytes, (int) total);
  }

  /** The stored scale for a group's range; NaN when fp16 was asked for and does not fit. */
  float scaleFor(float mn, float mx, boolean fp16) {
    float s;
    if (symmetric) {
      float amax = Math.max(Math.abs(mn), Math.abs(mx));
      s = amax / ((1 << (bits - 1)) - 1);
    } else {
      float lo = Math.min(mn, 0f);
      float hi = Math.max(mx, 0f);
      s = (float) (((double) hi - lo) / ((1 << bits) - 1));
    }
    if (!fp16 || s == 0f) {
      return s;
    }
    if (!(s <= Fp16.MAX)) {
      return Float.NaN;
    }
    float stored = Fp16.toFloat(Fp16.fromFloatRoundUp(s));
    if (stored - s > FP16_MAX_DISTORTION * s || Float.isInfinite(stored)) {
      return Float.NaN;
    }
    return stored;
  }

  /** The zero point of a group whose least value is {@code mn}, under scale {@code s}. */
  static int zeroPoint(float mn, float s, int maxq) {
    if (s == 0f) {
      return 0;
    }
    int z = Math.round(-Math.min(mn, 0f) / s);
    return Math.max(0, Math.min(maxq, z));
  }

  /** The zero point of a group: {@code 2^(bits-1)} when symmetric, else from its least value. */
  int zeroPointFor(float mn, float s) {
    return symmetric ? 1 << (bits - 1) : zeroPoint(mn, s, (1 << bits) - 1);
  }
}
