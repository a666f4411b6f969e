/* model.h - the fitted model as predict needs it, read from a results file by
 * the stages' own readers (ps_scale_read, ps_pca_read, ps_kmeans_read_*). */
#ifndef POPSEG_MODEL_H
#define POPSEG_MODEL_H

#include <mpi.h>
#include <stdint.h>

#include "popseg/error.h"
#include "popseg/opt.h"
#include "popseg/pca.h"
#include "popseg/prep.h"
#include "popseg/subseg.h"
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
  ps_prep_t prep;                /* the steps before scaling (none for a model without /prep) */
  ps_subseg_t *sub;              /* the sub-segments of /kmeans, or NULL (none, or --model-k) */
  double *range_min, *range_max; /* [d] the fit's feature ranges (original units), or NULL
                                    for a file without /profile/overall_min */
} ps_model_t;

/* How the new rows compare with the fit's, by row id: the tracking of
 * segments over time (2015 -> 2017). Every rank gets all of it. */
typedef struct {
  int64_t k, d;
  int64_t matched, changed;  /* new rows whose id is in the fit; of those, segment changed */
  int64_t *transition;       /* [k][k] rows: segment in the fit (row) -> segment now */
  double *transition_weight; /* [k][k] the same in weight, or NULL without weights */
  int32_t *model_label;      /* [n_local] the row's segment in the fit, -1 if new */
  int64_t n_new, n_missing;  /* ids not in the fit; fit ids not in the new data */
  int64_t *new_ids;          /* [n_new] in row order */
  char *new_names;           /* [n_new][name_width] */
  int64_t *missing_ids;      /* [n_missing] in the fit's row order */
  char *missing_names;       /* [n_missing][name_width] */
  size_t name_width;
  int64_t *changed_row; /* [n_changed_shown] global rows that changed segment (the first) */
  char *changed_names;  /* [n_changed_shown][name_width] */
  int32_t *changed_from, *changed_to;
  int64_t n_changed_shown;
  int64_t *oor_rows;  /* [d] rows with the feature outside the fit's range */
  double *oor_excess; /* [d] the worst excess beyond the range, original units */
  int64_t oor_any;    /* rows with some feature outside its range */
  int have_ranges;    /* the model had ranges to check against */
} ps_track_t;

#define PS_TRACK_SHOW 50 /* changed rows named (all are in /predict/model_label) */

/* Collective. Compare t's rows (labels [n_local], weights [n_local] or NULL,
 * features x in original units and the model's order) with the fit in
 * model_path. */
ps_err_t ps_model_track(const char *model_path, int64_t model_k, const ps_model_t *m,
                        const ps_table_t *t, const ps_matrix_t *x, const int32_t *labels,
                        const double *weights, MPI_Comm comm, ps_track_t *out);
void ps_track_free(ps_track_t *tr);
/* /predict of a predictions file (transition, transition_weight,
 * model_label, new_ids, missing_ids, out_of_range_rows, out_of_range_excess).
 * Not collective. */
void ps_track_describe(ps_h5w_t *w, const ps_track_t *tr);

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
