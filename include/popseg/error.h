/* error.h - error codes, check macros and the cross-rank agreement on failure.
 *
 * Every function that can fail returns ps_err_t; results come back through
 * out-parameters. The first error raised on a rank records a one-line message
 * (naming the user's file, dataset, line or option). A stage ends with
 * ps_err_agree(): all ranks learn the worst code, the lowest failing rank
 * prints its message, and every rank returns the same code, so no rank is
 * ever left waiting in a collective that the others skipped.
 */
#ifndef POPSEG_ERROR_H
#define POPSEG_ERROR_H

#include <mpi.h>

typedef enum {
  PS_OK = 0,
  PS_ERR_ARG = 1,     /* bad option or argument */
  PS_ERR_IO = 2,      /* cannot open/read/write a file */
  PS_ERR_FORMAT = 3,  /* malformed input: CSV syntax, wrong dataset, bad value */
  PS_ERR_MEM = 4,     /* allocation failed or the problem does not fit */
  PS_ERR_NUMERIC = 5, /* numerical failure (NaN/Inf, non-convergence) */
  PS_ERR_LAPACK = 6,  /* LAPACK/ScaLAPACK reported an error */
  PS_ERR_MPI = 7,     /* an MPI call failed */
  PS_ERR_SIGNAL = 8,  /* stopped by SIGTERM/SIGINT */
  PS_ERR_INTERNAL = 9 /* a bug */
} ps_err_t;

/* Record an error (first one wins on this rank) and return code. Not collective.
 * The message is printf-formatted, one line, without the trailing newline. */
