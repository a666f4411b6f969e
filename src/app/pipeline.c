/* pipeline.c - the commands, stage by stage. Orchestration only: options in,
 * each stage called (every one agrees on its errors before the next
 * begins), progress lines out. The statistics are the stages', the checks on
 * paths, memory and features have modules of their own, and the words are
 * the report's.
 */
#include "popseg/pipeline.h"
#include "popseg/mem.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "popseg/features.h"
#include "popseg/h5io.h"
#include "popseg/html.h"
#include "popseg/input.h"
#include "popseg/launch.h"
#include "popseg/log.h"
#include "popseg/memcheck.h"
#include "popseg/model.h"
#include "popseg/outfile.h"
#include "popseg/paths.h"
#include "popseg/prep.h"
#include "popseg/profile.h"
#include "popseg/reduce.h"
#include "popseg/report.h"
#include "popseg/results.h"
#include "popseg/segments.h"
#include "popseg/stats.h"
#include "popseg/sweep.h"
#include "popseg/synth.h"
#include "popseg/textfile.h"

static void setup(const ps_options_t *o, MPI_Comm comm) {
  ps_error_set_debug(o->out.debug);
  ps_error_set_verbose(o->out.verbose);
  ps_h5_set_debug(o->out.debug);
  ps_log_set_verbosity(o->out.quiet ? -1 : o->out.verbose ? 1 : 0);
  for (int i = 0; i < o->n_notes; i++) ps_log_progress(comm, "note    %s", o->notes[i]);
  if (ps_log_verbosity() > 0 && ps_launch_pml_set())
    ps_log_progress(comm,
                    "mpi     one node: OMPI_MCA_pml=%s (Open MPI's cm layer left out; "
                    "OMPI_MCA_pml or mpirun --mca pml chooses)",
                    ps_launch_pml_set());
}

/* Collective. The outputs can be written and none is an input. */
static ps_err_t check_outputs(const ps_options_t *o, MPI_Comm comm) {
  const ps_path_t outs[4] = {{o->out.output, o->command == PS_CMD_IMPORT ? "the output" : "-o"},
                             {o->out.csv, "--csv"},
                             {o->out.report, "--report"},
                             {o->out.html, "--html"}};
  const ps_path_t ins[3] = {{o->input, o->command == PS_CMD_PREDICT ? "the new data" : "the input"},
                            {o->model, "the model"},
                            {o->kmeans.init_from, "--kmeans-init-from"}};
  return ps_paths_check_outputs(outs, 4, ins, 3, o->out.force, comm);
}

/* "results.h5, segments.csv and report.md" of the outputs named. */
static void list_outputs(const ps_options_t *o, char *buf, size_t cap) {
  const char *p[4] = {o->out.output, o->out.csv, o->out.report, o->out.html};
  size_t len = 0;
  int n = 0, total = (p[0] != NULL) + (p[1] != NULL) + (p[2] != NULL) + (p[3] != NULL);
  buf[0] = '\0';
  for (int i = 0; i < 4 && len < cap; i++) {
    if (!p[i]) continue;
    n++;
    len += (size_t)snprintf(buf + len, cap - len, "%s%s",
                            n == 1       ? ""
                            : n == total ? " and "
                                         : ", ",
                            p[i]);
  }
}

/* Collective. The input exists; the import options that only a CSV has are
 * refused for an HDF5 table (renames apply to both). */
static ps_err_t check_input(const ps_options_t *o, const char *path, MPI_Comm comm) {
  ps_err_t err = PS_OK;
  int is_h5 = 0;
  static const char *const csv_only[3][2] = {
      {"--id-column", "its ids are /rows/id"},
      {"--label-columns", "its row names are /rows/name"},
      {"--missing", "it holds no missing values (NaN is refused)"}};
  PS_TRY(ps_input_check(path, comm, &is_h5));
  for (int i = 0; i < 3 && is_h5; i++)
    PS_CHECK(!ps_cli_given(o, csv_only[i][0]), PS_ERR_ARG,
             "%s applies to CSV input only: %s is an HDF5 table (%s)", csv_only[i][0], path,
             csv_only[i][1]);
cleanup:
  return err; /* the same verdict on every rank (is_h5 was broadcast) */
}

static ps_err_t read_input(const ps_options_t *o, const char *path, MPI_Comm comm,
                           ps_table_t **out) {
  ps_err_t err = PS_OK;
  PS_TRY(check_input(o, path, comm));
  PS_TRY(ps_input_read(path, &o->import, comm, out));
  if ((*out)->note[0]) ps_log_progress(comm, "note    %s", (*out)->note);
cleanup:
  return ps_err_agree(comm, err);
}

static void log_read(const ps_table_t *t, const char *path, double secs, MPI_Comm comm) {
  char nr[48];
  int size;
  MPI_Comm_size(comm, &size);
  ps_log_progress(comm, "read    %lld rows x %lld features from %s on %s (%.3f s)",
                  (long long)t->x->n_global, (long long)t->x->n_cols, path,
                  ps_plural_s(nr, size, "rank", "ranks"), secs);
  if (t->n_dropped)
    ps_log_progress(comm, "        dropped %lld of %lld rows with missing values: %s",
                    (long long)t->n_dropped, (long long)t->n_read, t->dropped_examples);
}

