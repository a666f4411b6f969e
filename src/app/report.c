/* report.c - the Markdown reports and stdout summaries, formatted from the
 * stages' results (no MPI, no statistics computed here: see report.h). */
#include "popseg/report.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
  double z;
  int64_t j;
} zf_t;

static int cmp_absz(const void *a, const void *b) {
  double x = fabs(((const zf_t *)a)->z), y = fabs(((const zf_t *)b)->z);
  if (x != y) return x < y ? 1 : -1;
  return ((const zf_t *)a)->j < ((const zf_t *)b)->j ? -1 : 1;
}

/* "high Transit, high Professional, low Drive": the features whose segment
 * mean is furthest from the overall mean, in overall standard deviations. */
static void describe(ps_sb_t *b, const ps_table_t *t, const ps_profile_t *p, int64_t c, int most) {
  const int64_t d = p->d;
  zf_t *z = malloc((size_t)(d > 0 ? d : 1) * sizeof *z);
  if (!z) {
    b->oom = 1;
    return;
  }
  for (int64_t j = 0; j < d; j++) {
    double sd = p->overall_sd[j];
    z[j].j = j;
    z[j].z = sd > 0 ? (p->mean[c * d + j] - p->overall_mean[j]) / sd : 0.0;
  }
  qsort(z, (size_t)d, sizeof *z, cmp_absz);
  int said = 0;
  for (int64_t q = 0; q < d && said < most; q++) {
    if (fabs(z[q].z) < 0.5) break;
    ps_sb_printf(b, "%s%s %s", said ? ", " : "", z[q].z > 0 ? "high" : "low",
                 ps_table_fname(t, z[q].j));
    said++;
  }
  if (!said) ps_sb_puts(b, "close to the overall average");
  free(z);
}

static double share(int64_t part, int64_t n) {
  return n ? 100.0 * (double)part / (double)n : 0.0;
}

/* "`path` (sha256 `...`)" */
static void file_ref(ps_sb_t *b, const char *path, const char *sha) {
  ps_sb_printf(b, "`%s`", path);
  if (sha && sha[0]) ps_sb_printf(b, " (sha256 `%s`)", sha);
}

static void md_data(ps_sb_t *b, const ps_report_fit_t *r) {
  const ps_table_t *t = r->table;
  char nr[48];
  ps_sb_puts(b, "# popseg segmentation report\n\n## Data\n\n- Input: ");
  file_ref(b, t->input, t->input_sha256);
  if (strcmp(t->input, t->source) != 0) {
    ps_sb_puts(b, ", imported from ");
    file_ref(b, t->source, t->source_sha256);
  }
  ps_sb_printf(b, "\n- Rows: %lld read, %lld dropped (missing values%s%s), %lld segmented\n",
               (long long)t->n_read, (long long)t->n_dropped, t->n_dropped ? ": " : "",
               t->dropped_examples, (long long)t->x->n_global);
  ps_sb_printf(b, "- Features: %lld, scaled with %s", (long long)r->pca->d,
               ps_scale_kind_name(r->scale->kind));
  if (r->scale->n_constant)
    ps_sb_printf(b, " (%lld constant column(s) scale to 0, first: %s)",
                 (long long)r->scale->n_constant, ps_table_fname(t, r->scale->first_constant));
  ps_sb_printf(b, "\n- MPI: %s\n\n", ps_plural_s(nr, r->n_ranks, "rank", "ranks"));
}

static void md_variance(ps_sb_t *b, const ps_report_fit_t *r) {
  const ps_pca_t *pca = r->pca;
  ps_sb_printf(b,
               "## Variance\n\nPCA fitted %lld components with %s (grid %dx%d). "
               "Kept **%lld**: %s.\n\n",
               (long long)pca->p, ps_pca_solver_name(pca->solver_used), pca->grid_rows,
               pca->grid_cols, (long long)pca->n_kept, r->pca_keep_reason);
  ps_sb_puts(b, "| component | explained variance | ratio | cumulative | kept |\n"
                "|---:|---:|---:|---:|:---:|\n");
  double cum = 0;
  for (int64_t c = 0; c < pca->p; c++) {
    cum += pca->explained_variance_ratio[c];
    ps_sb_printf(b, "| %lld | %.6g | %.5f | %.5f | %s |\n", (long long)c + 1,
                 pca->explained_variance[c], pca->explained_variance_ratio[c], cum,
                 c < pca->n_kept ? "yes" : "");
  }
}

