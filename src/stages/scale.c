/* scale.c - per-feature scaling (min-max, standardisation) fitted across ranks.
 *
 * The statistics are global: every rank reduces its own rows (possibly none)
 * with ps_reduce_*, so all ranks end with identical parameters whatever the
 * distribution of rows. Standardisation is two-pass (mean first, then the
 * centred sum of squares with the usual rounding correction), which stays
 * accurate for columns with a large mean and a small spread.
 */
#include "popseg/scale.h"

#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "popseg/reduce.h"

ps_err_t ps_scale_create(ps_scale_kind_t kind, int64_t d, ps_scale_t **out) {
  ps_err_t err = PS_OK;
  ps_scale_t *s = NULL;
  *out = NULL;
  PS_CHECK(d >= 0, PS_ERR_INTERNAL, "negative feature count %lld", (long long)d);
  s = calloc(1, sizeof *s);
  PS_CHECK_ALLOC(s);
  s->kind = kind;
  s->d = d;
  s->first_constant = -1;
  s->offset = calloc((size_t)(d > 0 ? d : 1), sizeof(double));
  PS_CHECK_ALLOC(s->offset);
  s->factor = calloc((size_t)(d > 0 ? d : 1), sizeof(double));
  PS_CHECK_ALLOC(s->factor);
  for (int64_t j = 0; j < d; j++) s->factor[j] = 1.0;
  *out = s;
  s = NULL;
cleanup:
  ps_scale_destroy(&s);
  return err;
}

void ps_scale_destroy(ps_scale_t **s) {
  if (!s || !*s) return;
  free((*s)->offset);
  free((*s)->factor);
  free(*s);
  *s = NULL;
}

static const ps_opt_choice_t kind_choices[] = {{"minmax", PS_SCALE_MINMAX},
                                               {"standard", PS_SCALE_STANDARD},
                                               {"none", PS_SCALE_NONE},
                                               {NULL, 0}};

const ps_opt_t ps_scale_options[] = {
    {.flag = "--scale",
     .field = "kind",
     .kind = PS_OPT_CHOICE,
     .offset = offsetof(ps_scale_opts_t, kind),
     .def = "minmax",
     .choices = kind_choices,
     .help = "per feature: (x - min) / (max - min), (x - mean) / sd, or unscaled"},
    {0}};

void ps_scale_opts_default(ps_scale_opts_t *o) {
  memset(o, 0, sizeof *o);
  ps_opt_defaults(ps_scale_options, o);
}

const char *ps_scale_kind_name(ps_scale_kind_t kind) {
  return ps_opt_choice_name(&ps_scale_options[0], (int)kind);
}

ps_err_t ps_scale_kind_parse(const char *s, ps_scale_kind_t *kind) {
  for (const ps_opt_choice_t *c = kind_choices; s && c->name; c++)
    if (!strcmp(s, c->name)) {
      *kind = (ps_scale_kind_t)c->value;
      return PS_OK;
    }
  return PS_ERR_ARG;
}

/* The verdict on a column's range, the same on every rank (mn, mx and n are
 * global). Finite input can still overflow: max - min for minmax; for
 * standard and none (whose unscaled values reach the PCA sums), n * max|x|
 * (sums for the mean) and n * (max - min)^2 (centred sums of squares). */