ps_err_t ps_pipeline_import(const ps_options_t *o, MPI_Comm comm) {
  ps_err_t err = PS_OK;
  ps_table_t *t = NULL;
  char nr[48];
  int size;
  MPI_Comm_size(comm, &size);
  setup(o, comm);
  ps_outfile_defer(1);
  double t0 = MPI_Wtime();
  PS_TRY(check_outputs(o, comm));
  PS_TRY(read_input(o, o->input, comm, &t));
  ps_log_progress(comm, "read %lld rows x %lld features from %s (%lld of %lld dropped%s%s)",
                  (long long)t->x->n_global, (long long)t->x->n_cols, o->input,
                  (long long)t->n_dropped, (long long)t->n_read, t->n_dropped ? ": " : "",
                  t->dropped_examples);
  PS_TRY(ps_table_write_h5(o->out.output, o->out.force, t, comm));
cleanup:
  err = ps_outfile_commit(err, comm);
  if (err == PS_OK)
    ps_log_progress(comm, "wrote %s on %s in %.3f s", o->out.output,
                    ps_plural_s(nr, size, "rank", "ranks"), MPI_Wtime() - t0);
  ps_table_destroy(&t);
  return err;
}

ps_err_t ps_pipeline_synth(const ps_options_t *o, MPI_Comm comm) {
  ps_err_t err = PS_OK;
  char nr[48];
  int size;
  MPI_Comm_size(comm, &size);
  setup(o, comm);
  ps_outfile_defer(1);
  double t0 = MPI_Wtime();
  PS_TRY(check_outputs(o, comm));
  PS_TRY(ps_synth_write(&o->synth, o->out.output, o->out.force, comm));
cleanup:
  err = ps_outfile_commit(err, comm);
  if (err == PS_OK)
    ps_log_progress(comm,
                    "wrote %s: %lld rows x %lld features, %lld segments, seed %llu, on %s (%.3f s)",
                    o->out.output, (long long)o->synth.rows, (long long)o->synth.features,
                    (long long)o->synth.segments, (unsigned long long)o->synth.seed,
                    ps_plural_s(nr, size, "rank", "ranks"), MPI_Wtime() - t0);
  return err;
}

ps_err_t ps_pipeline_info(const ps_options_t *o, MPI_Comm comm) {
  ps_err_t err = PS_OK;
  ps_table_t *t = NULL;
  ps_table_summary_t s;
  ps_sb_t text = {0};
  int rank;
  MPI_Comm_rank(comm, &rank);
  memset(&s, 0, sizeof s);
  setup(o, comm);
  PS_TRY(read_input(o, o->input, comm, &t));
  PS_TRY(ps_table_summarize(t, comm, &s));
  PS_TRY(ps_table_digest(t, comm));
  if (rank == 0) {
    ps_report_info(t, &s, &text);
    fputs(ps_sb_str(&text), stdout);
    fflush(stdout);
  }
cleanup:
  ps_sb_free(&text);
  ps_table_summary_free(&s);
  ps_table_destroy(&t);
  return err;
}

/* ------------------------------------------------------------------ run */

/* --verbose: each rank's peak resident memory so far, after a stage (for
 * sizing jobs: what a rank needs is about its slice of the table plus this
 * overhead). Not collective. */
static void log_memory(const char *stage, MPI_Comm comm) {
  struct rusage ru;
  if (getrusage(RUSAGE_SELF, &ru) == 0)
    ps_log_verbose(comm, "memory  after %s: peak resident %.0f MiB", stage,
                   (double)ru.ru_maxrss / 1024.0);
}

/* What a fit builds, stage by stage. */
typedef struct {
  ps_table_t *t;    /* the rows: the features after --share and --exclude-columns, and after
                       --transform when one is asked for */
  ps_prep_t prep;   /* the steps before scaling (the model's first) */
  double *weights;  /* [n_local] --weights, or NULL */
  ps_matrix_t *raw; /* with --transform: the features before it (the profile's units) */
  ps_stats_t *st;   /* their statistics (one pass), for scaling and PCA */
  ps_scale_t *sc;
  ps_pca_t *pca;
  ps_matrix_t *proj;
  ps_kmeans_t *km;
  ps_profile_t *profile;
  ps_subseg_t *sub;          /* --subsegments, or NULL */
  ps_profile_t *sub_profile; /* their profile */
  ps_sweep_t *sweep;         /* sweep, or run --k auto; NULL otherwise */
  int km_borrowed;           /* km is the sweep's fit of the suggested k (the sweep owns it) */
  double *reconstructed;     /* [k][d] */
  double *start;             /* [k][start_dim] --kmeans-init-from's centroids, or NULL */
  int64_t start_dim;
  double times[PS_T_COUNT];
  char keep_reason[256];
} fit_t;

static void fit_free(fit_t *f) {
  free(f->start);
  free(f->reconstructed);
  ps_profile_destroy(&f->profile);
  ps_profile_destroy(&f->sub_profile);
  ps_subseg_destroy(&f->sub);
  if (f->km_borrowed) f->km = NULL;
  ps_sweep_destroy(&f->sweep);
  ps_kmeans_destroy(&f->km);
  ps_matrix_destroy(&f->proj);
  ps_pca_destroy(&f->pca);
  ps_scale_destroy(&f->sc);
  ps_stats_destroy(&f->st);
  ps_table_destroy(&f->t);
  ps_matrix_destroy(&f->raw);
  free(f->weights);
}

/* What the features steps did, for the log. */
static void log_prep(const ps_prep_t *p, int64_t d0, int64_t d, MPI_Comm comm) {
  if (p->share[0]) ps_log_progress(comm, "prep    shares: %s", p->share);
  if (p->weights[0]) ps_log_progress(comm, "prep    rows weighted by %s", p->weights);
  if (d0 != d)
    ps_log_progress(comm, "prep    %lld of %lld columns excluded (%s); %lld features",
                    (long long)(d0 - d), (long long)d0, p->exclude, (long long)d);
  if (p->transform != PS_TRANSFORM_NONE)
    ps_log_progress(comm, "prep    %s of %s", ps_transform_name(p->transform),
                    p->transform_columns);
}

