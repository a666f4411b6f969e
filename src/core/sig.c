/* sig.c - SIGTERM/SIGINT: remove temporary output at once, stop at a safe point. */
#include "popseg/sig.h"

#include <signal.h>
#include <string.h>
#include <unistd.h>

#define PS_MAX_TMP 8

static volatile sig_atomic_t g_pending;
static char g_tmp[PS_MAX_TMP][8320];
static volatile sig_atomic_t g_tmp_used[PS_MAX_TMP];

static void on_signal(int sig) {
  for (int i = 0; i < PS_MAX_TMP; i++)
    if (g_tmp_used[i]) unlink(g_tmp[i]);
  if (g_pending) {
    /* Second signal: the user (or the batch system) insists. */
    static const char msg[] = "popseg: error: stopped by a second signal\n";
    ssize_t r = write(2, msg, sizeof msg - 1);
    (void)r;
    _exit(128 + sig);
  }
  g_pending = sig;
}

void ps_signal_install(void) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  /* No SA_RESTART: a rank blocked writing progress to a pipe that mpirun has
   * stopped draining must get EINTR and go on to the next safe point. */
  sa.sa_flags = 0;
  sigaction(SIGTERM, &sa, NULL);
  sigaction(SIGINT, &sa, NULL);
}

int ps_signal_pending(void) {
  return (int)g_pending;
}

void ps_signal_add_tmp(const char *path) {
  for (int i = 0; i < PS_MAX_TMP; i++) {
    if (!g_tmp_used[i]) {
      strncpy(g_tmp[i], path, sizeof g_tmp[i] - 1);
      g_tmp[i][sizeof g_tmp[i] - 1] = '\0';
      g_tmp_used[i] = 1;
      return;
    }
  }
}

void ps_signal_unlink_tmp(void) {
  for (int i = 0; i < PS_MAX_TMP; i++)
    if (g_tmp_used[i]) unlink(g_tmp[i]);
}

void ps_signal_remove_tmp(const char *path) {
  for (int i = 0; i < PS_MAX_TMP; i++)
    if (g_tmp_used[i] && strcmp(g_tmp[i], path) == 0) g_tmp_used[i] = 0;
}
