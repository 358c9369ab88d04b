/*
 * mlp-worker — train one trial and stream its metrics (SPEC.md "mlp-worker").
 *
 * Input: one trial spec, {"dataset": …, "seed": int, "params": {…}} (plus an
 * optional integer "trial", accepted and ignored, for the daemon's bookkeeping,
 * and "artifacts_dir" for "save"), from stdin or --spec FILE (spec.c).  Output
 * on stdout: one JSON line per epoch and one result line, each flushed at once
 * so the daemon sees progress live; or with --human a readable table.
 * Messages go to stderr.  The metric keys of those lines come from
 * MLP_METRIC_MAP (common/metric.h): a data metric (loss, accuracy, mse) of the
 * task's kind, per split.
 *
 * --gradcheck runs mlp-gradcheck (the double-precision core, installed next to
 * this binary) on the same arguments: see gradcheck.c.
 *
 * Exit codes: 0 trained (also when the trial diverged: "diverged": true);
 * 1 runtime failure (timeout, out of memory, I/O, "no_space" for a write
 * refused for lack of space) with an error line;
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
 * Run by mlpd, the worker applies worker_memory (RLIMIT_AS) and prints
 * heartbeat lines for stall detection itself: guard.c, from the environment.
 *
 * The worker dies with its parent: PR_SET_PDEATHSIG(SIGKILL), and when
 * MLPD_PARENT_PID is set but is not our parent any more (the daemon died
 * before the prctl took effect) it exits at once.
 */
#include <errno.h>
#include <limits.h>
#include <math.h>
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

#include "clock.h"
#include "artifact.h"
#include "data.h"
#include "err.h"
#include "guard.h"
#include "hparams.h"
#include "json.h"
#include "metric.h"
#include "spec.h"
#include "train.h"
#include "trialwire.h"

struct out {
    bool human;
    bool regression;
    bool curve_test;       /* epoch lines carry test metrics */
    bool iterations;       /* epoch lines carry the iteration count */
    bool schedule;         /* epoch lines carry the learning rate */
    const char *normalize; /* the normalisation applied ("auto" resolved) */
};

static void usage(FILE *f)
{
    fputs("usage: mlp-worker [--spec FILE] [--human] [--gradcheck]\n"
          "\n"
          "Train one trial and print its metrics.  The trial spec is read from FILE or\n"
          "stdin: {\"dataset\": NAME-or-OBJECT, \"seed\": INT, \"params\": {HYPERPARAMETERS},\n"
          "\"artifacts_dir\": DIR}.  Output: one JSON line per epoch and a final result\n"
          "line (--human: a table).  With params \"save\", model.npz and/or\n"
          "predictions.csv go to artifacts_dir (default: the current directory); with\n"
          "a model of a 2-feature data set also boundary.csv and points.csv.\n"
          "\n"
          "  --spec FILE   read the spec from FILE instead of stdin\n"
          "  --human       print a readable table instead of JSON lines\n"
          "  --gradcheck   check the spec's network's gradients, and the updates its\n"
          "                training steps apply, by finite differences (double\n"
          "                precision, small batches) instead of training\n"
          "  --help        this text\n"
          "\n"
          "Exit status: 0 trained (also when diverged; --gradcheck: all errors under\n"
          "the tolerance), 1 runtime failure (--gradcheck: an error over it),\n"
          "2 usage error, 4 invalid spec or dataset.\n"
          "Environment: MLPD_DATA (data dir), MLPD_HOME, OPENBLAS_NUM_THREADS\n"
          "(default 1 when unset), MLPD_PARENT_PID; set by mlpd: MLPD_WORKER_MEMORY\n"
          "(bytes the trial may allocate: RLIMIT_AS beyond the start-up address space)\n"
          "and MLPD_HEARTBEAT (seconds between heartbeat lines while working).\n",
          f);
}

/*
 * A write refused for lack of space (ENOSPC, EDQUOT: an artifact, the data
 * cache), whichever writer said it (each puts strerror in its message):
 * reported as "no_space" so that mlpd pauses instead of counting an attempt.
 */
