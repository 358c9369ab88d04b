/*
 * mlp-worker — train one trial and stream its metrics (SPEC.md "mlp-worker").
 *
 * Input: one trial spec, {"dataset": …, "seed": int, "params": {…}} (plus an
 * optional integer "trial", accepted and ignored, for the daemon's bookkeeping),
 * from stdin or --spec FILE.  Output on stdout: one JSON line per epoch and one
 * result line, each flushed at once so the daemon sees progress live; or with
 * --human a readable table.  Messages go to stderr.
 *
 * Exit codes: 0 trained (also when the trial diverged: "diverged": true);
 * 1 runtime failure (timeout, out of memory, I/O) with an error line;
 * 2 bad command line; 4 invalid spec or dataset with an error line naming the
 * place ({"event":"error","code":"invalid_spec","message":…,"path":"params.lr"}).
 *
 * Numbers are printed in their shortest round-trip form; non-finite values
 * (a metric of a trial that diverged before its first epoch ended) print as
 * null.  With one BLAS thread the output is byte-identical between runs of the
 * same spec except for the "seconds" fields; when neither OPENBLAS_NUM_THREADS
 * nor OMP_NUM_THREADS is set the worker uses one BLAS thread.
 *
 * max_seconds bounds the whole trial, data loading included; past it the
 * worker prints {"event":"error","code":"timeout",…} and exits 1.
 *
 * The worker dies with its parent: PR_SET_PDEATHSIG(SIGKILL), and when
 * MLPD_PARENT_PID is set but is not our parent any more (the daemon died
 * before the prctl took effect) it exits at once.
 */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

#include <cblas.h>
#include <cJSON.h>

#include "config.h"
#include "data.h"
#include "dataset.h"
#include "err.h"
#include "hparams.h"
#include "json.h"
#include "train.h"

#define SPEC_MAX (16u << 20)

struct out {
    bool human;
    bool regression;
    const char *normalize; /* the normalisation applied ("auto" resolved) */
};

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static void usage(FILE *f)
{
    fputs("usage: mlp-worker [--spec FILE] [--human]\n"
          "\n"
          "Train one trial and print its metrics.  The trial spec is read from FILE or\n"
          "stdin: {\"dataset\": NAME-or-OBJECT, \"seed\": INT, \"params\": {HYPERPARAMETERS}}.\n"
          "Output: one JSON line per epoch and a final result line (--human: a table).\n"
          "\n"
          "  --spec FILE   read the spec from FILE instead of stdin\n"
          "  --human       print a readable table instead of JSON lines\n"
          "  --help        this text\n"
          "\n"
          "Exit status: 0 trained (also when diverged), 1 runtime failure,\n"
          "2 usage error, 4 invalid spec or dataset.\n"
          "Environment: MLPD_DATA (data dir), MLPD_HOME, OPENBLAS_NUM_THREADS\n"
          "(default 1 when unset), MLPD_PARENT_PID.\n",
          f);
}

/* Append "key":number to buf. */
static void put_num(char *buf, size_t n, const char *key, double v)
{
    size_t len = strlen(buf);
    char num[64];
    json_print_double(num, sizeof num, v);
    snprintf(buf + len, n - len, ",\"%s\":%s", key, num);
}

static void put_int(char *buf, size_t n, const char *key, long v)
{
    size_t len = strlen(buf);
    snprintf(buf + len, n - len, ",\"%s\":%ld", key, v);
}

/* Report an error: one JSON line on stdout (unless human), the message on stderr. */
static int report_error(const struct out *o, const struct err *e)
{
    const char *msg = e->msg[0] ? e->msg : err_default_msg(e->code);
    if (e->path[0])
        fprintf(stderr, "mlp-worker: %s: %s\n", e->path, msg);
    else
        fprintf(stderr, "mlp-worker: %s\n", msg);
    if (!o->human) {
        cJSON *j = cJSON_CreateObject();
        char *line = NULL;
        if (j && cJSON_AddStringToObject(j, "event", "error") &&
            cJSON_AddStringToObject(j, "code", err_name(e->code)) &&
            cJSON_AddStringToObject(j, "message", msg) &&
            (!e->path[0] || cJSON_AddStringToObject(j, "path", e->path)))
            line = json_line(j);
        if (line)
            printf("%s\n", line);
        else /* out of memory: a fixed line still tells the daemon what happened */
            printf("{\"event\":\"error\",\"code\":\"%s\"}\n", err_name(e->code));
        fflush(stdout);
        free(line);
        cJSON_Delete(j);
    }
    return e->code == MLP_EINVALID_SPEC || e->code == MLP_EINVALID_DATASET ? 4 : 1;
}

