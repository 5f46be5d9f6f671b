/*
 * The kernels of one instruction set. Included once per target by cortexsdr_kernels.c, after it
 * defined SUFFIX (the name suffix), VW (floats per hardware vector), MR (rows of the fp32 register
 * block) and, for AVX-512 VNNI, HAVE_VNNI. Everything here is plain C with GCC vector extensions,
 * so the same source becomes AVX-512, AVX2+FMA, SSE2 or NEON code under the target pragma around
 * the include. Layouts are those of the Java kernels (Kernels.java): see that class for each
 * function's contract.
 */
#define CAT_(a, b) a##_##b
#define CAT(a, b) CAT_(a, b)
#define FN(name) CAT(name, SUFFIX)
#define VF CAT(vf, SUFFIX)
#define NV (PANEL / VW)

typedef float VF __attribute__((vector_size(VW * 4)));

static inline __attribute__((always_inline)) VF FN(ld)(const float* p) {
  VF v;
  memcpy(&v, p, sizeof v);
  return v;
}

static inline __attribute__((always_inline)) void FN(st)(float* p, VF v) { memcpy(p, &v, sizeof v); }

/*
 * Vectors per fp32 register block (BV * VW columns of the panel, MR rows) at depths up to
 * BV_MAX_K: the whole panel by default. AVX2 (16 registers) takes half a panel by 6 rows there, 12
 * sums with 2 panel loads and 6 broadcasts per step: kernel_bench measured 89-93 GFLOP/s per core
 * against 80-83 for 3 rows by the whole panel at k = 384, but 89-96 against 94-102 at k = 1536,
 * where each half-panel pass reads the other half's cache lines again; deeper products keep 3
 * rows by the whole panel (MR_DEEP). Each output is the same sum in the same order either way.
 */
#ifndef BV
#define BV NV
#endif
#ifndef MR_DEEP
#define MR_DEEP MR
#endif
#ifndef BV_MAX_K
#define BV_MAX_K 1024
#endif

/*
 * rows x bv vectors of a panel: per step along k, bv panel loads, one broadcast per row, bv fused
 * multiply-adds per row into accumulators held in registers and stored once. rows and bv are
 * constants at each call, so the sums stay in registers.
 */
static inline __attribute__((always_inline)) void FN(block)(int rows, int bv, const float* x, int k, const float* p,
                                                            int ldp, float* y, int ldy, const float* bias) {
  VF acc[MR > MR_DEEP ? MR : MR_DEEP][NV];
  for (int r = 0; r < rows; r++)
    for (int v = 0; v < bv; v++) acc[r][v] = bias ? FN(ld)(bias + v * VW) : (VF){0};
  for (int kk = 0; kk < k; kk++) {
    const float* pk = p + (size_t)kk * ldp;
    VF b[NV];
    for (int v = 0; v < bv; v++) b[v] = FN(ld)(pk + v * VW);
    for (int r = 0; r < rows; r++) {
      VF a = -(VF){0} + x[(size_t)r * k + kk]; /* -0 + v is v exactly: folds to a broadcast (+0 + v would not, for v = -0) */
      for (int v = 0; v < bv; v++) acc[r][v] += a * b[v];
    }
  }
  for (int r = 0; r < rows; r++)
    for (int v = 0; v < bv; v++) FN(st)(y + (size_t)r * ldy + v * VW, acc[r][v]);
}

/* rows x the whole panel: its blocks of bv vectors one after the other, while the rows are in cache */
static inline __attribute__((always_inline)) void FN(block_panel)(int rows, int bv, const float* x, int k,
                                                                  const float* p, int ldp, float* y, int ldy,
                                                                  const float* bias) {
  for (int c = 0; c < NV; c += bv)
    FN(block)(rows, bv, x, k, p + c * VW, ldp, y + c * VW, ldy, bias ? bias + c * VW : NULL);
}

/* all m rows by the whole panel in blocks of mr rows by bv vectors, the rows left in blocks of 8, 4, 2, 1 */
#define PANEL_ROWS(mr, bv)                                                                                  \
  do {                                                                                                      \
    int i = 0;                                                                                              \
    for (; i + (mr) <= m; i += (mr))                                                                        \
      FN(block_panel)((mr), (bv), x + (size_t)i * k, k, p, ldp, y + (size_t)i * ldy, ldy, bias);            \
    /* each tail block a constant, so each keeps its sums in registers, rather than one pass per row */  \
    if ((mr) > 8 && m - i >= 8) {                                                                           \
      FN(block_panel)(8, (bv), x + (size_t)i * k, k, p, ldp, y + (size_t)i * ldy, ldy, bias);               \
      i += 8;                                                                                               \
    }                                                                                                       \
    if ((mr) > 4 && m - i >= 4) {                                                                           \
      FN(block_panel)(4, (bv), x + (size_t)i * k, k, p, ldp, y + (size_t)i * ldy, ldy, bias);               \
      i += 4;                                                                                               \
    }                                                                                                       \
    if ((mr) > 2 && m - i >= 2) {                                                                           \
      FN(block_panel)(2, (bv), x + (size_t)i * k, k, p, ldp, y + (size_t)i * ldy, ldy, bias);               \
      i += 2;                                                                                               \
    }                                                                                                       \
    for (; i < m; i++) FN(block_panel)(1, (bv), x + (size_t)i * k, k, p, ldp, y + (size_t)i * ldy, ldy, bias); \
  } while (0)

static void FN(gemm_panel)(const float* x, int m, int k, const float* p, int ldp, int nb, float* y, int ldy,
                           const float* bias) {
  if (nb == PANEL) {
    if (BV < NV && k > BV_MAX_K)
      PANEL_ROWS(MR_DEEP, NV);
    else
      PANEL_ROWS(MR, BV);
    return;
  }
  /* fewer than 32 columns: one row at a time into a local row of sums (the loop over j vectorizes) */
  float acc[PANEL];
  for (int i = 0; i < m; i++) {
    for (int j = 0; j < nb; j++) acc[j] = bias ? bias[j] : 0.f;
    const float* xr = x + (size_t)i * k;
    for (int kk = 0; kk < k; kk++) {
      float a = xr[kk];
      const float* pk = p + (size_t)kk * ldp;
      for (int j = 0; j < nb; j++) acc[j] += a * pk[j];
    }
    memcpy(y + (size_t)i * ldy, acc, (size_t)nb * 4);
  }
}

