/* test_csv.c - the CSV module: RFC 4180 parsing, import into a table,
 * SHA-256, and the collective segments writer.
 *
 * Parser, import and SHA-256 checks are serial and run only at np=1; the
 * writer checks run at every rank count. Run from the source tree root (or
 * set POPSEG_SRCDIR) so that data/ and tests/data/csv/ are found.
 *
 * Driver modes used by tests/t_csv.sh:
 *   test_csv --sha256 FILE                 print the hex SHA-256 of FILE
 *   test_csv --segments IN OUT K [OLD=NEW ...]
 *       import IN (renames applied), scatter it, write OUT with segment =
 *       id mod 7, distance = global row / 4, pc1..pcK = the first K features.
 */
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "popseg/reduce.h"
#include "popseg/cli.h"
#include "popseg/csv.h"
#include "popseg/segments.h"
#include "popseg/sha256.h"
#include "popseg/error.h"
#include "popseg/matrix.h"
#include "popseg/table.h"

static int g_rank, g_size;
static char g_tmp[512];
static const char *g_src = ".";

/* ------------------------------------------------------------------------ */
/* Helpers                                                                  */

static ps_err_t parse_n(const char *s, size_t n, ps_csv_t **c) {
  ps_error_clear();
  return ps_csv_parse(s, n, "mem.csv", c);
}
static ps_err_t parse(const char *s, ps_csv_t **c) {
  return parse_n(s, strlen(s), c);
}

static const char *cellp(const ps_csv_t *c, int64_t i, int64_t j) {
  return c->cells[i * c->n_cols + j];
}

/* The recorded message contains every given fragment (NULL-terminated list). */
static int msg_has(const char *first, ...) {
  const char *m = ps_error_message();
  va_list ap;
  int ok = 1;
  va_start(ap, first);
  for (const char *f = first; f; f = va_arg(ap, const char *)) {
    if (!strstr(m, f)) {
      fprintf(stderr, "  message '%s' lacks '%s'\n", m, f);
      ok = 0;
    }
  }
  va_end(ap);
  if (strchr(m, '\n')) ok = 0;
  return ok;
}

/* Parse must fail with PS_ERR_FORMAT and a message naming the fragments. */
#define PARSE_FAILS(text, len, ...)                                                                \
  do {                                                                                             \
    ps_csv_t *c_ = NULL;                                                                           \
    ps_err_t e_ = parse_n((text), (len), &c_);                                                     \
    int ok_ = e_ == PS_ERR_FORMAT && c_ == NULL && msg_has(__VA_ARGS__, (char *)NULL);             \
    T_CHECK(ok_, "parse error: %s", ps_error_message());                                           \
    ps_csv_destroy(&c_);                                                                           \
  } while (0)

static void write_file(const char *path, const char *data, size_t n) {
  FILE *f = fopen(path, "wb");
  if (!f) {
    perror(path);
    MPI_Abort(MPI_COMM_WORLD, 1);
  }
  if (n) fwrite(data, 1, n, f);
  fclose(f);
}

static char *read_all(const char *path, size_t *n) {
  FILE *f = fopen(path, "rb");
  char *b = NULL;
  size_t cap = 0;
  *n = 0;
  if (!f) return NULL;
  for (;;) {
    if (*n + 4096 + 1 > cap) {
      cap = cap ? cap * 2 : 65536;
      b = realloc(b, cap);
    }
    size_t r = fread(b + *n, 1, 4096, f);
    *n += r;
    if (r == 0) break;
  }
  fclose(f);
  b[*n] = '\0';
  return b;
}

/* Write text to a temporary CSV and import it. */
/* Copy a NULL-terminated list of OLD=NEW specs into the options. */
static void set_renames(ps_import_opts_t *o, const char *const *list) {
  int n = 0;
  for (; list && list[n] && n < PS_MAX_RENAMES; n++) o->rename[n] = list[n];
  o->rename[n] = NULL;
}

static ps_err_t import_str(const char *text, const ps_import_opts_t *o, ps_table_t **t) {
  char path[600];
  snprintf(path, sizeof path, "%s/in.csv", g_tmp);
  write_file(path, text, strlen(text));
  ps_error_clear();
  return ps_csv_import(path, o, t);
}

static int fname_is(const ps_table_t *t, int64_t j, const char *s) {
  return strcmp(ps_table_fname(t, j), s) == 0;
}

/* ------------------------------------------------------------------------ */
/* Parser                                                                   */

