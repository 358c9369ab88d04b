/*
 * ops — one handler per protocol op (daemon/PROTOCOL.md) and the ops table.
 *
 * Handlers get a request already checked against their row of ops_table (types
 * of the listed fields) and add their fields to a response object that already
 * says "ok": true; on failure they return a negative code with *e filled and
 * the server sends the error line.  Queries aggregate in one pass: the store
 * streams result rows ordered by configuration (one index range), they are
 * grouped here and summarised with the stats module (mean, sd, SE, 95% t
 * interval; Welch for best vs runner-up).
 */
#include <cjson/cJSON.h>
#include <ctype.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "data.h"
#include "fetch.h"
#include "grid.h"
#include "json.h"
#include "log.h"
#include "mlp_version.h"
#include "exec.h"
#include "mlpd.h"
#include "sched.h"
#include "server.h"
#include "stats.h"
#include "store.h"

#define FIRST_CONFIGS 5     /* configurations echoed by submit */
#define LOG_TAIL_BYTES 4096 /* trial log tail returned by the trial op */
#define NAME_MAX_LEN 200

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Small JSON builders that tolerate NULL (out of memory shows as a missing field). */
static void add_num(cJSON *o, const char *k, double v)
{
    cJSON_AddItemToObject(o, k, json_double(v));
}

static void add_int(cJSON *o, const char *k, int64_t v)
{
    cJSON_AddNumberToObject(o, k, (double)v);
}

static void add_time(cJSON *o, const char *k, double t)
{
    if (isnan(t))
        cJSON_AddNullToObject(o, k);
    else
        cJSON_AddNumberToObject(o, k, floor(t));
}

static cJSON *stat_json(const struct stat_summary *s)
{
    cJSON *o = cJSON_CreateObject();
    add_int(o, "n", s->n);
    add_num(o, "mean", s->mean);
    add_num(o, "sd", s->sd);
    add_num(o, "se", s->se);
    add_num(o, "ci_low", s->ci_low);
    add_num(o, "ci_high", s->ci_high);
    add_int(o, "nonfinite", s->n_nonfinite);
    return o;
}

/* Metric kinds -------------------------------------------------------------------- */

static bool is_regression(const char *dataset_json)
{
    cJSON *d = cJSON_Parse(dataset_json);
    const cJSON *t = cJSON_IsObject(d) ? json_get(d, "task") : NULL;
    bool r = cJSON_IsString(t) && strcmp(t->valuestring, "regression") == 0;
    cJSON_Delete(d);
    return r;
}

/* The metrics a sweep reports (SPEC "Metrics of a trial"). */
static int task_metrics(bool regression, int *out)
{
    static const int cls[] = {SM_TRAIN_LOSS, SM_TRAIN_ACCURACY, SM_VAL_LOSS,   SM_VAL_ACCURACY,
                              SM_TEST_LOSS,  SM_TEST_ACCURACY,  SM_EPOCHS_RUN, SM_BEST_EPOCH,
                              SM_SECONDS,    SM_DIVERGED};
    static const int reg[] = {SM_TRAIN_LOSS, SM_TRAIN_MSE,  SM_VAL_LOSS,   SM_VAL_MSE, SM_TEST_LOSS,
                              SM_TEST_MSE,   SM_EPOCHS_RUN, SM_BEST_EPOCH, SM_SECONDS, SM_DIVERGED};
    memcpy(out, regression ? reg : cls, sizeof cls);
    return (int)(sizeof cls / sizeof cls[0]);
}

/* "val_accuracy" -> "train_accuracy"; "test_accuracy" for the test counterpart. */
static int metric_sibling(int m, const char *prefix)
{
    const char *name = store_metric_names[m];
    const char *us = strchr(name, '_');
    char buf[64];
    snprintf(buf, sizeof buf, "%s%s", prefix, us ? us : "");
    int k = store_metric_index(buf);
    return k >= 0 ? k : m;
}

/* Aggregation --------------------------------------------------------------------- */

/* Done trials' metric values grouped by configuration (rows in config order). */
struct agg {
    size_t n, cap;
    double *v;    /* n * SM_N */
    int64_t *cfg; /* n */
    size_t n_groups;
    size_t *start; /* n_groups + 1 row offsets */
    int64_t *gidx; /* n_groups config idx */
};

static void agg_free(struct agg *a)
{
    free(a->v);
    free(a->cfg);
    free(a->start);
    free(a->gidx);
    memset(a, 0, sizeof *a);
}

static int agg_row(void *ud, const struct store_value_row *r)
{
    struct agg *a = ud;
    if (a->n == a->cap) {
        size_t cap = a->cap ? 2 * a->cap : 256;
        double *v = realloc(a->v, cap * SM_N * sizeof *v);
        if (!v)
            return MLP_ENOMEM;
        a->v = v;
        int64_t *c = realloc(a->cfg, cap * sizeof *c);
        if (!c)
            return MLP_ENOMEM;
        a->cfg = c;
        a->cap = cap;
    }
    memcpy(a->v + a->n * SM_N, r->v, sizeof r->v);
    a->cfg[a->n++] = r->config_idx;
    return 0;
}

static int agg_load(struct mlpd *d, int64_t sweep_id, struct agg *a, struct err *e)
{
    memset(a, 0, sizeof *a);
    int rc = store_values_each(d->st, sweep_id, agg_row, a, e);
    if (rc < 0) {
        if (e->code == 0)
            err_set(e, rc, NULL, "out of memory");
        agg_free(a);
        return rc;
    }
    size_t g = 0;
    for (size_t i = 0; i < a->n; i++)
        if (i == 0 || a->cfg[i] != a->cfg[i - 1])
            g++;
    a->start = malloc((g + 1) * sizeof *a->start);
    a->gidx = malloc((g + 1) * sizeof *a->gidx);
    if (!a->start || !a->gidx) {
        agg_free(a);
        return err_set(e, MLP_ENOMEM, NULL, "out of memory");
    }
    g = 0;
    for (size_t i = 0; i < a->n; i++)
        if (i == 0 || a->cfg[i] != a->cfg[i - 1]) {
            a->start[g] = i;
            a->gidx[g++] = a->cfg[i];
        }
    a->start[g] = a->n;
    a->n_groups = g;
    return 0;
}

/* Summary of metric m over rows [from, to). */
static void agg_stat(const struct agg *a, size_t from, size_t to, int m, double *tmp,
                     struct stat_summary *s)
{
    size_t k = 0;
    for (size_t i = from; i < to; i++)
        tmp[k++] = a->v[i * SM_N + m];
    stats_summarize(tmp, k, 0.95, s);
}

/* Group of config idx, or -1. */
static long agg_group(const struct agg *a, int64_t idx)
{
    size_t lo = 0, hi = a->n_groups;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (a->gidx[mid] < idx)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < a->n_groups && a->gidx[lo] == idx ? (long)lo : -1;
}

struct ranked {
    int64_t idx;
    long group;
    struct stat_summary s;
    int tier; /* 0 all finite, 1 some non-finite (diverged loss), 2 no finite value */
};

static bool better(const struct ranked *a, const struct ranked *b, bool maximize)
{
    if (a->tier != b->tier)
        return a->tier < b->tier;
    if (a->tier < 2 && a->s.mean != b->s.mean)
        return maximize ? a->s.mean > b->s.mean : a->s.mean < b->s.mean;
    return a->idx < b->idx;
}

