/* metrics.c - clustering quality (see metrics.h for the definitions). */
#include "popseg/metrics.h"
#include "popseg/mem.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "popseg/reduce.h"
#include "popseg/rng.h"

/* The sample's random stream (rng.h: a stream per purpose). */
#define SAMPLE_STREAM 0x5113u

void ps_metrics_free(ps_metrics_t *m) {
  free(m->sample_rows);
  m->sample_rows = NULL;
}

/* sklearn's silhouette of one row from its summed distances to each cluster. */
static double silhouette_of(const double *sum, const int64_t *cnt, int64_t k, int32_t c) {
  if (cnt[c] <= 1) return 0.0;
  const double a = sum[c] / (double)(cnt[c] - 1);
  double b = INFINITY;
  for (int64_t j = 0; j < k; j++)
    if (j != c && cnt[j] > 0) {
      const double v = sum[j] / (double)cnt[j];
      if (v < b) b = v;
    }
  const double m = a > b ? a : b;
  return m > 0 && isfinite(b) ? (b - a) / m : 0.0;
}

/* Not collective. The silhouette of rows [r0, r1) of the m gathered rows y
 * [m][dim] (labels lab, cluster sizes cnt within the m rows), added exactly
 * into acc: each row's value depends on the row and the gathered set alone. */
static void silhouette_rows(const double *y, const int32_t *lab, int64_t m, int64_t dim,
                            const int64_t *cnt, int64_t k, int64_t r0, int64_t r1, double *sum,
                            ps_xsum_t *acc) {
  for (int64_t i = r0; i < r1; i++) {
    const double *yi = y + i * dim;
    memset(sum, 0, (size_t)k * sizeof *sum);
    for (int64_t j = 0; j < m; j++) {
      const double *yj = y + j * dim;
      double s = 0.0;
      for (int64_t t = 0; t < dim; t++) {
        const double e = yi[t] - yj[t];
        s += e * e;
      }
      sum[lab[j]] += sqrt(s);
    }
    ps_xsum_add(acc, silhouette_of(sum, cnt, k, lab[i]));
  }
}

typedef struct {
  double key, row;
  int64_t at;
} kr_t;

static int cmp_kr(const void *a, const void *b) {
  const kr_t *x = a, *y = b;
  if (x->key != y->key) return x->key < y->key ? -1 : 1;
  return x->row < y->row ? -1 : x->row > y->row;
}

static int cmp_i64(const void *a, const void *b) {
  const int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
  return x < y ? -1 : x > y;
}

/* Collective. Every rank gets the rows whose sample key is among the
 * `want` smallest (ties by row): keys depend on (seed, global row) only, so
 * the sample does not depend on the rank count. rows [*m] ascending, y
 * [*m][dim], lab [*m]. */