static void on_epoch(const struct train_epoch *ep, void *ctx)
{
    const struct out *o = ctx;
    if (o->human) {
        printf("%5d  %10.5f  %10.5f  %10.5f  %10.5f  %8.2f\n", ep->epoch, ep->train_loss,
               ep->train_metric, ep->val_loss, ep->val_metric, ep->seconds);
    } else {
        const char *m = o->regression ? "mse" : "accuracy";
        char key[32], line[512];
        snprintf(line, sizeof line, "{\"event\":\"epoch\"");
        put_int(line, sizeof line, "epoch", ep->epoch);
        put_num(line, sizeof line, "train_loss", ep->train_loss);
        snprintf(key, sizeof key, "train_%s", m);
        put_num(line, sizeof line, key, ep->train_metric);
        put_num(line, sizeof line, "val_loss", ep->val_loss);
        snprintf(key, sizeof key, "val_%s", m);
        put_num(line, sizeof line, key, ep->val_metric);
        put_num(line, sizeof line, "seconds", ep->seconds);
        printf("%s}\n", line);
    }
    fflush(stdout);
}

static void print_result(const struct out *o, const struct train_result *r, double seconds)
{
    const char *m = o->regression ? "mse" : "accuracy";
    if (o->human) {
        printf("\n%-6s %10s  %10s\n", "split", "loss", m);
        printf("%-6s %10.5f  %10.5f\n", "train", r->train_loss, r->train_metric);
        printf("%-6s %10.5f  %10.5f\n", "val", r->val_loss, r->val_metric);
        printf("%-6s %10.5f  %10.5f\n", "test", r->test_loss, r->test_metric);
        printf("epochs run %d, kept epoch %d, %.2f s%s\n", r->epochs_run, r->best_epoch, seconds,
               r->diverged ? ", DIVERGED" : "");
    } else {
        char key[32], line[1024];
        snprintf(line, sizeof line, "{\"event\":\"result\"");
        put_num(line, sizeof line, "train_loss", r->train_loss);
        snprintf(key, sizeof key, "train_%s", m);
        put_num(line, sizeof line, key, r->train_metric);
        put_num(line, sizeof line, "val_loss", r->val_loss);
        snprintf(key, sizeof key, "val_%s", m);
        put_num(line, sizeof line, key, r->val_metric);
        put_num(line, sizeof line, "test_loss", r->test_loss);
        snprintf(key, sizeof key, "test_%s", m);
        put_num(line, sizeof line, key, r->test_metric);
        put_int(line, sizeof line, "epochs_run", r->epochs_run);
        put_int(line, sizeof line, "best_epoch", r->best_epoch);
        put_num(line, sizeof line, "seconds", seconds);
        printf("%s,\"diverged\":%s,\"normalize\":\"%s\"}\n", line, r->diverged ? "true" : "false",
               o->normalize ? o->normalize : "?");
    }
    fflush(stdout);
}

