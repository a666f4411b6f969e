/* kmeans_nearest.c - the nearest centre of every row (see kmeans_nearest.h).
 *
 * Scores s_j = ||c'_j||^2 / 2 - x'.c'_j, with x' = x - shift and c' = c -
 * shift (shift: the mean of the centres, to limit cancellation), order the
 * centres as the squared distances do. The lanes form keeps the k scores of a
 * row in SIMD registers (centres transposed, [dim][kpad]) and finds the best
 * with a vector min; the BLAS form gets a block of rows' scores from dgemm.
 * Either way a score within TIE_REL of the best (relative to the magnitudes
 * involved) sends the row to the exact decision: sqdist to each candidate,
 * ties to the lowest index. This window is far wider than the dot form's
 * rounding (a few ulps of those magnitudes) and far narrower than real gaps,
 * so the labels are those of exact distances whatever the form or the
 * instruction set, and the exact path runs for a handful of rows only.
 */
#include "popseg/kmeans_nearest.h"

#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Up to this many columns and centres the lanes form is used; beyond
 * (measured on the old exact-distance lanes: 64 centres of 16 columns) the
 * BLAS3 blocks win. */
#define LANES_DIM 32
#define LANES_K 32
/* Rows per BLAS block, and the cap on one block's score matrix (doubles). */
#define BLAS_ROWS 256
#define BLAS_CELLS ((int64_t)1 << 20)
#define TIE_REL 1e-12

double ps_km_sqdist(const double *a, const double *b, int64_t dim) {
  double s = 0.0;
  for (int64_t d = 0; d < dim; d++) {
    double t = a[d] - b[d];
    s += t * t;
  }
  return s;
}

void ps_km_nearest_free(ps_km_nearest_t *w) {
  free(w->shift);
  free(w->cn);
  free(w->cc);
  free(w->xb);
  free(w->s);
  memset(w, 0, sizeof *w);
}

int ps_km_nearest_alloc(ps_km_nearest_t *w, int64_t kmax, int64_t dim) {
  memset(w, 0, sizeof *w);
  if (kmax < 1) kmax = 1;
  w->kmax = kmax;
  w->dim = dim;
  w->lanes = dim <= LANES_DIM && kmax <= LANES_K;
  w->shift = malloc((size_t)(dim > 0 ? dim : 1) * sizeof(double));
  if (w->lanes) {
    w->kpad = (kmax + 3) / 4 * 4;
    w->cn = malloc((size_t)w->kpad * sizeof(double));
    w->cc = malloc((size_t)(w->kpad * (dim > 0 ? dim : 1)) * sizeof(double));
  } else {
    int64_t rows = BLAS_CELLS / kmax;
    w->rows = rows > BLAS_ROWS ? BLAS_ROWS : rows < 1 ? 1 : rows;
    w->cn = malloc((size_t)kmax * sizeof(double));
    w->cc = malloc((size_t)(kmax * dim) * sizeof(double));
    w->xb = malloc((size_t)(w->rows * dim) * sizeof(double));
    w->s = malloc((size_t)(w->rows * kmax) * sizeof(double));
  }
  if (!w->shift || !w->cn || !w->cc || (!w->lanes && (!w->xb || !w->s))) {
    ps_km_nearest_free(w);
    return 0;
  }
  return 1;
}

void ps_km_nearest_prep(ps_km_nearest_t *w, const double *c, int64_t k) {
  const int64_t dim = w->dim;
  w->k = k;
  w->c = c;
  for (int64_t d = 0; d < dim; d++) w->shift[d] = 0.0;
  for (int64_t j = 0; j < k; j++)
    for (int64_t d = 0; d < dim; d++) w->shift[d] += c[j * dim + d];
  for (int64_t d = 0; d < dim; d++) w->shift[d] /= (double)k;
  w->cnmax = 0.0;
  for (int64_t j = 0; j < k; j++) {
    double t = 0.0;
    for (int64_t d = 0; d < dim; d++) {
      double v = c[j * dim + d] - w->shift[d];
      t += v * v;
      if (w->lanes)
        w->cc[d * w->kpad + j] = v;
      else
        w->cc[j * dim + d] = v;
    }
    w->cn[j] = 0.5 * t;
    if (w->cn[j] > w->cnmax) w->cnmax = w->cn[j];
  }
  if (!w->lanes) return;
  /* Padding lanes: no centre there, so a score that can never win. */
  for (int64_t j = k; j < w->kpad; j++) {
    w->cn[j] = INFINITY;
    for (int64_t d = 0; d < dim; d++) w->cc[d * w->kpad + j] = 0.0;
  }
}

