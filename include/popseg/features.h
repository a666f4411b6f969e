/* features.h - matching the features of new data to a model's, by name. */
#ifndef POPSEG_FEATURES_H
#define POPSEG_FEATURES_H

#include <mpi.h>
#include <stddef.h>
#include <stdint.h>

#include "popseg/error.h"
#include "popseg/table.h"

/* Collective. Reorder t's features (distinct: t passed ps_table_validate)
 * into the model's order (model_names [d][model_width]); a missing or extra
 * feature is an error naming every one of them (path names the new data). */
ps_err_t ps_features_match(ps_table_t *t, const char *model_names, size_t model_width, int64_t d,
                           const char *path, MPI_Comm comm);

#endif