static void test_parse_ok(void) {
  ps_csv_t *c = NULL;
  ps_err_t e;

  e = parse("a,b\n1,2\n3,4\n", &c);
  T_CHECK(e == PS_OK && c->n_rows == 2 && c->n_cols == 2 && !strcmp(c->header[1], "b") &&
              !strcmp(cellp(c, 1, 0), "3") && !strcmp(cellp(c, 1, 1), "4") &&
              c->line_of_row[0] == 2 && c->line_of_row[1] == 3,
          "simple 2x2 with LF records");
  ps_csv_destroy(&c);

  e = parse("name,v\n\"Smith, John\",1\n\"say \"\"hi\"\"\",2\n\"\",3\n\"\"\"\",4\n", &c);
  T_CHECK(e == PS_OK && c->n_rows == 4 && !strcmp(cellp(c, 0, 0), "Smith, John") &&
              !strcmp(cellp(c, 1, 0), "say \"hi\"") && !strcmp(cellp(c, 2, 0), "") &&
              !strcmp(cellp(c, 3, 0), "\"") && !strcmp(cellp(c, 3, 1), "4"),
          "quoted commas, doubled quotes, empty quoted field, lone quote");
  ps_csv_destroy(&c);

  e = parse("a,b\n\"x\ny\",1\nz,2\n", &c);
  T_CHECK(e == PS_OK && c->n_rows == 2 && !strcmp(cellp(c, 0, 0), "x\ny") &&
              c->line_of_row[0] == 2 && c->line_of_row[1] == 4,
          "LF inside quotes kept; physical line numbers count it");
  ps_csv_destroy(&c);

  e = parse("a,b\r\n\"x\r\ny\",1\r\n\"p\rq\",2\r\nlast,3\r\n", &c);
  T_CHECK(e == PS_OK && c->n_rows == 3 && !strcmp(cellp(c, 0, 0), "x\r\ny") &&
              !strcmp(cellp(c, 1, 0), "p\rq") && !strcmp(cellp(c, 0, 1), "1") &&
              !strcmp(cellp(c, 2, 1), "3") && c->line_of_row[1] == 4 && c->line_of_row[2] == 6,
          "CRLF records; CRLF and CR inside quotes kept byte for byte");
  ps_csv_destroy(&c);

  e = parse("\xEF\xBB\xBFid,x\n1,\xEF\xBB\xBFz\n", &c);
  T_CHECK(e == PS_OK && !strcmp(c->header[0], "id") && !strcmp(cellp(c, 0, 1), "\xEF\xBB\xBFz"),
          "UTF-8 BOM stripped from the first header name only");
  ps_csv_destroy(&c);

  e = parse("a,b\n1,2", &c);
  T_CHECK(e == PS_OK && c->n_rows == 1 && !strcmp(cellp(c, 0, 1), "2"),
          "last line without a trailing newline");
  ps_csv_destroy(&c);

  e = parse("a,b\n1,", &c);
  T_CHECK(e == PS_OK && c->n_rows == 1 && !strcmp(cellp(c, 0, 1), ""),
          "empty last field at end of file");
  ps_csv_destroy(&c);

  e = parse("a,b\n1,\"q\"", &c);
  T_CHECK(e == PS_OK && c->n_rows == 1 && !strcmp(cellp(c, 0, 1), "q"),
          "quoted last field at end of file");
  ps_csv_destroy(&c);

  e = parse("a,b\n1,2\n\n\r\n\n", &c);
  T_CHECK(e == PS_OK && c->n_rows == 1, "blank lines at the end are skipped");
  ps_csv_destroy(&c);

  e = parse("a\n1\n\n2\n", &c);
  T_CHECK(e == PS_OK && c->n_rows == 3 && !strcmp(cellp(c, 1, 0), "") && c->line_of_row[2] == 4,
          "blank line inside a one-column file is an empty field");
  ps_csv_destroy(&c);

  const char utf[] = "State,County\nNew Mexico,Do\xC3\xB1"
                     "a Ana\nPuerto Rico,Bayam\xC3\xB3n\n"
                     "X,\xE2\x82\xAC\xF0\x9F\x98\x80\n";
  e = parse(utf, &c);
  T_CHECK(e == PS_OK &&
              !memcmp(cellp(c, 0, 1),
                      "Do\xC3\xB1"
                      "a Ana",
                      9) &&
              strlen(cellp(c, 0, 1)) == 9 && !strcmp(cellp(c, 1, 1), "Bayam\xC3\xB3n") &&
              !strcmp(cellp(c, 2, 1), "\xE2\x82\xAC\xF0\x9F\x98\x80"),
          "UTF-8 (2-, 3- and 4-byte sequences) kept exactly");
  ps_csv_destroy(&c);
  {
    /* Invalid UTF-8 is refused with the line, the column and the byte: a stray
     * continuation byte, Latin-1, an overlong form, a surrogate, a truncated
     * sequence at the end of a field, above U+10FFFF, in a header name. */
    static const char *const bad[] = {"a,b\n1,x\xFF\n",    "a,b\n1,caf\xE9\n",
                                      "a,b\n1,\xC0\xAF\n", "a,b\n1,\xED\xA0\x80\n",
                                      "a,b\n1,\xE2\x82\n", "a,b\n1,\xF4\x90\x80\x80\n",
                                      "a,b\xFF\n1,2\n"};
    int ok = 1;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
      ps_error_clear();
      e = parse(bad[i], &c);
      const char *m = ps_error_message();
      int header = i + 1 == sizeof bad / sizeof bad[0];
      ok &= e == PS_ERR_FORMAT && c == NULL && strstr(m, "UTF-8") &&
            strstr(m, header ? "mem.csv:1: column 2" : "mem.csv:2: column 2 ('b')");
      ps_csv_destroy(&c);
    }
    T_CHECK(ok, "invalid UTF-8 is refused naming the line, column and byte (%s)",
            ps_error_message());
    ps_error_clear();
  }

  e = parse(" a , b \n 1 ,2\t\n", &c);
  T_CHECK(e == PS_OK && !strcmp(c->header[0], " a ") && !strcmp(cellp(c, 0, 0), " 1 ") &&
              !strcmp(cellp(c, 0, 1), "2\t"),
          "spaces in unquoted fields are data");
  ps_csv_destroy(&c);

  /* The fixture: BOM, CRLF records, CRLF and doubled quotes inside quotes,
   * UTF-8, an empty field, no final newline. */
  char path[1024];
  snprintf(path, sizeof path, "%s/tests/data/csv/crlf_bom.csv", g_src);
  ps_error_clear();
  e = ps_csv_read(path, &c);
  T_CHECK(e == PS_OK && c->n_rows == 3 && c->n_cols == 4 && !strcmp(c->header[0], "Id") &&
              !strcmp(c->header[3], "Value") &&
              !strcmp(cellp(c, 0, 1), "Do\xC3\xB1"
                                      "a Ana") &&
              !strcmp(cellp(c, 0, 2), "line one\r\nline two") &&
              !strcmp(cellp(c, 1, 2), "say \"hi\", ok") && !strcmp(cellp(c, 2, 2), "") &&
              !strcmp(cellp(c, 2, 3), "3e2") && c->line_of_row[1] == 4 && c->line_of_row[2] == 5 &&
              !strcmp(c->path, path),
          "fixture crlf_bom.csv read from disk");
  ps_csv_destroy(&c);
}

