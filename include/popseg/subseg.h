/* subseg.h - the second level of a classification: each segment split into
 * sub-segments on the same projection (OAC's groups within supergroups).
 *
 * After the k segments are fitted, the rows of each segment are moved into
 * balanced row blocks of their own (so the exact sums see the same blocks
 * whatever the rank count), clustered with the fit's k-means options into N
 * sub-segments (or, auto, the number in 2..6 a sweep's rule picks for that
 * segment), and the labels travel back. Sub-segments are numbered segment by
 * segment: those of segment c are first[c] .. first[c + 1] - 1, coded "3b"
 * (segment 3's second). A segment with too few rows (fewer than 2 N, or 12
 * for auto) keeps one sub-segment: itself. Collective over comm.
 */
#ifndef POPSEG_SUBSEG_H
#define POPSEG_SUBSEG_H

#include <mpi.h>
#include <stdint.h>

#include "popseg/error.h"
#include "popseg/h5io.h"
#include "popseg/kmeans.h"
#include "popseg/matrix.h"
#include "popseg/opt.h"
#include "popseg/sweep.h"

#define PS_SUBSEG_MAX 26    /* sub-segments per segment: the letters a..z */
#define PS_SUBSEG_CODE_W 24 /* bytes per code ("99z" and a NUL, with room) */
#define PS_SUBSEG_AUTO_LO 2 /* auto: the sweep's range */
#define PS_SUBSEG_AUTO_HI 6
#define PS_SUBSEG_AUTO_MIN_ROWS 12

typedef struct {
  int n; /* sub-segments per segment: 0 none (default), 2..26, or -1 auto */
} ps_subseg_opts_t;

extern const ps_opt_t ps_subseg_options[];
void ps_subseg_opts_default(ps_subseg_opts_t *o);

typedef struct {
  int64_t m, k, dim; /* sub-segments, segments, components */
  int requested;     /* the option: N, or -1 auto */
  int32_t *labels;   /* [n_local] global sub-segment of each local row */
  double *distance;  /* [n_local] distance to its sub-segment's centroid */
  int32_t *parent;   /* [m] segment of each sub-segment (non-decreasing) */
  int32_t *first;    /* [k + 1] */
  double *centroids; /* [m][dim] */
  int64_t *sizes;    /* [m] rows */
  double *weight;    /* [m] weight (the rows when unweighted) */
  char *codes;       /* [m][PS_SUBSEG_CODE_W] */
  int64_t n_local;
} ps_subseg_t;

/* Collective. Split each segment of km (labels over the rows of z, weights
 * [n_local] or NULL) with the k-means options ko (k, init and seeding
 * ignored where the stage sets them) and, for auto, the sweep options so.
 * *out: ps_subseg_destroy. */
ps_err_t ps_subseg_fit(const ps_matrix_t *z, const double *weights, const ps_kmeans_t *km,
                       const ps_subseg_opts_t *o, const ps_kmeans_opts_t *ko,
                       const ps_sweep_opts_t *so, MPI_Comm comm, ps_subseg_t **out);
void ps_subseg_destroy(ps_subseg_t **s);

/* Not collective. The sub-segment of each of n rows z [n][dim] already in
 * segment labels [n]: the nearest of that segment's centroids (ties to the
 * lowest); distance (may be NULL) Euclidean. */
void ps_subseg_assign(const ps_subseg_t *s, const double *z, int64_t n, const int32_t *labels,
                      int32_t *sub, double *distance);

/* /kmeans/sub of a results file: labels [row], parent, codes, sizes,
 * weight_sizes [subsegment], centroids [subsegment][component]; attribute
 * requested. The dimension subsegment is declared here. Not collective. */
void ps_subseg_describe(ps_h5w_t *w, const ps_subseg_t *s);
/* Only the labels (a predictions file). */
void ps_subseg_describe_labels(ps_h5w_t *w, const int32_t *labels, const ps_subseg_t *s);
/* Collective. /kmeans/sub of an open results file for k segments over dim
 * components (absent: *out = NULL, no error). */
ps_err_t ps_subseg_read(ps_h5r_t *r, int64_t k, int64_t dim, ps_subseg_t **out);

#endif