ps_err_t ps_error(ps_err_t code, const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Record a failed MPI call (PS_ERR_MPI): the call and MPI's error string. */
ps_err_t ps_error_mpi(int rc, const char *file, int line, const char *call);

/* Record an error about an option of a stage, by its field key ("kmeans.k").
 * The message is worded in the stage's own terms ("k-means: k = 5000 is more
 * than the 3218 rows"); the namer installed by the command line appends the
 * flag that sets the field (" (--k)"), so only the command line knows flags. */
ps_err_t ps_error_opt(ps_err_t code, const char *file, int line, const char *key, const char *fmt,
                      ...) __attribute__((format(printf, 5, 6)));
/* Install the key -> flag namer (NULL: messages keep the stage's words only). */
void ps_error_set_namer(const char *(*namer)(const char *key));

/* The recorded message of this rank ("" if none). */
const char *ps_error_message(void);
/* Forget the recorded error (tests). */
void ps_error_clear(void);
/* Debug mode: also print source file:line. Verbose: every failing rank prints. */
void ps_error_set_debug(int debug);
void ps_error_set_verbose(int verbose);

/* Collective. Agree on the error across comm: returns the maximum code of all
 * ranks (a pending SIGTERM/SIGINT counts as PS_ERR_SIGNAL). The lowest failing
 * rank prints "popseg: error: <message>" to stderr (once per message: a
 * message already printed is not printed again). */
ps_err_t ps_err_agree(MPI_Comm comm, ps_err_t err);

/* Collective. Agreement after a call that is collective in a library (parallel
 * HDF5 metadata, MPI-IO open): if it returned failure on some ranks but not
 * on others (a library call that blocks instead of returning cannot be helped),
 * the library's shared state (an open file, its metadata cache) is split and
 * no collective clean-up is safe. Then the lowest failing rank prints its
 * message, every registered temporary file is removed, and the job is ended
 * with MPI_Abort (exit PS_ERR_IO): no hang, no partial output. Otherwise the
 * same as ps_err_agree. what names the call for the message. */
ps_err_t ps_err_agree_or_abort(MPI_Comm comm, ps_err_t err, const char *what);

/* Fault injection for the tests of the failure paths: non-zero when the
 * environment variable POPSEG_FAULT is "SITE:RANK" with this site and this
 * rank of MPI_COMM_WORLD (or "SITE:*": every rank). Sites: "h5-setup" (local set-up of an HDF5
 * dataset fails), "h5-create" (a collective HDF5 create fails on that rank only), "mpiio-open" (the
 * CSV writer's MPI_File_open fails on that rank only), "mpi-count" (ps_reduce_* pass MPI an invalid
 * count: a real MPI error). Not collective. */
int ps_fault(const char *site);

/* Collective. Like ps_err_agree, but a pending signal does not count: for the
 * agreement after the outputs were committed, when stopping is too late. */
ps_err_t ps_err_agree_plain(MPI_Comm comm, ps_err_t err);

/* Exit status for a code: 0 for PS_OK, 128 + the signal (143 SIGTERM, 130 SIGINT)
 * for PS_ERR_SIGNAL, else the code. */
int ps_err_exit_status(ps_err_t err);

/* The macros assume `ps_err_t err` and a `cleanup:` label in scope. */
#define PS_TRY(expr)                                                                               \
  do {                                                                                             \
    if ((err = (expr)) != PS_OK) goto cleanup;                                                     \
  } while (0)

#define PS_CHECK(cond, code, ...)                                                                  \
  do {                                                                                             \
    if (!(cond)) {                                                                                 \
      err = ps_error((code), __FILE__, __LINE__, __VA_ARGS__);                                     \
      goto cleanup;                                                                                \
    }                                                                                              \
  } while (0)

/* PS_CHECK for a bad option value, reported by field key (ps_error_opt). */
#define PS_CHECK_OPT(cond, code, key, ...)                                                         \
  do {                                                                                             \
    if (!(cond)) {                                                                                 \
      err = ps_error_opt((code), __FILE__, __LINE__, (key), __VA_ARGS__);                          \
      goto cleanup;                                                                                \
    }                                                                                              \
  } while (0)

#define PS_CHECK_ALLOC(ptr) PS_CHECK((ptr) != NULL, PS_ERR_MEM, "out of memory allocating %s", #ptr)

/* popseg's communicators return MPI errors (MPI_ERRORS_RETURN, set in main)
 * instead of aborting, so a failed call becomes PS_ERR_MPI with MPI's reason. */
#define PS_CALL_MPI(call)                                                                          \
  do {                                                                                             \
    int ps_mpi_rc_ = (call);                                                                       \
    if (ps_mpi_rc_ != MPI_SUCCESS) {                                                               \
      err = ps_error_mpi(ps_mpi_rc_, __FILE__, __LINE__, #call);                                   \
      goto cleanup;                                                                                \
    }                                                                                              \
  } while (0)

/* LAPACK convention: info < 0 is a bad argument, info > 0 a failure. */
#define PS_CALL_LAPACK(name, info)                                                                 \
  do {                                                                                             \
    long long ps_info_ = (long long)(info);                                                        \
    PS_CHECK(ps_info_ == 0, PS_ERR_LAPACK, "%s failed: info = %lld (%s)", (name), ps_info_,        \
             ps_info_ < 0 ? "bad argument" : "did not converge");                                  \
  } while (0)

/* A local check followed by the agreement on it: when cond fails on any rank
 * (or an error is already pending on one), every rank jumps to cleanup with
 * the same code. For a local step (an allocation, a set-up) that must not
 * leave the other ranks alone in the next collective. */
#define PS_CHECK_ALL(comm, cond, code, ...)                                                        \
  do {                                                                                             \
    if (err == PS_OK && !(cond)) err = ps_error((code), __FILE__, __LINE__, __VA_ARGS__);          \
    if ((err = ps_err_agree((comm), err)) != PS_OK) goto cleanup;                                  \
  } while (0)

/* Agree across comm at the end of a stage; jump to cleanup on any failure. */
#define PS_AGREE(comm)                                                                             \
  do {                                                                                             \
    if ((err = ps_err_agree((comm), err)) != PS_OK) goto cleanup;                                  \
  } while (0)

#endif
