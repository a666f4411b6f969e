/* outfile.c - write to a temporary name, rename on success, remove on failure. */
#include "popseg/outfile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "popseg/sig.h"

/* A new file at path, never one planted at the predictable name (O_EXCL also
 * refuses to follow a symbolic link): whatever is there is removed first.
 * The open descriptor, or -1 (errno set). */
static int create_new(const char *path) {
  (void)unlink(path);
  return open(path, O_WRONLY | O_CREAT | O_EXCL, 0666);
}

/* Collective. A directory that exists on every node but is not shared (a
 * node-local /tmp or scratch disk) passes every access check, yet each node
 * would write its own partial file. So rank 0 creates the temporary file with
 * a token, and every other rank must read that token back through its own
 * view of the path. Closing before the others open gives NFS close-to-open
 * consistency. Rank 0 then puts a fresh empty file in its place (fresh_empty). */
static ps_err_t probe_shared(const ps_outfile_t *of, const char *path, MPI_Comm comm) {
  ps_err_t err = PS_OK;
  int rank;
  unsigned char token[24], got[24];
  MPI_Comm_rank(comm, &rank);
  memset(token, 0, sizeof token);
  if (rank == 0) {
    static unsigned counter;
    long pid = (long)getpid();
    double t = MPI_Wtime();
    unsigned c = ++counter;
    memcpy(token, &pid, sizeof pid < 8 ? sizeof pid : 8);
    memcpy(token + 8, &t, sizeof t);
    memcpy(token + 16, &c, sizeof c);
    int fd = create_new(of->tmp_path);
    ssize_t w = fd >= 0 ? write(fd, token, sizeof token) : -1;
    if (fd < 0 || w < 0)
      err = ps_error(PS_ERR_IO, __FILE__, __LINE__, "%s: cannot create %s: %s", path, of->tmp_path,
                     strerror(errno));
    else if (w != (ssize_t)sizeof token)
      err = ps_error(PS_ERR_IO, __FILE__, __LINE__, "%s: short write to %s (disk full?)", path,
                     of->tmp_path);
    if (fd >= 0 && close(fd) != 0 && err == PS_OK)
      err = ps_error(PS_ERR_IO, __FILE__, __LINE__, "%s: cannot create %s: %s", path, of->tmp_path,
                     strerror(errno));
  }
  if (MPI_Bcast(token, (int)sizeof token, MPI_BYTE, 0, comm) != MPI_SUCCESS && err == PS_OK)
    err = ps_error(PS_ERR_MPI, __FILE__, __LINE__, "MPI_Bcast of the output probe failed");
  err = ps_err_agree(comm, err);
  if (err != PS_OK) return err;
  int fd = rank != 0 ? open(of->tmp_path, O_RDONLY) : -1;
  ssize_t n = fd >= 0 ? read(fd, got, sizeof got) : -1;
  if (fd >= 0) close(fd);
  if (rank != 0 && (n != (ssize_t)sizeof got || memcmp(got, token, sizeof token) != 0))
    err = ps_error(PS_ERR_IO, __FILE__, __LINE__,
                   "%s: rank %d does not see the file rank 0 created there: the output directory "
                   "must be on a file system every node shares (not a node-local disk)",
                   path, rank);
  return ps_err_agree(comm, err);
}

/* Collective. Rank 0 replaces the probe's file by a new empty one
 * (create_new). Parallel HDF5 truncates a non-empty file it creates, and ext4
 * (auto_da_alloc) writes a file truncated to zero back to disk when it is
 * closed: 0.17 s in the close of a 0.6 GB results file on this VM, a cost
 * the peers writing new files never pay (bench/README.md, "Write"). */
static ps_err_t fresh_empty(const ps_outfile_t *of, const char *path, MPI_Comm comm) {
  ps_err_t err = PS_OK;
  int rank;
  MPI_Comm_rank(comm, &rank);
  if (rank == 0) {
    int fd = create_new(of->tmp_path);
    if (fd < 0 || close(fd) != 0)
      err = ps_error(PS_ERR_IO, __FILE__, __LINE__, "%s: cannot create %s: %s", path, of->tmp_path,
                     strerror(errno));
  }
  return ps_err_agree(comm, err);
}

