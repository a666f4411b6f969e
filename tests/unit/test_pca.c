/* test_pca.c - scaling + PCA against scikit-learn / numpy, both eigen-solvers.
 *
 * Usage: test_pca [ORACLE_DIR [--big]]
 *   every oracle case, hand cases and bad options; with --big only ScaLAPACK
 *   vs LAPACK on a 2500 x 2000 matrix. Without arguments the directory comes
 *   from $PCA_ORACLE_DIR and the mode from $PCA_TEST_MODE (all | big), which
 *   is how tests/t_pca.sh runs it through run_c_test.
 *
 * ORACLE_DIR holds the files written by tests/oracle/pca_oracle.py. Each rank
 * reads its ps_block_range block of the input rows, then runs ps_scale_fit /
 * ps_scale_apply, ps_pca_fit and ps_pca_project, and compares with the oracle.
 *
 * Signs: the oracle flips scikit-learn's components (and the projections
 * with them) to popseg's convention, largest |loading| positive, so the
 * comparison is direct. Component i and its projections are compared with
 * the oracle's per-component tolerance (1e-8 for well-separated eigenvalues,
 * looser in proportion to eps * ev_max / gap for ill-conditioned ones, skipped
 * for degenerate ones); projection errors are measured relative to the
 * largest norm of a centred row (for min-max scaled data that is ~1, so the
 * bound is essentially absolute 1e-8).
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "popseg/cli.h"
#include "io_bin.h"
#include "popseg/error.h"
#include "popseg/matrix.h"
#include "popseg/opt.h"
#include "popseg/pca.h"
#include "popseg/scalapack.h"
#include "popseg/scale.h"

static int g_rank, g_size;
static const char *g_dir;

typedef struct {
  const char *name;
  ps_scale_kind_t scale;
  double variance;
  int64_t keep;
} pca_case_t;

typedef struct {
  const char *label;
  ps_pca_solver_t solver;
  int64_t auto_threshold;
  int block_size;
  ps_pca_solver_t expect; /* the solver that must have been used */
} solver_cfg_t;

/* ------------------------------------------------------------------------ */
/* Helpers                                                                  */

static double *load(const char *name, const char *key, int64_t *rows, int64_t *cols) {
  char path[1024];
  snprintf(path, sizeof path, "%s/%s.%s.bin", g_dir, name, key);
  return bin_read(path, rows, cols);
}

/* This rank's block of NAME.KEY rows as a distributed matrix (NULL on error). */
static ps_matrix_t *load_block(const char *name, const char *key) {
  char path[1024];
  int64_t n = 0, d = 0, off, cnt;
  ps_matrix_t *m = NULL;
  snprintf(path, sizeof path, "%s/%s.%s.bin", g_dir, name, key);
  double *head = bin_read_rows(path, 0, 0, &n, &d);
  if (!head) return NULL;
  free(head);
  ps_block_range(n, g_size, g_rank, &off, &cnt);
  double *rows = bin_read_rows(path, off, cnt, &n, &d);
  if (rows && ps_matrix_create(cnt, d, off, n, &m) == PS_OK)
    memcpy(m->data, rows, (size_t)(cnt * d) * sizeof(double));
  free(rows);
  return m;
}

static int close_rel(double a, double b, double rel, double abs_tol) {
  return fabs(a - b) <= rel * fabs(b) + abs_tol;
}

static int grid_expected(int *r, int *c) {
  switch (g_size) {
  case 1:
    *r = 1, *c = 1;
    return 1;
  case 2:
    *r = 1, *c = 2;
    return 1;
  case 3:
    *r = 1, *c = 3;
    return 1;
  case 4:
    *r = 2, *c = 2;
    return 1;
  default:
    return 0;
  }
}

static ps_matrix_t *matrix_from(const double *rows, int64_t n, int64_t d) {
  int64_t off, cnt;
  ps_matrix_t *m = NULL;
  ps_block_range(n, g_size, g_rank, &off, &cnt);
  if (ps_matrix_create(cnt, d, off, n, &m) != PS_OK) return NULL;
  if (cnt > 0) memcpy(m->data, rows + off * d, (size_t)(cnt * d) * sizeof(double));
  return m;
}

/* ------------------------------------------------------------------------ */
/* Oracle cases                                                             */

