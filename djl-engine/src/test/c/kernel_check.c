/*
 * Checks the DJL engine's native kernels, compiled for the target CPU, against a double-precision
 * reference on odd shapes, without a JVM: the check of a cross-compiled build under an emulator
 * (see Aarch64KernelTest; a JVM does not load under qemu-user 7.2). It includes the library's
 * source, so it runs exactly the kernels the library ships, at every instruction set the CPU runs,
 * each call between ftz_on / ftz_off as the JNI entry points make it.
 *
 * usage: kernel_check [seed]
 * prints one line per kernel family and instruction set ("<family> <isa> cases=<n> maxerr=<e>",
 * the error relative to the sum of the magnitudes of the terms), then
 * on aarch64 "w8a8_path sdot|neon" (the W8A8 product this CPU takes), and
 * "ok exact=<hash>" (a hash of the outputs that must be bit-identical on every CPU and path: the
 * int32 W8A8 sums and the uint8 activation codes) with exit 0, or "FAIL ..." with exit 1.
 */
#include <stdio.h>
#include <stdlib.h>

#include "../../main/c/cortexsdr_kernels.c"

#if defined(__x86_64__)
static const char* const ISA_NAMES[] = {"portable", "avx2", "avx512", "amx"};
#else
static const char* const ISA_NAMES[] = {"portable"};
#endif

static uint64_t state;
static uint64_t exact_hash = 1469598103934665603ULL;
static int failed;

static uint32_t next(void) {
  state = state * 6364136223846793005ULL + 1442695040888963407ULL;
  return (uint32_t)(state >> 33);
}

static float gauss(void) {
  float s = 0;
  for (int i = 0; i < 4; i++) s += (float)next() / 2147483648.0f - 1.0f;
  return s;
}

static void fill(float* a, size_t n) {
  for (size_t i = 0; i < n; i++) a[i] = gauss();
}

static void hash_bytes(const void* p, size_t n) {
  const uint8_t* b = p;
  for (size_t i = 0; i < n; i++) exact_hash = (exact_hash ^ b[i]) * 1099511628211ULL;
}

/* per family and isa: the worst error seen, relative to the magnitude of the terms */
typedef struct {
  const char* name;
  double tol;
  double maxerr;
  int cases;
} Family;

static void check(Family* f, int isa, double got, double ref, double mag, const char* where) {
  double err = fabs(got - ref) / (mag + 1e-30);
  if (!(err <= f->tol)) { /* also catches NaN */
    if (!failed) printf("FAIL %s %s %s: got %.9g, reference %.9g\n", f->name, ISA_NAMES[isa], where, got, ref);
    failed = 1;
    err = isnan(err) ? INFINITY : err;
  }
  if (err > f->maxerr) f->maxerr = err;
}

static void report(Family* f, int isa) {
  printf("%s %s cases=%d maxerr=%.3g\n", f->name, ISA_NAMES[isa], f->cases, f->maxerr);
  f->maxerr = 0;
  f->cases = 0;
}

#define SENTINEL 12345.f
#define CALL(isa, name, ...)            \
  do {                                  \
    FpMode fm_ = ftz_on();              \
    DISPATCH(isa, name, __VA_ARGS__);   \
    ftz_off(fm_);                       \
  } while (0)
#define CALL_R(r, isa, name, ...)           \
  do {                                      \
    FpMode fm_ = ftz_on();                  \
    DISPATCH_R(r, isa, name, __VA_ARGS__);  \
    ftz_off(fm_);                           \
  } while (0)

/* columns past nb of each row of y keep their sentinel */
static void check_untouched(Family* f, int isa, const float* y, int m, int nb, int ldy) {
  for (int i = 0; i < m; i++)
    for (int j = nb; j < ldy; j++)
      if (y[(size_t)i * ldy + j] != SENTINEL) {
        if (!failed) printf("FAIL %s %s: wrote y[%d][%d] past nb=%d\n", f->name, ISA_NAMES[isa], i, j, nb);
        failed = 1;
      }
}

