/*
 * Checks SdrMatMul's kernels, compiled for the target CPU, against a double-precision reference
 * on random shapes, without ONNX Runtime: the check of a cross-compiled build under an emulator
 * (see Aarch64KernelTest; ONNX Runtime's own aarch64 library does not load under qemu-user 7.2).
 * It includes the library's source, so it runs exactly the kernels the library ships.
 *
 * usage: kernel_check [seed]   prints "ok <cases> <isa>" or the first mismatch, exit 0 / 1
 */
#include <math.h>

#include "../../main/c/sdr_matmul.c"

static uint64_t state;

static uint32_t next(void) {
  state = state * 6364136223846793005ULL + 1442695040888963407ULL;
  return (uint32_t)(state >> 33);
}

static float gauss(void) {
  float s = 0;
  for (int i = 0; i < 4; i++) s += (float)next() / 2147483648.0f - 1.0f;
  return s;
}

static int run_case(int64_t M, int64_t K, int64_t N, int bits, int64_t block, double sparsity, int idx32, int isa) {
  int32_t* col_ptr = calloc((size_t)N + 1, sizeof(int32_t));
  int64_t cap = K * N + 1;
  int32_t* rows32 = malloc(sizeof(int32_t) * (size_t)cap);
  uint16_t* rows16 = malloc(sizeof(uint16_t) * (size_t)cap);
  float* vf = malloc(sizeof(float) * (size_t)cap);
  uint8_t* codes = malloc((size_t)cap);
  int64_t nnz = 0;
  for (int64_t n = 0; n < N; n++) {
    for (int64_t k = 0; k < K; k++) {
      if ((double)next() / 4294967296.0 * 2 >= sparsity) {
        rows32[nnz] = (int32_t)k;
        rows16[nnz] = (uint16_t)k;
        vf[nnz] = gauss();
        codes[nnz] = (uint8_t)(next() % (1u << (bits == 32 ? 8 : bits)));
        nnz++;
      }
    }
    col_ptr[n + 1] = (int32_t)nnz;
  }
  int64_t blocks = block > 0 ? (nnz + block - 1) / block : 0;
  float* scales = malloc(sizeof(float) * (size_t)(blocks + 1));
  uint8_t* zps = malloc((size_t)(blocks + 1));
  for (int64_t b = 0; b < blocks; b++) {
    scales[b] = 0.01f + (float)(next() % 1000) / 10000.0f;
    zps[b] = (uint8_t)(next() % (1u << (bits == 32 ? 8 : bits)));
  }
  uint8_t* packed = calloc((size_t)nnz + 16, 1);
  for (int64_t j = 0; j < nnz; j++) {
    if (bits == 8) packed[j] = codes[j];
    if (bits == 4) packed[j >> 1] |= (uint8_t)((codes[j] & 0xf) << ((j & 1) * 4));
  }
  Weights w;
  memset(&w, 0, sizeof w);
  w.K = K;
  w.N = N;
  w.nnz = nnz;
  w.block = block;
  w.bits = bits;
  w.col_ptr = col_ptr;
  if (idx32) w.idx32 = rows32; else w.idx16 = rows16;
  if (bits == 32) w.vf = vf; else { w.vq = packed; w.scales = scales; w.zps = zps; }

  float* x = malloc(sizeof(float) * (size_t)(M * K));
  for (int64_t i = 0; i < M * K; i++) x[i] = gauss();
  float* y = malloc(sizeof(float) * (size_t)(M * N));
  Job job = {&w, x, y, NULL, M, tile_width(isa), (N + COLS_PER_TASK - 1) / COLS_PER_TASK, dot_fn(isa), axpy_fn(isa)};
  if (M <= CSDR_FEW_ROWS) {
    for (int64_t t = 0; t < M * job.col_tasks; t++) few_rows_task(&job, (size_t)t);
  } else {
    int64_t tiles = (M + job.tw - 1) / job.tw;
    job.xt = aligned_alloc(64, (size_t)(tiles * K * job.tw * (int64_t)sizeof(float) + 64) / 64 * 64);
    for (int64_t t = 0; t < tiles; t++) transpose_task(&job, (size_t)t);
    for (int64_t t = 0; t < tiles * job.col_tasks; t++) tile_task(&job, (size_t)t);
    free(job.xt);
  }
  int bad = 0;
  for (int64_t m = 0; m < M && !bad; m++) {
    for (int64_t n = 0; n < N && !bad; n++) {
      double ref = 0, mag = 0;
      for (int64_t j = col_ptr[n]; j < col_ptr[n + 1]; j++) {
        double v = bits == 32 ? vf[j] : ((double)codes[j] - zps[j / block]) * scales[j / block];
        double xv = x[m * K + rows32[j]];
        ref += v * xv;
        mag += fabs(v * xv);
      }
      if (!(fabs(y[m * N + n] - ref) <= mag * 1e-5 + 1e-6)) {
        printf("M=%lld K=%lld N=%lld bits=%d block=%lld: y[%lld][%lld] = %g, reference %g\n", (long long)M,
               (long long)K, (long long)N, bits, (long long)block, (long long)m, (long long)n, y[m * N + n], ref);
        bad = 1;
      }
    }
  }
  free(col_ptr); free(rows32); free(rows16); free(vf); free(codes); free(scales); free(zps); free(packed);
  free(x); free(y);
  return bad;
}

int main(int argc, char** argv) {
  state = argc > 1 ? (uint64_t)atoll(argv[1]) : 42;
  int isa = cpu_isa();
  static const int64_t shapes[][3] = {{1, 1, 1}, {1, 7, 5}, {1, 384, 96}, {3, 129, 65}, {5, 33, 17},
                                      {31, 17, 9}, {70, 63, 31}, {128, 200, 40}};
  static const int forms[][2] = {{32, 0}, {8, 32}, {8, 7}, {4, 16}, {4, 5}};
  static const double sparsity[] = {0.0, 0.5, 0.9, 1.0};
  int cases = 0;
  for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
    for (size_t f = 0; f < sizeof forms / sizeof forms[0]; f++) {
      for (int i = 0; i <= isa; i++) {
        double sp = sparsity[(s + f) % 4];
        if (run_case(shapes[s][0], shapes[s][1], shapes[s][2], forms[f][0], forms[f][1], sp, (int)((s + f) & 1), i)) {
          printf("mismatch on the %s kernels\n", ISA_NAMES[i]);
          return 1;
        }
        cases++;
      }
    }
  }
  printf("ok %d cases, kernels up to %s\n", cases, ISA_NAMES[isa]);
  return 0;
}
