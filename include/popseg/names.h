/* names.h - column and feature names: duplicates and --rename, shared by the
 * CSV importer and the HDF5 table reader so that both input kinds follow the
 * same rules. Not collective. */
#ifndef POPSEG_NAMES_H
#define POPSEG_NAMES_H

#include <stdint.h>

#include "popseg/error.h"

/* The first name that occurs twice in names[n] (*dup NULL if none), with the
 * 0-based positions of its first two occurrences. O(n log n). */
ps_err_t ps_names_find_duplicate(const char *const *names, int64_t n, const char **dup,
                                 int64_t *first, int64_t *second);

/* Apply "OLD=NEW" specs (NULL-terminated; may be NULL) to names[n]: out[j]
 * is names[j] or a NEW (pointing into the spec). OLD always refers to an
 * original name; a spec naming no column, a column renamed twice or two
 * columns ending with one name is PS_ERR_ARG (field import.rename). what
 * names the file in messages. */
ps_err_t ps_names_rename(const char *const *names, int64_t n, const char *const *specs,
                         const char *what, const char **out);

#endif
