/* paths.c - output path checks made before any work (see paths.h). */
#include "popseg/paths.h"

#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "popseg/outfile.h"

int ps_paths_same(const char *a, const char *b) {
  struct stat sa, sb;
  char da[4096], db[4096];
  const char *ba = strrchr(a, '/'), *bb = strrchr(b, '/');
  snprintf(da, sizeof da, "%.*s", ba ? (int)(ba - a) + 1 : 1, ba ? a : ".");
  snprintf(db, sizeof db, "%.*s", bb ? (int)(bb - b) + 1 : 1, bb ? b : ".");
  if (stat(da, &sa) != 0 || stat(db, &sb) != 0) return strcmp(a, b) == 0;
  return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino &&
         strcmp(ba ? ba + 1 : a, bb ? bb + 1 : b) == 0;
}

ps_err_t ps_paths_check_output(const char *path, int force, MPI_Comm comm) {
  ps_outfile_t of;
  ps_err_t err;
  if (!path) return PS_OK;
  err = ps_outfile_begin(&of, path, force, comm);
  if (err != PS_OK) return err;
  /* Only the probe file exists (see ps_outfile_begin); ending with a failure
   * code removes it and unregisters the name. */
  (void)ps_outfile_end(&of, PS_ERR_INTERNAL, comm);
  return PS_OK;
}

/* Not collective (rank 0). An existing output that is the same file as an
 * existing input: compared by device and inode, so every path to it counts. */
static ps_err_t not_an_input(const ps_path_t *out, const ps_path_t *ins, int n_in) {
  struct stat so, si;
  if (!out->path || stat(out->path, &so) != 0) return PS_OK;
  for (int i = 0; i < n_in; i++) {
    if (!ins[i].path || stat(ins[i].path, &si) != 0) continue;
    if (so.st_dev == si.st_dev && so.st_ino == si.st_ino)
      return ps_error(PS_ERR_ARG, __FILE__, __LINE__,
                      "%s '%s' is %s '%s' (the same file): popseg never writes over an input, "
                      "even with --force; name another output",
                      out->what, out->path, ins[i].what, ins[i].path);
  }
  return PS_OK;
}

ps_err_t ps_paths_check_outputs(const ps_path_t *outs, int n_out, const ps_path_t *ins, int n_in,
                                int force, MPI_Comm comm) {
  ps_err_t err = PS_OK;
  int rank;
  MPI_Comm_rank(comm, &rank);
  if (rank == 0) {
    for (int i = 0; i < n_out && err == PS_OK; i++) err = not_an_input(&outs[i], ins, n_in);
    for (int i = 0; i < n_out && err == PS_OK; i++)
      for (int j = i + 1; j < n_out && err == PS_OK; j++)
        if (outs[i].path && outs[j].path && ps_paths_same(outs[i].path, outs[j].path))
          err = ps_error(PS_ERR_ARG, __FILE__, __LINE__, "%s and %s name the same file '%s'",
                         outs[i].what, outs[j].what, outs[j].path);
  }
  PS_AGREE(comm);
  for (int i = 0; i < n_out; i++) PS_TRY(ps_paths_check_output(outs[i].path, force, comm));
cleanup:
  return err;
}
