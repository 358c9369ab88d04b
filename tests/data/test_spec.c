/*
 * test_spec — ds_spec_parse / ds_spec_to_json on every form of SPEC.md
 * "Datasets" and on the errors a user can make.
 */
#include <cjson/cJSON.h>
#include <stdlib.h>

#include "../check.h"
#include "dataset.h"

/* Parse JSON text; returns the code and leaves *e filled. */
static int parse(struct ds_spec *ds, const char *json, const char *base, struct err *e)
{
    cJSON *v = cJSON_Parse(json);
    if (!v) {
        fprintf(stderr, "bad test JSON: %s\n", json);
        exit(2);
    }
    err_clear(e);
    int rc = ds_spec_parse(ds, v, "dataset", base, e);
    cJSON_Delete(v);
    return rc;
}

/* Expect a failure at `path` whose message contains `needle`. */
static void bad(const char *json, const char *path, const char *needle)
{
    struct ds_spec ds;
    struct err e = ERR_INIT;
    int rc = parse(&ds, json, "/base", &e);
    CHECK_EQ_INT(rc, MLP_EINVALID_DATASET);
    CHECK_EQ_INT(e.code, MLP_EINVALID_DATASET);
    CHECK_EQ_STR(e.path, path);
    if (!strstr(e.msg, needle))
        fprintf(stderr, "for %s: message \"%s\" lacks \"%s\"\n", json, e.msg, needle);
    CHECK(strstr(e.msg, needle) != NULL);
}

/* parse(to_json(parse(json))) gives the same canonical text. */
static void roundtrip(const char *json)
{
    struct ds_spec a, b;
    struct err e = ERR_INIT;
    CHECK_EQ_INT(parse(&a, json, "/base", &e), 0);
    cJSON *j1 = ds_spec_to_json(&a);
    CHECK(j1 != NULL);
    char *t1 = cJSON_PrintUnformatted(j1);
    CHECK_EQ_INT(parse(&b, t1, "/elsewhere", &e), 0);
    cJSON *j2 = ds_spec_to_json(&b);
    char *t2 = cJSON_PrintUnformatted(j2);
    CHECK_EQ_STR(t1, t2);
    free(t1);
    free(t2);
    cJSON_Delete(j1);
    cJSON_Delete(j2);
}