static float FN(dot)(const float* a, const float* b, int len) {
  VF s0 = {0}, s1 = {0};
  int i = 0;
  for (; i + 2 * VW <= len; i += 2 * VW) {
    s0 += FN(ld)(a + i) * FN(ld)(b + i);
    s1 += FN(ld)(a + i + VW) * FN(ld)(b + i + VW);
  }
  s0 += s1;
  float s = 0;
  for (int v = 0; v < VW; v++) s += s0[v];
  for (; i < len; i++) s += a[i] * b[i];
  return s;
}

/* y[i*ldy + j] = x_i . w_j: four rows of w per row of x share each load of x */
static void FN(gemm_rows)(const float* x, int m, int k, const float* w, int nb, float* y, int ldy) {
  for (int i = 0; i < m; i++) {
    const float* xr = x + (size_t)i * k;
    int j = 0;
    for (; j + 4 <= nb; j += 4) {
      const float* w0 = w + (size_t)j * k;
      VF s0 = {0}, s1 = {0}, s2 = {0}, s3 = {0};
      int kk = 0;
      for (; kk + VW <= k; kk += VW) {
        VF a = FN(ld)(xr + kk);
        s0 += a * FN(ld)(w0 + kk);
        s1 += a * FN(ld)(w0 + k + kk);
        s2 += a * FN(ld)(w0 + 2 * k + kk);
        s3 += a * FN(ld)(w0 + 3 * k + kk);
      }
      float t[4] = {0, 0, 0, 0};
      for (int v = 0; v < VW; v++) {
        t[0] += s0[v];
        t[1] += s1[v];
        t[2] += s2[v];
        t[3] += s3[v];
      }
      for (; kk < k; kk++)
        for (int q = 0; q < 4; q++) t[q] += xr[kk] * w0[(size_t)q * k + kk];
      for (int q = 0; q < 4; q++) y[(size_t)i * ldy + j + q] = t[q];
    }
    for (; j < nb; j++) y[(size_t)i * ldy + j] = FN(dot)(xr, w + (size_t)j * k, k);
  }
}

static void FN(decode_panel)(const uint8_t* codes, int bits, int len, const float* scale, const float* bias,
                             float* dst) {
  if (bits == 8) {
    for (int kk = 0; kk < len; kk++) {
      const uint8_t* c = codes + (size_t)kk * PANEL;
      float* d = dst + (size_t)kk * PANEL;
      for (int j = 0; j < PANEL; j++) d[j] = (float)(int8_t)(c[j] ^ 0x80) * scale[j] + bias[j];
    }
  } else {
    const int h = PANEL / 2;
    for (int kk = 0; kk < len; kk++) {
      const uint8_t* c = codes + (size_t)kk * h;
      float* d = dst + (size_t)kk * PANEL;
      for (int j = 0; j < h; j++) {
        d[j] = (float)(c[j] & 0xf) * scale[j] + bias[j];
        d[j + h] = (float)(c[j] >> 4) * scale[j + h] + bias[j + h];
      }
    }
  }
}

/* panel t of a quantized weight decoded whole into dst ([k][32] floats), as gemm_quant describes */
static void FN(decode_quant_panel)(int k, const uint8_t* codes, int bits, const float* pscale, const uint8_t* pzero,
                                   float zero, int glen, int groups, int t, float* dst) {
  int perK = bits == 8 ? PANEL : PANEL / 2;
  float offset = bits == 8 ? 128.f : 0.f; /* 8-bit codes are decoded as q - 128 */
  for (int g = 0; g < groups; g++) {
    int start = g * glen, end = start + glen < k ? start + glen : k;
    size_t so = ((size_t)t * groups + g) * PANEL;
    float sc[PANEL], bi[PANEL];
    for (int j = 0; j < PANEL; j++) {
      float z = pzero ? (float)pzero[so + j] : zero;
      sc[j] = pscale[so + j];
      bi[j] = (offset - z) * sc[j];
    }
    FN(decode_panel)(codes + ((size_t)t * k + start) * perK, bits, end - start, sc, bi, dst + (size_t)start * PANEL);
  }
}

/*
 * Weight-only product on a quantized weight in the column-panel layout (QuantMatrix.inPanels):
 * panels t0 .. t1-1 one after the other, each decoded whole into buf ([k][32] floats: per group,
 * q * s + (offset - z) * s as QuantMatrix.decodePanelTile gives decode_panel) while it is the only
 * thing in cache, then multiplied with all m rows of x by gemm_panel, the bias in its
 * accumulators: y[i * ldy + 32 t + j]. Scales (and zero points, or one common zero point) are
 * [panel][group][32]; groups of glen along k (one group of k for a per-tensor scale). The same
 * arithmetic as the two kernels called from Java, in one call per run of panels.
 *
 * Many rows (more than one chunk of about 384 KiB of x) and a buffer of bufPanels >= t1 - t0
 * panels: all panels of the run are decoded first, then the rows go in chunks, each chunk through
 * every panel while it is in L2; with all rows per panel, x would stream from memory once per
 * panel. Each output is the same sum in the same order either way.
 */
