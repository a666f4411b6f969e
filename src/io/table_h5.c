/* table_h5.c - a table's HDF5 layout (see table.h): its rows and features as
 * dimensions, the table file of popseg import, and its reader. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "popseg/h5io.h"
#include "popseg/mem.h"
#include "popseg/reduce.h"
#include "popseg/sha256.h"
#include "popseg/table.h"
#include "popseg/version.h"

int ps_file_id(const char *path, int64_t id[6]) {
  struct stat st;
  if (stat(path, &st) != 0) return -1;
  id[0] = (int64_t)st.st_dev;
  id[1] = (int64_t)st.st_ino;
  id[2] = (int64_t)st.st_size;
  id[3] = (int64_t)st.st_mtim.tv_sec;
  id[4] = (int64_t)st.st_mtim.tv_nsec;
  id[5] = (int64_t)st.st_ctim.tv_sec * 1000000000 + (int64_t)st.st_ctim.tv_nsec;
  return 0;
}

/* What differs between two ps_file_id's of one file: "" if nothing. */
static const char *id_differs(const int64_t was[6], const int64_t id[6]) {
  return id[0] != was[0]                      ? "device"
         : id[1] != was[1]                    ? "inode (replaced)"
         : id[2] != was[2]                    ? "size"
         : id[3] != was[3] || id[4] != was[4] ? "modification time"
         : id[5] != was[5]                    ? "status-change time"
                                              : "";
}

/* What of t's file differs from when its rows were read (t->reload: each
 * rank's own view): "" if nothing, NULL (errno set) if it cannot be stat'ed. */
static const char *file_changed(const ps_table_t *t) {
  int64_t id[6];
  if (ps_file_id(t->input, id) != 0) return NULL;
  return id_differs(t->input_id, id);
}

void ps_table_describe_rows(ps_h5w_t *w, const ps_table_t *t, int with_features) {
  const ps_matrix_t *x = t->x;
  ps_h5w_dim(w, "row", x->n_global, PS_H5_I64, 0, t->ids,
             "the rows (counties): dimension scale, coordinates = row ids");
  ps_h5w_rows(w, "row", x->row_offset, x->n_local);
  ps_h5w_data(w, "rows/id", PS_H5_I64, 0, "row", t->ids,
              "row id: the input's id column (the county FIPS code for the census)");
  ps_h5w_data(w, "rows/name", PS_H5_STR, t->name_width, "row", t->names,
              "row name: the label columns joined with '-' (State-County)");
  if (!with_features) return;
  ps_h5w_dim(w, "feature", x->n_cols, PS_H5_STR, t->fname_width, t->feature_names,
             "the features: dimension scale, coordinates = feature names");
  ps_h5w_data(w, "feature_names", PS_H5_STR, t->fname_width, "feature", t->feature_names,
              "feature names, in column order");
}

ps_err_t ps_table_write_h5(const char *path, int force, const ps_table_t *t, MPI_Comm comm) {
  ps_err_t err = PS_OK;
  ps_h5w_t *w = NULL;
  err = ps_h5w_create(&w);
  PS_AGREE(comm);
  ps_table_describe_rows(w, t, 1);
  ps_h5w_data(w, "features", PS_H5_F64, 0, "row,feature", t->x->data,
              "feature values, original units [row][feature]");
  ps_h5w_attr_str(w, "", "popseg_file", "table");
  ps_h5w_attr_str(w, "", "popseg_version", POPSEG_VERSION);
  ps_h5w_attr_str(w, "", "source", t->source);
  ps_h5w_attr_str(w, "", "source_sha256", t->source_sha256);
  ps_h5w_attr_i64(w, "", "n_read", t->n_read);
  ps_h5w_attr_i64(w, "", "n_dropped", t->n_dropped);
  ps_h5w_attr_str(w, "", "dropped_examples", t->dropped_examples);
  err = ps_h5w_write(w, path, force, comm);
cleanup:
  ps_h5w_destroy(&w);
  return err;
}

