/*
 * Per-core speed of the DJL engine's native weight-product kernels, without a JVM: the library's
 * source included as kernel_check.c does, one thread, MiniLM's shapes. Each figure is the fastest
 * of many short repetitions (a few hundred microseconds each, shorter than a scheduler time
 * slice), so it shows what the code does on a core even on a busy machine; it is not a latency.
 *
 *   gcc -O3 -std=gnu11 -fno-math-errno -fno-trapping-math -I$JAVA_HOME/include \
 *       -I$JAVA_HOME/include/linux djl-engine/src/test/c/kernel_bench.c -o /tmp/kernel_bench -lm
 *   /tmp/kernel_bench [m=128]
 *
 * Prints: an FMA-only loop (the core's fp32 peak), gemm_panel on a decoded panel, gemm_quant
 * (decode + product) for 8- and 4-bit codes, DynamicQuantizeLinear (quantize_u8) and the W8A8
 * product, each at every instruction set the CPU runs from avx2 up (amx: the W8A8 product on AMX).
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "../../main/c/cortexsdr_kernels.c"

static const char* const NAMES[] = {"portable", "avx2", "avx512", "amx"};

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + t.tv_nsec * 1e-9;
}

#define BEST(reps, body)                         \
  ({                                             \
    double best_ = 1e30;                         \
    for (int rep_ = 0; rep_ < (reps); rep_++) {  \
      double t_ = now();                         \
      body;                                      \
      t_ = now() - t_;                           \
      if (t_ < best_) best_ = t_;                \
    }                                            \
    best_;                                       \
  })

#if defined(__x86_64__)
/* 24 independent FMA chains: what one core's FMA units give at most */
#define FMA_D(i) __m512 a##i = _mm512_set1_ps(1e-3f * i);
#define FMA_F(i) a##i = _mm512_fmadd_ps(a##i, b, c);
#define FMA_S(i) s += a##i[0];
#define FMA_ALL(X) \
  X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7) X(8) X(9) X(10) X(11) X(12) X(13) X(14) X(15) X(16) X(17) X(18) X(19) X(20) X(21) X(22) X(23)
__attribute__((target("avx512f"))) static double fma_peak(void) {
  FMA_ALL(FMA_D)
  __m512 b = _mm512_set1_ps(0.999f), c = _mm512_set1_ps(1e-4f);
  const long steps = 100000;
  double best = 1e30;
  for (int rep = 0; rep < 200; rep++) {
    double t = now();
    for (long i = 0; i < steps; i++) {
      FMA_ALL(FMA_F)
      __asm__ volatile("" ::"v"(a0));
    }
    t = now() - t;
    if (t < best) best = t;
  }
  float s = 0;
  FMA_ALL(FMA_S)
  if (s == 12345.f) printf(" ");
  return 24.0 * 32 * steps / best / 1e9;
}
#endif