static void test_parse_errors(void) {
  PARSE_FAILS("", 0, "mem.csv", "empty file");
  PARSE_FAILS("\n\r\n\n", 4, "empty file");
  PARSE_FAILS("\xEF\xBB\xBF", 3, "empty file");
  PARSE_FAILS("a,b\n", 4, "mem.csv", "no data rows");
  PARSE_FAILS("a,b", 3, "no data rows");
  PARSE_FAILS("a,b\n\n\n", 6, "no data rows");
  PARSE_FAILS("a,b\n1,\"abc\ndef\n", 15, "mem.csv:2:", "column 2 ('b')", "unterminated");
  PARSE_FAILS("a,b\n1,ab\"c\n", 11, "mem.csv:2:", "column 2 ('b')", "stray quote");
  PARSE_FAILS("a,b\n1,\"ab\"c\n", 12, "mem.csv:2:", "column 2 ('b')", "after a closing quote");
  PARSE_FAILS("a,b\n1,\"x\ny\"z\n", 13, "mem.csv:3:", "column 2 ('b')", "after a closing quote");
  PARSE_FAILS("a,b\n1, \"x\"\n", 11, "mem.csv:2:", "stray quote");
  PARSE_FAILS("a,b\n1,2,3\n", 10, "mem.csv:2:", "expected 2 fields", "found 3");
  PARSE_FAILS("a,b\n\"x\ny\",1\n5\n", 14, "mem.csv:4:", "expected 2", "found 1");
  PARSE_FAILS("a,b\n1,2\n\n3,4\n", 13, "mem.csv:3:", "expected 2", "found 1");
  PARSE_FAILS("a,b,a\n1,2,3\n", 12, "mem.csv:1:", "duplicate column name 'a'", "columns 1 and 3");
  PARSE_FAILS("a,b\n1,2\0x\n", 10, "mem.csv:2:", "column 2 ('b')", "NUL byte");
  PARSE_FAILS("a,b\n1,\"2\0x\"\n", 12, "mem.csv:2:", "NUL byte");
  PARSE_FAILS("a,b\r1,2\r", 8, "mem.csv:1:", "carriage return");
  PARSE_FAILS("a\"b,c\n1,2\n", 10, "mem.csv:1:", "column 1", "stray quote");
  /* Adversarial: nothing but quotes. */
  PARSE_FAILS("\"", 1, "unterminated");
  PARSE_FAILS("\"\"\"", 3, "unterminated");
  PARSE_FAILS("\"\"", 2, "no data rows");
  PARSE_FAILS("\"\"\"\"\n\"\"\"\"\"", 10, "mem.csv:2:", "unterminated");
  {
    size_t n = 100001;
    char *q = malloc(n);
    memset(q, '"', n);
    PARSE_FAILS(q, n, "mem.csv:1:", "unterminated");
    free(q);
  }
  ps_error_clear();
  ps_csv_t *c = NULL;
  ps_err_t e = ps_csv_read("/nonexistent/popseg-none.csv", &c);
  T_CHECK(e == PS_ERR_IO && c == NULL &&
              msg_has("/nonexistent/popseg-none.csv", "cannot open", (char *)NULL),
          "missing file: I/O error naming it");
  ps_error_clear();
  e = ps_csv_read("/", &c);
  T_CHECK(e == PS_ERR_IO && c == NULL && msg_has("directory", (char *)NULL),
          "a directory is not a CSV file");
}

/* The FIFO's writer: its text, then end of file. It waits for a reader 10 s
 * at most (a blocking open would wait for ever if the read failed first). */
static void *fifo_writer(void *arg) {
  const char *const *a = arg;
  int fd = -1;
  for (int t = 0; fd < 0 && t < 10000; t++) {
    fd = open(a[0], O_WRONLY | O_NONBLOCK); /* ENXIO until a reader opens */
    if (fd < 0) nanosleep(&(struct timespec){0, 1000000}, NULL);
  }
  if (fd >= 0) fcntl(fd, F_SETFL, 0);
  for (size_t n = strlen(a[1]), done = 0; fd >= 0 && done < n;) {
    ssize_t w = write(fd, a[1] + done, n - done);
    if (w <= 0) break;
    done += (size_t)w;
  }
  if (fd >= 0) close(fd);
  return NULL;
}

/* The sha256 and the digest a CSV read records are those of the bytes it
 * parsed: a FIFO can be read only once, so they cannot come from reading
 * the file again. Both against their definitions (sha256.h: one block's
 * hex line, then the sha256 of the line). */
static void test_read_hashes_bytes_parsed(void) {
  char path[600], line[66], sha[65], digest[65];
  const char *text = "a,b\n1,2\n3,4\n";
  snprintf(path, sizeof path, "%s/fifo.csv", g_tmp);
  ps_sha256_hex(text, strlen(text), sha);
  snprintf(line, sizeof line, "%s\n", sha);
  ps_sha256_hex(line, 65, digest);
  int ok = mkfifo(path, 0600) == 0;
  const char *arg[2] = {path, text};
  pthread_t th;
  ok = ok && pthread_create(&th, NULL, fifo_writer, (void *)arg) == 0;
  ps_csv_t *c = NULL;
  ps_err_t e = ok ? ps_csv_read(path, &c) : PS_ERR_IO;
  if (ok) pthread_join(th, NULL);
  T_CHECK(ok && e == PS_OK && c->n_rows == 2 && !strcmp(c->sha256, sha) &&
              !strcmp(c->digest, digest),
          "a CSV read from a FIFO records the sha256 and digest of the bytes it parsed (%s)",
          c ? c->sha256 : ps_error_message());
  ps_csv_destroy(&c);
  unlink(path);
  ps_error_clear();
}

