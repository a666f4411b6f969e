/* model.c - reading the model of a results file back for predict: the file's
 * feature names, then each stage's group through the stage's own reader. */
#include "popseg/model.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "popseg/reduce.h"

#include "popseg/h5io.h"
#include "popseg/kmeans.h"
#include "popseg/table.h"

void ps_model_destroy(ps_model_t **m) {
  if (!m || !*m) return;
  ps_scale_destroy(&(*m)->scale);
  ps_pca_destroy(&(*m)->pca);
  free((*m)->centroids);
  free((*m)->feature_names);
  ps_subseg_destroy(&(*m)->sub);
  free((*m)->range_min);
  free((*m)->range_max);
  free(*m);
  *m = NULL;
}

/* Collective. A predictions file holds no model: say so. */
static ps_err_t not_predictions(ps_h5r_t *r) {
  ps_err_t err = PS_OK;
  char kind[64] = "";
  PS_TRY(ps_h5r_attr_str(r, "", "popseg_file", 0, kind, sizeof kind, NULL));
  PS_CHECK(strcmp(kind, "predictions") != 0 && !ps_h5r_has_attr(r, "", "model"), PS_ERR_FORMAT,
           "%s: is a predictions file, not a model (give the results file of a fit)",
           ps_h5r_path(r));
cleanup:
  return ps_err_agree(ps_h5r_comm(r), err);
}

#define MO(f) offsetof(ps_model_opts_t, f)
const ps_opt_t ps_model_options[] = {
    {.flag = "--model-k",
     .field = "k",
     .kind = PS_OPT_I64,
     .offset = MO(k),
     .min = 0,
     .max = 1000,
     .def = "0",
     .metavar = "K",
     .help = "apply the centroids of k = K of a sweep's results file (/sweep/k<K>; 0: the file's "
             "model, /kmeans)"},
    {0}};
#undef MO

/* The group holding the centroids and fit labels: /kmeans, or a sweep's k. */
static ps_err_t model_group(ps_h5r_t *r, int64_t k, char *group, size_t cap) {
  ps_err_t err = PS_OK;
  if (k <= 0) {
    snprintf(group, cap, "kmeans");
    return PS_OK;
  }
  snprintf(group, cap, "sweep/k%lld", (long long)k);
  char path[96];
  snprintf(path, sizeof path, "%s/centroids", group);
  PS_CHECK_OPT(ps_h5r_has(r, path), PS_ERR_ARG, "model.k",
               "%s: has no /%s: --model-k needs a results file of popseg sweep (or run --k auto) "
               "whose k range holds %lld",
               ps_h5r_path(r), group, (long long)k);
cleanup:
  return ps_err_agree(ps_h5r_comm(r), err);
}

ps_err_t ps_model_read(const char *path, MPI_Comm comm, ps_model_t **out) {
  return ps_model_read_k(path, 0, comm, out);
}

