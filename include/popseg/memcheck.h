/* memcheck.h - refuse, before reading, a problem that will not fit in the
 * memory each rank has (the node's, or the job's cgroup limit). */
#ifndef POPSEG_MEMCHECK_H
#define POPSEG_MEMCHECK_H

#include <mpi.h>

#include "popseg/error.h"

/* Not collective. Memory available to each rank of this node, in bytes (the
 * node's available memory or the process's cgroup v1/v2 limit, whichever is
 * smaller, over the ranks sharing the node); 0 if unknown. Collective only
 * in that it splits comm by node. */
double ps_memcheck_per_rank(MPI_Comm comm);

/* Collective. The rows of path (features, scaled copy, projection, scratch)
 * spread over the ranks plus the replicated d x d covariance and
 * eigenvectors must fit in max_gib (0: ps_memcheck_per_rank) on every rank;
 * otherwise PS_ERR_MEM saying how many ranks would do. */
ps_err_t ps_memcheck(const char *path, double max_gib, MPI_Comm comm);

#endif
