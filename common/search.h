/*
 * search — random and quasi-random (Sobol) search spaces of a grid file
 * (SPEC.md "Search spaces").
 *
 * A "search" member draws `trials` points from a space of hyperparameters,
 * each point a pure function of (search seed, point index): a restarted
 * daemon, a dry run and the real submit draw the same values, in the same
 * order.  Per dimension the point has a coordinate u in [0, 1):
 *   random: u = the top 53 bits of a SplitMix64 hash of (seed, index, dim),
 *           so points are independent and any one can be drawn alone;
 *   sobol:  the Sobol' sequence with Joe and Kuo's direction numbers
 *           (new-joe-kuo-6.21201, dimensions 1..32), in Gray-code order (as
 *           SciPy and Joe-Kuo's sobol.cc), randomised by a digital shift:
 *           every 32-bit coordinate is XORed with a per-dimension word hashed
 *           from the seed.  The shift keeps the sequence's net structure (the
 *           first 2^m points put exactly one point in each 1/2^m-wide slice of
 *           every dimension) while making the points a random, seed-given,
 *           unbiased sample.
 * u then becomes a value through the dimension's distribution: uniform,
 * log_uniform (rounded to 4 significant digits, kept within [a, b]), int,
 * int_log (log-uniform over [a, b+1), rounded down) or choice (element
 * floor(u·n)).  Every value is checked through the hyperparameter table at
 * parse time (both ends of a range, every choice), so drawing cannot fail.
 */
#ifndef MLP_SEARCH_H
#define MLP_SEARCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

struct cJSON;
struct hparams;

#define SEARCH_MAX_DIMS 32 /* Sobol direction numbers are tabulated for 32 dimensions */

enum search_kind { SEARCH_RANDOM, SEARCH_SOBOL };
enum search_dist { SD_UNIFORM, SD_LOG_UNIFORM, SD_INT, SD_INT_LOG, SD_CHOICE };

struct search_dim {
    char *key;             /* the hyperparameter (owned) */
    enum search_dist dist; /* how u in [0, 1) becomes a value */
    double lo, hi;         /* the range of uniform/log_uniform/int/int_log */
    struct cJSON *choices; /* SD_CHOICE: a copy of the list (owned) */
    size_t n_choices;
};

struct search {
    enum search_kind kind;
    int64_t trials; /* points drawn, >= 1 */
    int64_t seed;   /* the search seed (default 0) */
    size_t n_dims;
    struct search_dim dims[SEARCH_MAX_DIMS];
};

/*
 * Parse and check a grid's "search" member into *out (zeroed first; release
 * with search_release even on error).  hard_max bounds "trials".  Returns 0,
 * or MLP_EINVALID_GRID with *e naming the place ("search.space.lr.log_uniform[0]"),
 * MLP_ETOO_LARGE, MLP_ENOMEM.  Conflicts with "base" and "grid" are the
 * caller's to check (grid.c).
 */
int search_parse(const struct cJSON *v, long hard_max, struct search *out, struct err *e);

/* Free what a search owns (the struct is the caller's). */
void search_release(struct search *s);

/* Coordinate `dim` of point `index`, in [0, 1). */
double search_unit(const struct search *s, uint64_t index, size_t dim);

/*
 * Unscrambled Sobol' coordinate (dimension dim < SEARCH_MAX_DIMS, 0-based) of
 * point index in Gray-code order, as a 32-bit fraction: index 0 is 0, then
 * 0.5, 0.75, 0.25, ... in dimension 0.  For tests and documentation.
 */
uint32_t search_sobol_raw(uint64_t index, size_t dim);

/* The value of dimension dim at point index (a new cJSON; NULL on ENOMEM). */
struct cJSON *search_value(const struct search *s, uint64_t index, size_t dim);

/*
 * Set every dimension of point index into *hp.  0, or a negative code with *e
 * (MLP_ENOMEM; values were checked at parse time).
 */
int search_apply(const struct search *s, uint64_t index, struct hparams *hp, struct err *e);

#endif
