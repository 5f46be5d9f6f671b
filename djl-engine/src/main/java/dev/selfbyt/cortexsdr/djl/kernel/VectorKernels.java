package dev.selfbyt.cortexsdr.djl.kernel;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Java Vector API kernels at the JVM's preferred width. Loaded only by {@link Kernels} after it
 * found the {@code jdk.incubator.vector} module; never referenced directly.
 */
final class VectorKernels extends Kernels {
  private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
  private static final int L = S.length();
  private static final int PANEL = QuantMatrix.PANEL;
  /** 512-bit vectors (AVX-512: 32 registers) take the 12- and 8-row blocks; narrower ones 6 rows. */
  private static final boolean WIDE = S.vectorBitSize() >= 512;
  /** As many bytes as {@link #S} has floats. */
  private static final VectorSpecies<Byte> B = VectorSpecies.of(byte.class,
      jdk.incubator.vector.VectorShape.forBitSize(Math.max(64, S.length() * 8)));

  @Override
  public String name() {
    return "vector (" + S.vectorBitSize() + "-bit)";
  }

  /**
   * Register blocks of rows by 2 vectors of columns: per step along {@code k}, two panel loads, one
   * broadcast per row and two fused multiply-adds per row into accumulators that are stored once,
   * with no horizontal sums. Blocks of 12 and 8 rows when the panel is packed ({@code ldp ==}
   * {@value QuantMatrix#PANEL}, how {@link MatMul} hands in every product of 8 rows or more), 4 and 1
   * otherwise.
   */
  @Override
  public void gemmPanel(float[] x, int xOff, int m, int k, float[] p, int pOff, int ldp, int nb, float[] y, int yOff,
      int ldy, float[] bias, int bOff) {
    int j = 0;
    for (; j + 2 * L <= nb; j += 2 * L) {
      int i = 0;
      if (ldp == PANEL && WIDE) {
        // the engine's products hand in packed panels: the large register blocks
        for (; i + 11 < m; i += 12) {
          block12x2(x, xOff + i * k, k, p, pOff + j, y, yOff + i * ldy + j, ldy, bias, bOff + j);
        }
        for (; i + 7 < m; i += 8) {
          block8x2(x, xOff + i * k, k, p, pOff + j, y, yOff + i * ldy + j, ldy, bias, bOff + j);
        }
      } else if (ldp == PANEL) {
        for (; i + 5 < m; i += 6) {
          block6x2(x, xOff + i * k, k, p, pOff + j, y, yOff + i * ldy + j, ldy, bias, bOff + j);
        }
      }
      for (; i + 3 < m; i += 4) {
        block4x2(x, xOff + i * k, k, p, pOff + j, ldp, y, yOff + i * ldy + j, ldy, bias, bOff + j);
      }
      for (; i < m; i++) {
        block1x2(x, xOff + i * k, k, p, pOff + j, ldp, y, yOff + i * ldy + j, bias, bOff + j);
      }
    }
    for (; j + L <= nb; j += L) {
      for (int i = 0; i < m; i++) {
        FloatVector c = bias == null ? FloatVector.zero(S) : FloatVector.fromArray(S, bias, bOff + j);
        int xr = xOff + i * k;
        for (int kk = 0, pk = pOff + j; kk < k; kk++, pk += ldp) {
          c = FloatVector.broadcast(S, x[xr + kk]).fma(FloatVector.fromArray(S, p, pk), c);
        }
        c.intoArray(y, yOff + i * ldy + j);
      }
    }
    if (j < nb) {
      for (int i = 0; i < m; i++) {
        int yr = yOff + i * ldy;
        for (int jj = j; jj < nb; jj++) {
          y[yr + jj] = bias == null ? 0f : bias[bOff + jj];
        }
        int xr = xOff + i * k;
        for (int kk = 0; kk < k; kk++) {
          float a = x[xr + kk];
          int pr = pOff + kk * ldp;
          for (int jj = j; jj < nb; jj++) {
            y[yr + jj] += a * p[pr + jj];
          }
        }
      }
    }
  }

