/* prep.c - shares, weights, exclusions and transforms before scaling (prep.h).
 *
 * Every step works on this rank's rows only; the verdict on a bad value is
 * agreed across ranks at the end of each step, and the first failing row in
 * global order names itself (the lowest failing rank's message wins).
 */
#include "popseg/prep.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "popseg/reduce.h"

static const ps_opt_choice_t transform_choices[] = {
    {"none", PS_TRANSFORM_NONE}, {"log1p", PS_TRANSFORM_LOG1P}, {"asinh", PS_TRANSFORM_ASINH}, {0}};

#define PO(f) offsetof(ps_prep_opts_t, f)
const ps_opt_t ps_prep_options[] = {
    {.flag = "--weights",
     .field = "weights",
     .kind = PS_OPT_STRING,
     .offset = PO(weights),
     .metavar = "COLUMN",
     .help = "row weights from a column (people: TotalPop); it stays a feature unless excluded. "
             "Weighted mean, covariance and k-means; sizes in rows and weight"},
    {.flag = "--exclude-columns",
     .field = "exclude",
     .kind = PS_OPT_STRING,
     .offset = PO(exclude),
     .metavar = "A,B",
     .help = "leave these columns out of the features"},
    {.flag = "--share",
     .field = "share",
     .kind = PS_OPT_LIST,
     .offset = PO(share),
     .metavar = "BASE=A,B",
     .max_count = PS_PREP_MAX_SHARES,
     .help = "turn counts A, B into shares of BASE (A / BASE) before anything else (repeatable)"},
    {.flag = "--transform",
     .field = "transform",
     .kind = PS_OPT_CHOICE,
     .offset = PO(transform),
     .def = "none",
     .choices = transform_choices,
     .help = "transform skewed features before scaling: log1p (values >= 0) or asinh"},
    {.flag = "--transform-columns",
     .field = "transform_columns",
     .kind = PS_OPT_STRING,
     .offset = PO(transform_columns),
     .metavar = "A,B",
     .help = "the features --transform applies to (default: every feature)"},
    {0}};
#undef PO

void ps_prep_opts_default(ps_prep_opts_t *o) {
  memset(o, 0, sizeof *o);
  ps_opt_defaults(ps_prep_options, o);
}

const char *ps_transform_name(ps_transform_t t) {
  return t == PS_TRANSFORM_LOG1P ? "log1p" : t == PS_TRANSFORM_ASINH ? "asinh" : "none";
}

void ps_prep_from_opts(const ps_prep_opts_t *o, ps_prep_t *p) {
  size_t len = 0;
  memset(p, 0, sizeof *p);
  if (o->weights) snprintf(p->weights, sizeof p->weights, "%s", o->weights);
  if (o->exclude) snprintf(p->exclude, sizeof p->exclude, "%s", o->exclude);
  for (int i = 0; o->share[i] && len < sizeof p->share; i++)
    len +=
        (size_t)snprintf(p->share + len, sizeof p->share - len, "%s%s", i ? ";" : "", o->share[i]);
  p->transform = (ps_transform_t)o->transform;
  if (o->transform_columns)
    snprintf(p->transform_columns, sizeof p->transform_columns, "%s", o->transform_columns);
}

int ps_prep_any(const ps_prep_t *p) {
  return p->weights[0] || p->exclude[0] || p->share[0] || p->transform != PS_TRANSFORM_NONE;
}

/* The feature named name (len bytes) of t, or -1. */
static int64_t column(const ps_table_t *t, const char *name, size_t len) {
  for (int64_t j = 0; j < t->x->n_cols; j++) {
    const char *f = ps_table_fname(t, j);
    if (strlen(f) == len && strncmp(f, name, len) == 0) return j;
  }
  return -1;
}

/* The next comma-separated name of *s (leading and trailing blanks
 * dropped); 0 at the end. */
static int next_name(const char **s, char sep, const char **name, size_t *len) {
  const char *p = *s;
  if (!p || !*p) return 0;
  const char *e = strchr(p, sep);
  if (!e) e = p + strlen(p);
  *s = *e ? e + 1 : e;
  while (p < e && (*p == ' ' || *p == '\t')) p++;
  const char *q = e;
  while (q > p && (q[-1] == ' ' || q[-1] == '\t')) q--;
  *name = p;
  *len = (size_t)(q - p);
  return 1;
}

