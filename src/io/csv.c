/* csv.c - RFC 4180 CSV parsing, import of a CSV into a table, SHA-256 of the
 * input file, and the collective MPI-IO writer of the segments CSV.
 *
 * The parser reads the whole file into one buffer and unquotes every field in
 * place (a field never grows when unquoted), so a parsed file costs its own
 * size plus one pointer per cell. Import classifies the columns (id, labels,
 * features), checks every used value and drops rows with missing values.
 */
#include "popseg/csv.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "popseg/names.h"
#include "popseg/sha256.h"
#include "popseg/utf8.h"

/* ------------------------------------------------------------------------ */
/* Reading a whole file                                                     */

static ps_err_t read_whole_file(const char *path, char **out, size_t *out_len) {
  ps_err_t err = PS_OK;
  FILE *f = NULL;
  char *buf = NULL;
  size_t cap, len = 0;
  struct stat st;
  *out = NULL;
  *out_len = 0;
  f = fopen(path, "rb");
  PS_CHECK(f != NULL, PS_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
  PS_CHECK(fstat(fileno(f), &st) == 0, PS_ERR_IO, "%s: cannot stat: %s", path, strerror(errno));
  PS_CHECK(!S_ISDIR(st.st_mode), PS_ERR_IO, "%s: is a directory, not a CSV file", path);
  /* Regular files are read into a buffer of their exact size (+1 for a NUL);
   * pipes and the like grow the buffer as they go. */
  cap = (S_ISREG(st.st_mode) && st.st_size > 0) ? (size_t)st.st_size + 1 : 65536;
  buf = malloc(cap);
  PS_CHECK(buf != NULL, PS_ERR_MEM, "%s: out of memory reading %zu bytes", path, cap);
  for (;;) {
    if (len + 1 == cap) {
      int c = fgetc(f);
      if (c == EOF) break;
      PS_CHECK(cap <= SIZE_MAX / 2, PS_ERR_MEM, "%s: file too large", path);
      char *nb = realloc(buf, cap * 2);
      PS_CHECK(nb != NULL, PS_ERR_MEM, "%s: out of memory reading %zu bytes", path, cap * 2);
      buf = nb;
      cap *= 2;
      buf[len++] = (char)c;
    }
    size_t want = cap - 1 - len;
    size_t n = fread(buf + len, 1, want, f);
    len += n;
    if (n < want) break;
  }
  PS_CHECK(!ferror(f), PS_ERR_IO, "%s: read error: %s", path, strerror(errno));
  buf[len] = '\0';
  *out = buf;
  *out_len = len;
  buf = NULL;
cleanup:
  if (f) fclose(f);
  free(buf);
  return err;
}

/* ------------------------------------------------------------------------ */
/* The parser                                                               */

typedef struct {
  const char *name; /* file name for messages */
  char *buf;        /* the bytes; buf[len] == '\0' */
  size_t len;
  size_t end;     /* just after the last byte that is not CR or LF */
  size_t r, w;    /* read and write positions, w <= r */
  long long line; /* 1-based physical line at r */
  char **header;  /* set once the header is parsed (for messages) */
  long long n_cols;
} parser_t;

/* "column 3 ('County')" for messages; the name only once the header is known. */
static const char *col_desc(const parser_t *p, long long col, char *d, size_t cap) {
  if (p->header && col < p->n_cols)
    snprintf(d, cap, "column %lld ('%.200s')", col + 1, p->header[col]);
  else
    snprintf(d, cap, "column %lld", col + 1);
  return d;
}

static int is_crlf_at(const parser_t *p, size_t i) {
  return i + 1 < p->len && p->buf[i] == '\r' && p->buf[i + 1] == '\n';
}

/* Parse the field at p->r. Its unquoted bytes are moved to p->w and
 * NUL-terminated; *field points at them. *last is set when the field ends its
 * record (line end or end of file). */
static ps_err_t parse_field(parser_t *p, long long col, char **field, int *last) {
  ps_err_t err = PS_OK;
  char *b = p->buf;
  size_t start = p->w;
  char d[320];
  if (p->r < p->len && b[p->r] == '"') {
    long long open_line = p->line;
    p->r++;
    for (;;) {
      PS_CHECK(p->r < p->len, PS_ERR_FORMAT,
               "%s:%lld: %s: unterminated quoted field (the quote opened on this line is "
               "never closed)",
               p->name, open_line, col_desc(p, col, d, sizeof d));
      char c = b[p->r];
      if (c == '"') {
        if (p->r + 1 < p->len && b[p->r + 1] == '"') {
          b[p->w++] = '"';
          p->r += 2;
          continue;
        }
        p->r++;
        break;
      }
      PS_CHECK(c != '\0', PS_ERR_FORMAT,
               "%s:%lld: %s: NUL byte in the file (binary or UTF-16 data? save it as UTF-8)",
               p->name, p->line, col_desc(p, col, d, sizeof d));
      if (c == '\n' || (c == '\r' && !is_crlf_at(p, p->r))) p->line++;
      b[p->w++] = c;
      p->r++;
    }
    if (p->r < p->len) {
      char c = b[p->r];
      PS_CHECK(c == ',' || c == '\n' || is_crlf_at(p, p->r), PS_ERR_FORMAT,
               "%s:%lld: %s: unexpected character after a closing quote (a quote inside a "
               "quoted field must be doubled)",
               p->name, p->line, col_desc(p, col, d, sizeof d));
    }
  } else {
    while (p->r < p->len) {
      char c = b[p->r];
      if (c == ',' || c == '\n' || c == '\r') break;
      PS_CHECK(c != '"', PS_ERR_FORMAT,
               "%s:%lld: %s: stray quote in an unquoted field (quote the whole field and "
               "double the quote)",
               p->name, p->line, col_desc(p, col, d, sizeof d));
      PS_CHECK(c != '\0', PS_ERR_FORMAT,
               "%s:%lld: %s: NUL byte in the file (binary or UTF-16 data? save it as UTF-8)",
               p->name, p->line, col_desc(p, col, d, sizeof d));
      b[p->w++] = c;
      p->r++;
    }
  }
  /* The separator: consumed before the NUL is written, so w stays <= r. */
  if (p->r >= p->len) {
    *last = 1;
  } else if (b[p->r] == ',') {
    p->r++;
    *last = 0;
  } else if (b[p->r] == '\n') {
    p->r++;
    p->line++;
    *last = 1;
  } else {
    PS_CHECK(is_crlf_at(p, p->r), PS_ERR_FORMAT,
             "%s:%lld: %s: carriage return without a line feed outside quotes (old Mac line "
             "ends are not supported; use LF or CRLF)",
             p->name, p->line, col_desc(p, col, d, sizeof d));
    p->r += 2;
    p->line++;
    *last = 1;
  }
  b[p->w++] = '\0';
  *field = b + start;
cleanup:
  return err;
}

/* Every header name and cell is valid UTF-8: names land in datasets declared
 * UTF-8, and a Latin-1 file would otherwise pass as garbage. The error names
 * the line, the column and the byte. */
static ps_err_t check_utf8(const ps_csv_t *c, const char *name) {
  ps_err_t err = PS_OK;
  for (int64_t j = 0; j < c->n_cols; j++) {
    size_t len = strlen(c->header[j]), bad = ps_utf8_invalid(c->header[j], len);
    PS_CHECK(bad == len, PS_ERR_FORMAT,
             "%s:1: column %lld: the name is not valid UTF-8 (byte 0x%02X at position %zu); "
             "save the file as UTF-8",
             name, (long long)j + 1, (unsigned char)c->header[j][bad], bad + 1);
  }
  for (int64_t i = 0; i < c->n_rows; i++)
    for (int64_t j = 0; j < c->n_cols; j++) {
      const char *v = c->cells[(size_t)i * (size_t)c->n_cols + (size_t)j];
      size_t len = strlen(v), bad = ps_utf8_invalid(v, len);
      PS_CHECK(bad == len, PS_ERR_FORMAT,
               "%s:%lld: column %lld ('%s'): not valid UTF-8 (byte 0x%02X at position %zu of the "
               "field); save the file as UTF-8",
               name, (long long)c->line_of_row[i], (long long)j + 1, c->header[j],
               (unsigned char)v[bad], bad + 1);
    }
cleanup:
  return err;
}

/* Parse buf[0..len) (owned by the result on success; buf[len] must exist). */
static ps_err_t parse_buffer(char *buf, size_t len, const char *name, ps_csv_t **out) {
  ps_err_t err = PS_OK;
  ps_csv_t *c = NULL;
  parser_t p;
  size_t n_commas = 0, n_lf = 0, hcap = 16;
  long long n_hdr = 0;
  *out = NULL;
  c = calloc(1, sizeof *c);
  PS_CHECK_ALLOC(c);
  c->buf = buf;
  buf[len] = '\0';
  snprintf(c->path, sizeof c->path, "%s", name);
  memset(&p, 0, sizeof p);
  p.name = name;
  p.buf = buf;
  p.len = len;
  p.line = 1;
  if (len >= 3 && (unsigned char)buf[0] == 0xEF && (unsigned char)buf[1] == 0xBB &&
      (unsigned char)buf[2] == 0xBF)
    p.r = 3;
  p.end = len;
  while (p.end > p.r && (buf[p.end - 1] == '\n' || buf[p.end - 1] == '\r')) p.end--;
  PS_CHECK(p.end > p.r, PS_ERR_FORMAT, "%s: empty file (no header line)", name);

  /* Header. */
  c->header = malloc(hcap * sizeof *c->header);
  PS_CHECK_ALLOC(c->header);
  for (int last = 0; !last;) {
    char *f;
    PS_TRY(parse_field(&p, n_hdr, &f, &last));
    if ((size_t)n_hdr == hcap) {
      char **nh = realloc(c->header, 2 * hcap * sizeof *nh);
      PS_CHECK_ALLOC(nh);
      c->header = nh;
      hcap *= 2;
    }
    c->header[n_hdr++] = f;
  }
  c->n_cols = n_hdr;
  p.header = c->header;
  p.n_cols = n_hdr;
  {
    const char *dup;
    int64_t a, b;
    PS_TRY(ps_names_find_duplicate((const char *const *)c->header, n_hdr, &dup, &a, &b));
    PS_CHECK(dup == NULL, PS_ERR_FORMAT, "%s:1: duplicate column name '%s' (columns %lld and %lld)",
             name, dup ? dup : "", (long long)a + 1, (long long)b + 1);
  }
  PS_CHECK(p.r < p.end, PS_ERR_FORMAT, "%s: no data rows (only a header line)", name);

  /* Every stored cell ends at a comma, a line feed or the end of the file, so
   * commas + LFs + 1 bounds the cell count and LFs + 1 the row count: one
   * allocation each, never resized. */
  for (size_t i = p.r; i < len; i++) {
    n_commas += buf[i] == ',';
    n_lf += buf[i] == '\n';
  }
  size_t cell_cap = n_commas + n_lf + 1, row_cap = n_lf + 1;
  c->cells = malloc(cell_cap * sizeof *c->cells);
  c->line_of_row = malloc(row_cap * sizeof *c->line_of_row);
  PS_CHECK(c->cells && c->line_of_row, PS_ERR_MEM, "%s: out of memory for %zu cells", name,
           cell_cap);

  int64_t n_rows = 0;
  while (p.r < p.end) {
    long long row_line = p.line, nf = 0;
    size_t base = (size_t)n_rows * (size_t)n_hdr;
    for (int last = 0; !last;) {
      char *f;
      PS_TRY(parse_field(&p, nf, &f, &last));
      if (nf < n_hdr) {
        PS_CHECK(base + (size_t)nf < cell_cap, PS_ERR_INTERNAL, "%s: cell count bound exceeded",
                 name);
        c->cells[base + (size_t)nf] = f;
      }
      nf++;
    }
    PS_CHECK(nf == n_hdr, PS_ERR_FORMAT,
             "%s:%lld: ragged row: expected %lld fields (as in the header), found %lld", name,
             row_line, n_hdr, nf);
    PS_CHECK((size_t)n_rows < row_cap, PS_ERR_INTERNAL, "%s: row count bound exceeded", name);
    c->line_of_row[n_rows++] = row_line;
  }
  c->n_rows = n_rows;
  PS_TRY(check_utf8(c, name));
  *out = c;
  c = NULL;
cleanup:
  if (c) c->buf = NULL; /* the caller still owns buf on failure */
  ps_csv_destroy(&c);
  return err;
}

ps_err_t ps_csv_parse(const char *data, size_t len, const char *name, ps_csv_t **out) {
  ps_err_t err = PS_OK;
  char *buf = NULL;
  *out = NULL;
  PS_CHECK(len < SIZE_MAX, PS_ERR_MEM, "%s: too large", name);
  buf = malloc(len + 1);
  PS_CHECK(buf != NULL, PS_ERR_MEM, "%s: out of memory for %zu bytes", name, len + 1);
  if (len) memcpy(buf, data, len);
  PS_TRY(parse_buffer(buf, len, name, out));
  buf = NULL;
cleanup:
  free(buf);
  return err;
}

ps_err_t ps_csv_read(const char *path, ps_csv_t **out) {
  ps_err_t err = PS_OK;
  char *buf = NULL;
  size_t len = 0;
  *out = NULL;
  char sha[65], digest[65];
  PS_TRY(read_whole_file(path, &buf, &len));
  /* The bytes that are parsed (in place, below) are the ones hashed. */
  ps_sha256_buffer_digest(buf, len, sha, digest);
  PS_TRY(parse_buffer(buf, len, path, out));
  buf = NULL;
  memcpy((*out)->sha256, sha, sizeof sha);
  memcpy((*out)->digest, digest, sizeof digest);
cleanup:
  free(buf);
  return err;
}

void ps_csv_destroy(ps_csv_t **c) {
  if (!c || !*c) return;
  free((*c)->header);
  free((*c)->cells);
  free((*c)->line_of_row);
  free((*c)->buf);
  free(*c);
  *c = NULL;
}

/* ------------------------------------------------------------------------ */
/* Values                                                                   */

static int is_blank(char ch) {
  return ch == ' ' || ch == '\t';
}
static int is_digit(char ch) {
  return ch >= '0' && ch <= '9';
}
static char lower(char ch) {
  return (ch >= 'A' && ch <= 'Z') ? (char)(ch - 'A' + 'a') : ch;
}

/* Empty (or only blanks), NA or NaN in any case, surrounding blanks allowed. */
static int is_missing(const char *s) {
  while (is_blank(*s)) s++;
  size_t n = strlen(s);
  while (n > 0 && is_blank(s[n - 1])) n--;
  if (n == 0) return 1;
  if (n == 2) return lower(s[0]) == 'n' && lower(s[1]) == 'a';
  if (n == 3) return lower(s[0]) == 'n' && lower(s[1]) == 'a' && lower(s[2]) == 'n';
  return 0;
}

/* A finite decimal number, surrounding blanks allowed. strtod alone would also
 * take "inf", "nan(...)" and hex floats; those are not data values here. */
int ps_csv_parse_number(const char *s, double *v) {
  while (is_blank(*s)) s++;
  const char *q = s;
  if (*q == '+' || *q == '-') q++;
  if (!(is_digit(*q) || (*q == '.' && is_digit(q[1])))) return 0;
  if (q[0] == '0' && (q[1] == 'x' || q[1] == 'X')) return 0;
  char *e;
  errno = 0;
  double x = strtod(s, &e);
  if (e == s) return 0;
  while (is_blank(*e)) e++;
  if (*e != '\0' || !isfinite(x)) return 0;
  *v = x;
  return 1;
}

static int parse_int64(const char *s, int64_t *v) {
  while (is_blank(*s)) s++;
  const char *q = s;
  if (*q == '+' || *q == '-') q++;
  if (!is_digit(*q)) return 0;
  char *e;
  errno = 0;
  long long x = strtoll(s, &e, 10);
  if (errno == ERANGE) return 0;
  while (is_blank(*e)) e++;
  if (*e != '\0') return 0;
  *v = (int64_t)x;
  return 1;
}

/* ------------------------------------------------------------------------ */
/* Import                                                                   */

enum { ROLE_FEATURE = 0, ROLE_ID = 1, ROLE_LABEL = 2 };

typedef struct {
  int64_t v;
  int64_t row;
} id_row_t;

static int cmp_id_row(const void *a, const void *b) {
  const id_row_t *x = a, *y = b;
  if (x->v != y->v) return x->v < y->v ? -1 : 1;
  return x->row < y->row ? -1 : (x->row > y->row);
}

static const char *cell(const ps_csv_t *c, int64_t i, int64_t j) {
  return c->cells[(size_t)i * (size_t)c->n_cols + (size_t)j];
}

static int64_t find_column(char *const *names, int64_t n, const char *name, size_t len) {
  for (int64_t j = 0; j < n; j++)
    if (strlen(names[j]) == len && memcmp(names[j], name, len) == 0) return j;
  return -1;
}

/* Parse the id column into ids[n_rows] (missing ids: -1; the row is dropped
 * later). Returns 0 in *ok instead of failing when `strict` is off. */
static ps_err_t read_ids(const ps_csv_t *c, int64_t col, const char *colname, int strict,
                         int64_t *ids, int *ok) {
  ps_err_t err = PS_OK;
  id_row_t *pairs = NULL;
  int64_t n_pairs = 0;
  *ok = 0;
  pairs = malloc((size_t)c->n_rows * sizeof *pairs);
  PS_CHECK_ALLOC(pairs);
  for (int64_t i = 0; i < c->n_rows; i++) {
    const char *s = cell(c, i, col);
    ids[i] = -1;
    if (is_missing(s)) continue;
    if (!parse_int64(s, &ids[i])) {
      PS_CHECK_OPT(!strict, PS_ERR_FORMAT, "import.id_column",
                   "%s:%lld: id column '%s': '%.60s' is not an integer", c->path,
                   (long long)c->line_of_row[i], colname, s);
      goto cleanup;
    }
    pairs[n_pairs].v = ids[i];
    pairs[n_pairs].row = i;
    n_pairs++;
  }
  if (n_pairs == 0) {
    PS_CHECK_OPT(!strict, PS_ERR_FORMAT, "import.id_column",
                 "%s: id column '%s': every value is missing", c->path, colname);
    goto cleanup;
  }
  qsort(pairs, (size_t)n_pairs, sizeof *pairs, cmp_id_row);
  for (int64_t k = 1; k < n_pairs; k++) {
    if (pairs[k].v != pairs[k - 1].v) continue;
    PS_CHECK_OPT(!strict, PS_ERR_FORMAT, "import.id_column",
                 "%s:%lld: id column '%s': id %lld repeats the id on line %lld (ids must be "
                 "distinct)",
                 c->path, (long long)c->line_of_row[pairs[k].row], colname, (long long)pairs[k].v,
                 (long long)c->line_of_row[pairs[k - 1].row]);
    goto cleanup;
  }
  *ok = 1;
cleanup:
  free(pairs);
  return err;
}

/* Length of row i's name (labels joined with '-', or the id as text). */
static size_t row_name(const ps_csv_t *c, int64_t i, const int64_t *labels, int64_t n_labels,
                       int64_t id, char *dst, size_t cap) {
  size_t n = 0;
  char tmp[32];
  if (n_labels == 0) {
    snprintf(tmp, sizeof tmp, "%lld", (long long)id);
    n = strlen(tmp);
    if (dst && n < cap) memcpy(dst, tmp, n + 1);
    return n;
  }
  for (int64_t l = 0; l < n_labels; l++) {
    const char *s = cell(c, i, labels[l]);
    size_t len = strlen(s);
    if (l > 0) {
      if (dst && n + 1 < cap) dst[n] = '-';
      n++;
    }
    if (dst && n + len < cap) memcpy(dst + n, s, len);
    n += len;
  }
  if (dst && n < cap) dst[n] = '\0';
  return n;
}

/* Choose the label columns: the option's list or the non-numeric columns. */
static ps_err_t choose_labels(const ps_csv_t *c, char *const *names, const char *opt, int *role,
                              int64_t *labels, int64_t *n_labels) {
  ps_err_t err = PS_OK;
  *n_labels = 0;
  if (opt) {
    const char *s = opt;
    while (*s) {
      const char *comma = strchr(s, ',');
      const char *e = comma ? comma : s + strlen(s);
      const char *a = s, *z = e;
      while (a < z && is_blank(*a)) a++;
      while (z > a && is_blank(z[-1])) z--;
      PS_CHECK_OPT(z > a, PS_ERR_ARG, "import.label_columns",
                   "label columns '%s': empty column name in the list", opt);
      int64_t j = find_column(names, c->n_cols, a, (size_t)(z - a));
      PS_CHECK_OPT(j >= 0, PS_ERR_ARG, "import.label_columns",
                   "label columns: %s has no column '%.*s'", c->path, (int)(z - a), a);
      for (int64_t l = 0; l < *n_labels; l++)
        PS_CHECK_OPT(labels[l] != j, PS_ERR_ARG, "import.label_columns",
                     "label columns: column '%s' is listed twice", names[j]);
      labels[(*n_labels)++] = j;
      if (role[j] != ROLE_ID) role[j] = ROLE_LABEL;
      if (!comma) break;
      s = comma + 1;
      PS_CHECK_OPT(*s != '\0', PS_ERR_ARG, "import.label_columns",
                   "label columns '%s': empty column name in the list", opt);
    }
    return PS_OK;
  }
  for (int64_t j = 0; j < c->n_cols; j++) {
    if (role[j] == ROLE_ID) continue;
    int64_t n_num = 0, n_text = 0, first_text = -1;
    double v;
    for (int64_t i = 0; i < c->n_rows; i++) {
      const char *s = cell(c, i, j);
      if (is_missing(s)) continue;
      if (ps_csv_parse_number(s, &v)) {
        n_num++;
      } else {
        if (first_text < 0) first_text = i;
        n_text++;
      }
    }
    if (n_text == 0) continue;
    /* Mostly numbers with a few exceptions is a damaged feature column (an
     * "inf", a typo), not a label: say so rather than guess. */
    PS_CHECK_OPT(
        n_num <= n_text, PS_ERR_FORMAT, "import.label_columns",
        "%s:%lld: column %lld ('%s'): '%.60s' is not a number, but %lld of the %lld values "
        "in this column are (fix the value, or list the "
        "label columns)",
        c->path, (long long)c->line_of_row[first_text], (long long)j + 1, names[j],
        cell(c, first_text, j), (long long)n_num, (long long)(n_num + n_text));
    role[j] = ROLE_LABEL;
    labels[(*n_labels)++] = j;
  }
cleanup:
  return err;
}

/* Append ", name" to the dropped-row examples, never cutting a name. */
static void add_example(char *ex, size_t cap, const char *name) {
  size_t n = strlen(ex), add = strlen(name) + (n ? 2 : 0);
  if (n + add + 1 > cap) {
    if (n + 5 <= cap && (n < 3 || strcmp(ex + n - 3, "...") != 0)) strcat(ex, n ? ", ..." : "...");
    return;
  }
  if (n) strcat(ex, ", ");
  strcat(ex, name);
}

static const ps_opt_choice_t missing_choices[] = {
    {"drop", PS_MISSING_DROP}, {"error", PS_MISSING_ERROR}, {NULL, 0}};

#define IO_(f) offsetof(ps_import_opts_t, f)
const ps_opt_t ps_import_options[] = {
    {.flag = "--id-column",
     .field = "id_column",
     .kind = PS_OPT_STRING,
     .offset = IO_(id_column),
     .metavar = "NAME",
     .help = "id column (default: the first, if its values are distinct integers)"},
    {.flag = "--label-columns",
     .field = "label_columns",
     .kind = PS_OPT_STRING,
     .offset = IO_(label_columns),
     .metavar = "A,B",
     .help = "columns joined with '-' into the row name (default: every non-numeric column)"},
    {.flag = "--missing",
     .field = "missing",
     .kind = PS_OPT_CHOICE,
     .offset = IO_(missing),
     .def = "drop",
     .choices = missing_choices,
     .help = "a row with an empty, NA or NaN value is dropped, or is an error"},
    {.flag = "--rename",
     .field = "rename",
     .kind = PS_OPT_LIST,
     .offset = IO_(rename),
     .metavar = "OLD=NEW",
     .max_count = PS_MAX_RENAMES,
     .help = "rename a column before use (repeatable)"},
    {0}};
#undef IO_

void ps_import_opts_default(ps_import_opts_t *o) {
  memset(o, 0, sizeof *o);
  ps_opt_defaults(ps_import_options, o);
}

/* An import in progress: the parsed file and what each column is. */
typedef struct {
  const char *path;
  const ps_import_opts_t *opts;
  ps_csv_t *c;
  char **names;    /* [m] column names after the renames */
  int *role;       /* [m] ROLE_* */
  int64_t *labels; /* [m] label columns, in order */
  int64_t *features;
  int64_t *ids;        /* [n] */
  unsigned char *keep; /* [n] 0: dropped for a missing value */
  int64_t n_labels, n_feat, id_col, n_keep;
  size_t name_w, fname_w, max_any;
  char *tmpname; /* [max_any + 16] */
} imp_t;

static void imp_free(imp_t *s) {
  ps_csv_destroy(&s->c);
  free(s->names);
  free(s->tmpname);
  free(s->role);
  free(s->labels);
  free(s->features);
  free(s->ids);
  free(s->keep);
}

/* The column names (renamed), the id column and its ids, the labels and the
 * features. */
static ps_err_t imp_columns(imp_t *s) {
  ps_err_t err = PS_OK;
  const ps_csv_t *c = s->c;
  const int64_t n = c->n_rows, m = c->n_cols;
  s->names = malloc((size_t)m * sizeof *s->names);
  s->role = calloc((size_t)m, sizeof *s->role);
  s->labels = malloc((size_t)m * sizeof *s->labels);
  s->features = malloc((size_t)m * sizeof *s->features);
  s->ids = malloc((size_t)n * sizeof *s->ids);
  s->keep = malloc((size_t)n);
  PS_CHECK(s->names && s->role && s->labels && s->features && s->ids && s->keep, PS_ERR_MEM,
           "%s: out of memory importing %lld rows", s->path, (long long)n);
  PS_TRY(ps_names_rename((const char *const *)c->header, m, s->opts->rename, s->path,
                         (const char **)s->names));
  for (int64_t j = 0; j < m; j++)
    PS_CHECK(s->names[j][0] != '\0', PS_ERR_FORMAT,
             "%s:1: column %lld has an empty name (name it in the header)", s->path,
             (long long)j + 1);
  s->id_col = -1;
  const char *idc = s->opts->id_column;
  int ok;
  if (idc && idc[0]) {
    s->id_col = find_column(s->names, m, idc, strlen(idc));
    PS_CHECK_OPT(s->id_col >= 0, PS_ERR_ARG, "import.id_column", "id column: %s has no column '%s'",
                 s->path, idc);
    PS_TRY(read_ids(c, s->id_col, s->names[s->id_col], 1, s->ids, &ok));
  } else if (!idc && m >= 2) {
    PS_TRY(read_ids(c, 0, s->names[0], 0, s->ids, &ok));
    if (ok) s->id_col = 0;
  }
  if (s->id_col >= 0)
    s->role[s->id_col] = ROLE_ID;
  else
    for (int64_t i = 0; i < n; i++) s->ids[i] = i;
  PS_TRY(choose_labels(c, s->names, s->opts->label_columns, s->role, s->labels, &s->n_labels));
  for (int64_t j = 0; j < m; j++)
    if (s->role[j] == ROLE_FEATURE) s->features[s->n_feat++] = j;
  PS_CHECK(s->n_feat > 0, PS_ERR_FORMAT,
           "%s: no numeric feature columns (every column is the id or a label)", s->path);
cleanup:
  return err;
}

/* Check every used value; a bad number is an error even in a row that a
 * missing value would drop. Marks the rows kept. */
static ps_err_t imp_values(imp_t *s) {
  ps_err_t err = PS_OK;
  const ps_csv_t *c = s->c;
  for (int64_t i = 0; i < c->n_rows; i++) {
    int missing = 0;
    for (int64_t j = 0; j < c->n_cols; j++) {
      const char *v = cell(c, i, j);
      double x;
      if (is_missing(v)) {
        PS_CHECK_OPT(s->opts->missing != PS_MISSING_ERROR, PS_ERR_FORMAT, "import.missing",
                     "%s:%lld: column %lld ('%s'): missing value (missing = error)", s->path,
                     (long long)c->line_of_row[i], (long long)j + 1, s->names[j]);
        missing = 1;
        continue;
      }
      if (s->role[j] == ROLE_FEATURE)
        PS_CHECK(ps_csv_parse_number(v, &x), PS_ERR_FORMAT,
                 "%s:%lld: column %lld ('%s'): '%.60s' is not a number", s->path,
                 (long long)c->line_of_row[i], (long long)j + 1, s->names[j], v);
    }
    s->keep[i] = (unsigned char)!missing;
    s->n_keep += !missing;
  }
cleanup:
  return err;
}

/* String widths of the kept rows' names and the features' names; every row
 * dropped is an error naming the first few. */
static ps_err_t imp_widths(imp_t *s) {
  ps_err_t err = PS_OK;
  const ps_csv_t *c = s->c;
  s->name_w = s->fname_w = s->max_any = 1;
  for (int64_t i = 0; i < c->n_rows; i++) {
    size_t len = row_name(c, i, s->labels, s->n_labels, s->ids[i], NULL, 0);
    if (len + 1 > s->max_any) s->max_any = len + 1;
    if (s->keep[i] && len + 1 > s->name_w) s->name_w = len + 1;
  }
  for (int64_t f = 0; f < s->n_feat; f++) {
    size_t len = strlen(s->names[s->features[f]]);
    if (len + 1 > s->fname_w) s->fname_w = len + 1;
  }
  s->tmpname = malloc(s->max_any + 16);
  PS_CHECK_ALLOC(s->tmpname);
  if (s->n_keep == 0) {
    char ex[512] = "";
    for (int64_t i = 0; i < c->n_rows && i < 5; i++) {
      row_name(c, i, s->labels, s->n_labels, s->ids[i], s->tmpname, s->max_any + 16);
      add_example(ex, sizeof ex, s->tmpname);
    }
    PS_CHECK(0, PS_ERR_FORMAT,
             "%s: every one of the %lld rows has a missing value (first: %s); nothing to import",
             s->path, (long long)c->n_rows, ex);
  }
cleanup:
  return err;
}

/* The kept rows into t; the dropped ones counted and named. */
static ps_err_t imp_fill(imp_t *s, ps_table_t *t) {
  ps_err_t err = PS_OK;
  const ps_csv_t *c = s->c;
  const size_t cap = s->max_any + 16;
  for (int64_t f = 0; f < s->n_feat; f++)
    memcpy(t->feature_names + (size_t)f * s->fname_w, s->names[s->features[f]],
           strlen(s->names[s->features[f]]));
  for (int64_t i = 0, r = 0; i < c->n_rows; i++) {
    if (!s->keep[i]) {
      if (t->n_dropped < 5) {
        if (s->n_labels == 0 && s->id_col >= 0 && is_missing(cell(c, i, s->id_col)))
          snprintf(s->tmpname, cap, "line %lld", (long long)c->line_of_row[i]);
        else
          row_name(c, i, s->labels, s->n_labels, s->ids[i], s->tmpname, cap);
        add_example(t->dropped_examples, sizeof t->dropped_examples, s->tmpname);
      }
      t->n_dropped++;
      continue;
    }
    t->ids[r] = s->ids[i];
    row_name(c, i, s->labels, s->n_labels, s->ids[i], t->names + (size_t)r * s->name_w, s->name_w);
    double *row = t->x->data + (size_t)r * (size_t)s->n_feat;
    for (int64_t f = 0; f < s->n_feat; f++)
      PS_CHECK(ps_csv_parse_number(cell(c, i, s->features[f]), &row[f]), PS_ERR_INTERNAL,
               "%s:%lld: value changed between passes", s->path, (long long)c->line_of_row[i]);
    r++;
  }
  t->n_read = c->n_rows;
cleanup:
  return err;
}

ps_err_t ps_csv_import(const char *path, const ps_import_opts_t *opts, ps_table_t **out) {
  ps_err_t err = PS_OK;
  ps_import_opts_t defaults;
  ps_table_t *t = NULL;
  imp_t s;
  memset(&s, 0, sizeof s);
  *out = NULL;
  ps_import_opts_default(&defaults);
  s.path = path;
  s.opts = opts ? opts : &defaults;
  PS_CHECK(path && strlen(path) < sizeof t->source, PS_ERR_ARG, "input path too long");
  PS_TRY(ps_csv_read(path, &s.c));
  PS_TRY(imp_columns(&s));
  PS_TRY(imp_values(&s));
  PS_TRY(imp_widths(&s));
  PS_TRY(ps_table_create(s.n_keep, s.n_feat, 0, s.n_keep, s.name_w, s.fname_w, &t));
  PS_TRY(imp_fill(&s, t));
  snprintf(t->source, sizeof t->source, "%s", path);
  /* The CSV is the source and the input: the sha256 and digest of the
   * bytes parsed, not of the file read again, which may have changed since
   * (ps_table_digest then has nothing to do). */
  memcpy(t->source_sha256, s.c->sha256, sizeof t->source_sha256);
  memcpy(t->input_digest, s.c->digest, sizeof t->input_digest);
  memcpy(t->input, t->source, sizeof t->input);
  *out = t;
  t = NULL;
cleanup:
  ps_table_destroy(&t);
  imp_free(&s);
  return err;
}
