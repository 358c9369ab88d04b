/*
 * test_render — every plot kind and the HTML report from fixture responses
 * (tests/plot/fixtures, written by make_fixtures.py in the shapes of
 * daemon/PROTOCOL.md): the output is well-formed XML (xmllint --noout),
 * carries the title, one error bar per configuration (or per value), the
 * legend, escaped labels; the edge cases (one configuration, n = 1, NaN
 * means, an empty sweep) behave as documented; and the verbs write their
 * file atomically, refuse bad usage with exit 2 and leave no file when
 * there is nothing to plot.
 *
 * Usage: test_plot_render FIXTURE_DIR
 */
#include <dirent.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../check.h"
#include "cli/plot.h"
#include "fake_cli.h"

static const char *fx;
static char tmpdir[] = "/tmp/test_plot_XXXXXX";

/* Whole file as a string (caller frees), NULL if absent. */
static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    rewind(f);
    char *b = malloc((size_t)n + 1);
    size_t got = fread(b, 1, (size_t)n, f);
    b[got] = '\0';
    fclose(f);
    return b;
}

static int count(const char *hay, const char *needle)
{
    int n = 0;
    size_t len = strlen(needle);
    for (const char *p = hay; p && (p = strstr(p, needle)); p += len)
        n++;
    return n;
}

static bool xml_ok(const char *path)
{
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "xmllint --noout '%s'", path);
    return system(cmd) == 0;
}

typedef int (*render1)(FILE *out, const cJSON *resp);

/* Render into tmpdir/name; returns the renderer's code and the text in *text. */
static int render_to(const char *name, int kind, const cJSON *a, const cJSON *b, int top,
                     char **text, char *path, size_t pathlen)
{
    snprintf(path, pathlen, "%s/%s", tmpdir, name);
    FILE *f = fopen(path, "w");
    int rc;
    switch (kind) {
    case 0:
        rc = plot_ranking(f, a);
        break;
    case 1:
        rc = plot_curves(f, a, b, top);
        break;
    case 2:
        rc = plot_gap(f, a);
        break;
    default:
        rc = plot_by(f, a);
        break;
    }
    fclose(f);
    *text = slurp(path);
    return rc;
}

/* Number of entries in a configs/values list. */
static int nconfigs(const cJSON *resp)
{
    return cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(resp, "configs"));
}

