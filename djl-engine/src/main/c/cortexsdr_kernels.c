/*
 * libcortexsdr_kernels: the CortexSDR DJL engine's native kernels (JNI, class
 * dev.selfbyt.cortexsdr.djl.kernel.NativeKernels). The same C source (kernels_impl.h) is compiled
 * for several instruction sets inside this one library and the Java side picks one at run time:
 *
 *   x86-64:  0 portable (SSE2), 1 avx2 (AVX2 + FMA), 2 avx512 (AVX-512 F/BW/VL + VNNI),
 *            3 amx (the avx512 kernels, and AMX-INT8 tiles for the W8A8 product; kernels_amx.h)
 *   aarch64: 0 portable (NEON, the baseline of the architecture; the W8A8 product uses SDOT
 *            when the CPU has dotprod, asked of the kernel at run time)
 *
 * Every call names the instruction set it wants (NativeKernels holds it), so tests run each path
 * in turn in one process. Arrays are read in place (GetPrimitiveArrayCritical: no copy on HotSpot),
 * threads stay in Java. Denormals: each product runs with flush-to-zero and denormals-are-zero
 * set (MXCSR on x86, FPCR.FZ on aarch64) and the caller's mode restored on return, so tiny
 * activations never take the slow microcode path inside a hot loop.
 */
#include <jni.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#define PANEL 32

#if defined(__x86_64__)
#include <immintrin.h>
#endif

#if defined(__aarch64__)
#include <arm_neon.h>
#include <sys/auxv.h>
#ifndef HWCAP_ASIMDDP
#define HWCAP_ASIMDDP (1 << 20)
#endif
/* SDOT (Armv8.2 dotprod), asked of the kernel once: the W8A8 product's path (kernels_impl.h) */
static int have_dotprod(void) {
  static int known = -1;
  if (known < 0) known = (getauxval(AT_HWCAP) & HWCAP_ASIMDDP) != 0;
  return known;
}
#endif

/* ---- the portable build: SSE2 on x86-64, NEON on aarch64 ---- */
#define SUFFIX portable
#define VW 4
#define MR 3
#include "kernels_impl.h"
#undef SUFFIX
#undef VW
#undef MR
#undef BV
#undef MR_DEEP
#undef MR_S7

#if defined(__x86_64__)
#pragma GCC push_options
#pragma GCC target("avx2,fma")
#define SUFFIX avx2
#define VW 8
#define MR 6
#define BV 2
#define MR_DEEP 3
#define HAVE_AVX2_INT 1
#include "kernels_impl.h"
#undef HAVE_AVX2_INT
#undef SUFFIX
#undef VW
#undef MR
#undef BV
#undef MR_DEEP
#undef MR_S7
#pragma GCC pop_options

#pragma GCC push_options
#pragma GCC target("avx512f,avx512bw,avx512vl,avx512vnni,avx2,fma")
#define SUFFIX avx512
#define VW 16
#define MR 12
#define HAVE_VNNI 1
#include "kernels_impl.h"
#undef HAVE_VNNI
#undef SUFFIX
#undef VW
#undef MR
#undef BV
#undef MR_DEEP
#undef MR_S7
#pragma GCC pop_options

#pragma GCC push_options
#pragma GCC target("avx512f,avx512bw,avx512vl,avx512vnni,avx2,fma,amx-tile,amx-int8")
#include "kernels_amx.h"
#pragma GCC pop_options
#endif

#include "kernel_call.h" /* ISA numbers, FpMode, PIN/UNPIN */

#if defined(__x86_64__)
#include <cpuid.h>
#include <errno.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <unistd.h>
#define ARCH_GET_XCOMP_PERM 0x1022
#define ARCH_REQ_XCOMP_PERM 0x1023
#define XFEATURE_XTILEDATA 18
/* why a CPU with AMX does not use it (empty when it does, or has none) */
static char amx_note[160];

/*
 * AMX for the W8A8 product: the CPU has AMX-TILE and AMX-INT8, the OS enabled the tile state
 * (XCR0 bits 17 and 18), and Linux granted this process the tile data (asked once, here, with
 * arch_prctl(ARCH_REQ_XCOMP_PERM); Linux 5.16+ refuses AMX instructions to a process that did
 * not ask: they would fault).
 */
