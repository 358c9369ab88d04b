/*
 * prune — stopping configurations early at rungs (SPEC.md "Pruning").
 *
 * A grid's "prune" member names when to look (rungs) and what to decide:
 *   {"kind": "halving", "min_epochs": r, "eta": 3}: rungs at epochs r·η^k
 *   (k = 0, 1, …); {"kind": "median", "min_epochs": r}: every epoch from r on.
 * At a rung, configuration c stops only when (a) at least min_configs
 * configurations have a value there, and (b) by the rule:
 *   "ttest" (default for halving): the rung's leader (best mean there) beats c
 *     by a one-sided paired t-test over the seeds both have at the rung, p <
 *     alpha (needs >= 2 shared seeds);
 *   "pooled": as "ttest", but the variance of the paired differences is pooled
 *     over every configuration at the rung (each paired with the leader over
 *     their shared seeds): df = Σ(m_k − 1) instead of m − 1, so three seeds
 *     already decide (assumes the seed noise is alike across configurations);
 *   "rank" (default for median): c is outside the top ⌊n/η⌋ (at least 1) of the
 *     n configurations at the rung by mean (halving: plain ASHA), or worse than
 *     the median of their means (median).
 * Pure: the caller hands every value recorded at the rung.
 */
#ifndef MLP_PRUNE_H
#define MLP_PRUNE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

struct cJSON;

enum prune_kind { PRUNE_HALVING, PRUNE_MEDIAN };
enum prune_rule { PRUNE_TTEST, PRUNE_RANK, PRUNE_POOLED };

struct prune {
    enum prune_kind kind;
    int64_t min_epochs;  /* first rung, >= 1 (default 1) */
    int64_t eta;         /* halving rate, >= 2 (default 3) */
    int64_t min_configs; /* configurations needed at a rung before any stops (default 3) */
    double alpha;        /* one-sided level of the t-test, (0, 0.5] (default 0.05) */
    enum prune_rule rule;
};

/* Parse a grid's "prune" member.  0, or MLP_EINVALID_GRID with *e naming "prune.eta" etc. */
int prune_parse(const struct cJSON *v, struct prune *out, struct err *e);

/* Whether a decision is taken at this epoch. */
bool prune_is_rung(const struct prune *p, int64_t epoch);

/* One value at a rung: configuration, seed, the ranking metric. */
struct prune_obs {
    int64_t config, seed;
    double v;
};

struct prune_verdict {
    bool stop;
    int64_t leader;  /* best mean at the rung (0 when none) */
    int n_configs;   /* configurations with a finite value at the rung */
    int rank;        /* c's rank by mean (1 = best; 0 when c has no value) */
    int n_shared;    /* seeds shared with the leader (ttest, pooled) */
    int n_pooled;    /* configurations whose differences the variance pools (pooled) */
    double t, df, p; /* the one-sided test (NaN when not run) */
};

/*
 * Decide for configuration `config` from every value at one rung (any order;
 * non-finite values are ignored).  maximize: the metric's direction.
 * Returns 0, or MLP_ENOMEM.
 */
int prune_decide(const struct prune *p, bool maximize, const struct prune_obs *obs, size_t n,
                 int64_t config, struct prune_verdict *out);

#endif
