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

/* A command's files: its outputs and its inputs, each with the words that
 * name it in messages ("-o", "the input table"). NULL paths are skipped. */
typedef struct {
  const char *path;
  const char *what;
} ps_path_t;

/* Collective. No output may be an input of the command, with or without
 * --force, whatever path reaches it (a symbolic link, "./", a hard link: the
 * device and inode decide); no two outputs may name one file; each output
 * must be writable (ps_paths_check_output). Inputs are never modified. */
ps_err_t ps_paths_check_outputs(const ps_path_t *outs, int n_out, const ps_path_t *ins, int n_in,
                                int force, MPI_Comm comm);

#endif
