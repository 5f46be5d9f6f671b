/*
 * CortexSDR custom operators for ONNX Runtime (domain "ai.cortexsdr").
 *
 * SdrMatMul: Y = X * W, where W [K, N] is stored sparse, column by column (compressed sparse
 * columns: the non-zeros of output column n are entries col_ptr[n] .. col_ptr[n+1]-1).
 *
 *   inputs   0 X           float [..., K]
 *            1 col_ptr     int32 [N + 1], ascending, col_ptr[0] = 0, col_ptr[N] = nnz
 *            2 row_idx     uint16 or int32 [nnz], the row k (0 <= k < K) of each non-zero
 *            3 values      bits = 32: float [nnz]; bits = 8: uint8 [nnz];
 *                          bits = 4: uint8 [ceil(nnz / 2)], two codes a byte, low nibble first
 *            4 scales      float [ceil(nnz / block_size)]        (bits 8 and 4 only)
 *            5 zero_points uint8 [ceil(nnz / block_size)], optional, default 2^(bits-1)
 *            6 B           float [N], optional: added to every row (the graph's following Add of a
 *                          bias folded in, SdrFolds)
 *   output   0 Y           float [..., N]
 *   attributes  K, N (int, required), bits (32, 8 or 4; default 32), block_size (int, required
 *            for bits 8 and 4): non-zero j (in storage order) has value
 *            (code[j] - zero_points[j / block_size]) * scales[j / block_size];
 *            relu (int, default 0): 1 writes max(0, Y + B), the graph's following Relu folded in.
 *
 * SdrConv: Y = Conv(X, W) + B for a 2-D convolution (group 1) whose weight W [N, C, kh, kw] is
 * stored the same way, one column per output channel over K = C * kh * kw rows (row k = (c * kh +
 * dy) * kw + dx, the order of the .cai SDR positions of a Conv weight):
 *
 *   inputs   0 X           float [B, C, H, W]
 *            1..5          as SdrMatMul (col_ptr, row_idx, values, scales, zero_points)
 *            6 B           float [N], optional
 *   output   0 Y           float [B, N, OH, OW]
 *   attributes  K, N, bits, block_size as SdrMatMul; kernel_shape [kh, kw] (required), pads
 *            [top, left, bottom, right] (default 0), strides and dilations [h, w] (default 1);
 *            relu (int, default 0): 1 writes max(0, Y), the graph's following Relu folded in
 *            (SdrFolds), so ONNX Runtime does not spend a pass over Y on it;
 *            pool (int, default 0): 1 when the graph's following MaxPool is folded in, with
 *            pool_kernel_shape [ph, pw] (required then), pool_pads [top, left, bottom, right]
 *            (default 0), pool_strides [h, w] (default 1), pool_ceil_mode (default 0), as ONNX's
 *            MaxPool (dilation 1); each pad must be below the window and, with ceil_mode, each
 *            stride at most the window minus the end pad, so every window holds a pixel. Y is then
 *            [B, N, PH, PW]: the convolution's tiles are written as computed into a per-image buffer
 *            still in cache, pooled from there, and the bias and Relu applied to the pooled values
 *            (they commute with the max). ONNX Runtime's own Conv and MaxPool run in its blocked
 *            NCHWc layout; without the fold an NCHW MaxPool after SdrConv cost more than the
 *            sparse convolution saved.
 *
 * No patch matrix is built: X is copied once per image, row by row, padded and split by stride
 * phase, so that every kernel tap reads a contiguous run of it for a run of output pixels
 * (conv_compute); a convolution is then the same sparse multiply-add per non-zero as SdrMatMul's.
 *
 * This is the layout the .cai SDR codec keeps for a MatMul weight: positions in fiber-major order
 * (one fiber = one output column, since MatMul reduces along K) and the kept values quantized in
 * blocks along their storage order. One column's work is a dot product of X's row with a gathered
 * subset of it, which vectorizes with gather instructions, and memory stays proportional to the
 * non-zeros.
 *
 * Two kernels: for few rows (M <= 4) each output is a gathered dot product; for more rows X is
 * transposed into tiles of TW rows so each non-zero becomes one contiguous multiply-add over the
 * tile. Work is split with the kernel context's parallel-for (ONNX Runtime's intra-op threads).
 * AVX-512 and AVX2+FMA versions are picked at run time (__builtin_cpu_supports), with a portable
 * C version for other CPUs (and for aarch64, where the compiler vectorizes it).
 *
 * Session config entries read at registration (SessionOptions.addConfigEntry):
 *   cortexsdr.ops.isa            auto (default), avx512, avx2 or scalar: force one code path
 *   cortexsdr.ops.required_api   a C API version to require instead of the minimum (tests)
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "onnxruntime_c_api.h"

#if defined(__x86_64__)
#include <immintrin.h>
#endif

#define CSDR_EXPORT __attribute__((visibility("default")))
/* KernelContext_ParallelFor, KernelComputeV2 and KernelInfo_GetNodeName: ONNX Runtime 1.17 */
#define CSDR_MIN_API 17
#define CSDR_FEW_ROWS 4
/* multiply-adds below which a product runs on the calling thread: waking the pool costs more */
#define CSDR_SERIAL_WORK (1 << 18)

enum { ISA_SCALAR = 0, ISA_AVX2 = 1, ISA_AVX512 = 2, ISA_AUTO = 3 };
static const char* ISA_NAMES[] = {"scalar", "avx2", "avx512", "auto"};

typedef struct {
  OrtCustomOp op;
  int isa;
  int conv; /* 0: SdrMatMul, 1: SdrConv */
  const OrtApi* api; /* for shape inference, which gets no kernel */
} SdrOp;

typedef struct {
  const OrtApi* api;
  int isa;
  int64_t K, N, bits, block;
  char name[160];
  char label[192]; /* "SdrMatMul node 'name'": how error messages name the node */
  /* constant inputs already checked (initializers keep their address) */
  pthread_mutex_t lock;
  const void* checked[5];
  int64_t checked_nnz;
  int constant_weights; /* inputs 1..5 are initializers: checking once per address is safe */
  int conv;
  int64_t kernel[2], pads[4], strides[2], dilations[2]; /* SdrConv */
  int64_t relu; /* 1 when the graph's following Relu was folded in (max(0, y) as it writes) */
  /* SdrConv: the graph's following MaxPool folded in (pooled while the conv output is in cache) */
  int64_t pool, pool_kernel[2], pool_strides[2], pool_pads[4], pool_ceil;
  /* the many-rows kernels' input buffer (transposed tiles, SdrConv's planes), kept between runs:
   * fresh pages each run cost more in page faults than a small product takes */
  pthread_mutex_t scratch_lock;
  float* scratch;
  size_t scratch_bytes;
} SdrKernel;

/* One weight as the kernels see it. */
typedef struct {
  int64_t K, N, nnz, block;
  int bits;
  const int32_t* col_ptr;
  const uint16_t* idx16; /* one of idx16, idx32 */
  const int32_t* idx32;
  const float* vf;   /* bits 32 */
  const uint8_t* vq; /* bits 8, 4 */
  const float* scales;
  const uint8_t* zps; /* NULL: 2^(bits-1) */
} Weights;

static inline int64_t idx_at(const Weights* w, int64_t j) {
  return w->idx16 ? w->idx16[j] : w->idx32[j];
}

static inline int code_at(const Weights* w, int64_t j) {
  return w->bits == 8 ? w->vq[j] : (w->vq[j >> 1] >> ((j & 1) * 4)) & 0xf;
}

static inline int zp_at(const Weights* w, int64_t b) {
  return w->zps ? w->zps[b] : 1 << (w->bits - 1);
}

static inline float value_at(const Weights* w, int64_t j) {
  if (w->bits == 32) {
    return w->vf[j];
  }
  int64_t b = j / w->block;
  return (float)(code_at(w, j) - zp_at(w, b)) * w->scales[b];
}

/* ---------------------------------------------------------------- portable kernels */

/*
 * The row of input that non-zero j multiplies in the many-rows kernels: row idx of the transposed
 * tile (SdrMatMul, off NULL), or the input at offset off[idx] (SdrConv: the kernel tap's shifted
 * window of the padded, stride-split input, see conv_compute).
 */
#define ROWP(j) (off ? xt + off[idx_at(w, (j))] : xt + idx_at(w, (j)) * tw)

static float dot_scalar(const Weights* w, const float* x, int64_t s, int64_t e) {
  float acc = 0.f;
  if (w->bits == 32) {
    for (int64_t j = s; j < e; j++) {
      acc += w->vf[j] * x[idx_at(w, j)];
    }
    return acc;
  }
  for (int64_t j = s; j < e;) {
    int64_t b = j / w->block;
    int64_t be = (b + 1) * w->block < e ? (b + 1) * w->block : e;
    int z = zp_at(w, b);
    float seg = 0.f;
    for (; j < be; j++) {
      seg += (float)(code_at(w, j) - z) * x[idx_at(w, j)];
    }
    acc += seg * w->scales[b];
  }
  return acc;
}

/* acc[0..tw) = sum over the column's non-zeros of value * xt[row * tw .. + tw) */
static void axpy_scalar(const Weights* w, const float* xt, int tw, const int64_t* off, int64_t s, int64_t e, float* acc) {
  for (int i = 0; i < tw; i++) {
    acc[i] = 0.f;
  }
  for (int64_t j = s; j < e; j++) {
    float v = value_at(w, j);
    const float* r = ROWP(j);
    for (int i = 0; i < tw; i++) {
      acc[i] += v * r[i];
    }
  }
}

/*
 * SdrConv's folded MaxPool over one channel's convolution output [OH, OW] (rows ld floats apart,
 * still in cache) into out [PH, PW], then the bias and the folded Relu on the pooled values (both
 * commute with the max, and there are a quarter as many). The node's attributes guarantee every
 * window holds at least one pixel (pads below the window, and with ceil_mode no window starting past
 * the end), so the max starts from a real pixel and padding never enters it, as ONNX's MaxPool
 * ignores padding. Windows that lie inside the
 * row take the loop the compiler vectorizes (2 x 2 stride 2, the common one, on its own); the few
 * at the edges are clipped one by one. Always inlined into one function per instruction set.
 */
static inline __attribute__((always_inline)) float pool_edge(const float* in, int64_t ld, int64_t OW, int64_t r0,
                                                             int64_t r1, int64_t c0, int64_t c1) {
  if (c0 < 0) c0 = 0;
  if (c1 > OW) c1 = OW;
  float m = in[r0 * ld + c0];
  for (int64_t r = r0; r < r1; r++) {
    for (int64_t c = c0; c < c1; c++) {
      float v = in[r * ld + c];
      m = v > m ? v : m;
    }
  }
  return m;
}

