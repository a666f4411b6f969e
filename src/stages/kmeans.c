/* kmeans.c - distributed k-means: seeding (k-means++, k-means||, random) and
 * Lloyd iterations.
 *
 * Rows stay on the rank that holds them; only centres, sampled rows and small
 * packed buffers travel. Every random choice is a pure function of (seed,
 * run, round, trial or global row index), and a row chosen by weight is found
 * by its global position in the row order, so the rank count does not change
 * which rows are picked (up to floating-point ties in the running sums).
 * k-means|| oversamples rows in a few rounds, weights each candidate by the
 * rows nearest to it, then runs weighted k-means++ and a short weighted Lloyd
 * on the candidates, identically on every rank.
 * The nearest-centre search uses the BLAS3 form ||c||^2 - 2 x.c in row
 * blocks, in coordinates shifted by the mean of the centres to limit
 * cancellation; near-ties are settled by the exact squared distance, then by
 * the lowest centre index, so the same centres always give the same labels.
 */
#include "popseg/kmeans.h"
#include "popseg/mem.h"

#include <cblas.h>
#include <limits.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "popseg/kmeans_nearest.h"
#include "popseg/reduce.h"
#include "popseg/rng.h"
#include "popseg/sig.h"

/* Rows gathered for a full nearest-centre search in a pruned iteration. */
#define KM_BATCH 256
/* Relocations of empty clusters remembered per iteration (k at most this many
 * empty at once is far beyond what happens; more are still correct, see
 * relocate_empty). */
#define KM_MAX_RELOC 64
/* Restarts iterated in lockstep (ps_kmeans_opts_t.lockstep): auto, and at
 * most. Each costs 12 bytes a row (labels and float bounds). */
#define KM_LOCKSTEP_AUTO 10
#define KM_LOCKSTEP_MAX 16
/* The most bytes the views beyond the first hold apart from their rows. */
#define KM_VIEWS_FIXED_MAX ((int64_t)64 << 20)
/* Weighted Lloyd iterations on the k-means|| candidates (at most). */
#define KM_REFINE_ITER 30
/* pick_row's margin for skipping blocks by a double running sum. */
#define PICK_SKIP 1e-6

/* Random stream kinds; a stream is the hash of (kind, run, round). */
enum { ST_PP = 1, ST_PAR_FIRST, ST_PAR_ROUND, ST_PAR_RECLUSTER, ST_PAR_TOPUP, ST_RANDOM };

static uint64_t stream_of(uint64_t kind, int run, int64_t round) {
  return ps_rng_u64(kind, (uint64_t)run, (uint64_t)round);
}

/* Uniform integer in [0, n). */
static int64_t uniform_index(uint64_t seed, uint64_t stream, uint64_t counter, int64_t n) {
  int64_t g = (int64_t)(ps_rng_uniform(seed, stream, counter) * (double)n);
  return g < n ? g : n - 1;
}

/* scikit-learn's greedy k-means++: 2 + floor(ln k) candidates per centre. */
static int n_trials(int64_t k) {
  return 2 + (int)floor(log((double)k));
}

/* The restarts in lockstep: ps_kmeans_opts_t.lockstep, or auto. */
static int lockstep_for(const ps_kmeans_opts_t *o, int n_runs) {
  int l = o && o->lockstep > 0 ? o->lockstep : KM_LOCKSTEP_AUTO;
  if (l > KM_LOCKSTEP_MAX) l = KM_LOCKSTEP_MAX;
  return l < n_runs ? l : (n_runs > 0 ? n_runs : 1);
}

/* ------------------------------------------------------------------------ */
/* Names and options */

static const ps_opt_choice_t algorithm_choices[] = {
    {"hamerly", PS_KM_HAMERLY}, {"lloyd", PS_KM_LLOYD}, {NULL, 0}};

static const ps_opt_choice_t init_choices[] = {{"kmeans++", PS_KM_INIT_KMEANSPP},
                                               {"kmeans-parallel", PS_KM_INIT_PARALLEL},
                                               {"random", PS_KM_INIT_RANDOM},
                                               {"k-means++", PS_KM_INIT_KMEANSPP},
                                               {"kmeans||", PS_KM_INIT_PARALLEL},
                                               {"k-means||", PS_KM_INIT_PARALLEL},
                                               {NULL, 0}};

#define KO(f) offsetof(ps_kmeans_opts_t, f)
const ps_opt_t ps_kmeans_options[] = {
    {.flag = "--k",
     .field = "k",
     .kind = PS_OPT_I64,
     .offset = KO(k),
     .min = 1,
     .max = 2147483647,
     .flags = PS_OPT_AUTO,
     .auto_value = 0,
     .def = "8",
     .metavar = "K",
     .help = "segments; auto: sweep --k-range and keep the suggested k (see popseg sweep)"},
    {.flag = "--kmeans-init",
     .field = "init",
     .kind = PS_OPT_CHOICE,
     .offset = KO(init),
     .def = "kmeans++",
     .choices = init_choices,
     .help = "seeding: greedy k-means++, k-means|| (Bahmani), or random rows; k-means++ at any "
             "n: k-means|| matched its inertia on synth data but seeded slower (bench/results.md)"},
    {.flag = "--kmeans-algorithm",
     .field = "algorithm",
     .kind = PS_OPT_CHOICE,
     .offset = KO(algorithm),
     .def = "hamerly",
     .choices = algorithm_choices,
     .help = "a Lloyd iteration computes every distance, or skips rows by Hamerly's bounds (same "
             "results)"},
    {.flag = "--kmeans-init-from",
     .field = "init_from",
     .kind = PS_OPT_STRING,
     .offset = KO(init_from),
     .metavar = "FILE.h5",
     .help = "start every run from the centroids of this results file (seeding skipped, 1 run)"},
    {.flag = "--kmeans-n-init",
     .field = "n_init",
     .kind = PS_OPT_INT,
     .offset = KO(n_init),
     .min = 1,
     .max = 100000,
     .flags = PS_OPT_AUTO,
     .auto_value = 0,
     .def = "auto",
     .metavar = "R",
     .help = "restarts; the best inertia is kept. auto: 1e7 / (rows k) restarts, at least 10 "
             "and at most 100 (restarts are cheap on small tables: 100 on the census)"},
    {.flag = "--kmeans-lockstep",
     .field = "lockstep",
     .kind = PS_OPT_INT,
     .offset = KO(lockstep),
     .min = 1,
     .max = KM_LOCKSTEP_MAX,
     .flags = PS_OPT_AUTO,
     .auto_value = 0,
     .def = "auto",
     .metavar = "L",
     .help = "restarts iterated together, L at a time: one pass over the rows serves them all "
             "(12 bytes a row each); 1: one after another. auto: 10. The same results for any L"},
    {.flag = "--kmeans-max-iter",
     .field = "max_iter",
     .kind = PS_OPT_INT,
     .offset = KO(max_iter),
     .min = 1,
     .max = 100000000,
     .def = "300",
     .metavar = "N",
     .help = "Lloyd iterations per run at most"},
    {.flag = "--kmeans-tol",
     .field = "tol",
     .kind = PS_OPT_DOUBLE,
     .offset = KO(tol),
     .min = 0,
     .max = 1e308,
     .def = "1e-4",
     .metavar = "T",
     .help = "stop when the centres move less than T x the mean feature variance"},
    {.flag = "--kmeans-rounds",
     .field = "parallel_rounds",
     .kind = PS_OPT_INT,
     .offset = KO(parallel_rounds),
     .min = 1,
     .max = 1000,
     .def = "5",
     .metavar = "N",
     .help = "k-means|| oversampling rounds"},
    {.flag = "--kmeans-oversample",
     .field = "oversample",
     .kind = PS_OPT_DOUBLE,
     .offset = KO(oversample),
     .min = 0,
     .max = 1e6,
     .flags = PS_OPT_MIN_OPEN,
     .def = "2",
     .metavar = "L",
     .help = "k-means|| samples L x k rows per round (expected)"},
    {.flag = "--seed",
     .field = "seed",
     .kind = PS_OPT_U64,
     .offset = KO(seed),
     .min = 0,
     .max = 1.8446744073709552e19,
     .def = "0",
     .metavar = "S",
     .help = "every random choice derives from it (and the global row index)"},
    {0}};
#undef KO

const char *ps_kmeans_init_name(ps_kmeans_init_t i) {
  return ps_opt_choice_name(ps_opt_find_field(ps_kmeans_options, "init"), (int)i);
}

/* Returns PS_ERR_ARG without recording a message: the caller words the complaint. */
const char *ps_kmeans_algorithm_name(ps_kmeans_algorithm_t a) {
  return ps_opt_choice_name(ps_opt_find_field(ps_kmeans_options, "algorithm"), (int)a);
}

ps_err_t ps_kmeans_init_parse(const char *s, ps_kmeans_init_t *out) {
  for (const ps_opt_choice_t *c = init_choices; s && out && c->name; c++)
    if (!strcmp(s, c->name)) {
      *out = (ps_kmeans_init_t)c->value;
      return PS_OK;
    }
  return PS_ERR_ARG;
}

int ps_kmeans_n_init_for(int64_t n, int64_t k, int n_init) {
  if (n_init > 0) return n_init;
  const double r = 1e7 / ((double)(n > 0 ? n : 1) * (double)(k > 0 ? k : 1));
  return r >= 100 ? 100 : r <= 10 ? 10 : (int)r;
}

void ps_kmeans_opts_default(ps_kmeans_opts_t *o) {
  memset(o, 0, sizeof *o);
  ps_opt_defaults(ps_kmeans_options, o);
}

void ps_kmeans_destroy(ps_kmeans_t **km) {
  if (!km || !*km) return;
  ps_kmeans_t *p = *km;
  free(p->centroids);
  free(p->labels);
  free(p->distance);
  free(p->sizes);
  free(p->weight_sizes);
  free(p->run_inertia);
  free(p->run_iterations);
  free(p);
  *km = NULL;
}

/* ------------------------------------------------------------------------ */
/* Nearest centre */

/* Centres c[q][dim] (q < n) into lanes: ct[g][d][l] = c[g * KM_LANES + l][d],
 * rows of c stride apart; unused lanes hold 0 and are never read back. */
static void to_lanes(const double *c, int64_t n, int64_t stride, int64_t dim, int64_t lanes,
                     double *ct) {
  int64_t groups = (n + lanes - 1) / lanes;
  for (int64_t g = 0; g < groups; g++)
    for (int64_t d = 0; d < dim; d++)
      for (int64_t l = 0; l < lanes; l++) {
        int64_t q = g * lanes + l;
        ct[(g * dim + d) * lanes + l] = q < n ? c[q * stride + d] : 0.0;
      }
}

/* Prepare then search: the nearest of k centres c for the n rows of x. */
static void nearest(const double *x, int64_t n, const double *c, int64_t k, ps_km_nearest_t *w,
                    int32_t *lab, double *d2) {
  ps_km_nearest_prep(w, c, k);
  ps_km_nearest_rows(w, x, n, lab, d2);
}

/* Exact distances to every centre, no workspace: the fallback when memory is
 * short. d2 may be NULL. */
static void nearest_exact(const double *x, int64_t n, int64_t dim, const double *c, int64_t k,
                          int32_t *lab, double *d2) {
  for (int64_t i = 0; i < n; i++) {
    const double *xi = x + i * dim;
    int64_t best = 0;
    double bd = ps_km_sqdist(xi, c, dim);
    for (int64_t j = 1; j < k; j++) {
      double dj = ps_km_sqdist(xi, c + j * dim, dim);
      if (dj < bd) {
        bd = dj;
        best = j;
      }
    }
    lab[i] = (int32_t)best;
    if (d2) d2[i] = bd;
  }
}

void ps_kmeans_assign(const double *centroids, int64_t k, const ps_matrix_t *x, int32_t *labels,
                      double *distance) {
  if (!x || !centroids || !labels || x->n_local <= 0 || k < 1) return;
  const int64_t n = x->n_local, dim = x->n_cols;
  ps_km_nearest_t w;
  double *d2 = distance ? distance : ps_rows_malloc((size_t)n, sizeof *d2);
  if (d2 && ps_km_nearest_alloc(&w, k, dim)) {
    nearest(x->data, n, centroids, k, &w, labels, d2);
    ps_km_nearest_free(&w);
  } else {
    nearest_exact(x->data, n, dim, centroids, k, labels, d2);
  }
  if (distance)
    for (int64_t i = 0; i < n; i++) distance[i] = sqrt(distance[i]);
  else
    free(d2);
}

