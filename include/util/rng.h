/* rng: a small fast random generator (xoshiro256**), seeded with splitmix64.
 *
 * rng_splitmix alone, on one uint64_t of state, is the cheaper generator
 * hopper-target draws its failures and delays from.
 *
 * Task picks and think times draw from it on the hot path, so it must be cheap
 * and must not lock (rand() does). Each engine owns one; runs with the same
 * --seed pick the same task sequence. */
#ifndef HOPPER_RNG_H
#define HOPPER_RNG_H

#include <stdint.h>

typedef struct {
    uint64_t s[4];
} rng_t;

static inline uint64_t rng_splitmix(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static inline void rng_seed(rng_t *r, uint64_t seed)
{
    for (int i = 0; i < 4; i++)
        r->s[i] = rng_splitmix(&seed);
}

static inline uint64_t rng_next(rng_t *r)
{
    uint64_t *s = r->s;
    uint64_t x = s[1] * 5;
    uint64_t result = ((x << 7) | (x >> 57)) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = (s[3] << 45) | (s[3] >> 19);
    return result;
}

/* 64 random bits as a double uniform in [0, 1): the top 53 bits, so a rate
 * of 1 always hits and a rate of 0 never does. */
static inline double rng_bits_unit(uint64_t bits)
{
    return (double)(bits >> 11) * (1.0 / 9007199254740992.0);
}

/* Uniform in [0, 1). */
static inline double rng_unit(rng_t *r)
{
    return rng_bits_unit(rng_next(r));
}

#endif
