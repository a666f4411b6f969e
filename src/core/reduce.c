/* reduce.c - cross-rank floating-point reductions, chunked for large counts,
 * and the exact accumulator (reduce.h). */
#include "popseg/reduce.h"

#include "popseg/cpus.h"

#include <limits.h>
#include <math.h>
#include <stdlib.h>

/* Below INT_MAX with margin; a multiple of 8 keeps chunks aligned. */
#define PS_CHUNK ((int64_t)1 << 30)

static ps_err_t allreduce(void *buf, int64_t count, MPI_Datatype type, size_t elem, MPI_Op op,
                          MPI_Comm comm) {
  ps_err_t err = PS_OK;
  char *p = buf;
  /* Every rank must make the same number of calls: count is the same everywhere. */
  for (int64_t done = 0; done < count; done += PS_CHUNK) {
    int64_t c = count - done < PS_CHUNK ? count - done : PS_CHUNK;
    if (ps_fault("mpi-count")) c = -1; /* tests: make MPI itself return an error */
    PS_CALL_MPI(MPI_Allreduce(MPI_IN_PLACE, p + (size_t)done * elem, (int)c, type, op, comm));
  }
cleanup:
  return err;
}

ps_err_t ps_reduce_sum(double *buf, int64_t count, MPI_Comm comm) {
  return allreduce(buf, count, MPI_DOUBLE, sizeof(double), MPI_SUM, comm);
}
ps_err_t ps_reduce_min(double *buf, int64_t count, MPI_Comm comm) {
  return allreduce(buf, count, MPI_DOUBLE, sizeof(double), MPI_MIN, comm);
}
ps_err_t ps_reduce_max(double *buf, int64_t count, MPI_Comm comm) {
  return allreduce(buf, count, MPI_DOUBLE, sizeof(double), MPI_MAX, comm);
}
ps_err_t ps_reduce_sum_i64(int64_t *buf, int64_t count, MPI_Comm comm) {
  return allreduce(buf, count, MPI_INT64_T, sizeof(int64_t), MPI_SUM, comm);
}
ps_err_t ps_reduce_max_i64(int64_t *buf, int64_t count, MPI_Comm comm) {
  return allreduce(buf, count, MPI_INT64_T, sizeof(int64_t), MPI_MAX, comm);
}

ps_err_t ps_reduce_exscan_sum(double local, double *prefix, MPI_Comm comm) {
  ps_err_t err = PS_OK;
  int rank;
  double out = 0.0;
  MPI_Comm_rank(comm, &rank);
  PS_CALL_MPI(MPI_Exscan(&local, &out, 1, MPI_DOUBLE, MPI_SUM, comm));
  *prefix = rank == 0 ? 0.0 : out; /* MPI leaves rank 0's result undefined */
cleanup:
  return err;
}

ps_err_t ps_reduce_maxloc(double *value, int *owner, MPI_Comm comm) {
  ps_err_t err = PS_OK;
  int rank;
  MPI_Comm_rank(comm, &rank);
  struct {
    double v;
    int r;
  } in = {*value, rank}, out;
  /* MPI_MAXLOC breaks ties by the lowest index, which is what we want. */
  PS_CALL_MPI(MPI_Allreduce(&in, &out, 1, MPI_DOUBLE_INT, MPI_MAXLOC, comm));
  *value = out.v;
  *owner = out.r;
cleanup:
  return err;
}

ps_err_t ps_bcast_double(double *buf, int64_t count, int root, MPI_Comm comm) {
  ps_err_t err = PS_OK;
  for (int64_t done = 0; done < count; done += PS_CHUNK) {
    int64_t c = count - done < PS_CHUNK ? count - done : PS_CHUNK;
    PS_CALL_MPI(MPI_Bcast(buf + done, (int)c, MPI_DOUBLE, root, comm));
  }
cleanup:
  return err;
}

/* ------------------------------------------------------------ exact sums */

void ps_xsum_clear(ps_xsum_t *a, int64_t n) {
  memset(a, 0, (size_t)n * sizeof *a);
}

