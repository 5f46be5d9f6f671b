/*
 * The fused operators of one instruction set. Included once per target by fused_ops.c, after it
 * defined SUFFIX (the name suffix) and VW (floats per hardware vector). Plain C with GCC vector
 * extensions, as kernels_impl.h, so the same source becomes AVX-512, AVX2+FMA, SSE2 or NEON code.
 * Reductions (max, sums) run in vector lanes: C without -ffast-math keeps a scalar sum scalar.
 */
#define FCAT_(a, b) a##_##b
#define FCAT(a, b) FCAT_(a, b)
#define FF(name) FCAT(name, SUFFIX)
#define FV FCAT(fv, SUFFIX)
#define FI FCAT(fi, SUFFIX)

typedef float FV __attribute__((vector_size(VW * 4)));
typedef int32_t FI __attribute__((vector_size(VW * 4)));

static inline __attribute__((always_inline)) FV FF(ld)(const float* p) {
  FV v;
  memcpy(&v, p, sizeof v);
  return v;
}

static inline __attribute__((always_inline)) void FF(st)(float* p, FV v) { memcpy(p, &v, sizeof v); }

static inline __attribute__((always_inline)) FV FF(splat)(float x) { return (FV){0} + x; }

/* lanes of a where m is set, of b elsewhere */
static inline __attribute__((always_inline)) FV FF(sel)(FI m, FV a, FV b) {
  return (FV)(((FI)a & m) | ((FI)b & ~m));
}

/* the lanes' sum as a tree (halves added, log2 VW steps deep; a chain of VW - 1 adds took as long
   as the exponentials of a 128-key softmax row) */
static inline __attribute__((always_inline)) float FF(hsum)(FV v) {
  float t[VW];
  memcpy(t, &v, sizeof v);
  for (int w = VW / 2; w >= 1; w /= 2)
    for (int i = 0; i < w; i++) t[i] += t[i + w];
  return t[0];
}

static inline __attribute__((always_inline)) float FF(hmax)(FV v) {
  float t[VW];
  memcpy(t, &v, sizeof v);
  for (int w = VW / 2; w >= 1; w /= 2)
    for (int i = 0; i < w; i++) t[i] = t[i + w] > t[i] ? t[i + w] : t[i];
  return t[0];
}

/* e^x as the other kernels compute it: x = k ln2 + r, a degree-6 polynomial for e^r, 2^k in the exponent bits */
static inline __attribute__((always_inline)) FV FF(vexp)(FV x) {
  FV lo = FF(splat)(-87.3f), hi = FF(splat)(88.7f);
  x = FF(sel)(x < lo, lo, x);
  x = FF(sel)(x > hi, hi, x);
  FI k = __builtin_convertvector(x * 1.44269504f + 128.5f, FI) - 128;
  FV kf = __builtin_convertvector(k, FV);
  FV r = x - kf * 0.693145752f - kf * 1.42860677e-6f;
  FV p = 1.f + r * (1.f + r * (0.5f + r * (1.f / 6 + r * (1.f / 24 + r * (1.f / 120 + r * (1.f / 720))))));
  FI bits = (k + 127) << 23;
  return p * (FV)bits;
}