  /**
   * Twelve rows by two vectors of a packed panel: 24 accumulators (of 32 registers with AVX-512),
   * per step two panel loads, twelve broadcasts, 24 fused multiply-adds. The panel's row stride is
   * the constant {@value QuantMatrix#PANEL}, so the JIT hoists the bounds checks out of the loop
   * (64 against 95 GFLOP/s on one thread with a variable stride).
   */
  private static void block12x2(float[] x, int x0, int k, float[] p, int p0, float[] y, int y0, int ldy,
      float[] bias, int bo) {
    FloatVector z0 = bias == null ? FloatVector.zero(S) : FloatVector.fromArray(S, bias, bo);
    FloatVector z1 = bias == null ? FloatVector.zero(S) : FloatVector.fromArray(S, bias, bo + L);
    FloatVector c00 = z0, c01 = z1, c10 = z0, c11 = z1, c20 = z0, c21 = z1;
    FloatVector c30 = z0, c31 = z1, c40 = z0, c41 = z1, c50 = z0, c51 = z1;
    FloatVector c60 = z0, c61 = z1, c70 = z0, c71 = z1, c80 = z0, c81 = z1;
    FloatVector c90 = z0, c91 = z1, c100 = z0, c101 = z1, c110 = z0, c111 = z1;
    for (int kk = 0, pk = p0; kk < k; kk++, pk += PANEL) {
      FloatVector b0 = FloatVector.fromArray(S, p, pk);
      FloatVector b1 = FloatVector.fromArray(S, p, pk + L);
      int xi = x0 + kk;
      FloatVector a;
      a = FloatVector.broadcast(S, x[xi]);
      c00 = a.fma(b0, c00);
      c01 = a.fma(b1, c01);
      a = FloatVector.broadcast(S, x[xi + 1 * k]);
      c10 = a.fma(b0, c10);
      c11 = a.fma(b1, c11);
      a = FloatVector.broadcast(S, x[xi + 2 * k]);
      c20 = a.fma(b0, c20);
      c21 = a.fma(b1, c21);
      a = FloatVector.broadcast(S, x[xi + 3 * k]);
      c30 = a.fma(b0, c30);
      c31 = a.fma(b1, c31);
      a = FloatVector.broadcast(S, x[xi + 4 * k]);
      c40 = a.fma(b0, c40);
      c41 = a.fma(b1, c41);
      a = FloatVector.broadcast(S, x[xi + 5 * k]);
      c50 = a.fma(b0, c50);
      c51 = a.fma(b1, c51);
      a = FloatVector.broadcast(S, x[xi + 6 * k]);
      c60 = a.fma(b0, c60);
      c61 = a.fma(b1, c61);
      a = FloatVector.broadcast(S, x[xi + 7 * k]);
      c70 = a.fma(b0, c70);
      c71 = a.fma(b1, c71);
      a = FloatVector.broadcast(S, x[xi + 8 * k]);
      c80 = a.fma(b0, c80);
      c81 = a.fma(b1, c81);
      a = FloatVector.broadcast(S, x[xi + 9 * k]);
      c90 = a.fma(b0, c90);
      c91 = a.fma(b1, c91);
      a = FloatVector.broadcast(S, x[xi + 10 * k]);
      c100 = a.fma(b0, c100);
      c101 = a.fma(b1, c101);
      a = FloatVector.broadcast(S, x[xi + 11 * k]);
      c110 = a.fma(b0, c110);
      c111 = a.fma(b1, c111);
    }
    c00.intoArray(y, y0);
    c01.intoArray(y, y0 + L);
    c10.intoArray(y, y0 + 1 * ldy);
    c11.intoArray(y, y0 + 1 * ldy + L);
    c20.intoArray(y, y0 + 2 * ldy);
    c21.intoArray(y, y0 + 2 * ldy + L);
    c30.intoArray(y, y0 + 3 * ldy);
    c31.intoArray(y, y0 + 3 * ldy + L);
    c40.intoArray(y, y0 + 4 * ldy);
    c41.intoArray(y, y0 + 4 * ldy + L);
    c50.intoArray(y, y0 + 5 * ldy);
    c51.intoArray(y, y0 + 5 * ldy + L);
    c60.intoArray(y, y0 + 6 * ldy);
    c61.intoArray(y, y0 + 6 * ldy + L);
    c70.intoArray(y, y0 + 7 * ldy);
    c71.intoArray(y, y0 + 7 * ldy + L);
    c80.intoArray(y, y0 + 8 * ldy);
    c81.intoArray(y, y0 + 8 * ldy + L);
    c90.intoArray(y, y0 + 9 * ldy);
    c91.intoArray(y, y0 + 9 * ldy + L);
    c100.intoArray(y, y0 + 10 * ldy);
    c101.intoArray(y, y0 + 10 * ldy + L);
    c110.intoArray(y, y0 + 11 * ldy);
    c111.intoArray(y, y0 + 11 * ldy + L);
  }

