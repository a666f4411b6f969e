/* model.c - the model read back for predict (scaling + PCA + centroids). */
#include "popseg/model.h"

#include <stdlib.h>

void ps_model_destroy(ps_model_t **m) {
  if (!m || !*m) return;
  ps_scale_destroy(&(*m)->scale);
  ps_pca_destroy(&(*m)->pca);
  free((*m)->centroids);
  free((*m)->feature_names);
  free(*m);
  *m = NULL;
}
