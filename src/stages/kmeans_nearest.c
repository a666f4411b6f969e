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
 * instruction set, and the exact path runs for a handful of rows only. With
 * AVX-512 the rows forms score sixteen rows at a time in single precision
 * (twice the rows per instruction), with a window to match (TIE_F32), and
 * eight in double for the rest; with AVX2 eight rows in single precision,
 * the centre-lanes form taking the rest.
 */
#include "popseg/kmeans_nearest.h"
#include "popseg/opt.h"

#include <cblas.h>
#include <float.h>
#include <limits.h>
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
/* The single-precision rows form: each score's error is at most about 21
 * float roundings (2^-24 each: the row's and the centre's conversions, the
 * FMAs of the two chains and their sum) of 0.5 ||x'||^2 + the largest cn
 * (every partial sum is at most twice that: |x'.c'| <= ||x'||^2 / 2 + cn),
 * about a sixth of this bound on it, which adds
 * an absolute 2^-120 for the roundings of subnormal floats. A row is sent to
 * the exact decision when its second score is within twice the bound of its
 * best, or when its squared norm is not below F32_BIG (huge, infinite or
 * NaN: its products could overflow a float); centres whose cn is not below
 * F32_BIG skip the form. */
#define TIE_F32 0x1p-17
#define TIE_F32_ABS 0x1p-120
#define F32_BIG 0x1p100

static int simd_level(void);

/* POPSEG_KMEANS_NO_ROWS=1: the centre-lanes form only (the tests run both). */
static int rows_off(void) {
  static int v = -1;
  if (v < 0) v = ps_env_flag("POPSEG_KMEANS_NO_ROWS", 0);
  return v;
}
/* POPSEG_KMEANS_NO_F32=1: no single-precision rows form (AVX-512: the double
 * rows form; AVX2: the centre lanes; the tests run both). */
static int f32_off(void) {
  static int v = -1;
  if (v < 0) v = ps_env_flag("POPSEG_KMEANS_NO_F32", 0);
  return v;
}

