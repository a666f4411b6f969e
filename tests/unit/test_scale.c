/* test_scale.c - per-feature scaling against hand-computed values.
 *
 * Every case is distributed with ps_block_range over the ranks of
 * MPI_COMM_WORLD, so at 4 ranks the 3-row cases leave one rank without rows.
 * (scikit-learn comparisons on real data are in test_pca.)
 */
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "popseg/cli.h"
#include "popseg/error.h"
#include "popseg/matrix.h"
#include "popseg/opt.h"
#include "popseg/scale.h"
#include "popseg/stats.h"

static int g_rank, g_size;

/* 3 rows x 3 columns: a plain column, a constant column, a symmetric one. */
static const double k3[9] = {1, 5, -4, /**/ 3, 5, 0, /**/ 2, 5, 4};

static ps_matrix_t *distribute(const double *rows, int64_t n, int64_t d) {
  int64_t off, cnt;
  ps_matrix_t *m = NULL;
  ps_block_range(n, g_size, g_rank, &off, &cnt);
  if (ps_matrix_create(cnt, d, off, n, &m) != PS_OK) return NULL;
  if (cnt > 0) memcpy(m->data, rows + off * d, (size_t)(cnt * d) * sizeof(double));
  return m;
}

/* Local rows of x equal the global rows `want` to tol (relative + absolute). */
static int rows_equal(const ps_matrix_t *x, const double *want, double tol) {
  int ok = 1;
  for (int64_t i = 0; i < x->n_local; i++)
    for (int64_t j = 0; j < x->n_cols; j++) {
      double a = x->data[i * x->n_cols + j], b = want[(x->row_offset + i) * x->n_cols + j];
      if (!(fabs(a - b) <= tol * (1 + fabs(b)))) {
        fprintf(stderr, "  row %lld col %lld: %.17g != %.17g\n", (long long)(x->row_offset + i),
                (long long)j, a, b);
        ok = 0;
      }
    }
  return ok;
}

static int params_equal(const ps_scale_t *s, const double *off, const double *fac, double tol) {
  int ok = 1;
  for (int64_t j = 0; j < s->d; j++)
    ok &= fabs(s->offset[j] - off[j]) <= tol * (1 + fabs(off[j])) &&
          fabs(s->factor[j] - fac[j]) <= tol * (1 + fabs(fac[j]));
  return ok;
}

/* Fit + apply + inverse round trip on k3. */
static void hand_case(ps_scale_kind_t kind, const double *off, const double *fac,
                      const double *scaled, int64_t n_constant, int64_t first_constant,
                      const double *back) {
  const char *nm = ps_scale_kind_name(kind);
  ps_matrix_t *x = distribute(k3, 3, 3);
  ps_scale_t *s = NULL;
  int ok =
      x && ps_scale_fit(x, &(ps_scale_opts_t){.kind = kind}, NULL, 0, MPI_COMM_WORLD, &s) == PS_OK;
  if (!T_CHECK(ok, "%s 3x3: fit", nm)) goto done;
  T_CHECK(s->kind == kind && s->d == 3 && params_equal(s, off, fac, 1e-15),
          "%s 3x3: offsets and factors", nm);
  T_CHECK(s->n_constant == n_constant && s->first_constant == first_constant,
          "%s 3x3: %lld constant column(s), first %lld", nm, (long long)s->n_constant,
          (long long)s->first_constant);
  ps_scale_apply(s, x);
  T_CHECK(rows_equal(x, scaled, 1e-15), "%s 3x3: scaled rows", nm);
  ps_scale_inverse(s, x->data, x->n_local);
  T_CHECK(rows_equal(x, back, 1e-15), "%s 3x3: ps_scale_inverse gives the rows back", nm);
done:
  ps_scale_destroy(&s);
  ps_matrix_destroy(&x);
}