static void gemm_panel_cases(int isa) {
  /* m: every tail of 6-, 3- and 12-row blocks; k = 1100: the deep form (past BV_MAX_K) */
  static const int ms[] = {1, 2, 3, 4, 7, 9, 11, 13}, ks[] = {1, 5, 31, 64, 97, 1100}, nbs[] = {1, 7, 31, 32};
  Family f = {"gemm_panel", 1e-5, 0, 0};
  for (size_t a = 0; a < sizeof ms / sizeof ms[0]; a++)
    for (size_t b = 0; b < sizeof ks / sizeof ks[0]; b++)
      for (size_t c = 0; c < sizeof nbs / sizeof nbs[0]; c++) {
        int m = ms[a], k = ks[b], nb = nbs[c], ldp = (a + b) & 1 ? 32 : 40, ldy = nb + 3 + (int)a;
        int withBias = (a + c) & 1;
        float* x = malloc(sizeof(float) * (size_t)m * k);
        float* p = malloc(sizeof(float) * (size_t)k * ldp);
        float bias[PANEL];
        float* y = malloc(sizeof(float) * (size_t)m * ldy);
        fill(x, (size_t)m * k);
        fill(p, (size_t)k * ldp);
        fill(bias, PANEL);
        for (int i = 0; i < m * ldy; i++) y[i] = SENTINEL;
        CALL(isa, gemm_panel, x, m, k, p, ldp, nb, y, ldy, withBias ? bias : NULL);
        for (int i = 0; i < m; i++)
          for (int j = 0; j < nb; j++) {
            double ref = withBias ? bias[j] : 0, mag = fabs(ref);
            for (int kk = 0; kk < k; kk++) {
              double t = (double)x[i * k + kk] * p[kk * ldp + j];
              ref += t;
              mag += fabs(t);
            }
            check(&f, isa, y[i * ldy + j], ref, mag, "y");
          }
        check_untouched(&f, isa, y, m, nb, ldy);
        f.cases++;
        free(x);
        free(p);
        free(y);
      }
  report(&f, isa);
}

static void gemm_rows_cases(int isa) {
  static const int ms[] = {1, 2, 5}, ks[] = {1, 3, 4, 17, 64, 131}, nbs[] = {1, 3, 4, 9, 33};
  Family f = {"gemm_rows", 1e-5, 0, 0};
  for (size_t a = 0; a < 3; a++)
    for (size_t b = 0; b < 6; b++)
      for (size_t c = 0; c < 5; c++) {
        int m = ms[a], k = ks[b], nb = nbs[c], ldy = nb + 2;
        float* x = malloc(sizeof(float) * (size_t)m * k);
        float* w = malloc(sizeof(float) * (size_t)nb * k);
        float* y = malloc(sizeof(float) * (size_t)m * ldy);
        fill(x, (size_t)m * k);
        fill(w, (size_t)nb * k);
        for (int i = 0; i < m * ldy; i++) y[i] = SENTINEL;
        CALL(isa, gemm_rows, x, m, k, w, nb, y, ldy);
        for (int i = 0; i < m; i++)
          for (int j = 0; j < nb; j++) {
            double ref = 0, mag = 0;
            for (int kk = 0; kk < k; kk++) {
              double t = (double)x[i * k + kk] * w[j * k + kk];
              ref += t;
              mag += fabs(t);
            }
            check(&f, isa, y[i * ldy + j], ref, mag, "y");
          }
        check_untouched(&f, isa, y, m, nb, ldy);
        f.cases++;
        free(x);
        free(w);
        free(y);
      }
  report(&f, isa);
}

/* int8 / int4 codes: the panel decode, the code dot products, the 8-bit dequantization */
static void code_cases(int isa) {
  static const int lens[] = {1, 3, 15, 16, 17, 33, 64, 101};
  Family dec = {"decode_panel", 1e-6, 0, 0}, s8 = {"dot_s8", 1e-5, 0, 0}, u4 = {"dot_u4", 1e-5, 0, 0},
         dq = {"dequant8", 1e-6, 0, 0};
  for (size_t a = 0; a < 8; a++) {
    int len = lens[a];
    uint8_t* codes = malloc((size_t)len * PANEL);
    for (int i = 0; i < len * PANEL; i++) codes[i] = (uint8_t)next();
    float scale[PANEL], bias[PANEL];
    for (int j = 0; j < PANEL; j++) {
      scale[j] = 0.001f + (float)(next() % 1000) / 50000.f;
      bias[j] = gauss();
    }
    float* dst = malloc(sizeof(float) * (size_t)len * PANEL);
    for (int bits = 4; bits <= 8; bits += 4) {
      CALL(isa, decode_panel, codes, bits, len, scale, bias, dst);
      for (int kk = 0; kk < len; kk++)
        for (int j = 0; j < PANEL; j++) {
          double q = bits == 8 ? (double)codes[kk * PANEL + j] - 128
                               : (double)(j < 16 ? codes[kk * 16 + j] & 0xf : codes[kk * 16 + j - 16] >> 4);
          double t = q * scale[j];
          check(&dec, isa, dst[kk * PANEL + j], t + bias[j], fabs(t) + fabs(bias[j]), "dst");
        }
      dec.cases++;
    }
    float* xe = malloc(sizeof(float) * (size_t)len);
    float* xo = malloc(sizeof(float) * (size_t)len);
    fill(xe, (size_t)len);
    fill(xo, (size_t)len);
    float r;
    CALL_R(r, isa, dot_s8, xe, codes, len);
    double ref = 0, mag = 0;
    for (int i = 0; i < len; i++) {
      double t = (double)xe[i] * ((double)codes[i] - 128);
      ref += t;
      mag += fabs(t);
    }
    check(&s8, isa, r, ref, mag, "sum");
    s8.cases++;
    CALL_R(r, isa, dot_u4, xe, xo, codes, len);
    ref = mag = 0;
    for (int i = 0; i < len; i++) {
      double t = (double)xe[i] * (codes[i] & 0xf), t2 = (double)xo[i] * (codes[i] >> 4);
      ref += t + t2;
      mag += fabs(t) + fabs(t2);
    }
    check(&u4, isa, r, ref, mag, "sum");
    u4.cases++;
    float zero = (float)(next() % 256), sc = 0.01f + (float)(next() % 100) / 1000.f;
    CALL(isa, dequant8, codes, len, sc, zero, xe);
    for (int i = 0; i < len; i++) {
      double t = ((double)codes[i] - zero) * sc;
      check(&dq, isa, xe[i], t, fabs(t), "dst");
    }
    dq.cases++;
    free(codes);
    free(dst);
    free(xe);
    free(xo);
  }
  report(&dec, isa);
  report(&s8, isa);
  report(&u4, isa);
  report(&dq, isa);
}

