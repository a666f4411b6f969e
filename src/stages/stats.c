/* stats.c - min, max, mean, variance and covariance in one pass (stats.h).
 *
 * Each rank walks its rows in the fixed blocks of global rows (reduce.h):
 * the block minus the shift row s goes to a scratch buffer (column sums,
 * minima and maxima on the way), then ps_stats_crossprod gives its
 * cross-products (AVX-512 tiles, twice dsyrk's speed at 34 features, or
 * AVX2 tiles with the same bits);
 * the block's sums go exactly into accumulators. One reduction combines the
 * accumulators of every rank, one min and one max reduction the extremes:
 * the same bits whatever the rank count.
 */
#include "popseg/stats.h"

#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "popseg/cpus.h"
#include "popseg/opt.h"
#include "popseg/reduce.h"

/* Up to this many features the sums are exact, so bit-reproducible (reduce.h):
 * d (d + 3) / 2 accumulators of 576 bytes, 75 MB at 512. Wider tables sum
 * blocks in doubles (the same to rounding at any rank count). */
#define STATS_EXACT_MAX_D 512

void ps_stats_destroy(ps_stats_t **s) {
  if (!s || !*s) return;
  free((*s)->min);
  free((*s)->max);
  free((*s)->mean);
  free((*s)->var);
  free((*s)->cov);
  free((*s)->unit);
  free(*s);
  *s = NULL;
}

static ps_err_t stats_create(int64_t d, int with_cov, ps_stats_t **out) {
  ps_err_t err = PS_OK;
  ps_stats_t *s = calloc(1, sizeof *s);
  size_t dd = (size_t)(d > 0 ? d : 1);
  *out = NULL;
  PS_CHECK_ALLOC(s);
  s->d = d;
  s->min = malloc(dd * sizeof(double));
  s->max = malloc(dd * sizeof(double));
  s->mean = calloc(dd, sizeof(double));
  s->var = calloc(dd, sizeof(double));
  s->unit = malloc(dd * sizeof(double));
  if (with_cov) s->cov = calloc(dd * dd, sizeof(double));
  PS_CHECK(s->min && s->max && s->mean && s->var && s->unit && (!with_cov || s->cov), PS_ERR_MEM,
           "out of memory for the statistics of %lld features", (long long)d);
  *out = s;
  s = NULL;
cleanup:
  ps_stats_destroy(&s);
  return err;
}

/* Collective. The first row of the table (global row 0) on every rank. */
static ps_err_t shift_row(const ps_matrix_t *x, double *shift, MPI_Comm comm) {
  ps_err_t err = PS_OK;
  int rank, owner, mine;
  MPI_Comm_rank(comm, &rank);
  mine = x->row_offset == 0 && x->n_local > 0 ? rank : -1;
  PS_CALL_MPI(MPI_Allreduce(&mine, &owner, 1, MPI_INT, MPI_MAX, comm));
  if (owner == rank) memcpy(shift, x->data, (size_t)x->n_cols * sizeof *shift);
  PS_TRY(ps_bcast_double(shift, x->n_cols, owner < 0 ? 0 : owner, comm));
cleanup:
  return err;
}

/* The fused cross-products: AVX-512 or AVX2, up to this many features (a
 * block of PS_ROW_BLOCK rows then stays in the second-level cache, which
 * every tile reads again); dsyrk beyond, or without either. */
#define CROSS_MAX_D 64
/* Columns of the cross-products per tile: 12 accumulators, 8 rows of the
 * product each (one register), so a row's 8 values serve 12 products. */
#define CROSS_JT 12

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>

#include "simd8.h"

/* One tile: cp[i0 + l][j0 + q] for l < 8 (fewer at the edge) and q < NJ,
 * each the sum over the m rows in order of y[r][i0 + l] y[r][j0 + q], one
 * fused multiply-add per row: the bits of the plain loop with fma(). NJ is a
 * constant at every call (inlined), so the accumulators stay in registers. */