  /**
   * Six rows by two vectors of a packed panel: the 12 accumulators, two panel vectors and a
   * broadcast fit the 16 registers of AVX2, where the 24 of {@link #block12x2} cannot.
   */
  private static void block6x2(float[] x, int x0, int k, float[] p, int p0, float[] y, int y0, int ldy,
      float[] bias, int bo) {
    FloatVector z0 = bias == null ? FloatVector.zero(S) : FloatVector.fromArray(S, bias, bo);
    FloatVector z1 = bias == null ? FloatVector.zero(S) : FloatVector.fromArray(S, bias, bo + L);
    FloatVector c00 = z0, c01 = z1, c10 = z0, c11 = z1, c20 = z0, c21 = z1;
    FloatVector c30 = z0, c31 = z1, c40 = z0, c41 = z1, c50 = z0, c51 = z1;
    for (int kk = 0, pk = p0; kk < k; kk++, pk += PANEL) {
      FloatVector b0 = FloatVector.fromArray(S, p, pk);
      FloatVector b1 = FloatVector.fromArray(S, p, pk + L);
      int xi = x0 + kk;
      FloatVector a = FloatVector.broadcast(S, x[xi]);
      c00 = a.fma(b0, c00);
      c01 = a.fma(b1, c01);
      a = FloatVector.broadcast(S, x[xi += k]);
      c10 = a.fma(b0, c10);
      c11 = a.fma(b1, c11);
      a = FloatVector.broadcast(S, x[xi += k]);
      c20 = a.fma(b0, c20);
      c21 = a.fma(b1, c21);
      a = FloatVector.broadcast(S, x[xi += k]);
      c30 = a.fma(b0, c30);
      c31 = a.fma(b1, c31);
      a = FloatVector.broadcast(S, x[xi += k]);
      c40 = a.fma(b0, c40);
      c41 = a.fma(b1, c41);
      a = FloatVector.broadcast(S, x[xi + k]);
      c50 = a.fma(b0, c50);
      c51 = a.fma(b1, c51);
    }
    int yy = y0;
    c00.intoArray(y, yy);
    c01.intoArray(y, yy + L);
    c10.intoArray(y, yy += ldy);
    c11.intoArray(y, yy + L);
    c20.intoArray(y, yy += ldy);
    c21.intoArray(y, yy + L);
    c30.intoArray(y, yy += ldy);
    c31.intoArray(y, yy + L);
    c40.intoArray(y, yy += ldy);
    c41.intoArray(y, yy + L);
    c50.intoArray(y, yy += ldy);
    c51.intoArray(y, yy + L);
  }

  /** Eight rows by two vectors of a packed panel, for what is left of twelve-row blocks. */
  private static void block8x2(float[] x, int x0, int k, float[] p, int p0, float[] y, int y0, int ldy,
      float[] bias, int bo) {
    FloatVector z0 = bias == null ? FloatVector.zero(S) : FloatVector.fromArray(S, bias, bo);
    FloatVector z1 = bias == null ? FloatVector.zero(S) : FloatVector.fromArray(S, bias, bo + L);
    FloatVector c00 = z0, c01 = z1, c10 = z0, c11 = z1, c20 = z0, c21 = z1, c30 = z0, c31 = z1;
    FloatVector c40 = z0, c41 = z1, c50 = z0, c51 = z1, c60 = z0, c61 = z1, c70 = z0, c71 = z1;
    for (int kk = 0, pk = p0; kk < k; kk++, pk += PANEL) {
      FloatVector b0 = FloatVector.fromArray(S, p, pk);
      FloatVector b1 = FloatVector.fromArray(S, p, pk + L);
      int xi = x0 + kk;
      FloatVector a = FloatVector.broadcast(S, x[xi]);
      c00 = a.fma(b0, c00);
      c01 = a.fma(b1, c01);
      a = FloatVector.broadcast(S, x[xi += k]);
      c10 = a.fma(b0, c10);
      c11 = a.fma(b1, c11);
      a = FloatVector.broadcast(S, x[xi += k]);
      c20 = a.fma(b0, c20);
      c21 = a.fma(b1, c21);
      a = FloatVector.broadcast(S, x[xi += k]);
      c30 = a.fma(b0, c30);
      c31 = a.fma(b1, c31);
      a = FloatVector.broadcast(S, x[xi += k]);
      c40 = a.fma(b0, c40);
      c41 = a.fma(b1, c41);
      a = FloatVector.broadcast(S, x[xi += k]);
      c50 = a.fma(b0, c50);
      c51 = a.fma(b1, c51);
      a = FloatVector.broadcast(S, x[xi += k]);
      c60 = a.fma(b0, c60);
      c61 = a.fma(b1, c61);
      a = FloatVector.broadcast(S, x[xi + k]);
      c70 = a.fma(b0, c70);
      c71 = a.fma(b1, c71);
    }
    int yy = y0;
    c00.intoArray(y, yy);
    c01.intoArray(y, yy + L);
    c10.intoArray(y, yy += ldy);
    c11.intoArray(y, yy + L);
    c20.intoArray(y, yy += ldy);
    c21.intoArray(y, yy + L);
    c30.intoArray(y, yy += ldy);
    c31.intoArray(y, yy + L);
    c40.intoArray(y, yy += ldy);
    c41.intoArray(y, yy + L);
    c50.intoArray(y, yy += ldy);
    c51.intoArray(y, yy + L);
    c60.intoArray(y, yy += ldy);
    c61.intoArray(y, yy + L);
    c70.intoArray(y, yy += ldy);
    c71.intoArray(y, yy + L);
  }

