/*
 * ops_query — the read-only answers about a sweep's results: show (every
 * configuration ranked, with the marginal effect of one key and a
 * configuration's confusion matrix), best (top or bottom of the ranking and
 * Welch's test of #1 against #2), compare (two configurations, paired by
 * seed where possible) and results (a stream of configuration, trial or epoch
 * rows).  All are heavy ops (ops.h): they run on the thread pool with a
 * read-only store and only read.  Grouping, statistics and ranking are
 * query.c's; this file turns them into the protocol's JSON.  Part of the ops
 * module (shared helpers in ops_int.h).
 */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "meta.h"
#include "metric.h"
#include "mlpd.h"
#include "ops.h"
#include "ops_int.h"
#include "query.h"
#include "race.h"
#include "stats.h"
#include "store.h"
#include "store_adapt.h"

/* The metric a query ranks by: req.metric or the sweep's. */
static int query_metric(const cJSON *req, const struct store_sweep *sw, int *m, bool *maximize,
                        struct err *e)
{
    const cJSON *mv = json_get(req, "metric");
    const char *name = cJSON_IsString(mv) ? mv->valuestring : sw->metric;
    *m = metric_index(name);
    if (!metric_rankable(*m)) {
        char names[256];
        return err_set(e, MLP_EINVALID_REQUEST, "metric",
                       "cannot rank by \"%s\" (one of %s; test metrics never rank)", name,
                       metric_rankable_text(names, sizeof names));
    }
    *maximize = metric_maximize(*m);
    return 0;
}

/* Whether by is one of the sweep's grid keys; MLP_EINVALID_REQUEST naming them otherwise. */
static int check_by(const cJSON *keys, const char *by, struct err *e)
{
    const cJSON *k;
    cJSON_ArrayForEach(k, keys) if (cJSON_IsString(k) && strcmp(k->valuestring, by) == 0) return 0;
    char *kt = json_line(keys);
    int rc = err_set(e, MLP_EINVALID_REQUEST, "by",
                     "\"%s\" is not a grid key of this sweep (keys: %s)", by, kt ? kt : "?");
    free(kt);
    return rc;
}

/* show's "configs": every configuration with its stat, train stat, gap and rank. */
static void show_configs(cJSON *resp, struct query_rows *q, const struct cfgs *cf, int m,
                         int64_t seeds_total, const long *rank_of)
{
    int mt = metric_sibling(m, METRIC_TRAIN);
    int mv = metric_sibling(m, METRIC_VAL);
    cJSON *arr = cJSON_AddArrayToObject(resp, "configs");
    for (size_t i = 0; i < cf->n; i++) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddItemToObject(o, "config", ops__config_json(cf, cf->idx[i]));
        long g = query_group(q, cf->idx[i]);
        struct stat_summary s, st, sv;
        query_stat(q, g, m, &s);
        query_stat(q, g, mt, &st);
        query_stat(q, g, mv, &sv);
        json_add_int(o, "seeds_done", (int64_t)query_group_size(q, g));
        json_add_int(o, "seeds_total", seeds_total);
        cJSON_AddItemToObject(o, "stat", ops__stat_json(&s));
        cJSON_AddItemToObject(o, "train", ops__stat_json(&st));
        json_add_int(o, "diverged", (int64_t)query_count_flag(q, g, MLP_M_DIVERGED));
        json_add_num(o, "gap", st.mean - sv.mean);
        if (g >= 0 && rank_of[g] > 0)
            json_add_int(o, "rank", rank_of[g]);
        else
            cJSON_AddNullToObject(o, "rank");
        if (cf->pruned[i] > 0)
            json_add_int(o, "pruned", cf->pruned[i]); /* not ranked: stopped at this rung */
        else
            cJSON_AddNullToObject(o, "pruned");
        cJSON_AddItemToArray(arr, o);
    }
}

/* show's racing fields: each configuration's selection trials, limit and verdict. */
struct show_race_ctx {
    cJSON *configs;
    int64_t seeds_max;
};

static int show_race_row(void *ud, const struct store_race_config *c)
{
    struct show_race_ctx *x = ud;
    cJSON *o;
    cJSON_ArrayForEach(o, x->configs)
    {
        int64_t id;
        if (!json_is_int(json_get(json_get(o, "config"), "id"), &id) || id != c->config_idx)
            continue;
        cJSON_DeleteItemFromObjectCaseSensitive(o, "seeds_total");
        json_add_int(o, "seeds_total", c->trials);
        if (x->seeds_max > 0)
            json_add_int(o, "seeds_max", x->seeds_max);
        enum race_why w;
        if (x->seeds_max > 0 && c->race && race_why_parse(c->race, &w) == 0)
            cJSON_AddStringToObject(o, "race", race_why_name(w));
        else if (x->seeds_max > 0)
            cJSON_AddNullToObject(o, "race");
        json_add_int(o, "confirm_trials", c->confirm);
        break;
    }
    return 0;
}

