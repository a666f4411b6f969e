/* kmeans_nearest.h - the nearest of k centres for every row: the inner loop
 * of k-means (part of the k-means stage; not collective).
 *
 * Every label is the exact argmin of the squared Euclidean distance computed
 * as sqdist() does (a sum over the columns in order), ties to the lowest
 * centre index. It is found fast with the dot form ||c||^2 / 2 - x.c in
 * coordinates shifted by the centres' mean (SIMD lanes over centres for small
 * k and dimension, AVX2 + FMA when the processor has them; with up to 16
 * columns, lanes over rows first: AVX-512 sixteen in single precision, or
 * eight in double, AVX2 eight in single precision; BLAS3 blocks otherwise);
 * every score within a relative
 * window of the best far wider than that form's rounding (1e-12 in double,
 * 2^-16 in single precision) is re-decided by the exact distance. So every
 * form, every instruction set and every rank count give the same labels.
 */
#ifndef POPSEG_KMEANS_NEAREST_H
#define POPSEG_KMEANS_NEAREST_H

#include <stdint.h>

typedef struct {
  int64_t kmax, dim, k;
  int lanes;       /* 1: the SIMD lanes form; 0: BLAS3 blocks */
  int64_t kpad;    /* lanes form: k rounded up to a multiple of 4 */
  int64_t rows;    /* BLAS form: rows per block */
  double *shift;   /* [dim] mean of the centres */
  double *cn;      /* [kmax or kpad] 0.5 ||c - shift||^2 (lanes: padding +inf) */
  double *cc;      /* BLAS: [kmax][dim] shifted centres; lanes: [dim][kpad] transposed */
  double *xb;      /* BLAS: [rows][dim] shifted rows */
  double *s;       /* BLAS: [rows][kmax] dot products */
  double cnmax;    /* the largest cn */
  const double *c; /* the centres [k][dim] given to prep */
  float *cnf;      /* lanes: [kpad] cn as floats, for the single-precision rows form */
  float *ccf;      /* lanes: [dim][kpad] cc as floats */
  int f32;         /* 1: the centres fit the single-precision rows form (prep) */
} ps_km_nearest_t;

/* Workspace for up to kmax centres of dim columns; 0 when out of memory. */
int ps_km_nearest_alloc(ps_km_nearest_t *w, int64_t kmax, int64_t dim);
void ps_km_nearest_free(ps_km_nearest_t *w);
/* Prepare k <= kmax centres c [k][dim]; c must stay valid while rows are searched. */
void ps_km_nearest_prep(ps_km_nearest_t *w, const double *c, int64_t k);
/* For each of the n rows of x [n][dim]: the nearest prepared centre into lab
 * (may be NULL) and, if d2 is not NULL, the exact squared distance to it. */
void ps_km_nearest_rows(const ps_km_nearest_t *w, const double *x, int64_t n, int32_t *lab,
                        double *d2);
/* As ps_km_nearest_rows for the rows idx[0..n) of x (idx NULL: rows 0..n-1),
 * and bounds from the scores (each may be NULL): ub2 [n] an upper bound on
 * each row's squared distance to its own centre, lb2 [n] a lower bound on the
 * distance to every other (+inf for k = 1). The pruned k-means keeps its
 * bounds with them. */
void ps_km_nearest_rows_lb(const ps_km_nearest_t *w, const double *x, const int64_t *idx, int64_t n,
                           int32_t *lab, double *d2, double *ub2, double *lb2);
/* The squared distance summed in four interleaved parts: not the exact
 * order (a few ulps off), for bounds only. */
double ps_km_sqdist_fast(const double *a, const double *b, int64_t dim);
/* The exact squared distance (the sum over d in order). */
double ps_km_sqdist(const double *a, const double *b, int64_t dim);
/* d2[i] = sqdist(x_i, centre lab[i]) for the rows x [n][dim], the centres
 * c [k][dim]: sqdist's bits (AVX-512 eight rows at a time for dim <= 16). */
void ps_km_sqdist_own(const double *x, int64_t n, int64_t dim, const double *c, int64_t k,
                      const int32_t *lab, double *d2);
/* Which kernel runs on this processor (for the record): 2 AVX-512, 1 AVX2 +
 * FMA, 0 portable. POPSEG_KMEANS_PORTABLE=1 in the environment forces the
 * portable one, POPSEG_KMEANS_NO_AVX512=1 the AVX2 one,
 * POPSEG_KMEANS_NO_ROWS=1 leaves out the rows forms (AVX-512's and AVX2's)
 * and POPSEG_KMEANS_NO_F32=1 the single-precision rows forms (the tests run
 * each). */
int ps_km_nearest_simd(void);
/* Whether ps_km_nearest_rows_lb searches w's prepared centres with a
 * single-precision rows form (AVX-512 or AVX2, up to 16 columns, centres
 * that fit). */
int ps_km_nearest_f32_used(const ps_km_nearest_t *w);

/* k-means++'s trials, four candidates at once: for the rows x [n][dim] in
 * order, p[l] += min(sqdist(x_i, cand_l), w[i]), times wt[i] when wt is not
 * NULL. ctg [dim][4] holds the candidates in lanes (ctg[d * 4 + l]). Every
 * distance is summed over d in order and every p[l] over the rows in order,
 * with separate multiplies and adds: the same bits on every instruction set
 * (AVX-512 eight rows in the lanes for dim <= 16, then AVX2 four candidates
 * in the lanes, portable otherwise). */
