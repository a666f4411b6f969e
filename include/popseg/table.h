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
  char input[4096];           /* the file actually read (a CSV, or an HDF5 table) */
  char input_digest[65];      /* its digest (sha256.h), hex ("" until ps_table_digest) */
  char source[4096];          /* the original source: the CSV an HDF5 table was imported from */
  char source_sha256[65];     /* hex sha256 of the source ("" if unknown) */
  int64_t n_read;             /* data rows in the source before dropping */
  int64_t n_dropped;          /* rows dropped for missing values */
  char dropped_examples[512]; /* first few dropped row names, comma separated */
  char note[256];             /* what the reader assumed ("" if nothing), for the user */
  /* An HDF5 table's features can be read again (ps_table_rows_open) after
   * they were released: reload is 1, and input_id is the file as it was
   * read (each rank's own ps_file_id; ps_table_read_h5 refuses a file that
   * changed while its rows were read), so that a file changed since is
   * refused, not read (nor digested: ps_table_digest). */
  int reload;
  int64_t input_id[6];
} ps_table_t;

/* Allocate a table with zeroed buffers. Not collective. */
ps_err_t ps_table_create(int64_t n_local, int64_t d, int64_t row_offset, int64_t n_global,
                         size_t name_width, size_t fname_width, ps_table_t **out);
void ps_table_destroy(ps_table_t **t);

/* Not collective. A file's identity as stat sees it (device, inode, size,
 * modification time in s and ns, status-change time in ns): what input_id
 * holds. 0, or -1 (errno set) when it cannot be stat'ed. */
int ps_file_id(const char *path, int64_t id[6]);

/* Collective. The input's digest (sha256.h: the SHA-256 of its 4 MiB blocks'
 * SHA-256s), each rank hashing an equal share of the blocks (a no-op when a
 * CSV reader computed it already). A file that changed while or since its
 * rows were read (its size, inode or times: input_id) is refused, naming it: the
 * digest would not be of the rows read. Call before anything uses
 * input_digest. */
ps_err_t ps_table_digest(ps_table_t *t, MPI_Comm comm);

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

/* Collective. The checks every loaded table passes, whatever its source (CSV,
 * HDF5, the new data of predict): at least one row and one feature; feature
 * names non-empty, distinct and valid UTF-8; row names valid UTF-8. The
 * message names the file (t->input), the feature or the row. */
ps_err_t ps_table_validate(const ps_table_t *t, MPI_Comm comm);

/* Not collective, the same on every rank (feature names are replicated).
 * Apply "OLD=NEW" specs to the feature names (see names.h). */
ps_err_t ps_table_rename(ps_table_t *t, const char *const *specs);

/* Collective. Fail with a message naming the feature and row if any value is
 * NaN or Inf. */
ps_err_t ps_table_check_finite(const ps_table_t *t, MPI_Comm comm);

/* What `popseg info` shows of a table: per-feature statistics and the first
 * rows (in global order). */
#define PS_SUMMARY_ROWS 5
#define PS_SUMMARY_COLS 6
typedef struct {
  int64_t n, d;
  double *min, *mean, *max;     /* [d] */
  int n_rows, n_cols;           /* rows and leading columns shown */
  int64_t ids[PS_SUMMARY_ROWS]; /* the first rows: ids, names, leading values */
  char *names;                  /* [PS_SUMMARY_ROWS][name_width] */
  size_t name_width;
  double values[PS_SUMMARY_ROWS][PS_SUMMARY_COLS];
} ps_table_summary_t;

/* Collective. Summarise t (every rank gets all of it). Free with
 * ps_table_summary_free. */
ps_err_t ps_table_summarize(const ps_table_t *t, MPI_Comm comm, ps_table_summary_t *s);
void ps_table_summary_free(ps_table_summary_t *s);

