/*
 * ops — one handler per protocol op (daemon/PROTOCOL.md) and the ops table.
 * See ops.h.
 *
 * Handlers get a request already checked against their row of ops_table (types
 * of the listed fields) and add their fields to a response object that already
 * says "ok": true; on failure they return a negative code with *e filled and
 * the server sends the error line.  ops_call checks the row's preconditions
 * (flags: refused while draining; the sweep an op names, resolved and read once)
 * before the handler runs.  What happens after (reply, wait, watch, notify a
 * changed sweep) is the intent they fill.  Queries load a sweep's
 * results in one pass (the store streams them ordered by configuration) into
 * query.c, which groups, summarises and ranks them; sweep summaries come from
 * view.c.  The ops module only turns those into the protocol's JSON.
 *
 * The module is split by group of ops: this file holds the helpers the groups
 * share (declared ops__* in ops_int.h), the small ops (hello, status, wait,
 * watch, shutdown, data_list) and the table; ops_sweep.c the sweep's life
 * (list, submit, cancel/pause/resume/retry, delete); ops_query.c the answers
 * about a sweep's results (show, best, compare, results); ops_trial.c one
 * trial (trial, artifact).
 */
#include <cjson/cJSON.h>
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "exec.h"
#include "fetch.h"
#include "json.h"
#include "metric.h"
#include "mlp_version.h"
#include "mlpd.h"
#include "ops.h"
#include "ops_int.h"
#include "query.h"
#include "sched.h"
#include "stats.h"
#include "store.h"
#include "trialwire.h"
#include "view.h"

cJSON *ops__stat_json(const struct stat_summary *s)
{
    cJSON *o = cJSON_CreateObject();
    json_add_int(o, "n", s->n);
    json_add_num(o, "mean", s->mean);
    json_add_num(o, "sd", s->sd);
    json_add_num(o, "se", s->se);
    json_add_num(o, "ci_low", s->ci_low);
    json_add_num(o, "ci_high", s->ci_high);
    json_add_int(o, "nonfinite", s->n_nonfinite);
    if (s->clipped)
        cJSON_AddTrueToObject(o, "clipped");
    return o;
}

/*
 * A stored confusion matrix (JSON text, validated when it was recorded:
 * trialwire_confusion_parse is the one reader) as k and k*k counts row-major
 * (*m malloc'ed, caller frees).  0, or <0 when the text is not a matrix (*m NULL).
 */
int ops__confusion_parse(const char *text, int *k, double **m)
{
    int64_t *c;
    *m = NULL;
    int rc = trialwire_confusion_parse(text, strlen(text), k, &c);
    if (rc < 0)
        return rc;
    size_t n = (size_t)*k * (size_t)*k;
    if ((*m = malloc(n * sizeof **m)))
        for (size_t i = 0; i < n; i++)
            (*m)[i] = (double)c[i];
    free(c);
    return *m ? 0 : MLP_ENOMEM;
}

/* Per-class accuracy of k x k counts (trialwire_class_accuracy); null for an empty row. */
cJSON *ops__class_accuracy_json(int k, const int64_t *counts)
{
    double *acc = malloc((size_t)k * sizeof *acc);
    cJSON *a = acc ? cJSON_CreateArray() : NULL;
    if (acc)
        trialwire_class_accuracy(k, counts, acc);
    for (int t = 0; a && t < k; t++)
        cJSON_AddItemToArray(a, isnan(acc[t]) ? cJSON_CreateNull() : json_double(acc[t]));
    free(acc);
    return a;
}

/* Metric kinds -------------------------------------------------------------------- */

bool ops__is_regression(const char *dataset_json)
{
    cJSON *d = cJSON_Parse(dataset_json);
    const cJSON *t = cJSON_IsObject(d) ? json_get(d, "task") : NULL;
    bool r = cJSON_IsString(t) && strcmp(t->valuestring, "regression") == 0;
    cJSON_Delete(d);
    return r;
}

/* Loading ------------------------------------------------------------------------ */

static int rows_add(void *ud, const struct store_value_row *r)
{
    return query_rows_add(ud, r->config_idx, r->v);
}

