/* matrix.h - the distributed dense matrix and row-block distribution.
 *
 * A ps_matrix_t holds this rank's contiguous block of rows of an
 * n_global x n_cols matrix, row-major: data is [n_local][n_cols], and the
 * block starts at global row row_offset. Ranks may hold zero rows.
 */
#ifndef POPSEG_MATRIX_H
#define POPSEG_MATRIX_H

#include <mpi.h>
#include <stdint.h>

#include "popseg/error.h"

typedef struct {
  int64_t n_local;    /* rows on this rank */
  int64_t n_cols;     /* columns (same on all ranks) */
  int64_t row_offset; /* global index of the first local row */
  int64_t n_global;   /* rows over all ranks */
  double *data;       /* [n_local][n_cols], owned; NULL once released */
  int64_t n_released; /* rows [0, n_released) given back by the releasing
                         projection (pca.h): their values are gone, the rest
                         are kept; every row when data is NULL */
} ps_matrix_t;

/* The row distribution: rank gets rows [*offset, *offset + *count), in whole
 * blocks of PS_ROW_BLOCK rows (reduce.h) so that no block of the
 * reproducible sums is split between ranks; the block counts differ by at
 * most one (earlier ranks get the extra blocks; the last, short block is the
 * last rank's with rows). Ranks beyond the blocks get none. Not collective. */
void ps_block_range(int64_t n, int size, int rank, int64_t *offset, int64_t *count);

/* Allocate a zeroed matrix. Not collective. Free with ps_matrix_destroy. */
ps_err_t ps_matrix_create(int64_t n_local, int64_t n_cols, int64_t row_offset, int64_t n_global,
                          ps_matrix_t **out);
/* Free *m and set it to NULL; accepts NULL. */
void ps_matrix_destroy(ps_matrix_t **m);
/* Free m's values (data becomes NULL, n_released n_local) and keep its
 * shape, for the stages that only report it. Accepts NULL. Not collective. */
void ps_matrix_release(ps_matrix_t *m);

#endif