__attribute__((target("avx512f"), always_inline)) static inline void
cross_tile(const double *y, int64_t m, int64_t d, int64_t i0, int64_t j0, double *cp,
           const int NJ) {
  const int ni = d - i0 < 8 ? (int)(d - i0) : 8;
  const __mmask8 mk = (__mmask8)((1u << ni) - 1);
  __m512d acc[CROSS_JT];
#pragma GCC unroll 12
  for (int q = 0; q < NJ; q++) acc[q] = _mm512_setzero_pd();
  for (int64_t r = 0; r < m; r++) {
    const double *yr = y + r * d;
    const __m512d v = _mm512_maskz_loadu_pd(mk, yr + i0);
#pragma GCC unroll 12
    for (int q = 0; q < NJ; q++) acc[q] = _mm512_fmadd_pd(v, _mm512_set1_pd(yr[j0 + q]), acc[q]);
  }
  double t[CROSS_JT][8];
#pragma GCC unroll 12
  for (int q = 0; q < NJ; q++) _mm512_storeu_pd(t[q], acc[q]);
  for (int l = 0; l < ni; l++)
    for (int q = 0; q < NJ; q++) cp[(i0 + l) * d + j0 + q] = t[q][l];
}

/* The tiles of the upper triangle, ROWS rows of the product at a time and
 * CROSS_JT columns (fewer at the right edge), each by TILE with its width
 * a constant (inlined): the walk both instruction sets' forms share. */
#define CROSS_NJ(TILE, N)                                                                          \
  case N:                                                                                          \
    TILE(y, m, d, i0, j0, cp, N);                                                                  \
    break;
#define CROSS_TILES(TILE, ROWS)                                                                    \
  for (int64_t i0 = 0; i0 < d; i0 += (ROWS))                                                       \
    for (int64_t j0 = i0; j0 < d; j0 += CROSS_JT) {                                                \
      switch (d - j0 < CROSS_JT ? d - j0 : CROSS_JT) {                                             \
        CROSS_NJ(TILE, 1)                                                                          \
        CROSS_NJ(TILE, 2)                                                                          \
        CROSS_NJ(TILE, 3)                                                                          \
        CROSS_NJ(TILE, 4)                                                                          \
        CROSS_NJ(TILE, 5)                                                                          \
        CROSS_NJ(TILE, 6)                                                                          \
        CROSS_NJ(TILE, 7)                                                                          \
        CROSS_NJ(TILE, 8)                                                                          \
        CROSS_NJ(TILE, 9)                                                                          \
        CROSS_NJ(TILE, 10)                                                                         \
        CROSS_NJ(TILE, 11)                                                                         \
      default:                                                                                     \
        TILE(y, m, d, i0, j0, cp, CROSS_JT);                                                       \
      }                                                                                            \
    }

__attribute__((target("avx512f"))) static void cross_avx512(const double *y, int64_t m, int64_t d,
                                                            double *cp) {
  CROSS_TILES(cross_tile, 8)
}

/* ps_stats_scale_rows with AVX-512 for d <= 8 NV columns: a row's columns
 * in NV registers (the last masked), the extremes, sums and squares of each
 * column in registers across the rows (vminpd is a < b ? a : b: the plain
 * loop's comparison), each lane's operations those of the plain loop, so
 * its bits. NV is a constant at every call (inlined). The rows 8 ahead are
 * fetched: the block follows the previous one's arithmetic, which leaves
 * the hardware prefetcher idle, and it ramps up slowly. */
