/* subseg.c - sub-segments: each segment re-clustered on its own rows (subseg.h).
 *
 * A segment's rows are spread over the ranks as the labels fall; they are
 * moved (one MPI_Alltoallv, rows in global order) into the balanced blocks
 * of ps_block_range over the segment's n_c rows, so that the k-means below
 * sums the same blocks at any rank count; its labels come back the same way.
 */
#include "popseg/subseg.h"
#include "popseg/mem.h"

#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "popseg/reduce.h"

const ps_opt_t ps_subseg_options[] = {
    {.flag = "--subsegments",
     .field = "n",
     .kind = PS_OPT_INT,
     .offset = offsetof(ps_subseg_opts_t, n),
     .min = 2,
     .max = PS_SUBSEG_MAX,
     .flags = PS_OPT_AUTO,
     .auto_value = -1,
     .metavar = "N",
     .help = "split each segment into N sub-segments on the same projection (auto: the number "
             "in 2..6 with the largest silhouette for that segment; a segment of fewer than 2 N "
             "rows, or 12 for auto, keeps one)"},
    {0}};

void ps_subseg_opts_default(ps_subseg_opts_t *o) {
  memset(o, 0, sizeof *o);
  ps_opt_defaults(ps_subseg_options, o);
}

void ps_subseg_destroy(ps_subseg_t **s) {
  if (!s || !*s) return;
  free((*s)->labels);
  free((*s)->distance);
  free((*s)->parent);
  free((*s)->first);
  free((*s)->centroids);
  free((*s)->sizes);
  free((*s)->weight);
  free((*s)->codes);
  free(*s);
  *s = NULL;
}

static ps_err_t subseg_create(int64_t k, int64_t m_cap, int64_t dim, int64_t nl,
                              ps_subseg_t **out) {
  ps_err_t err = PS_OK;
  ps_subseg_t *s = calloc(1, sizeof *s);
  const size_t mc = (size_t)(m_cap > 0 ? m_cap : 1), nl1 = (size_t)(nl > 0 ? nl : 1);
  *out = NULL;
  PS_CHECK_ALLOC(s);
  s->k = k;
  s->dim = dim;
  s->n_local = nl;
  s->labels = calloc(nl1, sizeof *s->labels);
  s->distance = calloc(nl1, sizeof *s->distance);
  s->parent = calloc(mc, sizeof *s->parent);
  s->first = calloc((size_t)k + 1, sizeof *s->first);
  s->centroids = calloc(mc * (size_t)dim, sizeof *s->centroids);
  s->sizes = calloc(mc, sizeof *s->sizes);
  s->weight = calloc(mc, sizeof *s->weight);
  s->codes = calloc(mc, PS_SUBSEG_CODE_W);
  PS_CHECK(s->labels && s->distance && s->parent && s->first && s->centroids && s->sizes &&
               s->weight && s->codes,
           PS_ERR_MEM, "out of memory for the sub-segments (k = %lld)", (long long)k);
  *out = s;
  s = NULL;
cleanup:
  ps_subseg_destroy(&s);
  return err;
}

/* One segment's rows moved into balanced blocks, and the way back. */
typedef struct {
  ps_matrix_t *z; /* [n_c rows in this rank's block][dim] */
  double *w;      /* [its rows] weights, or NULL */
  int64_t *mine;  /* [nc_local] local rows (of the full table) in the segment */
  int64_t nc_local;
  int *scount, *sdispl; /* [size] rows sent to each rank (and back) */
  int *rcount, *rdispl; /* [size] rows received from each */
} moved_t;

static void moved_free(moved_t *mv) {
  ps_matrix_destroy(&mv->z);
  free(mv->w);
  free(mv->mine);
  free(mv->scount);
  free(mv->sdispl);
  free(mv->rcount);
  free(mv->rdispl);
  memset(mv, 0, sizeof *mv);
}

/* Collective. The rows of segment c into balanced blocks (global row order
 * kept: ranks hold consecutive blocks, and the compaction keeps order). */