/* Racing or confirming sweeps (012-racing.sql): per-configuration counts of their own. */
static int show_race(struct mlpd *d, const struct store_sweep *sw, cJSON *resp, struct err *e)
{
    if (sw->trials_max <= 0)
        return 0;
    cJSON *g = cJSON_Parse(sw->grid_json);
    struct race ra;
    struct err pe = ERR_INIT;
    struct show_race_ctx x = {.configs = json_get(resp, "configs")};
    const cJSON *seeds = json_get(g, "seeds");
    if (cJSON_IsObject(seeds) && race_parse(seeds, &ra, &pe) == 0) {
        x.seeds_max = ra.max;
        cJSON *ro = cJSON_AddObjectToObject(resp, "race");
        json_add_int(ro, "min", ra.min);
        json_add_int(ro, "max", ra.max);
    }
    cJSON_Delete(g);
    return store_race_configs(d->st, sw->id, show_race_row, &x, e);
}

/* show's "by": the marginal effect of one key, every done trial of every
 * configuration with that value pooled. */
static int show_by(cJSON *resp, struct query_rows *q, const struct cfgs *cf, const char *key, int m,
                   struct err *e)
{
    int rc = 0;
    char **text = calloc(cf->n + 1, sizeof *text);    /* value text of each config */
    size_t *value = calloc(cf->n + 1, sizeof *value); /* its index among distinct values */
    size_t *first = calloc(cf->n + 1, sizeof *first); /* config of each distinct value */
    long *groups = calloc(cf->n + 1, sizeof *groups);
    if (!text || !value || !first || !groups) {
        rc = err_set(e, MLP_ENOMEM, NULL, "out of memory");
        goto out;
    }
    cJSON *bo = cJSON_AddObjectToObject(resp, "by");
    cJSON_AddStringToObject(bo, "key", key);
    cJSON *vals = cJSON_AddArrayToObject(bo, "values");
    size_t nv = 0;
    for (size_t i = 0; i < cf->n; i++) {
        const cJSON *v = cf->grid[i] ? json_get(cf->grid[i], key) : NULL;
        if (!v || !(text[i] = json_line(v)))
            continue;
        size_t j = 0;
        while (j < nv && strcmp(text[first[j]], text[i]) != 0)
            j++;
        if (j == nv)
            first[nv++] = i;
        value[i] = j;
    }
    for (size_t j = 0; j < nv; j++) {
        size_t ng = 0, ncfg = 0;
        for (size_t i = 0; i < cf->n; i++)
            if (text[i] && value[i] == j) {
                ncfg++;
                groups[ng++] = query_group(q, cf->idx[i]);
            }
        struct stat_summary s;
        query_stat_groups(q, groups, ng, m, &s);
        cJSON *vo = cJSON_CreateObject();
        cJSON_AddItemToObject(vo, "value", cJSON_Parse(text[first[j]]));
        json_add_int(vo, "configs", (int64_t)ncfg);
        cJSON_AddItemToObject(vo, "stat", ops__stat_json(&s));
        cJSON_AddItemToArray(vals, vo);
    }
out:
    for (size_t i = 0; text && i < cf->n; i++)
        free(text[i]);
    free(text);
    free(value);
    free(first);
    free(groups);
    return rc;
}

static int confusion_row(void *ud, const struct store_confusion_row *r)
{
    int k;
    double *m;
    int rc = ops__confusion_parse(r->confusion, &k, &m);
    if (rc == MLP_ENOMEM)
        return rc;
    if (rc == 0) {
        /* A matrix of another class count than the first (never for one dataset) is left out. */
        rc = query_confusion_add(ud, k, m);
        free(m);
        if (rc == MLP_ENOMEM)
            return rc;
    }
    return 0;
}

/* A k x k array of one statistic's field over cells (counts or rates). */
static cJSON *confusion_grid(struct query_confusion *q, bool rate, bool se)
{
    cJSON *rows = cJSON_CreateArray();
    for (int t = 0; rows && t < q->k; t++) {
        cJSON *row = cJSON_CreateArray();
        for (int p = 0; row && p < q->k; p++) {
            struct stat_summary st;
            if (rate)
                query_confusion_rate(q, t, p, &st);
            else
                query_confusion_count(q, t, p, &st);
            cJSON_AddItemToArray(row, json_double(se ? st.se : st.mean));
        }
        cJSON_AddItemToArray(rows, row);
    }
    return rows;
}