static int amx_usable(void) {
  static volatile int known = -1;
  if (known >= 0) return known;
  unsigned a, b, c, d;
  int ok = 0;
  if (__get_cpuid_count(7, 0, &a, &b, &c, &d) && (d >> 24 & 1) && (d >> 25 & 1)) {
    unsigned a1, b1, c1, d1;
    uint32_t lo = 0, hi = 0;
    if (__get_cpuid(1, &a1, &b1, &c1, &d1) && (c1 >> 27 & 1)) __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    uint64_t xcr0 = (uint64_t)hi << 32 | lo;
    if ((xcr0 & (3ull << 17)) != (3ull << 17)) {
      snprintf(amx_note, sizeof amx_note, "the CPU has AMX but the OS did not enable its state (XCR0 %#llx)",
               (unsigned long long)xcr0);
    } else if (syscall(SYS_arch_prctl, ARCH_REQ_XCOMP_PERM, XFEATURE_XTILEDATA) != 0) {
      snprintf(amx_note, sizeof amx_note, "the CPU has AMX but Linux refused this process the tile data "
               "(arch_prctl ARCH_REQ_XCOMP_PERM: %s)", strerror(errno));
    } else {
      unsigned long perm = 0;
      ok = syscall(SYS_arch_prctl, ARCH_GET_XCOMP_PERM, &perm) == 0 && (perm >> XFEATURE_XTILEDATA & 1);
      if (!ok) snprintf(amx_note, sizeof amx_note, "the CPU has AMX but Linux did not grant the tile data");
    }
  }
  known = ok;
  return ok;
}
#endif

/* ---- JNI ---- */
#define JFN(name) JNIEXPORT void JNICALL Java_dev_selfbyt_cortexsdr_djl_kernel_NativeKernels_##name

#if defined(__x86_64__)
/* ISA_AMX runs the AVX-512 kernels, and AMX for the W8A8 product (gemm_u8s8_panels) */
#define DISPATCH(isa, name, ...)                   \
  switch (isa) {                                   \
    case ISA_AMX:                                  \
    case ISA_AVX512: name##_avx512(__VA_ARGS__); break; \
    case ISA_AVX2: name##_avx2(__VA_ARGS__); break;     \
    default: name##_portable(__VA_ARGS__); break;       \
  }
#define DISPATCH_R(r, isa, name, ...)                      \
  switch (isa) {                                           \
    case ISA_AMX:                                          \
    case ISA_AVX512: r = name##_avx512(__VA_ARGS__); break; \
    case ISA_AVX2: r = name##_avx2(__VA_ARGS__); break;     \
    default: r = name##_portable(__VA_ARGS__); break;       \
  }
#else
#define DISPATCH(isa, name, ...) \
  (void)(isa);                   \
  name##_portable(__VA_ARGS__)
#define DISPATCH_R(r, isa, name, ...) \
  (void)(isa);                        \
  r = name##_portable(__VA_ARGS__)
#endif

/* The best instruction set this CPU runs. */
JNIEXPORT jint JNICALL Java_dev_selfbyt_cortexsdr_djl_kernel_NativeKernels_nBestIsa(JNIEnv* env, jclass c) {
  (void)env;
  (void)c;
#if defined(__x86_64__)
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
      __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512vnni"))
    return amx_usable() ? ISA_AMX : ISA_AVX512;
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return ISA_AVX2;
#endif
  return ISA_PORTABLE;
}

/* Why this CPU's best instruction set is not all it has (AMX refused by the OS), or null. */
JNIEXPORT jstring JNICALL Java_dev_selfbyt_cortexsdr_djl_kernel_NativeKernels_nIsaNote(JNIEnv* env, jclass c) {
  (void)c;
#if defined(__x86_64__)
  if (!amx_usable() && amx_note[0]) return (*env)->NewStringUTF(env, amx_note);
#endif
  (void)env;
  return NULL;
}

