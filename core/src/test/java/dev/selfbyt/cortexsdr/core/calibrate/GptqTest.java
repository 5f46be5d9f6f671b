package dev.selfbyt.cortexsdr.core.calibrate;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.selfbyt.cortexsdr.core.codec.QuantCodec;
import dev.selfbyt.cortexsdr.core.tensor.DType;
import dev.selfbyt.cortexsdr.core.tensor.TensorData;
import dev.selfbyt.cortexsdr.core.tensor.TensorInfo;
import dev.selfbyt.cortexsdr.core.tensor.TensorRole;
import java.nio.ByteBuffer;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** A linear layer Y = X W with correlated inputs: the known answer is the least output error. */
class GptqTest {
  static final int K = 96;
  static final int N = 40;
  static final int SAMPLES = 600;
  static final TensorInfo W = new TensorInfo("w", DType.FLOAT32, new long[] {K, N}, TensorRole.MATMUL_WEIGHT, 0);

  /** Inputs with strongly correlated features, as real activations have. */
  static float[] inputs(long seed) {
    SplittableRandom r = new SplittableRandom(seed);
    int latent = 12;
    double[] mix = new double[latent * K];
    for (int i = 0; i < mix.length; i++) {
      mix[i] = r.nextGaussian();
    }
    float[] x = new float[SAMPLES * K];
    for (int s = 0; s < SAMPLES; s++) {
      double[] z = new double[latent];
      for (int l = 0; l < latent; l++) {
        z[l] = r.nextGaussian();
      }
      for (int i = 0; i < K; i++) {
        double v = 0.1 * r.nextGaussian();
        for (int l = 0; l < latent; l++) {
          v += z[l] * mix[l * K + i];
        }
        x[s * K + i] = (float) v;
      }
    }
    return x;
  }

  static float[] weights(long seed) {
    SplittableRandom r = new SplittableRandom(seed);
    float[] w = new float[K * N];
    for (int i = 0; i < w.length; i++) {
      w[i] = (float) (r.nextGaussian() * 0.05);
    }
    return w;
  }

  static double outputError(float[] x, float[] w, float[] q) {
    double e = 0;
    for (int s = 0; s < SAMPLES; s++) {
      for (int c = 0; c < N; c++) {
        double a = 0;
        double b = 0;
        for (int i = 0; i < K; i++) {
          a += x[s * K + i] * (double) w[i * N + c];
          b += x[s * K + i] * (double) q[i * N + c];
        }
        e += (a - b) * (a - b);
      }
    }
    return e;
  }

  @Test
  void errorCompensationLowersTheOutputErrorOfPlainRounding() {
    float[] x = inputs(1);
    float[] w = weights(2);
    Hessian h = new Hessian(K);
    h.add(x, 0, SAMPLES);
    for (int bits : new int[] {3, 4, 8}) {
      QuantCodec codec = QuantCodec.blockwise(bits, false, 32);
      float[] rtn = codec.decode(W, codec.encode(TensorData.ofFloats(W, w))).floats();
      Gptq.Result g = Gptq.quantize(w, K, N, codec, h, 0.01);
      ByteBuffer payload = codec.encode(TensorData.ofFloats(W, g.values()).withGrid(g.grid()));
      float[] gptq = codec.decode(W, payload).floats();
      double eRtn = outputError(x, w, rtn);
      double eGptq = outputError(x, w, gptq);
      System.out.printf("%d bits: output error plain %.4g, GPTQ %.4g (%.1f%%)%n", bits, eRtn, eGptq, 100 * eGptq / eRtn);
      assertTrue(eGptq < 0.8 * eRtn, bits + " bits: GPTQ " + eGptq + " vs plain " + eRtn);
    }
  }

  @Test
  void underSuperBlockScalesTheGridIsStoredExactlyAndStillCompensates() {
    float[] x = inputs(1);
    float[] w = weights(2);
    Hessian h = new Hessian(K);
    h.add(x, 0, SAMPLES);
    QuantCodec codec = QuantCodec.blockwise(4, false, 16).withSuperScales();
    float[] rtn = codec.decode(W, codec.encode(TensorData.ofFloats(W, w))).floats();
    Gptq.Result g = Gptq.quantize(w, K, N, codec, h, 0.01);
    assertTrue(g.grid().superScales() != null, "the grid carries its super scales");
    ByteBuffer payload = codec.encode(TensorData.ofFloats(W, g.values()).withGrid(g.grid()));
    assertTrue(payload.get(0) == 3, "scale type 3 (super-block)");
    float[] gptq = codec.decode(W, payload).floats();
    double eRtn = outputError(x, w, rtn);
    double eGptq = outputError(x, w, gptq);
    assertTrue(eGptq < 0.8 * eRtn, "GPTQ " + eGptq + " vs plain " + eRtn);
  }