/* show's "confusion": config's matrices summarised over seeds (PROTOCOL.md). */
static int show_confusion(struct mlpd *d, cJSON *resp, int64_t sweep_id, const cJSON *req,
                          struct err *e)
{
    int64_t idx = 0;
    if (!json_is_int(json_get(req, "config"), &idx))
        return err_set(e, MLP_EINVALID_REQUEST, "config",
                       "\"confusion\" needs \"config\": the configuration to show");
    struct query_confusion q = QUERY_CONFUSION_INIT;
    int rc = store_confusions_each(d->st, sweep_id, idx, confusion_row, &q, e);
    if (rc < 0) {
        if (e->code == 0)
            err_set(e, rc, NULL, "out of memory");
        goto out;
    }
    if (q.n == 0) {
        rc = err_set(e, MLP_ENOT_FOUND, "config",
                     "config %lld of this sweep has no recorded confusion matrix (no such "
                     "config, no finished trial yet, or a regression task)",
                     (long long)idx);
        goto out;
    }
    cJSON *co = cJSON_AddObjectToObject(resp, "confusion");
    json_add_int(co, "config", idx);
    json_add_int(co, "classes", q.k);
    json_add_int(co, "n", (int64_t)q.n);
    static const char *const kinds[] = {"counts", "rates"};
    for (int r = 0; r < 2; r++) {
        cJSON *ko = cJSON_AddObjectToObject(co, kinds[r]);
        cJSON_AddItemToObject(ko, "mean", confusion_grid(&q, r == 1, false));
        cJSON_AddItemToObject(ko, "se", confusion_grid(&q, r == 1, true));
    }
    cJSON *ca = cJSON_AddArrayToObject(co, "class_accuracy");
    for (int c = 0; c < q.k; c++) {
        struct stat_summary st;
        query_confusion_rate(&q, c, c, &st);
        cJSON_AddItemToArray(ca, ops__stat_json(&st));
    }
    rc = 0;
out:
    query_confusion_release(&q);
    return rc;
}

int op_show(struct mlpd *d, const cJSON *req, const struct store_sweep *sw, cJSON *resp,
            struct op_intent *it, struct err *e)
{
    (void)it;
    struct query_rows q = QUERY_ROWS_INIT;
    struct cfgs cf = {0};
    struct query_ranked *r = NULL;
    size_t nr = 0;
    long *rank_of = NULL;
    cJSON *keys = NULL;
    int rc, m = 0;
    bool maximize = true;
    if ((rc = query_metric(req, sw, &m, &maximize, e)) < 0 ||
        (rc = ops__rows_load(d, sw->id, &q, e)) < 0 ||
        (rc = ops__cfgs_load(d, sw->id, 0, &cf, e)) < 0)
        goto out;
    if (query_rank(&q, m, maximize, 0, &r, &nr) < 0 ||
        !(rank_of = calloc(q.n_groups + 1, sizeof *rank_of))) {
        rc = err_set(e, MLP_ENOMEM, NULL, "out of memory");
        goto out;
    }
    keys = cJSON_Parse(sw->keys_json);
    const cJSON *by = json_get(req, "by");
    if (cJSON_IsString(by) && (rc = check_by(keys, by->valuestring, e)) < 0)
        goto out;
    for (size_t i = 0; i < nr; i++)
        rank_of[r[i].group] = (long)i + 1;
    if ((rc = ops__add_summary(d, resp, sw->id, e)) < 0)
        goto out;
    cJSON_AddStringToObject(resp, "metric", metric_name(m));
    cJSON_AddStringToObject(resp, "direction", maximize ? "max" : "min");
    cJSON_AddItemToObject(resp, "keys", keys);
    keys = NULL;
    show_configs(resp, &q, &cf, m, cf.n ? sw->c.total / (int64_t)cf.n : 0, rank_of);
    if ((rc = meta_add_config_fields(d->st, sw->id, json_get(resp, "configs"), e)) < 0 ||
        (rc = show_race(d, sw, resp, e)) < 0)
        goto out;
    if (cJSON_IsString(by) && (rc = show_by(resp, &q, &cf, by->valuestring, m, e)) < 0)
        goto out;
    if (cJSON_IsTrue(json_get(req, "confusion")))
        rc = show_confusion(d, resp, sw->id, req, e);
    else if (json_get(req, "config"))
        rc = err_set(e, MLP_EINVALID_REQUEST, "config",
                     "\"config\" is only used with \"confusion\": true");
out:
    cJSON_Delete(keys);
    free(rank_of);
    free(r);
    ops__cfgs_free(&cf);
    query_rows_release(&q);
    return rc;
}

static void p_text(char *buf, size_t n, double p)
{
    if (p < 0.001)
        snprintf(buf, n, "%.1e", p);
    else
        snprintf(buf, n, "%.2g", p);
}

/* best's "comparison": Welch's test of #1 against #2, or null. */
static void best_comparison(cJSON *resp, const struct query_ranked *r, size_t nr)
{
    struct welch w;
    if (!query_compare(r, nr, &w)) {
        cJSON_AddNullToObject(resp, "comparison");
        return;
    }
    cJSON *co = cJSON_AddObjectToObject(resp, "comparison");
    json_add_num(co, "t", w.t);
    json_add_num(co, "df", w.df);
    json_add_num(co, "p", w.p);
    bool sig = w.p < 0.05;
    cJSON_AddBoolToObject(co, "significant", sig);
    char pt[32], sentence[160];
    p_text(pt, sizeof pt, w.p);
    snprintf(sentence, sizeof sentence, "%s better than #2 (p = %s %s 0.05)",
             sig ? "significantly" : "not significantly", pt, sig ? "<" : "\xe2\x89\xa5");
    cJSON_AddStringToObject(co, "sentence", sentence);
}

