/* scale.h - per-feature scaling fitted across ranks.
 *
 * x_scaled = (x - offset) * factor. minmax: offset = min, factor = 1/(max-min);
 * standard: offset = mean, factor = 1/std (population std, ddof = 0, like
 * scikit-learn's StandardScaler); none: offset 0, factor 1. A constant column
 * (global max == min, decided exactly, not from a rounded variance) gets
 * factor 0: it scales to exactly 0, no division by zero. For none no column
 * is counted as constant.
 */
#ifndef POPSEG_SCALE_H
#define POPSEG_SCALE_H

#include <mpi.h>
#include <stdint.h>

#include "popseg/error.h"
#include "popseg/h5io.h"
#include "popseg/matrix.h"
#include "popseg/opt.h"
#include "popseg/stats.h"

typedef enum { PS_SCALE_MINMAX = 0, PS_SCALE_STANDARD = 1, PS_SCALE_NONE = 2 } ps_scale_kind_t;

/* What the scaling stage is asked to do. */
typedef struct {
  ps_scale_kind_t kind; /* default minmax */
} ps_scale_opts_t;

/* The scaling options (--scale): defaults, choices, help. */
extern const ps_opt_t ps_scale_options[];
void ps_scale_opts_default(ps_scale_opts_t *o);

typedef struct {
  ps_scale_kind_t kind;
  int64_t d;
  double *offset;         /* [d] */
  double *factor;         /* [d] */
  int64_t n_constant;     /* columns that were constant (factor 0) */
  int64_t first_constant; /* index of the first constant column, -1 if none */
} ps_scale_t;

/* Allocate identity parameters (offset 0, factor 1, no constant column).
 * Not collective. Free with ps_scale_destroy (sets *s = NULL, accepts NULL). */
ps_err_t ps_scale_create(ps_scale_kind_t kind, int64_t d, ps_scale_t **out);
void ps_scale_destroy(ps_scale_t **s);
const char *ps_scale_kind_name(ps_scale_kind_t kind);
/* Parse "minmax" | "standard" | "none"; PS_ERR_ARG (no message) otherwise. */
ps_err_t ps_scale_kind_parse(const char *s, ps_scale_kind_t *kind);

/* Collective. Fit the scaling on the rows of x held by all ranks (x->n_global >= 1,
 * else PS_ERR_ARG); ranks may hold no rows. The error is agreed
 * across comm; *out is NULL on error, else the caller frees it with
 * ps_scale_destroy. One pass (ps_stats_compute without the covariance).
 * A column whose finite values would overflow later sums (max - min, or for
 * standard/none n * max|x| and n * (max - min)^2) is PS_ERR_NUMERIC naming
 * the feature: names [d][name_width] (NULL: "feature j", 1-based). */
ps_err_t ps_scale_fit(const ps_matrix_t *x, const ps_scale_opts_t *opts, const char *names,
                      size_t name_width, MPI_Comm comm, ps_scale_t **out);
/* Collective (only to agree on the verdict: st is the same on every rank).
 * The scaling from statistics computed once (ps_stats_compute): the same
 * checks and parameters as ps_scale_fit. *out: ps_scale_destroy. */
ps_err_t ps_scale_from_stats(const ps_stats_t *st, const ps_scale_opts_t *opts, const char *names,
                             size_t name_width, MPI_Comm comm, ps_scale_t **out);
/* Not collective. Scale x in place (local rows). */
void ps_scale_apply(const ps_scale_t *s, ps_matrix_t *x);
/* Not collective. Undo the scaling of rows [n][d] in place (constant columns
 * come back as offset). */
void ps_scale_inverse(const ps_scale_t *s, double *rows, int64_t n);

/* The /scale group of a results file (the model's first step):
 *   /scale/offset, /scale/factor  float64 [feature]; attribute kind.
 * Not collective: add it to a file description. */
void ps_scale_describe(ps_h5w_t *w, const ps_scale_t *s);
/* Collective. Read /scale of an open results file for d features (a wrong
 * shape or an unknown kind is PS_ERR_FORMAT naming the file and dataset).
 * *out: ps_scale_destroy. */
ps_err_t ps_scale_read(ps_h5r_t *r, int64_t d, ps_scale_t **out);

#endif