/* bias and Relu on a pooled plane (NaN stays NaN, as ONNX's Relu) */
static inline __attribute__((always_inline)) void pool_epilogue(float* restrict out, int64_t count, float bias,
                                                                int relu) {
  if (relu) {
    for (int64_t i = 0; i < count; i++) {
      float v = out[i] + bias;
      out[i] = v < 0.f ? 0.f : v;
    }
  } else {
    for (int64_t i = 0; i < count; i++) out[i] += bias;
  }
}

static inline __attribute__((always_inline)) void pool_plane_body(const int64_t* kern, const int64_t* str,
                                                                  const int64_t* pads, const float* restrict in,
                                                                  int64_t ld, int64_t OH, int64_t OW,
                                                                  float* restrict out, int64_t PH, int64_t PW,
                                                                  float bias, int relu) {
  int64_t kh = kern[0], kw = kern[1], sy = str[0], sx = str[1], pt = pads[0], pl = pads[1];
  /* px in [x0, x1): the window's columns px * sx - pl .. + kw - 1 all lie in [0, OW) */
  int64_t x0 = (pl + sx - 1) / sx;
  int64_t x1 = OW + pl - kw < 0 ? 0 : (OW + pl - kw) / sx + 1;
  if (x1 > PW) x1 = PW;
  if (x0 > x1) x0 = x1;
  for (int64_t py = 0; py < PH; py++) {
    int64_t r0 = py * sy - pt, r1 = r0 + kh;
    if (r0 < 0) r0 = 0;
    if (r1 > OH) r1 = OH;
    float* restrict o = out + py * PW;
    for (int64_t px = 0; px < x0; px++) o[px] = pool_edge(in, ld, OW, r0, r1, px * sx - pl, px * sx - pl + kw);
    for (int64_t px = x1; px < PW; px++) o[px] = pool_edge(in, ld, OW, r0, r1, px * sx - pl, px * sx - pl + kw);
    if (kw == 2 && sx == 2) {
      for (int64_t r = r0; r < r1; r++) {
        const float* restrict row = in + r * ld - pl;
        if (r == r0) {
          for (int64_t px = x0; px < x1; px++) {
            float a = row[2 * px], b = row[2 * px + 1];
            o[px] = a > b ? a : b;
          }
        } else {
          for (int64_t px = x0; px < x1; px++) {
            float a = row[2 * px], b = row[2 * px + 1], m = a > b ? a : b;
            o[px] = m > o[px] ? m : o[px];
          }
        }
      }
    } else {
      for (int64_t px = x0; px < x1; px++) o[px] = in[r0 * ld + px * sx - pl];
      for (int64_t r = r0; r < r1; r++) {
        const float* restrict row = in + r * ld - pl;
        for (int64_t dx = 0; dx < kw; dx++) {
          for (int64_t px = x0; px < x1; px++) {
            float v = row[px * sx + dx];
            o[px] = v > o[px] ? v : o[px];
          }
        }
      }
    }
  }
  pool_epilogue(out, PH * PW, bias, relu);
}

typedef void (*PoolFn)(const int64_t*, const int64_t*, const int64_t*, const float*, int64_t, int64_t, int64_t,
                       float*, int64_t, int64_t, float, int);

static void pool_scalar(const int64_t* kern, const int64_t* str, const int64_t* pads, const float* in, int64_t ld,
                        int64_t OH, int64_t OW, float* out, int64_t PH, int64_t PW, float bias, int relu) {
  pool_plane_body(kern, str, pads, in, ld, OH, OW, out, PH, PW, bias, relu);
}

#if defined(__x86_64__)
/* ---------------------------------------------------------------- AVX2 + FMA */
#pragma GCC push_options
#pragma GCC target("avx2,fma")

static inline float hsum256(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_shuffle_ps(s, s, 1));
  return _mm_cvtss_f32(s);
}

static inline __m256i idx8_avx2(const Weights* w, int64_t j) {
  return w->idx16 ? _mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i*)(w->idx16 + j)))
                  : _mm256_loadu_si256((const __m256i*)(w->idx32 + j));
}

/* 8 codes from j (even when 4-bit) as int32 */
static inline __m256i codes8_avx2(const Weights* w, int64_t j) {
  if (w->bits == 8) {
    return _mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i*)(w->vq + j)));
  }
  int32_t packed;
  memcpy(&packed, w->vq + (j >> 1), 4);
  __m128i b = _mm_cvtsi32_si128(packed);
  __m128i m = _mm_set1_epi8(0x0f);
  __m128i lo = _mm_and_si128(b, m);
  __m128i hi = _mm_and_si128(_mm_srli_epi16(b, 4), m);
  return _mm256_cvtepu8_epi32(_mm_unpacklo_epi8(lo, hi));
}

static float dot_avx2(const Weights* w, const float* x, int64_t s, int64_t e) {
  if (w->bits == 32) {
    __m256 acc = _mm256_setzero_ps();
    int64_t j = s;
    for (; j + 8 <= e; j += 8) {
      __m256 xv = _mm256_i32gather_ps(x, idx8_avx2(w, j), 4);
      acc = _mm256_fmadd_ps(_mm256_loadu_ps(w->vf + j), xv, acc);
    }
    float t = hsum256(acc);
    for (; j < e; j++) {
      t += w->vf[j] * x[idx_at(w, j)];
    }
    return t;
  }
  __m256 acc = _mm256_setzero_ps();
  float scalar = 0.f;
  for (int64_t j = s; j < e;) {
    int64_t b = j / w->block;
    int64_t be = (b + 1) * w->block < e ? (b + 1) * w->block : e;
    int z = zp_at(w, b);
    float sc = w->scales[b];
    if (w->bits == 4 && (j & 1) && j < be) {
      scalar += (float)(code_at(w, j) - z) * sc * x[idx_at(w, j)];
      j++;
    }
    __m256i zv = _mm256_set1_epi32(z);
    __m256 sv = _mm256_set1_ps(sc);
    for (; j + 8 <= be; j += 8) {
      __m256 xv = _mm256_i32gather_ps(x, idx8_avx2(w, j), 4);
      __m256 cv = _mm256_cvtepi32_ps(_mm256_sub_epi32(codes8_avx2(w, j), zv));
      acc = _mm256_fmadd_ps(_mm256_mul_ps(cv, sv), xv, acc);
    }
    for (; j < be; j++) {
      scalar += (float)(code_at(w, j) - z) * sc * x[idx_at(w, j)];
    }
  }
  return hsum256(acc) + scalar;
}

/* tile of 32 rows: two sets of four accumulators over alternate non-zeros */
static void axpy_avx2(const Weights* w, const float* xt, int tw, const int64_t* off, int64_t s, int64_t e, float* out) {
  __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
  __m256 b0 = a0, b1 = a0, b2 = a0, b3 = a0;
  for (int64_t j = s; j < e;) {
    int64_t be = e;
    float sc = 1.f;
    int z = 0;
    if (w->bits != 32) {
      int64_t b = j / w->block;
      be = (b + 1) * w->block < e ? (b + 1) * w->block : e;
      sc = w->scales[b];
      z = zp_at(w, b);
    }
    for (; j + 2 <= be; j += 2) {
      float v0 = w->bits == 32 ? w->vf[j] : (float)(code_at(w, j) - z) * sc;
      float v1 = w->bits == 32 ? w->vf[j + 1] : (float)(code_at(w, j + 1) - z) * sc;
      __m256 v = _mm256_set1_ps(v0);
      __m256 u = _mm256_set1_ps(v1);
      const float* r = ROWP(j);
      const float* q = ROWP(j + 1);
      a0 = _mm256_fmadd_ps(v, _mm256_loadu_ps(r), a0);
      a1 = _mm256_fmadd_ps(v, _mm256_loadu_ps(r + 8), a1);
      a2 = _mm256_fmadd_ps(v, _mm256_loadu_ps(r + 16), a2);
      a3 = _mm256_fmadd_ps(v, _mm256_loadu_ps(r + 24), a3);
      b0 = _mm256_fmadd_ps(u, _mm256_loadu_ps(q), b0);
      b1 = _mm256_fmadd_ps(u, _mm256_loadu_ps(q + 8), b1);
      b2 = _mm256_fmadd_ps(u, _mm256_loadu_ps(q + 16), b2);
      b3 = _mm256_fmadd_ps(u, _mm256_loadu_ps(q + 24), b3);
    }
    if (j < be) {
      __m256 v = _mm256_set1_ps(w->bits == 32 ? w->vf[j] : (float)(code_at(w, j) - z) * sc);
      const float* r = ROWP(j);
      a0 = _mm256_fmadd_ps(v, _mm256_loadu_ps(r), a0);
      a1 = _mm256_fmadd_ps(v, _mm256_loadu_ps(r + 8), a1);
      a2 = _mm256_fmadd_ps(v, _mm256_loadu_ps(r + 16), a2);
      a3 = _mm256_fmadd_ps(v, _mm256_loadu_ps(r + 24), a3);
      j++;
    }
  }
  _mm256_storeu_ps(out, _mm256_add_ps(a0, b0));
  _mm256_storeu_ps(out + 8, _mm256_add_ps(a1, b1));
  _mm256_storeu_ps(out + 16, _mm256_add_ps(a2, b2));
  _mm256_storeu_ps(out + 24, _mm256_add_ps(a3, b3));
}
/* SdrConv's wide tile, 64 lanes: eight accumulators over one non-zero at a time (the tap offsets) */
static void axpy_wide_avx2(const Weights* w, const float* xt, int tw, const int64_t* off, int64_t s, int64_t e,
                           float* out) {
  __m256 a[8];
  for (int i = 0; i < 8; i++) a[i] = _mm256_setzero_ps();
  for (int64_t j = s; j < e;) {
    int64_t be = e;
    float sc = 1.f;
    int z = 0;
    if (w->bits != 32) {
      int64_t b = j / w->block;
      be = (b + 1) * w->block < e ? (b + 1) * w->block : e;
      sc = w->scales[b];
      z = zp_at(w, b);
    }
    for (; j < be; j++) {
      __m256 v = _mm256_set1_ps(w->bits == 32 ? w->vf[j] : (float)(code_at(w, j) - z) * sc);
      const float* r = ROWP(j);
      for (int i = 0; i < 8; i++) a[i] = _mm256_fmadd_ps(v, _mm256_loadu_ps(r + 8 * i), a[i]);
    }
  }
  for (int i = 0; i < 8; i++) _mm256_storeu_ps(out + 8 * i, a[i]);
}
static void pool_avx2(const int64_t* kern, const int64_t* str, const int64_t* pads, const float* in, int64_t ld,
                      int64_t OH, int64_t OW, float* out, int64_t PH, int64_t PW, float bias, int relu) {
  pool_plane_body(kern, str, pads, in, ld, OH, OW, out, PH, PW, bias, relu);
}
#pragma GCC pop_options

/* ---------------------------------------------------------------- AVX-512 */
#pragma GCC push_options
#pragma GCC target("avx512f,avx512bw,avx512vl,avx2,fma")