static void run_case(const pca_case_t *pc, const solver_cfg_t *cfg, int check_scale) {
  const char *nm = pc->name;
  int64_t n = 0, d = 0, r, c, p;
  ps_matrix_t *x = load_block(nm, "x");
  double *offset = load(nm, "offset", &r, &c), *factor = load(nm, "factor", &r, &c);
  double *mean = load(nm, "mean", &r, &c), *ev = load(nm, "ev", &r, &p);
  double *ratio = load(nm, "ratio", &r, &c), *sv = load(nm, "sv", &r, &c);
  double *comp = load(nm, "comp", &r, &c), *tol = load(nm, "cmp", &r, &c);
  double *info = load(nm, "info", &r, &c), *xmean = load(nm, "xmean", &r, &c);
  ps_matrix_t *xs_ref = load_block(nm, "xs"), *proj_ref = load_block(nm, "proj");
  ps_scale_t *sc = NULL;
  ps_pca_t *pca = NULL;
  ps_matrix_t *y = NULL;
  double *back = NULL;
  int ok;
  char tag[160];
  int loaded = x && offset && factor && mean && ev && ratio && sv && comp && tol && info && xmean &&
               xs_ref && proj_ref;
  snprintf(tag, sizeof tag, "%s, %s", nm, cfg->label);
  if (!T_CHECK(loaded, "%s: oracle files load", tag)) goto done;
  n = x->n_global;
  d = x->n_cols;

  /* Scaling against MinMaxScaler / StandardScaler. */
  ok =
      ps_scale_fit(x, &(ps_scale_opts_t){.kind = pc->scale}, NULL, 0, MPI_COMM_WORLD, &sc) == PS_OK;
  if (!T_CHECK(ok, "%s: ps_scale_fit %s", tag, ps_scale_kind_name(pc->scale))) goto done;
  ps_scale_apply(sc, x);
  if (check_scale) {
    ok = sc->d == d;
    for (int64_t j = 0; j < d; j++) {
      ok &= close_rel(sc->offset[j], offset[j], 1e-13, 1e-300);
      ok &= close_rel(sc->factor[j], factor[j], 1e-12, 0.0);
    }
    T_CHECK(ok, "%s: scaling offsets and factors match scikit-learn", nm);
    ok = 1;
    for (int64_t i = 0; i < x->n_local * d; i++)
      ok &= close_rel(x->data[i], xs_ref->data[i], 1e-12, 1e-12);
    T_CHECK(ok, "%s: scaled rows match scikit-learn's transform", nm);
  }

  /* The fit. */
  ps_pca_opts_t o;
  ps_pca_opts_default(&o);
  o.variance = pc->variance;
  o.keep = pc->keep;
  o.solver = cfg->solver;
  o.auto_threshold = cfg->auto_threshold;
  o.block_size = cfg->block_size;
  ps_error_clear();
  ok = ps_pca_fit(x, &o, MPI_COMM_WORLD, &pca) == PS_OK;
  if (!ok) fprintf(stderr, "  ps_pca_fit: %s\n", ps_error_message());
  if (!T_CHECK(ok, "%s: ps_pca_fit", tag)) goto done;

  int gr = 1, gc = 1;
  if (cfg->expect == PS_PCA_SCALAPACK && !grid_expected(&gr, &gc)) {
    gr = pca->grid_rows; /* a rank count without a listed shape: accept any */
    gc = pca->grid_cols;
  }
  T_CHECK(pca->d == d && pca->p == p && pca->n_samples == n && n == (int64_t)info[3],
          "%s: shape d=%lld p=%lld n=%lld", tag, (long long)pca->d, (long long)pca->p,
          (long long)pca->n_samples);
  T_CHECK(pca->solver_used == cfg->expect && pca->grid_rows == gr && pca->grid_cols == gc,
          "%s: solver %s on a %dx%d grid", tag, ps_pca_solver_name(pca->solver_used),
          pca->grid_rows, pca->grid_cols);

  ok = 1;
  for (int64_t j = 0; j < d; j++) ok &= close_rel(pca->mean[j], mean[j], 1e-12, 1e-14);
  T_CHECK(ok, "%s: mean", tag);
  if (pc->scale == PS_SCALE_NONE) {
    /* Unscaled input is exactly the oracle's. The corrected mean is within an
     * ulp of the exact one plus the rounding of the correction term, a sum of
     * n deviations (typically sqrt(n) eps times their mean size): for the
     * offset case that is ~1 ulp, where scikit-learn's own mean was up to 7
     * ulps off. */
    double sum_tol = 2 * sqrt((double)n) * 2.2e-16;
    ok = 1;
    for (int64_t j = 0; j < d; j++)
      if (fabs(pca->mean[j] - xmean[j]) > 2.3e-16 * fabs(xmean[j]) + sum_tol * xmean[d + j]) {
        fprintf(stderr, "  feature %lld: mean %.17g, exact %.17g, mean |x - m| %.3g\n",
                (long long)j, pca->mean[j], xmean[j], xmean[d + j]);
        ok = 0;
      }
    T_CHECK(ok, "%s: mean within 1 ulp + 2 sqrt(n) eps mean|x - mean| of the exact mean", tag);
  }
  ok = close_rel(pca->total_variance, info[1], 1e-11, 0.0);
  T_CHECK(ok, "%s: total variance %.12g (oracle %.12g)", tag, pca->total_variance, info[1]);

  /* Eigenvalues 1e-10 relative; near-zero ones are judged on the scale of the
   * largest (their absolute accuracy is eps * ev_max for any solver). */
  double worst = 0.0;
  ok = 1;
  for (int64_t i = 0; i < p; i++) {
    ok &= close_rel(pca->explained_variance[i], ev[i], 1e-10, 1e-12 * ev[0]);
    ok &= close_rel(pca->explained_variance_ratio[i], ratio[i], 1e-10, 1e-13);
    ok &= close_rel(pca->singular_values[i], sv[i], 1e-10, 1e-6 * sv[0]);
    ok &= pca->explained_variance[i] >= 0.0;
    if (ratio[i] > 1e-3) {
      double e = fabs(pca->explained_variance_ratio[i] - ratio[i]) / ratio[i];
      if (e > worst) worst = e;
    }
  }
  T_CHECK(ok, "%s: eigenvalues, ratios, singular values (ratios > 1e-3 to %.1e relative)", tag,
          worst);

  int64_t compared = 0;
  worst = 0.0;
  ok = 1;
  for (int64_t i = 0; i < p; i++) {
    if (tol[i] <= 0.0) continue;
    compared++;
    for (int64_t j = 0; j < d; j++) {
      double e = fabs(pca->components[i * d + j] - comp[i * d + j]);
      ok &= e <= tol[i];
      if (e > worst) worst = e;
    }
  }
  T_CHECK(ok, "%s: %lld of %lld components match after the sign convention (worst %.1e)", tag,
          (long long)compared, (long long)p, worst);

  T_CHECK(pca->n_kept == (int64_t)info[0], "%s: n_kept %lld (oracle %lld)", tag,
          (long long)pca->n_kept, (long long)info[0]);

  /* Projections onto every fitted component. */
  double rownorm = info[2] > 0 ? info[2] : 1.0;
  ok = ps_pca_project(pca, NULL, x, p, &y) == PS_OK;
  if (!T_CHECK(ok, "%s: ps_pca_project", tag)) goto done;
  ok = y->n_local == x->n_local && y->n_cols == p && y->row_offset == x->row_offset;
  worst = 0.0;
  for (int64_t i = 0; ok && i < y->n_local; i++) {
    /* The oracle's own mean is off by a few ulps of the data (see above):
     * allow for that on rows far from the origin. */
    double xmax = 0.0;
    for (int64_t j = 0; j < d; j++)
      if (fabs(x->data[i * d + j]) > xmax) xmax = fabs(x->data[i * d + j]);
    double slack = 32 * 2.2e-16 * sqrt((double)d) * xmax / rownorm;
    for (int64_t k = 0; k < p; k++) {
      double got = y->data[i * p + k], want = proj_ref->data[i * p + k];
      double e = fabs(got - want) / rownorm;
      if (tol[k] > 0.0) {
        ok &= e <= tol[k] + slack;
        if (e > worst) worst = e;
      } else if (ratio[k] < 1e-12 && k > 0 && ev[k - 1] >= 1e-6 * ev[0]) {
        /* A null direction set well apart from the data's span: the data
         * have no extent along it, whichever vector of it was chosen. */
        ok &= fabs(got) <= 1e-8 * rownorm;
      }
    }
  }
  T_CHECK(ok, "%s: projections match (worst %.1e relative to the largest centred row)", tag, worst);

  /* Back to scaled feature space with every component: the data lie in
   * their span, so the rows come back. */
  back = malloc((size_t)(x->n_local * d > 0 ? x->n_local * d : 1) * sizeof *back);
  ok = back != NULL;
  if (ok) {
    ps_pca_inverse(pca, y->data, y->n_local, p, back);
    for (int64_t i = 0; i < x->n_local * d; i++)
      ok &= fabs(back[i] - x->data[i]) <= 1e-10 * rownorm;
  }
  T_CHECK(ok, "%s: ps_pca_inverse of the projections gives the rows back", tag);

  if (!strcmp(nm, "census")) {
    double cum7 = 0.0;
    for (int i = 0; i < 7; i++) cum7 += pca->explained_variance_ratio[i];
    if (check_scale)
      T_CHECK(n == 3218 && d == 34, "census: %lld rows, %lld features", (long long)n, (long long)d);
    T_CHECK(fabs(cum7 - 0.80167) < 5e-6, "census: top-7 cumulative ratio %.5f == 0.80167 (%s)",
            cum7, cfg->label);
    T_CHECK(fabs(pca->explained_variance_ratio[0] - 0.321) < 5e-4,
            "census: component 1 explains %.4f ~ 0.321 (%s)", pca->explained_variance_ratio[0],
            cfg->label);
    T_CHECK(pca->explained_variance[33] <= 1e-12 * pca->explained_variance[0],
            "census: 34th eigenvalue %.1e ~ 0 (TotalPop = Men + Women) (%s)",
            pca->explained_variance[33], cfg->label);
    T_CHECK(pca->n_kept == 7, "census: n_kept 7 at --pca-variance 0.8 (%s)", cfg->label);
  }
  if (!strcmp(nm, "const_minmax") && check_scale) {
    T_CHECK(sc->n_constant == 1 && sc->first_constant == 3 && sc->factor[3] == 0.0,
            "const_minmax: one constant column, index 3, factor 0");
    double *last = pca->components + (p - 1) * d;
    T_CHECK(fabs(last[3] - 1.0) < 1e-12 && pca->explained_variance[p - 1] < 1e-14,
            "const_minmax: the last component is the constant column's axis, variance 0");
  }

done:
  ps_matrix_destroy(&x);
  ps_matrix_destroy(&xs_ref);
  ps_matrix_destroy(&proj_ref);
  ps_matrix_destroy(&y);
  ps_scale_destroy(&sc);
  ps_pca_destroy(&pca);
  free(offset), free(factor), free(mean), free(ev), free(ratio), free(sv), free(comp);
  free(tol), free(info), free(xmean), free(back);
}