/*
 * The W8A8 product over nb columns in consecutive panels of 32 (panel t at w + t * kp * 32): AMX
 * takes them all in one pass; the other paths one panel at a time.
 */
static void gemm_u8s8_panels(int isa, const uint8_t* x, int m, int kp, const int8_t* w, int nb, int zp,
                             const int32_t* colsum, float ascale, const float* wscale, const float* bias, float* y,
                             int ldy, int narrow) {
  (void)narrow; /* used by x86's AVX2 path only */
#if defined(__x86_64__)
  if (isa == ISA_AMX && gemm_u8s8_amx(x, m, kp, w, nb, zp, colsum, ascale, wscale, bias, y, ldy) == 0) return;
  /* (out of memory for AMX's padded rows: the VNNI path below, which needs none) */
#endif
  for (int j0 = 0; j0 < nb; j0 += PANEL) {
    int n = nb - j0 < PANEL ? nb - j0 : PANEL;
#if defined(__x86_64__)
    if (narrow && isa == ISA_AVX2) { /* codes in [-64, 64]: vpmaddubsw is exact */
      gemm_u8s7_avx2(x, m, kp, w + (size_t)j0 * kp, n, zp, colsum + j0, ascale, wscale + j0, bias ? bias + j0 : NULL,
                     y + j0, ldy);
      continue;
    }
#endif
    DISPATCH(isa, gemm_u8s8, x, m, kp, w + (size_t)j0 * kp, n, zp, colsum + j0, ascale, wscale + j0,
             bias ? bias + j0 : NULL, y + j0, ldy);
  }
}

JFN(nGemmPanel)(JNIEnv* env, jclass c, jint isa, jfloatArray xa, jint xOff, jint m, jint k, jfloatArray pa,
                jint pOff, jint ldp, jint nb, jfloatArray ya, jint yOff, jint ldy, jfloatArray ba, jint bOff) {
  (void)c;
  float* x = PIN(float, xa);
  float* p = PIN(float, pa);
  float* y = PIN(float, ya);
  float* b = PIN(float, ba);
  FpMode f = ftz_on();
  DISPATCH(isa, gemm_panel, x + xOff, m, k, p + pOff, ldp, nb, y + yOff, ldy, b ? b + bOff : NULL);
  ftz_off(f);
  UNPIN(ba, b, JNI_ABORT);
  UNPIN(ya, y, 0);
  UNPIN(pa, p, JNI_ABORT);
  UNPIN(xa, x, JNI_ABORT);
}

JFN(nGemmQuant)(JNIEnv* env, jclass c, jint isa, jfloatArray xa, jint xOff, jint m, jint k, jbyteArray ca, jint bits,
                jfloatArray sa, jbyteArray za, jfloat zero, jint glen, jint groups, jint t0, jint t1, jint n,
                jfloatArray ya, jint yOff, jint ldy, jfloatArray ba, jfloatArray bufa) {
  (void)c;
  float* x = PIN(float, xa);
  uint8_t* codes = PIN(uint8_t, ca);
  float* s = PIN(float, sa);
  uint8_t* z = PIN(uint8_t, za);
  float* y = PIN(float, ya);
  float* b = PIN(float, ba);
  float* buf = PIN(float, bufa);
  FpMode f = ftz_on();
  /* a buffer of several panels lets many rows reuse a run's decoded panels (gemm_quant) */
  int bufPanels = (int)((*env)->GetArrayLength(env, bufa) / ((jlong)k * PANEL));
  DISPATCH(isa, gemm_quant, x + xOff, m, k, codes, bits, s, z, zero, glen, groups, t0, t1, n, y + yOff, ldy, b, buf,
           bufPanels);
  ftz_off(f);
  UNPIN(bufa, buf, 0);
  UNPIN(ba, b, JNI_ABORT);
  UNPIN(ya, y, 0);
  UNPIN(za, z, JNI_ABORT);
  UNPIN(sa, s, JNI_ABORT);
  UNPIN(ca, codes, JNI_ABORT);
  UNPIN(xa, x, JNI_ABORT);
}