/* Read all of f into a NUL-terminated buffer (caller frees); NULL with *e on failure. */
static char *read_all(FILE *f, const char *what, struct err *e)
{
    size_t cap = 4096, len = 0;
    char *buf = malloc(cap);
    if (!buf)
        goto nomem;
    for (;;) {
        if (len + 1 >= cap) {
            if (cap >= SPEC_MAX) {
                free(buf);
                err_set(e, MLP_EINVALID_SPEC, NULL, "%s: spec larger than %u bytes", what,
                        SPEC_MAX);
                return NULL;
            }
            char *nb = realloc(buf, cap * 2);
            if (!nb)
                goto nomem;
            buf = nb;
            cap *= 2;
        }
        size_t got = fread(buf + len, 1, cap - 1 - len, f);
        len += got;
        if (got == 0) {
            if (ferror(f)) {
                free(buf);
                err_set(e, MLP_EIO, NULL, "%s: read error: %s", what, strerror(errno));
                return NULL;
            }
            break;
        }
    }
    buf[len] = '\0';
    return buf;
nomem:
    free(buf);
    err_set(e, MLP_ENOMEM, NULL, "out of memory reading the spec");
    return NULL;
}

/* Check the top level of the spec; fills the three parts (borrowed from root). */
static int check_top(const cJSON *root, const cJSON **dataset, const cJSON **params, int64_t *seed,
                     struct err *e)
{
    static const char *const keys[] = {"dataset", "seed", "params", "trial", NULL};
    char brief[96];
    if (!cJSON_IsObject(root))
        return err_set(e, MLP_EINVALID_SPEC, NULL, "expected a JSON object, got %s",
                       json_type_name(root));
    const cJSON *it;
    cJSON_ArrayForEach(it, root)
    {
        bool known = false;
        for (int k = 0; keys[k]; k++)
            known |= strcmp(it->string, keys[k]) == 0;
        if (!known) {
            const char *s = json_suggest(it->string, keys);
            if (!s && hparams_is_key(it->string))
                return err_set(e, MLP_EINVALID_SPEC, it->string,
                               "unknown key (hyperparameters go in \"params\")");
            if (s)
                return err_set(e, MLP_EINVALID_SPEC, it->string,
                               "unknown key (did you mean \"%s\"?)", s);
            return err_set(e, MLP_EINVALID_SPEC, it->string, "unknown key");
        }
        for (const cJSON *p = root->child; p != it; p = p->next)
            if (strcmp(p->string, it->string) == 0)
                return err_set(e, MLP_EINVALID_SPEC, it->string, "duplicate key");
    }
    *dataset = json_get(root, "dataset");
    if (!*dataset)
        return err_set(e, MLP_EINVALID_SPEC, "dataset", "missing (a name or an object)");
    *params = json_get(root, "params");
    const cJSON *s = json_get(root, "seed");
    *seed = 1;
    if (s && !json_is_int(s, seed))
        return err_set(e, MLP_EINVALID_SPEC, "seed", "expected an integer, got %s",
                       json_brief(s, brief, sizeof brief));
    const cJSON *t = json_get(root, "trial");
    if (t && !json_is_int(t, NULL))
        return err_set(e, MLP_EINVALID_SPEC, "trial", "expected an integer, got %s",
                       json_brief(t, brief, sizeof brief));
    return 0;
}

