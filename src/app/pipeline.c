/* pipeline.c - the commands, stage by stage, with an agreement after each.
 *
 * Every stage is collective; ps_err_agree (directly or inside the stage)
 * makes every rank leave together on the first failure anywhere.
 */
#include "popseg/pipeline.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "popseg/csv.h"
#include "popseg/segments.h"
#include "popseg/h5io.h"
#include "popseg/kmeans.h"
#include "popseg/model.h"
#include "popseg/outfile.h"
#include "popseg/pca.h"
#include "popseg/reduce.h"
#include "popseg/report.h"
#include "popseg/scale.h"
#include "popseg/table.h"

static void setup(const ps_options_t *o) {
  ps_error_set_debug(o->out.debug);
  ps_error_set_verbose(o->out.verbose);
  ps_h5_set_debug(o->out.debug);
  ps_report_set_verbosity(o->out.quiet ? -1 : o->out.verbose ? 1 : 0);
}

/* Collective. Fail now, before any work, if an output cannot be written. */
static ps_err_t precheck_output(const char *path, int force, MPI_Comm comm) {
  ps_outfile_t of;
  ps_err_t err;
  if (!path) return PS_OK;
  err = ps_outfile_begin(&of, path, force, comm);
  if (err != PS_OK) return err;
  /* Only the probe file exists (see ps_outfile_begin); ending with a failure
   * code removes it and unregisters the name. */
  (void)ps_outfile_end(&of, PS_ERR_INTERNAL, comm);
  return PS_OK;
}

/* The same file named twice (x.h5 and ./x.h5 too): directory identity + base name. */
static int same_file(const char *a, const char *b) {
  struct stat sa, sb;
  char da[4096], db[4096];
  const char *ba = strrchr(a, '/'), *bb = strrchr(b, '/');
  snprintf(da, sizeof da, "%.*s", ba ? (int)(ba - a) + 1 : 1, ba ? a : ".");
  snprintf(db, sizeof db, "%.*s", bb ? (int)(bb - b) + 1 : 1, bb ? b : ".");
  if (stat(da, &sa) != 0 || stat(db, &sb) != 0) return strcmp(a, b) == 0;
  return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino &&
         strcmp(ba ? ba + 1 : a, bb ? bb + 1 : b) == 0;
}

static ps_err_t precheck_outputs(const ps_options_t *o, MPI_Comm comm) {
  ps_err_t err = PS_OK;
  const char *outs[3] = {o->out.output, o->out.csv, o->out.report};
  static const char *const opt[3] = {"-o", "--csv", "--report"};
  int rank;
  MPI_Comm_rank(comm, &rank);
  if (rank == 0)
    for (int i = 0; i < 3 && err == PS_OK; i++)
      for (int j = i + 1; j < 3 && err == PS_OK; j++)
        if (outs[i] && outs[j] && same_file(outs[i], outs[j]))
          err = ps_error(PS_ERR_ARG, __FILE__, __LINE__, "%s and %s name the same file '%s'",
                         opt[i], opt[j], outs[j]);
  PS_AGREE(comm);
  PS_TRY(precheck_output(o->out.output, o->out.force, comm));
  PS_TRY(precheck_output(o->out.csv, o->out.force, comm));
  PS_TRY(precheck_output(o->out.report, o->out.force, comm));
cleanup:
  return err;
}

static int ends_with(const char *s, const char *suf) {
  size_t a = strlen(s), b = strlen(suf);
  return a >= b && strcmp(s + a - b, suf) == 0;
}

/* HDF5 by signature, or by extension (so that a text file named .h5 gets
 * the HDF5 reader's "not an HDF5 file" message rather than a CSV error). */
static int looks_hdf5(const char *path) {
  return ps_h5_is_hdf5(path) || ends_with(path, ".h5") || ends_with(path, ".hdf5") ||
         ends_with(path, ".he5");
}