void ps_xsum_add_n(ps_xsum_t *a, const double *v, int64_t n) {
  for (int64_t j = 0; j < n; j++) ps_xsum_add(a + j, v[j]);
}

#ifndef PS_SUMS_FLOAT
void ps_xsum_normalize(ps_xsum_t *a, int64_t n) {
  for (int64_t j = 0; j < n; j++) {
    int64_t *l = a[j].limb, carry = 0;
    for (int i = 0; i < PS_XSUM_DIGITS - 1; i++) {
      int64_t v = l[i] + carry;
      carry = v >> 32; /* arithmetic: floor division by 2^32 */
      l[i] = v & 0xffffffffLL;
    }
    l[PS_XSUM_DIGITS - 1] += carry;
  }
}

/* 64 bits of the magnitude mag (normalized: digits in [0, 2^32) but the top
 * one, which may be wider) starting at bit lo >= 0. */
static uint64_t bits64(const int64_t *mag, int lo) {
  uint64_t r = 0;
  for (int b = 0; b < 64; b += 32) {
    const int pos = lo + b, q = pos >> 5, s = pos & 31;
    unsigned __int128 w = 0;
    for (int t = 2; t >= 0; t--)
      if (q + t < PS_XSUM_DIGITS) w += (unsigned __int128)(uint64_t)mag[q + t] << (32 * t);
    r |= (uint64_t)(uint32_t)(w >> s) << b;
  }
  return r;
}

double ps_xsum_value(const ps_xsum_t *a) {
  const int64_t pinf = a->limb[PS_XSUM_DIGITS], ninf = a->limb[PS_XSUM_DIGITS + 1],
                nan = a->limb[PS_XSUM_DIGITS + 2];
  if (nan > 0 || (pinf > 0 && ninf > 0)) return NAN;
  if (pinf > 0) return INFINITY;
  if (ninf > 0) return -INFINITY;
  ps_xsum_t t = *a;
  ps_xsum_normalize(&t, 1);
  int64_t *mag = t.limb;
  int neg = mag[PS_XSUM_DIGITS - 1] < 0;
  if (neg) {
    /* Two's complement over the digits: -x = ~x + 1, digit by digit. */
    int64_t carry = 1;
    for (int i = 0; i < PS_XSUM_DIGITS; i++) {
      int64_t v = (i < PS_XSUM_DIGITS - 1 ? (~mag[i] & 0xffffffffLL) : -mag[i] - 1) + carry;
      if (i < PS_XSUM_DIGITS - 1) {
        carry = v >> 32;
        mag[i] = v & 0xffffffffLL;
      } else {
        mag[i] = v;
      }
    }
  }
  int h = PS_XSUM_DIGITS - 1;
  while (h >= 0 && mag[h] == 0) h--;
  if (h < 0) return 0.0;
  /* The top digit may exceed 32 bits (carries of many terms): find the top bit. */
  int top = 32 * h + 63 - __builtin_clzll((uint64_t)mag[h]);
  double r;
  if (top < 64) {
    /* The whole integer fits 64 bits: one correctly rounded conversion, then
     * an exact scaling (a subnormal result is below 2^52 and exact). */
    r = ldexp((double)bits64(mag, 0), -1074);
  } else {
    const int lo = top - 63;
    uint64_t m = bits64(mag, lo);
    /* Sticky: any bit below lo makes a tie round up, as it should. */
    int sticky = 0;
    for (int i = 0; i < PS_XSUM_DIGITS && 32 * i < lo && !sticky; i++) {
      uint64_t d = (uint64_t)mag[i];
      int bits_here = lo - 32 * i; /* bits of digit i below lo */
      if (bits_here >= 32)
        sticky = d != 0;
      else
        sticky = (d & (((uint64_t)1 << bits_here) - 1)) != 0;
    }
    m |= (uint64_t)sticky;
    r = ldexp((double)m, lo - 1074);
  }
  return neg ? -r : r;
}

void ps_xsum_values(const ps_xsum_t *a, int64_t n, double *out) {
  for (int64_t j = 0; j < n; j++) out[j] = ps_xsum_value(a + j);
}