static void test_parse_big(void) {
  /* A 1 MB quoted field full of commas, doubled quotes and newlines. */
  size_t fl = (size_t)1 << 20;
  char *want = malloc(fl + 1);
  for (size_t i = 0; i < fl; i++) want[i] = "ab,\"\n\r\xC3\xB1x"[i % 9];
  want[fl] = '\0';
  char *text = malloc(2 * fl + 64);
  size_t n = 0;
  n += (size_t)sprintf(text, "id,big\n1,\"");
  for (size_t i = 0; i < fl; i++) {
    if (want[i] == '"') text[n++] = '"';
    text[n++] = want[i];
  }
  n += (size_t)sprintf(text + n, "\"\n2,small\n");
  ps_csv_t *c = NULL;
  ps_err_t e = parse_n(text, n, &c);
  int64_t lfs = 0;
  for (size_t i = 0; i < fl; i++)
    lfs += want[i] == '\n' || (want[i] == '\r' && want[i + 1] != '\n');
  T_CHECK(e == PS_OK && c->n_rows == 2 && strlen(cellp(c, 0, 1)) == fl &&
              !memcmp(cellp(c, 0, 1), want, fl) && !strcmp(cellp(c, 1, 1), "small") &&
              c->line_of_row[1] == 3 + lfs,
          "1 MB quoted field with commas, quotes and newlines");
  ps_csv_destroy(&c);
  free(text);
  free(want);

  /* 100000 columns, then the same with a duplicate at the far end. */
  int nc = 100000;
  text = malloc((size_t)nc * 16 + 64);
  n = 0;
  for (int j = 0; j < nc; j++) n += (size_t)sprintf(text + n, "%sc%d", j ? "," : "", j);
  text[n++] = '\n';
  for (int j = 0; j < nc; j++) n += (size_t)sprintf(text + n, "%s%d", j ? "," : "", j * 3);
  e = parse_n(text, n, &c);
  T_CHECK(e == PS_OK && c->n_cols == nc && c->n_rows == 1 && !strcmp(c->header[nc - 1], "c99999") &&
              !strcmp(cellp(c, 0, nc - 1), "299997"),
          "100000 columns");
  ps_csv_destroy(&c);
  /* The last header name repeats one far earlier. */
  n = 0;
  for (int j = 0; j < nc; j++)
    n += (size_t)sprintf(text + n, "%sc%d", j ? "," : "", j < nc - 1 ? j : 12345);
  text[n++] = '\n';
  for (int j = 0; j < nc; j++) n += (size_t)sprintf(text + n, "%s%d", j ? "," : "", j);
  PARSE_FAILS(text, n, "duplicate column name 'c12345'", "columns 12346 and 100000");
  free(text);
}

/* ------------------------------------------------------------------------ */
/* Import                                                                   */