/* Memory available to each rank on this node, in bytes. */
static double mem_per_rank(MPI_Comm comm) {
  MPI_Comm node;
  int node_size = 1;
  double avail = 0;
  FILE *f = fopen("/proc/meminfo", "r");
  if (f) {
    char line[256];
    while (fgets(line, sizeof line, f)) {
      unsigned long long kb;
      if (sscanf(line, "MemAvailable: %llu kB", &kb) == 1) avail = (double)kb * 1024.0;
    }
    fclose(f);
  }
  /* A batch job is usually confined to a cgroup smaller than the node. */
  {
    /* cgroup v2 ("0::/path" -> memory.max) or v1 ("N:memory:/path" -> limit_in_bytes). */
    char cg2[512] = "", cg1[512] = "", path[1100];
    FILE *c = fopen("/proc/self/cgroup", "r");
    if (c) {
      char line[512];
      while (fgets(line, sizeof line, c)) {
        line[strcspn(line, "\n")] = '\0';
        const char *m = strstr(line, ":memory:");
        if (strncmp(line, "0::", 3) == 0)
          snprintf(cg2, sizeof cg2, "%s", line + 3);
        else if (m)
          snprintf(cg1, sizeof cg1, "%s", m + 8);
      }
      fclose(c);
    }
    f = NULL;
    if (cg1[0]) {
      snprintf(path, sizeof path, "/sys/fs/cgroup/memory%s/memory.limit_in_bytes",
               strcmp(cg1, "/") ? cg1 : "");
      f = fopen(path, "r");
    }
    if (!f && cg2[0]) {
      snprintf(path, sizeof path, "/sys/fs/cgroup%s/memory.max", strcmp(cg2, "/") ? cg2 : "");
      f = fopen(path, "r");
    }
  }
  if (f) {
    unsigned long long lim;
    if (fscanf(f, "%llu", &lim) == 1 && (avail <= 0 || (double)lim < avail)) avail = (double)lim;
    fclose(f);
  }
  if (MPI_Comm_split_type(comm, MPI_COMM_TYPE_SHARED, 0, MPI_INFO_NULL, &node) == MPI_SUCCESS) {
    MPI_Comm_size(node, &node_size);
    MPI_Comm_free(&node);
  }
  return avail > 0 ? avail / node_size : 0;
}

/* Collective. Refuse, before reading, a problem that will not fit: the rows
 * (features, scaled copy, projection, scratch) spread over the ranks plus the
 * replicated d x d covariance and eigenvectors on every rank. */
static ps_err_t memory_check(const ps_options_t *o, const char *path, MPI_Comm comm) {
  ps_err_t err = PS_OK;
  int rank, size;
  int64_t n = 0, d = 0;
  MPI_Comm_rank(comm, &rank);
  MPI_Comm_size(comm, &size);
  /* Decided on rank 0: other ranks may not even see the file's name the same way. */
  int is_h5 = rank == 0 ? looks_hdf5(path) : 0;
  PS_CALL_MPI(MPI_Bcast(&is_h5, 1, MPI_INT, 0, comm));
  if (is_h5) {
    PS_TRY(ps_h5_probe(path, comm, &n, &d));
  } else {
    struct stat st;
    /* A CSV is parsed whole on rank 0: about 3x its size, plus a value per 4 bytes. */
    int64_t bytes = 0;
    if (rank == 0 && stat(path, &st) == 0) bytes = (int64_t)st.st_size;
    PS_CALL_MPI(MPI_Bcast(&bytes, 1, MPI_INT64_T, 0, comm));
    n = bytes / 4;
    d = 1;
  }
  double avail =
      o->out.max_memory_gib > 0 ? o->out.max_memory_gib * 1073741824.0 : mem_per_rank(comm);
  double minavail = avail;
  PS_TRY(ps_reduce_min(&minavail, 1, comm));
  if (minavail <= 0) goto cleanup; /* unknown: do not guess */
  double rows_total = (double)n * (double)d * 8.0 * 3.0 + (double)n * 64.0;
  double fixed = (double)d * (double)d * 8.0 * 4.0 + 16.0 * 1048576.0; /* + runtime baseline */
  double need = rows_total / size + fixed;
  if (need > minavail) {
    double gib = 1073741824.0;
    if (fixed >= minavail) {
      PS_CHECK(0, PS_ERR_MEM,
               "%s: %lld features need %.1f GiB per rank for the covariance alone, %.1f GiB "
               "available per rank (--max-memory or fewer ranks per node)",
               path, (long long)d, fixed / gib, minavail / gib);
    }
    double ranks_needed = ceil(rows_total / (minavail - fixed));
    PS_CHECK(0, PS_ERR_MEM,
             "%s: %lld x %lld needs ~%.1f GiB per rank at %d ranks but %.1f GiB is available "
             "per rank; use at least %.0f ranks (spread over more nodes)",
             path, (long long)n, (long long)d, need / gib, size, minavail / gib, ranks_needed);
  }
cleanup:
  return ps_err_agree(comm, err);
}