/* best's "confirmed": the done confirmation trials (012-racing.sql), by configuration. */
struct confirm_rows {
    size_t n, cap;
    struct confirm_row {
        int64_t config, seed;
        double v[MLP_M_N];
    } *r;
};

static int confirm_row(void *ud, const struct store_trial_row *t)
{
    struct confirm_rows *c = ud;
    if (!t->confirm || !t->has_result || strcmp(t->state, "done") != 0)
        return 0;
    if (c->n == c->cap) {
        size_t cap = c->cap ? 2 * c->cap : 32;
        struct confirm_row *p = realloc(c->r, cap * sizeof *p);
        if (!p)
            return MLP_ENOMEM;
        c->r = p;
        c->cap = cap;
    }
    c->r[c->n].config = t->config_idx;
    c->r[c->n].seed = t->seed;
    memcpy(c->r[c->n].v, t->v, sizeof t->v);
    c->n++;
    return 0;
}

static int confirm_row_cmp(const void *a, const void *b)
{
    const struct confirm_row *x = a, *y = b;
    if (x->config != y->config)
        return x->config < y->config ? -1 : 1;
    return (x->seed > y->seed) - (x->seed < y->seed);
}

static int i64_cmp(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/*
 * The confirmed ranking beside the selection one: each configuration's
 * confirmation trials ranked by the sweep's metric, with their test metric and
 * the configuration's selection rank (sel, nsel: the selection ranking).
 * "confirmed": null while no confirmation trial has finished.
 */
static int best_confirmed(struct mlpd *d, const struct store_sweep *sw, cJSON *resp, int m,
                          int mtest, bool maximize, const struct query_ranked *sel, size_t nsel,
                          struct err *e)
{
    struct confirm_rows c = {0};
    struct query_rows q = QUERY_ROWS_INIT;
    struct query_ranked *r = NULL;
    int64_t *seeds = NULL;
    size_t nr = 0;
    int rc = store_trials_each(d->st, sw->id, 0, false, confirm_row, &c, e);
    if (rc != 0) {
        if (rc > 0 || e->code == 0)
            rc = err_set(e, MLP_ENOMEM, NULL, "out of memory");
        goto out;
    }
    if (c.n == 0) {
        cJSON_AddNullToObject(resp, "confirmed");
        goto out;
    }
    qsort(c.r, c.n, sizeof *c.r, confirm_row_cmp);
    seeds = malloc(c.n * sizeof *seeds);
    for (size_t i = 0; seeds && i < c.n; i++)
        seeds[i] = c.r[i].seed;
    for (size_t i = 0; seeds && rc == 0 && i < c.n; i++)
        rc = query_rows_add(&q, c.r[i].config, c.r[i].v);
    if (!seeds || rc < 0 || query_rows_group(&q) < 0 ||
        query_rank(&q, m, maximize, 0, &r, &nr) < 0) {
        rc = err_set(e, MLP_ENOMEM, NULL, "out of memory");
        goto out;
    }
    qsort(seeds, c.n, sizeof *seeds, i64_cmp);
    cJSON *co = cJSON_AddObjectToObject(resp, "confirmed");
    cJSON *sa = cJSON_AddArrayToObject(co, "seeds");
    for (size_t i = 0; i < c.n; i++)
        if (i == 0 || seeds[i] != seeds[i - 1])
            cJSON_AddItemToArray(sa, cJSON_CreateNumber((double)seeds[i]));
    cJSON *arr = cJSON_AddArrayToObject(co, "configs");
    for (size_t i = 0; i < nr; i++) {
        struct cfgs one;
        if ((rc = ops__cfgs_load(d, sw->id, r[i].idx, &one, e)) < 0)
            goto out;
        cJSON *o = cJSON_CreateObject();
        json_add_int(o, "rank", (int64_t)i + 1);
        cJSON_AddItemToObject(o, "config", ops__config_json(&one, r[i].idx));
        ops__cfgs_free(&one);
        size_t k = 0;
        while (k < nsel && sel[k].idx != r[i].idx)
            k++;
        if (k < nsel)
            json_add_int(o, "selection_rank", (int64_t)k + 1);
        else
            cJSON_AddNullToObject(o, "selection_rank");
        cJSON_AddItemToObject(o, "stat", ops__stat_json(&r[i].s));
        struct stat_summary ts;
        query_stat(&q, r[i].group, mtest, &ts);
        cJSON_AddItemToObject(o, "test", ops__stat_json(&ts));
        cJSON_AddItemToArray(arr, o);
    }
    rc = 0;
out:
    free(seeds);
    free(r);
    free(c.r);
    query_rows_release(&q);
    return rc;
}

int op_best(struct mlpd *d, const cJSON *req, const struct store_sweep *sw, cJSON *resp,
            struct op_intent *it, struct err *e)
{
    (void)it;
    struct query_rows q = QUERY_ROWS_INIT;
    struct query_ranked *r = NULL;
    size_t nr = 0;
    int rc;
    int64_t top = 1, min_seeds = 0, bottom = 0;
    json_is_int(json_get(req, "top"), &top);
    json_is_int(json_get(req, "min_seeds"), &min_seeds);
    bool worst = json_is_int(json_get(req, "bottom"), &bottom);
    if (top < 1 || top > 1000000)
        return err_set(e, MLP_EINVALID_REQUEST, "top", "top must be >= 1");
    if (worst && (bottom < 1 || bottom > 1000000))
        return err_set(e, MLP_EINVALID_REQUEST, "bottom", "bottom must be >= 1");
    if (worst && json_get(req, "top"))
        return err_set(e, MLP_EINVALID_REQUEST, "bottom", "give either top or bottom, not both");
    if (worst)
        top = bottom;
    if (min_seeds < 0 || min_seeds > 1000000000)
        return err_set(e, MLP_EINVALID_REQUEST, "min_seeds", "min_seeds must be >= 0");
    int m = 0;
    bool maximize = true;
    if ((rc = query_metric(req, sw, &m, &maximize, e)) < 0 ||
        (rc = ops__rows_load(d, sw->id, &q, e)) < 0)
        goto out;
    if ((rc = query_rank(&q, m, maximize, (int)min_seeds, &r, &nr)) < 0) {
        rc = err_set(e, MLP_ENOMEM, NULL, "out of memory");
        goto out;
    }
    int mtest = metric_sibling(m, METRIC_TEST), mtrain = metric_sibling(m, METRIC_TRAIN);
    if ((rc = ops__add_summary(d, resp, sw->id, e)) < 0)
        goto out;
    cJSON_AddStringToObject(resp, "metric", metric_name(m));
    cJSON_AddStringToObject(resp, "direction", maximize ? "max" : "min");
    cJSON_AddStringToObject(resp, "test_metric", metric_name(mtest));
    cJSON_AddStringToObject(resp, "train_metric", metric_name(mtrain));
    cJSON_AddStringToObject(resp, "order", worst ? "worst" : "best");
    cJSON *arr = cJSON_AddArrayToObject(resp, "configs");
    /* bottom: the last entries of the same ranking, worst first, with their overall rank. */
    for (size_t k = 0; k < nr && (int64_t)k < top; k++) {
        size_t i = worst ? nr - 1 - k : k;
        int64_t idx = r[i].idx;
        struct cfgs one;
        if ((rc = ops__cfgs_load(d, sw->id, idx, &one, e)) < 0)
            goto out;
        cJSON *o = cJSON_CreateObject();
        json_add_int(o, "rank", (int64_t)i + 1);
        cJSON_AddItemToObject(o, "config", ops__config_json(&one, idx));
        ops__cfgs_free(&one);
        cJSON_AddItemToObject(o, "stat", ops__stat_json(&r[i].s));
        json_add_int(o, "diverged", (int64_t)query_count_flag(&q, r[i].group, MLP_M_DIVERGED));
        struct stat_summary ts, trs;
        query_stat(&q, r[i].group, mtrain, &trs);
        cJSON_AddItemToObject(o, "train", ops__stat_json(&trs));
        query_stat(&q, r[i].group, mtest, &ts);
        cJSON_AddItemToObject(o, "test", ops__stat_json(&ts));
        cJSON_AddItemToArray(arr, o);
    }
    best_comparison(resp, r, nr);
    rc = 0;
    if (sw->trials_max > 0) /* racing or confirming: the confirmed ranking, when there is one */
        rc = best_confirmed(d, sw, resp, m, mtest, maximize, r, nr, e);
out:
    free(r);
    query_rows_release(&q);
    return rc;
}

/* compare: one side's seeds and values of the metric (done trials of one config). */
struct cmp_side {
    int64_t config;
    int m;
    size_t n, cap;
    int64_t *seed;
    double *v;
};

static int cmp_side_add(struct cmp_side *c, int64_t seed, double v)
{
    if (c->n == c->cap) {
        size_t cap = c->cap ? 2 * c->cap : 16;
        int64_t *s = realloc(c->seed, cap * sizeof *s);
        if (!s)
            return MLP_ENOMEM;
        c->seed = s;
        double *x = realloc(c->v, cap * sizeof *x);
        if (!x)
            return MLP_ENOMEM;
        c->v = x;
        c->cap = cap;
    }
    c->seed[c->n] = seed;
    c->v[c->n++] = v;
    return 0;
}

static int cmp_row(void *ud, const struct store_trial_row *t)
{
    struct cmp_side *sides = ud;
    for (int i = 0; i < 2; i++)
        if (t->config_idx == sides[i].config && cmp_side_add(&sides[i], t->seed, t->v[sides[i].m]))
            return MLP_ENOMEM;
    return 0;
}

/* The metric compare uses: req.metric (any data metric of the task) or the sweep's. */
static int compare_metric(const cJSON *req, const struct store_sweep *sw, int *m, struct err *e)
{
    const cJSON *mv = json_get(req, "metric");
    const char *name = cJSON_IsString(mv) ? mv->valuestring : sw->metric;
    *m = metric_index(name);
    bool regression = ops__is_regression(sw->dataset_json);
    if (*m < 0 || metric_info(*m)->dir == METRIC_DIR_NONE || !metric_for_task(*m, regression)) {
        char names[256];
        size_t len = 0;
        names[0] = '\0';
        for (int k = 0; k < MLP_M_N; k++)
            if (metric_info(k)->dir != METRIC_DIR_NONE && metric_for_task(k, regression) &&
                len < sizeof names)
                len += (size_t)snprintf(names + len, sizeof names - len, "%s%s", len ? ", " : "",
                                        metric_name(k));
        return err_set(e, MLP_EINVALID_REQUEST, "metric", "cannot compare on \"%s\" (one of %s)",
                       name, names);
    }
    return 0;
}

static cJSON *cmp_side_json(const struct cfgs *cf, int64_t idx, const struct stat_summary *s)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddItemToObject(o, "config", ops__config_json(cf, idx));
    cJSON_AddItemToObject(o, "stat", ops__stat_json(s));
    return o;
}

