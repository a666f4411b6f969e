/* table.c - the distributed table container, scatter from one rank, checks. */
#include "popseg/table.h"
#include "popseg/mem.h"

#include "popseg/sha256.h"

#include "popseg/names.h"
#include "popseg/reduce.h"
#include "popseg/utf8.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

ps_err_t ps_table_create(int64_t n_local, int64_t d, int64_t row_offset, int64_t n_global,
                         size_t name_width, size_t fname_width, ps_table_t **out) {
  ps_err_t err = PS_OK;
  ps_table_t *t = NULL;
  *out = NULL;
  if (name_width < 1) name_width = 1;
  if (fname_width < 1) fname_width = 1;
  t = calloc(1, sizeof *t);
  PS_CHECK_ALLOC(t);
  PS_TRY(ps_matrix_create(n_local, d, row_offset, n_global, &t->x));
  t->ids = ps_rows_calloc((size_t)n_local, sizeof(int64_t));
  PS_CHECK_ALLOC(t->ids);
  t->names = ps_rows_calloc((size_t)n_local, name_width);
  PS_CHECK_ALLOC(t->names);
  t->feature_names = calloc((size_t)(d > 0 ? d : 1), fname_width);
  PS_CHECK_ALLOC(t->feature_names);
  t->name_width = name_width;
  t->fname_width = fname_width;
  *out = t;
  t = NULL;
cleanup:
  ps_table_destroy(&t);
  return err;
}

void ps_table_destroy(ps_table_t **t) {
  if (!t || !*t) return;
  ps_matrix_destroy(&(*t)->x);
  free((*t)->ids);
  free((*t)->names);
  free((*t)->feature_names);
  free(*t);
  *t = NULL;
}

/* Scatterv in rounds of rows so that no count or displacement exceeds INT_MAX:
 * in each round every rank receives at most `step` rows, and the root packs
 * the round's pieces (at most size * step rows) into one buffer. */
static ps_err_t scatter_rows(const void *send, void *recv, size_t row_bytes, int64_t n, int root,
                             MPI_Comm comm) {
  ps_err_t err = PS_OK;
  int rank, size;
  char *base = NULL;
  MPI_Comm_rank(comm, &rank);
  MPI_Comm_size(comm, &size);
  int *counts = calloc((size_t)size, sizeof(int)), *displs = calloc((size_t)size, sizeof(int));
  int64_t my_off, my_cnt;
  ps_block_range(n, size, rank, &my_off, &my_cnt);
  int64_t step = (int64_t)(INT32_MAX / 2) / (int64_t)(row_bytes > 0 ? row_bytes : 1) / size;
  if (step < 1) step = 1;
  int64_t max_cnt = n / size + (n % size ? 1 : 0);
  /* The root's staging buffer, sized once for the largest round. */
  if (rank == root) base = malloc((size_t)(step * size) * (row_bytes > 0 ? row_bytes : 1));
  PS_CHECK_ALL(comm, counts && displs && (rank != root || base), PS_ERR_MEM,
               "out of memory in scatter");
  for (int64_t done = 0; done < max_cnt; done += step) {
    if (rank == root) {
      int64_t pos = 0;
      for (int r = 0; r < size; r++) {
        int64_t o, c;
        ps_block_range(n, size, r, &o, &c);
        int64_t take = c - done < step ? c - done : step;
        if (take < 0) take = 0;
        counts[r] = (int)(take * (int64_t)row_bytes);
        displs[r] = (int)(pos * (int64_t)row_bytes);
        if (take > 0)
          memcpy(base + pos * (int64_t)row_bytes,
                 (const char *)send + (o + done) * (int64_t)row_bytes, (size_t)take * row_bytes);
        pos += take;
      }
    }
    int64_t mine = my_cnt - done < step ? my_cnt - done : step;
    if (mine < 0) mine = 0;
    /* Every rank makes the same number of calls: max_cnt and step are global. */
    PS_CALL_MPI(MPI_Scatterv(base, counts, displs, MPI_BYTE,
                             (char *)recv + done * (int64_t)row_bytes,
                             (int)(mine * (int64_t)row_bytes), MPI_BYTE, root, comm));
  }
cleanup:
  free(base);
  free(counts);
  free(displs);
  return err;
}

