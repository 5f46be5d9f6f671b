/*
 * What the kernel library's two translation units (cortexsdr_kernels.c, fused_ops.c) share around
 * their JNI entry points: the instruction-set numbers, flushing denormals for the length of one call, and pinning Java arrays.
 * Included after <immintrin.h> (x86-64) and <jni.h>.
 */
#ifndef CORTEXSDR_CALL_H
#define CORTEXSDR_CALL_H

#include <stdint.h>

/* The instruction sets, as NativeKernels numbers them. AMX runs the AVX-512 kernels everywhere but
 * the W8A8 product, so a dispatch on AVX-512 must take ISA_AMX too. */
enum { ISA_PORTABLE = 0, ISA_AVX2 = 1, ISA_AVX512 = 2, ISA_AMX = 3 };

/* ---- denormals flushed inside a call ---- */
typedef struct {
#if defined(__x86_64__)
  unsigned csr;
#elif defined(__aarch64__)
  uint64_t fpcr;
#else
  int unused;
#endif
} FpMode;

static inline FpMode ftz_on(void) {
  FpMode m;
#if defined(__x86_64__)
  m.csr = _mm_getcsr();
  _mm_setcsr(m.csr | 0x8040); /* FTZ (bit 15) and DAZ (bit 6) */
#elif defined(__aarch64__)
  __asm__ volatile("mrs %0, fpcr" : "=r"(m.fpcr));
  __asm__ volatile("msr fpcr, %0" ::"r"(m.fpcr | (1ull << 24)));
#else
  m.unused = 0;
#endif
  return m;
}

static inline void ftz_off(FpMode m) {
#if defined(__x86_64__)
  _mm_setcsr(m.csr);
#elif defined(__aarch64__)
  __asm__ volatile("msr fpcr, %0" ::"r"(m.fpcr));
#else
  (void)m;
#endif
}

/* a Java array's elements for the length of one call (NULL stays NULL) */
#define PIN(T, arr) ((arr) ? (T*)(*env)->GetPrimitiveArrayCritical(env, (arr), NULL) : NULL)
#define UNPIN(arr, p, mode) \
  if (arr) (*env)->ReleasePrimitiveArrayCritical(env, (arr), (p), (mode))

#endif