/* qsort_r comparator: queries run on pool threads, so no global direction. */
static int ranked_cmp(const void *x, const void *y, void *arg)
{
    const struct ranked *a = x, *b = y;
    bool maximize = *(const bool *)arg;
    if (better(a, b, maximize))
        return -1;
    if (better(b, a, maximize))
        return 1;
    return 0;
}

/* Rank every configuration with at least one done trial, best first.  *out malloc'ed. */
static int rank_configs(const struct agg *a, int m, bool maximize, int min_seeds,
                        struct ranked **out, size_t *n_out, struct err *e)
{
    *out = NULL;
    *n_out = 0;
    if (a->n_groups == 0)
        return 0;
    struct ranked *r = calloc(a->n_groups, sizeof *r);
    double *tmp = malloc((a->n + 1) * sizeof *tmp);
    if (!r || !tmp) {
        free(r);
        free(tmp);
        return err_set(e, MLP_ENOMEM, NULL, "out of memory");
    }
    size_t k = 0;
    for (size_t g = 0; g < a->n_groups; g++) {
        struct ranked x = {.idx = a->gidx[g], .group = (long)g};
        agg_stat(a, a->start[g], a->start[g + 1], m, tmp, &x.s);
        if (x.s.n + x.s.n_nonfinite < min_seeds)
            continue;
        x.tier = x.s.n == 0 ? 2 : x.s.n_nonfinite > 0 ? 1 : 0;
        r[k++] = x;
    }
    free(tmp);
    qsort_r(r, k, sizeof *r, ranked_cmp, &maximize);
    *out = r;
    *n_out = k;
    return 0;
}

/* Sweeps ------------------------------------------------------------------------ */

int ops_sweep_ref(struct mlpd *d, const cJSON *ref, int64_t *id, struct err *e)
{
    int64_t v;
    if (json_is_int(ref, &v)) {
        *id = v;
    } else if (cJSON_IsString(ref)) {
        const char *s = ref->valuestring;
        char *end;
        long long n = strtoll(s, &end, 10);
        if (*s && isdigit((unsigned char)*s) && *end == '\0')
            *id = n;
        else
            return store_sweep_by_name(d->st, s, id, e);
    } else {
        return err_set(e, MLP_EINVALID_REQUEST, "sweep", "expected a sweep id or name");
    }
    struct store_sweep sw;
    if (store_sweep_get(d->st, *id, &sw, e) < 0)
        return e->code;
    store_sweep_release(&sw);
    return 0;
}

static const char *sweep_state(const struct store_sweep *sw)
{
    const struct store_counts *c = &sw->c;
    if (c->queued + c->running == 0 && c->total > 0)
        return c->failed > 0 ? "failed" : c->cancelled > 0 ? "cancelled" : "done";
    if (sw->cancelled)
        return "cancelled";
    if (sw->paused)
        return "paused";
    if (c->running > 0 || c->done + c->failed + c->cancelled > 0)
        return "running";
    return "queued";
}

/* The best configuration so far, from SQL aggregates (cheap enough for every event). */
struct best_acc {
    bool maximize;
    bool found;
    struct ranked best; /* s.n, s.mean, s.se and tier are set */
};

static int best_row(void *ud, const struct store_mean_row *r)
{
    struct best_acc *b = ud;
    struct ranked x = {.idx = r->config_idx};
    x.s.n = (int)r->n;
    x.s.n_nonfinite = (int)(r->rows - r->n);
    x.s.mean = r->n > 0 ? r->mean : NAN;
    x.s.se = NAN;
    if (r->n >= 2) {
        double var = (r->sumsq - (double)r->n * r->mean * r->mean) / (double)(r->n - 1);
        x.s.se = sqrt(var > 0 ? var : 0) / sqrt((double)r->n);
    }
    x.tier = r->n == 0 ? 2 : r->rows > r->n ? 1 : 0;
    if (x.tier < 2 && (!b->found || better(&x, &b->best, b->maximize))) {
        b->best = x;
        b->found = true;
    }
    return 0;
}

