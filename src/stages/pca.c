/* pca.c - principal component analysis of a row-distributed matrix.
 *
 * Fit: the column means come from one sum-reduction; each rank then subtracts
 * the global mean from its rows block by block and accumulates the centred
 * cross-product with dsyrk (BLAS3). The upper triangles and the centred
 * column sums (which correct for the rounding of the mean) are combined in one
 * reduction, so the covariance stays accurate for unscaled data with large
 * means. The d x d eigenproblem is solved by LAPACK on rank 0 (broadcast) or
 * by ScaLAPACK on a 2-D grid; every rank then post-processes the same
 * eigenpairs identically (sort, clip, sign convention, variance ratios).
 */
#include "popseg/pca.h"

#include <cblas.h>
#include <lapacke.h>
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "popseg/cpus.h"
#include "popseg/mem.h"
#include "popseg/opt.h"
#include "popseg/reduce.h"
#include "popseg/scalapack.h"
#include "popseg/stats.h"

static const ps_opt_choice_t solver_choices[] = {
    {"auto", PS_PCA_AUTO}, {"lapack", PS_PCA_LAPACK}, {"scalapack", PS_PCA_SCALAPACK}, {NULL, 0}};

#define PO(f) offsetof(ps_pca_opts_t, f)
const ps_opt_t ps_pca_options[] = {
    {.flag = "--pca-components",
     .field = "n_components",
     .kind = PS_OPT_I64,
     .offset = PO(n_components),
     .min = 1,
     .max = 1e15,
     .metavar = "P",
     .help = "components to fit (default min(rows, features))"},
    {.flag = "--pca-keep",
     .field = "keep",
     .kind = PS_OPT_I64,
     .offset = PO(keep),
     .min = 1,
     .max = 1e15,
     .metavar = "K",
     .help = "components to keep (default: by --pca-variance)"},
    {.flag = "--pca-variance",
     .field = "variance",
     .kind = PS_OPT_DOUBLE,
     .offset = PO(variance),
     .min = 0,
     .max = 1,
     .flags = PS_OPT_MIN_OPEN,
     .def = "0.80",
     .metavar = "F",
     .help = "keep the fewest components whose cumulative variance ratio reaches F"},
    {.flag = "--pca-solver",
     .field = "solver",
     .kind = PS_OPT_CHOICE,
     .offset = PO(solver),
     .def = "auto",
     .choices = solver_choices,
     .help = "eigen-solver: LAPACK on one rank, ScaLAPACK on a 2-D grid, or auto"},
    {.flag = "--pca-auto-threshold",
     .field = "auto_threshold",
     .kind = PS_OPT_I64,
     .offset = PO(auto_threshold),
     .min = 1,
     .max = 1e15,
     .def = "1000",
     .metavar = "D",
     .help = "auto uses ScaLAPACK from D features on"},
    {.flag = "--pca-block-size",
     .field = "block_size",
     .kind = PS_OPT_INT,
     .offset = PO(block_size),
     .min = 1,
     .max = 4096,
     .def = "64",
     .metavar = "NB",
     .help = "ScaLAPACK block size"},
    {0}};
#undef PO

void ps_pca_opts_default(ps_pca_opts_t *o) {
  memset(o, 0, sizeof *o);
  ps_opt_defaults(ps_pca_options, o);
}

const char *ps_pca_solver_name(ps_pca_solver_t s) {
  return ps_opt_choice_name(ps_opt_find_field(ps_pca_options, "solver"), (int)s);
}

ps_err_t ps_pca_solver_parse(const char *s, ps_pca_solver_t *out) {
  for (const ps_opt_choice_t *c = solver_choices; s && c->name; c++)
    if (!strcmp(s, c->name)) {
      *out = (ps_pca_solver_t)c->value;
      return PS_OK;
    }
  return PS_ERR_ARG;
}

ps_err_t ps_pca_create(int64_t d, int64_t p, ps_pca_t **out) {
  ps_err_t err = PS_OK;
  ps_pca_t *pca = NULL;
  *out = NULL;
  PS_CHECK(d >= 0 && p >= 0, PS_ERR_INTERNAL, "negative PCA shape %lld x %lld", (long long)p,
           (long long)d);
  pca = calloc(1, sizeof *pca);
  PS_CHECK_ALLOC(pca);
  pca->d = d;
  pca->p = p;
  pca->n_kept = p;
  pca->solver_used = PS_PCA_LAPACK;
  pca->grid_rows = pca->grid_cols = 1;
  size_t sd = (size_t)(d > 0 ? d : 1), sp = (size_t)(p > 0 ? p : 1);
  pca->mean = calloc(sd, sizeof(double));
  PS_CHECK_ALLOC(pca->mean);
  pca->components = calloc(sp * sd, sizeof(double));
  PS_CHECK_ALLOC(pca->components);
  pca->explained_variance = calloc(sp, sizeof(double));
  PS_CHECK_ALLOC(pca->explained_variance);
  pca->explained_variance_ratio = calloc(sp, sizeof(double));
  PS_CHECK_ALLOC(pca->explained_variance_ratio);
  pca->singular_values = calloc(sp, sizeof(double));
  PS_CHECK_ALLOC(pca->singular_values);
  *out = pca;
  pca = NULL;
cleanup:
  ps_pca_destroy(&pca);
  return err;
}

