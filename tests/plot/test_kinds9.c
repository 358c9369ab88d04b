/*
 * test_kinds9 — the plot kinds learning, confusion and boundary, run end to
 * end through cmd_plot with the fake transport (fake_cli.c: fixtures from
 * make_fixtures9.py; the boundary's CSV files come as streamed base64
 * artifact chunks, so artifact_fetch is exercised too).  Each output must be
 * well-formed XML (xmllint) and hold the expected elements: K² confusion
 * cells with class names, one group per architecture with its bands and
 * markers, one lattice run per change of class, one marker per point.
 */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../check.h"
#include "cli/artifact.h"
#include "cli/plot.h"
#include "fake_cli.h"

static const char *fx;
static char tmpdir[] = "/tmp/test_plot9_XXXXXX";

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *b = malloc((size_t)n + 1);
    if (b && fread(b, 1, (size_t)n, f) != (size_t)n) {
        free(b);
        b = NULL;
    }
    if (b)
        b[n] = '\0';
    fclose(f);
    return b;
}

static int count(const char *hay, const char *needle)
{
    int n = 0;
    for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle))
        n++;
    return n;
}

static bool xml_ok(const char *path)
{
    char cmd[700];
    snprintf(cmd, sizeof cmd, "xmllint --noout '%s'", path);
    return system(cmd) == 0;
}

/* mlpctl plot ARGS... --out tmpdir/name; returns the exit code, *svg the text. */
static int plot(const char *name, char **svg, const char *a1, const char *a2, const char *a3,
                const char *a4, const char *a5, const char *a6)
{
    char out[600];
    snprintf(out, sizeof out, "%s/%s", tmpdir, name);
    char *argv[12] = {"plot",     (char *)a1, (char *)a2, (char *)a3,
                      (char *)a4, (char *)a5, (char *)a6};
    int argc = 1;
    while (argc < 7 && argv[argc])
        argc++;
    argv[argc++] = "--out";
    argv[argc++] = out;
    argv[argc] = NULL;
    struct cli cli = {.socket_path = "/nonexistent.sock", .json = false, .fd = -1};
    fake_cli_init(fx, FAKE_NORMAL);
    int rc = cmd_plot(&cli, argc, argv);
    *svg = rc == CLI_OK ? slurp(out) : NULL;
    if (rc == CLI_OK)
        CHECK(xml_ok(out));
    return rc;
}

static void test_confusion(void)
{
    char *t;
    CHECK_EQ_INT(plot("confusion.svg", &t, "9", "--kind", "confusion", "--config", "4", NULL),
                 CLI_OK);
    if (!t)
        return;
    CHECK_EQ_INT(count(t, "class=\"cell\""), 100);
    CHECK(strstr(t, "Ankle boot") && strstr(t, "T-shirt/top"));
    CHECK_EQ_INT(count(t, ">\xC2\xB1"), 100); /* every cell shows its SE (n = 5) */
    CHECK(strstr(t, "class=\"scale\"") != NULL);
    /* The tooltip of cell [0][0] carries the fixture's mean rate. */
    cJSON *show = fixture_load(fx, "show_confusion.json");
    double m00 = cJSON_GetArrayItem(
                     cJSON_GetArrayItem(
                         cJSON_GetObjectItemCaseSensitive(
                             cJSON_GetObjectItemCaseSensitive(
                                 cJSON_GetObjectItemCaseSensitive(show, "confusion"), "rates"),
                             "mean"),
                         0),
                     0)
                     ->valuedouble;
    char want[128];
    snprintf(want, sizeof want, "true T-shirt/top, predicted T-shirt/top: rate %.4f", m00);
    CHECK(strstr(t, want) != NULL);
    cJSON_Delete(show);
    free(t);
    /* --config is required, and not a number is a usage error. */
    CHECK_EQ_INT(plot("x.svg", &t, "9", "--kind", "confusion", NULL, NULL, NULL), CLI_USAGE);
    CHECK_EQ_INT(plot("x.svg", &t, "9", "--kind", "confusion", "--config", "x", NULL), CLI_USAGE);
    /* A show response without a confusion section fails and writes nothing. */
    cJSON *plain = fixture_load(fx, "show.json");
    FILE *devnull = fopen("/dev/null", "w");
    CHECK_EQ_INT(plot_confusion(devnull, plain), CLI_FAILED);
    fclose(devnull);
    cJSON_Delete(plain);
}