  /** Four rows by two vectors at any row stride. */
  private static void block4x2(float[] x, int x0, int k, float[] p, int p0, int ldp, float[] y, int y0, int ldy,
      float[] bias, int bo) {
    FloatVector z0 = bias == null ? FloatVector.zero(S) : FloatVector.fromArray(S, bias, bo);
    FloatVector z1 = bias == null ? FloatVector.zero(S) : FloatVector.fromArray(S, bias, bo + L);
    FloatVector c00 = z0, c01 = z1, c10 = z0, c11 = z1, c20 = z0, c21 = z1, c30 = z0, c31 = z1;
    int x1 = x0 + k, x2 = x1 + k, x3 = x2 + k;
    for (int kk = 0, pk = p0; kk < k; kk++, pk += ldp) {
      FloatVector b0 = FloatVector.fromArray(S, p, pk);
      FloatVector b1 = FloatVector.fromArray(S, p, pk + L);
      FloatVector a = FloatVector.broadcast(S, x[x0 + kk]);
      c00 = a.fma(b0, c00);
      c01 = a.fma(b1, c01);
      a = FloatVector.broadcast(S, x[x1 + kk]);
      c10 = a.fma(b0, c10);
      c11 = a.fma(b1, c11);
      a = FloatVector.broadcast(S, x[x2 + kk]);
      c20 = a.fma(b0, c20);
      c21 = a.fma(b1, c21);
      a = FloatVector.broadcast(S, x[x3 + kk]);
      c30 = a.fma(b0, c30);
      c31 = a.fma(b1, c31);
    }
    c00.intoArray(y, y0);
    c01.intoArray(y, y0 + L);
    c10.intoArray(y, y0 + ldy);
    c11.intoArray(y, y0 + ldy + L);
    c20.intoArray(y, y0 + 2 * ldy);
    c21.intoArray(y, y0 + 2 * ldy + L);
    c30.intoArray(y, y0 + 3 * ldy);
    c31.intoArray(y, y0 + 3 * ldy + L);
  }

  private static void block1x2(float[] x, int x0, int k, float[] p, int p0, int ldp, float[] y, int y0, float[] bias,
      int bo) {
    FloatVector c0 = bias == null ? FloatVector.zero(S) : FloatVector.fromArray(S, bias, bo);
    FloatVector c1 = bias == null ? FloatVector.zero(S) : FloatVector.fromArray(S, bias, bo + L);
    for (int kk = 0, pk = p0; kk < k; kk++, pk += ldp) {
      FloatVector a = FloatVector.broadcast(S, x[x0 + kk]);
      c0 = a.fma(FloatVector.fromArray(S, p, pk), c0);
      c1 = a.fma(FloatVector.fromArray(S, p, pk + L), c1);
    }
    c0.intoArray(y, y0);
    c1.intoArray(y, y0 + L);
  }

  @Override
  public void gemmRows(float[] x, int xOff, int m, int k, float[] w, int wOff, int nb, float[] y, int yOff, int ldy) {
    int kv = k - k % L;
    int i = 0;
    for (; i + 3 < m; i += 4) {
      int x0 = xOff + i * k;
      int j = 0;
      for (; j + 3 < nb; j += 4) {
        block4x4(x, x0, k, kv, w, wOff + j * k, y, yOff + i * ldy + j, ldy);
      }
      for (; j < nb; j++) {
        for (int r = 0; r < 4; r++) {
          y[yOff + (i + r) * ldy + j] = dot(x, x0 + r * k, w, wOff + j * k, k);
        }
      }
    }
    for (; i < m; i++) {
      int x0 = xOff + i * k;
      int j = 0;
      for (; j + 3 < nb; j += 4) {
        block1x4(x, x0, k, kv, w, wOff + j * k, y, yOff + i * ldy + j);
      }
      for (; j < nb; j++) {
        y[yOff + i * ldy + j] = dot(x, x0, w, wOff + j * k, k);
      }
    }
  }