JFN(nGemmRows)(JNIEnv* env, jclass c, jint isa, jfloatArray xa, jint xOff, jint m, jint k, jfloatArray wa,
               jint wOff, jint nb, jfloatArray ya, jint yOff, jint ldy) {
  (void)c;
  float* x = PIN(float, xa);
  float* w = PIN(float, wa);
  float* y = PIN(float, ya);
  FpMode f = ftz_on();
  DISPATCH(isa, gemm_rows, x + xOff, m, k, w + wOff, nb, y + yOff, ldy);
  ftz_off(f);
  UNPIN(ya, y, 0);
  UNPIN(wa, w, JNI_ABORT);
  UNPIN(xa, x, JNI_ABORT);
}

JFN(nDecodePanel)(JNIEnv* env, jclass c, jint isa, jbyteArray ca, jint off, jint bits, jint len, jfloatArray sa,
                  jfloatArray ba, jfloatArray da, jint dOff) {
  (void)c;
  uint8_t* codes = PIN(uint8_t, ca);
  float* s = PIN(float, sa);
  float* b = PIN(float, ba);
  float* d = PIN(float, da);
  DISPATCH(isa, decode_panel, codes + off, bits, len, s, b, d + dOff);
  UNPIN(da, d, 0);
  UNPIN(ba, b, JNI_ABORT);
  UNPIN(sa, s, JNI_ABORT);
  UNPIN(ca, codes, JNI_ABORT);
}

JNIEXPORT jfloat JNICALL Java_dev_selfbyt_cortexsdr_djl_kernel_NativeKernels_nDotS8(
    JNIEnv* env, jclass c, jint isa, jfloatArray xa, jint xOff, jbyteArray ca, jint cOff, jint len) {
  (void)c;
  float* x = PIN(float, xa);
  uint8_t* codes = PIN(uint8_t, ca);
  float r;
  DISPATCH_R(r, isa, dot_s8, x + xOff, codes + cOff, len);
  UNPIN(ca, codes, JNI_ABORT);
  UNPIN(xa, x, JNI_ABORT);
  return r;
}

JNIEXPORT jfloat JNICALL Java_dev_selfbyt_cortexsdr_djl_kernel_NativeKernels_nDotU4(
    JNIEnv* env, jclass c, jint isa, jfloatArray ea, jfloatArray oa, jint xOff, jbyteArray ca, jint cOff, jint len) {
  (void)c;
  float* xe = PIN(float, ea);
  float* xo = PIN(float, oa);
  uint8_t* codes = PIN(uint8_t, ca);
  float r;
  DISPATCH_R(r, isa, dot_u4, xe + xOff, xo + xOff, codes + cOff, len);
  UNPIN(ca, codes, JNI_ABORT);
  UNPIN(oa, xo, JNI_ABORT);
  UNPIN(ea, xe, JNI_ABORT);
  return r;
}

JFN(nDequant8)(JNIEnv* env, jclass c, jint isa, jbyteArray ca, jint off, jint len, jfloat scale, jfloat zero,
               jfloatArray da, jint dOff) {
  (void)c;
  uint8_t* codes = PIN(uint8_t, ca);
  float* d = PIN(float, da);
  DISPATCH(isa, dequant8, codes + off, len, scale, zero, d + dOff);
  UNPIN(da, d, 0);
  UNPIN(ca, codes, JNI_ABORT);
}

JNIEXPORT jfloat JNICALL Java_dev_selfbyt_cortexsdr_djl_kernel_NativeKernels_nExpShifted(
    JNIEnv* env, jclass c, jint isa, jfloatArray sa, jint off, jint len, jfloat max, jfloatArray da) {
  (void)c;
  float* s = PIN(float, sa);
  float* d = PIN(float, da);
  float r;
  FpMode f = ftz_on();
  DISPATCH_R(r, isa, exp_shifted, s + off, len, max, d + off);
  ftz_off(f);
  UNPIN(da, d, 0);
  UNPIN(sa, s, sa == da ? 0 : JNI_ABORT);
  return r;
}

