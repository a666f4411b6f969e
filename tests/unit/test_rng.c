/* test_rng.c - the counter-based generator: determinism, range, moments, streams. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>

#include "check.h"
#include "popseg/rng.h"

#define N_DRAWS 1000000

int main(int argc, char **argv) {
  MPI_Init(&argc, &argv);
  T_INIT();

  /* Determinism: a pure function of (seed, stream, counter). */
  int same = 1;
  for (uint64_t c = 0; c < 1000; c++) {
    same &= ps_rng_u64(42, 7, c) == ps_rng_u64(42, 7, c);
    same &= ps_rng_uniform(42, 7, c) == ps_rng_uniform(42, 7, c);
  }
  /* in any order: evaluate backwards and compare with a forward pass */
  double fwd[100], bwd[100];
  for (int c = 0; c < 100; c++) fwd[c] = ps_rng_uniform(3, 1, (uint64_t)c);
  for (int c = 99; c >= 0; c--) bwd[c] = ps_rng_uniform(3, 1, (uint64_t)c);
  for (int c = 0; c < 100; c++) same &= fwd[c] == bwd[c];
  T_CHECK(same, "draws are a pure function of (seed, stream, counter)");

  /* Range, mean, variance, bins and lag-1 correlation over 1e6 draws. */
  int in_range = 1;
  double sum = 0, sumsq = 0, lag = 0, prev = 0;
  long bins[16] = {0};
  int64_t ones_low = 0, ones_high = 0;
  for (uint64_t c = 0; c < N_DRAWS; c++) {
    double u = ps_rng_uniform(2024, 5, c);
    in_range &= u >= 0.0 && u < 1.0;
    sum += u;
    sumsq += u * u;
    if (c > 0) lag += (u - 0.5) * (prev - 0.5);
    prev = u;
    bins[(int)(u * 16)]++;
    uint64_t r = ps_rng_u64(2024, 6, c);
    ones_low += (int64_t)(r & 1);
    ones_high += (int64_t)(r >> 63);
  }
  double mean = sum / N_DRAWS, var = sumsq / N_DRAWS - mean * mean;
  double corr = (lag / (N_DRAWS - 1)) / (1.0 / 12.0);
  double chi2 = 0, expect = N_DRAWS / 16.0;
  for (int b = 0; b < 16; b++) chi2 += (bins[b] - expect) * (bins[b] - expect) / expect;
  T_CHECK(in_range, "uniform draws lie in [0, 1)");
  /* standard error of the mean: sqrt(1/12/1e6) = 2.9e-4; allow ~7 sigma */
  T_CHECK(fabs(mean - 0.5) < 2e-3, "mean %.6f close to 1/2", mean);
  /* standard error of the variance: ~8.9e-5 */
  T_CHECK(fabs(var - 1.0 / 12.0) < 1e-3, "variance %.6f close to 1/12", var);
  /* chi-square with 15 degrees of freedom: P(chi2 > 60) < 1e-6 */
  T_CHECK(chi2 < 60.0, "16-bin histogram is flat (chi2 = %.2f, 15 dof)", chi2);
  T_CHECK(fabs(corr) < 5e-3, "successive counters are uncorrelated (r = %.5f)", corr);
  T_CHECK(fabs((double)ones_low / N_DRAWS - 0.5) < 3e-3 &&
              fabs((double)ones_high / N_DRAWS - 0.5) < 3e-3,
          "lowest and highest u64 bits balanced (%.4f, %.4f)", (double)ones_low / N_DRAWS,
          (double)ones_high / N_DRAWS);

  /* Different streams, seeds and counters give different numbers. */
  int diff_stream = 0, diff_seed = 0, equal_pairs = 0;
  for (uint64_t c = 0; c < 10000; c++) {
    diff_stream += ps_rng_u64(1, 0, c) != ps_rng_u64(1, 1, c);
    diff_seed += ps_rng_u64(0, 0, c) != ps_rng_u64(1, 0, c);
    /* the roles of stream and counter must not be interchangeable */
    equal_pairs += ps_rng_u64(9, c, c + 1) == ps_rng_u64(9, c + 1, c);
  }
  T_CHECK(diff_stream == 10000, "streams 0 and 1 differ at every counter (%d of 10000)",
          diff_stream);
  T_CHECK(diff_seed == 10000, "seeds 0 and 1 differ at every counter (%d of 10000)", diff_seed);
  T_CHECK(equal_pairs == 0, "(stream, counter) is not symmetric");
  /* streams are not shifted copies of each other */
  int shifted = 0;
  for (uint64_t c = 0; c + 1 < 10000; c++)
    shifted += ps_rng_u64(1, 0, c + 1) == ps_rng_u64(1, 1, c);
  T_CHECK(shifted == 0, "stream 1 is not stream 0 shifted by one counter");
  /* two streams' uniforms are uncorrelated */
  double cross = 0;
  for (uint64_t c = 0; c < 100000; c++)
    cross += (ps_rng_uniform(8, 100, c) - 0.5) * (ps_rng_uniform(8, 101, c) - 0.5);
  cross = cross / 100000 / (1.0 / 12.0);
  T_CHECK(fabs(cross) < 0.02, "streams 100 and 101 are uncorrelated (r = %.5f)", cross);

  int rc = T_FINISH();
  MPI_Finalize();
  return rc;
}
