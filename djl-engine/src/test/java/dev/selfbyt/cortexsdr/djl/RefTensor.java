package dev.selfbyt.cortexsdr.djl;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.DoubleBinaryOperator;

/**
 * A plain-Java n-dimensional array of doubles addressed by coordinates, for writing the reference
 * results of the NDArray operator tests straight from their definitions (loop over output
 * coordinates, read input coordinates), independent of the engine's flat-index arithmetic.
 */
final class RefTensor {
  final long[] shape;
  final double[] data;

  RefTensor(long[] shape, double[] data) {
    this.shape = shape.clone();
    this.data = data;
    if (size(shape) != data.length) {
      throw new IllegalArgumentException(data.length + " values for " + Arrays.toString(shape));
    }
  }

  static RefTensor of(float[] f, long... shape) {
    double[] d = new double[f.length];
    for (int i = 0; i < f.length; i++) {
      d[i] = f[i];
    }
    return new RefTensor(shape, d);
  }

  static int size(long[] shape) {
    long n = 1;
    for (long s : shape) {
      n *= s;
    }
    return (int) n;
  }

  int rank() {
    return shape.length;
  }

  /** Every coordinate of {@code shape} in row-major order. */
  static List<int[]> coordinates(long[] shape) {
    List<int[]> out = new ArrayList<>();
    int[] c = new int[shape.length];
    int n = size(shape);
    for (int i = 0; i < n; i++) {
      out.add(c.clone());
      for (int k = shape.length - 1; k >= 0; k--) {
        if (++c[k] < shape[k]) {
          break;
        }
        c[k] = 0;
      }
    }
    return out;
  }

  double at(int... c) {
    int flat = 0;
    for (int k = 0; k < shape.length; k++) {
      flat = flat * (int) shape[k] + c[k];
    }
    return data[flat];
  }

  float[] floats() {
    float[] f = new float[data.length];
    for (int i = 0; i < f.length; i++) {
      f[i] = (float) data[i];
    }
    return f;
  }

  static int norm(int axis, int rank) {
    return axis < 0 ? axis + rank : axis;
  }

  /** {@code op}-folds the values over {@code axes} (all when null), starting from {@code init}. */
  RefTensor fold(int[] axes, boolean keepDims, double init, DoubleBinaryOperator op) {
    boolean[] reduced = new boolean[rank()];
    if (axes == null) {
      Arrays.fill(reduced, true);
    } else {
      for (int a : axes) {
        reduced[norm(a, rank())] = true;
      }
    }
    List<Long> kept = new ArrayList<>();
    long[] keptShape = new long[rank()];
    for (int k = 0; k < rank(); k++) {
      keptShape[k] = reduced[k] ? 1 : shape[k];
      if (!reduced[k] || keepDims) {
        kept.add(keptShape[k]);
      }
    }
    List<int[]> outCoords = coordinates(keptShape);
    double[] out = new double[outCoords.size()];
    for (int o = 0; o < out.length; o++) {
      double acc = init;
      for (int[] c : coordinates(shape)) {
        boolean match = true;
        for (int k = 0; k < rank() && match; k++) {
          match = reduced[k] || c[k] == outCoords.get(o)[k];
        }
        if (match) {
          acc = op.applyAsDouble(acc, at(c));
        }
      }
      out[o] = acc;
    }
    return new RefTensor(kept.stream().mapToLong(Long::longValue).toArray(), out);
  }

  /** The values of the fiber along {@code axis} through coordinate {@code c} (its {@code axis} entry ignored). */
  double[] fiber(int[] c, int axis) {
    double[] f = new double[(int) shape[axis]];
    int[] p = c.clone();
    for (int j = 0; j < f.length; j++) {
      p[axis] = j;
      f[j] = at(p);
    }
    return f;
  }
}
