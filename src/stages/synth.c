/* synth.c - the census-like synthetic table (see synth.h).
 *
 * A row first draws its segment (unequal weights), then every feature from
 * the segment's profile plus noise. Shares are logistic-normal: the segment's
 * logits plus per-row Gaussian noise, through a softmax, in percent rounded
 * to 0.1 with the rounding residue put on the largest share, so a group sums
 * to 100. The noise is wide enough that segments overlap. Draws come from the
 * counter-based generator keyed by (seed, row, slot): no state, any order.
 */
#include "popseg/synth.h"

#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "popseg/h5io.h"
#include "popseg/rng.h"
#include "popseg/table.h"
#include "popseg/version.h"

#define SO(f) offsetof(ps_synth_opts_t, f)
const ps_opt_t ps_synth_options[] = {
    {.flag = "--rows",
     .field = "rows",
     .kind = PS_OPT_I64,
     .offset = SO(rows),
     .min = 1,
     .max = 1e15,
     .metavar = "N",
     .help = "rows to generate (required)"},
    {.flag = "--features",
     .field = "features",
     .kind = PS_OPT_I64,
     .offset = SO(features),
     .min = 1,
     .max = 32000,
     .def = "34",
     .metavar = "D",
     .help = "the 34 census features; fewer take the first ones, more add x035, x036, ..."},
    {.flag = "--segments",
     .field = "segments",
     .kind = PS_OPT_I64,
     .offset = SO(segments),
     .min = 1,
     .max = 1000,
     .def = "8",
     .metavar = "S",
     .help = "segments in the mixture"},
    {.flag = "--seed",
     .field = "seed",
     .kind = PS_OPT_U64,
     .offset = SO(seed),
     .min = 0,
     .max = 1.8446744073709552e19,
     .def = "0",
     .metavar = "S",
     .help = "every value derives from it and the row's global index"},
    {0}};
#undef SO

void ps_synth_opts_default(ps_synth_opts_t *o) {
  memset(o, 0, sizeof *o);
  ps_opt_defaults(ps_synth_options, o);
}

static const char *const census_names[34] = {
    "TotalPop",     "Men",          "Women",        "Hispanic",        "White",
    "Black",        "Native",       "Asian",        "Pacific",         "Citizen",
    "Income",       "IncomeErr",    "IncomePerCap", "IncomePerCapErr", "Poverty",
    "ChildPoverty", "Professional", "Service",      "Office",          "Construction",
    "Production",   "Drive",        "Carpool",      "Transit",         "Walk",
    "OtherTransp",  "WorkAtHome",   "MeanCommute",  "Employed",        "PrivateWork",
    "PublicWork",   "SelfEmployed", "FamilyWork",   "Unemployment"};

void ps_synth_feature_name(int64_t j, char *buf) {
  if (j < 34)
    snprintf(buf, 16, "%s", census_names[j]);
  else
    snprintf(buf, 16, "x%03d", (int)(j + 1));
}

/* Streams of the generator: segment profiles, and row draws. */
enum { ST_PROFILE = 11, ST_ROW = 12, ST_WEIGHT = 13 };