void ps_pca_destroy(ps_pca_t **pca) {
  if (!pca || !*pca) return;
  free((*pca)->mean);
  free((*pca)->components);
  free((*pca)->explained_variance);
  free((*pca)->explained_variance_ratio);
  free((*pca)->singular_values);
  free(*pca);
  *pca = NULL;
}

/* Not collective, same verdict on every rank (n, d and opts are global).
 * The ranges come from ps_pca_options; what depends on the data is checked
 * here. Sets *p to the number of components to fit. */
static ps_err_t validate(int64_t n, int64_t d, const ps_pca_opts_t *o, int64_t *p) {
  ps_err_t err = PS_OK;
  int64_t mnd = n < d ? n : d;
  PS_CHECK(n >= 2, PS_ERR_ARG, "PCA needs at least 2 rows, got %lld", (long long)n);
  PS_CHECK(d >= 1, PS_ERR_ARG, "PCA needs at least 1 feature, got %lld", (long long)d);
  /* LAPACK and ScaLAPACK take 32-bit sizes: dsyevd's workspace 1 + 6d + 2d^2
   * must fit in an int, and so must the BLAS dimensions. */
  PS_CHECK(d <= PS_PCA_MAX_FEATURES, PS_ERR_ARG,
           "PCA: %lld features is more than popseg can solve (at most %d: LAPACK's 32-bit "
           "workspace sizes, and the %lld x %lld covariance is held on every rank)",
           (long long)d, PS_PCA_MAX_FEATURES, (long long)d, (long long)d);
  /* 0 means "not set" for n_components and keep: the table's range applies
   * to the values a user can set. */
  {
    ps_pca_opts_t set = *o;
    if (!set.n_components) set.n_components = 1;
    if (!set.keep) set.keep = 1;
    PS_TRY(ps_opt_validate(ps_pca_options, "pca", "PCA", &set));
  }
  PS_CHECK_OPT(o->n_components <= mnd, PS_ERR_ARG, "pca.n_components",
               "PCA: n_components = %lld is more than min(rows, features) = min(%lld, %lld) = "
               "%lld",
               (long long)o->n_components, (long long)n, (long long)d, (long long)mnd);
  *p = o->n_components > 0 ? o->n_components : mnd;
  PS_CHECK_OPT(o->keep <= *p, PS_ERR_ARG, "pca.keep",
               "PCA: keep = %lld is more than the %lld components %s", (long long)o->keep,
               (long long)*p,
               o->n_components > 0 ? "fitted (n_components)" : "there are: min(rows, features)");
cleanup:
  return err;
}

/* Not collective. LAPACK on the full symmetric matrix a[d][d] (overwritten):
 * w ascending, z[d][d] with ROW i = eigenvector of w[i]. */
static ps_err_t lapack_syevd(double *a, int64_t d, double *w, double *z) {
  ps_err_t err = PS_OK;
  lapack_int info = LAPACKE_dsyevd(LAPACK_ROW_MAJOR, 'V', 'U', (lapack_int)d, a, (lapack_int)d, w);
  PS_CALL_LAPACK("LAPACKE_dsyevd", info);
  /* Row-major output holds the eigenvectors in columns. */
  for (int64_t i = 0; i < d; i++)
    for (int64_t j = 0; j < d; j++) z[i * d + j] = a[j * d + i];
cleanup:
  return err;
}

int64_t ps_pca_sign_pivot(const double *v, int64_t d) {
  double mx = 0.0;
  for (int64_t j = 0; j < d; j++)
    if (fabs(v[j]) > mx) mx = fabs(v[j]);
  /* Loadings equal up to rounding (solvers and rank counts differ in the last
   * bits) would otherwise let the sign flip between runs: the first loading
   * within PS_PCA_SIGN_RTOL of the largest decides. */
  for (int64_t j = 0; j < d; j++)
    if (fabs(v[j]) >= mx * (1.0 - PS_PCA_SIGN_RTOL)) return j;
  return 0;
}

/* Fix the sign of v[d]: the pivot entry (ps_pca_sign_pivot) becomes positive. */
static void fix_sign(double *v, int64_t d) {
  if (d > 0 && v[ps_pca_sign_pivot(v, d)] < 0)
    for (int64_t j = 0; j < d; j++) v[j] = -v[j];
}

void ps_pca_canonical_basis(double *v, int64_t m, int64_t d, double *scratch) {
  /* In the coordinates of the span: row j of A [d][m] is (v_0[j], .., v_{m-1}[j]),
   * so P e_j = V^T a_j and |P e_j| = |a_j|. The output rows go to out [m][d]. */
  double *a = scratch, *q = scratch + d * m, *out = q + m;
  if (m < 2 || d < 1) return;
  for (int64_t j = 0; j < d; j++)
    for (int64_t r = 0; r < m; r++) a[j * m + r] = v[r * d + j];
  for (int64_t r = 0; r < m; r++) {
    /* The axis with the largest remaining projection (near-ties: the lowest). */
    int64_t best = 0;
    double bn = -1.0;
    for (int64_t j = 0; j < d; j++) {
      double s = 0.0;
      for (int64_t t = 0; t < m; t++) s += a[j * m + t] * a[j * m + t];
      if (s > bn * (1.0 + 1e-9)) {
        bn = s;
        best = j;
      }
    }
    const double nb = sqrt(bn > 0 ? bn : 0.0);
    for (int64_t t = 0; t < m; t++) q[t] = nb > 0 ? a[best * m + t] / nb : 0.0;
    double *o = out + r * d;
    for (int64_t i = 0; i < d; i++) {
      double s = 0.0;
      for (int64_t t = 0; t < m; t++) s += q[t] * v[t * d + i];
      o[i] = s;
    }
    fix_sign(o, d);
    /* Remove the chosen direction from every axis's projection. */
    for (int64_t j = 0; j < d; j++) {
      double dot = 0.0;
      for (int64_t t = 0; t < m; t++) dot += a[j * m + t] * q[t];
      for (int64_t t = 0; t < m; t++) a[j * m + t] -= dot * q[t];
    }
  }
  memcpy(v, out, (size_t)(m * d) * sizeof *v);
}

