/*
 * Tests of the real mlp-worker binary (argv[1]): it is run as a child process
 * with specs written to real files (or piped on stdin), and its stdout lines,
 * stderr and exit status are checked.
 *
 *   test_worker WORKER cli        spec validation, determinism, divergence,
 *                                 timeout, --human, regression output, learning
 *                                 on xor and circles
 *   test_worker WORKER fashion    Fashion-MNIST, train_size 5000, 3 epochs, its
 *                                 confusion matrix (exit 77 = skipped when the
 *                                 dataset is absent)
 *   test_worker WORKER training   per-class results, curve_test, iterations and
 *                                 eval_every, lr schedules, early stopping on the
 *                                 training loss, train_eval, --gradcheck
 *
 * MLPD_DATA points at a fresh temporary directory so the decoded-array cache of
 * a run never lands in the user's home.
 */
#include <errno.h>
#include <math.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cJSON.h>

#include "check.h"

static const char *worker;
static char tmpdir[256];

struct outcome {
    int status;      /* exit code, or 128+signal */
    char *out, *err; /* whole stdout / stderr */
    int n_lines;
    cJSON *lines[256]; /* stdout lines parsed (NULL if not JSON) */
    char *text[256];   /* stdout lines as text */
};

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return strdup("");
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *b = malloc((size_t)n + 1);
    size_t got = fread(b, 1, (size_t)n, f);
    b[got] = '\0';
    fclose(f);
    return b;
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    if (!f) {
        perror(path);
        exit(1);
    }
    fputs(text, f);
    fclose(f);
}

/* Run the worker with extra args (NULL-terminated list of at most 4); spec on
 * stdin when via_stdin, else through --spec FILE. */