double ps_km_sqdist_fast(const double *a, const double *b, int64_t dim) {
  double s0 = 0.0, s1 = 0.0, s2 = 0.0, s3 = 0.0;
  int64_t d = 0;
  for (; d + 4 <= dim; d += 4) {
    const double t0 = a[d] - b[d], t1 = a[d + 1] - b[d + 1], t2 = a[d + 2] - b[d + 2],
                 t3 = a[d + 3] - b[d + 3];
    s0 += t0 * t0;
    s1 += t1 * t1;
    s2 += t2 * t2;
    s3 += t3 * t3;
  }
  for (; d < dim; d++) {
    const double t = a[d] - b[d];
    s0 += t * t;
  }
  return (s0 + s1) + (s2 + s3);
}

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
  free(w->cnf);
  free(w->ccf);
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
    /* Whole SIMD registers of centres: 8 lanes with AVX-512, else 4. */
    w->kpad = simd_level() == 2 ? (kmax + 7) / 8 * 8 : (kmax + 3) / 4 * 4;
    w->cn = malloc((size_t)w->kpad * sizeof(double));
    w->cc = malloc((size_t)(w->kpad * (dim > 0 ? dim : 1)) * sizeof(double));
    w->cnf = malloc((size_t)w->kpad * sizeof(float));
    w->ccf = malloc((size_t)(w->kpad * (dim > 0 ? dim : 1)) * sizeof(float));
  } else {
    int64_t rows = BLAS_CELLS / kmax;
    w->rows = rows > BLAS_ROWS ? BLAS_ROWS : rows < 1 ? 1 : rows;
    w->cn = malloc((size_t)kmax * sizeof(double));
    w->cc = malloc((size_t)(kmax * dim) * sizeof(double));
    w->xb = malloc((size_t)(w->rows * dim) * sizeof(double));
    w->s = malloc((size_t)(w->rows * kmax) * sizeof(double));
  }
  if (!w->shift || !w->cn || !w->cc || (!w->lanes && (!w->xb || !w->s)) ||
      (w->lanes && (!w->cnf || !w->ccf))) {
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
  /* The single-precision copies: only for centres whose squared norms stay
   * far inside a float's range (NaN fails the test too), so no product or
   * sum of the rows form overflows for the rows it keeps (F32_BIG). */
  w->f32 = 1;
  for (int64_t j = 0; j < k; j++) w->f32 &= w->cn[j] < F32_BIG;
  for (int64_t j = 0; j < w->kpad; j++) {
    w->cnf[j] = (float)w->cn[j];
    for (int64_t d = 0; d < dim; d++) w->ccf[d * w->kpad + j] = (float)w->cc[d * w->kpad + j];
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

/* One row's label from its candidate bits (scores within the tie window)
 * and, if asked for, bounds on its squared distances: ub2 on the distance to
 * its own centre, lb2 on the distance to every other. sc [k] the scores, xn
 * the shifted squared norm, err the window: a score is (d2 - xn) / 2 up to a
 * rounding far below err, so 2 (s_j - err) + xn <= d2_j <= 2 (s_j + err) + xn. */
__attribute__((always_inline)) static inline void decide(const ps_km_nearest_t *w, const double *xi,
                                                         uint64_t bits, int32_t *lab, double *d2,
                                                         const double *sc, double xn, double err,
                                                         double *ub2, double *lb2) {
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
  if (ub2) *ub2 = 2.0 * (sc[best] + err) + xn;
  if (lb2) {
    double m = INFINITY;
    for (int64_t j = 0; j < w->k; j++) {
      const double v = j == best ? INFINITY : sc[j]; /* branch-free */
      m = v < m ? v : m;
    }
    double b = 2.0 * (m - err) + xn;
    *lb2 = b > 0 ? b : 0.0; /* k = 1: +inf, no other centre */
  }
}

double ps_km_next_up(double v) {
  uint64_t u;
  memcpy(&u, &v, sizeof u);
  u++; /* v >= 0: the next representable double up */
  memcpy(&v, &u, sizeof v);
  return v;
}

/* Hamerly's bounds step, one row at a time: the reference (see the header). */
static int64_t bounds_portable(const ps_km_bounds_t *b, const int32_t *lab, const float *up,
                               const float *gap, int64_t i0, int64_t m, int64_t *out) {
  int64_t nb = 0;
  for (int64_t i = i0; i < i0 + m; i++) {
    const int32_t a = lab[i];
    const int pass =
        (double)gap[i] > b->gmin[a] || ps_km_next_up((double)up[i] + b->dcum[a]) < b->half[a];
    out[nb] = i;
    nb += !pass;
    if (b->x) {
      /* Fetch the latest failing row now, a batch ahead of its search
       * (branch-free: a passing row re-fetches the previous one). */
      const double *pf = b->x + out[nb > 0 ? nb - 1 : 0] * b->dim;
      __builtin_prefetch(pf);
      __builtin_prefetch(pf + b->dim - 1);
    }
  }
  return nb;
}

/* The bounds are kept as floats (a third of the memory traffic of double
 * bounds) and as offsets from the cumulative drifts (see the header), so a
 * row that passes is read, never written: each rounded outward, after a slack
 * far above the rounding of the few double operations that made it. */
#define BOUND_SLACK 0x1p-46
/* v rounded up / down to a float: moved outward by more than a float's
 * rounding, relative (2^-24) or, below the normal floats, absolute (2^-150),
 * then rounded to nearest; no branch (a test of the rounding's direction
 * would be mispredicted half the time). Beyond the floats, up gives +inf
 * (a row that fails: next_up(inf) is a NaN) and down FLT_MAX, not +inf,
 * which would pass forever; a NaN stays a NaN, which fails. */
static inline float float_up(double v) {
  return (float)(v + fabs(v) * 0x1p-22 + 0x1p-140);
}
static inline float float_down(double v) {
  const double w = v - fabs(v) * 0x1p-22 - 0x1p-140;
  return w > FLT_MAX ? FLT_MAX : (float)w;
}

/* One row's stored bounds (ps_km_bounds_store): the reference. */
static inline void store_portable(const double *dcum, const double *mcum, int64_t r, int32_t a,
                                  double u2, double l2, float *up, float *gap) {
  const double u = sqrt(u2) * PS_KM_UP, dc = dcum[a], mc = mcum[a];
  up[r] = float_up(u - dc + (u + dc) * BOUND_SLACK);
  if (isinf(l2)) {
    gap[r] = INFINITY; /* k = 1 */
    return;
  }
  const double l = sqrt(l2) * PS_KM_DOWN;
  gap[r] = float_down(l * PS_KM_MARGIN - u + dc + mc - (l + u + dc + mc) * BOUND_SLACK);
}

/* The lanes form, portable C (the compiler vectorises the j loops). */
static void lanes_portable(const ps_km_nearest_t *w, const double *x, const int64_t *idx, int64_t n,
                           int32_t *lab, double *d2, double *ub2, double *lb2) {
  const int64_t dim = w->dim, kpad = w->kpad, k = w->k;
  const uint64_t live = k >= 64 ? ~0ULL : (1ULL << k) - 1;
  double s[LANES_K + 4];
  int32_t scratch;
  for (int64_t i = 0; i < n; i++) {
    const double *xi = x + (idx ? idx[i] : i) * dim;
    double xn = 0.0;
    for (int64_t j = 0; j < kpad; j++) s[j] = w->cn[j];
    for (int64_t d = 0; d < dim; d++) {
      const double xd = xi[d] - w->shift[d], *cd = w->cc + d * kpad;
      xn += xd * xd;
      for (int64_t j = 0; j < kpad; j++) s[j] -= xd * cd[j];
    }
    double bs = s[0];
    for (int64_t j = 1; j < k; j++) bs = s[j] < bs ? s[j] : bs;
    const double err = TIE_REL * (0.5 * xn + w->cnmax), thr = bs + err;
    uint64_t bits = 0;
    for (int64_t j = 0; j < k; j++) bits |= (uint64_t)(s[j] <= thr) << j;
    decide(w, xi, bits & live, lab ? lab + i : &scratch, d2 ? d2 + i : NULL, s, xn, err,
           ub2 ? ub2 + i : NULL, lb2 ? lb2 + i : NULL);
  }
}

/* k-means++'s trial potentials, one row at a time: the reference (see the
 * header). */
static void trials_portable(const double *x, int64_t n, int64_t dim, const double *ctg,
                            const double *w, const double *wt, double p[4]) {
  double p0 = p[0], p1 = p[1], p2 = p[2], p3 = p[3];
  for (int64_t i = 0; i < n; i++) {
    const double *xi = x + i * dim;
    double a0 = 0.0, a1 = 0.0, a2 = 0.0, a3 = 0.0;
    for (int64_t d = 0; d < dim; d++) {
      const double *cd = ctg + d * 4;
      const double t0 = xi[d] - cd[0], t1 = xi[d] - cd[1], t2 = xi[d] - cd[2], t3 = xi[d] - cd[3];
      a0 += t0 * t0;
      a1 += t1 * t1;
      a2 += t2 * t2;
      a3 += t3 * t3;
    }
    const double wi = w[i];
    a0 = a0 < wi ? a0 : wi;
    a1 = a1 < wi ? a1 : wi;
    a2 = a2 < wi ? a2 : wi;
    a3 = a3 < wi ? a3 : wi;
    if (wt) {
      const double si = wt[i];
      a0 *= si;
      a1 *= si;
      a2 *= si;
      a3 *= si;
    }
    p0 += a0;
    p1 += a1;
    p2 += a2;
    p3 += a3;
  }
  p[0] = p0;
  p[1] = p1;
  p[2] = p2;
  p[3] = p3;
}

/* ps_km_dist_min for the rows i0..n-1, portable: the reference. */
static void dist_min_portable(const double *x, int64_t i0, int64_t n, int64_t dim, const double *c,
                              double *w) {
  /* Two rows per step: independent sums in flight (each in d order). */
  int64_t i = i0;
  for (; i + 2 <= n; i += 2) {
    const double *x0 = x + i * dim, *x1 = x0 + dim;
    double s0 = 0.0, s1 = 0.0;
    for (int64_t d = 0; d < dim; d++) {
      const double t0 = x0[d] - c[d], t1 = x1[d] - c[d];
      s0 += t0 * t0;
      s1 += t1 * t1;
    }
    w[i] = s0 < w[i] ? s0 : w[i];
    w[i + 1] = s1 < w[i + 1] ? s1 : w[i + 1];
  }
  for (; i < n; i++) {
    const double s0 = ps_km_sqdist(x + i * dim, c, dim);
    w[i] = s0 < w[i] ? s0 : w[i];
  }
}

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>

#include "simd8.h"

/* The lanes form with AVX2 + FMA for G groups of four centres: the scores of
 * a row live in G registers. G is a constant at every call (inlined), so the
 * group loops unroll. */
__attribute__((target("avx2,fma"), always_inline)) static inline void
lanes_avx2(const ps_km_nearest_t *w, const double *x, const int64_t *idx, int64_t n, int32_t *lab,
           double *d2, double *ub2, double *lb2, const int G) {
  const int64_t dim = w->dim, kpad = w->kpad, k = w->k;
  const uint64_t live = k >= 64 ? ~0ULL : (1ULL << k) - 1;
  __m256d cn[LANES_K / 4];
  int32_t scratch;
  for (int g = 0; g < G; g++) cn[g] = _mm256_loadu_pd(w->cn + 4 * g);
  for (int64_t i = 0; i < n; i++) {
    const double *xi = x + (idx ? idx[i] : i) * dim;
    if (idx && i + 32 < n) {
      /* Scattered rows: fetch ahead (the hardware prefetcher does not). */
      __builtin_prefetch(x + idx[i + 32] * dim);
      __builtin_prefetch(x + idx[i + 32] * dim + dim - 1);
    }
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
    const double err = TIE_REL * (0.5 * xn + w->cnmax);
    const __m256d thr = _mm256_set1_pd(_mm_cvtsd_f64(h) + err);
    uint64_t bits = 0;
    for (int g = 0; g < G; g++)
      bits |= (uint64_t)_mm256_movemask_pd(_mm256_cmp_pd(s[g], thr, _CMP_LE_OQ)) << (4 * g);
    bits &= live;
    decide(w, xi, bits, lab ? lab + i : &scratch, d2 ? d2 + i : NULL, NULL, xn, err, NULL, NULL);
    /* Bounds from the best score h, in registers: the second smallest score
     * (the best lane masked) for the others; with several candidates (a
     * near tie) h itself bounds both, as every score is >= h and the chosen
     * one <= h + err. */
    const double hb = _mm_cvtsd_f64(h);
    if (ub2) ub2[i] = 2.0 * (hb + 2.0 * err) + xn;
    if (lb2) {
      double sec = hb;
      if (!(bits & (bits - 1))) {
        const __m256d hv = _mm256_set1_pd(hb), inf = _mm256_set1_pd(INFINITY);
        __m256d m2 = _mm256_blendv_pd(s[0], inf, _mm256_cmp_pd(s[0], hv, _CMP_EQ_OQ));
        for (int g = 1; g < G; g++)
          m2 = _mm256_min_pd(m2, _mm256_blendv_pd(s[g], inf, _mm256_cmp_pd(s[g], hv, _CMP_EQ_OQ)));
        __m128d q = _mm_min_pd(_mm256_castpd256_pd128(m2), _mm256_extractf128_pd(m2, 1));
        q = _mm_min_sd(q, _mm_unpackhi_pd(q, q));
        sec = _mm_cvtsd_f64(q);
      }
      const double b = 2.0 * (sec - err) + xn;
      lb2[i] = b > 0 ? b : 0.0;
    }
  }
}

__attribute__((target("avx2,fma"))) static void lanes_avx2_any(const ps_km_nearest_t *w,
                                                               const double *x, const int64_t *idx,
                                                               int64_t n, int32_t *lab, double *d2,
                                                               double *ub2, double *lb2) {
  switch (w->kpad / 4) {
  case 1:
    lanes_avx2(w, x, idx, n, lab, d2, ub2, lb2, 1);
    break;
  case 2:
    lanes_avx2(w, x, idx, n, lab, d2, ub2, lb2, 2);
    break;
  case 3:
    lanes_avx2(w, x, idx, n, lab, d2, ub2, lb2, 3);
    break;
  case 4:
    lanes_avx2(w, x, idx, n, lab, d2, ub2, lb2, 4);
    break;
  case 5:
    lanes_avx2(w, x, idx, n, lab, d2, ub2, lb2, 5);
    break;
  case 6:
    lanes_avx2(w, x, idx, n, lab, d2, ub2, lb2, 6);
    break;
  case 7:
    lanes_avx2(w, x, idx, n, lab, d2, ub2, lb2, 7);
    break;
  default:
    lanes_avx2(w, x, idx, n, lab, d2, ub2, lb2, 8);
    break;
  }
}

/* The lanes form with AVX-512 for G groups of eight centres. Two sets of
 * accumulators (even and odd columns) break the chain of dependent FMAs
 * that bounds a row's latency; the scores only rank the centres (the exact
 * decision of near ties is the same as everywhere), so the order of their
 * sums does not matter. */
__attribute__((target("avx512f,avx512dq,fma"), always_inline)) static inline void
lanes_avx512(const ps_km_nearest_t *w, const double *x, const int64_t *idx, int64_t n, int32_t *lab,
             double *d2, double *ub2, double *lb2, const int G) {
  const int64_t dim = w->dim, kpad = w->kpad, k = w->k;
  const uint64_t live = k >= 64 ? ~0ULL : (1ULL << k) - 1;
  __m512d cn[LANES_K / 8];
  int32_t scratch;
  for (int g = 0; g < G; g++) cn[g] = _mm512_loadu_pd(w->cn + 8 * g);
  for (int64_t i = 0; i < n; i++) {
    const double *xi = x + (idx ? idx[i] : i) * dim;
    if (idx && i + 32 < n) {
      __builtin_prefetch(x + idx[i + 32] * dim);
      __builtin_prefetch(x + idx[i + 32] * dim + dim - 1);
    }
    __m512d s0[LANES_K / 8], s1[LANES_K / 8];
    double xn0 = 0.0, xn1 = 0.0;
    for (int g = 0; g < G; g++) {
      s0[g] = cn[g];
      s1[g] = _mm512_setzero_pd();
    }
    int64_t d = 0;
    for (; d + 2 <= dim; d += 2) {
      const double xa = xi[d] - w->shift[d], xb = xi[d + 1] - w->shift[d + 1];
      const double *ca = w->cc + d * kpad, *cb = ca + kpad;
      const __m512d ba = _mm512_set1_pd(xa), bb = _mm512_set1_pd(xb);
      xn0 += xa * xa;
      xn1 += xb * xb;
      for (int g = 0; g < G; g++) {
        s0[g] = _mm512_fnmadd_pd(ba, _mm512_loadu_pd(ca + 8 * g), s0[g]);
        s1[g] = _mm512_fnmadd_pd(bb, _mm512_loadu_pd(cb + 8 * g), s1[g]);
      }
    }
    if (d < dim) {
      const double xa = xi[d] - w->shift[d], *ca = w->cc + d * kpad;
      const __m512d ba = _mm512_set1_pd(xa);
      xn0 += xa * xa;
      for (int g = 0; g < G; g++) s0[g] = _mm512_fnmadd_pd(ba, _mm512_loadu_pd(ca + 8 * g), s0[g]);
    }
    const double xn = xn0 + xn1;
    __m512d sg[LANES_K / 8];
    for (int g = 0; g < G; g++) sg[g] = _mm512_add_pd(s0[g], s1[g]);
    __m512d m = sg[0];
    for (int g = 1; g < G; g++) m = _mm512_min_pd(m, sg[g]);
    const double hb = _mm512_reduce_min_pd(m);
    const double err = TIE_REL * (0.5 * xn + w->cnmax);
    const __m512d thr = _mm512_set1_pd(hb + err);
    uint64_t bits = 0;
    for (int g = 0; g < G; g++)
      bits |= (uint64_t)_mm512_cmp_pd_mask(sg[g], thr, _CMP_LE_OQ) << (8 * g);
    bits &= live;
    decide(w, xi, bits, lab ? lab + i : &scratch, d2 ? d2 + i : NULL, NULL, xn, err, NULL, NULL);
    if (ub2) ub2[i] = 2.0 * (hb + 2.0 * err) + xn;
    if (lb2) {
      double sec = hb;
      if (!(bits & (bits - 1))) {
        const __m512d hv = _mm512_set1_pd(hb), inf = _mm512_set1_pd(INFINITY);
        __m512d m2 = _mm512_mask_blend_pd(_mm512_cmp_pd_mask(sg[0], hv, _CMP_EQ_OQ), sg[0], inf);
        for (int g = 1; g < G; g++)
          m2 = _mm512_min_pd(
              m2, _mm512_mask_blend_pd(_mm512_cmp_pd_mask(sg[g], hv, _CMP_EQ_OQ), sg[g], inf));
        sec = _mm512_reduce_min_pd(m2);
      }
      const double b = 2.0 * (sec - err) + xn;
      lb2[i] = b > 0 ? b : 0.0;
    }
  }
}

__attribute__((target("avx512f,avx512dq,fma"))) static void
lanes_avx512_any(const ps_km_nearest_t *w, const double *x, const int64_t *idx, int64_t n,
                 int32_t *lab, double *d2, double *ub2, double *lb2) {
  switch ((w->kpad + 7) / 8) {
  case 1:
    lanes_avx512(w, x, idx, n, lab, d2, ub2, lb2, 1);
    break;
  case 2:
    lanes_avx512(w, x, idx, n, lab, d2, ub2, lb2, 2);
    break;
  case 3:
    lanes_avx512(w, x, idx, n, lab, d2, ub2, lb2, 3);
    break;
  default:
    lanes_avx512(w, x, idx, n, lab, d2, ub2, lb2, 4);
    break;
  }
}

/* The columns of the eight contiguous rows i..i+7 of x (n rows of DIM) into
 * xt, the rows 64 ahead fetched; whole-register loads where they stay inside
 * the n rows. */
__attribute__((target("avx512f,avx512dq"), always_inline)) static inline void
contig8(const double *x, int64_t i, int64_t n, __m512d *xt, const int DIM) {
  const double *rp[8];
  for (int r = 0; r < 8; r++) rp[r] = x + (i + r) * DIM;
  ps_fetch_ahead8(x, i, DIM);
  ps_columns8(rp, xt, (i + 7) * DIM + (DIM + 7) / 8 * 8 <= n * DIM, DIM);
}

/* The columns of rows i .. i + 7 from their copy laid out by ps_km_columns8
 * (plain loads: the transpose was done once for every kernel that reads
 * them). */
__attribute__((target("avx512f"), always_inline)) static inline void
cols8(const double *xc, int64_t i, __m512d *xt, const int DIM) {
#pragma GCC unroll 16
  for (int d = 0; d < DIM; d++) xt[d] = _mm512_loadu_pd(xc + i * DIM + d * 8);
}

/* The columns of eight rows into xt: rows idx[i..i+7] of x if idx is given,
 * else the contiguous rows i..i+7 (contig8). Scattered rows are gathered
 * (7.5 ns a row against 17 for loads feeding the transpose), a batch ahead
 * fetched: the hardware prefetcher does not follow them. */
__attribute__((target("avx512f,avx512dq"), always_inline)) static inline void
rows8_columns(const double *x, const int64_t *idx, int64_t i, int64_t n, __m512d *xt,
              const int DIM) {
  if (idx) {
    if (i + 40 <= n)
      for (int r = 0; r < 8; r++) {
        __builtin_prefetch(x + idx[i + 32 + r] * DIM);
        __builtin_prefetch(x + idx[i + 32 + r] * DIM + DIM - 1);
      }
    const __m512i off =
        _mm512_mullo_epi64(_mm512_loadu_si512((const void *)(idx + i)), _mm512_set1_epi64(DIM));
#pragma GCC unroll 16
    for (int d = 0; d < DIM; d++) xt[d] = _mm512_i64gather_pd(off, x + d, 8);
  } else {
    contig8(x, i, n, xt, DIM);
  }
}

__attribute__((target("avx512f,avx512dq"))) static int64_t
columns8_avx512_any(const double *x, int64_t n, int64_t dim, double *xc) {
  int64_t i = 0;
  switch (dim) {
#define COLS_CASE(D)                                                                               \
  case D:                                                                                          \
    for (; i + 8 <= n; i += 8) {                                                                   \
      __m512d t[D];                                                                                \
      contig8(x, i, n, t, D);                                                                      \
      for (int d = 0; d < D; d++) _mm512_storeu_pd(xc + i * D + d * 8, t[d]);                      \
    }                                                                                              \
    return i;
    PS_EACH_1_16(COLS_CASE)
#undef COLS_CASE
  default:
    return 0;
  }
}

/* The rows form with AVX-512: eight rows in the lanes of a register, their
 * shifted columns in DIM registers (transposed from contiguous rows, gathered
 * from scattered ones), then each centre's scores for the eight rows at once,
 * each centre coordinate broadcast. The best and second-best scores and the
 * best's index follow in registers, so no horizontal reduction runs per row
 * (the centre-lanes form's cost), and the k scores are not kept: a row whose
 * second-best score is within the tie window of its best (a near tie, where
 * the exact decision must choose) is searched again by the centre-lanes
 * form, which has that decision. Every other row takes the best's index, the
 * only score in the window, as the centre-lanes form would. The bounds are
 * the centre-lanes form's (from the best and the second-best scores). DIM
 * is a constant at every call (inlined), so the columns stay in registers.
 * Starts at row i0 (the rows before it searched by another form); returns
 * the rows done, i0 plus a multiple of 8; the caller searches the tail.
 * 2M rows of 9 columns, k = 8, one process: 3.9 ns a row against 6.4 for
 * the centre-lanes form (the streaming bound is 3.8). */
__attribute__((target("avx512f,avx512dq"), always_inline)) static inline int64_t
rows_avx512(const ps_km_nearest_t *w, const double *x, const int64_t *idx, int64_t i0, int64_t n,
            int32_t *lab, double *d2, double *ub2, double *lb2, const int DIM) {
  const int64_t kpad = w->kpad, k = w->k;
  const __m512d inf = _mm512_set1_pd(INFINITY), zero = _mm512_setzero_pd();
  const __m512d tie = _mm512_set1_pd(TIE_REL), half = _mm512_set1_pd(0.5),
                cnmax = _mm512_set1_pd(w->cnmax), two = _mm512_set1_pd(2.0);
  int64_t i = i0;
  for (; i + 8 <= n; i += 8) {
    __m512d xt[LANES_DIM];
    __m512d xn = zero;
    rows8_columns(x, idx, i, n, xt, DIM);
#pragma GCC unroll 16
    for (int d = 0; d < DIM; d++) {
      xt[d] = _mm512_sub_pd(xt[d], _mm512_set1_pd(w->shift[d]));
      xn = _mm512_fmadd_pd(xt[d], xt[d], xn);
    }
    __m512d best = inf, sec = inf;
    __m512i arg = _mm512_setzero_si512();
    for (int64_t j = 0; j < k; j++) {
      /* Two chains of FMAs (even and odd columns): half the latency. */
      __m512d s0 = _mm512_set1_pd(w->cn[j]), s1 = zero;
      int d = 0;
#pragma GCC unroll 8
      for (; d + 2 <= DIM; d += 2) {
        s0 = _mm512_fnmadd_pd(xt[d], _mm512_set1_pd(w->cc[d * kpad + j]), s0);
        s1 = _mm512_fnmadd_pd(xt[d + 1], _mm512_set1_pd(w->cc[(d + 1) * kpad + j]), s1);
      }
      if (d < DIM) s0 = _mm512_fnmadd_pd(xt[d], _mm512_set1_pd(w->cc[d * kpad + j]), s0);
      const __m512d s = _mm512_add_pd(s0, s1);
      /* Strictly below: equal scores keep the lower index (and are a near
       * tie anyway, searched again). */
      const __mmask8 lt = _mm512_cmp_pd_mask(s, best, _CMP_LT_OQ);
      sec = _mm512_min_pd(sec, _mm512_max_pd(best, s));
      best = _mm512_min_pd(best, s);
      arg = _mm512_mask_blend_epi64(lt, arg, _mm512_set1_epi64(j));
    }
    const __m512d err = _mm512_mul_pd(tie, _mm512_fmadd_pd(half, xn, cnmax));
    const __mmask8 near = _mm512_cmp_pd_mask(sec, _mm512_add_pd(best, err), _CMP_LE_OQ);
    if (lab) _mm256_storeu_si256((__m256i *)(void *)(lab + i), _mm512_cvtepi64_epi32(arg));
    if (ub2) _mm512_storeu_pd(ub2 + i, _mm512_fmadd_pd(two, _mm512_fmadd_pd(two, err, best), xn));
    if (lb2) {
      const __m512d b = _mm512_fmadd_pd(two, _mm512_sub_pd(sec, err), xn);
      _mm512_storeu_pd(lb2 + i, _mm512_max_pd(b, zero));
    }
    if (d2) {
      int64_t a[8];
      _mm512_storeu_si512((void *)a, arg);
      for (int r = 0; r < 8; r++) {
        const int64_t row = idx ? idx[i + r] : i + r;
        d2[i + r] = ps_km_sqdist(x + row * DIM, w->c + a[r] * DIM, DIM);
      }
    }
    for (unsigned m = near; m; m &= m - 1) {
      /* A near tie: the exact decision, one row. */
      const int r = __builtin_ctz(m);
      int32_t one;
      lanes_avx512_any(w, idx ? x : x + (i + r) * DIM, idx ? idx + i + r : NULL, 1, &one,
                       d2 ? d2 + i + r : NULL, ub2 ? ub2 + i + r : NULL, lb2 ? lb2 + i + r : NULL);
      if (lab) lab[i + r] = one;
    }
  }
  return i;
}

/* The rows form for up to ROWS_DIM columns (the columns of eight rows in
 * registers, with room left for the scores). */
#define ROWS_DIM 16

/* Whether the AVX-512 kernels that read eight rows at a time run for dim
 * columns: the one test the rows search, the columns, the distances and the
 * trials share, so ps_km_columns8 lays out columns exactly when they read
 * them. */
static int rows8_ok(int64_t dim) {
  return simd_level() == 2 && dim <= ROWS_DIM && !rows_off();
}
/* The same test for the AVX2 kernels that read rows four or eight at a time
 * (the single-precision search, the distance fold). */
static int rows4_ok(int64_t dim) {
  return simd_level() == 1 && dim <= ROWS_DIM && !rows_off();
}
__attribute__((target("avx512f,avx512dq"))) static int64_t
rows_avx512_any(const ps_km_nearest_t *w, const double *x, const int64_t *idx, int64_t i0,
                int64_t n, int32_t *lab, double *d2, double *ub2, double *lb2) {
  switch (w->dim) {
#define ROWS_CASE(D)                                                                               \
  case D:                                                                                          \
    return rows_avx512(w, x, idx, i0, n, lab, d2, ub2, lb2, D);
    PS_EACH_1_16(ROWS_CASE)
#undef ROWS_CASE
  default:
    return i0;
  }
}

/* The rows form in single precision: sixteen rows in the lanes of a
 * register, their shifted columns computed in double (as the double form
 * does), then rounded to floats, so each FMA scores sixteen rows, not eight:
 * the search's arithmetic halves. The label is the best's index unless the
 * row is a near tie at float precision (TIE_F32) or too large for floats
 * (F32_BIG): those rows are searched again by the centre-lanes form in
 * double, which has the exact decision. Every other row's best is the exact
 * argmin: its float score is within the bound of the true one, and every
 * other score is more than twice the bound above. The bounds come from the
 * float scores moved outward by that bound, and the squared norm by 2^-19
 * (its own rounding is below 2^-20), in double: valid bounds, a little
 * looser than the double form's. Returns the rows done (a multiple of 16);
 * the caller searches the rest in double. */
__attribute__((target("avx512f,avx512dq"), always_inline)) static inline int64_t
rows16_avx512(const ps_km_nearest_t *w, const double *x, const int64_t *idx, int64_t n,
              int32_t *lab, double *d2, double *ub2, double *lb2, const int DIM) {
  const int64_t kpad = w->kpad, k = w->k;
  const __m512 inf = _mm512_set1_ps(INFINITY), zero = _mm512_setzero_ps();
  const __m512 tie = _mm512_set1_ps((float)TIE_F32), tiny = _mm512_set1_ps((float)TIE_F32_ABS),
               half = _mm512_set1_ps(0.5f), big = _mm512_set1_ps((float)F32_BIG),
               cnmax = _mm512_set1_ps((float)(w->cnmax * (1.0 + 0x1p-20)));
  const __m512d two = _mm512_set1_pd(2.0), dz = _mm512_setzero_pd(),
                xup = _mm512_set1_pd(1.0 + 0x1p-19), xdown = _mm512_set1_pd(1.0 - 0x1p-19);
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    __m512 xt[LANES_DIM];
    __m512 xn = zero;
    for (int h = 0; h < 2; h++) {
      __m512d c8[LANES_DIM];
      rows8_columns(x, idx, i + 8 * h, n, c8, DIM);
#pragma GCC unroll 16
      for (int d = 0; d < DIM; d++) {
        const __m256 f = _mm512_cvtpd_ps(_mm512_sub_pd(c8[d], _mm512_set1_pd(w->shift[d])));
        xt[d] = h ? _mm512_insertf32x8(xt[d], f, 1) : _mm512_castps256_ps512(f);
      }
    }
#pragma GCC unroll 16
    for (int d = 0; d < DIM; d++) xn = _mm512_fmadd_ps(xt[d], xt[d], xn);
    __m512 best = inf, sec = inf;
    __m512i arg = _mm512_setzero_si512();
    for (int64_t j = 0; j < k; j++) {
      __m512 s0 = _mm512_set1_ps(w->cnf[j]), s1 = zero;
      int d = 0;
#pragma GCC unroll 8
      for (; d + 2 <= DIM; d += 2) {
        s0 = _mm512_fnmadd_ps(xt[d], _mm512_set1_ps(w->ccf[d * kpad + j]), s0);
        s1 = _mm512_fnmadd_ps(xt[d + 1], _mm512_set1_ps(w->ccf[(d + 1) * kpad + j]), s1);
      }
      if (d < DIM) s0 = _mm512_fnmadd_ps(xt[d], _mm512_set1_ps(w->ccf[d * kpad + j]), s0);
      const __m512 s = _mm512_add_ps(s0, s1);
      const __mmask16 lt = _mm512_cmp_ps_mask(s, best, _CMP_LT_OQ);
      sec = _mm512_min_ps(sec, _mm512_max_ps(best, s));
      best = _mm512_min_ps(best, s);
      arg = _mm512_mask_blend_epi32(lt, arg, _mm512_set1_epi32((int)j));
    }
    /* e: the bound on each score's error; near: a second score within 2e
     * of the best, or a norm too large (or NaN) for floats. */
    const __m512 e = _mm512_fmadd_ps(tie, _mm512_fmadd_ps(half, xn, cnmax), tiny);
    const __mmask16 near =
        _mm512_cmp_ps_mask(sec, _mm512_add_ps(best, _mm512_add_ps(e, e)), _CMP_LE_OQ) |
        (__mmask16)~_mm512_cmp_ps_mask(xn, big, _CMP_LT_OQ);
    if (lab) _mm512_storeu_si512((void *)(lab + i), arg);
    for (int h = 0; h < 2; h++) {
#define HALF8(v) _mm512_cvtps_pd(h ? _mm512_extractf32x8_ps(v, 1) : _mm512_castps512_ps256(v))
      const __m512d bd = HALF8(best), sd = HALF8(sec), ed = HALF8(e), xd = HALF8(xn);
#undef HALF8
      if (ub2)
        _mm512_storeu_pd(ub2 + i + 8 * h,
                         _mm512_fmadd_pd(two, _mm512_add_pd(bd, ed), _mm512_mul_pd(xd, xup)));
      if (lb2) {
        const __m512d b = _mm512_fmadd_pd(two, _mm512_sub_pd(sd, ed), _mm512_mul_pd(xd, xdown));
        _mm512_storeu_pd(lb2 + i + 8 * h, _mm512_max_pd(b, dz));
      }
    }
    if (d2) {
      int32_t a[16];
      _mm512_storeu_si512((void *)a, arg);
      for (int r = 0; r < 16; r++) {
        const int64_t row = idx ? idx[i + r] : i + r;
        d2[i + r] = ps_km_sqdist(x + row * DIM, w->c + (int64_t)a[r] * DIM, DIM);
      }
    }
    for (unsigned m = near; m; m &= m - 1) {
      /* A near tie (or a huge row): the exact decision in double, one row. */
      const int r = __builtin_ctz(m);
      int32_t one;
      lanes_avx512_any(w, idx ? x : x + (i + r) * DIM, idx ? idx + i + r : NULL, 1, &one,
                       d2 ? d2 + i + r : NULL, ub2 ? ub2 + i + r : NULL, lb2 ? lb2 + i + r : NULL);
      if (lab) lab[i + r] = one;
    }
  }
  return i;
}

__attribute__((target("avx512f,avx512dq"))) static int64_t
rows16_avx512_any(const ps_km_nearest_t *w, const double *x, const int64_t *idx, int64_t n,
                  int32_t *lab, double *d2, double *ub2, double *lb2) {
  switch (w->dim) {
#define ROWS16_CASE(D)                                                                             \
  case D:                                                                                          \
    return rows16_avx512(w, x, idx, n, lab, d2, ub2, lb2, D);
    PS_EACH_1_16(ROWS16_CASE)
#undef ROWS16_CASE
  default:
    return 0;
  }
}

/* Columns c0 .. c0 + nc - 1 (nc <= 4) of the four rows r[0..3], one register
 * per column (lane q: row q): a load per row (masked past nc, so no byte
 * beyond a row's columns is read), then a 4 x 4 transpose in 8 shuffles. */
__attribute__((target("avx2"), always_inline)) static inline void
block4_avx2(const double *const r[4], int c0, int nc, __m256d t[4]) {
  __m256d a[4];
  if (nc == 4) {
#pragma GCC unroll 4
    for (int q = 0; q < 4; q++) a[q] = _mm256_loadu_pd(r[q] + c0);
  } else {
    const __m256i m = _mm256_cmpgt_epi64(_mm256_set1_epi64x(nc), _mm256_set_epi64x(3, 2, 1, 0));
#pragma GCC unroll 4
    for (int q = 0; q < 4; q++) a[q] = _mm256_maskload_pd(r[q] + c0, m);
  }
  const __m256d t0 = _mm256_unpacklo_pd(a[0], a[1]), t1 = _mm256_unpackhi_pd(a[0], a[1]),
                t2 = _mm256_unpacklo_pd(a[2], a[3]), t3 = _mm256_unpackhi_pd(a[2], a[3]);
  t[0] = _mm256_permute2f128_pd(t0, t2, 0x20);
  t[1] = _mm256_permute2f128_pd(t1, t3, 0x20);
  t[2] = _mm256_permute2f128_pd(t0, t2, 0x31);
  t[3] = _mm256_permute2f128_pd(t1, t3, 0x31);
}

/* The single-precision rows form with AVX2 + FMA: rows16_avx512's
 * arithmetic on eight rows (the lanes of a float register), with the same
 * error bound (TIE_F32: the same operations in the same order, only fewer
 * lanes), the same hand-over of near ties and huge rows to the exact
 * decision (here by the AVX2 centre-lanes form), and the same bounds. The
 * rows' shifted columns are made in double from loads and 4 x 4 transposes
 * (scattered rows are fetched a batch ahead, as the centre-lanes form
 * does), then rounded to floats. Returns the rows done (a multiple of 8);
 * the caller searches the rest. */
__attribute__((target("avx2,fma"), always_inline)) static inline int64_t
rows8f_avx2(const ps_km_nearest_t *w, const double *x, const int64_t *idx, int64_t n, int32_t *lab,
            double *d2, double *ub2, double *lb2, const int DIM) {
  const int64_t kpad = w->kpad, k = w->k;
  const __m256 inf = _mm256_set1_ps(INFINITY), zero = _mm256_setzero_ps();
  const __m256 tie = _mm256_set1_ps((float)TIE_F32), tiny = _mm256_set1_ps((float)TIE_F32_ABS),
               half = _mm256_set1_ps(0.5f), big = _mm256_set1_ps((float)F32_BIG),
               cnmax = _mm256_set1_ps((float)(w->cnmax * (1.0 + 0x1p-20)));
  const __m256d two = _mm256_set1_pd(2.0), dz = _mm256_setzero_pd(),
                xup = _mm256_set1_pd(1.0 + 0x1p-19), xdown = _mm256_set1_pd(1.0 - 0x1p-19);
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    __m256 xt[LANES_DIM];
    if (idx && i + 40 <= n)
      for (int r = 0; r < 8; r++) {
        __builtin_prefetch(x + idx[i + 32 + r] * DIM);
        __builtin_prefetch(x + idx[i + 32 + r] * DIM + DIM - 1);
      }
    const double *lo[4], *hi[4];
#pragma GCC unroll 4
    for (int r = 0; r < 4; r++) {
      lo[r] = x + (idx ? idx[i + r] : i + r) * DIM;
      hi[r] = x + (idx ? idx[i + 4 + r] : i + 4 + r) * DIM;
    }
    /* Each block of four columns for the eight rows: two transposes, then
     * the shifted columns rounded to floats, the halves joined. */
    __m256 xn = zero;
#pragma GCC unroll 4
    for (int c0 = 0; c0 < DIM; c0 += 4) {
      const int nc = DIM - c0 < 4 ? DIM - c0 : 4;
      __m256d tl[4], th[4];
      block4_avx2(lo, c0, nc, tl);
      block4_avx2(hi, c0, nc, th);
#pragma GCC unroll 4
      for (int q = 0; q < nc; q++) {
        const __m256d sh = _mm256_set1_pd(w->shift[c0 + q]);
        xt[c0 + q] = _mm256_set_m128(_mm256_cvtpd_ps(_mm256_sub_pd(th[q], sh)),
                                     _mm256_cvtpd_ps(_mm256_sub_pd(tl[q], sh)));
      }
    }
#pragma GCC unroll 16
    for (int d = 0; d < DIM; d++) xn = _mm256_fmadd_ps(xt[d], xt[d], xn);
    __m256 best = inf, sec = inf;
    __m256i arg = _mm256_setzero_si256();
    for (int64_t j = 0; j < k; j++) {
      __m256 s0 = _mm256_set1_ps(w->cnf[j]), s1 = zero;
      int d = 0;
#pragma GCC unroll 8
      for (; d + 2 <= DIM; d += 2) {
        s0 = _mm256_fnmadd_ps(xt[d], _mm256_set1_ps(w->ccf[d * kpad + j]), s0);
        s1 = _mm256_fnmadd_ps(xt[d + 1], _mm256_set1_ps(w->ccf[(d + 1) * kpad + j]), s1);
      }
      if (d < DIM) s0 = _mm256_fnmadd_ps(xt[d], _mm256_set1_ps(w->ccf[d * kpad + j]), s0);
      const __m256 s = _mm256_add_ps(s0, s1);
      const __m256 lt = _mm256_cmp_ps(s, best, _CMP_LT_OQ);
      sec = _mm256_min_ps(sec, _mm256_max_ps(best, s));
      best = _mm256_min_ps(best, s);
      arg = _mm256_castps_si256(_mm256_blendv_ps(
          _mm256_castsi256_ps(arg), _mm256_castsi256_ps(_mm256_set1_epi32((int)j)), lt));
    }
    const __m256 e = _mm256_fmadd_ps(tie, _mm256_fmadd_ps(half, xn, cnmax), tiny);
    const unsigned near =
        (unsigned)_mm256_movemask_ps(
            _mm256_cmp_ps(sec, _mm256_add_ps(best, _mm256_add_ps(e, e)), _CMP_LE_OQ)) |
        ((unsigned)~_mm256_movemask_ps(_mm256_cmp_ps(xn, big, _CMP_LT_OQ)) & 0xffu);
    if (lab) _mm256_storeu_si256((__m256i *)(void *)(lab + i), arg);
    for (int h = 0; h < 2; h++) {
#define HALF4(v) _mm256_cvtps_pd(h ? _mm256_extractf128_ps(v, 1) : _mm256_castps256_ps128(v))
      const __m256d bd = HALF4(best), sd = HALF4(sec), ed = HALF4(e), xd = HALF4(xn);
#undef HALF4
      if (ub2)
        _mm256_storeu_pd(ub2 + i + 4 * h,
                         _mm256_fmadd_pd(two, _mm256_add_pd(bd, ed), _mm256_mul_pd(xd, xup)));
      if (lb2) {
        const __m256d b = _mm256_fmadd_pd(two, _mm256_sub_pd(sd, ed), _mm256_mul_pd(xd, xdown));
        _mm256_storeu_pd(lb2 + i + 4 * h, _mm256_max_pd(b, dz));
      }
    }
    if (d2) {
      int32_t a[8];
      _mm256_storeu_si256((__m256i *)(void *)a, arg);
      for (int r = 0; r < 8; r++) {
        const int64_t row = idx ? idx[i + r] : i + r;
        d2[i + r] = ps_km_sqdist(x + row * DIM, w->c + (int64_t)a[r] * DIM, DIM);
      }
    }
    for (unsigned m = near; m; m &= m - 1) {
      /* A near tie (or a huge row): the exact decision in double, one row. */
      const int r = __builtin_ctz(m);
      int32_t one;
      lanes_avx2_any(w, idx ? x : x + (i + r) * DIM, idx ? idx + i + r : NULL, 1, &one,
                     d2 ? d2 + i + r : NULL, ub2 ? ub2 + i + r : NULL, lb2 ? lb2 + i + r : NULL);
      if (lab) lab[i + r] = one;
    }
  }
  return i;
}