__attribute__((target("avx512f"), always_inline)) static inline void
rows_avx512(const double *x, int64_t m, int64_t d, const double *inv, const double *sinv,
            double *mn, double *mx, double *y, double *sum, double *sq, int *nonfinite,
            const int NV) {
  __m512d vmn[8], vmx[8], vs[8], vq[8], vi[8], vsi[8];
  /* The bits of a - a: +0 for a finite value, a NaN's for NaN or +-inf;
   * one register per column group, so no chain of ORs through the row. */
  __m512i bad[8];
  __mmask8 mk[8];
#pragma GCC unroll 8
  for (int v = 0; v < NV; v++) {
    const int64_t nc = d - 8 * v < 8 ? d - 8 * v : 8;
    mk[v] = (__mmask8)((1u << nc) - 1);
    vmn[v] = _mm512_maskz_loadu_pd(mk[v], mn + 8 * v);
    vmx[v] = _mm512_maskz_loadu_pd(mk[v], mx + 8 * v);
    vs[v] = sum ? _mm512_maskz_loadu_pd(mk[v], sum + 8 * v) : _mm512_setzero_pd();
    vq[v] = sq ? _mm512_maskz_loadu_pd(mk[v], sq + 8 * v) : _mm512_setzero_pd();
    vi[v] = _mm512_maskz_loadu_pd(mk[v], inv + 8 * v);
    vsi[v] = _mm512_maskz_loadu_pd(mk[v], sinv + 8 * v);
    bad[v] = _mm512_setzero_si512();
  }
  for (int64_t i = 0; i < m; i++) {
    const double *row = x + i * d;
    double *yi = y + i * d;
    /* As an integer: a pointer past the array would be undefined. */
    const uintptr_t pf = (uintptr_t)row + (uintptr_t)(8 * d) * sizeof *row;
    for (int64_t q = 0; q < d; q += 8)
      __builtin_prefetch((const void *)(pf + (uintptr_t)q * sizeof *row));
#pragma GCC unroll 8
    for (int v = 0; v < NV; v++) {
      const __m512d a = _mm512_maskz_loadu_pd(mk[v], row + 8 * v);
      bad[v] = _mm512_or_si512(bad[v], _mm512_castpd_si512(_mm512_sub_pd(a, a)));
      vmn[v] = _mm512_min_pd(a, vmn[v]);
      vmx[v] = _mm512_max_pd(a, vmx[v]);
      const __m512d t = _mm512_sub_pd(_mm512_mul_pd(a, vi[v]), vsi[v]);
      _mm512_mask_storeu_pd(yi + 8 * v, mk[v], t);
      if (sum) vs[v] = _mm512_add_pd(vs[v], t);
      if (sq) vq[v] = _mm512_add_pd(vq[v], _mm512_mul_pd(t, t));
    }
  }
#pragma GCC unroll 8
  for (int v = 0; v < NV; v++) {
    _mm512_mask_storeu_pd(mn + 8 * v, mk[v], vmn[v]);
    _mm512_mask_storeu_pd(mx + 8 * v, mk[v], vmx[v]);
    if (sum) _mm512_mask_storeu_pd(sum + 8 * v, mk[v], vs[v]);
    if (sq) _mm512_mask_storeu_pd(sq + 8 * v, mk[v], vq[v]);
  }
  for (int v = 1; v < NV; v++) bad[0] = _mm512_or_si512(bad[0], bad[v]);
  if (_mm512_test_epi64_mask(bad[0], bad[0])) *nonfinite = 1;
}

__attribute__((target("avx512f"))) static void
rows_avx512_any(const double *x, int64_t m, int64_t d, const double *inv, const double *sinv,
                double *mn, double *mx, double *y, double *sum, double *sq, int *nonfinite) {
  switch ((d + 7) / 8) {
#define ROWS_CASE(NV)                                                                              \
  case NV:                                                                                         \
    rows_avx512(x, m, d, inv, sinv, mn, mx, y, sum, sq, nonfinite, NV);                            \
    break;
    PS_EACH_1_8(ROWS_CASE)
#undef ROWS_CASE
  default:
    break;
  }
}

/* cross_tile with AVX2 + FMA: four rows of the product per register, so a
 * row's 4 values serve 12 products; each product the same chain of fused
 * multiply-adds over the rows in order as there, so the same bits as the
 * AVX-512 tiles and the plain loop with fma(). */
__attribute__((target("avx2,fma"), always_inline)) static inline void
cross_tile4(const double *y, int64_t m, int64_t d, int64_t i0, int64_t j0, double *cp,
            const int NJ) {
  const int ni = d - i0 < 4 ? (int)(d - i0) : 4;
  const __m256i mk = _mm256_cmpgt_epi64(_mm256_set1_epi64x(ni), _mm256_set_epi64x(3, 2, 1, 0));
  __m256d acc[CROSS_JT];
#pragma GCC unroll 12
  for (int q = 0; q < NJ; q++) acc[q] = _mm256_setzero_pd();
  for (int64_t r = 0; r < m; r++) {
    const double *yr = y + r * d;
    const __m256d v = ni == 4 ? _mm256_loadu_pd(yr + i0) : _mm256_maskload_pd(yr + i0, mk);
#pragma GCC unroll 12
    for (int q = 0; q < NJ; q++) acc[q] = _mm256_fmadd_pd(v, _mm256_set1_pd(yr[j0 + q]), acc[q]);
  }
  double t[CROSS_JT][4];
#pragma GCC unroll 12
  for (int q = 0; q < NJ; q++) _mm256_storeu_pd(t[q], acc[q]);
  for (int l = 0; l < ni; l++)
    for (int q = 0; q < NJ; q++) cp[(i0 + l) * d + j0 + q] = t[q][l];
}