/* ------------------------------------------------------------------------ */
/* Fit state */

typedef struct {
  const ps_matrix_t *x;
  const ps_kmeans_opts_t *o;
  MPI_Comm comm;
  int rank, size;
  int64_t n, nl, dim, k;
  int trials;
  int64_t *range;      /* [size][2] row_offset, n_local of every rank */
  ps_km_nearest_t ws;  /* for k centres */
  double *cent, *cnew; /* [k][dim] */
  int32_t *lab;        /* [nl] current labels */
  int32_t *lab_new;    /* [nl] scratch */
  double *d2;          /* [nl] squared distance to own centre */
  double *w;           /* [nl] seeding weights (squared distance to chosen centres) */
  double *cand;        /* [trials][dim + 1] k-means++ candidates (row, global index) */
  double *candt;       /* the candidates in lanes, see to_lanes */
  double *pot;         /* [trials] */
  double *uu;          /* [trials] */
  int *claim;          /* [trials] */
  int *empty;          /* [k] */
  int64_t *sizes;      /* [k] */
  int64_t *pick;       /* [k] */
  int64_t *hset;       /* [hcap] open-addressing set of global rows */
  int64_t hcap;
  double *rowbuf; /* [dim + 1] */
  /* Lloyd's sums, kept exactly and updated by the rows that change cluster
   * (reduce.h): the same bits however the rows are split or visited. */
  ps_xsum_t *acc;   /* [k][dim] this rank's sums of each cluster's rows */
  int64_t *cnt_l;   /* [k] this rank's cluster sizes */
  int64_t *red;     /* [k + 2] reduced with the sums: counts, changed, signal */
  ps_xsum_t *gacc;  /* [k][dim] the global sums */
  double *part;     /* [k][dim] block partials, zero between uses */
  int32_t *touched; /* [k] */
  int32_t *mv_list; /* [k] clusters with a pending partial of moved rows (move_row) */
  int mv_n;
  int64_t mv_block; /* the global block of the pending partials, -1: none */
  double *half;     /* [k] half the distance from each centre to the nearest other, x the margin */
  double *drift;    /* [4][k] how far each centre moved; then the next three */
  double *dcum, *mcum;             /* [k] Dc and Mc of the offset bounds (kmeans_nearest.h) */
  double *gmin;                    /* [k] the bounds step's threshold on gap, this iteration */
  int64_t *bidx;                   /* [KM_BATCH] rows whose every distance is computed */
  int32_t *blab;                   /* [KM_BATCH] */
  int32_t *bmov;                   /* [KM_BATCH] positions in the batch of the rows that move */
  double *bd2, *blb;               /* [KM_BATCH] */
  int64_t reloc_row[KM_MAX_RELOC]; /* local rows moved to an empty cluster, this iteration */
  int32_t reloc_old[KM_MAX_RELOC]; /* their clusters before */
  int n_reloc;
  int64_t dist_done, dist_lloyd; /* distances computed, and what plain Lloyd computes */
  float *upf, *gapf; /* [nl] Hamerly's bounds as offsets (ps_km_bounds_store), in f->w's memory
                         during Lloyd, or in bnd for a restart's own view (see lockstep) */
  /* A restart in lockstep (ps_kmeans_fit): each runs in its own copy of this
   * struct, a view, that shares x, the options and the scratch arrays but
   * owns its centres, labels, bounds, sums and the state of its loop. */
  float *bnd; /* [2][nl] the bounds of a view that owns them (NULL: in w) */
  int owns;   /* 1: a view's own arrays, freed by view_free */
  int run, it, strict, stopped, conv;
  int64_t changed;
  int32_t reloc_new[KM_MAX_RELOC];
  double tol_abs;
  int few;
  int64_t relocs;
  /* Row weights (opts->weights): the sums carry a weight slot per cluster
   * after the k * dim coordinates, so nsum = k * dim (+ k weighted). */
  const double *wt; /* [nl] or NULL */
  double *wtmp;     /* [nl] weighted: scratch for weight x value */
  double *wsizes;   /* [k] weighted: the weight in each cluster (last run) */
  int64_t nsum;
} fit_t;

static void fit_free(fit_t *f) {
  ps_km_nearest_free(&f->ws);
  free(f->range);
  free(f->cent);
  free(f->cnew);
  free(f->lab);
  free(f->lab_new);
  free(f->d2);
  free(f->w);
  free(f->cand);
  free(f->candt);
  free(f->pot);
  free(f->uu);
  free(f->claim);
  free(f->empty);
  free(f->sizes);
  free(f->pick);
  free(f->hset);
  free(f->rowbuf);
  free(f->acc);
  free(f->cnt_l);
  free(f->red);
  free(f->gacc);
  free(f->part);
  free(f->touched);
  free(f->mv_list);
  free(f->half);
  free(f->drift);
  free(f->bidx);
  free(f->blab);
  free(f->bmov);
  free(f->bd2);
  free(f->blb);
  free(f->wtmp);
  free(f->wsizes);
}

static int owner_of(const fit_t *f, int64_t g) {
  for (int r = 0; r < f->size; r++)
    if (g >= f->range[2 * r] && g < f->range[2 * r] + f->range[2 * r + 1]) return r;
  return -1;
}

/* Collective: global row g into out [dim] on every rank. */
static ps_err_t fetch_row(fit_t *f, int64_t g, double *out) {
  ps_err_t err = PS_OK;
  int owner = owner_of(f, g);
  /* The ranges are identical on all ranks, so they all agree here. */
  PS_CHECK(owner >= 0, PS_ERR_INTERNAL, "k-means: global row %lld has no owner", (long long)g);
  if (owner == f->rank)
    memcpy(out, f->x->data + (g - f->x->row_offset) * f->dim, (size_t)f->dim * sizeof *out);
  PS_TRY(ps_bcast_double(out, f->dim, owner, f->comm));
cleanup:
  return err;
}

static void hset_clear(fit_t *f) {
  for (int64_t i = 0; i < f->hcap; i++) f->hset[i] = -1;
}

/* Insert g; 1 if it was new, 0 if already present. */
static int hset_insert(fit_t *f, int64_t g) {
  uint64_t h = ((uint64_t)g * 0x9e3779b97f4a7c15ULL) >> 17;
  for (int64_t i = (int64_t)(h & (uint64_t)(f->hcap - 1));; i = (i + 1) & (f->hcap - 1)) {
    if (f->hset[i] == g) return 0;
    if (f->hset[i] < 0) {
      f->hset[i] = g;
      return 1;
    }
  }
}

/* Index of the weighted row where the running sum (starting at start) first
 * exceeds u; the last positive-weight row when rounding leaves u beyond the
 * end; -1 if no weight is positive. wscale (may be NULL) multiplies w. */
static int64_t pick_weighted(const double *w, const double *wscale, int64_t n, double start,
                             double u) {
  double cum = start;
  int64_t last = -1;
  for (int64_t i = 0; i < n; i++) {
    double v = wscale ? wscale[i] * w[i] : w[i];
    if (v > 0) {
      cum += v;
      last = i;
      if (cum > u) return i;
    }
  }
  return last;
}

/* ------------------------------------------------------------------------ */
/* Seeding */

/* Collective. The sum of v [nl] over all ranks: block partials added
 * exactly (reduce.h), the same bits at any rank count. */
static ps_err_t exact_total(fit_t *f, const double *v, double *out) {
  ps_err_t err = PS_OK;
  ps_xsum_t a;
  ps_xsum_clear(&a, 1);
  ps_xsum_add_blocks(v, f->x->row_offset, f->nl, &a);
  PS_TRY(ps_xsum_reduce(&a, 1, NULL, 0, f->comm));
  *out = ps_xsum_value(&a);
cleanup:
  return err;
}

/* Collective. The potential: the exact sum of d2 [nl], weighted by the
 * row weights when there are any. */
static ps_err_t potential(fit_t *f, const double *d2, double *out) {
  if (!f->wt) return exact_total(f, d2, out);
  for (int64_t i = 0; i < f->nl; i++) f->wtmp[i] = f->wt[i] * d2[i];
  return exact_total(f, f->wtmp, out);
}

/* Collective. The exact sum of w [nl] over all ranks (block partials,
 * reduce.h), and this rank's exact prefix: the sum over the ranks before it.
 * part [nblocks_local]: the block partials, kept for the pick. */
static ps_err_t weight_sums(fit_t *f, const double *w, double *part, ps_xsum_t *prefix,
                            double *total) {
  ps_err_t err = PS_OK;
  ps_xsum_t acc[2];
  int64_t i0, i1, b = 0;
  ps_xsum_clear(acc, 2);
  for (int64_t from = 0; ps_row_blocks(f->x->row_offset, f->nl, from, &i0, &i1); from = i1, b++) {
    double s = 0.0;
    for (int64_t i = i0; i < i1; i++) s += w[i];
    part[b] = s;
    ps_xsum_add(&acc[0], s);
  }
  ps_xsum_normalize(acc, 1);
  /* acc[1]: the ranks before this one (exact too: reduce.h). */
  PS_TRY(ps_xsum_exscan(&acc[0], &acc[1], 1, f->comm));
  *prefix = acc[1];
  PS_TRY(ps_xsum_reduce(&acc[0], 1, NULL, 0, f->comm));
  *total = ps_xsum_value(&acc[0]);
cleanup:
  return err;
}

/* Not collective. The row picked by the target u in [0, total): the first
 * row whose running weight passes u, where the running weight at a row is
 * the exact sum of the blocks before its block (rounded once) plus the sum of
 * its block's rows up to it, in row order. That depends on the block alone,
 * not on which rank holds it, so every rank count picks the same row.
 * prefix: this rank's exact prefix; part: its block partials. Returns the
 * local row, or -1 if u is beyond this rank's blocks (the caller then takes
 * its last positive-weight row, for a u that rounding leaves past the end). */
static int64_t pick_row(const fit_t *f, const double *w, const double *part,
                        const ps_xsum_t *prefix, double u) {
  ps_xsum_t F = *prefix;
  int64_t i0, i1, b = 0;
  /* Rounding the exact sum (ps_xsum_value) costs far more than adding to
   * it, so a running double sum a skips the blocks that certainly end below
   * u: the weights are >= 0 and a is within (blocks) x 2^-52 of the exact
   * sum, far inside PICK_SKIP, so a < u (1 - PICK_SKIP) proves the exact
   * sum, and so its rounding, is not above u. Any other block is decided
   * exactly, as before. */
  double a = ps_xsum_value(prefix);
  for (int64_t from = 0; ps_row_blocks(f->x->row_offset, f->nl, from, &i0, &i1); from = i1, b++) {
    a += part[b];
    if (a < u * (1.0 - PICK_SKIP)) {
      ps_xsum_add(&F, part[b]);
      continue;
    }
    const double start = ps_xsum_value(&F);
    ps_xsum_add(&F, part[b]);
    if (!(ps_xsum_value(&F) > u) || start > u) continue;
    double c = 0.0;
    int64_t last = -1;
    for (int64_t i = i0; i < i1; i++) {
      if (!(w[i] > 0)) continue;
      c += w[i];
      last = i;
      if (start + c > u) return i;
    }
    return last; /* rounding: the block's rows sum a hair below its exact total */
  }
  return -1;
}

/* Collective. T rows drawn with probability proportional to v [nl] (>= 0)
 * into f->cand [T][dim + 1] (row, global index) on every rank; *total: the
 * exact sum of v (0: nothing drawn). Each rank owns the targets in [its
 * prefix, its prefix + its weight); a target rounding leaves at or past the
 * total goes to the last rank with weight (the highest claimant).
 * part [nblocks_local] is scratch. */