__attribute__((target("avx2,fma"))) static int64_t
rows8f_avx2_any(const ps_km_nearest_t *w, const double *x, const int64_t *idx, int64_t n,
                int32_t *lab, double *d2, double *ub2, double *lb2) {
  switch (w->dim) {
#define ROWS8F_CASE(D)                                                                             \
  case D:                                                                                          \
    return rows8f_avx2(w, x, idx, n, lab, d2, ub2, lb2, D);
    PS_EACH_1_16(ROWS8F_CASE)
#undef ROWS8F_CASE
  default:
    return 0;
  }
}

/* ps_km_dist_min with AVX-512 for DIM <= ROWS_DIM columns: eight rows in the
 * lanes (contig8), each lane's sum over d in
 * order with a separate multiply and add, then the min with w as the scalar
 * form takes it (vminpd is a < b ? a : b): the reference's bits. Returns the
 * rows done (a multiple of 8). */
__attribute__((target("avx512f,avx512dq"), always_inline)) static inline int64_t
dist_min_avx512(const double *x, const double *xc, int64_t n, const double *c, double *w,
                const int DIM) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    __m512d xt[ROWS_DIM];
    if (xc)
      cols8(xc, i, xt, DIM);
    else
      contig8(x, i, n, xt, DIM);
    __m512d sum = _mm512_setzero_pd();