/* Collective. A file without /features: say what it is instead. */
static ps_err_t not_a_table(ps_h5r_t *r) {
  char kind[64] = "";
  int found = 0;
  ps_err_t err = ps_h5r_attr_str(r, "", "popseg_file", 0, kind, sizeof kind, &found);
  if (err != PS_OK) return err;
  if (!found && ps_h5r_has(r, "kmeans")) snprintf(kind, sizeof kind, "results");
  if (!strcmp(kind, "results"))
    err = ps_error(PS_ERR_FORMAT, __FILE__, __LINE__,
                   "%s: is a popseg results file, not a table: it is the model for 'popseg "
                   "predict MODEL.h5 NEW'; run and info take a table (a CSV, or popseg import's "
                   "output)",
                   ps_h5r_path(r));
  else if (!strcmp(kind, "predictions"))
    err = ps_error(PS_ERR_FORMAT, __FILE__, __LINE__,
                   "%s: is a popseg predictions file, not a table; run and info take a table (a "
                   "CSV, or popseg import's output)",
                   ps_h5r_path(r));
  else
    err = ps_error(PS_ERR_FORMAT, __FILE__, __LINE__, "%s: /features: dataset not found",
                   ps_h5r_path(r));
  return ps_err_agree(ps_h5r_comm(r), err);
}

/* Collective. The datasets' shapes: n rows, d features, whether /rows/id
 * and /rows/name are there (other writers' tables may lack them). */
static ps_err_t table_shape(ps_h5r_t *r, int64_t *n, int64_t *d, int *has_ids, int *has_names) {
  ps_err_t err = PS_OK;
  int64_t dims[2];
  size_t w = 0;
  static const char *const feat_sym[2] = {"rows", "features"};
  static const char *const row_sym[1] = {"rows"};
  static const char *const fn_sym[1] = {"features"};
  if (!ps_h5r_has(r, "features")) return not_a_table(r);
  PS_TRY(ps_h5r_shape(r, "features", PS_H5_NUM, 2, NULL, feat_sym, dims, NULL));
  *n = dims[0];
  *d = dims[1];
  *has_ids = ps_h5r_has(r, "rows/id");
  *has_names = ps_h5r_has(r, "rows/name");
  if (*has_ids) {
    PS_TRY(ps_h5r_shape(r, "rows/id", PS_H5_I64, 1, NULL, row_sym, dims, NULL));
    PS_CHECK(dims[0] == *n, PS_ERR_FORMAT,
             "%s: /rows/id: has %lld entries but /features has %lld rows", ps_h5r_path(r),
             (long long)dims[0], (long long)*n);
  }
  if (*has_names) {
    PS_TRY(ps_h5r_shape(r, "rows/name", PS_H5_STR, 1, NULL, row_sym, dims, &w));
    PS_CHECK(dims[0] == *n, PS_ERR_FORMAT,
             "%s: /rows/name: has %lld entries but /features has %lld rows", ps_h5r_path(r),
             (long long)dims[0], (long long)*n);
  }
  PS_TRY(ps_h5r_shape(r, "feature_names", PS_H5_STR, 1, NULL, fn_sym, dims, NULL));
  PS_CHECK(dims[0] == *d, PS_ERR_FORMAT,
           "%s: /feature_names: has %lld entries but /features has %lld columns", ps_h5r_path(r),
           (long long)dims[0], (long long)*d);
cleanup:
  return err;
}

ps_err_t ps_table_probe_h5(const char *path, MPI_Comm comm, int64_t *n, int64_t *d) {
  ps_err_t err = PS_OK;
  ps_h5r_t *r = NULL;
  int has_ids = 0, has_names = 0;
  *n = *d = 0;
  PS_TRY(ps_h5r_open(path, comm, &r));
  err = table_shape(r, n, d, &has_ids, &has_names);
cleanup:
  return ps_h5r_close(&r, err);
}

ps_err_t ps_table_read_feature_names(ps_h5r_t *r, int64_t *d, char **names, size_t *width) {
  ps_err_t err = PS_OK;
  int64_t dims[1];
  static const char *const fn_sym[1] = {"features"};
  *names = NULL;
  PS_TRY(ps_h5r_shape(r, "feature_names", PS_H5_STR, 1, NULL, fn_sym, dims, NULL));
  *d = dims[0];
  PS_TRY(ps_h5r_read_strings(r, "feature_names", 0, dims[0], 0, names, width));
cleanup:
  return err;
}

