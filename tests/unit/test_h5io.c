/* test_h5io.c - the parallel HDF5 module: tables, results files, models,
 * and every documented error path.
 *
 * Without arguments: self-contained checks in a fresh temporary directory
 * (round trips at this rank count, piecewise transfers, error cases).
 *
 * Driver modes used by tests/t_h5io.sh (with tests/oracle/check_h5.py, which
 * generates the same deterministic data in Python):
 *   test_h5io write-table FILE N D SEED [skew]   write the table (skew: row
 *       blocks are uneven, the first ranks hold no rows)
 *   test_h5io read-table FILE N D SEED [f32]     read it back, compare every value
 *       (f32: the file stores float32 features, as a foreign writer may)
 *   test_h5io write-results FILE N SEED          fake fit results
 *   test_h5io write-predictions FILE N SEED      fake predictions (no model)
 *   test_h5io read-results FILE N SEED           read model + fit labels, compare
 *   test_h5io error-list LIST                    each line of LIST is
 *       KIND<TAB>FILE<TAB>CODE<TAB>TEXT: reading FILE as a table (KIND table, also
 *       probed), a model (model) or fit labels (labels) must fail on every rank
 *       with CODE and a one-line message naming FILE and containing TEXT
 */
#include <dirent.h>
#include <fcntl.h>
#include <hdf5.h>
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "popseg/cli.h"
#include "popseg/error.h"
#include "popseg/h5io.h"
#include "popseg/model.h"
#include "popseg/outfile.h"
#include "popseg/results.h"
#include "popseg/matrix.h"
#include "popseg/model.h"
#include "popseg/table.h"

#define NAME_W 32
#define FNAME_W 20
#define T_SOURCE "data/Doña Ana – census.csv"
#define T_SHA "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define T_DROPPED "Río Arriba, Ñ"
#define R_CMD "popseg run 'Doña Ana.csv' -o out.h5 --k 3"
#define R_MODEL "models/fit Ñ.h5"
#define R_SEED ((uint64_t)9223372036854788153ULL) /* 2^63 + 12345: needs uint64 */

static int g_rank, g_size;

/* --------------------------------------------------- deterministic data */
/* The same functions are in tests/oracle/check_h5.py. */