static void hand_cases(void) {
  /* minmax: col0 min 1 range 2, col1 constant 5, col2 min -4 range 8. */
  const double mm_off[3] = {1, 5, -4}, mm_fac[3] = {0.5, 0, 0.125};
  const double mm_x[9] = {0, 0, 0, /**/ 1, 0, 0.5, /**/ 0.5, 0, 1};
  hand_case(PS_SCALE_MINMAX, mm_off, mm_fac, mm_x, 1, 1, k3);

  /* standard (ddof 0): col0 mean 2 var 2/3, col2 mean 0 var 32/3. */
  double s0 = sqrt(2.0 / 3), s2 = sqrt(32.0 / 3);
  const double st_off[3] = {2, 5, 0}, st_fac[3] = {1 / s0, 0, 1 / s2};
  const double st_x[9] = {-1 / s0, 0, -4 / s2, /**/ 1 / s0, 0, 0, /**/ 0, 0, 4 / s2};
  hand_case(PS_SCALE_STANDARD, st_off, st_fac, st_x, 1, 1, k3);

  /* none: identity, no constant bookkeeping. */
  const double no_off[3] = {0, 0, 0}, no_fac[3] = {1, 1, 1};
  hand_case(PS_SCALE_NONE, no_off, no_fac, k3, 0, -1, k3);
}

/* Two constant columns (2 and 4), 5 rows, at every rank count. */
static void two_constant(void) {
  double rows[5 * 5];
  for (int i = 0; i < 5; i++) {
    rows[i * 5 + 0] = i;
    rows[i * 5 + 1] = (i * 7) % 5 - 2.5;
    rows[i * 5 + 2] = -3.25;
    rows[i * 5 + 3] = i * i;
    rows[i * 5 + 4] = 0.1;
  }
  for (int kind = PS_SCALE_MINMAX; kind <= PS_SCALE_STANDARD; kind++) {
    ps_matrix_t *x = distribute(rows, 5, 5);
    ps_scale_t *s = NULL;
    const char *nm = ps_scale_kind_name((ps_scale_kind_t)kind);
    int ok = x && ps_scale_fit(x, &(ps_scale_opts_t){.kind = (ps_scale_kind_t)kind}, NULL, 0,
                               MPI_COMM_WORLD, &s) == PS_OK;
    if (T_CHECK(ok, "%s 5x5 with two constant columns: fit", nm)) {
      T_CHECK(s->n_constant == 2 && s->first_constant == 2 && s->factor[2] == 0 &&
                  s->factor[4] == 0 && s->factor[0] > 0 && s->factor[1] > 0 && s->factor[3] > 0,
              "%s 5x5: constant columns 2 and 4 get factor 0, first_constant 2", nm);
      ps_scale_apply(s, x);
      ok = 1;
      for (int64_t i = 0; i < x->n_local; i++)
        ok &= x->data[i * 5 + 2] == 0 && x->data[i * 5 + 4] == 0;
      T_CHECK(ok, "%s 5x5: constant columns scale to exactly 0", nm);
      ps_scale_inverse(s, x->data, x->n_local);
      ok = 1;
      for (int64_t i = 0; i < x->n_local; i++)
        ok &= fabs(x->data[i * 5 + 2] + 3.25) < 1e-15 && fabs(x->data[i * 5 + 4] - 0.1) < 1e-15;
      T_CHECK(ok, "%s 5x5: constant columns come back as their value", nm);
      ok = rows_equal(x, rows, 1e-14);
      T_CHECK(ok, "%s 5x5: round trip", nm);
    }
    ps_scale_destroy(&s);
    ps_matrix_destroy(&x);
  }
}

/* A large common offset: rows 1e9 + {1, 2, 3}. The two-pass variance is
 * exact here (2/3); a one-pass sum-of-squares formula loses every digit. */
static void large_offset(void) {
  const double rows[3] = {1e9 + 1, 1e9 + 2, 1e9 + 3};
  ps_matrix_t *x = distribute(rows, 3, 1);
  ps_scale_t *s = NULL;
  int ok = x && ps_scale_fit(x, &(ps_scale_opts_t){.kind = PS_SCALE_STANDARD}, NULL, 0,
                             MPI_COMM_WORLD, &s) == PS_OK;
  ok = ok && s->offset[0] == 1e9 + 2 && fabs(s->factor[0] * sqrt(2.0 / 3) - 1) < 1e-12;
  T_CHECK(ok, "standard: mean 1e9 + 2 and std sqrt(2/3) despite the offset 1e9");
  ps_scale_destroy(&s);
  ps_matrix_destroy(&x);
}

