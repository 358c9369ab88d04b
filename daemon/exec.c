/*
 * exec — the executor interface.  See exec.h.  What an executor reads from
 * and writes to a worker is common/trialwire.c; what clients see of the
 * executors is view.c.
 */
#include "exec.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "config.h"
#include "err.h"
#include "metric.h"
#include "mlpd.h"
#include "statedir.h"
#include "store.h"

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

int exec_artifacts_dir(const char *root, int64_t trial_id, char *dir, size_t n, struct err *e)
{
    snprintf(dir, n, "%s/%lld", root, (long long)trial_id);
    struct err me = ERR_INIT;
    if (config_mkdir_p(root, 0700, &me) < 0)
        return err_set(e, me.code, NULL, "cannot create %s: %s", dir, me.msg);
    if (mkdir(dir, 0700) < 0 && errno != EEXIST)
        return err_set(e, MLP_EIO, NULL, "cannot create %s: %s", dir, strerror(errno));
    /* The worker writes there: never through a symlink or into someone else's directory. */
    return statedir_check_dir(dir, e);
}

/* ---- the Slurm executor's event reading (local workers use common/trialwire.c) ---- */

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