static ps_err_t gather_sample(const ps_matrix_t *z, const int32_t *labels, int64_t want,
                              uint64_t seed, MPI_Comm comm, int64_t **rows_out, double **y_out,
                              int32_t **lab_out, int64_t *m_out) {
  ps_err_t err = PS_OK;
  const int64_t nl = z->n_local, dim = z->n_cols, n = z->n_global;
  int size;
  MPI_Comm_size(comm, &size);
  double t = (double)want / (double)n * 1.25 + 64.0 / (double)n;
  int64_t nc = 0, total = 0;
  double *cand = NULL, *all = NULL;
  int *cnts = NULL, *displs = NULL;
  int64_t *order = NULL;
  /* Widen the key threshold until enough rows fall under it (once, usually). */
  for (;;) {
    nc = 0;
    for (int64_t i = 0; i < nl; i++)
      if (ps_rng_uniform(seed, SAMPLE_STREAM, (uint64_t)(z->row_offset + i)) < t) nc++;
    total = nc;
    PS_TRY(ps_reduce_sum_i64(&total, 1, comm));
    if (total >= want || t >= 1.0) break;
    t = t * 2 > 1.0 ? 1.0 : t * 2;
  }
  /* A candidate travels as [row, key, label, z...] doubles (rows < 2^53). */
  const int64_t w = 3 + dim;
  PS_CHECK_ALL(comm, total * w < 2147483647LL, PS_ERR_ARG,
               "silhouette sample: %lld candidate rows are too many to gather", (long long)total);
  cand = malloc((size_t)(nc > 0 ? nc : 1) * (size_t)w * sizeof *cand);
  all = malloc((size_t)(total > 0 ? total : 1) * (size_t)w * sizeof *all);
  cnts = malloc((size_t)size * sizeof *cnts);
  displs = malloc((size_t)size * sizeof *displs);
  order = malloc((size_t)(total > 0 ? total : 1) * sizeof *order);
  PS_CHECK_ALL(comm, cand && all && cnts && displs && order, PS_ERR_MEM,
               "out of memory for the silhouette sample");
  int64_t c = 0;
  for (int64_t i = 0; i < nl; i++) {
    const double u = ps_rng_uniform(seed, SAMPLE_STREAM, (uint64_t)(z->row_offset + i));
    if (!(u < t)) continue;
    double *p = cand + c * w;
    p[0] = (double)(z->row_offset + i);
    p[1] = u;
    p[2] = (double)labels[i];
    memcpy(p + 3, z->data + i * dim, (size_t)dim * sizeof *p);
    c++;
  }
  int mine = (int)(nc * w);
  PS_CALL_MPI(MPI_Allgather(&mine, 1, MPI_INT, cnts, 1, MPI_INT, comm));
  displs[0] = 0;
  for (int r = 1; r < size; r++) displs[r] = displs[r - 1] + cnts[r - 1];
  PS_CALL_MPI(MPI_Allgatherv(cand, mine, MPI_DOUBLE, all, cnts, displs, MPI_DOUBLE, comm));
  /* The want smallest keys (ties: lower row), then in row order (the
   * candidates arrive in row order: ranks hold consecutive rows). */
  const int64_t m = total < want ? total : want;
  {
    kr_t *kr = malloc((size_t)(total > 0 ? total : 1) * sizeof *kr);
    PS_CHECK_ALL(comm, kr != NULL, PS_ERR_MEM, "out of memory for the silhouette sample");
    for (int64_t i = 0; i < total; i++) kr[i] = (kr_t){all[i * w + 1], all[i * w], i};
    qsort(kr, (size_t)total, sizeof *kr, cmp_kr);
    for (int64_t i = 0; i < m; i++) order[i] = kr[i].at;
    free(kr);
    qsort(order, (size_t)m, sizeof *order, cmp_i64); /* candidates came in row order */
  }
  *rows_out = malloc((size_t)(m > 0 ? m : 1) * sizeof **rows_out);
  *y_out = malloc((size_t)(m > 0 ? m : 1) * (size_t)dim * sizeof **y_out);
  *lab_out = malloc((size_t)(m > 0 ? m : 1) * sizeof **lab_out);
  PS_CHECK_ALL(comm, *rows_out && *y_out && *lab_out, PS_ERR_MEM,
               "out of memory for the silhouette sample");
  for (int64_t i = 0; i < m; i++) {
    const double *p = all + order[i] * w;
    (*rows_out)[i] = (int64_t)p[0];
    (*lab_out)[i] = (int32_t)p[2];
    memcpy(*y_out + i * dim, p + 3, (size_t)dim * sizeof **y_out);
  }
  *m_out = m;
cleanup:
  free(cand);
  free(all);
  free(cnts);
  free(displs);
  free(order);
  return err;
}