/* One row only: every column is constant; minmax offsets are the row. */
static void one_row(void) {
  const double row[3] = {7, -1, 0.5};
  ps_matrix_t *x = distribute(row, 1, 3);
  ps_scale_t *s = NULL;
  int ok = x && ps_scale_fit(x, &(ps_scale_opts_t){.kind = PS_SCALE_MINMAX}, NULL, 0,
                             MPI_COMM_WORLD, &s) == PS_OK;
  ok = ok && s->n_constant == 3 && s->first_constant == 0 && s->offset[0] == 7 &&
       s->offset[1] == -1 && s->offset[2] == 0.5 && s->factor[0] == 0 && s->factor[2] == 0;
  T_CHECK(ok, "minmax on 1 row (most ranks empty): every column constant");
  ps_scale_destroy(&s);
  ps_matrix_destroy(&x);
}

static void errors_and_names(void) {
  ps_matrix_t *x = distribute(k3, 0, 3);
  static ps_scale_t sentinel;
  ps_scale_t *s = &sentinel; /* must come back NULL */
  ps_error_clear();
  ps_err_t err =
      x ? ps_scale_fit(x, &(ps_scale_opts_t){.kind = PS_SCALE_MINMAX}, NULL, 0, MPI_COMM_WORLD, &s)
        : PS_ERR_MEM;
  T_CHECK(err == PS_ERR_ARG && s == NULL &&
              strstr(ps_error_message(), "scaling needs at least 1 row"),
          "0 rows: PS_ERR_ARG on every rank, in the stage's words");
  ps_error_clear();
  ps_matrix_destroy(&x);

  ps_scale_kind_t k = PS_SCALE_NONE;
  int ok = ps_scale_kind_parse("minmax", &k) == PS_OK && k == PS_SCALE_MINMAX &&
           ps_scale_kind_parse("standard", &k) == PS_OK && k == PS_SCALE_STANDARD &&
           ps_scale_kind_parse("none", &k) == PS_OK && k == PS_SCALE_NONE &&
           !strcmp(ps_scale_kind_name(PS_SCALE_MINMAX), "minmax") &&
           !strcmp(ps_scale_kind_name(PS_SCALE_STANDARD), "standard") &&
           !strcmp(ps_scale_kind_name(PS_SCALE_NONE), "none");
  ok &= ps_scale_kind_parse("MinMax", &k) == PS_ERR_ARG && k == PS_SCALE_NONE &&
        ps_error_message()[0] == '\0';
  ps_error_clear();
  T_CHECK(ok, "scale kind names and parsing (case-sensitive; the caller words the error)");

  ok = ps_scale_create(PS_SCALE_NONE, 4, &s) == PS_OK && s->d == 4 && s->n_constant == 0 &&
       s->first_constant == -1 && s->factor[3] == 1 && s->offset[3] == 0;
  ps_scale_destroy(&s);
  ps_scale_destroy(&s); /* NULL is accepted */
  T_CHECK(ok && s == NULL, "ps_scale_create: identity parameters; destroy sets NULL");
}

/* The statistics' cross-products (ps_stats_crossprod) against the plain
 * loop over the rows in order with fma(): the same bits from the fused
 * AVX-512 or AVX2 tiles, within rounding from dsyrk (POPSEG_STATS_BLAS=1, or
 * neither instruction set). Feature counts at and past the tile edges (8 or
 * 4 rows, 12 columns of products) and past the fused kernels' 64, row
 * counts 0 to a block. The form expected is decided from the processor
 * itself (and POPSEG_NO_AVX512), not from the library's own detection. */