static ps_err_t move_in(const ps_matrix_t *z, const double *wt, const int32_t *lab, int32_t c,
                        MPI_Comm comm, moved_t *mv) {
  ps_err_t err = PS_OK;
  int size, rank;
  MPI_Comm_size(comm, &size);
  MPI_Comm_rank(comm, &rank);
  const int64_t dim = z->n_cols, rec = dim + 1;
  int64_t nc = 0, off = 0, tn = 0, toff = 0;
  double *sbuf = NULL, *rbuf = NULL;
  memset(mv, 0, sizeof *mv);
  mv->mine = ps_rows_malloc((size_t)z->n_local, sizeof *mv->mine);
  mv->scount = calloc((size_t)size, sizeof(int));
  mv->sdispl = calloc((size_t)size, sizeof(int));
  mv->rcount = calloc((size_t)size, sizeof(int));
  mv->rdispl = calloc((size_t)size, sizeof(int));
  PS_CHECK_ALL(comm, mv->mine && mv->scount && mv->sdispl && mv->rcount && mv->rdispl, PS_ERR_MEM,
               "out of memory for the sub-segments");
  for (int64_t i = 0; i < z->n_local; i++)
    if (lab[i] == c) mv->mine[mv->nc_local++] = i;
  PS_CALL_MPI(MPI_Exscan(&mv->nc_local, &off, 1, MPI_INT64_T, MPI_SUM, comm));
  if (rank == 0) off = 0;
  PS_CALL_MPI(MPI_Allreduce(&mv->nc_local, &nc, 1, MPI_INT64_T, MPI_SUM, comm));
  PS_CHECK_ALL(comm, nc * rec < INT_MAX, PS_ERR_MEM,
               "sub-segments: segment %d is too big for one MPI message (%lld rows)", (int)c,
               (long long)nc);
  ps_block_range(nc, size, rank, &toff, &tn);
  /* What goes where: my rows [off, off + nc_local) against every target block. */
  for (int r = 0; r < size; r++) {
    int64_t ro, rn;
    ps_block_range(nc, size, r, &ro, &rn);
    const int64_t lo = off > ro ? off : ro,
                  hi = off + mv->nc_local < ro + rn ? off + mv->nc_local : ro + rn;
    mv->scount[r] = hi > lo ? (int)(hi - lo) : 0;
  }
  PS_CALL_MPI(MPI_Alltoall(mv->scount, 1, MPI_INT, mv->rcount, 1, MPI_INT, comm));
  for (int r = 1; r < size; r++) {
    mv->sdispl[r] = mv->sdispl[r - 1] + mv->scount[r - 1];
    mv->rdispl[r] = mv->rdispl[r - 1] + mv->rcount[r - 1];
  }
  sbuf = malloc((size_t)((mv->nc_local > 0 ? mv->nc_local : 1) * rec) * sizeof *sbuf);
  rbuf = malloc((size_t)((tn > 0 ? tn : 1) * rec) * sizeof *rbuf);
  err = ps_matrix_create(tn, dim, toff, nc, &mv->z);
  if (wt && err == PS_OK) {
    mv->w = malloc((size_t)(tn > 0 ? tn : 1) * sizeof *mv->w);
    if (!mv->w) err = ps_error(PS_ERR_MEM, __FILE__, __LINE__, "out of memory");
  }
  PS_CHECK_ALL(comm, err == PS_OK && sbuf && rbuf, PS_ERR_MEM,
               "out of memory for the sub-segments");
  for (int64_t q = 0; q < mv->nc_local; q++) {
    const int64_t i = mv->mine[q];
    memcpy(sbuf + q * rec, z->data + i * dim, (size_t)dim * sizeof *sbuf);
    sbuf[q * rec + dim] = wt ? wt[i] : 1.0;
  }
  {
    /* Counts in doubles: rows x (dim + 1). */
    int *sc = malloc((size_t)size * 4 * sizeof(int));
    PS_CHECK_ALL(comm, sc != NULL, PS_ERR_MEM, "out of memory");
    int *sd = sc + size, *rc = sd + size, *rd = rc + size;
    for (int r = 0; r < size; r++) {
      sc[r] = mv->scount[r] * (int)rec;
      sd[r] = mv->sdispl[r] * (int)rec;
      rc[r] = mv->rcount[r] * (int)rec;
      rd[r] = mv->rdispl[r] * (int)rec;
    }
    int rc_mpi = MPI_Alltoallv(sbuf, sc, sd, MPI_DOUBLE, rbuf, rc, rd, MPI_DOUBLE, comm);
    free(sc);
    PS_CALL_MPI(rc_mpi);
  }
  for (int64_t q = 0; q < tn; q++) {
    memcpy(mv->z->data + q * dim, rbuf + q * rec, (size_t)dim * sizeof *rbuf);
    if (mv->w) mv->w[q] = rbuf[q * rec + dim];
  }
cleanup:
  free(sbuf);
  free(rbuf);
  return err;
}

