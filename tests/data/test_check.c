/*
 * test_check — the submit-time checks (issue 11): dataset_check() on a CSV
 * whose bad cell lies far past the first rows (file:line:column), a directory
 * given as a file, the row counts it reports, dataset_split() (the one rule
 * for train_size and val_fraction, shared with the worker), and
 * dataset_check_grid() as the daemon calls it.  Also the catalogue lookups
 * everything else reads names and files from.
 */
#include <cjson/cJSON.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "../check.h"
#include "fixture.h"
#include "grid.h"

static char dir[1024];

static void csv_spec(struct ds_spec *s, const char *train, const char *test)
{
    char p[DS_PATH_MAX];
    memset(s, 0, sizeof *s);
    s->kind = DS_CSV;
    strcpy(s->name, "csv");
    snprintf(s->train, DS_PATH_MAX, "%s", fx_join(p, dir, train));
    snprintf(s->test, DS_PATH_MAX, "%s", fx_join(p, dir, test));
    s->label_col = -1;
    s->task = DS_CLASSIFICATION;
}

/* n rows "i,i+1,i%2"; row `bad` (1-based) gets "oops" in column 2 when bad > 0. */
static void write_csv(const char *name, int n, int bad)
{
    char p[DS_PATH_MAX];
    size_t cap = (size_t)n * 32 + 1, used = 0;
    char *txt = malloc(cap);
    CHECK(txt != NULL);
    for (int i = 1; i <= n; i++) {
        if (i == bad)
            used += (size_t)snprintf(txt + used, cap - used, "%d,oops,%d\n", i, i % 2);
        else
            used += (size_t)snprintf(txt + used, cap - used, "%d,%d,%d\n", i, i + 1, i % 2);
    }
    CHECK_EQ_INT(fx_write_str(fx_join(p, dir, name), txt), 0);
    free(txt);
}

static void expect_msg(const struct err *e, const char *needle)
{
    if (!strstr(e->msg, needle))
        fprintf(stderr, "message \"%s\" lacks \"%s\"\n", e->msg, needle);
    CHECK(strstr(e->msg, needle) != NULL);
}

static void test_csv_cells(void)
{
    struct ds_spec s;
    struct dataset_info info = {0, 0, 0, 0};
    struct err e = ERR_INIT;
    write_csv("good.csv", 300, 0);
    write_csv("test.csv", 40, 0);
    csv_spec(&s, "good.csv", "test.csv");
    CHECK_EQ_INT(dataset_check(&s, NULL, &info, &e), 0);
    CHECK_EQ_INT(info.n_train, 300);
    CHECK_EQ_INT(info.n_test, 40);

    /* A bad cell on line 250, far past any sample of the first rows. */
    write_csv("late.csv", 300, 250);
    csv_spec(&s, "late.csv", "test.csv");
    CHECK_EQ_INT(dataset_check(&s, NULL, &info, &e), MLP_EINVALID_DATASET);
    expect_msg(&e, "late.csv:250:2: not a number: \"oops\"");
    /* ... and in the test file too. */
    err_clear(&e);
    write_csv("late_test.csv", 40, 33);
    csv_spec(&s, "good.csv", "late_test.csv");
    CHECK_EQ_INT(dataset_check(&s, NULL, NULL, &e), MLP_EINVALID_DATASET);
    expect_msg(&e, "late_test.csv:33:2: not a number");
}

static void test_directory(void)
{
    struct ds_spec s;
    struct err e = ERR_INIT;
    char p[DS_PATH_MAX];
    CHECK_EQ_INT(mkdir(fx_join(p, dir, "folder"), 0700), 0);
    csv_spec(&s, "folder", "test.csv");
    CHECK_EQ_INT(dataset_check(&s, NULL, NULL, &e), MLP_EINVALID_DATASET);
    expect_msg(&e, "folder: is a directory");
    CHECK(strstr(e.path, "folder") != NULL);

    /* The same for IDX files. */
    err_clear(&e);
    memset(&s, 0, sizeof s);
    s.kind = DS_IDX;
    strcpy(s.name, "idx");
    snprintf(s.train_images, DS_PATH_MAX, "%s", p);
    snprintf(s.train_labels, DS_PATH_MAX, "%s", p);
    snprintf(s.test_images, DS_PATH_MAX, "%s", p);
    snprintf(s.test_labels, DS_PATH_MAX, "%s", p);
    CHECK_EQ_INT(dataset_check(&s, NULL, NULL, &e), MLP_EINVALID_DATASET);
    expect_msg(&e, "is a directory");
}

