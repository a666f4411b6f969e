/* profile.c - segment profiles: means in original units, overall spread and
 * example rows, computed collectively (two reductions and one gather).
 *
 * Means are taken of the values the pipeline holds (scaled in place) and
 * mapped back with the inverse scaling: it is affine, so a mean maps to the
 * mean of the original values (up to rounding).
 */
#include "popseg/profile.h"

#include <math.h>
#include <stdio.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "popseg/reduce.h"

const ps_opt_t ps_profile_options[] = {
    {.flag = "--profile-examples",
     .field = "examples",
     .kind = PS_OPT_INT,
     .offset = offsetof(ps_profile_opts_t, examples),
     .min = 1,
     .max = 100,
     .def = "5",
     .metavar = "E",
     .help = "example rows shown per segment (the nearest to its centroid)"},
    {0}};

void ps_profile_opts_default(ps_profile_opts_t *o) {
  memset(o, 0, sizeof *o);
  ps_opt_defaults(ps_profile_options, o);
}

void ps_profile_destroy(ps_profile_t **p) {
  if (!p || !*p) return;
  free((*p)->size);
  free((*p)->mean);
  free((*p)->overall_mean);
  free((*p)->overall_sd);
  free((*p)->overall_min);
  free((*p)->overall_max);
  free((*p)->weight);
  free((*p)->index);
  free((*p)->example_row);
  free((*p)->example_id);
  free((*p)->example_distance);
  free((*p)->example_name);
  free(*p);
  *p = NULL;
}

static ps_err_t profile_create(int64_t k, int64_t d, int64_t e, size_t name_width,
                               ps_profile_t **out) {
  ps_err_t err = PS_OK;
  ps_profile_t *p = calloc(1, sizeof *p);
  size_t kk = (size_t)(k > 0 ? k : 1), dd = (size_t)(d > 0 ? d : 1);
  *out = NULL;
  PS_CHECK_ALLOC(p);
  p->k = k;
  p->d = d;
  p->n_examples = e;
  p->name_width = name_width;
  p->size = calloc(kk, sizeof *p->size);
  p->mean = calloc(kk * dd, sizeof *p->mean);
  p->overall_mean = calloc(dd, sizeof *p->overall_mean);
  p->overall_sd = calloc(dd, sizeof *p->overall_sd);
  p->overall_min = calloc(dd, sizeof *p->overall_min);
  p->overall_max = calloc(dd, sizeof *p->overall_max);
  p->weight = calloc(kk, sizeof *p->weight);
  p->index = calloc(kk * dd, sizeof *p->index);
  p->example_row = calloc(kk * (size_t)e, sizeof *p->example_row);
  p->example_id = calloc(kk * (size_t)e, sizeof *p->example_id);
  p->example_distance = calloc(kk * (size_t)e, sizeof *p->example_distance);
  p->example_name = calloc(kk * (size_t)e, name_width);
  PS_CHECK(p->size && p->mean && p->overall_mean && p->overall_sd && p->overall_min &&
               p->overall_max && p->weight && p->index && p->example_row && p->example_id &&
               p->example_distance && p->example_name,
           PS_ERR_MEM, "out of memory for the segment profiles (k = %lld)", (long long)k);
  *out = p;
  p = NULL;
cleanup:
  ps_profile_destroy(&p);
  return err;
}

/* Collective. Sizes, (weighted) means in x's units and, sq not NULL, the
 * (weighted) sums of squared deviations from the overall mean into sq [d]
 * (a second pass: the deviations need the mean): each block of rows, with
 * its weight as one more column ([w x, w], or [x, 1]), summed per segment in
 * row order and added exactly (reduce.h), so the same bits at any rank
 * count; a reduction a pass. The rows come a window at a time (table.h: from
 * memory, or read again from t's file when x was released); windows end on
 * block boundaries, so the blocks are the whole slice's. */