static inline __m512i idx16_avx512(const Weights* w, int64_t j) {
  return w->idx16 ? _mm512_cvtepu16_epi32(_mm256_loadu_si256((const __m256i*)(w->idx16 + j)))
                  : _mm512_loadu_si512((const void*)(w->idx32 + j));
}

static inline __m512i idx16_mask_avx512(const Weights* w, int64_t j, __mmask16 m) {
  return w->idx16 ? _mm512_cvtepu16_epi32(_mm256_maskz_loadu_epi16(m, w->idx16 + j))
                  : _mm512_maskz_loadu_epi32(m, w->idx32 + j);
}

/* 16 codes from j (even when 4-bit) as int32 */
static inline __m512i codes16_avx512(const Weights* w, int64_t j) {
  if (w->bits == 8) {
    return _mm512_cvtepu8_epi32(_mm_loadu_si128((const __m128i*)(w->vq + j)));
  }
  __m128i b = _mm_loadl_epi64((const __m128i*)(w->vq + (j >> 1)));
  __m128i m = _mm_set1_epi8(0x0f);
  __m128i lo = _mm_and_si128(b, m);
  __m128i hi = _mm_and_si128(_mm_srli_epi16(b, 4), m);
  return _mm512_cvtepu8_epi32(_mm_unpacklo_epi8(lo, hi));
}

static float dot_avx512(const Weights* w, const float* x, int64_t s, int64_t e) {
  if (w->bits == 32) {
    __m512 acc = _mm512_setzero_ps();
    int64_t j = s;
    for (; j + 16 <= e; j += 16) {
      __m512 xv = _mm512_i32gather_ps(idx16_avx512(w, j), x, 4);
      acc = _mm512_fmadd_ps(_mm512_loadu_ps(w->vf + j), xv, acc);
    }
    if (j < e) {
      __mmask16 m = (__mmask16)((1u << (e - j)) - 1);
      __m512 xv = _mm512_mask_i32gather_ps(_mm512_setzero_ps(), m, idx16_mask_avx512(w, j, m), x, 4);
      acc = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, w->vf + j), xv, acc);
    }
    return _mm512_reduce_add_ps(acc);
  }
  __m512 acc = _mm512_setzero_ps();
  float scalar = 0.f;
  for (int64_t j = s; j < e;) {
    int64_t b = j / w->block;
    int64_t be = (b + 1) * w->block < e ? (b + 1) * w->block : e;
    int z = zp_at(w, b);
    float sc = w->scales[b];
    if (w->bits == 4 && (j & 1) && j < be) {
      scalar += (float)(code_at(w, j) - z) * sc * x[idx_at(w, j)];
      j++;
    }
    __m512i zv = _mm512_set1_epi32(z);
    __m512 sv = _mm512_set1_ps(sc);
    for (; j + 16 <= be; j += 16) {
      __m512 xv = _mm512_i32gather_ps(idx16_avx512(w, j), x, 4);
      __m512 cv = _mm512_cvtepi32_ps(_mm512_sub_epi32(codes16_avx512(w, j), zv));
      acc = _mm512_fmadd_ps(_mm512_mul_ps(cv, sv), xv, acc);
    }
    if (j < be) {
      __mmask16 m = (__mmask16)((1u << (be - j)) - 1);
      __m512 xv = _mm512_mask_i32gather_ps(_mm512_setzero_ps(), m, idx16_mask_avx512(w, j, m), x, 4);
      __m512i c;
      if (w->bits == 8) {
        c = _mm512_cvtepu8_epi32(_mm_maskz_loadu_epi8(m, w->vq + j));
      } else {
        __mmask16 bytes = (__mmask16)((1u << ((be - j + 1) / 2)) - 1);
        __m128i p = _mm_maskz_loadu_epi8(bytes, w->vq + (j >> 1));
        __m128i nib = _mm_set1_epi8(0x0f);
        __m128i lo = _mm_and_si128(p, nib);
        __m128i hi = _mm_and_si128(_mm_srli_epi16(p, 4), nib);
        c = _mm512_cvtepu8_epi32(_mm_unpacklo_epi8(lo, hi));
      }
      __m512 cv = _mm512_maskz_cvtepi32_ps(m, _mm512_sub_epi32(c, zv));
      acc = _mm512_fmadd_ps(_mm512_mul_ps(cv, sv), xv, acc);
      j = be;
    }
  }
  return _mm512_reduce_add_ps(acc) + scalar;
}

/* tile of 64 rows: two sets of four accumulators over alternate non-zeros */
static void axpy_avx512(const Weights* w, const float* xt, int tw, const int64_t* off, int64_t s, int64_t e, float* out) {
  __m512 a0 = _mm512_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
  __m512 b0 = a0, b1 = a0, b2 = a0, b3 = a0;
  for (int64_t j = s; j < e;) {
    int64_t be = e;
    float sc = 1.f;
    int z = 0;
    if (w->bits != 32) {
      int64_t b = j / w->block;
      be = (b + 1) * w->block < e ? (b + 1) * w->block : e;
      sc = w->scales[b];
      z = zp_at(w, b);
    }
    for (; j + 2 <= be; j += 2) {
      float v0 = w->bits == 32 ? w->vf[j] : (float)(code_at(w, j) - z) * sc;
      float v1 = w->bits == 32 ? w->vf[j + 1] : (float)(code_at(w, j + 1) - z) * sc;
      __m512 v = _mm512_set1_ps(v0);
      __m512 u = _mm512_set1_ps(v1);
      const float* r = ROWP(j);
      const float* q = ROWP(j + 1);
      a0 = _mm512_fmadd_ps(v, _mm512_loadu_ps(r), a0);
      a1 = _mm512_fmadd_ps(v, _mm512_loadu_ps(r + 16), a1);
      a2 = _mm512_fmadd_ps(v, _mm512_loadu_ps(r + 32), a2);
      a3 = _mm512_fmadd_ps(v, _mm512_loadu_ps(r + 48), a3);
      b0 = _mm512_fmadd_ps(u, _mm512_loadu_ps(q), b0);
      b1 = _mm512_fmadd_ps(u, _mm512_loadu_ps(q + 16), b1);
      b2 = _mm512_fmadd_ps(u, _mm512_loadu_ps(q + 32), b2);
      b3 = _mm512_fmadd_ps(u, _mm512_loadu_ps(q + 48), b3);
    }
    if (j < be) {
      __m512 v = _mm512_set1_ps(w->bits == 32 ? w->vf[j] : (float)(code_at(w, j) - z) * sc);
      const float* r = ROWP(j);
      a0 = _mm512_fmadd_ps(v, _mm512_loadu_ps(r), a0);
      a1 = _mm512_fmadd_ps(v, _mm512_loadu_ps(r + 16), a1);
      a2 = _mm512_fmadd_ps(v, _mm512_loadu_ps(r + 32), a2);
      a3 = _mm512_fmadd_ps(v, _mm512_loadu_ps(r + 48), a3);
      j++;
    }
  }
  _mm512_storeu_ps(out, _mm512_add_ps(a0, b0));
  _mm512_storeu_ps(out + 16, _mm512_add_ps(a1, b1));
  _mm512_storeu_ps(out + 32, _mm512_add_ps(a2, b2));
  _mm512_storeu_ps(out + 48, _mm512_add_ps(a3, b3));
}
/* SdrConv's wide tile, 128 lanes: eight accumulators over one non-zero at a time (the tap offsets) */
static void axpy_wide_avx512(const Weights* w, const float* xt, int tw, const int64_t* off, int64_t s, int64_t e,
                             float* out) {
  __m512 a[8];
  for (int i = 0; i < 8; i++) a[i] = _mm512_setzero_ps();
  for (int64_t j = s; j < e;) {
    int64_t be = e;
    float sc = 1.f;
    int z = 0;
    if (w->bits != 32) {
      int64_t b = j / w->block;
      be = (b + 1) * w->block < e ? (b + 1) * w->block : e;
      sc = w->scales[b];
      z = zp_at(w, b);
    }
    for (; j < be; j++) {
      __m512 v = _mm512_set1_ps(w->bits == 32 ? w->vf[j] : (float)(code_at(w, j) - z) * sc);
      const float* r = ROWP(j);
      for (int i = 0; i < 8; i++) a[i] = _mm512_fmadd_ps(v, _mm512_loadu_ps(r + 16 * i), a[i]);
    }
  }
  for (int i = 0; i < 8; i++) _mm512_storeu_ps(out + 16 * i, a[i]);
}

/* 2-wide windows at stride 2 (the common pooling): the window's rows maxed over 32 contiguous inputs,
 * then split into even and odd columns with one permute each, 16 outputs, bias and Relu applied
 * before the store (the portable loop runs a row of a small image, 7 outputs, without vectors);
 * other windows take the portable loop */
static void pool_avx512(const int64_t* kern, const int64_t* str, const int64_t* pads, const float* in, int64_t ld,
                        int64_t OH, int64_t OW, float* out, int64_t PH, int64_t PW, float bias, int relu) {
  int64_t kh = kern[0], sy = str[0], pt = pads[0], pl = pads[1];
  if (kern[1] != 2 || str[1] != 2) {
    pool_plane_body(kern, str, pads, in, ld, OH, OW, out, PH, PW, bias, relu);
    return;
  }
  int64_t x0 = (pl + 1) / 2;
  int64_t x1 = OW + pl - 2 < 0 ? 0 : (OW + pl - 2) / 2 + 1;
  if (x1 > PW) x1 = PW;
  if (x0 > x1) x0 = x1;
  const __m512i even = _mm512_set_epi32(30, 28, 26, 24, 22, 20, 18, 16, 14, 12, 10, 8, 6, 4, 2, 0);
  const __m512i odd = _mm512_set_epi32(31, 29, 27, 25, 23, 21, 19, 17, 15, 13, 11, 9, 7, 5, 3, 1);
  const __m512 bv = _mm512_set1_ps(bias), zero = _mm512_setzero_ps();
  for (int64_t py = 0; py < PH; py++) {
    int64_t r0 = py * sy - pt, r1 = r0 + kh;
    if (r0 < 0) r0 = 0;
    if (r1 > OH) r1 = OH;
    float* o = out + py * PW;
    for (int64_t px = 0; px < x0; px++) {
      float v = pool_edge(in, ld, OW, r0, r1, px * 2 - pl, px * 2 - pl + 2) + bias;
      o[px] = relu && v < 0.f ? 0.f : v;
    }
    for (int64_t px = x1; px < PW; px++) {
      float v = pool_edge(in, ld, OW, r0, r1, px * 2 - pl, px * 2 - pl + 2) + bias;
      o[px] = relu && v < 0.f ? 0.f : v;
    }
    for (int64_t px = x0; px < x1; px += 16) {
      int64_t cnt = x1 - px < 16 ? x1 - px : 16;
      __mmask16 mlo = (__mmask16)(cnt >= 8 ? 0xffff : (1u << (2 * cnt)) - 1);
      __mmask16 mhi = (__mmask16)(cnt <= 8 ? 0 : cnt == 16 ? 0xffff : (1u << (2 * cnt - 16)) - 1);
      const float* src = in + r0 * ld + 2 * px - pl;
      __m512 lo = _mm512_maskz_loadu_ps(mlo, src), hi = mhi ? _mm512_maskz_loadu_ps(mhi, src + 16) : zero;
      for (int64_t r = r0 + 1; r < r1; r++) {
        src += ld;
        lo = _mm512_max_ps(lo, _mm512_maskz_loadu_ps(mlo, src));
        if (mhi) hi = _mm512_max_ps(hi, _mm512_maskz_loadu_ps(mhi, src + 16));
      }
      __m512 m = _mm512_max_ps(_mm512_permutex2var_ps(lo, even, hi), _mm512_permutex2var_ps(lo, odd, hi));
      m = _mm512_add_ps(m, bv);
      if (relu) m = _mm512_max_ps(zero, m); /* NaN stays NaN: the second operand is returned */
      _mm512_mask_storeu_ps(o + px, (__mmask16)((1u << cnt) - 1), m);
    }
  }
}
#pragma GCC pop_options
#endif