/* Collective. Every rank gets all n rows of z and their labels, in row order. */
static ps_err_t gather_all(const ps_matrix_t *z, const int32_t *labels, MPI_Comm comm, double **y,
                           int32_t **lab) {
  ps_err_t err = PS_OK;
  const int64_t n = z->n_global, dim = z->n_cols;
  int size;
  MPI_Comm_size(comm, &size);
  int *cnts = malloc((size_t)size * sizeof *cnts), *displs = malloc((size_t)size * sizeof *displs);
  *y = ps_rows_malloc((size_t)(n * dim), sizeof **y);
  *lab = ps_rows_malloc((size_t)n, sizeof **lab);
  PS_CHECK_ALL(comm, cnts && displs && *y && *lab, PS_ERR_MEM,
               "out of memory gathering %lld rows for the silhouette", (long long)n);
  int mine = (int)(z->n_local * dim);
  PS_CALL_MPI(MPI_Allgather(&mine, 1, MPI_INT, cnts, 1, MPI_INT, comm));
  displs[0] = 0;
  for (int r = 1; r < size; r++) displs[r] = displs[r - 1] + cnts[r - 1];
  PS_CALL_MPI(MPI_Allgatherv(z->data, mine, MPI_DOUBLE, *y, cnts, displs, MPI_DOUBLE, comm));
  for (int r = 0; r < size; r++) {
    cnts[r] /= (int)(dim > 0 ? dim : 1);
    displs[r] /= (int)(dim > 0 ? dim : 1);
  }
  mine = (int)z->n_local;
  PS_CALL_MPI(MPI_Allgatherv(labels, mine, MPI_INT32_T, *lab, cnts, displs, MPI_INT32_T, comm));
cleanup:
  free(cnts);
  free(displs);
  return err;
}