ps_err_t ps_model_read_k(const char *path, int64_t k, MPI_Comm comm, ps_model_t **out) {
  ps_err_t err = PS_OK;
  ps_h5r_t *r = NULL;
  ps_model_t *m = NULL;
  int64_t d = 0;
  char group[64];
  *out = NULL;
  PS_TRY(ps_h5r_open(path, comm, &r));
  PS_TRY(not_predictions(r));
  PS_TRY(model_group(r, k, group, sizeof group));
  m = calloc(1, sizeof *m);
  PS_CHECK_ALL(comm, m, PS_ERR_MEM, "out of memory");
  PS_TRY(ps_table_read_feature_names(r, &d, &m->feature_names, &m->fname_width));
  PS_CHECK_ALL(comm, d >= 1, PS_ERR_FORMAT, "%s: /feature_names: the model has no features", path);
  PS_TRY(ps_scale_read(r, d, &m->scale));
  PS_TRY(ps_pca_read(r, d, &m->pca));
  PS_TRY(ps_kmeans_read_centroids_at(r, group, m->pca->n_kept, &m->k, &m->centroids));
  PS_TRY(ps_prep_read(r, &m->prep));
  if (k <= 0) PS_TRY(ps_subseg_read(r, m->k, m->pca->n_kept, &m->sub));
  if (ps_h5r_has(r, "profile/overall_min") && ps_h5r_has(r, "profile/overall_max")) {
    int64_t want[1] = {d}, dims[1];
    PS_TRY(ps_h5r_shape(r, "profile/overall_min", PS_H5_F64, 1, want, NULL, dims, NULL));
    PS_TRY(ps_h5r_shape(r, "profile/overall_max", PS_H5_F64, 1, want, NULL, dims, NULL));
    m->range_min = malloc((size_t)d * sizeof *m->range_min);
    m->range_max = malloc((size_t)d * sizeof *m->range_max);
    PS_CHECK_ALL(comm, m->range_min && m->range_max, PS_ERR_MEM, "out of memory");
    PS_TRY(ps_h5r_read(r, "profile/overall_min", PS_H5_F64, 0, 0, d, m->range_min));
    PS_TRY(ps_h5r_read(r, "profile/overall_max", PS_H5_F64, 0, 0, d, m->range_max));
  }
cleanup:
  err = ps_h5r_close(&r, err);
  if (err == PS_OK) {
    *out = m;
    m = NULL;
  }
  ps_model_destroy(&m);
  return err;
}

ps_err_t ps_model_read_fit_labels(const char *path, MPI_Comm comm, int64_t *n, int64_t **ids,
                                  int32_t **labels) {
  return ps_model_read_fit_labels_k(path, 0, comm, n, ids, labels);
}

ps_err_t ps_model_read_fit_labels_k(const char *path, int64_t k, MPI_Comm comm, int64_t *n,
                                    int64_t **ids, int32_t **labels) {
  ps_err_t err = PS_OK;
  ps_h5r_t *r = NULL;
  int64_t dims[1] = {0};
  static const char *const s_rows[1] = {"rows"};
  char group[64];
  *n = 0;
  *ids = NULL;
  *labels = NULL;
  PS_TRY(ps_h5r_open(path, comm, &r));
  PS_TRY(model_group(r, k, group, sizeof group));
  PS_TRY(ps_h5r_shape(r, "rows/id", PS_H5_I64, 1, NULL, s_rows, dims, NULL));
  *ids = malloc((size_t)(dims[0] > 0 ? dims[0] : 1) * sizeof **ids);
  *labels = malloc((size_t)(dims[0] > 0 ? dims[0] : 1) * sizeof **labels);
  PS_CHECK_ALL(comm, *ids && *labels, PS_ERR_MEM,
               "%s: out of memory for %lld "
               "labels",
               path, (long long)dims[0]);
  PS_TRY(ps_h5r_read(r, "rows/id", PS_H5_I64, 0, 0, dims[0], *ids));
  PS_TRY(ps_kmeans_read_labels_at(r, group, dims[0], *labels));
  *n = dims[0];
cleanup:
  err = ps_h5r_close(&r, err);
  if (err != PS_OK) {
    free(*ids);
    free(*labels);
    *ids = NULL;
    *labels = NULL;
  }
  return err;
}

typedef struct {
  int64_t id;
  int32_t label;
} id_label_t;

static int cmp_id(const void *a, const void *b) {
  int64_t x = ((const id_label_t *)a)->id, y = ((const id_label_t *)b)->id;
  return x < y ? -1 : x > y;
}

