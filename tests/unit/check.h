/* check.h - tiny collective test macros for popseg's MPI unit tests.
 *
 * Protocol shared with tests/run.sh: rank 0 prints "PASS: name" or
 * "FAIL: name (file:line)" per check; T_FINISH() returns non-zero if any
 * check failed. A check is collective: it fails if it fails on any rank.
 */
#ifndef POPSEG_TEST_CHECK_H
#define POPSEG_TEST_CHECK_H

#include <mpi.h>
#include <stdarg.h>
#include <stdio.h>

static int t_failed_, t_passed_;
static char t_suffix_[64];

static inline void t_init_(void) {
  int size;
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  snprintf(t_suffix_, sizeof t_suffix_, " [np=%d]", size);
}

__attribute__((format(printf, 4, 5))) static inline int t_check_(int ok, const char *file, int line,
                                                                 const char *fmt, ...) {
  int all_ok, rank;
  char name[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(name, sizeof name, fmt, ap);
  va_end(ap);
  if (!ok) fprintf(stderr, "  check failed here: %s:%d: %s\n", file, line, name);
  MPI_Allreduce(&ok, &all_ok, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  if (rank == 0) {
    if (all_ok)
      printf("PASS: %s%s\n", name, t_suffix_);
    else
      printf("FAIL: %s%s (%s:%d)\n", name, t_suffix_, file, line);
    fflush(stdout);
  }
  if (all_ok)
    t_passed_++;
  else
    t_failed_++;
  return all_ok;
}

#define T_INIT() t_init_()
/* Collective: every rank must call it with its own verdict. */
#define T_CHECK(cond, ...) t_check_(!!(cond), __FILE__, __LINE__, __VA_ARGS__)
#define T_FINISH() (t_failed_ ? 1 : 0)

#endif
