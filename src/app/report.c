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

/* 3.5M, 94.2k, 812: a weight as people read it. */
static void human(ps_sb_t *b, double v) {
  const double a = fabs(v);
  if (a >= 1e9)
    ps_sb_printf(b, "%.1fG", v / 1e9);
  else if (a >= 1e6)
    ps_sb_printf(b, "%.1fM", v / 1e6);
  else if (a >= 1e4)
    ps_sb_printf(b, "%.1fk", v / 1e3);
  else
    ps_sb_printf(b, "%.4g", v);
}

/* "94 rows (2.9%)" or, weighted, "94 rows (2.9%), 3.5M TotalPop (1.1%)". */
static void size_text(ps_sb_t *b, int64_t rows, int64_t n, const ps_profile_t *p, double weight) {
  ps_sb_printf(b, "%lld rows (%.1f%%)", (long long)rows, share(rows, n));
  if (p && p->weighted) {
    ps_sb_puts(b, ", ");
    human(b, weight);
    ps_sb_printf(b, " %s (%.1f%%)", p->mean_kind + strlen("weighted by "),
                 p->wsum > 0 ? 100.0 * weight / p->wsum : 0.0);
  }
}

typedef struct {
  double v;
  int64_t j;
} ix_t;

static int cmp_ix_desc(const void *a, const void *b) {
  double x = ((const ix_t *)a)->v, y = ((const ix_t *)b)->v;
  if (x != y) return x < y ? 1 : -1;
  return ((const ix_t *)a)->j < ((const ix_t *)b)->j ? -1 : 1;
}

#define FNAME(j) (fnames + (size_t)(j)*fwidth)
void ps_portrait(const double *index, int64_t d, const char *fnames, size_t fwidth, int most,
                 ps_sb_t *highs, ps_sb_t *lows, ps_sb_t *name) {
  ix_t *ix = malloc((size_t)(d > 0 ? d : 1) * sizeof *ix);
  int64_t m = 0;
  if (!ix) {
    if (highs) highs->oom = 1;
    return;
  }
  for (int64_t j = 0; j < d; j++)
    if (isfinite(index[j])) ix[m++] = (ix_t){index[j], j};
  qsort(ix, (size_t)m, sizeof *ix, cmp_ix_desc);
  int nh = 0, nlo = 0;
  for (int64_t q = 0; q < m && nh < most && ix[q].v >= 120.0; q++, nh++)
    if (highs) ps_sb_printf(highs, "%s%s %.0f", nh ? ", " : "", FNAME(ix[q].j), ix[q].v);
  for (int64_t q = m - 1; q >= 0 && nlo < most && ix[q].v <= 80.0; q--, nlo++)
    if (lows) ps_sb_printf(lows, "%s%s %.0f", nlo ? ", " : "", FNAME(ix[q].j), ix[q].v);
  if (name) {
    /* The two highest and the lowest index name it. */
    int said = 0;
    for (int64_t q = 0; q < m && said < 2 && ix[q].v >= 120.0; q++)
      ps_sb_printf(name, "%s%s", said++ ? ", " : "High ", FNAME(ix[q].j));
    if (m > 0 && ix[m - 1].v <= 80.0)
      ps_sb_printf(name, "%s%s", said++ ? "; low " : "Low ", FNAME(ix[m - 1].j));
    if (!said) ps_sb_puts(name, "Average on every feature");
  }
  if (highs && !nh) ps_sb_puts(highs, "none");
  if (lows && !nlo) ps_sb_puts(lows, "none");
  free(ix);
}
#undef FNAME

void ps_report_portrait(const ps_table_t *t, const ps_profile_t *p, int64_t c, int most,
                        ps_sb_t *highs, ps_sb_t *lows, ps_sb_t *name) {
  ps_portrait(p->index + c * p->d, p->d, t->feature_names, t->fname_width, most, highs, lows, name);
}

/* "`path` (digest `...`)": kind says which hash (the input's block digest,
 * or a source's sha256). */
static void file_ref(ps_sb_t *b, const char *path, const char *kind, const char *hex) {
  ps_sb_printf(b, "`%s`", path);
  if (hex && hex[0]) ps_sb_printf(b, " (%s `%s`)", kind, hex);
}