  private static void block4x4(float[] x, int x0, int k, int kv, float[] w, int w0, float[] y, int y0, int ldy) {
    FloatVector c00 = FloatVector.zero(S), c01 = c00, c02 = c00, c03 = c00;
    FloatVector c10 = c00, c11 = c00, c12 = c00, c13 = c00;
    FloatVector c20 = c00, c21 = c00, c22 = c00, c23 = c00;
    FloatVector c30 = c00, c31 = c00, c32 = c00, c33 = c00;
    int x1 = x0 + k, x2 = x1 + k, x3 = x2 + k;
    int w1 = w0 + k, w2 = w1 + k, w3 = w2 + k;
    for (int kk = 0; kk < kv; kk += L) {
      FloatVector b0 = FloatVector.fromArray(S, w, w0 + kk);
      FloatVector b1 = FloatVector.fromArray(S, w, w1 + kk);
      FloatVector b2 = FloatVector.fromArray(S, w, w2 + kk);
      FloatVector b3 = FloatVector.fromArray(S, w, w3 + kk);
      FloatVector a = FloatVector.fromArray(S, x, x0 + kk);
      c00 = a.fma(b0, c00);
      c01 = a.fma(b1, c01);
      c02 = a.fma(b2, c02);
      c03 = a.fma(b3, c03);
      a = FloatVector.fromArray(S, x, x1 + kk);
      c10 = a.fma(b0, c10);
      c11 = a.fma(b1, c11);
      c12 = a.fma(b2, c12);
      c13 = a.fma(b3, c13);
      a = FloatVector.fromArray(S, x, x2 + kk);
      c20 = a.fma(b0, c20);
      c21 = a.fma(b1, c21);
      c22 = a.fma(b2, c22);
      c23 = a.fma(b3, c23);
      a = FloatVector.fromArray(S, x, x3 + kk);
      c30 = a.fma(b0, c30);
      c31 = a.fma(b1, c31);
      c32 = a.fma(b2, c32);
      c33 = a.fma(b3, c33);
    }
    store(y, y0, c00, c01, c02, c03, x, x0, w, w0, w1, w2, w3, kv, k);
    store(y, y0 + ldy, c10, c11, c12, c13, x, x1, w, w0, w1, w2, w3, kv, k);
    store(y, y0 + 2 * ldy, c20, c21, c22, c23, x, x2, w, w0, w1, w2, w3, kv, k);
    store(y, y0 + 3 * ldy, c30, c31, c32, c33, x, x3, w, w0, w1, w2, w3, kv, k);
  }

  private static void block1x4(float[] x, int x0, int k, int kv, float[] w, int w0, float[] y, int y0) {
    FloatVector c0 = FloatVector.zero(S), c1 = c0, c2 = c0, c3 = c0;
    int w1 = w0 + k, w2 = w1 + k, w3 = w2 + k;
    for (int kk = 0; kk < kv; kk += L) {
      FloatVector a = FloatVector.fromArray(S, x, x0 + kk);
      c0 = a.fma(FloatVector.fromArray(S, w, w0 + kk), c0);
      c1 = a.fma(FloatVector.fromArray(S, w, w1 + kk), c1);
      c2 = a.fma(FloatVector.fromArray(S, w, w2 + kk), c2);
      c3 = a.fma(FloatVector.fromArray(S, w, w3 + kk), c3);
    }
    store(y, y0, c0, c1, c2, c3, x, x0, w, w0, w1, w2, w3, kv, k);
  }

  /** Sums the lanes, adds the scalar tail {@code [kv, k)}, stores four outputs. */
  private static void store(float[] y, int y0, FloatVector c0, FloatVector c1, FloatVector c2, FloatVector c3,
      float[] x, int xr, float[] w, int w0, int w1, int w2, int w3, int kv, int k) {
    float s0 = c0.reduceLanes(VectorOperators.ADD);
    float s1 = c1.reduceLanes(VectorOperators.ADD);
    float s2 = c2.reduceLanes(VectorOperators.ADD);
    float s3 = c3.reduceLanes(VectorOperators.ADD);
    for (int kk = kv; kk < k; kk++) {
      float a = x[xr + kk];
      s0 += a * w[w0 + kk];
      s1 += a * w[w1 + kk];
      s2 += a * w[w2 + kk];
      s3 += a * w[w3 + kk];
    }
    y[y0] = s0;
    y[y0 + 1] = s1;
    y[y0 + 2] = s2;
    y[y0 + 3] = s3;
  }

  @Override
  public void dequant8(byte[] codes, int off, int len, float scale, float zero, float[] dst, int dOff) {
    int lv = len - len % L;
    FloatVector sv = FloatVector.broadcast(S, scale);
    FloatVector bias = FloatVector.broadcast(S, (128f - zero) * scale);
    int i = 0;
    for (; i < lv; i += L) {
      FloatVector q = (FloatVector) ByteVector.fromArray(B, codes, off + i).lanewise(VectorOperators.XOR, (byte) 0x80)
          .convertShape(VectorOperators.B2F, S, 0);
      q.fma(sv, bias).intoArray(dst, dOff + i);
    }
    for (; i < len; i++) {
      dst[dOff + i] = ((codes[off + i] & 0xff) - zero) * scale;
    }
  }

  /** Bytes of a vector the size of {@link #S}: four per float lane, read as one int per lane. */
  private static final VectorSpecies<Byte> B4 = VectorSpecies.of(byte.class, S.vectorShape());