ps_err_t ps_metrics_compute(const ps_matrix_t *z, const int32_t *labels, int64_t k,
                            const ps_metrics_opts_t *o, uint64_t seed, MPI_Comm comm,
                            ps_metrics_t *out) {
  ps_err_t err = PS_OK;
  const int64_t nl = z->n_local, dim = z->n_cols, n = z->n_global, off = z->row_offset;
  int rank, size;
  MPI_Comm_rank(comm, &rank);
  MPI_Comm_size(comm, &size);
  memset(out, 0, sizeof *out);
  ps_xsum_t *acc = NULL, s1;
  double *part = NULL, *mu = NULL, *gm = NULL, *pr = NULL, *V = NULL, *sum = NULL;
  double *y = NULL;
  int32_t *touched = NULL, *ylab = NULL;
  int64_t *cnt = NULL, *ycnt = NULL;
  PS_CHECK_ALL(comm, k >= 2 && k < n, PS_ERR_ARG,
               "clustering metrics need 2 <= k < rows (k = %lld, %lld rows)", (long long)k,
               (long long)n);
  const int64_t w = (k + 1) * dim > 2 * k ? (k + 1) * dim : 2 * k;
  acc = calloc((size_t)w, sizeof *acc);
  part = calloc((size_t)((k + 1) * (dim > 2 ? dim : 2)), sizeof *part);
  touched = malloc((size_t)(k + 1) * sizeof *touched);
  cnt = calloc((size_t)k, sizeof *cnt);
  mu = malloc((size_t)((k + 1) * dim) * sizeof *mu);
  pr = malloc((size_t)(nl > 0 ? nl : 1) * 2 * sizeof *pr);
  V = malloc((size_t)(2 * k) * sizeof *V);
  sum = malloc((size_t)k * sizeof *sum);
  PS_CHECK_ALL(comm, acc && part && touched && cnt && mu && pr && V && sum, PS_ERR_MEM,
               "out of memory for the clustering metrics");
  int64_t bad = -1;
  for (int64_t i = 0; i < nl && bad < 0; i++) {
    if (labels[i] < 0 || labels[i] >= k)
      bad = i;
    else
      cnt[labels[i]]++;
  }
  PS_CHECK_ALL(comm, bad < 0, PS_ERR_INTERNAL, "metrics: row %lld has label %d, outside [0, %lld)",
               (long long)(off + bad), bad < 0 ? 0 : (int)labels[bad], (long long)k);

  /* Pass 1: the label means and the overall mean (exact sums, one reduction). */
  ps_xsum_group_blocks(z->data, off, nl, dim, labels, k, acc, part, touched);
  ps_xsum_group_blocks(z->data, off, nl, dim, NULL, 1, acc + k * dim, part, touched);
  PS_TRY(ps_xsum_reduce(acc, (k + 1) * dim, cnt, k, comm));
  ps_xsum_values(acc, (k + 1) * dim, mu);
  gm = mu + k * dim;
  for (int64_t j = 0; j < k; j++)
    for (int64_t t = 0; t < dim; t++)
      mu[j * dim + t] = cnt[j] ? mu[j * dim + t] / (double)cnt[j] : 0;
  for (int64_t t = 0; t < dim; t++) gm[t] /= (double)n;

  /* Pass 2: per cluster, the squared distances to its mean (V) and the
   * distances (S, for Davies-Bouldin). */
  for (int64_t i = 0; i < nl; i++) {
    const double *zi = z->data + i * dim, *m = mu + (int64_t)labels[i] * dim;
    double s = 0.0;
    for (int64_t t = 0; t < dim; t++) {
      const double e = zi[t] - m[t];
      s += e * e;
    }
    pr[2 * i] = s;
    pr[2 * i + 1] = sqrt(s);
  }
  ps_xsum_clear(acc, 2 * k);
  memset(part, 0, (size_t)(2 * (k + 1)) * sizeof *part);
  ps_xsum_group_blocks(pr, off, nl, 2, labels, k, acc, part, touched);
  PS_TRY(ps_xsum_reduce(acc, 2 * k, NULL, 0, comm));
  ps_xsum_values(acc, 2 * k, V); /* V[2j] spread, V[2j + 1] distance sum */

  double within = 0.0, between = 0.0;
  for (int64_t j = 0; j < k; j++) {
    within += V[2 * j];
    double b = 0.0;
    for (int64_t t = 0; t < dim; t++) {
      const double e = mu[j * dim + t] - gm[t];
      b += e * e;
    }
    between += (double)cnt[j] * b;
  }
  out->within = within;
  out->calinski_harabasz =
      within == 0.0 ? 1.0 : between * (double)(n - k) / (within * (double)(k - 1));

  /* Davies-Bouldin, as scikit-learn: 0 when every spread or every centre gap is ~0. */
  {
    int all_s0 = 1, all_d0 = 1;
    double db = 0.0;
    for (int64_t i = 0; i < k; i++) {
      const double si = cnt[i] ? V[2 * i + 1] / (double)cnt[i] : 0.0;
      if (fabs(si) > 1e-15) all_s0 = 0;
      double worst = 0.0;
      for (int64_t j = 0; j < k; j++) {
        if (j == i) continue;
        double dd = 0.0;
        for (int64_t t = 0; t < dim; t++) {
          const double e = mu[i * dim + t] - mu[j * dim + t];
          dd += e * e;
        }
        dd = sqrt(dd);
        if (fabs(dd) > 1e-15) all_d0 = 0;
        const double sj = cnt[j] ? V[2 * j + 1] / (double)cnt[j] : 0.0;
        const double r = dd == 0.0 ? 0.0 : (si + sj) / dd;
        if (r > worst) worst = r;
      }
      db += worst;
    }
    out->davies_bouldin = all_s0 || all_d0 ? 0.0 : db / (double)k;
  }

  /* The squared-Euclidean silhouette, all rows: the summed squared distance
   * from a row to cluster j's rows is cnt_j |z - mu_j|^2 + V_j. */
  for (int64_t i = 0; i < nl; i++) {
    const double *zi = z->data + i * dim;
    for (int64_t j = 0; j < k; j++) {
      double s = 0.0;
      for (int64_t t = 0; t < dim; t++) {
        const double e = zi[t] - mu[j * dim + t];
        s += e * e;
      }
      sum[j] = (double)cnt[j] * s + V[2 * j];
    }
    pr[i] = silhouette_of(sum, cnt, k, labels[i]);
  }
  ps_xsum_clear(&s1, 1);
  ps_xsum_add_blocks(pr, off, nl, &s1);
  PS_TRY(ps_xsum_reduce(&s1, 1, NULL, 0, comm));
  out->silhouette_sq = ps_xsum_value(&s1) / (double)n;

  /* The Euclidean silhouette: over all rows, or over the sample. */
  int64_t m = n;
  if (n <= o->silhouette_max) {
    PS_TRY(gather_all(z, labels, comm, &y, &ylab));
  } else {
    PS_TRY(gather_sample(z, labels, o->sample, seed, comm, &out->sample_rows, &y, &ylab, &m));
  }
  ycnt = calloc((size_t)k, sizeof *ycnt);
  PS_CHECK_ALL(comm, ycnt != NULL, PS_ERR_MEM, "out of memory for the silhouette");
  for (int64_t i = 0; i < m; i++) ycnt[ylab[i]]++;
  /* Each rank its share of the rows (any split: the per-row values do not
   * depend on it and the sum is exact). */
  ps_xsum_clear(&s1, 1);
  silhouette_rows(y, ylab, m, dim, ycnt, k, m * rank / size, m * (rank + 1) / size, sum, &s1);
  PS_TRY(ps_xsum_reduce(&s1, 1, NULL, 0, comm));
  out->silhouette = ps_xsum_value(&s1) / (double)m;
  out->silhouette_rows = m;
cleanup:
  if (err != PS_OK) ps_metrics_free(out);
  free(acc);
  free(part);
  free(touched);
  free(cnt);
  free(mu);
  free(pr);
  free(V);
  free(sum);
  free(y);
  free(ylab);
  free(ycnt);
  return err;
}

