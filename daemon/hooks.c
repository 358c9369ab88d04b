/*
 * hooks — running notification commands.  See hooks.h.
 */
#include "clock.h"
#include "hooks.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <uv.h>

#include "json.h"
#include "log.h"
#include "mlpd.h"
#include "notify.h"
#include "store.h"
#include "store_meta.h"
#include "view.h"

extern char **environ;

#define KILL_GRACE_MS 2000 /* SIGTERM to SIGKILL */
#define BLOCKED_FAILURES 3 /* failed trials, none done: the sweep is failing as a whole */

/* What a sweep looked like when last seen. */
struct seen {
    int64_t id;
    bool active;           /* had queued or running trials */
    bool blocked_fired;    /* on_sweep_blocked ran during this run of the sweep */
    int grid_hooks;        /* -1 unknown, 0 none, 1 the grid has "notify" */
    int64_t failed;        /* failed trials last seen */
    int64_t failed_told;   /* failed trials an on_trial_failed hook has reported */
    double last_failed_at; /* when on_trial_failed last ran for it (0: never) */
};

struct run {
    struct hooks *h;
    uv_process_t proc;
    uv_pipe_t in;
    uv_timer_t timer;
    uv_write_t wr;
    char *payload;
    int handles; /* open handles; freed at 0 */
    int stage;   /* 0 running, 1 SIGTERM sent, 2 SIGKILL sent */
    bool exited;
    double started;
    char what[160]; /* "on_sweep_end (mlpd.conf) of sweep 3" */
    struct run *prev, *next;
};

struct hooks {
    struct mlpd *d;
    char **argv[NOTIFY_N]; /* from mlpd.conf; NULL = none */
    int fd;                /* hooks.log */
    struct seen *seen;
    size_t n_seen, cap_seen;
    struct run *runs;
    int running;
};

static struct seen *seen_find(struct hooks *h, int64_t id, bool create)
{
    for (size_t i = 0; i < h->n_seen; i++)
        if (h->seen[i].id == id)
            return &h->seen[i];
    if (!create)
        return NULL;
    if (h->n_seen == h->cap_seen) {
        size_t cap = h->cap_seen ? h->cap_seen * 2 : 16;
        struct seen *p = realloc(h->seen, cap * sizeof *p);
        if (!p)
            return NULL;
        h->seen = p;
        h->cap_seen = cap;
    }
    struct seen *s = &h->seen[h->n_seen++];
    *s = (struct seen){.id = id, .grid_hooks = -1};
    return s;
}

static void seen_forget(struct hooks *h, int64_t id)
{
    struct seen *s = seen_find(h, id, false);
    if (s)
        *s = h->seen[--h->n_seen];
}

struct hooks *hooks_new(struct mlpd *d, struct err *e)
{
    struct hooks *h = calloc(1, sizeof *h);
    if (!h) {
        err_set(e, MLP_ENOMEM, NULL, "out of memory");
        return NULL;
    }
    h->d = d;
    h->fd = -1;
    const char *cmd[NOTIFY_N] = {d->cfg.on_sweep_end, d->cfg.on_trial_failed,
                                 d->cfg.on_sweep_blocked};
    for (int k = 0; k < NOTIFY_N; k++) {
        if (!cmd[k][0])
            continue;
        if (notify_split(cmd[k], notify_event_keys[k], &h->argv[k], e) < 0)
            goto fail;
        char found[CONFIG_PATH_MAX];
        if (notify_find_program(h->argv[k][0], found, sizeof found) != 0) {
            err_set(e, MLP_EINVALID_REQUEST, notify_event_keys[k],
                    "%s: no such executable file%s", h->argv[k][0],
                    strchr(h->argv[k][0], '/') ? "" : " in $PATH");
            goto fail;
        }
    }
    char path[CONFIG_PATH_MAX + 16];
    snprintf(path, sizeof path, "%s/hooks.log", d->cfg.state_dir);
    h->fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (h->fd < 0) {
        err_set(e, MLP_EIO, path, "%s: %s", path, strerror(errno));
        goto fail;
    }
    /* Sweeps running now: their end is news; the others have ended before this start. */
    int64_t *ids = NULL;
    size_t n = 0;
    if (view_active_sweeps(d, &ids, &n) == 0) {
        for (size_t i = 0; i < n; i++) {
            struct store_sweep sw;
            struct err tmp = ERR_INIT;
            struct seen *s = seen_find(h, ids[i], true);
            if (s && store_sweep_get(d->st, ids[i], &sw, &tmp) == 0) {
                s->active = true;
                s->failed = s->failed_told = sw.c.failed;
                store_sweep_release(&sw);
            }
        }
        free(ids);
    }
    return h;
fail:
    hooks_free(h);
    return NULL;
}

