/* results.h - the results file of a fit and the predictions file: the
 * stages' groups together (table rows, /scale, /pca, /projection, /kmeans,
 * /profile) plus the root attributes of the run. The layout is documented
 * once, in README ("Files popseg writes"), and tests/e2e/check_layout.py
 * checks that table against a written file. */
#ifndef POPSEG_RESULTS_H
#define POPSEG_RESULTS_H

#include <mpi.h>
#include <stdint.h>

#include "popseg/error.h"
#include "popseg/kmeans.h"
#include "popseg/model.h"
#include "popseg/pca.h"
#include "popseg/prep.h"
#include "popseg/profile.h"
#include "popseg/subseg.h"
#include "popseg/sweep.h"
#include "popseg/report.h"
#include "popseg/scale.h"
#include "popseg/table.h"

typedef struct {
  const ps_table_t *table;       /* rows (ids, names) and feature names; where they came from */
  const ps_scale_t *scale;       /* NULL in a predictions file */
  const ps_pca_t *pca;           /* NULL in a predictions file */
  const ps_matrix_t *projection; /* [n_local][K], the table's row block */
  const ps_kmeans_t *km;         /* a fit: the whole k-means result */
  const int32_t *labels;         /* predictions: [n_local] segments */
  const double *distance;        /* predictions: [n_local] */
  const double *centroids_reconstructed; /* [k][d] or NULL */
  const ps_profile_t *profile;           /* NULL: no /profile */
  const ps_sweep_t *sweep;               /* NULL: no /sweep (run without --k auto) */
  const ps_prep_t *prep;                 /* a fit: the steps before scaling (/prep) */
  const double *weights;                 /* [n_local] /rows/weight, or NULL */
  const ps_subseg_t *sub;                /* a fit's sub-segments (/kmeans/sub), or NULL */
  const ps_profile_t *sub_profile;       /* their profile (/profile/sub), or NULL */
  const int32_t *sub_labels;             /* predictions: [n_local] sub-segments, or NULL */
  const ps_track_t *track;               /* predictions: the comparison with the fit */
  const double *key;       /* [n_local][n_key] a few key figures of each row (/rows/key) */
  int64_t n_key;           /* 0: none */
  const int64_t *key_cols; /* [n_key] their features (columns of the table) */
  const char *command_line;
  const char *model_path; /* predictions: the model file used */
  int n_ranks;
  double times[PS_T_COUNT]; /* wall seconds per stage (rank 0's are written) */
} ps_results_t;

/* Collective. Write a results file (r->scale set) or a predictions file.
 * Temporary name + rename; refuses to overwrite unless force. */
ps_err_t ps_results_write(const char *path, int force, const ps_results_t *r, MPI_Comm comm);

#endif