/* ------------------------------------------------------------------------ */
/* Hand-computed cases                                                      */

static const solver_cfg_t g_cfgs[] = {
    {"lapack", PS_PCA_LAPACK, 1000, 64, PS_PCA_LAPACK},
    {"scalapack nb=4", PS_PCA_SCALAPACK, 1000, 4, PS_PCA_SCALAPACK},
    {"scalapack nb=64", PS_PCA_SCALAPACK, 1000, 64, PS_PCA_SCALAPACK},
    {"auto d>=threshold nb=3", PS_PCA_AUTO, 2, 3, PS_PCA_SCALAPACK},
    {"auto d<threshold", PS_PCA_AUTO, 1000, 64, PS_PCA_LAPACK},
};
#define N_CFGS ((int)(sizeof g_cfgs / sizeof g_cfgs[0]))

/* Columns 2*h1 + 10 and h2 - 3 with orthogonal +-1 patterns h1, h2 over 4
 * rows: covariance diag(16/3, 4/3), ratios exactly 0.8 and 0.2. */
static void hand_orthogonal(const solver_cfg_t *cfg) {
  static const double h1[4] = {1, 1, -1, -1}, h2[4] = {1, -1, 1, -1};
  double rows[8];
  for (int i = 0; i < 4; i++) rows[2 * i] = 2 * h1[i] + 10, rows[2 * i + 1] = h2[i] - 3;
  ps_matrix_t *x = matrix_from(rows, 4, 2), *y = NULL;
  ps_pca_t *pca = NULL;
  ps_pca_opts_t o;
  ps_pca_opts_default(&o);
  o.solver = cfg->solver;
  o.auto_threshold = cfg->auto_threshold;
  o.block_size = cfg->block_size;
  int ok = x && ps_pca_fit(x, &o, MPI_COMM_WORLD, &pca) == PS_OK;
  if (T_CHECK(ok, "hand 4x2 (%s): fit", cfg->label)) {
    const double *c = pca->components;
    T_CHECK(pca->p == 2 && fabs(pca->mean[0] - 10) < 1e-15 && fabs(pca->mean[1] + 3) < 1e-15,
            "hand 4x2 (%s): p = 2, mean (10, -3)", cfg->label);
    T_CHECK(fabs(pca->explained_variance[0] - 16.0 / 3) < 1e-14 &&
                fabs(pca->explained_variance[1] - 4.0 / 3) < 1e-14 &&
                fabs(pca->explained_variance_ratio[0] - 0.8) < 1e-15 &&
                fabs(pca->singular_values[0] - 4.0) < 1e-14 &&
                fabs(pca->singular_values[1] - 2.0) < 1e-14,
            "hand 4x2 (%s): eigenvalues 16/3, 4/3, ratio 0.8, singular values 4, 2", cfg->label);
    T_CHECK(fabs(c[0] - 1) < 1e-15 && fabs(c[1]) < 1e-15 && fabs(c[2]) < 1e-15 &&
                fabs(c[3] - 1) < 1e-15,
            "hand 4x2 (%s): components +e1, +e2 (sign convention)", cfg->label);
    T_CHECK(pca->n_kept == 1, "hand 4x2 (%s): --pca-variance 0.8 reached exactly keeps 1",
            cfg->label);
    ok = ps_pca_project(pca, NULL, x, 2, &y) == PS_OK;
    for (int64_t i = 0; ok && i < x->n_local; i++) {
      int64_t g = x->row_offset + i;
      ok &= fabs(y->data[2 * i] - 2 * h1[g]) < 1e-14 && fabs(y->data[2 * i + 1] - h2[g]) < 1e-14;
    }
    T_CHECK(ok, "hand 4x2 (%s): projections (2 h1, h2)", cfg->label);
    ps_pca_destroy(&pca);
    o.variance = 0.81;
    ok = ps_pca_fit(x, &o, MPI_COMM_WORLD, &pca) == PS_OK && pca->n_kept == 2;
    ps_pca_destroy(&pca);
    o.variance = 0.5;
    o.keep = 2;
    ok &= ps_pca_fit(x, &o, MPI_COMM_WORLD, &pca) == PS_OK && pca->n_kept == 2;
    T_CHECK(ok, "hand 4x2 (%s): variance 0.81 keeps 2; --pca-keep 2 overrides variance 0.5",
            cfg->label);
  }
  ps_pca_destroy(&pca);
  ps_matrix_destroy(&y);
  ps_matrix_destroy(&x);
}