static ps_err_t draw(fit_t *f, const double *v, uint64_t st, int T, double *part, double *total) {
  ps_err_t err = PS_OK;
  const int64_t dim = f->dim, nl = f->nl;
  const double *x = f->x->data;
  ps_xsum_t prefix, upto;
  PS_TRY(weight_sums(f, v, part, &prefix, total));
  if (!(*total > 0)) goto cleanup;
  upto = prefix;
  {
    int64_t i0, i1, b = 0;
    for (int64_t from = 0; ps_row_blocks(f->x->row_offset, nl, from, &i0, &i1); from = i1, b++)
      ps_xsum_add(&upto, part[b]);
  }
  const double lo = ps_xsum_value(&prefix), mine_hi = ps_xsum_value(&upto);
  for (int t = 0; t < T; t++) {
    f->uu[t] = ps_rng_uniform(f->o->seed, st, (uint64_t)t) * *total;
    f->claim[t] = (mine_hi > lo && f->uu[t] >= lo && (f->uu[t] < mine_hi || mine_hi >= *total))
                      ? f->rank
                      : -1;
  }
  PS_CALL_MPI(MPI_Allreduce(MPI_IN_PLACE, f->claim, T, MPI_INT, MPI_MAX, f->comm));
  for (int t = 0; t < T; t++) {
    double *ct = f->cand + t * (dim + 1);
    PS_CHECK(f->claim[t] >= 0, PS_ERR_INTERNAL, "k-means++: no rank owns draw %d", t);
    if (f->claim[t] == f->rank) {
      int64_t i = pick_row(f, v, part, &prefix, f->uu[t]);
      if (i < 0) /* beyond the last block's rounding: the last weighted row */
        for (int64_t q = nl - 1; q >= 0 && i < 0; q--)
          if (v[q] > 0) i = q;
      memcpy(ct, x + i * dim, (size_t)dim * sizeof *ct);
      ct[dim] = (double)(f->x->row_offset + i);
    }
    PS_TRY(ps_bcast_double(ct, dim + 1, f->claim[t], f->comm));
  }
cleanup:
  return err;
}

/* out[i] = sqdist(x_i, c) for the local rows, through the seeding kernel:
 * min(inf, d) = d, so the bits are sqdist's. */
static void dist_to(const fit_t *f, const double *c, double *out) {
  for (int64_t i = 0; i < f->nl; i++) out[i] = INFINITY;
  ps_km_dist_min(f->x->data, f->nl, f->dim, c, out);
}

/* Not collective. w [nl] = min(w, sqdist(x_i, centre c)) for each view
 * whose on[v] is set, a chunk of rows at a time for all of them, so each
 * chunk of x is read from memory once (the bits are ps_km_dist_min's, which
 * does each row alone); xc [KM_BATCH][dim] (NULL: none), the chunk's columns
 * (ps_km_columns8), transposed once for all the views. */
static void dist_min_views(fit_t **vs, int nv, int64_t c, const int *on, double *xc) {
  const int64_t dim = vs[0]->dim, nl = vs[0]->nl;
  const double *x = vs[0]->x->data;
  for (int64_t i0 = 0; i0 < nl; i0 += KM_BATCH) {
    const int64_t m = nl - i0 < KM_BATCH ? nl - i0 : KM_BATCH;
    const int64_t nc = xc ? ps_km_columns8(x + i0 * dim, m, dim, xc) : 0;
    for (int v = 0; v < nv; v++)
      if (on[v])
        ps_km_dist_min_cols(x + i0 * dim, xc, nc, m, dim, vs[v]->cent + c * dim, vs[v]->w + i0);
  }
}

/* k-means++ with D^2 sampling across ranks (greedy trials, as scikit-learn)
 * for the restarts of nv views at once: each view draws from its own weights
 * (its w) and random streams, as it would alone, and the passes over x (the
 * trials' potentials, the distances to each new centre) serve all views a
 * block at a time. The weights' totals, the picks and the trials' potentials
 * use exact block sums (reduce.h), so every rank count picks the same rows. */
static ps_err_t seed_kmeanspp(fit_t **vs, int nv) {
  ps_err_t err = PS_OK;
  fit_t *f = vs[0];
  const int64_t dim = f->dim, nl = f->nl, k = f->k;
  const double *x = f->x->data;
  const uint64_t seed = f->o->seed;
  const int T = f->trials;
  const int64_t groups = (T + 3) / 4, nblk = nl / PS_ROW_BLOCK + 2;
  double *part = malloc((size_t)nblk * sizeof *part);
  ps_xsum_t *potx = malloc((size_t)(nv * T) * sizeof *potx);
  /* Several views, or more than four trials: a block's columns, transposed
   * once for all the kernels that read it (their own transposes cost as much
   * as their arithmetic). */
  const int64_t xrows = PS_ROW_BLOCK > KM_BATCH ? PS_ROW_BLOCK : KM_BATCH;
  const int cols = (nv > 1 || groups > 1) && ps_km_columns8_used(dim);
  double *xc = cols ? malloc((size_t)(xrows * dim) * sizeof *xc) : NULL;
  int on[KM_LOCKSTEP_MAX];
  PS_CHECK_ALL(f->comm, part && potx && (!cols || xc), PS_ERR_MEM,
               "out of memory in k-means++ seeding");

  for (int v = 0; v < nv; v++) {
    fit_t *g = vs[v];
    double total0 = 0.0;
    if (g->wt) {
      /* Weighted: the first centre is drawn by weight too (one trial). */
      PS_TRY(draw(g, g->wt, stream_of(ST_PP, g->run, 0), 1, part, &total0));
      memcpy(g->cent, g->cand, (size_t)dim * sizeof *g->cent);
    } else {
      PS_TRY(fetch_row(g, uniform_index(seed, stream_of(ST_PP, g->run, 0), 0, g->n), g->cent));
    }
    for (int64_t i = 0; i < nl; i++) g->w[i] = INFINITY; /* min(inf, d) = d: sqdist's bits */
    on[v] = 1;
  }
  dist_min_views(vs, nv, 0, on, nv > 1 ? xc : NULL);

  for (int64_t c = 1; c < k; c++) {
    for (int v = 0; v < nv; v++) {
      fit_t *g = vs[v];
      const uint64_t st = stream_of(ST_PP, g->run, c);
      double total = 0.0;
      /* D^2 sampling, by weight x D^2 when weighted. */
      const double *val = g->w;
      if (g->wt) {
        for (int64_t i = 0; i < nl; i++) g->wtmp[i] = g->wt[i] * g->w[i];
        val = g->wtmp;
      }
      PS_TRY(draw(g, val, st, T, part, &total));
      ps_xsum_clear(potx + v * T, T);
      on[v] = total > 0;
      if (!on[v]) {
        /* Every row sits on a chosen centre: fewer distinct rows than k. */
        g->few = 1;
        PS_TRY(fetch_row(g, uniform_index(seed, st, (uint64_t)T, g->n), g->cent + c * dim));
        continue;
      }
      to_lanes(g->cand, T, dim + 1, dim, 4, g->candt);
    }
    /* Potential of each candidate: one pass with the candidates in lanes,
     * block partials added exactly, one reduction for all trials and views. */
    /* Lanes past T are computed and dropped; each sum runs over a block's
     * rows in order. A block is laid out as columns once for every group of
     * four trials and every view. */
    int64_t i0, i1;
    for (int64_t from = 0; ps_row_blocks(f->x->row_offset, nl, from, &i0, &i1); from = i1) {
      const int64_t nc = xc ? ps_km_columns8(x + i0 * dim, i1 - i0, dim, xc) : 0;
      for (int64_t q = 0; q < groups; q++)
        for (int v = 0; v < nv; v++) {
          if (!on[v]) continue;
          double p[4] = {0.0, 0.0, 0.0, 0.0};
          ps_km_trials4_cols(x + i0 * dim, xc, nc, i1 - i0, dim, vs[v]->candt + q * dim * 4,
                             vs[v]->w + i0, f->wt ? f->wt + i0 : NULL, p);
          for (int64_t l = 0; l < 4 && q * 4 + l < T; l++)
            ps_xsum_add(&potx[v * T + q * 4 + l], p[l]);
        }
    }
    PS_TRY(ps_xsum_reduce(potx, nv * T, NULL, 0, f->comm));
    for (int v = 0; v < nv; v++) {
      if (!on[v]) continue;
      fit_t *g = vs[v];
      ps_xsum_values(potx + v * T, T, f->pot);
      int best = 0;
      for (int t = 1; t < T; t++)
        if (f->pot[t] < f->pot[best]) best = t;
      memcpy(g->cent + c * dim, g->cand + best * (dim + 1), (size_t)dim * sizeof(double));
    }
    dist_min_views(vs, nv, c, on, nv > 1 ? xc : NULL);
  }
cleanup:
  free(part);
  free(potx);
  free(xc);
  return err;
}

/* k distinct global rows, uniformly (Floyd's sampling), owners broadcast. */
static ps_err_t seed_random(fit_t *f, int run) {
  ps_err_t err = PS_OK;
  const uint64_t st = stream_of(ST_RANDOM, run, 0);
  int64_t m = 0;
  hset_clear(f);
  for (int64_t j = f->n - f->k; j < f->n; j++) {
    int64_t t = uniform_index(f->o->seed, st, (uint64_t)j, j + 1);
    if (hset_insert(f, t)) {
      f->pick[m++] = t;
    } else {
      hset_insert(f, j);
      f->pick[m++] = j;
    }
  }
  for (int64_t c = 0; c < f->k; c++) PS_TRY(fetch_row(f, f->pick[c], f->cent + c * f->dim));
cleanup:
  return err;
}

/* Weighted greedy k-means++ on m candidate rows cand [m][dim] with weights
 * wts [m]; identical on every rank (no communication). cl [m] is scratch. */
static void recluster(fit_t *f, int run, const double *cand, const double *wts, int64_t m,
                      double *cl, int phi_zero) {
  const int64_t dim = f->dim, k = f->k;
  const uint64_t seed = f->o->seed;
  const int T = f->trials;
  double wsum = 0.0;
  for (int64_t j = 0; j < m; j++) wsum += wts[j];
  int64_t j0 = pick_weighted(wts, NULL, m, 0.0,
                             ps_rng_uniform(seed, stream_of(ST_PAR_RECLUSTER, run, 0), 0) * wsum);
  if (j0 < 0) j0 = 0;
  memcpy(f->cent, cand + j0 * dim, (size_t)dim * sizeof(double));
  for (int64_t j = 0; j < m; j++) cl[j] = ps_km_sqdist(cand + j * dim, f->cent, dim);

  for (int64_t c = 1; c < k; c++) {
    const uint64_t st = stream_of(ST_PAR_RECLUSTER, run, c);
    double *dst = f->cent + c * dim;
    double total = 0.0;
    for (int64_t j = 0; j < m; j++) total += wts[j] * cl[j];
    if (!(total > 0)) {
      /* The weighted candidates are all chosen: take any candidate; Lloyd
       * relocates the duplicate. If every row also sits on a candidate, the
       * data has fewer distinct rows than k. */
      if (phi_zero) f->few = 1;
      memcpy(dst, cand + uniform_index(seed, st, (uint64_t)T, m) * dim,
             (size_t)dim * sizeof(double));
      continue;
    }
    int64_t best_j = 0;
    double best_pot = INFINITY;
    for (int t = 0; t < T; t++) {
      double u = ps_rng_uniform(seed, st, (uint64_t)t) * total;
      int64_t jt = pick_weighted(cl, wts, m, 0.0, u);
      const double *cj = cand + jt * dim;
      double pot = 0.0;
      for (int64_t j = 0; j < m; j++) {
        double d = ps_km_sqdist(cand + j * dim, cj, dim);
        pot += wts[j] * (d < cl[j] ? d : cl[j]);
      }
      if (pot < best_pot) {
        best_pot = pot;
        best_j = jt;
      }
    }
    memcpy(dst, cand + best_j * dim, (size_t)dim * sizeof(double));
    for (int64_t j = 0; j < m; j++) {
      double d = ps_km_sqdist(cand + j * dim, dst, dim);
      if (d < cl[j]) cl[j] = d;
    }
  }
}

/* Weighted Lloyd on the candidates from the centres in f->cent, like Spark's
 * local k-means after k-means||. It costs almost nothing (m is about
 * rounds * oversample * k) and starts the full-data Lloyd near a local optimum:
 * on a 200,000 x 10, k = 50 mixture the distributed iterations roughly halved
 * with about the same final inertia. No communication; sums [k][dim + 1] and
 * lab [m] are scratch. An empty cluster keeps its centre. */