/* Collective. The root attributes that describe where the rows came from. */
static ps_err_t read_attrs(ps_h5r_t *r, ps_table_t *t) {
  ps_err_t err = PS_OK;
  int found = 0;
  PS_TRY(ps_h5r_attr_str(r, "", "source", 0, t->source, sizeof t->source, &found));
  if (!found) snprintf(t->source, sizeof t->source, "%s", ps_h5r_path(r));
  PS_TRY(
      ps_h5r_attr_str(r, "", "source_sha256", 0, t->source_sha256, sizeof t->source_sha256, NULL));
  PS_TRY(ps_h5r_attr_str(r, "", "dropped_examples", 0, t->dropped_examples,
                         sizeof t->dropped_examples, NULL));
  t->n_read = t->x->n_global;
  t->n_dropped = 0;
  PS_TRY(ps_h5r_attr_i64(r, "", "n_read", 0, &t->n_read, NULL));
  PS_TRY(ps_h5r_attr_i64(r, "", "n_dropped", 0, &t->n_dropped, NULL));
cleanup:
  return err;
}

/* Not collective. Rows without /rows/id or /rows/name in the file: ids are
 * the global row numbers, names the ids as text; the note says so. */
static ps_err_t default_rows(ps_table_t *t, int has_ids, int has_names, const char *path) {
  ps_err_t err = PS_OK;
  if (!has_ids)
    for (int64_t i = 0; i < t->x->n_local; i++) t->ids[i] = t->x->row_offset + i;
  if (!has_names) {
    free(t->names);
    t->name_width = 21; /* an int64 as text, with its NUL */
    t->names = ps_rows_calloc((size_t)t->x->n_local, t->name_width);
    PS_CHECK_ALLOC(t->names);
    for (int64_t i = 0; i < t->x->n_local; i++)
      snprintf(t->names + (size_t)i * t->name_width, t->name_width, "%lld", (long long)t->ids[i]);
  }
  if (!has_ids || !has_names)
    snprintf(t->note, sizeof t->note, "%s has no %s: %s", path,
             !has_ids && !has_names ? "/rows"
             : !has_ids             ? "/rows/id"
                                    : "/rows/name",
             !has_ids ? "rows are numbered 0..n-1" : "rows are named by their ids");
cleanup:
  return err;
}