ps_err_t ps_model_compare(const char *model_path, int64_t model_k, const ps_table_t *t,
                          const int32_t *labels, MPI_Comm comm, int64_t *matched,
                          int64_t *changed) {
  ps_err_t err = PS_OK;
  int64_t n = 0, *ids = NULL, cnt[2] = {0, 0};
  int32_t *fl = NULL;
  id_label_t *pairs = NULL;
  PS_TRY(ps_model_read_fit_labels_k(model_path, model_k, comm, &n, &ids, &fl));
  pairs = malloc((size_t)(n > 0 ? n : 1) * sizeof *pairs);
  PS_CHECK_ALL(comm, pairs, PS_ERR_MEM, "out of memory");
  for (int64_t i = 0; i < n; i++) {
    pairs[i].id = ids[i];
    pairs[i].label = fl[i];
  }
  qsort(pairs, (size_t)n, sizeof *pairs, cmp_id);
  for (int64_t i = 0; i < t->x->n_local; i++) {
    id_label_t key = {t->ids[i], 0};
    id_label_t *hit = bsearch(&key, pairs, (size_t)n, sizeof *pairs, cmp_id);
    if (hit) {
      cnt[0]++;
      if (hit->label != labels[i]) cnt[1]++;
    }
  }
  PS_TRY(ps_reduce_sum_i64(cnt, 2, comm));
  *matched = cnt[0];
  *changed = cnt[1];
cleanup:
  free(ids);
  free(fl);
  free(pairs);
  return err;
}

void ps_track_free(ps_track_t *tr) {
  free(tr->transition);
  free(tr->transition_weight);
  free(tr->model_label);
  free(tr->new_ids);
  free(tr->new_names);
  free(tr->missing_ids);
  free(tr->missing_names);
  free(tr->changed_row);
  free(tr->changed_names);
  free(tr->changed_from); /* changed_to points into it */
  free(tr->oor_rows);
  free(tr->oor_excess);
  memset(tr, 0, sizeof *tr);
}

/* Collective. Gather a variable number of (id, name, extra) records from
 * every rank in rank order (so in global row order) onto every rank. */
static ps_err_t gather_rows(const int64_t *ids, const char *names, size_t width, int64_t n,
                            MPI_Comm comm, int64_t *total, int64_t **all_ids, char **all_names) {
  ps_err_t err = PS_OK;
  int size;
  MPI_Comm_size(comm, &size);
  const size_t rec = sizeof(int64_t) + width;
  int *cnt = calloc((size_t)size, sizeof *cnt), *dsp = calloc((size_t)size, sizeof *dsp);
  char *mine = malloc((size_t)(n > 0 ? n : 1) * rec), *all = NULL;
  int mc = (int)((size_t)n * rec);
  *all_ids = NULL;
  *all_names = NULL;
  PS_CHECK_ALL(comm, cnt && dsp && mine, PS_ERR_MEM, "out of memory");
  for (int64_t i = 0; i < n; i++) {
    memcpy(mine + (size_t)i * rec, &ids[i], sizeof(int64_t));
    memcpy(mine + (size_t)i * rec + sizeof(int64_t), names + (size_t)i * width, width);
  }
  PS_CALL_MPI(MPI_Allgather(&mc, 1, MPI_INT, cnt, 1, MPI_INT, comm));
  int64_t bytes = 0;
  for (int r = 0; r < size; r++) {
    dsp[r] = (int)bytes;
    bytes += cnt[r];
  }
  PS_CHECK_ALL(comm, bytes < INT32_MAX, PS_ERR_MEM, "too many rows to list");
  all = malloc((size_t)(bytes > 0 ? bytes : 1));
  *all_ids = malloc((size_t)(bytes / (int64_t)rec + 1) * sizeof **all_ids);
  *all_names = calloc((size_t)(bytes / (int64_t)rec + 1), width);
  PS_CHECK_ALL(comm, all && *all_ids && *all_names, PS_ERR_MEM, "out of memory");
  PS_CALL_MPI(MPI_Allgatherv(mine, mc, MPI_BYTE, all, cnt, dsp, MPI_BYTE, comm));
  *total = bytes / (int64_t)rec;
  for (int64_t i = 0; i < *total; i++) {
    memcpy(&(*all_ids)[i], all + (size_t)i * rec, sizeof(int64_t));
    memcpy(*all_names + (size_t)i * width, all + (size_t)i * rec + sizeof(int64_t), width);
  }
cleanup:
  free(cnt);
  free(dsp);
  free(mine);
  free(all);
  return err;
}