/* the row kernels: dot, exp, GELU, layer norm, scaled mask + max, axpy, scale */
static void row_cases(int isa) {
  static const int lens[] = {1, 2, 7, 8, 15, 16, 17, 31, 65, 384};
  Family dt = {"dot", 1e-5, 0, 0}, ex = {"exp_shifted", 1e-6, 0, 0},
         es = {"exp_shifted_sum", 1e-5, 0, 0}, ge = {"gelu", 1e-6, 0, 0},
         ln = {"layer_norm_row", 1e-5, 0, 0}, am = {"affine_max", 1e-6, 0, 0}, ax = {"axpy", 1e-6, 0, 0},
         sc = {"scale", 1e-7, 0, 0};
  for (size_t a = 0; a < 10; a++) {
    int len = lens[a];
    size_t n = (size_t)len;
    float *u = malloc(n * 4), *v = malloc(n * 4), *d = malloc(n * 4), *g = malloc(n * 4), *b = malloc(n * 4);
    fill(u, n);
    fill(v, n);
    fill(g, n);
    fill(b, n);
    float r;
    CALL_R(r, isa, dot, u, v, len);
    double ref = 0, mag = 0;
    for (size_t i = 0; i < n; i++) {
      ref += (double)u[i] * v[i];
      mag += fabs((double)u[i] * v[i]);
    }
    check(&dt, isa, r, ref, mag, "sum");
    dt.cases++;

    float vmax = -INFINITY; /* shifted by the row maximum, as softmax calls it */
    for (size_t i = 0; i < n; i++) {
      v[i] = u[i] * 6;
      vmax = v[i] > vmax ? v[i] : vmax;
    }
    CALL_R(r, isa, exp_shifted, v, len, vmax, d);
    ref = 0;
    for (size_t i = 0; i < n; i++) {
      double e = exp((double)(v[i] - vmax));
      check(&ex, isa, d[i], e, e, "dst");
      ref += e;
    }
    check(&es, isa, r, ref, ref, "sum");
    ex.cases++;
    es.cases++;

    CALL(isa, gelu, v, len, d);
    for (size_t i = 0; i < n; i++) {
      double x = v[i], e = 0.5 * x * (1 + erf(x / sqrt(2.0)));
      check(&ge, isa, d[i], e, fabs(x) + 1e-3, "dst");
    }
    ge.cases++;

    for (int form = 0; form < 3; form++) {
      const float* gg = form == 2 ? NULL : g;
      const float* bb = form == 1 ? NULL : b;
      CALL(isa, layer_norm_row, v, len, 1e-5f, gg, bb, d);
      double mean = 0, var = 0;
      for (size_t i = 0; i < n; i++) mean += v[i];
      mean /= len;
      for (size_t i = 0; i < n; i++) var += (v[i] - mean) * (v[i] - mean);
      double inv = 1 / sqrt(var / len + 1e-5);
      for (size_t i = 0; i < n; i++) {
        double gi = gg ? gg[i] : 1, t = (v[i] - mean) * inv * gi;
        /* v - mean cancels: its float error scales with |v| + |mean|, not with the difference */
        double m = (fabs(v[i]) + fabs(mean)) * inv * fabs(gi) + (bb ? fabs(bb[i]) : 0);
        check(&ln, isa, d[i], t + (bb ? bb[i] : 0), m, "dst");
      }
      ln.cases++;
    }

    for (int mstep = -1; mstep <= 1; mstep++) {
      const float* mk = mstep < 0 ? NULL : b;
      CALL_R(r, isa, affine_max, u, 0.125f, mk, mstep < 0 ? 0 : mstep, d, len);
      double mx = -INFINITY;
      for (size_t i = 0; i < n; i++) {
        double m = mk ? (mstep ? mk[i] : mk[0]) : 0, t = u[i] * 0.125 + m;
        check(&am, isa, d[i], t, fabs(u[i] * 0.125) + fabs(m), "dst");
        mx = t > mx ? t : mx;
      }
      check(&am, isa, r, mx, fabs(mx) + 1, "max");
      am.cases++;
    }

    memcpy(d, v, n * 4);
    CALL(isa, axpy, 0.75f, u, d, len);
    for (size_t i = 0; i < n; i++)
      check(&ax, isa, d[i], v[i] + 0.75 * u[i], fabs(v[i]) + fabs(0.75 * u[i]), "y");
    ax.cases++;

    memcpy(d, v, n * 4);
    CALL(isa, scale, d, len, -1.5f);
    for (size_t i = 0; i < n; i++) check(&sc, isa, d[i], v[i] * -1.5, fabs(v[i] * 1.5), "a");
    sc.cases++;
    free(u);
    free(v);
    free(d);
    free(g);
    free(b);
  }
  report(&dt, isa);
  report(&ex, isa);
  report(&es, isa);
  report(&ge, isa);
  report(&ln, isa);
  report(&am, isa);
  report(&ax, isa);
  report(&sc, isa);
}

