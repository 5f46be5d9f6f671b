package dev.selfbyt.cortexsdr.core.codec;

import dev.selfbyt.cortexsdr.core.codec.QuantCodec.Granularity;
import dev.selfbyt.cortexsdr.core.tensor.Fp16;
import dev.selfbyt.cortexsdr.core.tensor.TensorData;
import dev.selfbyt.cortexsdr.core.tensor.TensorInfo;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * Writes {@link QuantCodec} payloads (the format is in its Javadoc): groups' ranges, scales and
 * zero points, rounding, and packing, fiber by fiber for contiguous fibers, tile by tile for
 * strided ones, or on a grid chosen ahead. One per codec; it keeps no state between tensors.
 */
final class QuantEncoder {
  private static final int SUPER_BLOCK = QuantCodec.SUPER_BLOCK;
  private static final int SCALE_FP16 = QuantCodec.SCALE_FP16;
  private static final int SCALE_FP32 = QuantCodec.SCALE_FP32;
  private static final int SCALE_SUPER = QuantCodec.SCALE_SUPER;

  private final QuantCodec codec;
  private final QuantParams params;
  // the params' fields, read in every loop below
  private final int bits;
  private final boolean symmetric;
  private final Granularity granularity;
  private final int blockSize;
  private final boolean superScales;

  QuantEncoder(QuantCodec codec, QuantParams params) {
    this.codec = codec;
    this.params = params;
    this.bits = params.bits();
    this.symmetric = params.symmetric();
    this.granularity = params.granularity();
    this.blockSize = params.blockSize();
    this.superScales = params.superScales();
  }

  private QuantParams.Layout layout(TensorInfo info, int scaleBytes) {
    return params.layout(info, scaleBytes);
  }

  private int groupLength(int r) {
    return params.groupLength(r);
  }

  private int groupsPerFiber(int r) {
    return params.groupsPerFiber(r);
  }

  private long groupCount(int fibers, int r) {
    return params.groupCount(fibers, r);
  }

  private float scaleFor(float mn, float mx, boolean fp16) {
    return params.scaleFor(mn, mx, fp16);
  }

  private static int zeroPoint(float mn, float s, int maxq) {
    return QuantParams.zeroPoint(mn, s, maxq);
  }

  private String describe() {
    return codec.describe();
  }

  /** A payload being filled: scale type, scales, zero points and packed codes at their offsets. */
  private final class PayloadWriter {
    private final QuantParams.Layout layout;
    private final boolean fp16;
    private final boolean superScaled;
    private final byte[] out;
    private final ByteBuffer scales;
    private final int[] zeroPoints;

    PayloadWriter(TensorInfo info, boolean fp16) {
      this.layout = layout(info, fp16 ? 2 : 4);
      this.fp16 = fp16;
      this.superScaled = false;
      this.out = new byte[layout.total()];
      out[0] = (byte) (fp16 ? SCALE_FP16 : SCALE_FP32);
      this.scales = ByteBuffer.wrap(out, 1, layout.groups() * layout.scaleBytes()).slice().order(ByteOrder.LITTLE_ENDIAN);
      this.zeroPoints = symmetric ? null : new int[layout.groups()];
    }

    /** Super-block scales: the fp16 {@code d} of each run and each group's code, written now. */
    PayloadWriter(TensorInfo info, float[] supers, int[] codes) {
      this.layout = layout(info, 0);
      this.fp16 = true;
      this.superScaled = true;
      this.out = new byte[layout.total()];
      out[0] = (byte) SCALE_SUPER;
      ByteBuffer b = ByteBuffer.wrap(out).order(ByteOrder.LITTLE_ENDIAN);
      for (int i = 0; i < supers.length; i++) {
        b.putShort(1 + 2 * i, Fp16.fromFloat(supers[i]));
      }
      int off = 1 + 2 * supers.length;
      for (int g = 0; g < codes.length; g++) {
        out[off + g] = (byte) codes[g];
      }
      this.scales = null;
      this.zeroPoints = symmetric ? null : new int[layout.groups()];
    }

    int groups() {
      return layout.groups();
    }

