/* profile.h - what each segment is, in the units of the input: per-segment
 * means of every feature, the overall mean and spread, sizes, and the rows
 * closest to each centroid. Computed collectively once, stored under /profile
 * in the results file, and only formatted by the report.
 */
#ifndef POPSEG_PROFILE_H
#define POPSEG_PROFILE_H

#include <mpi.h>
#include <stddef.h>
#include <stdint.h>

#include "popseg/error.h"
#include "popseg/h5io.h"
#include "popseg/matrix.h"
#include "popseg/scale.h"
#include "popseg/stats.h"
#include "popseg/table.h"

#include "popseg/opt.h"

/* What the profile stage is asked for. */
typedef struct {
  int examples; /* example rows per segment (default 5) */
} ps_profile_opts_t;

/* The profile options (--profile-*): defaults, ranges, help. */
extern const ps_opt_t ps_profile_options[];
void ps_profile_opts_default(ps_profile_opts_t *o);

typedef struct {
  int64_t k, d, n;      /* segments, features, rows */
  int64_t n_examples;   /* E = PS_PROFILE_EXAMPLES */
  int64_t *size;        /* [k] rows in each segment */
  double *mean;         /* [k][d] mean of each feature over the segment's rows, original
                           units (an empty segment gets the overall mean) */
  double *overall_mean; /* [d] mean over all rows, original units */
  double *overall_sd;   /* [d] standard deviation over all rows (n - 1; weighted: the
                           weighted population sd), original units */
  double *overall_min, *overall_max; /* [d] over all rows, original units */
  double *weight;                    /* [k] the weight of each segment (its rows when unweighted) */
  double *index;                     /* [k][d] 100 x mean / overall_mean (NaN: overall mean 0) */
  double wsum;                       /* the total weight (n unweighted) */
  int weighted;
  char mean_kind[300];      /* "rows" or "weighted by COLUMN": what the means average over */
  int64_t *example_row;     /* [k][E] global row index of the examples, nearest first; -1 if
                               the segment has fewer than E rows */
  int64_t *example_id;      /* [k][E] their ids */
  double *example_distance; /* [k][E] their distances to the centroid */
  char *example_name;       /* [k][E][name_width] their names, NUL-padded */
  size_t name_width;
} ps_profile_t;

/* Collective. Profile the segments of the rows of x ([n_local][d], the same
 * row block as t and labels/distance [n_local]); weights [n_local] (NULL:
 * every row 1) make the means, spread and index weighted, weights_name the
 * column's for the record. st (may be NULL): the statistics of these very
 * rows with these weights (ps_stats_compute_w on x): the overall spread is
 * then theirs and the rows are read once; NULL: a second pass sums the
 * squared deviations from the overall mean. undo (may be NULL) maps x
 * back to original units (x holds scaled values in place); names and ids come
 * from t; opts NULL means the defaults. Every rank gets the whole profile.
 * *out: ps_profile_destroy. */
ps_err_t ps_profile_compute(const ps_table_t *t, const ps_matrix_t *x, const ps_scale_t *undo,
                            const double *weights, const char *weights_name, const ps_stats_t *st,
                            const int32_t *labels, const double *distance, int64_t k,
                            const ps_profile_opts_t *opts, MPI_Comm comm, ps_profile_t **out);
void ps_profile_destroy(ps_profile_t **p);

/* Not collective. The features that tell the segments apart most: the
 * largest spread of index scores across segments (max - min, finite ones),
 * at most `most`, into cols[], largest first (ties: the earlier feature).
 * Returns how many (0 when no feature has a finite index). They are the "key
 * figures" of each row that the results keep for the HTML report. */
int ps_profile_key_features(const ps_profile_t *p, int most, int64_t *cols);

/* The /profile group of a results file:
 *   /profile/mean [segment][feature], /profile/overall_mean, /profile/overall_sd
 *   [feature], /profile/size [segment], /profile/example_row, _id, _distance,
 *   _name [segment][profile/example]. Not collective. */
void ps_profile_describe(ps_h5w_t *w, const ps_profile_t *p);
/* The sub-segments' profile (p over the sub-segments): /profile/sub/index,
 * mean [subsegment][feature], size, weight [subsegment]. Not collective. */
void ps_profile_describe_sub(ps_h5w_t *w, const ps_profile_t *p);

#endif