#pragma GCC unroll 16
    for (int d = 0; d < DIM; d++) {
      const __m512d t = _mm512_sub_pd(xt[d], _mm512_set1_pd(c[d]));
      sum = _mm512_add_pd(sum, _mm512_mul_pd(t, t));
    }
    _mm512_storeu_pd(w + i, _mm512_min_pd(sum, _mm512_loadu_pd(w + i)));
  }
  return i;
}

/* ps_km_dist_min with AVX2 for DIM <= ROWS_DIM columns: four contiguous rows
 * in the lanes (block4_avx2's transposes, the rows 64 ahead fetched), each
 * lane's sum over d in order with a separate multiply and add, then the min
 * with w as the scalar form takes it: the reference's bits. Returns the rows
 * done (a multiple of 4). */
__attribute__((target("avx2"), always_inline)) static inline int64_t
dist_min_avx2(const double *x, int64_t n, const double *c, double *w, const int DIM) {
  int64_t i = 0;
  for (; i + 4 <= n; i += 4) {
    if ((i & 7) == 0) ps_fetch_ahead8(x, i, DIM);
    const double *rp[4];
#pragma GCC unroll 4
    for (int r = 0; r < 4; r++) rp[r] = x + (i + r) * DIM;
    __m256d sum = _mm256_setzero_pd();
#pragma GCC unroll 4
    for (int c0 = 0; c0 < DIM; c0 += 4) {
      const int nc = DIM - c0 < 4 ? DIM - c0 : 4;
      __m256d t[4];
      block4_avx2(rp, c0, nc, t);
#pragma GCC unroll 4
      for (int q = 0; q < nc; q++) {
        const __m256d v = _mm256_sub_pd(t[q], _mm256_set1_pd(c[c0 + q]));
        sum = _mm256_add_pd(sum, _mm256_mul_pd(v, v));
      }
    }
    _mm256_storeu_pd(w + i, _mm256_min_pd(sum, _mm256_loadu_pd(w + i)));
  }
  return i;
}

