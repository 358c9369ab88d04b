/*
 * sched — slots, claiming trials, recording outcomes.  See sched.h.
 *
 * The store is the queue: a trial is claimed (state 'running', attempts+1) in
 * one transaction before its worker starts, so a crash at any point leaves a
 * 'running' row that start-up recovery re-queues.  Slots are a fixed array;
 * a slot's spawn pointer is cleared in the outcome callback, after which the
 * spawn frees itself.  Each slot also keeps the epoch rows of its running
 * attempt in memory until the outcome is recorded, so an epoch whose write
 * failed (a full disk) is written again with the result instead of leaving a
 * gap in the stored curve.
 *
 * A full disk pauses dispatch (sched.h): the pause holds a reason for status
 * and a timer that measures the watched dirs' free space (statvfs) until every
 * one has min_free_space again.  A trial's failed write counts as a full disk
 * only when a watched dir is short at that moment, so a database error of
 * another kind keeps its old handling (re-queue, retry in 5 s).
 */
#include "sched.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>

#include "config.h"
#include "err.h"
#include "exec.h"
#include "hparams.h"
#include "log.h"
#include "adapt.h"
#include "store.h"
#include "trialwire.h"
#include "store_adapt.h"

enum { STOP_CANCEL = 1, STOP_REQUEUE = 2, STOP_PRUNE = 3 };

#define SCHED_RETRY_MS 5000 /* back-off when the queue cannot be served */
#define SCHED_SPACE_MS 2000 /* free-space checks while paused for a full disk */
#define SCHED_SPACE_MIN_MS 5000 /* shortest such pause (a worker's no_space with space left) */
#define SCHED_SPACE_DIRS 3

struct slot_epoch {
    int64_t epoch;
    double v[MLP_M_N]; /* per-epoch metrics, NaN for the others */
    double lr;         /* the epoch's learning rate, NaN when the worker printed none */
};

struct slot {
    struct sched *s;
    struct spawn *sp; /* NULL when free */
    int64_t trial_id, sweep_id, config_idx;
    int attempt;
    bool pruning; /* its configuration was pruned: stopping, later epochs are dropped */
    struct slot_epoch *epochs; /* this attempt's epoch rows, in arrival order */
    size_t n_epochs, cap_epochs;
    bool epoch_unwritten; /* some epoch row failed to be written */
    bool epoch_dropped;   /* ... and could not even be kept in memory */
};

struct sched {
    uv_loop_t *loop;
    struct store *st;
    struct sched_opts o;
    bool draining;
    bool kicking; /* re-entrancy guard */
    void (*idle)(void *ud);
    void *idle_ud;
    struct slot *slots; /* o.slots entries */
    uv_timer_t retry;   /* re-kick after the queue could not be served (no worker, no disk) */
    int64_t *orphans;   /* trials left 'running' because no write succeeded (full disk) */
    size_t n_orphans, cap_orphans;
    uv_timer_t space;        /* free-space check while dispatch is paused */
    bool space_paused;       /* a full disk: no trial is started */
    uint64_t paused_at;      /* uv_now() when the pause began */
    char pause_reason[1024]; /* why, for status */
};

struct sched *sched_new(uv_loop_t *loop, struct store *st, const struct sched_opts *o)
{
    struct sched *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->slots = calloc((size_t)o->slots, sizeof *s->slots);
    if (!s->slots) {
        free(s);
        return NULL;
    }
    s->loop = loop;
    s->st = st;
    s->o = *o;
    uv_timer_init(loop, &s->retry);
    s->retry.data = s;
    uv_timer_init(loop, &s->space);
    s->space.data = s;
    for (int i = 0; i < o->slots; i++)
        s->slots[i].s = s;
    return s;
}

void sched_free(struct sched *s)
{
    if (!s)
        return;
    free(s->orphans);
    for (int i = 0; i < s->o.slots; i++)
        free(s->slots[i].epochs);
    free(s->slots);
    free(s);
}

int sched_busy(const struct sched *s)
{
    int n = 0;
    for (int i = 0; i < s->o.slots; i++)
        n += s->slots[i].sp != NULL;
    return n;
}

int sched_slots(const struct sched *s)
{
    return s->o.slots;
}

static void notify(struct sched *s, int64_t sweep_id)
{
    if (s->o.notify)
        s->o.notify(s->o.ud, sweep_id);
}

