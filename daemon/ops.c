/*
 * ops — one handler per protocol op (daemon/PROTOCOL.md) and the ops table.
 * See ops.h.
 *
 * Handlers get a request already checked against their row of ops_table (types
 * of the listed fields) and add their fields to a response object that already
 * says "ok": true; on failure they return a negative code with *e filled and
 * the server sends the error line.  What happens after (reply, wait, watch,
 * notify a changed sweep) is the intent they fill.  Queries load a sweep's
 * results in one pass (the store streams them ordered by configuration) into
 * query.c, which groups, summarises and ranks them; sweep summaries come from
 * view.c.  This file only turns those into the protocol's JSON.
 */
#include <cjson/cJSON.h>
#include <assert.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "dataset.h"
#include "fetch.h"
#include "grid.h"
#include "json.h"
#include "log.h"
#include "metric.h"
#include "mlp_version.h"
#include "names.h"
#include "exec.h"
#include "mlpd.h"
#include "ops.h"
#include "query.h"
#include "sched.h"
#include "stats.h"
#include "store.h"
#include "view.h"

#define FIRST_CONFIGS 5     /* configurations echoed by submit */
#define LOG_TAIL_BYTES 4096 /* trial log tail returned by the trial op */

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static cJSON *stat_json(const struct stat_summary *s)
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
 * A stored confusion matrix (JSON text, validated when it was recorded) as k
 * and k*k counts row-major (*m malloc'ed, caller frees).  0, or <0 when the
 * text is not a square matrix (*m NULL).
 */
static int confusion_parse(const char *text, int *k, double **m)
{
    *m = NULL;
    cJSON *c = cJSON_Parse(text);
    int n = cJSON_GetArraySize(c), rc = MLP_EINVALID_REQUEST;
    if (!cJSON_IsArray(c) || n < 1)
        goto out;
    if (!(*m = malloc((size_t)n * (size_t)n * sizeof **m))) {
        rc = MLP_ENOMEM;
        goto out;
    }
    int i = 0;
    const cJSON *row, *x;
    cJSON_ArrayForEach(row, c)
    {
        if (cJSON_GetArraySize(row) != n)
            goto out;
        int j = 0;
        cJSON_ArrayForEach(x, row)(*m)[i * n + j++] = cJSON_IsNumber(x) ? x->valuedouble : NAN;
        i++;
    }
    *k = n;
    rc = 0;
out:
    if (rc < 0) {
        free(*m);
        *m = NULL;
    }
    cJSON_Delete(c);
    return rc;
}

/* Per-class accuracy of a k x k matrix: diagonal over row total, null for an empty row. */
static cJSON *class_accuracy_json(int k, const double *m)
{
    cJSON *a = cJSON_CreateArray();
    for (int t = 0; a && t < k; t++) {
        double total = 0;
        for (int p = 0; p < k; p++)
            total += m[t * k + p];
        cJSON_AddItemToArray(a, total > 0 ? json_double(m[t * k + t] / total) : cJSON_CreateNull());
    }
    return a;
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

/* Loading ------------------------------------------------------------------------ */

static int rows_add(void *ud, const struct store_value_row *r)
{
    return query_rows_add(ud, r->config_idx, r->v);
}

/* Every done trial's values of a sweep, grouped (release with query_rows_release). */
static int rows_load(struct mlpd *d, int64_t sweep_id, struct query_rows *q, struct err *e)
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
            return sweep_by_name(d, s, id, e);
    } else {
        return err_set(e, MLP_EINVALID_REQUEST, "sweep", "expected a sweep id or name");
    }
    struct store_sweep sw;
    if (store_sweep_get(d->st, *id, &sw, e) < 0)
        return e->code;
    store_sweep_release(&sw);
    return 0;
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
    cJSON *s = view_sweep_summary(d, id, NULL, e);
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
    json_add_int(o, "id", idx);
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

/* A chunk of an array field being written: "field":[row,row,... */
struct chunk {
    struct op_buf *out;
    const char *field;
    size_t n; /* rows in this chunk */
};

/* Append row (consumed) to the chunk: 1 when the chunk is full, 0, or MLP_ENOMEM. */
static int chunk_add(struct chunk *k, cJSON *row)
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
static int chunk_end(struct chunk *k)
{
    if (k->n > 0)
        return ops_buf_add(k->out, "]", 1);
    char head[80];
    int n = snprintf(head, sizeof head, "\"%s\":[]", k->field);
    return ops_buf_add(k->out, head, (size_t)n);
}

/* Ops ------------------------------------------------------------------------------ */

static int op_hello(struct mlpd *d, const cJSON *req, cJSON *resp, struct op_intent *it,
                    struct err *e)
{
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

static int op_status(struct mlpd *d, const cJSON *req, cJSON *resp, struct op_intent *it,
                     struct err *e)
{
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
    json_add_int(resp, "sweeps", n_sweeps);
    cJSON_AddStringToObject(resp, "state_dir", d->cfg.state_dir);
    cJSON_AddStringToObject(resp, "socket", d->cfg.socket);
    cJSON_AddBoolToObject(resp, "draining", d->draining);
    cJSON_AddStringToObject(resp, "worker", d->worker);
    cJSON *run = cJSON_AddArrayToObject(resp, "running");
    int rc = store_running_each(d->st, STATUS_RUNNING_MAX, running_row, run, e);
    if (rc != 0)
        return rc < 0 && e->code ? rc : err_set(e, MLP_ENOMEM, NULL, "out of memory");
    return exec_status_fields(d, resp, e);
}

/* list: summaries of the sweeps, newest first, filtered by state, at most limit. */
struct list_stream {
    struct op_stream base;
    int64_t *ids;
    size_t n, next;
    char states[6][16]; /* wanted states; none: every state */
    int n_states;
    int64_t limit, sent; /* limit 0: no limit */
};

static bool list_wanted(const struct list_stream *l, const cJSON *summary)
{
    if (l->n_states == 0)
        return true;
    const cJSON *st = json_get(summary, "state");
    for (int i = 0; cJSON_IsString(st) && i < l->n_states; i++)
        if (strcmp(st->valuestring, l->states[i]) == 0)
            return true;
    return false;
}

static int list_next(struct op_stream *base, struct mlpd *d, struct op_buf *out, struct err *e)
{
    struct list_stream *l = (struct list_stream *)base;
    struct chunk k = {.out = out, .field = "sweeps"};
    int full = 0;
    while (full == 0 && l->next < l->n && (l->limit == 0 || l->sent < l->limit)) {
        cJSON *s = view_sweep_summary(d, l->ids[l->next++], NULL, e);
        if (!s) {
            if (e->code == MLP_ENOT_FOUND)
                continue; /* deleted since the list was taken */
            return e->code;
        }
        if (!list_wanted(l, s)) {
            cJSON_Delete(s);
            continue;
        }
        l->sent++;
        if ((full = chunk_add(&k, s)) < 0)
            return err_set(e, full, NULL, "out of memory");
    }
    if (chunk_end(&k) < 0)
        return err_set(e, MLP_ENOMEM, NULL, "out of memory");
    return l->next < l->n && (l->limit == 0 || l->sent < l->limit) ? 1 : 0;
}

static void list_free(struct op_stream *base)
{
    struct list_stream *l = (struct list_stream *)base;
    free(l->ids);
    free(l);
}

/* Add one wanted state (a word of "a,b"): 0 or MLP_EINVALID_REQUEST. */
static int list_state_add(struct list_stream *l, const char *w, size_t n, struct err *e)
{
    static const char *const states[] = {"queued", "running", "paused",
                                         "done",   "failed",  "cancelled"};
    for (size_t i = 0; i < 6; i++)
        if (strlen(states[i]) == n && strncmp(states[i], w, n) == 0) {
            if (l->n_states < 6)
                snprintf(l->states[l->n_states++], sizeof l->states[0], "%s", states[i]);
            return 0;
        }
    return err_set(e, MLP_EINVALID_REQUEST, "state",
                   "list: unknown state \"%.*s\" (one of queued, running, paused, done, failed, "
                   "cancelled)",
                   (int)(n > 40 ? 40 : n), w);
}

static int list_states(struct list_stream *l, const cJSON *v, struct err *e)
{
    if (!v || cJSON_IsNull(v))
        return 0;
    const cJSON *one = v;
    if (cJSON_IsArray(v))
        one = v->child;
    for (; one; one = cJSON_IsArray(v) ? one->next : NULL) {
        if (!cJSON_IsString(one))
            return err_set(e, MLP_EINVALID_REQUEST, "state",
                           "list: \"state\" must be a string or a list of strings");
        const char *p = one->valuestring;
        for (;;) {
            size_t n = strcspn(p, ",");
            if (list_state_add(l, p, n, e) < 0)
                return e->code;
            if (!p[n])
                break;
            p += n + 1;
        }
    }
    return 0;
}

static int op_list(struct mlpd *d, const cJSON *req, cJSON *resp, struct op_intent *it,
                   struct err *e)
{
    (void)resp;
    struct list_stream *l = calloc(1, sizeof *l);
    if (!l)
        return err_set(e, MLP_ENOMEM, NULL, "out of memory");
    l->base = (struct op_stream){.next = list_next, .free = list_free};
    const cJSON *lim = json_get(req, "limit");
    if (lim && !json_is_int(lim, &l->limit)) {
        list_free(&l->base);
        return err_set(e, MLP_EINVALID_REQUEST, "limit", "list: \"limit\" must be an integer");
    }
    if (l->limit < 0) {
        list_free(&l->base);
        return err_set(e, MLP_EINVALID_REQUEST, "limit", "list: \"limit\" must be >= 0, got %lld",
                       (long long)l->limit);
    }
    if (list_states(l, json_get(req, "state"), e) < 0 ||
        store_sweep_ids(d->st, &l->ids, &l->n, e) < 0) {
        list_free(&l->base);
        return e->code;
    }
    it->next = OP_STREAM;
    it->stream = &l->base;
    return 0;
}

/*
 * A free sweep name derived from base (names.h: cut at a character boundary,
 * "sweep-" before an all-digit base): base itself, else base-2, base-3, ...
 */
static int unique_name(struct mlpd *d, const char *base, char *out, size_t n, struct err *e)
{
    for (int k = 1; k < 1000000; k++) {
        name_derive(out, n, base, k);
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
        json_add_int(o, "id", (int64_t)i + 1);
        cJSON_AddItemToObject(o, "params", grid_config_params(g, i));
        cJSON_AddItemToObject(o, "grid", grid_config_varying(g, i));
        cJSON_AddItemToArray(arr, o);
    }
    return arr;
}

/*
 * The name of a new sweep.  An explicit name (--name) must be free; a derived
 * one (the grid's "name", else the client's default: the file's base name) is
 * made unique with a "-2", "-3", ... suffix, so submitting the same file twice
 * just works.  *name is NULL (the store names it "sweep-<id>"), the request's
 * string or buf.
 */
static int submit_name(struct mlpd *d, const cJSON *req, const struct grid *g, char *buf, size_t n,
                       const char **name, struct err *e)
{
    const cJSON *doc = json_get(req, "grid");
    const cJSON *nm = json_get(req, "name");
    const cJSON *dn = json_get(req, "default_name");
    int rc;
    *name = NULL;
    if (cJSON_IsString(nm)) {
        *name = nm->valuestring;
    } else if (cJSON_IsString(json_get(doc, "name")) || cJSON_IsString(dn)) {
        const char *base = cJSON_IsString(json_get(doc, "name")) ? grid_name(g) : dn->valuestring;
        if ((rc = unique_name(d, base, buf, n, e)) < 0)
            return rc;
        *name = buf;
    }
    if (*name && (rc = name_valid(*name, NAME_FINAL, MLP_EINVALID_REQUEST, "name", e)) < 0)
        return rc;
    return 0;
}

/* Store the sweep of grid g (its configurations and trials) as JSON texts; *id is the new sweep. */
static int submit_store(struct mlpd *d, const cJSON *doc, const struct grid *g, const char *name,
                        int64_t priority, const char *executor, int64_t *id, struct err *e)
{
    size_t nc = grid_n_configs(g);
    char **params = calloc(nc ? nc : 1, sizeof *params);
    char **vary = calloc(nc ? nc : 1, sizeof *vary);
    int64_t *seeds = calloc(grid_n_seeds(g) + 1, sizeof *seeds);
    cJSON *keys = cJSON_CreateArray();
    cJSON *dsj = grid_dataset_json(g);
    char *grid_text = json_line(doc), *ds_text = NULL, *keys_text = NULL;
    int rc;
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
    double t0 = now_s();
    if ((rc = store_submit(d->st, &ns, id, e)) == 0)
        log_info("sweep %lld submitted: %zu configurations, %zu trials (stored in %.3f s)",
                 (long long)*id, nc, grid_n_trials(g), now_s() - t0);
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
    return rc;
}

static int op_submit(struct mlpd *d, const cJSON *req, cJSON *resp, struct op_intent *it,
                     struct err *e)
{
    if (d->draining)
        return err_set(e, MLP_ESHUTTING_DOWN, NULL,
                       "mlpd is shutting down and accepts no new sweeps");
    const cJSON *doc = json_get(req, "grid");
    const cJSON *bd = json_get(req, "base_dir");
    int64_t priority = 0;
    json_is_int(json_get(req, "priority"), &priority);
    if (!priority_valid(priority))
        return err_set(e, MLP_EINVALID_REQUEST, "priority", "priority must be within %d..%d",
                       PRIORITY_MIN, PRIORITY_MAX);
    struct grid_opts go = {
        .default_name = NULL,
        .base_dir = cJSON_IsString(bd) ? bd->valuestring : NULL,
        .max_trials = d->cfg.max_trials,
        .force = cJSON_IsTrue(json_get(req, "force")),
    };
    struct grid *g = NULL;
    const char *executor;
    int rc = grid_parse(doc, &go, &g, e);
    if (rc < 0)
        return rc;
    if ((rc = exec_resolve(d, grid_executor(g), &executor, e)) < 0)
        goto out;
    struct dataset_dirs dirs = {
        .data_dir = d->cfg.data_dir, .system_dir = DS_SYSTEM_DIR, .cache_dir = NULL};
    if ((rc = dataset_check_grid(g, &dirs, e)) < 0) {
        if (!e->path[0])
            snprintf(e->path, sizeof e->path, "dataset");
        goto out;
    }
    const char *name;
    char derived[NAME_MAX_BYTES + 1];
    if ((rc = submit_name(d, req, g, derived, sizeof derived, &name, e)) < 0)
        goto out;
    json_add_int(resp, "trials", (int64_t)grid_n_trials(g));
    json_add_int(resp, "configs", (int64_t)grid_n_configs(g));
    cJSON_AddItemToObject(resp, "first", first_configs(g));
    if (cJSON_IsTrue(json_get(req, "dry_run"))) {
        cJSON_AddStringToObject(resp, "name", name ? name : "");
        cJSON_AddStringToObject(resp, "metric", grid_metric(g));
        goto out;
    }
    int64_t id;
    if ((rc = submit_store(d, doc, g, name, priority, executor, &id, e)) < 0 ||
        (rc = add_summary(d, resp, id, e)) < 0)
        goto out;
    sched_kick(d->sched);
    it->changed = id;
out:
    grid_free(g);
    return rc;
}

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
        cJSON_AddItemToObject(o, "config", config_json(cf, cf->idx[i]));
        long g = query_group(q, cf->idx[i]);
        struct stat_summary s, st, sv;
        query_stat(q, g, m, &s);
        query_stat(q, g, mt, &st);
        query_stat(q, g, mv, &sv);
        json_add_int(o, "seeds_done", (int64_t)query_group_size(q, g));
        json_add_int(o, "seeds_total", seeds_total);
        cJSON_AddItemToObject(o, "stat", stat_json(&s));
        cJSON_AddItemToObject(o, "train", stat_json(&st));
        json_add_int(o, "diverged", (int64_t)query_count_flag(q, g, MLP_M_DIVERGED));
        json_add_num(o, "gap", st.mean - sv.mean);
        if (g >= 0 && rank_of[g] > 0)
            json_add_int(o, "rank", rank_of[g]);
        else
            cJSON_AddNullToObject(o, "rank");
        cJSON_AddItemToArray(arr, o);
    }
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
        cJSON_AddItemToObject(vo, "stat", stat_json(&s));
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
    int rc = confusion_parse(r->confusion, &k, &m);
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
        cJSON_AddItemToArray(ca, stat_json(&st));
    }
    rc = 0;
