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
#include "bulk.h"
#include "log.h"
#include "meta.h"
#include "mlpd.h"
#include "names.h"
#include "ops.h"
#include "ops_int.h"
#include "prune.h"
#include "race.h"
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

static int unlink_cb(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)ftw;
    if ((flag == FTW_DP ? rmdir(path) : unlink(path)) != 0 && errno != ENOENT)
        log_warn("delete: cannot remove %s: %s", path, strerror(errno));
    return 0;
}

/*
 * Remove the rows of hidden sweep id in batches (store_purge_step), with its
 * trials' logs and artifacts when dirs are given.  On a pool thread, as a bulk
 * task; stops early (MLP_ESHUTTING_DOWN) when mlpd stops: the sweep stays
 * hidden and the next start purges the rest.  *trials counts the trials removed.
 */
static int purge_rows(struct store *st, int64_t id, const char *log_dir, const char *artifacts_dir,
                      const struct bulk *b, int64_t *trials, struct err *e)
{
    int64_t *ids = malloc(BULK_BATCH_ROWS * sizeof *ids);
    bool done = false;
    int rc = 0;
    if (!ids)
        return err_set(e, MLP_ENOMEM, NULL, "out of memory");
    while (!done) {
        if (b && bulk_stopping(b)) {
            rc = err_set(e, MLP_ESHUTTING_DOWN, NULL,
                         "mlpd stopped; the next start removes the rest of sweep %lld",
                         (long long)id);
            break;
        }
        size_t n = 0;
        if ((rc = store_purge_step(st, id, BULK_BATCH_ROWS, ids, &n, &done, e)) < 0)
            break;
        for (size_t i = 0; log_dir && i < n; i++) {
            char path[CONFIG_PATH_MAX + 64];
            snprintf(path, sizeof path, "%s/%lld.log", log_dir, (long long)ids[i]);
            if (unlink(path) != 0 && errno != ENOENT)
                log_warn("delete: cannot remove %s: %s", path, strerror(errno));
            snprintf(path, sizeof path, "%s/%lld", artifacts_dir, (long long)ids[i]);
            nftw(path, unlink_cb, 8, FTW_DEPTH | FTW_PHYS);
        }
        *trials += (int64_t)n;
        if (!done)
            bulk_yield();
    }
    free(ids);
    return rc;
}

/* Stop between batches when mlpd stops (the hidden sweep is purged at the next start). */
static int submit_stopping(struct mlpd *d, struct err *e)
{
    if (d->bulk && bulk_stopping(d->bulk))
        return err_set(e, MLP_ESHUTTING_DOWN, NULL,
                       "mlpd is shutting down; the sweep was not stored");
    return 0;
}

/* Configurations first+1..first+n of g as canonical texts, inserted in one transaction. */
static int submit_configs(struct mlpd *d, const struct grid *g, int64_t id, size_t first,
                          size_t n, char **params, char **vary, struct err *e)
{
    int rc = 0;
    size_t made = 0;
    for (; made < n; made++) {
        cJSON *p = grid_config_params(g, first + made);
        cJSON *v = grid_config_varying(g, first + made);
        params[made] = p ? json_line(p) : NULL;
        vary[made] = v ? json_line(v) : NULL;
        cJSON_Delete(p);
        cJSON_Delete(v);
        if (!params[made] || !vary[made]) {
            made++;
            rc = err_set(e, MLP_ENOMEM, NULL, "out of memory");
            break;
        }
    }
    if (rc == 0)
        rc = store_bulk_configs(d->st, id, first, n, (const char *const *)params,
                                (const char *const *)vary, e);
    for (size_t i = 0; i < made; i++) {
        free(params[i]);
        free(vary[i]);
    }
    return rc;
}

/*
 * Store the sweep of grid g: its row (hidden), then its configurations and its
 * trials in batches of BULK_BATCH_ROWS, each its own short transaction (the
 * loop's writes get the lock between two), then it is made visible at once.
 * Until then no answer shows it and the scheduler cannot claim its trials; a
 * failure removes what was inserted, and a crash leaves it hidden for the next
 * start to purge.  On the pool (op_submit is a bulk op); *id is the new sweep.
 */