static void test_import(void) {
  ps_table_t *t = NULL;
  ps_import_opts_t o;
  ps_err_t e;
  memset(&o, 0, sizeof o);

  e = import_str("id,State,County,x,y\n1,A,Bb,1.5,2\n2,Cc,D,3,4\n", &o, &t);
  T_CHECK(e == PS_OK && t->x->n_global == 2 && t->x->n_local == 2 && t->x->row_offset == 0 &&
              t->x->n_cols == 2 && t->ids[0] == 1 && t->ids[1] == 2 &&
              !strcmp(ps_table_name(t, 0), "A-Bb") && !strcmp(ps_table_name(t, 1), "Cc-D") &&
              t->name_width == 5 && t->fname_width == 2 && fname_is(t, 0, "x") &&
              fname_is(t, 1, "y") && t->x->data[0] == 1.5 && t->x->data[3] == 4.0 &&
              t->n_read == 2 && t->n_dropped == 0 && !strcmp(t->dropped_examples, "") &&
              strlen(t->source_sha256) == 64,
          "import: default id (first integer column) and default labels");
  ps_table_destroy(&t);

  e = import_str("x,name,y\n1.5,a,2\n2.5,b,3\n", &o, &t);
  T_CHECK(e == PS_OK && t->x->n_cols == 2 && t->ids[0] == 0 && t->ids[1] == 1 &&
              fname_is(t, 0, "x") && fname_is(t, 1, "y") && !strcmp(ps_table_name(t, 1), "b"),
          "import: non-integer first column is a feature; ids are row numbers");
  ps_table_destroy(&t);

  e = import_str("a,b\n1,2\n1,3\nNA,4\n", &o, &t);
  T_CHECK(e == PS_OK && t->x->n_cols == 2 && t->ids[0] == 0 && t->ids[1] == 1 &&
              !strcmp(ps_table_name(t, 0), "0") && !strcmp(ps_table_name(t, 1), "1") &&
              t->n_dropped == 1 && !strcmp(t->dropped_examples, "2"),
          "import: repeated integers are not an id; names are the row number");
  ps_table_destroy(&t);

  e = import_str("x,y\n1,2\n3,4\n", &o, &t);
  T_CHECK(e == PS_OK && t->x->n_cols == 1 && t->ids[1] == 3 && fname_is(t, 0, "y") &&
              !strcmp(ps_table_name(t, 1), "3"),
          "import: no labels -> the name is the id");
  ps_table_destroy(&t);

  e = import_str("v\n1\n2\n", &o, &t);
  T_CHECK(e == PS_OK && t->x->n_cols == 1 && t->ids[1] == 1 && t->x->data[1] == 2.0,
          "import: a single integer column is a feature, not an id");
  ps_table_destroy(&t);

  o.id_column = "b";
  e = import_str("a,b,c\nx, 10 ,1\ny,-20,2\n", &o, &t);
  T_CHECK(e == PS_OK && t->ids[0] == 10 && t->ids[1] == -20 && t->x->n_cols == 1 &&
              fname_is(t, 0, "c") && !strcmp(ps_table_name(t, 0), "x"),
          "import: explicit --id-column");
  ps_table_destroy(&t);

  o.id_column = "nope";
  e = import_str("a,b,c\nx,10,1\n", &o, &t);
  T_CHECK(e == PS_ERR_ARG && t == NULL && msg_has("--id-column", "'nope'", "in.csv", (char *)NULL),
          "import: unknown --id-column named");
  o.id_column = "b";
  e = import_str("a,b,c\nx,10,1\ny,1.5,2\n", &o, &t);
  T_CHECK(e == PS_ERR_FORMAT &&
              msg_has("in.csv:3:", "--id-column", "'1.5'", "not an integer", (char *)NULL),
          "import: non-integer id value named with its line");
  e = import_str("a,b,c\nx,10,1\ny,99999999999999999999,2\n", &o, &t);
  T_CHECK(e == PS_ERR_FORMAT && msg_has("in.csv:3:", "not an integer", (char *)NULL),
          "import: id beyond int64 rejected");
  e = import_str("a,b,c\nx,10,1\ny,11,2\nz,10,3\n", &o, &t);
  T_CHECK(e == PS_ERR_FORMAT && msg_has("in.csv:4:", "repeats", "line 2", (char *)NULL),
          "import: repeated explicit id rejected");
  o.id_column = "";
  e = import_str("id,x\n5,1\n6,2\n", &o, &t);
  T_CHECK(e == PS_OK && t->x->n_cols == 2 && t->ids[1] == 1 && fname_is(t, 0, "id"),
          "import: --id-column \"\" means no id column");
  ps_table_destroy(&t);
  o.id_column = NULL;

  o.label_columns = "b, a";
  e = import_str("id,a,b,x\n1,p,q,1\n2,r,s,2\n", &o, &t);
  T_CHECK(e == PS_OK && !strcmp(ps_table_name(t, 0), "q-p") && t->x->n_cols == 1 &&
              fname_is(t, 0, "x"),
          "import: explicit --label-columns in the given order");
  ps_table_destroy(&t);
  o.label_columns = "a,zz";
  e = import_str("id,a,b,x\n1,p,q,1\n", &o, &t);
  T_CHECK(e == PS_ERR_ARG && msg_has("--label-columns", "'zz'", (char *)NULL),
          "import: unknown label column named");
  o.label_columns = "a,";
  e = import_str("id,a,b,x\n1,p,q,1\n", &o, &t);
  T_CHECK(e == PS_ERR_ARG && msg_has("--label-columns", (char *)NULL),
          "import: empty name in --label-columns");
  o.label_columns = "a";
  e = import_str("id,a,b,x\n1,p,q,1\n", &o, &t);
  T_CHECK(e == PS_ERR_FORMAT &&
              msg_has("in.csv:2:", "column 3 ('b')", "'q'", "not a number", (char *)NULL),
          "import: non-numeric value in a feature column (after classification)");
  o.label_columns = "";
  e = import_str("id,a,x\n1,p,1\n", &o, &t);
  T_CHECK(e == PS_ERR_FORMAT && msg_has("column 2 ('a')", "not a number", (char *)NULL),
          "import: --label-columns \"\" makes every column a feature");
  o.label_columns = "id";
  e = import_str("id,x\n7,1\n8,2\n", &o, &t);
  T_CHECK(e == PS_OK && !strcmp(ps_table_name(t, 1), "8") && t->ids[1] == 8 && t->x->n_cols == 1,
          "import: the id column may also be the label");
  ps_table_destroy(&t);
  o.label_columns = NULL;

  e = import_str("id,x,y\n1,1,2\n2,2,3\n3,inf,4\n4,5,6\n", &o, &t);
  T_CHECK(e == PS_ERR_FORMAT && msg_has("in.csv:4:", "column 2 ('x')", "'inf'", "not a number",
                                        "--label-columns", (char *)NULL),
          "import: 'inf' in a numeric column is an error, not a label");
  e = import_str("id,x,y\n1,1,2\n2,0x1A,3\n3,2,4\n", &o, &t);
  T_CHECK(e == PS_ERR_FORMAT && msg_has("in.csv:3:", "'0x1A'", (char *)NULL),
          "import: hex numbers rejected");
  e = import_str("id,x,y\n1,1,2\n2,1e999,3\n3,2,4\n", &o, &t);
  T_CHECK(e == PS_ERR_FORMAT && msg_has("in.csv:3:", "'1e999'", (char *)NULL),
          "import: overflowing number rejected");
  e = import_str("id,x,y\n1,1e3,2\n2, 2.5 ,+3\n3,-.5,4E-2\n", &o, &t);
  T_CHECK(e == PS_OK && t->x->data[0] == 1000.0 && t->x->data[2] == 2.5 && t->x->data[3] == 3.0 &&
              t->x->data[4] == -0.5 && t->x->data[5] == 0.04,
          "import: numeric forms (exponent, blanks, signs, leading dot)");
  ps_table_destroy(&t);

  /* Missing values in a feature, a label and the id column. */
  const char *miss = "id,name,x,y\n1,a,1,2\n2,b,,3\n3,c,NA,4\n4,d,5,nan\n5,NaN,6,7\n"
                     "NA,f,8,9\n7,g, na ,10\n8,h,11,12\n";
  e = import_str(miss, &o, &t);
  T_CHECK(e == PS_OK && t->n_read == 8 && t->n_dropped == 6 && t->x->n_global == 2 &&
              t->ids[0] == 1 && t->ids[1] == 8 && !strcmp(ps_table_name(t, 1), "h") &&
              !strcmp(t->dropped_examples, "b, c, d, NaN, f"),
          "import: missing values (empty, NA, nan, NaN, ' na ') drop rows");
  ps_table_destroy(&t);
  e = import_str("id,x\n1,1\n\"NA\",2\n3,3\n", &o, &t);
  T_CHECK(e == PS_OK && t->n_dropped == 1 && !strcmp(t->dropped_examples, "line 3"),
          "import: a row without id or labels is named by its line");
  ps_table_destroy(&t);
  o.missing = PS_MISSING_ERROR;
  e = import_str(miss, &o, &t);
  T_CHECK(e == PS_ERR_FORMAT && t == NULL &&
              msg_has("in.csv:3:", "column 3 ('x')", "missing value (missing = error)",
                      "(--missing)", (char *)NULL),
          "import: --missing=error names line and column");
  o.missing = PS_MISSING_DROP;
  e = import_str("id,x\n1,\n2,NA\n", &o, &t);
  T_CHECK(e == PS_ERR_FORMAT && t == NULL && msg_has("every one of the 2 rows", (char *)NULL),
          "import: all rows dropped is an error");
  e = import_str("id,name\n1,a\n2,b\n", &o, &t);
  T_CHECK(e == PS_ERR_FORMAT && msg_has("no numeric feature columns", (char *)NULL),
          "import: zero features is an error");
  e = import_str("id,x,y\n1,2,3\n4,5\n", &o, &t);
  T_CHECK(e == PS_ERR_FORMAT && msg_has("in.csv:3:", "expected 3", "found 2", (char *)NULL),
          "import: ragged row error passes through");
  e = import_str("id,,y\n1,2,3\n", &o, &t);
  T_CHECK(e == PS_ERR_FORMAT && msg_has("column 2 has an empty name", (char *)NULL),
          "import: empty column name rejected");

  /* Renames. */
  const char *ren1[] = {"CountyId=CensusId", "VotingAgeCitizen=Citizen", NULL};
  set_renames(&o, ren1);
  e = import_str("CountyId,State,VotingAgeCitizen,x\n1,A,10,1\n2,B,20,2\n", &o, &t);
  T_CHECK(e == PS_OK && t->ids[1] == 2 && fname_is(t, 0, "Citizen") && fname_is(t, 1, "x"),
          "import: --rename maps the 2017 names");
  ps_table_destroy(&t);
  const char *ren2[] = {"a=b", "b=a", NULL};
  set_renames(&o, ren2);
  o.label_columns = "a";
  e = import_str("id,a,b\n1,2,x\n", &o, &t);
  T_CHECK(e == PS_OK && !strcmp(ps_table_name(t, 0), "x") && fname_is(t, 0, "b"),
          "import: renames refer to the original names (swap)");
  ps_table_destroy(&t);
  o.label_columns = NULL;
  const char *ren3[] = {"zz=y", NULL};
  set_renames(&o, ren3);
  e = import_str("id,x\n1,2\n", &o, &t);
  T_CHECK(e == PS_ERR_ARG && msg_has("--rename", "'zz'", (char *)NULL),
          "import: --rename of an unknown column");
  const char *ren4[] = {"x", NULL};
  set_renames(&o, ren4);
  e = import_str("id,x\n1,2\n", &o, &t);
  T_CHECK(e == PS_ERR_ARG && msg_has("--rename", "OLD=NEW", (char *)NULL),
          "import: --rename without '='");
  const char *ren5[] = {"x=id", NULL};
  set_renames(&o, ren5);
  e = import_str("id,x\n1,2\n", &o, &t);
  T_CHECK(e == PS_ERR_ARG && msg_has("--rename", "'id'", (char *)NULL),
          "import: --rename making a duplicate name");
  set_renames(&o, NULL);

  ps_error_clear();
  e = ps_csv_import("/nonexistent/x.csv", &o, &t);
  T_CHECK(e == PS_ERR_IO && t == NULL && msg_has("/nonexistent/x.csv", (char *)NULL),
          "import: missing file");
}

