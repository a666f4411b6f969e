/* test_xsum.c - the exact accumulator (reduce.h).
 *
 * Without arguments: self-checks at any rank count (order and split
 * independence, the MPI reduction, normalization headroom, specials).
 * With --sum: reads cases from stdin, one hex float ("%a", strtod syntax) per
 * line, a blank line ending each case; rank r adds the terms i with
 * i % size == r (any split must do), the ranks reduce, and rank 0 prints each
 * sum as %a on its own line. tests/oracle/check_xsum.py compares them with
 * Python's exact Fraction arithmetic.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "popseg/reduce.h"
#include "popseg/rng.h"

static int sum_mode(void) {
  int rank, size;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  /* mpirun gives stdin to rank 0 only: it reads everything and broadcasts. */
  char *text = NULL;
  long len = 0, cap = 0;
  if (rank == 0) {
    int c;
    while ((c = getchar()) != EOF) {
      if (len + 2 > cap) {
        cap = cap ? 2 * cap : 1 << 20;
        text = realloc(text, (size_t)cap);
        if (!text) MPI_Abort(MPI_COMM_WORLD, 1);
      }
      text[len++] = (char)c;
    }
  }
  MPI_Bcast(&len, 1, MPI_LONG, 0, MPI_COMM_WORLD);
  if (rank != 0) text = malloc((size_t)len + 2);
  if (!text) text = malloc(2);
  MPI_Bcast(text, (int)len, MPI_CHAR, 0, MPI_COMM_WORLD);
  text[len] = '\0';
  ps_xsum_t acc;
  int64_t i = 0;
  int open = 0, ok = 1;
  ps_xsum_clear(&acc, 1);
  for (char *p = text;;) {
    char *nl = strchr(p, '\n');
    int end = nl == NULL;
    if (end || nl == p) {
      /* A blank line (or the end) closes the case. */
      if (open || !end) {
        if (ps_xsum_reduce(&acc, 1, NULL, 0, MPI_COMM_WORLD) != PS_OK) ok = 0;
        if (rank == 0) printf("%a\n", ps_xsum_value(&acc));
        ps_xsum_clear(&acc, 1);
        i = 0;
        open = 0;
      }
      if (end) break;
      p = nl + 1;
      continue;
    }
    double v = strtod(p, NULL);
    if (i++ % size == rank) ps_xsum_add(&acc, v);
    /* Headroom: normalize well before PS_XSUM_MAX_ADDS (cases are small). */
    if (i % 100000 == 0) ps_xsum_normalize(&acc, 1);
    open = 1;
    p = nl + 1;
  }
  free(text);
  fflush(stdout);
  MPI_Finalize();
  return ok ? 0 : 1;
}

static double rnd_value(uint64_t seed, uint64_t i) {
  /* Signed values over about 1e-300..1e300. */
  double u = ps_rng_uniform(seed, 1, i), e = ps_rng_uniform(seed, 2, i);
  double v = ldexp(0.5 + u, (int)(e * 1990.0) - 995);
  return ps_rng_uniform(seed, 3, i) < 0.5 ? -v : v;
}

