package dev.selfbyt.cortexsdr.core.codec;

import dev.selfbyt.cortexsdr.core.codec.QuantCodec.Granularity;
import java.nio.ByteBuffer;

/**
 * A quantized tensor in parsed form: per-group scales and zero points, and the packed codes of
 * each fiber, for consumers that compute on the quantized form directly (kernels, ONNX export)
 * instead of decoding to floats. Get one from {@link QuantCodec#unpack} (or {@link
 * TieredQuantCodec#widened}). Group {@code g} of fiber {@code f} covers elements {@code [g *
 * groupLength, min(r, (g + 1) * groupLength))} of that fiber; for a per-tensor codec there is one
 * group.
 *
 * <p>Not final only so that the deprecated {@link QuantCodec.QuantizedTensor}, this class's name
 * before it stood on its own, can extend it; its constructor is not public.
 */
public class QuantizedTensor {
  private final QuantCodec codec;
  private final QuantParams params;
  private final int fiberLength;
  private final int fibers;
  private final int groupLength;
  private final float[] scales;
  private final int[] zeroPoints;
  private final byte[] data;
  private final int codeOffset;
  private final int fiberBytes;

  QuantizedTensor(
      QuantCodec codec, int fiberLength, int fibers, int groupLength, float[] scales,
      int[] zeroPoints, byte[] data, int codeOffset, int fiberBytes) {
    this.codec = codec;
    this.params = codec.quantParams();
    this.fiberLength = fiberLength;
    this.fibers = fibers;
    this.groupLength = groupLength;
    this.scales = scales;
    this.zeroPoints = zeroPoints;
    this.data = data;
    this.codeOffset = codeOffset;
    this.fiberBytes = fiberBytes;
  }

  public QuantCodec codec() {
    return codec;
  }

  public int fiberLength() {
    return fiberLength;
  }

  public int fibers() {
    return fibers;
  }

  /** Values per scale along a fiber (the fiber length unless blockwise). */
  public int groupLength() {
    return groupLength;
  }

  /** Scales, one per group, in fiber-major order. */
  public float[] scales() {
    return scales.clone();
  }

  /** Scale of group {@code g} (no copy of the array). */
  public float scaleAt(int g) {
    return scales[g];
  }

  /** Zero point of group {@code g}. */
  public int zeroPointAt(int g) {
    return zeroPoints[g];
  }

  /** Zero points, one per group (symmetric: all {@code 2^(bits-1)}). */
  public int[] zeroPoints() {
    return zeroPoints.clone();
  }

  /** Index into {@link #scales()} of element {@code i} of fiber {@code f}. */
  public int group(int f, int i) {
    if (params.granularity() == Granularity.TENSOR) {
      return 0;
    }
    return f * params.groupsPerFiber(fiberLength) + i / groupLength;
  }

  /** The unsigned codes of fiber {@code f}, one per byte. */
  public byte[] codes(int f) {
    byte[] c = new byte[fiberLength];
    PackedCodes.unpack(data, codeOffset + f * fiberBytes, fiberLength, params.bits(), c, 0);
    return c;
  }

  /** The packed codes of all fibers, {@link #fiberBytes()} each, LSB first. */
  public ByteBuffer packedCodes() {
    return ByteBuffer.wrap(data, codeOffset, fibers * fiberBytes).slice();
  }

  public int fiberBytes() {
    return fiberBytes;
  }

  /**
   * Decodes every value into {@code out} in natural order for a tensor {@code [outer,
   * fiberLength, inner]}: a tile of fibers at a time, writing whole rows.
   */
  void dequantizeStrided(float[] out, int outer, int inner) {
    int r = fiberLength;
    byte[] tile = new byte[QuantEncoder.TILE * Math.max(r, 1)];
    float[] s = new float[QuantEncoder.TILE];
    float[] z = new float[QuantEncoder.TILE];
    int gpf = params.groupsPerFiber(r);
    boolean perTensor = params.granularity() == Granularity.TENSOR;
    for (int o = 0; o < outer; o++) {
      for (int t = 0, tiles = QuantEncoder.tileCount(inner); t < tiles; t++) {
        int c0 = t * QuantEncoder.TILE;
        int tw = Math.min(QuantEncoder.TILE, inner - c0);
        for (int c = 0; c < tw; c++) {
          PackedCodes.unpack(data, codeOffset + (o * inner + c0 + c) * fiberBytes, r, params.bits(), tile, c * r);
        }
        for (int j = 0; j < gpf; j++) {
          for (int c = 0; c < tw; c++) {
            int g = perTensor ? 0 : (o * inner + c0 + c) * gpf + j;
            s[c] = scales[g];
            z[c] = zeroPoints[g];
          }
          int start = j * groupLength;
          int end = Math.min(r, start + groupLength);
          for (int k = start; k < end; k++) {
            int row = (o * r + k) * inner + c0;
            for (int c = 0; c < tw; c++) {
              out[row + c] = ((tile[c * r + k] & 0xff) - z[c]) * s[c];
            }
          }
        }
      }
    }
  }

  /** Decodes every value into {@code out} in fiber-major order. */
  public void dequantizeInto(float[] out) {
    byte[] codes = new byte[Math.max(fiberLength, 1)];
    int gpf = params.groupsPerFiber(fiberLength);
    boolean perTensor = params.granularity() == Granularity.TENSOR;
    for (int f = 0; f < fibers; f++) {
      PackedCodes.unpack(data, codeOffset + f * fiberBytes, fiberLength, params.bits(), codes, 0);
      int base = f * fiberLength;
      for (int j = 0; j < gpf; j++) {
        int g = perTensor ? 0 : f * gpf + j;
        float s = scales[g];
        int z = zeroPoints[g];
        int start = j * groupLength;
        int end = Math.min(fiberLength, start + groupLength);
        for (int i = start; i < end; i++) {
          out[base + i] = ((codes[i] & 0xff) - z) * s;
        }
      }
    }
  }
}