static bool no_space(const struct err *e)
{
    return e->code == MLP_EIO &&
           (strstr(e->msg, strerror(ENOSPC)) || strstr(e->msg, strerror(EDQUOT)));
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
        struct trial_event ev;
        trialwire_event_init(&ev, TRIAL_EV_ERROR);
        snprintf(ev.code, sizeof ev.code, "%s", err_name(e->code));
        snprintf(ev.message, sizeof ev.message, "%s", msg);
        snprintf(ev.path, sizeof ev.path, "%s", e->path);
        char *line = trialwire_event_write(&ev);
        if (line)
            printf("%s\n", line);
        else /* out of memory: a fixed line still tells the daemon what happened */
            printf("{\"event\":\"error\",\"code\":\"%s\"}\n", err_name(e->code));
        fflush(stdout);
        free(line);
    }
    return e->code == MLP_EINVALID_SPEC || e->code == MLP_EINVALID_DATASET ? 4 : 1;
}

/* A data metric (loss or the task's accuracy/mse) of split s from a
 * (loss, metric) pair, or false when m is not one. */
static bool data_metric(int m, bool regression, enum metric_split s)
{
    const struct metric_info *mi = metric_info(m);
    if (mi->split != s || !metric_for_task(m, regression))
        return false;
    return mi->kind == METRIC_LOSS || mi->kind == METRIC_ACCURACY || mi->kind == METRIC_MSE;
}

/* Set metric m of an event line. */
static void put_metric(struct trial_event *ev, int m, double v)
{
    ev->v[m] = v;
    ev->has |= (uint64_t)1 << m;
}

/* Set the data metrics of split s, named from MLP_METRIC_MAP. */
static void put_split(struct trial_event *ev, bool regression, enum metric_split s, double loss,
                      double metric)
{
    for (int m = 0; m < MLP_M_N; m++)
        if (data_metric(m, regression, s))
            put_metric(ev, m, metric_info(m)->kind == METRIC_LOSS ? loss : metric);
}

/* Print an event line (trialwire) and flush; a fixed line when memory ran out. */
static void put_line(const struct trial_event *ev)
{
    char *line = trialwire_event_write(ev);
    if (line)
        printf("%s\n", line);
    else
        fprintf(stderr, "mlp-worker: out of memory printing an event line\n");
    free(line);
}

static void on_epoch(const struct train_epoch *ep, void *ctx)
{
    const struct out *o = ctx;
    if (o->human) {
        printf("%5d  %10.5f  %10.5f  %10.5f  %10.5f", ep->epoch, ep->train_loss, ep->train_metric,
               ep->val_loss, ep->val_metric);
        if (o->curve_test)
            printf("  %10.5f  %10.5f", ep->test_loss, ep->test_metric);
        printf("  %8.2f\n", ep->seconds);
    } else {
        struct trial_event ev;
        trialwire_event_init(&ev, TRIAL_EV_EPOCH);
        ev.epoch = ep->epoch;
        if (o->iterations)
            ev.iteration = (int64_t)ep->iteration;
        put_split(&ev, o->regression, METRIC_TRAIN, ep->train_loss, ep->train_metric);
        put_split(&ev, o->regression, METRIC_VAL, ep->val_loss, ep->val_metric);
        if (o->curve_test)
            put_split(&ev, o->regression, METRIC_TEST, ep->test_loss, ep->test_metric);
        if (o->schedule)
            ev.lr = ep->lr;
        put_metric(&ev, MLP_M_SECONDS, ep->seconds);
        put_line(&ev);
    }
    fflush(stdout);
}

static void print_human_result(const struct train_result *r, double seconds)
{
    const char *m = r->regression ? "mse" : "accuracy";
    printf("\n%-6s %10s  %10s\n", "split", "loss", m);
    printf("%-6s %10.5f  %10.5f\n", "train", r->train_loss, r->train_metric);
    printf("%-6s %10.5f  %10.5f\n", "val", r->val_loss, r->val_metric);
    printf("%-6s %10.5f  %10.5f\n", "test", r->test_loss, r->test_metric);
    printf("epochs run %d, kept epoch %d, %.2f s%s\n", r->epochs_run, r->best_epoch, seconds,
           r->diverged ? ", DIVERGED" : "");
    if (!r->confusion)
        return;
    printf("\ntest confusion (rows: true label, columns: predicted)\n%5s", "");
    for (int j = 0; j < r->n_classes; j++)
        printf(" %6d", j);
    printf("  %8s\n", "accuracy");
    double *acc = malloc((size_t)r->n_classes * sizeof *acc);
    if (acc)
        trialwire_class_accuracy(r->n_classes, r->confusion, acc);
    for (int i = 0; i < r->n_classes; i++) {
        printf("%5d", i);
        for (int j = 0; j < r->n_classes; j++)
            printf(" %6lld", (long long)r->confusion[(size_t)i * r->n_classes + j]);
        if (acc && !isnan(acc[i]))
            printf("  %8.4f\n", acc[i]);
        else
            printf("  %8s\n", "-");
    }
    free(acc);
}