/* Every done trial's values of a sweep, grouped (release with query_rows_release). */
int ops__rows_load(struct mlpd *d, int64_t sweep_id, struct query_rows *q, struct err *e)
{
    int rc = store_values_each(d->st, sweep_id, rows_add, q, e);
    if (rc == 0)
        rc = query_rows_group(q);
    if (rc < 0) {
        if (e->code == 0)
            err_set(e, rc, NULL, "out of memory");
        query_rows_release(q);
    }
    return rc;
}

/* Sweeps ------------------------------------------------------------------------ */

#define PREFIX_SHOWN 8 /* candidates named by an ambiguous prefix error */

struct prefix_match {
    int n;
    int64_t id;
    char list[PREFIX_SHOWN * 48];
};

static int prefix_row(void *ud, int64_t id, const char *name)
{
    struct prefix_match *m = ud;
    if (m->n++ == 0)
        m->id = id;
    if (m->n <= PREFIX_SHOWN) {
        size_t len = strlen(m->list);
        snprintf(m->list + len, sizeof m->list - len, "%s%lld \"%.32s\"", len ? ", " : "",
                 (long long)id, name);
    }
    return 0;
}

/* A sweep by name: exact, else the one sweep whose name starts with it. */
static int sweep_by_name(struct mlpd *d, const char *s, int64_t *id, struct err *e)
{
    int rc = store_sweep_by_name(d->st, s, id, e);
    if (rc != MLP_ENOT_FOUND)
        return rc;
    struct prefix_match m = {0};
    if (store_sweeps_by_prefix(d->st, s, PREFIX_SHOWN + 1, prefix_row, &m, e) < 0)
        return e->code;
    if (m.n == 1) {
        *id = m.id;
        return 0;
    }
    if (m.n == 0)
        return err_set(e, MLP_ENOT_FOUND, "sweep", "no sweep named \"%s\" (nor starting so)", s);
    return err_set(e, MLP_EAMBIGUOUS, "sweep", "\"%s\" starts the names of %s sweeps: %s%s", s,
                   m.n > PREFIX_SHOWN ? "more than 8" : "several", m.list,
                   m.n > PREFIX_SHOWN ? ", ..." : "");
}

/* Resolve a "sweep" value to an id (not checked to exist yet). */
static int sweep_id_of(struct mlpd *d, const cJSON *ref, int64_t *id, struct err *e)
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
            return sweep_by_name(d, s, id, e);
    } else {
        return err_set(e, MLP_EINVALID_REQUEST, "sweep", "expected a sweep id or name");
    }
    return 0;
}

int ops_sweep_ref(struct mlpd *d, const cJSON *ref, int64_t *id, struct err *e)
{
    if (sweep_id_of(d, ref, id, e) < 0)
        return e->code;
    struct store_sweep sw;
    if (store_sweep_get(d->st, *id, &sw, e) < 0)
        return e->code;
    store_sweep_release(&sw);
    return 0;
}

/* The preconditions of op's row (ops.h, enum op_flag), then its handler. */
int ops_call(const struct op *op, struct mlpd *d, const cJSON *req, cJSON *resp,
             struct op_intent *it, struct err *e)
{
    struct store_sweep sw;
    const struct store_sweep *swp = NULL;
    const cJSON *ref = json_get(req, "sweep");
    if ((op->flags & OPF_SWEEP) && ref && !cJSON_IsNull(ref)) {
        int64_t id;
        if (sweep_id_of(d, ref, &id, e) < 0 || store_sweep_get(d->st, id, &sw, e) < 0)
            return e->code;
        swp = &sw;
    }
    int rc;
    if (d->draining && ((op->flags & OPF_NOT_DRAINING) ||
                        ((op->flags & OPF_NOT_DRAINING_CANCELLED) && swp && swp->cancelled)))
        rc = err_set(e, MLP_ESHUTTING_DOWN, NULL, "%s",
                     op->draining_msg ? op->draining_msg : "mlpd is shutting down");
    else
        rc = op->exec(d, req, swp, resp, it, e);
    if (swp)
        store_sweep_release(&sw);
    return rc;
}