static ps_err_t run_read(const ps_options_t *o, fit_t *f, MPI_Comm comm) {
  ps_err_t err = PS_OK;
  double t0 = MPI_Wtime();
  PS_TRY(read_input(o, o->input, comm, &f->t));
  PS_CHECK_ALL(comm, f->t->x->n_global >= 2, PS_ERR_FORMAT,
               "%s: 1 row: PCA and k-means need at least 2 rows", o->input);
  f->times[PS_T_READ] = MPI_Wtime() - t0;
  log_read(f->t, o->input, f->times[PS_T_READ], comm);
  ps_prep_from_opts(&o->prep, &f->prep);
  /* A NaN or an infinity is named before anything computes with the values:
   * without a transform, by the statistics' pass, which finds it at no cost
   * (run_scale); a pass of its own here took 40 ms of the 4M-row read. */
  if (ps_prep_any(&f->prep)) {
    PS_TRY(ps_table_check_finite(f->t, comm));
    const int64_t d0 = f->t->x->n_cols;
    PS_TRY(ps_prep_apply(&f->prep, f->t, 0, comm, &f->weights, &f->raw));
    PS_TRY(ps_table_check_finite(f->t, comm));
    log_prep(&f->prep, d0, f->t->x->n_cols, comm);
  }
  ps_log_verbose(comm, "rows %lld..%lld", (long long)f->t->x->row_offset,
                 (long long)(f->t->x->row_offset + f->t->x->n_local - 1));
cleanup:
  return err;
}

static ps_err_t run_scale(const ps_options_t *o, fit_t *f, MPI_Comm comm) {
  ps_err_t err = PS_OK;
  double t0 = MPI_Wtime();
  /* One pass for the statistics of both scaling and PCA; the rows are never
   * rewritten (the projection scales them on the way). PCA's shape checks
   * come first: a table too wide to solve is refused before the pass. */
  PS_TRY(ps_pca_check(f->t->x->n_global, f->t->x->n_cols, &o->pca, comm));
  PS_TRY(ps_stats_compute_w(f->t->x, f->weights, 1, comm, &f->st));
  if (f->st->nonfinite) {
    /* Names the first such value, in the read's words (every rank agrees). */
    PS_TRY(ps_table_check_finite(f->t, comm));
    PS_CHECK_ALL(comm, 0, PS_ERR_INTERNAL,
                 "%s: the statistics saw a NaN or an infinity that the table check did not find",
                 o->input);
  }
  PS_TRY(
      ps_scale_from_stats(f->st, &o->scale, f->t->feature_names, f->t->fname_width, comm, &f->sc));
  f->times[PS_T_SCALE] = MPI_Wtime() - t0;
  ps_log_progress(comm, "scale   %s (%.3f s)", ps_scale_kind_name(o->scale.kind),
                  f->times[PS_T_SCALE]);
  if (f->sc->n_constant)
    ps_log_progress(comm, "        note: %lld constant column(s) scale to 0 (first: %s)",
                    (long long)f->sc->n_constant, ps_table_fname(f->t, f->sc->first_constant));
cleanup:
  return err;
}

/* The most key figures a row carries for the HTML report (run_write). */
#define KEY_FIGURES 4

/* Not collective. How many bytes of its features a rank may keep after the
 * releasing projection without raising its peak above the read's (the
 * slice): what the slice holds less the projection and the larger of what
 * comes after it: k-means' per-row arrays, or, once k-means has freed its
 * workspace, its result (a label and a distance a row), the key figures and
 * a window of features read again. Only for one k-means (run): the sweep's
 * and the sub-segments' own arrays are not counted, and they keep none.
 * (Weights are a prep step: the features are kept whole.) The tail is freed
 * just before the write, and the page cache of the outputs takes its pages,
 * which the host still backs (bench/README.md, "Write"). */
static int64_t features_tail_bytes(const ps_options_t *o, const fit_t *f, int sweep) {
  const ps_matrix_t *x = f->t->x;
  const int64_t n = x->n_local, d8 = x->n_cols * (int64_t)sizeof(double);
  if (sweep || o->subseg.n != 0) return 0;
  ps_kmeans_opts_t ko = o->kmeans;
  ko.weights = f->weights; /* as run_kmeans passes them */
  const int64_t kmeans = n * ps_kmeans_row_bytes(&ko, x->n_global);
  const int64_t wrows = ps_table_rows_window_rows(x->n_cols); /* the read-back buffer */
  const int64_t later = n * (ps_kmeans_result_row_bytes() + KEY_FIGURES * (int64_t)sizeof(double)) +
                        (wrows < n ? wrows : n) * d8;
  const int64_t tail =
      n * (d8 - f->pca->n_kept * (int64_t)sizeof(double)) - (kmeans > later ? kmeans : later);
  return tail > 0 ? tail : 0;
}