static void FN(gemm_quant)(const float* x, int m, int k, const uint8_t* codes, int bits, const float* pscale,
                           const uint8_t* pzero, float zero, int glen, int groups, int t0, int t1, int n, float* y,
                           int ldy, const float* bias, float* buf, int bufPanels) {
  int mc = 98304 / (k > 0 ? k : 1) / 24 * 24;
  mc = mc < 48 ? 48 : mc;
  if (m > mc && bufPanels >= t1 - t0) {
    for (int t = t0; t < t1; t++)
      FN(decode_quant_panel)(k, codes, bits, pscale, pzero, zero, glen, groups, t, buf + (size_t)(t - t0) * k * PANEL);
    for (int i0 = 0; i0 < m; i0 += mc) {
      int rows = m - i0 < mc ? m - i0 : mc;
      for (int t = t0; t < t1; t++) {
        int j0 = t * PANEL, nb = n - j0 < PANEL ? n - j0 : PANEL;
        FN(gemm_panel)(x + (size_t)i0 * k, rows, k, buf + (size_t)(t - t0) * k * PANEL, PANEL, nb,
                       y + (size_t)i0 * ldy + j0, ldy, bias ? bias + j0 : NULL);
      }
    }
    return;
  }
  for (int t = t0; t < t1; t++) {
    FN(decode_quant_panel)(k, codes, bits, pscale, pzero, zero, glen, groups, t, buf);
    int j0 = t * PANEL, nb = n - j0 < PANEL ? n - j0 : PANEL;
    FN(gemm_panel)(x, m, k, buf, PANEL, nb, y + j0, ldy, bias ? bias + j0 : NULL);
  }
}

static float FN(dot_s8)(const float* x, const uint8_t* codes, int len) {
  float s = 0;
  for (int i = 0; i < len; i++) s += x[i] * (float)(int8_t)(codes[i] ^ 0x80);
  return s;
}

static float FN(dot_u4)(const float* xe, const float* xo, const uint8_t* codes, int len) {
  float s = 0;
  for (int i = 0; i < len; i++) s += xe[i] * (float)(codes[i] & 0xf) + xo[i] * (float)(codes[i] >> 4);
  return s;
}

static void FN(dequant8)(const uint8_t* codes, int len, float scale, float zero, float* dst) {
  for (int i = 0; i < len; i++) dst[i] = ((float)codes[i] - zero) * scale;
}

/* e^x as ScalarKernels.exp: x = k ln2 + r, a degree-6 polynomial for e^r, 2^k in the exponent bits */
static inline float FN(expf)(float x) {
  x = x < -87.3f ? -87.3f : x > 88.7f ? 88.7f : x;
  int k = (int)(x * 1.44269504f + 128.5f) - 128;
  float kf = (float)k;
  float r = x - kf * 0.693145752f - kf * 1.42860677e-6f;
  float p = 1.f + r * (1.f + r * (0.5f + r * (1.f / 6 + r * (1.f / 24 + r * (1.f / 120 + r * (1.f / 720))))));
  int bits = (k + 127) << 23;
  float two;
  memcpy(&two, &bits, 4);
  return p * two;
}

static float FN(exp_shifted)(const float* src, int len, float max, float* dst) {
  for (int i = 0; i < len; i++) dst[i] = FN(expf)(src[i] - max);
  float s = 0;
  for (int i = 0; i < len; i++) s += dst[i];
  return s;
}

static inline float FN(erf)(float xf) {
  float x = xf < 0 ? -xf : xf;
  float p = 1.f + x * (0.0705230784f + x * (0.0422820123f + x * (0.0092705272f + x * (0.0001520143f +
                 x * (0.0002765672f + x * 0.0000430638f)))));
  p *= p;
  p *= p;
  p *= p;
  p *= p;
  float r = 1.f - 1.f / p;
  return xf < 0 ? -r : r;
}

static void FN(gelu)(const float* src, int len, float* dst) {
  for (int i = 0; i < len; i++) {
    float x = src[i];
    dst[i] = 0.5f * x * (1.f + FN(erf)(x * 0.70710678f));
  }
}

static void FN(layer_norm_row)(const float* src, int len, float eps, const float* g, const float* b, float* dst) {
  float sum = 0;
  for (int i = 0; i < len; i++) sum += src[i];
  float mean = sum / len;
  float var = 0;
  for (int i = 0; i < len; i++) {
    float d = src[i] - mean;
    var += d * d;
  }
  float inv = (float)(1.0 / sqrt(var / len + eps));
  if (g && b) {
    for (int i = 0; i < len; i++) dst[i] = (src[i] - mean) * inv * g[i] + b[i];
  } else {
    for (int i = 0; i < len; i++) dst[i] = (src[i] - mean) * inv * (g ? g[i] : 1.f) + (b ? b[i] : 0.f);
  }
}

/* Rows of layer normalization in one call (the row function above, without a JNI crossing per row). */
static void FN(layer_norm_rows)(const float* src, int rows, int len, float eps, const float* g, const float* b,
                                float* dst) {
  for (int r = 0; r < rows; r++) FN(layer_norm_row)(src + (size_t)r * len, len, eps, g, b, dst + (size_t)r * len);
}

static float FN(affine_max)(const float* x, float scale, const float* mk, int mstep, float* y, int len) {
  float max = -INFINITY;
  if (!mk) {
    for (int i = 0; i < len; i++) y[i] = x[i] * scale;
  } else if (mstep == 0) {
    for (int i = 0; i < len; i++) y[i] = x[i] * scale + mk[0];
  } else {
    for (int i = 0; i < len; i++) y[i] = x[i] * scale + mk[i];
  }
  for (int i = 0; i < len; i++) max = y[i] > max ? y[i] : max;
  return max;
}

static void FN(axpy)(float a, const float* x, float* y, int len) {
  for (int i = 0; i < len; i++) y[i] += a * x[i];
}

/*
 * Rows r0 .. r1-1 of a sparse W in CSR (row r keeps val[start[r] .. start[r+1]) at columns col[])
 * times the m rows of X given transposed (xt [k, m]): each kept value is one multiply-add over a
 * contiguous column of xt, accumulated in blocks of SP_BLOCK rows of X; y[i * ldy + r].
 */
