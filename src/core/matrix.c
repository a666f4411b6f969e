/* matrix.c - row-block distribution and the matrix container. */
#include "popseg/matrix.h"
#include "popseg/mem.h"

#include "popseg/reduce.h"

#include <stdlib.h>

void ps_block_range(int64_t n, int size, int rank, int64_t *offset, int64_t *count) {
  const int64_t nb = (n + PS_ROW_BLOCK - 1) / PS_ROW_BLOCK, base = nb / size, extra = nb % size;
  const int64_t b0 = (int64_t)rank * base + (rank < extra ? rank : extra);
  const int64_t b1 = b0 + base + (rank < extra ? 1 : 0);
  const int64_t r0 = b0 * PS_ROW_BLOCK, r1 = b1 * PS_ROW_BLOCK < n ? b1 * PS_ROW_BLOCK : n;
  *offset = r0 < n ? r0 : n;
  *count = r1 > *offset ? r1 - *offset : 0;
}

ps_err_t ps_matrix_create(int64_t n_local, int64_t n_cols, int64_t row_offset, int64_t n_global,
                          ps_matrix_t **out) {
  ps_err_t err = PS_OK;
  ps_matrix_t *m = NULL;
  *out = NULL;
  PS_CHECK(n_local >= 0 && n_cols >= 0, PS_ERR_INTERNAL, "negative matrix shape");
  m = calloc(1, sizeof *m);
  PS_CHECK_ALLOC(m);
  m->n_local = n_local;
  m->n_cols = n_cols;
  m->row_offset = row_offset;
  m->n_global = n_global;
  /* calloc of at least one element so that an empty block is still a valid pointer */
  m->data = ps_rows_calloc((size_t)(n_local * n_cols), sizeof(double));
  PS_CHECK(m->data != NULL, PS_ERR_MEM, "out of memory for a %lld x %lld matrix block",
           (long long)n_local, (long long)n_cols);
  *out = m;
  m = NULL;
cleanup:
  ps_matrix_destroy(&m);
  return err;
}

void ps_matrix_release(ps_matrix_t *m) {
  if (!m) return;
  free(m->data);
  m->data = NULL;
  m->n_released = m->n_local;
}

void ps_matrix_destroy(ps_matrix_t **m) {
  if (!m || !*m) return;
  ps_matrix_release(*m);
  free(*m);
  *m = NULL;
}