JFN(nGelu)(JNIEnv* env, jclass c, jint isa, jfloatArray sa, jint off, jint len, jfloatArray da, jint dOff) {
  (void)c;
  float* s = PIN(float, sa);
  float* d = PIN(float, da);
  FpMode f = ftz_on();
  DISPATCH(isa, gelu, s + off, len, d + dOff);
  ftz_off(f);
  UNPIN(da, d, 0);
  UNPIN(sa, s, sa == da ? 0 : JNI_ABORT);
}

JFN(nLayerNormRows)(JNIEnv* env, jclass c, jint isa, jfloatArray sa, jint off, jint rows, jint len, jfloat eps,
                    jfloatArray ga, jfloatArray ba, jfloatArray da) {
  (void)c;
  float* s = PIN(float, sa);
  float* g = PIN(float, ga);
  float* b = PIN(float, ba);
  float* d = PIN(float, da);
  DISPATCH(isa, layer_norm_rows, s + off, rows, len, eps, g, b, d + off);
  UNPIN(da, d, 0);
  UNPIN(ba, b, JNI_ABORT);
  UNPIN(ga, g, JNI_ABORT);
  UNPIN(sa, s, sa == da ? 0 : JNI_ABORT);
}

JFN(nLayerNormRow)(JNIEnv* env, jclass c, jint isa, jfloatArray sa, jint off, jint len, jfloat eps, jfloatArray ga,
                   jfloatArray ba, jfloatArray da) {
  (void)c;
  float* s = PIN(float, sa);
  float* g = PIN(float, ga);
  float* b = PIN(float, ba);
  float* d = PIN(float, da);
  DISPATCH(isa, layer_norm_row, s + off, len, eps, g, b, d + off);
  UNPIN(da, d, 0);
  UNPIN(ba, b, JNI_ABORT);
  UNPIN(ga, g, JNI_ABORT);
  UNPIN(sa, s, sa == da ? 0 : JNI_ABORT);
}

JNIEXPORT jfloat JNICALL Java_dev_selfbyt_cortexsdr_djl_kernel_NativeKernels_nAffineMax(
    JNIEnv* env, jclass c, jint isa, jfloatArray xa, jint xOff, jfloat scale, jfloatArray ma, jint mOff, jint mStep,
    jfloatArray ya, jint yOff, jint len) {
  (void)c;
  float* x = PIN(float, xa);
  float* mk = PIN(float, ma);
  float* y = PIN(float, ya);
  float r;
  DISPATCH_R(r, isa, affine_max, x + xOff, scale, mk ? mk + mOff : NULL, mStep, y + yOff, len);
  UNPIN(ya, y, 0);
  UNPIN(ma, mk, JNI_ABORT);
  UNPIN(xa, x, xa == ya ? 0 : JNI_ABORT);
  return r;
}

JFN(nAxpy)(JNIEnv* env, jclass c, jint isa, jfloat a, jfloatArray xa, jint xOff, jfloatArray ya, jint yOff,
           jint len) {
  (void)c;
  float* x = PIN(float, xa);
  float* y = PIN(float, ya);
  DISPATCH(isa, axpy, a, x + xOff, y + yOff, len);
  UNPIN(ya, y, 0);
  UNPIN(xa, x, xa == ya ? 0 : JNI_ABORT);
}

JFN(nSoftmaxRows)(JNIEnv* env, jclass c, jint isa, jfloatArray xa, jint off, jint rows, jint cols, jfloat scale,
                  jfloatArray ma, jintArray ra, jint rOff, jint mStep, jfloatArray ya) {
  (void)c;
  float* x = PIN(float, xa);
  float* mk = PIN(float, ma);
  int32_t* mr = PIN(int32_t, ra);
  float* y = PIN(float, ya);
  FpMode f = ftz_on();
  DISPATCH(isa, softmax_rows, x + off, rows, cols, scale, mk, mr ? mr + rOff : NULL, mStep, y + off);
  ftz_off(f);
  UNPIN(ya, y, 0);
  UNPIN(ra, mr, JNI_ABORT);
  UNPIN(ma, mk, JNI_ABORT);
  UNPIN(xa, x, xa == ya ? 0 : JNI_ABORT);
}