/* Not collective. Keep the columns with keep[j] of t (in order). */
static ps_err_t keep_columns(ps_table_t *t, const unsigned char *keep) {
  ps_err_t err = PS_OK;
  ps_matrix_t *x = t->x;
  const int64_t d = x->n_cols;
  int64_t nd = 0;
  for (int64_t j = 0; j < d; j++) nd += keep[j] != 0;
  if (nd == d) return PS_OK;
  for (int64_t i = 0; i < x->n_local; i++) {
    const double *src = x->data + i * d;
    double *dst = x->data + i * nd;
    for (int64_t j = 0, q = 0; j < d; j++)
      if (keep[j]) dst[q++] = src[j]; /* q <= j: in place, front to back */
  }
  for (int64_t j = 0, q = 0; j < d; j++)
    if (keep[j]) {
      if (q != j)
        memmove(t->feature_names + (size_t)q * t->fname_width,
                t->feature_names + (size_t)j * t->fname_width, t->fname_width);
      q++;
    }
  x->n_cols = nd;
  if (x->n_local > 0) {
    double *shrunk = realloc(x->data, (size_t)(x->n_local * nd) * sizeof *shrunk);
    if (shrunk) x->data = shrunk;
  }
  return err;
}

/* Collective. --share: A / BASE from the values as read. */
static ps_err_t apply_shares(const ps_prep_t *p, ps_table_t *t, MPI_Comm comm) {
  ps_err_t err = PS_OK;
  ps_matrix_t *x = t->x;
  const int64_t d = x->n_cols, nl = x->n_local;
  double *orig = NULL;
  const char *s = p->share, *spec;
  size_t slen;
  if (!p->share[0]) return PS_OK;
  orig = malloc((size_t)(nl > 0 ? nl * d : 1) * sizeof *orig);
  PS_CHECK_ALLOC(orig);
  if (nl > 0) memcpy(orig, x->data, (size_t)(nl * d) * sizeof *orig);
  while (next_name(&s, ';', &spec, &slen)) {
    char buf[4096];
    snprintf(buf, sizeof buf, "%.*s", (int)slen, spec);
    char *eq = strchr(buf, '=');
    PS_CHECK_OPT(eq && eq > buf && eq[1], PS_ERR_ARG, "prep.share",
                 "'%s' is not BASE=A,B (the columns to divide by the column BASE)", buf);
    *eq = '\0';
    const int64_t b = column(t, buf, strlen(buf));
    PS_CHECK_OPT(b >= 0, PS_ERR_ARG, "prep.share", "%s: no column '%s' (the base of --share %s=%s)",
                 t->input, buf, buf, eq + 1);
    const char *cols = eq + 1, *name;
    size_t len;
    while (next_name(&cols, ',', &name, &len)) {
      const int64_t a = column(t, name, len);
      PS_CHECK_OPT(a >= 0, PS_ERR_ARG, "prep.share", "%s: no column '%.*s' (in --share %s=%s)",
                   t->input, (int)len, name, buf, eq + 1);
      PS_CHECK_OPT(a != b, PS_ERR_ARG, "prep.share", "--share %s=%s: '%s' is its own base", buf,
                   eq + 1, buf);
      for (int64_t i = 0; i < nl; i++) {
        const double base = orig[i * d + b];
        PS_CHECK(base != 0.0, PS_ERR_FORMAT,
                 "%s: row %lld ('%s'): %s is 0, so '%.*s' cannot be a share of it (--share)",
                 t->input, (long long)(x->row_offset + i + 1), ps_table_name(t, i), buf, (int)len,
                 name);
        x->data[i * d + a] = orig[i * d + a] / base;
      }
    }
  }
cleanup:
  free(orig);
  return ps_err_agree(comm, err);
}

/* Collective. --weights: the column's values, checked. */
static ps_err_t take_weights(const ps_prep_t *p, const ps_table_t *t, int predict, MPI_Comm comm,
                             double **weights) {
  ps_err_t err = PS_OK;
  const ps_matrix_t *x = t->x;
  const int64_t d = x->n_cols, nl = x->n_local;
  double *w = NULL, top = 0.0;
  *weights = NULL;
  if (!p->weights[0]) return PS_OK;
  const int64_t c = column(t, p->weights, strlen(p->weights));
  if (c < 0 && predict) return PS_OK; /* sizes in rows only */
  PS_CHECK_OPT(c >= 0, PS_ERR_ARG, "prep.weights", "%s: no column '%s' for the weights", t->input,
               p->weights);
  w = malloc((size_t)(nl > 0 ? nl : 1) * sizeof *w);
  PS_CHECK_ALLOC(w);
  for (int64_t i = 0; i < nl; i++) {
    w[i] = x->data[i * d + c];
    PS_CHECK(isfinite(w[i]) && w[i] >= 0.0, PS_ERR_FORMAT,
             "%s: row %lld ('%s'): weight %s = %g; weights must be finite and >= 0", t->input,
             (long long)(x->row_offset + i + 1), ps_table_name(t, i), p->weights, w[i]);
    if (w[i] > top) top = w[i];
  }
cleanup:
  err = ps_err_agree(comm, err);
  if (err == PS_OK) err = ps_reduce_max(&top, 1, comm);
  if (err == PS_OK && !(top > 0.0))
    err = ps_error_opt(PS_ERR_FORMAT, __FILE__, __LINE__, "prep.weights",
                       "%s: the weights in column '%s' are all 0 (they need a positive total)",
                       t->input, p->weights);
  if (err != PS_OK) {
    free(w);
    w = NULL;
  }
  *weights = w;
  return err;
}