ps_err_t ps_table_read_h5(const char *path, MPI_Comm comm, ps_table_t **out) {
  ps_err_t err = PS_OK;
  ps_h5r_t *r = NULL;
  ps_table_t *t = NULL;
  char *names = NULL, *fnames = NULL;
  int rank, size, has_ids = 0, has_names = 0;
  int64_t n = 0, d = 0, off = 0, cnt = 0, id0[6] = {0}, id1[6] = {0};
  int have_id0 = 0;
  size_t name_w = 0, fname_w = 0;
  MPI_Comm_rank(comm, &rank);
  MPI_Comm_size(comm, &size);
  *out = NULL;
  /* The file before it is opened (see below, after the read). */
  have_id0 = ps_file_id(path, id0) == 0;
  const int id0_errno = errno;
  PS_TRY(ps_h5r_open(path, comm, &r));
  PS_TRY(table_shape(r, &n, &d, &has_ids, &has_names));
  ps_block_range(n, size, rank, &off, &cnt);
  err = ps_table_create(cnt, d, off, n, 1, 1, &t);
  PS_AGREE(comm);
  PS_TRY(read_attrs(r, t));
  PS_TRY(ps_h5r_read(r, "features", PS_H5_F64, 0, off, cnt, t->x->data));
  if (has_ids) PS_TRY(ps_h5r_read(r, "rows/id", PS_H5_I64, 0, off, cnt, t->ids));
  if (has_names) {
    PS_TRY(ps_h5r_read_strings(r, "rows/name", off, cnt, 1, &names, &name_w));
    free(t->names);
    t->names = names;
    t->name_width = name_w;
    names = NULL;
  }
  PS_TRY(ps_table_read_feature_names(r, &d, &fnames, &fname_w));
  free(t->feature_names);
  t->feature_names = fnames;
  t->fname_width = fname_w;
  fnames = NULL;
  err = default_rows(t, has_ids, has_names, path);
  PS_AGREE(comm);
  /* The rows (features, ids, names) must come from one version of the
   * file: one replaced or written to while they were read may have given a
   * mix of versions, and its digest (taken later) would not be that of the
   * rows read. So the file as it was before it was opened and as it is now
   * must agree, or it is refused here, before any stage runs. The id is
   * also what ps_table_rows_open and ps_table_digest compare it with later. */
  if (!have_id0 || ps_file_id(path, id1) != 0)
    err = ps_error(PS_ERR_IO, __FILE__, __LINE__, "%s: cannot stat it: %s", path,
                   strerror(have_id0 ? errno : id0_errno));
  else if (id_differs(id0, id1)[0])
    err = ps_error(PS_ERR_IO, __FILE__, __LINE__,
                   "%s: changed while its rows were read (its %s differs from when it was "
                   "opened): the rows may mix two versions of it; run on a file nothing writes to",
                   path, id_differs(id0, id1));
  PS_AGREE(comm);
  memcpy(t->input_id, id0, sizeof id0);
  t->reload = 1;
  snprintf(t->input, sizeof t->input, "%s", path);
cleanup:
  free(names);
  free(fnames);
  err = ps_h5r_close(&r, err);
  if (err == PS_OK) {
    *out = t;
    t = NULL;
  }
  ps_table_destroy(&t);
  return err;
}

/* ----------------------------------------------- the features read again */

struct ps_table_rows {
  const ps_matrix_t *x;
  ps_h5r_t *r;       /* from the file, or NULL: x->data */
  double *buf;       /* [win][d] */
  int64_t win;       /* rows per window (reduce.h: ps_row_window) */
  int64_t n_windows; /* agreed */
};

int64_t ps_table_rows_window_rows(int64_t d) {
  const int64_t bytes = ps_h5_io_chunk_bytes();
  return ps_row_window_rows(bytes < PS_ROW_WINDOW_BYTES ? bytes : PS_ROW_WINDOW_BYTES, d);
}

ps_err_t ps_table_rows_open(const ps_table_t *t, const ps_matrix_t *x, MPI_Comm comm,
                            ps_table_rows_t **out) {
  ps_err_t err = PS_OK;
  ps_table_rows_t *r = calloc(1, sizeof *r);
  int64_t released = x->data == NULL || x->n_released > 0;
  int64_t want[2] = {x->n_global, x->n_cols}, dims[2];
  *out = NULL;
  if (!r)
    err = ps_error(PS_ERR_MEM, __FILE__, __LINE__, "out of memory");
  else {
    r->x = x;
    r->n_windows = 1;
  }
  err = ps_err_agree(comm, err);
  if (err == PS_OK) err = ps_err_agree(comm, ps_reduce_max_i64(&released, 1, comm));
  if (err != PS_OK) {
    free(r);
    return err;
  }
  if (!released) {
    *out = r;
    return PS_OK;
  }
  /* From the file: the one that was read, unchanged (each rank its own view
   * of it: on a shared file system every node must see the same file). */
  if (x != t->x || !t->reload) {
    err = ps_error(PS_ERR_INTERNAL, __FILE__, __LINE__,
                   "%s: the features were released and cannot be read again",
                   t->input[0] ? t->input : "a table built in memory");
  } else {
    const char *what = file_changed(t);
    if (!what)
      err = ps_error(PS_ERR_IO, __FILE__, __LINE__, "%s: cannot read its features again: %s",
                     t->input, strerror(errno));
    else if (what[0])
      err = ps_error(PS_ERR_IO, __FILE__, __LINE__,
                     "%s: changed while popseg ran (its %s differs from when it was read): the "
                     "features are read again after k-means and must be the same; run on a "
                     "file nothing writes to",
                     t->input, what);
  }
  err = ps_err_agree(comm, err);
  if (err != PS_OK) {
    free(r);
    return err;
  }
  err = ps_h5r_open(t->input, comm, &r->r);
  if (err == PS_OK) err = ps_h5r_shape(r->r, "features", PS_H5_NUM, 2, want, NULL, dims, NULL);
  if (err == PS_OK) {
    r->win = ps_table_rows_window_rows(x->n_cols);
    r->n_windows = ps_row_window_count(x->row_offset, x->n_local, r->win);
    r->buf = ps_rows_malloc((size_t)((r->win < x->n_local ? r->win : x->n_local) * x->n_cols),
                            sizeof *r->buf);
    if (!r->buf)
      err = ps_error(PS_ERR_MEM, __FILE__, __LINE__, "out of memory for a window of features");
    err = ps_err_agree(comm, err);
  }
  if (err == PS_OK) err = ps_err_agree(comm, ps_reduce_max_i64(&r->n_windows, 1, comm));
  if (err != PS_OK) return ps_table_rows_close(&r, err);
  *out = r;
  return PS_OK;
}

