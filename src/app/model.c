/* model.c - reading the model of a results file back for predict: the file's
 * feature names, then each stage's group through the stage's own reader. */
#include "popseg/model.h"

#include <stddef.h>
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