/* Not collective; the same verdict on every rank (cov is the reduced
 * matrix). Off-diagonal entries are bounded by the diagonal ones
 * (Cauchy-Schwarz), so a finite total means a finite matrix up to rounding;
 * checked anyway. */
static ps_err_t check_covariance(const double *cov, int64_t d, ps_pca_t *pca) {
  int64_t bad = -1;
  pca->total_variance = 0.0;
  for (int64_t j = 0; j < d; j++) pca->total_variance += cov[j * d + j];
  for (int64_t q = 0; q < d * d && bad < 0; q++)
    if (!isfinite(cov[q])) bad = q / d;
  if (bad >= 0)
    return ps_error_opt(PS_ERR_NUMERIC, __FILE__, __LINE__, "scale.kind",
                        "PCA: the covariance of feature %lld of %lld is not finite (values too "
                        "large for double sums); scale the data (minmax)",
                        (long long)bad + 1, (long long)d);
  if (!isfinite(pca->total_variance))
    return ps_error_opt(PS_ERR_NUMERIC, __FILE__, __LINE__, "scale.kind",
                        "PCA: the total variance of the %lld features overflows a double; scale "
                        "the data (minmax or standard)",
                        (long long)d);
  if (!(pca->total_variance > 0.0))
    return ps_error(PS_ERR_NUMERIC, __FILE__, __LINE__,
                    "PCA: the %lld features have zero total variance (every feature is constant)",
                    (long long)d);
  return PS_OK;
}

/* Collective. Eigenpairs of cov on every rank: w [d] ascending, z [d][d] with
 * the top p eigenvectors in its last p rows. */
static ps_err_t solve(double *cov, int64_t d, int64_t p, const ps_pca_opts_t *opts, ps_pca_t *pca,
                      double *w, double *z, MPI_Comm comm) {
  ps_err_t err = PS_OK;
  int rank;
  MPI_Comm_rank(comm, &rank);
  ps_pca_solver_t solver = opts->solver;
  if (solver == PS_PCA_AUTO) solver = d >= opts->auto_threshold ? PS_PCA_SCALAPACK : PS_PCA_LAPACK;
  pca->solver_used = solver;
  if (solver == PS_PCA_SCALAPACK) {
    PS_TRY(
        ps_scalapack_syevd(cov, d, opts->block_size, comm, w, z, &pca->grid_rows, &pca->grid_cols));
  } else {
    pca->grid_rows = pca->grid_cols = 1;
    if (rank == 0) err = lapack_syevd(cov, d, w, z);
    PS_AGREE(comm);
    /* Only the top p eigenvectors (the last p rows) are needed elsewhere. */
    PS_TRY(ps_bcast_double(w, d, 0, comm));
    PS_TRY(ps_bcast_double(z + (d - p) * d, p * d, 0, comm));
  }
  /* n_kept must be the same everywhere: take rank 0's trace rather than rely
   * on the reduction giving bit-identical sums on every rank. */
  PS_TRY(ps_bcast_double(&pca->total_variance, 1, 0, comm));
cleanup:
  return err;
}

/* Not collective, identical on every rank (same w, z and trace): sort by
 * decreasing variance, clip, fix signs, ratios, and the number kept. */
static void components(const double *w, const double *z, double denom, const ps_pca_opts_t *opts,
                       ps_pca_t *pca) {
  const int64_t d = pca->d, p = pca->p;
  double cum = 0.0;
  int64_t kept = 0;
  for (int64_t i = 0; i < p; i++) {
    int64_t src = d - 1 - i;
    double ev = w[src] > 0.0 ? w[src] : 0.0;
    double *comp = pca->components + i * d;
    memcpy(comp, z + src * d, (size_t)d * sizeof *comp);
    fix_sign(comp, d);
    pca->explained_variance[i] = ev;
    pca->explained_variance_ratio[i] = ev / pca->total_variance;
    pca->singular_values[i] = sqrt(ev * denom); /* n - 1, or the total weight */
    cum += pca->explained_variance_ratio[i];
    /* The tolerance lets a ratio that reaches the target exactly (0.8) count
     * despite rounding in the sum. */
    if (kept == 0 && cum >= opts->variance - 1e-12) kept = i + 1;
  }
  /* Fewer components fitted than the target needs: keep all of them. */
  if (kept == 0) kept = p;
  pca->n_kept = opts->keep > 0 ? opts->keep : kept;
  /* Degenerate eigenvalues: their eigenvectors are any rotation of one
   * space; give them its canonical basis, so that the components do not
   * depend on the solver's choice (or on the grid shape). */
  const double tol = PS_PCA_DEGENERATE_RTOL * (p > 0 ? pca->explained_variance[0] : 0.0);
  double *scratch = NULL;
  for (int64_t i = 0; i < p;) {
    int64_t j = i + 1;
    while (j < p && pca->explained_variance[j - 1] - pca->explained_variance[j] <= tol) j++;
    if (j - i >= 2) {
      free(scratch);
      scratch = malloc((size_t)((j - i) * (2 * d + 1)) * sizeof *scratch);
      if (scratch) ps_pca_canonical_basis(pca->components + i * d, j - i, d, scratch);
    }
    i = j;
  }
  free(scratch);
}

