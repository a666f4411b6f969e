/* cpus.h - which CPUs of a node the ranks leave idle, for work that should
 * take nobody's time (the input's SHA-256: sha256.h), and what this
 * processor's instruction set offers the kernels.
 */
#ifndef POPSEG_CPUS_H
#define POPSEG_CPUS_H

#include <mpi.h>

/* Collective over comm. On the rank of each node that is first in comm (the
 * others get 0): the CPUs of that node, up to max of them into cpus[], that
 * no rank of comm on the node may run on (each rank's affinity, Linux
 * sched_getaffinity), in increasing order; the count is returned. 0 when the
 * ranks are not bound (each may run anywhere), when every CPU has a rank,
 * off Linux, or if an MPI call fails (best effort: never an error). */
int ps_node_idle_cpus(MPI_Comm comm, int *cpus, int max);

/* Not collective. Whether this processor has AVX-512 F (asked once): the
 * kernels that have an AVX-512 form check it before calling it. 0 off
 * x86-64 or without GCC/Clang's CPU detection. */
int ps_cpu_avx512f(void);

#endif
