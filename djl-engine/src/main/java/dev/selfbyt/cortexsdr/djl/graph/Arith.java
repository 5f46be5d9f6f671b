package dev.selfbyt.cortexsdr.djl.graph;

import dev.selfbyt.cortexsdr.core.tensor.DType;
import dev.selfbyt.cortexsdr.djl.graph.ValueOps.Binary;
import dev.selfbyt.cortexsdr.djl.graph.ValueOps.Comparison;
import dev.selfbyt.cortexsdr.djl.graph.ValueOps.Unary;
import dev.selfbyt.cortexsdr.djl.kernel.KernelThreads;
import dev.selfbyt.cortexsdr.djl.kernel.Kernels;

/** Element-wise operators with broadcasting, on floats or (for shape arithmetic) on longs. */
final class Arith {
  private Arith() {}

  static Value binary(Binary code, Value a, Value b) {
    long[] out = Broadcast.shape(a.shapeRef(), b.shapeRef());
    if (!a.isFloating() && !b.isFloating()) {
      return binaryLongs(code, a, b, out);
    }
    float[] x = a.floats();
    float[] y = b.floats();
    int size = Broadcast.size(out);
    if (code.basic() && x.length == size && y.length > 0 && size % y.length == 0 && trailing(b.shapeRef(), out)) {
      return Value.ofFloats(out, rowsOf(code, x, y, size));
    }
    float[] z = new float[size];
    if (code == Binary.POW && y.length == 1 && (y[0] == 2f || y[0] == 0.5f)) {
      float[] xs = Broadcast.expand(x, a.shapeRef(), out);
      boolean square = y[0] == 2f;
      for (int i = 0; i < z.length; i++) {
        z[i] = square ? xs[i] * xs[i] : (float) Math.sqrt(xs[i]);
      }
      return Value.ofFloats(out, z);
    }
    int[][] st = {Broadcast.strides(a.shapeRef(), out), Broadcast.strides(b.shapeRef(), out)};
    int sa = out.length == 0 ? 0 : st[0][out.length - 1];
    int sb = out.length == 0 ? 0 : st[1][out.length - 1];
    Broadcast.rows(out, st, (o, oo, len) -> apply(code, x, o[0], sa, y, o[1], sb, z, oo, len));
    return Value.ofFloats(out, z);
  }

  /** Below this many values a fast element-wise pass runs on the caller's thread alone. */
  private static final int PARALLEL_MIN = 1 << 15;

  /**
   * True when a tensor of shape {@code b} broadcast to {@code out} repeats whole: {@code b} without
   * its leading ones is the end of {@code out} (the same shape, a vector along the last axis, a
   * scalar, a {@code [seq, hidden]} table added to every batch row).
   */
  private static boolean trailing(long[] b, long[] out) {
    int lead = 0;
    while (lead < b.length && b[lead] == 1) {
      lead++;
    }
    int rest = b.length - lead;
    if (rest > out.length) {
      return false;
    }
    for (int i = 0; i < rest; i++) {
      if (b[lead + i] != out[out.length - rest + i]) {
        return false;
      }
    }
    return true;
  }

  /**
   * {@code z = x op y} for {@code x} of {@code n} values and {@code y} repeated over it (its length
   * divides {@code n}), into an array of the run (every value is written). In a graph run, in
   * chunks of whole repeats on the engine threads once it is large; outside one (an NDArray
   * operation of a translator, say) on the calling thread alone, leaving the pools to the models.
   */
  private static float[] rowsOf(Binary code, float[] x, float[] y, int n) {
    float[] z = ArrayRecycler.floats(n);
    int len = y.length;
    if (ArrayRecycler.current() == null) {
      if (len == n || len == 1) {
        apply(code, x, 0, 1, y, 0, len == 1 ? 0 : 1, z, 0, n);
      } else {
        for (int r = 0; r < n; r += len) {
          apply(code, x, r, 1, y, 0, 1, z, r, len);
        }
      }
      return z;
    }
    if (len == n || len == 1) {
      // the same shape, or a scalar: contiguous chunks
      int chunk = 1 << 14;
      KernelThreads.forEach((n + chunk - 1) / chunk, n >= PARALLEL_MIN ? Long.MAX_VALUE : 0, t -> {
        int from = t * chunk;
        apply(code, x, from, 1, y, len == 1 ? 0 : from, len == 1 ? 0 : 1, z, from, Math.min(chunk, n - from));
      });
      return z;
    }
    int per = Math.max(1, (1 << 14) / len); // whole repeats of y per chunk
    int rows = n / len;
    KernelThreads.forEach((rows + per - 1) / per, n >= PARALLEL_MIN ? Long.MAX_VALUE : 0, t -> {
      for (int r = t * per, end = Math.min(rows, r + per); r < end; r++) {
        apply(code, x, r * len, 1, y, 0, 1, z, r * len, len);
      }
    });
    return z;
  }