static int submit_store(struct mlpd *d, const cJSON *doc, const struct grid *g, const char *name,
                        int64_t priority, const char *executor, int64_t *id, struct err *e)
{
    /* Racing stores the first seeds only (the race adds the others, daemon/adapt.c). */
    size_t nc = grid_n_configs(g), ns_ = grid_n_first_seeds(g), nt = nc * ns_;
    size_t batch = BULK_BATCH_ROWS;
    char **params = calloc(batch, sizeof *params);
    char **vary = calloc(batch, sizeof *vary);
    int64_t *cfg = calloc(batch, sizeof *cfg), *seed = calloc(batch, sizeof *seed);
    cJSON *keys = cJSON_CreateArray();
    cJSON *dsj = grid_dataset_json(g);
    char *grid_text = json_line(doc), *ds_text = NULL, *keys_text = NULL;
    int rc;
    bool opened = false;
    *id = 0;
    if (!params || !vary || !cfg || !seed || !keys || !dsj || !grid_text)
        goto nomem;
    ds_text = json_line(dsj);
    for (size_t i = 0; i < grid_n_keys(g); i++)
        cJSON_AddItemToArray(keys, cJSON_CreateString(grid_key(g, i)));
    keys_text = json_line(keys);
    if (!ds_text || !keys_text)
        goto nomem;
    struct store_new_sweep ns = {
        .name = name,
        .grid_json = grid_text,
        .dataset_json = ds_text,
        .keys_json = keys_text,
        .metric = grid_metric(g),
        .maximize = grid_metric_maximize(g),
        .priority = priority,
        .executor = executor,
        .trials_max = grid_race(g) || grid_confirm(g) ? (int64_t)grid_n_trials_max(g) : 0,
    };
    double t0 = now_s();
    if ((rc = store_bulk_open(d->st, &ns, id, e)) < 0)
        goto out;
    opened = true;
    for (size_t first = 0; first < nc; first += batch) {
        size_t n = nc - first < batch ? nc - first : batch;
        if ((rc = submit_stopping(d, e)) < 0 ||
            (rc = submit_configs(d, g, *id, first, n, params, vary, e)) < 0)
            goto out;
        bulk_yield();
    }
    /* Seed-major (every configuration's seed 1 first) or, for pruning, config-major. */
    bool config_major = grid_prune(g) != NULL;
    for (size_t first = 0; first < nt; first += batch) {
        size_t n = nt - first < batch ? nt - first : batch;
        for (size_t k = 0; k < n; k++) {
            size_t t = first + k;
            size_t c = config_major ? t / ns_ : t % nc, sd = config_major ? t % ns_ : t / nc;
            cfg[k] = (int64_t)c + 1;
            seed[k] = grid_seed(g, sd);
        }
        if ((rc = submit_stopping(d, e)) < 0 ||
            (rc = store_bulk_trials(d->st, *id, n, cfg, seed, e)) < 0)
            goto out;
        if (first + n < nt)
            bulk_yield();
    }
    if ((rc = store_bulk_close(d->st, *id, e)) < 0)
        goto out;
    log_info("sweep %lld submitted: %zu configurations, %zu trials (stored in %.3f s)",
             (long long)*id, nc, nt, now_s() - t0);
    goto out;
nomem:
    rc = err_set(e, MLP_ENOMEM, NULL, "out of memory");
out:
    if (rc < 0 && opened && e->code != MLP_ESHUTTING_DOWN) {
        struct err pe = ERR_INIT;
        int64_t gone = 0;
        if (purge_rows(d->st, *id, NULL, NULL, d->bulk, &gone, &pe) < 0) {
            log_warn("sweep %lld: could not remove the partly stored sweep (%s); it stays "
                     "hidden and its removal is tried again shortly",
                     (long long)*id, pe.msg);
            bulk_purge_again(d->bulk);
        }
    }
    free(params);
    free(vary);
    free(cfg);
    free(seed);
    free(grid_text);
    free(ds_text);
    free(keys_text);
    cJSON_Delete(dsj);
    cJSON_Delete(keys);
    return rc;
}

/*
 * Racing and confirmation in a submit answer: "trials_max" (the most trials
 * the sweep may reach), "race" {"min", "max", "alpha"} and "confirm" {"top",
 * "seeds", "first_seed"}, so a dry run says what will run and what may.
 */
