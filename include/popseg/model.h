/* model.h - what a fit produces and what predict needs.
 *
 * ps_results_t gathers the pieces written to the results file; the model
 * (scaling + PCA + centroids) inside it is self-contained, and
 * ps_model_t is what ps_h5_read_model returns for predict.
 */
#ifndef POPSEG_MODEL_H
#define POPSEG_MODEL_H

#include <stdint.h>

#include "popseg/kmeans.h"
#include "popseg/pca.h"
#include "popseg/scale.h"
#include "popseg/table.h"

enum { PS_T_READ = 0, PS_T_SCALE, PS_T_PCA, PS_T_KMEANS, PS_T_WRITE, PS_T_COUNT };

typedef struct {
  const ps_table_t *table;          /* rows clustered (ids, names) + feature names */
  const ps_scale_t *scale;          /* NULL in a predictions file */
  const ps_pca_t *pca;              /* NULL in a predictions file */
  const ps_matrix_t *projection;    /* [n_local][K] */
  const ps_kmeans_t *km;            /* fit: everything; predict: labels/distance only */
  const double *centroids_features; /* [k][d] original units; NULL in predictions */
  const char *command_line;
  const char *model_path; /* predictions: the model file used; else NULL */
  int n_ranks;
  double times[PS_T_COUNT]; /* wall seconds per stage */
  const char *init_name;
  int n_init;
  uint64_t seed;
} ps_results_t;

typedef struct {
  ps_scale_t *scale;
  ps_pca_t *pca; /* components [p][d]; n_kept = K */
  int64_t k;
  double *centroids;   /* [k][K] */
  char *feature_names; /* [d][fname_width] */
  size_t fname_width;
} ps_model_t;

void ps_model_destroy(ps_model_t **m);

#endif