/* ---------------------------------------------------------------- dispatch */

typedef float (*DotFn)(const Weights*, const float*, int64_t, int64_t);
typedef void (*AxpyFn)(const Weights*, const float*, int, const int64_t*, int64_t, int64_t, float*);

static int cpu_isa(void) {
#if defined(__x86_64__)
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
      __builtin_cpu_supports("avx512vl")) {
    return ISA_AVX512;
  }
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) {
    return ISA_AVX2;
  }
#endif
  return ISA_SCALAR;
}

static DotFn dot_fn(int isa) {
#if defined(__x86_64__)
  if (isa == ISA_AVX512) return dot_avx512;
  if (isa == ISA_AVX2) return dot_avx2;
#endif
  (void)isa;
  return dot_scalar;
}

static AxpyFn axpy_fn(int isa) {
#if defined(__x86_64__)
  if (isa == ISA_AVX512) return axpy_avx512;
  if (isa == ISA_AVX2) return axpy_avx2;
#endif
  (void)isa;
  return axpy_scalar;
}

static int tile_width(int isa) {
  return isa == ISA_AVX512 ? 64 : 32;
}

/* SdrConv: a tile of output pixels twice as wide, eight accumulators per non-zero (fewer passes) */
static AxpyFn wide_axpy_fn(int isa) {
#if defined(__x86_64__)
  if (isa == ISA_AVX512) return axpy_wide_avx512;
  if (isa == ISA_AVX2) return axpy_wide_avx2;
#endif
  (void)isa;
  return axpy_scalar;
}

static PoolFn pool_fn(int isa) {
#if defined(__x86_64__)
  if (isa == ISA_AVX512) return pool_avx512;
  if (isa == ISA_AVX2) return pool_avx2;
#endif
  (void)isa;
  return pool_scalar;
}

static int wide_tile_width(int isa) {
  return isa == ISA_AVX512 ? 128 : isa == ISA_AVX2 ? 64 : 32;
}

/* ---------------------------------------------------------------- parallel jobs */

#define COLS_PER_TASK 32

typedef struct {
  const Weights* w;
  const float* x;
  float* y;
  float* xt;
  int64_t M;
  int tw;
  int64_t col_tasks;
  DotFn dot;
  AxpyFn axpy;
  const float* bias; /* [N] or NULL: the graph's following Add folded in */
  int relu;
} Job;

/* y = v + bias, max(0, y) when a Relu was folded in (as ONNX's Relu: NaN stays NaN) */
static inline float epilogue(float v, const float* bias, int64_t n, int relu) {
  if (bias) v += bias[n];
  return relu && v < 0.f ? 0.f : v;
}

static void few_rows_task(void* p, size_t t) {
  const Job* j = (const Job*)p;
  int64_t m = (int64_t)t / j->col_tasks;
  int64_t n0 = ((int64_t)t % j->col_tasks) * COLS_PER_TASK;
  int64_t n1 = n0 + COLS_PER_TASK < j->w->N ? n0 + COLS_PER_TASK : j->w->N;
  const float* x = j->x + m * j->w->K;
  float* y = j->y + m * j->w->N;
  for (int64_t n = n0; n < n1; n++) {
    y[n] = epilogue(j->dot(j->w, x, j->w->col_ptr[n], j->w->col_ptr[n + 1]), j->bias, n, j->relu);
  }
}

/* xt tile t holds rows t*tw .. t*tw+tw-1 of X transposed: xt[t][k][i], zero past M */
static void transpose_task(void* p, size_t t) {
  const Job* j = (const Job*)p;
  int64_t K = j->w->K;
  int tw = j->tw;
  float* out = j->xt + (int64_t)t * K * tw;
  int64_t m0 = (int64_t)t * tw;
  int rows = j->M - m0 < tw ? (int)(j->M - m0) : tw;
  const float* x = j->x + m0 * K;
  /* along k, then the tile's rows: each written row of xt is contiguous, and the rows of X read
   * (one cache line each per 16 steps of k) stay in L1 */
  for (int64_t k = 0; k < K; k++) {
    float* o = out + k * tw;
    for (int i = 0; i < rows; i++) {
      o[i] = x[i * K + k];
    }
    for (int i = rows; i < tw; i++) {
      o[i] = 0.f;
    }
  }
}

static void tile_task(void* p, size_t t) {
  const Job* j = (const Job*)p;
  int64_t tile = (int64_t)t / j->col_tasks;
  int64_t n0 = ((int64_t)t % j->col_tasks) * COLS_PER_TASK;
  int64_t n1 = n0 + COLS_PER_TASK < j->w->N ? n0 + COLS_PER_TASK : j->w->N;
  int tw = j->tw;
  const float* xt = j->xt + tile * j->w->K * tw;
  int64_t m0 = tile * tw;
  int64_t rows = j->M - m0 < tw ? j->M - m0 : tw;
  float acc[64];
  for (int64_t n = n0; n < n1; n++) {
    j->axpy(j->w, xt, tw, NULL, j->w->col_ptr[n], j->w->col_ptr[n + 1], acc);
    for (int64_t i = 0; i < rows; i++) {
      j->y[(m0 + i) * j->w->N + n] = epilogue(acc[i], j->bias, n, j->relu);
    }
  }
}

/* ---------------------------------------------------------------- kernel */

static OrtStatus* fail(const OrtApi* api, const char* fmt, const char* node, const char* detail) {
  char msg[512];
  snprintf(msg, sizeof msg, fmt, node, detail);
  return api->CreateStatus(ORT_INVALID_ARGUMENT, msg);
}

static const char* type_name(ONNXTensorElementDataType t) {
  switch (t) {
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT: return "float";
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_UINT8: return "uint8";
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_INT8: return "int8";
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_UINT16: return "uint16";
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_INT16: return "int16";
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_INT32: return "int32";
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_INT64: return "int64";
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_DOUBLE: return "double";
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT16: return "float16";
    default: return "another type";
  }
}

typedef struct {
  ONNXTensorElementDataType type;
  size_t rank;
  int64_t dims[8];
  int64_t count;
  void* data;
} Tensor;

#define CHECK(expr)                  \
  do {                               \
    OrtStatus* _s = (expr);          \
    if (_s) return _s;               \
  } while (0)

static OrtStatus* read_tensor(const OrtApi* api, const SdrKernel* k, const OrtValue* v, const char* what,
                              Tensor* t) {
  OrtTensorTypeAndShapeInfo* info;
  CHECK(api->GetTensorTypeAndShape(v, &info));
  OrtStatus* s = api->GetTensorElementType(info, &t->type);
  if (!s) s = api->GetDimensionsCount(info, &t->rank);
  if (!s && t->rank > 8) {
    api->ReleaseTensorTypeAndShapeInfo(info);
    return fail(api, "%s: input %s has more than 8 dimensions", k->label, what);
  }
  if (!s) s = api->GetDimensions(info, t->dims, t->rank);
  size_t count = 0;
  if (!s) s = api->GetTensorShapeElementCount(info, &count);
  api->ReleaseTensorTypeAndShapeInfo(info);
  if (s) return s;
  t->count = (int64_t)count;
  return api->GetTensorMutableData((OrtValue*)v, &t->data);
}

/* checks the weight arrays once per address: initializers do not move */
static OrtStatus* check_weights(SdrKernel* k, const Weights* w, Tensor* in) {
  const OrtApi* api = k->api;
  pthread_mutex_lock(&k->lock);
  int same = k->constant_weights && k->checked_nnz == w->nnz;
  for (int i = 0; i < 5; i++) {
    same = same && k->checked[i] == in[i + 1].data;
  }
  pthread_mutex_unlock(&k->lock);
  if (same) {
    return NULL;
  }
  char d[200];
  if (w->col_ptr[0] != 0) {
    return fail(api, "%s: col_ptr[0] must be 0%s", k->label, "");
  }
  for (int64_t n = 0; n < w->N; n++) {
    if (w->col_ptr[n + 1] < w->col_ptr[n]) {
      snprintf(d, sizeof d, " (col_ptr[%lld] = %d < col_ptr[%lld] = %d)", (long long)n + 1, w->col_ptr[n + 1],
               (long long)n, w->col_ptr[n]);
      return fail(api, "%s: col_ptr must not decrease%s", k->label, d);
    }
  }
  for (int64_t j = 0; j < w->nnz; j++) {
    int64_t r = idx_at(w, j);
    if (r < 0 || r >= w->K) {
      snprintf(d, sizeof d, "row_idx[%lld] = %lld is outside [0, K = %lld)", (long long)j, (long long)r,
               (long long)w->K);
      return fail(api, "%s: %s", k->label, d);
    }
  }
  pthread_mutex_lock(&k->lock);
  for (int i = 0; i < 5; i++) {
    k->checked[i] = in[i + 1].data;
  }
  k->checked_nnz = w->nnz;
  pthread_mutex_unlock(&k->lock);
  return NULL;
}

/*
 * A buffer of at least bytes for one run: the kernel's kept one when no other run holds it (grown
 * as needed, freed with the kernel), else a fresh one (runs of one session may overlap). NULL when
 * out of memory. Give it back with scratch_release.
 */
static float* scratch_acquire(SdrKernel* k, size_t bytes, int* own) {
  bytes = (bytes + 63) / 64 * 64;
  if (pthread_mutex_trylock(&k->scratch_lock) == 0) {
    if (k->scratch_bytes < bytes) {
      free(k->scratch);
      k->scratch = (float*)aligned_alloc(64, bytes);
      k->scratch_bytes = k->scratch ? bytes : 0;
    }
    if (k->scratch) {
      *own = 0;
      return k->scratch;
    }
    pthread_mutex_unlock(&k->scratch_lock);
  }
  *own = 1;
  return (float*)aligned_alloc(64, bytes);
}