static void print_result(const struct out *o, const struct train_result *r, double seconds,
                         struct trial_event *saved)
{
    if (o->human) {
        print_human_result(r, seconds);
        fflush(stdout);
        return;
    }
    struct trial_event *ev = saved; /* the artifacts are already listed */
    ev->kind = TRIAL_EV_RESULT;
    put_split(ev, o->regression, METRIC_TRAIN, r->train_loss, r->train_metric);
    put_split(ev, o->regression, METRIC_VAL, r->val_loss, r->val_metric);
    put_split(ev, o->regression, METRIC_TEST, r->test_loss, r->test_metric);
    put_metric(ev, MLP_M_EPOCHS_RUN, r->epochs_run);
    put_metric(ev, MLP_M_BEST_EPOCH, r->best_epoch);
    put_metric(ev, MLP_M_SECONDS, seconds);
    put_metric(ev, MLP_M_DIVERGED, r->diverged ? 1 : 0);
    snprintf(ev->normalize, sizeof ev->normalize, "%s", o->normalize ? o->normalize : "?");
    ev->n_classes = r->confusion ? r->n_classes : 0;
    ev->confusion = r->confusion; /* borrowed: not released here */
    put_line(ev);
    ev->confusion = NULL;
    fflush(stdout);
}

/* The BLAS threads OpenBLAS started with, before main may have set one (blas_warm_up). */
static int g_blas_started;

/* A BLAS call on every BLAS thread: OpenBLAS reserves a thread's buffer (~130 MB
 * of address space) the first time that thread works, and must have done so
 * before worker_memory applies (guard.h): a buffer it cannot get later it waits
 * for, spinning, for ever.  The product runs over every thread OpenBLAS started
 * (also when the worker then uses one: run by hand without OPENBLAS_NUM_THREADS,
 * a thread it started reserved its buffer at some moment of its own, before or
 * after the limit was measured), and is big enough for OpenBLAS to take its
 * buffered path on the calling thread (a small product skips the buffer: a
 * 1 x 1 x 1 warm-up left it to the first product of training, which then waited
 * for ever) and to split it over all threads (it splits above 65536 x 4
 * multiply-adds; 64 rows per thread reserved both buffers of a 2-thread worker:
 * 321 MB of address space, as after training). */
static void blas_warm_up(void)
{
    int now = openblas_get_num_threads();
    int threads = g_blas_started > now ? g_blas_started : now;
    int n = threads <= 4 ? 256 : 64 * (threads < 8 ? threads : 8);
    float *a = calloc((size_t)3 * n * n, sizeof *a);
    if (!a)
        return; /* memory so short that the trial cannot run anyway */
    if (threads != now)
        openblas_set_num_threads(threads);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1.0f, a, n,
                a + (size_t)n * n, n, 0.0f, a + 2 * (size_t)n * n, n);
    if (threads != now)
        openblas_set_num_threads(now);
    free(a);
}

/* Run mlp-gradcheck, which sits next to this binary, with our arguments. */
static int exec_gradcheck(char **argv)
{
    char self[PATH_MAX], path[PATH_MAX + 32];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n <= 0) {
        fprintf(stderr, "mlp-worker: cannot find my own path: %s\n", strerror(errno));
        return 1;
    }
    self[n] = '\0';
    char *slash = strrchr(self, '/');
    if (slash)
        *slash = '\0';
    snprintf(path, sizeof path, "%s/mlp-gradcheck", self);
    argv[0] = path;
    execv(path, argv);
    fprintf(stderr, "mlp-worker: cannot run %s: %s\n", path, strerror(errno));
    return 1;
}

/* Write what params.save asks for; names the files written in saved (JSON strings). */
static void saved_add(struct trial_event *saved, const char *name)
{
    if (saved->n_artifacts < TRIALWIRE_MAX_ARTIFACTS)
        snprintf(saved->artifacts[saved->n_artifacts++], sizeof saved->artifacts[0], "%s", name);
}