    /** Records group {@code g}'s scale and zero point. */
    void group(int g, float scale, int zeroPoint) {
      if (!superScaled) {
        putScale(scales, g, scale, fp16);
      }
      if (zeroPoints != null) {
        zeroPoints[g] = zeroPoint;
      }
    }

    /** Packs fiber {@code f}'s codes, {@code codes[from .. from + r)}. */
    void fiber(int f, byte[] codes, int from, int r) {
      PackedCodes.pack(codes, from, r, bits, out, layout.codeOffset() + f * layout.fiberBytes());
    }

    byte[] finish() {
      if (zeroPoints != null) {
        PackedCodes.packInts(zeroPoints, bits, out, layout.zpOffset());
      }
      return out;
    }
  }

  /** Encodes; with {@code measure}, also measures (not for a grid, nor strided per-tensor). */
  MeasuredPayload encode(TensorData data, boolean measure) {
    TensorInfo info = data.info();
    FiberLayout.requireFloating(info, "quantization");
    FiberLayout.checkIndexable(info);
    float[] x = data.floats();
    float[] ref = measure ? data.reference() : null;
    QuantGrid grid = data.grid();
    if (grid != null && grid.fits(codec)) {
      byte[] out = encodeOnGrid(FiberLayout.toFiberMajor(x, info), info, grid);
      return new MeasuredPayload(ByteBuffer.wrap(out).order(ByteOrder.LITTLE_ENDIAN), Float.NaN, Float.NaN);
    }
    if (superScales) {
      float[] fiberMajor = FiberLayout.toFiberMajor(x, info);
      QuantGrid natural = superGrid(fiberMajor, info);
      if (natural != null) { // else a super scale does not fit fp16: plain scales below
        byte[] out = encodeOnGrid(fiberMajor, info, natural);
        return new MeasuredPayload(ByteBuffer.wrap(out).order(ByteOrder.LITTLE_ENDIAN), Float.NaN, Float.NaN);
      }
    }
    boolean strided = info.inner() > 1 && granularity != Granularity.TENSOR;
    if (!strided) {
      x = FiberLayout.toFiberMajor(x, info);
    }
    byte[] out = null;
    EncodingError error = null;
    for (boolean fp16 : new boolean[] {true, false}) {
      error = measure ? new EncodingError() : null;
      // strided fibers: quantized row by row from the natural layout, no transposed copy of the floats
      out = strided ? encodeStrided(x, ref, info, fp16, error) : encode(x, ref, info, fp16, error);
      if (out != null) {
        break;
      }
    }
    ByteBuffer payload = ByteBuffer.wrap(out).order(ByteOrder.LITTLE_ENDIAN);
    return measure ? new MeasuredPayload(payload, error.nmse(), error.maxAbsError())
        : new MeasuredPayload(payload, Float.NaN, Float.NaN);
  }

  /** Fibers per tile in the strided paths: one row of a tile is 64 contiguous floats. */
  static final int TILE = 64;

  /**
   * Tiles covering {@code inner} fibers. Loops count tiles rather than step {@code c0 += TILE},
   * which wrapped past Integer.MAX_VALUE and never ended for inner dimensions above 2^31-64.
   */
  static int tileCount(int inner) {
    return (int) QuantCodec.ceilDiv((long) inner, TILE);
  }

  /**
   * Encodes a tensor whose fibers are strided ({@code inner > 1}) straight from natural order:
   * for a tile of {@value #TILE} fibers, each row of a block is a contiguous run of values, so the
   * min/max and rounding loops read memory in order. Same bytes as {@link #encode(float[], float[],
   * TensorInfo, boolean, EncodingError)} on the transposed values. With {@code error}, a copy of
   * each slab's codes is kept in natural order and measured row by row once the slab is done
   * (quantizing whole rows instead of tiles, to measure on the way, ran 2-3x slower).
   *
   * <p>Each loop sits in a small method of its own: as one large method, the JIT compiled it
   * twice on the stack (OSR) at 0.5-0.6 s each, more than the whole encoding of MiniLM takes
   * once compiled.
   */
  private byte[] encodeStrided(float[] x, float[] ref, TensorInfo info, boolean fp16, EncodingError error) {
    int r = FiberLayout.fiberLength(info);
    int inner = (int) info.inner();
    int outer = (int) info.outer();
    PayloadWriter w = new PayloadWriter(info, fp16);
    StridedScratch t = new StridedScratch(r, inner, groupsPerFiber(r), error != null);
    for (int o = 0; o < outer; o++) {
      for (int t0 = 0, tiles = tileCount(inner); t0 < tiles; t0++) {
        int c0 = t0 * TILE;
        if (!encodeTile(x, info, o, c0, fp16, w, t)) {
          return null;
        }
      }
      if (error != null) {
        measureSlab(ref, o, r, inner, groupLength(r), t, error);
      }
    }
    return w.finish();
  }