int ops__add_summary(struct mlpd *d, cJSON *resp, int64_t id, struct err *e)
{
    cJSON *s = view_sweep_summary(d, id, NULL, e);
    if (!s)
        return e->code;
    cJSON_AddItemToObject(resp, "sweep", s);
    return 0;
}

/* Configurations ------------------------------------------------------------------- */

void ops__cfgs_free(struct cfgs *c)
{
    for (size_t i = 0; i < c->n; i++) {
        cJSON_Delete(c->params[i]);
        cJSON_Delete(c->grid[i]);
    }
    free(c->idx);
    free(c->params);
    free(c->grid);
    free(c->pruned);
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
        int64_t *pr = realloc(c->pruned, cap * sizeof *pr);
        if (!pr)
            return MLP_ENOMEM;
        c->pruned = pr;
        c->cap = cap;
    }
    c->idx[c->n] = r->idx;
    c->params[c->n] = cJSON_Parse(r->params_json);
    c->grid[c->n] = cJSON_Parse(r->varying_json);
    c->pruned[c->n] = r->pruned_epoch;
    c->n++;
    return 0;
}

int ops__cfgs_load(struct mlpd *d, int64_t sweep_id, int64_t only, struct cfgs *c, struct err *e)
{
    memset(c, 0, sizeof *c);
    int rc = store_configs_each(d->st, sweep_id, only, cfgs_row, c, e);
    if (rc < 0) {
        if (e->code == 0)
            err_set(e, rc, NULL, "out of memory");
        ops__cfgs_free(c);
    }
    return rc;
}

int ops__cfgs_add(struct mlpd *d, int64_t sweep_id, int64_t idx, struct cfgs *c, struct err *e)
{
    if (ops__cfgs_find(c, idx) >= 0)
        return 0;
    int rc = store_configs_each(d->st, sweep_id, idx, cfgs_row, c, e);
    if (rc < 0 && e->code == 0)
        err_set(e, rc, NULL, "out of memory");
    return rc < 0 ? rc : 0;
}

/* Position of config idx (configs are 1..n in order, so usually idx-1). */
long ops__cfgs_find(const struct cfgs *c, int64_t idx)
{
    if (idx >= 1 && (size_t)idx <= c->n && c->idx[idx - 1] == idx)
        return (long)(idx - 1);
    for (size_t i = 0; i < c->n; i++)
        if (c->idx[i] == idx)
            return (long)i;
    return -1;
}

/* The "config" shape {id, params, grid}. */
cJSON *ops__config_json(const struct cfgs *c, int64_t idx)
{
    cJSON *o = cJSON_CreateObject();
    json_add_int(o, "id", idx);
    long i = ops__cfgs_find(c, idx);
    cJSON_AddItemToObject(o, "params",
                          i >= 0 && c->params[i] ? cJSON_Duplicate(c->params[i], 1)
                                                 : cJSON_CreateNull());
    cJSON_AddItemToObject(
        o, "grid", i >= 0 && c->grid[i] ? cJSON_Duplicate(c->grid[i], 1) : cJSON_CreateNull());
    return o;
}

/* Copy config idx's grid values into row under their keys. */
void ops__add_grid_values(cJSON *row, const struct cfgs *c, int64_t idx)
{
    long i = ops__cfgs_find(c, idx);
    if (i < 0 || !c->grid[i])
        return;
    const cJSON *kv;
    cJSON_ArrayForEach(kv, c->grid[i]) if (!json_get(row, kv->string))
        cJSON_AddItemToObject(row, kv->string, cJSON_Duplicate(kv, 1));
}

/* Streamed answers ----------------------------------------------------------------- */

int ops_buf_add(struct op_buf *b, const char *s, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->len + n + 1)
            cap *= 2;
        char *p = realloc(b->p, cap);
        if (!p)
            return MLP_ENOMEM;
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
    return 0;
}