/* Collective. The input exists and is a file; is it HDF5? */
static ps_err_t check_input(const char *path, MPI_Comm comm, int *is_h5) {
  ps_err_t err = PS_OK;
  int rank;
  MPI_Comm_rank(comm, &rank);
  *is_h5 = 0;
  if (rank == 0) {
    struct stat st;
    PS_CHECK(stat(path, &st) == 0, PS_ERR_IO, "%s: no such file", path);
    PS_CHECK(!S_ISDIR(st.st_mode), PS_ERR_IO, "%s: is a directory, not a data file", path);
    *is_h5 = looks_hdf5(path);
  }
cleanup:
  err = ps_err_agree(comm, err);
  if (err == PS_OK && MPI_Bcast(is_h5, 1, MPI_INT, 0, comm) != MPI_SUCCESS)
    err = ps_error(PS_ERR_MPI, __FILE__, __LINE__, "MPI_Bcast failed");
  return err;
}

/* Collective. Read a table from HDF5 (parallel) or CSV (rank 0 parses, then scatter). */
static ps_err_t read_input(const ps_options_t *o, const char *path, MPI_Comm comm,
                           ps_table_t **out) {
  ps_err_t err = PS_OK;
  ps_table_t *whole = NULL;
  int rank, is_h5 = 0;
  MPI_Comm_rank(comm, &rank);
  *out = NULL;
  PS_TRY(check_input(path, comm, &is_h5));
  if (is_h5) {
    PS_TRY(ps_h5_read_table(path, comm, out));
  } else {
    if (rank == 0) err = ps_csv_import(path, &o->import, &whole);
    PS_AGREE(comm);
    PS_TRY(ps_table_scatter(whole, 0, comm, out));
  }
cleanup:
  ps_table_destroy(&whole);
  return err;
}

ps_err_t ps_pipeline_import(const ps_options_t *o, MPI_Comm comm) {
  ps_err_t err = PS_OK;
  ps_table_t *t = NULL;
  int size;
  MPI_Comm_size(comm, &size);
  setup(o);
  ps_outfile_defer(1);
  double t0 = MPI_Wtime();
  PS_TRY(precheck_output(o->out.output, o->out.force, comm));
  PS_TRY(read_input(o, o->input, comm, &t));
  ps_report_progress(comm, "read %lld rows x %lld features from %s (%lld of %lld dropped%s%s)",
                     (long long)t->x->n_global, (long long)t->x->n_cols, o->input,
                     (long long)t->n_dropped, (long long)t->n_read, t->n_dropped ? ": " : "",
                     t->dropped_examples);
  PS_TRY(ps_h5_write_table(o->out.output, o->out.force, t, comm));
cleanup:
  err = ps_outfile_commit(err, comm);
  if (err == PS_OK)
    ps_report_progress(comm, "wrote %s on %d ranks in %.3f s", o->out.output, size,
                       MPI_Wtime() - t0);
  ps_table_destroy(&t);
  return err;
}

ps_err_t ps_pipeline_info(const ps_options_t *o, MPI_Comm comm) {
  ps_err_t err = PS_OK;
  ps_table_t *t = NULL;
  setup(o);
  PS_TRY(read_input(o, o->input, comm, &t));
  PS_TRY(ps_report_info(t, comm));
cleanup:
  ps_table_destroy(&t);
  return err;
}

typedef struct {
  MPI_Comm comm;
  int n_init;
} run_cb_ctx_t;

