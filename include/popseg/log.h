/* log.h - progress on stdout: one line per stage from rank 0, per-rank lines
 * with --verbose, nothing with --quiet, nothing after a signal (the launcher
 * may no longer read our output). Not collective. */
#ifndef POPSEG_LOG_H
#define POPSEG_LOG_H

#include <mpi.h>

/* -1 quiet, 0 normal, 1 verbose. */
void ps_log_set_verbosity(int v);
int ps_log_verbosity(void);
/* Rank 0 prints one line (unless quiet). */
void ps_log_progress(MPI_Comm comm, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Every rank prints one line prefixed with its rank, only when verbose. */
void ps_log_verbose(MPI_Comm comm, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Rank 0 prints text as it is (a summary), unless quiet. */
void ps_log_text(MPI_Comm comm, const char *text);

#endif
