/* reduce.h - every floating-point reduction across ranks goes through here.
 *
 * Sums are exact: a ps_xsum_t holds a sum of doubles as a fixed-point integer
 * (every double is a multiple of 2^-1074) in 32-bit digits kept in int64
 * limbs, so adding is exact and associative, ranks combine their sums with
 * an integer MPI_SUM, and the result is rounded once, correctly (to nearest,
 * ties to even). Whatever the rank count or reduction tree, the same terms
 * give the same bits. A stage sums the rows of each fixed block of global
 * rows in row order (ps_row_blocks), adds the block's partial sums to its
 * accumulators, and reduces them once: the blocks do not move with the rank
 * count, so neither do the results.
 *
 * Counts are int64_t and split into chunks below INT_MAX, so large buffers
 * are safe. The ps_reduce_* and ps_xsum_reduce functions are collective over
 * comm and work in place.
 */
#ifndef POPSEG_REDUCE_H
#define POPSEG_REDUCE_H

#include <mpi.h>
#include <stdint.h>
#include <string.h>

#include "popseg/error.h"

/* ---------------------------------------------------------------- exact sums */

#ifndef PS_SUMS_FLOAT
/* Digits: bit 0 of limb 0 weighs 2^-1074 (the least subnormal); the largest
 * double's top bit is bit 2097, and 2^63 terms add at most 63 bits: 68
 * digits of 32 bits. Then the counts of +inf, -inf and NaN terms. */
#define PS_XSUM_DIGITS 68
#define PS_XSUM_LIMBS 72 /* digits, 3 special counts, 1 spare */
typedef struct {
  int64_t limb[PS_XSUM_LIMBS];
} ps_xsum_t;
/* Each digit has 31 bits of headroom: an accumulator takes at most
 * PS_XSUM_MAX_ADDS ps_xsum_add calls between ps_xsum_normalize calls. */
#define PS_XSUM_MAX_ADDS ((int64_t)1 << 30)
#define PS_SUMS_MODE "exact"
#else
/* The benchmark build (make bench; never installed): the same blocks and
 * call sites, but the accumulators are plain doubles summed in whatever
 * order the ranks and MPI give, so `make bench` can measure what the exact
 * sums cost. Its results are not reproducible across rank counts. */
typedef struct {
  double f;
} ps_xsum_t;
#define PS_XSUM_MAX_ADDS ((int64_t)1 << 62)
#define PS_SUMS_MODE "float"
#endif

void ps_xsum_clear(ps_xsum_t *a, int64_t n);
#ifndef PS_SUMS_FLOAT
/* Not collective. a += v, exactly (v may be subnormal, infinite or NaN). */
static inline void ps_xsum_add(ps_xsum_t *a, double v) {
  union {
    double d;
    uint64_t u;
  } b = {v};
  const int ex = (int)(b.u >> 52) & 0x7ff;
  uint64_t m = b.u & (((uint64_t)1 << 52) - 1);
  if (__builtin_expect(ex == 0x7ff, 0)) {
    a->limb[PS_XSUM_DIGITS + (m ? 2 : (b.u >> 63) ? 1 : 0)] += 1;
    return;
  }
  if (ex) m |= (uint64_t)1 << 52;
  /* v = +-m 2^(p - 1074): the bits of m start at bit p of the sum. */
  const int p = ex ? ex - 1 : 0, q = p >> 5;
  const unsigned __int128 w = (unsigned __int128)m << (p & 31);
  /* Branch-free sign (signs of data are unpredictable): (d ^ s) - s is d or -d. */
  const int64_t s = -(int64_t)(b.u >> 63);
  a->limb[q] += ((int64_t)(uint32_t)w ^ s) - s;
  a->limb[q + 1] += ((int64_t)(uint32_t)(w >> 32) ^ s) - s;
  a->limb[q + 2] += ((int64_t)(uint32_t)(w >> 64) ^ s) - s;
}
#else
static inline void ps_xsum_add(ps_xsum_t *a, double v) {
  a->f += v;
}
#endif
/* Not collective. a[j] += v[j] for j < n. */
void ps_xsum_add_n(ps_xsum_t *a, const double *v, int64_t n);
/* Not collective. Carry the digits (each to [0, 2^32), the top one signed):
 * the same number, with the headroom back. */
void ps_xsum_normalize(ps_xsum_t *a, int64_t n);
/* Not collective. The sum correctly rounded to a double (+0.0 for zero;
 * +-inf beyond the range, or for infinite terms; NaN for a NaN term or
 * infinities of both signs). */
double ps_xsum_value(const ps_xsum_t *a);
void ps_xsum_values(const ps_xsum_t *a, int64_t n, double *out);
/* Collective. Every rank's a[0..n) becomes the sum over all ranks (exact),
 * and extra[0..n_extra) (counts: may be NULL) the integer sums, in one
 * reduction. */
ps_err_t ps_xsum_reduce(ps_xsum_t *a, int64_t n, int64_t *extra, int64_t n_extra, MPI_Comm comm);
/* Collective. out[0..n) = the sum over all ranks of a[0..n) (a is left
 * normalized; out must not overlap it) and extra[0..n_extra) the integer
 * sums, in one reduction. */
ps_err_t ps_xsum_reduce_to(ps_xsum_t *a, ps_xsum_t *out, int64_t n, int64_t *extra, int64_t n_extra,
                           MPI_Comm comm);