static void md_makeup(ps_sb_t *b, const ps_report_fit_t *r) {
  const ps_pca_t *pca = r->pca;
  const int64_t d = pca->d;
  zf_t *z = malloc((size_t)(d > 0 ? d : 1) * sizeof *z);
  if (!z) {
    b->oom = 1;
    return;
  }
  ps_sb_puts(b, "\n## Component makeup\n\nTop features of each kept component by absolute "
                "weight (signs are relative: a component's sign is fixed so that its largest "
                "weight is positive).\n\n");
  for (int64_t c = 0; c < pca->n_kept; c++) {
    const double *w = pca->components + c * d;
    for (int64_t j = 0; j < d; j++) z[j] = (zf_t){w[j], j};
    qsort(z, (size_t)d, sizeof *z, cmp_absz);
    ps_sb_printf(b, "- **pc%lld** (%.1f%%):", (long long)c + 1,
                 100.0 * pca->explained_variance_ratio[c]);
    for (int64_t q = 0; q < d && q < 10; q++)
      ps_sb_printf(b, "%s %s %+.3f", q ? "," : "", ps_table_fname(r->table, z[q].j), z[q].z);
    ps_sb_puts(b, "\n");
  }
  free(z);
}

static void md_segment(ps_sb_t *b, const ps_report_fit_t *r, int64_t c) {
  const ps_kmeans_t *km = r->km;
  const ps_profile_t *p = r->profile;
  const int64_t K = km->dim, n = r->table->x->n_global;
  ps_sb_printf(b, "### Segment %lld: %lld rows (%.1f%%)\n\n- Stands out for: ", (long long)c,
               (long long)km->sizes[c], share(km->sizes[c], n));
  describe(b, r->table, p, c, 4);
  ps_sb_puts(b, "\n- Centroid (component space):");
  for (int64_t j = 0; j < K; j++)
    ps_sb_printf(b, " pc%lld=%+.4f", (long long)j + 1, km->centroids[c * K + j]);
  ps_sb_puts(b, "\n- Closest to the centroid:");
  for (int64_t e = 0; e < p->n_examples; e++) {
    int64_t o = c * p->n_examples + e;
    if (p->example_row[o] < 0) break;
    ps_sb_printf(b, "%s %s (id %lld)", e ? "," : "", p->example_name + (size_t)o * p->name_width,
                 (long long)p->example_id[o]);
  }
  ps_sb_puts(b, "\n\n");
}

static void md_segments(ps_sb_t *b, const ps_report_fit_t *r) {
  const ps_kmeans_t *km = r->km;
  const ps_profile_t *p = r->profile;
  const int64_t k = km->k, d = p->d;
  ps_sb_printf(b,
               "\n## Segments\n\nk-means with k = %lld: best of %d run(s) (run %d), inertia "
               "%.10g, %d iterations, %s.\n",
               (long long)k, km->n_runs, km->best_run + 1, km->inertia, km->iterations,
               km->converged ? "converged" : "stopped at the iteration limit");
  ps_sb_puts(b, "Inertia of every run:");
  for (int q = 0; q < km->n_runs; q++) ps_sb_printf(b, " %.6g", km->run_inertia[q]);
  ps_sb_puts(b, "\n\n");
  if (km->few_distinct)
    ps_sb_puts(b, "**Warning:** fewer distinct rows than k; some segments share identical "
                  "points.\n\n");
  for (int64_t c = 0; c < k; c++) md_segment(b, r, c);
  ps_sb_puts(b, "### Profiles in original units\n\nMean of each feature over the segment's "
                "rows, against the mean over all rows.\n\n| feature | all |");
  for (int64_t c = 0; c < k; c++) ps_sb_printf(b, " seg %lld |", (long long)c);
  ps_sb_puts(b, "\n|---|---:|");
  for (int64_t c = 0; c < k; c++) ps_sb_puts(b, "---:|");
  ps_sb_puts(b, "\n");
  for (int64_t j = 0; j < d; j++) {
    ps_sb_printf(b, "| %s | %.4g |", ps_table_fname(r->table, j), p->overall_mean[j]);
    for (int64_t c = 0; c < k; c++) ps_sb_printf(b, " %.4g |", p->mean[c * d + j]);
    ps_sb_puts(b, "\n");
  }
}