/* Two rows (0, 0) and (2, 4): at 3-4 ranks some ranks hold no row.
 * Covariance [[2, 4], [4, 8]]: eigenvalues 10 and 0, component (1, 2)/sqrt 5. */
static void hand_two_rows(const solver_cfg_t *cfg) {
  static const double rows[4] = {0, 0, 2, 4};
  ps_matrix_t *x = matrix_from(rows, 2, 2), *y = NULL;
  ps_pca_t *pca = NULL;
  ps_pca_opts_t o;
  ps_pca_opts_default(&o);
  o.solver = cfg->solver;
  o.auto_threshold = cfg->auto_threshold;
  o.block_size = cfg->block_size;
  int ok = x && ps_pca_fit(x, &o, MPI_COMM_WORLD, &pca) == PS_OK;
  if (T_CHECK(ok, "hand 2 rows (%s): fit with empty ranks", cfg->label)) {
    double s5 = sqrt(5.0);
    const double *c = pca->components;
    ok = fabs(pca->explained_variance[0] - 10) < 1e-13 && pca->explained_variance[1] >= 0 &&
         pca->explained_variance[1] < 1e-13 && fabs(c[0] - 1 / s5) < 1e-14 &&
         fabs(c[1] - 2 / s5) < 1e-14 && fabs(c[2] - 2 / s5) < 1e-14 &&
         fabs(c[3] + 1 / s5) < 1e-14 && pca->n_kept == 1 && fabs(pca->mean[0] - 1) < 1e-15 &&
         fabs(pca->mean[1] - 2) < 1e-15;
    T_CHECK(ok, "hand 2 rows (%s): eigenvalues 10, 0; components (1,2)/v5, (2,-1)/v5", cfg->label);
    ok = ps_pca_project(pca, NULL, x, 1, &y) == PS_OK && y->n_local == x->n_local;
    for (int64_t i = 0; ok && i < x->n_local; i++)
      ok &= fabs(y->data[i] - (x->row_offset + i == 0 ? -s5 : s5)) < 1e-14;
    T_CHECK(ok, "hand 2 rows (%s): projections -v5, +v5", cfg->label);
  }
  ps_pca_destroy(&pca);
  ps_matrix_destroy(&y);
  ps_matrix_destroy(&x);
}