#ifndef SP_BLOCK
#define SP_BLOCK 128
#endif
static void FN(sparse_rows_t)(const int* start, const int* col, const float* val, int r0, int r1,
                              const float* xt, int m, float* y, int ldy) {
  float acc[SP_BLOCK] __attribute__((aligned(64)));
  for (int i0 = 0; i0 < m; i0 += SP_BLOCK) {
    int n = m - i0 < SP_BLOCK ? m - i0 : SP_BLOCK;
    for (int r = r0; r < r1; r++) {
      for (int i = 0; i < n; i++) acc[i] = 0.f;
      for (int p = start[r], e = start[r + 1]; p < e; p++) {
        float a = val[p];
        const float* xc = xt + (size_t)col[p] * m + i0;
        for (int i = 0; i < n; i++) acc[i] += a * xc[i];
      }
      for (int i = 0; i < n; i++) y[(size_t)(i0 + i) * ldy + r] = acc[i];
    }
  }
}

/* The same rows for few rows of X (row-major x [m, k]): one gathered dot product per output. */
static void FN(sparse_rows_g)(const int* start, const int* col, const float* val, int r0, int r1,
                              const float* x, int m, int k, float* y, int ldy) {
  for (int r = r0; r < r1; r++) {
    int p0 = start[r], p1 = start[r + 1];
    for (int i = 0; i < m; i++) {
      const float* xr = x + (size_t)i * k;
      float s0 = 0.f, s1 = 0.f, s2 = 0.f, s3 = 0.f;
      int p = p0;
      for (; p + 3 < p1; p += 4) {
        s0 += val[p] * xr[col[p]];
        s1 += val[p + 1] * xr[col[p + 1]];
        s2 += val[p + 2] * xr[col[p + 2]];
        s3 += val[p + 3] * xr[col[p + 3]];
      }
      for (; p < p1; p++) s0 += val[p] * xr[col[p]];
      y[(size_t)i * ldy + r] = (s0 + s1) + (s2 + s3);
    }
  }
}

/*
 * sparse_rows_t for many rows of X, register-blocked: per block of SB = 4 * VW rows of X (one
 * contiguous run of an xt row), an output's sums stay in four vectors while its kept values go by,
 * two values a step into two sets of four, and are stored once. Rows of X past the last full block
 * take the plain loop. Same contract as sparse_rows_t; the sums are the same products added in
 * another order (float-tolerance agreement).
 */
static void FN(sparse_rows_tb)(const int* start, const int* col, const float* val, int r0, int r1,
                               const float* xt, int m, float* y, int ldy) {
  enum { SB = 4 * VW };
  int i0 = 0;
  for (; i0 + SB <= m; i0 += SB) {
    for (int r = r0; r < r1; r++) {
      VF a0 = {0}, a1 = {0}, a2 = {0}, a3 = {0}, b0 = {0}, b1 = {0}, b2 = {0}, b3 = {0};
      int p = start[r], e = start[r + 1];
      for (; p + 1 < e; p += 2) {
        VF v = (VF){0} + val[p], u = (VF){0} + val[p + 1];
        const float* xc = xt + (size_t)col[p] * m + i0;
        const float* xd = xt + (size_t)col[p + 1] * m + i0;
        a0 += v * FN(ld)(xc);
        a1 += v * FN(ld)(xc + VW);
        a2 += v * FN(ld)(xc + 2 * VW);
        a3 += v * FN(ld)(xc + 3 * VW);
        b0 += u * FN(ld)(xd);
        b1 += u * FN(ld)(xd + VW);
        b2 += u * FN(ld)(xd + 2 * VW);
        b3 += u * FN(ld)(xd + 3 * VW);
      }
      if (p < e) {
        VF v = (VF){0} + val[p];
        const float* xc = xt + (size_t)col[p] * m + i0;
        a0 += v * FN(ld)(xc);
        a1 += v * FN(ld)(xc + VW);
        a2 += v * FN(ld)(xc + 2 * VW);
        a3 += v * FN(ld)(xc + 3 * VW);
      }
      float s[SB];
      FN(st)(s, a0 + b0);
      FN(st)(s + VW, a1 + b1);
      FN(st)(s + 2 * VW, a2 + b2);
      FN(st)(s + 3 * VW, a3 + b3);
      float* yo = y + (size_t)i0 * ldy + r;
      for (int i = 0; i < SB; i++) yo[(size_t)i * ldy] = s[i];
    }
  }
  for (int r = r0; r < r1 && i0 < m; r++) {
    float acc[SB];
    int n = m - i0;
    for (int i = 0; i < n; i++) acc[i] = 0.f;
    for (int p = start[r], e = start[r + 1]; p < e; p++) {
      float a = val[p];
      const float* xc = xt + (size_t)col[p] * m + i0;
      for (int i = 0; i < n; i++) acc[i] += a * xc[i];
    }
    for (int i = 0; i < n; i++) y[(size_t)(i0 + i) * ldy + r] = acc[i];
  }
}

/*
 * Output channels r0 .. r1-1 of one image of a sparse convolution, without patches: W in CSR over
 * the taps (row r: its kept taps k at col[], values val[]), ph the image's padded, stride-split
 * input planes and off[k] the offset in ph of tap k's window for output position 0 (ConvOps
 * builds both: position q = y * wq + x of the [oh, wq] grid reads tap k at ph[off[k] + q]). Per
 * block of SB positions, each kept tap is one multiply-add over SB contiguous floats, sums held in
 * registers; positions with x >= ow are dropped. ph must hold SB - 1 readable floats past the
 * last position's reads. y is the image's output [r, oh, ow] (NCHW), written, not added to.
 */
