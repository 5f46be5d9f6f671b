/*
 * The W8A8 product on Intel AMX (Sapphire Rapids and later: AMX-TILE + AMX-INT8), included by
 * cortexsdr_kernels.c under a target pragma. TDPBUSD multiplies a tile of 16 rows x 64 uint8
 * activations by a tile of 16 groups of four int8 weights for 16 columns, adding into 16 x 16
 * int32 sums: the same exact integer products as the VNNI path, only 16 rows at once.
 *
 * The weights need no repacking: a panel (Int8Panels: for each group q of four along k, 32
 * columns x 4 bytes) is two B tiles per 64 elements of k, columns 0-15 at bytes 0..63 of each
 * 128-byte group and columns 16-31 at bytes 64..127, loaded with a stride of 128. Activations are
 * rows kp apart, so an A tile is 16 rows at stride kp. A block is 32 rows x 32 columns: four C
 * tiles, two A, two B (all eight tiles). The tails go through small zero-padded copies: k beyond
 * the last multiple of 64 (padding multiplies zero weights), and rows past the last multiple of
 * 32 (their sums are computed and dropped; nothing is read outside the arrays).
 */

/* rows of activations per chunk (a multiple of 32): 256 rows of k = 1536 are 384 KiB, well inside L2 */
#define AMX_MC 256

typedef struct __attribute__((packed, aligned(64))) {
  uint8_t palette;
  uint8_t start_row;
  uint8_t reserved[14];
  uint16_t colsb[16];
  uint8_t rows[16];
  uint8_t reserved2[16];
} AmxConfig;

/* C tiles 0-3 (16 x 16 int32), A tiles 4-5 (16 x 64 uint8), B tiles 6-7 (16 x 64 int8): all 16 x 64 bytes */
static void amx_configure(void) {
  AmxConfig c;
  memset(&c, 0, sizeof c);
  c.palette = 1;
  for (int t = 0; t < 8; t++) {
    c.colsb[t] = 64;
    c.rows[t] = 16;
  }
  _tile_loadconfig(&c);
}

/* rows of a full panel's sums [r][32] to y, as store_s8 does it, two vectors per row */
static inline __attribute__((always_inline)) void amx_store_rows(const int32_t* sums, int rows, int zp,
                                                                 const int32_t* colsum, float ascale,
                                                                 const float* wscale, const float* bias, float* y,
                                                                 int ldy) {
  __m512i zc0 = _mm512_mullo_epi32(_mm512_set1_epi32(zp), _mm512_loadu_si512(colsum));
  __m512i zc1 = _mm512_mullo_epi32(_mm512_set1_epi32(zp), _mm512_loadu_si512(colsum + 16));
  __m512 s0 = _mm512_mul_ps(_mm512_set1_ps(ascale), _mm512_loadu_ps(wscale));
  __m512 s1 = _mm512_mul_ps(_mm512_set1_ps(ascale), _mm512_loadu_ps(wscale + 16));
  __m512 b0 = bias ? _mm512_loadu_ps(bias) : _mm512_setzero_ps();
  __m512 b1 = bias ? _mm512_loadu_ps(bias + 16) : _mm512_setzero_ps();
  for (int r = 0; r < rows; r++) {
    __m512 v0 = _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_sub_epi32(_mm512_load_si512(sums + r * 32), zc0)), s0);
    __m512 v1 = _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_sub_epi32(_mm512_load_si512(sums + r * 32 + 16), zc1)), s1);
    if (bias) {
      v0 = _mm512_add_ps(v0, b0);
      v1 = _mm512_add_ps(v1, b1);
    }
    _mm512_storeu_ps(y + (size_t)r * ldy, v0);
    _mm512_storeu_ps(y + (size_t)r * ldy + 16, v1);
  }
}