static ps_err_t moments(const ps_table_t *t, const ps_matrix_t *x, const double *wt,
                        const int32_t *labels, ps_profile_t *p, double *sq, MPI_Comm comm) {
  ps_err_t err = PS_OK;
  const int64_t d = p->d, k = p->k, nl = x->n_local, d1 = d + 1;
  ps_xsum_t *acc = calloc((size_t)((k + 1) * d1), sizeof *acc);
  double *part = calloc((size_t)((k > 0 ? k : 1) * d1), sizeof *part);
  double *blk = malloc((size_t)(PS_ROW_BLOCK * d1) * sizeof *blk);
  int32_t *touched = malloc((size_t)(k > 0 ? k : 1) * sizeof *touched);
  ps_table_rows_t *rows = NULL;
  int64_t i0, i1, w0, w1;
  const double *xw;
  PS_CHECK_ALL(comm, acc && part && touched && blk, PS_ERR_MEM,
               "out of memory for the segment profiles (k = %lld)", (long long)k);
  PS_TRY(ps_table_rows_open(t, x, comm, &rows));
  for (int64_t j = 0; j < d; j++) {
    p->overall_min[j] = INFINITY;
    p->overall_max[j] = -INFINITY;
  }
  /* acc [k][d + 1]: the segments' sums; acc[k][d + 1]: the overall sums. */
  for (int64_t w = 0; w < ps_table_rows_windows(rows); w++) {
    PS_TRY(ps_table_rows_window(rows, w, &w0, &w1, &xw));
    for (int64_t from = w0; ps_row_blocks(x->row_offset, w1, from, &i0, &i1); from = i1) {
      for (int64_t i = i0; i < i1; i++) {
        const double *row = xw + (i - w0) * d, wi = wt ? wt[i] : 1.0;
        double *y = blk + (i - i0) * d1;
        for (int64_t j = 0; j < d; j++) {
          y[j] = wt ? wi * row[j] : row[j];
          p->overall_min[j] = row[j] < p->overall_min[j] ? row[j] : p->overall_min[j];
          p->overall_max[j] = row[j] > p->overall_max[j] ? row[j] : p->overall_max[j];
        }
        y[d] = wi;
      }
      ps_xsum_group_blocks(blk, x->row_offset + i0, i1 - i0, d1, labels + i0, k, acc, part,
                           touched);
      ps_xsum_group_blocks(blk, x->row_offset + i0, i1 - i0, d1, NULL, 1, acc + k * d1, part,
                           touched);
    }
  }
  for (int64_t i = 0; i < nl; i++) p->size[labels[i]]++;
  PS_TRY(ps_xsum_reduce(acc, (k + 1) * d1, p->size, k, comm));
  PS_TRY(ps_reduce_min(p->overall_min, d, comm));
  PS_TRY(ps_reduce_max(p->overall_max, d, comm));
  {
    double *v = malloc((size_t)((k + 1) * d1) * sizeof *v);
    PS_CHECK_ALL(comm, v != NULL, PS_ERR_MEM, "out of memory for the segment profiles");
    ps_xsum_values(acc, (k + 1) * d1, v);
    const double W = v[k * d1 + d];
    p->wsum = W;
    for (int64_t j = 0; j < d; j++) p->overall_mean[j] = v[k * d1 + j] / W;
    for (int64_t c = 0; c < k; c++) {
      const double wc = v[c * d1 + d];
      p->weight[c] = wc;
      for (int64_t j = 0; j < d; j++)
        p->mean[c * d + j] = wc > 0 ? v[c * d1 + j] / wc : p->overall_mean[j];
    }
    free(v);
  }
  if (!sq) goto cleanup;
  /* The (weighted) squared deviations, a block of rows at a time. */
  ps_xsum_clear(acc, d);
  for (int64_t w = 0; w < ps_table_rows_windows(rows); w++) {
    PS_TRY(ps_table_rows_window(rows, w, &w0, &w1, &xw));
    for (int64_t from = w0; ps_row_blocks(x->row_offset, w1, from, &i0, &i1); from = i1) {
      for (int64_t i = i0; i < i1; i++)
        for (int64_t j = 0; j < d; j++) {
          double dev = xw[(i - w0) * d + j] - p->overall_mean[j];
          blk[(i - i0) * d + j] = wt ? wt[i] * dev * dev : dev * dev;
        }
      /* One block: its sums in row order go to acc exactly. */
      ps_xsum_group_blocks(blk, i0 + x->row_offset, i1 - i0, d, NULL, 1, acc, part, touched);
    }
  }
  PS_TRY(ps_xsum_reduce(acc, d, NULL, 0, comm));
  ps_xsum_values(acc, d, sq);
cleanup:
  err = ps_table_rows_close(&rows, err);
  free(acc);
  free(part);
  free(touched);
  free(blk);
  return err;
}