ps_err_t ps_table_scatter(const ps_table_t *whole, int root, MPI_Comm comm, ps_table_t **out) {
  ps_err_t err = PS_OK;
  ps_table_t *t = NULL;
  int rank, size;
  MPI_Comm_rank(comm, &rank);
  MPI_Comm_size(comm, &size);
  *out = NULL;
  int64_t meta[4] = {0, 0, 0, 0};
  if (rank == root) {
    meta[0] = whole->x->n_global;
    meta[1] = whole->x->n_cols;
    meta[2] = (int64_t)whole->name_width;
    meta[3] = (int64_t)whole->fname_width;
  }
  PS_CALL_MPI(MPI_Bcast(meta, 4, MPI_INT64_T, root, comm));
  int64_t off, cnt;
  ps_block_range(meta[0], size, rank, &off, &cnt);
  err = ps_table_create(cnt, meta[1], off, meta[0], (size_t)meta[2], (size_t)meta[3], &t);
  PS_AGREE(comm);
  if (rank == root) {
    memcpy(t->feature_names, whole->feature_names, (size_t)meta[1] * (size_t)meta[3]);
    memcpy(t->input, whole->input, sizeof t->input);
    memcpy(t->input_digest, whole->input_digest, sizeof t->input_digest);
    memcpy(t->source, whole->source, sizeof t->source);
    memcpy(t->source_sha256, whole->source_sha256, sizeof t->source_sha256);
    memcpy(t->dropped_examples, whole->dropped_examples, sizeof t->dropped_examples);
    t->n_read = whole->n_read;
    t->n_dropped = whole->n_dropped;
  }
  PS_CALL_MPI(MPI_Bcast(t->feature_names, (int)(meta[1] * meta[3]), MPI_CHAR, root, comm));
  PS_CALL_MPI(MPI_Bcast(t->input, (int)sizeof t->input, MPI_CHAR, root, comm));
  PS_CALL_MPI(MPI_Bcast(t->input_digest, (int)sizeof t->input_digest, MPI_CHAR, root, comm));
  PS_CALL_MPI(MPI_Bcast(t->source, (int)sizeof t->source, MPI_CHAR, root, comm));
  PS_CALL_MPI(MPI_Bcast(t->source_sha256, (int)sizeof t->source_sha256, MPI_CHAR, root, comm));
  PS_CALL_MPI(
      MPI_Bcast(t->dropped_examples, (int)sizeof t->dropped_examples, MPI_CHAR, root, comm));
  PS_CALL_MPI(MPI_Bcast(&t->n_read, 1, MPI_INT64_T, root, comm));
  PS_CALL_MPI(MPI_Bcast(&t->n_dropped, 1, MPI_INT64_T, root, comm));
  PS_TRY(scatter_rows(rank == root ? whole->x->data : NULL, t->x->data,
                      (size_t)meta[1] * sizeof(double), meta[0], root, comm));
  PS_TRY(
      scatter_rows(rank == root ? whole->ids : NULL, t->ids, sizeof(int64_t), meta[0], root, comm));
  PS_TRY(scatter_rows(rank == root ? whole->names : NULL, t->names, (size_t)meta[2], meta[0], root,
                      comm));
  *out = t;
  t = NULL;
cleanup:
  ps_table_destroy(&t);
  return ps_err_agree(comm, err);
}

/* Not collective: the replicated checks (shape, feature names). */
static ps_err_t validate_features(const ps_table_t *t) {
  ps_err_t err = PS_OK;
  const int64_t d = t->x->n_cols;
  const char **names = NULL;
  const char *dup = NULL;
  int64_t a = -1, b = -1;
  PS_CHECK(t->x->n_global > 0, PS_ERR_FORMAT, "%s: the table has no rows", t->input);
  PS_CHECK(d > 0, PS_ERR_FORMAT, "%s: the table has no features", t->input);
  names = malloc((size_t)d * sizeof *names);
  PS_CHECK_ALLOC(names);
  for (int64_t j = 0; j < d; j++) {
    const char *s = ps_table_fname(t, j);
    size_t len = strlen(s), bad = ps_utf8_invalid(s, len);
    names[j] = s;
    PS_CHECK(len > 0, PS_ERR_FORMAT, "%s: feature %lld has an empty name", t->input,
             (long long)j + 1);
    PS_CHECK(bad == len, PS_ERR_FORMAT,
             "%s: feature %lld: the name is not valid UTF-8 (byte 0x%02X at position %zu)",
             t->input, (long long)j + 1, (unsigned char)s[bad], bad + 1);
  }
  PS_TRY(ps_names_find_duplicate(names, d, &dup, &a, &b));
  PS_CHECK(dup == NULL, PS_ERR_FORMAT,
           "%s: feature '%s' appears twice (features %lld and %lld); names must be distinct",
           t->input, dup ? dup : "", (long long)a + 1, (long long)b + 1);
cleanup:
  free(names);
  return err;
}