/* Not collective. The covariance and mean of the scaled features from the
 * raw statistics: scaling is affine, so cov_s[i][j] = cov[i][j] f_i f_j and
 * mean_s = (mean - offset) f (sc NULL: unscaled). */
static void scaled_moments(const ps_stats_t *st, const ps_scale_t *sc, double *cov, double *mean) {
  const int64_t d = st->d;
  for (int64_t i = 0; i < d; i++) {
    const double fi = sc ? sc->factor[i] : 1.0;
    mean[i] = sc ? (st->mean[i] - sc->offset[i]) * fi : st->mean[i];
    /* The statistics are in units (stats.h): the factor times the unit first,
     * which stays representable when the raw covariance is not. */
    for (int64_t j = 0; j < d; j++)
      cov[i * d + j] =
          st->cov[i * d + j] * (fi * st->unit[i]) * ((sc ? sc->factor[j] : 1.0) * st->unit[j]);
  }
}

ps_err_t ps_pca_fit_stats(const ps_stats_t *st, const ps_scale_t *sc, const ps_pca_opts_t *opts,
                          MPI_Comm comm, ps_pca_t **out) {
  ps_err_t err = PS_OK;
  ps_pca_t *pca = NULL;
  int64_t n = st->n, d = st->d, p = 0;
  double *cov = NULL; /* [d][d] */
  double *w = NULL;   /* [d] eigenvalues, ascending */
  double *z = NULL;   /* [d][d] eigenvectors in rows */
  *out = NULL;
  err = validate(n, d, opts, &p);
  if (err == PS_OK) {
    err = ps_pca_create(d, p, &pca);
    cov = malloc((size_t)(d * d) * sizeof *cov);
    w = calloc((size_t)d, sizeof *w);
    z = calloc((size_t)(d * d), sizeof *z);
    if (err == PS_OK && (!cov || !w || !z || !st->cov))
      err =
          ps_error(st->cov ? PS_ERR_MEM : PS_ERR_INTERNAL, __FILE__, __LINE__,
                   "out of memory for the %lld x %lld PCA covariance", (long long)d, (long long)d);
  }
  PS_AGREE(comm);
  pca->n_samples = n;
  scaled_moments(st, sc, cov, pca->mean);
  err = check_covariance(cov, d, pca);
  PS_AGREE(comm);
  PS_TRY(solve(cov, d, p, opts, pca, w, z, comm));
  components(w, z, st->denom, opts, pca);
  *out = pca;
  pca = NULL;
cleanup:
  ps_pca_destroy(&pca);
  free(cov);
  free(w);
  free(z);
  return err;
}

ps_err_t ps_pca_check(int64_t n, int64_t d, const ps_pca_opts_t *opts, MPI_Comm comm) {
  ps_err_t err = PS_OK;
  int64_t p = 0;
  err = validate(n, d, opts, &p);
  PS_AGREE(comm);
cleanup:
  return err;
}

ps_err_t ps_pca_fit(const ps_matrix_t *x, const ps_pca_opts_t *opts, MPI_Comm comm,
                    ps_pca_t **out) {
  ps_err_t err = PS_OK;
  ps_stats_t *st = NULL;
  int64_t p = 0;
  *out = NULL;
  /* The shape checks first, before any pass over the rows. */
  err = validate(x->n_global, x->n_cols, opts, &p);
  PS_AGREE(comm);
  PS_TRY(ps_stats_compute(x, 1, comm, &st));
  PS_TRY(ps_pca_fit_stats(st, NULL, opts, comm, out));
cleanup:
  ps_stats_destroy(&st);
  return err;
}

/* c[m][d] = (x - offset) * factor - mean (offset NULL: x - mean), row by
 * row; restrict lets the compiler vectorize across the columns (pca.o is
 * built with -O3), the same bits as the scalar loop. */
static void centre_rows(const double *restrict x, int64_t m, int64_t d,
                        const double *restrict offset, const double *restrict factor,
                        const double *restrict mean, double *restrict c) {
  for (int64_t i = 0; i < m; i++) {
    const double *restrict row = x + i * d;
    double *restrict ci = c + i * d;
    if (offset)
      for (int64_t j = 0; j < d; j++) ci[j] = (row[j] - offset[j]) * factor[j] - mean[j];
    else
      for (int64_t j = 0; j < d; j++) ci[j] = row[j] - mean[j];
  }
}

/* The fused projection's widest output: K accumulators of eight rows each
 * stay in registers beside a block of eight columns. */
#define PROJ_MAX_K 16