static ps_err_t run_pca(const ps_options_t *o, fit_t *f, int sweep, MPI_Comm comm) {
  ps_err_t err = PS_OK;
  double t0 = MPI_Wtime(), cum = 0;
  PS_TRY(ps_pca_fit_stats(f->st, f->sc, &o->pca, comm, &f->pca));
  /* After the projection only the profile and the report's key figures use
   * the features, and they can read them back from an HDF5 table as it was
   * read (table.h): released as the projection goes, the slice and its
   * projection are never resident whole together, and k-means runs without
   * the slice (bench/README.md, "Peak memory"). The last rows that fit under
   * the read's peak stay (features_tail_bytes): they are not read again, and
   * freed just before the write they give the page cache pages the host
   * still backs (run_write). Kept when they differ from the file's (the prep
   * steps), and with POPSEG_RELEASE_FEATURES=0. */
  int64_t keep =
      !f->t->reload || ps_prep_any(&f->prep) || !ps_env_flag("POPSEG_RELEASE_FEATURES", 1);
  PS_TRY(ps_reduce_max_i64(&keep, 1, comm)); /* kept if any rank must */
  if (!keep)
    err = ps_pca_project_release(f->pca, f->sc, f->t->x, f->pca->n_kept,
                                 features_tail_bytes(o, f, sweep), &f->proj);
  else
    err = ps_pca_project(f->pca, f->sc, f->t->x, f->pca->n_kept, &f->proj);
  PS_AGREE(comm);
  f->times[PS_T_PCA] = MPI_Wtime() - t0;
  for (int64_t i = 0; i < f->pca->n_kept; i++) cum += f->pca->explained_variance_ratio[i];
  if (o->pca.keep > 0)
    snprintf(f->keep_reason, sizeof f->keep_reason, "--pca-keep %lld (cumulative ratio %.5f)",
             (long long)f->pca->n_kept, cum);
  else
    snprintf(f->keep_reason, sizeof f->keep_reason,
             "the fewest components reaching --pca-variance %.4g: %lld explain %.5f",
             o->pca.variance, (long long)f->pca->n_kept, cum);
  ps_log_progress(comm,
                  "pca     %lld of %lld components fitted with %s (grid %dx%d); kept %lld "
                  "explaining %.5f (%.3f s)",
                  (long long)f->pca->p, (long long)f->pca->d,
                  ps_pca_solver_name(f->pca->solver_used), f->pca->grid_rows, f->pca->grid_cols,
                  (long long)f->pca->n_kept, cum, f->times[PS_T_PCA]);
cleanup:
  return err;
}

typedef struct {
  MPI_Comm comm;
  int n_init;
} run_cb_ctx_t;

static void on_kmeans_run(void *ctx, int run, int iterations, double inertia, int converged) {
  run_cb_ctx_t *c = ctx;
  ps_log_progress(c->comm, "  k-means run %d/%d: %d iterations, inertia %.10g%s", run + 1,
                  c->n_init, iterations, inertia, converged ? "" : " (max-iter reached)");
}

/* Collective. --kmeans-init-from: the centroids of another results file,
 * read before the table so that a wrong file fails at once; the components
 * they span are checked against this run's after PCA. */
static ps_err_t load_start(const ps_options_t *o, fit_t *f, MPI_Comm comm) {
  ps_err_t err = PS_OK;
  ps_h5r_t *r = NULL;
  int64_t dims[2] = {0, 0}, want[2] = {-1, -1}, kk = 0;
  static const char *const sym[2] = {"k", NULL};
  const char *path = o->kmeans.init_from;
  if (!path) return PS_OK;
  PS_TRY(ps_h5r_open(path, comm, &r));
  PS_TRY(ps_h5r_shape(r, "kmeans/centroids", PS_H5_F64, 2, want, sym, dims, NULL));
  PS_CHECK_OPT(dims[0] == o->kmeans.k, PS_ERR_ARG, "kmeans.init_from",
               "%s: has %lld centroids, but k = %lld", path, (long long)dims[0],
               (long long)o->kmeans.k);
  f->start_dim = dims[1];
  PS_TRY(ps_kmeans_read_centroids(r, f->start_dim, &kk, &f->start));
cleanup:
  return ps_h5r_close(&r, ps_err_agree(comm, err));
}

static ps_err_t run_kmeans(const ps_options_t *o, fit_t *f, MPI_Comm comm) {
  ps_err_t err = PS_OK;
  double t0 = MPI_Wtime();
  ps_kmeans_opts_t ko = o->kmeans;
  run_cb_ctx_t ctx = {comm, ps_kmeans_n_init_for(f->proj->n_global, ko.k, ko.n_init)};
  char nr[48];
  ko.on_run = on_kmeans_run;
  ko.cb_ctx = &ctx;
  ko.weights = f->weights;
  if (f->start) {
    if (f->start_dim != f->proj->n_cols)
      err = ps_error_opt(PS_ERR_ARG, __FILE__, __LINE__, "kmeans.init_from",
                         "%s: its centroids span %lld components, but this run keeps %lld",
                         ko.init_from, (long long)f->start_dim, (long long)f->proj->n_cols);
    PS_AGREE(comm);
    ko.init_centroids = f->start;
    ctx.n_init = 1;
    ps_log_progress(comm, "k-means k = %lld, from the centroids of %s, 1 run", (long long)ko.k,
                    ko.init_from);
  } else {
    ps_log_progress(comm, "k-means k = %lld, init %s, %s, seed %llu", (long long)ko.k,
                    ps_kmeans_init_name(ko.init), ps_plural_s(nr, ctx.n_init, "run", "runs"),
                    (unsigned long long)ko.seed);
  }
  PS_TRY(ps_kmeans_fit(f->proj, &ko, comm, &f->km));
  f->times[PS_T_KMEANS] = MPI_Wtime() - t0;
  ps_log_progress(comm, "        seeding %.3f s, %lld Lloyd iterations %.3f s, %s at a time",
                  f->km->seed_seconds, (long long)f->km->total_iterations, f->km->lloyd_seconds,
                  ps_plural_s(nr, f->km->lockstep, "run", "runs"));
  ps_log_progress(comm, "k-means best run %d: inertia %.10g after %d iterations (%.3f s)",
                  f->km->best_run + 1, f->km->inertia, f->km->iterations, f->times[PS_T_KMEANS]);
  if (f->km->few_distinct)
    ps_log_progress(comm,
                    "        warning: fewer distinct rows than k = %lld; some segments share "
                    "identical points",
                    (long long)f->km->k);
cleanup:
  return err;
}