static int save_artifacts(const struct trial_spec *sp, const struct train_result *res,
                          const struct dataset *ds, const struct data_prepared *prep,
                          struct trial_event *saved, struct err *e)
{
    const enum hp_save sv = sp->hp.save;
    const char *dir = sp->artifacts_dir[0] ? sp->artifacts_dir : ".";
    if (sv == HP_SAVE_NONE || res->best_epoch == 0)
        return 0;
    if ((sv == HP_SAVE_MODEL || sv == HP_SAVE_BOTH)) {
        if (artifact_save_model(dir, res, &sp->hp, sp->ds.name, prep, e) < 0)
            return e->code;
        saved_add(saved, ARTIFACT_MODEL);
        if (prep->train.d == 2) {
            if (artifact_save_boundary(dir, res, &sp->hp, ds, prep, e) < 0)
                return e->code;
            saved_add(saved, ARTIFACT_BOUNDARY);
            saved_add(saved, ARTIFACT_POINTS);
        }
    }
    if (sv == HP_SAVE_PREDICTIONS || sv == HP_SAVE_BOTH) {
        if (artifact_save_predictions(dir, res, prep, e) < 0)
            return e->code;
        saved_add(saved, ARTIFACT_PREDICTIONS);
    }
    return 0;
}

/*
 * MLP_WORKER_TIMING set: one line on stderr for bench/ (not a protocol line):
 * when the process started and its first batch began, in CLOCK_MONOTONIC
 * seconds (comparable with the spawner's clock), the process's CPU time by
 * its first batch, the wall time of the per-epoch evaluations (the divergence
 * reference included) and of the final test pass, the time and rows of the
 * divergence reference, and whether the data came mapped from the cache.
 */
static void timing_line(const struct train_result *res, const struct data_prepared *prep,
                        double t0, double t_data)
{
    fprintf(stderr,
            "mlp-worker: timing: start %.6f data_ready %.6f first_batch %.6f first_batch_cpu %.6f "
            "eval_seconds %.6f "
            "test_seconds %.6f ref_seconds %.6f ref_rows %lld total %.6f cached %d\n",
            t0, t_data, res->first_batch, res->first_batch_cpu,
            res->eval_seconds + res->ref_seconds, res->test_seconds, res->ref_seconds,
            (long long)res->ref_rows, mono_s() - t0, prep->cached ? 1 : 0);
}

/* Parse the command line; returns -1 to go on, else the exit status. */
static int parse_args(int argc, char **argv, struct out *o, const char **spec_path)
{
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(stdout);
            return 0;
        } else if (strcmp(argv[i], "--human") == 0) {
            o->human = true;
        } else if (strcmp(argv[i], "--gradcheck") == 0) {
            return exec_gradcheck(argv);
        } else if (strcmp(argv[i], "--spec") == 0 && i + 1 < argc) {
            *spec_path = argv[++i];
        } else if (strncmp(argv[i], "--spec=", 7) == 0) {
            *spec_path = argv[i] + 7;
        } else {
            fprintf(stderr, "mlp-worker: unknown argument '%s'\n", argv[i]);
            usage(stderr);
            return 2;
        }
    }
    return -1;
}

static void print_header(const struct out *o)
{
    if (!o->human)
        return;
    const char *k = o->regression ? "mse" : "acc";
    char tr[16], va[16], te[16];
    snprintf(tr, sizeof tr, "train_%s", k);
    snprintf(va, sizeof va, "val_%s", k);
    snprintf(te, sizeof te, "test_%s", k);
    printf("%5s  %10s  %10s  %10s  %10s", "epoch", "train_loss", tr, "val_loss", va);
    if (o->curve_test)
        printf("  %10s  %10s", "test_loss", te);
    printf("  %8s\n", "seconds");
}

/* The hyperparameters the trial trains with, as read (canonical form, every
 * key), so its log says exactly what ran: `key=VALUE` with VALUE in compact
 * JSON, in lines of at most ~100 columns ("mlp-worker: params " first). */
static void log_params(const struct hparams *hp)
{
    cJSON *j = hparams_to_json(hp);
    const cJSON *it;
    char line[1024] = "";
    size_t len = 0;
    cJSON_ArrayForEach(it, j)
    {
        char *v = json_line(it);
        if (!v)
            break;
        char tok[512];
        int k = snprintf(tok, sizeof tok, "%s=%s", it->string, v);
        free(v);
        if (k < 0 || (size_t)k >= sizeof tok)
            continue; /* longer than any canonical value */
        if (len && len + 1 + (size_t)k > 80) {
            fprintf(stderr, "mlp-worker: params %s\n", line);
            len = 0;
        }
        len += (size_t)snprintf(line + len, sizeof line - len, "%s%s", len ? " " : "", tok);
    }
    if (len)
        fprintf(stderr, "mlp-worker: params %s\n", line);
    cJSON_Delete(j);
}

