/* mem.c - per-row arrays on transparent huge pages (see mem.h). */
#define _DEFAULT_SOURCE /* madvise, MADV_HUGEPAGE */
#include "popseg/mem.h"
#include "popseg/opt.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define HUGE_PAGE ((uintptr_t)2 << 20)
#define MIN_BYTES ((size_t)4 << 20)

#ifdef MADV_HUGEPAGE
static int advice_on(void) {
  static int on = -1; /* read once; the same for every call of a run */
  if (on < 0) on = ps_env_flag("POPSEG_HUGEPAGES", 1);
  return on;
}
#endif

void ps_rows_advise(void *p, size_t bytes) {
#ifdef MADV_HUGEPAGE
  if (!p || bytes < MIN_BYTES || !advice_on()) return;
  uintptr_t lo = ((uintptr_t)p + HUGE_PAGE - 1) & ~(HUGE_PAGE - 1);
  uintptr_t hi = ((uintptr_t)p + bytes) & ~(HUGE_PAGE - 1);
  /* Advice only: a kernel without THP (or with it off) refuses, and the block
   * is then an ordinary one, so the result is not checked. */
  if (hi > lo) (void)madvise((void *)lo, (size_t)(hi - lo), MADV_HUGEPAGE);
#else
  (void)p;
  (void)bytes;
#endif
}

size_t ps_rows_discard(void *p, size_t from, size_t to) {
#ifdef MADV_DONTNEED
  /* madvise wants page-aligned addresses and rounds the length up: with the
   * real page size, nothing outside [from, to) is discarded. The end stops
   * at a huge-page boundary where the block may be on huge pages, so no huge
   * page is split into 4 KiB ones. Measured on the AMD EPYC VM of
   * bench/results.md, 4M x 34 at 2 ranks, the releasing projection's 8 MiB
   * windows cut anywhere: 0.15-0.17 s, of which 8-11 ms in madvise (the
   * windows after a split projected 3-4x slower); cut on huge-page
   * boundaries: 0.04-0.05 s, as fast as not releasing (0.045-0.059 s). */
  const long ps = sysconf(_SC_PAGESIZE);
  const uintptr_t page = ps > 0 ? (uintptr_t)ps : 0;
  if (!p || to <= from || !page) return from;
#ifdef MADV_HUGEPAGE
  const uintptr_t end_page = advice_on() && page < HUGE_PAGE ? HUGE_PAGE : page;
#else
  const uintptr_t end_page = page;
#endif
  uintptr_t lo = ((uintptr_t)p + from + page - 1) & ~(page - 1);
  uintptr_t hi = ((uintptr_t)p + to) & ~(end_page - 1);
  if (hi <= lo) return from;
  /* Best effort, like the advice: on failure the pages stay until free(). */
  (void)madvise((void *)lo, (size_t)(hi - lo), MADV_DONTNEED);
  return (size_t)(hi - (uintptr_t)p);
#else
  (void)p;
  (void)to;
  return from;
#endif
}

/* The bytes of n elements of size (each at least 1, so a zero-row slice
 * still gets a block), or 0 when that overflows size_t. */
static size_t block_bytes(size_t n, size_t size) {
  if (n == 0) n = 1;
  if (size == 0) size = 1;
  return n > SIZE_MAX / size ? 0 : n * size;
}

void *ps_rows_calloc(size_t n, size_t size) {
  const size_t bytes = block_bytes(n, size);
  if (!bytes) return NULL;
  /* A large calloc comes from a fresh mmap that glibc does not clear (the
   * kernel's pages are zero): the advice lands before the first touch. */
  void *p = calloc(1, bytes);
  ps_rows_advise(p, bytes);
  return p;
}

void *ps_rows_malloc(size_t n, size_t size) {
  const size_t bytes = block_bytes(n, size);
  if (!bytes) return NULL;
  void *p = malloc(bytes);
  ps_rows_advise(p, bytes);
  return p;
}