static void on_sweep_k(void *ctx, int64_t k, const ps_kmeans_t *km, const ps_metrics_t *m,
                       double ari, double seconds) {
  MPI_Comm comm = *(MPI_Comm *)ctx;
  ps_log_progress(comm,
                  "  k = %-3lld inertia %.10g, silhouette %.4f%s, Calinski-Harabasz %.1f, "
                  "Davies-Bouldin %.4f, ARI %.3f (%.3f s)",
                  (long long)k, km->inertia, m->silhouette, m->sample_rows ? " (sample)" : "",
                  m->calinski_harabasz, m->davies_bouldin, ari, seconds);
}

/* Collective. k-means over the k range on the one projection; the suggested
 * k's fit becomes the fit (sweep, and run --k auto). */
static ps_err_t run_sweep(const ps_options_t *o, fit_t *f, MPI_Comm comm) {
  ps_err_t err = PS_OK;
  double t0 = MPI_Wtime();
  ps_kmeans_opts_t ko = o->kmeans;
  MPI_Comm c = comm;
  ko.weights = f->weights;
  const int64_t lo = o->sweep.k_range[0], hi = o->sweep.k_range[1];
  const int runs = ps_kmeans_n_init_for(f->proj->n_global, lo, ko.n_init);
  ps_log_progress(comm,
                  "sweep   k = %lld..%lld, init %s, %d runs per k (and %d from seed %llu "
                  "for stability), seed %llu",
                  (long long)lo, (long long)hi, ps_kmeans_init_name(ko.init), runs, runs,
                  (unsigned long long)ko.seed + 1, (unsigned long long)ko.seed);
  PS_TRY(ps_sweep_run(f->proj, &o->sweep, &ko, on_sweep_k, &c, comm, &f->sweep));
  /* The sweep keeps the fit (its /sweep/k<K> group is written too). */
  f->km = f->sweep->fits[f->sweep->suggested];
  f->km_borrowed = 1;
  f->times[PS_T_KMEANS] = MPI_Wtime() - t0;
  ps_log_progress(comm, "sweep   suggested k = %lld (%s) (%.3f s)", (long long)f->km->k,
                  PS_SWEEP_RULE, f->times[PS_T_KMEANS]);
cleanup:
  return err;
}

/* Collective. --subsegments: each segment split on the same projection. */
static ps_err_t run_subseg(const ps_options_t *o, fit_t *f, MPI_Comm comm) {
  ps_err_t err = PS_OK;
  double t0 = MPI_Wtime();
  ps_kmeans_opts_t ko = o->kmeans;
  if (o->subseg.n == 0) return PS_OK;
  ko.weights = f->weights;
  PS_TRY(ps_subseg_fit(f->proj, f->weights, f->km, &o->subseg, &ko, &o->sweep, comm, &f->sub));
  f->times[PS_T_KMEANS] += MPI_Wtime() - t0;
  ps_log_progress(comm, "subseg  %lld sub-segments in %lld segments (%s) (%.3f s)",
                  (long long)f->sub->m, (long long)f->km->k,
                  o->subseg.n < 0 ? "auto: " PS_SWEEP_RULE : "fixed", MPI_Wtime() - t0);
cleanup:
  return err;
}

/* The segments in original units: the profiles, and the centroids mapped
 * back through the kept components (kept for the record). */
static ps_err_t run_profile(const ps_options_t *o, fit_t *f, MPI_Comm comm) {
  ps_err_t err = PS_OK;
  const int64_t k = f->km->k, d = f->pca->d;
  const double t0 = MPI_Wtime();
  /* The statistics describe the features scaled (f->t->x with the weights);
   * after a transform the profile is of the rows before it (f->raw), and
   * takes its spread from a pass of its own. */
  const ps_stats_t *st = f->raw ? NULL : f->st;
  PS_TRY(ps_profile_compute(f->t, f->raw ? f->raw : f->t->x, NULL, f->weights, f->prep.weights, st,
                            f->km->labels, f->km->distance, k, &o->profile, comm, &f->profile));
  if (f->sub)
    PS_TRY(ps_profile_compute(f->t, f->raw ? f->raw : f->t->x, NULL, f->weights, f->prep.weights,
                              st, f->sub->labels, f->sub->distance, f->sub->m, &o->profile, comm,
                              &f->sub_profile));
  const ps_matrix_t *x = f->t->x;
  if (!x->data || !x->n_released)
    ps_log_verbose(comm, "profile %.3f s%s", MPI_Wtime() - t0,
                   x->data ? "" : " (the features read again from the table)");
  else
    ps_log_verbose(comm,
                   "profile %.3f s (the features read again from the table but for the last "
                   "%lld of %lld rows, kept)",
                   MPI_Wtime() - t0, (long long)(x->n_local - x->n_released),
                   (long long)x->n_local);
  f->reconstructed = malloc((size_t)(k * d) * sizeof(double));
  PS_CHECK_ALL(comm, f->reconstructed != NULL, PS_ERR_MEM, "out of memory");
  ps_pca_inverse(f->pca, f->km->centroids, k, f->pca->n_kept, f->reconstructed);
  ps_scale_inverse(f->sc, f->reconstructed, k);
  ps_prep_inverse(&f->prep, f->t->feature_names, f->t->fname_width, d, f->reconstructed, k);
cleanup:
  return err;
}

/* Collective. The HTML report at html, drawn from the results or predictions
 * file at from (a pending output's temporary name, or the report command's
 * input): read by every rank, formatted by rank 0. */
