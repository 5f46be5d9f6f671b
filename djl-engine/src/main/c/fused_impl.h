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

static inline __attribute__((always_inline)) float FF(hsum)(FV v) {
  float s = 0;
  for (int i = 0; i < VW; i++) s += v[i];
  return s;
}

static inline __attribute__((always_inline)) float FF(hmax)(FV v) {
  float m = v[0];
  for (int i = 1; i < VW; i++) m = v[i] > m ? v[i] : m;
  return m;
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

#define ATT_RB 4 /* query rows per block */
#define ATT_JB 4 /* vectors of keys (or of value columns) per block */

/*
 * rows x (nv vectors) of scores: s[r][j] = sum_c q[r*ld + c] * kt[c*skp + j], kt the head's keys
 * transposed and padded to skp columns. Inlined with constant rows and nv, so the sums stay in
 * registers.
 */
static inline __attribute__((always_inline)) void FF(qk_block)(int rows, int nv, const float* q, int ld, int d,
                                                               const float* kt, int skp, float* s) {
  FV acc[ATT_RB][ATT_JB];
  for (int r = 0; r < rows; r++)
    for (int v = 0; v < nv; v++) acc[r][v] = (FV){0};
  for (int c = 0; c < d; c++) {
    FV b[ATT_JB];
    for (int v = 0; v < nv; v++) b[v] = FF(ld)(kt + (size_t)c * skp + v * VW);
    for (int r = 0; r < rows; r++) {
      FV a = FF(splat)(q[(size_t)r * ld + c]);
      for (int v = 0; v < nv; v++) acc[r][v] += a * b[v];
    }
  }
  for (int r = 0; r < rows; r++)
    for (int v = 0; v < nv; v++) FF(st)(s + (size_t)r * skp + v * VW, acc[r][v]);
}

/* rows x (nv vectors) of output: o[r][c] = sum_j p[r*skp + j] * vp[j*dvp + c], stored into acc */
static inline __attribute__((always_inline)) void FF(pv_block)(int rows, int nv, const float* p, int skp, int sk,
                                                               const float* vp, int dvp, FV acc[ATT_RB][ATT_JB]) {
  for (int r = 0; r < rows; r++)
    for (int v = 0; v < nv; v++) acc[r][v] = (FV){0};
  for (int j = 0; j < sk; j++) {
    FV b[ATT_JB];
    for (int v = 0; v < nv; v++) b[v] = FF(ld)(vp + (size_t)j * dvp + v * VW);
    for (int r = 0; r < rows; r++) {
      FV a = FF(splat)(p[(size_t)r * skp + j]);
      for (int v = 0; v < nv; v++) acc[r][v] += a * b[v];
    }
  }
}

/* one row of the scaled, masked softmax over sk scores in place (m: the mask row, step 0 or 1; NULL: none) */
static void FF(softmax_row)(float* y, int sk, float scale, const float* m, int mstep) {
  int j = 0;
  FV vmax = FF(splat)(-INFINITY);
  for (; j + VW <= sk; j += VW) {
    FV x = FF(ld)(y + j) * scale;
    if (m) x += mstep ? FF(ld)(m + j) : FF(splat)(m[0]);
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
  FV vm = FF(splat)(max);
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
  float inv = (float)(1.0 / (double)sum);
  for (j = 0; j + VW <= sk; j += VW) FF(st)(y + j, FF(ld)(y + j) * inv);
  for (; j < sk; j++) y[j] *= inv;
}

/*
 * One head of attention: out[i*ldv + c] = sum_j softmax_j(q_i . k_j * scale + mask[i][j]) v[j*ldv + c]
 * for i < sq, c < dv; q and k rows ld apart, v and out rows ldv apart (the heads interleaved, as
 * [batch, seq, heads, dim] lays them out). The mask row of query i starts at m + i*mrow. Scratch:
 * kt (d * skp), vp (sk * dvp), s (ATT_RB * skp) with skp, dvp rounded up to VW.
 */
static void FF(attention_head)(const float* q, const float* k, const float* v, int sq, int sk, int ld, int ldv,
                               int d, int dv, float scale, const float* m, int mrow, int mstep, float* out,
                               float* kt, float* vp, float* s) {
  int skp = (sk + VW - 1) / VW * VW;
  int dvp = (dv + VW - 1) / VW * VW;
  memset(kt, 0, sizeof(float) * (size_t)d * skp);
  for (int j = 0; j < sk; j++)
    for (int c = 0; c < d; c++) kt[(size_t)c * skp + j] = k[(size_t)j * ld + c];
  for (int j = 0; j < sk; j++) {
    memcpy(vp + (size_t)j * dvp, v + (size_t)j * ldv, sizeof(float) * dv);
    for (int c = dv; c < dvp; c++) vp[(size_t)j * dvp + c] = 0.f;
  }
  int nk = skp / VW;
  int nd = dvp / VW;
  for (int i0 = 0; i0 < sq; i0 += ATT_RB) {
    int rows = sq - i0 < ATT_RB ? sq - i0 : ATT_RB;
    const float* qi = q + (size_t)i0 * ld;
    for (int v0 = 0; v0 < nk; v0 += ATT_JB) {
      int nv = nk - v0 < ATT_JB ? nk - v0 : ATT_JB;
      if (rows == ATT_RB && nv == ATT_JB)
        FF(qk_block)(ATT_RB, ATT_JB, qi, ld, d, kt + v0 * VW, skp, s + v0 * VW);
      else
        FF(qk_block)(rows, nv, qi, ld, d, kt + v0 * VW, skp, s + v0 * VW);
    }
    for (int r = 0; r < rows; r++)
      FF(softmax_row)(s + (size_t)r * skp, sk, scale, m ? m + (size_t)(i0 + r) * mrow : NULL, mstep);
    for (int v0 = 0; v0 < nd; v0 += ATT_JB) {
      int nv = nd - v0 < ATT_JB ? nd - v0 : ATT_JB;
      FV acc[ATT_RB][ATT_JB];
      if (rows == ATT_RB && nv == 2)
        FF(pv_block)(ATT_RB, 2, s, skp, sk, vp + v0 * VW, dvp, acc);
      else if (rows == ATT_RB && nv == ATT_JB)
        FF(pv_block)(ATT_RB, ATT_JB, s, skp, sk, vp + v0 * VW, dvp, acc);
      else
        FF(pv_block)(rows, nv, s, skp, sk, vp + v0 * VW, dvp, acc);
      for (int r = 0; r < rows; r++) {
        float* o = out + (size_t)(i0 + r) * ldv + v0 * VW;
        for (int vv = 0; vv < nv; vv++) {
          int c0 = (v0 + vv) * VW;
          if (c0 + VW <= dv) {
            FF(st)(o + vv * VW, acc[r][vv]);
          } else {
            for (int c = 0; c0 + c < dv; c++) o[vv * VW + c] = acc[r][vv][c];
          }
        }
      }
    }
  }
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

#undef FCAT_
#undef FCAT
#undef FF
#undef FV
#undef FI
