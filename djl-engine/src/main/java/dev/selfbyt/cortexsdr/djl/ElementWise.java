package dev.selfbyt.cortexsdr.djl;

import dev.selfbyt.cortexsdr.core.tensor.DType;
import dev.selfbyt.cortexsdr.djl.graph.Value;
import dev.selfbyt.cortexsdr.djl.graph.ValueOps;
import java.util.function.DoubleBinaryOperator;
import java.util.function.DoubleUnaryOperator;
import java.util.function.LongUnaryOperator;

/**
 * Element-wise operators beyond the executor's own ({@code Arith}): rounding, sign and square
 * (which keep an integer array's type), the trigonometric, hyperbolic and logarithm family
 * (computed in double, returned as float32), the NaN/infinity tests and logical operators
 * (BOOL results), {@code mod} (Python's and PyTorch's remainder: the sign of the divisor), {@code
 * atan2} and {@code logSoftmax}. Binary operators broadcast as numpy does.
 */
final class ElementWise {
  private ElementWise() {}

  /** A float32 result of {@code f} on every value. */
  static Value map(Value v, DoubleUnaryOperator f) {
    double[] d = Dense.doubles(v);
    for (int i = 0; i < d.length; i++) {
      d[i] = f.applyAsDouble(d[i]);
    }
    return Dense.floats(v.shape(), d);
  }

  /** {@code f} on floating values, {@code g} on integer values (the type kept). */
  static Value mapKeepingType(Value v, DoubleUnaryOperator f, LongUnaryOperator g) {
    if (v.isFloating()) {
      return map(v, f);
    }
    long[] l = v.longs();
    long[] r = new long[l.length];
    for (int i = 0; i < r.length; i++) {
      r[i] = g.applyAsLong(l[i]);
    }
    return Value.ofLongs(v.dtype() == DType.BOOL ? DType.INT64 : v.dtype(), v.shape(), r);
  }

  static Value floor(Value v) {
    return mapKeepingType(v, Math::floor, x -> x);
  }

  static Value ceil(Value v) {
    return mapKeepingType(v, Math::ceil, x -> x);
  }

  /** Round half to even, as PyTorch and numpy do. */
  static Value round(Value v) {
    return mapKeepingType(v, Math::rint, x -> x);
  }

  static Value trunc(Value v) {
    return mapKeepingType(v, x -> x < 0 ? Math.ceil(x) : Math.floor(x), x -> x);
  }

  static Value sign(Value v) {
    return mapKeepingType(v, x -> Double.isNaN(x) ? x : Math.signum(x), Long::signum);
  }

  static Value square(Value v) {
    return mapKeepingType(v, x -> x * x, x -> x * x);
  }

  /** A BOOL array: {@code test} on every value. */
  static Value test(Value v, java.util.function.DoublePredicate test) {
    double[] d = Dense.doubles(v);
    boolean[] b = new boolean[d.length];
    for (int i = 0; i < d.length; i++) {
      b[i] = test.test(d[i]);
    }
    return Dense.bools(v.shape(), b);
  }

  /** numpy's broadcast shape of two shapes, or an error naming both. */
  static long[] broadcastShape(long[] a, long[] b) {
    int r = Math.max(a.length, b.length);
    long[] out = new long[r];
    for (int i = 0; i < r; i++) {
      long x = i < r - a.length ? 1 : a[i - (r - a.length)];
      long y = i < r - b.length ? 1 : b[i - (r - b.length)];
      if (x != y && x != 1 && y != 1) {
        throw new IllegalArgumentException("shapes " + java.util.Arrays.toString(a) + " and "
            + java.util.Arrays.toString(b) + " do not broadcast");
      }
      out[i] = x == 1 ? y : x;
    }
    return out;
  }

  /** {@code f(a, b)} broadcast, as doubles; {@code a} and {@code b} expanded to the common shape. */
  private static double[][] expanded(Value a, Value b, long[] out) {
    return new double[][] {Dense.doubles(ValueOps.broadcast(a, out)), Dense.doubles(ValueOps.broadcast(b, out))};
  }

  static Value logical(Value a, Value b, String op) {
    long[] out = broadcastShape(a.shape(), b.shape());
    double[][] x = expanded(a, b, out);
    boolean[] r = new boolean[x[0].length];
    for (int i = 0; i < r.length; i++) {
      boolean p = x[0][i] != 0;
      boolean q = x[1][i] != 0;
      r[i] = switch (op) {
        case "and" -> p && q;
        case "or" -> p || q;
        default -> p ^ q;
      };
    }
    return Dense.bools(out, r);
  }

  static Value logicalNot(Value v) {
    return test(v, x -> x == 0);
  }

  /** {@code f(a, b)} broadcast, float32 result. */
  static Value binary(Value a, Value b, DoubleBinaryOperator f) {
    long[] out = broadcastShape(a.shape(), b.shape());
    double[][] x = expanded(a, b, out);
    double[] r = new double[x[0].length];
    for (int i = 0; i < r.length; i++) {
      r[i] = f.applyAsDouble(x[0][i], x[1][i]);
    }
    return Dense.floats(out, r);
  }

