/*
 * race — racing on seeds (issue 18): after `min` seeds, extra seeds go only to
 * configurations still statistically tied with the best.
 *
 * A grid's "seeds" may be {"min": m, "max": M} (1 <= m <= M).  Decision for
 * configuration c from the final values of every configuration (one per
 * (configuration, seed)):
 *   - fewer than m seeds done:            RACE_MIN      (run the next seed);
 *   - M seeds done:                       RACE_MAX      (stop);
 *   - c is not the leader (best mean) and the leader beats c by a one-sided
 *     paired t-test over their shared seeds, p < alpha: RACE_SEPARATED (stop);
 *   - c is not the leader and still tied: RACE_TIED     (run the next seed);
 *   - c is the leader: RACE_LEADER (run the next seed) while any other
 *     configuration is RACE_TIED or RACE_MIN, else RACE_ALONE (stop).
 * The test is prune_decide's ("ttest" rule, min_configs 2), so racing and
 * pruning share one statistic.  Pure: the caller hands every stored value, so
 * a restarted daemon reaches the same decisions.
 */
#ifndef MLP_RACE_H
#define MLP_RACE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "prune.h"

struct cJSON;

struct race {
    int64_t min, max; /* seeds per configuration */
};

/* The one-sided level when the sweep has no "prune" (else prune.alpha). */
#define RACE_ALPHA 0.05

/* Parse {"min": m, "max": M}.  0, or MLP_EINVALID_GRID with *e naming "seeds.min" etc. */
int race_parse(const struct cJSON *v, struct race *out, struct err *e);

enum race_why { RACE_MIN, RACE_TIED, RACE_LEADER, RACE_SEPARATED, RACE_MAX, RACE_ALONE };

/* "min", "tied", "leader", "separated", "max", "alone". */
const char *race_why_name(enum race_why w);

struct race_verdict {
    bool more;          /* give c another seed */
    enum race_why why;
    int seeds;          /* seeds c has a finite value for */
    struct prune_verdict test; /* the paired test against the leader */
};

/*
 * Decide for `config` from every final value (obs: configuration, seed,
 * metric; non-finite ignored).  alpha: the sweep's one-sided level.
 * Returns 0, or MLP_ENOMEM.
 */
int race_decide(const struct race *r, double alpha, bool maximize, const struct prune_obs *obs,
                size_t n, int64_t config, struct race_verdict *out);

/* A verdict's name back to its value: 0, or -1 for an unknown name. */
int race_why_parse(const char *name, enum race_why *out);

/*
 * Confirmation on fresh seeds: a grid's "confirm" {"top": k, "seeds": n}.
 * When the search has ended, the k best configurations of the selection
 * ranking run again on n seeds never used in selection: the seeds after the
 * largest selection seed (race_confirm_seed).
 */
struct race_confirm {
    int64_t top, seeds;
};

/* Parse {"top": k, "seeds": n} (each 1..1000).  0, or MLP_EINVALID_GRID naming "confirm.top". */
int race_confirm_parse(const struct cJSON *v, struct race_confirm *out, struct err *e);

/* The k-th (0-based) confirmation seed when the largest selection seed is max_seed. */
int64_t race_confirm_seed(int64_t max_seed, int64_t k);
#endif