/* Append row (consumed) to the chunk: 1 when the chunk is full, 0, or MLP_ENOMEM. */
int ops__chunk_add(struct chunk *k, cJSON *row)
{
    char *t = row ? json_line(row) : NULL;
    cJSON_Delete(row);
    if (!t)
        return MLP_ENOMEM;
    int rc;
    if (k->n++ == 0) {
        rc = ops_buf_add(k->out, "\"", 1);
        if (rc == 0)
            rc = ops_buf_add(k->out, k->field, strlen(k->field));
        if (rc == 0)
            rc = ops_buf_add(k->out, "\":[", 3);
    } else {
        rc = ops_buf_add(k->out, ",", 1);
    }
    if (rc == 0)
        rc = ops_buf_add(k->out, t, strlen(t));
    free(t);
    if (rc < 0)
        return rc;
    return k->out->len >= OP_STREAM_CHUNK ? 1 : 0;
}

/* Close the chunk's array ("field":[] when it has no row): 0 or MLP_ENOMEM. */
int ops__chunk_end(struct chunk *k)
{
    if (k->n > 0)
        return ops_buf_add(k->out, "]", 1);
    char head[80];
    int n = snprintf(head, sizeof head, "\"%s\":[]", k->field);
    return ops_buf_add(k->out, head, (size_t)n);
}

/* A row of one epoch (results --curves, and the trial op's curve). */
cJSON *ops__epoch_json(const struct rows_ctx *x, const struct store_epoch_row *r)
{
    cJSON *o = cJSON_CreateObject();
    if (!o)
        return NULL;
    json_add_int(o, "trial", r->trial_id);
    json_add_int(o, "config", r->config_idx);
    if (x->cf)
        ops__add_grid_values(o, x->cf, r->config_idx);
    json_add_int(o, "seed", r->seed);
    json_add_int(o, "epoch", r->epoch);
    for (int m = 0; m < MLP_M_N; m++)
        if (metric_info(m)->per_epoch && metric_for_task(m, x->regression))
            json_add_num(o, metric_name(m), r->v[m]);
    /* The epoch's rate, null without an lr_schedule; "epoch_lr" when the grid varies "lr"
     * (its value is in the row already): no row has a key twice. */
    json_add_num(o, json_get(o, "lr") ? "epoch_lr" : "lr", r->lr);
    return o;
}

/* Ops ------------------------------------------------------------------------------ */

static int op_hello(struct mlpd *d, const cJSON *req, const struct store_sweep *sw, cJSON *resp,
                    struct op_intent *it, struct err *e)
{
    (void)sw;
    (void)it;
    int64_t p = 0;
    json_is_int(json_get(req, "protocol"), &p);
    if (p != 1)
        return err_set(e, MLP_EPROTOCOL, "protocol",
                       "protocol %lld is not supported; this mlpd speaks protocol 1", (long long)p);
    json_add_int(resp, "protocol", 1);
    cJSON_AddStringToObject(resp, "version", MLP_VERSION);
    json_add_int(resp, "pid", getpid());
    (void)d;
    return 0;
}

#define STATUS_RUNNING_MAX 1000 /* running trials listed by status */

static int running_row(void *ud, const struct store_running_row *r)
{
    cJSON *o = cJSON_CreateObject();
    if (!o)
        return MLP_ENOMEM;
    json_add_int(o, "id", r->id);
    json_add_int(o, "sweep", r->sweep_id);
    cJSON_AddStringToObject(o, "sweep_name", r->sweep_name);
    json_add_int(o, "config", r->config_idx);
    json_add_int(o, "seed", r->seed);
    json_add_int(o, "attempt", r->attempt);
    json_add_num(o, "started", r->started);
    json_add_num(o, "elapsed", isnan(r->started) ? NAN : now_s() - r->started);
    cJSON_AddStringToObject(o, "executor", r->executor);
    cJSON_AddItemToArray(ud, o);
    return 0;
}

