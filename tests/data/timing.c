/*
 * timing — not a test: times loading Fashion-MNIST from the system dir
 * without a cache (decode .gz), with an empty cache (decode + write), and
 * again (map the cache), plus data_prepare with the defaults.
 *   data-timing [CACHE_DIR]   (default: a fresh dir under /tmp, removed after)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "data.h"

static double now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

static double timed_load(const struct ds_spec *s, const struct dataset_dirs *d, const char *what)
{
    struct err e = ERR_INIT;
    double t0 = now_ms();
    struct dataset *ds = data_load(s, d, 0, &e);
    double ms = now_ms() - t0;
    if (!ds) {
        fprintf(stderr, "%s: %s\n", what, e.msg);
        exit(1);
    }
    double sum = 0; /* touch every value so lazily mapped pages are counted */
    struct data_view v = data_train(ds);
    for (long i = 0; i < v.n * v.d; i += 1)
        sum += v.x[i];
    double ms_touch = now_ms() - t0;
    printf("%-34s %9.1f ms   (incl. reading every value: %9.1f ms, sum %.0f)\n", what, ms, ms_touch,
           sum);
    data_free(ds);
    return ms;
}

int main(int argc, char **argv)
{
    char tmp[] = "/tmp/mlp-timing-XXXXXX";
    const char *cache = argc > 1 ? argv[1] : mkdtemp(tmp);
    struct ds_spec s = {.kind = DS_NAMED, .name = "fashion-mnist"};
    struct dataset_dirs none = {"/nonexistent", "/usr/share/datasets", NULL};
    struct dataset_dirs cached = {"/nonexistent", "/usr/share/datasets", cache};
    struct err e = ERR_INIT;
    double t0 = now_ms();
    if (dataset_check(&s, &none, NULL, &e)) {
        fprintf(stderr, "%s\n", e.msg);
        return 1;
    }
    printf("%-34s %9.1f ms\n", "dataset_check (headers only)", now_ms() - t0);
    timed_load(&s, &none, "decode .gz, no cache");
    timed_load(&s, &cached, "first load (decode + write cache)");
    timed_load(&s, &cached, "second load (map cache)");
    timed_load(&s, &cached, "third load (map cache)");
    struct dataset *ds = data_load(&s, &cached, 0, &e);
    struct hparams hp;
    hparams_default(&hp);
    struct data_prepared p;
    t0 = now_ms();
    if (data_prepare(ds, &hp, &p, &e) == 0)
        printf("%-34s %9.1f ms\n", "data_prepare (split + standardize)", now_ms() - t0);
    data_prepared_release(&p);
    data_free(ds);
    if (argc <= 1) {
        char cmd[128];
        snprintf(cmd, sizeof cmd, "rm -rf %s", tmp);
        if (system(cmd) != 0)
            return 1;
    }
    return 0;
}
