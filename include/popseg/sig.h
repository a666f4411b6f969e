/* sig.h - SIGTERM/SIGINT handling for batch systems.
 *
 * Slurm sends SIGTERM at the time limit or on scancel; mpirun forwards it.
 * The handler removes every registered temporary output file at once
 * (unlink is async-signal-safe, so nothing half-written survives even if a
 * SIGKILL follows) and raises a flag that ps_err_agree() turns into
 * PS_ERR_SIGNAL at the next safe point. A second signal exits immediately.
 */
#ifndef POPSEG_SIG_H
#define POPSEG_SIG_H

/* Install the handlers. Not collective. */
void ps_signal_install(void);
/* Non-zero once SIGTERM or SIGINT arrived (the signal number). */
int ps_signal_pending(void);
/* Register/unregister a temporary file for removal on a signal (max 8). */
void ps_signal_add_tmp(const char *path);
void ps_signal_remove_tmp(const char *path);
/* Remove every registered temporary file now (before an MPI_Abort). */
void ps_signal_unlink_tmp(void);

#endif