ps_err_t ps_metrics_ari(const int32_t *a, int64_t ka, const int32_t *b, int64_t kb, int64_t n_local,
                        MPI_Comm comm, double *ari) {
  ps_err_t err = PS_OK;
  int64_t *ct = calloc((size_t)(ka * kb), sizeof *ct);
  PS_CHECK_ALL(comm, ct != NULL, PS_ERR_MEM, "out of memory for the adjusted Rand index");
  for (int64_t i = 0; i < n_local; i++) ct[(int64_t)a[i] * kb + b[i]]++;
  PS_TRY(ps_reduce_sum_i64(ct, ka * kb, comm));
  /* The pair confusion matrix (sklearn.metrics.cluster.pair_confusion_matrix),
   * in long double: its products exceed int64 for large n. */
  long double n = 0, sum_sq = 0, sa2 = 0, sb2 = 0;
  for (int64_t i = 0; i < ka; i++) {
    long double r = 0;
    for (int64_t j = 0; j < kb; j++) {
      r += (long double)ct[i * kb + j];
      sum_sq += (long double)ct[i * kb + j] * (long double)ct[i * kb + j];
    }
    sa2 += r * r;
    n += r;
  }
  for (int64_t j = 0; j < kb; j++) {
    long double c = 0;
    for (int64_t i = 0; i < ka; i++) c += (long double)ct[i * kb + j];
    sb2 += c * c;
  }
  const long double tp = sum_sq - n, fp = sb2 - sum_sq, fn = sa2 - sum_sq,
                    tn = n * n - fp - fn - sum_sq;
  if (fn == 0 && fp == 0)
    *ari = 1.0;
  else
    *ari = (double)(2.0L * (tp * tn - fn * fp) / ((tp + fn) * (fn + tn) + (tp + fp) * (fp + tn)));
cleanup:
  free(ct);
  return err;
}