/* Collective. The moved rows' labels [z rows] back to their local rows:
 * out[mine[q]] = base + label. */
static ps_err_t move_out(const moved_t *mv, const int32_t *lab, int32_t base, int32_t *out,
                         MPI_Comm comm) {
  ps_err_t err = PS_OK;
  int32_t *back = malloc((size_t)(mv->nc_local > 0 ? mv->nc_local : 1) * sizeof *back);
  PS_CHECK_ALL(comm, back != NULL, PS_ERR_MEM, "out of memory for the sub-segments");
  PS_CALL_MPI(MPI_Alltoallv(lab, mv->rcount, mv->rdispl, MPI_INT32_T, back, mv->scount, mv->sdispl,
                            MPI_INT32_T, comm));
  for (int64_t q = 0; q < mv->nc_local; q++) out[mv->mine[q]] = base + back[q];
cleanup:
  free(back);
  return err;
}

/* Collective. The sub-fit of one moved segment: N, or auto by the sweep. */
static ps_err_t split(const moved_t *mv, const ps_subseg_opts_t *o, const ps_kmeans_opts_t *ko,
                      const ps_sweep_opts_t *so, MPI_Comm comm, ps_kmeans_t **fit,
                      ps_sweep_t **sw) {
  ps_err_t err = PS_OK;
  ps_kmeans_opts_t sk = *ko;
  const int64_t nc = mv->z->n_global;
  sk.weights = mv->w;
  sk.on_run = NULL;
  sk.cb_ctx = NULL;
  sk.init_centroids = NULL;
  sk.init_from = NULL;
  *fit = NULL;
  *sw = NULL;
  if (o->n > 0) {
    if (nc < 2 * (int64_t)o->n) return PS_OK;
    sk.k = o->n;
    return ps_kmeans_fit(mv->z, &sk, comm, fit);
  }
  if (nc < PS_SUBSEG_AUTO_MIN_ROWS) return PS_OK;
  ps_sweep_opts_t ss = *so;
  ss.k_range[0] = PS_SUBSEG_AUTO_LO;
  ss.k_range[1] = nc / 2 < PS_SUBSEG_AUTO_HI ? nc / 2 : PS_SUBSEG_AUTO_HI;
  PS_TRY(ps_sweep_run(mv->z, &ss, &sk, NULL, NULL, comm, sw));
  *fit = (*sw)->fits[(*sw)->suggested];
cleanup:
  return err;
}

void ps_subseg_assign(const ps_subseg_t *s, const double *z, int64_t n, const int32_t *labels,
                      int32_t *sub, double *distance) {
  const int64_t dim = s->dim;
  for (int64_t i = 0; i < n; i++) {
    const int32_t c = labels[i];
    int32_t best = s->first[c];
    double bd = INFINITY;
    for (int32_t j = s->first[c]; j < s->first[c + 1]; j++) {
      double d2 = 0.0;
      for (int64_t q = 0; q < dim; q++) {
        const double t = z[i * dim + q] - s->centroids[(int64_t)j * dim + q];
        d2 += t * t;
      }
      if (d2 < bd) {
        bd = d2;
        best = j;
      }
    }
    sub[i] = best;
    if (distance) distance[i] = sqrt(bd);
  }
}