static void md_data(ps_sb_t *b, const ps_report_fit_t *r) {
  const ps_table_t *t = r->table;
  char nr[48];
  ps_sb_puts(b, "# popseg segmentation report\n\n## Data\n\n- Input: ");
  file_ref(b, t->input, "digest", t->input_digest);
  if (strcmp(t->input, t->source) != 0) {
    ps_sb_puts(b, ", imported from ");
    file_ref(b, t->source, "sha256", t->source_sha256);
  }
  ps_sb_printf(b, "\n- Rows: %lld read, %lld dropped (missing values%s%s), %lld segmented\n",
               (long long)t->n_read, (long long)t->n_dropped, t->n_dropped ? ": " : "",
               t->dropped_examples, (long long)t->x->n_global);
  ps_sb_printf(b, "- Features: %lld, scaled with %s", (long long)r->pca->d,
               ps_scale_kind_name(r->scale->kind));
  if (r->scale->n_constant)
    ps_sb_printf(b, " (%lld constant column(s) scale to 0, first: %s)",
                 (long long)r->scale->n_constant, ps_table_fname(t, r->scale->first_constant));
  if (r->prep && r->prep->share[0]) ps_sb_printf(b, "\n- Shares (A / BASE): `%s`", r->prep->share);
  if (r->prep && r->prep->exclude[0])
    ps_sb_printf(b, "\n- Excluded columns: `%s`", r->prep->exclude);
  if (r->prep && r->prep->transform != PS_TRANSFORM_NONE)
    ps_sb_printf(b, "\n- Transform before scaling: %s of `%s`",
                 ps_transform_name(r->prep->transform), r->prep->transform_columns);
  if (r->prep && r->prep->weights[0])
    ps_sb_printf(b,
                 "\n- Rows weighted by `%s` (total %.10g): weighted mean and covariance, "
                 "weighted k-means; sizes in rows and in %s",
                 r->prep->weights, r->profile->wsum, r->prep->weights);
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
  ps_sb_t name = {0};
  ps_report_portrait(r->table, p, c, 5, NULL, NULL, &name);
  ps_sb_printf(b, "### Segment %lld: %s\n\n- Size: ", (long long)c, ps_sb_str(&name));
  ps_sb_free(&name);
  size_text(b, km->sizes[c], n, p, p->weight[c]);
  ps_sb_puts(b, "\n- Highest index: ");
  ps_report_portrait(r->table, p, c, 5, b, NULL, NULL);
  ps_sb_puts(b, "\n- Lowest index: ");
  ps_report_portrait(r->table, p, c, 5, NULL, b, NULL);
  ps_sb_puts(b, "\n- Stands out for: ");
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

/* The two levels: each segment and its sub-segments, with their sizes and
 * the names their index scores suggest. */
static void md_tree(ps_sb_t *b, const ps_report_fit_t *r) {
  const ps_subseg_t *s = r->sub;
  const ps_profile_t *p = r->profile, *sp = r->sub_profile;
  const int64_t n = r->table->x->n_global;
  ps_sb_printf(b,
               "### Sub-segments\n\nEach segment split again on the same components (%s): "
               "%lld sub-segments in all.\n\n",
               s->requested < 0 ? "auto: the number in 2..6 with the largest silhouette" : "fixed",
               (long long)s->m);
  for (int64_t c = 0; c < s->k; c++) {
    ps_sb_t name = {0};
    ps_report_portrait(r->table, p, c, 3, NULL, NULL, &name);
    ps_sb_printf(b, "- **%lld** %s: ", (long long)c, ps_sb_str(&name));
    ps_sb_free(&name);
    size_text(b, r->km->sizes[c], n, p, p->weight[c]);
    ps_sb_puts(b, "\n");
    for (int32_t j = s->first[c]; j < s->first[c + 1]; j++) {
      ps_sb_t nm = {0}, hi = {0};
      if (sp) {
        ps_report_portrait(r->table, sp, j, 3, &hi, NULL, &nm);
      }
      ps_sb_printf(b, "  - **%s** %s: ", s->codes + (size_t)j * PS_SUBSEG_CODE_W,
                   sp ? ps_sb_str(&nm) : "");
      size_text(b, s->sizes[j], n, sp, s->weight[j]);
      if (sp) ps_sb_printf(b, "; highest index: %s", ps_sb_str(&hi));
      ps_sb_puts(b, "\n");
      ps_sb_free(&nm);
      ps_sb_free(&hi);
    }
  }
  ps_sb_puts(b, "\n");
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
  ps_sb_puts(b, "Each segment's pen portrait: its size, the features with the highest index "
                "(>= 120) and the lowest (<= 80), where the index is 100 x the segment's mean / "
                "the overall mean; \"stands out for\" lists the features whose segment mean is "
                "furthest from the overall mean, in overall standard deviations (at least "
                "0.5).\n\n");
  for (int64_t c = 0; c < k; c++) md_segment(b, r, c);
  if (r->sub) md_tree(b, r);
  ps_sb_printf(b,
               "### Profiles in original units\n\nMean of each feature over the segment's "
               "rows (%s), against the same mean over all rows.\n\n| feature | all (%s) |",
               p->weighted ? p->mean_kind : "a mean over rows",
               p->weighted ? p->mean_kind : "mean over rows");
  for (int64_t c = 0; c < k; c++) ps_sb_printf(b, " seg %lld |", (long long)c);
  ps_sb_puts(b, "\n|---|---:|");
  for (int64_t c = 0; c < k; c++) ps_sb_puts(b, "---:|");
  ps_sb_puts(b, "\n");
  for (int64_t j = 0; j < d; j++) {
    ps_sb_printf(b, "| %s | %.4g |", ps_table_fname(r->table, j), p->overall_mean[j]);
    for (int64_t c = 0; c < k; c++) ps_sb_printf(b, " %.4g |", p->mean[c * d + j]);
    ps_sb_puts(b, "\n");
  }
  ps_sb_puts(b, "\n### Index scores\n\n100 x the segment's mean / the overall mean (100: "
                "average; >= 120 high, <= 80 low; blank where the overall mean is 0).\n\n"
                "| feature |");
  for (int64_t c = 0; c < k; c++) ps_sb_printf(b, " seg %lld |", (long long)c);
  ps_sb_puts(b, "\n|---|");
  for (int64_t c = 0; c < k; c++) ps_sb_puts(b, "---:|");
  ps_sb_puts(b, "\n");
  for (int64_t j = 0; j < d; j++) {
    ps_sb_printf(b, "| %s |", ps_table_fname(r->table, j));
    for (int64_t c = 0; c < k; c++) {
      const double v = p->index[c * d + j];
      if (isfinite(v))
        ps_sb_printf(b, " %.0f |", v);
      else
        ps_sb_puts(b, " |");
    }
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
    if (p->weighted) {
      human(s, p->weight[c]);
      ps_sb_printf(s, " %s (%5.1f%%)  ", p->mean_kind + strlen("weighted by "),
                   p->wsum > 0 ? 100.0 * p->weight[c] / p->wsum : 0.0);
    }
    describe(s, r->table, p, c, 3);
    ps_sb_printf(s, "; e.g. %s\n", p->example_name + (size_t)c * p->n_examples * p->name_width);
  }
  if (r->sub)
    ps_sb_printf(s, "  %lld sub-segments (%s)\n", (long long)r->sub->m,
                 r->sub->requested < 0 ? "auto" : "fixed");
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
                 "| scale | %.3f |\n| pca | %.3f |\n| k-means | %.3f |\n| write | %.3f |\n"
                 "| input digest | %.3f |\n",
                 t[PS_T_READ], t[PS_T_SCALE], t[PS_T_PCA], t[PS_T_KMEANS], t[PS_T_WRITE],
                 t[PS_T_DIGEST]);
  }
  if (summary) summary_fit(summary, r);
}