  /** Scratch arrays of the strided encoder, made once per tensor. */
  private static final class StridedScratch {
    final byte[] tile;
    final int[] kmn = new int[TILE];
    final int[] kmx = new int[TILE];
    final float[] inv = new float[TILE];
    final float[] bias = new float[TILE];
    final byte[] nat; // with measuring: the slab's codes in natural order [R, inner]
    final float[] natScale; // [block, inner]
    final int[] natZero;

    StridedScratch(int r, int inner, int gpf, boolean measure) {
      tile = new byte[TILE * r];
      nat = measure ? new byte[r * inner] : null;
      natScale = measure ? new float[gpf * inner] : null;
      natZero = measure ? new int[gpf * inner] : null;
    }
  }

  /** Encodes the tile of fibers {@code c0 ..} of slab {@code o}; false when fp16 scales do not fit. */
  private boolean encodeTile(float[] x, TensorInfo info, int o, int c0, boolean fp16, PayloadWriter w, StridedScratch t) {
    int r = FiberLayout.fiberLength(info);
    int inner = (int) info.inner();
    int gl = groupLength(r);
    int gpf = groupsPerFiber(r);
    int tw = Math.min(TILE, inner - c0);
    int maxq = (1 << bits) - 1;
    for (int j = 0; j < gpf; j++) {
      int start = j * gl;
      int end = Math.min(r, start + gl);
      int row0 = (o * r + start) * inner + c0;
      tileRange(x, row0, inner, end - start, tw, t.kmn, t.kmx);
      for (int c = 0; c < tw; c++) {
        float mn = fromOrderedBits(t.kmn[c]);
        float mx = fromOrderedBits(t.kmx[c]);
        if (!Float.isFinite(mn) || !Float.isFinite(mx)) {
          throwNonFinite(x, info, row0 + c, inner, end - start);
        }
        float sc = scaleFor(mn, mx, fp16);
        if (Float.isNaN(sc)) {
          return false;
        }
        int z = symmetric ? 1 << (bits - 1) : zeroPoint(mn, sc, maxq);
        w.group((o * inner + c0 + c) * gpf + j, sc, z);
        t.inv[c] = sc == 0f ? 0f : 1f / sc;
        t.bias[c] = z + 0.5f;
        if (t.nat != null) {
          t.natScale[j * inner + c0 + c] = sc;
          t.natZero[j * inner + c0 + c] = z;
        }
      }
      if (t.nat == null) {
        quantizeTile(x, row0, inner, start, end, tw, t.inv, t.bias, symmetric ? 1 : 0, maxq, t.tile, r);
      } else {
        quantizeTile(x, row0, inner, start, end, tw, t.inv, t.bias, symmetric ? 1 : 0, maxq, t.tile, r, t.nat,
            start * inner + c0);
      }
    }
    for (int c = 0; c < tw; c++) {
      w.fiber(o * inner + c0 + c, t.tile, c * r, r);
    }
    return true;
  }

  /** Range of each of {@code tw} columns over {@code rows} rows from {@code row0}, as ordered bits. */
  private static void tileRange(float[] x, int row0, int stride, int rows, int tw, int[] kmn, int[] kmx) {
    java.util.Arrays.fill(kmn, Integer.MAX_VALUE);
    java.util.Arrays.fill(kmx, Integer.MIN_VALUE);
    for (int k = 0; k < rows; k++) {
      int row = row0 + k * stride;
      for (int c = 0; c < tw; c++) {
        int key = orderedBits(x[row + c]);
        kmn[c] = Math.min(kmn[c], key);
        kmx[c] = Math.max(kmx[c], key);
      }
    }
  }

