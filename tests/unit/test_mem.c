/* test_mem.c - per-row arrays (mem.h): zeroed, sized, NULL on overflow, and
 * advised MADV_HUGEPAGE (the "hg" flag of their mapping in /proc/self/smaps)
 * when large, unless POPSEG_HUGEPAGES=0; given back front to back by
 * ps_rows_discard on whole pages (2 MiB ones with the advice), never past
 * the end asked for; a matrix whose values are released (matrix.h) keeps its
 * shape. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "popseg/matrix.h"
#include "popseg/mem.h"

/* 1 if the mapping holding p has VmFlag hg, 0 if not, -1 if not found. */
static int advised(const void *p) {
  FILE *f = fopen("/proc/self/smaps", "r");
  char line[1024];
  int inside = 0, found = -1;
  if (!f) return -1;
  while (fgets(line, sizeof line, f)) {
    unsigned long lo, hi;
    if (sscanf(line, "%lx-%lx ", &lo, &hi) == 2 && strchr(line, '-') < strchr(line, ' ')) {
      inside = (uintptr_t)p >= lo && (uintptr_t)p < hi;
    } else if (inside && strncmp(line, "VmFlags:", 8) == 0) {
      found = strstr(line, " hg") != NULL;
      break;
    }
  }
  fclose(f);
  return found;
}

int main(int argc, char **argv) {
  MPI_Init(&argc, &argv);
  T_INIT();
  const char *env = getenv("POPSEG_HUGEPAGES");
  const int off = env && strcmp(env, "0") == 0;
  /* The kernel takes the advice when it has transparent huge pages at all
   * (any mode, "never" included, keeps the flag). */
  const int thp = access("/sys/kernel/mm/transparent_hugepage/enabled", F_OK) == 0;

  char *z = ps_rows_calloc(0, 8);
  T_CHECK(z != NULL, "an empty array is still a valid pointer");
  free(z);
  T_CHECK(ps_rows_calloc(SIZE_MAX / 2, 4) == NULL && ps_rows_malloc(SIZE_MAX / 2, 4) == NULL,
          "a size that overflows size_t gives NULL, not a short block");

  const size_t n = (size_t)3 << 21; /* 6 Mi doubles, 48 MiB */
  double *big = ps_rows_calloc(n, sizeof *big);
  int zero = big != NULL;
  for (size_t i = 0; zero && i < n; i += 4093) zero = big[i] == 0.0;
  zero = zero && big[n - 1] == 0.0;
  T_CHECK(zero, "a large ps_rows_calloc block is zeroed");
  int a = big ? advised(big + n / 2) : -1;
  if (off)
    T_CHECK(a == 0, "POPSEG_HUGEPAGES=0: the block is not advised (smaps flag: %d)", a);
  else if (thp)
    T_CHECK(a == 1, "a large block is advised MADV_HUGEPAGE (smaps flag: %d)", a);
  else
    T_CHECK(a == 0, "no THP in this kernel: the block is an ordinary one (smaps flag: %d)", a);
  if (big) {
    for (size_t i = 0; i < n; i++) big[i] = (double)i;
    double s = 0;
    for (size_t i = 0; i < n; i += 1024) s += big[i];
    T_CHECK(s > 0 && big[n - 1] == (double)(n - 1), "the whole block is writable and keeps values");
  }
  free(big);

  /* ps_rows_discard as the releasing projection calls it (pca.c): windows
   * of an odd size consumed front to back, each call from where the last
   * stopped. What it gave back reads as zeros; from the window's end on
   * nothing changes; each stop is on a page boundary (2 MiB with the
   * advice), so at the end less than one such page is left. */
  const long psz = sysconf(_SC_PAGESIZE);
  const uintptr_t unit = off ? (uintptr_t)psz : (uintptr_t)2 << 20;
  const size_t nb = (size_t)24 << 20, step = ((size_t)3 << 20) + 12345;
  unsigned char *blk = ps_rows_malloc(nb, 1);
  T_CHECK(blk != NULL && psz > 0, "a block to give back");
  if (blk && psz > 0) {
    memset(blk, 7, nb);
    size_t given = 0;
    int order = 1, stop = 1, zeros = 1, kept = 1, calls = 0;
    for (size_t to = step;; to += step) {
      if (to > nb) to = nb;
      const size_t r = ps_rows_discard(blk, given, to);
      calls++;
      order = order && r >= given && r <= to;
      stop = stop && (r == given || ((uintptr_t)blk + r) % unit == 0);
      /* The first whole page at or after the last stop, up to this one. */
      const size_t lo =
          (size_t)((((uintptr_t)blk + given + psz - 1) & ~(uintptr_t)(psz - 1)) - (uintptr_t)blk);
      for (size_t i = lo; i < r; i += 4093) zeros = zeros && blk[i] == 0;
      if (r > lo) zeros = zeros && blk[r - 1] == 0;
      for (size_t i = to; i < nb; i += 4093) kept = kept && blk[i] == 7;
      given = r;
      if (to == nb) break;
    }
    T_CHECK(order, "each call stops at or after its start and never past the end asked for");
    T_CHECK(stop, "each call stops on a %s page boundary", off ? "page" : "2 MiB");
    T_CHECK(zeros, "what was given back reads as zeros");
    T_CHECK(kept, "the bytes from each window's end on are untouched");
    T_CHECK(given + unit > nb && calls == (int)((nb + step - 1) / step),
            "at the end less than one page (%zu bytes) is left: %zu of %zu given back",
            (size_t)unit, given, nb);
    T_CHECK(ps_rows_discard(blk, 100, 100) == 100 && ps_rows_discard(NULL, 5, nb) == 5,
            "an empty range or no block gives nothing back and returns its start");
  }
  free(blk);

  int32_t *lab = ps_rows_malloc((size_t)5 << 20, sizeof *lab);
  a = lab ? advised(lab + 1000000) : -1;
  T_CHECK(lab && a == (!off && thp), "ps_rows_malloc advises the same way (smaps flag: %d)", a);
  free(lab);

  int32_t *small = ps_rows_malloc(1000, sizeof *small);
  T_CHECK(small != NULL, "a small block is allocated");
  free(small);

  ps_matrix_t *m = NULL;
  ps_err_t e = ps_matrix_create(1000, 34, 2000, 5000, &m);
  T_CHECK(e == PS_OK && m && m->data, "a matrix to release");
  if (m) {
    ps_matrix_release(m);
    T_CHECK(m->data == NULL && m->n_local == 1000 && m->n_cols == 34 && m->row_offset == 2000 &&
                m->n_global == 5000,
            "a released matrix has no values and keeps its shape");
    ps_matrix_release(m); /* twice: a no-op */
    T_CHECK(m->data == NULL, "releasing twice is a no-op");
  }
  ps_matrix_release(NULL);
  ps_matrix_destroy(&m);
  T_CHECK(m == NULL, "a released matrix is destroyed like any other");
  int rc = T_FINISH();
  MPI_Finalize();
  return rc;
}
