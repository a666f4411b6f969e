/* kmeans.h - distributed k-means: seeding and Lloyd iterations.
 *
 * Each rank assigns its own rows; partial sums, counts, inertia (and the
 * label-change count) travel in ONE packed ps_reduce_sum per iteration.
 * Random choices derive from (seed, run, round, global row index) so the
 * chosen rows, the labels and the centroids do not depend on the rank count.
 * Convergence follows scikit-learn: stop when no label changes (strict) or
 * when the total squared centre shift <= tol * mean feature variance; after a
 * non-strict stop the labels are recomputed against the final centres.
 */
#ifndef POPSEG_KMEANS_H
#define POPSEG_KMEANS_H

#include <mpi.h>
#include <stdint.h>

#include "popseg/error.h"
#include "popseg/h5io.h"
#include "popseg/matrix.h"
#include "popseg/opt.h"

typedef enum {
  PS_KM_INIT_KMEANSPP = 0, /* k-means++ (greedy, 2 + ln k trials like scikit-learn) */
  PS_KM_INIT_PARALLEL = 1, /* k-means|| (Bahmani et al. 2012) */
  PS_KM_INIT_RANDOM = 2    /* k distinct rows uniformly at random */
} ps_kmeans_init_t;

const char *ps_kmeans_init_name(ps_kmeans_init_t i);

/* How a Lloyd iteration finds each row's centre: every distance (lloyd), or
 * Hamerly's bounds, which skip the rows whose centre provably did not change
 * (hamerly). Both give the same labels, centroids and iterations bit for
 * bit: the bounds are kept with a safety margin far above rounding. */
typedef enum { PS_KM_HAMERLY = 0, PS_KM_LLOYD = 1 } ps_kmeans_algorithm_t;
const char *ps_kmeans_algorithm_name(ps_kmeans_algorithm_t a);
/* "kmeans++" | "kmeans-parallel" | "random" (also "k-means++", "kmeans||",
 * "k-means||"). Not collective. An unknown name returns PS_ERR_ARG without
 * recording a message: the caller words the complaint. */
ps_err_t ps_kmeans_init_parse(const char *s, ps_kmeans_init_t *out);

/* Called on every rank after each run (restart) with its result. */
typedef void (*ps_kmeans_run_cb)(void *ctx, int run, int iterations, double inertia, int converged);

typedef struct {
  int64_t k;                       /* clusters, 1 <= k <= n (default 8); 0 (auto) only on the
                                      command line, resolved by a sweep */
  ps_kmeans_init_t init;           /* default kmeans++ */
  ps_kmeans_algorithm_t algorithm; /* default hamerly */
  int n_init;                      /* restarts, >= 1, or 0: auto (ps_kmeans_n_init_for; the
                                      default); forced to 1 with init_centroids */
  int max_iter;                    /* >= 1 (default 300) */
  int lockstep;                    /* restarts iterated together, sharing each pass over the
                                      rows, 1-16, or 0: auto (10; the default). Each costs
                                      12 bytes a row; the result is the same for any value */
  double tol;                      /* >= 0 (default 1e-4), relative to mean feature variance */
  uint64_t seed;                   /* default 0 */
  int parallel_rounds;             /* k-means|| rounds (default 5) */
  double oversample;               /* k-means|| l = oversample * k (default 2) */
  const double *init_centroids;    /* optional [k][dim] start (all ranks), overrides init */
  const char *init_from;           /* the command line's: a results file whose centroids the
                                      caller loads into init_centroids (the stage reads no file) */
  const double *weights;           /* optional [n_local] row weights (>= 0, positive total):
                                      minimise sum w ||z - c||^2 (weighted centroids, D^2
                                      sampling by w D^2, weighted inertia; empty = no weight) */
  ps_kmeans_run_cb on_run;         /* optional progress callback */
  void *cb_ctx;
} ps_kmeans_opts_t;

/* The k-means options (--k, --kmeans-*, --seed): defaults, ranges, help. */
extern const ps_opt_t ps_kmeans_options[];
/* The restarts a fit makes: n_init, or for n_init = 0 (auto) 1e7 / (n k)
 * clamped to [10, 100]: more restarts where they are cheap. */
int ps_kmeans_n_init_for(int64_t n, int64_t k, int n_init);
/* Zero the struct, then the defaults of ps_kmeans_options. */
void ps_kmeans_opts_default(ps_kmeans_opts_t *o);

