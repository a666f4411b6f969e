/* test_profile.c - the segment profiles' overall spread, taken from the
 * statistics stage (one pass over the rows) or from a second pass of the
 * profile's own, against a two-pass reference in long double over all rows.
 *
 * Every rank builds the whole table the same way and keeps its block
 * (ps_block_range: whole 512-row blocks, so at 4 ranks the last holds 467
 * rows); t_run.sh runs it at 1-4 ranks.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "popseg/error.h"
#include "popseg/matrix.h"
#include "popseg/profile.h"
#include "popseg/stats.h"
#include "popseg/table.h"

#define N 2003
#define D 6
#define K 3
#define W 24 /* name widths: room for "r" and any int64 */

static int g_rank, g_size;

/* Row i, column j: a large offset with a small spread, a fraction, a
 * constant, small integers, a skewed negative column, and one beyond 2^400
 * (the statistics sum it in units: stats.h). */
static double value(int64_t i, int64_t j) {
  switch (j) {
  case 0:
    return 1e6 + (double)((i * 37) % 101) / 8.0;
  case 1:
    return (double)((i * 7919) % 1000) / 1000.0;
  case 2:
    return 7.0;
  case 3:
    return (double)(i % 101);
  case 4:
    return -exp((double)(i % 17) / 4.0);
  default:
    return 1e130 * (double)(i % 7);
  }
}

static double weight(int64_t i) {
  return 0.5 + (double)(i % 5);
}

/* The table's block on this rank, labels (i * 7) % K and distances i % 13. */
static ps_table_t *make_table(int32_t **labels, double **dist, double **wt) {
  int64_t off, cnt;
  ps_table_t *t = NULL;
  ps_block_range(N, g_size, g_rank, &off, &cnt);
  if (ps_table_create(cnt, D, off, N, W, W, &t) != PS_OK) return NULL;
  *labels = malloc((size_t)(cnt > 0 ? cnt : 1) * sizeof **labels);
  *dist = malloc((size_t)(cnt > 0 ? cnt : 1) * sizeof **dist);
  *wt = malloc((size_t)(cnt > 0 ? cnt : 1) * sizeof **wt);
  for (int64_t j = 0; j < D; j++) snprintf(t->feature_names + j * W, W, "f%lld", (long long)j);
  for (int64_t i = 0; i < cnt; i++) {
    const int64_t g = off + i;
    for (int64_t j = 0; j < D; j++) t->x->data[i * D + j] = value(g, j);
    t->ids[i] = 1000 + g;
    snprintf(t->names + i * W, W, "r%lld", (long long)g);
    (*labels)[i] = (int32_t)((g * 7) % K);
    (*dist)[i] = (double)(g % 13);
    (*wt)[i] = weight(g);
  }
  return t;
}

/* The overall sd of column j over all rows, two passes in long double:
 * unweighted over n - 1, weighted sum w dev^2 / sum w. */
static double reference_sd(int64_t j, int weighted) {
  long double s = 0, w = 0, q = 0;
  for (int64_t i = 0; i < N; i++) {
    const long double wi = weighted ? weight(i) : 1.0L;
    s += wi * value(i, j);
    w += wi;
  }
  const long double m = s / w;
  for (int64_t i = 0; i < N; i++) {
    const long double wi = weighted ? weight(i) : 1.0L, dev = value(i, j) - m;
    q += wi * dev * dev;
  }
  return (double)sqrtl(q / (weighted ? w : (long double)(N - 1)));
}

static int near(double a, double b, double rel) {
  return a == b || fabs(a - b) <= rel * fabs(b);
}