/* A standard normal from (seed, stream, slot): Box-Muller on two uniforms. */
static double normal(uint64_t seed, uint64_t stream, uint64_t slot) {
  double u1 = 1.0 - ps_rng_uniform(seed, stream, 2 * slot);
  double u2 = ps_rng_uniform(seed, stream, 2 * slot + 1);
  return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

/* Share groups: their first feature, size, and base logits of a profile. */
typedef struct {
  int first, n;
  double base[6];
} group_t;

static const group_t groups[4] = {{3, 6, {0.5, 2.5, 0.8, -1.0, -0.5, -3.0}}, /* race */
                                  {16, 5, {1.0, 0.6, 0.8, 0.2, 0.4, 0}},     /* occupation */
                                  {21, 6, {4.0, 2.0, -0.5, 0.5, 0.0, 1.0}},  /* commute */
                                  {29, 4, {4.0, 2.5, 1.8, -2.5, 0, 0}}};     /* type of work */

/* A segment's profile: the centre of its rows. */
typedef struct {
  double log_pop, p_men, p_cit, log_income, poverty, commute, p_emp, unemp;
  double logit[4][6];
  double extra_shift; /* features beyond the census ones */
} profile_t;

static void profile(uint64_t seed, int64_t s, profile_t *p) {
  uint64_t c = (uint64_t)s * 64;
  p->log_pop = 9.0 + 1.2 * normal(seed, ST_PROFILE, c++);
  p->p_men = 0.49 + 0.01 * normal(seed, ST_PROFILE, c++);
  p->p_cit = 0.72 + 0.05 * normal(seed, ST_PROFILE, c++);
  p->log_income = log(50000.0) + 0.22 * normal(seed, ST_PROFILE, c++);
  p->poverty = 15.0 + 5.0 * normal(seed, ST_PROFILE, c++);
  p->commute = 23.0 + 4.0 * normal(seed, ST_PROFILE, c++);
  p->p_emp = 0.45 + 0.05 * normal(seed, ST_PROFILE, c++);
  p->unemp = 7.0 + 2.5 * normal(seed, ST_PROFILE, c++);
  for (int g = 0; g < 4; g++)
    for (int q = 0; q < groups[g].n; q++)
      p->logit[g][q] = groups[g].base[q] + 0.7 * normal(seed, ST_PROFILE, c++);
  p->extra_shift = 3.0 * normal(seed, ST_PROFILE, c++);
}

static double clip(double v, double lo, double hi) {
  return v < lo ? lo : v > hi ? hi : v;
}

static double round_to(double v, double unit) {
  return floor(v / unit + 0.5) * unit;
}

/* Shares of one group in percent (0.1 steps) summing to 100. */
static void shares(const double *logit, int n, uint64_t seed, uint64_t slot0, double *out) {
  double e[6], sum = 0.0, rounded = 0.0;
  int big = 0;
  for (int q = 0; q < n; q++) {
    e[q] = exp(logit[q] + 0.9 * normal(seed, ST_ROW, slot0 + (uint64_t)q));
    sum += e[q];
  }
  for (int q = 0; q < n; q++) {
    out[q] = round_to(100.0 * e[q] / sum, 0.1);
    rounded += out[q];
    if (out[q] > out[big]) big = q;
  }
  out[big] = round_to(out[big] + (100.0 - rounded), 0.1);
}

/* Segment weights: unequal, fixed by the seed. cum [s] is cumulative. */
static void weights(uint64_t seed, int64_t S, double *cum) {
  double total = 0.0;
  for (int64_t s = 0; s < S; s++) {
    total += 0.3 + ps_rng_uniform(seed, ST_WEIGHT, (uint64_t)s);
    cum[s] = total;
  }
  for (int64_t s = 0; s < S; s++) cum[s] /= total;
}

/* The 34 census values of one row of segment p; z: row slot base. */
static void census_row(const profile_t *p, uint64_t seed, uint64_t z, double *v) {
  double pop = round_to(clip(exp(p->log_pop + 1.0 * normal(seed, ST_ROW, z + 0)), 60.0, 1e8), 1.0);
  v[0] = pop;
  v[1] = round_to(pop * clip(p->p_men + 0.01 * normal(seed, ST_ROW, z + 1), 0.4, 0.6), 1.0);
  v[2] = pop - v[1];
  shares(p->logit[0], 6, seed, z + 2, v + 3);
  v[9] = round_to(pop * clip(p->p_cit + 0.05 * normal(seed, ST_ROW, z + 8), 0.3, 0.95), 1.0);
  double income = round_to(exp(p->log_income + 0.25 * normal(seed, ST_ROW, z + 9)), 1.0);
  double err_rel = 0.03 + 2.0 / sqrt(pop);
  v[10] = income;
  v[11] = round_to(income * err_rel * exp(0.3 * normal(seed, ST_ROW, z + 10)), 1.0);
  v[12] = round_to(income * clip(0.55 + 0.05 * normal(seed, ST_ROW, z + 11), 0.3, 0.9), 1.0);
  v[13] = round_to(v[12] * err_rel * exp(0.3 * normal(seed, ST_ROW, z + 12)), 1.0);
  v[14] = round_to(clip(p->poverty + 4.0 * normal(seed, ST_ROW, z + 13), 1.0, 60.0), 0.1);
  v[15] = round_to(clip(1.35 * v[14] + 5.0 * normal(seed, ST_ROW, z + 14), 0.0, 90.0), 0.1);
  shares(p->logit[1], 5, seed, z + 15, v + 16);
  shares(p->logit[2], 6, seed, z + 20, v + 21);
  v[27] = round_to(clip(p->commute + 4.0 * normal(seed, ST_ROW, z + 26), 5.0, 60.0), 0.1);
  v[28] = round_to(pop * clip(p->p_emp + 0.04 * normal(seed, ST_ROW, z + 27), 0.2, 0.7), 1.0);
  shares(p->logit[3], 4, seed, z + 28, v + 29);
  v[33] = round_to(clip(p->unemp + 2.5 * normal(seed, ST_ROW, z + 32), 0.0, 40.0), 0.1);
}

void ps_synth_rows(const ps_synth_opts_t *o, int64_t first, int64_t n, double *x, int64_t *ids,
                   char *names, int32_t *segment) {
  const int64_t d = o->features, S = o->segments;
  double *cum = malloc((size_t)S * sizeof *cum), v[34];
  profile_t *prof = malloc((size_t)S * sizeof *prof);
  if (!cum || !prof) { /* the callers size the work so that this cannot happen */
    free(cum);
    free(prof);
    return;
  }
  weights(o->seed, S, cum);
  for (int64_t s = 0; s < S; s++) profile(o->seed, s, &prof[s]);
  for (int64_t i = 0; i < n; i++) {
    const int64_t g = first + i;
    const uint64_t z = (uint64_t)g * 64; /* 32 normals per row at most, 2 slots each */
    double u = ps_rng_uniform(o->seed, ST_WEIGHT, 1000000 + (uint64_t)g);
    int64_t s = 0;
    while (s < S - 1 && u >= cum[s]) s++;
    if (segment) segment[i] = (int32_t)s;
    if (ids) ids[i] = g + 1;
    if (names) {
      memset(names + (size_t)i * PS_SYNTH_NAME_WIDTH, 0, PS_SYNTH_NAME_WIDTH);
      snprintf(names + (size_t)i * PS_SYNTH_NAME_WIDTH, PS_SYNTH_NAME_WIDTH, "synth-%09lld",
               (long long)g + 1);
    }
    if (!x) continue;
    census_row(&prof[s], o->seed, z, v);
    double *row = x + i * d;
    for (int64_t j = 0; j < d && j < 34; j++) row[j] = v[j];
    for (int64_t j = 34; j < d; j++)
      row[j] = round_to(prof[s].extra_shift * (double)((j * 7 + s) % 5 - 2) +
                            normal(o->seed, ST_ROW + 1, (uint64_t)g * (uint64_t)d + (uint64_t)j),
                        1e-3);
  }
  free(cum);
  free(prof);
}

/* ------------------------------------------------------------- writing */

static void gen_features(void *ctx, int64_t first, int64_t n, void *buf) {
  ps_synth_rows(ctx, first, n, buf, NULL, NULL, NULL);
}

static void gen_ids(void *ctx, int64_t first, int64_t n, void *buf) {
  ps_synth_rows(ctx, first, n, NULL, buf, NULL, NULL);
}

static void gen_names(void *ctx, int64_t first, int64_t n, void *buf) {
  ps_synth_rows(ctx, first, n, NULL, NULL, buf, NULL);
}

ps_err_t ps_synth_write(const ps_synth_opts_t *o, const char *path, int force, MPI_Comm comm) {
  ps_err_t err = PS_OK;
  ps_h5w_t *w = NULL;
  char *fnames = NULL, source[256];
  int rank, size;
  int64_t off, cnt;
  MPI_Comm_rank(comm, &rank);
  MPI_Comm_size(comm, &size);
  PS_TRY(ps_opt_validate(ps_synth_options, "synth", "synth", o));
  fnames = calloc((size_t)o->features, 16);
  err = ps_h5w_create(&w);
  PS_CHECK_ALL(comm, fnames != NULL && err == PS_OK, PS_ERR_MEM, "out of memory");
  for (int64_t j = 0; j < o->features; j++) ps_synth_feature_name(j, fnames + j * 16);
  ps_block_range(o->rows, size, rank, &off, &cnt);
  ps_h5w_dim_gen(w, "row", o->rows, PS_H5_I64, 0, gen_ids, (void *)o,
                 "the rows: dimension scale, coordinates = row ids");
  ps_h5w_rows(w, "row", off, cnt);
  ps_h5w_dim(w, "feature", o->features, PS_H5_STR, 16, fnames,
             "the features: dimension scale, coordinates = feature names");
  ps_h5w_data_gen(w, "rows/id", PS_H5_I64, 0, "row", gen_ids, (void *)o, "row id (1-based)");
  ps_h5w_data_gen(w, "rows/name", PS_H5_STR, PS_SYNTH_NAME_WIDTH, "row", gen_names, (void *)o,
                  "row name");
  ps_h5w_data(w, "feature_names", PS_H5_STR, 16, "feature", fnames, "feature names");
  ps_h5w_data_gen(w, "features", PS_H5_F64, 0, "row,feature", gen_features, (void *)o,
                  "synthetic census-like values, original units [row][feature]");
  snprintf(source, sizeof source,
           "popseg synth --rows %lld --features %lld --segments %lld --seed %llu",
           (long long)o->rows, (long long)o->features, (long long)o->segments,
           (unsigned long long)o->seed);
  ps_h5w_attr_str(w, "", "popseg_file", "table");
  ps_h5w_attr_str(w, "", "popseg_version", POPSEG_VERSION);
  ps_h5w_attr_str(w, "", "source", source);
  ps_h5w_attr_str(w, "", "source_sha256", "");
  ps_h5w_attr_i64(w, "", "n_read", o->rows);
  ps_h5w_attr_i64(w, "", "n_dropped", 0);
  ps_h5w_attr_str(w, "", "dropped_examples", "");
  err = ps_h5w_write(w, path, force, comm);
cleanup:
  ps_h5w_destroy(&w);
  free(fnames);
  return err;
}