/* An example candidate: its distance, global row and id; the name follows it
 * in the record. */
typedef struct {
  double dist;
  int64_t row;
  int64_t id;
} member_t;

/* Not collective. This rank's E nearest rows of each segment, as records
 * [k][E] of (member_t, name[w]) sorted by distance. */
static void local_examples(const ps_table_t *t, const int32_t *labels, const double *dist,
                           int64_t k, int E, char *mine, size_t rec) {
  const size_t w = t->name_width;
  for (size_t r = 0; r < (size_t)k * E; r++) {
    member_t m = {INFINITY, -1, 0};
    memcpy(mine + r * rec, &m, sizeof m);
  }
  for (int64_t i = 0; i < t->x->n_local; i++) {
    char *base = mine + (size_t)labels[i] * E * rec;
    member_t last;
    memcpy(&last, base + (E - 1) * rec, sizeof last);
    if (!(dist[i] < last.dist)) continue;
    int pos = E - 1;
    while (pos > 0) {
      member_t prev;
      memcpy(&prev, base + (size_t)(pos - 1) * rec, sizeof prev);
      if (!(dist[i] < prev.dist)) break;
      memcpy(base + (size_t)pos * rec, base + (size_t)(pos - 1) * rec, rec);
      pos--;
    }
    member_t m = {dist[i], t->x->row_offset + i, t->ids[i]};
    memcpy(base + (size_t)pos * rec, &m, sizeof m);
    memcpy(base + (size_t)pos * rec + sizeof m, ps_table_name(t, i), w);
  }
}

/* Not collective. Merge every rank's candidates (all [size][k][E] records)
 * into the profile: the nearest first, ties to the lower row. */
static void merge_examples(const char *all, int size, size_t rec, ps_profile_t *p) {
  const int E = (int)p->n_examples;
  const size_t nrec = (size_t)p->k * E, w = p->name_width;
  char *used = calloc((size_t)size * nrec, 1);
  for (int64_t c = 0; c < p->k; c++)
    for (int e = 0; e < E; e++) {
      size_t best = (size_t)-1;
      member_t bm = {INFINITY, -1, 0};
      for (int r = 0; r < size; r++)
        for (int q = 0; q < E; q++) {
          size_t at = (size_t)r * nrec + (size_t)c * E + (size_t)q;
          member_t m;
          memcpy(&m, all + at * rec, sizeof m);
          if (m.row < 0 || (used && used[at])) continue;
          if (m.dist < bm.dist || (m.dist == bm.dist && m.row < bm.row)) {
            bm = m;
            best = at;
          }
        }
      size_t o = (size_t)c * E + (size_t)e;
      p->example_row[o] = bm.row;
      p->example_id[o] = bm.row >= 0 ? bm.id : 0;
      p->example_distance[o] = bm.row >= 0 ? bm.dist : NAN;
      if (best != (size_t)-1) {
        memcpy(p->example_name + o * w, all + best * rec + sizeof(member_t), w);
        if (used) used[best] = 1;
      }
    }
  free(used);
}

/* Collective. The E rows nearest to each centroid, over all ranks. */
static ps_err_t examples(const ps_table_t *t, const int32_t *labels, const double *dist,
                         ps_profile_t *p, MPI_Comm comm) {
  ps_err_t err = PS_OK;
  int size;
  MPI_Comm_size(comm, &size);
  const size_t rec = sizeof(member_t) + t->name_width, nrec = (size_t)(p->k * p->n_examples);
  char *mine = calloc(nrec, rec), *all = NULL;
  PS_CHECK(nrec * rec < (size_t)INT32_MAX / (size_t)size, PS_ERR_ARG,
           "profile: too many segments for the example list (k = %lld)", (long long)p->k);
  all = calloc(nrec * (size_t)size, rec);
  PS_CHECK(mine && all, PS_ERR_MEM, "out of memory for the segment examples");
cleanup:
  err = ps_err_agree(comm, err);
  if (err == PS_OK) {
    local_examples(t, labels, dist, p->k, (int)p->n_examples, mine, rec);
    if (MPI_Allgather(mine, (int)(nrec * rec), MPI_BYTE, all, (int)(nrec * rec), MPI_BYTE, comm) !=
        MPI_SUCCESS)
      err = ps_error(PS_ERR_MPI, __FILE__, __LINE__, "MPI_Allgather of the examples failed");
    err = ps_err_agree(comm, err);
  }
  if (err == PS_OK) merge_examples(all, size, rec, p);
  free(mine);
  free(all);
  return err;
}

