package dev.selfbyt.cortexsdr.djl.kernel;

import java.util.Random;

/**
 * Run by {@link KernelFallbackTest} in a child JVM: prints the kernels this JVM picked, then a
 * seeded product (an fp32 panel and an int8-activation one) as exact float bits, one per line.
 */
public final class KernelChoiceMain {
  private KernelChoiceMain() {}

  public static void main(String[] args) {
    Kernels k = Kernels.get();
    System.out.println("kernels=" + k.name());
    for (float v : product(k)) {
      System.out.println(Float.floatToIntBits(v));
    }
  }

  /** A 13 x 70 by 70 x 32 panel product with bias, then the same rows quantized to uint8 times int8 codes. */
  static float[] product(Kernels k) {
    Random r = new Random(3);
    int m = 13;
    int kk = 70;
    int p = QuantMatrix.PANEL;
    float[] x = new float[m * kk];
    float[] w = new float[kk * p];
    float[] bias = new float[p];
    for (int i = 0; i < x.length; i++) {
      x[i] = (float) r.nextGaussian();
    }
    for (int i = 0; i < w.length; i++) {
      w[i] = (float) r.nextGaussian();
    }
    for (int i = 0; i < p; i++) {
      bias[i] = (float) r.nextGaussian();
    }
    float[] y = new float[2 * m * p];
    k.gemmPanel(x, 0, m, kk, w, 0, p, p, y, 0, p, bias, 0);
    int kp = (kk + 3) & ~3;
    byte[] xq = new byte[m * kp];
    byte[] wq = new byte[kp * p];
    r.nextBytes(xq);
    r.nextBytes(wq);
    int[] sums = new int[p];
    float[] ws = new float[p];
    java.util.Arrays.fill(ws, 0.01f);
    k.gemmU8S8(xq, 0, m, kp, wq, 0, p, 7, sums, 0, 0.02f, ws, 0, y, m * p, p, bias, 0);
    return y;
  }
}