/* returns 0, or -1 (nothing written) when the copy of the last rows could not be allocated */
static int gemm_u8s8_amx(const uint8_t* x, int m, int kp, const int8_t* w, int nb, int zp, const int32_t* colsum,
                         float ascale, const float* wscale, const float* bias, float* y, int ldy) {
  int kfull = kp & ~63, rem = kp - kfull;
  int mfull = m & ~31;
  int32_t sums[32 * 32] __attribute__((aligned(64)));
  int8_t btail[16 * 128] __attribute__((aligned(64)));
  uint8_t atail[32 * 64] __attribute__((aligned(64)));
  /* the last rows (fewer than 32), zero-padded to a block */
  uint8_t* xlast = NULL;
  if (m > mfull) {
    xlast = calloc((size_t)32 * kp, 1);
    if (!xlast) return -1;
    memcpy(xlast, x + (size_t)mfull * kp, (size_t)(m - mfull) * kp);
  }
  amx_configure();
  /* chunks of AMX_MC rows outermost: a chunk's activations stay in L2 while every panel of the run
     passes over them (with all rows innermost, large batches streamed x from memory per panel) */
  for (int ic = 0; ic < m; ic += AMX_MC) {
    int iend = m - ic < AMX_MC ? m : ic + AMX_MC;
    for (int t = 0; t * PANEL < nb; t++) {
      const int8_t* wp = w + (size_t)t * kp * PANEL;
      int nbt = nb - t * PANEL < PANEL ? nb - t * PANEL : PANEL;
      if (rem) {
        memset(btail, 0, sizeof btail);
        memcpy(btail, wp + (size_t)kfull * PANEL, (size_t)rem * PANEL);
      }
      for (int i0 = ic; i0 < iend; i0 += 32) {
        const uint8_t* xa = i0 < mfull ? x + (size_t)i0 * kp : xlast;
        _tile_zero(0);
        _tile_zero(1);
        _tile_zero(2);
        _tile_zero(3);
        for (int k0 = 0; k0 < kfull; k0 += 64) {
          /* each load just before its first use, so loads overlap the products before them */
          _tile_loadd(4, xa + k0, kp);
          _tile_loadd(6, wp + (size_t)k0 * PANEL, 128);
          _tile_dpbusd(0, 4, 6);
          _tile_loadd(7, wp + (size_t)k0 * PANEL + 64, 128);
          _tile_dpbusd(1, 4, 7);
          _tile_loadd(5, xa + (size_t)16 * kp + k0, kp);
          _tile_dpbusd(2, 5, 6);
          _tile_dpbusd(3, 5, 7);
        }
        if (rem) {
          memset(atail, 0, sizeof atail);
          for (int r = 0; r < 32; r++) memcpy(atail + r * 64, xa + (size_t)r * kp + kfull, (size_t)rem);
          _tile_loadd(4, atail, 64);
          _tile_loadd(5, atail + 16 * 64, 64);
          _tile_loadd(6, btail, 128);
          _tile_loadd(7, btail + 64, 128);
          _tile_dpbusd(0, 4, 6);
          _tile_dpbusd(1, 4, 7);
          _tile_dpbusd(2, 5, 6);
          _tile_dpbusd(3, 5, 7);
        }
        _tile_stored(0, sums, 128);
        _tile_stored(1, sums + 16, 128);
        _tile_stored(2, sums + 16 * 32, 128);
        _tile_stored(3, sums + 16 * 32 + 16, 128);
        int rows = m - i0 < 32 ? m - i0 : 32;
        if (nbt == PANEL) {
          amx_store_rows(sums, rows, zp, colsum + t * PANEL, ascale, wscale + t * PANEL, bias ? bias + t * PANEL : NULL,
                         y + (size_t)i0 * ldy + t * PANEL, ldy);
          continue;
        }
        for (int r = 0; r < rows; r++)
          store_s8_avx512(sums + r * 32, nbt, zp, colsum + t * PANEL, ascale, wscale + t * PANEL,
                          bias ? bias + t * PANEL : NULL, y + (size_t)(i0 + r) * ldy + t * PANEL);
      }
    }
  }
  _tile_release(); /* back to the initial state: no tile data to save on a context switch */
  free(xlast);
  return 0;
}