int op_compare(struct mlpd *d, const cJSON *req, const struct store_sweep *sw, cJSON *resp,
               struct op_intent *it, struct err *e)
{
    (void)it;
    struct cmp_side sides[2] = {{0}, {0}};
    struct query_cmp c = {0};
    struct cfgs cf = {0};
    int rc, m = 0;
    static const char *const names[] = {"a", "b"};
    if ((rc = compare_metric(req, sw, &m, e)) < 0 ||
        (rc = ops__cfgs_load(d, sw->id, 0, &cf, e)) < 0)
        goto out;
    for (int i = 0; i < 2; i++) {
        json_is_int(json_get(req, names[i]), &sides[i].config);
        sides[i].m = m;
        if (ops__cfgs_find(&cf, sides[i].config) < 0) {
            rc = err_set(e, MLP_ENOT_FOUND, names[i], "sweep %lld has no config %lld (1..%zu)",
                         (long long)sw->id, (long long)sides[i].config, cf.n);
            goto out;
        }
    }
    if (sides[0].config == sides[1].config) {
        rc = err_set(e, MLP_EINVALID_REQUEST, "b", "a and b are the same config");
        goto out;
    }
    if ((rc = store_trials_each(d->st, sw->id, 0, true, cmp_row, sides, e)) != 0 ||
        (rc = query_cmp_run(sides[0].seed, sides[0].v, sides[0].n, sides[1].seed, sides[1].v,
                            sides[1].n, &c)) < 0) {
        if (rc > 0 || e->code == 0)
            rc = err_set(e, MLP_ENOMEM, NULL, "out of memory");
        goto out;
    }
    if ((rc = ops__add_summary(d, resp, sw->id, e)) < 0)
        goto out;
    /* The one clipping rule of every interval (show, best, compare). */
    query_clip(m, &c.a);
    query_clip(m, &c.b);
    cJSON_AddStringToObject(resp, "metric", metric_name(m));
    cJSON_AddStringToObject(resp, "direction", metric_maximize(m) ? "max" : "min");
    cJSON_AddItemToObject(resp, "a", cmp_side_json(&cf, sides[0].config, &c.a));
    cJSON_AddItemToObject(resp, "b", cmp_side_json(&cf, sides[1].config, &c.b));
    if (c.has_paired) {
        cJSON *po = cJSON_AddObjectToObject(resp, "paired");
        json_add_int(po, "n", c.paired.n);
        cJSON *seeds = cJSON_AddArrayToObject(po, "seeds");
        for (size_t i = 0; i < c.n_pairs; i++)
            cJSON_AddItemToArray(seeds, cJSON_CreateNumber((double)c.seeds[i]));
        json_add_num(po, "mean_diff", c.paired.mean);
        json_add_num(po, "sd", c.paired.sd);
        json_add_num(po, "se", c.paired.se);
        json_add_num(po, "ci_low", c.paired.ci_low);
        json_add_num(po, "ci_high", c.paired.ci_high);
        json_add_num(po, "t", c.paired.t);
        json_add_num(po, "df", c.paired.df);
        json_add_num(po, "p", c.paired.p);
    } else {
        cJSON_AddNullToObject(resp, "paired");
    }
    if (c.has_welch) {
        cJSON *wo = cJSON_AddObjectToObject(resp, "welch");
        json_add_num(wo, "diff", c.diff);
        json_add_num(wo, "ci_low", c.ci_low);
        json_add_num(wo, "ci_high", c.ci_high);
        json_add_num(wo, "t", c.welch.t);
        json_add_num(wo, "df", c.welch.df);
        json_add_num(wo, "p", c.welch.p);
    } else {
        cJSON_AddNullToObject(resp, "welch");
    }
    rc = 0;
out:
    for (int i = 0; i < 2; i++) {
        free(sides[i].seed);
        free(sides[i].v);
    }
    query_cmp_release(&c);
    ops__cfgs_free(&cf);
    return rc;
}