static void test_kinds(void)
{
    cJSON *best = fixture_load(fx, "best.json"), *show = fixture_load(fx, "show.json");
    cJSON *curves = fixture_load(fx, "curves.json");
    cJSON *bylr = fixture_load(fx, "show_by_lr.json"),
          *byh = fixture_load(fx, "show_by_hidden.json");
    CHECK(best && show && curves && bylr && byh);
    char *t, path[512];
    int n = nconfigs(best);
    CHECK_EQ_INT(n, 6);

    /* (a) ranking: one SE bar and one CI bar per configuration, best first. */
    CHECK_EQ_INT(render_to("ranking.svg", 0, best, NULL, 0, &t, path, sizeof path), CLI_OK);
    CHECK(xml_ok(path));
    CHECK(strstr(t, "Sweep fashion-reg") != NULL);
    CHECK(strstr(t, "val_accuracy") != NULL);
    CHECK_EQ_INT(count(t, "class=\"errbar\""), n);
    CHECK_EQ_INT(count(t, "class=\"ci\""), n);
    CHECK(strstr(t, "not significantly better") != NULL);
    /* The first row is rank 1 (config 5 in the fixture). */
    const char *r1 = strstr(t, "#1 hidden=[256,128] lr=0.03"), *r2 = strstr(t, "#2 ");
    CHECK(r1 && r2 && r1 < r2);
    free(t);

    /* (b) curves: top 6 shows every configuration; config 2 lost two seeds after epoch 8. */
    CHECK_EQ_INT(render_to("curves.svg", 1, best, curves, 6, &t, path, sizeof path), CLI_OK);
    CHECK(xml_ok(path));
    CHECK(strstr(t, "learning curves") != NULL);
    CHECK_EQ_INT(count(t, "class=\"series\""), 6);
    CHECK_EQ_INT(count(t, "class=\"band\""), 12); /* validation and training per config */
    CHECK(strstr(t, "fewer from epoch 9 (early stopping)") != NULL);
    CHECK(strstr(t, "epoch 9: val_accuracy") != NULL);
    CHECK(strstr(t, "(n=3)") != NULL);
    CHECK(strstr(t, "stroke-dasharray=\"6 4\"") != NULL); /* training dashed */
    CHECK(strstr(t, ">validation<") && strstr(t, ">training<"));
    free(t);
    /* Default top is 5, and the note says how many are hidden. */
    CHECK_EQ_INT(render_to("curves5.svg", 1, best, curves, 0, &t, path, sizeof path), CLI_OK);
    CHECK_EQ_INT(count(t, "class=\"series\""), 5);
    CHECK(strstr(t, "Top 5 of 6 configurations") != NULL);
    free(t);

    /* (c) gap: train and validation bars for each configuration, a legend of two. */
    CHECK_EQ_INT(render_to("gap.svg", 2, show, NULL, 0, &t, path, sizeof path), CLI_OK);
    CHECK(xml_ok(path));
    CHECK(strstr(t, "train vs validation accuracy") != NULL);
    CHECK_EQ_INT(count(t, "class=\"errbar\""), 2 * n);
    CHECK(strstr(t, ">train_accuracy<") && strstr(t, ">val_accuracy<"));
    free(t);

    /* (d) by lr: numeric over two decades, so log-scaled; one bar per value. */
    CHECK_EQ_INT(render_to("by_lr.svg", 3, bylr, NULL, 0, &t, path, sizeof path), CLI_OK);
    CHECK(xml_ok(path));
    CHECK(strstr(t, "val_accuracy by lr") != NULL);
    CHECK(strstr(t, "(log scale)") != NULL);
    CHECK_EQ_INT(count(t, "class=\"errbar\""), 3);
    CHECK(strstr(t, ">0.01<") != NULL); /* a decade tick */
    CHECK(strstr(t, ">n=10<") != NULL);
    free(t);
    /* by hidden: categorical (lists). */
    CHECK_EQ_INT(render_to("by_hidden.svg", 3, byh, NULL, 0, &t, path, sizeof path), CLI_OK);
    CHECK(xml_ok(path));
    CHECK(strstr(t, "(log scale)") == NULL);
    CHECK_EQ_INT(count(t, "class=\"errbar\""), 2);
    CHECK(strstr(t, ">[256,128]<") != NULL);
    free(t);
    /* A show response without "by" is refused, writing nothing. */
    CHECK_EQ_INT(render_to("by_none.svg", 3, show, NULL, 0, &t, path, sizeof path), CLI_FAILED);
    CHECK_EQ_INT(strlen(t), 0);
    free(t);

    cJSON_Delete(best);
    cJSON_Delete(show);
    cJSON_Delete(curves);
    cJSON_Delete(bylr);
    cJSON_Delete(byh);
}

/* Labels with XML specials, a control character and a bad byte stay well-formed and escaped. */
static void test_escaping(void)
{
    cJSON *best = fixture_load(fx, "best.json");
    cJSON *grid = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(
            cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(best, "configs"), 0), "config"),
        "grid");
    cJSON_AddStringToObject(grid, "activation", "a&b<\"c'>\x01\xff");
    cJSON *sw = cJSON_GetObjectItemCaseSensitive(best, "sweep");
    cJSON_ReplaceItemInObjectCaseSensitive(sw, "name", cJSON_CreateString("x<y> & \"z\""));
    char *t, path[512];
    CHECK_EQ_INT(render_to("escape.svg", 0, best, NULL, 0, &t, path, sizeof path), CLI_OK);
    CHECK(xml_ok(path));
    CHECK(strstr(t, "activation=a&amp;b&lt;&quot;c&#39;&gt;\xEF\xBF\xBD") != NULL);
    CHECK(strstr(t, "Sweep x&lt;y&gt; &amp; &quot;z&quot;") != NULL);
    free(t);
    cJSON_Delete(best);
}

