/* Seeded pseudo-random numbers (xoshiro256**, seeded through splitmix64).
 * Same seed, same stream, on every machine. */
#ifndef QSEARCH_RNG_H
#define QSEARCH_RNG_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    uint64_t s[4];
} qs_rng;

/* Seeds rng; any seed (0 included) gives a valid stream. */
void qs_rng_seed(qs_rng *rng, uint64_t seed);
/* Next 64 random bits. */
uint64_t qs_rng_u64(qs_rng *rng);
/* Uniform integer in [0, n); n > 0; unbiased. */
uint64_t qs_rng_below(qs_rng *rng, uint64_t n);
/* Uniform double in [0, 1) with 53 random bits. */
double qs_rng_uniform(qs_rng *rng);
/* Standard normal (Box-Muller; caches nothing, so streams stay simple). */
double qs_rng_normal(qs_rng *rng);
/* Fisher-Yates shuffle of idx[0..n). */
void qs_rng_shuffle(qs_rng *rng, size_t *idx, size_t n);

#endif