/* The census file: facts given by the data's documentation and the task. */
static void test_census(void) {
  char path[1024], sums[1024], want[65] = "", hex[65];
  ps_table_t *t = NULL;
  ps_import_opts_t o;
  memset(&o, 0, sizeof o);
  snprintf(path, sizeof path, "%s/data/acs2015_county_data.csv", g_src);
  snprintf(sums, sizeof sums, "%s/data/SHA256SUMS", g_src);
  size_t n;
  char *s = read_all(sums, &n);
  char *line = s ? strstr(s, "  acs2015_county_data.csv") : NULL;
  if (line && line - s >= 64) memcpy(want, line - 64, 64), want[64] = '\0';
  free(s);
  ps_error_clear();
  ps_err_t e = ps_sha256_file(path, hex);
  T_CHECK(e == PS_OK && strlen(want) == 64 && !strcmp(hex, want),
          "sha256 of the census file matches data/SHA256SUMS");

  ps_error_clear();
  e = ps_csv_import(path, &o, &t);
  int ok = e == PS_OK;
  T_CHECK(ok, "census import: %s", ps_error_message());
  if (!ok) return;
  T_CHECK(t->n_read == 3220 && t->n_dropped == 2 && t->x->n_global == 3218 &&
              t->x->n_local == 3218 && t->x->n_cols == 34,
          "census: 3220 read, 2 dropped, 3218 x 34");
  T_CHECK(!strcmp(t->dropped_examples, "Hawaii-Kalawao, Texas-Loving"),
          "census: dropped Hawaii-Kalawao and Texas-Loving");
  T_CHECK(!strcmp(t->source, path) && !strcmp(t->source_sha256, want),
          "census: source and sha256 recorded");
  T_CHECK(fname_is(t, 0, "TotalPop") && fname_is(t, 33, "Unemployment") &&
              fname_is(t, 9, "Citizen"),
          "census: features in file order, id CensusId and labels State, County excluded");
  T_CHECK(t->ids[0] == 1001 && !strcmp(ps_table_name(t, 0), "Alabama-Autauga") &&
              t->x->data[0] == 55221.0 && t->x->data[33] == 7.6 && t->ids[3217] == 72153 &&
              t->x->data[3217 * 34 + 33] == 27.1,
          "census: first and last rows");
  int found = 0;
  size_t maxlen = 0, fmax = 0;
  for (int64_t i = 0; i < t->x->n_local; i++) {
    if (!strcmp(ps_table_name(t, i), "New Mexico-Do\xC3\xB1"
                                     "a Ana") &&
        t->ids[i] == 35013)
      found = 1;
    if (strlen(ps_table_name(t, i)) > maxlen) maxlen = strlen(ps_table_name(t, i));
  }
  for (int64_t j = 0; j < 34; j++)
    if (strlen(ps_table_fname(t, j)) > fmax) fmax = strlen(ps_table_fname(t, j));
  T_CHECK(found, "census: 'New Mexico-Do\xC3\xB1"
                 "a Ana' present byte-exact");
  T_CHECK(t->name_width == maxlen + 1 && t->fname_width == fmax + 1 &&
              fmax == strlen("IncomePerCapErr"),
          "census: string widths are the longest + 1");
  ps_table_destroy(&t);

  /* 2017 with renames has the 2015 feature names. */
  ps_table_t *t15 = NULL;
  ps_csv_import(path, &o, &t15);
  const char *ren[] = {"CountyId=CensusId", "VotingAgeCitizen=Citizen", NULL};
  set_renames(&o, ren);
  snprintf(path, sizeof path, "%s/data/acs2017_county_data.csv", g_src);
  ps_error_clear();
  e = ps_csv_import(path, &o, &t);
  ok = e == PS_OK && t15 && t->x->n_cols == 34 && t->ids[0] == 1001;
  for (int64_t j = 0; ok && j < 34; j++) ok = !strcmp(ps_table_fname(t, j), ps_table_fname(t15, j));
  T_CHECK(ok, "census 2017 with --rename: same 34 feature names as 2015");
  ps_table_destroy(&t);
  ps_table_destroy(&t15);
}

/* ------------------------------------------------------------------------ */
/* SHA-256                                                                  */