/* The exact decision among the candidate centres of bits (ascending, so a
 * strict < keeps the lowest index of equal distances). */
static int64_t exact_among(const double *xi, const double *c, int64_t dim, uint64_t bits,
                           double *bd) {
  int64_t best = -1;
  while (bits) {
    int64_t j = __builtin_ctzll(bits);
    bits &= bits - 1;
    double dj = ps_km_sqdist(xi, c + j * dim, dim);
    if (best < 0 || dj < *bd) {
      best = j;
      *bd = dj;
    }
  }
  return best;
}

/* One row's label from its k scores s (lanes past k ignored) and the row's
 * shifted squared norm. */
static inline void decide(const ps_km_nearest_t *w, const double *xi, uint64_t bits, int32_t *lab,
                          double *d2) {
  double bd = 0.0;
  int64_t best;
  if (bits && !(bits & (bits - 1))) {
    best = __builtin_ctzll(bits);
    if (d2) bd = ps_km_sqdist(xi, w->c + best * w->dim, w->dim);
  } else {
    best = exact_among(xi, w->c, w->dim, bits, &bd);
  }
  *lab = (int32_t)best;
  if (d2) *d2 = bd;
}

/* The lanes form, portable C (the compiler vectorises the j loops). */
static void lanes_portable(const ps_km_nearest_t *w, const double *x, int64_t n, int32_t *lab,
                           double *d2) {
  const int64_t dim = w->dim, kpad = w->kpad, k = w->k;
  const uint64_t live = k >= 64 ? ~0ULL : (1ULL << k) - 1;
  double s[LANES_K + 4];
  int32_t scratch;
  for (int64_t i = 0; i < n; i++) {
    const double *xi = x + i * dim;
    double xn = 0.0;
    for (int64_t j = 0; j < kpad; j++) s[j] = w->cn[j];
    for (int64_t d = 0; d < dim; d++) {
      const double xd = xi[d] - w->shift[d], *cd = w->cc + d * kpad;
      xn += xd * xd;
      for (int64_t j = 0; j < kpad; j++) s[j] -= xd * cd[j];
    }
    double bs = s[0];
    for (int64_t j = 1; j < k; j++) bs = s[j] < bs ? s[j] : bs;
    const double thr = bs + TIE_REL * (0.5 * xn + w->cnmax);
    uint64_t bits = 0;
    for (int64_t j = 0; j < k; j++) bits |= (uint64_t)(s[j] <= thr) << j;
    decide(w, xi, bits & live, lab ? lab + i : &scratch, d2 ? d2 + i : NULL);
  }
}

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>

/* The lanes form with AVX2 + FMA for G groups of four centres: the scores of
 * a row live in G registers. G is a constant at every call (inlined), so the
 * group loops unroll. */
__attribute__((target("avx2,fma"), always_inline)) static inline void
lanes_avx2(const ps_km_nearest_t *w, const double *x, int64_t n, int32_t *lab, double *d2,
           const int G) {
  const int64_t dim = w->dim, kpad = w->kpad, k = w->k;
  const uint64_t live = k >= 64 ? ~0ULL : (1ULL << k) - 1;
  __m256d cn[LANES_K / 4];
  int32_t scratch;
  for (int g = 0; g < G; g++) cn[g] = _mm256_loadu_pd(w->cn + 4 * g);
  for (int64_t i = 0; i < n; i++) {
    const double *xi = x + i * dim;
    __m256d s[LANES_K / 4];
    double xn = 0.0;
    for (int g = 0; g < G; g++) s[g] = cn[g];
    for (int64_t d = 0; d < dim; d++) {
      const double xd = xi[d] - w->shift[d], *cd = w->cc + d * kpad;
      const __m256d b = _mm256_set1_pd(xd);
      xn += xd * xd;
      for (int g = 0; g < G; g++) s[g] = _mm256_fnmadd_pd(b, _mm256_loadu_pd(cd + 4 * g), s[g]);
    }
    __m256d m = s[0];
    for (int g = 1; g < G; g++) m = _mm256_min_pd(m, s[g]);
    __m128d h = _mm_min_pd(_mm256_castpd256_pd128(m), _mm256_extractf128_pd(m, 1));
    h = _mm_min_sd(h, _mm_unpackhi_pd(h, h));
    const __m256d thr = _mm256_set1_pd(_mm_cvtsd_f64(h) + TIE_REL * (0.5 * xn + w->cnmax));
    uint64_t bits = 0;
    for (int g = 0; g < G; g++)
      bits |= (uint64_t)_mm256_movemask_pd(_mm256_cmp_pd(s[g], thr, _CMP_LE_OQ)) << (4 * g);
    decide(w, xi, bits & live, lab ? lab + i : &scratch, d2 ? d2 + i : NULL);
  }
}