static void FN(sparse_conv)(const int* start, const int* col, const float* val, int r0, int r1, const float* ph,
                            const int* off, int q, int wq, int oh, int ow, float* y) {
  enum { SB = 4 * VW };
  for (int r = r0; r < r1; r++) {
    float* yr = y + (size_t)r * oh * ow;
    int p0 = start[r], e = start[r + 1];
    for (int q0 = 0; q0 < q; q0 += SB) {
      VF a0 = {0}, a1 = {0}, a2 = {0}, a3 = {0}, b0 = {0}, b1 = {0}, b2 = {0}, b3 = {0};
      const float* base = ph + q0;
      int p = p0;
      for (; p + 1 < e; p += 2) {
        VF v = (VF){0} + val[p], u = (VF){0} + val[p + 1];
        const float* xc = base + off[col[p]];
        const float* xd = base + off[col[p + 1]];
        a0 += v * FN(ld)(xc);
        a1 += v * FN(ld)(xc + VW);
        a2 += v * FN(ld)(xc + 2 * VW);
        a3 += v * FN(ld)(xc + 3 * VW);
        b0 += u * FN(ld)(xd);
        b1 += u * FN(ld)(xd + VW);
        b2 += u * FN(ld)(xd + 2 * VW);
        b3 += u * FN(ld)(xd + 3 * VW);
      }
      if (p < e) {
        VF v = (VF){0} + val[p];
        const float* xc = base + off[col[p]];
        a0 += v * FN(ld)(xc);
        a1 += v * FN(ld)(xc + VW);
        a2 += v * FN(ld)(xc + 2 * VW);
        a3 += v * FN(ld)(xc + 3 * VW);
      }
      float s[SB];
      FN(st)(s, a0 + b0);
      FN(st)(s + VW, a1 + b1);
      FN(st)(s + 2 * VW, a2 + b2);
      FN(st)(s + 3 * VW, a3 + b3);
      int n = q - q0 < SB ? q - q0 : SB;
      int yy = q0 / wq, xx = q0 % wq;
      for (int i = 0; i < n; i++) {
        if (xx < ow) yr[yy * ow + xx] = s[i];
        if (++xx == wq) {
          xx = 0;
          yy++;
        }
      }
    }
  }
}

static void FN(scale)(float* a, int len, float f) {
  for (int i = 0; i < len; i++) a[i] *= f;
}

/*
 * Rows r of a masked, scaled softmax in one call: y = softmax(x * scale + mask row), the mask row of
 * row r starting at mk + mrow[r] (mstep 0: one value broadcast). The same steps as affine_max,
 * exp_shifted and scale called per row from Java, without a JNI crossing per row.
 */
static void FN(softmax_rows)(const float* x, int rows, int cols, float scale, const float* mk, const int* mrow,
                             int mstep, float* y) {
  for (int r = 0; r < rows; r++) {
    const float* xr = x + (size_t)r * cols;
    float* yr = y + (size_t)r * cols;
    float max = FN(affine_max)(xr, scale, mk ? mk + mrow[r] : NULL, mstep, yr, cols);
    float s = FN(exp_shifted)(yr, cols, max, yr);
    FN(scale)(yr, cols, (float)(1.0 / (double)s));
  }
}

/*
 * W8A8: uint8 activations x int8 weights, int32 sums. w is a panel of 32 columns in groups of 4
 * along k: w[(q*32 + j)*4 + t] is element 4q+t of column j (Kernels.java, gemmU8S8). kp is k
 * rounded up to 4, x rows are kp apart. Then y = (sum - zp * colsum[j]) * (ascale * wscale[j]) + bias[j].
 */
static inline __attribute__((always_inline)) void FN(store_s8)(const int32_t* acc, int nb, int zp,
                                                               const int32_t* colsum, float ascale,
                                                               const float* wscale, const float* bias, float* y) {
  for (int j = 0; j < nb; j++) {
    float v = (float)(acc[j] - zp * colsum[j]) * (ascale * wscale[j]);
    y[j] = bias ? v + bias[j] : v;
  }
}

#ifdef HAVE_VNNI
static inline __attribute__((always_inline)) void FN(block_s8)(int rows, const uint8_t* x, int kp, const int8_t* w,
                                                               int nb, int zp, const int32_t* colsum, float ascale,
                                                               const float* wscale, const float* bias, float* y,
                                                               int ldy) {
  __m512i acc[MR][2];
  for (int r = 0; r < rows; r++) acc[r][0] = acc[r][1] = _mm512_setzero_si512();
  for (int q = 0; q < kp / 4; q++) {
    __m512i b0 = _mm512_loadu_si512(w + (size_t)q * 128);
    __m512i b1 = _mm512_loadu_si512(w + (size_t)q * 128 + 64);
    for (int r = 0; r < rows; r++) {
      int32_t a4;
      memcpy(&a4, x + (size_t)r * kp + 4 * q, 4);
      __m512i a = _mm512_set1_epi32(a4);
      acc[r][0] = _mm512_dpbusd_epi32(acc[r][0], a, b0);
      acc[r][1] = _mm512_dpbusd_epi32(acc[r][1], a, b1);
    }
  }
  for (int r = 0; r < rows; r++) {
    int32_t s[PANEL];
    _mm512_storeu_si512(s, acc[r][0]);
    _mm512_storeu_si512(s + 16, acc[r][1]);
    FN(store_s8)(s, nb, zp, colsum, ascale, wscale, bias, y + (size_t)r * ldy);
  }
}

static void FN(gemm_u8s8)(const uint8_t* x, int m, int kp, const int8_t* w, int nb, int zp, const int32_t* colsum,
                          float ascale, const float* wscale, const float* bias, float* y, int ldy) {
  int i = 0;
  for (; i + MR <= m; i += MR)
    FN(block_s8)(MR, x + (size_t)i * kp, kp, w, nb, zp, colsum, ascale, wscale, bias, y + (size_t)i * ldy, ldy);
  /* the rows left in blocks of 8, 4, 2, as gemm_panel does */
#define TAIL_S8(R)                                                                                              \
  if (MR > (R) && m - i >= (R)) {                                                                               \
    FN(block_s8)((R), x + (size_t)i * kp, kp, w, nb, zp, colsum, ascale, wscale, bias, y + (size_t)i * ldy, ldy); \
    i += (R);                                                                                                   \
  }
  TAIL_S8(8) TAIL_S8(4) TAIL_S8(2)
#undef TAIL_S8
  for (; i < m; i++)
    FN(block_s8)(1, x + (size_t)i * kp, kp, w, nb, zp, colsum, ascale, wscale, bias, y + (size_t)i * ldy, ldy);
}
#elif defined(HAVE_AVX2_INT)
/*
 * AVX2 has no 8-bit dot product that is exact for uint8 x int8 (vpmaddubsw saturates pairs at
 * 16 bits), so codes are widened to 16 bits and multiplied in pairs into 32 bits (vpmaddwd):
 * per group of four along k, 16 bytes hold four columns; eight such per panel, eight 32-bit
 * accumulators per row, their pairs summed once at the end of the row.
 */