static void test_learning(void)
{
    char *t;
    CHECK_EQ_INT(plot("learning.svg", &t, "9", "--kind", "learning", "--key", "train_size", NULL),
                 CLI_OK);
    if (!t)
        return;
    CHECK_EQ_INT(count(t, "class=\"group\""), 2); /* hidden [64] and [512,256] */
    CHECK_EQ_INT(count(t, "class=\"band\""), 6);  /* train, val, test per group */
    CHECK_EQ_INT(count(t, "class=\"line\""), 6);
    CHECK_EQ_INT(count(t, "class=\"point\""), 2 * 5 * 3); /* 5 sizes × 3 splits × 2 groups */
    CHECK(strstr(t, "hidden=[512,256]") != NULL);
    CHECK(strstr(t, "test_accuracy") != NULL && strstr(t, "log scale") != NULL);
    free(t);
    CHECK_EQ_INT(plot("x.svg", &t, "9", "--kind", "learning", "--key", "lr", NULL), CLI_FAILED);
    CHECK_EQ_INT(plot("x.svg", &t, "9", "--kind", "learning", NULL, NULL, NULL), CLI_USAGE);
}

/* Runs of equal (class, confidence band) along the lattice rows of boundary.csv. */
static int expected_runs(void)
{
    char path[600];
    snprintf(path, sizeof path, "%s/boundary.csv", fx);
    FILE *f = fopen(path, "r");
    char line[256];
    int runs = 0, prev = -1;
    double prev_x2 = 1e300;
    if (!f || !fgets(line, sizeof line, f))
        return -1;
    while (fgets(line, sizeof line, f)) {
        double x1, x2, p;
        int c;
        if (sscanf(line, "%lf,%lf,%d,%lf", &x1, &x2, &c, &p) != 4)
            continue;
        double chance = 1.0 / 3;
        int band = (int)((p - chance) / (1 - chance) * 4);
        band = band < 0 ? 0 : band > 3 ? 3 : band;
        int key = c * 4 + band;
        if (x2 != prev_x2 || key != prev)
            runs++;
        prev = key;
        prev_x2 = x2;
    }
    fclose(f);
    return runs;
}

static void test_boundary(void)
{
    char *t;
    CHECK_EQ_INT(plot("boundary.svg", &t, "--kind", "boundary", "--trial", "31", NULL, NULL),
                 CLI_OK);
    if (!t)
        return;
    CHECK_EQ_INT(count(t, "class=\"train\""), 60);
    CHECK_EQ_INT(count(t, "class=\"test\""), 30);
    CHECK_EQ_INT(count(t, "class=\"cell\""), expected_runs());
    CHECK(strstr(t, "Trial 31") && strstr(t, "hidden=[16]"));
    free(t);
    CHECK_EQ_INT(plot("x.svg", &t, "--kind", "boundary", NULL, NULL, NULL, NULL), CLI_USAGE);

    /* artifact_fetch reassembles the streamed file byte for byte. */
    struct cli cli = {.socket_path = "/nonexistent.sock", .json = false, .fd = -1};
    fake_cli_init(fx, FAKE_NORMAL);
    struct artifact_data d;
    CHECK_EQ_INT(artifact_fetch(&cli, 31, "boundary.csv", &d), CLI_OK);
    char path[600];
    snprintf(path, sizeof path, "%s/boundary.csv", fx);
    char *want = slurp(path);
    CHECK(want && d.data && d.len == strlen(want) && memcmp(d.data, want, d.len) == 0);
    free(want);
    free(d.data);
    CHECK_EQ_INT(artifact_fetch(&cli, 31, "nothing.csv", &d), CLI_FAILED);
    CHECK(d.data == NULL && d.len == 0);

    struct artifact_data b = {0};
    CHECK_EQ_INT(artifact_b64_append("aGVsbG8=", 8, &b), 0);
    CHECK_EQ_INT(artifact_b64_append("IHdvcmxk", 8, &b), 0);
    CHECK(b.len == 11 && memcmp(b.data, "hello world", 11) == 0);
    CHECK_EQ_INT(artifact_b64_append("a$==", 4, &b), -1);
    free(b.data);
}