ps_err_t ps_xsum_reduce(ps_xsum_t *a, int64_t n, int64_t *extra, int64_t n_extra, MPI_Comm comm) {
  ps_err_t err = PS_OK;
  const int64_t nl = n * PS_XSUM_LIMBS, total = nl + n_extra;
  int64_t *buf = NULL;
  /* Normalized digits are below 2^32: a sum over fewer than 2^31 ranks fits. */
  ps_xsum_normalize(a, n);
  if (n_extra > 0) {
    buf = malloc((size_t)total * sizeof *buf);
    PS_CHECK_ALL(comm, buf != NULL, PS_ERR_MEM, "out of memory for a reduction of %lld values",
                 (long long)total);
    memcpy(buf, a, (size_t)nl * sizeof *buf);
    memcpy(buf + nl, extra, (size_t)n_extra * sizeof *buf);
    PS_TRY(ps_reduce_sum_i64(buf, total, comm));
    memcpy(a, buf, (size_t)nl * sizeof *buf);
    memcpy(extra, buf + nl, (size_t)n_extra * sizeof *buf);
  } else {
    PS_TRY(ps_reduce_sum_i64((int64_t *)a, nl, comm));
  }
  ps_xsum_normalize(a, n);
cleanup:
  free(buf);
  return err;
}

/* An accumulator's MPI shape: its integer limbs (or, below, one double). */
#define XSUM_MPI_COUNT PS_XSUM_LIMBS
#define XSUM_MPI_TYPE MPI_INT64_T
#else
void ps_xsum_normalize(ps_xsum_t *a, int64_t n) {
  (void)a;
  (void)n;
}

double ps_xsum_value(const ps_xsum_t *a) {
  return a->f;
}

void ps_xsum_values(const ps_xsum_t *a, int64_t n, double *out) {
  for (int64_t j = 0; j < n; j++) out[j] = a[j].f;
}

/* One reduction of doubles: the counts travel as doubles (exact below 2^53). */
ps_err_t ps_xsum_reduce(ps_xsum_t *a, int64_t n, int64_t *extra, int64_t n_extra, MPI_Comm comm) {
  ps_err_t err = PS_OK;
  const int64_t total = n + n_extra;
  double *buf = malloc((size_t)(total > 0 ? total : 1) * sizeof *buf);
  PS_CHECK_ALL(comm, buf != NULL, PS_ERR_MEM, "out of memory for a reduction of %lld values",
               (long long)total);
  for (int64_t j = 0; j < n; j++) buf[j] = a[j].f;
  for (int64_t j = 0; j < n_extra; j++) buf[n + j] = (double)extra[j];
  PS_TRY(ps_reduce_sum(buf, total, comm));
  for (int64_t j = 0; j < n; j++) a[j].f = buf[j];
  for (int64_t j = 0; j < n_extra; j++) extra[j] = (int64_t)buf[n + j];
cleanup:
  free(buf);
  return err;
}

#define XSUM_MPI_COUNT 1
#define XSUM_MPI_TYPE MPI_DOUBLE
#endif

ps_err_t ps_xsum_exscan(ps_xsum_t *a, ps_xsum_t *prefix, int64_t n, MPI_Comm comm) {
  ps_err_t err = PS_OK;
  int rank;
  MPI_Comm_rank(comm, &rank);
  /* Normalized digits: the integer prefix sum fits as the full sum does. */
  ps_xsum_normalize(a, n);
  PS_CALL_MPI(MPI_Exscan(a, prefix, (int)(n * XSUM_MPI_COUNT), XSUM_MPI_TYPE, MPI_SUM, comm));
  if (rank == 0) ps_xsum_clear(prefix, n);
  ps_xsum_normalize(prefix, n);
cleanup:
  return err;
}

ps_err_t ps_xsum_reduce_to(ps_xsum_t *a, ps_xsum_t *out, int64_t n, int64_t *extra, int64_t n_extra,
                           MPI_Comm comm) {
  ps_xsum_normalize(a, n);
  memcpy(out, a, (size_t)n * sizeof *out);
  return ps_xsum_reduce(out, n, extra, n_extra, comm);
}