  /** Codes of rows {@code start..end} of a tile, written fiber by fiber: {@code tile[c * r + k]}. */
  private static void quantizeTile(float[] x, int row0, int stride, int start, int end, int tw, float[] inv,
      float[] bias, int lo, int maxq, byte[] tile, int r) {
    for (int k = start; k < end; k++) {
      int row = row0 + (k - start) * stride;
      for (int c = 0; c < tw; c++) {
        int q = (int) (x[row + c] * inv[c] + bias[c]);
        tile[c * r + k] = (byte) Math.max(lo, Math.min(maxq, q));
      }
    }
  }

  /** As above, also writing the codes in natural order: {@code nat[natRow0 + (k - start) * stride + c]}. */
  private static void quantizeTile(float[] x, int row0, int stride, int start, int end, int tw, float[] inv,
      float[] bias, int lo, int maxq, byte[] tile, int r, byte[] nat, int natRow0) {
    for (int k = start; k < end; k++) {
      int row = row0 + (k - start) * stride;
      int natRow = natRow0 + (k - start) * stride;
      for (int c = 0; c < tw; c++) {
        int q = (int) (x[row + c] * inv[c] + bias[c]);
        byte code = (byte) Math.max(lo, Math.min(maxq, q));
        tile[c * r + k] = code;
        nat[natRow + c] = code;
      }
    }
  }

  /** Measures slab {@code o} row by row, as QuantizedTensor.dequantizeStrided decodes it. */
  private static void measureSlab(float[] ref, int o, int r, int inner, int gl, StridedScratch t, EncodingError error) {
    for (int k = 0; k < r; k++) {
      error.addCodes(ref, (o * r + k) * inner, t.nat, k * inner, inner, t.natZero, t.natScale, (k / gl) * inner);
    }
  }

  private static void throwNonFinite(float[] x, TensorInfo info, int first, int stride, int rows) {
    for (int k = 0; k < rows; k++) {
      int i = first + k * stride;
      if (!Float.isFinite(x[i])) {
        throw new NonFiniteValueException(info.name(), x[i], i, "element", "quantization");
      }
    }
  }

  /**
   * Encodes fiber-major values; null when fp16 scales were asked for and do not fit. With {@code
   * error}, measures against {@code ref} (only where fiber-major is natural order: {@code inner
   * == 1}).
   */
  private byte[] encode(float[] x, float[] ref, TensorInfo info, boolean fp16, EncodingError error) {
    int r = FiberLayout.fiberLength(info);
    int fibers = FiberLayout.fiberCount(info);
    PayloadWriter w = new PayloadWriter(info, fp16);
    float[] range = new float[2];
    int maxq = (1 << bits) - 1;
    int half = 1 << (bits - 1);

    float tensorScale = 0;
    int tensorZp = 0;
    if (granularity == Granularity.TENSOR && x.length > 0) {
      minMax(x, 0, x.length, range, info);
      tensorScale = scaleFor(range[0], range[1], fp16);
      if (Float.isNaN(tensorScale)) {
        return null;
      }
      tensorZp = symmetric ? half : zeroPoint(range[0], tensorScale, maxq);
      w.group(0, tensorScale, tensorZp);
    }

    FiberScratch t = new FiberScratch(r);
    for (int f = 0; f < fibers; f++) {
      // one fiber per call: a small method the JIT compiles once, not the whole loop on the stack
      if (!encodeFiber(x, ref, info, f, fp16, tensorScale, tensorZp, w, t, error)) {
        return null;
      }
    }
    return w.finish();
  }

  /** Scratch arrays of the fiber-major encoder, made once per tensor. */
  private static final class FiberScratch {
    final byte[] codes;
    final float[] range = new float[2];

    FiberScratch(int r) {
      codes = new byte[Math.max(r, 1)];
    }
  }

