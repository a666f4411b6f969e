/* fuzz_util.h - helpers shared by the harnesses (header-only, static).
 *
 * Reports: fuzz_fail prints why a harness gives up on an input and aborts,
 * so that libFuzzer (or the driver's caller) sees a crash. It writes to a
 * copy of stderr taken by fuzz_report_init, because `make fuzz` runs some
 * targets with -close_fd_mask=2 (stderr closed: popseg prints one error line
 * per refused input) and the reason must still be seen.
 *
 * Files: a private temporary directory for the harnesses that need a file on
 * disk, made once per process with mkdtemp under /tmp, removed at exit (a
 * crashing run may leave it behind; its name says whose it is).
 */
#ifndef POPSEG_FUZZ_UTIL_H
#define POPSEG_FUZZ_UTIL_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static FILE *fuzz_report_;

/* Take the copy of stderr (call it from LLVMFuzzerInitialize). */
static inline void fuzz_report_init(void) {
  if (fuzz_report_) return;
  int fd = dup(2);
  fuzz_report_ = fd >= 0 ? fdopen(fd, "w") : NULL;
}

__attribute__((noreturn)) static inline void fuzz_fail(const char *target, const char *what,
                                                       const char *detail) {
  FILE *f = fuzz_report_ ? fuzz_report_ : stderr;
  fprintf(f, "%s: %s", target, what);
  if (detail) {
    /* Printable ASCII as is, other bytes as \xNN, at most 300 bytes. */
    fputs(": \"", f);
    for (size_t i = 0; detail[i] && i < 300; i++) {
      unsigned char c = (unsigned char)detail[i];
      if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\')
        fputc(c, f);
      else
        fprintf(f, "\\x%02x", c);
    }
    fputc('"', f);
  }
  fputc('\n', f);
  fflush(f);
  abort();
}

static char fuzz_tmpdir_[256];
static char fuzz_tmpfile_[4][320];
static int fuzz_ntmp_;

static void fuzz_tmp_cleanup_(void) {
  for (int i = 0; i < fuzz_ntmp_; i++) unlink(fuzz_tmpfile_[i]);
  if (fuzz_tmpdir_[0]) rmdir(fuzz_tmpdir_);
  fuzz_tmpdir_[0] = '\0';
}

/* Make the directory (once); aborts if /tmp cannot hold it. */
static inline void fuzz_tmp_init(const char *tag) {
  if (fuzz_tmpdir_[0]) return;
  snprintf(fuzz_tmpdir_, sizeof fuzz_tmpdir_, "/tmp/popseg-fuzz-%s.XXXXXX", tag);
  if (!mkdtemp(fuzz_tmpdir_)) {
    perror("fuzz: mkdtemp");
    abort();
  }
  atexit(fuzz_tmp_cleanup_);
}

/* The path of file name in the directory (at most 4 names, removed at exit). */
static inline const char *fuzz_tmp_path(const char *name) {
  char p[320];
  snprintf(p, sizeof p, "%s/%s", fuzz_tmpdir_, name);
  for (int i = 0; i < fuzz_ntmp_; i++)
    if (!strcmp(fuzz_tmpfile_[i], p)) return fuzz_tmpfile_[i];
  if (fuzz_ntmp_ == 4) abort();
  memcpy(fuzz_tmpfile_[fuzz_ntmp_], p, sizeof p);
  return fuzz_tmpfile_[fuzz_ntmp_++];
}

/* Write data[0..n) to path; aborts on failure (the disk, not a finding). */
static inline void fuzz_write_file(const char *path, const void *data, size_t n) {
  FILE *f = fopen(path, "wb");
  if (!f || (n && fwrite(data, 1, n, f) != n) || fclose(f) != 0) {
    perror(path);
    abort();
  }
}

#endif
