/* report.h - what a person reads, formatted from what the stages computed:
 * the Markdown report and the stdout summary of a fit and of a prediction,
 * and the text of `popseg info`.
 *
 * Nothing here communicates or computes a statistic: every number comes in
 * a result struct (scaling, PCA, k-means, profile, table summary) that the
 * stages computed collectively and stored. The caller (rank 0) prints the
 * summary and writes the report.
 */
#ifndef POPSEG_REPORT_H
#define POPSEG_REPORT_H

#include <stdint.h>

#include "popseg/kmeans.h"
#include "popseg/model.h"
#include "popseg/pca.h"
#include "popseg/prep.h"
#include "popseg/profile.h"
#include "popseg/scale.h"
#include "popseg/strbuf.h"
#include "popseg/subseg.h"
#include "popseg/sweep.h"
#include "popseg/table.h"

/* Wall seconds per stage, as recorded in the results file. PS_T_DIGEST is the
 * input's digest (every rank hashing its share of the file's blocks, just
 * before the write: table.h, ps_table_digest); PS_T_WRITE excludes it. */
enum { PS_T_READ = 0, PS_T_SCALE, PS_T_PCA, PS_T_KMEANS, PS_T_WRITE, PS_T_DIGEST, PS_T_COUNT };

typedef struct {
  const ps_table_t *table; /* where the rows came from, counts, feature names */
  const ps_scale_t *scale;
  const ps_pca_t *pca;
  const ps_kmeans_t *km;       /* centroids, sizes, inertia, runs (replicated parts) */
  const ps_profile_t *profile; /* segment means, spread, examples */
  const double *times;         /* [PS_T_COUNT] */
  int n_ranks;
  const char *pca_keep_reason;     /* why K components were kept */
  const ps_prep_t *prep;           /* the steps before scaling (may be NULL) */
  const ps_subseg_t *sub;          /* sub-segments, or NULL */
  const ps_profile_t *sub_profile; /* their profile, or NULL */
} ps_report_fit_t;

/* The pen portrait of segment c (profile p over feature names of t): its
 * features with the highest index (>= 120) and the lowest (<= 80), most
 * extreme first, at most `most` of each, and a suggested name from them
 * ("High Transit, Walk; low Drive"). Not collective. */
void ps_report_portrait(const ps_table_t *t, const ps_profile_t *p, int64_t c, int most,
                        ps_sb_t *highs, ps_sb_t *lows, ps_sb_t *name);
/* The same from one segment's index scores index[d] and the feature names
 * fnames[d][fwidth] (the HTML report reads them from a results file). */
void ps_portrait(const double *index, int64_t d, const char *fnames, size_t fwidth, int most,
                 ps_sb_t *highs, ps_sb_t *lows, ps_sb_t *name);

/* Not collective. The Markdown report into md and the stdout summary into
 * summary (either may be NULL). */
void ps_report_fit(const ps_report_fit_t *r, ps_sb_t *md, ps_sb_t *summary);

typedef struct {
  const ps_table_t *table; /* the new rows (features in the model's order) */
  const char *model_path;
  int64_t k, n_kept;
  ps_scale_kind_t scale_kind;
  const int64_t *sizes;     /* [k] new rows per segment */
  int have_fit;             /* the model file had fit labels to compare with */
  int64_t matched, changed; /* rows whose id is in the fit; of those, segment changed */
  const double *times;
  int n_ranks;
  const ps_track_t *track;  /* the comparison with the fit, or NULL */
  const char *weights_name; /* the model's weight column ("" or NULL: unweighted) */
  const ps_subseg_t *sub;   /* the model's sub-segments, or NULL */
  const int32_t *sub_sizes; /* unused (reserved) */
} ps_report_predict_t;

void ps_report_predict(const ps_report_predict_t *r, ps_sb_t *md, ps_sb_t *summary);

/* `popseg sweep` (and run --k auto): the metrics per k, the suggested k and
 * why, into md and summary (either may be NULL); the CSV table, one line per
 * k: k,inertia,msd,iterations,silhouette,silhouette_sq,calinski_harabasz,
 * davies_bouldin,ari. Not collective. */
void ps_report_sweep(const ps_sweep_t *s, int64_t n_rows, ps_sb_t *md, ps_sb_t *summary);
void ps_report_sweep_csv(const ps_sweep_t *s, ps_sb_t *csv);

/* `popseg info`: shape, sources, the first rows and per-column statistics. */
void ps_report_info(const ps_table_t *t, const ps_table_summary_t *s, ps_sb_t *out);

#endif
