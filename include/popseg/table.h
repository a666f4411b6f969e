/* table.h - a distributed table: feature matrix plus row ids and names.
 *
 * This is what every reader returns (CSV import, HDF5 read) and what the
 * pipeline carries. Strings are fixed-width, NUL-padded byte arrays so that
 * parallel HDF5 can read and write them; widths include room for a NUL.
 */
#ifndef POPSEG_TABLE_H
#define POPSEG_TABLE_H

#include <mpi.h>
#include <stddef.h>
#include <stdint.h>

#include "popseg/error.h"
#include "popseg/matrix.h"

typedef struct {
  ps_matrix_t *x;             /* [n_local][d] features */
  int64_t *ids;               /* [n_local] row ids */
  char *names;                /* [n_local][name_width] UTF-8, NUL-padded */
  size_t name_width;          /* bytes per name, >= 1 (same on all ranks) */
  char *feature_names;        /* [d][fname_width] UTF-8, NUL-padded (all ranks) */
  size_t fname_width;         /* bytes per feature name, >= 1 */
  char source[4096];          /* file the data came from */
  char source_sha256[65];     /* hex sha256 of that file ("" if unknown) */
  int64_t n_read;             /* data rows in the source before dropping */
  int64_t n_dropped;          /* rows dropped for missing values */
  char dropped_examples[512]; /* first few dropped row names, comma separated */
} ps_table_t;

/* Allocate a table with zeroed buffers. Not collective. */
ps_err_t ps_table_create(int64_t n_local, int64_t d, int64_t row_offset, int64_t n_global,
                         size_t name_width, size_t fname_width, ps_table_t **out);
void ps_table_destroy(ps_table_t **t);

/* Pointers to row i's name / feature j's name (not NUL-terminated if full width;
 * widths include a NUL so they always are). */
static inline const char *ps_table_name(const ps_table_t *t, int64_t i) {
  return t->names + (size_t)i * t->name_width;
}
static inline const char *ps_table_fname(const ps_table_t *t, int64_t j) {
  return t->feature_names + (size_t)j * t->fname_width;
}

/* Collective. Distribute a table held whole on root (NULL elsewhere) into
 * balanced row blocks; metadata (feature names, source, counts) is broadcast. */
ps_err_t ps_table_scatter(const ps_table_t *whole, int root, MPI_Comm comm, ps_table_t **out);

/* Collective. Fail with a message naming the feature and row if any value is
 * NaN or Inf. */
ps_err_t ps_table_check_finite(const ps_table_t *t, MPI_Comm comm);

#endif