/* The fused projection of one row, the bits of the AVX-512 lanes: its
 * centred values as centre_rows makes them, then y[j] = the sum over the
 * columns in order of c[col] ct[col][j], one fused multiply-add each. */
static void project_row(const double *row, int64_t d, const double *offset, const double *factor,
                        const double *mean, const double *ct, int64_t k, double *y) {
  double acc[PROJ_MAX_K] = {0};
  for (int64_t col = 0; col < d; col++) {
    const double c =
        offset ? (row[col] - offset[col]) * factor[col] - mean[col] : row[col] - mean[col];
    for (int64_t j = 0; j < k; j++) acc[j] = fma(c, ct[col * k + j], acc[j]);
  }
  for (int64_t j = 0; j < k; j++) y[j] = acc[j];
}

#if defined(__x86_64__) && defined(__GNUC__)
#include "simd8.h"

/* The fused projection with AVX-512 for the rows of x [n][d], K (a
 * constant at every call, inlined) components: eight rows in the lanes,
 * their columns eight at a time from an in-register transpose (the rows 64
 * ahead fetched), each column centred as centre_rows does (the same
 * operations, so the same bits) and added into K accumulators with one
 * fused multiply-add each, in column order (project_row's bits); a second
 * transpose turns the K accumulators back into rows. One pass over the
 * rows, no scratch copy: the projection costs the read of x and the write
 * of y. Returns the first row not done (the rest are fewer than eight). */
__attribute__((target("avx512f"), always_inline)) static inline int64_t
project_avx512(const double *x, int64_t n, int64_t d, const double *offset, const double *factor,
               const double *mean, const double *ct, double *y, const int K) {
  const int64_t d8 = (d + 7) / 8 * 8;
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    __m512d acc[PROJ_MAX_K];
#pragma GCC unroll 16
    for (int j = 0; j < K; j++) acc[j] = _mm512_setzero_pd();
    const double *rp[8];
    for (int r = 0; r < 8; r++) rp[r] = x + (i + r) * d;
    ps_fetch_ahead8(x, i, d);
    /* Whole-register loads where they stay inside the n rows. */
    const int whole = (i + 7) * d + d8 <= n * d;
    for (int64_t c0 = 0; c0 < d; c0 += 8) {
      const int nc = d - c0 < 8 ? (int)(d - c0) : 8;
      __m512d t[8];
      ps_block8(rp, c0, nc, whole, t);
#pragma GCC unroll 8
      for (int q = 0; q < 8; q++) {
        if (q >= nc) break;
        const int64_t col = c0 + q;
        __m512d c = _mm512_sub_pd(t[q], _mm512_set1_pd(offset ? offset[col] : mean[col]));
        if (offset)
          c = _mm512_sub_pd(_mm512_mul_pd(c, _mm512_set1_pd(factor[col])),
                            _mm512_set1_pd(mean[col]));
#pragma GCC unroll 16
        for (int j = 0; j < K; j++)
          acc[j] = _mm512_fmadd_pd(c, _mm512_set1_pd(ct[col * K + j]), acc[j]);
      }
    }
    /* Back to rows: eight components at a time. */
#pragma GCC unroll 2
    for (int j0 = 0; j0 < K; j0 += 8) {
      const int nk = K - j0 < 8 ? K - j0 : 8;
      __m512d a[8], t[8];
#pragma GCC unroll 8
      for (int q = 0; q < 8; q++) a[q] = q < nk ? acc[j0 + q] : _mm512_setzero_pd();
      ps_transpose8(a, t);
      const __mmask8 mk = (__mmask8)((1u << nk) - 1);
#pragma GCC unroll 8
      for (int r = 0; r < 8; r++) _mm512_mask_storeu_pd(y + (i + r) * K + j0, mk, t[r]);
    }
  }
  return i;
}

/* The fused projection with AVX2 + FMA for the rows of x [n][d], K (a
 * constant at every call, inlined) components: a row's K components in the
 * lanes of (K + 3) / 4 registers, each column centred as project_row does
 * (scalar, the same operations) and broadcast into one fused multiply-add a
 * register, in column order: project_row's bits, so the AVX-512 form's. Two
 * rows at a time, so two chains of multiply-adds are in flight; the last
 * group of components (K not a multiple of 4) is loaded masked from ct [d][K]
 * and stored a value at a time (masked stores are slow on AMD's Zen). Returns
 * the rows done (an even count). */
