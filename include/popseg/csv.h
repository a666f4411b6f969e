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
#include "popseg/opt.h"
#include "popseg/table.h"

/* A parsed CSV held in memory: cells [n_rows][n_cols] point into one buffer. */
typedef struct {
  int64_t n_rows; /* data rows (header excluded) */
  int64_t n_cols;
  char **header;        /* [n_cols] NUL-terminated */
  char **cells;         /* [n_rows][n_cols] NUL-terminated */
  int64_t *line_of_row; /* [n_rows] 1-based physical line where the row starts */
  char *buf;            /* storage */
  char path[4096];
  char sha256[65]; /* ps_csv_read: hex SHA-256 of the bytes parsed, and */
  char digest[65]; /* their digest (sha256.h); "" from ps_csv_parse */
} ps_csv_t;

/* Not collective. Parse a whole file. Errors name the file, line and column:
 * unterminated quote, ragged row, duplicate column name, empty file, a file
 * with a header but no data rows. Fully blank lines at the end are skipped; a
 * blank line elsewhere is a record with one empty field. A UTF-8 BOM is
 * removed from the first header name; every other byte is kept, including CR
 * and LF inside quoted fields. A NUL byte anywhere is an error (cells are C
 * strings, and NULs mean a binary or UTF-16 file). A bare CR outside quotes
 * (classic Mac line ends) is an error. Memory: the file once plus one pointer
 * per cell. The file is read once: its sha256 and digest are those of the
 * bytes parsed. Free with ps_csv_destroy. */
ps_err_t ps_csv_read(const char *path, ps_csv_t **out);
/* Same, from memory (unit tests); name is used in messages. */
ps_err_t ps_csv_parse(const char *data, size_t len, const char *name, ps_csv_t **out);
void ps_csv_destroy(ps_csv_t **c);

/* Not collective. A finite decimal number, surrounding blanks allowed:
 * returns 1 and *v, else 0 ("inf", "nan(...)", hex floats and numbers that
 * overflow a double are not data values). s must be NUL-terminated. */
int ps_csv_parse_number(const char *s, double *v);

typedef enum { PS_MISSING_DROP = 0, PS_MISSING_ERROR = 1 } ps_missing_t;

#define PS_MAX_RENAMES 64

typedef struct {
  /* NULL: the first column (if there are at least two) when all its non-missing
   * values are distinct integers; otherwise, or with "", no id column and the
   * ids are the 0-based data row numbers in the file. A named id column must
   * hold distinct integers. */
  const char *id_column;
  /* NULL: every other column whose non-missing values are not all numeric (a
   * column that is mostly numbers with a few non-numbers such as "inf" is an
   * error, not a label); "" for none; else "A,B" (may include the id column). */
  const char *label_columns;
  int missing; /* ps_missing_t, default drop */
  /* "OLD=NEW" specs, NULL-terminated */
  const char *rename[PS_MAX_RENAMES + 1];
} ps_import_opts_t;

/* The import options (--id-column, --label-columns, --missing, --rename). */
extern const ps_opt_t ps_import_options[];
/* Zero the struct, then the table's defaults. */
void ps_import_opts_default(ps_import_opts_t *o);

/* Not collective. Build a whole (serial) table from a parsed CSV: row_offset 0,
 * n_local = n_global. opts may be NULL (all defaults). Renames apply first.
 * Row name: the label values joined with "-", or the id as text. Every column
 * that is neither id nor label is a float64 feature, in file order. Missing
 * values (empty, NA, NaN in any case, in any column) drop the row (n_read,
 * n_dropped and the first 5 dropped names ", "-separated are recorded) or fail
 * with --missing=error. A non-numeric value ("inf", hex and overflowing
 * numbers included) in a feature column fails naming the line and column.
 * Fails on zero feature columns and on every row dropped. Records the path
 * and the file's sha256. The caller frees *out with ps_table_destroy. */
ps_err_t ps_csv_import(const char *path, const ps_import_opts_t *opts, ps_table_t **out);

#endif
