/* pca.h - principal component analysis of a row-distributed matrix.
 *
 * Mean and covariance are accumulated locally (centred, BLAS3 dsyrk) and
 * combined with ps_reduce_sum; the d x d eigenproblem is solved with LAPACK
 * (rank 0, broadcast) or ScaLAPACK (2-D BLACS grid). Components are sorted by
 * decreasing variance; each component's sign is fixed so that its largest
 * absolute loading is positive (ties, within a relative 1e-9 so that rounding
 * cannot flip a sign between solvers or rank counts: the lowest feature index).
 */
#ifndef POPSEG_PCA_H
#define POPSEG_PCA_H

#include <mpi.h>
#include <stdint.h>

#include "popseg/error.h"
#include "popseg/h5io.h"
#include "popseg/matrix.h"
#include "popseg/opt.h"
#include "popseg/scale.h"

typedef enum { PS_PCA_AUTO = 0, PS_PCA_LAPACK = 1, PS_PCA_SCALAPACK = 2 } ps_pca_solver_t;

typedef struct {
  int64_t n_components; /* P to fit; 0 = min(n, d) */
  int64_t keep;         /* K to keep; 0 = choose by variance */
  double variance;      /* keep the fewest reaching this cumulative ratio, in (0, 1] */
  ps_pca_solver_t solver;
  int64_t auto_threshold; /* auto: ScaLAPACK when d >= this (default 1000) */
  int block_size;         /* ScaLAPACK block size (default 64) */
} ps_pca_opts_t;

/* The PCA options (--pca-*): defaults, ranges, help. */
extern const ps_opt_t ps_pca_options[];
/* Zero the struct, then the table's defaults: n_components 0 (min(n, d)),
 * keep 0 (by variance), variance 0.80, auto, 1000, 64. */
void ps_pca_opts_default(ps_pca_opts_t *o);
const char *ps_pca_solver_name(ps_pca_solver_t s);
/* PS_ERR_ARG (no message recorded) for an unknown name. */
ps_err_t ps_pca_solver_parse(const char *s, ps_pca_solver_t *out);

typedef struct {
  int64_t d;                        /* features */
  int64_t p;                        /* components fitted */
  int64_t n_kept;                   /* K: components kept for projection */
  int64_t n_samples;                /* n used for the fit */
  ps_pca_solver_t solver_used;      /* LAPACK or SCALAPACK */
  int grid_rows, grid_cols;         /* BLACS grid used (1 x 1 for LAPACK) */
  double total_variance;            /* trace of the covariance */
  double *mean;                     /* [d] */
  double *components;               /* [p][d], row = component */
  double *explained_variance;       /* [p], eigenvalues, clipped at 0 */
  double *explained_variance_ratio; /* [p] */
  double *singular_values;          /* [p], sqrt(ev * (n - 1)) */
} ps_pca_t;

/* Allocate a zeroed PCA of p components over d features (n_kept = p, solver
 * LAPACK, grid 1 x 1). Not collective. Free with ps_pca_destroy. */
ps_err_t ps_pca_create(int64_t d, int64_t p, ps_pca_t **out);
void ps_pca_destroy(ps_pca_t **pca);

/* Collective. Fit on x (n_global >= 2). Validates opts against
 * ps_pca_options and against n and d (keep <= p, p <= min(n, d)), naming the
 * field ("pca.keep"; PS_ERR_ARG). n_kept = keep if set, else the fewest components whose
 * cumulative ratio reaches variance (1e-12 tolerance, so 0.8 reached exactly
 * counts), or all p if the p fitted components do not reach it. Zero total
 * variance (every feature constant) is PS_ERR_NUMERIC. The error is agreed
 * across comm; *out is NULL on error. The caller frees *out with
 * ps_pca_destroy. */
ps_err_t ps_pca_fit(const ps_matrix_t *x, const ps_pca_opts_t *opts, MPI_Comm comm, ps_pca_t **out);

/* The sign convention's pivot: the lowest j with |v[j]| >= (1 - PS_PCA_SIGN_RTOL)
 * max |v| (v: [d], d >= 1). A component is flipped when v[pivot] < 0. */
#define PS_PCA_SIGN_RTOL 1e-9
/* The widest matrix ps_pca_fit accepts (PS_ERR_ARG beyond). */
#define PS_PCA_MAX_FEATURES 32000
int64_t ps_pca_sign_pivot(const double *v, int64_t d);

