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
