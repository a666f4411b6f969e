/* html_load.c - what the HTML report shows, read from a results or
 * predictions file (see html.h). Every rank reads the same (the reads are
 * collective); only rank 0 formats. The per-row datasets are read in blocks
 * so that a file of any size needs bounded memory: the drawn rows are every
 * stride-th, the sizes count every row. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "popseg/h5io.h"
#include "popseg/html.h"

#define BLOCK 65536

static size_t el_size(ps_h5type_t type) {
  return type == PS_H5_I32 ? 4 : 8;
}

/* Collective. The whole numeric dataset path ([dims[0]] or [dims[0]][dims[1]]). */
static ps_err_t read_all(ps_h5r_t *r, const char *path, ps_h5type_t type, int nd, int64_t *dims,
                         void **out) {
  ps_err_t err = PS_OK;
  const int64_t want[2] = {-1, -1};
  *out = NULL;
  PS_TRY(ps_h5r_shape(r, path, type, nd, want, NULL, dims, NULL));
  size_t n = (size_t)dims[0] * (nd > 1 ? (size_t)dims[1] : 1);
  *out = malloc(n ? n * el_size(type) : 1);
  PS_CHECK_ALL(ps_h5r_comm(r), *out != NULL, PS_ERR_MEM, "%s: out of memory reading /%s",
               ps_h5r_path(r), path);
  PS_TRY(ps_h5r_read(r, path, type, 0, 0, dims[0], *out));
cleanup:
  return err;
}

/* Collective. A string dataset of nd dimensions into a block [count][width]
 * whose strings are NUL-terminated (width = the file's + 1). */
static ps_err_t read_strs(ps_h5r_t *r, const char *path, int nd, int64_t *dims, char **out,
                          size_t *width) {
  ps_err_t err = PS_OK;
  const int64_t want[2] = {-1, -1};
  size_t w = 0;
  char *raw = NULL;
  *out = NULL;
  PS_TRY(ps_h5r_shape(r, path, PS_H5_STR, nd, want, NULL, dims, &w));
  size_t n = (size_t)dims[0] * (nd > 1 ? (size_t)dims[1] : 1);
  raw = calloc(n ? n : 1, w ? w : 1);
  *out = calloc(n ? n : 1, w + 1);
  PS_CHECK_ALL(ps_h5r_comm(r), raw && *out, PS_ERR_MEM, "%s: out of memory reading /%s",
               ps_h5r_path(r), path);
  PS_TRY(ps_h5r_read(r, path, PS_H5_STR, w, 0, dims[0], raw));
  for (size_t i = 0; i < n; i++) memcpy(*out + i * (w + 1), raw + i * w, w);
  *width = w + 1;
cleanup:
  free(raw);
  return err;
}

static ps_err_t attr_str(ps_h5r_t *r, const char *obj, const char *name, char *out, size_t cap) {
  return ps_h5r_attr_str(r, obj, name, 0, out, cap, NULL);
}

/* One per-row dataset the page draws: read BLOCK rows at a time into block
 * ([BLOCK][in] bytes), and of every stride-th row the first `out` bytes kept
 * in *dest ([n_drawn][out], zeroed first: a string gets its NUL, pc2 stays 0
 * when K = 1). */
typedef struct {
  const char *path;
  ps_h5type_t type;
  size_t width; /* strings: the file's width, else 0 */
  size_t in, out;
  void **dest;
  char *block;
} column_t;

/* Collective. The per-row datasets, block by block: every stride-th row kept,
 * the segment sizes (and weights) counted over all. */