/* Keep only the first configuration, with one seed; the curve rows of its seed 1. */
static void test_single(void)
{
    cJSON *best = fixture_load(fx, "best.json"), *show = fixture_load(fx, "show.json");
    cJSON *curves = fixture_load(fx, "curves.json"), *bylr = fixture_load(fx, "show_by_lr.json");
    cJSON *docs[3] = {best, show, NULL};
    for (int d = 0; d < 2; d++) {
        cJSON *configs = cJSON_GetObjectItemCaseSensitive(docs[d], "configs");
        while (cJSON_GetArraySize(configs) > 1)
            cJSON_DeleteItemFromArray(configs, 1);
        cJSON *c = cJSON_GetArrayItem(configs, 0);
        const char *stats[] = {"stat", "train", "test"};
        for (int s = 0; s < 3; s++) {
            cJSON *st = cJSON_GetObjectItemCaseSensitive(c, stats[s]);
            if (!st)
                continue;
            cJSON_ReplaceItemInObjectCaseSensitive(st, "n", cJSON_CreateNumber(1));
            const char *nulls[] = {"sd", "se", "ci_low", "ci_high"};
            for (int k = 0; k < 4; k++)
                cJSON_ReplaceItemInObjectCaseSensitive(st, nulls[k], cJSON_CreateNull());
        }
    }
    cJSON_ReplaceItemInObjectCaseSensitive(best, "comparison", cJSON_CreateNull());
    int id =
        (int)cJSON_GetObjectItemCaseSensitive(
            cJSON_GetObjectItemCaseSensitive(
                cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(best, "configs"), 0), "config"),
            "id")
            ->valuedouble;
    cJSON *rows = cJSON_GetObjectItemCaseSensitive(curves, "rows");
    for (int i = cJSON_GetArraySize(rows) - 1; i >= 0; i--) {
        cJSON *r = cJSON_GetArrayItem(rows, i);
        if (cJSON_GetObjectItemCaseSensitive(r, "config")->valuedouble != id ||
            cJSON_GetObjectItemCaseSensitive(r, "seed")->valuedouble != 1)
            cJSON_DeleteItemFromArray(rows, i);
    }
    cJSON *values =
        cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(bylr, "by"), "values");
    while (cJSON_GetArraySize(values) > 1)
        cJSON_DeleteItemFromArray(values, 1);
    cJSON *st = cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(values, 0), "stat");
    cJSON_ReplaceItemInObjectCaseSensitive(st, "n", cJSON_CreateNumber(1));
    cJSON_ReplaceItemInObjectCaseSensitive(st, "se", cJSON_CreateNull());

    char *t, path[512];
    CHECK_EQ_INT(render_to("one_ranking.svg", 0, best, NULL, 0, &t, path, sizeof path), CLI_OK);
    CHECK(xml_ok(path));
    CHECK_EQ_INT(count(t, "class=\"errbar\""), 0);
    CHECK_EQ_INT(count(t, "class=\"ci\""), 0);
    CHECK(strstr(t, "(n=1)") != NULL);
    free(t);
    CHECK_EQ_INT(render_to("one_curves.svg", 1, best, curves, 5, &t, path, sizeof path), CLI_OK);
    CHECK(xml_ok(path));
    CHECK_EQ_INT(count(t, "class=\"band\""), 0);
    CHECK(strstr(t, "n=1 seed<") != NULL);
    free(t);
    CHECK_EQ_INT(render_to("one_gap.svg", 2, show, NULL, 0, &t, path, sizeof path), CLI_OK);
    CHECK(xml_ok(path));
    CHECK_EQ_INT(count(t, "class=\"errbar\""), 0);
    CHECK(strstr(t, "(n=1)") != NULL);
    free(t);
    CHECK_EQ_INT(render_to("one_by.svg", 3, bylr, NULL, 0, &t, path, sizeof path), CLI_OK);
    CHECK(xml_ok(path));
    CHECK_EQ_INT(count(t, "class=\"errbar\""), 0);
    CHECK(strstr(t, ">n=1<") != NULL);
    CHECK(strstr(t, "(log scale)") == NULL); /* one value spans no decade */
    free(t);
    cJSON_Delete(best);
    cJSON_Delete(show);
    cJSON_Delete(curves);
    cJSON_Delete(bylr);
}

