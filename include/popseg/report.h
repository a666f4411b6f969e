/* report.h - everything a person reads: progress lines, the stdout summary,
 * the Markdown report of a fit or a prediction, and `popseg info`.
 *
 * Only this module (and the usage text) writes to stdout, and only rank 0
 * does, except --verbose per-rank lines.
 */
#ifndef POPSEG_REPORT_H
#define POPSEG_REPORT_H

#include <mpi.h>
#include <stdint.h>

#include "popseg/error.h"
#include "popseg/kmeans.h"
#include "popseg/model.h"
#include "popseg/pca.h"
#include "popseg/scale.h"
#include "popseg/table.h"

/* Verbosity: -1 quiet, 0 normal, 1 verbose. */
void ps_report_set_verbosity(int v);
/* Not collective. Rank 0 prints one progress line (unless quiet). */
void ps_report_progress(MPI_Comm comm, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Not collective. Every rank prints, with its rank, only when verbose. */
void ps_report_verbose(MPI_Comm comm, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

typedef struct {
  const ps_table_t *table; /* rows, names, feature names, dropped counts */
  const ps_matrix_t *xs;   /* [n_local][d] scaled features (for segment profiles) */
  const ps_scale_t *scale;
  const ps_pca_t *pca;
  const ps_matrix_t *projection; /* [n_local][K] */
  const ps_kmeans_t *km;
  const double *times; /* [PS_T_COUNT] */
  int n_ranks;
  const char *pca_keep_reason; /* why K components were kept */
} ps_report_fit_t;

/* Collective. Summary on stdout (rank 0, unless quiet) and, if path, the
 * Markdown report written through a temporary file. */
ps_err_t ps_report_fit(const ps_report_fit_t *r, const char *path, int force, MPI_Comm comm);

typedef struct {
  const ps_table_t *table; /* new rows (features in model order) */
  const ps_model_t *model;
  const char *model_path;
  const int32_t *labels;    /* [n_local] */
  const double *distance;   /* [n_local] */
  int have_fit;             /* the model file had fit labels to compare with */
  int64_t matched, changed; /* rows whose id is in the fit; of those, segment changed */
  const double *times;
  int n_ranks;
} ps_report_predict_t;

ps_err_t ps_report_predict(const ps_report_predict_t *r, const char *path, int force,
                           MPI_Comm comm);

/* Collective. `popseg info`: shape, feature names, first rows, per-column min/mean/max. */
ps_err_t ps_report_info(const ps_table_t *t, MPI_Comm comm);

#endif