  /** The remainder with the divisor's sign; integers stay integers (division by zero is an error there). */
  static Value mod(Value a, Value b) {
    if (!a.isFloating() && !b.isFloating()) {
      long[] out = broadcastShape(a.shape(), b.shape());
      long[] x = ValueOps.broadcast(a, out).longs();
      long[] y = ValueOps.broadcast(b, out).longs();
      long[] r = new long[x.length];
      for (int i = 0; i < r.length; i++) {
        if (y[i] == 0) {
          throw new ArithmeticException("mod: integer division by zero at position " + i);
        }
        r[i] = Math.floorMod(x[i], y[i]);
      }
      return Value.ofLongs(a.dtype(), out, r);
    }
    return binary(a, b, (x, y) -> x - Math.floor(x / y) * y);
  }

  /**
   * {@code exp(x - max) / sum} along {@code axis} with {@code Math.exp} and a double sum: exact to
   * float32 rounding however long the axis (a 30,522-token vocabulary row summed in float32 is
   * off by about 4e-4).
   */
  static Value softmax(Value v, int axis) {
    Value log = logSoftmax(v, axis);
    return v.rank() == 0 ? Value.ofFloats(new long[0], new float[] {1f}) : map(log, Math::exp);
  }

  /** {@code x - log(sum(exp(x)))} along {@code axis}, with the maximum subtracted first so it cannot overflow. */
  static Value logSoftmax(Value v, int axis) {
    if (v.rank() == 0) {
      return Value.ofFloats(new long[0], new float[] {0f});
    }
    int a = Dense.axis(axis, v.rank());
    long[] shape = v.shape();
    int n = (int) shape[a];
    int outer = Dense.outer(shape, a);
    int inner = Dense.inner(shape, a);
    double[] d = Dense.doubles(v);
    for (int o = 0; o < outer; o++) {
      for (int i = 0; i < inner; i++) {
        int base = o * n * inner + i;
        double max = Double.NEGATIVE_INFINITY;
        for (int j = 0; j < n; j++) {
          max = Math.max(max, d[base + j * inner]);
        }
        double sum = 0;
        for (int j = 0; j < n; j++) {
          sum += Math.exp(d[base + j * inner] - max);
        }
        double log = max + Math.log(sum);
        for (int j = 0; j < n; j++) {
          d[base + j * inner] -= log;
        }
      }
    }
    return Dense.floats(shape, d);
  }

  /** {@code log(|Gamma(x)|)} by the Lanczos approximation (g = 7, 9 terms; about 15 digits), with the reflection formula below 0.5. */
  static double logGamma(double x) {
    if (x < 0.5) {
      return Math.log(Math.PI / Math.abs(Math.sin(Math.PI * x))) - logGamma(1 - x);
    }
    double[] c = {0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313,
        -176.61502916214059, 12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7};
    double y = x - 1;
    double a = c[0];
    double t = y + 7.5;
    for (int i = 1; i < 9; i++) {
      a += c[i] / (y + i);
    }
    return 0.5 * Math.log(2 * Math.PI) + (y + 0.5) * Math.log(t) - t + Math.log(a);
  }

  /** {@code x * log(y)}, 0 where {@code x} is 0 (PyTorch's xlogy). */
  static Value xlogy(Value x, Value y) {
    return binary(x, y, (a, b) -> a == 0 && !Double.isNaN(b) ? 0 : a * Math.log(b));
  }

  /** erf in double by its Taylor series: converges for every |x| used here (|x| <= 6), exact to about 1e-10. */
  static double erf(double x) {
    if (Math.abs(x) > 6) {
      return Math.signum(x);
    }
    double sum = 0;
    double term = x; // (-1)^n x^(2n+1) / n!
    for (int n = 0; n < 200 && Math.abs(term) > 1e-17 * Math.max(1, Math.abs(sum)); n++) {
      sum += term / (2 * n + 1);
      term *= -x * x / (n + 1);
    }
    return 2 / Math.sqrt(Math.PI) * sum;
  }

  /**
   * The inverse error function: Giles' polynomial approximation ("Approximating the erfinv
   * function", GPU Computing Gems, 2011) refined by two Newton steps on {@link #erf}; +-infinity at
   * +-1, NaN outside [-1, 1].
   */
  static double erfinv(double x) {
    if (Double.isNaN(x) || Math.abs(x) > 1) {
      return Double.NaN;
    }
    if (Math.abs(x) == 1) {
      return x * Double.POSITIVE_INFINITY;
    }
    double w = -Math.log((1 - x) * (1 + x));
    double p;
    if (w < 5) {
      w -= 2.5;
      p = 2.81022636e-08;
      for (double c : new double[] {3.43273939e-07, -3.5233877e-06, -4.39150654e-06, 0.00021858087,
          -0.00125372503, -0.00417768164, 0.246640727, 1.50140941}) {
        p = c + p * w;
      }
    } else {
      w = Math.sqrt(w) - 3;
      p = -0.000200214257;
      for (double c : new double[] {0.000100950558, 0.00134934322, -0.00367342844, 0.00573950773,
          -0.0076224613, 0.00943887047, 1.00167406, 2.83297682}) {
        p = c + p * w;
      }
    }
    double y = p * x;
    for (int i = 0; i < 2; i++) {
      y -= (erf(y) - x) / (2 / Math.sqrt(Math.PI) * Math.exp(-y * y));
    }
    return y;
  }
}