int64_t ps_table_rows_windows(const ps_table_rows_t *r) {
  return r->n_windows;
}

ps_err_t ps_table_rows_window(ps_table_rows_t *r, int64_t w, int64_t *i0, int64_t *i1,
                              const double **rows) {
  if (!r->r) {
    *i0 = 0;
    *i1 = r->x->n_local;
    *rows = r->x->data;
    return PS_OK;
  }
  ps_row_window(r->x->row_offset, r->x->n_local, r->win, w, i0, i1);
  const int64_t d = r->x->n_cols, first_kept = r->x->data ? r->x->n_released : r->x->n_local;
  if (*i1 > *i0 && *i0 >= first_kept) {
    /* In the tail the projection kept: from memory, and the collective read
     * still takes part, with no rows. */
    *rows = r->x->data + *i0 * d;
    return ps_h5r_read(r->r, "features", PS_H5_F64, 0, r->x->row_offset + *i1, 0, r->buf);
  }
  /* The released rows from the file (one collective read a window); a window
   * that runs into the tail gets the rest from memory. */
  const int64_t from_file = (*i1 < first_kept ? *i1 : first_kept) - *i0;
  *rows = r->buf;
  ps_err_t err = ps_h5r_read(r->r, "features", PS_H5_F64, 0, r->x->row_offset + *i0,
                             from_file > 0 ? from_file : 0, r->buf);
  if (err == PS_OK && from_file > 0 && *i1 > first_kept)
    memcpy(r->buf + from_file * d, r->x->data + first_kept * d,
           (size_t)((*i1 - first_kept) * d) * sizeof *r->buf);
  return err;
}

ps_err_t ps_table_rows_close(ps_table_rows_t **r, ps_err_t err) {
  if (!r || !*r) return err;
  if ((*r)->r) err = ps_h5r_close(&(*r)->r, err);
  free((*r)->buf);
  free(*r);
  *r = NULL;
  return err;
}

ps_err_t ps_table_columns(const ps_table_t *t, const ps_matrix_t *x, const int64_t *cols, int n,
                          double *out, MPI_Comm comm) {
  ps_err_t err = PS_OK;
  ps_table_rows_t *rows = NULL;
  const int64_t d = x->n_cols;
  PS_TRY(ps_table_rows_open(t, x, comm, &rows));
  for (int64_t w = 0; w < ps_table_rows_windows(rows); w++) {
    int64_t i0, i1;
    const double *v;
    PS_TRY(ps_table_rows_window(rows, w, &i0, &i1, &v));
    for (int64_t i = i0; i < i1; i++)
      for (int q = 0; q < n; q++) out[i * n + q] = v[(i - i0) * d + cols[q]];
  }
cleanup:
  return ps_table_rows_close(&rows, err);
}

/* Not collective. PS_OK if t's file is the one its rows were read from, or
 * an error naming it. */