static int op_status(struct mlpd *d, const cJSON *req, const struct store_sweep *sw, cJSON *resp,
                     struct op_intent *it, struct err *e)
{
    (void)sw;
    (void)it;
    (void)req;
    struct store_counts cnt;
    int64_t n_sweeps;
    if (store_global_counts(d->st, &cnt, &n_sweeps, e) < 0)
        return e->code;
    cJSON_AddStringToObject(resp, "version", MLP_VERSION);
    json_add_int(resp, "pid", getpid());
    json_add_num(resp, "uptime", floor(now_s() - d->started));
    cJSON *w = cJSON_AddObjectToObject(resp, "workers");
    json_add_int(w, "busy", sched_busy(d->sched));
    json_add_int(w, "total", sched_slots(d->sched));
    json_add_int(resp, "threads", d->cfg.threads);
    cJSON *t = cJSON_AddObjectToObject(resp, "trials");
    json_add_int(t, "queued", cnt.queued);
    json_add_int(t, "running", cnt.running);
    json_add_int(t, "done", cnt.done);
    json_add_int(t, "failed", cnt.failed);
    json_add_int(t, "cancelled", cnt.cancelled);
    json_add_int(t, "pruned", cnt.pruned);
    json_add_int(resp, "sweeps", n_sweeps);
    cJSON_AddStringToObject(resp, "state_dir", d->cfg.state_dir);
    cJSON_AddStringToObject(resp, "socket", d->cfg.socket);
    cJSON_AddBoolToObject(resp, "draining", d->draining);
    const char *paused = sched_pause_reason(d->sched);
    if (paused)
        cJSON_AddStringToObject(resp, "dispatch_paused", paused);
    else
        cJSON_AddNullToObject(resp, "dispatch_paused");
    cJSON_AddStringToObject(resp, "worker", d->worker);
    cJSON *run = cJSON_AddArrayToObject(resp, "running");
    int rc = store_running_each(d->st, STATUS_RUNNING_MAX, running_row, run, e);
    if (rc != 0)
        return rc < 0 && e->code ? rc : err_set(e, MLP_ENOMEM, NULL, "out of memory");
    return view_exec_status_fields(d, resp, e);
}

static int op_wait(struct mlpd *d, const cJSON *req, const struct store_sweep *sw, cJSON *resp,
                   struct op_intent *it, struct err *e)
{
    (void)d;
    (void)req;
    (void)resp;
    (void)e;
    it->sweep_id = sw->id;
    it->next = OP_WAIT;
    return 0;
}

static int op_watch(struct mlpd *d, const cJSON *req, const struct store_sweep *sw, cJSON *resp,
                    struct op_intent *it, struct err *e)
{
    (void)d;
    (void)req;
    (void)resp;
    (void)e;
    it->sweep_id = sw ? sw->id : 0; /* 0: every active sweep */
    it->next = OP_WATCH;
    return 0;
}

static int op_shutdown(struct mlpd *d, const cJSON *req, const struct store_sweep *sw, cJSON *resp,
                       struct op_intent *it, struct err *e)
{
    (void)sw;
    (void)it;
    (void)e;
    bool now = cJSON_IsTrue(json_get(req, "now"));
    cJSON_AddBoolToObject(resp, "now", now);
    json_add_int(resp, "running", sched_busy(d->sched));
    /* The reply is queued before the listener closes, so the client gets it. */
    d->shutdown(d, now);
    return 0;
}

static int op_data_list(struct mlpd *d, const cJSON *req, const struct store_sweep *sw, cJSON *resp,
                        struct op_intent *it, struct err *e)
{
    (void)sw;
    (void)it;
    (void)req;
    cJSON *l = fetch_list(d->cfg.data_dir, FETCH_SYSTEM_DIR);
    if (!l)
        return err_set(e, MLP_ENOMEM, NULL, "out of memory");
    cJSON_AddItemToObject(resp, "datasets", l);
    return 0;
}

/*
 * Every op, its handler, the fields the dispatcher checks (name, type, required) and
 * the preconditions ops_call checks before the handler runs (flags).
 */
