/* metrics.h - how good a clustering is: the numbers `popseg sweep` compares
 * across k (silhouette, Calinski-Harabasz, Davies-Bouldin, stability).
 *
 * Definitions are scikit-learn's (sklearn.metrics): silhouette_score
 * (Euclidean; 0 for a row alone in its cluster), calinski_harabasz_score,
 * davies_bouldin_score, adjusted_rand_score. The cluster means are those of
 * the labels (not the k-means centroids, which differ when a fit stops
 * before it converges). Every sum is exact (reduce.h) and every per-row value
 * depends on the row alone, so the results are the same bits at any rank
 * count. All functions are collective over comm.
 */
#ifndef POPSEG_METRICS_H
#define POPSEG_METRICS_H

#include <mpi.h>
#include <stdint.h>

#include "popseg/error.h"
#include "popseg/matrix.h"

typedef struct {
  /* The exact silhouette (all n^2 / 2 pairs, the projection gathered on every
   * rank: n K doubles, never n x n) when n <= silhouette_max; above, the
   * exact silhouette of a reproducible uniform sample of `sample` rows. */
  int64_t silhouette_max; /* default 50000 */
  int64_t sample;         /* default 10000 */
} ps_metrics_opts_t;

typedef struct {
  double silhouette;        /* mean silhouette (Euclidean), over all rows or the sample */
  double silhouette_sq;     /* mean silhouette with squared Euclidean distances, all rows
                               (from per-cluster count, mean and spread: O(n k K)) */
  double calinski_harabasz; /* between / within dispersion, (n - k) / (k - 1) scaled */
  double davies_bouldin;    /* mean over clusters of the worst (s_i + s_j) / d(c_i, c_j) */
  double within;            /* sum of squared distances to the label means */
  int64_t silhouette_rows;  /* rows the silhouette is over: n or the sample size */
  int64_t *sample_rows;     /* [silhouette_rows] global rows of the sample, ascending;
                               NULL when the silhouette is over all rows (free it) */
} ps_metrics_t;

/* z [n_local][K] (global offset z->row_offset), labels [n_local] in [0, k),
 * 2 <= k < n. seed picks the sample. */
ps_err_t ps_metrics_compute(const ps_matrix_t *z, const int32_t *labels, int64_t k,
                            const ps_metrics_opts_t *o, uint64_t seed, MPI_Comm comm,
                            ps_metrics_t *out);
void ps_metrics_free(ps_metrics_t *m);

/* The adjusted Rand index of two labelings of the same rows ([n_local] each,
 * labels in [0, ka) and [0, kb)); 1 for identical partitions. */
ps_err_t ps_metrics_ari(const int32_t *a, int64_t ka, const int32_t *b, int64_t kb, int64_t n_local,
                        MPI_Comm comm, double *ari);

#endif