__attribute__((target("avx2,fma"))) static void
lanes_avx2_any(const ps_km_nearest_t *w, const double *x, int64_t n, int32_t *lab, double *d2) {
  switch (w->kpad / 4) {
  case 1:
    lanes_avx2(w, x, n, lab, d2, 1);
    break;
  case 2:
    lanes_avx2(w, x, n, lab, d2, 2);
    break;
  case 3:
    lanes_avx2(w, x, n, lab, d2, 3);
    break;
  case 4:
    lanes_avx2(w, x, n, lab, d2, 4);
    break;
  case 5:
    lanes_avx2(w, x, n, lab, d2, 5);
    break;
  case 6:
    lanes_avx2(w, x, n, lab, d2, 6);
    break;
  case 7:
    lanes_avx2(w, x, n, lab, d2, 7);
    break;
  default:
    lanes_avx2(w, x, n, lab, d2, 8);
    break;
  }
}

int ps_km_nearest_simd(void) {
  static int known = -1;
  if (known < 0) {
    const char *e = getenv("POPSEG_KMEANS_PORTABLE");
    __builtin_cpu_init();
    known = !(e && *e && strcmp(e, "0")) && __builtin_cpu_supports("avx2") &&
            __builtin_cpu_supports("fma");
  }
  return known;
}
#else
int ps_km_nearest_simd(void) {
  return 0;
}
#endif

/* The BLAS form: a block of rows' scores from one dgemm. */
static void blas_rows(const ps_km_nearest_t *w, const double *x, int64_t n, int32_t *lab,
                      double *d2) {
  const int64_t dim = w->dim, k = w->k;
  int32_t scratch;
  for (int64_t i0 = 0; i0 < n; i0 += w->rows) {
    const int64_t b = n - i0 < w->rows ? n - i0 : w->rows;
    for (int64_t i = 0; i < b; i++)
      for (int64_t d = 0; d < dim; d++) w->xb[i * dim + d] = x[(i0 + i) * dim + d] - w->shift[d];
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)b, (int)k, (int)dim, 1.0, w->xb,
                (int)dim, w->cc, (int)dim, 0.0, w->s, (int)k);
    for (int64_t i = 0; i < b; i++) {
      const double *si = w->s + i * k, *xs = w->xb + i * dim;
      double bs = INFINITY, xn = 0.0;
      for (int64_t j = 0; j < k; j++) bs = w->cn[j] - si[j] < bs ? w->cn[j] - si[j] : bs;
      for (int64_t d = 0; d < dim; d++) xn += xs[d] * xs[d];
      const double thr = bs + TIE_REL * (0.5 * xn + w->cnmax);
      /* Candidates in ascending order; more than 64 of them are rare enough
       * for the exact loop over all. */
      double bd = 0.0;
      int64_t best = -1;
      for (int64_t j = 0; j < k; j++) {
        if (w->cn[j] - si[j] > thr) continue;
        double dj = ps_km_sqdist(x + (i0 + i) * dim, w->c + j * dim, dim);
        if (best < 0 || dj < bd) {
          best = j;
          bd = dj;
        }
      }
      (lab ? lab : &scratch)[lab ? i0 + i : 0] = (int32_t)best;
      if (d2) d2[i0 + i] = bd;
    }
  }
}

void ps_km_nearest_rows(const ps_km_nearest_t *w, const double *x, int64_t n, int32_t *lab,
                        double *d2) {
  if (n <= 0) return;
  if (!w->lanes) {
    blas_rows(w, x, n, lab, d2);
    return;
  }
#if defined(__x86_64__) && defined(__GNUC__)
  if (ps_km_nearest_simd()) {
    lanes_avx2_any(w, x, n, lab, d2);
    return;
  }
#endif
  lanes_portable(w, x, n, lab, d2);
}