out:
    query_confusion_release(&q);
    return rc;
}

static int op_show(struct mlpd *d, const cJSON *req, cJSON *resp, struct op_intent *it,
                   struct err *e)
{
    (void)it;
    struct store_sweep sw;
    struct query_rows q = QUERY_ROWS_INIT;
    struct cfgs cf = {0};
    struct query_ranked *r = NULL;
    size_t nr = 0;
    long *rank_of = NULL;
    cJSON *keys = NULL;
    int rc, m = 0;
    bool maximize = true;
    if ((rc = load_sweep(d, req, &sw, e)) < 0)
        return rc;
    if ((rc = query_metric(req, &sw, &m, &maximize, e)) < 0 ||
        (rc = rows_load(d, sw.id, &q, e)) < 0 || (rc = cfgs_load(d, sw.id, 0, &cf, e)) < 0)
        goto out;
    if (query_rank(&q, m, maximize, 0, &r, &nr) < 0 ||
        !(rank_of = calloc(q.n_groups + 1, sizeof *rank_of))) {
        rc = err_set(e, MLP_ENOMEM, NULL, "out of memory");
        goto out;
    }
    keys = cJSON_Parse(sw.keys_json);
    const cJSON *by = json_get(req, "by");
    if (cJSON_IsString(by) && (rc = check_by(keys, by->valuestring, e)) < 0)
        goto out;
    for (size_t i = 0; i < nr; i++)
        rank_of[r[i].group] = (long)i + 1;
    if ((rc = add_summary(d, resp, sw.id, e)) < 0)
        goto out;
    cJSON_AddStringToObject(resp, "metric", metric_name(m));
    cJSON_AddStringToObject(resp, "direction", maximize ? "max" : "min");
    cJSON_AddItemToObject(resp, "keys", keys);
    keys = NULL;
    show_configs(resp, &q, &cf, m, cf.n ? sw.c.total / (int64_t)cf.n : 0, rank_of);
    if (cJSON_IsString(by) && (rc = show_by(resp, &q, &cf, by->valuestring, m, e)) < 0)
        goto out;
    if (cJSON_IsTrue(json_get(req, "confusion")))
        rc = show_confusion(d, resp, sw.id, req, e);
    else if (json_get(req, "config"))
        rc = err_set(e, MLP_EINVALID_REQUEST, "config",
                     "\"config\" is only used with \"confusion\": true");
out:
    cJSON_Delete(keys);
    free(rank_of);
    free(r);
    cfgs_free(&cf);
    query_rows_release(&q);
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

static int op_best(struct mlpd *d, const cJSON *req, cJSON *resp, struct op_intent *it,
                   struct err *e)
{
    (void)it;
    struct store_sweep sw;
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
    if ((rc = load_sweep(d, req, &sw, e)) < 0)
        return rc;
    int m = 0;
    bool maximize = true;
    if ((rc = query_metric(req, &sw, &m, &maximize, e)) < 0 ||
        (rc = rows_load(d, sw.id, &q, e)) < 0)
        goto out;
    if ((rc = query_rank(&q, m, maximize, (int)min_seeds, &r, &nr)) < 0) {
        rc = err_set(e, MLP_ENOMEM, NULL, "out of memory");
        goto out;
    }
    int mtest = metric_sibling(m, METRIC_TEST), mtrain = metric_sibling(m, METRIC_TRAIN);
    if ((rc = add_summary(d, resp, sw.id, e)) < 0)
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
        if ((rc = cfgs_load(d, sw.id, idx, &one, e)) < 0)
            goto out;
        cJSON *o = cJSON_CreateObject();
        json_add_int(o, "rank", (int64_t)i + 1);
        cJSON_AddItemToObject(o, "config", config_json(&one, idx));
        cfgs_free(&one);
        cJSON_AddItemToObject(o, "stat", stat_json(&r[i].s));
        json_add_int(o, "diverged", (int64_t)query_count_flag(&q, r[i].group, MLP_M_DIVERGED));
        struct stat_summary ts, trs;
        query_stat(&q, r[i].group, mtrain, &trs);
        cJSON_AddItemToObject(o, "train", stat_json(&trs));
        query_stat(&q, r[i].group, mtest, &ts);
        cJSON_AddItemToObject(o, "test", stat_json(&ts));
        cJSON_AddItemToArray(arr, o);
    }
    best_comparison(resp, r, nr);
    rc = 0;
out:
    free(r);
    query_rows_release(&q);
    store_sweep_release(&sw);
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
    bool regression = is_regression(sw->dataset_json);
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
    cJSON_AddItemToObject(o, "config", config_json(cf, idx));
    cJSON_AddItemToObject(o, "stat", stat_json(s));
    return o;
}