  /** Encodes fiber {@code f} (and measures it); false when fp16 scales do not fit. */
  private boolean encodeFiber(float[] x, float[] ref, TensorInfo info, int f, boolean fp16, float tensorScale,
      int tensorZp, PayloadWriter w, FiberScratch t, EncodingError error) {
    int r = FiberLayout.fiberLength(info);
    int gl = groupLength(r);
    int gpf = groupsPerFiber(r);
    int maxq = (1 << bits) - 1;
    int base = f * r;
    for (int j = 0; j < gpf; j++) {
      int start = j * gl;
      int len = Math.min(gl, r - start);
      float s;
      int z;
      if (granularity == Granularity.TENSOR) {
        s = tensorScale;
        z = tensorZp;
      } else {
        minMax(x, base + start, len, t.range, info);
        s = scaleFor(t.range[0], t.range[1], fp16);
        if (Float.isNaN(s)) {
          return false;
        }
        z = symmetric ? 1 << (bits - 1) : zeroPoint(t.range[0], s, maxq);
        w.group(f * gpf + j, s, z);
      }
      quantize(x, base + start, len, s, z, symmetric ? 1 : 0, maxq, t.codes, start);
      if (error != null) { // as QuantizedTensor.dequantizeInto decodes the group
        error.addCodes(ref, base + start, t.codes, start, len, z, s);
      }
    }
    w.fiber(f, t.codes, 0, r);
    return true;
  }

  /**
   * A float's bits as an int that orders like the float (NaNs sort beyond the infinities), so
   * that min/max run as integer operations, which the JIT vectorizes: measured 2.8x faster here
   * than {@code Math.min} on floats.
   */
  private static int orderedBits(float v) {
    int b = Float.floatToRawIntBits(v);
    return b ^ ((b >> 31) & 0x7fffffff);
  }

  private static float fromOrderedBits(int k) {
    return Float.intBitsToFloat(k ^ ((k >> 31) & 0x7fffffff));
  }

  private static void minMax(float[] x, int off, int len, float[] range, TensorInfo info) {
    int kmn = Integer.MAX_VALUE;
    int kmx = Integer.MIN_VALUE;
    for (int i = off, end = off + len; i < end; i++) {
      int k = orderedBits(x[i]);
      kmn = Math.min(kmn, k);
      kmx = Math.max(kmx, k);
    }
    float mn = len == 0 ? 0f : fromOrderedBits(kmn);
    float mx = len == 0 ? 0f : fromOrderedBits(kmx);
    if (!Float.isFinite(mn) || !Float.isFinite(mx)) {
      for (int i = off; i < off + len; i++) {
        if (!Float.isFinite(x[i])) {
          throw new NonFiniteValueException(info.name(), x[i], i, "fiber-major element", "quantization");
        }
      }
    }
    range[0] = mn;
    range[1] = mx;
  }

  /**
   * The grid plain rounding gives fiber-major values under super-block scales: each group's range
   * as for plain scales, its scale rounded up to the super-block's steps; null when a super scale
   * does not fit fp16.
   */
  private QuantGrid superGrid(float[] x, TensorInfo info) {
    int r = FiberLayout.fiberLength(info);
    int fibers = FiberLayout.fiberCount(info);
    int gl = groupLength(r);
    int gpf = groupsPerFiber(r);
    int groups = Math.toIntExact(groupCount(fibers, r));
    float[] raw = new float[groups];
    float[] mins = new float[groups];
    float[] range = new float[2];
    for (int f = 0; f < fibers; f++) {
      for (int j = 0; j < gpf; j++) {
        int start = j * gl;
        minMax(x, f * r + start, Math.min(gl, r - start), range, info);
        raw[f * gpf + j] = scaleFor(range[0], range[1], false);
        mins[f * gpf + j] = range[0];
      }
    }
    float[] supers = SuperScales.supers(raw, SUPER_BLOCK, 1f);
    if (supers == null) {
      return null;
    }
    float[] scales = new float[groups];
    int[] zps = new int[groups];
    int maxq = (1 << bits) - 1;
    for (int g = 0; g < groups; g++) {
      scales[g] = SuperScales.scale(supers[g / SUPER_BLOCK], SuperScales.code(raw[g], supers[g / SUPER_BLOCK]));
      zps[g] = symmetric ? 1 << (bits - 1) : zeroPoint(mins[g], scales[g], maxq);
    }
    return new QuantGrid(bits, symmetric, blockSize, scales, zps, supers);
  }

