/* reduce.c - cross-rank floating-point reductions, chunked for large counts. */
#include "popseg/reduce.h"

#include <limits.h>

/* Below INT_MAX with margin; a multiple of 8 keeps chunks aligned. */
#define PS_CHUNK ((int64_t)1 << 30)

static ps_err_t allreduce(void *buf, int64_t count, MPI_Datatype type, size_t elem, MPI_Op op,
                          MPI_Comm comm) {
  ps_err_t err = PS_OK;
  char *p = buf;
  /* Every rank must make the same number of calls: count is the same everywhere. */
  for (int64_t done = 0; done < count; done += PS_CHUNK) {
    int64_t c = count - done < PS_CHUNK ? count - done : PS_CHUNK;
    if (ps_fault("mpi-count")) c = -1; /* tests: make MPI itself return an error */
    PS_CALL_MPI(MPI_Allreduce(MPI_IN_PLACE, p + (size_t)done * elem, (int)c, type, op, comm));
  }
cleanup:
  return err;
}

ps_err_t ps_reduce_sum(double *buf, int64_t count, MPI_Comm comm) {
  return allreduce(buf, count, MPI_DOUBLE, sizeof(double), MPI_SUM, comm);
}
ps_err_t ps_reduce_min(double *buf, int64_t count, MPI_Comm comm) {
  return allreduce(buf, count, MPI_DOUBLE, sizeof(double), MPI_MIN, comm);
}
ps_err_t ps_reduce_max(double *buf, int64_t count, MPI_Comm comm) {
  return allreduce(buf, count, MPI_DOUBLE, sizeof(double), MPI_MAX, comm);
}
ps_err_t ps_reduce_sum_i64(int64_t *buf, int64_t count, MPI_Comm comm) {
  return allreduce(buf, count, MPI_INT64_T, sizeof(int64_t), MPI_SUM, comm);
}
ps_err_t ps_reduce_max_i64(int64_t *buf, int64_t count, MPI_Comm comm) {
  return allreduce(buf, count, MPI_INT64_T, sizeof(int64_t), MPI_MAX, comm);
}

ps_err_t ps_reduce_exscan_sum(double local, double *prefix, MPI_Comm comm) {
  ps_err_t err = PS_OK;
  int rank;
  double out = 0.0;
  MPI_Comm_rank(comm, &rank);
  PS_CALL_MPI(MPI_Exscan(&local, &out, 1, MPI_DOUBLE, MPI_SUM, comm));
  *prefix = rank == 0 ? 0.0 : out; /* MPI leaves rank 0's result undefined */
cleanup:
  return err;
}

ps_err_t ps_reduce_maxloc(double *value, int *owner, MPI_Comm comm) {
  ps_err_t err = PS_OK;
  int rank;
  MPI_Comm_rank(comm, &rank);
  struct {
    double v;
    int r;
  } in = {*value, rank}, out;
  /* MPI_MAXLOC breaks ties by the lowest index, which is what we want. */
  PS_CALL_MPI(MPI_Allreduce(&in, &out, 1, MPI_DOUBLE_INT, MPI_MAXLOC, comm));
  *value = out.v;
  *owner = out.r;
cleanup:
  return err;
}

ps_err_t ps_bcast_double(double *buf, int64_t count, int root, MPI_Comm comm) {
  ps_err_t err = PS_OK;
  for (int64_t done = 0; done < count; done += PS_CHUNK) {
    int64_t c = count - done < PS_CHUNK ? count - done : PS_CHUNK;
    PS_CALL_MPI(MPI_Bcast(buf + done, (int)c, MPI_DOUBLE, root, comm));
  }
cleanup:
  return err;
}