static inline float FF(sexp)(float x) {
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

/*
 * Register blocks of the attention head: ATT_RB query rows at a time; the scores in blocks of
 * ATT_QJ vectors of keys, the output in blocks of ATT_PJ vectors of value columns. With 32 vector
 * registers (AVX-512) 8 rows x 2 vectors: 16 sums, and per step two loads and eight broadcasts
 * (memory operands) for sixteen multiply-adds; with 16 registers: AVX2 6 x 2 (a head size of 32
 * or 64 and 128 keys are whole blocks of two vectors; 4 x 3 left a one-vector block, 466 against
 * 448 us for MiniLM's 12 heads of 128 tokens on one core), SSE 4 x 3.
 */
#if VW >= 16
#define ATT_RB 8
#define ATT_QJ 2
#define ATT_PJ 2
#elif VW == 8
#define ATT_RB 6
#define ATT_QJ 2
#define ATT_PJ 2
#else
#define ATT_RB 4
#define ATT_QJ 3
#define ATT_PJ 3
#endif

/* a value broadcast to every lane: -0 + x is x exactly (+0 + x is not, for x = -0), so it folds to one broadcast */
static inline __attribute__((always_inline)) FV FF(bcast)(float x) { return -(FV){0} + x; }

/*
 * rows x (nv vectors) of scores: s[r][j] = sum_c q[r*ld + c] * kt[c*skp + j], kt the head's keys
 * transposed and padded to skp columns. Inlined with constant rows and nv, so the sums stay in
 * registers.
 */
static inline __attribute__((always_inline)) void FF(qk_block)(int rows, int nv, const float* q, int ld, int d,
                                                               const float* kt, int skp, float* s) {
  FV acc[ATT_RB][ATT_QJ];
  for (int r = 0; r < rows; r++)
    for (int v = 0; v < nv; v++) acc[r][v] = (FV){0};
  for (int c = 0; c < d; c++) {
    FV b[ATT_QJ];
    for (int v = 0; v < nv; v++) b[v] = FF(ld)(kt + (size_t)c * skp + v * VW);
    for (int r = 0; r < rows; r++) {
      FV a = FF(bcast)(q[(size_t)r * ld + c]);
      for (int v = 0; v < nv; v++) acc[r][v] += a * b[v];
    }
  }
  for (int r = 0; r < rows; r++)
    for (int v = 0; v < nv; v++) FF(st)(s + (size_t)r * skp + v * VW, acc[r][v]);
}

/*
 * rows x (nv vectors) of output: o[r][c] = inv[r] * sum_j p[r*skp + j] * v[j*ldv + c], stored to
 * o (rows ldo apart; only the first dv - c0 columns of a vector past dv). v is read in place (rows
 * ldv apart, each holding nv whole vectors from here).
 */
static inline __attribute__((always_inline)) void FF(pv_block)(int rows, int nv, const float* p, int skp, int sk,
                                                               const float* v, size_t ldv, const float* inv,
                                                               float* o, size_t ldo, int cols) {
  FV acc[ATT_RB][ATT_PJ];
  for (int r = 0; r < rows; r++)
    for (int u = 0; u < nv; u++) acc[r][u] = (FV){0};
  for (int j = 0; j < sk; j++) {
    FV b[ATT_PJ];
    for (int u = 0; u < nv; u++) b[u] = FF(ld)(v + (size_t)j * ldv + u * VW);
    for (int r = 0; r < rows; r++) {
      FV a = FF(bcast)(p[(size_t)r * skp + j]);
      for (int u = 0; u < nv; u++) acc[r][u] += a * b[u];
    }
  }
  for (int r = 0; r < rows; r++) {
    FV f = FF(bcast)(inv[r]);
    float* orow = o + (size_t)r * ldo;
    for (int u = 0; u < nv; u++) {
      if ((u + 1) * VW <= cols) {
        FF(st)(orow + u * VW, acc[r][u] * f);
      } else {
        FV t = acc[r][u] * f;
        for (int c = 0; u * VW + c < cols; c++) orow[u * VW + c] = t[c];
      }
    }
  }
}

/*
 * One row of the scaled, masked softmax over sk scores in place, left unnormalized: y = e^(x *
 * scale + m - max); returns 1 / sum y (m: the mask row, step 0 or 1; NULL: none).
 */
static float FF(softmax_row)(float* y, int sk, float scale, const float* m, int mstep) {
  int j = 0;
  FV vmax = FF(splat)(-INFINITY);
  FV vsc = FF(bcast)(scale);
  for (; j + VW <= sk; j += VW) {
    FV x = FF(ld)(y + j) * vsc;
    if (m) x += mstep ? FF(ld)(m + j) : FF(bcast)(m[0]);
    FF(st)(y + j, x);
    vmax = FF(sel)(x > vmax, x, vmax);
  }
  float max = FF(hmax)(vmax);
  for (; j < sk; j++) {
    float x = y[j] * scale + (m ? m[(size_t)j * mstep] : 0.f);
    y[j] = x;
    max = x > max ? x : max;
  }
  FV vs = (FV){0};
  FV vm = FF(bcast)(max);
  for (j = 0; j + VW <= sk; j += VW) {
    FV e = FF(vexp)(FF(ld)(y + j) - vm);
    FF(st)(y + j, e);
    vs += e;
  }
  float sum = FF(hsum)(vs);
  for (; j < sk; j++) {
    y[j] = FF(sexp)(y[j] - max);
    sum += y[j];
  }
  return sk > 0 ? (float)(1.0 / (double)sum) : 1.f; /* no keys: the sums are 0, and stay 0 */
}

/* scores, softmax and output of rows (at most ATT_RB) query rows from qi; s: ATT_RB * skp scratch */
static inline __attribute__((always_inline)) void FF(attention_rows)(int rows, const float* qi, int ld, int d,
                                                                     const float* kt, int skp, int sk,
                                                                     const float* vb, size_t ldvb, int dv, float scale,
                                                                     const float* m, int mrow, int mstep, float* o,
                                                                     int ldv, float* s) {
  int nk = skp / VW;
  int v0 = 0;
  for (; v0 + ATT_QJ <= nk; v0 += ATT_QJ) FF(qk_block)(rows, ATT_QJ, qi, ld, d, kt + v0 * VW, skp, s + v0 * VW);
  for (; v0 < nk; v0++) FF(qk_block)(rows, 1, qi, ld, d, kt + v0 * VW, skp, s + v0 * VW);
  float inv[ATT_RB];
  for (int r = 0; r < rows; r++)
    inv[r] = FF(softmax_row)(s + (size_t)r * skp, sk, scale, m ? m + (size_t)r * mrow : NULL, mstep);
  int nd = (dv + VW - 1) / VW;
  int u0 = 0;
  for (; u0 + ATT_PJ <= nd; u0 += ATT_PJ)
    FF(pv_block)(rows, ATT_PJ, s, skp, sk, vb + u0 * VW, ldvb, inv, o + u0 * VW, ldv, dv - u0 * VW);
  for (; u0 < nd; u0++) FF(pv_block)(rows, 1, s, skp, sk, vb + u0 * VW, ldvb, inv, o + u0 * VW, ldv, dv - u0 * VW);
}

/*
 * One head of attention: out[i*ldv + c] = sum_j softmax_j(q_i . k_j * scale + mask[i][j]) v[j*ldv + c]
 * for i < sq, c < dv; q and k rows ld apart, v and out rows ldv apart (the heads interleaved, as
 * [batch, seq, heads, dim] lays them out). The mask row of query i starts at m + i*mrow. Scratch:
 * kt (d * skp), vp (sk * dvp), s (ATT_RB * skp) with skp, dvp rounded up to VW. Query rows go
 * ATT_RB at a time: their scores by register blocks against the transposed keys, the softmax
 * left unnormalized, then the product with the value rows (read in place when dv is a whole
 * number of vectors, else from the padded copy vp) with each row's 1 / sum applied to its sums.
 */
static void FF(attention_head)(const float* q, const float* k, const float* v, int sq, int sk, int ld, int ldv,
                               int d, int dv, float scale, const float* m, int mrow, int mstep, float* out,
                               float* kt, float* vp, float* s) {
  int skp = (sk + VW - 1) / VW * VW;
  int dvp = (dv + VW - 1) / VW * VW;
  /* keys transposed a key at a time: each key's row read once, contiguously (the rows are ld
     apart, a stride at which a head's keys overflow their L1 sets when read a column at a time) */
  for (int j = 0; j < sk; j++) {
    const float* kj = k + (size_t)j * ld;
    for (int c = 0; c < d; c++) kt[(size_t)c * skp + j] = kj[c];
  }
  for (int c = 0; c < d; c++)
    for (int j = sk; j < skp; j++) kt[(size_t)c * skp + j] = 0.f;
  const float* vb = v;
  size_t ldvb = (size_t)ldv;
  if (dv != dvp) {
    for (int j = 0; j < sk; j++) {
      memcpy(vp + (size_t)j * dvp, v + (size_t)j * ldv, sizeof(float) * dv);
      for (int c = dv; c < dvp; c++) vp[(size_t)j * dvp + c] = 0.f;
    }
    vb = vp;
    ldvb = (size_t)dvp;
  }
  /* padded keys score 0 in qk_block but are never read: the softmax and the product stop at sk */
  int i0 = 0;
  for (; i0 + ATT_RB <= sq; i0 += ATT_RB)
    FF(attention_rows)(ATT_RB, q + (size_t)i0 * ld, ld, d, kt, skp, sk, vb, ldvb, dv, scale,
                       m ? m + (size_t)i0 * mrow : NULL, mrow, mstep, out + (size_t)i0 * ldv, ldv, s);
  for (; i0 < sq; i0++)
    FF(attention_rows)(1, q + (size_t)i0 * ld, ld, d, kt, skp, sk, vb, ldvb, dv, scale,
                       m ? m + (size_t)i0 * mrow : NULL, mrow, mstep, out + (size_t)i0 * ldv, ldv, s);
}

/*
 * Rows of layer normalization of x (+ skip when not NULL) into y, the sums in vector lanes; with sc,
 * ys gets y * sc, or (ys NULL) y itself is scaled. g, b: scale and shift (NULL: 1 and 0). The sum
 * x + skip is written to y first, so y is the only scratch.
 */
static void FF(skip_layer_norm_rows)(const float* x, const float* skip, int rows, int len, float eps,
                                     const float* g, const float* b, const float* sc, float* y, float* ys) {
  for (int r = 0; r < rows; r++) {
    const float* xr = x + (size_t)r * len;
    float* yr = y + (size_t)r * len;
    int i = 0;
    FV vs = (FV){0};
    if (skip) {
      const float* sr = skip + (size_t)r * len;
      for (; i + VW <= len; i += VW) {
        FV t = FF(ld)(xr + i) + FF(ld)(sr + i);
        FF(st)(yr + i, t);
        vs += t;
      }
      for (int j = i; j < len; j++) yr[j] = xr[j] + sr[j];
      xr = yr;
    } else {
      for (; i + VW <= len; i += VW) vs += FF(ld)(xr + i);
    }
    float sum = FF(hsum)(vs);
    for (; i < len; i++) sum += xr[i];
    float mean = sum / len;
    FV vm = FF(splat)(mean);
    FV vv = (FV){0};
    for (i = 0; i + VW <= len; i += VW) {
      FV t = FF(ld)(xr + i) - vm;
      vv += t * t;
    }
    float var = FF(hsum)(vv);
    for (; i < len; i++) {
      float t = xr[i] - mean;
      var += t * t;
    }
    float inv = (float)(1.0 / sqrt(var / len + eps));
    FV vi = FF(splat)(inv);
    float* ysr = ys ? ys + (size_t)r * len : NULL;
    for (i = 0; i + VW <= len; i += VW) {
      FV t = (FF(ld)(xr + i) - vm) * vi;
      if (g) t *= FF(ld)(g + i);
      if (b) t += FF(ld)(b + i);
      if (ysr) {
        FF(st)(yr + i, t);
        FF(st)(ysr + i, t * FF(ld)(sc + i));
      } else {
        FF(st)(yr + i, sc ? t * FF(ld)(sc + i) : t);
      }
    }
    for (; i < len; i++) {
      float t = (xr[i] - mean) * inv * (g ? g[i] : 1.f) + (b ? b[i] : 0.f);
      if (ysr) {
        yr[i] = t;
        ysr[i] = t * sc[i];
      } else {
        yr[i] = sc ? t * sc[i] : t;
      }
    }
  }
}

#undef ATT_RB
#undef ATT_QJ
#undef ATT_PJ
#undef FCAT_
#undef FCAT
#undef FF
#undef FV
#undef FI
