/* error.c - recorded error messages and the cross-rank agreement. */
#include "popseg/error.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "popseg/sig.h"

static char g_msg[2048];
static char g_where[256];
static int g_have;
static int g_printed;
static int g_debug;
static int g_verbose;

static const char *(*g_namer)(const char *key);

void ps_error_set_namer(const char *(*namer)(const char *key)) {
  g_namer = namer;
}

static void record(const char *file, int line, const char *key, const char *fmt, va_list ap) {
  vsnprintf(g_msg, sizeof g_msg, fmt, ap);
  if (key && g_namer) {
    const char *flag = g_namer(key);
    size_t len = strlen(g_msg);
    if (flag && len < sizeof g_msg) snprintf(g_msg + len, sizeof g_msg - len, " (%s)", flag);
  }
  /* Messages must stay one line whatever a file name contains. */
  for (char *p = g_msg; *p; p++)
    if (*p == '\n' || *p == '\r') *p = ' ';
  snprintf(g_where, sizeof g_where, "%s:%d", file, line);
  g_have = 1;
  g_printed = 0;
}

ps_err_t ps_error(ps_err_t code, const char *file, int line, const char *fmt, ...) {
  if (!g_have) {
    va_list ap;
    va_start(ap, fmt);
    record(file, line, NULL, fmt, ap);
    va_end(ap);
  }
  return code;
}

ps_err_t ps_error_mpi(int rc, const char *file, int line, const char *call) {
  char reason[MPI_MAX_ERROR_STRING] = "";
  int len = 0;
  if (MPI_Error_string(rc, reason, &len) != MPI_SUCCESS)
    snprintf(reason, sizeof reason, "code %d", rc);
  /* "MPI_Allreduce(MPI_IN_PLACE, ...)" -> "MPI_Allreduce" */
  return ps_error(PS_ERR_MPI, file, line, "MPI call failed: %.*s: %s", (int)strcspn(call, "("),
                  call, reason);
}

ps_err_t ps_error_opt(ps_err_t code, const char *file, int line, const char *key, const char *fmt,
                      ...) {
  if (!g_have) {
    va_list ap;
    va_start(ap, fmt);
    record(file, line, key, fmt, ap);
    va_end(ap);
  }
  return code;
}

const char *ps_error_message(void) {
  return g_have ? g_msg : "";
}

void ps_error_clear(void) {
  g_have = 0;
  g_printed = 0;
  g_msg[0] = '\0';
}

void ps_error_set_debug(int debug) {
  g_debug = debug;
}
void ps_error_set_verbose(int verbose) {
  g_verbose = verbose;
}

static void print_local(int rank) {
  if (g_printed) return;
  if (g_debug || g_verbose)
    fprintf(stderr, "popseg[rank %d]: %s: %s\n", rank, g_where, g_have ? g_msg : "(no message)");
  else
    fprintf(stderr, "popseg: error: %s\n", g_have ? g_msg : "(no message)");
  fflush(stderr);
  g_printed = 1;
}

static int g_ignore_signal;

ps_err_t ps_err_agree_plain(MPI_Comm comm, ps_err_t err) {
  g_ignore_signal = 1;
  ps_err_t r = ps_err_agree(comm, err);
  g_ignore_signal = 0;
  return r;
}

ps_err_t ps_err_agree(MPI_Comm comm, ps_err_t err) {
  int rank = 0, size = 1;
  MPI_Comm_rank(comm, &rank);
  MPI_Comm_size(comm, &size);
  int local = (int)err;
  if (local == PS_OK && !g_ignore_signal && ps_signal_pending()) local = PS_ERR_SIGNAL;
  /* A rank may pass on a code that was already agreed: it has no message of
   * its own. Only ranks with something to say compete to print it. */
  /* A signal counts as a message only when this call detected it: a code
   * already agreed as PS_ERR_SIGNAL and passed on must not print again. */
  int has_msg = local != PS_OK && (g_have || (err == PS_OK && local == PS_ERR_SIGNAL));
  /* (max code, lowest rank with a message) in one reduction: encode the rank negated. */
  int in[2] = {local, has_msg ? -rank : -size};
  int out[2];
  if (MPI_Allreduce(in, out, 2, MPI_INT, MPI_MAX, comm) != MPI_SUCCESS) {
    fprintf(stderr, "popseg: error: MPI_Allreduce failed while agreeing on an error\n");
    MPI_Abort(comm, PS_ERR_MPI);
  }
  ps_err_t agreed = (ps_err_t)out[0];
  if (agreed == PS_OK) return PS_OK;
  int first = -out[1];
  if (has_msg && (g_verbose || g_debug || rank == first)) {
    if (local == PS_ERR_SIGNAL && !g_have) {
      int s = ps_signal_pending();
      ps_error(PS_ERR_SIGNAL, __FILE__, __LINE__, "stopped by %s; temporary output removed",
               s == 2 ? "SIGINT" : "SIGTERM");
    }
    print_local(rank);
  } else if (first == size && rank == 0 && !g_printed) {
    /* Nobody recorded why: still say something, once. */
    fprintf(stderr, "popseg: error: failed with code %d\n", (int)agreed);
    fflush(stderr);
    g_printed = 1;
  }
  return agreed;
}

ps_err_t ps_err_agree_or_abort(MPI_Comm comm, ps_err_t err, const char *what) {
  int rank = 0, size = 1;
  MPI_Comm_rank(comm, &rank);
  MPI_Comm_size(comm, &size);
  /* (some rank failed, some rank succeeded, lowest failing rank negated) */
  int in[3] = {err != PS_OK, err == PS_OK, err != PS_OK ? -rank : -size}, out[3];
  if (MPI_Allreduce(in, out, 3, MPI_INT, MPI_MAX, comm) != MPI_SUCCESS) {
    fprintf(stderr, "popseg: error: MPI_Allreduce failed while agreeing on an error\n");
    MPI_Abort(comm, PS_ERR_MPI);
  }
  if (out[0] && out[1]) {
    if (rank == -out[2]) {
      fprintf(stderr,
              "popseg: error: %s (%s failed on some ranks only, first rank %d; ending the job)\n",
              g_have ? g_msg : "unknown failure", what, rank);
      fflush(stderr);
    }
    /* Every rank removes the temporary files it knows (the same names); the
     * barrier lets the message out before the abort tears the job down. */
    ps_signal_unlink_tmp();
    MPI_Barrier(comm);
    MPI_Abort(comm, PS_ERR_IO);
  }
  return ps_err_agree(comm, err);
}

int ps_fault(const char *site) {
  static const char *spec;
  static int init;
  int rank = -1;
  if (!init) {
    spec = getenv("POPSEG_FAULT");
    init = 1;
  }
  if (!spec || !site) return 0;
  size_t n = strlen(site);
  if (strncmp(spec, site, n) != 0 || spec[n] != ':') return 0;
  if (!strcmp(spec + n + 1, "*")) return 1;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  return atoi(spec + n + 1) == rank;
}

int ps_err_exit_status(ps_err_t err) {
  if (err == PS_OK) return 0;
  if (err == PS_ERR_SIGNAL) return 128 + (ps_signal_pending() ? ps_signal_pending() : 15);
  return (int)err;
}