static void refine_candidates(fit_t *f, const double *cand, const double *wts, int64_t m,
                              double *sums, int32_t *lab) {
  const int64_t dim = f->dim, k = f->k;
  for (int64_t j = 0; j < m; j++) lab[j] = -1;
  for (int it = 0; it < KM_REFINE_ITER; it++) {
    int64_t changed = 0;
    memset(sums, 0, (size_t)(k * (dim + 1)) * sizeof(double));
    for (int64_t j = 0; j < m; j++) {
      const double *cj = cand + j * dim;
      int32_t best = 0;
      double bd = ps_km_sqdist(cj, f->cent, dim);
      for (int64_t c = 1; c < k; c++) {
        double d = ps_km_sqdist(cj, f->cent + c * dim, dim);
        if (d < bd) {
          bd = d;
          best = (int32_t)c;
        }
      }
      changed += best != lab[j];
      lab[j] = best;
      double *sc = sums + (int64_t)best * (dim + 1);
      for (int64_t d = 0; d < dim; d++) sc[d] += wts[j] * cj[d];
      sc[dim] += wts[j];
    }
    if (!changed) break;
    for (int64_t c = 0; c < k; c++) {
      const double *sc = sums + c * (dim + 1);
      if (sc[dim] > 0)
        for (int64_t d = 0; d < dim; d++) f->cent[c * dim + d] = sc[d] / sc[dim];
    }
  }
}

/* The candidates of k-means|| as they accumulate, with their buffers. */
typedef struct {
  double *cand;   /* [cap][dim] candidate rows, in global row order per round */
  int64_t *cidx;  /* [cap] their global row indices */
  int64_t m, cap; /* candidates so far, capacity */
  double phi;     /* global sum of squared distances to the nearest candidate */
  double *sendbuf, *recvbuf;
  int64_t *allm; /* [size] candidates each rank picked this round */
  int *counts, *displs;
  ps_km_nearest_t ws;
} par_t;

static void par_free(par_t *P) {
  ps_km_nearest_free(&P->ws);
  free(P->cand);
  free(P->cidx);
  free(P->sendbuf);
  free(P->recvbuf);
  free(P->allm);
  free(P->counts);
  free(P->displs);
}

/* Collective. Room for mnew more candidates and this round's buffers. */
static ps_err_t par_grow(fit_t *f, par_t *P, int64_t mloc, int64_t mnew) {
  ps_err_t err = PS_OK;
  const int64_t dim = f->dim;
  free(P->sendbuf);
  free(P->recvbuf);
  ps_km_nearest_free(&P->ws);
  P->sendbuf = malloc((size_t)((mloc > 0 ? mloc : 1) * (dim + 1)) * sizeof *P->sendbuf);
  P->recvbuf = malloc((size_t)(mnew * (dim + 1)) * sizeof *P->recvbuf);
  int ok = P->sendbuf && P->recvbuf && ps_km_nearest_alloc(&P->ws, mnew, dim);
  if (ok && P->m + mnew > P->cap) {
    double *nc = realloc(P->cand, (size_t)((P->m + mnew) * dim) * sizeof *P->cand);
    if (nc) P->cand = nc;
    int64_t *ni = realloc(P->cidx, (size_t)(P->m + mnew) * sizeof *P->cidx);
    if (ni) P->cidx = ni;
    ok = nc && ni;
    if (ok) P->cap = P->m + mnew;
  }
  PS_CHECK_ALL(f->comm, ok, PS_ERR_MEM, "out of memory in k-means||");
cleanup:
  return err;
}

/* Collective. One oversampling round: every row is picked with probability
 * l d^2 / phi, the picks are gathered on every rank in global row order, and
 * the distances to the nearest candidate (f->w) and phi are updated. */
static ps_err_t par_round(fit_t *f, int run, int r, par_t *P) {
  ps_err_t err = PS_OK;
  const int64_t dim = f->dim, nl = f->nl;
  const double *x = f->x->data, l = f->o->oversample * (double)f->k;
  double *d2 = f->w, *tmp = f->d2;
  int32_t *sel = f->lab_new;
  const uint64_t st = stream_of(ST_PAR_ROUND, run, r);
  int64_t mloc = 0, mnew = 0;
  for (int64_t i = 0; i < nl; i++) {
    double p = l * (f->wt ? f->wt[i] * d2[i] : d2[i]) / P->phi;
    int s =
        p >= 1.0 || (p > 0 && ps_rng_uniform(f->o->seed, st, (uint64_t)(f->x->row_offset + i)) < p);
    sel[i] = s;
    mloc += s;
  }
  PS_CALL_MPI(MPI_Allgather(&mloc, 1, MPI_INT64_T, P->allm, 1, MPI_INT64_T, f->comm));
  for (int q = 0; q < f->size; q++) {
    /* Every rank sees the same counts, so they all take the same branch. */
    PS_CHECK_OPT(P->allm[q] <= (INT_MAX - (int64_t)mnew * (dim + 1)) / (dim + 1), PS_ERR_MEM,
                 "kmeans.oversample",
                 "k-means||: too many candidates for one MPI message (oversample = %g)",
                 f->o->oversample);
    P->displs[q] = (int)(mnew * (dim + 1));
    P->counts[q] = (int)(P->allm[q] * (dim + 1));
    mnew += P->allm[q];
  }
  if (mnew == 0) return PS_OK;
  PS_TRY(par_grow(f, P, mloc, mnew));
  for (int64_t i = 0, q = 0; i < nl; i++) {
    if (!sel[i]) continue;
    memcpy(P->sendbuf + q * (dim + 1), x + i * dim, (size_t)dim * sizeof(double));
    P->sendbuf[q * (dim + 1) + dim] = (double)(f->x->row_offset + i);
    q++;
  }
  PS_CALL_MPI(MPI_Allgatherv(P->sendbuf, (int)(mloc * (dim + 1)), MPI_DOUBLE, P->recvbuf, P->counts,
                             P->displs, MPI_DOUBLE, f->comm));
  /* Row blocks ascend with the rank, so the candidates arrive in global row
   * order whatever the rank count. */
  for (int64_t q = 0; q < mnew; q++) {
    memcpy(P->cand + (P->m + q) * dim, P->recvbuf + q * (dim + 1), (size_t)dim * sizeof(double));
    P->cidx[P->m + q] = (int64_t)P->recvbuf[q * (dim + 1) + dim];
  }
  nearest(x, nl, P->cand + P->m * dim, mnew, &P->ws, NULL, tmp);
  P->m += mnew;
  for (int64_t i = 0; i < nl; i++)
    if (tmp[i] < d2[i]) d2[i] = tmp[i];
  PS_TRY(potential(f, d2, &P->phi));
cleanup:
  return err;
}

/* Collective. At most k candidates: use them all and top up with distinct
 * uniform rows. */
static ps_err_t par_topup(fit_t *f, int run, par_t *P) {
  ps_err_t err = PS_OK;
  const int64_t dim = f->dim, k = f->k;
  int64_t m = P->m;
  if (m < k && !(P->phi > 0)) f->few = 1;
  memcpy(f->cent, P->cand, (size_t)(m * dim) * sizeof(double));
  hset_clear(f);
  for (int64_t q = 0; q < m; q++) hset_insert(f, P->cidx[q]);
  uint64_t ctr = 0;
  const uint64_t st = stream_of(ST_PAR_TOPUP, run, 0);
  while (m < k) {
    int64_t g = uniform_index(f->o->seed, st, ctr++, f->n);
    if (!hset_insert(f, g)) continue;
    PS_TRY(fetch_row(f, g, f->cent + m * dim));
    m++;
  }
cleanup:
  return err;
}

/* Collective. More than k candidates: weight each by the rows nearest to it,
 * then weighted k-means++ and a short weighted Lloyd on them, identically on
 * every rank. */
static ps_err_t par_reduce(fit_t *f, int run, par_t *P) {
  ps_err_t err = PS_OK;
  const int64_t dim = f->dim, k = f->k, m = P->m;
  double *wts = NULL, *cl = NULL, *rsums = NULL;
  int32_t *rlab = NULL;
  ps_km_nearest_free(&P->ws);
  wts = malloc((size_t)m * sizeof *wts);
  cl = malloc((size_t)m * sizeof *cl);
  rsums = malloc((size_t)(k * (dim + 1)) * sizeof *rsums);
  rlab = malloc((size_t)m * sizeof *rlab);
  int ok = wts && cl && rsums && rlab && ps_km_nearest_alloc(&P->ws, m, dim);
  PS_CHECK_ALL(f->comm, ok, PS_ERR_MEM, "out of memory in k-means||");
  nearest(f->x->data, f->nl, P->cand, m, &P->ws, f->lab_new, f->d2);
  if (f->wt) {
    /* The weight nearest each candidate, summed exactly (any order). */
    ps_xsum_t *wx = malloc((size_t)m * sizeof *wx);
    PS_CHECK_ALL(f->comm, wx, PS_ERR_MEM, "out of memory in k-means||");
    ps_xsum_clear(wx, m);
    for (int64_t i = 0; i < f->nl; i++) ps_xsum_add(&wx[f->lab_new[i]], f->wt[i]);
    err = ps_xsum_reduce(wx, m, NULL, 0, f->comm);
    if (err == PS_OK) ps_xsum_values(wx, m, wts);
    free(wx);
    PS_TRY(err);
  } else {
    /* Counts: integers, exact in any order. */
    for (int64_t q = 0; q < m; q++) wts[q] = 0.0;
    for (int64_t i = 0; i < f->nl; i++) wts[f->lab_new[i]] += 1.0;
    PS_TRY(ps_reduce_sum(wts, m, f->comm));
  }
  recluster(f, run, P->cand, wts, m, cl, !(P->phi > 0));
  refine_candidates(f, P->cand, wts, m, rsums, rlab);
  /* Every rank computed the same; rank 0's copy makes it certain. */
  PS_TRY(ps_bcast_double(f->cent, k * dim, 0, f->comm));
cleanup:
  free(wts);
  free(cl);
  free(rsums);
  free(rlab);
  return err;
}

/* k-means|| (Bahmani et al. 2012): oversampled rounds, then weighted
 * k-means++ on the candidates. */
static ps_err_t seed_parallel(fit_t *f, int run) {
  ps_err_t err = PS_OK;
  const int64_t dim = f->dim;
  double *d2 = f->w; /* distance to the nearest candidate */
  par_t P;
  memset(&P, 0, sizeof P);
  P.allm = malloc((size_t)f->size * sizeof *P.allm);
  P.counts = malloc((size_t)f->size * sizeof *P.counts);
  P.displs = malloc((size_t)f->size * sizeof *P.displs);
  P.cap = 1;
  P.cand = malloc((size_t)dim * sizeof *P.cand);
  P.cidx = malloc(sizeof *P.cidx);
  PS_CHECK_ALL(f->comm, P.allm && P.counts && P.displs && P.cand && P.cidx, PS_ERR_MEM,
               "out of memory in k-means|| seeding");
  P.cidx[0] = uniform_index(f->o->seed, stream_of(ST_PAR_FIRST, run, 0), 0, f->n);
  PS_TRY(fetch_row(f, P.cidx[0], P.cand));
  P.m = 1;
  dist_to(f, P.cand, d2);
  PS_TRY(potential(f, d2, &P.phi));
  for (int r = 1; r <= f->o->parallel_rounds && P.phi > 0; r++) PS_TRY(par_round(f, run, r, &P));
  if (P.m <= f->k)
    PS_TRY(par_topup(f, run, &P));
  else
    PS_TRY(par_reduce(f, run, &P));
cleanup:
  par_free(&P);
  return err;
}

/* ------------------------------------------------------------------------ */
/* Lloyd */

/* Move each empty cluster to the row farthest from its own centre (the next
 * farthest for the next empty cluster), like scikit-learn. The row leaves its
 * cluster's sums exactly: in the global sums (gacc, cnt: every rank applies
 * the same change, the row is broadcast) and in its owner's sums, label and
 * bounds. The choice uses reduced values and ties go to the lowest global
 * row, so every rank count relocates the same rows. */