/* Segments over time: the transition table, the rows that moved, the rows
 * new and missing, and the values the model never saw. */
static void md_track(ps_sb_t *b, const ps_report_predict_t *r) {
  const ps_track_t *tr = r->track;
  const int64_t k = tr->k;
  const int weighted = tr->transition_weight != NULL;
  ps_sb_printf(b,
               "\n## Transitions\n\nRows matched by id: their segment in the model's data "
               "(rows of the table) and now (columns)%s.\n\n| from \\ to |",
               weighted ? "; in brackets the weight" : "");
  for (int64_t c = 0; c < k; c++) ps_sb_printf(b, " %lld |", (long long)c);
  ps_sb_puts(b, "\n|---:|");
  for (int64_t c = 0; c < k; c++) ps_sb_puts(b, "---:|");
  ps_sb_puts(b, "\n");
  for (int64_t a = 0; a < k; a++) {
    ps_sb_printf(b, "| %lld |", (long long)a);
    for (int64_t c = 0; c < k; c++) {
      ps_sb_printf(b, " %lld", (long long)tr->transition[a * k + c]);
      if (weighted && tr->transition[a * k + c]) {
        ps_sb_puts(b, " (");
        human(b, tr->transition_weight[a * k + c]);
        ps_sb_puts(b, ")");
      }
      ps_sb_puts(b, " |");
    }
    ps_sb_puts(b, "\n");
  }
  ps_sb_printf(b, "\n%lld of %lld matched rows changed segment", (long long)tr->changed,
               (long long)tr->matched);
  if (tr->changed) {
    ps_sb_printf(b, "%s:",
                 tr->changed > tr->n_changed_shown ? " (the first shown; every row's "
                                                     "segment in the model's data is "
                                                     "/predict/model_label)"
                                                   : "");
    for (int64_t q = 0; q < tr->n_changed_shown; q++)
      ps_sb_printf(b, "%s %s (%d -> %d)", q ? "," : "", tr->changed_names + q * tr->name_width,
                   (int)tr->changed_from[q], (int)tr->changed_to[q]);
  }
  ps_sb_printf(b, ".\n\n- New to the model's data: %lld row(s)", (long long)tr->n_new);
  for (int64_t q = 0; q < tr->n_new && q < PS_TRACK_SHOW; q++)
    ps_sb_printf(b, "%s %s (id %lld)", q ? "," : ":", tr->new_names + q * tr->name_width,
                 (long long)tr->new_ids[q]);
  ps_sb_printf(b, "\n- Missing from the new data: %lld row(s)", (long long)tr->n_missing);
  for (int64_t q = 0; q < tr->n_missing && q < PS_TRACK_SHOW; q++)
    ps_sb_printf(b, "%s %s (id %lld)", q ? "," : ":", tr->missing_names + q * tr->name_width,
                 (long long)tr->missing_ids[q]);
  ps_sb_puts(b, "\n");
  if (!tr->have_ranges) return;
  ps_sb_printf(b,
               "\n## Values outside the training range\n\n%lld row(s) have some feature outside "
               "the range of the model's data (the model extrapolates there; dollar amounts are "
               "nominal).\n\n",
               (long long)tr->oor_any);
  if (!tr->oor_any) return;
  ps_sb_puts(b, "| feature | rows | worst excess |\n|---|---:|---:|\n");
  for (int64_t j = 0; j < tr->d; j++)
    if (tr->oor_rows[j])
      ps_sb_printf(b, "| %s | %lld | %.6g |\n", ps_table_fname(r->table, j),
                   (long long)tr->oor_rows[j], tr->oor_excess[j]);
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
    file_ref(md, t->input, "digest", t->input_digest);
    if (strcmp(t->input, t->source) != 0) {
      ps_sb_puts(md, ", imported from ");
      file_ref(md, t->source, "sha256", t->source_sha256);
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
    if (r->track) md_track(md, r);
    ps_sb_printf(md,
                 "\n## Timings\n\n| stage | seconds |\n|---|---:|\n| read | %.3f |\n"
                 "| predict | %.3f |\n| write | %.3f |\n| input digest | %.3f |\n",
                 r->times[PS_T_READ], r->times[PS_T_KMEANS], r->times[PS_T_WRITE],
                 r->times[PS_T_DIGEST]);
  }
  if (summary) {
    ps_sb_printf(summary,
                 "\n%lld rows labelled with %lld segments; %lld matched the fit by id, %lld "
                 "changed segment\n",
                 (long long)n, (long long)k, (long long)r->matched, (long long)r->changed);
    if (r->track) {
      ps_sb_printf(summary, "%lld new id(s), %lld missing", (long long)r->track->n_new,
                   (long long)r->track->n_missing);
      if (r->track->have_ranges)
        ps_sb_printf(summary, "; warning: %lld row(s) with values outside the training range",
                     (long long)r->track->oor_any);
      ps_sb_puts(summary, "\n");
    }
  }
}

void ps_report_info(const ps_table_t *t, const ps_table_summary_t *s, ps_sb_t *out) {
  ps_sb_printf(out, "%s: %lld rows x %lld features", t->input, (long long)s->n, (long long)s->d);
  if (t->n_read)
    ps_sb_printf(out, " (%lld read, %lld dropped)", (long long)t->n_read, (long long)t->n_dropped);
  ps_sb_printf(out, "\ndigest: %s\n", t->input_digest[0] ? t->input_digest : "(not computed)");
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
