/* outfile.h - output files that are never left half-written.
 *
 * Every output is written to a temporary name in the same directory
 * (".<name>.tmp-<pid>") and renamed over the final name only when every rank
 * succeeded. On failure or a signal the temporary file is removed.
 */
#ifndef POPSEG_OUTFILE_H
#define POPSEG_OUTFILE_H

#include <mpi.h>

#include "popseg/error.h"

typedef struct {
  char final_path[4096];
  char tmp_path[8320]; /* same on every rank */
  int active;
  int scratch; /* pending, but removed at the commit instead of renamed */
} ps_outfile_t;

/* Collective. Check that path can be written (directory exists and is
 * writable on every rank; path does not exist unless force) and choose the
 * temporary name. Rank 0 creates the temporary file with a small token that
 * every rank must read back (the directory is shared, not node-local), then
 * replaces it by a new empty file for the writers (a non-empty one parallel
 * HDF5 would truncate, and ext4 writes a file truncated to zero back to disk
 * when it is closed). Call early, before expensive work, so a bad output
 * path fails fast. The temporary path is registered for removal on
 * SIGTERM/SIGINT; ps_outfile_end removes it on failure. */
ps_err_t ps_outfile_begin(ps_outfile_t *of, const char *path, int force, MPI_Comm comm);
/* Collective. If err (already agreed) is PS_OK, rename tmp to final on rank 0
 * (or, in deferred mode, keep it for ps_outfile_commit); otherwise remove tmp.
 * Returns the agreed result of the rename. */
ps_err_t ps_outfile_end(ps_outfile_t *of, ps_err_t err, MPI_Comm comm);

/* Deferred mode: a command that writes several files (results, CSV, report)
 * keeps every finished file under its temporary name until ps_outfile_commit,
 * so that a failure or a kill part-way leaves none of them. Not collective. */
void ps_outfile_defer(int on);
/* Collective. err PS_OK (agreed): rename every pending file; else remove them.
 * Returns the agreed result. Leaves deferred mode. */
ps_err_t ps_outfile_commit(ps_err_t err, MPI_Comm comm);

/* Deferred mode: the temporary path of the pending file whose final path is
 * final_path (a later stage reads what an earlier one wrote, such as the HTML
 * report drawing from the results), or NULL. Not collective. */
const char *ps_outfile_pending(const char *final_path);
/* Deferred mode: the pending file final_path is scratch: ps_outfile_commit
 * removes it, success or not, and never renames it. Not collective (every
 * rank calls it alike). */
void ps_outfile_scratch(const char *final_path);

#endif