static ps_err_t relocate_empty(fit_t *f, int64_t *cnt) {
  ps_err_t err = PS_OK;
  const int64_t dim = f->dim, k = f->k;
  const double *x = f->x->data;
  int n_empty = 0;
  f->n_reloc = 0;
  /* Empty: no rows, or weighted no weight (as scikit-learn's). */
  for (int64_t j = 0; j < k; j++)
    if (f->wt ? !(ps_xsum_value(&f->gacc[k * dim + j]) > 0) : cnt[j] == 0)
      f->empty[n_empty++] = (int)j;
  /* n_empty comes from the reduced counts, so every rank takes this branch
   * or none; the bounds cannot stand in for distances here. */
  if (n_empty == 0) return PS_OK;
  for (int64_t i = 0; i < f->nl; i++) f->lab_new[i] = 0; /* 1: moved already */
  for (int e = 0; e < n_empty; e++) {
    const int j = f->empty[e];
    double v = -INFINITY;
    int64_t bi = -1;
    for (int64_t i = 0; i < f->nl; i++) {
      if (f->lab_new[i]) continue;
      double di = ps_km_sqdist(x + i * dim, f->cent + (int64_t)f->lab[i] * dim, dim);
      if (di > v) {
        v = di;
        bi = i;
      }
    }
    int owner;
    PS_TRY(ps_reduce_maxloc(&v, &owner, f->comm));
    if (!(v > 0)) {
      /* Every remaining row sits on its centre, so some centres coincide:
       * fewer distinct rows than k. Keep the empty centres where they are. */
      f->few = 1;
      break;
    }
    if (owner == f->rank) {
      const int32_t old = f->lab[bi];
      const double wb = f->wt ? f->wt[bi] : 1.0;
      memcpy(f->rowbuf, x + bi * dim, (size_t)dim * sizeof(double));
      f->rowbuf[dim] = (double)old;
      f->rowbuf[dim + 1] = wb;
      for (int64_t d = 0; d < dim; d++) {
        ps_xsum_add(&f->acc[(int64_t)old * dim + d], -wb * x[bi * dim + d]);
        ps_xsum_add(&f->acc[(int64_t)j * dim + d], wb * x[bi * dim + d]);
      }
      if (f->wt) {
        ps_xsum_add(&f->acc[k * dim + old], -wb);
        ps_xsum_add(&f->acc[k * dim + j], wb);
      }
      f->cnt_l[old]--;
      f->cnt_l[j]++;
      f->lab[bi] = (int32_t)j;
      f->lab_new[bi] = 1;
      /* No bounds: both tests fail, and the next assignment searches it.
       * (Its distance to j's new centre is 0 only if the centre moves onto
       * it, which a row of weight 0 does not make it do.) */
      f->upf[bi] = INFINITY;
      f->gapf[bi] = -INFINITY;
      if (f->n_reloc < KM_MAX_RELOC) {
        f->reloc_row[f->n_reloc] = bi;
        f->reloc_old[f->n_reloc++] = old;
      }
    }
    PS_TRY(ps_bcast_double(f->rowbuf, dim + 2, owner, f->comm));
    const int64_t old = (int64_t)f->rowbuf[dim];
    const double wb = f->rowbuf[dim + 1]; /* 1 unweighted: x 1 is exact */
    for (int64_t d = 0; d < dim; d++) {
      ps_xsum_add(&f->gacc[old * dim + d], -wb * f->rowbuf[d]);
      ps_xsum_clear(&f->gacc[(int64_t)j * dim + d], 1);
      ps_xsum_add(&f->gacc[(int64_t)j * dim + d], wb * f->rowbuf[d]);
    }
    if (f->wt) {
      ps_xsum_add(&f->gacc[k * dim + old], -wb);
      ps_xsum_clear(&f->gacc[k * dim + j], 1);
      ps_xsum_add(&f->gacc[k * dim + j], wb);
    }
    cnt[old] -= 1;
    cnt[j] += 1; /* weighted, an empty cluster may hold rows of weight 0 */
    f->relocs++;
  }
cleanup:
  return err;
}

/* Not collective. The pending moves of one global block (move_row) into the
 * exact sums: each touched cluster's partial, once. */
static void flush_moves(fit_t *f) {
  const int64_t dim = f->dim;
  const int64_t wslot = f->k * dim;
  for (int t = 0; t < f->mv_n; t++) {
    const int32_t c = f->mv_list[t];
    ps_xsum_add_n(f->acc + (int64_t)c * dim, f->part + (int64_t)c * dim, dim);
    memset(f->part + (int64_t)c * dim, 0, (size_t)dim * sizeof *f->part);
    if (f->wt) {
      ps_xsum_add(&f->acc[wslot + c], f->part[wslot + c]);
      f->part[wslot + c] = 0.0;
    }
    f->touched[c] = 0;
  }
  f->mv_n = 0;
  f->mv_block = -1;
}

/* Not collective. Row i now belongs to cluster j (was lab[i]): the sums
 * follow it. The rows that move within one fixed block of global rows are
 * summed in row order into per-cluster partials (the same rows move, in the
 * same order, whatever the rank count or the algorithm), and each partial is
 * added exactly when the block is done: exact adds per touched cluster and
 * block, not per moved row. */
static inline void move_row(fit_t *f, int64_t i, int32_t j) {
  const int64_t dim = f->dim, g = (f->x->row_offset + i) / PS_ROW_BLOCK;
  const int32_t old = f->lab[i];
  const double *xi = f->x->data + i * dim;
  if (g != f->mv_block) {
    flush_moves(f);
    f->mv_block = g;
  }
  double *po = f->part + (int64_t)old * dim, *pn = f->part + (int64_t)j * dim;
  if (f->wt) {
    const double wi = f->wt[i];
    for (int64_t d = 0; d < dim; d++) {
      po[d] -= wi * xi[d];
      pn[d] += wi * xi[d];
    }
    f->part[f->k * dim + old] -= wi;
    f->part[f->k * dim + j] += wi;
  } else {
    for (int64_t d = 0; d < dim; d++) {
      po[d] -= xi[d];
      pn[d] += xi[d];
    }
  }
  if (!f->touched[old]) f->touched[old] = 1, f->mv_list[f->mv_n++] = old;
  if (!f->touched[j]) f->touched[j] = 1, f->mv_list[f->mv_n++] = j;
  f->cnt_l[old]--;
  f->cnt_l[j]++;
  f->lab[i] = j;
}

/* Not collective. The full search for the gathered rows: labels, bounds
 * from the scores; rows that change cluster move their sums. Returns how
 * many changed. */
static int64_t flush_batch(fit_t *f, int64_t nb) {
  int64_t changed = 0;
  ps_km_nearest_rows_lb(&f->ws, f->x->data, f->bidx, nb, f->blab, NULL, f->bd2, f->blb);
  ps_km_bounds_store(f->dcum, f->mcum, f->bidx, 0, f->blab, f->bd2, f->blb, nb, f->upf, f->gapf);
  /* Which rows move, without a branch on it (a searched row keeps its
   * centre or not at random: the branch was mispredicted, most of assign's
   * own time); then the moves, in row order as before. */
  for (int64_t b = 0; b < nb; b++) {
    f->bmov[changed] = (int32_t)b;
    changed += f->blab[b] != f->lab[f->bidx[b]];
  }
  for (int64_t t = 0; t < changed; t++) {
    const int32_t b = f->bmov[t];
    move_row(f, f->bidx[b], f->blab[b]);
  }
  f->dist_done += nb * f->k;
  return changed;
}

/* Not collective. Half the distance from each centre to its nearest other
 * (a row nearer its centre than that is nearest it), deflated and times the
 * margin: the bounds step's threshold on a row's upper bound. */
static void half_gaps(fit_t *f) {
  const int64_t dim = f->dim, k = f->k;
  for (int64_t j = 0; j < k; j++) {
    double m = INFINITY;
    for (int64_t q = 0; q < k; q++)
      if (q != j) {
        double dq = ps_km_sqdist_fast(f->cent + j * dim, f->cent + q * dim, dim);
        if (dq < m) m = dq;
      }
    f->half[j] = 0.5 * sqrt(m) * PS_KM_DOWN * PS_KM_MARGIN;
  }
}

/* Not collective. One assignment of every local row to each view's centres
 * (prepared in its ws), the views in lockstep: a block of rows at a time,
 * every view in turn, so a row that fails several views' tests is fetched
 * from memory once and found in cache by the others. With prune (Hamerly),
 * a row whose bounds prove its centre is still the nearest is skipped (its
 * own centre is at most its drifts farther, every other at most the largest
 * other drifts closer: offsets from the cumulative drifts, see
 * kmeans_nearest.h, so a skipped row's bounds are not written), and the
 * others are searched in full.
 * Each view's changed counts its rows that changed cluster. The views' sums
 * follow their own rows in the order one view alone visits them (move_row),
 * so a view's bits do not depend on the others. */
static void assign(fit_t **vs, int nv, int prune) {
  const int64_t dim = vs[0]->dim, nl = vs[0]->nl;
  const double *x = vs[0]->x->data;
  ps_km_bounds_t bs[KM_LOCKSTEP_MAX];
  for (int v = 0; v < nv; v++) {
    fit_t *f = vs[v];
    f->changed = 0;
    f->dist_lloyd += nl * f->k;
    if (!prune) continue;
    half_gaps(f);
    for (int64_t j = 0; j < f->k; j++) f->gmin[j] = ps_km_next_up(f->dcum[j] + f->mcum[j]);
    bs[v] = (ps_km_bounds_t){
        .k = f->k, .gmin = f->gmin, .dcum = f->dcum, .half = f->half, .x = x, .dim = dim, .n = nl};
  }
  /* A row passes or fails the test at random, so the step does not branch
   * on it: the failing rows' indices are compacted, then searched in
   * batches (the step fetches each failing row as it finds it, the search
   * kernel the rows 32 ahead of the one it scores). Tightening the upper bound
   * first, Hamerly's second test, costs about one full search when k and the
   * dimension are small: not done. */
  /* With two runs or more, nearly every row fails some run's test, so the
   * next block of x is fetched whole, in order (the hardware's stride, no
   * per-row branch), instead of the failing rows one by one as the step does
   * for a run alone: Lloyd 5% faster at 10 runs (4M x 34, 2 ranks). */
  const int dense = prune && nv >= 2;
  if (dense)
    for (int v = 0; v < nv; v++) bs[v].x = NULL;
  for (int64_t i0 = 0; i0 < nl; i0 += KM_BATCH) {
    const int64_t m = nl - i0 < KM_BATCH ? nl - i0 : KM_BATCH;
    /* The next block's bytes [o0, o1) of x, as offsets: a pointer may not
     * step past the end of the array. */
    const int64_t j1 = nl - i0 < 2 * KM_BATCH ? nl : i0 + 2 * KM_BATCH;
    int64_t o0 = (i0 + m) * dim * (int64_t)sizeof *x;
    const int64_t o1 = j1 * dim * (int64_t)sizeof *x, share = ((o1 - o0) / nv + 63) / 64 * 64;
    for (int v = 0; v < nv; v++) {
      fit_t *f = vs[v];
      if (prune) {
        if (dense) {
          /* A view's share of the next block, so that the fetches overlap
           * the views' work instead of queueing all at once. */
          const int64_t q1 = share < o1 - o0 ? o0 + share : o1;
          for (; o0 < q1; o0 += 64) __builtin_prefetch((const char *)x + o0);
        }
        const int64_t nb = ps_km_bounds_step(&bs[v], f->lab, f->upf, f->gapf, i0, m, f->bidx);
        if (nb) f->changed += flush_batch(f, nb);
      } else {
        /* Plain Lloyd: every row, straight from x. */
        ps_km_nearest_rows(&f->ws, x + i0 * dim, m, f->blab, NULL);
        for (int64_t b = 0; b < m; b++)
          if (f->blab[b] != f->lab[i0 + b]) {
            move_row(f, i0 + b, f->blab[b]);
            f->changed++;
          }
        f->dist_done += m * f->k;
      }
    }
  }
  for (int v = 0; v < nv; v++) flush_moves(vs[v]);
}

/* Not collective. lloyd_begin's sums of the local rows [i0, i1), one block
 * of global rows, and their counts: the block's rows summed in row order
 * per cluster, then added exactly (reduce.h), as over the whole range. One
 * add per accumulator and block, far below the headroom (PS_XSUM_MAX_ADDS)
 * before lloyd_next's reduction normalizes. */
static void begin_sums(fit_t *f, int64_t i0, int64_t i1) {
  const int64_t dim = f->dim, k = f->k;
  const double *x = f->x->data;
  if (f->wt) {
    /* Weighted: as the moves are summed (move_row). */
    flush_moves(f);
    for (int64_t i = i0; i < i1; i++) {
      const int32_t c = f->lab[i];
      const double wi = f->wt[i];
      double *pc = f->part + (int64_t)c * dim;
      for (int64_t d = 0; d < dim; d++) pc[d] += wi * x[i * dim + d];
      f->part[k * dim + c] += wi;
      if (!f->touched[c]) f->touched[c] = 1, f->mv_list[f->mv_n++] = c;
    }
    flush_moves(f);
  } else {
    ps_xsum_group_blocks(x + i0 * dim, f->x->row_offset + i0, i1 - i0, dim, f->lab + i0, k, f->acc,
                         f->part, f->touched);
  }
  for (int64_t i = i0; i < i1; i++) f->cnt_l[f->lab[i]]++;
}

