/* test_kmeans.c - distributed k-means checks.
 *
 *   test_kmeans                      self-contained checks (options, ties, empty
 *                                    clusters, duplicates, restarts, tiny inputs)
 *   test_kmeans oracle DIR CASE...   compare with scikit-learn's answers written by
 *                                    tests/oracle/kmeans_oracle.py
 *   test_kmeans dump DIR DATA K NINIT SEED OUT
 *                                    fit DIR/DATA.x with each init, write the labels
 *                                    and inertia to OUT.<init> (rank 0)
 *   test_kmeans quality DIR          defaults on DIR/census.x vs DIR/census.best
 *   test_kmeans parallel DIR K NINIT SEED
 *                                    k-means|| vs k-means++ on DIR/mix.x
 * The data are split into balanced row blocks over MPI_COMM_WORLD.
 */
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "popseg/cli.h"
#include "kmeans_io.h"
#include "popseg/error.h"
#include "popseg/kmeans.h"
#include "popseg/kmeans_nearest.h"
#include "popseg/matrix.h"

static int g_rank, g_size;

/* This rank's block of a DIR/NAME raw array as a distributed matrix. */
static ps_matrix_t *load_block(const char *dir, const char *name) {
  char path[1024];
  int64_t rows, cols, off, cnt;
  ps_matrix_t *m = NULL;
  snprintf(path, sizeof path, "%s/%s", dir, name);
  if (kio_shape(path, &rows, &cols) != 0) return NULL;
  ps_block_range(rows, g_size, g_rank, &off, &cnt);
  double *buf = kio_read_rows(path, off, cnt, &cols);
  if (!buf) return NULL;
  if (ps_matrix_create(cnt, cols, off, rows, &m) != PS_OK) {
    free(buf);
    return NULL;
  }
  memcpy(m->data, buf, (size_t)(cnt * cols) * sizeof(double));
  free(buf);
  return m;
}

/* A distributed matrix whose global row g is row(g, out). */
static ps_matrix_t *make_matrix(int64_t n, int64_t d, void (*row)(int64_t, double *)) {
  int64_t off, cnt;
  ps_matrix_t *m = NULL;
  ps_block_range(n, g_size, g_rank, &off, &cnt);
  if (ps_matrix_create(cnt, d, off, n, &m) != PS_OK) return NULL;
  for (int64_t i = 0; i < cnt; i++) row(off + i, m->data + i * d);
  return m;
}

static int all_finite(const double *a, int64_t n) {
  for (int64_t i = 0; i < n; i++)
    if (!isfinite(a[i])) return 0;
  return 1;
}

static int labels_valid(const ps_kmeans_t *km) {
  for (int64_t i = 0; i < km->n_local; i++)
    if (km->labels[i] < 0 || km->labels[i] >= km->k) return 0;
  return 1;
}

/* Global labels on rank 0 (as int32 [n]); NULL elsewhere. */
static int32_t *gather_labels(const ps_kmeans_t *km, int64_t n) {
  int *counts = malloc((size_t)g_size * sizeof *counts);
  int *displs = malloc((size_t)g_size * sizeof *displs);
  int mine = (int)km->n_local;
  int32_t *all = g_rank == 0 ? malloc((size_t)(n > 0 ? n : 1) * sizeof *all) : NULL;
  MPI_Gather(&mine, 1, MPI_INT, counts, 1, MPI_INT, 0, MPI_COMM_WORLD);
  if (g_rank == 0)
    for (int r = 0, s = 0; r < g_size; r++) {
      displs[r] = s;
      s += counts[r];
    }
  MPI_Gatherv(km->labels, mine, MPI_INT32_T, all, counts, displs, MPI_INT32_T, 0, MPI_COMM_WORLD);
  free(counts);
  free(displs);
  return all;
}

/* ------------------------------------------------------------------------ */
/* Self-contained checks */

static void row_line(int64_t g, double *r) {
  r[0] = (double)g;
  r[1] = 0.5 * (double)(g % 3);
}

/* Three distinct points, repeated. */
static void row_three(int64_t g, double *r) {
  static const double p[3][2] = {{0, 0}, {5, 1}, {-2, 7}};
  r[0] = p[g % 3][0];
  r[1] = p[g % 3][1];
}

/* Rows 0..19 near 0, 20..39 near 10, row 40 at 30, row 41 at 25 (x axis). */
static void row_empty(int64_t g, double *r) {
  if (g < 20)
    r[0] = 0.01 * (double)g;
  else if (g < 40)
    r[0] = 10.0 + 0.01 * (double)(g - 20);
  else
    r[0] = g == 40 ? 30.0 : 25.0;
  r[1] = 0.0;
}

static void row_distinct(int64_t g, double *r) {
  r[0] = (double)((g * 7) % 11);
  r[1] = (double)((g * 3) % 5) + 0.1 * (double)g;
}

static ps_err_t fit_quiet(const ps_matrix_t *x, const ps_kmeans_opts_t *o, ps_kmeans_t **km) {
  ps_error_clear();
  return ps_kmeans_fit(x, o, MPI_COMM_WORLD, km);
}

static void check_bad(const ps_matrix_t *x, const ps_kmeans_opts_t *o, const char *opt,
                      const char *what) {
  ps_kmeans_t *km = NULL;
  ps_err_t e = fit_quiet(x, o, &km);
  const char *msg = ps_error_message();
  T_CHECK(e == PS_ERR_ARG && km == NULL && strstr(msg, opt) != NULL,
          "bad option %s rejected naming %s (got %d: %s)", what, opt, (int)e, msg);
  ps_kmeans_destroy(&km);
}

typedef struct {
  int calls, last_run, order_ok;
  double inertia[16];
} cb_log_t;

static void on_run(void *ctx, int run, int iterations, double inertia, int converged) {
  cb_log_t *c = ctx;
  if (run != c->calls || iterations < 1 || converged < 0) c->order_ok = 0;
  if (run < 16) c->inertia[run] = inertia;
  c->calls++;
  c->last_run = run;
}

/* Row g of a small-integer grid in d columns: exact arithmetic, many ties. */
static int64_t g_grid_d;
static void row_grid(int64_t g, double *r) {
  for (int64_t j = 0; j < g_grid_d; j++) r[j] = (double)((g * 7 + j * 3 + (g / 5) * j) % 5);
}

/* ps_kmeans_assign against brute force: the exact-distance path (few
 * columns, centres in several lane groups) and the BLAS path (many columns);
 * exact ties must go to the lowest centre index. */
