/* report.c - what a person reads: progress, summaries, the Markdown report, info.
 *
 * Collective parts (segment profiles, example members, segment sizes) are
 * reduced or gathered to rank 0, which composes the text once: the same
 * text goes to the report file and, shortened, to stdout.
 */
#include "popseg/report.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "popseg/outfile.h"
#include "popseg/reduce.h"
#include "popseg/sig.h"

static int g_verbosity;

void ps_report_set_verbosity(int v) {
  g_verbosity = v;
}

void ps_report_progress(MPI_Comm comm, const char *fmt, ...) {
  int rank;
  MPI_Comm_rank(comm, &rank);
  /* After SIGTERM the launcher may no longer read our stdout: say nothing more. */
  if (rank != 0 || g_verbosity < 0 || ps_signal_pending()) return;
  va_list ap;
  va_start(ap, fmt);
  vprintf(fmt, ap);
  va_end(ap);
  putchar('\n');
  fflush(stdout);
}

void ps_report_verbose(MPI_Comm comm, const char *fmt, ...) {
  int rank;
  MPI_Comm_rank(comm, &rank);
  if (g_verbosity < 1 || ps_signal_pending()) return;
  char line[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(line, sizeof line, fmt, ap);
  va_end(ap);
  printf("[rank %d] %s\n", rank, line);
  fflush(stdout);
}

/* A growable string: the report is composed once on rank 0. */
typedef struct {
  char *s;
  size_t len, cap;
  int oom;
} sb_t;

__attribute__((format(printf, 2, 3))) static void sb_printf(sb_t *b, const char *fmt, ...) {
  if (b->oom) return;
  for (;;) {
    va_list ap;
    va_start(ap, fmt);
    int need = vsnprintf(b->s ? b->s + b->len : NULL, b->s ? b->cap - b->len : 0, fmt, ap);
    va_end(ap);
    if (need < 0) return;
    if (b->s && b->len + (size_t)need < b->cap) {
      b->len += (size_t)need;
      return;
    }
    size_t cap = (b->cap ? b->cap * 2 : 4096) + (size_t)need;
    char *s = realloc(b->s, cap);
    if (!s) {
      b->oom = 1;
      return;
    }
    b->s = s;
    b->cap = cap;
  }
}

/* Collective. Write text (held on rank 0) to path through a temporary file. */
static ps_err_t write_text(const char *path, int force, const sb_t *b, MPI_Comm comm) {
  ps_err_t err = PS_OK;
  ps_outfile_t of;
  int rank;
  MPI_Comm_rank(comm, &rank);
  PS_TRY(ps_outfile_begin(&of, path, force, comm));
  if (rank == 0) {
    FILE *f = fopen(of.tmp_path, "wb");
    if (!f) {
      err = ps_error(PS_ERR_IO, __FILE__, __LINE__, "%s: cannot create the report", path);
    } else {
      size_t w = b->len ? fwrite(b->s, 1, b->len, f) : 0;
      if (fclose(f) != 0 || w != b->len)
        err = ps_error(PS_ERR_IO, __FILE__, __LINE__, "%s: write failed", path);
    }
  }
  err = ps_err_agree(comm, err);
  err = ps_outfile_end(&of, err, comm);
cleanup:
  return err;
}

/* An example member: the rows closest to their centroid. */
typedef struct {
  double dist;
  int64_t row;
  int64_t id;
} member_t;

#define PS_EXAMPLES 5

/* Collective. For each cluster, the PS_EXAMPLES rows closest to its centroid,
 * gathered to rank 0 (ex [k][PS_EXAMPLES], names [k][PS_EXAMPLES][name_width]). */
static ps_err_t gather_examples(const ps_table_t *t, const int32_t *labels, const double *dist,
                                int64_t k, MPI_Comm comm, member_t *ex, char *exnames) {
  ps_err_t err = PS_OK;
  int rank, size;
  MPI_Comm_rank(comm, &rank);
  MPI_Comm_size(comm, &size);
  size_t w = t->name_width, rec = sizeof(member_t) + w;
  size_t nrec = (size_t)k * PS_EXAMPLES;
  char *mine = calloc(nrec, rec), *all = NULL;
  if (rank == 0) all = calloc(nrec * (size_t)size, rec);
  err = (mine && (rank != 0 || all)) ? PS_OK
                                     : ps_error(PS_ERR_MEM, __FILE__, __LINE__, "out of memory");
  PS_AGREE(comm);
  for (size_t r = 0; r < nrec; r++) {
    member_t m = {INFINITY, -1, 0};
    memcpy(mine + r * rec, &m, sizeof m);
  }
  /* Insertion into a small sorted list per cluster. */
  for (int64_t i = 0; i < t->x->n_local; i++) {
    int64_t c = labels[i];
    char *base = mine + (size_t)c * PS_EXAMPLES * rec;
    member_t last;
    memcpy(&last, base + (PS_EXAMPLES - 1) * rec, sizeof last);
    if (!(dist[i] < last.dist)) continue;
    int pos = PS_EXAMPLES - 1;
    while (pos > 0) {
      member_t prev;
      memcpy(&prev, base + (size_t)(pos - 1) * rec, sizeof prev);
      if (!(dist[i] < prev.dist)) break;
      memcpy(base + (size_t)pos * rec, base + (size_t)(pos - 1) * rec, rec);
      pos--;
    }
    member_t m = {dist[i], t->x->row_offset + i, t->ids[i]};
    memcpy(base + (size_t)pos * rec, &m, sizeof m);
    memcpy(base + (size_t)pos * rec + sizeof m, ps_table_name(t, i), w);
  }
  PS_CHECK(nrec * rec < (size_t)INT32_MAX / (size_t)size, PS_ERR_ARG,
           "too many segments for the example list (k = %lld)", (long long)k);
  PS_CALL_MPI(
      MPI_Gather(mine, (int)(nrec * rec), MPI_BYTE, all, (int)(nrec * rec), MPI_BYTE, 0, comm));
  if (rank == 0) {
    for (int64_t c = 0; c < k; c++) {
      for (int e = 0; e < PS_EXAMPLES; e++) {
        /* Pick the best remaining candidate over ranks (ties: the lower row). */
        int best = -1;
        member_t bm = {INFINITY, -1, 0};
        for (int r = 0; r < size; r++)
          for (int q = 0; q < PS_EXAMPLES; q++) {
            char *p = all + ((size_t)r * nrec + (size_t)c * PS_EXAMPLES + (size_t)q) * rec;
            member_t m;
            memcpy(&m, p, sizeof m);
            if (m.row < 0) continue;
            if (m.dist < bm.dist || (m.dist == bm.dist && m.row < bm.row)) {
              bm = m;
              best = r * PS_EXAMPLES + q;
            }
          }
        ex[c * PS_EXAMPLES + e] = bm;
        exnames[(size_t)(c * PS_EXAMPLES + e) * w] = '\0';
        if (best >= 0) {
          char *p = all + ((size_t)(best / PS_EXAMPLES) * nrec + (size_t)c * PS_EXAMPLES +
                           (size_t)(best % PS_EXAMPLES)) *
                              rec;
          memcpy(exnames + (size_t)(c * PS_EXAMPLES + e) * w, p + sizeof(member_t), w);
          member_t used = {INFINITY, -1, 0};
          memcpy(p, &used, sizeof used);
        }
      }
    }
  }
cleanup:
  free(mine);
  free(all);
  return err;
}

typedef struct {
  double z;
  int64_t j;
} zf_t;

static int cmp_absz(const void *a, const void *b) {
  double x = fabs(((const zf_t *)a)->z), y = fabs(((const zf_t *)b)->z);
  if (x != y) return x < y ? 1 : -1;
  return ((const zf_t *)a)->j < ((const zf_t *)b)->j ? -1 : 1;
}

/* "high Transit, high Professional, low Drive": features whose segment mean
 * is furthest from the overall mean, in overall standard deviations. */
static void describe(sb_t *b, const ps_table_t *t, const double *seg_mean, const double *mean,
                     const double *sd, int64_t d, int most) {
  zf_t *z = malloc((size_t)d * sizeof *z);
  if (!z) return;
  for (int64_t j = 0; j < d; j++) {
    z[j].j = j;
    z[j].z = sd[j] > 0 ? (seg_mean[j] - mean[j]) / sd[j] : 0.0;
  }
  qsort(z, (size_t)d, sizeof *z, cmp_absz);
  int said = 0;
  for (int64_t q = 0; q < d && said < most; q++) {
    if (fabs(z[q].z) < 0.5) break;
    sb_printf(b, "%s%s %s", said ? ", " : "", z[q].z > 0 ? "high" : "low",
              ps_table_fname(t, z[q].j));
    said++;
  }
  if (!said) sb_printf(b, "close to the overall average");
  free(z);
}

ps_err_t ps_report_fit(const ps_report_fit_t *r, const char *path, int force, MPI_Comm comm) {
  ps_err_t err = PS_OK;
  const ps_table_t *t = r->table;
  const ps_pca_t *pca = r->pca;
  const ps_kmeans_t *km = r->km;
  int64_t d = pca->d, k = km->k, K = pca->n_kept, n = t->x->n_global;
  double *acc = NULL, *seg = NULL, *mean = NULL, *sd = NULL;
  member_t *ex = NULL;
  char *exnames = NULL;
  sb_t b = {0};
  int rank;
  MPI_Comm_rank(comm, &rank);

  /* Per-segment sums of the scaled features and the per-feature squared
   * deviations, in one reduction. */
  acc = calloc((size_t)(k * d + d), sizeof *acc);
  ex = calloc((size_t)(k * PS_EXAMPLES), sizeof *ex);
  exnames = calloc((size_t)(k * PS_EXAMPLES), t->name_width);
  seg = calloc((size_t)(k * d), sizeof *seg);
  mean = calloc((size_t)d, sizeof *mean);
  sd = calloc((size_t)d, sizeof *sd);
  err = acc && ex && exnames && seg && mean && sd
            ? PS_OK
            : ps_error(PS_ERR_MEM, __FILE__, __LINE__, "out of memory for the report");
  PS_AGREE(comm);
  for (int64_t i = 0; i < t->x->n_local; i++) {
    const double *x = r->xs->data + i * d;
    double *s = acc + (int64_t)km->labels[i] * d, *q = acc + k * d;
    for (int64_t j = 0; j < d; j++) {
      s[j] += x[j];
      q[j] += (x[j] - pca->mean[j]) * (x[j] - pca->mean[j]);
    }
  }
  PS_TRY(ps_reduce_sum(acc, k * d + d, comm));
  PS_TRY(gather_examples(t, km->labels, km->distance, k, comm, ex, exnames));
  if (rank != 0) goto cleanup;

  /* Means in original units (scaling is affine, so the mean maps exactly);
   * spread in original units too: sd / factor. */
  memcpy(mean, pca->mean, (size_t)d * sizeof *mean);
  ps_scale_inverse(r->scale, mean, 1);
  for (int64_t c = 0; c < k; c++) {
    for (int64_t j = 0; j < d; j++)
      seg[c * d + j] = km->sizes[c] > 0 ? acc[c * d + j] / (double)km->sizes[c] : pca->mean[j];
    ps_scale_inverse(r->scale, seg + c * d, 1);
  }
  for (int64_t j = 0; j < d; j++) {
    double v = n > 1 ? sqrt(acc[k * d + j] / (double)(n - 1)) : 0.0;
    double f = r->scale->factor[j];
    sd[j] = f != 0.0 ? v / fabs(f) : 0.0;
  }

  sb_printf(&b, "# popseg segmentation report\n\n## Data\n\n");
  sb_printf(&b, "- Input: `%s`%s%s%s\n", t->source, t->source_sha256[0] ? " (sha256 `" : "",
            t->source_sha256, t->source_sha256[0] ? "`)" : "");
  sb_printf(&b, "- Rows: %lld read, %lld dropped (missing values%s%s), %lld segmented\n",
            (long long)t->n_read, (long long)t->n_dropped, t->n_dropped ? ": " : "",
            t->dropped_examples, (long long)n);
  sb_printf(&b, "- Features: %lld, scaled with %s", (long long)d,
            ps_scale_kind_name(r->scale->kind));
  if (r->scale->n_constant)
    sb_printf(&b, " (%lld constant column(s) scale to 0, first: %s)",
              (long long)r->scale->n_constant, ps_table_fname(t, r->scale->first_constant));
  sb_printf(&b, "\n- MPI ranks: %d\n\n", r->n_ranks);

  sb_printf(&b,
            "## Variance\n\nPCA fitted %lld components with %s (grid %dx%d). "
            "Kept **%lld**: %s.\n\n",
            (long long)pca->p, ps_pca_solver_name(pca->solver_used), pca->grid_rows, pca->grid_cols,
            (long long)K, r->pca_keep_reason);
  sb_printf(&b, "| component | explained variance | ratio | cumulative | kept |\n"
                "|---:|---:|---:|---:|:---:|\n");
  {
    double cum = 0;
    for (int64_t c = 0; c < pca->p; c++) {
      cum += pca->explained_variance_ratio[c];
      sb_printf(&b, "| %lld | %.6g | %.5f | %.5f | %s |\n", (long long)c + 1,
                pca->explained_variance[c], pca->explained_variance_ratio[c], cum,
                c < K ? "yes" : "");
    }
  }

  sb_printf(&b, "\n## Component makeup\n\nTop features of each kept component by absolute "
                "weight (signs are relative: a component's sign is fixed so that its largest "
                "weight is positive).\n\n");
  for (int64_t c = 0; c < K; c++) {
    const double *w = pca->components + c * d;
    zf_t *z = malloc((size_t)d * sizeof *z);
    if (!z) break;
    for (int64_t j = 0; j < d; j++) z[j] = (zf_t){w[j], j};
    qsort(z, (size_t)d, sizeof *z, cmp_absz);
    sb_printf(&b, "- **pc%lld** (%.1f%%):", (long long)c + 1,
              100.0 * pca->explained_variance_ratio[c]);
    for (int64_t q = 0; q < d && q < 10; q++)
      sb_printf(&b, "%s %s %+.3f", q ? "," : "", ps_table_fname(t, z[q].j), z[q].z);
    sb_printf(&b, "\n");
    free(z);
  }

  sb_printf(&b,
            "\n## Segments\n\nk-means with k = %lld: best of %d run(s) (run %d), inertia "
            "%.10g, %d iterations, %s.\n",
            (long long)k, km->n_runs, km->best_run + 1, km->inertia, km->iterations,
            km->converged ? "converged" : "stopped at --kmeans-max-iter");
  sb_printf(&b, "Inertia of every run:");
  for (int q = 0; q < km->n_runs; q++) sb_printf(&b, " %.6g", km->run_inertia[q]);
  sb_printf(&b, "\n\n");
  if (km->few_distinct)
    sb_printf(&b, "**Warning:** fewer distinct rows than k; some segments share identical "
                  "points.\n\n");
  for (int64_t c = 0; c < k; c++) {
    sb_printf(&b, "### Segment %lld: %lld rows (%.1f%%)\n\n", (long long)c, (long long)km->sizes[c],
              n ? 100.0 * (double)km->sizes[c] / (double)n : 0.0);
    sb_printf(&b, "- Stands out for: ");
    describe(&b, t, seg + c * d, mean, sd, d, 4);
    sb_printf(&b, "\n- Centroid (component space):");
    for (int64_t j = 0; j < K; j++)
      sb_printf(&b, " pc%lld=%+.4f", (long long)j + 1, km->centroids[c * K + j]);
    sb_printf(&b, "\n- Closest to the centroid:");
    for (int e = 0; e < PS_EXAMPLES; e++) {
      const member_t *m = &ex[c * PS_EXAMPLES + e];
      if (m->row < 0) break;
      sb_printf(&b, "%s %s (id %lld)", e ? "," : "",
                exnames + (size_t)(c * PS_EXAMPLES + e) * t->name_width, (long long)m->id);
    }
    sb_printf(&b, "\n\n");
  }
  sb_printf(&b, "### Profiles in original units\n\nMean of each feature over the segment's "
                "rows, against the mean over all rows.\n\n| feature | all |");
  for (int64_t c = 0; c < k; c++) sb_printf(&b, " seg %lld |", (long long)c);
  sb_printf(&b, "\n|---|---:|");
  for (int64_t c = 0; c < k; c++) sb_printf(&b, "---:|");
  sb_printf(&b, "\n");
  for (int64_t j = 0; j < d; j++) {
    sb_printf(&b, "| %s | %.4g |", ps_table_fname(t, j), mean[j]);
    for (int64_t c = 0; c < k; c++) sb_printf(&b, " %.4g |", seg[c * d + j]);
    sb_printf(&b, "\n");
  }
  sb_printf(&b,
            "\n## Timings\n\n| stage | seconds |\n|---|---:|\n| read | %.3f |\n"
            "| scale | %.3f |\n| pca | %.3f |\n| k-means | %.3f |\n| write | %.3f |\n",
            r->times[PS_T_READ], r->times[PS_T_SCALE], r->times[PS_T_PCA], r->times[PS_T_KMEANS],
            r->times[PS_T_WRITE]);

  if (g_verbosity >= 0) {
    printf("\nsegments (k = %lld, %lld components, inertia %.6g):\n", (long long)k, (long long)K,
           km->inertia);
    for (int64_t c = 0; c < k; c++) {
      sb_t line = {0};
      describe(&line, t, seg + c * d, mean, sd, d, 3);
      printf("  %2lld: %6lld rows (%5.1f%%)  %s; e.g. %s\n", (long long)c, (long long)km->sizes[c],
             n ? 100.0 * (double)km->sizes[c] / (double)n : 0.0, line.s ? line.s : "",
             exnames + (size_t)(c * PS_EXAMPLES) * t->name_width);
      free(line.s);
    }
    fflush(stdout);
  }
  if (b.oom) err = ps_error(PS_ERR_MEM, __FILE__, __LINE__, "out of memory for the report");
cleanup:
  err = ps_err_agree(comm, err);
  if (err == PS_OK && path) err = write_text(path, force, &b, comm);
  free(b.s);
  free(acc);
  free(ex);
  free(exnames);
  free(seg);
  free(mean);
  free(sd);
  return err;
}

ps_err_t ps_report_predict(const ps_report_predict_t *r, const char *path, int force,
                           MPI_Comm comm) {
  ps_err_t err = PS_OK;
  int64_t k = r->model->k, n = r->table->x->n_global;
  int64_t *sizes = calloc((size_t)(k > 0 ? k : 1), sizeof *sizes);
  sb_t b = {0};
  int rank;
  MPI_Comm_rank(comm, &rank);
  err = sizes ? PS_OK : ps_error(PS_ERR_MEM, __FILE__, __LINE__, "out of memory");
  PS_AGREE(comm);
  for (int64_t i = 0; i < r->table->x->n_local; i++) sizes[r->labels[i]]++;
  PS_TRY(ps_reduce_sum_i64(sizes, k, comm));
  if (rank != 0) goto cleanup;
  sb_printf(&b,
            "# popseg prediction report\n\n- Model: `%s` (k = %lld, %lld components, "
            "scaling %s)\n- Input: `%s`\n- Rows: %lld read, %lld dropped (missing values%s%s), "
            "%lld labelled\n- MPI ranks: %d\n",
            r->model_path, (long long)k, (long long)r->model->pca->n_kept,
            ps_scale_kind_name(r->model->scale->kind), r->table->source,
            (long long)r->table->n_read, (long long)r->table->n_dropped,
            r->table->n_dropped ? ": " : "", r->table->dropped_examples, (long long)n, r->n_ranks);
  if (r->have_fit)
    sb_printf(&b,
              "- Compared with the fit (matched by id): %lld rows matched, **%lld changed "
              "segment** (%.1f%%), %lld new ids\n",
              (long long)r->matched, (long long)r->changed,
              r->matched ? 100.0 * (double)r->changed / (double)r->matched : 0.0,
              (long long)(n - r->matched));
  sb_printf(&b, "\n## Segment sizes\n\n| segment | rows | share |\n|---:|---:|---:|\n");
  for (int64_t c = 0; c < k; c++)
    sb_printf(&b, "| %lld | %lld | %.1f%% |\n", (long long)c, (long long)sizes[c],
              n ? 100.0 * (double)sizes[c] / (double)n : 0.0);
  sb_printf(&b,
            "\n## Timings\n\n| stage | seconds |\n|---|---:|\n| read | %.3f |\n"
            "| predict | %.3f |\n| write | %.3f |\n",
            r->times[PS_T_READ], r->times[PS_T_KMEANS], r->times[PS_T_WRITE]);
  if (g_verbosity >= 0) {
    printf("\n%lld rows labelled with %lld segments; %lld matched the fit by id, %lld changed "
           "segment\n",
           (long long)n, (long long)k, (long long)r->matched, (long long)r->changed);
    fflush(stdout);
  }
  if (b.oom) err = ps_error(PS_ERR_MEM, __FILE__, __LINE__, "out of memory for the report");
cleanup:
  err = ps_err_agree(comm, err);
  if (err == PS_OK && path) err = write_text(path, force, &b, comm);
  free(b.s);
  free(sizes);
  return err;
}

ps_err_t ps_report_info(const ps_table_t *t, MPI_Comm comm) {
  ps_err_t err = PS_OK;
  int64_t d = t->x->n_cols, n = t->x->n_global;
  double *mn = NULL, *mx = NULL, *sm = NULL;
  char *rows = NULL, *all = NULL;
  int rank, size;
  MPI_Comm_rank(comm, &rank);
  MPI_Comm_size(comm, &size);
  const int show = 5;
  /* A shown row: id, name, then its first few values. */
  const int showcols = (int)(d < 6 ? d : 6);
  size_t rec = sizeof(int64_t) + t->name_width + (size_t)showcols * sizeof(double);
  mn = malloc((size_t)(d > 0 ? d : 1) * sizeof *mn);
  mx = malloc((size_t)(d > 0 ? d : 1) * sizeof *mx);
  sm = calloc((size_t)(d > 0 ? d : 1), sizeof *sm);
  rows = calloc((size_t)show, rec);
  if (rank == 0) all = calloc((size_t)show * (size_t)size, rec);
  err = mn && mx && sm && rows && (rank != 0 || all)
            ? PS_OK
            : ps_error(PS_ERR_MEM, __FILE__, __LINE__, "out of memory");
  PS_AGREE(comm);
  for (int64_t j = 0; j < d; j++) {
    mn[j] = INFINITY;
    mx[j] = -INFINITY;
  }
  for (int64_t i = 0; i < t->x->n_local; i++)
    for (int64_t j = 0; j < d; j++) {
      double v = t->x->data[i * d + j];
      if (v < mn[j]) mn[j] = v;
      if (v > mx[j]) mx[j] = v;
      sm[j] += v;
    }
  for (int64_t i = 0; i < t->x->n_local && i < show; i++) {
    char *p = rows + (size_t)i * rec;
    memcpy(p, &t->ids[i], sizeof(int64_t));
    memcpy(p + sizeof(int64_t), ps_table_name(t, i), t->name_width);
    memcpy(p + sizeof(int64_t) + t->name_width, t->x->data + i * d,
           (size_t)showcols * sizeof(double));
  }
  PS_TRY(ps_reduce_min(mn, d, comm));
  PS_TRY(ps_reduce_max(mx, d, comm));
  PS_TRY(ps_reduce_sum(sm, d, comm));
  PS_CALL_MPI(
      MPI_Gather(rows, (int)(show * rec), MPI_BYTE, all, (int)(show * rec), MPI_BYTE, 0, comm));
  if (rank == 0) {
    printf("%s: %lld rows x %lld features", t->source, (long long)n, (long long)d);
    if (t->n_read)
      printf(" (%lld read, %lld dropped)", (long long)t->n_read, (long long)t->n_dropped);
    printf("\nsha256 of the source: %s\n\nfirst rows (id, name, first %d features):\n",
           t->source_sha256[0] ? t->source_sha256 : "(unknown)", showcols);
    int shown = 0;
    for (int r = 0; r < size && shown < show; r++) {
      int64_t off, cnt;
      ps_block_range(n, size, r, &off, &cnt);
      for (int64_t i = 0; i < cnt && i < show && shown < show; i++, shown++) {
        const char *p = all + ((size_t)r * show + (size_t)i) * rec;
        int64_t id;
        memcpy(&id, p, sizeof id);
        printf("  %lld  %-28s", (long long)id, p + sizeof(int64_t));
        for (int j = 0; j < showcols; j++) {
          double v;
          memcpy(&v, p + sizeof(int64_t) + t->name_width + (size_t)j * sizeof(double), sizeof v);
          printf(" %12.6g", v);
        }
        printf("\n");
      }
    }
    printf("\n%-24s %14s %14s %14s\n", "feature", "min", "mean", "max");
    for (int64_t j = 0; j < d; j++)
      printf("%-24s %14.6g %14.6g %14.6g\n", ps_table_fname(t, j), mn[j],
             n ? sm[j] / (double)n : NAN, mx[j]);
    fflush(stdout);
  }
cleanup:
  free(mn);
  free(mx);
  free(sm);
  free(rows);
  free(all);
  return ps_err_agree(comm, err);
}
