/*
 * test_csv — CSV datasets: values, label column, header, label mapping,
 * regression targets, and the errors (empty file, ragged rows, non-numeric
 * fields, column mismatch between train and test, non-integer class labels),
 * each naming file:line[:column].
 */
#include <stdlib.h>

#include "../check.h"
#include "fixture.h"

static char dir[1024];

static void set_spec(struct ds_spec *s, int label_col, bool header, enum ds_task task)
{
    char p[DS_PATH_MAX];
    memset(s, 0, sizeof *s);
    s->kind = DS_CSV;
    strcpy(s->name, "csv");
    snprintf(s->train, DS_PATH_MAX, "%s", fx_join(p, dir, "train.csv"));
    snprintf(s->test, DS_PATH_MAX, "%s", fx_join(p, dir, "test.csv"));
    s->label_col = label_col;
    s->header = header;
    s->task = task;
}

static void files(const char *train, const char *test)
{
    char p[DS_PATH_MAX];
    CHECK_EQ_INT(fx_write_str(fx_join(p, dir, "train.csv"), train), 0);
    CHECK_EQ_INT(fx_write_str(fx_join(p, dir, "test.csv"), test), 0);
}

/* Load must fail with a message containing needle (dataset_check too when check_too). */
static void expect_fail(const struct ds_spec *s, const char *needle, bool check_too)
{
    struct err e = ERR_INIT;
    struct dataset *ds = data_load(s, NULL, 0, &e);
    CHECK(ds == NULL);
    data_free(ds);
    CHECK_EQ_INT(e.code, MLP_EINVALID_DATASET);
    if (getenv("MLP_TEST_VERBOSE"))
        fprintf(stderr, "error (as expected): %s: %s\n", e.path, e.msg);
    if (!strstr(e.msg, needle))
        fprintf(stderr, "load: message \"%s\" lacks \"%s\"\n", e.msg, needle);
    CHECK(strstr(e.msg, needle) != NULL);
    if (check_too) {
        err_clear(&e);
        CHECK_EQ_INT(dataset_check(s, NULL, NULL, &e), MLP_EINVALID_DATASET);
        CHECK(strstr(e.msg, needle) != NULL);
    }
}