static void FN(gemm_u8s8)(const uint8_t* x, int m, int kp, const int8_t* w, int nb, int zp, const int32_t* colsum,
                          float ascale, const float* wscale, const float* bias, float* y, int ldy) {
  for (int i = 0; i < m; i++) {
    const uint8_t* xr = x + (size_t)i * kp;
    __m256i acc[8];
    for (int c = 0; c < 8; c++) acc[c] = _mm256_setzero_si256();
    for (int q = 0; q < kp / 4; q++) {
      const int8_t* wq = w + (size_t)q * 128;
      int64_t a4 = (int64_t)xr[4 * q] | (int64_t)xr[4 * q + 1] << 16 | (int64_t)xr[4 * q + 2] << 32 |
                   (int64_t)xr[4 * q + 3] << 48;
      __m256i a = _mm256_set1_epi64x(a4);
      for (int c = 0; c < 8; c++) {
        __m256i b = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i*)(wq + 16 * c)));
        acc[c] = _mm256_add_epi32(acc[c], _mm256_madd_epi16(a, b));
      }
    }
    int32_t pairs[64];
    for (int c = 0; c < 8; c++) _mm256_storeu_si256((__m256i*)(pairs + 8 * c), acc[c]);
    int32_t s[PANEL];
    for (int j = 0; j < PANEL; j++) s[j] = pairs[2 * j] + pairs[2 * j + 1];
    FN(store_s8)(s, nb, zp, colsum, ascale, wscale, bias, y + (size_t)i * ldy);
  }
}

/*
 * Rows per block of the 7-bit product: 2 rows x 32 columns keep their 8 sums, the broadcasts, the
 * ones and a weight vector in AVX2's 16 registers; at 3 rows GCC kept 9 of the 12 sums in memory,
 * and kernel_bench measured 156-166 GOP/s per core against 188-197 for 2 rows.
 */
#ifndef MR_S7
#define MR_S7 2
#endif

/*
 * The same for weight codes in [-64, 64] (int8-fast's 7-bit codes), where vpmaddubsw cannot
 * saturate (255 * 64 * 2 = 32640): uint8 x int8 pairs into 16 bits, then pairs of those into 32
 * bits (vpmaddwd by ones), as VNNI's vpdpbusd does in one step; one weight load per group of four
 * along k serves `rows` rows.
 */
static inline __attribute__((always_inline)) void FN(block_s7)(int rows, const uint8_t* x, int kp, const int8_t* w,
                                                               int nb, int zp, const int32_t* colsum, float ascale,
                                                               const float* wscale, const float* bias, float* y,
                                                               int ldy) {
  const __m256i ones = _mm256_set1_epi16(1);
  __m256i acc[MR_S7][4];
  for (int r = 0; r < rows; r++)
    for (int c = 0; c < 4; c++) acc[r][c] = _mm256_setzero_si256();
  for (int q = 0; q < kp / 4; q++) {
    const int8_t* wq = w + (size_t)q * 128;
    __m256i a[MR_S7];
    for (int r = 0; r < rows; r++) {
      int32_t a4;
      memcpy(&a4, x + (size_t)r * kp + 4 * q, 4);
      a[r] = _mm256_set1_epi32(a4);
    }
    for (int c = 0; c < 4; c++) {
      __m256i b = _mm256_loadu_si256((const __m256i*)(wq + 32 * c));
      for (int r = 0; r < rows; r++)
        acc[r][c] = _mm256_add_epi32(acc[r][c], _mm256_madd_epi16(_mm256_maddubs_epi16(a[r], b), ones));
    }
  }
  for (int r = 0; r < rows; r++) {
    int32_t s[PANEL];
    for (int c = 0; c < 4; c++) _mm256_storeu_si256((__m256i*)(s + 8 * c), acc[r][c]);
    FN(store_s8)(s, nb, zp, colsum, ascale, wscale, bias, y + (size_t)r * ldy);
  }
}

static void FN(gemm_u8s7)(const uint8_t* x, int m, int kp, const int8_t* w, int nb, int zp, const int32_t* colsum,
                          float ascale, const float* wscale, const float* bias, float* y, int ldy) {
  int i = 0;
  for (; i + MR_S7 <= m; i += MR_S7)
    FN(block_s7)(MR_S7, x + (size_t)i * kp, kp, w, nb, zp, colsum, ascale, wscale, bias, y + (size_t)i * ldy, ldy);
  for (; i < m; i++)
    FN(block_s7)(1, x + (size_t)i * kp, kp, w, nb, zp, colsum, ascale, wscale, bias, y + (size_t)i * ldy, ldy);
}
#elif defined(__aarch64__)
/*
 * NEON has no exact uint8 x int8 dot product before USDOT (Armv8.6 i8mm), so two paths, the CPU's
 * chosen at run time (gemm_u8s8 below):
 *  - dotprod (SDOT, Armv8.2+, HWCAP_ASIMDDP): int8 x int8 in groups of four into 32 bits. The
 *    activation is moved to int8 as x - 128 (x ^ 0x80), so the sum is short of 128 * colsum[j],
 *    which the zero-point correction absorbs: sum (x - zp) w = sdot + (128 - zp) * colsum[j].
 *    One vector of w holds four columns of one group: eight per panel, up to MR rows share each.
 *  - baseline NEON: codes widened to 16 bits, products in 16 bits (|255 * -128| < 2^15, exact),
 *    adjacent pairs added into 32 bits (sadalp); one row at a time, 16 accumulators of pairs.
 * Both are exact, as every other path: the same int32 sums.
 */