/* Not collective (the same verdict on every rank: names are replicated). */
static ps_err_t apply_exclude(const ps_prep_t *p, ps_table_t *t, int predict) {
  ps_err_t err = PS_OK;
  const int64_t d = t->x->n_cols;
  unsigned char *keep = malloc((size_t)(d > 0 ? d : 1));
  const char *s = p->exclude, *name;
  size_t len;
  int64_t left = d;
  PS_CHECK_ALLOC(keep);
  memset(keep, 1, (size_t)d);
  while (next_name(&s, ',', &name, &len)) {
    const int64_t j = column(t, name, len);
    if (j < 0 && (predict || len == 0)) continue;
    PS_CHECK_OPT(j >= 0, PS_ERR_ARG, "prep.exclude", "%s: no column '%.*s' to exclude", t->input,
                 (int)len, name);
    left -= keep[j];
    keep[j] = 0;
  }
  PS_CHECK_OPT(left > 0, PS_ERR_ARG, "prep.exclude", "%s: --exclude-columns leaves no feature",
               t->input);
  PS_TRY(keep_columns(t, keep));
cleanup:
  free(keep);
  return err;
}

/* Collective. --transform on the columns named (resolved for a fit). */
static ps_err_t apply_transform(ps_prep_t *p, ps_table_t *t, int predict, MPI_Comm comm,
                                ps_matrix_t **raw) {
  ps_err_t err = PS_OK;
  ps_matrix_t *x = t->x;
  const int64_t d = x->n_cols, nl = x->n_local;
  unsigned char *on = calloc((size_t)(d > 0 ? d : 1), 1);
  const char *s = p->transform_columns, *name;
  size_t len;
  *raw = NULL;
  PS_CHECK_ALLOC(on);
  if (p->transform == PS_TRANSFORM_NONE) {
    PS_CHECK_OPT(predict || !p->transform_columns[0], PS_ERR_ARG, "prep.transform_columns",
                 "--transform-columns names the columns of a transform: give --transform "
                 "log1p or asinh");
    goto cleanup;
  }
  if (!p->transform_columns[0] && !predict) {
    for (int64_t j = 0; j < d; j++) on[j] = 1;
  } else {
    while (next_name(&s, ',', &name, &len)) {
      const int64_t j = column(t, name, len);
      if (j < 0 && predict) continue; /* the feature match names it */
      PS_CHECK_OPT(j >= 0, PS_ERR_ARG, "prep.transform_columns",
                   "%s: '%.*s' is not a feature (--transform-columns names features, after "
                   "--exclude-columns)",
                   t->input, (int)len, name);
      on[j] = 1;
    }
  }
  if (!predict) { /* the model records the resolved list */
    size_t at = 0;
    p->transform_columns[0] = '\0';
    for (int64_t j = 0; j < d && at < sizeof p->transform_columns; j++)
      if (on[j])
        at += (size_t)snprintf(p->transform_columns + at, sizeof p->transform_columns - at, "%s%s",
                               at ? "," : "", ps_table_fname(t, j));
    PS_CHECK(at < sizeof p->transform_columns, PS_ERR_ARG,
             "--transform: the names of the transformed features exceed %zu bytes",
             sizeof p->transform_columns);
  }
  PS_TRY(ps_matrix_create(nl, d, x->row_offset, x->n_global, raw));
  if (nl > 0) memcpy((*raw)->data, x->data, (size_t)(nl * d) * sizeof(double));
  for (int64_t i = 0; i < nl; i++) {
    double *row = x->data + i * d;
    for (int64_t j = 0; j < d; j++) {
      if (!on[j]) continue;
      if (p->transform == PS_TRANSFORM_LOG1P) {
        PS_CHECK(row[j] >= 0.0, PS_ERR_FORMAT,
                 "%s: row %lld ('%s'): feature '%s' is %g; --transform log1p needs values >= 0 "
                 "(asinh takes any)",
                 t->input, (long long)(x->row_offset + i + 1), ps_table_name(t, i),
                 ps_table_fname(t, j), row[j]);
        row[j] = log1p(row[j]);
      } else {
        row[j] = asinh(row[j]);
      }
    }
  }
cleanup:
  free(on);
  err = ps_err_agree(comm, err);
  if (err != PS_OK) ps_matrix_destroy(raw);
  return err;
}