static void test_split(void)
{
    struct err e = ERR_INIT;
    int64_t nv = -1, nt = -1;
    /* 1000 rows, val_fraction 0.1: 100 validation, 900 training. */
    CHECK_EQ_INT(dataset_split(1000, 0.1, 0, &nv, &nt, &e), 0);
    CHECK_EQ_INT(nv, 100);
    CHECK_EQ_INT(nt, 900);
    CHECK_EQ_INT(dataset_split(1000, 0.1, 900, &nv, &nt, &e), 0);
    CHECK_EQ_INT(nt, 900);
    CHECK_EQ_INT(dataset_split(1000, 0.1, 901, &nv, &nt, &e), MLP_EINVALID_SPEC);
    CHECK_EQ_STR(e.path, "params.train_size");
    expect_msg(&e, "train_size 901 is larger than the training split (900 rows after holding "
                   "out 100 for validation)");
    /* At least one validation row, and at least one training row. */
    err_clear(&e);
    CHECK_EQ_INT(dataset_split(10, 0.01, 0, &nv, &nt, &e), 0);
    CHECK_EQ_INT(nv, 1);
    CHECK_EQ_INT(dataset_split(2, 0.9, 0, &nv, &nt, &e), MLP_EINVALID_SPEC);
    CHECK_EQ_STR(e.path, "params.val_fraction");
}

static int check_grid(const char *text, struct err *e)
{
    cJSON *doc = cJSON_Parse(text);
    struct grid_opts o = {.base_dir = dir};
    struct grid *g = NULL;
    int rc;
    CHECK(doc != NULL);
    if ((rc = grid_parse(doc, &o, &g, e)) == 0)
        rc = dataset_check_grid(g, NULL, NULL, e);
    grid_free(g);
    cJSON_Delete(doc);
    return rc;
}

static void test_grid(void)
{
    struct err e = ERR_INIT;
    /* good.csv has 300 rows: 270 training rows at val_fraction 0.1, 150 at 0.5. */
    CHECK_EQ_INT(check_grid("{\"dataset\": {\"format\": \"csv\", \"train\": \"good.csv\", "
                            "\"test\": \"test.csv\"}, \"grid\": {\"train_size\": [100, 270]}}",
                            &e),
                 0);
    CHECK_EQ_INT(check_grid("{\"dataset\": {\"format\": \"csv\", \"train\": \"good.csv\", "
                            "\"test\": \"test.csv\"}, \"grid\": {\"train_size\": [100, 200], "
                            "\"val_fraction\": [0.1, 0.5]}}",
                            &e),
                 MLP_EINVALID_SPEC);
    expect_msg(&e, "train_size 200 is larger than the training split (150 rows");
    expect_msg(&e, "(configuration 4 of 4)");
    /* A dataset error comes first and is named "dataset" or by its file. */
    err_clear(&e);
    CHECK_EQ_INT(check_grid("{\"dataset\": {\"format\": \"csv\", \"train\": \"late.csv\", "
                            "\"test\": \"test.csv\"}, \"grid\": {\"lr\": [0.1]}}",
                            &e),
                 MLP_EINVALID_DATASET);
    expect_msg(&e, "late.csv:250:2");
    /* Synthetic sets: n rows. */
    err_clear(&e);
    CHECK_EQ_INT(check_grid("{\"dataset\": {\"name\": \"xor\", \"n\": 100}, \"grid\": "
                            "{\"train_size\": [91]}}",
                            &e),
                 MLP_EINVALID_SPEC);
    expect_msg(&e, "(90 rows after holding out 10");
}

static void test_catalogue(void)
{
    const struct ds_entry *c = ds_catalogue_find("cifar10");
    CHECK(c != NULL);
    CHECK_EQ_INT(c->format, DS_FMT_CIFAR);
    CHECK_EQ_INT(c->fetch, DS_FETCH_BY_HAND);
    CHECK_EQ_STR(c->files[DS_CIFAR_BATCHES], "test_batch.bin");
    CHECK(ds_catalogue_find("nosuch") == NULL);
    int n = 0, images = 0;
    for (const struct ds_entry *p = ds_catalogue; p->name; p++, n++)
        images += p->family == DS_FAMILY_IMAGE;
    CHECK_EQ_INT(n, 7);
    CHECK_EQ_INT(images, 3);
    /* Every name the catalogue lists parses as a dataset, with its family. */
    for (const struct ds_entry *p = ds_catalogue; p->name; p++) {
        struct ds_spec s;
        struct err e = ERR_INIT;
        cJSON *j = cJSON_CreateString(p->name);
        CHECK_EQ_INT(ds_spec_parse(&s, j, "dataset", NULL, &e), 0);
        CHECK_EQ_INT(ds_spec_family(&s), p->family);
        cJSON_Delete(j);
    }
}

int main(void)
{
    fx_tmpdir(dir, sizeof dir);
    test_csv_cells();
    test_directory();
    test_split();
    test_grid();
    test_catalogue();
    fx_rmtree(dir);
    return check_report();
}