  private static void apply(Binary code, float[] x, int xo, int xs, float[] y, int yo, int ys, float[] z, int zo,
      int len) {
    if (xs == 1 && ys == 1 && code.basic()) {
      // contiguous operands: plain loops the JIT vectorizes
      switch (code) {
        case ADD -> {
          for (int i = 0; i < len; i++) {
            z[zo + i] = x[xo + i] + y[yo + i];
          }
        }
        case SUB -> {
          for (int i = 0; i < len; i++) {
            z[zo + i] = x[xo + i] - y[yo + i];
          }
        }
        case MUL -> {
          for (int i = 0; i < len; i++) {
            z[zo + i] = x[xo + i] * y[yo + i];
          }
        }
        default -> {
          for (int i = 0; i < len; i++) {
            z[zo + i] = x[xo + i] / y[yo + i];
          }
        }
      }
      return;
    }
    if (xs == 1 && ys == 0 && code.basic()) {
      float b = y[yo];
      switch (code) {
        case ADD -> {
          for (int i = 0; i < len; i++) {
            z[zo + i] = x[xo + i] + b;
          }
        }
        case SUB -> {
          for (int i = 0; i < len; i++) {
            z[zo + i] = x[xo + i] - b;
          }
        }
        case MUL -> {
          for (int i = 0; i < len; i++) {
            z[zo + i] = x[xo + i] * b;
          }
        }
        default -> {
          for (int i = 0; i < len; i++) {
            z[zo + i] = x[xo + i] / b;
          }
        }
      }
      return;
    }
    switch (code) {
      case ADD -> {
        for (int i = 0; i < len; i++) {
          z[zo + i] = x[xo + i * xs] + y[yo + i * ys];
        }
      }
      case SUB -> {
        for (int i = 0; i < len; i++) {
          z[zo + i] = x[xo + i * xs] - y[yo + i * ys];
        }
      }
      case MUL -> {
        for (int i = 0; i < len; i++) {
          z[zo + i] = x[xo + i * xs] * y[yo + i * ys];
        }
      }
      case DIV -> {
        for (int i = 0; i < len; i++) {
          z[zo + i] = x[xo + i * xs] / y[yo + i * ys];
        }
      }
      case POW -> {
        for (int i = 0; i < len; i++) {
          z[zo + i] = (float) Math.pow(x[xo + i * xs], y[yo + i * ys]);
        }
      }
      case MAX -> {
        for (int i = 0; i < len; i++) {
          z[zo + i] = Math.max(x[xo + i * xs], y[yo + i * ys]);
        }
      }
      default -> {
        for (int i = 0; i < len; i++) {
          z[zo + i] = Math.min(x[xo + i * xs], y[yo + i * ys]);
        }
      }
    }
  }

  private static Value binaryLongs(Binary code, Value a, Value b, long[] out) {
    long[] x = Broadcast.expand(a.longs(), a.shapeRef(), out);
    long[] y = Broadcast.expand(b.longs(), b.shapeRef(), out);
    long[] z = new long[x.length];
    for (int i = 0; i < z.length; i++) {
      z[i] = switch (code) {
        case ADD -> x[i] + y[i];
        case SUB -> x[i] - y[i];
        case MUL -> x[i] * y[i];
        case DIV -> {
          if (y[i] == 0) {
            throw new ArithmeticException("integer division by zero");
          }
          yield x[i] / y[i];
        }
        case POW -> (long) Math.pow(x[i], y[i]);
        case MAX -> Math.max(x[i], y[i]);
        case MIN -> Math.min(x[i], y[i]);
      };
    }
    DType t = a.dtype() == DType.BOOL ? b.dtype() : a.dtype();
    return Value.ofLongs(t, out, z);
  }

