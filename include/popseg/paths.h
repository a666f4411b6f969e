/* paths.h - the checks on a command's file names before any work: every
 * output can be written (on every rank, in a shared directory) and no two
 * outputs name the same file. */
#ifndef POPSEG_PATHS_H
#define POPSEG_PATHS_H

#include <mpi.h>

#include "popseg/error.h"

/* Not collective. Whether two paths name the same file (x.h5 and ./x.h5
 * too): the directories' identity plus the base name. */
int ps_paths_same(const char *a, const char *b);

/* Collective. Fail now, before any work, if path (may be NULL) cannot be
 * written: see ps_outfile_begin; the probe file is removed again. */
ps_err_t ps_paths_check_output(const char *path, int force, MPI_Comm comm);

/* Collective. The outputs of a command: n paths (NULL entries skipped) named
 * by flags[i] in messages. Two naming one file is an error; each must be
 * writable. */
ps_err_t ps_paths_check_outputs(const char *const *paths, const char *const *flags, int n,
                                int force, MPI_Comm comm);

#endif