__attribute__((target("avx2,fma"), always_inline)) static inline int64_t
project_avx2(const double *x, int64_t n, int64_t d, const double *offset, const double *factor,
             const double *mean, const double *ct, double *y, const int K) {
  enum { G = (PROJ_MAX_K + 3) / 4 };
  const int NG = (K + 3) / 4, KR = K % 4;
  const __m256i mk = _mm256_cmpgt_epi64(_mm256_set1_epi64x(KR), _mm256_set_epi64x(3, 2, 1, 0));
  int64_t i = 0;
  for (; i + 2 <= n; i += 2) {
    const double *r0 = x + i * d, *r1 = r0 + d;
    __m256d a0[G], a1[G];
#pragma GCC unroll 4
    for (int g = 0; g < NG; g++) a0[g] = a1[g] = _mm256_setzero_pd();
    for (int64_t col = 0; col < d; col++) {
      const double c0 = offset ? (r0[col] - offset[col]) * factor[col] - mean[col]
                               : r0[col] - mean[col],
                   c1 = offset ? (r1[col] - offset[col]) * factor[col] - mean[col]
                               : r1[col] - mean[col];
      const __m256d b0 = _mm256_set1_pd(c0), b1 = _mm256_set1_pd(c1);
      const double *cc = ct + col * K;
#pragma GCC unroll 4
      for (int g = 0; g < NG; g++) {
        const __m256d w =
            4 * g + 4 <= K ? _mm256_loadu_pd(cc + 4 * g) : _mm256_maskload_pd(cc + 4 * g, mk);
        a0[g] = _mm256_fmadd_pd(b0, w, a0[g]);
        a1[g] = _mm256_fmadd_pd(b1, w, a1[g]);
      }
    }
    double *y0 = y + i * K, *y1 = y0 + K;
#pragma GCC unroll 4
    for (int g = 0; g < NG; g++) {
      if (4 * g + 4 <= K) {
        _mm256_storeu_pd(y0 + 4 * g, a0[g]);
        _mm256_storeu_pd(y1 + 4 * g, a1[g]);
      } else {
        double t0[4], t1[4];
        _mm256_storeu_pd(t0, a0[g]);
        _mm256_storeu_pd(t1, a1[g]);
        for (int q = 0; q < KR; q++) y0[4 * g + q] = t0[q], y1[4 * g + q] = t1[q];
      }
    }
  }
  return i;
}

__attribute__((target("avx2,fma"))) static int64_t
project_avx2_any(const double *x, int64_t n, int64_t d, const double *offset, const double *factor,
                 const double *mean, const double *ct, int64_t k, double *y) {
  switch (k) {
#define PROJ4_CASE(K)                                                                              \
  case K:                                                                                          \
    return project_avx2(x, n, d, offset, factor, mean, ct, y, K);
    PS_EACH_1_16(PROJ4_CASE)
#undef PROJ4_CASE
  default:
    return 0;
  }
}

__attribute__((target("avx512f"))) static int64_t
project_avx512_any(const double *x, int64_t n, int64_t d, const double *offset,
                   const double *factor, const double *mean, const double *ct, int64_t k,
                   double *y) {
  switch (k) {
#define PROJ_CASE(K)                                                                               \
  case K:                                                                                          \
    return project_avx512(x, n, d, offset, factor, mean, ct, y, K);
    PS_EACH_1_16(PROJ_CASE)
#undef PROJ_CASE
  default:
    return 0;
  }
}
#endif

/* Whether the projection is fused (AVX-512, or AVX2 and FMA, k <=
 * PROJ_MAX_K, and not POPSEG_PCA_BLAS=1) or a dgemm per block. */
static int project_fused(int64_t k) {
#if defined(__x86_64__) && defined(__GNUC__)
  static int blas = -1;
  if (blas < 0) blas = ps_env_flag("POPSEG_PCA_BLAS", 0);
  return (ps_cpu_avx512f() || ps_cpu_avx2fma()) && !blas && k >= 1 && k <= PROJ_MAX_K;
#else
  (void)k;
  return 0;
#endif
}

int ps_pca_project_fused(int64_t k) {
  return project_fused(k);
}

/* Not collective. Rows [w0, w1) of x into y. w0 and w1 (unless x->n_local)
 * are on global row-block boundaries (reduce.h), so the dgemm's calls are
 * those of the whole slice; the fused kernel's rows do not depend on their
 * neighbours. scratch: the fused path's ct [d][k], or the dgemm's [nb][d]. */
static void project_range(const ps_pca_t *pca, const ps_scale_t *sc, const ps_matrix_t *x,
                          int64_t k, int fused, double *scratch, int64_t w0, int64_t w1,
                          ps_matrix_t *y) {
  const int64_t d = pca->d;
  const double *off = sc ? sc->offset : NULL, *fac = sc ? sc->factor : NULL;
  int64_t i0, i1;
  if (fused) {
    int64_t i = w0;
#if defined(__x86_64__) && defined(__GNUC__)
    if (ps_cpu_avx512f())
      i += project_avx512_any(x->data + w0 * d, w1 - w0, d, off, fac, pca->mean, scratch, k,
                              y->data + w0 * k);
    else
      i += project_avx2_any(x->data + w0 * d, w1 - w0, d, off, fac, pca->mean, scratch, k,
                            y->data + w0 * k);
#endif
    for (; i < w1; i++)
      project_row(x->data + i * d, d, off, fac, pca->mean, scratch, k, y->data + i * k);
    return;
  }
  /* One dgemm per fixed block of global rows (reduce.h): OpenBLAS picks its
   * kernel, and so the rounding of a row, by the call's shape (small-matrix
   * kernels on some processors), so the calls must not move with the rank
   * count for the projection to be the same bits at any rank count. */
  for (int64_t from = w0; ps_row_blocks(x->row_offset, w1, from, &i0, &i1); from = i1) {
    const int64_t m = i1 - i0;
    centre_rows(x->data + i0 * d, m, d, off, fac, pca->mean, scratch);
    /* y[i0:i0+m][k] = scratch[m][d] * components[k][d]^T */
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)m, (int)k, (int)d, 1.0, scratch,
                (int)d, pca->components, (int)d, 0.0, y->data + i0 * k, (int)k);
  }
}