/* Collective. prefix[0..n) = the exact sum of a[0..n) over the ranks before
 * this one (zero on rank 0). */
ps_err_t ps_xsum_exscan(ps_xsum_t *a, ps_xsum_t *prefix, int64_t n, MPI_Comm comm);
/* Collective. out[j] = sum over ranks of v[j], exactly, rounded once: the
 * same bits in any order and at any rank count (for one term per rank, e.g.
 * a rank's block-summed partial). */
ps_err_t ps_reduce_sum_exact(const double *v, int64_t n, double *out, MPI_Comm comm);

/* ------------------------------------------------------ fixed row blocks */

/* Rows of the global table are summed in blocks of PS_ROW_BLOCK global rows
 * (the last one shorter); the rows are distributed in whole blocks
 * (ps_block_range), so a block is never split between ranks. */
#ifndef PS_ROW_BLOCK
#define PS_ROW_BLOCK 512
#endif
/* Not collective. The local rows [*i0, *i1) of the next block of global rows
 * after local row `from` (from = 0 first): 0 when no rows are left. Works for
 * any distribution; the block boundaries are global. */
static inline int ps_row_blocks(int64_t row_offset, int64_t n_local, int64_t from, int64_t *i0,
                                int64_t *i1) {
  if (from >= n_local) return 0;
  const int64_t g = row_offset + from, end = (g / PS_ROW_BLOCK + 1) * PS_ROW_BLOCK - row_offset;
  *i0 = from;
  *i1 = end < n_local ? end : n_local;
  return 1;
}

/* The windows' size: small enough to bound what a pass holds beside the
 * slice, large enough for whole-block reads and writes. */
#define PS_ROW_WINDOW_BYTES ((int64_t)8 << 20)
/* Not collective. Windows of whole blocks, for the passes that hold a part
 * of a slice at a time (the projection giving the rows back, the features
 * read again: pca.h, table.h). ps_row_window_rows: about `bytes` of rows of
 * d doubles, as whole blocks (at least one). ps_row_window: window w's local
 * rows [*i0, *i1), empty past the slice; every window ends on a global block
 * boundary (or the slice's end), so the blocks inside the windows are
 * ps_row_blocks' over the whole slice. ps_row_window_count: how many. */
static inline int64_t ps_row_window_rows(int64_t bytes, int64_t d) {
  const int64_t b = bytes / ((d > 0 ? d : 1) * 8) / PS_ROW_BLOCK;
  return (b > 0 ? b : 1) * PS_ROW_BLOCK;
}
/* Where the first window ends: win rows past the start of the global block
 * that holds the slice's first row. */
static inline int64_t ps_row_window_end0(int64_t row_offset, int64_t win) {
  return row_offset / PS_ROW_BLOCK * PS_ROW_BLOCK + win - row_offset;
}
static inline void ps_row_window(int64_t row_offset, int64_t n_local, int64_t win, int64_t w,
                                 int64_t *i0, int64_t *i1) {
  const int64_t e0 = ps_row_window_end0(row_offset, win);
  const int64_t a = w == 0 ? 0 : e0 + (w - 1) * win, b = e0 + w * win;
  *i0 = a < n_local ? a : n_local;
  *i1 = b < n_local ? b : n_local;
}
static inline int64_t ps_row_window_count(int64_t row_offset, int64_t n_local, int64_t win) {
  const int64_t e0 = ps_row_window_end0(row_offset, win);
  return n_local <= 0 ? 0 : n_local <= e0 ? 1 : 1 + (n_local - e0 + win - 1) / win;
}

/* Not collective. For each global block of the local rows x [n_local][d]
 * (global offset row_offset), the rows' sums by group, in row order, added
 * exactly: acc [k][d] += block partials (group NULL: every row is group 0).
 * part [k][d] must be zero and is left zero; touched [k] is scratch. */
void ps_xsum_group_blocks(const double *x, int64_t row_offset, int64_t n_local, int64_t d,
                          const int32_t *group, int64_t k, ps_xsum_t *acc, double *part,
                          int32_t *touched);
/* Not collective. acc += the block partials of v [n_local] (one per global block). */
void ps_xsum_add_blocks(const double *v, int64_t row_offset, int64_t n_local, ps_xsum_t *acc);

/* ---------------------------------------------------------- plain reductions */

ps_err_t ps_reduce_sum(double *buf, int64_t count, MPI_Comm comm);
ps_err_t ps_reduce_min(double *buf, int64_t count, MPI_Comm comm);
ps_err_t ps_reduce_max(double *buf, int64_t count, MPI_Comm comm);
ps_err_t ps_reduce_sum_i64(int64_t *buf, int64_t count, MPI_Comm comm);
ps_err_t ps_reduce_max_i64(int64_t *buf, int64_t count, MPI_Comm comm);
/* Exclusive prefix sum of one double over ranks (rank 0 gets 0). */
ps_err_t ps_reduce_exscan_sum(double local, double *prefix, MPI_Comm comm);
/* Global (max value, owning rank) pair: ties go to the lowest rank. */
ps_err_t ps_reduce_maxloc(double *value, int *owner, MPI_Comm comm);
/* Broadcast a buffer of doubles of any length from root. */
ps_err_t ps_bcast_double(double *buf, int64_t count, int root, MPI_Comm comm);

#endif
