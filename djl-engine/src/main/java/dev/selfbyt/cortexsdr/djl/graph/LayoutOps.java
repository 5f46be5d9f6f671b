package dev.selfbyt.cortexsdr.djl.graph;

import java.util.Arrays;
import java.util.Map;

/**
 * Operators that rearrange elements: Tile (repeats along each axis), DepthToSpace (DCR and CRD
 * orders, the pixel shuffle of super-resolution and some detection heads) and SpaceToDepth.
 */
final class LayoutOps {
  private LayoutOps() {}

  static void register(Map<String, Ops.Factory> ops) {
    ops.put("Tile", (a, n, o) -> in -> Ops.one(tile(in[0], in[1].longs())));
    ops.put("DepthToSpace", (a, n, o) -> {
      int block = (int) a.i("blocksize", 0);
      boolean crd = a.s("mode", "DCR").equals("CRD");
      return in -> Ops.one(depthToSpace(in[0], block, crd));
    });
    ops.put("SpaceToDepth", (a, n, o) -> {
      int block = (int) a.i("blocksize", 0);
      return in -> Ops.one(spaceToDepth(in[0], block));
    });
  }

  /** {@code v} repeated {@code repeats[i]} times along each axis {@code i}. */
  static Value tile(Value v, long[] repeats) {
    long[] s = v.shapeRef();
    if (repeats.length != s.length) {
      throw new IllegalArgumentException("Tile: " + repeats.length + " repeats for input " + Arrays.toString(s));
    }
    long[] out = new long[s.length];
    // as a broadcast: [r0, s0, r1, s1, ...] from [1, s0, 1, s1, ...], then merged pairwise
    long[] split = new long[2 * s.length];
    long[] from = new long[2 * s.length];
    for (int i = 0; i < s.length; i++) {
      if (repeats[i] < 0) {
        throw new IllegalArgumentException("Tile: negative repeat " + repeats[i]);
      }
      out[i] = s[i] * repeats[i];
      split[2 * i] = repeats[i];
      split[2 * i + 1] = s[i];
      from[2 * i] = 1;
      from[2 * i + 1] = s[i];
    }
    if (v.isFloating()) {
      return Value.ofFloats(out, Broadcast.expand(v.floats(), from, split));
    }
    return Value.ofLongs(v.dtype(), out, Broadcast.expand(v.longs(), from, split));
  }

  static Value depthToSpace(Value x, int b, boolean crd) {
    long[] s = x.shapeRef();
    if (s.length != 4 || b < 1 || s[1] % ((long) b * b) != 0) {
      throw new IllegalArgumentException("DepthToSpace: input " + Arrays.toString(s) + " and block " + b
          + " (needs NCHW with C a multiple of block squared)");
    }
    long n = s[0], c = s[1] / ((long) b * b), h = s[2], w = s[3];
    // DCR: [N, b, b, C', H, W] -> [N, C', H, b, W, b]; CRD: [N, C', b, b, H, W] -> the same
    Value six = ShapeOps.reshape(x, crd ? new long[] {n, c, b, b, h, w} : new long[] {n, b, b, c, h, w}, false);
    Value t = ShapeOps.transpose(six, crd ? new long[] {0, 1, 4, 2, 5, 3} : new long[] {0, 3, 4, 1, 5, 2});
    return ShapeOps.reshape(t, new long[] {n, c, h * b, w * b}, false);
  }

  static Value spaceToDepth(Value x, int b) {
    long[] s = x.shapeRef();
    if (s.length != 4 || b < 1 || s[2] % b != 0 || s[3] % b != 0) {
      throw new IllegalArgumentException("SpaceToDepth: input " + Arrays.toString(s) + " and block " + b
          + " (needs NCHW with H and W multiples of the block)");
    }
    long n = s[0], c = s[1], h = s[2] / b, w = s[3] / b;
    Value six = ShapeOps.reshape(x, new long[] {n, c, h, b, w, b}, false);
    Value t = ShapeOps.transpose(six, new long[] {0, 3, 5, 1, 2, 4});
    return ShapeOps.reshape(t, new long[] {n, c * b * b, h, w}, false);
  }
}