__attribute__((target("avx2,fma"))) static void cross_avx2(const double *y, int64_t m, int64_t d,
                                                           double *cp) {
  CROSS_TILES(cross_tile4, 4)
}

/* ps_stats_scale_rows with AVX2: rows_avx512's per-lane operations (the
 * plain loop's bits) on four columns a register, one group of four columns
 * at a time over all the block's rows (the block stays in the second-level
 * cache; holding every group's extremes and sums in registers at once, as
 * the AVX-512 form does, would spill them each row), the last group's loads
 * and stores masked. The first group's pass fetches the rows 8 ahead. Up to
 * 64 columns (ps_stats_scale_rows): a block of PS_ROW_BLOCK rows of 64
 * doubles still fits the second-level cache, which every group reads again;
 * wider rows take the plain loop. */
/* One group of four columns (c0..) of rows_avx2 over the m rows; FULL: all
 * four are columns (whole-register loads and stores: masked stores cost
 * about ten times a plain one on AMD's Zen), else mk masks the nc left. */
__attribute__((target("avx2"), always_inline)) static inline void
group4_avx2(const double *x, int64_t m, int64_t d, int64_t c0, __m256i mk, const double *inv,
            const double *sinv, double *mn, double *mx, double *y, double *sum, double *sq,
            __m256i *bad, const int FULL) {
#define LD(p) (FULL ? _mm256_loadu_pd(p) : _mm256_maskload_pd((p), mk))
#define ST(p, v) (FULL ? _mm256_storeu_pd((p), (v)) : _mm256_maskstore_pd((p), mk, (v)))
  __m256d vmn = LD(mn + c0), vmx = LD(mx + c0);
  __m256d vs = sum ? LD(sum + c0) : _mm256_setzero_pd();
  __m256d vq = sq ? LD(sq + c0) : _mm256_setzero_pd();
  const __m256d vi = LD(inv + c0), vsi = LD(sinv + c0);
  __m256i b = *bad;
  for (int64_t i = 0; i < m; i++) {
    const double *row = x + i * d;
    if (c0 == 0) {
      /* As an integer: a pointer past the array would be undefined. */
      const uintptr_t pf = (uintptr_t)row + (uintptr_t)(8 * d) * sizeof *row;
      for (int64_t q = 0; q < d; q += 8)
        __builtin_prefetch((const void *)(pf + (uintptr_t)q * sizeof *row));
    }
    const __m256d a = LD(row + c0);
    b = _mm256_or_si256(b, _mm256_castpd_si256(_mm256_sub_pd(a, a)));
    vmn = _mm256_min_pd(a, vmn);
    vmx = _mm256_max_pd(a, vmx);
    const __m256d t = _mm256_sub_pd(_mm256_mul_pd(a, vi), vsi);
    ST(y + i * d + c0, t);
    if (sum) vs = _mm256_add_pd(vs, t);
    if (sq) vq = _mm256_add_pd(vq, _mm256_mul_pd(t, t));
  }
  ST(mn + c0, vmn);
  ST(mx + c0, vmx);
  if (sum) ST(sum + c0, vs);
  if (sq) ST(sq + c0, vq);
  *bad = b;
#undef LD
#undef ST
}

__attribute__((target("avx2"))) static void rows_avx2(const double *x, int64_t m, int64_t d,
                                                      const double *inv, const double *sinv,
                                                      double *mn, double *mx, double *y,
                                                      double *sum, double *sq, int *nonfinite) {
  __m256i bad = _mm256_setzero_si256();
  for (int64_t c0 = 0; c0 < d; c0 += 4) {
    const int64_t nc = d - c0 < 4 ? d - c0 : 4;
    const __m256i mk = _mm256_cmpgt_epi64(_mm256_set1_epi64x(nc), _mm256_set_epi64x(3, 2, 1, 0));
    if (nc == 4)
      group4_avx2(x, m, d, c0, mk, inv, sinv, mn, mx, y, sum, sq, &bad, 1);
    else
      group4_avx2(x, m, d, c0, mk, inv, sinv, mn, mx, y, sum, sq, &bad, 0);
  }
  if (!_mm256_testz_si256(bad, bad)) *nonfinite = 1;
}