static ps_err_t read_rows(ps_h5r_t *r, ps_html_t *h, int64_t K, int have_sub, int have_w,
                          int have_old) {
  ps_err_t err = PS_OK;
  MPI_Comm comm = ps_h5r_comm(r);
  const int64_t n = h->n_rows, s = h->stride, nd = h->n_drawn;
  size_t nw = 0;
  int64_t dims[2];
  PS_TRY(ps_h5r_shape(r, "rows/name", PS_H5_STR, 1, (int64_t[]){n}, NULL, dims, &nw));
  h->name_width = nw + 1;
  const size_t kb = (size_t)h->n_key * sizeof(double);
  column_t col[9] = {{"kmeans/labels", PS_H5_I32, 0, 4, 4, (void **)&h->labels, NULL},
                     {"rows/weight", PS_H5_F64, 0, 8, 8, (void **)&h->weight, NULL},
                     {"rows/id", PS_H5_I64, 0, 8, 8, (void **)&h->ids, NULL},
                     {"rows/name", PS_H5_STR, nw, nw, nw + 1, (void **)&h->names, NULL},
                     {"kmeans/distance", PS_H5_F64, 0, 8, 8, (void **)&h->distance, NULL},
                     {"projection", PS_H5_F64, 0, (size_t)K * 8, 16, (void **)&h->pc, NULL},
                     {"kmeans/sub/labels", PS_H5_I32, 0, 4, 4, (void **)&h->sub_labels, NULL},
                     {"predict/model_label", PS_H5_I32, 0, 4, 4, (void **)&h->model_labels, NULL},
                     {"rows/key", PS_H5_F64, 0, kb, kb, (void **)&h->key, NULL}};
  const int want[9] = {1, have_w, 1, 1, 1, 1, have_sub, have_old, h->n_key > 0};
  int ok = 1;
  for (int c = 0; c < 9; c++) {
    if (!want[c]) continue;
    *col[c].dest = calloc((size_t)(nd ? nd : 1), col[c].out);
    col[c].block = malloc(BLOCK * col[c].in);
    ok &= *col[c].dest != NULL && col[c].block != NULL;
  }
  PS_CHECK_ALL(comm, ok, PS_ERR_MEM, "%s: out of memory for the rows", ps_h5r_path(r));
  const int32_t *lab = (const int32_t *)(const void *)col[0].block;
  const double *w = have_w ? (const double *)(const void *)col[1].block : NULL;
  int64_t kept = 0;
  for (int64_t off = 0; off < n; off += BLOCK) {
    int64_t cnt = n - off < BLOCK ? n - off : BLOCK;
    for (int c = 0; c < 9; c++)
      if (want[c])
        PS_TRY(ps_h5r_read(r, col[c].path, col[c].type, col[c].width, off, cnt, col[c].block));
    int64_t bad = -1;
    for (int64_t i = 0; i < cnt && bad < 0; i++)
      if (lab[i] < 0 || lab[i] >= h->k) bad = i;
    /* Every rank read the same block: the same answer, agreed once per block. */
    PS_CHECK_ALL(comm, bad < 0, PS_ERR_FORMAT,
                 "%s: /kmeans/labels: row %lld has segment %d, outside 0..%lld", ps_h5r_path(r),
                 (long long)(off + bad), bad >= 0 ? (int)lab[bad] : 0, (long long)h->k - 1);
    for (int64_t i = 0; i < cnt; i++) {
      h->sizes[lab[i]]++;
      if (h->weight_sizes && w) h->weight_sizes[lab[i]] += w[i];
      if ((off + i) % s != 0 || kept >= nd) continue;
      for (int c = 0; c < 9; c++)
        if (want[c])
          memcpy((char *)*col[c].dest + (size_t)kept * col[c].out,
                 col[c].block + (size_t)i * col[c].in,
                 col[c].in < col[c].out ? col[c].in : col[c].out);
      kept++;
    }
  }
cleanup:
  for (int c = 0; c < 9; c++) free(col[c].block);
  return err;
}

/* Collective. A predictions file names its model: when that file is still
 * readable and its profile is of the same k segments and d features, the
 * page shows the model's pen portraits and index scores too. Anything else
 * (moved, another k) leaves the page without them, never an error. */
static ps_err_t model_profile(ps_html_t *h, MPI_Comm comm) {
  ps_err_t err = PS_OK;
  ps_h5r_t *r = NULL;
  int rank, ok = 0;
  int64_t dims[2];
  MPI_Comm_rank(comm, &rank);
  if (rank == 0) ok = h->model[0] && access(h->model, R_OK) == 0 && ps_h5_is_hdf5(h->model);
  PS_CALL_MPI(MPI_Bcast(&ok, 1, MPI_INT, 0, comm));
  if (!ok) return PS_OK;
  PS_TRY(ps_h5r_open(h->model, comm, &r));
  if (!ps_h5r_has(r, "profile/index")) goto cleanup;
  PS_TRY(ps_h5r_shape(r, "profile/index", PS_H5_F64, 2, NULL, NULL, dims, NULL));
  if (dims[0] != h->k || dims[1] != h->d) goto cleanup;
  PS_TRY(read_all(r, "profile/index", PS_H5_F64, 2, dims, (void **)&h->index));
  PS_TRY(read_all(r, "profile/mean", PS_H5_F64, 2, dims, (void **)&h->mean));
  PS_TRY(read_all(r, "profile/overall_mean", PS_H5_F64, 1, dims, (void **)&h->overall_mean));
  PS_TRY(attr_str(r, "profile", "mean_kind", h->mean_kind, sizeof h->mean_kind));
cleanup:
  if (r) err = ps_h5r_close(&r, err);
  return err;
}