/* Not collective. The start of the Lloyd runs of nv views from their
 * centres (cent), in lockstep: the first assignment searches every row and
 * starts the sums from scratch (block partials, exactly: reduce.h). A batch
 * of rows at a time, every view in turn, so the rows are read from memory
 * once for all the views' searches and sums (one run at a time, each run
 * read the projection twice: 0.06-0.1 s a run at 5M rows a rank). The same
 * batches and blocks as a run alone, so the same bits: labels, bounds and
 * sums. */
static void lloyd_begin(fit_t **vs, int nv) {
  const int64_t dim = vs[0]->dim, nl = vs[0]->nl, off = vs[0]->x->row_offset;
  const double *x = vs[0]->x->data;
  const int prune = vs[0]->o->algorithm == PS_KM_HAMERLY;
  for (int v = 0; v < nv; v++) {
    fit_t *f = vs[v];
    ps_km_nearest_prep(&f->ws, f->cent, f->k);
    f->upf = f->bnd ? f->bnd : (float *)f->w;
    f->gapf = f->upf + (nl > 0 ? nl : 1);
    for (int64_t j = 0; j < f->k; j++) f->dcum[j] = f->mcum[j] = 0.0;
    ps_xsum_clear(f->acc, f->nsum);
    memset(f->cnt_l, 0, (size_t)f->k * sizeof *f->cnt_l);
  }
  /* The searches in batches of KM_BATCH local rows, as a run alone makes
   * them (the kernel a row gets, and so its bounds, depends on its place in
   * the batch); after each batch, the sums of the blocks of global rows it
   * completed, still in cache. s0: the rows before it are summed. */
  int64_t s0 = 0;
  for (int64_t b0 = 0; b0 < nl; b0 += KM_BATCH) {
    const int64_t m = nl - b0 < KM_BATCH ? nl - b0 : KM_BATCH;
    for (int v = 0; v < nv; v++) {
      fit_t *f = vs[v];
      ps_km_nearest_rows_lb(&f->ws, x + b0 * dim, NULL, m, f->lab + b0, NULL, prune ? f->bd2 : NULL,
                            prune ? f->blb : NULL);
      if (prune)
        ps_km_bounds_store(f->dcum, f->mcum, NULL, b0, f->lab + b0, f->bd2, f->blb, m, f->upf,
                           f->gapf);
    }
    int64_t i0, i1;
    while (ps_row_blocks(off, nl, s0, &i0, &i1) && i1 <= b0 + m) {
      for (int v = 0; v < nv; v++) begin_sums(vs[v], i0, i1);
      s0 = i1;
    }
  }
  for (int v = 0; v < nv; v++) {
    fit_t *f = vs[v];
    f->dist_done += nl * f->k;
    f->dist_lloyd += nl * f->k;
    f->changed = nl; /* from no labels at all */
    f->n_reloc = 0;
    f->it = f->strict = f->stopped = 0;
  }
}

/* Collective. The end of an iteration: one reduction (the exact sums, the
 * sizes, the changed rows, and a pending SIGTERM/SIGINT, which every rank so
 * learns of in the same iteration and stops at once, with no extra message),
 * the empty clusters relocated, the new centres and their drifts. *more: 1 if
 * the run assigns again (then ws holds the new centres), 0 if it stopped.
 * Every value decided on is reduced or computed from reduced values, so
 * every rank decides the same, whatever the rank count. */
static ps_err_t lloyd_next(fit_t *f, int *more) {
  ps_err_t err = PS_OK;
  const int64_t dim = f->dim, k = f->k;
  int64_t *cnt = f->red, *extra = cnt + k;
  *more = 0;
  if (f->it > 0) {
    /* The relocated rows: scikit-learn compares labels with those before
     * the relocation, so a row that stays where it was moved counts as
     * changed. */
    for (int r = 0; r < f->n_reloc; r++) {
      const int32_t now = f->lab[f->reloc_row[r]];
      f->changed += (now != f->reloc_old[r]) - (now != f->reloc_new[r]);
    }
  }
  memcpy(cnt, f->cnt_l, (size_t)k * sizeof *cnt);
  extra[0] = f->changed;
  extra[1] = ps_signal_pending() ? 1 : 0;
  PS_TRY(ps_xsum_reduce_to(f->acc, f->gacc, f->nsum, f->red, k + 2, f->comm));
  if (extra[1] > 0) PS_AGREE(f->comm);
  const int64_t changed_all = extra[0];
  PS_TRY(relocate_empty(f, cnt));

  /* The largest drift (centre jmax) and the second largest: every other
   * centre's largest other drift is dmax, jmax's is dmax2. */
  double shift = 0.0, dmax = 0.0, dmax2 = 0.0;
  int64_t jmax = -1;
  for (int64_t j = 0; j < k; j++) {
    const double *old = f->cent + j * dim;
    double *nw = f->cnew + j * dim;
    const double wj = f->wt ? ps_xsum_value(&f->gacc[k * dim + j]) : (double)cnt[j];
    if (cnt[j] > 0 && wj > 0) {
      for (int64_t d = 0; d < dim; d++) nw[d] = ps_xsum_value(&f->gacc[j * dim + d]) / wj;
    } else {
      memcpy(nw, old, (size_t)dim * sizeof *nw);
    }
    const double s2 = ps_km_sqdist(nw, old, dim);
    shift += s2;
    f->drift[j] = sqrt(s2) * PS_KM_UP;
    if (f->drift[j] > dmax) {
      dmax2 = dmax;
      dmax = f->drift[j];
      jmax = j;
    } else if (f->drift[j] > dmax2) {
      dmax2 = f->drift[j];
    }
  }
  /* The offset bounds' cumulative drifts, each sum rounded up. */
  for (int64_t j = 0; j < k; j++) {
    f->dcum[j] = ps_km_next_up(f->dcum[j] + f->drift[j]);
    f->mcum[j] = ps_km_next_up(f->mcum[j] + (j == jmax ? dmax2 : dmax));
  }
  double *t = f->cent;
  f->cent = f->cnew;
  f->cnew = t;
  f->it++;
  if (changed_all == 0) {
    f->strict = f->stopped = 1;
    goto cleanup;
  }
  if (shift <= f->tol_abs) {
    f->stopped = 1;
    goto cleanup;
  }
  if (f->it >= f->o->max_iter) goto cleanup;
  ps_km_nearest_prep(&f->ws, f->cent, k);
  for (int r = 0; r < f->n_reloc; r++) f->reloc_new[r] = f->lab[f->reloc_row[r]];
  *more = 1;
cleanup:
  return err;
}

/* Collective. The end of a run: labels that match the final centres (unless
 * no label changed), then the exact squared distances (into the shared d2),
 * the sizes and the inertia (exact block sums). */
static ps_err_t lloyd_end(fit_t *f, double *inertia) {
  ps_err_t err = PS_OK;
  const int64_t dim = f->dim, nl = f->nl, k = f->k;
  const double *x = f->x->data;
  int64_t *cnt = f->red;
  if (!f->strict) {
    ps_km_nearest_prep(&f->ws, f->cent, k);
    assign(&f, 1, f->o->algorithm == PS_KM_HAMERLY);
  }
  f->conv = f->stopped;
  ps_km_sqdist_own(x, nl, dim, f->cent, k, f->lab, f->d2);
  if (f->wt) {
    /* The weighted inertia and each cluster's weight (its exact local
     * slot, the moves all flushed), in one reduction. */
    ps_xsum_t *in = f->gacc; /* [k + 1] of its nsum: free now */
    for (int64_t i = 0; i < nl; i++) f->wtmp[i] = f->wt[i] * f->d2[i];
    ps_xsum_clear(in, 1);
    ps_xsum_add_blocks(f->wtmp, f->x->row_offset, nl, in);
    memcpy(in + 1, f->acc + k * dim, (size_t)k * sizeof *in);
    memcpy(cnt, f->cnt_l, (size_t)k * sizeof *cnt);
    PS_TRY(ps_xsum_reduce(in, k + 1, cnt, k, f->comm));
    for (int64_t j = 0; j < k; j++) f->sizes[j] = cnt[j];
    ps_xsum_values(in + 1, k, f->wsizes);
    *inertia = ps_xsum_value(in);
  } else {
    ps_xsum_t in;
    ps_xsum_clear(&in, 1);
    ps_xsum_add_blocks(f->d2, f->x->row_offset, nl, &in);
    memcpy(cnt, f->cnt_l, (size_t)k * sizeof *cnt);
    PS_TRY(ps_xsum_reduce(&in, 1, cnt, k, f->comm));
    for (int64_t j = 0; j < k; j++) f->sizes[j] = cnt[j];
    *inertia = ps_xsum_value(&in);
  }
cleanup:
  return err;
}

/* tol * mean of the per-feature (population) variances, two-pass, with
 * exact block sums (reduce.h): the same threshold at any rank count. */
static ps_err_t tolerance(fit_t *f, double *out) {
  ps_err_t err = PS_OK;
  const int64_t dim = f->dim, nl = f->nl;
  const double *x = f->x->data;
  double *mean = f->cent, *ss = f->cnew; /* both hold >= dim doubles */
  ps_xsum_t *acc = calloc((size_t)dim, sizeof *acc);
  double *part = calloc((size_t)dim, sizeof *part);
  int32_t touched[1];
  *out = 0.0;
  PS_CHECK_ALL(f->comm, acc && part, PS_ERR_MEM, "out of memory in k-means");
  ps_xsum_group_blocks(x, f->x->row_offset, nl, dim, NULL, 1, acc, part, touched);
  PS_TRY(ps_xsum_reduce(acc, dim, NULL, 0, f->comm));
  ps_xsum_values(acc, dim, mean);
  for (int64_t d = 0; d < dim; d++) mean[d] /= (double)f->n;
  ps_xsum_clear(acc, dim);
  {
    int64_t i0, i1;
    for (int64_t from = 0; ps_row_blocks(f->x->row_offset, nl, from, &i0, &i1); from = i1) {
      for (int64_t i = i0; i < i1; i++)
        for (int64_t d = 0; d < dim; d++) {
          double t = x[i * dim + d] - mean[d];
          part[d] += t * t;
        }
      ps_xsum_add_n(acc, part, dim);
      memset(part, 0, (size_t)dim * sizeof *part);
    }
  }
  PS_TRY(ps_xsum_reduce(acc, dim, NULL, 0, f->comm));
  ps_xsum_values(acc, dim, ss);
  double v = 0.0;
  for (int64_t d = 0; d < dim; d++) v += ss[d] / (double)f->n;
  *out = f->o->tol == 0 ? 0.0 : f->o->tol * v / (double)dim;
cleanup:
  free(acc);
  free(part);
  return err;
}

/* ------------------------------------------------------------------------ */
/* Fit */

/* The options' ranges come from ps_kmeans_options; what depends on the data
 * is checked here. Same verdict on every rank (n, dim and opts are global). */
static ps_err_t validate(const ps_kmeans_opts_t *o, int64_t n, int64_t dim) {
  ps_err_t err = PS_OK;
  PS_CHECK(n > 0, PS_ERR_ARG, "k-means: no rows to cluster (0 rows on all ranks)");
  PS_CHECK(dim > 0, PS_ERR_ARG, "k-means: the rows have no columns");
  PS_TRY(ps_opt_validate(ps_kmeans_options, "kmeans", "k-means", o));
  PS_CHECK_OPT(o->k >= 1, PS_ERR_ARG, "kmeans.k",
               "k-means: k = auto is chosen by a sweep before the fit, not by the fit");
  PS_CHECK_OPT(o->k <= n, PS_ERR_ARG, "kmeans.k",
               "k-means: k = %lld is more than the %lld rows to cluster", (long long)o->k,
               (long long)n);
  PS_CHECK(dim <= INT_MAX, PS_ERR_ARG, "k-means: %lld columns is too many for BLAS",
           (long long)dim);
  if (o->init_centroids)
    for (int64_t q = 0; q < o->k * dim; q++)
      PS_CHECK(isfinite(o->init_centroids[q]), PS_ERR_ARG,
               "k-means: the initial centroids contain a non-finite value");
cleanup:
  return err;
}

/* Collective. Where every rank's rows sit (owners of global rows) and the
 * check that the blocks tile [0, n) in rank order: the rank-count invariance
 * relies on it. Sets f->range and f->n. */
