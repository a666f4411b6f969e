/* sweep.h - k-means over a range of k on one projection, with the metrics
 * that help choose k (metrics.h), and the suggested k.
 *
 * One read, one scaling and one PCA serve every k: the stage takes the
 * projection. For each k: the best of n_init runs (seed), the metrics of its
 * labels, and the adjusted Rand index between it and the best of n_init runs
 * from seed + 1 (stability). The suggested k is the one with the largest
 * silhouette; a tie (within 1e-9) goes to the smaller k. Collective over comm.
 * Owns the /sweep group of a results file.
 */
#ifndef POPSEG_SWEEP_H
#define POPSEG_SWEEP_H

#include <mpi.h>
#include <stdint.h>

#include "popseg/error.h"
#include "popseg/h5io.h"
#include "popseg/kmeans.h"
#include "popseg/matrix.h"
#include "popseg/metrics.h"
#include "popseg/opt.h"

#define PS_SWEEP_MAX_K 100 /* values of k in one sweep (the results file has room for them) */

typedef struct {
  int64_t k_range[2];     /* first and last k (default 2..16) */
  int64_t silhouette_max; /* metrics.h */
  int64_t sample;
} ps_sweep_opts_t;

/* --k A..B (sweep), --k-range A..B (run --k auto), and the metrics' options. */
extern const ps_opt_t ps_sweep_k_options[];
extern const ps_opt_t ps_sweep_range_options[];
extern const ps_opt_t ps_sweep_options[];
void ps_sweep_opts_default(ps_sweep_opts_t *o);

/* The rule, as --help and the report state it. */
#define PS_SWEEP_RULE                                                                              \
  "the k with the largest silhouette (exact up to --silhouette-max rows, else on a sample); a "    \
  "tie within 1e-9 goes to the smaller k"

typedef void (*ps_sweep_cb)(void *ctx, int64_t k, const ps_kmeans_t *km, const ps_metrics_t *m,
                            double ari, double seconds);

typedef struct {
  int64_t m;                                  /* number of k */
  int64_t *k;                                 /* [m] */
  double *inertia;                            /* [m] best k-means inertia */
  double *msd;                                /* [m] inertia / n */
  int32_t *iterations;                        /* [m] Lloyd iterations of the best run */
  double *silhouette;                         /* [m] */
  double *silhouette_sq;                      /* [m] */
  double *calinski_harabasz, *davies_bouldin; /* [m] */
  double *ari;                                /* [m] NaN without stability */
  int64_t *silhouette_rows;                   /* [m] rows the silhouette is over */
  double *seconds;                            /* [m] wall time of k's fits and metrics */
  int64_t *sample_rows; /* [silhouette_rows[0]] the sample's global rows, or NULL */
  int64_t n_sample;
  ps_kmeans_t **fits;     /* [m] the best fit of each k (local labels) */
  int64_t suggested;      /* index into k of the suggested k */
  int n_init, n_init_max; /* restarts per k: the fewest and the most (auto: k-dependent) */
  uint64_t seed;
} ps_sweep_t;

ps_err_t ps_sweep_run(const ps_matrix_t *z, const ps_sweep_opts_t *o, const ps_kmeans_opts_t *ko,
                      ps_sweep_cb cb, void *cb_ctx, MPI_Comm comm, ps_sweep_t **out);
void ps_sweep_destroy(ps_sweep_t **s);
/* The /sweep group: /sweep/k (the k of each row of the table), the metrics
 * over it, /sweep/k<K>/labels, centroids, sizes, distance; attributes. */
void ps_sweep_describe(ps_h5w_t *w, const ps_sweep_t *s);

#endif
