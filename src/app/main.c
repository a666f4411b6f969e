/* main.c - popseg entry point: MPI, options, one command, exit status. */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>

#include "popseg/cli.h"
#include "popseg/error.h"
#include "popseg/launch.h"
#include "popseg/pipeline.h"
#include "popseg/sig.h"
#include "popseg/strbuf.h"
#include "popseg/version.h"

/* OpenBLAS's (weak: absent with another BLAS). */
extern void openblas_set_num_threads(int n) __attribute__((weak));

/* OpenBLAS starts as many threads as the process's CPU mask holds, and
 * mpirun's binding changes that mask with the rank count (a core per rank up
 * to the cores, no binding past them): the eigensolver's rounding, and so the
 * PCA's last bits, moved with the rank count under a plain mpirun (census, 1
 * rank against 3, 2026-12-05). One thread, as each rank has a core; a count
 * the environment names is kept (fixed, it is the same at every rank count). */
static void blas_threads(void) {
  if (openblas_set_num_threads && !getenv("OPENBLAS_NUM_THREADS") && !getenv("GOTO_NUM_THREADS") &&
      !getenv("OMP_NUM_THREADS"))
    openblas_set_num_threads(1);
}

int main(int argc, char **argv) {
  ps_options_t opts;
  ps_err_t err;
  int rank;
  int provided = 0;
  ps_launch_defaults(); /* on one node, Open MPI's cm layer left out: launch.h */
  /* FUNNELED: only this thread calls MPI; rank 0's input-hash thread never does. */
  MPI_Init_thread(&argc, &argv, MPI_THREAD_FUNNELED, &provided);
  /* MPI errors come back as return codes (PS_ERR_MPI, exit status 7) on every
   * communicator derived from this one, instead of killing the job unexplained. */
  MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
  blas_threads();
  ps_signal_install();
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  err = ps_cli_parse(argc, argv, &opts);
  err = ps_err_agree(MPI_COMM_WORLD, err);
  if (err == PS_OK) {
    switch (opts.command) {
    case PS_CMD_IMPORT:
      err = ps_pipeline_import(&opts, MPI_COMM_WORLD);
      break;
    case PS_CMD_INFO:
      err = ps_pipeline_info(&opts, MPI_COMM_WORLD);
      break;
    case PS_CMD_RUN:
      err = ps_pipeline_run(&opts, MPI_COMM_WORLD);
      break;
    case PS_CMD_PREDICT:
      err = ps_pipeline_predict(&opts, MPI_COMM_WORLD);
      break;
    case PS_CMD_SYNTH:
      err = ps_pipeline_synth(&opts, MPI_COMM_WORLD);
      break;
    case PS_CMD_SWEEP:
      err = ps_pipeline_sweep(&opts, MPI_COMM_WORLD);
      break;
    case PS_CMD_REPORT:
      err = ps_pipeline_report(&opts, MPI_COMM_WORLD);
      break;
    case PS_CMD_VERSION:
      if (rank == 0) printf("popseg %s\n", POPSEG_VERSION);
      break;
    default:
      if (rank == 0) {
        ps_sb_t help = {0};
        ps_cli_help(opts.help_for, &help);
        fputs(ps_sb_str(&help), stdout);
        ps_sb_free(&help);
      }
      break;
    }
    /* Every stage agrees on its errors; this last agreement is a safety net
     * that prints a message no agreement printed yet (never twice). */
    err = ps_err_agree(MPI_COMM_WORLD, err);
  } else if (rank == 0 && opts.command == PS_CMD_NONE) {
    fprintf(stderr, "run 'popseg --help' for usage\n");
  }
  MPI_Finalize();
  return ps_err_exit_status(err);
}
