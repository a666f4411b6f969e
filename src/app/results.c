/* results.c - a results or predictions file: each stage describes its own
 * group, this module adds the root attributes and writes the whole. */
#include "popseg/results.h"
#include "popseg/reduce.h"

#include <stdlib.h>
#include <string.h>

#include "popseg/h5io.h"
#include "popseg/version.h"

static const char *const time_attr[PS_T_COUNT] = {"time_read_s",   "time_scale_s", "time_pca_s",
                                                  "time_kmeans_s", "time_write_s", "time_digest_s"};

/* Not collective. Pieces that must fit together, whatever the caller built. */
static ps_err_t check_pieces(const ps_results_t *r, const char *path) {
  ps_err_t err = PS_OK;
  const ps_table_t *t = r->table;
  const ps_matrix_t *pr = r->projection;
  PS_CHECK(t && t->x && t->ids && t->names && pr &&
               (r->km || (r->labels && r->distance) || t->x->n_local == 0),
           PS_ERR_INTERNAL, "%s: incomplete results to write", path);
  PS_CHECK(pr->n_local == t->x->n_local && pr->row_offset == t->x->row_offset &&
               pr->n_global == t->x->n_global,
           PS_ERR_INTERNAL, "%s: /projection rows do not match the table's rows", path);
  if (r->scale) {
    PS_CHECK(r->pca && r->km, PS_ERR_INTERNAL, "%s: incomplete model to write", path);
    PS_CHECK(r->scale->d == t->x->n_cols && r->pca->d == t->x->n_cols, PS_ERR_INTERNAL,
             "%s: scaling/PCA have %lld/%lld features, the table %lld", path,
             (long long)r->scale->d, (long long)r->pca->d, (long long)t->x->n_cols);
    PS_CHECK(r->pca->n_kept == pr->n_cols && r->km->dim == pr->n_cols && r->pca->p >= pr->n_cols,
             PS_ERR_INTERNAL,
             "%s: inconsistent dimensions (kept %lld, projection %lld, centroids %lld, p %lld)",
             path, (long long)r->pca->n_kept, (long long)pr->n_cols, (long long)r->km->dim,
             (long long)r->pca->p);
  }
cleanup:
  return err;
}

static void describe_root(ps_h5w_t *w, const ps_results_t *r) {
  const ps_table_t *t = r->table;
  ps_h5w_attr_str(w, "", "popseg_file", r->scale ? "results" : "predictions");
  ps_h5w_attr_str(w, "", "popseg_version", POPSEG_VERSION);
  /* "exact" (reduce.h); "float" only from make bench's measuring build. */
  ps_h5w_attr_str(w, "", "sums", PS_SUMS_MODE);
  ps_h5w_attr_str(w, "", "command_line", r->command_line);
  ps_h5w_attr_i64(w, "", "n_ranks", r->n_ranks);
  for (int i = 0; i < PS_T_COUNT; i++) ps_h5w_attr_f64(w, "", time_attr[i], r->times[i]);
  ps_h5w_attr_str(w, "", "input", t->input);
  ps_h5w_attr_str(w, "", "input_digest", t->input_digest);
  ps_h5w_attr_str(w, "", "source", t->source);
  ps_h5w_attr_str(w, "", "source_sha256", t->source_sha256);
  ps_h5w_attr_i64(w, "", "n_rows", t->x->n_global);
  if (r->scale) {
    ps_h5w_attr_i64(w, "", "n_read", t->n_read);
    ps_h5w_attr_i64(w, "", "n_dropped", t->n_dropped);
  } else {
    ps_h5w_attr_str(w, "", "model", r->model_path);
  }
}

ps_err_t ps_results_write(const char *path, int force, const ps_results_t *r, MPI_Comm comm) {
  ps_err_t err = PS_OK;
  ps_h5w_t *w = NULL;
  int32_t *tr = NULL;
  char *knames = NULL;
  err = check_pieces(r, path);
  if (err == PS_OK) err = ps_h5w_create(&w);
  PS_AGREE(comm);
  /* A predictions file names its features too when /predict/out_of_range_* uses them. */
  ps_table_describe_rows(w, r->table, r->scale != NULL || (r->track && r->track->have_ranges));
  if (r->track) ps_track_describe(w, r->track);
  if (r->prep) {
    tr = malloc((size_t)(r->table->x->n_cols > 0 ? r->table->x->n_cols : 1) * sizeof *tr);
    PS_CHECK_ALL(comm, tr != NULL, PS_ERR_MEM, "out of memory");
    ps_prep_describe(w, r->prep, tr, r->table);
  }
  if (r->weights)
    ps_h5w_data(w, "rows/weight", PS_H5_F64, 0, "row", r->weights,
                "the weight of each row (--weights)");
  if (r->n_key > 0) {
    knames = calloc((size_t)r->n_key, r->table->fname_width);
    PS_CHECK_ALL(comm, knames != NULL, PS_ERR_MEM, "out of memory");
    for (int64_t q = 0; q < r->n_key; q++)
      memcpy(knames + (size_t)q * r->table->fname_width, ps_table_fname(r->table, r->key_cols[q]),
             r->table->fname_width);
    ps_h5w_dim(w, "key_feature", r->n_key, PS_H5_STR, r->table->fname_width, knames,
               "the key figures' features: those whose index scores vary most across segments");
    ps_h5w_data(w, "rows/key", PS_H5_F64, 0, "row,key_feature", r->key,
                "a few key figures of each row, original units (the HTML report's tooltips)");
  }
  if (r->scale) ps_scale_describe(w, r->scale);
  if (r->pca) ps_pca_describe(w, r->pca);
  ps_pca_describe_projection(w, r->projection->n_cols, r->projection);
  if (r->scale)
    ps_kmeans_describe(w, r->km, r->centroids_reconstructed);
  else
    ps_kmeans_describe_assignment(w, r->labels, r->distance);
  if (r->profile) ps_profile_describe(w, r->profile);
  if (r->sub && r->scale) ps_subseg_describe(w, r->sub);
  if (r->sub && !r->scale) {
    ps_h5w_dim_index(w, "subsegment", r->sub->m, 0, "the model's sub-segments");
    ps_subseg_describe_labels(w, r->sub_labels, r->sub);
    /* What the labels index (the HTML report and a reader need no model file). */
    ps_h5w_data(w, "kmeans/sub/parent", PS_H5_I32, 0, "subsegment", r->sub->parent,
                "the segment each of the model's sub-segments splits");
    ps_h5w_data(w, "kmeans/sub/codes", PS_H5_STR, PS_SUBSEG_CODE_W, "subsegment", r->sub->codes,
                "code of each of the model's sub-segments (\"3b\")");
  }
  if (r->sub_profile) ps_profile_describe_sub(w, r->sub_profile);
  if (r->sweep) {
    ps_sweep_describe(w, r->sweep);
    ps_h5w_attr_i64(w, "", "suggested_k", r->sweep->k[r->sweep->suggested]);
  }
  describe_root(w, r);
  err = ps_h5w_write(w, path, force, comm);
cleanup:
  ps_h5w_destroy(&w);
  free(tr);
  free(knames);
  return err;
}