__attribute__((target("avx2"))) static int64_t
dist_min_avx2_any(const double *x, int64_t n, int64_t dim, const double *c, double *w) {
  switch (dim) {
#define DM4_CASE(D)                                                                                \
  case D:                                                                                          \
    return dist_min_avx2(x, n, c, w, D);
    PS_EACH_1_16(DM4_CASE)
#undef DM4_CASE
  default:
    return 0;
  }
}

/* ps_km_sqdist_own with AVX-512 for DIM <= ROWS_DIM columns: eight rows in
 * the lanes (contig8), each lane's own centre's coordinate d from a register
 * of the k <= 8 centres' coordinates d (a permute by label) or gathered (k >
 * 8), then sqdist's sum over d in order with a separate multiply and add:
 * its bits. Returns the rows done (a multiple of 8). */
__attribute__((target("avx512f,avx512dq"), always_inline)) static inline int64_t
own_avx512(const double *x, int64_t n, const double *c, int64_t k, const int32_t *lab, double *d2,
           const int DIM) {
  int64_t i = 0;
  __m512d cc[ROWS_DIM];
  const int small = k <= 8;
  for (int d = 0; d < DIM; d++) cc[d] = _mm512_setzero_pd();
  for (int d = 0; small && d < DIM; d++) {
    double col[8] = {0};
    for (int64_t j = 0; j < k; j++) col[j] = c[j * DIM + d];
    cc[d] = _mm512_loadu_pd(col);
  }
  const __m256i dimv = _mm256_set1_epi32(DIM);
  for (; i + 8 <= n; i += 8) {
    __m512d xt[ROWS_DIM];
    contig8(x, i, n, xt, DIM);
    const __m256i a32 = _mm256_loadu_si256((const __m256i *)(const void *)(lab + i));
    const __m512i a = _mm512_cvtepi32_epi64(a32);
    const __m256i base = _mm256_mullo_epi32(a32, dimv);
    __m512d sum = _mm512_setzero_pd();
#pragma GCC unroll 16
    for (int d = 0; d < DIM; d++) {
      const __m512d cd =
          small ? _mm512_permutexvar_pd(a, cc[d]) : _mm512_i32gather_pd(base, c + d, 8);
      const __m512d t = _mm512_sub_pd(xt[d], cd);
      sum = _mm512_add_pd(sum, _mm512_mul_pd(t, t));
    }
    _mm512_storeu_pd(d2 + i, sum);
  }
  return i;
}

__attribute__((target("avx512f,avx512dq,avx2"))) static int64_t
own_avx512_any(const double *x, int64_t n, int64_t dim, const double *c, int64_t k,
               const int32_t *lab, double *d2) {
  switch (dim) {
#define OWN_CASE(D)                                                                                \
  case D:                                                                                          \
    return own_avx512(x, n, c, k, lab, d2, D);
    PS_EACH_1_16(OWN_CASE)
#undef OWN_CASE
  default:
    return 0;
  }
}