static void scratch_release(SdrKernel* k, float* p, int own) {
  if (own) {
    free(p);
  } else {
    pthread_mutex_unlock(&k->scratch_lock);
  }
}

/*
 * The many-rows kernels go over the weights once per tile of rows (SdrConv: per tile of an image's
 * output pixels). With several passes, 8- and 4-bit values are decoded to floats once per call
 * (nnz floats, freed when the call ends; the same floats the code path computes), so the inner
 * loop is the float one. Returns the buffer to free, or NULL when out stays w (one pass, float
 * values, or no memory: the codes path is as exact).
 */
static float* decode_for_passes(const Weights* w, int64_t passes, Weights* out) {
  *out = *w;
  if (w->bits == 32 || passes < 2 || w->nnz == 0) {
    return NULL;
  }
  float* v = (float*)malloc((size_t)w->nnz * sizeof(float));
  if (!v) {
    return NULL;
  }
  for (int64_t j = 0; j < w->nnz; j++) {
    v[j] = value_at(w, j);
  }
  out->bits = 32;
  out->vf = v;
  return v;
}

/* ---------------------------------------------------------------- SdrConv */

/*
 * No patch matrix: each image's input is copied once, row by row, into its padded form split by
 * stride phase: plane (c, ry, rx) [Hq, Wq] holds padded row a * sy + ry, column b * sx + rx
 * (zero outside X). Output pixel (y, x) at position q = y * Wq + x of the [OH, Wq] output grid
 * then reads, for the kernel tap (c, dy, dx), the plane of phase (dy * dil_y % sy, dx * dil_x % sx)
 * at q + off[k], off[k] = the plane's start + (dy * dil_y / sy) * Wq + dx * dil_x / sx: for every
 * tap, a run of output positions is a contiguous run of one plane. So each non-zero weight is one
 * multiply-add over tw contiguous floats, the many-rows SdrMatMul kernel with the tap's offset in
 * place of its row of a transposed tile ("convolution focusing on active regions": the work is
 * proportional to the kept taps, pruned taps cost nothing). The Wq - OW positions past each output
 * row are computed and dropped.
 */
typedef struct {
  const Weights* w;
  const SdrKernel* k;
  const float* x;      /* the chunk's first image [C, H, W]; images follow each other */
  const float* bias;
  float* y;            /* the chunk's first output [N, OH, OW] */
  float* ph;           /* per image of the chunk, its planes (ph_size floats) */
  const int64_t* off;  /* per row k of W, its tap's offset from a position into an image's planes */
  int64_t C, H, W, OH, OW, Hq, Wq, ph_size, Q, tiles;
  int tw;
  int64_t col_tasks;
  AxpyFn axpy;
  /* a folded MaxPool: the convolution writes its tiles as they are (bias and Relu not yet applied)
   * into co, per image of the chunk co_size floats, per channel cs (its [OH, Wq] grid and the last
   * tile's slack), pooled from there into y [N, PH, PW] */
  float* co;
  int64_t co_size, cs, PH, PW;
  PoolFn pool;
} ConvJob;

/* task = image of the chunk: its padded, stride-split planes, row by row */
static void split_task(void* p, size_t image) {
  const ConvJob* j = (const ConvJob*)p;
  const SdrKernel* k = j->k;
  int64_t sy = k->strides[0], sx = k->strides[1], pt = k->pads[0], pl = k->pads[1];
  int64_t Hq = j->Hq, Wq = j->Wq;
  const float* x = j->x + (int64_t)image * j->C * j->H * j->W;
  float* out = j->ph + (int64_t)image * j->ph_size;
  /* zero once (padding, and the slack the last tile reads: its lanes are dropped), then copy the
   * rows in plain loops: a call per row of a small image costs more than the copy */
  memset(out, 0, (size_t)j->ph_size * sizeof(float));
  for (int64_t c = 0; c < j->C; c++) {
    for (int64_t ry = 0; ry < sy; ry++) {
      for (int64_t rx = 0; rx < sx; rx++) {
        float* plane = out + ((c * sy + ry) * sx + rx) * Hq * Wq;
        /* columns b whose input column b * sx + rx - pl lies in [0, W) */
        int64_t b0 = rx >= pl ? 0 : (pl - rx + sx - 1) / sx;
        int64_t b1 = j->W + pl - rx <= 0 ? 0 : (j->W + pl - rx + sx - 1) / sx;
        if (b0 > Wq) b0 = Wq;
        if (b1 > Wq) b1 = Wq;
        if (b1 <= b0) continue;
        /* rows a whose input row a * sy + ry - pt lies in [0, H) */
        int64_t a0 = ry >= pt ? 0 : (pt - ry + sy - 1) / sy;
        int64_t a1 = j->H + pt - ry <= 0 ? 0 : (j->H + pt - ry + sy - 1) / sy;
        if (a1 > Hq) a1 = Hq;
        for (int64_t a = a0; a < a1; a++) {
          float* restrict row = plane + a * Wq;
          const float* restrict src = x + (c * j->H + a * sy + ry - pt) * j->W + rx - pl;
          if (sx == 1) {
            for (int64_t b = b0; b < b1; b++) row[b] = src[b];
          } else {
            for (int64_t b = b0; b < b1; b++) row[b] = src[b * sx];
          }
        }
      }
    }
  }
}

/* task = (image * tiles + tile) * col_tasks + column chunk */
static void conv_tile_task(void* p, size_t task) {
  const ConvJob* j = (const ConvJob*)p;
  int64_t it = (int64_t)task / j->col_tasks; /* image * tiles + tile */
  int64_t image = it / j->tiles, tile = it % j->tiles;
  int64_t n0 = ((int64_t)task % j->col_tasks) * COLS_PER_TASK;
  int64_t n1 = n0 + COLS_PER_TASK < j->w->N ? n0 + COLS_PER_TASK : j->w->N;
  int tw = j->tw;
  int64_t q0 = tile * tw;
  const float* base = j->ph + image * j->ph_size + q0;
  int64_t lanes = j->Q - q0 < tw ? j->Q - q0 : tw;
  int64_t y0 = q0 / j->Wq, x0 = q0 % j->Wq;
  float acc[128];
  if (j->co) {
    for (int64_t n = n0; n < n1; n++) {
      j->axpy(j->w, base, tw, j->off, j->w->col_ptr[n], j->w->col_ptr[n + 1], j->co + image * j->co_size + n * j->cs + q0);
    }
    return;
  }
  for (int64_t n = n0; n < n1; n++) {
    j->axpy(j->w, base, tw, j->off, j->w->col_ptr[n], j->w->col_ptr[n + 1], acc);
    float b = j->bias ? j->bias[n] : 0.f;
    int relu = j->k->relu != 0;
    /* NCHW: one output channel's pixels are contiguous; a run of lanes per output row */
    float* y = j->y + (image * j->w->N + n) * j->OH * j->OW;
    int64_t yy = y0, xx = x0;
    for (int64_t i = 0; i < lanes; yy++, xx = 0) {
      int64_t run = j->OW - xx < lanes - i ? j->OW - xx : lanes - i;
      float* yr = y + yy * j->OW + xx;
      if (relu) {
        for (int64_t t = 0; t < run; t++) {
          float v = acc[i + t] + b;
          yr[t] = v < 0.f ? 0.f : v; /* as ONNX's Relu: NaN stays NaN */
        }
      } else {
        for (int64_t t = 0; t < run; t++) yr[t] = acc[i + t] + b;
      }
      i += j->Wq - xx;
    }
  }
}

/* task = image * N + channel of the chunk: the folded MaxPool of one channel's convolution output */
static void pool_task(void* p, size_t task) {
  const ConvJob* j = (const ConvJob*)p;
  int64_t image = (int64_t)task / j->w->N, n = (int64_t)task % j->w->N;
  const SdrKernel* k = j->k;
  j->pool(k->pool_kernel, k->pool_strides, k->pool_pads, j->co + image * j->co_size + n * j->cs, j->Wq, j->OH, j->OW,
          j->y + (image * j->w->N + n) * j->PH * j->PW, j->PH, j->PW, j->bias ? j->bias[n] : 0.f, k->relu != 0);
}

/* task = image of the chunk: its planes, then all its tiles and columns, then its pooling, on one
 * thread (the planes and the convolution output are read while they are still in this core's cache) */
static void image_task(void* p, size_t image) {
  const ConvJob* j = (const ConvJob*)p;
  split_task(p, image);
  size_t per_image = (size_t)(j->tiles * j->col_tasks);
  for (size_t t = 0; t < per_image; t++) conv_tile_task(p, image * per_image + t);
  if (j->co) {
    for (int64_t n = 0; n < j->w->N; n++) pool_task(p, (size_t)(image * j->w->N + n));
  }
}

/* ONNX MaxPool's output size along one axis (explicit pads, dilation 1) */
static int64_t pool_out(int64_t in, int64_t k, int64_t s, int64_t pb, int64_t pe, int64_t ceil_mode) {
  int64_t span = in + pb + pe - k;
  return (ceil_mode ? (span + s - 1) / s : span / s) + 1;
}