/* (f) Bad options: PS_ERR_ARG naming the option on every rank, no result. */
static void bad_options(void) {
  static const double rows[8] = {1, 2, 3, 5, 4, 4, 0, 1};
  ps_matrix_t *x = matrix_from(rows, 4, 2), *one = matrix_from(rows, 1, 2);
  struct {
    const char *what, *frag;
    int64_t comps, keep;
    double variance;
    ps_matrix_t *m;
  } bad[] = {
      {"keep 3 > p 2", "--pca-keep", 0, 3, 0.8, x},
      {"keep 2 > --pca-components 1", "--pca-keep", 1, 2, 0.8, x},
      {"variance 0", "--pca-variance", 0, 0, 0.0, x},
      {"variance 1.5", "--pca-variance", 0, 0, 1.5, x},
      {"variance NaN", "--pca-variance", 0, 0, NAN, x},
      {"components 3 > min(n, d) 2", "--pca-components", 3, 0, 0.8, x},
      {"n = 1 row", "needs at least 2 rows", 0, 0, 0.8, one},
  };
  for (size_t b = 0; b < sizeof bad / sizeof bad[0]; b++) {
    ps_pca_opts_t o;
    static ps_pca_t sentinel;
    ps_pca_t *pca = &sentinel; /* must come back NULL */
    ps_pca_opts_default(&o);
    o.n_components = bad[b].comps;
    o.keep = bad[b].keep;
    o.variance = bad[b].variance;
    ps_error_clear();
    ps_err_t err = ps_pca_fit(bad[b].m, &o, MPI_COMM_WORLD, &pca);
    int ok = err == PS_ERR_ARG && pca == NULL && strstr(ps_error_message(), bad[b].frag) &&
             !strchr(ps_error_message(), '\n');
    if (!ok) fprintf(stderr, "  %s: err %d, message '%s'\n", bad[b].what, err, ps_error_message());
    T_CHECK(ok, "bad option %s: PS_ERR_ARG naming '%s'", bad[b].what, bad[b].frag);
    if (pca != &sentinel) ps_pca_destroy(&pca);
  }
  /* Every feature constant: nothing to analyse, a clear numeric error. */
  {
    static const double flat[6] = {3, -1, 3, -1, 3, -1};
    ps_matrix_t *f = matrix_from(flat, 3, 2);
    ps_pca_t *pca = NULL;
    ps_pca_opts_t o;
    ps_pca_opts_default(&o);
    ps_error_clear();
    int ok = f && ps_pca_fit(f, &o, MPI_COMM_WORLD, &pca) == PS_ERR_NUMERIC && pca == NULL &&
             strstr(ps_error_message(), "zero total variance");
    T_CHECK(ok, "all features constant: PS_ERR_NUMERIC 'zero total variance'");
    ps_error_clear();
    ps_matrix_destroy(&f);
  }
  /* The upper end of (0, 1] is allowed. */
  ps_pca_opts_t o;
  ps_pca_t *pca = NULL;
  ps_pca_opts_default(&o);
  o.variance = 1.0;
  ps_error_clear();
  int ok = ps_pca_fit(x, &o, MPI_COMM_WORLD, &pca) == PS_OK && pca->n_kept == 2;
  T_CHECK(ok, "--pca-variance 1.0 is accepted and keeps every component");
  ps_pca_destroy(&pca);
  /* Project with a bad k is refused (not collective). */
  ps_matrix_t *y = NULL;
  ps_pca_opts_default(&o);
  ok = ps_pca_fit(x, &o, MPI_COMM_WORLD, &pca) == PS_OK;
  ok = ok && ps_pca_project(pca, NULL, x, 3, &y) == PS_ERR_ARG && y == NULL &&
       ps_pca_project(pca, NULL, x, 0, &y) == PS_ERR_ARG;
  T_CHECK(ok, "ps_pca_project refuses k = 0 and k > p");
  ps_error_clear();
  ps_pca_destroy(&pca);
  ps_matrix_destroy(&x);
  ps_matrix_destroy(&one);
}

static void names(void) {
  ps_pca_solver_t s = PS_PCA_AUTO;
  int ok = ps_pca_solver_parse("scalapack", &s) == PS_OK && s == PS_PCA_SCALAPACK &&
           ps_pca_solver_parse("lapack", &s) == PS_OK && s == PS_PCA_LAPACK &&
           ps_pca_solver_parse("auto", &s) == PS_OK && s == PS_PCA_AUTO &&
           !strcmp(ps_pca_solver_name(PS_PCA_SCALAPACK), "scalapack");
  ps_error_clear();
  ok &= ps_pca_solver_parse("eigen", &s) == PS_ERR_ARG && ps_error_message()[0] == '\0';
  ps_error_clear();
  ps_pca_opts_t o;
  ps_pca_opts_default(&o);
  ok &= o.n_components == 0 && o.keep == 0 && o.variance == 0.80 && o.solver == PS_PCA_AUTO &&
        o.auto_threshold == 1000 && o.block_size == 64;
  T_CHECK(ok, "solver names, parsing and option defaults");
  int r, c;
  int shapes[][3] = {{1, 1, 1}, {2, 1, 2}, {3, 1, 3}, {4, 2, 2}, {6, 2, 3},
                     {8, 2, 4}, {9, 3, 3}, {7, 1, 7}, {12, 3, 4}};
  ok = 1;
  for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++) {
    ps_scalapack_grid_shape(shapes[i][0], &r, &c);
    ok &= r == shapes[i][1] && c == shapes[i][2];
  }
  T_CHECK(ok, "ps_scalapack_grid_shape: 1x1 1x2 1x3 2x2 2x3 2x4 3x3 1x7 3x4");
}