/* The projection of x, and with release its rows' pages given back window
 * by window but for a tail of at most keep_bytes (whole global blocks), and
 * its values freed at the end if no row is kept. */
static ps_err_t project(const ps_pca_t *pca, const ps_scale_t *sc, ps_matrix_t *x, int64_t k,
                        int release, int64_t keep_bytes, ps_matrix_t **out) {
  ps_err_t err = PS_OK;
  ps_matrix_t *y = NULL;
  double *scratch = NULL;
  int64_t d = pca->d, nb = PS_ROW_BLOCK;
  const int fused = project_fused(k);
  *out = NULL;
  PS_CHECK(x->n_cols == d, PS_ERR_ARG, "PCA projection: the data have %lld features, the PCA %lld",
           (long long)x->n_cols, (long long)d);
  PS_CHECK(k >= 1 && k <= pca->p, PS_ERR_ARG,
           "PCA projection: %lld components requested, %lld fitted", (long long)k,
           (long long)pca->p);
  PS_CHECK((x->data != NULL && x->n_released == 0) || x->n_local == 0, PS_ERR_INTERNAL,
           "PCA projection: the rows were released before it");
  PS_TRY(ps_matrix_create(x->n_local, k, x->row_offset, x->n_global, &y));
  /* Fused: the first k components transposed, ct [d][k]; else the dgemm's
   * scratch block [nb][d]. */
  scratch = malloc((size_t)((fused ? 1 : nb) * d * (fused ? k : 1)) * sizeof *scratch);
  PS_CHECK(scratch != NULL, PS_ERR_MEM, "out of memory for the PCA projection");
  if (fused)
    for (int64_t col = 0; col < d; col++)
      for (int64_t j = 0; j < k; j++) scratch[col * k + j] = pca->components[j * d + col];
  if (!release) {
    project_range(pca, sc, x, k, fused, scratch, 0, x->n_local, y);
  } else {
    /* Windows of about 8 MiB of rows (reduce.h): the projection's pages
     * grow as the rows' go, so the two are never resident whole at once. */
    const int64_t win = ps_row_window_rows(PS_ROW_WINDOW_BYTES, d);
    /* The kept tail: the rows that fit in keep_bytes, from a global block
     * boundary on. */
    const int64_t fit = d > 0 ? keep_bytes / (d * (int64_t)sizeof(double)) : 0;
    int64_t keep_from = x->n_local - (fit < x->n_local ? fit : x->n_local);
    const int64_t g = x->row_offset + keep_from;
    keep_from = (g + PS_ROW_BLOCK - 1) / PS_ROW_BLOCK * PS_ROW_BLOCK - x->row_offset;
    if (keep_from > x->n_local) keep_from = x->n_local;
    size_t given = 0; /* the bytes given back so far (whole huge pages: mem.h) */
    for (int64_t w = 0; w < ps_row_window_count(x->row_offset, x->n_local, win); w++) {
      int64_t w0, w1;
      ps_row_window(x->row_offset, x->n_local, win, w, &w0, &w1);
      project_range(pca, sc, x, k, fused, scratch, w0, w1, y);
      if (w0 < keep_from)
        given = ps_rows_discard(x->data, given,
                                (size_t)((w1 < keep_from ? w1 : keep_from) * d) * sizeof(double));
    }
    x->n_released = keep_from;
  }
  *out = y;
  y = NULL;
cleanup:
  if (release && (err != PS_OK || x->n_released >= x->n_local)) ps_matrix_release(x);
  free(scratch);
  ps_matrix_destroy(&y);
  return err;
}

ps_err_t ps_pca_project(const ps_pca_t *pca, const ps_scale_t *sc, const ps_matrix_t *x, int64_t k,
                        ps_matrix_t **out) {
  /* Without release x is only read. */
  return project(pca, sc, (ps_matrix_t *)x, k, 0, 0, out);
}

ps_err_t ps_pca_project_release(const ps_pca_t *pca, const ps_scale_t *sc, ps_matrix_t *x,
                                int64_t k, int64_t keep_bytes, ps_matrix_t **out) {
  return project(pca, sc, x, k, 1, keep_bytes, out);
}

void ps_pca_inverse(const ps_pca_t *pca, const double *scores, int64_t n, int64_t k, double *rows) {
  int64_t d = pca->d;
  if (n <= 0 || d <= 0) return;
  if (k > 0) {
    /* Row blocks keep every BLAS dimension within int range. */
    int64_t nb = (int64_t)1 << 20;
    for (int64_t i0 = 0; i0 < n; i0 += nb) {
      int64_t m = n - i0 < nb ? n - i0 : nb;
      cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)m, (int)d, (int)k, 1.0,
                  scores + i0 * k, (int)k, pca->components, (int)d, 0.0, rows + i0 * d, (int)d);
    }
  } else {
    memset(rows, 0, (size_t)(n * d) * sizeof *rows);
  }
  for (int64_t i = 0; i < n; i++)
    for (int64_t j = 0; j < d; j++) rows[i * d + j] += pca->mean[j];
}

