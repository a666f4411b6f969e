/* input.h - reading the input table of a command, CSV or HDF5, into row
 * blocks: an HDF5 table is read in parallel; a CSV is parsed on rank 0 and
 * scattered. */
#ifndef POPSEG_INPUT_H
#define POPSEG_INPUT_H

#include <mpi.h>

#include "popseg/csv.h"
#include "popseg/error.h"
#include "popseg/table.h"

/* Not collective. HDF5 by signature, or by extension (so that a text file
 * named .h5 gets the HDF5 reader's "not an HDF5 file" message). */
int ps_input_looks_hdf5(const char *path);

/* Collective. Check that path exists and is not a directory, and say whether
 * it is HDF5 (decided on rank 0, broadcast). */
ps_err_t ps_input_check(const char *path, MPI_Comm comm, int *is_h5);

/* Collective. Read the table at path with the import options. *out: free
 * with ps_table_destroy. */
ps_err_t ps_input_read(const char *path, const ps_import_opts_t *opts, MPI_Comm comm,
                       ps_table_t **out);

#endif