ps_err_t ps_table_validate(const ps_table_t *t, MPI_Comm comm) {
  ps_err_t err = validate_features(t);
  PS_AGREE(comm);
  /* Names that are all ASCII need no decoding (most tables, and every
   * synthetic one): one pass over the block instead of a decoder per row. */
  if (ps_utf8_ascii(t->names, (size_t)t->x->n_local * t->name_width)) goto cleanup;
  for (int64_t i = 0; i < t->x->n_local; i++) {
    const char *s = ps_table_name(t, i);
    size_t len = strlen(s), bad = ps_utf8_invalid(s, len);
    PS_CHECK(bad == len, PS_ERR_FORMAT,
             "%s: row %lld (id %lld): the name is not valid UTF-8 (byte 0x%02X at position %zu)",
             t->input, (long long)(t->x->row_offset + i + 1), (long long)t->ids[i],
             (unsigned char)s[bad], bad + 1);
  }
cleanup:
  return ps_err_agree(comm, err);
}

ps_err_t ps_table_rename(ps_table_t *t, const char *const *specs) {
  ps_err_t err = PS_OK;
  const int64_t d = t->x->n_cols;
  const char **names = NULL, **out = NULL;
  char *buf = NULL;
  size_t width = t->fname_width;
  if (!specs || !specs[0]) return PS_OK;
  names = calloc((size_t)(d > 0 ? d : 1), sizeof *names);
  out = calloc((size_t)(d > 0 ? d : 1), sizeof *out);
  PS_CHECK(names && out, PS_ERR_MEM, "out of memory renaming features");
  for (int64_t j = 0; j < d; j++) names[j] = ps_table_fname(t, j);
  PS_TRY(ps_names_rename(names, d, specs, t->input, out));
  for (int64_t j = 0; j < d; j++)
    if (strlen(out[j]) + 1 > width) width = strlen(out[j]) + 1;
  buf = calloc((size_t)(d > 0 ? d : 1), width);
  PS_CHECK_ALLOC(buf);
  for (int64_t j = 0; j < d; j++) memcpy(buf + (size_t)j * width, out[j], strlen(out[j]));
  free(t->feature_names);
  t->feature_names = buf;
  t->fname_width = width;
  buf = NULL;
cleanup:
  free(names);
  free(out);
  free(buf);
  return err;
}

ps_err_t ps_table_check_finite(const ps_table_t *t, MPI_Comm comm) {
  ps_err_t err = PS_OK;
  const ps_matrix_t *x = t->x;
  /* Fast path: an exponent of all ones (Inf, NaN) anywhere? An integer OR
   * over the bits, which the compiler vectorizes; the slow loop below only
   * runs to name the first bad value. */
  const uint64_t *bits = (const uint64_t *)(const void *)x->data;
  const int64_t total = x->n_local * x->n_cols;
  const uint64_t expo = 0x7ff0000000000000ULL;
  uint64_t bad = 0;
  for (int64_t q = 0; q < total; q++) bad |= (uint64_t)((bits[q] & expo) == expo);
  for (int64_t i = 0; bad && i < x->n_local; i++) {
    for (int64_t j = 0; j < x->n_cols; j++) {
      double v = x->data[i * x->n_cols + j];
      PS_CHECK(isfinite(v), PS_ERR_NUMERIC,
               "%s: feature '%s' of row %lld ('%s') is %s; popseg needs finite values", t->input,
               ps_table_fname(t, j), (long long)(x->row_offset + i + 1), ps_table_name(t, i),
               isnan(v) ? "NaN" : "Inf");
    }
  }
cleanup:
  return ps_err_agree(comm, err);
}

void ps_table_summary_free(ps_table_summary_t *s) {
  free(s->min);
  free(s->mean);
  free(s->max);
  free(s->names);
  memset(s, 0, sizeof *s);
}

/* Not collective. Pack this rank's first rows: id, name, leading values. */
static void pack_rows(const ps_table_t *t, int show, int cols, char *rows, size_t rec) {
  for (int64_t i = 0; i < t->x->n_local && i < show; i++) {
    char *p = rows + (size_t)i * rec;
    memcpy(p, &t->ids[i], sizeof(int64_t));
    memcpy(p + sizeof(int64_t), ps_table_name(t, i), t->name_width);
    memcpy(p + sizeof(int64_t) + t->name_width, t->x->data + i * t->x->n_cols,
           (size_t)cols * sizeof(double));
  }
}

/* Not collective. The first rows in global order (ranks hold consecutive
 * blocks in rank order) from every rank's packs; counts: [size] rows held. */
