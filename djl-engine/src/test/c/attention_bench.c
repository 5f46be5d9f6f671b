/*
 * Per-core speed of the DJL engine's native attention head (fused_ops.c, attention_head), without
 * a JVM: one thread, all heads of one layer, each instruction set this file compiles (portable,
 * avx2, avx512; AMX runs the avx512 attention). Each figure is the fastest of 300 repetitions, so
 * it shows what the code does on a core even on a busy machine; maxerr is the worst error against
 * a double-precision reference, relative to 1 + |reference|.
 *
 *   gcc -O3 -std=gnu11 -fno-math-errno -fno-trapping-math -I$JAVA_HOME/include \
 *       -I$JAVA_HOME/include/linux djl-engine/src/test/c/attention_bench.c -o /tmp/attention_bench -lm
 *   /tmp/attention_bench [seq_q=128] [seq_k=seq_q] [dim=32] [value dim=dim]   (12 heads, MiniLM's)
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "../../main/c/fused_ops.c"

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + t.tv_nsec * 1e-9;
}

int main(int argc, char** argv) {
  int sq = argc > 1 ? atoi(argv[1]) : 128;
  int sk = argc > 2 ? atoi(argv[2]) : sq;
  int d = argc > 3 ? atoi(argv[3]) : 32;
  int dv = argc > 4 ? atoi(argv[4]) : d;
  int heads = 12, ld = heads * d, ldv = heads * dv;
  float* q = malloc(sizeof(float) * sq * ld);
  float* k = malloc(sizeof(float) * sk * ld);
  float* v = malloc(sizeof(float) * sk * ldv);
  float* o = malloc(sizeof(float) * sq * ldv);
  float* m = malloc(sizeof(float) * sk);
  double* ref = malloc(sizeof(double) * sq * ldv);
  double* p = malloc(sizeof(double) * sk);
  srand(7);
  for (int i = 0; i < sq * ld; i++) q[i] = (rand() % 1000 - 500) / 300.f;
  for (int i = 0; i < sk * ld; i++) k[i] = (rand() % 1000 - 500) / 300.f;
  for (int i = 0; i < sk * ldv; i++) v[i] = (rand() % 1000 - 500) / 500.f;
  for (int j = 0; j < sk; j++) m[j] = j < sk - 3 ? 0.f : -3.4028235e38f; /* the last keys padded, as BERT masks */
  float scale = 1.f / sqrtf((float)d);
  for (int h = 0; h < heads; h++)
    for (int i = 0; i < sq; i++) {
      double mx = -INFINITY, sum = 0;
      for (int j = 0; j < sk; j++) {
        double t = 0;
        for (int c = 0; c < d; c++) t += (double)q[i * ld + h * d + c] * k[j * ld + h * d + c];
        p[j] = t * scale + m[j];
        mx = p[j] > mx ? p[j] : mx;
      }
      for (int j = 0; j < sk; j++) sum += p[j] = exp(p[j] - mx);
      for (int c = 0; c < dv; c++) {
        double t = 0;
        for (int j = 0; j < sk; j++) t += p[j] * v[j * ldv + h * dv + c];
        ref[i * ldv + h * dv + c] = t / sum;
      }
    }
  size_t skp = (size_t)(sk + 15) / 16 * 16, dvp = (size_t)(dv + 15) / 16 * 16;
  float* scratch = malloc(sizeof(float) * (d * skp + sk * dvp + 8 * skp + 16));
  static const char* const names[] = {"portable", "avx2", "avx512"};
  for (int isa = 0; isa < 3; isa++) {
#if !defined(__x86_64__)
    if (isa > 0) break;
#endif
    int vw = isa == 2 ? 16 : isa == 1 ? 8 : 4;
    size_t skw = (size_t)(sk + vw - 1) / vw * vw, dvw = (size_t)(dv + vw - 1) / vw * vw;
    float *kt = scratch, *vp = kt + d * skw, *s = vp + sk * dvw;
    double best = 1e30;
    for (int rep = 0; rep < 300; rep++) {
      double t = now();
      for (int h = 0; h < heads; h++) {
#if defined(__x86_64__)
        if (isa == 2)
          attention_head_favx512(q + h * d, k + h * d, v + h * dv, sq, sk, ld, ldv, d, dv, scale, m, 0, 1, o + h * dv,
                                 kt, vp, s);
        else if (isa == 1)
          attention_head_favx2(q + h * d, k + h * d, v + h * dv, sq, sk, ld, ldv, d, dv, scale, m, 0, 1, o + h * dv,
                               kt, vp, s);
        else
#endif
          attention_head_fportable(q + h * d, k + h * d, v + h * dv, sq, sk, ld, ldv, d, dv, scale, m, 0, 1,
                                   o + h * dv, kt, vp, s);
      }
      t = now() - t;
      best = t < best ? t : best;
    }
    double err = 0;
    for (int i = 0; i < sq * ldv; i++) {
      double e = fabs(o[i] - ref[i]) / (1 + fabs(ref[i]));
      err = e > err ? e : err;
    }
    printf("attention %-8s seq %d x %d, dim %d/%d, %d heads: %8.1f us %6.1f GFLOP/s  maxerr %.1e\n", names[isa], sq, sk,
           d, dv, heads, best * 1e6, 2.0 * heads * sq * sk * (d + dv) / best / 1e9, err);
  }
  return 0;
}