static int op_compare(struct mlpd *d, const cJSON *req, cJSON *resp, struct op_intent *it,
                      struct err *e)
{
    (void)it;
    struct store_sweep sw;
    struct cmp_side sides[2] = {{0}, {0}};
    struct query_cmp c = {0};
    struct cfgs cf = {0};
    int rc, m = 0;
    static const char *const names[] = {"a", "b"};
    if ((rc = load_sweep(d, req, &sw, e)) < 0)
        return rc;
    if ((rc = compare_metric(req, &sw, &m, e)) < 0 || (rc = cfgs_load(d, sw.id, 0, &cf, e)) < 0)
        goto out;
    for (int i = 0; i < 2; i++) {
        json_is_int(json_get(req, names[i]), &sides[i].config);
        sides[i].m = m;
        if (cfgs_find(&cf, sides[i].config) < 0) {
            rc = err_set(e, MLP_ENOT_FOUND, names[i], "sweep %lld has no config %lld (1..%zu)",
                         (long long)sw.id, (long long)sides[i].config, cf.n);
            goto out;
        }
    }
    if (sides[0].config == sides[1].config) {
        rc = err_set(e, MLP_EINVALID_REQUEST, "b", "a and b are the same config");
        goto out;
    }
    if ((rc = store_trials_each(d->st, sw.id, 0, true, cmp_row, sides, e)) != 0 ||
        (rc = query_cmp_run(sides[0].seed, sides[0].v, sides[0].n, sides[1].seed, sides[1].v,
                            sides[1].n, &c)) < 0) {
        if (rc > 0 || e->code == 0)
            rc = err_set(e, MLP_ENOMEM, NULL, "out of memory");
        goto out;
    }
    if ((rc = add_summary(d, resp, sw.id, e)) < 0)
        goto out;
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
    cfgs_free(&cf);
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

/* A results row of one trial. */
static cJSON *trial_json(const struct rows_ctx *x, const struct store_trial_row *t)
{
    cJSON *o = cJSON_CreateObject();
    if (!o)
        return NULL;
    json_add_int(o, "trial", t->id);
    json_add_int(o, "config", t->config_idx);
    add_grid_values(o, x->cf, t->config_idx);
    json_add_int(o, "seed", t->seed);
    cJSON_AddStringToObject(o, "state", t->state);
    json_add_int(o, "attempts", t->attempts);
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

/* A row of one epoch (results --curves, and the trial op's curve). */
static cJSON *epoch_json(const struct rows_ctx *x, const struct store_epoch_row *r)
{
    cJSON *o = cJSON_CreateObject();
    if (!o)
        return NULL;
    json_add_int(o, "trial", r->trial_id);
    json_add_int(o, "config", r->config_idx);
    if (x->cf)
        add_grid_values(o, x->cf, r->config_idx);
    json_add_int(o, "seed", r->seed);
    json_add_int(o, "epoch", r->epoch);
    for (int m = 0; m < MLP_M_N; m++)
        if (metric_info(m)->per_epoch && metric_for_task(m, x->regression))
            json_add_num(o, metric_name(m), r->v[m]);
    return o;
}

static int epoch_row(void *ud, const struct store_epoch_row *r)
{
    struct rows_ctx *x = ud;
    cJSON *o = epoch_json(x, r);
    if (!o)
        return MLP_ENOMEM;
    cJSON_AddItemToArray(x->rows, o);
    return 0;
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
    size_t next_cfg; /* configs */
    struct chunk k;
};

/* One aggregated row: config, its grid values, n and mean/sd/se of every metric. */
static cJSON *config_row(struct results_stream *r, size_t i)
{
    long g = query_group(&r->q, r->cf.idx[i]);
    cJSON *o = cJSON_CreateObject();
    if (!o)
        return NULL;
    json_add_int(o, "config", r->cf.idx[i]);
    add_grid_values(o, &r->cf, r->cf.idx[i]);
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
    cJSON *o = r->curves ? epoch_json(&r->x, row) : trial_json(&r->x, row);
    return chunk_add(&r->k, o);
}

static int results_next(struct op_stream *base, struct mlpd *d, struct op_buf *out, struct err *e)
{
    (void)d;
    struct results_stream *r = (struct results_stream *)base;
    r->k = (struct chunk){.out = out, .field = "rows"};
    int rc = 0;
    if (r->cur) {
        rc = store_cursor_next(r->cur, results_cursor_row, r, e);
    } else {
        while (rc == 0 && r->next_cfg < r->cf.n)
            rc = chunk_add(&r->k, config_row(r, r->next_cfg++));
        if (rc < 0)
            err_set(e, rc, NULL, "out of memory");
        else
            rc = r->next_cfg < r->cf.n;
    }
    if (rc < 0)
        return e->code ? e->code : rc;
    if (chunk_end(&r->k) < 0)
        return err_set(e, MLP_ENOMEM, NULL, "out of memory");
    return rc;
}

static void results_free(struct op_stream *base)
{
    struct results_stream *r = (struct results_stream *)base;
    store_cursor_close(r->cur);
    cfgs_free(&r->cf);
    query_rows_release(&r->q);
    free(r);
}

static int op_results(struct mlpd *d, const cJSON *req, cJSON *resp, struct op_intent *it,
                      struct err *e)
{
    struct store_sweep sw;
    int rc;
    if ((rc = load_sweep(d, req, &sw, e)) < 0)
        return rc;
    struct results_stream *r = calloc(1, sizeof *r);
    if (!r) {
        store_sweep_release(&sw);
        return err_set(e, MLP_ENOMEM, NULL, "out of memory");
    }
    r->base = (struct op_stream){.next = results_next, .free = results_free};
    r->q = (struct query_rows)QUERY_ROWS_INIT;
    bool regression = is_regression(sw.dataset_json);
    r->x = (struct rows_ctx){.cf = &r->cf,
                             .metrics = r->metrics,
                             .n_metrics = metric_task_list(regression, r->metrics),
                             .regression = regression};
    if ((rc = cfgs_load(d, sw.id, 0, &r->cf, e)) < 0)
        goto fail;
    cJSON *keys = cJSON_Parse(sw.keys_json);
    cJSON_AddItemToObject(resp, "keys", keys ? keys : cJSON_CreateArray());
    cJSON_AddStringToObject(resp, "task", regression ? "regression" : "classification");
    /* The summary names the sweep and its metric for whoever draws or files the rows. */
    if ((rc = add_summary(d, resp, sw.id, e)) < 0)
        goto fail;
    r->curves = cJSON_IsTrue(json_get(req, "curves"));
    if (r->curves || cJSON_IsTrue(json_get(req, "trials"))) {
        cJSON_AddStringToObject(resp, "kind", r->curves ? "curves" : "trials");
        r->cur = store_cursor_open(d->st, r->curves ? STORE_CURSOR_EPOCHS : STORE_CURSOR_TRIALS,
                                   sw.id, e);
        if (!r->cur) {
            rc = e->code;
            goto fail;
        }
    } else {
        cJSON_AddStringToObject(resp, "kind", "configs");
        if ((rc = rows_load(d, sw.id, &r->q, e)) < 0)
            goto fail;
    }
    store_sweep_release(&sw);
    it->next = OP_STREAM;
    it->stream = &r->base;
    return 0;
fail:
    store_sweep_release(&sw);
    results_free(&r->base);
    return rc;
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
    json_add_int(o, "id", t->id);
    json_add_int(o, "sweep", t->sweep_id);
    json_add_int(o, "seed", t->seed);
    cJSON_AddStringToObject(o, "state", t->state);
    json_add_int(o, "attempts", t->attempts);
    if (t->error)
        cJSON_AddStringToObject(o, "error", t->error);
    else
        cJSON_AddNullToObject(o, "error");
    if (t->pid > 0 && strcmp(t->state, "running") == 0)
        json_add_int(o, "pid", t->pid);
    json_add_num(o, "created", t->created);
    json_add_num(o, "started", t->started);
    json_add_num(o, "finished", t->finished);
    if (t->has_result) {
        cJSON *mo = cJSON_AddObjectToObject(o, "metrics");
        for (int m = 0; m < MLP_M_N; m++) {
            enum metric_kind k = metric_info(m)->kind;
            if (k == METRIC_FLAG)
                cJSON_AddBoolToObject(mo, metric_name(m), t->v[m] != 0);
            else if (!isnan(t->v[m]) || (k != METRIC_MSE && k != METRIC_ACCURACY))
                json_add_num(mo, metric_name(m), t->v[m]);
        }
        int k;
        double *cm;
        if (t->confusion && confusion_parse(t->confusion, &k, &cm) == 0) {
            cJSON_AddItemToObject(mo, "confusion", cJSON_Parse(t->confusion));
            cJSON_AddItemToObject(mo, "class_accuracy", class_accuracy_json(k, cm));
            free(cm);
        }
        if (t->normalize)
            cJSON_AddStringToObject(mo, "normalize", t->normalize);
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

/* "artifacts": [{name, bytes}] of the trial's directory, by name (none: empty list). */
static int add_artifacts(cJSON *t, const char *root, int64_t id, struct err *e)
{
    char dir[CONFIG_PATH_MAX + 64];
    snprintf(dir, sizeof dir, "%s/%lld", root, (long long)id);
    cJSON *a = cJSON_AddArrayToObject(t, "artifacts");
    if (!a)
        return err_set(e, MLP_ENOMEM, NULL, "out of memory");
    struct dirent **names = NULL;
    int n = scandir(dir, &names, NULL, alphasort);
    for (int i = 0; i < n; i++) {
        struct stat sb;
        char path[CONFIG_PATH_MAX + 400];
        const char *nm = names[i]->d_name;
        snprintf(path, sizeof path, "%s/%s", dir, nm);
        /* Dot files are the worker's files still being written. */
        if (nm[0] != '.' && stat(path, &sb) == 0 && S_ISREG(sb.st_mode)) {
            cJSON *f = cJSON_CreateObject();
            cJSON_AddStringToObject(f, "name", nm);
            json_add_int(f, "bytes", (int64_t)sb.st_size);
            cJSON_AddItemToArray(a, f);
        }
        free(names[i]);
    }
    free(names);
    return 0;
}

static int op_trial(struct mlpd *d, const cJSON *req, cJSON *resp, struct op_intent *it,
                    struct err *e)
{
    (void)it;
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
    if ((rc = add_artifacts(t, d->artifacts_dir, id, e)) < 0)
        return rc;
    char *tail = log_tail(d->log_dir, id);
    cJSON_AddStringToObject(t, "log_tail", tail ? tail : "");
    free(tail);
    return 0;
}

/* artifact: a trial's files under <state dir>/artifacts/<trial id>/. */

#define ARTIFACT_RAW_CHUNK (3u << 18) /* raw bytes per chunk: 768 KiB, 1 MiB of base64 */

struct artifact_stream {
    struct op_stream base;
    int fd;
    char name[256];
    int64_t sent; /* raw bytes sent so far */
    unsigned char *raw;
};

/* Append the base64 (RFC 4648, padded) of n bytes to out: 0 or MLP_ENOMEM. */
static int b64_add(struct op_buf *out, const unsigned char *p, size_t n)
{
    static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    char q[4096];
    size_t k = 0;
    for (size_t i = 0; i < n; i += 3) {
        unsigned v = (unsigned)p[i] << 16;
        if (i + 1 < n)
            v |= (unsigned)p[i + 1] << 8;
        if (i + 2 < n)
            v |= p[i + 2];
        q[k++] = tab[(v >> 18) & 63];
        q[k++] = tab[(v >> 12) & 63];
        q[k++] = i + 1 < n ? tab[(v >> 6) & 63] : '=';
        q[k++] = i + 2 < n ? tab[v & 63] : '=';
        if (k + 4 > sizeof q) {
            if (ops_buf_add(out, q, k) < 0)
                return MLP_ENOMEM;
            k = 0;
        }
    }
    return ops_buf_add(out, q, k);
}

static int artifact_next(struct op_stream *base, struct mlpd *d, struct op_buf *out, struct err *e)
{
    (void)d;
    struct artifact_stream *a = (struct artifact_stream *)base;
    size_t got = 0;
    while (got < ARTIFACT_RAW_CHUNK) {
        ssize_t n = read(a->fd, a->raw + got, ARTIFACT_RAW_CHUNK - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return err_set(e, MLP_EIO, "name", "artifact %s: read failed: %s", a->name,
                           strerror(errno));
        if (n == 0)
            break;
        got += (size_t)n;
    }
    a->sent += (int64_t)got;
    bool last = got < ARTIFACT_RAW_CHUNK;
    int rc = 0;
    if (got > 0) {
        rc = ops_buf_add(out, "\"data\":\"", 8);
        if (rc == 0)
            rc = b64_add(out, a->raw, got);
        if (rc == 0)
            rc = ops_buf_add(out, last ? "\"," : "\"", last ? 2 : 1);
    }
    if (rc == 0 && last) {
        cJSON *tail = cJSON_CreateObject();
        cJSON_AddStringToObject(tail, "name", a->name);
        json_add_int(tail, "bytes", a->sent);
        char *t = json_line(tail);
        cJSON_Delete(tail);
        /* the members of {"name":..,"bytes":n} without the braces */
        rc = t ? ops_buf_add(out, t + 1, strlen(t) - 2) : MLP_ENOMEM;
        free(t);
    }
    if (rc < 0)
        return err_set(e, MLP_ENOMEM, NULL, "out of memory");
    return last ? 0 : 1;
}

static void artifact_free(struct op_stream *base)
{
    struct artifact_stream *a = (struct artifact_stream *)base;
    if (a->fd >= 0)
        close(a->fd);
    free(a->raw);
    free(a);
}

static int trial_found(void *ud, const struct store_trial_row *t)
{
    (void)t;
    *(bool *)ud = true;
    return 0;
}

static int name_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* {"files":[{"name","bytes"}]} of dir, by name (an absent dir has none). */
static int artifact_list(const char *dir, cJSON *resp, struct err *e)
{
    cJSON *files = cJSON_AddArrayToObject(resp, "files");
    DIR *dh = opendir(dir);
    if (!dh)
        return errno == ENOENT
                   ? 0
                   : err_set(e, MLP_EIO, NULL, "cannot read %s: %s", dir, strerror(errno));
    char **names = NULL;
    size_t n = 0, cap = 0;
    int rc = 0;
    struct dirent *de;
    while ((de = readdir(dh))) {
        if (de->d_name[0] == '.')
            continue;
        if (n == cap) {
            cap = cap ? 2 * cap : 16;
            char **p = realloc(names, cap * sizeof *p);
            if (!p) {
                rc = err_set(e, MLP_ENOMEM, NULL, "out of memory");
                break;
            }
            names = p;
        }
        if (!(names[n] = strdup(de->d_name))) {
            rc = err_set(e, MLP_ENOMEM, NULL, "out of memory");
            break;
        }
        n++;
    }
    closedir(dh);
    if (n > 0)
        qsort(names, n, sizeof *names, name_cmp);
    for (size_t i = 0; i < n; i++) {
        char path[CONFIG_PATH_MAX + 600];
        struct stat sb;
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        if (rc == 0 && lstat(path, &sb) == 0 && S_ISREG(sb.st_mode)) {
            cJSON *f = cJSON_CreateObject();
            cJSON_AddStringToObject(f, "name", names[i]);
            json_add_int(f, "bytes", (int64_t)sb.st_size);
            cJSON_AddItemToArray(files, f);
        }
        free(names[i]);
    }
    free(names);
    return rc;
}

static int op_artifact(struct mlpd *d, const cJSON *req, cJSON *resp, struct op_intent *it,
                       struct err *e)
{
    int64_t id = 0;
    json_is_int(json_get(req, "id"), &id);
    bool found = false;
    if (id > 0 && store_trials_each(d->st, 0, id, false, trial_found, &found, e) < 0)
        return e->code;
    if (!found)
        return err_set(e, MLP_ENOT_FOUND, "id", "no trial %lld", (long long)id);
    char dir[CONFIG_PATH_MAX + 64];
    snprintf(dir, sizeof dir, "%s/artifacts/%lld", d->cfg.state_dir, (long long)id);
    const cJSON *nv = json_get(req, "name");
    if (!nv || cJSON_IsNull(nv))
        return artifact_list(dir, resp, e);
    const char *name = nv->valuestring;
    if (!name[0] || name[0] == '.' || strchr(name, '/') || strlen(name) >= 256)
        return err_set(e, MLP_EINVALID_REQUEST, "name",
                       "artifact: \"%.64s\" is not a plain file name (no '/', not starting "
                       "with '.')",
                       name);
    char path[sizeof dir + 260];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    struct stat sb;
    if (fd < 0 || fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
        if (fd >= 0)
            close(fd);
        return err_set(e, MLP_ENOT_FOUND, "name", "trial %lld has no artifact \"%s\"",
                       (long long)id, name);
    }
    struct artifact_stream *a = calloc(1, sizeof *a);
    if (a)
        a->raw = malloc(ARTIFACT_RAW_CHUNK);
    if (!a || !a->raw) {
        close(fd);
        free(a);
        return err_set(e, MLP_ENOMEM, NULL, "out of memory");
    }
    a->base = (struct op_stream){.next = artifact_next, .free = artifact_free};
    a->fd = fd;
    snprintf(a->name, sizeof a->name, "%s", name);
    (void)resp;
    it->next = OP_STREAM;
    it->stream = &a->base;
    return 0;
}

static int op_wait(struct mlpd *d, const cJSON *req, cJSON *resp, struct op_intent *it,
                   struct err *e)
{
    (void)resp;
    if (ops_sweep_ref(d, json_get(req, "sweep"), &it->sweep_id, e) < 0)
        return e->code;
    it->next = OP_WAIT;
    return 0;
}

static int op_watch(struct mlpd *d, const cJSON *req, cJSON *resp, struct op_intent *it,
                    struct err *e)
{
    (void)resp;
    const cJSON *s = json_get(req, "sweep");
    it->sweep_id = 0;
    if (s && !cJSON_IsNull(s) && ops_sweep_ref(d, s, &it->sweep_id, e) < 0)
        return e->code;
    it->next = OP_WATCH;
    return 0;
}

/* Queue control: cancel, pause, resume, retry. */

static const char *sw_state(const struct store_sweep *sw)
{
    if (sw->c.queued + sw->c.running > 0)
        return "active";
    return sw->cancelled ? "cancelled" : sw->c.failed > 0 ? "failed" : "done";
}

/* A sweep with nothing queued or running cannot be cancelled or paused: say why. */
static int refuse_ended(const char *verb, const struct store_sweep *sw, struct err *e)
{
    return err_set(e, MLP_ECONFLICT, "sweep",
                   "%s: sweep %lld \"%s\" has ended (%s): no trial is queued or running%s", verb,
                   (long long)sw->id, sw->name, sw_state(sw),
                   strcmp(sw_state(sw), "done") == 0 ? ""
                                                     : "; 'retry' re-queues failed trials, "
                                                       "'retry --cancelled' cancelled ones");
}

static int q_cancel(struct mlpd *d, const cJSON *req, const struct store_sweep *sw,
                    int64_t *changed, struct err *e)
{
    (void)req;
    if (sw->c.queued + sw->c.running == 0)
        return refuse_ended("cancel", sw, e);
    int rc = store_sweep_cancel(d->st, sw->id, changed, e);
    if (rc == 0)
        *changed += sched_cancel_sweep(d->sched, sw->id);
    return rc;
}

static int q_pause(struct mlpd *d, const cJSON *req, const struct store_sweep *sw, int64_t *changed,
                   struct err *e)
{
    (void)req;
    if (sw->c.queued + sw->c.running == 0)
        return refuse_ended("pause", sw, e);
    if (sw->paused)
        return 0; /* already paused: nothing changed */
    return store_sweep_pause(d->st, sw->id, true, changed, e);
}

/* Resume a paused sweep; a cancelled one gets its cancelled trials back in the queue. */
static int q_resume(struct mlpd *d, const cJSON *req, const struct store_sweep *sw,
                    int64_t *changed, struct err *e)
{
    (void)req;
    int64_t requeued = 0;
    if (sw->paused && store_sweep_pause(d->st, sw->id, false, changed, e) < 0)
        return e->code;
    if (!sw->cancelled)
        return 0;
    if (d->draining)
        return err_set(e, MLP_ESHUTTING_DOWN, NULL, "mlpd is shutting down");
    if (store_sweep_retry(d->st, sw->id, false, true, &requeued, e) < 0)
        return e->code;
    *changed = requeued + (sw->paused ? sw->c.queued : 0);
    return 0;
}

static int q_retry(struct mlpd *d, const cJSON *req, const struct store_sweep *sw, int64_t *changed,
                   struct err *e)
{
    if (d->draining)
        return err_set(e, MLP_ESHUTTING_DOWN, NULL, "mlpd is shutting down");
    return store_sweep_retry(d->st, sw->id, true, cJSON_IsTrue(json_get(req, "cancelled")), changed,
                             e);
}

static const struct queue_verb {
    const char *op;
    /* Apply to the sweep; *changed counts the trials whose state changed. */
    int (*apply)(struct mlpd *d, const cJSON *req, const struct store_sweep *sw, int64_t *changed,
                 struct err *e);
    bool kick; /* trials may have become runnable */
} queue_verbs[] = {
    {"cancel", q_cancel, false},
    {"pause", q_pause, false},
    {"resume", q_resume, true},
    {"retry", q_retry, true},
};

static int op_queue(struct mlpd *d, const cJSON *req, cJSON *resp, struct op_intent *it,
                    struct err *e)
{
    const cJSON *opv = json_get(req, "op");
    const struct queue_verb *qv = NULL;
    for (size_t i = 0; i < sizeof queue_verbs / sizeof queue_verbs[0]; i++)
        if (cJSON_IsString(opv) && strcmp(opv->valuestring, queue_verbs[i].op) == 0)
            qv = &queue_verbs[i];
    assert(qv); /* the ops table routes only these ops here */
    struct store_sweep sw;
    int rc = load_sweep(d, req, &sw, e);
    if (rc < 0)
        return rc;
    int64_t changed = 0, id = sw.id;
    rc = qv->apply(d, req, &sw, &changed, e);
    store_sweep_release(&sw);
    if (rc < 0)
        return rc;
    log_info("sweep %lld: %s (%lld trials)", (long long)id, qv->op, (long long)changed);
    if (qv->kick)
        sched_kick(d->sched);
    it->changed = id;
    if ((rc = add_summary(d, resp, id, e)) < 0)
        return rc;
    json_add_int(resp, "changed", changed);
    return 0;
}

/* delete: the sweep, its rows, its trials' logs and artifacts. */

struct id_list {
    int64_t *v;
    size_t n, cap;
};

static int collect_trial(void *ud, const struct store_trial_row *t)
{
    struct id_list *l = ud;
    if (l->n == l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 64;
        int64_t *p = realloc(l->v, cap * sizeof *p);
        if (!p)
            return MLP_ENOMEM;
        l->v = p;
        l->cap = cap;
    }
    l->v[l->n++] = t->id;
    return 0;
}

static int unlink_cb(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)ftw;
    if ((flag == FTW_DP ? rmdir(path) : unlink(path)) != 0 && errno != ENOENT)
        log_warn("delete: cannot remove %s: %s", path, strerror(errno));
    return 0;
}

static int op_delete(struct mlpd *d, const cJSON *req, cJSON *resp, struct op_intent *it,
                     struct err *e)
{
    struct store_sweep sw;
    int rc = load_sweep(d, req, &sw, e);
    if (rc < 0)
        return rc;
    int64_t id = sw.id, running = sw.c.running, stopped = 0, ignored = 0;
    bool force = cJSON_IsTrue(json_get(req, "force"));
    char name[256];
    snprintf(name, sizeof name, "%s", sw.name);
    store_sweep_release(&sw);
    if (running > 0 && !force)
        return err_set(e, MLP_ECONFLICT, "sweep",
                       "delete: sweep %lld \"%s\" has %lld running trial%s; cancel it first, or "
                       "pass force (mlpctl delete --force) to stop them",
                       (long long)id, name, (long long)running, running == 1 ? "" : "s");
    struct id_list trials = {0};
    if ((rc = store_trials_each(d->st, id, 0, false, collect_trial, &trials, e)) != 0) {
        free(trials.v);
        return rc < 0 && e->code ? rc : err_set(e, MLP_ENOMEM, NULL, "out of memory");
    }
    if (running > 0) { /* stop local workers and scancel Slurm tasks before the rows go */
        if (store_sweep_cancel(d->st, id, &ignored, e) < 0) {
            free(trials.v);
            return e->code;
        }
        stopped = sched_cancel_sweep(d->sched, id);
    }
    if ((rc = store_sweep_delete(d->st, id, e)) < 0) {
        free(trials.v);
        return rc;
    }
    for (size_t i = 0; i < trials.n; i++) {
        char path[CONFIG_PATH_MAX + 64];
        snprintf(path, sizeof path, "%s/%lld.log", d->log_dir, (long long)trials.v[i]);
        if (unlink(path) != 0 && errno != ENOENT)
            log_warn("delete: cannot remove %s: %s", path, strerror(errno));
        snprintf(path, sizeof path, "%s/artifacts/%lld", d->cfg.state_dir, (long long)trials.v[i]);
        nftw(path, unlink_cb, 8, FTW_DEPTH | FTW_PHYS);
    }
    log_info("sweep %lld \"%s\" deleted (%zu trials, %lld stopped)", (long long)id, name, trials.n,
             (long long)stopped);
    json_add_int(resp, "deleted", id);
    cJSON_AddStringToObject(resp, "name", name);
    json_add_int(resp, "trials", (int64_t)trials.n);
    json_add_int(resp, "stopped", stopped);
    free(trials.v);
    it->changed = id; /* waiters and watchers of the sweep learn it is gone */
    return 0;
}

static int op_shutdown(struct mlpd *d, const cJSON *req, cJSON *resp, struct op_intent *it,
                       struct err *e)
{
    (void)it;
    (void)e;
    bool now = cJSON_IsTrue(json_get(req, "now"));
    cJSON_AddBoolToObject(resp, "now", now);
    json_add_int(resp, "running", sched_busy(d->sched));
    /* The reply is queued before the listener closes, so the client gets it. */
    d->shutdown(d, now);
    return 0;
}

static int op_data_list(struct mlpd *d, const cJSON *req, cJSON *resp, struct op_intent *it,
                        struct err *e)
{
    (void)it;
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
    {.name = "list", .exec = op_list, .fields = {{"limit", OT_INT, false}}, .heavy = true},
    {.name = "show",
     .exec = op_show,
     .fields = {{"sweep", OT_SWEEP, true},
                {"by", OT_STR, false},
                {"metric", OT_STR, false},
                {"config", OT_INT, false},
                {"confusion", OT_BOOL, false}},
     .heavy = true},
    {.name = "best",
     .exec = op_best,
     .fields = {{"sweep", OT_SWEEP, true},
                {"metric", OT_STR, false},
                {"top", OT_INT, false},
                {"bottom", OT_INT, false},
                {"min_seeds", OT_INT, false}},
     .heavy = true},
    {.name = "results",
     .exec = op_results,
     .fields = {{"sweep", OT_SWEEP, true}, {"trials", OT_BOOL, false}, {"curves", OT_BOOL, false}},
     .heavy = true},
    {.name = "compare",
     .exec = op_compare,
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
    {.name = "watch", .exec = op_watch, .fields = {{"sweep", OT_SWEEP, false}}},
    {.name = "wait", .exec = op_wait, .fields = {{"sweep", OT_SWEEP, true}}},
    {.name = "cancel", .exec = op_queue, .fields = {{"sweep", OT_SWEEP, true}}},
    {.name = "pause", .exec = op_queue, .fields = {{"sweep", OT_SWEEP, true}}},
    {.name = "resume", .exec = op_queue, .fields = {{"sweep", OT_SWEEP, true}}},
    {.name = "retry",
     .exec = op_queue,
     .fields = {{"sweep", OT_SWEEP, true}, {"cancelled", OT_BOOL, false}}},
    {.name = "delete",
     .exec = op_delete,
     .fields = {{"sweep", OT_SWEEP, true}, {"force", OT_BOOL, false}}},
    {.name = "shutdown", .exec = op_shutdown, .fields = {{"now", OT_BOOL, false}}},
    {.name = "data_list", .exec = op_data_list},
};
const int ops_count = (int)(sizeof ops_table / sizeof ops_table[0]);