static void on_kmeans_run(void *ctx, int run, int iterations, double inertia, int converged) {
  run_cb_ctx_t *c = ctx;
  ps_report_progress(c->comm, "  k-means run %d/%d: %d iterations, inertia %.10g%s", run + 1,
                     c->n_init, iterations, inertia, converged ? "" : " (max-iter reached)");
}

ps_err_t ps_pipeline_run(const ps_options_t *o, MPI_Comm comm) {
  ps_err_t err = PS_OK;
  ps_table_t *t = NULL;
  ps_scale_t *sc = NULL;
  ps_pca_t *pca = NULL;
  ps_matrix_t *proj = NULL;
  ps_kmeans_t *km = NULL;
  double *cf = NULL;
  double times[PS_T_COUNT] = {0};
  char keep_reason[256];
  int size;
  MPI_Comm_size(comm, &size);
  setup(o);
  ps_outfile_defer(1);

  PS_TRY(precheck_outputs(o, comm));
  PS_TRY(memory_check(o, o->input, comm));

  double t0 = MPI_Wtime();
  PS_TRY(read_input(o, o->input, comm, &t));
  PS_TRY(ps_table_check_finite(t, comm));
  times[PS_T_READ] = MPI_Wtime() - t0;
  ps_report_progress(comm, "read    %lld rows x %lld features from %s on %d ranks (%.3f s)",
                     (long long)t->x->n_global, (long long)t->x->n_cols, o->input, size,
                     times[PS_T_READ]);
  if (t->n_dropped)
    ps_report_progress(comm, "        dropped %lld of %lld rows with missing values: %s",
                       (long long)t->n_dropped, (long long)t->n_read, t->dropped_examples);
  ps_report_verbose(comm, "rows %lld..%lld", (long long)t->x->row_offset,
                    (long long)(t->x->row_offset + t->x->n_local - 1));

  t0 = MPI_Wtime();
  PS_TRY(ps_scale_fit(t->x, &o->scale, t->feature_names, t->fname_width, comm, &sc));
  ps_scale_apply(sc, t->x);
  times[PS_T_SCALE] = MPI_Wtime() - t0;
  ps_report_progress(comm, "scale   %s (%.3f s)", ps_scale_kind_name(o->scale.kind),
                     times[PS_T_SCALE]);
  if (sc->n_constant)
    ps_report_progress(comm, "        note: %lld constant column(s) scale to 0 (first: %s)",
                       (long long)sc->n_constant, ps_table_fname(t, sc->first_constant));

  t0 = MPI_Wtime();
  PS_TRY(ps_pca_fit(t->x, &o->pca, comm, &pca));
  err = ps_pca_project(pca, t->x, pca->n_kept, &proj);
  PS_AGREE(comm);
  times[PS_T_PCA] = MPI_Wtime() - t0;
  {
    double cum = 0;
    for (int64_t i = 0; i < pca->n_kept; i++) cum += pca->explained_variance_ratio[i];
    if (o->pca.keep > 0)
      snprintf(keep_reason, sizeof keep_reason, "--pca-keep %lld (cumulative ratio %.5f)",
               (long long)pca->n_kept, cum);
    else
      snprintf(keep_reason, sizeof keep_reason,
               "the fewest components reaching --pca-variance %.4g: %lld explain %.5f",
               o->pca.variance, (long long)pca->n_kept, cum);
    ps_report_progress(comm,
                       "pca     %lld of %lld components fitted with %s (grid %dx%d); kept %lld "
                       "explaining %.5f (%.3f s)",
                       (long long)pca->p, (long long)pca->d, ps_pca_solver_name(pca->solver_used),
                       pca->grid_rows, pca->grid_cols, (long long)pca->n_kept, cum,
                       times[PS_T_PCA]);
  }

  t0 = MPI_Wtime();
  {
    ps_kmeans_opts_t ko = o->kmeans;
    run_cb_ctx_t ctx = {comm, ko.n_init};
    ko.on_run = on_kmeans_run;
    ko.cb_ctx = &ctx;
    ps_report_progress(comm, "k-means k = %lld, init %s, %d run(s), seed %llu", (long long)ko.k,
                       ps_kmeans_init_name(ko.init), ko.n_init, (unsigned long long)ko.seed);
    PS_TRY(ps_kmeans_fit(proj, &ko, comm, &km));
  }
  times[PS_T_KMEANS] = MPI_Wtime() - t0;
  ps_report_progress(comm, "k-means best run %d: inertia %.10g after %d iterations (%.3f s)",
                     km->best_run + 1, km->inertia, km->iterations, times[PS_T_KMEANS]);
  if (km->few_distinct)
    ps_report_progress(comm,
                       "        warning: fewer distinct rows than k = %lld; some segments "
                       "share identical points",
                       (long long)km->k);

  /* Centroids in the original units: inverse projection, then inverse scaling. */
  cf = malloc((size_t)(km->k * pca->d) * sizeof *cf);
  err = cf ? PS_OK : ps_error(PS_ERR_MEM, __FILE__, __LINE__, "out of memory");
  PS_AGREE(comm);
  ps_pca_inverse(pca, km->centroids, km->k, pca->n_kept, cf);
  ps_scale_inverse(sc, cf, km->k);

  t0 = MPI_Wtime();
  if (o->out.csv)
    PS_TRY(ps_segments_write(o->out.csv, o->out.force, t, km->labels, km->distance, proj->data,
                             pca->n_kept, comm));
  times[PS_T_WRITE] = MPI_Wtime() - t0;
  if (o->out.output) {
    ps_results_t r;
    memset(&r, 0, sizeof r);
    r.table = t;
    r.scale = sc;
    r.pca = pca;
    r.projection = proj;
    r.km = km;
    r.centroids_features = cf;
    r.command_line = o->command_line;
    r.n_ranks = size;
    memcpy(r.times, times, sizeof times);
    r.init_name = ps_kmeans_init_name(o->kmeans.init);
    r.n_init = o->kmeans.n_init;
    r.seed = o->kmeans.seed;
    PS_TRY(ps_h5_write_results(o->out.output, o->out.force, &r, comm));
  }
  times[PS_T_WRITE] = MPI_Wtime() - t0;
  if (o->out.output || o->out.csv)
    ps_report_progress(comm, "write   %s%s%s (%.3f s)", o->out.output ? o->out.output : "",
                       o->out.output && o->out.csv ? ", " : "", o->out.csv ? o->out.csv : "",
                       times[PS_T_WRITE]);
  {
    ps_report_fit_t rf;
    memset(&rf, 0, sizeof rf);
    rf.table = t;
    rf.xs = t->x;
    rf.scale = sc;
    rf.pca = pca;
    rf.projection = proj;
    rf.km = km;
    rf.times = times;
    rf.n_ranks = size;
    rf.pca_keep_reason = keep_reason;
    PS_TRY(ps_report_fit(&rf, o->out.report, o->out.force, comm));
  }
cleanup:
  err = ps_outfile_commit(err, comm);
  free(cf);
  ps_kmeans_destroy(&km);
  ps_matrix_destroy(&proj);
  ps_pca_destroy(&pca);
  ps_scale_destroy(&sc);
  ps_table_destroy(&t);
  return err;
}