static ps_err_t check_range(ps_scale_kind_t kind, int64_t j, double mn, double mx, int64_t n,
                            const char *names, size_t name_width) {
  char label[96];
  double range = mx - mn, big = fabs(mn) > fabs(mx) ? fabs(mn) : fabs(mx);
  if (names && name_width)
    snprintf(label, sizeof label, "feature '%.*s'",
             (int)strnlen(names + (size_t)j * name_width, name_width < 64 ? name_width : 64),
             names + (size_t)j * name_width);
  else
    snprintf(label, sizeof label, "feature %lld", (long long)j + 1);
  if (!isfinite(range))
    return ps_error(PS_ERR_NUMERIC, __FILE__, __LINE__,
                    "%s: values from %.17g to %.17g: max - min overflows a double; rescale this "
                    "column",
                    label, mn, mx);
  if (kind == PS_SCALE_MINMAX && range > 0.0 && !isfinite(1.0 / range))
    return ps_error(PS_ERR_NUMERIC, __FILE__, __LINE__,
                    "%s: values from %.17g to %.17g: max - min is too small to divide by; rescale "
                    "this column",
                    label, mn, mx);
  if (kind != PS_SCALE_MINMAX &&
      (!isfinite((double)n * big) || !isfinite((double)n * range * range)))
    return ps_error_opt(PS_ERR_NUMERIC, __FILE__, __LINE__, "scale.kind",
                        "%s: values from %.17g to %.17g over %lld rows overflow the sums of "
                        "scaling '%s' and PCA; use minmax scaling or rescale this column",
                        label, mn, mx, (long long)n, ps_scale_kind_name(kind));
  return PS_OK;
}

/* Not collective, the same verdict on every rank (the statistics are). The
 * range checks, then the parameters. */
static ps_err_t from_stats(const ps_stats_t *st, ps_scale_kind_t kind, const char *names,
                           size_t name_width, ps_scale_t *s) {
  ps_err_t err = PS_OK;
  const int64_t d = st->d, n = st->n;
  for (int64_t j = 0; j < d; j++)
    PS_TRY(check_range(kind, j, st->min[j], st->max[j], n, names, name_width));
  if (kind == PS_SCALE_NONE) {
    /* Unscaled, PCA also sums the variances of all columns. */
    double total = 0.0;
    for (int64_t j = 0; j < d; j++)
      total += (double)n * (st->max[j] - st->min[j]) * (st->max[j] - st->min[j]);
    PS_CHECK_OPT(isfinite(total), PS_ERR_NUMERIC, "scale.kind",
                 "scaling 'none': the %lld features' total variance over %lld rows overflows a "
                 "double; use minmax or standard scaling",
                 (long long)d, (long long)n);
    return PS_OK;
  }
  /* A column is constant exactly when max == min, which a computed variance
   * cannot tell reliably (the mean rounds). */
  for (int64_t j = 0; j < d; j++) {
    const double mn = st->min[j], mx = st->max[j];
    int constant = mx == mn;
    if (kind == PS_SCALE_MINMAX) {
      s->offset[j] = mn;
      s->factor[j] = constant ? 0.0 : 1.0 / (mx - mn);
    } else {
      s->offset[j] = st->mean[j];
      constant = constant || !(st->var[j] > 0.0);
      s->factor[j] = constant ? 0.0 : 1.0 / (sqrt(st->var[j]) * st->unit[j]);
    }
    if (constant && s->n_constant++ == 0) s->first_constant = j;
  }
cleanup:
  return err;
}

ps_err_t ps_scale_from_stats(const ps_stats_t *st, const ps_scale_opts_t *opts, const char *names,
                             size_t name_width, MPI_Comm comm, ps_scale_t **out) {
  ps_err_t err = PS_OK;
  ps_scale_t *s = NULL;
  *out = NULL;
  /* n and d are global, so these checks give the same verdict on every rank;
   * the agreement below prints the message once. */
  if (st->n < 1)
    err = ps_error(PS_ERR_ARG, __FILE__, __LINE__, "scaling needs at least 1 row, got %lld",
                   (long long)st->n);
  else if ((err = ps_opt_validate(ps_scale_options, "scale", "scaling", opts)) == PS_OK)
    err = ps_scale_create(opts->kind, st->d, &s);
  if (err == PS_OK) err = from_stats(st, opts->kind, names, name_width, s);
  PS_AGREE(comm);
  *out = s;
  s = NULL;
cleanup:
  ps_scale_destroy(&s);
  return err;
}