typedef struct {
  int64_t id;
  int32_t label;
  int64_t row;
} id_row_t;

static int cmp_id_row(const void *a, const void *b) {
  int64_t x = ((const id_row_t *)a)->id, y = ((const id_row_t *)b)->id;
  return x < y ? -1 : x > y;
}

ps_err_t ps_model_track(const char *model_path, int64_t model_k, const ps_model_t *m,
                        const ps_table_t *t, const ps_matrix_t *x, const int32_t *labels,
                        const double *weights, MPI_Comm comm, ps_track_t *tr) {
  ps_err_t err = PS_OK;
  const int64_t k = m->k, d = x->n_cols, nl = x->n_local, w = (int64_t)t->name_width;
  int64_t n = 0, *ids = NULL, cnt[3] = {0, 0, 0};
  int32_t *fl = NULL, *seen = NULL;
  id_row_t *pairs = NULL;
  int64_t *loc_ids = NULL;
  char *loc_names = NULL, *model_names = NULL;
  size_t mw = 0;
  ps_h5r_t *r = NULL;
  memset(tr, 0, sizeof *tr);
  tr->k = k;
  tr->d = d;
  tr->name_width = t->name_width;
  PS_TRY(ps_model_read_fit_labels_k(model_path, model_k, comm, &n, &ids, &fl));
  pairs = malloc((size_t)(n > 0 ? n : 1) * sizeof *pairs);
  seen = calloc((size_t)(n > 0 ? n : 1), sizeof *seen);
  tr->transition = calloc((size_t)(k * k), sizeof *tr->transition);
  tr->model_label = malloc((size_t)(nl > 0 ? nl : 1) * sizeof *tr->model_label);
  tr->oor_rows = calloc((size_t)(d > 0 ? d : 1), sizeof *tr->oor_rows);
  tr->oor_excess = calloc((size_t)(d > 0 ? d : 1), sizeof *tr->oor_excess);
  loc_ids = malloc((size_t)(nl > 0 ? nl : 1) * sizeof *loc_ids);
  loc_names = malloc((size_t)(nl > 0 ? nl : 1) * t->name_width);
  if (weights) tr->transition_weight = calloc((size_t)(k * k), sizeof *tr->transition_weight);
  PS_CHECK_ALL(comm,
               pairs && seen && tr->transition && tr->model_label && tr->oor_rows &&
                   tr->oor_excess && loc_ids && loc_names && (!weights || tr->transition_weight),
               PS_ERR_MEM, "out of memory comparing with the fit");
  for (int64_t i = 0; i < n; i++) pairs[i] = (id_row_t){ids[i], fl[i], i};
  qsort(pairs, (size_t)n, sizeof *pairs, cmp_id_row);
  /* Transitions, in integers (counts) and exactly summed weights. */
  ps_xsum_t *tw = weights ? calloc((size_t)(k * k), sizeof *tw) : NULL;
  PS_CHECK_ALL(comm, !weights || tw, PS_ERR_MEM, "out of memory");
  int64_t nnew = 0, nch = 0;
  for (int64_t i = 0; i < nl; i++) {
    id_row_t key = {t->ids[i], 0, 0};
    id_row_t *hit = bsearch(&key, pairs, (size_t)n, sizeof *pairs, cmp_id_row);
    tr->model_label[i] = hit ? hit->label : -1;
    if (!hit) {
      loc_ids[nnew] = t->ids[i];
      memcpy(loc_names + (size_t)nnew * t->name_width, ps_table_name(t, i), t->name_width);
      nnew++;
      continue;
    }
    seen[hit->row] = 1;
    cnt[0]++;
    tr->transition[(int64_t)hit->label * k + labels[i]]++;
    if (tw) ps_xsum_add(&tw[(int64_t)hit->label * k + labels[i]], weights[i]);
    if (hit->label != labels[i]) cnt[1]++;
  }
  PS_TRY(ps_reduce_sum_i64(tr->transition, k * k, comm));
  if (tw) {
    err = ps_xsum_reduce(tw, k * k, NULL, 0, comm);
    if (err == PS_OK) ps_xsum_values(tw, k * k, tr->transition_weight);
    free(tw);
    PS_TRY(err);
  }
  /* The new ids, in row order. */
  PS_TRY(gather_rows(loc_ids, loc_names, t->name_width, nnew, comm, &tr->n_new, &tr->new_ids,
                     &tr->new_names));
  /* The changed rows (the first PS_TRACK_SHOW in row order): local list, then gathered. */
  for (int64_t i = 0; i < nl; i++)
    if (tr->model_label[i] >= 0 && tr->model_label[i] != labels[i]) {
      /* pack (global row, from, to) into the id slot's neighbours: reuse loc_ids */
      loc_ids[nch] = x->row_offset + i;
      memcpy(loc_names + (size_t)nch * t->name_width, ps_table_name(t, i), t->name_width);
      nch++;
      if (nch >= PS_TRACK_SHOW) break;
    }
  PS_TRY(gather_rows(loc_ids, loc_names, t->name_width, nch, comm, &tr->n_changed_shown,
                     &tr->changed_row, &tr->changed_names));
  if (tr->n_changed_shown > PS_TRACK_SHOW) tr->n_changed_shown = PS_TRACK_SHOW;
  {
    /* from/to of the shown rows: each owner fills its own, then a max-reduce. */
    const int64_t s = tr->n_changed_shown > 0 ? tr->n_changed_shown : 1;
    tr->changed_from = malloc((size_t)s * 2 * sizeof *tr->changed_from);
    PS_CHECK_ALL(comm, tr->changed_from, PS_ERR_MEM, "out of memory");
    tr->changed_to = tr->changed_from + s;
    for (int64_t q = 0; q < 2 * s; q++) tr->changed_from[q] = -1;
    for (int64_t q = 0; q < tr->n_changed_shown; q++) {
      const int64_t g = tr->changed_row[q] - x->row_offset;
      if (g >= 0 && g < nl) {
        tr->changed_from[q] = tr->model_label[g];
        tr->changed_to[q] = labels[g];
      }
    }
    PS_CALL_MPI(
        MPI_Allreduce(MPI_IN_PLACE, tr->changed_from, (int)(2 * s), MPI_INT32_T, MPI_MAX, comm));
    tr->changed_to = tr->changed_from + s;
  }
  /* The fit's ids absent now: seen is a 0/1 mark, combined by MAX. */
  PS_CALL_MPI(MPI_Allreduce(MPI_IN_PLACE, seen, (int)n, MPI_INT32_T, MPI_MAX, comm));
  for (int64_t q = 0; q < n; q++) tr->n_missing += !seen[q];
  tr->missing_ids = malloc((size_t)(tr->n_missing > 0 ? tr->n_missing : 1) * sizeof(int64_t));
  PS_CHECK_ALL(comm, tr->missing_ids, PS_ERR_MEM, "out of memory");
  tr->n_missing = 0;
  for (int64_t q = 0; q < n; q++)
    if (!seen[q]) tr->missing_ids[tr->n_missing++] = ids[q];
  /* Their names, from the fit's rows. */
  PS_TRY(ps_h5r_open(model_path, comm, &r));
  PS_TRY(ps_h5r_read_strings(r, "rows/name", 0, n, 0, &model_names, &mw));
  tr->missing_names = calloc((size_t)(tr->n_missing > 0 ? tr->n_missing : 1), t->name_width);
  PS_CHECK_ALL(comm, tr->missing_names, PS_ERR_MEM, "out of memory");
  for (int64_t q = 0, o = 0; q < n; q++)
    if (!seen[q])
      snprintf(tr->missing_names + (size_t)(o++) * t->name_width, t->name_width, "%s",
               model_names + (size_t)q * mw);
  /* Values outside the fit's range, per feature (original units). */
  tr->have_ranges = m->range_min && m->range_max;
  for (int64_t i = 0; tr->have_ranges && i < nl; i++) {
    int any = 0;
    for (int64_t j = 0; j < d; j++) {
      const double v = x->data[i * d + j];
      const double e = v < m->range_min[j]   ? m->range_min[j] - v
                       : v > m->range_max[j] ? v - m->range_max[j]
                                             : 0.0;
      if (e > 0) {
        tr->oor_rows[j]++;
        any = 1;
        if (e > tr->oor_excess[j]) tr->oor_excess[j] = e;
      }
    }
    cnt[2] += any;
  }
  PS_TRY(ps_reduce_sum_i64(tr->oor_rows, d, comm));
  PS_TRY(ps_reduce_max(tr->oor_excess, d, comm));
  PS_TRY(ps_reduce_sum_i64(cnt, 3, comm));
  tr->matched = cnt[0];
  tr->changed = cnt[1];
  tr->oor_any = cnt[2];
  (void)w;
cleanup:
  err = ps_h5r_close(&r, ps_err_agree(comm, err));
  free(ids);
  free(fl);
  free(seen);
  free(pairs);
  free(loc_ids);
  free(loc_names);
  free(model_names);
  if (err != PS_OK) ps_track_free(tr);
  return err;
}

