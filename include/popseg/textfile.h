/* textfile.h - a small text file (a report) composed on rank 0, written
 * through a temporary name like every output (outfile.h). */
#ifndef POPSEG_TEXTFILE_H
#define POPSEG_TEXTFILE_H

#include <mpi.h>
#include <stddef.h>

#include "popseg/error.h"

/* Collective. Write text[len] (meaningful on rank 0 only) to path; refuses
 * an existing file unless force. Returns the same code on every rank. */
ps_err_t ps_textfile_write(const char *path, int force, const char *text, size_t len,
                           MPI_Comm comm);

#endif