/* A results row of one trial. */
static cJSON *trial_json(const struct rows_ctx *x, const struct store_trial_row *t)
{
    cJSON *o = cJSON_CreateObject();
    if (!o)
        return NULL;
    json_add_int(o, "trial", t->id);
    json_add_int(o, "config", t->config_idx);
    ops__add_grid_values(o, x->cf, t->config_idx);
    json_add_int(o, "seed", t->seed);
    cJSON_AddStringToObject(o, "state", t->state);
    json_add_int(o, "attempts", t->attempts);
    if (t->confirm) /* a confirmation trial: not part of selection (012-racing.sql) */
        cJSON_AddTrueToObject(o, "confirm");
    for (int k = 0; k < x->n_metrics; k++) {
        int m = x->metrics[k];
        if (metric_info(m)->kind == METRIC_FLAG && t->has_result)
            cJSON_AddBoolToObject(o, "diverged", t->v[m] != 0);
        else
            json_add_num(o, metric_name(m), t->has_result ? t->v[m] : NAN);
    }
    if (t->error)
        cJSON_AddStringToObject(o, "error", t->error);
    return o;
}

/* results: configs are summarised up front, trials and epochs read through a cursor. */
struct results_stream {
    struct op_stream base;
    struct rows_ctx x;
    struct cfgs cf;
    struct query_rows q;
    int metrics[MLP_M_N];
    struct store_cursor *cur; /* trials or curves */
    bool curves;
    struct mlpd *d;   /* set for a page of trials: its configurations are loaded as met */
    int64_t sweep_id;
    size_t next_cfg; /* configs */
    struct chunk k;
    char *head;     /* the answer's fields but "ok" and "rows", as JSON text (first line) */
    bool head_sent; /* the first line has gone (with head when more followed) */
};

