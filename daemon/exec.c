/*
 * exec — executor glue for the ops handlers.  See exec.h.
 *
 * Only reads: the store given in d (a pool thread's read-only connection for
 * heavy ops) and, for status, the Slurm executor's in-memory count (status
 * runs on the loop).
 */
#include "exec.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "err.h"
#include "metric.h"
#include "mlpd.h"
#include "slurm.h"
#include "statedir.h"
#include "store.h"
#include "store_slurm.h"

int exec_resolve(struct mlpd *d, const char *want, const char **out, struct err *e)
{
    const char *x = want ? want : d->cfg.executor[0] ? d->cfg.executor : "local";
    if (strcmp(x, "slurm") == 0) {
        if (!d->slurm)
            return err_set(e, MLP_EINVALID_GRID, "executor",
                           "this mlpd has no Slurm executor (sbatch was not found when it "
                           "started; see mlpd --help for the slurm_* settings)");
        *out = "slurm";
    } else {
        *out = "local";
    }
    return 0;
}

static cJSON *jobs_array(int64_t *ids, size_t n)
{
    cJSON *a = cJSON_CreateArray();
    for (size_t i = 0; a && i < n; i++)
        cJSON_AddItemToArray(a, cJSON_CreateNumber((double)ids[i]));
    return a;
}

int exec_sweep_fields(struct mlpd *d, int64_t sweep_id, cJSON *o, struct err *e)
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

int exec_trial_fields(struct mlpd *d, int64_t trial_id, cJSON *o, struct err *e)
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

int exec_status_fields(struct mlpd *d, cJSON *o, struct err *e)
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

/* A number member of a worker event, NaN when absent or null. */
static double exec__num(const cJSON *ev, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(ev, key);
    if (cJSON_IsNumber(v))
        return v->valuedouble;
    if (cJSON_IsBool(v))
        return cJSON_IsTrue(v) ? 1 : 0;
    return NAN;
}

bool exec_epoch_metrics(const cJSON *ev, int64_t *epoch, double *v)
{
    double k = exec__num(ev, "epoch");
    if (isnan(k) || k < 1 || k > 1e9 || k != floor(k))
        return false;
    *epoch = (int64_t)k;
    for (int m = 0; m < MLP_M_N; m++)
        v[m] = metric_info(m)->per_epoch ? exec__num(ev, metric_name(m)) : NAN;
    return true;
}

double exec_epoch_lr(const cJSON *ev)
{
    double lr = exec__num(ev, "lr");
    return lr > 0 && isfinite(lr) ? lr : NAN;
}

void exec_result_metrics(const cJSON *ev, double *v)
{
    for (int m = 0; m < MLP_M_N; m++) {
        v[m] = exec__num(ev, metric_name(m));
        enum metric_kind k = metric_info(m)->kind;
        if ((k == METRIC_COUNT || k == METRIC_FLAG) && !(fabs(v[m]) <= 1e15))
            v[m] = NAN;
    }
    if (isnan(v[MLP_M_DIVERGED]))
        v[MLP_M_DIVERGED] = 0;
}

/* Append to a growing buffer; false on ENOMEM. */
static bool exec__append(char **buf, size_t *len, size_t *cap, const char *text)
{
    size_t n = strlen(text);
    if (*len + n + 1 > *cap) {
        size_t c = *cap ? *cap : 256;
        while (*len + n + 1 > c)
            c *= 2;
        char *p = realloc(*buf, c);
        if (!p)
            return false;
        *buf = p;
        *cap = c;
    }
    memcpy(*buf + *len, text, n + 1);
    *len += n;
    return true;
}

/* Compact JSON text of a K x K count matrix, or NULL (*oom when for lack of memory). */
static char *exec__confusion(const cJSON *c, bool *oom)
{
    int k = cJSON_GetArraySize(c);
    *oom = false;
    if (!cJSON_IsArray(c) || k < 1 || k > EXEC_MAX_CLASSES)
        return NULL;
    char *buf = NULL;
    size_t len = 0, cap = 0;
    bool ok = exec__append(&buf, &len, &cap, "[");
    const cJSON *row;
    int i = 0;
    cJSON_ArrayForEach(row, c)
    {
        if (!ok || !cJSON_IsArray(row) || cJSON_GetArraySize(row) != k)
            goto bad;
        ok = exec__append(&buf, &len, &cap, i++ ? ",[" : "[");
        const cJSON *x;
        int j = 0;
        cJSON_ArrayForEach(x, row)
        {
            if (!cJSON_IsNumber(x) || !(x->valuedouble >= 0 && x->valuedouble <= 1e15) ||
                x->valuedouble != floor(x->valuedouble))
                goto bad;
            char num[32];
            snprintf(num, sizeof num, "%s%lld", j++ ? "," : "", (long long)x->valuedouble);
            ok = ok && exec__append(&buf, &len, &cap, num);
        }
        ok = ok && exec__append(&buf, &len, &cap, "]");
    }
    if (ok && exec__append(&buf, &len, &cap, "]"))
        return buf;
    *oom = true;
bad:
    free(buf);
    return NULL;
}

int exec_result(const cJSON *ev, struct store_result *r)
{
    exec_result_metrics(ev, r->v);
    r->confusion = r->normalize = NULL;
    bool oom = false;
    r->confusion = exec__confusion(cJSON_GetObjectItemCaseSensitive(ev, "confusion"), &oom);
    const cJSON *nz = cJSON_GetObjectItemCaseSensitive(ev, "normalize");
    if (cJSON_IsString(nz) && strlen(nz->valuestring) < 64 &&
        !(r->normalize = strdup(nz->valuestring)))
        oom = true;
    return oom ? MLP_ENOMEM : 0;
}

char *exec_spec_line(const char *artifacts_root, const char *dataset_json, int64_t seed,
                     const char *params_json, int64_t trial_id, char *msg, size_t n)
{
    char dir[CONFIG_PATH_MAX + 64];
    snprintf(dir, sizeof dir, "%s/%lld", artifacts_root, (long long)trial_id);
    struct err e = ERR_INIT;
    if (config_mkdir_p(artifacts_root, 0700, &e) < 0 || (mkdir(dir, 0700) < 0 && errno != EEXIST)) {
        snprintf(msg, n, "cannot create %s: %s", dir, e.msg[0] ? e.msg : strerror(errno));
        return NULL;
    }
    /* The worker writes there: never through a symlink or into someone else's directory. */
    if (statedir_check_dir(dir, &e) < 0) {
        snprintf(msg, n, "%s", e.msg);
        return NULL;
    }
    cJSON *path = cJSON_CreateString(dir);
    char *quoted = path ? cJSON_PrintUnformatted(path) : NULL;
    cJSON_Delete(path);
    size_t len = strlen(dataset_json) + strlen(params_json) + (quoted ? strlen(quoted) : 0) + 128;
    char *buf = quoted ? malloc(len) : NULL;
    if (buf)
        snprintf(buf, len,
                 "{\"dataset\":%s,\"seed\":%lld,\"params\":%s,\"trial\":%lld,"
                 "\"artifacts_dir\":%s}",
                 dataset_json, (long long)seed, params_json, (long long)trial_id, quoted);
    else
        snprintf(msg, n, "out of memory");
    free(quoted);
    return buf;
}