  static Value unary(Unary code, Value a) {
    if (!a.isFloating() && (code == Unary.NEG || code == Unary.ABS || code == Unary.RELU)) {
      long[] x = a.longs();
      long[] z = new long[x.length];
      for (int i = 0; i < z.length; i++) {
        z[i] = code == Unary.NEG ? -x[i] : code == Unary.ABS ? Math.abs(x[i]) : Math.max(0, x[i]);
      }
      return Value.ofLongs(a.dtype(), a.shapeRef(), z);
    }
    float[] x = a.floats();
    float[] z = new float[x.length];
    switch (code) {
      case SQRT -> {
        for (int i = 0; i < z.length; i++) {
          z[i] = (float) Math.sqrt(x[i]);
        }
      }
      case ERF -> {
        for (int i = 0; i < z.length; i++) {
          z[i] = erf(x[i]);
        }
      }
      case RELU -> {
        for (int i = 0; i < z.length; i++) {
          z[i] = Math.max(0f, x[i]);
        }
      }
      case TANH -> {
        for (int i = 0; i < z.length; i++) {
          z[i] = (float) Math.tanh(x[i]);
        }
      }
      case SIGMOID -> {
        for (int i = 0; i < z.length; i++) {
          z[i] = (float) (1.0 / (1.0 + Math.exp(-x[i])));
        }
      }
      case NEG -> {
        for (int i = 0; i < z.length; i++) {
          z[i] = -x[i];
        }
      }
      case EXP -> {
        for (int i = 0; i < z.length; i++) {
          z[i] = (float) Math.exp(x[i]);
        }
      }
      case LOG -> {
        for (int i = 0; i < z.length; i++) {
          z[i] = (float) Math.log(x[i]);
        }
      }
      case ABS -> {
        for (int i = 0; i < z.length; i++) {
          z[i] = Math.abs(x[i]);
        }
      }
      default -> {
        for (int i = 0; i < z.length; i++) {
          z[i] = 1f / x[i];
        }
      }
    }
    return Value.ofFloats(a.shapeRef(), z);
  }

  /** The error function ({@link Kernels#erf}). */
  static float erf(float x) {
    return Kernels.erf(x);
  }

  static Value equal(Value a, Value b) {
    return compare(Comparison.EQUAL, a, b);
  }

  /** Element-wise comparison (broadcast) as a BOOL tensor of 0/1. */
  static Value compare(Comparison code, Value a, Value b) {
    long[] out = Broadcast.shape(a.shapeRef(), b.shapeRef());
    long[] z = new long[Broadcast.size(out)];
    if (a.isFloating() || b.isFloating()) {
      float[] x = Broadcast.expand(a.floats(), a.shapeRef(), out);
      float[] y = Broadcast.expand(b.floats(), b.shapeRef(), out);
      for (int i = 0; i < z.length; i++) {
        z[i] = test(code, Float.compare(x[i], y[i]), x[i] == y[i], Float.isNaN(x[i]) || Float.isNaN(y[i])) ? 1 : 0;
      }
    } else {
      long[] x = Broadcast.expand(a.longs(), a.shapeRef(), out);
      long[] y = Broadcast.expand(b.longs(), b.shapeRef(), out);
      for (int i = 0; i < z.length; i++) {
        z[i] = test(code, Long.compare(x[i], y[i]), x[i] == y[i], false) ? 1 : 0;
      }
    }
    return Value.ofLongs(DType.BOOL, out, z);
  }

  private static boolean test(Comparison code, int cmp, boolean eq, boolean nan) {
    if (nan) {
      return code == Comparison.NOT_EQUAL; // every comparison with NaN is false, except "not equal"
    }
    return switch (code) {
      case EQUAL -> eq;
      case NOT_EQUAL -> !eq;
      case GREATER -> cmp > 0 && !eq;
      case GREATER_OR_EQUAL -> cmp >= 0 || eq;
      case LESS -> cmp < 0 && !eq;
      case LESS_OR_EQUAL -> cmp <= 0 || eq;
    };
  }

  static Value where(Value c, Value a, Value b) {
    long[] out = Broadcast.shape(c.shapeRef(), a.shapeRef(), b.shapeRef());
    long[] cond = Broadcast.expand(c.longs(), c.shapeRef(), out);
    if (a.isFloating() || b.isFloating()) {
      float[] x = Broadcast.expand(a.floats(), a.shapeRef(), out);
      float[] y = Broadcast.expand(b.floats(), b.shapeRef(), out);
      float[] z = new float[cond.length];
      for (int i = 0; i < z.length; i++) {
        z[i] = cond[i] != 0 ? x[i] : y[i];
      }
      return Value.ofFloats(out, z);
    }
    long[] x = Broadcast.expand(a.longs(), a.shapeRef(), out);
    long[] y = Broadcast.expand(b.longs(), b.shapeRef(), out);
    long[] z = new long[cond.length];
    for (int i = 0; i < z.length; i++) {
      z[i] = cond[i] != 0 ? x[i] : y[i];
    }
    return Value.ofLongs(a.dtype(), out, z);
  }
}