/* ----------------------------------------------------------- HDF5 layout
 * A table file (popseg import; the input of run and predict):
 *   /features       float64 [row][feature], contiguous (earlier files: chunked; both read)
 *   /feature_names  string [feature]
 *   /rows/id        int64 [row]
 *   /rows/name      string [row]
 *   /row, /feature  the dimension scales (coordinates: ids, feature names)
 *   root attributes popseg_file = "table", popseg_version, source,
 *                   source_sha256, dropped_examples (strings), n_read, n_dropped
 * The reader also takes other writers' tables: any numeric type for
 * /features, any integer type for /rows/id, fixed-length strings of any width
 * (a string filling its width comes back one byte wider); attributes and the
 * dimension scales are optional. Variable-length strings are refused.
 */
struct ps_h5w;
struct ps_h5r;

/* Not collective. Add the rows of t to a file description: the dimension
 * row (distributed: this rank's block; coordinates the ids), /rows/id and
 * /rows/name; with_features also the dimension feature (coordinates the
 * names) and /feature_names. */
void ps_table_describe_rows(struct ps_h5w *w, const ps_table_t *t, int with_features);
/* Collective. Write t as a table file (import). Temporary name + rename;
 * refuses to overwrite unless force. Row blocks must tile [0, n) in rank
 * order (any sizes, zero allowed). */
ps_err_t ps_table_write_h5(const char *path, int force, const ps_table_t *t, MPI_Comm comm);
/* Collective. Read a table file, each rank its ps_block_range block. A popseg
 * results or predictions file is named as such (it holds no /features). A
 * file whose ps_file_id differs after its rows were read from before it was
 * opened (on any rank) is refused, PS_ERR_IO naming it.
 * *out: free with ps_table_destroy. */
ps_err_t ps_table_read_h5(const char *path, MPI_Comm comm, ps_table_t **out);
/* A rank's features a window of rows at a time, for the stages after the
 * projection (the profile, the report's key figures). From x in memory; or,
 * when x's values were released (x->data NULL, or rows [0, x->n_released)
 * of them, x == t->x: the projection gives them back, pca.h), the released
 * rows read again from t's HDF5 table, which must be the file that was read
 * (t->input_id): a file changed since is refused with PS_ERR_IO naming it.
 * Windows end on global row-block boundaries (reduce.h), so blocked sums
 * over them are those over the whole slice. */
typedef struct ps_table_rows ps_table_rows_t;
/* Not collective. The rows of d columns a window from the file holds (the
 * projection's windows, less when POPSEG_IO_CHUNK_BYTES shrinks the pieces). */
int64_t ps_table_rows_window_rows(int64_t d);
/* Collective. *out: ps_table_rows_close. */
ps_err_t ps_table_rows_open(const ps_table_t *t, const ps_matrix_t *x, MPI_Comm comm,
                            ps_table_rows_t **out);
/* Not collective (the same on every rank). How many windows: 1 in memory;
 * from the file, the most any rank has (every rank takes each in turn). */
int64_t ps_table_rows_windows(const ps_table_rows_t *r);
/* Collective from the file (every rank the same w's, in the same order: a
 * second pass starts at 0 again). Window w: local rows [*i0, *i1) (empty
 * past a rank's rows) at *rows ([*i1 - *i0][d], valid until the next call). */
ps_err_t ps_table_rows_window(ps_table_rows_t *r, int64_t w, int64_t *i0, int64_t *i1,
                              const double **rows);
/* Collective from the file. Returns err, or the close's failure. */
ps_err_t ps_table_rows_close(ps_table_rows_t **r, ps_err_t err);
/* Collective. Columns cols[0..n) of every local row into out [n_local][n]
 * (through ps_table_rows). */
ps_err_t ps_table_columns(const ps_table_t *t, const ps_matrix_t *x, const int64_t *cols, int n,
                          double *out, MPI_Comm comm);

/* Collective. The shape of /features without reading it (the memory check). */
ps_err_t ps_table_probe_h5(const char *path, MPI_Comm comm, int64_t *n, int64_t *d);
/* Collective. The feature names of an open file ([d][*width], NUL-terminated,
 * malloc'ed; every rank reads all). */
ps_err_t ps_table_read_feature_names(struct ps_h5r *r, int64_t *d, char **names, size_t *width);

#endif