  @Override
  void rangeF32(float[] x, int off, int len, float[] mm) {
    int lv = len - len % L;
    FloatVector min = FloatVector.zero(S);
    FloatVector max = FloatVector.zero(S);
    int i = 0;
    for (; i < lv; i += L) {
      FloatVector v = FloatVector.fromArray(S, x, off + i);
      v = v.blend(0f, v.test(VectorOperators.IS_NAN)); // NaN ignored: 0 is inside the range already
      min = min.min(v);
      max = max.max(v);
    }
    float mn = min.reduceLanes(VectorOperators.MIN);
    float mx = max.reduceLanes(VectorOperators.MAX);
    for (; i < len; i++) {
      float v = x[off + i];
      mn = v < mn ? v : mn;
      mx = v > mx ? v : mx;
    }
    mm[0] = mn;
    mm[1] = mx;
  }

  @Override
  public void quantizeCentered(float[] x, int off, int len, float scale, int zp, float[] dst, int dOff) {
    int lv = len - len % L;
    float z = zp;
    FloatVector sv = FloatVector.broadcast(S, scale);
    int i = 0;
    for (; i < lv; i += L) {
      FloatVector v = FloatVector.fromArray(S, x, off + i).div(sv).max(-512f).min(512f);
      FloatVector r = v.add(ROUND_HALF_EVEN).sub(ROUND_HALF_EVEN).add(z).max(0f).min(255f);
      r.blend(0f, r.test(VectorOperators.IS_NAN)).sub(z).intoArray(dst, dOff + i);
    }
    if (i < len) {
      super.quantizeCentered(x, off + i, len - i, scale, zp, dst, dOff + i);
    }
  }

  @Override
  public void decodeS8Panel(byte[] codes, int off, int kp, float[] scale, float[] dst, int dOff) {
    int p = QuantMatrix.PANEL;
    if (p % L != 0) {
      super.decodeS8Panel(codes, off, kp, scale, dst, dOff);
      return;
    }
    for (int j = 0; j < p; j += L) {
      FloatVector sv = FloatVector.fromArray(S, scale, j);
      for (int q = 0; q < kp / 4; q++) {
        int d = dOff + 4 * q * p + j;
        // one int per column: its four bytes are the group's four depths, little-endian
        IntVector g = ByteVector.fromArray(B4, codes, off + q * 4 * p + 4 * j).reinterpretAsInts();
        for (int u = 0; u < 4; u++) {
          ((FloatVector) g.lanewise(VectorOperators.LSHL, 24 - 8 * u).lanewise(VectorOperators.ASHR, 24)
              .convert(VectorOperators.I2F, 0)).mul(sv).intoArray(dst, d + u * p);
        }
      }
    }
  }

  @Override
  public float dotS8(float[] x, int xOff, byte[] codes, int cOff, int len) {
    int lv = len - len % L;
    FloatVector acc = FloatVector.zero(S);
    int i = 0;
    for (; i < lv; i += L) {
      FloatVector q = (FloatVector) ByteVector.fromArray(B, codes, cOff + i).lanewise(VectorOperators.XOR, (byte) 0x80)
          .convertShape(VectorOperators.B2F, S, 0);
      acc = FloatVector.fromArray(S, x, xOff + i).fma(q, acc);
    }
    float s = acc.reduceLanes(VectorOperators.ADD);
    for (; i < len; i++) {
      s += x[xOff + i] * (byte) (codes[cOff + i] ^ 0x80);
    }
    return s;
  }

  @Override
  public float dotU4(float[] xe, float[] xo, int xOff, byte[] codes, int cOff, int len) {
    int lv = len - len % L;
    FloatVector acc = FloatVector.zero(S);
    int i = 0;
    for (; i < lv; i += L) {
      ByteVector b = ByteVector.fromArray(B, codes, cOff + i);
      FloatVector lo = (FloatVector) b.and((byte) 0xf).convertShape(VectorOperators.B2F, S, 0);
      FloatVector hi = (FloatVector) b.lanewise(VectorOperators.LSHR, 4).and((byte) 0xf)
          .convertShape(VectorOperators.B2F, S, 0);
      acc = FloatVector.fromArray(S, xe, xOff + i).fma(lo, acc);
      acc = FloatVector.fromArray(S, xo, xOff + i).fma(hi, acc);
    }
    float s = acc.reduceLanes(VectorOperators.ADD);
    for (; i < len; i++) {
      int v = codes[cOff + i];
      s += xe[xOff + i] * (v & 0xf) + xo[xOff + i] * ((v >> 4) & 0xf);
    }
    return s;
  }

  @Override
  public float expShifted(float[] src, int off, int len, float max, float[] dst) {
    int lv = len - len % L;
    FloatVector m = FloatVector.broadcast(S, max);
    FloatVector acc = FloatVector.zero(S);
    int i = 0;
    for (; i < lv; i += L) {
      FloatVector e = FloatVector.fromArray(S, src, off + i).sub(m).lanewise(VectorOperators.EXP);
      e.intoArray(dst, off + i);
      acc = acc.add(e);
    }
    float s = acc.reduceLanes(VectorOperators.ADD);
    for (; i < len; i++) {
      float e = (float) Math.exp(src[off + i] - max);
      dst[off + i] = e;
      s += e;
    }
    return s;
  }