/* k-means++'s trials with AVX-512 for DIM <= ROWS_DIM columns: eight rows in
 * the lanes (contig8), each candidate's distances summed over d in order with
 * a separate multiply and add, the min with w (vminpd is a < b ? a : b) and
 * the row weight as the portable form takes them, then each p[l] summed over
 * the rows in order: the reference's bits. The candidates' scores for eight
 * rows cost one register each, not a row's four per register with the
 * columns broadcast (trials_avx2), and the row-order sums are four scalar
 * chains that overlap. Returns the rows done (a multiple of 8). */
__attribute__((target("avx512f,avx512dq"), always_inline)) static inline int64_t
trials_avx512(const double *x, const double *xc, int64_t n, const double *ctg, const double *w,
              const double *wt, double p[4], const int DIM) {
  int64_t i = 0;
  double p0 = p[0], p1 = p[1], p2 = p[2], p3 = p[3];
  for (; i + 8 <= n; i += 8) {
    __m512d xt[ROWS_DIM];
    double a[4][8];
    if (xc)
      cols8(xc, i, xt, DIM);
    else
      contig8(x, i, n, xt, DIM);
    const __m512d wv = _mm512_loadu_pd(w + i);
    for (int l = 0; l < 4; l++) {
      __m512d sum = _mm512_setzero_pd();
#pragma GCC unroll 16
      for (int d = 0; d < DIM; d++) {
        const __m512d t = _mm512_sub_pd(xt[d], _mm512_set1_pd(ctg[d * 4 + l]));
        sum = _mm512_add_pd(sum, _mm512_mul_pd(t, t));
      }
      sum = _mm512_min_pd(sum, wv);
      if (wt) sum = _mm512_mul_pd(sum, _mm512_loadu_pd(wt + i));
      _mm512_storeu_pd(a[l], sum);
    }
    for (int r = 0; r < 8; r++) {
      p0 += a[0][r];
      p1 += a[1][r];
      p2 += a[2][r];
      p3 += a[3][r];
    }
  }
  p[0] = p0;
  p[1] = p1;
  p[2] = p2;
  p[3] = p3;
  return i;
}

__attribute__((target("avx512f,avx512dq"))) static int64_t
trials_avx512_any(const double *x, const double *xc, int64_t n, int64_t dim, const double *ctg,
                  const double *w, const double *wt, double p[4]) {
  switch (dim) {
#define TRIALS_CASE(D)                                                                             \
  case D:                                                                                          \
    return trials_avx512(x, xc, n, ctg, w, wt, p, D);
    PS_EACH_1_16(TRIALS_CASE)
#undef TRIALS_CASE
  default:
    return 0;
  }
}

__attribute__((target("avx512f,avx512dq"))) static int64_t
dist_min_avx512_any(const double *x, const double *xc, int64_t n, int64_t dim, const double *c,
                    double *w) {
  switch (dim) {
#define DMIN_CASE(D)                                                                               \
  case D:                                                                                          \
    return dist_min_avx512(x, xc, n, c, w, D);
    PS_EACH_1_16(DMIN_CASE)
#undef DMIN_CASE
  default:
    return 0;
  }
}

/* store_portable eight rows at a time: the same operations in the same order
 * (no FMA), so the same bits; its square roots, one row at a time, were the
 * search's critical path (two per searched row). The rows' bounds are
 * scattered (idx) or stored in a run (i0). Returns the rows done, a multiple
 * of 8. */
__attribute__((target("avx512f,avx512dq"))) static int64_t
store_avx512(const double *dcum, const double *mcum, const int64_t *idx, int64_t i0,
             const int32_t *lab, const double *u2, const double *l2, int64_t n, float *up,
             float *gap) {
  const __m512d kup = _mm512_set1_pd(PS_KM_UP), kdown = _mm512_set1_pd(PS_KM_DOWN);
  const __m512d margin = _mm512_set1_pd(PS_KM_MARGIN), slack = _mm512_set1_pd(BOUND_SLACK);
  const __m512d rel = _mm512_set1_pd(0x1p-22), tiny = _mm512_set1_pd(0x1p-140);
  const __m512d fmax = _mm512_set1_pd(FLT_MAX), inf = _mm512_set1_pd(INFINITY);
  const __m512i iota = _mm512_set_epi64(7, 6, 5, 4, 3, 2, 1, 0);
  int64_t b = 0;
  for (; b + 8 <= n; b += 8) {
    const __m256i a = _mm256_loadu_si256((const __m256i *)(const void *)(lab + b));
    const __m512i at = idx ? _mm512_loadu_si512((const void *)(idx + b))
                           : _mm512_add_epi64(_mm512_set1_epi64(i0 + b), iota);
    const __m512d dc = _mm512_i32gather_pd(a, dcum, 8), mc = _mm512_i32gather_pd(a, mcum, 8);
    const __m512d lsq = _mm512_loadu_pd(l2 + b);
    const __m512d u = _mm512_mul_pd(_mm512_sqrt_pd(_mm512_loadu_pd(u2 + b)), kup);
    /* float_up(u - dc + (u + dc) * BOUND_SLACK) */
    __m512d v = _mm512_add_pd(_mm512_sub_pd(u, dc), _mm512_mul_pd(_mm512_add_pd(u, dc), slack));
    v = _mm512_add_pd(_mm512_add_pd(v, _mm512_mul_pd(_mm512_abs_pd(v), rel)), tiny);
    /* float_down(l * margin - u + dc + mc - (l + u + dc + mc) * BOUND_SLACK),
     * INFINITY where l2 is (k = 1) */
    const __m512d l = _mm512_mul_pd(_mm512_sqrt_pd(lsq), kdown);
    __m512d g = _mm512_add_pd(_mm512_add_pd(_mm512_sub_pd(_mm512_mul_pd(l, margin), u), dc), mc);
    g = _mm512_sub_pd(
        g, _mm512_mul_pd(_mm512_add_pd(_mm512_add_pd(_mm512_add_pd(l, u), dc), mc), slack));
    g = _mm512_sub_pd(_mm512_sub_pd(g, _mm512_mul_pd(_mm512_abs_pd(g), rel)), tiny);
    g = _mm512_mask_blend_pd(_mm512_cmp_pd_mask(g, fmax, _CMP_GT_OQ), g, fmax);
    g = _mm512_mask_blend_pd(_mm512_cmp_pd_mask(lsq, inf, _CMP_EQ_OQ), g, inf);
    if (idx) {
      _mm512_i64scatter_ps(up, at, _mm512_cvtpd_ps(v), 4);
      _mm512_i64scatter_ps(gap, at, _mm512_cvtpd_ps(g), 4);
    } else {
      _mm256_storeu_ps(up + i0 + b, _mm512_cvtpd_ps(v));
      _mm256_storeu_ps(gap + i0 + b, _mm512_cvtpd_ps(g));
    }
  }
  return b;
}

/* The bounds step fetches a run's labels and bounds this many rows ahead:
 * in lockstep each run's three arrays are streams of their own, read a block
 * at a time in turn, too short and too many for the hardware to fetch them
 * ahead. */
#define BOUNDS_AHEAD 256
/* Hamerly's bounds step, eight rows at a time: the same comparisons as
 * bounds_portable on the same doubles (a float widened, one add rounded to
 * nearest, the next double up as the integer one above), so the same bits;
 * the failing rows' indices are compressed into out in row order. The
 * centres' thresholds come from registers for k <= 8 (a permute), from
 * memory otherwise (a gather). */
__attribute__((target("avx512f,avx512dq"))) static int64_t
bounds_avx512(const ps_km_bounds_t *b, const int32_t *lab, const float *up, const float *gap,
              int64_t i0, int64_t m, int64_t *out) {
  int64_t nb = 0, i = i0;
  const int64_t end = i0 + m;
  const int small = b->k <= 8;
  double gm8[8] = {0}, dc8[8] = {0}, hf8[8] = {0};
  for (int64_t j = 0; small && j < b->k; j++)
    gm8[j] = b->gmin[j], dc8[j] = b->dcum[j], hf8[j] = b->half[j];
  const __m512d vgm = _mm512_loadu_pd(gm8), vdc = _mm512_loadu_pd(dc8), vhf = _mm512_loadu_pd(hf8);
  const __m512i one = _mm512_set1_epi64(1), iota = _mm512_set_epi64(7, 6, 5, 4, 3, 2, 1, 0);
  for (; i + 8 <= end; i += 8) {
    if ((i & 15) == 0 && i + BOUNDS_AHEAD < b->n) {
      __builtin_prefetch(lab + i + BOUNDS_AHEAD);
      __builtin_prefetch(up + i + BOUNDS_AHEAD);
      __builtin_prefetch(gap + i + BOUNDS_AHEAD);
    }
    const __m256i a32 = _mm256_loadu_si256((const __m256i *)(const void *)(lab + i));
    __m512d gm, dc, hf;
    if (small) {
      const __m512i a = _mm512_cvtepi32_epi64(a32);
      gm = _mm512_permutexvar_pd(a, vgm);
      dc = _mm512_permutexvar_pd(a, vdc);
      hf = _mm512_permutexvar_pd(a, vhf);
    } else {
      gm = _mm512_i32gather_pd(a32, b->gmin, 8);
      dc = _mm512_i32gather_pd(a32, b->dcum, 8);
      hf = _mm512_i32gather_pd(a32, b->half, 8);
    }
    const __mmask8 pass1 =
        _mm512_cmp_pd_mask(_mm512_cvtps_pd(_mm256_loadu_ps(gap + i)), gm, _CMP_GT_OQ);
    const __m512d s = _mm512_add_pd(_mm512_cvtps_pd(_mm256_loadu_ps(up + i)), dc);
    const __m512d sup = _mm512_castsi512_pd(_mm512_add_epi64(_mm512_castpd_si512(s), one));
    const __mmask8 pass2 = _mm512_cmp_pd_mask(sup, hf, _CMP_LT_OQ);
    const __mmask8 fail = (__mmask8) ~(pass1 | pass2);
    _mm512_mask_compressstoreu_epi64(out + nb, fail, _mm512_add_epi64(_mm512_set1_epi64(i), iota));
    const int64_t nf = __builtin_popcount((unsigned)fail);
    /* Fetch the failing rows now, a batch ahead of their search. */
    for (int64_t q = 0; b->x && q < nf; q++) {
      const double *pf = b->x + out[nb + q] * b->dim;
      __builtin_prefetch(pf);
      __builtin_prefetch(pf + b->dim - 1);
    }
    nb += nf;
  }
  return nb + bounds_portable(b, lab, up, gap, i, end - i, out + nb);
}