static cJSON *summary_of(struct mlpd *d, const struct store_sweep *sw, struct err *e)
{
    cJSON *o = cJSON_CreateObject();
    if (!o) {
        err_set(e, MLP_ENOMEM, NULL, "out of memory");
        return NULL;
    }
    add_int(o, "id", sw->id);
    cJSON_AddStringToObject(o, "name", sw->name);
    cJSON_AddStringToObject(o, "state", sweep_state(sw));
    add_int(o, "priority", sw->priority);
    cJSON_AddStringToObject(o, "metric", sw->metric);
    cJSON *ds = cJSON_Parse(sw->dataset_json);
    cJSON_AddItemToObject(o, "dataset", ds ? ds : cJSON_CreateNull());
    add_time(o, "created", sw->created);
    add_time(o, "finished", sw->c.finished);
    add_int(o, "total", sw->c.total);
    add_int(o, "queued", sw->c.queued);
    add_int(o, "running", sw->c.running);
    add_int(o, "done", sw->c.done);
    add_int(o, "failed", sw->c.failed);
    add_int(o, "cancelled", sw->c.cancelled);
    cJSON_AddBoolToObject(o, "paused", sw->paused);
    struct best_acc b = {.maximize = sw->maximize};
    if (sw->c.done > 0 && store_config_means(d->st, sw->id, sw->metric, best_row, &b, e) < 0) {
        cJSON_Delete(o);
        return NULL;
    }
    if (b.found) {
        cJSON *bo = cJSON_AddObjectToObject(o, "best");
        add_int(bo, "config", b.best.idx);
        add_num(bo, "mean", b.best.s.mean);
        add_num(bo, "se", b.best.s.se);
        add_int(bo, "n", b.best.s.n);
    } else {
        cJSON_AddNullToObject(o, "best");
    }
    if (exec_sweep_fields(d, sw->id, o, e) < 0) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

cJSON *ops_sweep_summary(struct mlpd *d, int64_t id, bool *ended, struct err *e)
{
    struct store_sweep sw;
    if (store_sweep_get(d->st, id, &sw, e) < 0)
        return NULL;
    cJSON *o = summary_of(d, &sw, e);
    if (ended)
        *ended = sw.c.queued + sw.c.running == 0;
    store_sweep_release(&sw);
    return o;
}

int ops_sweep_ended(struct mlpd *d, int64_t id, bool *ended, struct err *e)
{
    struct store_sweep sw;
    if (store_sweep_get(d->st, id, &sw, e) < 0)
        return e->code;
    *ended = sw.c.queued + sw.c.running == 0;
    store_sweep_release(&sw);
    return 0;
}

cJSON *ops_progress_event(struct mlpd *d, int64_t id, bool *ended, struct err *e)
{
    struct store_sweep sw;
    if (store_sweep_get(d->st, id, &sw, e) < 0)
        return NULL;
    cJSON *sum = summary_of(d, &sw, e);
    if (!sum) {
        store_sweep_release(&sw);
        return NULL;
    }
    *ended = sw.c.queued + sw.c.running == 0;
    cJSON *ev = cJSON_CreateObject();
    cJSON_AddTrueToObject(ev, "ok");
    cJSON_AddStringToObject(ev, "event", *ended ? "end" : "progress");
    cJSON_AddItemToObject(ev, "sweep", sum);
    /* ETA: remaining work over the slots that can run it, at the mean trial time so far. */
    double eta = NAN, avg = NAN;
    if (!*ended && !sw.paused && sw.c.done > 0 &&
        store_sweep_avg_seconds(d->st, id, &avg, e) == 0 && !isnan(avg)) {
        double remaining = (double)sw.c.queued + 0.5 * (double)sw.c.running;
        double par = (double)sched_slots(d->sched);
        double todo = (double)(sw.c.queued + sw.c.running);
        if (todo < par)
            par = todo;
        if (par < 1)
            par = 1;
        eta = remaining * avg / par;
    }
    if (isnan(eta))
        cJSON_AddNullToObject(ev, "eta");
    else
        cJSON_AddNumberToObject(ev, "eta", ceil(eta));
    store_sweep_release(&sw);
    return ev;
}

int ops_active_sweeps(struct mlpd *d, int64_t **ids, size_t *n)
{
    struct err e = ERR_INIT;
    return store_active_sweeps(d->st, ids, n, &e);
}

bool ops_any_active(struct mlpd *d)
{
    struct store_counts c;
    int64_t ns;
    struct err e = ERR_INIT;
    if (store_global_counts(d->st, &c, &ns, &e) < 0)
        return false;
    return c.queued + c.running > 0;
}

/* Resolve req.sweep and read it; release with store_sweep_release. */
static int load_sweep(struct mlpd *d, const cJSON *req, struct store_sweep *sw, struct err *e)
{
    int64_t id;
    if (ops_sweep_ref(d, json_get(req, "sweep"), &id, e) < 0)
        return e->code;
    return store_sweep_get(d->st, id, sw, e);
}

static int add_summary(struct mlpd *d, cJSON *resp, int64_t id, struct err *e)
{
    cJSON *s = ops_sweep_summary(d, id, NULL, e);
    if (!s)
        return e->code;
    cJSON_AddItemToObject(resp, "sweep", s);
    return 0;
}

/* Configurations ------------------------------------------------------------------- */

struct cfgs {
    size_t n, cap;
    int64_t *idx;
    cJSON **params, **grid; /* parsed, owned */
};

static void cfgs_free(struct cfgs *c)
{
    for (size_t i = 0; i < c->n; i++) {
        cJSON_Delete(c->params[i]);
        cJSON_Delete(c->grid[i]);
    }
    free(c->idx);
    free(c->params);
    free(c->grid);
    memset(c, 0, sizeof *c);
}

static int cfgs_row(void *ud, const struct store_config_row *r)
{
    struct cfgs *c = ud;
    if (c->n == c->cap) {
        size_t cap = c->cap ? 2 * c->cap : 16;
        int64_t *i = realloc(c->idx, cap * sizeof *i);
        if (!i)
            return MLP_ENOMEM;
        c->idx = i;
        cJSON **p = realloc(c->params, cap * sizeof *p);
        if (!p)
            return MLP_ENOMEM;
        c->params = p;
        cJSON **g = realloc(c->grid, cap * sizeof *g);
        if (!g)
            return MLP_ENOMEM;
        c->grid = g;
        c->cap = cap;
    }
    c->idx[c->n] = r->idx;
    c->params[c->n] = cJSON_Parse(r->params_json);
    c->grid[c->n] = cJSON_Parse(r->varying_json);
    c->n++;
    return 0;
}

static int cfgs_load(struct mlpd *d, int64_t sweep_id, int64_t only, struct cfgs *c, struct err *e)
{
    memset(c, 0, sizeof *c);
    int rc = store_configs_each(d->st, sweep_id, only, cfgs_row, c, e);
    if (rc < 0) {
        if (e->code == 0)
            err_set(e, rc, NULL, "out of memory");
        cfgs_free(c);
    }
    return rc;
}

/* Position of config idx (configs are 1..n in order, so usually idx-1). */
static long cfgs_find(const struct cfgs *c, int64_t idx)
{
    if (idx >= 1 && (size_t)idx <= c->n && c->idx[idx - 1] == idx)
        return (long)(idx - 1);
    for (size_t i = 0; i < c->n; i++)
        if (c->idx[i] == idx)
            return (long)i;
    return -1;
}

/* The "config" shape {id, params, grid}. */
static cJSON *config_json(const struct cfgs *c, int64_t idx)
{
    cJSON *o = cJSON_CreateObject();
    add_int(o, "id", idx);
    long i = cfgs_find(c, idx);
    cJSON_AddItemToObject(o, "params",
                          i >= 0 && c->params[i] ? cJSON_Duplicate(c->params[i], 1)
                                                 : cJSON_CreateNull());
    cJSON_AddItemToObject(
        o, "grid", i >= 0 && c->grid[i] ? cJSON_Duplicate(c->grid[i], 1) : cJSON_CreateNull());
    return o;
}

/* Copy config idx's grid values into row under their keys. */
static void add_grid_values(cJSON *row, const struct cfgs *c, int64_t idx)
{
    long i = cfgs_find(c, idx);
    if (i < 0 || !c->grid[i])
        return;
    const cJSON *kv;
    cJSON_ArrayForEach(kv, c->grid[i]) if (!json_get(row, kv->string))
        cJSON_AddItemToObject(row, kv->string, cJSON_Duplicate(kv, 1));
}

/* Ops ------------------------------------------------------------------------------ */

static int op_hello(struct mlpd *d, struct client *c, const cJSON *req, cJSON *resp, struct err *e)
{
    (void)c;
    int64_t p = 0;
    json_is_int(json_get(req, "protocol"), &p);
    if (p != 1)
        return err_set(e, MLP_EPROTOCOL, "protocol",
                       "protocol %lld is not supported; this mlpd speaks protocol 1", (long long)p);
    add_int(resp, "protocol", 1);
    cJSON_AddStringToObject(resp, "version", MLP_VERSION);
    add_int(resp, "pid", getpid());
    (void)d;
    return 0;
}

static int op_status(struct mlpd *d, struct client *c, const cJSON *req, cJSON *resp, struct err *e)
{
    (void)c;
    (void)req;
    struct store_counts cnt;
    int64_t n_sweeps;
    if (store_global_counts(d->st, &cnt, &n_sweeps, e) < 0)
        return e->code;
    cJSON_AddStringToObject(resp, "version", MLP_VERSION);
    add_int(resp, "pid", getpid());
    add_num(resp, "uptime", floor(now_s() - d->started));
    cJSON *w = cJSON_AddObjectToObject(resp, "workers");
    add_int(w, "busy", sched_busy(d->sched));
    add_int(w, "total", sched_slots(d->sched));
    add_int(resp, "threads", d->cfg.threads);
    cJSON *t = cJSON_AddObjectToObject(resp, "trials");
    add_int(t, "queued", cnt.queued);
    add_int(t, "running", cnt.running);
    add_int(t, "done", cnt.done);
    add_int(t, "failed", cnt.failed);
    add_int(t, "cancelled", cnt.cancelled);
    add_int(resp, "sweeps", n_sweeps);
    cJSON_AddStringToObject(resp, "state_dir", d->cfg.state_dir);
    cJSON_AddStringToObject(resp, "socket", d->cfg.socket);
    cJSON_AddBoolToObject(resp, "draining", d->draining);
    cJSON_AddStringToObject(resp, "worker", d->worker);
    return exec_status_fields(d, resp, e);
}

static int op_list(struct mlpd *d, struct client *c, const cJSON *req, cJSON *resp, struct err *e)
{
    (void)c;
    (void)req;
    int64_t *ids;
    size_t n;
    if (store_sweep_ids(d->st, &ids, &n, e) < 0)
        return e->code;
    cJSON *arr = cJSON_AddArrayToObject(resp, "sweeps");
    for (size_t i = 0; i < n; i++) {
        cJSON *s = ops_sweep_summary(d, ids[i], NULL, e);
        if (!s) {
            free(ids);
            return e->code;
        }
        cJSON_AddItemToArray(arr, s);
    }
    free(ids);
    return 0;
}

static bool name_ok(const char *name, struct err *e)
{
    size_t n = strlen(name);
    if (n == 0 || n > NAME_MAX_LEN) {
        err_set(e, MLP_EINVALID_REQUEST, "name", "a sweep name has 1 to %d characters",
                NAME_MAX_LEN);
        return false;
    }
    bool digits = true;
    for (const char *p = name; *p; p++) {
        if ((unsigned char)*p < 0x20) {
            err_set(e, MLP_EINVALID_REQUEST, "name", "a sweep name has no control characters");
            return false;
        }
        if (!isdigit((unsigned char)*p))
            digits = false;
    }
    if (digits) {
        err_set(e, MLP_EINVALID_REQUEST, "name",
                "a sweep name cannot be all digits (it would read as an id): \"%s\"", name);
        return false;
    }
    return true;
}

/*
 * A free sweep name derived from base: base itself, else base-2, base-3, ...
 * An all-digit base (a file called 001.json) gets a "sweep-" prefix so it
 * cannot read as an id.  Over-long bases are cut to leave room for the suffix.
 */
static int unique_name(struct mlpd *d, const char *base, char *out, size_t n, struct err *e)
{
    char stem[NAME_MAX_LEN + 1];
    bool digits = *base != 0;
    for (const char *p = base; *p; p++)
        if (!isdigit((unsigned char)*p))
            digits = false;
    snprintf(stem, sizeof stem, "%s%.*s", digits ? "sweep-" : "", NAME_MAX_LEN - 16, base);
    for (int k = 1; k < 1000000; k++) {
        if (k == 1)
            snprintf(out, n, "%s", stem);
        else
            snprintf(out, n, "%s-%d", stem, k);
        int64_t id;
        struct err tmp = ERR_INIT;
        int rc = store_sweep_by_name(d->st, out, &id, &tmp);
        if (rc == MLP_ENOT_FOUND)
            return 0;
        if (rc < 0) {
            *e = tmp;
            return rc;
        }
    }
    return err_set(e, MLP_ECONFLICT, "name", "no free name derived from \"%s\"", base);
}

static cJSON *first_configs(const struct grid *g)
{
    cJSON *arr = cJSON_CreateArray();
    size_t n = grid_n_configs(g);
    for (size_t i = 0; i < n && i < FIRST_CONFIGS; i++) {
        cJSON *o = cJSON_CreateObject();
        add_int(o, "id", (int64_t)i + 1);
        cJSON_AddItemToObject(o, "params", grid_config_params(g, i));
        cJSON_AddItemToObject(o, "grid", grid_config_varying(g, i));
        cJSON_AddItemToArray(arr, o);
    }
    return arr;
}

static int op_submit(struct mlpd *d, struct client *c, const cJSON *req, cJSON *resp, struct err *e)
{
    (void)c;
    if (d->draining)
        return err_set(e, MLP_ESHUTTING_DOWN, NULL,
                       "mlpd is shutting down and accepts no new sweeps");
    const cJSON *doc = json_get(req, "grid");
    const cJSON *bd = json_get(req, "base_dir");
    const cJSON *nm = json_get(req, "name");
    int64_t priority = 0;
    json_is_int(json_get(req, "priority"), &priority);
    if (priority < -1000000000 || priority > 1000000000)
        return err_set(e, MLP_EINVALID_REQUEST, "priority",
                       "priority must be within -1000000000..1000000000");
    bool dry = cJSON_IsTrue(json_get(req, "dry_run"));
    struct grid_opts go = {
        .default_name = NULL,
        .base_dir = cJSON_IsString(bd) ? bd->valuestring : NULL,
        .max_trials = d->cfg.max_trials,
        .force = cJSON_IsTrue(json_get(req, "force")),
    };
    struct grid *g = NULL;
    char **params = NULL, **vary = NULL;
    int64_t *seeds = NULL;
    char *grid_text = NULL, *ds_text = NULL, *keys_text = NULL;
    cJSON *dsj = NULL, *keys = NULL;
    size_t nc = 0;
    const char *executor;
    int rc = grid_parse(doc, &go, &g, e);
    if (rc < 0)
        return rc;
    if ((rc = exec_resolve(d, grid_executor(g), &executor, e)) < 0)
        goto out;
    struct data_dirs dirs = {
        .data_dir = d->cfg.data_dir, .system_dir = FETCH_SYSTEM_DIR, .cache_dir = NULL};
    if ((rc = data_check(grid_dataset(g), &dirs, e)) < 0) {
        if (!e->path[0])
            snprintf(e->path, sizeof e->path, "dataset");
        goto out;
    }
    /*
     * An explicit name (--name) must be free; a derived one (the grid's "name",
     * else the client's default: the file's base name) is made unique with a
     * "-2", "-3", ... suffix, so submitting the same file twice just works.
     */
    const char *name = NULL;
    char derived[NAME_MAX_LEN + 32];
    const cJSON *dn = json_get(req, "default_name");
    if (cJSON_IsString(nm)) {
        name = nm->valuestring;
    } else if (cJSON_IsString(json_get(doc, "name")) || cJSON_IsString(dn)) {
        const char *base = cJSON_IsString(json_get(doc, "name")) ? grid_name(g) : dn->valuestring;
        if ((rc = unique_name(d, base, derived, sizeof derived, e)) < 0)
            goto out;
        name = derived;
    }
    if (name && !name_ok(name, e)) {
        rc = e->code;
        goto out;
    }
    nc = grid_n_configs(g);
    add_int(resp, "trials", (int64_t)grid_n_trials(g));
    add_int(resp, "configs", (int64_t)nc);
    cJSON_AddItemToObject(resp, "first", first_configs(g));
    if (dry) {
        cJSON_AddStringToObject(resp, "name", name ? name : "");
        cJSON_AddStringToObject(resp, "metric", grid_metric(g));
        rc = 0;
        goto out;
    }
    params = calloc(nc ? nc : 1, sizeof *params);
    vary = calloc(nc ? nc : 1, sizeof *vary);
    seeds = calloc(grid_n_seeds(g) + 1, sizeof *seeds);
    keys = cJSON_CreateArray();
    dsj = grid_dataset_json(g);
    grid_text = json_line(doc);
    if (!params || !vary || !seeds || !keys || !dsj || !grid_text)
        goto nomem;
    ds_text = json_line(dsj);
    for (size_t i = 0; i < grid_n_keys(g); i++)
        cJSON_AddItemToArray(keys, cJSON_CreateString(grid_key(g, i)));
    keys_text = json_line(keys);
    if (!ds_text || !keys_text)
        goto nomem;
    for (size_t i = 0; i < nc; i++) {
        cJSON *p = grid_config_params(g, i);
        cJSON *v = grid_config_varying(g, i);
        params[i] = json_line(p);
        vary[i] = json_line(v);
        cJSON_Delete(p);
        cJSON_Delete(v);
        if (!params[i] || !vary[i])
            goto nomem;
    }
    for (size_t k = 0; k < grid_n_seeds(g); k++)
        seeds[k] = grid_seed(g, k);
    struct store_new_sweep ns = {
        .name = name,
        .grid_json = grid_text,
        .dataset_json = ds_text,
        .keys_json = keys_text,
        .metric = grid_metric(g),
        .maximize = grid_metric_maximize(g),
        .priority = priority,
        .executor = executor,
        .n_configs = nc,
        .params_json = (const char *const *)params,
        .varying_json = (const char *const *)vary,
        .n_seeds = grid_n_seeds(g),
        .seeds = seeds,
    };
    int64_t id;
    double t0 = now_s();
    if ((rc = store_submit(d->st, &ns, &id, e)) < 0)
        goto out;
    log_info("sweep %lld submitted: %zu configurations, %zu trials (stored in %.3f s)",
             (long long)id, nc, grid_n_trials(g), now_s() - t0);
    if ((rc = add_summary(d, resp, id, e)) < 0)
        goto out;
    sched_kick(d->sched);
    server_notify(d->srv, id);
    rc = 0;
    goto out;
nomem:
    rc = err_set(e, MLP_ENOMEM, NULL, "out of memory");
out:
    for (size_t i = 0; params && i < nc; i++)
        free(params[i]);
    for (size_t i = 0; vary && i < nc; i++)
        free(vary[i]);
    free(params);
    free(vary);
    free(seeds);
    free(grid_text);
    free(ds_text);
    free(keys_text);
    cJSON_Delete(dsj);
    cJSON_Delete(keys);
    grid_free(g);
    return rc;
}

/* The metric a query ranks by: req.metric or the sweep's. */
static int query_metric(const cJSON *req, const struct store_sweep *sw, int *m, bool *maximize,
                        struct err *e)
{
    const cJSON *mv = json_get(req, "metric");
    const char *name = cJSON_IsString(mv) ? mv->valuestring : sw->metric;
    if (!grid_metric_valid(name) || (*m = store_metric_index(name)) < 0)
        return err_set(e, MLP_EINVALID_REQUEST, "metric",
                       "cannot rank by \"%s\" (one of train_loss, train_accuracy, val_loss, "
                       "val_accuracy, train_mse, val_mse; test metrics never rank)",
                       name);
    *maximize = grid_metric_is_max(name);
    return 0;
}

static int op_show(struct mlpd *d, struct client *c, const cJSON *req, cJSON *resp, struct err *e)
{
    (void)c;
    struct store_sweep sw;
    struct agg a = {0};
    struct cfgs cf = {0};
    struct ranked *r = NULL;
    size_t nr = 0;
    double *tmp = NULL;
    long *rank_of = NULL;
    cJSON *keys = NULL;
    int rc;
    if ((rc = load_sweep(d, req, &sw, e)) < 0)
        return rc;
    int m = 0;
    bool maximize = true;
    if ((rc = query_metric(req, &sw, &m, &maximize, e)) < 0)
        goto out;
    if ((rc = agg_load(d, sw.id, &a, e)) < 0 || (rc = cfgs_load(d, sw.id, 0, &cf, e)) < 0 ||
        (rc = rank_configs(&a, m, maximize, 0, &r, &nr, e)) < 0)
        goto out;
    keys = cJSON_Parse(sw.keys_json);
    const cJSON *by = json_get(req, "by");
    if (cJSON_IsString(by)) {
        bool found = false;
        const cJSON *k;
        cJSON_ArrayForEach(k, keys) if (cJSON_IsString(k) &&
                                        strcmp(k->valuestring, by->valuestring) == 0) found = true;
        if (!found) {
            char *kt = json_line(keys);
            rc = err_set(e, MLP_EINVALID_REQUEST, "by",
                         "\"%s\" is not a grid key of this sweep (keys: %s)", by->valuestring,
                         kt ? kt : "?");
            free(kt);
            goto out;
        }
    }
    tmp = malloc((a.n + 1) * sizeof *tmp);
    rank_of = calloc(a.n_groups + 1, sizeof *rank_of);
    if (!tmp || !rank_of) {
        rc = err_set(e, MLP_ENOMEM, NULL, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < nr; i++)
        rank_of[r[i].group] = (long)i + 1;
    if ((rc = add_summary(d, resp, sw.id, e)) < 0)
        goto out;
    cJSON_AddStringToObject(resp, "metric", store_metric_names[m]);
    cJSON_AddStringToObject(resp, "direction", maximize ? "max" : "min");
    cJSON_AddItemToObject(resp, "keys", keys);
    keys = NULL;
    int mt = metric_sibling(m, "train");
    int mv = metric_sibling(m, "val");
    int64_t seeds_total = cf.n ? sw.c.total / (int64_t)cf.n : 0;
    cJSON *arr = cJSON_AddArrayToObject(resp, "configs");
    for (size_t i = 0; i < cf.n; i++) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddItemToObject(o, "config", config_json(&cf, cf.idx[i]));
        long g = agg_group(&a, cf.idx[i]);
        size_t from = g >= 0 ? a.start[g] : 0, to = g >= 0 ? a.start[g + 1] : 0;
        struct stat_summary s, st, sv;
        agg_stat(&a, from, to, m, tmp, &s);
        agg_stat(&a, from, to, mt, tmp, &st);
        agg_stat(&a, from, to, mv, tmp, &sv);
        add_int(o, "seeds_done", (int64_t)(to - from));
        add_int(o, "seeds_total", seeds_total);
        cJSON_AddItemToObject(o, "stat", stat_json(&s));
        cJSON_AddItemToObject(o, "train", stat_json(&st));
        add_num(o, "gap", st.mean - sv.mean);
        if (g >= 0 && rank_of[g] > 0)
            add_int(o, "rank", rank_of[g]);
        else
            cJSON_AddNullToObject(o, "rank");
        cJSON_AddItemToArray(arr, o);
    }
    if (cJSON_IsString(by)) {
        /* Marginal effect: every done trial of every configuration with that value. */
        cJSON *bo = cJSON_AddObjectToObject(resp, "by");
        cJSON_AddStringToObject(bo, "key", by->valuestring);
        cJSON *vals = cJSON_AddArrayToObject(bo, "values");
        size_t nv = 0;
        char **texts = calloc(cf.n + 1, sizeof *texts);
        size_t *vof = calloc(cf.n + 1, sizeof *vof);
        double *buf = malloc((a.n + 1) * sizeof *buf);
        if (!texts || !vof || !buf) {
            free(texts);
            free(vof);
            free(buf);
            rc = err_set(e, MLP_ENOMEM, NULL, "out of memory");
            goto out;
        }
        char **uniq = texts; /* first nv entries: distinct value texts */
        char **cfg_text = calloc(cf.n + 1, sizeof *cfg_text);
        for (size_t i = 0; cfg_text && i < cf.n; i++) {
            const cJSON *v = cf.grid[i] ? json_get(cf.grid[i], by->valuestring) : NULL;
            cfg_text[i] = v ? json_line(v) : NULL;
            if (!cfg_text[i])
                continue;
            size_t j = 0;
            while (j < nv && strcmp(uniq[j], cfg_text[i]) != 0)
                j++;
            if (j == nv)
                uniq[nv++] = cfg_text[i];
            vof[i] = j;
        }
        for (size_t j = 0; cfg_text && j < nv; j++) {
            size_t k = 0, ncfg = 0;
            for (size_t i = 0; i < cf.n; i++) {
                if (!cfg_text[i] || vof[i] != j)
                    continue;
                ncfg++;
                long g = agg_group(&a, cf.idx[i]);
                if (g < 0)
                    continue;
                for (size_t row = a.start[g]; row < a.start[g + 1]; row++)
                    buf[k++] = a.v[row * SM_N + m];
            }
            struct stat_summary s;
            stats_summarize(buf, k, 0.95, &s);
            cJSON *vo = cJSON_CreateObject();
            cJSON_AddItemToObject(vo, "value", cJSON_Parse(uniq[j]));
            add_int(vo, "configs", (int64_t)ncfg);
            cJSON_AddItemToObject(vo, "stat", stat_json(&s));
            cJSON_AddItemToArray(vals, vo);
        }
        for (size_t i = 0; cfg_text && i < cf.n; i++)
            free(cfg_text[i]);
        free(cfg_text);
        free(texts);
        free(vof);
        free(buf);
    }
    rc = 0;
out:
    cJSON_Delete(keys);
    free(tmp);
    free(rank_of);
    free(r);
    cfgs_free(&cf);
    agg_free(&a);
    store_sweep_release(&sw);
    return rc;
}

static void p_text(char *buf, size_t n, double p)
{
    if (p < 0.001)
        snprintf(buf, n, "%.1e", p);
    else
        snprintf(buf, n, "%.2g", p);
}

static int op_best(struct mlpd *d, struct client *c, const cJSON *req, cJSON *resp, struct err *e)
{
    (void)c;
    struct store_sweep sw;
    struct agg a = {0};
    struct cfgs cf = {0};
    struct ranked *r = NULL;
    size_t nr = 0;
    double *tmp = NULL;
    int rc;
    int64_t top = 1, min_seeds = 0;
    json_is_int(json_get(req, "top"), &top);
    json_is_int(json_get(req, "min_seeds"), &min_seeds);
    if (top < 1 || top > 1000000)
        return err_set(e, MLP_EINVALID_REQUEST, "top", "top must be >= 1");
    if (min_seeds < 0 || min_seeds > 1000000000)
        return err_set(e, MLP_EINVALID_REQUEST, "min_seeds", "min_seeds must be >= 0");
    if ((rc = load_sweep(d, req, &sw, e)) < 0)
        return rc;
    int m = 0;
    bool maximize = true;
    if ((rc = query_metric(req, &sw, &m, &maximize, e)) < 0)
        goto out;
    if ((rc = agg_load(d, sw.id, &a, e)) < 0 ||
        (rc = rank_configs(&a, m, maximize, (int)min_seeds, &r, &nr, e)) < 0)
        goto out;
    tmp = malloc((a.n + 1) * sizeof *tmp);
    if (!tmp) {
        rc = err_set(e, MLP_ENOMEM, NULL, "out of memory");
        goto out;
    }
    int mtest = metric_sibling(m, "test");
    if (strstr(store_metric_names[m], "_loss"))
        mtest = SM_TEST_LOSS;
    if ((rc = add_summary(d, resp, sw.id, e)) < 0)
        goto out;
    cJSON_AddStringToObject(resp, "metric", store_metric_names[m]);
    cJSON_AddStringToObject(resp, "direction", maximize ? "max" : "min");
    cJSON_AddStringToObject(resp, "test_metric", store_metric_names[mtest]);
    cJSON *arr = cJSON_AddArrayToObject(resp, "configs");
    for (size_t i = 0; i < nr && (int64_t)i < top; i++) {
        int64_t idx = r[i].idx;
        struct cfgs one;
        if ((rc = cfgs_load(d, sw.id, idx, &one, e)) < 0)
            goto out;
        cJSON *o = cJSON_CreateObject();
        add_int(o, "rank", (int64_t)i + 1);
        cJSON_AddItemToObject(o, "config", config_json(&one, idx));
        cfgs_free(&one);
        cJSON_AddItemToObject(o, "stat", stat_json(&r[i].s));
        struct stat_summary ts;
        agg_stat(&a, a.start[r[i].group], a.start[r[i].group + 1], mtest, tmp, &ts);
        cJSON_AddItemToObject(o, "test", stat_json(&ts));
        cJSON_AddItemToArray(arr, o);
    }
    struct welch w;
    if (nr >= 2 && r[0].tier == 0 && r[1].tier < 2 && r[0].s.n >= 2 && r[1].s.n >= 2 &&
        stats_welch(&r[0].s, &r[1].s, &w) == 0) {
        cJSON *co = cJSON_AddObjectToObject(resp, "comparison");
        add_num(co, "t", w.t);
        add_num(co, "df", w.df);
        add_num(co, "p", w.p);
        bool sig = w.p < 0.05;
        cJSON_AddBoolToObject(co, "significant", sig);
        char pt[32], sentence[160];
        p_text(pt, sizeof pt, w.p);
        snprintf(sentence, sizeof sentence, "%s better than #2 (p = %s %s 0.05)",
                 sig ? "significantly" : "not significantly", pt, sig ? "<" : "\xe2\x89\xa5");
        cJSON_AddStringToObject(co, "sentence", sentence);
    } else {
        cJSON_AddNullToObject(resp, "comparison");
    }
    rc = 0;
out:
    free(tmp);
    free(r);
    cfgs_free(&cf);
    agg_free(&a);
    store_sweep_release(&sw);
    return rc;
}

struct rows_ctx {
    cJSON *rows;
    const struct cfgs *cf;
    const int *metrics;
    int n_metrics;
    bool regression;
};

static int trial_row(void *ud, const struct store_trial_row *t)
{
    struct rows_ctx *x = ud;
    cJSON *o = cJSON_CreateObject();
    if (!o)
        return MLP_ENOMEM;
    add_int(o, "trial", t->id);
    add_int(o, "config", t->config_idx);
    add_grid_values(o, x->cf, t->config_idx);
    add_int(o, "seed", t->seed);
    cJSON_AddStringToObject(o, "state", t->state);
    add_int(o, "attempts", t->attempts);
    for (int k = 0; k < x->n_metrics; k++) {
        int m = x->metrics[k];
        if (m == SM_DIVERGED && t->has_result)
            cJSON_AddBoolToObject(o, "diverged", t->v[m] != 0);
        else
            add_num(o, store_metric_names[m], t->has_result ? t->v[m] : NAN);
    }
    if (t->error)
        cJSON_AddStringToObject(o, "error", t->error);
    cJSON_AddItemToArray(x->rows, o);
    return 0;
}

static int epoch_row(void *ud, const struct store_epoch_row *r)
{
    struct rows_ctx *x = ud;
    cJSON *o = cJSON_CreateObject();
    if (!o)
        return MLP_ENOMEM;
    add_int(o, "trial", r->trial_id);
    add_int(o, "config", r->config_idx);
    if (x->cf)
        add_grid_values(o, x->cf, r->config_idx);
    add_int(o, "seed", r->seed);
    add_int(o, "epoch", r->epoch);
    for (int i = 0; i < SE_N; i++) {
        bool mse = i == SE_TRAIN_MSE || i == SE_VAL_MSE;
        bool acc = i == SE_TRAIN_ACCURACY || i == SE_VAL_ACCURACY;
        if ((x->regression && acc) || (!x->regression && mse))
            continue;
        add_num(o, store_epoch_names[i], r->v[i]);
    }
    cJSON_AddItemToArray(x->rows, o);
    return 0;
}

static int op_results(struct mlpd *d, struct client *c, const cJSON *req, cJSON *resp,
                      struct err *e)
{
    (void)c;
    struct store_sweep sw;
    struct agg a = {0};
    struct cfgs cf = {0};
    double *tmp = NULL;
    int rc;
    if ((rc = load_sweep(d, req, &sw, e)) < 0)
        return rc;
    if ((rc = cfgs_load(d, sw.id, 0, &cf, e)) < 0)
        goto out;
    int metrics[16];
    bool regression = is_regression(sw.dataset_json);
    int nm = task_metrics(regression, metrics);
    cJSON *keys = cJSON_Parse(sw.keys_json);
    cJSON_AddItemToObject(resp, "keys", keys ? keys : cJSON_CreateArray());
    cJSON *rows = cJSON_AddArrayToObject(resp, "rows");
    struct rows_ctx x = {
        .rows = rows, .cf = &cf, .metrics = metrics, .n_metrics = nm, .regression = regression};
    if (cJSON_IsTrue(json_get(req, "curves"))) {
        cJSON_AddStringToObject(resp, "kind", "curves");
        rc = store_epochs_each(d->st, sw.id, 0, epoch_row, &x, e);
    } else if (cJSON_IsTrue(json_get(req, "trials"))) {
        cJSON_AddStringToObject(resp, "kind", "trials");
        rc = store_trials_each(d->st, sw.id, 0, false, trial_row, &x, e);
    } else {
        cJSON_AddStringToObject(resp, "kind", "configs");
        if ((rc = agg_load(d, sw.id, &a, e)) < 0)
            goto out;
        tmp = malloc((a.n + 1) * sizeof *tmp);
        if (!tmp) {
            rc = err_set(e, MLP_ENOMEM, NULL, "out of memory");
            goto out;
        }
        for (size_t i = 0; i < cf.n; i++) {
            long g = agg_group(&a, cf.idx[i]);
            size_t from = g >= 0 ? a.start[g] : 0, to = g >= 0 ? a.start[g + 1] : 0;
            cJSON *o = cJSON_CreateObject();
            add_int(o, "config", cf.idx[i]);
            add_grid_values(o, &cf, cf.idx[i]);
            add_int(o, "n", (int64_t)(to - from));
            for (int k = 0; k < nm; k++) {
                struct stat_summary s;
                agg_stat(&a, from, to, metrics[k], tmp, &s);
                char key[64];
                snprintf(key, sizeof key, "%s_mean", store_metric_names[metrics[k]]);
                add_num(o, key, s.mean);
                snprintf(key, sizeof key, "%s_sd", store_metric_names[metrics[k]]);
                add_num(o, key, s.sd);
                snprintf(key, sizeof key, "%s_se", store_metric_names[metrics[k]]);
                add_num(o, key, s.se);
            }
            cJSON_AddItemToArray(rows, o);
        }
    }
    if (rc > 0 || (rc < 0 && e->code == 0))
        rc = err_set(e, MLP_ENOMEM, NULL, "out of memory");
out:
    free(tmp);
    cfgs_free(&cf);
    agg_free(&a);
    store_sweep_release(&sw);
    return rc < 0 ? rc : 0;
}

struct trial_ctx {
    cJSON *trial;
    bool found;
    int64_t sweep_id, config_idx;
};

static int one_trial(void *ud, const struct store_trial_row *t)
{
    struct trial_ctx *x = ud;
    cJSON *o = x->trial;
    x->found = true;
    x->sweep_id = t->sweep_id;
    x->config_idx = t->config_idx;
    add_int(o, "id", t->id);
    add_int(o, "sweep", t->sweep_id);
    add_int(o, "seed", t->seed);
    cJSON_AddStringToObject(o, "state", t->state);
    add_int(o, "attempts", t->attempts);
    if (t->error)
        cJSON_AddStringToObject(o, "error", t->error);
    else
        cJSON_AddNullToObject(o, "error");
    if (t->pid > 0 && strcmp(t->state, "running") == 0)
        add_int(o, "pid", t->pid);
    add_num(o, "created", t->created);
    add_num(o, "started", t->started);
    add_num(o, "finished", t->finished);
    if (t->has_result) {
        cJSON *mo = cJSON_AddObjectToObject(o, "metrics");
        for (int m = 0; m < SM_N; m++) {
            if (m == SM_DIVERGED)
                cJSON_AddBoolToObject(mo, "diverged", t->v[m] != 0);
            else if (!isnan(t->v[m]) ||
                     (m != SM_TRAIN_MSE && m != SM_VAL_MSE && m != SM_TEST_MSE &&
                      m != SM_TRAIN_ACCURACY && m != SM_VAL_ACCURACY && m != SM_TEST_ACCURACY))
                add_num(mo, store_metric_names[m], t->v[m]);
        }
    } else {
        cJSON_AddNullToObject(o, "metrics");
    }
    return 0;
}

static char *log_tail(const char *dir, int64_t id)
{
    char path[CONFIG_PATH_MAX + 64];
    snprintf(path, sizeof path, "%s/%lld.log", dir, (long long)id);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return strdup("");
    off_t size = lseek(fd, 0, SEEK_END);
    off_t from = size > LOG_TAIL_BYTES ? size - LOG_TAIL_BYTES : 0;
    char *buf = malloc(LOG_TAIL_BYTES + 1);
    ssize_t n = buf ? pread(fd, buf, LOG_TAIL_BYTES, from) : -1;
    close(fd);
    if (!buf)
        return NULL;
    if (n < 0)
        n = 0;
    buf[n] = '\0';
    /* Invalid UTF-8 from a worker would make the line unreadable: replace such bytes. */
    for (ssize_t i = 0; i < n; i++)
        if ((unsigned char)buf[i] >= 0x80 || (buf[i] < 0x20 && buf[i] != '\n' && buf[i] != '\t'))
            buf[i] = '?';
    return buf;
}

static int op_trial(struct mlpd *d, struct client *c, const cJSON *req, cJSON *resp, struct err *e)
{
    (void)c;
    int64_t id = 0;
    json_is_int(json_get(req, "id"), &id);
    cJSON *t = cJSON_AddObjectToObject(resp, "trial");
    struct trial_ctx x = {.trial = t};
    int rc = store_trials_each(d->st, 0, id, false, one_trial, &x, e);
    if (rc < 0)
        return rc;
    if (!x.found || id <= 0)
        return err_set(e, MLP_ENOT_FOUND, "id", "no trial %lld", (long long)id);
    struct cfgs cf;
    if ((rc = cfgs_load(d, x.sweep_id, x.config_idx, &cf, e)) < 0)
        return rc;
    cJSON_AddItemToObject(t, "config", config_json(&cf, x.config_idx));
    cfgs_free(&cf);
    struct store_sweep sw;
    bool regression = false;
    if (store_sweep_get(d->st, x.sweep_id, &sw, e) == 0) {
        regression = is_regression(sw.dataset_json);
        cJSON_AddStringToObject(t, "sweep_name", sw.name);
        store_sweep_release(&sw);
    }
    cJSON *curve = cJSON_AddArrayToObject(t, "curve");
    struct rows_ctx rx = {.rows = curve, .regression = regression};
    if ((rc = store_epochs_each(d->st, 0, id, epoch_row, &rx, e)) != 0)
        return rc < 0 && e->code ? rc : err_set(e, MLP_ENOMEM, NULL, "out of memory");
    if ((rc = exec_trial_fields(d, id, t, e)) < 0)
        return rc;
    char *tail = log_tail(d->log_dir, id);
    cJSON_AddStringToObject(t, "log_tail", tail ? tail : "");
    free(tail);
    return 0;
}

static int op_wait(struct mlpd *d, struct client *c, const cJSON *req, cJSON *resp, struct err *e)
{
    (void)resp;
    int64_t id;
    if (ops_sweep_ref(d, json_get(req, "sweep"), &id, e) < 0)
        return e->code;
    return server_park(c, id, false);
}

static int op_watch(struct mlpd *d, struct client *c, const cJSON *req, cJSON *resp, struct err *e)
{
    (void)resp;
    int64_t id = 0;
    const cJSON *s = json_get(req, "sweep");
    if (s && !cJSON_IsNull(s) && ops_sweep_ref(d, s, &id, e) < 0)
        return e->code;
    return server_park(c, id, true);
}

static int queue_op(struct mlpd *d, const cJSON *req, cJSON *resp, struct err *e, char what)
{
    struct store_sweep sw;
    int rc = load_sweep(d, req, &sw, e);
    if (rc < 0)
        return rc;
    int64_t changed = 0, id = sw.id;
    bool ended = sw.c.queued + sw.c.running == 0;
    switch (what) {
    case 'c':
        if (!ended) {
            rc = store_sweep_cancel(d->st, id, &changed, e);
            if (rc == 0)
                changed += sched_cancel_sweep(d->sched, id);
        }
        break;
    case 'p':
        rc = store_sweep_pause(d->st, id, true, &changed, e);
        break;
    case 'r':
        rc = store_sweep_pause(d->st, id, false, &changed, e);
        break;
    case 'R':
        if (d->draining)
            rc = err_set(e, MLP_ESHUTTING_DOWN, NULL, "mlpd is shutting down");
        else
            rc = store_sweep_retry(d->st, id, &changed, e);
        break;
    }
    store_sweep_release(&sw);
    if (rc < 0)
        return rc;
    log_info("sweep %lld: %s (%lld trials)", (long long)id,
             what == 'c'   ? "cancel"
             : what == 'p' ? "pause"
             : what == 'r' ? "resume"
                           : "retry",
             (long long)changed);
    if (what == 'r' || what == 'R')
        sched_kick(d->sched);
    server_notify(d->srv, id);
    if ((rc = add_summary(d, resp, id, e)) < 0)
        return rc;
    add_int(resp, "changed", changed);
    return 0;
}

static int op_cancel(struct mlpd *d, struct client *c, const cJSON *req, cJSON *resp, struct err *e)
{
    (void)c;
    return queue_op(d, req, resp, e, 'c');
}

static int op_pause(struct mlpd *d, struct client *c, const cJSON *req, cJSON *resp, struct err *e)
{
    (void)c;
    return queue_op(d, req, resp, e, 'p');
}

static int op_resume(struct mlpd *d, struct client *c, const cJSON *req, cJSON *resp, struct err *e)
{
    (void)c;
    return queue_op(d, req, resp, e, 'r');
}

static int op_retry(struct mlpd *d, struct client *c, const cJSON *req, cJSON *resp, struct err *e)
{
    (void)c;
    return queue_op(d, req, resp, e, 'R');
}

static int op_shutdown(struct mlpd *d, struct client *c, const cJSON *req, cJSON *resp,
                       struct err *e)
{
    (void)c;
    (void)e;
    bool now = cJSON_IsTrue(json_get(req, "now"));
    cJSON_AddBoolToObject(resp, "now", now);
    add_int(resp, "running", sched_busy(d->sched));
    /* The reply is queued before the listener closes, so the client gets it. */
    d->shutdown(d, now);
    return 0;
}

static int op_data_list(struct mlpd *d, struct client *c, const cJSON *req, cJSON *resp,
                        struct err *e)
{
    (void)c;
    (void)req;
    cJSON *l = fetch_list(d->cfg.data_dir, FETCH_SYSTEM_DIR);
    if (!l)
        return err_set(e, MLP_ENOMEM, NULL, "out of memory");
    cJSON_AddItemToObject(resp, "datasets", l);
    return 0;
}

/* Every op, its handler and the fields the dispatcher checks (name, type, required). */
const struct op ops_table[] = {
    {.name = "hello", .exec = op_hello, .fields = {{"protocol", OT_INT, true}}},
    {.name = "submit",
     .exec = op_submit,
     .fields = {{"grid", OT_OBJ, true},
                {"base_dir", OT_STR, false},
                {"name", OT_STR, false},
                {"default_name", OT_STR, false},
                {"priority", OT_INT, false},
                {"dry_run", OT_BOOL, false},
                {"force", OT_BOOL, false}}},
    {.name = "status", .exec = op_status},
    {.name = "list", .exec = op_list, .heavy = true},
    {.name = "show",
     .exec = op_show,
     .fields = {{"sweep", OT_SWEEP, true}, {"by", OT_STR, false}, {"metric", OT_STR, false}},
     .heavy = true},
    {.name = "best",
     .exec = op_best,
     .fields = {{"sweep", OT_SWEEP, true},
                {"metric", OT_STR, false},
                {"top", OT_INT, false},
                {"min_seeds", OT_INT, false}},
     .heavy = true},
    {.name = "results",
     .exec = op_results,
     .fields = {{"sweep", OT_SWEEP, true}, {"trials", OT_BOOL, false}, {"curves", OT_BOOL, false}},
     .heavy = true},
    {.name = "trial", .exec = op_trial, .fields = {{"id", OT_INT, true}}},
    {.name = "watch", .exec = op_watch, .fields = {{"sweep", OT_SWEEP, false}}},
    {.name = "wait", .exec = op_wait, .fields = {{"sweep", OT_SWEEP, true}}},
    {.name = "cancel", .exec = op_cancel, .fields = {{"sweep", OT_SWEEP, true}}},
    {.name = "pause", .exec = op_pause, .fields = {{"sweep", OT_SWEEP, true}}},
    {.name = "resume", .exec = op_resume, .fields = {{"sweep", OT_SWEEP, true}}},
    {.name = "retry", .exec = op_retry, .fields = {{"sweep", OT_SWEEP, true}}},
    {.name = "shutdown", .exec = op_shutdown, .fields = {{"now", OT_BOOL, false}}},
    {.name = "data_list", .exec = op_data_list},
};
const int ops_count = (int)(sizeof ops_table / sizeof ops_table[0]);
