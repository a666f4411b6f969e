/* textfile.c - a text file written by rank 0 through a temporary name. */
#include "popseg/textfile.h"

#include <stdio.h>

#include "popseg/outfile.h"

ps_err_t ps_textfile_write(const char *path, int force, const char *text, size_t len,
                           MPI_Comm comm) {
  ps_err_t err = PS_OK;
  ps_outfile_t of;
  int rank;
  MPI_Comm_rank(comm, &rank);
  PS_TRY(ps_outfile_begin(&of, path, force, comm));
  if (rank == 0) {
    FILE *f = fopen(of.tmp_path, "wb");
    if (!f) {
      err = ps_error(PS_ERR_IO, __FILE__, __LINE__, "%s: cannot create the file", path);
    } else {
      size_t w = len ? fwrite(text, 1, len, f) : 0;
      if (fclose(f) != 0 || w != len)
        err = ps_error(PS_ERR_IO, __FILE__, __LINE__, "%s: write failed", path);
    }
  }
  err = ps_err_agree(comm, err);
  err = ps_outfile_end(&of, err, comm);
cleanup:
  return err;
}