  @Test
  void columnsSplitOverThreadsRoundExactlyAsOneThreadDoes() {
    int n = 256; // wide enough to be split
    java.util.SplittableRandom r = new java.util.SplittableRandom(5);
    float[] w = new float[K * n];
    for (int i = 0; i < w.length; i++) {
      w[i] = (float) r.nextGaussian();
    }
    Hessian h = new Hessian(K);
    h.add(inputs(1), 0, SAMPLES);
    for (QuantCodec codec : new QuantCodec[] {QuantCodec.blockwise(4, false, 32),
        QuantCodec.blockwise(3, true, 16).withSuperScales()}) {
      Gptq.Result one = Gptq.quantize(w, K, n, codec, h, 0.01, 1);
      Gptq.Result three = Gptq.quantize(w, K, n, codec, h, 0.01, 3);
      assertArrayEquals(one.values(), three.values(), codec.describe());
      assertArrayEquals(codec.encode(TensorData.ofFloats(new TensorInfo("w", DType.FLOAT32, new long[] {K, n},
          TensorRole.MATMUL_WEIGHT, 0), one.values()).withGrid(one.grid())).array(),
          codec.encode(TensorData.ofFloats(new TensorInfo("w", DType.FLOAT32, new long[] {K, n},
          TensorRole.MATMUL_WEIGHT, 0), three.values()).withGrid(three.grid())).array(), codec.describe());
    }
  }

  @Test
  void gatheredUpdatesRoundToTheBitAsRowByRowUpdates() {
    // deeper than one run of gathered rows (128), ending inside a quantization block
    int k = 300;
    int n = 70;
    SplittableRandom r = new SplittableRandom(11);
    float[] w = new float[k * n];
    for (int i = 0; i < w.length; i++) {
      w[i] = (float) (r.nextGaussian() * 0.05);
    }
    int samples = 400;
    float[] x = new float[samples * k];
    for (int s = 0; s < samples; s++) {
      double common = r.nextGaussian();
      for (int i = 0; i < k; i++) {
        x[s * k + i] = (float) (common * Math.sin(i) + 0.3 * r.nextGaussian());
      }
    }
    Hessian h = new Hessian(k);
    h.add(x, 0, samples);
    for (QuantCodec codec : new QuantCodec[] {QuantCodec.blockwise(4, false, 32), QuantCodec.blockwise(3, true, 64),
        QuantCodec.blockwise(4, false, 256)}) {
      Gptq.Result g = Gptq.quantize(w, k, n, codec, h, 0.01);
      assertArrayEquals(rowByRow(w, k, n, codec, h, 0.01), g.values(), codec.describe());
    }
  }

  /** GPTQ's definition, each row's error subtracted from every row below before the next row is rounded. */
  private static float[] rowByRow(float[] w, int k, int n, QuantCodec codec, Hessian hessian, double damping) {
    double[] h = hessian.matrix();
    double[] wd = new double[k * n];
    for (int i = 0; i < wd.length; i++) {
      wd[i] = w[i];
    }
    double mean = 0;
    for (int i = 0; i < k; i++) {
      mean += h[i * k + i];
    }
    mean /= k;
    for (int i = 0; i < k; i++) {
      h[i * k + i] += damping * mean;
    }
    double[] u = Linalg.upperCholeskyOfInverse(h, k);
    int block = Math.min(codec.blockSize(), k);
    int maxq = (1 << codec.bits()) - 1;
    int lo = codec.symmetric() ? 1 : 0;
    float[] values = new float[k * n];
    float[] scale = new float[n];
    int[] zero = new int[n];
    for (int i = 0; i < k; i++) {
      for (int c = 0; c < n; c++) {
        if (i % block == 0) {
          float mn = Float.POSITIVE_INFINITY;
          float mx = Float.NEGATIVE_INFINITY;
          for (int q = i; q < Math.min(k, i + block); q++) {
            mn = Math.min(mn, (float) wd[q * n + c]);
            mx = Math.max(mx, (float) wd[q * n + c]);
          }
          float[] sz = codec.scaleAndZeroPoint(mn, mx);
          scale[c] = sz[0];
          zero[c] = (int) sz[1];
        }
        float v = (float) wd[i * n + c];
        values[i * n + c] = v;
        float inv = scale[c] == 0f ? 0f : 1f / scale[c];
        int q = Math.max(lo, Math.min(maxq, (int) (v * inv + (zero[c] + 0.5f))));
        double err = (v - (q - zero[c]) * scale[c]) / u[i * k + i];
        for (int below = i + 1; below < k; below++) {
          wd[below * n + c] -= u[i * k + below] * err;
        }
      }
    }
    return values;
  }