static void check_idle(struct sched *s)
{
    if (s->draining && s->idle && sched_busy(s) == 0) {
        void (*idle)(void *) = s->idle;
        s->idle = NULL;
        idle(s->idle_ud);
    }
}

/* A configuration was pruned: stop its running local trials (they end 'pruned'). */
static void on_pruned(void *ud, int64_t sweep_id, int64_t config_idx)
{
    struct sched *s = ud;
    for (int i = 0; i < s->o.slots; i++) {
        struct slot *sl = &s->slots[i];
        if (sl->sp && !sl->pruning && sl->sweep_id == sweep_id && sl->config_idx == config_idx) {
            sl->pruning = true;
            spawn_stop(sl->sp, STOP_PRUNE);
        }
    }
    notify(s, sweep_id);
}

static void on_epoch(void *ud, const struct trial_event *ev)
{
    struct slot *sl = ud;
    if (sl->pruning)
        return; /* a pruned trial ends at the epoch it was stopped at */
    struct slot_epoch row = {.epoch = ev->epoch};
    memcpy(row.v, ev->v, sizeof row.v);
    row.lr = trialwire_epoch_lr(ev);
    if (sl->n_epochs == sl->cap_epochs) {
        size_t cap = sl->cap_epochs ? 2 * sl->cap_epochs : 32;
        struct slot_epoch *p = realloc(sl->epochs, cap * sizeof *p);
        if (p) {
            sl->epochs = p;
            sl->cap_epochs = cap;
        }
    }
    bool kept = sl->n_epochs < sl->cap_epochs;
    if (kept)
        sl->epochs[sl->n_epochs++] = row;
    struct err e = ERR_INIT;
    if (store_epoch_add(sl->s->st, sl->trial_id, sl->attempt, row.epoch, row.v, row.lr, &e) < 0) {
        log_error("trial %lld: %s (kept in memory, written again with the result)",
                  (long long)sl->trial_id, e.msg);
        sl->epoch_unwritten = true;
        sl->epoch_dropped = sl->epoch_dropped || !kept;
        return;
    }
    /* Decide at a rung (sweeps with "prune"), from the rows just stored. */
    if (adapt_after_epoch(sl->s->st, sl->sweep_id, row.epoch, on_pruned, sl->s, &e) < 0)
        log_error("sweep %lld: pruning decision at epoch %lld: %s", (long long)sl->sweep_id,
                  (long long)row.epoch, e.msg);
}

/*
 * Before the result: write again the epoch rows of an attempt whose epoch
 * writes failed (INSERT OR REPLACE, so rows already stored are unchanged).
 * 0, or <0 with *e when the curve cannot be completed.
 */
static int rewrite_epochs(struct slot *sl, struct err *e)
{
    if (!sl->epoch_unwritten)
        return 0;
    if (sl->epoch_dropped)
        return err_set(e, MLP_ESTORAGE, NULL,
                       "an epoch row could be neither written nor kept in memory");
    for (size_t i = 0; i < sl->n_epochs; i++)
        if (store_epoch_add(sl->s->st, sl->trial_id, sl->attempt, sl->epochs[i].epoch,
                            sl->epochs[i].v, sl->epochs[i].lr, e) < 0)
            return e->code;
    sl->epoch_unwritten = false;
    return 0;
}

static void retry_later(struct sched *s);

/* ---- a full disk --------------------------------------------------------- */

/*
 * The free space a watched dir needs: min_free_space, or an eighth of its
 * filesystem when that is smaller (a small dedicated filesystem would never
 * have 64 MB free again).
 */
static long long space_needed(const struct sched *s, const struct statvfs *v)
{
    long long size = (long long)v->f_blocks * (long long)v->f_frsize / 8;
    return size < s->o.min_free_space ? size : s->o.min_free_space;
}

/* Whether a watched dir has less free space (for us: f_bavail) than it needs, or
 * none; why into buf.  Dirs that cannot be measured are skipped. */
static bool space_short(const struct sched *s, char *why, size_t n)
{
    for (int i = 0; i < SCHED_SPACE_DIRS; i++) {
        const char *d = s->o.space_dirs[i];
        struct statvfs v;
        if (!d || !d[0] || statvfs(d, &v) != 0)
            continue;
        long long avail = (long long)v.f_bavail * (long long)v.f_frsize;
        long long need = space_needed(s, &v);
        if (avail < need || avail == 0) {
            snprintf(why, n, "no space left: %.400s has %lld bytes free (needs %lld: min_free_space)",
                     d, avail, need);
            return true;
        }
    }
    return false;
}