static void run(struct outcome *o, const char *spec, bool via_stdin, const char *arg)
{
    char spec_path[512], out_path[512], err_path[512];
    snprintf(spec_path, sizeof spec_path, "%s/spec.json", tmpdir);
    snprintf(out_path, sizeof out_path, "%s/out.txt", tmpdir);
    snprintf(err_path, sizeof err_path, "%s/err.txt", tmpdir);
    write_file(spec_path, spec);
    memset(o, 0, sizeof *o);
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        int in = open(via_stdin ? spec_path : "/dev/null", O_RDONLY);
        int out = open(out_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        int err = open(err_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        dup2(in, 0);
        dup2(out, 1);
        dup2(err, 2);
        const char *argv[6];
        int k = 0;
        argv[k++] = worker;
        if (!via_stdin) {
            argv[k++] = "--spec";
            argv[k++] = spec_path;
        }
        if (arg)
            argv[k++] = arg;
        argv[k] = NULL;
        execv(worker, (char *const *)argv);
        _exit(127);
    }
    int st;
    waitpid(pid, &st, 0);
    o->status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    o->out = slurp(out_path);
    o->err = slurp(err_path);
    char *save = NULL;
    char *copy = strdup(o->out);
    for (char *l = strtok_r(copy, "\n", &save); l && o->n_lines < 256;
         l = strtok_r(NULL, "\n", &save)) {
        o->text[o->n_lines] = strdup(l);
        o->lines[o->n_lines++] = cJSON_Parse(l);
    }
    free(copy);
}

static void release(struct outcome *o)
{
    for (int i = 0; i < o->n_lines; i++) {
        cJSON_Delete(o->lines[i]);
        free(o->text[i]);
    }
    free(o->out);
    free(o->err);
}

static const char *str_of(const cJSON *obj, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static double num_of(const cJSON *obj, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    return cJSON_IsNumber(v) ? v->valuedouble : -1e300;
}

static const cJSON *last_line(const struct outcome *o)
{
    return o->n_lines ? o->lines[o->n_lines - 1] : NULL;
}

/* ---- spec validation ------------------------------------------------------------- */

static void expect_invalid(const char *spec, const char *code, const char *path)
{
    struct outcome o;
    run(&o, spec, true, NULL);
    CHECK_EQ_INT(o.status, 4);
    CHECK_EQ_INT(o.n_lines, 1);
    const cJSON *l = last_line(&o);
    CHECK(l != NULL);
    CHECK_EQ_STR(str_of(l, "event"), "error");
    CHECK_EQ_STR(str_of(l, "code"), code);
    CHECK(str_of(l, "message") && strlen(str_of(l, "message")) > 0);
    if (path) {
        const char *p = str_of(l, "path");
        CHECK(p != NULL);
        if (p && strncmp(p, path, strlen(path)) != 0)
            fprintf(stderr, "spec %s: path \"%s\", expected \"%s\"\n", spec, p, path);
        CHECK(p && strncmp(p, path, strlen(path)) == 0);
    }
    CHECK(strlen(o.err) > 0); /* the message on stderr too */
    printf("invalid: %-70s -> %s", spec, o.out);
    release(&o);
}

static void test_validation(void)
{
    const char * xor = "\"dataset\":{\"name\":\"xor\",\"n\":200}";
    char spec[1024];
#define INVALID(FMT, CODE, PATH)                                                                   \
    do {                                                                                           \
        snprintf(spec, sizeof spec, FMT, xor);                                                     \
        expect_invalid(spec, CODE, PATH);                                                          \
    } while (0)
    INVALID("{%s,\"params\":{\"lr\":\"fast\"}}", "invalid_spec", "params.lr");
    INVALID("{%s,\"params\":{\"lr\":-1}}", "invalid_spec", "params.lr");
    INVALID("{%s,\"params\":{\"activaton\":\"relu\"}}", "invalid_spec", "params.activaton");
    INVALID("{%s,\"params\":{\"activation\":\"swish\"}}", "invalid_spec", "params.activation");
    INVALID("{%s,\"params\":{\"dropout\":1.5}}", "invalid_spec", "params.dropout");
    INVALID("{%s,\"params\":{\"batch_size\":0}}", "invalid_spec", "params.batch_size");
    INVALID("{%s,\"params\":{\"batch_size\":2.5}}", "invalid_spec", "params.batch_size");
    INVALID("{%s,\"params\":{\"hidden\":[10,0]}}", "invalid_spec", "params.hidden");
    INVALID("{%s,\"params\":{\"hidden\":\"big\"}}", "invalid_spec", "params.hidden");
    INVALID("{%s,\"params\":{\"batch_norm\":1}}", "invalid_spec", "params.batch_norm");
    INVALID("{%s,\"params\":{\"early_stop\":{\"patience\":0}}}", "invalid_spec",
            "params.early_stop");
    INVALID("{%s,\"params\":[1]}", "invalid_spec", "params");
    INVALID("{%s,\"sed\":3}", "invalid_spec", "sed");
    INVALID("{%s,\"lr\":0.1}", "invalid_spec", "lr");
    INVALID("{%s,\"seed\":\"x\"}", "invalid_spec", "seed");
    INVALID("{%s,\"seed\":1.5}", "invalid_spec", "seed");
    INVALID("{%s,\"trial\":\"t\"}", "invalid_spec", "trial");
#undef INVALID
    expect_invalid("{\"seed\":1}", "invalid_spec", "dataset");
    expect_invalid("{\"dataset\":{\"name\":\"xor\",\"n\":-5}}", "invalid_dataset", "dataset");
    expect_invalid("{\"dataset\":\"no-such-set\"}", "invalid_dataset", "dataset");
    expect_invalid("{\"dataset\":{\"name\":\"xor\",\"noise\":\"a\"}}", "invalid_dataset",
                   "dataset.noise");
    expect_invalid("{\"dataset\": ", "invalid_spec", NULL);
    expect_invalid("[1,2]", "invalid_spec", NULL);
    expect_invalid("{\"dataset\":\"xor\"} {\"dataset\":\"xor\"}", "invalid_spec", NULL);

    /* a missing dataset file: invalid_dataset naming the file */
    snprintf(
        spec, sizeof spec,
        "{\"dataset\":{\"format\":\"csv\",\"train\":\"%s/none.csv\",\"test\":\"%s/none.csv\"}}",
        tmpdir, tmpdir);
    expect_invalid(spec, "invalid_dataset", NULL);

    /* command line: unknown flag is a usage error */
    struct outcome o;
    run(&o, "{}", true, "--bogus");
    CHECK_EQ_INT(o.status, 2);
    release(&o);
    run(&o, "{}", true, "--help");
    CHECK_EQ_INT(o.status, 0);
    CHECK(strstr(o.out, "--spec") != NULL);
    release(&o);
}

/* ---- running ---------------------------------------------------------------------- */

/* A result line with "seconds" removed, as text. */
static char *without_seconds(const char *line)
{
    cJSON *j = cJSON_Parse(line);
    if (!j)
        return strdup("(not json)");
    cJSON_DeleteItemFromObjectCaseSensitive(j, "seconds");
    char *s = cJSON_PrintUnformatted(j);
    cJSON_Delete(j);
    return s;
}

static void test_determinism(void)
{
    const char *spec = "{\"dataset\":{\"name\":\"circles\",\"n\":600,\"noise\":0.1},\"seed\":5,"
                       "\"trial\":17,\"params\":{\"hidden\":[32,16],\"epochs\":6,\"dropout\":0.2,"
                       "\"grad_noise\":0.001,\"batch_norm\":true,\"batch_size\":16}}";
    struct outcome a, b, c;
    run(&a, spec, true, NULL);
    run(&b, spec, false, NULL);
    CHECK_EQ_INT(a.status, 0);
    CHECK_EQ_INT(b.status, 0);
    CHECK_EQ_INT(a.n_lines, 7);
    CHECK_EQ_INT(a.n_lines, b.n_lines);
    for (int i = 0; i < a.n_lines && i < b.n_lines; i++) {
        char *x = without_seconds(a.text[i]), *y = without_seconds(b.text[i]);
        CHECK_EQ_STR(x, y);
        free(x);
        free(y);
        /* and byte-identical before the seconds field */
        const char *sa = strstr(a.text[i], "\"seconds\""), *sb = strstr(b.text[i], "\"seconds\"");
        CHECK(sa && sb && sa - a.text[i] == sb - b.text[i] &&
              memcmp(a.text[i], b.text[i], (size_t)(sa - a.text[i])) == 0);
    }
    printf("determinism: %s\n", a.text[a.n_lines - 1]);
    /* another seed gives other numbers */
    char other[1024];
    snprintf(other, sizeof other, "%s", spec);
    memcpy(strstr(other, "\"seed\":5"), "\"seed\":6", 8);
    run(&c, other, true, NULL);
    CHECK_EQ_INT(c.status, 0);
    CHECK(num_of(last_line(&c), "test_loss") != num_of(last_line(&a), "test_loss"));
    release(&a);
    release(&b);
    release(&c);
}

static void check_result_line(const cJSON *r, bool regression)
{
    static const char *cls[] = {"train_loss", "train_accuracy", "val_loss",   "val_accuracy",
                                "test_loss",  "test_accuracy",  "epochs_run", "best_epoch",
                                "seconds",    "diverged",       NULL};
    static const char *reg[] = {"train_loss", "train_mse", "val_loss",   "val_mse",
                                "test_loss",  "test_mse",  "epochs_run", "best_epoch",
                                "seconds",    "diverged",  NULL};
    const char *const *keys = regression ? reg : cls;
    CHECK_EQ_STR(str_of(r, "event"), "result");
    for (int k = 0; keys[k]; k++) {
        bool has = cJSON_GetObjectItemCaseSensitive(r, keys[k]) != NULL;
        if (!has)
            fprintf(stderr, "result line lacks %s\n", keys[k]);
        CHECK(has);
    }
}

static double learn(const char *dataset, const char *params)
{
    char spec[1024];
    snprintf(spec, sizeof spec, "{\"dataset\":%s,\"seed\":1,\"params\":%s}", dataset, params);
    struct outcome o;
    run(&o, spec, true, NULL);
    CHECK_EQ_INT(o.status, 0);
    const cJSON *r = last_line(&o);
    check_result_line(r, false);
    /* "auto" resolved by dataset kind: named image sets global, synthetic standardize. */
    if (!strstr(params, "normalize"))
        CHECK_EQ_STR(str_of(r, "normalize"), dataset[0] == '"' ? "global" : "standardize");
    double acc = num_of(r, "test_accuracy");
    int epochs = 0;
    for (int i = 0; i < o.n_lines; i++)
        epochs += o.lines[i] && str_of(o.lines[i], "event") &&
                  strcmp(str_of(o.lines[i], "event"), "epoch") == 0;
    CHECK_EQ_INT(epochs, (int)num_of(r, "epochs_run"));
    printf("learn %s: %s\n", dataset, o.text[o.n_lines ? o.n_lines - 1 : 0]);
    release(&o);
    return acc;
}

static void test_learning(void)
{
    double a = learn("{\"name\":\"xor\",\"n\":1000,\"noise\":0.02}",
                     "{\"hidden\":[16,16],\"activation\":\"tanh\",\"optimizer\":\"adam\","
                     "\"lr\":0.01,\"batch_size\":32,\"epochs\":40}");
    CHECK(a > 0.95);
    a = learn("{\"name\":\"circles\",\"n\":1000,\"noise\":0.1}",
              "{\"hidden\":[16,16],\"activation\":\"relu\",\"optimizer\":\"momentum\","
              "\"lr\":0.05,\"batch_size\":32,\"epochs\":40}");
    CHECK(a > 0.95);
}

static void test_divergence_timeout_human(void)
{
    struct outcome o;
    run(&o, "{\"dataset\":{\"name\":\"xor\",\"n\":300},\"params\":{\"lr\":1e30,\"epochs\":5}}",
        true, NULL);
    CHECK_EQ_INT(o.status, 0);
    const cJSON *r = last_line(&o);
    check_result_line(r, false);
    CHECK(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(r, "diverged")));
    printf("diverged: %s", o.out);
    release(&o);

    run(&o,
        "{\"dataset\":{\"name\":\"xor\",\"n\":2000},\"params\":{\"batch_size\":1,"
        "\"epochs\":100000,\"max_seconds\":0.05}}",
        true, NULL);
    CHECK_EQ_INT(o.status, 1);
    r = last_line(&o);
    CHECK_EQ_STR(str_of(r, "event"), "error");
    CHECK_EQ_STR(str_of(r, "code"), "timeout");
    printf("timeout: %s", o.out);
    release(&o);

    run(&o, "{\"dataset\":{\"name\":\"moons\",\"n\":300},\"params\":{\"epochs\":3}}", true,
        "--human");
    CHECK_EQ_INT(o.status, 0);
    CHECK(strstr(o.out, "epoch") && strstr(o.out, "test") && strstr(o.out, "val_acc"));
    CHECK(o.n_lines > 0 && o.lines[0] == NULL); /* a table, not JSON */
    release(&o);
}

static void test_regression_csv(void)
{
    char train[512], test[512], spec[1400];
    snprintf(train, sizeof train, "%s/reg-train.csv", tmpdir);
    snprintf(test, sizeof test, "%s/reg-test.csv", tmpdir);
    for (int f = 0; f < 2; f++) {
        FILE *fp = fopen(f ? test : train, "w");
        fprintf(fp, "a,b,target\n");
        for (int i = 0; i < 300; i++) {
            double a = ((i * 37 + f * 11) % 101) / 50.0 - 1, b = ((i * 53 + f * 7) % 97) / 48.0 - 1;
            fprintf(fp, "%.5f,%.5f,%.5f\n", a, b, 2 * a - b + 0.5);
        }
        fclose(fp);
    }
    snprintf(spec, sizeof spec,
             "{\"dataset\":{\"format\":\"csv\",\"train\":\"%s\",\"test\":\"%s\",\"header\":true,"
             "\"task\":\"regression\"},\"params\":{\"hidden\":[16],\"optimizer\":\"adam\","
             "\"lr\":0.01,\"epochs\":30,\"batch_size\":16}}",
             train, test);
    struct outcome o;
    run(&o, spec, true, NULL);
    CHECK_EQ_INT(o.status, 0);
    const cJSON *r = last_line(&o);
    check_result_line(r, true);
    CHECK(o.n_lines > 1 && cJSON_GetObjectItemCaseSensitive(o.lines[0], "val_mse") != NULL);
    printf("regression: %s\n", o.n_lines ? o.text[o.n_lines - 1] : "");
    CHECK(num_of(r, "test_mse") >= 0 && num_of(r, "test_mse") < 0.05);
    release(&o);
}

/* Lines whose "event" is ev. */
static int count_event(const struct outcome *o, const char *ev)
{
    int n = 0;
    for (int i = 0; i < o->n_lines; i++)
        n += o->lines[i] && str_of(o->lines[i], "event") &&
             strcmp(str_of(o->lines[i], "event"), ev) == 0;
    return n;
}

/* Sum of a K×K confusion matrix, its trace, and whether it is K×K of counts. */
static bool confusion_of(const cJSON *r, int K, long *sum, long *trace)
{
    const cJSON *c = cJSON_GetObjectItemCaseSensitive(r, "confusion");
    *sum = *trace = 0;
    if (!cJSON_IsArray(c) || cJSON_GetArraySize(c) != K)
        return false;
    for (int i = 0; i < K; i++) {
        const cJSON *row = cJSON_GetArrayItem(c, i);
        if (!cJSON_IsArray(row) || cJSON_GetArraySize(row) != K)
            return false;
        for (int j = 0; j < K; j++) {
            double v = cJSON_GetArrayItem(row, j)->valuedouble;
            if (v < 0 || v != (long)v)
                return false;
            *sum += (long)v;
            if (i == j)
                *trace += (long)v;
        }
    }
    return true;
}

static void test_per_class(void)
{
    struct outcome o;
    /* spirals: 3 arms; test set of n points */
    run(&o, "{\"dataset\":{\"name\":\"xor\",\"n\":400},\"params\":{\"hidden\":[8],\"epochs\":5}}",
        true, NULL);
    CHECK_EQ_INT(o.status, 0);
    const cJSON *r = last_line(&o);
    long sum, trace;
    CHECK(confusion_of(r, 2, &sum, &trace));
    CHECK_EQ_INT(sum, 400);
    CHECK(fabs((double)trace / sum - num_of(r, "test_accuracy")) < 1e-12);
    const cJSON *ca = cJSON_GetObjectItemCaseSensitive(r, "class_accuracy");
    CHECK(cJSON_IsArray(ca) && cJSON_GetArraySize(ca) == 2);
    /* no test metrics per epoch unless asked */
    CHECK(cJSON_GetObjectItemCaseSensitive(o.lines[0], "test_loss") == NULL);
    CHECK(cJSON_GetObjectItemCaseSensitive(o.lines[0], "iteration") == NULL);
    release(&o);
}

static void test_curve_test_and_train_eval(void)
{
    const char *base = "{\"dataset\":{\"name\":\"circles\",\"n\":1000},\"seed\":4,\"params\":{"
                       "\"hidden\":[8],\"epochs\":4,\"batch_size\":32%s}}";
    char spec[512];
    struct outcome sub, full, ct;
    snprintf(spec, sizeof spec, base, "");
    run(&sub, spec, true, NULL);
    snprintf(spec, sizeof spec, base, ",\"train_eval\":\"full\"");
    run(&full, spec, true, NULL);
    snprintf(spec, sizeof spec, base, ",\"curve_test\":true");
    run(&ct, spec, true, NULL);
    CHECK_EQ_INT(sub.status, 0);
    CHECK_EQ_INT(full.status, 0);
    CHECK_EQ_INT(ct.status, 0);
    CHECK_EQ_INT(sub.n_lines, 5);
    CHECK_EQ_INT(full.n_lines, 5);
    CHECK_EQ_INT(ct.n_lines, 5);
    for (int i = 0; i < 5 && sub.n_lines == 5 && full.n_lines == 5 && ct.n_lines == 5; i++) {
        /* measuring train metrics differently changes no weight: val and
         * test numbers are bit-identical; train ones differ (another row set) */
        CHECK(num_of(sub.lines[i], "val_loss") == num_of(full.lines[i], "val_loss"));
        CHECK(num_of(sub.lines[i], "val_loss") == num_of(ct.lines[i], "val_loss"));
        CHECK(num_of(sub.lines[i], "train_loss") != num_of(full.lines[i], "train_loss"));
        CHECK(num_of(sub.lines[i], "train_loss") == num_of(ct.lines[i], "train_loss"));
    }
    /* curve_test: the last epoch's test metrics are the result's (kept = last epoch) */
    const cJSON *last_ep = ct.lines[3], *r = ct.lines[4];
    CHECK(num_of(last_ep, "test_loss") == num_of(r, "test_loss"));
    CHECK(num_of(last_ep, "test_accuracy") == num_of(r, "test_accuracy"));
    CHECK(num_of(sub.lines[4], "test_loss") == num_of(r, "test_loss"));
    release(&sub);
    release(&full);
    release(&ct);
}

static void test_iterations_schedules(void)
{
    struct outcome o;
    /* 900 training rows at batch 100: 9 batches a pass; 25 iterations evaluated
     * every 10: records at 10, 20, 25 */
    run(&o,
        "{\"dataset\":{\"name\":\"xor\",\"n\":1000},\"params\":{\"hidden\":[8],"
        "\"batch_size\":100,\"iterations\":25,\"eval_every\":10,"
        "\"lr_schedule\":{\"kind\":\"step\",\"step_size\":10,\"gamma\":0.5,\"per\":\"iteration\"}}"
        "}",
        true, NULL);
    CHECK_EQ_INT(o.status, 0);
    CHECK_EQ_INT(count_event(&o, "epoch"), 3);
    if (o.n_lines == 4) {
        CHECK(num_of(o.lines[0], "iteration") == 10);
        CHECK(num_of(o.lines[1], "iteration") == 20);
        CHECK(num_of(o.lines[2], "iteration") == 25);
        CHECK(num_of(o.lines[2], "epoch") == 3);
        /* lr of each interval's last batch: steps 9, 19, 24 */
        CHECK(num_of(o.lines[0], "lr") == 0.1);
        CHECK(num_of(o.lines[1], "lr") == 0.05);
        CHECK(num_of(o.lines[2], "lr") == 0.025);
        CHECK(num_of(o.lines[3], "epochs_run") == 3);
    }
    release(&o);
    /* default eval_every: one pass (9 batches): 20 iterations -> 9, 18, 20 */
    run(&o,
        "{\"dataset\":{\"name\":\"xor\",\"n\":1000},\"params\":{\"hidden\":[8],"
        "\"batch_size\":100,\"iterations\":20,\"lr_schedule\":{\"kind\":\"exponential\","
        "\"gamma\":0.5}}}",
        true, NULL);
    CHECK_EQ_INT(count_event(&o, "epoch"), 3);
    if (o.n_lines == 4) {
        CHECK(num_of(o.lines[0], "iteration") == 9);
        CHECK(num_of(o.lines[2], "iteration") == 20);
        CHECK(num_of(o.lines[0], "lr") == 0.1);   /* pass 0 */
        CHECK(num_of(o.lines[1], "lr") == 0.05);  /* pass 1 */
        CHECK(num_of(o.lines[2], "lr") == 0.025); /* pass 2 */
    }
    release(&o);
    /* cosine per epoch over 4 epochs: lr(1+cos(pi t/4))/2 */
    run(&o,
        "{\"dataset\":{\"name\":\"xor\",\"n\":300},\"params\":{\"hidden\":[8],\"epochs\":4,"
        "\"lr\":0.2,\"lr_schedule\":{\"kind\":\"cosine\"}}}",
        true, NULL);
    CHECK_EQ_INT(count_event(&o, "epoch"), 4);
    for (int t = 0; t < 4 && o.n_lines == 5; t++)
        CHECK(fabs(num_of(o.lines[t], "lr") - 0.2 * (1 + cos(M_PI * t / 4)) / 2) < 1e-15);
    release(&o);
    /* the same spec twice: bit-identical lines (schedules and iterations too) */
    struct outcome a, b;
    const char *spec = "{\"dataset\":{\"name\":\"spirals\",\"n\":500},\"seed\":9,\"params\":{"
                       "\"hidden\":[16],\"optimizer\":\"adam\",\"lr\":0.01,\"iterations\":60,"
                       "\"eval_every\":7,\"dropout\":0.1,\"curve_test\":true,"
                       "\"lr_schedule\":{\"kind\":\"cosine\",\"per\":\"iteration\"}}}";
    run(&a, spec, true, NULL);
    run(&b, spec, false, NULL);
    CHECK_EQ_INT(a.n_lines, 10);
    CHECK_EQ_INT(a.n_lines, b.n_lines);
    for (int i = 0; i < a.n_lines && i < b.n_lines; i++) {
        char *x = without_seconds(a.text[i]), *y = without_seconds(b.text[i]);
        CHECK_EQ_STR(x, y);
        free(x);
        free(y);
    }
    release(&a);
    release(&b);
}

static void test_early_stop_train_loss(void)
{
    /* lr so large the training loss rises after the first epochs: early
     * stopping on it ends the trial and keeps the best train-loss epoch */
    struct outcome o;
    run(&o,
        "{\"dataset\":{\"name\":\"circles\",\"n\":600},\"seed\":2,\"params\":{\"hidden\":[32],"
        "\"epochs\":60,\"lr\":0.5,\"batch_size\":600,\"optimizer\":\"momentum\","
        "\"momentum\":0.99,\"early_stop\":{\"patience\":3,\"on\":\"train_loss\"}}}",
        true, NULL);
    CHECK_EQ_INT(o.status, 0);
    const cJSON *r = last_line(&o);
    int run_ = (int)num_of(r, "epochs_run"), best = (int)num_of(r, "best_epoch");
    CHECK(run_ < 60);
    CHECK_EQ_INT(run_, best + 3);
    double lo = INFINITY;
    for (int i = 0; i < o.n_lines - 1; i++)
        lo = fmin(lo, num_of(o.lines[i], "train_loss"));
    CHECK(best >= 1 && best <= o.n_lines - 1 && num_of(o.lines[best - 1], "train_loss") == lo);
    CHECK(num_of(r, "train_loss") == lo);
    release(&o);
}

static void test_gradcheck(void)
{
    struct outcome o;
    /* every layer kind: batch norm (gamma, beta), linear activation, L2, dropout */
    run(&o,
        "{\"dataset\":{\"name\":\"spirals\",\"n\":200},\"seed\":3,\"params\":{"
        "\"hidden\":[7,5],\"activation\":\"linear\",\"batch_norm\":true,\"l2\":0.01,"
        "\"dropout\":0.2}}",
        false, "--gradcheck");
    CHECK_EQ_INT(o.status, 0);
    CHECK_EQ_INT(count_event(&o, "gradcheck"), 8); /* W,gamma,beta ×2 + W,b */
    const cJSON *r = last_line(&o);
    CHECK_EQ_STR(str_of(r, "event"), "gradcheck_result");
    CHECK(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(r, "ok")));
    CHECK(num_of(r, "worst_rel_error") >= 0 && num_of(r, "worst_rel_error") < 1e-4);
    CHECK(o.n_lines > 1 && str_of(o.lines[1], "param") &&
          strcmp(str_of(o.lines[1], "param"), "gamma") == 0);
    printf("gradcheck: %s\n", o.n_lines ? o.text[o.n_lines - 1] : "");
    release(&o);
    /* regression, every activation with a smooth derivative */
    const char *acts[] = {"tanh", "sigmoid", "elu", "selu", "linear"};
    for (int a = 0; a < 5; a++) {
        char spec[512];
        snprintf(spec, sizeof spec,
                 "{\"dataset\":{\"name\":\"circles\",\"n\":100},\"params\":{\"hidden\":[6],"
                 "\"activation\":\"%s\",\"l1\":0.001}}",
                 acts[a]);
        run(&o, spec, true, "--gradcheck");
        CHECK_EQ_INT(o.status, 0);
        release(&o);
    }
    run(&o, "{\"dataset\":{\"name\":\"xor\",\"n\":100},\"params\":{\"hidden\":[4]}}", false,
        "--human");
    CHECK_EQ_INT(o.status, 0);
    release(&o);
    /* human table, and the spec's errors as in training */
    run(&o, "{\"dataset\":{\"name\":\"xor\",\"n\":100},\"params\":{\"hidden\":[4]}}", true,
        "--gradcheck");
    CHECK_EQ_INT(o.status, 0);
    release(&o);
    run(&o, "{\"dataset\":{\"name\":\"xor\"},\"params\":{\"lr_schedule\":{\"kind\":\"x\"}}}", true,
        "--gradcheck");
    CHECK_EQ_INT(o.status, 4);
    CHECK(o.n_lines == 1 && str_of(o.lines[0], "path") &&
          strcmp(str_of(o.lines[0], "path"), "params.lr_schedule.kind") == 0);
    release(&o);
}