static void spread_case(int weighted) {
  int32_t *labels = NULL;
  double *dist = NULL, *wt = NULL;
  ps_table_t *t = make_table(&labels, &dist, &wt);
  ps_stats_t *st = NULL;
  ps_profile_t *one = NULL, *two = NULL;
  const double *w = weighted ? wt : NULL;
  const char *how = weighted ? "weighted" : "unweighted";
  int ok = t != NULL;
  ok = ok && ps_stats_compute_w(t->x, w, 1, MPI_COMM_WORLD, &st) == PS_OK;
  ok = ok && ps_profile_compute(t, t->x, NULL, w, weighted ? "w" : NULL, st, labels, dist, K, NULL,
                                MPI_COMM_WORLD, &one) == PS_OK;
  ok = ok && ps_profile_compute(t, t->x, NULL, w, weighted ? "w" : NULL, NULL, labels, dist, K,
                                NULL, MPI_COMM_WORLD, &two) == PS_OK;
  T_CHECK(ok, "profile (%s): computed with the statistics and with its own second pass", how);
  if (!ok) goto done;
  int sd_one = 1, sd_two = 1, same_rest = 1;
  for (int64_t j = 0; j < D; j++) {
    const double ref = reference_sd(j, weighted);
    if (!near(one->overall_sd[j], ref, 1e-12)) {
      fprintf(stderr, "  %s f%lld: sd from the statistics %.17g, reference %.17g\n", how,
              (long long)j, one->overall_sd[j], ref);
      sd_one = 0;
    }
    if (!near(two->overall_sd[j], ref, 1e-12)) {
      fprintf(stderr, "  %s f%lld: sd from the second pass %.17g, reference %.17g\n", how,
              (long long)j, two->overall_sd[j], ref);
      sd_two = 0;
    }
    same_rest &= one->overall_mean[j] == two->overall_mean[j] &&
                 one->overall_min[j] == two->overall_min[j] &&
                 one->overall_max[j] == two->overall_max[j];
    for (int64_t c = 0; c < K; c++) same_rest &= one->mean[c * D + j] == two->mean[c * D + j];
  }
  for (int64_t c = 0; c < K; c++) same_rest &= one->size[c] == two->size[c];
  T_CHECK(sd_one, "profile (%s): the overall sd from the statistics = two passes in long double",
          how);
  T_CHECK(sd_two, "profile (%s): the overall sd from the second pass = two passes in long double",
          how);
  T_CHECK(one->overall_sd[2] == 0.0 && two->overall_sd[2] == 0.0,
          "profile (%s): a constant column's sd is 0 both ways", how);
  T_CHECK(same_rest, "profile (%s): means, sizes and extremes the same bits both ways", how);
done:
  ps_profile_destroy(&one);
  ps_profile_destroy(&two);
  ps_stats_destroy(&st);
  ps_table_destroy(&t);
  free(labels);
  free(dist);
  free(wt);
}

/* Statistics of other rows (unweighted ones for a weighted profile) are a
 * caller's mistake, refused on every rank with an error naming both. */
static void mismatch_case(void) {
  int32_t *labels = NULL;
  double *dist = NULL, *wt = NULL;
  ps_table_t *t = make_table(&labels, &dist, &wt);
  ps_stats_t *st = NULL;
  ps_profile_t *p = NULL;
  int ok = t && ps_stats_compute_w(t->x, NULL, 0, MPI_COMM_WORLD, &st) == PS_OK;
  ps_err_t e =
      ok ? ps_profile_compute(t, t->x, NULL, wt, "w", st, labels, dist, K, NULL, MPI_COMM_WORLD, &p)
         : PS_OK;
  T_CHECK(ok && e == PS_ERR_ARG && p == NULL,
          "profile: unweighted statistics for a weighted profile are refused (PS_ERR_ARG)");
  ps_error_clear();
  ps_stats_destroy(&st);
  ps_table_destroy(&t);
  free(labels);
  free(dist);
  free(wt);
}

int main(int argc, char **argv) {
  MPI_Init(&argc, &argv);
  MPI_Comm_rank(MPI_COMM_WORLD, &g_rank);
  MPI_Comm_size(MPI_COMM_WORLD, &g_size);
  T_INIT();
  spread_case(0);
  spread_case(1);
  mismatch_case();
  int rc = T_FINISH();
  MPI_Finalize();
  return rc;
}