static void on_space_check(uv_timer_t *t)
{
    struct sched *s = t->data;
    char why[512];
    if (space_short(s, why, sizeof why) ||
        uv_now(s->loop) - s->paused_at < SCHED_SPACE_MIN_MS)
        return;
    log_info("dispatch resumed: space is back after %.0f s of pause (%s)",
             (double)(uv_now(s->loop) - s->paused_at) / 1000, s->pause_reason);
    s->space_paused = false;
    s->pause_reason[0] = '\0';
    uv_timer_stop(t);
    sched_kick(s);
}

/* Stop starting trials until every watched dir has min_free_space again. */
static void space_pause(struct sched *s, const char *why)
{
    if (s->space_paused || s->draining)
        return;
    s->space_paused = true;
    s->paused_at = uv_now(s->loop);
    /* status shows at most sizeof pause_reason of it; the log line has it whole. */
    if (snprintf(s->pause_reason, sizeof s->pause_reason, "%s", why) >=
        (int)sizeof s->pause_reason)
        memcpy(s->pause_reason + sizeof s->pause_reason - 4, "...", 4);
    log_warn("dispatch paused: %s; trials start again once the state, artifacts and data dirs "
             "have space (min_free_space %ld bytes, at most an eighth of their filesystem)",
             why, s->o.min_free_space);
    uv_timer_start(&s->space, on_space_check, SCHED_SPACE_MS, SCHED_SPACE_MS);
}

/* After a failed write (what): pause when a watched dir is short.  True when paused. */
static bool space_check_after(struct sched *s, const char *what)
{
    char why[512], both[1024];
    if (!space_short(s, why, sizeof why))
        return false;
    snprintf(both, sizeof both, "%s (%.400s)", why, what);
    space_pause(s, both);
    return true;
}

const char *sched_pause_reason(const struct sched *s)
{
    return s->space_paused ? s->pause_reason : NULL;
}

/* ---- outcomes ------------------------------------------------------------ */

static void add_orphan(struct sched *s, int64_t tid)
{
    if (s->n_orphans == s->cap_orphans) {
        size_t cap = s->cap_orphans ? 2 * s->cap_orphans : 8;
        int64_t *p = realloc(s->orphans, cap * sizeof *p);
        if (!p)
            return; /* start-up recovery will re-queue it */
        s->orphans = p;
        s->cap_orphans = cap;
    }
    s->orphans[s->n_orphans++] = tid;
}

/* Re-queue trials whose end could not be written before; false if some still fail. */
static bool requeue_orphans(struct sched *s)
{
    size_t k = 0;
    for (size_t i = 0; i < s->n_orphans; i++) {
        struct err e = ERR_INIT;
        if (store_trial_requeue(s->st, s->orphans[i], false, "re-queued after a storage error",
                                &e) < 0)
            s->orphans[k++] = s->orphans[i];
    }
    s->n_orphans = k;
    return k == 0;
}

