/* sweep.c - k-means over a range of k, the metrics of each, the suggested k. */
#include "popseg/sweep.h"

#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SO(f) offsetof(ps_sweep_opts_t, f)
/* `popseg sweep --k A..B` (the command's own spelling of the range). */
const ps_opt_t ps_sweep_k_options[] = {{.flag = "--k",
                                        .field = "k_range",
                                        .kind = PS_OPT_RANGE,
                                        .offset = SO(k_range),
                                        .min = 2,
                                        .max = 1000,
                                        .def = "2..16",
                                        .metavar = "A..B",
                                        .help = "the values of k to fit, A..B"},
                                       {0}};
/* `popseg run --k auto --k-range A..B`. */
const ps_opt_t ps_sweep_range_options[] = {
    {.flag = "--k-range",
     .field = "k_range",
     .kind = PS_OPT_RANGE,
     .offset = SO(k_range),
     .min = 2,
     .max = 1000,
     .def = "2..16",
     .metavar = "A..B",
     .help = "with --k auto: the values of k to sweep (the suggested one is kept)"},
    {0}};
const ps_opt_t ps_sweep_options[] = {
    {.flag = "--silhouette-max",
     .field = "silhouette_max",
     .kind = PS_OPT_I64,
     .offset = SO(silhouette_max),
     .min = 0,
     .max = 1000000,
     .def = "50000",
     .metavar = "N",
     .help = "the silhouette over all rows up to N rows (n^2 distances), else on a sample"},
    {.flag = "--sample",
     .field = "sample",
     .kind = PS_OPT_I64,
     .offset = SO(sample),
     .min = 2,
     .max = 1000000,
     .def = "10000",
     .metavar = "S",
     .help = "rows of the silhouette's reproducible uniform sample above --silhouette-max"},
    {0}};
#undef SO

void ps_sweep_opts_default(ps_sweep_opts_t *o) {
  memset(o, 0, sizeof *o);
  ps_opt_defaults(ps_sweep_range_options, o);
  ps_opt_defaults(ps_sweep_options, o);
}

void ps_sweep_destroy(ps_sweep_t **sp) {
  if (!sp || !*sp) return;
  ps_sweep_t *s = *sp;
  for (int64_t i = 0; s->fits && i < s->m; i++) ps_kmeans_destroy(&s->fits[i]);
  free(s->fits);
  free(s->k);
  free(s->inertia);
  free(s->msd);
  free(s->iterations);
  free(s->silhouette);
  free(s->silhouette_sq);
  free(s->calinski_harabasz);
  free(s->davies_bouldin);
  free(s->ari);
  free(s->silhouette_rows);
  free(s->seconds);
  free(s->sample_rows);
  free(s);
  *sp = NULL;
}