/* Collective. Reorder the new table's features into the model's order; a
 * missing or extra feature is an error naming every one of them. */
static ps_err_t match_features(ps_table_t *t, const ps_model_t *m, const char *path,
                               MPI_Comm comm) {
  ps_err_t err = PS_OK;
  int64_t d = m->pca->d, dn = t->x->n_cols;
  int64_t *perm = NULL;
  double *row = NULL;
  char *names = NULL;
  char missing[1024] = "", extra[1024] = "";
  size_t lm = 0, le = 0;
  for (int64_t q = 0; q < dn; q++)
    for (int64_t r = q + 1; r < dn; r++)
      PS_CHECK(strcmp(ps_table_fname(t, q), ps_table_fname(t, r)) != 0, PS_ERR_FORMAT,
               "%s: feature '%s' appears twice (columns %lld and %lld)", path, ps_table_fname(t, q),
               (long long)q + 1, (long long)r + 1);
  perm = malloc((size_t)(d > 0 ? d : 1) * sizeof *perm);
  PS_CHECK_ALLOC(perm);
  for (int64_t j = 0; j < d; j++) {
    const char *want = m->feature_names + (size_t)j * m->fname_width;
    perm[j] = -1;
    for (int64_t q = 0; q < dn; q++)
      if (strncmp(want, ps_table_fname(t, q), m->fname_width) == 0 &&
          strlen(ps_table_fname(t, q)) == strlen(want)) {
        perm[j] = q;
        break;
      }
    if (perm[j] < 0 && lm < sizeof missing - 1)
      lm += (size_t)snprintf(missing + lm, sizeof missing - lm, "%s%s", lm ? "," : "", want);
  }
  for (int64_t q = 0; q < dn; q++) {
    int found = 0;
    for (int64_t j = 0; j < d && !found; j++)
      found = strcmp(m->feature_names + (size_t)j * m->fname_width, ps_table_fname(t, q)) == 0;
    if (!found && le < sizeof extra - 1)
      le += (size_t)snprintf(extra + le, sizeof extra - le, "%s%s", le ? "," : "",
                             ps_table_fname(t, q));
  }
  PS_CHECK(lm == 0 && le == 0 && dn == d, PS_ERR_FORMAT,
           "%s: features do not match the model's%s%s%s%s (use --rename OLD=NEW)", path,
           lm ? "; missing: " : "", missing, le ? "; extra: " : "", extra);
  row = malloc((size_t)(d > 0 ? d : 1) * sizeof *row);
  names = calloc((size_t)(d > 0 ? d : 1), m->fname_width);
  PS_CHECK(row && names, PS_ERR_MEM, "out of memory");
  for (int64_t i = 0; i < t->x->n_local; i++) {
    double *x = t->x->data + i * d;
    for (int64_t j = 0; j < d; j++) row[j] = x[perm[j]];
    memcpy(x, row, (size_t)d * sizeof *row);
  }
  memcpy(names, m->feature_names, (size_t)d * m->fname_width);
  free(t->feature_names);
  t->feature_names = names;
  t->fname_width = m->fname_width;
  names = NULL;
cleanup:
  free(perm);
  free(row);
  free(names);
  return ps_err_agree(comm, err);
}