int main(void)
{
    struct ds_spec ds;
    struct err e = ERR_INIT;

    /* Named sets. */
    CHECK_EQ_INT(parse(&ds, "\"fashion-mnist\"", NULL, &e), 0);
    CHECK_EQ_INT(ds.kind, DS_NAMED);
    CHECK_EQ_STR(ds.name, "fashion-mnist");
    CHECK_EQ_INT(parse(&ds, "{\"name\": \"cifar10\"}", NULL, &e), 0);
    CHECK_EQ_INT(ds.kind, DS_NAMED);
    CHECK_EQ_STR(ds.name, "cifar10");
    bad("\"fashion_mnist\"", "dataset", "did you mean \"fashion-mnist\"?");
    bad("\"MNIST\"", "dataset", "did you mean \"mnist\"?");
    bad("\"cifar\"", "dataset", "did you mean \"cifar10\"?");
    bad("\"imagenet\"", "dataset", "expected one of");
    bad("42", "dataset", "got 42");
    bad("{\"name\": \"mnist\", \"n\": 5}", "dataset.n", "unknown key");

    /* Synthetic sets: defaults and explicit values. */
    CHECK_EQ_INT(parse(&ds, "{\"name\": \"circles\"}", NULL, &e), 0);
    CHECK_EQ_INT(ds.kind, DS_SYNTHETIC);
    CHECK_EQ_INT(ds.n, 1000);
    CHECK_NEAR(ds.noise, 0.1, 0);
    CHECK_EQ_INT(parse(&ds, "\"xor\"", NULL, &e), 0);
    CHECK_EQ_INT(ds.kind, DS_SYNTHETIC);
    CHECK_EQ_INT(parse(&ds, "{\"name\": \"spirals\", \"n\": 4, \"noise\": 0}", NULL, &e), 0);
    CHECK_EQ_INT(ds.n, 4);
    CHECK_NEAR(ds.noise, 0, 0);
    bad("{\"name\": \"moons\", \"nosie\": 0.1}", "dataset.nosie", "did you mean \"noise\"?");
    bad("{\"name\": \"moons\", \"noise\": -0.5}", "dataset.noise", "expected a number >= 0");
    bad("{\"name\": \"moons\", \"noise\": \"high\"}", "dataset.noise", "\"high\"");
    bad("{\"name\": \"moons\", \"n\": 3}", "dataset.n", "expected an integer from 4");
    bad("{\"name\": \"moons\", \"n\": 10.5}", "dataset.n", "10.5");
    bad("{\"name\": \"mons\"}", "dataset.name", "did you mean \"moons\"?");
    bad("{\"name\": 3}", "dataset.name", "expected a dataset name");

    /* IDX: every path required, relative paths made absolute. */
    CHECK_EQ_INT(parse(&ds, "{\"format\": \"idx\", \"train_images\": \"a/ti\", "
                            "\"train_labels\": \"./tl\", \"test_images\": \"/abs/si\", "
                            "\"test_labels\": \"sl.gz\"}", "/base/dir", &e), 0);
    CHECK_EQ_INT(ds.kind, DS_IDX);
    CHECK_EQ_STR(ds.train_images, "/base/dir/a/ti");
    CHECK_EQ_STR(ds.train_labels, "/base/dir/tl");
    CHECK_EQ_STR(ds.test_images, "/abs/si");
    CHECK_EQ_STR(ds.test_labels, "/base/dir/sl.gz");
    bad("{\"format\": \"idx\", \"train_images\": \"a\", \"test_images\": \"b\", "
        "\"test_labels\": \"c\"}", "dataset.train_labels", "missing");
    bad("{\"format\": \"idx\", \"train_images\": \"a\", \"train_labels\": 5, "
        "\"test_images\": \"b\", \"test_labels\": \"c\"}", "dataset.train_labels", "file path");
    bad("{\"format\": \"idx\", \"train_image\": \"a\"}", "dataset.train_image",
        "did you mean \"train_images\"?");
    bad("{\"format\": \"xml\"}", "dataset.format", "unknown format \"xml\"");
    bad("{\"format\": \"CSV\"}", "dataset.format", "did you mean \"csv\"?");
    bad("{\"format\": 1}", "dataset.format", "expected \"idx\" or \"csv\"");
    bad("{\"n\": 5}", "dataset", "expected \"name\"");
    bad("{\"name\": \"circles\", \"format\": \"csv\"}", "dataset", "not both");

    /* CSV: defaults and options. */
    CHECK_EQ_INT(parse(&ds, "{\"format\": \"csv\", \"train\": \"tr.csv\", \"test\": \"te.csv\"}",
                       "/d", &e), 0);
    CHECK_EQ_INT(ds.kind, DS_CSV);
    CHECK_EQ_STR(ds.train, "/d/tr.csv");
    CHECK_EQ_INT(ds.label_col, -1);
    CHECK(!ds.header);
    CHECK_EQ_INT(ds.task, DS_CLASSIFICATION);
    CHECK_EQ_INT(parse(&ds, "{\"format\": \"csv\", \"train\": \"/t\", \"test\": \"/u\", "
                            "\"label\": 0, \"header\": true, \"task\": \"regression\"}", NULL, &e), 0);
    CHECK_EQ_INT(ds.label_col, 0);
    CHECK(ds.header);
    CHECK_EQ_INT(ds.task, DS_REGRESSION);
    bad("{\"format\": \"csv\", \"train\": \"/t\", \"test\": \"/u\", \"label\": \"first\"}",
        "dataset.label", "\"last\" or a column index");
    bad("{\"format\": \"csv\", \"train\": \"/t\", \"test\": \"/u\", \"label\": -1}",
        "dataset.label", "-1");
    bad("{\"format\": \"csv\", \"train\": \"/t\", \"test\": \"/u\", \"header\": \"yes\"}",
        "dataset.header", "true or false");
    bad("{\"format\": \"csv\", \"train\": \"/t\", \"test\": \"/u\", \"task\": \"regress\"}",
        "dataset.task", "\"classification\" or \"regression\"");
    bad("{\"format\": \"csv\", \"train\": \"/t\"}", "dataset.test", "missing");
    bad("{\"format\": \"csv\", \"train\": \"\", \"test\": \"/u\"}", "dataset.train", "file path");

    /* The error path follows the caller's prefix. */
    {
        cJSON *v = cJSON_Parse("{\"name\": \"xor\", \"noise\": -1}");
        err_clear(&e);
        CHECK_EQ_INT(ds_spec_parse(&ds, v, "grid.dataset", NULL, &e), MLP_EINVALID_DATASET);
        CHECK_EQ_STR(e.path, "grid.dataset.noise");
        cJSON_Delete(v);
    }

    /* Canonical form: stable under re-parsing, absolute paths, defaults spelled out. */
    roundtrip("\"mnist\"");
    roundtrip("{\"name\": \"moons\", \"noise\": 0.3}");
    roundtrip("{\"format\": \"idx\", \"train_images\": \"a\", \"train_labels\": \"b\", "
              "\"test_images\": \"c\", \"test_labels\": \"d\"}");
    roundtrip("{\"format\": \"csv\", \"train\": \"a\", \"test\": \"b\", \"label\": 3}");
    CHECK_EQ_INT(parse(&ds, "\"circles\"", NULL, &e), 0);
    cJSON *j = ds_spec_to_json(&ds);
    char *t = cJSON_PrintUnformatted(j);
    CHECK_EQ_STR(t, "{\"name\":\"circles\",\"n\":1000,\"noise\":0.1}");
    free(t);
    cJSON_Delete(j);
    CHECK_EQ_INT(parse(&ds, "{\"format\": \"csv\", \"train\": \"a\", \"test\": \"b\"}", "/x", &e), 0);
    j = ds_spec_to_json(&ds);
    t = cJSON_PrintUnformatted(j);
    CHECK_EQ_STR(t, "{\"format\":\"csv\",\"train\":\"/x/a\",\"test\":\"/x/b\",\"label\":\"last\","
                    "\"header\":false,\"task\":\"classification\"}");
    free(t);
    cJSON_Delete(j);
    return check_report();
}