static void unpack_rows(const ps_table_t *t, const char *all, const int64_t *counts, int size,
                        size_t rec, ps_table_summary_t *s) {
  int shown = 0;
  for (int r = 0; r < size && shown < s->n_rows; r++) {
    for (int64_t i = 0; i < counts[r] && i < PS_SUMMARY_ROWS && shown < s->n_rows; i++, shown++) {
      const char *p = all + ((size_t)r * PS_SUMMARY_ROWS + (size_t)i) * rec;
      memcpy(&s->ids[shown], p, sizeof(int64_t));
      memcpy(s->names + (size_t)shown * t->name_width, p + sizeof(int64_t), t->name_width);
      memcpy(s->values[shown], p + sizeof(int64_t) + t->name_width,
             (size_t)s->n_cols * sizeof(double));
    }
  }
}

ps_err_t ps_table_summarize(const ps_table_t *t, MPI_Comm comm, ps_table_summary_t *s) {
  ps_err_t err = PS_OK;
  const int64_t d = t->x->n_cols;
  char *rows = NULL, *all = NULL;
  int64_t *counts = NULL;
  int size;
  MPI_Comm_size(comm, &size);
  memset(s, 0, sizeof *s);
  s->n = t->x->n_global;
  s->d = d;
  s->n_cols = (int)(d < PS_SUMMARY_COLS ? d : PS_SUMMARY_COLS);
  s->n_rows = (int)(s->n < PS_SUMMARY_ROWS ? s->n : PS_SUMMARY_ROWS);
  s->name_width = t->name_width;
  size_t rec = sizeof(int64_t) + t->name_width + (size_t)s->n_cols * sizeof(double);
  s->min = malloc((size_t)(d > 0 ? d : 1) * sizeof(double));
  s->max = malloc((size_t)(d > 0 ? d : 1) * sizeof(double));
  s->mean = calloc((size_t)(d > 0 ? d : 1), sizeof(double));
  s->names = calloc(PS_SUMMARY_ROWS, t->name_width);
  rows = calloc(PS_SUMMARY_ROWS, rec);
  all = calloc((size_t)PS_SUMMARY_ROWS * (size_t)size, rec);
  counts = calloc((size_t)size, sizeof *counts);
  PS_CHECK_ALL(comm, s->min && s->max && s->mean && s->names && rows && all && counts, PS_ERR_MEM,
               "out of memory");
  for (int64_t j = 0; j < d; j++) {
    s->min[j] = INFINITY;
    s->max[j] = -INFINITY;
  }
  for (int64_t i = 0; i < t->x->n_local; i++)
    for (int64_t j = 0; j < d; j++) {
      double v = t->x->data[i * d + j];
      if (v < s->min[j]) s->min[j] = v;
      if (v > s->max[j]) s->max[j] = v;
    }
  pack_rows(t, PS_SUMMARY_ROWS, s->n_cols, rows, rec);
  PS_TRY(ps_reduce_min(s->min, d, comm));
  PS_TRY(ps_reduce_max(s->max, d, comm));
  {
    /* The sums exactly, by blocks (reduce.h): the same at any rank count. */
    ps_xsum_t *acc = calloc((size_t)(d > 0 ? d : 1), sizeof *acc);
    double *part = calloc((size_t)(d > 0 ? d : 1), sizeof *part);
    int32_t touched[1];
    err = acc && part ? PS_OK : ps_error(PS_ERR_MEM, __FILE__, __LINE__, "out of memory");
    err = ps_err_agree(comm, err);
    if (err == PS_OK) {
      ps_xsum_group_blocks(t->x->data, t->x->row_offset, t->x->n_local, d, NULL, 1, acc, part,
                           touched);
      err = ps_xsum_reduce(acc, d, NULL, 0, comm);
      if (err == PS_OK) ps_xsum_values(acc, d, s->mean);
    }
    free(part);
    free(acc);
    PS_TRY(err);
  }
  for (int64_t j = 0; j < d; j++) s->mean[j] = s->n ? s->mean[j] / (double)s->n : NAN;
  PS_CALL_MPI(MPI_Allgather(rows, (int)(PS_SUMMARY_ROWS * rec), MPI_BYTE, all,
                            (int)(PS_SUMMARY_ROWS * rec), MPI_BYTE, comm));
  PS_CALL_MPI(MPI_Allgather(&t->x->n_local, 1, MPI_INT64_T, counts, 1, MPI_INT64_T, comm));
  unpack_rows(t, all, counts, size, rec, s);
cleanup:
  free(counts);
  free(rows);
  free(all);
  err = ps_err_agree(comm, err);
  if (err != PS_OK) ps_table_summary_free(s);
  return err;
}