void ps_track_describe(ps_h5w_t *w, const ps_track_t *tr) {
  ps_h5w_dim_index(w, "segment", tr->k, 0, "the model's segments (0-based)");
  ps_h5w_dim_index(w, "predict/model_segment", tr->k, 0,
                   "the segment a row had in the model's data");
  ps_h5w_dim_index(w, "predict/new", tr->n_new, 0, "rows whose id is not in the model's data");
  ps_h5w_dim_index(w, "predict/missing", tr->n_missing, 0,
                   "rows of the model's data whose id is not in the new data");
  ps_h5w_data(w, "predict/transition", PS_H5_I64, 0, "model_segment,segment", tr->transition,
              "rows matched by id: segment in the model's data (row) -> segment now (column)");
  if (tr->transition_weight)
    ps_h5w_data(w, "predict/transition_weight", PS_H5_F64, 0, "model_segment,segment",
                tr->transition_weight, "the same in weight (the model's --weights column)");
  ps_h5w_data(w, "predict/model_label", PS_H5_I32, 0, "row", tr->model_label,
              "each row's segment in the model's data (-1: a new id); it changed segment where "
              "this differs from /kmeans/labels");
  ps_h5w_data(w, "predict/new_ids", PS_H5_I64, 0, "new", tr->new_ids, "ids new to the model");
  ps_h5w_data(w, "predict/missing_ids", PS_H5_I64, 0, "missing", tr->missing_ids,
              "ids of the model's data missing now");
  if (tr->have_ranges) {
    ps_h5w_data(w, "predict/out_of_range_rows", PS_H5_I64, 0, "feature", tr->oor_rows,
                "rows with the feature outside the model's training range");
    ps_h5w_data(w, "predict/out_of_range_excess", PS_H5_F64, 0, "feature", tr->oor_excess,
                "the worst excess beyond the training range, original units (0: none)");
    ps_h5w_attr_i64(w, "predict", "rows_out_of_range", tr->oor_any);
  }
  ps_h5w_attr_i64(w, "predict", "matched", tr->matched);
  ps_h5w_attr_i64(w, "predict", "changed", tr->changed);
}
