/* test_error.c - the cross-rank agreement on errors (error.c, sig.c).
 *
 * Each rank points stderr at its own file, so the test can count how many
 * "popseg: error" lines the whole job printed: an agreement prints exactly
 * one, however many times an agreed code is passed on.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "popseg/error.h"
#include "popseg/sig.h"

static int g_rank, g_size;
static char g_err_path[256];

/* Lines starting "popseg: error" written to this rank's stderr file so far;
 * the total over all ranks (collective). */
static int error_lines_total(void) {
  int mine = 0, total = 0;
  char line[4096];
  fflush(stderr);
  FILE *f = fopen(g_err_path, "r");
  while (f && fgets(line, sizeof line, f))
    if (strncmp(line, "popseg: error", 13) == 0) mine++;
  if (f) fclose(f);
  MPI_Allreduce(&mine, &total, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
  return total;
}

static void reset_stderr(void) {
  fflush(stderr);
  if (!freopen(g_err_path, "w", stderr)) abort();
  ps_error_clear();
}

int main(int argc, char **argv) {
  MPI_Init(&argc, &argv);
  MPI_Comm_rank(MPI_COMM_WORLD, &g_rank);
  MPI_Comm_size(MPI_COMM_WORLD, &g_size);
  T_INIT();
  const char *dir = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
  snprintf(g_err_path, sizeof g_err_path, "%s/test_error.%ld.%d", dir, (long)getpid(), g_rank);
  int last = g_size - 1;

  /* One failing rank: every rank learns the code, one line is printed, and
   * passing the agreed code on (as stages do) prints nothing more. */
  reset_stderr();
  ps_err_t e =
      g_rank == last ? ps_error(PS_ERR_FORMAT, __FILE__, __LINE__, "x.csv:3: bad value") : PS_OK;
  ps_err_t a1 = ps_err_agree(MPI_COMM_WORLD, e);
  ps_err_t a2 = ps_err_agree(MPI_COMM_WORLD, a1);
  T_CHECK(a1 == PS_ERR_FORMAT && a2 == PS_ERR_FORMAT && error_lines_total() == 1,
          "an error on rank %d only: every rank gets it, one line printed", last);

  /* The worst code wins. */
  reset_stderr();
  e = g_rank == 0
          ? ps_error(PS_ERR_ARG, __FILE__, __LINE__, "--k 0")
          : (g_rank == last ? ps_error(PS_ERR_MEM, __FILE__, __LINE__, "no memory") : PS_OK);
  a1 = ps_err_agree(MPI_COMM_WORLD, e);
  T_CHECK(a1 == (g_size > 1 ? PS_ERR_MEM : PS_ERR_ARG) && error_lines_total() == 1,
          "different errors on two ranks: the larger code, one line");

  /* All ranks failing the same way in a library collective: an ordinary
   * error, no abort. */
  reset_stderr();
  e = ps_error(PS_ERR_IO, __FILE__, __LINE__, "r.h5: cannot create dataset x");
  a1 = ps_err_agree_or_abort(MPI_COMM_WORLD, e, "H5Dcreate");
  T_CHECK(a1 == PS_ERR_IO && error_lines_total() == 1,
          "agree_or_abort: a failure on every rank is an ordinary agreed error");
  reset_stderr();
  a1 = ps_err_agree_or_abort(MPI_COMM_WORLD, PS_OK, "H5Dcreate");
  T_CHECK(a1 == PS_OK && error_lines_total() == 0, "agree_or_abort: success everywhere is PS_OK");

  /* A signal that reached one rank only: the next agreement stops every
   * rank with one line, and the agreed code passed on again prints nothing
   * (it used to print a second, wrong "stopped by SIGTERM" line). */
  reset_stderr();
  ps_signal_install();
  if (g_rank == last) raise(SIGINT);
  a1 = ps_err_agree(MPI_COMM_WORLD, PS_OK);
  a2 = ps_err_agree(MPI_COMM_WORLD, a1);
  ps_err_t a3 = ps_err_agree(MPI_COMM_WORLD, a2);
  int lines = error_lines_total();
  T_CHECK(a1 == PS_ERR_SIGNAL && a2 == PS_ERR_SIGNAL && a3 == PS_ERR_SIGNAL && lines == 1,
          "SIGINT on rank %d only: every rank stops, one line (got %d)", last, lines);
  fflush(stderr);
  unlink(g_err_path);
  int rc = T_FINISH();
  MPI_Finalize();
  return rc;
}