  /**
   * A grid as super-block scales: as given when it has them; else each run's largest scale
   * rounded up to fp16 is its super scale and every scale is rounded up to its steps (zero points
   * kept: the range only grows); null when a super scale does not fit fp16.
   */
  private static QuantGrid asSuper(QuantGrid grid) {
    if (grid.superScales() != null) {
      return grid;
    }
    float[] supers = SuperScales.supers(grid.scales(), SUPER_BLOCK, 1f);
    if (supers == null) {
      return null;
    }
    float[] scales = grid.scales().clone();
    for (int g = 0; g < scales.length; g++) {
      scales[g] = SuperScales.scale(supers[g / SUPER_BLOCK], SuperScales.code(scales[g], supers[g / SUPER_BLOCK]));
    }
    return new QuantGrid(grid.bits(), grid.symmetric(), grid.blockSize(), scales, grid.zeroPoints(), supers);
  }

  /** Rounds fiber-major values on a grid chosen ahead; fp16 scales when all are exact in fp16. */
  private byte[] encodeOnGrid(float[] x, TensorInfo info, QuantGrid grid) {
    QuantGrid sg = superScales ? asSuper(grid) : null;
    PayloadWriter w;
    if (sg != null) {
      grid = sg;
      int[] codes = new int[sg.scales().length];
      for (int g = 0; g < codes.length; g++) {
        float d = sg.superScales()[g / SUPER_BLOCK];
        codes[g] = SuperScales.code(sg.scales()[g], d);
        if (SuperScales.scale(d, codes[g]) != sg.scales()[g]) {
          throw new IllegalArgumentException("tensor '" + info.name() + "': scale " + sg.scales()[g] + " of group " + g
              + " is not a step of its super scale " + d);
        }
      }
      w = new PayloadWriter(info, sg.superScales(), codes);
    } else {
      boolean fp16 = true;
      for (float sc : grid.scales()) {
        fp16 &= Fp16.toFloat(Fp16.fromFloat(sc)) == sc;
      }
      w = new PayloadWriter(info, fp16);
    }
    if (grid.scales().length != w.groups()) {
      throw new IllegalArgumentException("tensor '" + info.name() + "': grid of " + grid.scales().length
          + " groups, " + describe() + " needs " + w.groups());
    }
    int r = FiberLayout.fiberLength(info);
    int fibers = FiberLayout.fiberCount(info);
    int gl = groupLength(r);
    int gpf = groupsPerFiber(r);
    for (int g = 0; g < w.groups(); g++) {
      w.group(g, grid.scales()[g], grid.zeroPoints()[g]);
    }
    byte[] codes = new byte[Math.max(r, 1)];
    int maxq = (1 << bits) - 1;
    int lo = symmetric ? 1 : 0;
    for (int f = 0; f < fibers; f++) {
      for (int j = 0; j < gpf; j++) {
        int g = f * gpf + j;
        int start = j * gl;
        quantize(x, f * r + start, Math.min(gl, r - start), grid.scales()[g], grid.zeroPoints()[g], lo, maxq, codes,
            start);
      }
      w.fiber(f, codes, 0, r);
    }
    return w.finish();
  }

  private static void putScale(ByteBuffer out, int g, float s, boolean fp16) {
    if (fp16) {
      out.putShort(2 * g, Fp16.fromFloat(s)); // s is already an exact fp16 value
    } else {
      out.putFloat(4 * g, s);
    }
  }

  private static void quantize(
      float[] x, int off, int len, float s, int z, int lo, int hi, byte[] codes, int codeOff) {
    float inv = s == 0f ? 0f : 1f / s;
    // x * inv + z + 0.5 is >= 0 for every value in range, so the int cast rounds half up
    float bias = z + 0.5f;
    for (int i = 0; i < len; i++) {
      int q = (int) (x[off + i] * inv + bias);
      codes[codeOff + i] = (byte) Math.max(lo, Math.min(hi, q));
    }
  }
}