__attribute__((target("arch=armv8.2-a+dotprod"))) static inline __attribute__((always_inline)) void FN(block_sdot)(
    int rows, const uint8_t* x, int kp, const int8_t* w, int nb, int zp, const int32_t* colsum, float ascale,
    const float* wscale, const float* bias, float* y, int ldy) {
  int32x4_t acc[MR][8];
  for (int r = 0; r < rows; r++)
    for (int c = 0; c < 8; c++) acc[r][c] = vdupq_n_s32(0);
  for (int q = 0; q < kp / 4; q++) {
    int8x16_t a[MR];
    for (int r = 0; r < rows; r++) {
      uint32_t a4;
      memcpy(&a4, x + (size_t)r * kp + 4 * q, 4);
      a[r] = vreinterpretq_s8_u32(vdupq_n_u32(a4 ^ 0x80808080u));
    }
    const int8_t* wq = w + (size_t)q * 128;
    for (int c = 0; c < 8; c++) {
      int8x16_t b = vld1q_s8(wq + 16 * c);
      for (int r = 0; r < rows; r++) acc[r][c] = vdotq_s32(acc[r][c], a[r], b);
    }
  }
  for (int r = 0; r < rows; r++) {
    int32_t s[PANEL];
    for (int c = 0; c < 8; c++) vst1q_s32(s + 4 * c, acc[r][c]);
    FN(store_s8)(s, nb, zp - 128, colsum, ascale, wscale, bias, y + (size_t)r * ldy);
  }
}

__attribute__((target("arch=armv8.2-a+dotprod"))) static void FN(gemm_u8s8_sdot)(const uint8_t* x, int m, int kp,
                                                                   const int8_t* w, int nb, int zp,
                                                                   const int32_t* colsum, float ascale,
                                                                   const float* wscale, const float* bias, float* y,
                                                                   int ldy) {
  int i = 0;
  for (; i + MR <= m; i += MR)
    FN(block_sdot)(MR, x + (size_t)i * kp, kp, w, nb, zp, colsum, ascale, wscale, bias, y + (size_t)i * ldy, ldy);
  for (; i < m; i++)
    FN(block_sdot)(1, x + (size_t)i * kp, kp, w, nb, zp, colsum, ascale, wscale, bias, y + (size_t)i * ldy, ldy);
}

static void FN(gemm_u8s8_neon)(const uint8_t* x, int m, int kp, const int8_t* w, int nb, int zp,
                               const int32_t* colsum, float ascale, const float* wscale, const float* bias, float* y,
                               int ldy) {
  for (int i = 0; i < m; i++) {
    const uint8_t* xr = x + (size_t)i * kp;
    int32x4_t acc[16];
    for (int c = 0; c < 16; c++) acc[c] = vdupq_n_s32(0);
    for (int q = 0; q < kp / 4; q++) {
      uint32_t a4;
      memcpy(&a4, xr + 4 * q, 4);
      uint8x8_t a8 = vreinterpret_u8_u32(vdup_n_u32(a4));
      int16x8_t a = vreinterpretq_s16_u16(vmovl_u8(a8)); /* x0..x3 twice: two columns' worth */
      const int8_t* wq = w + (size_t)q * 128;
      for (int c = 0; c < 8; c++) {
        int8x16_t b = vld1q_s8(wq + 16 * c);
        acc[2 * c] = vpadalq_s16(acc[2 * c], vmulq_s16(a, vmovl_s8(vget_low_s8(b))));
        acc[2 * c + 1] = vpadalq_s16(acc[2 * c + 1], vmulq_s16(a, vmovl_s8(vget_high_s8(b))));
      }
    }
    int32_t s[PANEL];
    for (int c = 0; c < 8; c++) vst1q_s32(s + 4 * c, vpaddq_s32(acc[2 * c], acc[2 * c + 1]));
    FN(store_s8)(s, nb, zp, colsum, ascale, wscale, bias, y + (size_t)i * ldy);
  }
}

static void FN(gemm_u8s8)(const uint8_t* x, int m, int kp, const int8_t* w, int nb, int zp, const int32_t* colsum,
                          float ascale, const float* wscale, const float* bias, float* y, int ldy) {
  if (have_dotprod())
    FN(gemm_u8s8_sdot)(x, m, kp, w, nb, zp, colsum, ascale, wscale, bias, y, ldy);
  else
    FN(gemm_u8s8_neon)(x, m, kp, w, nb, zp, colsum, ascale, wscale, bias, y, ldy);
}
#else
/* widened to 16 bits, products summed in pairs into 32 bits (pmaddwd / smlal where the target has them) */
static void FN(gemm_u8s8)(const uint8_t* x, int m, int kp, const int8_t* w, int nb, int zp, const int32_t* colsum,
                          float ascale, const float* wscale, const float* bias, float* y, int ldy) {
  for (int i = 0; i < m; i++) {
    const uint8_t* xr = x + (size_t)i * kp;
    int32_t acc[PANEL] = {0};
    for (int q = 0; q < kp / 4; q++) {
      const int8_t* wq = w + (size_t)q * 128;
      int16_t a0 = xr[4 * q], a1 = xr[4 * q + 1], a2 = xr[4 * q + 2], a3 = xr[4 * q + 3];
      for (int j = 0; j < PANEL; j++) {
        acc[j] += (int32_t)(int16_t)(a0 * wq[4 * j]) + (int16_t)(a1 * wq[4 * j + 1]) +
                  (int32_t)(int16_t)(a2 * wq[4 * j + 2]) + (int16_t)(a3 * wq[4 * j + 3]);
      }
    }
    FN(store_s8)(acc, nb, zp, colsum, ascale, wscale, bias, y + (size_t)i * ldy);
  }
}
#endif

