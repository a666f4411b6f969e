/* input.c - the input table of a command, from CSV or HDF5 (see input.h). */
#include "popseg/input.h"

#include <string.h>
#include <sys/stat.h>

#include "popseg/h5io.h"

static int ends_with(const char *s, const char *suf) {
  size_t a = strlen(s), b = strlen(suf);
  return a >= b && strcmp(s + a - b, suf) == 0;
}

int ps_input_looks_hdf5(const char *path) {
  return ps_h5_is_hdf5(path) || ends_with(path, ".h5") || ends_with(path, ".hdf5") ||
         ends_with(path, ".he5");
}

ps_err_t ps_input_check(const char *path, MPI_Comm comm, int *is_h5) {
  ps_err_t err = PS_OK;
  int rank;
  MPI_Comm_rank(comm, &rank);
  *is_h5 = 0;
  if (rank == 0) {
    struct stat st;
    PS_CHECK(stat(path, &st) == 0, PS_ERR_IO, "%s: no such file", path);
    PS_CHECK(!S_ISDIR(st.st_mode), PS_ERR_IO, "%s: is a directory, not a data file", path);
    /* The memory check sizes the input before it is read, and a table is
     * read at any offset by every rank: neither works on a pipe. */
    PS_CHECK(S_ISREG(st.st_mode), PS_ERR_IO,
             "%s: not a regular file (a pipe or a device): popseg needs its input's size before "
             "reading it; write it to a file first",
             path);
    *is_h5 = ps_input_looks_hdf5(path);
  }
cleanup:
  err = ps_err_agree(comm, err);
  if (err == PS_OK && MPI_Bcast(is_h5, 1, MPI_INT, 0, comm) != MPI_SUCCESS)
    err = ps_err_agree(comm, ps_error(PS_ERR_MPI, __FILE__, __LINE__, "MPI_Bcast failed"));
  return err;
}

ps_err_t ps_input_read(const char *path, const ps_import_opts_t *opts, MPI_Comm comm,
                       ps_table_t **out) {
  ps_err_t err = PS_OK;
  ps_table_t *whole = NULL;
  int rank, is_h5 = 0;
  MPI_Comm_rank(comm, &rank);
  *out = NULL;
  PS_TRY(ps_input_check(path, comm, &is_h5));
  if (is_h5) {
    PS_TRY(ps_table_read_h5(path, comm, out));
    /* The feature names are the same on every rank: the same verdict. */
    err = ps_table_rename(*out, opts ? opts->rename : NULL);
    PS_AGREE(comm);
  } else {
    if (rank == 0) err = ps_csv_import(path, opts, &whole);
    PS_AGREE(comm);
    PS_TRY(ps_table_scatter(whole, 0, comm, out));
  }
  PS_TRY(ps_table_validate(*out, comm));
cleanup:
  if (err != PS_OK) ps_table_destroy(out);
  ps_table_destroy(&whole);
  return err;
}
