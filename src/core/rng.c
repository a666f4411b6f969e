/* rng.c - a counter-based generator: three rounds of splitmix64 finalisation. */
#include "popseg/rng.h"

static uint64_t mix(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

uint64_t ps_rng_u64(uint64_t seed, uint64_t stream, uint64_t counter) {
  /* Chain the keys through the mixer so that no two (seed, stream, counter)
   * triples share an input to the final round. */
  uint64_t h = mix(seed + 0x9e3779b97f4a7c15ULL);
  h = mix(h ^ (stream + 0x632be59bd9b4e019ULL));
  return mix(h ^ (counter * 0x9e3779b97f4a7c15ULL + 0xd1b54a32d192ed03ULL));
}

double ps_rng_uniform(uint64_t seed, uint64_t stream, uint64_t counter) {
  return (double)(ps_rng_u64(seed, stream, counter) >> 11) * 0x1.0p-53;
}