static void on_done(void *ud, const struct spawn_outcome *o)
{
    struct slot *sl = ud;
    struct sched *s = sl->s;
    struct err e = ERR_INIT;
    int rc = 0;
    int64_t tid = sl->trial_id;
    switch (o->status) {
    case SPAWN_OK: {
        struct store_result res;
        rc = store_result_from_event(&res, o->result);
        if (rc < 0)
            err_set(&e, rc, NULL, "out of memory");
        if (rc == 0)
            rc = rewrite_epochs(sl, &e);
        if (rc == 0)
            rc = store_trial_done(s->st, tid, sl->attempt, &res, &e);
        store_result_release(&res);
        log_info("trial %lld done", (long long)tid);
        break;
    }
    case SPAWN_INVALID:
    case SPAWN_TIMEOUT:
    case SPAWN_NOMEM: /* RLIMIT_AS is per process: the same spec runs out again, at once; an
                       * OOM kill most likely too, each time at the whole machine's cost */
        rc = store_trial_fail(s->st, tid, o->message, &e);
        log_warn("trial %lld failed: %s", (long long)tid, o->message);
        break;
    case SPAWN_CRASH:
    case SPAWN_STALLED: /* stopped or hung: maybe the machine's fault, so another attempt */
        if (sl->attempt >= s->o.max_attempts) {
            char msg[1200];
            snprintf(msg, sizeof msg, "%s (after %d attempts)", o->message, sl->attempt);
            rc = store_trial_fail(s->st, tid, msg, &e);
            log_warn("trial %lld failed: %s", (long long)tid, msg);
        } else {
            rc = store_trial_requeue(s->st, tid, true, o->message, &e);
            log_warn("trial %lld attempt %d %s (%s); re-queued", (long long)tid, sl->attempt,
                     o->status == SPAWN_STALLED ? "stalled" : "crashed", o->message);
        }
        break;
    case SPAWN_NOSPACE: {
        /* Not the trial's: the attempt is given back and nothing starts until space is back. */
        char why[1200];
        snprintf(why, sizeof why, "trial %lld: %s", (long long)tid, o->message);
        rc = store_trial_requeue(s->st, tid, false, o->message, &e);
        log_warn("trial %lld: %s; re-queued, attempt not counted", (long long)tid, o->message);
        space_pause(s, why);
        break;
    }
    case SPAWN_STOPPED:
        if (o->stop_reason == STOP_PRUNE)
            rc = store_trial_pruned(s->st, tid, &e);
        else if (o->stop_reason == STOP_CANCEL)
            rc = store_trial_cancelled(s->st, tid, &e);
        else
            rc = store_trial_requeue(s->st, tid, false, "stopped by shutdown --now", &e);
        log_info("trial %lld stopped", (long long)tid);
        break;
    }
    if (rc < 0) {
        /* E.g. a full disk: leave the trial to run again rather than stuck 'running'
         * (if even that cannot be written, start-up recovery re-queues it). */
        log_error("trial %lld: recording its outcome failed: %s", (long long)tid, e.msg);
        space_check_after(s, e.msg);
        if (store_trial_requeue(s->st, tid, false, e.msg, &e) < 0) {
            log_error("trial %lld: re-queueing failed too: %s; trying again later", (long long)tid,
                      e.msg);
            add_orphan(s, tid);
        }
        retry_later(s);
    }
    int64_t sweep = sl->sweep_id;
    /* Racing on seeds / confirmation: more trials may follow from this outcome,
     * queued before anyone hears of it, so the sweep never looks ended between. */
    int64_t added = 0;
    struct err ae = ERR_INIT;
    if (adapt_after_trial(s->st, sweep, &added, &ae) < 0)
        log_error("sweep %lld: racing decision: %s", (long long)sweep, ae.msg);
    sl->sp = NULL;
    sl->trial_id = sl->sweep_id = sl->config_idx = 0;
    sl->pruning = false;
    notify(s, sweep);
    sched_kick(s);
    check_idle(s);
}

/*
 * The spec line of a claimed trial, its artifacts directory created first;
 * *max_seconds gets its limit (0: none) from the same parse the worker makes.
 * NULL with *e saying why (MLP_EINVALID_*: the stored configuration no longer
 * reads, which running it again would not change).
 */
static char *claimed_spec(const struct sched *s, const struct store_claim *c, double *max_seconds,
                          struct err *e)
{
    struct trial_spec *spec = malloc(sizeof *spec); /* paths: too big for the stack */
    char dir[CONFIG_PATH_MAX + 64];
    char *line = NULL;
    *max_seconds = 0;
    if (!spec) {
        err_set(e, MLP_ENOMEM, NULL, "out of memory");
        return NULL;
    }
    if (exec_artifacts_dir(s->o.artifacts_dir, c->trial_id, dir, sizeof dir, e) == 0 &&
        trialwire_spec_init(spec, c->dataset_json, c->params_json, c->seed, c->trial_id, dir, e) ==
            0 &&
        (line = trialwire_spec_write(spec, e)) && spec->hp.max_seconds > 0)
        *max_seconds = spec->hp.max_seconds;
    free(spec);
    return line;
}

static void on_retry(uv_timer_t *t)
{
    struct sched *s = t->data;
    if (!requeue_orphans(s))
        retry_later(s);
    sched_kick(s);
}

static void retry_later(struct sched *s)
{
    if (!uv_is_active((uv_handle_t *)&s->retry))
        uv_timer_start(&s->retry, on_retry, SCHED_RETRY_MS, 0);
}

