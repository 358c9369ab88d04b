/*
 * view — sweep summaries and watch events.  See view.h.
 */
#include "view.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>

#include "json.h"
#include "meta.h"
#include "mlpd.h"
#include "query.h"
#include "sched.h"
#include "slurm.h"
#include "store.h"
#include "store_slurm.h"

static const char *sweep_state(const struct store_sweep *sw)
{
    const struct store_counts *c = &sw->c;
    /* A sweep the user cancelled says so even when some trials had failed before. */
    if (c->queued + c->running == 0 && c->total > 0)
        return sw->cancelled      ? "cancelled"
               : c->failed > 0    ? "failed"
               : c->cancelled > 0 ? "cancelled"
                                  : "done";
    if (sw->cancelled)
        return "cancelled";
    if (sw->paused)
        return "paused";
    if (c->running > 0 || c->done + c->failed + c->cancelled + c->pruned > 0)
        return "running";
    return "queued";
}

/* The best configuration so far, from the per-configuration aggregates 013-means.sql keeps
 * (one row per configuration: cheap enough for every event and every answer). */
struct best_acc {
    bool maximize;
    bool found;
    struct query_ranked best; /* s.n, s.mean, s.se and tier are set */
};

static int best_row(void *ud, const struct store_mean_row *r)
{
    struct best_acc *b = ud;
    struct query_ranked x;
    query_ranked_from_moments(r->config_idx, r->rows, r->n, r->mean, r->sumsq, &x);
    if (x.tier < 2 && (!b->found || query_better(&x, &b->best, b->maximize))) {
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
    json_add_int(o, "id", sw->id);
    cJSON_AddStringToObject(o, "name", sw->name);
    cJSON_AddStringToObject(o, "state", sweep_state(sw));
    json_add_int(o, "priority", sw->priority);
    cJSON_AddStringToObject(o, "metric", sw->metric);
    cJSON *ds = cJSON_Parse(sw->dataset_json);
    cJSON_AddItemToObject(o, "dataset", ds ? ds : cJSON_CreateNull());
    json_add_time(o, "created", sw->created);
    json_add_time(o, "finished", sw->c.finished);
    json_add_int(o, "total", sw->c.total);
    json_add_int(o, "queued", sw->c.queued);
    json_add_int(o, "running", sw->c.running);
    json_add_int(o, "done", sw->c.done);
    json_add_int(o, "failed", sw->c.failed);
    json_add_int(o, "cancelled", sw->c.cancelled);
    json_add_int(o, "pruned", sw->c.pruned);
    if (sw->trials_max > 0) /* racing or confirmation: trials are added as it goes */
        json_add_int(o, "trials_max", sw->trials_max);
    cJSON_AddBoolToObject(o, "paused", sw->paused);
    struct best_acc b = {.maximize = sw->maximize};
    if (sw->c.done > 0 && store_config_means(d->st, sw->id, best_row, &b, e) < 0) {
        cJSON_Delete(o);
        return NULL;
    }
    if (b.found) {
        cJSON *bo = cJSON_AddObjectToObject(o, "best");
        json_add_int(bo, "config", b.best.idx);
        json_add_num(bo, "mean", b.best.s.mean);
        json_add_num(bo, "se", b.best.s.se);
        json_add_int(bo, "n", b.best.s.n);
    } else {
        cJSON_AddNullToObject(o, "best");
    }
    if (meta_add_fields(d->st, sw->id, 0, o, e) < 0 ||
        view_exec_sweep_fields(d, sw->id, o, e) < 0) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

cJSON *view_sweep_summary(struct mlpd *d, int64_t id, bool *ended, struct err *e)
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

int view_sweep_ended(struct mlpd *d, int64_t id, bool *ended, struct err *e)
{
    struct store_sweep sw;
    if (store_sweep_get(d->st, id, &sw, e) < 0)
        return e->code;
    *ended = sw.c.queued + sw.c.running == 0;
    store_sweep_release(&sw);
    return 0;
}

cJSON *view_progress_event(struct mlpd *d, int64_t id, bool *ended, struct err *e)
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

int view_active_sweeps(struct mlpd *d, int64_t **ids, size_t *n)
{
    struct err e = ERR_INIT;
    return store_active_sweeps(d->st, ids, n, &e);
}

bool view_any_active(struct mlpd *d)
{
    struct store_counts c;
    int64_t ns;
    struct err e = ERR_INIT;
    if (store_global_counts(d->st, &c, &ns, &e) < 0)
        return false;
    return c.queued + c.running > 0;
}

/* ---- executors ------------------------------------------------------------ */

static cJSON *jobs_array(int64_t *ids, size_t n)
{
    cJSON *a = cJSON_CreateArray();
    for (size_t i = 0; a && i < n; i++)
        cJSON_AddItemToArray(a, cJSON_CreateNumber((double)ids[i]));
    return a;
}

int view_exec_sweep_fields(struct mlpd *d, int64_t sweep_id, cJSON *o, struct err *e)
{
    char x[16];
    if (store_slurm_executor(d->st, sweep_id, x, sizeof x, e) < 0)
        return e->code;
    cJSON_AddStringToObject(o, "executor", x);
    if (strcmp(x, "slurm") != 0)
        return 0;
    int64_t *ids;
    size_t n;
    if (store_slurm_jobs(d->st, sweep_id, &ids, &n, e) < 0)
        return e->code;
    cJSON_AddItemToObject(o, "slurm_jobs", jobs_array(ids, n));
    free(ids);
    struct slurm_block b;
    if (slurm_blocked(d->slurm, sweep_id, &b) == 1) {
        cJSON *bo = cJSON_AddObjectToObject(o, "blocked");
        cJSON_AddStringToObject(bo, "message", b.message);
        cJSON_AddNumberToObject(bo, "failures", b.failures);
        cJSON_AddNumberToObject(bo, "tries", b.tries);
        cJSON_AddBoolToObject(bo, "counted", b.counted);
        cJSON_AddBoolToObject(bo, "gave_up", b.gave_up);
    }
    return 0;
}

int view_exec_trial_fields(struct mlpd *d, int64_t trial_id, cJSON *o, struct err *e)
{
    struct store_slurm_task t;
    int rc = store_slurm_trial(d->st, trial_id, &t, e);
    if (rc <= 0)
        return rc;
    cJSON *so = cJSON_AddObjectToObject(o, "slurm");
    if (so) {
        char task[64];
        snprintf(task, sizeof task, "%lld_%d", (long long)t.job_id, t.array_idx);
        if (t.job_id > 0) {
            cJSON_AddNumberToObject(so, "job", (double)t.job_id);
            cJSON_AddStringToObject(so, "task", task);
        } else {
            cJSON_AddNullToObject(so, "job");
            cJSON_AddNullToObject(so, "task");
        }
        cJSON_AddNumberToObject(so, "array_index", t.array_idx);
        cJSON_AddNumberToObject(so, "attempt", t.attempt);
        if (t.state[0])
            cJSON_AddStringToObject(so, "state", t.state);
        else
            cJSON_AddNullToObject(so, "state");
        cJSON_AddStringToObject(so, "spool", t.spool);
    }
    store_slurm_task_release(&t);
    return 0;
}

int view_exec_status_fields(struct mlpd *d, cJSON *o, struct err *e)
{
    cJSON_AddStringToObject(o, "executor", d->cfg.executor[0] ? d->cfg.executor : "local");
    if (!d->slurm) {
        cJSON_AddNullToObject(o, "slurm");
        return 0;
    }
    int64_t *ids;
    size_t n;
    if (store_slurm_jobs(d->st, 0, &ids, &n, e) < 0)
        return e->code;
    cJSON *so = cJSON_AddObjectToObject(o, "slurm");
    cJSON_AddNumberToObject(so, "tasks", slurm_tasks(d->slurm));
    cJSON_AddItemToObject(so, "jobs", jobs_array(ids, n));
    cJSON_AddStringToObject(so, "spool", d->cfg.slurm_spool);
    free(ids);
    /* Sweeps whose submission Slurm refuses, with its message. */
    int64_t blk[64];
    size_t nb = slurm_blocked_sweeps(d->slurm, blk, sizeof blk / sizeof blk[0]);
    cJSON *ba = cJSON_AddArrayToObject(so, "blocked");
    for (size_t i = 0; i < nb && ba; i++) {
        struct slurm_block b;
        if (slurm_blocked(d->slurm, blk[i], &b) != 1)
            continue;
        cJSON *bo = cJSON_CreateObject();
        cJSON_AddNumberToObject(bo, "sweep", (double)blk[i]);
        cJSON_AddStringToObject(bo, "message", b.message);
        cJSON_AddNumberToObject(bo, "failures", b.failures);
        cJSON_AddNumberToObject(bo, "tries", b.tries);
        cJSON_AddBoolToObject(bo, "gave_up", b.gave_up);
        cJSON_AddItemToArray(ba, bo);
    }
    return 0;
}