static ps_err_t locate_rows(fit_t *f) {
  ps_err_t err = PS_OK;
  f->range = malloc((size_t)(2 * f->size) * sizeof *f->range);
  PS_CHECK_ALL(f->comm, f->range, PS_ERR_MEM, "out of memory");
  int64_t mine[2] = {f->x->row_offset, f->x->n_local};
  PS_CALL_MPI(MPI_Allgather(mine, 2, MPI_INT64_T, f->range, 2, MPI_INT64_T, f->comm));
  f->n = 0;
  for (int r = 0; r < f->size; r++) {
    PS_CHECK(f->range[2 * r] == f->n && f->range[2 * r + 1] >= 0, PS_ERR_INTERNAL,
             "k-means: row blocks are not contiguous in rank order (rank %d starts at %lld)", r,
             (long long)f->range[2 * r]);
    f->n += f->range[2 * r + 1];
  }
cleanup:
  return err;
}

int64_t ps_kmeans_row_bytes(const ps_kmeans_opts_t *o, int64_t n) {
  /* fit_alloc's per-row arrays: lab, lab_new, d2, w (the bounds share it),
   * wtmp when weighted; the result's labels and distance; each view that
   * owns its arrays (view_open): labels and two float bounds. fit_runs may
   * open fewer views (view_fixed_bytes), never more. */
  const int one = o && (o->init_centroids || (o->init_from && *o->init_from));
  const int runs = !o ? KM_LOCKSTEP_AUTO : one ? 1 : ps_kmeans_n_init_for(n, o->k, o->n_init);
  return 2 * (int64_t)sizeof(int32_t) + 2 * (int64_t)sizeof(double) +
         (o && o->weights ? (int64_t)sizeof(double) : 0) + ps_kmeans_result_row_bytes() +
         (lockstep_for(o, runs) - 1) * (int64_t)(sizeof(int32_t) + 2 * sizeof(float));
}

int64_t ps_kmeans_result_row_bytes(void) {
  return (int64_t)sizeof(int32_t) + (int64_t)sizeof(double); /* labels, distance */
}

/* The drifts and, after them in one block, the cumulative drifts and the
 * bounds step's threshold on gap (fit_t); NULL out of memory. */
static double *drift_block(fit_t *f) {
  double *d = malloc((size_t)(4 * f->k) * sizeof *d);
  if (d) {
    f->dcum = d + f->k;
    f->mcum = d + 2 * f->k;
    f->gmin = d + 3 * f->k;
  }
  return d;
}

/* Collective. The fit's workspace and the result it fills. */
static ps_err_t fit_alloc(fit_t *f, int n_runs, ps_kmeans_t **kmp) {
  ps_err_t err = PS_OK;
  const int64_t k = f->k, dim = f->dim, nl1 = f->nl > 0 ? f->nl : 1;
  ps_kmeans_t *km;
  f->trials = n_trials(k);
  f->hcap = 2;
  while (f->hcap < 2 * k) f->hcap *= 2;
  int ok = ps_km_nearest_alloc(&f->ws, k, dim);
  f->cent = malloc((size_t)(k * dim) * sizeof(double));
  f->cnew = malloc((size_t)(k * dim) * sizeof(double));
  f->lab = ps_rows_malloc((size_t)nl1, sizeof(int32_t));
  f->lab_new = ps_rows_malloc((size_t)nl1, sizeof(int32_t));
  f->d2 = ps_rows_malloc((size_t)nl1, sizeof(double));
  f->w = ps_rows_malloc((size_t)nl1, sizeof(double));
  f->cand = malloc((size_t)(f->trials * (dim + 1)) * sizeof(double));
  f->candt = malloc((size_t)((f->trials + 3) / 4 * 4 * dim) * sizeof(double));
  f->pot = malloc((size_t)f->trials * sizeof(double));
  f->uu = malloc((size_t)f->trials * sizeof(double));
  f->claim = malloc((size_t)f->trials * sizeof(int));
  f->empty = malloc((size_t)k * sizeof(int));
  f->sizes = malloc((size_t)k * sizeof(int64_t));
  f->pick = malloc((size_t)k * sizeof(int64_t));
  f->hset = malloc((size_t)f->hcap * sizeof(int64_t));
  f->rowbuf = malloc((size_t)(dim + 2) * sizeof(double));
  f->nsum = k * dim + (f->wt ? k : 0);
  f->acc = malloc((size_t)f->nsum * sizeof *f->acc);
  f->cnt_l = malloc((size_t)k * sizeof *f->cnt_l);
  f->red = malloc((size_t)(k + 2) * sizeof *f->red);
  f->gacc = malloc((size_t)f->nsum * sizeof *f->gacc);
  f->part = calloc((size_t)f->nsum, sizeof *f->part);
  if (f->wt) {
    f->wtmp = ps_rows_malloc((size_t)nl1, sizeof *f->wtmp);
    f->wsizes = calloc((size_t)k, sizeof *f->wsizes);
  }
  f->touched = calloc((size_t)k, sizeof *f->touched);
  f->mv_list = malloc((size_t)k * sizeof *f->mv_list);
  f->mv_block = -1;
  f->half = malloc((size_t)k * sizeof *f->half);
  f->drift = drift_block(f);
  f->bidx = malloc(KM_BATCH * sizeof *f->bidx);
  f->blab = malloc(KM_BATCH * sizeof *f->blab);
  f->bmov = malloc(KM_BATCH * sizeof *f->bmov);
  f->bd2 = malloc(KM_BATCH * sizeof *f->bd2);
  f->blb = malloc(KM_BATCH * sizeof *f->blb);
  km = *kmp = calloc(1, sizeof *km);
  if (km) {
    km->centroids = malloc((size_t)(k * dim) * sizeof(double));
    km->labels = ps_rows_malloc((size_t)nl1, sizeof(int32_t));
    km->distance = ps_rows_malloc((size_t)nl1, sizeof(double));
    km->sizes = malloc((size_t)k * sizeof(int64_t));
    km->run_inertia = malloc((size_t)n_runs * sizeof(double));
    km->run_iterations = malloc((size_t)n_runs * sizeof(int));
  }
  ok = ok && f->cent && f->cnew && f->lab && f->lab_new && f->d2 && f->w && f->cand && f->candt &&
       f->pot && f->uu && f->claim && f->empty && f->sizes && f->pick && f->hset && f->rowbuf &&
       f->acc && f->cnt_l && f->red && f->gacc && f->part && f->mv_list && f->touched && f->half &&
       f->drift && f->bidx && f->blab && f->bmov && f->bd2 && f->blb && km && km->centroids &&
       km->labels && km->distance && km->sizes && km->run_inertia && km->run_iterations &&
       (!f->wt || (f->wtmp && f->wsizes));
  if (km && f->wt) {
    km->weight_sizes = calloc((size_t)k, sizeof *km->weight_sizes);
    ok = ok && km->weight_sizes;
  }
  PS_CHECK_ALL(f->comm, ok, PS_ERR_MEM,
               "out of memory for k-means (k = %lld, %lld local rows x %lld columns)", (long long)k,
               (long long)f->nl, (long long)dim);
  km->k = k;
  km->dim = dim;
  km->n_local = f->nl;
  km->n_runs = n_runs;
cleanup:
  return err;
}

/* A view of f for one restart in lockstep (see fit_t). own 0: it borrows f's
 * arrays, bounds in f->w (the first view: alone, a fit costs what it did
 * before lockstep); 1: it owns its centres, labels, bounds, sums and
 * workspace. Returns 0 out of memory (view_free then frees what it got). */
static int view_open(const fit_t *f, fit_t *v, int own) {
  const int64_t k = f->k, dim = f->dim, nl1 = f->nl > 0 ? f->nl : 1;
  *v = *f;
  v->dist_done = v->dist_lloyd = v->relocs = 0;
  v->few = 0;
  v->owns = own;
  v->bnd = NULL;
  if (!own) return 1;
  memset(&v->ws, 0, sizeof v->ws);
  v->cent = v->cnew = NULL;
  v->lab = NULL;
  v->acc = v->gacc = NULL;
  v->cnt_l = v->red = v->sizes = NULL;
  v->part = v->half = v->drift = v->wsizes = NULL;
  v->touched = v->mv_list = NULL;
  v->cand = v->candt = NULL;
  v->mv_n = 0;
  v->mv_block = -1;
  int ok = ps_km_nearest_alloc(&v->ws, k, dim);
  v->cent = malloc((size_t)(k * dim) * sizeof(double));
  v->cnew = malloc((size_t)(k * dim) * sizeof(double));
  v->lab = ps_rows_malloc((size_t)nl1, sizeof(int32_t));
  v->bnd = ps_rows_malloc((size_t)(2 * nl1), sizeof(float));
  v->acc = malloc((size_t)v->nsum * sizeof *v->acc);
  v->gacc = malloc((size_t)v->nsum * sizeof *v->gacc);
  v->part = calloc((size_t)v->nsum, sizeof *v->part);
  v->cnt_l = malloc((size_t)k * sizeof *v->cnt_l);
  v->red = malloc((size_t)(k + 2) * sizeof *v->red);
  v->sizes = malloc((size_t)k * sizeof *v->sizes);
  v->touched = calloc((size_t)k, sizeof *v->touched);
  v->mv_list = malloc((size_t)k * sizeof *v->mv_list);
  v->half = malloc((size_t)k * sizeof *v->half);
  v->drift = drift_block(v);
  if (v->wt) v->wsizes = calloc((size_t)k, sizeof *v->wsizes);
  v->cand = malloc((size_t)(v->trials * (dim + 1)) * sizeof(double));
  v->candt = malloc((size_t)((v->trials + 3) / 4 * 4 * dim) * sizeof(double));
  /* The seeding weights, nl doubles, in the bounds' memory: seeding is done
   * before Lloyd's first assignment writes the bounds. */
  v->w = (double *)(void *)v->bnd;
  return ok && v->cand && v->candt && v->cent && v->cnew && v->lab && v->bnd && v->acc && v->gacc &&
         v->part && v->cnt_l && v->red && v->sizes && v->touched && v->mv_list && v->half &&
         v->drift && (!v->wt || v->wsizes);
}

static void view_free(fit_t *v) {
  if (!v->owns) return;
  ps_km_nearest_free(&v->ws);
  free(v->cent);
  free(v->cnew);
  free(v->lab);
  free(v->bnd);
  free(v->acc);
  free(v->gacc);
  free(v->part);
  free(v->cnt_l);
  free(v->red);
  free(v->sizes);
  free(v->touched);
  free(v->mv_list);
  free(v->half);
  free(v->drift);
  free(v->wsizes);
  free(v->cand);
  free(v->candt);
  v->owns = 0;
}

/* Collective. Seed a group's views (their centres into cent): k-means++
 * together (seed_kmeanspp), the other seedings one view after another. */
static ps_err_t seed_group(fit_t **vs, int nv) {
  ps_err_t err = PS_OK;
  const ps_kmeans_opts_t *o = vs[0]->o;
  if (!o->init_centroids && o->init == PS_KM_INIT_KMEANSPP) return seed_kmeanspp(vs, nv);
  for (int v = 0; v < nv; v++) {
    fit_t *g = vs[v];
    if (o->init_centroids)
      memcpy(g->cent, o->init_centroids, (size_t)(g->k * g->dim) * sizeof(double));
    else if (o->init == PS_KM_INIT_PARALLEL)
      PS_TRY(seed_parallel(g, g->run));
    else
      PS_TRY(seed_random(g, g->run));
  }
cleanup:
  return err;
}

/* Collective. The end of one restart: its inertia, and its result kept if it
 * is the best so far (the lowest inertia, the first run among equals, as
 * when the runs go one after another). The inertia is global, so every rank
 * takes the same branch. */