ps_err_t ps_subseg_fit(const ps_matrix_t *z, const double *weights, const ps_kmeans_t *km,
                       const ps_subseg_opts_t *o, const ps_kmeans_opts_t *ko,
                       const ps_sweep_opts_t *so, MPI_Comm comm, ps_subseg_t **out) {
  ps_err_t err = PS_OK;
  ps_subseg_t *s = NULL;
  const int64_t k = km->k, dim = z->n_cols, nl = z->n_local;
  moved_t mv;
  ps_kmeans_t *fit = NULL;
  ps_sweep_t *sw = NULL;
  int32_t *one = NULL;
  memset(&mv, 0, sizeof mv);
  *out = NULL;
  PS_CHECK_OPT(o->n == -1 || (o->n >= 2 && o->n <= PS_SUBSEG_MAX), PS_ERR_ARG, "subseg.n",
               "sub-segments: N = %d must be in 2..%d or auto", o->n, PS_SUBSEG_MAX);
  err = subseg_create(k, k * PS_SUBSEG_MAX, dim, nl, &s);
  PS_AGREE(comm);
  s->requested = o->n;
  for (int64_t c = 0; c < k; c++) {
    PS_TRY(move_in(z, weights, km->labels, (int32_t)c, comm, &mv));
    PS_TRY(split(&mv, o, ko, so, comm, &fit, &sw));
    const int32_t base = (int32_t)s->m;
    const int64_t nsub = fit ? fit->k : 1;
    s->first[c] = base;
    for (int64_t j = 0; j < nsub; j++) {
      const int64_t g = base + j;
      s->parent[g] = (int32_t)c;
      snprintf(s->codes + g * PS_SUBSEG_CODE_W, PS_SUBSEG_CODE_W, "%lld%c", (long long)c,
               (char)('a' + j));
      memcpy(s->centroids + g * dim, fit ? fit->centroids + j * dim : km->centroids + c * dim,
             (size_t)dim * sizeof(double));
      s->sizes[g] = fit ? fit->sizes[j] : km->sizes[c];
      s->weight[g] = fit ? (fit->weight_sizes ? fit->weight_sizes[j] : (double)fit->sizes[j])
                         : (km->weight_sizes ? km->weight_sizes[c] : (double)km->sizes[c]);
    }
    s->m += nsub;
    if (fit) {
      PS_TRY(move_out(&mv, fit->labels, base, s->labels, comm));
    } else {
      one = ps_rows_calloc((size_t)mv.z->n_local, sizeof *one);
      PS_CHECK_ALL(comm, one != NULL, PS_ERR_MEM, "out of memory for the sub-segments");
      PS_TRY(move_out(&mv, one, base, s->labels, comm));
      free(one);
      one = NULL;
    }
    if (sw)
      ps_sweep_destroy(&sw); /* owns fit */
    else
      ps_kmeans_destroy(&fit);
    fit = NULL;
    moved_free(&mv);
  }
  s->first[k] = (int32_t)s->m;
  /* Distances to the sub-centroids (the profile's examples). */
  for (int64_t i = 0; i < nl; i++) {
    double d2 = 0.0;
    for (int64_t q = 0; q < dim; q++) {
      const double t = z->data[i * dim + q] - s->centroids[(int64_t)s->labels[i] * dim + q];
      d2 += t * t;
    }
    s->distance[i] = sqrt(d2);
  }
  *out = s;
  s = NULL;
cleanup:
  free(one);
  if (sw)
    ps_sweep_destroy(&sw);
  else
    ps_kmeans_destroy(&fit);
  moved_free(&mv);
  ps_subseg_destroy(&s);
  return ps_err_agree(comm, err);
}