static void assign_paths(void) {
  const int64_t dims[] = {3, 7, 40, 64}, ks[] = {11, 8, 5, 13};
  for (int q = 0; q < 4; q++) {
    const int64_t d = dims[q], k = ks[q], n = 97;
    g_grid_d = d;
    ps_matrix_t *x = make_matrix(n, d, row_grid);
    double *c = malloc((size_t)(k * d) * sizeof *c);
    int32_t *lab = x ? malloc((size_t)(x->n_local > 0 ? x->n_local : 1) * sizeof *lab) : NULL;
    double *dist = x ? malloc((size_t)(x->n_local > 0 ? x->n_local : 1) * sizeof *dist) : NULL;
    int ok = x && c && lab && dist, ties = 0;
    if (ok) {
      /* Centres: grid rows, the last two repeating the first two, so exact
       * ties occur. */
      for (int64_t j = 0; j < k; j++) row_grid((j % (k - 2)) * 3, c + j * d);
      ps_kmeans_assign(c, k, x, lab, dist);
      for (int64_t i = 0; i < x->n_local && ok; i++) {
        const double *xi = x->data + i * d;
        int64_t best = 0, nbest = 0;
        double bd = INFINITY;
        for (int64_t j = 0; j < k; j++) {
          double s = 0.0;
          for (int64_t t = 0; t < d; t++) s += (xi[t] - c[j * d + t]) * (xi[t] - c[j * d + t]);
          if (s < bd) {
            bd = s;
            best = j;
            nbest = 1;
          } else if (s == bd) {
            nbest++;
          }
        }
        if (nbest > 1) ties++;
        ok = lab[i] == best && dist[i] == sqrt(bd);
      }
    }
    int all_ties = ties;
    MPI_Allreduce(MPI_IN_PLACE, &all_ties, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
    T_CHECK(ok && all_ties > 0,
            "assign d=%lld k=%lld: labels and distances match brute force, ties to the "
            "lowest index (%d tied rows)",
            (long long)d, (long long)k, all_ties);
    free(c);
    free(lab);
    free(dist);
    ps_matrix_destroy(&x);
  }
}

/* The test data's generator (Knuth's MMIX LCG): st advances in place. */
static void lcg_next(uint64_t *st) {
  *st = *st * 6364136223846793005ULL + 1442695040888963407ULL;
}

/* Hamerly's bounds step (ps_km_bounds_step: AVX-512, AVX2 or portable, whichever
 * this processor and POPSEG_KMEANS_PORTABLE pick) against the plain formula
 * of the header, bit for bit: the failing rows, in order, and the bounds
 * left as they were (a step only reads them). Row counts that leave tails, k
 * up to 20 (permute and gather), gaps of -inf (a relocated row) and +inf (k =
 * 1), upper offsets below zero, and rows that pass by either test alone. */
static void bounds_step(void) {
  uint64_t st = 99;
  int same = 1, cases = 0, some_fail = 0, some_pass1 = 0, some_pass2 = 0;
  const int64_t ks[] = {1, 3, 8, 13, 20}, ms[] = {1, 7, 8, 9, 64, 255, 256};
  for (size_t a = 0; a < sizeof ks / sizeof *ks; a++)
    for (size_t b = 0; b < sizeof ms / sizeof *ms; b++) {
      const int64_t k = ks[a], m = ms[b], i0 = 5, n = i0 + m;
      double gmin[20], dcum[20], half[20];
      int32_t lab[300];
      float up[300], gap[300], up2[300], gap2[300];
      int64_t out[300], ref[300];
      for (int64_t j = 0; j < k; j++) {
        lcg_next(&st);
        dcum[j] = (double)(st >> 40) / 16777216.0 * 3.0;
        gmin[j] = ps_km_next_up(dcum[j] + (double)((st >> 8) & 0xfff) / 4096.0);
        half[j] = 0.5 + (double)((st >> 20) & 0xfffff) / 1048576.0;
      }
      for (int64_t i = 0; i < n; i++) {
        lcg_next(&st);
        lab[i] = (int32_t)((st >> 33) % (uint64_t)k);
        up[i] = up2[i] = (float)((double)(st >> 44) / 1048576.0 * 2.0 - dcum[lab[i]]);
        gap[i] = gap2[i] = (st & 31) == 0 ? -INFINITY
                           : (st & 31) == 1
                               ? INFINITY
                               : (float)((double)((st >> 12) & 0xfffff) / 1048576.0 * 8.0);
      }
      ps_km_bounds_t bs = {.k = k, .gmin = gmin, .dcum = dcum, .half = half, .n = n};
      const int64_t nb = ps_km_bounds_step(&bs, lab, up, gap, i0, m, out);
      int64_t nr = 0;
      for (int64_t i = i0; i < n; i++) {
        const int32_t c = lab[i];
        const int p1 = (double)gap2[i] > gmin[c];
        const int p2 = ps_km_next_up((double)up2[i] + dcum[c]) < half[c];
        if (!p1 && !p2) ref[nr++] = i;
        some_pass1 |= p1 && !p2;
        some_pass2 |= p2 && !p1;
      }
      same &= nb == nr && memcmp(out, ref, (size_t)nr * sizeof *out) == 0 &&
              memcmp(up, up2, (size_t)n * sizeof *up) == 0 &&
              memcmp(gap, gap2, (size_t)n * sizeof *gap) == 0;
      some_fail |= nr > 0;
      cases++;
    }
  T_CHECK(same && some_fail && some_pass1 && some_pass2,
          "Hamerly bounds step (%s): the plain formula's failing rows, bounds unwritten (%d cases)",
          getenv("POPSEG_KMEANS_PORTABLE") ? "portable"
          : ps_km_nearest_simd() == 2      ? "AVX-512"
          : ps_km_nearest_simd() == 1      ? "AVX2"
                                           : "portable",
          cases);
  /* At the thresholds, by hand (k 3: permutes, 13: gathers; 600 rows: the
   * fetches 256 rows ahead run): a gap equal to the first threshold and an
   * upper bound whose next double up equals the half gap both fail (the
   * tests are strict), a float above / below passes, NaN and infinite bounds
   * fail, a bound of exactly 0 passes. Failing: rows i % 6 in {0, 3, 4}. */
  for (int64_t k = 3; k <= 13; k += 10) {
    enum { N = 600 };
    static int32_t lab[N];
    static float up[N], gap[N];
    static int64_t out[N];
    double gmin[13], dcum[13], half[13];
    for (int64_t j = 0; j < k; j++) {
      dcum[j] = 0.25 * (double)(j + 1);
      gmin[j] = 2.0 * (double)(j + 1);
      half[j] = ps_km_next_up(0.75 + dcum[j]);
    }
    for (int64_t i = 0; i < N; i++) {
      const int32_t a = (int32_t)(i % k);
      const float g = (float)gmin[a], u = (float)(0.75);
      lab[i] = a;
      switch (i % 6) {
      case 0:
        up[i] = u, gap[i] = g;
        break;
      case 1:
        up[i] = u, gap[i] = nextafterf(g, INFINITY);
        break;
      case 2:
        up[i] = nextafterf(u, 0.0f), gap[i] = g;
        break;
      case 3:
        up[i] = NAN, gap[i] = NAN;
        break;
      case 4:
        up[i] = INFINITY, gap[i] = -INFINITY;
        break;
      default:
        up[i] = (float)-dcum[a], gap[i] = 0.0f;
        break;
      }
    }
    ps_km_bounds_t bs = {.k = k, .gmin = gmin, .dcum = dcum, .half = half, .n = N};
    const int64_t i0 = 3, nb = ps_km_bounds_step(&bs, lab, up, gap, i0, N - i0, out);
    int64_t nr = 0, ok = 1;
    for (int64_t i = i0; i < N; i++)
      if (i % 6 == 0 || i % 6 == 3 || i % 6 == 4) ok &= nr < nb && out[nr++] == i;
    T_CHECK(ok && nb == nr,
            "Hamerly bounds step at its thresholds (k = %lld): strict tests, NaN and inf fail, "
            "%lld of %d rows failing as by hand",
            (long long)k, (long long)nb, N - 3);
  }
  /* The next double up: one step above, +0 to the least subnormal. */
  const double one = ps_km_next_up(1.0), z = ps_km_next_up(0.0);
  T_CHECK(one > 1.0 && one - 1.0 == 0x1p-52 && z > 0.0 && z == 0x1p-1074,
          "ps_km_next_up: 1 -> 1 + 2^-52, 0 -> 2^-1074");
}

/* The stored bounds (ps_km_bounds_store): a batch (eight rows at a time
 * with AVX-512, four with AVX2, where ps_km_bounds_store_rows says so,
 * POPSEG_KMEANS_BOUNDS8 forcing it) against
 * the same rows stored one at a time (always the one-row form), bit for bit,
 * rows scattered (idx) and in a run (i0), the rows not named left alone; and
 * each bound outward of the plain formula: up + Dc at or above u, gap at or
 * below l - u + Dc + Mc. Batch sizes with tails, k = 1 (l2 +inf: gap +inf),
 * bounds beyond the floats (up +inf, gap clamped to FLT_MAX), zeros. */
static void bounds_store(void) {
  enum { N = 600 };
  static float up[N], gap[N], up1[N], gap1[N];
  static double u2[N], l2[N];
  static int64_t idx[N];
  static int32_t lab[N];
  uint64_t st = 7;
  int same = 1, outward = 1, saw_inf = 0, saw_clamp = 0, cases = 0;
  const int64_t ks[] = {1, 3, 8, 20}, ns[] = {1, 7, 8, 9, 64, 255, 256};
  for (size_t a = 0; a < sizeof ks / sizeof *ks; a++)
    for (size_t c = 0; c < sizeof ns / sizeof *ns; c++)
      for (int scattered = 0; scattered < 2; scattered++) {
        const int64_t k = ks[a], n = ns[c], i0 = 11;
        double dcum[20], mcum[20];
        for (int64_t j = 0; j < k; j++) {
          lcg_next(&st);
          dcum[j] = (double)(st >> 40) / 16777216.0 * 4.0;
          mcum[j] = (double)((st >> 8) & 0xffff) / 65536.0 * 2.0;
        }
        /* A scattered batch: distinct rows in a shuffled order. */
        for (int64_t i = 0; i < N; i++) idx[i] = i;
        for (int64_t i = N - 1; i > 0; i--) {
          lcg_next(&st);
          const int64_t j = (int64_t)((st >> 33) % (uint64_t)(i + 1)), t = idx[i];
          idx[i] = idx[j], idx[j] = t;
        }
        for (int64_t b = 0; b < n; b++) {
          lcg_next(&st);
          lab[b] = (int32_t)((st >> 33) % (uint64_t)k);
          const double r = (double)(st >> 44) / 1048576.0;
          switch (st & 15) {
          case 0: /* beyond the floats */
            u2[b] = 1e80, l2[b] = 4e80;
            break;
          case 1: /* a row on its centre */
            u2[b] = 0.0, l2[b] = r;
            break;
          default:
            u2[b] = r * r * 9.0, l2[b] = u2[b] + (double)((st >> 12) & 0xffff) / 4096.0;
            break;
          }
          if (k == 1) l2[b] = INFINITY;
        }
        for (int64_t i = 0; i < N; i++) up[i] = up1[i] = gap[i] = gap1[i] = -7.0f;
        const int64_t *ix = scattered ? idx : NULL;
        ps_km_bounds_store(dcum, mcum, ix, i0, lab, u2, l2, n, up, gap);
        for (int64_t b = 0; b < n; b++)
          ps_km_bounds_store(dcum, mcum, ix ? ix + b : NULL, i0 + b, lab + b, u2 + b, l2 + b, 1,
                             up1, gap1);
        same &= memcmp(up, up1, sizeof up) == 0 && memcmp(gap, gap1, sizeof gap) == 0;
        int64_t written = 0;
        for (int64_t i = 0; i < N; i++) written += up[i] != -7.0f;
        same &= written == n;
        for (int64_t b = 0; b < n; b++) {
          const int64_t r = ix ? ix[b] : i0 + b;
          const double dc = dcum[lab[b]], mc = mcum[lab[b]], u = sqrt(u2[b]);
          outward &= (double)up[r] + dc >= u;
          if (k == 1)
            outward &= isinf(gap[r]) && gap[r] > 0;
          else
            outward &= (double)gap[r] <= sqrt(l2[b]) - u + dc + mc;
          saw_inf |= isinf(up[r]) && up[r] > 0;
          saw_clamp |= gap[r] == FLT_MAX;
        }
        cases++;
      }
  T_CHECK(same && outward && saw_inf && saw_clamp,
          "Hamerly bounds store (%s): a batch gives the bits of one row at a time, "
          "each bound outward (%d cases)",
          ps_km_bounds_store_rows() == 8   ? "AVX-512, eight rows"
          : ps_km_bounds_store_rows() == 4 ? "AVX2, four rows"
                                           : "one row at a time",
          cases);
}

/* The search's answers for the n rows (idx[q] of x, or row q) against brute
 * force over the k centres c: lab the exact argmin (ties to the lowest
 * index), d2 (if given) the exact distance's bits, ub2 at or above the own
 * centre's distance and lb2 at or below every other's. Adds to *ties the
 * rows with an exact tie and to *loose (if given) the rows whose upper bound
 * is above the distance by more than a relative 1e-9 (the double forms'
 * window is about 1e-12). Returns 1 if every row matches. */
static int rows_match_brute(const double *x, const int64_t *idx, int64_t n, int64_t dim,
                            const double *c, int64_t k, const int32_t *lab, const double *d2,
                            const double *ub2, const double *lb2, int *ties, int64_t *loose) {
  int ok = 1;
  for (int64_t q = 0; q < n; q++) {
    const double *xi = x + (idx ? idx[q] : q) * dim;
    int64_t best = 0, nbest = 0;
    double bd = INFINITY, dist[64];
    for (int64_t j = 0; j < k; j++) {
      dist[j] = ps_km_sqdist(xi, c + j * dim, dim);
      if (dist[j] < bd) {
        bd = dist[j];
        best = j;
        nbest = 1;
      } else if (dist[j] == bd) {
        nbest++;
      }
    }
    *ties += nbest > 1;
    if (loose) *loose += ub2[q] - bd > 1e-9 * ub2[q];
    ok &= lab[q] == best && ub2[q] >= bd;
    if (d2) ok &= memcmp(&d2[q], &bd, sizeof bd) == 0;
    for (int64_t j = 0; j < k; j++)
      if (j != best) ok &= lb2[q] <= dist[j];
  }
  return ok;
}

/* ps_km_nearest_rows_lb (every form: the eight-rows and the centre-lanes
 * AVX-512 forms, AVX2, portable, BLAS, as the environment picks) against
 * brute force: labels the exact argmin (ties to the lowest index), d2 the
 * exact distance's bits, ub2 at or above the own centre's distance and lb2 at
 * or below every other's. Rows from centres plus noise, every fifth a copy
 * of a centre midpoint (near and exact ties); dimensions 1 to 20 (past the
 * eight-rows form's 16), k 1 to 33 (past the lanes' 32), row counts with
 * tails of the blocks of eight, all rows or a scattered subset (idx). */
static void nearest_rows(void) {
  uint64_t st = 2024;
  const int64_t dims[] = {1, 2, 7, 8, 9, 15, 16, 20}, ks[] = {1, 2, 5, 8, 9, 16, 33};
  enum { NMAX = 203, DMAX = 20, KMAX = 33 };
  static double x[NMAX * DMAX], c[KMAX * DMAX], d2[NMAX], ub2[NMAX], lb2[NMAX];
  static int32_t lab[NMAX];
  static int64_t idx[NMAX];
  int ok = 1, cases = 0, ties = 0, tail = 0;
  for (size_t a = 0; a < sizeof dims / sizeof *dims; a++)
    for (size_t b = 0; b < sizeof ks / sizeof *ks; b++)
      for (int sub = 0; sub < 2; sub++) {
        const int64_t dim = dims[a], k = ks[b], n = sub ? 203 : 29 + (int64_t)(a * 7 + b) % 40;
        for (int64_t q = 0; q < k * dim; q++) {
          lcg_next(&st);
          c[q] = (double)(st >> 40) / 16777216.0 * 4.0 + 10.0; /* away from 0 */
        }
        for (int64_t i = 0; i < n; i++)
          for (int64_t d = 0; d < dim; d++) {
            lcg_next(&st);
            const int64_t j = (int64_t)((st >> 33) % (uint64_t)k), j2 = (j + 1) % k;
            x[i * dim + d] = i % 5 == 4 ? 0.5 * (c[j * dim + d] + c[j2 * dim + d])
                                        : c[j * dim + d] + ((double)(st >> 44) / 1048576.0 - 0.5);
          }
        /* Rows 0 and 1: exact copies of centres 0 and k-1 (with k >= 2, a
         * midpoint row above may tie exactly too). */
        for (int64_t d = 0; d < dim; d++) {
          x[d] = c[d];
          x[dim + d] = c[(k - 1) * dim + d];
        }
        int64_t m = 0;
        for (int64_t i = 0; i < n; i++)
          if (!sub || i % 3 != 1) idx[m++] = i;
        ps_km_nearest_t w;
        if (!ps_km_nearest_alloc(&w, k, dim)) {
          ok = 0;
          continue;
        }
        ps_km_nearest_prep(&w, c, k);
        for (int with_d2 = 0; with_d2 < 2; with_d2++) {
          memset(lab, 0xff, sizeof lab);
          ps_km_nearest_rows_lb(&w, x, sub ? idx : NULL, sub ? m : n, lab, with_d2 ? d2 : NULL, ub2,
                                lb2);
          ok &= rows_match_brute(x, sub ? idx : NULL, sub ? m : n, dim, c, k, lab,
                                 with_d2 ? d2 : NULL, ub2, lb2, &ties, NULL);
        }
        /* Without bounds, and labels only. */
        int32_t lab2[NMAX];
        ps_km_nearest_rows(&w, x, n, lab2, NULL);
        ps_km_nearest_rows_lb(&w, x, NULL, n, lab, NULL, ub2, lb2);
        ok &= memcmp(lab, lab2, (size_t)n * sizeof *lab) == 0;
        tail |= n % 8 != 0;
        ps_km_nearest_free(&w);
        cases++;
      }
  T_CHECK(ok && ties > 0 && tail,
          "nearest centre (%s%s): exact labels, distances and valid bounds against brute force "
          "(%d cases, %d tied rows)",
          getenv("POPSEG_KMEANS_PORTABLE") ? "portable"
          : ps_km_nearest_simd() == 2      ? "AVX-512"
          : ps_km_nearest_simd() == 1      ? "AVX2"
                                           : "portable",
          getenv("POPSEG_KMEANS_NO_ROWS") ? ", centre lanes only" : "", cases, ties);
}

/* ps_km_nearest_rows_lb at the edges of the single-precision rows forms
 * (AVX-512, AVX2): rows a relative 1e-3 .. 1e-12 from the midpoint of two centres
 * (near ties at float precision, which must go to the exact decision),
 * magnitudes from 1e-30 (subnormal floats) to 1e20 (centres beyond F32_BIG:
 * the double form), and rows 1e16 times the centres (beyond F32_BIG
 * alone); against brute force as nearest_rows. The form runs for the
 * centres that fit (w.f32) and is checked to have been picked. */
static void nearest_rows_scales(void) {
  uint64_t st = 99;
  const double scales[] = {1e-30, 1e-18, 1.0, 1e12, 1e20};
  const double deltas[] = {1e-3, -1e-5, 1e-7, -1e-8, 1e-9, 1e-12};
  const int64_t dims[] = {9, 16}, ks[] = {3, 8};
  enum { N = 203, DMAX = 16, KMAX = 8 };
  static double x[N * DMAX], c[KMAX * DMAX], ub2[N], lb2[N];
  static int32_t lab[N];
  static int64_t idx[N];
  int ok = 1, fits = 1, cases = 0, f32_cases = 0, ties = 0;
  /* Rows whose upper bound is looser than the double forms' window allows
   * (rows_match_brute): rows the single-precision form decided, which must
   * exist exactly where it runs. */
  int64_t loose = 0;
  for (size_t a = 0; a < sizeof dims / sizeof *dims; a++)
    for (size_t b = 0; b < sizeof ks / sizeof *ks; b++)
      for (size_t sc = 0; sc < sizeof scales / sizeof *scales; sc++)
        for (int huge = 0; huge < 2; huge++) {
          const int64_t dim = dims[a], k = ks[b];
          const double scale = scales[sc];
          for (int64_t q = 0; q < k * dim; q++) {
            lcg_next(&st);
            c[q] = scale * ((double)(st >> 40) / 16777216.0 * 4.0 + 10.0);
          }
          for (int64_t i = 0; i < N; i++) {
            lcg_next(&st);
            const int64_t j = (int64_t)((st >> 33) % (uint64_t)k), j2 = (j + 1) % k;
            const double dl = deltas[(st >> 20) % (sizeof deltas / sizeof *deltas)];
            for (int64_t d = 0; d < dim; d++) {
              lcg_next(&st);
              const double cj = c[j * dim + d], cj2 = c[j2 * dim + d];
              x[i * dim + d] = i % 2 ? 0.5 * (cj + cj2) + dl * (cj - cj2)
                                     : cj + scale * ((double)(st >> 44) / 1048576.0 - 0.5);
              if (huge && i % 7 == 3) x[i * dim + d] *= 1e16;
            }
          }
          int64_t m = 0;
          for (int64_t i = 0; i < N; i++)
            if (i % 3 != 1) idx[m++] = i;
          ps_km_nearest_t w;
          if (!ps_km_nearest_alloc(&w, k, dim)) {
            ok = 0;
            continue;
          }
          ps_km_nearest_prep(&w, c, k);
          /* The form takes exactly the centres whose cn is below 2^100. */
          if (w.lanes) fits &= w.f32 == (scale < 1e15);
          f32_cases += ps_km_nearest_f32_used(&w);
          for (int sub = 0; sub < 2; sub++) {
            const int64_t nn = sub ? m : N;
            memset(lab, 0xff, sizeof lab);
            for (int64_t q = 0; q < N; q++) ub2[q] = lb2[q] = NAN; /* unwritten: fails */
            ps_km_nearest_rows_lb(&w, x, sub ? idx : NULL, nn, lab, NULL, ub2, lb2);
            ok &= rows_match_brute(x, sub ? idx : NULL, nn, dim, c, k, lab, NULL, ub2, lb2, &ties,
                                   &loose);
          }
          ps_km_nearest_free(&w);
          cases++;
        }
  const int f32_expected = ps_km_nearest_simd() >= 1 && !getenv("POPSEG_KMEANS_NO_ROWS") &&
                           !getenv("POPSEG_KMEANS_NO_F32");
  T_CHECK(ok && fits && (f32_cases > 0) == f32_expected && (loose > 0) == f32_expected,
          "nearest centre at float precision's edges (%s): exact labels and valid bounds for "
          "near ties, subnormal and huge magnitudes (%d cases, %d with single-precision centres, "
          "%lld rows decided in single precision)",
          getenv("POPSEG_KMEANS_NO_F32")              ? "single-precision form off"
          : getenv("POPSEG_KMEANS_NO_ROWS")           ? "rows forms off"
          : f32_expected && ps_km_nearest_simd() == 2 ? "AVX-512 single-precision rows"
          : f32_expected                              ? "AVX2 single-precision rows"
                                                      : "portable",
          cases, f32_cases, (long long)loose);
}

/* k-means++'s kernels (ps_km_trials4: AVX-512, AVX2 or portable; ps_km_dist_min)
 * against the plain formulas, bit for bit: each distance summed over d in
 * order, min with the weight, times the row weight, summed over the rows in
 * order. Dimensions 1 to 20 (past the kernel's 16 column registers), row
 * counts with tails, weights that win and lose the min. */
static void seeding_kernels(void) {
  uint64_t st = 7;
  int same = 1, cols_same = 1, cases = 0, some_min = 0, some_dist = 0, some_cols = 0;
  const int64_t dims[] = {1, 2, 7, 9, 16, 17, 20}, ns[] = {0, 1, 3, 8, 33};
  enum { NMAX = 33, DMAX = 20 };
  double x[NMAX * DMAX], xc[NMAX * DMAX], ctg[DMAX * 4], cand[4][DMAX], w[NMAX], wt[NMAX], w2[NMAX],
      w3[NMAX];
  for (size_t a = 0; a < sizeof dims / sizeof *dims; a++)
    for (size_t b = 0; b < sizeof ns / sizeof *ns; b++)
      for (int weighted = 0; weighted < 2; weighted++) {
        const int64_t dim = dims[a], n = ns[b];
        for (int64_t q = 0; q < n * dim; q++) {
          lcg_next(&st);
          x[q] = (double)(st >> 11) / 9007199254740992.0 * 3.0 - 1.0;
        }
        for (int l = 0; l < 4; l++)
          for (int64_t d = 0; d < dim; d++) {
            lcg_next(&st);
            cand[l][d] = (double)(st >> 11) / 9007199254740992.0 * 2.0;
            ctg[d * 4 + l] = cand[l][d];
          }
        for (int64_t i = 0; i < n; i++) {
          lcg_next(&st);
          w[i] = w2[i] = w3[i] = (double)(st >> 11) / 9007199254740992.0 * 2.0 * (double)dim;
          wt[i] = 0.5 + (double)(st & 0xffff) / 65536.0;
        }
        double p[4] = {0.25, 0.5, 0.75, 1.0}, r[4] = {0.25, 0.5, 0.75, 1.0},
               pc[4] = {0.25, 0.5, 0.75, 1.0};
        ps_km_trials4(x, n, dim, ctg, w, weighted ? wt : NULL, p);
        /* The same from the columns (the lockstep seeding's transpose). */
        const int64_t nc = ps_km_columns8(x, n, dim, xc);
        some_cols |= nc > 0;
        cols_same &= nc % 8 == 0 && nc <= n && (nc == n / 8 * 8 || nc == 0);
        ps_km_trials4_cols(x, xc, nc, n, dim, ctg, w, weighted ? wt : NULL, pc);
        cols_same &= memcmp(p, pc, sizeof p) == 0;
        for (int64_t i = 0; i < n; i++)
          for (int l = 0; l < 4; l++) {
            double dl = ps_km_sqdist(x + i * dim, cand[l], dim);
            some_min |= dl >= w[i];
            some_dist |= dl < w[i];
            dl = dl < w[i] ? dl : w[i];
            r[l] += weighted ? wt[i] * dl : dl;
          }
        same &= memcmp(p, r, sizeof p) == 0;
        ps_km_dist_min(x, n, dim, cand[weighted], w);
        ps_km_dist_min_cols(x, xc, nc, n, dim, cand[weighted], w3);
        for (int64_t i = 0; i < n; i++) {
          const double dl = ps_km_sqdist(x + i * dim, cand[weighted], dim);
          w2[i] = dl < w2[i] ? dl : w2[i];
        }
        same &= memcmp(w, w2, (size_t)n * sizeof *w) == 0;
        cols_same &= memcmp(w3, w2, (size_t)n * sizeof *w) == 0;
        cases++;
      }
  T_CHECK(
      same && some_min && some_dist,
      "k-means++ trial potentials (%s) and distance minimum: the plain formulas' bits (%d cases)",
      getenv("POPSEG_KMEANS_PORTABLE")                                ? "portable"
      : ps_km_nearest_simd() == 2 && !getenv("POPSEG_KMEANS_NO_ROWS") ? "AVX-512 rows, AVX2 tails"
      : ps_km_nearest_simd() >= 1                                     ? "AVX2"
                                                                      : "portable",
      cases);
  /* Where the kernels read columns (AVX-512 and not POPSEG_KMEANS_NO_ROWS),
   * some case must have laid rows out; elsewhere none may. */
  const int reads_cols = ps_km_nearest_simd() == 2 && !getenv("POPSEG_KMEANS_NO_ROWS") &&
                         !getenv("POPSEG_KMEANS_PORTABLE");
  T_CHECK(cols_same && some_cols == reads_cols,
          "k-means++ kernels from the rows' columns (ps_km_columns8, %s): the same bits as from "
          "the rows (%d cases)",
          reads_cols ? "laid out" : "not used here", cases);
}

/* The squared distance of each row to its own centre (ps_km_sqdist_own,
 * k-means' final distances): sqdist's bits for 1-20 columns, k up to 8 (the
 * centres' columns in registers) and beyond (gathered), row counts that leave
 * a tail. */
static void own_distances(void) {
  uint64_t st = 11;
  enum { NMAX = 45, DMAX = 20, KMAX = 12 };
  double x[NMAX * DMAX], c[KMAX * DMAX], got[NMAX], want[NMAX];
  int32_t lab[NMAX];
  const int64_t dims[] = {1, 2, 7, 8, 9, 16, 17, 20}, ns[] = {0, 1, 7, 8, 9, 45},
                ks[] = {1, 3, 8, 9, 12};
  int same = 1, cases = 0;
  for (size_t a = 0; a < sizeof dims / sizeof *dims; a++)
    for (size_t b = 0; b < sizeof ns / sizeof *ns; b++)
      for (size_t e = 0; e < sizeof ks / sizeof *ks; e++) {
        const int64_t dim = dims[a], n = ns[b], k = ks[e];
        for (int64_t q = 0; q < n * dim; q++) {
          lcg_next(&st);
          x[q] = (double)(st >> 11) / 9007199254740992.0 * 3.0 - 1.0;
        }
        for (int64_t q = 0; q < k * dim; q++) {
          lcg_next(&st);
          c[q] = (double)(st >> 11) / 9007199254740992.0 * 2.0;
        }
        for (int64_t i = 0; i < n; i++) {
          lcg_next(&st);
          lab[i] = (int32_t)((st >> 33) % (uint64_t)k);
          want[i] = ps_km_sqdist(x + i * dim, c + (int64_t)lab[i] * dim, dim);
        }
        ps_km_sqdist_own(x, n, dim, c, k, lab, got);
        same &= memcmp(got, want, (size_t)n * sizeof *got) == 0;
        cases++;
      }
  /* Which form ran: AVX-512 (up to 16 columns) unless a switch or the
   * processor leaves it out, the plain loop otherwise. */
  const int simd = ps_km_nearest_simd() == 2 && !getenv("POPSEG_KMEANS_NO_ROWS") &&
                   !getenv("POPSEG_KMEANS_PORTABLE");
  T_CHECK(same, "distances to the rows' own centres (%s): sqdist's bits (%d cases, k 1-12)",
          simd ? "AVX-512 up to 16 columns" : "the plain loop", cases);
}

/* ------------------------------------------------------------------------ */
/* Restarts in lockstep (ps_kmeans_opts_t.lockstep): any L gives lockstep 1's
 * result bit for bit. */

/* Row g of the lockstep data (3 columns): every fifth row an exact copy of
 * one of three points (random seeding then picks coinciding centres, whose
 * higher-index one is left empty and relocated), the others six overlapping
 * blobs (restarts that take different numbers of iterations). */
static uint64_t mix64(uint64_t z) {
  z += 0x9e3779b97f4a7c15ULL;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}
/* Row g of 40 columns in [0, 1): for fits with a large k x dim. */
static void row_wide(int64_t g, double *r) {
  for (int d = 0; d < 40; d++)
    r[d] = (double)(mix64((uint64_t)(g * 40 + d)) >> 11) / 9007199254740992.0;
}
static void row_lock(int64_t g, double *r) {
  static const double dup[3][3] = {{0.5, 0.5, 0.5}, {3.0, -1.0, 2.0}, {-2.0, 2.5, -0.5}};
  static const double blob[6][3] = {{0, 0, 0},   {2, 0, 1},  {0, 2.5, 0},
                                    {-2, -1, 1}, {1, 1, -2}, {3, 3, 3}};
  const uint64_t h = mix64((uint64_t)g);
  if (g % 5 == 0) {
    memcpy(r, dup[(h >> 7) % 3], 3 * sizeof *r);
    return;
  }
  const double *b = blob[(h >> 11) % 6];
  for (int d = 0; d < 3; d++)
    r[d] = b[d] + (double)((h >> (20 + 11 * d)) & 0x7ff) / 2048.0 * 2.4 - 1.2;
}
/* The weight of row g: some zero (clusters of weight 0 are empty). */
static double weight_lock(int64_t g) {
  return g % 9 == 4 ? 0.0 : 0.25 + (double)((mix64((uint64_t)g) >> 40) & 0xff) / 64.0;
}

enum { LS_MAXRUNS = 32 };
typedef struct {
  int calls, order_ok;
  int iters[LS_MAXRUNS], conv[LS_MAXRUNS];
  double inertia[LS_MAXRUNS];
} ls_log_t;

static void ls_on_run(void *ctx, int run, int iterations, double inertia, int converged) {
  ls_log_t *c = ctx;
  if (run != c->calls || run < 0 || run >= LS_MAXRUNS) {
    c->order_ok = 0;
  } else {
    c->iters[run] = iterations;
    c->inertia[run] = inertia;
    c->conv[run] = converged;
  }
  c->calls++;
}

/* 0 if a and b are the same fit bit for bit, else the number of the first
 * field that differs (ls_field). Local: labels and distances of this rank. */
static const char *const ls_field[] = {"",
                                       "a fit failed",
                                       "shape (k, dim, n_local, n_runs)",
                                       "centroids",
                                       "labels",
                                       "distance",
                                       "sizes",
                                       "weight_sizes",
                                       "run_inertia",
                                       "run_iterations",
                                       "inertia",
                                       "best_run",
                                       "iterations",
                                       "converged",
                                       "total_iterations",
                                       "distances",
                                       "distances_lloyd",
                                       "n_empty_relocations",
                                       "few_distinct",
                                       "init_given / algorithm",
                                       "lockstep (not the runs at a time asked for)"};
static int ls_diff(const ps_kmeans_t *a, const ps_kmeans_t *b) {
  if (!a || !b) return 1;
  if (a->k != b->k || a->dim != b->dim || a->n_local != b->n_local || a->n_runs != b->n_runs)
    return 2;
  const size_t kd = (size_t)(a->k * a->dim), nl = (size_t)a->n_local, k = (size_t)a->k,
               nr = (size_t)a->n_runs;
  if (memcmp(a->centroids, b->centroids, kd * sizeof(double))) return 3;
  if (nl && memcmp(a->labels, b->labels, nl * sizeof(int32_t))) return 4;
  if (nl && memcmp(a->distance, b->distance, nl * sizeof(double))) return 5;
  if (memcmp(a->sizes, b->sizes, k * sizeof(int64_t))) return 6;
  if (!a->weight_sizes != !b->weight_sizes ||
      (a->weight_sizes && memcmp(a->weight_sizes, b->weight_sizes, k * sizeof(double))))
    return 7;
  if (memcmp(a->run_inertia, b->run_inertia, nr * sizeof(double))) return 8;
  if (memcmp(a->run_iterations, b->run_iterations, nr * sizeof(int))) return 9;
  if (memcmp(&a->inertia, &b->inertia, sizeof a->inertia)) return 10;
  if (a->best_run != b->best_run) return 11;
  if (a->iterations != b->iterations) return 12;
  if (a->converged != b->converged) return 13;
  if (a->total_iterations != b->total_iterations) return 14;
  if (a->distances != b->distances) return 15;
  if (a->distances_lloyd != b->distances_lloyd) return 16;
  if (a->n_empty_relocations != b->n_empty_relocations) return 17;
  if (a->few_distinct != b->few_distinct) return 18;
  if (a->init_given != b->init_given || a->algorithm != b->algorithm) return 19;
  return 0;
}

/* The callback saw every run once, in order, with the fit's iterations and
 * inertia; the best run is the first of the lowest inertia. */
static int ls_log_ok(const ls_log_t *c, const ps_kmeans_t *km) {
  if (!km || !c->order_ok || c->calls != km->n_runs || km->n_runs > LS_MAXRUNS) return 0;
  int best = 0;
  for (int r = 0; r < km->n_runs; r++) {
    if (c->iters[r] != km->run_iterations[r] ||
        memcmp(&c->inertia[r], &km->run_inertia[r], sizeof(double)) ||
        (c->conv[r] != 0 && c->conv[r] != 1))
      return 0;
    if (km->run_inertia[r] < km->run_inertia[best]) best = r;
  }
  return km->best_run == best && c->conv[best] == km->converged && c->iters[best] == km->iterations;
}

typedef struct {
  const char *name;
  int data; /* 0: row_lock (1300 rows), 1: row_three (30 rows), 2: row_empty (42 rows) */
  int64_t k;
  int n_init, max_iter, weighted, given;
  ps_kmeans_algorithm_t alg;
  ps_kmeans_init_t init;
  double tol;
  uint64_t seed;
} ls_case_t;

static void lockstep_checks(const ps_matrix_t *xline) {
  ps_kmeans_opts_t o;
  /* The option: auto by default, 1..16, a row's bytes grow by 12 a run. */
  ps_kmeans_opts_default(&o);
  T_CHECK(o.lockstep == 0, "lockstep: auto (0) by default (got %d)", o.lockstep);
  {
    int64_t b[5];
    const int ls[5] = {1, 2, 3, 10, 0};
    int ok = 1;
    double w1 = 1.0;
    for (int weighted = 0; weighted < 2; weighted++) {
      ps_kmeans_opts_default(&o);
      o.n_init = 10;
      if (weighted) o.weights = &w1;
      for (int q = 0; q < 5; q++) {
        o.lockstep = ls[q];
        b[q] = ps_kmeans_row_bytes(&o, 4000000);
      }
      ok &= b[1] - b[0] == 12 && b[2] - b[0] == 2 * 12 && b[3] - b[0] == 9 * 12 && b[4] == b[3];
      if (g_rank == 0 && !ok)
        fprintf(stderr,
                "  row bytes (weighted %d) for lockstep 1, 2, 3, 10, auto: %lld %lld %lld "
                "%lld %lld\n",
                weighted, (long long)b[0], (long long)b[1], (long long)b[2], (long long)b[3],
                (long long)b[4]);
    }
    T_CHECK(ok, "lockstep: ps_kmeans_row_bytes grows by 12 bytes a row per run in lockstep (n_init "
                "10: lockstep 1, 2, 3, 10, auto), weighted or not");
  }
  {
    /* The runs the budget counts: n_init auto's for the rows given (10 on
     * 4M rows, 100 on the census's 3218: both 10 at a time), a given n_init
     * below L, and one run from given centroids (init_from, as the pipeline
     * budgets before it loads them). */
    ps_kmeans_opts_default(&o);
    const int64_t one = (o.lockstep = 1, ps_kmeans_row_bytes(&o, 4000000));
    o.lockstep = 0;
    const int64_t big = ps_kmeans_row_bytes(&o, 4000000), census = ps_kmeans_row_bytes(&o, 3218);
    o.n_init = 3;
    const int64_t three = ps_kmeans_row_bytes(&o, 4000000);
    o.n_init = 0;
    o.init_from = "start.h5";
    const int64_t given = ps_kmeans_row_bytes(&o, 4000000);
    T_CHECK(big - one == 108 && census == big && three - one == 24 && given == one,
            "lockstep: the row budget counts the runs a fit makes at a time (auto on 4M rows and "
            "the census +%lld, n_init 3 +%lld, init_from +%lld; want 108, 24, 0)",
            (long long)(big - one), (long long)(three - one), (long long)(given - one));
  }
  {
    /* A large k x dim: each view beyond the first holds 2 exact sums per
     * centre coordinate (576 bytes each), so fit_runs opens only as many as
     * fit in 64 MiB: k 700 x 40 columns, about 35 MB a view: 2 at a time,
     * with the same result as 1. */
    ps_matrix_t *xw = make_matrix(800, 40, row_wide);
    ps_kmeans_t *a = NULL, *b = NULL;
    ps_kmeans_opts_default(&o);
    o.k = 700;
    o.n_init = 3;
    o.max_iter = 2;
    o.init = PS_KM_INIT_RANDOM;
    o.lockstep = 1;
    ps_err_t ea = xw ? fit_quiet(xw, &o, &a) : PS_ERR_MEM;
    o.lockstep = 0;
    ps_err_t eb = xw ? fit_quiet(xw, &o, &b) : PS_ERR_MEM;
    T_CHECK(ea == PS_OK && eb == PS_OK && b && b->lockstep == 2 && a && a->lockstep == 1 &&
                ls_diff(a, b) == 0,
            "lockstep: k 700 x 40 columns runs 2 restarts at a time, not 10 (got %d), the same "
            "fit as 1 at a time",
            b ? b->lockstep : -1);
    ps_kmeans_destroy(&a);
    ps_kmeans_destroy(&b);
    ps_matrix_destroy(&xw);
  }
  ps_kmeans_opts_default(&o);
  o.lockstep = 17;
  check_bad(xline, &o, "--kmeans-lockstep", "lockstep=17");
  o.lockstep = -1;
  check_bad(xline, &o, "--kmeans-lockstep", "lockstep=-1");
  {
    ps_kmeans_t *km = NULL;
    ps_kmeans_opts_default(&o);
    o.k = 3;
    o.n_init = 2;
    o.lockstep = 16;
    ps_err_t e = fit_quiet(xline, &o, &km);
    int ok16 = e == PS_OK && km != NULL;
    ps_kmeans_destroy(&km);
    o.lockstep = 1;
    e = fit_quiet(xline, &o, &km);
    T_CHECK(ok16 && e == PS_OK && km != NULL, "lockstep 1 and 16 accepted");
    ps_kmeans_destroy(&km);
  }

  /* init_centroids for row_empty: centres 2 and 3 far off, left empty. */
  static const double given4[8] = {0.1, 0, 10.1, 0, -1000, 0, -2000, 0};
  const ls_case_t cases[] = {
      {"hamerly kmeans++", 0, 7, 7, 300, 0, 0, PS_KM_HAMERLY, PS_KM_INIT_KMEANSPP, 1e-4, 3},
      {"hamerly kmeans-parallel", 0, 7, 7, 300, 0, 0, PS_KM_HAMERLY, PS_KM_INIT_PARALLEL, 1e-4, 3},
      {"hamerly random", 0, 7, 7, 300, 0, 0, PS_KM_HAMERLY, PS_KM_INIT_RANDOM, 1e-4, 3},
      {"lloyd kmeans++", 0, 7, 7, 300, 0, 0, PS_KM_LLOYD, PS_KM_INIT_KMEANSPP, 1e-4, 3},
      {"lloyd kmeans-parallel", 0, 7, 7, 300, 0, 0, PS_KM_LLOYD, PS_KM_INIT_PARALLEL, 1e-4, 3},
      {"lloyd random", 0, 7, 7, 300, 0, 0, PS_KM_LLOYD, PS_KM_INIT_RANDOM, 1e-4, 3},
      {"weighted hamerly kmeans++", 0, 7, 7, 300, 1, 0, PS_KM_HAMERLY, PS_KM_INIT_KMEANSPP, 1e-4,
       5},
      {"weighted hamerly kmeans-parallel", 0, 7, 7, 300, 1, 0, PS_KM_HAMERLY, PS_KM_INIT_PARALLEL,
       1e-4, 5},
      {"weighted hamerly random", 0, 7, 7, 300, 1, 0, PS_KM_HAMERLY, PS_KM_INIT_RANDOM, 1e-4, 5},
      {"weighted lloyd random", 0, 7, 7, 300, 1, 0, PS_KM_LLOYD, PS_KM_INIT_RANDOM, 1e-4, 5},
      {"hamerly random, max_iter 12", 0, 7, 7, 12, 0, 0, PS_KM_HAMERLY, PS_KM_INIT_RANDOM, 1e-4, 3},
      {"lloyd kmeans-parallel, max_iter 10", 0, 7, 7, 10, 0, 0, PS_KM_LLOYD, PS_KM_INIT_PARALLEL,
       1e-4, 3},
      {"weighted hamerly random, max_iter 12", 0, 7, 7, 12, 1, 0, PS_KM_HAMERLY, PS_KM_INIT_RANDOM,
       1e-4, 5},
      {"hamerly kmeans++, tol 0", 0, 7, 7, 300, 0, 0, PS_KM_HAMERLY, PS_KM_INIT_KMEANSPP, 0.0, 9},
      {"hamerly random, tol 1e-2", 0, 7, 7, 300, 0, 0, PS_KM_HAMERLY, PS_KM_INIT_RANDOM, 1e-2, 9},
      {"lloyd random, tol 1e-2", 0, 7, 7, 300, 0, 0, PS_KM_LLOYD, PS_KM_INIT_RANDOM, 1e-2, 9},
      {"hamerly random, n_init 20", 0, 7, 20, 300, 0, 0, PS_KM_HAMERLY, PS_KM_INIT_RANDOM, 1e-4,
       21},
      {"weighted lloyd random, n_init 20", 0, 7, 20, 300, 1, 0, PS_KM_LLOYD, PS_KM_INIT_RANDOM,
       1e-4, 21},
      {"lloyd kmeans++, n_init 1", 0, 7, 1, 300, 0, 0, PS_KM_LLOYD, PS_KM_INIT_KMEANSPP, 1e-4, 21},
      {"3 distinct points, k 5, hamerly random", 1, 5, 7, 300, 0, 0, PS_KM_HAMERLY,
       PS_KM_INIT_RANDOM, 1e-4, 1},
      {"3 distinct points, k 3, lloyd random", 1, 3, 7, 300, 0, 0, PS_KM_LLOYD, PS_KM_INIT_RANDOM,
       1e-4, 1},
      {"3 distinct points, k 5, hamerly kmeans++", 1, 5, 7, 300, 0, 0, PS_KM_HAMERLY,
       PS_KM_INIT_KMEANSPP, 1e-4, 1},
      {"weighted 3 distinct points, k 5, lloyd kmeans-parallel", 1, 5, 7, 300, 1, 0, PS_KM_LLOYD,
       PS_KM_INIT_PARALLEL, 1e-4, 1},
      {"weighted 3 distinct points, k 5, hamerly random", 1, 5, 7, 300, 1, 0, PS_KM_HAMERLY,
       PS_KM_INIT_RANDOM, 1e-4, 2},
      {"init_centroids with 2 empty clusters, hamerly", 2, 4, 7, 300, 0, 1, PS_KM_HAMERLY,
       PS_KM_INIT_KMEANSPP, 1e-4, 0},
      {"init_centroids with 2 empty clusters, lloyd", 2, 4, 7, 300, 0, 1, PS_KM_LLOYD,
       PS_KM_INIT_KMEANSPP, 1e-4, 0},
      {"init_centroids with 2 empty clusters, weighted lloyd", 2, 4, 7, 300, 1, 1, PS_KM_LLOYD,
       PS_KM_INIT_KMEANSPP, 1e-4, 0},
      {"init_centroids, weighted hamerly", 0, 7, 7, 300, 1, 1, PS_KM_HAMERLY, PS_KM_INIT_KMEANSPP,
       1e-4, 0},
  };
  const int n_cases = (int)(sizeof cases / sizeof *cases);
  const int Ls[] = {2, 3, 4, 7, 16, 0}, nL = (int)(sizeof Ls / sizeof *Ls);
  ps_matrix_t *xs[3] = {make_matrix(1300, 3, row_lock), make_matrix(30, 2, row_three),
                        make_matrix(42, 2, row_empty)};
  double *wts[3] = {NULL, NULL, NULL};
  int made = 1;
  for (int q = 0; q < 3; q++) {
    wts[q] =
        xs[q] ? malloc((size_t)(xs[q]->n_local > 0 ? xs[q]->n_local : 1) * sizeof(double)) : NULL;
    made &= wts[q] != NULL;
    for (int64_t i = 0; wts[q] && i < xs[q]->n_local; i++)
      wts[q][i] = weight_lock(xs[q]->row_offset + i);
  }
  if (!T_CHECK(made, "lockstep data created")) goto done;
  /* What the cases exercise (lockstep 1's fits): runs of a group that stop
   * at different iterations, relocations, runs cut at max_iter, tied best
   * inertias. */
  int uneven = 0, relocs = 0, wrelocs = 0, cut = 0, ties = 0, log_ok = 1;
  for (int c = 0; c < n_cases; c++) {
    const ls_case_t *cs = &cases[c];
    ps_matrix_t *x = xs[cs->data];
    ls_log_t log;
    ps_kmeans_t *ref = NULL;
    ps_kmeans_opts_default(&o);
    o.k = cs->k;
    o.n_init = cs->n_init;
    o.max_iter = cs->max_iter;
    o.algorithm = cs->alg;
    o.init = cs->init;
    o.tol = cs->tol;
    o.seed = cs->seed;
    o.weights = cs->weighted ? wts[cs->data] : NULL;
    if (cs->given) {
      static double cent7[21];
      for (int j = 0; j < 21; j++) cent7[j] = (double)((j * 5) % 7) * 0.5 - 1.0;
      o.init_centroids = cs->data == 2 ? given4 : cent7;
    }
    o.on_run = ls_on_run;
    o.cb_ctx = &log;
    o.lockstep = 1;
    memset(&log, 0, sizeof log);
    log.order_ok = 1;
    ps_err_t e = fit_quiet(x, &o, &ref);
    if (e != PS_OK || !ref) {
      T_CHECK(0, "lockstep %s: lockstep 1 fit: %s", cs->name, ps_error_message());
      ps_kmeans_destroy(&ref);
      continue;
    }
    log_ok &= ls_log_ok(&log, ref);
    int itmin = ref->run_iterations[0], itmax = itmin, nconv = 0;
    for (int r = 0; r < ref->n_runs; r++) {
      const int it = ref->run_iterations[r];
      itmin = it < itmin ? it : itmin;
      itmax = it > itmax ? it : itmax;
      nconv += log.conv[r];
      if (r != ref->best_run && ref->run_inertia[r] == ref->inertia) ties++;
    }
    uneven += itmin != itmax;
    relocs += ref->n_empty_relocations > 0;
    wrelocs += cs->weighted && ref->n_empty_relocations > 0;
    cut += nconv > 0 && nconv < ref->n_runs;
    int bad = ref->lockstep != 1 ? 20 : 0, badL = bad ? 1 : -1;
    for (int q = 0; q < nL; q++) {
      ps_kmeans_t *km = NULL;
      o.lockstep = Ls[q];
      memset(&log, 0, sizeof log);
      log.order_ok = 1;
      e = fit_quiet(x, &o, &km);
      int d = e == PS_OK ? ls_diff(ref, km) : 1;
      /* The runs at a time it reports: L (auto 10), at most the runs. */
      const int want = Ls[q] ? Ls[q] : 10;
      if (d == 0 && km->lockstep != (want < km->n_runs ? want : km->n_runs)) d = 20;
      if (d == 0 && !ls_log_ok(&log, km)) log_ok = 0;
      MPI_Allreduce(MPI_IN_PLACE, &d, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
      if (d && !bad) {
        bad = d;
        badL = Ls[q];
      }
      ps_kmeans_destroy(&km);
    }
    char why[128] = "";
    if (bad) {
      char lname[16];
      if (badL)
        snprintf(lname, sizeof lname, "%d", badL);
      else
        snprintf(lname, sizeof lname, "auto");
      snprintf(why, sizeof why, " -- lockstep %s differs in %s", lname, ls_field[bad]);
    }
    T_CHECK(bad == 0,
            "lockstep %s (%d runs, %d to %d iterations, %lld relocations): lockstep 2, 3, 4, 7, "
            "16, auto give lockstep 1's fit bit for bit%s",
            cs->name, ref->n_runs, itmin, itmax, (long long)ref->n_empty_relocations, why);
    ps_kmeans_destroy(&ref);
  }
  MPI_Allreduce(MPI_IN_PLACE, &log_ok, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
  T_CHECK(log_ok,
          "lockstep: on_run called once per run, in run order, with each run's iterations, "
          "inertia and stop; the best run the first of the lowest inertia (every case, every L)");
  T_CHECK(uneven >= 10 && relocs >= 4 && wrelocs >= 2 && cut >= 2 && ties >= 1,
          "lockstep: the cases exercise runs of unequal lengths (%d cases), empty-cluster "
          "relocations (%d cases, %d weighted), runs stopped by max_iter beside converged ones "
          "(%d cases), tied best inertias (%d runs)",
          uneven, relocs, wrelocs, cut, ties);
done:
  for (int q = 0; q < 3; q++) {
    free(wts[q]);
    ps_matrix_destroy(&xs[q]);
  }
}

static void unit_checks(void) {
  ps_kmeans_opts_t o;
  ps_kmeans_init_t it;
  ps_kmeans_t *km = NULL;
  ps_matrix_t *x = make_matrix(30, 2, row_line);
  T_CHECK(x != NULL, "line data created");
  assign_paths();
  bounds_step();
  bounds_store();
  nearest_rows();
  nearest_rows_scales();
  seeding_kernels();
  own_distances();

  /* Defaults and names */
  ps_kmeans_opts_default(&o);
  T_CHECK(o.k == 8 && o.init == PS_KM_INIT_KMEANSPP && o.n_init == 0 && o.max_iter == 300 &&
              o.tol == 1e-4 && o.seed == 0 && o.parallel_rounds == 5 && o.oversample == 2.0 &&
              o.init_centroids == NULL && o.on_run == NULL,
          "defaults k=8 kmeans++ n_init=auto max_iter=300 tol=1e-4 rounds=5 oversample=2");
  /* auto restarts: 1e7 / (n k) within [10, 100]; a given count is kept. */
  T_CHECK(ps_kmeans_n_init_for(3218, 8, 0) == 100 && ps_kmeans_n_init_for(4000000, 8, 0) == 10 &&
              ps_kmeans_n_init_for(50000, 8, 0) == 25 && ps_kmeans_n_init_for(3218, 8, 3) == 3,
          "n_init auto: 100 on the census, 10 on 4M rows, 25 on 50,000 rows (k = 8)");
  int names_ok = 1;
  for (int i = 0; i < 3; i++) {
    names_ok &= ps_kmeans_init_parse(ps_kmeans_init_name((ps_kmeans_init_t)i), &it) == PS_OK &&
                it == (ps_kmeans_init_t)i;
  }
  T_CHECK(names_ok && !strcmp(ps_kmeans_init_name(PS_KM_INIT_PARALLEL), "kmeans-parallel") &&
              ps_kmeans_init_parse("kmeans", &it) == PS_ERR_ARG &&
              ps_kmeans_init_parse("", &it) == PS_ERR_ARG,
          "init names round-trip, unknown names rejected");

  /* Bad options */
  ps_kmeans_opts_default(&o);
  o.k = 0;
  check_bad(x, &o, "--k", "k=0");
  o.k = 31;
  check_bad(x, &o, "--k", "k>n");
  ps_kmeans_opts_default(&o);
  o.n_init = -1;
  check_bad(x, &o, "--kmeans-n-init", "n_init=-1");
  ps_kmeans_opts_default(&o);
  o.max_iter = 0;
  check_bad(x, &o, "--kmeans-max-iter", "max_iter=0");
  ps_kmeans_opts_default(&o);
  o.tol = -1e-3;
  check_bad(x, &o, "--kmeans-tol", "tol<0");
  o.tol = NAN;
  check_bad(x, &o, "--kmeans-tol", "tol=NaN");
  ps_kmeans_opts_default(&o);
  o.init = PS_KM_INIT_PARALLEL;
  o.parallel_rounds = 0;
  check_bad(x, &o, "--kmeans-rounds", "rounds=0");
  o.parallel_rounds = 5;
  o.oversample = 0;
  check_bad(x, &o, "--kmeans-oversample", "oversample=0");
  {
    ps_matrix_t *z = NULL;
    ps_matrix_create(0, 2, 0, 0, &z);
    ps_kmeans_opts_default(&o);
    o.k = 1;
    ps_err_t e = fit_quiet(z, &o, &km);
    T_CHECK(e == PS_ERR_ARG && km == NULL && strstr(ps_error_message(), "no rows"),
            "zero rows globally is an error (%s)", ps_error_message());
    ps_kmeans_destroy(&km);
    ps_matrix_destroy(&z);
  }

  /* k = 1: the centroid is the mean */
  ps_kmeans_opts_default(&o);
  o.k = 1;
  o.n_init = 2;
  ps_err_t e = fit_quiet(x, &o, &km);
  {
    double mean0 = 14.5, mean1 = 0.5 * (10 * 0 + 10 * 1 + 10 * 2) / 30.0;
    T_CHECK(e == PS_OK && km && fabs(km->centroids[0] - mean0) < 1e-12 &&
                fabs(km->centroids[1] - mean1) < 1e-12 && km->sizes[0] == 30 && km->converged &&
                labels_valid(km),
            "k=1 gives the mean");
  }
  ps_kmeans_destroy(&km);

  /* Restarts: callback per run, best = lowest inertia, earliest on ties */
  for (int init = 0; init < 3; init++) {
    cb_log_t log;
    memset(&log, 0, sizeof log);
    log.order_ok = 1;
    ps_matrix_t *xd = make_matrix(60, 2, row_distinct);
    ps_kmeans_opts_default(&o);
    o.k = 5;
    o.n_init = 6;
    o.seed = 11;
    o.init = (ps_kmeans_init_t)init;
    o.on_run = on_run;
    o.cb_ctx = &log;
    e = fit_quiet(xd, &o, &km);
    int ok = e == PS_OK && km && km->n_runs == 6 && log.calls == 6 && log.order_ok;
    if (ok) {
      int best = 0;
      for (int r = 1; r < 6; r++)
        if (km->run_inertia[r] < km->run_inertia[best]) best = r;
      ok = km->best_run == best && km->inertia == km->run_inertia[best] &&
           km->iterations == km->run_iterations[best] && log.inertia[best] == km->inertia &&
           labels_valid(km) && all_finite(km->centroids, 10) && km->few_distinct == 0;
      int64_t s = 0;
      for (int j = 0; j < 5; j++) s += km->sizes[j];
      ok = ok && s == 60;
      /* the reported distance is the Euclidean distance to the own centroid */
      for (int64_t i = 0; ok && i < km->n_local; i++) {
        const double *c = km->centroids + 2 * km->labels[i], *p = xd->data + 2 * i;
        double d = sqrt((p[0] - c[0]) * (p[0] - c[0]) + (p[1] - c[1]) * (p[1] - c[1]));
        ok = fabs(d - km->distance[i]) <= 1e-12 * (1 + d);
      }
    }
    T_CHECK(ok, "%s: 6 restarts reported in order, best run kept, sizes and distances consistent",
            ps_kmeans_init_name((ps_kmeans_init_t)init));
    /* init_centroids forces one run */
    if (km) {
      double c0[10];
      memcpy(c0, km->centroids, sizeof c0);
      ps_kmeans_t *km2 = NULL;
      o.init_centroids = c0;
      o.on_run = NULL;
      e = fit_quiet(xd, &o, &km2);
      T_CHECK(e == PS_OK && km2 && km2->n_runs == 1 && km2->iterations == 1 && km2->converged &&
                  fabs(km2->inertia - km->inertia) <= 1e-12 * km->inertia,
              "%s: restarting from the fitted centroids converges at once in one run",
              ps_kmeans_init_name((ps_kmeans_init_t)init));
      ps_kmeans_destroy(&km2);
    }
    ps_kmeans_destroy(&km);
    ps_matrix_destroy(&xd);
  }

  /* Fewer distinct points than k */
  {
    ps_matrix_t *x3 = make_matrix(30, 2, row_three);
    for (int init = 0; init < 3; init++) {
      ps_kmeans_opts_default(&o);
      o.k = 5;
      o.n_init = 3;
      o.init = (ps_kmeans_init_t)init;
      e = fit_quiet(x3, &o, &km);
      T_CHECK(e == PS_OK && km && km->few_distinct == 1 && labels_valid(km) &&
                  all_finite(km->centroids, 10) && all_finite(km->distance, km->n_local) &&
                  km->inertia == 0.0,
              "%s: 3 distinct points, k=5: few_distinct set, inertia 0, no NaN",
              ps_kmeans_init_name((ps_kmeans_init_t)init));
      ps_kmeans_destroy(&km);
    }
    /* k = number of distinct points: not flagged */
    ps_kmeans_opts_default(&o);
    o.k = 3;
    e = fit_quiet(x3, &o, &km);
    T_CHECK(e == PS_OK && km && km->few_distinct == 0 && km->inertia == 0.0 && km->sizes[0] == 10 &&
                km->sizes[1] == 10 && km->sizes[2] == 10,
            "3 distinct points, k=3: exact clusters, not flagged");
    ps_kmeans_destroy(&km);
    /* all rows identical */
    ps_matrix_t *x1 = make_matrix(7, 2, row_three);
    for (int64_t i = 0; i < x1->n_local; i++) x1->data[2 * i] = x1->data[2 * i + 1] = 1.0;
    for (int init = 0; init < 3; init++) {
      ps_kmeans_opts_default(&o);
      o.k = 7;
      o.init = (ps_kmeans_init_t)init;
      e = fit_quiet(x1, &o, &km);
      T_CHECK(e == PS_OK && km && km->few_distinct == 1 && km->inertia == 0.0 &&
                  all_finite(km->centroids, 14),
              "%s: all rows identical, k=n=7: flagged, no crash",
              ps_kmeans_init_name((ps_kmeans_init_t)init));
      ps_kmeans_destroy(&km);
    }
    ps_matrix_destroy(&x1);
    ps_matrix_destroy(&x3);
  }

  /* k = n distinct points: every row its own cluster */
  {
    ps_matrix_t *xd = make_matrix(9, 2, row_distinct);
    for (int init = 0; init < 3; init++) {
      ps_kmeans_opts_default(&o);
      o.k = 9;
      o.n_init = 2;
      o.init = (ps_kmeans_init_t)init;
      e = fit_quiet(xd, &o, &km);
      int ok = e == PS_OK && km && km->inertia == 0.0 && km->few_distinct == 0;
      for (int j = 0; ok && j < 9; j++) ok = km->sizes[j] == 1;
      T_CHECK(ok, "%s: k = n = 9 distinct rows: singletons, inertia 0",
              ps_kmeans_init_name((ps_kmeans_init_t)init));
      ps_kmeans_destroy(&km);
    }
    ps_matrix_destroy(&xd);
  }

  /* Tiny input: some ranks hold no rows at np=4 */
  {
    ps_matrix_t *xt = make_matrix(3, 2, row_distinct);
    for (int init = 0; init < 3; init++) {
      ps_kmeans_opts_default(&o);
      o.k = 2;
      o.init = (ps_kmeans_init_t)init;
      e = fit_quiet(xt, &o, &km);
      T_CHECK(e == PS_OK && km && labels_valid(km) && km->sizes[0] + km->sizes[1] == 3 &&
                  km->sizes[0] > 0 && km->sizes[1] > 0,
              "%s: 3 rows, k=2 (ranks without rows)", ps_kmeans_init_name((ps_kmeans_init_t)init));
      ps_kmeans_destroy(&km);
    }
    ps_matrix_destroy(&xt);
  }

  /* Two empty clusters: they take the farthest and the next farthest rows */
  {
    ps_matrix_t *xe = make_matrix(42, 2, row_empty);
    double init[8] = {0.1, 0, 10.1, 0, -1000, 0, -2000, 0};
    ps_kmeans_opts_default(&o);
    o.k = 4;
    o.max_iter = 1;
    o.init_centroids = init;
    e = fit_quiet(xe, &o, &km);
    /* first E-step: rows 0..19 -> 0; 20..41 -> 1 (the outliers are closer to
     * 10.1 than to 0.1); row 40 (30.0) is farthest, then row 41 (25.0). */
    double c1 = 0.0;
    for (int g = 20; g < 40; g++) c1 += 10.0 + 0.01 * (g - 20);
    c1 /= 20.0;
    T_CHECK(e == PS_OK && km && km->n_empty_relocations == 2 && km->centroids[4] == 30.0 &&
                km->centroids[6] == 25.0 && fabs(km->centroids[2] - c1) < 1e-12 &&
                km->centroids[5] == 0.0 && km->centroids[7] == 0.0 && !km->converged &&
                km->sizes[2] == 1 && km->sizes[3] == 1 && km->few_distinct == 0,
            "two empty clusters move to the farthest and next farthest rows");
    ps_kmeans_destroy(&km);
    o.max_iter = 300;
    e = fit_quiet(xe, &o, &km);
    int ok = e == PS_OK && km && all_finite(km->centroids, 8) && km->n_empty_relocations == 2;
    for (int j = 0; ok && j < 4; j++) ok = km->sizes[j] > 0;
    T_CHECK(ok && km->converged, "after relocation no cluster is empty, no NaN, converged");
    ps_kmeans_destroy(&km);
    ps_matrix_destroy(&xe);
  }

  /* ps_kmeans_assign: ties to the lowest index, distances */
  {
    double c[6] = {1, 1, 1, 1, 0, 0}; /* centres 0 and 1 coincide */
    int32_t *lab = malloc((size_t)(x->n_local > 0 ? x->n_local : 1) * sizeof *lab);
    double *dist = malloc((size_t)(x->n_local > 0 ? x->n_local : 1) * sizeof *dist);
    ps_kmeans_assign(c, 3, x, lab, dist);
    int ok = 1;
    for (int64_t i = 0; i < x->n_local; i++) {
      const double *p = x->data + 2 * i;
      double d0 = (p[0] - 1) * (p[0] - 1) + (p[1] - 1) * (p[1] - 1), d2 = p[0] * p[0] + p[1] * p[1];
      int want = d2 < d0 ? 2 : 0;
      ok &= lab[i] == want && fabs(dist[i] - sqrt(want ? d2 : d0)) <= 1e-12 * (1 + dist[i]);
    }
    ps_kmeans_assign(c, 3, x, lab, NULL);
    for (int64_t i = 0; i < x->n_local; i++) ok &= lab[i] == 0 || lab[i] == 2;
    T_CHECK(ok, "assign: duplicate centres tie to the lowest index, Euclidean distances");
    free(lab);
    free(dist);
  }
  lockstep_checks(x);
  ps_matrix_destroy(&x);
}

/* ------------------------------------------------------------------------ */
/* scikit-learn oracle */

static double *read_small(const char *dir, const char *name, const char *ext, int64_t *r,
                          int64_t *c) {
  char path[1024];
  snprintf(path, sizeof path, "%s/%s.%s", dir, name, ext);
  return kio_read_all(path, r, c);
}

static void oracle_case(const char *dir, const char *name) {
  char file[512];
  int64_t kr, kc, cr, cc, mr, mc, lr, lc;
  snprintf(file, sizeof file, "%s.x", name);
  ps_matrix_t *x = load_block(dir, file);
  double *init = read_small(dir, name, "init", &kr, &kc);
  double *want_c = read_small(dir, name, "centers", &cr, &cc);
  double *meta = read_small(dir, name, "meta", &mr, &mc);
  double *want_l = read_small(dir, name, "labels", &lr, &lc);
  if (!T_CHECK(x && init && want_c && meta && want_l && mc == 7 && kc == x->n_cols &&
                   lr == x->n_global,
               "%s: oracle files read", name))
    goto done;
  ps_kmeans_opts_t o;
  ps_kmeans_t *km = NULL;
  ps_kmeans_opts_default(&o);
  o.k = kr;
  o.init_centroids = init;
  o.n_init = 5; /* ignored with init_centroids */
  o.tol = meta[2];
  o.max_iter = (int)meta[3];
  ps_err_t e = fit_quiet(x, &o, &km);
  if (!T_CHECK(e == PS_OK && km, "%s: fit", name)) goto done;
  int lab_ok = 1;
  for (int64_t i = 0; i < x->n_local; i++)
    lab_ok &= km->labels[i] == (int32_t)want_l[x->row_offset + i];
  double cdiff = 0;
  for (int64_t q = 0; q < kr * kc; q++) {
    double t = fabs(km->centroids[q] - want_c[q]) / (1.0 > fabs(want_c[q]) ? 1.0 : fabs(want_c[q]));
    if (t > cdiff || isnan(t)) cdiff = t;
  }
  double rel = fabs(km->inertia - meta[0]) / meta[0];
  T_CHECK(lab_ok, "%s: labels equal scikit-learn's", name);
  T_CHECK(cdiff <= 1e-10, "%s: centroids match scikit-learn to 1e-10 (max diff %.3g)", name, cdiff);
  T_CHECK(rel <= 1e-10, "%s: inertia %.12g matches scikit-learn %.12g (rel %.3g)", name,
          km->inertia, meta[0], rel);
  T_CHECK(km->iterations == (int)meta[1] && km->n_runs == 1 && km->converged == (meta[6] != 0),
          "%s: %d iterations like scikit-learn (%d), converged %d (scikit-learn stop kind %d)",
          name, km->iterations, (int)meta[1], km->converged, (int)meta[6]);
  int64_t sz_ok = 1, tot = 0;
  for (int64_t j = 0; j < kr; j++) tot += km->sizes[j];
  sz_ok = tot == x->n_global;
  {
    int32_t *lab = malloc((size_t)(x->n_local > 0 ? x->n_local : 1) * sizeof *lab);
    ps_kmeans_assign(km->centroids, km->k, x, lab, NULL);
    for (int64_t i = 0; i < x->n_local; i++) sz_ok &= lab[i] == km->labels[i];
    free(lab);
  }
  T_CHECK(sz_ok, "%s: sizes sum to n; ps_kmeans_assign reproduces the labels", name);
  if (meta[4] >= 0) {
    int64_t j = (int64_t)meta[4], row = (int64_t)meta[5];
    int64_t r, c;
    double *xa = read_small(dir, name, "x", &r, &c);
    int ok = xa && km->n_empty_relocations >= 1;
    for (int64_t d = 0; ok && d < c; d++) ok = km->centroids[j * c + d] == xa[row * c + d];
    T_CHECK(ok,
            "%s: the empty centre %lld moved exactly onto the farthest row %lld (%lld "
            "relocations)",
            name, (long long)j, (long long)row, (long long)km->n_empty_relocations);
    free(xa);
  }
  if (strncmp(name, "empty", 5) == 0) {
    int ok = all_finite(km->centroids, kr * kc) && km->n_empty_relocations >= 1;
    for (int64_t j = 0; j < kr; j++) ok &= km->sizes[j] > 0;
    T_CHECK(ok, "%s: relocated, no empty cluster left, no NaN", name);
  }
  ps_kmeans_destroy(&km);
done:
  ps_matrix_destroy(&x);
  free(init);
  free(want_c);
  free(meta);
  free(want_l);
}

/* ------------------------------------------------------------------------ */
/* Rank-count invariance dumps */

static void dump(const char *dir, const char *data, int64_t k, int n_init, uint64_t seed,
                 const char *out) {
  char file[512];
  snprintf(file, sizeof file, "%s.x", data);
  ps_matrix_t *x = load_block(dir, file);
  if (!T_CHECK(x != NULL, "%s: data read", data)) return;
  for (int init = 0; init < 3; init++) {
    ps_kmeans_opts_t o;
    ps_kmeans_t *km = NULL;
    ps_kmeans_opts_default(&o);
    o.k = k;
    o.n_init = n_init;
    o.seed = seed;
    o.init = (ps_kmeans_init_t)init;
    ps_err_t e = fit_quiet(x, &o, &km);
    if (!T_CHECK(e == PS_OK && km, "%s %s: fit", data, ps_kmeans_init_name(o.init))) continue;
    int32_t *all = gather_labels(km, x->n_global);
    int ok = 1;
    if (g_rank == 0) {
      char path[1024];
      double *buf = malloc((size_t)(x->n_global + 3) * sizeof *buf);
      for (int64_t i = 0; i < x->n_global; i++) buf[i] = all[i];
      buf[x->n_global] = km->inertia;
      buf[x->n_global + 1] = km->best_run;
      buf[x->n_global + 2] = km->iterations;
      snprintf(path, sizeof path, "%s.%s", out, ps_kmeans_init_name(o.init));
      ok = kio_write(path, buf, x->n_global + 3, 1) == 0;
      printf("# %s %s np=%d: inertia %.17g best run %d, %d iterations\n", data,
             ps_kmeans_init_name(o.init), g_size, km->inertia, km->best_run, km->iterations);
      free(buf);
    }
    T_CHECK(ok && labels_valid(km), "%s %s: labels and inertia written", data,
            ps_kmeans_init_name(o.init));
    free(all);
    ps_kmeans_destroy(&km);
  }
  ps_matrix_destroy(&x);
}

/* ------------------------------------------------------------------------ */
/* Quality */

static void quality(const char *dir) {
  ps_matrix_t *x = load_block(dir, "census.x");
  int64_t r, c;
  double *best = read_small(dir, "census", "best", &r, &c);
  if (!T_CHECK(x && best, "census data and best inertia read")) goto done;
  ps_kmeans_opts_t o;
  ps_kmeans_t *km = NULL;
  ps_kmeans_opts_default(&o);
  ps_err_t e = fit_quiet(x, &o, &km);
  if (T_CHECK(e == PS_OK && km, "census defaults fit")) {
    double n = (double)x->n_global, ours = km->inertia / n, ref = best[0] / n;
    T_CHECK(ours <= ref * 1.005,
            "census k=8 n_init=10 kmeans++: inertia/n %.8g within 0.5%% of scikit-learn's best "
            "of 100 %.8g (ratio %.5f)",
            ours, ref, ours / ref);
  }
  ps_kmeans_destroy(&km);
done:
  ps_matrix_destroy(&x);
  free(best);
}

static void parallel_vs_pp(const char *dir, int64_t k, int n_init, uint64_t seed) {
  ps_matrix_t *x = load_block(dir, "mix.x");
  if (!T_CHECK(x != NULL, "mixture data read")) return;
  double inertia[2] = {0, 0}, secs[2] = {0, 0};
  int iters[2] = {0, 0};
  for (int q = 0; q < 2; q++) {
    ps_kmeans_opts_t o;
    ps_kmeans_t *km = NULL;
    ps_kmeans_opts_default(&o);
    o.k = k;
    o.n_init = n_init;
    o.seed = seed;
    o.init = q == 0 ? PS_KM_INIT_KMEANSPP : PS_KM_INIT_PARALLEL;
    double t0 = MPI_Wtime();
    ps_err_t e = fit_quiet(x, &o, &km);
    secs[q] = MPI_Wtime() - t0;
    if (T_CHECK(e == PS_OK && km, "mixture %s fit", ps_kmeans_init_name(o.init))) {
      inertia[q] = km->inertia;
      iters[q] = km->iterations;
    }
    ps_kmeans_destroy(&km);
  }
  if (g_rank == 0)
    printf("# mixture n=%lld k=%lld: kmeans++ %.10g (%d it, %.2f s), kmeans-parallel %.10g (%d it, "
           "%.2f s)\n",
           (long long)x->n_global, (long long)k, inertia[0], iters[0], secs[0], inertia[1],
           iters[1], secs[1]);
  T_CHECK(inertia[0] > 0 && inertia[1] > 0 && inertia[1] <= 1.02 * inertia[0],
          "k-means|| inertia %.8g within 2%% of k-means++ %.8g (ratio %.4f)", inertia[1],
          inertia[0], inertia[1] / inertia[0]);
  ps_matrix_destroy(&x);
}

int main(int argc, char **argv) {
  MPI_Init(&argc, &argv);
  ps_error_set_namer(ps_cli_flag_of); /* messages name the flags, as in popseg */
  MPI_Comm_rank(MPI_COMM_WORLD, &g_rank);
  MPI_Comm_size(MPI_COMM_WORLD, &g_size);
  T_INIT();
  int usage = 0;
  if (argc == 1) {
    unit_checks();
  } else if (!strcmp(argv[1], "oracle") && argc >= 4) {
    for (int a = 3; a < argc; a++) oracle_case(argv[2], argv[a]);
  } else if (!strcmp(argv[1], "dump") && argc == 8) {
    dump(argv[2], argv[3], strtoll(argv[4], NULL, 10), (int)strtol(argv[5], NULL, 10),
         strtoull(argv[6], NULL, 10), argv[7]);
  } else if (!strcmp(argv[1], "quality") && argc == 3) {
    quality(argv[2]);
  } else if (!strcmp(argv[1], "parallel") && argc == 6) {
    parallel_vs_pp(argv[2], strtoll(argv[3], NULL, 10), (int)strtol(argv[4], NULL, 10),
                   strtoull(argv[5], NULL, 10));
  } else {
    usage = 1;
    if (g_rank == 0) fprintf(stderr, "usage: see the comment at the top of test_kmeans.c\n");
  }
  int rc = usage ? 2 : T_FINISH();
  MPI_Finalize();
  return rc;
}