static uint64_t mix(uint64_t z) {
  z += 0x9E3779B97F4A7C15ULL;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

static uint64_t h3(uint64_t seed, uint64_t a, uint64_t b) {
  return mix(mix(mix(seed) ^ a) ^ (b + 0x632BE59BD9B4E019ULL));
}

/* A value of any sign and magnitude 2^-33..2^31, exact in binary; a few
 * extremes (largest double, smallest subnormal) in column 0. */
static double gen_value(uint64_t seed, int64_t i, int64_t j) {
  if (j == 0 && i % 11 == 5) return 1.7976931348623157e308;
  if (j == 0 && i % 11 == 6) return -4.9406564584124654e-324;
  uint64_t h = h3(seed, (uint64_t)i, (uint64_t)j);
  double frac = (double)(h >> 11) * 0x1p-53;
  return ldexp(frac - 0.5, (int)(h & 63) - 32);
}

static int64_t gen_id(uint64_t seed, int64_t i) {
  return (int64_t)(h3(seed, (uint64_t)i, 0xFFFFFFFFULL) >> 1) - ((int64_t)1 << 62);
}

/* Row names (numbers taken mod 10^6 so they always fit): non-ASCII, names
 * that fill the width exactly (ASCII and multi-byte), and empty names. out has
 * NAME_W zeroed bytes. */
static void gen_name(int64_t i, char *out) {
  size_t len;
  switch (i % 5) {
  case 0:
    snprintf(out, NAME_W, "Doña Ana %d", (int)(i % 1000000));
    break;
  case 1:
    snprintf(out, NAME_W, "Ñandú–東京 %d", (int)(i % 1000000));
    break;
  case 2:
    snprintf(out, NAME_W, "R%d", (int)(i % 1000000));
    for (len = strlen(out); len < NAME_W - 1; len++) out[len] = 'x';
    break;
  case 3:
    snprintf(out, NAME_W, "%d:", (int)(i % 1000000));
    for (len = strlen(out); len + 2 <= NAME_W - 1; len += 2) memcpy(out + len, "é", 2);
    for (; len < NAME_W - 1; len++) out[len] = 'y';
    break;
  default:
    break;
  }
}

static void gen_fname(int64_t j, char *out) {
  size_t len;
  switch (j % 3) {
  case 0:
    snprintf(out, FNAME_W, "Población %d", (int)(j % 10000));
    break;
  case 1:
    snprintf(out, FNAME_W, "f%d", (int)(j % 10000));
    for (len = strlen(out); len < FNAME_W - 1; len++) out[len] = 'z';
    break;
  default:
    snprintf(out, FNAME_W, "feat_%d", (int)(j % 10000));
    break;
  }
}

/* float32 rounding as numpy does it (overflow to infinity). */
static double to_f32(double v) {
  if (fabs(v) > (double)FLT_MAX * (1.0 + 0x1p-24)) return v > 0 ? INFINITY : -INFINITY;
  return (double)(float)v;
}

/* Rows of rank r: balanced, or skewed (ranks below size/2 hold nothing). */
static void rows_of(int64_t n, int skew, int64_t *off, int64_t *cnt) {
  if (!skew || g_size == 1) {
    ps_block_range(n, g_size, g_rank, off, cnt);
    return;
  }
  int first = g_size / 2; /* ranks [first, size) share the rows */
  if (g_rank < first) {
    ps_block_range(n, g_size - first, 0, off, cnt);
    *cnt = 0;
    return;
  }
  ps_block_range(n, g_size - first, g_rank - first, off, cnt);
}

static ps_table_t *make_table(int64_t n, int64_t d, uint64_t seed, int skew) {
  ps_table_t *t = NULL;
  int64_t off, cnt;
  rows_of(n, skew, &off, &cnt);
  if (ps_table_create(cnt, d, off, n, NAME_W, FNAME_W, &t) != PS_OK) return NULL;
  for (int64_t i = 0; i < cnt; i++) {
    for (int64_t j = 0; j < d; j++) t->x->data[i * d + j] = gen_value(seed, off + i, j);
    t->ids[i] = gen_id(seed, off + i);
    gen_name(off + i, t->names + i * NAME_W);
  }
  for (int64_t j = 0; j < d; j++) gen_fname(j, t->feature_names + j * FNAME_W);
  snprintf(t->source, sizeof t->source, "%s", T_SOURCE);
  snprintf(t->source_sha256, sizeof t->source_sha256, "%s", T_SHA);
  snprintf(t->dropped_examples, sizeof t->dropped_examples, "%s", T_DROPPED);
  t->n_read = n + 2;
  t->n_dropped = 2;
  return t;
}

/* Compare a table read back with the generated one; returns the number of
 * mismatches on this rank (printed to stderr). */
static int64_t table_diff(const ps_table_t *t, int64_t n, int64_t d, uint64_t seed, int f32) {
  int64_t bad = 0, off, cnt;
  char name[NAME_W], fname[FNAME_W];
  ps_block_range(n, g_size, g_rank, &off, &cnt);
  if (t->x->n_global != n || t->x->n_cols != d || t->x->n_local != cnt || t->x->row_offset != off ||
      t->name_width > NAME_W || t->fname_width > FNAME_W) {
    fprintf(stderr, "rank %d: shape n=%lld d=%lld local=%lld off=%lld w=%zu fw=%zu\n", g_rank,
            (long long)t->x->n_global, (long long)t->x->n_cols, (long long)t->x->n_local,
            (long long)t->x->row_offset, t->name_width, t->fname_width);
    return 1;
  }
  for (int64_t i = 0; i < cnt; i++) {
    for (int64_t j = 0; j < d; j++) {
      double want = gen_value(seed, off + i, j), got = t->x->data[i * d + j];
      if (f32) want = to_f32(want);
      if (memcmp(&want, &got, sizeof want) != 0 && bad++ < 5)
        fprintf(stderr, "rank %d: value [%lld][%lld] %a != %a\n", g_rank, (long long)(off + i),
                (long long)j, got, want);
    }
    if (t->ids[i] != gen_id(seed, off + i) && bad++ < 5)
      fprintf(stderr, "rank %d: id %lld\n", g_rank, (long long)(off + i));
    memset(name, 0, sizeof name);
    gen_name(off + i, name);
    /* The reader narrows names to the longest (plus its NUL). */
    if (strncmp(name, ps_table_name(t, i), t->name_width) != 0 && bad++ < 5)
      fprintf(stderr, "rank %d: name %lld '%s' != '%s'\n", g_rank, (long long)(off + i),
              ps_table_name(t, i), name);
  }
  for (int64_t j = 0; j < d; j++) {
    memset(fname, 0, sizeof fname);
    gen_fname(j, fname);
    if (strncmp(fname, ps_table_fname(t, j), t->fname_width) != 0 && bad++ < 5)
      fprintf(stderr, "rank %d: feature name %lld '%s'\n", g_rank, (long long)j,
              ps_table_fname(t, j));
  }
  if (strcmp(t->source, T_SOURCE) || strcmp(t->source_sha256, T_SHA) ||
      strcmp(t->dropped_examples, T_DROPPED) || t->n_read != n + 2 || t->n_dropped != 2) {
    fprintf(stderr, "rank %d: attributes '%s' '%s' '%s' %lld %lld\n", g_rank, t->source,
            t->source_sha256, t->dropped_examples, (long long)t->n_read, (long long)t->n_dropped);
    bad++;
  }
  return bad;
}

/* ------------------------------------------------------- fake results */

enum { R_D = 5, R_P = 4, R_K = 3, R_KC = 3, R_RUNS = 2 };

typedef struct {
  ps_table_t *t;
  ps_scale_t scale;
  ps_pca_t pca;
  ps_matrix_t *proj;
  ps_kmeans_t km;
  double offset[R_D], factor[R_D], mean[R_D], comp[R_P * R_D], ev[R_P], evr[R_P], sv[R_P];
  double cent[R_KC * R_K], cent_f[R_KC * R_D], run_inertia[R_RUNS];
  int run_iter[R_RUNS];
  int64_t sizes[R_KC];
  int32_t *labels;
  double *dist;
  ps_results_t r;
} fake_t;

static double tagged(uint64_t seed, int64_t tag, int64_t i) {
  return gen_value(seed, 1000 + tag, i);
}

static int32_t gen_label(int64_t i) {
  return (int32_t)((i * 7) % R_KC);
}

static int make_fake(fake_t *f, int64_t n, uint64_t seed, int predictions) {
  memset(f, 0, sizeof *f);
  f->t = make_table(n, R_D, seed, 0);
  if (!f->t) return 0;
  int64_t nl = f->t->x->n_local, off = f->t->x->row_offset;
  if (ps_matrix_create(nl, R_K, off, n, &f->proj) != PS_OK) return 0;
  f->labels = calloc((size_t)(nl > 0 ? nl : 1), sizeof *f->labels);
  f->dist = calloc((size_t)(nl > 0 ? nl : 1), sizeof *f->dist);
  if (!f->labels || !f->dist) return 0;
  for (int64_t i = 0; i < nl; i++) {
    for (int64_t j = 0; j < R_K; j++) f->proj->data[i * R_K + j] = tagged(seed, 20 + j, off + i);
    f->labels[i] = gen_label(off + i);
    f->dist[i] = fabs(tagged(seed, 30, off + i));
  }
  for (int j = 0; j < R_D; j++) {
    f->offset[j] = tagged(seed, 0, j);
    f->factor[j] = tagged(seed, 1, j);
    f->mean[j] = tagged(seed, 2, j);
  }
  for (int i = 0; i < R_P * R_D; i++) f->comp[i] = tagged(seed, 3, i);
  for (int i = 0; i < R_P; i++) {
    f->ev[i] = tagged(seed, 4, i);
    f->evr[i] = tagged(seed, 5, i);
    f->sv[i] = tagged(seed, 6, i);
  }
  for (int i = 0; i < R_KC * R_K; i++) f->cent[i] = tagged(seed, 7, i);
  for (int i = 0; i < R_KC * R_D; i++) f->cent_f[i] = tagged(seed, 8, i);
  for (int i = 0; i < R_RUNS; i++) f->run_inertia[i] = tagged(seed, 9, i);
  f->run_iter[0] = 17;
  f->run_iter[1] = 4;
  for (int64_t i = 0; i < n; i++) f->sizes[gen_label(i)]++;

  f->scale.kind = PS_SCALE_STANDARD;
  f->scale.d = R_D;
  f->scale.offset = f->offset;
  f->scale.factor = f->factor;
  f->scale.first_constant = -1;
  f->pca.d = R_D;
  f->pca.p = R_P;
  f->pca.n_kept = R_K;
  f->pca.n_samples = n;
  f->pca.solver_used = PS_PCA_SCALAPACK;
  f->pca.total_variance = 12.5;
  f->pca.mean = f->mean;
  f->pca.components = f->comp;
  f->pca.explained_variance = f->ev;
  f->pca.explained_variance_ratio = f->evr;
  f->pca.singular_values = f->sv;
  f->km.k = R_KC;
  f->km.dim = R_K;
  f->km.n_local = nl;
  f->km.centroids = f->cent;
  f->km.labels = f->labels;
  f->km.distance = f->dist;
  f->km.sizes = f->sizes;
  f->km.inertia = 123.25;
  f->km.iterations = 17;
  f->km.converged = 1;
  f->km.best_run = 0;
  f->km.n_runs = R_RUNS;
  f->km.run_inertia = f->run_inertia;
  f->km.run_iterations = f->run_iter;
  f->km.seed = R_SEED;
  f->km.init = PS_KM_INIT_KMEANSPP;

  f->r.table = f->t;
  f->r.projection = f->proj;
  f->r.command_line = R_CMD;
  f->r.n_ranks = g_size;
  /* Rank-dependent times on purpose: the file must hold rank 0's. */
  f->r.times[0] = 0.5 + g_rank;
  f->r.times[1] = 0.25;
  f->r.times[2] = 1.5;
  f->r.times[3] = 2.0;
  f->r.times[4] = 0.125;
  f->r.times[5] = 0.0625;
  if (predictions) {
    f->r.model_path = R_MODEL;
    f->r.labels = f->labels;
    f->r.distance = f->dist;
  } else {
    f->r.km = &f->km;
    f->r.scale = &f->scale;
    f->r.pca = &f->pca;
    f->r.centroids_reconstructed = f->cent_f;
  }
  return 1;
}

static void free_fake(fake_t *f) {
  ps_table_destroy(&f->t);
  ps_matrix_destroy(&f->proj);
  free(f->labels);
  free(f->dist);
}

static int same_doubles(const double *a, const double *b, int64_t n) {
  return memcmp(a, b, (size_t)n * sizeof *a) == 0;
}

/* Compare a model read back with the fake; number of mismatches. */
static int model_diff(const ps_model_t *m, const fake_t *f) {
  int bad = 0;
  char fname[FNAME_W];
  if (!m || !m->scale || !m->pca || m->pca->d != R_D || m->pca->p != R_P || m->pca->n_kept != R_K ||
      m->k != R_KC || m->fname_width != FNAME_W || m->scale->d != R_D) {
    fprintf(stderr, "rank %d: model shape\n", g_rank);
    return 1;
  }
  bad += m->scale->kind != PS_SCALE_STANDARD;
  bad += !same_doubles(m->scale->offset, f->offset, R_D);
  bad += !same_doubles(m->scale->factor, f->factor, R_D);
  bad += !same_doubles(m->pca->mean, f->mean, R_D);
  bad += !same_doubles(m->pca->components, f->comp, R_P * R_D);
  bad += !same_doubles(m->pca->explained_variance, f->ev, R_P);
  bad += !same_doubles(m->pca->explained_variance_ratio, f->evr, R_P);
  bad += !same_doubles(m->pca->singular_values, f->sv, R_P);
  bad += !same_doubles(m->centroids, f->cent, R_KC * R_K);
  bad += m->pca->n_samples != f->pca.n_samples || m->pca->total_variance != 12.5 ||
         m->pca->solver_used != PS_PCA_SCALAPACK;
  for (int j = 0; j < R_D; j++) {
    memset(fname, 0, sizeof fname);
    gen_fname(j, fname);
    bad += memcmp(fname, m->feature_names + j * FNAME_W, FNAME_W) != 0;
  }
  if (bad) fprintf(stderr, "rank %d: %d model mismatches\n", g_rank, bad);
  return bad;
}

/* ------------------------------------------------------------ helpers */

/* Rank 0 holds the message of errors it detected; checks are collective. */
static int msg_has(const char *a, const char *b) {
  const char *m = ps_error_message();
  if (g_rank != 0) return 1;
  if (!strstr(m, a) || (b && !strstr(m, b)) || strchr(m, '\n')) {
    fprintf(stderr, "  message '%s' lacks '%s' / '%s'\n", m, a, b ? b : "");
    return 0;
  }
  return 1;
}

/* Number of ".tmp-" entries in dir (rank 0; others 0). */
static int count_tmp(const char *dir) {
  int c = 0;
  DIR *dp;
  struct dirent *e;
  if (g_rank != 0) return 0;
  dp = opendir(dir);
  if (!dp) return 0;
  while ((e = readdir(dp)) != NULL)
    if (strstr(e->d_name, ".tmp-")) c++;
  closedir(dp);
  return c;
}

static int exists(const char *path) {
  struct stat st;
  return stat(path, &st) == 0;
}

static void rm_dir(const char *dir) {
  DIR *dp = opendir(dir);
  struct dirent *e;
  char p[1024];
  if (!dp) return;
  while ((e = readdir(dp)) != NULL) {
    if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
    snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
    unlink(p);
  }
  closedir(dp);
  rmdir(dir);
}

/* Open file descriptors of this process: a file left open by a failed
 * close (objects still open) shows up here. */
static int count_fds(void) {
  int c = 0;
  DIR *dp = opendir("/proc/self/fd");
  if (!dp) return -1;
  while (readdir(dp) != NULL) c++;
  closedir(dp);
  return c;
}

static int64_t parse_i64(const char *s) {
  return strtoll(s, NULL, 10);
}

/* ------------------------------------------------------ self-contained */

static void round_trip(const char *dir, int64_t n, int64_t d, uint64_t seed, int skew,
                       const char *chunk) {
  char path[600];
  ps_table_t *t = make_table(n, d, seed, skew), *back = NULL;
  ps_err_t e1, e2, e3;
  int64_t pn = -1, pd = -1;
  snprintf(path, sizeof path, "%s/rt_%lld_%lld_%d.h5", dir, (long long)n, (long long)d, skew);
  if (chunk) setenv("POPSEG_IO_CHUNK_BYTES", chunk, 1);
  ps_error_clear();
  e1 = ps_table_write_h5(path, 0, t, MPI_COMM_WORLD);
  e2 = ps_table_read_h5(path, MPI_COMM_WORLD, &back);
  e3 = ps_table_probe_h5(path, MPI_COMM_WORLD, &pn, &pd);
  if (chunk) unsetenv("POPSEG_IO_CHUNK_BYTES");
  T_CHECK(e1 == PS_OK && e2 == PS_OK && back, "table n=%lld d=%lld%s%s: write and read",
          (long long)n, (long long)d, skew ? " skewed" : "", chunk ? " 64-byte pieces" : "");
  T_CHECK(back && table_diff(back, n, d, seed, 0) == 0,
          "table n=%lld d=%lld%s%s: values, ids, names, attributes identical", (long long)n,
          (long long)d, skew ? " skewed" : "", chunk ? " 64-byte pieces" : "");
  T_CHECK(e3 == PS_OK && pn == n && pd == d, "probe n=%lld d=%lld", (long long)n, (long long)d);
  ps_table_destroy(&t);
  ps_table_destroy(&back);
}

/* The features read again after they were released (table.h): every row
 * bit for bit, window by window in order (windows of 512 rows with the
 * 4096-byte pieces: ranks hold different numbers, the agreed count has
 * empty windows), the key columns, and the refusals: a file changed since it
 * was read (its modification time), features that never came from a file. */
/* A table of n x d written to dir/<tag>_n_d_seed.h5 and read back (with
 * POPSEG_IO_CHUNK_BYTES = chunk when given: the caller unsets it). */
static ps_err_t table_file(const char *dir, const char *tag, int64_t n, int64_t d, uint64_t seed,
                           const char *chunk, char *path, size_t cap, ps_table_t **t,
                           ps_table_t **back) {
  snprintf(path, cap, "%s/%s_%lld_%lld_%llu.h5", dir, tag, (long long)n, (long long)d,
           (unsigned long long)seed);
  if (chunk) setenv("POPSEG_IO_CHUNK_BYTES", chunk, 1);
  *t = make_table(n, d, seed, 0);
  *back = NULL;
  ps_error_clear();
  ps_err_t e = ps_table_write_h5(path, 0, *t, MPI_COMM_WORLD);
  if (e == PS_OK) e = ps_table_read_h5(path, MPI_COMM_WORLD, back);
  return e == PS_OK && *back ? PS_OK : (e == PS_OK ? PS_ERR_INTERNAL : e);
}

/* Every window of x read again (ps_table_rows), checked against want
 * [n_local][d] bit for bit and for covering the rows in order; *mixed counts
 * the windows that straddle row `first`. Returns the open's or the close's
 * error; *bad counts the faults. */
static ps_err_t check_windows(ps_table_t *back, const ps_matrix_t *x, const double *want,
                              int64_t first, int64_t *windows, int64_t *bad, int64_t *mixed) {
  ps_table_rows_t *rows = NULL;
  const int64_t d = x->n_cols, nl = x->n_local;
  int64_t covered = 0;
  ps_err_t e = ps_table_rows_open(back, x, MPI_COMM_WORLD, &rows);
  if (e != PS_OK) return e;
  *windows = ps_table_rows_windows(rows);
  for (int64_t w = 0; w < *windows && e == PS_OK; w++) {
    int64_t i0 = -1, i1 = -1;
    const double *v = NULL;
    e = ps_table_rows_window(rows, w, &i0, &i1, &v);
    *mixed += i0 < first && i1 > first;
    *bad += e != PS_OK || i0 != covered || i1 < i0 || i1 > nl ||
            (i1 > i0 && (!want || memcmp(v, want + i0 * d, (size_t)((i1 - i0) * d) * 8) != 0));
    covered = i1;
  }
  *bad += covered != nl;
  return ps_table_rows_close(&rows, e);
}

static void reread(const char *dir, int64_t n, int64_t d, uint64_t seed, const char *chunk) {
  char path[600];
  ps_table_t *t = NULL, *back = NULL;
  ps_table_rows_t *rows = NULL;
  double *keep = NULL, *cols = NULL;
  int64_t bad = 0, windows = -1, nl = 0, mixed = 0, pick[2] = {d - 1, 0};
  ps_err_t e3 = PS_ERR_INTERNAL, e5 = PS_ERR_INTERNAL, e6, e7;
  if (table_file(dir, "reread", n, d, seed, chunk, path, sizeof path, &t, &back) == PS_OK) {
    nl = back->x->n_local;
    keep = malloc((size_t)(nl * d + 1) * sizeof *keep);
    cols = malloc((size_t)(nl * 2 + 1) * sizeof *cols);
    if (keep) memcpy(keep, back->x->data, (size_t)(nl * d) * sizeof *keep);
    ps_matrix_release(back->x);
    e3 = check_windows(back, back->x, keep, 0, &windows, &bad, &mixed);
    e5 = cols ? ps_table_columns(back, back->x, pick, 2, cols, MPI_COMM_WORLD) : PS_ERR_MEM;
    for (int64_t i = 0; e5 == PS_OK && keep && i < nl; i++)
      bad += cols[2 * i] != keep[i * d + d - 1] || cols[2 * i + 1] != keep[i * d];
  }
  /* ceil(ceil(n / 512) / size): the most 512-row blocks a rank holds; a
   * window is wb whole blocks (the piece size's rows, at least one block),
   * so the agreed count is ceil(most / wb). */
  const int64_t most = ((n + 511) / 512 + g_size - 1) / g_size;
  int64_t wb = chunk ? atoll(chunk) / (d * 8) / 512 : 1;
  if (wb < 1) wb = 1;
  T_CHECK(
      e3 == PS_OK && e5 == PS_OK && bad == 0 && (!chunk || windows == (most + wb - 1) / wb),
      "features read again n=%lld d=%lld%s%s: every row bit for bit, in order, in %lld window%s "
      "(%lld rows here), and two key columns",
      (long long)n, (long long)d, chunk ? ", pieces of " : "", chunk ? chunk : "",
      (long long)windows, windows == 1 ? "" : "s", (long long)nl);
  /* The file changes (an older modification time, as a copy over it might
   * leave): refused on every rank, naming the file. */
  int touched = 1;
  if (g_rank == 0) {
    struct timespec ts[2] = {{0, UTIME_OMIT}, {1, 0}};
    touched = utimensat(AT_FDCWD, path, ts, 0) == 0;
  }
  MPI_Bcast(&touched, 1, MPI_INT, 0, MPI_COMM_WORLD);
  T_CHECK(touched, "the table's modification time set back to 1970");
  ps_error_clear();
  e6 = back ? ps_table_rows_open(back, back->x, MPI_COMM_WORLD, &rows) : PS_ERR_INTERNAL;
  T_CHECK(e6 == PS_ERR_IO && !rows && msg_has(path, "changed while popseg ran"),
          "features read again from a file changed since: refused, naming the file");
  ps_table_rows_close(&rows, PS_OK);
  /* Features built in memory (a CSV's) cannot come back once released. */
  ps_error_clear();
  if (t) ps_matrix_release(t->x);
  e7 = t ? ps_table_rows_open(t, t->x, MPI_COMM_WORLD, &rows) : PS_OK;
  T_CHECK(e7 == PS_ERR_INTERNAL && !rows, "released features that came from no file: an error");
  ps_table_rows_close(&rows, PS_OK);
  ps_error_clear();
  if (chunk) unsetenv("POPSEG_IO_CHUNK_BYTES");
  free(keep);
  free(cols);
  ps_table_destroy(&t);
  ps_table_destroy(&back);
}

/* The releasing projection's kept tail (pca.h): rows [0, n_released) come
 * back from the file, the rest from memory. The released rows are made NaN
 * and the kept ones + 1 in memory, so a window that took a released row
 * from memory or a kept one from the file shows it. n_released: the first
 * global block boundary at or past the middle of each rank's rows. */
static void reread_tail(const char *dir, int64_t n, int64_t d, uint64_t seed, const char *chunk) {
  char path[600];
  ps_table_t *t = NULL, *back = NULL;
  double *want = NULL;
  int64_t bad = 0, windows = -1, nl = 0, first = 0, mixed = 0;
  ps_err_t e3 = PS_ERR_INTERNAL;
  if (table_file(dir, "tail", n, d, seed, chunk, path, sizeof path, &t, &back) == PS_OK) {
    ps_matrix_t *x = back->x;
    nl = x->n_local;
    const int64_t mid = x->row_offset + nl / 2;
    first = (mid + 511) / 512 * 512 - x->row_offset;
    if (first > nl) first = nl;
    want = malloc((size_t)(nl * d + 1) * sizeof *want);
    for (int64_t q = 0; want && q < nl * d; q++) {
      want[q] = q < first * d ? x->data[q] : x->data[q] + 1.0;
      x->data[q] = q < first * d ? NAN : x->data[q] + 1.0;
    }
    x->n_released = first;
    e3 = check_windows(back, x, want, first, &windows, &bad, &mixed);
  }
  int64_t agg[2] = {bad, mixed};
  MPI_Allreduce(MPI_IN_PLACE, agg, 2, MPI_INT64_T, MPI_SUM, MPI_COMM_WORLD);
  T_CHECK(e3 == PS_OK && agg[0] == 0,
          "features read again with a kept tail, n=%lld d=%lld%s%s: released rows from the file, "
          "kept ones from memory, bit for bit (%lld window%s here, rows from %lld of %lld kept; "
          "%lld window%s over all ranks straddle the tail's start)",
          (long long)n, (long long)d, chunk ? ", pieces of " : "", chunk ? chunk : "",
          (long long)windows, windows == 1 ? "" : "s", (long long)first, (long long)nl,
          (long long)agg[1], agg[1] == 1 ? "" : "s");
  ps_error_clear();
  if (chunk) unsetenv("POPSEG_IO_CHUNK_BYTES");
  free(want);
  ps_table_destroy(&t);
  ps_table_destroy(&back);
}

static void results_round_trip(const char *dir, int64_t n, const char *chunk) {
  char path[600];
  fake_t f;
  ps_model_t *m = NULL;
  int64_t nn = -1, *ids = NULL;
  int32_t *labels = NULL;
  int ok = make_fake(&f, n, 77, 0), bad = 0;
  snprintf(path, sizeof path, "%s/results_%lld.h5", dir, (long long)n);
  if (chunk) setenv("POPSEG_IO_CHUNK_BYTES", chunk, 1);
  ps_error_clear();
  ps_err_t e1 = ps_results_write(path, 0, &f.r, MPI_COMM_WORLD);
  ps_err_t e2 = ps_model_read(path, MPI_COMM_WORLD, &m);
  ps_err_t e3 = ps_model_read_fit_labels(path, MPI_COMM_WORLD, &nn, &ids, &labels);
  if (chunk) unsetenv("POPSEG_IO_CHUNK_BYTES");
  T_CHECK(ok && e1 == PS_OK && e2 == PS_OK && e3 == PS_OK, "results n=%lld%s: write, read back",
          (long long)n, chunk ? " 64-byte pieces" : "");
  T_CHECK(e2 == PS_OK && model_diff(m, &f) == 0, "results n=%lld%s: model identical", (long long)n,
          chunk ? " 64-byte pieces" : "");
  if (e3 == PS_OK && nn == n) {
    for (int64_t i = 0; i < n; i++) bad += ids[i] != gen_id(77, i) || labels[i] != gen_label(i);
  } else {
    bad = 1;
  }
  T_CHECK(bad == 0, "results n=%lld%s: fit labels and ids identical", (long long)n,
          chunk ? " 64-byte pieces" : "");
  ps_model_destroy(&m);
  free(ids);
  free(labels);
  free_fake(&f);
}

static void error_cases(const char *dir) {
  char path[600], text[600], missing[600], fdir[600], procp[600], bad[600];
  ps_table_t *t = make_table(10, 3, 5, 0), *back = NULL;
  ps_model_t *m = NULL;
  int64_t n = 0, d = 0, *ids = NULL;
  int32_t *labels = NULL;
  fake_t f;
  ps_err_t e;
  int ok_fake = make_fake(&f, 6, 3, 0);

  snprintf(path, sizeof path, "%s/exists.h5", dir);
  snprintf(text, sizeof text, "%s/text.h5", dir);
  snprintf(missing, sizeof missing, "%s/no/such/dir/out.h5", dir);
  snprintf(fdir, sizeof fdir, "%s/text.h5/out.h5", dir); /* a file used as a directory */
  /* /proc passes the directory checks as root but refuses new files: a real
   * failure inside H5Fcreate (root can write to any chmod-ed directory). */
  snprintf(procp, sizeof procp, "/proc/popseg-h5io-test-%ld.h5", (long)getpid());
  if (g_rank == 0) {
    FILE *fp = fopen(text, "w");
    if (fp) {
      fputs("id,name,x\n1,a,2\n", fp);
      fclose(fp);
    }
  }
  MPI_Barrier(MPI_COMM_WORLD);

  ps_error_clear();
  e = ps_table_write_h5(path, 0, t, MPI_COMM_WORLD);
  T_CHECK(e == PS_OK && t, "write a table to overwrite later");
  struct stat st0, st1;
  int have0 = stat(path, &st0) == 0;

  ps_error_clear();
  e = ps_table_write_h5(path, 0, t, MPI_COMM_WORLD);
  T_CHECK(e == PS_ERR_IO && msg_has(path, "exists"), "existing output without force: IO error");
  T_CHECK(have0 && stat(path, &st1) == 0 && st1.st_ino == st0.st_ino &&
              st1.st_mtime == st0.st_mtime,
          "existing output without force: file untouched");
  ps_error_clear();
  e = ps_table_write_h5(path, 1, t, MPI_COMM_WORLD);
  T_CHECK(e == PS_OK && (g_rank != 0 || (stat(path, &st1) == 0 && st1.st_ino != st0.st_ino)),
          "existing output with force: replaced");

  ps_error_clear();
  e = ps_table_write_h5(missing, 0, t, MPI_COMM_WORLD);
  T_CHECK(e == PS_ERR_IO && msg_has(missing, "does not exist"), "output into a missing directory");
  ps_error_clear();
  e = ps_table_write_h5(fdir, 0, t, MPI_COMM_WORLD);
  T_CHECK(e == PS_ERR_IO && msg_has(fdir, NULL), "output under a file used as a directory");
  ps_error_clear();
  e = ps_table_write_h5(procp, 0, t, MPI_COMM_WORLD);
  T_CHECK(e == PS_ERR_IO && msg_has(procp, "cannot create"),
          "output where HDF5 cannot create the file (/proc): IO error");
  T_CHECK(g_rank != 0 || (!exists(procp) && count_tmp("/proc") == 0),
          "failed /proc output left nothing behind");
  ps_error_clear();
  e = ps_results_write(missing, 0, &f.r, MPI_COMM_WORLD);
  T_CHECK(ok_fake && e == PS_ERR_IO && msg_has(missing, NULL), "results into a missing directory");
  ps_error_clear();
  e = ps_results_write(procp, 0, &f.r, MPI_COMM_WORLD);
  T_CHECK(e == PS_ERR_IO && msg_has(procp, NULL), "results where HDF5 cannot create the file");

  /* Inconsistent input to a writer: one rank's row offset is wrong. */
  if (g_size > 1 && g_rank == 1) t->x->row_offset += 1;
  snprintf(bad, sizeof bad, "%s/bad_blocks.h5", dir);
  ps_error_clear();
  e = ps_table_write_h5(bad, 0, t, MPI_COMM_WORLD);
  if (g_size > 1 && g_rank == 1) t->x->row_offset -= 1;
  T_CHECK(g_size == 1 ? e == PS_OK : (e == PS_ERR_INTERNAL && !exists(bad)),
          "row blocks that do not tile the table are refused before writing");
  if (g_rank == 0 && g_size == 1) unlink(bad);

  ps_error_clear();
  snprintf(bad, sizeof bad, "%s/missing.h5", dir);
  e = ps_table_read_h5(bad, MPI_COMM_WORLD, &back);
  T_CHECK(e == PS_ERR_IO && !back && msg_has(bad, NULL), "read a missing file: IO error");
  ps_error_clear();
  e = ps_table_probe_h5(bad, MPI_COMM_WORLD, &n, &d);
  T_CHECK(e == PS_ERR_IO && msg_has(bad, NULL), "probe a missing file: IO error");
  ps_error_clear();
  e = ps_model_read(bad, MPI_COMM_WORLD, &m);
  T_CHECK(e == PS_ERR_IO && !m && msg_has(bad, NULL), "model from a missing file: IO error");
  ps_error_clear();
  e = ps_table_read_h5(text, MPI_COMM_WORLD, &back);
  T_CHECK(e == PS_ERR_FORMAT && !back && msg_has(text, "not an HDF5 file"),
          "read a text file named .h5: format error");
  ps_error_clear();
  e = ps_model_read_fit_labels(text, MPI_COMM_WORLD, &n, &ids, &labels);
  T_CHECK(e == PS_ERR_FORMAT && !ids && !labels && msg_has(text, "not an HDF5 file"),
          "fit labels from a text file: format error");
  ps_error_clear();
  e = ps_model_read(path, MPI_COMM_WORLD, &m);
  T_CHECK(e == PS_ERR_FORMAT && !m && msg_has(path, "/scale"),
          "model from a table file: names /scale");
  ps_error_clear();
  e = ps_model_read_fit_labels(path, MPI_COMM_WORLD, &n, &ids, &labels);
  T_CHECK(e == PS_ERR_FORMAT && !ids && msg_has(path, "/kmeans/labels"),
          "fit labels from a table file: names /kmeans/labels");
  T_CHECK(ps_h5_is_hdf5(path) && !ps_h5_is_hdf5(text) && !ps_h5_is_hdf5(bad) && !ps_h5_is_hdf5(dir),
          "ps_h5_is_hdf5 tells HDF5 files from others");
  T_CHECK(count_tmp(dir) == 0 && (g_rank != 0 || !exists(missing)),
          "no temporary files left after the failures");
  ps_error_clear();
  ps_table_destroy(&t);
  free_fake(&f);
}

/* The temporary file ps_outfile_begin leaves for the writers is empty (the
 * probe's token gone): parallel HDF5 then does not truncate it, which on ext4
 * would make its close write the whole file back. A failed end removes it. */
static void outfile_fresh(const char *dir) {
  char path[600];
  ps_outfile_t of;
  struct stat st;
  snprintf(path, sizeof path, "%s/fresh.h5", dir);
  ps_err_t e = ps_outfile_begin(&of, path, 0, MPI_COMM_WORLD);
  T_CHECK(e == PS_OK, "outfile: begin");
  if (e != PS_OK) return;
  int ok = stat(of.tmp_path, &st) == 0;
  T_CHECK(ok && S_ISREG(st.st_mode) && st.st_size == 0,
          "outfile: the temporary file is there, empty, on rank %d (size %lld)", g_rank,
          ok ? (long long)st.st_size : -1LL);
  MPI_Barrier(MPI_COMM_WORLD);
  e = ps_outfile_end(&of, PS_ERR_IO, MPI_COMM_WORLD);
  MPI_Barrier(MPI_COMM_WORLD); /* rank 0 removes it */
  T_CHECK(e == PS_ERR_IO && !exists(of.tmp_path) && !exists(path),
          "outfile: a failed end removes the temporary file and makes no output");
}

/* ps_h5r_read_strings narrows a string dataset of width w to its longest
 * string plus the NUL (the rows' bytes past their NUL kept up to the new
 * width, as a plain per-row copy keeps them): the longest of lengths[] sets
 * it. Shrinking by 8 bytes or more copies whole words, less by memmove: both,
 * rows that end well before the width, the longest in the last row, and
 * bytes after a NUL (another writer's padding) that the new width cuts. */
static void narrow_case(const char *dir, const char *tag, size_t w, int64_t n, size_t longest) {
  char path[600];
  snprintf(path, sizeof path, "%s/narrow-%s.h5", dir, tag);
  char *src = calloc((size_t)n, w);
  int ok = src != NULL;
  for (int64_t i = 0; ok && i < n; i++) {
    char *row = src + (size_t)i * w;
    size_t len = i == n - 1 ? longest : (size_t)(i * 7 % (int64_t)(longest + 1));
    for (size_t b = 0; b < len; b++) row[b] = (char)('a' + (i + (int64_t)b) % 26);
    if (i % 3 == 1 && len + 2 < w) row[len + 1] = '#'; /* after the NUL */
  }
  if (g_rank == 0 && ok) {
    hid_t f = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    hid_t t = H5Tcopy(H5T_C_S1);
    hsize_t dims[1] = {(hsize_t)n};
    H5Tset_size(t, w);
    H5Tset_strpad(t, H5T_STR_NULLPAD);
    hid_t sp = H5Screate_simple(1, dims, NULL);
    hid_t ds = H5Dcreate2(f, "s", t, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    ok = f >= 0 && ds >= 0 && H5Dwrite(ds, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, src) >= 0;
    H5Dclose(ds);
    H5Sclose(sp);
    H5Tclose(t);
    H5Fclose(f);
  }
  MPI_Allreduce(MPI_IN_PLACE, &ok, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
  int64_t off = 0, cnt = 0, bad = 0;
  ps_block_range(n, g_size, g_rank, &off, &cnt);
  ps_h5r_t *r = NULL;
  char *buf = NULL;
  size_t width = 0;
  ps_err_t err = ok ? ps_h5r_open(path, MPI_COMM_WORLD, &r) : PS_ERR_IO;
  if (err == PS_OK) err = ps_h5r_read_strings(r, "s", off, cnt, 1, &buf, &width);
  if (r) err = ps_h5r_close(&r, err);
  for (int64_t i = 0; err == PS_OK && i < cnt; i++)
    bad += memcmp(buf + (size_t)i * width, src + (size_t)(off + i) * w, width) != 0 ||
           strnlen(buf + (size_t)i * width, width) == width;
  MPI_Allreduce(MPI_IN_PLACE, &bad, 1, MPI_INT64_T, MPI_SUM, MPI_COMM_WORLD);
  T_CHECK(ok && err == PS_OK && width == longest + 1 && bad == 0,
          "strings of width %zu narrowed to %zu (%s, %lld rows): every row's bytes (%lld differ)",
          w, width, tag, (long long)n, (long long)bad);
  free(buf);
  free(src);
}

static void narrow_strings(const char *dir) {
  narrow_case(dir, "words", 32, 1001, 15);  /* 32 -> 16: whole words */
  narrow_case(dir, "exact8", 24, 77, 15);   /* 24 -> 16: by exactly 8 */
  narrow_case(dir, "memmove", 20, 300, 14); /* 20 -> 15: by 5, memmove */
  narrow_case(dir, "odd", 41, 513, 2);      /* 41 -> 3: a partial word */
  narrow_case(dir, "tiny", 16, 3, 0);       /* 3 rows, every string empty: width 1 */
}

static int run_self(void) {
  char dir[512] = "";
  if (g_rank == 0) {
    const char *tmp = getenv("TMPDIR");
    snprintf(dir, sizeof dir, "%s/popseg-h5io.XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(dir)) dir[0] = '\0';
  }
  MPI_Bcast(dir, sizeof dir, MPI_CHAR, 0, MPI_COMM_WORLD);
  if (!T_CHECK(dir[0] != '\0', "temporary directory")) return T_FINISH();

  round_trip(dir, 1000, 5, 11, 0, NULL);
  round_trip(dir, 3, 4, 12, 0, NULL); /* 4 ranks: one holds no rows */
  round_trip(dir, 0, 3, 13, 0, NULL); /* an empty table */
  round_trip(dir, 1, 1, 14, 0, NULL);
  round_trip(dir, 37, 7, 15, 1, NULL); /* skewed: low ranks hold nothing */
  round_trip(dir, 53, 6, 16, 0, "64"); /* one row per piece, many collective calls */
  round_trip(dir, 29, 2, 17, 1, "64");
  reread(dir, 3000, 5, 18, "4096");       /* 6 blocks of 512 rows: 1-6 windows a rank */
  reread(dir, 3000, 5, 20, "61440");      /* windows of 3 blocks: 1 or 2 */
  reread(dir, 700, 3, 19, NULL);          /* one window; 4 ranks: two hold none */
  reread_tail(dir, 5000, 5, 21, "4096");  /* windows of one block: none straddles */
  reread_tail(dir, 5000, 5, 22, "61440"); /* windows of 3 blocks: some straddle */
  reread_tail(dir, 5000, 5, 23, NULL);    /* one window a rank: it straddles */
  results_round_trip(dir, 23, NULL);
  results_round_trip(dir, 2, "64"); /* fewer rows than ranks, pieces */
  narrow_strings(dir);
  outfile_fresh(dir);
  int fds = count_fds();
  error_cases(dir);
  T_CHECK(fds >= 0 && count_fds() == fds, "no file left open after the error cases (%d fds)", fds);
  MPI_Barrier(MPI_COMM_WORLD);
  if (g_rank == 0) rm_dir(dir);
  return T_FINISH();
}

/* --------------------------------------------------------------- modes */

static void run_error_list(const char *list) {
  char line[2048];
  int cases = 0;
  FILE *fp = fopen(list, "r");
  if (!T_CHECK(fp != NULL, "error list %s readable", list)) return;
  while (fgets(line, sizeof line, fp)) {
    char *kind = strtok(line, "\t"), *file = strtok(NULL, "\t"), *code_s = strtok(NULL, "\t");
    char *text = strtok(NULL, "\n");
    int64_t n = 0, d = 0, *ids = NULL;
    int32_t *labels = NULL;
    ps_table_t *t = NULL;
    ps_model_t *m = NULL;
    ps_err_t e, e2 = PS_OK;
    int code, leak;
    if (!kind || !file || !code_s || !text) continue;
    code = (int)parse_i64(code_s);
    ps_error_clear();
    if (!strcmp(kind, "table")) {
      e2 =
          ps_table_probe_h5(file, MPI_COMM_WORLD, &n, &d); /* same verdict; message checked below */
      ps_error_clear();
      e = ps_table_read_h5(file, MPI_COMM_WORLD, &t);
    } else if (!strcmp(kind, "model")) {
      e = ps_model_read(file, MPI_COMM_WORLD, &m);
    } else {
      e = ps_model_read_fit_labels(file, MPI_COMM_WORLD, &n, &ids, &labels);
    }
    leak = t || m || ids || labels;
    T_CHECK((int)e == code && (e2 == PS_OK ? strcmp(kind, "table") != 0 : (int)e2 == code) &&
                !leak && msg_has(file, text),
            "%s %s: error %d naming the file and '%s'", kind,
            strrchr(file, '/') ? strrchr(file, '/') + 1 : file, code, text);
    ps_table_destroy(&t);
    ps_model_destroy(&m);
    free(ids);
    free(labels);
    ps_error_clear();
    cases++;
  }
  fclose(fp);
  T_CHECK(cases > 0, "error list %s: %d cases", list, cases);
}

static int run_mode(int argc, char **argv) {
  const char *mode = argv[1], *file = argv[2];
  ps_err_t e;
  if (!strcmp(mode, "write-table") && argc >= 6) {
    int skew = argc >= 7 && !strcmp(argv[6], "skew");
    ps_table_t *t =
        make_table(parse_i64(argv[3]), parse_i64(argv[4]), (uint64_t)parse_i64(argv[5]), skew);
    e = ps_table_write_h5(file, 1, t, MPI_COMM_WORLD);
    T_CHECK(t && e == PS_OK, "write-table %s n=%s d=%s%s", file, argv[3], argv[4],
            skew ? " skewed" : "");
    ps_table_destroy(&t);
  } else if (!strcmp(mode, "read-table") && argc >= 6) {
    int64_t n = parse_i64(argv[3]), d = parse_i64(argv[4]);
    int f32 = argc >= 7 && !strcmp(argv[6], "f32");
    ps_table_t *t = NULL;
    e = ps_table_read_h5(file, MPI_COMM_WORLD, &t);
    T_CHECK(e == PS_OK && t && table_diff(t, n, d, (uint64_t)parse_i64(argv[5]), f32) == 0,
            "read-table %s n=%s d=%s: every value, id, name and attribute", file, argv[3], argv[4]);
    ps_table_destroy(&t);
  } else if ((!strcmp(mode, "write-results") || !strcmp(mode, "write-predictions")) && argc >= 5) {
    fake_t f;
    int pred = !strcmp(mode, "write-predictions");
    int ok = make_fake(&f, parse_i64(argv[3]), (uint64_t)parse_i64(argv[4]), pred);
    e = ps_results_write(file, 1, &f.r, MPI_COMM_WORLD);
    T_CHECK(ok && e == PS_OK, "%s %s n=%s", mode, file, argv[3]);
    free_fake(&f);
  } else if (!strcmp(mode, "read-results") && argc >= 5) {
    fake_t f;
    ps_model_t *m = NULL;
    int64_t n = parse_i64(argv[3]), nn = -1, *ids = NULL, bad = 0;
    int32_t *labels = NULL;
    uint64_t seed = (uint64_t)parse_i64(argv[4]);
    int ok = make_fake(&f, n, seed, 0);
    e = ps_model_read(file, MPI_COMM_WORLD, &m);
    T_CHECK(ok && e == PS_OK && model_diff(m, &f) == 0, "read-results %s: model identical", file);
    e = ps_model_read_fit_labels(file, MPI_COMM_WORLD, &nn, &ids, &labels);
    if (e == PS_OK && nn == n) {
      for (int64_t i = 0; i < n; i++) bad += ids[i] != gen_id(seed, i) || labels[i] != gen_label(i);
    }
    T_CHECK(e == PS_OK && nn == n && bad == 0, "read-results %s: fit labels identical", file);
    ps_model_destroy(&m);
    free(ids);
    free(labels);
    free_fake(&f);
  } else if (!strcmp(mode, "error-list")) {
    run_error_list(file);
  } else {
    if (g_rank == 0) fprintf(stderr, "test_h5io: unknown mode or missing arguments\n");
    T_CHECK(0, "test_h5io arguments");
  }
  return T_FINISH();
}

int main(int argc, char **argv) {
  int rc;
  MPI_Init(&argc, &argv);
  ps_error_set_namer(ps_cli_flag_of); /* messages name the flags, as in popseg */
  MPI_Comm_rank(MPI_COMM_WORLD, &g_rank);
  MPI_Comm_size(MPI_COMM_WORLD, &g_size);
  T_INIT();
  ps_h5_set_debug(getenv("POPSEG_H5_DEBUG") != NULL);
  rc = argc >= 3 ? run_mode(argc, argv) : run_self();
  MPI_Finalize();
  return rc;
}