static int submit_adaptive(cJSON *resp, const struct grid *g, struct err *e)
{
    const struct race *ra = grid_race(g);
    const struct race_confirm *co = grid_confirm(g);
    const struct prune *pr = grid_prune(g);
    if (!ra && !co)
        return 0;
    json_add_int(resp, "trials_max", (int64_t)grid_n_trials_max(g));
    if (ra) {
        cJSON *o = cJSON_AddObjectToObject(resp, "race");
        if (!o)
            return err_set(e, MLP_ENOMEM, NULL, "out of memory");
        json_add_int(o, "min", ra->min);
        json_add_int(o, "max", ra->max);
        json_add_num(o, "alpha", pr ? pr->alpha : RACE_ALPHA);
    }
    if (co) {
        cJSON *o = cJSON_AddObjectToObject(resp, "confirm");
        if (!o)
            return err_set(e, MLP_ENOMEM, NULL, "out of memory");
        json_add_int(o, "top", co->top);
        json_add_int(o, "seeds", co->seeds);
        json_add_int(o, "first_seed", race_confirm_seed(grid_max_seed(g), 0));
    }
    return 0;
}

/*
 * submit is a bulk op (ops.h): op_submit on the loop only passes the
 * preconditions (refused while draining); parsing and expanding the grid, the
 * dataset check and the inserts happen in op_submit_pool, with the bulk
 * connection in d->st; op_submit_after then adds the summary and kicks the
 * scheduler on the loop.
 */
int op_submit(struct mlpd *d, const cJSON *req, const struct store_sweep *sw, cJSON *resp,
              struct op_intent *it, struct err *e)
{
    (void)d;
    (void)req;
    (void)sw;
    (void)resp;
    (void)it;
    (void)e;
    return 0;
}

