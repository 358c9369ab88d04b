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
#include "query.h"
#include "race.h"
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
        else if (p->rule == PRUNE_POOLED)
            log_info("sweep %lld: config %lld pruned at epoch %lld: worse than config %lld on "
                     "%d shared seeds (one-sided t, the variance pooled over %d configurations: "
                     "t = %.3g, df = %.0f, p = %.3g < %g)",
                     (long long)sweep_id, (long long)c, (long long)epoch, (long long)v.leader,
                     v.n_shared, v.n_pooled, v.t, v.df, v.p, p->alpha);
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

/* Racing on seeds and confirmation ------------------------------------------------ */

/* A sweep's racing and confirmation settings, read again from its stored grid. */
struct adapt__race {
    bool race, confirm;
    struct race r;
    struct race_confirm c;
    double alpha;
    int64_t max_seed; /* the largest selection seed */
    bool maximize, cancelled;
    char metric[64];
};

/* 1 with *ar set when the sweep races or confirms, 0 when it does neither. */
static int adapt__race_rule(struct store *st, int64_t sweep_id, struct adapt__race *ar,
                            struct err *e)
{
    struct store_sweep sw;
    memset(ar, 0, sizeof *ar);
    int rc = store_sweep_get(st, sweep_id, &sw, e);
    if (rc < 0)
        return rc;
    if (sw.trials_max <= 0) {
        /* Set at submit exactly when the grid races or confirms: no grid to parse. */
        store_sweep_release(&sw);
        return 0;
    }
    cJSON *g = cJSON_Parse(sw.grid_json);
    const cJSON *seeds = json_get(g, "seeds"), *cj = json_get(g, "confirm");
    const cJSON *pj = json_get(g, "prune");
    struct err pe = ERR_INIT;
    struct prune p;
    ar->race = cJSON_IsObject(seeds) && race_parse(seeds, &ar->r, &pe) == 0;
    ar->confirm = cj && race_confirm_parse(cj, &ar->c, &pe) == 0;
    ar->alpha = pj && prune_parse(pj, &p, &pe) == 0 ? p.alpha : RACE_ALPHA;
    /* The selection seeds: 1..max (racing), 1..n, a list, or 1 (common/grid.h). */
    int64_t n;
    ar->max_seed = 1;
    if (ar->race)
        ar->max_seed = ar->r.max;
    else if (json_is_int(seeds, &n))
        ar->max_seed = n;
    else if (cJSON_IsArray(seeds)) {
        const cJSON *it;
        bool first = true;
        cJSON_ArrayForEach(it, seeds)
        {
            if (json_is_int(it, &n) && (first || n > ar->max_seed))
                ar->max_seed = n;
            first = false;
        }
    }
    ar->maximize = sw.maximize;
    ar->cancelled = sw.cancelled;
    snprintf(ar->metric, sizeof ar->metric, "%s", sw.metric);
    cJSON_Delete(g);
    store_sweep_release(&sw);
    return ar->race || ar->confirm;
}

struct adapt__cfgs {
    struct store_race_config *v;
    size_t n, cap;
};

static int adapt__cfg(void *ud, const struct store_race_config *c)
{
    struct adapt__cfgs *a = ud;
    if (a->n == a->cap) {
        size_t cap = a->cap ? 2 * a->cap : 32;
        struct store_race_config *p = realloc(a->v, cap * sizeof *p);
        if (!p)
            return MLP_ENOMEM;
        a->v = p;
        a->cap = cap;
    }
    a->v[a->n] = *c;
    a->v[a->n].race = NULL; /* the text dies with the row: kept as a verdict below */
    enum race_why w;
    if (c->race && race_why_parse(c->race, &w) == 0)
        a->v[a->n].race = race_why_name(w);
    a->n++;
    return 0;
}

static int adapt__rows_add(void *ud, const struct store_value_row *r)
{
    return query_rows_add(ud, r->config_idx, r->v);
}

/*
 * The search has ended (no selection trial queued or running, none added):
 * queue the confirmation trials of the selection ranking's top configurations
 * (the ranking `best` shows: store_values_each + query_rank), on the seeds
 * after the largest selection seed.  *added counts them.
 */