static ps_err_t write_html(const char *html, const char *from, int force, MPI_Comm comm) {
  ps_err_t err = PS_OK;
  ps_html_t h;
  ps_sb_t page = {0};
  int rank;
  MPI_Comm_rank(comm, &rank);
  PS_TRY(ps_html_load(from, comm, &h));
  if (rank == 0) ps_html_build(&h, &page);
  PS_CHECK_ALL(comm, !page.oom, PS_ERR_MEM, "out of memory for the HTML report %s", html);
  PS_TRY(ps_textfile_write(html, force, page.s, page.len, comm));
cleanup:
  ps_html_free(&h);
  ps_sb_free(&page);
  return err;
}

/* Collective. The results are written (-o, pending in deferred mode) before
 * the HTML report draws from them; without -o they go to a scratch file next
 * to the HTML, removed at the commit. */
static ps_err_t results_for_html(const ps_options_t *o, const ps_results_t *r, MPI_Comm comm) {
  ps_err_t err = PS_OK;
  char scratch[4200];
  const char *from = NULL;
  if (o->out.output) {
    from = ps_outfile_pending(o->out.output);
  } else {
    snprintf(scratch, sizeof scratch, "%s.results.h5", o->out.html);
    PS_TRY(ps_results_write(scratch, 1, r, comm));
    ps_outfile_scratch(scratch);
    from = ps_outfile_pending(scratch);
  }
  PS_CHECK_ALL(comm, from != NULL, PS_ERR_INTERNAL, "%s: the results it draws are not pending",
               o->out.html);
  PS_TRY(write_html(o->out.html, from, o->out.force, comm));
cleanup:
  return err;
}

static ps_err_t run_write(const ps_options_t *o, fit_t *f, MPI_Comm comm) {
  ps_err_t err = PS_OK;
  ps_sb_t md = {0}, summary = {0};
  double *key = NULL;
  int64_t key_cols[KEY_FIGURES], n_key = 0;
  int size, rank;
  char files[4096];
  MPI_Comm_size(comm, &size);
  MPI_Comm_rank(comm, &rank);
  double t0 = MPI_Wtime();
  if (f->profile && (o->out.output || o->out.html)) {
    /* A few key figures of each row for the HTML report's tooltips. */
    const ps_matrix_t *src = f->raw ? f->raw : f->t->x;
    n_key = ps_profile_key_features(f->profile, KEY_FIGURES, key_cols);
    key = ps_rows_malloc((size_t)(src->n_local * n_key), sizeof *key);
    PS_CHECK_ALL(comm, key != NULL, PS_ERR_MEM, "out of memory for the key figures");
    /* From memory, or read back from the table (the projection released it). */
    PS_TRY(ps_table_columns(f->t, src, key_cols, (int)n_key, key, comm));
  }
  /* No output holds the features (the key figures are taken), so they go
   * now, or the tail the releasing projection kept: the pages freed here are
   * the ones the page cache of the outputs takes next. Fresh ones are host
   * faults on this VM kind, and writing the results into them took 7x as
   * long (bench/README.md, "Write"). */
  ps_matrix_release(f->t->x);
  ps_matrix_release(f->raw);
  /* The outputs record the input's digest, computed now by all ranks and
   * timed apart from the write. */
  double th = MPI_Wtime();
  PS_TRY(ps_table_digest(f->t, comm));
  f->times[PS_T_DIGEST] = MPI_Wtime() - th;
  t0 += f->times[PS_T_DIGEST];
  if (o->out.csv && o->command == PS_CMD_SWEEP) {
    ps_sb_t csv = {0};
    if (rank == 0) ps_report_sweep_csv(f->sweep, &csv);
    err = rank == 0 && csv.oom ? ps_error(PS_ERR_MEM, __FILE__, __LINE__, "out of memory") : PS_OK;
    PS_AGREE(comm);
    err = ps_textfile_write(o->out.csv, o->out.force, csv.s, csv.len, comm);
    ps_sb_free(&csv);
    PS_AGREE(comm);
  } else if (o->out.csv) {
    PS_TRY(ps_segments_write_sub(o->out.csv, o->out.force, f->t, f->km->labels, f->km->distance,
                                 f->proj->data, f->pca->n_kept, f->sub ? f->sub->codes : NULL,
                                 PS_SUBSEG_CODE_W, f->sub ? f->sub->labels : NULL, comm));
  }
  f->times[PS_T_WRITE] = MPI_Wtime() - t0;
  if (o->out.output || o->out.html) {
    ps_results_t r = {.table = f->t,
                      .scale = f->sc,
                      .pca = f->pca,
                      .projection = f->proj,
                      .km = f->km,
                      .centroids_reconstructed = f->reconstructed,
                      .profile = f->profile,
                      .sweep = f->sweep,
                      .prep = &f->prep,
                      .weights = f->weights,
                      .sub = f->sub,
                      .sub_profile = f->sub_profile,
                      .key = key,
                      .n_key = n_key,
                      .key_cols = key_cols,
                      .command_line = o->command_line,
                      .n_ranks = size};
    memcpy(r.times, f->times, sizeof f->times);
    if (o->out.output) PS_TRY(ps_results_write(o->out.output, o->out.force, &r, comm));
    if (o->out.html) PS_TRY(results_for_html(o, &r, comm));
  }
  f->times[PS_T_WRITE] = MPI_Wtime() - t0;
  if (rank == 0) {
    ps_report_fit_t rf = {f->t, f->sc,          f->pca,   f->km,  f->profile,    f->times,
                          size, f->keep_reason, &f->prep, f->sub, f->sub_profile};
    ps_report_fit(&rf, o->out.report ? &md : NULL, &summary);
    if (f->sweep)
      ps_report_sweep(f->sweep, f->t->x->n_global, o->out.report ? &md : NULL, &summary);
  }
  PS_CHECK_ALL(comm, !md.oom && !summary.oom, PS_ERR_MEM, "out of memory for the report");
  if (o->out.report) PS_TRY(ps_textfile_write(o->out.report, o->out.force, md.s, md.len, comm));
  list_outputs(o, files, sizeof files);
  if (files[0])
    ps_log_progress(comm, "write   %s (%.3f s, after %.3f s on the input's digest)", files,
                    MPI_Wtime() - t0, f->times[PS_T_DIGEST]);
  ps_log_text(comm, ps_sb_str(&summary));
cleanup:
  free(key);
  ps_sb_free(&md);
  ps_sb_free(&summary);
  return err;
}