static void test_artifacts_dir(void)
{
    struct outcome o;
    char spec[1024], path[600];
    struct stat st;
    snprintf(spec, sizeof spec,
             "{\"dataset\":{\"name\":\"xor\",\"n\":200},\"artifacts_dir\":\"%s/art/7\","
             "\"params\":{\"hidden\":[4],\"epochs\":2,\"save\":\"predictions\"}}",
             tmpdir);
    run(&o, spec, true, NULL);
    CHECK_EQ_INT(o.status, 0);
    snprintf(path, sizeof path, "%s/art/7/predictions.csv", tmpdir);
    CHECK(stat(path, &st) == 0 && st.st_size > 200 * 10);
    snprintf(path, sizeof path, "%s/art/7/model.npz", tmpdir);
    CHECK(stat(path, &st) != 0);
    release(&o);
    expect_invalid("{\"dataset\":\"xor\",\"artifacts_dir\":3}", "invalid_spec", "artifacts_dir");
    expect_invalid("{\"dataset\":\"xor\",\"artifacts_dir\":\"\"}", "invalid_spec", "artifacts_dir");
    snprintf(spec, sizeof spec,
             "{\"dataset\":{\"name\":\"xor\",\"n\":200},\"artifacts_dir\":\"/proc/nope\","
             "\"params\":{\"hidden\":[4],\"epochs\":1,\"save\":\"model\"}}");
    run(&o, spec, true, NULL);
    CHECK_EQ_INT(o.status, 1);
    CHECK(o.n_lines && str_of(last_line(&o), "code") &&
          strcmp(str_of(last_line(&o), "code"), "io") == 0);
    release(&o);
}