static void test_sha256(void) {
  char hex[65];
  ps_sha256_hex("", 0, hex);
  T_CHECK(!strcmp(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
          "sha256(\"\")");
  ps_sha256_hex("abc", 3, hex);
  T_CHECK(!strcmp(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
          "sha256(\"abc\") (FIPS 180-2 B.1)");
  const char *two = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
  ps_sha256_hex(two, strlen(two), hex);
  T_CHECK(!strcmp(hex, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"),
          "sha256 of the 448-bit message (FIPS 180-2 B.2)");
  char *a = malloc(1000000);
  memset(a, 'a', 1000000);
  char path[600];
  snprintf(path, sizeof path, "%s/million_a", g_tmp);
  write_file(path, a, 1000000);
  free(a);
  ps_error_clear();
  ps_err_t e = ps_sha256_file(path, hex);
  T_CHECK(e == PS_OK &&
              !strcmp(hex, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"),
          "sha256 of a file of one million 'a' (FIPS 180-2 B.3)");
  unlink(path);
  ps_error_clear();
  e = ps_sha256_file("/nonexistent/zz", hex);
  T_CHECK(e == PS_ERR_IO && msg_has("/nonexistent/zz", (char *)NULL), "sha256 of a missing file");
}

/* ------------------------------------------------------------------------ */
/* Writer (collective)                                                      */

static const char *tricky_names[] = {"plain",
                                     "Smith, John",
                                     "say \"hi\"",
                                     "two\nlines",
                                     "cr\r\nlf",
                                     "Do\xC3\xB1"
                                     "a Ana",
                                     "\"",
                                     ",",
                                     "",
                                     "Bayam\xC3\xB3n",
                                     "x\ry"};
#define N_TRICKY ((int64_t)(sizeof tricky_names / sizeof *tricky_names))

static double score_of(int64_t g, int64_t c) {
  switch (c % 4) {
  case 0:
    return sin((double)g + 0.1);
  case 1:
    return 1e-300 * (double)(g + 1);
  case 2:
    return -1.5e300 / (double)(g + 1);
  default:
    return (double)g / 3.0;
  }
}

/* A distributed table of n rows, its results, written to path. */
static ps_err_t write_case_on(const char *path, int64_t n, int64_t k, int force, int bad_rank);
static ps_err_t write_case(const char *path, int64_t n, int64_t k, int force) {
  return write_case_on(path, n, k, force, -1);
}

/* bad_rank, when >= 0, passes no labels on that rank only: a local failure
 * before the first agreement, which must not leave the other ranks waiting. */
static ps_err_t write_case_on(const char *path, int64_t n, int64_t k, int force, int bad_rank) {
  ps_table_t *t = NULL;
  int64_t off, cnt;
  ps_block_range(n, g_size, g_rank, &off, &cnt);
  ps_table_create(cnt, 1, off, n, 16, 2, &t);
  int32_t *lab = malloc((size_t)(cnt + 1) * sizeof *lab);
  double *dist = malloc((size_t)(cnt + 1) * sizeof *dist);
  double *sc = malloc((size_t)(cnt * k + 1) * sizeof *sc);
  for (int64_t i = 0; i < cnt; i++) {
    int64_t g = off + i;
    t->ids[i] = 1000 + g * 7 - (g == 3 ? 5000 : 0);
    snprintf(t->names + i * 16, 16, "%s", tricky_names[g % N_TRICKY]);
    lab[i] = (int32_t)(g % 3);
    dist[i] = (double)g * 0.1 + 1.0 / 3.0;
    for (int64_t c = 0; c < k; c++) sc[i * k + c] = score_of(g, c);
  }
  ps_error_clear();
  ps_err_t e = ps_segments_write(path, force, t, g_rank == bad_rank ? NULL : lab, dist, sc, k,
                                 MPI_COMM_WORLD);
  free(lab);
  free(dist);
  free(sc);
  ps_table_destroy(&t);
  return e;
}

/* Rank 0 reads the file back and compares every field exactly. */
static int verify_case(const char *path, int64_t n, int64_t k) {
  if (g_rank != 0) return 1;
  ps_csv_t *c = NULL;
  int ok = 1;
  char hdr[4096] = "id,name,segment,distance";
  for (int64_t j = 0; j < k; j++)
    snprintf(hdr + strlen(hdr), sizeof hdr - strlen(hdr), ",pc%lld", (long long)j + 1);
  if (n == 0) {
    size_t len;
    char *s = read_all(path, &len);
    strcat(hdr, "\n");
    ok = s && !strcmp(s, hdr);
    free(s);
    return ok;
  }
  ps_error_clear();
  if (ps_csv_read(path, &c) != PS_OK) {
    fprintf(stderr, "  read back: %s\n", ps_error_message());
    return 0;
  }
  char got[4096] = "";
  for (int64_t j = 0; j < c->n_cols; j++)
    snprintf(got + strlen(got), sizeof got - strlen(got), "%s%s", j ? "," : "", c->header[j]);
  ok = !strcmp(got, hdr) && c->n_rows == n && c->n_cols == 4 + k;
  for (int64_t g = 0; ok && g < n; g++) {
    char *e;
    ok = strtoll(cellp(c, g, 0), &e, 10) == 1000 + g * 7 - (g == 3 ? 5000 : 0) && !*e;
    ok = ok && !strcmp(cellp(c, g, 1), tricky_names[g % N_TRICKY]);
    ok = ok && !strcmp(cellp(c, g, 2), g % 3 == 0 ? "0" : g % 3 == 1 ? "1" : "2");
    ok = ok && strtod(cellp(c, g, 3), &e) == (double)g * 0.1 + 1.0 / 3.0 && !*e;
    for (int64_t j = 0; ok && j < k; j++)
      ok = strtod(cellp(c, g, 4 + j), &e) == score_of(g, j) && !*e;
    if (!ok) fprintf(stderr, "  row %lld differs\n", (long long)g);
  }
  ps_csv_destroy(&c);
  return ok;
}

static int no_tmp_left(void) {
  if (g_rank != 0) return 1;
  char cmd[700];
  snprintf(cmd, sizeof cmd, "ls -a '%s' | grep -q 'tmp-'", g_tmp);
  return system(cmd) != 0;
}

static void test_writer(void) {
  char path[600], path2[600];
  ps_err_t e;
  snprintf(path, sizeof path, "%s/seg.csv", g_tmp);
  snprintf(path2, sizeof path2, "%s/seg_chunked.csv", g_tmp);

  int64_t sizes[] = {23, 3, 1, 0};
  for (size_t s = 0; s < sizeof sizes / sizeof *sizes; s++) {
    int64_t n = sizes[s];
    e = write_case(path, n, 3, 1);
    T_CHECK(e == PS_OK && verify_case(path, n, 3) && no_tmp_left(),
            "segments: %lld rows (some ranks empty when fewer than ranks) read back exactly",
            (long long)n);
  }
  e = write_case(path, 23, 0, 1);
  T_CHECK(e == PS_OK && verify_case(path, 23, 0), "segments: k = 0 (no pc columns)");

  /* Tiny write chunks: ranks make different numbers of calls; same bytes. */
  e = write_case(path, 23, 5, 1);
  ps_segments_set_write_chunk(7);
  ps_err_t e2 = write_case(path2, 23, 5, 1);
  ps_segments_set_write_chunk(0);
  int same = 1;
  if (g_rank == 0) {
    size_t n1, n2;
    char *a = read_all(path, &n1), *b = read_all(path2, &n2);
    same = a && b && n1 == n2 && !memcmp(a, b, n1);
    free(a);
    free(b);
  }
  T_CHECK(e == PS_OK && e2 == PS_OK && same && verify_case(path2, 23, 5),
          "segments: 7-byte write chunks give identical bytes");

  /* Existing file without force: every rank gets the error, file untouched. */
  size_t before_n = 0, after_n = 0;
  char *before = g_rank == 0 ? read_all(path, &before_n) : NULL;
  e = write_case(path, 5, 1, 0);
  char *after = g_rank == 0 ? read_all(path, &after_n) : NULL;
  int untouched =
      g_rank != 0 || (before && after && before_n == after_n && !memcmp(before, after, before_n));
  free(before);
  free(after);
  T_CHECK(e == PS_ERR_IO && untouched && no_tmp_left() &&
              (g_rank != 0 || msg_has("exists", "--force", (char *)NULL)),
          "segments: existing output without --force fails on every rank");
  e = write_case(path, 5, 1, 1);
  T_CHECK(e == PS_OK && verify_case(path, 5, 1), "segments: --force overwrites");
  e = write_case("/nonexistent/dir/seg.csv", 5, 1, 1);
  T_CHECK(e == PS_ERR_IO, "segments: missing output directory fails on every rank");

  /* A formatting failure on the last rank only: every rank returns the error
   * (a hang here is caught by the runner's timeout), nothing is left behind. */
  snprintf(path2, sizeof path2, "%s/seg_fail.csv", g_tmp);
  /* Rows in whole blocks of PS_ROW_BLOCK: enough that the last rank has some. */
  e = write_case_on(path2, (int64_t)PS_ROW_BLOCK * (g_size - 1) + 23, 2, 1, g_size - 1);
  T_CHECK(e == PS_ERR_INTERNAL && no_tmp_left() && access(path2, F_OK) != 0,
          "segments: a failure on rank %d only is reported on every rank, no file left",
          g_size - 1);
}

/* ------------------------------------------------------------------------ */
/* Driver modes                                                             */

static int run_segments(int argc, char **argv) {
  ps_table_t *whole = NULL, *t = NULL;
  ps_import_opts_t o;
  ps_err_t err = PS_OK;
  memset(&o, 0, sizeof o);
  int64_t k = atoll(argv[4]);
  set_renames(&o, argc > 5 ? (const char *const *)(argv + 5) : NULL);
  if (g_rank == 0) err = ps_csv_import(argv[2], &o, &whole);
  err = ps_err_agree(MPI_COMM_WORLD, err);
  if (err != PS_OK) return 1;
  err = ps_table_scatter(whole, 0, MPI_COMM_WORLD, &t);
  if (err != PS_OK) return 1;
  int64_t n = t->x->n_local, d = t->x->n_cols;
  if (k > d) k = d;
  int32_t *lab = malloc((size_t)(n + 1) * sizeof *lab);
  double *dist = malloc((size_t)(n + 1) * sizeof *dist);
  double *sc = malloc((size_t)(n * k + 1) * sizeof *sc);
  for (int64_t i = 0; i < n; i++) {
    int64_t m = t->ids[i] % 7;
    lab[i] = (int32_t)(m < 0 ? m + 7 : m);
    dist[i] = (double)(t->x->row_offset + i) / 4.0;
    for (int64_t c = 0; c < k; c++) sc[i * k + c] = t->x->data[i * d + c];
  }
  err = ps_segments_write(argv[3], 1, t, lab, dist, sc, k, MPI_COMM_WORLD);
  free(lab);
  free(dist);
  free(sc);
  ps_table_destroy(&t);
  ps_table_destroy(&whole);
  return err == PS_OK ? 0 : 1;
}

int main(int argc, char **argv) {
  MPI_Init(&argc, &argv);
  ps_error_set_namer(ps_cli_flag_of); /* messages name the flags, as in popseg */
  MPI_Comm_rank(MPI_COMM_WORLD, &g_rank);
  MPI_Comm_size(MPI_COMM_WORLD, &g_size);
  T_INIT();
  if (getenv("POPSEG_SRCDIR")) g_src = getenv("POPSEG_SRCDIR");
  int rc = 0;
  if (argc == 3 && !strcmp(argv[1], "--sha256")) {
    char hex[65];
    if (g_rank == 0) {
      if (ps_sha256_file(argv[2], hex) == PS_OK)
        printf("%s\n", hex);
      else
        rc = 1;
    }
    MPI_Finalize();
    return rc;
  }
  if (argc >= 5 && !strcmp(argv[1], "--segments")) {
    rc = run_segments(argc, argv);
    MPI_Finalize();
    return rc;
  }

  /* A directory shared by all ranks. */
  if (g_rank == 0) {
    const char *base = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
    snprintf(g_tmp, sizeof g_tmp, "%s/popseg-test-csv.XXXXXX", base);
    if (!mkdtemp(g_tmp)) {
      perror("mkdtemp");
      MPI_Abort(MPI_COMM_WORLD, 1);
    }
  }
  MPI_Bcast(g_tmp, (int)sizeof g_tmp, MPI_CHAR, 0, MPI_COMM_WORLD);

  if (g_size == 1) {
    test_parse_ok();
    test_parse_errors();
    test_parse_big();
    test_read_hashes_bytes_parsed();
    test_import();
    test_census();
    test_sha256();
  }
  test_writer();

  MPI_Barrier(MPI_COMM_WORLD);
  if (g_rank == 0) {
    char cmd[700];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_tmp);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", g_tmp);
  }
  rc = T_FINISH();
  MPI_Finalize();
  return rc;
}
