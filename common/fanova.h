/*
 * fanova — model-based importance of the keys of a random/Sobol search:
 * functional ANOVA (Hutter, Hoos & Leyton-Brown 2014) on a random forest,
 * as Optuna's FanovaImportanceEvaluator computes it.
 *
 * The forest: `trees` regression trees, each grown on a bootstrap sample (n
 * draws with replacement, from a SplitMix64 stream of (seed, tree)) of the
 * points (x_i, y_i), y_i a configuration's mean.  At a node every key is
 * tried and the split with the least sum of squared errors wins (ties: the
 * first key); a node with fewer than min_samples_split points, equal y, no
 * split leaving min_samples_leaf points on each side, or at max_depth is a
 * leaf predicting its mean.  A numeric key splits at the midpoint between
 * two neighbouring values (x <= t goes left); a categorical key splits its
 * categories into two sets (categories ordered by their mean y in the node,
 * the optimal binary partition for squared error), the node's categories
 * without a point going with the larger side.
 *
 * The decomposition: a tree is a piecewise-constant function f over the
 * key space (the box of the numeric keys' bounds times the categorical keys'
 * category sets, uniform measure: each leaf's cell has volume = product of
 * its width fractions).  Its variance V = sum_l vol_l (v_l - mu)^2; key j's
 * main effect f_j(x_j) = the mean of f over the other keys with x_j fixed,
 * constant between the tree's split points on j (on each category), and
 * V_j = the variance of f_j over x_j.  fraction_j = V_j / V per tree (trees
 * with V = 0 carry nothing and are skipped); a key's importance is the mean
 * fraction over trees, normalised so the keys sum to 1, and its SD the
 * sample SD (n - 1) of the per-tree fractions under the same normalisation.
 * The fractions themselves (before normalisation) sum to at most 1; what
 * they leave is the share of the interactions.
 *
 * Transforms (log scale, a choice's categories) are the caller's: x is
 * already in the space whose uniform measure is the search's.  Deterministic
 * for a given seed; no I/O, no globals.
 */
#ifndef MLP_FANOVA_H
#define MLP_FANOVA_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

#define FANOVA_MAX_CATEGORIES 64 /* categories of one key (a bit set per cell) */
#define FANOVA_MAX_TREES 10000

enum fanova_kind {
    FANOVA_NUMERIC,     /* x in [lo, hi] */
    FANOVA_CATEGORICAL, /* x one of 0, 1, ..., n_categories - 1 */
};

struct fanova_dim {
    enum fanova_kind kind;
    double lo, hi;    /* NUMERIC: the bounds of the space, lo < hi */
    int n_categories; /* CATEGORICAL: 1 .. FANOVA_MAX_CATEGORIES */
};

struct fanova_params {
    int trees;             /* 1 .. FANOVA_MAX_TREES */
    uint64_t seed;         /* the bootstrap streams */
    int max_depth;         /* >= 1 */
    int min_samples_split; /* >= 2 */
    int min_samples_leaf;  /* >= 1 */
};

/* Optuna's (and scikit-learn's) defaults: 64 trees of depth up to 64, grown to one point a leaf. */
#define FANOVA_PARAMS_INIT                                                                         \
    {.trees = 64, .seed = 0, .max_depth = 64, .min_samples_split = 2, .min_samples_leaf = 1}

struct fanova_key {
    double importance; /* mean fraction over trees, normalised: the keys sum to 1 */
    double sd;         /* sample SD of the per-tree fractions, same normalisation; NaN < 2 trees */
    double fraction;   /* mean over trees of V_j / V (not normalised) */
};

struct fanova_result {
    int trees_used;      /* trees with V > 0; 0 when y does not vary (importances NaN) */
    double main_effects; /* sum of the keys' fractions: the share of V the main effects explain */
};

/*
 * Importance of the d keys from n points: x[i * d + j] is point i's value of
 * key j (inside key j's bounds, or a category index), y[i] its value.  keys
 * receives d entries.  When no tree varies (y constant) every importance is
 * NaN and trees_used 0; when the trees vary but have no main effect at all,
 * every importance is 0.  Returns 0, or MLP_EINVALID_REQUEST with *e saying
 * what is wrong with the input (n < 2, d < 1, bad bounds or parameters, a
 * value outside its key's space, a non-finite x or y), or MLP_ENOMEM.
 */
int fanova_importance(size_t n, size_t d, const double *x, const double *y,
                      const struct fanova_dim *dims, const struct fanova_params *p,
                      struct fanova_key *keys, struct fanova_result *res, struct err *e);

#endif