static int test_fashion(void)
{
    struct stat st;
    if (stat("/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz", &st) != 0) {
        printf("Fashion-MNIST not installed: skipped\n");
        return 77;
    }
    /* Momentum at lr 0.01: plain SGD at lr 0.1 is unstable on 5000 rows, where
     * standardising pixels that are almost always 0 gives the few rows that
     * light them values of ~sqrt(5000) (measured: test accuracy 0.58-0.62). */
    double a =
        learn("\"fashion-mnist\"", "{\"hidden\":[256,128],\"optimizer\":\"momentum\",\"lr\":0.01,"
                                   "\"batch_size\":128,\"epochs\":3,\"train_size\":5000}");
    CHECK(a > 0.75);
    /* the 10×10 confusion of the kept weights over the 10000 test images */
    struct outcome o;
    run(&o,
        "{\"dataset\":\"fashion-mnist\",\"params\":{\"hidden\":[32],\"optimizer\":\"adam\","
        "\"lr\":0.001,\"epochs\":1,\"train_size\":2000,\"curve_test\":true}}",
        true, NULL);
    CHECK_EQ_INT(o.status, 0);
    long sum, trace;
    CHECK(confusion_of(last_line(&o), 10, &sum, &trace));
    CHECK_EQ_INT(sum, 10000);
    CHECK(fabs((double)trace / 10000 - num_of(last_line(&o), "test_accuracy")) < 1e-12);
    CHECK(num_of(o.lines[0], "test_accuracy") == num_of(last_line(&o), "test_accuracy"));
    printf("fashion confusion: %s\n", o.n_lines ? o.text[o.n_lines - 1] : "");
    release(&o);
    return check_report();
}