static void summary_fit(ps_sb_t *s, const ps_report_fit_t *r) {
  const ps_kmeans_t *km = r->km;
  const ps_profile_t *p = r->profile;
  const int64_t n = r->table->x->n_global;
  ps_sb_printf(s, "\nsegments (k = %lld, %lld components, inertia %.6g):\n", (long long)km->k,
               (long long)km->dim, km->inertia);
  for (int64_t c = 0; c < km->k; c++) {
    ps_sb_printf(s, "  %2lld: %6lld rows (%5.1f%%)  ", (long long)c, (long long)km->sizes[c],
                 share(km->sizes[c], n));
    describe(s, r->table, p, c, 3);
    ps_sb_printf(s, "; e.g. %s\n", p->example_name + (size_t)c * p->n_examples * p->name_width);
  }
}

void ps_report_fit(const ps_report_fit_t *r, ps_sb_t *md, ps_sb_t *summary) {
  if (md) {
    const double *t = r->times;
    md_data(md, r);
    md_variance(md, r);
    md_makeup(md, r);
    md_segments(md, r);
    ps_sb_printf(md,
                 "\n## Timings\n\n| stage | seconds |\n|---|---:|\n| read | %.3f |\n"
                 "| scale | %.3f |\n| pca | %.3f |\n| k-means | %.3f |\n| write | %.3f |\n",
                 t[PS_T_READ], t[PS_T_SCALE], t[PS_T_PCA], t[PS_T_KMEANS], t[PS_T_WRITE]);
  }
  if (summary) summary_fit(summary, r);
}

void ps_report_predict(const ps_report_predict_t *r, ps_sb_t *md, ps_sb_t *summary) {
  const ps_table_t *t = r->table;
  const int64_t k = r->k, n = t->x->n_global;
  char nr[48];
  if (md) {
    ps_sb_printf(md,
                 "# popseg prediction report\n\n- Model: `%s` (k = %lld, %lld components, "
                 "scaling %s)\n- Input: ",
                 r->model_path, (long long)k, (long long)r->n_kept,
                 ps_scale_kind_name(r->scale_kind));
    file_ref(md, t->input, t->input_sha256);
    if (strcmp(t->input, t->source) != 0) {
      ps_sb_puts(md, ", imported from ");
      file_ref(md, t->source, t->source_sha256);
    }
    ps_sb_printf(md,
                 "\n- Rows: %lld read, %lld dropped (missing values%s%s), %lld labelled\n"
                 "- MPI: %s\n",
                 (long long)t->n_read, (long long)t->n_dropped, t->n_dropped ? ": " : "",
                 t->dropped_examples, (long long)n, ps_plural_s(nr, r->n_ranks, "rank", "ranks"));
    if (r->have_fit)
      ps_sb_printf(md,
                   "- Compared with the fit (matched by id): %lld rows matched, **%lld changed "
                   "segment** (%.1f%%), %s\n",
                   (long long)r->matched, (long long)r->changed, share(r->changed, r->matched),
                   ps_plural_s(nr, n - r->matched, "new id", "new ids"));
    ps_sb_puts(md, "\n## Segment sizes\n\n| segment | rows | share |\n|---:|---:|---:|\n");
    for (int64_t c = 0; c < k; c++)
      ps_sb_printf(md, "| %lld | %lld | %.1f%% |\n", (long long)c, (long long)r->sizes[c],
                   share(r->sizes[c], n));
    ps_sb_printf(md,
                 "\n## Timings\n\n| stage | seconds |\n|---|---:|\n| read | %.3f |\n"
                 "| predict | %.3f |\n| write | %.3f |\n",
                 r->times[PS_T_READ], r->times[PS_T_KMEANS], r->times[PS_T_WRITE]);
  }
  if (summary)
    ps_sb_printf(summary,
                 "\n%lld rows labelled with %lld segments; %lld matched the fit by id, %lld "
                 "changed segment\n",
                 (long long)n, (long long)k, (long long)r->matched, (long long)r->changed);
}

