/* simd8.h - eight rows in the lanes of AVX-512 registers: the in-register
 * 8 x 8 transpose and the loads around it, shared by the kernels that turn
 * row-major blocks into columns (the nearest-centre search, k-means++'s
 * distance fold, the PCA projection). Internal to src/stages; x86-64 with
 * GCC or Clang only, each function (but the plain-C prefetch) compiled for
 * AVX-512 and inlined into its caller (which must itself be an AVX-512
 * function).
 */
#ifndef POPSEG_STAGES_SIMD8_H
#define POPSEG_STAGES_SIMD8_H

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#include <stdint.h>

/* X(1) X(2) ... X(8), and to X(16): the case lists of the switches that turn
 * a run-time width into the compile-time one a kernel is inlined for. */
#define PS_EACH_1_8(X) X(1) X(2) X(3) X(4) X(5) X(6) X(7) X(8)
#define PS_EACH_1_16(X) PS_EACH_1_8(X) X(9) X(10) X(11) X(12) X(13) X(14) X(15) X(16)

/* t[q] lane r = a[r] lane q: three rounds of shuffles, 24 in all. */
__attribute__((target("avx512f"), always_inline)) static inline void
ps_transpose8(const __m512d a[8], __m512d t[8]) {
  const __m512i lo2 = _mm512_set_epi64(13, 12, 5, 4, 9, 8, 1, 0),
                hi2 = _mm512_set_epi64(15, 14, 7, 6, 11, 10, 3, 2);
  /* t0: columns 0 2 4 6 of rows 0, 1 interleaved; t1: columns 1 3 5 7 */
  const __m512d t0 = _mm512_unpacklo_pd(a[0], a[1]), t1 = _mm512_unpackhi_pd(a[0], a[1]),
                t2 = _mm512_unpacklo_pd(a[2], a[3]), t3 = _mm512_unpackhi_pd(a[2], a[3]),
                t4 = _mm512_unpacklo_pd(a[4], a[5]), t5 = _mm512_unpackhi_pd(a[4], a[5]),
                t6 = _mm512_unpacklo_pd(a[6], a[7]), t7 = _mm512_unpackhi_pd(a[6], a[7]);
  /* u0: columns 0, 4 of rows 0-3; u1: 2, 6; u2: 1, 5; u3: 3, 7 (u4-u7: rows 4-7) */
  const __m512d u0 = _mm512_permutex2var_pd(t0, lo2, t2), u1 = _mm512_permutex2var_pd(t0, hi2, t2),
                u2 = _mm512_permutex2var_pd(t1, lo2, t3), u3 = _mm512_permutex2var_pd(t1, hi2, t3),
                u4 = _mm512_permutex2var_pd(t4, lo2, t6), u5 = _mm512_permutex2var_pd(t4, hi2, t6),
                u6 = _mm512_permutex2var_pd(t5, lo2, t7), u7 = _mm512_permutex2var_pd(t5, hi2, t7);
  t[0] = _mm512_shuffle_f64x2(u0, u4, 0x44);
  t[1] = _mm512_shuffle_f64x2(u2, u6, 0x44);
  t[2] = _mm512_shuffle_f64x2(u1, u5, 0x44);
  t[3] = _mm512_shuffle_f64x2(u3, u7, 0x44);
  t[4] = _mm512_shuffle_f64x2(u0, u4, 0xEE);
  t[5] = _mm512_shuffle_f64x2(u2, u6, 0xEE);
  t[6] = _mm512_shuffle_f64x2(u1, u5, 0xEE);
  t[7] = _mm512_shuffle_f64x2(u3, u7, 0xEE);
}

/* Columns c0 .. c0 + 7 of eight rows, one register per column (t[q] lane r:
 * row r, column c0 + q): a load per row, then the transpose. whole: every
 * load may read a whole register (past its row, into the next, inside the
 * array), else the nc columns left are read and the rest masked off; masked
 * loads cost more. */
__attribute__((target("avx512f"), always_inline)) static inline void
ps_block8(const double *const r[8], int64_t c0, int nc, int whole, __m512d t[8]) {
  const __mmask8 m = whole ? (__mmask8)0xff : (__mmask8)((1u << nc) - 1);
  __m512d a[8];
#pragma GCC unroll 8
  for (int q = 0; q < 8; q++) a[q] = _mm512_maskz_loadu_pd(m, r[q] + c0);
  ps_transpose8(a, t);
}

/* The columns of eight rows of DIM columns, one register per column (lane
 * q: row q): ps_block8 for each block of eight columns. For contiguous rows
 * this runs at twice the speed of gathers. Only xt[0..DIM) is written (the
 * shuffles of the others are dead code once inlined). */
__attribute__((target("avx512f"), always_inline)) static inline void
ps_columns8(const double *const r[8], __m512d *xt, const int whole, const int DIM) {
#pragma GCC unroll 8
  for (int c0 = 0; c0 < DIM; c0 += 8) {
    const int nc = DIM - c0 < 8 ? DIM - c0 : 8;
    __m512d t[8];
    ps_block8(r, c0, nc, whole, t);
#pragma GCC unroll 8
    for (int q = 0; q < nc; q++) xt[c0 + q] = t[q];
  }
}

/* Fetch the eight rows of DIM columns that start at row i + 64 of x (DIM
 * cache lines): loads that feed a transpose do not train this processor's
 * prefetcher, and without the fetch the search ran at 10-26 ns a row instead
 * of 3.9. A prefetch past the array is harmless (it never faults); the
 * address is computed as an integer, since a pointer past the array would
 * be undefined. (Plain C: no target needed.) */
__attribute__((always_inline)) static inline void ps_fetch_ahead8(const double *x, int64_t i,
                                                                  int64_t dim) {
  const uintptr_t pf = (uintptr_t)x + (uintptr_t)((i + 64) * dim) * sizeof *x;
  for (int64_t q = 0; q < dim; q++) __builtin_prefetch((const void *)(pf + (uintptr_t)(64 * q)));
}
#endif

#endif