ps_err_t ps_profile_compute(const ps_table_t *t, const ps_matrix_t *x, const ps_scale_t *undo,
                            const double *weights, const char *weights_name, const ps_stats_t *st,
                            const int32_t *labels, const double *distance, int64_t k,
                            const ps_profile_opts_t *opts, MPI_Comm comm, ps_profile_t **out) {
  ps_err_t err = PS_OK;
  ps_profile_t *p = NULL;
  ps_profile_opts_t defaults;
  double *sq = NULL;
  const int64_t d = x->n_cols, n = x->n_global;
  *out = NULL;
  ps_profile_opts_default(&defaults);
  if (!opts) opts = &defaults;
  err = ps_opt_validate(ps_profile_options, "profile", "profile", opts);
  if (err == PS_OK && st && (st->d != d || st->n != n || st->weighted != (weights != NULL)))
    err = ps_error(PS_ERR_ARG, __FILE__, __LINE__,
                   "profile: the statistics given are of other rows (%lld x %lld%s, not %lld x "
                   "%lld%s)",
                   (long long)st->n, (long long)st->d, st->weighted ? ", weighted" : "",
                   (long long)n, (long long)d, weights ? ", weighted" : "");
  if (err == PS_OK) err = profile_create(k, d, opts->examples, t->name_width, &p);
  if (err == PS_OK && !st) { /* the second pass's sums */
    sq = malloc((size_t)(d > 0 ? d : 1) * sizeof *sq);
    if (!sq) err = ps_error(PS_ERR_MEM, __FILE__, __LINE__, "out of memory for the profiles");
  }
  PS_AGREE(comm);
  p->n = n;
  p->weighted = weights != NULL;
  snprintf(p->mean_kind, sizeof p->mean_kind, "%s%s", weights ? "weighted by " : "rows",
           weights ? (weights_name ? weights_name : "the weights") : "");
  /* With the statistics of these rows the spread is theirs (var is the
   * population variance, in unit^2), and the rows are read once, not twice:
   * a pass saved, which from a released table is a read of the file. */
  PS_TRY(moments(t, x, weights, labels, p, sq, comm));
  PS_TRY(examples(t, labels, distance, p, comm));
  /* Back to original units; a spread scales by 1 / |factor| (constant: 0).
   * Weighted, the spread is the weighted population one (sum w dev^2 / W). */
  for (int64_t j = 0; j < d; j++) {
    double v;
    if (st)
      v = weights ? sqrt(st->var[j]) * st->unit[j]
                  : (n > 1 ? sqrt(st->var[j] * ((double)n / (double)(n - 1))) * st->unit[j] : 0.0);
    else
      v = weights ? (p->wsum > 0 ? sqrt(sq[j] / p->wsum) : 0.0)
                  : (n > 1 ? sqrt(sq[j] / (double)(n - 1)) : 0.0);
    double f = undo ? undo->factor[j] : 1.0;
    p->overall_sd[j] = f != 0.0 ? v / fabs(f) : 0.0;
  }
  if (undo) {
    ps_scale_inverse(undo, p->mean, k);
    ps_scale_inverse(undo, p->overall_mean, 1);
    ps_scale_inverse(undo, p->overall_min, 1);
    ps_scale_inverse(undo, p->overall_max, 1);
  }
  /* Index scores: 100 x segment mean / overall mean (NaN: overall 0). */
  for (int64_t c = 0; c < k; c++)
    for (int64_t j = 0; j < d; j++)
      p->index[c * d + j] =
          p->overall_mean[j] != 0.0 ? 100.0 * p->mean[c * d + j] / p->overall_mean[j] : NAN;
  *out = p;
  p = NULL;
cleanup:
  free(sq);
  ps_profile_destroy(&p);
  return err;
}