/* ------------------------------------------------------------------------ */
/* ps_scalapack_syevd directly                                              */

/* Solve scale * tridiag(-1, 2, -1) of order d on comm and compare with the
 * closed form: eigenvalue k (1-based, ascending) is scale (2 - 2 cos(k pi /
 * (d + 1))), its eigenvector sin(j k pi / (d + 1)) normalised (up to sign). */
static int laplacian_ok(int64_t d, double scale, int nb, MPI_Comm comm, int *gr, int *gc) {
  double *a = calloc((size_t)(d * d), sizeof *a), *z = calloc((size_t)(d * d), sizeof *z);
  double *w = calloc((size_t)d, sizeof *w);
  int ok = a && z && w;
  if (ok) {
    for (int64_t i = 0; i < d; i++) {
      a[i * d + i] = 2 * scale;
      if (i + 1 < d) a[i * d + i + 1] = a[(i + 1) * d + i] = -scale;
    }
  }
  /* Collective: every rank of comm calls (a failed allocation aborts the test). */
  if (!ok) MPI_Abort(MPI_COMM_WORLD, 1);
  ps_error_clear();
  ok &= ps_scalapack_syevd(a, d, nb, comm, w, z, gr, gc) == PS_OK;
  for (int64_t k = 0; ok && k < d; k++) {
    double th = (double)(k + 1) * acos(-1.0) / (double)(d + 1), dot = 0, nrm = 0;
    ok &= fabs(w[k] - scale * (2 - 2 * cos(th))) <= 1e-13 * scale;
    for (int64_t j = 0; j < d; j++) {
      double v = sin((double)(j + 1) * th);
      dot += v * z[k * d + j];
      nrm += v * v;
    }
    ok &= fabs(fabs(dot) / sqrt(nrm) - 1) <= 1e-12;
  }
  free(a), free(z), free(w);
  return ok;
}

static void scalapack_direct(void) {
  int gr = 0, gc = 0, er, ec;
  grid_expected(&er, &ec);
  int ok = laplacian_ok(37, 1.0, 5, MPI_COMM_WORLD, &gr, &gc);
  T_CHECK(ok && gr == er && gc == ec,
          "ps_scalapack_syevd: 37 x 37 Laplacian, nb 5, %dx%d grid, matches the closed form", gr,
          gc);
  ok = laplacian_ok(3, 2.0, 64, MPI_COMM_WORLD, &gr, &gc);
  T_CHECK(ok, "ps_scalapack_syevd: 3 x 3 with one block on a %dx%d grid (idle processes)", gr, gc);
  /* Two halves of the world solve different problems at the same time: the
   * BLACS grid must be built on the communicator given, not on the world. */
  MPI_Comm half;
  int color = g_rank % 2, hs;
  MPI_Comm_split(MPI_COMM_WORLD, color, g_rank, &half);
  MPI_Comm_size(half, &hs);
  ok = color == 0 ? laplacian_ok(29, 1.0, 4, half, &gr, &gc)
                  : laplacian_ok(23, 3.0, 3, half, &gr, &gc);
  ps_scalapack_grid_shape(hs, &er, &ec);
  T_CHECK(ok && gr == er && gc == ec,
          "ps_scalapack_syevd on split communicators (two different problems at once)");
  MPI_Comm_free(&half);
}

/* ------------------------------------------------------------------------ */
/* (e) ScaLAPACK vs LAPACK on 2000 features                                  */

static void big(void) {
  ps_matrix_t *x = load_block("big", "x");
  ps_pca_t *lp = NULL, *sp = NULL;
  ps_pca_opts_t o;
  if (!T_CHECK(x != NULL, "big: input loads")) return;
  int64_t d = x->n_cols, k = 10;
  ps_pca_opts_default(&o);
  o.solver = PS_PCA_LAPACK;
  double t0 = MPI_Wtime();
  int ok = ps_pca_fit(x, &o, MPI_COMM_WORLD, &lp) == PS_OK;
  double t1 = MPI_Wtime();
  o.solver = PS_PCA_AUTO; /* d = 2000 >= 1000: ScaLAPACK */
  ok &= ps_pca_fit(x, &o, MPI_COMM_WORLD, &sp) == PS_OK;
  double t2 = MPI_Wtime();
  if (T_CHECK(ok, "big %lld x %lld: both fits succeed (lapack %.1f s, scalapack %.1f s)",
              (long long)x->n_global, (long long)d, t1 - t0, t2 - t1)) {
    int gr = sp->grid_rows, gc = sp->grid_cols;
    grid_expected(&gr, &gc);
    T_CHECK(sp->solver_used == PS_PCA_SCALAPACK && lp->solver_used == PS_PCA_LAPACK &&
                sp->grid_rows == gr && sp->grid_cols == gc,
            "big: auto chose scalapack on a %dx%d grid", sp->grid_rows, sp->grid_cols);
    double worst = 0.0, worst_all = 0.0, worst_c = 0.0;
    ok = sp->p == lp->p;
    for (int64_t i = 0; ok && i < lp->p; i++) {
      double a = sp->explained_variance[i], b = lp->explained_variance[i];
      double e = fabs(a - b);
      if (i < k && e / b > worst) worst = e / b;
      if (e / lp->explained_variance[0] > worst_all) worst_all = e / lp->explained_variance[0];
    }
    T_CHECK(ok && worst <= 1e-10 && worst_all <= 1e-12,
            "big: top %lld eigenvalues agree to %.1e relative, all to %.1e of the largest",
            (long long)k, worst, worst_all);
    for (int64_t i = 0; ok && i < k; i++)
      for (int64_t j = 0; j < d; j++) {
        double e = fabs(sp->components[i * d + j] - lp->components[i * d + j]);
        if (e > worst_c) worst_c = e;
      }
    T_CHECK(ok && worst_c <= 1e-8, "big: top %lld components agree (same sign) to %.1e",
            (long long)k, worst_c);
    T_CHECK(sp->n_kept == lp->n_kept && sp->n_kept <= k, "big: n_kept %lld == %lld",
            (long long)sp->n_kept, (long long)lp->n_kept);
  }
  ps_pca_destroy(&lp);
  ps_pca_destroy(&sp);
  ps_matrix_destroy(&x);
}