static ps_err_t finish_run(fit_t *v, ps_kmeans_t *km) {
  ps_err_t err = PS_OK;
  double inertia = 0.0;
  PS_TRY(lloyd_end(v, &inertia));
  km->total_iterations += v->it;
  PS_CHECK(isfinite(inertia), PS_ERR_NUMERIC,
           "k-means: the inertia is not finite (non-finite input values?)");
  km->run_inertia[v->run] = inertia;
  km->run_iterations[v->run] = v->it;
  if (km->best_run < 0 || inertia < km->inertia ||
      (inertia == km->inertia && v->run < km->best_run)) {
    memcpy(km->centroids, v->cent, (size_t)(v->k * v->dim) * sizeof(double));
    memcpy(km->sizes, v->sizes, (size_t)v->k * sizeof(int64_t));
    if (v->wt) memcpy(km->weight_sizes, v->wsizes, (size_t)v->k * sizeof(double));
    for (int64_t i = 0; i < v->nl; i++) {
      km->labels[i] = v->lab[i];
      km->distance[i] = sqrt(v->d2[i]);
    }
    km->inertia = inertia;
    km->iterations = v->it;
    km->converged = v->conv;
    km->best_run = v->run;
  }
cleanup:
  return err;
}

/* What a view that owns its arrays holds beyond its rows' (view_open): the
 * exact sums (local and reduced), their block partials, the centres and the
 * search's workspace (ps_km_nearest_alloc: up to KM_BATCH scores a centre). */
static int64_t view_fixed_bytes(const fit_t *f) {
  return f->nsum * (int64_t)(2 * sizeof(ps_xsum_t) + sizeof(double)) +
         f->k * (f->dim * 4 + KM_BATCH) * (int64_t)sizeof(double);
}

/* Collective. The restarts, L at a time in lockstep (lockstep_for): each
 * group is seeded run by run, then its Lloyd runs iterate together, every
 * iteration one pass over the rows for all of them (assign), until each has
 * stopped. A run's arithmetic is the same alone or in a group, so the result
 * does not depend on L. */
static ps_err_t fit_runs(fit_t *f, ps_kmeans_t *km) {
  ps_err_t err = PS_OK;
  const ps_kmeans_opts_t *o = f->o;
  const int n_runs = km->n_runs;
  const int prune = o->algorithm == PS_KM_HAMERLY;
  /* The views' fixed arrays grow with k x dim (an exact sum is 576 bytes):
   * at most KM_VIEWS_FIXED_MAX for all views beyond the first, so a large
   * k runs fewer restarts at a time rather than running out of memory. The
   * same L on every rank (k, dim and the options are global). */
  int L = lockstep_for(o, n_runs);
  while (L > 1 && (L - 1) * view_fixed_bytes(f) > KM_VIEWS_FIXED_MAX) L--;
  int done[KM_LOCKSTEP_MAX];
  fit_t *views = calloc((size_t)L, sizeof *views);
  fit_t *act[KM_LOCKSTEP_MAX];
  int ok = views != NULL;
  for (int j = 0; ok && j < L; j++) ok = view_open(f, &views[j], j > 0);
  PS_CHECK_ALL(f->comm, ok, PS_ERR_MEM,
               "out of memory for k-means (%d restarts at once, %lld local rows)", L,
               (long long)f->nl);
  km->best_run = -1;
  km->lockstep = L;
  for (int r0 = 0; r0 < n_runs; r0 += L) {
    const int nr = n_runs - r0 < L ? n_runs - r0 : L;
    int nact = 0;
    const double t0 = MPI_Wtime();
    for (int j = 0; j < nr; j++) {
      views[j].run = r0 + j;
      act[j] = &views[j];
    }
    PS_TRY(seed_group(act, nr));
    const double t1 = MPI_Wtime();
    lloyd_begin(act, nr);
    for (int j = 0; j < nr; j++) {
      act[nact++] = &views[j];
      done[j] = 0;
    }
    km->seed_seconds += t1 - t0;
    /* Progress in run order: a run is reported once it and every run
     * before it in the group have finished. */
    int next = 0;
    while (nact > 0) {
      int still = 0;
      for (int a = 0; a < nact; a++) {
        int more = 0;
        PS_TRY(lloyd_next(act[a], &more));
        if (more) {
          act[still++] = act[a];
          continue;
        }
        PS_TRY(finish_run(act[a], km));
        done[act[a]->run - r0] = 1;
        for (; next < nr && done[next]; next++)
          if (o->on_run)
            o->on_run(o->cb_ctx, r0 + next, views[next].it, km->run_inertia[r0 + next],
                      views[next].conv);
      }
      nact = still;
      if (nact > 0) assign(act, nact, prune);
    }
    km->lloyd_seconds += MPI_Wtime() - t1;
    PS_AGREE(f->comm);
  }
cleanup:
  if (views) {
    for (int j = 0; j < L; j++) {
      f->dist_done += views[j].dist_done;
      f->dist_lloyd += views[j].dist_lloyd;
      f->relocs += views[j].relocs;
      f->few |= views[j].few;
      view_free(&views[j]);
    }
    free(views);
  }
  return err;
}

ps_err_t ps_kmeans_fit(const ps_matrix_t *x, const ps_kmeans_opts_t *opts, MPI_Comm comm,
                       ps_kmeans_t **out) {
  ps_err_t err = PS_OK;
  ps_kmeans_opts_t defaults;
  ps_kmeans_t *km = NULL;
  fit_t f;
  memset(&f, 0, sizeof f);
  *out = NULL;
  if (!opts) {
    ps_kmeans_opts_default(&defaults);
    opts = &defaults;
  }
  f.x = x;
  f.o = opts;
  f.comm = comm;
  MPI_Comm_rank(comm, &f.rank);
  MPI_Comm_size(comm, &f.size);
  f.nl = x->n_local;
  f.dim = x->n_cols;
  f.k = opts->k;
  f.wt = opts->weights;
  PS_TRY(locate_rows(&f));
  PS_TRY(validate(opts, f.n, f.dim));
  PS_TRY(
      fit_alloc(&f, opts->init_centroids ? 1 : ps_kmeans_n_init_for(f.n, f.k, opts->n_init), &km));
  PS_TRY(tolerance(&f, &f.tol_abs));
  PS_TRY(fit_runs(&f, km));
  km->n_empty_relocations = f.relocs;
  km->algorithm = opts->algorithm;
  {
    int64_t dist[2] = {f.dist_done, f.dist_lloyd};
    PS_TRY(ps_reduce_sum_i64(dist, 2, comm));
    km->distances = dist[0];
    km->distances_lloyd = dist[1];
  }
  km->few_distinct = f.few;
  km->seed = opts->seed;
  km->init = opts->init;
  km->init_given = opts->init_centroids != NULL;
  if (opts->init_centroids && opts->init_from)
    snprintf(km->init_from, sizeof km->init_from, "%s", opts->init_from);
cleanup:
  /* Every failure above is either agreed already or decided on data that is
   * identical on all ranks, so all ranks arrive here together. */
  err = ps_err_agree(comm, err);
  if (err == PS_OK) {
    *out = km;
    km = NULL;
  }
  fit_free(&f);
  ps_kmeans_destroy(&km);
  return err;
}

ps_err_t ps_kmeans_sizes(const int32_t *labels, int64_t n_local, int64_t k, MPI_Comm comm,
                         int64_t *sizes) {
  memset(sizes, 0, (size_t)k * sizeof *sizes);
  for (int64_t i = 0; i < n_local; i++) sizes[labels[i]]++;
  return ps_reduce_sum_i64(sizes, k, comm);
}

/* ------------------------------------------------------------------------ */
/* Results file */

void ps_kmeans_describe_assignment(ps_h5w_t *w, const int32_t *labels, const double *distance) {
  ps_h5w_data(w, "kmeans/labels", PS_H5_I32, 0, "row", labels, "segment of each row (0-based)");
  ps_h5w_data(w, "kmeans/distance", PS_H5_F64, 0, "row", distance,
              "Euclidean distance of each row to its segment's centroid, in component space");
}

void ps_kmeans_describe(ps_h5w_t *w, const ps_kmeans_t *km, const double *reconstructed) {
  ps_h5w_dim_index(w, "segment", km->k, 0, "the segments (0-based, as in /kmeans/labels)");
  ps_h5w_dim_index(w, "kmeans/run", km->n_runs, 0, "the k-means restarts (0-based)");
  ps_kmeans_describe_assignment(w, km->labels, km->distance);
  ps_h5w_data(w, "kmeans/centroids", PS_H5_F64, 0, "segment,component", km->centroids,
              "segment centroids in component space (the model predict applies)");
  ps_h5w_data(w, "kmeans/sizes", PS_H5_I64, 0, "segment", km->sizes, "rows in each segment");
  if (km->weight_sizes)
    ps_h5w_data(w, "kmeans/weight_sizes", PS_H5_F64, 0, "segment", km->weight_sizes,
                "the weight (--weights: people) in each segment");
  ps_h5w_data(w, "kmeans/run_inertia", PS_H5_F64, 0, "run", km->run_inertia,
              "inertia (sum of squared distances) at the end of each restart");
  ps_h5w_data(w, "kmeans/run_iterations", PS_H5_I32, 0, "run", km->run_iterations,
              "Lloyd iterations of each restart");
  if (reconstructed)
    ps_h5w_data(w, "kmeans/centroids_reconstructed", PS_H5_F64, 0, "segment,feature", reconstructed,
                "each centroid mapped back to original units through the K kept components: a "
                "reconstruction, not the segment's mean (that is /profile/mean)");
  ps_h5w_attr_f64(w, "kmeans", "inertia", km->inertia);
  ps_h5w_attr_i64(w, "kmeans", "iterations", km->iterations);
  ps_h5w_attr_i64(w, "kmeans", "converged", km->converged);
  ps_h5w_attr_u64(w, "kmeans", "seed", km->seed);
  ps_h5w_attr_str(w, "kmeans", "init", km->init_given ? "given" : ps_kmeans_init_name(km->init));
  if (km->init_from[0]) ps_h5w_attr_str(w, "kmeans", "init_from", km->init_from);
  ps_h5w_attr_i64(w, "kmeans", "n_init", km->n_runs);
  ps_h5w_attr_i64(w, "kmeans", "best_run", km->best_run);
  ps_h5w_attr_i64(w, "kmeans", "total_iterations", km->total_iterations);
  ps_h5w_attr_str(w, "kmeans", "algorithm", ps_kmeans_algorithm_name(km->algorithm));
  ps_h5w_attr_i64(w, "kmeans", "distances", km->distances);
  ps_h5w_attr_i64(w, "kmeans", "distances_lloyd", km->distances_lloyd);
  ps_h5w_attr_f64(w, "kmeans", "time_seed_s", km->seed_seconds);
  ps_h5w_attr_f64(w, "kmeans", "time_lloyd_s", km->lloyd_seconds);
}

ps_err_t ps_kmeans_read_centroids_at(ps_h5r_t *r, const char *group, int64_t dim, int64_t *k,
                                     double **centroids) {
  ps_err_t err = PS_OK;
  static const char *const s_k[2] = {"k", NULL};
  int64_t dims[2], want[2] = {-1, dim};
  char path[128];
  snprintf(path, sizeof path, "%s/centroids", group);
  *centroids = NULL;
  PS_TRY(ps_h5r_shape(r, path, PS_H5_F64, 2, want, s_k, dims, NULL));
  *k = dims[0];
  PS_CHECK(*k >= 1, PS_ERR_FORMAT, "%s: /%s: the model has no clusters", ps_h5r_path(r), path);
  *centroids = malloc((size_t)(*k * dim) * sizeof(double));
  PS_CHECK_ALL(ps_h5r_comm(r), *centroids, PS_ERR_MEM, "out of memory");
  PS_TRY(ps_h5r_read(r, path, PS_H5_F64, 0, 0, *k, *centroids));
cleanup:
  if (err != PS_OK) {
    free(*centroids);
    *centroids = NULL;
  }
  return err;
}

ps_err_t ps_kmeans_read_centroids(ps_h5r_t *r, int64_t dim, int64_t *k, double **centroids) {
  return ps_kmeans_read_centroids_at(r, "kmeans", dim, k, centroids);
}

ps_err_t ps_kmeans_read_labels_at(ps_h5r_t *r, const char *group, int64_t n, int32_t *labels) {
  ps_err_t err = PS_OK;
  static const char *const s_rows[1] = {"rows"};
  int64_t dims[1], want[1] = {n};
  char path[128];
  snprintf(path, sizeof path, "%s/labels", group);
  PS_TRY(ps_h5r_shape(r, path, PS_H5_I32, 1, want, s_rows, dims, NULL));
  PS_TRY(ps_h5r_read(r, path, PS_H5_I32, 0, 0, n, labels));
cleanup:
  return err;
}

ps_err_t ps_kmeans_read_labels(ps_h5r_t *r, int64_t n, int32_t *labels) {
  return ps_kmeans_read_labels_at(r, "kmeans", n, labels);
}
