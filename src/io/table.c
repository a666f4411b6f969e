/* table.c - the distributed table container, scatter from one rank, checks. */
#include "popseg/table.h"

#include <math.h>
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
  t->ids = calloc((size_t)(n_local > 0 ? n_local : 1), sizeof(int64_t));
  PS_CHECK_ALLOC(t->ids);
  t->names = calloc((size_t)(n_local > 0 ? n_local : 1), name_width);
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
  err = counts && displs && (rank != root || base)
            ? PS_OK
            : ps_error(PS_ERR_MEM, __FILE__, __LINE__, "out of memory in scatter");
  PS_AGREE(comm);
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
    memcpy(t->source, whole->source, sizeof t->source);
    memcpy(t->source_sha256, whole->source_sha256, sizeof t->source_sha256);
    memcpy(t->dropped_examples, whole->dropped_examples, sizeof t->dropped_examples);
    t->n_read = whole->n_read;
    t->n_dropped = whole->n_dropped;
  }
  PS_CALL_MPI(MPI_Bcast(t->feature_names, (int)(meta[1] * meta[3]), MPI_CHAR, root, comm));
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

ps_err_t ps_table_check_finite(const ps_table_t *t, MPI_Comm comm) {
  ps_err_t err = PS_OK;
  const ps_matrix_t *x = t->x;
  for (int64_t i = 0; i < x->n_local; i++) {
    for (int64_t j = 0; j < x->n_cols; j++) {
      double v = x->data[i * x->n_cols + j];
      PS_CHECK(isfinite(v), PS_ERR_NUMERIC,
               "%s: feature '%s' of row %lld ('%s') is %s; popseg needs finite values", t->source,
               ps_table_fname(t, j), (long long)(x->row_offset + i + 1), ps_table_name(t, i),
               isnan(v) ? "NaN" : "Inf");
    }
  }
cleanup:
  return ps_err_agree(comm, err);
}