/* the kernels over many rows in one call: layer norm rows, scaled masked softmax rows */
static void rows_cases(int isa) {
  static const int lens[] = {1, 7, 16, 17, 128, 384};
  Family lr = {"layer_norm_rows", 1e-5, 0, 0}, sm = {"softmax_rows", 3e-6, 0, 0};
  for (size_t a = 0; a < 6; a++) {
    int len = lens[a];
    size_t n = (size_t)len;
    float *x = malloc(3 * n * 4), *y = malloc(3 * n * 4), *one = malloc(n * 4), *g = malloc(n * 4),
          *mk = malloc((2 * n + 3) * 4);
    fill(x, 3 * n);
    fill(g, n);
    fill(mk, 2 * n + 3);
    CALL(isa, layer_norm_rows, x, 3, len, 1e-5f, g, NULL, y);
    for (int r = 0; r < 3; r++) {
      CALL(isa, layer_norm_row, x + r * n, len, 1e-5f, g, NULL, one);
      for (size_t i = 0; i < n; i++) check(&lr, isa, y[r * n + i], one[i], fabs(one[i]) + 1e-6, "dst");
    }
    lr.cases++;
    for (int mstep = -1; mstep <= 1; mstep++) {
      /* rows 0 and 2 read mask row 0, row 1 mask row 1; with mstep 0 one value per row */
      int mrow[3] = {mstep == 0 ? (int)(2 * n) : 0, mstep == 0 ? (int)(2 * n + 1) : (int)n,
                     mstep == 0 ? (int)(2 * n + 2) : 0};
      const float* m = mstep < 0 ? NULL : mk;
      CALL(isa, softmax_rows, x, 3, len, 0.125f, m, mrow, mstep < 0 ? 0 : mstep, y);
      for (int r = 0; r < 3; r++) {
        double mx = -INFINITY, sum = 0, *t = malloc(n * sizeof(double));
        for (size_t i = 0; i < n; i++) {
          t[i] = x[r * n + i] * 0.125 + (m ? m[mrow[r] + (mstep ? i : 0)] : 0);
          mx = t[i] > mx ? t[i] : mx;
        }
        for (size_t i = 0; i < n; i++) sum += (t[i] = exp(t[i] - mx));
        for (size_t i = 0; i < n; i++) check(&sm, isa, y[r * n + i], t[i] / sum, t[i] / sum + 1e-30, "dst");
        free(t);
      }
      sm.cases++;
    }
    free(x);
    free(y);
    free(one);
    free(g);
    free(mk);
  }
  report(&lr, isa);
  report(&sm, isa);
}

