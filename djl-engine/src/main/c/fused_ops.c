/*
 * The DJL engine's fused graph operators in C (JNI, class dev.selfbyt.cortexsdr.djl.kernel.NativeKernels),
 * linked into libcortexsdr_kernels.so beside cortexsdr_kernels.c: multi-head attention one head
 * per call, and layer normalization with the residual sum and the smoothing scale in the same
 * pass. As in cortexsdr_kernels.c the source (fused_impl.h) is compiled once per instruction set
 * and the caller names the one it wants (0 portable, 1 avx2, 2 avx512), and each call runs with
 * denormals flushed to zero, the caller's mode restored on return.
 */
#include <jni.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

#define SUFFIX fportable
#define VW 4
#include "fused_impl.h"
#undef SUFFIX
#undef VW

#if defined(__x86_64__)
#pragma GCC push_options
#pragma GCC target("avx2,fma")
#define SUFFIX favx2
#define VW 8
#include "fused_impl.h"
#undef SUFFIX
#undef VW
#pragma GCC pop_options

#pragma GCC push_options
#pragma GCC target("avx512f,avx512bw,avx512vl,avx2,fma")
#define SUFFIX favx512
#define VW 16
#include "fused_impl.h"
#undef SUFFIX
#undef VW
#pragma GCC pop_options
#endif

#include "kernel_call.h" /* ISA numbers, FpMode, ftz_on/ftz_off, PIN/UNPIN, as the product kernels use them */

#if defined(__x86_64__)
#define FDISPATCH(isa, fn, ...)                           \
  switch (isa) {                                          \
    case ISA_AMX:                                         \
    case ISA_AVX512: fn##_favx512(__VA_ARGS__); break;    \
    case ISA_AVX2: fn##_favx2(__VA_ARGS__); break;        \
    default: fn##_fportable(__VA_ARGS__); break;          \
  }
#define VW_OF(isa) ((isa) == ISA_AVX512 || (isa) == ISA_AMX ? 16 : (isa) == ISA_AVX2 ? 8 : 4)
#else
#define FDISPATCH(isa, fn, ...) ((void)(isa), fn##_fportable(__VA_ARGS__))
#define VW_OF(isa) ((void)(isa), 4)
#endif


/* One head of attention (fused_impl.h, attention_head); returns 0, or 1 when scratch memory ran out. */
JNIEXPORT jint JNICALL Java_dev_selfbyt_cortexsdr_djl_kernel_NativeKernels_nAttentionHead(
    JNIEnv* env, jclass c, jint isa, jfloatArray qa, jint qOff, jfloatArray ka, jint kOff, jfloatArray va, jint vOff,
    jint sq, jint sk, jint heads, jint d, jint dv, jfloat scale, jfloatArray ma, jint mOff, jint mRow, jint mStep,
    jfloatArray oa, jint oOff) {
  (void)c;
  int vw = VW_OF(isa);
  size_t skp = ((size_t)sk + vw - 1) / vw * vw;
  size_t dvp = ((size_t)dv + vw - 1) / vw * vw;
  size_t n = (size_t)d * skp + (size_t)sk * dvp + 8 * skp + 16; /* s: up to 8 query rows (ATT_RB) */
  float* scratch = malloc(sizeof(float) * n);
  if (!scratch) return 1;
  float* kt = scratch;
  float* vp = kt + (size_t)d * skp;
  float* s = vp + (size_t)sk * dvp;
  float* q = PIN(float, qa);
  float* k = PIN(float, ka);
  float* v = PIN(float, va);
  float* m = PIN(float, ma);
  float* o = PIN(float, oa);
  FpMode f = ftz_on();
  FDISPATCH(isa, attention_head, q + qOff, k + kOff, v + vOff, sq, sk, heads * d, heads * dv, d, dv, scale,
            m ? m + mOff : NULL, mRow, mStep, o + oOff, kt, vp, s);
  ftz_off(f);
  UNPIN(oa, o, 0);
  UNPIN(ma, m, JNI_ABORT);
  UNPIN(va, v, JNI_ABORT);
  UNPIN(ka, k, JNI_ABORT);
  UNPIN(qa, q, JNI_ABORT);
  free(scratch);
  return 0;
}

/*
 * Rows [r0, r1) of len values: y = LayerNorm(x + skip) (skip may be null); with sc, ys = y * sc, or
 * (ys null) y scaled in place. y must not be x or skip unless it is their very row (sums go to y).
 */
JNIEXPORT void JNICALL Java_dev_selfbyt_cortexsdr_djl_kernel_NativeKernels_nSkipLayerNormRows(
    JNIEnv* env, jclass c, jint isa, jfloatArray xa, jfloatArray sa, jint r0, jint r1, jint len, jfloat eps,
    jfloatArray ga, jfloatArray ba, jfloatArray ca, jfloatArray ya, jfloatArray ysa) {
  (void)c;
  size_t off = (size_t)r0 * len;
  float* x = PIN(float, xa);
  float* sk = PIN(float, sa);
  float* g = PIN(float, ga);
  float* b = PIN(float, ba);
  float* sc = PIN(float, ca);
  float* y = PIN(float, ya);
  float* ys = PIN(float, ysa);
  FpMode f = ftz_on();
  FDISPATCH(isa, skip_layer_norm_rows, x + off, sk ? sk + off : NULL, r1 - r0, len, eps, g, b, sc, y + off,
            ys ? ys + off : NULL);
  ftz_off(f);
  if (ys) UNPIN(ysa, ys, 0);
  UNPIN(ya, y, 0);
  UNPIN(ca, sc, JNI_ABORT);
  UNPIN(ba, b, JNI_ABORT);
  UNPIN(ga, g, JNI_ABORT);
  UNPIN(sa, sk, JNI_ABORT);
  UNPIN(xa, x, JNI_ABORT);
}