/* 2: the AVX-512 tiles, 1: the AVX2 ones, 0: dsyrk (POPSEG_STATS_BLAS=1, or
 * neither instruction set). */
static int cross_fused(void) {
  static int blas = -1;
  if (blas < 0) blas = ps_env_flag("POPSEG_STATS_BLAS", 0);
  return blas ? 0 : ps_cpu_avx512f() ? 2 : ps_cpu_avx2fma() ? 1 : 0;
}
#endif

/* The plain form of ps_stats_scale_rows (stats.h): with restrict and one
 * operation per loop GCC vectorizes across the columns (stats.o is -O3),
 * but only with SSE2 and with mn/mx/sum through memory every row. */
static void rows_portable(const double *restrict x, int64_t m, int64_t d,
                          const double *restrict inv, const double *restrict sinv,
                          double *restrict mn, double *restrict mx, double *restrict y,
                          double *restrict sum, double *restrict sq, int *nonfinite) {
  int bad = 0;
  for (int64_t i = 0; i < m; i++) {
    const double *restrict row = x + i * d;
    double *restrict yi = y + i * d;
    for (int64_t j = 0; j < d; j++) bad |= row[j] - row[j] != 0.0; /* NaN for NaN, +-inf */
    for (int64_t j = 0; j < d; j++) {
      mn[j] = row[j] < mn[j] ? row[j] : mn[j];
      mx[j] = row[j] > mx[j] ? row[j] : mx[j];
    }
    /* Scaled first: the difference of two huge values could overflow. */
    for (int64_t j = 0; j < d; j++) yi[j] = row[j] * inv[j] - sinv[j];
    if (sum)
      for (int64_t j = 0; j < d; j++) sum[j] += yi[j];
    if (sq)
      for (int64_t j = 0; j < d; j++) sq[j] += yi[j] * yi[j];
  }
  if (bad) *nonfinite = 1;
}

int ps_stats_scale_rows(const double *x, int64_t m, int64_t d, const double *inv,
                        const double *sinv, double *mn, double *mx, double *y, double *sum,
                        double *sq, int *nonfinite) {
#if defined(__x86_64__) && defined(__GNUC__)
  if (d >= 1 && d <= 64 && ps_cpu_avx512f()) {
    rows_avx512_any(x, m, d, inv, sinv, mn, mx, y, sum, sq, nonfinite);
    return 1;
  }
  if (d >= 1 && d <= 64 && ps_cpu_avx2fma()) {
    rows_avx2(x, m, d, inv, sinv, mn, mx, y, sum, sq, nonfinite);
    return 1;
  }
#endif
  rows_portable(x, m, d, inv, sinv, mn, mx, y, sum, sq, nonfinite);
  return 0;
}

int ps_stats_crossprod(const double *y, int64_t m, int64_t d, double *cp) {
#if defined(__x86_64__) && defined(__GNUC__)
  const int fused = d <= CROSS_MAX_D ? cross_fused() : 0;
  if (fused == 2) {
    cross_avx512(y, m, d, cp);
    return 1;
  }
  if (fused == 1) {
    cross_avx2(y, m, d, cp);
    return 1;
  }
#endif
  cblas_dsyrk(CblasRowMajor, CblasUpper, CblasTrans, (int)d, (int)m, 1.0, y, (int)d, 0.0, cp,
              (int)d);
  return 0;
}

/* Not collective. This rank's extremes into s->min/max, and for each block
 * of global rows (ps_row_blocks) its sums in row order of y = (x - shift) /
 * unit: the column sums part[0..d), then with_cov the upper triangle of the
 * cross-products (ps_stats_crossprod per block), else the squares. Each block's part
 * is added exactly to acc (or, acc NULL, in doubles to red).
 * scratch: [PS_ROW_BLOCK][d], part: [nred], cp: [d][d] (with_cov), sinv: [d]. */