void hooks_free(struct hooks *h)
{
    if (!h)
        return;
    for (int k = 0; k < NOTIFY_N; k++)
        notify_argv_free(h->argv[k]);
    for (struct run *r = h->runs, *next; r; r = next) {
        next = r->next;
        free(r->payload);
        free(r);
    }
    if (h->fd >= 0)
        close(h->fd);
    free(h->seen);
    free(h);
}

/* ---- one hook process --------------------------------------------------------- */

static void run_closed(uv_handle_t *hd)
{
    struct run *r = hd->data;
    if (--r->handles > 0)
        return;
    if (r->prev)
        r->prev->next = r->next;
    else
        r->h->runs = r->next;
    if (r->next)
        r->next->prev = r->prev;
    free(r->payload);
    free(r);
}

static void run_close(uv_handle_t *hd)
{
    if (!uv_is_closing(hd))
        uv_close(hd, run_closed);
}

static void on_exit_(uv_process_t *p, int64_t status, int sig)
{
    struct run *r = p->data;
    r->exited = true;
    r->h->running--;
    double took = mono_s() - r->started;
    if (r->stage > 0)
        log_warn("hook %s timed out after %.1f s and was killed (signal %d)", r->what, took,
                 r->stage == 1 ? SIGTERM : SIGKILL);
    else if (sig)
        log_warn("hook %s was killed by signal %d (%s) after %.1f s; its output is in hooks.log",
                 r->what, sig, strsignal(sig), took);
    else if (status != 0)
        log_warn("hook %s exited %lld after %.1f s; its output is in hooks.log", r->what,
                 (long long)status, took);
    else
        log_info("hook %s done in %.1f s", r->what, took);
    uv_timer_stop(&r->timer);
    run_close((uv_handle_t *)&r->timer);
    run_close((uv_handle_t *)&r->in);
    run_close((uv_handle_t *)p);
}

static void on_timeout(uv_timer_t *t)
{
    struct run *r = t->data;
    if (r->exited)
        return;
    /* The whole process group: a script's children (curl, sendmail) go too. */
    int sig = r->stage == 0 ? SIGTERM : SIGKILL;
    if (kill(-r->proc.pid, sig) != 0)
        uv_process_kill(&r->proc, sig);
    if (r->stage++ == 0)
        uv_timer_start(&r->timer, on_timeout, KILL_GRACE_MS, 0);
}

static void on_written(uv_write_t *w, int status)
{
    struct run *r = w->data;
    if (status < 0 && status != UV_EPIPE && status != UV_ECANCELED)
        log_warn("hook %s: writing its standard input: %s", r->what, uv_strerror(status));
    /* Closing the pipe is the hook's end of input. */
    run_close((uv_handle_t *)&r->in);
}