/* plot__curves of fixture files best and curves in dir (sub may be ""), into a string. */
static char *curves_svg(const char *sub, void (*edit)(cJSON *curves))
{
    char b[600], c[600];
    snprintf(b, sizeof b, "%s%sbest.json", sub, sub[0] ? "/" : "");
    snprintf(c, sizeof c, "%s%scurves.json", sub, sub[0] ? "/" : "");
    cJSON *best = fixture_load(fx, b), *curves = fixture_load(fx, c);
    char *buf = NULL, why[512] = "";
    size_t len = 0;
    FILE *m = open_memstream(&buf, &len);
    CHECK(best && curves && m);
    if (best && curves && m) {
        if (edit)
            edit(curves);
        CHECK_EQ_INT(plot__curves(m, best, curves, 5, why, sizeof why), CLI_OK);
    }
    if (m)
        fclose(m);
    cJSON_Delete(best);
    cJSON_Delete(curves);
    return buf;
}

/* What mlpd sends for trials without "curve_test": the test columns, all null. */
static void add_null_tests(cJSON *curves)
{
    cJSON *r;
    cJSON_ArrayForEach(r, cJSON_GetObjectItemCaseSensitive(curves, "rows"))
    {
        cJSON_AddNullToObject(r, "test_loss");
        cJSON_AddNullToObject(r, "test_accuracy");
        cJSON_AddNullToObject(r, "test_mse");
    }
}

/* Test curves: drawn when the rows carry test values, and nothing changes when they do not. */
static void test_curves_test(void)
{
    char *plain = curves_svg("", NULL), *nulls = curves_svg("", add_null_tests);
    CHECK(plain && nulls && strcmp(plain, nulls) == 0);
    CHECK(plain && count(plain, "stroke-dasharray=\"2 3\"") == 0 && !strstr(plain, "test"));
    char *t = curves_svg("fashion-lc", NULL);
    CHECK(t != NULL);
    if (t) {
        /* five configurations: a dotted test line each, plus the legend's sample */
        CHECK_EQ_INT(count(t, "stroke-dasharray=\"2 3\""), 5 + 1);
        CHECK_EQ_INT(count(t, "stroke-dasharray=\"6 4\""), 5 + 1);
        CHECK(strstr(t, "dotted: test") && strstr(t, ">test</text>"));
        CHECK(strstr(t, ", test_accuracy 0.") != NULL); /* in the points' tooltips */
    }
    free(plain);
    free(nulls);
    free(t);
}

/* mlpctl report on a sweep that varies train_size and recorded confusion and test curves. */
static void test_report9(void)
{
    char out[600];
    snprintf(out, sizeof out, "%s/report.html", tmpdir);
    char *argv[] = {"report", "fashion-lc", "--out", out, NULL};
    struct cli cli = {.socket_path = "/nonexistent.sock", .json = false, .fd = -1};
    fake_cli_init(fx, FAKE_NORMAL);
    CHECK_EQ_INT(cmd_report(&cli, 4, argv), CLI_OK);
    /* show, best, results+curves, results+trials, results, show+confusion, show by x 2 */
    CHECK_EQ_INT(fake_cli_requests(), 8);
    CHECK(xml_ok(out));
    char *t = slurp(out);
    CHECK(t != NULL);
    if (!t)
        return;
    /* ranking, importance, parallel, heat map, curves, gap, learning, confusion,
       by train_size, by hidden */
    CHECK_EQ_INT(count(t, "<svg "), 10);
    CHECK(strstr(t, "Not drawn") == NULL);
    CHECK(strstr(t, "Confusion matrix of the best configuration (#1, config 10)") != NULL);
    CHECK(strstr(t, "<h2>Heat map of train_size and hidden</h2>") != NULL);
    /* the confusion matrix's 10 x 10 cells and the heat map's 5 train sizes x 2 shapes */
    CHECK_EQ_INT(count(t, "class=\"cell\""), 110);
    CHECK(strstr(t, "Learning curve against train_size") && strstr(t, "log scale"));
    CHECK(strstr(t, "dotted: test") != NULL);
    CHECK(strstr(t, "<script") == NULL);
    free(t);

    /* A daemon that answers not_found for everything: the report fails, no file. */
    unlink(out);
    fake_cli_init(fx, FAKE_NOT_FOUND);
    CHECK_EQ_INT(cmd_report(&cli, 4, argv), CLI_FAILED);
    CHECK(access(out, F_OK) != 0);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s FIXTURE_DIR\n", argv[0]);
        return 2;
    }
    fx = argv[1];
    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        return 1;
    }
    test_confusion();
    test_learning();
    test_boundary();
    test_curves_test();
    test_report9();
    int rc = check_report();
    if (rc == 0) {
        char cmd[600];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
        if (system(cmd) != 0)
            fprintf(stderr, "could not remove %s\n", tmpdir);
    } else
        fprintf(stderr, "outputs kept in %s\n", tmpdir);
    return rc;
}
