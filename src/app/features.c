/* features.c - matching a new table's features to a model's by name. */
#include "popseg/features.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

ps_err_t ps_features_match(ps_table_t *t, const char *model_names, size_t model_width, int64_t d,
                           const char *path, MPI_Comm comm) {
  ps_err_t err = PS_OK;
  int64_t dn = t->x->n_cols;
  int64_t *perm = NULL;
  double *row = NULL;
  char *names = NULL;
  char missing[1024] = "", extra[1024] = "";
  size_t lm = 0, le = 0;
  /* t passed ps_table_validate: its feature names are distinct. */
  perm = malloc((size_t)(d > 0 ? d : 1) * sizeof *perm);
  PS_CHECK_ALLOC(perm);
  for (int64_t j = 0; j < d; j++) {
    const char *want = model_names + (size_t)j * model_width;
    perm[j] = -1;
    for (int64_t q = 0; q < dn; q++)
      if (strncmp(want, ps_table_fname(t, q), model_width) == 0 &&
          strlen(ps_table_fname(t, q)) == strlen(want)) {
        perm[j] = q;
        break;
      }
    if (perm[j] < 0 && lm < sizeof missing - 1)
      lm += (size_t)snprintf(missing + lm, sizeof missing - lm, "%s%s", lm ? "," : "", want);
  }
  for (int64_t q = 0; q < dn; q++) {
    int found = 0;
    for (int64_t j = 0; j < d && !found; j++)
      found = strcmp(model_names + (size_t)j * model_width, ps_table_fname(t, q)) == 0;
    if (!found && le < sizeof extra - 1)
      le += (size_t)snprintf(extra + le, sizeof extra - le, "%s%s", le ? "," : "",
                             ps_table_fname(t, q));
  }
  PS_CHECK(lm == 0 && le == 0 && dn == d, PS_ERR_FORMAT,
           "%s: features do not match the model's%s%s%s%s (use --rename OLD=NEW)", path,
           lm ? "; missing: " : "", missing, le ? "; extra: " : "", extra);
  row = malloc((size_t)(d > 0 ? d : 1) * sizeof *row);
  names = calloc((size_t)(d > 0 ? d : 1), model_width);
  PS_CHECK(row && names, PS_ERR_MEM, "out of memory");
  for (int64_t i = 0; i < t->x->n_local; i++) {
    double *x = t->x->data + i * d;
    for (int64_t j = 0; j < d; j++) row[j] = x[perm[j]];
    memcpy(x, row, (size_t)d * sizeof *row);
  }
  memcpy(names, model_names, (size_t)d * model_width);
  free(t->feature_names);
  t->feature_names = names;
  t->fname_width = model_width;
  names = NULL;
cleanup:
  free(perm);
  free(row);
  free(names);
  return ps_err_agree(comm, err);
}