/* The worker dies with its parent: PR_SET_PDEATHSIG, and MLPD_PARENT_PID. */
static void test_dies_with_parent(void)
{
    /* MLPD_PARENT_PID that is not the parent: exit at once, print nothing. */
    setenv("MLPD_PARENT_PID", "1", 1);
    struct outcome o;
    run(&o, "{\"dataset\":{\"name\":\"xor\",\"n\":300}}", true, NULL);
    CHECK_EQ_INT(o.status, 1);
    CHECK_EQ_INT(o.n_lines, 0);
    release(&o);
    unsetenv("MLPD_PARENT_PID");

    /* A parent that dies mid-trial takes the worker with it (SIGKILL).  We are
     * the subreaper, so the orphaned worker becomes our child and we see how
     * it ended. */
    char spec_path[512];
    snprintf(spec_path, sizeof spec_path, "%s/long.json", tmpdir);
    write_file(spec_path, "{\"dataset\":{\"name\":\"xor\",\"n\":100000},"
                          "\"params\":{\"batch_size\":1,\"epochs\":1000}}");
    prctl(PR_SET_CHILD_SUBREAPER, 1);
    int pfd[2];
    if (pipe(pfd) != 0)
        return;
    fflush(NULL);
    pid_t mid = fork();
    if (mid == 0) {
        pid_t w = fork();
        if (w == 0) {
            int null = open("/dev/null", O_RDWR);
            dup2(null, 1);
            dup2(null, 2);
            execl(worker, worker, "--spec", spec_path, (char *)NULL);
            _exit(127);
        }
        if (write(pfd[1], &w, sizeof w) != sizeof w)
            _exit(1);
        struct timespec ts = {0, 300 * 1000 * 1000}; /* let it start training */
        nanosleep(&ts, NULL);
        _exit(0);
    }
    pid_t w = -1;
    if (read(pfd[0], &w, sizeof w) != sizeof w)
        w = -1;
    close(pfd[0]);
    close(pfd[1]);
    waitpid(mid, NULL, 0);
    int st = 0;
    pid_t got = -1;
    for (int i = 0; i < 100 && got != w; i++) { /* up to 10 s */
        got = waitpid(w, &st, WNOHANG);
        if (got != w) {
            struct timespec ts = {0, 100 * 1000 * 1000};
            nanosleep(&ts, NULL);
        }
    }
    if (got != w && w > 0) {
        kill(w, SIGKILL);
        waitpid(w, &st, 0);
    }
    CHECK(got == w);
    CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
    prctl(PR_SET_CHILD_SUBREAPER, 0);
}

static void rm_rf(const char *dir)
{
    char cmd[512];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: test_worker WORKER cli|fashion\n");
        return 2;
    }
    worker = argv[1];
    snprintf(tmpdir, sizeof tmpdir, "/tmp/mlp-test-worker-XXXXXX");
    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        return 1;
    }
    char data[300];
    snprintf(data, sizeof data, "%s/data", tmpdir);
    setenv("MLPD_DATA", data, 1);
    setenv("OPENBLAS_NUM_THREADS", "1", 1);
    unsetenv("MLPD_PARENT_PID");
    int rc;
    if (strcmp(argv[2], "fashion") == 0) {
        rc = test_fashion();
    } else if (strcmp(argv[2], "training") == 0) {
        test_per_class();
        test_curve_test_and_train_eval();
        test_iterations_schedules();
        test_early_stop_train_loss();
        test_gradcheck();
        test_artifacts_dir();
        rc = check_report();
    } else {
        test_validation();
        test_determinism();
        test_learning();
        test_divergence_timeout_human();
        test_regression_csv();
        test_dies_with_parent();
        rc = check_report();
    }
    rm_rf(tmpdir);
    return rc;
}
