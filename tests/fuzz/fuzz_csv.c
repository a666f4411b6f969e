/* fuzz_csv.c - libFuzzer target: the RFC 4180 parser, ps_csv_parse.
 *
 * The input is the file's bytes. Besides the sanitizers, each input checks
 * the parser's contract (csv.h):
 *   - a failure returns no table and records a one-line message;
 *   - a success has at least one column and one data row, distinct header
 *     names, a cell for every row and column, rows on increasing lines;
 *   - writing the parsed cells back out as CSV (every field quoted with LF
 *     line ends, or quoted only where needed with CRLF, chosen by the
 *     input's length) and parsing that gives the same header and cells.
 * A broken promise aborts, so libFuzzer reports it like a crash.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_util.h"
#include "popseg/csv.h"
#include "popseg/error.h"

static void broken(const char *what, const char *detail) {
  fuzz_fail("fuzz_csv", what, detail);
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc;
  (void)argv;
  fuzz_report_init();
  return 0;
}

/* A growing byte buffer (aborts when memory runs out: not a finding). */
typedef struct {
  char *p;
  size_t n, cap;
} buf_t;

static void put(buf_t *b, const char *s, size_t n) {
  if (b->n + n + 1 > b->cap) {
    size_t nc = b->cap ? b->cap : 256;
    while (nc < b->n + n + 1) nc *= 2;
    char *np = realloc(b->p, nc);
    if (!np) abort();
    b->p = np;
    b->cap = nc;
  }
  memcpy(b->p + b->n, s, n);
  b->n += n;
}

/* Whether a field must be quoted to read back as itself. */
static int needs_quotes(const char *s, int first_field, int one_column) {
  if (!*s) return one_column; /* an empty line is skipped at the end of a file */
  if (first_field && (unsigned char)s[0] == 0xEF) return 1; /* may look like a BOM */
  return strpbrk(s, ",\"\r\n") != NULL;
}

static void put_field(buf_t *b, const char *s, int quote) {
  if (!quote) {
    put(b, s, strlen(s));
    return;
  }
  put(b, "\"", 1);
  for (const char *q = s; *q; q++) {
    if (*q == '"')
      put(b, "\"\"", 2);
    else
      put(b, q, 1);
  }
  put(b, "\"", 1);
}

static void put_record(buf_t *b, char *const *fields, int64_t n, int all_quoted, int first) {
  for (int64_t j = 0; j < n; j++) {
    if (j) put(b, ",", 1);
    put_field(b, fields[j], all_quoted || needs_quotes(fields[j], first && j == 0, n == 1));
  }
  if (all_quoted)
    put(b, "\n", 1);
  else
    put(b, "\r\n", 2);
}

static int cmp_str(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

static void check_table(const ps_csv_t *c) {
  if (c->n_cols < 1) broken("parsed a file with no columns", NULL);
  if (c->n_rows < 1) broken("parsed a file with no data rows", NULL);
  char **names = malloc((size_t)c->n_cols * sizeof *names);
  if (!names) abort();
  for (int64_t j = 0; j < c->n_cols; j++) {
    if (!c->header[j]) broken("a NULL header name", NULL);
    names[j] = c->header[j];
  }
  qsort(names, (size_t)c->n_cols, sizeof *names, cmp_str);
  for (int64_t j = 1; j < c->n_cols; j++)
    if (!strcmp(names[j - 1], names[j])) broken("duplicate header names", names[j]);
  free(names);
  for (int64_t i = 0; i < c->n_rows; i++) {
    if (c->line_of_row[i] < 2 || (i > 0 && c->line_of_row[i] <= c->line_of_row[i - 1]))
      broken("rows are not on increasing lines after the header", NULL);
    for (int64_t j = 0; j < c->n_cols; j++)
      if (!c->cells[(size_t)i * (size_t)c->n_cols + (size_t)j]) broken("a NULL cell", NULL);
  }
}

static void check_error(ps_err_t err, const ps_csv_t *c) {
  const char *msg = ps_error_message();
  if (c) broken("a failed parse returned a table", NULL);
  if (err != PS_ERR_FORMAT && err != PS_ERR_MEM) broken("unexpected error code", msg);
  if (!msg[0]) broken("an error without a message", NULL);
  if (strchr(msg, '\n')) broken("a message of more than one line", msg);
}

static void round_trip(const ps_csv_t *c, int all_quoted) {
  buf_t b = {0};
  ps_csv_t *c2 = NULL;
  put_record(&b, c->header, c->n_cols, all_quoted, 1);
  for (int64_t i = 0; i < c->n_rows; i++)
    put_record(&b, c->cells + (size_t)i * (size_t)c->n_cols, c->n_cols, all_quoted, 0);
  ps_error_clear();
  ps_err_t err = ps_csv_parse(b.p, b.n, "roundtrip.csv", &c2);
  if (err != PS_OK) broken("the written-back file does not parse", ps_error_message());
  if (c2->n_rows != c->n_rows || c2->n_cols != c->n_cols)
    broken("the written-back file has another shape", NULL);
  for (int64_t j = 0; j < c->n_cols; j++)
    if (strcmp(c->header[j], c2->header[j])) broken("a header name changed", c->header[j]);
  for (size_t k = 0; k < (size_t)c->n_rows * (size_t)c->n_cols; k++)
    if (strcmp(c->cells[k], c2->cells[k])) broken("a cell changed", c->cells[k]);
  ps_csv_destroy(&c2);
  free(b.p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  ps_csv_t *c = NULL;
  ps_error_clear();
  ps_err_t err = ps_csv_parse((const char *)data, size, "fuzz.csv", &c);
  if (err != PS_OK) {
    check_error(err, c);
    return 0;
  }
  check_table(c);
  round_trip(c, (size & 1) == 0);
  ps_csv_destroy(&c);
  return 0;
}