void ps_profile_describe(ps_h5w_t *w, const ps_profile_t *p) {
  ps_h5w_dim_index(w, "profile/example", p->n_examples, 0,
                   "example rows of a segment, nearest to its centroid first");
  ps_h5w_attr_str(w, "profile", "mean_kind", p->mean_kind);
  ps_h5w_data(w, "profile/index", PS_H5_F64, 0, "segment,feature", p->index,
              "index score: 100 x segment mean / overall mean, original units (NaN where the "
              "overall mean is 0); >= 120 stands out high, <= 80 low");
  ps_h5w_data(w, "profile/weight", PS_H5_F64, 0, "segment", p->weight,
              "the weight in each segment (its rows, unweighted)");
  ps_h5w_data(w, "profile/overall_min", PS_H5_F64, 0, "feature", p->overall_min,
              "minimum of each feature over all rows, original units (predict's range check)");
  ps_h5w_data(w, "profile/overall_max", PS_H5_F64, 0, "feature", p->overall_max,
              "maximum of each feature over all rows, original units");
  ps_h5w_data(w, "profile/mean", PS_H5_F64, 0, "segment,feature", p->mean,
              "mean of each feature over the segment's rows, in original units: the segment's "
              "centre as a person reads it");
  ps_h5w_data(w, "profile/overall_mean", PS_H5_F64, 0, "feature", p->overall_mean,
              "mean of each feature over all rows, original units");
  ps_h5w_data(w, "profile/overall_sd", PS_H5_F64, 0, "feature", p->overall_sd,
              "standard deviation of each feature over all rows (n - 1; weighted: sum w dev^2 / "
              "sum w), original units");
  ps_h5w_data(w, "profile/size", PS_H5_I64, 0, "segment", p->size, "rows in each segment");
  ps_h5w_data(w, "profile/example_row", PS_H5_I64, 0, "segment,example", p->example_row,
              "0-based row index of each example (-1: the segment has fewer rows)");
  ps_h5w_data(w, "profile/example_id", PS_H5_I64, 0, "segment,example", p->example_id,
              "row id of each example");
  ps_h5w_data(w, "profile/example_distance", PS_H5_F64, 0, "segment,example", p->example_distance,
              "distance of each example to its segment's centroid");
  ps_h5w_data(w, "profile/example_name", PS_H5_STR, p->name_width, "segment,example",
              p->example_name, "row name of each example");
}

void ps_profile_describe_sub(ps_h5w_t *w, const ps_profile_t *p) {
  ps_h5w_data(w, "profile/sub/index", PS_H5_F64, 0, "subsegment,feature", p->index,
              "index score of each sub-segment: 100 x its mean / the overall mean");
  ps_h5w_data(w, "profile/sub/mean", PS_H5_F64, 0, "subsegment,feature", p->mean,
              "mean of each feature over the sub-segment's rows, original units");
  ps_h5w_data(w, "profile/sub/size", PS_H5_I64, 0, "subsegment", p->size,
              "rows in each sub-segment");
  ps_h5w_data(w, "profile/sub/weight", PS_H5_F64, 0, "subsegment", p->weight,
              "the weight in each sub-segment");
}

int ps_profile_key_features(const ps_profile_t *p, int most, int64_t *cols) {
  int q = 0;
  for (int t = 0; t < most; t++) {
    int64_t best = -1;
    double best_spread = -1.0;
    for (int64_t j = 0; j < p->d; j++) {
      int taken = 0;
      for (int u = 0; u < q; u++) taken |= cols[u] == j;
      if (taken) continue;
      double lo = INFINITY, hi = -INFINITY;
      for (int64_t c = 0; c < p->k; c++) {
        const double v = p->index[c * p->d + j];
        if (!isfinite(v)) continue;
        lo = v < lo ? v : lo;
        hi = v > hi ? v : hi;
      }
      if (hi >= lo && hi - lo > best_spread) {
        best_spread = hi - lo;
        best = j;
      }
    }
    if (best < 0) break;
    cols[q++] = best;
  }
  return q;
}