  @Override
  public void axpy(float a, float[] x, int xOff, float[] y, int yOff, int len) {
    int i = 0;
    int lv = len - len % L;
    FloatVector av = FloatVector.broadcast(S, a);
    for (; i < lv; i += L) {
      FloatVector.fromArray(S, x, xOff + i).fma(av, FloatVector.fromArray(S, y, yOff + i)).intoArray(y, yOff + i);
    }
    for (; i < len; i++) {
      y[yOff + i] += a * x[xOff + i];
    }
  }

  @Override
  public float[] withoutDenormals(float[] x, int off, int len) {
    int end = off + len;
    int i = off;
    for (; i + L <= end; i += L) {
      FloatVector v = FloatVector.fromArray(S, x, i);
      if (v.abs().lt(Float.MIN_NORMAL).and(v.compare(VectorOperators.NE, 0f)).anyTrue()) {
        return flushDenormals(x, i, end);
      }
    }
    for (; i < end; i++) {
      if (x[i] != 0f && Math.abs(x[i]) < Float.MIN_NORMAL) {
        return flushDenormals(x, i, end);
      }
    }
    return x;
  }

  @Override
  public float dot(float[] a, int aOff, float[] b, int bOff, int len) {
    int lv = len - len % L;
    FloatVector acc = FloatVector.zero(S);
    int i = 0;
    for (; i < lv; i += L) {
      acc = FloatVector.fromArray(S, a, aOff + i).fma(FloatVector.fromArray(S, b, bOff + i), acc);
    }
    float s = acc.reduceLanes(VectorOperators.ADD);
    for (; i < len; i++) {
      s += a[aOff + i] * b[bOff + i];
    }
    return s;
  }

  @Override
  public void decodePanel(byte[] codes, int off, int bits, int len, float[] scale, float[] bias, float[] dst,
      int dOff) {
    int p = QuantMatrix.PANEL;
    if (L != 16 && L != 8) {
      decodePanelScalar(codes, off, bits, len, scale, bias, dst, dOff);
      return;
    }
    int h = p / 2;
    int nv = p / L;
    if (L == 16) {
      FloatVector s0 = FloatVector.fromArray(S, scale, 0), s1 = FloatVector.fromArray(S, scale, L);
      FloatVector b0 = FloatVector.fromArray(S, bias, 0), b1 = FloatVector.fromArray(S, bias, L);
      for (int kk = 0; kk < len; kk++) {
        int d = dOff + kk * p;
        if (bits == 8) {
          int c = off + kk * p;
          FloatVector q0 = (FloatVector) ByteVector.fromArray(B, codes, c).lanewise(VectorOperators.XOR, (byte) 0x80)
              .convertShape(VectorOperators.B2F, S, 0);
          FloatVector q1 = (FloatVector) ByteVector.fromArray(B, codes, c + L)
              .lanewise(VectorOperators.XOR, (byte) 0x80).convertShape(VectorOperators.B2F, S, 0);
          q0.fma(s0, b0).intoArray(dst, d);
          q1.fma(s1, b1).intoArray(dst, d + L);
        } else {
          ByteVector b = ByteVector.fromArray(B, codes, off + kk * h);
          FloatVector lo = (FloatVector) b.and((byte) 0xf).convertShape(VectorOperators.B2F, S, 0);
          FloatVector hi = (FloatVector) b.lanewise(VectorOperators.LSHR, 4).and((byte) 0xf)
              .convertShape(VectorOperators.B2F, S, 0);
          lo.fma(s0, b0).intoArray(dst, d);
          hi.fma(s1, b1).intoArray(dst, d + L);
        }
      }
      return;
    }
    for (int kk = 0; kk < len; kk++) {
      int d = dOff + kk * p;
      if (bits == 8) {
        int c = off + kk * p;
        for (int v = 0; v < nv; v++) {
          FloatVector q = (FloatVector) ByteVector.fromArray(B, codes, c + v * L)
              .lanewise(VectorOperators.XOR, (byte) 0x80).convertShape(VectorOperators.B2F, S, 0);
          q.fma(FloatVector.fromArray(S, scale, v * L), FloatVector.fromArray(S, bias, v * L))
              .intoArray(dst, d + v * L);
        }
      } else {
        int c = off + kk * h;
        for (int v = 0; v < nv / 2; v++) {
          ByteVector b = ByteVector.fromArray(B, codes, c + v * L);
          FloatVector lo = (FloatVector) b.and((byte) 0xf).convertShape(VectorOperators.B2F, S, 0);
          FloatVector hi = (FloatVector) b.lanewise(VectorOperators.LSHR, 4).and((byte) 0xf)
              .convertShape(VectorOperators.B2F, S, 0);
          int lj = v * L;
          int hj = h + v * L;
          lo.fma(FloatVector.fromArray(S, scale, lj), FloatVector.fromArray(S, bias, lj)).intoArray(dst, d + lj);
          hi.fma(FloatVector.fromArray(S, scale, hj), FloatVector.fromArray(S, bias, hj)).intoArray(dst, d + hj);
        }
      }
    }
  }