/* sparse rows (CSR) times X: gathered dot products (few rows) and multiply-adds over X transposed */
static void sparse_cases(int isa) {
  static const int ms[] = {1, 3, 7, 8, 130, 200}, ks[] = {1, 17, 64}, ns[] = {1, 5, 33};
  Family g = {"sparse_rows_g", 1e-6, 0, 0}, t = {"sparse_rows_t", 1e-6, 0, 0}, tb = {"sparse_rows_tb", 1e-6, 0, 0};
  for (size_t a = 0; a < 6; a++)
    for (size_t b = 0; b < 3; b++)
      for (size_t c = 0; c < 3; c++) {
        int m = ms[a], k = ks[b], n = ns[c], ldy = n + 2;
        int* start = malloc(sizeof(int) * (size_t)(n + 1));
        int* col = malloc(sizeof(int) * (size_t)n * k);
        float* val = malloc(sizeof(float) * (size_t)n * k);
        int nnz = 0;
        start[0] = 0;
        for (int r = 0; r < n; r++) {
          for (int kk = 0; kk < k; kk++) {
            if (gauss() + 2 > 0.35) { /* gauss() is centred on -2: about a quarter kept, some rows empty */
              col[nnz] = kk;
              val[nnz++] = gauss() + 2;
            }
          }
          start[r + 1] = nnz;
        }
        float *x = malloc(sizeof(float) * (size_t)m * k), *xt = malloc(sizeof(float) * (size_t)m * k),
              *y = malloc(sizeof(float) * (size_t)m * ldy);
        fill(x, (size_t)m * k);
        for (int i = 0; i < m; i++)
          for (int kk = 0; kk < k; kk++) xt[(size_t)kk * m + i] = x[(size_t)i * k + kk];
        for (int pass = 0; pass < 3; pass++) {
          Family* f = pass == 2 ? &tb : pass ? &t : &g;
          for (int i = 0; i < m * ldy; i++) y[i] = SENTINEL;
          /* rows 1 .. n-1 only when n > 1: row 0's column keeps its sentinel */
          int r0 = n > 1 ? 1 : 0;
          if (pass == 2) CALL(isa, sparse_rows_tb, start, col, val, r0, n, xt, m, y, ldy);
          else if (pass) CALL(isa, sparse_rows_t, start, col, val, r0, n, xt, m, y, ldy);
          else CALL(isa, sparse_rows_g, start, col, val, r0, n, x, m, k, y, ldy);
          for (int i = 0; i < m; i++) {
            for (int r = 0; r < ldy; r++) {
              if (r < r0 || r >= n) {
                if (y[(size_t)i * ldy + r] != SENTINEL) check(f, isa, 1, 0, 1, "outside the rows");
                continue;
              }
              double ref = 0, mag = 0;
              for (int p = start[r]; p < start[r + 1]; p++) {
                ref += (double)val[p] * x[(size_t)i * k + col[p]];
                mag += fabs((double)val[p] * x[(size_t)i * k + col[p]]);
              }
              check(f, isa, y[(size_t)i * ldy + r], ref, mag + 1e-6, "y");
            }
          }
          f->cases++;
        }
        free(start);
        free(col);
        free(val);
        free(x);
        free(xt);
        free(y);
      }
  report(&g, isa);
  report(&t, isa);
  report(&tb, isa);
}

/*
 * Weight-only product on quantized panels (decode + gemm_panel in one call): 8- and 4-bit codes,
 * groups of 32 or 64 along k or one per tensor, per-group zero points or a common one, a run of
 * panels that leaves the first one out (its columns keep their sentinel).
 */
static void gemm_quant_cases(int isa) {
  /* m = 1100 is more than one chunk of rows at k = 97 and 130: the run's panels decoded once, reused by each chunk */
  static const int ms[] = {1, 3, 14, 1100}, ks[] = {5, 31, 64, 97, 130}, ns[] = {7, 32, 45, 70}, glens[] = {32, 64, 0};
  Family f = {"gemm_quant", 1e-5, 0, 0};
  for (int bits = 4; bits <= 8; bits += 4)
    for (size_t a = 0; a < 4; a++)
      for (size_t b = 0; b < 5; b++)
        for (size_t c = 0; c < 4; c++)
          for (size_t d = 0; d < 3; d++) {
            int m = ms[a], k = ks[b], n = ns[c], glen = glens[d] ? glens[d] : k, groups = (k + glen - 1) / glen;
            int panels = (n + PANEL - 1) / PANEL, perK = bits == 8 ? PANEL : PANEL / 2, ldy = n + 2;
            int withZeros = (a + b + d) & 1, withBias = (a + c) & 1, t0 = panels > 1 && (b & 1) ? 1 : 0;
            uint8_t* codes = malloc((size_t)panels * k * perK);
            for (size_t i = 0; i < (size_t)panels * k * perK; i++) codes[i] = (uint8_t)next();
            float* sc = malloc(sizeof(float) * (size_t)panels * groups * PANEL);
            uint8_t* zs = malloc((size_t)panels * groups * PANEL);
            for (int i = 0; i < panels * groups * PANEL; i++) {
              sc[i] = 0.001f + (float)(next() % 1000) / 50000.f;
              zs[i] = (uint8_t)(next() % (bits == 8 ? 256 : 16));
            }
            float zero = bits == 8 ? 128.f : 8.f;
            float *x = malloc(sizeof(float) * (size_t)m * k), *y = malloc(sizeof(float) * (size_t)m * ldy),
                  *buf = malloc(sizeof(float) * (size_t)k * PANEL * panels), *bias = malloc(sizeof(float) * (size_t)n);
            fill(x, (size_t)m * k);
            fill(bias, (size_t)n);
            for (int i = 0; i < m * ldy; i++) y[i] = SENTINEL;
            CALL(isa, gemm_quant, x, m, k, codes, bits, sc, withZeros ? zs : NULL, zero, glen, groups, t0, panels, n, y,
                 ldy, withBias ? bias : NULL, buf, m > 14 ? panels : 1);
            for (int i = 0; i < m; i++)
              for (int j = 0; j < ldy; j++) {
                if (j < t0 * PANEL || j >= n) {
                  if (y[(size_t)i * ldy + j] != SENTINEL) check(&f, isa, 1, 0, 1, "outside the panels");
                  continue;
                }
                int t = j / PANEL, jj = j % PANEL;
                double ref = withBias ? bias[j] : 0, mag = fabs(ref);
                for (int kk = 0; kk < k; kk++) {
                  size_t gi = ((size_t)t * groups + kk / glen) * PANEL + jj;
                  const uint8_t* ck = codes + ((size_t)t * k + kk) * perK;
                  int q = bits == 8 ? ck[jj] : jj < PANEL / 2 ? ck[jj] & 0xf : ck[jj - PANEL / 2] >> 4;
                  double wv = ((double)q - (withZeros ? zs[gi] : zero)) * sc[gi];
                  double tv = (double)x[(size_t)i * k + kk] * wv;
                  ref += tv;
                  /* the decode is q * s + (offset - z) * s in float: its rounding scales with both
                     terms, not with their difference (a code next to its zero point) */
                  double off = bits == 8 ? 128 : 0, zv = withZeros ? zs[gi] : zero;
                  mag += fabs((double)x[(size_t)i * k + kk]) * (fabs(q - off) + fabs(off - zv)) * sc[gi];
                }
                check(&f, isa, y[(size_t)i * ldy + j], ref, mag, "y");
              }
            f.cases++;
            free(codes);
            free(sc);
            free(zs);
            free(x);
            free(y);
            free(buf);
            free(bias);
          }
  report(&f, isa);
}

