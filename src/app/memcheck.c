/* memcheck.c - will the problem fit? (see memcheck.h) */
#include "popseg/memcheck.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "popseg/input.h"
#include "popseg/reduce.h"
#include "popseg/table.h"

double ps_memcheck_per_rank(MPI_Comm comm) {
  MPI_Comm node;
  int node_size = 1;
  double avail = 0;
  FILE *f = fopen("/proc/meminfo", "r");
  if (f) {
    char line[256];
    while (fgets(line, sizeof line, f)) {
      unsigned long long kb;
      if (sscanf(line, "MemAvailable: %llu kB", &kb) == 1) avail = (double)kb * 1024.0;
    }
    fclose(f);
  }
  /* A batch job is usually confined to a cgroup smaller than the node. */
  {
    /* cgroup v2 ("0::/path" -> memory.max) or v1 ("N:memory:/path" -> limit_in_bytes). */
    char cg2[512] = "", cg1[512] = "", path[1100];
    FILE *c = fopen("/proc/self/cgroup", "r");
    if (c) {
      char line[512];
      while (fgets(line, sizeof line, c)) {
        line[strcspn(line, "\n")] = '\0';
        const char *m = strstr(line, ":memory:");
        if (strncmp(line, "0::", 3) == 0)
          snprintf(cg2, sizeof cg2, "%s", line + 3);
        else if (m)
          snprintf(cg1, sizeof cg1, "%s", m + 8);
      }
      fclose(c);
    }
    f = NULL;
    if (cg1[0]) {
      snprintf(path, sizeof path, "/sys/fs/cgroup/memory%s/memory.limit_in_bytes",
               strcmp(cg1, "/") ? cg1 : "");
      f = fopen(path, "r");
    }
    if (!f && cg2[0]) {
      snprintf(path, sizeof path, "/sys/fs/cgroup%s/memory.max", strcmp(cg2, "/") ? cg2 : "");
      f = fopen(path, "r");
    }
  }
  if (f) {
    unsigned long long lim;
    if (fscanf(f, "%llu", &lim) == 1 && (avail <= 0 || (double)lim < avail)) avail = (double)lim;
    fclose(f);
  }
  if (MPI_Comm_split_type(comm, MPI_COMM_TYPE_SHARED, 0, MPI_INFO_NULL, &node) == MPI_SUCCESS) {
    MPI_Comm_size(node, &node_size);
    MPI_Comm_free(&node);
  }
  return avail > 0 ? avail / node_size : 0;
}

ps_err_t ps_memcheck(const char *path, double max_gib, MPI_Comm comm) {
  ps_err_t err = PS_OK;
  int rank, size;
  int64_t n = 0, d = 0;
  MPI_Comm_rank(comm, &rank);
  MPI_Comm_size(comm, &size);
  /* Decided on rank 0 (other ranks may not even see the file's name the
   * same way), which also refuses a missing file, a directory or a pipe. */
  int is_h5 = 0;
  PS_TRY(ps_input_check(path, comm, &is_h5));
  if (is_h5) {
    PS_TRY(ps_table_probe_h5(path, comm, &n, &d));
  } else {
    struct stat st;
    /* A CSV is parsed whole on rank 0: about 3x its size, plus a value per 4 bytes. */
    int64_t bytes = 0;
    if (rank == 0 && stat(path, &st) == 0) bytes = (int64_t)st.st_size;
    PS_CALL_MPI(MPI_Bcast(&bytes, 1, MPI_INT64_T, 0, comm));
    n = bytes / 4;
    d = 1;
  }
  double avail = max_gib > 0 ? max_gib * 1073741824.0 : ps_memcheck_per_rank(comm);
  double minavail = avail;
  PS_TRY(ps_reduce_min(&minavail, 1, comm));
  if (minavail <= 0) goto cleanup; /* unknown: do not guess */
  double rows_total = (double)n * (double)d * 8.0 * 3.0 + (double)n * 64.0;
  double fixed = (double)d * (double)d * 8.0 * 4.0 + 16.0 * 1048576.0; /* + runtime baseline */
  double need = rows_total / size + fixed;
  if (need > minavail) {
    double gib = 1073741824.0;
    if (fixed >= minavail) {
      PS_CHECK(0, PS_ERR_MEM,
               "%s: %lld features need %.1f GiB per rank for the covariance alone, %.1f GiB "
               "available per rank (--max-memory or fewer ranks per node)",
               path, (long long)d, fixed / gib, minavail / gib);
    }
    double ranks_needed = ceil(rows_total / (minavail - fixed));
    PS_CHECK(0, PS_ERR_MEM,
             "%s: %lld x %lld needs ~%.1f GiB per rank at %d ranks but %.1f GiB is available "
             "per rank; use at least %.0f ranks (spread over more nodes)",
             path, (long long)n, (long long)d, need / gib, size, minavail / gib, ranks_needed);
  }
cleanup:
  return ps_err_agree(comm, err);
}
