/* model.h - the fitted model as predict needs it, read from a results file by
 * the stages' own readers (ps_scale_read, ps_pca_read, ps_kmeans_read_*). */
#ifndef POPSEG_MODEL_H
#define POPSEG_MODEL_H

#include <mpi.h>
#include <stdint.h>

#include "popseg/error.h"
#include "popseg/opt.h"
#include "popseg/pca.h"
#include "popseg/scale.h"
#include "popseg/table.h"

/* predict's choice of model in the file. */
typedef struct {
  int64_t k; /* 0: the file's model (/kmeans); else a sweep's /sweep/k<k> */
} ps_model_opts_t;
extern const ps_opt_t ps_model_options[];

typedef struct {
  ps_scale_t *scale;
  ps_pca_t *pca;       /* components [p][d]; n_kept = K */
  int64_t k;           /* segments */
  double *centroids;   /* [k][K] */
  char *feature_names; /* [d][fname_width], NUL-terminated */
  size_t fname_width;
} ps_model_t;

/* Collective. Read the model of a results file (every rank gets all of it).
 * A predictions file or a table is named as such. *out: ps_model_destroy. */
ps_err_t ps_model_read(const char *path, MPI_Comm comm, ps_model_t **out);
/* The same with the centroids of k of a sweep (/sweep/k<k>; k = 0: /kmeans). */
ps_err_t ps_model_read_k(const char *path, int64_t k, MPI_Comm comm, ps_model_t **out);
/* Collective. The fit's row ids and labels, all n of them on every rank
 * (malloc'ed; the caller frees both). */
ps_err_t ps_model_read_fit_labels(const char *path, MPI_Comm comm, int64_t *n, int64_t **ids,
                                  int32_t **labels);
ps_err_t ps_model_read_fit_labels_k(const char *path, int64_t k, MPI_Comm comm, int64_t *n,
                                    int64_t **ids, int32_t **labels);
void ps_model_destroy(ps_model_t **m);

/* Collective. Of the new rows of t (labelled labels [n_local]), how many have
 * an id that is in the fit stored in model_path, and how many of those
 * changed segment. */
ps_err_t ps_model_compare(const char *model_path, int64_t model_k, const ps_table_t *t,
                          const int32_t *labels, MPI_Comm comm, int64_t *matched, int64_t *changed);

#endif