/*
 * W8A8: with unit scales and no bias the outputs are the int32 sums themselves (exact in float
 * below 2^24), compared for equality and hashed; then real scales and a bias, to float precision.
 * quantize_u8 feeds it, so its codes are checked (within half a step of x) and hashed too.
 */
static void w8a8_cases(int isa) {
  /* rows past a block of 32 (AMX) and of 12 (VNNI), depths with and without a tail past a multiple
     of 64, several panels in one call */
  static const int ms[] = {1, 2, 3, 5, 13, 33, 70, 300}, ks[] = {1, 4, 7, 64, 127, 385}, nbs[] = {1, 17, 32, 45, 64};
  Family ex = {"gemm_u8s8_int32", 0, 0, 0}, fl = {"gemm_u8s8_scaled", 1e-6, 0, 0}, qu = {"quantize_u8", 0.5001, 0, 0};
  /* the two passes called apart on parts (as threads share them): the same codes bit for bit */
  Family rg = {"range_f32", 0, 0, 0}, qr = {"quantize_u8_rows", 0, 0, 0};
  for (size_t a = 0; a < sizeof ms / sizeof ms[0]; a++)
    for (size_t b = 0; b < 6; b++)
      for (size_t c = 0; c < 5; c++) {
        int m = ms[a], k = ks[b], nb = nbs[c], kp = (k + 3) / 4 * 4, ldy = nb + 1;
        int panels = (nb + PANEL - 1) / PANEL, np = panels * PANEL;
        float* xf = malloc(sizeof(float) * (size_t)m * k);
        for (int i = 0; i < m * k; i++) xf[i] = gauss() + ((a + b) & 1 ? 1.5f : 0);
        uint8_t* x = malloc((size_t)m * kp);
        float params[2];
        CALL(isa, quantize_u8, xf, m, k, kp, x, params);
        hash_bytes(x, (size_t)m * kp);
        hash_bytes(params, sizeof params);
        for (int i = 0; i < m; i++)
          for (int kk = 0; kk < kp; kk++) {
            uint8_t q = x[i * kp + kk];
            if (kk >= k) {
              check(&qu, isa, q, 0, 1, "padding");
            } else {
              check(&qu, isa, ((double)q - params[1]) * params[0], xf[i * k + kk], params[0], "code");
            }
          }
        qu.cases++;
        {
          int half = m / 2;
          float lo[2], hi[2];
          CALL(isa, range_f32, xf, (size_t)half * k, lo);
          CALL(isa, range_f32, xf + (size_t)half * k, (size_t)(m - half) * k, hi);
          float mn = lo[0] < hi[0] ? lo[0] : hi[0], mx = lo[1] > hi[1] ? lo[1] : hi[1];
          float scale = mx == mn ? 1.f : (mx - mn) / 255.f;
          check(&rg, isa, scale, params[0], params[0], "scale from two parts");
          rg.cases++;
          uint8_t* parts = malloc((size_t)m * kp);
          memset(parts, 0xee, (size_t)m * kp);
          CALL(isa, quantize_rows_u8, xf, half, k, kp, parts, params[0], params[1]);
          CALL(isa, quantize_rows_u8, xf + (size_t)half * k, m - half, k, kp, parts + (size_t)half * kp, params[0],
               params[1]);
          for (size_t i = 0; i < (size_t)m * kp; i++) check(&qr, isa, parts[i], x[i], 1, "code");
          qr.cases++;
          free(parts);
        }
        int zp = (int)params[1];
        int8_t* w = malloc((size_t)kp * np);
        for (int i = 0; i < kp * np; i++) w[i] = (int8_t)next();
        /* every other case 7-bit codes in [-64, 64], told as such: AVX2 then pairs products in 16 bits */
        int narrow = (int)(next() & 1);
        if (narrow)
          for (int i = 0; i < kp * np; i++) w[i] = (int8_t)(w[i] % 65);
#define W_AT(j, kk) w[(size_t)((j) / PANEL) * kp * PANEL + ((kk) / 4 * PANEL + (j) % PANEL) * 4 + (kk) % 4]
        int32_t* colsum = malloc(sizeof(int32_t) * np);
        float *ones = malloc(sizeof(float) * np), *wscale = malloc(sizeof(float) * np),
              *bias = malloc(sizeof(float) * np);
        int32_t* sums = malloc(sizeof(int32_t) * (size_t)m * np);
        for (int j = 0; j < np; j++) {
          colsum[j] = 0;
          for (int kk = 0; kk < kp; kk++) colsum[j] += W_AT(j, kk);
          ones[j] = 1;
          wscale[j] = 0.001f + (float)(next() % 1000) / 100000.f;
          bias[j] = gauss();
        }
        for (int i = 0; i < m; i++)
          for (int j = 0; j < np; j++) {
            int64_t s = 0;
            for (int kk = 0; kk < kp; kk++) s += ((int64_t)x[i * kp + kk] - zp) * W_AT(j, kk);
            sums[i * np + j] = (int32_t)s;
          }
#undef W_AT
        float* y = malloc(sizeof(float) * (size_t)m * ldy);
        for (int i = 0; i < m * ldy; i++) y[i] = SENTINEL;
        {
          FpMode fm = ftz_on();
          gemm_u8s8_panels(isa, x, m, kp, w, nb, zp, colsum, 1.f, ones, NULL, y, ldy, narrow);
          ftz_off(fm);
        }
        for (int i = 0; i < m; i++)
          for (int j = 0; j < nb; j++) {
            check(&ex, isa, y[i * ldy + j], sums[i * np + j], 1, "sum");
            int32_t got = (int32_t)y[i * ldy + j];
            hash_bytes(&got, 4);
          }
        check_untouched(&ex, isa, y, m, nb, ldy);
        ex.cases++;
        float ascale = params[0];
        {
          FpMode fm = ftz_on();
          gemm_u8s8_panels(isa, x, m, kp, w, nb, zp, colsum, ascale, wscale, bias, y, ldy, narrow);
          ftz_off(fm);
        }
        for (int i = 0; i < m; i++)
          for (int j = 0; j < nb; j++) {
            double t = (double)sums[i * np + j] * ((double)ascale * wscale[j]);
            check(&fl, isa, y[i * ldy + j], t + bias[j], fabs(t) + fabs(bias[j]), "y");
          }
        fl.cases++;
        free(xf);
        free(x);
        free(w);
        free(colsum);
        free(ones);
        free(wscale);
        free(bias);
        free(sums);
        free(y);
      }
  report(&qu, isa);
  report(&rg, isa);
  report(&qr, isa);
  report(&ex, isa);
  report(&fl, isa);
}