void sched_kick(struct sched *s)
{
    if (s->kicking || s->space_paused)
        return;
    char why[512];
    if (!s->draining && sched_busy(s) < s->o.slots && space_short(s, why, sizeof why)) {
        space_pause(s, why); /* before a trial meets the full disk */
        return;
    }
    s->kicking = true;
    for (int i = 0; i < s->o.slots && !s->draining && !s->space_paused; i++) {
        struct slot *sl = &s->slots[i];
        if (sl->sp)
            continue;
        struct store_claim c;
        struct err e = ERR_INIT;
        int rc = store_claim_next(s->st, &c, &e);
        if (rc < 0 && !space_check_after(s, e.msg)) {
            log_error("scheduler: %s; retrying in %d s", e.msg, SCHED_RETRY_MS / 1000);
            retry_later(s);
        }
        if (rc <= 0)
            break;
        char msg[512] = "out of memory";
        double max_seconds;
        struct err se = ERR_INIT;
        char *spec = claimed_spec(s, &c, &max_seconds, &se);
        if (!spec)
            snprintf(msg, sizeof msg, "%.200s%s%.300s", se.path, se.path[0] ? ": " : "", se.msg);
        struct spawn_cbs cbs = {.on_epoch = on_epoch, .on_done = on_done};
        sl->trial_id = c.trial_id;
        sl->sweep_id = c.sweep_id;
        sl->config_idx = c.config_idx;
        sl->pruning = false;
        sl->attempt = c.attempt;
        sl->n_epochs = 0;
        sl->epoch_unwritten = sl->epoch_dropped = false;
        sl->sp = spec ? spawn_start(s->loop, &s->o.spawn, c.trial_id, c.attempt, spec, max_seconds,
                                    &cbs, sl, msg, sizeof msg)
                      : NULL;
        free(spec);
        if (sl->sp) {
            if (store_trial_set_pid(s->st, c.trial_id, spawn_pid(sl->sp), &e) < 0)
                log_error("trial %lld: %s", (long long)c.trial_id, e.msg);
            log_info("trial %lld (sweep %lld, config %lld, seed %lld) attempt %d started, pid %ld",
                     (long long)c.trial_id, (long long)c.sweep_id, (long long)c.config_idx,
                     (long long)c.seed, c.attempt, spawn_pid(sl->sp));
        } else if (se.code == MLP_EINVALID_SPEC || se.code == MLP_EINVALID_DATASET) {
            /* The stored configuration does not read (as the worker would have said). */
            log_warn("trial %lld failed: %s", (long long)c.trial_id, msg);
            if (store_trial_fail(s->st, c.trial_id, msg, &e) < 0)
                log_error("trial %lld: %s", (long long)c.trial_id, e.msg);
            sl->trial_id = sl->sweep_id = 0;
            notify(s, c.sweep_id);
            store_claim_release(&c);
            continue;
        } else {
            /* Not the trial's fault (the worker cannot be started): keep it queued,
             * attempt given back, and try again later instead of failing the queue. */
            log_error("trial %lld: %s; retrying in %d s", (long long)c.trial_id, msg,
                      SCHED_RETRY_MS / 1000);
            if (store_trial_requeue(s->st, c.trial_id, false, msg, &e) < 0)
                log_error("trial %lld: %s", (long long)c.trial_id, e.msg);
            sl->trial_id = sl->sweep_id = 0;
            notify(s, c.sweep_id);
            store_claim_release(&c);
            if (!space_check_after(s, msg))
                retry_later(s);
            break;
        }
        notify(s, c.sweep_id);
        store_claim_release(&c);
    }
    s->kicking = false;
    /* Slurm's batches are written to the spool and their results to the store: paused too. */
    if (s->o.remote && !s->draining && !s->space_paused)
        s->o.remote->kick(s->o.remote);
}

int sched_cancel_sweep(struct sched *s, int64_t sweep_id)
{
    int n = 0;
    for (int i = 0; i < s->o.slots; i++) {
        if (s->slots[i].sp && s->slots[i].sweep_id == sweep_id) {
            spawn_stop(s->slots[i].sp, STOP_CANCEL);
            n++;
        }
    }
    if (s->o.remote)
        n += s->o.remote->cancel_sweep(s->o.remote, sweep_id);
    return n;
}

void sched_drain(struct sched *s, bool now, void (*idle)(void *ud), void *ud)
{
    s->draining = true;
    uv_timer_stop(&s->retry);
    uv_timer_stop(&s->space);
    if (s->o.remote)
        s->o.remote->drain(s->o.remote); /* Slurm jobs keep running; the next mlpd follows them */
    s->idle = idle;
    s->idle_ud = ud;
    if (now)
        for (int i = 0; i < s->o.slots; i++)
            if (s->slots[i].sp)
                spawn_stop(s->slots[i].sp, STOP_REQUEUE);
    check_idle(s);
}