const struct op ops_table[] = {
    {.name = "hello", .exec = op_hello, .fields = {{"protocol", OT_INT, true}}},
    {.name = "submit",
     .exec = op_submit,
     .pool = op_submit_pool,
     .after = op_submit_after,
     .flags = OPF_NOT_DRAINING,
     .draining_msg = "mlpd is shutting down and accepts no new sweeps",
     .fields = {{"grid", OT_OBJ, true},
                {"base_dir", OT_STR, false},
                {"name", OT_STR, false},
                {"default_name", OT_STR, false},
                {"priority", OT_INT, false},
                {"dry_run", OT_BOOL, false},
                {"force", OT_BOOL, false}}},
    {.name = "status", .exec = op_status},
    {.name = "list", .exec = op_list, .fields = {{"limit", OT_INT, false}}, .heavy = true},
    {.name = "show",
     .exec = op_show,
     .flags = OPF_SWEEP,
     .fields = {{"sweep", OT_SWEEP, true},
                {"by", OT_STR, false},
                {"metric", OT_STR, false},
                {"config", OT_INT, false},
                {"confusion", OT_BOOL, false}},
     .heavy = true},
    {.name = "best",
     .exec = op_best,
     .flags = OPF_SWEEP,
     .fields = {{"sweep", OT_SWEEP, true},
                {"metric", OT_STR, false},
                {"top", OT_INT, false},
                {"bottom", OT_INT, false},
                {"min_seeds", OT_INT, false}},
     .heavy = true},
    {.name = "results",
     .exec = op_results,
     .flags = OPF_SWEEP,
     .fields = {{"sweep", OT_SWEEP, true},
                {"trials", OT_BOOL, false},
                {"curves", OT_BOOL, false},
                {"offset", OT_INT, false},
                {"limit", OT_INT, false},
                {"sort", OT_STR, false},
                {"desc", OT_BOOL, false}},
     .heavy = true},
    {.name = "compare",
     .exec = op_compare,
     .flags = OPF_SWEEP,
     .fields = {{"sweep", OT_SWEEP, true},
                {"a", OT_INT, true},
                {"b", OT_INT, true},
                {"metric", OT_STR, false}},
     .heavy = true},
    {.name = "artifact",
     .exec = op_artifact,
     .fields = {{"id", OT_INT, true}, {"name", OT_STR, false}},
     .heavy = true},
    {.name = "trial", .exec = op_trial, .fields = {{"id", OT_INT, true}}},
    {.name = "watch", .exec = op_watch, .flags = OPF_SWEEP, .fields = {{"sweep", OT_SWEEP, false}}},
    {.name = "wait", .exec = op_wait, .flags = OPF_SWEEP, .fields = {{"sweep", OT_SWEEP, true}}},
    {.name = "cancel", .exec = op_queue, .flags = OPF_SWEEP, .fields = {{"sweep", OT_SWEEP, true}}},
    {.name = "pause", .exec = op_queue, .flags = OPF_SWEEP, .fields = {{"sweep", OT_SWEEP, true}}},
    {.name = "resume",
     .exec = op_queue,
     .flags = OPF_SWEEP | OPF_NOT_DRAINING_CANCELLED, /* it would re-queue cancelled trials */
     .fields = {{"sweep", OT_SWEEP, true}}},
    {.name = "retry",
     .exec = op_queue,
     .flags = OPF_SWEEP | OPF_NOT_DRAINING,
     .fields = {{"sweep", OT_SWEEP, true}, {"cancelled", OT_BOOL, false}}},
    {.name = "delete",
     .exec = op_delete,
     .pool = op_delete_pool,
     .flags = OPF_SWEEP,
     .fields = {{"sweep", OT_SWEEP, true}, {"force", OT_BOOL, false}}},
    {.name = "shutdown", .exec = op_shutdown, .fields = {{"now", OT_BOOL, false}}},
    {.name = "data_list", .exec = op_data_list},
    {.name = "tag",
     .exec = op_tag,
     .flags = OPF_SWEEP,
     .fields = {{"sweep", OT_SWEEP, true}, {"config", OT_INT, false}, {"tags", OT_OBJ, true}}},
    {.name = "note",
     .exec = op_note,
     .flags = OPF_SWEEP,
     .fields = {{"sweep", OT_SWEEP, true},
                {"config", OT_INT, false},
                {"text", OT_STR, true},
                {"version", OT_INT, false},
                {"append", OT_BOOL, false}}},
};
const int ops_count = (int)(sizeof ops_table / sizeof ops_table[0]);