int op_submit_pool(struct mlpd *d, const cJSON *req, cJSON *resp, struct op_intent *it,
                   struct err *e)
{
    const cJSON *doc = json_get(req, "grid");
    const cJSON *bd = json_get(req, "base_dir");
    int64_t priority = 0;
    json_is_int(json_get(req, "priority"), &priority);
    if (!priority_valid(priority))
        return err_set(e, MLP_EINVALID_REQUEST, "priority", "priority must be within %d..%d",
                       PRIORITY_MIN, PRIORITY_MAX);
    long ceiling = d->cfg.max_trials > 0 ? d->cfg.max_trials : GRID_DEFAULT_MAX_TRIALS;
    struct grid_opts go = {
        .default_name = NULL,
        .base_dir = cJSON_IsString(bd) ? bd->valuestring : NULL,
        .max_trials = ceiling < GRID_DEFAULT_MAX_TRIALS ? ceiling : GRID_DEFAULT_MAX_TRIALS,
        .force = cJSON_IsTrue(json_get(req, "force")),
        .ceiling = ceiling,
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
    struct dataset_limits lim = {.max_bytes = d->cfg.max_dataset_bytes,
                                 .max_params = d->cfg.max_params};
    if ((rc = dataset_check_grid(g, &dirs, &lim, e)) < 0) {
        if (!e->path[0])
            snprintf(e->path, sizeof e->path, "dataset");
        goto out;
    }
    const char *name;
    char derived[NAME_MAX_BYTES + 1];
    if ((rc = submit_name(d, req, g, derived, sizeof derived, &name, e)) < 0)
        goto out;
    json_add_int(resp, "trials", (int64_t)(grid_n_configs(g) * grid_n_first_seeds(g)));
    json_add_int(resp, "configs", (int64_t)grid_n_configs(g));
    if ((rc = submit_adaptive(resp, g, e)) < 0)
        goto out;
    cJSON_AddItemToObject(resp, "first", first_configs(g));
    if (cJSON_IsTrue(json_get(req, "dry_run"))) {
        cJSON_AddStringToObject(resp, "name", name ? name : "");
        cJSON_AddStringToObject(resp, "metric", grid_metric(g));
        goto out;
    }
    int64_t id;
    if ((rc = submit_store(d, doc, g, name, priority, executor, &id, e)) < 0)
        goto out;
    it->changed = id;
out:
    grid_free(g);
    return rc;
}

int op_submit_after(struct mlpd *d, const cJSON *req, cJSON *resp, struct op_intent *it,
                    struct err *e)
{
    (void)req;
    if (it->changed <= 0)
        return 0; /* a dry run */
    int rc = ops__add_summary(d, resp, it->changed, e);
    sched_kick(d->sched);
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


struct purge_task {
    struct bulk_task t;
    struct mlpd *d;
    int64_t id;
    int64_t trials;
    double t0;
    int rc;
    struct err e;
};

static void purge_run(struct bulk_task *t)
{
    struct purge_task *p = (struct purge_task *)t;
    struct store *st = store_open_bulk(p->d->db_path, &p->e);
    if (!st) {
        p->rc = p->e.code ? p->e.code : MLP_ESTORAGE;
        return;
    }
    p->rc = purge_rows(st, p->id, p->d->log_dir, p->d->artifacts_dir, p->d->bulk, &p->trials,
                       &p->e);
    store_close(st);
}

static void purge_done(struct bulk_task *t, int status)
{
    struct purge_task *p = (struct purge_task *)t;
    if (status < 0)
        log_info("sweep %lld: removal left for the next start (mlpd stopping)", (long long)p->id);
    else if (p->rc < 0) {
        log_warn("sweep %lld: removal stopped after %lld trials: %s; tried again shortly",
                 (long long)p->id, (long long)p->trials, p->e.msg);
        bulk_purge_again(p->d->bulk);
    }
    else
        log_info("sweep %lld: rows removed (%lld trials, %.3f s)", (long long)p->id,
                 (long long)p->trials, now_s() - p->t0);
    free(p);
}

void ops_purge_start(struct mlpd *d, int64_t id)
{
    struct purge_task *p = calloc(1, sizeof *p);
    if (!p) {
        log_error("sweep %lld: out of memory queueing its removal", (long long)id);
        return;
    }
    p->t.run = purge_run;
    p->t.done = purge_done;
    p->d = d;
    p->id = id;
    p->t0 = now_s();
    bulk_push(d->bulk, &p->t);
}

/*
 * delete is a bulk op (ops.h).  op_delete on the loop hides the sweep (one
 * row: answers no longer show it, its name is free, nothing of it is
 * dispatched) and stops its running trials; op_delete_pool then removes its
 * rows, logs and artifacts in batches off the loop, and the client is answered
 * once they are gone.  A crash before the end leaves it hidden; the next start
 * finishes the removal.
 */
int op_delete(struct mlpd *d, const cJSON *req, const struct store_sweep *sw, cJSON *resp,
              struct op_intent *it, struct err *e)
{
    int rc;
    int64_t id = sw->id, running = sw->c.running, stopped = 0;
    bool force = cJSON_IsTrue(json_get(req, "force"));
    char name[256];
    snprintf(name, sizeof name, "%s", sw->name);
    if (running > 0 && !force)
        return err_set(e, MLP_ECONFLICT, "sweep",
                       "delete: sweep %lld \"%s\" has %lld running trial%s; cancel it first, or "
                       "pass force (mlpctl delete --force) to stop them",
                       (long long)id, name, (long long)running, running == 1 ? "" : "s");
    if ((rc = store_sweep_hide(d->st, id, e)) < 0)
        return rc;
    if (running > 0) /* stop local workers and scancel Slurm tasks; their rows go with the rest */
        stopped = sched_cancel_sweep(d->sched, id);
    log_info("sweep %lld \"%s\" deleted (%lld trials, %lld stopped); removing its rows",
             (long long)id, name, (long long)sw->c.total, (long long)stopped);
    json_add_int(resp, "deleted", id);
    cJSON_AddStringToObject(resp, "name", name);
    json_add_int(resp, "trials", sw->c.total);
    json_add_int(resp, "stopped", stopped);
    it->changed = id; /* waiters and watchers of the sweep learn it is gone */
    return 0;
}

int op_delete_pool(struct mlpd *d, const cJSON *req, cJSON *resp, struct op_intent *it,
                   struct err *e)
{
    (void)req;
    (void)resp;
    int64_t gone = 0;
    double t0 = now_s();
    int rc = purge_rows(d->st, it->changed, d->log_dir, d->artifacts_dir, d->bulk, &gone, e);
    if (rc == 0)
        log_info("sweep %lld: rows, logs and artifacts removed (%lld trials, %.3f s)",
                 (long long)it->changed, (long long)gone, now_s() - t0);
    return rc;
}