static OrtStatus* conv_compute(SdrKernel* k, OrtKernelContext* ctx, const Tensor* x, const float* bias,
                               const Weights* w) {
  const OrtApi* api = k->api;
  int64_t B = x->dims[0], C = x->dims[1], H = x->dims[2], W = x->dims[3];
  int64_t ekh = k->dilations[0] * (k->kernel[0] - 1) + 1, ekw = k->dilations[1] * (k->kernel[1] - 1) + 1;
  int64_t OH = (H + k->pads[0] + k->pads[2] - ekh) / k->strides[0] + 1;
  int64_t OW = (W + k->pads[1] + k->pads[3] - ekw) / k->strides[1] + 1;
  if (H + k->pads[0] + k->pads[2] < ekh || W + k->pads[1] + k->pads[3] < ekw) {
    char d[200];
    snprintf(d, sizeof d, "the input is %lld x %lld, smaller than the padded kernel %lld x %lld", (long long)H,
             (long long)W, (long long)ekh, (long long)ekw);
    return fail(api, "%s: %s", k->label, d);
  }
  int64_t PH = OH, PW = OW;
  if (k->pool) {
    if (OH + k->pool_pads[0] + k->pool_pads[2] < k->pool_kernel[0] ||
        OW + k->pool_pads[1] + k->pool_pads[3] < k->pool_kernel[1]) {
      char d[200];
      snprintf(d, sizeof d, "the convolution's output is %lld x %lld, smaller than the padded pooling window %lld x %lld",
               (long long)OH, (long long)OW, (long long)k->pool_kernel[0], (long long)k->pool_kernel[1]);
      return fail(api, "%s: %s", k->label, d);
    }
    PH = pool_out(OH, k->pool_kernel[0], k->pool_strides[0], k->pool_pads[0], k->pool_pads[2], k->pool_ceil);
    PW = pool_out(OW, k->pool_kernel[1], k->pool_strides[1], k->pool_pads[1], k->pool_pads[3], k->pool_ceil);
  }
  int64_t ydims[4] = {B, k->N, PH, PW};
  OrtValue* yv;
  CHECK(api->KernelContext_GetOutput(ctx, 0, ydims, 4, &yv));
  float* y;
  CHECK(api->GetTensorMutableData(yv, (void**)&y));
  if (B == 0 || OH * OW == 0 || k->N == 0) {
    return NULL;
  }
  int64_t sy = k->strides[0], sx = k->strides[1];
  int64_t Hq = (H + k->pads[0] + k->pads[2] + sy - 1) / sy, Wq = (W + k->pads[1] + k->pads[3] + sx - 1) / sx;
  int64_t tw = wide_tile_width(k->isa);
  int64_t Q = (OH - 1) * Wq + OW;
  int64_t tiles = (Q + tw - 1) / tw;
  int64_t ph_size = (C * sy * sx * Hq * Wq + tw + 15) / 16 * 16;
  Weights wd;
  float* values = decode_for_passes(w, B * tiles, &wd);
  int64_t cs = tiles * tw, co_size = k->pool ? k->N * cs : 0;
  ConvJob job = {&wd, k, NULL, bias, NULL, NULL, NULL, C, H, W, OH, OW, Hq, Wq, ph_size, Q, tiles, (int)tw,
                 (k->N + COLS_PER_TASK - 1) / COLS_PER_TASK, wide_axpy_fn(k->isa), NULL, co_size, cs, PH, PW,
                 pool_fn(k->isa)};
  int64_t* off = (int64_t*)malloc((size_t)k->K * sizeof(int64_t));
  if (!off) {
    free(values);
    return fail(api, "%s: out of memory for %s", k->label, "the tap offsets");
  }
  int64_t kh = k->kernel[0], kw = k->kernel[1];
  for (int64_t c = 0; c < C; c++) {
    for (int64_t dy = 0; dy < kh; dy++) {
      for (int64_t dx = 0; dx < kw; dx++) {
        int64_t vy = dy * k->dilations[0], vx = dx * k->dilations[1];
        off[(c * kh + dy) * kw + dx] = ((c * sy + vy % sy) * sx + vx % sx) * Hq * Wq + (vy / sy) * Wq + vx / sx;
      }
    }
  }
  job.off = off;
  /* images in chunks whose planes fit in about 32 MB: one parallel pass per chunk, not per image */
  int64_t per_image = (ph_size + co_size) * (int64_t)sizeof(float);
  int64_t chunk = per_image >= (32 << 20) ? 1 : (32 << 20) / per_image;
  if (chunk > B) chunk = B;
  int own;
  job.ph = scratch_acquire(k, (size_t)(chunk * per_image), &own);
  if (!job.ph) {
    free(off);
    free(values);
    return fail(api, "%s: out of memory for %s", k->label, "the padded input");
  }
  if (k->pool) job.co = job.ph + chunk * ph_size;
  OrtStatus* s = NULL;
  for (int64_t b = 0; b < B && !s; b += chunk) {
    int64_t n = B - b < chunk ? B - b : chunk;
    job.x = (const float*)x->data + b * C * H * W;
    job.y = y + b * k->N * PH * PW;
    size_t tasks = (size_t)(n * tiles * job.col_tasks);
    if (w->nnz * Q * n < CSDR_SERIAL_WORK) { /* small products do not pay for waking threads */
      for (size_t t = 0; t < (size_t)n; t++) split_task(&job, t);
      for (size_t t = 0; t < tasks; t++) conv_tile_task(&job, t);
      if (job.co) {
        for (size_t t = 0; t < (size_t)(n * k->N); t++) pool_task(&job, t);
      }
    } else if (n > 1) {
      s = api->KernelContext_ParallelFor(ctx, image_task, (size_t)n, 0, &job);
    } else {
      s = api->KernelContext_ParallelFor(ctx, split_task, (size_t)n, 0, &job);
      if (!s) s = api->KernelContext_ParallelFor(ctx, conv_tile_task, tasks, 0, &job);
      if (!s && job.co) s = api->KernelContext_ParallelFor(ctx, pool_task, (size_t)(n * k->N), 0, &job);
    }
  }
  scratch_release(k, job.ph, own);
  free(off);
  free(values);
  return s;
}

static OrtStatus* ORT_API_CALL sdr_compute(void* kernel, OrtKernelContext* ctx) {
  SdrKernel* k = (SdrKernel*)kernel;
  const OrtApi* api = k->api;
  size_t n_in;
  CHECK(api->KernelContext_GetInputCount(ctx, &n_in));
  Tensor in[7];
  memset(in, 0, sizeof in);
  static const char* names[] = {"X", "col_ptr", "row_idx", "values", "scales", "zero_points", "B"};
  size_t inputs = 7;
  for (size_t i = 0; i < inputs; i++) {
    const OrtValue* v = NULL;
    if (i < n_in) {
      CHECK(api->KernelContext_GetInput(ctx, i, &v));
    }
    if (!v) {
      if (i < 4 || (i == 4 && k->bits != 32)) {
        return fail(api, "%s: input %s is missing", k->label, names[i]);
      }
      continue;
    }
    CHECK(read_tensor(api, k, v, names[i], &in[i]));
  }
  char d[200];
  Weights w;
  memset(&w, 0, sizeof w);
  w.K = k->K;
  w.N = k->N;
  w.bits = (int)k->bits;
  w.block = k->block;
  Tensor* x = &in[0];
  if (in[6].data && (in[6].type != ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT || in[6].count != k->N)) {
    snprintf(d, sizeof d, "B must be float [N = %lld], it has %lld elements", (long long)k->N, (long long)in[6].count);
    return fail(api, "%s: %s", k->label, d);
  }
  if (k->conv) {
    if (x->rank != 4 || x->dims[1] * k->kernel[0] * k->kernel[1] != k->K) {
      snprintf(d, sizeof d, "X must be [B, C, H, W] with C * kh * kw = K = %lld; it has rank %zu%s", (long long)k->K,
               x->rank, x->rank == 4 ? " and another C" : "");
      return fail(api, "%s: %s", k->label, d);
    }
  } else if (x->rank < 1 || x->dims[x->rank - 1] != k->K) {
    snprintf(d, sizeof d, "X's last dimension is %lld, the attribute K is %lld", x->rank ? (long long)x->dims[x->rank - 1] : 0LL,
             (long long)k->K);
    return fail(api, "%s: %s", k->label, d);
  }
  if (in[1].rank != 1 || in[1].count != k->N + 1) {
    snprintf(d, sizeof d, "col_ptr must be a 1-D int32 tensor of N + 1 = %lld elements, it has %lld", (long long)k->N + 1,
             (long long)in[1].count);
    return fail(api, "%s: %s", k->label, d);
  }
  w.col_ptr = (const int32_t*)in[1].data;
  w.nnz = w.col_ptr[k->N];
  if (in[2].type == ONNX_TENSOR_ELEMENT_DATA_TYPE_UINT16) {
    w.idx16 = (const uint16_t*)in[2].data;
  } else if (in[2].type == ONNX_TENSOR_ELEMENT_DATA_TYPE_INT32) {
    w.idx32 = (const int32_t*)in[2].data;
  } else {
    return fail(api, "%s: row_idx must be uint16 or int32, it is %s", k->label, type_name(in[2].type));
  }
  if (in[2].count != w.nnz) {
    snprintf(d, sizeof d, "row_idx has %lld elements, col_ptr[N] says nnz = %lld", (long long)in[2].count, (long long)w.nnz);
    return fail(api, "%s: %s", k->label, d);
  }
  ONNXTensorElementDataType want = k->bits == 32 ? ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT : ONNX_TENSOR_ELEMENT_DATA_TYPE_UINT8;
  if (in[3].type != want) {
    snprintf(d, sizeof d, "values must be %s for bits = %lld, they are %s", type_name(want), (long long)k->bits,
             type_name(in[3].type));
    return fail(api, "%s: %s", k->label, d);
  }
  int64_t want_values = k->bits == 4 ? (w.nnz + 1) / 2 : w.nnz;
  if (in[3].count != want_values) {
    snprintf(d, sizeof d, "values has %lld elements, %lld expected for nnz = %lld at %lld bits", (long long)in[3].count,
             (long long)want_values, (long long)w.nnz, (long long)k->bits);
    return fail(api, "%s: %s", k->label, d);
  }
  if (k->bits == 32) {
    w.vf = (const float*)in[3].data;
  } else {
    w.vq = (const uint8_t*)in[3].data;
    int64_t blocks = (w.nnz + k->block - 1) / k->block;
    if (in[4].count < blocks) {
      snprintf(d, sizeof d, "scales has %lld elements, nnz = %lld in blocks of %lld needs %lld", (long long)in[4].count,
               (long long)w.nnz, (long long)k->block, (long long)blocks);
      return fail(api, "%s: %s", k->label, d);
    }
    w.scales = (const float*)in[4].data;
    if (in[5].data) {
      if (in[5].count < blocks) {
        snprintf(d, sizeof d, "zero_points has %lld elements, %lld needed", (long long)in[5].count, (long long)blocks);
        return fail(api, "%s: %s", k->label, d);
      }
      w.zps = (const uint8_t*)in[5].data;
    }
  }
  CHECK(check_weights(k, &w, in));
  if (k->conv) {
    return conv_compute(k, ctx, x, (const float*)in[6].data, &w);
  }

  int64_t M = x->count / k->K;
  int64_t ydims[8];
  memcpy(ydims, x->dims, sizeof(int64_t) * x->rank);
  ydims[x->rank - 1] = k->N;
  OrtValue* yv;
  CHECK(api->KernelContext_GetOutput(ctx, 0, ydims, x->rank, &yv));
  float* y;
  CHECK(api->GetTensorMutableData(yv, (void**)&y));
  if (M == 0 || k->N == 0) {
    return NULL;
  }
  Job job = {&w, (const float*)x->data, y, NULL, M, tile_width(k->isa), (k->N + COLS_PER_TASK - 1) / COLS_PER_TASK,
             dot_fn(k->isa), axpy_fn(k->isa), (const float*)in[6].data, k->relu != 0};
  /* small products do not pay for waking threads */
  int serial = w.nnz * M < CSDR_SERIAL_WORK;
  if (M <= CSDR_FEW_ROWS) {
    size_t tasks = (size_t)(M * job.col_tasks);
    if (serial) {
      for (size_t t = 0; t < tasks; t++) few_rows_task(&job, t);
    } else {
      CHECK(api->KernelContext_ParallelFor(ctx, few_rows_task, tasks, 0, &job));
    }
    return NULL;
  }
  int64_t tiles = (M + job.tw - 1) / job.tw;
  Weights wd;
  float* values = decode_for_passes(&w, tiles, &wd);
  job.w = &wd;
  int own;
  job.xt = scratch_acquire(k, (size_t)(tiles * k->K * job.tw) * sizeof(float), &own);
  if (!job.xt) {
    free(values);
    return fail(api, "%s: out of memory for %s", k->label, "the transposed input");
  }
  OrtStatus* s = NULL;
  size_t tasks = (size_t)(tiles * job.col_tasks);
  if (serial) {
    for (size_t t = 0; t < (size_t)tiles; t++) transpose_task(&job, t);
    for (size_t t = 0; t < tasks; t++) tile_task(&job, t);
  } else {
    s = api->KernelContext_ParallelFor(ctx, transpose_task, (size_t)tiles, 0, &job);
    if (!s) s = api->KernelContext_ParallelFor(ctx, tile_task, tasks, 0, &job);
  }
  scratch_release(k, job.xt, own);
  free(values);
  return s;
}