ps_err_t ps_scale_fit(const ps_matrix_t *x, const ps_scale_opts_t *opts, const char *names,
                      size_t name_width, MPI_Comm comm, ps_scale_t **out) {
  ps_err_t err = PS_OK;
  ps_stats_t *st = NULL;
  *out = NULL;
  if (x->n_global < 1)
    err = ps_error(PS_ERR_ARG, __FILE__, __LINE__, "scaling needs at least 1 row, got %lld",
                   (long long)x->n_global);
  PS_AGREE(comm);
  PS_TRY(ps_stats_compute(x, 0, comm, &st));
  PS_TRY(ps_scale_from_stats(st, opts, names, name_width, comm, out));
cleanup:
  ps_stats_destroy(&st);
  return err;
}

void ps_scale_apply(const ps_scale_t *s, ps_matrix_t *x) {
  int64_t d = s->d;
  if (s->kind == PS_SCALE_NONE) return;
  for (int64_t i = 0; i < x->n_local; i++) {
    double *row = x->data + i * d;
    for (int64_t j = 0; j < d; j++) row[j] = (row[j] - s->offset[j]) * s->factor[j];
  }
}

void ps_scale_inverse(const ps_scale_t *s, double *rows, int64_t n) {
  int64_t d = s->d;
  if (s->kind == PS_SCALE_NONE) return;
  for (int64_t i = 0; i < n; i++) {
    double *row = rows + i * d;
    for (int64_t j = 0; j < d; j++)
      row[j] = s->factor[j] != 0.0 ? row[j] / s->factor[j] + s->offset[j] : s->offset[j];
  }
}

void ps_scale_describe(ps_h5w_t *w, const ps_scale_t *s) {
  ps_h5w_data(w, "scale/offset", PS_H5_F64, 0, "feature", s->offset,
              "scaling: x_scaled = (x - offset) * factor (min, or mean, or 0)");
  ps_h5w_data(w, "scale/factor", PS_H5_F64, 0, "feature", s->factor,
              "scaling: 1 / (max - min), or 1 / sd, or 1; 0 for a constant feature");
  ps_h5w_attr_str(w, "scale", "kind", ps_scale_kind_name(s->kind));
}

ps_err_t ps_scale_read(ps_h5r_t *r, int64_t d, ps_scale_t **out) {
  ps_err_t err = PS_OK;
  ps_scale_t *s = NULL;
  char kind_s[64] = "";
  ps_scale_kind_t kind = PS_SCALE_MINMAX;
  int64_t dims[1], want[1] = {d};
  *out = NULL;
  PS_CHECK(ps_h5r_has(r, "scale"), PS_ERR_FORMAT,
           "%s: /scale: group not found (not the results file of a fit?)", ps_h5r_path(r));
  PS_TRY(ps_h5r_attr_str(r, "scale", "kind", 1, kind_s, sizeof kind_s, NULL));
  PS_CHECK(ps_scale_kind_parse(kind_s, &kind) == PS_OK, PS_ERR_FORMAT,
           "%s: /scale: unknown scaling kind '%s' in attribute 'kind'", ps_h5r_path(r), kind_s);
  PS_TRY(ps_h5r_shape(r, "scale/offset", PS_H5_F64, 1, want, NULL, dims, NULL));
  PS_TRY(ps_h5r_shape(r, "scale/factor", PS_H5_F64, 1, want, NULL, dims, NULL));
  err = ps_scale_create(kind, d, &s);
  PS_AGREE(ps_h5r_comm(r));
  PS_TRY(ps_h5r_read(r, "scale/offset", PS_H5_F64, 0, 0, d, s->offset));
  PS_TRY(ps_h5r_read(r, "scale/factor", PS_H5_F64, 0, 0, d, s->factor));
  *out = s;
  s = NULL;
cleanup:
  ps_scale_destroy(&s);
  return ps_err_agree(ps_h5r_comm(r), err);
}