static void accumulate(const ps_matrix_t *x, const double *wt, const double *shift,
                       const double *inv_unit, double *sinv, int with_cov, ps_stats_t *s,
                       ps_xsum_t *acc, double *red, int64_t nred, double *part, double *cp,
                       double *scratch) {
  const int64_t d = x->n_cols;
  int64_t i0, i1, nblocks = 0;
  for (int64_t j = 0; j < d; j++) {
    s->min[j] = INFINITY;
    s->max[j] = -INFINITY;
  }
  for (int64_t j = 0; j < d; j++) sinv[j] = shift[j] * inv_unit[j];
  for (int64_t from = 0; ps_row_blocks(x->row_offset, x->n_local, from, &i0, &i1); from = i1) {
    const int64_t m = i1 - i0;
    memset(part, 0, (size_t)nred * sizeof *part);
    ps_stats_scale_rows(x->data + i0 * d, m, d, inv_unit, sinv, s->min, s->max, scratch,
                        wt ? NULL : part, wt || with_cov ? NULL : part + d, &s->nonfinite);
    if (wt) {
      /* Weighted: sum w y, sum w y y^T (the cross-products of sqrt(w) y)
       * and sum w, the last of the sums. */
      for (int64_t i = 0; i < m; i++) {
        double *y = scratch + i * d;
        const double wi = wt[i0 + i], r = sqrt(wi);
        for (int64_t j = 0; j < d; j++) part[j] += wi * y[j];
        if (!with_cov)
          for (int64_t j = 0; j < d; j++) part[d + j] += wi * y[j] * y[j];
        for (int64_t j = 0; j < d; j++) y[j] *= r;
        part[nred - 1] += wi;
      }
    }
    if (with_cov) {
      ps_stats_crossprod(scratch, m, d, cp);
      for (int64_t i = 0, q = d; i < d; i++)
        for (int64_t j = i; j < d; j++) part[q++] = cp[i * d + j];
    }
    if (acc) {
      ps_xsum_add_n(acc, part, nred);
      if (++nblocks % (PS_XSUM_MAX_ADDS / 2) == 0) ps_xsum_normalize(acc, nred);
    } else {
      for (int64_t q = 0; q < nred; q++) red[q] += part[q];
    }
  }
}

/* Not collective, the same on every rank: moments from the reduced sums. */
static void finish(ps_stats_t *s, const double *shift, const double *red, int64_t nred,
                   int with_cov) {
  const int64_t d = s->d, n = s->n;
  const double *s1 = red, *s2 = red + d;
  /* Unweighted: n rows, covariance over n - 1; weighted: W = sum w, and
   * covariance sum w (x - mu)(x - mu)^T / W (the weighted PCA). */
  const double W = s->weighted ? red[nred - 1] : (double)n;
  s->wsum = W;
  s->denom = s->weighted ? W : (double)(n - 1);
  for (int64_t j = 0; j < d; j++) s->mean[j] = shift[j] + s1[j] / W * s->unit[j];
  if (!with_cov) {
    for (int64_t j = 0; j < d; j++) {
      double c = s2[j] - s1[j] * s1[j] / W;
      s->var[j] = c > 0.0 ? c / W : 0.0;
    }
    return;
  }
  for (int64_t i = 0, q = 0; i < d; i++)
    for (int64_t j = i; j < d; j++, q++) {
      double c = s2[q] - s1[i] * s1[j] / W;
      double v = s->denom > 0 ? c / s->denom : 0.0;
      s->cov[i * d + j] = s->cov[j * d + i] = v;
      if (i == j) s->var[i] = c > 0.0 ? c / W : 0.0;
    }
}

/* Not collective, the same verdict on every rank (reduced values): whether
 * a column needs units, and which (a power of two at its range). */
static int choose_units(ps_stats_t *s, const double *red, int64_t nred) {
  const double hi = ldexp(1.0, 400), lo = ldexp(1.0, -400);
  int need = 0;
  for (int64_t q = 0; q < nred; q++) need |= !isfinite(red[q]);
  for (int64_t j = 0; j < s->d; j++) {
    const double r = s->max[j] - s->min[j];
    int e = 0;
    s->unit[j] = 1.0;
    /* max - min itself overflows for a range beyond DBL_MAX: halve first. */
    const double half = s->max[j] / 2 - s->min[j] / 2;
    if (half > 0 && (!isfinite(r) || r > hi || r < lo)) {
      frexp(half, &e);
      s->unit[j] = ldexp(1.0, e + 1);
      need = 1;
    }
  }
  return need;
}