/* store_portable four rows at a time with AVX2: store_avx512's operations on
 * four lanes (no FMA: the same order, so the same bits), the results stored
 * one float at a time (AVX2 has no scatter). Returns the rows done, a
 * multiple of 4. */
__attribute__((target("avx2"))) static int64_t store_avx2(const double *dcum, const double *mcum,
                                                          const int64_t *idx, int64_t i0,
                                                          const int32_t *lab, const double *u2,
                                                          const double *l2, int64_t n, float *up,
                                                          float *gap) {
  const __m256d kup = _mm256_set1_pd(PS_KM_UP), kdown = _mm256_set1_pd(PS_KM_DOWN);
  const __m256d margin = _mm256_set1_pd(PS_KM_MARGIN), slack = _mm256_set1_pd(BOUND_SLACK);
  const __m256d rel = _mm256_set1_pd(0x1p-22), tiny = _mm256_set1_pd(0x1p-140);
  const __m256d fmax = _mm256_set1_pd(FLT_MAX), inf = _mm256_set1_pd(INFINITY);
  const __m256d sign = _mm256_set1_pd(-0.0);
  int64_t b = 0;
  for (; b + 4 <= n; b += 4) {
    const __m128i a = _mm_loadu_si128((const __m128i *)(const void *)(lab + b));
    const __m256d dc = _mm256_i32gather_pd(dcum, a, 8), mc = _mm256_i32gather_pd(mcum, a, 8);
    const __m256d lsq = _mm256_loadu_pd(l2 + b);
    const __m256d u = _mm256_mul_pd(_mm256_sqrt_pd(_mm256_loadu_pd(u2 + b)), kup);
    __m256d v = _mm256_add_pd(_mm256_sub_pd(u, dc), _mm256_mul_pd(_mm256_add_pd(u, dc), slack));
    v = _mm256_add_pd(_mm256_add_pd(v, _mm256_mul_pd(_mm256_andnot_pd(sign, v), rel)), tiny);
    const __m256d l = _mm256_mul_pd(_mm256_sqrt_pd(lsq), kdown);
    __m256d g = _mm256_add_pd(_mm256_add_pd(_mm256_sub_pd(_mm256_mul_pd(l, margin), u), dc), mc);
    g = _mm256_sub_pd(
        g, _mm256_mul_pd(_mm256_add_pd(_mm256_add_pd(_mm256_add_pd(l, u), dc), mc), slack));
    g = _mm256_sub_pd(_mm256_sub_pd(g, _mm256_mul_pd(_mm256_andnot_pd(sign, g), rel)), tiny);
    g = _mm256_blendv_pd(g, fmax, _mm256_cmp_pd(g, fmax, _CMP_GT_OQ));
    g = _mm256_blendv_pd(g, inf, _mm256_cmp_pd(lsq, inf, _CMP_EQ_OQ));
    const __m128 vf = _mm256_cvtpd_ps(v), gf = _mm256_cvtpd_ps(g);
    if (idx) {
      float vs[4], gs[4];
      _mm_storeu_ps(vs, vf);
      _mm_storeu_ps(gs, gf);
      for (int r = 0; r < 4; r++) up[idx[b + r]] = vs[r], gap[idx[b + r]] = gs[r];
    } else {
      _mm_storeu_ps(up + i0 + b, vf);
      _mm_storeu_ps(gap + i0 + b, gf);
    }
  }
  return b;
}

/* v [4] of a table of up to eight doubles (lo: entries 0-3, hi: 4-7) at the
 * indices a (four int32 in 0..7): two permutes of 32-bit halves and a blend. */
__attribute__((target("avx2"), always_inline)) static inline __m256d
table8_avx2(__m256i lo, __m256i hi, __m256i pair, __m256d upper) {
  const __m256i l = _mm256_permutevar8x32_epi32(lo, pair),
                h = _mm256_permutevar8x32_epi32(hi, pair);
  return _mm256_blendv_pd(_mm256_castsi256_pd(l), _mm256_castsi256_pd(h), upper);
}

/* Hamerly's bounds step with AVX2, four rows at a time: bounds_avx512's
 * comparisons on the same doubles (the same bits), the labels, bounds and
 * failing rows fetched ahead as there. The centres' thresholds come from
 * registers for k <= 8 (permutes), from memory otherwise (gathers); the
 * failing rows' indices are written branch-free in row order. */
__attribute__((target("avx2"))) static int64_t bounds_avx2(const ps_km_bounds_t *b,
                                                           const int32_t *lab, const float *up,
                                                           const float *gap, int64_t i0, int64_t m,
                                                           int64_t *out) {
  int64_t nb = 0, i = i0;
  const int64_t end = i0 + m;
  const int small = b->k <= 8;
  double gm8[8] = {0}, dc8[8] = {0}, hf8[8] = {0};
  for (int64_t j = 0; small && j < b->k; j++)
    gm8[j] = b->gmin[j], dc8[j] = b->dcum[j], hf8[j] = b->half[j];
#define LOAD4(t, q) _mm256_loadu_si256((const __m256i *)(const void *)((t) + 4 * (q)))
  const __m256i gml = LOAD4(gm8, 0), gmh = LOAD4(gm8, 1), dcl = LOAD4(dc8, 0), dch = LOAD4(dc8, 1),
                hfl = LOAD4(hf8, 0), hfh = LOAD4(hf8, 1);
#undef LOAD4
  const __m256i one = _mm256_set1_epi64x(1), three = _mm256_set1_epi32(3);
  /* Lane 2q and 2q + 1 of a 32-bit permute: the halves of double a[q]. */
  const __m256i spread = _mm256_set_epi32(3, 3, 2, 2, 1, 1, 0, 0),
                halves = _mm256_set_epi32(1, 0, 1, 0, 1, 0, 1, 0);
  for (; i + 4 <= end; i += 4) {
    if ((i & 15) == 0 && i + BOUNDS_AHEAD < b->n) {
      __builtin_prefetch(lab + i + BOUNDS_AHEAD);
      __builtin_prefetch(up + i + BOUNDS_AHEAD);
      __builtin_prefetch(gap + i + BOUNDS_AHEAD);
    }
    const __m128i a32 = _mm_loadu_si128((const __m128i *)(const void *)(lab + i));
    __m256d gm, dc, hf;
    if (small) {
      const __m256i a2 = _mm256_permutevar8x32_epi32(_mm256_castsi128_si256(a32), spread);
      const __m256i pair =
          _mm256_add_epi32(_mm256_slli_epi32(_mm256_and_si256(a2, three), 1), halves);
      const __m256d upper = _mm256_castsi256_pd(
          _mm256_cmpgt_epi64(_mm256_cvtepi32_epi64(a32), _mm256_set1_epi64x(3)));
      gm = table8_avx2(gml, gmh, pair, upper);
      dc = table8_avx2(dcl, dch, pair, upper);
      hf = table8_avx2(hfl, hfh, pair, upper);
    } else {
      gm = _mm256_i32gather_pd(b->gmin, a32, 8);
      dc = _mm256_i32gather_pd(b->dcum, a32, 8);
      hf = _mm256_i32gather_pd(b->half, a32, 8);
    }
    const __m256d pass1 = _mm256_cmp_pd(_mm256_cvtps_pd(_mm_loadu_ps(gap + i)), gm, _CMP_GT_OQ);
    const __m256d s = _mm256_add_pd(_mm256_cvtps_pd(_mm_loadu_ps(up + i)), dc);
    const __m256d sup = _mm256_castsi256_pd(_mm256_add_epi64(_mm256_castpd_si256(s), one));
    const __m256d pass2 = _mm256_cmp_pd(sup, hf, _CMP_LT_OQ);
    const unsigned fail = (unsigned)~_mm256_movemask_pd(_mm256_or_pd(pass1, pass2)) & 15u;
    const int64_t nb0 = nb;
    for (int r = 0; r < 4; r++) {
      out[nb] = i + r;
      nb += (fail >> r) & 1u;
    }
    /* Fetch the failing rows now, a batch ahead of their search. */
    for (int64_t q = nb0; b->x && q < nb; q++) {
      const double *pf = b->x + out[q] * b->dim;
      __builtin_prefetch(pf);
      __builtin_prefetch(pf + b->dim - 1);
    }
  }
  return nb + bounds_portable(b, lab, up, gap, i, end - i, out + nb);
}

/* The trial potentials with AVX2: a row's four distances in one register,
 * the candidates' columns in registers (up to 16 columns). Separate multiply
 * and add (no FMA), in d order per lane, then min, scale and add per lane
 * as trials_portable does: the same bits. */
__attribute__((target("avx2"))) static void trials_avx2(const double *x, int64_t n, int64_t dim,
                                                        const double *ctg, const double *w,
                                                        const double *wt, double p[4]) {
  enum { CREG = 16 };
  __m256d c[CREG];
  const int64_t dr = dim < CREG ? dim : CREG;
  for (int64_t d = 0; d < dr; d++) c[d] = _mm256_loadu_pd(ctg + d * 4);
  __m256d acc = _mm256_loadu_pd(p);
  for (int64_t i = 0; i < n; i++) {
    const double *xi = x + i * dim;
    __m256d a = _mm256_setzero_pd();
    for (int64_t d = 0; d < dr; d++) {
      const __m256d t = _mm256_sub_pd(_mm256_set1_pd(xi[d]), c[d]);
      a = _mm256_add_pd(a, _mm256_mul_pd(t, t));
    }
    for (int64_t d = dr; d < dim; d++) {
      const __m256d t = _mm256_sub_pd(_mm256_set1_pd(xi[d]), _mm256_loadu_pd(ctg + d * 4));
      a = _mm256_add_pd(a, _mm256_mul_pd(t, t));
    }
    /* minpd(a, w) is a < w ? a : w, the scalar form's choice. */
    a = _mm256_min_pd(a, _mm256_set1_pd(w[i]));
    if (wt) a = _mm256_mul_pd(a, _mm256_set1_pd(wt[i]));
    acc = _mm256_add_pd(acc, a);
  }
  _mm256_storeu_pd(p, acc);
}