ps_err_t ps_outfile_begin(ps_outfile_t *of, const char *path, int force, MPI_Comm comm) {
  ps_err_t err = PS_OK;
  int rank;
  MPI_Comm_rank(comm, &rank);
  memset(of, 0, sizeof *of);
  if (rank == 0) {
    struct stat st;
    char dir[4096];
    const char *slash;
    PS_CHECK(path && *path, PS_ERR_ARG, "empty output file name");
    PS_CHECK(strlen(path) < sizeof of->final_path - 64, PS_ERR_ARG, "%s: output path too long",
             path);
    slash = strrchr(path, '/');
    if (!slash) {
      snprintf(dir, sizeof dir, ".");
    } else if (slash == path) {
      snprintf(dir, sizeof dir, "/");
    } else {
      snprintf(dir, sizeof dir, "%.*s", (int)(slash - path), path);
    }
    PS_CHECK(slash == NULL || slash[1] != '\0', PS_ERR_ARG, "%s: output path names a directory",
             path);
    PS_CHECK(stat(dir, &st) == 0 && S_ISDIR(st.st_mode), PS_ERR_IO,
             "%s: output directory '%s' does not exist", path, dir);
    PS_CHECK(access(dir, W_OK | X_OK) == 0, PS_ERR_IO, "%s: output directory '%s' is not writable",
             path, dir);
    if (stat(path, &st) == 0) {
      PS_CHECK(!S_ISDIR(st.st_mode), PS_ERR_IO, "%s: output path is a directory", path);
      PS_CHECK(force, PS_ERR_IO, "%s: output file exists (use --force to overwrite)", path);
    }
    snprintf(of->final_path, sizeof of->final_path, "%s", path);
    snprintf(of->tmp_path, sizeof of->tmp_path, "%s/.%s.tmp-%ld", dir, slash ? slash + 1 : path,
             (long)getpid());
  }
cleanup:
  err = ps_err_agree(comm, err);
  if (err != PS_OK) return err;
  if (MPI_Bcast(of->final_path, (int)sizeof of->final_path, MPI_CHAR, 0, comm) != MPI_SUCCESS ||
      MPI_Bcast(of->tmp_path, (int)sizeof of->tmp_path, MPI_CHAR, 0, comm) != MPI_SUCCESS)
    err = ps_error(PS_ERR_MPI, __FILE__, __LINE__, "MPI_Bcast of the output name failed");
  /* Every rank opens the file collectively: the directory must be there for
   * all of them (not a node-local directory or another working directory). */
  if (err == PS_OK && rank != 0) {
    char dir[8320];
    const char *slash = strrchr(of->tmp_path, '/');
    snprintf(dir, sizeof dir, "%.*s", slash ? (int)(slash - of->tmp_path) : 1,
             slash ? of->tmp_path : ".");
    if (dir[0] == '\0') snprintf(dir, sizeof dir, "/");
    if (access(dir, W_OK | X_OK) != 0)
      err = ps_error(PS_ERR_IO, __FILE__, __LINE__,
                     "%s: rank %d cannot write to directory '%s' (%s): is it on a file system "
                     "every node shares?",
                     path, rank, dir, strerror(errno));
  }
  err = ps_err_agree(comm, err);
  if (err != PS_OK) return err;
  ps_signal_add_tmp(of->tmp_path);
  err = probe_shared(of, path, comm);
  if (err == PS_OK) err = fresh_empty(of, path, comm);
  if (err != PS_OK) {
    if (rank == 0) unlink(of->tmp_path);
    ps_signal_remove_tmp(of->tmp_path);
    return err;
  }
  of->active = 1;
  return PS_OK;
}

#define PS_MAX_PENDING 8
static ps_outfile_t g_pending[PS_MAX_PENDING];
static int g_npending;
static int g_defer;

void ps_outfile_defer(int on) {
  g_defer = on;
}

ps_err_t ps_outfile_end(ps_outfile_t *of, ps_err_t err, MPI_Comm comm) {
  int rank;
  MPI_Comm_rank(comm, &rank);
  if (!of->active) return err;
  if (err == PS_OK && g_defer && g_npending < PS_MAX_PENDING) {
    /* Stays registered with the signal handler until the commit. */
    g_pending[g_npending++] = *of;
    of->active = 0;
    return PS_OK;
  }
  ps_err_t e2 = PS_OK;
  if (rank == 0) {
    if (err == PS_OK) {
      if (rename(of->tmp_path, of->final_path) != 0)
        e2 = ps_error(PS_ERR_IO, __FILE__, __LINE__, "%s: cannot rename from %s: %s",
                      of->final_path, of->tmp_path, strerror(errno));
    }
    if (err != PS_OK || e2 != PS_OK) unlink(of->tmp_path);
  }
  ps_signal_remove_tmp(of->tmp_path);
  of->active = 0;
  if (err != PS_OK) return err; /* already agreed by the caller */
  return ps_err_agree(comm, e2);
}

ps_err_t ps_outfile_commit(ps_err_t err, MPI_Comm comm) {
  int rank, renamed = 0;
  ps_err_t e2 = PS_OK;
  MPI_Comm_rank(comm, &rank);
  /* Last chance for a signal to cancel the outputs: after this agreement the
   * files are renamed and a late signal no longer turns success into failure. */
  if (err == PS_OK && g_npending > 0) err = ps_err_agree(comm, err);
  for (int i = 0; i < g_npending; i++) {
    ps_outfile_t *of = &g_pending[i];
    if (rank == 0 && of->scratch) {
      unlink(of->tmp_path);
    } else if (rank == 0) {
      if (err == PS_OK && e2 == PS_OK) {
        if (rename(of->tmp_path, of->final_path) != 0)
          e2 = ps_error(PS_ERR_IO, __FILE__, __LINE__, "%s: cannot rename from %s: %s",
                        of->final_path, of->tmp_path, strerror(errno));
        else
          renamed = i + 1;
      } else {
        unlink(of->tmp_path);
      }
    }
    ps_signal_remove_tmp(of->tmp_path);
  }
  /* A rename failed part-way: take back only the files this run renamed, so
   * that the set of outputs stays all-or-nothing; never touch the others. */
  if (rank == 0 && e2 != PS_OK)
    for (int i = 0; i < renamed; i++)
      if (!g_pending[i].scratch) unlink(g_pending[i].final_path);
  g_npending = 0;
  g_defer = 0;
  if (err != PS_OK) return err;
  return ps_err_agree_plain(comm, e2);
}

const char *ps_outfile_pending(const char *final_path) {
  for (int i = 0; i < g_npending; i++)
    if (strcmp(g_pending[i].final_path, final_path) == 0) return g_pending[i].tmp_path;
  return NULL;
}

void ps_outfile_scratch(const char *final_path) {
  for (int i = 0; i < g_npending; i++)
    if (strcmp(g_pending[i].final_path, final_path) == 0) g_pending[i].scratch = 1;
}
