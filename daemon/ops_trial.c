/*
 * ops_trial — the ops about one trial: trial (its row, metrics, confusion
 * matrix, configuration, curve, executor fields, artifact list and the tail
 * of its log) and artifact (the listing of a trial's files, or one file
 * streamed as base64 chunks).  Part of the ops module (ops.h; shared helpers
 * in ops_int.h).  Worker-written text (the log tail) is made printable ASCII
 * here so a stray byte cannot break the reply line.
 */
#include <cjson/cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "json.h"
#include "metric.h"
#include "mlpd.h"
#include "ops.h"
#include "ops_int.h"
#include "store.h"
#include "trialwire.h"
#include "view.h"

#define LOG_TAIL_BYTES 4096 /* trial log tail returned by the trial op */

static int epoch_row(void *ud, const struct store_epoch_row *r)
{
    struct rows_ctx *x = ud;
    cJSON *o = ops__epoch_json(x, r);
    if (!o)
        return MLP_ENOMEM;
    cJSON_AddItemToArray(x->rows, o);
    return 0;
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
    if (t->confirm) /* a confirmation trial (012-racing.sql) */
        cJSON_AddTrueToObject(o, "confirm");
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
        int64_t *cm;
        if (t->confusion &&
            trialwire_confusion_parse(t->confusion, strlen(t->confusion), &k, &cm) == 0) {
            cJSON_AddItemToObject(mo, "confusion", cJSON_Parse(t->confusion));
            cJSON_AddItemToObject(mo, "class_accuracy", ops__class_accuracy_json(k, cm));
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

int op_trial(struct mlpd *d, const cJSON *req, const struct store_sweep *no_sweep, cJSON *resp,
             struct op_intent *it, struct err *e)
{
    (void)no_sweep; /* not an OPF_SWEEP op: the trial's sweep is read below */
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
    if ((rc = ops__cfgs_load(d, x.sweep_id, x.config_idx, &cf, e)) < 0)
        return rc;
    cJSON_AddItemToObject(t, "config", ops__config_json(&cf, x.config_idx));
    ops__cfgs_free(&cf);
    struct store_sweep sw;
    bool regression = false;
    if (store_sweep_get(d->st, x.sweep_id, &sw, e) == 0) {
        regression = ops__is_regression(sw.dataset_json);
        cJSON_AddStringToObject(t, "sweep_name", sw.name);
        store_sweep_release(&sw);
    }
    cJSON *curve = cJSON_AddArrayToObject(t, "curve");
    struct rows_ctx rx = {.rows = curve, .regression = regression};
    if ((rc = store_epochs_each(d->st, 0, id, epoch_row, &rx, e)) != 0)
        return rc < 0 && e->code ? rc : err_set(e, MLP_ENOMEM, NULL, "out of memory");
    if ((rc = view_exec_trial_fields(d, id, t, e)) < 0)
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

int op_artifact(struct mlpd *d, const cJSON *req, const struct store_sweep *sw, cJSON *resp,
                struct op_intent *it, struct err *e)
{
    (void)sw;
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