  @Override
  public void gelu(float[] src, int off, int len, float[] dst, int dOff) {
    int lv = len - len % L;
    FloatVector one = FloatVector.broadcast(S, 1f);
    int i = 0;
    for (; i < lv; i += L) {
      FloatVector x = FloatVector.fromArray(S, src, off + i);
      FloatVector a = x.mul(SQRT_HALF).abs();
      FloatVector p = a.fma(ERF_A6, ERF_A5).fma(a, FloatVector.broadcast(S, ERF_A4)).fma(a,
          FloatVector.broadcast(S, ERF_A3)).fma(a, FloatVector.broadcast(S, ERF_A2)).fma(a,
          FloatVector.broadcast(S, ERF_A1)).fma(a, one);
      p = p.mul(p);
      p = p.mul(p);
      p = p.mul(p);
      p = p.mul(p);
      FloatVector r = one.sub(one.div(p));
      r = r.blend(r.neg(), x.compare(VectorOperators.LT, 0f));
      x.mul(0.5f).mul(r.add(one)).intoArray(dst, dOff + i);
    }
    for (; i < len; i++) {
      float x = src[off + i];
      dst[dOff + i] = 0.5f * x * (1f + erf(x * SQRT_HALF));
    }
  }

  @Override
  public void layerNormRow(float[] src, int off, int len, float eps, float[] g, float[] b, float[] dst) {
    int lv = len - len % L;
    FloatVector acc = FloatVector.zero(S);
    int i = 0;
    for (; i < lv; i += L) {
      acc = acc.add(FloatVector.fromArray(S, src, off + i));
    }
    float sum = acc.reduceLanes(VectorOperators.ADD);
    for (; i < len; i++) {
      sum += src[off + i];
    }
    float mean = sum / len;
    FloatVector mv = FloatVector.broadcast(S, mean);
    acc = FloatVector.zero(S);
    for (i = 0; i < lv; i += L) {
      FloatVector d = FloatVector.fromArray(S, src, off + i).sub(mv);
      acc = d.fma(d, acc);
    }
    float var = acc.reduceLanes(VectorOperators.ADD);
    for (; i < len; i++) {
      float d = src[off + i] - mean;
      var += d * d;
    }
    float inv = (float) (1.0 / Math.sqrt(var / len + eps));
    for (i = 0; i < lv; i += L) {
      FloatVector v = FloatVector.fromArray(S, src, off + i).sub(mv).mul(inv);
      if (g != null) {
        v = v.mul(FloatVector.fromArray(S, g, i));
      }
      if (b != null) {
        v = v.add(FloatVector.fromArray(S, b, i));
      }
      v.intoArray(dst, off + i);
    }
    for (; i < len; i++) {
      float v = (src[off + i] - mean) * inv;
      dst[off + i] = v * (g == null ? 1f : g[i]) + (b == null ? 0f : b[i]);
    }
  }

  @Override
  public void scale(float[] a, int off, int len, float f) {
    int lv = len - len % L;
    int i = 0;
    for (; i < lv; i += L) {
      FloatVector.fromArray(S, a, off + i).mul(f).intoArray(a, off + i);
    }
    for (; i < len; i++) {
      a[off + i] *= f;
    }
  }

  @Override
  public float affineMax(float[] x, int xOff, float scale, float[] m, int mOff, int mStep, float[] y, int yOff,
      int len) {
    int lv = len - len % L;
    FloatVector mx = FloatVector.broadcast(S, Float.NEGATIVE_INFINITY);
    int i = 0;
    if (m == null || mStep == 0) {
      FloatVector add = FloatVector.broadcast(S, m == null ? 0f : m[mOff]);
      for (; i < lv; i += L) {
        FloatVector v = FloatVector.fromArray(S, x, xOff + i).mul(scale).add(add);
        v.intoArray(y, yOff + i);
        mx = mx.max(v);
      }
    } else {
      for (; i < lv; i += L) {
        FloatVector v = FloatVector.fromArray(S, x, xOff + i).fma(FloatVector.broadcast(S, scale),
            FloatVector.fromArray(S, m, mOff + i));
        v.intoArray(y, yOff + i);
        mx = mx.max(v);
      }
    }
    float max = mx.reduceLanes(VectorOperators.MAX);
    for (; i < len; i++) {
      float v = x[xOff + i] * scale + (m == null ? 0f : m[mOff + i * mStep]);
      y[yOff + i] = v;
      max = v > max ? v : max;
    }
    return max;
  }
}