JFN(nSparseRowsT)(JNIEnv* env, jclass c, jint isa, jintArray sa, jintArray ca, jfloatArray va, jint r0, jint r1,
                  jfloatArray xa, jint m, jfloatArray ya, jint yOff, jint ldy) {
  (void)c;
  int32_t* st = PIN(int32_t, sa);
  int32_t* col = PIN(int32_t, ca);
  float* val = PIN(float, va);
  float* xt = PIN(float, xa);
  float* y = PIN(float, ya);
  FpMode f = ftz_on();
  DISPATCH(isa, sparse_rows_t, st, col, val, r0, r1, xt, m, y + yOff, ldy);
  ftz_off(f);
  UNPIN(ya, y, 0);
  UNPIN(xa, xt, JNI_ABORT);
  UNPIN(va, val, JNI_ABORT);
  UNPIN(ca, col, JNI_ABORT);
  UNPIN(sa, st, JNI_ABORT);
}

JFN(nSparseRowsG)(JNIEnv* env, jclass c, jint isa, jintArray sa, jintArray ca, jfloatArray va, jint r0, jint r1,
                  jfloatArray xa, jint xOff, jint m, jint k, jfloatArray ya, jint yOff, jint ldy) {
  (void)c;
  int32_t* st = PIN(int32_t, sa);
  int32_t* col = PIN(int32_t, ca);
  float* val = PIN(float, va);
  float* x = PIN(float, xa);
  float* y = PIN(float, ya);
  FpMode f = ftz_on();
  DISPATCH(isa, sparse_rows_g, st, col, val, r0, r1, x + xOff, m, k, y + yOff, ldy);
  ftz_off(f);
  UNPIN(ya, y, 0);
  UNPIN(xa, x, JNI_ABORT);
  UNPIN(va, val, JNI_ABORT);
  UNPIN(ca, col, JNI_ABORT);
  UNPIN(sa, st, JNI_ABORT);
}

JFN(nScale)(JNIEnv* env, jclass c, jint isa, jfloatArray aa, jint off, jint len, jfloat f) {
  (void)c;
  float* a = PIN(float, aa);
  DISPATCH(isa, scale, a + off, len, f);
  UNPIN(aa, a, 0);
}

JNIEXPORT jfloat JNICALL Java_dev_selfbyt_cortexsdr_djl_kernel_NativeKernels_nDot(
    JNIEnv* env, jclass c, jint isa, jfloatArray aa, jint aOff, jfloatArray ba, jint bOff, jint len) {
  (void)c;
  float* a = PIN(float, aa);
  float* b = PIN(float, ba);
  float r;
  DISPATCH_R(r, isa, dot, a + aOff, b + bOff, len);
  UNPIN(ba, b, JNI_ABORT);
  UNPIN(aa, a, aa == ba ? 0 : JNI_ABORT);
  return r;
}

JFN(nGemmU8S8)(JNIEnv* env, jclass c, jint isa, jbyteArray xa, jint xOff, jint m, jint kp, jbyteArray wa,
               jint wOff, jint nb, jint zp, jintArray ca, jint cOff, jfloat ascale, jfloatArray sa, jint sOff,
               jfloatArray ya, jint yOff, jint ldy, jfloatArray ba, jint bOff, jboolean narrow) {
  (void)c;
  uint8_t* x = PIN(uint8_t, xa);
  int8_t* w = PIN(int8_t, wa);
  int32_t* cs = PIN(int32_t, ca);
  float* s = PIN(float, sa);
  float* y = PIN(float, ya);
  float* b = PIN(float, ba);
  FpMode f = ftz_on();
  gemm_u8s8_panels(isa, x + xOff, m, kp, w + wOff, nb, zp, cs + cOff, ascale, s + sOff, b ? b + bOff : NULL,
                   y + yOff, ldy, narrow);
  ftz_off(f);
  UNPIN(ba, b, JNI_ABORT);
  UNPIN(ya, y, 0);
  UNPIN(sa, s, JNI_ABORT);
  UNPIN(ca, cs, JNI_ABORT);
  UNPIN(wa, w, JNI_ABORT);
  UNPIN(xa, x, JNI_ABORT);
}

