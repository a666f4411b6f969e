/* cpus.c - the CPUs a node's ranks leave idle (cpus.h). */
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
  /* Each rank's CPUs as bytes of a bit mask, OR-ed over the node. A rank
   * whose affinity cannot be read counts as running anywhere. */
  unsigned char mine[CPU_SETSIZE / 8], used[CPU_SETSIZE / 8];
  cpu_set_t set;
  CPU_ZERO(&set);
  memset(mine, 0, sizeof mine);
  if (sched_getaffinity(0, sizeof set, &set) != 0) memset(mine, 0xff, sizeof mine);
  for (int c = 0; c < CPU_SETSIZE; c++)
    if (CPU_ISSET(c, &set)) mine[c / 8] |= (unsigned char)(1u << (c % 8));
  ok = MPI_Reduce(mine, used, (int)sizeof mine, MPI_BYTE, MPI_BOR, 0, node) == MPI_SUCCESS;
  MPI_Comm_free(&node);
  if (!ok || node_rank != 0) return 0;
  /* The node's CPUs: those the kernel has online (a job's cpuset may allow
   * fewer; sched_setaffinity keeps to it). */
  cpu_set_t online;
  CPU_ZERO(&online);
  long on = sysconf(_SC_NPROCESSORS_CONF);
  for (long c = 0; c < on && c < CPU_SETSIZE; c++) CPU_SET((int)c, &online);
  for (int c = 0; c < CPU_SETSIZE && n < max; c++)
    if (CPU_ISSET(c, &online) && !(used[c / 8] & (1u << (c % 8)))) cpus[n++] = c;
  return n;
#else
  (void)comm, (void)cpus, (void)max;
  return 0;
#endif
}