/* The sign pivot: near-ties (rounding) go to the lowest index, real
 * differences to the largest loading. */
static void sign_pivot(void) {
  const double a[] = {0.1, -0.7, 0.7 * (1 - 1e-13), 0.2};
  const double b[] = {0.1, 0.7 * (1 - 1e-13), -0.7, 0.2};
  const double c[] = {0.1, 0.7 * (1 - 1e-6), -0.7, 0.2};
  const double z[] = {0.0, 0.0};
  T_CHECK(ps_pca_sign_pivot(a, 4) == 1 && ps_pca_sign_pivot(b, 4) == 1,
          "sign pivot: loadings equal to 1e-13 relative tie to the lowest index");
  T_CHECK(ps_pca_sign_pivot(c, 4) == 2, "sign pivot: a 1e-6 relative difference is not a tie");
  T_CHECK(ps_pca_sign_pivot(z, 2) == 0, "sign pivot: an all-zero vector pivots on index 0");
}

/* The canonical basis of a degenerate eigenspace: two rotations of one
 * 3-dimensional subspace of R^6 give the same rows (to 1e-12), orthonormal,
 * spanning the same space. */
static void canonical_basis(void) {
  enum { M = 3, D = 6 };
  double v[M][D] = {{1, 2, 0, -1, 3, 1}, {0, 1, 1, 2, -1, 0}, {2, -1, 1, 0, 0, 1}};
  double w[M][D], scratch[M * (2 * D + 1)];
  /* Gram-Schmidt: an orthonormal basis. */
  for (int r = 0; r < M; r++) {
    for (int q = 0; q < r; q++) {
      double dot = 0;
      for (int i = 0; i < D; i++) dot += v[r][i] * v[q][i];
      for (int i = 0; i < D; i++) v[r][i] -= dot * v[q][i];
    }
    double nn = 0;
    for (int i = 0; i < D; i++) nn += v[r][i] * v[r][i];
    for (int i = 0; i < D; i++) v[r][i] /= sqrt(nn);
  }
  /* Another basis of the same span: a rotation in the (0,1) and (1,2) planes
   * and a sign flip. */
  const double c1 = cos(0.7), s1 = sin(0.7), c2 = cos(-1.9), s2 = sin(-1.9);
  for (int i = 0; i < D; i++) {
    double a = c1 * v[0][i] - s1 * v[1][i], b = s1 * v[0][i] + c1 * v[1][i];
    double b2 = c2 * b - s2 * v[2][i], c = s2 * b + c2 * v[2][i];
    w[0][i] = -a;
    w[1][i] = c;
    w[2][i] = b2;
  }
  double proj_before[D][D];
  for (int i = 0; i < D; i++)
    for (int j = 0; j < D; j++) {
      proj_before[i][j] = 0;
      for (int r = 0; r < M; r++) proj_before[i][j] += v[r][i] * v[r][j];
    }
  ps_pca_canonical_basis(&v[0][0], M, D, scratch);
  ps_pca_canonical_basis(&w[0][0], M, D, scratch);
  double diff = 0, orth = 0, proj = 0;
  for (int r = 0; r < M; r++)
    for (int i = 0; i < D; i++) diff = fmax(diff, fabs(v[r][i] - w[r][i]));
  for (int r = 0; r < M; r++)
    for (int q = 0; q < M; q++) {
      double dot = 0;
      for (int i = 0; i < D; i++) dot += v[r][i] * v[q][i];
      orth = fmax(orth, fabs(dot - (r == q)));
    }
  for (int i = 0; i < D; i++)
    for (int j = 0; j < D; j++) {
      double pij = 0;
      for (int r = 0; r < M; r++) pij += v[r][i] * v[r][j];
      proj = fmax(proj, fabs(pij - proj_before[i][j]));
    }
  T_CHECK(diff < 1e-12 && orth < 1e-12 && proj < 1e-12,
          "degenerate eigenspace: two bases give one canonical basis (diff %.1e), orthonormal "
          "(%.1e), same span (%.1e)",
          diff, orth, proj);
}

/* The projection against the loop it promises: each row's centred values
 * ((x - offset) * factor - mean, or x - mean unscaled), then y[j] summed
 * over the columns in order with fma(). The fused AVX-512 form must give
 * those bits; the dgemm form (POPSEG_PCA_BLAS=1, no AVX-512, k > 16) the
 * values to rounding. Widths at and past the transpose's eight columns,
 * every k to one past the fused form's 16, row counts with and without a
 * tail of fewer than eight, ranks with no rows, a huge value. */