int main(int argc, char** argv) {
  int m = argc > 1 ? atoi(argv[1]) : 128;
  int best = Java_dev_selfbyt_cortexsdr_djl_kernel_NativeKernels_nBestIsa(NULL, NULL);
  static const int shapes[][2] = {{384, 384}, {384, 1536}, {1536, 384}}; /* {k, n} */
#if defined(__x86_64__)
  if (best >= ISA_AVX512) printf("fma peak (avx512, 24 chains): %.0f GFLOP/s\n", fma_peak());
#endif
  for (size_t s = 0; s < 3; s++) {
    int k = shapes[s][0], n = shapes[s][1], panels = n / PANEL, glen = 64, groups = k / glen;
    double flop = 2.0 * m * k * n;
    float *x = malloc(sizeof(float) * (size_t)m * k), *y = malloc(sizeof(float) * (size_t)m * n),
          *buf = malloc(sizeof(float) * (size_t)k * PANEL * panels),
          *sc = malloc(sizeof(float) * (size_t)panels * groups * PANEL);
    uint8_t* codes = malloc((size_t)panels * k * PANEL);
    uint8_t* xq = malloc((size_t)m * k);
    int8_t* w = malloc((size_t)k * n);
    int32_t* cs = calloc((size_t)n, sizeof(int32_t));
    for (size_t i = 0; i < (size_t)m * k; i++) x[i] = (float)(i % 7) * 0.1f - 0.3f;
    for (size_t i = 0; i < (size_t)panels * k * PANEL; i++) codes[i] = (uint8_t)(i * 7);
    for (size_t i = 0; i < (size_t)k * n; i++) w[i] = (int8_t)(i * 5);
    for (int i = 0; i < panels * groups * PANEL; i++) sc[i] = 0.01f;
    for (int isa = best >= ISA_AVX2 ? ISA_AVX2 : 0; isa <= best; isa++) {
      FpMode f = ftz_on();
      if (isa != ISA_AMX) {
        double t = BEST(30, for (int j = 0; j < n; j += PANEL) DISPATCH(isa, gemm_panel, x, m, k, buf, PANEL, PANEL,
                                                                        y + j, n, NULL));
        printf("gemm_panel   %-8s m=%d k=%d n=%d: %8.1f us %6.0f GFLOP/s\n", NAMES[isa], m, k, n, t * 1e6, flop / t / 1e9);
        for (int bits = 8; bits >= 4; bits -= 4) {
          t = BEST(30, DISPATCH(isa, gemm_quant, x, m, k, codes, bits, sc, NULL, 128.f, glen, groups, 0, panels, n, y,
                                n, NULL, buf, panels));
          printf("gemm_quant%d  %-8s m=%d k=%d n=%d: %8.1f us %6.0f GFLOP/s\n", bits, NAMES[isa], m, k, n, t * 1e6,
                 flop / t / 1e9);
        }
        {
          /* int4's default layout: asymmetric, blocks of 32 along k, a zero point per block */
          int g32 = (k + 31) / 32;
          float* sc32 = malloc(sizeof(float) * (size_t)panels * g32 * PANEL);
          uint8_t* z32 = malloc((size_t)panels * g32 * PANEL);
          for (int i = 0; i < panels * g32 * PANEL; i++) {
            sc32[i] = 0.01f;
            z32[i] = (uint8_t)(i % 16);
          }
          t = BEST(30, DISPATCH(isa, gemm_quant, x, m, k, codes, 4, sc32, z32, 0.f, 32, g32, 0, panels, n, y, n,
                                NULL, buf, panels));
          printf("gemm_q4a32   %-8s m=%d k=%d n=%d: %8.1f us %6.0f GFLOP/s\n", NAMES[isa], m, k, n, t * 1e6,
                 flop / t / 1e9);
          free(sc32);
          free(z32);
        }
        float params[2];
        t = BEST(30, DISPATCH(isa, quantize_u8, x, m, k, k, xq, params));
        printf("quantize_u8  %-8s m=%d k=%d:       %8.1f us\n", NAMES[isa], m, k, t * 1e6);
      }
      double t = BEST(30, gemm_u8s8_panels(isa, xq, m, k, w, n, 3, cs, 0.1f, sc, NULL, y, n, 0));
      printf("gemm_u8s8    %-8s m=%d k=%d n=%d: %8.1f us %6.0f GOP/s\n", NAMES[isa], m, k, n, t * 1e6, flop / t / 1e9);
      t = BEST(30, gemm_u8s8_panels(isa, xq, m, k, w, n, 3, cs, 0.1f, sc, NULL, y, n, 1));
      printf("gemm_u8s7    %-8s m=%d k=%d n=%d: %8.1f us %6.0f GOP/s\n", NAMES[isa], m, k, n, t * 1e6, flop / t / 1e9);
      ftz_off(f);
    }
    free(x);
    free(y);
    free(buf);
    free(sc);
    free(codes);
    free(xq);
    free(w);
    free(cs);
  }
  return 0;
}