/* run and sweep: read, scale, PCA, then one k-means (run) or the sweep
 * (sweep, run --k auto), the profiles, the outputs. */
static ps_err_t fit_pipeline(const ps_options_t *o, int sweep, MPI_Comm comm) {
  ps_err_t err = PS_OK;
  fit_t f;
  memset(&f, 0, sizeof f);
  setup(o, comm);
  ps_outfile_defer(1);
  PS_TRY(check_outputs(o, comm));
  if (!o->out.output && !o->out.csv && !o->out.report && !o->out.html)
    ps_log_progress(comm, "note    no -o, --csv, --report or --html: the results are shown, not "
                          "saved");
  PS_TRY(ps_memcheck(o->input, o->out.max_memory_gib, comm));
  if (!sweep) PS_TRY(load_start(o, &f, comm));
  PS_TRY(run_read(o, &f, comm));
  log_memory("read", comm);
  PS_TRY(run_scale(o, &f, comm));
  log_memory("scale", comm);
  PS_TRY(run_pca(o, &f, sweep, comm));
  log_memory("pca", comm);
  if (sweep)
    PS_TRY(run_sweep(o, &f, comm));
  else
    PS_TRY(run_kmeans(o, &f, comm));
  log_memory("k-means", comm);
  PS_TRY(run_subseg(o, &f, comm));
  PS_TRY(run_profile(o, &f, comm));
  log_memory("profile", comm);
  PS_TRY(run_write(o, &f, comm));
  log_memory("write", comm);
cleanup:
  err = ps_outfile_commit(err, comm);
  fit_free(&f);
  return err;
}

ps_err_t ps_pipeline_run(const ps_options_t *o, MPI_Comm comm) {
  return fit_pipeline(o, o->kmeans.k == 0, comm);
}

/* `popseg sweep`: run's stages with the sweep in place of one k-means. */
ps_err_t ps_pipeline_sweep(const ps_options_t *o, MPI_Comm comm) {
  return fit_pipeline(o, 1, comm);
}

/* -------------------------------------------------------------- predict */

typedef struct {
  ps_model_t *m;
  ps_table_t *t;
  double *weights;  /* [n_local] the model's weight column, when the new data has it */
  ps_matrix_t *raw; /* with the model's transform: the features before it */
  ps_matrix_t *proj;
  int32_t *labels; /* [n_local] */
  int32_t *sub;    /* [n_local] sub-segments (the model has them), or NULL */
  ps_track_t track;
  double *distance; /* [n_local] */
  int64_t *sizes;   /* [k] */
  int64_t matched, changed;
  double times[PS_T_COUNT];
} predict_t;

static ps_err_t predict_read(const ps_options_t *o, predict_t *p, MPI_Comm comm) {
  ps_err_t err = PS_OK;
  char nr[48];
  int size;
  MPI_Comm_size(comm, &size);
  double t0 = MPI_Wtime();
  PS_TRY(ps_model_read_k(o->model, o->modelsel.k, comm, &p->m));
  PS_TRY(ps_memcheck(o->input, o->out.max_memory_gib, comm));
  PS_TRY(read_input(o, o->input, comm, &p->t));
  /* The model's steps: shares, weights, exclusions, then (in the model's
   * feature order) the transform. */
  PS_TRY(ps_prep_steps(&p->m->prep, p->t, 1, comm, &p->weights));
  PS_TRY(ps_features_match(p->t, p->m->feature_names, p->m->fname_width, p->m->pca->d, o->input,
                           comm));
  PS_TRY(ps_table_check_finite(p->t, comm));
  PS_TRY(ps_prep_transform(&p->m->prep, p->t, 1, comm, &p->raw));
  p->times[PS_T_READ] = MPI_Wtime() - t0;
  ps_log_progress(comm,
                  "read    model %s (k = %lld, %lld components); %lld rows x %lld features from "
                  "%s on %s (%.3f s)",
                  o->model, (long long)p->m->k, (long long)p->m->pca->n_kept,
                  (long long)p->t->x->n_global, (long long)p->t->x->n_cols, o->input,
                  ps_plural_s(nr, size, "rank", "ranks"), p->times[PS_T_READ]);
  if (p->t->n_dropped)
    ps_log_progress(comm, "        dropped %lld of %lld rows with missing values: %s",
                    (long long)p->t->n_dropped, (long long)p->t->n_read, p->t->dropped_examples);
cleanup:
  return err;
}