/*
 * sparse convolution without patches: the planes built as ConvOps.split builds them (padded, split
 * by stride phase), checked against a direct convolution, over strides, pads, dilations and sizes
 * that leave partial blocks
 */
static void conv_cases(int isa) {
  static const int cfg[][9] = {/* c, oc, kh, kw, h, w, stride y, stride x, dilation */
                               {3, 5, 3, 3, 9, 7, 1, 1, 1}, {2, 17, 3, 3, 14, 14, 1, 1, 1}, {4, 3, 3, 2, 11, 13, 2, 2, 1},
                               {2, 4, 3, 3, 10, 9, 2, 1, 2}, {1, 2, 1, 1, 5, 6, 3, 2, 1}, {5, 7, 5, 5, 20, 19, 1, 1, 1}};
  static const int pads[][4] = {{1, 1, 1, 1}, {1, 1, 1, 1}, {0, 1, 2, 0}, {2, 0, 1, 3}, {0, 0, 0, 0}, {2, 2, 2, 2}};
  Family f = {"sparse_conv", 1e-6, 0, 0};
  for (size_t t = 0; t < sizeof cfg / sizeof cfg[0]; t++) {
    int c = cfg[t][0], oc = cfg[t][1], kh = cfg[t][2], kw = cfg[t][3], h = cfg[t][4], w = cfg[t][5];
    int sy = cfg[t][6], sx = cfg[t][7], d = cfg[t][8];
    const int* p = pads[t];
    int oh = (h + p[0] + p[2] - d * (kh - 1) - 1) / sy + 1, ow = (w + p[1] + p[3] - d * (kw - 1) - 1) / sx + 1;
    int hq = (h + p[0] + p[2] + sy - 1) / sy, wq = (w + p[1] + p[3] + sx - 1) / sx, q = (oh - 1) * wq + ow;
    int kk = c * kh * kw;
    int *start = malloc(sizeof(int) * (size_t)(oc + 1)), *col = malloc(sizeof(int) * (size_t)oc * kk),
        *off = malloc(sizeof(int) * (size_t)kk);
    float* val = malloc(sizeof(float) * (size_t)oc * kk);
    int nnz = 0;
    start[0] = 0;
    for (int r = 0; r < oc; r++) {
      for (int k = 0; k < kk; k++) {
        if (gauss() + 2 > 0.35) {
          col[nnz] = k;
          val[nnz++] = gauss() + 2;
        }
      }
      start[r + 1] = nnz;
    }
    size_t planes = (size_t)c * sy * sx * hq * wq;
    float *x = malloc(sizeof(float) * (size_t)c * h * w), *ph = calloc(planes + 64, sizeof(float)),
          *y = malloc(sizeof(float) * (size_t)(oc + 1) * oh * ow);
    fill(x, (size_t)c * h * w);
    for (int ch = 0; ch < c; ch++)
      for (int ry = 0; ry < sy; ry++)
        for (int rx = 0; rx < sx; rx++)
          for (int a = 0; a < hq; a++)
            for (int b = 0; b < wq; b++) {
              int iy = a * sy + ry - p[0], ix = b * sx + rx - p[1];
              if (iy >= 0 && iy < h && ix >= 0 && ix < w)
                ph[(((size_t)ch * sy + ry) * sx + rx) * hq * wq + (size_t)a * wq + b] = x[((size_t)ch * h + iy) * w + ix];
            }
    for (int ch = 0; ch < c; ch++)
      for (int i = 0; i < kh; i++)
        for (int j = 0; j < kw; j++) {
          int vy = i * d, vx = j * d;
          off[(ch * kh + i) * kw + j] = ((ch * sy + vy % sy) * sx + vx % sx) * hq * wq + vy / sy * wq + vx / sx;
        }
    for (int i = 0; i < (oc + 1) * oh * ow; i++) y[i] = SENTINEL;
    int r0 = oc > 1 ? 1 : 0; /* channel 0 keeps its sentinel when there are others */
    CALL(isa, sparse_conv, start, col, val, r0, oc, ph, off, q, wq, oh, ow, y);
    for (int r = 0; r <= oc; r++)
      for (int yy = 0; yy < oh; yy++)
        for (int xx = 0; xx < ow; xx++) {
          float got = y[((size_t)r * oh + yy) * ow + xx];
          if (r < r0 || r == oc) {
            if (got != SENTINEL) check(&f, isa, 1, 0, 1, "outside the channels");
            continue;
          }
          double ref = 0, mag = 0;
          for (int e = start[r]; e < start[r + 1]; e++) {
            int k = col[e], ch = k / (kh * kw), i = k / kw % kh, j = k % kw;
            int iy = yy * sy - p[0] + i * d, ix = xx * sx - p[1] + j * d;
            if (iy < 0 || iy >= h || ix < 0 || ix >= w) continue;
            double v = (double)val[e] * x[((size_t)ch * h + iy) * w + ix];
            ref += v;
            mag += fabs(v);
          }
          check(&f, isa, got, ref, mag + 1e-6, "y");
        }
    f.cases++;
    free(start);
    free(col);
    free(off);
    free(val);
    free(x);
    free(ph);
    free(y);
  }
  report(&f, isa);
}

