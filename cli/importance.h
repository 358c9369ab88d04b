/*
 * importance — which key mattered for a sweep's metric, from the `results`
 * op's per-trial rows (trials: true): the main-effects ANOVA of a complete
 * grid (omega^2, F, p per key) or functional ANOVA on a random forest over a
 * random/Sobol search space (each key's share of the variance).  The answer
 * is one JSON document (the shape `mlpctl importance --json` prints, keys
 * ranked most important first); `mlpctl importance` prints it as a table,
 * `mlpctl plot --kind importance` and the report draw it as bars.
 */
#ifndef MLP_IMPORTANCE_H
#define MLP_IMPORTANCE_H

#include <stdbool.h>
#include <stddef.h>

#include "fanova.h"

struct cJSON;

enum importance_method {
    IMPORTANCE_DEFAULT, /* fanova for a search, else anova */
    IMPORTANCE_ANOVA,
    IMPORTANCE_FANOVA,
};

struct importance_opts {
    const char *metric;            /* NULL: the sweep's */
    enum importance_method method;
    bool forest_opts;              /* --trees or --seed given (fanova only) */
    struct fanova_params fp;
};
#define IMPORTANCE_OPTS_INIT {.fp = FANOVA_PARAMS_INIT}

/*
 * The analysis of resp (the `results` op with trials, or the same with rows of
 * per-configuration aggregates, below) as a new document in
 * *docp.  Returns CLI_OK, CLI_USAGE (a metric the rows do not have, options
 * that do not apply) or CLI_FAILED (nothing to compare, not a complete grid
 * for the ANOVA, out of memory), with one sentence in why.
 */
int importance_analyse(const struct cJSON *resp, const struct importance_opts *o,
                       struct cJSON **docp, char *why, size_t whylen);

/*
 * A per-configuration row instead of a trial's: the configuration's grid
 * values under their keys, "config" (id), "n" (seeds with a finite value),
 * "<metric>_mean" and "<metric>_sd" of those values, "seeds_done",
 * "diverged" (done seeds that diverged) and "pruned" (the rung a prune rule
 * stopped it at, or null) -- as `show` gives each configuration, so a sweep
 * of any size is analysed and drawn from its configurations' aggregates
 * (the dashboard's parallel coordinates and importance).  Rows without
 * "trial" that carry "<metric>_mean" are read this way by importance_analyse
 * and plot__confs.  Returns whether row is one, filling *a.
 */
struct importance_agg {
    int n, done, diverged, pruned; /* pruned: the rung, 0 when not pruned */
    double mean, sd;
};
bool importance_config_row(const struct cJSON *row, const char *metric, struct importance_agg *a);

/* "anova" / "fanova" → *m; false for anything else. */
bool importance_method_parse(const char *s, enum importance_method *m);

#endif