void ps_report_info(const ps_table_t *t, const ps_table_summary_t *s, ps_sb_t *out) {
  ps_sb_printf(out, "%s: %lld rows x %lld features", t->input, (long long)s->n, (long long)s->d);
  if (t->n_read)
    ps_sb_printf(out, " (%lld read, %lld dropped)", (long long)t->n_read, (long long)t->n_dropped);
  ps_sb_printf(out, "\nsha256: %s\n", t->input_sha256[0] ? t->input_sha256 : "(not computed)");
  if (strcmp(t->input, t->source) != 0)
    ps_sb_printf(out, "imported from: %s (sha256 %s)\n", t->source,
                 t->source_sha256[0] ? t->source_sha256 : "unknown");
  ps_sb_printf(out, "\nfirst rows (id, name, first %d features):\n", s->n_cols);
  for (int i = 0; i < s->n_rows; i++) {
    ps_sb_printf(out, "  %lld  %-28s", (long long)s->ids[i], s->names + (size_t)i * s->name_width);
    for (int j = 0; j < s->n_cols; j++) ps_sb_printf(out, " %12.6g", s->values[i][j]);
    ps_sb_puts(out, "\n");
  }
  ps_sb_printf(out, "\n%-24s %14s %14s %14s\n", "feature", "min", "mean", "max");
  for (int64_t j = 0; j < s->d; j++)
    ps_sb_printf(out, "%-24s %14.6g %14.6g %14.6g\n", ps_table_fname(t, j), s->min[j], s->mean[j],
                 s->max[j]);
}

/* ------------------------------------------------------------------ sweep */

void ps_report_sweep_csv(const ps_sweep_t *s, ps_sb_t *csv) {
  ps_sb_puts(csv, "k,inertia,msd,iterations,silhouette,silhouette_sq,calinski_harabasz,"
                  "davies_bouldin,ari\n");
  for (int64_t i = 0; i < s->m; i++)
    ps_sb_printf(csv, "%lld,%.17g,%.17g,%d,%.17g,%.17g,%.17g,%.17g,%.17g\n", (long long)s->k[i],
                 s->inertia[i], s->msd[i], (int)s->iterations[i], s->silhouette[i],
                 s->silhouette_sq[i], s->calinski_harabasz[i], s->davies_bouldin[i], s->ari[i]);
}

void ps_report_sweep(const ps_sweep_t *s, int64_t n_rows, ps_sb_t *md, ps_sb_t *summary) {
  const int64_t best = s->k[s->suggested];
  const int sampled = s->silhouette_rows[0] < n_rows;
  if (md) {
    ps_sb_printf(md, "## Choosing k\n\n");
    ps_sb_printf(md,
                 "k-means for k = %lld..%lld on the same scaling and PCA, best of %d%s%.0d "
                 "restarts per k (seed %llu). Suggested: **k = %lld**, by the rule: %s.\n\n",
                 (long long)s->k[0], (long long)s->k[s->m - 1], s->n_init,
                 s->n_init_max != s->n_init ? " to " : "",
                 s->n_init_max != s->n_init ? s->n_init_max : 0, (unsigned long long)s->seed,
                 (long long)best, PS_SWEEP_RULE);
    ps_sb_printf(md,
                 "The silhouette is over %s. Higher is better for the silhouette (-1..1) and "
                 "Calinski-Harabasz, lower for Davies-Bouldin; the adjusted Rand index (ARI) "
                 "compares the best fits from seeds %llu and %llu (1: the same partition).\n\n",
                 sampled ? "a reproducible uniform sample of rows (--sample)" : "all rows",
                 (unsigned long long)s->seed, (unsigned long long)s->seed + 1);
    ps_sb_puts(md, "| k | inertia | mean sq. distance | iterations | silhouette | silhouette "
                   "(sq.) | Calinski-Harabasz | Davies-Bouldin | ARI | |\n"
                   "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|\n");
    for (int64_t i = 0; i < s->m; i++)
      ps_sb_printf(md, "| %lld | %.6g | %.6g | %d | %.4f | %.4f | %.1f | %.4f | %.3f | %s |\n",
                   (long long)s->k[i], s->inertia[i], s->msd[i], (int)s->iterations[i],
                   s->silhouette[i], s->silhouette_sq[i], s->calinski_harabasz[i],
                   s->davies_bouldin[i], s->ari[i], i == s->suggested ? "**suggested**" : "");
    ps_sb_puts(md, "\n");
  }
  if (summary) {
    ps_sb_printf(summary, "sweep   k = %lld..%lld: suggested k = %lld (silhouette %.4f; %s)\n",
                 (long long)s->k[0], (long long)s->k[s->m - 1], (long long)best,
                 s->silhouette[s->suggested], PS_SWEEP_RULE);
  }
}
