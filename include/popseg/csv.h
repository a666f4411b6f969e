/* csv.h - RFC 4180 CSV reading (import) and writing (segments file).
 *
 * Reading: quoted fields with commas, doubled quotes and newlines; CRLF or
 * LF; UTF-8 with or without BOM; bytes are kept exactly. Import turns the
 * parsed file into a ps_table_t: an id column, label columns joined with "-"
 * into the row name, every other column a float64 feature in file order.
 */
#ifndef POPSEG_CSV_H
#define POPSEG_CSV_H

#include <mpi.h>
#include <stddef.h>
#include <stdint.h>

#include "popseg/error.h"
#include "popseg/table.h"

/* A parsed CSV held in memory: cells [n_rows][n_cols] point into one buffer. */
typedef struct {
  int64_t n_rows;     /* data rows (header excluded) */
  int64_t n_cols;
  char **header;      /* [n_cols] NUL-terminated */
  char **cells;       /* [n_rows][n_cols] NUL-terminated */
  int64_t *line_of_row; /* [n_rows] 1-based physical line where the row starts */
  char *buf;          /* storage */
  char path[4096];
} ps_csv_t;

/* Not collective. Parse a whole file. Errors name the file, line and column:
 * unterminated quote, ragged row, duplicate column name, empty file. */
ps_err_t ps_csv_read(const char *path, ps_csv_t **out);
/* Same, from memory (unit tests); name is used in messages. */
ps_err_t ps_csv_parse(const char *data, size_t len, const char *name, ps_csv_t **out);
void ps_csv_destroy(ps_csv_t **c);

typedef enum { PS_MISSING_DROP = 0, PS_MISSING_ERROR = 1 } ps_missing_t;

typedef struct {
  const char *id_column;     /* NULL: the first column if all its values are integers */
  const char *label_columns; /* NULL: every column not all numeric; else "A,B" */
  ps_missing_t missing;      /* default drop */
  const char *const *rename; /* optional NULL-terminated array of "OLD=NEW" */
} ps_import_opts_t;

/* Not collective. Build a whole (serial) table from a parsed CSV: row_offset 0,
 * n_local = n_global. Missing values (empty, NA, NaN) drop the row (counted,
 * first few names kept) or fail with --missing=error. A non-numeric value in a
 * numeric column fails naming the line and column. Computes the file's sha256. */
ps_err_t ps_csv_import(const char *path, const ps_import_opts_t *opts, ps_table_t **out);

/* Hex SHA-256 of a file (65 bytes with NUL). Not collective. */
ps_err_t ps_sha256_file(const char *path, char hex[65]);

/* Collective. Write the segments CSV (header: id,name,segment,distance,pc1..pcK)
 * with MPI-IO: each rank formats its rows, offsets come from an exclusive scan,
 * rows stay in global order. Written to a temporary name and renamed. */
ps_err_t ps_csv_write_segments(const char *path, int force, const ps_table_t *t,
                               const int32_t *labels, const double *distance,
                               const double *scores /* [n_local][k] */, int64_t k, MPI_Comm comm);

#endif