/* One aggregated row: config, its grid values, n and mean/sd/se of every metric. */
static cJSON *config_row(struct results_stream *r, size_t i)
{
    long g = query_group(&r->q, r->cf.idx[i]);
    cJSON *o = cJSON_CreateObject();
    if (!o)
        return NULL;
    json_add_int(o, "config", r->cf.idx[i]);
    ops__add_grid_values(o, &r->cf, r->cf.idx[i]);
    json_add_int(o, "n", (int64_t)query_group_size(&r->q, g));
    for (int k = 0; k < r->x.n_metrics; k++) {
        struct stat_summary st;
        query_stat(&r->q, g, r->metrics[k], &st);
        char key[64];
        snprintf(key, sizeof key, "%s_mean", metric_name(r->metrics[k]));
        json_add_num(o, key, st.mean);
        snprintf(key, sizeof key, "%s_sd", metric_name(r->metrics[k]));
        json_add_num(o, key, st.sd);
        snprintf(key, sizeof key, "%s_se", metric_name(r->metrics[k]));
        json_add_num(o, key, st.se);
    }
    return o;
}

static int results_cursor_row(void *ud, const void *row)
{
    struct results_stream *r = ud;
    if (r->d) {
        struct err e = ERR_INIT;
        int rc = ops__cfgs_add(r->d, r->sweep_id, ((const struct store_trial_row *)row)->config_idx,
                               &r->cf, &e);
        if (rc < 0)
            return rc;
    }
    cJSON *o = r->curves ? ops__epoch_json(&r->x, row) : trial_json(&r->x, row);
    return ops__chunk_add(&r->k, o);
}

static int results_next(struct op_stream *base, struct mlpd *d, struct op_buf *out, struct err *e)
{
    (void)d;
    struct results_stream *r = (struct results_stream *)base;
    /* The first line is produced aside: it gets "head" in front when more lines follow. */
    struct op_buf first = {0};
    r->k = (struct chunk){.out = r->head_sent ? out : &first, .field = "rows"};
    int rc = 0;
    if (r->cur) {
        rc = store_cursor_next(r->cur, results_cursor_row, r, e);
    } else {
        while (rc == 0 && r->next_cfg < r->cf.n)
            rc = ops__chunk_add(&r->k, config_row(r, r->next_cfg++));
        if (rc < 0)
            err_set(e, rc, NULL, "out of memory");
        else
            rc = r->next_cfg < r->cf.n;
    }
    if (rc >= 0 && ops__chunk_end(&r->k) < 0)
        rc = err_set(e, MLP_ENOMEM, NULL, "out of memory");
    if (rc >= 0 && !r->head_sent) {
        r->head_sent = true;
        int brc = 0;
        if (rc > 0) { /* "head":{...}, so that a client can write rows as they come */
            brc = ops_buf_add(out, "\"head\":", 7);
            if (brc == 0)
                brc = ops_buf_add(out, r->head, strlen(r->head));
            if (brc == 0)
                brc = ops_buf_add(out, ",", 1);
        }
        if (brc == 0)
            brc = ops_buf_add(out, first.p, first.len);
        if (brc < 0)
            rc = err_set(e, MLP_ENOMEM, NULL, "out of memory");
    }
    free(first.p);
    if (rc < 0)
        return e->code ? e->code : rc;
    return rc;
}

static void results_free(struct op_stream *base)
{
    struct results_stream *r = (struct results_stream *)base;
    store_cursor_close(r->cur);
    free(r->head);
    ops__cfgs_free(&r->cf);
    query_rows_release(&r->q);
    free(r);
}