static void crossprod(void) {
  const int64_t ds[] = {1, 2, 7, 8, 9, 12, 13, 34, 40, 64, 65}, ms[] = {0, 1, 5, 512};
  int same = 1, close = 1, fused = 0, cases = 0;
  uint64_t st = 5;
  for (size_t a = 0; a < sizeof ds / sizeof *ds; a++)
    for (size_t b = 0; b < sizeof ms / sizeof *ms; b++) {
      const int64_t d = ds[a], m = ms[b];
      double *y = malloc((size_t)(m * d + 1) * sizeof *y),
             *cp = malloc((size_t)(d * d) * sizeof *cp);
      if (!y || !cp) {
        same = close = 0;
        free(y);
        free(cp);
        continue;
      }
      for (int64_t q = 0; q < m * d; q++) {
        st = st * 6364136223846793005ULL + 1442695040888963407ULL;
        y[q] = ((double)(st >> 11) / 9007199254740992.0 - 0.3) * (1.0 + (double)(q % 7));
      }
      const int f = ps_stats_crossprod(y, m, d, cp);
      fused |= f;
      for (int64_t i = 0; i < d; i++)
        for (int64_t j = i; j < d; j++) {
          double c = 0.0, mag = 0.0;
          for (int64_t r = 0; r < m; r++) {
            c = fma(y[r * d + i], y[r * d + j], c);
            mag += fabs(y[r * d + i] * y[r * d + j]);
          }
          if (f)
            same &= memcmp(&c, &cp[i * d + j], sizeof c) == 0;
          else
            close &= fabs(c - cp[i * d + j]) <= 1e-13 * mag;
        }
      free(y);
      free(cp);
      cases++;
    }
  const int want_fused = !ps_env_flag("POPSEG_STATS_BLAS", 0);
  __builtin_cpu_init();
  const int avx512 = __builtin_cpu_supports("avx512f") && !ps_env_flag("POPSEG_NO_AVX512", 0),
            avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  T_CHECK(same && close && fused == (want_fused && (avx512 || avx2)),
          "cross-products (%s): the row-order fma loop's %s (%d cases)",
          !fused   ? "dsyrk"
          : avx512 ? "fused AVX-512 tiles, dsyrk past 64 features"
                   : "fused AVX2 tiles, dsyrk past 64 features",
          fused ? "bits" : "values to rounding", cases);
}

/* One block's scaled copy, extremes and sums (ps_stats_scale_rows) against
 * the plain loop it promises, bit for bit: min/max by "x < mn ? x : mn"
 * (a NaN is skipped, -0 against +0 keeps the first), y = x * inv - sinv,
 * sums and squares added row after row. Widths at and past the register's
 * eight columns and past the AVX-512 form's 64, every choice of sums. */
static void scale_rows(void) {
  static const int64_t ds[] = {1, 2, 7, 8, 9, 16, 17, 34, 64, 65}, ms[] = {0, 1, 7, 512};
  int same = 1, cases = 0, vector = 0;
  uint64_t st = 3;
  for (size_t a = 0; a < sizeof ds / sizeof ds[0]; a++)
    for (size_t b = 0; b < sizeof ms / sizeof ms[0]; b++)
      for (int mode = 0; mode < 3; mode++) { /* no sums; sums; sums and squares */
        const int64_t d = ds[a], m = ms[b];
        double *x = malloc((size_t)(m * d + 1) * sizeof *x);
        double *buf = malloc((size_t)(14 * d + 2 * m * d + 1) * sizeof *buf);
        if (!x || !buf) {
          same = 0;
          free(x);
          free(buf);
          continue;
        }
        double *inv = buf, *sinv = inv + d, *mn = sinv + d, *mx = mn + d, *sum = mx + d,
               *sq = sum + d, *mn2 = sq + d, *mx2 = mn2 + d, *sum2 = mx2 + d, *sq2 = sum2 + d,
               *y = sq2 + d, *y2 = y + m * d;
        for (int64_t q = 0; q < m * d + 6 * d; q++) {
          st = st * 6364136223846793005ULL + 1442695040888963407ULL;
          const double u = ((double)(st >> 11) / 9007199254740992.0 - 0.5) * 1e4;
          if (q < m * d)
            x[q] = u;
          else
            inv[q - m * d] = u / 7; /* inv, sinv, mn, mx, sum, sq */
        }
        if (m * d > 3) {
          x[0] = NAN;
          x[1] = -0.0;
          x[2] = INFINITY;
          x[3] = 0.0;
        }
        mn[0] = 0.0;            /* against the NaN of row 0 (d > 1), or row 1's -0.0 (d = 1) */
        if (d > 1) mn[1] = 0.0; /* a tie of -0.0 (row 0) with +0.0: the first is kept */
        memcpy(mn2, mn, (size_t)(4 * d) * sizeof *mn);
        double *s1 = mode ? sum : NULL, *q1 = mode == 2 ? sq : NULL;
        int nf = 0;
        vector |= ps_stats_scale_rows(x, m, d, inv, sinv, mn, mx, y, s1, q1, &nf);
        for (int64_t i = 0; i < m; i++)
          for (int64_t j = 0; j < d; j++) {
            const double v = x[i * d + j], t = v * inv[j] - sinv[j];
            mn2[j] = v < mn2[j] ? v : mn2[j];
            mx2[j] = v > mx2[j] ? v : mx2[j];
            y2[i * d + j] = t;
            if (mode) sum2[j] += t;
            if (mode == 2) sq2[j] += t * t;
          }
        same &= memcmp(mn, mn2, (size_t)(4 * d) * sizeof *mn) == 0 &&
                memcmp(y, y2, (size_t)(m * d) * sizeof *y) == 0 && nf == (m * d > 3);
        free(x);
        free(buf);
        cases++;
      }
  __builtin_cpu_init();
  const int avx512 = __builtin_cpu_supports("avx512f") && !ps_env_flag("POPSEG_NO_AVX512", 0),
            avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  T_CHECK(same && vector == (avx512 || avx2),
          "one block's scaled rows, extremes and sums (%s): the plain loop's bits (%d cases)",
          avx512 ? "AVX-512 up to 64 features, then the plain loop"
          : avx2 ? "AVX2 up to 64 features, then the plain loop"
                 : "plain loop",
          cases);
}