int main(int argc, char **argv)
{
    const double t0 = now_s();
    struct out o = {false, false, NULL};
    struct err e = ERR_INIT;
    const char *spec_path = NULL;
    char *text = NULL;
    cJSON *root = NULL;
    struct dataset *ds = NULL;
    struct data_prepared prep;
    bool prepared = false;
    int status = 0;

    prctl(PR_SET_PDEATHSIG, SIGKILL);
    const char *ppid = getenv("MLPD_PARENT_PID");
    if (ppid && *ppid && strtol(ppid, NULL, 10) != (long)getppid())
        return 1;

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(stdout);
            return 0;
        } else if (strcmp(argv[i], "--human") == 0) {
            o.human = true;
        } else if (strcmp(argv[i], "--spec") == 0 && i + 1 < argc) {
            spec_path = argv[++i];
        } else if (strncmp(argv[i], "--spec=", 7) == 0) {
            spec_path = argv[i] + 7;
        } else {
            fprintf(stderr, "mlp-worker: unknown argument '%s'\n", argv[i]);
            usage(stderr);
            return 2;
        }
    }
    if (!getenv("OPENBLAS_NUM_THREADS") && !getenv("OMP_NUM_THREADS"))
        openblas_set_num_threads(1);

    /* Read and check the spec. */
    if (spec_path) {
        FILE *f = fopen(spec_path, "rb");
        if (!f) {
            err_set(&e, MLP_EINVALID_SPEC, NULL, "cannot open spec file %s: %s", spec_path,
                    strerror(errno));
            goto fail;
        }
        text = read_all(f, spec_path, &e);
        fclose(f);
    } else {
        text = read_all(stdin, "stdin", &e);
    }
    if (!text)
        goto fail;
    root = cJSON_ParseWithOpts(text, NULL, true); /* nothing may follow the object */
    if (!root) {
        err_set(&e, MLP_EINVALID_SPEC, NULL, "the spec is not one valid JSON object");
        goto fail;
    }
    const cJSON *jdataset = NULL, *jparams = NULL;
    int64_t seed = 1;
    if (check_top(root, &jdataset, &jparams, &seed, &e) < 0)
        goto fail;
    struct hparams hp;
    if (hparams_from_json(&hp, jparams, "params", &e) < 0)
        goto fail;
    char cwd[PATH_MAX];
    if (!getcwd(cwd, sizeof cwd))
        strcpy(cwd, ".");
    struct ds_spec dspec;
    if (ds_spec_parse(&dspec, jdataset, "dataset", cwd, &e) < 0)
        goto fail;

    /* Data directories: a cache that cannot be created is simply not used. */
    char data_dir[CONFIG_PATH_MAX], cache_dir[CONFIG_PATH_MAX + 8];
    struct dataset_dirs dirs = {NULL, DS_SYSTEM_DIR, NULL};
    if (config_data_dir(data_dir, sizeof data_dir) == 0) {
        dirs.data_dir = data_dir;
        struct err ce = ERR_INIT;
        snprintf(cache_dir, sizeof cache_dir, "%s/cache", data_dir);
        if (config_mkdir_p(cache_dir, 0700, &ce) == 0)
            dirs.cache_dir = cache_dir;
    }

    ds = data_load(&dspec, &dirs, hp.split_seed, &e);
    if (!ds)
        goto fail;
    if (data_prepare(ds, &hp, &prep, &e) < 0)
        goto fail;
    prepared = true;
    o.regression = prep.n_classes == 0;
    o.normalize = hp_normalize_name(prep.normalize);
    /* One line for the trial's log (the daemon keeps our stderr). */
    fprintf(stderr, "mlp-worker: %s: %lld train / %lld val / %lld test rows, %d features, ",
            dspec.name, (long long)prep.train.n, (long long)prep.val.n, (long long)prep.test.n,
            prep.train.d);
    if (o.regression)
        fprintf(stderr, "regression; seed %lld\n", (long long)seed);
    else
        fprintf(stderr, "%d classes; seed %lld\n", prep.n_classes, (long long)seed);

    if (o.human)
        printf("%5s  %10s  %10s  %10s  %10s  %8s\n", "epoch", "train_loss",
               o.regression ? "train_mse" : "train_acc", "val_loss",
               o.regression ? "val_mse" : "val_acc", "seconds");
    /* max_seconds limits the whole trial: the time spent loading the data
     * counts, so the core gets what is left. */
    double limit = hp.max_seconds;
    if (limit > 0) {
        double left = limit - (now_s() - t0);
        hp.max_seconds = left > 1e-9 ? left : 1e-9;
    }
    struct train_result res;
    if (train_run(&hp, (uint64_t)seed, &prep, on_epoch, &o, &res, &e) < 0) {
        if (e.code == MLP_ETIMEOUT)
            err_set(&e, MLP_ETIMEOUT, "params.max_seconds",
                    "trial exceeded max_seconds (%g s) after %d completed epoch(s)", limit,
                    res.epochs_run);
        goto fail;
    }
    print_result(&o, &res, now_s() - t0);
    goto out;

fail:
    if (e.code == 0)
        err_set(&e, MLP_EINTERNAL, NULL, "unexpected failure");
    status = report_error(&o, &e);
out:
    if (prepared)
        data_prepared_release(&prep);
    if (ds)
        data_free(ds);
    cJSON_Delete(root);
    free(text);
    return status;
}
