/*
 * test_fetch_list — fetch_list reports what is installed where (data dir
 * before system dir), and fetch_dataset's answers that need no network:
 * synthetic sets, an unknown name (did-you-mean), cifar10's instructions,
 * an mnist already present (idempotent, nothing rewritten).
 */
#include <cjson/cJSON.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "../check.h"
#include "fetch.h"
#include "fixture.h"

static char dir[1024];

static const cJSON *entry(const cJSON *arr, const char *name)
{
    const cJSON *it;
    cJSON_ArrayForEach(it, arr) {
        const cJSON *n = cJSON_GetObjectItemCaseSensitive(it, "name");
        if (cJSON_IsString(n) && strcmp(n->valuestring, name) == 0)
            return it;
    }
    return NULL;
}

static bool available(const cJSON *arr, const char *name)
{
    const cJSON *e = entry(arr, name);
    return e && cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(e, "available"));
}

static const char *path_of(const cJSON *arr, const char *name)
{
    const cJSON *p = cJSON_GetObjectItemCaseSensitive(entry(arr, name), "path");
    return cJSON_IsString(p) ? p->valuestring : NULL;
}

static void touch(const char *dir_, const char *sub, const char *file)
{
    char p[DS_PATH_MAX], d[DS_PATH_MAX + 64];
    snprintf(d, sizeof d, "%s/%s", dir_, sub);
    mkdir(d, 0700);
    CHECK_EQ_INT(fx_write_str(fx_join(p, d, file), "x"), 0);
}

int main(void)
{
    char data[DS_PATH_MAX], sys[DS_PATH_MAX], want[DS_PATH_MAX + 32];
    struct err e = ERR_INIT;
    fx_tmpdir(dir, sizeof dir);
    fx_join(data, dir, "data");
    fx_join(sys, dir, "sys");
    mkdir(data, 0700);
    mkdir(sys, 0700);

    cJSON *l = fetch_list(data, sys);
    CHECK(l != NULL);
    CHECK_EQ_INT(cJSON_GetArraySize(l), 7);
    CHECK(!available(l, "mnist"));
    CHECK(!available(l, "fashion-mnist"));
    CHECK(!available(l, "cifar10"));
    CHECK(available(l, "circles") && available(l, "moons") && available(l, "spirals") &&
          available(l, "xor"));
    snprintf(want, sizeof want, "%s/mnist", data);
    CHECK_EQ_STR(path_of(l, "mnist"), want);
    CHECK(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(entry(l, "xor"), "path")));
    cJSON_Delete(l);

    /* fashion-mnist in the system dir (.gz), mnist in the data dir (plain), cifar10 placed. */
    touch(sys, "fashion-mnist", "train-images-idx3-ubyte.gz");
    touch(sys, "fashion-mnist", "train-labels-idx1-ubyte.gz");
    touch(sys, "fashion-mnist", "t10k-images-idx3-ubyte.gz");
    l = fetch_list(data, sys);
    CHECK(!available(l, "fashion-mnist")); /* three of four files: not available */
    cJSON_Delete(l);
    touch(sys, "fashion-mnist", "t10k-labels-idx1-ubyte.gz");
    touch(data, "mnist", "train-images-idx3-ubyte");
    touch(data, "mnist", "train-labels-idx1-ubyte");
    touch(data, "mnist", "t10k-images-idx3-ubyte");
    touch(data, "mnist", "t10k-labels-idx1-ubyte");
    touch(data, "cifar10", "data_batch_1.bin");
    touch(data, "cifar10", "test_batch.bin");
    l = fetch_list(data, sys);
    CHECK(available(l, "fashion-mnist"));
    snprintf(want, sizeof want, "%s/fashion-mnist", sys);
    CHECK_EQ_STR(path_of(l, "fashion-mnist"), want);
    CHECK(available(l, "mnist"));
    CHECK(available(l, "cifar10"));
    cJSON_Delete(l);

    /* fetch_dataset without network. */
    FILE *progress = tmpfile();
    CHECK_EQ_INT(fetch_dataset("spirals", data, progress, &e), 0);
    CHECK_EQ_INT(fetch_dataset("mnist", data, progress, &e), 0); /* present: nothing to do */
    CHECK_EQ_INT(fetch_dataset("cifar10", data, progress, &e), 0);
    rewind(progress);
    char buf[2048] = "";
    size_t got = fread(buf, 1, sizeof buf - 1, progress);
    buf[got] = '\0';
    fclose(progress);
    CHECK(strstr(buf, "nothing to fetch") != NULL);
    CHECK(strstr(buf, "mnist: already installed") != NULL);
    char p[DS_PATH_MAX + 64];
    snprintf(p, sizeof p, "%s/mnist/train-images-idx3-ubyte", data);
    struct stat st;
    CHECK(stat(p, &st) == 0 && st.st_size == 1); /* untouched */

    err_clear(&e);
    CHECK_EQ_INT(fetch_dataset("fashion_mnist", data, NULL, &e), MLP_EINVALID_DATASET);
    CHECK(strstr(e.msg, "did you mean \"fashion-mnist\"?") != NULL);
    err_clear(&e);
    char empty[DS_PATH_MAX];
    fx_join(empty, dir, "empty");
    CHECK_EQ_INT(fetch_dataset("cifar10", empty, NULL, &e), MLP_ENOT_FOUND);
    CHECK(strstr(e.msg, "cannot be downloaded here") != NULL);
    CHECK(strstr(e.msg, "/empty/cifar10/") != NULL);
    if (getenv("MLP_TEST_VERBOSE"))
        fprintf(stderr, "cifar10: %s\n", e.msg);

    fx_rmtree(dir);
    return check_report();
}