typedef struct {
  int64_t id;
  int32_t label;
} id_label_t;

static int cmp_id(const void *a, const void *b) {
  int64_t x = ((const id_label_t *)a)->id, y = ((const id_label_t *)b)->id;
  return x < y ? -1 : x > y;
}

/* Collective. How many new rows have an id in the fit, and how many of those
 * changed segment. */
static ps_err_t compare_with_fit(const char *model_path, const ps_table_t *t, const int32_t *labels,
                                 MPI_Comm comm, int64_t *matched, int64_t *changed) {
  ps_err_t err = PS_OK;
  int64_t n = 0, *ids = NULL, cnt[2] = {0, 0};
  int32_t *fl = NULL;
  id_label_t *pairs = NULL;
  PS_TRY(ps_h5_read_fit_labels(model_path, comm, &n, &ids, &fl));
  pairs = malloc((size_t)(n > 0 ? n : 1) * sizeof *pairs);
  err = pairs ? PS_OK : ps_error(PS_ERR_MEM, __FILE__, __LINE__, "out of memory");
  PS_AGREE(comm);
  for (int64_t i = 0; i < n; i++) {
    pairs[i].id = ids[i];
    pairs[i].label = fl[i];
  }
  qsort(pairs, (size_t)n, sizeof *pairs, cmp_id);
  for (int64_t i = 0; i < t->x->n_local; i++) {
    id_label_t key = {t->ids[i], 0};
    id_label_t *hit = bsearch(&key, pairs, (size_t)n, sizeof *pairs, cmp_id);
    if (hit) {
      cnt[0]++;
      if (hit->label != labels[i]) cnt[1]++;
    }
  }
  PS_TRY(ps_reduce_sum_i64(cnt, 2, comm));
  *matched = cnt[0];
  *changed = cnt[1];
cleanup:
  free(ids);
  free(fl);
  free(pairs);
  return err;
}