int main(int argc, char **argv)
{
    const double t0 = mono_s();
    struct out o = {0};
    struct err e = ERR_INIT;
    const char *spec_path = NULL;
    static struct trial_spec sp;
    struct dataset *ds = NULL;
    struct data_prepared prep;
    struct train_result res;
    bool prepared = false;
    int status = 0;
    static struct trial_event saved; /* the result line, artifacts first */

    memset(&res, 0, sizeof res);
    trialwire_event_init(&saved, TRIAL_EV_RESULT);
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    const char *ppid = getenv("MLPD_PARENT_PID");
    if (ppid && *ppid && strtol(ppid, NULL, 10) != (long)getppid())
        return 1;
    int st = parse_args(argc, argv, &o, &spec_path);
    if (st >= 0)
        return st;
    g_blas_started = openblas_get_num_threads();
    if (!getenv("OPENBLAS_NUM_THREADS") && !getenv("OMP_NUM_THREADS"))
        openblas_set_num_threads(1);
    if (guard_start(o.human, blas_warm_up, &e) < 0)
        goto fail;

    if (spec_read(&sp, spec_path, &e) < 0)
        goto fail;
    const struct hparams *hp = &sp.hp;
    if (!(ds = spec_load_data(&sp, &e)))
        goto fail;
    if (data_prepare(ds, hp, &prep, &e) < 0)
        goto fail;
    prepared = true;
    const double t_data = mono_s();
    o.regression = prep.n_classes == 0;
    o.normalize = hp_normalize_name(prep.normalize);
    o.curve_test = hp->curve_test;
    o.iterations = hp->iterations > 0;
    o.schedule = hp->sched != HP_SCHED_NONE;
    /* One line for the trial's log (the daemon keeps our stderr). */
    fprintf(stderr, "mlp-worker: %s: %lld train / %lld val / %lld test rows, %d features, ",
            sp.ds.name, (long long)prep.train.n, (long long)prep.val.n, (long long)prep.test.n,
            prep.train.d);
    if (o.regression)
        fprintf(stderr, "regression; seed %lld\n", (long long)sp.seed);
    else
        fprintf(stderr, "%d classes; seed %lld\n", prep.n_classes, (long long)sp.seed);
    log_params(hp);
    print_header(&o);

    /* max_seconds limits the whole trial: counted from t0, so the time spent
     * loading the data counts; train_run() writes the one timeout message.
     * MLP_EAGER_REFERENCE=1: the divergence reference in full before the
     * first step (tests and bench/ check that the metrics are the same bits). */
    const char *eager = getenv("MLP_EAGER_REFERENCE");
    const struct train_opts topts = {.eager_reference = eager && *eager && strcmp(eager, "0")};
    if (train_run_opts(hp, (uint64_t)sp.seed, &prep, t0, &topts, on_epoch, &o, &res, &e) < 0)
        goto fail;
    if (res.diverged) {
        /* Why, for the trial's log (SPEC.md "Metrics of a trial": diverged). */
        if (isfinite(res.diverged_loss))
            fprintf(stderr,
                    "mlp-worker: diverged at evaluation %d: training loss %.6g > 10 x the "
                    "initialised network's %.6g; kept evaluation %d\n",
                    res.epochs_run, res.diverged_loss, res.initial_train_loss, res.best_epoch);
        else
            fprintf(stderr,
                    "mlp-worker: diverged after %d evaluation(s): a loss was not finite; kept "
                    "evaluation %d\n",
                    res.epochs_run, res.best_epoch);
    }
    if (save_artifacts(&sp, &res, ds, &prep, &saved, &e) < 0)
        goto fail;
    if (getenv("MLP_WORKER_TIMING"))
        timing_line(&res, &prep, t0, t_data);
    print_result(&o, &res, mono_s() - t0, &saved);
    goto out;

fail:
    if (e.code == 0)
        err_set(&e, MLP_EINTERNAL, NULL, "unexpected failure");
    if (no_space(&e))
        e.code = MLP_ENOSPACE;
    status = report_error(&o, &e);
out:
    train_result_release(&res);
    if (prepared)
        data_prepared_release(&prep);
    if (ds)
        data_free(ds);
    return status;
}