int main(void)
{
    struct ds_spec s;
    struct err e = ERR_INIT;
    struct dataset *ds;
    fx_tmpdir(dir, sizeof dir);

    /* Label last, blank lines and spaces tolerated, CRLF line ends. */
    files("1.5, 2, 0\n-3,4e1,1\r\n\n0.25,0,2\n", "7,8,1\n9,10,0\n");
    set_spec(&s, -1, false, DS_CLASSIFICATION);
    CHECK_EQ_INT(dataset_check(&s, NULL, NULL, &e), 0);
    ds = data_load(&s, NULL, 0, &e);
    CHECK(ds != NULL);
    if (ds) {
        struct data_view tr = data_train(ds), te = data_test(ds);
        CHECK_EQ_INT(tr.n, 3);
        CHECK_EQ_INT(tr.d, 2);
        CHECK_EQ_INT(te.n, 2);
        CHECK_EQ_INT(data_classes(ds), 3);
        CHECK_NEAR(tr.x[0], 1.5, 0);
        CHECK_NEAR(tr.x[1], 2, 0);
        CHECK_NEAR(tr.x[2], -3, 0);
        CHECK_NEAR(tr.x[3], 40, 0);
        CHECK_NEAR(tr.x[4], 0.25, 0);
        CHECK_NEAR(tr.y[0], 0, 0);
        CHECK_NEAR(tr.y[1], 1, 0);
        CHECK_NEAR(tr.y[2], 2, 0);
        CHECK_NEAR(te.x[2], 9, 0);
        CHECK_NEAR(te.y[0], 1, 0);
    }
    data_free(ds);

    /* Label in column 0, a header, labels {-1, 1} mapped to {0, 1} in sorted order. */
    files("y,a,b\n1,0.5,0.25\n-1,1,2\n1,3,4\n", "y,a,b\n-1,5,6\n");
    set_spec(&s, 0, true, DS_CLASSIFICATION);
    ds = data_load(&s, NULL, 0, &e);
    CHECK(ds != NULL);
    if (ds) {
        struct data_view tr = data_train(ds), te = data_test(ds);
        CHECK_EQ_INT(tr.n, 3);
        CHECK_EQ_INT(tr.d, 2);
        CHECK_EQ_INT(data_classes(ds), 2);
        CHECK_NEAR(tr.x[0], 0.5, 0);
        CHECK_NEAR(tr.x[1], 0.25, 0);
        CHECK_NEAR(tr.y[0], 1, 0);
        CHECK_NEAR(tr.y[1], 0, 0);
        CHECK_NEAR(te.x[0], 5, 0);
        CHECK_NEAR(te.y[0], 0, 0);
    }
    data_free(ds);

    /* Regression keeps real-valued targets; data_classes is 0. */
    files("1,2,0.75\n3,4,-2.5\n", "5,6,100.125\n");
    set_spec(&s, -1, false, DS_REGRESSION);
    ds = data_load(&s, NULL, 0, &e);
    CHECK(ds != NULL);
    if (ds) {
        CHECK_EQ_INT(data_classes(ds), 0);
        CHECK_NEAR(data_train(ds).y[0], 0.75, 0);
        CHECK_NEAR(data_train(ds).y[1], -2.5, 0);
        CHECK_NEAR(data_test(ds).y[0], 100.125, 0);
    }
    data_free(ds);

    /* Errors. */
    set_spec(&s, -1, false, DS_CLASSIFICATION);
    files("", "1,2,0\n");
    expect_fail(&s, "train.csv: no data rows (empty file)", true);
    set_spec(&s, -1, true, DS_CLASSIFICATION);
    files("a,b,y\n", "1,2,0\n");
    expect_fail(&s, "no data rows after the header", true);
    set_spec(&s, -1, false, DS_CLASSIFICATION);
    files("1,2,0\n3,4,1\n5,6\n", "1,2,0\n");
    expect_fail(&s, "train.csv:3: expected 3 fields, got 2", true);
    files("1,2,0\n3,4,1,9\n", "1,2,0\n");
    expect_fail(&s, "train.csv:2: expected 3 fields, got 4", true);
    files("1,2,0\n3,abc,1\n", "1,2,0\n");
    expect_fail(&s, "train.csv:2:2: not a number: \"abc\"", true);
    files("1,2,0\n3,,1\n", "1,2,0\n");
    expect_fail(&s, "train.csv:2:2: not a number: \"\"", true);
    files("1,2,0\n3,nan,1\n", "1,2,0\n");
    expect_fail(&s, "train.csv:2:2: not a number: \"nan\"", true);
    files("1,2,0\n3,4,1\n", "1,2,3,0\n");
    expect_fail(&s, "test.csv has 4 columns but train.csv has 3", true);
    files("1,2,0.5\n3,4,1\n", "1,2,0\n");
    expect_fail(&s, "train.csv:1:3: class label must be an integer, got 0.5", true);
    files("1,2,0\n3,4,0\n", "1,2,0\n");
    expect_fail(&s, "at least two classes", false);
    files("1\n2\n", "1\n");
    expect_fail(&s, "train.csv:1: only one field", true);
    set_spec(&s, 5, false, DS_CLASSIFICATION);
    files("1,2,0\n3,4,1\n", "1,2,0\n");
    expect_fail(&s, "label column 5 does not exist", true);
    set_spec(&s, -1, false, DS_CLASSIFICATION);
    snprintf(s.test, DS_PATH_MAX, "%s/missing.csv", dir);
    expect_fail(&s, "missing.csv: no such file", true);

    fx_rmtree(dir);
    return check_report();
}