static int adapt__confirm(struct store *st, int64_t sweep_id, const struct adapt__race *ar,
                          int64_t *added, struct err *e)
{
    struct query_rows q = QUERY_ROWS_INIT;
    struct query_ranked *r = NULL;
    size_t nr = 0;
    int64_t *cfg = NULL, *seed = NULL;
    int m = metric_index(ar->metric);
    int rc = store_values_each(st, sweep_id, adapt__rows_add, &q, e);
    if (rc == 0 && (query_rows_group(&q) < 0 || query_rank(&q, m, ar->maximize, 0, &r, &nr) < 0))
        rc = err_set(e, MLP_ENOMEM, NULL, "out of memory");
    size_t k = 0, top = (size_t)ar->c.top;
    while (rc == 0 && k < nr && k < top && r[k].tier < 2)
        k++;
    size_t n = k * (size_t)ar->c.seeds;
    if (rc == 0 && n > 0) {
        cfg = malloc(n * sizeof *cfg);
        seed = malloc(n * sizeof *seed);
        if (!cfg || !seed)
            rc = err_set(e, MLP_ENOMEM, NULL, "out of memory");
        /* Seed-major: every confirmed configuration's first fresh seed first. */
        for (size_t j = 0; rc == 0 && j < n; j++) {
            cfg[j] = r[j % k].idx;
            seed[j] = race_confirm_seed(ar->max_seed, (int64_t)(j / k));
        }
        if (rc == 0 && (rc = store_race_add(st, sweep_id, n, cfg, seed, true, e)) == 0) {
            *added += (int64_t)n;
            log_info("sweep %lld: search ended; confirming the top %zu configurations on %lld "
                     "fresh seeds (%lld..%lld)",
                     (long long)sweep_id, k, (long long)ar->c.seeds,
                     (long long)race_confirm_seed(ar->max_seed, 0),
                     (long long)race_confirm_seed(ar->max_seed, ar->c.seeds - 1));
        }
    }
    free(cfg);
    free(seed);
    free(r);
    query_rows_release(&q);
    return rc;
}

int adapt_after_trial(struct store *st, int64_t sweep_id, int64_t *added, struct err *e)
{
    struct adapt__race ar;
    struct adapt__cfgs cf = {0};
    struct adapt__obs o = {0};
    *added = 0;
    int rc = adapt__race_rule(st, sweep_id, &ar, e);
    if (rc <= 0 || ar.cancelled)
        return rc < 0 ? rc : 0;
    if ((rc = store_race_configs(st, sweep_id, adapt__cfg, &cf, e)) == 0 && ar.race)
        rc = store_race_values(st, sweep_id, ar.metric, adapt__add, &o, e);
    if (rc == MLP_ENOMEM)
        err_set(e, rc, NULL, "out of memory");
    bool open = false, confirmed = false;
    for (size_t i = 0; rc == 0 && i < cf.n; i++) {
        const struct store_race_config *c = &cf.v[i];
        open = open || c->open > 0;
        confirmed = confirmed || c->confirm > 0;
        /* Decided when its seeds have ended; a pruned configuration races no more. */
        if (!ar.race || c->open > 0 || c->pruned_epoch > 0)
            continue;
        struct race_verdict v;
        if ((rc = race_decide(&ar.r, ar.alpha, ar.maximize, o.v, o.n, c->config_idx, &v)) < 0) {
            err_set(e, rc, NULL, "out of memory");
            break;
        }
        const char *why = race_why_name(v.why);
        if (v.more && c->trials < ar.r.max) {
            /* The next selection seed: seeds run in order 1, 2, ..., max. */
            int64_t cfg = c->config_idx, seed = c->trials + 1;
            if ((rc = store_race_add(st, sweep_id, 1, &cfg, &seed, false, e)) < 0)
                break;
            (*added)++;
            open = true;
            log_info("sweep %lld: config %lld gets seed %lld (%s: %d seeds%s)", (long long)sweep_id,
                     (long long)cfg, (long long)seed, why, v.seeds,
                     v.why == RACE_TIED ? ", tied with the leader" : "");
        } else if (!v.more && c->race != why &&
                   (v.why == RACE_SEPARATED || v.why == RACE_ALONE || v.why == RACE_MAX)) {
            if (v.why == RACE_SEPARATED)
                log_info("sweep %lld: config %lld stops at %d seeds: worse than config %lld on "
                         "%d shared seeds (one-sided paired t = %.3g, df = %.0f, p = %.3g < %g)",
                         (long long)sweep_id, (long long)c->config_idx, v.seeds,
                         (long long)v.test.leader, v.test.n_shared, v.test.t, v.test.df, v.test.p,
                         ar.alpha);
            else
                log_info("sweep %lld: config %lld stops at %d seeds (%s)", (long long)sweep_id,
                         (long long)c->config_idx, v.seeds, why);
        }
        if (rc == 0 && c->race != why)
            rc = store_config_race(st, sweep_id, c->config_idx, why, e);
    }
    if (rc == 0 && ar.confirm && !open && !confirmed)
        rc = adapt__confirm(st, sweep_id, &ar, added, e);
    free(cf.v);
    free(o.v);
    return rc;
}

int adapt_race_recover(struct store *st, int64_t *added, struct err *e)
{
    int64_t *ids = NULL;
    size_t n_ids = 0;
    *added = 0;
    int rc = store_sweep_ids(st, &ids, &n_ids, e);
    for (size_t i = 0; rc == 0 && i < n_ids; i++) {
        int64_t n = 0;
        rc = adapt_after_trial(st, ids[i], &n, e);
        *added += n;
    }
    free(ids);
    return rc;
}
