/* cpus.c - the CPUs a node's ranks leave idle, and this processor's
 * instruction set (cpus.h). */
#if defined(__linux__) && !defined(_GNU_SOURCE)
#define _GNU_SOURCE /* sched_getaffinity, CPU_* */
#endif
#include "popseg/cpus.h"

#include <string.h>
#if defined(__linux__)
#include <sched.h>
#include <unistd.h>
#endif

int ps_node_idle_cpus(MPI_Comm comm, int *cpus, int max) {
#if defined(__linux__)
  MPI_Comm node = MPI_COMM_NULL;
  int node_rank = 0, ok = 1, n = 0;
  /* The ranks sharing this node's memory, in comm's order. */
  if (MPI_Comm_split_type(comm, MPI_COMM_TYPE_SHARED, 0, MPI_INFO_NULL, &node) != MPI_SUCCESS)
    return 0;
  MPI_Comm_rank(node, &node_rank);
  /* Each rank's CPUs, OR-ed over the node byte by byte (a bit mask: the
   * OR of the bytes is the union). A rank whose affinity cannot be read
   * counts as running anywhere. */
  cpu_set_t mine, used;
  if (sched_getaffinity(0, sizeof mine, &mine) != 0) memset(&mine, 0xff, sizeof mine);
  ok = MPI_Reduce(&mine, &used, (int)sizeof mine, MPI_BYTE, MPI_BOR, 0, node) == MPI_SUCCESS;
  MPI_Comm_free(&node);
  if (!ok || node_rank != 0) return 0;
  /* The node's CPUs are those the kernel has configured (a job's cpuset may
   * allow fewer; sched_setaffinity keeps to it). */
  const long conf = sysconf(_SC_NPROCESSORS_CONF);
  for (int c = 0; c < conf && c < CPU_SETSIZE && n < max; c++)
    if (!CPU_ISSET(c, &used)) cpus[n++] = c;
  return n;
#else
  (void)comm, (void)cpus, (void)max;
  return 0;
#endif
}

int ps_cpu_avx512f(void) {
#if defined(__x86_64__) && defined(__GNUC__)
  static int known = -1;
  if (known < 0) {
    __builtin_cpu_init();
    known = __builtin_cpu_supports("avx512f") != 0;
  }
  return known;
#else
  return 0;
#endif
}