/* Collective. One pass: this rank's sums, then their reductions (exact up
 * to STATS_EXACT_MAX_D features: the same bits at any rank count). */
static ps_err_t pass(const ps_matrix_t *x, const double *wt, const double *shift, int with_cov,
                     ps_stats_t *s, double *red, int64_t nred, double *cp, double *scratch,
                     MPI_Comm comm) {
  ps_err_t err = PS_OK;
  const int64_t d = x->n_cols;
  const int exact = d <= STATS_EXACT_MAX_D;
  double *inv = malloc((size_t)(d > 0 ? d : 1) * 2 * sizeof *inv);
  double *part = malloc((size_t)nred * sizeof *part);
  ps_xsum_t *acc = exact ? calloc((size_t)nred, sizeof *acc) : NULL;
  PS_CHECK_ALL(comm, inv && part && (!exact || acc), PS_ERR_MEM,
               "out of memory for the statistics of %lld features", (long long)d);
  for (int64_t j = 0; j < d; j++) inv[j] = 1.0 / s->unit[j];
  memset(red, 0, (size_t)nred * sizeof *red);
  accumulate(x, wt, shift, inv, inv + d, with_cov, s, acc, red, nred, part, cp, scratch);
  if (exact) {
    PS_TRY(ps_xsum_reduce(acc, nred, NULL, 0, comm));
    ps_xsum_values(acc, nred, red);
  } else {
    PS_TRY(ps_reduce_sum(red, nred, comm));
  }
  PS_TRY(ps_reduce_min(s->min, d, comm));
  PS_TRY(ps_reduce_max(s->max, d, comm));
  int64_t bad = s->nonfinite;
  PS_TRY(ps_reduce_max_i64(&bad, 1, comm));
  s->nonfinite = (int)bad;
cleanup:
  free(inv);
  free(part);
  free(acc);
  return err;
}

ps_err_t ps_stats_compute(const ps_matrix_t *x, int with_cov, MPI_Comm comm, ps_stats_t **out) {
  return ps_stats_compute_w(x, NULL, with_cov, comm, out);
}

ps_err_t ps_stats_compute_w(const ps_matrix_t *x, const double *w, int with_cov, MPI_Comm comm,
                            ps_stats_t **out) {
  ps_err_t err = PS_OK;
  ps_stats_t *s = NULL;
  const int64_t d = x->n_cols, ntri = d * (d + 1) / 2,
                nred = d + (with_cov ? ntri : d) + (w != NULL);
  double *shift = NULL, *red = NULL, *cp = NULL, *scratch = NULL;
  *out = NULL;
  err = stats_create(d, with_cov, &s);
  shift = malloc((size_t)(d > 0 ? d : 1) * sizeof *shift);
  red = calloc((size_t)(nred > 0 ? nred : 1), sizeof *red);
  scratch = malloc((size_t)(PS_ROW_BLOCK * (d > 0 ? d : 1)) * sizeof *scratch);
  if (with_cov) cp = malloc((size_t)(d * d > 0 ? d * d : 1) * sizeof *cp);
  PS_CHECK_ALL(comm, s && shift && red && scratch && (!with_cov || cp), PS_ERR_MEM,
               "out of memory for the statistics of %lld features", (long long)d);
  s->n = x->n_global;
  s->weighted = w != NULL;
  for (int64_t j = 0; j < d; j++) s->unit[j] = 1.0;
  PS_TRY(shift_row(x, shift, comm));
  PS_TRY(pass(x, w, shift, with_cov, s, red, nred, cp, scratch, comm));
  /* Extreme magnitudes: again, in units (the same decision on every rank).
   * Not for a NaN or an infinity, which no unit makes finite: the caller
   * names it (nonfinite). */
  if (!s->nonfinite && choose_units(s, red, nred))
    PS_TRY(pass(x, w, shift, with_cov, s, red, nred, cp, scratch, comm));
  finish(s, shift, red, nred, with_cov);
  *out = s;
  s = NULL;
cleanup:
  ps_stats_destroy(&s);
  free(shift);
  free(red);
  free(cp);
  free(scratch);
  return err;
}