ps_err_t ps_sweep_run(const ps_matrix_t *z, const ps_sweep_opts_t *o, const ps_kmeans_opts_t *ko,
                      ps_sweep_cb cb, void *cb_ctx, MPI_Comm comm, ps_sweep_t **out) {
  ps_err_t err = PS_OK;
  ps_sweep_t *s = NULL;
  ps_kmeans_t *other = NULL;
  ps_metrics_t mt;
  memset(&mt, 0, sizeof mt);
  *out = NULL;
  const int64_t lo = o->k_range[0], hi = o->k_range[1];
  PS_CHECK_OPT(lo >= 2 && hi >= lo, PS_ERR_ARG, "sweep.k_range",
               "k range %lld..%lld: needs 2 <= A <= B", (long long)lo, (long long)hi);
  PS_CHECK_OPT(hi - lo + 1 <= PS_SWEEP_MAX_K, PS_ERR_ARG, "sweep.k_range",
               "k range %lld..%lld: at most %d values of k in one sweep", (long long)lo,
               (long long)hi, PS_SWEEP_MAX_K);
  PS_CHECK_OPT(hi < z->n_global, PS_ERR_ARG, "sweep.k_range",
               "k range %lld..%lld: k must be below the %lld rows", (long long)lo, (long long)hi,
               (long long)z->n_global);
  s = calloc(1, sizeof *s);
  PS_CHECK_ALL(comm, s != NULL, PS_ERR_MEM, "out of memory for the sweep");
  const int64_t m = hi - lo + 1;
  s->m = m;
  s->k = malloc((size_t)m * sizeof *s->k);
  s->inertia = malloc((size_t)m * sizeof(double));
  s->msd = malloc((size_t)m * sizeof(double));
  s->iterations = malloc((size_t)m * sizeof(int32_t));
  s->silhouette = malloc((size_t)m * sizeof(double));
  s->silhouette_sq = malloc((size_t)m * sizeof(double));
  s->calinski_harabasz = malloc((size_t)m * sizeof(double));
  s->davies_bouldin = malloc((size_t)m * sizeof(double));
  s->ari = malloc((size_t)m * sizeof(double));
  s->silhouette_rows = malloc((size_t)m * sizeof(int64_t));
  s->seconds = malloc((size_t)m * sizeof(double));
  s->fits = calloc((size_t)m, sizeof *s->fits);
  PS_CHECK_ALL(comm,
               s->k && s->inertia && s->msd && s->iterations && s->silhouette && s->silhouette_sq &&
                   s->calinski_harabasz && s->davies_bouldin && s->ari && s->silhouette_rows &&
                   s->seconds && s->fits,
               PS_ERR_MEM, "out of memory for the sweep");
  /* auto restarts depend on k: the fewest (largest k) and the most. */
  s->n_init = ps_kmeans_n_init_for(z->n_global, hi, ko->n_init);
  s->n_init_max = ps_kmeans_n_init_for(z->n_global, lo, ko->n_init);
  s->seed = ko->seed;
  const ps_metrics_opts_t mo = {o->silhouette_max, o->sample};
  for (int64_t i = 0; i < m; i++) {
    const double t0 = MPI_Wtime();
    ps_kmeans_opts_t kk = *ko;
    kk.k = lo + i;
    kk.on_run = NULL;
    kk.init_centroids = NULL;
    kk.init_from = NULL;
    s->k[i] = kk.k;
    PS_TRY(ps_kmeans_fit(z, &kk, comm, &s->fits[i]));
    const ps_kmeans_t *km = s->fits[i];
    s->inertia[i] = km->inertia;
    s->msd[i] = km->inertia / (double)z->n_global;
    s->iterations[i] = km->iterations;
    /* The same sample for every k: its seed is the sweep's. */
    PS_TRY(ps_metrics_compute(z, km->labels, kk.k, &mo, ko->seed, comm, &mt));
    s->silhouette[i] = mt.silhouette;
    s->silhouette_sq[i] = mt.silhouette_sq;
    s->calinski_harabasz[i] = mt.calinski_harabasz;
    s->davies_bouldin[i] = mt.davies_bouldin;
    s->silhouette_rows[i] = mt.silhouette_rows;
    if (mt.sample_rows && !s->sample_rows) {
      s->sample_rows = mt.sample_rows;
      s->n_sample = mt.silhouette_rows;
      mt.sample_rows = NULL;
    }
    /* Stability: the best fit from the next seed, compared by partition. */
    kk.seed = ko->seed + 1;
    PS_TRY(ps_kmeans_fit(z, &kk, comm, &other));
    PS_TRY(ps_metrics_ari(km->labels, kk.k, other->labels, kk.k, z->n_local, comm, &s->ari[i]));
    ps_kmeans_destroy(&other);
    s->seconds[i] = MPI_Wtime() - t0;
    if (cb) cb(cb_ctx, kk.k, km, &mt, s->ari[i], s->seconds[i]);
    ps_metrics_free(&mt);
  }
  /* The rule (PS_SWEEP_RULE): every rank reads the same reduced values. */
  s->suggested = 0;
  for (int64_t i = 1; i < m; i++)
    if (s->silhouette[i] > s->silhouette[s->suggested] + 1e-9) s->suggested = i;
  *out = s;
  s = NULL;
cleanup:
  ps_metrics_free(&mt);
  ps_kmeans_destroy(&other);
  ps_sweep_destroy(&s);
  return err;
}