typedef struct {
  int64_t k, dim;
  int64_t n_local;
  double *centroids;    /* [k][dim], identical on all ranks */
  int32_t *labels;      /* [n_local] */
  double *distance;     /* [n_local] Euclidean distance to own centroid */
  int64_t *sizes;       /* [k] global cluster sizes */
  double *weight_sizes; /* [k] the weight in each cluster (NULL unweighted) */
  double inertia;       /* sum of (weighted) squared distances, global */
  int iterations;       /* of the best run */
  int converged;        /* of the best run: 1 if a stopping rule fired (no label
                           change, or centre shift <= tol), even at max_iter */
  int best_run;         /* 0-based index of the kept run */
  int n_runs;
  uint64_t seed; /* the options' seed and seeding, for the record */
  ps_kmeans_init_t init;
  char init_from[512];      /* the options' init_from ("" if none): init_centroids' origin */
  int init_given;           /* 1 if the run started from init_centroids (written as init "given") */
  double seed_seconds;      /* wall time seeding, all runs */
  double lloyd_seconds;     /* wall time in Lloyd iterations, all runs */
  int64_t total_iterations; /* Lloyd iterations, all runs */
  int lockstep;             /* runs seeded and iterated together (at most; see opts) */
  double *run_inertia;      /* [n_runs] */
  int *run_iterations;      /* [n_runs] */
  int64_t n_empty_relocations; /* empty clusters re-seeded, all runs */
  ps_kmeans_algorithm_t algorithm;
  int64_t distances;       /* row-centre distances computed in Lloyd iterations, all runs */
  int64_t distances_lloyd; /* what plain Lloyd computes: k per row per iteration */
  int few_distinct;        /* 1 if fewer distinct points than k were seen (seeding ran
                              out of distinct rows, or an empty cluster found every
                              row sitting on its centre); some centres then coincide */
} ps_kmeans_t;

void ps_kmeans_destroy(ps_kmeans_t **km);

/* Collective. Validates opts against ps_kmeans_options and the data (k at
 * most the number of rows), naming the field ("kmeans.k"), and clusters
 * the rows of x, whose row blocks must tile [0, n) in rank order. opts NULL
 * means the defaults. Every rank returns the same code; on success *out is the
 * caller's, freed with ps_kmeans_destroy. */
ps_err_t ps_kmeans_fit(const ps_matrix_t *x, const ps_kmeans_opts_t *opts, MPI_Comm comm,
                       ps_kmeans_t **out);

/* Not collective. The bytes a fit holds per local row, in use or not (the
 * labels, distances and Hamerly's bounds of the run, and the best run's
 * labels and distances; 12 more for each restart in lockstep beyond the
 * first), for the callers that budget memory around it. n: the global rows
 * (the restarts, when n_init is auto, depend on it). */
int64_t ps_kmeans_row_bytes(const ps_kmeans_opts_t *opts, int64_t n);

/* Not collective. The bytes per local row of what a fit leaves once its
 * workspace is freed (the result's labels and distance): part of
 * ps_kmeans_row_bytes, for the callers that budget what comes after it. */
int64_t ps_kmeans_result_row_bytes(void);

/* Not collective. Nearest centroid for each local row: labels [n_local],
 * distance [n_local] (Euclidean; may be NULL). Ties go to the lowest index. */
void ps_kmeans_assign(const double *centroids, int64_t k, const ps_matrix_t *x, int32_t *labels,
                      double *distance);

/* Collective. Rows per segment over all ranks: sizes [k] from labels [n_local]. */
ps_err_t ps_kmeans_sizes(const int32_t *labels, int64_t n_local, int64_t k, MPI_Comm comm,
                         int64_t *sizes);

/* The /kmeans group of a results file (k segments over K components):
 *   /kmeans/labels int32 [row], /kmeans/distance [row], /kmeans/centroids
 *   [segment][component], /kmeans/sizes int64 [segment], /kmeans/run_inertia,
 *   /kmeans/run_iterations [kmeans/run]; attributes inertia, iterations,
 *   converged, seed, init, n_init, best_run. The root dimension segment
 *   (0..k-1) is declared here. reconstructed [k][d] (may be NULL) is written
 *   as /kmeans/centroids_reconstructed [segment][feature].
 * Not collective: add it to a file description. */
void ps_kmeans_describe(ps_h5w_t *w, const ps_kmeans_t *km, const double *reconstructed);
/* Only the labels and distances of rows (a predictions file). */
void ps_kmeans_describe_assignment(ps_h5w_t *w, const int32_t *labels, const double *distance);
/* Collective. The centroids [k][K] of an open results file (malloc'ed). */
ps_err_t ps_kmeans_read_centroids(ps_h5r_t *r, int64_t dim, int64_t *k, double **centroids);
/* The same from another group holding centroids and labels ("sweep/k5"). */
ps_err_t ps_kmeans_read_centroids_at(ps_h5r_t *r, const char *group, int64_t dim, int64_t *k,
                                     double **centroids);
ps_err_t ps_kmeans_read_labels_at(ps_h5r_t *r, const char *group, int64_t n, int32_t *labels);
/* Collective. All n labels of an open results file into labels [n]. */
ps_err_t ps_kmeans_read_labels(ps_h5r_t *r, int64_t n, int32_t *labels);

#endif
