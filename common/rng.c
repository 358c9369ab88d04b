/*
 * rng — xoshiro256** (Blackman & Vigna) seeded by splitmix64, Lemire's bounded
 * integers, a Fisher–Yates shuffle and the Marsaglia–Tsang ziggurat for normals.
 *
 * The ziggurat's tables depend on nothing but constants; they are computed once
 * when the program loads (a constructor), so rng_gauss() needs no lazy set-up
 * and no mutable global state is touched while a trial runs.
 */
#include "rng.h"

#include <math.h>

void rng_seed(struct rng *r, uint64_t seed, uint64_t stream)
{
    uint64_t a = seed, b = stream ^ 0x6A09E667F3BCC909ull;
    uint64_t x = rng_splitmix64(&a) ^ (rng_splitmix64(&b) * 0xD1342543DE82EF95ull);
    for (int i = 0; i < 4; i++)
        r->s[i] = rng_splitmix64(&x);
    if (!(r->s[0] | r->s[1] | r->s[2] | r->s[3]))
        r->s[0] = 1;
}

uint64_t rng_below(struct rng *r, uint64_t n)
{
    unsigned __int128 m = (unsigned __int128)rng_next(r) * n;
    uint64_t low = (uint64_t)m;
    if (low < n) {
        uint64_t thresh = -n % n;
        while (low < thresh) {
            m = (unsigned __int128)rng_next(r) * n;
            low = (uint64_t)m;
        }
    }
    return (uint64_t)(m >> 64);
}

void rng_shuffle(struct rng *r, int64_t *idx, int64_t n)
{
    for (int64_t i = n - 1; i > 0; i--) {
        int64_t j = (int64_t)rng_below(r, (uint64_t)i + 1);
        int64_t t = idx[i];
        idx[i] = idx[j];
        idx[j] = t;
    }
}

/* Ziggurat tables (Marsaglia & Tsang 2000, "The Ziggurat Method for Generating
 * Random Variables", 128 layers, 32-bit signed draws). */
#define ZIG_R 3.442619855899
static uint32_t zig_k[128];
static double zig_w[128], zig_f[128];

__attribute__((constructor)) static void rng__zig_init(void)
{
    const double m1 = 2147483648.0, vn = 9.91256303526217e-3;
    double dn = ZIG_R, tn = dn;
    double q = vn / exp(-0.5 * dn * dn);
    zig_k[0] = (uint32_t)((dn / q) * m1);
    zig_k[1] = 0;
    zig_w[0] = q / m1;
    zig_w[127] = dn / m1;
    zig_f[0] = 1.0;
    zig_f[127] = exp(-0.5 * dn * dn);
    for (int i = 126; i >= 1; i--) {
        dn = sqrt(-2.0 * log(vn / dn + exp(-0.5 * dn * dn)));
        zig_k[i + 1] = (uint32_t)((dn / tn) * m1);
        tn = dn;
        zig_f[i] = exp(-0.5 * dn * dn);
        zig_w[i] = dn / m1;
    }
}

double rng_gauss(struct rng *r)
{
    for (;;) {
        uint64_t u = rng_next(r);
        int32_t hz = (int32_t)(uint32_t)(u >> 32); /* sign and magnitude */
        int iz = (int)(u & 127);                   /* layer, from other bits */
        uint32_t ahz = hz < 0 ? (uint32_t)(-(int64_t)hz) : (uint32_t)hz;
        double x = hz * zig_w[iz];
        if (ahz < zig_k[iz])
            return x;  /* inside the layer's rectangle: ~99% */
        if (iz == 0) { /* the tail beyond R */
            double xt, y;
            do {
                xt = -log(1.0 - rng_uniform(r)) / ZIG_R;
                y = -log(1.0 - rng_uniform(r));
            } while (y + y < xt * xt);
            return hz > 0 ? ZIG_R + xt : -ZIG_R - xt;
        }
        /* the wedge: accept under the density, else draw again */
        if (zig_f[iz] + rng_uniform(r) * (zig_f[iz - 1] - zig_f[iz]) < exp(-0.5 * x * x))
            return x;
    }
}