ps_err_t ps_html_load(const char *path, MPI_Comm comm, ps_html_t *h) {
  ps_err_t err = PS_OK;
  ps_h5r_t *r = NULL;
  char kind[64] = "";
  int64_t dims[2];
  memset(h, 0, sizeof *h);
  PS_TRY(ps_h5r_open(path, comm, &r));
  PS_TRY(ps_h5r_attr_str(r, "", "popseg_file", 1, kind, sizeof kind, NULL));
  PS_CHECK_ALL(
      comm, strcmp(kind, "results") == 0 || strcmp(kind, "predictions") == 0, PS_ERR_FORMAT,
      "%s: popseg_file is '%s': the report draws a results or predictions file", path, kind);
  h->predictions = strcmp(kind, "predictions") == 0;
  PS_TRY(attr_str(r, "", "source", h->source, sizeof h->source));
  PS_TRY(attr_str(r, "", "input", h->input, sizeof h->input));
  PS_TRY(attr_str(r, "", "command_line", h->command_line, sizeof h->command_line));
  PS_TRY(attr_str(r, "", "model", h->model, sizeof h->model));
  PS_TRY(read_strs(r, "feature_names", 1, dims, &h->fnames, &h->fwidth));
  h->d = dims[0];
  PS_TRY(ps_h5r_shape(r, "rows/id", PS_H5_I64, 1, NULL, NULL, dims, NULL));
  h->n_rows = dims[0];
  PS_TRY(ps_h5r_shape(r, "projection", PS_H5_F64, 2, (int64_t[]){h->n_rows, -1}, NULL, dims, NULL));
  h->K = dims[1];
  PS_TRY(ps_h5r_shape(r, "segment", PS_H5_I32, 1, NULL, NULL, dims, NULL));
  h->k = dims[0];
  PS_CHECK_ALL(comm, h->k > 0 && h->K > 0, PS_ERR_FORMAT, "%s: no segments or no components", path);
  if (!h->predictions) {
    int64_t pd[1];
    PS_TRY(read_all(r, "pca/explained_variance_ratio", PS_H5_F64, 1, pd, (void **)&h->evr));
    h->p = pd[0];
    int64_t cd[2];
    PS_TRY(read_all(r, "pca/components", PS_H5_F64, 2, cd, (void **)&h->components));
    PS_CHECK_ALL(comm, cd[0] >= h->K && cd[1] == h->d, PS_ERR_FORMAT,
                 "%s: /pca/components is [%lld][%lld], expected [>= %lld][%lld]", path,
                 (long long)cd[0], (long long)cd[1], (long long)h->K, (long long)h->d);
    PS_TRY(read_all(r, "kmeans/centroids", PS_H5_F64, 2, cd, (void **)&h->centroids));
    PS_CHECK_ALL(comm, cd[0] == h->k && cd[1] == h->K, PS_ERR_FORMAT,
                 "%s: /kmeans/centroids is [%lld][%lld], expected [%lld][%lld]", path,
                 (long long)cd[0], (long long)cd[1], (long long)h->k, (long long)h->K);
    if (ps_h5r_has(r, "profile/index")) {
      PS_TRY(read_all(r, "profile/index", PS_H5_F64, 2, cd, (void **)&h->index));
      PS_TRY(read_all(r, "profile/mean", PS_H5_F64, 2, cd, (void **)&h->mean));
      PS_TRY(read_all(r, "profile/overall_mean", PS_H5_F64, 1, cd, (void **)&h->overall_mean));
      PS_TRY(read_strs(r, "profile/example_name", 2, cd, &h->example_names, &h->ex_width));
      h->n_examples = cd[1];
      PS_TRY(attr_str(r, "profile", "mean_kind", h->mean_kind, sizeof h->mean_kind));
    }
    if (ps_h5r_has(r, "prep"))
      PS_TRY(attr_str(r, "prep", "weights", h->weights_name, sizeof h->weights_name));
    if (ps_h5r_has(r, "sweep/k")) {
      int64_t kd[1];
      PS_TRY(read_all(r, "sweep/k", PS_H5_I64, 1, kd, (void **)&h->sweep_k));
      h->n_k = kd[0];
      PS_TRY(read_all(r, "sweep/inertia", PS_H5_F64, 1, kd, (void **)&h->sweep_inertia));
      PS_TRY(read_all(r, "sweep/silhouette", PS_H5_F64, 1, kd, (void **)&h->sweep_silhouette));
      PS_TRY(ps_h5r_attr_i64(r, "sweep", "suggested_k", 0, &h->suggested_k, NULL));
    }
  } else {
    int64_t td[2];
    PS_TRY(read_all(r, "predict/transition", PS_H5_I64, 2, td, (void **)&h->transition));
    PS_CHECK_ALL(comm, td[0] == h->k && td[1] == h->k, PS_ERR_FORMAT,
                 "%s: /predict/transition is [%lld][%lld], expected [%lld][%lld]", path,
                 (long long)td[0], (long long)td[1], (long long)h->k, (long long)h->k);
    PS_TRY(ps_h5r_attr_i64(r, "predict", "matched", 0, &h->matched, NULL));
    PS_TRY(ps_h5r_attr_i64(r, "predict", "changed", 0, &h->changed, NULL));
    PS_TRY(ps_h5r_shape(r, "predict/new_ids", PS_H5_I64, 1, NULL, NULL, td, NULL));
    h->n_new = td[0];
    PS_TRY(model_profile(h, comm));
  }
  int have_sub = ps_h5r_has(r, "kmeans/sub/labels");
  if (have_sub) {
    int64_t sd[1];
    PS_TRY(read_strs(r, "kmeans/sub/codes", 1, sd, &h->codes, &h->code_width));
    h->m = sd[0];
    PS_TRY(read_all(r, "kmeans/sub/parent", PS_H5_I32, 1, sd, (void **)&h->parent));
    if (ps_h5r_has(r, "kmeans/sub/sizes")) {
      PS_TRY(read_all(r, "kmeans/sub/sizes", PS_H5_I64, 1, sd, (void **)&h->sub_sizes));
      PS_TRY(read_all(r, "kmeans/sub/weight_sizes", PS_H5_F64, 1, sd, (void **)&h->sub_weights));
    }
  }
  int have_w = ps_h5r_has(r, "rows/weight");
  if (ps_h5r_has(r, "rows/key")) {
    int64_t kd[2];
    PS_TRY(read_strs(r, "key_feature", 1, kd, &h->key_names, &h->key_width));
    h->n_key = kd[0];
    PS_TRY(ps_h5r_shape(r, "rows/key", PS_H5_F64, 2, (int64_t[]){h->n_rows, h->n_key}, NULL, kd,
                        NULL));
  }
  h->sizes = calloc((size_t)h->k, sizeof *h->sizes);
  if (have_w) h->weight_sizes = calloc((size_t)h->k, sizeof *h->weight_sizes);
  PS_CHECK_ALL(comm, h->sizes && (!have_w || h->weight_sizes), PS_ERR_MEM, "out of memory");
  h->stride = h->n_rows > PS_HTML_MAX_POINTS
                  ? (h->n_rows + PS_HTML_MAX_POINTS - 1) / PS_HTML_MAX_POINTS
                  : 1;
  h->n_drawn = (h->n_rows + h->stride - 1) / h->stride;
  PS_TRY(read_rows(r, h, h->K, have_sub, have_w,
                   h->predictions && ps_h5r_has(r, "predict/model_label")));
cleanup:
  err = ps_h5r_close(&r, err);
  if (err != PS_OK) ps_html_free(h);
  return err;
}

void ps_html_free(ps_html_t *h) {
  void *p[] = {h->fnames,       h->evr,       h->components, h->centroids,     h->sizes,
               h->weight_sizes, h->index,     h->mean,       h->overall_mean,  h->example_names,
               h->codes,        h->parent,    h->sub_sizes,  h->sub_weights,   h->ids,
               h->names,        h->labels,    h->sub_labels, h->model_labels,  h->distance,
               h->pc,           h->weight,    h->sweep_k,    h->sweep_inertia, h->sweep_silhouette,
               h->transition,   h->key_names, h->key};
  for (size_t i = 0; i < sizeof p / sizeof p[0]; i++) free(p[i]);
  memset(h, 0, sizeof *h);
}