int main(int argc, char** argv) {
  state = argc > 1 ? (uint64_t)atoll(argv[1]) : 42;
  int best = Java_dev_selfbyt_cortexsdr_djl_kernel_NativeKernels_nBestIsa(NULL, NULL);
  uint64_t seed = state, first = 0;
  for (int isa = 0; isa <= best; isa++) {
    state = seed; /* the same inputs at every instruction set */
    gemm_panel_cases(isa);
    gemm_rows_cases(isa);
    gemm_quant_cases(isa);
    code_cases(isa);
    row_cases(isa);
    rows_cases(isa);
    sparse_cases(isa);
    conv_cases(isa);
    exact_hash = 1469598103934665603ULL;
    w8a8_cases(isa);
    if (isa == 0) first = exact_hash;
    if (exact_hash != first && !failed) { /* exact outputs agree across paths as across CPUs */
      printf("FAIL exact outputs of %s differ from %s\n", ISA_NAMES[isa], ISA_NAMES[0]);
      failed = 1;
    }
  }
#if defined(__aarch64__)
  printf("w8a8_path %s\n", have_dotprod() ? "sdot" : "neon"); /* the CPU's (qemu -cpu max / cortex-a53) */
#endif
  if (failed) return 1;
  printf("ok exact=%016llx\n", (unsigned long long)exact_hash);
  return 0;
}