void ps_pca_describe(ps_h5w_t *w, const ps_pca_t *pca) {
  ps_h5w_dim_index(w, "pca/component", pca->p, 1,
                   "the fitted components, by decreasing variance (1-based)");
  ps_h5w_data(w, "pca/mean", PS_H5_F64, 0, "feature", pca->mean,
              "mean of the scaled features (the PCA centre)");
  ps_h5w_data(w, "pca/components", PS_H5_F64, 0, "component,feature", pca->components,
              "principal axes in scaled feature space, one row per component; sign: the largest "
              "|loading| is positive");
  ps_h5w_data(w, "pca/explained_variance", PS_H5_F64, 0, "component", pca->explained_variance,
              "variance along each component (eigenvalue of the covariance, n - 1 divisor)");
  ps_h5w_data(w, "pca/explained_variance_ratio", PS_H5_F64, 0, "component",
              pca->explained_variance_ratio, "share of the total variance of each component");
  ps_h5w_data(w, "pca/singular_values", PS_H5_F64, 0, "component", pca->singular_values,
              "singular values of the centred scaled matrix: sqrt(variance * (n - 1))");
  ps_h5w_attr_i64(w, "pca", "n_kept", pca->n_kept);
  ps_h5w_attr_i64(w, "pca", "n_samples", pca->n_samples);
  ps_h5w_attr_str(w, "pca", "solver", ps_pca_solver_name(pca->solver_used));
  ps_h5w_attr_f64(w, "pca", "total_variance", pca->total_variance);
}

void ps_pca_describe_projection(ps_h5w_t *w, int64_t k, const ps_matrix_t *proj) {
  ps_h5w_dim_index(w, "component", k, 1, "the kept principal components (1-based: pc1, pc2, ...)");
  ps_h5w_data(w, "projection", PS_H5_F64, 0, "row,component", proj->data,
              "component scores of each row: (x_scaled - mean) . components[0:K]");
}

/* Collective. The shapes of /pca for d features: p components, K kept. */
static ps_err_t read_shape(ps_h5r_t *r, int64_t d, int64_t *p, int64_t *kept) {
  ps_err_t err = PS_OK;
  static const char *const s_p[2] = {"p", NULL};
  int64_t dims[2], want_pd[2] = {-1, d}, want_d[1] = {d};
  PS_CHECK(ps_h5r_has(r, "pca"), PS_ERR_FORMAT, "%s: /pca: group not found", ps_h5r_path(r));
  PS_TRY(ps_h5r_shape(r, "pca/components", PS_H5_F64, 2, want_pd, s_p, dims, NULL));
  *p = dims[0];
  PS_CHECK(*p >= 1, PS_ERR_FORMAT, "%s: /pca/components: the model has no components",
           ps_h5r_path(r));
  int64_t want_p[1] = {*p};
  PS_TRY(ps_h5r_shape(r, "pca/mean", PS_H5_F64, 1, want_d, NULL, dims, NULL));
  PS_TRY(ps_h5r_shape(r, "pca/explained_variance", PS_H5_F64, 1, want_p, NULL, dims, NULL));
  PS_TRY(ps_h5r_shape(r, "pca/explained_variance_ratio", PS_H5_F64, 1, want_p, NULL, dims, NULL));
  PS_TRY(ps_h5r_shape(r, "pca/singular_values", PS_H5_F64, 1, want_p, NULL, dims, NULL));
  *kept = 0;
  PS_TRY(ps_h5r_attr_i64(r, "pca", "n_kept", 1, kept, NULL));
  PS_CHECK(*kept >= 1 && *kept <= *p, PS_ERR_FORMAT,
           "%s: /pca: attribute n_kept = %lld must be between 1 and %lld (the components)",
           ps_h5r_path(r), (long long)*kept, (long long)*p);
cleanup:
  return err;
}

ps_err_t ps_pca_read(ps_h5r_t *r, int64_t d, ps_pca_t **out) {
  ps_err_t err = PS_OK;
  ps_pca_t *pca = NULL;
  int64_t p = 0, kept = 0;
  char solver[64] = "";
  *out = NULL;
  PS_TRY(read_shape(r, d, &p, &kept));
  err = ps_pca_create(d, p, &pca);
  PS_AGREE(ps_h5r_comm(r));
  pca->n_kept = kept;
  PS_TRY(ps_h5r_attr_i64(r, "pca", "n_samples", 0, &pca->n_samples, NULL));
  PS_TRY(ps_h5r_attr_f64(r, "pca", "total_variance", 0, &pca->total_variance, NULL));
  PS_TRY(ps_h5r_attr_str(r, "pca", "solver", 0, solver, sizeof solver, NULL));
  pca->solver_used = strcmp(solver, "scalapack") == 0 ? PS_PCA_SCALAPACK : PS_PCA_LAPACK;
  PS_TRY(ps_h5r_read(r, "pca/mean", PS_H5_F64, 0, 0, d, pca->mean));
  PS_TRY(ps_h5r_read(r, "pca/components", PS_H5_F64, 0, 0, p, pca->components));
  PS_TRY(ps_h5r_read(r, "pca/explained_variance", PS_H5_F64, 0, 0, p, pca->explained_variance));
  PS_TRY(ps_h5r_read(r, "pca/explained_variance_ratio", PS_H5_F64, 0, 0, p,
                     pca->explained_variance_ratio));
  PS_TRY(ps_h5r_read(r, "pca/singular_values", PS_H5_F64, 0, 0, p, pca->singular_values));
  *out = pca;
  pca = NULL;
cleanup:
  ps_pca_destroy(&pca);
  return err;
}
