/* names.c - duplicates and renames of column names (see names.h). */
#include "popseg/names.h"

#include <stdlib.h>
#include <string.h>

static int cmp_strptr(const void *a, const void *b) {
  return strcmp(*(const char *const *)a, *(const char *const *)b);
}

ps_err_t ps_names_find_duplicate(const char *const *names, int64_t n, const char **dup,
                                 int64_t *first, int64_t *second) {
  ps_err_t err = PS_OK;
  const char **s = NULL;
  *dup = NULL;
  *first = *second = -1;
  if (n < 2) return PS_OK;
  s = malloc((size_t)n * sizeof *s);
  PS_CHECK_ALLOC(s);
  memcpy(s, names, (size_t)n * sizeof *s);
  qsort(s, (size_t)n, sizeof *s, cmp_strptr);
  for (int64_t i = 1; i < n && !*dup; i++)
    if (strcmp(s[i - 1], s[i]) == 0) *dup = s[i];
  if (*dup) {
    for (int64_t i = 0; i < n; i++) {
      if (strcmp(names[i], *dup) != 0) continue;
      if (*first < 0) {
        *first = i;
      } else {
        *second = i;
        break;
      }
    }
    /* A pointer into the caller's array, not into the sorted copy. */
    *dup = names[*first];
  }
cleanup:
  free(s);
  return err;
}

ps_err_t ps_names_rename(const char *const *names, int64_t n, const char *const *specs,
                         const char *what, const char **out) {
  ps_err_t err = PS_OK;
  for (int64_t j = 0; j < n; j++) out[j] = names[j];
  for (size_t k = 0; specs && specs[k]; k++) {
    const char *spec = specs[k];
    const char *eq = strchr(spec, '=');
    PS_CHECK_OPT(eq != NULL && eq != spec && eq[1] != '\0', PS_ERR_ARG, "import.rename",
                 "rename '%s': expected OLD=NEW", spec);
    size_t olen = (size_t)(eq - spec);
    int64_t hit = -1;
    for (int64_t j = 0; j < n && hit < 0; j++)
      if (strlen(names[j]) == olen && memcmp(names[j], spec, olen) == 0) hit = j;
    PS_CHECK_OPT(hit >= 0, PS_ERR_ARG, "import.rename", "rename '%s': %s has no column '%.*s'",
                 spec, what, (int)olen, spec);
    PS_CHECK_OPT(out[hit] == names[hit], PS_ERR_ARG, "import.rename",
                 "rename: column '%s' is renamed twice", names[hit]);
    out[hit] = eq + 1;
  }
  const char *dup;
  int64_t a, b;
  PS_TRY(ps_names_find_duplicate(out, n, &dup, &a, &b));
  PS_CHECK_OPT(dup == NULL, PS_ERR_ARG, "import.rename",
               "rename: columns %lld and %lld of %s would both be named '%s'", (long long)a + 1,
               (long long)b + 1, what, dup ? dup : "");
cleanup:
  return err;
}