ps_err_t ps_prep_steps(const ps_prep_t *p, ps_table_t *t, int predict, MPI_Comm comm,
                       double **weights) {
  ps_err_t err = PS_OK;
  *weights = NULL;
  PS_TRY(apply_shares(p, t, comm));
  PS_TRY(take_weights(p, t, predict, comm, weights));
  err = apply_exclude(p, t, predict);
  PS_AGREE(comm);
cleanup:
  if (err != PS_OK) {
    free(*weights);
    *weights = NULL;
  }
  return err;
}

ps_err_t ps_prep_transform(ps_prep_t *p, ps_table_t *t, int predict, MPI_Comm comm,
                           ps_matrix_t **raw) {
  return apply_transform(p, t, predict, comm, raw);
}

ps_err_t ps_prep_apply(ps_prep_t *p, ps_table_t *t, int predict, MPI_Comm comm, double **weights,
                       ps_matrix_t **raw) {
  ps_err_t err = PS_OK;
  *raw = NULL;
  PS_TRY(ps_prep_steps(p, t, predict, comm, weights));
  err = ps_prep_transform(p, t, predict, comm, raw);
  if (err != PS_OK) {
    free(*weights);
    *weights = NULL;
  }
cleanup:
  return err;
}

void ps_prep_inverse(const ps_prep_t *p, const char *names, size_t width, int64_t d, double *rows,
                     int64_t n) {
  if (p->transform == PS_TRANSFORM_NONE) return;
  for (int64_t j = 0; j < d; j++) {
    const char *f = names + (size_t)j * width, *s = p->transform_columns, *name;
    size_t len;
    int on = 0;
    while (!on && next_name(&s, ',', &name, &len)) on = strlen(f) == len && !strncmp(f, name, len);
    if (!on) continue;
    for (int64_t i = 0; i < n; i++)
      rows[i * d + j] =
          p->transform == PS_TRANSFORM_LOG1P ? expm1(rows[i * d + j]) : sinh(rows[i * d + j]);
  }
}

void ps_prep_describe(ps_h5w_t *w, const ps_prep_t *p, int32_t *transformed_buf,
                      const ps_table_t *t) {
  const int64_t d = t->x->n_cols;
  for (int64_t j = 0; j < d; j++) {
    const char *f = ps_table_fname(t, j), *s = p->transform_columns, *name;
    size_t len;
    int on = 0;
    while (p->transform != PS_TRANSFORM_NONE && !on && next_name(&s, ',', &name, &len))
      on = strlen(f) == len && !strncmp(f, name, len);
    transformed_buf[j] = on;
  }
  ps_h5w_data(w, "prep/transformed", PS_H5_I32, 0, "feature", transformed_buf,
              "1 where --transform was applied to the feature before scaling");
  ps_h5w_attr_str(w, "prep", "weights", p->weights);
  ps_h5w_attr_str(w, "prep", "exclude_columns", p->exclude);
  ps_h5w_attr_str(w, "prep", "share", p->share);
  ps_h5w_attr_str(w, "prep", "transform", ps_transform_name(p->transform));
  ps_h5w_attr_str(w, "prep", "transform_columns", p->transform_columns);
}

ps_err_t ps_prep_read(ps_h5r_t *r, ps_prep_t *p) {
  ps_err_t err = PS_OK;
  char tr[32] = "none";
  memset(p, 0, sizeof *p);
  if (!ps_h5r_has(r, "prep")) return PS_OK; /* a model fitted without the steps */
  PS_TRY(ps_h5r_attr_str(r, "prep", "weights", 0, p->weights, sizeof p->weights, NULL));
  PS_TRY(ps_h5r_attr_str(r, "prep", "exclude_columns", 0, p->exclude, sizeof p->exclude, NULL));
  PS_TRY(ps_h5r_attr_str(r, "prep", "share", 0, p->share, sizeof p->share, NULL));
  PS_TRY(ps_h5r_attr_str(r, "prep", "transform", 0, tr, sizeof tr, NULL));
  PS_TRY(ps_h5r_attr_str(r, "prep", "transform_columns", 0, p->transform_columns,
                         sizeof p->transform_columns, NULL));
  p->transform = !strcmp(tr, "log1p")   ? PS_TRANSFORM_LOG1P
                 : !strcmp(tr, "asinh") ? PS_TRANSFORM_ASINH
                                        : PS_TRANSFORM_NONE;
  PS_CHECK(p->transform != PS_TRANSFORM_NONE || !strcmp(tr, "none"), PS_ERR_FORMAT,
           "%s: /prep: unknown transform '%s'", ps_h5r_path(r), tr);
cleanup:
  return err;
}