ps_err_t ps_reduce_sum_exact(const double *v, int64_t n, double *out, MPI_Comm comm) {
  ps_err_t err = PS_OK;
  ps_xsum_t *a = calloc((size_t)(n > 0 ? n : 1), sizeof *a);
  PS_CHECK_ALL(comm, a != NULL, PS_ERR_MEM, "out of memory for an exact sum of %lld values",
               (long long)n);
  ps_xsum_add_n(a, v, n);
  PS_TRY(ps_xsum_reduce(a, n, NULL, 0, comm));
  ps_xsum_values(a, n, out);
cleanup:
  free(a);
  return err;
}

/* The rows [i0, i1) of x [][d] added in row order into their groups'
 * partials part [][d]: the reference. */
static void group_rows(const double *x, int64_t i0, int64_t i1, int64_t d, const int32_t *group,
                       double *part, int32_t *touched) {
  for (int64_t i = i0; i < i1; i++) {
    const int32_t g = group ? group[i] : 0;
    const double *xi = x + i * d;
    double *pg = part + (int64_t)g * d;
    touched[g] = 1;
    for (int64_t j = 0; j < d; j++) pg[j] += xi[j];
  }
}

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
/* group_rows eight columns per register: each column's add is the
 * reference's (the same two doubles, rows in the same order), so the same
 * bits. The scalar columns were a load, an add and a store each: at 9
 * columns, 7.9 ns a row in k-means' first sums of the 10M default run. */
__attribute__((target("avx512f"))) static void group_rows_avx512(const double *x, int64_t i0,
                                                                 int64_t i1, int64_t d,
                                                                 const int32_t *group, double *part,
                                                                 int32_t *touched) {
  for (int64_t i = i0; i < i1; i++) {
    const int32_t g = group ? group[i] : 0;
    const double *xi = x + i * d;
    double *pg = part + (int64_t)g * d;
    touched[g] = 1;
    int64_t j = 0;
    for (; j + 8 <= d; j += 8)
      _mm512_storeu_pd(pg + j, _mm512_add_pd(_mm512_loadu_pd(pg + j), _mm512_loadu_pd(xi + j)));
    for (; j < d; j++) pg[j] += xi[j];
  }
}
#endif

void ps_xsum_group_blocks(const double *x, int64_t row_offset, int64_t n_local, int64_t d,
                          const int32_t *group, int64_t k, ps_xsum_t *acc, double *part,
                          int32_t *touched) {
  int64_t i0, i1, nblocks = 0;
  for (int64_t g = 0; g < k; g++) touched[g] = 0;
  for (int64_t from = 0; ps_row_blocks(row_offset, n_local, from, &i0, &i1); from = i1) {
#if defined(__x86_64__) && defined(__GNUC__)
    if (d >= 8 && ps_cpu_avx512f())
      group_rows_avx512(x, i0, i1, d, group, part, touched);
    else
#endif
      group_rows(x, i0, i1, d, group, part, touched);
    /* Only the groups present in the block: k may be large, blocks short. */
    for (int64_t g = 0; g < k; g++)
      if (touched[g]) {
        ps_xsum_add_n(acc + g * d, part + g * d, d);
        memset(part + g * d, 0, (size_t)d * sizeof *part);
        touched[g] = 0;
      }
    if (++nblocks % (PS_XSUM_MAX_ADDS / 2) == 0) ps_xsum_normalize(acc, k * d);
  }
}

void ps_xsum_add_blocks(const double *v, int64_t row_offset, int64_t n_local, ps_xsum_t *acc) {
  int64_t i0, i1, nblocks = 0;
  for (int64_t from = 0; ps_row_blocks(row_offset, n_local, from, &i0, &i1); from = i1) {
    double s = 0.0;
    for (int64_t i = i0; i < i1; i++) s += v[i];
    ps_xsum_add(acc, s);
    if (++nblocks % (PS_XSUM_MAX_ADDS / 2) == 0) ps_xsum_normalize(acc, 1);
  }
}