/* Eigenvalues closer than this (relative to the largest) are one degenerate
 * eigenspace, whose basis a solver may return in any rotation. */
#define PS_PCA_DEGENERATE_RTOL 1e-9
/* Not collective. Replace the m orthonormal rows of v [m][d] (a basis of a
 * degenerate eigenspace) by the canonical basis of their span: pivoted
 * Gram-Schmidt on the columns of the projector V^T V (each time the
 * coordinate axis with the largest remaining projection, the lowest index
 * among near-equals), signs by ps_pca_sign_pivot. Any basis of the same
 * space gives the same rows, up to rounding. scratch: [m (2 d + 1)]. */
void ps_pca_canonical_basis(double *v, int64_t m, int64_t d, double *scratch);

/* Collective. ps_pca_fit's checks of opts against the shape n x d alone,
 * before any pass over the rows (a table too wide to solve is refused before
 * its covariance is summed). Agreed across comm. */
ps_err_t ps_pca_check(int64_t n, int64_t d, const ps_pca_opts_t *opts, MPI_Comm comm);

/* Collective (the same verdict on every rank). The PCA of scaled data from
 * the raw statistics (ps_stats_compute with the covariance) and the scaling
 * (sc NULL: unscaled): the table need not be scaled in place. Same checks
 * and results as ps_pca_fit on the scaled rows. */
ps_err_t ps_pca_fit_stats(const struct ps_stats *st, const ps_scale_t *sc,
                          const ps_pca_opts_t *opts, MPI_Comm comm, ps_pca_t **out);

/* Not collective. Project local rows: out = (x_s - mean) * components[0:k]^T
 * with x_s = (x - offset) * factor (sc NULL: x_s = x), a new [n_local][k]
 * matrix with the same distribution as x (caller frees). PS_ERR_ARG unless
 * 1 <= k <= p and x has d columns. With AVX-512, or AVX2 and FMA, and
 * k <= 16 (fused: one
 * pass, no scratch copy) each row's y[j] is the sum over the columns in
 * order of its centred value times components[j][col], one fused
 * multiply-add each; otherwise (or POPSEG_PCA_BLAS=1) a dgemm per fixed
 * block of rows. Either way a row's bits do not depend on the rank count. */
ps_err_t ps_pca_project(const ps_pca_t *pca, const ps_scale_t *sc, const ps_matrix_t *x, int64_t k,
                        ps_matrix_t **out);
/* Not collective. The same projection (the same bits), releasing x as it
 * goes: the pages of the rows already projected are given back a window
 * (about 8 MiB) at a time, except the last rows that fit in keep_bytes (0:
 * none). x->n_released is then where the kept rows start (a global block
 * boundary, reduce.h); when none are kept, or it fails, x's values are
 * freed (shape kept, data NULL: ps_matrix_release). The slice and its
 * projection are never resident whole together: the peak is the slice's,
 * if keep_bytes leaves room for the projection and what follows it. */
ps_err_t ps_pca_project_release(const ps_pca_t *pca, const ps_scale_t *sc, ps_matrix_t *x,
                                int64_t k, int64_t keep_bytes, ps_matrix_t **out);
/* Not collective. Whether ps_pca_project of k components is fused (1) or a
 * dgemm per block (0) on this processor and environment. */
int ps_pca_project_fused(int64_t k);
/* Not collective. Back to (scaled) feature space: rows[n][d] = scores[n][k] * C[0:k] + mean. */
void ps_pca_inverse(const ps_pca_t *pca, const double *scores, int64_t n, int64_t k, double *rows);

/* The /pca group of a results file (p components fitted, K kept):
 *   /pca/mean [feature], /pca/components [pca/component][feature],
 *   /pca/explained_variance, _ratio, /pca/singular_values [pca/component];
 *   attributes n_kept, n_samples, solver, total_variance. /pca/component is
 *   the group's own dimension (1..p); the root dimension component is 1..K.
 * Not collective: add it to a file description. */
void ps_pca_describe(ps_h5w_t *w, const ps_pca_t *pca);
/* The kept components as the root dimension component (1..K) and the
 * projection /projection [row][component] (this rank's rows of proj). */
void ps_pca_describe_projection(ps_h5w_t *w, int64_t k, const ps_matrix_t *proj);
/* Collective. Read /pca of an open results file for d features (n_kept = K
 * from the attribute). *out: ps_pca_destroy. */
ps_err_t ps_pca_read(ps_h5r_t *r, int64_t d, ps_pca_t **out);

#endif