int op_results(struct mlpd *d, const cJSON *req, const struct store_sweep *sw, cJSON *resp,
               struct op_intent *it, struct err *e)
{
    int rc;
    struct results_stream *r = calloc(1, sizeof *r);
    if (!r) {
        return err_set(e, MLP_ENOMEM, NULL, "out of memory");
    }
    r->base = (struct op_stream){.next = results_next, .free = results_free};
    r->q = (struct query_rows)QUERY_ROWS_INIT;
    bool regression = ops__is_regression(sw->dataset_json);
    r->x = (struct rows_ctx){.cf = &r->cf,
                             .metrics = r->metrics,
                             .n_metrics = metric_task_list(regression, r->metrics),
                             .regression = regression};
    cJSON *keys = cJSON_Parse(sw->keys_json);
    cJSON_AddItemToObject(resp, "keys", keys ? keys : cJSON_CreateArray());
    cJSON_AddStringToObject(resp, "task", regression ? "regression" : "classification");
    /* The grid file's search space (checked at submit), for a model over it (importance). */
    cJSON *gdoc = cJSON_Parse(sw->grid_json);
    const cJSON *srch = gdoc ? json_get(gdoc, "search") : NULL;
    cJSON_AddItemToObject(resp, "search",
                          cJSON_IsObject(srch) ? cJSON_Duplicate(srch, 1) : cJSON_CreateNull());
    cJSON_Delete(gdoc);
    /* The summary names the sweep and its metric for whoever draws or files the rows. */
    if ((rc = ops__add_summary(d, resp, sw->id, e)) < 0)
        goto fail;
    r->curves = cJSON_IsTrue(json_get(req, "curves"));
    bool trials = !r->curves && cJSON_IsTrue(json_get(req, "trials"));
    /* One page of the trials, ordered by mlpd (the dashboard's table at any sweep size). */
    static const char *const page_fields[] = {"offset", "limit", "sort", "desc"};
    bool paged = false;
    for (size_t i = 0; i < sizeof page_fields / sizeof *page_fields; i++)
        if (json_get(req, page_fields[i])) {
            if (!trials) {
                rc = err_set(e, MLP_EINVALID_REQUEST, page_fields[i],
                             "%s applies to per-trial results only (trials: true)", page_fields[i]);
                goto fail;
            }
            paged = true;
        }
    /* A page loads the configurations of its rows only, as it meets them (results_cursor_row). */
    if (!paged && (rc = ops__cfgs_load(d, sw->id, 0, &r->cf, e)) < 0)
        goto fail;
    if (paged) {
        const cJSON *sv = json_get(req, "sort");
        const char *sort = cJSON_IsString(sv) ? sv->valuestring : "trial";
        int m = metric_index(sort);
        if (strcmp(sort, "trial") && strcmp(sort, "config") && strcmp(sort, "seed") &&
            strcmp(sort, "state") && !(m >= 0 && metric_for_task(m, regression))) {
            rc = err_set(e, MLP_EINVALID_REQUEST, "sort",
                         "unknown sort key \"%s\" (trial, config, seed, state or a metric of the "
                         "task)",
                         sort);
            goto fail;
        }
        int64_t off = 0, lim = 0;
        json_is_int(json_get(req, "offset"), &off);
        json_is_int(json_get(req, "limit"), &lim);
        if (off < 0 || lim < 0) {
            rc = err_set(e, MLP_EINVALID_REQUEST, off < 0 ? "offset" : "limit",
                         "%s must be 0 or more", off < 0 ? "offset" : "limit");
            goto fail;
        }
        cJSON_AddStringToObject(resp, "kind", "trials");
        r->d = d;
        r->sweep_id = sw->id;
        r->cur = store_cursor_open_page(d->st, sw->id, sort, cJSON_IsTrue(json_get(req, "desc")),
                                        off, lim, e);
        if (!r->cur) {
            rc = e->code;
            goto fail;
        }
    } else if (r->curves || trials) {
        cJSON_AddStringToObject(resp, "kind", r->curves ? "curves" : "trials");
        r->cur = store_cursor_open(d->st, r->curves ? STORE_CURSOR_EPOCHS : STORE_CURSOR_TRIALS,
                                   sw->id, e);
        if (!r->cur) {
            rc = e->code;
            goto fail;
        }
    } else {
        cJSON_AddStringToObject(resp, "kind", "configs");
        if ((rc = ops__rows_load(d, sw->id, &r->q, e)) < 0)
            goto fail;
    }
    /* The head of a streamed answer: what its last line will carry besides "rows". */
    cJSON *head = cJSON_Duplicate(resp, true);
    if (head)
        cJSON_DeleteItemFromObjectCaseSensitive(head, "ok");
    r->head = head ? json_line(head) : NULL;
    cJSON_Delete(head);
    if (!r->head) {
        rc = err_set(e, MLP_ENOMEM, NULL, "out of memory");
        goto fail;
    }
    it->next = OP_STREAM;
    it->stream = &r->base;
    return 0;
fail:
    results_free(&r->base);
    return rc;
}
