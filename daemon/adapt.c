/*
 * adapt — pruning decisions from stored epochs.  See adapt.h.
 *
 * The sweep's rule is read again from its stored grid (a few hundred bytes
 * parsed once per epoch event, seconds apart), so nothing about a sweep is
 * cached in memory and a restarted mlpd decides exactly as before.
 */
#include "adapt.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "log.h"
#include "metric.h"
#include "prune.h"
#include "store.h"
#include "store_adapt.h"

struct adapt__obs {
    struct prune_obs *v;
    size_t n, cap;
};

static int adapt__add(void *ud, int64_t config_idx, int64_t seed, double v)
{
    struct adapt__obs *o = ud;
    if (o->n == o->cap) {
        size_t cap = o->cap ? 2 * o->cap : 64;
        struct prune_obs *p = realloc(o->v, cap * sizeof *p);
        if (!p)
            return MLP_ENOMEM;
        o->v = p;
        o->cap = cap;
    }
    o->v[o->n++] = (struct prune_obs){.config = config_idx, .seed = seed, .v = v};
    return 0;
}

/* The sweep's rule: 1 with *p, *metric and *maximize set, 0 when it does not prune. */
static int adapt__rule(struct store *st, int64_t sweep_id, struct prune *p, char *metric, size_t n,
                       bool *maximize, struct err *e)
{
    struct store_sweep sw;
    int rc = store_sweep_get(st, sweep_id, &sw, e);
    if (rc < 0)
        return rc;
    cJSON *g = cJSON_Parse(sw.grid_json);
    const cJSON *pj = json_get(g, "prune");
    struct err pe = ERR_INIT;
    int m = metric_index(sw.metric);
    int ret = pj && prune_parse(pj, p, &pe) == 0 && m >= 0 && metric_info(m)->per_epoch;
    snprintf(metric, n, "%s", sw.metric);
    *maximize = sw.maximize;
    cJSON_Delete(g);
    store_sweep_release(&sw);
    return ret;
}

/* Whether a configuration still has trials to stop (queued or running). */
static int adapt__open(struct store *st, int64_t sweep_id, int64_t config_idx, bool *open,
                       struct err *e)
{
    int64_t pruned;
    int rc = store_config_pruned_epoch(st, sweep_id, config_idx, &pruned, e);
    if (rc < 0)
        return rc;
    *open = false;
    if (pruned > 0)
        return 0;
    return store_config_open(st, sweep_id, config_idx, open, e);
}

/* Judge every open configuration with a value at the rung `epoch`. */
static int adapt__rung(struct store *st, int64_t sweep_id, int64_t epoch, const struct prune *p,
                       const char *metric, bool maximize,
                       void (*on_pruned)(void *ud, int64_t sweep_id, int64_t config_idx), void *ud,
                       int64_t *n_pruned, struct err *e)
{
    struct adapt__obs o = {0};
    int rc = store_rung_values(st, sweep_id, epoch, metric, adapt__add, &o, e);
    if (rc == MLP_ENOMEM)
        err_set(e, rc, NULL, "out of memory");
    for (size_t i = 0; rc == 0 && i < o.n; i++) {
        int64_t c = o.v[i].config;
        bool seen = false, open = false, changed = false;
        for (size_t j = 0; j < i && !seen; j++)
            seen = o.v[j].config == c;
        if (seen || (rc = adapt__open(st, sweep_id, c, &open, e)) < 0 || !open)
            continue;
        struct prune_verdict v;
        if ((rc = prune_decide(p, maximize, o.v, o.n, c, &v)) < 0) {
            err_set(e, rc, NULL, "out of memory");
            break;
        }
        if (!v.stop)
            continue;
        if ((rc = store_config_prune(st, sweep_id, c, epoch, &changed, e)) < 0 || !changed)
            continue;
        if (p->rule == PRUNE_TTEST)
            log_info("sweep %lld: config %lld pruned at epoch %lld: worse than config %lld on "
                     "%d shared seeds (one-sided paired t = %.3g, df = %.0f, p = %.3g < %g)",
                     (long long)sweep_id, (long long)c, (long long)epoch, (long long)v.leader,
                     v.n_shared, v.t, v.df, v.p, p->alpha);
        else
            log_info("sweep %lld: config %lld pruned at epoch %lld: rank %d of %d",
                     (long long)sweep_id, (long long)c, (long long)epoch, v.rank, v.n_configs);
        if (n_pruned)
            (*n_pruned)++;
        if (on_pruned)
            on_pruned(ud, sweep_id, c);
    }
    free(o.v);
    return rc;
}

int adapt_after_epoch(struct store *st, int64_t sweep_id, int64_t epoch,
                      void (*on_pruned)(void *ud, int64_t sweep_id, int64_t config_idx), void *ud,
                      struct err *e)
{
    struct prune p;
    char metric[64];
    bool maximize;
    int rc = adapt__rule(st, sweep_id, &p, metric, sizeof metric, &maximize, e);
    if (rc <= 0 || !prune_is_rung(&p, epoch))
        return rc < 0 ? rc : 0;
    return adapt__rung(st, sweep_id, epoch, &p, metric, maximize, on_pruned, ud, NULL, e);
}

struct adapt__epochs {
    int64_t *v;
    size_t n, cap;
};

static int adapt__epoch(void *ud, int64_t config_idx, int64_t epoch)
{
    (void)config_idx;
    struct adapt__epochs *a = ud;
    if (a->n > 0 && a->v[a->n - 1] == epoch) /* rows come by epoch */
        return 0;
    if (a->n == a->cap) {
        size_t cap = a->cap ? 2 * a->cap : 32;
        int64_t *p = realloc(a->v, cap * sizeof *p);
        if (!p)
            return MLP_ENOMEM;
        a->v = p;
        a->cap = cap;
    }
    a->v[a->n++] = epoch;
    return 0;
}

int adapt_recover(struct store *st, int64_t *n, struct err *e)
{
    int64_t *ids = NULL;
    size_t n_ids = 0;
    *n = 0;
    int rc = store_active_sweeps(st, &ids, &n_ids, e);
    for (size_t i = 0; rc == 0 && i < n_ids; i++) {
        struct prune p;
        char metric[64];
        bool maximize;
        rc = adapt__rule(st, ids[i], &p, metric, sizeof metric, &maximize, e);
        if (rc <= 0)
            continue;
        struct adapt__epochs ep = {0};
        rc = store_unpruned_epochs(st, ids[i], adapt__epoch, &ep, e);
        if (rc == MLP_ENOMEM)
            err_set(e, rc, NULL, "out of memory");
        for (size_t k = 0; rc == 0 && k < ep.n; k++)
            if (prune_is_rung(&p, ep.v[k]))
                rc = adapt__rung(st, ids[i], ep.v[k], &p, metric, maximize, NULL, NULL, n, e);
        free(ep.v);
    }
    free(ids);
    return rc;
}