void ps_km_trials4(const double *x, int64_t n, int64_t dim, const double *ctg, const double *w,
                   const double *wt, double p[4]);
/* w[i] = min(w[i], sqdist(x_i, c)) for the rows x [n][dim] (sqdist's sum;
 * AVX-512 eight rows in the lanes, AVX2 four, for dim <= 16). */
void ps_km_dist_min(const double *x, int64_t n, int64_t dim, const double *c, double *w);
/* The rows x [n][dim] as columns of eight rows, for the two kernels above
 * when several kernels read the same rows (k-means++ in lockstep, or a run's
 * more than four trials): xc [n][dim],
 * each group of eight rows' columns in turn (xc[8 g dim + 8 d + r] = x[8 g +
 * r][d]). Returns the rows laid out, a multiple of 8 (0 where the kernels do
 * not read columns: no AVX-512, dim > 16 or POPSEG_KMEANS_NO_ROWS). */
int64_t ps_km_columns8(const double *x, int64_t n, int64_t dim, double *xc);
/* Whether ps_km_columns8 lays out anything for dim columns (and the kernels
 * above read columns): callers allocate xc only then. */
int ps_km_columns8_used(int64_t dim);
/* ps_km_trials4 and ps_km_dist_min with the first nc rows of x also as
 * columns xc (ps_km_columns8's; nc 0: none), which skips their transposes:
 * the same bits. */
void ps_km_trials4_cols(const double *x, const double *xc, int64_t nc, int64_t n, int64_t dim,
                        const double *ctg, const double *w, const double *wt, double p[4]);
void ps_km_dist_min_cols(const double *x, const double *xc, int64_t nc, int64_t n, int64_t dim,
                         const double *c, double *w);

/* Hamerly's bounds, carried from one assignment to the next as offsets from
 * each centre's cumulative drifts (Dc[a]: the sum of a's drifts since the
 * run began, Mc[a]: the sum of the largest drift of the other centres), so a
 * row that passes is only read: up = u - Dc[a] and gap = l margin - u + Dc[a]
 * + Mc[a], as of the search that bounded it (u the upper bound on its
 * distance to its centre a, l the lower bound on every other's, Euclidean;
 * the kmeans stage writes them, rounded outward). Its centre is still the
 * nearest if the drifts since then have not closed the gap, gap > Dc[a] +
 * Mc[a] now, or if its upper bound up + Dc[a] is below half the distance
 * from a to the nearest other centre (times the margin). */
typedef struct {
  int64_t k;
  const double *gmin; /* [k] the first test's threshold: Dc[a] + Mc[a], rounded up */
  const double *dcum; /* [k] Dc[a] */
  const double *half; /* [k] half the distance to the nearest other centre, deflated, x margin */
  const double *x;    /* [n][dim] the rows, fetched ahead when they fail (NULL: not) */
  int64_t dim;
  int64_t n; /* the rows: lab, up and gap are fetched ahead up to n */
} ps_km_bounds_t;

/* Bound safety: an upper bound is inflated, a lower one deflated, by far more
 * than the rounding of the distances (a few ulps), and a row is skipped only
 * when its bounds separate its centre from the others by a relative margin:
 * then the exact distances order the same way, and the label is Lloyd's. */
#define PS_KM_UP (1.0 + 1e-13)
#define PS_KM_DOWN (1.0 - 1e-13)
#define PS_KM_MARGIN (1.0 - 1e-11)

/* The writer's side: for the n searched rows b, row r = idx[b] (idx NULL:
 * i0 + b) with nearest centre lab[b] and squared bounds u2[b], l2[b] from
 * ps_km_nearest_rows_lb (l2 +inf: k = 1), store up[r] = u - Dc[a] and gap[r]
 * = l margin - u + Dc[a] + Mc[a] (dcum, mcum [k]) as floats rounded outward
 * (gap +inf for k = 1). The same bits on every instruction set: AVX-512
 * eight rows at a time, AVX2 four, where ps_km_bounds_store_rows says so,
 * one row at a time otherwise and for the last rows of a batch. */
void ps_km_bounds_store(const double *dcum, const double *mcum, const int64_t *idx, int64_t i0,
                        const int32_t *lab, const double *u2, const double *l2, int64_t n,
                        float *up, float *gap);
/* The rows ps_km_bounds_store computes at a time: 8 with AVX-512 and 4 with
 * AVX2 on an AMD processor, where they measured faster (AVX-512 on an Intel
 * Xeon VM measured slower: bench/README.md), else 0 (one at a time).
 * POPSEG_KMEANS_BOUNDS8=1 / 0 in the environment forces the vector form on
 * (where AVX2 or AVX-512 runs) / off, for the tests and the A/B. */
int ps_km_bounds_store_rows(void);

/* For rows i0 .. i0 + m - 1 with centre lab[i] and offset bounds up[i],
 * gap[i]: a row that passes neither test (gap[i] > gmin[a]; the next double
 * above up[i] + dcum[a] below half[a]) may have a nearer centre, and its
 * index goes to out (in row order) and, x given, its row is fetched into the
 * cache ahead of the search. Returns how many did. Reads the bounds, never
 * writes them. The same bits on every instruction set (AVX-512 eight rows at
 * a time, AVX2 four, portable otherwise). */
int64_t ps_km_bounds_step(const ps_km_bounds_t *b, const int32_t *lab, const float *up,
                          const float *gap, int64_t i0, int64_t m, int64_t *out);
/* The next double above v >= 0 (+0 included): an upper bound on a sum
 * rounded to nearest. */
double ps_km_next_up(double v);

#endif