static void project_kernel(void) {
  static const int64_t ds[] = {1, 3, 8, 9, 17, 34};
  int same = 1, close = 1, fused_seen = 0, cases = 0, ok = 1;
  uint64_t st = 11;
  /* 203 rows: a tail of three on the rank that has them; 1104: three blocks,
   * whole groups of eight, the last of them read with masked loads. */
  for (size_t a = 0; a < 2 * (sizeof ds / sizeof ds[0]); a++) {
    const int64_t d = ds[a / 2], n = a % 2 ? 1104 : 203, pmax = d < 17 ? d : 17;
    double *rows = malloc((size_t)(n * d) * sizeof *rows);
    ps_pca_t *pca = NULL;
    ps_scale_t sc = {PS_SCALE_MINMAX,
                     d,
                     malloc((size_t)d * sizeof(double)),
                     malloc((size_t)d * sizeof(double)),
                     0,
                     -1};
    ok = ok && rows && sc.offset && sc.factor && ps_pca_create(d, pmax, &pca) == PS_OK;
    if (!ok) {
      free(rows);
      free(sc.offset);
      free(sc.factor);
      break;
    }
    for (int64_t q = 0; q < n * d + d + pmax * d + 2 * d; q++) {
      st = st * 6364136223846793005ULL + 1442695040888963407ULL;
      const double u = (double)(st >> 11) / 9007199254740992.0 - 0.4;
      if (q < n * d)
        rows[q] = u * (1.0 + (double)(q % 5)) * 1e3;
      else if (q < n * d + d)
        pca->mean[q - n * d] = u;
      else if (q < n * d + d + pmax * d)
        pca->components[q - n * d - d] = u;
      else if (q < n * d + d + pmax * d + d)
        sc.offset[q - n * d - d - pmax * d] = u * 100;
      else
        sc.factor[q - n * d - 2 * d - pmax * d] = u / 300;
    }
    rows[7 * d + d - 1] = 1e300;
    ps_matrix_t *x = matrix_from(rows, n, d);
    ok = ok && x;
    for (int scaled = 0; scaled < 2 && x; scaled++)
      for (int64_t k = 1; k <= pmax; k++) {
        ps_matrix_t *y = NULL;
        if (ps_pca_project(pca, scaled ? &sc : NULL, x, k, &y) != PS_OK) {
          ok = 0;
          continue;
        }
        const int fused = ps_pca_project_fused(k);
        fused_seen |= fused;
        for (int64_t i = 0; i < x->n_local; i++)
          for (int64_t j = 0; j < k; j++) {
            double acc = 0.0, mag = 0.0;
            for (int64_t c = 0; c < d; c++) {
              const double xv = x->data[i * d + c];
              const double cv =
                  scaled ? (xv - sc.offset[c]) * sc.factor[c] - pca->mean[c] : xv - pca->mean[c];
              acc = fma(cv, pca->components[j * d + c], acc);
              mag += fabs(cv * pca->components[j * d + c]);
            }
            const double got = y->data[i * k + j];
            if (fused)
              same &= memcmp(&acc, &got, sizeof acc) == 0;
            else
              close &= fabs(acc - got) <= 1e-13 * mag;
          }
        ps_matrix_destroy(&y);
        cases++;
      }
    ps_matrix_destroy(&x);
    ps_pca_destroy(&pca);
    free(rows);
    free(sc.offset);
    free(sc.factor);
  }
  __builtin_cpu_init();
  const int avx512 = __builtin_cpu_supports("avx512f") && !ps_env_flag("POPSEG_NO_AVX512", 0),
            avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  const int want_fused = (avx512 || avx2) && !ps_env_flag("POPSEG_PCA_BLAS", 0);
  T_CHECK(ok && same && close && fused_seen == want_fused,
          "projection (%s): the column-order fma loop's %s (%d cases)",
          !fused_seen ? "dgemm per block"
          : avx512    ? "fused AVX-512 up to 16 components, dgemm past"
                      : "fused AVX2 up to 16 components, dgemm past",
          fused_seen ? "bits" : "values to rounding", cases);
}

int main(int argc, char **argv) {
  MPI_Init(&argc, &argv);
  ps_error_set_namer(ps_cli_flag_of); /* messages name the flags, as in popseg */
  MPI_Comm_rank(MPI_COMM_WORLD, &g_rank);
  MPI_Comm_size(MPI_COMM_WORLD, &g_size);
  T_INIT();
  const char *mode = getenv("PCA_TEST_MODE");
  g_dir = argc > 1 ? argv[1] : getenv("PCA_ORACLE_DIR");
  if (argc > 2) mode = argv[2];
  if (!g_dir) {
    if (g_rank == 0) fprintf(stderr, "usage: test_pca ORACLE_DIR [--big] (or $PCA_ORACLE_DIR)\n");
    MPI_Finalize();
    return 2;
  }
  if (mode && (!strcmp(mode, "--big") || !strcmp(mode, "big"))) {
    big();
  } else {
    static const pca_case_t cases[] = {
        {"census", PS_SCALE_MINMAX, 0.8, 0},
        {"const_minmax", PS_SCALE_MINMAX, 0.9, 0},
        {"const_standard", PS_SCALE_STANDARD, 0.8, 3},
        {"wide", PS_SCALE_MINMAX, 0.95, 0},
        {"offset", PS_SCALE_NONE, 0.5, 0},
        {"census_none", PS_SCALE_NONE, 0.99, 0},
    };
    names();
    project_kernel();
    sign_pivot();
    canonical_basis();
    scalapack_direct();
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
      for (int c = 0; c < 4; c++) run_case(&cases[i], &g_cfgs[c], c == 0);
    for (int c = 0; c < N_CFGS; c++) {
      hand_orthogonal(&g_cfgs[c]);
      hand_two_rows(&g_cfgs[c]);
    }
    bad_options();
  }
  int rc = T_FINISH();
  MPI_Finalize();
  return rc;
}