static ps_err_t unchanged_for_digest(const ps_table_t *t) {
  const char *what = t->reload ? file_changed(t) : "";
  if (!t->reload)
    return ps_error(PS_ERR_IO, __FILE__, __LINE__,
                    "%s: not known as it was when its rows were read: the results could record "
                    "the digest of other bytes than the rows read",
                    t->input);
  if (!what)
    return ps_error(PS_ERR_IO, __FILE__, __LINE__, "%s: cannot read it for its digest: %s",
                    t->input, strerror(errno));
  if (what[0])
    return ps_error(PS_ERR_IO, __FILE__, __LINE__,
                    "%s: changed while popseg ran (its %s differs from when it was read): the "
                    "results would record the digest of other bytes than the rows read; run on "
                    "a file nothing writes to",
                    t->input, what);
  return PS_OK;
}

ps_err_t ps_table_digest(ps_table_t *t, MPI_Comm comm) {
  ps_err_t err = PS_OK;
  int rank, size, have = t->input_digest[0] != '\0' || t->input[0] == '\0', all = 0;
  int *counts = NULL, *displs = NULL;
  char *lines = NULL, *every = NULL;
  int64_t fsize = -1;
  MPI_Comm_rank(comm, &rank);
  MPI_Comm_size(comm, &size);
  /* A CSV's digest came with its read; a table built in memory has none. */
  PS_CALL_MPI(MPI_Allreduce(&have, &all, 1, MPI_INT, MPI_MIN, comm));
  if (all) return PS_OK;
  /* The file as its rows were read (input_id, each rank's view; the
   * reader refused one that changed while it read), or refused. A table
   * with no such id (reload 0; every table read from an HDF5 file has one)
   * is refused too. Its size is the one the rows were read at. */
  err = unchanged_for_digest(t);
  fsize = t->input_id[2];
  PS_AGREE(comm);
  PS_CALL_MPI(MPI_Bcast(&fsize, 1, MPI_INT64_T, 0, comm));
  /* Equal shares of the blocks, in rank order; rank 0 hashes the lines. */
  const int64_t nb = (fsize + PS_DIGEST_BLOCK - 1) / PS_DIGEST_BLOCK;
  PS_CHECK_ALL(comm, nb <= INT_MAX / PS_DIGEST_LINE, PS_ERR_IO,
               "%s: %lld blocks of 4 MiB, more than the digest's list of lines holds (%d)",
               t->input, (long long)nb, INT_MAX / PS_DIGEST_LINE);
  const int64_t b0 = nb * rank / size, b1 = nb * (rank + 1) / size;
  lines = malloc((size_t)((b1 - b0) * PS_DIGEST_LINE + 1));
  if (rank == 0) {
    every = malloc((size_t)(nb * PS_DIGEST_LINE + 1));
    counts = malloc((size_t)size * sizeof *counts);
    displs = malloc((size_t)size * sizeof *displs);
  }
  PS_CHECK_ALL(comm, lines && (rank != 0 || (every && counts && displs)), PS_ERR_MEM,
               "out of memory for the digest of %s", t->input);
  err = ps_sha256_blocks(t->input, fsize, b0, b1, lines);
  /* And still so once hashed (a rewrite in place during the hashing). */
  if (err == PS_OK) err = unchanged_for_digest(t);
  PS_AGREE(comm);
  for (int q = 0; rank == 0 && q < size; q++) {
    displs[q] = (int)(nb * q / size * PS_DIGEST_LINE);
    counts[q] = (int)((nb * (q + 1) / size - nb * q / size) * PS_DIGEST_LINE);
  }
  PS_CALL_MPI(MPI_Gatherv(lines, (int)((b1 - b0) * PS_DIGEST_LINE), MPI_CHAR, every, counts, displs,
                          MPI_CHAR, 0, comm));
  if (rank == 0) ps_sha256_hex(every, (size_t)(nb * PS_DIGEST_LINE), t->input_digest);
  PS_CALL_MPI(MPI_Bcast(t->input_digest, (int)sizeof t->input_digest, MPI_CHAR, 0, comm));
cleanup:
  free(lines);
  free(every);
  free(counts);
  free(displs);
  return err;
}
