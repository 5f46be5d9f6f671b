package dev.selfbyt.cortexsdr.djl.graph;

import java.util.Arrays;

/** Numpy-style broadcasting: the common shape of several inputs and a walk over it row by row. */
final class Broadcast {
  private Broadcast() {}

  static long[] shape(long[]... shapes) {
    int rank = 0;
    for (long[] s : shapes) {
      rank = Math.max(rank, s.length);
    }
    long[] out = new long[rank];
    Arrays.fill(out, 1);
    for (long[] s : shapes) {
      for (int i = 0; i < s.length; i++) {
        int o = rank - s.length + i;
        long d = s[i];
        if (out[o] == 1) {
          out[o] = d;
        } else if (d != 1 && d != out[o]) {
          throw new IllegalArgumentException("shapes " + describe(shapes) + " do not broadcast");
        }
      }
    }
    return out;
  }

  private static String describe(long[][] shapes) {
    StringBuilder sb = new StringBuilder();
    for (long[] s : shapes) {
      sb.append(sb.length() == 0 ? "" : ", ").append(Arrays.toString(s));
    }
    return sb.toString();
  }

  /** Element strides of {@code in} laid over {@code out}: 0 along broadcast axes. */
  static int[] strides(long[] in, long[] out) {
    int rank = out.length;
    int[] st = new int[rank];
    int acc = 1;
    for (int i = in.length - 1; i >= 0; i--) {
      int o = rank - in.length + i;
      st[o] = in[i] == 1 ? 0 : acc;
      acc *= (int) in[i];
    }
    return st;
  }

  static int size(long[] shape) {
    long n = 1;
    for (long d : shape) {
      n *= d;
    }
    return Math.toIntExact(n);
  }

  /** Visits each row (the last axis) of {@code out}: offsets of every input and of the output. */
  interface RowVisitor {
    void row(int[] offsets, int outOffset, int length);
  }

  static void rows(long[] out, int[][] strides, RowVisitor v) {
    int rank = out.length;
    int total = size(out);
    if (total == 0) {
      return;
    }
    if (rank == 0) {
      v.row(new int[strides.length], 0, 1);
      return;
    }
    int len = (int) out[rank - 1];
    int rows = total / Math.max(len, 1);
    int[] idx = new int[rank];
    int[] off = new int[strides.length];
    for (int r = 0; r < rows; r++) {
      v.row(off, r * len, len);
      for (int ax = rank - 2; ax >= 0; ax--) {
        idx[ax]++;
        for (int k = 0; k < off.length; k++) {
          off[k] += strides[k][ax];
        }
        if (idx[ax] < out[ax]) {
          break;
        }
        for (int k = 0; k < off.length; k++) {
          off[k] -= strides[k][ax] * idx[ax];
        }
        idx[ax] = 0;
      }
    }
  }

  /** {@code v}'s floats laid out over {@code out}. */
  static float[] expand(float[] v, long[] in, long[] out) {
    if (Arrays.equals(in, out)) {
      return v;
    }
    float[] r = new float[size(out)];
    int[][] st = {strides(in, out)};
    int step = st[0].length == 0 ? 0 : st[0][out.length - 1];
    rows(out, st, (o, oo, len) -> {
      for (int i = 0; i < len; i++) {
        r[oo + i] = v[o[0] + i * step];
      }
    });
    return r;
  }

  static long[] expand(long[] v, long[] in, long[] out) {
    if (Arrays.equals(in, out)) {
      return v;
    }
    long[] r = new long[size(out)];
    int[][] st = {strides(in, out)};
    int step = st[0].length == 0 ? 0 : st[0][out.length - 1];
    rows(out, st, (o, oo, len) -> {
      for (int i = 0; i < len; i++) {
        r[oo + i] = v[o[0] + i * step];
      }
    });
    return r;
  }
}
