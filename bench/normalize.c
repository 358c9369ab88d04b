/*
 * normalize — learning curves under each input normalisation (issue 9):
 * test accuracy at train_size 250 .. 5000 for none, minmax, standardize
 * without the variance floor (the rule before it: sd of the training split,
 * a constant feature centred but not scaled), standardize with the floor,
 * and global.  Each cell is mean ± SE over seeds (sample sd / sqrt(n)); the
 * seed also sets split_seed, so the SE includes the choice of the training
 * subset.  The model is selected on validation (the kept epoch), the figure
 * is test accuracy.
 *
 * The dataset is loaded once and every trial goes through data_prepare and
 * train_run exactly as mlp-worker does; "standardize without floor" is
 * data_prepare with normalize none followed by the old formula applied here.
 *
 * Usage: normalize [dataset] [seeds] [epochs]   (default fashion-mnist 3 15)
 * bench/normalize.sh runs it; figures in bench/RESULTS.md.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "config.h"
#include "data.h"
#include "dataset.h"
#include "hparams.h"
#include "train.h"

enum { M_NONE, M_MINMAX, M_STD_OLD, M_STD_FLOOR, M_GLOBAL, M_COUNT };

static const char *const method_names[M_COUNT] = {"none", "minmax", "std-nofloor", "std-floor",
                                                  "global"};
static const long sizes[] = {250, 500, 1000, 2000, 5000};
#define N_SIZES (sizeof sizes / sizeof sizes[0])
#define MAX_SEEDS 16

/* The standardisation before the variance floor, applied in place. */
static void std_old(struct data_prepared *p)
{
    const struct data_view *tr = &p->train;
    int d = tr->d;
    double *mean = calloc((size_t)d, sizeof *mean), *m2 = calloc((size_t)d, sizeof *m2);
    if (!mean || !m2) {
        fprintf(stderr, "normalize: out of memory\n");
        exit(1);
    }
    for (int64_t i = 0; i < tr->n; i++)
        for (int j = 0; j < d; j++)
            mean[j] += tr->x[i * d + j];
    for (int j = 0; j < d; j++)
        mean[j] /= (double)tr->n;
    for (int64_t i = 0; i < tr->n; i++)
        for (int j = 0; j < d; j++)
            m2[j] += (tr->x[i * d + j] - mean[j]) * (tr->x[i * d + j] - mean[j]);
    struct data_view *v[3] = {&p->train, &p->val, &p->test};
    for (int j = 0; j < d; j++) {
        double sd = sqrt(m2[j] / (double)tr->n);
        m2[j] = sd > 1e-12 ? 1.0 / sd : 1.0;
    }
    for (int s = 0; s < 3; s++)
        for (int64_t i = 0; i < v[s]->n; i++)
            for (int j = 0; j < d; j++) {
                float *x = (float *)v[s]->x + i * d + j;
                *x = (float)((*x - mean[j]) * m2[j]);
            }
    free(mean);
    free(m2);
}

int main(int argc, char **argv)
{
    const char *name = argc > 1 ? argv[1] : "fashion-mnist";
    int seeds = argc > 2 ? atoi(argv[2]) : 3, epochs = argc > 3 ? atoi(argv[3]) : 15;
    if (seeds < 2 || seeds > MAX_SEEDS || epochs < 1) {
        fprintf(stderr, "usage: normalize [dataset] [seeds 2..%d] [epochs]\n", MAX_SEEDS);
        return 2;
    }
    char data_dir[CONFIG_PATH_MAX], cache_dir[CONFIG_PATH_MAX + 8];
    struct dataset_dirs dirs = {NULL, DS_SYSTEM_DIR, NULL};
    struct err e = ERR_INIT;
    if (config_data_dir(data_dir, sizeof data_dir) == 0) {
        dirs.data_dir = data_dir;
        snprintf(cache_dir, sizeof cache_dir, "%s/cache", data_dir);
        dirs.cache_dir = cache_dir;
    }
    struct ds_spec spec = {.kind = DS_NAMED};
    snprintf(spec.name, sizeof spec.name, "%s", name);
    struct dataset *ds = data_load(&spec, &dirs, 0, &e);
    if (!ds) {
        fprintf(stderr, "normalize: %s\n", e.msg);
        return 1;
    }
    printf("# %s, 784-128-10 relu, adam lr 0.001, batch 64, %d epochs (early stop patience 4),\n"
           "# val_fraction 0.02, split_seed = seed; test accuracy (%%) at the epoch kept on "
           "validation,\n# mean ± SE over %d seeds\n",
           name, epochs, seeds);
    printf("%-10s", "train_size");
    for (int m = 0; m < M_COUNT; m++)
        printf("  %16s", method_names[m]);
    printf("\n");
    double t0 = mono_s();
    for (size_t si = 0; si < N_SIZES; si++) {
        printf("%-10ld", sizes[si]);
        fflush(stdout);
        for (int m = 0; m < M_COUNT; m++) {
            double acc[MAX_SEEDS];
            for (int s = 0; s < seeds; s++) {
                struct hparams hp;
                struct data_prepared p;
                struct train_result r;
                hparams_default(&hp);
                hp.n_hidden = 1;
                hp.hidden[0] = 128;
                hp.optimizer = HP_ADAM;
                hp.lr = 1e-3;
                hp.batch_size = 64;
                hp.epochs = epochs;
                hp.es_patience = 4;
                hp.val_fraction = 0.02;
                hp.split_seed = s + 1;
                hp.train_size = sizes[si];
                hp.normalize = m == M_NONE      ? HP_NONE
                               : m == M_MINMAX  ? HP_MINMAX
                               : m == M_STD_OLD ? HP_NONE
                               : m == M_GLOBAL  ? HP_GLOBAL
                                                : HP_STANDARDIZE;
                if (data_prepare(ds, &hp, &p, &e) < 0) {
                    fprintf(stderr, "normalize: %s: %s\n", e.path, e.msg);
                    return 1;
                }
                if (m == M_STD_OLD)
                    std_old(&p);
                if (train_run(&hp, (uint64_t)s + 1, &p, 0, NULL, NULL, &r, &e) < 0) {
                    fprintf(stderr, "normalize: %s\n", e.msg);
                    return 1;
                }
                acc[s] = r.diverged ? 0 : 100 * r.test_metric;
                data_prepared_release(&p);
            }
            double mean = 0, ss = 0;
            for (int s = 0; s < seeds; s++)
                mean += acc[s];
            mean /= seeds;
            for (int s = 0; s < seeds; s++)
                ss += (acc[s] - mean) * (acc[s] - mean);
            printf("  %8.2f ± %5.2f", mean, sqrt(ss / (seeds - 1)) / sqrt(seeds));
            fflush(stdout);
        }
        printf("\n");
    }
    printf("# %.0f s\n", mono_s() - t0);
    data_free(ds);
    return 0;
}