/* min(0, min x) and max(0, max x) over n values into mm[0], mm[1] (NaN ignored) */
static void FN(range_f32)(const float* x, size_t n, float* mm) {
  float mn = 0.f, mx = 0.f;
  size_t i0 = 0;
#ifdef HAVE_VNNI
  /* AVX-512: the same operations lane by lane (min/max as v < m ? v : m, an IEEE division,
     round half to even, clamp with NaN to 0), so the codes are the scalar loop's bit for bit */
  __m512 vmn = _mm512_setzero_ps(), vmx = _mm512_setzero_ps();
  for (; i0 + 16 <= n; i0 += 16) {
    __m512 v = _mm512_loadu_ps(x + i0);
    vmn = _mm512_min_ps(v, vmn);
    vmx = _mm512_max_ps(v, vmx);
  }
  float lmn[16], lmx[16];
  _mm512_storeu_ps(lmn, vmn);
  _mm512_storeu_ps(lmx, vmx);
  for (int l = 0; l < 16; l++) {
    mn = lmn[l] < mn ? lmn[l] : mn;
    mx = lmx[l] > mx ? lmx[l] : mx;
  }
#elif defined(HAVE_AVX2_INT)
  /* four pairs of running min/max: one pair was bound by the 3-cycle latency of each step */
  __m256 vmn[4], vmx[4];
  for (int a = 0; a < 4; a++) vmn[a] = vmx[a] = _mm256_setzero_ps();
  for (; i0 + 32 <= n; i0 += 32)
    for (int a = 0; a < 4; a++) {
      __m256 v = _mm256_loadu_ps(x + i0 + 8 * a);
      vmn[a] = _mm256_min_ps(v, vmn[a]);
      vmx[a] = _mm256_max_ps(v, vmx[a]);
    }
  for (int a = 0; a < 4; a++) {
    float lmn[8], lmx[8];
    _mm256_storeu_ps(lmn, vmn[a]);
    _mm256_storeu_ps(lmx, vmx[a]);
    for (int l = 0; l < 8; l++) {
      mn = lmn[l] < mn ? lmn[l] : mn;
      mx = lmx[l] > mx ? lmx[l] : mx;
    }
  }
#endif
  for (size_t i = i0; i < n; i++) {
    float v = x[i];
    mn = v < mn ? v : mn;
    mx = v > mx ? v : mx;
  }
  mm[0] = mn;
  mm[1] = mx;
}

/* rows of x quantized with a given scale and zero point (DynamicQuantizeLinear's second pass) */
static void FN(quantize_rows_u8)(const float* x, int m, int k, int kp, uint8_t* out, float scale, float zp) {
  for (int i = 0; i < m; i++) {
    const float* xr = x + (size_t)i * k;
    uint8_t* o = out + (size_t)i * kp;
    int kk = 0;
#ifdef HAVE_VNNI
    __m512 vs = _mm512_set1_ps(scale), vz = _mm512_set1_ps(zp), lo = _mm512_setzero_ps(),
           hi = _mm512_set1_ps(255.f);
    for (; kk + 16 <= k; kk += 16) {
      __m512 r = _mm512_roundscale_ps(_mm512_div_ps(_mm512_loadu_ps(xr + kk), vs),
                                      _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
      r = _mm512_add_ps(r, vz);
      r = _mm512_max_ps(r, lo); /* NaN -> 0 (max returns its second operand on NaN) */
      r = _mm512_min_ps(r, hi);
      _mm_storeu_si128((__m128i*)(o + kk), _mm512_cvtepi32_epi8(_mm512_cvttps_epi32(r)));
    }
#elif defined(HAVE_AVX2_INT)
    __m256 vs = _mm256_set1_ps(scale), vz = _mm256_set1_ps(zp), lo = _mm256_setzero_ps(),
           hi = _mm256_set1_ps(255.f);
    for (; kk + 8 <= k; kk += 8) {
      __m256 r = _mm256_round_ps(_mm256_div_ps(_mm256_loadu_ps(xr + kk), vs),
                                 _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
      r = _mm256_min_ps(_mm256_max_ps(_mm256_add_ps(r, vz), lo), hi); /* NaN -> 0, as below */
      /* eight codes in [0, 255] narrowed to bytes in order (the saturating packs change none) */
      __m256i q = _mm256_cvttps_epi32(r);
      __m128i w = _mm_packus_epi32(_mm256_castsi256_si128(q), _mm256_extracti128_si256(q, 1));
      _mm_storel_epi64((__m128i*)(o + kk), _mm_packus_epi16(w, w));
    }
#endif
    for (; kk < k; kk++) {
      float r = nearbyintf(xr[kk] / scale) + zp;
      r = r >= 0.f ? r : 0.f;
      r = r <= 255.f ? r : 255.f;
      o[kk] = (uint8_t)(int)r;
    }
    for (int kk = k; kk < kp; kk++) o[kk] = 0;
  }
}

/*
 * ONNX DynamicQuantizeLinear over m rows of k (written kp apart, padding 0), as ONNX Runtime
 * computes it: range widened to hold 0, scale = range / 255 (1 for an empty range), zero point and
 * codes rounded half to even (nearbyintf in the default rounding mode), a NaN coded as 0 as Java
 * does. params receives the scale and the zero point. Its two passes are also called apart
 * (range_f32 over parts of x, then quantize_rows_u8 over parts of the rows), so threads share them.
 */
static void FN(quantize_u8)(const float* x, int m, int k, int kp, uint8_t* out, float* params) {
  float mm[2];
  FN(range_f32)(x, (size_t)m * k, mm);
  float mn = mm[0], mx = mm[1];
  float scale = mx == mn ? 1.f : (mx - mn) / 255.f;
  float z = 0.f - mn / scale;
  z = z > 0.f ? (z < 255.f ? z : 255.f) : 0.f;
  float zp = nearbyintf(z);
  FN(quantize_rows_u8)(x, m, k, kp, out, scale, zp);
  params[0] = scale;
  params[1] = zp;
}

#undef FN
#undef VF
#undef NV
#undef CAT
#undef CAT_
#undef PANEL_ROWS