ps_err_t ps_pipeline_predict(const ps_options_t *o, MPI_Comm comm) {
  ps_err_t err = PS_OK;
  ps_model_t *m = NULL;
  ps_table_t *t = NULL;
  ps_matrix_t *proj = NULL;
  ps_kmeans_t km;
  double times[PS_T_COUNT] = {0};
  int size;
  int64_t matched = 0, changed = 0;
  MPI_Comm_size(comm, &size);
  memset(&km, 0, sizeof km);
  setup(o);
  ps_outfile_defer(1);

  PS_TRY(precheck_outputs(o, comm));
  double t0 = MPI_Wtime();
  PS_TRY(ps_h5_read_model(o->model, comm, &m));
  PS_TRY(memory_check(o, o->input, comm));
  PS_TRY(read_input(o, o->input, comm, &t));
  PS_TRY(match_features(t, m, o->input, comm));
  PS_TRY(ps_table_check_finite(t, comm));
  times[PS_T_READ] = MPI_Wtime() - t0;
  ps_report_progress(comm,
                     "read    model %s (k = %lld, %lld components); %lld rows x %lld "
                     "features from %s on %d ranks (%.3f s)",
                     o->model, (long long)m->k, (long long)m->pca->n_kept,
                     (long long)t->x->n_global, (long long)t->x->n_cols, o->input, size,
                     times[PS_T_READ]);
  if (t->n_dropped)
    ps_report_progress(comm, "        dropped %lld of %lld rows with missing values: %s",
                       (long long)t->n_dropped, (long long)t->n_read, t->dropped_examples);

  t0 = MPI_Wtime();
  ps_scale_apply(m->scale, t->x);
  err = ps_pca_project(m->pca, t->x, m->pca->n_kept, &proj);
  if (err == PS_OK) {
    km.k = m->k;
    km.dim = m->pca->n_kept;
    km.n_local = t->x->n_local;
    km.centroids = m->centroids;
    km.labels = malloc((size_t)(t->x->n_local > 0 ? t->x->n_local : 1) * sizeof *km.labels);
    km.distance = malloc((size_t)(t->x->n_local > 0 ? t->x->n_local : 1) * sizeof *km.distance);
    if (!km.labels || !km.distance) err = ps_error(PS_ERR_MEM, __FILE__, __LINE__, "out of memory");
  }
  PS_AGREE(comm);
  ps_kmeans_assign(m->centroids, m->k, proj, km.labels, km.distance);
  times[PS_T_KMEANS] = MPI_Wtime() - t0;
  PS_TRY(compare_with_fit(o->model, t, km.labels, comm, &matched, &changed));
  ps_report_progress(comm,
                     "predict %lld rows labelled (%.3f s); %lld matched the fit by id, %lld "
                     "changed segment",
                     (long long)t->x->n_global, times[PS_T_KMEANS], (long long)matched,
                     (long long)changed);

  t0 = MPI_Wtime();
  if (o->out.csv)
    PS_TRY(ps_segments_write(o->out.csv, o->out.force, t, km.labels, km.distance, proj->data,
                             m->pca->n_kept, comm));
  times[PS_T_WRITE] = MPI_Wtime() - t0;
  if (o->out.output) {
    ps_results_t r;
    memset(&r, 0, sizeof r);
    r.table = t;
    r.projection = proj;
    r.km = &km;
    r.command_line = o->command_line;
    r.model_path = o->model;
    r.n_ranks = size;
    memcpy(r.times, times, sizeof times);
    PS_TRY(ps_h5_write_results(o->out.output, o->out.force, &r, comm));
  }
  times[PS_T_WRITE] = MPI_Wtime() - t0;
  {
    ps_report_predict_t rp;
    memset(&rp, 0, sizeof rp);
    rp.table = t;
    rp.model = m;
    rp.model_path = o->model;
    rp.labels = km.labels;
    rp.distance = km.distance;
    rp.have_fit = 1;
    rp.matched = matched;
    rp.changed = changed;
    rp.times = times;
    rp.n_ranks = size;
    PS_TRY(ps_report_predict(&rp, o->out.report, o->out.force, comm));
  }
cleanup:
  err = ps_outfile_commit(err, comm);
  free(km.labels);
  free(km.distance);
  ps_matrix_destroy(&proj);
  ps_table_destroy(&t);
  ps_model_destroy(&m);
  return err;
}
