/* log.c - progress lines (see log.h). */
#include "popseg/log.h"

#include <stdarg.h>
#include <stdio.h>

#include "popseg/sig.h"

static int g_verbosity;

void ps_log_set_verbosity(int v) {
  g_verbosity = v;
}

int ps_log_verbosity(void) {
  return g_verbosity;
}

void ps_log_progress(MPI_Comm comm, const char *fmt, ...) {
  int rank;
  MPI_Comm_rank(comm, &rank);
  if (rank != 0 || g_verbosity < 0 || ps_signal_pending()) return;
  va_list ap;
  va_start(ap, fmt);
  vprintf(fmt, ap);
  va_end(ap);
  putchar('\n');
  fflush(stdout);
}

void ps_log_verbose(MPI_Comm comm, const char *fmt, ...) {
  int rank;
  MPI_Comm_rank(comm, &rank);
  if (g_verbosity < 1 || ps_signal_pending()) return;
  char line[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(line, sizeof line, fmt, ap);
  va_end(ap);
  printf("[rank %d] %s\n", rank, line);
  fflush(stdout);
}

void ps_log_text(MPI_Comm comm, const char *text) {
  int rank;
  MPI_Comm_rank(comm, &rank);
  if (rank != 0 || g_verbosity < 0 || ps_signal_pending()) return;
  fputs(text, stdout);
  fflush(stdout);
}
