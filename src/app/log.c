/* log.c - progress lines (see log.h). */
#include "popseg/log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "popseg/sig.h"

/* Write a whole line (or text) with as few write(2) calls as it takes: a
 * line is never left half-written for an error message to land in the middle
 * of it. A signal (EINTR) abandons what is left, ending the line, because the
 * launcher may no longer read our output. */
static void write_text(const char *s, size_t len) {
  size_t done = 0;
  while (done < len) {
    ssize_t w = write(STDOUT_FILENO, s + done, len - done);
    if (w > 0) {
      done += (size_t)w;
    } else if (w < 0 && errno == EINTR && !ps_signal_pending()) {
      continue;
    } else {
      if (done > 0 && s[len - 1] == '\n') (void)!write(STDOUT_FILENO, "\n", 1);
      return;
    }
  }
}

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
  char line[4096];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(line, sizeof line - 1, fmt, ap);
  va_end(ap);
  if (n < 0) return;
  size_t len = (size_t)n < sizeof line - 1 ? (size_t)n : sizeof line - 2;
  line[len++] = '\n';
  write_text(line, len);
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
  char out[1100];
  int n = snprintf(out, sizeof out, "[rank %d] %s\n", rank, line);
  if (n > 0) write_text(out, (size_t)n < sizeof out ? (size_t)n : sizeof out - 1);
}

void ps_log_text(MPI_Comm comm, const char *text) {
  int rank;
  MPI_Comm_rank(comm, &rank);
  if (rank != 0 || g_verbosity < 0 || ps_signal_pending()) return;
  write_text(text, strlen(text));
}