static OrtStatus* attr(const OrtApi* api, const OrtKernelInfo* info, const char* node, const char* name, int64_t dflt,
                       int required, int64_t* out) {
  OrtStatus* s = api->KernelInfoGetAttribute_int64(info, name, out);
  if (s) {
    api->ReleaseStatus(s);
    if (required) {
      return fail(api, "%s: attribute %s is missing", node, name);
    }
    *out = dflt;
  }
  return NULL;
}

/* an INTS attribute of exactly n values into out, or dflt (n values) when absent */
static OrtStatus* ints_attr(const OrtApi* api, const OrtKernelInfo* info, const char* node, const char* name, size_t n,
                            const int64_t* dflt, int required, int64_t min, int64_t* out) {
  size_t size = 0;
  OrtStatus* s = api->KernelInfoGetAttributeArray_int64(info, name, NULL, &size);
  if (s) {
    api->ReleaseStatus(s);
    if (required) {
      return fail(api, "%s: attribute %s is missing", node, name);
    }
    memcpy(out, dflt, n * sizeof(int64_t));
    return NULL;
  }
  if (size != n) {
    char d[160];
    snprintf(d, sizeof d, "attribute %s has %zu values, %zu expected", name, size, n);
    return fail(api, "%s: %s", node, d);
  }
  CHECK(api->KernelInfoGetAttributeArray_int64(info, name, out, &size));
  for (size_t i = 0; i < n; i++) {
    if (out[i] < min || out[i] > 65536) {
      char d[160];
      snprintf(d, sizeof d, "attribute %s[%zu] = %lld is outside [%lld, 65536]", name, i, (long long)out[i],
               (long long)min);
      return fail(api, "%s: %s", node, d);
    }
  }
  return NULL;
}

static OrtStatus* ORT_API_CALL sdr_create(const OrtCustomOp* op, const OrtApi* api, const OrtKernelInfo* info,
                                          void** kernel) {
  SdrKernel* k = (SdrKernel*)calloc(1, sizeof(SdrKernel));
  if (!k) return api->CreateStatus(ORT_FAIL, "cortexsdr ops: out of memory");
  k->api = api;
  k->isa = ((const SdrOp*)op)->isa;
  k->conv = ((const SdrOp*)op)->conv;
  size_t len = sizeof k->name;
  OrtStatus* s = api->KernelInfo_GetNodeName(info, k->name, &len);
  if (s) {
    api->ReleaseStatus(s);
    s = NULL;
    snprintf(k->name, sizeof k->name, "%s", "(unnamed)");
  }
  snprintf(k->label, sizeof k->label, "%s node '%s'", k->conv ? "SdrConv" : "SdrMatMul", k->name);
  char d[200];
  if (k->conv) {
    static const int64_t zeros[4] = {0, 0, 0, 0}, ones[2] = {1, 1};
    if (!s) s = ints_attr(api, info, k->label, "kernel_shape", 2, NULL, 1, 1, k->kernel);
    if (!s) s = ints_attr(api, info, k->label, "pads", 4, zeros, 0, 0, k->pads);
    if (!s) s = ints_attr(api, info, k->label, "strides", 2, ones, 0, 1, k->strides);
    if (!s) s = ints_attr(api, info, k->label, "dilations", 2, ones, 0, 1, k->dilations);
    if (!s) s = attr(api, info, k->label, "pool", 0, 0, &k->pool);
    if (!s && k->pool) {
      if (!s) s = ints_attr(api, info, k->label, "pool_kernel_shape", 2, NULL, 1, 1, k->pool_kernel);
      if (!s) s = ints_attr(api, info, k->label, "pool_pads", 4, zeros, 0, 0, k->pool_pads);
      if (!s) s = ints_attr(api, info, k->label, "pool_strides", 2, ones, 0, 1, k->pool_strides);
      if (!s) s = attr(api, info, k->label, "pool_ceil_mode", 0, 0, &k->pool_ceil);
      /* every window must hold a pixel: pads below the window, and no ceil_mode window past the end */
      for (int a = 0; a < 2 && !s; a++) {
        int64_t kk = k->pool_kernel[a], pb = k->pool_pads[a], pe = k->pool_pads[a + 2];
        if (pb >= kk || pe >= kk || (k->pool_ceil && k->pool_strides[a] > kk - pe)) {
          snprintf(d, sizeof d, "pool_pads %lld and %lld with pool_kernel_shape %lld, pool_strides %lld%s leave a "
                   "window without pixels", (long long)pb, (long long)pe, (long long)kk,
                   (long long)k->pool_strides[a], k->pool_ceil ? " and ceil_mode" : "");
          s = fail(api, "%s: %s", k->label, d);
        }
      }
    }
  }
  if (!s) s = attr(api, info, k->label, "relu", 0, 0, &k->relu);
  if (!s) s = attr(api, info, k->label, "K", 0, 1, &k->K);
  if (!s) s = attr(api, info, k->label, "N", 0, 1, &k->N);
  if (!s) s = attr(api, info, k->label, "bits", 32, 0, &k->bits);
  if (!s) s = attr(api, info, k->label, "block_size", 0, k->bits != 32, &k->block);
  if (!s && (k->K <= 0 || k->N < 0 || k->K > INT32_MAX || k->N > INT32_MAX)) {
    snprintf(d, sizeof d, "K = %lld and N = %lld must be positive and below 2^31", (long long)k->K, (long long)k->N);
    s = fail(api, "%s: %s", k->label, d);
  }
  if (!s && k->bits != 32 && k->bits != 8 && k->bits != 4) {
    snprintf(d, sizeof d, "bits = %lld; supported are 32 (float values), 8 and 4", (long long)k->bits);
    s = fail(api, "%s: %s", k->label, d);
  }
  if (!s && k->bits != 32 && k->block <= 0) {
    snprintf(d, sizeof d, "block_size = %lld must be positive", (long long)k->block);
    s = fail(api, "%s: %s", k->label, d);
  }
  if (s) {
    free(k);
    return s;
  }
  pthread_mutex_init(&k->lock, NULL);
  pthread_mutex_init(&k->scratch_lock, NULL);
  k->checked_nnz = -1;
  /* weights fed as graph inputs may change at the same address: those are checked on every run */
  k->constant_weights = 1;
  for (size_t i = 1; i <= 3; i++) {
    int constant = 0;
    const OrtValue* v = NULL;
    OrtStatus* cs = api->KernelInfoGetConstantInput_tensor(info, i, &constant, &v);
    if (cs) {
      api->ReleaseStatus(cs);
      constant = 0;
    }
    k->constant_weights = k->constant_weights && constant;
  }
  *kernel = k;
  return NULL;
}

static void ORT_API_CALL sdr_destroy(void* kernel) {
  SdrKernel* k = (SdrKernel*)kernel;
  pthread_mutex_destroy(&k->lock);
  pthread_mutex_destroy(&k->scratch_lock);
  free(k->scratch);
  free(k);
}

static const char* ORT_API_CALL sdr_name(const OrtCustomOp* op) {
  return ((const SdrOp*)op)->conv ? "SdrConv" : "SdrMatMul";
}

static ONNXTensorElementDataType ORT_API_CALL sdr_input_type(const OrtCustomOp* op, size_t i) {
  (void)op;
  switch (i) {
    case 0: return ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT;
    case 1: return ONNX_TENSOR_ELEMENT_DATA_TYPE_INT32;
    case 4: return ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT;
    case 5: return ONNX_TENSOR_ELEMENT_DATA_TYPE_UINT8;
    case 6: return ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT;
    default: return ONNX_TENSOR_ELEMENT_DATA_TYPE_UNDEFINED; /* row_idx, values: checked at run */
  }
}

static size_t ORT_API_CALL sdr_input_count(const OrtCustomOp* op) {
  (void)op;
  return 7; /* X, the five weight arrays, B (SdrMatMul: the graph's following Add folded in) */
}

static ONNXTensorElementDataType ORT_API_CALL sdr_output_type(const OrtCustomOp* op, size_t i) {
  (void)op;
  (void)i;
  return ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT;
}

static size_t ORT_API_CALL sdr_output_count(const OrtCustomOp* op) {
  (void)op;
  return 1;
}

static OrtCustomOpInputOutputCharacteristic ORT_API_CALL sdr_input_kind(const OrtCustomOp* op, size_t i) {
  (void)op;
  return i >= 4 ? INPUT_OUTPUT_OPTIONAL : INPUT_OUTPUT_REQUIRED;
}

static OrtCustomOpInputOutputCharacteristic ORT_API_CALL sdr_output_kind(const OrtCustomOp* op, size_t i) {
  (void)op;
  (void)i;
  return INPUT_OUTPUT_REQUIRED;
}

static const char* ORT_API_CALL sdr_provider(const OrtCustomOp* op) {
  (void)op;
  return NULL; /* the CPU execution provider */
}

static OrtMemType ORT_API_CALL sdr_input_memory(const OrtCustomOp* op, size_t i) {
  (void)op;
  (void)i;
  return OrtMemTypeDefault;
}

static int ORT_API_CALL sdr_variadic_arity(const OrtCustomOp* op) {
  (void)op;
  return 1;
}

static int ORT_API_CALL sdr_variadic_homogeneity(const OrtCustomOp* op) {
  (void)op;
  return 1;
}

static int ORT_API_CALL sdr_start_version(const OrtCustomOp* op) {
  (void)op;
  return 1;
}

static int ORT_API_CALL sdr_end_version(const OrtCustomOp* op) {
  (void)op;
  return INT32_MAX;
}

/* ---------------------------------------------------------------- shape inference */