/* "KEY=value" into env[*n]: 0 or -1 (out of memory). */
static int env_add(char **env, int *n, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int env_add(char **env, int *n, const char *key, const char *fmt, ...)
{
    char val[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(val, sizeof val, fmt, ap);
    va_end(ap);
    size_t len = strlen(key) + strlen(val) + 2;
    if (!(env[*n] = malloc(len)))
        return -1;
    snprintf(env[(*n)++], len, "%s=%s", key, val);
    return 0;
}

static void spawn_one(struct hooks *h, char **argv, const char *source, int ev, int64_t sweep,
                      char **vars, int n_vars, const char *payload)
{
    struct mlpd *d = h->d;
    char what[160];
    snprintf(what, sizeof what, "%s (%s) of sweep %lld", notify_event_keys[ev], source,
             (long long)sweep);
    if (h->running >= d->cfg.hook_max_running) {
        log_warn("hook %s not run: %d hooks are running already (hook_max_running)", what,
                 h->running);
        return;
    }
    char prog[CONFIG_PATH_MAX];
    if (notify_find_program(argv[0], prog, sizeof prog) != 0) {
        log_warn("hook %s not run: %s: no such executable file", what, argv[0]);
        return;
    }
    /* mlpd's environment, then the MLP_* variables (which win: later entries are ignored
       by getenv, so they go first). */
    size_t n_env = 0;
    while (environ[n_env])
        n_env++;
    char **env = calloc(n_env + (size_t)n_vars + 1, sizeof *env);
    struct run *r = calloc(1, sizeof *r);
    if (!env || !r || !(r->payload = strdup(payload))) {
        log_error("hook %s not run: out of memory", what);
        free(env);
        if (r)
            free(r->payload);
        free(r);
        return;
    }
    size_t k = 0;
    for (int i = 0; i < n_vars; i++)
        env[k++] = vars[i];
    for (size_t i = 0; i < n_env; i++)
        if (strncmp(environ[i], "MLP_", 4) != 0)
            env[k++] = environ[i];
    env[k] = NULL;
    r->h = h;
    snprintf(r->what, sizeof r->what, "%s", what);
    uv_pipe_init(d->loop, &r->in, 0);
    r->in.data = r;
    uv_stdio_container_t stdio[3] = {
        {.flags = UV_CREATE_PIPE | UV_READABLE_PIPE, .data.stream = (uv_stream_t *)&r->in},
        {.flags = UV_INHERIT_FD, .data.fd = h->fd},
        {.flags = UV_INHERIT_FD, .data.fd = h->fd},
    };
    uv_process_options_t o = {
        .exit_cb = on_exit_,
        .file = prog,
        .args = argv,
        .env = env,
        .flags = UV_PROCESS_DETACHED, /* its own session and process group */
        .stdio_count = 3,
        .stdio = stdio,
    };
    char head[512];
    time_t t = time(NULL);
    struct tm tm;
    char stamp[32] = "";
    if (gmtime_r(&t, &tm))
        strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%SZ", &tm);
    int hn = snprintf(head, sizeof head, "== %s %s: %s\n", stamp, what, prog);
    if (hn > 0 && write(h->fd, head, (size_t)hn < sizeof head ? (size_t)hn : sizeof head - 1) < 0)
        log_warn("hooks.log: %s", strerror(errno));
    r->proc.data = r;
    int rc = uv_spawn(d->loop, &r->proc, &o);
    free(env);
    r->next = h->runs;
    if (h->runs)
        h->runs->prev = r;
    h->runs = r;
    if (rc < 0) {
        /* libuv wants the handles closed even when the spawn failed. */
        log_warn("hook %s could not start: %s: %s", what, prog, uv_strerror(rc));
        r->handles = 2;
        run_close((uv_handle_t *)&r->in);
        run_close((uv_handle_t *)&r->proc);
        return;
    }
    r->handles = 3;
    h->running++;
    r->started = mono_s();
    uv_timer_init(d->loop, &r->timer);
    r->timer.data = r;
    uv_timer_start(&r->timer, on_timeout, (uint64_t)(d->cfg.hook_timeout * 1000), 0);
    uv_buf_t b = uv_buf_init(r->payload, (unsigned)strlen(r->payload));
    r->wr.data = r;
    if (uv_write(&r->wr, (uv_stream_t *)&r->in, &b, 1, on_written) < 0)
        run_close((uv_handle_t *)&r->in);
    log_info("hook %s started (pid %d)", what, r->proc.pid);
}

/* ---- events ------------------------------------------------------------------- */

struct best_cfg {
    cJSON *grid, *params;
};
static int best_cb(void *ud, const struct store_config_row *r)
{
    struct best_cfg *b = ud;
    b->grid = cJSON_Parse(r->varying_json);
    b->params = cJSON_Parse(r->params_json);
    return 0;
}

/*
 * Run the hooks of event ev for a sweep: the grid's (grid_notify, may be NULL)
 * and mlpd.conf's.  extra holds the event's own fields (trial, reason, ...).
 */
static void fire(struct hooks *h, int ev, int64_t sweep, const cJSON *grid_notify, cJSON *extra)
{
    struct mlpd *d = h->d;
    char **gargv = NULL;
    const cJSON *gcmd = grid_notify ? json_get(grid_notify, notify_event_keys[ev]) : NULL;
    struct err e = ERR_INIT;
    if (gcmd && notify_argv(gcmd, notify_event_keys[ev], &gargv, &e) < 0)
        log_warn("sweep %lld: notify.%s: %s", (long long)sweep, notify_event_keys[ev], e.msg);
    if (!gargv && !h->argv[ev])
        return;
    cJSON *sum = view_sweep_summary(d, sweep, NULL, &e);
    if (!sum) {
        log_warn("hook %s of sweep %lld not run: %s", notify_event_keys[ev], (long long)sweep,
                 e.msg);
        notify_argv_free(gargv);
        return;
    }
    cJSON *doc = cJSON_CreateObject();
    cJSON_AddStringToObject(doc, "event", notify_event_names[ev]);
    cJSON_AddItemToObject(doc, "sweep", sum);
    const cJSON *best = json_get(sum, "best");
    int64_t best_id = 0;
    struct best_cfg bc = {0};
    if (cJSON_IsObject(best) && json_is_int(json_get(best, "config"), &best_id) &&
        store_configs_each(d->st, sweep, best_id, best_cb, &bc, &e) == 0 && bc.grid) {
        cJSON *bo = cJSON_AddObjectToObject(doc, "best_config");
        json_add_int(bo, "id", best_id);
        cJSON_AddItemToObject(bo, "params", bc.params ? bc.params : cJSON_CreateNull());
        cJSON_AddItemToObject(bo, "grid", bc.grid);
        bc.grid = bc.params = NULL;
    } else {
        cJSON_AddNullToObject(doc, "best_config");
    }
    cJSON_Delete(bc.grid);
    cJSON_Delete(bc.params);
    for (cJSON *it = extra ? extra->child : NULL; it; it = it->next)
        cJSON_AddItemToObject(doc, it->string, cJSON_Duplicate(it, true));
    char *payload = cJSON_PrintUnformatted(doc);

    /* The same facts as environment variables. */
    char *vars[32];
    int nv = 0, bad = 0;
    const cJSON *bco = json_get(doc, "best_config");
    char *bgrid = cJSON_IsObject(bco) ? cJSON_PrintUnformatted(json_get(bco, "grid")) : NULL;
    bad |= env_add(vars, &nv, "MLP_EVENT", "%s", notify_event_names[ev]);
    bad |= env_add(vars, &nv, "MLP_SWEEP_ID", "%lld", (long long)sweep);
    bad |= env_add(vars, &nv, "MLP_SWEEP_NAME", "%s", cJSON_GetStringValue(json_get(sum, "name")));
    bad |= env_add(vars, &nv, "MLP_SWEEP_STATE", "%s",
                   cJSON_GetStringValue(json_get(sum, "state")));
    bad |= env_add(vars, &nv, "MLP_METRIC", "%s", cJSON_GetStringValue(json_get(sum, "metric")));
    const char *counts[] = {"total", "queued", "running", "done", "failed", "cancelled"};
    const char *cvars[] = {"MLP_TOTAL", "MLP_QUEUED", "MLP_RUNNING",
                           "MLP_DONE",  "MLP_FAILED", "MLP_CANCELLED"};
    for (int i = 0; i < 6; i++)
        bad |= env_add(vars, &nv, cvars[i], "%.0f",
                       cJSON_IsNumber(json_get(sum, counts[i]))
                           ? json_get(sum, counts[i])->valuedouble
                           : 0.0);
    if (cJSON_IsObject(best)) {
        char m[64] = "", s[64] = "";
        const cJSON *mv = json_get(best, "mean"), *sv = json_get(best, "se");
        if (cJSON_IsNumber(mv))
            json_print_double(m, sizeof m, mv->valuedouble);
        if (cJSON_IsNumber(sv))
            json_print_double(s, sizeof s, sv->valuedouble);
        bad |= env_add(vars, &nv, "MLP_BEST_CONFIG", "%lld", (long long)best_id);
        bad |= env_add(vars, &nv, "MLP_BEST_MEAN", "%s", m);
        bad |= env_add(vars, &nv, "MLP_BEST_SE", "%s", s);
        bad |= env_add(vars, &nv, "MLP_BEST_N", "%.0f",
                       cJSON_IsNumber(json_get(best, "n")) ? json_get(best, "n")->valuedouble : 0.0);
        bad |= env_add(vars, &nv, "MLP_BEST_PARAMS", "%s", bgrid ? bgrid : "{}");
    }
    for (cJSON *it = extra ? extra->child : NULL; it; it = it->next) {
        char key[64], *p;
        snprintf(key, sizeof key, "MLP_%s", it->string);
        for (p = key; *p; p++)
            *p = (char)(*p >= 'a' && *p <= 'z' ? *p - 32 : *p);
        if (cJSON_IsString(it))
            bad |= env_add(vars, &nv, key, "%s", it->valuestring);
        else if (cJSON_IsNumber(it))
            bad |= env_add(vars, &nv, key, "%.0f", it->valuedouble);
    }
    bad |= env_add(vars, &nv, "MLP_SOCKET", "%s", d->cfg.socket);
    bad |= env_add(vars, &nv, "MLP_STATE_DIR", "%s", d->cfg.state_dir);
    free(bgrid);
    if (bad || !payload) {
        log_error("hook %s of sweep %lld not run: out of memory", notify_event_keys[ev],
                  (long long)sweep);
    } else {
        size_t pl = strlen(payload);
        char *line = malloc(pl + 2);
        if (line) {
            memcpy(line, payload, pl);
            memcpy(line + pl, "\n", 2);
            if (gargv)
                spawn_one(h, gargv, "grid", ev, sweep, vars, nv, line);
            if (h->argv[ev])
                spawn_one(h, h->argv[ev], "mlpd.conf", ev, sweep, vars, nv, line);
        }
        free(line);
    }
    for (int i = 0; i < nv; i++)
        free(vars[i]);
    free(payload);
    cJSON_Delete(doc);
    notify_argv_free(gargv);
}

void hooks_sweep_changed(struct hooks *h, int64_t sweep_id)
{
    if (!h)
        return;
    struct mlpd *d = h->d;
    bool global = h->argv[0] || h->argv[1] || h->argv[2];
    struct seen *s = seen_find(h, sweep_id, false);
    if (!global && s && s->grid_hooks == 0)
        return; /* nothing to run for this sweep: no store access per trial event */
    struct store_sweep sw;
    struct err e = ERR_INIT;
    if (store_sweep_get(d->st, sweep_id, &sw, &e) < 0) {
        seen_forget(h, sweep_id);
        return;
    }
    bool fresh = !s;
    if (!s && !(s = seen_find(h, sweep_id, true))) {
        store_sweep_release(&sw);
        return;
    }
    cJSON *grid = NULL;
    const cJSON *gn = NULL;
    if (s->grid_hooks != 0) {
        grid = cJSON_Parse(sw.grid_json);
        gn = json_get(grid, "notify");
        s->grid_hooks = cJSON_IsObject(gn) ? 1 : 0;
    }
    const struct store_counts *c = &sw.c;
    bool ended = c->queued + c->running == 0;
    if (fresh) {
        /* First sight (a submit, or a sweep idle since mlpd started): counts so far are old news. */
        s->active = !ended;
        s->failed = s->failed_told = c->failed;
    }
    if (global || s->grid_hooks == 1) {
        if (c->failed < s->failed_told) /* retried */
            s->failed_told = c->failed;
        double now = mono_s();
        if (c->failed > s->failed_told &&
            (s->last_failed_at == 0 || now - s->last_failed_at >= d->cfg.hook_interval)) {
            cJSON *x = cJSON_CreateObject();
            int64_t tid = 0;
            char *error = NULL;
            json_add_int(x, "new_failures", c->failed - s->failed_told);
            if (store_last_failed(d->st, sweep_id, &tid, &error, &e) == 1) {
                json_add_int(x, "trial_id", tid);
                cJSON_AddStringToObject(x, "trial_error", error);
            }
            free(error);
            s->failed_told = c->failed;
            s->last_failed_at = now;
            fire(h, NOTIFY_TRIAL_FAILED, sweep_id, gn, x);
            cJSON_Delete(x);
        }
        if (!ended && !s->blocked_fired) {
            cJSON *sum = view_sweep_summary(d, sweep_id, NULL, &e);
            const cJSON *blk = json_get(sum, "blocked");
            char reason[768] = "";
            if (cJSON_IsObject(blk))
                snprintf(reason, sizeof reason, "Slurm refuses the sweep's jobs: %s",
                         cJSON_GetStringValue(json_get(blk, "message"))
                             ? cJSON_GetStringValue(json_get(blk, "message"))
                             : "?");
            else if (c->failed >= BLOCKED_FAILURES && c->done == 0)
                snprintf(reason, sizeof reason,
                         "its first %lld finished trials all failed and none succeeded",
                         (long long)c->failed);
            cJSON_Delete(sum);
            if (reason[0]) {
                cJSON *x = cJSON_CreateObject();
                cJSON_AddStringToObject(x, "blocked_reason", reason);
                s->blocked_fired = true;
                fire(h, NOTIFY_SWEEP_BLOCKED, sweep_id, gn, x);
                cJSON_Delete(x);
            }
        }
        if (ended && s->active)
            fire(h, NOTIFY_SWEEP_END, sweep_id, gn, NULL);
    }
    s->failed = c->failed;
    if (ended) {
        s->active = false;
        s->blocked_fired = false;
    } else {
        s->active = true;
    }
    cJSON_Delete(grid);
    store_sweep_release(&sw);
}