int main(int argc, char **argv) {
  MPI_Init(&argc, &argv);
  if (argc > 1 && strcmp(argv[1], "--sum") == 0) return sum_mode();
  t_init_();
  int rank, size;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  enum { N = 20000 };
  static double v[N];
  for (int i = 0; i < N; i++) v[i] = rnd_value(7, (uint64_t)i);

  /* Forward, backward, strided and split into 7 partial accumulators summed
   * together: the same bits. */
  {
    ps_xsum_t a, b, c, parts[7], total;
    ps_xsum_clear(&a, 1);
    ps_xsum_clear(&b, 1);
    ps_xsum_clear(&c, 1);
    ps_xsum_clear(parts, 7);
    ps_xsum_clear(&total, 1);
    for (int i = 0; i < N; i++) ps_xsum_add(&a, v[i]);
    for (int i = N - 1; i >= 0; i--) ps_xsum_add(&b, v[i]);
    for (int s = 0; s < 13; s++)
      for (int i = s; i < N; i += 13) ps_xsum_add(&c, v[i]);
    for (int i = 0; i < N; i++) ps_xsum_add(&parts[(i * 31) % 7], v[i]);
    ps_xsum_normalize(parts, 7);
    for (int p = 0; p < 7; p++)
      for (int l = 0; l < PS_XSUM_LIMBS; l++) total.limb[l] += parts[p].limb[l];
    double va = ps_xsum_value(&a), vb = ps_xsum_value(&b), vc = ps_xsum_value(&c),
           vt = ps_xsum_value(&total);
    T_CHECK(memcmp(&va, &vb, 8) == 0 && memcmp(&va, &vc, 8) == 0 && memcmp(&va, &vt, 8) == 0,
            "the same bits in any order and any split (%d terms over 1e-300..1e300): %a", N, va);
  }
  /* The reduction: rank r holds every size-th term; the result equals the
   * one-accumulator sum on every rank. */
  {
    ps_xsum_t a, mine;
    int64_t extra[2] = {rank, 1};
    ps_xsum_clear(&a, 1);
    ps_xsum_clear(&mine, 1);
    for (int i = 0; i < N; i++) {
      ps_xsum_add(&a, v[i]);
      if (i % size == rank) ps_xsum_add(&mine, v[i]);
    }
    int ok = ps_xsum_reduce(&mine, 1, extra, 2, MPI_COMM_WORLD) == PS_OK;
    double x = ps_xsum_value(&a), y = ps_xsum_value(&mine);
    T_CHECK(ok && memcmp(&x, &y, 8) == 0 && extra[0] == (int64_t)size * (size - 1) / 2 &&
                extra[1] == size,
            "reduced over the ranks = summed on one, with the integer extras: %a", y);
    double in[3] = {v[rank], 1.0 / 3.0, rank == 0 ? 1e300 : -1e300 / (size > 1 ? size - 1 : 1)};
    double out[3];
    ok = ps_reduce_sum_exact(in, 3, out, MPI_COMM_WORLD) == PS_OK;
    ps_xsum_t r0;
    ps_xsum_clear(&r0, 1);
    for (int q = 0; q < size; q++) ps_xsum_add(&r0, v[q]);
    double want0 = ps_xsum_value(&r0);
    T_CHECK(ok && memcmp(&out[0], &want0, 8) == 0, "ps_reduce_sum_exact: one term per rank");
  }
  /* Partial sums beyond the double range cancel exactly. */
  {
    ps_xsum_t a;
    ps_xsum_clear(&a, 1);
    for (int i = 0; i < 1000; i++) ps_xsum_add(&a, 0x1.fffffffffffffp+1023);
    for (int i = 0; i < 1000; i++) ps_xsum_add(&a, -0x1.fffffffffffffp+1023);
    ps_xsum_add(&a, 0x1.fffffffffffffp+1023);
    double x = ps_xsum_value(&a);
    T_CHECK(x == 0x1.fffffffffffffp+1023,
            "1000 x DBL_MAX - 1000 x DBL_MAX + DBL_MAX = DBL_MAX (a float sum gives inf or nan)");
    ps_xsum_clear(&a, 1);
    ps_xsum_add(&a, 0x1.fffffffffffffp+1023);
    ps_xsum_add(&a, 0x1.fffffffffffffp+1023);
    T_CHECK(isinf(ps_xsum_value(&a)) && ps_xsum_value(&a) > 0, "DBL_MAX + DBL_MAX rounds to +inf");
  }
  /* Specials. */
  {
    ps_xsum_t a;
    ps_xsum_clear(&a, 1);
    ps_xsum_add(&a, 1.0);
    ps_xsum_add(&a, INFINITY);
    int pinf = ps_xsum_value(&a) == INFINITY;
    ps_xsum_add(&a, -INFINITY);
    int both = isnan(ps_xsum_value(&a));
    ps_xsum_clear(&a, 1);
    ps_xsum_add(&a, NAN);
    ps_xsum_add(&a, 2.0);
    int nan = isnan(ps_xsum_value(&a));
    ps_xsum_clear(&a, 1);
    ps_xsum_add(&a, -0.0);
    double z = ps_xsum_value(&a);
    T_CHECK(pinf && both && nan && z == 0.0 && !signbit(z),
            "specials: +inf, inf - inf = nan, nan, and a zero sum is +0.0");
  }
  /* Group block sums (ps_xsum_group_blocks: AVX-512 columns where the
   * processor has them) against the plain loop: each block's rows added in
   * row order into their group's partials, each partial added exactly. Row
   * offsets that start and end mid-block, 1-20 columns, with and without
   * groups: the same bits. */
  {
    enum { R = 1500, DM = 20, KG = 5 };
    static double x[R * DM], part[KG * DM], ref_part[KG * DM];
    static int32_t grp[R], touched[KG];
    static ps_xsum_t acc[KG * DM], ref[KG * DM];
    const int64_t dims[] = {1, 7, 8, 9, 16, 17, 20}, offs[] = {0, 300, 511, 1024};
    int same = 1, cases = 0;
    for (int i = 0; i < R * DM; i++) x[i] = rnd_value(11, (uint64_t)i);
    for (int i = 0; i < R; i++) grp[i] = (int32_t)((i * 7 + i / 3) % KG);
    for (size_t a = 0; a < sizeof dims / sizeof *dims; a++)
      for (size_t b = 0; b < sizeof offs / sizeof *offs; b++)
        for (int grouped = 0; grouped < 2; grouped++) {
          const int64_t d = dims[a], off = offs[b], kg = grouped ? KG : 1, n = R - 37;
          memset(part, 0, sizeof part);
          ps_xsum_clear(acc, kg * d);
          ps_xsum_clear(ref, kg * d);
          ps_xsum_group_blocks(x, off, n, d, grouped ? grp : NULL, kg, acc, part, touched);
          int64_t i0, i1;
          for (int64_t from = 0; ps_row_blocks(off, n, from, &i0, &i1); from = i1) {
            memset(ref_part, 0, sizeof ref_part);
            for (int64_t i = i0; i < i1; i++)
              for (int64_t j = 0; j < d; j++)
                ref_part[(grouped ? grp[i] : 0) * d + j] += x[i * d + j];
            for (int64_t q = 0; q < kg * d; q++) ps_xsum_add(&ref[q], ref_part[q]);
          }
          double got[KG * DM], want[KG * DM];
          ps_xsum_values(acc, kg * d, got);
          ps_xsum_values(ref, kg * d, want);
          same &= memcmp(got, want, (size_t)(kg * d) * sizeof *got) == 0;
          cases++;
        }
    T_CHECK(same, "group block sums: the plain loop's bits (%d cases, 1-20 columns)", cases);
  }
  MPI_Finalize();
  return T_FINISH();
}