/* 2: AVX-512, 1: AVX2 + FMA, 0: portable. */
static int simd_level(void) {
  static int known = -1;
  if (known < 0) {
    __builtin_cpu_init();
    if (ps_env_flag("POPSEG_KMEANS_PORTABLE", 0))
      known = 0;
    else if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") &&
             !ps_env_flag("POPSEG_KMEANS_NO_AVX512", 0))
      known = 2;
    else if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
      known = 1;
    else
      known = 0;
  }
  return known;
}

int ps_km_nearest_simd(void) {
  return simd_level();
}
#else
static int simd_level(void) {
  return 0;
}
int ps_km_nearest_simd(void) {
  return 0;
}
#endif

/* The BLAS form: a block of rows' scores from one dgemm. */
static void blas_rows(const ps_km_nearest_t *w, const double *x, const int64_t *idx, int64_t n,
                      int32_t *lab, double *d2, double *ub2, double *lb2) {
  const int64_t dim = w->dim, k = w->k;
  int32_t scratch;
  for (int64_t i0 = 0; i0 < n; i0 += w->rows) {
    const int64_t b = n - i0 < w->rows ? n - i0 : w->rows;
    for (int64_t i = 0; i < b; i++)
      for (int64_t d = 0; d < dim; d++)
        w->xb[i * dim + d] = x[(idx ? idx[i0 + i] : i0 + i) * dim + d] - w->shift[d];
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)b, (int)k, (int)dim, 1.0, w->xb,
                (int)dim, w->cc, (int)dim, 0.0, w->s, (int)k);
    for (int64_t i = 0; i < b; i++) {
      const double *si = w->s + i * k, *xs = w->xb + i * dim;
      double bs = INFINITY, xn = 0.0;
      for (int64_t j = 0; j < k; j++) bs = w->cn[j] - si[j] < bs ? w->cn[j] - si[j] : bs;
      for (int64_t d = 0; d < dim; d++) xn += xs[d] * xs[d];
      const double err = TIE_REL * (0.5 * xn + w->cnmax), thr = bs + err;
      /* Candidates in ascending order; more than 64 of them are rare enough
       * for the exact loop over all. */
      double bd = 0.0, m2 = INFINITY;
      int64_t best = -1;
      for (int64_t j = 0; j < k; j++) {
        if (w->cn[j] - si[j] > thr) continue;
        double dj = ps_km_sqdist(x + (idx ? idx[i0 + i] : i0 + i) * dim, w->c + j * dim, dim);
        if (best < 0 || dj < bd) {
          best = j;
          bd = dj;
        }
      }
      (lab ? lab : &scratch)[lab ? i0 + i : 0] = (int32_t)best;
      if (d2) d2[i0 + i] = bd;
      if (ub2) ub2[i0 + i] = 2.0 * (w->cn[best] - si[best] + err) + xn;
      if (lb2) {
        for (int64_t j = 0; j < k; j++)
          if (j != best && w->cn[j] - si[j] < m2) m2 = w->cn[j] - si[j];
        double b = 2.0 * (m2 - err) + xn;
        lb2[i0 + i] = b > 0 ? b : 0.0;
      }
    }
  }
}

void ps_km_nearest_rows(const ps_km_nearest_t *w, const double *x, int64_t n, int32_t *lab,
                        double *d2) {
  ps_km_nearest_rows_lb(w, x, NULL, n, lab, d2, NULL, NULL);
}

void ps_km_nearest_rows_lb(const ps_km_nearest_t *w, const double *x, const int64_t *idx, int64_t n,
                           int32_t *lab, double *d2, double *ub2, double *lb2) {
  if (n <= 0) return;
  if (!w->lanes) {
    blas_rows(w, x, idx, n, lab, d2, ub2, lb2);
    return;
  }
#if defined(__x86_64__) && defined(__GNUC__)
  /* The padding lanes of AVX-512 groups: kpad is a multiple of 4, the
   * AVX-512 form reads multiples of 8 (the workspace has room, see alloc). */
  if (simd_level() == 2) {
    int64_t done = 0;
    if (rows8_ok(w->dim)) {
      /* Sixteen rows at a time in single precision, then eight in double
       * from where it stopped. */
      if (ps_km_nearest_f32_used(w)) done = rows16_avx512_any(w, x, idx, n, lab, d2, ub2, lb2);
      done = rows_avx512_any(w, x, idx, done, n, lab, d2, ub2, lb2);
    }
    if (done < n)
      lanes_avx512_any(w, idx ? x : x + done * w->dim, idx ? idx + done : NULL, n - done,
                       lab ? lab + done : NULL, d2 ? d2 + done : NULL, ub2 ? ub2 + done : NULL,
                       lb2 ? lb2 + done : NULL);
    return;
  }
  if (simd_level() == 1) {
    /* Eight rows at a time in single precision, the rest one at a time. */
    const int64_t done =
        ps_km_nearest_f32_used(w) ? rows8f_avx2_any(w, x, idx, n, lab, d2, ub2, lb2) : 0;
    if (done < n)
      lanes_avx2_any(w, idx ? x : x + done * w->dim, idx ? idx + done : NULL, n - done,
                     lab ? lab + done : NULL, d2 ? d2 + done : NULL, ub2 ? ub2 + done : NULL,
                     lb2 ? lb2 + done : NULL);
    return;
  }
#endif
  lanes_portable(w, x, idx, n, lab, d2, ub2, lb2);
}

int64_t ps_km_bounds_step(const ps_km_bounds_t *b, const int32_t *lab, const float *up,
                          const float *gap, int64_t i0, int64_t m, int64_t *out) {
#if defined(__x86_64__) && defined(__GNUC__)
  if (simd_level() == 2) return bounds_avx512(b, lab, up, gap, i0, m, out);
  if (simd_level() == 1) return bounds_avx2(b, lab, up, gap, i0, m, out);
#endif
  return bounds_portable(b, lab, up, gap, i0, m, out);
}

int ps_km_bounds_store_rows(void) {
#if defined(__x86_64__) && defined(__GNUC__)
  static int v = -1;
  if (v < 0) {
    __builtin_cpu_init();
    v = simd_level() > 0 && ps_env_flag("POPSEG_KMEANS_BOUNDS8", __builtin_cpu_is("amd"))
            ? (simd_level() == 2 ? 8 : 4)
            : 0;
  }
  return v;
#else
  return 0;
#endif
}

void ps_km_bounds_store(const double *dcum, const double *mcum, const int64_t *idx, int64_t i0,
                        const int32_t *lab, const double *u2, const double *l2, int64_t n,
                        float *up, float *gap) {
  int64_t b = 0;
#if defined(__x86_64__) && defined(__GNUC__)
  const int rows = ps_km_bounds_store_rows();
  if (rows == 8) b = store_avx512(dcum, mcum, idx, i0, lab, u2, l2, n, up, gap);
  if (rows == 4) b = store_avx2(dcum, mcum, idx, i0, lab, u2, l2, n, up, gap);
#endif
  for (; b < n; b++)
    store_portable(dcum, mcum, idx ? idx[b] : i0 + b, lab[b], u2[b], l2[b], up, gap);
}

int ps_km_nearest_f32_used(const ps_km_nearest_t *w) {
#if defined(__x86_64__) && defined(__GNUC__)
  /* AVX-512's sixteen rows, or AVX2's eight. */
  const int rows = rows8_ok(w->dim) || rows4_ok(w->dim);
  return w->lanes && w->f32 && rows && !f32_off();
#else
  (void)w;
  return 0;
#endif
}

int ps_km_columns8_used(int64_t dim) {
#if defined(__x86_64__) && defined(__GNUC__)
  return rows8_ok(dim);
#else
  (void)dim;
  return 0;
#endif
}

int64_t ps_km_columns8(const double *x, int64_t n, int64_t dim, double *xc) {
#if defined(__x86_64__) && defined(__GNUC__)
  if (rows8_ok(dim)) return columns8_avx512_any(x, n, dim, xc);
#endif
  (void)x, (void)n, (void)dim, (void)xc;
  return 0;
}

void ps_km_dist_min(const double *x, int64_t n, int64_t dim, const double *c, double *w) {
  ps_km_dist_min_cols(x, NULL, 0, n, dim, c, w);
}

void ps_km_dist_min_cols(const double *x, const double *xc, int64_t nc, int64_t n, int64_t dim,
                         const double *c, double *w) {
  int64_t done = 0;
#if defined(__x86_64__) && defined(__GNUC__)
  if (rows8_ok(dim)) {
    if (nc > 0) done = dist_min_avx512_any(x, xc, nc, dim, c, w);
    done += dist_min_avx512_any(x + done * dim, NULL, n - done, dim, c, w + done);
  } else if (rows4_ok(dim)) {
    done = dist_min_avx2_any(x, n, dim, c, w);
  }
#endif
  (void)xc, (void)nc;
  dist_min_portable(x, done, n, dim, c, w);
}

void ps_km_sqdist_own(const double *x, int64_t n, int64_t dim, const double *c, int64_t k,
                      const int32_t *lab, double *d2) {
  int64_t i = 0;
#if defined(__x86_64__) && defined(__GNUC__)
  /* The gather's indices are int32: label x dim must fit. */
  if (rows8_ok(dim) && k * dim < INT_MAX) i = own_avx512_any(x, n, dim, c, k, lab, d2);
#else
  (void)k;
#endif
  for (; i < n; i++) d2[i] = ps_km_sqdist(x + i * dim, c + (int64_t)lab[i] * dim, dim);
}

void ps_km_trials4(const double *x, int64_t n, int64_t dim, const double *ctg, const double *w,
                   const double *wt, double p[4]) {
  ps_km_trials4_cols(x, NULL, 0, n, dim, ctg, w, wt, p);
}

void ps_km_trials4_cols(const double *x, const double *xc, int64_t nc, int64_t n, int64_t dim,
                        const double *ctg, const double *w, const double *wt, double p[4]) {
#if defined(__x86_64__) && defined(__GNUC__)
  int64_t done = 0;
  if (rows8_ok(dim)) {
    if (nc > 0) done = trials_avx512_any(x, xc, nc, dim, ctg, w, wt, p);
    done += trials_avx512_any(x + done * dim, NULL, n - done, dim, ctg, w + done,
                              wt ? wt + done : NULL, p);
  }
  if (simd_level() >= 1) {
    trials_avx2(x + done * dim, n - done, dim, ctg, w + done, wt ? wt + done : NULL, p);
    return; /* AVX-512 implies AVX2: the rows past done */
  }
#endif
  (void)xc, (void)nc;
  trials_portable(x, n, dim, ctg, w, wt, p);
}
