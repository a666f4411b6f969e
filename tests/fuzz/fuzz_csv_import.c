/* fuzz_csv_import.c - libFuzzer target: CSV import into a table,
 * ps_csv_import (column roles, ids, labels, missing values, renames, row
 * names, the dropped-row examples), over a file the harness writes.
 *
 * Input: the CSV's bytes, or, when the first byte is 0x01..0x03 (never the
 * start of a real CSV), two option bytes and then the CSV:
 *   A bit 0      --missing=error
 *     bits 1-2   id column: default, "" (none), column kA, a missing name
 *     bits 3-5   label columns: default, "", kB, "kA,kB", " kB ", ",kB",
 *                "kB,", a missing name
 *     bits 6-7   renames: none, kA=NEW, kA=kB (a clash), kA=x + kA=y / "bad"
 *   B            kA = B & 15, kB = B >> 4 (column numbers, modulo the count)
 * Column names come from parsing the same bytes first, so that options can
 * name real columns. Checked besides the sanitizers: a failure records a
 * one-line message and returns no table; a success has rows and features,
 * n_read = rows + dropped, names NUL-terminated within their widths,
 * distinct feature names, finite values.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_util.h"
#include "popseg/csv.h"
#include "popseg/error.h"
#include "popseg/table.h"

static void broken(const char *what, const char *detail) {
  fuzz_fail("fuzz_csv_import", what, detail);
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc;
  (void)argv;
  fuzz_report_init();
  fuzz_tmp_init("csv_import");
  return 0;
}

/* Column k's name from a first parse ("" if it did not parse). */
static const char *colname(const ps_csv_t *c, unsigned k) {
  if (!c || c->n_cols < 1) return "";
  return c->header[k % (unsigned)c->n_cols];
}

static char *joined(const char *a, const char *sep, const char *b) {
  size_t n = strlen(a) + strlen(sep) + strlen(b) + 1;
  char *s = malloc(n);
  if (!s) abort();
  snprintf(s, n, "%s%s%s", a, sep, b);
  return s;
}

static int cmp_str(const void *a, const void *b) {
  return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static void check_table(const ps_table_t *t, const char *path) {
  const ps_matrix_t *x = t->x;
  int64_t n = x->n_local, d = x->n_cols;
  if (n < 1 || d < 1) broken("imported an empty table", NULL);
  if (x->n_global != n || x->row_offset != 0) broken("an import is not one whole block", NULL);
  if (t->n_read != n + t->n_dropped) broken("n_read is not rows + dropped", NULL);
  if (t->name_width < 1 || t->fname_width < 1) broken("a zero string width", NULL);
  for (int64_t i = 0; i < n; i++)
    if (!memchr(ps_table_name(t, i), '\0', t->name_width))
      broken("a row name fills its width", NULL);
  const char **names = malloc((size_t)d * sizeof *names);
  if (!names) abort();
  for (int64_t j = 0; j < d; j++) {
    if (!memchr(ps_table_fname(t, j), '\0', t->fname_width))
      broken("a feature name fills its width", NULL);
    names[j] = ps_table_fname(t, j);
  }
  qsort(names, (size_t)d, sizeof *names, cmp_str);
  for (int64_t j = 1; j < d; j++)
    if (!strcmp(names[j - 1], names[j])) broken("duplicate feature names", names[j]);
  free(names);
  for (int64_t q = 0; q < n * d; q++)
    if (!isfinite(x->data[q])) broken("a value that is not finite", NULL);
  if (!memchr(t->dropped_examples, '\0', sizeof t->dropped_examples))
    broken("dropped_examples is not NUL-terminated", NULL);
  if (t->n_dropped == 0 && t->dropped_examples[0]) broken("examples of no dropped row", NULL);
  if (strcmp(t->source, path) || strcmp(t->input, path))
    broken("source/input is not the path", NULL);
  if (strlen(t->source_sha256) != 64) broken("no sha256 of the source", NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  ps_import_opts_t o;
  ps_csv_t *pre = NULL;
  ps_table_t *t = NULL;
  char *labels = NULL, *ren[2] = {NULL, NULL};
  unsigned a = 0, b = 0;
  const char *path = fuzz_tmp_path("in.csv");

  ps_import_opts_default(&o);
  if (size >= 1 && data[0] >= 0x01 && data[0] <= 0x03) {
    a = size > 1 ? data[1] : 0;
    b = size > 2 ? data[2] : 0;
    data += size > 3 ? 3 : size;
    size -= size > 3 ? 3 : size;
    ps_error_clear();
    if (ps_csv_parse((const char *)data, size, "pre.csv", &pre) != PS_OK) pre = NULL;
    const char *ka = colname(pre, b & 15), *kb = colname(pre, b >> 4);
    if (a & 1) o.missing = PS_MISSING_ERROR;
    switch ((a >> 1) & 3) {
    case 1:
      o.id_column = "";
      break;
    case 2:
      o.id_column = ka;
      break;
    case 3:
      o.id_column = "no such column";
      break;
    default:
      break;
    }
    switch ((a >> 3) & 7) {
    case 1:
      labels = joined("", "", "");
      break;
    case 2:
      labels = joined(kb, "", "");
      break;
    case 3:
      labels = joined(ka, ",", kb);
      break;
    case 4:
      labels = joined(" ", kb, " ");
      break;
    case 5:
      labels = joined(",", kb, "");
      break;
    case 6:
      labels = joined(kb, ",", "");
      break;
    case 7:
      labels = joined("no such column", "", "");
      break;
    default:
      break;
    }
    o.label_columns = labels;
    switch ((a >> 6) & 3) {
    case 1:
      ren[0] = joined(ka, "=", "renamed");
      break;
    case 2:
      ren[0] = joined(ka, "=", kb);
      break;
    case 3:
      ren[0] = joined(ka, "=", "x");
      ren[1] = joined(kb, b & 1 ? "=" : "", "y"); /* kb without '=' is a bad spec */
      break;
    default:
      break;
    }
    o.rename[0] = ren[0];
    o.rename[1] = ren[0] ? ren[1] : NULL;
  }
  fuzz_write_file(path, data, size);
  ps_error_clear();
  ps_err_t err = ps_csv_import(path, &o, &t);
  if (err == PS_OK) {
    if (!t) broken("success without a table", NULL);
    check_table(t, path);
  } else {
    const char *msg = ps_error_message();
    if (t) broken("a failed import returned a table", NULL);
    if (err != PS_ERR_FORMAT && err != PS_ERR_ARG && err != PS_ERR_MEM)
      broken("unexpected error code", msg);
    if (!msg[0]) broken("an error without a message", NULL);
    if (strchr(msg, '\n')) broken("a message of more than one line", msg);
  }
  ps_table_destroy(&t);
  ps_csv_destroy(&pre);
  free(labels);
  free(ren[0]);
  free(ren[1]);
  return 0;
}