/* The block kernel's nonfinite flag: one NaN, +inf or -inf anywhere (the
 * first value, the last, a column past the register's eight, the last row of
 * a block) sets it; finite extremes (DBL_MAX, the smallest subnormal, -0) do
 * not. Widths for the AVX-512 and AVX2 forms and past them (65: the plain
 * loop). */
static void nonfinite_flag(void) {
  static const int64_t ds[] = {1, 7, 9, 34, 65}, ms[] = {1, 5, 64};
  const double bad[] = {NAN, INFINITY, -INFINITY};
  int ok = 1, cases = 0;
  for (size_t a = 0; a < sizeof ds / sizeof ds[0]; a++)
    for (size_t b = 0; b < sizeof ms / sizeof ms[0]; b++) {
      const int64_t d = ds[a], m = ms[b], n = m * d;
      double *x = malloc((size_t)n * sizeof *x), *y = malloc((size_t)n * sizeof *y);
      double *v = calloc((size_t)(6 * d), sizeof *v);
      if (!x || !y || !v) {
        ok = 0;
        free(x);
        free(y);
        free(v);
        continue;
      }
      double *inv = v, *sinv = v + d, *mn = v + 2 * d, *mx = v + 3 * d, *sum = v + 4 * d,
             *sq = v + 5 * d;
      for (int64_t j = 0; j < d; j++) inv[j] = 1.0;
      for (int64_t q = 0; q < n; q++)
        x[q] = q % 4 == 0 ? DBL_MAX : q % 4 == 1 ? 0x1p-1074 : q % 4 == 2 ? -0.0 : -1e300;
      int nf = 0;
      ps_stats_scale_rows(x, m, d, inv, sinv, mn, mx, y, NULL, NULL, &nf);
      ok &= nf == 0;
      cases++;
      const int64_t at[] = {0, n - 1, d > 8 ? 8 : d - 1, (m - 1) * d};
      for (size_t p = 0; p < sizeof at / sizeof at[0]; p++)
        for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
          const double keep = x[at[p]];
          x[at[p]] = bad[k];
          nf = 0;
          ps_stats_scale_rows(x, m, d, inv, sinv, mn, mx, y, sum, k == 2 ? sq : NULL, &nf);
          ok &= nf == 1;
          x[at[p]] = keep;
          cases++;
        }
      free(x);
      free(y);
      free(v);
    }
  T_CHECK(ok,
          "the block kernel flags a NaN or an infinity anywhere, and no finite extreme (%d "
          "cases)",
          cases);
}

int main(int argc, char **argv) {
  MPI_Init(&argc, &argv);
  ps_error_set_namer(ps_cli_flag_of); /* messages name the flags, as in popseg */
  MPI_Comm_rank(MPI_COMM_WORLD, &g_rank);
  MPI_Comm_size(MPI_COMM_WORLD, &g_size);
  T_INIT();
  hand_cases();
  nonfinite_flag();
  two_constant();
  large_offset();
  one_row();
  errors_and_names();
  crossprod();
  scale_rows();
  int rc = T_FINISH();
  MPI_Finalize();
  return rc;
}
