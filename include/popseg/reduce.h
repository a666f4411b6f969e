/* reduce.h - every floating-point reduction across ranks goes through here.
 *
 * Keeping them in one module lets us make them exactly reproducible later
 * (fixed reduction order) without touching the stages. Counts are int64_t
 * and split into chunks below INT_MAX, so large buffers are safe.
 * All functions are collective over comm and work in place.
 */
#ifndef POPSEG_REDUCE_H
#define POPSEG_REDUCE_H

#include <mpi.h>
#include <stdint.h>

#include "popseg/error.h"

ps_err_t ps_reduce_sum(double *buf, int64_t count, MPI_Comm comm);
ps_err_t ps_reduce_min(double *buf, int64_t count, MPI_Comm comm);
ps_err_t ps_reduce_max(double *buf, int64_t count, MPI_Comm comm);
ps_err_t ps_reduce_sum_i64(int64_t *buf, int64_t count, MPI_Comm comm);
ps_err_t ps_reduce_max_i64(int64_t *buf, int64_t count, MPI_Comm comm);
/* Exclusive prefix sum of one double over ranks (rank 0 gets 0). */
ps_err_t ps_reduce_exscan_sum(double local, double *prefix, MPI_Comm comm);
/* Global (max value, owning rank) pair: ties go to the lowest rank. */
ps_err_t ps_reduce_maxloc(double *value, int *owner, MPI_Comm comm);
/* Broadcast a buffer of doubles of any length from root. */
ps_err_t ps_bcast_double(double *buf, int64_t count, int root, MPI_Comm comm);

#endif
