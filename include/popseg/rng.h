/* rng.h - counter-based random numbers.
 *
 * A draw is a pure function of (seed, stream, counter), so a result cannot
 * depend on how rows are spread across ranks: callers use the global row
 * index or the round number as the counter. Not collective.
 */
#ifndef POPSEG_RNG_H
#define POPSEG_RNG_H

#include <stdint.h>

uint64_t ps_rng_u64(uint64_t seed, uint64_t stream, uint64_t counter);
/* Uniform in [0, 1) with 53 random bits. */
double ps_rng_uniform(uint64_t seed, uint64_t stream, uint64_t counter);

#endif
