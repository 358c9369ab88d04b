/*
 * ops_sweep — the ops that make, list, steer and remove sweeps: list (a
 * stream of sweep summaries), submit (parse and check the grid, name the
 * sweep, store its configurations and trials), the queue verbs cancel, pause,
 * resume and retry (one table, queue_verbs, one handler) and delete (rows,
 * logs and artifacts).  Part of the ops module (ops.h; shared helpers in
 * ops_int.h).  The ops that change a sweep set the intent's "changed" so its
 * waiters and watchers hear of it, and kick the scheduler when trials may
 * have become runnable.
 */
#include <cjson/cJSON.h>
#include <assert.h>
#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "clock.h"
#include "dataread.h"
#include "dataset.h"
#include "exec.h"
#include "grid.h"
#include "json.h"
#include "log.h"
#include "meta.h"
#include "mlpd.h"
#include "names.h"
#include "ops.h"
#include "ops_int.h"
#include "sched.h"
#include "store.h"
#include "view.h"

#define FIRST_CONFIGS 5 /* configurations echoed by submit */

/* list: summaries of the sweeps, newest first, filtered by state, at most limit. */
struct list_stream {
    struct op_stream base;
    int64_t *ids;
    size_t n, next;
    char states[6][16]; /* wanted states; none: every state */
    int n_states;
    int64_t limit, sent; /* limit 0: no limit */
    cJSON *tags; /* wanted tags: "key=value" or "key" (has the tag) strings; all must match */
};

/* Whether a summary's "tags" hold every wanted tag. */
static bool list_tags_match(const struct list_stream *l, const cJSON *summary)
{
    const cJSON *have = json_get(summary, "tags"), *w;
    cJSON_ArrayForEach(w, l->tags)
    {
        const char *s = w->valuestring, *eq = strchr(s, '=');
        size_t kn = eq ? (size_t)(eq - s) : strlen(s);
        const cJSON *t;
        bool found = false;
        cJSON_ArrayForEach(t, have)
        {
            if (strlen(t->string) == kn && strncmp(t->string, s, kn) == 0 && cJSON_IsString(t) &&
                (!eq || strcmp(t->valuestring, eq + 1) == 0))
                found = true;
        }
        if (!found)
            return false;
    }
    return true;
}

/* Check and keep the "tag" filter (a string or a list of strings): 0 or MLP_EINVALID_REQUEST. */
static int list_tags(struct list_stream *l, const cJSON *v, struct err *e)
{
    if (!v || cJSON_IsNull(v))
        return 0;
    if (!(l->tags = cJSON_CreateArray()))
        return err_set(e, MLP_ENOMEM, NULL, "out of memory");
    const cJSON *one = cJSON_IsArray(v) ? v->child : v;
    for (; one; one = cJSON_IsArray(v) ? one->next : NULL) {
        if (!cJSON_IsString(one))
            return err_set(e, MLP_EINVALID_REQUEST, "tag",
                           "list: \"tag\" must be a string KEY=VALUE or KEY, or a list of them");
        char key[META_KEY_MAX + 2];
        const char *s = one->valuestring, *eq = strchr(s, '=');
        size_t kn = eq ? (size_t)(eq - s) : strlen(s);
        snprintf(key, sizeof key, "%.*s", (int)(kn > META_KEY_MAX + 1 ? META_KEY_MAX + 1 : kn), s);
        if (meta_check_key(key, "tag", e) < 0 || (eq && meta_check_value(eq + 1, "tag", e) < 0))
            return e->code;
        cJSON_AddItemToArray(l->tags, cJSON_CreateString(s));
    }
    return 0;
}

static bool list_wanted(const struct list_stream *l, const cJSON *summary)
{
    if (l->tags && !list_tags_match(l, summary))
        return false;
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
        if ((full = ops__chunk_add(&k, s)) < 0)
            return err_set(e, full, NULL, "out of memory");
    }
    if (ops__chunk_end(&k) < 0)
        return err_set(e, MLP_ENOMEM, NULL, "out of memory");
    return l->next < l->n && (l->limit == 0 || l->sent < l->limit) ? 1 : 0;
}

static void list_free(struct op_stream *base)
{
    struct list_stream *l = (struct list_stream *)base;
    free(l->ids);
    cJSON_Delete(l->tags);
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

int op_list(struct mlpd *d, const cJSON *req, const struct store_sweep *sw, cJSON *resp,
            struct op_intent *it, struct err *e)
{
    (void)sw;
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
        list_tags(l, json_get(req, "tag"), e) < 0 ||
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
        .config_major = grid_prune(g) != NULL,
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

int op_submit(struct mlpd *d, const cJSON *req, const struct store_sweep *sw, cJSON *resp,
              struct op_intent *it, struct err *e)
{
    (void)sw;
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
        (rc = ops__add_summary(d, resp, id, e)) < 0)
        goto out;
    sched_kick(d->sched);
    it->changed = id;
out:
    grid_free(g);
    return rc;
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
        return 0; /* a cancelled one is refused while mlpd drains (ops table) */
    if (store_sweep_retry(d->st, sw->id, false, true, &requeued, e) < 0)
        return e->code;
    *changed = requeued + (sw->paused ? sw->c.queued : 0);
    return 0;
}

static int q_retry(struct mlpd *d, const cJSON *req, const struct store_sweep *sw, int64_t *changed,
                   struct err *e)
{
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

int op_queue(struct mlpd *d, const cJSON *req, const struct store_sweep *sw, cJSON *resp,
             struct op_intent *it, struct err *e)
{
    const cJSON *opv = json_get(req, "op");
    const struct queue_verb *qv = NULL;
    for (size_t i = 0; i < sizeof queue_verbs / sizeof queue_verbs[0]; i++)
        if (cJSON_IsString(opv) && strcmp(opv->valuestring, queue_verbs[i].op) == 0)
            qv = &queue_verbs[i];
    assert(qv); /* the ops table routes only these ops here */
    int64_t changed = 0, id = sw->id;
    int rc = qv->apply(d, req, sw, &changed, e);
    if (rc < 0)
        return rc;
    log_info("sweep %lld: %s (%lld trials)", (long long)id, qv->op, (long long)changed);
    if (qv->kick)
        sched_kick(d->sched);
    it->changed = id;
    if ((rc = ops__add_summary(d, resp, id, e)) < 0)
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

int op_delete(struct mlpd *d, const cJSON *req, const struct store_sweep *sw, cJSON *resp,
              struct op_intent *it, struct err *e)
{
    int rc;
    int64_t id = sw->id, running = sw->c.running, stopped = 0, ignored = 0;
    bool force = cJSON_IsTrue(json_get(req, "force"));
    char name[256];
    snprintf(name, sizeof name, "%s", sw->name);
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