JFN(nQuantizeU8)(JNIEnv* env, jclass c, jint isa, jfloatArray xa, jint xOff, jint m, jint k, jint kp, jbyteArray oa,
                 jfloatArray pa) {
  (void)c;
  float* x = PIN(float, xa);
  uint8_t* o = PIN(uint8_t, oa);
  float* p = PIN(float, pa);
  DISPATCH(isa, quantize_u8, x + xOff, m, k, kp, o, p);
  UNPIN(pa, p, 0);
  UNPIN(oa, o, 0);
  UNPIN(xa, x, JNI_ABORT);
}

/* DynamicQuantizeLinear's first pass over len values: mm receives min(0, min x) and max(0, max x) */
JFN(nRangeF32)(JNIEnv* env, jclass c, jint isa, jfloatArray xa, jint xOff, jint len, jfloatArray ma) {
  (void)c;
  float* x = PIN(float, xa);
  float* mm = PIN(float, ma);
  DISPATCH(isa, range_f32, x + xOff, (size_t)len, mm);
  UNPIN(ma, mm, 0);
  UNPIN(xa, x, JNI_ABORT);
}

/* its second pass over m rows of k from x + xOff into out + oOff (kp apart), with the given scale and zero point */
JFN(nQuantizeU8Rows)(JNIEnv* env, jclass c, jint isa, jfloatArray xa, jint xOff, jint m, jint k, jint kp,
                     jbyteArray oa, jint oOff, jfloat scale, jfloat zp) {
  (void)c;
  float* x = PIN(float, xa);
  uint8_t* o = PIN(uint8_t, oa);
  DISPATCH(isa, quantize_rows_u8, x + xOff, m, k, kp, o + oOff, scale, zp);
  UNPIN(oa, o, 0);
  UNPIN(xa, x, JNI_ABORT);
}

/* ---- sparse products on trusted CSR (SparseMatrix checks it once, at load) ---- */

JFN(nSparseRowsTB)(JNIEnv* env, jclass c, jint isa, jintArray sa, jintArray ca, jfloatArray va, jint r0, jint r1,
                   jfloatArray xa, jint m, jfloatArray ya, jint yOff, jint ldy) {
  (void)c;
  int32_t* st = PIN(int32_t, sa);
  int32_t* col = PIN(int32_t, ca);
  float* val = PIN(float, va);
  float* xt = PIN(float, xa);
  float* y = PIN(float, ya);
  FpMode f = ftz_on();
  DISPATCH(isa, sparse_rows_tb, st, col, val, r0, r1, xt, m, y + yOff, ldy);
  ftz_off(f);
  UNPIN(ya, y, 0);
  UNPIN(xa, xt, JNI_ABORT);
  UNPIN(va, val, JNI_ABORT);
  UNPIN(ca, col, JNI_ABORT);
  UNPIN(sa, st, JNI_ABORT);
}

JFN(nSparseConv)(JNIEnv* env, jclass c, jint isa, jintArray sa, jintArray ca, jfloatArray va, jint r0, jint r1,
                 jfloatArray pa, jint pOff, jintArray oa, jint q, jint wq, jint oh, jint ow, jfloatArray ya,
                 jint yOff) {
  (void)c;
  int32_t* st = PIN(int32_t, sa);
  int32_t* col = PIN(int32_t, ca);
  float* val = PIN(float, va);
  float* ph = PIN(float, pa);
  int32_t* off = PIN(int32_t, oa);
  float* y = PIN(float, ya);
  FpMode f = ftz_on();
  DISPATCH(isa, sparse_conv, st, col, val, r0, r1, ph + pOff, off, q, wq, oh, ow, y + yOff);
  ftz_off(f);
  UNPIN(ya, y, 0);
  UNPIN(oa, off, JNI_ABORT);
  UNPIN(pa, ph, JNI_ABORT);
  UNPIN(va, val, JNI_ABORT);
  UNPIN(ca, col, JNI_ABORT);
  UNPIN(sa, st, JNI_ABORT);
}