static ps_err_t predict_assign(const ps_options_t *o, predict_t *p, MPI_Comm comm) {
  ps_err_t err = PS_OK;
  const int64_t nl = p->t->x->n_local, nl1 = nl > 0 ? nl : 1;
  double t0 = MPI_Wtime();
  err = ps_pca_project(p->m->pca, p->m->scale, p->t->x, p->m->pca->n_kept, &p->proj);
  p->labels = ps_rows_malloc((size_t)nl1, sizeof *p->labels);
  p->distance = ps_rows_malloc((size_t)nl1, sizeof *p->distance);
  p->sizes = calloc((size_t)p->m->k, sizeof *p->sizes);
  PS_CHECK_ALL(comm, p->labels && p->distance && p->sizes, PS_ERR_MEM, "out of memory");
  ps_kmeans_assign(p->m->centroids, p->m->k, p->proj, p->labels, p->distance);
  if (p->m->sub) {
    p->sub = ps_rows_malloc((size_t)nl1, sizeof *p->sub);
    PS_CHECK_ALL(comm, p->sub != NULL, PS_ERR_MEM, "out of memory");
    ps_subseg_assign(p->m->sub, p->proj->data, nl, p->labels, p->sub, NULL);
  }
  PS_TRY(ps_kmeans_sizes(p->labels, nl, p->m->k, comm, p->sizes));
  p->times[PS_T_KMEANS] = MPI_Wtime() - t0;
  PS_TRY(ps_model_track(o->model, o->modelsel.k, p->m, p->t, p->raw ? p->raw : p->t->x, p->labels,
                        p->weights, comm, &p->track));
  p->matched = p->track.matched;
  p->changed = p->track.changed;
  ps_log_progress(comm,
                  "predict %lld rows labelled (%.3f s); %lld matched the fit by id, %lld changed "
                  "segment",
                  (long long)p->t->x->n_global, p->times[PS_T_KMEANS], (long long)p->matched,
                  (long long)p->changed);
cleanup:
  return err;
}

static ps_err_t predict_write(const ps_options_t *o, predict_t *p, MPI_Comm comm) {
  ps_err_t err = PS_OK;
  ps_sb_t md = {0}, summary = {0};
  char files[4096];
  int size, rank;
  MPI_Comm_size(comm, &size);
  MPI_Comm_rank(comm, &rank);
  /* The features are in no output: their pages go to the outputs' page
   * cache (run_write says why). */
  ps_matrix_release(p->t->x);
  ps_matrix_release(p->raw);
  double t0 = MPI_Wtime();
  PS_TRY(ps_table_digest(p->t, comm));
  p->times[PS_T_DIGEST] = MPI_Wtime() - t0;
  t0 = MPI_Wtime();
  if (o->out.csv)
    PS_TRY(ps_segments_write_sub(o->out.csv, o->out.force, p->t, p->labels, p->distance,
                                 p->proj->data, p->m->pca->n_kept, p->sub ? p->m->sub->codes : NULL,
                                 PS_SUBSEG_CODE_W, p->sub, comm));
  p->times[PS_T_WRITE] = MPI_Wtime() - t0;
  if (o->out.output || o->out.html) {
    ps_results_t r = {.table = p->t,
                      .projection = p->proj,
                      .labels = p->labels,
                      .distance = p->distance,
                      .sub = p->m->sub,
                      .sub_labels = p->sub,
                      .track = &p->track,
                      .command_line = o->command_line,
                      .model_path = o->model,
                      .n_ranks = size};
    memcpy(r.times, p->times, sizeof p->times);
    if (o->out.output) PS_TRY(ps_results_write(o->out.output, o->out.force, &r, comm));
    if (o->out.html) PS_TRY(results_for_html(o, &r, comm));
  }
  p->times[PS_T_WRITE] = MPI_Wtime() - t0;
  if (rank == 0) {
    ps_report_predict_t rp = {p->t,
                              o->model,
                              p->m->k,
                              p->m->pca->n_kept,
                              p->m->scale->kind,
                              p->sizes,
                              1,
                              p->matched,
                              p->changed,
                              p->times,
                              size,
                              &p->track,
                              p->m->prep.weights,
                              p->m->sub,
                              NULL};
    ps_report_predict(&rp, o->out.report ? &md : NULL, &summary);
  }
  PS_CHECK_ALL(comm, !md.oom && !summary.oom, PS_ERR_MEM, "out of memory for the report");
  if (o->out.report) PS_TRY(ps_textfile_write(o->out.report, o->out.force, md.s, md.len, comm));
  list_outputs(o, files, sizeof files);
  if (files[0])
    ps_log_progress(comm, "write   %s (%.3f s, after %.3f s on the input's digest)", files,
                    MPI_Wtime() - t0, p->times[PS_T_DIGEST]);
  ps_log_text(comm, ps_sb_str(&summary));
cleanup:
  ps_sb_free(&md);
  ps_sb_free(&summary);
  return err;
}

ps_err_t ps_pipeline_predict(const ps_options_t *o, MPI_Comm comm) {
  ps_err_t err = PS_OK;
  predict_t p;
  memset(&p, 0, sizeof p);
  setup(o, comm);
  ps_outfile_defer(1);
  PS_TRY(check_outputs(o, comm));
  PS_TRY(predict_read(o, &p, comm));
  PS_TRY(predict_assign(o, &p, comm));
  PS_TRY(predict_write(o, &p, comm));
cleanup:
  err = ps_outfile_commit(err, comm);
  free(p.labels);
  free(p.distance);
  free(p.sub);
  free(p.weights);
  ps_matrix_destroy(&p.raw);
  ps_track_free(&p.track);
  free(p.sizes);
  ps_matrix_destroy(&p.proj);
  ps_table_destroy(&p.t);
  ps_model_destroy(&p.m);
  return err;
}

ps_err_t ps_pipeline_report(const ps_options_t *o, MPI_Comm comm) {
  ps_err_t err = PS_OK;
  double t0 = MPI_Wtime();
  setup(o, comm);
  PS_TRY(check_outputs(o, comm));
  PS_TRY(write_html(o->out.output, o->input, o->out.force, comm));
  ps_log_progress(comm, "write   %s (%.3f s)", o->out.output, MPI_Wtime() - t0);
cleanup:
  return err;
}