/* NaN (null) means are skipped and noted; an all-NaN or empty sweep draws nothing. */
static void test_nan_and_empty(void)
{
    cJSON *best = fixture_load(fx, "best.json"), *curves = fixture_load(fx, "curves.json");
    cJSON *configs = cJSON_GetObjectItemCaseSensitive(best, "configs");
    cJSON_ReplaceItemInObjectCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(configs, 2), "stat"), "mean",
        cJSON_CreateNull());
    /* One diverged epoch of the best configuration. */
    double best_id =
        cJSON_GetObjectItemCaseSensitive(
            cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(configs, 0), "config"), "id")
            ->valuedouble;
    cJSON *r0;
    cJSON_ArrayForEach(
        r0, cJSON_GetObjectItemCaseSensitive(
                curves, "rows")) if (cJSON_GetObjectItemCaseSensitive(r0, "config")->valuedouble ==
                                     best_id) break;
    CHECK(r0 != NULL);
    cJSON_ReplaceItemInObjectCaseSensitive(r0, "val_accuracy", cJSON_CreateNull());
    char *t, path[512];
    CHECK_EQ_INT(render_to("nan_ranking.svg", 0, best, NULL, 0, &t, path, sizeof path), CLI_OK);
    CHECK(xml_ok(path));
    CHECK_EQ_INT(count(t, "class=\"errbar\""), 5);
    CHECK(strstr(t, "1 configuration(s) not shown: no finite val_accuracy") != NULL);
    CHECK(strstr(t, "NaN") == NULL && strstr(t, "nan") == NULL);
    free(t);
    CHECK_EQ_INT(render_to("nan_curves.svg", 1, best, curves, 8, &t, path, sizeof path), CLI_OK);
    CHECK(xml_ok(path));
    CHECK(strstr(t, "1 non-finite val_accuracy value(s) skipped") != NULL);
    CHECK(strstr(t, "NaN") == NULL && strstr(t, "nan") == NULL);
    free(t);

    /* Every mean NaN: nothing to plot, nothing written. */
    cJSON *c;
    cJSON_ArrayForEach(c, configs) cJSON_ReplaceItemInObjectCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(c, "stat"), "mean", cJSON_CreateNull());
    CHECK_EQ_INT(render_to("allnan.svg", 0, best, NULL, 0, &t, path, sizeof path), CLI_FAILED);
    CHECK_EQ_INT(strlen(t), 0);
    free(t);
    /* Empty. */
    cJSON_ReplaceItemInObjectCaseSensitive(best, "configs", cJSON_CreateArray());
    for (int k = 0; k < 3; k++) {
        CHECK_EQ_INT(render_to("empty.svg", k, best, curves, 5, &t, path, sizeof path), CLI_FAILED);
        CHECK_EQ_INT(strlen(t), 0);
        free(t);
    }
    /* Curves with no rows for the ranked configurations. */
    cJSON_Delete(best);
    best = fixture_load(fx, "best.json");
    cJSON_ReplaceItemInObjectCaseSensitive(curves, "rows", cJSON_CreateArray());
    CHECK_EQ_INT(render_to("norows.svg", 1, best, curves, 5, &t, path, sizeof path), CLI_FAILED);
    CHECK_EQ_INT(strlen(t), 0);
    free(t);
    cJSON_Delete(best);
    cJSON_Delete(curves);
}