/* an INT or INTS attribute of the node being inferred: 1 when present and of n values */
static int infer_ints(const OrtApi* api, OrtShapeInferContext* ctx, const char* name, int ints, int64_t* out,
                      size_t n) {
  const OrtOpAttr* a = NULL;
  OrtStatus* s = api->ShapeInferContext_GetAttribute(ctx, name, &a);
  if (s) {
    api->ReleaseStatus(s);
    return 0;
  }
  if (!a) return 0;
  size_t bytes = 0;
  s = api->ReadOpAttr(a, ints ? ORT_OP_ATTR_INTS : ORT_OP_ATTR_INT, out, n * sizeof(int64_t), &bytes);
  if (s) {
    api->ReleaseStatus(s);
    return 0;
  }
  return bytes == n * sizeof(int64_t);
}

/* a spatial output size, or -1 when the input's is unknown or the attributes do not fit it (the
 * shape is then left unknown, and the kernel reports the cause at run time) */
static int64_t infer_conv_size(int64_t in, int64_t k, int64_t d, int64_t s, int64_t pb, int64_t pe) {
  int64_t ek = d * (k - 1) + 1;
  if (in < 0 || s < 1 || in + pb + pe < ek) return -1;
  return (in + pb + pe - ek) / s + 1;
}

/*
 * Y's shape from X's, so that ONNX Runtime's optimizers see shapes past the custom node (without
 * them, for example, a MatMul and Add after it stay two nodes instead of one Gemm). Unknown or
 * unexpected input shapes leave the output's shape unknown: the kernel checks and names the cause.
 */
static OrtStatus* ORT_API_CALL sdr_infer(const OrtCustomOp* op, OrtShapeInferContext* ctx) {
  const SdrOp* o = (const SdrOp*)op;
  const OrtApi* api = o->api;
  OrtTensorTypeAndShapeInfo* in = NULL;
  OrtStatus* s = api->ShapeInferContext_GetInputTypeShape(ctx, 0, &in);
  if (s) {
    api->ReleaseStatus(s);
    return NULL;
  }
  size_t rank = 0;
  int64_t dims[8];
  const char* sym[8];
  s = api->GetDimensionsCount(in, &rank);
  if (!s && (rank == 0 || rank > 8 || (o->conv && rank != 4))) rank = 0;
  if (!s && rank) s = api->GetDimensions(in, dims, rank);
  if (!s && rank) s = api->GetSymbolicDimensions(in, sym, rank);
  int64_t N = 0;
  int ok = !s && rank && infer_ints(api, ctx, "N", 0, &N, 1);
  /* the symbolic names point into the input's info (the context's): the output's info copies them */
  if (ok && o->conv) {
    int64_t kern[2], pads[4] = {0, 0, 0, 0}, str[2] = {1, 1}, dil[2] = {1, 1}, pool = 0;
    ok = infer_ints(api, ctx, "kernel_shape", 1, kern, 2);
    infer_ints(api, ctx, "pads", 1, pads, 4);
    infer_ints(api, ctx, "strides", 1, str, 2);
    infer_ints(api, ctx, "dilations", 1, dil, 2);
    infer_ints(api, ctx, "pool", 0, &pool, 1);
    for (int a = 0; a < 2 && ok; a++) {
      int64_t size = infer_conv_size(dims[2 + a], kern[a], dil[a], str[a], pads[a], pads[a + 2]);
      if (pool && size >= 0) {
        int64_t pk[2], pp[4] = {0, 0, 0, 0}, ps[2] = {1, 1}, ceil_mode = 0;
        if (!infer_ints(api, ctx, "pool_kernel_shape", 1, pk, 2)) {
          size = -1;
        } else {
          infer_ints(api, ctx, "pool_pads", 1, pp, 4);
          infer_ints(api, ctx, "pool_strides", 1, ps, 2);
          infer_ints(api, ctx, "pool_ceil_mode", 0, &ceil_mode, 1);
          size = ps[a] < 1 || size + pp[a] + pp[a + 2] < pk[a] ? -1
                                                                : pool_out(size, pk[a], ps[a], pp[a], pp[a + 2], ceil_mode);
        }
      }
      dims[2 + a] = size;
      sym[2 + a] = "";
    }
    dims[1] = N;
    sym[1] = "";
  } else if (ok) {
    dims[rank - 1] = N;
    sym[rank - 1] = "";
  }
  /* ONNX Runtime writes an unnamed unknown dimension as dim_value -1, which its constant folding then
   * takes for a size (a Reshape after the node met two -1s): unless every dimension is known or
   * named, the output's shape stays unknown, as without inference */
  for (size_t i = 0; ok && i < rank; i++) {
    ok = dims[i] >= 0 || (sym[i] && sym[i][0]);
  }
  OrtTensorTypeAndShapeInfo* out = NULL;
  if (ok) s = api->CreateTensorTypeAndShapeInfo(&out);
  if (ok && !s) s = api->SetTensorElementType(out, ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT);
  if (ok && !s) s = api->SetDimensions(out, dims, rank);
  if (ok && !s) s = api->SetSymbolicDimensions(out, sym, rank);
  if (ok && !s) s = api->ShapeInferContext_SetOutputTypeShape(ctx, 0, out);
  if (out) api->ReleaseTensorTypeAndShapeInfo(out);
  return s; /* in belongs to the context */
}

/* ---------------------------------------------------------------- registration */

static SdrOp OPS[3][2]; /* per instruction set: SdrMatMul, SdrConv */
static OrtCustomOpDomain* DOMAINS[3];
static pthread_mutex_t REGISTER_LOCK = PTHREAD_MUTEX_INITIALIZER;

static void init_op(SdrOp* o, int isa, int conv, const OrtApi* api) {
  memset(o, 0, sizeof *o);
  /* ONNX Runtime reads this struct as of API version CSDR_MIN_API, so newer fields stay unused */
  o->op.version = CSDR_MIN_API;
  o->op.GetName = sdr_name;
  o->op.GetInputType = sdr_input_type;
  o->op.GetInputTypeCount = sdr_input_count;
  o->op.GetOutputType = sdr_output_type;
  o->op.GetOutputTypeCount = sdr_output_count;
  o->op.KernelDestroy = sdr_destroy;
  o->op.GetInputCharacteristic = sdr_input_kind;
  o->op.GetOutputCharacteristic = sdr_output_kind;
  o->op.GetExecutionProviderType = sdr_provider;
  o->op.GetInputMemoryType = sdr_input_memory;
  o->op.GetVariadicInputMinArity = sdr_variadic_arity;
  o->op.GetVariadicInputHomogeneity = sdr_variadic_homogeneity;
  o->op.GetVariadicOutputMinArity = sdr_variadic_arity;
  o->op.GetVariadicOutputHomogeneity = sdr_variadic_homogeneity;
  o->op.GetStartVersion = sdr_start_version;
  o->op.GetEndVersion = sdr_end_version;
  o->op.CreateKernelV2 = sdr_create;
  o->op.KernelComputeV2 = sdr_compute;
  o->op.InferOutputShapeFn = sdr_infer;
  o->isa = isa;
  o->conv = conv;
  o->api = api;
}

static int config(const OrtApi* api, const OrtSessionOptions* options, const char* key, char* out, size_t cap) {
  int has = 0;
  OrtStatus* s = api->HasSessionConfigEntry(options, key, &has);
  if (s) {
    api->ReleaseStatus(s);
    return 0;
  }
  if (!has) return 0;
  size_t len = cap;
  s = api->GetSessionConfigEntry(options, key, out, &len);
  if (s) {
    api->ReleaseStatus(s);
    return 0;
  }
  return 1;
}

/* The library's version, for the Java side to check it loaded the library it shipped. */
CSDR_EXPORT const char* CortexSdrOpsInfo(void) {
  static char info[96];
  snprintf(info, sizeof info, "cortexsdr-ops built against ORT C API %d, requires %d, cpu %s", ORT_API_VERSION,
           CSDR_MIN_API, ISA_NAMES[cpu_isa()]);
  return info;
}

CSDR_EXPORT OrtStatus* ORT_API_CALL RegisterCustomOps(OrtSessionOptions* options, const OrtApiBase* base) {
  const OrtApi* api1 = base->GetApi(1); /* every runtime serves version 1: enough to report errors */
  const char* runtime = base->GetVersionString();
  char msg[400];
  const OrtApi* api = base->GetApi(CSDR_MIN_API);
  if (!api) {
    snprintf(msg, sizeof msg,
             "cortexsdr ops (domain ai.cortexsdr) need ONNX Runtime 1.%d or newer (C API version %d); "
             "this process runs ONNX Runtime %s: upgrade com.microsoft.onnxruntime:onnxruntime",
             CSDR_MIN_API, CSDR_MIN_API, runtime);
    return api1->CreateStatus(ORT_FAIL, msg);
  }
  char value[32];
  if (config(api, options, "cortexsdr.ops.required_api", value, sizeof value)) {
    int want = atoi(value);
    if (want < 1 || !base->GetApi((uint32_t)want)) {
      snprintf(msg, sizeof msg,
               "cortexsdr ops (domain ai.cortexsdr) need ONNX Runtime C API version %d "
               "(cortexsdr.ops.required_api); this process runs ONNX Runtime %s, which is too old",
               want, runtime);
      return api->CreateStatus(ORT_FAIL, msg);
    }
  }
  int isa = cpu_isa();
  if (config(api, options, "cortexsdr.ops.isa", value, sizeof value)) {
    int want = -1;
    for (int i = 0; i < 4; i++) {
      if (strcmp(value, ISA_NAMES[i]) == 0) want = i;
    }
    if (want < 0) {
      snprintf(msg, sizeof msg, "cortexsdr.ops.isa = '%s': use auto, avx512, avx2 or scalar", value);
      return api->CreateStatus(ORT_INVALID_ARGUMENT, msg);
    }
    if (want != ISA_AUTO) {
      if (want > isa) {
        snprintf(msg, sizeof msg, "cortexsdr.ops.isa = %s, but this CPU supports at most %s", value, ISA_NAMES[isa]);
        return api->CreateStatus(ORT_INVALID_ARGUMENT, msg);
      }
      isa = want;
    }
  }
  pthread_mutex_lock(&REGISTER_LOCK);
  OrtStatus* s = NULL;
  if (!DOMAINS[isa]) {
    init_op(&OPS[isa][0], isa, 0, api);
    init_op(&OPS[isa][1], isa, 1, api);
    OrtCustomOpDomain* d = NULL;
    s = api->CreateCustomOpDomain("ai.cortexsdr", &d);
    if (!s) s = api->CustomOpDomain_Add(d, &OPS[isa][0].op);
    if (!s) s = api->CustomOpDomain_Add(d, &OPS[isa][1].op);
    if (!s) {
      DOMAINS[isa] = d; /* kept for the life of the process: sessions may outlive the options */
    } else if (d) {
      api->ReleaseCustomOpDomain(d);
    }
  }
  if (!s) s = api->AddCustomOpDomain(options, DOMAINS[isa]);
  pthread_mutex_unlock(&REGISTER_LOCK);
  return s;
}
