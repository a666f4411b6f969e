/* mem.h - allocations of per-row arrays (a rank's slice of the table, its
 * projection, labels, distances, bounds).
 *
 * Why: a fresh page costs a fault on first touch, and on a virtual machine a
 * fault is expensive (measured on the AMD EPYC VM of bench/results.md: 0.35-0.7
 * GB/s to touch fresh 4 KiB pages, 1.0-1.9 GB/s with 2 MiB pages, 25 GB/s to
 * write them once touched; the read stage of 4M x 34 rows at 2 ranks took
 * 3.57 s without the advice and 0.28 s with it). ps_rows_calloc asks the
 * kernel for transparent huge pages
 * (madvise(MADV_HUGEPAGE), which Debian's default "madvise" THP mode honours)
 * over the whole 2 MiB pages of a large block, before anything touches it: one
 * fault per 2 MiB instead of 512, and 512x fewer TLB entries for the streaming
 * passes. Free with plain free(): the block is an ordinary calloc block.
 * POPSEG_HUGEPAGES=0 in the environment turns the advice off (the bench
 * measures with and without).
 */
#ifndef POPSEG_MEM_H
#define POPSEG_MEM_H

#include <stddef.h>

/* calloc(n ? n : 1, size), with the huge-page advice when the block is at
 * least 4 MiB. NULL when out of memory. */
void *ps_rows_calloc(size_t n, size_t size);

/* malloc(n ? n : 1, size) with the same advice (contents undefined). */
void *ps_rows_malloc(size_t n, size_t size);

/* The advice alone, for a block allocated elsewhere (whole 2 MiB pages inside
 * [p, p + bytes) only; a no-op for small blocks or when turned off). */
void ps_rows_advise(void *p, size_t bytes);

/* Give the whole pages inside [p + from, p + to) back to the system now
 * (madvise(MADV_DONTNEED)): the resident memory drops while the block stays
 * allocated, and those bytes read as zeros afterwards. For a block being
 * consumed front to back before it is freed (the features, as the projection
 * goes: pca.h). With the huge-page advice on, the end stops at a 2 MiB
 * boundary, so no huge page is split (mem.c says what a split costs).
 * Returns the end of what was given back, as an offset from p (from when
 * nothing was): pass it as the next call's from, so a piece left before the
 * boundary goes with the next call. A no-op returning from where the call
 * does not exist. */
size_t ps_rows_discard(void *p, size_t from, size_t to);

#endif