void ps_subseg_describe(ps_h5w_t *w, const ps_subseg_t *s) {
  ps_h5w_dim_index(w, "subsegment", s->m, 0,
                   "the sub-segments (0-based, as in /kmeans/sub/labels), segment by segment");
  ps_subseg_describe_labels(w, s->labels, s);
  ps_h5w_data(w, "kmeans/sub/parent", PS_H5_I32, 0, "subsegment", s->parent,
              "the segment each sub-segment splits");
  ps_h5w_data(w, "kmeans/sub/codes", PS_H5_STR, PS_SUBSEG_CODE_W, "subsegment", s->codes,
              "code of each sub-segment: its segment and a letter (\"3b\")");
  ps_h5w_data(w, "kmeans/sub/centroids", PS_H5_F64, 0, "subsegment,component", s->centroids,
              "sub-segment centroids in component space");
  ps_h5w_data(w, "kmeans/sub/sizes", PS_H5_I64, 0, "subsegment", s->sizes,
              "rows in each sub-segment");
  ps_h5w_data(w, "kmeans/sub/weight_sizes", PS_H5_F64, 0, "subsegment", s->weight,
              "the weight in each sub-segment (its rows when unweighted)");
  ps_h5w_attr_i64(w, "kmeans/sub", "requested", s->requested);
}

void ps_subseg_describe_labels(ps_h5w_t *w, const int32_t *labels, const ps_subseg_t *s) {
  (void)s;
  ps_h5w_data(w, "kmeans/sub/labels", PS_H5_I32, 0, "row", labels,
              "sub-segment of each row (0-based index into /kmeans/sub/codes)");
}

ps_err_t ps_subseg_read(ps_h5r_t *r, int64_t k, int64_t dim, ps_subseg_t **out) {
  ps_err_t err = PS_OK;
  ps_subseg_t *s = NULL;
  int64_t dims[2] = {0, 0}, want[2] = {-1, dim};
  size_t cw = 0;
  char *codes = NULL;
  static const char *const sym[2] = {"m", NULL};
  *out = NULL;
  if (!ps_h5r_has(r, "kmeans/sub/centroids")) return PS_OK;
  PS_TRY(ps_h5r_shape(r, "kmeans/sub/centroids", PS_H5_F64, 2, want, sym, dims, NULL));
  const int64_t m = dims[0];
  int64_t want1[1] = {m};
  PS_TRY(ps_h5r_shape(r, "kmeans/sub/parent", PS_H5_I32, 1, want1, NULL, dims, NULL));
  err = subseg_create(k, m, dim, 0, &s);
  PS_AGREE(ps_h5r_comm(r));
  s->m = m;
  PS_TRY(ps_h5r_read(r, "kmeans/sub/centroids", PS_H5_F64, 0, 0, m, s->centroids));
  PS_TRY(ps_h5r_read(r, "kmeans/sub/parent", PS_H5_I32, 0, 0, m, s->parent));
  PS_TRY(ps_h5r_read_strings(r, "kmeans/sub/codes", 0, m, 0, &codes, &cw));
  for (int64_t j = 0; j < m; j++)
    snprintf(s->codes + j * PS_SUBSEG_CODE_W, PS_SUBSEG_CODE_W, "%s", codes + (size_t)j * cw);
  /* Parents must run 0..k-1 in order, each segment at least once. */
  int32_t prev = -1;
  for (int64_t j = 0; j < m; j++) {
    const int32_t c = s->parent[j];
    PS_CHECK(c == prev || c == prev + 1, PS_ERR_FORMAT,
             "%s: /kmeans/sub/parent: sub-segment %lld has parent %d after %d (they must run "
             "segment by segment, 0..%lld)",
             ps_h5r_path(r), (long long)j, (int)c, (int)prev, (long long)k - 1);
    if (c != prev) s->first[c] = (int32_t)j;
    prev = c;
  }
  PS_CHECK(prev == k - 1, PS_ERR_FORMAT,
           "%s: /kmeans/sub/parent covers segments 0..%d, the model has %lld", ps_h5r_path(r),
           (int)prev, (long long)k);
  s->first[k] = (int32_t)m;
  *out = s;
  s = NULL;
cleanup:
  free(codes);
  ps_subseg_destroy(&s);
  return ps_err_agree(ps_h5r_comm(r), err);
}