  @Test
  void withUncorrelatedUnitInputsItIsPlainRounding() {
    float[] w = weights(3);
    Hessian identity = new Hessian(K);
    float[] unit = new float[K];
    for (int i = 0; i < K; i++) {
      java.util.Arrays.fill(unit, 0f);
      unit[i] = 1f;
      identity.add(unit, 0, 1);
    }
    QuantCodec codec = QuantCodec.blockwise(4, true, 32);
    Gptq.Result g = Gptq.quantize(w, K, N, codec, identity, 0.0);
    ByteBuffer viaGptq = codec.encode(TensorData.ofFloats(W, g.values()).withGrid(g.grid()));
    ByteBuffer plain = codec.encode(TensorData.ofFloats(W, w));
    assertArrayEquals(bytes(plain), bytes(viaGptq));
  }

  @Test
  void theCholeskyFactorIsLowerAndMultipliesBackAcrossItsBlocksAndTiles() {
    int k = 331; // six row blocks of 64 and two column tiles of 256, none of them full
    SplittableRandom r = new SplittableRandom(11);
    double[] m = new double[k * k];
    for (int i = 0; i < m.length; i++) {
      m[i] = r.nextGaussian() * (1 + i % 5);
    }
    double[] a = new double[k * k];
    for (int i = 0; i < k; i++) {
      for (int j = 0; j <= i; j++) {
        double s = i == j ? 0.5 : 0;
        for (int p = 0; p < k; p++) {
          s += m[i * k + p] * m[j * k + p];
        }
        a[i * k + j] = s;
        a[j * k + i] = s;
      }
    }
    double[] l = Linalg.cholesky(a, k);
    for (int i = 0; i < k; i++) {
      for (int j = 0; j < k; j++) {
        if (j > i) {
          assertEquals(0.0, l[i * k + j], "above the diagonal at (" + i + "," + j + ")");
          continue;
        }
        double s = 0;
        for (int p = 0; p <= j; p++) {
          s += l[i * k + p] * l[j * k + p];
        }
        double scale = Math.sqrt(a[i * k + i] * a[j * k + j]);
        assertTrue(Math.abs(s - a[i * k + j]) <= 1e-12 * scale, "(" + i + "," + j + "): " + s + " vs " + a[i * k + j]);
      }
    }
    a[200 * k + 200] = -1; // no longer positive definite from row 200 on
    ArithmeticException e = assertThrows(ArithmeticException.class, () -> Linalg.cholesky(a, k));
    assertTrue(e.getMessage().contains("at row 200"), e.getMessage());
  }

  @Test
  void theUpperFactorInvertsTheMatrix() {
    int k = 7;
    double[] a = new double[k * k];
    SplittableRandom r = new SplittableRandom(5);
    double[] m = new double[k * k];
    for (int i = 0; i < m.length; i++) {
      m[i] = r.nextGaussian();
    }
    for (int i = 0; i < k; i++) {
      for (int j = 0; j < k; j++) {
        double s = i == j ? 1 : 0;
        for (int p = 0; p < k; p++) {
          s += m[i * k + p] * m[j * k + p];
        }
        a[i * k + j] = s;
      }
    }
    double[] u = Linalg.upperCholeskyOfInverse(a, k);
    // (U^T U) a = I
    for (int i = 0; i < k; i++) {
      for (int j = 0; j < k; j++) {
        double s = 0;
        for (int p = 0; p < k; p++) {
          double inv = 0;
          for (int q = 0; q < k; q++) {
            inv += u[q * k + i] * u[q * k + p];
          }
          s += inv * a[p * k + j];
        }
        assertTrue(Math.abs(s - (i == j ? 1 : 0)) < 1e-9, "(" + i + "," + j + ") = " + s);
      }
    }
  }

  static byte[] bytes(ByteBuffer b) {
    byte[] a = new byte[b.remaining()];
    b.duplicate().get(a);
    return a;
  }
}
