/* prep.h - the features as geodemographers prepare them, before scaling:
 * counts turned into shares of a base (--share), row weights from a column
 * (--weights), columns left out (--exclude-columns) and a transform of
 * skewed columns (--transform, --transform-columns).
 *
 * Order, on the table as read: shares (A / BASE, from the values read),
 * then the weights (the weight column's values as read: people, not a
 * share), then the exclusions, then the transform. The profile and the
 * index scores are in the units after the shares and before the transform
 * (prep keeps that copy when a transform is asked for). The steps are the
 * model's first: stored under /prep and applied again by predict.
 */
#ifndef POPSEG_PREP_H
#define POPSEG_PREP_H

#include <mpi.h>
#include <stdint.h>

#include "popseg/error.h"
#include "popseg/h5io.h"
#include "popseg/matrix.h"
#include "popseg/opt.h"
#include "popseg/table.h"

#define PS_PREP_MAX_SHARES 16

typedef enum {
  PS_TRANSFORM_NONE = 0,
  PS_TRANSFORM_LOG1P = 1,
  PS_TRANSFORM_ASINH = 2
} ps_transform_t;
const char *ps_transform_name(ps_transform_t t);

/* What the command line asks for. */
typedef struct {
  const char *weights;                       /* --weights COLUMN, or NULL */
  const char *exclude;                       /* --exclude-columns "A,B", or NULL */
  const char *share[PS_PREP_MAX_SHARES + 1]; /* --share BASE=A,B (repeatable) */
  int transform;                             /* ps_transform_t (default none) */
  const char *transform_columns;             /* "A,B", or NULL: every feature */
} ps_prep_opts_t;

extern const ps_opt_t ps_prep_options[];
void ps_prep_opts_default(ps_prep_opts_t *o);

/* The steps as the model holds them (text, so that predict can apply them
 * to a table whose columns are in another order). */
typedef struct {
  char weights[256];  /* the weight column, "" for none */
  char exclude[4096]; /* "A,B" as given, "" for none */
  char share[4096];   /* "BASE=A,B;BASE2=C", "" for none */
  ps_transform_t transform;
  char transform_columns[8192]; /* the features transformed, "A,B" (resolved at fit time) */
} ps_prep_t;

/* Not collective. The steps of the options (columns checked on apply). */
void ps_prep_from_opts(const ps_prep_opts_t *o, ps_prep_t *p);
/* Whether any step is asked for (a model without /prep has none). */
int ps_prep_any(const ps_prep_t *p);

/* Collective. Apply p to t in place: t->x and its feature names become the
 * model's features. For a fit (predict = 0) every named column must exist,
 * and p->transform_columns is resolved (default: every feature). For
 * predict the weight column may be missing (then *weights = NULL) and an
 * excluded column may be. *weights: [n_local] or NULL with no weight
 * column (malloc'ed). *raw: with a transform, a copy of the features before
 * it ([n_local][d], the profile's units), else NULL (t->x is that).
 * Errors name the file, the column and the row: an unknown column is
 * PS_ERR_ARG, a bad value (weight < 0 or not finite, a total of 0, a zero
 * share base, log1p of a negative value) PS_ERR_FORMAT. */
ps_err_t ps_prep_apply(ps_prep_t *p, ps_table_t *t, int predict, MPI_Comm comm, double **weights,
                       ps_matrix_t **raw);

/* The two halves of ps_prep_apply, for predict (which matches the features
 * to the model's between them): shares, weights and exclusions; then the
 * transform. */
ps_err_t ps_prep_steps(const ps_prep_t *p, ps_table_t *t, int predict, MPI_Comm comm,
                       double **weights);
ps_err_t ps_prep_transform(ps_prep_t *p, ps_table_t *t, int predict, MPI_Comm comm,
                           ps_matrix_t **raw);

/* Not collective. Undo the transform on rows [n][d] of t's final features
 * (feature names [d][width]): expm1 or sinh of the transformed columns. */
void ps_prep_inverse(const ps_prep_t *p, const char *names, size_t width, int64_t d, double *rows,
                     int64_t n);

/* /prep of a results file: attributes weights, exclude_columns, share,
 * transform, transform_columns, and /prep/transformed int32 [feature] (1
 * where the feature was transformed). Not collective. */
void ps_prep_describe(ps_h5w_t *w, const ps_prep_t *p, int32_t *transformed_buf,
                      const ps_table_t *t);
/* Collective. /prep of an open results file (none: no steps). */
ps_err_t ps_prep_read(ps_h5r_t *r, ps_prep_t *p);

#endif