void ps_sweep_describe(ps_h5w_t *w, const ps_sweep_t *s) {
  char path[96], dim[64];
  ps_h5w_dim(w, "sweep/k", s->m, PS_H5_I64, 0, s->k, "the values of k swept");
  ps_h5w_data(w, "sweep/inertia", PS_H5_F64, 0, "sweep/k", s->inertia,
              "best k-means inertia of n_init runs (sum of squared distances)");
  ps_h5w_data(w, "sweep/msd", PS_H5_F64, 0, "sweep/k", s->msd,
              "mean squared distance of a row to its centroid (inertia / rows)");
  ps_h5w_data(w, "sweep/iterations", PS_H5_I32, 0, "sweep/k", s->iterations,
              "Lloyd iterations of the best run");
  ps_h5w_data(w, "sweep/silhouette", PS_H5_F64, 0, "sweep/k", s->silhouette,
              "mean silhouette coefficient, Euclidean (sklearn.metrics.silhouette_score)");
  ps_h5w_data(w, "sweep/silhouette_sq", PS_H5_F64, 0, "sweep/k", s->silhouette_sq,
              "mean silhouette with squared Euclidean distances, over all rows");
  ps_h5w_data(w, "sweep/calinski_harabasz", PS_H5_F64, 0, "sweep/k", s->calinski_harabasz,
              "Calinski-Harabasz index (sklearn.metrics.calinski_harabasz_score)");
  ps_h5w_data(w, "sweep/davies_bouldin", PS_H5_F64, 0, "sweep/k", s->davies_bouldin,
              "Davies-Bouldin index (sklearn.metrics.davies_bouldin_score)");
  ps_h5w_data(w, "sweep/ari", PS_H5_F64, 0, "sweep/k", s->ari,
              "adjusted Rand index between the best fits from seed and seed + 1 (stability)");
  ps_h5w_data(w, "sweep/silhouette_rows", PS_H5_I64, 0, "sweep/k", s->silhouette_rows,
              "rows the silhouette is over (all, or the sample)");
  ps_h5w_data(w, "sweep/time_s", PS_H5_F64, 0, "sweep/k", s->seconds,
              "wall time of the two fits and the metrics of each k");
  if (s->sample_rows) {
    ps_h5w_dim_index(w, "sweep/sample", s->n_sample, 0, "the silhouette sample");
    ps_h5w_data(w, "sweep/sample_rows", PS_H5_I64, 0, "sweep/sample", s->sample_rows,
                "global rows (0-based) of the silhouette's sample, ascending");
  }
  for (int64_t i = 0; i < s->m; i++) {
    const ps_kmeans_t *km = s->fits[i];
    if (!km) continue;
    snprintf(dim, sizeof dim, "sweep/k%lld/segment", (long long)s->k[i]);
    ps_h5w_dim_index(w, dim, km->k, 0, "the segments of this k (0-based)");
    snprintf(path, sizeof path, "sweep/k%lld/labels", (long long)s->k[i]);
    ps_h5w_data(w, path, PS_H5_I32, 0, "row", km->labels, "segment of each row for this k");
    snprintf(path, sizeof path, "sweep/k%lld/distance", (long long)s->k[i]);
    ps_h5w_data(w, path, PS_H5_F64, 0, "row", km->distance,
                "Euclidean distance of each row to its centroid, for this k");
    snprintf(path, sizeof path, "sweep/k%lld/centroids", (long long)s->k[i]);
    char dims[96];
    snprintf(dims, sizeof dims, "%s,component", dim);
    ps_h5w_data(w, path, PS_H5_F64, 0, dims, km->centroids, "centroids in component space");
    snprintf(path, sizeof path, "sweep/k%lld/sizes", (long long)s->k[i]);
    ps_h5w_data(w, path, PS_H5_I64, 0, dim, km->sizes, "rows in each segment");
    snprintf(path, sizeof path, "sweep/k%lld", (long long)s->k[i]);
    ps_h5w_attr_f64(w, path, "inertia", km->inertia);
  }
  ps_h5w_attr_i64(w, "sweep", "suggested_k", s->k[s->suggested]);
  ps_h5w_attr_str(w, "sweep", "rule", PS_SWEEP_RULE);
  ps_h5w_attr_i64(w, "sweep", "n_init_min", s->n_init);
  ps_h5w_attr_i64(w, "sweep", "n_init_max", s->n_init_max);
  ps_h5w_attr_u64(w, "sweep", "seed", s->seed);
}