/* Files in dir whose name starts with prefix. */
static int files_like(const char *dir, const char *prefix)
{
    DIR *d = opendir(dir);
    int n = 0;
    struct dirent *e;
    while (d && (e = readdir(d)))
        if (strncmp(e->d_name, prefix, strlen(prefix)) == 0)
            n++;
    if (d)
        closedir(d);
    return n;
}

static int run(const char *const *args)
{
    char *argv[16];
    int argc = 0;
    while (args[argc] && argc < 15) {
        argv[argc] = (char *)args[argc];
        argc++;
    }
    argv[argc] = NULL;
    struct cli cli = {.socket_path = "/nonexistent.sock", .json = false, .fd = -1};
    fflush(stdout);
    if (args[0][0] == 'p')
        return cmd_plot(&cli, argc, argv);
    return cmd_report(&cli, argc, argv);
}

static void test_verbs(void)
{
    char out[512], rep[512];
    snprintf(out, sizeof out, "%s/verb.svg", tmpdir);
    snprintf(rep, sizeof rep, "%s/report.html", tmpdir);
    static const char *const kinds[] = {"ranking", "curves", "gap"};
    for (int k = 0; k < 3; k++) {
        fake_cli_init(fx, FAKE_NORMAL);
        unlink(out);
        CHECK_EQ_INT(
            run((const char *[]){"plot", "fashion-reg", "--out", out, "--kind", kinds[k], NULL}),
            CLI_OK);
        CHECK(xml_ok(out));
        CHECK_EQ_INT(fake_cli_requests(), k <= 1 ? 2 : 1); /* ranking: best and show */
    }
    fake_cli_init(fx, FAKE_NORMAL);
    CHECK_EQ_INT(run((const char *[]){"plot", "7", "--key=lr", "--out=", NULL}),
                 CLI_USAGE); /* empty path */
    CHECK_EQ_INT(fake_cli_requests(), 0);
    CHECK_EQ_INT(run((const char *[]){"plot", "7", "--key", "hidden", "--out", out, NULL}), CLI_OK);
    char *t = slurp(out);
    CHECK(t && strstr(t, "val_accuracy by hidden"));
    free(t);
    struct stat st;
    CHECK(stat(out, &st) == 0 && (st.st_mode & 0044) != 0); /* not the 0600 of mkstemp */
    CHECK_EQ_INT(files_like(tmpdir, "verb.svg.tmp"), 0);

    /* Usage errors: exit 2, no request sent. */
    fake_cli_init(fx, FAKE_NORMAL);
    CHECK_EQ_INT(run((const char *[]){"plot", "7", NULL}), CLI_USAGE);
    CHECK_EQ_INT(run((const char *[]){"plot", "--out", out, NULL}), CLI_USAGE);
    CHECK_EQ_INT(run((const char *[]){"plot", "7", "--out", out, "--kind", "pie", NULL}),
                 CLI_USAGE);
    CHECK_EQ_INT(run((const char *[]){"plot", "7", "--out", out, "--kind", "by", NULL}), CLI_USAGE);
    CHECK_EQ_INT(run((const char *[]){"plot", "7", "--out", out, "--top", "0", NULL}), CLI_USAGE);
    CHECK_EQ_INT(run((const char *[]){"plot", "7", "--out", out, "--kind", "gap", "--metric",
                                      "val_loss", NULL}),
                 CLI_USAGE);
    CHECK_EQ_INT(run((const char *[]){"plot", "7", "--out", NULL}), CLI_USAGE);
    CHECK_EQ_INT(run((const char *[]){"plot", "7", "8", "--out", out, NULL}), CLI_USAGE);
    CHECK_EQ_INT(run((const char *[]){"report", "7", NULL}), CLI_USAGE);
    CHECK_EQ_INT(run((const char *[]){"report", "7", "--out", rep, "--bogus", NULL}), CLI_USAGE);
    CHECK_EQ_INT(fake_cli_requests(), 0);

    /* Daemon errors pass through; no file. */
    char none[512];
    snprintf(none, sizeof none, "%s/none.svg", tmpdir);
    fake_cli_init(fx, FAKE_UNREACHABLE);
    CHECK_EQ_INT(run((const char *[]){"plot", "7", "--out", none, NULL}), CLI_UNREACHABLE);
    fake_cli_init(fx, FAKE_NOT_FOUND);
    CHECK_EQ_INT(run((const char *[]){"plot", "nope", "--out", none, NULL}), CLI_FAILED);
    CHECK_EQ_INT(run((const char *[]){"report", "nope", "--out", none, NULL}), CLI_FAILED);
    CHECK(access(none, F_OK) != 0);

    /* Empty sweep: exit 1, a message, no file, an existing file left alone. */
    fake_cli_init(fx, FAKE_EMPTY);
    for (int k = 0; k < 3; k++)
        CHECK_EQ_INT(run((const char *[]){"plot", "7", "--out", none, "--kind", kinds[k], NULL}),
                     CLI_FAILED);
    CHECK_EQ_INT(run((const char *[]){"plot", "7", "--out", none, "--key", "lr", NULL}),
                 CLI_FAILED);
    CHECK_EQ_INT(run((const char *[]){"report", "7", "--out", none, NULL}), CLI_FAILED);
    CHECK(access(none, F_OK) != 0);
    CHECK_EQ_INT(run((const char *[]){"plot", "7", "--out", out, NULL}), CLI_FAILED);
    t = slurp(out);
    CHECK(t && strstr(t, "val_accuracy by hidden")); /* the earlier plot survives */
    free(t);
    CHECK_EQ_INT(files_like(tmpdir, "none.svg"), 0);

    /* A directory that does not exist. */
    fake_cli_init(fx, FAKE_NORMAL);
    CHECK_EQ_INT(run((const char *[]){"plot", "7", "--out", "/nonexistent-dir/x.svg", NULL}),
                 CLI_FAILED);

    /*
     * The report: one well-formed file with the tables and 3 + 2 (by hidden, by lr) plots and
     * the issue-18 three (importance, parallel coordinates, heat map);
     * the sixth request asks for the best configuration's confusion matrix, which this
     * sweep has not recorded (not_found), so its section says why instead of a plot.
     */
    fake_cli_init(fx, FAKE_NORMAL);
    CHECK_EQ_INT(run((const char *[]){"report", "fashion-reg", "--out", rep, NULL}), CLI_OK);
    CHECK_EQ_INT(fake_cli_requests(), 7); /* and the per-trial results */
    CHECK(xml_ok(rep));
    t = slurp(rep);
    CHECK(t != NULL);
    if (t) {
        /* and importance, parallel coordinates and the heat map of the two keys */
        CHECK_EQ_INT(count(t, "<svg "), 8);
        CHECK(strstr(t, "<h2>Importance of each key</h2>") && strstr(t, "Parallel coordinates"));
        CHECK(strstr(t, "<title>mlpsweep report: fashion-reg</title>") != NULL);
        CHECK(strstr(t, "is not significantly better than #2") != NULL);
        CHECK(strstr(t, "Marginal effect of lr") && strstr(t, "Marginal effect of hidden"));
        CHECK(strstr(t, "<script") == NULL && strstr(t, "http://fonts") == NULL);
        /* best table and show table: one row per configuration each, plus headers. */
        CHECK_EQ_INT(count(t, "<td class=\"cfg\" title=\""), 12);
        CHECK(strstr(t, "test_accuracy (mean") != NULL);
        CHECK(strstr(t, "2026-") != NULL); /* created, formatted */
        CHECK(strstr(t, "Confusion matrix of the best configuration (#1, config 5)") != NULL);
        CHECK(strstr(t, "no confusion matrix recorded for configuration 5 (regression, or "
                        "trials from before this version)") != NULL);
        CHECK(strstr(t, "Learning curve against") == NULL); /* train_size does not vary */
    }
    free(t);
    CHECK_EQ_INT(files_like(tmpdir, "report.html.tmp"), 0);
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
    test_kinds();
    test_escaping();
    test_single();
    test_nan_and_empty();
    test_verbs();
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
